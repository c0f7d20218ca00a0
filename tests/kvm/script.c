// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * asvmm scenarios.  One single-threaded simulation decides, step by step,
 * what each vCPU does (build a root, load it, run, grow, exit, ...) and
 * appends the op to that vCPU's list; the same step appends the ground
 * truth.  Where a step depends on another vCPU's earlier step (a root
 * built or freed there, a process last loaded there), the simulation puts
 * a WAIT before it and a SIGNAL after the step it waits for, so the vCPUs
 * run in parallel but never out of the simulated order where it matters.
 */
#include <stdlib.h>
#include <string.h>
#include "script.h"

#define ROOT_K(slot)	(ROOT_POOL + (uint64_t)(slot) * 0x2000)
#define ROOT_U(slot)	(ROOT_K(slot) + 0x1000)
/* A slot's user pages come in two banks used by alternate generations: a
 * process on a reused root page gets other lower-level tables than the one
 * before it, as it would from an OS's allocator most of the time.  (A root
 * whose entries are byte-identical to its previous process's cannot be told
 * from it when KVM does not shadow the page: tests/kvm/README.md.) */
#define TAIL_SPIN	30000
#define UPAGE(slot, gen, i) \
	(USER_POOL + ((uint64_t)(slot) * 2 * USER_PAGES + ((gen) & 1) * USER_PAGES + (i)) * 0x1000)
#define UPTE		(PTE_P | PTE_RW | PTE_US)
#define KPTI_USER_PCID	0x800	/* a KPTI guest's user PCID: kernel PCID | bit 11 */
#define BOOT		(-1)	/* "process" index of the boot root */

struct scenario {
	const char *name, *what;
	struct knobs k;
};

static const struct scenario scenarios[] = {
	{ "create", "8 roots built and loaded once; 4 exit, 4 end with the VM",
	  { .procs = 8, .live = 8, .vcpus = 1, .rounds = 1, .spin = 2000, .nuser = 1,
	    .survivors = 4 } },
	{ "switch", "--live N roots (3: inside KVM's 4-entry root cache with the boot root; 8: beyond), round robin",
	  { .procs = 3, .live = 3, .vcpus = 1, .rounds = 150, .spin = 1000, .nuser = 1 } },
	{ "exit", "100 processes, 4 live, roots never reused",
	  { .procs = 100, .live = 4, .vcpus = 1, .rounds = 2, .spin = 1000, .nuser = 2,
	    .idle = 30 } },
	{ "reuse-lifo", "a freed root is the next process's root at once",
	  { .procs = 100, .live = 3, .vcpus = 1, .rounds = 2, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_LIFO, .idle = 30 } },
	{ "reuse-delayed", "a freed root is reused after 4 other frees",
	  { .procs = 100, .live = 3, .vcpus = 1, .rounds = 2, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_DELAYED, .delay = 4, .idle = 30 } },
	{ "scribble", "every freed root is overwritten with garbage before its reuse",
	  { .procs = 100, .live = 3, .vcpus = 1, .rounds = 2, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_MIXED, .delay = 2, .scribble = 100, .idle = 30 } },
	{ "memslot", "the extra memslot added and removed while processes run on 2 vCPUs",
	  { .procs = 60, .live = 4, .vcpus = 2, .rounds = 4, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_LIFO, .memslot = 3, .idle = 20 } },
	{ "grow", "live processes add and remove top-level entries; roots never reused",
	  { .procs = 60, .live = 3, .vcpus = 1, .rounds = 4, .spin = 1000, .nuser = 1,
	    .grow = 40, .idle = 50 } },
	{ "grow-reuse", "60 processes, 3 live, growth now and then, a freed root reused at once",
	  { .procs = 60, .live = 3, .vcpus = 1, .rounds = 2, .spin = 2000, .nuser = 1,
	    .reuse = REUSE_LIFO, .grow = 50, .idle = 70 } },
	{ "many", "150 processes live at once, round robin",
	  { .procs = 150, .live = 150, .vcpus = 1, .rounds = 3, .spin = 300, .nuser = 1 } },
	{ "crowd", "120 live processes in a shadow MMU of 64 pages: KVM reclaims unloaded roots",
	  { .procs = 120, .live = 120, .vcpus = 1, .rounds = 3, .spin = 300, .nuser = 1,
	    .mmu_pages = 64 } },
	{ "kpti", "KPTI pairs: kernel root K (8 KiB aligned), user root K + 4 KiB, alternating; reuse",
	  { .procs = 80, .live = 4, .vcpus = 1, .rounds = 3, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_MIXED, .delay = 2, .kpti = 1, .idle = 30 } },
	{ "pcid", "PCID per process, NOFLUSH on reloads (skips without PCID)",
	  { .procs = 80, .live = 6, .vcpus = 1, .rounds = 3, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_MIXED, .delay = 2, .pcid = 1, .idle = 30 } },
	{ "smp", "processes on --vcpus N (default 2) vCPUs, migrating between them",
	  { .procs = 100, .live = 6, .vcpus = 2, .rounds = 4, .spin = 1000, .nuser = 1,
	    .reuse = REUSE_MIXED, .delay = 3, .idle = 20, .random = 1 } },
	{ "mix", "2 vCPUs, reuse at once and later, scribbles, memslots, growth, PCID where available, 3 survivors",
	  { .procs = 200, .live = 6, .vcpus = 2, .rounds = 3, .spin = 800, .nuser = 2,
	    .reuse = REUSE_MIXED, .delay = 3, .scribble = 30, .grow = 10, .pcid = 2,
	    .memslot = 25, .idle = 20, .survivors = 3, .random = 1 } },
	{ "switch-micro", "benchmark: 60 processes, 6 live, switching in the kernel; marks only creates and exits",
	  { .procs = 60, .live = 6, .vcpus = 1, .rounds = 40, .spin = 200, .nuser = 1,
	    .reuse = REUSE_LIFO, .marks = MARKS_LIFETIMES } },
};

