#!/bin/sh
# Runs each test program given on the command line and prints one line per
# test, then "N passed, N failed, N skipped".
#
# A test is any executable.  Exit status 0 = pass, 77 = skip (its last line
# of output says why), anything else = fail (its output is shown).
# Each test gets TEST_TIMEOUT seconds (default 300) and runs with
# ANTFARM_BUILD pointing at the build directory.
#
# Filter with TESTS='pattern' (shell glob on the test's path).

TEST_TIMEOUT=${TEST_TIMEOUT:-300}
export ANTFARM_BUILD=${ANTFARM_BUILD:-build}
pass=0; fail=0; skip=0; failed=""
log=$(mktemp -d /tmp/antfarm-tests.XXXXXX) || exit 1

for t in "$@"; do
	if [ -n "$TESTS" ]; then
		case "$t" in $TESTS) ;; *) continue ;; esac
	fi
	name=$(echo "$t" | sed 's|/|_|g')
	start=$(date +%s)
	timeout -k 10 "$TEST_TIMEOUT" "./$t" >"$log/$name" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	case $rc in
	0)  pass=$((pass + 1)); printf 'PASS  %-44s %3ss\n' "$t" "$secs" ;;
	77) skip=$((skip + 1))
	    printf 'SKIP  %-44s %s\n' "$t" "$(tail -n 1 "$log/$name")" ;;
	*)  fail=$((fail + 1)); failed="$failed $t"
	    [ $rc -eq 124 ] && echo "(timed out after ${TEST_TIMEOUT}s)" >>"$log/$name"
	    printf 'FAIL  %-44s rc=%s %ss\n' "$t" "$rc" "$secs"
	    sed 's/^/    | /' "$log/$name" | tail -n 60 ;;
	esac
done

rm -rf "$log"
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
