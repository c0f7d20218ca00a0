/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Split virtqueue (virtio 1.x, 2.7) as seen by the device: avail ring
 * consumption, descriptor-chain parsing (direct and indirect), used ring
 * updates with EVENT_IDX, and inflight tracking (vhost-user.rst, "Inflight
 * I/O tracking", split layout).
 */
#ifndef ANTFARM_BLK_VIRTQ_H
#define ANTFARM_BLK_VIRTQ_H

#include <linux/virtio_ring.h>
#include "vub.h"

/* vhost-user.rst DescStateSplit / QueueRegionSplit */
struct vub_inflight_desc {
	uint8_t inflight;
	uint8_t padding[5];
	uint16_t next;
	uint64_t counter;
};

struct vub_inflight_q {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vub_inflight_desc desc[];
};
_Static_assert(sizeof(struct vub_inflight_desc) == 16, "inflight ABI");
_Static_assert(sizeof(struct vub_inflight_q) == 16, "inflight ABI");

struct vub_vq {
	uint16_t num;			/* queue size; 0 = unset */
	bool event_idx, indirect;
	bool broken;			/* NEEDS_RESET: ring no longer processed */
	bool faulted;			/* its memory went away (SIGBUS): never touched again */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail;		/* next avail entry to consume */
	uint16_t used_idx;		/* our copy of used->idx (incl. unpublished) */
	uint16_t signalled_used;
	bool signalled_valid;
	struct vub_inflight_q *infl;	/* NULL without INFLIGHT_SHMFD */
	uint64_t counter;		/* inflight order counter */
	uint16_t batch_n;		/* used entries pushed, not yet published */
};

enum vq_err {
	VQ_OK = 0,
	VQ_E_HEAD,	/* head index >= queue size */
	VQ_E_NEXT,	/* next index out of the table */
	VQ_E_LOOP,	/* chain longer than the queue size (loop) */
	VQ_E_ADDR,	/* buffer outside guest memory, or length overflow */
	VQ_E_INDIRECT,	/* bad indirect descriptor (size, flags, not negotiated) */
	VQ_E_NESTED,	/* indirect inside indirect */
	VQ_E_ORDER,	/* device-readable after device-writable */
	VQ_E_IOV,	/* more segments than we accept */
	VQ_E_AVAIL,	/* avail idx moved by more than the queue size */
	VQ_E_DUP,	/* head already in flight */
};
const char *vq_err_str(int err);

/*
 * Walks the chain starting at head (table of num entries) into iov[]:
 * first the device-readable segments (*n_out iovecs), then the writable
 * ones (*n_in).  Every descriptor is read exactly once, so a guest that
 * rewrites the table concurrently cannot make this loop or escape memory.
 */
int vq_parse_chain(const struct vub_mem *m, const struct vring_desc *table, unsigned num,
		   uint16_t head, bool indirect_ok, struct iovec *iov, unsigned max,
		   unsigned *n_out, unsigned *n_in);

/* Entries the driver made available; -VQ_E_AVAIL on a corrupt index. */
int vq_avail_count(struct vub_vq *vq);
/* Next available head (call only when vq_avail_count() > 0). */
uint16_t vq_pop_head(struct vub_vq *vq);
/* EVENT_IDX: ask for a kick at the next entry; true if more arrived meanwhile. */
bool vq_arm_kick(struct vub_vq *vq);

void vq_inflight_begin(struct vub_vq *vq, uint16_t head);
void vq_push(struct vub_vq *vq, uint16_t head, uint32_t len);
/* Publishes pushed entries; true when the driver wants an interrupt. */
bool vq_publish(struct vub_vq *vq);

/* An inflight head to resubmit, with its submission order. */
struct vq_redo {
	uint64_t counter;
	uint16_t head;
};

/*
 * Start-up with an inflight region: repairs the last batch, fills redo[]
 * (capacity vq->num) with the inflight heads in submission order and sets
 * last_avail/used_idx.  Returns the number of heads.  The region is read
 * once into redo[] and sorted there: the front-end may change it meanwhile.
 */
unsigned vq_inflight_recover(struct vub_vq *vq, struct vq_redo *redo);

#endif
