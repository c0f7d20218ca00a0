#!/bin/sh
# With the HDD model the device takes one request at a time; per-queue
# schedulers (fifo) must take turns at it.  Two queues kept equally busy by
# vhu-client must both be served: before the round-robin, queue 0 got ~500
# requests and queue 1 four.  A share property, not a timing assertion.
B=${ANTFARM_BUILD:-build}
for f in "$B/antfarm-blk" "$B/tests/vhu-client"; do
	[ -x "$f" ] || { echo "skip: $f not built"; exit 77; }
done
dir=$(mktemp -d /tmp/antfarm-hdd-share.XXXXXX) || exit 1
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
truncate -s 1G "$dir/disk.img"
"$B/antfarm-blk" --socket "$dir/s" --disk "$dir/disk.img" --num-queues 2 \
	--hdd-model --scheduler fifo --stats-socket "$dir/st" 2>"$dir/blk.log" &
pid=$!
for i in $(seq 50); do [ -S "$dir/s" ] && [ -S "$dir/st" ] && break; sleep 0.1; done
"$B/tests/vhu-client" --socket "$dir/s" -q 2 bench --rw randread --qd 4 -t 2 >"$dir/bench.out" 2>&1 ||
	{ echo "FAIL: vhu-client:"; cat "$dir/bench.out"; exit 1; }
python3 - "$dir/st" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
q = [json.loads(l) for l in s.makefile() if '"type":"queue"' in l]
n = [x["requests"] for x in q]
errs = sum(x["errors"] for x in q)
print("requests per queue:", n, "errors:", errs)
ok = len(n) == 2 and min(n) > 0 and min(n) / max(n) >= 0.5 and errs == 0
sys.exit(0 if ok else 1)
PY
