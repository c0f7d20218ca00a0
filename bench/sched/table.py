#!/usr/bin/env python3
"""Render bench_sched's JSON lines (stdin) as the Markdown tables of
bench/README.md:  make bench-sched | python3 bench/sched/table.py"""
import json
import sys

SCHEDS = ["fifo", "deadline", "idle-per-queue", "anticipatory", "oracle"]


def cell(r):
    return f"{r['mbps']:.3g} / {r['p99_ms']:.0f} / {r['fairness']:.2f}"


def exact(r):
    return r["attribution_pct"] in (None, 100.0)


def main():
    rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
    hdd = [r for r in rows if r["disk_model"] == "hdd-sim" and exact(r)]
    print("MB/s / p99 ms / fairness (min/max share), hdd-sim, exact tags\n")
    print("| workload | queues | procs | " + " | ".join(SCHEDS) + " |")
    print("|---|---|---|" + "---|" * len(SCHEDS))
    keys = sorted({(r["workload"], r["queue_mode"], r["procs"]) for r in hdd},
                  key=lambda k: (k[0] != "seq-read", k[0], k[1] != "shared", k[2]))
    for wl, qm, n in keys:
        by = {r["scheduler"]: r for r in hdd
              if (r["workload"], r["queue_mode"], r["procs"]) == (wl, qm, n)}
        print(f"| {wl} | {qm} | {n} | " +
              " | ".join(cell(by[s]) if s in by else "-" for s in SCHEDS) + " |")
    mis = [r for r in rows if r["disk_model"] == "hdd-sim" and not exact(r)]
    if mis:
        print("\nanticipatory, seq-read, shared queue, with mis-attributed requests\n")
        print("| procs | attribution % | MB/s | p99 ms | fairness |")
        print("|---|---|---|---|---|")
        for r in mis:
            print(f"| {r['procs']} | {r['attribution_pct']:.1f} | {r['mbps']:.1f}"
                  f" | {r['p99_ms']:.0f} | {r['fairness']:.2f} |")
    fast = [r for r in rows if r["disk_model"] != "hdd-sim"]
    if fast:
        print("\nseq-read, shared queue, fast device (fixed 10 us service), MB/s\n")
        print("| procs | " + " | ".join(SCHEDS) + " |")
        print("|---|" + "---|" * len(SCHEDS))
        for n in sorted({r["procs"] for r in fast}):
            by = {r["scheduler"]: r for r in fast if r["procs"] == n}
            print(f"| {n} | " + " | ".join(
                f"{by[s]['mbps']:.0f}" if s in by else "-" for s in SCHEDS) + " |")


if __name__ == "__main__":
    main()
