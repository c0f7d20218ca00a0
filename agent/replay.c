// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * antfarm-agent --replay FILE: loads the BPF programs without attaching
 * them, configured as the recording host was, feeds every recorded
 * observation through the af_replay program (the same state machine the
 * tracepoint programs run), prints the events it infers as JSON lines on
 * stdout and compares them with the events recorded live (record.c).
 *
 * The comparison is of multisets of events without "seq" and "source":
 * the ring sequence numbers differ between runs, replayed observations carry
 * the replay source, and events of different vCPUs may be ordered
 * differently in a ring filled by several CPUs at once.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "obs.h"
#include "record.h"

#define POLL_EVERY 256

struct ev_list {
	char **v;
	size_t n, cap;
};

struct replay {
	struct af_collector *col;
	struct ev_list live, replayed;
	struct sbuf line;
	int oom;
	uint64_t lost;		/* observations the recording could not keep */
};

static int ev_add(struct ev_list *l, const char *s, size_t len)
{
	char *c;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if (!(c = strndup(s, len)))
		return -1;
	l->v[l->n++] = c;
	return 0;
}

static void ev_free(struct ev_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

/* An event line without the fields that may differ between runs. */
static int normalize(const char *line, size_t len, struct sbuf *out)
{
	struct json_obj o;
	char err[128];
	int r = -1;

	sb_reset(out);
	if (json_parse_object(line, len, &o, err, sizeof(err)))
		goto done;
	for (int i = 0; i < o.n; i++) {
		const struct json_val *v = &o.kv[i].val;

		if (!strcmp(o.kv[i].key, "seq") || !strcmp(o.kv[i].key, "source"))
			continue;
		sb_printf(out, "%s=", o.kv[i].key);
		if (v->type == JSON_STR)
			sb_puts(out, v->str);
		else if (v->type == JSON_NUM && v->is_uint)
			sb_u64(out, v->u);
		else if (v->type == JSON_BOOL)
			sb_puts(out, v->u ? "true" : "false");
		else
			sb_printf(out, "%g", v->num);
		sb_putc(out, ' ');
	}
	r = out->failed ? -1 : 0;
done:
	json_obj_free(&o);
	return r;
}

static int on_event(void *ctx, const struct af_event *ev)
{
	struct replay *rp = ctx;
	struct sbuf norm = { 0 };

	sb_reset(&rp->line);
	af_event_json(&rp->line, ev);
	if (rp->line.failed || normalize(rp->line.p, rp->line.len, &norm) ||
	    ev_add(&rp->replayed, norm.p, norm.len))
		rp->oom = 1;
	else
		fwrite(rp->line.p, 1, rp->line.len, stdout);
	sb_free(&norm);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints what only one side has (a few of each); returns the count. */
static size_t compare(struct ev_list *live, struct ev_list *rep)
{
	size_t i = 0, j = 0, only_live = 0, only_rep = 0;

	qsort(live->v, live->n, sizeof(char *), cmp_str);
	qsort(rep->v, rep->n, sizeof(char *), cmp_str);
	while (i < live->n || j < rep->n) {
		int c = i == live->n ? 1 : j == rep->n ? -1 : strcmp(live->v[i], rep->v[j]);

		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			if (only_live++ < 10)
				fprintf(stderr, "replay: only live:     %s\n", live->v[i]);
			i++;
		} else {
			if (only_rep++ < 10)
				fprintf(stderr, "replay: only replayed: %s\n", rep->v[j]);
			j++;
		}
	}
	if (only_live || only_rep)
		fprintf(stderr, "replay: %zu events only live, %zu only replayed\n",
			only_live, only_rep);
	return only_live + only_rep;
}

static enum af_host_kind host_kind(const char *name)
{
	for (int k = AF_HOST_UNKNOWN; k <= AF_HOST_SVM_SHADOW; k++)
		if (name && !strcmp(name, af_host_kind_name(k)))
			return k;
	return AF_HOST_UNKNOWN;
}

/* The header line: the settings the recording host ran with. */
static int parse_header(const char *line, struct af_collector_opts *o)
{
	static const char magic[] = "#antfarm-recording 1 ";
	struct json_obj h;
	char err[128];
	int r = -1;

	if (strncmp(line, magic, sizeof(magic) - 1)) {
		log_warnx("--replay: not a recording (no \"%s\" header)",
			"#antfarm-recording 1");
		return -1;
	}
	line += sizeof(magic) - 1;
	if (json_parse_object(line, strlen(line), &h, err, sizeof(err))) {
		log_warnx("--replay: bad header: %s", err);
		goto done;
	}
	if (json_get_u64(&h, "abi", 0) != AF_ABI_VERSION) {
		log_warnx("--replay: recorded with ABI version %llu, this agent has %d: "
			  "replay it with the agent that recorded it",
			  (unsigned long long)json_get_u64(&h, "abi", 0), AF_ABI_VERSION);
		goto done;
	}
	o->force_host = host_kind(json_get_str(&h, "host"));
	if (!o->force_host) {
		log_warnx("--replay: unknown host kind in the header");
		goto done;
	}
	o->idle_timeout_ns = json_get_u64(&h, "idle_ns", 0);
	o->exited_keep_ns = json_get_u64(&h, "keep_ns", 0);
	o->want_switch = json_get_u64(&h, "want_switch", 1) != 0;
	r = 0;
done:
	json_obj_free(&h);
	return r;
}

static int feed(struct replay *rp, const uint64_t *obs, uint64_t *n)
{
	int r = af_collector_replay(rp->col, obs);

	if (r < 0) {
		log_warnx("--replay: test run: %s", strerror(-r));
		return -1;
	}
	if (++*n % POLL_EVERY == 0)
		af_collector_poll(rp->col, on_event, rp);
	return 0;
}

/* One CPU for the whole replay: the BPF side's per-CPU CR3 cache must see
 * the observations in order (as af-inject does). */
static void pin_one_cpu(void)
{
	cpu_set_t set, one;
	int cpu = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return;
	while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set))
		cpu++;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

