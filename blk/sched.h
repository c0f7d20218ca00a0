/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The scheduling stage of antfarm-blk: every virtio-blk request passes
 * through one of these between the virtqueue and io_uring.
 *
 * Contract with the backend:
 *  - an instance is not thread-safe; the backend calls it from one thread.
 *    A scheduler with device_wide = 1 gets one instance for the whole disk
 *    (it must see every queue's requests: one head, one anticipation), the
 *    others one instance per virtqueue;
 *  - add() when a request arrives, next() whenever the backend can issue
 *    (it calls next() until NULL after every add(), done() and timer
 *    wake-up), done() when the I/O completed, proc_exit() on an exit hint
 *    (and next() after proc_exit() too: an exit ends an anticipation);
 *  - next() may return NULL while requests wait (anticipation): it then
 *    sets *wake_ns to the CLOCK_MONOTONIC time at which to call it again;
 *  - a request is owned by the scheduler from add() until next() returns it.
 */
#ifndef ANTFARM_BLK_SCHED_H
#define ANTFARM_BLK_SCHED_H

#include <stdint.h>
#include <stdio.h>

enum af_blk_op {
	AF_OP_READ = 0, AF_OP_WRITE = 1, AF_OP_FLUSH = 2,
	AF_OP_DISCARD = 3, AF_OP_WRITE_ZEROES = 4, AF_OP_OTHER = 5,
};

#define AF_PROC_UNKNOWN 0

struct af_sched_req {
	uint64_t sector;		/* 512-byte sectors */
	uint32_t nsect;
	uint8_t  op;			/* enum af_blk_op */
	uint8_t  flags;			/* scheduler-private */
	uint16_t queue;			/* virtqueue index */
	uint64_t proc;			/* guest process key from hints, or AF_PROC_UNKNOWN */
	uint64_t t_arrive;		/* ns, CLOCK_MONOTONIC */
	uint64_t t_dispatch;		/* set by the backend when issued */
	uint64_t deadline;		/* scheduler-private */
	struct af_sched_req *next, *prev;	/* scheduler-private linkage */
	void *priv;			/* the backend's */
};

struct af_sched_conf {
	uint32_t nqueues;
	uint32_t max_inflight;		/* device depth the scheduler may use; 0 = unlimited */
	uint64_t antic_window_ns;	/* anticipation window */
	uint64_t read_expire_ns;	/* FIFO deadline for reads */
	uint64_t write_expire_ns;	/* FIFO deadline for writes */
	uint32_t max_antic;		/* cap on consecutive anticipations */
	uint32_t time_scale;		/* model time x this = real time (af_sched_conf_scale) */
};

struct af_sched_ops {
	const char *name;
	int device_wide;
	void *(*create)(const struct af_sched_conf *conf);
	void (*destroy)(void *s);
	void (*add)(void *s, struct af_sched_req *r, uint64_t now);
	struct af_sched_req *(*next)(void *s, uint64_t now, uint64_t *wake_ns);
	void (*done)(void *s, struct af_sched_req *r, uint64_t now);
	void (*proc_exit)(void *s, uint64_t proc, uint64_t now);
	void (*stats_json)(void *s, FILE *out);	/* one JSON object, no newline */
	/* Whether next() uses the process tags now (NULL: never).  The
	 * backend then holds a kick's requests for its hint; otherwise they
	 * go on at once with the latest one. */
	int (*wants_tags)(void *s);
};

/* NULL-terminated table of the schedulers built in. */
extern const struct af_sched_ops *const af_schedulers[];
const struct af_sched_ops *af_sched_find(const char *name);
void af_sched_conf_defaults(struct af_sched_conf *conf);
/* Multiplies every time of conf by k (the window, the deadlines; the
 * anticipatory scheduler's think-time cap follows time_scale). */
void af_sched_conf_scale(struct af_sched_conf *conf, uint32_t k);

#endif
