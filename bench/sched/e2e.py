#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""e2e.py: the anticipatory-scheduling evaluation end to end, live.

usage: e2e.py --table < output.jsonl
       e2e.py [--quick] [--repeat N] [--model-s S] [--time-scale K] [--only WORKLOAD]
              [--procs 1,2,4,8] [--schedulers a,b] [--no-hints] [--hint-wait-us N]
              [--no-shm] [--shm-seconds S] [--shm-repeat N]

The test guest (tests/guest, run-guest: KVM where a VM can be created here,
else TCG) runs a disk workload on antfarm-blk --hdd-model --time-scale K
--scheduler S, on a sparse 1 GiB image.  Under KVM the real antfarm-agent
runs too (--blk-hints), and antfarm-blk takes its process tags from the
agent's live hints (--hints): "hints": true.  Under TCG the KVM tracepoints
never fire: no agent, "anticipatory" falls back to its per-virtqueue key,
"hints": false.  "oracle" always takes the process from the request header's
ioprio, which the guest sets to pid + 1 (its ground truth).

Time scale K: the guest's kernel is instruction-emulated under kvm_pvm and
its think time (a reader's completion to its next request) is ~20x that of
a Linux guest on hardware.  A calibration run measures it (seqread, one
reader, fifo, no HDD model, agent attached) and K = its median / the think
time of a Linux guest (REAL_THINK_US, bench/README.md says how it was
measured), so that think : seek is what a real disk under a real guest sees;
every model time, the scheduler's window and deadlines are x K.  MB/s and
p99 are given in model time (real / K), comparable with make bench-sched.

Workloads (the guest's disklog=disk runtime=, so that a request costs no
console exits, and it stops itself after --model-s model seconds):
  seq-read        N readers of their own 32 MiB regions, 4 KiB synchronous reads
  rand-read       N readers of random 4 KiB blocks over the whole image
  writer+readers  N sequential readers and one writer of its own region with
                  4 writes in flight (its bytes count in MB/s, not in fairness)
  seq-read-kworker  seq-read whose requests an I/O kernel thread submits
                  (submit=kworker; kdelay=2: it batches for 2 ms)
  rand-read-kworker rand-read so, kdelay=2: batches of several processes
  shm-seq-read    seq-read on a /dev/shm image without the HDD model
queues: "shared" = 1 vCPU, 1 virtqueue; "per-vcpu" = 2 vCPUs, 2 virtqueues.

Per point, from the guest's own record of every request: mbps (bytes
completed in the window), p99_ms (submit to completion, all requests),
fairness (min/max over the readers of bytes per second alive), and
attribution_pct: antfarm-blk's --tag-log joined with the guest's DISK lines
(op, sector, n, in order): the share of requests tagged with the address
space of the process that asked (the guest's AF CREATE lines give pid ->
root; null for schedulers that do not use process tags).  hints_per_req:
hints antfarm-blk received / requests; agent_cpu_us_per_req: the agent's
utime + stime over the point / requests (it also serves any other VM on the
host).  Each point runs --repeat times, schedulers interleaved; the line is
the median run by mbps, with the medians of p99_ms, fairness and
attribution_pct and every run's mbps in mbps_runs.

