/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Anticipatory scheduling; the rules are described in sched_as.h. */
#include <stdlib.h>
#include <string.h>
#include "sched_as.h"
#include "sched_elv.h"

#define NBUCKETS 256
#define WAIT ((struct af_sched_req *)1)
#define RQ_SEEK 1	/* af_sched_req.flags: did not continue the last dispatch */

/* Decaying mean, weight 7/8 per sample, in 1/256 steps so early samples
 * are not pulled towards zero: w climbs towards 256, mean = total / w. */
struct ewma {
	uint64_t total, w;
	uint32_t n;
};

static void ewma_add(struct ewma *a, uint64_t x)
{
	/* rounded up so that w reaches 256 (rounding down stalls at 249
	 * and biases the mean by 3 %) */
	a->w = (7 * a->w + 256 + 7) / 8;
	a->total = (7 * a->total + 256 * x) / 8;
	a->n++;
}

static uint64_t ewma_mean(const struct ewma *a)
{
	return a->w ? a->total / a->w : 0;
}

struct as_key {
	uint64_t key;
	int is_queue, used;
	struct as_key *hnext;
	uint64_t last_done;		/* 0 = no completion yet */
	uint64_t last_pos;
	int pos_valid, exited;
	struct ewma tt, seek;
	uint32_t seek_hist;
	uint32_t queued, inflight;
	uint64_t last_active;
	uint64_t requests, antic, hits, coop, misses, breaks;
};

enum outcome { O_HIT, O_COOP, O_MISS, O_BREAK };

struct as {
	struct elv e;
	struct af_sched_conf conf;
	const char *name;
	int by_queue;
	struct as_key pool[AS_MAX_KEYS];
	struct as_key *bucket[NBUCKETS];
	struct as_key overflow;		/* when every slot is busy */
	/* anticipation in progress */
	struct as_key *ak;
	uint64_t ak_start;
	int waiting;
	struct as_key *run_key;
	uint32_t run;
	uint64_t expiry_grace;		/* no expiry break before this time */
	struct af_sched_req *expired_rq;	/* in flight because it expired */
	/* in flight as a close request while anticipating coop_owner: the
	 * stream is coop_owner's (a cooperating process, or a request the
	 * hints mis-attributed), so its run and next anticipation are too */
	struct af_sched_req *coop_rq;
	struct as_key *coop_owner;
	/* device */
	uint32_t inflight;
	uint64_t last_complete;
	struct ewma svc, seek_svc;	/* all completions; those that moved the head */
	int antic_on;
	int fast;			/* measured fast: arrival order, O(1) */
	/* priors: first samples of each key */
	struct ewma new_tt, new_seek;
	uint64_t antic, hits, coop, misses, breaks, evictions;
};

static unsigned hash_key(uint64_t key, int is_queue)
{
	return (unsigned)(((key ^ (uint64_t)is_queue << 63) *
			   0x9e3779b97f4a7c15ull) >> 56) % NBUCKETS;
}

static int req_is_queue(const struct as *s, const struct af_sched_req *r)
{
	return s->by_queue || r->proc == AF_PROC_UNKNOWN;
}

static uint64_t req_key(const struct as *s, const struct af_sched_req *r)
{
	return req_is_queue(s, r) ? r->queue : r->proc;
}

static struct as_key *key_find(struct as *s, uint64_t key, int is_queue)
{
	for (struct as_key *k = s->bucket[hash_key(key, is_queue)]; k;
	     k = k->hnext)
		if (k->key == key && k->is_queue == is_queue)
			return k;
	return NULL;
}

static void key_unhash(struct as *s, struct as_key *k)
{
	struct as_key **pp = &s->bucket[hash_key(k->key, k->is_queue)];

	while (*pp != k)
		pp = &(*pp)->hnext;
	*pp = k->hnext;
}

/* A free slot, else the longest-idle key with nothing queued or in flight. */
static struct as_key *key_slot(struct as *s)
{
	struct as_key *victim = NULL;

