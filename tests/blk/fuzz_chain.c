// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the descriptor-chain parser and the virtio-blk request
 * parser on guest memory and a descriptor table made of the input.  Checks
 * the safety property directly: every iovec, and the status byte, lies
 * inside guest memory.
 */
#include <stdlib.h>
#include <string.h>
#include "vub.h"
#include "virtq.h"
#include "blkreq.h"

#define GPA0 0x10000ull
#define MEMSZ 65536

static uint8_t *guest;

static bool inside(const void *p, size_t len)
{
	const uint8_t *b = p;

	return b >= guest && len <= MEMSZ && b - guest <= (ptrdiff_t)(MEMSZ - len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iovec iov[VUB_MAX_IOV];
	struct blk_disk disk = { .capacity = 4096, .serial = "fuzz" };
	struct vub_mem mem = { .refs = 1, .nregions = 2 };
	struct blk_io io;
	unsigned n_out, n_in, num;
	uint16_t head;
	bool indirect;
	int err;

	if (size < 4)
		return 0;
	if (!guest)
		guest = aligned_alloc(4096, MEMSZ);
	num = 1u << (data[0] % 11);	/* 1..1024 */
	head = data[1] | (data[2] << 8);
	indirect = data[3] & 1;
	disk.ro = data[3] & 2;
	memset(guest, 0, MEMSZ);
	memcpy(guest, data + 4, size - 4 < MEMSZ ? size - 4 : MEMSZ);
	/* two regions, adjacent in guest-physical space, so buffers can split */
	mem.r[0] = (struct vub_region){ .gpa = GPA0, .size = MEMSZ / 2, .uva = 1 << 30, .hva = guest };
	mem.r[1] = (struct vub_region){ .gpa = GPA0 + MEMSZ / 2, .size = MEMSZ / 2,
					.uva = 2u << 30, .hva = guest + MEMSZ / 2 };
	if (num * sizeof(struct vring_desc) > MEMSZ)
		num = MEMSZ / sizeof(struct vring_desc);
	/* half the inputs: addresses folded into guest memory, so that chains
	 * get past translation and exercise the request parser */
	if (data[3] & 4) {
		struct vring_desc *d = (struct vring_desc *)guest;

		for (unsigned i = 0; i < MEMSZ / sizeof(*d); i++) {
			d[i].addr = GPA0 + d[i].addr % MEMSZ;
			d[i].len %= 8192;
		}
	}
	err = vq_parse_chain(&mem, (struct vring_desc *)guest, num, head, indirect, iov,
			     VUB_MAX_IOV, &n_out, &n_in);
	if (err)
		return 0;
	for (unsigned i = 0; i < n_out + n_in; i++)
		if (!inside(iov[i].iov_base, iov[i].iov_len))
			abort();
	if (blk_req_parse(&io, iov, n_out, n_in, &disk) < 0)
		return 0;
	if (!inside(io.status_ptr, 1))
		abort();
	for (unsigned i = 0; i < io.ndata; i++)
		if (!inside(io.data[i].iov_base, io.data[i].iov_len))
			abort();
	if (io.op <= AF_OP_WRITE && io.status == VIRTIO_BLK_S_OK &&
	    (io.offset + io.len > disk.capacity * 512 || iov_len(io.data, io.ndata) != io.len))
		abort();
	return 0;
}
