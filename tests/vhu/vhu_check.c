// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu: request batches and the data checks shared by `vhu-client verify`
 * and the tests: write patterns and read them back on every queue, flush,
 * discard and write-zeroes read back as zeros, get-id.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vhu.h"

const char *vhu_status_name(int status)
{
	switch (status) {
	case VIRTIO_BLK_S_OK: return "OK";
	case VIRTIO_BLK_S_IOERR: return "IOERR";
	case VIRTIO_BLK_S_UNSUPP: return "UNSUPP";
	case -ETIMEDOUT: return "no completion";
	}
	return status < 0 ? "error" : "bad status byte";
}

/* Deterministic data per (seed, offset): splitmix64 per 8-byte word. */
void vhu_pattern(void *buf, uint32_t len, uint64_t seed)
{
	uint8_t *p = buf;

	for (uint32_t i = 0; i < len; i += 8) {
		uint64_t z = seed + (i / 8 + 1) * 0x9e3779b97f4a7c15ull;

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(p + i, &z, len - i < 8 ? len - i : 8);
	}
}

struct batch {
	struct vhu_op *ops;
	unsigned left;
};

static void batch_done(struct vhu_req *r, void *arg)
{
	struct batch *b = arg;
	struct vhu_op *op = &b->ops[r->tag];

	op->completions++;
	op->status = *r->status;
	if ((op->type == VIRTIO_BLK_T_IN || op->type == VIRTIO_BLK_T_GET_ID) && op->data)
		memcpy(op->data, r->buf, op->len);
	b->left--;
}

/* Submits what fits on each queue, kicks, collects; repeats until done. */
int vhu_batch(struct vhu_dev *d, struct vhu_op *ops, unsigned n, int timeout_ms)
{
	struct batch b = { ops, n };
	uint64_t end = af_now_ns() + timeout_ms * 1000000ull;
	unsigned next = 0;

	for (unsigned i = 0; i < n; i++) {
		ops[i].status = -ETIMEDOUT;
		ops[i].completions = 0;
	}
	while (b.left) {
		for (; next < n; next++) {
			struct vhu_op *op = &ops[next];
			struct vhu_req *r = vhu_req_get(&d->vq[op->q]);

			if (!r)
				break;
			if (op->type == VIRTIO_BLK_T_OUT)
				memcpy(r->buf, op->data, op->len);
			r->tag = next;
			if (vhu_req_submit(r, op->type, op->sector, op->len) < 0)
				return -EINVAL;
		}
		for (unsigned q = 0; q < d->nq; q++)
			if (vhu_kick(&d->vq[q]) < 0)
				return -EIO;
		int64_t left = (int64_t)(end - af_now_ns()) / 1000000;

		if (left <= 0)
			return -ETIMEDOUT;
		int r = vhu_poll(d, left, batch_done, &b);

		if (r < 0)
			return r;
	}
	return 0;
}

#define RW_STRIDE	(128 * 1024 / VHU_SECTOR)	/* one 128 KiB area per op */

static unsigned rw_ops_per_queue(struct vhu_dev *d)
{
	unsigned n = d->vq[0].nslots < 32 ? d->vq[0].nslots : 32;
	uint64_t cap = d->have_cfg ? d->cfg.capacity : 0;

	/* stay inside the disk: every op owns RW_STRIDE sectors */
	while (cap && n > 1 && (uint64_t)n * d->nq * RW_STRIDE > cap)
		n /= 2;
	return n;
}

static int rw_compare(struct vhu_op *w, struct vhu_op *r, unsigned n)
{
	int fails = 0;

	for (unsigned i = 0; i < n; i++) {
		if (w[i].status != VIRTIO_BLK_S_OK || r[i].status != VIRTIO_BLK_S_OK) {
			printf("FAIL rw: queue %u sector %llu: write %s, read %s\n",
			       w[i].q, (unsigned long long)w[i].sector,
			       vhu_status_name(w[i].status), vhu_status_name(r[i].status));
			fails++;
		} else if (memcmp(w[i].data, r[i].data, w[i].len)) {
			printf("FAIL rw: queue %u sector %llu len %u: read-back differs\n",
			       w[i].q, (unsigned long long)w[i].sector, w[i].len);
			fails++;
		}
	}
	return fails;
}

