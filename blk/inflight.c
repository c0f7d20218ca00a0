// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The INFLIGHT_SHMFD region: one QueueRegionSplit per queue, each padded
 * to 64 bytes.  The front-end keeps the fd across our restarts and hands
 * it back with SET_INFLIGHT_FD, which is how a restarted backend learns
 * which requests it had taken but not completed.
 *
 * The region is sized for our largest queue (--queue-size), not for the
 * queue_size the front-end passes: QEMU passes its queue-size property
 * (default 128) while a virtio-mmio driver may pick any ring size up to
 * 1024.  Each queue region's desc_num records its real capacity, and
 * SET_INFLIGHT_FD derives the capacity from mmap_size.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include "dev.h"

static size_t queue_region_size(unsigned qs)
{
	size_t sz = sizeof(struct vub_inflight_q) + (size_t)qs * sizeof(struct vub_inflight_desc);

	return (sz + 63) & ~(size_t)63;
}

static const char *check_geometry(const struct vub_dev *d, const struct vhost_user_inflight *in)
{
	if (in->num_queues == 0 || in->num_queues > d->nqueues)
		return "inflight num_queues not in 1..num-queues";
	if (in->queue_size == 0 || in->queue_size > d->max_qsize)
		return "inflight queue_size not in 1..queue-size";
	return NULL;
}

int vub_inflight_get(struct vub_dev *d, struct vhost_user_msg *msg, int *fd_out)
{
	struct vhost_user_inflight *in = &msg->p.inflight;
	const char *why = check_geometry(d, in);
	size_t size;
	int fd;

	if (why) {
		log_warnx("GET_INFLIGHT_FD: %s", why);
		return -1;
	}
	size = (size_t)in->num_queues *
	       queue_region_size(in->queue_size > d->max_qsize ? in->queue_size : d->max_qsize);
	fd = memfd_create("antfarm-blk-inflight", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, size) < 0) {
		log_warn("GET_INFLIGHT_FD: memfd");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* the size is part of the format: nobody may change it under us */
	fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	in->mmap_size = size;
	in->mmap_offset = 0;
	*fd_out = fd;
	log_debug("inflight region: %u queues x %u entries, %zu bytes",
		  in->num_queues, in->queue_size, size);
	return 0;
}

void vub_inflight_unmap(struct vub_dev *d)
{
	if (d->infl.addr)
		munmap(d->infl.addr, d->infl.size);
	memset(&d->infl, 0, sizeof(d->infl));
}

/* Entries per queue region for a region of mmap_size bytes. */
static unsigned region_capacity(uint64_t mmap_size, unsigned nq)
{
	uint64_t step = mmap_size / nq;

	if (mmap_size % nq || step % 64 || step < sizeof(struct vub_inflight_q) + 16)
		return 0;
	step = (step - sizeof(struct vub_inflight_q)) / sizeof(struct vub_inflight_desc);
	return step > VUB_MAX_QSIZE ? 0 : step;
}

static int init_regions(struct vub_inflight_map *m)
{
	size_t step = queue_region_size(m->qs);

	for (unsigned i = 0; i < m->nq; i++) {
		struct vub_inflight_q *q = (void *)((uint8_t *)m->addr + i * step);

		if (q->version == 0) {
			memset(q, 0, step);
			q->desc_num = m->qs;
			q->version = 1;
		} else if (q->version != 1 || q->desc_num != m->qs) {
			return -1;
		}
	}
	return 0;
}

int vub_inflight_set(struct vub_dev *d, struct vhost_user_msg *msg)
{
	const struct vhost_user_inflight *in = &msg->p.inflight;
	const char *why = check_geometry(d, in);
	int fd = msg->fds[0];
	unsigned cap = 0;
	struct stat st;
	void *p;

	msg->fds[0] = -1;
	if (!why) {
		cap = region_capacity(in->mmap_size, in->num_queues);
		if (cap < in->queue_size ||
		    in->mmap_size != (uint64_t)in->num_queues * queue_region_size(cap))
			why = "inflight mmap_size does not match its geometry";
	}
	if (!why && (in->mmap_offset % 4096 || fstat(fd, &st) < 0 ||
		     in->mmap_offset > (uint64_t)st.st_size ||
		     in->mmap_size > (uint64_t)st.st_size - in->mmap_offset))
		why = "inflight region outside its file";
	if (why) {
		log_warnx("SET_INFLIGHT_FD: %s", why);
		close(fd);
		return -1;
	}
	/* the front-end's fd: seal it against shrinking where it lets us; where
	 * not, a shrink is caught as SIGBUS (fault.h) */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		log_debug("SET_INFLIGHT_FD: the inflight fd cannot be sealed against shrinking");
	p = mmap(NULL, in->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, in->mmap_offset);
	close(fd);
	if (p == MAP_FAILED) {
		log_warn("SET_INFLIGHT_FD: mmap");
		return -1;
	}
	vub_inflight_unmap(d);
	d->infl.addr = p;
	d->infl.size = in->mmap_size;
	d->infl.nq = in->num_queues;
	d->infl.qs = cap;
	if (init_regions(&d->infl) < 0) {
		log_warnx("SET_INFLIGHT_FD: region has an unknown version or a different queue size");
		vub_inflight_unmap(d);
		return -1;
	}
	log_info("inflight region set: %u queues x %u entries (front-end queue size %u)",
		 d->infl.nq, d->infl.qs, in->queue_size);
	return 0;
}

struct vub_inflight_q *vub_inflight_queue(struct vub_dev *d, unsigned qi, unsigned num)
{
	if (!d->infl.addr || qi >= d->infl.nq)
		return NULL;
	if (num > d->infl.qs) {
		log_warnx("queue %u: size %u exceeds the inflight region's %u; not tracking",
			  qi, num, d->infl.qs);
		return NULL;
	}
	return (void *)((uint8_t *)d->infl.addr + qi * queue_region_size(d->infl.qs));
}
