/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Antfarm inference state machine: guest processes (address spaces)
 * from CR3 loads and shadow page-table root lifetimes.
 *
 * This one header is compiled into the BPF object (bpf/antfarm.bpf.c) and
 * into a userspace test build (tests/infer/shim.h), so every rule here is
 * unit-tested by replaying event sequences.  The includer provides:
 *   AF_INLINE                  always-inline attribute
 *   AF_LOOKUP(map, key)        value pointer or NULL
 *   AF_UPDATE(map, key, val)   insert/overwrite
 *   AF_DELETE(map, key)
 *   AF_FOR_EACH(map, cb, ctx)  cb(struct bpf_map *, const void *k, void *v, void *ctx)
 *   AF_RB_RESERVE() / AF_RB_SUBMIT(e)    ring buffer (struct af_event)
 *   af_count_drop(prog), af_count_event(type), af_next_seq(), af_vm_born(cx)
 *   AF_NOW()                   CLOCK_MONOTONIC ns (cx->ts == 0 means "read it when needed")
 *   af_count_stat(enum af_stat)
 *   AF_RECORD(cx, kind, a, b, c)   an observation entering the state machine,
 *                              in af_replay's terms (for --record; no-op in replay)
 *   af_root_digest(cx, gfn)    AF_DIGEST_* of a root page (guest memory, or in
 *                              replay the last AF_OBS_DIGEST fed for it)
 *   af_digest_fed(cx, gfn, d)  replay: remember d as the digest of gfn
 *   af_unshadowed_put(cx, as, digest) / af_unshadowed_del(cx, as)
 *                              the roots the agent polls (map "unshadowed")
 *   cfg_want_switch, cfg_idle_ns, cfg_keep_ns, cfg_max_live, cfg_exit_mode, cfg_lifecycle,
 *   cfg_emulate_full, cfg_teardown_invisible   configuration
 *   maps: procs, vms, vcpus, cr3_cache (per-CPU, key 0), state_seq (global)
 */
#ifndef AF_INFER_H
#define AF_INFER_H

#include "infer_types.h"

/* Physical-address bits 12-51: drops PCID (11:0), LAM (61, 62), NOFLUSH (63). */
#define AF_ROOT_MASK	0x000ffffffffff000ull
#define AF_KPTI_BIT	0x1000ull	/* user PGD = kernel PGD + 4 KiB (PTI_PGTABLE_SWITCH_BIT) */

/* union kvm_mmu_page_role: these bits are the same from 5.15 to 6.19. */
#define AF_ROLE_LEVEL(r)	((r) & 0xf)
#define AF_ROLE_DIRECT(r)	(((r) >> 7) & 1)
#define AF_ROLE_INVALID(r)	(((r) >> 11) & 1)
#define AF_ROLE_GUEST_MODE(r)	(((r) >> 17) & 1)

/* The address space of a root: a KPTI pair is named by its kernel half. */
static AF_INLINE __u64 af_fold(struct af_vm_val *vm, __u64 as)
{
	return (vm->flags & AF_VMF_KPTI) ? (as & ~AF_KPTI_BIT) : as;
}

/* Reserve a record with the common fields filled; NULL (and counted) when the ring is full. */
static AF_INLINE struct af_event *af_ev_new(struct af_cx *cx, __u16 type)
{
	struct af_event *e;

	af_count_event(type);
	e = AF_RB_RESERVE();
	if (!e) {
		af_count_drop(cx->prog);
		return NULL;
	}
	e->ts_ns = cx->ts;
	e->vm_key = cx->vm_key;
	e->as = 0;
	e->from_as = 0;
	e->run_ns = 0;
	e->addr = 0;
	e->value = 0;
	e->vm_pid = cx->vm_pid;
	e->vcpu = cx->vcpu;
	e->gen = 0;
	e->from_gen = 0;
	e->type = type;
	e->reason = 0;
	e->source = cx->src;
	e->flags = 0;
	e->seq = af_next_seq();
	return e;
}

static AF_INLINE void af_emit_proc(struct af_cx *cx, __u16 type, __u64 as,
				   const struct af_as_val *v)
{
	struct af_event *e = af_ev_new(cx, type);

	if (!e)
		return;
	e->as = as;
	e->gen = v->gen;
	e->flags = v->flags;
	e->run_ns = v->run_ns;
	e->reason = v->reason;
	AF_RB_SUBMIT(e);
}

static AF_INLINE __u32 af_source_fidelity(__u32 src)
{
	if (src == AF_SRC_CR || src == AF_SRC_REPLAY)
		return AF_FID_FULL;
	if (src == AF_SRC_EMULATE && cfg_emulate_full)
		return AF_FID_FULL;
	if (src == AF_SRC_EMULATE || src == AF_SRC_EXIT)
		return AF_FID_SAMPLED;
	return AF_FID_NONE;
}