Then the /dev/shm check: vhu-client bench (4 KiB random reads) against
antfarm-blk without the HDD model, fifo vs anticipatory, interleaved.
"""
import argparse, collections, json, os, shutil, signal, socket, statistics, subprocess, sys
import tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import qemu as launcher  # noqa: E402  the accelerator run-guest will pick
import guestlog  # noqa: E402  the guest's log, disklog=disk table included

BUILD = os.environ.get("ANTFARM_BUILD", "build")
BLK = os.path.join(BUILD, "antfarm-blk")
AGENT = os.path.join(BUILD, "antfarm-agent")
VHU = os.path.join(BUILD, "tests", "vhu-client")
RUN_GUEST = os.path.join(HERE, "..", "..", "tests", "guest", "run-guest")
SCHEDS = ["fifo", "deadline", "idle-per-queue", "anticipatory", "oracle"]
QUEUES = {"shared": (1, 1), "per-vcpu": (2, 2)}	# vCPUs, virtqueues
TAGGED = ("anticipatory", "oracle")		# schedulers that use process tags
AS_MASK = 0x000ffffffffff000
REAL_THINK_US = 22	# median, Linux 6.18 guest, virtio-blk, dd O_DIRECT 4 KiB (bench/README.md)
CLK_TCK = os.sysconf("SC_CLK_TCK")
IMG_SIZE = 1 << 30


def log(msg):
    print("e2e: " + msg, file=sys.stderr, flush=True)


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


def stop_proc(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Agent:
    """antfarm-agent with --blk-hints on a private socket pair."""

    def __init__(self, tmp):
        self.sock = os.path.join(tmp, "agent.sock")
        self.hints = os.path.join(tmp, "hints.sock")
        self.err = open(os.path.join(tmp, "agent.err"), "w+")
        self.p = subprocess.Popen([AGENT, "-d", "--socket", self.sock, "--blk-hints", self.hints],
                                  stdout=subprocess.DEVNULL, stderr=self.err)
        if not wait_path(self.sock, self.p, 30):
            self.err.seek(0)
            why = self.err.read()[-500:]
            self.stop()
            raise RuntimeError("antfarm-agent did not start: " + why)

    def cpu_ticks(self):
        with open(f"/proc/{self.p.pid}/stat") as f:
            w = f.read().rsplit(")", 1)[1].split()
        return int(w[11]) + int(w[12])	# utime, stime

    def stop(self):
        stop_proc(self.p)
        self.err.close()


class Backend:
    """antfarm-blk on an image; owns its process and files."""

    def __init__(self, tmp, sched, queues, hdd=True, img=None, size=IMG_SIZE, scale=1,
                 hints=None, tag_log=None, hint_wait_us=None):
        self.sock = os.path.join(tmp, "vhost.sock")
        self.stats = os.path.join(tmp, "stats.sock")
        self.img = img or os.path.join(tmp, "disk.img")
        self.tag_log = tag_log
        if not img:
            with open(self.img, "wb") as f:
                f.truncate(size)
        cmd = [BLK, "--socket", self.sock, "--disk", self.img, "--num-queues", str(queues),
               "--scheduler", sched, "--stats-socket", self.stats]
        if hdd:
            cmd += ["--hdd-model", "--time-scale", str(scale)]
        if hints:
            cmd += ["--hints", hints]
        if tag_log:
            cmd += ["--tag-log", tag_log]
        if hint_wait_us is not None:
            cmd += ["--hint-wait-us", str(hint_wait_us)]
        self.err = open(os.path.join(tmp, "blk.err"), "w+")
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err)
        if not wait_path(self.sock, self.p) or not wait_path(self.stats, self.p):
            self.err.seek(0)
            why = self.err.read()[-500:]
            self.stop()
            raise RuntimeError("antfarm-blk did not start: " + why)

    def hint_stats(self):
        return next((s for s in read_stats(self.stats) if s.get("type") == "hints"), {})

    def wait_agent(self, secs=40):
        """The agent reconnects to a new backend from its 1 s tick."""
        end = time.monotonic() + secs
        while time.monotonic() < end:
            if self.hint_stats().get("connections", 0) >= 1:
                return True
            time.sleep(0.1)
        return False

    def stop(self):
        stop_proc(self.p)
        self.err.close()


def run_guest(tmp, backend, cpus, queues, words, timeout):
    """Boot the guest to completion; (rc, log path)."""
    log_path = os.path.join(tmp, "guest.log")
    cmd = [sys.executable, RUN_GUEST, "--disk", "sock:" + backend.sock, "--cpus", str(cpus),
           "--queues", str(queues), "--log", log_path, "--timeout", str(timeout), "--quiet",
           "--"] + words
    out = open(os.path.join(tmp, "run-guest.out"), "w+")
    g = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    try:
        rc = g.wait(timeout + 30)
    except subprocess.TimeoutExpired:
        rc = None
    finally:
        stop_proc(g)	# run-guest stops its QEMU on SIGTERM
        out.seek(0)
        text = out.read()
        out.close()
    if rc != 0:
        sys.stderr.write(text[-2000:])
    return rc, log_path


def guest_metrics(events, window_ns, scale):
    """Throughput, latency and per-process shares from the guest's records;
    window_ns = 0: until the last completion.  Model time = real / scale."""
    sub, done, roots = {}, {}, {}
    for _, kind, kv in events:
        if kind == "DISK":
            sub[kv["id"]] = kv
        elif kind == "DISKDONE":
            done[kv["id"]] = (int(kv["t"]), int(kv["status"]))
        elif kind == "CREATE":
            roots.setdefault(int(kv["pid"]), []).append((int(kv["t"]), int(kv["root"], 16)))
    if not sub:
        raise RuntimeError("no disk request in the guest's log")
    t0 = min(int(kv["t"]) for kv in sub.values())
    end = t0 + window_ns if window_ns else max(t for t, _ in done.values())
    writers = {int(kv["pid"]) for kv in sub.values() if kv["op"] == "W"}
    first, last, nbytes, lat, bad, wbytes = {}, {}, {}, [], 0, 0
    for rid, kv in sub.items():
        pid, t = int(kv["pid"]), int(kv["t"])
        first[pid] = min(first.get(pid, t), t)
        if rid not in done:
            continue
        td, st = done[rid]
        bad += st != 0
        if td <= end:
            nbytes[pid] = nbytes.get(pid, 0) + int(kv["n"]) * 512
            wbytes += int(kv["n"]) * 512 if kv["op"] == "W" else 0
            last[pid] = max(last.get(pid, 0), td)
            lat.append(td - t)
    lat.sort()
    readers = [p for p in first if p not in writers]
    # alive until its last completion: a reader still going at the end of
    # the window (its last request completes after it) for all of it
    final = {}
    for rid, kv in sub.items():
        if rid in done:
            final[int(kv["pid"])] = max(final.get(int(kv["pid"]), 0), done[rid][0])
    alive = {p: min(end, final.get(p, end)) - first[p] for p in readers}
    rates = [nbytes.get(p, 0) / max(alive[p], 1) for p in readers]
    span_s = (end - t0) / 1e9 / scale
    return {
        "mbps": round(sum(nbytes.values()) / span_s / 1e6, 3),
        "write_mbps": round(wbytes / span_s / 1e6, 3),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))] / 1e6 / scale, 2)
        if lat else None,
        "fairness": round(min(rates) / max(rates), 3) if rates and max(rates) > 0 else None,
        "requests": len(sub), "errors": bad, "model_s": round(span_s, 3),
        "reqs_by_pid": collections.Counter(int(kv["pid"]) for kv in sub.values()),
        "verify": sum(1 for _, k, kv in events if k == "VERIFY" and kv.get("result") == "ok"),
        "verify_bad": sum(1 for _, k, kv in events if k == "VERIFY" and kv.get("result") != "ok"),
        "sub": sub, "roots": roots,
    }


def think_us(events):
    """Median guest think time of the readers (a process's completion to
    its next request), microseconds of real time."""
    sub, done, writers = {}, {}, set()
    for _, kind, kv in events:
        if kind == "DISK":
            sub[int(kv["id"])] = (int(kv["pid"]), int(kv["t"]))
            if kv["op"] != "R":
                writers.add(int(kv["pid"]))
        elif kind == "DISKDONE":
            done[int(kv["id"])] = int(kv["t"])
    prev, out = {}, []
    for rid in sorted(sub):
        pid, t = sub[rid]
        if pid in writers:
            continue
        if pid in prev and prev[pid] in done:
            out.append((t - done[prev[pid]]) / 1e3)
        prev[pid] = rid
    return statistics.median(out) if out else None


OPS = {"R": 0, "W": 1, "F": 2}


def attribution(m, tag_lines, sched):
    """Share of the guest's requests tagged with the address space of the
    process that asked (the oracle: with its pid + 1), and how the tags were
    chosen.  Requests are matched with the tag log by (op, sector, n) in
    order; the disklog dump's writes have no DISK line and match nothing."""
    queue = collections.defaultdict(collections.deque)
    for t in tag_lines:
        queue[(t["op"], t["sector"], t["n"] if t["op"] != 2 else 0)].append(t)
    right = total = unmatched = wrong_ioprio = 0
    how = collections.Counter()
    for rid in sorted(m["sub"], key=int):
        kv = m["sub"][rid]
        op, n = OPS[kv["op"]], int(kv["n"])
        q = queue.get((op, int(kv["sector"]), n if op != 2 else 0))
        if not q:
            unmatched += 1
            continue
        tag = q.popleft()
        pid, t = int(kv["pid"]), int(kv["t"])
        wrong_ioprio += tag["ioprio"] != pid + 1
        how[tag["how"]] += 1
        proc = int(tag["proc"], 16)
        if sched == "oracle":
            ok = proc == pid + 1
        else:
            root = [r for tc, r in m["roots"].get(pid, []) if tc <= t]
            ok = bool(root) and proc & AS_MASK == root[-1]
        right += ok
        total += 1
    return {"attribution_pct": round(100.0 * right / total, 2) if total else None,
            "tag_how": dict(how), "tag_unmatched": unmatched, "tag_ioprio_wrong": wrong_ioprio}


