// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Restart with inflight tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD):
 * fill every slot of two queues with writes of distinct patterns, kill -9
 * the back-end while they are in flight, start a new one on the same socket
 * and reconnect the way QEMU does (same guest memory and inflight buffer:
 * SET_INFLIGHT_FD, SET_MEM_TABLE, vring base = used idx, kick signalled).
 * Every request must complete exactly once with OK and the disk must hold
 * exactly what was written: nothing lost, nothing torn, nothing twice.
 * qemu-storage-daemon has no inflight support; the test checks and says so.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

#define NQ	2
#define QD	128
#define IOSZ	(64 * 1024)
#define NOPS	(NQ * QD)
#define ROUNDS	5		/* the last one crashes twice in a row */

static struct vhu_backend be;
static char disk[256];
static const char *const blk_args[] = { "--direct", NULL };

struct op {
	unsigned q;
	uint64_t sector;
	uint32_t completions;
	int status;
};

static struct op ops[NOPS];

static void on_done(struct vhu_req *r, void *arg)
{
	struct op *op = &ops[r->tag];

	op->completions++;
	op->status = *r->status;
}

static unsigned used_total(struct vhu_dev *d)
{
	unsigned n = 0;

	for (unsigned q = 0; q < d->nq; q++)
		n += (uint16_t)(__atomic_load_n(&d->vq[q].used->idx, __ATOMIC_ACQUIRE) -
				d->vq[q].used_seen);
	return n;
}

/* Heads the dead back-end left marked in flight (layout per vhost-user.rst;
 * the per-queue stride is the back-end's, so derive it from the size). */
static unsigned inflight_marked(struct vhu_dev *d)
{
	uint64_t stride = d->inflight_size / d->inflight_nq;
	unsigned n = 0;

	for (unsigned q = 0; q < d->nq; q++) {
		struct vhu_inflight_queue *iq = (void *)(d->inflight + q * stride);

		for (unsigned i = 0; i < d->o.queue_size &&
		     sizeof(*iq) + (i + 1) * sizeof(iq->desc[0]) <= stride; i++)
			n += iq->desc[i].inflight == 1;
	}
	return n;
}

static void submit_round(struct vhu_dev *d, unsigned round)
{
	for (unsigned i = 0; i < NOPS; i++) {
		struct vhu_req *r = &d->vq[ops[i].q].slots[i / NQ];

		ops[i].completions = 0;
		ops[i].status = -1;
		vhu_pattern(r->buf, IOSZ, round * 100000ull + i);
		r->tag = i;
		CHECK(vhu_req_submit(r, VIRTIO_BLK_T_OUT, ops[i].sector, IOSZ) == 0,
		      "submit op %u", i);
	}
	for (unsigned q = 0; q < NQ; q++)
		vhu_kick(&d->vq[q]);
}

/* Same memory, rings and inflight buffer; new back-end process. */
static int reconnect(struct vhu_dev *d)
{
	int rc;

	vhu_close_sock(d);
	rc = vhu_backend_start(&be, VHU_BLK, "restart", disk, NQ, 1, blk_args);
	if (rc == 0)
		rc = vhu_reconnect(d, be.sock, 2000);
	if (rc == 0 && !has_feature(d->acked_proto, VHU_PF_INFLIGHT))
		rc = -EPROTONOSUPPORT;
	return rc;
}

static void check_round(struct vhu_dev *d, unsigned round)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < NOPS; i++) {
		if (ops[i].completions == 1 && ops[i].status == VIRTIO_BLK_S_OK)
			continue;
		if (bad++ < 8)
			printf("FAIL round %u op %u (queue %u): %u completions, status %s\n",
			       round, i, ops[i].q, ops[i].completions,
			       vhu_status_name(ops[i].status));
	}
	CHECK(bad == 0, "round %u: %u of %u writes not completed exactly once with OK",
	      round, bad, NOPS);
	for (unsigned q = 0; q < NQ; q++)
		CHECK(d->vq[q].bad_used == 0, "round %u queue %u: %llu used entries for "
		      "requests not in flight (duplicates)", round, q,
		      (unsigned long long)d->vq[q].bad_used);
}

