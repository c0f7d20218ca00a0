/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* antfarm-blk's command line (opts.c). */
#ifndef ANTFARM_BLK_OPTS_H
#define ANTFARM_BLK_OPTS_H

#include <stdbool.h>

struct opts {
	const char *socket, *disk, *stats, *hints, *sched, *serial;
	const char *sched_opts[16];
	unsigned n_sched_opts;
	bool hdd;
	unsigned poll_us;
	unsigned hint_wait_us;
	unsigned nqueues, qsize;
	int listen_fd;
	bool direct, ro, oracle;
};

/* Fills o (preset with defaults); -1 after printing why.  --help and
 * --print-capabilities print and exit. */
int parse_args(int argc, char **argv, struct opts *o);
/* Decimal or 0x number in [lo, hi]; -1 otherwise. */
int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);

#endif