#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

static const struct scenario *scenario_find(const char *name)
{
	for (size_t i = 0; i < NSCEN; i++)
		if (!strcmp(scenarios[i].name, name))
			return &scenarios[i];
	return NULL;
}

int knobs_default(const char *name, struct knobs *k)
{
	const struct scenario *sc = scenario_find(name);

	if (!sc)
		return -1;
	*k = sc->k;
	k->name = sc->name;
	return 0;
}

void scenarios_print(FILE *out)
{
	for (size_t i = 0; i < NSCEN; i++)
		fprintf(out, "    %-14s %s\n", scenarios[i].name, scenarios[i].what);
}

int knobs_resolve(struct knobs *k, int have_pcid, char *err, size_t errlen)
{
	struct knobs d;

	if (knobs_default(k->name, &d) < 0) {
		snprintf(err, errlen, "unknown scenario \"%s\" (--list shows them)", k->name);
		return -1;
	}
#define TAKE(f) if (k->f < 0) k->f = d.f;
	TAKE(procs) TAKE(live) TAKE(vcpus) TAKE(rounds) TAKE(spin) TAKE(reuse) TAKE(delay)
	TAKE(scribble) TAKE(grow) TAKE(kpti) TAKE(pcid) TAKE(memslot) TAKE(nuser) TAKE(idle)
	TAKE(survivors) TAKE(random) TAKE(marks) TAKE(mmu_pages) TAKE(fault)
#undef TAKE
	k->name = d.name;
	if (k->pcid == 2)
		k->pcid = have_pcid;
	if (!strcmp(k->name, "switch") && k->procs != k->live)
		k->procs = k->live;	/* N roots switched among: all live at once */
	if (k->vcpus < 1 || k->vcpus > MAX_VCPUS) {
		snprintf(err, errlen, "--vcpus must be 1..%d", MAX_VCPUS);
		return -1;
	}
	if (k->procs < 1 || k->live < 1 || k->rounds < 1 || k->survivors > k->procs) {
		snprintf(err, errlen, "need procs >= 1, live >= 1, rounds >= 1, survivors <= procs");
		return -1;
	}
	if (k->nuser < 0 || k->nuser > USER_PAGES - 1) {
		snprintf(err, errlen, "nuser must be 0..%d", USER_PAGES - 1);
		return -1;
	}
	return 0;
}

