/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Replies to the one-shot commands.  Every reply is complete before it is
 * queued, and ends with a marker line so that a client can tell a whole
 * answer from a cut one: {"end":"ps","count":N} for ps and vms,
 * {"end":"stats"} for stats, "# EOF" for metrics (as in OpenMetrics).
 */
#include <stdlib.h>
#include <string.h>
#include "agent.h"
#include "../lib/httpd.h"

struct ps_ctx {
	struct af_agent *a;
	struct sbuf *out;
	uint32_t vm;
	unsigned count;
};

static void kv_u64(struct sbuf *b, const char *k, uint64_t v)
{
	sb_printf(b, ",\"%s\":", k);
	sb_u64(b, v);
}

/* ,"key":"name" when the VM has a name */
static void vm_name_field(struct sbuf *b, struct af_agent *a, const char *key, uint32_t pid)
{
	const char *name = vmname(a->names, pid);

	if (name[0]) {
		sb_printf(b, ",\"%s\":", key);
		sb_str(b, name);
	}
}

static int ps_one(void *ctx, const struct af_proc_info *p)
{
	struct ps_ctx *x = ctx;
	struct sbuf *b = x->out;

	if (x->vm && p->vm_pid != x->vm)
		return 0;
	sb_puts(b, "{\"vm\":");
	sb_u64(b, p->vm_pid);
	vm_name_field(b, x->a, "vm_name", p->vm_pid);
	sb_puts(b, ",\"vm_key\":");
	sb_hex(b, p->vm_key);
	sb_puts(b, ",\"as\":");
	sb_hex(b, p->as);
	kv_u64(b, "gen", p->gen);
	sb_printf(b, ",\"state\":\"%s\"", p->live ? "live" : "exited");
	if (!p->live)
		sb_printf(b, ",\"reason\":\"%s\"", af_reason_name(p->exit_reason));
	kv_u64(b, "first_ns", p->first_ns);
	kv_u64(b, "last_ns", p->last_ns);
	kv_u64(b, "run_ns", p->run_ns);
	kv_u64(b, "cpu_ns", p->cpu_ns);		/* run_ns + the interval under way */
	if (p->running)
		kv_u64(b, "running", p->running);
	kv_u64(b, "switches", p->switches);
	if (p->last_vcpu != AF_VCPU_NONE)
		kv_u64(b, "last_vcpu", p->last_vcpu);
	if (p->flags & AF_EVF_KPTI)
		sb_puts(b, ",\"kpti\":true");
	sb_puts(b, "}\n");
	x->count++;
	return 0;
}

static int vm_one(void *ctx, const struct af_vm_info *v)
{
	struct ps_ctx *x = ctx;
	struct sbuf *b = x->out;

	sb_puts(b, "{\"vm\":");
	sb_u64(b, v->vm_pid);
	vm_name_field(b, x->a, "name", v->vm_pid);
	sb_puts(b, ",\"vm_key\":");
	sb_hex(b, v->vm_key);
	kv_u64(b, "vcpus", v->nvcpus);
	kv_u64(b, "live", v->live_procs);
	sb_printf(b, ",\"fidelity\":\"%s\"", af_fidelity_name(v->fidelity));
	kv_u64(b, "first_ns", v->first_ns);
	kv_u64(b, "last_ns", v->last_ns);
	sb_puts(b, "}\n");
	x->count++;
	return 0;
}

static void reply_ps(struct af_agent *a, const struct af_request *req, struct sbuf *out)
{
	struct ps_ctx x = { .a = a, .out = out, .vm = req->vm };

	af_collector_foreach_proc(a->col, ps_one, &x);
	sb_printf(out, "{\"end\":\"ps\",\"count\":%u}\n", x.count);
}

static void reply_vms(struct af_agent *a, struct sbuf *out)
{
	struct ps_ctx x = { .a = a, .out = out };
	enum af_host_kind k = af_collector_host(a->col);

	af_collector_foreach_vm(a->col, vm_one, &x);
	sb_printf(out, "{\"end\":\"vms\",\"count\":%u,\"host\":", x.count);
	sb_str(out, af_host_kind_name(k));
	sb_puts(out, ",\"note\":");
	sb_str(out, af_collector_fidelity_note(a->col) ?: "");
	sb_puts(out, "}\n");
}

static int count_vm(void *ctx, const struct af_vm_info *v)
{
	uint64_t *n = ctx;

	n[0]++;
	n[1] += v->live_procs;
	return 0;
}

