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
	u32 id;
	int op, pid;
	u64 sector;
	void *buf;
	u32 n;
	struct req *next;	/* submit=kworker queue */
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
static u64 io_t0;		/* first request: runtime= counts from here */

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

/*
 * The DISK and DISKDONE lines.  Under KVM every byte written to the debug
 * console is an exit to the VMM (tens of microseconds) and formatting a line
 * is a thousand emulated instructions, so two lines per request would be
 * most of a reader's think time.  disklog=disk keeps each line's values in
 * a table instead (struct dlog_rec, 32 bytes, little-endian, the layout
 * tests/guest/README.md gives), and init writes the table to the last
 * sectors of the disk when the workload is done (vblk_log_dump), announced
 * by an AF DISKLOG line.  Those requests are not in the table.
 */
struct dlog_rec {
	u64 t, sector;
	u32 id;
	u16 pid;
	u8 cpu, q, op, n, status, flags;	/* DLOG_* */
	u8 pad[4];
};
_Static_assert(sizeof(struct dlog_rec) == 32, "dlog_rec layout");
#define DLOG_DONE	1
#define DLOG_KWORKER	2
#define DLOG_MAX	65536

static struct dlog_rec dlog[DLOG_MAX] __attribute__((aligned(PAGE)));
static unsigned dlog_n;
static u64 dlog_lost;
static bool dlog_off;		/* dumping: the dump's own requests are not logged */

static void dlog_print(const struct dlog_rec *e)
{
	if (e->flags & DLOG_DONE)
		klog("AF DISKDONE t=%lu cpu=%d pid=%d id=%u status=%u", e->t, e->cpu, e->pid, e->id,
		     e->status);
	else
		klog("AF DISK t=%lu cpu=%d pid=%d q=%d op=%c sector=%lu n=%u id=%u%s", e->t, e->cpu,
		     e->pid, e->q, e->op == 0 ? 'R' : e->op == 1 ? 'W' : 'F', e->sector, e->n,
		     e->id, e->flags & DLOG_KWORKER ? " by=kworker" : "");
}

static void disk_log(const struct req *r, int q, bool done, bool by_kworker)
{
	struct dlog_rec e = { .t = now_ns(), .sector = r->sector, .id = r->id, .n = r->n,
			      .pid = r->pid, .cpu = this_cpu()->id, .q = q, .op = r->op,
			      .status = r->status,
			      .flags = (done ? DLOG_DONE : 0) | (by_kworker ? DLOG_KWORKER : 0) };

	if (dlog_off)
		return;
	if (!cfg.disklog_disk)
		dlog_print(&e);
	else if (dlog_n < DLOG_MAX)
		dlog[dlog_n++] = e;
	else
		dlog_lost++;
}

/* What is left in the table goes to the console (a panic, no dump). */
void vblk_log_flush(void)
{
	for (unsigned i = 0; i < dlog_n; i++)
		dlog_print(&dlog[i]);
	dlog_n = 0;
}

/* disklog=disk: the table to the disk's last sectors, 64 KiB per request;
 * called by init (a task: it blocks) once the workload is done. */
long vblk_log_dump(void)
{
	u64 bytes = ((u64)dlog_n * sizeof(struct dlog_rec) + PAGE - 1) & ~(PAGE - 1);
	u64 first = (capacity - bytes / 512) & ~7UL;
	long r = 0;

	if (!cfg.disklog_disk || !base)
		return 0;
	if (bytes / 512 + 8 > capacity)
		return -1;
	dlog_off = true;
	for (u64 off = 0; off < bytes && !r; off += 65536) {
		u64 len = bytes - off < 65536 ? bytes - off : 65536;
		r = vblk_rw(1, first + off / 512, (u8 *)dlog + off, len / 512);
	}
	if (!r)
		r = vblk_rw(4, 0, NULL, 0);
	dlog_off = false;
	klog("AF DISKLOG t=%lu sector=%lu records=%u recsize=%u lost=%lu status=%s", now_ns(),
	     first, dlog_n, (unsigned)sizeof(struct dlog_rec), dlog_lost, r ? "error" : "ok");
	if (!r)
		dlog_n = 0;
	return r;
}

/* Takes need descriptors of v, blocking the current task until there are. */
static void desc_wait(struct vq *v, int need)
{
	while (v->nfree < need) {
		desc_waiters[ndesc_waiters++] = this_cpu()->cur;
		block_io();
	}
}

