#!/bin/sh
# bench-blk: antfarm-blk vs qemu-storage-daemon vs raw io_uring (fio) on the
# same file, same queue count, same cache mode.  See bench/blk/module.mk.
# Prints one JSON object per point (also written to $OUT), then a table.
set -u
T=${BENCH_SECONDS:-5}
Q=${QUEUES:-1}
REPEAT=${REPEAT:-1}
SIZE=${SIZE:-1G}
DISKDIR=${DISKDIR:-/var/tmp}
VHU_CLIENT=${VHU_CLIENT:-build/tests/vhu-client}
ANTFARM_BLK=${ANTFARM_BLK:-build/antfarm-blk}
OUT=${OUT:-build/bench-blk.jsonl}
QSD=$(command -v qemu-storage-daemon)
FIO=$(command -v fio)
# workload rw bs qd
POINTS="randread-4k,randread,4k,1 randread-4k,randread,4k,16 randread-4k,randread,4k,128
randwrite-4k,randwrite,4k,1 randwrite-4k,randwrite,4k,16 randwrite-4k,randwrite,4k,128
seqread-128k,read,128k,16"

work=$(mktemp -d /tmp/bench-blk.XXXXXX) || exit 1
pids=""
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$work" "$DISKDIR/bench-blk.$$.img" /dev/shm/bench-blk.$$.img
}
trap cleanup EXIT INT TERM
: >"$OUT"

for b in "$VHU_CLIENT" "$ANTFARM_BLK" "$QSD" "$FIO"; do
	[ -x "$b" ] || { echo "bench-blk: missing $b" >&2; exit 1; }
done

fill() {	# a written file, so no read hits a hole
	dd if=/dev/zero of="$1" bs=1M count=$(numfmt --from=iec "$SIZE" | awk '{print int($1/1048576)}') \
	   conv=fsync status=none
}

split_point() {	# "workload,rw,bs,qd" -> $wl $rw $bs $qd
	old_ifs=$IFS; IFS=,
	set -- $1
	IFS=$old_ifs
	wl=$1 rw=$2 bs=$3 qd=$4
}

wait_sock() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done
	[ -S "$1" ]
}

start_backend() {	# name file kind -> $bpid, $sock
	sock=$work/$1.sock
	rm -f "$sock"
	if [ "$1" = antfarm-blk ]; then
		direct=""; [ "$3" = disk ] && direct=--direct
		"$ANTFARM_BLK" --socket "$sock" --disk "$2" --num-queues "$Q" $direct \
			>"$work/$1.log" 2>&1 &
	else
		# Both back-ends serve the same image at once, on purpose: antfarm-blk
		# holds its write lock, so qemu-storage-daemon must not take its own.
		cd_=off; [ "$3" = disk ] && cd_=on
		"$QSD" --object iothread,id=iot0 \
			--blockdev driver=file,node-name=f,filename="$2",aio=io_uring,cache.direct=$cd_,locking=off \
			--export type=vhost-user-blk,id=e,node-name=f,addr.type=unix,addr.path="$sock",writable=on,num-queues="$Q",iothread=iot0 \
			>"$work/$1.log" 2>&1 &
	fi
	bpid=$!
	pids="$pids $bpid"
	wait_sock "$sock" || { echo "bench-blk: $1 did not start:" >&2; cat "$work/$1.log" >&2; exit 1; }
}

stop_backends() {	# SIGTERM; qemu-storage-daemon 7.2 sometimes ignores it: SIGKILL after 3 s
	for p in $pids; do
		kill "$p" 2>/dev/null
		i=0
		while kill -0 "$p" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.01; i=$((i + 1)); done
		kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null
	done
	pids=""
}

point_vhu() {	# backend pid socket kind
	"$VHU_CLIENT" -s "$3" -q "$Q" bench --rw "$rw" --bs "$bs" --qd "$qd" -t "$T" \
		--pid "$2" --json --label backend="$1" --label workload="$wl" \
		--label file="$4" | tee -a "$OUT" || echo "bench-blk: $1 $wl qd $qd failed" >&2
}

point_fio() {	# file kind
	direct=0; [ "$2" = disk ] && direct=1
	"$FIO" --name=p --filename="$1" --ioengine=io_uring --rw="$rw" --bs="$bs" \
		--iodepth="$qd" --numjobs="$Q" --direct=$direct --time_based --runtime="$T" \
		--lat_percentiles=1 --group_reporting --output-format=json >"$work/fio.json" &&
	python3 bench/blk/fio2json.py "$work/fio.json" "$wl" "$2" "$qd" "$Q" | tee -a "$OUT"
}

# The three run back to back for each point, so a noisy neighbour on the
# machine hits all of them alike; the idle back-end sleeps meanwhile.
for kind in shm disk; do
	if [ $kind = shm ]; then f=/dev/shm/bench-blk.$$.img; else f=$DISKDIR/bench-blk.$$.img; fi
	fill "$f"
	start_backend antfarm-blk "$f" $kind
	blk_pid=$bpid blk_sock=$sock
	start_backend qemu-storage-daemon "$f" $kind
	qsd_pid=$bpid qsd_sock=$sock
	for p in $POINTS; do
		split_point "$p"
		for r in $(seq "$REPEAT"); do
			point_vhu antfarm-blk $blk_pid "$blk_sock" $kind
			point_vhu qemu-storage-daemon $qsd_pid "$qsd_sock" $kind
			point_fio "$f" $kind
		done
	done
	stop_backends
	rm -f "$f"
done

echo
echo "machine: $(nproc) CPUs, $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "settings: SECONDS=$T QUEUES=$Q SIZE=$SIZE DISKDIR=$DISKDIR REPEAT=$REPEAT (table: median per point)"
python3 bench/blk/table.py "$OUT"