/* The VM's state, created (with a VM_NEW record) at first sight. */
static AF_INLINE struct af_vm_val *af_vm_get(struct af_cx *cx)
{
	struct af_vm_val *vm = AF_LOOKUP(vms, &cx->vm_key);
	struct af_vm_val nv = {};
	struct af_event *e;

	if (vm && !(vm->flags & AF_VMF_DEAD))
		return vm;
	/* new VM, or a struct kvm reused after a teardown: start afresh */
	nv.first_ns = cx->ts;
	nv.last_ns = cx->ts;
	nv.vm_pid = cx->vm_pid;
	nv.root_level = 4;
	if (cfg_teardown_invisible)
		nv.flags |= AF_VMF_SAMPLED;
	AF_UPDATE(vms, &cx->vm_key, &nv);
	vm = AF_LOOKUP(vms, &cx->vm_key);
	if (!vm) {
		af_count_stat(AF_STAT_VMS_FULL);
		return NULL;
	}
	af_vm_born(cx);
	e = af_ev_new(cx, AF_EV_VM_NEW);
	if (e)
		AF_RB_SUBMIT(e);
	return vm;
}

static AF_INLINE struct af_vcpu_val *af_vcpu_get(struct af_cx *cx, struct af_vm_val *vm)
{
	struct af_vcpu_key k = { .vm_key = cx->vm_key, .vcpu = cx->vcpu };
	struct af_vcpu_val nv = {}, *vc = AF_LOOKUP(vcpus, &k);

	if (vc)
		return vc;
	AF_UPDATE(vcpus, &k, &nv);
	vc = AF_LOOKUP(vcpus, &k);
	if (!vc) {
		af_count_stat(AF_STAT_VCPUS_FULL);
		return NULL;
	}
	vm->nvcpus++;
	return vc;
}

/* A new process, or a new generation of a root whose previous process ended. */
static AF_INLINE struct af_as_val *af_as_create(struct af_cx *cx, struct af_vm_val *vm,
						__u64 as)
{
	struct af_as_key k = { .vm_key = cx->vm_key, .as = as };
	struct af_as_val nv = {}, *v = AF_LOOKUP(procs, &k);

	if (v && v->live)
		return v;
	/* a guest must not crowd out the other VMs' processes */
	if (vm->live_procs >= cfg_max_live) {
		af_count_stat(AF_STAT_VM_LIMIT);
		return NULL;
	}
	nv.gen = v ? v->gen + 1 : vm->gen_base + 1;
	nv.first_ns = cx->ts;
	nv.last_ns = cx->ts;
	nv.last_vcpu = cx->vcpu;
	nv.live = 1;
	nv.vm_pid = cx->vm_pid;
	if (vm->flags & AF_VMF_KPTI)
		nv.flags |= AF_EVF_KPTI;
	/* a root that starts with user entries and loses them is torn down;
	 * one without any (a kernel-only root) is not (see af_keep_digest) */
	if (!cfg_teardown_invisible) {
		__u64 d = af_root_digest(cx, as >> 12);

		if ((d & AF_DIGEST_VALID) && !(d & AF_DIGEST_EMPTY))
			nv.state |= AF_ASS_USER;
	}
	AF_UPDATE(procs, &k, &nv);
	v = AF_LOOKUP(procs, &k);
	if (!v) {
		af_count_stat(AF_STAT_PROCS_FULL);
		return NULL;
	}
	vm->live_procs++;
	af_emit_proc(cx, AF_EV_CREATE, as, v);
	return v;
}

/* Is (as, v) the address space currently loaded on its last vCPU?  If so,
 * and 'settle', charge its run time up to now. */
static AF_INLINE int af_as_loaded(struct af_cx *cx, __u64 vm_key, __u64 as,
				  struct af_as_val *v, int settle)
{
	struct af_vcpu_key k = { .vm_key = vm_key, .vcpu = v->last_vcpu };
	struct af_vcpu_val *vc = AF_LOOKUP(vcpus, &k);

	if (!vc || vc->cur_as != as || vc->cur_gen != v->gen)
		return 0;
	if (settle && cx->ts > vc->since_ns) {
		v->run_ns += cx->ts - vc->since_ns;
		vc->since_ns = cx->ts;
	}
	return 1;
}

static AF_INLINE void af_as_exit(struct af_cx *cx, struct af_vm_val *vm, __u64 vm_key,
				 __u64 as, struct af_as_val *v, __u16 reason)
{
	if (!v->live)
		return;
	af_as_loaded(cx, vm_key, as, v, 1);
	if (v->state & AF_ASS_DIGEST)
		af_unshadowed_del(cx, as);	/* no longer polled */
	v->state &= ~AF_ASS_SHADOW;
	v->live = 0;
	v->reason = reason;
	v->last_ns = cx->ts;
	if (vm && vm->live_procs)
		vm->live_procs--;
	af_emit_proc(cx, AF_EV_EXIT, as, v);
}

/*
 * Roots without a shadow page.  KVM write-protects a page only while it
 * shadows it; when the guest writes its live root often enough (it grows
 * or shrinks its top level, or tears the address space down while still
 * loaded, as Linux does with lazy TLB), KVM zaps the root's shadow page
 * while it is loaded.  A vCPU that runs guest code natively rebuilds it at
 * once, but one that stays in emulated kernel code does not, and until the
 * page is shadowed again nothing shows its teardown: a new process on the
 * reused page would look like the old one loaded again.  So what the root
 * holds is compared: read when the process leaves the vCPU, and again when
 * KVM shadows the page next.
 */

