// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test-hostile, message half: broken vhost-user messages, each on its own
 * connection at the stage it would hurt most.  The back-end may close the
 * connection or answer with an error; it must never ack a broken message
 * as success (when REPLY_ACK is on), must stay alive, must not leak the
 * fds it was sent, and must serve the next connection correctly.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hostile.h"

enum stage { FRESH, NEGOTIATED, READY };

struct msg_case {
	const char *name;
	enum stage stage;
	uint32_t req;
	uint32_t size;			/* declared payload size */
	int send;			/* payload bytes really sent; -1 = size */
	int nfds;			/* eventfds attached */
	int memfd;			/* attach the guest memfd (after the eventfds) */
	void (*fill)(struct vhu_dev *d, struct vhu_msg *m);
	int strict;			/* an ack of 0 (accepted) fails the case */
	uint32_t flags;			/* 0 = version 1 (+ NEED_REPLY when acked) */
};

static void f_q200(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.state.index = 200;
	m->u.state.num = 256;
}

/* the back-end runs one queue: index 1 is just past the last */
static void f_q1(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.state.index = 1;
	m->u.state.num = 256;
}

static void f_u64_1(struct vhu_dev *d, struct vhu_msg *m) { m->u.u64 = 1; }

static void f_num0(struct vhu_dev *d, struct vhu_msg *m) { m->u.state.num = 0; }
static void f_num3(struct vhu_dev *d, struct vhu_msg *m) { m->u.state.num = 3; }
static void f_num64k(struct vhu_dev *d, struct vhu_msg *m) { m->u.state.num = 65536; }

static void f_mem(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.mem.nregions = 1;
	m->u.mem.r[0] = (struct vhu_region){ d->mem_gpa, d->mem_size, (uintptr_t)d->mem, 0 };
}

static void f_mem9(struct vhu_dev *d, struct vhu_msg *m)
{
	f_mem(d, m);
	m->u.mem.nregions = 9;
}

static void f_mem2(struct vhu_dev *d, struct vhu_msg *m)
{
	f_mem(d, m);
	m->u.mem.nregions = 2;
	m->u.mem.r[1] = (struct vhu_region){ d->mem_gpa + d->mem_size, 4096,
					     (uintptr_t)d->mem + d->mem_size, 0 };
}

static void f_mem_big(struct vhu_dev *d, struct vhu_msg *m)
{
	f_mem(d, m);
	m->u.mem.r[0].size = d->mem_size * 4;	/* beyond the end of the memfd */
}

static void f_mem_wrap(struct vhu_dev *d, struct vhu_msg *m)
{
	f_mem(d, m);
	m->u.mem.r[0].gpa = 0xfffffffffffff000ull;
}

static void f_mem_zero(struct vhu_dev *d, struct vhu_msg *m)
{
	f_mem(d, m);
	m->u.mem.r[0].size = 0;
}

static void f_mem_off(struct vhu_dev *d, struct vhu_msg *m)
{
	f_mem(d, m);
	m->u.mem.r[0].mmap_offset = 1ull << 40;
}

static void f_addr_q200(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.addr.index = 200;
	m->u.addr.desc = (uintptr_t)d->vq[0].desc;
	m->u.addr.used = (uintptr_t)d->vq[0].used;
	m->u.addr.avail = (uintptr_t)d->vq[0].avail;
}

static void f_addr_unmapped(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.addr.index = 0;
	m->u.addr.desc = 0x1000;
	m->u.addr.used = 0x3000;
	m->u.addr.avail = 0x2000;
}

static void f_u64_255(struct vhu_dev *d, struct vhu_msg *m) { m->u.u64 = 255; }
static void f_u64_100(struct vhu_dev *d, struct vhu_msg *m) { m->u.u64 = 100; }
static void f_q99(struct vhu_dev *d, struct vhu_msg *m) { m->u.state.index = 99; }

static void f_cfg_big(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.cfg.size = 4096;
}

static void f_cfg_off(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.cfg.offset = 1000;
	m->u.cfg.size = 60;
}

static void f_inflight(struct vhu_dev *d, struct vhu_msg *m)
{
	m->u.inflight.mmap_size = d->mem_size;
	m->u.inflight.num_queues = 1;
	m->u.inflight.queue_size = 256;
}

static void f_inflight_huge(struct vhu_dev *d, struct vhu_msg *m)
{
	f_inflight(d, m);
	m->u.inflight.num_queues = 0xffff;
	m->u.inflight.queue_size = 0xffff;
}

#define INF sizeof(((struct vhu_msg *)0)->u.inflight)

