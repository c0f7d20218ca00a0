// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The collector's reading of the BPF maps: processes and VMs for ps/vms,
 * the per-CPU counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/clock.h"
#include "collector_int.h"

/* Calls fn for every entry of a hash map; stops at fn's first non-zero
 * return and returns it, else the number of entries visited. */
int map_walk(int fd, size_t ksz, void *val, int (*fn)(void *ctx, const void *k, void *v),
	     void *ctx)
{
	unsigned char k[32], next[32];
	void *prev = NULL;
	int n = 0, r;

	if (ksz > sizeof(k))
		return -EINVAL;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(k, next, ksz);
		prev = k;
		if (bpf_map_lookup_elem(fd, k, val))
			continue;	/* deleted meanwhile */
		r = fn(ctx, k, val);
		if (r < 0)
			continue;	/* skipped */
		if (r > 0)
			return r;
		n++;
	}
	return n;
}

/* A vCPU's current address space, for the intervals not yet in run_ns. */
struct cur_load {
	struct af_vcpu_key k;
	struct af_vcpu_val v;
};

struct walk_ctx {
	af_proc_cb proc_cb;
	af_vm_cb vm_cb;
	void *ctx;
	struct cur_load *loads;
	size_t nloads, cap;
	uint64_t now;
};

static int load_entry(void *ctx, const void *key, void *val)
{
	struct walk_ctx *w = ctx;
	const struct af_vcpu_val *v = val;

	if (!v->cur_as)
		return -1;
	if (w->nloads == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct cur_load *n = realloc(w->loads, cap * sizeof(*n));

		if (!n)
			return 1;	/* stop: cpu_ns falls back to run_ns */
		w->loads = n;
		w->cap = cap;
	}
	memcpy(&w->loads[w->nloads].k, key, sizeof(struct af_vcpu_key));
	w->loads[w->nloads++].v = *v;
	return 0;
}

/* run_ns is charged at switches; add what every vCPU that has this process
 * loaded has run of it since. */
static void add_running(const struct walk_ctx *w, const struct af_as_key *k,
			struct af_proc_info *p)
{
	p->cpu_ns = p->run_ns;
	if (!p->live)
		return;
	for (size_t i = 0; i < w->nloads; i++) {
		const struct cur_load *l = &w->loads[i];

		if (l->k.vm_key != k->vm_key || l->v.cur_as != k->as || l->v.cur_gen != p->gen)
			continue;
		p->running++;
		if (w->now > l->v.since_ns)
			p->cpu_ns += w->now - l->v.since_ns;
	}
}

static int proc_entry(void *ctx, const void *key, void *val)
{
	const struct af_as_key *k = key;
	const struct af_as_val *v = val;
	struct walk_ctx *w = ctx;
	struct af_proc_info p = {
		.vm_key = k->vm_key, .vm_pid = v->vm_pid, .gen = v->gen, .as = k->as,
		.first_ns = v->first_ns, .last_ns = v->last_ns, .run_ns = v->run_ns,
		.switches = v->switches, .last_vcpu = v->last_vcpu, .live = v->live,
		.exit_reason = v->reason, .flags = v->flags,
	};
	int r;

	add_running(w, k, &p);
	r = w->proc_cb(w->ctx, &p);

	return r != 0;
}

static int vm_entry(void *ctx, const void *key, void *val)
{
	const uint64_t *k = key;
	const struct af_vm_val *v = val;
	struct walk_ctx *w = ctx;
	struct af_vm_info i = {
		.vm_key = *k, .vm_pid = v->vm_pid, .nvcpus = v->nvcpus,
		.live_procs = v->live_procs, .fidelity = v->fidelity,
		.first_ns = v->first_ns, .last_ns = v->last_ns,
	};
	int r;

	if (v->flags & AF_VMF_DEAD)
		return -1;
	r = w->vm_cb(w->ctx, &i);
	return r != 0;
}

int af_collector_foreach_proc_at(struct af_collector *c, uint64_t now_ns,
				 af_proc_cb cb, void *ctx)
{
	struct walk_ctx w = { .proc_cb = cb, .ctx = ctx, .now = now_ns };
	struct af_vcpu_val vc;
	struct af_as_val v;
	int n;

	map_walk(bpf_map__fd(c->skel->maps.vcpus), sizeof(struct af_vcpu_key), &vc,
		 load_entry, &w);
	n = map_walk(bpf_map__fd(c->skel->maps.procs), sizeof(struct af_as_key), &v,
		     proc_entry, &w);
	free(w.loads);
	return n;
}

int af_collector_foreach_proc(struct af_collector *c, af_proc_cb cb, void *ctx)
{
	return af_collector_foreach_proc_at(c, af_now_ns(), cb, ctx);
}

int af_collector_foreach_vm(struct af_collector *c, af_vm_cb cb, void *ctx)
{
	struct walk_ctx w = { .vm_cb = cb, .ctx = ctx };
	struct af_vm_val v;

	return map_walk(bpf_map__fd(c->skel->maps.vms), sizeof(uint64_t), &v, vm_entry, &w);
}

/* Sum of a per-CPU u64 array slot. */
uint64_t percpu_sum(int fd, uint32_t idx)
{
	int ncpu = libbpf_num_possible_cpus(), i;
	uint64_t sum = 0, *vals;

	if (ncpu <= 0)
		return 0;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return 0;
	if (bpf_map_lookup_elem(fd, &idx, vals) == 0)
		for (i = 0; i < ncpu; i++)
			sum += vals[i];
	free(vals);
	return sum;
}

uint64_t af_collector_drops(struct af_collector *c, unsigned prog_id)
{
	return percpu_sum(bpf_map__fd(c->skel->maps.drops), prog_id);
}

uint64_t af_collector_events(struct af_collector *c, unsigned type)
{
	return percpu_sum(bpf_map__fd(c->skel->maps.evcount), type);
}

uint64_t af_collector_stat(struct af_collector *c, unsigned what)
{
	return percpu_sum(bpf_map__fd(c->skel->maps.stats), what);
}

