// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Replay unit tests of the inference state machine (bpf/infer.h), built
 * for userspace with tests/infer/shim.h.  Each case feeds a sequence of
 * observations with known timestamps and checks the exact event stream
 * and map state.  Events are written compactly:
 *   new            VM first seen          vmexit      VM destroyed
 *   c5000/1        create as/gen          x5000/1:zap exit with reason
 *   s5000>6000/1   switch from > to/gen   n5000/1@addr=value  notify
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shim.h"
#include "tests/lib/check.h"

#define VM	0xffff888012340000ull
#define VM2	0xffff888056780000ull
#define PID	4242
#define PID2	4343
#define ROOT4	0x4u		/* role: level 4, indirect, valid, not guest mode */
#define ROLE_DIRECT	(1u << 7)
#define ROLE_INVALID	(1u << 11)
#define ROLE_GUEST	(1u << 17)



static int obs_vm(__u64 kind, __u64 vm, __u32 pid, __u32 vcpu, __u64 a, __u64 b, __u64 c,
		  __u64 ts)
{
	__u64 args[AF_REPLAY_NARGS] = { kind, vm, pid, vcpu, a, b, c, ts };
	struct af_cx cx = { .prog = AF_PROG_REPLAY, .ts = ts };

	return af_replay_dispatch(&cx, args);
}

static int obs(__u64 kind, __u32 vcpu, __u64 a, __u64 b, __u64 c, __u64 ts)
{
	return obs_vm(kind, VM, PID, vcpu, a, b, c, ts);
}

/* CR3 load on vcpu through the kvm_cr path (every load seen). */
static void cr3(__u32 vcpu, __u64 val, __u64 ts)
{
	obs(AF_OBS_CR3, vcpu, val, AF_SRC_CR, 0, ts);
}

static void zap(__u64 gfn, __u64 root_count, __u64 c, __u64 ts)
{
	obs(AF_OBS_ROOT_ZAP, 0, gfn, root_count, c, ts);
}

static const char *reason_name(unsigned r)
{
	static const char *n[] = { "none", "zap", "vm", "idle", "reused" };

	return r < 5 ? n[r] : "?";
}

/* The ring since the last call, formatted, then emptied. */
static const char *events(void)
{
	static char buf[4096];
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < shim_ring_n && o < sizeof(buf) - 80; i++) {
		const struct af_event *e = &shim_ring[i];
		const char *sp = o ? " " : "";
		unsigned long long as = e->as, from = e->from_as;

		switch (e->type) {
		case AF_EV_VM_NEW:  o += sprintf(buf + o, "%snew", sp); break;
		case AF_EV_VM_EXIT: o += sprintf(buf + o, "%svmexit", sp); break;
		case AF_EV_CREATE:  o += sprintf(buf + o, "%sc%llx/%u", sp, as, e->gen); break;
		case AF_EV_EXIT:
			o += sprintf(buf + o, "%sx%llx/%u:%s", sp, as, e->gen, reason_name(e->reason));
			break;
		case AF_EV_SWITCH:
			o += sprintf(buf + o, "%ss%llx>%llx/%u", sp, from, as, e->gen);
			break;
		case AF_EV_NOTIFY:
			o += sprintf(buf + o, "%sn%llx/%u@%llx=%llx", sp, as, e->gen,
				     (unsigned long long)e->addr, (unsigned long long)e->value);
			break;
		case AF_EV_UNSHADOWED:
			o += sprintf(buf + o, "%su%llx/%u", sp, as, e->gen);
			break;
		default: o += sprintf(buf + o, "%s?%u", sp, e->type); break;
		}
	}
	shim_ring_n = 0;
	return buf;
}

#define EXPECT_EVENTS(want) do { const char *got = events(); \
	CHECK(!strcmp(got, want), "events\n   got: %s\n  want: %s", got, want); } while (0)

static struct af_as_val *proc(__u64 vm, __u64 as)
{
	struct af_as_key k = { .vm_key = vm, .as = as };

	return shim_lookup(&procs, &k);
}

static struct af_vm_val *vm_state(__u64 vm)
{
	return shim_lookup(&vms, &vm);
}

static void start(const char *name)
{
	check_case = name;
	shim_reset();
}

