#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The real antfarm-agent on a temporary socket, driven through its
"af_replay" program: subscribers see exactly the right events, the CLI
shows them, bad requests are refused without harm, a slow subscriber loses
(and is told) while others do not, hints reach a backend socket."""

import json
import re
import os
import shutil
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import (Agent, Sub, asvmm_problem, check, check_bad_requests,  # noqa: E402
                      preflight, raw_exchange, report, AGENT, ASVMM, CLI)

K1, K2, K3 = "0xffff888001000000", "0xffff888002000000", "0xffff888003000000"
CR = 2          # AF_SRC_CR: full fidelity
ROLE4 = 4       # kvm_mmu_page_role: level 4, not direct, valid


def key(e):
    """The fields that define an event (timestamps and seq excluded)."""
    k = (e["event"], e.get("vm"), e.get("as"), e.get("gen"), e.get("vcpu"))
    if e["event"] == "switch":
        k += (e["from"], e["from_gen"], e["to"], e["to_gen"])
    if e["event"] == "exit":
        k += (e["reason"],)
    if e["event"] == "notify":
        k += (e["addr"], e["value"])
    return k


def sw(vm, vcpu, frm, fgen, to, tgen):
    return ("switch", vm, to, tgen, vcpu, frm, fgen, to, tgen)


def test_events(agent):
    everything = ["create", "exit", "switch", "vm-exit", "vm-new", "notify"]
    all1 = Sub(agent, events=everything, vm=5001)
    dflt = Sub(agent)
    other = Sub(agent, events=everything, vm=5999)
    swonly = Sub(agent, events=["switch"], vm=5001)
    agent.inject("cr3:%s:5002:0:0x30000:%d" % (K2, CR))
    agent.inject("cr3:%s:5001:0:0x10000:%d" % (K1, CR),
                 "cr3:%s:5001:0:0x20000:%d" % (K1, CR),
                 "cr3:%s:5001:0:0x10003:%d" % (K1, CR),           # PCID bits: same process
                 "zap:%s:5001:0:0x20:0:%d" % (K1, ROLE4),          # 0x20000 torn down
                 "cr3:%s:5001:1:0x8000000000020000:%d" % (K1, CR),  # NOFLUSH; root reused
                 "notify:%s:5001:1:0xfe003000:1:6" % K1)
    want = [("vm-new", 5001, None, None, 0),
            ("create", 5001, "0x10000", 1, 0), sw(5001, 0, "0x0", 0, "0x10000", 1),
            ("create", 5001, "0x20000", 1, 0), sw(5001, 0, "0x10000", 1, "0x20000", 1),
            sw(5001, 0, "0x20000", 1, "0x10000", 1),
            ("exit", 5001, "0x20000", 1, 0, "zap"),
            ("create", 5001, "0x20000", 2, 1), sw(5001, 1, "0x0", 0, "0x20000", 2),
            ("notify", 5001, "0x20000", 2, 1, "0xfe003000", 1)]
    got = [key(e) for e in all1.collect(len(want))]
    check(got == want, "events of vm 5001", "\n  got  %s\n  want %s" % (got, want))
    for e in all1.events:
        check(isinstance(e.get("ts_ns"), int) and e["ts_ns"] > 0 and e.get("vm_key") == K1,
              "common fields", e)

    # the table, through the socket and through the CLI
    ps = agent.cmd("ps", vm=5001)
    rows = sorted((p["as"], p["gen"], p["state"], p["switches"]) for p in ps[:-1])
    check(rows == [("0x10000", 1, "live", 2), ("0x20000", 2, "live", 1)], "ps rows", rows)
    check(ps[-1] == {"end": "ps", "count": 2}, "ps end marker", ps[-1])
    r = agent.cli("ps", "--vm", "5001", "--json")
    check(r.returncode == 0 and len(r.stdout.splitlines()) == 2, "antfarm ps --json", r)
    r = agent.cli("ps")
    check(r.returncode == 0 and "0x10000" in r.stdout and "0x30000" in r.stdout and
          r.stdout.startswith("VM ") and "LAST VCPU" in r.stdout, "antfarm ps", r.stdout)
    vms = {v["vm"]: v for v in agent.cmd("vms")[:-1]}
    v = vms.get(5001, {})
    check(v.get("vcpus") == 2 and v.get("live") == 2 and v.get("fidelity") == "full",
          "vms 5001", v)
    r = agent.cli("vms")
    check(r.returncode == 0 and "full" in r.stdout and "\nhost: " in r.stdout and
          r.stdout.startswith("VM "), "antfarm vms", r.stdout)
    r = agent.cli("stats")
    m = r.stdout
    # per-VM series carry vm_name too (the comm of whatever process has pid 5001);
    # the create count includes any live guest's on this host
    creates = [l for l in m.splitlines() if l.startswith('antfarm_events_total{type="create"} ')]
    check(r.returncode == 0 and creates and int(creates[0].split()[-1]) >= 4 and
          re.search(r'^antfarm_vm_live_processes\{vm="5001",vm_name="[^"]*"\} 2$', m, re.M) and
          re.search(r'^antfarm_vm_fidelity\{vm="5001",vm_name="[^"]*"\} 2$', m, re.M) and
          "antfarm_bpf_reserve_failures_total" in m, "antfarm stats", m[:3000])

    agent.inject("destroy:%s:5001" % K1)
    exits = [("exit", 5001, "0x10000", 1, 0, "vm"), ("exit", 5001, "0x20000", 2, 1, "vm")]
    got = [key(e) for e in all1.collect(len(want) + 3)][len(want):]
    check(sorted(got[:2]) == exits and got[2:] == [("vm-exit", 5001, None, None, None)],
          "exits at VM destruction", got)

    dwant = {("create", 5002, "0x30000", 1, 0), ("create", 5001, "0x10000", 1, 0),
             ("create", 5001, "0x20000", 1, 0), ("exit", 5001, "0x20000", 1, 0, "zap"),
             ("create", 5001, "0x20000", 2, 1), ("vm-exit", 5001, None, None, None)} | set(exits)
    # a live guest on this host shows up here too: only the test's VMs count
    got = [key(e) for e in dflt.drain(0.5) if e.get("vm") in (5001, 5002)]
    check(sorted(got) == sorted(dwant) and len(got) == len(dwant), "default subscription", got)
    got = [key(e) for e in swonly.drain(0.3)]
    check(got == [k for k in want if k[0] == "switch"], "switch-only subscription", got)
    check(other.drain(0.3) == [], "vm filter", other.events)
    for s in (all1, dflt, other, swonly):
        s.close()


def test_vcpu_migration(agent):
    """A vCPU thread that moves between host CPUs: the per-CPU CR3 cache
    on the CPU it left must not hide its switch back."""
    if os.cpu_count() < 2:
        return
    s = Sub(agent, events=["switch"], vm=5101)
    agent.inject("cr3:%s:5101:0:0x10000:%d" % (K3, CR), cpu=0)
    agent.inject("cr3:%s:5101:0:0x20000:%d" % (K3, CR), cpu=1)
    agent.inject("cr3:%s:5101:0:0x10000:%d" % (K3, CR), cpu=0)
    got = [(e["from"], e["to"]) for e in s.collect(3)]
    check(got == [("0x0", "0x10000"), ("0x10000", "0x20000"), ("0x20000", "0x10000")],
          "switches of a migrating vCPU thread", got)
    s.close()


def watch(agent, *args):
    """Start antfarm watch and wait until the agent counts it as subscribed."""
    base = agent.stats()["subscribers"]
    p = subprocess.Popen([CLI, "--socket", agent.sock, "watch"] + list(args),
                         stdout=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while agent.stats()["subscribers"] == base and time.time() < deadline:
        time.sleep(0.05)
    return p


def test_cli_watch(agent):
    """antfarm watch, JSON and human, synchronised on the subscriber count."""
    pj = watch(agent, "--json", "--vm", "5010", "--events", "create,exit")
    ph = watch(agent, "--vm", "5010", "--events", "create,exit,switch")
    agent.inject("cr3:0xabc000:5010:0:0x40000:2", "cr3:0xabd000:5011:0:0x40000:2",
                 "destroy:0xabc000:5010")
    lines = [json.loads(pj.stdout.readline()) for _ in range(2)]
    human = [ph.stdout.readline() for _ in range(3)]
    for p in (pj, ph):
        p.terminate()
        p.wait()
    got = [(e["event"], e["vm"], e["as"]) for e in lines]
    check(got == [("create", 5010, "0x40000"), ("exit", 5010, "0x40000")], "antfarm watch", got)
    words = [l.split()[1:5] for l in human]      # VM, NAME ("-": pid 5010 is no VMM), event
    check(words == [["5010", "-", "create", "0x40000"], ["5010", "-", "switch", "0x0:0"],
                    ["5010", "-", "exit", "0x40000"]] and "reason vm" in human[2],
          "antfarm watch (human)", human)
    pa = watch(agent, "--json", "--vm", "5012", "--events", "notify", "--addr", "0x80,0xfe003000")
    agent.inject("cr3:0xabe000:5012:0:0x40000:2", "notify:0xabe000:5012:0:0xe9:65:1",
                 "notify:0xabe000:5012:0:0x80:7:1", "notify:0xabe000:5012:0:0xfe003000:0:6")
    lines = [json.loads(pa.stdout.readline()) for _ in range(2)]
    pa.terminate()
    pa.wait()
    check([e["addr"] for e in lines] == ["0x80", "0xfe003000"], "antfarm watch --addr", lines)
    for args, want in ((["watch", "--events", "notify", "--addr", "0xzz"], "bad address"),
                       (["watch", "--addr", "0x80"], "does not ask for"),
                       (["watch", "--events", "notify", "--addr", "1,,2"], "bad list"),
                       (["ps", "--addr", "0x80"], "only for watch")):
        r = subprocess.run([CLI, "--socket", agent.sock] + args, capture_output=True, text=True,
                           timeout=20)
        check(r.returncode != 0 and want in r.stderr, "antfarm " + " ".join(args), r.stderr)
    r = subprocess.run([CLI, "--socket", agent.dir + "/nope.sock", "ps"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "is antfarm-agent running" in r.stderr and
          "sudo antfarm-agent" in r.stderr, "missing agent message", r.stderr)
    r = subprocess.run([CLI, "--help"], capture_output=True, text=True)
    check(r.returncode == 0 and "EXAMPLES" in r.stdout, "antfarm --help")


def test_max_clients(agent, limit):
    """One client over --max-clients is told so and closed; the others are
    unaffected and, once gone, free their slots."""
    base = agent.stats()["clients"] - 1         # the stats client itself has gone
    idle = [agent.connect() for _ in range(limit - base)]
    for s in idle:              # subscribers have no request timeout
        s.sendall(b"{}\n")
    lines, closed = raw_exchange(agent, b"")
    check(closed and lines == ['{"error":"too many clients"}'], "too many clients", lines)
    for s in idle:
        s.close()
    deadline = time.time() + 10
    while time.time() < deadline and agent.stats().get("clients") != base + 1:
        time.sleep(0.05)
    check(agent.stats().get("clients") == base + 1, "slots freed", agent.stats())


def test_reply_never_read(agent):
    """A command client that never reads a large reply is disconnected
    after --reply-timeout (1 s here), freeing the reply."""
    agent.inject("-", stdin="".join("cr3:0x8000000:5040:0:%d:2\n" % (0x100000 + i * 0x2000)
                                    for i in range(3000)))
    st0 = agent.stats()
    fds = agent.nfds()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(agent.sock)
    s.sendall(b'{"cmd":"ps","vm":5040}\n')
    deadline = time.time() + 10
    st = st0
    while time.time() < deadline:
        st = agent.stats()
        if st["client_timeouts"] > st0["client_timeouts"]:
            break
        time.sleep(0.1)
    check(st["client_timeouts"] == st0["client_timeouts"] + 1 and
          st["clients"] == st0["clients"], "reply never read: disconnected", st)
    check(agent.nfds() == fds, "reply never read: fd closed")
    data = b""
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    check(0 < len(data) < 3000 * 150 and not data.endswith(b'"count":3000}\n'),
          "reply never read: cut, not completed", len(data))
    s.close()


def metric(lines, name):
    for l in lines:
        if l.startswith(name + " "):
            return int(l.split()[-1])
    return None


def test_slow_subscriber(agent):
    """Batches of switches; the fast subscriber reads each batch in full
    before the next, the slow one reads nothing until the end.  Both take
    only the test's VM: a live guest on this host must not count."""
    batches, per = 50, 200
    m = agent.metrics()
    rfail0 = metric(m, 'antfarm_bpf_reserve_failures_total{prog="af_replay"}')
    dropped0 = agent.stats()["subscriber_dropped"]
    slow = Sub(agent, events=["switch"], vm=5020, rcvbuf=4096)
    fast = Sub(agent, events=["switch"], vm=5020)
    for b in range(batches):
        agent.inject("cr3:0x5000000:5020:0:0x10000:2", "cr3:0x5000000:5020:0:0x20000:2",
                     repeat=per // 2)
        fast.collect((b + 1) * per, timeout=3)
    fast.drain(0.3)
    m = agent.metrics()
    rfail = metric(m, 'antfarm_bpf_reserve_failures_total{prog="af_replay"}') - rfail0
    received = batches * per - rfail	# of the test's VM: the ring lost only the reserve failures
    check(len(fast.events) == received, "fast subscriber unaffected",
          "%d of %s" % (len(fast.events), received))
    dropped = agent.stats()["subscriber_dropped"] - dropped0
    check(dropped > 0, "slow subscriber dropped nothing?", dropped)
    got = slow.drain(1.0)
    switches = sum(1 for e in got if e["event"] == "switch")
    lost = [e["count"] for e in got if e["event"] == "lost"]
    check(lost and switches + sum(lost) == received and sum(lost) == dropped,
          "lost count told", "%d switches + lost %s != %s (dropped %d)" %
          (switches, lost, received, dropped))
    check(got and got[-1]["event"] == "lost", "lost line after the queued events", got[-1:])
    slow.close()
    fast.close()


HINT = struct.Struct("<IHHIIQQQQ")
HINT_MAGIC, HINT_VERSION = 0x41464831, 2
H_NOTIFY, H_CREATE, H_EXIT, H_VM_EXIT, H_SERVE, H_DOORBELL = 1, 2, 3, 4, 5, 6


def hint(htype, vm, addr=0, value=0, pending=0, version=HINT_VERSION):
    return HINT.pack(HINT_MAGIC, version, htype, vm, pending, 0, 0, addr, value)


def recv_hints(conn, quiet=0.5):
    """Every hint the agent sends until it is quiet for 'quiet' s."""
    out = []
    conn.settimeout(quiet)
    try:
        while True:
            h = HINT.unpack(conn.recv(256))
            out.append((h[0], h[1], h[2], h[3], h[4], h[6], h[7], h[8]))
    except socket.timeout:
        return out


def test_hints(agent_args):
    """--blk-hints: SOCK_SEQPACKET af_hint messages, only of the VM the
    backend says it serves; SERVE and DOORBELL reach the agent's notify
    filter; bad messages from the backend end the connection with a clear
    error; reconnect after the backend goes away."""
    import tempfile
    d = tempfile.mkdtemp(prefix="antfarm-hints.")
    path = os.path.join(d, "hints.sock")
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    lst.bind(path)
    lst.listen(4)
    agent = Agent("--blk-hints", path, *agent_args)
    obs = ("cr3:0x6000000:5030:0:0x10000:2", "notify:0x6000000:5030:0:0xfe003000:2:6",
           "cr3:0x6300000:5033:0:0x10000:2", "notify:0x6300000:5033:0:0xfe003000:0:6",
           "destroy:0x6000000:5030")
    try:
        lst.settimeout(10)
        conn, _ = lst.accept()
        # a backend that has said nothing serves no VM: it gets nothing
        agent.inject("notify:0x6000000:5030:0:0xfe003000:0:6", obs[3])
        got = recv_hints(conn)
        check(got == [], "hints before SERVE", got)
        conn.send(hint(H_SERVE, 5030, value=1))
        time.sleep(0.3)
        m = agent.metrics()
        check('antfarm_hints_vm{backend="%s"} 5030' % path in m and
              'antfarm_hints_learning{backend="%s"} 1' % path in m, "SERVE in the metrics", m)
        conn.send(hint(H_DOORBELL, 5030, addr=0xfe003000, value=0, pending=0))
        time.sleep(0.3)
        m = agent.metrics()
        check('antfarm_hints_learning{backend="%s"} 0' % path in m and
              'antfarm_hints_doorbells{backend="%s"} 1' % path in m, "DOORBELL in the metrics",
              m)
        agent.inject(*obs)
        hints = recv_hints(conn)
        proc = 0x10000 | 1
        want = [(HINT_MAGIC, 2, H_CREATE, 5030, 0, proc, 0, 0),
                (HINT_MAGIC, 2, H_NOTIFY, 5030, 0, proc, 0xfe003000, 2),
                (HINT_MAGIC, 2, H_EXIT, 5030, 0, proc, 0, 0),
                (HINT_MAGIC, 2, H_VM_EXIT, 5030, 0xffffffff, 0, 0, 0)]
        # VM 5030's second cr3 is the same process: no second CREATE; VM 5033: nothing
        check(len(hints) == 4 and hints[:3] == want[:3] and hints[3][:3] == want[3][:3],
              "hints of the served VM only", hints)
        m = agent.metrics()
        ns = [l for l in m if l.startswith('antfarm_hints_not_served_total{backend="%s"} ' % path)]
        check(ns and int(ns[0].split()[-1]) >= 3, "not served count", ns)
        # bad messages from the backend: a clear error, the connection ends
        for what, msg in (("protocol version 1", hint(H_SERVE, 5030, version=1)),
                          ("a NOTIFY (the agent's to send)", hint(H_NOTIFY, 5030)),
                          ("a short message", b"\x31\x48\x46\x41\x02\x00")):
            conn.send(msg)
            conn.settimeout(5)
            try:
                rest = conn.recv(256)
            except socket.timeout:
                rest = b"timeout"
            check(rest == b"", f"agent closes the connection after {what}", rest)
            conn.close()
            conn, _ = lst.accept()     # the agent comes back on its own
        time.sleep(0.2)
        check("another hint protocol version" in agent.stderr() and
              "a message type this side does not take" in agent.stderr() and
              "message of the wrong size" in agent.stderr(), "errors logged",
              agent.stderr()[-1500:])
        conn.send(hint(H_SERVE, 5032, value=1))
        time.sleep(0.2)
        agent.inject("cr3:0x6200000:5032:0:0x10000:2")
        h = recv_hints(conn)
        check(len(h) == 1 and h[0][2] == H_CREATE and h[0][3] == 5032, "hints after reconnect",
              h)
        conn.close()
    finally:
        agent.cleanup()
        lst.close()
        os.unlink(path)
        os.rmdir(d)


def test_no_switch():
    """--no-switch: a subscriber that asks for switches gets none; the
    table still counts them."""
    agent = Agent("--no-switch")
    try:
        s = Sub(agent, events=["create", "switch"], vm=5050)   # not other VMs on the host
        agent.inject("cr3:0x3000:5050:0:0x10000:2", "cr3:0x3000:5050:0:0x20000:2",
                     "cr3:0x3000:5050:0:0x10000:2")
        got = [e["event"] for e in s.drain(0.5)]
        check(got == ["create", "create"], "--no-switch", got)
        ps = agent.cmd("ps", vm=5050)
        check(sum(p.get("switches", 0) for p in ps[:-1]) == 3, "--no-switch: switches counted", ps)
        s.close()
    finally:
        agent.cleanup()


def test_daemon_and_root():
    """Without -d the agent detaches (the parent exits 0 once the socket is
    up) and logs to syslog; SIGTERM removes the socket.  Not root: a clear
    error before anything is loaded."""
    import tempfile
    d = tempfile.mkdtemp(prefix="antfarm-daemon.")
    sock = os.path.join(d, "agent.sock")
    try:
        open(sock, "w").close()     # not a socket: refused, left alone
        r = subprocess.run([AGENT, "-d", "--socket", sock], capture_output=True, text=True,
                           timeout=60)
        check(r.returncode == 1 and "is not a socket" in r.stderr and os.path.isfile(sock),
              "socket path is a file", r.stderr)
        os.unlink(sock)
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(sock)            # a socket nobody listens on: replaced
        stale.close()
        r = subprocess.run([AGENT, "--socket", sock], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and os.path.exists(sock), "daemon start over a stale socket",
              r.stderr)
        pids = [p for p in os.listdir("/proc") if p.isdigit() and
                _cmdline(p) == [AGENT, "--socket", sock]]
        check(len(pids) == 1, "one daemon process", pids)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.settimeout(10)
        s.sendall(b'{"cmd":"stats"}\n')
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        s.close()
        check(reply.endswith(b'{"end":"stats"}\n'), "daemon answers", reply)
        for p in pids:
            os.kill(int(p), 15)
        deadline = time.time() + 20
        while os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.1)
        check(not os.path.exists(sock), "daemon removed its socket on SIGTERM")
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            AGENT, "-d", "--socket", sock], capture_output=True, text=True)
        check(r.returncode == 1 and "must run as root" in r.stderr and "sudo" in r.stderr,
              "not root", r.stderr)
        r = subprocess.run([AGENT, "--help"], capture_output=True, text=True)
        check(r.returncode == 0 and "SYNOPSIS" in r.stdout and "EXAMPLES" in r.stdout,
              "agent --help")
        r = subprocess.run([AGENT, "--bogus"], capture_output=True, text=True)
        check(r.returncode == 2 and "--help" in r.stderr, "agent bad option", r.stderr)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_replay_abi(agent):
    """The ABI version: stats report it; --replay refuses a recording made
    with another one (its observations would be read with the wrong layout)."""
    import tempfile
    abi = agent.stats().get("abi")
    check(isinstance(abi, int) and abi >= 1, "stats abi", agent.stats())
    with tempfile.NamedTemporaryFile("w", suffix=".rec", delete=False) as f:
        f.write('#antfarm-recording 1 {"host":"kvm_pvm","abi":%d,"idle_ns":0}\n' % (abi + 1))
        path = f.name
    try:
        r = subprocess.run([AGENT, "--replay", path], capture_output=True, text=True, timeout=60)
        check(r.returncode != 0 and "ABI version %d" % (abi + 1) in r.stderr,
              "replay of another ABI refused", r.stderr)
    finally:
        os.unlink(path)


