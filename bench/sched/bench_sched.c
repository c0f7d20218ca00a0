/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * bench_sched - evaluate the antfarm-blk schedulers in the simulator
 *
 * SYNOPSIS
 *   bench_sched [--duration SEC] [--seed N] [--quick]
 *   bench_sched --cpu
 *
 * DESCRIPTION
 *   Runs every scheduler against the paper's workloads on the simulated
 *   HDD (blk/hdd.h) and prints one JSON object per line per point.  This is
 *   a SIMULATION ("sim":true, "disk_model":"hdd-sim"): simulated guest
 *   processes, simulated time, no QEMU, no guest, no agent.  Workloads:
 *     seq-read      N processes reading disjoint regions sequentially,
 *                   64 KiB synchronous requests, 100 us think time
 *     rand-read     the same with 4 KiB random reads in each region
 *     writer+readers  N sequential readers plus one streaming writer
 *                   (64 KiB, 4 outstanding, not counted in fairness)
 *   each with all processes on one virtqueue and with one queue each; and
 *   seq-read on a fast device (10 us fixed service, "fixed-10us").
 *   attribution_pct is the share of requests tagged with the right process
 *   (null for schedulers that ignore tags); "anticipatory" is also run with
 *   1, 5 and 20 % of requests mis-attributed to show the sensitivity.
 *
 *   --duration SEC  simulated seconds per point (default 10)
 *   --seed N        random seed (default 1)
 *   --quick         2 s per point, procs 1 and 4 only
 *   --cpu           instead: measured CPU time (real, not simulated) per
 *                   request of each scheduler's add + next + done, with
 *                   1, 32 and 256 requests queued from 8 processes, on a
 *                   device that completes at once (anticipation off, as on
 *                   /dev/shm); what the scheduling stage costs per IOPS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../tests/sched/sim.h"
#include "lib/clock.h"

static const char *const scheds[] = {
	"fifo", "deadline", "idle-per-queue", "anticipatory", "oracle",
};

struct opts {
	double duration;
	uint64_t seed;
	int quick;
};

static int uses_tags(const char *name)
{
	return !strcmp(name, "anticipatory") || !strcmp(name, "oracle");
}

static void add_writer(struct sim_conf *c, int per_queue)
{
	struct sim_proc *w = &c->procs[c->nprocs];

	/* the writer streams into a region of its own at the disk's end */
	*w = (struct sim_proc){
		.pattern = SIM_SEQ, .write = 1, .nsect = 128, .depth = 4,
		.start = c->capacity / 16 * 15, .len = c->capacity / 16,
		.queue = per_queue ? c->nprocs : 0, .unfair = 1,
	};
	c->nprocs++;
}

static int point(const struct opts *o, const char *sched, const char *wl,
		 int procs, int per_queue, int fast, double misattr)
{
	const struct af_sched_ops *ops = af_sched_find(sched);
	struct sim_conf c;
	struct sim_result r;
	int writer = !strcmp(wl, "writer+readers");

	sim_conf_init(&c, ops);
	c.duration_ns = (uint64_t)(o->duration * 1e9);
	c.seed = o->seed;
	c.misattr = misattr;
	if (fast) {
		c.device = SIM_FIXED;
		c.fixed_ns = 10000;
		c.capacity = 1ull << 31;	/* a 1 TiB file on /dev/shm, say */
	}
	if (writer)
		c.reader_span = c.capacity / 16 * 15;	/* keep off its region */
	sim_add_readers(&c, procs, strcmp(wl, "rand-read") ? SIM_SEQ : SIM_RAND,
			per_queue);
	if (writer)
		add_writer(&c, per_queue);
	if (sim_run(&c, &r)) {
		fprintf(stderr, "bench_sched: %s/%s/%d: simulation failed\n",
			sched, wl, procs);
		return -1;
	}
	printf("{\"sim\":true,\"scheduler\":\"%s\",\"workload\":\"%s\","
	       "\"procs\":%d,\"writers\":%d,\"queues\":%d,\"queue_mode\":\"%s\","
	       "\"disk_model\":\"%s\",\"mbps\":%.2f,\"p99_ms\":%.2f,",
	       sched, wl, procs, writer, per_queue ? c.nprocs : 1,
	       per_queue ? "per-proc" : "shared",
	       fast ? "fixed-10us" : "hdd-sim", r.mbps, r.p99_ms);
	if (uses_tags(sched))
		printf("\"attribution_pct\":%.1f,", r.attribution_pct);
	else
		printf("\"attribution_pct\":null,");
	printf("\"fairness\":%.3f,\"duration_s\":%g,\"seed\":%llu}\n",
	       r.fairness, o->duration, (unsigned long long)o->seed);
	fflush(stdout);
	return 0;
}

