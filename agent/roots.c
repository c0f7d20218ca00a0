// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Polling unshadowed roots.  A process whose live root KVM stopped
 * shadowing can be torn down with nothing to show it (see bpf/infer.h,
 * af_keep_digest); the BPF side tells us (AF_EV_UNSHADOWED) and
 * lists the root in a map, and we re-read those pages every POLL_NS until
 * none is left, so such an exit is seen within about that time.  The timer
 * is off while there is nothing to poll: an idle agent does not wake.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "agent.h"

#define POLL_NS (5 * 1000 * 1000ull)

static void arm(struct af_agent *a, int on)
{
	struct itimerspec its = { 0 };

	if (on == a->roots_armed)
		return;
	if (on) {
		its.it_value.tv_nsec = POLL_NS;
		its.it_interval.tv_nsec = POLL_NS;
	}
	if (timerfd_settime(a->roots_w.fd, 0, &its, NULL) == 0)
		a->roots_armed = on;
}

void roots_poll(struct af_agent *a)
{
	int left = af_collector_poll_roots(a->col, af_now_ns());

	if (left < 0)
		log_warnx("polling unshadowed roots: %s", strerror(-left));
	else if (log_verbose() > 1)
		log_debug("polled unshadowed roots: %d left", left);
	arm(a, left > 0);
}

static void roots_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	uint64_t expirations;

	if (read(w->fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		return;
	/* the ring fd wakes the loop for whatever the poll inferred */
	roots_poll(a);
}

int roots_open(struct af_agent *a)
{
	a->roots_w.fn = roots_ready;
	a->roots_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->roots_w.fd < 0 || af_watch_add(a, &a->roots_w, EPOLLIN))
		return -1;
	return 0;
}

void roots_event(struct af_agent *a, const struct af_event *ev)
{
	if (ev->type == AF_EV_UNSHADOWED)
		arm(a, 1);
}

void roots_close(struct af_agent *a)
{
	if (a->roots_w.fd >= 0)
		close(a->roots_w.fd);
	a->roots_w.fd = -1;
}
