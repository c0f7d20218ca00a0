// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench-bpf: mean cost of one invocation of the BPF state machine, measured
 * in the kernel by bpf_stats (run_time_ns / run_cnt of "af_replay"), which
 * the collector enables.  BPF_PROG_TEST_RUN of a raw_tp program takes no
 * 'repeat' (the kernel rejects it with EINVAL, checked below), so each
 * invocation is one syscall; bpf_stats times only the program itself.
 *
 *   fast    the same CR3 again: the per-CPU cache hit that kvm_emulate_insn
 *           takes for almost every emulated instruction
 *   switch  alternating between two CR3s: every call is a context switch
 *           (map updates, run-time accounting, one ring-buffer record)
 *   switch-norec  the same without SWITCH records (no subscriber wants them)
 *   switch-norec-ts  the same with the timestamp supplied: no clock read
 *   notify  an MMIO doorbell attributed to the current process
 *   floor   an unknown observation: argument copy and dispatch only, the
 *           part of every figure that the replay wrapper adds
 *
 * Usage: bench_bpf [N]   (N invocations per case, default 1000000; root)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "collector.h"

static int drop_cb(void *ctx, const struct af_event *e)
{
	return 0;
}

static int run_case(struct af_collector *c, const char *name, uint64_t n, uint64_t kind,
		    uint64_t a0, uint64_t a1, uint64_t src, uint64_t ts)
{
	uint64_t args[AF_REPLAY_NARGS] = { kind, 0xffff888000cc0000ull, 1, 0, a0, src, 0, ts };
	uint64_t cnt0, ns0, cnt1, ns1, i;

	/* warm up: VM, vCPU and both address spaces exist before timing */
	af_collector_replay(c, args);
	args[4] = a1;
	af_collector_replay(c, args);
	af_collector_poll(c, drop_cb, NULL);
	if (af_collector_prog_stats(c, "af_replay", &cnt0, &ns0))
		return -1;
	for (i = 0; i < n; i++) {
		args[4] = (i & 1) ? a1 : a0;
		if (ts)
			args[7] = ++ts;	/* supplied: no clock read in the program */
		if (af_collector_replay(c, args) < 0 && kind != 99)
			return -1;
		if ((i & 4095) == 4095)
			af_collector_poll(c, drop_cb, NULL);	/* keep the ring from filling */
	}
	af_collector_poll(c, drop_cb, NULL);
	af_collector_prog_stats(c, "af_replay", &cnt1, &ns1);
	printf("%-15s %10llu runs  %7.1f ns/run\n", name, (unsigned long long)(cnt1 - cnt0),
	       (double)(ns1 - ns0) / (double)(cnt1 - cnt0));
	return 0;
}

int main(int argc, char **argv)
{
	struct af_collector_opts o = { .want_switch = 1, .bpf_stats = 1, .no_attach = 1 };
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
	struct af_collector *c;
	char err[512];

	if (af_collector_open(&c, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "bench_bpf: %s\n", err);
		return 1;
	}
	printf("af_replay cost by bpf_stats, %llu runs per case, host %s\n",
	       (unsigned long long)n, af_host_kind_name(af_collector_host(c)));
	if (run_case(c, "floor", n, 99, 0, 0, 0, 0) ||
	    run_case(c, "fast", n, AF_OBS_CR3, 0x5000, 0x5000, AF_SRC_EMULATE, 0) ||
	    run_case(c, "switch", n, AF_OBS_CR3, 0x5000, 0x9000, AF_SRC_EMULATE, 0) ||
	    run_case(c, "notify", n, AF_OBS_NOTIFY, 0xd0000050, 0xd0000050, AF_SRC_MMIO, 0) ||
	    (af_collector_set_want_switch(c, 0),
	     run_case(c, "switch-norec", n, AF_OBS_CR3, 0x5000, 0x9000, AF_SRC_EMULATE, 0)) ||
	    run_case(c, "switch-norec-ts", n, AF_OBS_CR3, 0x5000, 0x9000, AF_SRC_EMULATE,
		     1000000000ull)) {
		fprintf(stderr, "bench_bpf: replay failed: %s\n", strerror(errno));
		af_collector_close(c);
		return 1;
	}
	af_collector_close(c);
	return 0;
}