/* Tell the agent there is a root to poll (it arms its timer). */
static AF_INLINE void af_unshadowed_note(struct af_cx *cx, __u64 as, struct af_as_val *v)
{
	struct af_event *e = af_ev_new(cx, AF_EV_UNSHADOWED);

	if (e) {
		e->as = as;
		e->gen = v->gen;
		AF_RB_SUBMIT(e);
	}
}

/* Unshadowed 'v' is not loaded: keep what its root holds now, to compare
 * with later, and have the agent poll the page, since nothing else may
 * ever show its teardown.  After the guest wrote the live root ('written':
 * the zap that unshadowed it came from its writes), an empty user half is
 * its teardown, unseen; otherwise it may be a kernel-only root (a Linux
 * guest's init_mm, say), alive. */
static AF_INLINE void af_keep_digest(struct af_cx *cx, struct af_vm_val *vm, __u64 as,
				     struct af_as_val *v, int written)
{
	__u64 d = af_root_digest(cx, as >> 12);

	if (!(d & AF_DIGEST_VALID)) {
		af_count_stat(AF_STAT_DIGEST_FAIL);
		v->state &= ~(AF_ASS_DIGEST | AF_ASS_EMPTY);
		return;
	}
	if ((d & AF_DIGEST_EMPTY) && (written || (v->state & AF_ASS_USER))) {
		af_as_exit(cx, vm, cx->vm_key, as, v, AF_EXIT_ZAP);
		return;
	}
	v->digest = AF_DIGEST_HASH(d);
	v->state |= AF_ASS_DIGEST | (d & AF_DIGEST_EMPTY ? AF_ASS_EMPTY : 0);
	af_unshadowed_put(cx, as, d);
	af_unshadowed_note(cx, as, v);
}

/* A zap that is not the guest's doing (memslot change, reclaim) took the
 * shadow of an unloaded root: its content is intact, keep its digest now.
 * One taken before stays: the root has not been shadowed since. */
static AF_INLINE void af_unshadow_unloaded(struct af_cx *cx, struct af_vm_val *vm, __u64 as,
					   struct af_as_val *v)
{
	v->state |= AF_ASS_UNSHADOWED;
	if (!(v->state & AF_ASS_DIGEST))
		af_keep_digest(cx, vm, as, v, 0);
}

/* The root of unshadowed, unloaded 'v' holds digest d now: an empty user
 * half is its teardown, other entries a new process being built on the
 * page.  Returns 1 if v ended. */
static AF_INLINE int af_unshadowed_check(struct af_cx *cx, struct af_vm_val *vm, __u64 as,
					 struct af_as_val *v, __u64 d, __u16 st)
{
	if (!(d & AF_DIGEST_VALID)) {
		af_count_stat(AF_STAT_DIGEST_FAIL);
		return 0;
	}
	if ((st & AF_ASS_EMPTY) ? (d & AF_DIGEST_EMPTY) != 0 :
	    !(d & AF_DIGEST_EMPTY) && AF_DIGEST_HASH(d) == v->digest)
		return 0;	/* unchanged */
	af_as_exit(cx, vm, cx->vm_key, as, v, d & AF_DIGEST_EMPTY ? AF_EXIT_ZAP : AF_EXIT_REUSED);
	return 1;
}

/* KVM shadows the root of live, unshadowed 'v' again: the same process
 * loaded again, a rebuild under the running process, or a new process on
 * the reused page (its root then holds something else). */
static AF_INLINE void af_reshadow(struct af_cx *cx, struct af_vm_val *vm, __u64 as,
				  struct af_as_val *v)
{
	__u16 st = v->state;

	v->state &= ~AF_ASS_SHADOW;
	if (st & AF_ASS_DIGEST)
		af_unshadowed_del(cx, as);
	if (af_as_loaded(cx, cx->vm_key, as, v, 0) || !(st & AF_ASS_DIGEST))
		return;
	af_unshadowed_check(cx, vm, as, v, af_root_digest(cx, as >> 12), st);
}

/* AF_OBS_POLL: the agent read an unshadowed root again (its digest fed). */
static AF_INLINE int af_root_poll(struct af_cx *cx, __u64 gfn)
{
	struct af_vm_val *vm = AF_LOOKUP(vms, &cx->vm_key);
	struct af_as_key k = { .vm_key = cx->vm_key };
	struct af_as_val *v;

	if (!vm || (vm->flags & AF_VMF_DEAD))
		return 0;
	k.as = af_fold(vm, gfn << 12);
	v = AF_LOOKUP(procs, &k);
	if (!v || !v->live || !(v->state & AF_ASS_UNSHADOWED))
		return 0;
	if (!(v->state & AF_ASS_DIGEST)) {
		/* lifecycle mode: nothing to compare, but an emptied root is gone */
		__u64 d = af_root_digest(cx, gfn);

		if ((d & AF_DIGEST_VALID) && (d & AF_DIGEST_EMPTY) && (v->state & AF_ASS_USER)) {
			af_as_exit(cx, vm, k.vm_key, k.as, v, AF_EXIT_ZAP);
			return 1;
		}
		return 0;
	}
	if (af_as_loaded(cx, k.vm_key, k.as, v, 0))
		return 0;
	return af_unshadowed_check(cx, vm, k.as, v, af_root_digest(cx, gfn), v->state);
}

