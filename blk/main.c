// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * antfarm-blk: vhost-user-blk backend.  main() parses the command line,
 * opens the disk, starts the workers and runs the control-plane epoll loop
 * (vhost-user socket, stats socket, hint socket, signals, 1 s tick).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/fs.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/timerfd.h>
#include "lib/num.h"
#include "lib/sock.h"
#include "dev.h"
#include "fault.h"
#include "hints.h"
#include "hdd.h"
#include "report.h"
#include "opts.h"
#include "lib/httpd.h"


enum { EV_LISTEN = 1, EV_CONN, EV_STATS, EV_STATS_OUT, EV_HINT_LISTEN, EV_HINT, EV_HINT_LEARN,
       EV_SIGNAL, EV_TICK, EV_METRICS, EV_FAULT };

/* No peer may hold the control loop: a vhost-user message must arrive
 * whole this soon after its first byte, a stats reader must take its
 * report this soon. */
#define MSG_DEADLINE_NS		1000000000ull
#define STATS_DEADLINE_NS	2000000000ull
#define STATS_PENDING		4	/* stats readers being written to at once */

struct stats_out {
	int fd;				/* -1: free */
	char *buf;
	size_t len, off;
	uint64_t deadline_ns;
};

struct mainloop {
	struct vub_dev *d;
	int ep, listen_fd, stats_fd, sig_fd, tick_fd;
	struct sock_listener vhu_l, stats_l;	/* what we listen on and must clean up */
	struct vhost_user_rx rx;		/* the front-end's message under way */
	struct stats_out stats_out[STATS_PENDING];
	struct vub_hints hints;
	struct httpd *httpd;		/* --metrics-listen */
	bool quit;
};

/*
 * One writer per disk image, or any number of readers: a record lock on
 * the whole file, a write lock unless --read-only.  It conflicts with the
 * locks QEMU takes on its images, so QEMU or qemu-storage-daemon opening
 * the image while we serve it is refused too (and the other way round).
 * A process lock (F_SETLK), not an open-file-description one: io_uring
 * holds the file after we exit until its ring is torn down, which would
 * keep an OFD lock for a while after an exit or a kill -9.
 */
