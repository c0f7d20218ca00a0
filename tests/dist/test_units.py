#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The systemd units in dist/systemd: `systemd-analyze verify` finds nothing
to say about them, and their ExecStart= lines, run as systemd would run them
(environment file, specifiers, runtime directory, umask, capability bounding
set, no new privileges; private paths), give a working service: the agent
loads its BPF programs with only the capabilities the unit leaves it, serves
its socket with mode 0660 and sees a replayed process; antfarm-blk@vm1 reads
/etc/antfarm/blk/vm1.conf, serves its three sockets with no capability at
all, and receives the agent's hints for the VM it serves."""

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "agent"))
import unitlib                                       # noqa: E402
from agentlib import (AGENT, CLI, INJECT, BUILD, check, report, skip,  # noqa: E402
                      unix_json_lines)

SBIN = os.path.abspath(BUILD)
VHU = os.path.join(BUILD, "tests", "vhu-client")
UNITS = ("antfarm-agent.service", "antfarm-blk@.service")


def verify(tmp):
    """systemd-analyze verify: exit 0 and not one line about our units.
    The man pages named in Documentation= are looked up in the build."""
    if not shutil.which("systemd-analyze"):
        print("note: systemd-analyze missing: units not verified")
        return
    paths = []
    for u in UNITS:
        name = u.replace("@.", "@vm1.")      # a template is verified as an instance
        p = os.path.join(tmp, name)
        with open(p, "w") as f:
            f.write(unitlib.render(u, SBIN))
        paths.append(p)
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="info")
    man = os.path.join(SBIN, "man")
    if os.path.isdir(man):
        env["MANPATH"] = man
        args = []
    else:
        args = ["--man=no"]
    r = subprocess.run(["systemd-analyze", "verify"] + args + paths, env=env,
                       capture_output=True, text=True, timeout=120)
    ours = [l for l in (r.stdout + r.stderr).splitlines()
            if any(os.path.basename(p).split(".")[0] in l for p in paths)]
    check(r.returncode == 0 and not ours, "systemd-analyze verify",
          "rc %d: %s" % (r.returncode, "\n".join(ours) or r.stderr))
    # and it does catch a broken unit (so that silence above means something)
    bad = os.path.join(tmp, "antfarm-broken.service")
    with open(bad, "w") as f:
        f.write(unitlib.render(UNITS[0], SBIN).replace("UMask=", "UMaks="))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", bad], env=env,
                       capture_output=True, text=True, timeout=120)
    check("UMaks" in r.stderr, "verify reports an unknown key", r.stderr)


def wait_sock(path, svc, secs=20):
    end = time.time() + secs
    while time.time() < end:
        if os.path.exists(path):
            return True
        if svc.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def hints_of(path):
    return [o for o in unix_json_lines(path) if o.get("type") == "hints"][0]


