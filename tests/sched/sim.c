/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The discrete-event scheduler simulator (see sim.h). */
#include <stdlib.h>
#include <string.h>
#include "sim.h"
#include "../../blk/hdd.h"

#define T0 1000000000ull	/* simulated clock starts at 1 s: 0 means "none" */
#define NONE UINT64_MAX
#define MAX_QUEUES 64
#define MAX_DEV_DEPTH 64

struct sreq {
	struct af_sched_req r;
	int proc;
	int wrong_tag;
	struct sreq *lnext, *lprev;	/* every live request, to free at the end */
};

struct pstate {
	uint64_t next_issue;	/* NONE while blocked */
	uint64_t pos;
	uint32_t outstanding;
	int exited;
};

struct sim {
	const struct sim_conf *c;
	struct sim_result *res;
	void *sched[MAX_QUEUES];
	int ninst, rr;
	struct pstate ps[SIM_MAX_PROCS];
	struct hdd_model hdd;
	struct sreq *dev[MAX_DEV_DEPTH];
	uint64_t dev_done[MAX_DEV_DEPTH];
	uint32_t dev_n, depth;
	uint64_t wake;
	uint64_t rng;
	uint64_t *lat;
	size_t nlat, caplat;
	uint64_t tagged, right;
	struct sreq *live;
};

uint64_t sim_proc_key(int i)
{
	return 0x10000000ull + 0x1000ull * (uint64_t)(i + 1);
}

static uint64_t rnd(struct sim *m)
{
	/* xorshift64*: small, seeded, identical on every machine */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 0x2545f4914f6cdd1dull;
}

void sim_conf_init(struct sim_conf *c, const struct af_sched_ops *ops)
{
	memset(c, 0, sizeof(*c));
	c->ops = ops;
	af_sched_conf_defaults(&c->sc);
	c->device = SIM_HDD;
	c->dev_depth = 1;
	c->capacity = hdd_default_params.drive_sectors;
	c->duration_ns = 10000000000ull;
	c->seed = 1;
}

void sim_add_readers(struct sim_conf *c, int n, int pattern, int per_queue)
{
	uint64_t span = c->reader_span ? c->reader_span : c->capacity;

	for (int i = 0; i < n && c->nprocs < SIM_MAX_PROCS; i++) {
		struct sim_proc *p = &c->procs[c->nprocs];

		*p = (struct sim_proc){
			.pattern = pattern,
			.start = span / n * i,
			.len = span / n,
			.nsect = pattern == SIM_SEQ ? 128 : 8,
			.think_ns = 100000,
			.depth = 1,
			.queue = per_queue ? c->nprocs : 0,
		};
		c->nprocs++;
	}
}

static void *inst_for(struct sim *m, uint16_t queue)
{
	return m->ninst == 1 ? m->sched[0] : m->sched[queue % m->ninst];
}

static uint64_t pick_sector(struct sim *m, int i)
{
	const struct sim_proc *p = &m->c->procs[i];
	uint64_t slots, s;

	if (p->pattern == SIM_SEQ) {
		s = p->start + m->ps[i].pos;
		m->ps[i].pos += p->nsect;
		if (m->ps[i].pos + p->nsect > p->len)
			m->ps[i].pos = 0;
		return s;
	}
	slots = p->len / p->nsect;
	return p->start + rnd(m) % (slots ? slots : 1) * p->nsect;
}

static uint64_t pick_tag(struct sim *m, int i, int *wrong)
{
	*wrong = 0;
	if (m->c->no_hints)
		return AF_PROC_UNKNOWN;
	m->tagged++;
	if (m->c->misattr > 0 &&
	    (double)(rnd(m) % 1000000) < m->c->misattr * 1e6) {
		/* a wrong process: another one of the run, else an unknown key */
		int j = m->c->nprocs > 1 ? (int)(rnd(m) % (m->c->nprocs - 1)) : 0;

		*wrong = 1;
		if (m->c->nprocs < 2)
			return sim_proc_key(SIM_MAX_PROCS);
		return sim_proc_key(j >= i ? j + 1 : j);
	}
	m->right++;
	return sim_proc_key(i);
}