static void test_switch_and_runtime(void)
{
	start("switch and run time");
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 300);
	cr3(0, 0x5000, 600);
	cr3(0, 0x9000, 1000);
	EXPECT_EVENTS("new c5000/1 s0>5000/1 c9000/1 s5000>9000/1 s9000>5000/1 s5000>9000/1");
	CHECK(proc(VM, 0x5000)->run_ns == 600, "A run %llu", (unsigned long long)proc(VM, 0x5000)->run_ns);
	CHECK(proc(VM, 0x9000)->run_ns == 300, "B run %llu", (unsigned long long)proc(VM, 0x9000)->run_ns);
	CHECK(proc(VM, 0x5000)->switches == 2 && proc(VM, 0x9000)->switches == 2, "switch counts");
	CHECK(vm_state(VM)->live_procs == 2 && vm_state(VM)->nvcpus == 1, "vm counts");
	CHECK(shim_events[AF_EV_SWITCH] == 4, "switch counter %llu",
	      (unsigned long long)shim_events[AF_EV_SWITCH]);
	/* a second vCPU runs A concurrently: time per vCPU adds up */
	cr3(1, 0x5000, 1100);
	cr3(1, 0x9000, 1600);
	EXPECT_EVENTS("s0>5000/1 s5000>9000/1");
	CHECK(proc(VM, 0x5000)->run_ns == 1100, "A run with 2 vCPUs %llu",
	      (unsigned long long)proc(VM, 0x5000)->run_ns);
	CHECK(vm_state(VM)->nvcpus == 2, "nvcpus");
	/* teardown charges the running intervals: B on vcpu 0 since 1000, on vcpu 1 since 1600 */
	obs(AF_OBS_VM_DESTROY, 0, 0, 0, 0, 2000);
	CHECK(proc(VM, 0x9000)->run_ns == 300 + 1000 + 400, "B run at teardown %llu",
	      (unsigned long long)proc(VM, 0x9000)->run_ns);
}

static void test_bits_stripped(void)
{
	start("PCID, NOFLUSH and LAM bits stripped");
	cr3(0, 0x8000000000005001ull, 100);		/* NOFLUSH + PCID 1 */
	cr3(0, 0x6000000000005002ull, 200);		/* LAM57 + LAM48 + PCID 2 */
	cr3(0, 0x5fffull, 300);				/* PCID 0xfff */
	EXPECT_EVENTS("new c5000/1 s0>5000/1");
	cr3(0, 0x8000000000006003ull, 400);
	EXPECT_EVENTS("c6000/1 s5000>6000/1");
	CHECK(proc(VM, 0x5000)->run_ns == 300, "run %llu", (unsigned long long)proc(VM, 0x5000)->run_ns);
	cr3(0, 0x0, 500);				/* reset: no address space */
	cr3(0, 0xfff, 510);				/* PCID bits only: no root */
	EXPECT_EVENTS("");
	cr3(0, ~0ull, 600);				/* hostile: every bit set */
	EXPECT_EVENTS("cffffffffff000/1 s6000>ffffffffff000/1");
	cr3(0, 0x1ff0000000000000ull, 700);		/* bits 52-60 only: reserved, no root */
	EXPECT_EVENTS("");
}

static void test_root_reuse(void)
{
	start("root reused after exit is a new generation");
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 200);
	zap(0x5, 0, ROOT4, 300);
	cr3(0, 0x5000, 400);
	EXPECT_EVENTS("new c5000/1 s0>5000/1 c9000/1 s5000>9000/1 x5000/1:zap "
		      "c5000/2 s9000>5000/2");
	CHECK(proc(VM, 0x5000)->gen == 2 && proc(VM, 0x5000)->live, "gen 2 live");
	CHECK(proc(VM, 0x5000)->run_ns == 0 && proc(VM, 0x5000)->switches == 1,
	      "new generation starts from zero");
	CHECK(vm_state(VM)->live_procs == 2, "live %u", vm_state(VM)->live_procs);
	/* the exit record carries the old process's run time */
	zap(0x9, 0, ROOT4, 500);
	EXPECT_EVENTS("x9000/1:zap");	/* not loaded: 0x5000 is */
}

