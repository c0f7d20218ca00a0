#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""antfarm-agent under valgrind: bad requests, a subscriber, every command,
then SIGTERM.  valgrind's exit status fails the test on any memory error
or definite/indirect leak."""

import os
import shutil
import threading
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from agentlib import Agent, Sub, check, check_bad_requests, failures, preflight  # noqa: E402

SUPP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "valgrind.supp")
VALGRIND = ["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
            "--show-leak-kinds=definite,indirect", "--error-exitcode=99",
            "--suppressions=" + SUPP] + os.environ.get("VALGRIND_EXTRA", "").split()


def main():
    preflight()
    if not shutil.which("valgrind"):
        print("skip: valgrind not installed (sh mk/deps.sh)")
        return 77
    agent = Agent("--request-timeout", "1", "--max-clients", "32", "--queue-kib", "16",
                  valgrind=VALGRIND)
    try:
        s = Sub(agent, events=["create", "exit", "switch", "vm-exit"])
        slow = Sub(agent, events=["switch"], rcvbuf=4096)   # never reads: overflows
        t = threading.Thread(target=agent.inject, args=(
            "cr3:0x7000000:6001:0:0x10000:2", "cr3:0x7000000:6001:0:0x20000:2",
            "destroy:0x7000000:6001"), kwargs=dict(repeat=1))
        t.start()
        got = []
        while not got or got[-1]["event"] != "vm-exit":
            ev = s.next(30)
            if ev is None:
                break
            got.append(ev)
        t.join()
        t = threading.Thread(target=agent.inject, args=(
            "cr3:0x7100000:6002:0:0x10000:2", "cr3:0x7100000:6002:0:0x20000:2"),
            kwargs=dict(repeat=2000))
        t.start()
        while sum(1 for e in got if e["event"] == "switch") + \
                sum(e["count"] for e in got if e["event"] == "lost") < 4002:
            ev = s.next(30)
            if ev is None:
                break
            got.append(ev)
        t.join()
        kinds = [e["event"] for e in got]
        check(kinds[:7] == ["create", "switch", "create", "switch", "exit", "exit", "vm-exit"],
              "events under valgrind", kinds[:7])
        for cmd in ("ps", "vms", "stats"):
            r = agent.cmd(cmd)
            check(r and r[-1].get("end") == cmd, "%s under valgrind" % cmd, r[-1:])
        check(agent.metrics()[-1] == "# EOF", "metrics under valgrind")
        check_bad_requests(agent, 300)
        s.close()        # subscribers still connected at exit are freed too
        rc = agent.stop(timeout=60)
        check(rc == 0, "valgrind clean (exit status %s)" % rc, agent.stderr()[-3000:])
        slow.close()
    finally:
        agent.cleanup()
    print("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
