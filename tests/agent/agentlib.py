# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Helpers for the agent's integration tests: start the real antfarm-agent
on a temporary socket, talk to it, and feed its "af_replay" program with
af-inject.  Used by live_test.py and valgrind_test.py."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("ANTFARM_BUILD", "build")
AGENT = os.path.join(BUILD, "antfarm-agent")
CLI = os.path.join(BUILD, "antfarm")
INJECT = os.path.join(BUILD, "tests", "agent", "af-inject")
ASVMM = os.path.join(BUILD, "tests", "kvm", "asvmm")


def asvmm_problem():
    """None when asvmm (tests/kvm) can run a live guest here, else why not."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
    import qemu
    return qemu.kvm_problem() or (None if os.access(ASVMM, os.X_OK) else ASVMM + " not built")

failures = []


def check(cond, name, detail=""):
    if not cond:
        failures.append(name)
        print("FAIL %s%s" % (name, ": " + str(detail) if detail else ""), flush=True)
    return cond


def report(ok_message):
    """The test's last line and exit status: the failures, or ok_message."""
    if failures:
        print("%d failed: %s" % (len(failures), ", ".join(failures)))
        return 1
    print(ok_message)
    return 0


def skip(reason):
    print(reason)
    sys.exit(77)


def preflight():
    if os.geteuid() != 0:
        skip("skip: needs root (loads BPF programs)")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("skip: no kernel BTF (/sys/kernel/btf/vmlinux)")
    for f in (AGENT, CLI, INJECT):
        if not os.path.exists(f):
            skip("skip: %s not built (is agent/collector.c present?)" % f)


class Agent:
    """antfarm-agent on a private socket.  attach=False (the default for
    tests that inject their observations): nothing is attached, so a guest
    running on the host meanwhile cannot add events or move counters.
    preexec runs in the child before the agent (e.g. to set a limit)."""
    def __init__(self, *args, valgrind=None, attach=False, preexec=None):
        self.dir = tempfile.mkdtemp(prefix="antfarm-agent-test.")
        self.sock = os.path.join(self.dir, "agent.sock")
        self.log = os.path.join(self.dir, "agent.log")
        cmd = [AGENT, "-d", "--socket", self.sock] + ([] if attach else ["--no-attach"]) + \
            list(args)
        if valgrind:
            cmd = valgrind + cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "w"), preexec_fn=preexec)
        self.pid = self.proc.pid   # valgrind runs the agent in this process
        deadline = time.time() + (60 if valgrind else 15)
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agent exited (rc %s): %s" % (self.proc.returncode, self.stderr()))
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.sock)
                s.close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("agent did not listen: " + self.stderr())

    def stderr(self):
        try:
            return open(self.log).read()
        except OSError:
            return ""

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def alive(self):
        return self.proc.poll() is None

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.sock)
        return s

    def request(self, line, timeout=10):
        """Send one request line; return the reply lines until the agent closes."""
        s = self.connect()
        s.settimeout(timeout)
        s.sendall(line if isinstance(line, bytes) else line.encode() + b"\n")
        data = recv_all(s)
        s.close()
        return data.decode(errors="replace").splitlines()

    def cmd(self, name, **kw):
        req = dict(cmd=name, **kw)
        return [json.loads(l) for l in self.request(json.dumps(req))]

    def stats(self):
        lines = self.cmd("stats")
        return lines[0] if lines and "end" not in lines[0] else {}

    def metrics(self):
        return self.request('{"cmd":"metrics"}')

    def cli(self, *args):
        return subprocess.run([CLI, "--socket", self.sock] + list(args),
                              capture_output=True, text=True, timeout=20)

    def inject(self, *obs, repeat=1, stdin=None, cpu=None):
        pin = ["--cpu", str(cpu)] if cpu is not None else []
        r = subprocess.run([INJECT, "--pid", str(self.pid), "--repeat", str(repeat)] + pin + list(obs),
                           capture_output=True, text=True, timeout=120, input=stdin)
        if r.returncode:
            raise RuntimeError("af-inject: " + r.stderr)

    def nfds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))


