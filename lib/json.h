/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Just enough JSON for Antfarm's line protocols (the agent's socket, the
 * CLI, antfarm-blk's stats).  Reading: one flat object per line whose
 * values are strings, numbers, booleans, null or arrays of those; anything
 * else (trailing garbage, nested objects, control characters, invalid
 * UTF-8, duplicate keys) is an error with a message.  Writing: an
 * append-only string buffer whose strings are always escaped and always
 * valid UTF-8, whatever bytes they are given.
 */
#ifndef AF_LIB_JSON_H
#define AF_LIB_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_KEYS  32
#define JSON_MAX_ITEMS 64

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR };

struct json_val {
	enum json_type type;
	char *str;			/* JSON_STR: decoded, NUL-terminated (heap) */
	double num;			/* JSON_NUM */
	int is_uint;			/* JSON_NUM: a non-negative integer that fits u64 */
	uint64_t u;			/* JSON_NUM when is_uint; JSON_BOOL: 0/1 */
	struct json_val *items;		/* JSON_ARR (heap) */
	int nitems;
};

struct json_kv {
	char *key;			/* decoded (heap) */
	struct json_val val;
};

struct json_obj {
	struct json_kv kv[JSON_MAX_KEYS];
	int n;
};

/* Parse exactly one object from s[0..len) (surrounding whitespace allowed).
 * Returns 0, or -1 with a message in err; obj is always safe to free. */
int json_parse_object(const char *s, size_t len, struct json_obj *obj,
		      char *err, size_t errlen);
void json_obj_free(struct json_obj *obj);
const struct json_val *json_get(const struct json_obj *obj, const char *key);
/* String value of key, or NULL if absent or not a string. */
const char *json_get_str(const struct json_obj *obj, const char *key);
/* Unsigned integer value of key, or def if absent or not one. */
uint64_t json_get_u64(const struct json_obj *obj, const char *key, uint64_t def);

/* Append-only output buffer; on allocation failure 'failed' is set and
 * further appends are ignored. */
struct sbuf {
	char *p;
	size_t len, cap;
	int failed;
};

void sb_free(struct sbuf *b);
void sb_reset(struct sbuf *b);
void sb_putn(struct sbuf *b, const char *s, size_t n);
void sb_puts(struct sbuf *b, const char *s);
void sb_putc(struct sbuf *b, char c);
void sb_u64(struct sbuf *b, uint64_t v);
void sb_hex(struct sbuf *b, uint64_t v);		/* "0x..." with quotes */
/* A JSON string: quoted, escaped; a byte that is not part of valid UTF-8
 * becomes U+FFFD, so the output is valid UTF-8 for any input. */
void sb_str(struct sbuf *b, const char *s);
void sb_strn(struct sbuf *b, const char *s, size_t n);
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sb_str's output on a stdio stream (antfarm-blk's stats, metrics labels). */
void json_fputs(FILE *f, const char *s);

/* Length of the valid UTF-8 sequence starting at s (1 to 4 bytes, at most
 * n), or 0 when s does not start one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
size_t utf8_seq(const char *s, size_t n);
/* The longest prefix of s[0..n), at most max bytes, that does not end in
 * the middle of a character: where to cut a string for a message. */
size_t utf8_cut(const char *s, size_t n, size_t max);

#endif
