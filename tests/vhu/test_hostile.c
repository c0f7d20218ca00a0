// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The guest is untrusted: hostile descriptor chains and broken vhost-user
 * messages against antfarm-blk.  For every case, on its own connection:
 *  - a bad request completes with an error status (IOERR/UNSUPP), or gets
 *    no completion at all (the queue is marked broken); never OK, and a
 *    status the device must not write stays untouched;
 *  - the back-end process stays alive and a fresh connection still does
 *    correct I/O afterwards.
 * VHU_BACKEND=qsd runs the same cases against qemu-storage-daemon, to see
 * how the reference behaves (not part of the test suite).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"

struct vhu_backend hostile_be;
static char hostile_disk[256];
static enum vhu_backend_kind hostile_kind;

/* A back-end that died was reported by test_still_serves(); start a new
 * one so the remaining cases still say something. */
void hostile_ensure_backend(void)
{
	if (vhu_backend_alive(&hostile_be))
		return;
	if (vhu_backend_start(&hostile_be, hostile_kind, "hostile", hostile_disk, 1, 1,
			      NULL) < 0) {
		printf("FAIL: cannot restart the back-end\n");
		exit(1);
	}
}

static void d_set(struct vhu_vq *vq, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	vq->desc[i] = (struct vring_d){ addr, len, flags, next };
}

static void t_set(struct vring_d *t, unsigned i, uint64_t addr, uint32_t len,
		  uint16_t flags, uint16_t next)
{
	t[i] = (struct vring_d){ addr, len, flags, next };
}

#define N VRING_DESC_F_NEXT
#define W VRING_DESC_F_WRITE
#define I VRING_DESC_F_INDIRECT
#define HEAD 100			/* hand-made chains start here */

/* Request header for a read of 4 KiB at sector 8 (a valid request). */
static void read_hdr(struct vhu_req *r, uint32_t type)
{
	*r->hdr = (struct blk_hdr){ .type = type, .sector = 8 };
	*r->status = 0xff;
}

/* hdr -> data(addr,len,flags) -> status: the usual 3-descriptor read. */
static void chain3(struct vhu_vq *vq, struct vhu_req *r, uint64_t addr, uint32_t len,
		   uint16_t dflags)
{
	read_hdr(r, dflags & W ? VIRTIO_BLK_T_IN : VIRTIO_BLK_T_OUT);
	d_set(vq, HEAD, r->hdr_gpa, 16, N, HEAD + 1);
	d_set(vq, HEAD + 1, addr, len, dflags | N, HEAD + 2);
	d_set(vq, HEAD + 2, r->status_gpa, 1, W, 0);
}

static uint64_t mem_end(struct vhu_dev *d)
{
	return d->mem_gpa + d->mem_size;
}

static int c_below(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, d->mem_gpa - 8192, 4096, W);
	return HEAD;
}

static int c_beyond(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, mem_end(d), 4096, W);
	return HEAD;
}

static int c_straddle(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, mem_end(d) - 2048, 4096, W);
	return HEAD;
}

static int c_overflow(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, 0xfffffffffffff000ull, 0x2000, W);
	return HEAD;
}

static int c_huge_len(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 0xfffffe00u, W);
	return HEAD;
}

static int c_loop(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 512, W);
	d_set(vq, HEAD + 2, r->buf_gpa + 512, 512, W | N, HEAD + 1);	/* 1 -> 2 -> 1 */
	return HEAD;
}

static int c_self_loop(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	read_hdr(r, VIRTIO_BLK_T_IN);
	d_set(vq, HEAD, r->hdr_gpa, 16, N, HEAD);
	return HEAD;
}

static int c_next_oob(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	vq->desc[HEAD + 1].next = vq->size + 7;
	return HEAD;
}

