/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Whole-run properties of the schedulers in the discrete-event simulator
 * (sim.h) on the HDD model: what anticipation must achieve, and what it
 * must not cost.  Simulated time and a fixed seed: deterministic.
 */
#include <stdio.h>
#include <string.h>
#include "sim.h"
#include "../../blk/sched_as.h"
#include "tests/lib/check.h"

#define MS 1000000ull



struct run {
	const char *sched;
	int procs, pattern, per_queue;
	double misattr;
	int no_hints, fast, dev_depth, proc_depth, writer;
	uint64_t exit_first_ns;		/* process 0 exits then */
	uint32_t max_antic;
	uint64_t duration_ns;
};

struct probe {
	int antic_on;
	uint64_t antic, keys_seeky, keys, exited;
};

static void inspect(const struct af_sched_ops *ops, void *s, void *arg)
{
	struct probe *p = arg;
	struct as_key_stats st;

	if (strcmp(ops->name, "anticipatory"))
		return;
	p->antic_on = as_antic_enabled(s);
	for (int i = 0; i < SIM_MAX_PROCS; i++)
		if (!as_key_stats(s, sim_proc_key(i), 0, &st)) {
			p->keys++;
			p->keys_seeky += st.seeky;
			p->exited += st.exited;
			p->antic += st.antic;
		}
}

static struct sim_result run(const struct run *r, struct probe *probe)
{
	struct sim_conf c;
	struct sim_result res;

	sim_conf_init(&c, af_sched_find(r->sched));
	if (r->duration_ns)
		c.duration_ns = r->duration_ns;
	c.misattr = r->misattr;
	c.no_hints = r->no_hints;
	if (r->max_antic != 1)
		c.sc.max_antic = r->max_antic;
	if (r->fast) {
		c.device = SIM_FIXED;
		c.fixed_ns = 10000;
		c.dev_depth = r->dev_depth ? r->dev_depth : 1;
	}
	if (r->writer)
		c.reader_span = c.capacity / 2;
	sim_add_readers(&c, r->procs, r->pattern, r->per_queue);
	for (int i = 0; i < c.nprocs && r->proc_depth; i++)
		c.procs[i].depth = r->proc_depth;
	c.procs[0].exit_ns = r->exit_first_ns;
	if (r->writer) {
		c.procs[c.nprocs] = (struct sim_proc){
			.pattern = SIM_SEQ, .write = 1, .nsect = 128, .depth = 4,
			.start = c.capacity / 2, .len = c.capacity / 2,
			.queue = r->per_queue ? c.nprocs : 0, .unfair = 1,
		};
		c.nprocs++;
	}
	if (probe) {
		memset(probe, 0, sizeof(*probe));
		c.inspect = inspect;
		c.arg = probe;
	}
	if (sim_run(&c, &res)) {
		printf("FAIL %s: simulation did not run\n", r->sched);
		check_failures++;
		memset(&res, 0, sizeof(res));
	}
	return res;
}

#define MAX_ANTIC_DEFAULT 1	/* run.max_antic = 1: keep the default */

static struct sim_result basic(const char *sched, int procs, int pattern,
			       int per_queue)
{
	struct run r = { .sched = sched, .procs = procs, .pattern = pattern,
			 .per_queue = per_queue, .max_antic = MAX_ANTIC_DEFAULT };

	return run(&r, NULL);
}

static double mbps(const char *sched, int procs, int pattern, int per_queue)
{
	return basic(sched, procs, pattern, per_queue).mbps;
}

/* The paper's case: N synchronous sequential readers on one disk. */
static void t_deceptive_idleness(void)
{
	for (int n = 2; n <= 8; n *= 2) {
		double fifo = mbps("fifo", n, SIM_SEQ, 0);
		double dl = mbps("deadline", n, SIM_SEQ, 0);
		struct sim_result res = basic("anticipatory", n, SIM_SEQ, 0);
		double as = res.mbps, oracle = mbps("oracle", n, SIM_SEQ, 0);

		printf("seq n=%d fifo %.1f deadline %.1f anticipatory %.1f oracle %.1f MB/s,"
		       " fairness %.2f\n", n, fifo, dl, as, oracle, res.fairness);
		/* turns rotate (cap, deadlines): no reader is left behind */
		CHECK(res.fairness >= 0.5, "as-fair-shares: n=%d %.2f", n,
		      res.fairness);
		CHECK(as >= 2 * fifo, "as-2x-fifo: n=%d %.2f vs %.2f", n, as, fifo);
		CHECK(as >= 2 * dl, "as-2x-deadline: n=%d %.2f vs %.2f", n, as, dl);
		CHECK(as >= 0.97 * oracle &&
		      as <= 1.03 * oracle, "as-equals-oracle-exact-tags: n=%d %.2f vs %.2f", n, as, oracle);
	}
}

