// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Cases shared by test-qsd and test-blk: the same assertions run against the
 * reference back-end (qemu-storage-daemon) and ours, so a case that passes on
 * one and fails on the other points at the back-end, not the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"


void test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	exit(77);
}

void test_start(struct vhu_backend *b, enum vhu_backend_kind kind, const char *name,
		unsigned nq, int writable, const char *const *extra, char *disk, size_t len)
{
	char dname[64];
	int rc;

	snprintf(dname, sizeof(dname), "%s.img", name);
	if (vhu_make_disk(dname, TEST_DISK_SIZE, disk, len) < 0) {
		printf("FAIL: cannot create %s\n", dname);
		exit(1);
	}
	rc = vhu_backend_start(b, kind, name, disk, nq, writable, extra);
	if (rc < 0) {
		printf("FAIL: starting %s back-end: %s\n",
		       kind == VHU_QSD ? "qemu-storage-daemon" : "antfarm-blk", strerror(-rc));
		vhu_backend_dump_log(b);
		exit(1);
	}
}

int test_connect_with(struct vhu_dev *d, struct vhu_backend *b, const struct vhu_opts *o,
		      unsigned nq)
{
	int rc = vhu_dev_init(d, o, nq);

	return rc ? rc : vhu_setup(d, b->sock, 2000);
}

static int connect_opts(struct vhu_dev *d, struct vhu_backend *b, unsigned nq,
			int inflight, uint64_t extra, int plain)
{
	struct vhu_opts o;

	vhu_opts_defaults(&o);
	o.qd = 64;
	o.want_inflight = inflight;
	o.extra_mem = extra;
	o.no_event_idx = o.no_indirect = plain;
	return test_connect_with(d, b, &o, nq);
}

int test_connect(struct vhu_dev *d, struct vhu_backend *b, unsigned nq, int inflight)
{
	return connect_opts(d, b, nq, inflight, 0, 0);
}

int test_connect_extra(struct vhu_dev *d, struct vhu_backend *b, uint64_t extra)
{
	return connect_opts(d, b, 1, 1, extra, 0);
}

static void check_negotiated(struct vhu_dev *d, unsigned nq)
{
	CHECK(has_feature(d->acked, VIRTIO_F_VERSION_1), "VERSION_1 not negotiated");
	CHECK(has_feature(d->acked_proto, VHU_PF_MQ), "protocol MQ not offered");
	CHECK(has_feature(d->acked_proto, VHU_PF_CONFIG), "protocol CONFIG not offered");
	CHECK(d->max_queues >= nq, "GET_QUEUE_NUM %llu < %u",
	      (unsigned long long)d->max_queues, nq);
	CHECK(d->have_cfg && d->cfg.capacity == TEST_DISK_SIZE / VHU_SECTOR,
	      "config capacity %llu, want %llu", (unsigned long long)d->cfg.capacity,
	      TEST_DISK_SIZE / VHU_SECTOR);
	CHECK(!has_feature(d->acked, VIRTIO_BLK_F_MQ) || d->cfg.num_queues == nq,
	      "config num_queues %u, want %u", d->cfg.num_queues, nq);
	CHECK(!has_feature(d->acked, VIRTIO_BLK_F_RO), "RO offered on a writable disk");
}

/* What the device wrote must be in the file, byte for byte. */
static void check_file(const char *disk)
{
	uint8_t want[4096], got[4096];
	int fd = open(disk, O_RDONLY | O_CLOEXEC);

	/* first op of vhu_check_rw(seed 1000): 4 KiB at sector 0 */
	vhu_pattern(want, sizeof(want), 1000);
	CHECK(fd >= 0 && pread(fd, got, sizeof(got), 0) == sizeof(got) &&
	      !memcmp(want, got, sizeof(got)), "disk file does not hold the written data");
	if (fd >= 0)
		close(fd);
}

void test_out_of_range(struct vhu_dev *d)
{
	uint64_t cap = d->cfg.capacity;
	uint8_t buf[4096] = { 0 };
	int st;

	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, cap, buf, 512, 5000);
	CHECK(st == VIRTIO_BLK_S_IOERR, "read at sector capacity: %s", vhu_status_name(st));
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, cap - 1, buf, 4096, 5000);
	CHECK(st == VIRTIO_BLK_S_IOERR, "read across the end: %s", vhu_status_name(st));
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_OUT, cap - 4, buf, 4096, 5000);
	CHECK(st == VIRTIO_BLK_S_IOERR, "write across the end: %s", vhu_status_name(st));
	/* sector * 512 overflows 64 bits */
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, (1ull << 63) + 8, buf, 4096, 5000);
	CHECK(st == VIRTIO_BLK_S_IOERR, "read at 2^63 sectors: %s", vhu_status_name(st));
	st = vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, 8, buf, 4096, 5000);
	CHECK(st == VIRTIO_BLK_S_OK, "read after the bad ones: %s", vhu_status_name(st));
}

