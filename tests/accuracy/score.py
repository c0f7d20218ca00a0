# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Scoring of antfarm-agent events against the test guest's ground truth.

Ground truth: a run-guest --log file (host CLOCK_MONOTONIC ns, tab, guest
line; format in tests/guest/README.md).  Inferred: the agent's JSON event
lines for the same VM, each optionally with the host time the subscriber
received it.  Roots are compared in the agent's canonical form: PCID bits
dropped, a KPTI pair named by its 8 KiB-aligned kernel page.

Matching is by root and order, not by the arrival time of log lines (the
guest's emulated kernel writes its log tens of ms after the fact):
- per root, the true instances in log order and the agent's lifetimes in
  event order (a create opens one, an exit with a reason other than "vm"
  closes it) are paired first with first, second with second...; surplus
  agent lifetimes are false creates, missing ones missed creates; a pair
  whose exit only one side has is a false or missed exit;
- a pair is also checked against the clock: the agent's exit of instance k
  must not come before the teardown of k, nor its create of instance k+1
  before the teardown of k (else the lifetimes are misaligned, counted
  false and missed).  The teardown instant is the guest's teardown mark
  (a write of the root's frame number to port 0x80 right before it clears
  the root, seen by the agent as a `notify` event on the host clock), or,
  without marks, the EXIT line's arrival less SLACK_NS;
- exit latency, from that mark: to the agent's BPF observation (event
  ts_ns: exit_latency_*) and to the subscriber's receipt of the event
  (exit_recv_latency_*); not reported without marks;
