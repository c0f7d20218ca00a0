/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The ABI shared by the BPF programs (bpf/) and antfarm-agent, in this
 * order: ring-buffer records, the map layouts the agent reads, the
 * counters, what the collector configures, and the replay program's input.
 * Fixed-width types only, explicit enum values; the sizes are checked at
 * compile time on both sides (clang -target bpf and the C compiler).
 * Add fields at the end of a struct; never reorder or resize existing ones.
 */
#ifndef ANTFARM_ABI_H
#define ANTFARM_ABI_H

#ifdef __VMLINUX_H__
/* BPF side: types come from vmlinux.h */
#else
#include <linux/types.h>
#endif

/* The BPF object is built into the agent (skeleton), so these two always
 * agree; a recording (antfarm-agent --record) carries this version, and
 * --replay refuses one of another version: its observations and records
 * would be read with the wrong layout.  Bump it when any layout here or
 * the meaning of an observation changes. */
#define AF_ABI_VERSION 1

/* ---- ring-buffer records ---- */


/* Record types. */
enum af_ev_type {
	AF_EV_CREATE  = 1,	/* new address space (or new generation of a root) */
	AF_EV_EXIT    = 2,	/* address space ended; reason in af_event.reason */
	AF_EV_SWITCH  = 3,	/* vCPU switched from one address space to another */
	AF_EV_VM_EXIT = 4,	/* the VM was destroyed */
	AF_EV_NOTIFY  = 5,	/* guest wrote a device doorbell (MMIO/PIO) */
	AF_EV_VM_NEW  = 6,	/* first sight of a VM */
	AF_EV_UNSHADOWED = 7,	/* internal (never sent to subscribers): a process left
				 * its vCPU with its root unshadowed; the agent polls
				 * the root page (map "unshadowed") until it is shadowed again */
};

/* Why an address space ended. */
enum af_exit_reason {
	AF_EXIT_NONE   = 0,
	AF_EXIT_ZAP    = 1,	/* root torn down by guest writes to it */
	AF_EXIT_VM     = 2,	/* the VM was destroyed */
	AF_EXIT_IDLE   = 3,	/* not seen for the idle timeout (host cannot see teardown) */
	AF_EXIT_REUSED = 4,	/* root page came back as a new process without a visible teardown */
};

/* How much of a VM's CR3 traffic the host can see. */
enum af_fidelity {
	AF_FID_NONE    = 0,	/* no CR3 source (Intel EPT without cached CR3) */
	AF_FID_SAMPLED = 1,	/* CR3 sampled at exits/emulation: switches between samples are missed */
	AF_FID_FULL    = 2,	/* every CR3 load is seen (kvm_cr under shadow paging, emulated CR3 writes) */
	AF_FID_LIFECYCLE = 3,	/* --fidelity lifecycle: creates and exits from shadow roots only,
				 * no switches, no CPU time */
};

/* Which signal produced an observation (for stats and fidelity). */
enum af_source {
	AF_SRC_NONE      = 0,
	AF_SRC_EMULATE   = 1,	/* kvm:kvm_emulate_insn, vcpu->arch.cr3 */
	AF_SRC_CR        = 2,	/* kvm:kvm_cr write to CR3 */
	AF_SRC_EXIT      = 3,	/* kvm:kvm_exit / kvm_entry sampling */
	AF_SRC_MMU_GET   = 4,	/* kvmmmu:kvm_mmu_get_page (root) */
	AF_SRC_MMU_ZAP   = 5,	/* kvmmmu:kvm_mmu_prepare_zap_page (root) */
	AF_SRC_MMIO      = 6,	/* kvm:kvm_mmio / kvm_fast_mmio */
	AF_SRC_PIO       = 7,	/* kvm:kvm_pio */
	AF_SRC_REPLAY    = 8,	/* injected through BPF_PROG_TEST_RUN (tests) */
};

/*
 * One ring-buffer record.  'as' is the canonical address-space id: the
 * guest-physical address of the page-table root with PCID (bits 0-11),
 * NOFLUSH (bit 63) and LAM bits stripped, the user half of a KPTI pair
 * folded onto its kernel half.  (as, gen) names one process for the life
 * of the VM.
 */
