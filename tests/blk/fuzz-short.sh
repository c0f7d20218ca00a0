#!/bin/sh
# Short libFuzzer runs of antfarm-blk's two untrusted-input parsers
# (the long run is bench/blk-fuzz).  Any crash or sanitizer report fails.
B=${ANTFARM_BUILD:-build}/tests/blk
RUNS=${FUZZ_RUNS:-50000}
for f in fuzz_msg fuzz_chain; do
	if [ ! -x "$B/$f" ]; then
		echo "$f not built (clang with libFuzzer/libclang-rt missing?)"
		exit 77
	fi
done
dir=$(mktemp -d /tmp/antfarm-blk-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
rc=0
for f in fuzz_msg fuzz_chain; do
	mkdir -p "$dir/$f"
	if ! "$B/$f" -runs="$RUNS" -max_len=4096 -seed=1 -artifact_prefix="$dir/" \
		"$dir/$f" >"$dir/$f.log" 2>&1; then
		echo "FAIL $f:"
		tail -n 40 "$dir/$f.log"
		rc=1
	else
		echo "$f: $(grep -c . "$dir/$f.log") log lines, $(tail -n 1 "$dir/$f.log")"
	fi
done
exit $rc