	for (int i = 0; i < AS_MAX_KEYS; i++) {
		struct as_key *k = &s->pool[i];

		if (!k->used)
			return k;
		if (!k->queued && !k->inflight && k != s->ak &&
		    (!victim || k->last_active < victim->last_active))
			victim = k;
	}
	if (victim) {
		key_unhash(s, victim);
		if (s->run_key == victim)
			s->run_key = NULL;
		s->evictions++;
	}
	return victim;
}

static struct as_key *key_get(struct as *s, const struct af_sched_req *r)
{
	int is_queue = req_is_queue(s, r);
	uint64_t key = req_key(s, r);
	struct as_key *k = key_find(s, key, is_queue);
	unsigned h;

	if (k && !k->exited)
		return k;
	if (k && (k->queued || k->inflight))
		return k;	/* late requests of an exited process */
	if (k) {
		/* the key was reused by a new process: start afresh */
		key_unhash(s, k);
	} else {
		k = key_slot(s);
		if (!k)
			return &s->overflow;
	}
	memset(k, 0, sizeof(*k));
	k->key = key;
	k->is_queue = is_queue;
	k->used = 1;
	h = hash_key(key, is_queue);
	k->hnext = s->bucket[h];
	s->bucket[h] = k;
	return k;
}

static struct as_key *key_of(struct as *s, const struct af_sched_req *r)
{
	struct as_key *k = key_find(s, req_key(s, r), req_is_queue(s, r));

	return k ? k : &s->overflow;
}

static uint64_t think_ns(const struct as *s, const struct as_key *k)
{
	if (k->tt.n >= AS_PRIOR_SAMPLES)
		return ewma_mean(&k->tt);
	return ewma_mean(&s->new_tt);
}

static int is_seeky(const struct as *s, const struct as_key *k)
{
	uint32_t n = k->seek.n < 32 ? k->seek.n : 32;
	uint32_t hist = n < 32 ? k->seek_hist & ((1u << n) - 1) : k->seek_hist;

	if (n < AS_PRIOR_SAMPLES)
		return ewma_mean(&s->new_seek) > AS_SEEK_THR;
	return (uint32_t)__builtin_popcount(hist) * 32 > AS_SEEKY_PER_32 * n;
}

static void update_stats(struct as *s, struct as_key *k,
			 const struct af_sched_req *r, uint64_t now)
{
	if (!k->queued && !k->inflight && k->last_done) {
		uint64_t tt = now > k->last_done ? now - k->last_done : 0;

		if (tt > AS_TT_CAP * s->conf.time_scale)
			tt = AS_TT_CAP * s->conf.time_scale;
		if (!k->tt.n)
			ewma_add(&s->new_tt, tt);
		ewma_add(&k->tt, tt);
	}
	if (k->pos_valid) {
		uint64_t d = r->sector > k->last_pos ? r->sector - k->last_pos
						     : k->last_pos - r->sector;

		if (d > 1ull << 40)
			d = 1ull << 40;
		if (!k->seek.n)
			ewma_add(&s->new_seek, d);
		ewma_add(&k->seek, d);
		k->seek_hist = k->seek_hist << 1 | (d > AS_SEEK_THR);
	}
	k->last_pos = r->sector + r->nsect;
	k->pos_valid = 1;
}

static void *as_create_mode(const struct af_sched_conf *conf, const char *name,
			    int by_queue)
{
	struct as *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	elv_init(&s->e, conf);
	s->conf = *conf;
	if (!s->conf.time_scale)
		s->conf.time_scale = 1;
	s->name = name;
	s->by_queue = by_queue;
	s->overflow.used = 1;
	return s;
}

static void *as_create(const struct af_sched_conf *conf)
{
	return as_create_mode(conf, "anticipatory", 0);
}

static void *oracle_create(const struct af_sched_conf *conf)
{
	return as_create_mode(conf, "oracle", 0);
}

static void *ipq_create(const struct af_sched_conf *conf)
{
	return as_create_mode(conf, "idle-per-queue", 1);
}

static void as_destroy(void *s)
{
	free(s);
}

static void as_add(void *p, struct af_sched_req *r, uint64_t now)
{
	struct as *s = p;
	struct as_key *k = key_get(s, r);

	if (elv_dir(r) == ELV_READ)
		update_stats(s, k, r, now);
	k->queued++;
	k->requests++;
	k->last_active = now;
	elv_add(&s->e, r, now);
}

