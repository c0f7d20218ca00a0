/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "lib/json.h"
#include "outq.h"

/* A drained queue keeps at most this much memory, so that an idle
 * subscriber that once fell behind does not hold its peak. */
#define OUTQ_KEEP (64 * 1024)

void outq_init(struct outq *q, size_t limit, struct outq_pool *pool)
{
	memset(q, 0, sizeof(*q));
	q->limit = limit;
	q->pool = pool;
}

/* The buffer changes from q->cap to cap bytes: the pool follows. */
static void set_cap(struct outq *q, size_t cap)
{
	if (q->pool)
		q->pool->used = q->pool->used - q->cap + cap;
	q->cap = cap;
}

void outq_free(struct outq *q)
{
	free(q->buf);
	q->buf = NULL;
	q->head = q->tail = 0;
	set_cap(q, 0);
}

/* Room for n more bytes; droppable data may not take the pool past its
 * limit. */
static int reserve(struct outq *q, size_t n, int droppable)
{
	size_t len = outq_len(q), cap;
	char *p;

	if (q->tail + n <= q->cap)
		return 0;
	/* slide the unsent bytes to the front before growing */
	if (q->head) {
		memmove(q->buf, q->buf + q->head, len);
		q->head = 0;
		q->tail = len;
		if (len + n <= q->cap)
			return 0;
	}
	cap = q->cap ? q->cap : 4096;
	while (cap < len + n)
		cap *= 2;
	if (droppable && q->pool && q->pool->used - q->cap + cap > q->pool->limit)
		return -1;
	p = realloc(q->buf, cap);
	if (!p)
		return -1;
	q->buf = p;
	set_cap(q, cap);
	return 0;
}

static int push(struct outq *q, const char *data, size_t n, int droppable)
{
	if (reserve(q, n, droppable))
		return -1;
	memcpy(q->buf + q->tail, data, n);
	q->tail += n;
	return 0;
}

int outq_push(struct outq *q, const char *data, size_t n)
{
	return push(q, data, n, 0);
}

int outq_adopt(struct outq *q, struct sbuf *b)
{
	if (outq_len(q) || b->failed)
		return -1;
	free(q->buf);
	q->buf = b->p;
	set_cap(q, b->cap);
	q->head = 0;
	q->tail = b->len;
	memset(b, 0, sizeof(*b));
	return 0;
}

static int lost_line(struct outq *q, char *line, size_t size)
{
	return snprintf(line, size, "{\"event\":\"lost\",\"count\":%llu}\n",
			(unsigned long long)q->lost);
}

/* Queue the lost line if it fits under the limit together with 'extra'. */
static void push_lost(struct outq *q, size_t extra)
{
	char line[64];
	int n;

	if (!q->lost)
		return;
	n = lost_line(q, line, sizeof(line));
	if (outq_len(q) + n + extra > q->limit || push(q, line, n, 1))
		return;
	q->lost = 0;
}

int outq_push_event(struct outq *q, const char *data, size_t n)
{
	push_lost(q, n);
	if (q->lost || outq_len(q) + n > q->limit || push(q, data, n, 1)) {
		q->lost++;
		q->lost_total++;
		return -1;
	}
	return 0;
}

static int write_some(struct outq *q, int fd)
{
	while (outq_len(q)) {
		ssize_t w = send(fd, q->buf + q->head, outq_len(q), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -errno;
		q->head += w;
	}
	q->head = q->tail = 0;
	return 0;
}

int outq_flush(struct outq *q, int fd)
{
	int err = write_some(q, fd);

	if (err || outq_len(q))
		return err;
	if (q->lost) {
		push_lost(q, 0);
		err = write_some(q, fd);
	}
	if (!outq_len(q) && q->cap > OUTQ_KEEP) {
		free(q->buf);
		q->buf = NULL;
		set_cap(q, 0);
	}
	return err;
}
