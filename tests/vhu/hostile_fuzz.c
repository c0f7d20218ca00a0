// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * test-hostile, random half: seeded random descriptor chains and random
 * vhost-user messages, each on a fresh connection.  There is no oracle for
 * what a random chain should return, so the checks are the ones that hold
 * for any input: the back-end never dies, it never answers a chain that
 * points outside guest memory with OK, and it still serves correctly at
 * the end.  Whether a buffer is outside guest memory is decided by its
 * address and length.  VHU_FUZZ_N and VHU_FUZZ_SEED change the run (make
 * bench-hostile runs ten times the default count for several seeds).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hostile.h"

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

/* An address that is good, just outside, on an edge, or absurd. */
static uint64_t pick_addr(struct vhu_dev *d, struct vhu_req *r)
{
	uint64_t end = d->mem_gpa + d->mem_size;

	switch (rnd(6)) {
	case 0: return d->mem_gpa - 512 * (1 + rnd(8));
	case 1: return end - rnd(4) * 512;		/* may straddle the end */
	case 2: return ~0ull - rnd(4096);
	case 3: return rnd(0x100000);
	}
	return r->buf_gpa + rnd(8) * 512;
}

/* Is [addr, addr + len) a buffer not wholly inside guest memory?  Decided
 * by where it is and how long, not by how the address was picked: a chain
 * near the end of memory is inside when it is short enough. */
static int outside_memory(const struct vhu_dev *d, uint64_t addr, uint32_t len)
{
	uint64_t end;

	if (!len)
		return 0;			/* nothing is read or written */
	return addr < d->mem_gpa || __builtin_add_overflow(addr, len, &end) ||
	       end > d->mem_gpa + d->mem_size;
}

static uint32_t pick_len(void)
{
	static const uint32_t lens[] = { 0, 1, 15, 16, 17, 512, 4096, 65536, 0x80000000u,
					 0xffffffffu };

	return lens[rnd(sizeof(lens) / sizeof(lens[0]))];
}

/*
 * Does the chain, walked as a device would, touch a buffer outside guest
 * memory?  Unknown (0) once it leaves the descriptors we wrote.
 */
static int walk_outside(const struct vring_d *t, unsigned n, unsigned base, const int *out)
{
	int any = 0;

	for (unsigned i = 0, steps = 0;; steps++) {
		any |= out[i];
		if (!(t[i].flags & VRING_DESC_F_NEXT))
			return any;
		if (t[i].next < base || t[i].next >= base + n || steps > n)
			return 0;
		i = t[i].next - base;
	}
}

/* A random chain at descriptor 100 or in an indirect table; mostly a header
 * first and a status byte last, so an OK answer can be seen. */
static void random_chain(struct vhu_dev *d, struct vhu_vq *vq, struct vhu_req *r,
			 int *outside)
{
	unsigned n = 2 + rnd(5), base = 100;
	struct vring_d *t = &vq->desc[base];
	int indirect = rnd(3) == 0, out[8] = { 0 };

	*r->hdr = (struct blk_hdr){ .type = rnd(4) ? rnd(2) : rnd(20), .sector = rnd(64) };
	*r->status = 0xff;
	if (indirect) {
		t = r->ind;			/* 4 entries */
		n = n > 4 ? 4 : n;
		base = 0;
	}
	for (unsigned i = 0; i < n; i++) {
		t[i] = (struct vring_d){ pick_addr(d, r), pick_len(), rnd(8),
					 rnd(8) ? base + i + 1 : rnd(vq->size + 8) };
		if (i + 1 < n && rnd(8))
			t[i].flags |= VRING_DESC_F_NEXT;
	}
	if (rnd(4))
		t[0] = (struct vring_d){ r->hdr_gpa, 16, t[0].flags & VRING_DESC_F_NEXT, base + 1 };
	if (rnd(4))
		t[n - 1] = (struct vring_d){ r->status_gpa, 1, VRING_DESC_F_WRITE, 0 };
	for (unsigned i = 0; i < n; i++)
		out[i] = outside_memory(d, t[i].addr, t[i].len);
	*outside = walk_outside(t, n, base, out);
	if (indirect) {
		int whole = rnd(8) != 0;

		vq->desc[100] = (struct vring_d){ r->ind_gpa, whole ? n * 16 : rnd(200),
						  VRING_DESC_F_INDIRECT, 0 };
		if (!whole)
			*outside = 0;		/* the table itself is cut or overlong */
	}
}

