// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The guest memory table.  A table is immutable once built; SET_MEM_TABLE
 * builds a new one and the old one lives until the last request or ring
 * that references it lets go (reference count), so in-flight I/O never
 * writes into an unmapped range.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "vub.h"
#include "vhost_msg.h"

const char *vub_mem_check(const struct vub_mem *m)
{
	if (m->nregions == 0 || m->nregions > VUB_MAX_REGIONS)
		return "region count not in 1..8";
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vub_region *a = &m->r[i];
		uint64_t end;

		if (a->size == 0)
			return "empty region";
		if (__builtin_add_overflow(a->gpa, a->size - 1, &end) ||
		    __builtin_add_overflow(a->uva, a->size - 1, &end) ||
		    __builtin_add_overflow(a->mmap_offset, a->size, &end) ||
		    end > (uint64_t)SIZE_MAX)
			return "region wraps the address space";
		for (uint32_t j = 0; j < i; j++) {
			const struct vub_region *b = &m->r[j];

			if (a->gpa <= b->gpa + (b->size - 1) && b->gpa <= a->gpa + (a->size - 1))
				return "regions overlap in guest-physical space";
			if (a->uva <= b->uva + (b->size - 1) && b->uva <= a->uva + (a->size - 1))
				return "regions overlap in front-end address space";
		}
	}
	return NULL;
}

static void mem_unmap(struct vub_mem *m)
{
	for (uint32_t i = 0; i < m->nregions; i++)
		if (m->r[i].mmap_addr)
			munmap(m->r[i].mmap_addr, m->r[i].mmap_len);
	free(m);
}

/*
 * A shared mapping past the end of its file faults with SIGBUS on first
 * touch, so the region must lie inside the file.  A front-end that shrinks
 * the file later could still do that; QEMU's memfd backend seals against
 * shrinking (seal=on, its default), and we add the seal where we can.
 * Where we cannot (no MFD_ALLOW_SEALING, a regular file), the accesses run
 * under a guard (fault.h) and a shrink fails the connection.
 */
static const char *check_backing(int fd, uint64_t len)
{
	struct stat st;
	int seals;

	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return "memory region fd is not a regular file or memfd";
	if ((uint64_t)st.st_size < len)
		return "memory region extends past the end of its file";
	seals = fcntl(fd, F_GET_SEALS);
	if (seals >= 0 && !(seals & F_SEAL_SHRINK) &&
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		log_debug("memory fd cannot be sealed against shrinking");
	return NULL;
}

struct vub_mem *vub_mem_map(const struct vhost_user_region *regs, uint32_t n,
			    const int *fds, const char **why)
{
	struct vub_mem *m = calloc(1, sizeof(*m));

	if (!m) {
		*why = "out of memory";
		return NULL;
	}
	m->refs = 1;
	m->nregions = n;
	for (uint32_t i = 0; i < n && i < VUB_MAX_REGIONS; i++) {
		m->r[i].gpa = regs[i].gpa;
		m->r[i].size = regs[i].size;
		m->r[i].uva = regs[i].uva;
		m->r[i].mmap_offset = regs[i].mmap_offset;
	}
	*why = vub_mem_check(m);
	if (*why) {
		free(m);
		return NULL;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct vub_region *r = &m->r[i];
		size_t len = r->mmap_offset + r->size;
		void *p;

		*why = check_backing(fds[i], len);
		if (*why) {
			m->nregions = i;
			mem_unmap(m);
			return NULL;
		}
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fds[i], 0);
		if (p == MAP_FAILED) {
			*why = "mmap of a memory region failed";
			m->nregions = i;
			mem_unmap(m);
			return NULL;
		}
		r->mmap_addr = p;
		r->mmap_len = len;
		r->hva = (uint8_t *)p + r->mmap_offset;
	}
	return m;
}

struct vub_mem *vub_mem_get(struct vub_mem *m)
{
	if (m)
		__atomic_add_fetch(&m->refs, 1, __ATOMIC_RELAXED);
	return m;
}

void vub_mem_put(struct vub_mem *m)
{
	if (m && __atomic_sub_fetch(&m->refs, 1, __ATOMIC_ACQ_REL) == 0)
		mem_unmap(m);
}

void *vub_gpa_to_hva(const struct vub_mem *m, uint64_t gpa, uint64_t *len)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vub_region *r = &m->r[i];
		uint64_t off = gpa - r->gpa;

		if (gpa < r->gpa || off >= r->size)
			continue;
		if (*len > r->size - off)
			*len = r->size - off;
		return r->hva + off;
	}
	return NULL;
}

void *vub_uva_to_hva(const struct vub_mem *m, uint64_t uva, uint64_t len)
{
	for (uint32_t i = 0; i < m->nregions; i++) {
		const struct vub_region *r = &m->r[i];
		uint64_t off = uva - r->uva;

		if (uva < r->uva || off >= r->size)
			continue;
		if (len > r->size - off)
			return NULL;
		return r->hva + off;
	}
	return NULL;
}

int vub_gpa_to_iov(const struct vub_mem *m, uint64_t gpa, uint64_t len,
		   struct iovec *iov, unsigned *niov, unsigned max)
{
	uint64_t end;

	if (__builtin_add_overflow(gpa, len, &end))
		return -1;
	while (len) {
		uint64_t piece = len;
		void *p = vub_gpa_to_hva(m, gpa, &piece);

		if (!p || *niov >= max)
			return -1;
		iov[*niov].iov_base = p;
		iov[*niov].iov_len = piece;
		(*niov)++;
		gpa += piece;
		len -= piece;
	}
	return 0;
}
