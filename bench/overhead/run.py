#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""run.py: what antfarm-agent costs the guests it watches.

usage: bench/overhead/run.py [--quick] [--repeat N] [--only REGEX] [--configs a,b]

Each workload runs under each configuration, the configurations interleaved
in every round (this 2-core host is shared: its speed drifts), --repeat
rounds.  The time is the guest's own: asvmm's wall_ns (vCPU start to end),
the test guest's SUMMARY t minus its BOOT t (TSC, i.e. host time): neither
QEMU's start-up nor the agent's is in it.  One JSON line per workload and
configuration: median, min, max, every run, and the slowdown of the median
against "none" and against "floor".

Configurations:
  none        no BPF program attached
  floor       empty programs on every tracepoint the agent attaches here
              (bench/overhead/floor): the cost of enabling them at all
  full        antfarm-agent, one subscriber reading create/exit/switch
  lifecycle   antfarm-agent --fidelity lifecycle, the same subscriber
  emulate     only af_emulate attached (kvm_emulate_insn)
  mmu         only the shadow-root programs (get, zap, zap-all)
  rest        the others (page fault, process exit, MMIO, PIO)
Workloads:
  switch-micro  asvmm: 60 processes switching among 6 live roots, all ring 0
  churn         test guest: workload=churn n=40
  forkexec      test guest: workload=forkexec n=20
  user          test guest: workload=threads n=4 iters=300000000 (mostly ring 3)
  io            test guest: workload=seqread n=2 blocks=64 on antfarm-blk (/dev/shm)

Where KVM does not work it says so and exits 0.
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import qemu as launcher  # noqa: E402

BUILD = os.environ.get("ANTFARM_BUILD", "build")
AGENT = os.path.join(BUILD, "antfarm-agent")
BLK = os.path.join(BUILD, "antfarm-blk")
FLOOR = os.path.join(BUILD, "bench", "overhead", "floor")
ASVMM = os.path.join(BUILD, "tests", "kvm", "asvmm")
RUN_GUEST = os.path.join(HERE, "..", "..", "tests", "guest", "run-guest")

TRACEPOINTS = ["kvm_emulate_insn", "kvm_mmu_get_page", "kvm_mmu_prepare_zap_page",
               "kvm_mmu_zap_all_fast", "kvm_page_fault",
               "sched_process_exit", "kvm_mmio", "kvm_fast_mmio", "kvm_pio"]
CONFIGS = {
    "none": None,
    "floor": ("floor", TRACEPOINTS),
    "full": ("agent", []),
    "lifecycle": ("agent", ["--fidelity", "lifecycle"]),
    "emulate": ("agent", ["--programs", "af_emulate"]),
    "mmu": ("agent", ["--programs", "af_mmu_get,af_mmu_zap,af_zap_all_fast"]),
    "rest": ("agent", ["--programs", "af_pfault,af_pexit,af_mmio,af_fast_mmio,af_pio"]),
}
WORKLOADS = {
    "switch-micro": ("asvmm", ["--scenario", "switch-micro"]),
    "churn": ("guest", ["workload=churn", "n=40"]),
    "forkexec": ("guest", ["workload=forkexec", "n=20"]),
    "user": ("guest", ["workload=threads", "n=4", "iters=300000000"]),
    "io": ("io", ["workload=seqread", "n=2", "blocks=64", "think=0"]),
}


