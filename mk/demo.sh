#!/bin/sh
# make demo: antfarm-agent + the test guest on antfarm-blk, live process events.
#
# Starts, in a temporary directory: antfarm-blk serving a 64 MiB disk image
# (with a hint socket for the agent), antfarm-agent (foreground, its own
# socket, pushing hints to antfarm-blk), `antfarm watch` printing create and
# exit events as they happen, then boots the project's test guest with
# antfarm-blk as its disk, running a fork+exec and disk workload.  At the
# end it shows `antfarm ps`, `antfarm vms`, the guest's own ground truth and
# antfarm-blk's stats, and stops everything.
#
# DEMO_WORKLOAD overrides the guest's command line (default below).
set -u
B=${ANTFARM_BUILD:-build}
WORKLOAD=${DEMO_WORKLOAD:-workload=seqread n=4 blocks=32 think=1 seed=7}

say() { printf '\n==> %s\n' "$*"; }

d=$(mktemp -d /tmp/antfarm-demo.XXXXXX) || exit 1
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.3
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$d"
}
trap cleanup EXIT INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "demo: antfarm-agent needs root (BPF); run as root: sh mk/setup demo" >&2
	exit 1
fi

# the launcher policy run-guest follows: KVM only where a VM can be created
kvm=no
if python3 tests/lib/qemu.py accel 2>/dev/null | grep -q '^kvm '; then kvm=yes; fi

say "antfarm-blk: serving $d/disk.img on $d/blk.sock"
truncate -s 64M "$d/disk.img"
"$B/antfarm-blk" --socket "$d/blk.sock" --disk "$d/disk.img" --num-queues 2 \
	--hints "$d/hints.sock" --stats-socket "$d/blk-stats.sock" \
	>"$d/blk.log" 2>&1 &
pids="$pids $!"

say "antfarm-agent: BPF on the KVM tracepoints, socket $d/agent.sock"
"$B/antfarm-agent" -d --socket "$d/agent.sock" --blk-hints "$d/hints.sock" \
	>"$d/agent.log" 2>&1 &
agent_pid=$!
pids="$pids $agent_pid"
for i in $(seq 50); do
	[ -S "$d/agent.sock" ] && [ -S "$d/blk.sock" ] && break
	sleep 0.1
done
sed 's/^/    agent: /' "$d/agent.log"
if ! [ -S "$d/agent.sock" ]; then
	echo "demo: antfarm-agent did not start; its log is above" >&2
	exit 1
fi

say "antfarm watch (create/exit events, live)"
"$B/antfarm" --socket "$d/agent.sock" watch --events create,exit,vm-exit &
pids="$pids $!"

if [ $kvm = no ]; then
	cat <<EOF

    NOTE: KVM does not work on this host (no VM can be created; see dmesg:
    a kvm-pvm guest kernel does not bind KVM), so the guest runs under QEMU's
    TCG emulator.  TCG does
    not go through KVM, so no KVM tracepoint fires while it runs.  After the
    run, the guest's own log is REPLAYED into the live agent as the
    observations a kvm_pvm host gives (tests/accuracy/replay.py through the
    agent's af_replay BPF program): the events below then come from the real
    BPF state machine, maps, ring buffer and socket, but from replayed input.
    On a KVM host the events appear live while the guest runs.
EOF
fi

say "test guest on antfarm-blk: $WORKLOAD"
tests/guest/run-guest --cpus 2 --disk "sock:$d/blk.sock" --queues 2 --quiet \
	--log "$d/guest.log" --timeout 120 -- $WORKLOAD 2>"$d/run-guest.err"
rc=$?
sed 's/^/    run-guest: /' "$d/run-guest.err"
qpid=$(sed -n 's/.*qemu_pid=\([0-9]*\).*/\1/p' "$d/run-guest.err" | head -n 1)
sleep 0.5

if [ $kvm = no ] && [ $rc -eq 0 ]; then
	say "replaying the guest's log into the agent (no KVM here; see the note above)"
	python3 - "$d/guest.log" "${qpid:-1}" <<'PY' | "$B/tests/agent/af-inject" --pid "$agent_pid" -
import sys
sys.path.insert(0, "tests/accuracy")
import replay
with open(sys.argv[1]) as f:
    lines = replay.rebase(f)
print("\n".join(replay.observations(lines, hex(0xdec0de000), int(sys.argv[2]))))
PY
	sleep 0.5
fi

say "antfarm ps"
"$B/antfarm" --socket "$d/agent.sock" ps
say "antfarm vms"
"$B/antfarm" --socket "$d/agent.sock" vms
say "guest ground truth: address spaces created and torn down (first 12), summary"
grep -E 'AF (CREATE|EXIT) ' "$d/guest.log" | head -n 12 | cut -f2-
grep -E 'AF SUMMARY' "$d/guest.log" | cut -f2-
echo "    (line format: tests/guest/README.md)"
say "antfarm-blk stats"
if command -v python3 >/dev/null; then
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); print(s.makefile().read(), end="")' "$d/blk-stats.sock"
fi
echo
[ $rc -eq 0 ] && echo "demo: guest finished cleanly" || echo "demo: guest exited with status $rc"
exit $rc