static int lock_disk(int fd, const struct opts *o)
{
	struct flock fl = { .l_type = o->ro ? F_RDLCK : F_WRLCK, .l_whence = SEEK_SET };

	if (fcntl(fd, F_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		log_warnx("%s is in use by another process (it holds a lock on it); refusing "
			  "to serve it %s", o->disk, o->ro ? "while it is written" : "twice");
	else
		log_warn("%s: lock", o->disk);
	return -1;
}

static int open_disk(struct vub_dev *d, const struct opts *o)
{
	struct stat st;
	struct statfs sfs;
	uint64_t size;
	int flags = (o->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC | (o->direct ? O_DIRECT : 0);

	d->disk_fd = open(o->disk, flags);
	if (d->disk_fd < 0 || fstat(d->disk_fd, &st) < 0) {
		log_warn("%s", o->disk);
		return -1;
	}
	if (lock_disk(d->disk_fd, o) < 0)
		return -1;
	size = st.st_size;
	d->blk_size = BLK_SECTOR;
	d->phys_exp = 3;	/* 4 KiB physical blocks for files */
	if (S_ISBLK(st.st_mode)) {
		int lbs = 0, pbs = 0;

		if (ioctl(d->disk_fd, BLKGETSIZE64, &size) < 0) {
			log_warn("%s: BLKGETSIZE64", o->disk);
			return -1;
		}
		if (ioctl(d->disk_fd, BLKSSZGET, &lbs) == 0 && lbs >= 512)
			d->blk_size = lbs;
		if (ioctl(d->disk_fd, BLKPBSZGET, &pbs) == 0 && pbs >= (int)d->blk_size)
			d->phys_exp = __builtin_ctz(pbs / d->blk_size);
	} else if (!S_ISREG(st.st_mode)) {
		log_warnx("%s: not a regular file or block device", o->disk);
		return -1;
	}
	d->mem_file = S_ISREG(st.st_mode) && fstatfs(d->disk_fd, &sfs) == 0 &&
		      sfs.f_type == TMPFS_MAGIC;
	d->disk.capacity = size / BLK_SECTOR;
	d->disk.ro = o->ro;
	strncpy(d->disk.serial, o->serial ? o->serial : "antfarm-blk", sizeof(d->disk.serial));
	d->disk_path = o->disk;
	return 0;
}

static struct hdd_model hdd;

static uint64_t hdd_hook(void *ctx, const struct af_sched_req *r, uint64_t now)
{
	if (r->op != AF_OP_READ && r->op != AF_OP_WRITE)
		return 0;
	return hdd_delay_ns(ctx, now, r->sector, r->nsect, r->op == AF_OP_WRITE);
}

static int setup_hdd(struct vub_dev *d, unsigned scale)
{
	if (hdd_init(&hdd, &hdd_default_params, d->disk.capacity) < 0) {
		log_warnx("HDD model: unusable parameters");
		return -1;
	}
	hdd.time_scale = scale;
	/* one head: the model must see requests one at a time, in one thread */
	d->sched_conf.max_inflight = 1;
	d->nworkers = 1;
	vub_delay_hook = hdd_hook;
	vub_delay_ctx = &hdd;
	log_info("HDD model %s: device depth 1, time x %u", hdd_default_params.name, scale);
	return 0;
}

static int setup_dev(struct vub_dev *d, const struct opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	d->sched_ops = af_sched_find(o->sched ? o->sched : "fifo");
	if (!d->sched_ops) {
		log_warnx("unknown scheduler '%s' (see --help)", o->sched);
		return -1;
	}
	af_sched_conf_defaults(&d->sched_conf);
	d->sched_conf.nqueues = o->nqueues;
	if (opts_sched_conf(o, &d->sched_conf) < 0)
		return -1;
	if (o->time_scale > 1)
		af_sched_conf_scale(&d->sched_conf, o->time_scale);
	d->nqueues = o->nqueues;
	d->max_qsize = o->qsize;
	d->poll_us = o->poll_us;
	d->hint_wait_ns = (uint64_t)o->hint_wait_us * 1000;
	if (o->tag_log) {
		d->tag_log = fopen(o->tag_log, "we");
		if (!d->tag_log) {
			log_warn("--tag-log %s", o->tag_log);
			return -1;
		}
		setvbuf(d->tag_log, NULL, _IOFBF, 1 << 16);
	}
	d->oracle_ioprio = o->oracle || !strcmp(d->sched_ops->name, "oracle");
	d->direct = o->direct;
	d->wce = 1;
	d->conn = -1;
	/* a device-wide scheduler sees every queue: one thread owns the ring */
	d->nworkers = d->sched_ops->device_wide ? 1 :
		      (o->nqueues < (unsigned)(cpus > 0 ? cpus : 1) ? o->nqueues : (unsigned)cpus);
	if (o->hdd && setup_hdd(d, o->time_scale ? o->time_scale : 1) < 0)
		return -1;
	d->q = calloc(d->nqueues, sizeof(*d->q));
	d->w = calloc(d->nworkers, sizeof(*d->w));
	if (!d->q || !d->w)
		return -1;
	for (unsigned i = 0; i < d->nworkers; i++) {
		struct vub_worker *w = &d->w[i];

		w->id = i;
		w->dev = d;
		w->queues = calloc(d->nqueues, sizeof(*w->queues));
		if (!w->queues)
			return -1;
		if (i == 0 && d->sched_ops->device_wide &&
		    !(w->sched = d->sched_ops->create(&d->sched_conf)))
			return -1;
	}
	for (unsigned i = 0; i < d->nqueues; i++) {
		struct vub_queue *q = &d->q[i];
		struct vub_worker *w = &d->w[i % d->nworkers];

		q->index = i;
		q->kickfd = q->callfd = q->errfd = -1;
		q->w = w;
		w->queues[w->nq++] = q;
		if (!d->sched_ops->device_wide &&
		    !(q->sched = d->sched_ops->create(&d->sched_conf)))
			return -1;
	}
	for (unsigned i = 0; i < d->nworkers; i++) {
		int err = worker_start(&d->w[i]);

		if (err) {
			errno = -err;
			log_warn("worker %u: io_uring setup", i);
			return -1;
		}
	}
	log_info("%s: %llu sectors, %u queue(s) on %u thread(s), scheduler %s%s%s", d->disk_path,
		 (unsigned long long)d->disk.capacity, d->nqueues, d->nworkers, d->sched_ops->name,
		 d->direct ? ", OPT_DIRECT" : "", d->disk.ro ? ", read-only" : "");
	return 0;
}

/* Test knob: ANTFARM_BLK_TEST_HOLD_MS holds every completion that long
 * through the delay stage, so tests can kill the backend with requests
 * reliably in flight.  Not for production use. */
static uint64_t hold_ns;

static uint64_t hold_hook(void *ctx, const struct af_sched_req *r, uint64_t now)
{
	return hold_ns;
}

static void test_knobs(void)
{
	const char *s = getenv("ANTFARM_BLK_TEST_HOLD_MS");
	uint64_t ms;

	if (s && !parse_u64(s, 1, 3600000, &ms)) {
		hold_ns = ms * 1000000ull;
		vub_delay_hook = hold_hook;
		log_warnx("test knob: holding every completion for %s ms", s);
	}
}

/* lib/sock.h's policy: lock file, only a stale socket replaced, mode. */
static int listen_unix(struct sock_listener *l, const struct opts *o, const char *path,
		       const char *what)
{
	const struct sock_listen_opts lo = {
		.path = path, .type = SOCK_STREAM, .mode = o->socket_mode, .gid = o->socket_gid,
		.backlog = 8, .what = what,
	};
	char err[512];

	if (sock_listen(l, &lo, err, sizeof(err))) {
		log_warnx("%s", err);
		return -1;
	}
	return l->fd;
}

/* Stops the workers and frees what setup_dev() and the queues allocated. */
static void dev_free(struct vub_dev *d)
{
	for (unsigned i = 0; d->w && i < d->nworkers; i++) {
		struct vub_worker *w = &d->w[i];

		if (w->ready && !w->ring_err)
			worker_stop(w);
		if (w->sched)
			d->sched_ops->destroy(w->sched);
		free(w->queues);
	}
	for (unsigned i = 0; d->q && i < d->nqueues; i++) {
		if (d->q[i].sched)
			d->sched_ops->destroy(d->q[i].sched);
		free(d->q[i].slots);
		free(d->q[i].resubmit);
	}
	free(d->q);
	free(d->w);
	if (d->tag_log)
		fclose(d->tag_log);
	if (d->disk_fd >= 0)
		close(d->disk_fd);
	if (d->fault_efd >= 0)
		close(d->fault_efd);
}

static void ep_add_ev(struct mainloop *m, int fd, uint32_t type, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)type << 32 | (uint32_t)fd };

	if (epoll_ctl(m->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		log_warn("epoll_ctl add %d", fd);
}

static void ep_add(struct mainloop *m, int fd, uint32_t type)
{
	ep_add_ev(m, fd, type, EPOLLIN);
}

static void ep_del(struct mainloop *m, int fd)
{
	epoll_ctl(m->ep, EPOLL_CTL_DEL, fd, NULL);
}

static void conn_accept(struct mainloop *m)
{
	struct vub_dev *d = m->d;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	d->peer_pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? cred.pid : 0;
	d->conn = fd;
	ep_del(m, m->listen_fd);
	ep_add(m, fd, EV_CONN);
	log_info("front-end connected (pid %d)", (int)d->peer_pid);
	hints_announce(&m->hints, d, false);
}

static void conn_close(struct mainloop *m)
{
	struct vub_dev *d = m->d;

	ep_del(m, d->conn);
	close(d->conn);
	d->conn = -1;
	vhost_user_rx_reset(&m->rx);
	vub_conn_reset(d);
	d->peer_pid = 0;
	hints_reset(d->hints);	/* the next front-end is another VM */
	if (d->tag_log)
		fflush(d->tag_log);	/* that VM's requests are all there now */
	hints_announce(&m->hints, d, false);
	if (m->listen_fd >= 0)
		ep_add(m, m->listen_fd, EV_LISTEN);
	log_info("front-end disconnected; waiting for the next one");
}

/* Handlers touch guest memory and the inflight region (ring indices at
 * start, inflight recovery): a SIGBUS there fails the connection.  A
 * handler cut short may have left a worker paused: resume them all. */
static bool handle_guarded(struct mainloop *m)
{
	struct vub_dev *d = m->d;
	struct vub_guard g;
	bool ok;

	vub_guard_push(&g);
	if (sigsetjmp(g.env, 0) == 0) {
		ok = vub_handle_msg(d, &m->rx.msg);
		vub_guard_pop(&g);
		return ok;
	}
	vub_guard_pop(&g);
	log_warnx("%s: guest memory or the inflight region shrank under us (SIGBUS); "
		  "closing the connection", vhost_user_req_name(m->rx.msg.hdr.request));
	vhost_user_msg_close_fds(&m->rx.msg);
	for (unsigned i = 0; i < d->nworkers; i++)
		worker_resume(&d->w[i]);
	return false;
}

/* A worker took SIGBUS in the connection's memory. */
static void fault_ready(struct mainloop *m)
{
	uint64_t n;

	if (read(m->d->fault_efd, &n, sizeof(n)) != sizeof(n) || m->d->conn < 0 ||
	    !__atomic_load_n(&m->d->mem_faulted, __ATOMIC_ACQUIRE))
		return;
	log_warnx("guest memory or the inflight region shrank under a worker (SIGBUS); "
		  "closing the connection");
	conn_close(m);
}

/* What the socket has, a bounded number of messages at a time: a
 * front-end that floods does not keep the loop from the other fds. */
static void conn_input(struct mainloop *m)
{
	for (int i = 0; i < 16; i++) {
		const char *why = NULL;
		int rc = vhost_user_rx_read(m->d->conn, &m->rx, af_now_ns(), &why);

		if (rc == VUB_RX_MORE)
			return;
		if (rc == VUB_RX_ERR)
			log_warnx("vhost-user receive: %s; closing the connection", why);
		if (rc != VUB_RX_MSG || !handle_guarded(m)) {
			conn_close(m);
			return;
		}
		hints_announce(&m->hints, m->d, false);	/* a queue may have started */
	}
}

static void stats_out_done(struct mainloop *m, struct stats_out *o)
{
	ep_del(m, o->fd);
	close(o->fd);
	free(o->buf);
	*o = (struct stats_out){ .fd = -1 };
}

/* Writes what the reader takes; true when the report is out (or the
 * reader went away). */
static bool stats_send(struct stats_out *o)
{
	while (o->off < o->len) {
		ssize_t n = send(o->fd, o->buf + o->off, o->len - o->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno != EAGAIN;
		o->off += n;
	}
	return true;
}

/* The report is made at once; a reader that does not take it whole is
 * written to from the loop, and dropped after STATS_DEADLINE_NS. */
static void stats_serve(struct mainloop *m)
{
	struct stats_out o = { .fd = accept4(m->stats_fd, NULL, NULL, SOCK_CLOEXEC) }, *slot = NULL;
	FILE *out;

	if (o.fd < 0)
		return;
	out = open_memstream(&o.buf, &o.len);
	if (!out) {
		close(o.fd);
		return;
	}
	stats_report(m->d, &m->hints, out);
	fclose(out);
	if (!stats_send(&o)) {
		for (int i = 0; i < STATS_PENDING && !slot; i++)
			if (m->stats_out[i].fd < 0)
				slot = &m->stats_out[i];
		if (!slot) {
			slot = &m->stats_out[0];	/* the oldest reader gives way */
			stats_out_done(m, slot);
		}
		o.deadline_ns = af_now_ns() + STATS_DEADLINE_NS;
		*slot = o;
		ep_add_ev(m, o.fd, EV_STATS_OUT, EPOLLOUT);
		return;
	}
	close(o.fd);
	free(o.buf);
}

static void stats_ready(struct mainloop *m, int fd)
{
	for (int i = 0; i < STATS_PENDING; i++)
		if (m->stats_out[i].fd == fd && stats_send(&m->stats_out[i]))
			stats_out_done(m, &m->stats_out[i]);
}

/* The 1 s tick enforces the deadlines. */
static void deadlines(struct mainloop *m, uint64_t now)
{
	if (m->d->conn >= 0 && m->rx.first_ns && now - m->rx.first_ns > MSG_DEADLINE_NS) {
		log_warnx("vhost-user receive: %zu bytes of a message in %llu ms and no more; "
			  "closing the connection", m->rx.got,
			  (unsigned long long)((now - m->rx.first_ns) / 1000000));
		conn_close(m);
	}
	for (int i = 0; i < STATS_PENDING; i++)
		if (m->stats_out[i].fd >= 0 && now > m->stats_out[i].deadline_ns)
			stats_out_done(m, &m->stats_out[i]);
}

static int metrics_render(void *ctx, FILE *out)
{
	struct mainloop *m = ctx;

	metrics_report(m->d, &m->hints, out);
	return ferror(out) ? -1 : 0;
}

/* --metrics-listen: the HTTP server's own epoll set is one fd in ours */
static int metrics_open(struct mainloop *m, const char *addr)
{
	char err[256] = "";

	m->httpd = httpd_open(addr, metrics_render, m, err, sizeof(err));
	if (!m->httpd) {
		log_warnx("%s", err);
		return -1;
	}
	ep_add(m, httpd_fd(m->httpd), EV_METRICS);
	log_info("metrics on http://%s/metrics", httpd_addr(m->httpd));
	return 0;
}

static void tick(struct mainloop *m)
{
	uint64_t exp;

	if (read(m->tick_fd, &exp, sizeof(exp)) == sizeof(exp))
		stats_tick(m->d);
	deadlines(m, af_now_ns());
	if (m->d->tag_log)
		fflush(m->d->tag_log);
}

static void handle_event(struct mainloop *m, uint64_t data)
{
	int fd = (int)(uint32_t)data;
	struct signalfd_siginfo si;

	switch (data >> 32) {
	case EV_LISTEN: conn_accept(m); break;
	case EV_CONN: conn_input(m); break;
	case EV_STATS: stats_serve(m); break;
	case EV_STATS_OUT: stats_ready(m, fd); break;
	case EV_HINT_LISTEN:
		fd = hints_accept(&m->hints, m->d);
		if (fd >= 0)
			ep_add(m, fd, EV_HINT);
		break;
	case EV_HINT:
		hints_read(&m->hints, m->d, fd);
		break;
	case EV_HINT_LEARN:
		hints_announce(&m->hints, m->d, false);
		break;
	case EV_SIGNAL:
		if (read(fd, &si, sizeof(si)) == sizeof(si)) {
			log_info("signal %u: shutting down", si.ssi_signo);
			m->quit = true;
		}
		break;
	case EV_TICK: tick(m); break;
	case EV_FAULT: fault_ready(m); break;
	case EV_METRICS: httpd_service(m->httpd); break;
	}
}

static int setup_loop(struct mainloop *m, const struct opts *o)
{
	struct itimerspec its = { { 1, 0 }, { 1, 0 } };
	sigset_t mask;

	m->ep = epoll_create1(EPOLL_CLOEXEC);
	if (m->ep < 0)
		return -1;
	/* the vhost-user socket last: a front-end (or test) that sees it
	 * finds the others listening */
	m->stats_fd = -1;
	if (o->stats) {
		m->stats_fd = listen_unix(&m->stats_l, o, o->stats, "stats socket");
		if (m->stats_fd < 0)
			return -1;
		ep_add(m, m->stats_fd, EV_STATS);
	}
	if (o->hints) {
		if (hints_open(&m->hints, o->hints, o->socket_mode, o->socket_gid) < 0)
			return -1;
		ep_add(m, m->hints.listen_fd, EV_HINT_LISTEN);
		ep_add(m, m->hints.learn_efd, EV_HINT_LEARN);
	}
	m->d->hints = &m->hints;
	if (o->metrics && metrics_open(m, o->metrics) < 0)
		return -1;
	m->listen_fd = o->listen_fd >= 0 ? o->listen_fd :
		       listen_unix(&m->vhu_l, o, o->socket, "vhost-user socket");
	if (m->listen_fd < 0)
		return -1;
	ep_add(m, m->listen_fd, EV_LISTEN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	m->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC);
	m->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (m->sig_fd < 0 || m->tick_fd < 0 || timerfd_settime(m->tick_fd, 0, &its, NULL) < 0)
		return -1;
	ep_add(m, m->sig_fd, EV_SIGNAL);
	ep_add(m, m->tick_fd, EV_TICK);
	ep_add(m, m->d->fault_efd, EV_FAULT);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .nqueues = 1, .qsize = 1024, .listen_fd = -1, .hint_wait_us = 1000,
			  .socket_gid = (gid_t)-1 };
	struct vub_dev d = { .conn = -1, .disk_fd = -1, .fault_efd = -1 };
	struct mainloop m = { .d = &d, .ep = -1, .listen_fd = -1, .stats_fd = -1,
			      .vhu_l = SOCK_LISTENER_INIT, .stats_l = SOCK_LISTENER_INIT,
			      .hints = { .listen_fd = -1, .learn_efd = -1,
					 .listener = SOCK_LISTENER_INIT } };
	sigset_t mask;
	int err = 1;

	for (int i = 0; i < VUB_HINT_CONNS; i++)
		m.hints.conns[i] = -1;
	for (int i = 0; i < STATS_PENDING; i++)
		m.stats_out[i].fd = -1;

	if (parse_args(argc, argv, &o) < 0)
		return 2;
	log_init("antfarm-blk", 0, o.verbose);
	signal(SIGPIPE, SIG_IGN);
	/* workers inherit this mask: signals go to the signalfd only */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	test_knobs();
	/* before the workers: they inherit the handler */
	d.fault_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d.fault_efd < 0 || vub_fault_init() < 0) {
		log_warn("fault handling");
		goto cleanup;
	}
	if (open_disk(&d, &o) < 0 || setup_dev(&d, &o) < 0 || setup_loop(&m, &o) < 0)
		goto cleanup;
	log_info("listening on %s", o.listen_fd >= 0 ? "inherited fd" : m.vhu_l.path);
	while (!m.quit) {
		struct epoll_event ev[16];
		int n = epoll_wait(m.ep, ev, 16, -1);

		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			goto cleanup;
		}
		for (int i = 0; i < n && !m.quit; i++)
			handle_event(&m, ev[i].data.u64);
	}
	err = 0;
cleanup:
	if (d.conn >= 0)
		conn_close(&m);
	for (int i = 0; i < STATS_PENDING; i++)
		if (m.stats_out[i].fd >= 0)
			stats_out_done(&m, &m.stats_out[i]);
	dev_free(&d);
	hints_close(&m.hints);
	httpd_close(m.httpd);
	/* only the files this process created: never what a failed start
	 * found at the paths */
	sock_listener_close(&m.vhu_l);
	sock_listener_close(&m.stats_l);
	return err;
}
