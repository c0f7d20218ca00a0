#!/bin/sh
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# Short libFuzzer runs: fuzz-run.sh DIR TARGET... runs each DIR/TARGET for
# $FUZZ_RUNS inputs (default 50000) from an empty corpus with a fixed seed.
# Seeds in SRCDIR/TARGET.corpus/ and a dictionary SRCDIR/TARGET.dict are
# used when present (SRCDIR: $FUZZ_SRC).  Any crash, oracle trap or sanitizer
# report fails; a target that is not built (clang without libFuzzer) skips.
dir_bin=$1; shift
RUNS=${FUZZ_RUNS:-50000}
for f in "$@"; do
	if [ ! -x "$dir_bin/$f" ]; then
		echo "$f not built (clang with libFuzzer/libclang-rt missing?)"
		exit 77
	fi
done
dir=$(mktemp -d /tmp/antfarm-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
rc=0
for f in "$@"; do
	mkdir -p "$dir/$f"
	dict=""
	[ -n "${FUZZ_SRC:-}" ] && [ -f "$FUZZ_SRC/$f.dict" ] && dict="-dict=$FUZZ_SRC/$f.dict"
	seeds=""
	[ -n "${FUZZ_SRC:-}" ] && [ -d "$FUZZ_SRC/$f.corpus" ] && seeds="$FUZZ_SRC/$f.corpus"
	if ! "$dir_bin/$f" -runs="$RUNS" -max_len="${FUZZ_MAX_LEN:-4096}" -seed=1 $dict \
		-artifact_prefix="$dir/" "$dir/$f" $seeds >"$dir/$f.log" 2>&1; then
		echo "FAIL $f:"
		tail -n 40 "$dir/$f.log"
		rc=1
	else
		echo "$f: $(grep -c . "$dir/$f.log") log lines, $(tail -n 1 "$dir/$f.log")"
	fi
done
exit $rc