/* vCPU switches to 'as' at cx->ts: charge the old one, count the new one. */
static AF_INLINE void af_switch(struct af_cx *cx, struct af_vm_val *vm,
				struct af_vcpu_val *vc, __u64 as)
{
	struct af_as_key k = { .vm_key = cx->vm_key, .as = vc->cur_as };
	struct af_as_val *old = NULL, *v;
	struct af_event *e;

	if (vc->cur_as) {
		old = AF_LOOKUP(procs, &k);
		if (old && old->gen == vc->cur_gen && cx->ts > vc->since_ns) {
			old->run_ns += cx->ts - vc->since_ns;
			old->last_ns = cx->ts;
		}
		vc->since_ns = cx->ts;	/* charged: an exit below must not charge it again */
		/* it leaves with its root unshadowed */
		if (old && old->live && old->gen == vc->cur_gen && (old->state & AF_ASS_UNSHADOWED))
			af_keep_digest(cx, vm, vc->cur_as, old, old->state & AF_ASS_WRITTEN);
	}
	v = af_as_create(cx, vm, as);
	if (!v) {
		/* not tracked (limit or map full, counted): charge nobody from now */
		vc->cur_as = 0;
		vc->cur_gen = 0;
		vc->since_ns = cx->ts;
		return;
	}
	v->switches++;
	v->last_ns = cx->ts;
	v->last_vcpu = cx->vcpu;
	af_count_event(AF_EV_SWITCH);
	if (cfg_want_switch) {
		e = AF_RB_RESERVE();
		if (!e) {
			af_count_drop(cx->prog);
		} else {
			__builtin_memset(e, 0, sizeof(*e));
			e->ts_ns = cx->ts;
			e->vm_key = cx->vm_key;
			e->vm_pid = cx->vm_pid;
			e->vcpu = cx->vcpu;
			e->type = AF_EV_SWITCH;
			e->source = cx->src;
			e->as = as;
			e->gen = v->gen;
			e->flags = v->flags;
			e->from_as = vc->cur_as;
			e->from_gen = vc->cur_as ? vc->cur_gen : 0;
			e->seq = af_next_seq();
			AF_RB_SUBMIT(e);
		}
	}
	vc->cur_as = as;
	vc->cur_gen = v->gen;
	vc->since_ns = cx->ts;
}

/*
 * KPTI: a Linux guest with page-table isolation loads the kernel half K
 * (8 KiB aligned) and the user half K + 4 KiB of one mm, always in
 * alternation.  The first K -> K+4K on a vCPU is held as "pending"; if the
 * vCPU's next root is K again the VM uses KPTI and the halves fold from
 * then on.  If it goes anywhere else, K+4K was an unrelated neighbour and
 * becomes a process of its own, back-dated to when it was loaded.
 */
static AF_INLINE void af_kpti_resolve(struct af_cx *cx, struct af_vm_val *vm,
				      struct af_vcpu_val *vc, __u64 root)
{
	__u64 user = vc->last_root, ts = cx->ts;

	vc->flags &= ~AF_VCF_PENDING;
	if (root == (user & ~AF_KPTI_BIT)) {
		vm->flags |= AF_VMF_KPTI;
		return;
	}
	cx->ts = vc->pend_since;
	af_switch(cx, vm, vc, user);
	cx->ts = ts;
}

/*
 * A guest-write zap of K while the vCPU that last ran K holds K -> K+4K
 * pending refutes the pair: a KPTI guest frees a kernel half only after
 * leaving both halves.  K+4K is then an unrelated neighbour that has been
 * running since it was loaded, and K is no longer loaded.
 */
static AF_INLINE void af_kpti_refute(struct af_cx *cx, struct af_vm_val *vm, __u64 as,
				     struct af_as_val *v)
{
	struct af_vcpu_key k = { .vm_key = cx->vm_key, .vcpu = v->last_vcpu };
	struct af_vcpu_val *vc = AF_LOOKUP(vcpus, &k);
	__u32 vcpu = cx->vcpu;

	if (!vc || !(vc->flags & AF_VCF_PENDING) || vc->cur_as != as ||
	    vc->last_root != (as | AF_KPTI_BIT))
		return;
	cx->vcpu = v->last_vcpu;
	af_kpti_resolve(cx, vm, vc, 0);		/* 0 never matches: not a pair */
	cx->vcpu = vcpu;
}

