// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Live-kernel test of the BPF side: opens the real collector (probe, load,
 * attach), feeds observation sequences through BPF_PROG_TEST_RUN into
 * "af_replay", and checks the ring-buffer records and the maps exactly.
 * Needs root and kernel BTF (skips otherwise).  This checks that the
 * programs attach, and runs the state machine through the replay program.
 * The attached programs see every VM on the host, so only the records of
 * the test's own (made-up) VMs are counted, and the ring-full case runs
 * with nothing attached: another guest may be running meanwhile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "collector.h"
#include "tests/lib/check.h"

#define VM	0xffff888000aa0000ull
#define VM2	0xffff888000bb0000ull
#define PID	777
#define PID2	778
#define ROOT4	0x4ull



struct evlog {
	struct af_event ev[4096];
	int n;
};

static int collect(void *ctx, const struct af_event *e)
{
	struct evlog *l = ctx;

	if (e->vm_key != VM && e->vm_key != VM2)
		return 0;	/* a real guest on this host */
	if (l->n < 4096)
		l->ev[l->n++] = *e;
	return 0;
}

enum { DETACHED, ATTACHED };

static struct af_collector *open_col(enum af_host_kind host, uint32_t rb, int idle, int attach)
{
	struct af_collector_opts o = {
		.want_switch = 1, .force_host = host, .ringbuf_bytes = rb,
		.idle_timeout_ns = idle ? 1000 : 0, .no_attach = attach == DETACHED,
	};
	struct af_collector *c;
	char err[512];
	int r = af_collector_open(&c, &o, err, sizeof(err));

	if (r < 0) {
		printf("FAIL %s: af_collector_open: %s (%d)\n", check_case, err, r);
		exit(1);
	}
	return c;
}

static int obs(struct af_collector *c, uint64_t kind, uint64_t vm, uint32_t pid, uint32_t vcpu,
	       uint64_t a, uint64_t b, uint64_t cc, uint64_t ts)
{
	uint64_t args[AF_REPLAY_NARGS] = { kind, vm, pid, vcpu, a, b, cc, ts };
	int r = af_collector_replay(c, args);

	CHECK(r >= 0 || kind == 99, "replay kind %llu: %d", (unsigned long long)kind, r);
	return r;
}

static void cr3(struct af_collector *c, uint32_t vcpu, uint64_t v, uint64_t src, uint64_t ts)
{
	obs(c, AF_OBS_CR3, VM, PID, vcpu, v, src, 0, ts);
}

static struct evlog *drain(struct af_collector *c)
{
	static struct evlog l;

	l.n = 0;
	af_collector_poll(c, collect, &l);
	return &l;
}

static int count(const struct evlog *l, unsigned type, uint64_t as, unsigned reason)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		if (l->ev[i].type == type && (!as || l->ev[i].as == as) &&
		    (type != AF_EV_EXIT || l->ev[i].reason == reason))
			n++;
	return n;
}

struct pstate { uint64_t as; struct af_proc_info p; int found; };

static int find_proc(void *ctx, const struct af_proc_info *p)
{
	struct pstate *s = ctx;

	if (p->vm_key == VM && p->as == s->as) {
		s->p = *p;
		s->found = 1;
	}
	return 0;
}

static struct af_proc_info proc(struct af_collector *c, uint64_t as)
{
	struct pstate s = { .as = as };

	af_collector_foreach_proc(c, find_proc, &s);
	CHECK(s.found, "process %llx in map", (unsigned long long)as);
	return s.p;
}

static struct af_proc_info proc_at(struct af_collector *c, uint64_t as, uint64_t now)
{
	struct pstate s = { .as = as };

	af_collector_foreach_proc_at(c, now, find_proc, &s);
	CHECK(s.found, "process %llx in map", (unsigned long long)as);
	return s.p;
}

struct pcount { uint64_t vm; int n; };

static int count_proc(void *ctx, const struct af_proc_info *p)
{
	struct pcount *pc = ctx;

	pc->n += p->vm_key == pc->vm;
	return 0;
}

static int count_procs(struct af_collector *c, uint64_t vm)
{
	struct pcount pc = { .vm = vm };

	af_collector_foreach_proc(c, count_proc, &pc);
	return pc.n;
}

static int count_vm(void *ctx, const struct af_vm_info *v)
{
	struct af_vm_info *out = ctx;

	if (v->vm_key == VM)
		*out = *v;
	return 0;
}

