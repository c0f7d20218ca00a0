/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Discrete-event simulator: guest processes issuing block requests, any
 * scheduler from blk/sched.h, and a device (the HDD model of blk/hdd.h
 * with one head, or a fixed service time).  Simulated time only, seeded
 * randomness: every run is deterministic.  Used by the tests in this
 * directory and by bench/sched.
 */
#ifndef ANTFARM_TESTS_SCHED_SIM_H
#define ANTFARM_TESTS_SCHED_SIM_H

#include <stdint.h>
#include <stdio.h>
#include "../../blk/sched.h"

#define SIM_MAX_PROCS 16

enum sim_pattern { SIM_SEQ, SIM_RAND };
enum sim_device { SIM_HDD, SIM_FIXED };

struct sim_proc {
	int pattern;		/* enum sim_pattern */
	int write;
	uint64_t start, len;	/* region, sectors */
	uint32_t nsect;		/* request size */
	uint64_t think_ns;	/* completion -> next request */
	uint32_t depth;		/* outstanding requests; 1 = synchronous */
	uint16_t queue;
	uint64_t exit_ns;	/* stop and send proc_exit after this long; 0 = never */
	int unfair;		/* leave out of the fairness figure (e.g. the writer) */
};

struct sim_conf {
	const struct af_sched_ops *ops;
	struct af_sched_conf sc;
	int nprocs;
	struct sim_proc procs[SIM_MAX_PROCS];
	int device;		/* enum sim_device */
	uint64_t fixed_ns;	/* SIM_FIXED service time */
	uint32_t dev_depth;	/* SIM_FIXED only; the HDD has one head */
	uint64_t capacity;	/* sectors */
	uint64_t reader_span;	/* sim_add_readers spreads over [0, this); 0 = capacity */
	uint64_t duration_ns;
	double misattr;		/* fraction of requests tagged with a wrong process */
	int no_hints;		/* every request has proc = AF_PROC_UNKNOWN */
	uint64_t seed;
	/* called with the scheduler instance (the first one) before it is
	 * destroyed, to look at its state */
	void (*inspect)(const struct af_sched_ops *ops, void *sched, void *arg);
	void *arg;
	/* called at every dispatch with the issuing process */
	void (*on_dispatch)(int proc, uint64_t now, void *arg);
};

struct sim_result {
	double mbps;
	double p99_ms;
	double fairness;	/* min/max bytes over the fair processes */
	double attribution_pct;
	uint64_t bytes[SIM_MAX_PROCS];
	uint64_t requests;
	uint64_t max_wait_ns[SIM_MAX_PROCS];	/* arrival -> dispatch */
	uint64_t max_wait_read_ns, max_wait_write_ns;
};

/* The key the simulator tags process i's requests with (page-aligned,
 * like the address-space roots the agent reports). */
uint64_t sim_proc_key(int i);

/* Defaults: HDD model with its datasheet capacity, 10 s, 64 KiB requests. */
void sim_conf_init(struct sim_conf *c, const struct af_sched_ops *ops);
/* n sequential readers on disjoint, evenly spread regions. */
void sim_add_readers(struct sim_conf *c, int n, int pattern, int per_queue);

/* Returns 0, or -1 on a bad configuration / allocation failure. */
int sim_run(const struct sim_conf *c, struct sim_result *res);

#endif