/* A CR3 value loaded (or sampled) on a vCPU. */
static AF_INLINE int af_cr3(struct af_cx *cx, __u64 raw)
{
	__u64 root = raw & AF_ROOT_MASK, as;
	struct af_vcpu_val *vc;
	struct af_vm_val *vm;
	__u32 fid;

	AF_RECORD(cx, AF_OBS_CR3, raw, cx->src,
		  cx->src == AF_SRC_EXIT ? 1u << AF_VCPU_EXREG_CR3 : 0);
	if (!root)
		return 0;	/* vCPU reset / paging off */
	vm = af_vm_get(cx);
	if (!vm)
		return 0;
	vm->last_ns = cx->ts;
	fid = af_source_fidelity(cx->src);
	if (fid > vm->fidelity)
		vm->fidelity = fid;
	if (cx->src == AF_SRC_EXIT)
		vm->flags |= AF_VMF_SAMPLED;
	vc = af_vcpu_get(cx, vm);
	if (!vc || root == vc->last_root)
		return 0;
	/* The vCPU's thread may have left a cache entry with its old root on
	 * another CPU; coming back there it must not hit that stale entry. */
	__sync_fetch_and_add(&state_seq, 1);
	if (vc->flags & AF_VCF_PENDING)
		af_kpti_resolve(cx, vm, vc, root);
	if (!(vm->flags & AF_VMF_KPTI) && vc->cur_as && root == (vc->cur_as | AF_KPTI_BIT) &&
	    !(vc->cur_as & AF_KPTI_BIT)) {
		struct af_as_key k = { .vm_key = cx->vm_key, .as = root };
		struct af_as_val *u = AF_LOOKUP(procs, &k);

		if (!u || !u->live) {
			vc->flags |= AF_VCF_PENDING;
			vc->pend_since = cx->ts;
			vc->last_root = root;
			return 0;
		}
	}
	vc->last_root = root;
	as = root;
	if (vm->flags & AF_VMF_KPTI)
		as &= ~AF_KPTI_BIT;
	if (as == vc->cur_as) {
		struct af_as_key k = { .vm_key = cx->vm_key, .as = as };
		struct af_as_val *v = AF_LOOKUP(procs, &k);

		if (v && v->live && v->gen == vc->cur_gen)
			return 0;
	}
	af_switch(cx, vm, vc, as);
	return 1;
}

/* This CPU's cache says this vCPU still has this CR3 (nothing changed since). */
static AF_INLINE int af_cr3_cached(const struct af_cr3_cache *c, __u64 raw, __u64 vm_key,
				   __u32 vcpu)
{
	return c && c->raw == raw && c->vm_key == vm_key && c->vcpu == vcpu &&
	       c->seq == state_seq;
}

/* Sampled path with the per-CPU cache: the common case (CR3 unchanged) is
 * one array lookup and three compares. */
static AF_INLINE int af_cr3_sample(struct af_cx *cx, __u64 raw)
{
	__u32 zero = 0;
	struct af_cr3_cache *c = AF_LOOKUP(cr3_cache, &zero);
	int ret;

	if (af_cr3_cached(c, raw, cx->vm_key, cx->vcpu))
		return 0;
	if (!cx->ts)
		cx->ts = AF_NOW();	/* only the slow path needs the time */
	ret = af_cr3(cx, raw);
	if (c) {
		c->raw = raw;
		c->vm_key = cx->vm_key;
		c->vcpu = cx->vcpu;
		c->seq = state_seq;	/* after af_cr3's own bump */
	}
	return ret;
}

/* kvm_exit/kvm_entry sample: on AMD NPT the VMCB's saved CR3 is exact at
 * every exit; on Intel EPT vcpu->arch.cr3 is only current when KVM cached
 * it during this exit (regs_avail bit VCPU_EXREG_CR3), otherwise stale. */
static AF_INLINE int af_exit_sample(struct af_cx *cx, __u64 cr3, __u32 regs_avail)
{
	if (cfg_exit_mode == AF_EXITMODE_VMX && !(regs_avail & (1u << AF_VCPU_EXREG_CR3)))
		return 0;
	if (cfg_exit_mode == AF_EXITMODE_NONE)
		return 0;
	cx->src = AF_SRC_EXIT;
	return af_cr3_sample(cx, cr3);
}

/* Is this kvm_mmu_page record a guest page-table root of this VM? */
static AF_INLINE int af_is_root(struct af_vm_val *vm, __u32 role)
{
	__u32 level = AF_ROLE_LEVEL(role);

	if (AF_ROLE_DIRECT(role) || AF_ROLE_GUEST_MODE(role) || level < 4)
		return 0;
	return level >= vm->root_level;
}

/*
 * Lifecycle mode sees no CR3 alternation to find KPTI pairs by: a root at
 * K + 4 KiB next to a live root K is K's user half when it holds the same
 * user entries (a KPTI kernel keeps the two user halves identical).
 */
static AF_INLINE void af_kpti_by_content(struct af_cx *cx, struct af_vm_val *vm, __u64 gfn)
{
	struct af_as_key k = { .vm_key = cx->vm_key, .as = (gfn & ~1ull) << 12 };
	struct af_as_val *v = AF_LOOKUP(procs, &k);
	__u64 du, dk;

	if (!v || !v->live)
		return;
	du = af_root_digest(cx, gfn);
	dk = af_root_digest(cx, gfn & ~1ull);
	if ((du & AF_DIGEST_VALID) && !(du & AF_DIGEST_EMPTY) && du == dk)
		vm->flags |= AF_VMF_KPTI;
}