static const struct msg_case msg_cases[] = {
	{ "msg: short header (6 bytes), then EOF", FRESH, VHU_GET_FEATURES, 0, -1, 0, 0, NULL, 0, 0 },
	{ "msg: version bits 0", FRESH, VHU_GET_FEATURES, 0, -1, 0, 0, NULL, 0, 0x4 },
	{ "msg: unknown request 99", NEGOTIATED, 99, 0, -1, 0, 0, NULL, 1, 0 },
	{ "msg: request 0", NEGOTIATED, 0, 0, -1, 0, 0, NULL, 1, 0 },
	{ "msg: request 0xffffffff", NEGOTIATED, 0xffffffffu, 8, -1, 0, 0, NULL, 1, 0 },
	{ "msg: SET_VRING_NUM with 4-byte payload", NEGOTIATED, VHU_SET_VRING_NUM, 4, -1, 0, 0, NULL, 1, 0 },
	{ "msg: SET_FEATURES with 2-byte payload", NEGOTIATED, VHU_SET_FEATURES, 2, -1, 0, 0, NULL, 1, 0 },
	{ "msg: declared size 1 MiB, then EOF", NEGOTIATED, VHU_SET_VRING_NUM, 1 << 20, 8, 0, 0, NULL, 0, 0 },
	{ "msg: payload cut short, then EOF", NEGOTIATED, VHU_SET_VRING_NUM, 8, 4, 0, 0, NULL, 0, 0 },
	{ "msg: SET_MEM_TABLE with 9 regions", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 9 * 32, -1, 0, 1, f_mem9, 1, 0 },
	{ "msg: SET_MEM_TABLE 2 regions, 1 fd", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 2 * 32, -1, 0, 1, f_mem2, 1, 0 },
	{ "msg: SET_MEM_TABLE without fd", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 32, -1, 0, 0, f_mem, 1, 0 },
	{ "msg: SET_MEM_TABLE 1 region, 8 fds", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 32, -1, 7, 1, f_mem, 1, 0 },
	{ "msg: SET_MEM_TABLE region larger than its fd", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 32, -1, 0, 1, f_mem_big, 1, 0 },
	{ "msg: SET_MEM_TABLE gpa+size overflows", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 32, -1, 0, 1, f_mem_wrap, 1, 0 },
	{ "msg: SET_MEM_TABLE region size 0", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 32, -1, 0, 1, f_mem_zero, 1, 0 },
	{ "msg: SET_MEM_TABLE mmap offset 1 TiB", NEGOTIATED, VHU_SET_MEM_TABLE, 8 + 32, -1, 0, 1, f_mem_off, 1, 0 },
	{ "msg: SET_VRING_NUM queue 200", NEGOTIATED, VHU_SET_VRING_NUM, 8, -1, 0, 0, f_q200, 1, 0 },
	{ "msg: SET_VRING_NUM queue 1 of 1", NEGOTIATED, VHU_SET_VRING_NUM, 8, -1, 0, 0, f_q1, 1, 0 },
	{ "msg: SET_VRING_KICK queue 1 of 1", NEGOTIATED, VHU_SET_VRING_KICK, 8, -1, 1, 0, f_u64_1, 1, 0 },
	{ "msg: SET_VRING_ENABLE queue 1 of 1", READY, VHU_SET_VRING_ENABLE, 8, -1, 0, 0, f_q1, 1, 0 },
	{ "msg: SET_VRING_NUM num 0", NEGOTIATED, VHU_SET_VRING_NUM, 8, -1, 0, 0, f_num0, 1, 0 },
	{ "msg: SET_VRING_NUM num 3", NEGOTIATED, VHU_SET_VRING_NUM, 8, -1, 0, 0, f_num3, 1, 0 },
	{ "msg: SET_VRING_NUM num 65536", NEGOTIATED, VHU_SET_VRING_NUM, 8, -1, 0, 0, f_num64k, 1, 0 },
	{ "msg: SET_VRING_BASE queue 200", NEGOTIATED, VHU_SET_VRING_BASE, 8, -1, 0, 0, f_q200, 1, 0 },
	{ "msg: SET_VRING_ADDR queue 200", READY, VHU_SET_VRING_ADDR, 40, -1, 0, 0, f_addr_q200, 1, 0 },
	{ "msg: SET_VRING_ADDR outside the mem table", READY, VHU_SET_VRING_ADDR, 40, -1, 0, 0, f_addr_unmapped, 1, 0 },
	{ "msg: SET_VRING_KICK queue 255", NEGOTIATED, VHU_SET_VRING_KICK, 8, -1, 1, 0, f_u64_255, 1, 0 },
	{ "msg: SET_VRING_KICK with 3 fds", NEGOTIATED, VHU_SET_VRING_KICK, 8, -1, 3, 0, NULL, 1, 0 },
	{ "msg: SET_VRING_KICK no fd, no NOFD flag", NEGOTIATED, VHU_SET_VRING_KICK, 8, -1, 0, 0, NULL, 1, 0 },
	{ "msg: SET_VRING_CALL queue 100", NEGOTIATED, VHU_SET_VRING_CALL, 8, -1, 1, 0, f_u64_100, 1, 0 },
	{ "msg: GET_VRING_BASE queue 99", READY, VHU_GET_VRING_BASE, 8, -1, 0, 0, f_q99, 0, 0 },
	{ "msg: SET_VRING_ENABLE queue 99", READY, VHU_SET_VRING_ENABLE, 8, -1, 0, 0, f_q99, 1, 0 },
	{ "msg: GET_CONFIG size 4096", NEGOTIATED, VHU_GET_CONFIG, 12 + 60, -1, 0, 0, f_cfg_big, 0, 0 },
	{ "msg: GET_CONFIG offset 1000", NEGOTIATED, VHU_GET_CONFIG, 12 + 60, -1, 0, 0, f_cfg_off, 0, 0 },
	{ "msg: SET_INFLIGHT_FD without fd", NEGOTIATED, VHU_SET_INFLIGHT_FD, INF, -1, 0, 0, f_inflight, 1, 0 },
	{ "msg: SET_INFLIGHT_FD 65535 queues of 65535", NEGOTIATED, VHU_SET_INFLIGHT_FD, INF, -1, 0, 1, f_inflight_huge, 1, 0 },
	{ "msg: GET_INFLIGHT_FD 65535 queues of 65535", NEGOTIATED, VHU_GET_INFLIGHT_FD, INF, -1, 0, 0, f_inflight_huge, 0, 0 },
	{ "msg: SET_OWNER with 4 fds", NEGOTIATED, VHU_SET_OWNER, 0, -1, 4, 0, NULL, 0, 0 },
};

