/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A subscriber's output queue: bytes waiting for a non-blocking socket.
 * Events are droppable: when taking one would pass the queue's limit, or
 * the buffer it needs would take the pool of all queues past its limit,
 * it is dropped and counted, and once the queue has room again the
 * subscriber first gets {"event":"lost","count":N} so that loss is never
 * silent.  Replies to commands are not droppable (they are bounded by the
 * table and freed when read or after the reply timeout); their buffers
 * count in the pool too, so events give way to them.
 */
#ifndef AF_OUTQ_H
#define AF_OUTQ_H

#include <stddef.h>
#include <stdint.h>

/* What all queues of the agent hold: the sum of their buffers' sizes. */
struct outq_pool {
	size_t used, limit;
};

struct outq {
	char *buf;
	size_t head, tail, cap;
	size_t limit;		/* max queued bytes for droppable data */
	struct outq_pool *pool;	/* NULL: only the queue's own limit */
	uint64_t lost;		/* dropped since the last lost line */
	uint64_t lost_total;
};

void outq_init(struct outq *q, size_t limit, struct outq_pool *pool);
void outq_free(struct outq *q);
static inline size_t outq_len(const struct outq *q) { return q->tail - q->head; }

/* Queue a droppable event line; returns 0, or -1 if it was dropped. */
int outq_push_event(struct outq *q, const char *data, size_t n);
/* Queue data regardless of the limit; -1 only when out of memory. */
int outq_push(struct outq *q, const char *data, size_t n);
/* Take over b's buffer as the queue's contents (no copy); only when the
 * queue is empty.  Returns 0, or -1 (nothing taken) when it is not. */
struct sbuf;
int outq_adopt(struct outq *q, struct sbuf *b);
/* Write what fits to fd; returns 0 (drained or would block) or -errno.
 * After draining, a pending lost count is queued and written too. */
int outq_flush(struct outq *q, int fd);

#endif
