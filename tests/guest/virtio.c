/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * virtio-blk on a modern (version 2) virtio-mmio transport, found through
 * the "virtio_mmio.device=SIZE@ADDR:IRQ" words QEMU's microvm appends to
 * the command line.  Interrupt driven; the submitter blocks until its
 * request completes; one virtqueue per vCPU when the device offers MQ.
 * Every request carries (pid + 1) in virtio_blk_outhdr.ioprio.
 */
#include "guest.h"

#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE 0x008
#define VM_DEVFEAT 0x010
#define VM_DEVFEATSEL 0x014
#define VM_DRVFEAT 0x020
#define VM_DRVFEATSEL 0x024
#define VM_QSEL 0x030
#define VM_QNUMMAX 0x034
#define VM_QNUM 0x038
#define VM_QREADY 0x044
#define VM_QNOTIFY 0x050
#define VM_ISR 0x060
#define VM_ISRACK 0x064
#define VM_STATUS 0x070
#define VM_QDESC 0x080
#define VM_QAVAIL 0x090
#define VM_QUSED 0x0a0
#define VM_CONFIG 0x100

#define F_FLUSH 9
#define F_MQ 12
#define QMAX 256
#define MAXQ MAXCPU

struct desc { u64 addr; u32 len; u16 flags, next; };
struct used_elem { u32 id, len; };
struct req {
	struct { u32 type, ioprio; u64 sector; } hdr;
	u8 status;
	bool done;
	struct task *waiter;
	u64 id;
};
struct vq {
	u16 num, free_head, nfree, last_used;
	struct desc *desc;
	u16 *avail;		/* flags, idx, ring[num] */
	volatile u16 *used;	/* flags, idx, then used_elem ring */
	struct req *reqs[QMAX];	/* by head descriptor; the req lives on the submitter's stack */
};

static u64 base;
static int nq, gsi;
static u64 capacity;
static struct vq vqs[MAXQ];
static struct task *desc_waiters[MAXTASK];
static int ndesc_waiters;
u64 stat_disk_sub, stat_disk_done, stat_disk_err;

static u32 rd(u32 off) { return mmio_r32(base + off); }
static void wr(u32 off, u32 v) { mmio_w32(base + off, v); }

static u64 parse_hex(const char **s)
{
	u64 v = 0;
	for (;; (*s)++) {
		char c = **s;
		if (c >= '0' && c <= '9') v = v * 16 + c - '0';
		else if (c >= 'a' && c <= 'f') v = v * 16 + c - 'a' + 10;
		else if (c >= 'A' && c <= 'F') v = v * 16 + c - 'A' + 10;
		else return v;
	}
}

static u64 parse_dec(const char **s)
{
	u64 v = 0;
	while (**s >= '0' && **s <= '9')
		v = v * 10 + *(*s)++ - '0';
	return v;
}

/* Next "virtio_mmio.device=512@0xfeb00e00:12" word: address and irq. */
static const char *next_dev(const char *s, u64 *addr, int *irq)
{
	static const char key[] = "virtio_mmio.device=";

	for (; *s; s++) {
		size_t i = 0;
		while (key[i] && s[i] == key[i])
			i++;
		if (key[i])
			continue;
		s += i;
		parse_dec(&s);
		if (*s++ != '@' || *s++ != '0' || *s++ != 'x')
			continue;
		*addr = parse_hex(&s);
		if (*s++ != ':')
			continue;
		*irq = parse_dec(&s);
		return s;
	}
	return NULL;
}

static void vq_setup(int q)
{
	struct vq *v = &vqs[q];
	u32 max;

	wr(VM_QSEL, q);
	max = rd(VM_QNUMMAX);
	v->num = max < QMAX ? max : QMAX;
	wr(VM_QNUM, v->num);
	v->desc = page_alloc();
	v->avail = page_alloc();
	v->used = page_alloc();
	for (int i = 0; i < v->num; i++)
		v->desc[i].next = i + 1;
	v->nfree = v->num;
	wr(VM_QDESC, (u32)(u64)v->desc);
	wr(VM_QDESC + 4, (u64)v->desc >> 32);
	wr(VM_QAVAIL, (u32)(u64)v->avail);
	wr(VM_QAVAIL + 4, (u64)v->avail >> 32);
	wr(VM_QUSED, (u32)(u64)v->used);
	wr(VM_QUSED + 4, (u64)v->used >> 32);
	wr(VM_QREADY, 1);
}

