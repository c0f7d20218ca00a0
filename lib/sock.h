/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unix sockets, with one policy for every socket path in the project
 * (the agent's socket, antfarm-blk's vhost-user, stats and hint sockets):
 *
 *  - a lock file next to the socket (PATH.lock, flock) is held for as long
 *    as the socket is served, so two daemons started at once cannot both
 *    stay up;
 *  - what is at PATH is replaced only when it is a stale socket (one
 *    nobody listens on, probed without blocking); anything else (a live
 *    socket, a file, a directory) is refused with a clear error;
 *  - the socket gets an explicit mode (0660 unless told otherwise) and,
 *    optionally, a group, whatever the umask; it appears at PATH only once
 *    it listens;
 *  - PATH is made absolute first, so a daemon that chdir()s away still
 *    finds it, and at exit only what this process created is removed (the
 *    same inode).
 */
#ifndef AF_LIB_SOCK_H
#define AF_LIB_SOCK_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

#define SOCK_PATH_MAX sizeof(((struct sockaddr_un *)0)->sun_path)
#define SOCK_DEFAULT_MODE 0660

struct sock_listen_opts {
	const char *path;
	int type;		/* SOCK_STREAM or SOCK_SEQPACKET */
	mode_t mode;		/* 0: SOCK_DEFAULT_MODE */
	gid_t gid;		/* (gid_t)-1: the creator's */
	int backlog;		/* 0: 16 */
	int mkdir_parent;	/* create a missing parent directory (0755) */
	const char *what;	/* for messages, e.g. "stats socket" */
};

struct sock_listener {
	int fd;			/* non-blocking, close-on-exec; -1 when closed */
	int lock_fd;
	char path[SOCK_PATH_MAX];	/* absolute */
	char lock_path[SOCK_PATH_MAX + 8];
	dev_t dev, lock_dev;	/* what we created, to remove only that */
	ino_t ino, lock_ino;
};

/* Returns 0, or -1 with a sentence in err (nothing left behind). */
int sock_listen(struct sock_listener *l, const struct sock_listen_opts *o,
		char *err, size_t errlen);
/* Closes the socket, removes the socket file and the lock file if they are
 * still the ones this process created.  Safe on one that failed to listen,
 * was closed already or was only set up by sock_listener_init(). */
void sock_listener_close(struct sock_listener *l);
void sock_listener_init(struct sock_listener *l);	/* fds -1 */
#define SOCK_LISTENER_INIT { .fd = -1, .lock_fd = -1 }

/* Connects to PATH; type may include SOCK_NONBLOCK (then the connect does
 * not wait at all).  timeout_ms > 0 bounds a blocking connect to a
 * listener whose backlog is full (ETIMEDOUT).  Returns the fd or -errno. */
int sock_connect(const char *path, int type, int timeout_ms);

/* PATH as an absolute path (relative to the current directory), in out;
 * -1 (errno ENAMETOOLONG) when it does not fit a socket address. */
int sock_abspath(const char *path, char *out, size_t len);

/* Option values: an octal mode (at most 0777), a group name or number. */
int sock_parse_mode(const char *s, mode_t *out);
int sock_parse_group(const char *s, gid_t *out);

#endif
