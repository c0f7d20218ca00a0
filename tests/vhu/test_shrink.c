// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * A front-end that shrinks the files it handed over: guest memory (a memfd
 * made without MFD_ALLOW_SEALING, a regular file) or its own inflight fd.
 * Touching a mapping past the end of its file raises SIGBUS; antfarm-blk
 * must end that connection and keep serving, never die.  Where the file
 * can be sealed (a sealable memfd, the inflight memfd antfarm-blk makes
 * itself) the shrink must be refused instead.  Each case on its own
 * connection; afterwards the back-end must be alive and a new connection
 * must do correct I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "testlib.h"

static struct vhu_backend be;
static char disk[256], held_disk[256];

static int setup(struct vhu_dev *d, const char *mem_path, int sealable, int own_inflight,
		 struct vhu_backend *b);

/* The case's line: what was checked, or that it failed. */
static void result(const char *name, int failures_before, const char *ok)
{
	printf("%-44s %s\n", name, check_failures == failures_before ? ok : "FAILED");
}

/* The back-end closed this connection (EOF within a few seconds). */
static int closed(struct vhu_dev *d)
{
	struct pollfd p = { .fd = d->sock, .events = POLLIN };
	char c;

	return poll(&p, 1, 5000) == 1 && recv(d->sock, &c, 1, MSG_DONTWAIT) <= 0;
}

/* One read on queue 0, with the result wanted. */
static int one_read(struct vhu_dev *d)
{
	uint8_t buf[4096];

	return vhu_rw_sync(d, 0, VIRTIO_BLK_T_IN, 8, buf, sizeof(buf), 3000);
}

/* After a shrink that faulted: the back-end is alive and serves anew. */
static void end_faulted(struct vhu_dev *d, struct vhu_backend *b, const char *name, int f0)
{
	vhu_dev_free(d);
	CHECK(vhu_backend_alive(b), "%s: the back-end died", name);
	test_still_serves(b, name);
	result(name, f0, "connection closed, back-end serving");
}

/* After a shrink the seals refused. */
static void end_sealed(struct vhu_dev *d, const char *name, int f0)
{
	vhu_dev_free(d);
	result(name, f0, "sealed: shrink refused");
}

/* Guest memory shrunk under the back-end: the next request faults. */
static void shrink_memory(const char *name, const char *mem_path)
{
	struct vhu_dev d;
	int rc, f0 = check_failures;

	rc = setup(&d, mem_path, 0, 0, &be);
	if (CHECK(rc == 0, "%s: set-up: %s", name, strerror(-rc))) {
		CHECK(one_read(&d) == VIRTIO_BLK_S_OK, "%s: I/O before the shrink", name);
		CHECK(ftruncate(d.mem_fd, 0) == 0, "%s: ftruncate: %s", name, strerror(errno));
		/* our own mapping is gone too: only kick, the back-end then reads
		 * the avail ring that is no longer there */
		CHECK(write(d.vq[0].kick_fd, &(uint64_t){ 1 }, 8) == 8, "%s: kick", name);
		CHECK(closed(&d), "%s: connection not closed after the shrink", name);
	}
	end_faulted(&d, &be, name, f0);
}

/* A memfd that allows sealing: the back-end seals it, the shrink fails. */
static void sealed_memory(void)
{
	const char *name = "sealable guest memfd";
	struct vhu_dev d;
	int rc, f0 = check_failures;

	rc = setup(&d, NULL, 1, 0, &be);
	if (CHECK(rc == 0, "%s: set-up: %s", name, strerror(-rc))) {
		CHECK(ftruncate(d.mem_fd, 4096) < 0 && errno == EPERM,
		      "%s: shrink not refused (seals %d)", name, fcntl(d.mem_fd, F_GET_SEALS));
		CHECK(one_read(&d) == VIRTIO_BLK_S_OK, "%s: I/O after the refused shrink", name);
	}
	end_sealed(&d, name, f0);
}

