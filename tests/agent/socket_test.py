#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The agent's socket policy and the CLI's timeouts, each case one that
used to go wrong:
- two agents started at once on one path: exactly one stays up, and it is
  the one on the socket (10 rounds); what makes it so, PATH.lock, is held
  for as long as the agent serves, and an agent finding it held stays out;
- a daemon started with a relative --socket removes it at SIGTERM (it
  chdir()s to / when it detaches);
- a second agent facing a socket whose listener is stopped with a full
  backlog gives up at once instead of hanging in connect();
- antfarm against a stopped agent, or a listener whose backlog is full,
  fails after --timeout instead of hanging;
- the socket has mode 0660 under umask 000, --socket-group applies."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import Agent, check, preflight, report, AGENT, CLI  # noqa: E402


def wait(pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def answers(path):
    """True if an agent answers stats on path."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(path)
        s.sendall(b'{"cmd":"stats"}\n')
        data = b""
        while not data.endswith(b'{"end":"stats"}\n'):
            c = s.recv(65536)
            if not c:
                break
            data += c
        s.close()
        return data.endswith(b'{"end":"stats"}\n')
    except OSError:
        return False


def test_two_at_once(rounds):
    for r in range(rounds):
        d = tempfile.mkdtemp(prefix="antfarm-two.")
        sock = os.path.join(d, "agent.sock")
        ps = [subprocess.Popen([AGENT, "-d", "--socket", sock], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True) for _ in range(2)]
        try:
            wait(lambda: any(p.poll() is not None for p in ps))
            alive = [p for p in ps if p.poll() is None]
            lost = [p for p in ps if p.poll() is not None]
            ok = check(len(alive) == 1, "round %d: %d agents stayed up" % (r, len(alive)))
            if ok:
                err = lost[0].stderr.read()
                check(lost[0].returncode == 1 and "already listening" in err,
                      "round %d: the second agent's exit" % r, err)
                check(wait(lambda: answers(sock)), "round %d: the survivor is not on the socket" % r)
        finally:
            for p in ps:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    p.wait(30)
        check(not os.path.exists(sock) and not os.path.exists(sock + ".lock"),
              "round %d: socket or lock file left" % r, os.listdir(d))
        shutil.rmtree(d, ignore_errors=True)


def test_lock_held():
    import fcntl
    d = tempfile.mkdtemp(prefix="antfarm-lock.")
    sock = os.path.join(d, "agent.sock")
    f = open(sock + ".lock", "w")
    fcntl.flock(f, fcntl.LOCK_EX)
    try:
        rc, err = run_bounded([AGENT, "-d", "--socket", sock])
        check(rc == 1 and "already listening" in err and not os.path.exists(sock),
              "agent started although PATH.lock is held", err)
    finally:
        f.close()
    agent = Agent()
    try:
        f = open(agent.sock + ".lock")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            check(False, "the agent does not hold its lock file")
        except BlockingIOError:
            pass
        f.close()
    finally:
        agent.cleanup()
    shutil.rmtree(d, ignore_errors=True)


def daemon_pids(args):
    pids = []
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open("/proc/%s/cmdline" % p).read().rstrip("\0").split("\0") == args:
                pids.append(int(p))
        except OSError:
            pass
    return pids


def test_relative_daemon():
    d = tempfile.mkdtemp(prefix="antfarm-rel.")
    name = "rel-%d.sock" % os.getpid()
    args = [os.path.abspath(AGENT), "--socket", name]
    try:
        r = subprocess.run(args, cwd=d, capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "daemon with a relative --socket", r.stderr)
        pids = daemon_pids(args)
        check(len(pids) == 1 and answers(os.path.join(d, name)), "daemon answers", pids)
        for p in pids:
            os.kill(p, signal.SIGTERM)
        gone = wait(lambda: not daemon_pids(args), 20)
        check(gone and not os.path.exists(os.path.join(d, name)) and
              not os.path.exists(os.path.join(d, name + ".lock")),
              "relative socket removed at SIGTERM", os.listdir(d))
    finally:
        for p in daemon_pids(args):
            os.kill(p, signal.SIGKILL)
        shutil.rmtree(d, ignore_errors=True)


def full_listener(path):
    """A listener that never accepts, its backlog full: what a stopped
    agent with many waiting clients looks like."""
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(0)
    held = []
    for _ in range(64):
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(path)
            held.append(c)
        except BlockingIOError:
            c.close()
            break
    return lst, held


def run_bounded(args, timeout=30):
    """(returncode, stderr), or (None, 'hung') if it had to be killed."""
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        return None, "hung for %d s" % timeout


def test_full_backlog():
    d = tempfile.mkdtemp(prefix="antfarm-full.")
    path = os.path.join(d, "agent.sock")
    lst, held = full_listener(path)
    try:
        rc, err = run_bounded([AGENT, "-d", "--socket", path])
        check(rc == 1 and "already listening" in err, "agent facing a full backlog", err)
        rc, err = run_bounded([CLI, "--socket", path, "--timeout", "1", "ps"])
        check(rc == 1 and "no answer within 1 s" in err, "antfarm facing a full backlog", err)
    finally:
        for c in held:
            c.close()
        lst.close()
        shutil.rmtree(d, ignore_errors=True)


def test_stopped_agent():
    agent = Agent()
    try:
        os.kill(agent.pid, signal.SIGSTOP)
        for cmd in ("ps", "vms", "stats"):
            rc, err = run_bounded([CLI, "--socket", agent.sock, "--timeout", "1", cmd])
            check(rc == 1 and "did not answer" in err, "antfarm %s against a stopped agent" % cmd,
                  err)
        rc, err = run_bounded([CLI, "--socket", agent.sock, "--timeout", "1", "watch"])
        check(rc == 1 and "did not answer" in err, "antfarm watch against a stopped agent", err)
        os.kill(agent.pid, signal.SIGCONT)
        r = agent.cli("--timeout", "0", "stats", "--json")
        check(r.returncode == 0 and r.stdout.strip(), "--timeout 0 waits", r.stderr)
        r = agent.cli("--timeout", "x", "ps")
        check(r.returncode == 2 and "--timeout" in r.stderr, "bad --timeout", r.stderr)
    finally:
        os.kill(agent.pid, signal.SIGCONT)
        agent.cleanup()


def test_modes():
    d = tempfile.mkdtemp(prefix="antfarm-mode.")
    sock = os.path.join(d, "agent.sock")
    p = subprocess.Popen([AGENT, "-d", "--socket", sock], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, preexec_fn=lambda: os.umask(0))
    try:
        check(wait(lambda: os.path.exists(sock)), "agent under umask 000 started")
        mode = os.stat(sock).st_mode & 0o777 if os.path.exists(sock) else None
        check(mode == 0o660, "socket mode under umask 000", oct(mode or 0))
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(30)
    g = Agent("--socket-mode", "0600", "--socket-group", "nogroup")
    try:
        st = os.stat(g.sock)
        check(st.st_mode & 0o777 == 0o600 and st.st_gid == 65534, "--socket-mode/--socket-group",
              "%o gid %d" % (st.st_mode & 0o777, st.st_gid))
    finally:
        g.cleanup()
    shutil.rmtree(d, ignore_errors=True)


def main():
    preflight()
    test_two_at_once(10)
    test_lock_held()
    test_relative_daemon()
    test_full_backlog()
    test_stopped_agent()
    test_modes()
    return report("socket policy and CLI timeouts: all cases passed")


if __name__ == "__main__":
    sys.exit(main())
