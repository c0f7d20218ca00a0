// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * antfarm-blk's Prometheus text (GET /metrics with --metrics-listen): the
 * counters of the stats socket, in base units, with # HELP and # TYPE.
 * Latency is a histogram in seconds whose buckets are sums of the
 * per-queue log2 buckets (blk/stats.h); its _sum adds each request at its
 * bucket's midpoint, so it is exact to the bucket's resolution (~19%).
 */
#include "dev.h"
#include "hints.h"
#include "report.h"
#include "lib/httpd.h"

struct mctx {
	struct vub_dev *d;
	FILE *f;
};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One counter family over the queues: off is the field's offset in
 * struct vub_qstats. */
static void per_queue(struct mctx *m, const char *name, const char *help, size_t off)
{
	family(m->f, name, "counter", help);
	for (unsigned i = 0; i < m->d->nqueues; i++) {
		uint64_t *v = (uint64_t *)((char *)&m->d->q[i].st + off);
		fprintf(m->f, "%s{queue=\"%u\"} %llu\n", name, i,
			(unsigned long long)__atomic_load_n(v, __ATOMIC_RELAXED));
	}
}

static void requests_by_op(struct mctx *m)
{
	static const struct { const char *op; size_t off; } ops[] = {
		{ "read", offsetof(struct vub_qstats, reads) },
		{ "write", offsetof(struct vub_qstats, writes) },
		{ "flush", offsetof(struct vub_qstats, flushes) },
		{ "discard", offsetof(struct vub_qstats, discards) },
		{ "write_zeroes", offsetof(struct vub_qstats, write_zeroes) },
		{ "other", offsetof(struct vub_qstats, others) },
	};

	family(m->f, "antfarm_blk_requests_total", "counter",
	       "Requests completed, by queue and operation.");
	for (unsigned i = 0; i < m->d->nqueues; i++)
		for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
			uint64_t *v = (uint64_t *)((char *)&m->d->q[i].st + ops[k].off);
			fprintf(m->f, "antfarm_blk_requests_total{queue=\"%u\",op=\"%s\"} %llu\n",
				i, ops[k].op,
				(unsigned long long)__atomic_load_n(v, __ATOMIC_RELAXED));
		}
}

/* Upper bounds of the histogram's buckets, in nanoseconds. */
static const uint64_t le_ns[] = {
	1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000,
	1000000, 2000000, 5000000, 10000000, 20000000, 50000000, 100000000,
	200000000, 500000000, 1000000000, 2000000000, 5000000000ull, 10000000000ull,
};
#define NLE (sizeof(le_ns) / sizeof(le_ns[0]))

static void latency(struct mctx *m)
{
	const char *name = "antfarm_blk_request_duration_seconds";

	family(m->f, name, "histogram", "Time from a request's arrival to its completion.");
	for (unsigned i = 0; i < m->d->nqueues; i++) {
		uint64_t cum[NLE] = { 0 }, count = 0;
		double sum = 0;

		for (unsigned b = 0; b < VUB_HIST_BUCKETS; b++) {
			uint64_t n = STAT_GET(m->d->q[i].st.lat_hist[b]);

			if (!n)
				continue;
			count += n;
			sum += n * (stats_bucket_ns(b) / 1e9);
			for (unsigned k = 0; k < NLE; k++)
				if (stats_bucket_max_ns(b) <= le_ns[k])
					cum[k] += n;
		}
		for (unsigned k = 0; k < NLE; k++)
			fprintf(m->f, "%s_bucket{queue=\"%u\",le=\"%g\"} %llu\n", name, i,
				le_ns[k] / 1e9, (unsigned long long)cum[k]);
		fprintf(m->f, "%s_bucket{queue=\"%u\",le=\"+Inf\"} %llu\n", name, i,
			(unsigned long long)count);
		fprintf(m->f, "%s_sum{queue=\"%u\"} %.9f\n", name, i, sum);
		fprintf(m->f, "%s_count{queue=\"%u\"} %llu\n", name, i, (unsigned long long)count);
	}
}

static void hints(struct mctx *m, struct vub_hints *h)
{
	int conns = 0;

	for (int i = 0; i < VUB_HINT_CONNS; i++)
		conns += h->conns[i] >= 0;
	family(m->f, "antfarm_blk_hint_connections", "gauge",
	       "antfarm-agent connections on the hint socket.");
	fprintf(m->f, "antfarm_blk_hint_connections %d\n", conns);
	family(m->f, "antfarm_blk_hints_total", "counter",
	       "Hints received from antfarm-agent, by kind and what became of them.");
	fprintf(m->f, "antfarm_blk_hints_total{kind=\"notify\"} %llu\n"
		"antfarm_blk_hints_total{kind=\"create\"} %llu\n"
		"antfarm_blk_hints_total{kind=\"exit\"} %llu\n"
		"antfarm_blk_hints_total{kind=\"vm_exit\"} %llu\n"
		"antfarm_blk_hints_total{kind=\"bad\"} %llu\n"
		"antfarm_blk_hints_total{kind=\"other_vm\"} %llu\n"
		"antfarm_blk_hints_total{kind=\"unmatched\"} %llu\n",
		(unsigned long long)h->notify, (unsigned long long)h->create,
		(unsigned long long)h->exit, (unsigned long long)h->vm_exit,
		(unsigned long long)h->bad, (unsigned long long)h->other_vm,
		(unsigned long long)h->unmatched);
	family(m->f, "antfarm_blk_hint_connections_refused_total", "counter",
	       "Hint connections refused (all slots taken).");
	fprintf(m->f, "antfarm_blk_hint_connections_refused_total %llu\n",
		(unsigned long long)h->refused);
}

void metrics_report(struct vub_dev *d, struct vub_hints *h, FILE *f)
{
	struct mctx m = { .d = d, .f = f };

	family(f, "antfarm_blk_info", "gauge", "The disk served, and the scheduler; always 1.");
	fputs("antfarm_blk_info{disk=\"", f);
	prom_label(f, d->disk_path);
	fprintf(f, "\",scheduler=\"%s\"} 1\n", d->sched_ops->name);
	family(f, "antfarm_blk_capacity_bytes", "gauge", "Size of the disk.");
	fprintf(f, "antfarm_blk_capacity_bytes %llu\n", (unsigned long long)d->disk.capacity * 512);
	family(f, "antfarm_blk_frontend_connected", "gauge", "1 while a vhost-user front-end is connected.");
	fprintf(f, "antfarm_blk_frontend_connected %d\n", d->conn >= 0);
	requests_by_op(&m);
	per_queue(&m, "antfarm_blk_read_bytes_total", "Bytes read from the disk.",
		  offsetof(struct vub_qstats, bytes_read));
	per_queue(&m, "antfarm_blk_written_bytes_total", "Bytes written to the disk.",
		  offsetof(struct vub_qstats, bytes_written));
	per_queue(&m, "antfarm_blk_request_errors_total", "Requests completed with an I/O error.",
		  offsetof(struct vub_qstats, errors));
	per_queue(&m, "antfarm_blk_unsupported_requests_total", "Requests of a type not served.",
		  offsetof(struct vub_qstats, unsupported));
	family(f, "antfarm_blk_inflight_requests", "gauge", "Requests popped and not yet completed.");
	for (unsigned i = 0; i < d->nqueues; i++)
		fprintf(f, "antfarm_blk_inflight_requests{queue=\"%u\"} %u\n", i,
			__atomic_load_n(&d->q[i].inflight, __ATOMIC_RELAXED));
	latency(&m);
	hints(&m, h);
	fputs("# EOF\n", f);
}
