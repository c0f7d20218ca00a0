/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Physical pages, page-table roots and their reuse policies, address
 * spaces (create, fork-copy, teardown) and CR3 loads.
 *
 * A root's life is what the host observes: allocation (CREATE), loads into
 * CR3 (SW), and teardown (EXIT) = the user half of the root zeroed with one
 * string store, then the page handed back per the reuse policy.
 */
#include "guest.h"

extern u8 kernel_end[], utext_start[], utext_end[];
extern u8 sys_stub_int3[], sys_stub_ud2[], sys_stub_end[];

#define EX_ROOT_MAGIC 0x544f4f52584555ULL	/* marks a freed root (data policy) */

static u8 *fresh, *fresh_end;
static void *free_list;
static u64 root_stack[1024];		/* freed roots ready for reuse (LIFO) */
static int nroot_stack;
static u64 delay_q[256];		/* delayed policy: FIFO of freed roots */
static int delay_head, delay_len;
static struct as as_pool[MAXAS];
static int nlive_as;
static u8 *vdso_page;
static u16 next_pcid = 1;
u64 stat_creates, stat_exits, stat_switches, stat_reused_data;
bool pcid_ok;

void mm_init(u64 start, u64 end)
{
	fresh = (u8 *)((start + PAGE - 1) & ~(PAGE - 1));
	fresh_end = (u8 *)(end & ~(PAGE - 1));
	klog("AF MEM t=%lu free_start=0x%lx free_end=0x%lx", now_ns(), (u64)fresh, (u64)fresh_end);
}

static void *fresh_pages(int n)
{
	if (n == 2 && ((u64)fresh & PAGE)) {	/* KPTI pairs are 8 KiB aligned */
		page_free(fresh);
		fresh += PAGE;
	}
	if (fresh + n * PAGE > fresh_end)
		panic("out of memory");
	void *p = fresh;
	fresh += n * PAGE;
	return p;
}

void *page_alloc(void)
{
	u64 *p = free_list;

	if (p) {
		free_list = (void *)p[0];
		if (p[1] == EX_ROOT_MAGIC) {
			stat_reused_data++;
			klog("AF DATAREUSE t=%lu page=0x%lx", now_ns(), (u64)p);
		}
	} else {
		p = fresh_pages(1);
	}
	memset(p, 0, PAGE);
	return p;
}

void page_free(void *p)
{
	((u64 *)p)[0] = (u64)free_list;
	((u64 *)p)[1] = 0;
	free_list = p;
}

/* ---- roots and reuse policies ---- */

static int root_pages(void)
{
	return cfg.ident == ID_KPTI ? 2 : 1;
}

static u64 root_alloc(void)
{
	u64 r;

	if (nroot_stack)
		r = root_stack[--nroot_stack];
	else
		r = (u64)fresh_pages(root_pages());
	memset((void *)r, 0, root_pages() * PAGE);
	return r;
}

static void root_release(u64 r)
{
	switch (cfg.policy) {
	case POL_LIFO:
		if (nroot_stack < (int)(sizeof(root_stack) / 8))
			root_stack[nroot_stack++] = r;
		break;
	case POL_DELAYED:
		/* reuse only after cfg.delay other roots were freed */
		delay_q[(delay_head + delay_len++) % 256] = r;
		if (delay_len > cfg.delay) {
			root_stack[nroot_stack++] = delay_q[delay_head];
			delay_head = (delay_head + 1) % 256;
			delay_len--;
		}
		break;
	case POL_NONE:
		break;
	case POL_DATA:
		for (int i = root_pages() - 1; i >= 0; i--) {
			u64 *p = (u64 *)(r + i * PAGE);
			page_free(p);
			p[1] = EX_ROOT_MAGIC;
		}
		break;
	}
}

/* ---- page tables ---- */

static u64 *pt_next(u64 *table, int idx, bool create)
{
	if (!(table[idx] & PTE_P)) {
		if (!create)
			return NULL;
		table[idx] = (u64)page_alloc() | PTE_P | PTE_W | PTE_U;
	}
	return (u64 *)(table[idx] & PTE_ADDR);
}

static u64 *walk(u64 root, u64 va, bool create)
{
	u64 *t = (u64 *)root;
	int pml4i = (va >> 39) & 511;
	bool had = t[pml4i] & PTE_P;

	t = pt_next(t, pml4i, create);
	if (t && !had && cfg.ident == ID_KPTI)	/* mirror into the user root */
		((u64 *)(root + PAGE))[pml4i] = ((u64 *)root)[pml4i];
	for (int shift = 30; t && shift >= 21; shift -= 9)
		t = pt_next(t, (va >> shift) & 511, create);
	return t ? &t[(va >> 12) & 511] : NULL;
}

