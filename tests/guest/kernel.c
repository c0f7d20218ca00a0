/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Boot (command line, descriptor tables, memory), trap dispatch, system
 * calls, the kernel worker thread and shutdown with the summary line.
 */
#include "guest.h"

#define PVH_MAGIC 0x336ec578

struct config cfg = {
	.workload = "boot", .seed = 1, .cpus = 1, .slice_ms = 10, .tick_ms = 4,
	.delay = 8, .n = 8, .jobs = 4, .think_ms = 2, .blocks = 8, .iters = 200000,
	.swlog = 100000, .policy_name = "lifo", .ident_name = "plain",
};
static char disklog_name[8] = "live", submit_name[8] = "task";
struct cpu cpus[MAXCPU];
struct spin big_lock;
volatile u8 kpti_on;
volatile u64 kpti_flips;
int ncpus_up;
static u64 idt[NVEC * 2] __attribute__((aligned(16)));
static char cmdline[1024];
static u64 stat_faults, stat_bad_exits, stat_verify_bad, stat_verify_ok, kworker_runs;
extern u8 trap_stubs[], utext_start[], utext_end[];
extern u64 gdt[];
extern struct { u16 limit; u64 base; } __attribute__((packed)) gdt_ptr;

/* The programs, by SYS_PARAM id; defined in user.c (section .utext). */
void prog_init(long, long), prog_short(long, long), prog_make(long, long),
	prog_cc(long, long), prog_sleeper(long, long), prog_seqread(long, long),
	prog_randread(long, long), prog_writer(long, long), prog_threaded(long, long),
	prog_streamw(long, long);
static void (*const progs[NPROG])(long, long) = {
	[PROG_INIT] = prog_init, [PROG_SHORT] = prog_short, [PROG_MAKE] = prog_make,
	[PROG_CC] = prog_cc, [PROG_SLEEPER] = prog_sleeper, [PROG_SEQREAD] = prog_seqread,
	[PROG_RANDREAD] = prog_randread, [PROG_WRITER] = prog_writer,
	[PROG_THREADED] = prog_threaded, [PROG_STREAMW] = prog_streamw,
};
static const char *const workloads[] = {
	[W_BOOT] = "boot", [W_CHURN] = "churn", [W_FORKEXEC] = "forkexec",
	[W_SLEEPERS] = "sleepers", [W_SEQREAD] = "seqread", [W_RANDREAD] = "randread",
	[W_WRITER] = "writer", [W_THREADS] = "threads", [W_MIX] = "mix",
	[W_RWMIX] = "rwmix",
};

/* ---- command line ---- */

static long parse_num(const char *s)
{
	long v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (*s++ - '0');
	return v;
}

static void copy_word(char *dst, size_t cap, const char *s)
{
	size_t i = 0;
	while (s[i] && s[i] != ' ' && i + 1 < cap) {
		dst[i] = s[i];
		i++;
	}
	dst[i] = 0;
}

static bool key_is(const char *tok, const char *key)
{
	size_t n = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (tok[i] != key[i])
			return false;
	return tok[n] == '=';
}

static void parse_option(const char *tok)
{
	static const struct { const char *key; long *dst; } nums[] = {
		{ "n", &cfg.n }, { "jobs", &cfg.jobs }, { "think", &cfg.think_ms },
		{ "blocks", &cfg.blocks }, { "iters", &cfg.iters }, { "swlog", &cfg.swlog },
		{ "runtime", &cfg.runtime_ms }, { "kdelay", &cfg.kdelay_ms },
	};
	const char *v = tok;
	while (*v && *v != '=')
		v++;
	if (!*v++)
		return;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (key_is(tok, nums[i].key))
			*nums[i].dst = parse_num(v);
	if (key_is(tok, "workload"))
		copy_word(cfg.workload, sizeof(cfg.workload), v);
	else if (key_is(tok, "seed"))
		cfg.seed = parse_num(v);
	else if (key_is(tok, "cpus"))
		cfg.cpus = parse_num(v);
	else if (key_is(tok, "slice"))
		cfg.slice_ms = parse_num(v);
	else if (key_is(tok, "tick"))
		cfg.tick_ms = parse_num(v);
	else if (key_is(tok, "delay"))
		cfg.delay = parse_num(v);
	else if (key_is(tok, "gate"))
		cfg.gate_ud2 = v[0] == 'u';
	else if (key_is(tok, "policy"))
		copy_word(cfg.policy_name, sizeof(cfg.policy_name), v);
	else if (key_is(tok, "ident"))
		copy_word(cfg.ident_name, sizeof(cfg.ident_name), v);
	else if (key_is(tok, "disklog"))
		copy_word(disklog_name, sizeof(disklog_name), v);
	else if (key_is(tok, "submit"))
		copy_word(submit_name, sizeof(submit_name), v);
}

