// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Antfarm's BPF side: tracepoint programs on KVM that turn CR3 loads and
 * shadow-root lifetimes into guest-process events.  The rules live in
 * infer.h (shared with the userspace replay tests); this file only maps
 * each tracepoint's context onto a (VM, vCPU, observation).
 *
 * The collector (agent/collector.c) probes the host and sets autoload only
 * for the programs that apply; docs/kvm-tracepoints.md says why each hook
 * is used and what it shows on each kind of host.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "antfarm_abi.h"
#include "infer_types.h"
#include "digest.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the collector before load. */
const volatile __u32 cfg_exit_mode = AF_EXITMODE_NONE;	/* enum af_exit_mode */
const volatile __u32 cfg_emulate_full = 0;	/* emulated CR3 writes are every load (PVM) */
const volatile __u32 cfg_teardown_invisible = 0;	/* NPT/EPT: idle timeout ends processes */
const volatile __u32 cfg_lifecycle = 0;	/* --fidelity lifecycle: no CR3 sampling */
const volatile __u32 cfg_exit_vcpu_arg = 0;	/* kvm_exit: vcpu is arg 1 on 5.15, arg 0 after */
const volatile __u32 cfg_hf_guest_mask = 1;
const volatile __u32 cfg_max_live = 16384;	/* live processes per VM */
const volatile __u32 cfg_svm_vmcb_off = 0;	/* offsetof(struct vcpu_svm, vmcb); 0: right after kvm_vcpu */	/* HF_GUEST_MASK: bit 0 since 6.6, bit 5 before */
/* May change while running. */
volatile __u32 cfg_want_switch = 0;
volatile __u64 cfg_idle_ns = 0;
volatile __u64 cfg_keep_ns = 0;	/* exited processes are forgotten after this */
volatile __u32 cfg_record = 0;	/* --record: copy every observation to the "obs" ring */
volatile __u32 cfg_want_notify = 0;	/* a subscriber wants MMIO/PIO writes (notify_filter) */
volatile __u32 cfg_notify_naddr = 0;	/* ... at these addresses only; 0: at every address */
volatile __u64 cfg_notify_addr[AF_NOTIFY_ADDRS];

__u64 state_seq = 0;	/* bumped by VM teardown: invalidates the per-CPU CR3 caches */
__u64 ev_seq = 0;	/* af_event.seq */

struct af_thread {
	__u64 vm_key;
	__u32 vm_pid;
	__u32 vcpu;
	__u32 _pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 131072);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct af_as_key);
	__type(value, struct af_as_val);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct af_vm_val);
} vms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct af_vcpu_key);
	__type(value, struct af_vcpu_val);
} vcpus SEC(".maps");

/* thread id -> the vCPU it runs (kvm_cr, kvmmmu and kvm_fast_mmio carry no vcpu) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct af_thread);
} threads SEC(".maps");

/* VMM tgid -> its newest VM (struct kvm *), so that sched_process_exit costs
 * one lookup for other processes and teardown zaps from non-vCPU threads
 * find their VM */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} vmm_pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct af_cr3_cache);
} cr3_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AF_PROG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AF_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} evcount SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, AF_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);	/* resized by the collector before load */
} rb SEC(".maps");

/* --record: the observations, as af_replay takes them (AF_REPLAY_NARGS u64) */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} obs SEC(".maps");

/* replay: root digests fed by AF_OBS_DIGEST, per (VM, gfn) */
struct af_gfn_key {
	__u64 vm_key;
	__u64 gfn;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct af_gfn_key);
	__type(value, __u64);
} replay_digest SEC(".maps");

/* live processes whose root has no shadow page and is not loaded: the
 * agent re-reads these pages (see af_keep_digest in infer.h) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct af_as_key);
	__type(value, struct af_unshadowed);
} unshadowed SEC(".maps");

/* one root page copied out of guest memory */
struct af_page {
	__u64 e[512];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct af_page);
} page_buf SEC(".maps");

