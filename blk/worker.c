// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The data path.  One worker thread per group of queues, each with its own
 * io_uring, which is also its only event loop: kick eventfds, the control
 * eventfd, scheduler timers and disk I/O all complete as CQEs.  One loop
 * iteration: submit + wait, handle completions, pop newly available
 * requests into the scheduler, dispatch what the scheduler releases,
 * publish used entries and notify (eventfd writes go through the ring too).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/eventfd.h>
#include <limits.h>
#include "dev.h"
#include "fault.h"
#include "tags.h"

uint64_t (*vub_delay_hook)(void *ctx, const struct af_sched_req *r, uint64_t now);
void *vub_delay_ctx;

enum { UD_IO = 0, UD_KICK = 1, UD_CTL = 2, UD_TIMER = 3, UD_IGNORE = 4, UD_DELAY = 5 };
#define UD_TYPE(u) ((u) & 7)
#define UD_PTR(u) ((void *)(uintptr_t)((u) & ~(uint64_t)63))
#define UD_KICK_TAG(qi, gen) (((uint64_t)(qi) << 40) | ((uint64_t)(gen) << 8) | UD_KICK)

static const uint64_t call_value = 1;

static struct io_uring_sqe *get_sqe(struct vub_worker *w)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&w->ring);

	while (!sqe) {
		io_uring_submit(&w->ring);
		sqe = io_uring_get_sqe(&w->ring);
	}
	return sqe;
}

static void *sched_of(struct vub_queue *q)
{
	return q->w->sched ? q->w->sched : q->sched;
}

static void arm_kick(struct vub_worker *w, struct vub_queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	io_uring_prep_read(sqe, q->kickfd, &q->kick_buf, sizeof(q->kick_buf), 0);
	q->armed_gen = ++q->kick_gen;
	io_uring_sqe_set_data64(sqe, UD_KICK_TAG(q->index, q->armed_gen));
	q->kick_armed = true;
	q->armed_seq = q->kick_seq;
}

static void cancel_kick(struct vub_worker *w, struct vub_queue *q)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	io_uring_prep_cancel64(sqe, UD_KICK_TAG(q->index, q->armed_gen), 0);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
	q->kick_armed = false;
}

static void arm_ctl(struct vub_worker *w)
{
	struct io_uring_sqe *sqe = get_sqe(w);

	io_uring_prep_read(sqe, w->ctl_efd, &w->ctl_buf, sizeof(w->ctl_buf), 0);
	io_uring_sqe_set_data64(sqe, UD_CTL);
}

/* ---- completion into the used ring ---- */

static void account(struct vub_queue *q, struct blk_req *r, uint64_t now)
{
	struct vub_qstats *s = &q->st;

	STAT_ADD(s->requests, 1);
	switch (r->io.op) {
	case AF_OP_READ:
		STAT_ADD(s->reads, 1);
		if (r->io.status == VIRTIO_BLK_S_OK)
			STAT_ADD(s->bytes_read, r->io.len);
		break;
	case AF_OP_WRITE:
		STAT_ADD(s->writes, 1);
		if (r->io.status == VIRTIO_BLK_S_OK)
			STAT_ADD(s->bytes_written, r->io.len);
		break;
	case AF_OP_FLUSH: STAT_ADD(s->flushes, 1); break;
	case AF_OP_DISCARD: STAT_ADD(s->discards, 1); break;
	case AF_OP_WRITE_ZEROES: STAT_ADD(s->write_zeroes, 1); break;
	default: STAT_ADD(s->others, 1); break;
	}
	if (r->io.status == VIRTIO_BLK_S_IOERR)
		STAT_ADD(s->errors, 1);
	else if (r->io.status == VIRTIO_BLK_S_UNSUPP)
		STAT_ADD(s->unsupported, 1);
	STAT_ADD(s->lat_hist[stats_bucket(now - r->sr.t_arrive)], 1);
}

/* The status byte and the used entry: guest memory, which may be gone. */
static void push_used(struct vub_queue *q, struct blk_req *r)
{
	struct vub_guard g;

	vub_guard_push(&g);
	if (sigsetjmp(g.env, 0) == 0) {
		*r->io.status_ptr = r->io.status;
		vq_push(&q->vq, r->head, r->io.status == VIRTIO_BLK_S_OK ? r->io.used_len : 1);
		vub_guard_pop(&g);
	} else {
		vub_guard_pop(&g);
		worker_mem_fault(q->w);
	}
}