struct af_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u64 vm_key;		/* struct kvm * of the VM, opaque, unique while it lives */
	__u64 as;		/* CREATE/EXIT/SWITCH(to)/NOTIFY: the address space */
	__u64 from_as;		/* SWITCH: previous address space (0 = none yet) */
	__u64 run_ns;		/* EXIT: accumulated CPU time of the process */
	__u64 addr;		/* NOTIFY: guest-physical MMIO address or port */
	__u64 value;		/* NOTIFY: value written (virtio: queue index) */
	__u32 vm_pid;		/* VMM process (tgid) */
	__u32 vcpu;		/* vCPU id, or ~0u when not tied to a vCPU */
	__u32 gen;		/* generation of 'as' */
	__u32 from_gen;		/* SWITCH: generation of from_as */
	__u16 type;		/* enum af_ev_type */
	__u16 reason;		/* EXIT: enum af_exit_reason */
	__u16 source;		/* enum af_source */
	__u16 flags;		/* AF_EVF_* */
	__u64 seq;		/* per-ring sequence number, for loss detection */
};

#define AF_EVF_KPTI	0x1	/* the process uses a KPTI root pair */
#define AF_EVF_PCID	0x2	/* the guest uses PCIDs */

#define AF_EVENT_SIZE 88
#define AF_VCPU_NONE  0xffffffffu

/* ---- map layouts, read by the collector ---- */

/* BPF maps "procs", "vms", "vcpus". */
struct af_as_key {
	__u64 vm_key;
	__u64 as;		/* canonical root, KPTI-folded */
};

struct af_as_val {
	__u64 first_ns, last_ns;
	__u64 run_ns;
	__u64 switches;		/* switches into this address space */
	__u32 gen;
	__u32 last_vcpu;
	__u16 live;
	__u16 reason;		/* enum af_exit_reason once !live */
	__u16 flags;		/* AF_EVF_* */
	__u16 state;		/* AF_ASS_* */
	__u32 vm_pid;
	__u32 digest;		/* AF_ASS_UNSHADOWED: root digest when last unloaded */
};

/* af_as_val.state */
#define AF_ASS_UNSHADOWED 0x1	/* KVM zapped the root's shadow page while it was loaded
				 * (the guest wrote its live root): teardown is invisible
				 * until KVM shadows the page again */
#define AF_ASS_DIGEST	  0x2	/* digest holds the root's digest at its last unload */
#define AF_ASS_EMPTY	  0x4	/* ... which was an empty user half (a kernel-only root) */
#define AF_ASS_USER	  0x8	/* its root had user (U/S) entries when it was created: an
				 * empty user half later is its teardown */
#define AF_ASS_WRITTEN	  0x10	/* the zap that unshadowed it came from guest writes to it */
#define AF_ASS_SHADOW	  (AF_ASS_UNSHADOWED | AF_ASS_DIGEST | AF_ASS_EMPTY | AF_ASS_WRITTEN)

/*
 * Root digests: what a page-table root page holds, for telling a process
 * that is loaded again from a new process on a reused root page when KVM
 * has dropped the root's shadow page while the process was live (so its
 * teardown could not be seen).  Over the present PML4 entries with U/S=1
 * (the user half on every OS: kernel entries are supervisor-only).
 */
#define AF_DIGEST_VALID	(1ull << 63)	/* the page could be read */
#define AF_DIGEST_EMPTY	(1ull << 62)	/* no present user entry: the address space is gone */
#define AF_DIGEST_HASH(d) ((__u32)(d))

#define AF_VMF_KPTI	0x1	/* KPTI root pairs seen: user half folded onto the kernel half */
#define AF_VMF_SHADOW	0x2	/* shadow roots seen: teardown is visible */
#define AF_VMF_ZAPALL	0x4	/* a fast zap-all happened; obsolete_gen is valid */
#define AF_VMF_DEAD	0x8	/* destroyed */
#define AF_VMF_SAMPLED	0x10	/* CR3 only sampled: idle timeout ends processes */

