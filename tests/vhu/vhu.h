/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * vhu: a small vhost-user front-end for virtio-blk back-ends, written for
 * tests and benchmarks (tests/vhu/vhu-client, the protocol, hostile-input,
 * restart tests and bench/blk).  It plays QEMU's part: owns "guest" memory
 * (one memfd), talks vhost-user on the back-end's Unix socket, lays out
 * split virtqueues in that memory and drives virtio-blk requests with
 * eventfds for kick and call.
 *
 * Wire formats follow QEMU's docs/interop/vhost-user.rst and the virtio 1.1
 * split ring / virtio-blk sections.  Everything is host-endian (x86 = LE).
 *
 * Not thread-safe: one thread drives one struct vhu_dev.  Functions return
 * 0 or a positive count on success and -errno on failure unless noted.
 */
#ifndef ANTFARM_VHU_H
#define ANTFARM_VHU_H

#include <stdint.h>
#include <stddef.h>
#include "lib/clock.h"

/* vhost-user requests (front-end -> back-end) */
enum vhu_request {
	VHU_GET_FEATURES = 1, VHU_SET_FEATURES = 2, VHU_SET_OWNER = 3,
	VHU_RESET_OWNER = 4, VHU_SET_MEM_TABLE = 5, VHU_SET_LOG_BASE = 6,
	VHU_SET_LOG_FD = 7, VHU_SET_VRING_NUM = 8, VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10, VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12, VHU_SET_VRING_CALL = 13,
	VHU_SET_VRING_ERR = 14, VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16, VHU_GET_QUEUE_NUM = 17,
	VHU_SET_VRING_ENABLE = 18, VHU_SEND_RARP = 19, VHU_GET_CONFIG = 24, VHU_SET_CONFIG = 25,
	VHU_GET_INFLIGHT_FD = 31, VHU_SET_INFLIGHT_FD = 32,
	VHU_RESET_DEVICE = 34, VHU_GET_MAX_MEM_SLOTS = 36,
};

#define VHU_FLAG_VERSION	0x1u
#define VHU_FLAG_REPLY		0x4u
#define VHU_FLAG_NEED_REPLY	0x8u
#define VHU_VRING_NOFD		(1u << 8)

/* protocol feature bits */
#define VHU_PF_MQ		0
#define VHU_PF_REPLY_ACK	3
#define VHU_PF_CONFIG		9
#define VHU_PF_INFLIGHT		12

/* device feature bits: virtio-blk, ring, transport */
#define VIRTIO_BLK_F_SIZE_MAX	1
#define VIRTIO_BLK_F_SEG_MAX	2
#define VIRTIO_BLK_F_RO		5
#define VIRTIO_BLK_F_BLK_SIZE	6
#define VIRTIO_BLK_F_FLUSH	9
#define VIRTIO_BLK_F_TOPOLOGY	10
#define VIRTIO_BLK_F_CONFIG_WCE	11
#define VIRTIO_BLK_F_MQ		12
#define VIRTIO_BLK_F_DISCARD	13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_F_INDIRECT_DESC	28
#define VIRTIO_F_EVENT_IDX	29
#define VHU_F_PROTOCOL_FEATURES	30
#define VIRTIO_F_VERSION_1	32

static inline int has_feature(uint64_t features, unsigned bit)
{
	return (features >> bit) & 1;
}

/* virtio-blk request types and status */
#define VIRTIO_BLK_T_IN		0
#define VIRTIO_BLK_T_OUT	1
#define VIRTIO_BLK_T_FLUSH	4
#define VIRTIO_BLK_T_GET_ID	8
#define VIRTIO_BLK_T_DISCARD	11
#define VIRTIO_BLK_T_WRITE_ZEROES 13
#define VIRTIO_BLK_S_OK		0
#define VIRTIO_BLK_S_IOERR	1
#define VIRTIO_BLK_S_UNSUPP	2
#define VIRTIO_BLK_ID_BYTES	20

/* split ring layout (virtio 1.1, 2.6) */
#define VRING_DESC_F_NEXT	1
#define VRING_DESC_F_WRITE	2
#define VRING_DESC_F_INDIRECT	4

struct vring_d {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct vring_a {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];	/* then used_event */
};
struct vring_ue {
	uint32_t id;
	uint32_t len;
};
struct vring_u {
	uint16_t flags;
	uint16_t idx;
	struct vring_ue ring[];	/* then avail_event */
};

struct blk_hdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
};
struct blk_dwz {			/* discard / write-zeroes segment */
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;			/* bit 0: unmap */
};

/* virtio-blk config space, the 60 bytes every 7.x back-end knows */
struct blk_config {
	uint64_t capacity;
	uint32_t size_max;
	uint32_t seg_max;
	uint16_t cylinders;
	uint8_t  heads;
	uint8_t  sectors;
	uint32_t blk_size;
	uint8_t  physical_block_exp;
	uint8_t  alignment_offset;
	uint16_t min_io_size;
	uint32_t opt_io_size;
	uint8_t  wce;
	uint8_t  unused0;
	uint16_t num_queues;
	uint32_t max_discard_sectors;
	uint32_t max_discard_seg;
	uint32_t discard_sector_alignment;
	uint32_t max_write_zeroes_sectors;
	uint32_t max_write_zeroes_seg;
	uint8_t  write_zeroes_may_unmap;
	uint8_t  unused1[3];
} __attribute__((packed));
_Static_assert(sizeof(struct blk_config) == 60, "virtio-blk config");

