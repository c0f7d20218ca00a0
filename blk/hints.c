// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hint socket: accept, validate and count af_hint records. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "antfarm_hint.h"
#include "dev.h"
#include "hints.h"

int hints_open(struct vub_hints *h, const char *path, mode_t mode, gid_t gid)
{
	const struct sock_listen_opts lo = {
		.path = path, .type = SOCK_SEQPACKET, .mode = mode, .gid = gid, .backlog = 4,
		.what = "hint socket",
	};
	char err[512];

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		h->conns[i] = -1;
	h->listen_fd = -1;
	sock_listener_init(&h->listener);
	pthread_mutex_init(&h->mu, NULL);
	h->q = calloc(VUB_MAX_QUEUES, sizeof(*h->q));
	if (!h->q)
		return -1;
	if (sock_listen(&h->listener, &lo, err, sizeof(err))) {
		log_warnx("%s", err);
		return -1;
	}
	h->listen_fd = h->listener.fd;
	return 0;
}

int hints_accept(struct vub_hints *h)
{
	int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return -1;
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		if (h->conns[i] < 0) {
			h->conns[i] = fd;
			__atomic_add_fetch(&h->live, 1, __ATOMIC_RELAXED);
			return fd;
		}
	h->refused++;
	close(fd);
	return -1;
}

static void drop(struct vub_hints *h, int fd)
{
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		if (h->conns[i] == fd) {
			h->conns[i] = -1;
			__atomic_sub_fetch(&h->live, 1, __ATOMIC_RELAXED);
		}
	close(fd);
}

void hints_reset(struct vub_hints *h)
{
	if (!h || !h->q)
		return;
	pthread_mutex_lock(&h->mu);
	for (unsigned i = 0; i < VUB_MAX_QUEUES; i++) {
		struct vub_qhints *qh = &h->q[i];

		qh->n = 0;
		qh->learned = false;
		qh->db_addr = qh->cand_addr = 0;
		qh->cand_hits = 0;
	}
	pthread_mutex_unlock(&h->mu);
}

uint64_t hints_latest(struct vub_hints *h, unsigned qi)
{
	const struct vub_qhints *qh = &h->q[qi];
	uint64_t first = qh->n > VUB_HINT_HIST ? qh->n - VUB_HINT_HIST : 0;

	for (uint64_t k = qh->n; k > first; k--) {
		const struct vub_hint_ent *e = &qh->ring[(k - 1) % VUB_HINT_HIST];

		if (!qh->learned || e->addr == qh->db_addr)
			return e->proc;
	}
	return AF_PROC_UNKNOWN;
}

void hints_count_proc(struct vub_hints *h, uint64_t proc, unsigned n)
{
	for (unsigned i = 0; i < VUB_HINT_PROCS; i++) {
		struct vub_proc_count *c = &h->procs[i];

		if (c->requests && c->proc != proc)
			continue;
		c->proc = proc;
		c->requests += n;
		return;
	}
	h->procs_other += n;
}

/* A NOTIFY of queue m->value: into its history unless it is known not to
 * come from this device's doorbell; wake a worker waiting for it. */
static void note_notify(struct vub_hints *h, struct vub_dev *d, const struct af_hint *m)
{
	struct vub_qhints *qh = &h->q[m->value];
	bool wake;

	pthread_mutex_lock(&h->mu);
	if (qh->learned && m->addr != qh->db_addr) {
		qh->ignored++;
		pthread_mutex_unlock(&h->mu);
		return;
	}
	qh->ring[qh->n++ % VUB_HINT_HIST] = (struct vub_hint_ent){ m->ts_ns, m->proc, m->addr };
	wake = qh->waiting;
	pthread_mutex_unlock(&h->mu);
	if (wake)
		worker_poke(d->q[m->value].w);
}

static bool valid(const struct af_hint *m, ssize_t n)
{
	return n == sizeof(*m) && m->magic == AF_HINT_MAGIC && m->version == AF_HINT_VERSION &&
	       m->type >= AF_HINT_NOTIFY && m->type <= AF_HINT_VM_EXIT;
}

