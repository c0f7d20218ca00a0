// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Logging to stderr: warnings always, info with -v, debug with -vv. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "vub.h"

int vub_verbose;

static void vlog(int min_verbose, const char *level, int err, const char *fmt, va_list ap)
{
	char buf[512];

	if (vub_verbose < min_verbose)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (err)
		fprintf(stderr, "antfarm-blk: %s%s: %s\n", level, buf, strerror(err));
	else
		fprintf(stderr, "antfarm-blk: %s%s\n", level, buf);
}

#define LOG_FN(name, min, level, err)			\
void name(const char *fmt, ...)				\
{							\
	int e = (err);					\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(min, level, e, fmt, ap);			\
	va_end(ap);					\
}

LOG_FN(log_warn, 0, "", errno)
LOG_FN(log_warnx, 0, "", 0)
LOG_FN(log_info, 1, "", 0)
LOG_FN(log_debug, 2, "debug: ", 0)