static int issue(struct sim *m, int i, uint64_t now)
{
	const struct sim_proc *p = &m->c->procs[i];
	struct sreq *q = calloc(1, sizeof(*q));

	if (!q)
		return -1;
	q->proc = i;
	q->r.sector = pick_sector(m, i);
	q->r.nsect = p->nsect;
	q->r.op = p->write ? AF_OP_WRITE : AF_OP_READ;
	q->r.queue = p->queue;
	q->r.proc = pick_tag(m, i, &q->wrong_tag);
	q->r.t_arrive = now;
	q->r.priv = q;
	q->lnext = m->live;
	if (m->live)
		m->live->lprev = q;
	m->live = q;
	m->c->ops->add(inst_for(m, p->queue), &q->r, now);
	m->ps[i].outstanding++;
	m->ps[i].next_issue = m->ps[i].outstanding < p->depth ? now : NONE;
	return 0;
}

static void start_service(struct sim *m, struct sreq *q, uint64_t now)
{
	uint64_t svc = m->c->device == SIM_HDD
		? hdd_service_ns(&m->hdd, q->r.sector, q->r.nsect,
				 q->r.op == AF_OP_WRITE)
		: m->c->fixed_ns;
	uint64_t wait = now - q->r.t_arrive;
	int i = q->proc;

	q->r.t_dispatch = now;
	if (m->c->on_dispatch)
		m->c->on_dispatch(i, now, m->c->arg);
	if (wait > m->res->max_wait_ns[i])
		m->res->max_wait_ns[i] = wait;
	if (q->r.op == AF_OP_WRITE) {
		if (wait > m->res->max_wait_write_ns)
			m->res->max_wait_write_ns = wait;
	} else if (wait > m->res->max_wait_read_ns) {
		m->res->max_wait_read_ns = wait;
	}
	m->dev[m->dev_n] = q;
	m->dev_done[m->dev_n] = now + svc;
	m->dev_n++;
}

static struct af_sched_req *next_from(struct sim *m, uint64_t now)
{
	for (int k = 0; k < m->ninst; k++) {
		int qi = (m->rr + k) % m->ninst;
		uint64_t wake = 0;
		struct af_sched_req *r = m->c->ops->next(m->sched[qi], now, &wake);

		if (wake > now && wake < m->wake)
			m->wake = wake;
		if (r) {
			m->rr = qi + 1;	/* round robin over per-queue instances */
			return r;
		}
	}
	return NULL;
}

static void dispatch(struct sim *m, uint64_t now)
{
	struct af_sched_req *r;

	m->wake = NONE;
	while (m->dev_n < m->depth && (r = next_from(m, now)))
		start_service(m, r->priv, now);
}

static int record_latency(struct sim *m, uint64_t lat)
{
	if (m->nlat == m->caplat) {
		size_t n = m->caplat ? 2 * m->caplat : 4096;
		uint64_t *p = realloc(m->lat, n * sizeof(*p));

		if (!p)
			return -1;
		m->lat = p;
		m->caplat = n;
	}
	m->lat[m->nlat++] = lat;
	return 0;
}

static void free_req(struct sim *m, struct sreq *q)
{
	if (q->lprev)
		q->lprev->lnext = q->lnext;
	else
		m->live = q->lnext;
	if (q->lnext)
		q->lnext->lprev = q->lprev;
	free(q);
}

static int complete(struct sim *m, int slot, uint64_t now)
{
	struct sreq *q = m->dev[slot];
	const struct sim_proc *p = &m->c->procs[q->proc];
	struct pstate *ps = &m->ps[q->proc];
	int err;

	m->dev[slot] = m->dev[m->dev_n - 1];
	m->dev_done[slot] = m->dev_done[m->dev_n - 1];
	m->dev_n--;
	m->c->ops->done(inst_for(m, q->r.queue), &q->r, now);
	m->res->bytes[q->proc] += (uint64_t)q->r.nsect * 512;
	m->res->requests++;
	err = record_latency(m, now - q->r.t_arrive);
	ps->outstanding--;
	if (!ps->exited && ps->next_issue == NONE)
		ps->next_issue = now + p->think_ns;
	free_req(m, q);
	return err;
}

static uint64_t next_event(const struct sim *m)
{
	uint64_t t = m->wake;

	for (uint32_t k = 0; k < m->dev_n; k++)
		if (m->dev_done[k] < t)
			t = m->dev_done[k];
	for (int i = 0; i < m->c->nprocs; i++) {
		const struct sim_proc *p = &m->c->procs[i];

		if (m->ps[i].next_issue < t)
			t = m->ps[i].next_issue;
		if (p->exit_ns && !m->ps[i].exited && T0 + p->exit_ns < t)
			t = T0 + p->exit_ns;
	}
	return t;
}

