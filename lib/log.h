/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Logging for every Antfarm program, in the OpenBSD-daemon manner: one
 * line per message, lowercase sentences, to stderr or (daemons) syslog.
 *
 * Levels are the same everywhere: warnings and information always,
 * log_debug with -v; -vv (log_verbose() > 1) adds per-message and
 * per-request detail.  A message that repeats back to back (an error
 * that comes back every loop turn) is printed once; the repeats are
 * summarised as "last message repeated N times" when another message
 * comes or every LOG_REPEAT_SECONDS, so a storm cannot fill the disk.
 * Thread-safe.
 */
#ifndef AF_LIB_LOG_H
#define AF_LIB_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_REPEAT_SECONDS 10

/* ident prefixes every line (default: the program's name); to_syslog
 * sends the lines to syslog (LOG_DAEMON) instead of stderr. */
void log_init(const char *ident, int to_syslog, int verbose);
int log_verbose(void);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* only with -v */
/* Priority LOG_WARNING, LOG_INFO or LOG_DEBUG; a trailing newline in fmt
 * is dropped (for libraries' print callbacks). */
void log_vmsg(int pri, const char *fmt, va_list ap);

/* For functions that report errors to their caller as text instead of
 * logging them: the message into err[len] (nothing when err is NULL). */
void errbuf_set(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
