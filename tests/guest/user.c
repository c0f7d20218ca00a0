/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The user programs.  This file is compiled position-independent and its
 * .text becomes .utext: one copy, mapped read-only into every process at
 * USER_CODE.  So: no globals, no string constants, no jump tables; the only
 * way out is the system-call stub at USER_VDSO.
 */
#include <stdint.h>
#include "sys.h"

typedef long (*sysfn)(long, long, long, long);

static long sys(long nr, long a, long b, long c)
{
	return ((sysfn)USER_VDSO)(nr, a, b, c);
}

static void __attribute__((noreturn)) exit_(long code)
{
	sys(SYS_EXIT, code, 0, 0);
	for (;;)
		;
}

static long param(long key) { return sys(SYS_PARAM, key, 0, 0); }

static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/* CPU work in ring 3; the asm keeps the compiler from folding the loop. */
static uint64_t busy(long iters)
{
	uint64_t x = 1;
	for (long i = 0; i < iters; i++) {
		x = x * 31 + (uint64_t)i;
		__asm__ volatile("" : "+r"(x));
	}
	return x;
}

static void wait_all(void)
{
	while (sys(SYS_WAIT, 0, 0, 0) > 0)
		;
}

/* Spawn 'n' copies of prog (arg = index), at most 'jobs' at a time. */
static void spawn_n(long prog, long n, long jobs, long base_arg)
{
	long running = 0;
	for (long i = 0; i < n; i++) {
		if (running >= jobs && sys(SYS_WAIT, 0, 0, 0) > 0)
			running--;
		if (sys(SYS_SPAWN, prog, base_arg + i, 0) > 0)
			running++;
	}
	wait_all();
}

void prog_short(long arg, long pid)
{
	uint64_t s = (uint64_t)param(P_SEED) ^ (uint64_t)arg;
	busy(param(P_ITERS) / 8 + (long)(rng(&s) % 1000));
	exit_(0);
}

void prog_cc(long arg, long pid)
{
	uint64_t s = (uint64_t)param(P_SEED) * 7 + (uint64_t)arg;
	busy(param(P_ITERS) / 4 + (long)(rng(&s) % 5000));
	exit_(0);
}

/* make -j: fork a child per job, the child execs the compiler. */
void prog_make(long arg, long pid)
{
	long n = param(P_N), jobs = param(P_JOBS), running = 0;

	for (long i = 0; i < n; i++) {
		if (running >= jobs && sys(SYS_WAIT, 0, 0, 0) > 0)
			running--;
		long child = sys(SYS_FORK, 0, 0, 0);
		if (child == 0) {
			sys(SYS_EXEC, PROG_CC, i, 0);
			exit_(1);			/* exec failed */
		}
		if (child > 0)
			running++;
	}
	wait_all();
	exit_(0);
}

void prog_sleeper(long arg, long pid)
{
	long rounds = param(P_BLOCKS), think = param(P_THINK);
	for (long k = 0; k < rounds; k++) {
		sys(SYS_SLEEP, think * (1 + arg % 3), 0, 0);
		busy(1000);
	}
	exit_(0);
}

/* Reader i reads its own region [i*R, (i+1)*R) sequentially, 4 KiB at a time. */
void prog_seqread(long arg, long pid)
{
	long blocks = param(P_BLOCKS), think = param(P_THINK);
	uint64_t base = (uint64_t)arg * (uint64_t)blocks * 8;

	for (long k = 0; k < blocks; k++) {
		long r = sys(SYS_READ, (long)(base + (uint64_t)k * 8), (long)USER_DATA, 8);

		if (r < 0)
			exit_(2);
		if (r > 0)		/* runtime= is over */
			break;
		if (think)
			sys(SYS_SLEEP, think, 0, 0);
	}
	exit_(0);
}

void prog_randread(long arg, long pid)
{
	long blocks = param(P_BLOCKS), think = param(P_THINK);
	uint64_t s = (uint64_t)param(P_SEED) * 131 + (uint64_t)arg;
	uint64_t cap = (uint64_t)sys(SYS_CAPACITY, 0, 0, 0) / 8;

	if (!cap)
		exit_(2);
	for (long k = 0; k < blocks; k++) {
		long r = sys(SYS_READ, (long)(rng(&s) % cap * 8), (long)USER_DATA, 8);

		if (r < 0)
			exit_(2);
		if (r > 0)
			break;
		if (think)
			sys(SYS_SLEEP, think, 0, 0);
	}
	exit_(0);
}

static uint64_t pattern(uint64_t seed, uint64_t sector, long word)
{
	return (seed * 0x9e3779b97f4a7c15ULL) ^ (sector << 20) ^ (uint64_t)word;
}

