/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Guest memory and the inflight region are files the front-end owns: it
 * can shrink them after handing them over (a memfd made without
 * MFD_ALLOW_SEALING, a regular file, its own inflight fd), and touching a
 * mapping past the end of its file raises SIGBUS.  Where the file can be
 * sealed against shrinking it is (mem.c, inflight.c); everywhere else the
 * code that touches that memory runs under a guard, and a SIGBUS there
 * returns to the guard instead of killing the process: that connection
 * fails, the process goes on serving the next one.
 *
 *	struct vub_guard g;
 *
 *	vub_guard_push(&g);
 *	if (sigsetjmp(g.env, 0) == 0) {
 *		... touch guest memory ...
 *		vub_guard_pop(&g);
 *	} else {
 *		vub_guard_pop(&g);
 *		... it faulted: give up on it ...
 *	}
 *
 * sigsetjmp(env, 0) is a plain register save (no system call): the handler
 * runs with SA_NODEFER, so no signal mask needs restoring.  Guards nest
 * per thread.  Code under a guard must not take locks or allocate: a
 * fault leaves it half way.
 */
#ifndef ANTFARM_BLK_FAULT_H
#define ANTFARM_BLK_FAULT_H

#include <setjmp.h>

struct vub_guard {
	sigjmp_buf env;
	struct vub_guard *prev;
};

/* Installs the SIGBUS handler (once, before the workers start). */
int vub_fault_init(void);
void vub_guard_push(struct vub_guard *g);
void vub_guard_pop(struct vub_guard *g);

#endif
