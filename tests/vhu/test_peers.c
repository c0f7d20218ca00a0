// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * No peer may hold antfarm-blk's control loop.  Each case against its own
 * antfarm-blk (with a stats socket):
 *  - a front-end that sends a message one byte every 1.5 s: the stats
 *    socket still answers during the drip, and the connection is closed
 *    before the message is whole (a message must arrive whole within a
 *    deadline from its first byte);
 *  - SIGTERM during such a drip ends the process before the drip does;
 *  - a front-end that floods requests and never reads the replies: the
 *    connection is closed, the stats socket still answers.
 * The timings are the cases' own pace (the drip's 1.5 s steps); what is
 * checked is the order of events, not how fast they came.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "lib/sock.h"
#include "testlib.h"

#define DRIP_MS	1500

static struct vhu_backend be;
static char disk[256], stats[300];

static void start(const char *name)
{
	const char *args[] = { "--stats-socket", stats, NULL };

	snprintf(stats, sizeof(stats), "%s/%s.stats", vhu_test_dir(), name);
	test_start(&be, VHU_BLK, name, 1, 1, args, disk, sizeof(disk));
}

/* A fresh antfarm-blk and a connection to it, or -1. */
static int start_peer(const char *name)
{
	int s;

	start(name);
	s = vhu_connect(be.sock, 2000);
	CHECK(s >= 0, "connect: %s", strerror(-s));
	return s;
}

static int stats_answer(void)
{
	char buf[65536];

	return vhu_read_stats(stats, buf, sizeof(buf)) == 0 && strstr(buf, "\"type\":\"device\"");
}

/* A stats request made while something else goes on: its connection,
 * read without waiting by stats_poll(). */
struct stats_req {
	int fd;
	size_t got;
	int done;
};

static void stats_ask(struct stats_req *r)
{
	*r = (struct stats_req){ .fd = sock_connect(stats, SOCK_STREAM, 2000) };
}

static void stats_poll(struct stats_req *r)
{
	char buf[65536];
	ssize_t n;

	while (r->fd >= 0 && !r->done && (n = recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		r->got += n;
		r->done = n == 0;	/* the whole report, then EOF */
	}
}

/* Sends byte i of a GET_FEATURES header; false when the peer is gone. */
static int drip(int s, unsigned i)
{
	static const struct vhu_msg m = { .request = VHU_GET_FEATURES, .flags = VHU_FLAG_VERSION };

	return send(s, (const char *)&m + i % VHU_HDR_SIZE, 1, MSG_NOSIGNAL) == 1;
}

/* Waits one drip step; true when the backend closed the connection. */
static int closed_within_step(int s)
{
	struct pollfd p = { .fd = s, .events = POLLIN };
	char c;

	if (poll(&p, 1, DRIP_MS) <= 0)
		return 0;
	return recv(s, &c, 1, MSG_DONTWAIT) <= 0;
}

static void test_drip(void)
{
	struct stats_req st = { .fd = -1 };
	int s, closed = 0;
	unsigned i;

	s = start_peer("drip");
	if (s < 0)
		return;
	for (i = 0; i < VHU_HDR_SIZE && !closed; i++) {
		if (!drip(s, i)) {
			closed = 1;
			break;
		}
		if (i == 1)
			stats_ask(&st);
		closed = closed_within_step(s);
		stats_poll(&st);
	}
	CHECK(st.done && st.got, "stats did not answer while a front-end dripped a message");
	CHECK(closed && i < VHU_HDR_SIZE - 1, "the dripping front-end was %s",
	      closed ? "closed only at the end" : "never closed");
	printf("drip: closed after %u byte(s), stats %s during it\n", i + 1,
	       st.done ? "answered" : "did not answer");
	close(s);
	if (st.fd >= 0)
		close(st.fd);
	CHECK(vhu_backend_alive(&be), "backend died");
	test_still_serves(&be, "a dripping front-end");
	vhu_backend_stop(&be);
}

static void test_sigterm_during_drip(void)
{
	int s, gone = 0;
	unsigned i;

	s = start_peer("term");
	if (s < 0)
		return;
	/* the message is under way before the signal comes */
	drip(s, 0);
	usleep(DRIP_MS * 1000);
	drip(s, 1);
	vhu_backend_kill(&be, SIGTERM);
	for (i = 2; i < VHU_HDR_SIZE && !gone; i++) {
		drip(s, i);
		usleep(DRIP_MS * 1000);
		gone = !vhu_backend_alive(&be);
	}
	CHECK(gone && i < VHU_HDR_SIZE, "SIGTERM %s", gone ? "waited for the drip to end" :
	      "did not end the process during the drip");
	printf("SIGTERM during a drip: %s after %u more byte(s)\n", gone ? "exited" : "still up",
	       i - 2);
	close(s);
	vhu_backend_stop(&be);
}

/* Requests with replies, never read: the backend's replies fill the
 * socket; it must drop us, not block on the send. */
static void test_no_reader(void)
{
	static const struct vhu_msg m = { .request = VHU_GET_FEATURES, .flags = VHU_FLAG_VERSION };
	struct pollfd p;
	int s, sent = 0, closed = 0;
	char buf[65536];

	s = start_peer("noread");
	if (s < 0)
		return;
	for (int k = 0; k < 200000; k++) {
		if (send(s, &m, VHU_HDR_SIZE, MSG_NOSIGNAL | MSG_DONTWAIT) != VHU_HDR_SIZE) {
			if (errno != EAGAIN)
				break;			/* closed */
			p = (struct pollfd){ .fd = s, .events = POLLOUT };
			if (poll(&p, 1, 3000) <= 0)
				break;			/* not taking more: stuck or done */
			continue;
		}
		sent++;
	}
	CHECK(stats_answer(), "stats did not answer while a front-end did not read (%d sent)",
	      sent);
	/* what the backend wrote before it gave up is there, then the end */
	for (int k = 0; k < 1000; k++) {
		ssize_t n = recv(s, buf, sizeof(buf), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN)) {
			closed = 1;
			break;
		}
		if (n < 0) {
			p = (struct pollfd){ .fd = s, .events = POLLIN };
			if (poll(&p, 1, 3000) <= 0)
				break;
		}
	}
	CHECK(closed, "a front-end that does not read its replies was not closed (%d sent)",
	      sent);
	printf("no reader: %d requests sent, connection %s\n", sent, closed ? "closed" : "open");
	close(s);
	test_still_serves(&be, "a front-end that did not read");
	vhu_backend_stop(&be);
}

int main(void)
{
	if (!vhu_blk_path())
		test_skip("antfarm-blk not built yet (no build/antfarm-blk)");
	test_drip();
	test_sigterm_during_drip();
	test_no_reader();
	return check_summary("slow and hostile peers vs antfarm-blk");
}
