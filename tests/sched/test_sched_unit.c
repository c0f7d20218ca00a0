/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unit tests of the schedulers (blk/sched*.c) and the HDD model
 * (blk/hdd.c), driven call by call with explicit times: each rule of the
 * elevator and of anticipation, the statistics, and bad input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../blk/sched.h"
#include "../../blk/sched_as.h"
#include "../../blk/hdd.h"
#include "tests/lib/check.h"

#define MS 1000000ull
#define US 1000ull
#define P1 0x1000ull
#define P2 0x2000ull
#define P3 0x3000ull
#define FAR (100ull << 30)	/* sectors: another region entirely */



/* ---- a scheduler under test, driven by hand ---- */

#define NREQ 64

struct h {
	const struct af_sched_ops *ops;
	void *s;
	struct af_sched_req rq[NREQ];
	int n;
	uint64_t now;
	uint64_t pos;			/* next sequential sector of the warm-up */
};

static int h_init(struct h *h, const char *name, const struct af_sched_conf *conf)
{
	struct af_sched_conf def;

	memset(h, 0, sizeof(*h));
	if (!conf) {
		af_sched_conf_defaults(&def);
		conf = &def;
	}
	h->ops = af_sched_find(name);
	h->s = h->ops ? h->ops->create(conf) : NULL;
	h->now = 1000 * MS;
	return h->s ? 0 : -1;
}

static void h_free(struct h *h)
{
	if (h->s)
		h->ops->destroy(h->s);
}

static struct af_sched_req *h_add(struct h *h, uint64_t proc, uint16_t queue,
				  uint64_t sector, int op)
{
	struct af_sched_req *r = &h->rq[h->n++ % NREQ];

	memset(r, 0, sizeof(*r));
	r->sector = sector;
	r->nsect = 128;
	r->op = op;
	r->queue = queue;
	r->proc = proc;
	r->t_arrive = h->now;
	h->ops->add(h->s, r, h->now);
	return r;
}

static struct af_sched_req *h_next(struct h *h, uint64_t *wake)
{
	uint64_t w = 0;
	struct af_sched_req *r = h->ops->next(h->s, h->now, &w);

	if (wake)
		*wake = w;
	return r;
}

/* One synchronous read of proc: arrives, is dispatched at once (nothing
 * else queued), takes svc; then think time passes. */
static int h_read(struct h *h, uint64_t proc, uint16_t q, uint64_t sector,
		  uint64_t svc, uint64_t think)
{
	struct af_sched_req *r = h_add(h, proc, q, sector, AF_OP_READ);

	if (h_next(h, NULL) != r)
		return -1;
	h->now += svc;
	h->ops->done(h->s, r, h->now);
	h->now += think;
	return 0;
}

/* Sequential reads on a slow device: turns anticipation on and leaves
 * proc the process just completed (the anticipation candidate), with
 * h->now right at its completion. */
static int h_warm(struct h *h, uint64_t proc, uint16_t q, int n, uint64_t think)
{
	for (int i = 0; i < n; i++) {
		if (h_read(h, proc, q, h->pos, 5 * MS, i < n - 1 ? think : 0))
			return -1;
		h->pos += 128;
	}
	return 0;
}

/* The common start of the anticipation cases: P1 has just completed a
 * read on a slow device and P2's far request arrives: the scheduler must
 * wait (return NULL) with *wake set.  Returns P2's request, NULL if not. */
static struct af_sched_req *h_wait(struct h *h, const struct af_sched_conf *conf,
				   uint64_t proc2, uint64_t *wake)
{
	struct af_sched_req *other;

	if (h_init(h, "anticipatory", conf) || h_warm(h, P1, 0, 10, 100 * US))
		return NULL;
	other = h_add(h, proc2, 0, FAR, AF_OP_READ);
	return h_next(h, wake) ? NULL : other;
}

/* ---- registry, fifo, deadline ---- */

static void t_registry(void)
{
	static const char *const names[] = { "fifo", "deadline",
		"idle-per-queue", "anticipatory", "oracle" };
	struct h h;

	check_case = "registry";
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		if (!CHECK(!h_init(&h, names[i], NULL), "%s", names[i]))
			return;
		CHECK(!strcmp(h.ops->name, names[i]), "%s", h.ops->name);
		CHECK(h.ops->proc_exit && h.ops->stats_json, "%s", names[i]);
		h_free(&h);
	}
	CHECK(!af_sched_find("nope") && !af_sched_find(""), "unknown name found");
}

