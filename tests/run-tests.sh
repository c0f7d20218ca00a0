#!/bin/sh
# Runs each test program given on the command line and prints one line per
# test, then "N passed, N failed, N skipped".
#
# A test is any executable.  Exit status 0 = pass, 77 = skip (its last line
# of output says why), anything else = fail (its output is shown).
# Each test gets TEST_TIMEOUT seconds (default 300) and runs with
# ANTFARM_BUILD pointing at the build directory.
#
# A test after which the kernel log has a new WARNING, BUG or Oops line
# fails too, whatever its exit status (the lines are shown): the tests load
# BPF programs, run KVM guests and io_uring, and a kernel splat is a
# defect even when the test's own checks pass.  Skipped where dmesg cannot
# be read.
#
# Filter with TESTS='pattern' (shell glob on the test's path).

TEST_TIMEOUT=${TEST_TIMEOUT:-300}
export ANTFARM_BUILD=${ANTFARM_BUILD:-build}
pass=0; fail=0; skip=0; failed=""
log=$(mktemp -d /tmp/antfarm-tests.XXXXXX) || exit 1
DMESG=${DMESG:-dmesg}	# the kernel log (a test of this script passes its own)
SPLAT='WARNING:|BUG:|Oops|general protection fault|UBSAN:|KASAN:'

# The timestamp of the kernel log's last line ("[  12.345678] ..."), or
# nothing when dmesg cannot be read.
kernel_mark() {
	$DMESG 2>/dev/null | tail -n 1 | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}
# The kernel log's lines after the mark that report a splat.
kernel_splats() {
	$DMESG 2>/dev/null | awk -v m="$1" '
		{ t = $0; sub(/^\[ */, "", t); sub(/\].*/, "", t) }
		t + 0 > m + 0' | grep -E "$SPLAT" | grep -v ' traps: '	# not a user fault
}
$DMESG >/dev/null 2>&1 || echo "note: dmesg not readable; kernel warnings are not checked"

for t in "$@"; do
	if [ -n "$TESTS" ]; then
		case "$t" in $TESTS) ;; *) continue ;; esac
	fi
	name=$(echo "$t" | sed 's|/|_|g')
	mark=$(kernel_mark)
	start=$(date +%s)
	timeout -k 10 "$TEST_TIMEOUT" "./$t" >"$log/$name" 2>&1 </dev/null
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ -n "$mark" ] && kernel_splats "$mark" >"$log/$name.kernel"; then
		{ echo "(new kernel warnings in dmesg:)"; cat "$log/$name.kernel"; } >>"$log/$name"
		[ $rc -eq 0 ] || [ $rc -eq 77 ] && rc=99
	fi
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
