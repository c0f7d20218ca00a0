// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unix-socket listen and connect with one policy: see sock.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include "log.h"
#include "num.h"
#include "sock.h"

int sock_abspath(const char *path, char *out, size_t len)
{
	char cwd[PATH_MAX];
	int n;

	if (path[0] == '/') {
		n = snprintf(out, len, "%s", path);
	} else {
		if (!getcwd(cwd, sizeof(cwd)))
			return -1;
		n = snprintf(out, len, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	}
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

void sock_listener_init(struct sock_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->fd = l->lock_fd = -1;
}

static int same_file(const char *path, dev_t dev, ino_t ino)
{
	struct stat st;

	return lstat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static void unlock(struct sock_listener *l)
{
	if (l->lock_fd < 0)
		return;
	/* removed while we still hold it: a process that opened the old file
	 * and locks it after us sees that it is gone and starts over */
	if (same_file(l->lock_path, l->lock_dev, l->lock_ino))
		unlink(l->lock_path);
	close(l->lock_fd);
	l->lock_fd = -1;
}

static void lock_busy(int fd, const char *path, const char *lock_path, char *err, size_t errlen)
{
	char pid[16] = "";
	ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
	uint64_t v;

	if (n > 0)
		pid[strcspn(pid, "\n")] = 0;
	if (n > 0 && !parse_u64(pid, 1, INT_MAX, &v))
		errbuf_set(err, errlen, "another process (pid %s) is already listening on %s "
			"(it holds %s)", pid, path, lock_path);
	else
		errbuf_set(err, errlen, "another process is already listening on %s (it holds %s)",
			path, lock_path);
}

/* Opens and locks PATH.lock.  O_NOFOLLOW and the regular-file check: the
 * directory may be writable by others, and this may run as root. */
static int take_lock(struct sock_listener *l, char *err, size_t errlen)
{
	for (int tries = 0; tries < 8; tries++) {
		int fd = open(l->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
			      0600);
		struct stat st;
		char pid[16];

		if (fd < 0) {
			errbuf_set(err, errlen, "cannot open lock file %s: %s", l->lock_path,
				strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			errbuf_set(err, errlen, "lock file %s is not a regular file", l->lock_path);
			close(fd);
			return -1;
		}
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			if (errno == EWOULDBLOCK)
				lock_busy(fd, l->path, l->lock_path, err, errlen);
			else
				errbuf_set(err, errlen, "cannot lock %s: %s", l->lock_path,
					strerror(errno));
			close(fd);
			return -1;
		}
		if (!same_file(l->lock_path, st.st_dev, st.st_ino)) {
			close(fd);	/* its holder removed it as we locked it */
			continue;
		}
		if (st.st_nlink == 1 && !ftruncate(fd, 0)) {
			int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());

			if (pwrite(fd, pid, n, 0) != n)
				log_debug("%s: cannot write the pid", l->lock_path);
		}
		l->lock_fd = fd;
		l->lock_dev = st.st_dev;
		l->lock_ino = st.st_ino;
		return 0;
	}
	errbuf_set(err, errlen, "cannot lock %s: it keeps being replaced", l->lock_path);
	return -1;
}

/* What is at PATH may go only if it is a socket nobody listens on: a
 * non-blocking connect tells without waiting for a listener that is
 * stopped or whose backlog is full. */
static int claim_path(const struct sock_listen_opts *o, const char *path,
		      char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		errbuf_set(err, errlen, "cannot stat %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		errbuf_set(err, errlen, "%s exists and is not a socket; refusing to replace it "
			"(remove it or choose another path)", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, o->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errbuf_set(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (r == 0 || e == EAGAIN || e == EINPROGRESS) {
		errbuf_set(err, errlen, "another process is already listening on %s", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		errbuf_set(err, errlen, "%s is in use (%s); refusing to replace it", path,
			e == EPROTOTYPE ? "a socket of another type" : strerror(e));
		return -1;
	}
	log_info("removing stale socket %s", path);
	if (unlink(path) && errno != ENOENT) {
		errbuf_set(err, errlen, "cannot remove stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void make_parent_dir(const char *path)
{
	char *copy = strdup(path);

	if (copy && mkdir(dirname(copy), 0755) && errno != EEXIST)
		log_warn("mkdir %s", copy);
	free(copy);
}

/* rename() that refuses to replace what appeared at 'to' meanwhile. */
static int rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	return rename(from, to);	/* a file system without RENAME_NOREPLACE */
}

/* Bound under a temporary name with a umask that lets nobody in, given
 * its mode and group, listening, then renamed into place: whoever sees
 * PATH can connect, and nobody could before the mode was set. */
static int bind_listen(struct sock_listener *l, const struct sock_listen_opts *o,
		       const char *tmp, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old, mode = o->mode ? o->mode : SOCK_DEFAULT_MODE;
	struct stat st;
	int fd, r;

	strcpy(sa.sun_path, tmp);
	fd = socket(AF_UNIX, o->type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errbuf_set(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r) {
		errbuf_set(err, errlen, "cannot listen on %s: %s", l->path, strerror(errno));
		close(fd);
		return -1;
	}
	if (lstat(tmp, &st) || chmod(tmp, mode) ||
	    (o->gid != (gid_t)-1 && chown(tmp, (uid_t)-1, o->gid)) ||
	    listen(fd, o->backlog ? o->backlog : 16) || rename_noreplace(tmp, l->path)) {
		errbuf_set(err, errlen, "cannot listen on %s: %s", l->path,
			errno == EEXIST ? "it appeared while starting" : strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->dev = st.st_dev;
	l->ino = st.st_ino;
	return 0;
}

int sock_listen(struct sock_listener *l, const struct sock_listen_opts *o,
		char *err, size_t errlen)
{
	char tmp[SOCK_PATH_MAX];
	struct stat st;
	int n;

	sock_listener_init(l);
	if (sock_abspath(o->path, l->path, sizeof(l->path))) {
		errbuf_set(err, errlen, "%s path too long: %s", o->what ? o->what : "socket", o->path);
		return -1;
	}
	n = snprintf(tmp, sizeof(tmp), "%s.%d.tmp", l->path, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errbuf_set(err, errlen, "%s path too long: %s", o->what ? o->what : "socket", o->path);
		return -1;
	}
	snprintf(l->lock_path, sizeof(l->lock_path), "%s.lock", l->path);
	if (o->mkdir_parent)
		make_parent_dir(l->path);
	if (take_lock(l, err, errlen))
		return -1;
	/* a temporary socket of a crashed process that had our pid */
	if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(tmp);
	if (claim_path(o, l->path, err, errlen) || bind_listen(l, o, tmp, err, errlen)) {
		unlock(l);
		return -1;
	}
	return 0;
}

void sock_listener_close(struct sock_listener *l)
{
	if (l->fd >= 0) {
		close(l->fd);
		l->fd = -1;
		if (same_file(l->path, l->dev, l->ino))
			unlink(l->path);
	}
	unlock(l);
}

int sock_connect(const char *path, int type, int timeout_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (timeout_ms > 0) {
		/* also bounds a connect that waits for room in the backlog */
		struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };

		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	return -(e == EAGAIN && !(type & SOCK_NONBLOCK) ? ETIMEDOUT : e);
}

int sock_parse_mode(const char *s, mode_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '7')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 8);
	if (errno || *end || v > 0777)
		return -1;
	*out = v;
	return 0;
}

int sock_parse_group(const char *s, gid_t *out)
{
	struct group *g = getgrnam(s);
	uint64_t v;

	if (g) {
		*out = g->gr_gid;
		return 0;
	}
	if (parse_u64(s, 0, (gid_t)-2, &v))
		return -1;
	*out = v;
	return 0;
}
