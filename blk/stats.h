/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-queue counters.  One writer (the queue's worker) updates them with
 * relaxed atomic stores; the stats socket reads them with relaxed loads.
 * Latency: log2 buckets with 4 sub-buckets each (about 19% resolution).
 */
#ifndef ANTFARM_BLK_STATS_H
#define ANTFARM_BLK_STATS_H

#include <stdint.h>
#include <stdio.h>

#define VUB_HIST_BUCKETS 256

struct vub_qstats {
	uint64_t requests, reads, writes, flushes, discards, write_zeroes, others;
	uint64_t bytes_read, bytes_written;
	uint64_t errors, unsupported;
	uint64_t lat_hist[VUB_HIST_BUCKETS];	/* ns, see stats_bucket() */
	/* main thread only */
	uint64_t prev_requests, iops;
};

#define STAT_ADD(field, v) __atomic_store_n(&(field), (field) + (v), __ATOMIC_RELAXED)
#define STAT_GET(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

unsigned stats_bucket(uint64_t ns);
uint64_t stats_bucket_ns(unsigned b);	/* representative value of bucket b */
uint64_t stats_bucket_max_ns(unsigned b);	/* its highest value */
/* p in [0,100]; from a snapshot of lat_hist */
uint64_t stats_percentile(const uint64_t *hist, double p);
/* One JSON object (no newline) for a queue. */
void stats_queue_json(FILE *out, unsigned index, struct vub_qstats *s, unsigned inflight);

#endif
