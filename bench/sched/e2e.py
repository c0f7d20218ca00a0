#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""e2e.py: issue 5's scheduler evaluation, end to end, as far as this host allows.

usage: e2e.py --table < output.jsonl
       e2e.py [--quick] [--window S] [--repeat N] [--only WORKLOAD]
              [--procs 1,2,4,8] [--schedulers a,b] [--blocks N] [--think MS]
              [--no-shm] [--shm-seconds S] [--shm-repeat N]

The test guest (tests/guest) boots under QEMU (run-guest; tcg without
/dev/kvm) with its disk on antfarm-blk --hdd-model --scheduler S, started
here on a sparse temporary image.  For each point one JSON object is printed:

  seq-read    N readers of disjoint regions (blocks= 4 KiB blocks each,
              regions blocks*4 KiB apart), think= ms between requests
  rand-read   N readers of random 4 KiB blocks over the whole image
  writer      N writers: write their region, flush, read it back, verify
              (the guest has no "writer plus readers" workload)

queues: "shared" = 1 vCPU, 1 virtqueue; "per-vcpu" = 2 vCPUs, 2 virtqueues
(the guest submits on the queue of the vCPU the process runs on).

Reads are measured over a fixed window of guest time starting at the first
request (the run is then stopped): mbps = bytes completed in the window /
window; fairness = min/max over processes of bytes / time each was alive in
the window; p99_ms from antfarm-blk's latency histograms (all queues);
attribution_pct from the scheduler's per-key request counts against the
guest's per-pid request counts (null where the scheduler keeps no process
keys).  Writers run to completion and must verify.

Without the agent (no /dev/kvm: the KVM tracepoints never fire) antfarm-blk
gets no hints: "anticipatory" runs on its per-virtqueue fallback ("hints":
false); "oracle" takes the process from the guest's ioprio (pid + 1).

Each point runs --repeat times, the schedulers interleaved (this 2-core host
is shared: single runs swing); the line is the median run by mbps, with the
medians of p99_ms and fairness and every run's mbps in mbps_runs.

Then the /dev/shm check: vhu-client bench (4 KiB random reads) against
antfarm-blk without the HDD model on a file in /dev/shm, fifo vs
anticipatory, interleaved, median IOPS of --shm-repeat runs.
"""
import argparse, json, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
import qemu as launcher  # noqa: E402  the accelerator run-guest will pick

BUILD = os.environ.get("ANTFARM_BUILD", "build")
BLK = os.path.join(BUILD, "antfarm-blk")
VHU = os.path.join(BUILD, "tests", "vhu-client")
RUN_GUEST = "tests/guest/run-guest"
SCHEDS = ["fifo", "deadline", "idle-per-queue", "anticipatory", "oracle"]
QUEUES = {"shared": (1, 1), "per-vcpu": (2, 2)}	# vCPUs, virtqueues
KEYED = ("anticipatory", "oracle")		# schedulers that key by process


def wait_path(path, proc, secs=10):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if os.path.exists(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def read_stats(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return [json.loads(l) for l in data.decode().splitlines() if l.strip()]


class Backend:
    """antfarm-blk on a temporary image; owns its process and files."""

    def __init__(self, tmp, sched, queues, hdd=True, img=None, size=1 << 30):
        self.sock = os.path.join(tmp, "vhost.sock")
        self.stats = os.path.join(tmp, "stats.sock")
        self.img = img or os.path.join(tmp, "disk.img")
        if not img:
            with open(self.img, "wb") as f:
                f.truncate(size)
        cmd = [BLK, "--socket", self.sock, "--disk", self.img, "--num-queues", str(queues),
               "--scheduler", sched, "--stats-socket", self.stats]
        if hdd:
            cmd.append("--hdd-model")
        self.err = open(os.path.join(tmp, "blk.err"), "w+")
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        if not wait_path(self.sock, self.p) or not wait_path(self.stats, self.p):
            self.err.seek(0)
            why = self.err.read()[-500:]
            self.stop()
            raise RuntimeError("antfarm-blk did not start: " + why)

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.err.close()


def parse_log(path):
    """(host_ns, kind, {key: value}) for every AF line of a run-guest log."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            ts, _, rest = line.rstrip("\n").partition("\t")
            if not rest.startswith("AF "):
                continue
            words = rest.split()
            kv = dict(w.split("=", 1) for w in words[2:] if "=" in w)
            out.append((int(ts), words[1], kv))
    return out


