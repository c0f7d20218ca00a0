/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The test guest kernel: one header for its few files.
 *
 * Address layout (every address space): PML4 slot 0 is the kernel half,
 * an identity map of the first 4 GiB (supervisor only), shared by all
 * roots.  Slots 1..255 are the private user half; user programs live at
 * USER_BASE (512 GiB).
 */
#ifndef GUEST_H
#define GUEST_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include "asm.h"
#include "sys.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#define PAGE		4096UL
#define PTE_P		0x001UL
#define PTE_W		0x002UL
#define PTE_U		0x004UL
#define PTE_SHARED	0x200UL		/* software bit: page not owned by this AS */
#define PTE_ADDR	0x000ffffffffff000UL

#define MAXTASK		256
#define MAXAS		256
#define KSTACK		(2 * PAGE)
#define NPROG_PARAM	16

/* ---- low level ---- */
static inline void outb(u16 p, u8 v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(p)); }
static inline void outl(u16 p, u32 v) { __asm__ volatile("outl %0,%1" :: "a"(v), "Nd"(p)); }

/* An I/O port nothing decodes: a write there is a timestamp the host can
 * take (kvm:kvm_pio), written with a root's frame number right before the
 * root is cleared. */
#define TEARDOWN_MARK_PORT 0x80
static inline u64 rdtsc(void) { u32 lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((u64)hi << 32) | lo; }
static inline u64 read_cr3(void) { u64 v; __asm__ volatile("mov %%cr3,%0" : "=r"(v)); return v; }
static inline void write_cr3(u64 v) { __asm__ volatile("mov %0,%%cr3" :: "r"(v) : "memory"); }
static inline u64 read_cr4(void) { u64 v; __asm__ volatile("mov %%cr4,%0" : "=r"(v)); return v; }
static inline void write_cr4(u64 v) { __asm__ volatile("mov %0,%%cr4" :: "r"(v) : "memory"); }
static inline u32 mmio_r32(u64 a) { return *(volatile u32 *)a; }
static inline void mmio_w32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline void cpu_relax(void) { __asm__ volatile("pause"); }
static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
#define barrier() __asm__ volatile("" ::: "memory")

struct spin { volatile int v; };
void spin_lock(struct spin *s);
void spin_unlock(struct spin *s);

/* ---- trap frame (matches trap_common in boot.S) ---- */
struct trapframe {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, err, rip, cs, rflags, rsp, ss;
};

/* ---- address spaces ---- */
struct as {
	u64 root;		/* kernel root (KPTI: the pair's first page) */
	u16 pcid;
	bool pcid_valid;	/* the PCID holds this root's translations */
	int users;		/* tasks using it */
	int pid;
	u64 loads;		/* CR3 loads of this root (switch-ins) */
	u64 cr3_ns;		/* time this root was loaded, all CPUs */
	u64 stack_next;		/* next thread stack top */
	u32 pcid_cpus;		/* CPUs whose TLB may hold this PCID's entries */
	const char *why;	/* how it ended: exit or exec */
	bool live, dying;
};

enum policy { POL_LIFO, POL_DELAYED, POL_NONE, POL_DATA };
enum ident { ID_PLAIN, ID_PCID, ID_KPTI };

/* ---- tasks ---- */
enum tstate { T_FREE, T_RUN, T_READY, T_SLEEP, T_IO, T_WAIT, T_ZOMBIE };

struct task {
	int tid, pid, ppid;	/* pid = thread-group (process) id */
	enum tstate state;
	struct as *as;		/* NULL: kernel thread */
	u64 ksp;
	u8 *kstack;
	struct trapframe *tf;
	u64 wake_ns;
	long ret;		/* value returned by a blocking call */
	int exit_code;
	bool leader;
	struct task *next;	/* run queue or sleep list */
	const char *name;
};