static int lookup(const char *name, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (names[i] && !strcmp(name, names[i]))
			return i;
	return -1;
}

static int workload_id(void)
{
	return lookup(cfg.workload, workloads, sizeof(workloads) / sizeof(workloads[0]));
}

/* Reject what we cannot run rather than guess: exit code 4 = bad config. */
static void parse_cmdline(void)
{
	static const char *const pols[] = { "lifo", "delayed", "none", "data" };
	static const char *const ids[] = { "plain", "pcid", "kpti" };
	static const char *const dlogs[] = { "live", "disk" }, *const subs[] = { "task", "kworker" };
	char *s = cmdline;

	while (*s) {
		while (*s == ' ')
			s++;
		if (*s)
			parse_option(s);
		while (*s && *s != ' ')
			s++;
	}
	int p = lookup(cfg.policy_name, pols, 4), id = lookup(cfg.ident_name, ids, 3);
	int dl = lookup(disklog_name, dlogs, 2), sub = lookup(submit_name, subs, 2);
	if (p < 0 || id < 0 || dl < 0 || sub < 0 || workload_id() < 0 || cfg.cpus < 1 ||
	    cfg.cpus > MAXCPU || cfg.kdelay_ms > 1000 ||
	    cfg.slice_ms < 1 || cfg.tick_ms < 1 || cfg.tick_ms > 1000 || cfg.delay > 200) {
		klog("AF BADCONFIG cmdline=%s", cmdline);
		poweroff(4);
	}
	cfg.policy = p;
	cfg.ident = id;
	cfg.disklog_disk = dl == 1;
	cfg.submit_kworker = sub == 1;
}

/* ---- descriptor tables ---- */

static void idt_set(int vec, void *fn, int dpl)
{
	u64 a = (u64)fn;
	idt[vec * 2] = (a & 0xffff) | ((u64)KCODE << 16) | ((u64)(0x8e | dpl << 5) << 40) |
		       ((a >> 16 & 0xffff) << 48);
	idt[vec * 2 + 1] = a >> 32;
}

static void cpu_setup(int id)
{
	struct cpu *c = &cpus[id];
	u64 base = (u64)c->tss, limit = sizeof(c->tss) - 1;
	struct { u16 limit; u64 base; } __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)idt };

	c->id = id;
	c->self = c;
	__asm__ volatile("wrmsr" :: "c"(0xc0000101), "a"((u32)(u64)c), "d"((u32)((u64)c >> 32)));
	*(u16 *)(c->tss + 102) = sizeof(c->tss);	/* no I/O bitmap */
	gdt[6 + 2 * id] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89UL << 40) |
			  ((base >> 24 & 0xff) << 56);
	gdt[7 + 2 * id] = base >> 32;
	__asm__ volatile("lgdt %0; ltr %w1; lidt %2" :: "m"(gdt_ptr), "r"(TSS_SEL + 16 * id), "m"(idtr));
	lapic_init();
	pcid_setup();
}

/* ---- traps and system calls ---- */

static void user_fault(struct trapframe *tf)
{
	u64 cr2;
	__asm__ volatile("mov %%cr2,%0" : "=r"(cr2));
	stat_faults++;
	klog("AF FAULT t=%lu cpu=%d pid=%d vec=%lu rip=0x%lx err=0x%lx cr2=0x%lx", now_ns(),
	     this_cpu()->id, this_cpu()->cur->pid, tf->vector, tf->rip, tf->err, cr2);
	task_exit(128 + (int)tf->vector);
}

