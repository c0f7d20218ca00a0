/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent core: one epoll loop over the collector's ring buffer, a
 * signalfd, a 1 s timerfd, the listening socket and its clients.  Every fd
 * in the epoll set carries a struct af_watch whose handler runs when it is
 * ready.
 */
#ifndef AF_AGENT_H
#define AF_AGENT_H

#include <stdint.h>
#include <stdio.h>
#include "collector.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/sock.h"
#include "outq.h"
#include "proto.h"
#include "vmname.h"

struct af_agent;

struct af_watch {
	void (*fn)(struct af_agent *a, struct af_watch *w, uint32_t events);
	int fd;
};

struct af_client {
	struct af_watch w;
	struct af_client *prev, *next;
	int state;			/* CL_* in server.c */
	struct af_request req;
	char *in;			/* request bytes until the first newline */
	size_t inlen;
	struct outq q;
	uint64_t deadline_ns;		/* request or (for replies) drain deadline */
	uint32_t epoll_mask;
	unsigned long id;
};

struct af_hint_conn;

struct af_agent_opts {
	const char *socket_path;
	mode_t socket_mode;		/* 0: 0660 */
	gid_t socket_gid;		/* (gid_t)-1: root's */
	int max_clients;
	size_t queue_limit;		/* bytes per subscriber */
	size_t queue_total;		/* bytes of all queues together */
	uint64_t request_timeout_ns;	/* a client must send its request within this */
	uint64_t reply_timeout_ns;	/* a command reply must drain within this */
	const char **hint_paths;
	int nhints;
	const char *metrics_listen;	/* ADDR:PORT, or NULL */
};

struct af_agent {
	struct af_agent_opts o;
	struct af_collector *col;
	int epfd;
	struct af_watch listen_w, signal_w, timer_w, ring_w;
	int stop;
	struct sock_listener listener;
	int reserve_fd;			/* given up to accept (and refuse) a client at EMFILE */
	int accept_paused;		/* out of fds: listen_w off until the next tick */
	struct af_client *clients;
	struct af_client *dead;		/* closed, freed after the epoll batch */
	int nclients, nsubscribers, switch_subscribers, notify_subscribers;
	int notify_all;			/* notify subscribers without an "addr" list */
	int no_switch;			/* --no-switch: never produce switch records */
	unsigned long next_client_id;
	struct sbuf ev_line;		/* scratch: the current event's JSON */
	struct outq_pool qpool;		/* every client's queue */
	int polled;			/* records in the current poll */
	struct af_hint_conn *hints;
	struct af_recorder *rec;	/* --record */
	struct af_watch roots_w;	/* roots.c: polling unshadowed roots */
	int roots_armed;
	struct vmnames *names;		/* VM names by VMM pid */
	struct httpd *httpd;		/* --metrics-listen */
	struct af_watch httpd_w;
	/* counters for stats and metrics */
	uint64_t events[AF_EV_MAX];	/* by enum af_ev_type (0: unknown) */
	uint64_t clients_total, clients_refused, bad_requests, sub_dropped, client_timeouts;
	uint64_t start_ns;
};

/* loop.c: the epoll loop */
int af_watch_add(struct af_agent *a, struct af_watch *w, uint32_t events);
int af_watch_mod(struct af_agent *a, struct af_watch *w, uint32_t events);
/* Runs the handlers of ready fds until a->stop; 0, or -1 if epoll failed. */
int af_loop_run(struct af_agent *a);

/* server.c: the listening socket and its clients */
int server_open(struct af_agent *a, char *err, size_t errlen);
/* Caps --max-clients to what the open-file limit leaves room for (call
 * once every other fd is open). */
void server_limit_clients(struct af_agent *a);
void server_close(struct af_agent *a);
void server_event(struct af_agent *a, const struct af_event *ev);
/* The notify records the BPF side makes: every address while one notify
 * subscriber (or the recorder) has no "addr" list, else the union of the
 * lists.  'leaving': a client whose subscription is ending now. */
void server_notify_sync(struct af_agent *a, const struct af_client *leaving);
void server_flush(struct af_agent *a);
void server_tick(struct af_agent *a, uint64_t now_ns);
void server_reap(struct af_agent *a);

/* commands.c: replies to ps, vms, stats, metrics */
void cmd_reply(struct af_agent *a, const struct af_request *req, struct sbuf *out);
int metrics_write(void *agent, FILE *f);	/* an httpd_render_fn */

/* roots.c: re-reading root pages that KVM does not shadow */
int roots_open(struct af_agent *a);
void roots_event(struct af_agent *a, const struct af_event *ev);
void roots_poll(struct af_agent *a);
void roots_close(struct af_agent *a);

/* hints.c: process hints to antfarm-blk backends */
int hints_open(struct af_agent *a);
void hints_event(struct af_agent *a, const struct af_event *ev);
void hints_tick(struct af_agent *a, uint64_t now_ns);
void hints_metrics(struct af_agent *a, FILE *out);
void hints_close(struct af_agent *a);

#endif
