/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * sub-bench: one JSON subscriber that counts event lines as fast as it can
 * read them.  Prints "ready" once subscribed, then, after N events (or 5 s
 * of silence), one line: events, lost (from {"event":"lost"} lines),
 * seconds from the first to the last byte, events per second.
 *
 *   sub-bench SOCKET N [EVENTS_JSON_ARRAY]
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "lib/clock.h"
#include "lib/sock.h"

static double now(void)
{
	return af_now_ns() / 1e9;
}

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	char req[256], line[256];
	unsigned long long want, events = 0, lost = 0;
	size_t partial = 0;
	double t0 = 0, t1 = 0;
	int fd, acked = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: sub-bench SOCKET N [EVENTS_JSON_ARRAY]\n");
		return 2;
	}
	want = strtoull(argv[2], NULL, 10);
	fd = sock_connect(argv[1], SOCK_STREAM, 0);
	if (fd < 0) {
		fprintf(stderr, "sub-bench: connect %s: %s\n", argv[1], strerror(-fd));
		return 1;
	}
	snprintf(req, sizeof(req), "{\"events\":%s}\n", argc > 3 ? argv[3] : "[\"switch\"]");
	if (write(fd, req, strlen(req)) < 0)
		return 1;
	while (events < want) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, acked ? 5000 : 10000) <= 0)
			break;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		if (acked && !t0)
			t0 = now();
		for (char *s = buf, *e = buf + n; s < e;) {
			char *nl = memchr(s, '\n', e - s);
			size_t len = (nl ? nl : e) - s;
			/* keep the start of a line split across reads */
			if (partial + len < sizeof(line)) {
				memcpy(line + partial, s, len);
				partial += len;
			}
			if (!nl)
				break;
			line[partial] = 0;
			partial = 0;
			s = nl + 1;
			if (!acked) {
				acked = strstr(line, "\"subscribed\"") != NULL;
				printf("ready\n");
				fflush(stdout);
			} else if (strstr(line, "\"event\":\"lost\"")) {
				lost += strtoull(strstr(line, "\"count\":") + 8, NULL, 10);
			} else {
				events++;
			}
		}
		t1 = now();
	}
	printf("events %llu lost %llu seconds %.3f rate %.0f/s\n", events, lost, t1 - t0,
	       t1 > t0 ? events / (t1 - t0) : 0.0);
	return events == want && !lost ? 0 : 1;
}
