/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* vhu-client: options shared by its commands (vhu_client.c, vhu_bench.c, vhu_raw.c). */
#ifndef ANTFARM_VHU_CLIENT_H
#define ANTFARM_VHU_CLIENT_H

#include <stdint.h>
#include <sys/types.h>

#include "vhu.h"

struct client_opts {
	const char *socket;
	unsigned queues;
	unsigned qd;
	uint64_t bs;
	const char *rw;
	unsigned seconds;
	uint64_t span;
	pid_t pid;
	int json;
	int verbose;
	const char *labels[8];
	int nlabels;
	const char *msg;		/* raw */
	const char *payload;		/* raw */
	unsigned nfds;			/* raw */
	struct vhu_opts vo;
};

void bench_prepare_opts(struct client_opts *c);
int cmd_bench(struct vhu_dev *d, struct client_opts *c);
int cmd_raw(struct client_opts *c);
/* CPU seconds (user + system) a process has used, from /proc/PID/stat. */
double proc_cpu_seconds(pid_t pid);

#endif
