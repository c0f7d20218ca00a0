/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The hint socket (--hints PATH): antfarm-agent connects (SOCK_SEQPACKET)
 * and sends struct af_hint records.  NOTIFY hints update a queue -> latest
 * process table that tags new requests; EXIT hints go to the scheduler.
 */
#ifndef ANTFARM_BLK_HINTS_H
#define ANTFARM_BLK_HINTS_H

#include <stdio.h>
#include <stdint.h>

#define VUB_HINT_CONNS 8

struct vub_dev;

struct vub_hints {
	int listen_fd;
	int conns[VUB_HINT_CONNS];
	uint64_t received, notify, create, exit, vm_exit;
	uint64_t bad, other_vm, unmatched, refused;
};

int hints_open(struct vub_hints *h, const char *path);
/* Accepts a connection; returns its fd (to watch) or -1. */
int hints_accept(struct vub_hints *h);
/* Reads one hint; false when the connection was closed (EOF or bad hint). */
bool hints_read(struct vub_hints *h, struct vub_dev *d, int fd);
void hints_json(const struct vub_hints *h, FILE *out);
void hints_close(struct vub_hints *h);

#endif