static int tp_in_btf(const char *tp)
{
	struct btf *v = btf__load_vmlinux_btf(), *k = NULL;
	char name[128];
	int found;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	if (!v)
		return 0;
	if (access("/sys/kernel/btf/kvm", F_OK) == 0)
		k = btf__load_module_btf("kvm", v);
	found = btf__find_by_name_kind(v, name, BTF_KIND_TYPEDEF) > 0 ||
		(k && btf__find_by_name_kind(k, name, BTF_KIND_TYPEDEF) > 0);
	btf__free(k);
	btf__free(v);
	return found;
}

static void test_attach_and_sequence(void)
{
	const char *tps[] = { "kvm_emulate_insn", "kvm_mmu_get_page", "kvm_mmu_prepare_zap_page" };
	struct af_collector *c;
	struct af_proc_info p;
	struct af_vm_info v = {};
	struct evlog *l;
	unsigned i;

	check_case = "attach on this host, full sequence";
	c = open_col(AF_HOST_UNKNOWN, 0, 0, ATTACHED);
	for (i = 0; i < 3; i++)
		if (tp_in_btf(tps[i]))
			CHECK(af_collector_prog_attached(c, tps[i]), "%s not attached", tps[i]);
		else
			printf("note: no %s tracepoint in BTF here\n", tps[i]);

	if (access("/dev/kvm", F_OK) != 0)
		CHECK(strstr(af_collector_warning(c), "/dev/kvm") != NULL, "warning: %s",
		      af_collector_warning(c));
	else
		CHECK(af_collector_warning(c)[0] == 0, "no warning with /dev/kvm");
	/* the sequence on a collector of its own: the global counters below
	 * must not see the guests running on this host */
	af_collector_close(c);
	c = open_col(AF_HOST_UNKNOWN, 0, 0, DETACHED);
	cr3(c, 0, 0x8000000000005001ull, AF_SRC_EMULATE, 100);
	cr3(c, 0, 0x9000, AF_SRC_EMULATE, 300);
	cr3(c, 0, 0x5002, AF_SRC_EMULATE, 600);
	cr3(c, 1, 0x9000, AF_SRC_CR, 650);
	cr3(c, 0, 0x9000, AF_SRC_EMULATE, 1000);
	cr3(c, 0, 0xa000, AF_SRC_EMULATE, 1100);
	obs(c, AF_OBS_ROOT_ZAP, VM, PID, 0, 0x5, 1, ROOT4, 1200);		/* exit */
	obs(c, AF_OBS_ROOT_ZAP, VM, PID, 0, 0x5, 0, ROOT4 | (1 << 11), 1210);	/* its 2nd zap */
	obs(c, AF_OBS_ROOT_ZAP, VM, PID, 0, 0x9, 0, ROOT4 | AF_ZAPF_NOT_GUEST, 1220);
	cr3(c, 0, 0x5000, AF_SRC_EMULATE, 1300);				/* gen 2 */
	l = drain(c);
	CHECK(l->n == 13, "records %d, want 13", l->n);
	CHECK(count(l, AF_EV_VM_NEW, 0, 0) == 1, "one VM_NEW");
	CHECK(count(l, AF_EV_CREATE, 0, 0) == 4, "creates 5000/1 9000 a000 5000/2");
	CHECK(count(l, AF_EV_SWITCH, 0, 0) == 7, "switches %d", count(l, AF_EV_SWITCH, 0, 0));
	CHECK(count(l, AF_EV_EXIT, 0x5000, AF_EXIT_ZAP) == 1, "one zap exit");
	for (i = 1; i < (unsigned)l->n; i++)
		CHECK(l->ev[i].seq == l->ev[i - 1].seq + 1, "seq gap at %u", i);
	p = proc(c, 0x9000);
	CHECK(p.live && p.gen == 1 && p.switches == 3 && p.run_ns == 300 + 100,
	      "9000: live %u gen %u switches %llu run %llu", p.live, p.gen,
	      (unsigned long long)p.switches, (unsigned long long)p.run_ns);
	/* at 2000: 9000 has run on vCPU 1 since 650, 5000/2 on vCPU 0 since 1300 */
	p = proc_at(c, 0x9000, 2000);
	CHECK(p.running == 1 && p.cpu_ns == 400 + 1350, "9000 cpu_ns %llu running %u",
	      (unsigned long long)p.cpu_ns, p.running);
	p = proc_at(c, 0x5000, 2000);
	CHECK(p.running == 1 && p.cpu_ns == 700, "5000/2 cpu_ns %llu", (unsigned long long)p.cpu_ns);
	p = proc_at(c, 0xa000, 2000);
	CHECK(p.running == 0 && p.cpu_ns == p.run_ns && p.run_ns == 200,
	      "a000 switched out: cpu_ns %llu run_ns %llu", (unsigned long long)p.cpu_ns,
	      (unsigned long long)p.run_ns);
	af_collector_foreach_vm(c, count_vm, &v);
	CHECK(v.live_procs == 3 && v.nvcpus == 2 && v.vm_pid == PID &&
	      v.fidelity == AF_FID_FULL, "vm: live %u vcpus %u fid %u", v.live_procs,
	      v.nvcpus, v.fidelity);

	/* teardown: every process ends with reason vm, one VM_EXIT, VM gone from the list */
	obs(c, AF_OBS_CR3, VM2, PID2, 0, 0x5000, AF_SRC_CR, 0, 1400);
	drain(c);
	obs(c, AF_OBS_VMM_EXIT, 0, PID, 0, 0, 0, 0, 2000);
	l = drain(c);
	CHECK(l->n == 4 && count(l, AF_EV_EXIT, 0, AF_EXIT_VM) == 3 &&
	      count(l, AF_EV_VM_EXIT, 0, 0) == 1 && l->ev[3].type == AF_EV_VM_EXIT,
	      "teardown records %d", l->n);
	v.vm_key = 0;
	af_collector_foreach_vm(c, count_vm, &v);
	CHECK(v.vm_key == 0, "dead VM still listed");
	CHECK(af_collector_events(c, AF_EV_EXIT) == 4, "exit counter");
	/* exited processes stay listable for a while, then the tick reaps them */
	af_collector_tick(c, 3000);
	CHECK(count_procs(c, VM) == 3 && count_procs(c, VM2) == 1, "kept after teardown");
	af_collector_tick(c, 2000 + 61000000000ull);
	CHECK(count_procs(c, VM) == 0 && count_procs(c, VM2) == 1, "reaped: %d left",
	      count_procs(c, VM));
	af_collector_close(c);
}