#define AF_INLINE		inline __attribute__((always_inline))
#define AF_LOOKUP(m, k)		bpf_map_lookup_elem(&m, k)
#define AF_UPDATE(m, k, v)	bpf_map_update_elem(&m, k, v, BPF_ANY)
#define AF_DELETE(m, k)		bpf_map_delete_elem(&m, k)
#define AF_FOR_EACH(m, cb, c)	bpf_for_each_map_elem(&m, cb, c, 0)
#define AF_RB_RESERVE()		((struct af_event *)bpf_ringbuf_reserve(&rb, sizeof(struct af_event), 0))
#define AF_RB_SUBMIT(e)		bpf_ringbuf_submit(e, 0)
#define AF_NOW()		bpf_ktime_get_ns()

static AF_INLINE void af_count(void *map, __u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(map, &idx);

	if (n)
		(*n)++;
}
#define af_count_drop(prog)	af_count(&drops, prog)
#define af_count_event(type)	af_count(&evcount, type)
#define af_count_stat(what)	af_count(&stats, what)
#define af_next_seq()		__sync_fetch_and_add(&ev_seq, 1)

static AF_INLINE void af_vm_born(struct af_cx *cx)
{
	bpf_map_update_elem(&vmm_pids, &cx->vm_pid, &cx->vm_key, BPF_ANY);
}

/* --record: one observation, in af_replay's argument layout.  Replayed
 * observations are not recorded again. */
static __noinline void af_record(struct af_cx *cx, __u64 kind, __u64 a, __u64 b, __u64 c)
{
	__u64 *r;

	if (!cfg_record || cx->prog == AF_PROG_REPLAY)
		return;
	r = bpf_ringbuf_reserve(&obs, AF_REPLAY_NARGS * sizeof(__u64), 0);
	if (!r) {
		af_count_stat(AF_STAT_RECORD_LOST);
		return;
	}
	r[0] = kind;
	r[1] = cx->vm_key;
	r[2] = cx->vm_pid;
	r[3] = cx->vcpu;
	r[4] = a;
	r[5] = b;
	r[6] = c;
	r[7] = cx->ts;
	bpf_ringbuf_submit(r, 0);
}
#define AF_RECORD(cx, kind, a, b, c)	af_record(cx, kind, a, b, c)

static AF_INLINE void af_digest_fed(struct af_cx *cx, __u64 gfn, __u64 d)
{
	struct af_gfn_key k = { .vm_key = cx->vm_key, .gfn = gfn };

	bpf_map_update_elem(&replay_digest, &k, &d, BPF_ANY);
}

/* Guest-physical frame -> address in the VMM's memory, through the VM's
 * memslots (address space 0; the gfn rb-tree of 5.17+).  0 if not found. */
static AF_INLINE __u64 af_gfn_hva(struct kvm *kvm, __u64 gfn)
{
	struct kvm_memslots *slots;
	struct rb_node *n;
	__u64 off;
	int i, idx;

	if (!bpf_core_field_exists(struct kvm_memslots, gfn_tree))
		return 0;
	slots = BPF_CORE_READ(kvm, memslots[0]);
	if (!slots)
		return 0;
	idx = BPF_CORE_READ(slots, node_idx) & 1;
	off = bpf_core_field_offset(struct kvm_memory_slot, gfn_node) +
	      idx * bpf_core_type_size(struct rb_node);
	n = BPF_CORE_READ(slots, gfn_tree.rb_node);
	for (i = 0; i < 32 && n; i++) {
		struct kvm_memory_slot *ms = (void *)n - off;
		__u64 base = BPF_CORE_READ(ms, base_gfn), np = BPF_CORE_READ(ms, npages);

		if (gfn < base)
			n = BPF_CORE_READ(n, rb_left);
		else if (gfn >= base + np)
			n = BPF_CORE_READ(n, rb_right);
		else
			return BPF_CORE_READ(ms, userspace_addr) + ((gfn - base) << 12);
	}
	return 0;
}

/*
 * AF_DIGEST_* of the root page at gfn: an FNV-1a hash of the present PML4
 * entries with U/S set (with their index), read from the VMM's memory.
 * Only a vCPU thread of the VM itself can read it (current->mm is the
 * VMM's).  In replay, the digest the recording fed.
 */