struct af_vm_val {
	__u64 first_ns, last_ns;
	__u32 vm_pid;
	__u32 nvcpus;
	__u32 live_procs;
	__u32 fidelity;		/* enum af_fidelity */
	__u32 flags;		/* AF_VMF_* */
	__u8 obsolete_gen;
	__u8 root_level;
	__u16 _pad;
	__u32 gen_base;		/* highest generation of a reaped process entry: new
				 * entries start above it, so (as, gen) stays unique */
	__u32 _pad2;
};

struct af_vcpu_key {
	__u64 vm_key;
	__u32 vcpu;
	__u32 _pad;
};

#define AF_VCF_PENDING 0x1	/* user half of a possible KPTI pair loaded, not yet confirmed */

struct af_vcpu_val {
	__u64 cur_as;		/* current address space, 0 = none yet */
	__u64 since_ns;		/* when cur_as was loaded */
	__u64 last_root;	/* last canonical root loaded, before KPTI folding */
	__u64 pend_since;	/* AF_VCF_PENDING: when the user half was loaded */
	__u32 cur_gen;
	__u32 flags;
};

/* Map "unshadowed" (key struct af_as_key): a live process whose root page
 * KVM does not shadow and which is not loaded: where the agent re-reads
 * the page (/proc/PID/mem at hva) to see a teardown nothing else shows. */
struct af_unshadowed {
	__u64 hva;		/* the root page in the VMM's address space */
	__u64 digest;		/* AF_DIGEST_* when it was kept */
	__u32 vm_pid;
	__u32 _pad;
};

/* ---- counters ---- */

/* Program slots for the per-program counters (reserve failures). */
enum af_prog_id {
	AF_PROG_REPLAY = 0, AF_PROG_EMULATE, AF_PROG_ENTRY, AF_PROG_EXIT, AF_PROG_CR,
	AF_PROG_MMU_GET, AF_PROG_MMU_ZAP, AF_PROG_ZAP_ALL,
	AF_PROG_UEXIT,		/* unused: kvm_userspace_exit is no longer traced */
	AF_PROG_PFAULT,
	AF_PROG_PEXIT, AF_PROG_MMIO, AF_PROG_FAST_MMIO, AF_PROG_PIO,
	AF_PROG_MAX = 16,
};
#define AF_EV_MAX 8	/* slots of the events-by-type counter (index = enum af_ev_type) */

/* Counters of state the BPF side could not keep (BPF map "stats", per CPU). */
enum af_stat {
	AF_STAT_PROCS_FULL = 0,	/* procs map full: a process was not created */
	AF_STAT_VM_LIMIT   = 1,	/* a VM hit cfg_max_live live processes */
	AF_STAT_VCPUS_FULL = 2,	/* vcpus map full */
	AF_STAT_VMS_FULL   = 3,	/* vms map full */
	AF_STAT_REAPED     = 4,	/* exited process entries removed after the keep time */
	AF_STAT_DIGEST_FAIL = 5, /* a root page could not be read from guest memory */
	AF_STAT_RECORD_LOST = 6, /* --record: observations lost (record ring full) */
	AF_STAT_MAX        = 8,
};

/* ---- configuration the collector sets before load ---- */

/* How kvm_exit/kvm_entry samples CR3 (BPF .rodata cfg_exit_mode). */
enum af_exit_mode {
	AF_EXITMODE_NONE = 0,
	AF_EXITMODE_SVM  = 1,	/* AMD NPT: VMCB save.cr3 at every exit: always valid */
	AF_EXITMODE_VMX  = 2,	/* Intel EPT: vcpu->arch.cr3 only when regs_avail has VCPU_EXREG_CR3 */
};
#define AF_VCPU_EXREG_CR3 19	/* enum kvm_reg, the same in every tree since 5.x */

/* ---- replay ---- */

/*
 * The "af_replay" raw_tp program is loaded by the agent but never
 * attached.  Tests feed it normalized observations through
 * BPF_PROG_TEST_RUN with a context of AF_REPLAY_NARGS u64 arguments; it
 * runs the same state machine as the tracepoint programs, on the live maps
 * and ring buffer.  args[0] = enum af_obs_kind, [1] = vm_key, [2] = vm_pid,
 * [3] = vcpu, [4] = a, [5] = b, [6] = c, [7] = ts_ns (0: now).
 */
