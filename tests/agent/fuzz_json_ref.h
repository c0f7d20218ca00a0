/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* jansson's reading of an input, in plain structs (fuzz_json_ref.c): its
 * names clash with ours, so it lives in a translation unit of its own. */
#ifndef AF_FUZZ_JSON_REF_H
#define AF_FUZZ_JSON_REF_H

#include <stddef.h>

enum rtype { R_NULL, R_BOOL, R_INT, R_REAL, R_STR, R_ARR, R_OTHER };

struct rval {
	enum rtype type;
	long long i;		/* R_INT; R_BOOL: 0/1 */
	double d;		/* R_REAL */
	char *s;		/* R_STR (may hold no NUL: jansson refuses \u0000 here) */
	size_t slen;
	struct rval *items;	/* R_ARR */
	size_t n;
};

struct robj {
	int ok;			/* jansson parsed it */
	int out_of_range;	/* refused only for a number beyond its types */
	int is_object;
	size_t n;
	char **keys;
	struct rval *vals;
};

void ref_parse(const char *data, size_t size, struct robj *o);
const struct rval *ref_get(const struct robj *o, const char *key);
void ref_free(struct robj *o);

#endif