static void test_double_zap(void)
{
	start("a root zapped twice is one exit");
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 200);
	events();
	zap(0x5, 1, ROOT4, 300);			/* teardown decision, still referenced */
	zap(0x5, 0, ROOT4 | ROLE_INVALID, 310);	/* final free */
	zap(0x5, 0, ROOT4, 320);			/* another sp of the same gfn */
	EXPECT_EVENTS("x5000/1:zap");
	CHECK(shim_events[AF_EV_EXIT] == 1, "one exit counted");
	CHECK(proc(VM, 0x5000)->reason == AF_EXIT_ZAP, "reason zap");
}

static void test_zap_filters(void)
{
	start("zaps that are not guest exits");
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 200);
	events();
	zap(0x9, 1, ROOT4, 250);			/* loaded on vcpu 0: KVM rebuilds it */
	zap(0x5, 0, ROOT4 | ROLE_DIRECT, 300);	/* TDP page */
	zap(0x5, 0, ROOT4 | ROLE_GUEST, 300);	/* L2 structure */
	zap(0x5, 0, 0x3, 300);			/* level 3: not a root */
	zap(0x7, 0, ROOT4, 300);			/* never seen */
	zap(0x5, 0, ROOT4 | AF_ZAPF_NOT_GUEST, 300);	/* memslot change / teardown */
	obs_vm(AF_OBS_ROOT_ZAP, VM2, PID2, 0, 0x5, 0, ROOT4, 300);	/* other VM */
	EXPECT_EVENTS("");
	/* fast zap-all at gen 0: roots of gen 0 are obsolete, gen 1 roots are not */
	obs(AF_OBS_ZAP_ALL, 0, 0, 0, 0, 400);
	zap(0x5, 0, ROOT4 | (0ull << AF_ZAPF_GEN_SHIFT), 410);
	EXPECT_EVENTS("");
	CHECK(proc(VM, 0x5000)->live, "still live after zap-all");
	zap(0x5, 0, ROOT4 | (1ull << AF_ZAPF_GEN_SHIFT), 500);
	EXPECT_EVENTS("x5000/1:zap");
	/* a 5-level guest: level-4 pages are not roots */
	obs(AF_OBS_ROOT_GET, 0, 0x9, 1, 0x5, 600);
	cr3(0, 0xa000, 650);
	events();
	zap(0x9, 0, ROOT4 | (1ull << AF_ZAPF_GEN_SHIFT), 700);
	EXPECT_EVENTS("");
	zap(0x9, 0, 0x5 | (1ull << AF_ZAPF_GEN_SHIFT), 710);
	EXPECT_EVENTS("x9000/1:zap");
}

static void test_vm_teardown(void)
{
	start("VM teardown ends all with reason vm");
	cr3(0, 0x5000, 100);
	cr3(0, 0x6000, 200);
	cr3(1, 0x7000, 300);
	obs_vm(AF_OBS_CR3, VM2, PID2, 0, 0x5000, AF_SRC_CR, 0, 350);
	events();
	obs(AF_OBS_VM_DESTROY, 0, 0, 0, 0, 400);
	EXPECT_EVENTS("x5000/1:vm x6000/1:vm x7000/1:vm vmexit");
	CHECK(proc(VM2, 0x5000)->live, "other VM untouched");
	CHECK(proc(VM, 0x6000)->run_ns == 200 && proc(VM, 0x7000)->run_ns == 100, "charged");
	CHECK(vm_state(VM)->flags & AF_VMF_DEAD, "dead");
	obs(AF_OBS_VM_DESTROY, 0, 0, 0, 0, 450);	/* twice: nothing more */
	zap(0x5, 0, ROOT4, 460);			/* teardown zaps after: nothing */
	EXPECT_EVENTS("");
	/* the struct kvm reused by a new VM: a fresh VM, roots are new generations */
	cr3(0, 0x5000, 500);
	EXPECT_EVENTS("new c5000/2 s0>5000/2");
	CHECK(vm_state(VM)->live_procs == 1 && vm_state(VM)->nvcpus == 1, "fresh VM");
	/* VMM process exit destroys every VM of that pid only */
	obs(AF_OBS_VMM_EXIT, 0, 0, 0, 0, 600);
	EXPECT_EVENTS("x5000/2:vm vmexit");
	CHECK(proc(VM2, 0x5000)->live, "VM of another VMM untouched");
}