/* Patterned writes on every queue at once, then read back and compare. */
int vhu_check_rw(struct vhu_dev *d, uint64_t seed)
{
	static const uint32_t lens[] = { 4096, 512, 65536, 12288, 131072, 1024 };
	unsigned per = rw_ops_per_queue(d), n = per * d->nq;
	struct vhu_op *w = calloc(n, sizeof(*w)), *r = calloc(n, sizeof(*r));
	int fails = 0, rc;

	for (unsigned i = 0; i < n && w && r; i++) {
		uint32_t len = lens[i % 6] < d->o.buf_size ? lens[i % 6] : d->o.buf_size;

		w[i] = (struct vhu_op){ .q = i % d->nq, .type = VIRTIO_BLK_T_OUT,
					.sector = (uint64_t)i * RW_STRIDE, .len = len,
					.data = malloc(len) };
		r[i] = w[i];
		r[i].type = VIRTIO_BLK_T_IN;
		r[i].data = malloc(len);
		if (!w[i].data || !r[i].data) {
			fails = 1;
			goto cleanup;
		}
		vhu_pattern(w[i].data, len, seed + i);
	}
	if (!w || !r) {
		fails = 1;
		goto cleanup;
	}
	rc = vhu_batch(d, w, n, 10000);
	if (rc == 0)
		rc = vhu_batch(d, r, n, 10000);
	if (rc < 0) {
		printf("FAIL rw: batch of %u ops on %u queues: %s\n", n, d->nq, strerror(-rc));
		fails++;
	}
	fails += rw_compare(w, r, n);
cleanup:
	for (unsigned i = 0; i < n && w && r; i++) {
		free(w[i].data);
		free(r[i].data);
	}
	free(w);
	free(r);
	return fails;
}

int vhu_check_flush(struct vhu_dev *d)
{
	int st;

	if (!has_feature(d->acked, VIRTIO_BLK_F_FLUSH)) {
		printf("FAIL flush: VIRTIO_BLK_F_FLUSH not offered\n");
		return 1;
	}
	st = vhu_rw_sync(d, d->nq - 1, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, 5000);
	if (st != VIRTIO_BLK_S_OK) {
		printf("FAIL flush: status %s\n", vhu_status_name(st));
		return 1;
	}
	return 0;
}

static int all_zero(const uint8_t *p, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Pattern, then DISCARD or WRITE_ZEROES over it, then the range reads 0. */
int vhu_check_zeroes(struct vhu_dev *d, uint32_t type)
{
	const char *name = type == VIRTIO_BLK_T_DISCARD ? "discard" : "write-zeroes";
	unsigned bit = type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD
						     : VIRTIO_BLK_F_WRITE_ZEROES;
	uint32_t len = 64 * 1024;
	uint64_t sector = 2048;		/* 1 MiB in, 1 MiB aligned */
	uint8_t *buf = malloc(len);
	int st, fails = 0;

	if (!buf)
		return 1;
	if (!has_feature(d->acked, bit)) {
		printf("FAIL %s: feature not offered\n", name);
		fails = 1;
		goto cleanup;
	}
	vhu_pattern(buf, len, 77);
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_OUT, sector, buf, len, 5000);
	if (st == VIRTIO_BLK_S_OK)
		st = vhu_rw_sync(d, 0, type, sector, NULL, len, 5000);
	if (st != VIRTIO_BLK_S_OK) {
		printf("FAIL %s: status %s\n", name, vhu_status_name(st));
		fails = 1;
		goto cleanup;
	}
	memset(buf, 0xee, len);
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, sector, buf, len, 5000);
	if (st != VIRTIO_BLK_S_OK || !all_zero(buf, len)) {
		printf("FAIL %s: read-back %s\n", name,
		       st ? vhu_status_name(st) : "not all zero");
		fails = 1;
	}
cleanup:
	free(buf);
	return fails;
}

int vhu_check_get_id(struct vhu_dev *d, char id[VIRTIO_BLK_ID_BYTES + 1])
{
	int st;

	memset(id, 0, VIRTIO_BLK_ID_BYTES + 1);
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES, 5000);
	if (st != VIRTIO_BLK_S_OK) {
		printf("FAIL get-id: status %s\n", vhu_status_name(st));
		return 1;
	}
	if (!id[0]) {
		printf("FAIL get-id: empty id\n");
		return 1;
	}
	return 0;
}

/* Segments of one 4 KiB request, laid out in guest memory in reverse. */
static const uint32_t sg_len[] = { 512, 1536, 1024, 512, 512 };
#define SG_N (sizeof(sg_len) / sizeof(sg_len[0]))
#define SG_HEAD 200u			/* free descriptors when slots use indirect */

static uint32_t sg_off(unsigned k)	/* where segment k sits in the buffer */
{
	uint32_t off = 0;

	for (unsigned j = k + 1; j < SG_N; j++)
		off += sg_len[j];
	return off;
}

