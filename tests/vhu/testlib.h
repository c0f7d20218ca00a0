/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared cases of the vhu tests: protocol + data, read-only, range checks. */
#ifndef ANTFARM_VHU_TESTLIB_H
#define ANTFARM_VHU_TESTLIB_H

#include <stdio.h>

#include "backend.h"
#include "tests/lib/check.h"
#include "vhu.h"

#define TEST_DISK_SIZE (64ull << 20)

/* Exit 77 with the reason as the last line. */
void test_skip(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* Start a back-end on a fresh disk; fails the test (exit 1) if it cannot. */
void test_start(struct vhu_backend *b, enum vhu_backend_kind kind, const char *name,
		unsigned nq, int writable, const char *const *extra, char *disk, size_t len);
/* Fresh device with options o and nq queues, set up on b like QEMU does. */
int test_connect_with(struct vhu_dev *d, struct vhu_backend *b, const struct vhu_opts *o,
		      unsigned nq);
/* Fresh device with nq queues connected to b and set up like QEMU does. */
int test_connect(struct vhu_dev *d, struct vhu_backend *b, unsigned nq, int inflight);
/* One queue, 'extra' spare bytes of guest memory for hand-made tables. */
int test_connect_extra(struct vhu_dev *d, struct vhu_backend *b, uint64_t extra);
void test_proto_data(enum vhu_backend_kind kind);
void test_read_only(enum vhu_backend_kind kind);
void test_out_of_range(struct vhu_dev *d);
/* Back-end still running and a fresh connection does correct I/O. */
void test_still_serves(struct vhu_backend *b, const char *after);

#endif
