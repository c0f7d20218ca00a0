#!/bin/sh
# Agent throughput and memory (a benchmark, not a test; run as root).
#
#   bench/agent/run.sh [N]
#
# 1. burst: the agent is stopped (SIGSTOP) while af-inject puts N switch
#    records into its ring buffer through the af_replay program; then it
#    continues, and sub-bench (one JSON subscriber) times first to last
#    event.  Measures ring buffer -> JSON -> socket -> subscriber alone.
# 2. live: the same with the injector running at the same time (on 2
#    cores the injector, agent and subscriber share the CPUs).
# 3. memory: 100 VMs x 1000 processes injected; the agent's VmRSS, then
#    its VmHWM after an `antfarm ps` of all 100,000 rows.
# Zero loss is checked each time: no lost lines, no reserve failures.  The
# subscriber's queue is raised to 256 MiB for 1-2: with the default 4 MiB a
# burst that the reader does not keep up with is dropped (and told).
set -e
B=${ANTFARM_BUILD:-build}
N=${1:-1000000}
dir=$(mktemp -d /tmp/antfarm-bench-agent.XXXXXX)
sock=$dir/agent.sock
apid=
cleanup() { [ -n "$apid" ] && kill -CONT "$apid" 2>/dev/null && kill "$apid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT INT TERM

start_agent() {
	"$B/antfarm-agent" -d --socket "$sock" "$@" 2>"$dir/agent.log" &
	apid=$!
	for i in $(seq 100); do [ -S "$sock" ] && return; sleep 0.1; done
	echo "agent did not start:"; cat "$dir/agent.log"; exit 1
}
stop_agent() { kill "$apid"; wait "$apid" || true; apid=; }

reserve_failures() {
	"$B/antfarm" --socket "$sock" stats | awk '/^antfarm_bpf_reserve_failures_total/ {s += $2} END {print s + 0}'
}

subscriber() {	# starts sub-bench and waits until it is subscribed
	"$B/bench/agent/sub-bench" "$sock" "$N" >"$dir/sub.out" &
	spid=$!
	for i in $(seq 100); do grep -q ready "$dir/sub.out" 2>/dev/null && return; sleep 0.05; done
	echo "subscriber did not start"; exit 1
}

inject_switches() {	# N switch records on one VM, vCPU 0
	"$B/tests/agent/af-inject" --pid "$apid" --repeat $((N / 2)) \
		cr3:0x9000000:7001:0:0x10000:2 cr3:0x9000000:7001:0:0x20000:2
}

echo "== burst: $N switch records queued in the ring, then drained"
start_agent --ringbuf-mib 256 --queue-kib 262144	# ring holds 2.8M records, queue all of them
subscriber
kill -STOP "$apid"
t0=$(date +%s.%N); inject_switches; t1=$(date +%s.%N)
kill -CONT "$apid"
wait "$spid" || true
echo "injected in $(echo "$t1 - $t0" | bc) s"
echo "subscriber: $(tail -n 1 "$dir/sub.out")"
echo "reserve failures: $(reserve_failures)"
stop_agent

echo "== live: injector, agent and subscriber at the same time"
start_agent --ringbuf-mib 256 --queue-kib 262144
subscriber
inject_switches
wait "$spid" || true
echo "subscriber: $(tail -n 1 "$dir/sub.out")"
echo "reserve failures: $(reserve_failures)"
stop_agent

echo "== memory: 100 VMs x 1000 processes (default 8 MiB ring)"
start_agent
rss() { awk '/^(VmRSS|RssAnon|RssFile|RssShmem|VmHWM)/ {printf "%s %s kB  ", $1, $2}' /proc/$apid/status; }
echo "idle agent: $(rss)"
awk 'BEGIN { for (v = 1; v <= 100; v++) for (p = 1; p <= 1000; p++)
	printf "cr3:%d:%d:0:%d:2\n", 268435456 + v * 65536, 8000 + v, p * 8192 }' >"$dir/obs"
"$B/tests/agent/af-inject" --pid "$apid" - <"$dir/obs"
sleep 1
echo "after 100,000 creates: $(rss)"
rows=$("$B/antfarm" --socket "$sock" ps --json | wc -l)
vms=$("$B/antfarm" --socket "$sock" vms --json | wc -l)
echo "ps rows: $rows, vms: $vms"
echo "after ps: $(rss)"
echo "reserve failures: $(reserve_failures)"
stop_agent
