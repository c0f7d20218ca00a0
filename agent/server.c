/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The listening socket and its clients.  A client sends one request line;
 * a subscription then receives event lines until it goes away, a command
 * gets its reply and is closed once the reply has drained.  All sockets
 * are non-blocking: a slow client costs only its own queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "agent.h"
#include "log.h"

enum { CL_REQ, CL_SUB, CL_CLOSING };

#define IN_CHUNK 4096

/* Switch records are the bulk of the ring-buffer traffic: the BPF side
 * produces them only while some subscriber asked for them. */
static void sub_count(struct af_agent *a, struct af_client *c, int delta)
{
	a->nsubscribers += delta;
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
	outq_init(&c->q, a->o.queue_limit);
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

static void listen_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	static const char full[] = "{\"error\":\"too many clients\"}\n";

	for (;;) {
		int fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_warn("accept");
			return;
		}
		if (a->nclients >= a->o.max_clients) {
			send(fd, full, sizeof(full) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		client_new(a, fd);
	}
}

void server_event(struct af_agent *a, const struct af_event *ev)
{
	uint32_t bit = ev->type < 32 ? AF_EVMASK(ev->type) : 0;
	int encoded = 0;

	a->events[ev->type < 16 ? ev->type : 0]++;
	for (struct af_client *c = a->clients; c; c = c->next) {
		if (c->state != CL_SUB || !(c->req.events & bit) ||
		    (c->req.vm && c->req.vm != ev->vm_pid))
			continue;
		/* encode once per record, and only if someone wants it */
		if (!encoded) {
			sb_reset(&a->ev_line);
			af_event_json(&a->ev_line, ev);
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

/* Another agent answering on the path means we must not steal it; a
 * socket nobody answers on is left over from a crash. */
static int claim_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; remove it or use --socket", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (ret == 0) {
		snprintf(err, errlen, "another antfarm-agent is already listening on %s", path);
		return -1;
	}
	log_info("removing stale socket %s", path);
	unlink(path);
	return 0;
}

static void make_parent_dir(const char *path)
{
	char *copy = strdup(path);

	if (copy && mkdir(dirname(copy), 0755) && errno != EEXIST)
		log_warn("mkdir %s", copy);
	free(copy);
}

/* Bind under a temporary name and rename into place once listening, so
 * that a client that sees the socket file can connect to it. */
int server_open(struct af_agent *a, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = a->o.socket_path;
	struct stat st;
	int fd = -1, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.%d.tmp", path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	make_parent_dir(path);
	if (claim_path(path, err, errlen))
		return -1;
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(sa.sun_path, 0660) || listen(fd, 128) || rename(sa.sun_path, path) ||
	    stat(path, &st)) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		unlink(sa.sun_path);
		goto fail;
	}
	a->sock_ino = st.st_ino;
	a->listen_w.fn = listen_ready;
	a->listen_w.fd = fd;
	if (af_watch_add(a, &a->listen_w, EPOLLIN)) {
		snprintf(err, errlen, "epoll_ctl: %s", strerror(errno));
		return -1;	/* server_close() closes it and removes the file */
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

void server_close(struct af_agent *a)
{
	struct stat st;

	while (a->clients)
		client_free(a, a->clients);
	server_reap(a);
	if (a->listen_w.fd >= 0) {
		close(a->listen_w.fd);
		/* remove the socket file only if it is still ours */
		if (!stat(a->o.socket_path, &st) && st.st_ino == a->sock_ino)
			unlink(a->o.socket_path);
	}
	sb_free(&a->ev_line);
}
