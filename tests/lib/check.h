/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One CHECK for every C test.  A failed check prints
 *	FAIL file:line [case]: condition: message
 * counts, and the test goes on, so one run reports every failure.  CHECK
 * evaluates to whether the condition held: where the rest of a case
 * depends on it, the case says so itself:
 *	if (!CHECK(fd >= 0, "open: %s", strerror(errno)))
 *		return;
 * The message's arguments are evaluated only when the check fails.
 */
#ifndef ANTFARM_TESTS_CHECK_H
#define ANTFARM_TESTS_CHECK_H

extern int check_failures;		/* failed checks so far */
extern unsigned long check_count;	/* checks evaluated */
extern const char *check_case;		/* the case under way, or NULL */

void check_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define CHECK(cond, ...) __extension__ ({				\
	int check_ok_ = !!(cond);					\
	check_count++;							\
	if (!check_ok_)							\
		check_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);	\
	check_ok_;							\
})

/* "NAME: all N checks passed" or "NAME: N failure(s)"; the exit status
 * for main (0 or 1). */
int check_summary(const char *name);

#endif
