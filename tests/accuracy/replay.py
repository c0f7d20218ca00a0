# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Replay of a test-guest ground-truth log as the host observations a
kvm_pvm host would give the agent (see /work/shared/host-notes.md):

- every CR3 load is seen (all guest ring-0 code is emulated): one `cr3`
  observation per SW line, raw value with the AS's PCID bits; a vCPU's boot
  CR3 (the kernel root) when it comes up; under KPTI each switch also shows
  the entry/exit flips (user root = kernel root + 4 KiB) around it;
- a root torn down while not loaded is zapped at once: one `zap`
  observation (root gfn, root_count 0, role level 4) per EXIT line.

Timestamps are the guest's own clock (line field t) on the host clock of the
BOOT line, so the agent's CPU-time accounting is compared with the guest's
on one clock; exit latency is zero by construction and not reported.  The
observations go to a running agent through af-inject (tests/agent).
"""
AF_SRC_EMULATE = 1
ROLE_ROOT = 4


def rebase(lines):
    """Truth lines with the host prefix replaced by BOOT's host ts + guest t."""
    out, base, last = [], None, 0
    for raw in lines:
        ts, tab, line = raw.rstrip("\n").partition("\t")
        if not tab:
            continue
        kv = dict(x.split("=", 1) for x in line.split()[2:] if "=" in x)
        t = kv.get("t")
        if line.startswith("AF BOOT") and t:
            base = int(ts) - int(t)
        if base is not None and t and t.isdigit():
            last = base + int(t)
        out.append(f"{last}\t{line}")
    return out


def observations(lines, vm_key, vm_pid):
    """Rebased truth lines -> af-inject OBS lines."""
    obs, pcid, kroot, kpti = [], {}, None, False
    cr3 = lambda ts, cpu, v: obs.append(f"cr3:{vm_key}:{vm_pid}:{cpu}:{v:#x}:{AF_SRC_EMULATE}:0:{ts}")
    for raw in lines:
        ts, _, line = raw.partition("\t")
        p = line.split()
        if len(p) < 2 or p[0] != "AF":
            continue
        kv = dict(x.split("=", 1) for x in p[2:] if "=" in x)
        if p[1] == "BOOT":
            kroot, kpti = int(kv["kernel_root"], 16), kv.get("ident") == "kpti"
            cr3(ts, 0, kroot)
        elif p[1] == "CPU":
            cr3(ts, kv["cpu"], kroot)
        elif p[1] == "CREATE":
            pcid[int(kv["root"], 16)] = int(kv.get("pcid", 0))
        elif p[1] == "SW":
            frm, to = int(kv["from"], 16), int(kv["to"], 16)
            if kpti and frm != kroot:
                cr3(ts, kv["cpu"], frm)			# kernel entry from user
            cr3(ts, kv["cpu"], to | pcid.get(to, 0))
            if kpti and to != kroot:
                cr3(ts, kv["cpu"], to | 0x1000)		# back to user
        elif p[1] == "EXIT":
            obs.append(f"zap:{vm_key}:{vm_pid}:{kv['cpu']}:{int(kv['root'], 16) >> 12:#x}:0:"
                       f"{ROLE_ROOT}:{ts}")
    return obs
