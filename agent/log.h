/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Logging for the agent: stderr in the foreground (-d), syslog otherwise.
 * log_debug prints only at -v.  Messages are lowercase sentences.
 */
#ifndef AF_LOG_H
#define AF_LOG_H

void log_init(int foreground, int verbose);
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* appends strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int log_verbose(void);

#endif