static void end_antic(struct as *s, enum outcome o)
{
	struct as_key *k = s->ak;

	if (s->waiting && k) {
		uint64_t *kc[] = { &k->hits, &k->coop, &k->misses, &k->breaks };
		uint64_t *sc[] = { &s->hits, &s->coop, &s->misses, &s->breaks };

		(*kc[o])++;
		(*sc[o])++;
	}
	s->ak = NULL;
	s->waiting = 0;
}

static int req_of(const struct as *s, const struct af_sched_req *r,
		  const struct as_key *k)
{
	return req_is_queue(s, r) == k->is_queue && req_key(s, r) == k->key;
}

/* The key's cheapest queued request (read or write). */
static struct af_sched_req *own_request(struct as *s, const struct as_key *k)
{
	struct af_sched_req *best = NULL;
	uint64_t best_cost = UINT64_MAX;

	for (int d = ELV_READ; d <= ELV_WRITE; d++)
		for (struct af_sched_req *r = s->e.l[d].head; r; r = r->next) {
			uint64_t c = elv_cost(&s->e, r);

			if (req_of(s, r, k) && c < best_cost) {
				best = r;
				best_cost = c;
			}
		}
	return best;
}

/* A read of another key near the head: as good as the one we wait for. */
static struct af_sched_req *close_request(struct as *s, const struct as_key *k)
{
	uint64_t thr = ewma_mean(&k->seek);
	struct af_sched_req *best = NULL;

	if (thr < AS_CLOSE_THR)
		thr = AS_CLOSE_THR;
	for (struct af_sched_req *r = s->e.l[ELV_READ].head; r; r = r->next) {
		uint64_t d = r->sector > s->e.head_pos
				     ? r->sector - s->e.head_pos
				     : s->e.head_pos - r->sector;

		if (d <= thr && !req_of(s, r, k) &&
		    (!best || elv_cost(&s->e, r) < elv_cost(&s->e, best)))
			best = r;
	}
	return best;
}

/* The oldest read (else write) of another key: the turn it is owed. */
static struct af_sched_req *oldest_other(struct as *s, const struct as_key *k)
{
	for (int d = ELV_READ; d <= ELV_WRITE; d++)
		for (struct af_sched_req *r = s->e.l[d].head; r; r = r->next)
			if (!req_of(s, r, k))
				return r;
	return NULL;
}

static int worth_waiting(const struct as *s, const struct as_key *k)
{
	return s->antic_on && !k->exited && k != &s->overflow &&
	       think_ns(s, k) <= s->conf.antic_window_ns && !is_seeky(s, k);
}

/* With an anticipation in progress: the request to dispatch, NULL to let
 * the elevator choose, or WAIT. */
static struct af_sched_req *antic_decide(struct as *s, uint64_t now,
					 uint64_t *wake_ns)
{
	struct as_key *k = s->ak;
	uint64_t until = s->ak_start + s->conf.antic_window_ns, dl;
	struct af_sched_req *r;

	/* an expired request ends the anticipation; its process then gets a
	 * window of its own before the next expiry may break in, else with
	 * many readers every dispatch becomes a seek to the next expired one */
	r = now >= s->expiry_grace ? elv_expired(&s->e, now) : NULL;
	if (r) {
		s->e.expired_dispatch++;
		s->expired_rq = r;
		end_antic(s, O_BREAK);
		return r;
	}
	if (s->conf.max_antic && s->run_key == k && s->run >= s->conf.max_antic) {
		r = oldest_other(s, k);
		if (r) {
			end_antic(s, O_BREAK);
			return r;
		}
	}
	r = own_request(s, k);
	if (r) {
		end_antic(s, O_HIT);
		return r;
	}
	r = close_request(s, k);
	if (r) {
		/* the stream goes on under another key (a cooperating process,
		 * or a mis-attributed request): so does its run */
		end_antic(s, O_COOP);
		s->coop_rq = r;
		s->coop_owner = k;
		return r;
	}
	if (now >= until) {
		end_antic(s, O_MISS);
		return NULL;
	}
	if (!worth_waiting(s, k)) {
		end_antic(s, O_BREAK);
		return NULL;
	}
	if (!s->waiting) {
		s->waiting = 1;
		k->antic++;
		s->antic++;
	}
	dl = elv_next_deadline(&s->e);
	if (dl < s->expiry_grace)
		dl = s->expiry_grace;
	*wake_ns = dl < until ? dl : until;
	return WAIT;
}