static void test_host_paths(void)
{
	const uint64_t avail = 1ull << AF_VCPU_EXREG_CR3;
	struct af_collector *c;
	struct evlog *l;

	check_case = "AMD NPT: exit sampling and idle timeout";
	c = open_col(AF_HOST_SVM_NPT, 0, 1, ATTACHED);
	CHECK(af_collector_host(c) == AF_HOST_SVM_NPT, "forced host");
	if (tp_in_btf("kvm_exit"))
		CHECK(af_collector_prog_attached(c, "kvm_exit"), "kvm_exit raw_tp attached");
	CHECK(strstr(af_collector_fidelity_note(c), "npt=0") != NULL, "note");
	cr3(c, 0, 0x5000, AF_SRC_EXIT, 100);
	cr3(c, 0, 0x9000, AF_SRC_EXIT, 200);
	af_collector_tick(c, 1150);
	l = drain(c);
	CHECK(count(l, AF_EV_CREATE, 0, 0) == 2 && count(l, AF_EV_EXIT, 0, AF_EXIT_IDLE) == 0,
	      "no idle yet");
	af_collector_tick(c, 1300);
	l = drain(c);
	CHECK(l->n == 1 && count(l, AF_EV_EXIT, 0x5000, AF_EXIT_IDLE) == 1, "idle exit");
	af_collector_close(c);

	check_case = "Intel EPT: cached CR3 only; kvm_cr on a shadow host";
	c = open_col(AF_HOST_VMX_EPT, 0, 0, ATTACHED);
	CHECK(strstr(af_collector_fidelity_note(c), "ept=0") != NULL, "ept=0 advice");
	if (tp_in_btf("kvm_entry"))
		CHECK(af_collector_prog_attached(c, "kvm_entry"), "kvm_entry attached");
	cr3(c, 0, 0x5000, AF_SRC_EXIT, 100);
	obs(c, AF_OBS_CR3, VM, PID, 0, 0x6000, AF_SRC_EXIT, avail, 200);
	l = drain(c);
	CHECK(l->n == 3 && count(l, AF_EV_CREATE, 0x6000, 0) == 1, "only the cached sample");
	af_collector_close(c);

	check_case = "PVM host: exit samples ignored, emulation is every load";
	c = open_col(AF_HOST_PVM, 0, 0, DETACHED);
	cr3(c, 0, 0x5000, AF_SRC_EXIT, 100);
	l = drain(c);
	CHECK(l->n == 0, "no exit sampling on PVM");
	cr3(c, 0, 0x5000, AF_SRC_EMULATE, 200);
	cr3(c, 0, 0x5000, AF_SRC_EMULATE, 300);	/* per-CPU cache: nothing */
	l = drain(c);
	CHECK(l->n == 3, "records %d", l->n);
	af_collector_close(c);
}