/* Hints are not perfect: 1 % of requests tagged with the wrong process. */
static void t_misattribution(void)
{
	for (int n = 2; n <= 4; n *= 2) {
		struct run r = { .sched = "anticipatory", .procs = n,
				 .misattr = 0.01, .max_antic = MAX_ANTIC_DEFAULT };
		struct sim_result res = run(&r, NULL);
		double oracle = mbps("oracle", n, SIM_SEQ, 0);

		printf("seq n=%d anticipatory with %.1f %% right tags %.1f MB/s, oracle %.1f\n",
		       n, res.attribution_pct, res.mbps, oracle);
		CHECK(res.mbps >= 0.95 * oracle,
		      "misattr-1pct-within-5pct-of-oracle: n=%d %.2f vs %.2f", n, res.mbps, oracle);
		CHECK(res.attribution_pct > 98.5 &&
		      res.attribution_pct < 99.5, "misattr-rate: %.2f", res.attribution_pct);
	}
}

/* One virtqueue for all: only process knowledge can tell readers apart. */
static void t_shared_queue(void)
{
	for (int n = 2; n <= 4; n *= 2) {
		double ipq = mbps("idle-per-queue", n, SIM_SEQ, 0);
		double ipq_pq = mbps("idle-per-queue", n, SIM_SEQ, 1);
		double as = mbps("anticipatory", n, SIM_SEQ, 0);
		double fifo_pq = mbps("fifo", n, SIM_SEQ, 1);

		printf("seq n=%d shared queue: idle-per-queue %.1f anticipatory %.1f; "
		       "per-proc queues: idle-per-queue %.1f fifo %.1f\n",
		       n, ipq, as, ipq_pq, fifo_pq);
		CHECK(as >= 1.3 * ipq, "as-over-ipq-shared-30pct: n=%d %.2f vs %.2f", n, as, ipq);
		CHECK(ipq_pq >= 2 * fifo_pq, "ipq-per-queue-2x-fifo: n=%d %.2f vs %.2f", n, ipq_pq, fifo_pq);
	}
}

/* No hints at all: per-queue keys, as good as idle-per-queue. */
static void t_no_hints(void)
{
	struct run r = { .sched = "anticipatory", .procs = 4, .per_queue = 1,
			 .no_hints = 1, .max_antic = MAX_ANTIC_DEFAULT };
	double as = run(&r, NULL).mbps, fifo = mbps("fifo", 4, SIM_SEQ, 1);

	CHECK(as >= 2 * fifo, "no-hints-falls-back-to-queues: %.2f vs %.2f",
	      as, fifo);
}

/* Random readers gain nothing from waiting: it must switch itself off. */
static void t_random(void)
{
	for (int n = 1; n <= 4; n *= 4) {
		struct run r = { .sched = "anticipatory", .procs = n,
				 .pattern = SIM_RAND, .max_antic = MAX_ANTIC_DEFAULT };
		struct probe p;
		double as = run(&r, &p).mbps, fifo = mbps("fifo", n, SIM_RAND, 0);

		printf("rand n=%d fifo %.3f anticipatory %.3f MB/s, %llu of %llu seeky\n",
		       n, fifo, as, (unsigned long long)p.keys_seeky,
		       (unsigned long long)p.keys);
		CHECK(as >= 0.95 * fifo, "random-not-5pct-below-fifo: n=%d %.3f vs %.3f", n, as, fifo);
		CHECK(p.keys == (uint64_t)n &&
		      p.keys_seeky == (uint64_t)n, "random-readers-seeky: %llu/%llu",
		      (unsigned long long)p.keys_seeky, (unsigned long long)p.keys);
	}
}

/* A RAM/SSD-like device (10 us): no anticipation, no cost. */
static void t_fast_device(void)
{
	static const struct { int dev_depth, proc_depth; } c[] = { { 1, 1 }, { 8, 4 } };

	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct run a = { .sched = "anticipatory", .procs = 4, .fast = 1,
				 .dev_depth = c[i].dev_depth,
				 .proc_depth = c[i].proc_depth,
				 .duration_ns = 2000 * MS, .max_antic = MAX_ANTIC_DEFAULT };
		struct run f = a;
		struct probe p;
		double as, fifo;

		f.sched = "fifo";
		as = run(&a, &p).mbps;
		fifo = run(&f, NULL).mbps;
		printf("fast device depth %d: fifo %.0f anticipatory %.0f MB/s, %llu waits\n",
		       c[i].dev_depth, fifo, as, (unsigned long long)p.antic);
		CHECK(!p.antic_on && p.antic == 0, "fast-device-antic-off: depth %d: on %d, %llu waits",
		      c[i].dev_depth, p.antic_on, (unsigned long long)p.antic);
		CHECK(as >= 0.98 * fifo, "fast-device-within-2pct: depth %d: %.1f vs %.1f",
		      c[i].dev_depth, as, fifo);
	}
}

