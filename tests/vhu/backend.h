/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Test helpers: start a vhost-user-blk back-end (qemu-storage-daemon or
 * antfarm-blk) on a socket in a private temp directory, watch it, stop it.
 * Every back-end started is killed at exit (atexit and SIGTERM/SIGINT), and
 * the child dies with the test (PR_SET_PDEATHSIG), so nothing is left over.
 */
#ifndef ANTFARM_VHU_BACKEND_H
#define ANTFARM_VHU_BACKEND_H

#include <stdint.h>
#include <sys/types.h>

enum vhu_backend_kind { VHU_QSD, VHU_BLK };

struct vhu_backend {
	enum vhu_backend_kind kind;
	pid_t pid;
	int status;			/* wait status once it ended */
	char sock[256];
	char log[256];
};

/* Private directory for sockets, disks, logs; removed at exit. */
const char *vhu_test_dir(void);
/* Path of antfarm-blk (from $ANTFARM_BUILD) or qemu-storage-daemon; NULL
 * when missing. */
const char *vhu_blk_path(void);
const char *vhu_qsd_path(void);
/* Sparse file of 'size' bytes in the test dir. */
int vhu_make_disk(const char *name, uint64_t size, char *path, size_t len);
/* extra: NULL-terminated extra arguments (antfarm-blk) or blockdev options
 * appended to the --blockdev string (qsd, e.g. "cache.direct=on"). */
int vhu_backend_start(struct vhu_backend *b, enum vhu_backend_kind kind,
		      const char *sockname, const char *disk, unsigned nq,
		      int writable, const char *const *extra);
/* The same with env ("NAME=VALUE" or NULL) in the back-end's environment. */
int vhu_backend_start_env(struct vhu_backend *b, const char *env, enum vhu_backend_kind kind,
			  const char *sockname, const char *disk, unsigned nq,
			  int writable, const char *const *extra);
int vhu_backend_alive(struct vhu_backend *b);
void vhu_backend_kill(struct vhu_backend *b, int sig);
void vhu_backend_stop(struct vhu_backend *b);
void vhu_backend_dump_log(struct vhu_backend *b);
/* 1 if the back-end's log holds the text. */
int vhu_backend_log_has(struct vhu_backend *b, const char *text);
/* The whole answer of a stats socket (antfarm-blk --stats-socket) into
 * buf, NUL-terminated; 0, or -errno. */
int vhu_read_stats(const char *path, char *buf, size_t len);

#endif
