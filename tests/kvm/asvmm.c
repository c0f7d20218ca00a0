// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * asvmm - a KVM-API test VMM whose guest performs a script of address-space
 * operations (build, load and clear page-table roots, grow them, scribble
 * into freed ones, memslot changes) and writes the exact ground truth, with
 * host CLOCK_MONOTONIC timestamps, for comparison with antfarm-agent.
 *
 * /dev/kvm ioctls only: long mode set up here (GDT, TSS, IDT, 4-level
 * tables), the guest (guest.S) linked in as a flat binary, one thread per
 * vCPU.  The guest reports each ground-truth instant with a PIO "mark";
 * the vCPU thread stamps it on the host clock the agent uses too.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/num.h"
#include "script.h"

#define EXIT_SKIP	77
#define CPUID_PCID	(1u << 17)	/* CPUID.01H:ECX */
#define CR0_PE_MP_ET_NE_WP_AM_PG 0x80050033ull
#define CR4_PAE		(1ull << 5)
#define CR4_PCIDE	(1ull << 17)
#define EFER_LME_LMA	0x500ull

extern const unsigned char asvmm_guest[], asvmm_guest_end[];

struct vm;

struct vcpu {
	struct vm *vm;
	int id, fd;
	struct kvm_run *run;
	pthread_t th;
	uint64_t ops_gpa;
	size_t nops;
	uint64_t start_ns, done_ns;
	unsigned pio, waits;
};

struct vm {
	int kvm, fd;
	uint8_t *mem, *xmem;
	size_t run_size;
	int nvcpus, have_pcid;
	struct kvm_cpuid2 *cpuid;
	struct vcpu vc[MAX_VCPUS];
	uint64_t *mark_ns;		/* [1..nmarks] */
	uint32_t nmarks, nflags;
	int xslot_on;
	pthread_mutex_t lock;		/* the fields below, and memslot changes */
	pthread_cond_t cond;
	int started, ndone, failed;
	char why[1024];
};

