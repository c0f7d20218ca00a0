// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Logging to stderr: warnings always, info with -v, debug with -vv. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "vub.h"

int vub_verbose;

static void vlog(const char *level, const char *fmt, va_list ap, int err)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (err)
		fprintf(stderr, "antfarm-blk: %s%s: %s\n", level, buf, strerror(err));
	else
		fprintf(stderr, "antfarm-blk: %s%s\n", level, buf);
}

void log_warn(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, err);
	va_end(ap);
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap, 0);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (vub_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap, 0);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (vub_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap, 0);
	va_end(ap);
}