static void ipi(void)
{
	struct cpu *c = this_cpu();

	/* a dying AS held lazily by a kernel thread or idle: let it go */
	if (c->active && c->active->dying && c->cur->as != c->active)
		cr3_switch(c, NULL, 0);
}

void trap(struct trapframe *tf)
{
	bool user = tf->cs & 3;

	if (!user && tf->vector < 32)
		panic("kernel trap %lu rip=0x%lx err=0x%lx", tf->vector, tf->rip, tf->err);
	spin_lock(&big_lock);
	if (user)
		this_cpu()->cur->tf = tf;
	switch (tf->vector) {
	case 3:
		syscall(tf);
		break;
	case 6:
		/* the CPU just fetched the ud2 at rip, so it is mapped */
		if (cfg.gate_ud2 && tf->rip >= USER_VDSO && *(u16 *)tf->rip == 0x0b0f) {
			tf->rip += 2;
			syscall(tf);
		} else {
			user_fault(tf);
		}
		break;
	case VEC_TIMER:
		lapic_eoi();
		tick(user);
		break;
	case VEC_VBLK:
		vblk_irq();
		lapic_eoi();
		break;
	case VEC_IPI:
		lapic_eoi();
		ipi();
		break;
	case VEC_SPURIOUS:
		break;
	default:
		if (tf->vector < 32)
			user_fault(tf);
		lapic_eoi();
	}
	spin_unlock(&big_lock);
}

static u64 prog_entry(long prog)
{
	return USER_CODE + ((u64)progs[prog] - (u64)utext_start);
}

static long sys_spawn(struct task *me, long prog, long arg)
{
	if (prog < 0 || prog >= NPROG)
		return -1;
	int pid = alloc_pid();
	struct as *a = as_new(pid, "spawn", me->pid);
	ready(task_new_user(a, pid, me->pid, prog_entry(prog), as_stack(a), arg, pid));
	return pid;
}

static long sys_fork(struct task *me)
{
	int pid = alloc_pid();
	struct as *a = as_fork(me->as, pid, me->pid);
	struct task *t = task_new_user(a, pid, me->pid, 0, 0, 0, 0);

	*t->tf = *me->tf;
	t->tf->rax = 0;
	ready(t);
	return pid;
}

/* exec: build the new root, load it, then tear the old one down. */
static long sys_exec(struct task *me, long prog, long arg)
{
	struct as *old = me->as;

	if (prog < 0 || prog >= NPROG || old->users > 1)
		return -1;
	struct as *a = as_new(me->pid, "exec", me->ppid);
	klog("AF EXEC t=%lu cpu=%d pid=%d old=0x%lx new=0x%lx prog=%ld", now_ns(),
	     this_cpu()->id, me->pid, old->root, a->root, prog);
	me->as = a;
	cr3_switch(this_cpu(), a, me->pid);
	as_put(old, "exec");
	start_regs(me->tf, prog_entry(prog), as_stack(a), arg, me->pid);
	return 0;
}

static long sys_thread(struct task *me, u64 fn, long arg)
{
	if (fn < USER_CODE || fn >= USER_CODE + (utext_end - utext_start))
		return -1;
	int tid = alloc_pid();
	struct task *t = task_new_user(me->as, tid, me->ppid, fn, as_stack(me->as), arg, tid);

	t->pid = me->pid;
	t->leader = false;
	me->as->users++;
	klog("AF THREAD t=%lu cpu=%d pid=%d tid=%d root=0x%lx", now_ns(), this_cpu()->id,
	     me->pid, tid, me->as->root);
	ready(t);
	return tid;
}

/* Disk I/O through a kernel bounce page; the caller blocks until done.
 * Returns 0, -1 on error, or 1 when runtime= has passed since the first
 * request: the workload should stop. */