- a switch event from root 0 is a vCPU's first CR3 sighting, not a switch
  (the guest's boot code loaded that CR3; the log has no SW line for it);
- CPU attribution error = sum |run_ns - cr3_ns| / sum cr3_ns over matched
  exits, in percent (cpu_attr_err_max_pct: the worst single process), where
  cr3_ns is the time the guest had the root loaded (its EXIT line) and
  run_ns the agent's CPU time for it.
"""
import json

SLACK_NS = 50 * 1000 * 1000
MARK_PORT = 0x80		# tests/guest/guest.h TEARDOWN_MARK_PORT
MARK_EARLY_NS = 1000 * 1000	# clock slack when checking against a mark


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
    """Agent JSON lines (or (receipt_ns, line) pairs) -> list of dicts for
    VM `vm` (all VMs if None), with "recv_ns" where a receipt time was given.
    Lines that are not JSON objects are counted, not fatal."""
    out, bad = [], 0
    for raw in lines:
        recv = None
        if isinstance(raw, tuple):
            recv, raw = raw
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
        if recv is not None:
            e["recv_ns"] = recv
        if e["event"] == "lost":
            out.append(e)
        elif e["event"] in ("create", "exit", "switch", "notify"):
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


def teardown_marks(events, kpti):
    """Root -> host times of the guest's teardown marks, in order."""
    marks = {}
    for e in sorted((e for e in events if e["event"] == "notify"), key=lambda e: e["ts_ns"]):
        addr = e.get("addr")
        if (int(addr, 16) if isinstance(addr, str) else addr) == MARK_PORT:
            marks.setdefault(canon(int(e.get("value", 0)) << 12, kpti), []).append(e["ts_ns"])
    return marks


def lifetimes(events, kpti):
    """Root -> the agent's lifetimes in order: dicts with create/exit events."""
    per = {}
    ev = [e for e in events if e["event"] == "create" or
          (e["event"] == "exit" and e.get("reason") != "vm")]
    # by generation where the agent gave one (a root's k-th process is
    # generation k), else in order of the events
    key = lambda e: (e.get("gen", 0), e["ts_ns"], e.get("seq", 0))
    for e in sorted(ev, key=key):
        lives = per.setdefault(canon(e["as"], kpti), [])
        if e["event"] == "create" or not lives or lives[-1]["exit"] is not None or \
                lives[-1]["gen"] != e.get("gen", 0):
            lives.append(dict(create=None, exit=None, gen=e.get("gen", 0)))
        lives[-1][e["event"]] = e
    return per


def score(truth, events, workload="", variant=""):
    kpti = truth["boot"].get("ident") == "kpti"
    inst = truth["instances"]
    by_root = {}
    for i in inst:
        by_root.setdefault(i["root"], []).append(i)
    marks, lives = teardown_marks(events, kpti), lifetimes(events, kpti)
    fp_c = fp_e = fn_c = fn_e = misaligned = 0
    lat, rlat, err_abs, err_base, err_max = [], [], 0, 0, None
    for root in set(by_root) | set(lives):
        T, A, M = by_root.get(root, []), lives.get(root, []), marks.get(root, [])
        for k in range(max(len(T), len(A))):
            t = T[k] if k < len(T) else None
            a = A[k] if k < len(A) else None
            if a is None or a["create"] is None:
                fn_c += t is not None
            if t is None:
                fp_c += a["create"] is not None
                fp_e += a["exit"] is not None
                continue
            if a is None:
                fn_e += t["exit_ts"] is not None
                continue
            # the teardown of k and of k-1 on the host clock
            down = M[k] if k < len(M) else (t["exit_ts"] - SLACK_NS if t["exit_ts"] else None)
            prev = (M[k - 1] if k - 1 < len(M) else T[k - 1]["exit_ts"] - SLACK_NS) if k else None
            early = MARK_EARLY_NS if k < len(M) else 0
            if a["create"] is not None and prev is not None and \
                    a["create"]["ts_ns"] < prev - early:
                misaligned += 1
                fp_c += 1
                fn_c += 1
            elif a["create"] is not None:
                t["c_match"] = a["create"]
            x = a["exit"]
            if t["exit_ts"] is None:
                fp_e += x is not None
                continue
            if x is None or x["ts_ns"] < down - early:
                fn_e += 1
                fp_e += x is not None
                misaligned += x is not None
                continue
            t["e_match"] = x
            if k < len(M):
                lat.append(max(0, x["ts_ns"] - M[k]))
                if "recv_ns" in x:
                    rlat.append(max(0, x["recv_ns"] - M[k]))
            if t["cr3_ns"] and isinstance(x.get("run_ns"), int):
                err_abs += abs(x["run_ns"] - t["cr3_ns"])
                err_base += t["cr3_ns"]
                one = 100.0 * abs(x["run_ns"] - t["cr3_ns"]) / t["cr3_ns"]
                err_max = one if err_max is None else max(err_max, one)
    true_exits = [i for i in inst if i["exit_ts"] is not None]
    ms = lambda v: None if v is None else round(v / 1e6, 3)
    creates = sum(1 for e in events if e["event"] == "create")
    exits = sum(1 for e in events if e["event"] == "exit" and e.get("reason") != "vm")
    return {
        "workload": workload, "variant": variant,
        "creates_true": len(inst), "creates_inferred": creates,
        "exits_true": len(true_exits), "exits_inferred": exits,
        "false_pos": fp_c + fp_e, "false_neg": fn_c + fn_e,
        "false_pos_creates": fp_c, "false_neg_creates": fn_c,
        "false_pos_exits": fp_e, "false_neg_exits": fn_e, "misaligned": misaligned,
        "teardown_marks": sum(len(m) for m in marks.values()),
        "exit_latency_p50_ms": ms(percentile(lat, 50)),
        "exit_latency_p99_ms": ms(percentile(lat, 99)),
        "exit_recv_latency_p50_ms": ms(percentile(rlat, 50)),
        "exit_recv_latency_p99_ms": ms(percentile(rlat, 99)),
        "switches_true": truth["switches"],
        "switches_inferred": sum(1 for e in events if e["event"] == "switch" and
                                 canon(e.get("from") or 0, kpti) != 0),
        "cpu_attr_err_pct": round(100.0 * err_abs / err_base, 3) if err_base else None,
        "cpu_attr_err_max_pct": None if err_max is None else round(err_max, 3),
        "lost_events": sum(int(e.get("count", 0)) for e in events if e["event"] == "lost"),
    }


def misses(r, exact_switches=True, latency=True, attribution=True):
    """The targets a result misses, as short strings: zero false and missed
    creates and exits, exit latency p99 <= 1 ms to the BPF observation and
    to the subscriber, exact switch counts, attribution error <= 1%."""
    m = []
    if r["lost_events"]:
        m.append(f"false_pos/false_neg unknown: the agent dropped {r['lost_events']} events")
    if r["false_pos"] or r["false_neg"]:
        m.append(f"false_pos={r['false_pos']} false_neg={r['false_neg']}")
    for k in ("exit_latency_p99_ms", "exit_recv_latency_p99_ms") if latency else ():
        if r[k] is None or r[k] > 1:
            m.append(f"{k}={r[k]} (target <= 1)")
    if exact_switches and r["switches_true"] != r["switches_inferred"]:
        m.append(f"switches {r['switches_inferred']} != {r['switches_true']}")
    if attribution and (r["cpu_attr_err_pct"] is None or r["cpu_attr_err_pct"] > 1):
        m.append(f"cpu_attr_err_pct={r['cpu_attr_err_pct']} (target <= 1)")
    return m
