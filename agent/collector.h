/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The collector: the agent's side of the BPF programs.  It probes the host,
 * loads and attaches the programs that apply, and hands ring-buffer records
 * to the agent's event loop.  The agent core (socket, subscribers, JSON)
 * knows nothing of libbpf beyond this header.
 */
#ifndef ANTFARM_COLLECTOR_H
#define ANTFARM_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "antfarm_abi.h"

struct af_collector;

/* What kind of host this is, as detected at start-up. */
enum af_host_kind {
	AF_HOST_UNKNOWN = 0,
	AF_HOST_PVM,		/* kvm_pvm: guest kernel emulated, shadow MMU */
	AF_HOST_VMX_EPT,	/* kvm_intel, ept=1 */
	AF_HOST_VMX_SHADOW,	/* kvm_intel, ept=0 */
	AF_HOST_SVM_NPT,	/* kvm_amd, npt=1 */
	AF_HOST_SVM_SHADOW,	/* kvm_amd, npt=0 */
};

struct af_collector_opts {
	int verbose;
	uint64_t idle_timeout_ns;	/* exit-by-idle where teardown is invisible; 0 = default */
	int want_switch;		/* emit SWITCH records (they are the bulk) */
	enum af_host_kind force_host;	/* tests: pretend to be this host kind (0 = detect) */
	uint32_t ringbuf_bytes;		/* ring-buffer size, power of 2 >= page size; 0 = 8 MiB */
	uint64_t exited_keep_ns;	/* exited processes stay listed this long; 0 = 60 s */
	const char *only_progs;		/* comma-separated program names: attach only these
					 * (diagnostics, the overhead benchmark) */
	int lifecycle;			/* --fidelity lifecycle: no CR3 sources (kvm_emulate_insn,
					 * kvm_cr, kvm_exit/entry); creates and exits from
					 * shadow roots only */
	int bpf_stats;			/* kernel bpf_stats (run count and time per program):
					 * they cost two clock reads per invocation */
	int no_attach;			/* load only: observations come from af_collector_replay
					 * (antfarm-agent --replay) */
};

/* Called for every ring-buffer record; return non-zero to stop this poll. */
typedef int (*af_event_cb)(void *ctx, const struct af_event *ev);

/* ---- life cycle ---- */

/* Probe, load, attach.  On failure returns -errno and writes a sentence
 * that tells the user what is missing and what to do into err. */
int af_collector_open(struct af_collector **out, const struct af_collector_opts *o,
		      char *err, size_t errlen);
void af_collector_close(struct af_collector *c);

/* An fd that becomes readable when records are waiting (epoll it). */
int af_collector_fd(struct af_collector *c);

/* Consume what is waiting, calling cb for each record; returns count or -errno. */
int af_collector_poll(struct af_collector *c, af_event_cb cb, void *ctx);

/* Periodic work (idle-timeout exits etc.); call about once a second. */
void af_collector_tick(struct af_collector *c, uint64_t now_ns);

/* Switch records on/off while running (e.g. only while a subscriber wants them). */
void af_collector_set_want_switch(struct af_collector *c, int on);
/* Every guest MMIO/PIO write as a notify record (a subscriber wants them),
 * or only those the notify filters pass (antfarm_abi.h). */
/* on: notify records of every VM's MMIO/PIO writes at the naddr addresses
 * (0: at every address), besides the doorbells of af_collector_notify_filter. */
void af_collector_set_want_notify(struct af_collector *c, int on, const uint64_t *addr,
				  unsigned naddr);
/* The notify filter of the VM whose VMM is vm_pid; f NULL removes it (that
 * VM then produces no notify records).  0 or -errno. */
int af_collector_notify_filter(struct af_collector *c, uint32_t vm_pid,
			       const struct af_notify_filter *f);

/* ---- the host ---- */

enum af_host_kind af_collector_host(const struct af_collector *c);
const char *af_host_kind_name(enum af_host_kind k);

/* A sentence about fidelity on this host, e.g. the ept=0 advice. */
const char *af_collector_fidelity_note(const struct af_collector *c);

/* A warning about this host (e.g. no /dev/kvm), or "" if none.  The
 * collector also logs it at open. */
const char *af_collector_warning(const struct af_collector *c);