/* 'n' descriptors of 512 bytes in an indirect table: more than the ring. */
static int c_long_indirect(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	unsigned n = vq->size + 44;
	uint64_t gpa;
	struct vring_d *t = vhu_alloc(d, 16ull * n, 16, &gpa);

	read_hdr(r, VIRTIO_BLK_T_IN);
	t_set(t, 0, r->hdr_gpa, 16, N, 1);
	for (unsigned i = 1; i < n - 1; i++)
		t_set(t, i, r->buf_gpa + (i % 8) * 512, 512, W | N, i + 1);
	t_set(t, n - 1, r->status_gpa, 1, W, 0);
	d_set(vq, HEAD, gpa, 16 * n, I, 0);
	return HEAD;
}

/* A direct chain longer than the ring can be: it has to revisit. */
static int c_long_direct(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	read_hdr(r, VIRTIO_BLK_T_IN);
	for (unsigned i = 0; i < vq->size; i++)
		d_set(vq, i, r->buf_gpa + (i % 8) * 512, 512, W | N, (i + 1) % vq->size);
	d_set(vq, 0, r->hdr_gpa, 16, N, 1);
	return 0;
}

static int indirect_table(struct vhu_dev *d, struct vhu_req *r, struct vring_d **t,
			  uint64_t *gpa)
{
	*t = vhu_alloc(d, 64, 16, gpa);
	read_hdr(r, VIRTIO_BLK_T_IN);
	t_set(*t, 0, r->hdr_gpa, 16, N, 1);
	t_set(*t, 1, r->buf_gpa, 4096, W | N, 2);
	t_set(*t, 2, r->status_gpa, 1, W, 0);
	return 0;
}

static int c_nested_indirect(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	struct vring_d *t, *t2;
	uint64_t g, g2;

	indirect_table(d, r, &t, &g);
	indirect_table(d, r, &t2, &g2);
	t_set(t, 1, g2, 48, I | N, 2);		/* indirect inside indirect */
	d_set(vq, HEAD, g, 48, I, 0);
	return HEAD;
}

static int c_indirect_len(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	struct vring_d *t;
	uint64_t g;

	indirect_table(d, r, &t, &g);
	d_set(vq, HEAD, g, 40, I, 0);		/* not a multiple of 16 */
	return HEAD;
}

static int c_indirect_zero(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	d_set(vq, HEAD, r->ind_gpa, 0, I, 0);
	return HEAD;
}

static int c_indirect_oob(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	d_set(vq, HEAD, mem_end(d) - 32, 48, I, 0);
	return HEAD;
}

static int c_indirect_next_oob(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	struct vring_d *t;
	uint64_t g;

	indirect_table(d, r, &t, &g);
	t[1].next = 9;				/* table has 3 entries */
	d_set(vq, HEAD, g, 48, I, 0);
	return HEAD;
}

static int c_indirect_and_next(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	struct vring_d *t;
	uint64_t g;

	indirect_table(d, r, &t, &g);
	d_set(vq, HEAD, g, 48, I | N, HEAD + 1);
	d_set(vq, HEAD + 1, r->status_gpa, 1, W, 0);
	return HEAD;
}

static int c_status_ro(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	vq->desc[HEAD + 2].flags = 0;
	return HEAD;
}

static int c_status_empty(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	vq->desc[HEAD + 2].len = 0;
	return HEAD;
}

static int c_status_oob(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	vq->desc[HEAD + 2].addr = mem_end(d) + 4096;
	return HEAD;
}

static int c_hdr_wo(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	vq->desc[HEAD].flags |= W;
	return HEAD;
}

static int c_hdr_short(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	vq->desc[HEAD].len = 8;
	return HEAD;
}

static int c_hdr_only(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	read_hdr(r, VIRTIO_BLK_T_IN);
	d_set(vq, HEAD, r->hdr_gpa, 16, 0, 0);
	return HEAD;
}

#define MARK_SEED 4242

/* A read whose data buffer is device-readable: the buffer must not change. */
static int c_read_into_ro(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, 0);
	r->hdr->type = VIRTIO_BLK_T_IN;
	vhu_pattern(r->buf, 4096, MARK_SEED);
	return HEAD;
}

static void after_read_into_ro(struct vhu_req *r, const char *name)
{
	uint8_t want[4096];

	vhu_pattern(want, sizeof(want), MARK_SEED);
	CHECK(!memcmp(want, r->buf, sizeof(want)), "%s: device wrote a read-only buffer", name);
}

