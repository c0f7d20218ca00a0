/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libFuzzer target for the request reader that every client line goes
 * through (json_parse_object), with two oracles:
 *
 *  - jansson, as a reference parser: what we accept, jansson accepts as the
 *    same object (same keys, same decoded strings byte for byte, same
 *    numbers, same types); what jansson accepts and fits our documented
 *    limits (a flat object of at most JSON_MAX_KEYS members whose values are
 *    scalars or arrays of at most JSON_MAX_ITEMS scalars), we accept too.
 *    Where jansson cannot be the reference the input is not compared:
 *    integers beyond its json_int_t, reals that overflow a double, and
 *    inputs with a NUL byte (jansson stops reading there; we must refuse).
 *  - UTF-8 and escapes: every decoded string is valid UTF-8 (checked by an
 *    independent decoder here), and writing it with sb_str() and reading it
 *    back gives the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lib/json.h"
#include "fuzz_json_ref.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

/* RFC 3629, decoded by hand: no overlong forms, no surrogates, <= U+10FFFF. */
static int valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len, cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += len;
	}
	return 1;
}

/* lib/json.c refuses a number of more characters than this */
#define NUMBER_MAX 63

/* The longest number in the input, outside strings. */
static size_t longest_number(const char *s, size_t n)
{
	size_t best = 0, run = 0;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		if (in_str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_str = 0;
			continue;
		}
		if (s[i] == '"') {
			in_str = 1;
			run = 0;
		} else if (strchr("0123456789+-.eE", s[i]) && s[i]) {
			if (++run > best)
				best = run;
		} else {
			run = 0;
		}
	}
	return best;
}

/* Within what json_parse_object promises to read: a flat object of at most
 * JSON_MAX_KEYS members, values scalars or arrays of at most JSON_MAX_ITEMS
 * scalars, numbers of at most NUMBER_MAX characters. */
static int in_limits(const struct robj *o, const char *s, size_t n)
{
	if (!o->is_object || o->n > JSON_MAX_KEYS || longest_number(s, n) > NUMBER_MAX)
		return 0;
	for (size_t i = 0; i < o->n; i++) {
		const struct rval *v = &o->vals[i];

		if (v->type == R_OTHER)
			return 0;
		if (v->type == R_ARR) {
			if (v->n > JSON_MAX_ITEMS)
				return 0;
			for (size_t k = 0; k < v->n; k++)
				if (v->items[k].type == R_OTHER || v->items[k].type == R_ARR)
					return 0;
		}
	}
	return 1;
}

/* Write s with sb_str and read it back: the same bytes. */
static void round_trip(const char *s)
{
	struct sbuf b = { 0 };
	struct json_obj o;
	char err[128];

	sb_puts(&b, "{\"k\":");
	sb_str(&b, s);
	sb_putc(&b, '}');
	CHECK(!b.failed);
	CHECK(valid_utf8((const unsigned char *)b.p, b.len));
	CHECK(json_parse_object(b.p, b.len, &o, err, sizeof(err)) == 0);
	CHECK(json_get_str(&o, "k") && !strcmp(json_get_str(&o, "k"), s));
	json_obj_free(&o);
	sb_free(&b);
}

static void same_value(const struct json_val *ours, const struct rval *ref)
{
	CHECK(ref);
	switch (ours->type) {
	case JSON_NULL:
		CHECK(ref->type == R_NULL);
		break;
	case JSON_BOOL:
		CHECK(ref->type == R_BOOL && ours->u == (uint64_t)ref->i);
		break;
	case JSON_NUM:
		CHECK(ref->type == R_INT || ref->type == R_REAL);
		if (ref->type == R_INT) {
			CHECK(ours->num == (double)ref->i);
			if (ours->is_uint)
				CHECK(ref->i >= 0 && ours->u == (uint64_t)ref->i);
		} else {
			CHECK(ours->num == ref->d);
		}
		break;
	case JSON_STR:
		CHECK(ref->type == R_STR);
		CHECK(strlen(ours->str) == ref->slen && !memcmp(ours->str, ref->s, ref->slen));
		CHECK(valid_utf8((const unsigned char *)ours->str, ref->slen));
		round_trip(ours->str);
		break;
	case JSON_ARR:
		CHECK(ref->type == R_ARR && ref->n == (size_t)ours->nitems);
		for (int i = 0; i < ours->nitems; i++)
			same_value(&ours->items[i], &ref->items[i]);
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_obj o;
	struct robj ref;
	char err[256] = "";
	int ours = json_parse_object((const char *)data, size, &o, err, sizeof(err));

	ref_parse((const char *)data, size, &ref);
	if (memchr(data, 0, size)) {
		/* a NUL byte is never valid JSON; jansson stops reading at one */
		CHECK(ours != 0 && err[0]);
	} else if (!ref.ok && ref.out_of_range) {
		/* beyond jansson's number types, not ours: nothing to compare */
	} else if (ours == 0) {
		CHECK(ref.ok && ref.is_object && ref.n == (size_t)o.n);
		for (int i = 0; i < o.n; i++) {
			CHECK(valid_utf8((const unsigned char *)o.kv[i].key, strlen(o.kv[i].key)));
			round_trip(o.kv[i].key);
			same_value(&o.kv[i].val, ref_get(&ref, o.kv[i].key));
		}
	} else {
		CHECK(err[0]);			/* a refusal says why */
		CHECK(!ref.ok || !in_limits(&ref, (const char *)data, size));
	}
	ref_free(&ref);
	json_obj_free(&o);
	return 0;
}