enum af_obs_kind {
	AF_OBS_CR3        = 1,	/* a = CR3 value loaded on vcpu (raw, with PCID/NOFLUSH bits),
				 * b = enum af_source it would come from */
	AF_OBS_ROOT_GET   = 2,	/* a = root gfn, b = created, c = role word */
	AF_OBS_ROOT_ZAP   = 3,	/* a = root gfn, b = root_count, c = role word | AF_ZAPF_* */
	AF_OBS_VM_DESTROY = 4,	/* the VM is gone */
	AF_OBS_NOTIFY     = 5,	/* a = doorbell address, b = value written, c = enum af_source */
	AF_OBS_TICK       = 6,	/* idle-timeout sweep at ts */
	AF_OBS_ZAP_ALL    = 7,	/* fast zap-all (memslot change): a = kvm->arch.mmu_valid_gen before it */
	AF_OBS_VMM_EXIT   = 8,	/* the VMM process (vm_pid) is gone: every VM it owns is destroyed */
	AF_OBS_DIGEST     = 9,	/* a = root gfn, b = af_root_digest() of that page read from
				 * guest memory (recorded live; replay feeds it before the
				 * observation that asked for it) */
	AF_OBS_VCPU       = 10,	/* a vCPU thread seen for the first time: the VM and vCPU exist */
	AF_OBS_POLL       = 11,	/* a = root gfn: the agent read the unshadowed root page again
				 * (its digest fed first): torn down or reused meanwhile? */
};
#define AF_OBS_KIND_MAX	11
#define AF_REPLAY_NARGS 8
#define AF_REPLAY_PROG  "af_replay"

/*
 * AF_OBS_ROOT_ZAP context, in the upper half of 'c' (the lower half is the
 * role word): what the tracepoint program learned from the zap's context.
 */
#define AF_ZAPF_NOT_GUEST (1ull << 32)	/* not inside KVM_RUN of a vCPU: memslot, teardown, VMM */
#define AF_ZAPF_LOADED    (1ull << 34)	/* lifecycle mode: the writing vCPU has this root loaded
					 * (vcpu->arch.mmu->root.pgd) */
#define AF_ZAPF_PRESSURE  (1ull << 33)	/* KVM was short of MMU pages: it reclaims roots
					 * (kvm_mmu_zap_oldest_mmu_pages), guest writes or not */
#define AF_ZAPF_GEN_SHIFT 40		/* sp->mmu_valid_gen in bits 40-47 */

/* ---- notify filter (BPF map "notify_filter") ---- */

/*
 * Which guest MMIO/PIO writes become NOTIFY records: BPF map
 * "notify_filter", keyed by the VMM's pid, written by the agent from what
 * the antfarm-blk backends serving that VM tell it (include/antfarm_hint.h).
 * A VM without an entry produces none; AF_NF_LEARNING: every write with a
 * value below max_value (a queue index); else only writes to db[0..ndb).
 * While a socket subscriber asked for notify events (bss cfg_want_notify)
 * every write passes.  Never applied to replayed observations.
 */
#define AF_NF_DOORBELLS	64
/* addresses of notify events subscribers asked for (cfg_notify_addr) */
#define AF_NOTIFY_ADDRS	16
#define AF_NF_LEARNING	0x1

struct af_notify_filter {
	__u32 flags;		/* AF_NF_* */
	__u32 ndb;
	__u64 max_value;	/* 0: any value */
	__u64 db[AF_NF_DOORBELLS];
};

/* ---- sizes, checked by both compilers ---- */

_Static_assert(sizeof(struct af_event) == AF_EVENT_SIZE, "af_event ABI size");
_Static_assert(sizeof(struct af_notify_filter) == 528, "af_notify_filter ABI size");
_Static_assert(sizeof(struct af_as_val) == 56, "af_as_val ABI size");
_Static_assert(sizeof(struct af_vm_val) == 48, "af_vm_val ABI size");
_Static_assert(sizeof(struct af_vcpu_val) == 40, "af_vcpu_val ABI size");
_Static_assert(sizeof(struct af_unshadowed) == 24, "af_unshadowed ABI size");

#endif /* ANTFARM_ABI_H */
