#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Writes events-forkexec.jsonl: what a near-perfect agent would report for
truth-forkexec.log, with known faults that test-score checks the scorer
finds.  The faults, in order of the truth lines:
  - every create reported 1 ms after its CREATE line, with the generation
    the agent gives it (the k-th instance of a root is generation k);
  - a teardown mark (notify on port 0x80, the root's frame number) at each
    EXIT line's time;
  - every exit 2 ms after its EXIT line with run_ns = cr3_ns * 1.005, except
    the 2nd EXIT (not reported: one missed exit) and the 1st (7 ms late; its
    root is never reused, so the late report cannot be mistaken for the
    teardown of a later instance);
  - one create for a root the guest never had (0xdead000);
  - the kernel root ends with reason "vm" (the VM's end, not a guest exit);
  - one switch event per SW line except the last;
  - events of another VM (vm 999), and one line that is not JSON.
"""
import json, os

HERE = os.path.dirname(os.path.abspath(__file__))
VM, MS = 4242, 1000000

def main():
    out, nexit, sw, gens = [], 0, [], {}
    for raw in open(os.path.join(HERE, "truth-forkexec.log")):
        ts, _, line = raw.rstrip("\n").partition("\t")
        ts, p = int(ts), line.split()
        kv = dict(x.split("=", 1) for x in p[2:] if "=" in x)
        ev = dict(ts_ns=0, vm=VM, vcpu=int(kv.get("cpu", 0)), gen=1)
        if p[1] == "CREATE":
            gens[kv["root"]] = gens.get(kv["root"], 0) + 1
            out.append(dict(ev, event="create", ts_ns=ts + MS, gen=gens[kv["root"]],
                            **{"as": kv["root"]}))
        elif p[1] == "EXIT":
            ev["gen"] = gens[kv["root"]]
            out.append(dict(ev, event="notify", ts_ns=ts, addr="0x80",
                            value=int(kv["root"], 16) >> 12, **{"as": "0x0"}))
            nexit += 1
            if nexit == 2:
                continue
            late = 7 if nexit == 1 else 2
            out.append(dict(ev, event="exit", ts_ns=ts + late * MS, reason="zap",
                            run_ns=int(int(kv["cr3_ns"]) * 1.005), **{"as": kv["root"]}))
        elif p[1] == "SW":
            sw.append(dict(ev, event="switch", ts_ns=ts, **{"as": kv["to"], "from": kv["from"],
                                                             "to": kv["to"]}))
        elif p[1] == "BOOT":
            kroot, t0 = kv["kernel_root"], ts
    out += sw[:-1]
    out.append(dict(event="create", ts_ns=t0 + 5 * MS, vm=VM, vcpu=0, gen=1, **{"as": "0xdead000"}))
    out.append(dict(event="exit", ts_ns=ts + 10 * MS, vm=VM, reason="vm", run_ns=0, gen=1,
                    **{"as": kroot}))
    out.append(dict(event="create", ts_ns=t0 + MS, vm=999, vcpu=0, gen=1, **{"as": "0x1000"}))
    out.sort(key=lambda e: e["ts_ns"])
    with open(os.path.join(HERE, "events-forkexec.jsonl"), "w") as f:
        for e in out:
            f.write(json.dumps(e) + "\n")
        f.write("this line is not JSON\n")

if __name__ == "__main__":
    main()