def log_span_ns(path):
    """Guest ns from the first DISK line to the last line so far."""
    t0 = last = None
    try:
        for _, kind, kv in parse_log(path):
            if "t" not in kv:
                continue
            if kind == "DISK" and t0 is None:
                t0 = int(kv["t"])
            last = int(kv["t"])
    except (OSError, ValueError):
        return 0
    return last - t0 if t0 is not None and last is not None else 0


def run_guest(tmp, backend, cpus, queues, words, window_s, timeout):
    """Boot the guest; stop it once window_s of guest time has passed since
    the first request (window_s = 0: run to completion).  Returns (rc, log)."""
    log = os.path.join(tmp, "guest.log")
    cmd = [sys.executable, RUN_GUEST, "--disk", "sock:" + backend.sock, "--cpus", str(cpus),
           "--queues", str(queues), "--log", log, "--timeout", str(timeout), "--quiet",
           "--"] + words
    out = open(os.path.join(tmp, "run-guest.out"), "w+")
    g = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    rc = None
    try:
        while g.poll() is None:
            time.sleep(0.1)
            if window_s and log_span_ns(log) > (window_s + 0.3) * 1e9:
                g.send_signal(signal.SIGTERM)	# run-guest then kills QEMU
                g.wait(20)
                rc = "stopped"
                return rc, log
        rc = g.returncode
        return rc, log
    finally:
        if g.poll() is None:
            g.terminate()	# run-guest stops its QEMU on SIGTERM
            try:
                g.wait(20)
            except subprocess.TimeoutExpired:
                g.kill()
                g.wait()
        out.seek(0)
        if rc not in (0, "stopped"):
            sys.stderr.write(out.read()[-2000:])
        out.close()


def guest_metrics(log, window_s):
    """Throughput, per-process shares and request counts from the guest log."""
    ev = parse_log(log)
    sub, done = {}, {}
    first = {}
    t0 = None
    host0 = host_end = None	# host clock over the same requests: a check on guest time
    for ts, kind, kv in ev:
        if kind == "DISK":
            t = int(kv["t"])
            t0 = t if t0 is None else t0
            host0 = ts if host0 is None else host0
            sub[kv["id"]] = (int(kv["pid"]), int(kv["n"]) * 512, t, kv["op"])
            first.setdefault(int(kv["pid"]), t)
        elif kind == "DISKDONE":
            done[kv["id"]] = (int(kv["t"]), int(kv["status"]))
            if not window_s or int(kv["t"]) <= t0 + window_s * 1e9:
                host_end = ts
    if t0 is None:
        raise RuntimeError("no disk request in the guest log")
    end = t0 + window_s * 1e9 if window_s else max(t for t, _ in done.values())
    bytes_by, last_by, reqs_by = {}, {}, {}
    bad = 0
    for rid, (pid, nbytes, t, op) in sub.items():
        reqs_by[pid] = reqs_by.get(pid, 0) + 1
        if rid not in done:
            continue
        td, st = done[rid]
        bad += st != 0
        if td <= end:
            bytes_by[pid] = bytes_by.get(pid, 0) + nbytes
            last_by[pid] = max(last_by.get(pid, 0), td)
    # a reader still running at the end was alive for the whole window
    alive = {p: (end if not window_s or any(
        s[0] == p and (r not in done or done[r][0] > end) for r, s in sub.items())
        else last_by.get(p, end)) - first[p] for p in first}
    rates = [bytes_by.get(p, 0) / max(alive[p], 1) for p in first]
    total = sum(bytes_by.values())
    return {
        "mbps": round(total / ((end - t0) / 1e9) / 1e6, 3),
        "fairness": round(min(rates) / max(rates), 3) if max(rates) > 0 else None,
        "requests": len(sub), "errors": bad, "reqs_by_pid": reqs_by,
        "window_s": round((end - t0) / 1e9, 3),
        "host_window_s": round((host_end - host0) / 1e9, 3) if host_end else None,
        "verify": sum(1 for _, k, kv in ev if k == "VERIFY" and kv.get("result") == "ok"),
        "verify_bad": sum(1 for _, k, kv in ev if k == "VERIFY" and kv.get("result") != "ok"),
    }


