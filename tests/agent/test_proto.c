/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Unit tests of the agent's protocol pieces, without BPF: the JSON reader
 * and writer, request parsing, event encoding and the bounded subscriber
 * queue (over a real socketpair).  One line per failed case.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "lib/json.h"
#include "tests/lib/check.h"
#include "agent/outq.h"
#include "agent/proto.h"


static int parse(const char *s, struct json_obj *o, char *err)
{
	return json_parse_object(s, strlen(s), o, err, 128);
}

static void test_json_good(void)
{
	struct json_obj o;
	char err[128];
	const struct json_val *v;

	CHECK(parse(" {\"a\" : 1, \"b\":\"x\\\"y\\u00e9\\ud83d\\ude00\", \"c\":[true,false,null,-1.5e3]} ",
		    &o, err) == 0, "valid object rejected: %s", err);
	CHECK(json_get_u64(&o, "a", 0) == 1, "a != 1");
	CHECK(json_get_str(&o, "b") && !strcmp(json_get_str(&o, "b"), "x\"y\xc3\xa9\xf0\x9f\x98\x80"),
	      "string escapes decoded wrong: %s", json_get_str(&o, "b"));
	v = json_get(&o, "c");
	CHECK(v && v->type == JSON_ARR && v->nitems == 4 && v->items[3].num == -1500.0 &&
	      !v->items[3].is_uint && v->items[0].u == 1, "array decoded wrong");
	json_obj_free(&o);
	CHECK(parse("{}", &o, err) == 0 && o.n == 0, "{} rejected");
	json_obj_free(&o);
	CHECK(parse("{\"vm\":18446744073709551615}", &o, err) == 0 &&
	      json_get_u64(&o, "vm", 0) == UINT64_MAX, "u64 max wrong");
	json_obj_free(&o);
	CHECK(parse("{\"vm\":18446744073709551616}", &o, err) == 0 &&
	      json_get_u64(&o, "vm", 7) == 7, "u64 overflow taken as integer");
	json_obj_free(&o);
}

static void test_json_bad(void)
{
	static const char *const bad[] = {
		"", "   ", "hello", "[]", "\"str\"", "{", "}", "{\"a\"}", "{\"a\":}",
		"{\"a\":1,}", "{,}", "{\"a\":1}x", "{\"a\":1}{}", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":.5}", "{\"a\":1e}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":tru}",
		"{\"a\":nul}", "{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}", "{\"a\":\"\\u0000\"}",
		"{\"a\":\"tab\there\"}", "{\"a\":{}}", "{\"a\":[[1]]}", "{\"a\":[1,]}",
		"{\"a\":1,\"a\":2}", "{a:1}", "{'a':1}", "{\"a\" 1}", "{\"a\":[1 2]}",
		"{\"a\":NaN}", "{\"a\":Infinity}",
	};
	struct json_obj o;
	char err[128];

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		CHECK(parse(bad[i], &o, err) == -1 && err[0], "accepted bad JSON: %s", bad[i]);
		json_obj_free(&o);
	}
	/* embedded NUL byte */
	CHECK(json_parse_object("{\"a\":\"x\0y\"}", 11, &o, err, sizeof(err)) == -1,
	      "accepted NUL byte in string");
	json_obj_free(&o);
}

/* Every prefix of a valid request is invalid and must not crash. */
static void test_json_prefixes(void)
{
	const char *s = "{\"events\":[\"create\",\"switch\"],\"vm\":1234,\"x\":\"\\u00e9\"}";
	struct json_obj o;
	char err[128];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		char *p = malloc(i ? i : 1);	/* exact size: ASan/valgrind catch overreads */
		memcpy(p, s, i);
		CHECK(json_parse_object(p, i, &o, err, sizeof(err)) == -1, "prefix %zu accepted", i);
		json_obj_free(&o);
		free(p);
	}
}