def sched_stats(stats):
    for s in stats:
        if s.get("type") == "scheduler" and isinstance(s.get("stats"), dict):
            return s["stats"]
    return {}


def read_tag_log(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except OSError:
        return []


WORKLOADS = {
    # name: (guest words, extra words)
    "seq-read": "workload=seqread blocks=8192",
    "rand-read": "workload=randread blocks=1000000",
    "writer+readers": "workload=rwmix blocks=8192 jobs=4",
    "seq-read-kworker": "workload=seqread blocks=8192 submit=kworker",
    "rand-read-kworker": "workload=randread blocks=1000000 submit=kworker",
    "shm-seq-read": "workload=seqread blocks=4096",
}


def point(a, env, sched, workload, procs, qname, kdelay=0):
    cpus, queues = QUEUES[qname]
    shm = workload.startswith("shm-")
    hdd = not shm
    scale = env["scale"] if hdd else 1
    runtime_ms = int(a.model_s * 1000 * scale) if hdd else int(a.shm_guest_s * 1000)
    words = WORKLOADS[workload].split() + [f"n={procs}", "think=0", f"tick={a.tick}", "seed=1",
                                           "disklog=disk", f"runtime={runtime_ms}"]
    if kdelay:
        words.append(f"kdelay={kdelay}")
    agent = env.get("agent")
    t_point = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="antfarm-e2e.") as tmp:
        img = None
        if shm:
            fd, img = tempfile.mkstemp(prefix="antfarm-e2e.", dir="/dev/shm")
            os.ftruncate(fd, 256 << 20)
            os.close(fd)
        tag_log = os.path.join(tmp, "tags.jsonl")
        try:
            be = Backend(tmp, sched, queues, hdd=hdd, img=img, scale=scale,
                         hints=agent.hints if agent else None, tag_log=tag_log,
                         hint_wait_us=a.hint_wait_us if agent else None)
            try:
                if agent and not be.wait_agent():
                    raise RuntimeError("the agent did not connect to antfarm-blk's hint socket")
                cpu0 = agent.cpu_ticks() if agent else 0
                rc, log_path = run_guest(tmp, be, cpus, queues, words, runtime_ms / 1000 + 120)
                cpu = (agent.cpu_ticks() - cpu0) / CLK_TCK if agent else None
                stats = read_stats(be.stats)
            finally:
                be.stop()	# flushes the tag log
            events = guestlog.read_log(log_path, be.img)
            tags = read_tag_log(tag_log)
        finally:
            if img:
                os.unlink(img)
    m = guest_metrics(events, runtime_ms * 1000000, scale)
    st = sched_stats(stats)
    hs = next((s for s in stats if s.get("type") == "hints"), {})
    att = attribution(m, tags, sched)
    if sched not in TAGGED or (sched == "anticipatory" and not agent):
        att["attribution_pct"] = None
    log(f"{sched} {workload} n={procs} {qname}: {m['requests']} requests, "
        f"{m['mbps']} MB/s, {time.monotonic() - t_point:.1f} s")
    ok = rc == 0 and m["errors"] == 0 and m["verify_bad"] == 0
    return {
        "scheduler": sched, "workload": workload, "procs": procs, "queues": queues,
        "queue_mode": qname, "vcpus": cpus, "disk_model": "hdd" if hdd else "shm",
        "accel": env["accel"], "hints": bool(agent), "time_scale": scale,
        "mbps": m["mbps"], "write_mbps": m["write_mbps"], "p99_ms": m["p99_ms"],
        "fairness": m["fairness"],
        "attribution_pct": att["attribution_pct"], "tag_how": att["tag_how"],
        "tag_unmatched": att["tag_unmatched"], "tag_ioprio_wrong": att["tag_ioprio_wrong"],
        "requests": m["requests"], "model_s": m["model_s"],
        "think_us": round(think_us(events) or 0, 1),
        "hints_received": hs.get("received"),
        "hints_per_req": round(hs["received"] / m["requests"], 3) if agent and hs else None,
        "agent_cpu_us_per_req": round(cpu * 1e6 / m["requests"], 1) if cpu is not None else None,
        "doorbell_learned": sum(q.get("learnings", 0) for q in hs.get("queues", [])),
        "antic_enabled": st.get("antic_enabled"), "antic": st.get("antic"),
        "hits": st.get("hits"), "misses": st.get("misses"), "coop": st.get("coop"),
        "ok": ok, "wall_s": round(time.monotonic() - t_point, 1), "guest": " ".join(words),
    }


