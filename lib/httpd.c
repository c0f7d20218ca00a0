/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The /metrics HTTP server (httpd.h): a request parser for the subset of
 * HTTP/1.x that a scraper sends, and the non-blocking connections around
 * it.  The request head is untrusted input: anything outside the grammar
 * below is refused with a status, never guessed at.
 *
 *   request-line = method SP origin-form SP "HTTP/1." DIGIT CRLF
 *   field-line   = token ":" OWS visible-or-blank* CRLF
 *   head         = request-line *field-line CRLF	(bare LF accepted too)
 */
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "clock.h"
#include "httpd.h"

/* RFC 9110 tchar */
static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* The next line of the head: its length without the line end, and *next
 * past it; -1 if the line end has not arrived.  A CR not followed by LF
 * is an error (-2). */
static long next_line(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', end - p);
	long n;

	if (!nl)
		return -1;
	n = nl - p;
	if (n && p[n - 1] == '\r')
		n--;
	if (memchr(p, '\r', n))
		return -2;
	*next = nl + 1;
	return n;
}

static int parse_request_line(const char *p, long n, struct http_request *req)
{
	const char *sp1, *sp2, *q;
	long mlen, tlen;

	sp1 = memchr(p, ' ', n);
	if (!sp1)
		return -400;
	mlen = sp1 - p;
	for (long i = 0; i < mlen; i++)
		if (!is_tchar(p[i]))
			return -400;
	sp2 = memchr(sp1 + 1, ' ', n - mlen - 1);
	if (!mlen || !sp2)
		return -400;
	tlen = sp2 - sp1 - 1;
	if (tlen > HTTPD_MAX_TARGET)
		return -414;
	if (tlen < 1 || sp1[1] != '/')
		return -400;
	for (long i = 0; i < tlen; i++)
		if ((unsigned char)sp1[1 + i] <= 0x20 || (unsigned char)sp1[1 + i] >= 0x7f)
			return -400;
	/* version: exactly "HTTP/" DIGIT "." DIGIT */
	q = sp2 + 1;
	if (p + n - q != 8 || memcmp(q, "HTTP/", 5) || q[6] != '.' ||
	    q[5] < '0' || q[5] > '9' || q[7] < '0' || q[7] > '9')
		return -400;
	if (q[5] != '1')
		return -505;
	req->minor = q[7] - '0';
	q = memchr(sp1 + 1, '?', tlen);
	memcpy(req->path, sp1 + 1, q ? q - sp1 - 1 : tlen);
	req->path[q ? q - sp1 - 1 : tlen] = 0;
	if (mlen == 3 && !memcmp(p, "GET", 3))
		req->method = HTTP_GET;
	else if (mlen == 4 && !memcmp(p, "HEAD", 4))
		req->method = HTTP_HEAD;
	else
		req->method = 0;	/* a valid method we do not serve: 405 at the end */
	return 0;
}

static int parse_field(const char *p, long n)
{
	const char *colon = memchr(p, ':', n);

	if (!colon || colon == p)
		return -400;	/* also obs-fold: a line starting with a blank */
	for (const char *c = p; c < colon; c++)
		if (!is_tchar(*c))
			return -400;
	for (const char *c = colon + 1; c < p + n; c++)
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			return -400;
	return 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
	const char *p = buf, *end = buf + (len > HTTPD_MAX_HEAD ? HTTPD_MAX_HEAD : len), *next;
	long n;
	int rc;

	memset(req, 0, sizeof(*req));
	/* RFC 9112 2.2: empty lines before the request line are ignored */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	n = next_line(p, end, &next);
	if (n == -2)
		return -400;
	if (n < 0) {	/* no line end yet: refuse early what cannot become valid */
		if (end - p > HTTPD_MAX_TARGET + 32)
			return -414;
		return len >= HTTPD_MAX_HEAD ? -431 : 0;
	}
	rc = parse_request_line(p, n, req);
	if (rc)
		return rc;
	for (p = next;;) {
		n = next_line(p, end, &next);
		if (n == -2)
			return -400;
		if (n < 0)
			return len >= HTTPD_MAX_HEAD ? -431 : 0;
		if (n == 0)
			break;
		if (++req->fields > HTTPD_MAX_FIELDS)
			return -431;
		rc = parse_field(p, n);
		if (rc)
			return rc;
		p = next;
	}
	if (!req->method)
		return -405;
	return next - buf;
}