static void t_fifo(void)
{
	struct h h;
	struct af_sched_req *a, *b, *c;

	check_case = "fifo-order";
	if (!CHECK(!h_init(&h, "fifo", NULL), "create"))
		return;
	a = h_add(&h, P1, 0, 500, AF_OP_READ);
	b = h_add(&h, P2, 0, 100, AF_OP_WRITE);
	c = h_add(&h, P3, 0, 300, AF_OP_READ);
	CHECK(h_next(&h, NULL) == a && h_next(&h, NULL) == b &&
	      h_next(&h, NULL) == c && !h_next(&h, NULL), "not in arrival order");
	h_free(&h);
}

static void t_deadline_sorted(void)
{
	struct h h;
	struct af_sched_req *a, *b, *c, *f;

	check_case = "deadline-sector-order";
	if (!CHECK(!h_init(&h, "deadline", NULL), "create"))
		return;
	a = h_add(&h, P1, 0, 3000, AF_OP_READ);
	b = h_add(&h, P2, 0, 1000, AF_OP_READ);
	c = h_add(&h, P3, 0, 2000, AF_OP_READ);
	f = h_add(&h, P3, 0, 0, AF_OP_FLUSH);
	CHECK(h_next(&h, NULL) == f, "flush (no position) not first");
	CHECK(h_next(&h, NULL) == b && h_next(&h, NULL) == c &&
	      h_next(&h, NULL) == a, "reads not in sector order");
	h_free(&h);
}

static void t_deadline_expired(void)
{
	struct h h;
	struct af_sched_req *old, *near, *r;

	check_case = "deadline-expired-first";
	if (!CHECK(!h_init(&h, "deadline", NULL), "create"))
		return;
	old = h_add(&h, P1, 0, 10, AF_OP_READ);
	r = h_add(&h, P2, 0, 1000, AF_OP_READ);
	CHECK(h_next(&h, NULL) == old && h_next(&h, NULL) == r,
	      "not in sector order");
	/* a batch (16) in flight: deadlines wait for its end, like mq-deadline */
	old = h_add(&h, P1, 0, 20, AF_OP_READ);	/* behind the head */
	h.now += 200 * MS;			/* past read_expire */
	near = h_add(&h, P2, 0, 2000, AF_OP_READ);	/* ahead, fresh */
	CHECK(h_next(&h, NULL) == near, "batch broken early");
	for (int i = 0; i < 13; i++) {
		r = h_add(&h, P2, 0, 3000 + 200 * i, AF_OP_READ);
		CHECK(h_next(&h, NULL) == r, "batch order at %d", i);
	}
	h_add(&h, P2, 0, 9000, AF_OP_READ);
	CHECK(h_next(&h, NULL) == old, "expired read not first in the next batch");
	h_free(&h);
}

static void t_deadline_writes(void)
{
	struct h h;
	struct af_sched_req *w;
	int n = 0;

	check_case = "deadline-writes-not-starved";
	if (!CHECK(!h_init(&h, "deadline", NULL), "create"))
		return;
	w = h_add(&h, P2, 0, 5, AF_OP_WRITE);
	for (int i = 0; i < 60; i++)
		h_add(&h, P1, 0, 1000 + 128 * i, AF_OP_READ);
	while (h_next(&h, NULL) != w)
		if (!CHECK(++n <= 60, "write never dispatched"))
			return;
	/* two read batches of 16, then the writes' turn */
	CHECK(n == 32, "write after %d reads, expected 32", n);
	h_free(&h);
}

/* ---- HDD model ---- */

