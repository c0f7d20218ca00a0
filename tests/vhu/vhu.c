// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu: device set-up (negotiation, memory table, inflight buffer, vrings)
 * and the virtio-blk request path on split rings.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vhu.h"

#define PAGE		4096ull
#define GUEST_BASE	0x100000000ull	/* where our one region sits in "guest" space */
#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((uint64_t)(a) - 1))

void vhu_opts_defaults(struct vhu_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->queue_size = 256;
	o->buf_size = 128 * 1024;
	o->want_inflight = 1;
}

static uint64_t queue_mem(const struct vhu_opts *o)
{
	uint64_t ring = 16ull * o->queue_size + 6 + 2ull * o->queue_size +
			6 + 8ull * o->queue_size + 3 * PAGE;
	uint64_t slots = (uint64_t)o->qd * (128 + ALIGN_UP(o->buf_size, PAGE)) + 2 * PAGE;

	return ring + slots;
}

int vhu_dev_init(struct vhu_dev *d, const struct vhu_opts *o, unsigned nq)
{
	memset(d, 0, sizeof(*d));
	d->sock = d->mem_fd = d->inflight_fd = d->epfd = -1;
	d->o = *o;
	if (!d->o.queue_size || (d->o.queue_size & (d->o.queue_size - 1)) ||
	    d->o.queue_size > 32768 || nq == 0 || nq > VHU_MAX_QUEUES)
		return -EINVAL;
	if (!d->o.qd || d->o.qd > d->o.queue_size)
		d->o.qd = d->o.queue_size;
	d->nq = nq;
	d->mem_size = ALIGN_UP(nq * queue_mem(&d->o) + d->o.extra_mem + 16 * PAGE,
			       2 * 1024 * 1024);
	d->mem_gpa = GUEST_BASE;
	d->mem_fd = memfd_create("vhu-guest", MFD_CLOEXEC);
	if (d->mem_fd < 0 || ftruncate(d->mem_fd, d->mem_size) < 0)
		return -errno;
	d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->mem_fd, 0);
	if (d->mem == MAP_FAILED) {
		d->mem = NULL;
		return -errno;
	}
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	return d->epfd < 0 ? -errno : 0;
}

/* Bump allocator over guest memory; memory is zeroed (fresh memfd). */
void *vhu_alloc(struct vhu_dev *d, uint64_t size, uint64_t align, uint64_t *gpa)
{
	uint64_t off = ALIGN_UP(d->mem_used, align);

	if (off + size > d->mem_size)
		return NULL;
	d->mem_used = off + size;
	if (gpa)
		*gpa = d->mem_gpa + off;
	return d->mem + off;
}

uint64_t vhu_gpa(struct vhu_dev *d, const void *p)
{
	return d->mem_gpa + ((const uint8_t *)p - d->mem);
}

int vhu_dev_open(struct vhu_dev *d, const char *path, int timeout_ms)
{
	int s = vhu_connect(path, timeout_ms);

	if (s < 0)
		return s;
	d->sock = s;
	snprintf(d->path, sizeof(d->path), "%s", path);
	return 0;
}

static uint64_t wanted_features(const struct vhu_dev *d)
{
	uint64_t w = 1ull << VIRTIO_F_VERSION_1 | 1ull << VHU_F_PROTOCOL_FEATURES;
	static const unsigned blk[] = {
		VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_RO,
		VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_TOPOLOGY,
		VIRTIO_BLK_F_CONFIG_WCE, VIRTIO_BLK_F_MQ, VIRTIO_BLK_F_DISCARD,
		VIRTIO_BLK_F_WRITE_ZEROES,
	};

	for (size_t i = 0; i < sizeof(blk) / sizeof(blk[0]); i++)
		w |= 1ull << blk[i];
	if (!d->o.no_indirect)
		w |= 1ull << VIRTIO_F_INDIRECT_DESC;
	if (!d->o.no_event_idx)
		w |= 1ull << VIRTIO_F_EVENT_IDX;
	return w;
}

/* GET_FEATURES, GET/SET protocol features, queue count, SET_OWNER: QEMU's
 * order at connect.  d->acked is what vhu_set_features() will send. */