static void reply_stats(struct af_agent *a, struct sbuf *out)
{
	uint64_t vms[2] = { 0, 0 };

	af_collector_foreach_vm(a->col, count_vm, vms);
	sb_puts(out, "{\"host\":");
	sb_str(out, af_host_kind_name(af_collector_host(a->col)));
	sb_printf(out, ",\"abi\":%d,\"uptime_s\":%llu", AF_ABI_VERSION,
		  (unsigned long long)((af_now_ns() - a->start_ns) / 1000000000ull));
	if (af_collector_warning(a->col)[0]) {
		sb_puts(out, ",\"warning\":");
		sb_str(out, af_collector_warning(a->col));
	}
	kv_u64(out, "vms", vms[0]);
	kv_u64(out, "live_processes", vms[1]);
	kv_u64(out, "clients", a->nclients);
	kv_u64(out, "subscribers", a->nsubscribers);
	kv_u64(out, "clients_total", a->clients_total);
	kv_u64(out, "clients_refused", a->clients_refused);
	kv_u64(out, "bad_requests", a->bad_requests);
	kv_u64(out, "client_timeouts", a->client_timeouts);
	kv_u64(out, "subscriber_dropped", a->sub_dropped);
	kv_u64(out, "queue_bytes", a->qpool.used);
	kv_u64(out, "queue_limit_bytes", a->qpool.limit);
	for (unsigned t = 1; t < AF_EV_MAX; t++)
		if (af_ev_name(t))
			sb_printf(out, ",\"events_%s\":%llu", af_ev_name(t),
				  (unsigned long long)a->events[t]);
	sb_puts(out, "}\n{\"end\":\"stats\"}\n");
}

struct metric_ctx {
	struct af_agent *a;
	FILE *f;
};

/* {vm="PID",vm_name="NAME"} */
static void vm_labels(struct metric_ctx *m, uint32_t pid)
{
	fprintf(m->f, "{vm=\"%u\",vm_name=\"", pid);
	prom_label(m->f, vmname(m->a->names, pid));
	fputs("\"}", m->f);
}

static int metric_vm_live(void *ctx, const struct af_vm_info *v)
{
	struct metric_ctx *m = ctx;

	fputs("antfarm_vm_live_processes", m->f);
	vm_labels(m, v->vm_pid);
	fprintf(m->f, " %u\n", v->live_procs);
	return 0;
}

static int metric_vm_fidelity(void *ctx, const struct af_vm_info *v)
{
	struct metric_ctx *m = ctx;

	fputs("antfarm_vm_fidelity", m->f);
	vm_labels(m, v->vm_pid);
	fprintf(m->f, " %u\n", v->fidelity);
	return 0;
}

static void metrics_agent(struct af_agent *a, FILE *f)
{
	struct metric_ctx m = { .a = a, .f = f };

	fprintf(f, "# HELP antfarm_events_total Ring-buffer records received by the agent, by type.\n"
		   "# TYPE antfarm_events_total counter\n");
	for (unsigned t = 1; t < AF_EV_MAX; t++)
		if (af_ev_name(t))
			fprintf(f, "antfarm_events_total{type=\"%s\"} %llu\n", af_ev_name(t),
				(unsigned long long)a->events[t]);
	fprintf(f, "# HELP antfarm_subscriber_dropped_events_total Events dropped because a subscriber's queue was full.\n"
		   "# TYPE antfarm_subscriber_dropped_events_total counter\n"
		   "antfarm_subscriber_dropped_events_total %llu\n",
		(unsigned long long)a->sub_dropped);
	fprintf(f, "# HELP antfarm_queue_bytes Output buffers of all clients (limit: --queue-total-mib).\n"
		   "# TYPE antfarm_queue_bytes gauge\nantfarm_queue_bytes %zu\n", a->qpool.used);
	fprintf(f, "# HELP antfarm_subscribers Clients subscribed to events.\n"
		   "# TYPE antfarm_subscribers gauge\nantfarm_subscribers %d\n", a->nsubscribers);
	fprintf(f, "# HELP antfarm_clients Connected clients.\n"
		   "# TYPE antfarm_clients gauge\nantfarm_clients %d\n", a->nclients);
	fprintf(f, "# HELP antfarm_bad_requests_total Requests refused.\n"
		   "# TYPE antfarm_bad_requests_total counter\nantfarm_bad_requests_total %llu\n",
		(unsigned long long)a->bad_requests);
	fprintf(f, "# HELP antfarm_vm_live_processes Live guest processes per VM (VMM pid).\n"
		   "# TYPE antfarm_vm_live_processes gauge\n");
	af_collector_foreach_vm(a->col, metric_vm_live, &m);
	fprintf(f, "# HELP antfarm_vm_fidelity CR3 visibility per VM: 0 none, 1 sampled at exits, 2 every load.\n"
		   "# TYPE antfarm_vm_fidelity gauge\n");
	af_collector_foreach_vm(a->col, metric_vm_fidelity, &m);
}

/* The Prometheus text, for {"cmd":"metrics"} and GET /metrics alike. */
int metrics_write(void *agent, FILE *f)
{
	struct af_agent *a = agent;

	metrics_agent(a, f);
	hints_metrics(a, f);
	af_collector_metrics(a->col, f);
	fputs("# EOF\n", f);
	return ferror(f) ? -1 : 0;
}

static void reply_metrics(struct af_agent *a, struct sbuf *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		out->failed = 1;
		return;
	}
	metrics_write(a, f);
	if (fclose(f))
		out->failed = 1;
	else
		sb_putn(out, text, len);
	free(text);
}

void cmd_reply(struct af_agent *a, const struct af_request *req, struct sbuf *out)
{
	switch (req->cmd) {
	case AF_CMD_PS:
		reply_ps(a, req, out);
		break;
	case AF_CMD_VMS:
		reply_vms(a, out);
		break;
	case AF_CMD_STATS:
		reply_stats(a, out);
		break;
	case AF_CMD_METRICS:
		reply_metrics(a, out);
		break;
	case AF_CMD_SUBSCRIBE:
		break;
	}
}