static void apply(struct vub_hints *h, struct vub_dev *d, const struct af_hint *m)
{
	if (d->peer_pid && m->vm_pid && m->vm_pid != (uint32_t)d->peer_pid) {
		h->other_vm++;
		return;
	}
	switch (m->type) {
	case AF_HINT_NOTIFY:
		h->notify++;
		if (m->value >= d->nqueues) {
			h->unmatched++;
			return;
		}
		note_notify(h, d, m);
		break;
	case AF_HINT_CREATE:
		h->create++;
		break;
	case AF_HINT_EXIT:
		h->exit++;
		for (unsigned i = 0; i < d->nworkers; i++)
			worker_post_exit(&d->w[i], m->proc);
		break;
	case AF_HINT_VM_EXIT:
		h->vm_exit++;
		hints_reset(h);
		break;
	}
}

bool hints_read(struct vub_hints *h, struct vub_dev *d, int fd)
{
	for (;;) {
		struct af_hint m;
		ssize_t n = recv(fd, &m, sizeof(m), MSG_TRUNC | MSG_DONTWAIT);

		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return true;
		if (n <= 0) {
			drop(h, fd);
			return false;
		}
		h->received++;
		if (!valid(&m, n)) {
			h->bad++;
			log_warnx("bad hint (%zd bytes); closing the hint connection", n);
			drop(h, fd);
			return false;
		}
		apply(h, d, &m);
	}
}

static void queues_json(struct vub_hints *h, unsigned nq, FILE *out)
{
	fprintf(out, ",\"queues\":[");
	for (unsigned i = 0; h->q && i < nq; i++) {
		const struct vub_qhints *qh = &h->q[i];

		fprintf(out, "%s{\"queue\":%u,\"doorbell\":", i ? "," : "", i);
		if (qh->learned)
			fprintf(out, "\"0x%llx\"", (unsigned long long)qh->db_addr);
		else
			fprintf(out, "null");
		fprintf(out, ",\"exact\":%llu,\"held\":%llu,\"late\":%llu,\"unlearned\":%llu,"
			"\"ignored\":%llu}", (unsigned long long)qh->exact,
			(unsigned long long)qh->held, (unsigned long long)qh->late,
			(unsigned long long)qh->unlearned, (unsigned long long)qh->ignored);
	}
	fprintf(out, "],\"procs\":[");
	for (unsigned i = 0; i < VUB_HINT_PROCS && h->procs[i].requests; i++)
		fprintf(out, "%s{\"proc\":\"0x%llx\",\"requests\":%llu}", i ? "," : "",
			(unsigned long long)h->procs[i].proc,
			(unsigned long long)h->procs[i].requests);
	fprintf(out, "],\"procs_other\":%llu", (unsigned long long)h->procs_other);
}

void hints_json(struct vub_hints *h, unsigned nq, FILE *out)
{
	int conns = 0;

	for (int i = 0; i < VUB_HINT_CONNS; i++)
		conns += h->conns[i] >= 0;
	fprintf(out, "{\"type\":\"hints\",\"enabled\":%s,\"connections\":%d,\"received\":%llu,"
		"\"notify\":%llu,\"create\":%llu,\"exit\":%llu,\"vm_exit\":%llu,\"bad\":%llu,"
		"\"other_vm\":%llu,\"unmatched\":%llu,\"refused\":%llu",
		h->listen_fd >= 0 ? "true" : "false", conns,
		(unsigned long long)h->received, (unsigned long long)h->notify,
		(unsigned long long)h->create, (unsigned long long)h->exit,
		(unsigned long long)h->vm_exit, (unsigned long long)h->bad,
		(unsigned long long)h->other_vm, (unsigned long long)h->unmatched,
		(unsigned long long)h->refused);
	if (h->q) {
		pthread_mutex_lock(&h->mu);
		queues_json(h, nq, out);
		pthread_mutex_unlock(&h->mu);
	}
	fputc('}', out);
}

void hints_close(struct vub_hints *h)
{
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		if (h->conns[i] >= 0)
			close(h->conns[i]);
	sock_listener_close(&h->listener);	/* removes only our own files */
	h->listen_fd = -1;
	free(h->q);
	h->q = NULL;
}
