#!/bin/sh
# The vhu tests that drive antfarm-blk (protocol+data, hostile inputs,
# restart) against its AddressSanitizer/UBSan build: a memory error that
# does not crash the plain build still fails here.
B=${ANTFARM_BUILD:-build}
A=$B/tests/blk/asan
[ -x "$A/antfarm-blk" ] || { echo "sanitizer build of antfarm-blk missing ($A/antfarm-blk)"; exit 77; }
dir=$(mktemp -d /tmp/vhu-asan.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
rc=0
for t in test-blk test-hostile test-restart test-peers test-shrink; do
	ASAN_OPTIONS="log_path=$dir/asan:detect_leaks=1" \
	UBSAN_OPTIONS="log_path=$dir/ubsan:print_stacktrace=1" \
	ANTFARM_BUILD=$A "$B/tests/vhu/$t" >"$dir/$t.log" 2>&1
	r=$?
	if [ $r -ne 0 ] && [ $r -ne 77 ]; then
		echo "FAIL: $t against the sanitizer build:"
		grep -v '^    |' "$dir/$t.log" | grep FAIL | head -n 20
		rc=1
	fi
done
if ls "$dir" | grep -q 'asan\.\|ubsan\.'; then
	echo "FAIL: sanitizer reports:"
	cat "$dir"/asan.* "$dir"/ubsan.* 2>/dev/null | grep -v '^    #[1-9][0-9]' | head -n 60
	rc=1
fi
exit $rc
