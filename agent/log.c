/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include "log.h"

static int foreground = 1;
static int verbose;

void log_init(int fg, int v)
{
	foreground = fg;
	verbose = v;
	if (!fg)
		openlog("antfarm-agent", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_verbose(void)
{
	return verbose;
}

static void vlog(int pri, const char *fmt, va_list ap, const char *suffix)
{
	char msg[1024];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (foreground)
		fprintf(stderr, "antfarm-agent: %s%s%s\n", msg, suffix ? ": " : "",
			suffix ? suffix : "");
	else
		syslog(pri, "%s%s%s", msg, suffix ? ": " : "", suffix ? suffix : "");
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, strerror(saved));
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, fmt, ap, NULL);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, fmt, ap, NULL);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, fmt, ap, NULL);
	va_end(ap);
}