static struct af_sched_req *dispatch(struct as *s, struct af_sched_req *r,
				     uint64_t now)
{
	struct as_key *k = key_of(s, r);
	struct as_key *stream = r == s->coop_rq ? s->coop_owner : k;

	r->flags = r->sector != s->e.head_pos ? RQ_SEEK : 0;
	elv_take(&s->e, r);
	s->inflight++;
	if (k->queued)
		k->queued--;
	k->inflight++;
	r->t_dispatch = now;	/* the backend sets it too; we need it in done() */
	if (elv_dir(r) != ELV_OTHER) {
		if (s->run_key == stream) {
			s->run++;
		} else {
			s->run_key = stream;
			s->run = 1;
		}
	}
	return r;
}

static struct af_sched_req *as_next(void *p, uint64_t now, uint64_t *wake_ns)
{
	struct as *s = p;
	struct af_sched_req *r;

	if (s->conf.max_inflight && s->inflight >= s->conf.max_inflight)
		return NULL;
	if (elv_empty(&s->e))
		return NULL;
	if (s->e.l[ELV_OTHER].head)
		return dispatch(s, s->e.l[ELV_OTHER].head, now);
	if (s->ak) {
		r = antic_decide(s, now, wake_ns);
		if (r == WAIT)
			return NULL;
		if (r)
			return dispatch(s, r, now);
	}
	/* on a fast device sorting by sector buys nothing (the "none" of
	 * NVMe); arrival order keeps the stage at O(1) per request */
	if (s->fast)
		return dispatch(s, elv_oldest(&s->e), now);
	return dispatch(s, elv_choose(&s->e, now), now);
}

static void update_service(struct as *s, const struct af_sched_req *r,
			   uint64_t now)
{
	/* busy time per completion: with several in flight, the device
	 * worked on this one only since the previous completion */
	uint64_t start = r->t_dispatch > s->last_complete ? r->t_dispatch
							  : s->last_complete;

	uint64_t svc = now > start ? now - start : 0;
	const struct ewma *gate;

	ewma_add(&s->svc, svc);
	if (r->flags & RQ_SEEK)
		ewma_add(&s->seek_svc, svc);
	s->last_complete = now;
	/* a disk whose sequential reads are quick but whose seeks are slow is
	 * where anticipation pays (4 KiB reads of a 7200 rpm disk take 63 us
	 * once positioned): judge by the requests that moved the head once
	 * there are enough of them */
	gate = s->seek_svc.n >= AS_SVC_MIN_SAMPLES ? &s->seek_svc : &s->svc;
	s->fast = s->conf.antic_window_ns && s->svc.n >= AS_SVC_MIN_SAMPLES &&
		  ewma_mean(gate) < s->conf.antic_window_ns / 8;
	s->antic_on = s->conf.antic_window_ns &&
		      s->svc.n >= AS_SVC_MIN_SAMPLES && !s->fast;
}

static void as_done(void *p, struct af_sched_req *r, uint64_t now)
{
	struct as *s = p;
	struct as_key *k = key_of(s, r);

	if (s->inflight)
		s->inflight--;
	if (k->inflight)
		k->inflight--;
	if (elv_dir(r) == ELV_OTHER)
		return;
	update_service(s, r, now);
	k->last_active = now;
	if (r == s->expired_rq) {
		s->expired_rq = NULL;
		s->expiry_grace = now + s->conf.antic_window_ns;
	}
	if (elv_dir(r) != ELV_READ)
		return;
	k->last_done = now;
	if (r == s->coop_rq) {
		k = s->coop_owner;
		s->coop_rq = NULL;
	}
	if (s->antic_on && !s->inflight && k != &s->overflow) {
		end_antic(s, O_BREAK);	/* a previous one, if any, is over */
		s->ak = k;
		s->ak_start = now;
	}
}

