// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The collector's Prometheus text: what the BPF side counted, per program. */
#include <errno.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include "antfarm_proto.h"
#include "collector_int.h"

static const char *const stat_names[AF_STAT_MAX] = {
	[AF_STAT_PROCS_FULL] = "procs_map_full", [AF_STAT_VM_LIMIT] = "vm_process_limit",
	[AF_STAT_VCPUS_FULL] = "vcpus_map_full", [AF_STAT_VMS_FULL] = "vms_map_full",
	[AF_STAT_REAPED] = "exited_forgotten", [AF_STAT_DIGEST_FAIL] = "root_unreadable",
	[AF_STAT_RECORD_LOST] = "record_lost",
};

static const char *const ev_names[AF_EV_MAX] = AF_EV_NAMES;	/* the protocol's names */

/* One Prometheus counter family from a per-CPU array with named slots. */
static void named_counters(FILE *out, const char *metric, const char *label, const char *help,
			   const char *const *names, unsigned n, int fd)
{
	unsigned i;

	fprintf(out, "# HELP %s %s\n# TYPE %s counter\n", metric, help, metric);
	for (i = 0; i < n; i++)
		if (names[i])
			fprintf(out, "%s{%s=\"%s\"} %llu\n", metric, label, names[i],
				(unsigned long long)percpu_sum(fd, i));
}

void af_collector_metrics(struct af_collector *c, FILE *out)
{
	size_t i;

	named_counters(out, "antfarm_bpf_events_total", "type", "Events inferred in BPF, by "
		       "type (switches are counted even when not sent).", ev_names, AF_EV_MAX,
		       bpf_map__fd(c->skel->maps.evcount));
	fprintf(out, "# HELP antfarm_bpf_reserve_failures_total Ring-buffer records lost "
		"because the buffer was full, by program.\n"
		"# TYPE antfarm_bpf_reserve_failures_total counter\n");
	for (i = 0; i < af_nprogs; i++)
		fprintf(out, "antfarm_bpf_reserve_failures_total{prog=\"%s\"} %llu\n",
			bpf_program__name(prog_of(c->skel, i)),
			(unsigned long long)af_collector_drops(c, af_progs[i].id));
	named_counters(out, "antfarm_bpf_state_total", "what", "State the BPF side could not "
		       "keep (map full, per-VM limit) or forgot on purpose (exited processes).",
		       stat_names, AF_STAT_MAX, bpf_map__fd(c->skel->maps.stats));
	fprintf(out, "# HELP antfarm_bpf_prog_attached 1 if the program is attached.\n"
		"# TYPE antfarm_bpf_prog_attached gauge\n");
	for (i = 0; i < af_nprogs; i++)
		fprintf(out, "antfarm_bpf_prog_attached{prog=\"%s\"} %d\n",
			bpf_program__name(prog_of(c->skel, i)), c->attached[i] == 1);
	fprintf(out, "# HELP antfarm_bpf_run_count_total Program invocations (bpf_stats).\n"
		"# TYPE antfarm_bpf_run_count_total counter\n"
		"# HELP antfarm_bpf_run_time_seconds_total Time spent in the program (bpf_stats).\n"
		"# TYPE antfarm_bpf_run_time_seconds_total counter\n");
	for (i = 0; i < af_nprogs; i++) {
		const char *name = bpf_program__name(prog_of(c->skel, i));
		uint64_t cnt, ns;

		if (af_collector_prog_stats(c, name, &cnt, &ns))
			continue;
		fprintf(out, "antfarm_bpf_run_count_total{prog=\"%s\"} %llu\n", name,
			(unsigned long long)cnt);
		/* base unit: seconds, with the nanoseconds kept */
		fprintf(out, "antfarm_bpf_run_time_seconds_total{prog=\"%s\"} %llu.%09llu\n",
			name, (unsigned long long)(ns / 1000000000u),
			(unsigned long long)(ns % 1000000000u));
	}
}

int af_collector_prog_stats(const struct af_collector *c, const char *prog,
			    uint64_t *run_cnt, uint64_t *run_ns)
{
	struct bpf_program *p = bpf_object__find_program_by_name(c->skel->obj, prog);
	struct bpf_prog_info info = {};
	uint32_t len = sizeof(info);
	int fd = p ? bpf_program__fd(p) : -1;

	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	*run_cnt = info.run_cnt;
	*run_ns = info.run_time_ns;
	return 0;
}

