// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Logging: see log.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include "clock.h"
#include "log.h"

static const char *ident;
static int use_syslog, verbose;

/* the last line printed, and how often it came again since */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static char last[1024];
static unsigned long repeats;
static uint64_t last_out_ns;

void log_init(const char *id, int to_syslog, int v)
{
	ident = id;
	use_syslog = to_syslog;
	verbose = v;
	if (to_syslog)
		openlog(id, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int log_verbose(void)
{
	return verbose;
}

static void out(int pri, const char *line)
{
	if (use_syslog)
		syslog(pri, "%s", line);
	else
		fprintf(stderr, "%s: %s\n", ident ? ident : program_invocation_short_name, line);
}

static void flush_repeats(int pri)
{
	char note[64];

	if (!repeats)
		return;
	snprintf(note, sizeof(note), "last message repeated %lu time%s", repeats,
		 repeats == 1 ? "" : "s");
	out(pri, note);
	repeats = 0;
}

static void emit(int pri, const char *line)
{
	uint64_t now = af_now_ns();

	pthread_mutex_lock(&mu);
	if (!strcmp(line, last)) {
		repeats++;
		if (now - last_out_ns >= LOG_REPEAT_SECONDS * 1000000000ull) {
			flush_repeats(pri);
			last_out_ns = now;
		}
	} else {
		flush_repeats(pri);
		out(pri, line);
		snprintf(last, sizeof(last), "%s", line);
		last_out_ns = now;
	}
	pthread_mutex_unlock(&mu);
}

/* Most lines fit the stack buffer; a long one (libbpf's verifier log) is
 * printed whole from the heap. */
static void vlog(int pri, const char *suffix, const char *fmt, va_list ap)
{
	char buf[1024], *line = buf, *heap = NULL;
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n >= (int)sizeof(buf) && vasprintf(&heap, fmt, copy) >= 0)
		line = heap;
	va_end(copy);
	if (n < 0)
		return;
	n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[n - 1] = 0;
	if (suffix && line == buf) {
		size_t len = strlen(buf);

		snprintf(buf + len, sizeof(buf) - len, ": %s", suffix);
	}
	emit(pri, line);
	free(heap);
}

void log_vmsg(int pri, const char *fmt, va_list ap)
{
	if (pri == LOG_DEBUG && !verbose)
		return;
	vlog(pri, NULL, fmt, ap);
}

void log_warn(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}

#define LOG_FN(name, pri)				\
void name(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	log_vmsg(pri, fmt, ap);				\
	va_end(ap);					\
}

LOG_FN(log_warnx, LOG_WARNING)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_debug, LOG_DEBUG)

void errbuf_set(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}