def test_notify_addr(agent):
    """A subscription's "addr" list: notify events at those addresses only
    (other events untouched); one without it gets every address."""
    filt = Sub(agent, events=["notify", "create"], vm=5040, addr=["0x80", 0xfe003000])
    every = Sub(agent, events=["notify"], vm=5040)
    check(filt.ack.get("addr") == ["0x80", "0xfe003000"], "ack names the addresses", filt.ack)
    agent.inject("cr3:0x6400000:5040:0:0x10000:2", "notify:0x6400000:5040:0:0xe9:65:1",
                 "notify:0x6400000:5040:0:0x80:16:1", "notify:0x6400000:5040:0:0xe9:66:1",
                 "notify:0x6400000:5040:0:0xfe003000:0:6")
    got = [(e["event"], e.get("addr")) for e in filt.drain(0.5)]
    check(got == [("create", None), ("notify", "0x80"), ("notify", "0xfe003000")],
          "filtered subscriber: its addresses only", got)
    got = [e.get("addr") for e in every.drain(0.3)]
    check(got == ["0xe9", "0x80", "0xe9", "0xfe003000"], "unfiltered subscriber: every address",
          got)
    filt.close()
    every.close()


def test_notify_addr_live():
    """Where KVM works: with only filtered notify subscribers the BPF side
    makes records of those addresses only (asvmm writes a mark port for
    every operation; the filter names another port)."""
    why = asvmm_problem()
    if why:
        print("note: live notify filter part skipped: " + why)
        return
    agent = Agent(attach=True)
    try:
        def records(addr):
            s = Sub(agent, events=["notify"], addr=addr)
            before = agent.stats().get("events_notify", 0)
            r = subprocess.run([ASVMM, "--scenario", "switch", "--live", "3", "--truth",
                                "/dev/null"], capture_output=True, text=True, timeout=120)
            check(r.returncode == 0, "asvmm ran", r.stdout[-500:] + r.stderr[-500:])
            # let the agent empty its ring; not s.drain(): another guest on
            # the host may write for ever, and unfiltered they all come here
            time.sleep(0.5)
            n = agent.stats().get("events_notify", 0) - before
            s.close()
            return n, json.loads(r.stdout.splitlines()[-1]).get("pio_exits", 0)
        n_all, pio = records(None)
        # PORT_DONE (0xaf4): once per vCPU of each asvmm run on the host
        n_filt, _ = records(["0xaf4"])
        check(pio > 400 and n_all >= pio, "unfiltered: a record per port write",
              "%d records, %d port writes" % (n_all, pio))
        check(n_filt < 20, "filtered: only the listed port's records",
              "%d records (%d unfiltered)" % (n_filt, n_all))
    finally:
        agent.cleanup()