def median_point(rs):
    """The run with the median throughput; p99, fairness and attribution
    the medians of all runs; every run's throughput kept."""
    rs = sorted(rs, key=lambda r: r["mbps"])
    out = dict(rs[len(rs) // 2])
    for k in ("p99_ms", "fairness", "attribution_pct", "hints_per_req", "agent_cpu_us_per_req",
              "think_us"):
        v = [r[k] for r in rs if r[k] is not None]
        out[k] = statistics.median(v) if v else None
    out["mbps_runs"] = [r["mbps"] for r in rs]
    out["ok"] = all(r["ok"] for r in rs)
    return out


def calibrate(a, env):
    """K from the guest's think time here (see the module's text)."""
    with tempfile.TemporaryDirectory(prefix="antfarm-e2e.") as tmp:
        agent = env.get("agent")
        be = Backend(tmp, "fifo", 1, hdd=False, hints=agent.hints if agent else None)
        try:
            if agent and not be.wait_agent():
                raise RuntimeError("the agent did not connect to antfarm-blk's hint socket")
            words = ["workload=seqread", "n=1", "blocks=400", "think=0", f"tick={a.tick}",
                     "disklog=disk"]
            rc, log_path = run_guest(tmp, be, 1, 1, words, 120)
        finally:
            be.stop()
        if rc != 0:
            raise RuntimeError("calibration run failed")
        think = think_us(guestlog.read_log(log_path, be.img))
    scale = max(1, round(think / REAL_THINK_US))
    print(json.dumps({"calibration": {"think_us": round(think, 1), "real_think_us": REAL_THINK_US,
                                      "time_scale": scale, "accel": env["accel"],
                                      "hints": bool(agent)}}), flush=True)
    return scale


def vhu_iops(tmp, img, sched, qd, secs):
    be = Backend(tmp, sched, 1, hdd=False, img=img)
    try:
        out = subprocess.run([VHU, "-s", be.sock, "--json", "bench", "--rw", "randread",
                              "--bs", "4k", "--qd", str(qd), "-t", str(int(secs))],
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
                        "queues": 1, "queue_mode": "shared", "disk_model": "shm",
                        "iops": statistics.median(v), "iops_runs": v,
                        "antic_enabled": last[sched].get("antic_enabled"),
                        "antic": last[sched].get("antic"),
                        "service_mean_us": last[sched].get("service_mean_us"),
                        "hints": False, "client": "vhu-client"}), flush=True)
        finally:
            os.unlink(img)


