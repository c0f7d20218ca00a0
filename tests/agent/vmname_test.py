#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""VM names, from real QEMU processes: "-name guest=NAME,...", "-name NAME"
(commas doubled), a libvirt status file naming the pid, else the VMM's
comm.  The agent is fed through its replay program with each QEMU's pid;
the names must appear in vms, ps, events (vm_name), metric labels and the
CLI, where --vm takes a name.  Hostile characters in a name are escaped.
Where KVM works, the test guest under KVM with -name gives live events
carrying the name."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from agentlib import Agent, Sub, check, preflight, report, skip  # noqa: E402

TOP = os.path.dirname(os.path.dirname(HERE))
QEMU = "qemu-system-x86_64"
# (-name argument or None, the name the agent must report)
CASES = [
    ("guest=antfarm-web,debug-threads=on", "antfarm-web"),
    ("antfarm-db,,blue,process=qemu-db", "antfarm-db,blue"),
    ('guest=evil"\\name\x01x', 'evil"\\namex'),
    (None, "antfarm-libvirt-dom"),        # named by a libvirt status file
    (None, "qemu-system-x86"),            # the comm
]


def start_qemu(name_arg):
    """A real, paused QEMU process: a VMM pid with a command line."""
    cmd = [QEMU, "-M", "microvm", "-accel", "tcg", "-nodefaults", "-nographic", "-S",
           "-monitor", "none", "-serial", "none"]
    if name_arg is not None:
        cmd += ["-name", name_arg]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def metric_lines(agent, pid):
    return [l for l in agent.metrics() if 'vm="%d"' % pid in l]


def replayed(agent, libvirt_dir):
    procs = [start_qemu(a) for a, _ in CASES]
    try:
        time.sleep(0.5)         # each has exec'd: its cmdline is QEMU's
        for p in procs:
            check(p.poll() is None, "qemu %d runs" % p.pid)
        with open(os.path.join(libvirt_dir, "antfarm-libvirt-dom.xml"), "w") as f:
            f.write("<domstatus state='running' reason='booted' pid='%d'>\n"
                    "  <monitor path='/x' type='unix'/>\n<domain type='kvm'>"
                    "<name>antfarm-libvirt-dom</name></domain></domstatus>\n" % procs[3].pid)
        with open(os.path.join(libvirt_dir, "other.xml"), "w") as f:
            f.write("<domstatus state='running' pid='1'>\n</domstatus>\n")
        subs = [Sub(agent, events=["create", "vm-new"], vm=p.pid) for p in procs]
        for i, p in enumerate(procs):
            agent.inject("cr3:%#x:%d:0:0x10000:2" % (0x7100000 + i * 0x100000, p.pid))
        for (arg, want), p, s in zip(CASES, procs, subs):
            evs = s.collect(2)
            check([e.get("vm_name") for e in evs] == [want, want],
                  "events carry vm_name %r" % want, evs)
            s.close()
        vms = {v["vm"]: v for v in agent.cmd("vms") if "end" not in v}
        ps = [r for r in agent.cmd("ps") if "end" not in r]
        for (arg, want), p in zip(CASES, procs):
            check(vms.get(p.pid, {}).get("name") == want, "vms name %r" % want, vms.get(p.pid))
            rows = [r for r in ps if r["vm"] == p.pid]
            check(rows and all(r.get("vm_name") == want for r in rows), "ps vm_name %r" % want,
                  rows)
        # metric labels, escaped as the exposition format wants
        lab = metric_lines(agent, procs[0].pid)
        check(any('vm_name="antfarm-web"' in l for l in lab), "metric label", lab)
        lab = metric_lines(agent, procs[2].pid)
        check(any('vm_name="evil\\"\\\\namex"' in l for l in lab), "metric label escaped", lab)
        # the CLI: a NAME column, and --vm NAME
        r = agent.cli("vms")
        check(r.returncode == 0 and " NAME " in r.stdout.splitlines()[0] and
              "antfarm-web" in r.stdout, "antfarm vms shows names", r.stdout)
        r = agent.cli("ps", "--vm", "antfarm-db,blue", "--json")
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        check(r.returncode == 0 and rows and {x["vm"] for x in rows} == {procs[1].pid},
              "ps --vm NAME", r.stdout + r.stderr)
        r = agent.cli("ps", "--vm", "no-such-vm")
        check(r.returncode == 1 and "no VM named 'no-such-vm'" in r.stderr, "--vm unknown name",
              r.stderr)
        r = agent.cli("ps", "--vm", "qemu-system-x86")
        several = sum(1 for v in vms.values() if v.get("name") == "qemu-system-x86") > 1
        check(r.returncode == (1 if several else 0), "--vm with a shared name", r.stderr)
        r = agent.cli("ps")
        check(r.returncode == 0 and "\x01" not in r.stdout and "antfarm-web" in r.stdout,
              "antfarm ps shows names, no control characters", r.stdout)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def live(agent):
    """The test guest under KVM, named: its live create events carry the name."""
    sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
    import qemu as qemulib
    why = qemulib.kvm_problem()
    if why:
        print("note: live part skipped: " + why)
        return
    s = Sub(agent, events=["create"])
    r = subprocess.run([os.path.join(TOP, "tests", "guest", "run-guest"), "--accel", "kvm",
                        "--name", "antfarm-live-vm", "--quiet", "--timeout", "120", "--",
                        "workload=forkexec", "n=3"], capture_output=True, text=True, timeout=200)
    check(r.returncode == 0, "test guest under KVM", r.stderr[-2000:])
    pid = None
    for l in r.stderr.splitlines():
        if "qemu_pid=" in l:
            pid = int(l.split("qemu_pid=")[1].split()[0])
    evs = [e for e in s.drain(1.0) if e.get("vm") == pid]
    check(evs and all(e.get("vm_name") == "antfarm-live-vm" for e in evs),
          "live events of the named guest carry its name", evs[:3])
    s.close()


def main():
    preflight()
    if not shutil.which(QEMU):
        skip("skip: %s missing" % QEMU)
    d = tempfile.mkdtemp(prefix="antfarm-vmname.")
    os.environ["ANTFARM_LIBVIRT_DIR"] = d
    agent = Agent(attach=True)	# the live part: a real guest
    try:
        replayed(agent, d)
        live(agent)
    finally:
        agent.cleanup()
        shutil.rmtree(d, ignore_errors=True)
    return report("VM names from QEMU -name, libvirt and comm in every output")


if __name__ == "__main__":
    sys.exit(main())
