#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""hintcost.py: what the hint channel and the guest's disk path cost, live.

usage: hintcost.py channel|think|attach [--old BUILD] [--repeat N]

Runs the test guest (KVM) on antfarm-blk with antfarm-agent, one run per
case per round, cases interleaved, and prints one JSON line per case with
the medians: hints antfarm-blk received per disk request, the agent's
utime + stime per request (/proc, 10 ms ticks), the guest's think time.
  channel  seqread n=4 blocks=512: --old BUILD (agent, antfarm-blk and
           guest built from an older checkout) against this build, with the
           guest's disk lines on the console (disklog=live) and on the disk
  think    seqread n=1 blocks=300, the agent without hints: --old BUILD's
           guest against this one's, disklog=live and disklog=disk
  attach   the same: notify programs detached (nobody wants notify),
           attached with this VM filtered out (a backend serving another
           VM), every write a record (a notify subscriber)
"""
import argparse, json, os, socket, statistics, struct, subprocess, sys, tempfile, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "lib"))
sys.path.insert(0, HERE)
import guestlog, e2e  # noqa: E402

NEW = os.environ.get("ANTFARM_BUILD", "build")
OLD = None
RUN_GUEST = os.path.join(HERE, "..", "..", "tests", "guest", "run-guest")


def agent_start(b, tmp, hints=True):
    sock = os.path.join(tmp, "agent.sock")
    cmd = [f"{b}/antfarm-agent", "-d", "--socket", sock]
    if hints:
        cmd += ["--blk-hints", os.path.join(tmp, "hints.sock")]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "agent.err"), "w"))
    e2e.wait_path(sock, p, 30)
    return p, sock


def ticks(pid):
    w = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(w[11]) + int(w[12])


def one(b_agent, b_blk, elf, words, sched="anticipatory", hints=True, mode=None):
    with tempfile.TemporaryDirectory(prefix="antfarm-meas.") as tmp:
        ap, asock = agent_start(b_agent, tmp, hints and mode != "nohints")
        img = os.path.join(tmp, "disk.img")
        open(img, "wb").truncate(256 << 20)
        vs, ss = os.path.join(tmp, "vhost.sock"), os.path.join(tmp, "stats.sock")
        cmd = [f"{b_blk}/antfarm-blk", "--socket", vs, "--disk", img, "--scheduler", sched,
               "--stats-socket", ss]
        if hints and mode != "nohints":
            cmd += ["--hints", os.path.join(tmp, "hints.sock")]
        bp = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "blk.err"), "w"))
        e2e.wait_path(ss, bp)
        extra = []
        if mode == "subscriber":
            sub = socket.socket(socket.AF_UNIX)
            sub.connect(asock)
            sub.sendall(b'{"events":["notify"]}\n')
            extra.append(sub)
        if mode == "dummy":	# a backend serving another VM: programs attached, our VM filtered
            ds = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            dpath = os.path.join(tmp, "dummy.sock")
            ds.bind(dpath); ds.listen(1)
            ap.terminate(); ap.wait()
            sock = os.path.join(tmp, "agent.sock")
            ap = subprocess.Popen([f"{b_agent}/antfarm-agent", "-d", "--socket", sock, "--blk-hints", dpath],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            c, _ = ds.accept()
            c.send(e2e_hint_serve(1, 1))
            extra += [ds, c]
            time.sleep(0.5)
        if hints and mode in (None, "subscriber"):
            for _ in range(100):
                st = e2e.read_stats(ss)
                if next(s for s in st if s.get("type") == "hints").get("connections"):
                    break
                time.sleep(0.1)
        time.sleep(0.3)
        t0 = ticks(ap.pid)
        log = os.path.join(tmp, "g.log")
        r = subprocess.run([sys.executable, RUN_GUEST, "--elf", elf, "--disk", "sock:" + vs, "--log", log,
                            "--quiet", "--timeout", "300", "--"] + words, capture_output=True, text=True)
        cpu = (ticks(ap.pid) - t0) / 100
        st = e2e.read_stats(ss)
        for x in extra:
            x.close()
        bp.terminate(); bp.wait()
        ap.terminate(); ap.wait()
        ev = guestlog.read_log(log, img)
        reqs = sum(1 for _, k, _ in ev if k == "DISK")
        hs = next((s for s in st if s.get("type") == "hints"), {})
        return {"rc": r.returncode, "requests": reqs, "think_us": e2e.think_us(ev),
                "hints": hs.get("received"), "notify": hs.get("notify"),
                "hints_per_req": round(hs.get("received", 0) / reqs, 3) if reqs else None,
                "agent_cpu_s": cpu, "agent_cpu_us_per_req": round(cpu * 1e6 / reqs, 1) if reqs else None,
                "guest_s": float(r.stderr.split("seconds=")[-1].split()[0]) if "seconds=" in r.stderr else None}


def e2e_hint_serve(vm, nq):
    return struct.pack("<IHHIIQQQQ", 0x41464831, 2, 5, vm, 0, 0, 0, 0, nq)


def main():
    global OLD
    p = argparse.ArgumentParser(usage=argparse.SUPPRESS, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["channel", "think", "attach"])
    p.add_argument("--old", help="build directory of an older checkout")
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    what, OLD = a.what, a.old
    if what in ("channel", "think") and not OLD:
        p.error(f"{what} compares with --old BUILD")
    cases = {}
    if what == "channel":
        w = ["workload=seqread", "n=4", "blocks=512", "think=0", "tick=1"]
        cases = {
            "old (agent, antfarm-blk, guest)": (OLD, OLD, f"{OLD}/tests/guest/guest.elf", w, None),
            "this build, disklog=live": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w, None),
            "this build, disklog=disk": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w + ["disklog=disk"], None),
        }
    elif what == "think":
        w = ["workload=seqread", "n=1", "blocks=300", "think=0", "tick=1"]
        cases = {
            "old guest": (NEW, NEW, f"{OLD}/tests/guest/guest.elf", w, "nohints"),
            "new guest, disklog=live": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w, "nohints"),
            "new guest, disklog=disk": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w + ["disklog=disk"], "nohints"),
        }
    elif what == "attach":
        w = ["workload=seqread", "n=1", "blocks=300", "think=0", "tick=1"]
        cases = {
            "detached (nobody wants notify)": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w, "nohints"),
            "attached, this VM filtered out": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w, "dummy"),
            "attached, every write a record (notify subscriber)": (NEW, NEW, f"{NEW}/tests/guest/guest.elf", w, "subscriber"),
        }
    res = {k: [] for k in cases}
    for rep in range(a.repeat):
        for k, (ba, bb, elf, words, mode) in cases.items():
            r = one(ba, bb, elf, words, mode=mode)
            res[k].append(r)
            print(k, json.dumps(r), file=sys.stderr, flush=True)
    for k, rs in res.items():
        med = {f: statistics.median([r[f] for r in rs if r[f] is not None]) if any(r[f] is not None for r in rs) else None
               for f in ("requests", "think_us", "hints_per_req", "agent_cpu_us_per_req", "guest_s", "hints")}
        print(json.dumps({"case": k, "median": med, "runs": rs}))


if __name__ == "__main__":
    main()