def plan(a, procs):
    """(workload, procs, queue mode, kdelay, schedulers) in run order."""
    scheds = a.schedulers.split(",")
    out = [("seq-read", n, q, 0, scheds) for q in QUEUES for n in procs]
    out += [("rand-read", 4, q, 0, scheds) for q in QUEUES]
    out += [("writer+readers", 2, q, 0, scheds) for q in QUEUES]
    few = [s for s in scheds if s in ("fifo", "anticipatory", "oracle")]
    out += [("seq-read-kworker", 2, "shared", kd, few) for kd in (0, 2)]
    out += [("rand-read-kworker", 4, "shared", 2, few)]
    out += [("shm-seq-read", 2, "shared", 0, [s for s in scheds if s in ("fifo",
                                                                        "anticipatory")])]
    if a.quick:
        out = [("seq-read", 2, "shared", 0, scheds)]
    if a.only:
        out = [x for x in out if x[0] == a.only]
    return out


def run(a, procs):
    accel = "kvm" if launcher.kvm_usable() else "tcg"
    env = {"accel": accel}
    tmp = tempfile.mkdtemp(prefix="antfarm-e2e-agent.")
    try:
        if accel == "kvm" and not a.no_hints:
            if os.geteuid() != 0:
                raise RuntimeError("live hints need root (antfarm-agent loads BPF); "
                                   "or --no-hints")
            env["agent"] = Agent(tmp)
        env["scale"] = a.time_scale or calibrate(a, env)
        log(f"accel {accel}, hints {'live' if env.get('agent') else 'none'}, "
            f"time scale {env['scale']}")
        for workload, n, q, kdelay, scheds in plan(a, procs):
            runs = {sched: [] for sched in scheds}
            for _ in range(a.repeat):	# interleaved: neighbours on the host drift
                for sched in runs:
                    runs[sched].append(point(a, env, sched, workload, n, q, kdelay))
            for sched, rs in runs.items():
                out = median_point(rs)
                out["kdelay_ms"] = kdelay
                print(json.dumps(out), flush=True)
    finally:
        if env.get("agent"):
            env["agent"].stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if not a.no_shm:
        shm_check(a)


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def cell(d):
    return f"{fmt(d['mbps'], '.2f')} / {fmt(d['p99_ms'], '.0f')} / {fmt(d['fairness'], '.2f')}"