static void complete(struct vub_queue *q, struct blk_req *r, uint64_t now)
{
	/* a request from before a ring stop/restart must not touch the new
	 * ring, nor one whose memory went away */
	if (r->gen == q->gen && !q->vq.faulted)
		push_used(q, r);
	account(q, r, now);
	vub_mem_put(r->mem);
	r->mem = NULL;
	r->busy = false;
	__atomic_store_n(&q->inflight, q->inflight - 1, __ATOMIC_RELEASE);
}

/* ---- submission ---- */

static void prep_rw(struct vub_worker *w, struct io_uring_sqe *sqe, struct blk_req *r)
{
	struct vub_dev *d = w->dev;

	if (r->io.op == AF_OP_READ) {
		io_uring_prep_readv(sqe, 0, r->io.data, r->io.ndata, r->io.offset + r->done);
	} else {
		io_uring_prep_writev(sqe, 0, r->io.data, r->io.ndata, r->io.offset + r->done);
		if (!d->wce)
			sqe->rw_flags = RWF_DSYNC;	/* write-through cache mode */
	}
	sqe->flags |= IOSQE_FIXED_FILE;
}

static int wz_mode(const struct blk_req *r)
{
	bool punch = r->io.unmap ^ (r->phase == 1);

	return (punch ? FALLOC_FL_PUNCH_HOLE : FALLOC_FL_ZERO_RANGE) | FALLOC_FL_KEEP_SIZE;
}

static void on_io(struct vub_worker *w, struct blk_req *r, int res);

/*
 * Reads and writes of a file in tmpfs are memory copies that never wait
 * for a disk, but tmpfs cannot do them non-blocking, so io_uring would
 * hand every one to a kernel worker thread (two extra context switches
 * per request).  At queue depth 1 they are done here, in the worker.
 */
static bool memcopy_io(struct vub_worker *w, struct blk_req *r)
{
	off_t off = r->io.offset + r->done;
	ssize_t n;

	unsigned busy = 0;

	if (!w->dev->mem_file || (r->io.op != AF_OP_READ && r->io.op != AF_OP_WRITE) ||
	    w->submitted)
		return false;
	/* only when it is the worker's one request: a deeper queue is faster
	 * with io_uring's threads copying in parallel */
	for (unsigned i = 0; i < w->nq && busy < 2; i++)
		busy += w->queues[i]->inflight;
	if (busy > 1)
		return false;
	if (r->io.op == AF_OP_READ)
		n = preadv2(w->dev->disk_fd, r->io.data, r->io.ndata, off, 0);
	else
		n = pwritev2(w->dev->disk_fd, r->io.data, r->io.ndata, off,
			     w->dev->wce ? 0 : RWF_DSYNC);
	w->submitted++;
	on_io(w, r, n < 0 ? -errno : (int)n);
	return true;
}

static void submit_io(struct vub_worker *w, struct blk_req *r)
{
	struct io_uring_sqe *sqe;

	if (memcopy_io(w, r))
		return;
	sqe = get_sqe(w);

	switch (r->io.op) {
	case AF_OP_READ:
	case AF_OP_WRITE:
		prep_rw(w, sqe, r);
		break;
	case AF_OP_FLUSH:
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		sqe->flags |= IOSQE_FIXED_FILE;
		break;
	case AF_OP_DISCARD:
		io_uring_prep_fallocate(sqe, 0, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					r->io.offset, r->io.len);
		sqe->flags |= IOSQE_FIXED_FILE;
		break;
	case AF_OP_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, 0, wz_mode(r), r->io.offset, r->io.len);
		sqe->flags |= IOSQE_FIXED_FILE;
		break;
	}
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)r | UD_IO);
	w->submitted++;
}

static void dispatch_one(struct vub_worker *w, struct af_sched_req *sr, uint64_t now)
{
	struct blk_req *r = sr->priv;

	sr->t_dispatch = now;
	r->hold_until = vub_delay_hook ? now + vub_delay_hook(vub_delay_ctx, sr, now) : 0;
	submit_io(w, r);
}