/* kvm_mmu_get_page for a root: teardown is visible for this VM. */
static AF_INLINE int af_root_get(struct af_cx *cx, __u64 gfn, __u64 created, __u32 role)
{
	struct af_vm_val *vm;
	struct af_as_key k;
	struct af_as_val *v;

	if (AF_ROLE_DIRECT(role) || AF_ROLE_GUEST_MODE(role) || AF_ROLE_LEVEL(role) < 4)
		return 0;
	AF_RECORD(cx, AF_OBS_ROOT_GET, gfn, created, role);
	vm = af_vm_get(cx);
	if (!vm)
		return 0;
	vm->flags |= AF_VMF_SHADOW;
	vm->flags &= ~AF_VMF_SAMPLED;
	if (AF_ROLE_LEVEL(role) > vm->root_level)
		vm->root_level = AF_ROLE_LEVEL(role);
	if (!af_is_root(vm, role))
		return 0;
	if (cfg_lifecycle && !(vm->flags & AF_VMF_KPTI) && (gfn & 1))
		af_kpti_by_content(cx, vm, gfn);
	k.vm_key = cx->vm_key;
	k.as = af_fold(vm, gfn << 12);
	v = AF_LOOKUP(procs, &k);
	if (v && v->live) {
		v->last_ns = cx->ts;
		if (v->state & AF_ASS_UNSHADOWED)
			af_reshadow(cx, vm, k.as, v);
	}
	/* lifecycle mode sees no CR3: a root KVM builds a shadow for is a
	 * process loaded (first sight, or loaded again after a zap) */
	if (cfg_lifecycle && (!v || !v->live)) {
		vm->fidelity = AF_FID_LIFECYCLE;
		af_as_create(cx, vm, k.as);
	}
	return 0;
}

/*
 * kvm_mmu_prepare_zap_page.  A root torn down because of the guest's own
 * writes ends its process.  Not exits: the second record of a root that
 * was still referenced (role.invalid already set), zaps outside a vCPU's
 * KVM_RUN (memslot changes, VM teardown), roots made obsolete by a fast
 * zap-all, and a root still loaded on its vCPU (KVM rebuilds it).
 */
static AF_INLINE int af_root_zap(struct af_cx *cx, __u64 gfn, __u64 root_count, __u64 c)
{
	__u32 role = (__u32)c;
	__u8 mmu_gen = (__u8)(c >> AF_ZAPF_GEN_SHIFT);
	struct af_vm_val *vm;
	struct af_as_key k;
	struct af_as_val *v;

	int not_guest;

	AF_RECORD(cx, AF_OBS_ROOT_ZAP, gfn, root_count, c);
	if (AF_ROLE_INVALID(role))
		return 0;
	vm = AF_LOOKUP(vms, &cx->vm_key);
	if (!vm || (vm->flags & AF_VMF_DEAD) || !af_is_root(vm, role))
		return 0;
	/* memslot changes, fast zap-all, MMU-page reclaim: not the guest's
	 * writes, so not exits; but the root is no longer shadowed */
	not_guest = (c & (AF_ZAPF_NOT_GUEST | AF_ZAPF_PRESSURE)) ||
		    ((vm->flags & AF_VMF_ZAPALL) && mmu_gen == vm->obsolete_gen);
	k.vm_key = cx->vm_key;
	k.as = af_fold(vm, gfn << 12);
	v = AF_LOOKUP(procs, &k);
	if (!v || !v->live)
		return 0;
	if (!not_guest && !(vm->flags & AF_VMF_KPTI))
		af_kpti_refute(cx, vm, k.as, v);
	if (cfg_lifecycle ? (c & AF_ZAPF_LOADED) != 0 : af_as_loaded(cx, k.vm_key, k.as, v, 0)) {
		/* KVM rebuilds it when the vCPU runs on it again; until then
		 * its teardown is invisible (see af_reshadow) */
		v->state |= AF_ASS_UNSHADOWED | (not_guest ? 0 : AF_ASS_WRITTEN);
		/* lifecycle mode sees no unload to read the root at: the agent
		 * watches it for an empty user half (no digest to compare) */
		if (cfg_lifecycle && !not_guest && (v->state & AF_ASS_USER) &&
		    af_unshadowed_put(cx, k.as, 0) == 0)
			af_unshadowed_note(cx, k.as, v);
		return 0;
	}
	if (not_guest) {
		af_unshadow_unloaded(cx, vm, k.as, v);
		return 0;
	}
	af_as_exit(cx, vm, k.vm_key, k.as, v, AF_EXIT_ZAP);
	return 1;
}

/* kvm_mmu_zap_all_fast: roots of the current mmu_valid_gen become obsolete. */
static AF_INLINE int af_zap_all(struct af_cx *cx, __u8 old_gen)
{
	struct af_vm_val *vm = AF_LOOKUP(vms, &cx->vm_key);

	AF_RECORD(cx, AF_OBS_ZAP_ALL, old_gen, 0, 0);
	if (!vm)
		return 0;
	vm->flags |= AF_VMF_ZAPALL;
	vm->obsolete_gen = old_gen;
	return 0;
}