struct cpu {
	struct cpu *self;	/* %gs:0 */
	int id;
	struct task *cur, *idle;
	struct as *active;	/* AS whose root is in CR3 (lazy for kthreads) */
	u64 cr3_since;
	u64 slice_end;
	u64 switches;
	struct task *prev_dead;	/* stack to free after a switch */
	u8 tss[104] __attribute__((aligned(16)));
};

/* ---- configuration from the command line ---- */
struct config {
	char workload[16];
	u64 seed;
	int cpus;
	enum policy policy;
	enum ident ident;
	bool gate_ud2;
	int slice_ms, tick_ms;
	int delay;		/* POL_DELAYED: frees before reuse */
	long n, jobs, think_ms, blocks, iters;
	long swlog;		/* log at most this many switches */
	long runtime_ms;	/* disk workloads stop this long after the first request (0: never) */
	long kdelay_ms;		/* submit=kworker: the I/O thread waits this long to batch */
	bool disklog_disk;	/* disklog=disk: DISK lines kept, then written to the disk */
	bool submit_kworker;	/* submit=kworker: an I/O kernel thread submits for the process */
	char policy_name[12], ident_name[12];
};

extern struct config cfg;
extern struct cpu cpus[MAXCPU];
extern struct task tasks[MAXTASK];
extern struct spin big_lock;
extern u64 boot_pml4[];
extern volatile u8 kpti_on;
extern volatile u64 kpti_flips;
extern int ncpus_up;

/* log.c */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
void poweroff(int code) __attribute__((noreturn));
u64 now_ns(void);
void time_init(void);
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int strcmp(const char *a, const char *b);
size_t strlen(const char *s);

/* mm.c */
void mm_init(u64 start, u64 end);
void *page_alloc(void);
void page_free(void *p);
struct as *as_new(int pid, const char *how, int ppid);
struct as *as_fork(struct as *parent, int pid, int ppid);
int as_live_count(void);
void as_put(struct as *as, const char *why);
u64 as_stack(struct as *as);
bool user_range_ok(u64 va, u64 len);
u64 user_phys(u64 va);
void cr3_switch(struct cpu *c, struct as *to, int pid);
void mm_vdso_init(void);
void pcid_setup(void);
extern u64 stat_creates, stat_exits, stat_switches, stat_reused_data;
extern bool pcid_ok;

/* sched.c */
struct cpu *this_cpu(void);
void sched_init(void);
struct task *task_new_user(struct as *as, int pid, int ppid, u64 rip, u64 rsp, long a0, long a1);
void start_regs(struct trapframe *tf, u64 rip, u64 rsp, long a0, long a1);
struct task *kthread_new(const char *name, void (*fn)(void *), void *arg);
void ready(struct task *t);
void schedule(void);
void yield_cpu(void);
void sleep_until(u64 ns);
void block_io(void);
void tick(bool from_user);
void shutdown(void) __attribute__((noreturn));
void idle_loop(void *arg);
void task_exit(int code) __attribute__((noreturn));
long sys_wait(int *code);
int alloc_pid(void);
void sched_tail(void);
void ap_start_all(void);
bool all_done(void);
extern int live_tasks;
extern u64 stat_lazy_switches;

/* lapic.c (in sched.c) */
void lapic_init(void);
void lapic_eoi(void);
void ioapic_route(int gsi, int vector);
void lapic_ipi(int cpu, int vec);

/* syscall.c */
void syscall(struct trapframe *tf);

/* virtio.c */
int vblk_init(const char *cmdline);
long vblk_rw(int op, u64 sector, void *buf, u32 n);
void vblk_irq(void);
void vblk_kio_start(void);
void vblk_log_flush(void);
long vblk_log_dump(void);
bool vblk_run_over(void);
u64 vblk_capacity(void);
extern u64 stat_disk_sub, stat_disk_done, stat_disk_err, stat_kio_batches;


#define VEC_TIMER	32
#define VEC_VBLK	33
#define VEC_SPURIOUS	47
#define VEC_IPI		34

#endif
