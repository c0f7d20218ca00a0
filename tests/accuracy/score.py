# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Scoring of antfarm-agent events against the test guest's ground truth.

Ground truth: a run-guest --log file (host CLOCK_MONOTONIC ns, tab, guest
line; format in tests/guest/README.md).  Inferred: the agent's JSON event
lines for the same VM.  Roots are compared in the agent's canonical form:
PCID bits dropped, a KPTI pair named by its 8 KiB-aligned kernel page.

Matching, per root address:
- an inferred create matches, among the unmatched true instances of that
  root whose lifetime [create - slack, exit + slack] contains it, the one
  whose lifetime is nearest (0 when inside it: a reused root has several
  instances close together, and a process may wait long for its first run);
- an inferred exit (reason other than "vm": the VM's own end is not a guest
  exit) matches, among the unmatched true teardowns of that root from at most
  `window` before it to `slack` after it, the nearest in time;
- exit latency = inferred exit ts - host arrival of the EXIT line, counted
  as 0 when negative (the line is written just after the teardown, so the
  host can see the teardown microseconds before the line arrives);
- a switch event from root 0 is a vCPU's first CR3 sighting, not a switch
  (the guest's boot code loaded that CR3; the log has no SW line for it);
- CPU attribution error = sum |run_ns - cr3_ns| / sum cr3_ns over matched
  exits, in percent (cpu_attr_err_max_pct: the worst single process), where
  cr3_ns is the time the guest had the root loaded (its EXIT line) and
  run_ns the agent's CPU time for it.
"""
import json

SLACK_NS = 50 * 1000 * 1000
WINDOW_NS = 30 * 1000 * 1000 * 1000


class BadInput(Exception):
    pass


def canon(root, kpti):
    v = int(root, 16) if isinstance(root, str) else int(root)
    return v & ~(0x1fff if kpti else 0xfff) & ((1 << 52) - 1)


def parse_truth(lines):
    """-> dict(boot, instances, switches, summary).  Lines without a host
    timestamp are refused: latency needs the host clock."""
    boot, summary, inst, sw = None, None, [], 0
    live = {}
    for n, raw in enumerate(lines, 1):
        raw = raw.rstrip("\n")
        if not raw:
            continue
        ts, tab, line = raw.partition("\t")
        if not tab or not ts.isdigit():
            raise BadInput(f"truth line {n}: no host timestamp")
        if not line.startswith("AF "):
            continue
        parts = line.split()
        kv = dict(p.split("=", 1) for p in parts[2:] if "=" in p)
        kind, ts = parts[1], int(ts)
        if kind == "BOOT":
            boot = kv
        elif kind == "SUMMARY":
            summary = kv
        elif kind == "SW":
            sw += 1
        elif kind in ("CREATE", "EXIT"):
            if boot is None:
                raise BadInput(f"truth line {n}: {kind} before BOOT")
            root = canon(kv["root"], boot.get("ident") == "kpti")
            if kind == "CREATE":
                i = dict(root=root, pid=int(kv["pid"]), create_ts=ts, exit_ts=None,
                         cr3_ns=None, how=kv.get("how"))
                inst.append(i)
                live[root] = i
            elif root in live:
                i = live.pop(root)
                i["exit_ts"], i["cr3_ns"] = ts, int(kv.get("cr3_ns", 0))
            else:
                raise BadInput(f"truth line {n}: EXIT of root {kv['root']} never created")
    if boot is None:
        raise BadInput("truth: no BOOT line")
    if summary and int(summary["switches"]) > int(boot.get("swlog", 1 << 62)):
        sw = int(summary["switches"])
    return dict(boot=boot, instances=inst, switches=sw, summary=summary)


def parse_events(lines, vm=None):
    """Agent JSON lines -> list of dicts for VM `vm` (all VMs if None).
    Lines that are not JSON objects are counted, not fatal."""
    out, bad = [], 0
    for raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        try:
            e = json.loads(raw)
        except ValueError:
            bad += 1
            continue
        if not isinstance(e, dict):
            bad += 1
            continue
        if "event" not in e:		# control replies, e.g. {"subscribed":[...]}
            continue
        if vm is not None and e.get("vm") != vm:
            continue
        if e["event"] == "lost":
            out.append(e)
        elif e["event"] in ("create", "exit", "switch"):
            if not isinstance(e.get("ts_ns"), int) or "as" not in e:
                bad += 1
                continue
            out.append(e)
    return out, bad


def percentile(vals, p):
    if not vals:
        return None
    s = sorted(vals)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


def gap(ts, i):
    """Distance from ts to an instance's lifetime (0 inside it)."""
    if ts < i["create_ts"]:
        return i["create_ts"] - ts
    if i["exit_ts"] is not None and ts > i["exit_ts"]:
        return ts - i["exit_ts"]
    return 0


def score(truth, events, workload="", variant=""):
    kpti = truth["boot"].get("ident") == "kpti"
    inst = truth["instances"]
    by_root = {}
    for i in inst:
        by_root.setdefault(i["root"], []).append(i)
    creates = sorted((e for e in events if e["event"] == "create"), key=lambda e: e["ts_ns"])
    exits = sorted((e for e in events if e["event"] == "exit" and e.get("reason") != "vm"),
                   key=lambda e: e["ts_ns"])
    fp_c = fp_e = 0
    for e in creates:
        cands = [i for i in by_root.get(canon(e["as"], kpti), []) if "c_match" not in i and
                 i["create_ts"] - SLACK_NS <= e["ts_ns"] and
                 (i["exit_ts"] is None or e["ts_ns"] <= i["exit_ts"] + SLACK_NS)]
        if cands:
            min(cands, key=lambda i: gap(e["ts_ns"], i))["c_match"] = e
        else:
            fp_c += 1
    lat, err_abs, err_base, err_max = [], 0, 0, None
    for e in exits:
        cands = [i for i in by_root.get(canon(e["as"], kpti), []) if "e_match" not in i and
                 i["exit_ts"] is not None and i["create_ts"] - SLACK_NS <= e["ts_ns"] and
                 i["exit_ts"] - SLACK_NS <= e["ts_ns"] <= i["exit_ts"] + WINDOW_NS]
        if not cands:
            fp_e += 1
            continue
        i = min(cands, key=lambda i: abs(e["ts_ns"] - i["exit_ts"]))
        i["e_match"] = e
        lat.append(max(0, e["ts_ns"] - i["exit_ts"]))
        if i["cr3_ns"] and isinstance(e.get("run_ns"), int):
            err_abs += abs(e["run_ns"] - i["cr3_ns"])
            err_base += i["cr3_ns"]
            one = 100.0 * abs(e["run_ns"] - i["cr3_ns"]) / i["cr3_ns"]
            err_max = one if err_max is None else max(err_max, one)
    true_exits = [i for i in inst if i["exit_ts"] is not None]
    fn_c = sum(1 for i in inst if "c_match" not in i)
    fn_e = sum(1 for i in true_exits if "e_match" not in i)
    ms = lambda v: None if v is None else round(v / 1e6, 3)
    return {
        "workload": workload, "variant": variant,
        "creates_true": len(inst), "creates_inferred": len(creates),
        "exits_true": len(true_exits), "exits_inferred": len(exits),
        "false_pos": fp_c + fp_e, "false_neg": fn_c + fn_e,
        "false_pos_creates": fp_c, "false_neg_creates": fn_c,
        "false_pos_exits": fp_e, "false_neg_exits": fn_e,
        "exit_latency_p50_ms": ms(percentile(lat, 50)),
        "exit_latency_p99_ms": ms(percentile(lat, 99)),
        "switches_true": truth["switches"],
        "switches_inferred": sum(1 for e in events if e["event"] == "switch" and
                                 canon(e.get("from") or 0, kpti) != 0),
        "cpu_attr_err_pct": round(100.0 * err_abs / err_base, 3) if err_base else None,
        "cpu_attr_err_max_pct": None if err_max is None else round(err_max, 3),
        "lost_events": sum(int(e.get("count", 0)) for e in events if e["event"] == "lost"),
    }


def misses(r, exact_switches=True, latency=True):
    """The targets of issue 3 a result misses, as short strings."""
    m = []
    if r["lost_events"]:
        m.append(f"false_pos/false_neg unknown: the agent dropped {r['lost_events']} events")
    if r["false_pos"] or r["false_neg"]:
        m.append(f"false_pos={r['false_pos']} false_neg={r['false_neg']}")
    if latency and (r["exit_latency_p99_ms"] is None or r["exit_latency_p99_ms"] > 10):
        m.append(f"exit_latency_p99_ms={r['exit_latency_p99_ms']} (target <= 10)")
    if exact_switches and r["switches_true"] != r["switches_inferred"]:
        m.append(f"switches {r['switches_inferred']} != {r['switches_true']}")
    if r["cpu_attr_err_pct"] is None or r["cpu_attr_err_pct"] > 1:
        m.append(f"cpu_attr_err_pct={r['cpu_attr_err_pct']} (target <= 1)")
    return m
