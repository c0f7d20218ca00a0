// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Shared helpers of the antfarm-blk tests. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "util.h"

int t_failures;
static char tmpdir[64];

const char *t_tmpdir(void)
{
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/antfarm-blk-test.XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
	}
	return tmpdir;
}

void t_cleanup_dir(void)
{
	char cmd[128];

	if (!tmpdir[0] || getenv("ANTFARM_TEST_KEEP"))
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmpdir);
}

pid_t t_start_backend(const char *env, const char *const *args)
{
	const char *build = getenv("ANTFARM_BUILD") ? getenv("ANTFARM_BUILD") : "build";
	char bin[256], log[256];
	const char *argv[32];
	int n = 0;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/antfarm-blk", build);
	snprintf(log, sizeof(log), "%s/blk.log", t_tmpdir());
	argv[n++] = bin;
	for (int i = 0; args[i] && n < 30; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0)
			dup2(fd, 2);
		if (env)
			putenv((char *)env);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	return pid;
}

bool t_alive(pid_t pid)
{
	int st;

	return waitpid(pid, &st, WNOHANG) == 0;
}

void t_stop_backend(pid_t pid, int sig)
{
	int st;

	if (pid <= 0)
		return;
	kill(pid, sig);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

int t_read_stats(const char *path, char *buf, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t off = 0;
	ssize_t n;

	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	buf[off] = 0;
	close(fd);
	return 0;
}