/* Random bytes and random mutations of a request never crash the parser. */
static void test_json_random(void)
{
	const char *seed = "{\"events\":[\"create\",\"exit\"],\"vm\":42,\"cmd\":\"ps\"}";
	struct json_obj o;
	char err[128], buf[128];
	unsigned r = 12345;
	int accepted = 0;

	for (int i = 0; i < 20000; i++) {
		size_t n = strlen(seed);
		memcpy(buf, seed, n);
		for (int k = 0; k < 1 + i % 4; k++) {
			r = r * 1103515245 + 12345;
			buf[(r >> 8) % n] = (char)(r >> 16);
		}
		if (json_parse_object(buf, n, &o, err, sizeof(err)) == 0)
			accepted++;
		json_obj_free(&o);
	}
	CHECK(accepted < 20000, "every mutation accepted");
}

static int req(const char *s, struct af_request *r, char *err)
{
	err[0] = 0;
	return af_request_parse(s, strlen(s), r, err, 160);
}

static void test_requests(void)
{
	struct af_request r;
	char err[160];

	CHECK(req("{}", &r, err) == 0 && r.cmd == AF_CMD_SUBSCRIBE &&
	      r.events == AF_EVMASK_DEFAULT && r.vm == 0, "{} is not the default subscription");
	CHECK(req("{\"events\":[\"switch\"],\"vm\":77}", &r, err) == 0 &&
	      r.events == AF_EVMASK(AF_EV_SWITCH) && r.vm == 77, "switch subscription: %s", err);
	CHECK(req("{\"events\":[\"create\",\"exit\",\"switch\",\"vm-exit\",\"notify\",\"vm-new\"]}",
		  &r, err) == 0 && r.events == 0x7e, "all events: %s", err);
	CHECK(req("{\"cmd\":\"ps\",\"vm\":5}", &r, err) == 0 && r.cmd == AF_CMD_PS && r.vm == 5,
	      "ps vm: %s", err);
	CHECK(req("{\"cmd\":\"vms\"}", &r, err) == 0 && r.cmd == AF_CMD_VMS, "vms");
	CHECK(req("{\"cmd\":\"stats\"}", &r, err) == 0 && r.cmd == AF_CMD_STATS, "stats");
	CHECK(req("{\"cmd\":\"metrics\"}", &r, err) == 0 && r.cmd == AF_CMD_METRICS, "metrics");

	CHECK(req("{\"cmd\":\"reboot\"}", &r, err) && strstr(err, "unknown command"),
	      "unknown command: %s", err);
	CHECK(req("{\"cmd\":7}", &r, err) && strstr(err, "unknown command"), "cmd number: %s", err);
	CHECK(req("{\"events\":[\"fork\"]}", &r, err) && strstr(err, "unknown event name \"fork\""),
	      "unknown event: %s", err);
	CHECK(req("{\"events\":[1]}", &r, err) && strstr(err, "unknown event"), "event number");
	CHECK(req("{\"events\":\"create\"}", &r, err) && strstr(err, "array"), "events string");
	CHECK(req("{\"events\":[]}", &r, err) && strstr(err, "empty"), "empty events");
	CHECK(req("{\"vm\":0}", &r, err) && strstr(err, "\"vm\""), "vm 0: %s", err);
	CHECK(req("{\"vm\":-3}", &r, err) && strstr(err, "\"vm\""), "vm negative");
	CHECK(req("{\"vm\":1.5}", &r, err) && strstr(err, "\"vm\""), "vm fraction");
	CHECK(req("{\"vm\":4294967296}", &r, err) && strstr(err, "\"vm\""), "vm > u32");
	CHECK(req("{\"vm\":\"12\"}", &r, err) && strstr(err, "\"vm\""), "vm string");
	CHECK(req("{\"cmd\":\"stats\",\"vm\":3}", &r, err) && strstr(err, "not valid"),
	      "vm with stats: %s", err);
	CHECK(req("{\"cmd\":\"ps\",\"events\":[\"exit\"]}", &r, err) &&
	      strstr(err, "only for subscriptions"), "events with cmd: %s", err);
	CHECK(req("{\"colour\":\"red\"}", &r, err) && strstr(err, "unknown key"), "unknown key");

	/* notify address filters: numbers or strings, notify subscriptions only */
	CHECK(req("{\"events\":[\"notify\",\"exit\"],\"addr\":[128,\"0xfeb00e50\",\"234\"]}",
		  &r, err) == 0 && r.naddr == 3 && r.addr[0] == 0x80 && r.addr[1] == 0xfeb00e50 &&
	      r.addr[2] == 234, "addr list: %s", err);
	CHECK(af_request_wants_addr(&r, 0x80) && !af_request_wants_addr(&r, 0xe9),
	      "addr filter matches only its addresses");
	CHECK(req("{\"events\":[\"notify\"]}", &r, err) == 0 && r.naddr == 0 &&
	      af_request_wants_addr(&r, 0xe9), "no addr: every address");
	CHECK(req("{\"events\":[\"notify\"],\"addr\":[]}", &r, err) && strstr(err, "\"addr\""),
	      "empty addr: %s", err);
	CHECK(req("{\"events\":[\"notify\"],\"addr\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]}",
		  &r, err) && strstr(err, "1 to 16"), "17 addresses: %s", err);
	CHECK(req("{\"events\":[\"notify\"],\"addr\":[-1]}", &r, err) &&
	      strstr(err, "bad address"), "negative address: %s", err);
	CHECK(req("{\"events\":[\"notify\"],\"addr\":[\"0xzz\"]}", &r, err) &&
	      strstr(err, "bad address \"0xzz\""), "bad hex address: %s", err);
	CHECK(req("{\"events\":[\"notify\"],\"addr\":\"0x80\"}", &r, err) &&
	      strstr(err, "list"), "addr not a list: %s", err);
	CHECK(req("{\"events\":[\"exit\"],\"addr\":[128]}", &r, err) &&
	      strstr(err, "does not ask for"), "addr without notify: %s", err);
	CHECK(req("{\"addr\":[128]}", &r, err) && strstr(err, "does not ask for"),
	      "addr with the default events: %s", err);
	CHECK(req("{\"cmd\":\"ps\",\"addr\":[128]}", &r, err) &&
	      strstr(err, "only for subscriptions"), "addr with cmd: %s", err);
	CHECK(req("GET / HTTP/1.0", &r, err) && strstr(err, "not a JSON object"), "http: %s", err);
	CHECK(req("", &r, err) && strstr(err, "not a JSON object"), "empty line");

	char *big = malloc(AF_REQ_MAX_LINE + 2);
	memset(big, ' ', AF_REQ_MAX_LINE + 1);
	big[0] = '{';
	big[AF_REQ_MAX_LINE] = '}';
	CHECK(af_request_parse(big, AF_REQ_MAX_LINE + 1, &r, err, sizeof(err)) &&
	      strstr(err, "longer than"), "over-long line: %s", err);
	CHECK(af_request_parse(big, AF_REQ_MAX_LINE - 1, &r, err, sizeof(err)) &&
	      strstr(err, "not a JSON"), "unterminated long line");
	big[AF_REQ_MAX_LINE - 1] = '}';
	CHECK(af_request_parse(big, AF_REQ_MAX_LINE, &r, err, sizeof(err)) == 0,
	      "64 KiB request (exactly the limit) refused: %s", err);
	free(big);
}