static __noinline __u64 af_root_digest(struct af_cx *cx, __u64 gfn)
{
	struct af_gfn_key k = { .vm_key = cx->vm_key, .gfn = gfn };
	__u64 hva, d, *fed;
	__u32 zero = 0;
	struct af_page *pg;

	if (cx->prog == AF_PROG_REPLAY) {
		fed = bpf_map_lookup_elem(&replay_digest, &k);
		return fed ? *fed : 0;
	}
	pg = bpf_map_lookup_elem(&page_buf, &zero);
	if (!pg || (bpf_get_current_pid_tgid() >> 32) != cx->vm_pid)
		return 0;
	hva = af_gfn_hva((struct kvm *)cx->vm_key, gfn);
	if (!hva || bpf_probe_read_user(pg, sizeof(*pg), (void *)hva))
		return 0;
	d = af_digest_of(pg->e);
	af_record(cx, AF_OBS_DIGEST, gfn, d, 0);
	return d;
}

/* 0 when the agent will poll this root (live only: a replay has no pages) */
static __noinline int af_unshadowed_put(struct af_cx *cx, __u64 as, __u64 digest)
{
	struct af_as_key k = { .vm_key = cx->vm_key, .as = as };
	struct af_unshadowed u = { .vm_pid = cx->vm_pid, .digest = digest };

	if (cx->prog == AF_PROG_REPLAY)
		return -1;
	u.hva = af_gfn_hva((struct kvm *)cx->vm_key, as >> 12);
	if (!u.hva)
		return -1;
	return bpf_map_update_elem(&unshadowed, &k, &u, BPF_ANY);
}

static AF_INLINE void af_unshadowed_del(struct af_cx *cx, __u64 as)
{
	struct af_as_key k = { .vm_key = cx->vm_key, .as = as };

	bpf_map_delete_elem(&unshadowed, &k);
}

#include "infer.h"

#define PF_EXITING_BIT 0x4	/* include/linux/sched.h, stable */

static AF_INLINE void af_cx_init(struct af_cx *cx, __u32 prog, __u32 src)
{
	cx->ts = bpf_ktime_get_ns();
	cx->prog = prog;
	cx->src = src;
}

/* Remember which vCPU this thread runs.  A thread seen for the first time
 * makes its VM and vCPU known, so that a VM whose CR3 is never sampled
 * (Intel EPT) is still listed, with fidelity "none". */
static AF_INLINE void af_thread_note(struct kvm_vcpu *vcpu, __u32 prog)
{
	__u64 id = bpf_get_current_pid_tgid(), kvm = (__u64)BPF_CORE_READ(vcpu, kvm);
	__u32 tid = (__u32)id, vcpu_id = BPF_CORE_READ(vcpu, vcpu_id);
	struct af_thread *t = bpf_map_lookup_elem(&threads, &tid), nt = {};
	struct af_cx cx;

	if (t && t->vm_key == kvm && t->vcpu == vcpu_id)
		return;
	nt.vm_key = kvm;
	nt.vm_pid = id >> 32;
	nt.vcpu = vcpu_id;
	bpf_map_update_elem(&threads, &tid, &nt, BPF_ANY);
	af_cx_init(&cx, prog, AF_SRC_NONE);
	cx.vm_key = kvm;
	cx.vm_pid = nt.vm_pid;
	cx.vcpu = vcpu_id;
	af_vcpu_seen(&cx);
}

static AF_INLINE struct af_thread *af_thread_get(struct af_cx *cx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct af_thread *t = bpf_map_lookup_elem(&threads, &tid);

	if (t) {
		cx->vm_key = t->vm_key;
		cx->vm_pid = t->vm_pid;
		cx->vcpu = t->vcpu;
	}
	return t;
}

static AF_INLINE void af_cx_vcpu(struct af_cx *cx, struct kvm_vcpu *vcpu)
{
	cx->vm_key = (__u64)BPF_CORE_READ(vcpu, kvm);
	cx->vm_pid = bpf_get_current_pid_tgid() >> 32;
	cx->vcpu = BPF_CORE_READ(vcpu, vcpu_id);
}

