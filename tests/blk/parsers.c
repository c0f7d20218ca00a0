// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of antfarm-blk's untrusted-input parsers with hostile inputs:
 * the descriptor-chain parser, the virtio-blk request parser, the
 * vhost-user validation gate, the memory-table checks and the inflight
 * recovery rules.
 */
#include <stdlib.h>
#include <string.h>
#include "vub.h"
#include "virtq.h"
#include "blkreq.h"
#include "vhost_msg.h"
#include "tests/lib/check.h"

#define GPA0 0x10000ull
#define MEMSZ 65536
static uint8_t guest[MEMSZ] __attribute__((aligned(4096)));
static struct vub_mem mem;
static struct vring_desc *tbl = (struct vring_desc *)guest;	/* at GPA0 */
static struct iovec iov[VUB_MAX_IOV];

static void reset_mem(void)
{
	memset(guest, 0, sizeof(guest));
	memset(&mem, 0, sizeof(mem));
	mem.refs = 1;
	mem.nregions = 1;
	mem.r[0] = (struct vub_region){ .gpa = GPA0, .size = MEMSZ, .uva = 0x1000000, .hva = guest };
}

static void set(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	tbl[i] = (struct vring_desc){ addr, len, flags, next };
}

static int parse(unsigned num, uint16_t head, bool indirect, unsigned *o, unsigned *in)
{
	return vq_parse_chain(&mem, tbl, num, head, indirect, iov, VUB_MAX_IOV, o, in);
}

static void test_chains(void)
{
	unsigned o, in;

	reset_mem();
	set(0, GPA0 + 4096, 16, VRING_DESC_F_NEXT, 1);
	set(1, GPA0 + 8192, 4096, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set(2, GPA0 + 12288, 1, VRING_DESC_F_WRITE, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_OK && o == 1 && in == 2, "good chain o=%u in=%u", o, in);
	CHECK(iov[1].iov_base == guest + 8192 && iov[1].iov_len == 4096, "translation");
	CHECK(parse(16, 16, true, &o, &in) == VQ_E_HEAD, "head out of range");
	set(2, GPA0 + 12288, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 40);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_NEXT, "next out of range");
	set(2, GPA0 + 12288, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_LOOP, "loop 1->2->1");
	set(0, GPA0 + 4096, 16, VRING_DESC_F_NEXT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_LOOP, "self loop");
	/* readable after writable */
	set(0, GPA0 + 4096, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set(1, GPA0 + 8192, 16, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ORDER, "order");
	/* outside memory, straddling the end, wrapping the address space */
	set(0, GPA0 + MEMSZ, 16, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ADDR, "beyond memory");
	set(0, GPA0 + MEMSZ - 8, 16, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ADDR, "straddles the end");
	set(0, ~0ull - 4, 16, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ADDR, "address wrap");
	set(0, 0, 16, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ADDR, "below memory");
	set(0, GPA0 + 100, 0xffffffff, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ADDR, "huge length");
}

static void test_indirect(void)
{
	struct vring_desc *it = (struct vring_desc *)(guest + 16384);
	unsigned o, in;

	reset_mem();
	it[0] = (struct vring_desc){ GPA0 + 4096, 16, VRING_DESC_F_NEXT, 1 };
	it[1] = (struct vring_desc){ GPA0 + 8192, 1, VRING_DESC_F_WRITE, 0 };
	set(0, GPA0 + 16384, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_OK && o == 1 && in == 1, "indirect");
	CHECK(parse(16, 0, false, &o, &in) == VQ_E_INDIRECT, "indirect not negotiated");
	set(0, GPA0 + 16384, 2 * 16 + 3, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_INDIRECT, "table size not a multiple of 16");
	set(0, GPA0 + 16384, 0, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_INDIRECT, "empty table");
	set(0, GPA0 + 16384, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_INDIRECT, "indirect with NEXT");
	set(0, GPA0 + MEMSZ - 16, 32, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_ADDR, "table beyond memory");
	it[1] = (struct vring_desc){ GPA0 + 16384, 32, VRING_DESC_F_INDIRECT, 0 };
	set(0, GPA0 + 16384, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_NESTED, "nested indirect");
	it[1] = (struct vring_desc){ GPA0 + 8192, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0 };
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_LOOP, "loop inside the table");
	it[1].next = 2;
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_NEXT, "next beyond the table");
	set(0, GPA0 + 16384, 100000 * 16, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_E_INDIRECT, "oversized table");
}

