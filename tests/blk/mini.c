// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Minimal vhost-user-blk front-end for tests; see mini.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "mini.h"

#define HDR 12

int mini_send(struct mini *m, uint32_t req, uint32_t flags, const void *p, uint32_t size,
	      const int *fds, unsigned nfds)
{
	uint32_t hdr[3] = { req, flags, size };
	struct iovec iov[2] = { { hdr, HDR }, { (void *)p, size } };
	char cbuf[CMSG_SPACE(8 * sizeof(int))];
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(m->sock, &mh, MSG_NOSIGNAL) == (ssize_t)(HDR + size) ? 0 : -1;
}

int mini_recv(struct mini *m, uint32_t *req, void *p, uint32_t *size, int *fd)
{
	uint32_t hdr[3];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { hdr, HDR };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct pollfd pfd = { m->sock, POLLIN, 0 };

	if (poll(&pfd, 1, 10000) != 1 || recvmsg(m->sock, &mh, 0) != HDR)
		return -1;
	if (fd) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		*fd = -1;
		if (c && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	}
	*req = hdr[0];
	if (!(hdr[1] & 4) || hdr[2] > *size)
		return -1;
	*size = hdr[2];
	return recv(m->sock, p, hdr[2], MSG_WAITALL) == (ssize_t)hdr[2] ? 0 : -1;
}

static int call_u64(struct mini *m, uint32_t req, uint64_t *v)
{
	uint32_t r, size = 8;

	if (mini_send(m, req, 1, NULL, 0, NULL, 0) < 0 || mini_recv(m, &r, v, &size, NULL) < 0)
		return -1;
	return r == req && size == 8 ? 0 : -1;
}

static int send_u64(struct mini *m, uint32_t req, uint64_t v, const int *fds, unsigned nfds)
{
	uint64_t ack;
	uint32_t r, size = 8;

	/* REPLY_ACK after every setter: makes the sequence synchronous */
	if (mini_send(m, req, 1 | 8, &v, 8, fds, nfds) < 0 || mini_recv(m, &r, &ack, &size, NULL) < 0)
		return -1;
	return ack == 0 ? 0 : -1;
}

static int send_acked(struct mini *m, uint32_t req, const void *p, uint32_t len, const int *fds,
		      unsigned nfds)
{
	uint64_t ack;
	uint32_t r, size = 8;

	if (mini_send(m, req, 1 | 8, p, len, fds, nfds) < 0 || mini_recv(m, &r, &ack, &size, NULL) < 0)
		return -1;
	return ack == 0 ? 0 : -1;
}