static long sys_disk(struct task *me, int op, u64 sector, u64 uaddr, u64 nsect)
{
	u64 len = nsect * 512, pa;
	long r;

	if (nsect < 1 || nsect > 8 || !user_range_ok(uaddr, len))
		return -1;
	/* within one page: the device reads or writes the process's page
	 * itself, as O_DIRECT does (guest kernel code is emulated under
	 * kvm_pvm: two 4 KiB copies per request were most of its cost) */
	pa = (uaddr & (PAGE - 1)) + len <= PAGE ? user_phys(uaddr) : 0;
	if (pa) {
		r = vblk_rw(op, sector, (void *)pa, nsect);
	} else {
		void *buf = page_alloc();

		if (op == 1)
			memcpy(buf, (void *)uaddr, len);
		r = vblk_rw(op, sector, buf, nsect);
		if (r == 0 && op == 0)
			memcpy((void *)uaddr, buf, len);
		page_free(buf);
	}
	return r == 0 && vblk_run_over() ? 1 : r;
}

static long sys_param(long key)
{
	switch (key) {
	case P_N: return cfg.n;
	case P_JOBS: return cfg.jobs;
	case P_SEED: return cfg.seed;
	case P_THINK: return cfg.think_ms;
	case P_BLOCKS: return cfg.blocks;
	case P_ITERS: return cfg.iters;
	case P_CPUS: return cfg.cpus;
	case P_WORKLOAD: return workload_id();
	case P_RUNTIME: return cfg.runtime_ms;
	}
	return -1;
}

static long sys_report(struct task *me, long kind, long a, long b)
{
	bool ok = kind == R_VERIFY_OK;

	if (ok)
		stat_verify_ok++;
	else
		stat_verify_bad++;
	klog("AF VERIFY t=%lu pid=%d sector=%ld n=%ld result=%s", now_ns(), me->pid, a, b,
	     ok ? "ok" : "bad");
	return 0;
}

void syscall(struct trapframe *tf)
{
	struct task *me = this_cpu()->cur;
	long r = -1;
	int code;

	switch (tf->rax) {
	case SYS_EXIT:
		if (tf->rdi)
			stat_bad_exits++;
		task_exit((int)tf->rdi);	/* does not return */
	case SYS_SPAWN: r = sys_spawn(me, tf->rdi, tf->rsi); break;
	case SYS_FORK: r = sys_fork(me); break;
	case SYS_EXEC: r = sys_exec(me, tf->rdi, tf->rsi); if (!r) return; break;
	case SYS_WAIT: r = sys_wait(&code); break;
	case SYS_SLEEP:
		if (tf->rdi > 3600 * 1000)
			break;
		sleep_until(now_ns() + tf->rdi * 1000000UL);
		r = 0;
		break;
	case SYS_READ: r = sys_disk(me, 0, tf->rdi, tf->rsi, tf->rdx); break;
	case SYS_WRITE: r = sys_disk(me, 1, tf->rdi, tf->rsi, tf->rdx); break;
	case SYS_FLUSH: r = vblk_rw(4, 0, NULL, 0); break;
	case SYS_GETPID: r = me->pid; break;
	case SYS_YIELD: yield_cpu(); r = 0; break;
	case SYS_THREAD: r = sys_thread(me, tf->rdi, tf->rsi); break;
	case SYS_PARAM: r = sys_param(tf->rdi); break;
	case SYS_REPORT: r = sys_report(me, tf->rdi, tf->rsi, tf->rdx); break;
	case SYS_CAPACITY: r = vblk_capacity(); break;
	case SYS_LOGDUMP: r = me->pid == 1 ? vblk_log_dump() : -1; break;
	}
	tf->rax = r;
}

/* ---- kernel worker, shutdown, boot ---- */

/* A kernel thread like Linux's kworkers: runs on whatever CR3 is loaded. */
static void kworker(void *arg)
{
	for (;;) {
		kworker_runs++;
		sleep_until(now_ns() + 20 * 1000000UL);
	}
}

