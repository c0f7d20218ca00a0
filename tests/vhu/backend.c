// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Test helpers: back-end processes and the temp directory (see backend.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "lib/sock.h"

#define MAX_BACKENDS 16

static char test_dir[64];
static struct vhu_backend *started[MAX_BACKENDS];

static void cleanup_all(void)
{
	for (int i = 0; i < MAX_BACKENDS; i++)
		if (started[i])
			vhu_backend_stop(started[i]);
	if (!test_dir[0])
		return;
	DIR *dir = opendir(test_dir);
	struct dirent *e;
	char p[512];

	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", test_dir, e->d_name);
		unlink(p);
	}
	if (dir)
		closedir(dir);
	rmdir(test_dir);
	test_dir[0] = 0;
}

static void on_signal(int sig)
{
	cleanup_all();
	signal(sig, SIG_DFL);
	raise(sig);
}

const char *vhu_test_dir(void)
{
	if (test_dir[0])
		return test_dir;
	strcpy(test_dir, "/tmp/vhu-test.XXXXXX");
	if (!mkdtemp(test_dir)) {
		perror("mkdtemp");
		exit(1);
	}
	atexit(cleanup_all);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	return test_dir;
}

const char *vhu_blk_path(void)
{
	static char p[512];
	const char *build = getenv("ANTFARM_BUILD");

	snprintf(p, sizeof(p), "%s/antfarm-blk", build ? build : "build");
	return access(p, X_OK) == 0 ? p : NULL;
}

const char *vhu_qsd_path(void)
{
	static const char *const cand[] = {
		"/usr/bin/qemu-storage-daemon", "/usr/local/bin/qemu-storage-daemon",
	};

	for (size_t i = 0; i < sizeof(cand) / sizeof(cand[0]); i++)
		if (access(cand[i], X_OK) == 0)
			return cand[i];
	return NULL;
}

int vhu_make_disk(const char *name, uint64_t size, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/%s", vhu_test_dir(), name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, size) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return -err;
	}
	close(fd);
	return 0;
}

static int build_argv(struct vhu_backend *b, const char *disk, unsigned nq, int writable,
		      const char *const *extra, const char **argv, char *s1, char *s2)
{
	int n = 0;

	if (b->kind == VHU_QSD) {
		const char *opts = extra && extra[0] ? extra[0] : "cache.direct=off";

		argv[n++] = vhu_qsd_path();
		argv[n++] = "--blockdev";
		snprintf(s1, 512, "driver=file,node-name=f,filename=%s,aio=io_uring,"
			 "discard=unmap,%s", disk, opts);
		argv[n++] = s1;
		argv[n++] = "--export";
		snprintf(s2, 512, "type=vhost-user-blk,id=e,node-name=f,addr.type=unix,"
			 "addr.path=%s,writable=%s,num-queues=%u", b->sock,
			 writable ? "on" : "off", nq);
		argv[n++] = s2;
	} else {
		argv[n++] = vhu_blk_path();
		argv[n++] = "--socket";
		argv[n++] = b->sock;
		argv[n++] = "--disk";
		argv[n++] = disk;
		argv[n++] = "--num-queues";
		snprintf(s1, 512, "%u", nq);
		argv[n++] = s1;
		if (!writable)
			argv[n++] = "--read-only";
		for (int i = 0; extra && extra[i] && n < 30; i++)
			argv[n++] = extra[i];
	}
	argv[n] = NULL;
	return argv[0] ? 0 : -ENOENT;
}

static void child(const char **argv, const struct vhu_backend *b, const char *env)
{
	int fd = open(b->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	if (env)
		putenv((char *)env);
	execv(argv[0], (char *const *)argv);
	_exit(127);
}

static void remember(struct vhu_backend *b)
{
	for (int i = 0; i < MAX_BACKENDS; i++)
		if (started[i] == b || !started[i]) {
			started[i] = b;
			return;
		}
}

int vhu_backend_start(struct vhu_backend *b, enum vhu_backend_kind kind,
		      const char *sockname, const char *disk, unsigned nq,
		      int writable, const char *const *extra)
{
	return vhu_backend_start_env(b, NULL, kind, sockname, disk, nq, writable, extra);
}

int vhu_backend_start_env(struct vhu_backend *b, const char *env, enum vhu_backend_kind kind,
			  const char *sockname, const char *disk, unsigned nq,
			  int writable, const char *const *extra)
{
	const char *argv[32];
	char s1[512], s2[512];
	struct stat st;

	b->kind = kind;
	b->pid = -1;
	snprintf(b->sock, sizeof(b->sock), "%s/%s", vhu_test_dir(), sockname);
	snprintf(b->log, sizeof(b->log), "%s/%s.log", vhu_test_dir(), sockname);
	if (build_argv(b, disk, nq, writable, extra, argv, s1, s2) < 0)
		return -ENOENT;
	unlink(b->sock);
	b->pid = fork();
	if (b->pid < 0)
		return -errno;
	if (b->pid == 0)
		child(argv, b, env);
	remember(b);
	/* ready when the socket exists (both back-ends listen before serving) */
	for (int i = 0; i < 500; i++) {
		if (stat(b->sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (!vhu_backend_alive(b))
			return -ECHILD;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int vhu_backend_alive(struct vhu_backend *b)
{
	if (b->pid <= 0)
		return 0;
	if (waitpid(b->pid, &b->status, WNOHANG) == b->pid) {
		b->pid = -1;
		return 0;
	}
	return 1;
}

void vhu_backend_kill(struct vhu_backend *b, int sig)
{
	if (b->pid <= 0)
		return;
	kill(b->pid, sig);
	if (sig == SIGKILL && waitpid(b->pid, &b->status, 0) == b->pid)
		b->pid = -1;
}

/* SIGTERM, up to 3 s to go, then SIGKILL. */
void vhu_backend_stop(struct vhu_backend *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		for (int i = 0; i < 300 && vhu_backend_alive(b); i++)
			usleep(10000);
		vhu_backend_kill(b, SIGKILL);
	}
	unlink(b->sock);
}

void vhu_backend_dump_log(struct vhu_backend *b)
{
	char line[512];
	FILE *f = fopen(b->log, "r");

	while (f && fgets(line, sizeof(line), f))
		printf("    | %s", line);
	if (f)
		fclose(f);
}

int vhu_backend_log_has(struct vhu_backend *b, const char *text)
{
	char line[1024];
	FILE *f = fopen(b->log, "r");
	int found = 0;

	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, text) != NULL;
	if (f)
		fclose(f);
	return found;
}

int vhu_read_stats(const char *path, char *buf, size_t len)
{
	struct timeval tv = { .tv_sec = 5 };	/* a back-end that does not answer fails */
	int fd = sock_connect(path, SOCK_STREAM, 2000);
	size_t off = 0;
	ssize_t n = 0;

	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (off < len - 1 && (n = read(fd, buf + off, len - 1 - off)) > 0)
		off += n;
	buf[off] = 0;
	close(fd);
	return n < 0 ? -errno : 0;
}
