#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""antfarm top against the real agent, fed through its replay program:
as periodic text when standard output is not a terminal, and full-screen
under tmux (a private tmux server): the rows, switches per second of a
process that is switching, an exit shown as it happens, the sort keys, and
q restoring the terminal and exiting 0.  Where KVM works, also live: the
real agent attached to the tracepoints while asvmm (tests/kvm) switches
among its processes, and top shows that VM by name with its switch rate."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "agent"))
from agentlib import ASVMM, Agent, CLI, asvmm_problem, check, preflight, report, skip  # noqa: E402

K1, K2 = "0xffff888071000000", "0xffff888072000000"
VM1, VM2 = 7101, 7102


def cr3(key, vm, vcpu, root):
    return "cr3:%s:%d:%d:%#x:2" % (key, vm, vcpu, root)


def text_mode(agent):
    r = subprocess.run([CLI, "--socket", agent.sock, "top", "-n", "2", "--interval", "300"],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "top -n 2 exits 0", r.stderr)
    out = r.stdout
    check(out.count("antfarm top - ") == 2, "two tables", out)
    check("\033" not in out, "no escape sequences when not a terminal", repr(out[:200]))
    rows = [l.split() for l in out.splitlines() if l.startswith(str(VM1))]
    check(len(rows) == 4 and {r[2] for r in rows} == {"0x10000", "0x20000"},
          "text rows of VM %d" % VM1, out)
    # the second table has rates: a number, not "-"
    last = [l.split() for l in out.split("antfarm top - ")[-1].splitlines()
            if l.startswith(str(VM1))]
    check(all(re.fullmatch(r"[0-9.]+", r[5]) for r in last), "rates in the second table", out)
    r = subprocess.run([CLI, "--socket", agent.sock, "top", "--sort", "nope"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode != 0 and "--sort" in r.stderr, "bad --sort refused", r.stderr)


class Tmux:
    def __init__(self, d):
        self.base = ["tmux", "-S", os.path.join(d, "tmux.sock")]

    def __call__(self, *args, check_rc=True):
        r = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=20)
        if check_rc and r.returncode:
            raise RuntimeError("tmux %s: %s" % (" ".join(args), r.stderr))
        return r

    def screen(self):
        return self("capture-pane", "-p", "-t", "top").stdout

    def wait_for(self, pred, secs=20):
        """Capture the pane until pred(screen) holds (bounded)."""
        end = time.time() + secs
        while True:
            s = self.screen()
            if pred(s) or time.time() > end:
                return s
            time.sleep(0.2)


def rows_of(screen):
    """{(vm, as): (state, cpu%, sw/s)} from a captured screen (columns
    VM NAME AS GEN STATE CPU% SW/S ...)."""
    out = {}
    for l in screen.splitlines():
        f = l.split()
        if len(f) >= 7 and f[0].isdigit():
            out[(int(f[0]), f[2])] = (f[4], f[5], f[6])
    return out


def switching(agent, stop):
    """Keep VM1's vCPU 0 switching between its two processes."""
    while not stop.is_set():
        agent.inject(cr3(K1, VM1, 0, 0x10000), cr3(K1, VM1, 0, 0x20000))
        time.sleep(0.05)


