/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The listening socket and its clients.  A client sends one request line;
 * a subscription then receives event lines until it goes away, a command
 * gets its reply and is closed once the reply has drained.  All sockets
 * are non-blocking: a slow client costs only its own queue.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include "agent.h"

enum { CL_REQ, CL_SUB, CL_CLOSING };

#define IN_CHUNK 4096

void server_notify_sync(struct af_agent *a, const struct af_client *leaving)
{
	uint64_t addr[AF_NOTIFY_ADDRS];
	unsigned n = 0;

	if (!a->notify_all)
		for (const struct af_client *c = a->clients; c && n <= AF_NOTIFY_ADDRS; c = c->next) {
			if (c == leaving || c->state != CL_SUB ||
			    !(c->req.events & AF_EVMASK(AF_EV_NOTIFY)))
				continue;
			for (unsigned i = 0; i < c->req.naddr && n <= AF_NOTIFY_ADDRS; i++) {
				unsigned j = 0;

				while (j < n && addr[j] != c->req.addr[i])
					j++;
				if (j == n && n++ < AF_NOTIFY_ADDRS)
					addr[j] = c->req.addr[i];
			}
		}
	/* n > AF_NOTIFY_ADDRS (the union does not fit): every address */
	af_collector_set_want_notify(a->col, a->notify_subscribers > 0, addr,
				     a->notify_all ? 0 : n);
}

/* Switch records are the bulk of the ring-buffer traffic, and notify
 * records of every device write the next: the BPF side produces them only
 * while some subscriber asked for them (notify: beyond the doorbells the
 * hint backends need). */
static void sub_count(struct af_agent *a, struct af_client *c, int delta)
{
	a->nsubscribers += delta;
	if (c->req.events & AF_EVMASK(AF_EV_NOTIFY)) {
		a->notify_subscribers += delta;
		if (!c->req.naddr)
			a->notify_all += delta;
		server_notify_sync(a, delta < 0 ? c : NULL);
	}
	if (!(c->req.events & AF_EVMASK(AF_EV_SWITCH)))
		return;
	a->switch_subscribers += delta;
	if (!a->no_switch && a->switch_subscribers == (delta > 0 ? 1 : 0))
		af_collector_set_want_switch(a->col, delta > 0);
}

/* Unlink and close now, free after the current epoll batch: a later
 * entry of the same batch may still point at this client. */
static void client_free(struct af_agent *a, struct af_client *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		a->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->state == CL_SUB)
		sub_count(a, c, -1);
	a->nclients--;
	log_debug("client %lu: closed", c->id);
	close(c->w.fd);		/* also removes it from the epoll set */
	c->w.fd = -1;
	c->prev = NULL;
	c->next = a->dead;
	a->dead = c;
}

void server_reap(struct af_agent *a)
{
	while (a->dead) {
		struct af_client *c = a->dead;
		a->dead = c->next;
		outq_free(&c->q);
		free(c->in);
		free(c);
	}
}

static void client_set_mask(struct af_agent *a, struct af_client *c, uint32_t mask)
{
	if (mask == c->epoll_mask)
		return;
	if (af_watch_mod(a, &c->w, mask) == 0)
		c->epoll_mask = mask;
}

/* Write what the queue holds; returns -1 if the client was freed. */
static int client_flush(struct af_agent *a, struct af_client *c)
{
	int err = outq_flush(&c->q, c->w.fd);

	if (err) {
		log_debug("client %lu: write: %s", c->id, strerror(-err));
		client_free(a, c);
		return -1;
	}
	if (!outq_len(&c->q) && c->state == CL_CLOSING) {
		client_free(a, c);
		return -1;
	}
	if (outq_len(&c->q))
		client_set_mask(a, c, c->epoll_mask | EPOLLOUT);
	else
		client_set_mask(a, c, c->epoll_mask & ~EPOLLOUT);
	return 0;
}

