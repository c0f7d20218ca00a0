/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Shared helpers of the antfarm-blk tests: checks, temp dirs, the backend process. */
#ifndef ANTFARM_TESTS_BLK_UTIL_H
#define ANTFARM_TESTS_BLK_UTIL_H

#include <stdio.h>
#include <sys/types.h>

extern int t_failures;

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		t_failures++; \
		printf("FAIL %s:%d: %s: ", __func__, __LINE__, #cond); \
		printf(__VA_ARGS__); \
		printf("\n"); \
	} \
} while (0)

/* mkdtemp under /tmp; removed (with its files) by t_cleanup_dir(). */
const char *t_tmpdir(void);
void t_cleanup_dir(void);
/* Starts build/antfarm-blk with the given NULL-terminated extra args;
 * stderr goes to <tmpdir>/blk.log; env "K=V" or NULL. */
pid_t t_start_backend(const char *env, const char *const *args);
void t_stop_backend(pid_t pid, int sig);
bool t_alive(pid_t pid);
/* Reads the whole stats socket output into buf. */
int t_read_stats(const char *path, char *buf, size_t len);

#endif