def ratio(a, b):
    return f"{a / b:.2f}" if a and b else "-"


def table(lines):
    """Markdown tables and the targets' ratios from this script's output."""
    pts = [json.loads(l) for l in lines if l.startswith("{")]
    cal = next((p["calibration"] for p in pts if "calibration" in p), None)
    pts = [p for p in pts if "calibration" not in p]
    guest = [d for d in pts if "mbps" in d]
    key = lambda d: (d["workload"], d["queue_mode"], d["procs"], d.get("kdelay_ms", 0))
    by = {key(d) + (d["scheduler"],): d for d in guest}
    scheds = [s for s in SCHEDS if any(k[4] == s for k in by)]
    first = guest[0] if guest else {}
    if cal:
        print(f"Calibration: guest think time {cal['think_us']} us, a Linux guest's "
              f"{cal['real_think_us']} us: time scale K = {cal['time_scale']}\n")
    print(f"MB/s / p99 ms / fairness (model time); accel {first.get('accel')}, hints "
          f"{'live' if first.get('hints') else 'none'}, K = {first.get('time_scale')}\n")
    print("| workload | queues | procs | " + " | ".join(scheds) +
          " | attribution % (anticipatory) |")
    print("|---|---|---|" + "---|" * (len(scheds) + 1))
    order = ["seq-read", "rand-read", "writer+readers", "seq-read-kworker", "rand-read-kworker",
             "shm-seq-read"]
    rows = sorted({k[:4] for k in by}, key=lambda k: (order.index(k[0]), k[1] != "shared",
                                                      k[2], k[3]))
    for w, q, n, kd in rows:
        name = w + (f" (kdelay {kd} ms)" if kd else "")
        att = by.get((w, q, n, kd, "anticipatory"), {}).get("attribution_pct")
        print(f"| {name} | {q} | {n} | " + " | ".join(
            cell(by[(w, q, n, kd, s)]) if (w, q, n, kd, s) in by else "-" for s in scheds) +
            f" | {fmt(att, '.1f')} |")
    print("\nRatios of MB/s\n")
    print("| workload | queues | procs | anticipatory/fifo | anticipatory/oracle | "
          "anticipatory/idle-per-queue | hints/request | agent CPU us/request |")
    print("|---|---|---|---|---|---|---|---|")
    for w, q, n, kd in rows:
        g = {s: by.get((w, q, n, kd, s), {}) for s in SCHEDS}
        an = g["anticipatory"]
        print(f"| {w + (f' (kdelay {kd} ms)' if kd else '')} | {q} | {n} | "
              f"{ratio(an.get('mbps'), g['fifo'].get('mbps'))} | "
              f"{ratio(an.get('mbps'), g['oracle'].get('mbps'))} | "
              f"{ratio(an.get('mbps'), g['idle-per-queue'].get('mbps'))} | "
              f"{fmt(an.get('hints_per_req'), '.3f')} | "
              f"{fmt(an.get('agent_cpu_us_per_req'), '.0f')} |")
    wr = [k for k in rows if k[0] == "writer+readers"]
    if wr:
        print("\nwriter+readers: the writer's share of the MB/s above\n")
        print("| queues | " + " | ".join(scheds) + " |")
        print("|---|" + "---|" * len(scheds))
        for w, q, n, kd in wr:
            print(f"| {q} | " + " | ".join(fmt(by.get((w, q, n, kd, s), {}).get("write_mbps"),
                                              ".2f") for s in scheds) + " |")
    shm = [d for d in pts if d.get("workload") == "shm-randread"]
    if shm:
        print("\n/dev/shm file, no HDD model, vhu-client 4 KiB random reads, median IOPS\n")
        print("| qd | fifo | anticipatory | anticipatory/fifo | anticipation enabled | "
              "runs fifo | runs anticipatory |")
        print("|---|---|---|---|---|---|---|")
        for qd in sorted({d["qd"] for d in shm}):
            f = next(d for d in shm if d["qd"] == qd and d["scheduler"] == "fifo")
            an = next(d for d in shm if d["qd"] == qd and d["scheduler"] == "anticipatory")
            print(f"| {qd} | {f['iops']} | {an['iops']} | {ratio(an['iops'], f['iops'])} | "
                  f"{an['antic_enabled']} (waits: {an['antic']}) | {f['iops_runs']} | "
                  f"{an['iops_runs']} |")


