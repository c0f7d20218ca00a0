/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * libFuzzer target for the /metrics server's request parser
 * (http_parse_request, lib/httpd.c), with an oracle: whatever it accepts
 * must be a request we mean to serve, and the answer must not depend on
 * bytes after the head or on how the head was cut into reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../lib/httpd.h"

#define CHECK(c) do { if (!(c)) __builtin_trap(); } while (0)

static int is_status(int rc)
{
	return rc == -400 || rc == -405 || rc == -414 || rc == -431 || rc == -505;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request r, r2;
	const char *s = (const char *)data;
	int rc = http_parse_request(s, size, &r);

	CHECK(rc == 0 || is_status(rc) || (rc > 0 && (size_t)rc <= size));
	if (rc <= 0) {
		/* a refusal stays a refusal with more bytes (the prefix decides) */
		if (rc < 0 && size < HTTPD_MAX_HEAD) {
			char *more = malloc(size + 4);
			memcpy(more, s, size);
			memcpy(more + size, "\r\n\r\n", 4);
			CHECK(http_parse_request(more, size + 4, &r2) < 0);
			free(more);
		}
		return 0;
	}
	/* accepted: GET or HEAD of an origin-form path, visible ASCII only,
	 * HTTP/1.x, a head that ends with its empty line */
	CHECK(r.method == HTTP_GET || r.method == HTTP_HEAD);
	CHECK(r.path[0] == '/' && strlen(r.path) <= HTTPD_MAX_TARGET);
	for (const char *p = r.path; *p; p++)
		CHECK(*p > 0x20 && *p < 0x7f && *p != '?');
	CHECK(r.minor >= 0 && r.minor <= 9);
	CHECK(s[rc - 1] == '\n');
	CHECK(r.fields <= HTTPD_MAX_FIELDS);
	CHECK(memchr(s, 0, rc) == NULL);
	/* the head alone gives the same answer; one byte less is incomplete */
	CHECK(http_parse_request(s, rc, &r2) == rc && !strcmp(r.path, r2.path) &&
	      r.method == r2.method);
	CHECK(http_parse_request(s, rc - 1, &r2) == 0);
	return 0;
}