/* Its own inflight fd, shrunk: the next request faults writing it. */
static void shrink_inflight(void)
{
	const char *name = "front-end's own inflight fd shrunk";
	struct vhu_dev d;
	int rc, f0 = check_failures;

	rc = setup(&d, NULL, 0, 1, &be);
	if (CHECK(rc == 0, "%s: set-up: %s", name, strerror(-rc))) {
		CHECK(one_read(&d) == VIRTIO_BLK_S_OK, "%s: I/O before the shrink", name);
		CHECK(ftruncate(d.inflight_fd, 0) == 0, "%s: ftruncate: %s", name, strerror(errno));
		CHECK(one_read(&d) < 0 && closed(&d), "%s: connection not closed", name);
	}
	end_faulted(&d, &be, name, f0);
}

/* The inflight memfd antfarm-blk made: sealed, the shrink fails. */
static void sealed_inflight(void)
{
	const char *name = "back-end's inflight memfd";
	struct vhu_dev d;
	int rc, f0 = check_failures;

	rc = setup(&d, NULL, 0, 0, &be);
	if (CHECK(rc == 0 && d.inflight_fd >= 0, "%s: set-up: %s", name, strerror(-rc)))
		CHECK(ftruncate(d.inflight_fd, 0) < 0 && errno == EPERM, "%s: shrink not refused",
		      name);
	end_sealed(&d, name, f0);
}

/* Memory shrunk while requests are in flight (completions held): the
 * completions find it gone. */
static void shrink_in_flight(void)
{
	const char *name = "guest memfd shrunk with requests in flight";
	const char *const args[] = { NULL };
	struct vhu_backend hb;
	struct vhu_dev d;
	int rc, f0 = check_failures;

	rc = vhu_backend_start_env(&hb, "ANTFARM_BLK_TEST_HOLD_MS=300", VHU_BLK, "held",
				   held_disk, 1, 1, args);
	if (!CHECK(rc == 0, "%s: back-end: %s", name, strerror(-rc)))
		return;
	rc = setup(&d, NULL, 0, 0, &hb);
	if (CHECK(rc == 0, "%s: set-up: %s", name, strerror(-rc))) {
		for (unsigned i = 0; i < 4; i++)
			vhu_req_submit(&d.vq[0].slots[i], VIRTIO_BLK_T_IN, 8 * i, 4096);
		vhu_kick(&d.vq[0]);
		usleep(50000);
		CHECK(ftruncate(d.mem_fd, 0) == 0, "%s: ftruncate", name);
		CHECK(closed(&d), "%s: connection not closed", name);
	}
	end_faulted(&d, &hb, name, f0);
	vhu_backend_stop(&hb);
}

/* A connection with guest memory in mem_path or a (sealable) memfd, and
 * the back-end's inflight memfd or (own_inflight) one of ours. */
static int setup(struct vhu_dev *d, const char *mem_path, int sealable, int own_inflight,
		 struct vhu_backend *b)
{
	struct vhu_opts o;

	vhu_opts_defaults(&o);
	o.qd = 16;
	o.mem_path = mem_path;
	o.mem_sealable = sealable;
	o.own_inflight = own_inflight;
	return test_connect_with(d, b, &o, 1);
}

int main(void)
{
	char path[300];

	if (!vhu_blk_path())
		test_skip("antfarm-blk not built yet (no build/antfarm-blk)");
	test_start(&be, VHU_BLK, "shrink", 1, 1, NULL, disk, sizeof(disk));
	if (vhu_make_disk("held.img", TEST_DISK_SIZE, held_disk, sizeof(held_disk)) < 0)
		return 1;
	snprintf(path, sizeof(path), "%s/guest-memory", vhu_test_dir());
	shrink_memory("guest memfd (unsealable) shrunk", NULL);
	shrink_memory("guest memory file shrunk", path);
	sealed_memory();
	shrink_inflight();
	sealed_inflight();
	shrink_in_flight();
	vhu_backend_stop(&be);
	return check_summary("shrinking fds vs antfarm-blk");
}
