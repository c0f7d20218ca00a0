#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""--metrics-listen on the real agent and the real antfarm-blk, scraped
with curl: GET /metrics answers the same families as {"cmd":"metrics"}
(agent) and antfarm-blk's counters, in valid exposition format (promtool
check metrics, where Debian's prometheus package provides it); HEAD, 404,
405 and each malformed request get their status; a client that sends
nothing or never reads blocks neither the scrape nor the daemon's other
sockets."""

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "agent"))
from agentlib import (Agent, BUILD, check, preflight, recv_all, report,  # noqa: E402
                      skip, unix_json_lines)

BLK = os.path.join(BUILD, "antfarm-blk")

BAD = [
    ("not http", b"hello\r\n\r\n", 400),
    ("no version", b"GET /metrics\r\n\r\n", 400),
    ("http/2", b"GET /metrics HTTP/2.0\r\n\r\n", 505),
    ("absolute form", b"GET http://x/metrics HTTP/1.1\r\n\r\n", 400),
    ("control in target", b"GET /met\x01rics HTTP/1.1\r\n\r\n", 400),
    ("long target", b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n\r\n", 414),
    ("folded field", b"GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400),
    ("field without colon", b"GET /metrics HTTP/1.1\r\nAbc\r\n\r\n", 400),
    ("NUL in field", b"GET /metrics HTTP/1.1\r\nA: \x00\r\n\r\n", 400),
    ("lone CR", b"GET /metrics HTTP/1.1\rX: y\r\n\r\n", 400),
    ("huge head", b"GET /metrics HTTP/1.1\r\n" + b"X-A: b\r\n" * 1200 + b"\r\n", 431),
    ("POST", b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
    ("other path", b"GET /debug HTTP/1.1\r\n\r\n", 404),
]


def host_port(log_text):
    m = re.search(r"metrics on http://(\S+)/metrics", log_text)
    if not m:
        return None
    h, p = m.group(1).rsplit(":", 1)
    return h.strip("[]"), int(p)


def wait_addr(read_log, alive, secs=15):
    end = time.time() + secs
    while time.time() < end:
        a = host_port(read_log())
        if a or not alive():
            return a
        time.sleep(0.05)
    return None


def curl(addr, *args):
    host = "[%s]" % addr[0] if ":" in addr[0] else addr[0]
    url = "http://%s:%d/metrics" % (host, addr[1])
    r = subprocess.run(["curl", "-sS", "--max-time", "10", "-D", "-"] + list(args) + [url],
                       capture_output=True, timeout=30)
    head, _, body = r.stdout.decode(errors="replace").partition("\r\n\r\n")
    return r.returncode, head, body


def raw(addr, data, timeout=10):
    s = socket.create_connection(addr, timeout=timeout)
    try:
        s.sendall(data)
    except OSError:
        pass        # refused mid-send (the server answers the first bytes)
    out = recv_all(s)
    s.close()
    return out


def families(text, vm):
    """(name, labels) of every sample, and the # TYPE lines; of per-VM
    samples only VM vm's (the agent sees every VM on the host)."""
    samples = {re.sub(r"\s\S+$", "", l) for l in text.splitlines() if l and l[0] != "#"
               and ('vm="' not in l or 'vm="%d"' % vm in l)}
    types = {l for l in text.splitlines() if l.startswith("# TYPE")}
    return samples, types


def promtool(text, what):
    """promtool check metrics: no error and no lint problem."""
    if not shutil.which("promtool"):
        print("note: promtool missing (apt-get install prometheus): format checked by curl only")
        return
    r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    problems = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    check(not problems and r.returncode == 0, "promtool check metrics: " + what,
          "\n".join(problems) or r.stderr)