static int reply_is_payload(uint32_t req)
{
	return req == VHU_GET_FEATURES || req == VHU_GET_PROTOCOL_FEATURES ||
	       req == VHU_GET_VRING_BASE || req == VHU_GET_QUEUE_NUM ||
	       req == VHU_GET_CONFIG || req == VHU_GET_INFLIGHT_FD;
}

static int reach_stage(struct vhu_dev *d, enum stage st)
{
	struct vhu_opts o;
	int rc;

	vhu_opts_defaults(&o);
	o.qd = 16;
	rc = vhu_dev_init(d, &o, 1);
	if (rc < 0)
		return rc;
	if (st == READY)
		return vhu_setup(d, hostile_be.sock, 2000);
	rc = vhu_dev_open(d, hostile_be.sock, 2000);
	if (rc == 0 && st == NEGOTIATED)
		rc = vhu_negotiate(d);
	if (rc == 0 && st == NEGOTIATED)
		rc = vhu_set_features(d);
	return rc;
}

/* Sends the case's message; returns a short word on what came back. */
static const char *send_case(struct vhu_dev *d, const struct msg_case *c)
{
	struct vhu_msg m = { .request = c->req, .size = c->size };
	int fds[10], n = 0, rc;
	size_t len = VHU_HDR_SIZE + (c->send < 0 ? c->size : (uint32_t)c->send);

	m.flags = c->flags ? c->flags : VHU_FLAG_VERSION |
		  (has_feature(d->acked_proto, VHU_PF_REPLY_ACK) ? VHU_FLAG_NEED_REPLY : 0);
	if (c->fill)
		c->fill(d, &m);
	if (!strncmp(c->name, "msg: short header", 17))
		len = 6;
	if (len > sizeof(m))
		len = sizeof(m);
	for (int i = 0; i < c->nfds; i++)
		fds[n++] = eventfd(0, EFD_CLOEXEC);
	if (c->memfd)
		fds[n++] = d->mem_fd;
	rc = vhu_send_raw(d->sock, &m, len, fds, n);
	for (int i = 0; i < c->nfds; i++)
		close(fds[i]);
	if (rc < 0)
		return "send failed (closed)";
	if (c->send >= 0 || len == 6)
		return "cut short";		/* the back-end waits for the rest: EOF next */
	rc = vhu_recv(d->sock, &m, NULL, NULL, 300);
	if (rc == -ECONNRESET)
		return "connection closed";
	if (rc == -ETIMEDOUT)
		return "no reply";
	if (rc < 0)
		return "connection error";
	if (reply_is_payload(c->req))
		return m.size ? "reply" : "empty reply (error)";
	if (m.size == 8 && m.u.u64 == 0) {
		CHECK(!c->strict, "%s: acked as success", c->name);
		return "acked 0 (accepted)";
	}
	return "error ack";
}

static int count_fds(pid_t pid)
{
	char path[64];
	DIR *dir;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while (readdir(dir))
		n++;
	closedir(dir);
	return n;
}

void run_msg_cases(void)
{
	int fds0, fds1;

	hostile_ensure_backend();
	test_still_serves(&hostile_be, "the descriptor cases");
	hostile_ensure_backend();
	fds0 = count_fds(hostile_be.pid);

	for (size_t i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
		const struct msg_case *c = &msg_cases[i];
		struct vhu_dev d;
		int rc;

		hostile_ensure_backend();
		rc = reach_stage(&d, c->stage);

		CHECK(rc == 0, "%s: reaching the stage: %s", c->name, strerror(-rc));
		if (rc == 0)
			printf("%-44s %s\n", c->name, send_case(&d, c));
		vhu_dev_free(&d);
		test_still_serves(&hostile_be, c->name);
	}
	/* every fd we sent was closed again once its connection ended */
	usleep(200000);
	fds1 = count_fds(hostile_be.pid);
	CHECK(fds1 <= fds0 + 2, "back-end fds grew from %d to %d over the message cases",
	      fds0, fds1);
	printf("back-end open fds: %d before the message cases, %d after\n", fds0, fds1);
}
