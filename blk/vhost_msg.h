/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst) and the single
 * validation gate every received message passes before any handler runs.
 */
#ifndef ANTFARM_BLK_VHOST_MSG_H
#define ANTFARM_BLK_VHOST_MSG_H

#include <stdint.h>
#include "vub.h"

enum vhost_user_request {
	VHOST_USER_NONE = 0,
	VHOST_USER_GET_FEATURES = 1,
	VHOST_USER_SET_FEATURES = 2,
	VHOST_USER_SET_OWNER = 3,
	VHOST_USER_RESET_OWNER = 4,
	VHOST_USER_SET_MEM_TABLE = 5,
	VHOST_USER_SET_LOG_BASE = 6,
	VHOST_USER_SET_LOG_FD = 7,
	VHOST_USER_SET_VRING_NUM = 8,
	VHOST_USER_SET_VRING_ADDR = 9,
	VHOST_USER_SET_VRING_BASE = 10,
	VHOST_USER_GET_VRING_BASE = 11,
	VHOST_USER_SET_VRING_KICK = 12,
	VHOST_USER_SET_VRING_CALL = 13,
	VHOST_USER_SET_VRING_ERR = 14,
	VHOST_USER_GET_PROTOCOL_FEATURES = 15,
	VHOST_USER_SET_PROTOCOL_FEATURES = 16,
	VHOST_USER_GET_QUEUE_NUM = 17,
	VHOST_USER_SET_VRING_ENABLE = 18,
	VHOST_USER_SEND_RARP = 19,
	VHOST_USER_NET_SET_MTU = 20,
	VHOST_USER_SET_BACKEND_REQ_FD = 21,
	VHOST_USER_IOTLB_MSG = 22,
	VHOST_USER_SET_VRING_ENDIAN = 23,
	VHOST_USER_GET_CONFIG = 24,
	VHOST_USER_SET_CONFIG = 25,
	VHOST_USER_CREATE_CRYPTO_SESSION = 26,
	VHOST_USER_CLOSE_CRYPTO_SESSION = 27,
	VHOST_USER_POSTCOPY_ADVISE = 28,
	VHOST_USER_POSTCOPY_LISTEN = 29,
	VHOST_USER_POSTCOPY_END = 30,
	VHOST_USER_GET_INFLIGHT_FD = 31,
	VHOST_USER_SET_INFLIGHT_FD = 32,
	VHOST_USER_GPU_SET_SOCKET = 33,
	VHOST_USER_RESET_DEVICE = 34,
	VHOST_USER_VRING_KICK = 35,
	VHOST_USER_GET_MAX_MEM_SLOTS = 36,
	VHOST_USER_ADD_MEM_REG = 37,
	VHOST_USER_REM_MEM_REG = 38,
	VHOST_USER_SET_STATUS = 39,
	VHOST_USER_GET_STATUS = 40,
	VHOST_USER_MAX
};

#define VHOST_USER_VERSION		0x1
#define VHOST_USER_VERSION_MASK		0x3
#define VHOST_USER_REPLY_MASK		(1u << 2)
#define VHOST_USER_NEED_REPLY_MASK	(1u << 3)
#define VHOST_USER_VRING_IDX_MASK	0xffu
#define VHOST_USER_VRING_NOFD_MASK	(1u << 8)

#define VHOST_USER_F_PROTOCOL_FEATURES	30
#define VHOST_F_LOG_ALL			26

#define VHOST_USER_PROTOCOL_F_MQ		0
#define VHOST_USER_PROTOCOL_F_LOG_SHMFD		1
#define VHOST_USER_PROTOCOL_F_REPLY_ACK		3
#define VHOST_USER_PROTOCOL_F_CONFIG		9
#define VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD	12

#define VHOST_USER_MAX_CONFIG_SIZE	256
#define VHOST_SET_CONFIG_TYPE_FRONTEND	0
#define VHOST_SET_CONFIG_TYPE_MIGRATION	1

struct vhost_user_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
} __attribute__((packed));

struct vhost_user_state {
	uint32_t index;
	uint32_t num;
};

struct vhost_user_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_uva;
	uint64_t used_uva;
	uint64_t avail_uva;
	uint64_t log_gpa;
};

struct vhost_user_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t uva;
	uint64_t mmap_offset;
};

struct vhost_user_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhost_user_region r[VUB_MAX_REGIONS];
};

struct vhost_user_config {
	uint32_t offset;
	uint32_t size;
	uint32_t flags;
	uint8_t payload[VHOST_USER_MAX_CONFIG_SIZE];
};
#define VHOST_USER_CONFIG_HDR 12

struct vhost_user_inflight {
	uint64_t mmap_size;
	uint64_t mmap_offset;
	uint16_t num_queues;
	uint16_t queue_size;
};

struct vhost_user_msg {
	struct vhost_user_hdr hdr;
	union {
		uint64_t u64;
		struct vhost_user_state state;
		struct vhost_user_addr addr;
		struct vhost_user_mem mem;
		struct vhost_user_config config;
		struct vhost_user_inflight inflight;
		uint8_t raw[VHOST_USER_CONFIG_HDR + VHOST_USER_MAX_CONFIG_SIZE];
	} p;
	int fds[VUB_MAX_MSG_FDS];
	unsigned nfds;
};	/* not the wire layout: header and payload are sent as two pieces */

#define VHOST_USER_HDR_SIZE	sizeof(struct vhost_user_hdr)
#define VHOST_USER_MAX_PAYLOAD	(sizeof(((struct vhost_user_msg *)0)->p))

const char *vhost_user_req_name(uint32_t req);

/*
 * The validation gate: checks the header (version, reply bit), payload
 * size, fd count and ring index for msg->hdr.request against this device's
 * queue count.  Returns NULL when the message may be handled, otherwise a
 * static string saying why not.
 */
const char *vhost_user_msg_check(const struct vhost_user_msg *msg, unsigned nqueues);

/*
 * A message being received: the socket is read without ever blocking,
 * what has come so far is kept here, and the caller can tell how long the
 * message has been under way (a peer must not hold the control loop by
 * sending a message slowly).
 */
struct vhost_user_rx {
	struct vhost_user_msg msg;
	size_t got;			/* bytes of header + payload so far */
	uint64_t first_ns;		/* when its first byte came; 0: none yet */
};

enum { VUB_RX_ERR = -1, VUB_RX_MORE = 0, VUB_RX_MSG = 1, VUB_RX_EOF = 2 };

/*
 * Reads what the stream socket has, up to the end of the current message
 * (header, then payload; fds from any part's ancillary data).  VUB_RX_MSG:
 * rx->msg is whole (the next call starts the next message); VUB_RX_MORE:
 * the socket has nothing more now; VUB_RX_EOF: orderly end between
 * messages; VUB_RX_ERR: *why says why.  now stamps the first byte.
 */
int vhost_user_rx_read(int fd, struct vhost_user_rx *rx, uint64_t now, const char **why);
/* Drops a message under way (and closes its fds). */
void vhost_user_rx_reset(struct vhost_user_rx *rx);
void vhost_user_msg_close_fds(struct vhost_user_msg *msg);
int vhost_user_msg_send(int fd, const struct vhost_user_msg *msg, const int *fds, unsigned nfds);

#endif