/*
 * The vCPU this task is running, or NULL.  KVM registers a vCPU's preempt
 * notifier (kvm_vcpu.preempt_notifier, the task's only one) in vcpu_load()
 * for the whole of KVM_RUN and removes it in vcpu_put(): so this is also
 * "inside KVM_RUN", which tells a zap the guest's writes caused from one of
 * a memslot change or the VM's teardown, with no state to keep.
 */
static AF_INLINE struct kvm_vcpu *af_running_vcpu(struct task_struct *task)
{
	struct hlist_node *n = BPF_CORE_READ(task, preempt_notifiers.first);

	if (!n)
		return NULL;
	return (void *)n - bpf_core_field_offset(struct kvm_vcpu, preempt_notifier) -
	       bpf_core_field_offset(struct preempt_notifier, link);
}

/*
 * Every emulated instruction (all guest ring-0 code under kvm_pvm): the
 * per-CPU cache makes an unchanged CR3 cost one array lookup.
 */
SEC("tp_btf/kvm_emulate_insn")
int BPF_PROG(af_emulate, struct kvm_vcpu *vcpu)
{
	__u64 cr3 = vcpu->arch.cr3, kvm = (__u64)vcpu->kvm;
	__u32 zero = 0, id = vcpu->vcpu_id;
	struct af_cr3_cache *c = bpf_map_lookup_elem(&cr3_cache, &zero);
	struct af_cx cx;

	if (af_cr3_cached(c, cr3, kvm, id))
		return 0;
	/* L2 running (nested): its CR3s are not this VM's processes */
	if (vcpu->arch.hflags & cfg_hf_guest_mask)
		return 0;
	/* Intel EPT: arch.cr3 is stale unless KVM cached it during this exit */
	if (cfg_exit_mode == AF_EXITMODE_VMX &&
	    !(vcpu->arch.regs_avail & (1u << AF_VCPU_EXREG_CR3)))
		return 0;
	af_cx_init(&cx, AF_PROG_EMULATE, AF_SRC_EMULATE);
	cx.vm_key = kvm;
	cx.vm_pid = bpf_get_current_pid_tgid() >> 32;
	cx.vcpu = id;
	/* same vCPU on this CPU since the last userspace exit (which clears
	 * the cache's vm_key): the thread is already noted as in KVM_RUN */
	if (!c || c->vm_key != kvm || c->vcpu != id || c->seq != state_seq)
		af_thread_note(vcpu, AF_PROG_EMULATE);
	af_cr3_sample(&cx, cr3);
	return 0;
}

/* kvm_exit: raw_tp because the vcpu argument moved (5.15: arg 1). */
SEC("raw_tp/kvm_exit")
int af_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct kvm_vcpu *vcpu = (void *)(cfg_exit_vcpu_arg ? ctx->args[1] : ctx->args[0]);
	__u64 vmcb = 0, cr3 = 0;
	struct af_cx cx;

	af_thread_note(vcpu, AF_PROG_EXIT);
	if (cfg_exit_mode != AF_EXITMODE_SVM ||
	    (BPF_CORE_READ(vcpu, arch.hflags) & cfg_hf_guest_mask))
		return 0;	/* in guest mode the VMCB is vmcb02: L2's CR3 */
	/* struct vcpu_svm { struct kvm_vcpu vcpu; struct vmcb *vmcb; ... } (the
	 * collector reads the offset from kvm_amd BTF when it can): the guest
	 * CR3 the CPU saved at #VMEXIT is vmcb->save.cr3, VMCB + 0x550 */
	bpf_probe_read_kernel(&vmcb, sizeof(vmcb), (void *)vcpu + (cfg_svm_vmcb_off ?
			      cfg_svm_vmcb_off : bpf_core_type_size(struct kvm_vcpu)));
	if (!vmcb || bpf_probe_read_kernel(&cr3, sizeof(cr3), (void *)(vmcb + 0x550)))
		return 0;
	af_cx_init(&cx, AF_PROG_EXIT, AF_SRC_EXIT);
	af_cx_vcpu(&cx, vcpu);
	af_exit_sample(&cx, cr3, 0);
	return 0;
}

