/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* System-call numbers and user program ids, shared by kernel and user code. */
#ifndef GUEST_SYS_H
#define GUEST_SYS_H

enum {
	SYS_EXIT = 1, SYS_SPAWN, SYS_FORK, SYS_EXEC, SYS_WAIT, SYS_SLEEP,
	SYS_READ, SYS_WRITE, SYS_FLUSH, SYS_GETPID, SYS_YIELD, SYS_THREAD,
	SYS_PARAM, SYS_REPORT, SYS_CAPACITY, SYS_LOGDUMP,
};

/* SYS_PARAM keys */
enum { P_N, P_JOBS, P_SEED, P_THINK, P_BLOCKS, P_ITERS, P_CPUS, P_WORKLOAD, P_RUNTIME };

/* SYS_REPORT kinds */
enum { R_VERIFY_OK, R_VERIFY_BAD };

/* Programs (index into user_progs) */
enum {
	PROG_INIT, PROG_SHORT, PROG_MAKE, PROG_CC, PROG_SLEEPER, PROG_SEQREAD,
	PROG_RANDREAD, PROG_WRITER, PROG_THREADED, PROG_STREAMW, NPROG
};

/* Workload ids (SYS_PARAM P_WORKLOAD) */
enum { W_BOOT, W_CHURN, W_FORKEXEC, W_SLEEPERS, W_SEQREAD, W_RANDREAD, W_WRITER, W_THREADS, W_MIX, W_RWMIX };

#define USER_VDSO	0x8000000000UL		/* the system-call stub */
#define USER_CODE	0x8000001000UL		/* copy-free shared program text */
#define USER_DATA	0x8000400000UL		/* 16 pages of private data */
#define USER_DATA_PAGES	16
#define USER_STACK_TOP	0x8000800000UL		/* 4 pages per stack */
#define USER_STACK_PAGES 4

#endif