def merged_p99_ms(stats):
    hist = {}
    for s in stats:
        if s.get("type") == "queue":
            for b, n in s["lat_hist_ns"].items():
                hist[int(b)] = hist.get(int(b), 0) + n
    total = sum(hist.values())
    if not total:
        return None
    want, acc = max(1, int(total * 0.99 + 0.5)), 0
    for b in sorted(hist):
        acc += hist[b]
        if acc >= want:
            return round(b / 1e6, 2)


def sched_stats(stats):
    for s in stats:
        if s.get("type") == "scheduler" and isinstance(s.get("stats"), dict):
            return s["stats"]
    return {}


def attribution(sched, st, reqs_by_pid):
    """Share of the guest's requests that the scheduler keyed to the right
    process (key = pid + 1); None where it keeps no process keys."""
    if sched not in KEYED:
        return None
    by_key = {}
    for k in st.get("keys", []):
        if "proc" in k:
            by_key[int(k["proc"], 16)] = k["requests"]
    total = sum(reqs_by_pid.values())
    right = sum(min(n, by_key.get(pid + 1, 0)) for pid, n in reqs_by_pid.items())
    return round(100.0 * right / total, 2) if total else None


def point(args, sched, workload, procs, qname, accel):
    cpus, queues = QUEUES[qname]
    gw = {"seq-read": "seqread", "rand-read": "randread", "writer": "writer"}[workload]
    blocks = args.wblocks if workload == "writer" else args.blocks
    words = [f"workload={gw}", f"n={procs}", f"blocks={blocks}", f"think={args.think}",
             f"tick={args.tick}", "seed=1"]
    window = 0 if workload == "writer" else args.window
    t_point = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="antfarm-e2e.") as tmp:
        be = Backend(tmp, sched, queues)
        try:
            t = time.monotonic()
            rc, log = run_guest(tmp, be, cpus, queues, words, window, args.timeout)
            wall = time.monotonic() - t
            stats = read_stats(be.stats)
        finally:
            be.stop()
        m = guest_metrics(log, window)
    st = sched_stats(stats)
    print(f"e2e: {sched} {workload} n={procs} {qname}: {time.monotonic() - t_point:.1f} s",
          file=sys.stderr)
    ok = rc in (0, "stopped") and m["errors"] == 0 and m["verify_bad"] == 0
    return {
        "scheduler": sched, "workload": workload, "procs": procs, "queues": qname,
        "vcpus": cpus, "virtqueues": queues, "disk_model": "hdd", "mbps": m["mbps"],
        "p99_ms": merged_p99_ms(stats),
        "attribution_pct": attribution(sched, st, m["reqs_by_pid"]),
        "fairness": m["fairness"], "accel": accel, "hints": False,
        "window_s": m["window_s"], "host_window_s": m["host_window_s"], "requests": m["requests"], "verify_ok": m["verify"],
        "antic": st.get("antic"), "hits": st.get("hits"), "misses": st.get("misses"),
        "antic_enabled": st.get("antic_enabled"),
        "think_us": [k["think_us"] for k in st.get("keys", [])], "ok": ok, "wall_s": round(wall, 1),
        "guest": " ".join(words),
    }


