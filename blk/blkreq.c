// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* virtio-blk request parser and iovec helpers. */
#include <string.h>
#include "blkreq.h"

size_t iov_len(const struct iovec *iov, unsigned n)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += iov[i].iov_len;
	return len;
}

size_t iov_copy_from(const struct iovec *iov, unsigned n, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy((char *)buf + done, iov[i].iov_base, k);
		done += k;
	}
	return done;
}

size_t iov_copy_to(const struct iovec *iov, unsigned n, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t k = iov[i].iov_len < len - done ? iov[i].iov_len : len - done;

		memcpy(iov[i].iov_base, (const char *)buf + done, k);
		done += k;
	}
	return done;
}

unsigned iov_trim_front(struct iovec **iovp, unsigned n, size_t len)
{
	struct iovec *iov = *iovp;

	while (n && len) {
		if (iov->iov_len > len) {
			iov->iov_base = (char *)iov->iov_base + len;
			iov->iov_len -= len;
			break;
		}
		len -= iov->iov_len;
		iov++;
		n--;
	}
	while (n && iov->iov_len == 0) {
		iov++;
		n--;
	}
	*iovp = iov;
	return n;
}

unsigned iov_trim_back(struct iovec *iov, unsigned n, size_t len)
{
	while (n && len) {
		struct iovec *last = &iov[n - 1];

		if (last->iov_len > len) {
			last->iov_len -= len;
			break;
		}
		len -= last->iov_len;
		n--;
	}
	while (n && iov[n - 1].iov_len == 0)
		n--;
	return n;
}

/* The last writable byte is the status; NULL if there is none. */
static uint8_t *find_status(struct iovec *in, unsigned n_in)
{
	for (unsigned i = n_in; i-- > 0;)
		if (in[i].iov_len)
			return (uint8_t *)in[i].iov_base + in[i].iov_len - 1;
	return NULL;
}

static int check_range(struct blk_io *io, const struct blk_disk *disk, uint64_t sector,
		       uint64_t bytes)
{
	uint64_t end;

	if (bytes % BLK_SECTOR ||
	    sector > disk->capacity ||
	    __builtin_add_overflow(sector, bytes / BLK_SECTOR, &end) || end > disk->capacity) {
		io->status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	io->offset = sector * BLK_SECTOR;
	io->len = bytes;
	return 1;
}

static int parse_rw(struct blk_io *io, struct iovec *out, unsigned n_out, struct iovec *in,
		    unsigned n_in, const struct blk_disk *disk)
{
	bool write = io->hdr.type == VIRTIO_BLK_T_OUT;

	if (write) {
		if (disk->ro) {
			io->status = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		io->op = AF_OP_WRITE;
		io->data = out;
		io->ndata = iov_trim_front(&io->data, n_out, sizeof(io->hdr));
	} else {
		io->op = AF_OP_READ;
		io->data = in;
		io->ndata = iov_trim_back(in, n_in, 1);
	}
	if (!check_range(io, disk, io->hdr.sector, iov_len(io->data, io->ndata)))
		return 0;
	if (!write)
		io->used_len += io->len;
	return 1;
}

static int parse_segment(struct blk_io *io, struct iovec *out, unsigned n_out,
			 const struct blk_disk *disk)
{
	struct virtio_blk_discard_write_zeroes seg;
	bool wz = io->hdr.type == VIRTIO_BLK_T_WRITE_ZEROES;
	struct iovec *data = out;
	unsigned n = iov_trim_front(&data, n_out, sizeof(io->hdr));

	io->op = wz ? AF_OP_WRITE_ZEROES : AF_OP_DISCARD;
	/* we advertise max_discard_seg = max_write_zeroes_seg = 1 */
	if (iov_len(data, n) != sizeof(seg) || disk->ro) {
		io->status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	iov_copy_from(data, n, &seg, sizeof(seg));
	if (wz ? seg.flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : seg.flags) {
		io->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	if (seg.num_sectors > (wz ? BLK_MAX_WZ_SECT : BLK_MAX_DISCARD_SECT)) {
		io->status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	io->unmap = seg.flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP;
	return check_range(io, disk, seg.sector, (uint64_t)seg.num_sectors * BLK_SECTOR);
}

static int get_id(struct blk_io *io, struct iovec *in, unsigned n_in, const struct blk_disk *disk)
{
	unsigned n = iov_trim_back(in, n_in, 1);

	if (iov_len(in, n) < VIRTIO_BLK_ID_BYTES) {
		io->status = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	iov_copy_to(in, n, disk->serial, VIRTIO_BLK_ID_BYTES);
	io->used_len += VIRTIO_BLK_ID_BYTES;
	io->status = VIRTIO_BLK_S_OK;
	return 0;
}

int blk_req_parse(struct blk_io *io, struct iovec *iov, unsigned n_out, unsigned n_in,
		  const struct blk_disk *disk)
{
	struct iovec *in = iov + n_out;

	memset(io, 0, sizeof(*io));
	io->op = AF_OP_OTHER;
	io->status_ptr = find_status(in, n_in);
	if (!io->status_ptr ||
	    iov_copy_from(iov, n_out, &io->hdr, sizeof(io->hdr)) < sizeof(io->hdr))
		return -1;
	io->used_len = 1;
	io->status = VIRTIO_BLK_S_OK;
	switch (io->hdr.type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return parse_rw(io, iov, n_out, in, n_in, disk);
	case VIRTIO_BLK_T_FLUSH:
		io->op = AF_OP_FLUSH;
		return 1;
	case VIRTIO_BLK_T_GET_ID:
		return get_id(io, in, n_in, disk);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return parse_segment(io, iov, n_out, disk);
	default:
		io->status = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
}
