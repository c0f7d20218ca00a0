// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu-client raw: one hand-made vhost-user message on a fresh connection,
 * for poking a back-end with malformed input from the shell.
 *   --msg REQ[,SIZE[,FLAGS]]  request number or name; SIZE defaults to the
 *                             payload length, FLAGS to 0x1 (version 1)
 *   --payload HEX             payload bytes
 *   --fds N                   attach N eventfds
 * Prints the reply, "closed" when the back-end hung up, or "no reply".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vhu_client.h"

static int parse_req(const char *s, uint32_t *req)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (end != s && (*end == 0 || *end == ',')) {
		*req = v;
		return 0;
	}
	for (uint32_t r = 1; r < 64; r++) {
		const char *n = vhu_request_name(r);
		size_t len = strlen(n);

		if (strcmp(n, "UNKNOWN") && !strncasecmp(s, n, len) &&
		    (s[len] == 0 || s[len] == ',')) {
			*req = r;
			return 0;
		}
	}
	return -1;
}

static int parse_hex(const char *hex, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(hex);

	if (n % 2 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = v;
	}
	*len = n / 2;
	return 0;
}

static int build(struct client_opts *c, uint8_t *wire, size_t *wlen)
{
	struct vhu_msg *m = (struct vhu_msg *)wire;
	const char *p = strchr(c->msg, ',');
	size_t plen = 0;

	uint32_t req;

	memset(m, 0, sizeof(*m));
	if (parse_req(c->msg, &req) < 0)
		return -1;
	m->request = req;
	if (c->payload && parse_hex(c->payload, m->u.raw, sizeof(m->u.raw), &plen) < 0)
		return -1;
	m->size = plen;
	m->flags = VHU_FLAG_VERSION;
	if (p) {
		char *end;

		m->size = strtoul(p + 1, &end, 0);
		if (*end == ',')
			m->flags = strtoul(end + 1, NULL, 0);
	}
	*wlen = VHU_HDR_SIZE + plen;
	return 0;
}

int cmd_raw(struct client_opts *c)
{
	static uint8_t wire[sizeof(struct vhu_msg)];
	struct vhu_msg reply;
	int fds[16], sock, rc;
	size_t wlen;

	if (!c->msg || build(c, wire, &wlen) < 0) {
		fprintf(stderr, "vhu-client raw: need --msg REQ[,SIZE[,FLAGS]] and hex --payload\n");
		return 2;
	}
	sock = vhu_connect(c->socket, 2000);
	if (sock < 0) {
		fprintf(stderr, "vhu-client raw: connect %s: %s\n", c->socket, strerror(-sock));
		return 1;
	}
	for (unsigned i = 0; i < c->nfds; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	rc = vhu_send_raw(sock, wire, wlen, fds, c->nfds);
	for (unsigned i = 0; i < c->nfds; i++)
		close(fds[i]);
	if (rc < 0) {
		printf("send failed: %s\n", strerror(-rc));
		close(sock);
		return 1;
	}
	rc = vhu_recv(sock, &reply, NULL, NULL, 1000);
	if (rc == -ECONNRESET)
		printf("closed\n");
	else if (rc == -ETIMEDOUT)
		printf("no reply\n");
	else if (rc < 0)
		printf("error: %s\n", strerror(-rc));
	else {
		printf("reply %s flags 0x%x size %u:", vhu_request_name(reply.request),
		       reply.flags, reply.size);
		for (uint32_t i = 0; i < reply.size && i < 64; i++)
			printf(" %02x", reply.u.raw[i]);
		printf("\n");
	}
	close(sock);
	return 0;
}
