# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Raw tracepoint traces (JSON lines: one tracepoint record each, "k" =
cr3, get, zap, zap_all, uexit, mmio, pio; the format of tests/replay/shared)
as an antfarm-agent recording (agent/obs.h), so that they replay through
the state machine with antfarm-agent --replay.

What the tracepoint programs would have made of each record:
- cr3 (vcpu->arch.cr3 changed at kvm_emulate_insn): a `vcpu` observation at
  a vCPU's first sight, then `cr3` (source emulate);
- get (kvm_mmu_get_page): `get` with the role packed as the programs pack
  it, from a vCPU thread (its VM: from that thread's cr3 records);
- zap (kvm_mmu_prepare_zap_page): from a vCPU thread that is not exiting,
  a guest zap; from an exiting task the VM's teardown (`destroy`, once);
  from any other thread of the VMM a zap that is not the guest's doing;
- zap_all: `zapall` with the VM's generation at the call;
- mmio/pio writes: `notify`.
The traces carry no root-page contents: digests are absent, so what only
they can show (an unshadowed root reused) is not replayed.
"""
import gzip, json

PF_EXITING = 0x4
SRC_EMULATE, SRC_MMIO, SRC_PIO = 1, 6, 7
NOT_GUEST = 1 << 32
GEN_SHIFT = 40


def role_word(o):
    return (o["level"] & 0xf) | o["direct"] << 7 | o["invalid"] << 11 | o["guest_mode"] << 17


def convert(trace_path, out):
    with gzip.open(trace_path, "rt") as f:
        recs = [json.loads(l) for l in f if l.strip()]
    vcpu_of = {}			# tid -> (kvm, vcpu), from its cr3 records
    for o in recs:
        if o["k"] == "cr3":
            vcpu_of.setdefault(o["tid"], (int(o["kvm"], 16), o["vcpu"]))
    vm_of_pid = {pid: kvm for kvm, _ in vcpu_of.values() for pid in
                 {o["tgid"] for o in recs if vcpu_of.get(o["tid"], (None,))[0] == kvm}}
    seen, destroyed, lines = set(), set(), []
    obs = lambda kind, kvm, pid, vcpu, a=0, b=0, c=0, ts=0: lines.append(
        f"{kind}:{kvm:#x}:{pid}:{vcpu}:{a:#x}:{b:#x}:{c:#x}:{ts}")
    for o in recs:
        k, ts, pid, tid = o["k"], o["ts"], o["tgid"], o["tid"]
        if k == "cr3":
            kvm, v = int(o["kvm"], 16), o["vcpu"]
            if (kvm, v) not in seen:
                seen.add((kvm, v))
                obs("vcpu", kvm, pid, v, ts=ts)
            obs("cr3", kvm, pid, v, int(o["cr3"], 16), SRC_EMULATE, 0, ts)
        elif k == "get" and tid in vcpu_of and o["level"] >= 4 and not o["direct"]:
            kvm, v = vcpu_of[tid]
            obs("get", kvm, pid, v, int(o["gfn"], 16), o["created"], role_word(o), ts)
        elif k == "zap" and o["level"] >= 4 and not o["direct"] and not o["invalid"]:
            kvm = vm_of_pid.get(pid)
            if kvm is None or kvm in destroyed:
                continue
            c = role_word(o) | (o["valid_gen"] & 0xff) << GEN_SHIFT
            if o["task_flags"] & PF_EXITING:
                destroyed.add(kvm)
                obs("destroy", kvm, pid, 0xffffffff, ts=ts)
            elif tid in vcpu_of:
                obs("zap", kvm, pid, vcpu_of[tid][1], int(o["gfn"], 16), o["root_count"], c, ts)
            else:
                obs("zap", kvm, pid, 0xffffffff, int(o["gfn"], 16), o["root_count"],
                    c | NOT_GUEST, ts)
        elif k == "zap_all":
            obs("zapall", int(o["kvm"], 16), pid, 0xffffffff, o["valid_gen"] & 0xff, ts=ts)
        elif k in ("mmio", "pio") and tid in vcpu_of:
            kvm, v = vcpu_of[tid]
            obs("notify", kvm, pid, v, int(str(o["addr"]), 0), int(str(o.get("val", 0)), 0),
                SRC_MMIO if k == "mmio" else SRC_PIO, ts)
    for kvm in {kvm for kvm, _ in vcpu_of.values()} - destroyed:
        obs("destroy", kvm, 0, 0xffffffff, ts=recs[-1]["ts"] + 1)
    header = {"host": "pvm", "kernel": "recorded trace", "agent": "trace2rec", "abi": 1,
              "idle_ns": 0, "keep_ns": 60000000000, "want_switch": 1}
    with open(out, "w") as f:
        f.write("#antfarm-recording 1 " + json.dumps(header, separators=(",", ":")) + "\n")
        f.write("\n".join(lines) + "\n")