static void arm_wake(struct vub_worker *w, uint64_t wake)
{
	struct io_uring_sqe *sqe;

	if (w->armed_wake && w->armed_wake <= wake && w->armed_wake > af_now_ns())
		return;
	w->armed_wake = wake;
	w->wake_ts.tv_sec = wake / 1000000000ull;
	w->wake_ts.tv_nsec = wake % 1000000000ull;
	sqe = get_sqe(w);
	io_uring_prep_timeout(sqe, &w->wake_ts, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, UD_TIMER);
}

/* Issues up to 'budget' requests from one scheduler instance while the
 * device has room; returns how many. */
static unsigned dispatch_sched(struct vub_worker *w, void *s, unsigned budget)
{
	const struct af_sched_ops *ops = w->dev->sched_ops;
	uint32_t max = w->dev->sched_conf.max_inflight;
	unsigned n = 0;

	while (n < budget) {
		uint64_t now = af_now_ns(), wake = 0;
		struct af_sched_req *sr;

		if (max && w->submitted >= max)
			break;
		sr = ops->next(s, now, &wake);
		if (!sr) {
			if (wake)
				arm_wake(w, wake);
			break;
		}
		dispatch_one(w, sr, now);
		n++;
	}
	return n;
}

/*
 * Per-queue schedulers share the device depth (max_inflight, 1 with the
 * HDD model): offer it one request per queue in turn, starting after the
 * queue served last, or queue 0 would keep a shallow device to itself.
 */
static void dispatch_all(struct vub_worker *w)
{
	unsigned got;

	if (w->sched) {
		dispatch_sched(w, w->sched, UINT_MAX);
		return;
	}
	if (!w->dev->sched_conf.max_inflight) {
		for (unsigned i = 0; i < w->nq; i++)
			dispatch_sched(w, w->queues[i]->sched, UINT_MAX);
		return;
	}
	do {
		got = 0;
		for (unsigned k = 0; k < w->nq; k++) {
			unsigned i = (w->rr + k) % w->nq;

			if (dispatch_sched(w, w->queues[i]->sched, 1)) {
				got++;
				w->rr = (i + 1) % w->nq;
			}
		}
	} while (got);
}

/* ---- avail ring ---- */

static void queue_broken(struct vub_queue *q, int err)
{
	if (!q->vq.broken)
		log_warnx("queue %u: %s; queue stopped (device needs reset)", q->index,
			  vq_err_str(err));
	q->vq.broken = true;
	STAT_ADD(q->st.errors, 1);
}

/* Takes one head into a request: parse, then finish or hand to the scheduler. */
static void take_head(struct vub_worker *w, struct vub_queue *q, uint16_t head, uint64_t now)
{
	struct vub_dev *d = w->dev;
	struct blk_req *r;
	unsigned n_out, n_in;
	int err, rc;

	if (head >= q->vq.num) {
		queue_broken(q, VQ_E_HEAD);
		return;
	}
	r = &q->slots[head];
	if (r->busy) {
		queue_broken(q, VQ_E_DUP);
		return;
	}
	err = vq_parse_chain(q->ring_mem, q->vq.desc, q->vq.num, head, q->vq.indirect,
			     r->iov, VUB_MAX_IOV, &n_out, &n_in);
	if (err) {
		queue_broken(q, err);
		return;
	}
	vq_inflight_begin(&q->vq, head);
	rc = blk_req_parse(&r->io, r->iov, n_out, n_in, &d->disk);
	if (rc < 0) {
		log_warnx("queue %u: request without header or status byte", q->index);
		queue_broken(q, VQ_E_ADDR);
		return;
	}
	r->q = q;
	r->head = head;
	r->gen = q->gen;
	r->busy = true;
	r->done = 0;
	r->phase = 0;
	r->mem = vub_mem_get(q->ring_mem);
	memset(&r->sr, 0, sizeof(r->sr));
	r->sr.t_arrive = now;
	r->sr.op = r->io.op;
	r->sr.queue = q->index;
	r->sr.priv = r;
	__atomic_store_n(&q->inflight, q->inflight + 1, __ATOMIC_RELAXED);
	if (rc == 0 || (r->io.len == 0 && r->io.op <= AF_OP_WRITE)) {
		complete(q, r, now);
		return;
	}
	r->sr.sector = r->io.offset / BLK_SECTOR;
	r->sr.nsect = r->io.len / BLK_SECTOR;
	r->sr.proc = tags_proc(d, q, r);
	tags_log(d, q, r, now);
	d->sched_ops->add(sched_of(q), &r->sr, now);
}