/* Queue an error line and close once it is written. */
static void client_error(struct af_agent *a, struct af_client *c, const char *msg)
{
	struct sbuf b = { 0 };

	af_error_json(&b, msg);
	if (!b.failed)
		outq_push(&c->q, b.p, b.len);
	sb_free(&b);
	log_debug("client %lu: %s", c->id, msg);
	if (c->state == CL_SUB)
		sub_count(a, c, -1);
	c->state = CL_CLOSING;
	c->deadline_ns = af_now_ns() + a->o.reply_timeout_ns;
	client_flush(a, c);
}

/* The first line of a subscription says what was understood; once it
 * arrives, every later record that matches is on its way. */
static void subscribe_ack(struct af_client *c)
{
	struct sbuf b = { 0 };
	const char *sep = "";

	sb_puts(&b, "{\"subscribed\":[");
	for (unsigned t = 1; t < 32; t++)
		if (c->req.events & AF_EVMASK(t) && af_ev_name(t)) {
			sb_printf(&b, "%s\"%s\"", sep, af_ev_name(t));
			sep = ",";
		}
	sb_puts(&b, "]");
	if (c->req.vm)
		sb_printf(&b, ",\"vm\":%u", c->req.vm);
	if (c->req.naddr) {
		sb_puts(&b, ",\"addr\":[");
		for (unsigned i = 0; i < c->req.naddr; i++) {
			sb_puts(&b, i ? "," : "");
			sb_hex(&b, c->req.addr[i]);
		}
		sb_puts(&b, "]");
	}
	sb_puts(&b, "}\n");
	if (!b.failed)
		outq_push(&c->q, b.p, b.len);
	sb_free(&b);
}

static void client_request(struct af_agent *a, struct af_client *c, size_t linelen)
{
	char err[160];
	struct sbuf out = { 0 };

	if (af_request_parse(c->in, linelen, &c->req, err, sizeof(err))) {
		a->bad_requests++;
		client_error(a, c, err);
		return;
	}
	free(c->in);
	c->in = NULL;
	c->inlen = 0;
	if (c->req.cmd == AF_CMD_SUBSCRIBE) {
		log_debug("client %lu: subscribed (events 0x%x, vm %u)", c->id,
			  c->req.events, c->req.vm);
		c->state = CL_SUB;
		c->deadline_ns = 0;
		sub_count(a, c, 1);
		subscribe_ack(c);
		client_flush(a, c);
		return;
	}
	cmd_reply(a, &c->req, &out);
	if (out.failed) {
		sb_free(&out);
		client_error(a, c, "out of memory");
		return;
	}
	/* a ps of 100,000 processes is tens of MB: hand it over, do not copy */
	if (outq_adopt(&c->q, &out) && outq_push(&c->q, out.p, out.len))
		log_warnx("client %lu: reply dropped: out of memory", c->id);
	sb_free(&out);
	c->state = CL_CLOSING;
	c->deadline_ns = af_now_ns() + a->o.reply_timeout_ns;
	client_flush(a, c);
}

/* Read request bytes; the request is the first line, at most 64 KiB. */
static void client_read_request(struct af_agent *a, struct af_client *c)
{
	size_t room = AF_REQ_MAX_LINE + 1 - c->inlen;
	char *nl, *p;
	ssize_t r;

	p = realloc(c->in, c->inlen + (room < IN_CHUNK ? room : IN_CHUNK));
	if (!p) {
		client_error(a, c, "out of memory");
		return;
	}
	c->in = p;
	r = recv(c->w.fd, c->in + c->inlen, room < IN_CHUNK ? room : IN_CHUNK, MSG_DONTWAIT);
	if (r < 0) {
		if (errno != EAGAIN && errno != EINTR)
			client_free(a, c);
		return;
	}
	nl = memchr(c->in + c->inlen, '\n', r);
	c->inlen += r;
	if (nl) {
		client_request(a, c, nl - c->in);
	} else if (c->inlen > AF_REQ_MAX_LINE) {
		a->bad_requests++;
		client_error(a, c, "request line longer than 65536 bytes");
	} else if (r == 0 && c->inlen) {
		client_request(a, c, c->inlen);	/* last line without newline */
	} else if (r == 0) {
		client_free(a, c);
	}
}

