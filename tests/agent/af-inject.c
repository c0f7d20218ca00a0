/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * af-inject: feed observations to a running antfarm-agent through its
 * "af_replay" program (BPF_PROG_TEST_RUN), so that tests and benchmarks
 * drive the live state machine, maps and ring buffer without a VM.
 * (bpf_obj_get_info_by_fd: libbpf 1.1 has no bpf_prog_get_info_by_fd.)
 *
 *   af-inject [--pid AGENT_PID] [--repeat N] [--cpu N] OBS...
 *
 * OBS is kind:vm_key:vm_pid:vcpu:a:b:c:ts (missing trailing fields are 0;
 * numbers in C notation), kind one of cr3, get, zap, destroy, notify, tick,
 * zapall, vmmexit, digest, vcpu, or a number; see agent/obs.h.  "-" reads
 * one OBS per line from stdin ('#' lines are skipped).  With --pid, only a program held open by that
 * process is used (other agents may be running); otherwise the newest.
 */
#include <dirent.h>
#include <sched.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "antfarm_abi.h"
#include "obs.h"

static int is_replay(__u32 id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0)
		return -1;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || strcmp(info.name, AF_REPLAY_PROG)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Program ids held by a process, from /proc/PID/fdinfo. */
static int find_in_pid(int pid)
{
	char path[64], line[128];
	struct dirent *de;
	int found = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo", pid);
	d = opendir(path);
	if (!d)
		return -1;
	while (found < 0 && (de = readdir(d))) {
		FILE *f;
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%.20s", pid, de->d_name);
		if (!(f = fopen(path, "r")))
			continue;
		while (found < 0 && fgets(line, sizeof(line), f)) {
			unsigned id;
			if (sscanf(line, "prog_id: %u", &id) == 1)
				found = is_replay(id);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

static int find_newest(void)
{
	__u32 id = 0;
	int best = -1, fd;

	while (!bpf_prog_get_next_id(id, &id)) {
		if ((fd = is_replay(id)) < 0)
			continue;
		if (best >= 0)
			close(best);
		best = fd;
	}
	return best;
}

static int run(int fd, const uint64_t *args)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args,
		    .ctx_size_in = AF_REPLAY_NARGS * sizeof(__u64));

	return bpf_prog_test_run_opts(fd, &opts) ? -errno : 0;
}

int main(int argc, char **argv)
{
	uint64_t (*seq)[AF_REPLAY_NARGS] = NULL;
	long repeat = 1, n = 0;
	int pid = 0, fd, i = 1, cpu = -1;
	char line[512];

	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--pid") && i + 1 < argc)
			pid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
			repeat = atol(argv[++i]);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: af-inject [--pid PID] [--repeat N] [--cpu N] OBS... (see source)\n");
			return 2;
		}
	}
	seq = calloc(1, sizeof(*seq));
	for (; i < argc; i++) {
		int more = !strcmp(argv[i], "-");
		while (more ? fgets(line, sizeof(line), stdin) != NULL : 1) {
			int r = (more && line[0] == '#') ? 1 :	/* a recording's comments */
				af_obs_parse(more ? line : argv[i], seq[n]);
			if (r < 0) {
				fprintf(stderr, "af-inject: bad observation '%s'\n", more ? line : argv[i]);
				return 2;
			}
			if (r == 0 && !(seq = realloc(seq, (++n + 1) * sizeof(*seq))))
				return 2;
			if (!more)
				break;
		}
	}
	/* One CPU for the whole sequence: the BPF side keeps a per-CPU cache of
	 * the last CR3 per vCPU, and an injector that migrates between CPUs
	 * (A on cpu0, B on cpu1, A on cpu0 again, also across runs) would see switches skipped.
	 * (That is a property of the cache, reported; not what we test here.) */
	cpu_set_t set, one;
	CPU_ZERO(&one);
	if (cpu < 0 && !sched_getaffinity(0, sizeof(set), &set))
		for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &set); cpu++)
			;	/* the same CPU in every run: the first allowed */
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one)) {
		fprintf(stderr, "af-inject: cannot run on cpu %d: %s\n", cpu, strerror(errno));
		return 1;
	}
	fd = pid ? find_in_pid(pid) : find_newest();
	if (fd < 0) {
		fprintf(stderr, "af-inject: no loaded \"%s\" program%s\n", AF_REPLAY_PROG,
			pid ? " held by that process" : "");
		return 1;
	}
	for (long r = 0; r < repeat; r++)
		for (long k = 0; k < n; k++) {
			int err = run(fd, seq[k]);
			if (err) {
				fprintf(stderr, "af-inject: test run: %s\n", strerror(-err));
				return 1;
			}
		}
	close(fd);
	free(seq);
	return 0;
}
