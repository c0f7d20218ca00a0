/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"

struct parser {
	const char *start, *s, *end;
	char *err;
	size_t errlen;
	int failed;
};

static int fail(struct parser *p, const char *what)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "%s at offset %zu", what,
			 (size_t)(p->s - p->start));
	p->failed = 1;
	return -1;
}

static void skip_ws(struct parser *p)
{
	while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' ||
				 *p->s == '\r' || *p->s == '\n'))
		p->s++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int read_hex4(struct parser *p, unsigned *out)
{
	unsigned v = 0;

	if (p->end - p->s < 4)
		return fail(p, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		int h = hexval(p->s[i]);
		if (h < 0)
			return fail(p, "bad \\u escape");
		v = v << 4 | h;
	}
	p->s += 4;
	*out = v;
	return 0;
}

static void put_utf8(char *o, size_t *n, unsigned cp)
{
	if (cp < 0x80) {
		o[(*n)++] = cp;
	} else if (cp < 0x800) {
		o[(*n)++] = 0xc0 | cp >> 6;
		o[(*n)++] = 0x80 | (cp & 0x3f);
	} else if (cp < 0x10000) {
		o[(*n)++] = 0xe0 | cp >> 12;
		o[(*n)++] = 0x80 | ((cp >> 6) & 0x3f);
		o[(*n)++] = 0x80 | (cp & 0x3f);
	} else {
		o[(*n)++] = 0xf0 | cp >> 18;
		o[(*n)++] = 0x80 | ((cp >> 12) & 0x3f);
		o[(*n)++] = 0x80 | ((cp >> 6) & 0x3f);
		o[(*n)++] = 0x80 | (cp & 0x3f);
	}
}

static int parse_escape(struct parser *p, char *o, size_t *n)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	unsigned cp, lo;
	const char *e;

	if (p->s >= p->end)
		return fail(p, "truncated escape");
	e = strchr(from, *p->s);
	if (e && *p->s) {
		o[(*n)++] = to[e - from];
		p->s++;
		return 0;
	}
	if (*p->s++ != 'u')
		return fail(p, "bad escape");
	if (read_hex4(p, &cp))
		return -1;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(p, "lone low surrogate");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
			return fail(p, "lone high surrogate");
		p->s += 2;
		if (read_hex4(p, &lo))
			return -1;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(p, "bad surrogate pair");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	put_utf8(o, n, cp);
	return 0;
}

/* Decoded strings are never longer than their encoding, so one
 * allocation of the raw length is enough. */
static int parse_string(struct parser *p, char **out)
{
	const char *start = ++p->s;	/* past the quote */
	size_t n = 0;
	char *o;

	while (p->s < p->end && *p->s != '"')
		p->s += (*p->s == '\\' && p->s + 1 < p->end) ? 2 : 1;
	if (p->s >= p->end)
		return fail(p, "unterminated string");
	o = malloc(p->s - start + 1);
	if (!o)
		return fail(p, "out of memory");
	p->s = start;
	while (*p->s != '"') {
		unsigned char c = *p->s;
		size_t len;

		if (c < 0x20) {
			free(o);
			return fail(p, "control character in string");
		}
		if (c == '\\') {
			p->s++;
			if (parse_escape(p, o, &n)) {
				free(o);
				return -1;
			}
			continue;
		}
		len = c < 0x80 ? 1 : utf8_seq(p->s, p->end - p->s);
		if (!len) {
			free(o);
			return fail(p, "invalid UTF-8 in string");
		}
		memcpy(o + n, p->s, len);
		n += len;
		p->s += len;
	}
	p->s++;
	o[n] = 0;
	if (strlen(o) != n) {
		free(o);
		return fail(p, "NUL in string");
	}
	*out = o;
	return 0;
}

