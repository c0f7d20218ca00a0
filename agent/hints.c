/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Process hints to antfarm-blk backends (include/antfarm_hint.h): one
 * SOCK_SEQPACKET connection per --blk-hints path, in the epoll loop for what
 * the backend says back.  A backend says which VM it serves (SERVE) and,
 * once learned, its queues' doorbells (DOORBELL); it gets only that VM's
 * hints, and the BPF notify filter of the VM (antfarm_abi.h) is the union
 * of what the backends serving it asked for.  A hint is advice: the agent
 * never waits for a backend.  A full socket drops the hint (counted); a
 * backend that goes away is reconnected from the 1 s tick with exponential
 * backoff.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "agent.h"
#include "antfarm_hint.h"

#define BACKOFF_MIN_NS 1000000000ull
#define BACKOFF_MAX_NS 30000000000ull

struct af_hint_conn {
	struct af_watch w;		/* first: the epoll handler finds the connection */
	const char *path;
	uint64_t next_try_ns, backoff_ns;
	uint64_t sent, dropped, connects, not_served, received;
	/* what the backend asked for */
	uint32_t vm_pid;		/* the VM it serves, 0: none (send it nothing) */
	uint32_t nqueues;		/* learning: doorbell values are below this */
	int learning;			/* some started queue's doorbell is not known */
	unsigned ndb;
	uint64_t db[AF_NF_DOORBELLS];
};

static void hint_read(struct af_agent *a, struct af_watch *w, uint32_t events);

/* The notify filter of vm_pid from every connection that serves it. */
static void filter_update(struct af_agent *a, uint32_t vm_pid)
{
	struct af_notify_filter f = { 0 };
	int served = 0, r;

	if (!vm_pid)
		return;
	for (int i = 0; i < a->o.nhints; i++) {
		const struct af_hint_conn *h = &a->hints[i];

		if (h->w.fd < 0 || h->vm_pid != vm_pid)
			continue;
		served = 1;
		if (h->learning)
			f.flags |= AF_NF_LEARNING;
		if (h->nqueues > f.max_value)
			f.max_value = h->nqueues;
		for (unsigned k = 0; k < h->ndb; k++) {
			unsigned j = 0;

			while (j < f.ndb && f.db[j] != h->db[k])
				j++;
			if (j == f.ndb && f.ndb < AF_NF_DOORBELLS)
				f.db[f.ndb++] = h->db[k];
		}
	}
	r = af_collector_notify_filter(a->col, vm_pid, served ? &f : NULL);
	if (r)
		log_warnx("hints: notify filter of VM %u: %s", vm_pid, strerror(-r));
}

static void serve(struct af_agent *a, struct af_hint_conn *h, uint32_t vm_pid, uint32_t nq)
{
	uint32_t old = h->vm_pid;

	h->vm_pid = vm_pid;
	h->nqueues = nq;
	h->learning = 1;
	h->ndb = 0;
	filter_update(a, old);
	if (vm_pid != old)
		filter_update(a, vm_pid);
	log_debug("hints: %s serves VM %u (%u queues)", h->path, vm_pid, nq);
}

static void hint_disconnect(struct af_agent *a, struct af_hint_conn *h, uint64_t now)
{
	uint32_t vm = h->vm_pid;

	if (h->w.fd >= 0)
		close(h->w.fd);		/* also leaves the epoll set */
	h->w.fd = -1;
	h->vm_pid = 0;
	h->ndb = 0;
	filter_update(a, vm);
	h->next_try_ns = now + h->backoff_ns;
	h->backoff_ns = h->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : h->backoff_ns * 2;
}