static void expect_json(const struct af_event *ev, const char *want)
{
	struct sbuf b = { 0 };

	af_event_json(&b, ev);
	sb_putc(&b, 0);
	CHECK(!b.failed && !strcmp(b.p, want), "event JSON\n  got  %s  want %s", b.p, want);
	/* every line we emit must be readable by our own strict reader */
	struct json_obj o;
	char err[128];
	CHECK(json_parse_object(b.p, strlen(b.p), &o, err, sizeof(err)) == 0,
	      "own output not parseable: %s", err);
	json_obj_free(&o);
	sb_free(&b);
}

static void test_event_json(void)
{
	struct af_event ev = {
		.ts_ns = 123456789, .vm_key = 0xffff8880deadb000ull, .as = 0x1234000,
		.from_as = 0xabc000, .run_ns = 5000, .vm_pid = 4242, .vcpu = 1, .gen = 2,
		.from_gen = 1, .type = AF_EV_CREATE, .source = AF_SRC_REPLAY, .seq = 9,
	};

	expect_json(&ev, "{\"event\":\"create\",\"ts_ns\":123456789,\"vm\":4242,"
		    "\"vm_key\":\"0xffff8880deadb000\",\"vcpu\":1,\"as\":\"0x1234000\",\"gen\":2,"
		    "\"source\":\"replay\",\"seq\":9}\n");
	ev.type = AF_EV_EXIT;
	ev.reason = AF_EXIT_ZAP;
	ev.vcpu = AF_VCPU_NONE;
	expect_json(&ev, "{\"event\":\"exit\",\"ts_ns\":123456789,\"vm\":4242,"
		    "\"vm_key\":\"0xffff8880deadb000\",\"as\":\"0x1234000\",\"gen\":2,"
		    "\"reason\":\"zap\",\"run_ns\":5000,\"source\":\"replay\",\"seq\":9}\n");
	ev.type = AF_EV_SWITCH;
	ev.vcpu = 0;
	ev.flags = AF_EVF_KPTI;
	expect_json(&ev, "{\"event\":\"switch\",\"ts_ns\":123456789,\"vm\":4242,"
		    "\"vm_key\":\"0xffff8880deadb000\",\"vcpu\":0,\"as\":\"0x1234000\",\"gen\":2,"
		    "\"from\":\"0xabc000\",\"from_gen\":1,\"to\":\"0x1234000\",\"to_gen\":2,"
		    "\"kpti\":true,\"source\":\"replay\",\"seq\":9}\n");
	ev.flags = 0;
	ev.type = AF_EV_VM_EXIT;
	ev.vcpu = AF_VCPU_NONE;
	expect_json(&ev, "{\"event\":\"vm-exit\",\"ts_ns\":123456789,\"vm\":4242,"
		    "\"vm_key\":\"0xffff8880deadb000\",\"source\":\"replay\",\"seq\":9}\n");
	ev.type = AF_EV_NOTIFY;
	ev.addr = 0xfe003000;
	ev.value = 0;
	expect_json(&ev, "{\"event\":\"notify\",\"ts_ns\":123456789,\"vm\":4242,"
		    "\"vm_key\":\"0xffff8880deadb000\",\"as\":\"0x1234000\",\"gen\":2,"
		    "\"addr\":\"0xfe003000\",\"value\":0,\"source\":\"replay\",\"seq\":9}\n");
	ev.type = 99;
	ev.source = 77;
	expect_json(&ev, "{\"event\":\"type-99\",\"ts_ns\":123456789,\"vm\":4242,"
		    "\"vm_key\":\"0xffff8880deadb000\",\"as\":\"0x1234000\",\"gen\":2,"
		    "\"source\":\"unknown\",\"seq\":9}\n");

	struct sbuf b = { 0 };
	af_error_json(&b, "bad \"x\"\n\\");
	sb_putc(&b, 0);
	CHECK(!strcmp(b.p, "{\"error\":\"bad \\\"x\\\"\\u000a\\\\\"}\n"), "error JSON: %s", b.p);
	sb_free(&b);
	sb_u64(&b, 0);
	sb_putc(&b, ' ');
	sb_u64(&b, UINT64_MAX);
	sb_putc(&b, ' ');
	sb_hex(&b, 0);
	sb_putc(&b, 0);
	CHECK(!strcmp(b.p, "0 18446744073709551615 \"0x0\""), "numbers: %s", b.p);
	sb_free(&b);
}

