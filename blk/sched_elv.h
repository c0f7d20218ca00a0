/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The elevator shared by the deadline and the anticipatory schedulers
 * (private to blk/sched_*.c): per-direction FIFO lists with deadlines,
 * sector-ordered batches, reads preferred but writes not starved, like
 * mq-deadline.  Requests live on one list each, in arrival order (which is
 * deadline order, the expiry being fixed per direction); the sector order
 * is found by scanning, which costs O(queued) per dispatch.  Virtqueues
 * are at most a few hundred entries deep, so a tree is not worth it yet.
 */
#ifndef ANTFARM_BLK_SCHED_ELV_H
#define ANTFARM_BLK_SCHED_ELV_H

#include "sched.h"

enum { ELV_READ, ELV_WRITE, ELV_OTHER, ELV_NDIR };

#define ELV_FIFO_BATCH     16	/* requests per sector-ordered batch */
#define ELV_WRITES_STARVED 2	/* read batches before writes must go */
#define ELV_BACK_PENALTY   2	/* a backward seek costs twice a forward */
#define ELV_MAX_BACK       (1024 * 1024)	/* sectors; farther back = never */

struct elv_list {
	struct af_sched_req *head, *tail;
	uint32_t count;
};

struct elv {
	struct elv_list l[ELV_NDIR];
	uint64_t expire[2];
	uint64_t head_pos;		/* end of the last dispatched request */
	int dir;			/* direction of the current batch */
	uint32_t batch_left;
	uint32_t starved;		/* read batches while writes waited */
	uint64_t dispatched[ELV_NDIR];
	uint64_t expired_dispatch;	/* dispatched because a deadline passed */
};

void elv_init(struct elv *e, const struct af_sched_conf *conf);
int elv_dir(const struct af_sched_req *r);
int elv_empty(const struct elv *e);
void elv_add(struct elv *e, struct af_sched_req *r, uint64_t now);
/* Unlink r and make it the last dispatched request. */
void elv_take(struct elv *e, struct af_sched_req *r);
/* The elevator's own choice (not taken yet), or NULL if empty. */
struct af_sched_req *elv_choose(struct elv *e, uint64_t now);
/* The first-arrived request of any kind, or NULL: O(1). */
struct af_sched_req *elv_oldest(const struct elv *e);
/* The oldest request whose deadline has passed, or NULL. */
struct af_sched_req *elv_expired(const struct elv *e, uint64_t now);
/* Earliest deadline of a queued read or write; UINT64_MAX if none. */
uint64_t elv_next_deadline(const struct elv *e);
/* Seek cost from the head to r: forward distance, or penalised backward. */
uint64_t elv_cost(const struct elv *e, const struct af_sched_req *r);
void elv_stats(const struct elv *e, FILE *out);

#endif