static void vm_fail(struct vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void vm_fail(struct vm *vm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (!vm->failed) {
		va_start(ap, fmt);
		vsnprintf(vm->why, sizeof(vm->why), fmt, ap);
		va_end(ap);
		vm->failed = 1;
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

/* --- guest memory: descriptor tables, page tables, code, scripts --- */

static uint64_t *gpa64(struct vm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + gpa);
}

static void setup_tables(struct vm *vm)
{
	uint64_t *gdt = gpa64(vm, GDT_GPA), *idt = gpa64(vm, IDT_GPA);
	uint64_t tss = KERN_BASE + TSS_GPA, limit = 0x67;

	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;		/* 0x08: 64-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull;		/* 0x10: data */
	gdt[3] = (limit & 0xffff) | (tss & 0xffffff) << 16 | 0xbull << 40 | 1ull << 47 |
		 ((tss >> 24) & 0xff) << 56;	/* 0x18: busy 64-bit TSS */
	gdt[4] = tss >> 32;
	for (int v = 0; v < 32; v++) {
		uint64_t h = KERN_BASE + CODE_GPA + STUBS_OFF + 16 * v;

		idt[2 * v] = (h & 0xffff) | 0x08ull << 16 | 0x8eull << 40 | ((h >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = h >> 32;
	}
	/* the kernel half: guest-physical 0..1 GiB at KERN_BASE, 2 MiB pages */
	gpa64(vm, BOOT_ROOT)[KERN_SLOT] = KERN_PDPT | PTE_P | PTE_RW;
	gpa64(vm, KERN_PDPT)[0] = KERN_PD | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < 512; i++)
		gpa64(vm, KERN_PD)[i] = (i << 21) | PTE_P | PTE_RW | PTE_PS;
}

static void fill_garbage(struct vm *vm, uint64_t seed)
{
	uint64_t *g = gpa64(vm, GARBAGE_GPA), x = seed | 1;

	for (int i = 0; i < 512; i++) {		/* xorshift: any bits, some look present */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		g[i] = x;
	}
}

static int load_scripts(struct vm *vm, const struct script *s, char *why, size_t len)
{
	uint64_t gpa = OPS_GPA;

	if (s->nflags >= FLAGS_MAX) {
		snprintf(why, len, "%u flags: more than the flag area holds", s->nflags);
		return -1;
	}
	for (int v = 0; v < vm->nvcpus; v++) {
		size_t n;
		struct as_op *ops = script_ops(s, v, &n);

		if (!ops) {
			snprintf(why, len, "out of memory");
			return -1;
		}
		if (gpa + n * OP_SIZE > OPS_END) {
			free(ops);
			snprintf(why, len, "script too long for guest memory (%zu ops on vCPU %d)", n, v);
			return -1;
		}
		memcpy(vm->mem + gpa, ops, n * OP_SIZE);
		vm->vc[v].ops_gpa = gpa;
		vm->vc[v].nops = n;
		gpa += n * OP_SIZE;
		free(ops);
	}
	return 0;
}

/* --- KVM --- */

static int get_cpuid(struct vm *vm)
{
	for (int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return -1;
		c->nent = n;
		if (ioctl(vm->kvm, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			for (unsigned i = 0; i < c->nent; i++)
				if (c->entries[i].function == 1)
					vm->have_pcid = !!(c->entries[i].ecx & CPUID_PCID);
			return 0;
		}
		free(c);
		if (errno != E2BIG)
			return -1;
	}
	return -1;
}

/* 0, EXIT_SKIP (this host cannot run a VM; why says so) or -1. */
static int vm_open(struct vm *vm, char *why, size_t len)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
						 .memory_size = MEM_SIZE };
	int ver;

	vm->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm < 0) {
		snprintf(why, len, "cannot open /dev/kvm: %s", strerror(errno));
		return EXIT_SKIP;
	}
	ver = ioctl(vm->kvm, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		snprintf(why, len, "KVM API version %d, want %d", ver, KVM_API_VERSION);
		return EXIT_SKIP;
	}
	vm->fd = ioctl(vm->kvm, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		snprintf(why, len, "KVM_CREATE_VM failed: %s (no usable KVM on this host; "
			 "dmesg | grep kvm says why)", strerror(errno));
		return EXIT_SKIP;
	}
	vm->run_size = ioctl(vm->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if ((long)vm->run_size <= 0 || get_cpuid(vm) < 0) {
		snprintf(why, len, "KVM_GET_VCPU_MMAP_SIZE/KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		return -1;
	}
	vm->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	vm->xmem = mmap(NULL, XSLOT_SIZE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->mem == MAP_FAILED || vm->xmem == MAP_FAILED) {
		snprintf(why, len, "mmap guest memory: %s", strerror(errno));
		return -1;
	}
	r.userspace_addr = (uintptr_t)vm->mem;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		snprintf(why, len, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->type = type;
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code;
	s->db = !code;
}

/* 0, EXIT_SKIP (PCID refused) or -1. */
static int vcpu_setup(struct vm *vm, int v, int pcid, char *why, size_t len)
{
	struct vcpu *vc = &vm->vc[v];
	struct kvm_sregs sr;
	struct kvm_regs regs = {
		.rip = KERN_BASE + CODE_GPA,
		.rsp = KERN_BASE + STACK_GPA + (uint64_t)(v + 1) * STACK_SIZE,
		.rdi = KERN_BASE + vc->ops_gpa,
		.rsi = v,
		.rflags = 0x2,
	};

	vc->vm = vm;
	vc->id = v;
	vc->fd = ioctl(vm->fd, KVM_CREATE_VCPU, v);
	if (vc->fd < 0) {
		snprintf(why, len, "KVM_CREATE_VCPU %d: %s", v, strerror(errno));
		return -1;
	}
	vc->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vc->fd, 0);
	if (vc->run == MAP_FAILED) {
		vc->run = NULL;
		snprintf(why, len, "mmap kvm_run: %s", strerror(errno));
		return -1;
	}
	if (ioctl(vc->fd, KVM_SET_CPUID2, vm->cpuid) < 0 || ioctl(vc->fd, KVM_GET_SREGS, &sr) < 0) {
		snprintf(why, len, "KVM_SET_CPUID2/KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	seg(&sr.cs, 0x08, 11, 1);
	seg(&sr.ds, 0x10, 3, 0);
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	memset(&sr.tr, 0, sizeof(sr.tr));
	sr.tr.base = KERN_BASE + TSS_GPA;
	sr.tr.limit = 0x67;
	sr.tr.selector = 0x18;
	sr.tr.type = 11;
	sr.tr.present = 1;
	memset(&sr.ldt, 0, sizeof(sr.ldt));
	sr.ldt.unusable = 1;
	sr.gdt.base = KERN_BASE + GDT_GPA;
	sr.gdt.limit = 5 * 8 - 1;
	sr.idt.base = KERN_BASE + IDT_GPA;
	sr.idt.limit = 32 * 16 - 1;
	sr.cr0 = CR0_PE_MP_ET_NE_WP_AM_PG;
	sr.cr3 = BOOT_ROOT;
	sr.cr4 = CR4_PAE | (pcid ? CR4_PCIDE : 0);
	sr.efer = EFER_LME_LMA;
	if (ioctl(vc->fd, KVM_SET_SREGS, &sr) < 0) {
		snprintf(why, len, "KVM_SET_SREGS%s: %s", pcid ? " with CR4.PCIDE" : "",
			 strerror(errno));
		return pcid ? EXIT_SKIP : -1;
	}
	if (ioctl(vc->fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(why, len, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static const char *op_name(uint32_t code)
{
	static const char *names[] = { "end", "nop", "build", "load", "spin", "clear",
				       "scribble", "zero", "setent", "wait", "signal", "memslot",
				       "fault" };

	return code <= OP_MAX ? names[code] : "?";
}

/* Which op vCPU v is at, from the status word the guest keeps. */
static void describe_op(struct vm *vm, int v, char *buf, size_t len)
{
	struct vcpu *vc = &vm->vc[v];
	uint64_t va = *gpa64(vm, STATUS_GPA + 8 * v), gpa = va - KERN_BASE;
	size_t i;

	if (va < KERN_BASE + vc->ops_gpa || gpa >= vc->ops_gpa + vc->nops * OP_SIZE) {
		snprintf(buf, len, "vCPU %d: status 0x%llx (not started?)", v, (unsigned long long)va);
		return;
	}
	i = (gpa - vc->ops_gpa) / OP_SIZE;
	snprintf(buf, len, "vCPU %d at op %zu of %zu (%s a=0x%llx)", v, i, vc->nops,
		 op_name(((struct as_op *)(vm->mem + gpa))->code),
		 (unsigned long long)((struct as_op *)(vm->mem + gpa))->a);
}

static const char *vector_name(uint64_t vec)
{
	static const char *names[] = { "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM",
				       "#DF", "?", "#TS", "#NP", "#SS", "#GP", "#PF" };

	if (vec == 0xff)
		return "bad op code";
	return vec < sizeof(names) / sizeof(names[0]) ? names[vec] : "exception";
}

static void guest_fault(struct vcpu *vc)
{
	struct kvm_regs r;
	char op[160];

	if (ioctl(vc->fd, KVM_GET_REGS, &r) < 0) {
		vm_fail(vc->vm, "vCPU %d: guest fault (KVM_GET_REGS: %s)", vc->id, strerror(errno));
		return;
	}
	describe_op(vc->vm, vc->id, op, sizeof(op));
	vm_fail(vc->vm, "guest fault: vector %llu (%s) rip 0x%llx error 0x%llx cr2 0x%llx; %s",
		(unsigned long long)r.rdi, vector_name(r.rdi), (unsigned long long)r.rsi,
		(unsigned long long)r.rbx, (unsigned long long)r.rcx, op);
}

static uint32_t *flag_word(struct vm *vm, uint32_t idx)
{
	return (uint32_t *)(vm->mem + FLAGS_GPA + 8ull * idx);	/* low half of the u64 */
}

/* The guest found flag idx still 0: sleep until a SIGNAL sets it. */
static int wait_flag(struct vcpu *vc, uint32_t idx)
{
	struct vm *vm = vc->vm;
	struct timespec t = { .tv_sec = 0, .tv_nsec = 200 * 1000 * 1000 };
	uint32_t *w = flag_word(vm, idx);

	if (idx == 0 || idx > vm->nflags)
		return -1;
	vc->waits++;
	while (!__atomic_load_n(w, __ATOMIC_ACQUIRE) && !vm->failed)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
	return 0;
}

static int memslot(struct vcpu *vc, uint32_t add)
{
	struct vm *vm = vc->vm;
	struct kvm_userspace_memory_region r = { .slot = 1, .guest_phys_addr = XSLOT_GPA,
						 .userspace_addr = (uintptr_t)vm->xmem };
	int ret = 0;

	pthread_mutex_lock(&vm->lock);
	if (add == (uint32_t)vm->xslot_on) {
		ret = -1;		/* the script alternates: a repeat is a guest bug */
	} else {
		if (!add && *(uint64_t *)vm->xmem != XSLOT_MAGIC)
			ret = -2;	/* the guest's write after the add did not land here */
		r.memory_size = add ? XSLOT_SIZE : 0;
		if (ret == 0 && ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
			ret = -3;
		if (ret == 0) {
			vm->xslot_on = add;
			if (!add)
				memset(vm->xmem, 0, 8);
		}
	}
	pthread_mutex_unlock(&vm->lock);
	if (ret == -2)
		vm_fail(vm, "vCPU %d: the extra memslot lacks the guest's write", vc->id);
	else if (ret == -3)
		vm_fail(vm, "vCPU %d: KVM_SET_USER_MEMORY_REGION slot 1: %s", vc->id, strerror(errno));
	else if (ret)
		vm_fail(vm, "vCPU %d: memslot request %u out of order", vc->id, add);
	return ret;
}

/* One OUT from the guest: 1 = script done, 0 = go on, -1 = failed. */
static int pio(struct vcpu *vc)
{
	struct kvm_run *run = vc->run;
	struct vm *vm = vc->vm;
	uint32_t val = *(uint32_t *)((char *)run + run->io.data_offset);

	vc->pio++;
	if (run->io.direction != KVM_EXIT_IO_OUT || run->io.size != 4 || run->io.count != 1) {
		vm_fail(vm, "vCPU %d: unexpected I/O on port 0x%x", vc->id, run->io.port);
		return -1;
	}
	switch (run->io.port) {
	case PORT_MARK:
		if (val == 0 || val > vm->nmarks || vm->mark_ns[val]) {
			vm_fail(vm, "vCPU %d: bad mark %u", vc->id, val);
			return -1;
		}
		vm->mark_ns[val] = af_now_ns();
		if (vc->id == 0 && !vm->started) {	/* the boot root is vCPU 0's first */
			pthread_mutex_lock(&vm->lock);
			vm->started = 1;
			pthread_cond_broadcast(&vm->cond);
			pthread_mutex_unlock(&vm->lock);
		}
		return 0;
	case PORT_WAIT:
		if (wait_flag(vc, val) < 0) {
			vm_fail(vm, "vCPU %d: bad flag %u", vc->id, val);
			return -1;
		}
		return 0;
	case PORT_SIGNAL:
		if (val == 0 || val > vm->nflags) {
			vm_fail(vm, "vCPU %d: bad flag %u", vc->id, val);
			return -1;
		}
		syscall(SYS_futex, flag_word(vm, val), FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
		return 0;
	case PORT_MEMSLOT:
		return memslot(vc, val) ? -1 : 0;
	case PORT_DONE:
		vc->done_ns = af_now_ns();
		return 1;
	case PORT_FAULT:
		guest_fault(vc);
		return -1;
	}
	vm_fail(vm, "vCPU %d: write to unknown port 0x%x", vc->id, run->io.port);
	return -1;
}

static int vcpu_exit(struct vcpu *vc)
{
	struct kvm_run *run = vc->run;
	char op[160];

	if (run->exit_reason == KVM_EXIT_IO)
		return pio(vc);
	describe_op(vc->vm, vc->id, op, sizeof(op));
	switch (run->exit_reason) {
	case KVM_EXIT_INTERNAL_ERROR:
		vm_fail(vc->vm, "KVM internal error %u (1 = emulation failure), data 0x%llx 0x%llx; %s",
			run->internal.suberror, (unsigned long long)run->internal.data[0],
			(unsigned long long)run->internal.data[1], op);
		break;
	case KVM_EXIT_SHUTDOWN:
		vm_fail(vc->vm, "guest shutdown (triple fault); %s", op);
		break;
	case KVM_EXIT_MMIO:
		vm_fail(vc->vm, "guest MMIO at 0x%llx; %s", (unsigned long long)run->mmio.phys_addr, op);
		break;
	default:
		vm_fail(vc->vm, "unexpected exit reason %u; %s", run->exit_reason, op);
	}
	return -1;
}

static void *vcpu_main(void *arg)
{
	struct vcpu *vc = arg;
	struct vm *vm = vc->vm;
	int r = 0;

	pthread_mutex_lock(&vm->lock);
	while (vc->id > 0 && !vm->started && !vm->failed)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	vc->start_ns = af_now_ns();
	while (r == 0 && !vm->failed) {
		if (ioctl(vc->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			vm_fail(vm, "vCPU %d: KVM_RUN: %s", vc->id, strerror(errno));
			break;
		}
		r = vcpu_exit(vc);
	}
	pthread_mutex_lock(&vm->lock);
	if (r > 0)
		vm->ndone++;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	return NULL;
}

/* Run every vCPU to the end of its script; 0, or -1 with vm->why set. */
static int vm_run(struct vm *vm, unsigned timeout_s)
{
	struct timespec dl;
	int ret = 0, started = 0;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += timeout_s;
	for (int v = 0; v < vm->nvcpus; v++) {
		if (pthread_create(&vm->vc[v].th, NULL, vcpu_main, &vm->vc[v])) {
			vm_fail(vm, "pthread_create failed");
			break;
		}
		started++;
	}
	pthread_mutex_lock(&vm->lock);
	while (!vm->failed && vm->ndone < vm->nvcpus) {
		if (pthread_cond_timedwait(&vm->cond, &vm->lock, &dl) == ETIMEDOUT) {
			size_t n = 0;

			n += snprintf(vm->why, sizeof(vm->why), "watchdog: no end after %u s:", timeout_s);
			for (int v = 0; v < vm->nvcpus && n < sizeof(vm->why); v++) {
				n += snprintf(vm->why + n, sizeof(vm->why) - n, " ");
				if (n < sizeof(vm->why))
					describe_op(vm, v, vm->why + n, sizeof(vm->why) - n);
				n = strlen(vm->why);
			}
			vm->failed = 1;
			pthread_mutex_unlock(&vm->lock);
			return -1;	/* vCPUs may be stuck in KVM_RUN: the caller exits */
		}
	}
	ret = vm->failed ? -1 : 0;
	pthread_mutex_unlock(&vm->lock);
	if (ret < 0)
		return ret;	/* a vCPU may still spin in the guest: the caller exits */
	for (int v = 0; v < started; v++)
		pthread_join(vm->vc[v].th, NULL);
	return 0;
}

/* Close everything KVM holds; the agent sees the VM end here. */
static void vm_close(struct vm *vm)
{
	for (int v = 0; v < vm->nvcpus; v++) {
		if (vm->vc[v].run)
			munmap(vm->vc[v].run, vm->run_size);
		if (vm->vc[v].fd >= 0)
			close(vm->vc[v].fd);
	}
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->kvm >= 0)
		close(vm->kvm);
	vm->fd = vm->kvm = -1;
}

/* --- ground truth --- */

struct tline {
	const struct truth_ev *e;
	uint64_t ts, lo, key;
};

static int tline_cmp(const void *a, const void *b)
{
	const struct tline *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->e->seq < y->e->seq ? -1 : x->e->seq > y->e->seq;
}

static void put_truth(struct sbuf *b, const struct tline *t)
{
	static const char *kinds[] = { "create", "exit", "switch", "memslot" };
	const struct truth_ev *e = t->e;

	sb_puts(b, "{\"truth\":");
	sb_str(b, kinds[e->kind]);
	if (e->kind != TR_MEMSLOT) {
		sb_puts(b, ",\"as\":");
		sb_hex(b, e->as);
		sb_printf(b, ",\"gen\":%u", e->gen);
	}
	sb_printf(b, ",\"vcpu\":%u,\"ts\":", e->vcpu);
	if (t->ts)
		sb_u64(b, t->ts);
	else
		sb_puts(b, "null");
	sb_puts(b, ",\"ts_lo\":");
	sb_u64(b, t->lo);
	if (e->mark)
		sb_printf(b, ",\"mark\":%u", e->mark);
	if (e->kind == TR_EXIT)
		sb_printf(b, ",\"reason\":\"%s\",\"writes\":%u", e->reason == TR_VM ? "vm" : "zap",
			  e->writes);
	if (e->kind == TR_MEMSLOT)
		sb_printf(b, ",\"op\":\"%s\"", e->reason == TR_ADD ? "add" : "remove");
	if (e->kind == TR_SWITCH) {
		sb_puts(b, ",\"from\":");
		sb_hex(b, e->from);
		sb_printf(b, ",\"from_gen\":%u,\"to\":", e->from_gen);
		sb_hex(b, e->as);
		sb_printf(b, ",\"to_gen\":%u", e->gen);
	}
	sb_puts(b, "}\n");
}

static void put_summary(struct sbuf *b, const struct script *s, const struct vm *vm,
			uint64_t wall)
{
	const struct counts *c = &s->c;
	unsigned pio = 0, waits = 0;
	size_t ops = 0;

	for (int v = 0; v < vm->nvcpus; v++) {
		pio += vm->vc[v].pio;
		waits += vm->vc[v].waits;
		ops += vm->vc[v].nops;
	}
	sb_puts(b, "{\"summary\":true,\"scenario\":");
	sb_str(b, s->k.name);
	sb_printf(b, ",\"seed\":%llu,\"creates\":%u,\"exits\":%u,\"exits_vm\":%u,\"switches\":%u,"
		  "\"switches_per_vcpu\":[", (unsigned long long)s->k.seed, c->creates, c->exits,
		  c->exits_vm, c->switches);
	for (int v = 0; v < vm->nvcpus; v++)
		sb_printf(b, "%s%u", v ? "," : "", c->vswitches[v]);
	sb_printf(b, "],\"max_live\":%u,\"reuses\":%u,\"grows\":%u,\"shrinks\":%u,\"scribbles\":%u,"
		  "\"memslot_adds\":%u,\"memslot_removes\":%u,\"ops\":%zu,\"marks\":%u,"
		  "\"flags\":%u,\"pio_exits\":%u,\"host_waits\":%u,\"wall_ns\":%llu}\n",
		  c->max_live, c->reuses, c->grows, c->shrinks, c->scribbles, c->memslot_adds,
		  c->memslot_removes, ops, s->nmarks, s->nflags, pio, waits,
		  (unsigned long long)wall);
}

static int write_truth(const char *path, const struct script *s, const struct vm *vm,
		       uint64_t end_ns, uint64_t wall)
{
	struct tline *t = calloc(s->nev ? s->nev : 1, sizeof(*t));
	struct sbuf b = { 0 };
	FILE *f = NULL;
	int ret = -1;

	if (!t)
		goto out;
	for (size_t i = 0; i < s->nev; i++) {
		const struct truth_ev *e = &s->ev[i];

		t[i].e = e;
		t[i].lo = e->mark_lo ? vm->mark_ns[e->mark_lo] : vm->vc[e->vcpu].start_ns;
		if (e->kind == TR_EXIT && e->reason == TR_VM) {
			t[i].lo = vm->vc[e->vcpu].done_ns;
			t[i].ts = end_ns;
		} else if (e->mark) {
			t[i].ts = vm->mark_ns[e->mark];
		}
		t[i].key = t[i].ts ? t[i].ts : t[i].lo;
	}
	qsort(t, s->nev, sizeof(*t), tline_cmp);
	sb_printf(&b, "{\"meta\":\"asvmm\",\"pid\":%d,\"boot_root\":\"0x%x\",\"kpti\":%d,\"pcid\":%d,"
		  "\"vcpus\":%d,\"scenario\":", (int)getpid(), BOOT_ROOT, s->k.kpti, !!s->k.pcid,
		  s->k.vcpus);
	sb_str(&b, s->k.name);
	sb_printf(&b, ",\"seed\":%llu,\"procs\":%d,\"live\":%d,\"rounds\":%d}\n",
		  (unsigned long long)s->k.seed, s->k.procs, s->k.live, s->k.rounds);
	for (size_t i = 0; i < s->nev; i++)
		put_truth(&b, &t[i]);
	put_summary(&b, s, vm, wall);
	if (b.failed)
		goto out;
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f || fwrite(b.p, 1, b.len, f) != b.len || fflush(f))
		goto out;
	ret = 0;
out:
	if (f && f != stdout)
		ret = fclose(f) ? -1 : ret;
	free(t);
	sb_free(&b);
	return ret;
}

/* --- command line --- */

static void usage(FILE *out)
{
	fprintf(out,
"NAME\n"
"    asvmm - KVM-API test VMM: a ring-0 guest runs a script of address-space\n"
"    operations and the exact ground truth is written for antfarm-agent\n\n"
"SYNOPSIS\n"
"    asvmm --scenario NAME [--seed N] [--truth FILE] [--procs N] [--live N]\n"
"          [--vcpus N] [--rounds N] [--spin N] [--grow PCT] [--scribble PCT]\n"
"          [--reuse none|lifo|delayed|mixed] [--delay N] [--memslot N]\n"
"          [--kpti 0|1] [--pcid 0|1] [--survivors N] [--idle PCT]\n"
"          [--marks all|lifetimes] [--mmu-pages N] [--timeout SEC]\n"
"          [--fault ud2|pf|badop|hang]\n"
"    asvmm --list\n\n"
"DESCRIPTION\n"
"    Generates the scenario's script from a seeded PRNG (same seed, same\n"
"    script), runs it in a VM of its own (/dev/kvm, 1-4 vCPU threads) and\n"
"    writes the ground truth as JSON lines: a meta line, the create, exit\n"
"    and switch events in time order (host CLOCK_MONOTONIC ns), and a\n"
"    summary (also printed on stdout).  tests/kvm/README.md has the format.\n\n"
"OPTIONS\n"
"    --scenario NAME   see --list\n"
"    --seed N          PRNG seed (default 1)\n"
"    --truth FILE      ground truth here (- for stdout)\n"
"    --procs N         processes over the run; --live N at most at once\n"
"    --vcpus N         1-4; --rounds N quanta per process; --spin N loop\n"
"                      iterations per quantum\n"
"    --grow PCT        quanta that add or remove a top-level entry\n"
"    --scribble PCT    freed roots overwritten with garbage\n"
"    --reuse POLICY    freed roots: none, lifo (next process at once),\n"
"                      delayed (after --delay N other frees), mixed\n"
"    --memslot N       add/remove the extra memslot every N quanta\n"
"    --kpti 0|1        kernel/user root pairs (user = kernel + 4 KiB)\n"
"    --pcid 0|1        PCID per process and NOFLUSH on reloads\n"
"    --survivors N     processes still live when the VM ends\n"
"    --idle PCT        quanta after which the vCPU loads the boot root\n"
"    --marks MODE      all (default) or lifetimes: switches not time-stamped\n"
"    --mmu-pages N     KVM_SET_NR_MMU_PAGES: shadow pages KVM may keep\n"
"    --timeout SEC     watchdog (default 60)\n"
"    --fault KIND      make vCPU 0 fail at its start, to test the failure\n"
"                      reports: ud2 (#UD), pf (#PF), badop (unknown op),\n"
"                      hang (the watchdog)\n"
"    --list            the scenarios\n\n"
"EXIT STATUS\n"
"    0 done, 1 guest or VMM failure (fault, emulation failure, watchdog),\n"
"    2 bad usage, 77 this host cannot run it (the reason on stderr).\n\n"
"SCENARIOS\n");
	scenarios_print(out);
}

static int parse_word(const char *s, const char *const *words, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(s, words[i]))
			return i;
	return -1;
}

struct opts {
	struct knobs k;
	const char *truth;
	unsigned timeout;
	int list;
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const char *const reuse[] = { "none", "lifo", "delayed", "mixed" };
	static const char *const marks[] = { "all", "lifetimes" };
	static const char *const faults[] = { "none", "ud2", "pf", "badop", "hang" };
	static const struct option lo[] = {
		{ "scenario", 1, NULL, 'S' }, { "seed", 1, NULL, 's' }, { "truth", 1, NULL, 't' },
		{ "procs", 1, NULL, 'p' }, { "live", 1, NULL, 'l' }, { "vcpus", 1, NULL, 'v' },
		{ "rounds", 1, NULL, 'r' }, { "spin", 1, NULL, 'k' }, { "grow", 1, NULL, 'g' },
		{ "scribble", 1, NULL, 'x' }, { "reuse", 1, NULL, 'u' }, { "delay", 1, NULL, 'd' },
		{ "memslot", 1, NULL, 'm' }, { "kpti", 1, NULL, 'K' }, { "pcid", 1, NULL, 'P' },
		{ "survivors", 1, NULL, 'L' }, { "idle", 1, NULL, 'i' }, { "marks", 1, NULL, 'M' },
		{ "mmu-pages", 1, NULL, 'N' }, { "timeout", 1, NULL, 'T' },
		{ "fault", 1, NULL, 'F' }, { "list", 0, NULL, 'Z' }, { "help", 0, NULL, 'h' },
		{ 0 }
	};
	int c, idx = 0;
	uint64_t v;

	memset(o, 0xff, sizeof(o->k));		/* every int knob -1: the scenario's */
	o->k.name = NULL;
	o->k.seed = 1;
	o->truth = NULL;
	o->timeout = 60;
	o->list = 0;
	while ((c = getopt_long(argc, argv, "h", lo, &idx)) != -1) {
		int *dst = NULL;
		uint64_t hi = 1000000;

		switch (c) {
		case 'S': o->k.name = optarg; continue;
		case 't': o->truth = optarg; continue;
		case 'Z': o->list = 1; continue;
		case 'h': usage(stdout); exit(0);
		case 's':
			if (parse_u64(optarg, 0, UINT64_MAX, &v) < 0)
				goto bad;
			o->k.seed = v;
			continue;
		case 'T':
			if (parse_u64(optarg, 1, 3600, &v) < 0)
				goto bad;
			o->timeout = v;
			continue;
		case 'u':
			if ((o->k.reuse = parse_word(optarg, reuse, 4)) < 0)
				goto bad;
			continue;
		case 'M':
			if ((o->k.marks = parse_word(optarg, marks, 2)) < 0)
				goto bad;
			continue;
		case 'F':
			if ((o->k.fault = parse_word(optarg, faults, 5)) < 0)
				goto bad;
			continue;
		case 'p': dst = &o->k.procs; hi = 100000; break;
		case 'l': dst = &o->k.live; hi = ROOT_SLOTS; break;
		case 'v': dst = &o->k.vcpus; hi = MAX_VCPUS; break;
		case 'r': dst = &o->k.rounds; hi = 100000; break;
		case 'k': dst = &o->k.spin; hi = 100000000; break;
		case 'g': dst = &o->k.grow; hi = 100; break;
		case 'x': dst = &o->k.scribble; hi = 100; break;
		case 'd': dst = &o->k.delay; hi = ROOT_SLOTS; break;
		case 'm': dst = &o->k.memslot; hi = 100000; break;
		case 'K': dst = &o->k.kpti; hi = 1; break;
		case 'P': dst = &o->k.pcid; hi = 1; break;
		case 'L': dst = &o->k.survivors; hi = 100000; break;
		case 'i': dst = &o->k.idle; hi = 100; break;
		case 'N': dst = &o->k.mmu_pages; hi = 1 << 24; break;
		default: return -1;
		}
		if (parse_u64(optarg, dst == &o->k.vcpus ? 1 : 0, hi, &v) < 0)
			goto bad;
		*dst = v;
		continue;
bad:
		fprintf(stderr, "asvmm: bad value for --%s: \"%s\"\n", lo[idx].name, optarg);
		return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "asvmm: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!o->list && !o->k.name) {
		fprintf(stderr, "asvmm: --scenario NAME is required (--list shows them)\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct vm vm = { .kvm = -1, .fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER,
				.cond = PTHREAD_COND_INITIALIZER };
	struct script s;
	struct opts o;
	struct sbuf sum = { 0 };
	char why[512] = "";
	uint64_t end_ns, wall;
	int r;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (o.list) {
		scenarios_print(stdout);
		return 0;
	}
	for (int v = 0; v < MAX_VCPUS; v++)
		vm.vc[v].fd = -1;
	if (knobs_default(o.k.name, &s.k) < 0) {
		fprintf(stderr, "asvmm: unknown scenario \"%s\" (--list shows them)\n", o.k.name);
		return 2;
	}
	r = vm_open(&vm, why, sizeof(why));
	if (r)
		goto fail_open;
	if (knobs_resolve(&o.k, vm.have_pcid, why, sizeof(why)) < 0) {
		fprintf(stderr, "asvmm: %s\n", why);
		return 2;
	}
	if (o.k.pcid && !vm.have_pcid) {
		snprintf(why, sizeof(why), "scenario %s needs PCID, which KVM does not offer here "
			 "(CPUID.01H:ECX[17])", o.k.name);
		r = EXIT_SKIP;
		goto fail_open;
	}
	if (script_build(&o.k, &s, why, sizeof(why)) < 0) {
		fprintf(stderr, "asvmm: %s\n", why);
		return 2;
	}
	vm.nvcpus = o.k.vcpus;
	vm.nmarks = s.nmarks;
	vm.nflags = s.nflags;
	vm.mark_ns = calloc(s.nmarks + 1, sizeof(*vm.mark_ns));
	if (!vm.mark_ns || asvmm_guest_end - asvmm_guest > CODE_MAX) {
		fprintf(stderr, "asvmm: out of memory or guest binary too large\n");
		return 1;
	}
	setup_tables(&vm);
	fill_garbage(&vm, o.k.seed);
	memcpy(vm.mem + CODE_GPA, asvmm_guest, asvmm_guest_end - asvmm_guest);
	if (load_scripts(&vm, &s, why, sizeof(why)) < 0) {
		fprintf(stderr, "asvmm: %s\n", why);
		return 2;
	}
	if (o.k.mmu_pages && ioctl(vm.fd, KVM_SET_NR_MMU_PAGES, o.k.mmu_pages) < 0) {
		fprintf(stderr, "asvmm: KVM_SET_NR_MMU_PAGES %d: %s\n", o.k.mmu_pages, strerror(errno));
		return 1;
	}
	for (int v = 0; v < vm.nvcpus; v++) {
		r = vcpu_setup(&vm, v, o.k.pcid, why, sizeof(why));
		if (r)
			goto fail_open;
	}
	if (vm_run(&vm, o.timeout) < 0) {
		fprintf(stderr, "asvmm: %s: %s\n", o.k.name, vm.why);
		return 1;
	}
	vm_close(&vm);
	end_ns = af_now_ns();
	wall = 0;
	for (int v = 0; v < vm.nvcpus; v++)
		if (vm.vc[v].done_ns - vm.vc[0].start_ns > wall)
			wall = vm.vc[v].done_ns - vm.vc[0].start_ns;
	if (o.truth && write_truth(o.truth, &s, &vm, end_ns, wall) < 0) {
		fprintf(stderr, "asvmm: cannot write %s: %s\n", o.truth, strerror(errno));
		return 1;
	}
	if (!o.truth || strcmp(o.truth, "-")) {
		put_summary(&sum, &s, &vm, wall);
		fputs(sum.p ? sum.p : "", stdout);
		sb_free(&sum);
	}
	script_free(&s);
	return 0;

fail_open:
	fprintf(stderr, "asvmm: %s\n", why);
	if (r == EXIT_SKIP)
		printf("skip: %s\n", why);
	return r == EXIT_SKIP ? EXIT_SKIP : 1;
}
