// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu: vhost-user messages on the Unix socket (framing, fds, replies).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/sock.h"
#include "vhu.h"

static const char *const req_names[] = {
	[VHU_GET_FEATURES] = "GET_FEATURES",
	[VHU_SET_FEATURES] = "SET_FEATURES",
	[VHU_SET_OWNER] = "SET_OWNER",
	[VHU_RESET_OWNER] = "RESET_OWNER",
	[VHU_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHU_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHU_SET_LOG_FD] = "SET_LOG_FD",
	[VHU_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHU_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHU_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHU_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHU_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHU_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHU_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHU_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHU_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHU_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHU_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHU_SEND_RARP] = "SEND_RARP",
	[VHU_GET_CONFIG] = "GET_CONFIG",
	[VHU_SET_CONFIG] = "SET_CONFIG",
	[VHU_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHU_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VHU_RESET_DEVICE] = "RESET_DEVICE",
	[VHU_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
};

const char *vhu_request_name(uint32_t req)
{
	if (req < sizeof(req_names) / sizeof(req_names[0]) && req_names[req])
		return req_names[req];
	return "UNKNOWN";
}

/* Requests whose reply carries a payload whether or not REPLY_ACK is on. */
static int has_reply(uint32_t req)
{
	switch (req) {
	case VHU_GET_FEATURES: case VHU_GET_PROTOCOL_FEATURES:
	case VHU_GET_VRING_BASE: case VHU_GET_QUEUE_NUM:
	case VHU_GET_CONFIG: case VHU_GET_INFLIGHT_FD:
	case VHU_GET_MAX_MEM_SLOTS:
		return 1;
	}
	return 0;
}

int vhu_connect(const char *path, int timeout_ms)
{
	/* The back-end may still be starting: retry until the socket listens. */
	for (int waited = 0;; waited += 10) {
		int s = sock_connect(path, SOCK_STREAM, 0);

		if (s >= 0 || (s != -ENOENT && s != -ECONNREFUSED) || waited >= timeout_ms)
			return s;
		usleep(10000);
	}
}

int vhu_send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > 16)
		return -EINVAL;
	if (nfds > 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int vhu_send(int sock, const struct vhu_msg *m, const int *fds, int nfds)
{
	if (m->size > sizeof(m->u))
		return -EINVAL;
	return vhu_send_raw(sock, m, VHU_HDR_SIZE + m->size, fds, nfds);
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	size_t got = 0;

	while (got < len) {
		int r = wait_readable(fd, timeout_ms);

		if (r < 0)
			return r;
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		got += n;
	}
	return 0;
}

/* Receives one message; fds (up to *nfds, in/out) come with the header. */
int vhu_recv(int sock, struct vhu_msg *m, int *fds, int *nfds, int timeout_ms)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 16)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { .iov_base = m, .iov_len = VHU_HDR_SIZE };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
	int maxfds = nfds ? *nfds : 0, r;
	ssize_t n;

	if (nfds)
		*nfds = 0;
	r = wait_readable(sock, timeout_ms);
	if (r < 0)
		return r;
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		return -ECONNRESET;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *in = (int *)CMSG_DATA(c);

		for (int i = 0; i < cnt; i++) {
			if (nfds && *nfds < maxfds)
				fds[(*nfds)++] = in[i];
			else
				close(in[i]);
		}
	}
	if (n < (ssize_t)VHU_HDR_SIZE) {
		r = read_full(sock, (char *)m + n, VHU_HDR_SIZE - n, timeout_ms);
		if (r < 0)
			return r;
	}
	if (m->size > sizeof(m->u))
		return -EMSGSIZE;
	return read_full(sock, &m->u, m->size, timeout_ms);
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/*
 * Sends m and, when the request has a reply (or REPLY_ACK is negotiated,
 * in which case NEED_REPLY is set), waits for it.  A reply lands in m; an
 * ack that is not zero is -EREMOTEIO.  fds received with a reply are kept
 * only for GET_INFLIGHT_FD (in d->inflight_fd); others are closed.
 */
int vhu_call(struct vhu_dev *d, struct vhu_msg *m, const int *fds, int nfds)
{
	uint32_t req = m->request;
	int ack = !has_reply(req) && has_feature(d->acked_proto, VHU_PF_REPLY_ACK);
	int rfds[8], nr = 8, r;

	m->flags = VHU_FLAG_VERSION | (ack ? VHU_FLAG_NEED_REPLY : 0);
	r = vhu_send(d->sock, m, fds, nfds);
	if (r < 0)
		return r;
	if (!ack && !has_reply(req))
		return 0;
	r = vhu_recv(d->sock, m, rfds, &nr, 5000);
	if (r < 0)
		return r;
	if (m->request != req || !(m->flags & VHU_FLAG_REPLY)) {
		close_fds(rfds, nr);
		return -EPROTO;
	}
	if (req == VHU_GET_INFLIGHT_FD && nr >= 1) {
		d->inflight_fd = rfds[0];
		close_fds(rfds + 1, nr - 1);
	} else {
		close_fds(rfds, nr);
	}
	if (ack) {
		if (m->size != sizeof(uint64_t))
			return -EPROTO;
		return m->u.u64 ? -EREMOTEIO : 0;
	}
	return 0;
}

int vhu_get_u64(struct vhu_dev *d, uint32_t req, uint64_t *val)
{
	struct vhu_msg m = { .request = req };
	int r = vhu_call(d, &m, NULL, 0);

	if (r < 0)
		return r;
	if (m.size != sizeof(uint64_t))
		return -EPROTO;
	*val = m.u.u64;
	return 0;
}

int vhu_set_u64(struct vhu_dev *d, uint32_t req, uint64_t val)
{
	struct vhu_msg m = { .request = req, .size = 8, .u.u64 = val };

	return vhu_call(d, &m, NULL, 0);
}

int vhu_set_state(struct vhu_dev *d, uint32_t req, uint32_t index, uint32_t num)
{
	struct vhu_msg m = { .request = req, .size = 8 };

	m.u.state.index = index;
	m.u.state.num = num;
	return vhu_call(d, &m, NULL, 0);
}
