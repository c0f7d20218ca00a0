/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The reference reading for fuzz_json.c: jansson, copied into plain structs. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_json_ref.h"

static void conv(const json_t *v, struct rval *r, int depth)
{
	memset(r, 0, sizeof(*r));
	if (json_is_null(v)) {
		r->type = R_NULL;
	} else if (json_is_boolean(v)) {
		r->type = R_BOOL;
		r->i = json_is_true(v);
	} else if (json_is_integer(v)) {
		r->type = R_INT;
		r->i = json_integer_value(v);
	} else if (json_is_real(v)) {
		r->type = R_REAL;
		r->d = json_real_value(v);
	} else if (json_is_string(v)) {
		r->type = R_STR;
		r->slen = json_string_length(v);
		r->s = malloc(r->slen + 1);
		memcpy(r->s, json_string_value(v), r->slen);
		r->s[r->slen] = 0;
	} else if (json_is_array(v) && depth == 0) {
		r->type = R_ARR;
		r->n = json_array_size(v);
		r->items = calloc(r->n + 1, sizeof(*r->items));
		for (size_t i = 0; i < r->n; i++)
			conv(json_array_get(v, i), &r->items[i], depth + 1);
	} else {
		r->type = R_OTHER;	/* objects, arrays in arrays */
	}
}

void ref_parse(const char *data, size_t size, struct robj *o)
{
	json_error_t err;
	json_t *j = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
	const char *k;
	json_t *v;
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	if (!j) {
		o->out_of_range = strstr(err.text, "too big") || strstr(err.text, "overflow");
		return;
	}
	o->ok = 1;
	o->is_object = json_is_object(j);
	if (o->is_object) {
		o->n = json_object_size(j);
		o->keys = calloc(o->n + 1, sizeof(*o->keys));
		o->vals = calloc(o->n + 1, sizeof(*o->vals));
		json_object_foreach(j, k, v) {
			o->keys[i] = strdup(k);
			conv(v, &o->vals[i], 0);
			i++;
		}
	}
	json_decref(j);
}

const struct rval *ref_get(const struct robj *o, const char *key)
{
	for (size_t i = 0; i < o->n; i++)
		if (!strcmp(o->keys[i], key))
			return &o->vals[i];
	return NULL;
}

static void rval_free(struct rval *r)
{
	free(r->s);
	for (size_t i = 0; i < r->n; i++)
		rval_free(&r->items[i]);
	free(r->items);
}

void ref_free(struct robj *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->keys[i]);
		rval_free(&o->vals[i]);
	}
	free(o->keys);
	free(o->vals);
}
