/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Types of the state machine (bpf/infer.h) that the map definitions need first. */
#ifndef AF_INFER_TYPES_H
#define AF_INFER_TYPES_H

/* Who is observing: one per program invocation. */
struct af_cx {
	__u64 ts;
	__u64 vm_key;
	__u32 vm_pid;
	__u32 vcpu;
	__u32 prog;		/* enum af_prog_id, for the drop counters */
	__u32 src;		/* enum af_source */
};

/* Per-CPU fast-path cache for sampled CR3 (kvm_emulate_insn fires per instruction). */
struct af_cr3_cache {
	__u64 vm_key;
	__u64 raw;
	__u64 seq;		/* state_seq when filled: a VM teardown or a return to
				 * userspace invalidates every cache */
	__u32 vcpu;
	__u32 _pad;
};

#endif