/* --- the simulation --- */

struct act {
	int v;			/* vCPU, -1: none */
	size_t i;		/* op index on it */
};

static const struct act NO_ACT = { -1, 0 };

struct proc {
	int slot;
	uint32_t gen;
	int quanta;
	int loaded;		/* vCPU that has it loaded, -1 */
	int lastv;		/* vCPU that loaded it last */
	int ever;		/* loaded at least once */
	unsigned seen;		/* vCPUs that loaded it (NOFLUSH from the second time) */
	struct act unload;	/* the load that replaced it on lastv */
	uint16_t pcid;
	int ngrown;
	unsigned writes;	/* SETENTs into its own root while live */
	int survivor, live;
};

struct slot {
	uint32_t gen;
	struct act last;	/* last op that touched its pages */
};

struct gen {
	const struct knobs *k;
	struct script *s;
	uint64_t rng;
	struct proc *p;
	int np;
	struct slot slots[ROOT_SLOTS];
	int nslots;
	int freeq[ROOT_SLOTS];	/* freed slots, oldest first */
	int fhead, ftail;
	int *rq, nrq, rqpos;	/* live processes, creation order */
	int *cand;		/* pick_proc's scratch, as large as rq */
	int cur[MAX_VCPUS];	/* loaded process, BOOT */
	unsigned boot_seen;
	int boot_lastv;
	uint32_t lastmark[MAX_VCPUS];
	size_t synced[MAX_VCPUS][MAX_VCPUS];	/* ops of v2 that v1 has waited for */
	struct act memslot_last;
	int memslot_on;
	int nlive, created, quanta, vnext;
	char *err;
	size_t errlen;
	int failed;
};

static uint64_t rnd(struct gen *g)
{
	/* splitmix64: the same seed gives the same script on every host */
	uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static int roll(struct gen *g, int pct)
{
	return pct > 0 && (int)(rnd(g) % 100) < pct;
}

static void fail(struct gen *g, const char *msg)
{
	if (!g->failed)
		snprintf(g->err, g->errlen, "%s", msg);
	g->failed = 1;
}

/* Like liburing's test helpers: a test tool out of memory just stops. */
static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "asvmm: out of memory\n");
		exit(1);
	}
	return p;
}

static void grow_array(void **p, size_t *cap, size_t want, size_t elem)
{
	size_t n = *cap ? *cap : 64;

	if (want <= *cap)
		return;
	while (n < want)
		n *= 2;
	*p = xrealloc(*p, n * elem);
	*cap = n;
}

static size_t emit(struct gen *g, int v, uint32_t code, uint64_t a, uint64_t b, uint64_t c)
{
	struct oplist *ol = &g->s->ol[v];

	grow_array((void **)&ol->st, &ol->cap, ol->n + 1, sizeof(*ol->st));
	ol->st[ol->n] = (struct step){ .op = { .code = code, .a = a, .b = b, .c = c } };
	return ol->n++;
}

/* vCPU v must not go on before act is done on its vCPU. */
static void dep(struct gen *g, int v, struct act a)
{
	uint32_t *sig;

	if (a.v < 0 || a.v == v || g->synced[v][a.v] > a.i)
		return;
	sig = &g->s->ol[a.v].st[a.i].sig;
	if (!*sig) {
		if (g->s->nflags + 1 >= FLAGS_MAX) {
			fail(g, "too many cross-vCPU dependencies for the flag area");
			return;
		}
		*sig = ++g->s->nflags;
	}
	emit(g, v, OP_WAIT, *sig, 0, 0);
	g->synced[v][a.v] = a.i + 1;
	g->s->c.waits++;
}

/* A mark after op i of vCPU v; returns its id (the truth events name it). */
static uint32_t mark(struct gen *g, int v, size_t i)
{
	uint32_t id = ++g->s->nmarks;

	g->s->ol[v].st[i].op.mark = id;
	return id;
}

/* A ground-truth event at mark mk of vCPU v (mk 0: not time-stamped). */
static struct truth_ev *truth(struct gen *g, int kind, int v, uint32_t mk)
{
	struct script *s = g->s;
	struct truth_ev *e;

