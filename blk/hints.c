// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Hint socket: accept, validate and count af_hint records. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "antfarm_hint.h"
#include "dev.h"
#include "hints.h"

int hints_open(struct vub_hints *h, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		h->conns[i] = -1;
	h->listen_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_warnx("hint socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	h->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (h->listen_fd < 0)
		return -1;
	unlink(path);
	if (bind(h->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(h->listen_fd, 4) < 0) {
		log_warn("hint socket %s", path);
		close(h->listen_fd);
		h->listen_fd = -1;
		return -1;
	}
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
			return fd;
		}
	h->refused++;
	close(fd);
	return -1;
}

static void drop(struct vub_hints *h, int fd)
{
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		if (h->conns[i] == fd)
			h->conns[i] = -1;
	close(fd);
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
		__atomic_store_n(&d->q[m->value].hint_proc, m->proc, __ATOMIC_RELAXED);
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
		for (unsigned i = 0; i < d->nqueues; i++)
			__atomic_store_n(&d->q[i].hint_proc, AF_PROC_UNKNOWN, __ATOMIC_RELAXED);
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

void hints_json(const struct vub_hints *h, FILE *out)
{
	int conns = 0;

	for (int i = 0; i < VUB_HINT_CONNS; i++)
		conns += h->conns[i] >= 0;
	fprintf(out, "{\"type\":\"hints\",\"enabled\":%s,\"connections\":%d,\"received\":%llu,"
		"\"notify\":%llu,\"create\":%llu,\"exit\":%llu,\"vm_exit\":%llu,\"bad\":%llu,"
		"\"other_vm\":%llu,\"unmatched\":%llu,\"refused\":%llu}",
		h->listen_fd >= 0 ? "true" : "false", conns,
		(unsigned long long)h->received, (unsigned long long)h->notify,
		(unsigned long long)h->create, (unsigned long long)h->exit,
		(unsigned long long)h->vm_exit, (unsigned long long)h->bad,
		(unsigned long long)h->other_vm, (unsigned long long)h->unmatched,
		(unsigned long long)h->refused);
}

void hints_close(struct vub_hints *h)
{
	for (int i = 0; i < VUB_HINT_CONNS; i++)
		if (h->conns[i] >= 0)
			close(h->conns[i]);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
}