def screen_mode(agent, d):
    t = Tmux(d)
    t("new-session", "-d", "-s", "top", "-x", "120", "-y", "30",
      "%s --socket %s top --interval 500; echo top exited $?; sleep 60" % (CLI, agent.sock))
    stop = threading.Event()
    th = threading.Thread(target=switching, args=(agent, stop))
    th.start()
    try:
        def busy(s):
            r = rows_of(s).get((VM1, "0x10000"))
            return r and re.fullmatch(r"[0-9.]+", r[2]) and float(r[2]) > 0
        s = t.wait_for(busy)
        check(busy(s), "switches/s of a switching process", s)
        check(s.startswith("antfarm top - ") and "sort: cpu" in s, "header", s)
        check((VM2, "0x30000") in rows_of(s), "the other VM's process", s)
        t("send-keys", "-t", "top", "s")
        s = t.wait_for(lambda s: "sort: switches" in s)
        # other VMs on this host may switch more: check the order itself,
        # and that the switching VM1 comes before the idle VM2
        rates = [float(f[6]) for l in s.splitlines() for f in [l.split()]
                 if len(f) >= 7 and f[0].isdigit() and re.fullmatch(r"[0-9.]+", f[6])]
        vms = [int(l.split()[0]) for l in s.splitlines() if l[:1].isdigit()]
        check("sort: switches" in s and rates == sorted(rates, reverse=True) and
              VM1 in vms and VM2 in vms and vms.index(VM1) < vms.index(VM2),
              "s sorts by switches/s", s)
        t("send-keys", "-t", "top", "f")
        s = t.wait_for(lambda s: "sort: first-seen" in s)
        check("sort: first-seen" in s, "f sorts by first seen", s)
    finally:
        stop.set()
        th.join()
    # an exit shows up in the next refresh (the root is torn down once
    # its vCPU has moved on to another)
    agent.inject(cr3(K2, VM2, 0, 0x40000), "zap:%s:%d:0:0x30:0:4" % (K2, VM2))
    s = t.wait_for(lambda s: rows_of(s).get((VM2, "0x30000"), ("",))[0].startswith("exited"))
    check(rows_of(s).get((VM2, "0x30000"), ("",))[0] == "exited(zap)", "exit shown", s)
    t("send-keys", "-t", "top", "q")
    s = t.wait_for(lambda s: "top exited" in s)
    check("top exited 0" in s, "q exits 0", s)
    # back on the normal screen: the view is gone with the alternate screen
    check("antfarm top - " not in s, "alternate screen left", s)
    t("kill-server", check_rc=False)


def live_mode(d):
    """top over a live KVM guest: asvmm switching among 3 processes."""
    why = asvmm_problem()
    if why:
        print("note: live part skipped: " + why)
        return
    agent = Agent(attach=True)
    t = Tmux(d)
    vm = None
    try:
        vm = subprocess.Popen([ASVMM, "--scenario", "switch", "--live", "3", "--rounds", "3000",
                               "--truth", "/dev/null"], stdout=subprocess.DEVNULL)
        t("new-session", "-d", "-s", "top", "-x", "120", "-y", "30",
          "%s --socket %s top --interval 500; echo top exited $?; sleep 60" % (CLI, agent.sock))

        def ours(s):	# (name, sw/s) of the rows of asvmm's VM
            return [(f[1], f[6]) for l in s.splitlines() for f in [l.split()]
                    if len(f) >= 7 and f[0] == str(vm.pid)]

        def live(s):
            return any(n == "asvmm" and re.fullmatch(r"[0-9.]+", r) and float(r) > 0
                       for n, r in ours(s))
        s = t.wait_for(live, secs=30)
        check(live(s), "live: the guest's VM by name, switching", s)
        check(vm.poll() is None, "live: the guest was still running when top showed it")
        t("send-keys", "-t", "top", "q")
        s = t.wait_for(lambda s: "top exited" in s)
        check("top exited 0" in s, "live: q exits 0", s)
    finally:
        if vm and vm.poll() is None:
            vm.terminate()
            vm.wait()
        t("kill-server", check_rc=False)
        agent.cleanup()


def main():
    preflight()
    if not shutil.which("tmux"):
        skip("skip: tmux missing (apt-get install tmux)")
    d = tempfile.mkdtemp(prefix="antfarm-top.")
    agent = Agent()
    try:
        agent.inject(cr3(K1, VM1, 0, 0x10000), cr3(K1, VM1, 0, 0x20000),
                     cr3(K2, VM2, 0, 0x30000))
        text_mode(agent)
        screen_mode(agent, d)
    finally:
        agent.cleanup()
    try:
        live_mode(d)
    finally:
        subprocess.run(["tmux", "-S", os.path.join(d, "tmux.sock"), "kill-server"],
                       capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
    return report("antfarm top: text and full-screen views of live agent data")


if __name__ == "__main__":
    sys.exit(main())
