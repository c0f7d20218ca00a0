// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu: the virtio-blk request path on split rings: descriptor chains
 * (direct or one indirect table), avail publishing, kicks with EVENT_IDX,
 * used-ring reaping and waiting on the call eventfds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "vhu.h"

struct vhu_req *vhu_req_get(struct vhu_vq *vq)
{
	for (unsigned i = 0; i < vq->nslots; i++)
		if (!vq->slots[i].busy)
			return &vq->slots[i];
	return NULL;
}

/* Builds the descriptor list of a request: header, data, status. */
static unsigned build_chain(struct vhu_req *r, struct vring_d *out)
{
	unsigned n = 0;

	out[n++] = (struct vring_d){ r->hdr_gpa, sizeof(*r->hdr), 0, 0 };
	switch (r->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		out[n++] = (struct vring_d){ r->buf_gpa, r->len, VRING_DESC_F_WRITE, 0 };
		break;
	case VIRTIO_BLK_T_OUT:
		out[n++] = (struct vring_d){ r->buf_gpa, r->len, 0, 0 };
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		out[n++] = (struct vring_d){ r->dwz_gpa, sizeof(*r->dwz), 0, 0 };
		break;
	}
	out[n++] = (struct vring_d){ r->status_gpa, 1, VRING_DESC_F_WRITE, 0 };
	return n;
}

static void link_chain(struct vring_d *d, unsigned n, uint16_t first)
{
	for (unsigned i = 0; i + 1 < n; i++) {
		d[i].flags |= VRING_DESC_F_NEXT;
		d[i].next = first + i + 1;
	}
}

/* Puts a head on the avail ring; the idx store releases the descriptors. */
void vhu_publish(struct vhu_vq *vq, uint16_t head)
{
	vq->avail->ring[vq->avail_idx % vq->size] = head;
	vq->avail_idx++;
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

/*
 * Request on its slot.  len = data bytes (IN/OUT/GET_ID) or, for DISCARD and
 * WRITE_ZEROES, the byte count of the one segment.  Not kicked yet.
 */
int vhu_req_submit(struct vhu_req *r, uint32_t type, uint64_t sector, uint32_t len)
{
	struct vhu_vq *vq = r->vq;
	struct vring_d chain[3];
	unsigned n;

	if (r->busy || ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT ||
			 type == VIRTIO_BLK_T_GET_ID) && len > r->buf_cap))
		return -EINVAL;
	r->type = type;
	r->sector = sector;
	r->len = len;
	r->used_len = 0;
	*r->hdr = (struct blk_hdr){ .type = type, .ioprio = vq->dev->ioprio, .sector = sector };
	*r->dwz = (struct blk_dwz){ .sector = sector, .num_sectors = len / VHU_SECTOR,
				    .flags = r->dwz_flags };
	r->dwz_flags = 0;
	*r->status = 0xff;
	n = build_chain(r, chain);
	if (vhu_vq_indirect(vq)) {
		memcpy(r->ind, chain, n * sizeof(chain[0]));
		link_chain(r->ind, n, 0);
		vq->desc[r->head] = (struct vring_d){ r->ind_gpa, n * 16,
						      VRING_DESC_F_INDIRECT, 0 };
	} else {
		memcpy(&vq->desc[r->head], chain, n * sizeof(chain[0]));
		link_chain(&vq->desc[r->head], n, r->head);
	}
	r->busy = 1;
	vq->by_head[r->head] = r;
	vq->inflight++;
	r->t_submit_ns = af_now_ns();
	vhu_publish(vq, r->head);
	return 0;
}

/* (new - event - 1) < (new - old), all mod 2^16: virtio's need-event test. */
static int need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