/*
 * Takes what the driver made available.  At most one ring's worth per
 * call: requests that complete at once (errors, GET_ID) free their slots
 * immediately, and a driver refilling as fast as we pop must not keep the
 * worker from its completions and its other queues.
 */
static void process_avail(struct vub_worker *w, struct vub_queue *q)
{
	uint64_t now = af_now_ns();
	unsigned budget = q->vq.num;

	q->kicked = false;
	do {
		int n = vq_avail_count(&q->vq);

		if (n < 0) {
			queue_broken(q, n);
			return;
		}
		while (n-- > 0 && !q->vq.broken && budget) {
			take_head(w, q, vq_pop_head(&q->vq), now);
			budget--;
		}
		if (q->vq.broken)
			return;
		if (!budget) {
			q->kicked = true;	/* the rest in the next iteration */
			return;
		}
	} while (vq_arm_kick(&q->vq));
}

static void publish(struct vub_worker *w, struct vub_queue *q)
{
	struct io_uring_sqe *sqe;

	if (!q->vq.used || q->vq.faulted || !vq_publish(&q->vq) || q->callfd < 0)
		return;
	sqe = get_sqe(w);
	io_uring_prep_write(sqe, q->callfd, &call_value, sizeof(call_value), 0);
	io_uring_sqe_set_data64(sqe, UD_IGNORE);
}

/* ---- completions ---- */

static bool io_continue(struct vub_worker *w, struct blk_req *r, int res)
{
	if (r->io.op == AF_OP_WRITE_ZEROES && (res == -EOPNOTSUPP || res == -EINVAL) &&
	    r->phase == 0) {
		r->phase = 1;	/* tmpfs has no ZERO_RANGE; a hole reads as zeroes */
		submit_io(w, r);
		return true;
	}
	if (r->io.op == AF_OP_DISCARD && res == -EOPNOTSUPP)
		return false;	/* discard is advisory */
	if ((r->io.op == AF_OP_READ || r->io.op == AF_OP_WRITE) && res > 0 &&
	    r->done + res < r->io.len) {
		r->done += res;
		r->io.ndata = iov_trim_front(&r->io.data, r->io.ndata, res);
		submit_io(w, r);
		return true;
	}
	return false;
}

static void finish(struct vub_worker *w, struct blk_req *r, uint64_t now)
{
	struct vub_queue *q = r->q;

	w->dev->sched_ops->done(sched_of(q), &r->sr, now);
	complete(q, r, now);
}

static void on_io(struct vub_worker *w, struct blk_req *r, int res)
{
	uint64_t now;

	w->submitted--;
	if (io_continue(w, r, res))
		return;		/* resubmitted: submit_io() counted it again */
	if (res < 0 && !(r->io.op == AF_OP_DISCARD && res == -EOPNOTSUPP)) {
		r->io.status = VIRTIO_BLK_S_IOERR;
		if (log_verbose() > 1)
			log_debug("queue %u head %u: %s", r->q->index, r->head, strerror(-res));
	} else if ((r->io.op == AF_OP_READ || r->io.op == AF_OP_WRITE) && res == 0) {
		r->io.status = VIRTIO_BLK_S_IOERR;	/* EOF: the file shrank */
	}
	now = af_now_ns();
	if (r->hold_until > now) {
		struct io_uring_sqe *sqe = get_sqe(w);

		r->ts.tv_sec = r->hold_until / 1000000000ull;
		r->ts.tv_nsec = r->hold_until % 1000000000ull;
		io_uring_prep_timeout(sqe, &r->ts, 0, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)r | UD_DELAY);
		w->submitted++;
		return;
	}
	finish(w, r, now);
}