static void t_hdd_curve(void)
{
	struct hdd_model m;
	uint64_t cap = hdd_default_params.drive_sectors, prev = 0;

	check_case = "hdd-seek-curve";
	if (!CHECK(!hdd_init(&m, &hdd_default_params, cap), "init"))
		return;
	CHECK(hdd_seek_ns(&m, 0, 0) == 0, "zero distance must cost nothing");
	CHECK(hdd_seek_ns(&m, m.track_sectors, 0) == 1 * MS,
	      "single track %llu", (unsigned long long)hdd_seek_ns(&m, m.track_sectors, 0));
	CHECK(llabs((long long)hdd_seek_ns(&m, cap, 0) - 20 * (long long)MS) < 1000,
	      "full stroke read %llu", (unsigned long long)hdd_seek_ns(&m, cap, 0));
	CHECK(llabs((long long)hdd_seek_ns(&m, cap, 1) - 22 * (long long)MS) < 1000,
	      "full stroke write %llu", (unsigned long long)hdd_seek_ns(&m, cap, 1));
	for (int w = 0; w < 2; w++)
		CHECK(fabs(hdd_mean_seek_ns(&m, w) - 12e6) < 12e6 * 0.01,
		      "weighted mean seek %.0f ns, datasheet 12 ms",
		      hdd_mean_seek_ns(&m, w));
	for (int i = 1; i <= 1000; i++) {
		uint64_t s = hdd_seek_ns(&m, cap / 1000 * i, 0);

		CHECK(s >= prev, "seek not monotonic at %d/1000", i);
		prev = s;
	}
}

static void t_hdd_service(void)
{
	struct hdd_model m;
	uint64_t cap = hdd_default_params.drive_sectors, xfer, far, rot;

	check_case = "hdd-service";
	if (!CHECK(!hdd_init(&m, &hdd_default_params, cap), "init"))
		return;
	rot = 60ull * 1000000000ull / 7200;
	hdd_service_ns(&m, 0, 128, 0);
	xfer = hdd_service_ns(&m, 128, 128, 0);	/* sequential continuation */
	CHECK(llabs((long long)xfer - 128 * 512 * 1000000ll / 64800) < 2000,
	      "sequential 64 KiB took %llu ns", (unsigned long long)xfer);
	far = hdd_service_ns(&m, cap / 2, 128, 0);
	CHECK(far > hdd_seek_ns(&m, cap / 2, 0) + rot / 2 &&
	      far < hdd_seek_ns(&m, cap / 2, 0) + rot / 2 + 3 * xfer,
	      "far read %llu ns", (unsigned long long)far);
	/* short forward skip on the same track: rotation only */
	CHECK(hdd_service_ns(&m, cap / 2 + 128 + 64, 8, 0) < rot, "skip too slow");
	/* out of range: clamped, finite */
	CHECK(hdd_service_ns(&m, UINT64_MAX - 5, 4096, 1) < 100 * MS, "clamp");
	CHECK(hdd_service_ns(&m, cap - 1, 0, 0) < 100 * MS, "empty request");
}

static void t_hdd_delay(void)
{
	struct hdd_model m, ref;
	uint64_t a, b, c, now = 5000 * MS;

	check_case = "hdd-delay-one-head";
	if (!CHECK(!hdd_init(&m, &hdd_default_params, 1ull << 30), "init"))
		return;
	ref = m;
	a = hdd_delay_ns(&m, now, 1 << 20, 128, 0);
	b = hdd_delay_ns(&m, now, 1 << 29, 128, 0);	/* queued behind a */
	CHECK(a == hdd_service_ns(&ref, 1 << 20, 128, 0) &&
	      b == a + hdd_service_ns(&ref, 1 << 29, 128, 0),
	      "a %llu b %llu", (unsigned long long)a, (unsigned long long)b);
	c = hdd_delay_ns(&m, now + b + 50 * MS, (1 << 29) + 128, 128, 0);
	CHECK(c == hdd_service_ns(&ref, (1 << 29) + 128, 128, 0),
	      "idle head: c %llu", (unsigned long long)c);
}

static void t_hdd_bad_params(void)
{
	struct hdd_model m;
	struct hdd_params p = hdd_default_params;

	check_case = "hdd-bad-params";
	p.rpm = 0;
	CHECK(hdd_init(&m, &p, 1000000) == -1, "rpm 0 accepted");
	p = hdd_default_params;
	p.seek_avg_ns[0] = p.seek_full_ns[0] + 1;
	CHECK(hdd_init(&m, &p, 1000000) == -1, "avg > full accepted");
	p = hdd_default_params;
	p.rate_inner_kbs = 0;
	CHECK(hdd_init(&m, &p, 1000000) == -1, "rate 0 accepted");
	CHECK(hdd_init(&m, &hdd_default_params, 0) == -1, "empty disk accepted");
	p = hdd_default_params;
	p.drive_sectors = 0;
	CHECK(hdd_init(&m, &p, 2048) == -1, "disk of two tracks accepted");
}

