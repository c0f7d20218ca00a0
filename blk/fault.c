// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* SIGBUS from guest memory that shrank: back to the guard (fault.h). */
#include <signal.h>
#include <string.h>
#include "fault.h"

static __thread struct vub_guard *top;

void vub_guard_push(struct vub_guard *g)
{
	g->prev = top;
	top = g;
}

void vub_guard_pop(struct vub_guard *g)
{
	top = g->prev;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	struct vub_guard *g = top;

	if (g) {
		top = g->prev;
		siglongjmp(g->env, 1);
	}
	/* not under a guard: our own bug, die as we would have */
	signal(SIGBUS, SIG_DFL);
	raise(SIGBUS);
}

int vub_fault_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGBUS, &sa, NULL);
}
