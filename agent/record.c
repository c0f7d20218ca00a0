// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * antfarm-agent --record FILE: every observation the BPF programs make
 * (and each idle tick), in the text form of agent/obs.h, and every event
 * the agent inferred from them ("#event" lines, as subscribers get them),
 * after a header naming the host and the settings.  antfarm-agent --replay
 * feeds the observations back through the same state machine, on any host,
 * and compares the events: a recording is a bug report, a regression test
 * and a way to test on hosts without KVM against real kernel behaviour.
 *
 *   #antfarm-recording 1 {"host":"kvm_pvm","kernel":"6.18.4",...}
 *   vcpu:0xffff888102cd0000:3816:0:0:0:0:4422482269590
 *   cr3:0xffff888102cd0000:3816:0:0x100000:0x1:0:4422482407900
 *   #event {"event":"create",...}
 *   #end {"observations":N,"events":N,"record_lost":N}
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/utsname.h>
#include "agent.h"
#include "obs.h"
#include "record.h"

struct af_recorder {
	struct af_watch w;		/* the observation ring */
	FILE *f;
	char *path;
	uint64_t obs, events;
	int failed;
	struct sbuf line;
};

static void rec_failed(struct af_recorder *r)
{
	if (!r->failed)
		log_warnx("--record %s: write failed (%s); recording stopped", r->path,
			  strerror(errno));
	r->failed = 1;
}

static void on_obs(void *ctx, const uint64_t obs[AF_REPLAY_NARGS])
{
	struct af_recorder *r = ctx;
	char buf[256];

	if (r->failed)
		return;
	af_obs_format(buf, sizeof(buf), obs);
	if (fprintf(r->f, "%s\n", buf) < 0)
		rec_failed(r);
	r->obs++;
}

static void header(struct af_agent *a, struct af_recorder *r)
{
	struct af_collector_config cfg;
	struct utsname u;
	struct sbuf *b = &r->line;

	af_collector_config(a->col, &cfg);
	if (uname(&u))
		strcpy(u.release, "unknown");
	sb_reset(b);
	sb_puts(b, "#antfarm-recording 1 {\"host\":");
	sb_str(b, af_host_kind_name(cfg.host));
	sb_puts(b, ",\"kernel\":");
	sb_str(b, u.release);
	sb_puts(b, ",\"agent\":");
	sb_str(b, ANTFARM_VERSION);
	sb_printf(b, ",\"abi\":%d,\"idle_ns\":%llu,\"keep_ns\":%llu,\"want_switch\":%d,"
		  "\"start_ns\":%llu}\n", AF_ABI_VERSION, (unsigned long long)cfg.idle_ns,
		  (unsigned long long)cfg.keep_ns, cfg.want_switch,
		  (unsigned long long)af_now_ns());
	if (!b->failed && fwrite(b->p, 1, b->len, r->f) != b->len)
		rec_failed(r);
}

static void obs_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	af_collector_record_poll(a->col);
}

int record_open(struct af_agent *a, const char *path, char *err, size_t errlen)
{
	struct af_recorder *r = calloc(1, sizeof(*r));

	if (!r || !(r->path = strdup(path))) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r->f = fopen(path, "we");
	if (!r->f) {
		snprintf(err, errlen, "--record %s: %s", path, strerror(errno));
		free(r->path);
		free(r);
		return -1;
	}
	setvbuf(r->f, NULL, _IOFBF, 1 << 20);
	a->rec = r;
	/* the recorder wants every event, switches included */
	if (!a->no_switch && a->switch_subscribers++ == 0)
		af_collector_set_want_switch(a->col, 1);
	/* and every device write, not only the doorbells hints need */
	a->notify_subscribers++;
	a->notify_all++;
	server_notify_sync(a, NULL);
	header(a, r);
	r->w.fn = obs_ready;
	if (af_collector_record(a->col, on_obs, r) ||
	    (r->w.fd = af_collector_record_fd(a->col)) < 0 || af_watch_add(a, &r->w, EPOLLIN)) {
		snprintf(err, errlen, "--record: cannot read the BPF record ring");
		return -1;
	}
	log_info("recording observations and events to %s", path);
	return 0;
}

void record_event(struct af_agent *a, const struct af_event *ev)
{
	struct af_recorder *r = a->rec;

	if (!r || r->failed)
		return;
	sb_reset(&r->line);
	sb_puts(&r->line, "#event ");
	af_event_json(&r->line, ev);
	if (r->line.failed || fwrite(r->line.p, 1, r->line.len, r->f) != r->line.len)
		rec_failed(r);
	r->events++;
}

void record_flush(struct af_agent *a)
{
	if (a->rec && !a->rec->failed && fflush(a->rec->f))
		rec_failed(a->rec);
}

void record_close(struct af_agent *a)
{
	struct af_recorder *r = a->rec;

	if (!r)
		return;
	af_collector_record_poll(a->col);	/* the last observations */
	if (!r->failed)
		fprintf(r->f, "#end {\"observations\":%llu,\"events\":%llu,\"record_lost\":%llu}\n",
			(unsigned long long)r->obs, (unsigned long long)r->events,
			(unsigned long long)af_collector_stat(a->col, AF_STAT_RECORD_LOST));
	if (fclose(r->f) && !r->failed)
		log_warnx("--record %s: %s", r->path, strerror(errno));
	else
		log_info("recorded %llu observations and %llu events to %s",
			 (unsigned long long)r->obs, (unsigned long long)r->events, r->path);
	sb_free(&r->line);
	free(r->path);
	free(r);
	a->rec = NULL;
}
