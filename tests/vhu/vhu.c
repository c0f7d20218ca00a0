// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu: device set-up: guest memory, negotiation, config, inflight buffer,
 * memory table, vring layout and start/stop.  Requests: vhu_ring.c.
 */
#include <errno.h>
#include <fcntl.h>
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
	if (d->o.mem_path)
		d->mem_fd = open(d->o.mem_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	else
		d->mem_fd = memfd_create("vhu-guest", MFD_CLOEXEC |
					 (d->o.mem_sealable ? MFD_ALLOW_SEALING : 0));
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

/* Usable request slots: one ring descriptor each with indirect, else 3. */
static unsigned usable_slots(const struct vhu_vq *vq)
{
	unsigned n = vhu_vq_indirect(vq) ? vq->size : vq->size / 3;

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
		vq->slots[i].head = vhu_vq_indirect(vq) ? i : 3 * i;
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

/* The inflight region in a memfd of ours (no seals) instead of the
 * back-end's: a front-end that can shrink it later. */
static int own_inflight(struct vhu_dev *d)
{
	int fd = memfd_create("vhu-inflight", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, d->inflight_size) < 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	munmap(d->inflight, d->inflight_size);
	d->inflight = NULL;
	close(d->inflight_fd);
	d->inflight_fd = fd;
	return 0;
}

/*
 * The bring-up in QEMU 7.2's order: connect (features, protocol features,
 * queue count, owner, config), then start (inflight buffer, SET_FEATURES,
 * memory table, vrings, enable).  A restart keeps memory, rings and the
 * inflight buffer the device already has.
 */
static int bring_up(struct vhu_dev *d, const char *path, int timeout_ms, int restart)
{
	int r = vhu_dev_open(d, path, timeout_ms);

	if (r == 0)
		r = vhu_negotiate(d);
	if (r == 0 && !restart && has_feature(d->acked_proto, VHU_PF_CONFIG))
		r = vhu_get_config(d);
	if (r == 0 && has_feature(d->acked_proto, VHU_PF_INFLIGHT)) {
		if (!restart)
			r = vhu_inflight_get(d);
		if (r == 0 && !restart && d->o.own_inflight)
			r = own_inflight(d);
		if (r == 0 && d->inflight_fd >= 0)
			r = vhu_inflight_set(d);
	}
	if (r == 0)
		r = vhu_set_features(d);
	if (r == 0)
		r = vhu_set_mem_table(d);
	if (r == 0)
		r = vhu_start_queues(d, restart);
	return r;
}

int vhu_setup(struct vhu_dev *d, const char *path, int timeout_ms)
{
	return bring_up(d, path, timeout_ms, 0);
}

int vhu_reconnect(struct vhu_dev *d, const char *path, int timeout_ms)
{
	vhu_close_sock(d);
	return bring_up(d, path, timeout_ms, 1);
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
		vq->call_fd = vq->kick_fd = vq->err_fd = -1;
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