/* Read back through the device and straight from the file. */
static void check_content(struct vhu_dev *d, unsigned round)
{
	static uint8_t want[IOSZ], got[IOSZ], dev[IOSZ];
	struct vhu_op rd;
	unsigned bad = 0;
	int fd = open(disk, O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0, "open %s", disk);
	for (unsigned i = 0; i < NOPS && fd >= 0; i++) {
		vhu_pattern(want, IOSZ, round * 100000ull + i);
		rd = (struct vhu_op){ .q = ops[i].q, .type = VIRTIO_BLK_T_IN,
				      .sector = ops[i].sector, .len = IOSZ, .data = dev };
		int rc = vhu_batch(d, &rd, 1, 5000);
		int file_ok = pread(fd, got, IOSZ, ops[i].sector * VHU_SECTOR) == IOSZ &&
			      !memcmp(want, got, IOSZ);

		if (rc == 0 && rd.status == VIRTIO_BLK_S_OK && !memcmp(want, dev, IOSZ) &&
		    file_ok)
			continue;
		if (bad++ < 8)
			printf("FAIL round %u op %u: content %s\n", round, i,
			       file_ok ? "read through the device differs" :
				"in the file differs (lost or torn write)");
	}
	CHECK(bad == 0, "round %u: %u of %u areas do not hold the last write", round, bad, NOPS);
	if (fd >= 0)
		close(fd);
}

static void run_round(struct vhu_dev *d, unsigned round)
{
	static const unsigned kill_after[ROUNDS] = { 0, 8, 64, 160, 32 };
	uint64_t give_up = af_now_ns() + 200000000ull;
	unsigned before, marked;
	int rc;

	submit_round(d, round);
	/* kill once the back-end is busy: some done, most still in flight */
	while (used_total(d) < kill_after[round] && af_now_ns() < give_up)
		;
	vhu_backend_kill(&be, SIGKILL);
	before = used_total(d);
	marked = inflight_marked(d);
	rc = reconnect(d);
	if (rc == 0 && round == ROUNDS - 1) {
		/* kill the new process too while it resubmits, then once more */
		vhu_backend_kill(&be, SIGKILL);
		rc = reconnect(d);
	}
	CHECK(rc == 0, "round %u: reconnect to the restarted back-end: %s", round, strerror(-rc));
	if (rc < 0) {
		vhu_backend_dump_log(&be);
		return;
	}
	uint64_t end = af_now_ns() + 15000000000ull;

	while (af_now_ns() < end) {
		unsigned busy = 0;

		for (unsigned q = 0; q < NQ; q++)
			busy += d->vq[q].inflight;
		if (!busy)
			break;
		if (vhu_poll(d, 1000, on_done, NULL) < 0)
			break;
	}
	printf("round %u: killed%s with %u of %u completed in the used ring, %u marked in "
	       "flight in the shared buffer\n", round, round == ROUNDS - 1 ? " twice" : "",
	       before, NOPS, marked);
	check_round(d, round);
	check_content(d, round);
}

static void qsd_note(void)
{
	struct vhu_backend q;
	struct vhu_dev d;
	char qdisk[256];
	int rc;

	if (!vhu_qsd_path()) {
		printf("qemu-storage-daemon not installed: not compared\n");
		return;
	}
	test_start(&q, VHU_QSD, "qsd", 1, 1, NULL, qdisk, sizeof(qdisk));
	rc = test_connect(&d, &q, 1, 1);
	CHECK(rc == 0, "qemu-storage-daemon set-up: %s", strerror(-rc));
	if (rc == 0)
		printf("qemu-storage-daemon protocol features 0x%llx: INFLIGHT_SHMFD %s, "
		       "so it cannot keep I/O across a restart\n",
		       (unsigned long long)d.proto,
		       has_feature(d.proto, VHU_PF_INFLIGHT) ? "offered" : "NOT offered");
	vhu_dev_free(&d);
	vhu_backend_stop(&q);
}

int main(void)
{
	struct vhu_opts o;
	struct vhu_dev d;
	int rc;

	if (!vhu_blk_path())
		test_skip("antfarm-blk not built yet (no build/antfarm-blk)");
	qsd_note();
	test_start(&be, VHU_BLK, "restart", NQ, 1, blk_args, disk, sizeof(disk));
	vhu_opts_defaults(&o);
	o.qd = QD;
	o.buf_size = IOSZ;
	rc = vhu_dev_init(&d, &o, NQ);
	if (rc == 0)
		rc = vhu_setup(&d, be.sock, 2000);
	CHECK(rc == 0, "set-up: %s", strerror(-rc));
	CHECK(rc || has_feature(d.acked_proto, VHU_PF_INFLIGHT),
	      "antfarm-blk does not offer INFLIGHT_SHMFD");
	CHECK(rc || d.vq[0].nslots >= QD, "only %u slots per queue", d.vq[0].nslots);
	if (rc == 0 && d.inflight && d.vq[0].nslots >= QD) {
		for (unsigned i = 0; i < NOPS; i++)
			ops[i] = (struct op){ .q = i % NQ, .sector = (uint64_t)i * (IOSZ / VHU_SECTOR) };
		for (unsigned round = 0; round < ROUNDS && !check_failures; round++)
			run_round(&d, round);
	}
	vhu_dev_free(&d);
	vhu_backend_stop(&be);
	return check_summary("restart with inflight I/O");
}