static void test_kpti(void)
{
	start("KPTI pair folded");
	cr3(0, 0x10000 | 0x001, 100);			/* kernel half, PCID 1 */
	cr3(0, 0x11000 | 0x801, 200);			/* user half, user PCID bit 11 */
	cr3(0, 0x10000 | 0x001, 300);
	cr3(0, 0x11000 | 0x801, 400);
	EXPECT_EVENTS("new c10000/1 s0>10000/1");
	CHECK(vm_state(VM)->flags & AF_VMF_KPTI, "KPTI detected");
	CHECK(!proc(VM, 0x11000), "user half is not a process");
	cr3(0, 0x20000, 500);
	cr3(0, 0x21000, 600);
	cr3(0, 0x20000, 700);
	cr3(0, 0x10000, 800);
	EXPECT_EVENTS("c20000/1 s10000>20000/1 s20000>10000/1");
	CHECK(proc(VM, 0x10000)->run_ns == 400, "kernel+user time %llu",
	      (unsigned long long)proc(VM, 0x10000)->run_ns);
	CHECK(proc(VM, 0x20000)->flags & AF_EVF_KPTI, "flag");
	/* teardown of either half ends the process once */
	zap(0x21, 0, ROOT4, 900);
	zap(0x20, 0, ROOT4, 910);
	EXPECT_EVENTS("x20000/1:zap");
}

static void test_neighbours(void)
{
	start("unrelated neighbours are not folded");
	cr3(0, 0x10000, 100);
	cr3(0, 0x11000, 200);				/* looks like a user half ... */
	cr3(0, 0x30000, 500);				/* ... but the vCPU goes elsewhere */
	EXPECT_EVENTS("new c10000/1 s0>10000/1 c11000/1 s10000>11000/1 c30000/1 s11000>30000/1");
	CHECK(!(vm_state(VM)->flags & AF_VMF_KPTI), "no KPTI");
	CHECK(proc(VM, 0x10000)->run_ns == 100 && proc(VM, 0x11000)->run_ns == 300,
	      "back-dated run time %llu/%llu", (unsigned long long)proc(VM, 0x10000)->run_ns,
	      (unsigned long long)proc(VM, 0x11000)->run_ns);
	CHECK(proc(VM, 0x11000)->first_ns == 200, "created when loaded");
	/* a root that is not 8K aligned and the next 4K: never a pair */
	cr3(0, 0x41000, 600);
	cr3(0, 0x42000, 700);
	cr3(0, 0x30000, 750);
	EXPECT_EVENTS("c41000/1 s30000>41000/1 c42000/1 s41000>42000/1 s42000>30000/1");
	/* a live process at K+4K is never taken for a user half */
	cr3(0, 0x10000, 800);
	cr3(0, 0x11000, 900);
	cr3(0, 0x10000, 1000);
	EXPECT_EVENTS("s30000>10000/1 s10000>11000/1 s11000>10000/1");
	CHECK(!(vm_state(VM)->flags & AF_VMF_KPTI), "still no KPTI");
	/* K exits while its neighbour K+4K, a new process, runs on the vCPU:
	 * the zap ends K and K+4K is a process since it was loaded */
	cr3(0, 0x50000, 1100);
	cr3(0, 0x51000, 1200);
	zap(0x50, 0, ROOT4, 1300);
	EXPECT_EVENTS("c50000/1 s10000>50000/1 c51000/1 s50000>51000/1 x50000/1:zap");
	CHECK(proc(VM, 0x50000)->run_ns == 100 && proc(VM, 0x51000)->first_ns == 1200,
	      "neighbour back-dated %llu/%llu", (unsigned long long)proc(VM, 0x50000)->run_ns,
	      (unsigned long long)proc(VM, 0x51000)->first_ns);
	cr3(0, 0x30000, 1400);
	EXPECT_EVENTS("s51000>30000/1");
	CHECK(!(vm_state(VM)->flags & AF_VMF_KPTI), "no KPTI after the refuted pair");
}

