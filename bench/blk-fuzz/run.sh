#!/bin/sh
# Long libFuzzer runs of antfarm-blk's two untrusted-input parsers
# (vhost-user messages, descriptor chains + virtio-blk requests).
# One JSON line per fuzzer: runs, execs/s, coverage, crash count.
# FUZZ_SECONDS per fuzzer (default 300); the corpus persists in
# bench/results/tmp/blk-fuzz/ so later runs start where earlier ones ended.
B=${ANTFARM_BUILD:-build}/tests/blk
SECS=${FUZZ_SECONDS:-300}
CORPUS=${FUZZ_CORPUS:-bench/results/tmp/blk-fuzz}
rc=0
for f in fuzz_msg fuzz_chain; do
	[ -x "$B/$f" ] || { echo "{\"fuzzer\":\"$f\",\"error\":\"not built\"}"; rc=1; continue; }
	mkdir -p "$CORPUS/$f" "$CORPUS/artifacts"
	log="$CORPUS/$f.log"
	"$B/$f" -max_total_time="$SECS" -max_len=4096 -artifact_prefix="$CORPUS/artifacts/$f-" \
		-print_final_stats=1 "$CORPUS/$f" >"$log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	crashes=$(ls "$CORPUS/artifacts" 2>/dev/null | grep -c "^$f-")
	echo "{\"fuzzer\":\"$f\",\"seconds\":$SECS,\"runs\":${runs:-0},\"exec_per_s\":${eps:-0},\"coverage\":${cov:-0},\"crashes\":$crashes,\"exit\":$status}"
	[ "$status" = 0 ] && [ "$crashes" = 0 ] || rc=1
done
exit $rc