class Attached:
    """One configuration's BPF side, running while the workload runs."""

    def __init__(self, name, tmp):
        self.procs, self.sub = [], None
        cfg = CONFIGS[name]
        if cfg is None:
            return
        kind, args = cfg
        if kind == "floor":
            p = subprocess.Popen([FLOOR] + args, stdout=subprocess.PIPE, text=True)
            self.procs.append(p)
            if not p.stdout.readline().startswith("attached"):
                raise RuntimeError("floor did not attach")
            return
        sock = os.path.join(tmp, "agent.sock")
        p = subprocess.Popen([AGENT, "-d", "--socket", sock] + args,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.procs.append(p)
        end = time.monotonic() + 20
        while not os.path.exists(sock):
            if p.poll() is not None or time.monotonic() > end:
                raise RuntimeError("antfarm-agent did not start: " + p.stderr.read()[-800:])
            time.sleep(0.05)
        # a subscriber that reads everything, as a user's would
        self.sub = subprocess.Popen(["sh", "-c", f"exec {BUILD}/antfarm --socket {sock} "
                                     "watch --events create,exit,switch --json >/dev/null"])

    def stop(self):
        for p in ([self.sub] if self.sub else []) + self.procs:
            p.send_signal(signal.SIGTERM)
        for p in ([self.sub] if self.sub else []) + self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def guest_seconds(log):
    boot = end = None
    for line in open(log):
        _, _, l = line.rstrip("\n").partition("\t")
        m = re.search(r"\bt=(\d+)", l)
        if l.startswith("AF BOOT") and m:
            boot = int(m.group(1))
        elif l.startswith("AF SUMMARY") and m:
            end = int(m.group(1))
    if boot is None or end is None:
        raise RuntimeError(f"no BOOT/SUMMARY in {log}")
    return (end - boot) / 1e9


def run_workload(name, tmp):
    kind, args = WORKLOADS[name]
    if kind == "asvmm":
        truth = os.path.join(tmp, "truth.jsonl")
        subprocess.run([ASVMM, "--truth", truth] + args, check=True, stdout=subprocess.DEVNULL)
        for line in open(truth):
            o = json.loads(line)
            if "summary" in o:
                return o["wall_ns"] / 1e9
        raise RuntimeError("asvmm wrote no summary")
    log = os.path.join(tmp, "guest.log")
    cmd = [RUN_GUEST, "--quiet", "--timeout", "300", "--log", log]
    blk = None
    if kind == "io":
        img, sock = os.path.join("/dev/shm", f"antfarm-ovh-{os.getpid()}.img"), \
            os.path.join(tmp, "blk.sock")
        with open(img, "wb") as f:
            f.truncate(64 << 20)
        blk = subprocess.Popen([BLK, "--socket", sock, "--disk", img],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not os.path.exists(sock):
            time.sleep(0.02)
        cmd += ["--disk", "sock:" + sock]
    try:
        p = subprocess.run(cmd + ["--"] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError(f"{name}: run-guest {p.returncode}: {p.stderr[-600:]}")
        return guest_seconds(log)
    finally:
        if blk:
            blk.terminate()
            blk.wait()
            os.unlink(img)


def main():
    ap = argparse.ArgumentParser(prog="run.py")
    ap.add_argument("--quick", action="store_true", help="2 rounds, churn and user only")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default=".")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    a = ap.parse_args()
    why = launcher.kvm_problem()
    if why or os.geteuid() != 0:
        print(json.dumps({"bench": "overhead", "skipped": why or "needs root (BPF)"}))
        return 0
    configs = a.configs.split(",")
    workloads = [w for w in WORKLOADS if re.search(a.only, w)]
    if a.quick:
        a.repeat = 2
        workloads = [w for w in workloads if w in ("churn", "user")]
    host = {"host": "kvm_pvm" if os.path.exists("/sys/module/kvm_pvm") else "kvm",
            "kernel": os.uname().release, "cpus": os.cpu_count()}
    tmp = tempfile.mkdtemp(prefix="antfarm-ovh.")
    try:
        for w in workloads:
            runs = {c: [] for c in configs}
            for _ in range(a.repeat):
                for c in configs:
                    att = Attached(c, tmp)
                    try:
                        runs[c].append(run_workload(w, tmp))
                    finally:
                        att.stop()
            base = statistics.median(runs["none"]) if "none" in runs else None
            floor = statistics.median(runs["floor"]) if "floor" in runs else None
            for c in configs:
                med = statistics.median(runs[c])
                print(json.dumps(dict(
                    bench="overhead", workload=w, config=c, median_s=round(med, 4),
                    min_s=round(min(runs[c]), 4), max_s=round(max(runs[c]), 4),
                    runs=[round(x, 4) for x in runs[c]],
                    slowdown_pct=round(100 * (med / base - 1), 1) if base else None,
                    vs_floor=round(med / floor, 3) if floor else None, **host)), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    sys.exit(main())
