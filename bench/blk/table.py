#!/usr/bin/env python3
"""bench-blk JSON lines -> a markdown table with the issue 4 target ratios."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    groups.setdefault((r["backend"], r["file"], r["workload"], r["qd"]), []).append(r)


def median_row(rs):
    """Each column's median over the repeats of one point."""
    out = dict(rs[0])
    for k in ("iops", "mbps", "p50_us", "p99_us", "cpu_s_per_mio"):
        vals = sorted(r[k] for r in rs if r.get(k) is not None)
        out[k] = statistics.median(vals) if vals else None
    out["n"] = len(rs)
    return out


by = {k: median_row(v) for k, v in groups.items()}
print("| file | workload | qd | backend | IOPS | MB/s | p50 µs | p99 µs | CPU s/M IO |"
      " IOPS vs qsd | p99 vs qsd | vs io_uring |")
print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")


def f(v, fmt="{:.0f}"):
    return "-" if v is None else fmt.format(v)


for key in sorted({(r["file"], r["workload"], r["qd"]) for r in rows},
                  key=lambda k: (k[0] != "shm", k[1], k[2])):
    kind, wl, qd = key
    q = by.get(("qemu-storage-daemon", kind, wl, qd))
    u = by.get(("io_uring", kind, wl, qd))
    for be in ("antfarm-blk", "qemu-storage-daemon", "io_uring"):
        r = by.get((be, kind, wl, qd))
        if not r:
            continue
        vs_q = vs_p99 = vs_u = None
        if be == "antfarm-blk" and q and q["iops"]:
            vs_q = r["iops"] / q["iops"]
            vs_p99 = r["p99_us"] / q["p99_us"] if q["p99_us"] else None
        if be != "io_uring" and u and u["iops"]:
            vs_u = r["iops"] / u["iops"]
        print(f"| {kind} | {wl} | {qd} | {be} | {f(r['iops'])} | {f(r['mbps'], '{:.1f}')} |"
              f" {f(r['p50_us'], '{:.1f}')} | {f(r['p99_us'], '{:.1f}')} |"
              f" {f(r.get('cpu_s_per_mio'), '{:.2f}')} | {f(vs_q, '{:.2f}x')} |"
              f" {f(vs_p99, '{:.2f}x')} | {f(vs_u, '{:.0%}')} |")
