/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Process hints to antfarm-blk backends (include/antfarm_hint.h): one
 * SOCK_SEQPACKET connection per --blk-hints path.  A hint is advice: the
 * agent never waits for a backend.  A full socket drops the hint (counted);
 * a backend that goes away is reconnected from the 1 s tick with
 * exponential backoff.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "agent.h"
#include "antfarm_hint.h"

#define BACKOFF_MIN_NS 1000000000ull
#define BACKOFF_MAX_NS 30000000000ull

struct af_hint_conn {
	const char *path;
	int fd;
	uint64_t next_try_ns, backoff_ns;
	uint64_t sent, dropped, connects;
};

static void hint_disconnect(struct af_hint_conn *h, uint64_t now)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->next_try_ns = now + h->backoff_ns;
	h->backoff_ns = h->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : h->backoff_ns * 2;
}

static void hint_connect(struct af_hint_conn *h, uint64_t now)
{
	/* non-blocking: a backend whose backlog is full is tried again later */
	h->fd = sock_connect(h->path, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	if (h->fd < 0) {
		errno = -h->fd;
		if (h->backoff_ns == BACKOFF_MIN_NS)
			log_warn("hints: cannot connect to %s (will retry)", h->path);
		hint_disconnect(h, now);
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
		h->path = a->o.hint_paths[i];
		h->backoff_ns = BACKOFF_MIN_NS;
		hint_connect(h, now);
	}
	return 0;
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
		if (h->fd < 0) {
			h->dropped++;
			continue;
		}
		if (send(h->fd, &hint, sizeof(hint), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(hint)) {
			h->sent++;
			continue;
		}
		h->dropped++;
		if (errno != EAGAIN && errno != EINTR) {
			log_warn("hints: %s", h->path);
			hint_disconnect(h, af_now_ns());
		}
	}
}

void hints_tick(struct af_agent *a, uint64_t now)
{
	for (int i = 0; i < a->o.nhints; i++) {
		struct af_hint_conn *h = &a->hints[i];
		if (h->fd < 0 && now >= h->next_try_ns)
			hint_connect(h, now);
	}
}

/* Label values are written as JSON strings: the quoting and escaping
 * Prometheus expects for a path with '"' or '\\' in it. */
static void metric_per_backend(struct af_agent *a, FILE *f, const char *name,
			       const char *help, const char *type, int which)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
	for (int i = 0; i < a->o.nhints; i++) {
		const struct af_hint_conn *h = &a->hints[i];

		fprintf(f, "%s{backend=", name);
		json_fputs(f, h->path);
		fprintf(f, "} %llu\n", which == 0 ? (unsigned long long)h->sent :
			which == 1 ? (unsigned long long)h->dropped : (unsigned long long)(h->fd >= 0));
	}
}

void hints_metrics(struct af_agent *a, FILE *f)
{
	if (!a->o.nhints)
		return;
	metric_per_backend(a, f, "antfarm_hints_sent_total",
			   "Hints sent to an antfarm-blk backend.", "counter", 0);
	metric_per_backend(a, f, "antfarm_hints_dropped_total",
			   "Hints dropped (backend absent or full).", "counter", 1);
	metric_per_backend(a, f, "antfarm_hints_connected",
			   "Whether the backend's hint socket is connected.", "gauge", 2);
}

void hints_close(struct af_agent *a)
{
	for (int i = 0; a->hints && i < a->o.nhints; i++)
		if (a->hints[i].fd >= 0)
			close(a->hints[i].fd);
	free(a->hints);
	a->hints = NULL;
}