/* RFC 8259 number grammar, checked by hand; strtod does the value. */
static int parse_number(struct parser *p, struct json_val *v)
{
	const char *start = p->s, *q = p->s;
	char tmp[64];
	int integer = 1;

	if (q < p->end && *q == '-')
		q++;
	if (q >= p->end || *q < '0' || *q > '9')
		return fail(p, "bad number");
	if (*q == '0' && q + 1 < p->end && q[1] >= '0' && q[1] <= '9')
		return fail(p, "leading zero in number");
	while (q < p->end && *q >= '0' && *q <= '9')
		q++;
	if (q < p->end && *q == '.') {
		integer = 0;
		if (++q >= p->end || *q < '0' || *q > '9')
			return fail(p, "bad fraction");
		while (q < p->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < p->end && (*q == 'e' || *q == 'E')) {
		integer = 0;
		q++;
		if (q < p->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= p->end || *q < '0' || *q > '9')
			return fail(p, "bad exponent");
		while (q < p->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((size_t)(q - start) >= sizeof(tmp))
		return fail(p, "number too long");
	memcpy(tmp, start, q - start);
	tmp[q - start] = 0;
	v->type = JSON_NUM;
	v->num = strtod(tmp, NULL);
	if (integer && *start != '-') {
		errno = 0;
		v->u = strtoull(tmp, NULL, 10);
		v->is_uint = errno == 0;
	}
	p->s = q;
	return 0;
}

static int match_word(struct parser *p, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(p->end - p->s) < n || memcmp(p->s, w, n))
		return fail(p, "not JSON");
	p->s += n;
	return 0;
}

static void val_free(struct json_val *v)
{
	free(v->str);
	for (int i = 0; i < v->nitems; i++)
		val_free(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int parse_value(struct parser *p, struct json_val *v, int in_array);

static int parse_array(struct parser *p, struct json_val *v)
{
	p->s++;
	v->type = JSON_ARR;
	v->items = calloc(JSON_MAX_ITEMS, sizeof(*v->items));
	if (!v->items)
		return fail(p, "out of memory");
	skip_ws(p);
	if (p->s < p->end && *p->s == ']') {
		p->s++;
		return 0;
	}
	for (;;) {
		if (v->nitems == JSON_MAX_ITEMS)
			return fail(p, "array too long");
		if (parse_value(p, &v->items[v->nitems], 1))
			return -1;
		v->nitems++;
		skip_ws(p);
		if (p->s < p->end && *p->s == ',') {
			p->s++;
			continue;
		}
		if (p->s < p->end && *p->s == ']') {
			p->s++;
			return 0;
		}
		return fail(p, "expected , or ] in array");
	}
}

static int parse_value(struct parser *p, struct json_val *v, int in_array)
{
	skip_ws(p);
	if (p->s >= p->end)
		return fail(p, "missing value");
	switch (*p->s) {
	case '"':
		v->type = JSON_STR;
		return parse_string(p, &v->str);
	case '[':
		if (in_array)
			return fail(p, "nested arrays are not supported");
		return parse_array(p, v);
	case '{':
		return fail(p, "nested objects are not supported");
	case 't':
		v->type = JSON_BOOL;
		v->u = 1;
		return match_word(p, "true");
	case 'f':
		v->type = JSON_BOOL;
		return match_word(p, "false");
	case 'n':
		v->type = JSON_NULL;
		return match_word(p, "null");
	default:
		return parse_number(p, v);
	}
}

static int parse_member(struct parser *p, struct json_obj *obj)
{
	struct json_kv *kv;

	if (obj->n == JSON_MAX_KEYS)
		return fail(p, "too many keys");
	skip_ws(p);
	if (p->s >= p->end || *p->s != '"')
		return fail(p, "expected a key");
	kv = &obj->kv[obj->n];
	if (parse_string(p, &kv->key))
		return -1;
	obj->n++;
	for (int i = 0; i < obj->n - 1; i++)
		if (!strcmp(obj->kv[i].key, kv->key))
			return fail(p, "duplicate key");
	skip_ws(p);
	if (p->s >= p->end || *p->s != ':')
		return fail(p, "expected :");
	p->s++;
	return parse_value(p, &kv->val, 0);
}

int json_parse_object(const char *s, size_t len, struct json_obj *obj,
		      char *err, size_t errlen)
{
	struct parser p = { .start = s, .s = s, .end = s + len, .err = err, .errlen = errlen };

	memset(obj, 0, sizeof(*obj));
	skip_ws(&p);
	if (p.s >= p.end || *p.s != '{')
		return fail(&p, "not a JSON object");
	p.s++;
	skip_ws(&p);
	if (p.s < p.end && *p.s == '}') {
		p.s++;
	} else {
		for (;;) {
			if (parse_member(&p, obj))
				return -1;
			skip_ws(&p);
			if (p.s < p.end && *p.s == ',') {
				p.s++;
				continue;
			}
			if (p.s < p.end && *p.s == '}') {
				p.s++;
				break;
			}
			return fail(&p, "expected , or } in object");
		}
	}
	skip_ws(&p);
	if (p.s != p.end)
		return fail(&p, "trailing garbage after object");
	return 0;
}

void json_obj_free(struct json_obj *obj)
{
	for (int i = 0; i < JSON_MAX_KEYS; i++) {
		free(obj->kv[i].key);
		val_free(&obj->kv[i].val);
	}
	memset(obj, 0, sizeof(*obj));
}

const struct json_val *json_get(const struct json_obj *obj, const char *key)
{
	for (int i = 0; i < obj->n; i++)
		if (obj->kv[i].key && !strcmp(obj->kv[i].key, key))
			return &obj->kv[i].val;
	return NULL;
}

const char *json_get_str(const struct json_obj *obj, const char *key)
{
	const struct json_val *v = json_get(obj, key);

	return v && v->type == JSON_STR ? v->str : NULL;
}

uint64_t json_get_u64(const struct json_obj *obj, const char *key, uint64_t def)
{
	const struct json_val *v = json_get(obj, key);

	return v && v->type == JSON_NUM && v->is_uint ? v->u : def;
}

/* ---- writing ---- */

static int sb_grow(struct sbuf *b, size_t n)
{
	size_t cap;
	char *p;

	if (b->failed)
		return -1;
	if (b->len + n <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p) {
		b->failed = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void sb_free(struct sbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

void sb_reset(struct sbuf *b)
{
	b->len = 0;
	b->failed = 0;
}

void sb_putn(struct sbuf *b, const char *s, size_t n)
{
	if (sb_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

void sb_puts(struct sbuf *b, const char *s)
{
	sb_putn(b, s, strlen(s));
}

void sb_putc(struct sbuf *b, char c)
{
	if (sb_grow(b, 1))
		return;
	b->p[b->len++] = c;
}

/* Hand-rolled: the event encoder runs once per ring-buffer record and
 * snprintf would dominate it. */
void sb_u64(struct sbuf *b, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = '0' + v % 10;
		v /= 10;
	} while (v);
	if (sb_grow(b, n))
		return;
	while (n)
		b->p[b->len++] = tmp[--n];
}

void sb_hex(struct sbuf *b, uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = digits[v & 15];
		v >>= 4;
	} while (v);
	if (sb_grow(b, n + 4))
		return;
	b->p[b->len++] = '"';
	b->p[b->len++] = '0';
	b->p[b->len++] = 'x';
	while (n)
		b->p[b->len++] = tmp[--n];
	b->p[b->len++] = '"';
}

void sb_strn(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const char *end = s + n;

	sb_putc(b, '"');
	while (s < end) {
		unsigned char c = *s;
		size_t len = c < 0x80 ? 1 : utf8_seq(s, end - s);

		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, c);
		} else if (c < 0x20) {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			sb_putn(b, u, sizeof(u));
		} else if (!len) {
			sb_puts(b, "\\ufffd");	/* not UTF-8: the replacement character */
			len = 1;
		} else {
			sb_putn(b, s, len);
		}
		s += len ? len : 1;
	}
	sb_putc(b, '"');
}

void sb_str(struct sbuf *b, const char *s)
{
	sb_strn(b, s, strlen(s));
}

void json_fputs(FILE *f, const char *s)
{
	struct sbuf b = { 0 };

	sb_str(&b, s);
	if (!b.failed)
		fwrite(b.p, 1, b.len, f);
	sb_free(&b);
}

/* ---- UTF-8 ---- */

size_t utf8_seq(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (!n)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;		/* continuation byte, overlong lead, beyond U+10FFFF */
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (s[0] == 0xe0)
		lo = 0xa0;		/* overlong */
	else if (s[0] == 0xed)
		hi = 0x9f;		/* surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90;		/* overlong */
	else if (s[0] == 0xf4)
		hi = 0x8f;		/* beyond U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

size_t utf8_cut(const char *s, size_t n, size_t max)
{
	size_t at = 0;

	while (at < n) {
		size_t len = utf8_seq(s + at, n - at);

		if (!len)
			len = 1;	/* an invalid byte is a character of its own */
		if (at + len > max)
			break;
		at += len;
	}
	return at;
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || sb_grow(b, n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, n + 1, fmt, ap);
	va_end(ap);
	b->len += n;
}
