// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhost-user control plane (main thread): one handler per request behind
 * the validation gate in vhost_msg.c.  Handlers return VUB_OK, VUB_NACK
 * (refused, connection stays) or VUB_CLOSE (protocol violation: the
 * connection ends, the process keeps serving the next one).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include "dev.h"

enum { VUB_OK = 0, VUB_NACK = -1, VUB_CLOSE = -2 };

#define VUB_DRAIN_MS 30000

uint64_t vub_dev_features(const struct vub_dev *d)
{
	uint64_t f = 1ull << VIRTIO_BLK_F_SIZE_MAX | 1ull << VIRTIO_BLK_F_SEG_MAX |
		     1ull << VIRTIO_BLK_F_BLK_SIZE | 1ull << VIRTIO_BLK_F_TOPOLOGY |
		     1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_CONFIG_WCE |
		     1ull << VIRTIO_BLK_F_MQ | 1ull << VIRTIO_RING_F_INDIRECT_DESC |
		     1ull << VIRTIO_RING_F_EVENT_IDX | 1ull << VIRTIO_F_VERSION_1 |
		     1ull << VHOST_USER_F_PROTOCOL_FEATURES;

	if (d->disk.ro)
		f |= 1ull << VIRTIO_BLK_F_RO;
	else
		f |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

uint64_t vub_dev_protocol_features(void)
{
	return 1ull << VHOST_USER_PROTOCOL_F_MQ | 1ull << VHOST_USER_PROTOCOL_F_REPLY_ACK |
	       1ull << VHOST_USER_PROTOCOL_F_CONFIG | 1ull << VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD;
}

void vub_dev_config(const struct vub_dev *d, uint8_t *cfg)
{
	struct virtio_blk_config c;

	memset(&c, 0, sizeof(c));
	c.capacity = d->disk.capacity;
	c.size_max = 1u << 20;
	c.seg_max = VUB_SEG_MAX;
	c.blk_size = d->blk_size;
	c.physical_block_exp = d->phys_exp;
	c.min_io_size = 1;
	c.wce = d->wce;
	c.num_queues = d->nqueues;
	c.max_discard_sectors = BLK_MAX_DISCARD_SECT;
	c.max_discard_seg = 1;
	c.discard_sector_alignment = 4096 / BLK_SECTOR;
	c.max_write_zeroes_sectors = BLK_MAX_WZ_SECT;
	c.max_write_zeroes_seg = 1;
	c.write_zeroes_may_unmap = 1;
	memset(cfg, 0, VHOST_USER_MAX_CONFIG_SIZE);
	memcpy(cfg, &c, sizeof(c) < VHOST_USER_MAX_CONFIG_SIZE ? sizeof(c) : VHOST_USER_MAX_CONFIG_SIZE);
}

/* ---- replies ---- */

static int reply(struct vub_dev *d, struct vhost_user_msg *msg, uint32_t size, int fd)
{
	msg->hdr.flags = VHOST_USER_VERSION | VHOST_USER_REPLY_MASK;
	msg->hdr.size = size;
	if (vhost_user_msg_send(d->conn, msg, &fd, fd >= 0 ? 1 : 0) < 0) {
		log_warn("reply to %s", vhost_user_req_name(msg->hdr.request));
		return VUB_CLOSE;
	}
	return VUB_OK;
}

static int reply_u64(struct vub_dev *d, struct vhost_user_msg *msg, uint64_t v)
{
	msg->p.u64 = v;
	return reply(d, msg, sizeof(v), -1);
}

/* ---- rings ---- */

static int map_rings(struct vub_queue *q, struct vub_mem *m)
{
	size_t n = q->num;
	void *desc = vub_uva_to_hva(m, q->desc_uva, n * sizeof(struct vring_desc));
	void *avail = vub_uva_to_hva(m, q->avail_uva, 4 + 2 * n + 2);
	void *used = vub_uva_to_hva(m, q->used_uva, 4 + 8 * n + 2);

	if (!desc || !avail || !used) {
		log_warnx("queue %u: ring addresses outside the memory table", q->index);
		return -1;
	}
	if ((uintptr_t)desc % 16 || (uintptr_t)avail % 2 || (uintptr_t)used % 4) {
		log_warnx("queue %u: misaligned ring", q->index);
		return -1;
	}
	q->vq.desc = desc;
	q->vq.avail = avail;
	q->vq.used = used;
	vub_mem_put(q->ring_mem);
	q->ring_mem = vub_mem_get(m);
	return 0;
}

static int alloc_slots(struct vub_dev *d, struct vub_queue *q)
{
	size_t size = (size_t)d->max_qsize * sizeof(struct blk_req);

	if (q->slots)
		return 0;
	if (posix_memalign((void **)&q->slots, 64, size))
		return -1;
	memset(q->slots, 0, size);
	q->resubmit = calloc(d->max_qsize, sizeof(*q->resubmit));
	return q->resubmit ? 0 : -1;
}

static int queue_try_start(struct vub_dev *d, struct vub_queue *q)
{
	struct vub_vq *vq = &q->vq;
	unsigned redo;

	if (q->started || q->kickfd < 0 || !q->addr_set || !d->mem || !q->num)
		return VUB_OK;
	if (alloc_slots(d, q) < 0) {
		log_warnx("queue %u: out of memory", q->index);
		return VUB_CLOSE;
	}
	worker_pause(q->w);
	if (map_rings(q, d->mem) < 0) {
		worker_resume(q->w);
		return VUB_CLOSE;
	}
	vq->num = q->num;
	vq->event_idx = has_feature(d->features, VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = has_feature(d->features, VIRTIO_RING_F_INDIRECT_DESC);
	vq->broken = vq->faulted = false;
	vq->last_avail = q->base;
	vq->used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	vq->signalled_valid = false;
	vq->batch_n = 0;
	vq->infl = has_feature(d->proto, VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) ?
		   vub_inflight_queue(d, q->index, q->num) : NULL;
	q->n_resubmit = redo = vq->infl ? vq_inflight_recover(vq, q->resubmit) : 0;
	q->gen++;
	q->kick_seq++;
	q->started = true;
	worker_resume(q->w);
	log_info("queue %u started: size %u, avail %u, used %u%s%s%s, %u to resubmit", q->index,
		 q->num, vq->last_avail, vq->used_idx, vq->event_idx ? ", event-idx" : "",
		 vq->indirect ? ", indirect" : "", vq->infl ? ", inflight-tracked" : "",
		 redo);
	return VUB_OK;
}

static void queue_stop(struct vub_dev *d, struct vub_queue *q)
{
	if (!q->started)
		return;
	worker_pause(q->w);
	q->started = false;
	q->stopping = true;
	q->kick_seq++;
	worker_resume(q->w);
	if (!worker_drain(q, VUB_DRAIN_MS))
		log_warnx("queue %u: %u requests still in flight after %d ms; abandoning them",
			  q->index, q->inflight, VUB_DRAIN_MS);
	worker_pause(q->w);
	q->stopping = false;
	q->gen++;
	q->base = q->vq.last_avail;
	worker_resume(q->w);
	log_info("queue %u stopped at avail %u", q->index, q->base);
}

static void replace_fd(struct vub_queue *q, int *slot, int fd)
{
	int old;

	worker_pause(q->w);
	old = *slot;
	*slot = fd;
	q->kick_seq += slot == &q->kickfd;
	worker_resume(q->w);
	if (old >= 0)
		close(old);
}

static void queue_reset(struct vub_queue *q)
{
	replace_fd(q, &q->kickfd, -1);
	replace_fd(q, &q->callfd, -1);
	if (q->errfd >= 0)
		close(q->errfd);
	q->errfd = -1;
	worker_pause(q->w);
	vub_mem_put(q->ring_mem);
	q->ring_mem = NULL;
	memset(&q->vq, 0, sizeof(q->vq));
	q->num = 0;
	q->base = 0;
	q->addr_set = false;
	q->enabled = false;
	worker_resume(q->w);
}

/* ---- handlers ---- */

static int set_features(struct vub_dev *d, struct vhost_user_msg *msg)
{
	uint64_t f = msg->p.u64;

	if (f & ~vub_dev_features(d)) {
		log_warnx("SET_FEATURES: unoffered bits %#llx",
			  (unsigned long long)(f & ~vub_dev_features(d)));
		return VUB_CLOSE;
	}
	d->features = f;
	d->features_set = true;
	log_debug("features %#llx", (unsigned long long)f);
	return VUB_OK;
}

static int set_protocol_features(struct vub_dev *d, struct vhost_user_msg *msg)
{
	if (msg->p.u64 & ~vub_dev_protocol_features()) {
		log_warnx("SET_PROTOCOL_FEATURES: unoffered bits");
		return VUB_CLOSE;
	}
	d->proto = msg->p.u64;
	return VUB_OK;
}

static int set_mem_table(struct vub_dev *d, struct vhost_user_msg *msg)
{
	const char *why = NULL;
	struct vub_mem *m = vub_mem_map(msg->p.mem.r, msg->p.mem.nregions, msg->fds, &why);
	struct vub_mem *old = d->mem;

	vhost_user_msg_close_fds(msg);
	if (!m) {
		log_warnx("SET_MEM_TABLE: %s", why);
		return VUB_CLOSE;
	}
	for (unsigned i = 0; i < m->nregions; i++)
		log_info("memory region %u: gpa %#llx size %#llx uva %#llx offset %#llx", i,
			 (unsigned long long)m->r[i].gpa, (unsigned long long)m->r[i].size,
			 (unsigned long long)m->r[i].uva, (unsigned long long)m->r[i].mmap_offset);
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_pause(&d->w[i]);
	d->mem = m;
	for (unsigned i = 0; i < d->nqueues; i++) {
		struct vub_queue *q = &d->q[i];

		if (q->started && map_rings(q, m) < 0)
			q->vq.broken = true;
	}
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_resume(&d->w[i]);
	vub_mem_put(old);
	return VUB_OK;
}

static int set_vring_num(struct vub_dev *d, struct vhost_user_msg *msg)
{
	struct vub_queue *q = &d->q[msg->p.state.index];
	uint32_t n = msg->p.state.num;

	if (q->started || n == 0 || n > d->max_qsize || (n & (n - 1))) {
		log_warnx("SET_VRING_NUM: queue %u size %u (max %u, power of two, not running)",
			  q->index, n, d->max_qsize);
		return VUB_CLOSE;
	}
	q->num = n;
	return VUB_OK;
}

static int set_vring_addr(struct vub_dev *d, struct vhost_user_msg *msg)
{
	const struct vhost_user_addr *a = &msg->p.addr;
	struct vub_queue *q = &d->q[a->index];

	if (a->flags & 1) {	/* VHOST_VRING_F_LOG: we offer no dirty logging */
		log_warnx("SET_VRING_ADDR: logging requested but not offered");
		return VUB_CLOSE;
	}
	q->desc_uva = a->desc_uva;
	q->avail_uva = a->avail_uva;
	q->used_uva = a->used_uva;
	q->addr_set = true;
	if (q->started) {
		int err;

		worker_pause(q->w);
		err = map_rings(q, d->mem);
		worker_resume(q->w);
		return err < 0 ? VUB_CLOSE : VUB_OK;
	}
	return queue_try_start(d, q);
}

static int set_vring_base(struct vub_dev *d, struct vhost_user_msg *msg)
{
	struct vub_queue *q = &d->q[msg->p.state.index];

	if (q->started || msg->p.state.num > 0xffff) {
		log_warnx("SET_VRING_BASE: queue %u running or base out of range", q->index);
		return VUB_CLOSE;
	}
	q->base = msg->p.state.num;
	return VUB_OK;
}

static int get_vring_base(struct vub_dev *d, struct vhost_user_msg *msg)
{
	struct vub_queue *q = &d->q[msg->p.state.index];

	queue_stop(d, q);
	replace_fd(q, &q->kickfd, -1);
	msg->p.state.num = q->base;
	return reply(d, msg, sizeof(msg->p.state), -1);
}

static int set_vring_fd(struct vub_dev *d, struct vhost_user_msg *msg)
{
	struct vub_queue *q = &d->q[msg->p.u64 & VHOST_USER_VRING_IDX_MASK];
	int fd = msg->nfds ? msg->fds[0] : -1;

	msg->nfds = 0;
	switch (msg->hdr.request) {
	case VHOST_USER_SET_VRING_KICK:
		if (fd < 0)
			log_warnx("queue %u: no kick fd (polling is not supported)", q->index);
		replace_fd(q, &q->kickfd, fd);
		return queue_try_start(d, q);
	case VHOST_USER_SET_VRING_CALL:
		replace_fd(q, &q->callfd, fd);
		return VUB_OK;
	default:
		if (q->errfd >= 0)
			close(q->errfd);
		q->errfd = fd;
		return VUB_OK;
	}
}

static int set_vring_enable(struct vub_dev *d, struct vhost_user_msg *msg)
{
	struct vub_queue *q = &d->q[msg->p.state.index];

	if (msg->p.state.num > 1)
		return VUB_CLOSE;
	q->enabled = msg->p.state.num;
	log_debug("queue %u %s", q->index, q->enabled ? "enabled" : "disabled");
	return VUB_OK;
}

static int get_config(struct vub_dev *d, struct vhost_user_msg *msg)
{
	uint8_t cfg[VHOST_USER_MAX_CONFIG_SIZE];
	struct vhost_user_config *c = &msg->p.config;

	vub_dev_config(d, cfg);
	memcpy(c->payload, cfg + c->offset, c->size);
	return reply(d, msg, VHOST_USER_CONFIG_HDR + c->size, -1);
}

static int set_config(struct vub_dev *d, struct vhost_user_msg *msg)
{
	const struct vhost_user_config *c = &msg->p.config;
	size_t wce_off = offsetof(struct virtio_blk_config, wce);

	/* writeback is the only field a driver may write */
	if (c->flags != VHOST_SET_CONFIG_TYPE_FRONTEND || c->offset != wce_off || c->size != 1) {
		log_warnx("SET_CONFIG: refusing write of %u bytes at %u", c->size, c->offset);
		return VUB_NACK;
	}
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_pause(&d->w[i]);
	d->wce = c->payload[0] ? 1 : 0;
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_resume(&d->w[i]);
	log_info("write cache %s", d->wce ? "writeback" : "writethrough");
	return VUB_OK;
}

static int get_inflight_fd(struct vub_dev *d, struct vhost_user_msg *msg)
{
	int fd = -1, err;

	if (vub_inflight_get(d, msg, &fd) < 0) {
		/* a zero-size reply tells QEMU we failed */
		memset(&msg->p.inflight, 0, sizeof(msg->p.inflight));
		return reply(d, msg, sizeof(msg->p.inflight), -1);
	}
	err = reply(d, msg, sizeof(msg->p.inflight), fd);
	close(fd);
	return err;
}

static int set_inflight_fd(struct vub_dev *d, struct vhost_user_msg *msg)
{
	for (unsigned i = 0; i < d->nqueues; i++)
		if (d->q[i].started) {
			log_warnx("SET_INFLIGHT_FD while queue %u runs", i);
			vhost_user_msg_close_fds(msg);
			return VUB_CLOSE;
		}
	msg->nfds = 0;
	return vub_inflight_set(d, msg) < 0 ? VUB_CLOSE : VUB_OK;
}

static int dispatch(struct vub_dev *d, struct vhost_user_msg *msg, bool *replied)
{
	*replied = true;
	switch (msg->hdr.request) {
	case VHOST_USER_GET_FEATURES:
		return reply_u64(d, msg, vub_dev_features(d));
	case VHOST_USER_GET_PROTOCOL_FEATURES:
		return reply_u64(d, msg, vub_dev_protocol_features());
	case VHOST_USER_GET_QUEUE_NUM:
		return reply_u64(d, msg, d->nqueues);
	case VHOST_USER_GET_VRING_BASE:
		return get_vring_base(d, msg);
	case VHOST_USER_GET_CONFIG:
		return get_config(d, msg);
	case VHOST_USER_GET_INFLIGHT_FD:
		return get_inflight_fd(d, msg);
	}
	*replied = false;
	switch (msg->hdr.request) {
	case VHOST_USER_SET_FEATURES: return set_features(d, msg);
	case VHOST_USER_SET_PROTOCOL_FEATURES: return set_protocol_features(d, msg);
	case VHOST_USER_SET_OWNER: return VUB_OK;
	case VHOST_USER_RESET_OWNER:
		/* deprecated; vhost-user.rst: treat as "disable all rings" */
		for (unsigned i = 0; i < d->nqueues; i++)
			queue_stop(d, &d->q[i]);
		return VUB_OK;
	case VHOST_USER_SET_MEM_TABLE: return set_mem_table(d, msg);
	case VHOST_USER_SET_VRING_NUM: return set_vring_num(d, msg);
	case VHOST_USER_SET_VRING_ADDR: return set_vring_addr(d, msg);
	case VHOST_USER_SET_VRING_BASE: return set_vring_base(d, msg);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR: return set_vring_fd(d, msg);
	case VHOST_USER_SET_VRING_ENABLE: return set_vring_enable(d, msg);
	case VHOST_USER_SET_CONFIG: return set_config(d, msg);
	case VHOST_USER_SET_INFLIGHT_FD: return set_inflight_fd(d, msg);
	}
	log_warnx("%s (%u): not supported, refused", vhost_user_req_name(msg->hdr.request),
		  msg->hdr.request);
	return VUB_NACK;
}

bool vub_handle_msg(struct vub_dev *d, struct vhost_user_msg *msg)
{
	const char *why = vhost_user_msg_check(msg, d->nqueues);
	bool need_reply = msg->hdr.flags & VHOST_USER_NEED_REPLY_MASK, replied;
	int rc;

	if (why) {
		if (msg->hdr.request == VHOST_USER_SET_VRING_ENABLE &&
		    msg->p.state.index >= d->nqueues && msg->hdr.size == 8)
			log_warnx("front-end enables queue %u but antfarm-blk serves %u queue(s) "
				  "(--num-queues); give the device num-queues=%u or start "
				  "antfarm-blk with more", msg->p.state.index, d->nqueues, d->nqueues);
		log_warnx("bad %s message (%u): %s; closing the connection",
			  vhost_user_req_name(msg->hdr.request), msg->hdr.request, why);
		vhost_user_msg_close_fds(msg);
		return false;
	}
	if (log_verbose() > 1)
		log_debug("<- %s size %u fds %u", vhost_user_req_name(msg->hdr.request),
			  msg->hdr.size, msg->nfds);
	rc = dispatch(d, msg, &replied);
	vhost_user_msg_close_fds(msg);
	if (rc == VUB_CLOSE)
		return false;
	if (need_reply && !replied && has_feature(d->proto, VHOST_USER_PROTOCOL_F_REPLY_ACK))
		return reply_u64(d, msg, rc == VUB_OK ? 0 : 1) == VUB_OK;
	return true;
}

void vub_conn_reset(struct vub_dev *d)
{
	for (unsigned i = 0; i < d->nqueues; i++)
		queue_stop(d, &d->q[i]);
	for (unsigned i = 0; i < d->nqueues; i++)
		queue_reset(&d->q[i]);
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_pause(&d->w[i]);
	vub_mem_put(d->mem);
	d->mem = NULL;
	vub_inflight_unmap(d);
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_resume(&d->w[i]);
	d->features = d->proto = 0;
	d->features_set = false;
	d->wce = 1;
	__atomic_store_n(&d->mem_faulted, 0, __ATOMIC_RELEASE);
}
