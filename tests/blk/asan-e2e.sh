#!/bin/sh
# The e2e test (hostile messages and chains, crash/restart, schedulers)
# against antfarm-blk built with AddressSanitizer, UBSan and LeakSanitizer.
# Any sanitizer report fails.
B=${ANTFARM_BUILD:-build}
A=$B/tests/blk/asan
[ -x "$A/antfarm-blk" ] || { echo "sanitizer build missing ($A/antfarm-blk)"; exit 77; }
dir=$(mktemp -d /tmp/antfarm-blk-asan.XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
ASAN_OPTIONS="log_path=$dir/asan:detect_leaks=1" \
UBSAN_OPTIONS="log_path=$dir/ubsan:print_stacktrace=1" \
ANTFARM_BUILD=$A "$B/tests/blk/e2e" >"$dir/e2e.log" 2>&1
rc=$?
if ls "$dir" | grep -q 'asan\|ubsan'; then
	echo "FAIL: sanitizer reports:"
	cat "$dir"/asan* "$dir"/ubsan* 2>/dev/null | head -n 60
	exit 1
fi
[ $rc -eq 0 ] || { echo "FAIL: e2e against the sanitizer build:"; tail -n 30 "$dir/e2e.log"; }
exit $rc
