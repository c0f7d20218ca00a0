/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one clock: CLOCK_MONOTONIC in nanoseconds, the clock of
 * bpf_ktime_get_ns(), of every ts_ns on the socket and in the hints.
 */
#ifndef AF_LIB_CLOCK_H
#define AF_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t af_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

#endif
