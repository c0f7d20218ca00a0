#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The agent's resource limits, each case one that used to go wrong:
- --max-clients above what the open-file limit allows: capped, said so at
  start-up, and clients over the cap are told "too many clients";
- out of file descriptors while running (the limit lowered under it):
  every waiting client is answered and closed instead of hanging in the
  backlog while the agent spins on accept() and logs without end; once
  clients leave it serves again;
- many subscribers that never read: what their queues hold together stays
  under --queue-total-mib, the excess is dropped and counted."""

import json
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import Agent, check, preflight, report  # noqa: E402


def reply(agent, timeout=5):
    """The first line a new connection gets after sending {} (a
    subscription), or None if nothing came in time."""
    s = agent.connect()
    s.settimeout(timeout)
    data = b""
    try:
        s.sendall(b"{}\n")
    except OSError:
        pass        # refused at once: the error line is still there to read
    try:
        while b"\n" not in data:
            c = s.recv(4096)
            if not c:
                break
            data += c
    except OSError:
        pass
    return s, data.split(b"\n")[0].decode(errors="replace") if data else None


def nofile(n):
    return lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))


def test_cap_at_start():
    agent = Agent("--max-clients", "1000", preexec=nofile(96))
    held = []
    try:
        log = agent.stderr()
        check("open-file limit" in log and "serving at most" in log, "cap said at start-up", log)
        cap = agent.stats().get("clients", 0)  # the stats client itself
        got = {"ack": 0, "full": 0, "none": 0}
        for _ in range(120):
            s, line = reply(agent)
            held.append(s)
            k = "ack" if line and "subscribed" in line else \
                "full" if line and "too many clients" in line else "none"
            got[k] += 1
        check(got["none"] == 0 and got["full"] > 0 and got["ack"] < 96,
              "clients over the cap answered", got)
        check(cap == 1, "stats client", cap)
        for s in held:
            s.close()
        held = []
        ok = False
        for _ in range(100):
            st = agent.stats()
            if st.get("subscribers") == 0:
                ok = True
                break
            time.sleep(0.05)
        check(ok and st.get("clients_refused", 0) >= got["full"], "served again", st)
    finally:
        for s in held:
            s.close()
        agent.cleanup()


def test_emfile():
    agent = Agent("--max-clients", "256")
    held = []
    try:
        used = len(os.listdir("/proc/%d/fd" % agent.pid))
        soft, hard = resource.prlimit(agent.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(agent.pid, resource.RLIMIT_NOFILE, (used + 8, hard))
        got = {"ack": 0, "full": 0, "none": 0}
        for _ in range(60):
            s, line = reply(agent, timeout=3)
            held.append(s)
            k = "ack" if line and "subscribed" in line else \
                "full" if line and "too many clients" in line else "none"
            got[k] += 1
        check(got["none"] == 0 and got["full"] > 0, "clients at EMFILE answered", got)
        time.sleep(1.5)     # the loop would spin and log here
        log = agent.stderr()
        n = sum(1 for l in log.splitlines() if "accept" in l)
        check(n <= 3, "accept errors logged %d times" % n, log[-2000:])
        for s in held:
            s.close()
        held = []
        resource.prlimit(agent.pid, resource.RLIMIT_NOFILE, (soft, hard))
        st = {}
        for _ in range(100):
            st = agent.stats()
            if st.get("subscribers") == 0:
                break
            time.sleep(0.05)
        check(st.get("subscribers") == 0 and agent.alive(), "served again after EMFILE", st)
    finally:
        for s in held:
            s.close()
        agent.cleanup()


def test_total_queue():
    agent = Agent("--queue-kib", "256", "--queue-total-mib", "1")
    subs = []
    try:
        for _ in range(16):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(agent.sock)
            s.sendall(b'{"events":["switch"],"vm":5301}\n')
            subs.append(s)
        time.sleep(0.2)
        agent.inject("cr3:0x5300000:5301:0:0x10000:2", "cr3:0x5300000:5301:0:0x20000:2",
                     repeat=4000)
        st = agent.stats()
        check(st.get("queue_limit_bytes") == 1 << 20 and
              0 < st.get("queue_bytes", 0) <= 1 << 20,
              "queues together under --queue-total-mib", st)
        check(st.get("subscriber_dropped", 0) > 0, "nothing dropped", st)
        m = agent.metrics()
        check(any(l.startswith("antfarm_queue_bytes ") for l in m), "antfarm_queue_bytes metric")
    finally:
        for s in subs:
            s.close()
        agent.cleanup()


def main():
    preflight()
    test_cap_at_start()
    test_emfile()
    test_total_queue()
    return report("open-file limit and queue memory: all cases passed")


if __name__ == "__main__":
    sys.exit(main())
