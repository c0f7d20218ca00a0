// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The tests' CHECK: see check.h. */
#include <stdarg.h>
#include <stdio.h>
#include "check.h"

int check_failures;
unsigned long check_count;
const char *check_case;

void check_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	check_failures++;
	printf("FAIL %s:%d%s%s: %s: ", file, line, check_case ? " " : "",
	       check_case ? check_case : "", cond);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int check_summary(const char *name)
{
	if (check_failures)
		printf("%s: %d failure(s) in %lu checks\n", name, check_failures, check_count);
	else
		printf("%s: all %lu checks passed\n", name, check_count);
	return check_failures ? 1 : 0;
}
