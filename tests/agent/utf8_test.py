#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Every line the agent writes is valid UTF-8 and valid JSON, whatever a
client sends.  Seeded random requests (UTF8_FUZZ_N, default 5000; seed
UTF8_FUZZ_SEED) built to reach the replies that echo what they were given:
unknown commands, event names and keys, cut at 40 bytes, made of invalid
UTF-8, overlong forms, surrogates, control characters, escapes, and raw
garbage.  The oracle: a strict UTF-8 decode of each line, json.loads of it,
and no string in it holding a lone surrogate; the metrics reply (Prometheus
text) is checked for UTF-8 only.  Then the same for the cases the review
found: {"cmd":"\\xff\\xfe"} and a multibyte character at the cut."""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import Agent, check, preflight, raw_exchange, report  # noqa: E402

PIECES = [b"a", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xff", b"\xfe", b"\x80",
          b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3", b"\xe2\x82", b"\x01",
          b"\x7f", b"\\", b"\\\"", b"\\u0000", b"\\ud800", b"\\udc00", b"\\ud83d\\ude00",
          b"\\u00e9", b"\\n", b"\"", b" ", b"x" * 37, b"{", b"]"]


def strings_ok(v):
    """No lone surrogate in any string of a decoded JSON value."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return True
        except UnicodeEncodeError:
            return False
    if isinstance(v, dict):
        return all(strings_ok(k) and strings_ok(x) for k, x in v.items())
    if isinstance(v, list):
        return all(strings_ok(x) for x in v)
    return True


def line_ok(raw, metrics):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return "not UTF-8: %s" % e
    if metrics:
        return None
    try:
        v = json.loads(text)
    except ValueError as e:
        return "not JSON: %s" % e
    if not isinstance(v, dict):
        return "not an object"
    return None if strings_ok(v) else "a lone surrogate"


def exchange(agent, data):
    """Reply lines (bytes) to a raw request, until the agent closes; of a
    subscription, the acknowledgement."""
    s = agent.connect()
    s.settimeout(10)
    out = b""
    try:
        s.sendall(data)
        while not (out.startswith(b'{"subscribed"') and b"\n" in out):
            c = s.recv(65536)
            if not c:
                break
            out += c
    except OSError:
        pass
    s.close()
    return [l for l in out.split(b"\n") if l]


def fuzz_string(rng):
    return b"".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 12)))


def fuzz_request(rng):
    k = rng.randrange(6)
    s = fuzz_string(rng)
    if k == 0:
        return b'{"cmd":"' + s + b'"}\n'
    if k == 1:
        return b'{"events":["create","' + s + b'"]}\n'
    if k == 2:
        return b'{"' + s + b'":1}\n'
    if k == 3:
        return b'{"cmd":"' + rng.choice([b"ps", b"vms", b"stats"]) + b'","' + s + b'":"' + s + b'"}\n'
    if k == 4:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))) + b"\n"
    return rng.choice([b'{"cmd":"ps"}\n', b'{"cmd":"vms"}\n', b'{"cmd":"stats"}\n', b"{}\n",
                       b'{"cmd":"metrics"}\n'])


def main():
    preflight()
    n = int(os.environ.get("UTF8_FUZZ_N", "5000"))
    seed = int(os.environ.get("UTF8_FUZZ_SEED", "8"), 0)
    rng = random.Random(seed)
    agent = Agent("--request-timeout", "1", "--max-clients", "64")
    try:
        agent.inject("cr3:0x7000:7001:0:0x10000:2")     # one process, so ps has a row
        print("%d random requests, seed %d" % (n, seed))
        bad = 0
        for i in range(n):
            req = fuzz_request(rng)
            metrics = b'"metrics"' in req
            for line in exchange(agent, req):
                why = line_ok(line, metrics and not line.startswith(b"{"))
                if why and bad < 10:
                    check(False, "request %d %r: reply %r" % (i, req, line), why)
                bad += why is not None
        check(bad == 0, "%d bad reply lines" % bad)
        # the cases the review found
        for req, want in [(b'{"cmd":"\xff\xfe"}\n', "UTF-8"),
                          (b'{"cmd":"' + b"a" * 39 + b'\xc3\xa9"}\n', "unknown command"),
                          (b'{"events":["' + b"b" * 39 + b'\xe2\x82\xac"]}\n', "unknown event")]:
            lines = exchange(agent, req)
            check(len(lines) == 1 and line_ok(lines[0], False) is None and
                  want in lines[0].decode("utf-8", "replace"), "reply to %r" % req, lines)
        lines, _ = raw_exchange(agent, b'{"cmd":"' + b"a" * 39 + b'\xc3\xa9"}\n')
        check(lines and '"' + "a" * 39 + '"' in json.loads(lines[0]).get("error", ""),
              "cut on a character boundary", lines)
        check(agent.alive(), "agent alive after the fuzz")
    finally:
        agent.cleanup()
    return report("UTF-8 and JSON on every line: all cases passed")


if __name__ == "__main__":
    sys.exit(main())