/* ---- anticipation: statistics ---- */

static void t_think_time(void)
{
	struct h h;
	struct as_key_stats st;

	check_case = "think-time-mean";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	if (!CHECK(!h_warm(&h, P1, 0, 40, 2 * MS), "warm"))
		return;
	if (!CHECK(!as_key_stats(h.s, P1, 0, &st), "no state"))
		return;
	CHECK(st.think_samples == 39, "samples %u", st.think_samples);
	CHECK(llabs((long long)st.think_ns - 2 * (long long)MS) < 20 * (long long)US,
	      "mean %llu ns, expected 2 ms", (unsigned long long)st.think_ns);
	/* decays towards a new think time, capped at AS_TT_CAP */
	if (!CHECK(!h_warm(&h, P1, 0, 40, 100 * MS), "warm"))
		return;
	as_key_stats(h.s, P1, 0, &st);
	CHECK(st.think_ns > 19 * MS && st.think_ns <= AS_TT_CAP,
	      "capped mean %llu ns", (unsigned long long)st.think_ns);
	h_free(&h);
}

static void t_seek_stats(void)
{
	struct h h;
	struct as_key_stats st;

	check_case = "seek-distance-and-history";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	if (!CHECK(!h_warm(&h, P1, 0, 40, 100 * US), "warm"))
		return;
	as_key_stats(h.s, P1, 0, &st);
	CHECK(st.seek_mean == 0 && st.seek_hist == 0 && !st.seeky,
	      "sequential: mean %llu hist %x", (unsigned long long)st.seek_mean,
	      st.seek_hist);
	for (int i = 0; i < 40; i++)
		if (!CHECK(!h_read(&h, P2, 0, (uint64_t)(i % 2) * FAR + i * 4096,
			      5 * MS, 100 * US), "read"))
			return;
	as_key_stats(h.s, P2, 0, &st);
	CHECK(st.seeky && st.seek_hist == 0xffffffffu && st.seek_mean > FAR / 2,
	      "random: seeky %d hist %x mean %llu", st.seeky, st.seek_hist,
	      (unsigned long long)st.seek_mean);
	h_free(&h);
}

static void t_priors(void)
{
	struct h h;
	struct as_key_stats st;

	check_case = "priors-for-new-processes";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	/* earlier processes were all seeky from their first request */
	for (uint64_t p = 1; p <= 4; p++)
		for (int i = 0; i < 6; i++)
			if (!CHECK(!h_read(&h, p << 12, 0, (i % 2) * FAR + p * 999, 5 * MS,
				      3 * MS), "read"))
				return;
	if (!CHECK(!h_read(&h, P3 << 8, 0, 7, 5 * MS, 0), "read"))
		return;
	as_key_stats(h.s, P3 << 8, 0, &st);
	CHECK(st.seek_samples == 0 && st.seeky, "new process not seeky by prior");
	CHECK(llabs((long long)st.think_ns - 3 * (long long)MS) < 100 * (long long)US,
	      "think prior %llu", (unsigned long long)st.think_ns);
	h_free(&h);
}

/* ---- anticipation: each way a wait starts and ends ---- */

static void t_wait_and_hit(void)
{
	struct h h;
	struct af_sched_req *other, *own;
	struct as_key_stats st;
	uint64_t wake, t0;

	check_case = "antic-own-request-hit";
	other = h_wait(&h, NULL, P2, &wake);
	if (!CHECK(other, "did not wait for P1"))
		return;
	CHECK(as_antic_enabled(h.s), "anticipation off on a 5 ms device");
	t0 = h.now;
	CHECK(wake == t0 + 6 * MS, "wake %llu, expected window end",
	      (unsigned long long)(wake - t0));
	h.now += 100 * US;
	own = h_add(&h, P1, 0, h.pos, AF_OP_READ);
	CHECK(h_next(&h, NULL) == own, "P1's request not dispatched");
	as_key_stats(h.s, P1, 0, &st);
	CHECK(st.antic == 1 && st.hits == 1, "antic %llu hits %llu",
	      (unsigned long long)st.antic, (unsigned long long)st.hits);
	h.now += 5 * MS;
	h.ops->done(h.s, own, h.now);
	h_free(&h);
}