def common(addr, what):
    """What every /metrics endpoint must do."""
    rc, head, body = curl(addr)
    check(rc == 0 and head.startswith("HTTP/1.1 200"), what + ": GET 200", head)
    check("Content-Type: text/plain; version=0.0.4" in head, what + ": content type", head)
    m = re.search(r"Content-Length: (\d+)", head)
    check(m and int(m.group(1)) == len(body.encode()), what + ": content length", head)
    out = raw(addr, b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 200 ") and out.endswith(b"\r\n\r\n") and
          re.search(rb"\r\nContent-Length: [1-9][0-9]*\r\n", out), what + ": HEAD", out)
    for name, data, status in BAD:
        out = raw(addr, data)
        check(out.startswith(b"HTTP/1.1 %d " % status), "%s: %s -> %d" % (what, name, status),
              out[:200])
    # a client that connects and says nothing, and one that sends a whole
    # request but never reads: neither holds up the next scrape
    idle = socket.create_connection(addr)
    greedy = socket.create_connection(addr)
    greedy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    greedy.sendall(b"GET /metrics HTTP/1.1\r\n\r\n")
    rc, head, _ = curl(addr)
    check(rc == 0 and head.startswith("HTTP/1.1 200"), what + ": scrape beside stuck clients",
          head)
    # many connections at once: the ones over the limit are closed, the
    # server still answers afterwards
    socks = [socket.create_connection(addr) for _ in range(80)]
    for s in socks:
        s.close()
    idle.close()
    greedy.close()
    rc, head, _ = curl(addr)
    check(rc == 0 and head.startswith("HTTP/1.1 200"), what + ": after 80 connections", head)
    return body


def test_agent():
    agent = Agent("--metrics-listen", "127.0.0.1:0")
    try:
        addr = wait_addr(agent.stderr, agent.alive)
        check(addr is not None, "agent logs its metrics address", agent.stderr())
        if not addr:
            return
        agent.inject("cr3:0xffff888061000000:6601:0:0x10000:2")
        body = common(addr, "agent")
        # the same families as the socket's metrics command (values move)
        sock_text = "\n".join(agent.metrics()) + "\n"
        check(families(body, 6601) == families(sock_text, 6601),
              "agent: same metrics as the socket",
              set.symmetric_difference(families(body, 6601)[0], families(sock_text, 6601)[0]))
        check(body.rstrip().endswith("# EOF") and
              re.search(r'^antfarm_vm_live_processes\{vm="6601",vm_name="[^"]*"\} 1$', body, re.M),
              "agent: live VM in the scrape", body[-500:])
        promtool(body, "agent")
        check(agent.alive() and agent.stats().get("vms", 0) >= 1, "agent serves its socket",
              agent.stderr()[-1000:])
        rc = agent.stop()
        check(rc == 0, "agent exits 0", rc)
    finally:
        agent.cleanup()
    r = subprocess.run([os.path.join(BUILD, "antfarm-agent"), "-d", "--socket", "/tmp/x.sock",
                        "--metrics-listen", "127.0.0.1"], capture_output=True, text=True,
                       timeout=30)
    check(r.returncode != 0 and "ADDR:PORT" in r.stderr, "agent: bad --metrics-listen refused",
          r.stderr)


def test_blk():
    d = tempfile.mkdtemp(prefix="antfarm-blk-metrics.")
    img = os.path.join(d, "disk.img")
    with open(img, "wb") as f:
        f.truncate(16 << 20)
    log = os.path.join(d, "blk.log")
    p = subprocess.Popen([BLK, "-v", "--socket", os.path.join(d, "vhost.sock"), "--disk", img,
                          "--num-queues", "2", "--stats-socket", os.path.join(d, "stats.sock"),
                          "--metrics-listen", "[::1]:0"],
                         stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    try:
        addr = wait_addr(lambda: open(log).read(), lambda: p.poll() is None)
        if addr is None and "Address family" in open(log).read():
            print("note: no IPv6 loopback here")
            return
        check(addr is not None, "blk logs its metrics address", open(log).read())
        if not addr:
            return
        addr = (addr[0], addr[1])
        body = common(addr, "blk")
        for name in ("antfarm_blk_requests_total", "antfarm_blk_request_duration_seconds_bucket",
                     "antfarm_blk_read_bytes_total", "antfarm_blk_inflight_requests"):
            check('%s{queue="1"' % name in body, "blk: %s per queue" % name, body[:2000])
        check('antfarm_blk_info{disk="%s",scheduler="fifo"} 1' % img in body, "blk: info",
              body[:500])
        promtool(body, "blk")
        st = unix_json_lines(os.path.join(d, "stats.sock"))
        check(st and st[0].get("queues") == 2, "blk serves its stats socket", st)
    finally:
        p.terminate()
        p.wait(20)
        shutil.rmtree(d, ignore_errors=True)


def main():
    preflight()
    if not shutil.which("curl"):
        skip("skip: curl missing (apt-get install curl)")
    if not os.path.exists(BLK):
        skip("skip: %s not built" % BLK)
    test_agent()
    test_blk()
    return report("metrics endpoints of the agent and antfarm-blk answer curl")


if __name__ == "__main__":
    sys.exit(main())