static void test_idle_timeout(void)
{
	start("idle timeout on NPT/EPT hosts");
	cfg_exit_mode = AF_EXITMODE_SVM;
	cfg_teardown_invisible = 1;
	cfg_idle_ns = 1000;
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, 0, 100);
	obs(AF_OBS_CR3, 0, 0x9000, AF_SRC_EXIT, 0, 200);
	events();
	obs(AF_OBS_TICK, 0, 0, 0, 0, 1150);
	EXPECT_EVENTS("");
	obs(AF_OBS_TICK, 0, 0, 0, 0, 1300);
	EXPECT_EVENTS("x5000/1:idle");			/* 0x9000 is loaded: never idle */
	CHECK(vm_state(VM)->fidelity == AF_FID_SAMPLED, "sampled fidelity");
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, 0, 1400);
	EXPECT_EVENTS("c5000/2 s9000>5000/2");

	start("no idle timeout where teardown is visible");
	cfg_idle_ns = 1000;
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 200);
	events();
	obs(AF_OBS_TICK, 0, 0, 0, 0, 100000);
	EXPECT_EVENTS("");
}

static void test_exit_sampling(void)
{
	const __u32 cr3_avail = 1u << AF_VCPU_EXREG_CR3;

	start("Intel EPT: sample only when CR3 is cached");
	cfg_exit_mode = AF_EXITMODE_VMX;
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, 0, 100);		/* stale: ignored */
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, ~cr3_avail, 110);
	EXPECT_EVENTS("");
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, cr3_avail, 200);
	obs(AF_OBS_CR3, 0, 0x9000, AF_SRC_EXIT, cr3_avail | 1, 300);
	EXPECT_EVENTS("new c5000/1 s0>5000/1 c9000/1 s5000>9000/1");
	CHECK(vm_state(VM)->fidelity == AF_FID_SAMPLED, "sampled");
	CHECK(vm_state(VM)->flags & AF_VMF_SAMPLED, "idle applies");

	start("AMD NPT: VMCB CR3 at every exit");
	cfg_exit_mode = AF_EXITMODE_SVM;
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, 0, 100);
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, 0, 150);		/* same: nothing */
	obs(AF_OBS_CR3, 0, 0x8000000000009001ull, AF_SRC_EXIT, 0, 200);
	EXPECT_EVENTS("new c5000/1 s0>5000/1 c9000/1 s5000>9000/1");

	start("no exit sampling on shadow/PVM hosts");
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EXIT, cr3_avail, 100);
	EXPECT_EVENTS("");
}

static void test_cr_and_emulate(void)
{
	start("kvm_cr path: full fidelity");
	cfg_emulate_full = 0;				/* a VMX/SVM shadow host */
	cr3(0, 0x5000, 100);
	CHECK(vm_state(VM)->fidelity == AF_FID_FULL, "full via kvm_cr");
	CHECK(!(vm_state(VM)->flags & AF_VMF_SAMPLED), "teardown visible");
	EXPECT_EVENTS("new c5000/1 s0>5000/1");

	start("emulation path");
	cfg_emulate_full = 0;
	obs(AF_OBS_CR3, 0, 0x5000, AF_SRC_EMULATE, 0, 100);
	CHECK(vm_state(VM)->fidelity == AF_FID_SAMPLED, "emulation on VMX is a sample");
	cfg_emulate_full = 1;				/* kvm_pvm */
	obs(AF_OBS_CR3, 0, 0x6000, AF_SRC_EMULATE, 0, 200);
	CHECK(vm_state(VM)->fidelity == AF_FID_FULL, "emulation on PVM is every load");
	EXPECT_EVENTS("new c5000/1 s0>5000/1 c6000/1 s5000>6000/1");
	/* the per-CPU cache skips an unchanged CR3 ... */
	CHECK(obs(AF_OBS_CR3, 0, 0x6000, AF_SRC_EMULATE, 0, 300) == 0, "cached");
	/* ... and a teardown invalidates it */
	obs(AF_OBS_VM_DESTROY, 0, 0, 0, 0, 400);
	events();
	obs(AF_OBS_CR3, 0, 0x6000, AF_SRC_EMULATE, 0, 500);
	EXPECT_EVENTS("new c6000/2 s0>6000/2");
}