/* A write whose data buffer is device-writable: it must not reach the disk. */
static int c_write_from_wo(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	r->hdr->type = VIRTIO_BLK_T_OUT;
	vhu_pattern(r->buf, 4096, MARK_SEED);
	return HEAD;
}

static void after_write_from_wo(struct vhu_req *r, const char *name)
{
	uint8_t want[4096], got[4096];
	int fd = open(hostile_disk, O_RDONLY | O_CLOEXEC);

	vhu_pattern(want, sizeof(want), MARK_SEED);
	CHECK(fd >= 0 && pread(fd, got, sizeof(got), 8 * VHU_SECTOR) == sizeof(got),
	      "%s: cannot read the disk file", name);
	CHECK(memcmp(want, got, sizeof(got)), "%s: device wrote a write-only buffer to disk",
	      name);
	if (fd >= 0)
		close(fd);
}

static int c_unaligned_len(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 100, W);
	return HEAD;
}

static int c_unknown_type(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	chain3(vq, r, r->buf_gpa, 4096, W);
	r->hdr->type = 0x55;
	return HEAD;
}

static int dwz_case(struct vhu_vq *vq, struct vhu_req *r, uint32_t type, uint64_t sector,
		    uint32_t nsect, uint32_t flags)
{
	*r->hdr = (struct blk_hdr){ .type = type };
	*r->dwz = (struct blk_dwz){ sector, nsect, flags };
	*r->status = 0xff;
	d_set(vq, HEAD, r->hdr_gpa, 16, N, HEAD + 1);
	d_set(vq, HEAD + 1, r->dwz_gpa, 16, N, HEAD + 2);
	d_set(vq, HEAD + 2, r->status_gpa, 1, W, 0);
	return HEAD;
}

static int c_discard_oob(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	return dwz_case(vq, r, VIRTIO_BLK_T_DISCARD, d->cfg.capacity - 8, 64, 0);
}

static int c_wz_overflow(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	return dwz_case(vq, r, VIRTIO_BLK_T_WRITE_ZEROES, ~0ull - 4, 64, 0);
}

static int c_discard_flags(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	return dwz_case(vq, r, VIRTIO_BLK_T_DISCARD, 0, 8, 0x80);	/* reserved bit */
}

static int c_dwz_short(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r)
{
	dwz_case(vq, r, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0);
	vq->desc[HEAD + 1].len = 10;
	return HEAD;
}

/*
 * status: what a completion may leave in our status byte.
 *  0 the chain is well formed, so IOERR/UNSUPP must be written;
 *  1 there is no usable status descriptor: the byte must stay untouched;
 *  2 the chain is malformed: an error status or untouched, never OK;
 *  3 any status (a zero-length transfer is OK), 'after' checks the data.
 */