/* kvm_entry: argument 0 only (a bool was added in 6.1.y/6.9+). */
SEC("tp_btf/kvm_entry")
int BPF_PROG(af_entry, struct kvm_vcpu *vcpu)
{
	struct af_cx cx;

	af_thread_note(vcpu, AF_PROG_ENTRY);
	if (cfg_exit_mode != AF_EXITMODE_VMX || (vcpu->arch.hflags & cfg_hf_guest_mask))
		return 0;
	af_cx_init(&cx, AF_PROG_ENTRY, AF_SRC_EXIT);
	af_cx_vcpu(&cx, vcpu);
	af_exit_sample(&cx, vcpu->arch.cr3, vcpu->arch.regs_avail);
	return 0;
}

/* kvm_cr: every MOV to CR3 under shadow paging (VMX ept=0, SVM npt=0). */
SEC("tp_btf/kvm_cr")
int BPF_PROG(af_cr, unsigned int rw, unsigned int cr, unsigned long val)
{
	struct af_cx cx;

	if (rw != 1 || cr != 3)
		return 0;
	struct kvm_vcpu *vcpu = af_running_vcpu(bpf_get_current_task_btf());

	if (!vcpu)
		return 0;
	af_cx_init(&cx, AF_PROG_CR, AF_SRC_CR);
	af_cx_vcpu(&cx, vcpu);
	af_cr3(&cx, val);
	return 0;
}

static AF_INLINE int af_role_maybe_root(__u32 role)
{
	return !AF_ROLE_DIRECT(role) && !AF_ROLE_GUEST_MODE(role) && AF_ROLE_LEVEL(role) >= 4;
}

/*
 * The role bits the state machine uses, read by CO-RE bitfield relocations
 * and packed into the ABI's layout (AF_ROLE_*), so a kernel that moves them
 * (5.15's gpte_is_8_bytes, 6.1's passthrough, 6.14's is_mirror moved
 * neighbours) still decodes right.
 */
static AF_INLINE __u32 af_role_norm(struct kvm_mmu_page *sp)
{
	union kvm_mmu_page_role *r = &sp->role;

	return (__u32)BPF_CORE_READ_BITFIELD(r, level) |
	       (__u32)BPF_CORE_READ_BITFIELD(r, direct) << 7 |
	       (__u32)BPF_CORE_READ_BITFIELD(r, invalid) << 11 |
	       (__u32)BPF_CORE_READ_BITFIELD(r, guest_mode) << 17;
}

/* kvm_mmu_get_page: every shadow-page lookup; only roots matter. */
SEC("tp_btf/kvm_mmu_get_page")
int BPF_PROG(af_mmu_get, struct kvm_mmu_page *sp, bool created)
{
	__u32 role = af_role_norm(sp);
	struct af_cx cx;

	struct kvm_vcpu *vcpu;

	if (!af_role_maybe_root(role))
		return 0;
	vcpu = af_running_vcpu(bpf_get_current_task_btf());
	if (!vcpu)
		return 0;
	af_cx_init(&cx, AF_PROG_MMU_GET, AF_SRC_MMU_GET);
	af_cx_vcpu(&cx, vcpu);
	af_root_get(&cx, sp->gfn, created, role);
	return 0;
}

/*
 * A zap outside KVM_RUN: memslot change, or the VM being destroyed.  While
 * kvm_destroy_vm() runs, kvm->users_count is 0: then every process of the
 * VM ends now (a VMM may close a VM and live on, so sched_process_exit is
 * not enough).
 */
static AF_INLINE int af_teardown_check(struct af_cx *cx, __u64 kvm)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u64 *last;
	struct af_vm_val *vm;

	if (!kvm) {
		last = bpf_map_lookup_elem(&vmm_pids, &tgid);
		if (!last)
			return -1;
		kvm = *last;
	}
	vm = bpf_map_lookup_elem(&vms, &kvm);
	if (!vm || (vm->flags & AF_VMF_DEAD))
		return -1;
	cx->vm_key = kvm;
	cx->vm_pid = vm->vm_pid;
	cx->vcpu = AF_VCPU_NONE;
	if (BPF_CORE_READ((struct kvm *)kvm, users_count.refs.counter) != 0)
		return 0;	/* alive: a memslot change, say */
	af_vm_destroy(cx, kvm, 0);
	return 1;
}

