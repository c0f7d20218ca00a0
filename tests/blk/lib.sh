# Shared set-up of the shell tests that run antfarm-blk and QEMU: a private
# directory, a cleanup that stops both and removes it, and bad() to record a
# failed case.  Source it after setting TEST_NAME.
QEMU=${QEMU:-qemu-system-x86_64}
B=${ANTFARM_BUILD:-build}
BLK=$B/antfarm-blk
command -v "$QEMU" >/dev/null || { echo "no $QEMU"; exit 77; }
dir=$(mktemp -d "/tmp/antfarm-$TEST_NAME.XXXXXX") || exit 1
blk_pid=""; qemu_pid=""
cleanup() {
	[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
	[ -n "$blk_pid" ] && kill "$blk_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