int vhu_kick(struct vhu_vq *vq)
{
	uint64_t one = 1;
	int notify;

	if (vq->kicked_idx == vq->avail_idx)
		return 0;
	/* The idx store must be visible before we read the back-end's hint. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (has_feature(vq->dev->acked, VIRTIO_F_EVENT_IDX)) {
		uint16_t ev = __atomic_load_n((uint16_t *)&vq->used->ring[vq->size],
					      __ATOMIC_RELAXED);
		notify = need_event(ev, vq->avail_idx, vq->kicked_idx);
	} else {
		notify = !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & 1);
	}
	vq->kicked_idx = vq->avail_idx;
	if (!notify)
		return 0;
	vq->kicks++;
	return write(vq->kick_fd, &one, 8) == 8 ? 0 : -errno;
}

static int reap(struct vhu_vq *vq, vhu_done_fn cb, void *arg)
{
	int done = 0;

	for (;;) {
		uint16_t idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

		while (vq->used_seen != idx) {
			struct vring_ue e = vq->used->ring[vq->used_seen % vq->size];
			struct vhu_req *r = e.id < vq->size ? vq->by_head[e.id] : NULL;

			vq->used_seen++;
			if (!r || !r->busy) {
				vq->bad_used++;
				fprintf(stderr, "vhu: queue %u: used id %u not in flight\n",
					vq->index, e.id);
				continue;
			}
			r->busy = 0;
			r->used_len = e.len;
			vq->inflight--;
			done++;
			if (cb)
				cb(r, arg);
		}
		if (!has_feature(vq->dev->acked, VIRTIO_F_EVENT_IDX))
			return done;
		/* Ask for a call at the next entry, then re-check: an entry
		 * that landed in between would otherwise never be signalled. */
		__atomic_store_n(&vq->avail->ring[vq->size], vq->used_seen, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) == vq->used_seen)
			return done;
	}
}

int vhu_poll(struct vhu_dev *d, int timeout_ms, vhu_done_fn cb, void *arg)
{
	struct epoll_event ev[VHU_MAX_QUEUES];
	int done = 0;

	for (;;) {
		for (unsigned i = 0; i < d->nq; i++)
			done += reap(&d->vq[i], cb, arg);
		if (done || timeout_ms == 0)
			return done;
		int n = epoll_wait(d->epfd, ev, VHU_MAX_QUEUES, timeout_ms);

		if (n < 0 && errno != EINTR)
			return -errno;
		if (n == 0)
			return 0;
		for (int i = 0; i < n; i++) {
			uint64_t v;
			struct vhu_vq *vq = &d->vq[ev[i].data.u32];

			if (read(vq->call_fd, &v, 8) == 8)
				vq->calls++;
		}
	}
}

int vhu_req_wait(struct vhu_dev *d, struct vhu_req *r, int timeout_ms)
{
	uint64_t end = af_now_ns() + timeout_ms * 1000000ull;

	while (r->busy) {
		int64_t left = (int64_t)(end - af_now_ns()) / 1000000;
		int rc;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = vhu_poll(d, left, NULL, NULL);
		if (rc < 0)
			return rc;
	}
	return *r->status;
}

int vhu_rw_sync(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector,
		void *data, uint32_t len, int timeout_ms)
{
	struct vhu_vq *vq = &d->vq[q];
	struct vhu_req *r = vhu_req_get(vq);
	int rc;

	if (!r)
		return -EBUSY;
	if (type == VIRTIO_BLK_T_OUT)
		memcpy(r->buf, data, len);
	rc = vhu_req_submit(r, type, sector, len);
	if (rc == 0)
		rc = vhu_kick(vq);
	if (rc == 0)
		rc = vhu_req_wait(d, r, timeout_ms);
	if (rc < 0)
		return rc;
	if ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) && data)
		memcpy(data, r->buf, len);
	return rc;
}

int vhu_dwz_sync(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector,
		 uint32_t nsect, uint32_t flags, int timeout_ms)
{
	struct vhu_req *r = vhu_req_get(&d->vq[q]);
	int rc;

	if (!r)
		return -EBUSY;
	r->dwz_flags = flags;
	rc = vhu_req_submit(r, type, sector, nsect * VHU_SECTOR);
	if (rc == 0)
		rc = vhu_kick(&d->vq[q]);
	return rc < 0 ? rc : vhu_req_wait(d, r, timeout_ms);
}