/* ---- the server ---- */

struct http_conn {
	int fd;
	char in[HTTPD_MAX_HEAD];
	size_t inlen;
	char *out;		/* the whole response once known */
	size_t outlen, outoff;
	time_t deadline;
	struct http_conn *prev, *next;
};

struct httpd {
	int ep, listen_fd, timer_fd;
	httpd_render_fn render;
	void *ctx;
	struct http_conn *conns;
	int nconns;
	char addr[80];
};

static time_t now_s(void)
{
	return (time_t)(af_now_ns() / 1000000000ull);
}

/* "host:port", "[v6]:port" -> getaddrinfo's two strings */
static int split_addr(const char *s, char *host, size_t hlen, const char **port)
{
	const char *colon;
	size_t n;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		n = rb - s - 1;
		s++;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -1;
		n = colon - s;
	}
	if (!n || n >= hlen || !colon[1])
		return -1;
	for (const char *c = colon + 1; *c; c++)
		if (*c < '0' || *c > '9' || c - colon > 5)
			return -1;
	if (atoi(colon + 1) > 65535)
		return -1;
	memcpy(host, s, n);
	host[n] = 0;
	*port = colon + 1;
	return 0;
}

static int listen_tcp(struct httpd *h, const char *addr_port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[64], hbuf[64], pbuf[8];
	const char *port;
	int one = 1, rc;

	if (split_addr(addr_port, host, sizeof(host), &port)) {
		snprintf(err, errlen, "metrics address '%s': not ADDR:PORT (e.g. 127.0.0.1:9477, "
			 "[::1]:9477)", addr_port);
		return -1;
	}
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "metrics address '%s': %s", addr_port, gai_strerror(rc));
		return -1;
	}
	h->listen_fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0 ||
	    setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(h->listen_fd, res->ai_addr, res->ai_addrlen) || listen(h->listen_fd, 16) ||
	    getsockname(h->listen_fd, (struct sockaddr *)&ss, &sl)) {
		snprintf(err, errlen, "metrics address '%s': %s", addr_port, strerror(errno));
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	if (getnameinfo((struct sockaddr *)&ss, sl, hbuf, sizeof(hbuf), pbuf, sizeof(pbuf),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(h->addr, sizeof(h->addr), ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s",
			 hbuf, pbuf);
	return 0;
}

static int ep_add(struct httpd *h, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev);
}

struct httpd *httpd_open(const char *addr_port, httpd_render_fn render, void *ctx,
			 char *err, size_t errlen)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct httpd *h = calloc(1, sizeof(*h));

	if (!h) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->render = render;
	h->ctx = ctx;
	h->listen_fd = h->timer_fd = -1;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->ep < 0 || listen_tcp(h, addr_port, err, errlen))
		goto fail;
	h->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->timer_fd < 0 || timerfd_settime(h->timer_fd, 0, &its, NULL) ||
	    ep_add(h, h->listen_fd, EPOLLIN, &h->listen_fd) ||
	    ep_add(h, h->timer_fd, EPOLLIN, &h->timer_fd)) {
		snprintf(err, errlen, "metrics server: %s", strerror(errno));
		goto fail;
	}
	return h;
fail:
	if (!err[0])
		snprintf(err, errlen, "metrics server: %s", strerror(errno));
	httpd_close(h);
	return NULL;
}

int httpd_fd(const struct httpd *h)
{
	return h->ep;
}

const char *httpd_addr(const struct httpd *h)
{
	return h->addr;
}

