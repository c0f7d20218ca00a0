/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Scheduler registry and the FIFO scheduler (the pass-through default). */
#include <stdlib.h>
#include <string.h>
#include "sched.h"
#include "sched_as.h"

extern const struct af_sched_ops af_sched_deadline_ops;

struct fifo {
	struct af_sched_req *head, *tail;
	uint64_t dispatched;
};

static void *fifo_create(const struct af_sched_conf *conf)
{
	return calloc(1, sizeof(struct fifo));
}

static void fifo_destroy(void *s)
{
	free(s);
}

static void fifo_add(void *s, struct af_sched_req *r, uint64_t now)
{
	struct fifo *f = s;

	r->next = NULL;
	r->prev = f->tail;
	if (f->tail)
		f->tail->next = r;
	else
		f->head = r;
	f->tail = r;
}

static struct af_sched_req *fifo_next(void *s, uint64_t now, uint64_t *wake_ns)
{
	struct fifo *f = s;
	struct af_sched_req *r = f->head;

	if (!r)
		return NULL;
	f->head = r->next;
	if (f->head)
		f->head->prev = NULL;
	else
		f->tail = NULL;
	r->next = r->prev = NULL;
	f->dispatched++;
	return r;
}

static void fifo_done(void *s, struct af_sched_req *r, uint64_t now)
{
}

static void fifo_exit(void *s, uint64_t proc, uint64_t now)
{
}

static void fifo_stats(void *s, FILE *out)
{
	struct fifo *f = s;

	fprintf(out, "{\"dispatched\":%llu}", (unsigned long long)f->dispatched);
}

static const struct af_sched_ops fifo_ops = {
	.name = "fifo",
	.device_wide = 0,
	.create = fifo_create,
	.destroy = fifo_destroy,
	.add = fifo_add,
	.next = fifo_next,
	.done = fifo_done,
	.proc_exit = fifo_exit,
	.stats_json = fifo_stats,
};

const struct af_sched_ops *const af_schedulers[] = {
	&fifo_ops,
	&af_sched_deadline_ops,
	&af_sched_ipq_ops,
	&af_sched_anticipatory_ops,
	&af_sched_oracle_ops,
	NULL,
};

const struct af_sched_ops *af_sched_find(const char *name)
{
	for (int i = 0; af_schedulers[i]; i++)
		if (!strcmp(af_schedulers[i]->name, name))
			return af_schedulers[i];
	return NULL;
}

void af_sched_conf_defaults(struct af_sched_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->nqueues = 1;
	conf->antic_window_ns = 6000000;	/* 6 ms, Linux AS's antic_expire */
	conf->read_expire_ns = 125000000;	/* 125 ms */
	conf->write_expire_ns = 250000000;	/* 250 ms */
	conf->max_antic = 32;
	conf->time_scale = 1;
}

void af_sched_conf_scale(struct af_sched_conf *conf, uint32_t k)
{
	conf->antic_window_ns *= k;
	conf->read_expire_ns *= k;
	conf->write_expire_ns *= k;
	conf->time_scale *= k;
}
