/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hint socket (--hints PATH): antfarm-agent connects (SOCK_SEQPACKET)
 * and sends struct af_hint records.  NOTIFY hints update a queue -> latest
 * process table that tags new requests; EXIT hints go to the scheduler.
 * This side tells the agent which VM it serves and its queues' doorbells
 * once learned (SERVE, DOORBELL: include/antfarm_hint.h), so that the agent
 * sends only that VM's hints and its BPF programs only the doorbell writes.
 */
#ifndef ANTFARM_BLK_HINTS_H
#define ANTFARM_BLK_HINTS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include "lib/sock.h"

#define VUB_HINT_CONNS 8
#define VUB_HINT_HIST  64	/* NOTIFY hints kept per queue */
#define VUB_HINT_LEARN 3	/* kick coincidences that make an address the doorbell */
#define VUB_HINT_PROCS 32	/* per-process request counters in the stats */

struct vub_dev;

struct vub_hint_ent {
	uint64_t ts, proc, addr;
};

/*
 * Per queue, under vub_hints.mu: the main thread appends NOTIFY hints
 * whose value is the queue index, the worker matches them to its kicks
 * (tags.c, hint_resolve) and learns the doorbell address from them.
 */
struct vub_qhints {
	struct vub_hint_ent ring[VUB_HINT_HIST];
	uint64_t n;			/* hints appended; newest at ring[(n - 1) % HIST] */
	uint64_t db_addr, cand_addr;	/* learned doorbell; candidate and its hits */
	unsigned cand_hits;
	bool learned;
	bool waiting;			/* the worker holds requests for a hint */
	uint64_t exact, held, late, unlearned, ignored, learnings, unheld;
};

struct vub_proc_count {
	uint64_t proc, requests;
};

struct vub_hints {
	struct sock_listener listener;
	int listen_fd;
	int conns[VUB_HINT_CONNS];
	int learn_efd;			/* a worker learned a doorbell: tell the agent */
	uint64_t received, notify, create, exit, vm_exit;
	uint64_t bad, other_vm, unmatched, refused;
	uint64_t serve_sent, doorbell_sent, send_failed;
	uint32_t told_vm;		/* what the agent was last told: VM, */
	uint64_t told_started, told_learned;	/* started and learned queues */
	/* shared with the workers */
	pthread_mutex_t mu;
	struct vub_qhints *q;		/* VUB_MAX_QUEUES entries; NULL without --hints */
	int live;			/* agent connections (atomic) */
	struct vub_proc_count procs[VUB_HINT_PROCS];	/* tagged requests (mu) */
	uint64_t procs_other;
};

/* Listens on path (lib/sock.h's policy); -1 after logging why. */
int hints_open(struct vub_hints *h, const char *path, mode_t mode, gid_t gid);
/* Accepts a connection and tells it what we serve; returns its fd (to
 * watch) or -1. */
int hints_accept(struct vub_hints *h, struct vub_dev *d);
/* Tells the agents which VM is served and the doorbells known, if that
 * changed (or always with force): after a front-end came or went, a queue
 * started, a doorbell was learned (learn_efd readable). */
void hints_announce(struct vub_hints *h, struct vub_dev *d, bool force);
/* Reads one hint; false when the connection was closed (EOF or bad hint). */
bool hints_read(struct vub_hints *h, struct vub_dev *d, int fd);
void hints_json(struct vub_hints *h, unsigned nqueues, FILE *out);
/* Forgets every queue's hints and learned doorbell (new front-end, VM exit). */
void hints_reset(struct vub_hints *h);
/* Latest usable NOTIFY hint of queue qi (the learned doorbell's once
 * known); AF_PROC_UNKNOWN when none.  Caller holds h->mu. */
uint64_t hints_latest(struct vub_hints *h, unsigned qi);
/* Counts n requests tagged proc.  Caller holds h->mu. */
void hints_count_proc(struct vub_hints *h, uint64_t proc, unsigned n);
void hints_close(struct vub_hints *h);

#endif