static void hint_connect(struct af_agent *a, struct af_hint_conn *h, uint64_t now)
{
	/* non-blocking: a backend whose backlog is full is tried again later */
	h->w.fd = sock_connect(h->path, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	if (h->w.fd < 0) {
		errno = -h->w.fd;
		h->w.fd = -1;
		if (h->backoff_ns == BACKOFF_MIN_NS)
			log_warn("hints: cannot connect to %s (will retry)", h->path);
		hint_disconnect(a, h, now);
		return;
	}
	if (af_watch_add(a, &h->w, EPOLLIN)) {
		log_warn("hints: %s: epoll", h->path);
		hint_disconnect(a, h, now);
		return;
	}
	h->connects++;
	h->backoff_ns = BACKOFF_MIN_NS;
	log_info("hints: connected to %s", h->path);
}

int hints_open(struct af_agent *a)
{
	uint64_t now = af_now_ns();

	if (!a->o.nhints)
		return 0;
	a->hints = calloc(a->o.nhints, sizeof(*a->hints));
	if (!a->hints)
		return -1;
	for (int i = 0; i < a->o.nhints; i++) {
		struct af_hint_conn *h = &a->hints[i];

		h->w.fn = hint_read;
		h->w.fd = -1;
		h->path = a->o.hint_paths[i];
		h->backoff_ns = BACKOFF_MIN_NS;
		hint_connect(a, h, now);
	}
	return 0;
}

static void doorbell(struct af_agent *a, struct af_hint_conn *h, const struct af_hint *m)
{
	unsigned j = 0;

	if (m->vm_pid != h->vm_pid || !h->vm_pid)
		return;		/* about a VM it no longer serves: stale */
	while (j < h->ndb && h->db[j] != m->addr)
		j++;
	if (j == h->ndb && h->ndb < AF_NF_DOORBELLS)
		h->db[h->ndb++] = m->addr;
	h->learning = m->pending != 0;
	filter_update(a, h->vm_pid);
	log_debug("hints: %s: VM %u queue %llu doorbell 0x%llx, %u queue(s) still learning",
		  h->path, m->vm_pid, (unsigned long long)m->value,
		  (unsigned long long)m->addr, m->pending);
}

/* What the backend says: SERVE and DOORBELL.  Anything else ends the
 * connection, saying why. */
static void hint_read(struct af_agent *a, struct af_watch *w, uint32_t events)
{
	struct af_hint_conn *h = (struct af_hint_conn *)w;

	for (;;) {
		struct af_hint m;
		ssize_t n = recv(h->w.fd, &m, sizeof(m), MSG_DONTWAIT | MSG_TRUNC);
		const char *why;

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			log_warnx("hints: %s closed the connection (will reconnect)", h->path);
			hint_disconnect(a, h, af_now_ns());
			return;
		}
		h->received++;
		why = af_hint_check(&m, n, AF_HINT_SERVE, AF_HINT_DOORBELL);
		if (*why) {
			log_warnx("hints: %s: %s (%zd bytes, version %u, type %u; this agent speaks "
				  "version %u); disconnecting", h->path, why, n,
				  n >= 8 ? m.version : 0, n >= 8 ? m.type : 0, AF_HINT_VERSION);
			hint_disconnect(a, h, af_now_ns());
			return;
		}
		if (m.type == AF_HINT_SERVE)
			serve(a, h, m.vm_pid, m.value > AF_NF_DOORBELLS ? AF_NF_DOORBELLS :
			      (uint32_t)m.value);
		else
			doorbell(a, h, &m);
	}
}

static int hint_type(unsigned ev_type)
{
	switch (ev_type) {
	case AF_EV_NOTIFY:  return AF_HINT_NOTIFY;
	case AF_EV_CREATE:  return AF_HINT_CREATE;
	case AF_EV_EXIT:    return AF_HINT_EXIT;
	case AF_EV_VM_EXIT: return AF_HINT_VM_EXIT;
	default:            return 0;
	}
}

