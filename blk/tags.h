/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Process tags from hints (tags.c): called by the queue's worker. */
#ifndef ANTFARM_BLK_TAGS_H
#define ANTFARM_BLK_TAGS_H

#include <stdbool.h>
#include <stdint.h>

struct vub_dev;
struct vub_queue;
struct vub_worker;
struct blk_req;

/* A kick of q was read at now: its doorbell writes happened since the
 * previous one. */
void tags_kick(struct vub_queue *q, uint64_t now);
/* Before taking q's new requests: true when they may be taken; false
 * while they are held for the hint of the kick that announced them, until
 * *wake (CLOCK_MONOTONIC) at the latest. */
bool tags_take_begin(struct vub_worker *w, struct vub_queue *q, uint64_t *wake);
/* The tag of one request taken now (the header's ioprio with
 * --oracle-ioprio). */
uint64_t tags_proc(struct vub_dev *d, struct vub_queue *q, const struct blk_req *r);
/* After taking them: per-process request counts for the stats. */
void tags_take_end(struct vub_worker *w, struct vub_queue *q);

/* How a request's tag was chosen (--tag-log "how"). */
enum tag_how {
	TAG_NONE = 0,	/* no hint connection or no hint for the queue yet */
	TAG_EXACT,	/* the hint of the kick that announced it */
	TAG_LATE,	/* that hint did not come within --hint-wait-us: the latest */
	TAG_LATEST,	/* found without a kick (EVENT_IDX, polling): the latest */
	TAG_ORACLE,	/* the header's ioprio (--oracle-ioprio) */
};
/* --tag-log: one JSON line for request r, tagged proc at now. */
void tags_log(struct vub_dev *d, const struct vub_queue *q, const struct blk_req *r,
	      uint64_t now);

#endif