static void conn_close(struct httpd *h, struct http_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	close(c->fd);
	free(c->out);
	free(c);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/* The whole response into c->out: status line, fields, body (none for HEAD). */
static void respond(struct http_conn *c, int status, const char *ctype, const char *body,
		    size_t blen, int head_only)
{
	FILE *f = open_memstream(&c->out, &c->outlen);

	if (!f)
		return;
	fprintf(f, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"%sConnection: close\r\n\r\n", status, reason(status), ctype, blen,
		status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head_only)
		fwrite(body, 1, blen, f);
	if (fclose(f)) {
		free(c->out);
		c->out = NULL;
	}
}

static void respond_error(struct http_conn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));

	respond(c, status, "text/plain; charset=utf-8", body, n, 0);
}

static void respond_metrics(struct httpd *h, struct http_conn *c, const struct http_request *r)
{
	char *body = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&body, &blen);
	int ok = f && h->render(h->ctx, f) == 0;

	if (f && fclose(f))
		ok = 0;
	if (ok)
		respond(c, 200, "text/plain; version=0.0.4; charset=utf-8", body, blen,
			r->method == HTTP_HEAD);
	else
		respond_error(c, 500);
	free(body);
}

/* Write what is left of the response; closes when done or on error. */
static void conn_write(struct httpd *h, struct http_conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
			epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev);
			return;
		}
		if (n <= 0)
			break;
		c->outoff += n;
	}
	conn_close(h, c);
}

static void conn_read(struct httpd *h, struct http_conn *c)
{
	struct http_request req;
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	int rc;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {		/* gone, or closed before a whole head */
		conn_close(h, c);
		return;
	}
	c->inlen += n;
	rc = http_parse_request(c->in, c->inlen, &req);
	if (rc == 0)
		return;
	if (rc < 0)
		respond_error(c, -rc);
	else if (!strcmp(req.path, "/metrics"))
		respond_metrics(h, c, &req);
	else
		respond_error(c, 404);
	if (!c->out) {		/* out of memory: nothing sensible to say */
		conn_close(h, c);
		return;
	}
	/* the request is all we read; a body or pipelined bytes are ignored */
	shutdown(c->fd, SHUT_RD);
	conn_write(h, c);
}

static void accept_all(struct httpd *h)
{
	for (;;) {
		int fd = accept4(h->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct http_conn *c;

		if (fd < 0)
			return;
		c = h->nconns < HTTPD_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
		if (!c) {	/* too many at once: the newest is turned away */
			close(fd);
			continue;
		}
		c->fd = fd;
		c->deadline = now_s() + HTTPD_TIMEOUT_S;
		if (ep_add(h, fd, EPOLLIN, c)) {
			close(fd);
			free(c);
			continue;
		}
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		h->nconns++;
	}
}

static void expire(struct httpd *h)
{
	uint64_t x;
	time_t now = now_s();

	if (read(h->timer_fd, &x, sizeof(x)) < 0)
		return;
	for (struct http_conn *c = h->conns, *next; c; c = next) {
		next = c->next;
		if (now >= c->deadline)
			conn_close(h, c);
	}
}

void httpd_service(struct httpd *h)
{
	struct epoll_event evs[32];
	int n = epoll_wait(h->ep, evs, 32, 0);
	int do_accept = 0, do_expire = 0;

	/* expire() may free a connection that a later entry of this batch
	 * points at: it runs after the batch, as does accept_all() */
	for (int i = 0; i < n; i++) {
		void *p = evs[i].data.ptr;

		if (p == &h->listen_fd)
			do_accept = 1;
		else if (p == &h->timer_fd)
			do_expire = 1;
		else if (((struct http_conn *)p)->out)
			conn_write(h, p);
		else
			conn_read(h, p);
	}
	if (do_expire)
		expire(h);
	if (do_accept)
		accept_all(h);
}

void httpd_close(struct httpd *h)
{
	if (!h)
		return;
	while (h->conns)
		conn_close(h, h->conns);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->timer_fd >= 0)
		close(h->timer_fd);
	if (h->ep >= 0)
		close(h->ep);
	free(h);
}

void prom_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}
