/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A minimal HTTP server for one resource: GET (or HEAD) /metrics answers
 * the Prometheus text that a callback writes; everything else gets a
 * short error.  Made to sit in a daemon's epoll loop without ever
 * blocking it: the server keeps its sockets (the listener, up to
 * HTTPD_MAX_CONNS connections, a 1 s timer for their deadlines) in an
 * epoll set of its own, whose fd the daemon watches for EPOLLIN and hands
 * back to httpd_service().  Every socket is non-blocking; a client gets
 * HTTPD_TIMEOUT_S seconds for its whole exchange and a request head of at
 * most HTTPD_MAX_HEAD bytes; one response per connection (Connection:
 * close).  The request parser is a pure function so that it can be fuzzed.
 */
#ifndef AF_LIB_HTTPD_H
#define AF_LIB_HTTPD_H

#include <stddef.h>
#include <stdio.h>

#define HTTPD_MAX_HEAD   8192
#define HTTPD_MAX_TARGET 1024
#define HTTPD_MAX_FIELDS 100
#define HTTPD_MAX_CONNS  64
#define HTTPD_TIMEOUT_S  10

enum http_method { HTTP_GET = 1, HTTP_HEAD };

struct http_request {
	enum http_method method;
	char path[HTTPD_MAX_TARGET + 1];	/* the target without its query */
	int minor;				/* HTTP/1.minor */
	int fields;				/* header fields seen */
};

/* Parses the request head at buf[0..len).  Returns the head's length
 * (through its empty line) when it is complete and valid, 0 when more
 * bytes are needed, or -STATUS (-400, -405, -414, -431, -505) for a head
 * that must be refused.  Bytes after the head are not looked at. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* Writes the body of GET /metrics; returns 0, or -1 for a 500. */
typedef int (*httpd_render_fn)(void *ctx, FILE *out);

struct httpd;

/* Listens on ADDR:PORT (a numeric IPv4 address, [IPv6] or a host name
 * such as localhost; PORT 0 picks a free one).  NULL with a sentence in err. */
struct httpd *httpd_open(const char *addr_port, httpd_render_fn render, void *ctx,
			 char *err, size_t errlen);
/* The fd to watch for EPOLLIN. */
int httpd_fd(const struct httpd *h);
/* Serves whatever is ready; call when httpd_fd() is readable. */
void httpd_service(struct httpd *h);
/* The address as bound ("127.0.0.1:9477"), for the log. */
const char *httpd_addr(const struct httpd *h);
void httpd_close(struct httpd *h);

/* A Prometheus label value: backslash, double quote and newline escaped. */
void prom_label(FILE *f, const char *s);

#endif
