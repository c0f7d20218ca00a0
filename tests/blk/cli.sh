#!/bin/sh
# antfarm-blk's command line: capabilities JSON, help, and a clear error
# (non-zero exit, a message naming the problem) for each bad invocation.
BLK=${ANTFARM_BUILD:-build}/antfarm-blk
dir=$(mktemp -d /tmp/antfarm-blk-cli.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
truncate -s 1M "$dir/disk.img"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

caps=$("$BLK" --print-capabilities) || bad "--print-capabilities exit status"
echo "$caps" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["type"]=="block" and "read-only" in d["features"]' ||
	bad "capabilities JSON: $caps"
"$BLK" --help | grep -q '^SYNOPSIS' || bad "--help has no SYNOPSIS"

expect() { # message-regex args...
	msg=$1; shift
	out=$("$BLK" "$@" 2>&1 </dev/null); rc=$?
	[ $rc -ne 0 ] || bad "exit 0 for: $*"
	echo "$out" | grep -q "$msg" || bad "for '$*' expected /$msg/, got: $out"
}
expect "are required" --disk "$dir/disk.img"
expect "are required" --socket "$dir/s"
expect "No such file" --socket "$dir/s" --disk "$dir/missing.img"
expect "not a regular file or block device" --socket "$dir/s" --disk /dev/null
expect "No such file" --socket "$dir/no/such/dir/s" --disk "$dir/disk.img"
expect "unknown scheduler 'bogus'" --socket "$dir/s" --disk "$dir/disk.img" --scheduler bogus
expect "bad option or value" --socket "$dir/s" --disk "$dir/disk.img" --num-queues 0
expect "bad option or value" --socket "$dir/s" --disk "$dir/disk.img" --num-queues 65
expect "bad option or value" --socket "$dir/s" --disk "$dir/disk.img" --queue-size 100
expect "bad option or value" --socket "$dir/s" --disk "$dir/disk.img" --bogus
expect "bad option or value" --socket "$dir/s" --disk "$dir/disk.img" --hint-wait-us 10000001
expect "bad option or value" --socket "$dir/s" --disk "$dir/disk.img" --hint-wait-us -1
expect "bad --sched-opt" --socket "$dir/s" --disk "$dir/disk.img" --sched-opt window_us
expect "bad --sched-opt" --socket "$dir/s" --disk "$dir/disk.img" --sched-opt nosuch=1
exit $fail
