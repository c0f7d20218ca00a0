#!/bin/sh
# antfarm-blk's paths and locks, for each of its three sockets:
#  - a path that is not a socket is refused and left alone, also when the
#    start fails for another reason (a disk that does not exist);
#  - a second antfarm-blk on a live socket is refused and the first keeps
#    serving; a second on a disk image being written is refused, read-only
#    ones may share one;
#  - the sockets have mode 0660 (or --socket-mode/--socket-group) whatever
#    the umask, and at exit only what this process created goes;
#  - the stats socket's JSON is valid for a disk path with '"', '\' and a
#    byte that is not UTF-8.
B=${ANTFARM_BUILD:-build}
BLK=$B/antfarm-blk
VHU=$B/tests/vhu-client
for f in "$BLK" "$VHU"; do
	[ -x "$f" ] || { echo "skip: $f not built"; exit 77; }
done
dir=$(mktemp -d /tmp/antfarm-blk-sockets.XXXXXX) || exit 1
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }
truncate -s 64M "$dir/d1.img" "$dir/d2.img" "$dir/d3.img"

start() {	# log socket args...: background antfarm-blk, waits for its socket
	log=$1; s=$2; shift 2
	"$BLK" --socket "$s" "$@" 2>"$dir/$log" &
	pids="$pids $!"
	last=$!
	for i in $(seq 100); do [ -S "$s" ] && return 0; kill -0 $last 2>/dev/null || return 1; sleep 0.05; done
	return 1
}
serves() { "$VHU" --socket "$1" info >/dev/null 2>&1; }
mode() { stat -c %a "$1"; }

# 1. not a socket: refused, untouched, even when the start fails anyway
truncate -s 64M "$dir/vm2.img"
out=$(timeout 10 "$BLK" --socket "$dir/vm2.img" --disk "$dir/missing.img" 2>&1); rc=$?
[ $rc -ne 0 ] || bad "exit 0 with a missing disk"
[ "$(stat -c %s "$dir/vm2.img" 2>/dev/null)" = 67108864 ] || bad "--socket FILE was removed: $out"
for opt in --stats-socket --hints; do
	printf 'keep' >"$dir/file"
	out=$(timeout 10 "$BLK" --socket "$dir/s0" --disk "$dir/d1.img" $opt "$dir/file" 2>&1); rc=$?
	[ $rc -ne 0 ] && echo "$out" | grep -q "is not a socket" ||
		bad "$opt FILE: rc $rc, $out"
	[ "$(cat "$dir/file" 2>/dev/null)" = keep ] || bad "$opt FILE was removed or changed"
	[ -e "$dir/s0" ] && bad "$opt: failed start left its vhost-user socket"
done
mkdir "$dir/adir"
out=$(timeout 10 "$BLK" --socket "$dir/adir" --disk "$dir/d1.img" 2>&1)
[ -d "$dir/adir" ] && echo "$out" | grep -q "is not a socket" || bad "directory: $out"

# 3. a live socket is refused; the first keeps serving; the disk is locked
start a.log "$dir/a.sock" --disk "$dir/d1.img" --stats-socket "$dir/a.st" --hints "$dir/a.h" ||
	bad "first antfarm-blk did not start: $(cat "$dir/a.log")"
