#!/bin/sh
# The project's test guest under QEMU 7.2 (TCG) on antfarm-blk:
#  1. the guest's writer workload (writes, reads back, verifies) on 2 queues;
#  2. kill -9 of antfarm-blk while the guest has writes in flight (held by
#     the ANTFARM_BLK_TEST_HOLD_MS knob so they are reliably in flight), a
#     new antfarm-blk on the same socket, QEMU reconnects, the inflight
#     requests are resubmitted, and the guest finishes with no I/O error and
#     every block verified.
TEST_NAME=blk-guest
. "$(dirname "$0")/lib.sh"
ELF=$B/tests/guest/guest.elf
[ -f "$ELF" ] || { echo "test guest not built ($ELF)"; exit 77; }

stop_backend() { # sig
	[ -n "$blk_pid" ] && kill "-$1" "$blk_pid" 2>/dev/null && wait "$blk_pid" 2>/dev/null
	blk_pid=""
}

backend() { # [env...]: starts antfarm-blk in the background
	rm -f "$dir/blk.sock"
	env "$@" "$BLK" --socket "$dir/blk.sock" --disk "$dir/disk.img" --num-queues 2 \
		--stats-socket "$dir/stats.sock" -v 2>>"$dir/blk.log" &
	blk_pid=$!
	for i in $(seq 50); do [ -S "$dir/blk.sock" ] && return; sleep 0.1; done
	bad "backend did not come up"
}

guest() { # workload words...: QEMU in the background, reconnecting to the disk
	"$QEMU" -M microvm,acpi=off,memory-backend=mem -accel tcg -nodefaults -no-user-config \
		-nographic -m 256 -smp 2 -cpu max -kernel "$ELF" \
		-chardev file,id=log,path="$dir/guest.log" \
		-device isa-debugcon,iobase=0xe9,chardev=log \
		-device isa-debug-exit,iobase=0xf4,iosize=4 \
		-global virtio-mmio.force-legacy=false \
		-object memory-backend-memfd,id=mem,size=256M,share=on \
		-chardev socket,id=c0,path="$dir/blk.sock",reconnect=1 \
		-device vhost-user-blk,chardev=c0,num-queues=2 \
		-append "cpus=2 $*" >"$dir/qemu.log" 2>&1 &
	qemu_pid=$!
}

wait_guest() { # -> sets rc; QEMU exits with (guest code << 1) | 1
	for i in $(seq 900); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$qemu_pid" 2>/dev/null; then
		bad "guest did not finish in 90 s"; kill "$qemu_pid"
	fi
	wait "$qemu_pid"; rc=$?; qemu_pid=""
}

check_summary() { # what
	s=$(grep 'AF SUMMARY' "$dir/guest.log")
	[ -n "$s" ] || { bad "$1: no SUMMARY: $(tail -n 5 "$dir/guest.log") $(cat "$dir/qemu.log")"; return; }
	val() { echo "$s" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
	[ "$rc" = 1 ] || bad "$1: QEMU exit status $rc (guest code $(( (rc - 1) / 2 )))"
	[ "$(val disk_err)" = 0 ] || bad "$1: guest saw I/O errors: $s"
	[ "$(val verify_bad)" = 0 ] || bad "$1: guest read back wrong data: $s"
	[ "$(val errors)" = 0 ] || bad "$1: guest errors: $s"
	[ "$(val disk_sub)" -gt 0 ] && [ "$(val disk_sub)" = "$(val disk_done)" ] ||
		bad "$1: requests submitted/done differ or none: $s"
	[ "$(val verify_ok)" -gt 0 ] || bad "$1: nothing verified: $s"
}

inflight() { # total in-flight requests from the stats socket
	python3 - "$dir/stats.sock" <<'PY' 2>/dev/null || echo 0
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); d = b""
while True:
    x = s.recv(65536)
    if not x: break
    d += x
print(sum(o.get("inflight", 0) for o in map(json.loads, d.decode().splitlines())
          if o.get("type") == "queue"))
PY
}

truncate -s 64M "$dir/disk.img"

# 1. plain run
backend
guest workload=writer n=2 blocks=16
wait_guest
check_summary "writer"

# 2. crash with writes in flight
stop_backend TERM
: >"$dir/guest.log"
backend ANTFARM_BLK_TEST_HOLD_MS=1500
guest workload=writer n=2 blocks=16 think=1
seen=0
for i in $(seq 300); do
	[ "$(inflight)" -gt 0 ] && { seen=1; break; }
	sleep 0.05
done
[ $seen = 1 ] || bad "no request ever in flight"
stop_backend KILL
backend
wait_guest
check_summary "kill -9 and restart"
grep -q "resubmitting [1-9]" "$dir/blk.log" || bad "restarted backend resubmitted nothing"
[ $fail -eq 0 ] || { echo "--- backend log"; tail -n 25 "$dir/blk.log"; echo "--- guest"; tail -n 5 "$dir/guest.log"; }
exit $fail