static void on_kick(struct vub_worker *w, uint64_t ud, int res)
{
	unsigned qi = ud >> 40;
	uint32_t gen = (ud >> 8) & 0xffffffffu;
	struct vub_queue *q = &w->dev->q[qi];

	if (qi >= w->dev->nqueues || q->w != w || !q->kick_armed || q->armed_gen != gen)
		return;		/* stale: the ring was restarted or the fd replaced */
	q->kick_armed = false;
	if (!q->started)
		return;
	if (res == 0) {
		/* EOF: not an eventfd or pipe we can wait on; re-arming would spin */
		log_warnx("queue %u: kick fd reached end of file; no more kicks", qi);
		return;
	}
	if (res > 0)
		tags_kick(q, af_now_ns());
	if (res > 0 || res == -EINTR || res == -EAGAIN)
		q->kicked = true;
	else
		log_warnx("queue %u: kick read failed: %s", qi, strerror(-res));
	if (res != -EBADF)
		arm_kick(w, q);
}

static void take_exits(struct vub_worker *w)
{
	uint64_t exits[64];
	unsigned n;
	const struct af_sched_ops *ops = w->dev->sched_ops;

	pthread_mutex_lock(&w->mu);
	n = w->n_exits;
	memcpy(exits, w->exits, n * sizeof(exits[0]));
	w->n_exits = 0;
	pthread_mutex_unlock(&w->mu);
	if (!ops->proc_exit)
		return;
	for (unsigned i = 0; i < n; i++) {
		uint64_t now = af_now_ns();

		if (w->sched)
			ops->proc_exit(w->sched, exits[i], now);
		else
			for (unsigned k = 0; k < w->nq; k++)
				ops->proc_exit(w->queues[k]->sched, exits[i], now);
	}
}

static void handle_cqe(struct vub_worker *w, struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;

	switch (UD_TYPE(ud)) {
	case UD_IO:
		on_io(w, UD_PTR(ud), cqe->res);
		break;
	case UD_DELAY:
		w->submitted--;
		finish(w, UD_PTR(ud), af_now_ns());
		break;
	case UD_KICK:
		on_kick(w, ud, cqe->res);
		break;
	case UD_CTL:
		take_exits(w);
		arm_ctl(w);
		break;
	case UD_TIMER:
		if (w->armed_wake && w->armed_wake <= af_now_ns())
			w->armed_wake = 0;
		break;
	}
}

/* ---- control: pause/resume and state sync ---- */

static void resubmit(struct vub_worker *w, struct vub_queue *q)
{
	uint64_t now = af_now_ns();

	if (q->n_resubmit)
		log_info("queue %u: resubmitting %u inflight requests", q->index, q->n_resubmit);
	for (unsigned i = 0; i < q->n_resubmit && !q->vq.broken; i++)
		take_head(w, q, q->resubmit[i].head, now);
	q->n_resubmit = 0;
}

/* After the main thread changed queue state: follow it. */
static void sync_queues(struct vub_worker *w)
{
	for (unsigned i = 0; i < w->nq; i++) {
		struct vub_queue *q = w->queues[i];
		bool want = q->started && q->kickfd >= 0;

		if (q->kick_armed && (!want || q->armed_seq != q->kick_seq))
			cancel_kick(w, q);
		if (want && !q->kick_armed) {
			arm_kick(w, q);
			resubmit(w, q);
			q->kicked = true;	/* pick up what came while we were away */
		}
	}
}

static void maybe_pause(struct vub_worker *w)
{
	bool paused = false;

	pthread_mutex_lock(&w->mu);
	if (w->pause_req) {
		w->paused = paused = true;
		pthread_cond_broadcast(&w->cv);
		while (w->pause_req && !w->exit_req)
			pthread_cond_wait(&w->cv, &w->mu);
		w->paused = false;
	}
	pthread_mutex_unlock(&w->mu);
	if (paused)
		sync_queues(w);
}

static void signal_drained(struct vub_worker *w)
{
	bool any = false;

	for (unsigned i = 0; i < w->nq; i++)
		if (w->queues[i]->stopping && w->queues[i]->inflight == 0)
			any = true;
	if (any) {
		pthread_mutex_lock(&w->mu);
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
	}
}

static int setup_ring(struct vub_worker *w)
{
	static const unsigned flag_sets[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN, 0,
	};
	unsigned entries = 64;
	int err = -EINVAL;

	while (entries < w->nq * w->dev->max_qsize + 64 && entries < 4096)
		entries *= 2;
	for (unsigned i = 0; i < 3; i++) {
		err = io_uring_queue_init(entries, &w->ring, flag_sets[i]);
		if (err == 0)
			break;
	}
	if (err)
		return err;
	return io_uring_register_files(&w->ring, &w->dev->disk_fd, 1);
}