static void as_exit(void *p, uint64_t proc, uint64_t now)
{
	struct as *s = p;
	struct as_key *k = key_find(s, proc, 0);

	if (k)
		k->exited = 1;
}

static void key_json(const struct as *s, const struct as_key *k, FILE *out)
{
	fprintf(out, "{\"%s\":\"0x%llx\",\"think_us\":%llu,\"seek_mean\":%llu,"
		"\"seeky\":%s,\"requests\":%llu,\"antic\":%llu,\"hits\":%llu,"
		"\"coop\":%llu,\"misses\":%llu,\"breaks\":%llu,\"exited\":%s}",
		k->is_queue ? "queue" : "proc", (unsigned long long)k->key,
		(unsigned long long)think_ns(s, k) / 1000,
		(unsigned long long)ewma_mean(&k->seek),
		is_seeky(s, k) ? "true" : "false",
		(unsigned long long)k->requests, (unsigned long long)k->antic,
		(unsigned long long)k->hits, (unsigned long long)k->coop,
		(unsigned long long)k->misses, (unsigned long long)k->breaks,
		k->exited ? "true" : "false");
}

static void as_stats(void *p, FILE *out)
{
	struct as *s = p;
	const char *sep = "";

	fprintf(out, "{\"scheduler\":\"%s\",\"antic_enabled\":%s,"
		"\"service_mean_us\":%llu,\"seek_service_mean_us\":%llu,\"window_us\":%llu,"
		"\"time_scale\":%u,", s->name, s->antic_on ? "true" : "false",
		(unsigned long long)ewma_mean(&s->svc) / 1000,
		(unsigned long long)ewma_mean(&s->seek_svc) / 1000,
		(unsigned long long)s->conf.antic_window_ns / 1000, s->conf.time_scale);
	elv_stats(&s->e, out);
	fprintf(out, ",\"antic\":%llu,\"hits\":%llu,\"coop\":%llu,"
		"\"misses\":%llu,\"breaks\":%llu,\"evictions\":%llu,\"keys\":[",
		(unsigned long long)s->antic, (unsigned long long)s->hits,
		(unsigned long long)s->coop, (unsigned long long)s->misses,
		(unsigned long long)s->breaks,
		(unsigned long long)s->evictions);
	for (int i = 0; i < AS_MAX_KEYS; i++) {
		if (!s->pool[i].used)
			continue;
		fputs(sep, out);
		key_json(s, &s->pool[i], out);
		sep = ",";
	}
	fputs("]}", out);
}

int as_key_stats(void *p, uint64_t key, int queue_key, struct as_key_stats *st)
{
	struct as *s = p;
	struct as_key *k = key_find(s, key, !!queue_key);

	if (!k)
		return -1;
	*st = (struct as_key_stats){
		.think_ns = think_ns(s, k),
		.seek_mean = ewma_mean(&k->seek),
		.seek_hist = k->seek_hist,
		.think_samples = k->tt.n,
		.seek_samples = k->seek.n,
		.seeky = is_seeky(s, k),
		.exited = k->exited,
		.requests = k->requests,
		.antic = k->antic,
		.hits = k->hits,
		.coop = k->coop,
		.misses = k->misses,
		.breaks = k->breaks,
	};
	return 0;
}

int as_antic_enabled(void *p)
{
	return ((struct as *)p)->antic_on;
}

/* Tags matter only to anticipation keyed by process: on a device found
 * fast, waiting for them would only add latency. */
static int as_wants_tags(void *p)
{
	struct as *s = p;

	return !s->by_queue && !s->fast;
}

#define AS_OPS(ident, nm, create_fn)				\
	const struct af_sched_ops ident = {			\
		.name = nm,					\
		.device_wide = 1,				\
		.create = create_fn,				\
		.destroy = as_destroy,				\
		.add = as_add,					\
		.next = as_next,				\
		.done = as_done,				\
		.proc_exit = as_exit,				\
		.stats_json = as_stats,				\
		.wants_tags = as_wants_tags,			\
	}

AS_OPS(af_sched_anticipatory_ops, "anticipatory", as_create);
AS_OPS(af_sched_oracle_ops, "oracle", oracle_create);
AS_OPS(af_sched_ipq_ops, "idle-per-queue", ipq_create);