static const struct chain_case {
	const char *name;
	int (*build)(struct vhu_dev *, struct vhu_vq *, struct vhu_req *);
	int status;
	void (*after)(struct vhu_req *r, const char *name);
} chain_cases[] = {
	{ "data below guest memory", c_below, 0, NULL },
	{ "data beyond guest memory", c_beyond, 0, NULL },
	{ "data straddling the end of guest memory", c_straddle, 0, NULL },
	{ "data addr+len overflows 64 bits", c_overflow, 0, NULL },
	{ "data len 4 GiB", c_huge_len, 0, NULL },
	{ "chain loop 1->2->1", c_loop, 1, NULL },
	{ "descriptor chained to itself", c_self_loop, 1, NULL },
	{ "next index beyond the ring", c_next_oob, 2, NULL },
	{ "indirect table longer than the ring", c_long_indirect, 2, NULL },
	{ "direct chain longer than the ring", c_long_direct, 1, NULL },
	{ "nested indirect table", c_nested_indirect, 2, NULL },
	{ "indirect table len not a multiple of 16", c_indirect_len, 2, NULL },
	{ "indirect table len 0", c_indirect_zero, 1, NULL },
	{ "indirect table outside guest memory", c_indirect_oob, 1, NULL },
	{ "indirect next beyond the table", c_indirect_next_oob, 2, NULL },
	{ "INDIRECT together with NEXT", c_indirect_and_next, 2, NULL },
	{ "status descriptor read-only", c_status_ro, 1, NULL },
	{ "status descriptor len 0", c_status_empty, 1, NULL },
	{ "status descriptor outside guest memory", c_status_oob, 1, NULL },
	{ "header in a write-only descriptor", c_hdr_wo, 0, NULL },
	{ "header 8 bytes", c_hdr_short, 0, NULL },
	{ "header only, no status", c_hdr_only, 1, NULL },
	{ "read into a read-only buffer", c_read_into_ro, 3, after_read_into_ro },
	{ "write from a write-only buffer", c_write_from_wo, 3, after_write_from_wo },
	{ "data len not a multiple of 512", c_unaligned_len, 0, NULL },
	{ "unknown request type", c_unknown_type, 0, NULL },
	{ "discard past the end of the disk", c_discard_oob, 0, NULL },
	{ "write-zeroes sector+count overflows", c_wz_overflow, 0, NULL },
	{ "discard with reserved flag bits", c_discard_flags, 0, NULL },
	{ "write-zeroes segment 10 bytes", c_dwz_short, 0, NULL },
};

/* Waits for a used entry naming 'head': 1 = completed, 0 = none came. */
static int wait_head(struct vhu_dev *d, struct vhu_vq *vq, uint16_t head, int ms)
{
	struct pollfd p[2] = { { vq->call_fd, POLLIN, 0 }, { vq->err_fd, POLLIN, 0 } };
	uint64_t end = af_now_ns() + ms * 1000000ull;

	for (;;) {
		uint16_t idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

		while (vq->used_seen != idx) {
			struct vring_ue e = vq->used->ring[vq->used_seen++ % vq->size];

			CHECK(e.id == head, "used entry names head %u, we sent %u", e.id, head);
			if (e.id == head)
				return 1;
		}
		int left = (int)((int64_t)(end - af_now_ns()) / 1000000);

		if (left <= 0 || poll(p, 2, left) <= 0)
			return 0;
		if (p[1].revents)
			return 0;			/* error notifier: broken queue */
		uint64_t v;

		if (read(vq->call_fd, &v, 8) < 0 && errno != EAGAIN)
			return 0;
	}
}

static void run_chain_case(const struct chain_case *c)
{
	struct vhu_dev d;
	int rc;

	hostile_ensure_backend();
	rc = test_connect_extra(&d, &hostile_be, 1 << 20);

	CHECK(rc == 0, "%s: set-up: %s", c->name, strerror(-rc));
	if (rc == 0) {
		struct vhu_vq *vq = &d.vq[0];
		struct vhu_req *r = &vq->slots[0];
		int head;

		*r->status = 0xff;
		head = c->build(&d, vq, r);

		vhu_publish(vq, head);
		vhu_kick(vq);
		int done = wait_head(&d, vq, head, 250);
		uint8_t st = *r->status;

		int err = st == VIRTIO_BLK_S_IOERR || st == VIRTIO_BLK_S_UNSUPP;

		if (done && c->status == 0)
			CHECK(err, "%s: completed with status %s (0x%x)", c->name,
			      vhu_status_name(st), st);
		if (c->status == 1)
			CHECK(st == 0xff, "%s: device wrote status 0x%x where it must not",
			      c->name, st);
		if (done && c->status == 2)
			CHECK(err || st == 0xff, "%s: completed with status %s (0x%x)",
			      c->name, vhu_status_name(st), st);
		if (c->after)
			c->after(r, c->name);
		printf("%-44s %s\n", c->name, !done ? "no completion (queue broken)" :
		       st == 0xff ? "completed, status untouched" : vhu_status_name(st));
	}
	vhu_dev_free(&d);
	test_still_serves(&hostile_be, c->name);
}