/* KVM reclaims shadow pages, unloaded roots among them, when fewer than
 * KVM_REFILL_PAGES (25) are left (make_mmu_pages_available): such a zap
 * says nothing about the guest. */
static AF_INLINE __u64 af_zap_pressure(__u64 kvm)
{
	struct kvm *k = (struct kvm *)kvm;
	__u64 max = BPF_CORE_READ(k, arch.n_max_mmu_pages);
	__u64 used = BPF_CORE_READ(k, arch.n_used_mmu_pages);

	return used + 25 >= max ? AF_ZAPF_PRESSURE : 0;
}

/* Lifecycle mode knows no vCPU's current root from CR3 loads: ask KVM.
 * Only the writing vCPU is known; another vCPU running it is taken as not. */
static AF_INLINE int af_vcpu_has_root(struct kvm_vcpu *vcpu, __u64 gfn)
{
	return (BPF_CORE_READ(vcpu, arch.mmu, root.pgd) & AF_ROOT_MASK) >> 12 == gfn;
}

SEC("tp_btf/kvm_mmu_prepare_zap_page")
int BPF_PROG(af_mmu_zap, struct kvm_mmu_page *sp)
{
	__u32 role = af_role_norm(sp);
	struct task_struct *task = bpf_get_current_task_btf();
	struct kvm_vcpu *vcpu = af_running_vcpu(task);
	struct af_cx cx = {};
	__u64 c = role | ((__u64)sp->mmu_valid_gen << AF_ZAPF_GEN_SHIFT);

	if (!af_role_maybe_root(role) || AF_ROLE_INVALID(role))
		return 0;
	af_cx_init(&cx, AF_PROG_MMU_ZAP, AF_SRC_MMU_ZAP);
	/* guest-caused zaps happen inside KVM_RUN; teardown runs in an exiting
	 * task or outside KVM_RUN, and so do memslot changes, which are not
	 * exits but leave live roots unshadowed */
	if (!vcpu || (task->flags & PF_EXITING_BIT)) {
		if (af_teardown_check(&cx, vcpu ? (__u64)BPF_CORE_READ(vcpu, kvm) : 0) != 0)
			return 0;
		c |= AF_ZAPF_NOT_GUEST;
	} else {
		af_cx_vcpu(&cx, vcpu);
		if (cfg_lifecycle && af_vcpu_has_root(vcpu, sp->gfn))
			c |= AF_ZAPF_LOADED;
	}
	af_root_zap(&cx, sp->gfn, sp->root_count, c | af_zap_pressure(cx.vm_key));
	return 0;
}

SEC("tp_btf/kvm_mmu_zap_all_fast")
int BPF_PROG(af_zap_all_fast, struct kvm *kvm)
{
	struct af_cx cx;

	af_cx_init(&cx, AF_PROG_ZAP_ALL, AF_SRC_MMU_ZAP);
	cx.vm_key = (__u64)kvm;
	af_zap_all(&cx, kvm->arch.mmu_valid_gen);
	return 0;
}

SEC("tp_btf/kvm_page_fault")
int BPF_PROG(af_pfault, struct kvm_vcpu *vcpu)
{
	af_thread_note(vcpu, AF_PROG_PFAULT);
	return 0;
}

/* A VMM process is gone: every VM it owned is destroyed. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(af_pexit, struct task_struct *task)
{
	__u32 tgid = task->tgid, tid = task->pid;
	struct af_cx cx = {};

	bpf_map_delete_elem(&threads, &tid);
	if (!bpf_map_lookup_elem(&vmm_pids, &tgid))
		return 0;
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;	/* other threads remain */
	bpf_map_delete_elem(&vmm_pids, &tgid);
	af_cx_init(&cx, AF_PROG_PEXIT, AF_SRC_NONE);
	cx.vm_pid = tgid;
	af_vm_destroy(&cx, 0, tgid);
	return 0;
}

