/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * virtio-blk request parsing (virtio 1.x, 5.2.6): turns a parsed chain
 * (readable iovecs, then writable ones) into an operation on the disk,
 * or an immediate status.  No I/O happens here.
 */
#ifndef ANTFARM_BLK_BLKREQ_H
#define ANTFARM_BLK_BLKREQ_H

#include <linux/virtio_blk.h>
#include "vub.h"
#include "sched.h"

#define BLK_SECTOR		512u
#define BLK_MAX_DISCARD_SECT	0x3fffffu
#define BLK_MAX_WZ_SECT		0x3fffffu

struct blk_disk {
	uint64_t capacity;		/* 512-byte sectors */
	bool ro;
	char serial[VIRTIO_BLK_ID_BYTES];
};

struct blk_io {
	struct virtio_blk_outhdr hdr;	/* snapshot of the guest's header */
	uint8_t op;			/* enum af_blk_op */
	uint8_t status;			/* VIRTIO_BLK_S_* to report */
	bool unmap;			/* write-zeroes may deallocate */
	uint8_t *status_ptr;		/* the guest's status byte */
	struct iovec *data;		/* payload segments (inside iov[]) */
	unsigned ndata;
	uint64_t offset, len;		/* bytes on the disk */
	uint32_t used_len;		/* bytes written to the driver on success */
};

/*
 * iov[0..n_out) readable, iov[n_out..n_out+n_in) writable.  Returns -1 if
 * the chain has no header or no status byte (a device error: the caller
 * marks the queue broken); otherwise fills io and returns 1 when the
 * request needs disk I/O, 0 when io->status is final.  GET_ID is served
 * here.
 */
int blk_req_parse(struct blk_io *io, struct iovec *iov, unsigned n_out, unsigned n_in,
		  const struct blk_disk *disk);

#endif