static int run_all(const struct opts *o)
{
	static const char *const wls[] = { "seq-read", "rand-read",
					   "writer+readers" };
	static const int all_procs[] = { 1, 2, 4, 8 }, quick_procs[] = { 1, 4 };
	const int *np = o->quick ? quick_procs : all_procs;
	int nn = o->quick ? 2 : 4, err = 0;

	for (size_t w = 0; w < sizeof(wls) / sizeof(*wls); w++)
		for (int n = 0; n < nn; n++)
			for (int q = 0; q < 2; q++)
				for (size_t s = 0; s < sizeof(scheds) / sizeof(*scheds); s++)
					err |= point(o, scheds[s], wls[w], np[n], q, 0, 0);
	for (int n = 0; n < nn; n++) {
		static const double mis[] = { 0.01, 0.05, 0.20 };

		for (int k = 0; k < 3; k++)
			err |= point(o, "anticipatory", "seq-read", np[n], 0, 0, mis[k]);
		for (size_t s = 0; s < sizeof(scheds) / sizeof(*scheds); s++)
			err |= point(o, scheds[s], "seq-read", np[n], 0, 1, 0);
	}
	return err;
}

/* Keep 'depth' requests queued; each round dispatches one and completes
 * it 10 us (virtual) later, then adds a replacement. */
static int cpu_point(const struct af_sched_ops *ops, int depth)
{
	enum { ROUNDS = 200000 };
	struct af_sched_conf conf;
	struct af_sched_req *rq = calloc(depth, sizeof(*rq));
	uint64_t vnow = 1000000000ull, rng = 88172645463325252ull, t0, t1;
	void *s;

	af_sched_conf_defaults(&conf);
	s = ops->create(&conf);
	if (!s || !rq) {
		free(rq);
		return -1;
	}
	for (int i = 0; i < depth; i++) {
		rq[i] = (struct af_sched_req){ .sector = (uint64_t)i << 16,
			.nsect = 8, .proc = 0x1000 * (i % 8 + 1), .queue = i % 8 };
		ops->add(s, &rq[i], vnow);
	}
	t0 = af_now_ns();
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t wake;
		struct af_sched_req *r = ops->next(s, vnow, &wake);

		if (!r) {
			vnow += 1000000;	/* an anticipation wait: skip it */
			continue;
		}
		vnow += 10000;
		ops->done(s, r, vnow);
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		r->sector = rng % (1ull << 40);
		ops->add(s, r, vnow);
	}
	t1 = af_now_ns();
	ops->destroy(s);
	free(rq);
	printf("{\"bench\":\"cpu\",\"scheduler\":\"%s\",\"queued\":%d,"
	       "\"ns_per_request\":%.0f}\n", ops->name, depth,
	       (double)(t1 - t0) / ROUNDS);
	return 0;
}

static int run_cpu(void)
{
	static const int depths[] = { 1, 32, 256 };
	int err = 0;

	for (int i = 0; af_schedulers[i]; i++)
		for (int d = 0; d < 3; d++)
			err |= cpu_point(af_schedulers[i], depths[d]);
	return err;
}

static void usage(void)
{
	fputs("usage: bench_sched [--duration SEC] [--seed N] [--quick] | --cpu\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .duration = 10, .seed = 1 };

	for (int i = 1; i < argc; i++) {
		char *end;

		if (!strcmp(argv[i], "--cpu") && argc == 2) {
			return run_cpu() ? 1 : 0;
		} else if (!strcmp(argv[i], "--quick")) {
			o.quick = 1;
			o.duration = 2;
		} else if (!strcmp(argv[i], "--duration") && i + 1 < argc) {
			o.duration = strtod(argv[++i], &end);
			if (*end || o.duration <= 0 || o.duration > 3600)
				usage();
		} else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			o.seed = strtoull(argv[++i], &end, 0);
			if (*end)
				usage();
		} else {
			usage();
		}
	}
	return run_all(&o) ? 1 : 0;
}