/* Every host kind's program set passes the verifier here and attaches. */
static void test_all_host_kinds(void)
{
	static const struct { enum af_host_kind k; const char *on, *off; } kinds[] = {
		{ AF_HOST_PVM,        "kvm_mmu_get_page", "kvm_exit" },
		{ AF_HOST_VMX_EPT,    "kvm_entry",        "kvm_mmu_get_page" },
		{ AF_HOST_VMX_SHADOW, "kvm_cr",           NULL },
		{ AF_HOST_SVM_NPT,    "kvm_exit",         "kvm_mmu_prepare_zap_page" },
		{ AF_HOST_SVM_SHADOW, "kvm_mmu_prepare_zap_page", NULL },
	};
	unsigned i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct af_collector *c;

		check_case = af_host_kind_name(kinds[i].k);
		c = open_col(kinds[i].k, 0, 0, ATTACHED);
		if (tp_in_btf(kinds[i].on))
			CHECK(af_collector_prog_attached(c, kinds[i].on), "%s attached", kinds[i].on);
		if (kinds[i].off)
			CHECK(!af_collector_prog_attached(c, kinds[i].off), "%s not needed",
			      kinds[i].off);
		CHECK(af_collector_prog_attached(c, "sched_process_exit"), "teardown hook");
		af_collector_close(c);
	}
}

static void test_ring_full(void)
{
	struct af_collector *c;
	struct evlog *l;
	uint64_t drops;
	char *text = NULL, want[128];
	size_t len = 0;
	FILE *m;
	int i;

	check_case = "reserve failures counted when the ring is full";
	c = open_col(AF_HOST_UNKNOWN, 4096, 0, DETACHED);	/* one page: 42 records */
	for (i = 0; i < 100; i++)
		obs(c, AF_OBS_NOTIFY, VM, PID, 0, 0xd0000000 + i, i, AF_SRC_MMIO, 100 + i);
	drops = af_collector_drops(c, AF_PROG_REPLAY);
	l = drain(c);
	CHECK(l->n > 0 && l->n < 100 && l->n + drops == 100, "kept %d + dropped %llu != 100",
	      l->n, (unsigned long long)drops);
	for (i = 0; i < l->n; i++)
		CHECK(l->ev[i].addr == 0xd0000000ull + i && l->ev[i].value == (uint64_t)i,
		      "record %d", i);
	m = open_memstream(&text, &len);
	af_collector_metrics(c, m);
	fclose(m);
	snprintf(want, sizeof(want), "antfarm_bpf_reserve_failures_total{prog=\"af_replay\"} %llu\n",
		 (unsigned long long)drops);
	CHECK(strstr(text, want) != NULL, "metrics lack: %s", want);
	CHECK(strstr(text, "antfarm_bpf_events_total{type=\"notify\"} 100\n") != NULL,
	      "notify counter");
	CHECK(strstr(text, "antfarm_bpf_run_count_total{prog=\"af_replay\"}") != NULL, "bpf_stats");
	CHECK(strstr(text, "antfarm_bpf_state_total{what=\"procs_map_full\"} 0\n") != NULL,
	      "state counters");
	free(text);
	/* the ring drained, records flow again */
	obs(c, AF_OBS_NOTIFY, VM, PID, 0, 1, 2, AF_SRC_PIO, 300);
	CHECK(drain(c)->n == 1 && af_collector_drops(c, AF_PROG_REPLAY) == drops, "after drain");
	af_collector_close(c);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("skip: needs root to load BPF programs\n");
		return 77;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		printf("skip: no kernel BTF (/sys/kernel/btf/vmlinux)\n");
		return 77;
	}
	test_attach_and_sequence();
	test_host_paths();
	test_all_host_kinds();
	test_ring_full();
	return check_summary("live BPF replay");
}
