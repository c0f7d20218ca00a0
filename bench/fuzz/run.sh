#!/bin/sh
# Long libFuzzer runs of the parsers that read untrusted input:
# run.sh BINDIR/TARGET[:SRCDIR]...  One JSON line per fuzzer: runs,
# execs/s, coverage, crash count.  SRCDIR/TARGET.dict and SRCDIR/TARGET.corpus/
# are used when present (as in the suite's short runs, tests/lib/fuzz-run.sh).
# FUZZ_SECONDS per fuzzer (default 300); the corpus persists in
# bench/results/tmp/fuzz/ so later runs start where earlier ones ended.
SECS=${FUZZ_SECONDS:-300}
CORPUS=${FUZZ_CORPUS:-bench/results/tmp/fuzz}
rc=0
for spec in "$@"; do
	bin=${spec%%:*}
	src=""
	[ "$bin" != "$spec" ] && src=${spec#*:}
	f=$(basename "$bin")
	[ -x "$bin" ] || { echo "{\"fuzzer\":\"$f\",\"error\":\"not built\"}"; rc=1; continue; }
	mkdir -p "$CORPUS/$f" "$CORPUS/artifacts"
	dict=""
	[ -n "$src" ] && [ -f "$src/$f.dict" ] && dict="-dict=$src/$f.dict"
	seeds=""
	[ -n "$src" ] && [ -d "$src/$f.corpus" ] && seeds="$src/$f.corpus"
	log="$CORPUS/$f.log"
	"$bin" -max_total_time="$SECS" -max_len=4096 $dict -artifact_prefix="$CORPUS/artifacts/$f-" \
		-print_final_stats=1 "$CORPUS/$f" $seeds >"$log" 2>&1
	status=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	crashes=$(ls "$CORPUS/artifacts" 2>/dev/null | grep -c "^$f-")
	echo "{\"fuzzer\":\"$f\",\"seconds\":$SECS,\"runs\":${runs:-0},\"exec_per_s\":${eps:-0},\"coverage\":${cov:-0},\"crashes\":$crashes,\"exit\":$status}"
	[ "$status" = 0 ] && [ "$crashes" = 0 ] || rc=1
done
exit $rc