void hints_event(struct af_agent *a, const struct af_event *ev)
{
	struct af_hint hint = {
		.magic = AF_HINT_MAGIC, .version = AF_HINT_VERSION,
		.type = hint_type(ev->type), .vm_pid = ev->vm_pid, .vcpu = ev->vcpu,
		.ts_ns = ev->ts_ns, .proc = af_hint_proc(ev->as, ev->gen),
		.addr = ev->addr, .value = ev->value,
	};

	if (!hint.type)
		return;
	if (ev->type == AF_EV_VM_EXIT)
		hint.proc = 0;
	for (int i = 0; i < a->o.nhints; i++) {
		struct af_hint_conn *h = &a->hints[i];

		if (h->w.fd < 0) {
			h->dropped++;
			continue;
		}
		/* only the VM it serves: another VM's processes and doorbells
		 * mean nothing to it */
		if (!h->vm_pid || ev->vm_pid != h->vm_pid) {
			h->not_served++;
			continue;
		}
		if (send(h->w.fd, &hint, sizeof(hint), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(hint)) {
			h->sent++;
			continue;
		}
		h->dropped++;
		if (errno != EAGAIN && errno != EINTR) {
			log_warn("hints: %s", h->path);
			hint_disconnect(a, h, af_now_ns());
		}
	}
}

void hints_tick(struct af_agent *a, uint64_t now)
{
	for (int i = 0; i < a->o.nhints; i++) {
		struct af_hint_conn *h = &a->hints[i];
		if (h->w.fd < 0 && now >= h->next_try_ns)
			hint_connect(a, h, now);
	}
}

enum { M_SENT, M_DROPPED, M_NOT_SERVED, M_CONNECTED, M_VM, M_LEARNING, M_DOORBELLS };

static unsigned long long metric_value(const struct af_hint_conn *h, int which)
{
	switch (which) {
	case M_SENT:       return h->sent;
	case M_DROPPED:    return h->dropped;
	case M_NOT_SERVED: return h->not_served;
	case M_CONNECTED:  return h->w.fd >= 0;
	case M_VM:         return h->vm_pid;
	case M_LEARNING:   return h->w.fd >= 0 && h->vm_pid && h->learning;
	default:           return h->ndb;
	}
}

/* Label values are written as JSON strings: the quoting and escaping
 * Prometheus expects for a path with '"' or '\\' in it. */
static void metric_per_backend(struct af_agent *a, FILE *f, const char *name,
			       const char *help, const char *type, int which)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (int i = 0; i < a->o.nhints; i++) {
		fprintf(f, "%s{backend=", name);
		json_fputs(f, a->hints[i].path);
		fprintf(f, "} %llu\n", metric_value(&a->hints[i], which));
	}
}

void hints_metrics(struct af_agent *a, FILE *f)
{
	static const struct { const char *name, *help, *type; } m[] = {
		[M_SENT] = { "antfarm_hints_sent_total", "Hints sent to an antfarm-blk backend.",
			     "counter" },
		[M_DROPPED] = { "antfarm_hints_dropped_total",
				"Hints dropped (backend absent or full).", "counter" },
		[M_NOT_SERVED] = { "antfarm_hints_not_served_total",
				   "Hints not sent: about a VM the backend does not serve.",
				   "counter" },
		[M_CONNECTED] = { "antfarm_hints_connected",
				  "Whether the backend's hint socket is connected.", "gauge" },
		[M_VM] = { "antfarm_hints_vm", "The VM (VMM pid) the backend serves, 0: none.",
			   "gauge" },
		[M_LEARNING] = { "antfarm_hints_learning",
				 "1 while the backend learns its doorbells (every write of "
				 "its VM is a notify record).", "gauge" },
		[M_DOORBELLS] = { "antfarm_hints_doorbells", "Doorbells the backend asked for.",
				  "gauge" },
	};

	if (!a->o.nhints)
		return;
	for (int i = 0; i < (int)(sizeof(m) / sizeof(m[0])); i++)
		metric_per_backend(a, f, m[i].name, m[i].help, m[i].type, i);
}

void hints_close(struct af_agent *a)
{
	for (int i = 0; a->hints && i < a->o.nhints; i++)
		if (a->hints[i].w.fd >= 0)
			close(a->hints[i].w.fd);
	free(a->hints);
	a->hints = NULL;
}