static void map(struct as *a, u64 va, u64 pa, u64 flags)
{
	*walk(a->root, va, true) = pa | flags | PTE_P | PTE_U;
}

static void map_private(struct as *a, u64 va, int n)
{
	for (int i = 0; i < n; i++)
		map(a, va + i * PAGE, (u64)page_alloc(), PTE_W);
}

bool user_range_ok(u64 va, u64 len)
{
	struct as *a = this_cpu()->active;

	if (!a || va < USER_VDSO || len > 1 << 20 || va + len > (1UL << 47) || va + len < va)
		return false;
	for (u64 p = va & ~(PAGE - 1); p < va + len; p += PAGE) {
		u64 *pte = walk(a->root, p, false);
		if (!pte || (*pte & (PTE_P | PTE_W | PTE_U)) != (PTE_P | PTE_W | PTE_U))
			return false;
	}
	return true;
}

/* Physical address of user va in the loaded address space (user, writable),
 * 0 if not mapped so: the kernel's identity map reaches it there. */
u64 user_phys(u64 va)
{
	struct as *a = this_cpu()->active;
	u64 *pte;

	if (!a || va < USER_VDSO || va >= (1UL << 47))
		return 0;
	pte = walk(a->root, va & ~(PAGE - 1), false);
	if (!pte || (*pte & (PTE_P | PTE_W | PTE_U)) != (PTE_P | PTE_W | PTE_U))
		return 0;
	return (*pte & PTE_ADDR) | (va & (PAGE - 1));
}

/* The stub page for the configured gate (int3 or ud2), shared read-only. */
void mm_vdso_init(void)
{
	u8 *s = cfg.gate_ud2 ? sys_stub_ud2 : sys_stub_int3;

	vdso_page = page_alloc();
	memcpy(vdso_page, s, sys_stub_end - sys_stub_ud2);	/* the longer stub */
}

void pcid_setup(void)
{
	u32 r[4];

	cpuid(1, 0, r);
	pcid_ok = (r[2] >> 17) & 1;
	if (cfg.ident == ID_PCID && pcid_ok)
		write_cr4(read_cr4() | (1UL << 17));
}

/* ---- address spaces ---- */

static struct as *as_alloc(int pid, const char *how, int ppid)
{
	struct as *a = NULL;

	for (int i = 0; i < MAXAS && !a; i++)
		if (!as_pool[i].live && !as_pool[i].users)
			a = &as_pool[i];
	if (!a)
		panic("out of address spaces");
	memset(a, 0, sizeof(*a));
	a->root = root_alloc();
	a->live = true;
	nlive_as++;
	a->users = 1;
	a->pid = pid;
	a->stack_next = USER_STACK_TOP;
	((u64 *)a->root)[0] = boot_pml4[0];	/* the shared kernel half */
	if (cfg.ident == ID_KPTI)
		((u64 *)(a->root + PAGE))[0] = boot_pml4[0];
	if (cfg.ident == ID_PCID && pcid_ok) {
		a->pcid = next_pcid;
		next_pcid = next_pcid % 4095 + 1;
	}
	stat_creates++;
	klog("AF CREATE t=%lu cpu=%d pid=%d root=0x%lx how=%s ppid=%d pcid=%u", now_ns(),
	     this_cpu()->id, pid, a->root, how, ppid, a->pcid);
	return a;
}

/* A fresh address space with the vdso and program text (spawn, exec). */
struct as *as_new(int pid, const char *how, int ppid)
{
	struct as *a = as_alloc(pid, how, ppid);

	map(a, USER_VDSO, (u64)vdso_page, PTE_SHARED);
	for (u8 *p = utext_start; p < utext_end; p += PAGE)
		map(a, USER_CODE + (p - utext_start), (u64)p, PTE_SHARED);
	map_private(a, USER_DATA, USER_DATA_PAGES);
	return a;
}

static void copy_table(struct as *dst, u64 *t, int level, u64 va)
{
	for (int i = 0; i < 512; i++) {
		if (!(t[i] & PTE_P) || (level == 4 && (i == 0 || i >= 256)))
			continue;
		u64 cva = va | ((u64)i << (12 + 9 * (level - 1)));
		u64 *next = (u64 *)(t[i] & PTE_ADDR);
		if (level > 1) {
			copy_table(dst, next, level - 1, cva);
		} else if (t[i] & PTE_SHARED) {
			*walk(dst->root, cva, true) = t[i];
		} else {
			u64 *pg = page_alloc();
			memcpy(pg, next, PAGE);
			*walk(dst->root, cva, true) = (t[i] & ~PTE_ADDR) | (u64)pg;
		}
	}
}