int vhu_negotiate(struct vhu_dev *d)
{
	uint64_t want_proto = 1ull << VHU_PF_MQ | 1ull << VHU_PF_CONFIG;
	int r;

	d->acked_proto = 0;
	r = vhu_get_u64(d, VHU_GET_FEATURES, &d->features);
	if (r < 0)
		return r;
	d->max_queues = 1;
	if (has_feature(d->features, VHU_F_PROTOCOL_FEATURES)) {
		r = vhu_get_u64(d, VHU_GET_PROTOCOL_FEATURES, &d->proto);
		if (r < 0)
			return r;
		if (!d->o.no_reply_ack)
			want_proto |= 1ull << VHU_PF_REPLY_ACK;
		if (d->o.want_inflight)
			want_proto |= 1ull << VHU_PF_INFLIGHT;
		uint64_t ack = d->proto & want_proto;

		r = vhu_set_u64(d, VHU_SET_PROTOCOL_FEATURES, ack);
		if (r < 0)
			return r;
		d->acked_proto = ack;
		if (has_feature(ack, VHU_PF_MQ)) {
			r = vhu_get_u64(d, VHU_GET_QUEUE_NUM, &d->max_queues);
			if (r < 0)
				return r;
		}
	}
	if (d->nq > d->max_queues)
		return -ERANGE;
	struct vhu_msg own = { .request = VHU_SET_OWNER };

	r = vhu_call(d, &own, NULL, 0);
	if (r < 0)
		return r;
	d->acked = d->features & wanted_features(d);
	return 0;
}

/* Sent at device start, after the inflight buffer, as QEMU does. */
int vhu_set_features(struct vhu_dev *d)
{
	return vhu_set_u64(d, VHU_SET_FEATURES, d->acked);
}

int vhu_get_config(struct vhu_dev *d)
{
	struct vhu_msg m = { .request = VHU_GET_CONFIG, .size = 12 + sizeof(d->cfg) };
	int r;

	if (!has_feature(d->acked_proto, VHU_PF_CONFIG))
		return -EOPNOTSUPP;
	m.u.cfg.offset = 0;
	m.u.cfg.size = sizeof(d->cfg);
	r = vhu_call(d, &m, NULL, 0);
	if (r < 0)
		return r;
	if (m.size != 12 + sizeof(d->cfg) || m.u.cfg.size != sizeof(d->cfg))
		return -EPROTO;
	memcpy(&d->cfg, m.u.cfg.data, sizeof(d->cfg));
	d->have_cfg = 1;
	return 0;
}

static void fill_inflight(struct vhu_dev *d, struct vhu_msg *m)
{
	m->size = sizeof(m->u.inflight);
	m->u.inflight.mmap_size = d->inflight_size;
	m->u.inflight.mmap_offset = d->inflight_off;
	m->u.inflight.num_queues = d->nq;
	m->u.inflight.queue_size = d->o.queue_size;
}

/* GET_INFLIGHT_FD: the back-end hands us the tracking buffer to keep. */
int vhu_inflight_get(struct vhu_dev *d)
{
	struct vhu_msg m = { .request = VHU_GET_INFLIGHT_FD };
	int r;

	fill_inflight(d, &m);
	m.u.inflight.mmap_size = m.u.inflight.mmap_offset = 0;
	r = vhu_call(d, &m, NULL, 0);
	if (r < 0)
		return r;
	if (d->inflight_fd < 0 || m.size != sizeof(m.u.inflight) ||
	    !m.u.inflight.mmap_size)
		return -EPROTO;
	d->inflight_size = m.u.inflight.mmap_size;
	d->inflight_off = m.u.inflight.mmap_offset;
	d->inflight = mmap(NULL, d->inflight_size, PROT_READ | PROT_WRITE,
			   MAP_SHARED, d->inflight_fd, d->inflight_off);
	if (d->inflight == MAP_FAILED) {
		d->inflight = NULL;
		return -errno;
	}
	d->inflight_nq = d->nq;
	d->inflight_qsize = d->o.queue_size;
	return 0;
}

int vhu_inflight_set(struct vhu_dev *d)
{
	struct vhu_msg m = { .request = VHU_SET_INFLIGHT_FD };

	fill_inflight(d, &m);
	return vhu_call(d, &m, &d->inflight_fd, 1);
}

int vhu_set_mem_table(struct vhu_dev *d)
{
	struct vhu_msg m = { .request = VHU_SET_MEM_TABLE };

	m.size = 8 + sizeof(struct vhu_region);
	m.u.mem.nregions = 1;
	m.u.mem.r[0].gpa = d->mem_gpa;
	m.u.mem.r[0].size = d->bad_table_size ? d->bad_table_size : d->mem_size;
	m.u.mem.r[0].uva = (uintptr_t)d->mem;
	m.u.mem.r[0].mmap_offset = d->bad_table_offset;
	return vhu_call(d, &m, &d->mem_fd, 1);
}

static int indirect(const struct vhu_vq *vq)
{
	return has_feature(vq->dev->acked, VIRTIO_F_INDIRECT_DESC);
}

/* Usable request slots: one ring descriptor each with indirect, else 3. */
static unsigned usable_slots(const struct vhu_vq *vq)
{
	unsigned n = indirect(vq) ? vq->size : vq->size / 3;

	return n < vq->nslots ? n : vq->nslots;
}