/* One vhost-user message as it goes on the wire (header + payload). */
struct vhu_region {
	uint64_t gpa, size, uva, mmap_offset;
};
struct vhu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
	union {
		uint64_t u64;
		struct { uint32_t index, num; } state;
		struct {
			uint32_t index, flags;
			uint64_t desc, used, avail, log;
		} addr;
		struct {
			uint32_t nregions, padding;
			struct vhu_region r[8];
		} mem;
		struct {
			uint32_t offset, size, flags;
			uint8_t data[256];
		} cfg;
		struct {
			uint64_t mmap_size, mmap_offset;
			uint16_t num_queues, queue_size;
		} inflight;
		uint8_t raw[4096];
	} u;
} __attribute__((packed));
#define VHU_HDR_SIZE 12u

/* Inflight region per queue (vhost-user.rst, "Inflight I/O tracking") */
struct vhu_inflight_desc {
	uint8_t  inflight;
	uint8_t  padding[5];
	uint16_t next;
	uint64_t counter;
};
struct vhu_inflight_queue {
	uint64_t features;
	uint16_t version;
	uint16_t desc_num;
	uint16_t last_batch_head;
	uint16_t used_idx;
	struct vhu_inflight_desc desc[];
};

#define VHU_MAX_QUEUES	16
#define VHU_SECTOR	512u

/* One request slot: header, status, data buffer, indirect table. */
struct vhu_req {
	struct vhu_vq *vq;
	unsigned slot;
	uint16_t head;			/* first descriptor in the ring table */
	int busy;
	struct blk_hdr *hdr;
	uint8_t *status;
	struct blk_dwz *dwz;
	uint8_t *buf;
	uint32_t buf_cap;
	struct vring_d *ind;		/* indirect table (4 entries) */
	uint64_t hdr_gpa, status_gpa, dwz_gpa, buf_gpa, ind_gpa;
	uint32_t dwz_flags;		/* DISCARD/WRITE_ZEROES segment flags for the next
					 * submit (then 0 again) */
	/* what was asked and what came back */
	uint32_t type;
	uint64_t sector;
	uint32_t len;
	uint32_t used_len;
	uint64_t t_submit_ns;
	uint64_t tag;			/* caller's */
};

struct vhu_vq {
	struct vhu_dev *dev;
	unsigned index;
	uint16_t size;
	struct vring_d *desc;
	struct vring_a *avail;
	struct vring_u *used;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	int kick_fd, call_fd, err_fd;
	uint16_t avail_idx;		/* our shadow of avail->idx */
	uint16_t kicked_idx;		/* avail idx at the last kick */
	uint16_t used_seen;		/* next used entry we consume */
	struct vhu_req *slots;
	unsigned nslots;
	struct vhu_req **by_head;
	unsigned inflight;
	uint64_t kicks, calls;
	uint64_t bad_used;		/* used entries naming no request in flight */
};

struct vhu_opts {
	uint16_t queue_size;		/* default 256 */
	unsigned qd;			/* slots per queue; default queue_size/3 or queue_size */
	uint32_t buf_size;		/* per slot; default 128 KiB */
	int no_event_idx;
	int no_indirect;
	int no_reply_ack;
	int want_inflight;		/* negotiate INFLIGHT_SHMFD when offered */
	uint64_t extra_mem;		/* spare guest memory for hostile tests */
	const char *mem_path;		/* guest memory in this regular file, not a memfd */
	int mem_sealable;		/* memfd with MFD_ALLOW_SEALING (as QEMU's seal=on) */
	int own_inflight;		/* hostile: hand back a memfd of our own, of the size
					 * GET_INFLIGHT_FD said, instead of the back-end's */
};

struct vhu_dev {
	int sock;
	char path[108];
	struct vhu_opts o;
	uint64_t features, proto;	/* offered by the back-end */
	uint64_t acked, acked_proto;	/* negotiated */
	uint64_t max_queues;		/* GET_QUEUE_NUM, 1 without MQ */
	struct blk_config cfg;
	int have_cfg;
	/* guest memory: one memfd region at gpa mem_gpa */
	int mem_fd;
	uint8_t *mem;
	uint64_t mem_size, mem_gpa, mem_used;
	uint64_t bad_table_size, bad_table_offset;	/* hostile tests: lie in SET_MEM_TABLE */
	/* inflight shared buffer */
	int inflight_fd;
	uint8_t *inflight;
	uint64_t inflight_size, inflight_off;
	uint16_t inflight_nq, inflight_qsize;
	unsigned nq;
	struct vhu_vq vq[VHU_MAX_QUEUES];
	int epfd;			/* call fds of all queues */
	int verbose;
	uint32_t ioprio;		/* written into every request header */
};