static int replay_lines(struct replay *rp, FILE *f, uint64_t *nobs, size_t *lineno)
{
	uint64_t cur[AF_REPLAY_NARGS], next[AF_REPLAY_NARGS];
	struct sbuf norm = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int have = 0, r = 0, pr;

	while (!r && (len = getline(&line, &cap, f)) > 0) {
		++*lineno;
		if (!strncmp(line, "#end ", 5)) {
			struct json_obj o;
			char e[64];

			if (!json_parse_object(line + 5, len - 5, &o, e, sizeof(e)))
				rp->lost = json_get_u64(&o, "record_lost", 0);
			json_obj_free(&o);
			continue;
		}
		if (!strncmp(line, "#event ", 7)) {
			if (normalize(line + 7, len - 7, &norm) || ev_add(&rp->live, norm.p, norm.len)) {
				log_warnx("--replay: line %zu: bad event", *lineno);
				r = -1;
			}
			continue;
		}
		if (line[0] == '#' || (pr = af_obs_parse(line, next)) == 1)
			continue;
		if (pr < 0 || next[0] < AF_OBS_CR3 || next[0] > AF_OBS_KIND_MAX) {
			log_warnx("--replay: line %zu: bad observation", *lineno);
			r = -1;
			break;
		}
		/* a digest belongs to the observation before it, which read it:
		 * it must be in place before that one runs */
		if (next[0] == AF_OBS_DIGEST) {
			r = feed(rp, next, nobs);
			continue;
		}
		if (have)
			r = feed(rp, cur, nobs);
		memcpy(cur, next, sizeof(cur));
		have = 1;
	}
	if (!r && have)
		r = feed(rp, cur, nobs);
	free(line);
	sb_free(&norm);
	return r;
}

int replay_main(const char *path, int verbose)
{
	struct af_collector_opts o = { .verbose = verbose, .no_attach = 1 };
	struct replay rp = { 0 };
	char err[512] = "", *line = NULL;
	uint64_t nobs = 0;
	size_t cap = 0, lineno = 1, diff;
	int ret = 2;
	FILE *f = fopen(path, "re");

	if (!f) {
		log_warnx("--replay %s: %s", path, strerror(errno));
		return 2;
	}
	if (getline(&line, &cap, f) <= 0 || parse_header(line, &o))
		goto out;
	if (af_collector_open(&rp.col, &o, err, sizeof(err)) < 0) {
		log_warnx("%s", err);
		goto out;
	}
	pin_one_cpu();
	if (replay_lines(&rp, f, &nobs, &lineno))
		goto out;
	while (af_collector_poll(rp.col, on_event, &rp) > 0)
		;
	if (rp.oom) {
		log_warnx("--replay: out of memory");
		goto out;
	}
	fflush(stdout);
	if (!rp.live.n) {
		/* a converted trace: observations only */
		fprintf(stderr, "replay: %llu observations, %zu events replayed; the recording "
			"has no events to compare with\n", (unsigned long long)nobs, rp.replayed.n);
		ret = 0;
		goto out;
	}
	diff = compare(&rp.live, &rp.replayed);
	fprintf(stderr, "replay: %llu observations, %zu events replayed, %zu recorded live: %s\n",
		(unsigned long long)nobs, rp.replayed.n, rp.live.n,
		diff ? "DIFFERENT" : "identical");
	if (rp.lost)
		fprintf(stderr, "replay: the recording lost %llu observations (its ring was full: "
			"--ringbuf-mib): differences are to be expected\n",
			(unsigned long long)rp.lost);
	ret = diff ? 1 : 0;
out:
	free(line);
	fclose(f);
	af_collector_close(rp.col);
	ev_free(&rp.live);
	ev_free(&rp.replayed);
	sb_free(&rp.line);
	return ret;
}