/* Teardown / idle sweeps walk the maps with a callback. */
struct af_walk {
	struct af_cx cx;
	__u64 vm_key;		/* match this VM ... */
	__u32 vm_pid;		/* ... or every VM of this VMM process (when vm_key == 0) */
	__u32 n;
};

static AF_INLINE int af_walk_match(struct af_walk *w, __u64 vm_key, struct af_vm_val *vm)
{
	if (vm->flags & AF_VMF_DEAD)
		return 0;
	return w->vm_key ? vm_key == w->vm_key : vm->vm_pid == w->vm_pid;
}

static long af_destroy_proc_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	const struct af_as_key *k = key;
	struct af_as_val *v = value;
	struct af_walk *w = ctx;
	struct af_vm_val *vm;

	if (!v->live)
		return 0;
	vm = AF_LOOKUP(vms, &k->vm_key);
	if (!vm || !af_walk_match(w, k->vm_key, vm))
		return 0;
	w->cx.vm_key = k->vm_key;
	w->cx.vm_pid = v->vm_pid;
	w->cx.vcpu = v->last_vcpu;
	af_as_exit(&w->cx, vm, k->vm_key, k->as, v, AF_EXIT_VM);
	return 0;
}

static long af_destroy_vm_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	const __u64 *vm_key = key;
	struct af_vm_val *vm = value;
	struct af_walk *w = ctx;
	struct af_event *e;

	if (!af_walk_match(w, *vm_key, vm))
		return 0;
	vm->flags |= AF_VMF_DEAD;
	vm->live_procs = 0;
	vm->last_ns = w->cx.ts;
	w->cx.vm_key = *vm_key;
	w->cx.vm_pid = vm->vm_pid;
	w->cx.vcpu = AF_VCPU_NONE;
	e = af_ev_new(&w->cx, AF_EV_VM_EXIT);
	if (e)
		AF_RB_SUBMIT(e);
	w->n++;
	return 0;
}

/* Charge every vCPU's running interval before its VM's processes end. */
static long af_settle_vcpu_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	const struct af_vcpu_key *k = key;
	struct af_vcpu_val *vc = value;
	struct af_vm_val *vm = AF_LOOKUP(vms, &k->vm_key);
	struct af_walk *w = ctx;
	struct af_as_key pk = { .vm_key = k->vm_key, .as = vc->cur_as };
	struct af_as_val *v;

	if (!vm || !af_walk_match(w, k->vm_key, vm) || !vc->cur_as)
		return 0;
	v = AF_LOOKUP(procs, &pk);
	if (v && v->live && v->gen == vc->cur_gen && w->cx.ts > vc->since_ns) {
		v->run_ns += w->cx.ts - vc->since_ns;
		vc->since_ns = w->cx.ts;
	}
	return 0;
}

static long af_destroy_vcpu_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	const struct af_vcpu_key *k = key;
	struct af_vm_val *vm = AF_LOOKUP(vms, &k->vm_key);
	struct af_walk *w = ctx;

	/* runs after af_destroy_vm_cb: the VMs in question are DEAD now */
	if (vm && (vm->flags & AF_VMF_DEAD) &&
	    (w->vm_key ? k->vm_key == w->vm_key : vm->vm_pid == w->vm_pid))
		AF_DELETE(vcpus, key);
	return 0;
}

/* The VM (vm_key != 0) or every VM of VMM process vm_pid is gone: end all
 * their processes with reason "vm", then one VM_EXIT each. */
static AF_INLINE int af_vm_destroy(struct af_cx *cx, __u64 vm_key, __u32 vm_pid)
{
	struct af_walk w = { .cx = *cx, .vm_key = vm_key, .vm_pid = vm_pid };

	AF_RECORD(cx, vm_key ? AF_OBS_VM_DESTROY : AF_OBS_VMM_EXIT, 0, 0, 0);
	AF_FOR_EACH(vcpus, af_settle_vcpu_cb, &w);
	AF_FOR_EACH(procs, af_destroy_proc_cb, &w);
	AF_FOR_EACH(vms, af_destroy_vm_cb, &w);
	AF_FOR_EACH(vcpus, af_destroy_vcpu_cb, &w);
	__sync_fetch_and_add(&state_seq, 1);
	return w.n;
}

/* Forget an exited process after cfg_keep_ns; its VM remembers the
 * generation so a later process on the same root gets a higher one. */
static AF_INLINE void af_reap(struct af_walk *w, const struct af_as_key *k, struct af_as_val *v)
{
	struct af_vm_val *vm = AF_LOOKUP(vms, &k->vm_key);

	if (vm && v->gen > vm->gen_base)
		vm->gen_base = v->gen;
	AF_DELETE(procs, k);
	af_count_stat(AF_STAT_REAPED);
}