static void t_close_coop(void)
{
	struct h h;
	struct af_sched_req *close;
	struct as_key_stats st;

	check_case = "antic-close-request-coop";
	if (!CHECK(h_wait(&h, NULL, P3, NULL), "did not wait"))
		return;
	close = h_add(&h, P2, 0, h.pos + 256, AF_OP_READ);
	CHECK(h_next(&h, NULL) == close, "close request not taken");
	as_key_stats(h.s, P1, 0, &st);
	CHECK(st.coop == 1 && st.misses == 0, "coop %llu",
	      (unsigned long long)st.coop);
	h_free(&h);
}

static void t_exit_hint(void)
{
	struct h h;
	struct af_sched_req *other;
	struct as_key_stats st;
	uint64_t wake;

	check_case = "antic-exit-hint";
	other = h_wait(&h, NULL, P2, &wake);
	if (!CHECK(other, "did not wait"))
		return;
	h.now += 50 * US;
	h.ops->proc_exit(h.s, P1, h.now);
	CHECK(h_next(&h, &wake) == other, "still waiting after the exit hint");
	as_key_stats(h.s, P1, 0, &st);
	CHECK(st.exited && st.breaks == 1, "exited %d breaks %llu", st.exited,
	      (unsigned long long)st.breaks);
	h_free(&h);
}

static void t_window_miss(void)
{
	struct h h;
	struct af_sched_req *other;
	struct as_key_stats st;
	uint64_t wake;

	check_case = "antic-window-timeout";
	other = h_wait(&h, NULL, P2, &wake);
	if (!CHECK(other, "did not wait"))
		return;
	h.now = wake - 1;
	CHECK(!h_next(&h, &wake), "stopped before the window ended");
	h.now = wake;
	CHECK(h_next(&h, NULL) == other, "still waiting after the window");
	as_key_stats(h.s, P1, 0, &st);
	CHECK(st.misses == 1 && st.hits == 0, "misses %llu",
	      (unsigned long long)st.misses);
	h_free(&h);
}

static void t_deadline_break(void)
{
	struct af_sched_conf conf;
	struct h h;
	struct af_sched_req *other;
	uint64_t wake, t0;

	check_case = "antic-deadline-break";
	af_sched_conf_defaults(&conf);
	conf.read_expire_ns = 2 * MS;	/* shorter than the 6 ms window */
	other = h_wait(&h, &conf, P2, &wake);
	if (!CHECK(other, "did not wait"))
		return;
	t0 = h.now;
	CHECK(wake == t0 + 2 * MS, "wake at %llu ns, expected the deadline",
	      (unsigned long long)(wake - t0));
	h.now = wake;
	CHECK(h_next(&h, NULL) == other, "expired request still waits");
	h_free(&h);
}