/* Write a region, flush, read it back and check every word. */
void prog_writer(long arg, long pid)
{
	long blocks = param(P_BLOCKS), bad = 0;
	uint64_t seed = (uint64_t)param(P_SEED), base = (uint64_t)arg * (uint64_t)blocks * 8;
	uint64_t *buf = (uint64_t *)USER_DATA;

	for (long k = 0; k < blocks; k++) {
		uint64_t sec = base + (uint64_t)k * 8;
		for (long w = 0; w < 512; w++)
			buf[w] = pattern(seed, sec, w);
		if (sys(SYS_WRITE, (long)sec, (long)buf, 8) < 0)
			exit_(2);
	}
	if (sys(SYS_FLUSH, 0, 0, 0) < 0)
		exit_(3);
	for (long k = 0; k < blocks; k++) {
		uint64_t sec = base + (uint64_t)k * 8;
		if (sys(SYS_READ, (long)sec, (long)buf, 8) < 0)
			exit_(2);
		for (long w = 0; w < 512; w++)
			if (buf[w] != pattern(seed, sec, w))
				bad++;
	}
	sys(SYS_REPORT, bad ? R_VERIFY_BAD : R_VERIFY_OK, (long)base, blocks * 8);
	exit_(bad ? 4 : 0);
}

/*
 * A streaming writer: jobs threads (one address space) write its region
 * [arg*R, (arg+1)*R) in 4 KiB blocks, each taking the next block from a
 * shared counter, so jobs writes are in flight; with runtime= it wraps
 * round until the time is over, else it writes the region once.
 */
static void streamw_body(long arg, long tid)
{
	long blocks = param(P_BLOCKS);
	uint64_t base = (uint64_t)arg * (uint64_t)blocks * 8;
	long *next = (long *)(USER_DATA + (USER_DATA_PAGES - 1) * 4096);

	for (;;) {
		long k = __atomic_fetch_add(next, 1, __ATOMIC_RELAXED), r;

		if (k >= blocks && !param(P_RUNTIME))
			break;
		r = sys(SYS_WRITE, (long)(base + (uint64_t)(k % blocks) * 8), (long)USER_DATA, 8);
		if (r < 0)
			exit_(2);
		if (r > 0)
			break;
	}
	exit_(0);
}

void prog_streamw(long arg, long pid)
{
	long jobs = param(P_JOBS);

	for (long j = 1; j < jobs; j++)
		sys(SYS_THREAD, (long)streamw_body, arg, 0);
	streamw_body(arg, pid);
}

static void thread_body(long arg, long tid)
{
	busy(param(P_ITERS) / 4 + arg * 100);
	exit_(0);
}

/* A process with jobs-1 extra threads sharing its address space. */
void prog_threaded(long arg, long pid)
{
	long jobs = param(P_JOBS);
	for (long j = 1; j < jobs; j++)
		sys(SYS_THREAD, (long)thread_body, j, 0);
	busy(param(P_ITERS) / 4);
	exit_(0);
}

/* pid 1: runs the workload named on the command line, then waits for all. */
void prog_init(long workload, long pid)
{
	long n = param(P_N), jobs = param(P_JOBS);

	switch (workload) {
	case W_BOOT:
		spawn_n(PROG_SHORT, 2, 2, 0);
		break;
	case W_CHURN:
		spawn_n(PROG_SHORT, n, jobs, 0);
		break;
	case W_FORKEXEC:
		spawn_n(PROG_MAKE, 1, 1, 0);
		break;
	case W_SLEEPERS:
		spawn_n(PROG_SLEEPER, n, n, 0);
		break;
	case W_SEQREAD:
		spawn_n(PROG_SEQREAD, n, n, 0);
		break;
	case W_RANDREAD:
		spawn_n(PROG_RANDREAD, n, n, 0);
		break;
	case W_WRITER:
		spawn_n(PROG_WRITER, n, n, 0);
		break;
	case W_THREADS:
		spawn_n(PROG_THREADED, n, jobs, 0);
		break;
	case W_RWMIX:
		/* n sequential readers of regions 0..n-1 and one writer of region n */
		sys(SYS_SPAWN, PROG_STREAMW, n, 0);
		spawn_n(PROG_SEQREAD, n, n, 0);
		break;
	case W_MIX:
		sys(SYS_SPAWN, PROG_MAKE, 0, 0);
		sys(SYS_SPAWN, PROG_SLEEPER, 0, 0);
		sys(SYS_SPAWN, PROG_THREADED, 0, 0);
		spawn_n(PROG_SHORT, n, jobs, 0);
		break;
	}
	wait_all();
	/* disklog=disk: the disk requests' log to the disk, now that they are done */
	exit_(sys(SYS_LOGDUMP, 0, 0, 0) < 0 ? 5 : 0);
}