a=$last
out=$(timeout 10 "$BLK" --socket "$dir/a.sock" --disk "$dir/d2.img" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "already listening" || bad "second on a live socket: rc $rc, $out"
for s in a.st a.h; do
	out=$(timeout 10 "$BLK" --socket "$dir/b.sock" --disk "$dir/d2.img" --stats-socket "$dir/$s" 2>&1)
	[ $? -ne 0 ] && echo "$out" | grep -q "already listening" || bad "second on live $s: $out"
done
serves "$dir/a.sock" || bad "the first antfarm-blk no longer serves"
out=$(timeout 10 "$BLK" --socket "$dir/b.sock" --disk "$dir/d1.img" 2>&1); rc=$?
[ $rc -ne 0 ] && echo "$out" | grep -q "in use by another process" || bad "second on a locked disk: rc $rc, $out"
out=$(timeout 10 "$BLK" --socket "$dir/b.sock" --disk "$dir/d1.img" --read-only 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "while it is written" || bad "a reader of a disk that has a writer: $out"
start r1.log "$dir/r1.sock" --disk "$dir/d3.img" --read-only || bad "reader 1: $(cat "$dir/r1.log")"
start r2.log "$dir/r2.sock" --disk "$dir/d3.img" --read-only || bad "reader 2: $(cat "$dir/r2.log")"
serves "$dir/r1.sock" && serves "$dir/r2.sock" || bad "two readers do not both serve"
out=$(timeout 10 "$BLK" --socket "$dir/b.sock" --disk "$dir/d3.img" 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "in use by another process" || bad "a writer of a disk being read: $out"

# 5. modes: 0660 whatever the umask; --socket-mode, --socket-group
for s in a.sock a.st a.h; do
	[ "$(mode "$dir/$s")" = 660 ] || bad "$s has mode $(mode "$dir/$s") under umask $(umask)"
done
(umask 000; exec "$BLK" --socket "$dir/u.sock" --disk "$dir/d2.img" --stats-socket "$dir/u.st" \
	--hints "$dir/u.h" 2>"$dir/u.log") &
pids="$pids $!"; u=$!
for i in $(seq 100); do [ -S "$dir/u.sock" ] && break; sleep 0.05; done
for s in u.sock u.st u.h; do
	[ "$(mode "$dir/$s")" = 660 ] || bad "umask 000: $s has mode $(mode "$dir/$s" 2>&1)"
done
kill $u; wait $u 2>/dev/null
start g.log "$dir/g.sock" --disk "$dir/d2.img" --socket-mode 0600 --socket-group nogroup ||
	bad "--socket-mode/--socket-group: $(cat "$dir/g.log")"
[ "$(stat -c '%a %G' "$dir/g.sock")" = "600 nogroup" ] || bad "g.sock: $(stat -c '%a %G' "$dir/g.sock")"
out=$(timeout 10 "$BLK" --socket "$dir/x.sock" --disk "$dir/d2.img" --socket-mode 999 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "octal mode" || bad "--socket-mode 999: $out"

# at exit: our sockets and locks go, nothing else
kill $a; wait $a 2>/dev/null
for f in a.sock a.sock.lock a.st a.st.lock a.h a.h.lock; do
	[ -e "$dir/$f" ] && bad "$f left after SIGTERM"
done
[ -e "$dir/d1.img" ] || bad "the disk went"
# ... and only the inodes it made: what another hand put at its paths stays
truncate -s 1M "$dir/r.img"
start r.log "$dir/r.sock" --disk "$dir/r.img" --stats-socket "$dir/r.st" ||
	bad "replaced paths: $(cat "$dir/r.log")"
r=$last
for f in r.sock r.st; do rm -f "$dir/$f"; echo "not ours" > "$dir/$f"; done
kill $r; wait $r 2>/dev/null
for f in r.sock r.st; do
	[ "$(cat "$dir/$f" 2>/dev/null)" = "not ours" ] || bad "$f, replaced while it ran, went at exit"
done

# 11. the stats JSON with a hostile disk path
odd=$(printf '%s/q"uo\\te\377.img' "$dir")
truncate -s 1M "$odd"
start odd.log "$dir/o.sock" --disk "$odd" --stats-socket "$dir/o.st" || bad "odd path: $(cat "$dir/odd.log")"
python3 - "$dir/o.st" "$odd" "$(dirname "$0")/../agent" <<'PY' || bad "stats JSON of an odd disk path"
import json, os, socket, sys
sys.path.insert(0, sys.argv[3])
from agentlib import recv_all
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
text = recv_all(s).decode("utf-8")     # strict: invalid UTF-8 raises
dev = [json.loads(l) for l in text.splitlines()][0]
want = os.fsencode(sys.argv[2]).decode("utf-8", "replace")
if dev.get("disk") != want:
    sys.exit("disk %r, want %r" % (dev.get("disk"), want))
PY
exit $fail