	grow_array((void **)&s->ev, &s->evcap, s->nev + 1, sizeof(*s->ev));
	e = &s->ev[s->nev];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->vcpu = v;
	e->mark = mk;
	e->mark_lo = v >= 0 ? g->lastmark[v] : 0;
	e->seq = s->nev++;
	return e;
}

static uint64_t as_of(struct gen *g, int p)
{
	return p == BOOT ? BOOT_ROOT : ROOT_K(g->p[p].slot);
}

static uint32_t gen_of(struct gen *g, int p)
{
	return p == BOOT ? 1 : g->p[p].gen;
}

/* CR3 value for loading process p's kernel root (user: its KPTI user root) on v. */
static uint64_t cr3_of(struct gen *g, int p, int v, int user)
{
	uint64_t cr3 = user ? ROOT_U(g->p[p].slot) : as_of(g, p);
	unsigned seen = p == BOOT ? g->boot_seen : g->p[p].seen;

	if (!g->k->pcid)
		return cr3;
	if (p != BOOT)
		cr3 |= g->p[p].pcid | (user ? KPTI_USER_PCID : 0);
	if (seen & (1u << v))
		cr3 |= CR3_NOFLUSH;	/* this vCPU's TLB for the PCID is still good */
	return cr3;
}

static void switch_to(struct gen *g, int v, int to)
{
	int from = g->cur[v];
	struct truth_ev *e;
	uint32_t mk = 0;
	size_t i;
	int first;

	if (to != BOOT) {
		dep(g, v, g->slots[g->p[to].slot].last);
		dep(g, v, g->p[to].unload);
	}
	i = emit(g, v, OP_LOAD, cr3_of(g, to, v, 0), 0, 0);
	first = to != BOOT && !g->p[to].ever;
	if (g->k->marks == MARKS_ALL || first)
		mk = mark(g, v, i);
	if (first) {
		e = truth(g, TR_CREATE, v, mk);
		e->as = as_of(g, to);
		e->gen = gen_of(g, to);
		g->s->c.creates++;
	}
	e = truth(g, TR_SWITCH, v, mk);
	e->from = as_of(g, from);
	e->from_gen = gen_of(g, from);
	e->as = as_of(g, to);
	e->gen = gen_of(g, to);
	g->s->c.switches++;
	g->s->c.vswitches[v]++;
	if (mk)
		g->lastmark[v] = mk;
	if (from != BOOT) {
		g->p[from].loaded = -1;
		g->p[from].unload = (struct act){ v, i };
	}
	if (to == BOOT) {
		g->boot_seen |= 1u << v;
		g->boot_lastv = v;
	} else {
		g->p[to].loaded = v;
		g->p[to].lastv = v;
		g->p[to].ever = 1;
		g->p[to].seen |= 1u << v;
	}
	g->cur[v] = to;
}

static int slot_alloc(struct gen *g)
{
	int nfree = g->ftail - g->fhead, newest, r = g->k->reuse;

	if (r == REUSE_MIXED)
		r = rnd(g) & 1 ? REUSE_LIFO : REUSE_DELAYED;
	if (r == REUSE_LIFO && nfree > 0) {
		newest = g->freeq[--g->ftail];
		g->s->c.reuses++;
		return newest;
	}
	if (r == REUSE_DELAYED && nfree > g->k->delay) {
		g->s->c.reuses++;
		return g->freeq[g->fhead++];
	}
	if (g->nslots < ROOT_SLOTS)
		return g->nslots++;
	if (nfree > 0) {	/* pool exhausted: reuse the oldest free */
		g->s->c.reuses++;
		return g->freeq[g->fhead++];
	}
	fail(g, "more live processes than root slots");
	return 0;
}

static void slot_free(struct gen *g, int slot)
{
	if (g->fhead > 0 && g->ftail == ROOT_SLOTS) {	/* compact the queue */
		memmove(g->freeq, g->freeq + g->fhead, (g->ftail - g->fhead) * sizeof(int));
		g->ftail -= g->fhead;
		g->fhead = 0;
	}
	g->freeq[g->ftail++] = slot;
}