int mini_connect(struct mini *m, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	m->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	for (int i = 0; i < 200; i++) {
		if (connect(m->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return 0;
		usleep(20000);
	}
	return -1;
}

void mini_close(struct mini *m)
{
	if (m->sock >= 0)
		close(m->sock);
	m->sock = -1;
	for (unsigned i = 0; i < m->nq; i++) {
		if (m->q[i].kick >= 0)
			close(m->q[i].kick);
		if (m->q[i].call >= 0)
			close(m->q[i].call);
		m->q[i].kick = m->q[i].call = -1;
	}
}

void *mini_gpa(struct mini *m, uint64_t gpa)
{
	return m->mem + (gpa - MINI_GPA);
}

uint64_t mini_alloc(struct mini *m, size_t len)
{
	uint64_t g = (m->bump + 4095) & ~4095ull;

	m->bump = g + len;
	return g;
}

static int setup_mem(struct mini *m)
{
	struct { uint32_t n, pad; uint64_t gpa, size, uva, off; } t;

	if (!m->mem) {
		m->memfd = memfd_create("mini-guest", MFD_CLOEXEC);
		if (m->memfd < 0 || ftruncate(m->memfd, MINI_MEM) < 0)
			return -1;
		m->mem = mmap(NULL, MINI_MEM, PROT_READ | PROT_WRITE, MAP_SHARED, m->memfd, 0);
		if (m->mem == MAP_FAILED)
			return -1;
		m->bump = MINI_GPA;
	}
	t.n = 1;
	t.pad = 0;
	t.gpa = MINI_GPA;
	t.size = MINI_MEM;
	t.uva = (uintptr_t)m->mem;
	t.off = 0;
	return send_acked(m, 5, &t, sizeof(t), &m->memfd, 1);
}

static int setup_inflight(struct mini *m, unsigned nq, uint16_t qsize)
{
	struct { uint64_t size, off; uint16_t nq, qs; uint32_t pad; } in = { 0, 0, nq, qsize, 0 };
	uint32_t r, size = sizeof(in);

	if (m->inflight_fd < 0) {
		if (mini_send(m, 31, 1, &in, sizeof(in), NULL, 0) < 0 ||
		    mini_recv(m, &r, &in, &size, &m->inflight_fd) < 0 || m->inflight_fd < 0)
			return -1;
		m->inflight_size = in.size;
	}
	in.size = m->inflight_size;
	in.off = 0;
	in.nq = nq;
	in.qs = qsize;
	return send_acked(m, 32, &in, sizeof(in), &m->inflight_fd, 1);
}

static int setup_ring(struct mini *m, unsigned qi, uint16_t qsize, bool fresh)
{
	struct mini_q *q = &m->q[qi];
	struct { uint32_t idx, flags; uint64_t desc, used, avail, log; } a;
	uint32_t state[2];

	if (fresh) {
		q->num = qsize;
		q->desc_gpa = mini_alloc(m, 16 * qsize);
		q->avail_gpa = mini_alloc(m, 6 + 2 * qsize);
		q->used_gpa = mini_alloc(m, 6 + 8 * qsize);
		q->desc = mini_gpa(m, q->desc_gpa);
		q->avail = mini_gpa(m, q->avail_gpa);
		q->used = mini_gpa(m, q->used_gpa);
	}
	q->kick = eventfd(0, EFD_CLOEXEC);
	q->call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	state[0] = qi;
	state[1] = qsize;
	if (send_acked(m, 8, state, 8, NULL, 0) < 0)
		return -1;
	state[1] = q->used->idx;	/* what QEMU sends after a crash */
	if (send_acked(m, 10, state, 8, NULL, 0) < 0)
		return -1;
	a.idx = qi;
	a.flags = 0;
	a.desc = (uintptr_t)q->desc;
	a.used = (uintptr_t)q->used;
	a.avail = (uintptr_t)q->avail;
	a.log = 0;
	if (send_acked(m, 9, &a, sizeof(a), NULL, 0) < 0 ||
	    send_u64(m, 13, qi, &q->call, 1) < 0 || send_u64(m, 12, qi, &q->kick, 1) < 0)
		return -1;
	state[1] = 1;
	return send_acked(m, 18, state, 8, NULL, 0);
}

int mini_start(struct mini *m, unsigned nq, uint16_t qsize, bool want_inflight, bool event_idx)
{
	uint64_t f, want;
	bool fresh = m->nq == 0;

	if (call_u64(m, 1, &f) < 0 || !(f & (1ull << 30)))
		return -1;
	if (mini_send(m, 16, 1, &(uint64_t){ (1 << 0) | (1 << 3) | (1 << 9) | (1 << 12) }, 8,
		      NULL, 0) < 0)
		return -1;
	m->proto = 1 << 3;
	if (mini_send(m, 3, 1, NULL, 0, NULL, 0) < 0)
		return -1;
	want = f & ~(event_idx ? 0 : 1ull << VIRTIO_RING_F_EVENT_IDX);
	if (send_u64(m, 2, want, NULL, 0) < 0)
		return -1;
	m->features = want;
	if (want_inflight && setup_inflight(m, nq, qsize) < 0)
		return -1;
	if (setup_mem(m) < 0)
		return -1;
	m->nq = nq;
	for (unsigned i = 0; i < nq; i++)
		if (setup_ring(m, i, qsize, fresh) < 0)
			return -1;
	return 0;
}

static uint16_t add_desc(struct mini_q *q, uint64_t gpa, uint32_t len, uint16_t flags)
{
	uint16_t i = q->next_desc++ % q->num;

	q->desc[i].addr = gpa;
	q->desc[i].len = len;
	q->desc[i].flags = flags;
	q->desc[i].next = q->next_desc % q->num;
	return i;
}

int mini_queue_req(struct mini *m, unsigned qi, uint32_t type, uint64_t sector,
		   uint64_t data_gpa, uint32_t len, bool data_write, uint64_t *status_gpa)
{
	struct mini_q *q = &m->q[qi];
	uint64_t hdr_gpa = mini_alloc(m, 32);
	struct virtio_blk_outhdr *h = mini_gpa(m, hdr_gpa);
	uint16_t head;

	h->type = type;
	h->ioprio = m->ioprio;
	h->sector = sector;
	*status_gpa = hdr_gpa + 16;
	*(uint8_t *)mini_gpa(m, *status_gpa) = 0xff;
	head = add_desc(q, hdr_gpa, 16, VRING_DESC_F_NEXT);
	if (len)
		add_desc(q, data_gpa, len, VRING_DESC_F_NEXT | (data_write ? VRING_DESC_F_WRITE : 0));
	add_desc(q, *status_gpa, 1, VRING_DESC_F_WRITE);
	q->avail->ring[q->avail->idx % q->num] = head;
	__atomic_store_n(&q->avail->idx, q->avail->idx + 1, __ATOMIC_RELEASE);
	return head;
}

void mini_kick(struct mini *m, unsigned qi)
{
	uint64_t one = 1;

	if (write(m->q[qi].kick, &one, 8) != 8)
		return;
}

int mini_wait_used(struct mini *m, unsigned qi, int timeout_ms, uint32_t *len)
{
	struct mini_q *q = &m->q[qi];

	for (int t = 0; t < timeout_ms * 10; t++) {
		if (__atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE) != q->last_used) {
			struct vring_used_elem *e = &q->used->ring[q->last_used++ % q->num];

			if (len)
				*len = e->len;
			return e->id;
		}
		usleep(100);
	}
	return -1;
}

int mini_req(struct mini *m, unsigned qi, uint32_t type, uint64_t sector, void *buf,
	     uint32_t len)
{
	uint64_t data = mini_alloc(m, len ? len : 1), st;
	bool to_guest = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;

	if (!to_guest && len)
		memcpy(mini_gpa(m, data), buf, len);
	mini_queue_req(m, qi, type, sector, data, len, to_guest, &st);
	mini_kick(m, qi);
	if (mini_wait_used(m, qi, 5000, NULL) < 0)
		return -1;
	if (to_guest && len)
		memcpy(buf, mini_gpa(m, data), len);
	m->bump = MINI_GPA + (4u << 20);	/* data area is recycled per request */
	return *(uint8_t *)mini_gpa(m, st);
}

int mini_get_vring_base(struct mini *m, unsigned qi, uint32_t *base)
{
	uint32_t state[2] = { qi, 0 }, r, size = 8;

	if (mini_send(m, 11, 1, state, 8, NULL, 0) < 0 || mini_recv(m, &r, state, &size, NULL) < 0)
		return -1;
	*base = state[1];
	return 0;
}
