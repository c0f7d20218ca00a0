/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* antfarm-blk's command line (opts.c). */
#ifndef ANTFARM_BLK_OPTS_H
#define ANTFARM_BLK_OPTS_H

#include <stdbool.h>
#include <sys/types.h>

struct opts {
	const char *socket, *disk, *stats, *hints, *sched, *serial, *metrics, *tag_log;
	mode_t socket_mode;		/* all three sockets; 0: 0660 */
	gid_t socket_gid;		/* (gid_t)-1: the creator's */
	int verbose;
	const char *sched_opts[16];
	unsigned n_sched_opts;
	bool hdd;
	unsigned time_scale;		/* --time-scale K (1: real time) */
	unsigned poll_us;
	unsigned hint_wait_us;
	unsigned nqueues, qsize;
	int listen_fd;
	bool direct, ro, oracle;
};

/* Fills o (preset with defaults); -1 after printing why.  --help and
 * --print-capabilities print and exit. */
int parse_args(int argc, char **argv, struct opts *o);
/* Applies the --sched-opt KEY=VALUE tunables to c; -1 after logging why. */
struct af_sched_conf;
int opts_sched_conf(const struct opts *o, struct af_sched_conf *c);

#endif