static int proc_create(struct gen *g, int v)
{
	int pi = g->np++, slot = slot_alloc(g);
	struct proc *p = &g->p[pi];
	size_t i;

	memset(p, 0, sizeof(*p));
	p->slot = slot;
	p->gen = ++g->slots[slot].gen;
	p->quanta = g->k->rounds;
	p->loaded = p->lastv = -1;
	p->unload = NO_ACT;
	p->pcid = 1 + g->created % 0x7ff;	/* below the KPTI user bit */
	p->survivor = g->created >= g->k->procs - g->k->survivors;
	p->live = 1;
	dep(g, v, g->slots[slot].last);
	i = emit(g, v, OP_BUILD, ROOT_K(slot), g->k->nuser, UPAGE(slot, p->gen, 0));
	if (g->k->kpti)
		i = emit(g, v, OP_BUILD, ROOT_U(slot), g->k->nuser, UPAGE(slot, p->gen, 0));
	g->slots[slot].last = (struct act){ v, i };
	g->rq[g->nrq++] = pi;
	g->created++;
	if (++g->nlive > (int)g->s->c.max_live)
		g->s->c.max_live = g->nlive;
	return pi;
}

static int runnable(struct gen *g, int pi, int v)
{
	struct proc *p = &g->p[pi];

	return p->live && p->quanta > 0 && (p->loaded < 0 || p->loaded == v);
}

static int pick_proc(struct gen *g, int v)
{
	int *cand = g->cand, n = 0;

	if (g->nlive < g->k->live && g->created < g->k->procs)
		return proc_create(g, v);
	for (int j = 0; j < g->nrq; j++) {
		int pi = g->rq[(g->rqpos + j) % g->nrq];

		if (!runnable(g, pi, v))
			continue;
		if (!g->k->random) {
			g->rqpos = (g->rqpos + j + 1) % g->nrq;
			return pi;
		}
		cand[n++] = pi;
	}
	return n ? cand[rnd(g) % n] : -1;
}

static void rq_remove(struct gen *g, int pi)
{
	for (int j = 0; j < g->nrq; j++) {
		if (g->rq[j] != pi)
			continue;
		memmove(g->rq + j, g->rq + j + 1, (g->nrq - j - 1) * sizeof(int));
		g->nrq--;
		if (g->rqpos > j)
			g->rqpos--;
		if (g->rqpos >= g->nrq)
			g->rqpos = 0;
		return;
	}
}

/* One to three top-level entries added to (or the newest removed from)
 * p's own root(s) while p is loaded on v: writes into a live, shadowed
 * root, as an mmap or munmap spanning new 512 GiB slots does. */
static void grow_or_shrink(struct gen *g, int v, int pi)
{
	struct proc *p = &g->p[pi];
	int max = USER_PAGES - g->k->nuser, n = 1 + rnd(g) % 3, shrink, idx;
	uint64_t val;
	size_t i = 0;

	dep(g, v, g->slots[p->slot].last);
	shrink = p->ngrown == max || (p->ngrown > 0 && (rnd(g) & 1));
	for (; n > 0 && (shrink ? p->ngrown > 0 : p->ngrown < max); n--) {
		if (shrink) {
			idx = g->k->nuser + --p->ngrown;
			val = 0;
			g->s->c.shrinks++;
		} else {
			idx = g->k->nuser + p->ngrown++;
			val = UPAGE(p->slot, p->gen, idx) | UPTE;
			emit(g, v, OP_ZERO, UPAGE(p->slot, p->gen, idx), 0, 0);
			g->s->c.grows++;
		}
		i = emit(g, v, OP_SETENT, ROOT_K(p->slot), idx, val);
		if (g->k->kpti)
			i = emit(g, v, OP_SETENT, ROOT_U(p->slot), idx, val);
		p->writes++;
	}
	g->slots[p->slot].last = (struct act){ v, i };
}