static void do_exits(struct sim *m, uint64_t now)
{
	for (int i = 0; i < m->c->nprocs; i++) {
		const struct sim_proc *p = &m->c->procs[i];

		if (!p->exit_ns || m->ps[i].exited || T0 + p->exit_ns > now)
			continue;
		m->ps[i].exited = 1;
		m->ps[i].next_issue = NONE;
		for (int k = 0; k < m->ninst; k++)
			m->c->ops->proc_exit(m->sched[k], sim_proc_key(i), now);
	}
}

static int step(struct sim *m, uint64_t now)
{
	for (uint32_t k = 0; k < m->dev_n;)
		if (m->dev_done[k] == now) {
			if (complete(m, k, now))
				return -1;
		} else {
			k++;
		}
	do_exits(m, now);
	for (int i = 0; i < m->c->nprocs; i++)
		while (m->ps[i].next_issue == now)
			if (issue(m, i, now))
				return -1;
	dispatch(m, now);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void summarise(struct sim *m, uint64_t elapsed)
{
	struct sim_result *res = m->res;
	uint64_t total = 0, lo = NONE, hi = 0;

	for (int i = 0; i < m->c->nprocs; i++) {
		total += res->bytes[i];
		if (m->c->procs[i].unfair)
			continue;
		if (res->bytes[i] < lo)
			lo = res->bytes[i];
		if (res->bytes[i] > hi)
			hi = res->bytes[i];
	}
	res->mbps = (double)total / 1e6 / ((double)elapsed / 1e9);
	res->fairness = hi ? (double)lo / (double)hi : 0;
	res->attribution_pct = m->tagged ? 100.0 * m->right / m->tagged : 0;
	if (m->nlat) {
		qsort(m->lat, m->nlat, sizeof(*m->lat), cmp_u64);
		res->p99_ms = m->lat[(m->nlat - 1) * 99 / 100] / 1e6;
	}
}

static int sim_setup(struct sim *m, const struct sim_conf *c)
{
	uint16_t maxq = 0;

	m->depth = c->device == SIM_HDD ? 1 : c->dev_depth;
	if (!c->ops || c->nprocs < 1 || c->nprocs > SIM_MAX_PROCS ||
	    !m->depth || m->depth > MAX_DEV_DEPTH)
		return -1;
	if (c->device == SIM_HDD &&
	    hdd_init(&m->hdd, &hdd_default_params, c->capacity))
		return -1;
	for (int i = 0; i < c->nprocs; i++) {
		const struct sim_proc *p = &c->procs[i];

		if (!p->depth || !p->nsect || p->len < p->nsect ||
		    p->start + p->len > c->capacity || p->queue >= MAX_QUEUES)
			return -1;
		if (p->queue > maxq)
			maxq = p->queue;
		m->ps[i].next_issue = T0;
	}
	m->ninst = c->ops->device_wide ? 1 : maxq + 1;
	for (int k = 0; k < m->ninst; k++) {
		struct af_sched_conf sc = c->sc;

		sc.nqueues = maxq + 1;
		m->sched[k] = c->ops->create(&sc);
		if (!m->sched[k])
			return -1;
	}
	return 0;
}

int sim_run(const struct sim_conf *c, struct sim_result *res)
{
	struct sim m = { .c = c, .res = res, .wake = NONE };
	uint64_t now = T0, end = T0 + c->duration_ns;
	int err = -1;

	memset(res, 0, sizeof(*res));
	m.rng = c->seed ? c->seed : 1;
	if (sim_setup(&m, c))
		goto cleanup;
	while ((now = next_event(&m)) <= end)
		if (step(&m, now))
			goto cleanup;
	summarise(&m, c->duration_ns);
	if (c->inspect)
		c->inspect(c->ops, m.sched[0], c->arg);
	err = 0;
cleanup:
	/* requests still queued or in service die with the simulation */
	while (m.live)
		free_req(&m, m.live);
	for (int k = 0; k < m.ninst; k++)
		if (m.sched[k])
			c->ops->destroy(m.sched[k]);
	free(m.lat);
	return err;
}
