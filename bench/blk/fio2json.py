#!/usr/bin/env python3
"""fio JSON -> one bench-blk point (same fields as vhu-client bench --json)."""
import json
import sys

path, workload, kind, qd, queues = sys.argv[1:6]
job = json.load(open(path))["jobs"][0]
d = job["write"] if job["write"]["io_bytes"] > job["read"]["io_bytes"] else job["read"]
secs = job["job_runtime"] / 1000.0
ios = d["total_ios"]
pct = d["lat_ns"].get("percentile", {})
# fio's usr_cpu/sys_cpu are percent of one CPU over the job's runtime
cpu = (job["usr_cpu"] + job["sys_cpu"]) / 100.0 * secs
print(json.dumps({
    "backend": "io_uring", "workload": workload, "file": kind,
    "bs": d["bw_bytes"] and int(d["io_bytes"] / max(ios, 1)), "qd": int(qd),
    "queues": int(queues), "seconds": secs, "ios": ios, "errors": job["error"],
    "iops": round(d["iops"]), "mbps": round(d["bw_bytes"] / 1e6, 1),
    "p50_us": round(pct.get("50.000000", 0) / 1000, 1),
    "p99_us": round(pct.get("99.000000", 0) / 1000, 1),
    "cpu_s": round(cpu, 3),
    "cpu_s_per_mio": round(cpu / (ios / 1e6), 3) if ios else None,
}))