/* VMM pid -> which of its guest's writes are doorbells someone wants
 * (antfarm_abi.h); filled by the agent */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct af_notify_filter);
} notify_filter SEC(".maps");

/* Every guest MMIO/PIO write fires these programs; most are not doorbells
 * anyone waits for, and each record costs a ring-buffer wake-up and a trip
 * through the agent.  Keyed by the current tgid (a vCPU thread's is its
 * VMM's pid): a VM nobody serves costs one lookup. */
static AF_INLINE int af_notify_wanted(__u64 addr, __u64 value)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32, i;
	struct af_notify_filter *f;

	if (cfg_want_notify) {
		if (!cfg_notify_naddr)
			return 1;
		for (i = 0; i < AF_NOTIFY_ADDRS; i++) {
			if (i >= cfg_notify_naddr)
				break;
			if (cfg_notify_addr[i] == addr)
				return 1;
		}
	}
	f = bpf_map_lookup_elem(&notify_filter, &tgid);
	if (!f)
		return 0;
	if (f->flags & AF_NF_LEARNING)
		return !f->max_value || value < f->max_value;
	for (i = 0; i < AF_NF_DOORBELLS; i++) {
		if (i >= f->ndb)
			break;
		if (f->db[i] == addr)
			return 1;
	}
	return 0;
}

static AF_INLINE void af_notify_here(__u32 prog, __u32 src, __u64 addr, __u64 value)
{
	struct kvm_vcpu *vcpu;
	struct af_cx cx = {};

	if (!af_notify_wanted(addr, value))
		return;
	vcpu = af_running_vcpu(bpf_get_current_task_btf());
	if (!vcpu)
		return;
	af_cx_init(&cx, prog, src);
	af_cx_vcpu(&cx, vcpu);
	af_notify(&cx, addr, value);
}

#define KVM_TRACE_MMIO_WRITE 2

SEC("tp_btf/kvm_mmio")
int BPF_PROG(af_mmio, int type, int len, __u64 gpa, void *val)
{
	__u64 v = 0;

	if (type != KVM_TRACE_MMIO_WRITE)
		return 0;
	/* local APIC and IOAPIC writes (EOI, timer) are not device doorbells */
	if ((gpa >= 0xfee00000 && gpa < 0xfef00000) || (gpa >= 0xfec00000 && gpa < 0xfec01000))
		return 0;
	if (val)
		bpf_probe_read_kernel(&v, len > 0 && len < 8 ? len & 7 : 8, val);
	af_notify_here(AF_PROG_MMIO, AF_SRC_MMIO, gpa, v);
	return 0;
}

SEC("tp_btf/kvm_fast_mmio")
int BPF_PROG(af_fast_mmio, __u64 gpa)
{
	af_notify_here(AF_PROG_FAST_MMIO, AF_SRC_MMIO, gpa, 0);
	return 0;
}

SEC("tp_btf/kvm_pio")
int BPF_PROG(af_pio, unsigned int rw, unsigned int port, unsigned int size,
	     unsigned int count, const void *data)
{
	__u32 v = 0;

	if (rw != 1)
		return 0;	/* KVM_PIO_OUT */
	if (data)
		bpf_probe_read_kernel(&v, size > 0 && size < 4 ? size & 3 : 4, data);
	af_notify_here(AF_PROG_PIO, AF_SRC_PIO, port, v);
	return 0;
}

/*
 * Never attached: tests and the collector's idle sweep run it through
 * BPF_PROG_TEST_RUN with AF_REPLAY_NARGS u64 args (antfarm_abi.h).
 */
SEC("raw_tp")
int af_replay(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 a[AF_REPLAY_NARGS];
	struct af_cx cx = {};
	int i;

	for (i = 0; i < AF_REPLAY_NARGS; i++)
		a[i] = ctx->args[i];
	cx.prog = AF_PROG_REPLAY;
	return af_replay_dispatch(&cx, a);
}