def median_point(rs):
    """The run with the median throughput, its p99 and fairness the medians
    of all runs; every run's throughput kept."""
    rs = sorted(rs, key=lambda r: r["mbps"])
    out = dict(rs[len(rs) // 2])
    for k in ("p99_ms", "fairness"):
        v = [r[k] for r in rs if r[k] is not None]
        out[k] = statistics.median(v) if v else None
    out["mbps_runs"] = [r["mbps"] for r in rs]
    out["ok"] = all(r["ok"] for r in rs)
    return out


def vhu_iops(tmp, img, sched, qd, secs):
    be = Backend(tmp, sched, 1, hdd=False, img=img)
    try:
        out = subprocess.run([VHU, "-s", be.sock, "--json", "bench", "--rw", "randread",
                              "--bs", "4k", "--qd", str(qd), "-t", str(secs)],
                             capture_output=True, text=True, timeout=secs + 30)
        if out.returncode != 0:
            raise RuntimeError("vhu-client: " + out.stderr.strip()[-500:])
        st = sched_stats(read_stats(be.stats))
    finally:
        be.stop()
        for p in (be.sock, be.stats):
            if os.path.exists(p):
                os.unlink(p)
    return json.loads(out.stdout.strip().splitlines()[-1]), st


def shm_check(args):
    """fifo vs anticipatory on a /dev/shm file, no HDD model."""
    with tempfile.TemporaryDirectory(prefix="antfarm-e2e.") as tmp:
        fd, img = tempfile.mkstemp(prefix="antfarm-e2e.", dir="/dev/shm")
        try:
            os.ftruncate(fd, 256 << 20)
            os.write(fd, b"\1" * 4096)	# not all holes
            os.close(fd)
            for qd in (1, 16):
                runs = {"fifo": [], "anticipatory": []}
                last = {}
                for _ in range(args.shm_repeat):
                    for sched in runs:
                        res, st = vhu_iops(tmp, img, sched, qd, args.shm_seconds)
                        runs[sched].append(res["iops"])
                        last[sched] = st
                for sched, v in runs.items():
                    print(json.dumps({
                        "scheduler": sched, "workload": "shm-randread", "qd": qd,
                        "queues": "shared", "disk_model": "shm", "iops": statistics.median(v),
                        "iops_runs": v, "antic_enabled": last[sched].get("antic_enabled"),
                        "antic": last[sched].get("antic"),
                        "service_mean_us": last[sched].get("service_mean_us"),
                        "hints": False}), flush=True)
        finally:
            os.unlink(img)


def cell(d):
    return f"{d['mbps']:.2f} / {d['p99_ms']:.0f} / {d['fairness']:.2f}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def table(lines):
    """Markdown tables and the issue-5 ratios from this script's output."""
    pts = [json.loads(l) for l in lines if l.startswith("{")]
    hdd = {(d["workload"], d["queues"], d["procs"], d["scheduler"]): d
           for d in pts if d.get("disk_model") == "hdd"}
    scheds = [s for s in SCHEDS if any(k[3] == s for k in hdd)]
    print("MB/s / p99 ms / fairness (min/max per-process rate); hdd model, "
          f"accel {pts[0].get('accel')}, no hints\n")
    print("| workload | queues | procs | " + " | ".join(scheds) + " |")
    print("|---|---|---|" + "---|" * len(scheds))
    rows = sorted({k[:3] for k in hdd}, key=lambda k: (
        ["seq-read", "rand-read", "writer"].index(k[0]), k[1] != "shared", k[2]))
    for w, q, n in rows:
        print(f"| {w} | {q} | {n} | " + " | ".join(
            cell(hdd[(w, q, n, s)]) if (w, q, n, s) in hdd else "-" for s in scheds) + " |")
    print("\nRatios of MB/s (seq-read rows with 2+ readers, rand-read rows)\n")
    print("| workload | queues | procs | anticipatory/fifo | oracle/fifo | "
          "anticipatory/oracle | anticipatory/idle-per-queue | oracle/idle-per-queue |")
    print("|---|---|---|---|---|---|---|---|")
    for w, q, n in rows:
        if (w == "seq-read" and n < 2) or w == "writer":
            continue
        g = {s: hdd.get((w, q, n, s), {}).get("mbps") for s in SCHEDS}
        print(f"| {w} | {q} | {n} | {ratio(g['anticipatory'], g['fifo'])} | "
              f"{ratio(g['oracle'], g['fifo'])} | {ratio(g['anticipatory'], g['oracle'])} | "
              f"{ratio(g['anticipatory'], g['idle-per-queue'])} | "
              f"{ratio(g['oracle'], g['idle-per-queue'])} |")
    shm = [d for d in pts if d.get("disk_model") == "shm"]
    if shm:
        print("\n/dev/shm file, no HDD model, vhu-client 4 KiB random reads, median IOPS\n")
        print("| qd | fifo | anticipatory | anticipatory/fifo | anticipation enabled | runs fifo | runs anticipatory |")
        print("|---|---|---|---|---|---|---|")
        for qd in sorted({d["qd"] for d in shm}):
            f = next(d for d in shm if d["qd"] == qd and d["scheduler"] == "fifo")
            a = next(d for d in shm if d["qd"] == qd and d["scheduler"] == "anticipatory")
            print(f"| {qd} | {f['iops']} | {a['iops']} | {ratio(a['iops'], f['iops'])} | "
                  f"{a['antic_enabled']} (waits: {a['antic']}) | {f['iops_runs']} | {a['iops_runs']} |")


def main():
    if sys.argv[1:] == ["--table"]:
        return table(sys.stdin.readlines())
    p = argparse.ArgumentParser(usage=argparse.SUPPRESS, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="one point per workload")
    p.add_argument("--window", type=float, default=2.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--blocks", type=int, default=4096)
    p.add_argument("--wblocks", type=int, default=128)
    p.add_argument("--think", type=int, default=0)
    p.add_argument("--tick", type=int, default=1)
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--only")
    p.add_argument("--procs", default="1,2,4,8")
    p.add_argument("--schedulers", default=",".join(SCHEDS))
    p.add_argument("--no-shm", action="store_true")
    p.add_argument("--shm-seconds", type=float, default=2)
    p.add_argument("--shm-repeat", type=int, default=5)
    a = p.parse_args()
    # private copies: other builds relinking build/ mid-run must not change
    # (or briefly remove) the binaries under test
    global BLK, VHU
    bins = tempfile.mkdtemp(prefix="antfarm-e2e-bin.")
    try:
        BLK = shutil.copy(BLK, bins)
        VHU = shutil.copy(VHU, bins)
        return run(a, [int(x) for x in a.procs.split(",")])
    finally:
        shutil.rmtree(bins, ignore_errors=True)


def run(a, procs):
    accel = "kvm" if launcher.kvm_usable() else "tcg"
    plan = [("seq-read", n, q) for q in QUEUES for n in procs]
    plan += [("rand-read", 4, q) for q in QUEUES]
    plan += [("writer", 2, "shared")]
    if a.quick:
        plan = [("seq-read", 2, "shared")]
    if a.only:
        plan = [x for x in plan if x[0] == a.only]
    for workload, n, q in plan:
        runs = {sched: [] for sched in a.schedulers.split(",")}
        for _ in range(a.repeat):	# interleaved: neighbours on the host drift
            for sched in runs:
                runs[sched].append(point(a, sched, workload, n, q, accel))
        for sched, rs in runs.items():
            print(json.dumps(median_point(rs)), flush=True)
    if not a.no_shm:
        shm_check(a)


if __name__ == "__main__":
    # SIGTERM (make, a timeout) unwinds like ^C: backends and guests stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