void shutdown(void)
{
	int live = as_live_count();

	vblk_log_flush();
	u64 errors = stat_faults + stat_bad_exits + stat_verify_bad + stat_disk_err + live +
		     (stat_disk_sub != stat_disk_done);
	klog("AF SUMMARY t=%lu creates=%lu exits=%lu switches=%lu kpti_flips=%lu disk_sub=%lu "
	     "disk_done=%lu disk_err=%lu verify_ok=%lu verify_bad=%lu bad_exits=%lu faults=%lu "
	     "live_as=%d data_reuse=%lu kworker_runs=%lu lazy_switches=%lu cpus_up=%d kio_batches=%lu "
	     "errors=%lu",
	     now_ns(), stat_creates, stat_exits, stat_switches, kpti_flips, stat_disk_sub,
	     stat_disk_done, stat_disk_err, stat_verify_ok, stat_verify_bad, stat_bad_exits,
	     stat_faults, live, stat_reused_data, kworker_runs, stat_lazy_switches, ncpus_up,
	     stat_kio_batches, errors);
	poweroff(errors ? 1 : 0);
}

static u64 mem_end(u64 info)
{
	u64 map = *(u64 *)(info + 40), end = 0;
	u32 n = *(u32 *)(info + 48);

	for (u32 i = 0; i < n; i++) {
		u64 *e = (u64 *)(map + 24 * i);
		if ((u32)e[2] == 1 && e[0] <= 0x100000 + PAGE && e[0] + e[1] > end)
			end = e[0] + e[1];
	}
	if (!end)
		end = 128UL << 20;
	return end < (3UL << 30) ? end : 3UL << 30;	/* below the MMIO hole, in the identity map */
}

void ap_main(void)
{
	int id = ncpus_up;

	cpu_setup(id);
	cpus[id].cur = cpus[id].idle;
	__atomic_add_fetch(&ncpus_up, 1, __ATOMIC_RELEASE);
	spin_lock(&big_lock);
	klog("AF CPU t=%lu cpu=%d up", now_ns(), id);
	idle_loop(NULL);
}

void kmain(u32 info)
{
	extern u8 kernel_end[];
	u64 cl;

	spin_lock(&big_lock);
	if (*(u32 *)(u64)info != PVH_MAGIC)
		poweroff(5);
	cl = *(u64 *)((u64)info + 24);
	for (size_t i = 0; cl && i + 1 < sizeof(cmdline) && ((char *)cl)[i]; i++)
		cmdline[i] = ((char *)cl)[i];
	for (int i = 0; i < NVEC; i++)
		idt_set(i, trap_stubs + 16 * i, i == 3 ? 3 : 0);
	time_init();
	parse_cmdline();
	cpu_setup(0);
	ncpus_up = 1;
	klog("AF BOOT t=%lu version=1 workload=%s seed=%lu cpus=%d policy=%s ident=%s gate=%s "
	     "slice_ms=%d tick_ms=%d delay=%d swlog=%ld disklog=%s submit=%s runtime_ms=%ld "
	     "kdelay_ms=%ld kernel_root=0x%lx", now_ns(), cfg.workload, cfg.seed,
	     cfg.cpus, cfg.policy_name, cfg.ident_name, cfg.gate_ud2 ? "ud2" : "int3",
	     cfg.slice_ms, cfg.tick_ms, cfg.delay, cfg.swlog, disklog_name, submit_name,
	     cfg.runtime_ms, cfg.kdelay_ms, (u64)boot_pml4);
	klog("AF CMDLINE %s", cmdline);
	if (cfg.ident == ID_PCID && !pcid_ok) {
		klog("AF SKIP reason=CPU lacks PCID (CPUID.01H:ECX[17])");
		poweroff(2);
	}
	kpti_on = cfg.ident == ID_KPTI;
	mm_init((u64)kernel_end, mem_end(info));
	mm_vdso_init();
	vblk_init(cmdline);
	klog("AF CREATE t=%lu cpu=0 pid=0 root=0x%lx how=kernel ppid=0 pcid=0", now_ns(),
	     (u64)boot_pml4);
	struct task *idle = kthread_new("idle", idle_loop, NULL);
	idle->state = T_RUN;
	cpus[0].idle = cpus[0].cur = idle;
	ready(kthread_new("kworker", kworker, NULL));
	if (cfg.submit_kworker)
		vblk_kio_start();
	int pid = alloc_pid();
	struct as *a = as_new(pid, "init", 0);
	ready(task_new_user(a, pid, 0, prog_entry(PROG_INIT), as_stack(a), workload_id(), pid));
	ap_start_all();
	/* become cpu 0's idle task: its context is saved on the first switch */
	idle_loop(NULL);
}
