/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * asvmm scenarios: a seeded simulation of processes on 1-4 vCPUs that
 * writes each vCPU's op list for the guest and, from the same steps, the
 * ground truth (creates, exits, switches) the agent must reproduce.
 */
#ifndef ASVMM_SCRIPT_H
#define ASVMM_SCRIPT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include "asvmm.h"

enum reuse { REUSE_NONE, REUSE_LIFO, REUSE_DELAYED, REUSE_MIXED };
enum marks { MARKS_ALL, MARKS_LIFETIMES };

/* A scenario's knobs; -1 (or NULL) in the command line's copy = the scenario's default. */
struct knobs {
	const char *name;
	uint64_t seed;
	int procs;		/* processes over the run */
	int live;		/* at most this many at once */
	int vcpus;
	int rounds;		/* quanta per process */
	int spin;		/* loop iterations per quantum */
	int reuse;		/* enum reuse */
	int delay;		/* REUSE_DELAYED: frees between a root's exit and its reuse */
	int scribble;		/* % of freed roots overwritten with garbage */
	int grow;		/* % of quanta that add or remove a top-level entry */
	int kpti;		/* kernel/user root pairs */
	int pcid;		/* 1 PCID + NOFLUSH (skip without PCID), 2 where the CPU has it */
	int memslot;		/* add/remove the extra memslot every N quanta (0 never) */
	int nuser;		/* user-half entries a new root starts with */
	int idle;		/* % of quanta after which the vCPU loads the boot root */
	int survivors;		/* processes still live when the VM ends */
	int random;		/* pick the next process at random instead of round robin */
	int marks;		/* enum marks */
	int mmu_pages;		/* KVM_SET_NR_MMU_PAGES (0: KVM's default, 2% of memory) */
	int fault;		/* enum fault: make vCPU 0 fail at once (tests the VMM) */
};

enum fault { FAULT_NONE, FAULT_UD, FAULT_PF, FAULT_BADOP, FAULT_HANG };

enum tr_kind { TR_CREATE, TR_EXIT, TR_SWITCH, TR_MEMSLOT };
enum tr_reason { TR_ZAP, TR_VM, TR_REMOVE = 0, TR_ADD = 1 };	/* exits; memslot ops */

struct truth_ev {
	uint8_t kind, reason;
	uint16_t vcpu;
	uint32_t gen, from_gen;
	uint64_t as, from;	/* canonical roots (KPTI pair by its kernel root) */
	uint32_t mark;		/* the mark written just after it (0: VM end) */
	uint32_t mark_lo;	/* the mark before it on its vCPU (0: the vCPU's start) */
	uint32_t seq;		/* order of generation */
	uint32_t writes;	/* exits: top-level entries the process wrote into its live root */
};

struct step {
	struct as_op op;
	uint32_t sig;		/* flag to signal after the op (0 none) */
};

struct oplist {
	struct step *st;
	size_t n, cap;
};

struct counts {
	unsigned creates, exits, exits_vm, switches, grows, shrinks, scribbles;
	unsigned memslot_adds, memslot_removes, reuses, waits, max_live;
	unsigned vswitches[MAX_VCPUS];
};

struct script {
	struct knobs k;
	struct oplist ol[MAX_VCPUS];
	struct truth_ev *ev;
	size_t nev, evcap;
	uint32_t nmarks;	/* mark ids 1..nmarks */
	uint32_t nflags;	/* flag ids 1..nflags */
	struct counts c;
};

/* The scenario table: name, description, defaults. */
int knobs_default(const char *name, struct knobs *k);
void scenarios_print(FILE *out);
/* Fill the knobs left at -1 from the scenario's defaults (k->name set). */
int knobs_resolve(struct knobs *k, int have_pcid, char *err, size_t errlen);

int script_build(const struct knobs *k, struct script *s, char *err, size_t errlen);
void script_free(struct script *s);
/* The final op list of vCPU v (SIGNAL ops placed); caller frees. */
struct as_op *script_ops(const struct script *s, int v, size_t *n);

#endif