void test_proto_data(enum vhu_backend_kind kind)
{
	struct vhu_backend b;
	struct vhu_dev d;
	char disk[256];
	int rc;

	test_start(&b, kind, "pd", 2, 1, NULL, disk, sizeof(disk));
	rc = test_connect(&d, &b, 2, 1);
	CHECK(rc == 0, "set-up on 2 queues: %s", strerror(-rc));
	if (rc == 0) {
		check_negotiated(&d, 2);
		printf("back-end offers INFLIGHT_SHMFD: %s\n",
		       has_feature(d.proto, VHU_PF_INFLIGHT) ? "yes" : "no");
		check_failures += vhu_check_all(&d, 1);
		check_file(disk);
		test_out_of_range(&d);
		CHECK(vhu_stop_queues(&d) == 0, "GET_VRING_BASE failed");
	}
	vhu_dev_free(&d);
	/* the front-end may go away and come back */
	rc = test_connect(&d, &b, 1, 1);
	CHECK(rc == 0, "reconnect: %s", strerror(-rc));
	if (rc == 0)
		CHECK(vhu_check_rw(&d, 2000) == 0, "I/O after reconnect");
	vhu_dev_free(&d);
	/* direct descriptor chains and flag-based notification, no EVENT_IDX */
	rc = connect_opts(&d, &b, 2, 0, 0, 1);
	CHECK(rc == 0, "set-up without EVENT_IDX and INDIRECT: %s", strerror(-rc));
	if (rc == 0) {
		CHECK(!has_feature(d.acked, VIRTIO_F_EVENT_IDX) &&
		      !has_feature(d.acked, VIRTIO_F_INDIRECT_DESC), "features not masked");
		CHECK(vhu_check_rw(&d, 4000) == 0, "I/O without EVENT_IDX and INDIRECT");
	}
	vhu_dev_free(&d);
	rc = test_connect(&d, &b, 3, 1);
	CHECK(rc == -ERANGE, "3 queues on a 2-queue export: %s", rc ? strerror(-rc) : "accepted");
	vhu_dev_free(&d);
	CHECK(vhu_backend_alive(&b), "back-end died");
	vhu_backend_stop(&b);
}

void test_read_only(enum vhu_backend_kind kind)
{
	struct vhu_backend b;
	struct vhu_dev d;
	uint8_t buf[4096];
	char disk[256];
	int rc, st;

	test_start(&b, kind, "ro", 1, 0, NULL, disk, sizeof(disk));
	rc = test_connect(&d, &b, 1, 1);
	CHECK(rc == 0, "set-up on a read-only disk: %s", strerror(-rc));
	if (rc == 0) {
		CHECK(has_feature(d.acked, VIRTIO_BLK_F_RO), "RO not offered");
		vhu_pattern(buf, sizeof(buf), 5);
		st = vhu_rw_sync(&d, 0, VIRTIO_BLK_T_OUT, 0, buf, sizeof(buf), 5000);
		CHECK(st == VIRTIO_BLK_S_IOERR, "write to read-only disk: %s", vhu_status_name(st));
		st = vhu_rw_sync(&d, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, NULL, 4096, 5000);
		CHECK(st != VIRTIO_BLK_S_OK, "write-zeroes to read-only disk: OK");
		st = vhu_rw_sync(&d, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf), 5000);
		CHECK(st == VIRTIO_BLK_S_OK, "read from read-only disk: %s", vhu_status_name(st));
	}
	vhu_dev_free(&d);
	CHECK(vhu_backend_alive(&b), "back-end died");
	vhu_backend_stop(&b);
}

static int report_death(struct vhu_backend *b, const char *after)
{
	if (vhu_backend_alive(b))
		return 0;
	if (b->pid == 0)
		return 1;			/* reported already */
	CHECK(0, "back-end died after %s (%s %d)", after,
	      WIFSIGNALED(b->status) ? "signal" : "exit status",
	      WIFSIGNALED(b->status) ? WTERMSIG(b->status) : WEXITSTATUS(b->status));
	vhu_backend_dump_log(b);
	b->pid = 0;
	return 1;
}

void test_still_serves(struct vhu_backend *b, const char *after)
{
	struct vhu_dev d;
	int rc;

	if (report_death(b, after))
		return;
	rc = test_connect(&d, b, 1, 1);
	if (rc == 0)
		rc = vhu_check_rw(&d, 3000) ? -EIO : 0;
	vhu_dev_free(&d);
	if (rc < 0) {
		/* a back-end that is crashing right now refuses or resets */
		usleep(200000);
		if (report_death(b, after))
			return;
	}
	CHECK(rc == 0, "new connection after %s: %s", after, strerror(-rc));
}