def main():
    if sys.argv[1:] == ["--table"]:
        return table(sys.stdin.readlines())
    p = argparse.ArgumentParser(usage=argparse.SUPPRESS, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="seq-read, 2 readers, shared queue")
    p.add_argument("--model-s", type=float, default=0.5, help="model seconds per run")
    p.add_argument("--shm-guest-s", type=float, default=4, help="seconds per shm-seq-read run")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--time-scale", type=int, default=0, help="K (default: calibrated)")
    p.add_argument("--tick", type=int, default=1)
    p.add_argument("--hint-wait-us", type=int, default=5000)
    p.add_argument("--only")
    p.add_argument("--procs", default="1,2,4,8")
    p.add_argument("--schedulers", default=",".join(SCHEDS))
    p.add_argument("--no-hints", action="store_true", help="no agent even where KVM works")
    p.add_argument("--no-shm", action="store_true")
    p.add_argument("--shm-seconds", type=int, default=2)
    p.add_argument("--shm-repeat", type=int, default=5)
    a = p.parse_args()
    # private copies: other builds relinking build/ mid-run must not change
    # (or briefly remove) the binaries under test
    global BLK, VHU, AGENT
    bins = tempfile.mkdtemp(prefix="antfarm-e2e-bin.")
    try:
        BLK = shutil.copy(BLK, bins)
        VHU = shutil.copy(VHU, bins)
        if os.path.exists(AGENT):
            AGENT = shutil.copy(AGENT, bins)
        return run(a, [int(x) for x in a.procs.split(",")])
    finally:
        shutil.rmtree(bins, ignore_errors=True)


if __name__ == "__main__":
    # SIGTERM (make, a timeout) unwinds like ^C: backends, guests, the agent stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