/* After the request, input is ignored; EOF just stops reading (the peer
 * may have only shut down its writing side). */
static void client_discard_input(struct af_agent *a, struct af_client *c)
{
	char buf[4096];
	ssize_t r = recv(c->w.fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (r == 0)
		client_set_mask(a, c, c->epoll_mask & ~(EPOLLIN | EPOLLRDHUP));
	else if (r < 0 && errno != EAGAIN && errno != EINTR)
		client_free(a, c);
}

static void client_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	struct af_client *c = (struct af_client *)w;

	if (c->w.fd < 0)
		return;		/* closed earlier in this batch */
	if (ev & (EPOLLERR | EPOLLHUP)) {
		client_free(a, c);
		return;
	}
	if (ev & EPOLLOUT && client_flush(a, c))
		return;
	if (ev & (EPOLLIN | EPOLLRDHUP)) {
		if (c->state == CL_REQ)
			client_read_request(a, c);
		else
			client_discard_input(a, c);
	}
}

static void client_new(struct af_agent *a, int fd)
{
	struct af_client *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return;
	}
	c->w.fn = client_ready;
	c->w.fd = fd;
	c->id = ++a->next_client_id;
	c->state = CL_REQ;
	c->deadline_ns = af_now_ns() + a->o.request_timeout_ns;
	outq_init(&c->q, a->o.queue_limit, &a->qpool);
	c->epoll_mask = EPOLLIN | EPOLLRDHUP;
	if (af_watch_add(a, &c->w, c->epoll_mask)) {
		log_warn("epoll_ctl(client)");
		close(fd);
		free(c);
		return;
	}
	c->next = a->clients;
	if (a->clients)
		a->clients->prev = c;
	a->clients = c;
	a->nclients++;
	a->clients_total++;
	log_debug("client %lu: connected", c->id);
}

static void refuse(struct af_agent *a, int fd)
{
	static const char full[] = "{\"error\":\"too many clients\"}\n";

	send(fd, full, sizeof(full) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	a->clients_refused++;
}

/*
 * Out of file descriptors: the connection stays in the backlog and the
 * listening socket readable, so the loop would spin on accept().  The
 * reserve fd makes room to accept it and tell the client.  accept() says
 * EMFILE before it looks at the backlog, so the reserve also tells when
 * nothing is waiting.  When even that fails, accepting pauses until the
 * next tick.  Returns 1 after refusing a client, 0 when none waits, -1
 * when paused.
 */
static int accept_no_fd(struct af_agent *a, struct af_watch *w)
{
	int fd = -1, err = errno;

	if (err == EMFILE && a->reserve_fd >= 0) {
		close(a->reserve_fd);
		fd = accept4(w->fd, NULL, NULL, SOCK_CLOEXEC);
		err = fd < 0 ? errno : 0;
		if (fd >= 0)
			refuse(a, fd);
		a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (a->reserve_fd >= 0 && (fd >= 0 || err == EAGAIN))
			return fd >= 0;
		if (!err)
			err = EMFILE;
	}
	errno = err;
	log_warn("accept (not accepting for a second)");
	if (af_watch_mod(a, w, 0) == 0)
		a->accept_paused = 1;
	return -1;
}

static void listen_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (accept_no_fd(a, w) > 0)
					continue;
			} else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				log_warn("accept");
			}
			return;
		}
		if (a->nclients >= a->o.max_clients) {
			refuse(a, fd);
			continue;
		}
		client_new(a, fd);
	}
}

static int fds_in_use(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n - 1;	/* the directory's own fd */
}

/* Every client takes a file descriptor: more clients than the open-file
 * limit leaves room for would make accept() fail. */