def services(tmp):
    run = os.path.join(tmp, "run")
    etc = os.path.join(tmp, "etc", "antfarm")
    os.makedirs(os.path.join(etc, "blk"))
    os.makedirs(run)
    disk = os.path.join(tmp, "vm1.img")
    with open(disk, "wb") as f:
        f.truncate(16 << 20)
    with open(os.path.join(etc, "blk", "vm1.conf"), "w") as f:
        f.write("# test disk\nDISK=%s\nOPTIONS=--num-queues 2 --queue-size 256\n" % disk)
    bdir = os.path.join(run, "antfarm", "blk", "vm1")
    with open(os.path.join(etc, "agent.conf"), "w") as f:
        f.write('OPTIONS="--blk-hints %s --idle-timeout 60"\n' % os.path.join(bdir, "hints.sock"))
    log = open(os.path.join(tmp, "services.log"), "w")

    blk = unitlib.Service(unitlib.render(UNITS[1], SBIN, etc), run, "vm1", log)
    agent = None
    try:
        ok = wait_sock(os.path.join(bdir, "stats.sock"), blk)
        check(ok, "antfarm-blk@vm1 started", open(log.name).read())
        if not ok:
            return
        for s in ("disk.sock", "stats.sock", "hints.sock"):
            check(os.path.exists(os.path.join(bdir, s)), "blk socket " + s)
        check(stat.S_IMODE(os.stat(bdir).st_mode) == 0o750, "blk runtime directory mode")
        dev = unix_json_lines(os.path.join(bdir, "stats.sock"))[0]
        check(dev.get("disk") == disk and dev.get("queues") == 2, "blk read vm1.conf", dev)
        check(blk.cap_eff() == 0, "blk has no capability", hex(blk.cap_eff() or 0))

        agent = unitlib.Service(unitlib.render(UNITS[0], SBIN, etc), run, "", log)
        sock = os.path.join(run, "antfarm", "agent.sock")
        ok = wait_sock(sock, agent)
        check(ok, "antfarm-agent started", open(log.name).read())
        if not ok:
            return
        want = unitlib.cap_mask(agent.caps)
        check(agent.cap_eff() == want, "agent capabilities are the unit's",
              "%x, want %x" % (agent.cap_eff() or 0, want))
        check(stat.S_IMODE(os.stat(sock).st_mode) == 0o660, "agent socket mode 0660",
              oct(os.stat(sock).st_mode))
        # a replayed process through the BPF programs loaded under that set
        r = subprocess.run([INJECT, "--pid", str(agent.pid), "cr3:0x7700000:6061:0:0x10000:2"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "af-inject", r.stderr)
        r = subprocess.run([CLI, "--socket", sock, "ps", "--json"], capture_output=True,
                           text=True, timeout=20)
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        check(any(p.get("vm") == 6061 and p.get("as") == "0x10000" for p in rows),
              "agent sees the replayed process", r.stdout + r.stderr)
        # the hint for a create reached antfarm-blk@vm1: a backend gets the
        # hints of the VM it serves, so a front-end (vhu-client) connects
        # and the observations name its pid as the VM's; the agent connects
        # on its own (give it its reconnect tick) and is told that pid
        fe = subprocess.Popen([VHU, "--socket", os.path.join(bdir, "disk.sock"), "bench",
                               "--rw", "randread", "--bs", "4k", "--qd", "1", "-t", "20"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            end, i, h = time.time() + 15, 0, {}
            while time.time() < end:
                i += 1
                subprocess.run([INJECT, "--pid", str(agent.pid),
                                "cr3:0x7800000:%d:0:0x%x:2" % (fe.pid, 0x10000 + i * 0x1000)],
                               capture_output=True, timeout=60)
                time.sleep(0.2)
                h = hints_of(os.path.join(bdir, "stats.sock"))
                if h.get("create", 0) >= 1:
                    break
        finally:
            fe.terminate()
            fe.wait()
        check(h.get("connections") == 1 and h.get("create", 0) >= 1 and
              h.get("other_vm") == 0, "hints agent -> blk", h)
    finally:
        rc_a = agent.stop() if agent else 0
        rc_b = blk.stop()
        check(rc_a == 0, "agent stops on SIGTERM with 0", rc_a)
        check(rc_b in (0, -15), "blk stops on SIGTERM", rc_b)
        log.close()


def main():
    if os.geteuid() != 0:
        skip("skip: needs root (the agent loads BPF programs)")
    for f in (AGENT, CLI, INJECT, VHU, os.path.join(BUILD, "antfarm-blk")):
        if not os.path.exists(f):
            skip("skip: %s not built" % f)
    if not shutil.which("setpriv"):
        skip("skip: setpriv missing (util-linux)")
    tmp = tempfile.mkdtemp(prefix="antfarm-units.")
    try:
        verify(tmp)
        services(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return report("units verified; agent and antfarm-blk@vm1 ran as their units say")


if __name__ == "__main__":
    sys.exit(main())
