/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Tasks and the scheduler: one FIFO run queue under the big kernel lock,
 * round robin with a time slice, sleep and I/O blocking, idle with hlt,
 * kernel threads that keep the previous CR3 (lazy TLB), LAPIC timer and
 * IPIs, IOAPIC routing and AP start-up (INIT-SIPI-SIPI).
 */
#include "guest.h"

#define LAPIC 0xfee00000UL
#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICRLO 0x300
#define LAPIC_ICRHI 0x310
#define LAPIC_TIMER 0x320
#define LAPIC_TICR 0x380
#define LAPIC_TDCR 0x3e0

struct task tasks[MAXTASK];
static u8 kstacks[MAXTASK][KSTACK] __attribute__((aligned(PAGE)));
static struct task *rq_head, *rq_tail, *sleepers;
static int next_pid = 1;
int live_tasks;		/* user tasks not yet exited: all_done() in O(1) */
u64 stat_lazy_switches;
extern u8 task_first_user[], task_first_kthread[], ap_tramp[], ap_tramp_end[];
extern u64 ap_stack;
void swtch(u64 *save, u64 new_rsp);
void idle_loop(void *arg);

struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0,%0" : "=r"(c));
	return c;
}

static void lapic_w(u32 reg, u32 v) { mmio_w32(LAPIC + reg, v); }

void lapic_eoi(void) { lapic_w(LAPIC_EOI, 0); }