static void test_switch_off_and_ring_full(void)
{
	start("no switch records when not wanted; counts kept");
	cfg_want_switch = 0;
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 200);
	cr3(0, 0x5000, 300);
	EXPECT_EVENTS("new c5000/1 c9000/1");
	CHECK(proc(VM, 0x5000)->switches == 2 && proc(VM, 0x9000)->switches == 1, "counts");
	CHECK(shim_events[AF_EV_SWITCH] == 3, "counter");

	start("reserve failures are counted");
	shim_ring_cap = 3;
	cr3(0, 0x5000, 100);				/* new, create, switch */
	cr3(0, 0x9000, 200);				/* create, switch: both lost */
	CHECK(shim_ring_n == 3, "ring holds 3");
	CHECK(shim_drops[AF_PROG_REPLAY] == 2, "2 drops, got %llu",
	      (unsigned long long)shim_drops[AF_PROG_REPLAY]);
	CHECK(proc(VM, 0x9000) && proc(VM, 0x9000)->live, "state kept despite loss");
}

static void test_reap_and_limits(void)
{
	start("exited processes forgotten after the keep time; generations stay unique");
	cfg_keep_ns = 1000;
	cr3(0, 0x5000, 100);
	cr3(0, 0x9000, 200);
	zap(0x5, 0, ROOT4, 300);
	events();
	obs(AF_OBS_TICK, 0, 0, 0, 0, 1200);		/* 900 after the exit: kept */
	CHECK(proc(VM, 0x5000) != NULL, "kept");
	obs(AF_OBS_TICK, 0, 0, 0, 0, 1300);
	CHECK(proc(VM, 0x5000) == NULL && proc(VM, 0x9000) != NULL, "reaped only the exited");
	CHECK(shim_stats[AF_STAT_REAPED] == 1, "counted");
	cr3(0, 0x5000, 1400);
	cr3(0, 0x6000, 1500);				/* a fresh root also starts above */
	EXPECT_EVENTS("c5000/2 s9000>5000/2 c6000/2 s5000>6000/2");

	start("per-VM live process limit");
	cfg_max_live = 2;
	cr3(0, 0x5000, 100);
	cr3(0, 0x6000, 200);
	cr3(0, 0x7000, 300);				/* refused: counted, nobody charged */
	cr3(0, 0x5000, 700);
	EXPECT_EVENTS("new c5000/1 s0>5000/1 c6000/1 s5000>6000/1 s0>5000/1");
	CHECK(shim_stats[AF_STAT_VM_LIMIT] == 1, "limit counted");
	CHECK(proc(VM, 0x6000)->run_ns == 100 && proc(VM, 0x5000)->run_ns == 100,
	      "no time charged while untracked");
	obs_vm(AF_OBS_CR3, VM2, PID2, 0, 0x7000, AF_SRC_CR, 0, 800);
	CHECK(proc(VM2, 0x7000) != NULL, "other VMs unaffected");
}

static void test_notify(void)
{
	start("notify attributed to the current process");
	obs(AF_OBS_NOTIFY, 0, 0xd0000050, 1, AF_SRC_MMIO, 50);
	cr3(0, 0x5000, 100);
	obs(AF_OBS_NOTIFY, 0, 0xd0000050, 2, AF_SRC_MMIO, 150);
	cr3(0, 0x9000, 200);
	obs(AF_OBS_NOTIFY, 0, 0x3f8, 0x41, AF_SRC_PIO, 250);
	EXPECT_EVENTS("n0/0@d0000050=1 new c5000/1 s0>5000/1 n5000/1@d0000050=2 "
		      "c9000/1 s5000>9000/1 n9000/1@3f8=41");
	CHECK(obs(99, 0, 0, 0, 0, 1) == -1, "unknown observation rejected");
}

static void get(__u64 gfn, __u64 created, __u64 ts)
{
	obs(AF_OBS_ROOT_GET, 0, gfn, created, ROOT4, ts);
}

#define DIGEST(h)	(AF_DIGEST_VALID | (h))

/* Kernel root 0x1000 loaded, then process root 0x5000, which then writes
 * its own live root until KVM zaps the root's shadow page. */
static void grown_while_loaded(void)
{
	cr3(0, 0x1000, 100);
	get(0x5, 1, 150);
	cr3(0, 0x5000, 200);
	zap(0x5, 1, ROOT4, 300);			/* loaded: not an exit */
	zap(0x5, 0, ROOT4 | ROLE_INVALID, 310);
	EXPECT_EVENTS("new c1000/1 s0>1000/1 c5000/1 s1000>5000/1");
	CHECK((proc(VM, 0x5000)->state & AF_ASS_SHADOW) == (AF_ASS_UNSHADOWED | AF_ASS_WRITTEN),
	      "flagged unshadowed: %u",
	      proc(VM, 0x5000)->state);
}

