/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Device, queue, request and worker state of antfarm-blk.
 *
 * Threads: the main thread runs the control plane (vhost-user socket,
 * stats, hints) in one epoll loop.  Worker threads run the data path, each
 * with its own io_uring used as its only event loop (kick eventfds are read
 * through it too).  The main thread changes queue state only while the
 * owning worker is paused (worker_pause/worker_resume), so data-path
 * fields need no locks.  Requests hold a reference on the memory table they
 * were translated with.
 */
#ifndef ANTFARM_BLK_DEV_H
#define ANTFARM_BLK_DEV_H

#include <pthread.h>
#include <stdio.h>
#include <liburing.h>
#include "vub.h"
#include "virtq.h"
#include "blkreq.h"
#include "sched.h"
#include "stats.h"
#include "vhost_msg.h"

struct vub_queue;

struct blk_req {
	struct vub_queue *q;
	uint32_t gen;			/* queue generation at pop */
	uint16_t head;
	bool busy;
	uint8_t phase;			/* write-zeroes fallback step */
	struct vub_mem *mem;
	struct blk_io io;
	struct af_sched_req sr;
	uint64_t done;			/* bytes transferred so far (short I/O) */
	uint64_t hold_until;		/* delay stage: complete no earlier */
	struct __kernel_timespec ts;	/* delay stage timeout */
	struct iovec iov[VUB_MAX_IOV];
} __attribute__((aligned(64)));

struct vub_queue {
	unsigned index;
	struct vub_worker *w;
	/* control plane (main thread; read by the worker when not paused) */
	struct vub_vq vq;
	uint32_t num;			/* SET_VRING_NUM */
	uint16_t base;			/* SET_VRING_BASE */
	bool addr_set;
	uint64_t desc_uva, avail_uva, used_uva;
	int kickfd, callfd, errfd;
	bool started, enabled, stopping;
	uint32_t gen;			/* bumped when the ring restarts */
	uint32_t kick_seq;		/* bumped when the kick fd or start state changes */
	struct vub_mem *ring_mem;
	struct vq_redo *resubmit;	/* inflight heads to redo at start */
	unsigned n_resubmit;
	/* data path (worker) */
	struct blk_req *slots;		/* indexed by head, max_qsize entries */
	unsigned inflight;		/* popped, not yet in the used ring */
	bool kicked, kick_armed;
	uint32_t armed_seq;		/* kick_seq the armed read belongs to */
	uint32_t kick_gen, armed_gen;	/* tags of kick reads */
	uint64_t kick_buf;
	void *sched;			/* per-queue scheduler instance */
	struct vub_qstats st;
	/* process tags from hints (worker; see tags.c) */
	uint64_t kick_ts;		/* CLOCK_MONOTONIC of the last kick read */
	uint64_t win_lo, win_hi;	/* doorbell writes of the unresolved kicks */
	uint64_t hold_until;		/* give up waiting for their hint then */
	bool kick_unresolved, holding;
	uint64_t batch_proc;		/* tag of the requests taken now */
	unsigned batch_n;		/* requests tagged with it */
	uint8_t batch_how;		/* enum tag_how (tags.h): how it was chosen */
};

struct vub_worker {
	unsigned id;
	struct vub_dev *dev;
	pthread_t th;
	struct io_uring ring;
	int ctl_efd;
	uint64_t ctl_buf;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool pause_req, paused, exit_req, ready;
	int ring_err;
	struct vub_queue **queues;
	unsigned nq;
	void *sched;			/* device-wide scheduler instance */
	uint64_t armed_wake;
	struct __kernel_timespec wake_ts;
	unsigned submitted;		/* disk I/Os in io_uring */
	unsigned rr;			/* per-queue schedulers: queue to offer the device first */
	uint64_t exits[64];		/* exit hints for the scheduler (mu) */
	unsigned n_exits;
	uint64_t exits_dropped;
};

struct vub_inflight_map {
	void *addr;
	size_t size;
	uint16_t nq, qs;
};

struct vub_dev {
	/* configuration */
	const char *disk_path;
	int disk_fd;
	bool direct;
	bool mem_file;			/* tmpfs: reads/writes done inline, see worker.c */
	struct blk_disk disk;
	uint32_t blk_size, phys_exp;
	unsigned nqueues, max_qsize, nworkers;
	const struct af_sched_ops *sched_ops;
	struct af_sched_conf sched_conf;
	bool oracle_ioprio;
	unsigned poll_us;		/* bounded avail-ring polling before sleeping */
	uint64_t hint_wait_ns;		/* --hint-wait-us */
	FILE *tag_log;			/* --tag-log: one line per request tagged */
	/* connection */
	int conn;
	int mem_faulted;		/* a worker took SIGBUS in this connection's memory (atomic) */
	int fault_efd;			/* workers tell the main thread so */
	pid_t peer_pid;
	uint64_t features, proto;
	bool features_set;
	struct vub_mem *mem;
	struct vub_inflight_map infl;
	uint8_t wce;
	/* queues and workers */
	struct vub_queue *q;
	struct vub_worker *w;
	struct vub_hints *hints;
};

/* Features offered (device + ring + transport) and protocol features. */
uint64_t vub_dev_features(const struct vub_dev *d);
uint64_t vub_dev_protocol_features(void);
/* The virtio-blk config space (VHOST_USER_MAX_CONFIG_SIZE bytes). */
void vub_dev_config(const struct vub_dev *d, uint8_t *cfg);

/* worker.c: the thread's body; worker_ctl.c: its control */
/* Guest memory of w's queues went away (SIGBUS): they are never touched
 * again, the main thread is told to close the connection. */
void worker_mem_fault(struct vub_worker *w);
void *worker_main(void *arg);
int worker_start(struct vub_worker *w);
void worker_stop(struct vub_worker *w);
void worker_pause(struct vub_worker *w);
void worker_resume(struct vub_worker *w);
void worker_post_exit(struct vub_worker *w, uint64_t proc);
/* Wakes the worker (its control eventfd), e.g. when a hint it waits for came. */
void worker_poke(struct vub_worker *w);
/* Waits until the queue has nothing in flight; false on timeout. */
bool worker_drain(struct vub_queue *q, int timeout_ms);

/* Optional service-time delay stage (e.g. an HDD model): the completion of
 * a dispatched request is held until t_dispatch + hook(...).  NULL = off. */
extern uint64_t (*vub_delay_hook)(void *ctx, const struct af_sched_req *r, uint64_t now);
extern void *vub_delay_ctx;

/* vhost_user.c */
/* Handles one message; returns false when the connection must end. */
bool vub_handle_msg(struct vub_dev *d, struct vhost_user_msg *msg);
void vub_conn_reset(struct vub_dev *d);

/* inflight.c */
int vub_inflight_get(struct vub_dev *d, struct vhost_user_msg *msg, int *fd_out);
int vub_inflight_set(struct vub_dev *d, struct vhost_user_msg *msg);
void vub_inflight_unmap(struct vub_dev *d);
struct vub_inflight_q *vub_inflight_queue(struct vub_dev *d, unsigned qi, unsigned num);

#endif