static void test_too_many_segments(void)
{
	struct vring_desc *it = (struct vring_desc *)(guest + 16384);
	unsigned o, in;

	reset_mem();
	/* VUB_MAX_IOV + 1 one-byte segments through an indirect table */
	for (unsigned i = 0; i <= VUB_MAX_IOV && i < 2048; i++)
		it[i] = (struct vring_desc){ GPA0 + 4096 + i, 1, VRING_DESC_F_NEXT, i + 1 };
	it[VUB_MAX_IOV].flags = 0;
	set(0, GPA0 + 16384, (VUB_MAX_IOV + 1) * 16, VRING_DESC_F_INDIRECT, 0);
	CHECK(parse(1024, 0, true, &o, &in) == VQ_E_IOV, "segment cap");
}

static void test_region_split(void)
{
	unsigned o, in;

	reset_mem();
	/* two adjacent regions in guest-physical space, far apart in our VA */
	mem.nregions = 2;
	mem.r[0].size = 32768;
	mem.r[1] = (struct vub_region){ .gpa = GPA0 + 32768, .size = 32768, .uva = 0x2000000,
					.hva = guest + 32768 };
	set(0, GPA0 + 32768 - 100, 200, 0, 0);
	CHECK(parse(16, 0, true, &o, &in) == VQ_OK && o == 2 && iov[0].iov_len == 100 &&
	      iov[1].iov_len == 100, "buffer split at a region boundary");
}

static struct blk_disk disk = { .capacity = 1000, .serial = "serial-x" };

static int req(uint32_t type, uint64_t sector, size_t out_len, size_t in_len, struct blk_io *io)
{
	struct virtio_blk_outhdr *h = (void *)guest;

	h->type = type;
	h->sector = sector;
	iov[0] = (struct iovec){ guest, out_len };
	iov[1] = (struct iovec){ guest + 4096, in_len };
	return blk_req_parse(io, iov, out_len ? 1 : 0, in_len ? 1 : 0, &disk);
}

