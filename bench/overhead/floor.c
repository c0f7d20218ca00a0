// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * floor: attach the empty programs of floor.bpf.c to the given tracepoints
 * (all of them without arguments) and wait for SIGINT/SIGTERM.
 *
 *   floor [TRACEPOINT...]      e.g. floor kvm_emulate_insn kvm_mmu_get_page
 *
 * Prints "attached N" when ready.  Exit 0, or 1 with the reason.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int wanted(const char *tp, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], tp))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct floor_bpf *s = floor_bpf__open();
	struct bpf_program *p;
	int n = 0, ret = 1;

	if (!s) {
		fprintf(stderr, "floor: cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, s->obj)
		bpf_program__set_autoload(p, wanted(bpf_program__name(p) + 6, argc, argv));
	if (floor_bpf__load(s)) {
		fprintf(stderr, "floor: cannot load: %s\n", strerror(errno));
		goto out;
	}
	bpf_object__for_each_program(p, s->obj) {
		if (!bpf_program__autoload(p))
			continue;
		if (!bpf_program__attach(p)) {
			fprintf(stderr, "floor: cannot attach %s: %s\n", bpf_program__name(p),
				strerror(errno));
			goto out;
		}
		n++;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("attached %d\n", n);
	fflush(stdout);
	while (!stop)
		pause();
	ret = 0;
out:
	floor_bpf__destroy(s);
	return ret;
}
