// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu-client bench: closed-loop load with a fixed number of requests in
 * flight per queue; reports IOPS, MB/s, latency percentiles and the
 * back-end's CPU time per million I/Os.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhu_client.h"

struct bench {
	struct client_opts *c;
	int write, random;
	uint64_t nblocks;		/* of size bs in the span */
	uint64_t seq_next[VHU_MAX_QUEUES];
	uint64_t rng;
	uint64_t end_ns;
	int stopping;
	uint64_t ios, errors;
	uint32_t *lat;			/* ns, one per completed I/O (capped) */
	uint64_t nlat, cap;
};

double proc_cpu_seconds(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* the command name may hold spaces: fields start after the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

void bench_prepare_opts(struct client_opts *c)
{
	unsigned need, qs = 4;

	if (!c->qd)
		c->qd = 1;
	need = c->vo.no_indirect ? 3 * c->qd : c->qd;
	while (qs < need)
		qs <<= 1;
	if (qs > c->vo.queue_size)
		c->vo.queue_size = qs;
	c->vo.qd = c->qd;
	c->vo.buf_size = c->bs;
}

static uint64_t next_block(struct bench *b, unsigned q)
{
	if (b->random) {
		/* xorshift64: cheap and good enough to spread offsets */
		b->rng ^= b->rng << 13;
		b->rng ^= b->rng >> 7;
		b->rng ^= b->rng << 17;
		return b->rng % b->nblocks;
	}
	uint64_t blk = b->seq_next[q]++;

	if (b->seq_next[q] >= b->nblocks)
		b->seq_next[q] = 0;
	return blk;
}

static int issue(struct bench *b, struct vhu_req *r)
{
	uint64_t sector = next_block(b, r->vq->index) * (b->c->bs / VHU_SECTOR);

	return vhu_req_submit(r, b->write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN,
			      sector, b->c->bs);
}

static void on_done(struct vhu_req *r, void *arg)
{
	struct bench *b = arg;
	uint64_t now = af_now_ns();

	if (*r->status != VIRTIO_BLK_S_OK)
		b->errors++;
	if (b->stopping)
		return;
	b->ios++;
	if (b->nlat < b->cap)
		b->lat[b->nlat++] = now - r->t_submit_ns;
	if (now < b->end_ns)
		issue(b, r);
	else
		b->stopping = 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_us(struct bench *b, double p)
{
	if (!b->nlat)
		return 0;
	uint64_t i = (uint64_t)(p * (b->nlat - 1) + 0.5);

	return b->lat[i] / 1000.0;
}

static void report(struct bench *b, struct vhu_dev *d, double secs, double cpu)
{
	struct client_opts *c = b->c;
	double iops = b->ios / secs, mbps = b->ios * (double)c->bs / secs / 1e6;
	double per_mio = cpu >= 0 && b->ios ? cpu / (b->ios / 1e6) : -1;

	qsort(b->lat, b->nlat, sizeof(*b->lat), cmp_u32);
	if (!c->json) {
		printf("%s bs=%llu qd=%u queues=%u: %.0f IOPS, %.1f MB/s, "
		       "p50 %.1f us, p99 %.1f us, p99.9 %.1f us, errors %llu",
		       c->rw, (unsigned long long)c->bs, c->qd, d->nq, iops, mbps,
		       pct_us(b, 0.5), pct_us(b, 0.99), pct_us(b, 0.999),
		       (unsigned long long)b->errors);
		if (cpu >= 0)
			printf(", back-end CPU %.2f s (%.2f s per million I/Os)", cpu, per_mio);
		printf("\n");
		return;
	}
	printf("{");
	for (int i = 0; i < c->nlabels; i++) {
		const char *eq = strchr(c->labels[i], '=');

		printf("\"%.*s\":\"%s\",", (int)(eq - c->labels[i]), c->labels[i], eq + 1);
	}
	printf("\"rw\":\"%s\",\"bs\":%llu,\"qd\":%u,\"queues\":%u,\"seconds\":%.3f,"
	       "\"ios\":%llu,\"errors\":%llu,\"iops\":%.0f,\"mbps\":%.1f,"
	       "\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
	       "\"event_idx\":%d,\"indirect\":%d",
	       c->rw, (unsigned long long)c->bs, c->qd, d->nq, secs,
	       (unsigned long long)b->ios, (unsigned long long)b->errors, iops, mbps,
	       pct_us(b, 0.5), pct_us(b, 0.99), pct_us(b, 0.999),
	       has_feature(d->acked, VIRTIO_F_EVENT_IDX),
	       has_feature(d->acked, VIRTIO_F_INDIRECT_DESC));
	if (cpu >= 0)
		printf(",\"cpu_s\":%.3f,\"cpu_s_per_mio\":%.3f", cpu, per_mio);
	else
		printf(",\"cpu_s\":null,\"cpu_s_per_mio\":null");
	printf("}\n");
}

static int bench_setup(struct bench *b, struct vhu_dev *d, struct client_opts *c)
{
	uint64_t span = d->have_cfg ? d->cfg.capacity * VHU_SECTOR : 0;

	if (c->span && (c->span < span || !span))
		span = c->span;
	b->c = c;
	b->write = !strcmp(c->rw, "randwrite") || !strcmp(c->rw, "write");
	b->random = !strncmp(c->rw, "rand", 4);
	if (!b->write && strcmp(c->rw, "randread") && strcmp(c->rw, "read")) {
		fprintf(stderr, "vhu-client: --rw must be randread|randwrite|read|write\n");
		return -EINVAL;
	}
	b->nblocks = span / c->bs;
	if (!b->nblocks) {
		fprintf(stderr, "vhu-client: disk size unknown or smaller than --bs\n");
		return -EINVAL;
	}
	if (d->vq[0].nslots < c->qd) {
		fprintf(stderr, "vhu-client: only %u slots per queue\n", d->vq[0].nslots);
		return -EINVAL;
	}
	for (unsigned q = 0; q < d->nq; q++)
		b->seq_next[q] = b->nblocks / d->nq * q;
	b->rng = 0x2545f4914f6cdd1dull;
	b->cap = 64ull << 20;
	b->lat = malloc(b->cap * sizeof(*b->lat));
	if (!b->lat)
		return -ENOMEM;
	/* written data: a pattern, not zeros the back-end could shortcut */
	for (unsigned q = 0; q < d->nq; q++)
		for (unsigned i = 0; i < d->vq[q].nslots; i++)
			vhu_pattern(d->vq[q].slots[i].buf, c->bs, q * 1000 + i);
	return 0;
}

int cmd_bench(struct vhu_dev *d, struct client_opts *c)
{
	struct bench b = { 0 };
	double cpu0 = -1, cpu1 = -1;
	uint64_t t0, t1;
	int rc = bench_setup(&b, d, c);

	if (rc < 0)
		goto cleanup;
	if (c->pid)
		cpu0 = proc_cpu_seconds(c->pid);
	t0 = af_now_ns();
	b.end_ns = t0 + c->seconds * 1000000000ull;
	for (unsigned q = 0; q < d->nq; q++)
		for (unsigned i = 0; i < c->qd; i++)
			issue(&b, &d->vq[q].slots[i]);
	while (!b.stopping) {
		for (unsigned q = 0; q < d->nq; q++)
			vhu_kick(&d->vq[q]);
		rc = vhu_poll(d, 5000, on_done, &b);
		if (rc <= 0) {
			fprintf(stderr, "vhu-client: %s\n", rc ? strerror(-rc) : "back-end stalled (5 s)");
			rc = 1;
			goto cleanup;
		}
	}
	t1 = af_now_ns();
	if (c->pid)
		cpu1 = proc_cpu_seconds(c->pid);
	/* let the rest finish so the back-end is idle when we disconnect */
	for (unsigned q = 0; q < d->nq; q++)
		while (d->vq[q].inflight && vhu_poll(d, 2000, on_done, &b) > 0)
			;
	report(&b, d, (t1 - t0) / 1e9, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1);
	rc = b.errors ? 1 : 0;
cleanup:
	free(b.lat);
	return rc < 0 ? 1 : rc;
}