/* 1 if the program on tracepoint tp (e.g. "kvm_emulate_insn") is attached. */
int af_collector_prog_attached(const struct af_collector *c, const char *tp);

/* ---- the tables the BPF side keeps ---- */

/* One live or recently exited process, read from the BPF maps. */
struct af_proc_info {
	uint64_t vm_key;
	uint32_t vm_pid;
	uint32_t gen;
	uint64_t as;
	uint64_t first_ns, last_ns;	/* first and last seen, CLOCK_MONOTONIC */
	uint64_t run_ns;		/* accumulated CPU time */
	uint64_t switches;		/* switches into this address space */
	uint32_t last_vcpu;
	uint32_t live;			/* 1 live, 0 exited */
	uint16_t exit_reason;
	uint16_t flags;
	uint32_t running;		/* vCPUs it is loaded on right now */
	uint64_t cpu_ns;		/* run_ns plus the intervals under way on those
					 * vCPUs, up to the walk's 'now' */
};
typedef int (*af_proc_cb)(void *ctx, const struct af_proc_info *p);
int af_collector_foreach_proc(struct af_collector *c, af_proc_cb cb, void *ctx);
/* The same with cpu_ns computed at now_ns (CLOCK_MONOTONIC), for tests. */
int af_collector_foreach_proc_at(struct af_collector *c, uint64_t now_ns,
				 af_proc_cb cb, void *ctx);

struct af_vm_info {
	uint64_t vm_key;
	uint32_t vm_pid;
	uint32_t nvcpus;
	uint32_t live_procs;
	uint32_t fidelity;		/* enum af_fidelity */
	uint64_t first_ns, last_ns;
};
typedef int (*af_vm_cb)(void *ctx, const struct af_vm_info *v);
int af_collector_foreach_vm(struct af_collector *c, af_vm_cb cb, void *ctx);

/* ---- counters ---- */

/* Prometheus text: reserve failures and bpf_stats run count/time per
 * program, events by type as the BPF side counted them. */
void af_collector_metrics(struct af_collector *c, FILE *out);

/* Counters summed over CPUs: reserve failures of program slot prog_id
 * (enum af_prog_id) and events inferred of type (enum af_ev_type). */
uint64_t af_collector_drops(struct af_collector *c, unsigned prog_id);
uint64_t af_collector_events(struct af_collector *c, unsigned type);
uint64_t af_collector_stat(struct af_collector *c, unsigned what);	/* enum af_stat */

/* bpf_stats of program prog (e.g. "af_replay"): 0 or -errno. */
int af_collector_prog_stats(const struct af_collector *c, const char *prog,
			    uint64_t *run_cnt, uint64_t *run_ns);

/* ---- observations: replay and record ---- */

/* Run one observation through the "af_replay" program (BPF_PROG_TEST_RUN):
 * args as in antfarm_abi.h.  Returns the program's return value or -errno. */
int af_collector_replay(struct af_collector *c, const uint64_t args[AF_REPLAY_NARGS]);

/* --record: from now on cb gets every observation the BPF programs make
 * (and each tick), in af_replay's argument layout, as they are consumed by
 * af_collector_poll.  Observations the record ring had no room for are
 * counted (AF_STAT_RECORD_LOST). */
typedef void (*af_obs_cb)(void *ctx, const uint64_t obs[AF_REPLAY_NARGS]);
int af_collector_record(struct af_collector *c, af_obs_cb cb, void *ctx);
/* Readable when observations wait; af_collector_record_poll writes them out. */
int af_collector_record_fd(struct af_collector *c);
void af_collector_record_poll(struct af_collector *c);

/* Re-read the root pages of live processes that KVM stopped shadowing
 * while they were loaded (map "unshadowed": see af_keep_digest in
 * bpf/infer.h), from the VMM's memory; a root torn down or reused since
 * ends its process (through af_replay, so recordings replay it).  Returns
 * how many such roots are left to poll, or -errno. */
int af_collector_poll_roots(struct af_collector *c, uint64_t now_ns);

/* The settings a recording must be replayed with (and --replay opens with). */
struct af_collector_config {
	enum af_host_kind host;
	uint64_t idle_ns, keep_ns;
	int want_switch;
};
void af_collector_config(const struct af_collector *c, struct af_collector_config *out);

#endif