static inline int vhu_vq_indirect(const struct vhu_vq *vq)
{
	return has_feature(vq->dev->acked, VIRTIO_F_INDIRECT_DESC);
}

/* Messages */
int vhu_connect(const char *path, int timeout_ms);
int vhu_send(int sock, const struct vhu_msg *m, const int *fds, int nfds);
int vhu_send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds);
int vhu_recv(int sock, struct vhu_msg *m, int *fds, int *nfds, int timeout_ms);
int vhu_call(struct vhu_dev *d, struct vhu_msg *m, const int *fds, int nfds);
int vhu_get_u64(struct vhu_dev *d, uint32_t req, uint64_t *val);
int vhu_set_u64(struct vhu_dev *d, uint32_t req, uint64_t val);
int vhu_set_state(struct vhu_dev *d, uint32_t req, uint32_t index, uint32_t num);
const char *vhu_request_name(uint32_t req);

/* Device life cycle */
void vhu_opts_defaults(struct vhu_opts *o);
/* Guest memory sized for nq queues; rings and slots are carved from it. */
int vhu_dev_init(struct vhu_dev *d, const struct vhu_opts *o, unsigned nq);
int vhu_dev_open(struct vhu_dev *d, const char *path, int timeout_ms);
int vhu_negotiate(struct vhu_dev *d);
int vhu_set_features(struct vhu_dev *d);
int vhu_get_config(struct vhu_dev *d);
int vhu_inflight_get(struct vhu_dev *d);
int vhu_inflight_set(struct vhu_dev *d);
int vhu_set_mem_table(struct vhu_dev *d);
/* First start lays out the rings; a restart (after reconnect) keeps them
 * and sends vring base = used->idx, as QEMU does after a back-end crash. */
int vhu_start_queues(struct vhu_dev *d, int restart);
int vhu_setup(struct vhu_dev *d, const char *path, int timeout_ms);
/* A new back-end process on path, this device's memory, rings and inflight
 * buffer: what QEMU does when its back-end died (SET_INFLIGHT_FD with the
 * buffer it kept, vring base = used idx, kicks signalled). */
int vhu_reconnect(struct vhu_dev *d, const char *path, int timeout_ms);
int vhu_stop_queues(struct vhu_dev *d);
void vhu_close_sock(struct vhu_dev *d);
void vhu_dev_free(struct vhu_dev *d);		/* may be called again */
void *vhu_alloc(struct vhu_dev *d, uint64_t size, uint64_t align, uint64_t *gpa);
uint64_t vhu_gpa(struct vhu_dev *d, const void *p);

/* Requests */
struct vhu_req *vhu_req_get(struct vhu_vq *vq);
int vhu_req_submit(struct vhu_req *r, uint32_t type, uint64_t sector, uint32_t len);
void vhu_publish(struct vhu_vq *vq, uint16_t head);
int vhu_kick(struct vhu_vq *vq);
/* Collects completions on every queue; calls cb for each; waits up to
 * timeout_ms for a call when none is ready.  Returns how many completed. */
typedef void (*vhu_done_fn)(struct vhu_req *r, void *arg);
int vhu_poll(struct vhu_dev *d, int timeout_ms, vhu_done_fn cb, void *arg);
/* Synchronous helper: one request on queue q, returns the status byte or
 * -errno (-ETIMEDOUT when nothing came back). */
int vhu_rw_sync(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector,
		void *data, uint32_t len, int timeout_ms);
/* One DISCARD or WRITE_ZEROES of nsect sectors with segment flags. */
int vhu_dwz_sync(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector,
		 uint32_t nsect, uint32_t flags, int timeout_ms);
/* Waits for a submitted (and kicked) request: its status byte or -errno. */
int vhu_req_wait(struct vhu_dev *d, struct vhu_req *r, int timeout_ms);

/* Batches: ops spread over queues, as many in flight as slots allow. */
struct vhu_op {
	unsigned q;
	uint32_t type;
	uint64_t sector;
	uint32_t len;
	void *data;			/* OUT source / IN and GET_ID destination */
	int status;			/* result: status byte, or -errno */
	uint32_t completions;		/* must end at exactly 1 */
};
int vhu_batch(struct vhu_dev *d, struct vhu_op *ops, unsigned n, int timeout_ms);
void vhu_pattern(void *buf, uint32_t len, uint64_t seed);

/* Data checks (vhu_check.c): each prints one line per failed case and
 * returns the number of failures; 'nq' queues are used. */
int vhu_check_rw(struct vhu_dev *d, uint64_t seed);
int vhu_check_flush(struct vhu_dev *d);
int vhu_check_sg(struct vhu_dev *d);
int vhu_check_zeroes(struct vhu_dev *d, uint32_t type);
int vhu_check_get_id(struct vhu_dev *d, char id[VIRTIO_BLK_ID_BYTES + 1]);
int vhu_check_all(struct vhu_dev *d, int verbose);
const char *vhu_status_name(int status);

#endif
