// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* vhost-user messages: names, the validation gate, socket receive/send. */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "vhost_msg.h"

static const char *const req_names[VHOST_USER_MAX] = {
	[VHOST_USER_NONE] = "NONE",
	[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
	[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
	[VHOST_USER_SET_OWNER] = "SET_OWNER",
	[VHOST_USER_RESET_OWNER] = "RESET_OWNER",
	[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
	[VHOST_USER_SET_LOG_BASE] = "SET_LOG_BASE",
	[VHOST_USER_SET_LOG_FD] = "SET_LOG_FD",
	[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
	[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
	[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
	[VHOST_USER_GET_VRING_BASE] = "GET_VRING_BASE",
	[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
	[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
	[VHOST_USER_SET_VRING_ERR] = "SET_VRING_ERR",
	[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
	[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
	[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
	[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
	[VHOST_USER_SEND_RARP] = "SEND_RARP",
	[VHOST_USER_NET_SET_MTU] = "NET_SET_MTU",
	[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
	[VHOST_USER_IOTLB_MSG] = "IOTLB_MSG",
	[VHOST_USER_SET_VRING_ENDIAN] = "SET_VRING_ENDIAN",
	[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
	[VHOST_USER_SET_CONFIG] = "SET_CONFIG",
	[VHOST_USER_CREATE_CRYPTO_SESSION] = "CREATE_CRYPTO_SESSION",
	[VHOST_USER_CLOSE_CRYPTO_SESSION] = "CLOSE_CRYPTO_SESSION",
	[VHOST_USER_POSTCOPY_ADVISE] = "POSTCOPY_ADVISE",
	[VHOST_USER_POSTCOPY_LISTEN] = "POSTCOPY_LISTEN",
	[VHOST_USER_POSTCOPY_END] = "POSTCOPY_END",
	[VHOST_USER_GET_INFLIGHT_FD] = "GET_INFLIGHT_FD",
	[VHOST_USER_SET_INFLIGHT_FD] = "SET_INFLIGHT_FD",
	[VHOST_USER_GPU_SET_SOCKET] = "GPU_SET_SOCKET",
	[VHOST_USER_RESET_DEVICE] = "RESET_DEVICE",
	[VHOST_USER_VRING_KICK] = "VRING_KICK",
	[VHOST_USER_GET_MAX_MEM_SLOTS] = "GET_MAX_MEM_SLOTS",
	[VHOST_USER_ADD_MEM_REG] = "ADD_MEM_REG",
	[VHOST_USER_REM_MEM_REG] = "REM_MEM_REG",
	[VHOST_USER_SET_STATUS] = "SET_STATUS",
	[VHOST_USER_GET_STATUS] = "GET_STATUS",
};

const char *vhost_user_req_name(uint32_t req)
{
	if (req < VHOST_USER_MAX && req_names[req])
		return req_names[req];
	return "UNKNOWN";
}

/* Payload size and fd count of every request we handle; -1 = see code. */
struct msg_rule {
	bool known;
	int size;
	int nfds;
	bool ring;		/* payload starts with a ring index (state/addr) */
};

static const struct msg_rule rules[VHOST_USER_MAX] = {
	[VHOST_USER_GET_FEATURES] = { true, 0, 0, false },
	[VHOST_USER_SET_FEATURES] = { true, 8, 0, false },
	[VHOST_USER_SET_OWNER] = { true, 0, 0, false },
	[VHOST_USER_RESET_OWNER] = { true, 0, 0, false },
	[VHOST_USER_SET_MEM_TABLE] = { true, -1, -1, false },
	[VHOST_USER_SET_VRING_NUM] = { true, 8, 0, true },
	[VHOST_USER_SET_VRING_ADDR] = { true, sizeof(struct vhost_user_addr), 0, true },
	[VHOST_USER_SET_VRING_BASE] = { true, 8, 0, true },
	[VHOST_USER_GET_VRING_BASE] = { true, 8, 0, true },
	[VHOST_USER_SET_VRING_KICK] = { true, 8, -1, false },
	[VHOST_USER_SET_VRING_CALL] = { true, 8, -1, false },
	[VHOST_USER_SET_VRING_ERR] = { true, 8, -1, false },
	[VHOST_USER_GET_PROTOCOL_FEATURES] = { true, 0, 0, false },
	[VHOST_USER_SET_PROTOCOL_FEATURES] = { true, 8, 0, false },
	[VHOST_USER_GET_QUEUE_NUM] = { true, 0, 0, false },
	[VHOST_USER_SET_VRING_ENABLE] = { true, 8, 0, true },
	[VHOST_USER_GET_CONFIG] = { true, -1, 0, false },
	[VHOST_USER_SET_CONFIG] = { true, -1, 0, false },
	[VHOST_USER_GET_INFLIGHT_FD] = { true, sizeof(struct vhost_user_inflight), 0, false },
	[VHOST_USER_SET_INFLIGHT_FD] = { true, sizeof(struct vhost_user_inflight), 1, false },
};

static const char *check_mem_table(const struct vhost_user_msg *msg)
{
	uint32_t n;

	if (msg->hdr.size < 8)
		return "memory table shorter than its count";
	n = msg->p.mem.nregions;
	if (n == 0 || n > VUB_MAX_REGIONS)
		return "region count not in 1..8";
	if (msg->hdr.size != 8 + n * sizeof(struct vhost_user_region))
		return "memory table size does not match region count";
	if (msg->nfds != n)
		return "fd count does not match region count";
	return NULL;
}

static const char *check_config(const struct vhost_user_msg *msg)
{
	const struct vhost_user_config *c = &msg->p.config;

	if (msg->hdr.size < VHOST_USER_CONFIG_HDR)
		return "config message shorter than its header";
	if (c->size > VHOST_USER_MAX_CONFIG_SIZE ||
	    c->offset > VHOST_USER_MAX_CONFIG_SIZE - c->size)
		return "config offset/size out of range";
	if (msg->hdr.size != VHOST_USER_CONFIG_HDR + c->size)
		return "config payload size does not match its size field";
	return NULL;
}

static const char *check_vring_fd(const struct vhost_user_msg *msg, unsigned nqueues)
{
	uint64_t v = msg->p.u64;

	if (v & ~(uint64_t)(VHOST_USER_VRING_IDX_MASK | VHOST_USER_VRING_NOFD_MASK))
		return "reserved bits set in vring fd message";
	if ((v & VHOST_USER_VRING_IDX_MASK) >= nqueues)
		return "ring index out of range";
	if (msg->nfds != ((v & VHOST_USER_VRING_NOFD_MASK) ? 0u : 1u))
		return "fd count does not match the invalid-fd flag";
	return NULL;
}

const char *vhost_user_msg_check(const struct vhost_user_msg *msg, unsigned nqueues)
{
	uint32_t req = msg->hdr.request;
	const struct msg_rule *r;

	if ((msg->hdr.flags & VHOST_USER_VERSION_MASK) != VHOST_USER_VERSION)
		return "bad protocol version";
	if (msg->hdr.flags & VHOST_USER_REPLY_MASK)
		return "reply flag set on a request";
	if (msg->hdr.size > VHOST_USER_MAX_PAYLOAD)
		return "payload too large";
	if (msg->nfds > VUB_MAX_MSG_FDS)
		return "too many fds";
	if (req >= VHOST_USER_MAX || !rules[req].known)
		return NULL;	/* unsupported: the dispatcher rejects it */
	r = &rules[req];
	switch (req) {
	case VHOST_USER_SET_MEM_TABLE:
		return check_mem_table(msg);
	case VHOST_USER_GET_CONFIG:
	case VHOST_USER_SET_CONFIG:
		if (msg->nfds)
			return "unexpected fds";
		return check_config(msg);
	case VHOST_USER_SET_VRING_KICK:
	case VHOST_USER_SET_VRING_CALL:
	case VHOST_USER_SET_VRING_ERR:
		if (msg->hdr.size != 8)
			return "bad payload size";
		return check_vring_fd(msg, nqueues);
	}
	if (msg->hdr.size != (uint32_t)r->size)
		return "bad payload size";
	if (msg->nfds != (unsigned)r->nfds)
		return "bad fd count";
	if (r->ring && msg->p.state.index >= nqueues)
		return "ring index out of range";
	return NULL;
}

void vhost_user_msg_close_fds(struct vhost_user_msg *msg)
{
	for (unsigned i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
}

static int take_fds(struct msghdr *mh, struct vhost_user_msg *msg)
{
	int bad = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fds[VUB_MAX_MSG_FDS];

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (n > VUB_MAX_MSG_FDS)
			n = VUB_MAX_MSG_FDS;	/* MSG_CTRUNC is set then */
		memcpy(fds, CMSG_DATA(c), n * sizeof(int));
		for (size_t i = 0; i < n; i++) {
			if (msg->nfds < VUB_MAX_MSG_FDS)
				msg->fds[msg->nfds++] = fds[i];
			else {
				close(fds[i]);
				bad = 1;
			}
		}
	}
	return bad || (mh->msg_flags & MSG_CTRUNC) ? -1 : 0;
}

void vhost_user_rx_reset(struct vhost_user_rx *rx)
{
	vhost_user_msg_close_fds(&rx->msg);
	rx->got = 0;
	rx->first_ns = 0;
}

/* Where the next bytes of the message go, and how many are missing. */
static struct iovec rx_next(struct vhost_user_rx *rx)
{
	if (rx->got < VHOST_USER_HDR_SIZE)
		return (struct iovec){ (char *)&rx->msg.hdr + rx->got, VHOST_USER_HDR_SIZE - rx->got };
	return (struct iovec){ (char *)&rx->msg.p + (rx->got - VHOST_USER_HDR_SIZE),
			       VHOST_USER_HDR_SIZE + rx->msg.hdr.size - rx->got };
}

int vhost_user_rx_read(int fd, struct vhost_user_rx *rx, uint64_t now, const char **why)
{
	char cbuf[CMSG_SPACE(VUB_MAX_MSG_FDS * sizeof(int))];

	for (;;) {
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		ssize_t n;

		if (rx->got >= VHOST_USER_HDR_SIZE && rx->msg.hdr.size > VHOST_USER_MAX_PAYLOAD) {
			*why = "payload too large";
			return VUB_RX_ERR;
		}
		iov = rx_next(rx);
		if (!iov.iov_len) {
			rx->got = 0;
			rx->first_ns = 0;
			return VUB_RX_MSG;
		}
		if (!rx->got)
			rx->msg.nfds = 0;
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return VUB_RX_MORE;
		if (n < 0) {
			*why = strerror(errno);
			return VUB_RX_ERR;
		}
		if (take_fds(&mh, &rx->msg) < 0) {
			*why = "too many fds or truncated control data";
			return VUB_RX_ERR;
		}
		if (n == 0) {
			if (!rx->got && !rx->msg.nfds)
				return VUB_RX_EOF;
			*why = rx->got < VHOST_USER_HDR_SIZE ? "short header" : "short payload";
			return VUB_RX_ERR;
		}
		if (!rx->got)
			rx->first_ns = now;
		rx->got += n;
		if (rx->got == VHOST_USER_HDR_SIZE)
			memset(&rx->msg.p, 0, sizeof(rx->msg.p));
	}
}

int vhost_user_msg_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { true, 0 };
	struct iovec iov[2] = {
		{ (void *)&msg->hdr, VHOST_USER_HDR_SIZE },
		{ (void *)&msg->p, msg->hdr.size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	ssize_t n;

	if (nfds == 1) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), fds, sizeof(int));
	}
	/* never blocks: a front-end that does not read its replies is dropped */
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)(VHOST_USER_HDR_SIZE + msg->hdr.size) ? 0 : -1;
}
