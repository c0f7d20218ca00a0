#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""live.py: BPF cost per invocation under a running guest (bpf_stats).

usage: bench/bpf/live.py [--repeat N]

Starts antfarm-agent --bpf-stats, runs a workload per round (asvmm's
switch-micro: all guest code in ring 0, so kvm_emulate_insn fires for every
instruction; the test guest's churn: fork/exit with root teardown), reads
the agent's metrics and prints per program: invocations, mean ns per
invocation (run_time_ns / run_cnt), and for af_emulate the share of
invocations that took the slow path (a CR3 change: the switch path), from
the switch counter.  Where KVM does not work it says so and exits 0.
"""
import argparse, json, os, re, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
import qemu as launcher  # noqa: E402

BUILD = os.environ.get("ANTFARM_BUILD", "build")


def metrics(sock):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b'{"cmd":"metrics"}\n')
    b = b""
    while b"# EOF" not in b:
        c = s.recv(1 << 16)
        if not c:
            break
        b += c
    out = {}
    for l in b.decode().splitlines():
        m = re.match(r'(\w+)\{(\w+)="([^"]*)"\} ([0-9.]+)$', l)
        if m:
            out[(m.group(1), m.group(3))] = float(m.group(4))
    return out


def workload(name, tmp):
    if name == "switch-micro":
        subprocess.run([os.path.join(BUILD, "tests/kvm/asvmm"), "--scenario", "switch-micro",
                        "--truth", "/dev/null"], check=True, stdout=subprocess.DEVNULL)
    else:
        subprocess.run([os.path.join(HERE, "..", "..", "tests/guest/run-guest"), "--quiet", "--",
                        "workload=churn", "n=40"], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def main():
    ap = argparse.ArgumentParser(prog="live.py")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    why = launcher.kvm_problem()
    if why or os.geteuid() != 0:
        print(json.dumps({"bench": "bpf-live", "skipped": why or "needs root"}))
        return 0
    tmp = tempfile.mkdtemp(prefix="antfarm-bpf-live.")
    for name in ("switch-micro", "churn"):
        for _ in range(a.repeat):
            sock = os.path.join(tmp, "agent.sock")
            ag = subprocess.Popen([os.path.join(BUILD, "antfarm-agent"), "-d", "--bpf-stats",
                                   "--socket", sock], stderr=subprocess.DEVNULL)
            while not os.path.exists(sock):
                time.sleep(0.05)
            workload(name, tmp)
            m = metrics(sock)
            ag.terminate()
            ag.wait()
            os.unlink(sock) if os.path.exists(sock) else None
            progs = {}
            for (k, prog), v in m.items():
                if k == "antfarm_bpf_run_count_total" and v:
                    ns = m.get(("antfarm_bpf_run_time_seconds_total", prog), 0) * 1e9
                    progs[prog] = {"runs": int(v), "ns_per_run": round(ns / v, 1)}
            emu = progs.get("af_emulate", {}).get("runs", 0)
            sw = m.get(("antfarm_bpf_events_total", "switch"), 0)
            print(json.dumps({"bench": "bpf-live", "workload": name, "programs": progs,
                              "emulate_switch_share": round(sw / emu, 5) if emu else None,
                              "host": "kvm_pvm" if os.path.exists("/sys/module/kvm_pvm")
                              else "kvm"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