/* Puts r on v's avail ring (no doorbell yet) and logs it. */
static void vq_add(struct vq *v, struct req *r, bool by_kworker)
{
	int need = r->n ? 3 : 2;

	desc_wait(v, need);
	u16 d0 = desc_get(v), d1 = r->n ? desc_get(v) : 0, d2 = desc_get(v);
	v->reqs[d0] = r;
	r->hdr.type = r->op;
	r->hdr.ioprio = r->pid + 1;	/* ground truth for the backend's oracle */
	r->hdr.sector = r->sector;
	r->status = 0xff;
	r->done = false;
	r->id = dlog_off ? 0 : ++stat_disk_sub;	/* the log dump is not counted */
	if (!io_t0)
		io_t0 = now_ns();
	desc_chain(v, d0, (u64)&r->hdr, 16, 1, r->n ? d1 : d2);
	if (r->n)
		desc_chain(v, d1, (u64)r->buf, r->n * 512, 1 | (r->op == 0 ? 2 : 0), d2);
	desc_chain(v, d2, (u64)&r->status, 1, 2, 0);
	v->avail[2 + v->avail[1] % v->num] = d0;
	barrier();	/* x86 keeps stores in order: ring entry, idx, doorbell */
	v->avail[1]++;
	barrier();
	disk_log(r, v - vqs, false, by_kworker);
}

static void vq_kick(struct vq *v)
{
	wr(VM_QNOTIFY, v - vqs);
}

/*
 * submit=kworker: the I/O kernel thread submits the requests processes
 * queue, like a block layer that dispatches from a worker.  A kernel thread
 * keeps whatever CR3 was loaded (lazy TLB), so the host sees the doorbell
 * written in the address space of the last process that ran on that vCPU;
 * with kdelay= it first waits, so one kick may carry several processes'
 * requests.
 */
static struct req *kio_head, *kio_tail;
static struct task *kio_task;
static bool kio_idle;
u64 stat_kio_batches;

static void kio_main(void *arg)
{
	for (;;) {
		while (!kio_head) {
			kio_idle = true;
			block_io();
		}
		kio_idle = false;
		if (cfg.kdelay_ms)
			sleep_until(now_ns() + (u64)cfg.kdelay_ms * 1000000UL);
		struct req *batch = kio_head;
		kio_head = kio_tail = NULL;
		struct vq *v = &vqs[this_cpu()->id % nq];
		stat_kio_batches++;
		for (struct req *r = batch, *next; r; r = next) {
			next = r->next;
			vq_add(v, r, true);
		}
		vq_kick(v);
	}
}

void vblk_kio_start(void)
{
	kio_task = kthread_new("kblockd", kio_main, NULL);
	ready(kio_task);
}

static void kio_queue(struct req *r)
{
	r->next = NULL;
	if (kio_tail)
		kio_tail->next = r;
	else
		kio_head = r;
	kio_tail = r;
	if (kio_idle && kio_task->state == T_IO) {
		kio_idle = false;
		ready(kio_task);
	}
}

bool vblk_run_over(void)
{
	return cfg.runtime_ms && io_t0 && now_ns() - io_t0 > (u64)cfg.runtime_ms * 1000000UL;
}

/* op: 0 read, 1 write, 4 flush.  Blocks the caller; returns 0 or -1. */
long vblk_rw(int op, u64 sector, void *buf, u32 n)
{
	struct cpu *c = this_cpu();
	struct task *me = c->cur;	/* after blocking we may resume on another CPU */
	struct req req = { .op = op, .sector = sector, .buf = buf, .n = n, .pid = me->pid,
			   .waiter = me }, *r = &req;

	if (!base || (op != 4 && sector + n > capacity))
		return -1;
	if (cfg.submit_kworker && kio_task) {
		r->status = 0xff;
		kio_queue(r);
	} else {
		struct vq *v = &vqs[c->id % nq];

		vq_add(v, r, false);
		vq_kick(v);
	}
	while (!r->done)
		block_io();
	disk_log(r, 0, true, false);
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
		stat_disk_done += r->id != 0;
		if (r->waiter->state == T_IO)
			ready(r->waiter);
	}
}

void vblk_irq(void)
{
	if (!base)
		return;
	/* ack both causes unread: reading the status first would be one
	 * more exit to the VMM per interrupt, and a config change means
	 * nothing to this driver */
	wr(VM_ISRACK, 3);
	for (int q = 0; q < nq; q++)
		vq_reap(&vqs[q]);
	while (ndesc_waiters)
		ready(desc_waiters[--ndesc_waiters]);
}