struct as *as_fork(struct as *parent, int pid, int ppid)
{
	struct as *a = as_alloc(pid, "fork", ppid);

	copy_table(a, (u64 *)parent->root, 4, 0);
	a->stack_next = parent->stack_next;
	return a;
}

/* A new user stack in the AS; returns its top. */
u64 as_stack(struct as *a)
{
	u64 top = a->stack_next;

	map_private(a, top - USER_STACK_PAGES * PAGE, USER_STACK_PAGES);
	a->stack_next = top - (USER_STACK_PAGES + 1) * PAGE;	/* one guard page */
	return top;
}

static void free_table(u64 *t, int level)
{
	for (int i = 0; i < 512; i++) {
		if (!(t[i] & PTE_P) || (t[i] & PTE_SHARED))
			continue;
		u64 *next = (u64 *)(t[i] & PTE_ADDR);
		if (level > 1)
			free_table(next, level - 1);
		page_free(next);
	}
}

/* Teardown: free the user half's tables, zero it in the root, release the root. */
static void as_destroy(struct as *a)
{
	u64 *root = (u64 *)a->root;

	/*
	 * Logged first: the host may see the teardown (the root's zap) before a
	 * line written after it arrives, so the line marks its start.
	 */
	stat_exits++;
	klog("AF EXIT t=%lu cpu=%d pid=%d root=0x%lx why=%s loads=%lu cr3_ns=%lu", now_ns(),
	     this_cpu()->id, a->pid, a->root, a->why ? a->why : "exit", a->loads, a->cr3_ns);

	for (int i = 1; i < 256; i++)
		if (root[i] & PTE_P) {
			free_table((u64 *)(root[i] & PTE_ADDR), 3);
			page_free((void *)(root[i] & PTE_ADDR));
		}
	/* the instant the root is cleared, as the host sees it (kvm_pio):
	 * exit latency is measured from here */
	outl(TEARDOWN_MARK_PORT, (u32)(a->root >> 12));
	memset(&root[1], 0, 255 * 8);
	if (cfg.ident == ID_KPTI)
		memset((u64 *)(a->root + PAGE) + 1, 0, 255 * 8);
	root_release(a->root);
	a->live = false;
	nlive_as--;
}

int as_live_count(void)
{
	return nlive_as;
}

static bool as_in_use(struct as *a)
{
	for (int i = 0; i < ncpus_up; i++)
		if (cpus[i].active == a)
			return true;
	return false;
}

/*
 * Drop a task's reference.  The last one tears the AS down once no CPU has
 * its root loaded: this CPU moves to the kernel root itself; a CPU that
 * holds it lazily (kernel thread, idle) is asked to leave by IPI.
 */
void as_put(struct as *a, const char *why)
{
	struct cpu *c = this_cpu();

	if (--a->users > 0)
		return;
	a->why = why;
	if (c->active == a)
		cr3_switch(c, NULL, 0);
	if (!as_in_use(a)) {
		as_destroy(a);
		return;
	}
	a->dying = true;
	for (int i = 0; i < ncpus_up; i++)
		if (cpus[i].active == a)
			lapic_ipi(i, VEC_IPI);
}

u64 cr3_value(struct cpu *c, struct as *to)
{
	if (!to)
		return (u64)boot_pml4;
	u64 v = to->root;
	if (to->pcid) {
		v |= to->pcid;
		if (to->pcid_cpus & (1u << c->id))
			v |= 1UL << 63;		/* NOFLUSH: this CPU's TLB holds it */
		to->pcid_cpus |= 1u << c->id;
	}
	return v;
}

/* Load 'to' (NULL = the kernel-only root) into CR3 and log it as ground truth. */
void cr3_switch(struct cpu *c, struct as *to, int pid)
{
	struct as *from = c->active;
	u64 now;

	if (from == to)
		return;
	now = now_ns();
	if (from)
		from->cr3_ns += now - c->cr3_since;
	c->cr3_since = now;
	write_cr3(cr3_value(c, to));
	c->active = to;
	c->switches++;
	stat_switches++;
	if (to)
		to->loads++;
	if ((long)stat_switches <= cfg.swlog)
		klog("AF SW t=%lu cpu=%d from=0x%lx to=0x%lx pid=%d", now, c->id,
		     from ? from->root : (u64)boot_pml4, to ? to->root : (u64)boot_pml4, pid);
	if (from && from->dying && !as_in_use(from))
		as_destroy(from);
}
