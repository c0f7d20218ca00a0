// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Number parsing: see num.h. */
#include <errno.h>
#include <stdlib.h>
#include "log.h"
#include "num.h"

int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	int base = 10;
	unsigned long long v;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoull would take a sign and leading blanks */
	if (!((*s >= '0' && *s <= '9') || (base == 16 && ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')))) {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end) {
		errno = errno ? errno : EINVAL;
		return -1;
	}
	if (v < lo || v > hi) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, lo, hi, &v))
		return -1;
	*out = v;
	return 0;
}

int parse_opt_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!parse_u64(s, lo, hi, out))
		return 0;
	log_warnx("%s: invalid value '%s' (%llu to %llu)", opt, s, (unsigned long long)lo,
		  (unsigned long long)hi);
	return -1;
}

int parse_opt_uint(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	uint64_t v;

	if (parse_opt_u64(opt, s, lo, hi, &v))
		return -1;
	*out = v;
	return 0;
}