static void proc_exit(struct gen *g, int v, int pi)
{
	struct proc *p = &g->p[pi];
	struct truth_ev *e;
	uint32_t mk;
	size_t i;

	if (g->cur[v] == pi)
		switch_to(g, v, BOOT);
	dep(g, v, g->slots[p->slot].last);
	dep(g, v, p->unload);
	i = emit(g, v, OP_CLEAR, ROOT_K(p->slot), 0, 0);
	if (g->k->kpti)
		i = emit(g, v, OP_CLEAR, ROOT_U(p->slot), 0, 0);
	mk = mark(g, v, i);
	e = truth(g, TR_EXIT, v, mk);
	e->as = ROOT_K(p->slot);
	e->gen = p->gen;
	e->reason = TR_ZAP;
	e->writes = p->writes;
	g->s->c.exits++;
	g->lastmark[v] = mk;
	if (roll(g, g->k->scribble)) {
		i = emit(g, v, OP_SCRIBBLE, ROOT_K(p->slot), 0, 0);
		if (g->k->kpti)
			i = emit(g, v, OP_SCRIBBLE, ROOT_U(p->slot), 0, 0);
		g->s->c.scribbles++;
	}
	g->slots[p->slot].last = (struct act){ v, i };
	slot_free(g, p->slot);
	p->live = 0;
	rq_remove(g, pi);
	g->nlive--;
}

/* The extra memslot added or removed (a removal zaps every shadow root,
 * loaded or not: not an exit, but a time the test must know). */
static void memslot_toggle(struct gen *g, int v)
{
	struct truth_ev *e;
	uint32_t mk;
	size_t i;

	dep(g, v, g->memslot_last);
	g->memslot_on ^= 1;
	i = emit(g, v, OP_MEMSLOT, g->memslot_on, 0, 0);
	mk = mark(g, v, i);
	e = truth(g, TR_MEMSLOT, v, mk);
	e->reason = g->memslot_on ? TR_ADD : TR_REMOVE;
	g->lastmark[v] = mk;
	if (g->memslot_on)
		g->s->c.memslot_adds++;
	else
		g->s->c.memslot_removes++;
	g->memslot_last = (struct act){ v, i };
}

static void quantum(struct gen *g, int v, int pi)
{
	struct proc *p = &g->p[pi];

	if (g->cur[v] != pi)
		switch_to(g, v, pi);
	if (g->k->kpti)		/* return to user mode: the user root */
		emit(g, v, OP_LOAD, cr3_of(g, pi, v, 1), 0, 0);
	emit(g, v, OP_SPIN, g->k->spin, 0, 0);
	if (g->k->kpti)		/* back in the kernel: the kernel root */
		emit(g, v, OP_LOAD, cr3_of(g, pi, v, 0), 0, 0);
	if (roll(g, g->k->grow))
		grow_or_shrink(g, v, pi);
	if (g->k->memslot && ++g->quanta % g->k->memslot == 0)
		memslot_toggle(g, v);
	if (--p->quanta == 0 && !p->survivor)
		proc_exit(g, v, pi);
	else if (roll(g, g->k->idle))
		switch_to(g, v, BOOT);
}

static int pick_vcpu(struct gen *g)
{
	int v;

	if (g->k->vcpus == 1)
		return 0;
	if (g->k->random)
		return rnd(g) % g->k->vcpus;
	v = g->vnext;
	g->vnext = (v + 1) % g->k->vcpus;
	return v;
}

static int work_left(struct gen *g)
{
	if (g->created < g->k->procs)
		return 1;
	for (int j = 0; j < g->nrq; j++)
		if (g->p[g->rq[j]].quanta > 0)
			return 1;
	return 0;
}

static void start_vcpus(struct gen *g)
{
	struct truth_ev *e;

	for (int v = 0; v < g->k->vcpus; v++) {
		uint32_t mk = mark(g, v, emit(g, v, OP_NOP, 0, 0, 0));

		if (v == 0) {		/* vCPU 0 runs first: the VMM starts the others after its mark */
			e = truth(g, TR_CREATE, v, mk);
			e->as = BOOT_ROOT;
			e->gen = 1;
			g->s->c.creates++;
		}
		e = truth(g, TR_SWITCH, v, mk);
		e->as = BOOT_ROOT;
		e->gen = 1;
		g->s->c.switches++;
		g->s->c.vswitches[v]++;
		g->lastmark[v] = mk;
		g->cur[v] = BOOT;
		g->boot_seen |= 1u << v;
	}
	if (g->k->fault == FAULT_BADOP)
		emit(g, 0, OP_MAX + 1, 0, 0, 0);
	else if (g->k->fault == FAULT_HANG)
		emit(g, 0, OP_SPIN, 1ull << 40, 0, 0);
	else if (g->k->fault)
		emit(g, 0, OP_FAULT, g->k->fault, 0, 0);
}