/*
 * Bounded polling (--poll-us): before sleeping, watch the avail rings for
 * a while.  A driver that submits its next request soon after a
 * completion is then served without the kick's wake-up.  Returns true if
 * a queue has new entries.
 */
static bool poll_avail(struct vub_worker *w)
{
	uint64_t until = af_now_ns() + (uint64_t)w->dev->poll_us * 1000;
	unsigned spins = 0;

	io_uring_submit(&w->ring);
	do {
		for (unsigned i = 0; i < w->nq; i++) {
			struct vub_queue *q = w->queues[i];

			if (q->started && !q->vq.broken &&
			    __atomic_load_n(&q->vq.avail->idx, __ATOMIC_ACQUIRE) != q->vq.last_avail) {
				q->kicked = true;
				return true;
			}
		}
		if (io_uring_cq_ready(&w->ring) ||
		    __atomic_load_n(&w->pause_req, __ATOMIC_RELAXED))
			return false;
		__builtin_ia32_pause();
	} while ((++spins & 63) || af_now_ns() < until);
	return false;
}

void worker_mem_fault(struct vub_worker *w)
{
	struct vub_dev *d = w->dev;
	uint64_t one = 1;

	for (unsigned i = 0; i < w->nq; i++) {
		w->queues[i]->vq.faulted = true;
		w->queues[i]->vq.broken = true;
	}
	if (!__atomic_exchange_n(&d->mem_faulted, 1, __ATOMIC_ACQ_REL) &&
	    write(d->fault_efd, &one, sizeof(one)) != sizeof(one))
		log_warn("worker %u: fault eventfd", w->id);
}

/* One turn; CQEs are consumed before they are handled, so a turn cut
 * short by a fault (loop_once) never handles one twice. */
static void loop_body(struct vub_worker *w)
{
	struct io_uring_cqe *cqe;
	bool more = false;

	for (unsigned i = 0; i < w->nq; i++)
		more |= w->queues[i]->kicked && w->queues[i]->started && !w->queues[i]->holding;
	if (more || (w->dev->poll_us && poll_avail(w)))
		io_uring_submit_and_get_events(&w->ring);	/* work waits: no sleep */
	else
		io_uring_submit_and_wait(&w->ring, 1);
	while (io_uring_peek_cqe(&w->ring, &cqe) == 0) {
		struct io_uring_cqe c = *cqe;

		io_uring_cqe_seen(&w->ring, cqe);
		handle_cqe(w, &c);
	}
	if (__atomic_load_n(&w->pause_req, __ATOMIC_ACQUIRE))
		maybe_pause(w);
	for (unsigned i = 0; i < w->nq; i++) {
		struct vub_queue *q = w->queues[i];
		uint64_t wake = 0;

		if (!q->kicked || !q->started || q->vq.broken)
			continue;
		if (tags_take_begin(w, q, &wake)) {
			process_avail(w, q);
			tags_take_end(w, q);
		} else {
			arm_wake(w, wake);	/* held for their hint until then */
		}
	}
	dispatch_all(w);
	for (unsigned i = 0; i < w->nq; i++)
		publish(w, w->queues[i]);
	signal_drained(w);
}

/* Everything a turn does to guest memory (the avail ring, chains,
 * headers, used ring, inflight region) runs under this guard. */
static void loop_once(struct vub_worker *w)
{
	struct vub_guard g;

	vub_guard_push(&g);
	if (sigsetjmp(g.env, 0) == 0) {
		loop_body(w);
		vub_guard_pop(&g);
	} else {
		vub_guard_pop(&g);
		worker_mem_fault(w);
	}
}

void *worker_main(void *arg)
{
	struct vub_worker *w = arg;
	int err = setup_ring(w);

	pthread_mutex_lock(&w->mu);
	w->ring_err = err;
	w->ready = true;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (err)
		return NULL;
	arm_ctl(w);
	while (!__atomic_load_n(&w->exit_req, __ATOMIC_ACQUIRE))
		loop_once(w);
	io_uring_queue_exit(&w->ring);
	return NULL;
}
