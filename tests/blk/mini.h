/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A minimal vhost-user-blk front-end for antfarm-blk's own protocol and
 * recovery tests: shared memfd "guest memory", negotiation, split rings,
 * one request at a time or a batch.  (The full test client and benchmark
 * live in tests/vhu/.)
 */
#ifndef ANTFARM_TESTS_BLK_MINI_H
#define ANTFARM_TESTS_BLK_MINI_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <linux/virtio_ring.h>

#define MINI_MEM	(16u << 20)
#define MINI_GPA	0x100000ull
#define MINI_MAXQ	4

struct mini_q {
	uint16_t num;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	uint16_t next_desc, last_used;
	int kick, call;
};

struct mini {
	int sock;
	int memfd;
	uint8_t *mem;			/* guest-physical MINI_GPA.. */
	uint64_t features, proto;
	int inflight_fd;
	uint64_t inflight_size;
	uint64_t bump;			/* next free data byte (gpa) */
	unsigned nq;
	uint32_t ioprio;		/* written into every request header */
	struct mini_q q[MINI_MAXQ];
};

/* Low-level messaging. */
int mini_send(struct mini *m, uint32_t req, uint32_t flags, const void *p, uint32_t size,
	      const int *fds, unsigned nfds);
int mini_recv(struct mini *m, uint32_t *req, void *p, uint32_t *size, int *fd);
int mini_connect(struct mini *m, const char *path);
void mini_close(struct mini *m);

/* Full start: features, optional inflight region, memory table, rings.
 * With inflight_fd >= 0 the region is reused (reconnect after a crash). */
int mini_start(struct mini *m, unsigned nq, uint16_t qsize, bool want_inflight, bool event_idx);

void *mini_gpa(struct mini *m, uint64_t gpa);
uint64_t mini_alloc(struct mini *m, size_t len);

/* Builds header / data / status descriptors and makes the chain available.
 * Returns the head; the status byte lives at *status_gpa. */
int mini_queue_req(struct mini *m, unsigned qi, uint32_t type, uint64_t sector,
		   uint64_t data_gpa, uint32_t len, bool data_write, uint64_t *status_gpa);
void mini_kick(struct mini *m, unsigned qi);
/* Waits for one used entry (timeout ms); returns its id or -1. */
int mini_wait_used(struct mini *m, unsigned qi, int timeout_ms, uint32_t *len);
/* One synchronous request; returns the status byte or -1 on timeout. */
int mini_req(struct mini *m, unsigned qi, uint32_t type, uint64_t sector, void *buf,
	     uint32_t len);
/* Reads the backend's GET_VRING_BASE (stops the ring). */
int mini_get_vring_base(struct mini *m, unsigned qi, uint32_t *base);

#endif