static int vblk_probe(u64 addr, int irq)
{
	base = addr;
	if (rd(VM_MAGIC) != 0x74726976 || rd(VM_DEVICE) != 2)
		return -1;
	if (rd(VM_VERSION) != 2) {
		klog("AF DISKERR msg=legacy virtio-mmio: run QEMU with -global virtio-mmio.force-legacy=false");
		return -1;
	}
	wr(VM_STATUS, 0);
	wr(VM_STATUS, 1 | 2);				/* ACKNOWLEDGE | DRIVER */
	wr(VM_DEVFEATSEL, 0);
	u32 f = rd(VM_DEVFEAT), want = f & ((1u << F_FLUSH) | (1u << F_MQ));
	wr(VM_DRVFEATSEL, 0);
	wr(VM_DRVFEAT, want);
	wr(VM_DRVFEATSEL, 1);
	wr(VM_DRVFEAT, 1);				/* VIRTIO_F_VERSION_1 */
	wr(VM_STATUS, 1 | 2 | 8);			/* FEATURES_OK */
	if (!(rd(VM_STATUS) & 8))
		return -1;
	nq = 1;
	if (want & (1u << F_MQ)) {
		u16 dq = *(volatile u16 *)(base + VM_CONFIG + 34);
		nq = dq < cfg.cpus ? dq : cfg.cpus;
	}
	for (int q = 0; q < nq; q++)
		vq_setup(q);
	capacity = *(volatile u64 *)(base + VM_CONFIG);
	gsi = irq;
	ioapic_route(irq, VEC_VBLK);
	wr(VM_STATUS, 1 | 2 | 8 | 4);			/* DRIVER_OK */
	klog("AF DISKDEV t=%lu base=0x%lx irq=%d queues=%d capacity=%lu flush=%d", now_ns(),
	     base, irq, nq, capacity, !!(want & (1u << F_FLUSH)));
	return 0;
}

int vblk_init(const char *cmdline)
{
	const char *s = cmdline;
	u64 addr;
	int irq;

	while ((s = next_dev(s, &addr, &irq)))
		if (vblk_probe(addr, irq) == 0)
			return 0;
	base = 0;
	return -1;
}

u64 vblk_capacity(void)
{
	return base ? capacity : 0;
}

static u16 desc_get(struct vq *v)
{
	u16 d = v->free_head;
	v->free_head = v->desc[d].next;
	v->nfree--;
	return d;
}

static void desc_chain(struct vq *v, u16 d, u64 addr, u32 len, u16 flags, u16 next)
{
	v->desc[d] = (struct desc){ addr, len, flags, next };
}

/* op: 0 read, 1 write, 4 flush.  Blocks the caller; returns 0 or -1. */
long vblk_rw(int op, u64 sector, void *buf, u32 n)
{
	struct cpu *c = this_cpu();
	struct task *me = c->cur;	/* after blocking we may resume on another CPU */
	struct vq *v;
	int need = n ? 3 : 2;

	if (!base || (op != 4 && sector + n > capacity))
		return -1;
	v = &vqs[c->id % nq];
	while (v->nfree < need) {
		desc_waiters[ndesc_waiters++] = me;
		block_io();
	}
	u16 d0 = desc_get(v), d1 = n ? desc_get(v) : 0, d2 = desc_get(v);
	struct req req, *r = &req;
	v->reqs[d0] = r;
	r->hdr.type = op;
	r->hdr.ioprio = me->pid + 1;	/* ground truth for the backend's oracle */
	r->hdr.sector = sector;
	r->status = 0xff;
	r->done = false;
	r->waiter = me;
	r->id = ++stat_disk_sub;
	desc_chain(v, d0, (u64)&r->hdr, 16, 1, n ? d1 : d2);
	if (n)
		desc_chain(v, d1, (u64)buf, n * 512, 1 | (op == 0 ? 2 : 0), d2);
	desc_chain(v, d2, (u64)&r->status, 1, 2, 0);
	v->avail[2 + v->avail[1] % v->num] = d0;
	barrier();	/* x86 keeps stores in order: ring entry, idx, doorbell */
	v->avail[1]++;
	barrier();
	klog("AF DISK t=%lu cpu=%d pid=%d q=%d op=%c sector=%lu n=%u id=%lu", now_ns(), this_cpu()->id,
	     me->pid, (int)(v - vqs), op == 0 ? 'R' : op == 1 ? 'W' : 'F', sector, n, r->id);
	wr(VM_QNOTIFY, v - vqs);
	while (!r->done)
		block_io();
	klog("AF DISKDONE t=%lu cpu=%d pid=%d id=%lu status=%u", now_ns(), this_cpu()->id,
	     me->pid, r->id, r->status);
	if (r->status)
		stat_disk_err++;
	return r->status ? -1 : 0;
}

static void vq_reap(struct vq *v)
{
	while (v->last_used != v->used[1]) {
		struct used_elem *e = (struct used_elem *)(v->used + 2) + v->last_used % v->num;
		u16 d = e->id, k = 1;
		struct req *r = d < v->num ? v->reqs[d] : NULL;
		v->last_used++;
		if (!r) {
			klog("AF DISKERR msg=device completed unknown descriptor %u", d);
			stat_disk_err++;
			continue;
		}
		v->reqs[d] = NULL;
		while (v->desc[d].flags & 1)		/* return the chain */
			d = v->desc[d].next, k++;
		v->desc[d].next = v->free_head;
		v->free_head = e->id;
		v->nfree += k;
		r->done = true;
		stat_disk_done++;
		if (r->waiter->state == T_IO)
			ready(r->waiter);
	}
}

void vblk_irq(void)
{
	if (!base)
		return;
	wr(VM_ISRACK, rd(VM_ISR));
	for (int q = 0; q < nq; q++)
		vq_reap(&vqs[q]);
	while (ndesc_waiters)
		ready(desc_waiters[--ndesc_waiters]);
}
