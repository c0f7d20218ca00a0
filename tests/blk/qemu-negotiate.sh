#!/bin/sh
# QEMU 7.2 against antfarm-blk: the vhost-user negotiation QEMU performs at
# start-up succeeds (QEMU stays up, the backend saw it), a disconnect leaves
# the backend serving the next QEMU, and a device with more queues than
# --num-queues fails cleanly with QEMU's "maximum number of queues" error.
TEST_NAME=blk-qemu
. "$(dirname "$0")/lib.sh"

truncate -s 64M "$dir/disk.img"
"$BLK" --socket "$dir/blk.sock" --disk "$dir/disk.img" --num-queues 2 -vv \
	2>"$dir/blk.log" &
blk_pid=$!
for i in $(seq 50); do [ -S "$dir/blk.sock" ] && break; sleep 0.1; done

qemu() { # $1 = num-queues; runs in the background, sets qemu_pid
	"$QEMU" -M microvm,memory-backend=mem -accel tcg -m 256M \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-chardev socket,id=c0,path="$dir/blk.sock" \
		-device vhost-user-blk,chardev=c0,num-queues="$1" \
		-nographic -nodefaults -display none -monitor none -serial none \
		>"$dir/qemu.log" 2>&1 &
	qemu_pid=$!
}

qemu 2
sleep 2
kill -0 "$qemu_pid" 2>/dev/null || bad "QEMU exited during negotiation: $(cat "$dir/qemu.log")"
for m in GET_FEATURES GET_PROTOCOL_FEATURES SET_PROTOCOL_FEATURES GET_QUEUE_NUM SET_OWNER \
	 SET_VRING_CALL GET_CONFIG; do
	grep -q "<- $m " "$dir/blk.log" || bad "backend did not see $m"
done
grep -q "bad .* message\|closing the connection" "$dir/blk.log" && bad "backend refused a message"
kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null; qemu_pid=""
sleep 0.3
grep -q "front-end disconnected" "$dir/blk.log" || bad "disconnect not noticed"
kill -0 "$blk_pid" || bad "backend died with the front-end"

# a second QEMU asking for more queues than we serve: a clean, clear error
qemu 4
for i in $(seq 100); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$qemu_pid" 2>/dev/null; then
	bad "QEMU with num-queues=4 did not fail"
else
	wait "$qemu_pid"; rc=$?
	[ $rc -ne 0 ] || bad "QEMU with num-queues=4 exited 0"
	grep -q "maximum number of queues supported by the backend is 2" "$dir/qemu.log" ||
		bad "QEMU's error does not name the queue limit: $(cat "$dir/qemu.log")"
fi
qemu_pid=""
kill -0 "$blk_pid" || bad "backend died after the refused front-end"

# and it still serves the next one
qemu 1
sleep 1.5
kill -0 "$qemu_pid" 2>/dev/null || bad "third QEMU not served: $(cat "$dir/qemu.log")"
[ $fail -eq 0 ] || { echo "--- backend log"; tail -n 30 "$dir/blk.log"; }
exit $fail