void server_limit_clients(struct af_agent *a)
{
	struct rlimit rl;
	int used = fds_in_use(), room;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY || used < 0)
		return;
	/* hint backends reconnect, and a few fds come and go */
	room = (int)(rl.rlim_cur > (rlim_t)INT_MAX ? INT_MAX : rl.rlim_cur) - used -
	       a->o.nhints - 4;
	if (room >= a->o.max_clients)
		return;
	if (room < 1)
		room = 1;
	log_warnx("--max-clients %d: the open-file limit (%llu, %d in use) leaves room for %d; "
		  "serving at most %d clients (raise it with ulimit -n or LimitNOFILE=)",
		  a->o.max_clients, (unsigned long long)rl.rlim_cur, used, room, room);
	a->o.max_clients = room;
}

void server_event(struct af_agent *a, const struct af_event *ev)
{
	uint32_t bit = ev->type < 32 ? AF_EVMASK(ev->type) : 0;
	int encoded = 0;

	a->events[ev->type < AF_EV_MAX ? ev->type : 0]++;
	if (ev->type == AF_EV_VM_NEW)	/* a new VM may have a reused pid */
		vmname_forget(a->names, ev->vm_pid);
	for (struct af_client *c = a->clients; c; c = c->next) {
		if (c->state != CL_SUB || !(c->req.events & bit) ||
		    (c->req.vm && c->req.vm != ev->vm_pid) ||
		    (ev->type == AF_EV_NOTIFY && !af_request_wants_addr(&c->req, ev->addr)))
			continue;
		/* encode once per record, and only if someone wants it */
		if (!encoded) {
			sb_reset(&a->ev_line);
			af_event_json_name(&a->ev_line, ev, vmname(a->names, ev->vm_pid));
			if (a->ev_line.failed)
				return;
			encoded = 1;
		}
		if (outq_push_event(&c->q, a->ev_line.p, a->ev_line.len))
			a->sub_dropped++;
	}
}

/* Called once per ring-buffer batch: write to every subscriber that is
 * not already waiting for EPOLLOUT. */
void server_flush(struct af_agent *a)
{
	struct af_client *c, *next;

	for (c = a->clients; c; c = next) {
		next = c->next;
		if (c->state == CL_SUB && outq_len(&c->q) && !(c->epoll_mask & EPOLLOUT))
			client_flush(a, c);
	}
}

void server_tick(struct af_agent *a, uint64_t now)
{
	struct af_client *c, *next;

	if (a->accept_paused && af_watch_mod(a, &a->listen_w, EPOLLIN) == 0)
		a->accept_paused = 0;

	for (c = a->clients; c; c = next) {
		next = c->next;
		if (!c->deadline_ns || now < c->deadline_ns)
			continue;
		a->client_timeouts++;
		if (c->state == CL_REQ) {
			client_error(a, c, "no request received in time; send one JSON line");
		} else {
			log_debug("client %lu: reply not read in time", c->id);
			client_free(a, c);
		}
	}
}

/* The socket policy (lock file, stale-socket replacement, mode) is
 * lib/sock.c's; a live agent on the path is refused there. */
int server_open(struct af_agent *a, char *err, size_t errlen)
{
	const struct sock_listen_opts lo = {
		.path = a->o.socket_path, .type = SOCK_STREAM, .mode = a->o.socket_mode,
		.gid = a->o.socket_gid, .backlog = 128, .mkdir_parent = 1,
	};

	if (sock_listen(&a->listener, &lo, err, errlen))
		return -1;
	a->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	a->listen_w.fn = listen_ready;
	a->listen_w.fd = a->listener.fd;
	if (af_watch_add(a, &a->listen_w, EPOLLIN)) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -1;	/* server_close() closes it and removes the file */
	}
	return 0;
}

void server_close(struct af_agent *a)
{
	while (a->clients)
		client_free(a, a->clients);
	server_reap(a);
	sock_listener_close(&a->listener);	/* removes only our own files */
	a->listen_w.fd = -1;
	if (a->reserve_fd >= 0)
		close(a->reserve_fd);
	a->reserve_fd = -1;
	sb_free(&a->ev_line);
}