static size_t drain(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	while (n < size && (r = recv(fd, buf + n, size - n, MSG_DONTWAIT)) > 0)
		n += r;
	buf[n] = 0;
	return n;
}

static void test_outq(void)
{
	static char got[4096];
	const char line[] = "{\"event\":\"create\"}\n";	/* 19 bytes */
	struct outq q;
	int sv[2], dropped = 0, sndbuf = 4096;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv)) {
		CHECK(0, "socketpair: %s", strerror(errno));
		return;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	outq_init(&q, 10 * 19, NULL);
	for (int i = 0; i < 15; i++)
		dropped += outq_push_event(&q, line, 19) != 0;
	CHECK(dropped == 5 && outq_len(&q) == 190 && q.lost == 5 && q.lost_total == 5,
	      "limit: dropped %d len %zu lost %llu", dropped, outq_len(&q),
	      (unsigned long long)q.lost);
	/* commands bypass the limit */
	CHECK(outq_push(&q, "{\"end\":\"x\"}\n", 12) == 0 && outq_len(&q) == 202, "reply push");
	CHECK(outq_flush(&q, sv[0]) == 0 && outq_len(&q) == 0, "flush did not drain");
	drain(sv[1], got, sizeof(got) - 1);
	CHECK(strstr(got, "{\"end\":\"x\"}\n{\"event\":\"lost\",\"count\":5}\n") &&
	      strlen(got) == 202 + strlen("{\"event\":\"lost\",\"count\":5}\n"),
	      "lost line missing after catch-up: %s", got);
	CHECK(q.lost == 0 && q.lost_total == 5, "lost not reset");

	/* a reader that stops: the socket fills, the queue caps, nothing blocks */
	outq_free(&q);
	outq_init(&q, 64 * 1024, NULL);
	unsigned pushed = 0, drops = 0;
	for (int i = 0; i < 100000; i++) {
		if (outq_push_event(&q, line, 19))
			drops++;
		else
			pushed++;
		if (i % 100 == 0)
			CHECK(outq_flush(&q, sv[0]) == 0, "flush error");
	}
	CHECK(drops > 0 && outq_len(&q) <= 64 * 1024, "no drops or queue over limit (%zu)",
	      outq_len(&q));
	/* the reader comes back: it gets every queued event and lost lines
	 * that add up to exactly what was dropped */
	size_t total = 0, cap = 8 << 20;
	char *all = malloc(cap);
	unsigned creates = 0;
	unsigned long long lost_sum = 0;
	for (int rounds = 0; rounds < 100000 && (outq_len(&q) || q.lost); rounds++) {
		outq_flush(&q, sv[0]);
		total += drain(sv[1], all + total, cap - 1 - total);
	}
	total += drain(sv[1], all + total, cap - 1 - total);
	for (char *p = all; (p = strstr(p, "\"lost\",\"count\":")); p++)
		lost_sum += strtoull(p + 15, NULL, 10);
	for (char *p = all; (p = strstr(p, line)); p++)
		creates++;
	CHECK(lost_sum == drops, "lost lines sum %llu, dropped %u", lost_sum, drops);
	CHECK(creates == pushed, "delivered %u of %u queued events", creates, pushed);
	free(all);
	outq_free(&q);

	/* a closed peer is an error, not a hang */
	outq_init(&q, 1024, NULL);
	outq_push_event(&q, line, 19);
	close(sv[1]);
	CHECK(outq_flush(&q, sv[0]) == -EPIPE, "write to closed peer not EPIPE");
	outq_free(&q);
	close(sv[0]);
}

