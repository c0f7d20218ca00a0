// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the stats socket says: one JSON object per line for the device,
 * each queue, each scheduler instance and the hint socket.
 */
#include "lib/json.h"
#include "dev.h"
#include "hints.h"
#include "report.h"

/* Scheduler instances belong to the workers: read them while paused. */
static void sched_report(struct vub_dev *d, FILE *out)
{
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_pause(&d->w[i]);
	if (d->sched_ops->device_wide) {
		fprintf(out, "{\"type\":\"scheduler\",\"name\":\"%s\",\"queue\":null,\"stats\":",
			d->sched_ops->name);
		d->sched_ops->stats_json(d->w[0].sched, out);
		fputs("}\n", out);
	} else {
		for (unsigned i = 0; i < d->nqueues; i++) {
			fprintf(out, "{\"type\":\"scheduler\",\"name\":\"%s\",\"queue\":%u,\"stats\":",
				d->sched_ops->name, i);
			d->sched_ops->stats_json(d->q[i].sched, out);
			fputs("}\n", out);
		}
	}
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_resume(&d->w[i]);
}

void stats_report(struct vub_dev *d, struct vub_hints *h, FILE *out)
{
	/* the disk path is the user's: escaped, whatever bytes it has */
	fputs("{\"type\":\"device\",\"disk\":", out);
	json_fputs(out, d->disk_path);
	fprintf(out, ",\"sectors\":%llu,\"queues\":%u,"
		"\"threads\":%u,\"scheduler\":\"%s\",\"connected\":%s,\"features\":%llu,"
		"\"protocol_features\":%llu,\"writeback\":%u,\"inflight_region\":%s}\n",
		(unsigned long long)d->disk.capacity, d->nqueues, d->nworkers,
		d->sched_ops->name, d->conn >= 0 ? "true" : "false",
		(unsigned long long)d->features, (unsigned long long)d->proto, d->wce,
		d->infl.addr ? "true" : "false");
	for (unsigned i = 0; i < d->nqueues; i++) {
		stats_queue_json(out, i, &d->q[i].st, __atomic_load_n(&d->q[i].inflight,
								       __ATOMIC_RELAXED));
		fputc('\n', out);
	}
	sched_report(d, out);
	hints_json(h, d->nqueues, out);
	fputc('\n', out);
}

void stats_tick(struct vub_dev *d)
{
	for (unsigned i = 0; i < d->nqueues; i++) {
		struct vub_qstats *s = &d->q[i].st;
		uint64_t r = STAT_GET(s->requests);

		s->iops = r - s->prev_requests;
		s->prev_requests = r;
	}
}