static int layout_queue(struct vhu_dev *d, struct vhu_vq *vq, unsigned index)
{
	uint16_t n = d->o.queue_size;

	vq->dev = d;
	vq->index = index;
	vq->size = n;
	vq->desc = vhu_alloc(d, 16ull * n, PAGE, &vq->desc_gpa);
	vq->avail = vhu_alloc(d, 6 + 2ull * n, PAGE, &vq->avail_gpa);
	vq->used = vhu_alloc(d, 6 + 8ull * n, PAGE, &vq->used_gpa);
	vq->by_head = calloc(n, sizeof(*vq->by_head));
	vq->slots = calloc(d->o.qd, sizeof(*vq->slots));
	if (!vq->desc || !vq->avail || !vq->used || !vq->by_head || !vq->slots)
		return -ENOMEM;
	vq->nslots = d->o.qd;
	uint64_t meta_gpa = 0, buf_gpa = 0, bsz = ALIGN_UP(d->o.buf_size, PAGE);
	uint8_t *meta = vhu_alloc(d, 128ull * vq->nslots, PAGE, &meta_gpa);
	uint8_t *buf = vhu_alloc(d, bsz * vq->nslots, PAGE, &buf_gpa);

	if (!meta || !buf)
		return -ENOMEM;
	for (unsigned i = 0; i < vq->nslots; i++, meta += 128, meta_gpa += 128) {
		struct vhu_req *r = &vq->slots[i];

		r->buf = buf + i * bsz;
		r->buf_gpa = buf_gpa + i * bsz;
		r->vq = vq;
		r->slot = i;
		r->buf_cap = d->o.buf_size;
		r->ind = (struct vring_d *)meta;
		r->ind_gpa = meta_gpa;
		r->hdr = (struct blk_hdr *)(meta + 64);
		r->hdr_gpa = meta_gpa + 64;
		r->dwz = (struct blk_dwz *)(meta + 80);
		r->dwz_gpa = meta_gpa + 80;
		r->status = meta + 96;
		r->status_gpa = meta_gpa + 96;
	}
	vq->nslots = usable_slots(vq);
	for (unsigned i = 0; i < vq->nslots; i++)
		vq->slots[i].head = indirect(vq) ? i : 3 * i;
	return 0;
}

static int new_eventfds(struct vhu_dev *d, struct vhu_vq *vq, int kick_init)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = vq->index };

	if (vq->call_fd >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, vq->call_fd, NULL);
		close(vq->call_fd);
		close(vq->kick_fd);
		close(vq->err_fd);
	}
	vq->kick_fd = eventfd(kick_init, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	vq->err_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vq->kick_fd < 0 || vq->call_fd < 0 || vq->err_fd < 0)
		return -errno;
	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, vq->call_fd, &ev) < 0 ? -errno : 0;
}

static int set_vring_fd(struct vhu_dev *d, uint32_t req, unsigned index, int fd)
{
	struct vhu_msg m = { .request = req, .size = 8, .u.u64 = index };

	return vhu_call(d, &m, &fd, 1);
}

static int send_vring(struct vhu_dev *d, struct vhu_vq *vq, uint16_t base)
{
	struct vhu_msg m = { .request = VHU_SET_VRING_ADDR, .size = 40 };
	int r;

	r = vhu_set_state(d, VHU_SET_VRING_NUM, vq->index, vq->size);
	if (r == 0)
		r = vhu_set_state(d, VHU_SET_VRING_BASE, vq->index, base);
	if (r < 0)
		return r;
	/* Ring addresses are front-end virtual addresses, as QEMU sends them. */
	m.u.addr.index = vq->index;
	m.u.addr.desc = (uintptr_t)vq->desc;
	m.u.addr.used = (uintptr_t)vq->used;
	m.u.addr.avail = (uintptr_t)vq->avail;
	r = vhu_call(d, &m, NULL, 0);
	if (r == 0)
		r = set_vring_fd(d, VHU_SET_VRING_KICK, vq->index, vq->kick_fd);
	if (r == 0)
		r = set_vring_fd(d, VHU_SET_VRING_CALL, vq->index, vq->call_fd);
	if (r == 0)
		r = set_vring_fd(d, VHU_SET_VRING_ERR, vq->index, vq->err_fd);
	return r;
}

/*
 * First start: lay out rings and slots.  Restart (new back-end process,
 * same guest memory): keep everything and restart each ring at the used
 * index, the way QEMU does when GET_VRING_BASE failed because the back-end
 * died; its kick eventfd starts signalled, as QEMU's host notifier does.
 */
