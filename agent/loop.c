// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The agent's one epoll loop: every fd in the set carries a struct
 * af_watch whose handler runs when the fd is ready.  Clients closed while
 * a batch is handled are freed after it (server_reap).
 */
#include <errno.h>
#include <sys/epoll.h>
#include "agent.h"

int af_watch_add(struct af_agent *a, struct af_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int af_watch_mod(struct af_agent *a, struct af_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(a->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

int af_loop_run(struct af_agent *a)
{
	struct epoll_event evs[64];

	while (!a->stop) {
		int n = epoll_wait(a->epfd, evs, 64, -1);

		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			return -1;
		}
		for (int i = 0; i < n; i++) {
			struct af_watch *w = evs[i].data.ptr;

			w->fn(a, w, evs[i].events);
		}
		server_reap(a);
	}
	return 0;
}
