// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Split virtqueue, device side.  See virtq.h. */
#include <stdlib.h>
#include <string.h>
#include "virtq.h"

static const char *const vq_errs[] = {
	[VQ_OK] = "ok",
	[VQ_E_HEAD] = "head index out of range",
	[VQ_E_NEXT] = "next index out of range",
	[VQ_E_LOOP] = "descriptor chain longer than the queue (loop)",
	[VQ_E_ADDR] = "buffer outside guest memory",
	[VQ_E_INDIRECT] = "bad indirect descriptor",
	[VQ_E_NESTED] = "nested indirect descriptor",
	[VQ_E_ORDER] = "readable descriptor after a writable one",
	[VQ_E_IOV] = "too many segments",
	[VQ_E_AVAIL] = "avail index moved by more than the queue size",
	[VQ_E_DUP] = "head made available twice",
};

const char *vq_err_str(int err)
{
	if (err < 0)
		err = -err;
	return err < (int)(sizeof(vq_errs) / sizeof(vq_errs[0])) && vq_errs[err] ?
		vq_errs[err] : "unknown";
}

static void read_desc(const struct vring_desc *t, unsigned i, struct vring_desc *d)
{
	/* one snapshot per descriptor: the guest may rewrite it under us */
	memcpy(d, (const void *)&t[i], sizeof(*d));
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static int enter_indirect(const struct vub_mem *m, const struct vring_desc *d, unsigned num,
			  const struct vring_desc **tbl, unsigned *tbl_num)
{
	uint64_t len = d->len;
	void *p;

	/* Linux sizes indirect tables by seg_max, not by the queue size */
	unsigned max = num > VUB_MAX_IOV ? num : VUB_MAX_IOV;

	if ((d->flags & VRING_DESC_F_NEXT) || d->len == 0 ||
	    d->len % sizeof(struct vring_desc) || d->len / sizeof(struct vring_desc) > max)
		return VQ_E_INDIRECT;
	p = vub_gpa_to_hva(m, d->addr, &len);
	if (!p || len != d->len)
		return VQ_E_ADDR;
	*tbl = p;
	*tbl_num = d->len / sizeof(struct vring_desc);
	return VQ_OK;
}

int vq_parse_chain(const struct vub_mem *m, const struct vring_desc *table, unsigned num,
		   uint16_t head, bool indirect_ok, struct iovec *iov, unsigned max,
		   unsigned *n_out, unsigned *n_in)
{
	const struct vring_desc *tbl = table;
	unsigned tbl_num = num, count = 0, limit = num, niov = 0, i = head;
	bool indirect = false, writing = false;
	int err;

	*n_out = *n_in = 0;
	if (head >= num)
		return VQ_E_HEAD;
	for (;;) {
		struct vring_desc d;
		unsigned before = niov;

		read_desc(tbl, i, &d);
		/* a chain visits each table entry at most once, or it loops */
		if (++count > limit)
			return VQ_E_LOOP;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!indirect_ok)
				return VQ_E_INDIRECT;
			if (indirect)
				return VQ_E_NESTED;
			err = enter_indirect(m, &d, num, &tbl, &tbl_num);
			if (err)
				return err;
			indirect = true;
			i = 0;
			count = 0;
			limit = tbl_num;
			continue;
		}
		if (d.flags & VRING_DESC_F_WRITE)
			writing = true;
		else if (writing)
			return VQ_E_ORDER;
		if (vub_gpa_to_iov(m, d.addr, d.len, iov, &niov, max) < 0)
			return niov >= max ? VQ_E_IOV : VQ_E_ADDR;
		if (writing)
			*n_in += niov - before;
		else
			*n_out += niov - before;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return VQ_OK;
		i = d.next;
		if (i >= tbl_num)
			return VQ_E_NEXT;
	}
}

int vq_avail_count(struct vub_vq *vq)
{
	uint16_t idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = idx - vq->last_avail;

	if (n > vq->num)
		return -VQ_E_AVAIL;
	return n;
}

uint16_t vq_pop_head(struct vub_vq *vq)
{
	uint16_t head = __atomic_load_n(&vq->avail->ring[vq->last_avail % vq->num],
					__ATOMIC_RELAXED);

	vq->last_avail++;
	return head;
}

bool vq_arm_kick(struct vub_vq *vq)
{
	if (!vq->event_idx)
		return false;
	/* avail_event lives after the used ring's entries */
	__atomic_store_n((uint16_t *)&vq->used->ring[vq->num], vq->last_avail, __ATOMIC_RELAXED);
	/* the store must be visible before we look at avail->idx again */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) != vq->last_avail;
}

void vq_inflight_begin(struct vub_vq *vq, uint16_t head)
{
	struct vub_inflight_q *q = vq->infl;

	if (!q)
		return;
	q->desc[head].counter = ++vq->counter;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	q->desc[head].inflight = 1;
}

void vq_push(struct vub_vq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];

	e->id = head;
	e->len = len;
	vq->used_idx++;
	if (vq->infl) {
		vq->infl->desc[head].next = vq->infl->last_batch_head;
		vq->infl->last_batch_head = head;
	}
	vq->batch_n++;
}

static void inflight_clear_batch(struct vub_inflight_q *q, uint16_t n)
{
	uint16_t i = q->last_batch_head;

	for (uint16_t k = 0; k < n && i < q->desc_num; k++) {
		q->desc[i].inflight = 0;
		i = q->desc[i].next;
	}
}

bool vq_publish(struct vub_vq *vq)
{
	uint16_t old = vq->used_idx - vq->batch_n, ev;
	bool notify;

	if (!vq->batch_n)
		return false;
	/* used elements before the index the driver polls */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
	if (vq->infl) {
		inflight_clear_batch(vq->infl, vq->batch_n);
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		vq->infl->used_idx = vq->used_idx;
	}
	vq->batch_n = 0;
	/* store of used->idx before the load of used_event/flags */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	ev = __atomic_load_n(&vq->avail->ring[vq->num], __ATOMIC_RELAXED);
	if (vq->signalled_valid)
		old = vq->signalled_used;
	notify = !vq->signalled_valid || (uint16_t)(vq->used_idx - ev - 1) <
		 (uint16_t)(vq->used_idx - old);
	vq->signalled_used = vq->used_idx;
	vq->signalled_valid = true;
	return notify;
}

static int cmp_counter(const void *a, const void *b)
{
	const struct vq_redo *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

unsigned vq_inflight_recover(struct vub_vq *vq, struct vq_redo *redo)
{
	struct vub_inflight_q *q = vq->infl;
	uint16_t uidx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
	unsigned n = 0;
	uint64_t maxc = 0;

	if (q->used_idx != uidx) {
		/* the last batch reached the used ring but not our bookkeeping */
		inflight_clear_batch(q, uidx - q->used_idx);
		q->used_idx = uidx;
	}
	for (unsigned i = 0; i < vq->num && i < q->desc_num; i++) {
		if (q->desc[i].inflight != 1) {
			q->desc[i].inflight = 0;
			continue;
		}
		redo[n].head = i;
		redo[n].counter = q->desc[i].counter;
		if (redo[n].counter > maxc)
			maxc = redo[n].counter;
		n++;
	}
	qsort(redo, n, sizeof(*redo), cmp_counter);
	vq->used_idx = uidx;
	vq->last_avail = uidx + n;
	vq->counter = maxc;
	vq->signalled_valid = false;
	return n;
}