static void t_no_wait_cases(void)
{
	static const struct { const char *name; uint64_t think; int seeky; } c[] = {
		{ "antic-off-think-time-over-window", 10 * MS, 0 },
		{ "antic-off-seeky", 100 * US, 1 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct h h;
		struct af_sched_req *other;

		check_case = c[i].name;
		if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
			return;
		/* 20 reads: fewer than max_antic, which would end the turn anyway */
		for (int k = 0; k < 20; k++)
			if (!CHECK(!h_read(&h, P1, 0, c[i].seeky ? (k % 2) * FAR + k : k * 128ull,
				      5 * MS, k < 19 ? c[i].think : 0), "read"))
				return;
		/* farther than P1's mean seek, so not a "close" request */
		other = h_add(&h, P2, 0, 4 * FAR, AF_OP_READ);
		CHECK(h_next(&h, NULL) == other, "waited anyway");
		h_free(&h);
	}
}

static void t_write_and_cold(void)
{
	struct h h;
	struct af_sched_req *w, *other;

	check_case = "antic-not-after-write";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	if (!CHECK(!h_warm(&h, P1, 0, 10, 100 * US), "warm"))
		return;
	w = h_add(&h, P1, 0, h.pos, AF_OP_WRITE);
	CHECK(h_next(&h, NULL) == w, "write");
	h.now += 5 * MS;
	h.ops->done(h.s, w, h.now);
	other = h_add(&h, P2, 0, FAR, AF_OP_READ);
	CHECK(h_next(&h, NULL) == other, "waited after a write");
	h_free(&h);

	check_case = "antic-off-until-service-measured";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	if (!CHECK(!h_warm(&h, P1, 0, 7, 100 * US), "warm"))
		return;
	CHECK(!as_antic_enabled(h.s), "on after 7 samples");
	other = h_add(&h, P2, 0, FAR, AF_OP_READ);
	CHECK(h_next(&h, NULL) == other, "waited with no service evidence");
	h_free(&h);
}

static void t_fast_device(void)
{
	struct h h;
	struct af_sched_req *other;

	check_case = "antic-off-on-fast-device";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	for (int k = 0; k < 20; k++)
		if (!CHECK(!h_read(&h, P1, 0, k * 128ull, 10 * US, k < 19 ? 100 * US : 0),
			   "read"))
			return;
	CHECK(!as_antic_enabled(h.s), "on with 10 us service");
	other = h_add(&h, P2, 0, FAR, AF_OP_READ);
	CHECK(h_next(&h, NULL) == other, "waited on a fast device");
	/* and no sorting either: arrival order */
	other = h_add(&h, P2, 0, 9000, AF_OP_READ);
	h_add(&h, P3, 0, 1000, AF_OP_READ);
	CHECK(h_next(&h, NULL) == other, "sorted on a fast device");
	h_free(&h);
}

/* Quick sequential reads, slow seeks (a 7200 rpm disk, 4 KiB reads): not a
 * fast device, however short the runs between seeks make the mean. */
static void t_slow_seeks(void)
{
	struct h h;

	check_case = "antic-on-with-quick-reads-slow-seeks";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	for (int cycle = 0; cycle < 10; cycle++) {
		uint64_t base = cycle * 100000ull;	/* requests are 128 sectors */

		if (!CHECK(!h_read(&h, P1, 0, base, 10 * MS, 100 * US), "seek read"))
			return;
		for (int k = 1; k < 30; k++)
			if (!CHECK(!h_read(&h, P1, 0, base + k * 128ull, 60 * US, 100 * US),
				   "sequential read"))
				return;
	}
	CHECK(as_antic_enabled(h.s), "off: the 60 us sequential reads hid the 10 ms seeks");
	h_free(&h);
}

static void t_cap(void)
{
	struct af_sched_conf conf;
	struct h h;
	struct af_sched_req *other, *r;
	int run = 0;

	check_case = "antic-max-consecutive";
	af_sched_conf_defaults(&conf);
	conf.max_antic = 4;
	if (!CHECK(!h_init(&h, "anticipatory", &conf), "create"))
		return;
	if (!CHECK(!h_warm(&h, P2, 0, 10, 100 * US), "warm"))
		return;	/* turns it on */
	h.pos = 0;
	if (!CHECK(!h_warm(&h, P1, 0, 1, 0), "first P1 read"))
		return;
	other = h_add(&h, P2, 0, FAR, AF_OP_READ);
	run = 1;
	for (;;) {
		h.now += 100 * US;
		h_add(&h, P1, 0, h.pos, AF_OP_READ);
		h.pos += 128;
		r = h_next(&h, NULL);
		if (!CHECK(r, "nothing dispatched"))
			return;
		if (r == other)
			break;
		if (!CHECK(++run <= 4, "P1 got %d in a row", run))
			return;
		h.now += 5 * MS;
		h.ops->done(h.s, r, h.now);
	}
	CHECK(run == 4, "P2 served after %d, expected the cap of 4", run);
	h_free(&h);
}

static void t_unknown_proc(void)
{
	struct h h;
	struct as_key_stats st;
	struct af_sched_req *own;

	check_case = "antic-unknown-proc-per-queue";
	if (!CHECK(!h_init(&h, "anticipatory", NULL), "create"))
		return;
	if (!CHECK(!h_warm(&h, AF_PROC_UNKNOWN, 3, 10, 100 * US), "warm"))
		return;
	CHECK(!as_key_stats(h.s, 3, 1, &st) && st.requests == 10, "no queue key");
	h_add(&h, AF_PROC_UNKNOWN, 1, FAR, AF_OP_READ);
	CHECK(!h_next(&h, NULL), "did not wait for queue 3");
	own = h_add(&h, AF_PROC_UNKNOWN, 3, h.pos, AF_OP_READ);
	CHECK(h_next(&h, NULL) == own, "queue 3's request not taken");
	h_free(&h);

	check_case = "idle-per-queue-ignores-proc";
	if (!CHECK(!h_init(&h, "idle-per-queue", NULL), "create"))
		return;
	if (!CHECK(!h_warm(&h, P1, 0, 10, 100 * US), "warm"))
		return;
	CHECK(as_key_stats(h.s, P1, 0, &st) == -1, "keyed by process");
	own = h_add(&h, P2, 0, FAR, AF_OP_READ);	/* same queue */
	CHECK(h_next(&h, NULL) == own, "waited although its queue had work");
	h_free(&h);
}

/* ---- bad input ---- */

static int json_balanced(const char *s)
{
	int depth = 0, in_str = 0;

	if (*s != '{')
		return 0;
	for (; *s; s++) {
		if (in_str) {
			in_str = *s != '"';
			continue;
		}
		if (*s == '"')
			in_str = 1;
		else if (*s == '{' || *s == '[')
			depth++;
		else if ((*s == '}' || *s == ']') && --depth < 0)
			return 0;
	}
	return !depth && !in_str;
}

static void t_many_keys(void)
{
	enum { N = 5000 };
	struct af_sched_req *rq = calloc(N, sizeof(*rq));
	const struct af_sched_ops *ops = af_sched_find("anticipatory");
	struct af_sched_conf conf;
	void *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int got = 0;
	uint64_t now = MS, wake;

	check_case = "bad-input-many-processes";
	af_sched_conf_defaults(&conf);
	s = ops->create(&conf);
	if (!CHECK(rq && s, "alloc"))
		return;
	for (int i = 0; i < N; i++) {
		/* hostile values: any key, any sector, empty requests */
		rq[i].proc = 0x9e3779b97f4a7c15ull * (i + 1);
		rq[i].sector = i % 3 ? UINT64_MAX - i : (uint64_t)i << 20;
		rq[i].nsect = i % 7 ? 8 : 0;
		rq[i].op = i % 11 == 0 ? 200 : AF_OP_READ;
		rq[i].queue = (uint16_t)i;
		ops->add(s, &rq[i], now);
	}
	for (int i = 0; i < 2 * N; i++) {
		struct af_sched_req *r = ops->next(s, now, &wake);

		if (!r) {
			now += 10 * MS;	/* a wait: let it pass */
			continue;
		}
		got++;
		now += 5 * MS;
		ops->done(s, r, now);
		if (got == N)
			break;
	}
	f = open_memstream(&buf, &len);
	ops->stats_json(s, f);
	fclose(f);
	ops->destroy(s);
	free(rq);
	CHECK(got == N, "%d of %d dispatched", got, N);
	CHECK(json_balanced(buf), "stats not JSON-shaped");
	CHECK(strstr(buf, "\"evictions\":") && len < 300 * AS_MAX_KEYS,
	      "stats unbounded (%zu bytes)", len);
	free(buf);
}

static void t_stats_json(void)
{
	static const char *const names[] = { "fifo", "deadline",
		"idle-per-queue", "anticipatory", "oracle" };

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		struct h h;
		char *buf = NULL;
		size_t len = 0;
		FILE *f;
		int ok;

		check_case = "stats-json";
		if (!CHECK(!h_init(&h, names[i], NULL), "create"))
			return;
		if (!CHECK(!h_warm(&h, P1, 0, 10, 100 * US), "warm"))
			return;
		f = open_memstream(&buf, &len);
		h.ops->stats_json(h.s, f);
		fclose(f);
		ok = json_balanced(buf) && !strchr(buf, '\n');
		if (!ok)
			printf("  %s: %s\n", names[i], buf);
		free(buf);
		h_free(&h);
		CHECK(ok, "%s", names[i]);
	}
}

int main(void)
{
	void (*const tests[])(void) = {
		t_registry, t_fifo, t_deadline_sorted, t_deadline_expired,
		t_deadline_writes, t_hdd_curve, t_hdd_service, t_hdd_delay,
		t_hdd_bad_params,
		t_think_time, t_seek_stats, t_priors, t_wait_and_hit,
		t_close_coop, t_exit_hint, t_window_miss, t_deadline_break,
		t_no_wait_cases, t_write_and_cold, t_fast_device, t_slow_seeks, t_cap,
		t_unknown_proc, t_many_keys, t_stats_json,
	};
	size_t n = sizeof(tests) / sizeof(*tests);

	for (size_t i = 0; i < n; i++)
		tests[i]();
	printf("%zu cases\n", n);
	return check_summary("scheduler units");
}