/* One request with its data split over SG_N descriptors; returns status. */
static int sg_request(struct vhu_dev *d, uint32_t type, uint64_t sector)
{
	struct vhu_vq *vq = &d->vq[0];
	struct vhu_req *r = vhu_req_get(vq);
	uint16_t flags = type == VIRTIO_BLK_T_IN ? VRING_DESC_F_WRITE : 0;
	unsigned i = SG_HEAD;

	if (!r || vq->size < SG_HEAD + SG_N + 2)
		return -EINVAL;
	*r->hdr = (struct blk_hdr){ .type = type, .sector = sector };
	*r->status = 0xff;
	vq->desc[i] = (struct vring_d){ r->hdr_gpa, 16, VRING_DESC_F_NEXT, i + 1 };
	for (unsigned k = 0; k < SG_N; k++, i++)
		vq->desc[i + 1] = (struct vring_d){ r->buf_gpa + sg_off(k), sg_len[k],
						    flags | VRING_DESC_F_NEXT, i + 2 };
	vq->desc[i + 1] = (struct vring_d){ r->status_gpa, 1, VRING_DESC_F_WRITE, 0 };
	r->busy = 1;
	r->type = type;
	vq->by_head[SG_HEAD] = r;
	vq->inflight++;
	vhu_publish(vq, SG_HEAD);
	vhu_kick(vq);
	for (uint64_t end = af_now_ns() + 5000000000ull; r->busy && af_now_ns() < end;)
		vhu_poll(d, 100, NULL, NULL);
	return r->busy ? -ETIMEDOUT : *r->status;
}

/* Scatter-gather: a write from 5 segments reads back whole, and a whole
 * write reads back through 5 segments (uneven sizes, reverse order). */
int vhu_check_sg(struct vhu_dev *d)
{
	uint8_t want[4096], got[4096];
	uint8_t *buf = d->vq[0].slots[0].buf;
	uint32_t pos = 0;
	int st, fails = 0;

	if (d->vq[0].slots[0].busy || d->vq[0].size < SG_HEAD + SG_N + 2)
		return 0;		/* small rings: nothing to say */
	vhu_pattern(want, sizeof(want), 31337);
	for (unsigned k = 0; k < SG_N; pos += sg_len[k], k++)
		memcpy(buf + sg_off(k), want + pos, sg_len[k]);
	st = sg_request(d, VIRTIO_BLK_T_OUT, 4096);
	if (st == VIRTIO_BLK_S_OK)
		st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, 4096, got, sizeof(got), 5000);
	if (st != VIRTIO_BLK_S_OK || memcmp(want, got, sizeof(got))) {
		printf("FAIL sg: 5-segment write: %s\n", st ? vhu_status_name(st) : "data differs");
		fails++;
	}
	vhu_pattern(want, sizeof(want), 31338);
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_OUT, 4096, want, sizeof(want), 5000);
	memset(buf, 0xee, sizeof(got));
	if (st == VIRTIO_BLK_S_OK)
		st = sg_request(d, VIRTIO_BLK_T_IN, 4096);
	pos = 0;
	for (unsigned k = 0; k < SG_N; pos += sg_len[k], k++)
		memcpy(got + pos, buf + sg_off(k), sg_len[k]);
	if (st != VIRTIO_BLK_S_OK || memcmp(want, got, sizeof(got))) {
		printf("FAIL sg: 5-segment read: %s\n", st ? vhu_status_name(st) : "data differs");
		fails++;
	}
	return fails;
}

int vhu_check_all(struct vhu_dev *d, int verbose)
{
	char id[VIRTIO_BLK_ID_BYTES + 1];
	int f, fails = 0;

	fails += f = vhu_check_rw(d, 1000);
	if (verbose)
		printf("%s rw on %u queues\n", f ? "FAIL" : "ok  ", d->nq);
	fails += f = vhu_check_sg(d);
	if (verbose)
		printf("%s scatter-gather read and write\n", f ? "FAIL" : "ok  ");
	fails += f = vhu_check_flush(d);
	if (verbose)
		printf("%s flush\n", f ? "FAIL" : "ok  ");
	fails += f = vhu_check_zeroes(d, VIRTIO_BLK_T_WRITE_ZEROES);
	if (verbose)
		printf("%s write-zeroes reads back zeros\n", f ? "FAIL" : "ok  ");
	fails += f = vhu_check_zeroes(d, VIRTIO_BLK_T_DISCARD);
	if (verbose)
		printf("%s discard reads back zeros\n", f ? "FAIL" : "ok  ");
	fails += f = vhu_check_get_id(d, id);
	if (verbose)
		printf("%s get-id \"%s\"\n", f ? "FAIL" : "ok  ", id);
	return fails;
}
