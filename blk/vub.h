/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * antfarm-blk: shared definitions of the vhost-user-blk backend ("vub_").
 *
 * Layers: vhost_msg.c (wire format + validation gate), vhost_user.c
 * (control plane, main thread), mem.c (guest memory table), virtq.c (split
 * virtqueue + descriptor-chain parser), inflight.c (INFLIGHT_SHMFD region),
 * blkreq.c (virtio-blk request parser), worker.c (io_uring data path),
 * tags.c (which process a request belongs to, from the hints),
 * stats.c, hints.c, main.c; logging, the clock and sockets are lib/'s.
 *
 * Everything read from the guest or the front-end is untrusted.  Host and
 * guest are little-endian (x86-64, arm64), so virtio's le fields are read
 * directly.
 */
#ifndef ANTFARM_BLK_VUB_H
#define ANTFARM_BLK_VUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>
#include "lib/clock.h"
#include "lib/log.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio is little-endian");

static inline bool has_feature(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

/* ---- limits ---- */
#define VUB_MAX_REGIONS    8		/* VHOST_MEMORY_BASELINE_NREGIONS */
#define VUB_MAX_QUEUES     64		/* ring index fits the 8-bit kick/call field */
#define VUB_MAX_QSIZE      32768
#define VUB_MAX_IOV        256		/* per request, after splitting at region ends */
#define VUB_SEG_MAX        126		/* advertised; leaves room for header/status/splits */
#define VUB_MAX_MSG_FDS    8

/* ---- guest memory (mem.c) ---- */
struct vub_region {
	uint64_t gpa, size, uva, mmap_offset;
	void *mmap_addr;		/* NULL when not owned (tests/fuzzers) */
	size_t mmap_len;
	uint8_t *hva;			/* host address of gpa */
};

struct vub_mem {
	int refs;			/* atomic; requests and rings hold one each */
	uint32_t nregions;
	struct vub_region r[VUB_MAX_REGIONS];
};

struct vhost_user_region;
struct vub_mem *vub_mem_map(const struct vhost_user_region *regs, uint32_t n,
			    const int *fds, const char **why);
struct vub_mem *vub_mem_get(struct vub_mem *m);
void vub_mem_put(struct vub_mem *m);
/* Checks a region list (sizes, overflow, overlap); NULL when fine. */
const char *vub_mem_check(const struct vub_mem *m);
/* Host address for [gpa, gpa+*len): clips *len at the region end. */
void *vub_gpa_to_hva(const struct vub_mem *m, uint64_t gpa, uint64_t *len);
/* Host address of the front-end's [uva, uva+len), which must lie in one region. */
void *vub_uva_to_hva(const struct vub_mem *m, uint64_t uva, uint64_t len);
/* Appends iovecs for [gpa, gpa+len); -1 on unmapped memory or overflow of iov. */
int vub_gpa_to_iov(const struct vub_mem *m, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned *niov, unsigned max);

/* ---- iovec helpers (blkreq.c) ---- */
size_t iov_copy_from(const struct iovec *iov, unsigned n, void *buf, size_t len);
size_t iov_copy_to(const struct iovec *iov, unsigned n, const void *buf, size_t len);
/* Drop len bytes from the front/back of an iovec array; returns new count. */
unsigned iov_trim_front(struct iovec **iov, unsigned n, size_t len);
unsigned iov_trim_back(struct iovec *iov, unsigned n, size_t len);
size_t iov_len(const struct iovec *iov, unsigned n);

#endif