/* RFC 3629, byte by byte: what utf8_seq accepts is exactly UTF-8. */
static int is_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t len = utf8_seq(s + i, n - i);

		if (!len)
			return 0;
		i += len;
	}
	return 1;
}

static void test_utf8(void)
{
	static const struct { const char *s; size_t len; } bad[] = {
		{ "\x80", 1 }, { "\xbf", 1 }, { "\xc0\x80", 2 }, { "\xc1\xbf", 2 },	/* overlong */
		{ "\xe0\x80\x80", 3 }, { "\xf0\x80\x80\x80", 4 },
		{ "\xed\xa0\x80", 3 }, { "\xed\xbf\xbf", 3 },			/* surrogates */
		{ "\xf4\x90\x80\x80", 4 }, { "\xf5\x80\x80\x80", 4 }, { "\xff", 1 },	/* > U+10FFFF */
		{ "\xc3", 1 }, { "\xe2\x82", 2 }, { "\xf0\x9f\x98", 3 },		/* cut */
		{ "\xc3\x28", 2 },
	};
	static const char *const good[] = {
		"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",
		"\xed\x9f\xbf", "\xee\x80\x80",
	};
	struct sbuf b = { 0 };
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(utf8_seq(bad[i].s, bad[i].len) == 0, "accepted bad sequence %zu", i);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(utf8_seq(good[i], strlen(good[i])) == strlen(good[i]), "refused %zu", i);
	/* the writer: invalid bytes become U+FFFD, the output is UTF-8 */
	sb_str(&b, "\xff\xfe ok \xc3\xa9 \xed\xa0\x80 \x01 \"\\");
	CHECK(!b.failed && b.len && is_utf8(b.p, b.len), "writer output not UTF-8");
	CHECK(b.len == strlen("\"\\ufffd\\ufffd ok \xc3\xa9 \\ufffd\\ufffd\\ufffd \\u0001 \\\"\\\\\"") &&
	      !memcmp(b.p, "\"\\ufffd\\ufffd ok \xc3\xa9 \\ufffd\\ufffd\\ufffd \\u0001 \\\"\\\\\"", b.len),
	      "writer output: %.*s", (int)b.len, b.p);
	sb_free(&b);
	/* cuts fall on character boundaries */
	CHECK(utf8_cut("aaa\xc3\xa9", 5, 4) == 3, "cut inside a 2-byte character");
	CHECK(utf8_cut("aaa\xc3\xa9", 5, 5) == 5, "whole string");
	CHECK(utf8_cut("\xf0\x9f\x98\x80x", 5, 3) == 0, "cut inside a 4-byte character");
	CHECK(utf8_cut("\xff" "ab", 3, 2) == 2, "an invalid byte is a character of its own");
	/* the reader refuses what is not UTF-8 */
	{
		struct json_obj o;

		CHECK(json_parse_object("{\"cmd\":\"\xff\xfe\"}", 12, &o, err, sizeof(err)) == -1 &&
		      strstr(err, "UTF-8"), "raw 0xff 0xfe accepted: %s", err);
		json_obj_free(&o);
		CHECK(json_parse_object("{\"a\":\"\xc3\xa9\"}", 10, &o, err, sizeof(err)) == 0,
		      "valid UTF-8 refused: %s", err);
		json_obj_free(&o);
	}
}