static void fuzz_chains(unsigned n)
{
	unsigned ok = 0, err = 0, none = 0, out = 0;

	for (unsigned i = 0; i < n; i++) {
		struct vhu_dev d;
		int rc, outside;

		hostile_ensure_backend();
		rc = test_connect_extra(&d, &hostile_be, 0);
		CHECK(rc == 0, "random chain %u: set-up: %s", i, strerror(-rc));
		if (rc == 0) {
			struct vhu_vq *vq = &d.vq[0];
			struct vhu_req *r = &vq->slots[0];

			random_chain(&d, vq, r, &outside);
			r->busy = 1;
			vq->by_head[100] = r;
			vq->inflight++;
			vhu_publish(vq, 100);
			vhu_kick(vq);
			for (int k = 0; k < 5 && r->busy; k++)
				vhu_poll(&d, 10, NULL, NULL);
			CHECK(!(outside && !r->busy && *r->status == VIRTIO_BLK_S_OK),
			      "random chain %u: OK for a chain outside guest memory", i);
			out += outside;
			if (r->busy)
				none++;
			else if (*r->status == VIRTIO_BLK_S_OK)
				ok++;
			else
				err++;
		}
		vhu_dev_free(&d);
		if (!vhu_backend_alive(&hostile_be))
			test_still_serves(&hostile_be, "a random chain");
	}
	printf("random chains: %u OK, %u error status, %u no completion; %u reached "
	       "outside guest memory\n", ok, err, none, out);
}

static void fuzz_msgs(unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct vhu_dev d;
		struct vhu_opts o;
		struct vhu_msg m;
		int fds[4], nfds = rnd(4) == 0 ? 1 + rnd(3) : 0, rc;

		hostile_ensure_backend();
		vhu_opts_defaults(&o);
		o.qd = 8;
		rc = vhu_dev_init(&d, &o, 1);
		if (rc == 0)
			rc = rnd(2) ? vhu_setup(&d, hostile_be.sock, 2000)
				    : vhu_dev_open(&d, hostile_be.sock, 2000);
		CHECK(rc == 0, "random message %u: set-up: %s", i, strerror(-rc));
		if (rc == 0) {
			for (size_t k = 0; k < sizeof(m.u.raw) / 8; k++)
				((uint64_t *)m.u.raw)[k] = rnd(4) ? rnd(300) : rng;
			m.request = rnd(45);
			m.flags = rnd(8) ? VHU_FLAG_VERSION | VHU_FLAG_NEED_REPLY : rnd(16);
			m.size = rnd(8) ? rnd(48) : rnd(400);
			for (int k = 0; k < nfds; k++)
				fds[k] = k == 0 && rnd(2) ? dup(d.mem_fd) : eventfd(0, EFD_CLOEXEC);
			vhu_send_raw(d.sock, &m, VHU_HDR_SIZE + m.size, fds, nfds);
			for (int k = 0; k < nfds; k++)
				close(fds[k]);
			vhu_recv(d.sock, &m, NULL, NULL, 20);
		}
		vhu_dev_free(&d);
		if (!vhu_backend_alive(&hostile_be))
			test_still_serves(&hostile_be, "a random message");
	}
}

void run_fuzz_cases(void)
{
	const char *ns = getenv("VHU_FUZZ_N"), *seed = getenv("VHU_FUZZ_SEED");
	unsigned n = ns ? strtoul(ns, NULL, 0) : 150;

	rng = seed ? strtoull(seed, NULL, 0) : 0x5eed0f5eed;
	if (!rng)
		rng = 1;
	printf("random cases: %u chains and %u messages, seed 0x%llx\n", n, n,
	       (unsigned long long)rng);
	fuzz_chains(n);
	fuzz_msgs(n);
	hostile_ensure_backend();
	test_still_serves(&hostile_be, "the random cases");
}
