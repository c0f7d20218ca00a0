// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hint socket: accept, validate and count af_hint records. */
#include <errno.h>
#include <stdbool.h>
#include <sys/eventfd.h>
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
	h->learn_efd = -1;
	sock_listener_init(&h->listener);
	pthread_mutex_init(&h->mu, NULL);
	h->q = calloc(VUB_MAX_QUEUES, sizeof(*h->q));
	if (!h->q)
		return -1;
	h->learn_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->learn_efd < 0) {
		log_warn("eventfd");
		return -1;
	}
	if (sock_listen(&h->listener, &lo, err, sizeof(err))) {
		log_warnx("%s", err);
		return -1;
	}
	h->listen_fd = h->listener.fd;
	return 0;
}

int hints_accept(struct vub_hints *h, struct vub_dev *d)
{
	int fd = accept4(h->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (fd < 0)
		return -1;
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		if (h->conns[i] < 0) {
			h->conns[i] = fd;
			__atomic_add_fetch(&h->live, 1, __ATOMIC_RELAXED);
			hints_announce(h, d, true);	/* the newcomer knows nothing */
			return fd;
		}
	h->refused++;
	close(fd);
	return -1;
}

static void send_all(struct vub_hints *h, const struct af_hint *m, uint64_t *count)
{
	for (int i = 0; i < VUB_HINT_CONNS; i++) {
		if (h->conns[i] < 0)
			continue;
		/* a full socket loses this; the next change resends everything */
		if (send(h->conns[i], m, sizeof(*m), MSG_DONTWAIT | MSG_NOSIGNAL) == sizeof(*m))
			(*count)++;
		else
			h->send_failed++;
	}
}

void hints_announce(struct vub_hints *h, struct vub_dev *d, bool force)
{
	struct af_hint m = { .magic = AF_HINT_MAGIC, .version = AF_HINT_VERSION };
	uint64_t started = 0, learned = 0, addr[VUB_MAX_QUEUES];
	unsigned pending = 0;
	uint64_t efd;

	if (h->learn_efd >= 0 && read(h->learn_efd, &efd, sizeof(efd)) < 0 && errno != EAGAIN)
		log_warn("hints: learn eventfd");
	if (!h->q)
		return;
	pthread_mutex_lock(&h->mu);
	for (unsigned i = 0; i < d->nqueues; i++) {
		started |= (uint64_t)d->q[i].started << i;
		learned |= (uint64_t)h->q[i].learned << i;
		addr[i] = h->q[i].db_addr;
	}
	pthread_mutex_unlock(&h->mu);
	if (!d->peer_pid)
		started = learned = 0;
	if (!force && h->told_vm == (uint32_t)d->peer_pid && h->told_started == started &&
	    h->told_learned == learned)
		return;
	/* a queue started that has no known doorbell: learning again */
	if (force || h->told_vm != (uint32_t)d->peer_pid || (started & ~learned & ~h->told_started)) {
		m.type = AF_HINT_SERVE;
		m.vm_pid = d->peer_pid;
		m.value = d->nqueues;
		send_all(h, &m, &h->serve_sent);
	}
	pending = __builtin_popcountll(started & ~learned);
	m.type = AF_HINT_DOORBELL;
	for (unsigned i = 0; i < d->nqueues && d->peer_pid; i++) {
		if (!(learned >> i & 1))
			continue;
		m.vm_pid = d->peer_pid;
		m.addr = addr[i];
		m.value = i;
		m.pending = pending;
		send_all(h, &m, &h->doorbell_sent);
	}
	h->told_vm = d->peer_pid;
	h->told_started = started;
	h->told_learned = learned;
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
	const char *why;

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
		why = af_hint_check(&m, n, AF_HINT_NOTIFY, AF_HINT_VM_EXIT);
		if (*why) {
			h->bad++;
			log_warnx("hint socket: %s (%zd bytes, version %u, type %u; this antfarm-blk "
				  "speaks version %u); closing the hint connection", why, n,
				  n >= 8 ? m.version : 0, n >= 8 ? m.type : 0, AF_HINT_VERSION);
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
			"\"ignored\":%llu,\"learnings\":%llu,\"unheld\":%llu}",
			(unsigned long long)qh->exact,
			(unsigned long long)qh->held, (unsigned long long)qh->late,
			(unsigned long long)qh->unlearned, (unsigned long long)qh->ignored,
			(unsigned long long)qh->learnings, (unsigned long long)qh->unheld);
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
		"\"other_vm\":%llu,\"unmatched\":%llu,\"refused\":%llu,\"serve_sent\":%llu,"
		"\"doorbell_sent\":%llu,\"send_failed\":%llu",
		h->listen_fd >= 0 ? "true" : "false", conns,
		(unsigned long long)h->received, (unsigned long long)h->notify,
		(unsigned long long)h->create, (unsigned long long)h->exit,
		(unsigned long long)h->vm_exit, (unsigned long long)h->bad,
		(unsigned long long)h->other_vm, (unsigned long long)h->unmatched,
		(unsigned long long)h->refused, (unsigned long long)h->serve_sent,
		(unsigned long long)h->doorbell_sent, (unsigned long long)h->send_failed);
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
	if (h->learn_efd >= 0)
		close(h->learn_efd);
	h->learn_efd = -1;
	sock_listener_close(&h->listener);	/* removes only our own files */
	h->listen_fd = -1;
	free(h->q);
	h->q = NULL;
}