class Sub:
    """A subscriber: sends the request, waits for the acknowledgement."""

    def __init__(self, agent, events=None, vm=None, rcvbuf=None, addr=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if rcvbuf:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.s.connect(agent.sock)
        req = {}
        if events is not None:
            req["events"] = events
        if vm is not None:
            req["vm"] = vm
        if addr is not None:
            req["addr"] = addr
        self.s.sendall(json.dumps(req).encode() + b"\n")
        self.buf = b""
        self.events = []
        ack = self.next(10)
        if ack is None or "subscribed" not in ack:
            raise RuntimeError("no subscription ack: %r" % ack)
        self.ack = ack

    def next(self, timeout):
        end = time.time() + timeout
        while b"\n" not in self.buf:
            left = end - time.time()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(1 << 20)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def collect(self, n, timeout=10):
        """Read until n events have arrived (or timeout); return all so far."""
        while len(self.events) < n:
            ev = self.next(timeout)
            if ev is None:
                break
            self.events.append(ev)
        return self.events

    def drain(self, quiet=0.5):
        """Read until nothing arrives for 'quiet' seconds."""
        while True:
            ev = self.next(quiet)
            if ev is None:
                return self.events
            self.events.append(ev)

    def close(self):
        self.s.close()


def recv_all(s):
    """What the peer sends until it closes (or resets, or the socket's
    timeout passes)."""
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    return data


def unix_json_lines(path, timeout=10):
    """Connect to a Unix socket that talks first (antfarm-blk's stats
    socket) and return its JSON lines once it closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    data = recv_all(s)
    s.close()
    return [json.loads(l) for l in data.decode().splitlines() if l.strip()]


def raw_exchange(agent, data, shut_wr=False, timeout=5):
    """Send raw bytes; return (reply lines, closed_by_agent)."""
    s = agent.connect()
    s.settimeout(timeout)
    if data:
        s.sendall(data)
    if shut_wr:
        s.shutdown(socket.SHUT_WR)
    out, closed = b"", False
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        out += chunk
    s.close()
    return out.decode(errors="replace").splitlines(), closed


BAD_REQUESTS = [
    ("not-json", b"hello\n", "not a JSON object"),
    ("binary", b"\x00\xff\xfe\x01\n", "not a JSON object"),
    ("http", b"GET / HTTP/1.0\r\n\r\n", "not a JSON object"),
    ("unknown-cmd", b'{"cmd":"reboot"}\n', "unknown command"),
    ("unknown-event", b'{"events":["fork"]}\n', "unknown event name"),
    ("unknown-key", b'{"verbose":true}\n', "unknown key"),
    ("bad-vm", b'{"vm":"x"}\n', '"vm"'),
    ("trailing", b'{"cmd":"ps"} x\n', "trailing garbage"),
    ("nested", b'{"cmd":{"a":1}}\n', "nested objects"),
    ("long-no-newline", b"a" * 70000, "longer than 65536"),
    ("long-line", b"{" + b" " * 66000 + b"}\n", "longer than 65536"),
]


def settled_nfds(agent):
    """The agent's fd count once clients that already hung up are reaped
    (the agent closes their fds on its next loop turn, not at once)."""
    prev, same = agent.nfds(), 0
    for _ in range(100):
        time.sleep(0.05)
        n = agent.nfds()
        same = same + 1 if n == prev else 0
        if same == 3:
            break
        prev = n
    return prev


def check_bad_requests(agent, cycles):
    """Every bad input gets an error line and a closed connection, and the
    agent keeps answering with no fd left behind."""
    fds = settled_nfds(agent)
    clients = agent.stats()["clients"]     # includes the stats client itself
    for name, data, want in BAD_REQUESTS:
        lines, closed = raw_exchange(agent, data)
        ok = len(lines) == 1 and want in json.loads(lines[0]).get("error", "")
        check(ok and closed, "bad request %s" % name, "%r closed=%s" % (lines, closed))
    # a client that sends nothing is told so and closed (--request-timeout 1)
    lines, closed = raw_exchange(agent, b"", timeout=5)
    check(closed and len(lines) == 1 and "no request" in lines[0], "silent client", lines)
    # a last line without newline, then EOF on the writing side, still counts
    lines, closed = raw_exchange(agent, b'{"cmd":"stats"}', shut_wr=True)
    check(closed and lines and lines[-1] == '{"end":"stats"}', "request at EOF", lines)
    # connect/disconnect storm: plain, half a request, a request never read
    for i in range(cycles):
        s = agent.connect()
        try:
            if i % 3 == 1:
                s.send(b'{"cmd":"st')
            elif i % 3 == 2:
                s.send(b'{"cmd":"ps"}\n')
        except OSError:
            pass        # refused as one too many clients: also fine
        s.close()
    deadline = time.time() + 20
    while time.time() < deadline:
        st = agent.stats()
        if st.get("clients") == clients:
            break
        time.sleep(0.1)
    check(st.get("clients") == clients, "clients after %d cycles" % cycles, st)
    after = settled_nfds(agent)
    check(after == fds, "fds leaked", "%d before, %d after" % (fds, after))
    st = agent.stats()
    check(agent.alive() and st.get("bad_requests", 0) >= len(BAD_REQUESTS),
          "agent answers after bad requests", "%s %s" % (st, agent.stderr()[-2000:]))