void lapic_init(void)
{
	lapic_w(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_w(LAPIC_TDCR, 0xb);			/* divide by 1: 1 GHz */
	lapic_w(LAPIC_TIMER, VEC_TIMER | (1 << 17));	/* periodic */
	lapic_w(LAPIC_TICR, (u32)cfg.tick_ms * 1000000u);
}

static void lapic_icr(int apic, u32 lo)
{
	lapic_w(LAPIC_ICRHI, (u32)apic << 24);
	lapic_w(LAPIC_ICRLO, lo);
	while (mmio_r32(LAPIC + LAPIC_ICRLO) & (1 << 12))
		cpu_relax();
}

void lapic_ipi(int cpu, int vec)
{
	lapic_icr(cpu, vec | (1 << 14));
}

/* microvm: GSI 0-23 on the first IOAPIC, 24-47 on the second. */
void ioapic_route(int gsi, int vector)
{
	u64 base = gsi < 24 ? 0xfec00000UL : 0xfec10000UL;
	int pin = gsi % 24;

	mmio_w32(base, 0x10 + 2 * pin + 1);
	mmio_w32(base + 0x10, 0);			/* destination: CPU 0 */
	mmio_w32(base, 0x10 + 2 * pin);
	mmio_w32(base + 0x10, vector);			/* edge, high, unmasked */
}

/* ---- tasks ---- */

static struct task *task_slot(void)
{
	for (int i = 0; i < MAXTASK; i++)
		if (tasks[i].state == T_FREE) {
			struct task *t = &tasks[i];
			memset(t, 0, sizeof(*t));
			t->kstack = kstacks[i];
			return t;
		}
	panic("out of tasks");
}

int alloc_pid(void)
{
	return next_pid++;
}

static u64 *kstack_top(struct task *t)
{
	return (u64 *)(t->kstack + KSTACK);
}

/* A switch frame (6 callee-saved registers + return address) below 'top'. */
static void push_switch_frame(struct task *t, u64 *top, void *ret, u64 r12, u64 r13)
{
	u64 *sp = top - 7;

	memset(sp, 0, 7 * 8);
	sp[3] = r12;
	sp[2] = r13;
	sp[6] = (u64)ret;
	t->ksp = (u64)sp;
}

/* Ring-3 registers for a program start: interrupts on, a0/a1 in rdi/rsi. */
void start_regs(struct trapframe *tf, u64 rip, u64 rsp, long a0, long a1)
{
	memset(tf, 0, sizeof(*tf));
	tf->cs = UCODE | 3;
	tf->ss = UDATA | 3;
	tf->rflags = 0x202;
	tf->rip = rip;
	tf->rsp = rsp;
	tf->rdi = a0;
	tf->rsi = a1;
}

struct task *task_new_user(struct as *as, int pid, int ppid, u64 rip, u64 rsp, long a0, long a1)
{
	struct task *t = task_slot();
	struct trapframe *tf = (struct trapframe *)kstack_top(t) - 1;

	t->tid = pid;
	t->pid = pid;
	t->ppid = ppid;
	t->as = as;
	t->leader = true;
	start_regs(tf, rip, rsp, a0, a1);
	t->tf = tf;
	push_switch_frame(t, (u64 *)tf, task_first_user, 0, 0);
	live_tasks++;
	return t;
}

struct task *kthread_new(const char *name, void (*fn)(void *), void *arg)
{
	struct task *t = task_slot();

	t->name = name;
	t->tid = -1;
	push_switch_frame(t, kstack_top(t), task_first_kthread, (u64)fn, (u64)arg);
	t->state = T_READY;
	return t;
}

void ready(struct task *t)
{
	t->state = T_READY;
	t->next = NULL;
	if (rq_tail)
		rq_tail->next = t;
	else
		rq_head = t;
	rq_tail = t;
}

static struct task *rq_pop(void)
{
	struct task *t = rq_head;

	if (t) {
		rq_head = t->next;
		if (!rq_head)
			rq_tail = NULL;
	}
	return t;
}

/* A new user task leaves the kernel: the lock trap() would have dropped. */
void sched_tail(void)
{
	spin_unlock(&big_lock);
}

static void set_rsp0(struct cpu *c, struct task *t)
{
	*(u64 *)(c->tss + 4) = (u64)kstack_top(t);
}

/* Switch to the next ready task; the caller has set cur's state. */
void schedule(void)
{
	struct cpu *c = this_cpu();
	struct task *prev = c->cur, *next = rq_pop();

	if (!next)
		next = c->idle;
	if (next == prev) {
		prev->state = T_RUN;
		return;
	}
	next->state = T_RUN;
	c->cur = next;
	c->slice_end = now_ns() + (u64)cfg.slice_ms * 1000000;
	if (next->as)
		cr3_switch(c, next->as, next->pid);
	else
		stat_lazy_switches++;			/* kthreads keep CR3: lazy TLB */
	set_rsp0(c, next);
	swtch(&prev->ksp, next->ksp);
}

void yield_cpu(void)
{
	struct task *t = this_cpu()->cur;

	if (t != this_cpu()->idle)
		ready(t);
	schedule();
}

void sleep_until(u64 ns)
{
	struct task *t = this_cpu()->cur;

	t->wake_ns = ns;
	t->state = T_SLEEP;
	t->next = sleepers;
	sleepers = t;
	schedule();
}

void block_io(void)
{
	this_cpu()->cur->state = T_IO;
	schedule();
}

static void wake_sleepers(u64 now)
{
	struct task **pp = &sleepers;

	while (*pp) {
		struct task *t = *pp;
		if (t->wake_ns <= now) {
			*pp = t->next;
			ready(t);
		} else {
			pp = &t->next;
		}
	}
}

/* Timer interrupt: wake sleepers, preempt at the end of the slice. */
void tick(bool from_user)
{
	struct cpu *c = this_cpu();
	u64 now = now_ns();

	wake_sleepers(now);
	if (from_user && now >= c->slice_end && rq_head)
		yield_cpu();
}

static struct task *find_leader(int pid)
{
	for (int i = 0; i < MAXTASK; i++)
		if (tasks[i].state != T_FREE && tasks[i].leader && tasks[i].pid == pid)
			return &tasks[i];
	return NULL;
}

void task_exit(int code)
{
	struct task *t = this_cpu()->cur;
	struct as *a = t->as;

	if (t->leader) {
		klog("AF PEXIT t=%lu cpu=%d pid=%d code=%d", now_ns(), this_cpu()->id, t->pid, code);
		for (int i = 0; i < MAXTASK; i++)	/* orphans go to init */
			if (tasks[i].state != T_FREE && tasks[i].ppid == t->pid)
				tasks[i].ppid = 1;
	}
	live_tasks--;
	t->as = NULL;
	as_put(a, "exit");
	if (t->leader) {
		t->exit_code = code;
		t->state = T_ZOMBIE;
		struct task *p = find_leader(t->ppid);
		if (p && p->state == T_WAIT)
			ready(p);
		struct task *init = find_leader(1);
		if (init && init->state == T_WAIT && p != init)
			ready(init);
	} else {
		t->state = T_FREE;	/* its stack stays unused until we switch away */
	}
	schedule();
	panic("exited task ran again");
}

long sys_wait(int *code)
{
	struct task *me = this_cpu()->cur;

	for (;;) {
		bool have = false;
		for (int i = 0; i < MAXTASK; i++) {
			struct task *t = &tasks[i];
			if (t->state == T_FREE || !t->leader || t->ppid != me->pid || t == me)
				continue;
			have = true;
			if (t->state == T_ZOMBIE) {
				*code = t->exit_code;
				t->state = T_FREE;
				return t->pid;
			}
		}
		if (!have)
			return -1;
		me->state = T_WAIT;
		schedule();
	}
}

/* Every user task gone and every address space torn down (lazy CPUs too). */
bool all_done(void)
{
	return !live_tasks && !as_live_count();
}

void idle_loop(void *arg)
{
	struct cpu *c = this_cpu();

	for (;;) {
		if (rq_head) {
			schedule();
			continue;
		}
		if (c->id == 0 && all_done())
			shutdown();
		spin_unlock(&big_lock);
		__asm__ volatile("sti; hlt; cli");
		spin_lock(&big_lock);
	}
}

/* ---- SMP ---- */

static void delay_us(u64 us)
{
	u64 end = now_ns() + us * 1000;
	while (now_ns() < end)
		cpu_relax();
}

/* Start APs one at a time: they share the trampoline's temporary stack. */
void ap_start_all(void)
{
	memcpy((void *)TRAMPOLINE, ap_tramp, ap_tramp_end - ap_tramp);
	for (int i = 1; i < cfg.cpus; i++) {
		struct task *idle = kthread_new("idle", idle_loop, NULL);
		idle->state = T_RUN;
		cpus[i].idle = cpus[i].cur = idle;
		ap_stack = (u64)kstack_top(idle);
		int want = ncpus_up + 1;
		lapic_icr(i, 0x4500);			/* INIT */
		delay_us(10000);
		for (int k = 0; k < 2 && __atomic_load_n(&ncpus_up, __ATOMIC_ACQUIRE) < want; k++) {
			lapic_icr(i, 0x4600 | (TRAMPOLINE >> 12));	/* SIPI */
			delay_us(200);
		}
		u64 end = now_ns() + 1000000000UL;
		while (__atomic_load_n(&ncpus_up, __ATOMIC_ACQUIRE) < want && now_ns() < end)
			cpu_relax();
		if (ncpus_up < want) {
			/* e.g. a hypervisor without real mode: go on with fewer CPUs */
			klog("AF CPUFAIL t=%lu cpu=%d", now_ns(), i);
			idle->state = T_FREE;
			break;
		}
	}
}
