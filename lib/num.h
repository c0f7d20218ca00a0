/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Numbers from the command line and the environment: decimal, or
 * hexadecimal with 0x.  No sign, no blanks, no octal, nothing after the
 * digits.
 */
#ifndef AF_LIB_NUM_H
#define AF_LIB_NUM_H

#include <stdint.h>

/* 0 with the value in [lo, hi] in *out, or -1 (errno EINVAL or ERANGE). */
int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out);
/* The same for option opt; on error logs "opt: invalid value 's' (lo to hi)". */
int parse_opt_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
int parse_opt_uint(const char *opt, const char *s, unsigned lo, unsigned hi, unsigned *out);

#endif