static long af_sweep_cb(struct bpf_map *map, const void *key, void *value, void *ctx)
{
	const struct af_as_key *k = key;
	struct af_as_val *v = value;
	struct af_walk *w = ctx;
	struct af_vm_val *vm;

	if (w->cx.ts < v->last_ns)
		return 0;
	if (!v->live) {
		if (cfg_keep_ns && w->cx.ts - v->last_ns >= cfg_keep_ns)
			af_reap(w, k, v);
		return 0;
	}
	if (!cfg_idle_ns || w->cx.ts - v->last_ns < cfg_idle_ns)
		return 0;
	vm = AF_LOOKUP(vms, &k->vm_key);
	if (!vm || !(vm->flags & AF_VMF_SAMPLED) || (vm->flags & AF_VMF_DEAD))
		return 0;
	if (af_as_loaded(&w->cx, k->vm_key, k->as, v, 0))
		return 0;
	w->cx.vm_key = k->vm_key;
	w->cx.vm_pid = v->vm_pid;
	w->cx.vcpu = v->last_vcpu;
	af_as_exit(&w->cx, vm, k->vm_key, k->as, v, AF_EXIT_IDLE);
	w->n++;
	return 0;
}

/* Periodic sweep: where teardown is invisible (NPT/EPT sampling) a process
 * not seen for cfg_idle_ns ends with reason "idle"; exited processes older
 * than cfg_keep_ns are forgotten. */
static AF_INLINE int af_tick(struct af_cx *cx)
{
	struct af_walk w = { .cx = *cx };

	if (!cfg_idle_ns && !cfg_keep_ns)
		return 0;
	AF_FOR_EACH(procs, af_sweep_cb, &w);
	return w.n;
}

/* A device doorbell (MMIO/PIO write), attributed to the vCPU's current process. */
static AF_INLINE int af_notify(struct af_cx *cx, __u64 addr, __u64 value)
{
	struct af_vcpu_key k = { .vm_key = cx->vm_key, .vcpu = cx->vcpu };
	struct af_vcpu_val *vc = AF_LOOKUP(vcpus, &k);
	struct af_event *e;

	AF_RECORD(cx, AF_OBS_NOTIFY, addr, value, cx->src);
	e = af_ev_new(cx, AF_EV_NOTIFY);

	if (!e)
		return 0;
	if (vc) {
		e->as = vc->cur_as;
		e->gen = vc->cur_gen;
	}
	e->addr = addr;
	e->value = value;
	AF_RB_SUBMIT(e);
	return 1;
}

/* A vCPU thread seen for the first time: its VM and vCPU are known from now,
 * even where no CR3 is ever sampled (Intel EPT). */
static AF_INLINE void af_vcpu_seen(struct af_cx *cx)
{
	struct af_vm_val *vm;

	AF_RECORD(cx, AF_OBS_VCPU, 0, 0, 0);
	vm = af_vm_get(cx);
	if (vm)
		af_vcpu_get(cx, vm);
}

/* The replay entry point: normalized observations (see antfarm_abi.h). */
static AF_INLINE int af_replay_dispatch(struct af_cx *cx, const __u64 *a)
{
	if (a[0] < AF_OBS_CR3 || a[0] > AF_OBS_KIND_MAX)
		return -1;
	cx->vm_key = a[1];
	cx->vm_pid = (__u32)a[2];
	cx->vcpu = (__u32)a[3];
	if (a[7])
		cx->ts = a[7];
	else if (a[0] != AF_OBS_CR3)
		cx->ts = AF_NOW();
	switch (a[0]) {
	case AF_OBS_CR3:
		cx->src = (__u32)a[5];
		if (a[5] == AF_SRC_EXIT)
			return af_exit_sample(cx, a[4], (__u32)a[6]);
		return af_cr3_sample(cx, a[4]);
	case AF_OBS_ROOT_GET:
		cx->src = AF_SRC_MMU_GET;
		return af_root_get(cx, a[4], a[5], (__u32)a[6]);
	case AF_OBS_ROOT_ZAP:
		cx->src = AF_SRC_MMU_ZAP;
		return af_root_zap(cx, a[4], a[5], a[6]);
	case AF_OBS_VM_DESTROY:
		cx->src = AF_SRC_REPLAY;
		return af_vm_destroy(cx, cx->vm_key, 0);
	case AF_OBS_VMM_EXIT:
		cx->src = AF_SRC_REPLAY;
		return af_vm_destroy(cx, 0, cx->vm_pid);
	case AF_OBS_NOTIFY:
		cx->src = (__u32)a[6];
		return af_notify(cx, a[4], a[5]);
	case AF_OBS_TICK:
		cx->src = AF_SRC_REPLAY;
		return af_tick(cx);
	case AF_OBS_ZAP_ALL:
		cx->src = AF_SRC_REPLAY;
		return af_zap_all(cx, (__u8)a[4]);
	case AF_OBS_DIGEST:
		af_digest_fed(cx, a[4], a[5]);
		return 0;
	case AF_OBS_VCPU:
		cx->src = AF_SRC_NONE;
		af_vcpu_seen(cx);
		return 0;
	case AF_OBS_POLL:
		cx->src = AF_SRC_MMU_ZAP;
		return af_root_poll(cx, a[4]);
	}
	return -1;
}

#endif /* AF_INFER_H */