/* Survivors and the boot root end with the VM. */
static void end_vm(struct gen *g)
{
	struct truth_ev *e;

	for (int j = 0; j < g->nrq; j++) {
		struct proc *p = &g->p[g->rq[j]];

		e = truth(g, TR_EXIT, p->lastv, 0);
		e->as = ROOT_K(p->slot);
		e->gen = p->gen;
		e->reason = TR_VM;
		e->writes = p->writes;
		g->s->c.exits_vm++;
	}
	e = truth(g, TR_EXIT, g->boot_lastv, 0);
	e->as = BOOT_ROOT;
	e->gen = 1;
	e->reason = TR_VM;
	g->s->c.exits_vm++;
	/* the VM outlives its last exits a little, as VMs do: about 20 ms
	 * (emulated), longer than the agent takes to re-read an unshadowed root */
	for (int v = 0; v < g->k->vcpus; v++) {
		emit(g, v, OP_SPIN, TAIL_SPIN, 0, 0);
		emit(g, v, OP_END, 0, 0, 0);
	}
}

int script_build(const struct knobs *k, struct script *s, char *err, size_t errlen)
{
	struct gen *g = calloc(1, sizeof(*g));
	long guard;
	int ret = -1;

	memset(s, 0, sizeof(*s));
	s->k = *k;
	if (!g)
		goto nomem;
	g->k = &s->k;
	g->s = s;
	g->err = err;
	g->errlen = errlen;
	g->rng = k->seed;
	g->memslot_last = NO_ACT;
	for (int j = 0; j < ROOT_SLOTS; j++)
		g->slots[j].last = NO_ACT;
	g->p = calloc(k->procs, sizeof(*g->p));
	g->rq = calloc(k->procs, sizeof(*g->rq));
	g->cand = calloc(k->procs, sizeof(*g->cand));
	if (!g->p || !g->rq || !g->cand)
		goto nomem;
	start_vcpus(g);
	/* bounded: every turn of a vCPU that finds nothing to run is followed
	 * by one that does (the process holding it runs on its own vCPU) */
	guard = 16L * (k->procs + 1) * (k->rounds + 1) * k->vcpus + 1000;
	while (work_left(g) && !g->failed && guard-- > 0) {
		int v = pick_vcpu(g), pi = pick_proc(g, v);

		if (pi >= 0)
			quantum(g, v, pi);
		else if (g->cur[v] != BOOT)
			switch_to(g, v, BOOT);
	}
	if (guard <= 0)
		fail(g, "scenario does not terminate (internal error)");
	end_vm(g);
	ret = g->failed ? -1 : 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	if (g) {
		free(g->p);
		free(g->rq);
		free(g->cand);
	}
	free(g);
	if (ret < 0)
		script_free(s);
	return ret;
}

void script_free(struct script *s)
{
	for (int v = 0; v < MAX_VCPUS; v++)
		free(s->ol[v].st);
	free(s->ev);
	memset(s->ol, 0, sizeof(s->ol));
	s->ev = NULL;
	s->nev = 0;
}

struct as_op *script_ops(const struct script *s, int v, size_t *n)
{
	const struct oplist *ol = &s->ol[v];
	size_t m = ol->n;
	struct as_op *out;

	for (size_t i = 0; i < ol->n; i++)
		m += ol->st[i].sig != 0;
	out = calloc(m ? m : 1, sizeof(*out));
	if (!out)
		return NULL;
	m = 0;
	for (size_t i = 0; i < ol->n; i++) {
		out[m++] = ol->st[i].op;
		if (ol->st[i].sig)
			out[m++] = (struct as_op){ .code = OP_SIGNAL, .a = ol->st[i].sig };
	}
	*n = m;
	return out;
}
