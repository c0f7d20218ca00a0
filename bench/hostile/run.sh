#!/bin/sh
# test-hostile's random cases, many of them, one run per seed: one JSON line
# each (checks, failures, what the random chains got), then exit 1 if any
# run failed.  See bench/hostile/module.mk.
B=${ANTFARM_BUILD:-build}
T=$B/tests/vhu/test-hostile
[ "$BACKEND" = asan ] && export ANTFARM_BUILD=$B/tests/blk/asan
log=$(mktemp /tmp/bench-hostile.XXXXXX) || exit 1
trap 'rm -f "$log"' EXIT
rc=0
for seed in $SEEDS; do
	start=$(date +%s)
	VHU_FUZZ_N=$N VHU_FUZZ_SEED=$seed "$T" >"$log" 2>&1
	status=$?
	secs=$(( $(date +%s) - start ))
	sum=$(tail -n 1 "$log")
	checks=$(echo "$sum" | grep -o '[0-9]* checks' | cut -d' ' -f1)
	fails=$(echo "$sum" | grep -o '[0-9]* failure' | cut -d' ' -f1)
	chains=$(grep '^random chains:' "$log" | sed 's/[^0-9]\+/ /g')
	set -- $chains
	printf '{"seed":"%s","n":%s,"backend":"%s","seconds":%s,"checks":%s,"failures":%s,' \
		"$seed" "$N" "${BACKEND:-plain}" "$secs" "${checks:-0}" "${fails:-0}"
	printf '"chains_ok":%s,"chains_error":%s,"chains_none":%s,"chains_outside":%s,"exit":%s}\n' \
		"${1:-0}" "${2:-0}" "${3:-0}" "${4:-0}" "$status"
	if [ $status -ne 0 ]; then
		grep '^FAIL' "$log" | head -n 10 >&2
		rc=1
	fi
done
exit $rc