def _cmdline(pid):
    try:
        return open("/proc/%s/cmdline" % pid).read().rstrip("\0").split("\0")
    except OSError:
        return None


def main():
    preflight()
    agent = Agent("--request-timeout", "1", "--reply-timeout", "1", "--max-clients", "64",
                  "--queue-kib", "64")
    try:
        test_events(agent)
        test_cli_watch(agent)
        test_vcpu_migration(agent)
        check_bad_requests(agent, 10000)
        test_max_clients(agent, 64)
        test_reply_never_read(agent)
        test_slow_subscriber(agent)
        test_replay_abi(agent)
        test_notify_addr(agent)
        # a second agent on the same socket must refuse to start
        r = subprocess.run([agent.proc.args[0], "-d", "--socket", agent.sock],
                           capture_output=True, text=True, timeout=30)
        check(r.returncode != 0 and "already listening" in r.stderr, "second agent", r.stderr)
        check(agent.alive() and agent.stats().get("clients") == 1, "first agent still serves")
        rc = agent.stop()
        check(rc == 0 and not os.path.exists(agent.sock), "clean exit on SIGTERM",
              "rc %s, socket left: %s" % (rc, os.path.exists(agent.sock)))
    finally:
        agent.cleanup()
    test_hints([])
    test_no_switch()
    test_daemon_and_root()
    test_notify_addr_live()
    return report("live agent: all cases passed")


if __name__ == "__main__":
    sys.exit(main())
