// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Process tags: which guest process the requests a worker takes from a
 * queue belong to.  The kick comes straight from KVM's ioeventfd, the
 * NOTIFY hint through the agent and may come later, so kicks are matched
 * to hints by time, and the doorbell address is learned per queue
 * (blk/README.md, "Process tags").  Runs in the queue's worker; the hint
 * history is shared with the main thread under vub_hints.mu.
 */
#include <unistd.h>
#include "dev.h"
#include "hints.h"
#include "tags.h"

uint64_t tags_proc(struct vub_dev *d, struct vub_queue *q, const struct blk_req *r)
{
	if (d->oracle_ioprio)
		return r->io.hdr.ioprio;
	q->batch_n++;
	return q->batch_proc;
}

/* A line per request, so that a test or bench can join the tags with the
 * guest's own record of who asked (the test guest's AF DISK lines). */
void tags_log(struct vub_dev *d, const struct vub_queue *q, const struct blk_req *r,
	      uint64_t now)
{
	static const char *const how[] = { "none", "exact", "late", "latest", "oracle" };

	if (!d->tag_log)
		return;
	fprintf(d->tag_log, "{\"t\":%llu,\"q\":%u,\"op\":%u,\"sector\":%llu,\"n\":%u,"
		"\"ioprio\":%u,\"proc\":\"0x%llx\",\"how\":\"%s\"}\n", (unsigned long long)now,
		q->index, r->sr.op, (unsigned long long)r->sr.sector, r->sr.nsect,
		(unsigned)r->io.hdr.ioprio, (unsigned long long)r->sr.proc,
		how[d->oracle_ioprio ? TAG_ORACLE : q->batch_how]);
}

void tags_kick(struct vub_queue *q, uint64_t now)
{
	/* the doorbell writes this read collected happened in
	 * (previous kick read, now]; see hint_pick */
	if (!q->kick_unresolved)
		q->win_lo = q->kick_ts;
	q->win_hi = q->kick_ts = now;
	q->kick_unresolved = true;
}

/*
 * Doorbell learning from one resolved kick window: an address that is the
 * only one in the window scores a hit (N hits in a row: the doorbell); a
 * window with hints but none from the candidate contradicts it.
 */
static void learn(struct vub_qhints *qh, unsigned naddr, uint64_t addr, bool cand_seen,
		  bool *told)
{
	if (naddr == 1 && qh->cand_hits && addr == qh->cand_addr) {
		qh->cand_hits++;
	} else if (naddr == 1) {
		qh->cand_addr = addr;
		qh->cand_hits = 1;
	} else if (!cand_seen) {
		qh->cand_hits = 0;
	}
	if (qh->cand_hits >= VUB_HINT_LEARN) {
		qh->learned = true;
		qh->db_addr = qh->cand_addr;
		qh->learnings++;
		*told = true;
	}
}

/*
 * The notifier of the kicks in (win_lo, win_hi]: the latest hint with
 * ts <= win_hi, provided one falls inside the window (each kick means a
 * doorbell write in it).  False when that hint has not arrived yet.
 * Caller holds h->mu.
 */
static bool hint_resolve(struct vub_qhints *qh, struct vub_queue *q, uint64_t *proc,
			 bool *learned)
{
	uint64_t first = qh->n > VUB_HINT_HIST ? qh->n - VUB_HINT_HIST : 0, addr = 0;
	const struct vub_hint_ent *best = NULL;
	unsigned naddr = 0;
	bool inside = false, cand_seen = false;

	for (uint64_t k = first; k < qh->n; k++) {
		const struct vub_hint_ent *e = &qh->ring[k % VUB_HINT_HIST];

		if (e->ts > q->win_hi || (qh->learned && e->addr != qh->db_addr))
			continue;
		if (!best || e->ts >= best->ts)
			best = e;
		if (e->ts <= q->win_lo)
			continue;
		inside = true;
		cand_seen |= qh->cand_hits && e->addr == qh->cand_addr;
		if (!naddr) {
			addr = e->addr;
			naddr = 1;
		} else if (e->addr != addr) {
			naddr = 2;
		}
	}
	if (!inside)
		return false;
	*proc = best->proc;
	if (!qh->learned)
		learn(qh, naddr, addr, cand_seen, learned);
	return true;
}

/*
 * Chooses the tag of the requests process_avail is about to take; true
 * when they must wait for the hint of the kick that announced them.
 * Caller holds h->mu.
 */
static bool hint_pick(struct vub_worker *w, struct vub_qhints *qh, struct vub_queue *q,
		      bool may_hold, uint64_t *wake)
{
	struct vub_hints *h = w->dev->hints;
	uint64_t now, one = 1;
	bool learned = false;

	q->batch_proc = hints_latest(h, q->index);
	q->batch_how = q->batch_proc == AF_PROC_UNKNOWN ? TAG_NONE : TAG_LATEST;
	if (!q->kick_unresolved)
		return false;	/* no kick (EVENT_IDX, polling): the latest hint */
	if (!__atomic_load_n(&h->live, __ATOMIC_RELAXED) || !qh->n) {
		/* no agent, or it never saw this queue (yet: a reset may come
		 * while holding) */
		q->kick_unresolved = q->holding = false;
		return false;
	}
	if (hint_resolve(qh, q, &q->batch_proc, &learned)) {
		qh->exact++;
		q->batch_how = TAG_EXACT;
		/* the main thread tells the agent (hints_announce) */
		if (learned && write(h->learn_efd, &one, sizeof(one)) < 0)
			log_warn("hints: learn eventfd");
	} else {
		now = af_now_ns();
		if (!may_hold) {
			/* the scheduler does not use tags now: no wait */
			qh->unheld++;
			q->kick_unresolved = q->holding = false;
			return false;
		}
		if (!q->holding)
			q->hold_until = q->win_hi + w->dev->hint_wait_ns;
		if (now < q->hold_until) {
			qh->held += !q->holding;
			q->holding = true;
			*wake = q->hold_until;
			return true;
		}
		qh->late++;
		q->batch_how = TAG_LATE;
	}
	q->kick_unresolved = false;
	q->holding = false;
	return false;
}

bool tags_take_begin(struct vub_worker *w, struct vub_queue *q, uint64_t *wake)
{
	struct vub_dev *d = w->dev;
	struct vub_hints *h = d->hints;
	void *s = d->sched_ops->device_wide ? w->sched : q->sched;
	bool may_hold = d->sched_ops->wants_tags && d->sched_ops->wants_tags(s);
	struct vub_qhints *qh;
	bool hold;

	q->batch_n = 0;
	if (!h || !h->q || d->oracle_ioprio)
		return true;
	qh = &h->q[q->index];
	pthread_mutex_lock(&h->mu);
	hold = hint_pick(w, qh, q, may_hold, wake);
	qh->waiting = hold;
	pthread_mutex_unlock(&h->mu);
	return !hold;
}

void tags_take_end(struct vub_worker *w, struct vub_queue *q)
{
	struct vub_hints *h = w->dev->hints;

	if (!h || !h->q || !q->batch_n)
		return;
	pthread_mutex_lock(&h->mu);
	hints_count_proc(h, q->batch_proc, q->batch_n);
	if (!h->q[q->index].learned)
		h->q[q->index].unlearned += q->batch_n;
	pthread_mutex_unlock(&h->mu);
}
