/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Anticipatory scheduling (schedulers "anticipatory", "oracle" and
 * "idle-per-queue"): the deadline elevator of sched_elv.h plus a
 * non-work-conserving wait after a synchronous read completes, for the
 * next request of the same process (Iyer & Druschel, SOSP 2001; the rules
 * follow Linux's as-iosched, with CFQ/BFQ's 32-request seek history).
 *
 * The key that identifies "the same process" is af_sched_req.proc (from
 * the agent's hints; for "oracle" the backend fills it from the test
 * guest's ground truth), or the virtqueue when proc is AF_PROC_UNKNOWN.
 * "idle-per-queue" always keys by virtqueue: what a backend can do with
 * no process knowledge.
 *
 * Per key: think time (decayed mean of completion -> next request, only
 * when the key had nothing queued or in flight, capped at AS_TT_CAP) and
 * seek distance (decayed mean of |start - end of its previous request|)
 * plus a 32-bit history of seeks over AS_SEEK_THR sectors.  Keys with
 * fewer than AS_PRIOR_SAMPLES samples use priors learnt from the first
 * samples of earlier keys.
 *
 * After a read completes with nothing else in flight, next() dispatches
 * that key's next request if queued; otherwise it waits (returns NULL and
 * sets *wake_ns) until the first of: the key's request arrives (hit), a
 * request arrives from another key within max(AS_CLOSE_THR, the key's
 * mean seek) of the head (cooperating process, counted as a hit), the
 * window passes (miss), a queued request's deadline passes (break), or
 * the key's exit hint (break).  It does not wait at all when the key's
 * mean think time exceeds the window, the key is seeky, the key has
 * exited, the key got max_antic dispatches in a row while others waited,
 * or anticipation is off because the device is fast: the decayed mean
 * service time (busy time per completion, so deep queues count right)
 * over at least AS_SVC_MIN_SAMPLES completions is below window / 8 --
 * counting only the requests that moved the head (did not continue the
 * previous dispatch) once there are that many of them, since a disk reads
 * on quickly from where it is and slowly after a seek; the
 * elevator then also gives way to arrival order, as sorting buys nothing
 * there and costs O(queued) per request.
 *
 * The backend must call next() after proc_exit() as after add().
 */
#ifndef ANTFARM_BLK_SCHED_AS_H
#define ANTFARM_BLK_SCHED_AS_H

#include "sched.h"

#define AS_TT_CAP          20000000ull	/* ns; Linux AS's MAX_THINKTIME */
#define AS_SEEK_THR        800		/* sectors; CFQ/BFQ's seeky distance */
#define AS_SEEKY_PER_32    19		/* more seeky of 32 = seeky (BFQ; CFQ used 4,
					 * too eager when a few requests are
					 * mis-attributed) */
#define AS_CLOSE_THR       8192		/* sectors; Linux AS / CFQ "close" */
#define AS_PRIOR_SAMPLES   4
#define AS_SVC_MIN_SAMPLES 8
#define AS_MAX_KEYS        1024		/* bounded state whatever the guest does */

extern const struct af_sched_ops af_sched_anticipatory_ops;
extern const struct af_sched_ops af_sched_oracle_ops;
extern const struct af_sched_ops af_sched_ipq_ops;

/* One key's statistics, for tests and the stats socket. */
struct as_key_stats {
	uint64_t think_ns;		/* mean think time in use (may be the prior) */
	uint64_t seek_mean;		/* sectors */
	uint32_t seek_hist;
	uint32_t think_samples, seek_samples;
	int seeky, exited;
	uint64_t requests, antic, hits, coop, misses, breaks;
};

/* Returns 0 and fills *st, or -1 if the key has no state.  queue_key
 * selects the per-virtqueue key 'key' instead of a process key. */
int as_key_stats(void *s, uint64_t key, int queue_key,
		 struct as_key_stats *st);
/* 1 while anticipation is enabled by the service-time gate. */
int as_antic_enabled(void *s);

#endif
