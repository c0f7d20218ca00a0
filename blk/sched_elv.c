/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The elevator core and the deadline scheduler built on it alone. */
#include <stdlib.h>
#include "sched_elv.h"

void elv_init(struct elv *e, const struct af_sched_conf *conf)
{
	*e = (struct elv){ 0 };
	e->expire[ELV_READ] = conf->read_expire_ns;
	e->expire[ELV_WRITE] = conf->write_expire_ns;
}

int elv_dir(const struct af_sched_req *r)
{
	switch (r->op) {
	case AF_OP_READ:
		return ELV_READ;
	case AF_OP_WRITE:
	case AF_OP_DISCARD:
	case AF_OP_WRITE_ZEROES:
		return ELV_WRITE;
	default:
		/* no position (flush, get-id): cheap, and nothing to sort */
		return ELV_OTHER;
	}
}

int elv_empty(const struct elv *e)
{
	return !e->l[0].count && !e->l[1].count && !e->l[2].count;
}

void elv_add(struct elv *e, struct af_sched_req *r, uint64_t now)
{
	int d = elv_dir(r);
	struct elv_list *l = &e->l[d];

	r->deadline = d == ELV_OTHER ? now : now + e->expire[d];
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->count++;
}

void elv_take(struct elv *e, struct af_sched_req *r)
{
	int d = elv_dir(r);
	struct elv_list *l = &e->l[d];

	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->next = r->prev = NULL;
	l->count--;
	e->dispatched[d]++;
	if (d == ELV_OTHER)
		return;
	e->head_pos = r->sector + r->nsect;
	/* a request taken out of turn (expired, anticipated) starts a batch
	 * in its direction: an expired write brings its neighbours along */
	if (d != e->dir)
		e->batch_left = ELV_FIFO_BATCH - 1;
	else if (e->batch_left)
		e->batch_left--;
	e->dir = d;
}

uint64_t elv_cost(const struct elv *e, const struct af_sched_req *r)
{
	uint64_t back;

	if (r->sector >= e->head_pos)
		return r->sector - e->head_pos;
	back = e->head_pos - r->sector;
	if (back > ELV_MAX_BACK)
		return UINT64_MAX / 2 + back;	/* last resort: wrap around */
	return back * ELV_BACK_PENALTY;
}

/* Nearest request at or after the head (the batch's next in sector order). */
static struct af_sched_req *forward_next(const struct elv *e, int d)
{
	struct af_sched_req *best = NULL;

	for (struct af_sched_req *r = e->l[d].head; r; r = r->next)
		if (r->sector >= e->head_pos &&
		    (!best || r->sector < best->sector))
			best = r;
	return best;
}

static int pick_dir(struct elv *e)
{
	int reads = e->l[ELV_READ].count, writes = e->l[ELV_WRITE].count;

	if (reads && (!writes || e->starved < ELV_WRITES_STARVED)) {
		if (writes)
			e->starved++;
		return ELV_READ;
	}
	e->starved = 0;
	return ELV_WRITE;
}

struct af_sched_req *elv_choose(struct elv *e, uint64_t now)
{
	struct af_sched_req *r;
	int d;

	if (e->l[ELV_OTHER].head)
		return e->l[ELV_OTHER].head;
	if (!e->l[ELV_READ].count && !e->l[ELV_WRITE].count)
		return NULL;
	if (e->batch_left && e->l[e->dir].count) {
		r = forward_next(e, e->dir);
		if (r)
			return r;
	}
	/* a new batch: from the oldest request if it expired or nothing lies
	 * ahead of the head, else onwards in sector order (mq-deadline) */
	d = pick_dir(e);
	e->dir = d;
	e->batch_left = ELV_FIFO_BATCH;
	r = e->l[d].head;
	if (r->deadline <= now) {
		e->expired_dispatch++;
		return r;
	}
	return forward_next(e, d) ?: r;
}

struct af_sched_req *elv_oldest(const struct elv *e)
{
	struct af_sched_req *best = NULL;

	for (int d = 0; d < ELV_NDIR; d++) {
		struct af_sched_req *r = e->l[d].head;

		if (r && (!best || r->t_arrive < best->t_arrive))
			best = r;
	}
	return best;
}

struct af_sched_req *elv_expired(const struct elv *e, uint64_t now)
{
	struct af_sched_req *r = e->l[ELV_READ].head;
	struct af_sched_req *w = e->l[ELV_WRITE].head;

	if (r && r->deadline <= now && (!w || r->deadline <= w->deadline))
		return r;
	if (w && w->deadline <= now)
		return w;
	return NULL;
}

uint64_t elv_next_deadline(const struct elv *e)
{
	uint64_t t = UINT64_MAX;

	for (int d = ELV_READ; d <= ELV_WRITE; d++)
		if (e->l[d].head && e->l[d].head->deadline < t)
			t = e->l[d].head->deadline;
	return t;
}

void elv_stats(const struct elv *e, FILE *out)
{
	fprintf(out, "\"queued\":%u,\"dispatched_read\":%llu,"
		"\"dispatched_write\":%llu,\"dispatched_other\":%llu,"
		"\"expired_dispatch\":%llu",
		e->l[0].count + e->l[1].count + e->l[2].count,
		(unsigned long long)e->dispatched[ELV_READ],
		(unsigned long long)e->dispatched[ELV_WRITE],
		(unsigned long long)e->dispatched[ELV_OTHER],
		(unsigned long long)e->expired_dispatch);
}

/* ---- deadline: the elevator alone, never idles ---- */

struct dl {
	struct elv e;
	uint32_t max_inflight, inflight;
};

static void *dl_create(const struct af_sched_conf *conf)
{
	struct dl *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	elv_init(&s->e, conf);
	s->max_inflight = conf->max_inflight;
	return s;
}

static void dl_destroy(void *s)
{
	free(s);
}

static void dl_add(void *s, struct af_sched_req *r, uint64_t now)
{
	elv_add(&((struct dl *)s)->e, r, now);
}

static struct af_sched_req *dl_next(void *p, uint64_t now, uint64_t *wake_ns)
{
	struct dl *s = p;
	struct af_sched_req *r;

	if (s->max_inflight && s->inflight >= s->max_inflight)
		return NULL;
	r = elv_choose(&s->e, now);
	if (!r)
		return NULL;
	elv_take(&s->e, r);
	s->inflight++;
	return r;
}

static void dl_done(void *p, struct af_sched_req *r, uint64_t now)
{
	struct dl *s = p;

	if (s->inflight)
		s->inflight--;
}

static void dl_exit(void *s, uint64_t proc, uint64_t now)
{
}

static void dl_stats(void *p, FILE *out)
{
	struct dl *s = p;

	fputs("{\"scheduler\":\"deadline\",", out);
	elv_stats(&s->e, out);
	fputc('}', out);
}

const struct af_sched_ops af_sched_deadline_ops = {
	.name = "deadline",
	.device_wide = 1,
	.create = dl_create,
	.destroy = dl_destroy,
	.add = dl_add,
	.next = dl_next,
	.done = dl_done,
	.proc_exit = dl_exit,
	.stats_json = dl_stats,
};