/* avail idx moved by more than the ring size: nothing may be processed. */
static void poke_avail_jump(struct vhu_vq *vq)
{
	vq->avail_idx += vq->size + 5;
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

/* A head index beyond the ring in the avail ring. */
static void poke_head_oob(struct vhu_vq *vq)
{
	vhu_publish(vq, vq->size + 3);
}

/* Ring-level abuse: whatever the back-end does, it completes no request. */
static void run_ring_case(const char *name, void (*poke)(struct vhu_vq *))
{
	struct vhu_dev d;
	int rc;

	hostile_ensure_backend();
	rc = test_connect_extra(&d, &hostile_be, 0);
	CHECK(rc == 0, "%s: set-up: %s", name, strerror(-rc));
	if (rc == 0) {
		struct vhu_vq *vq = &d.vq[0];

		poke(vq);
		vhu_kick(vq);
		usleep(300000);
		uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);

		CHECK(used == 0, "%s: %u used entries (first names head %u)", name, used,
		      vq->used->ring[0].id);
		printf("%-44s %s\n", name, used ? "processed!" : "nothing processed");
	}
	vhu_dev_free(&d);
	test_still_serves(&hostile_be, name);
}

/*
 * A memory table whose region reaches past the end of its memfd (or starts
 * past it): a back-end that maps it anyway takes SIGBUS when it touches a
 * header or ring there.  Rejecting the table is the right answer.
 */
static void run_region_past_eof(int offset)
{
	const char *name = offset ? "region mmap offset past the end of its fd"
				  : "region larger than its fd, header past the end";
	struct vhu_opts o;
	struct vhu_dev d;
	int rc;

	hostile_ensure_backend();
	vhu_opts_defaults(&o);
	o.qd = 16;
	rc = vhu_dev_init(&d, &o, 1);
	if (offset)
		d.bad_table_offset = 1ull << 40;
	else
		d.bad_table_size = 2 * d.mem_size;
	if (rc == 0)
		rc = vhu_setup(&d, hostile_be.sock, 2000);
	if (rc == 0) {
		struct vhu_vq *vq = &d.vq[0];
		struct vhu_req *r = &vq->slots[0];

		chain3(vq, r, r->buf_gpa, 4096, W);
		vq->desc[HEAD].addr = mem_end(&d) + 4096;
		vhu_publish(vq, HEAD);
		vhu_kick(vq);
		int done = wait_head(&d, vq, HEAD, 500);

		if (done)
			CHECK(*r->status == VIRTIO_BLK_S_IOERR || *r->status == 0xff,
			      "%s: status %s", name, vhu_status_name(*r->status));
		printf("%-44s table accepted, %s\n", name,
		       done ? vhu_status_name(*r->status) : "no completion");
	} else {
		printf("%-44s table refused (%s)\n", name, strerror(-rc));
	}
	vhu_dev_free(&d);
	test_still_serves(&hostile_be, name);
}

int main(void)
{
	const char *which = getenv("VHU_BACKEND");
	enum vhu_backend_kind kind = which && !strcmp(which, "qsd") ? VHU_QSD : VHU_BLK;

	hostile_kind = kind;
	if (kind == VHU_BLK && !vhu_blk_path())
		test_skip("antfarm-blk not built yet (no build/antfarm-blk)");
	if (kind == VHU_QSD && !vhu_qsd_path())
		test_skip("qemu-storage-daemon not installed");
	test_start(&hostile_be, kind, "hostile", 1, 1, NULL, hostile_disk, sizeof(hostile_disk));
	for (size_t i = 0; i < sizeof(chain_cases) / sizeof(chain_cases[0]); i++)
		run_chain_case(&chain_cases[i]);
	run_ring_case("avail idx jumps by more than the queue size", poke_avail_jump);
	run_ring_case("avail ring entry beyond the ring", poke_head_oob);
	run_region_past_eof(0);
	run_region_past_eof(1);
	run_msg_cases();
	run_fuzz_cases();
	vhu_backend_stop(&hostile_be);
	return check_summary(kind == VHU_QSD ? "hostile inputs vs qemu-storage-daemon"
					 : "hostile inputs vs antfarm-blk");
}
