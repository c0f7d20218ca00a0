/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector's insides, shared by its three files: collector.c (probe,
 * load, attach, the rings, replay and polls), collector_maps.c (reading the
 * BPF maps) and collector_metrics.c (their Prometheus text).
 */
#ifndef AF_COLLECTOR_INT_H
#define AF_COLLECTOR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>
#include "collector.h"
#include "collector_host.h"
#include "antfarm.skel.h"

/*
 * The one table of BPF programs: everything else about a program (its
 * skeleton handle, its counters' slot, whether it is loaded here) is found
 * from its row.  Adding a program: the function in bpf/antfarm.bpf.c, an
 * enum af_prog_id slot, and a row here.
 */
struct af_prog_desc {
	const char *name;	/* function name in bpf/antfarm.bpf.c */
	const char *tp;		/* tracepoint (BTF typedef btf_trace_<tp>); NULL: never attached */
	unsigned id;		/* enum af_prog_id: slot of its counters */
	unsigned hosts;		/* H_* where it applies */
	int cr3_source;		/* one of the programs that see CR3 */
	int on_demand;		/* attached only while someone wants notify records */
};


/* collector.c; at most AF_PROG_MAX rows (the counters' slots) */
extern const struct af_prog_desc af_progs[];
extern const size_t af_nprogs;

struct af_collector {
	struct antfarm_bpf *skel;
	struct ring_buffer *rb;
	struct ring_buffer *obs_rb;	/* --record: the observations */
	struct af_collector_opts opts;
	struct af_host_info host;
	int stats_fd;
	af_event_cb cb;
	void *cb_ctx;
	int cb_count;
	af_obs_cb obs_cb;		/* --record */
	void *obs_ctx;
	int stopped;
	int attached[AF_PROG_MAX];
	int loaded[AF_PROG_MAX];	/* on-demand programs that may be attached */
	struct bpf_link *links[AF_PROG_MAX];
	int want_notify;		/* a subscriber (or --record) wants every write */
	int nfilters;			/* notify_filter entries */
	char note[256];
};

struct bpf_program *prog_of(struct antfarm_bpf *s, size_t i);

/* collector_maps.c */
int map_walk(int fd, size_t ksz, void *val, int (*fn)(void *ctx, const void *k, void *v),
	     void *ctx);
uint64_t percpu_sum(int fd, uint32_t idx);

#endif