static void test_blk_requests(void)
{
	struct blk_io io;
	struct virtio_blk_discard_write_zeroes *seg = (void *)(guest + 16);

	reset_mem();
	CHECK(req(VIRTIO_BLK_T_IN, 10, 16, 4097, &io) == 1 && io.op == AF_OP_READ &&
	      io.len == 4096 && io.offset == 5120 && io.status_ptr == guest + 4096 + 4096 &&
	      io.used_len == 4097, "read");
	CHECK(req(VIRTIO_BLK_T_OUT, 10, 16 + 512, 1, &io) == 1 && io.op == AF_OP_WRITE &&
	      io.len == 512 && io.data->iov_base == guest + 16, "write with header and data in one descriptor");
	CHECK(req(VIRTIO_BLK_T_IN, 0, 15, 513, &io) == -1, "short header");
	CHECK(req(VIRTIO_BLK_T_IN, 0, 16, 0, &io) == -1, "no status byte");
	CHECK(req(VIRTIO_BLK_T_IN, 999, 16, 1025, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "read past the end");
	CHECK(req(VIRTIO_BLK_T_IN, ~0ull, 16, 513, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "sector overflow");
	CHECK(req(VIRTIO_BLK_T_IN, 0, 16, 101, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "partial sector");
	CHECK(req(12345, 0, 16, 1, &io) == 0 && io.status == VIRTIO_BLK_S_UNSUPP, "unknown type");
	CHECK(req(VIRTIO_BLK_T_GET_ID, 0, 16, 21, &io) == 0 && io.status == VIRTIO_BLK_S_OK &&
	      !memcmp(guest + 4096, "serial-x", 9) && io.used_len == 21, "get id");
	CHECK(req(VIRTIO_BLK_T_GET_ID, 0, 16, 5, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "get id buffer too small");
	*seg = (struct virtio_blk_discard_write_zeroes){ 10, 8, 0 };
	CHECK(req(VIRTIO_BLK_T_DISCARD, 0, 32, 1, &io) == 1 && io.offset == 5120 && io.len == 4096,
	      "discard");
	seg->flags = 1;
	CHECK(req(VIRTIO_BLK_T_DISCARD, 0, 32, 1, &io) == 0 && io.status == VIRTIO_BLK_S_UNSUPP,
	      "discard with unmap");
	CHECK(req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 32, 1, &io) == 1 && io.unmap, "write zeroes + unmap");
	seg->flags = 2;
	CHECK(req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 32, 1, &io) == 0 && io.status == VIRTIO_BLK_S_UNSUPP,
	      "unknown write-zeroes flag");
	seg->flags = 0;
	CHECK(req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 48, 1, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "two segments where one is allowed");
	seg->sector = 996;
	CHECK(req(VIRTIO_BLK_T_DISCARD, 0, 32, 1, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "discard past the end");
	disk.ro = true;
	CHECK(req(VIRTIO_BLK_T_OUT, 0, 16 + 512, 1, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "write to read-only");
	seg->sector = 0;
	CHECK(req(VIRTIO_BLK_T_WRITE_ZEROES, 0, 32, 1, &io) == 0 && io.status == VIRTIO_BLK_S_IOERR,
	      "write zeroes to read-only");
	CHECK(req(VIRTIO_BLK_T_FLUSH, 0, 16, 1, &io) == 1, "flush on read-only is fine");
	disk.ro = false;
}

static const char *check(uint32_t req, uint32_t flags, uint32_t size, unsigned nfds,
			 const void *p, size_t plen)
{
	static struct vhost_user_msg m;

	memset(&m, 0, sizeof(m));
	m.hdr = (struct vhost_user_hdr){ req, flags, size };
	m.nfds = nfds;
	if (p)
		memcpy(&m.p, p, plen);
	return vhost_user_msg_check(&m, 2);
}

static void test_msg_gate(void)
{
	uint32_t st[2] = { 1, 128 };
	struct { uint32_t n, pad; } mt = { 2, 0 };
	uint32_t cfg[3] = { 0, 60, 0 };

	CHECK(!check(VHOST_USER_GET_FEATURES, 1, 0, 0, NULL, 0), "good GET_FEATURES");
	CHECK(check(VHOST_USER_GET_FEATURES, 0, 0, 0, NULL, 0), "version 0");
	CHECK(check(VHOST_USER_GET_FEATURES, 1 | 4, 0, 0, NULL, 0), "reply flag");
	CHECK(check(VHOST_USER_GET_FEATURES, 1, 0, 1, NULL, 0), "unexpected fd");
	CHECK(check(VHOST_USER_SET_FEATURES, 1, 4, 0, NULL, 0), "short u64");
	CHECK(!check(VHOST_USER_SET_VRING_NUM, 1, 8, 0, st, 8), "good vring num");
	st[0] = 2;
	CHECK(check(VHOST_USER_SET_VRING_NUM, 1, 8, 0, st, 8), "ring index == nqueues");
	st[0] = 0xffffffff;
	CHECK(check(VHOST_USER_GET_VRING_BASE, 1, 8, 0, st, 8), "huge ring index");
	CHECK(check(VHOST_USER_SET_VRING_ADDR, 1, 8, 0, st, 8), "short vring addr");
	CHECK(!check(VHOST_USER_SET_MEM_TABLE, 1, 8 + 64, 2, &mt, 8), "good mem table");
	CHECK(check(VHOST_USER_SET_MEM_TABLE, 1, 8 + 64, 1, &mt, 8), "fd count != regions");
	CHECK(check(VHOST_USER_SET_MEM_TABLE, 1, 8 + 32, 2, &mt, 8), "size != regions");
	mt.n = 0;
	CHECK(check(VHOST_USER_SET_MEM_TABLE, 1, 8, 0, &mt, 8), "zero regions");
	mt.n = 9;
	CHECK(check(VHOST_USER_SET_MEM_TABLE, 1, 8 + 9 * 32, 9, &mt, 8), "nine regions");
	CHECK(check(VHOST_USER_SET_MEM_TABLE, 1, 4, 0, &mt, 8), "table without count");
	CHECK(!check(VHOST_USER_SET_VRING_KICK, 1, 8, 1, &(uint64_t){ 1 }, 8), "good kick");
	CHECK(!check(VHOST_USER_SET_VRING_KICK, 1, 8, 0, &(uint64_t){ 0x101 }, 8), "kick, no fd");
	CHECK(check(VHOST_USER_SET_VRING_KICK, 1, 8, 0, &(uint64_t){ 1 }, 8), "kick missing fd");
	CHECK(check(VHOST_USER_SET_VRING_CALL, 1, 8, 1, &(uint64_t){ 2 }, 8), "call ring 2");
	CHECK(check(VHOST_USER_SET_VRING_ERR, 1, 8, 1, &(uint64_t){ 1 | 1 << 12 }, 8), "reserved bits");
	CHECK(!check(VHOST_USER_GET_CONFIG, 1, 12 + 60, 0, cfg, 12), "good config");
	CHECK(check(VHOST_USER_GET_CONFIG, 1, 12 + 59, 0, cfg, 12), "config size mismatch");
	cfg[0] = 200;
	CHECK(check(VHOST_USER_GET_CONFIG, 1, 12 + 60, 0, cfg, 12), "config past 256");
	cfg[0] = 0xfffffff0;
	CHECK(check(VHOST_USER_SET_CONFIG, 1, 12 + 60, 0, cfg, 12), "config offset wrap");
	CHECK(check(VHOST_USER_SET_INFLIGHT_FD, 1, 24, 0, NULL, 0), "inflight without fd");
	CHECK(check(VHOST_USER_GET_CONFIG, 1, 4096, 0, NULL, 0), "payload too large");
	CHECK(!check(77, 1, 0, 0, NULL, 0), "unknown requests pass the gate to be refused");
}

static void test_mem_check(void)
{
	struct vub_mem m = { .nregions = 2 };

	m.r[0] = (struct vub_region){ .gpa = 0, .size = 4096, .uva = 0x1000 };
	m.r[1] = (struct vub_region){ .gpa = 4096, .size = 4096, .uva = 0x10000 };
	CHECK(!vub_mem_check(&m), "good table");
	m.r[1].gpa = 2048;
	CHECK(vub_mem_check(&m), "gpa overlap");
	m.r[1].gpa = 4096;
	m.r[1].uva = 0x1800;
	CHECK(vub_mem_check(&m), "uva overlap");
	m.r[1].uva = 0x10000;
	m.r[1].size = 0;
	CHECK(vub_mem_check(&m), "empty region");
	m.r[1].size = ~0ull;
	CHECK(vub_mem_check(&m), "wrapping region");
	m.r[1].size = 4096;
	m.r[1].mmap_offset = ~0ull - 100;
	CHECK(vub_mem_check(&m), "mmap offset overflow");
	m.nregions = 9;
	CHECK(vub_mem_check(&m), "9 regions");
	reset_mem();
	CHECK(!vub_uva_to_hva(&mem, 0x1000000 + MEMSZ - 8, 16), "uva range straddling the end");
	CHECK(vub_uva_to_hva(&mem, 0x1000000 + 8, 16) == guest + 8, "uva translation");
}

static void test_avail_and_inflight(void)
{
	static uint8_t ring[8192] __attribute__((aligned(64)));
	static uint8_t region[16 + 16 * 8];
	struct vub_vq vq = { .num = 8 };
	struct vq_redo heads[8];

	memset(ring, 0, sizeof(ring));
	vq.avail = (void *)ring;
	vq.used = (void *)(ring + 4096);
	vq.avail->idx = 9;
	CHECK(vq_avail_count(&vq) == -VQ_E_AVAIL, "avail idx jumped by more than the queue size");
	vq.avail->idx = 8;
	CHECK(vq_avail_count(&vq) == 8, "full ring");
	/* inflight: heads 3 (counter 7) and 1 (counter 5) in flight, 2 in the published
	 * last batch that the bookkeeping did not clear before a crash */
	memset(region, 0, sizeof(region));
	vq.infl = (void *)region;
	vq.infl->version = 1;
	vq.infl->desc_num = 8;
	vq.infl->desc[3] = (struct vub_inflight_desc){ .inflight = 1, .counter = 7 };
	vq.infl->desc[1] = (struct vub_inflight_desc){ .inflight = 1, .counter = 5 };
	vq.infl->desc[2] = (struct vub_inflight_desc){ .inflight = 1, .counter = 2, .next = 0 };
	vq.infl->last_batch_head = 2;
	vq.infl->used_idx = 4;
	vq.used->idx = 5;
	CHECK(vq_inflight_recover(&vq, heads) == 2 && heads[0].head == 1 && heads[1].head == 3,
	      "resubmission order by counter");
	CHECK(vq.last_avail == 7 && vq.used_idx == 5 && vq.infl->used_idx == 5,
	      "last_avail %u used_idx %u", vq.last_avail, vq.used_idx);
	CHECK(vq.infl->desc[2].inflight == 0, "published last batch cleared");
	/* hostile region: batch list pointing out of range must not escape */
	vq.infl->last_batch_head = 60000;
	vq.infl->used_idx = 0;
	vq.used->idx = 40000;
	CHECK(vq_inflight_recover(&vq, heads) == 2, "corrupt batch list");
}

int main(void)
{
	test_chains();
	test_indirect();
	test_too_many_segments();
	test_region_split();
	test_blk_requests();
	test_msg_gate();
	test_mem_check();
	test_avail_and_inflight();
	return check_summary("parsers");
}