/* Deadlines bound how long anticipation can make others wait. */
static void t_starvation(void)
{
	static const struct { int procs; uint32_t max_antic; } c[] = {
		{ 2, 0 }, { 3, 32 },
	};
	struct af_sched_conf d;

	af_sched_conf_defaults(&d);
	for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct run r = { .sched = "anticipatory", .procs = c[i].procs,
				 .max_antic = c[i].max_antic };
		struct sim_result res = run(&r, NULL);

		printf("starvation n=%d max_antic %u: max wait %.1f ms\n",
		       c[i].procs, c[i].max_antic, res.max_wait_read_ns / 1e6);
		CHECK(res.max_wait_read_ns <= d.read_expire_ns + d.antic_window_ns,
		      "max-wait-deadline-plus-window: n=%d %.1f ms", c[i].procs,
		      res.max_wait_read_ns / 1e6);
		/* with no cap only the deadline ends a turn: it must have */
		CHECK(c[i].max_antic || res.max_wait_read_ns >= d.read_expire_ns,
		      "deadline-ended-turns: %.1f ms", res.max_wait_read_ns / 1e6);
	}
}

/* A streaming writer must neither stall the readers nor be starved. */
static void t_writer(void)
{
	struct run a = { .sched = "anticipatory", .procs = 2, .writer = 1,
			 .max_antic = MAX_ANTIC_DEFAULT };
	struct run f = a;
	struct sim_result ra, rf;
	struct af_sched_conf d;

	af_sched_conf_defaults(&d);
	f.sched = "fifo";
	ra = run(&a, NULL);
	rf = run(&f, NULL);
	printf("writer+2 readers: fifo readers %.1f MB writer %.1f MB; "
	       "anticipatory readers %.1f MB writer %.1f MB; max write wait %.1f ms\n",
	       (rf.bytes[0] + rf.bytes[1]) / 1e6, rf.bytes[2] / 1e6,
	       (ra.bytes[0] + ra.bytes[1]) / 1e6, ra.bytes[2] / 1e6,
	       ra.max_wait_write_ns / 1e6);
	CHECK(ra.bytes[0] + ra.bytes[1] >=
	      2 * (rf.bytes[0] + rf.bytes[1]), "writer-readers-gain: readers");
	/* an expired write waits for the request in service and the window
	 * the last expired read was given (a seek and a rotation, 30 ms at
	 * most, on either side): deadline + window + 50 ms */
	CHECK(ra.bytes[2] > 0 &&
	      ra.max_wait_write_ns <= d.write_expire_ns + d.antic_window_ns + 50 * MS,
	      "writer-not-starved: max write wait %.1f ms", ra.max_wait_write_ns / 1e6);
}

/* A reader exits: the agent's hint ends its turn, the other gets the disk
 * as it would under fifo, which never waits for anyone. */
static void t_exit(void)
{
	struct run r = { .sched = "anticipatory", .procs = 2,
			 .exit_first_ns = 1000 * MS, .max_antic = MAX_ANTIC_DEFAULT };
	struct run f = r;
	struct probe p;
	struct sim_result ra, rf;

	f.sched = "fifo";
	ra = run(&r, &p);
	rf = run(&f, NULL);
	printf("exit after 1 s: survivor %.1f MB (fifo %.1f MB) in 10 s\n",
	       ra.bytes[1] / 1e6, rf.bytes[1] / 1e6);
	CHECK(p.exited == 1, "exit-hint-recorded: %llu exited",
	      (unsigned long long)p.exited);
	CHECK(ra.bytes[1] >= rf.bytes[1], "survivor-gets-the-disk: %.1f vs %.1f MB",
	      ra.bytes[1] / 1e6, rf.bytes[1] / 1e6);
}

static void t_deterministic(void)
{
	struct run r = { .sched = "anticipatory", .procs = 4, .misattr = 0.05,
			 .max_antic = MAX_ANTIC_DEFAULT, .duration_ns = 2000 * MS };
	struct sim_result a = run(&r, NULL), b = run(&r, NULL);

	CHECK(!memcmp(a.bytes, b.bytes, sizeof(a.bytes)) &&
	      a.p99_ms == b.p99_ms, "deterministic: two runs differ");
}

int main(void)
{
	t_deceptive_idleness();
	t_misattribution();
	t_shared_queue();
	t_no_hints();
	t_random();
	t_fast_device();
	t_starvation();
	t_writer();
	t_exit();
	t_deterministic();
	return check_summary("scheduler simulations");
}