static void test_unshadowed_root(void)
{
	start("a grown root's page reused by a new process");
	grown_while_loaded();
	shim_set_digest(VM, 0x5, DIGEST(0xaaaa));
	cr3(0, 0x1000, 400);
	EXPECT_EVENTS("u5000/1 s5000>1000/1");
	CHECK((proc(VM, 0x5000)->state & AF_ASS_SHADOW) ==
	      (AF_ASS_UNSHADOWED | AF_ASS_DIGEST | AF_ASS_WRITTEN) &&
	      proc(VM, 0x5000)->digest == 0xaaaa, "digest kept at unload");
	CHECK(shim_unshadowed == 1, "polled by the agent: %d", shim_unshadowed);
	/* it exits unseen; the page comes back as another process's root,
	 * fed the way a recording feeds it */
	obs(AF_OBS_DIGEST, 0, 0x5, DIGEST(0xbbbb), 0, 490);
	get(0x5, 1, 500);
	cr3(0, 0x5000, 510);
	EXPECT_EVENTS("x5000/1:reused c5000/2 s1000>5000/2");
	CHECK((proc(VM, 0x5000)->state & AF_ASS_SHADOW) == 0 && proc(VM, 0x5000)->run_ns == 0, "fresh generation");
	CHECK(shim_unshadowed == 0, "no longer polled: %d", shim_unshadowed);

	start("a grown root loaded again by its own process");
	grown_while_loaded();
	shim_set_digest(VM, 0x5, DIGEST(0xaaaa));
	cr3(0, 0x1000, 400);
	get(0x5, 1, 500);				/* shadowed again, same content */
	cr3(0, 0x5000, 510);
	EXPECT_EVENTS("u5000/1 s5000>1000/1 s1000>5000/1");
	CHECK((proc(VM, 0x5000)->state & AF_ASS_SHADOW) == 0 && shim_unshadowed == 0, "flag cleared");
	cr3(0, 0x1000, 590);				/* its teardown is visible again */
	zap(0x5, 1, ROOT4, 600);
	EXPECT_EVENTS("s5000>1000/1 x5000/1:zap");

	start("a grown root rebuilt under the running process");
	grown_while_loaded();
	get(0x5, 1, 350);				/* the vCPU ran on it: rebuilt */
	CHECK((proc(VM, 0x5000)->state & AF_ASS_SHADOW) == 0, "flag cleared by the rebuild");
	shim_digest_reads = 0;
	cr3(0, 0x1000, 400);
	zap(0x5, 1, ROOT4, 410);
	EXPECT_EVENTS("s5000>1000/1 x5000/1:zap");
	CHECK(shim_digest_reads == 0, "no guest memory read: %d", shim_digest_reads);

	start("a root torn down while loaded, seen at unload");
	grown_while_loaded();
	shim_set_digest(VM, 0x5, AF_DIGEST_VALID | AF_DIGEST_EMPTY);
	cr3(0, 0x1000, 400);
	EXPECT_EVENTS("x5000/1:zap s5000>1000/1");
	CHECK(proc(VM, 0x5000)->run_ns == 200, "run time charged once: %llu",
	      (unsigned long long)proc(VM, 0x5000)->run_ns);

	start("a grown root torn down after its unload, seen by the agent's poll");
	grown_while_loaded();
	shim_set_digest(VM, 0x5, DIGEST(0xaaaa));
	cr3(0, 0x1000, 400);
	events();
	obs(AF_OBS_POLL, 0, 0x5, 0, 0, 450);		/* unchanged: still live */
	EXPECT_EVENTS("");
	obs(AF_OBS_DIGEST, 0, 0x5, AF_DIGEST_VALID | AF_DIGEST_EMPTY, 0, 500);
	CHECK(obs(AF_OBS_POLL, 0, 0x5, 0, 0, 500) == 1, "poll ends it");
	EXPECT_EVENTS("x5000/1:zap");
	CHECK(shim_unshadowed == 0 && (proc(VM, 0x5000)->state & AF_ASS_SHADOW) == 0, "no longer polled");
	CHECK(obs(AF_OBS_POLL, 0, 0x5, 0, 0, 510) == 0, "a poll of a dead root does nothing");

	start("a memslot change unshadows an unloaded root; its teardown is polled");
	cr3(0, 0x1000, 100);
	cr3(0, 0x5000, 200);
	cr3(0, 0x1000, 300);				/* 0x5000 live, not loaded */
	events();
	shim_set_digest(VM, 0x5, DIGEST(0xaaaa));
	zap(0x5, 1, ROOT4 | AF_ZAPF_NOT_GUEST, 400);	/* not an exit */
	EXPECT_EVENTS("u5000/1");
	CHECK(proc(VM, 0x5000)->live && proc(VM, 0x5000)->digest == 0xaaaa &&
	      shim_unshadowed == 1, "digest taken at the zap");
	zap(0x5, 0, ROOT4 | AF_ZAPF_PRESSURE, 410);	/* reclaim: not an exit either */
	EXPECT_EVENTS("");
	obs(AF_OBS_DIGEST, 0, 0x5, AF_DIGEST_VALID | AF_DIGEST_EMPTY, 0, 500);
	obs(AF_OBS_POLL, 0, 0x5, 0, 0, 500);
	EXPECT_EVENTS("x5000/1:zap");

	start("a root emptied before KVM reclaims its shadow: a teardown");
	shim_set_digest(VM, 0x5, DIGEST(0xaaaa));	/* user entries when created */
	cr3(0, 0x1000, 100);
	cr3(0, 0x5000, 200);
	cr3(0, 0x1000, 300);
	CHECK(proc(VM, 0x5000)->state == AF_ASS_USER, "user root: %u", proc(VM, 0x5000)->state);
	events();
	shim_set_digest(VM, 0x5, AF_DIGEST_VALID | AF_DIGEST_EMPTY);	/* guest cleared it */
	zap(0x5, 0, ROOT4 | AF_ZAPF_PRESSURE, 400);
	EXPECT_EVENTS("x5000/1:zap");

	start("a kernel-only root unshadowed by a memslot change stays alive");
	cr3(0, 0x1000, 100);
	cr3(0, 0x5000, 200);				/* 0x1000 live, not loaded */
	events();
	shim_set_digest(VM, 0x1, AF_DIGEST_VALID | AF_DIGEST_EMPTY);
	zap(0x1, 1, ROOT4 | AF_ZAPF_NOT_GUEST, 300);
	obs(AF_OBS_POLL, 0, 0x1, 0, 0, 310);
	get(0x1, 1, 400);
	cr3(0, 0x1000, 410);
	EXPECT_EVENTS("u1000/1 s5000>1000/1");
	CHECK(proc(VM, 0x1000)->live && (proc(VM, 0x1000)->state & AF_ASS_SHADOW) == 0, "alive, shadowed again");

	start("a kernel-only root loaded during a memslot change stays alive at its unload");
	cr3(0, 0x1000, 100);
	events();
	shim_set_digest(VM, 0x1, AF_DIGEST_VALID | AF_DIGEST_EMPTY);
	zap(0x1, 1, ROOT4 | AF_ZAPF_NOT_GUEST, 200);	/* loaded */
	cr3(0, 0x5000, 300);
	EXPECT_EVENTS("u1000/1 c5000/1 s1000>5000/1");
	CHECK(proc(VM, 0x1000)->live, "kernel root alive");

	start("a grown root that cannot be read");
	grown_while_loaded();
	cr3(0, 0x1000, 400);				/* no digest: unreadable */
	get(0x5, 1, 500);
	cr3(0, 0x5000, 510);
	EXPECT_EVENTS("s5000>1000/1 s1000>5000/1");	/* as before digests: one process */
	CHECK(shim_stats[AF_STAT_DIGEST_FAIL] == 1, "failure counted: %llu",
	      (unsigned long long)shim_stats[AF_STAT_DIGEST_FAIL]);
}

int main(void)
{
	test_switch_and_runtime();
	test_bits_stripped();
	test_root_reuse();
	test_double_zap();
	test_zap_filters();
	test_vm_teardown();
	test_kpti();
	test_neighbours();
	test_idle_timeout();
	test_exit_sampling();
	test_cr_and_emulate();
	test_switch_off_and_ring_full();
	test_reap_and_limits();
	test_notify();
	test_unshadowed_root();
	return check_summary("infer replay");
}