/* Error replies: valid JSON and UTF-8 for any input, names cut whole. */
static void test_error_replies(void)
{
	struct af_request r;
	struct sbuf b = { 0 };
	char err[160], line[200];

	snprintf(line, sizeof(line), "{\"cmd\":\"%s\xc3\xa9\"}", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	CHECK(af_request_parse(line, strlen(line), &r, err, sizeof(err)) == -1, "bad cmd accepted");
	CHECK(is_utf8(err, strlen(err)) && strstr(err, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""),
	      "a 40-byte cut split a character: %s", err);
	af_error_json(&b, "bad \xff\xfe name");
	CHECK(!b.failed && is_utf8(b.p, b.len) && !memchr(b.p, 0xff, b.len), "error line: %.*s",
	      (int)b.len, b.p);
	sb_free(&b);
}

/* The pool bounds what all queues hold together; replies still get in. */
static void test_outq_pool(void)
{
	struct outq_pool pool = { .limit = 8192 };
	struct outq a, b;
	char ev[100];
	int taken = 0;

	memset(ev, 'e', sizeof(ev) - 1);
	ev[sizeof(ev) - 1] = '\n';
	outq_init(&a, 1 << 20, &pool);
	outq_init(&b, 1 << 20, &pool);
	for (int i = 0; i < 200; i++)
		taken += outq_push_event(&a, ev, sizeof(ev)) == 0;
	CHECK(taken == 81 && pool.used == 8192, "one queue took %d events, pool %zu", taken,
	      pool.used);
	CHECK(outq_push_event(&b, ev, sizeof(ev)) == -1 && b.lost == 1,
	      "an event taken past the pool's limit");
	CHECK(outq_push(&b, ev, sizeof(ev)) == 0 && pool.used == 12288,
	      "a reply refused by the pool (used %zu)", pool.used);
	outq_free(&a);
	CHECK(pool.used == 4096, "pool after a queue went: %zu", pool.used);
	CHECK(outq_push_event(&b, ev, sizeof(ev)) == 0 && b.lost == 0,
	      "no room again after the pool was freed");
	outq_free(&b);
	CHECK(pool.used == 0, "pool leaks %zu bytes", pool.used);
}

int main(void)
{
	test_utf8();
	test_outq_pool();
	test_error_replies();
	test_json_good();
	test_json_bad();
	test_json_prefixes();
	test_json_random();
	test_requests();
	test_event_json();
	test_outq();
	return check_summary("protocol and queue");
}