int vhu_start_queues(struct vhu_dev *d, int restart)
{
	int r;

	for (unsigned i = 0; i < d->nq; i++) {
		struct vhu_vq *vq = &d->vq[i];
		uint16_t base = 0;

		if (!restart) {
			vq->call_fd = vq->kick_fd = vq->err_fd = -1;
			r = layout_queue(d, vq, i);
			if (r < 0)
				return r;
		} else {
			base = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
		}
		r = new_eventfds(d, vq, restart);
		if (r == 0)
			r = send_vring(d, vq, base);
		if (r < 0)
			return r;
		vq->kicked_idx = vq->avail_idx;
	}
	if (!has_feature(d->acked, VHU_F_PROTOCOL_FEATURES))
		return 0;
	for (unsigned i = 0; i < d->nq; i++) {
		r = vhu_set_state(d, VHU_SET_VRING_ENABLE, i, 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * The whole bring-up on a fresh device, in QEMU 7.2's order: connect
 * (features, protocol features, queue count, owner, config), then start
 * (inflight buffer, SET_FEATURES, memory table, vrings, enable).
 */
int vhu_setup(struct vhu_dev *d, const char *path, int timeout_ms)
{
	int r = vhu_dev_open(d, path, timeout_ms);

	if (r == 0)
		r = vhu_negotiate(d);
	if (r == 0 && has_feature(d->acked_proto, VHU_PF_CONFIG))
		r = vhu_get_config(d);
	if (r == 0 && has_feature(d->acked_proto, VHU_PF_INFLIGHT)) {
		r = vhu_inflight_get(d);
		if (r == 0)
			r = vhu_inflight_set(d);
	}
	if (r == 0)
		r = vhu_set_features(d);
	if (r == 0)
		r = vhu_set_mem_table(d);
	if (r == 0)
		r = vhu_start_queues(d, 0);
	return r;
}

/* GET_VRING_BASE stops each ring (what QEMU sends on VM stop). */
int vhu_stop_queues(struct vhu_dev *d)
{
	for (unsigned i = 0; i < d->nq; i++) {
		struct vhu_msg m = { .request = VHU_GET_VRING_BASE, .size = 8 };
		int r;

		m.u.state.index = i;
		r = vhu_call(d, &m, NULL, 0);
		if (r < 0)
			return r;
		if (m.size != 8 || m.u.state.index != i)
			return -EPROTO;
	}
	return 0;
}

void vhu_close_sock(struct vhu_dev *d)
{
	if (d->sock >= 0)
		close(d->sock);
	d->sock = -1;
}

void vhu_dev_free(struct vhu_dev *d)
{
	vhu_close_sock(d);
	for (unsigned i = 0; i < d->nq; i++) {
		struct vhu_vq *vq = &d->vq[i];

		if (vq->dev && vq->call_fd >= 0) {
			close(vq->call_fd);
			close(vq->kick_fd);
			close(vq->err_fd);
		}
		free(vq->by_head);
		free(vq->slots);
		vq->by_head = NULL;
		vq->slots = NULL;
	}
	if (d->inflight)
		munmap(d->inflight, d->inflight_size);
	if (d->inflight_fd >= 0)
		close(d->inflight_fd);
	if (d->mem)
		munmap(d->mem, d->mem_size);
	if (d->mem_fd >= 0)
		close(d->mem_fd);
	if (d->epfd >= 0)
		close(d->epfd);
	d->mem = NULL;
	d->inflight = NULL;
	d->mem_fd = d->inflight_fd = d->epfd = -1;
}

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
	*r->hdr = (struct blk_hdr){ .type = type, .sector = sector };
	*r->dwz = (struct blk_dwz){ .sector = sector, .num_sectors = len / VHU_SECTOR };
	*r->status = 0xff;
	n = build_chain(r, chain);
	if (indirect(vq)) {
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
	r->t_submit_ns = vhu_now_ns();
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

int vhu_rw_sync(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector,
		void *data, uint32_t len, int timeout_ms)
{
	struct vhu_vq *vq = &d->vq[q];
	struct vhu_req *r = vhu_req_get(vq);
	uint64_t end = vhu_now_ns() + timeout_ms * 1000000ull;
	int rc;

	if (!r)
		return -EBUSY;
	if (type == VIRTIO_BLK_T_OUT)
		memcpy(r->buf, data, len);
	rc = vhu_req_submit(r, type, sector, len);
	if (rc == 0)
		rc = vhu_kick(vq);
	while (rc == 0 && r->busy) {
		int64_t left = (int64_t)(end - vhu_now_ns()) / 1000000;

		if (left <= 0)
			return -ETIMEDOUT;
		rc = vhu_poll(d, left, NULL, NULL);
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0)
		return rc;
	if ((type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID) && data)
		memcpy(data, r->buf, len);
	return *r->status;
}
