/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Process hints between antfarm-agent and antfarm-blk.  The agent connects
 * to the backend's hint socket (SOCK_SEQPACKET, antfarm-blk --hints PATH);
 * both sides send one struct af_hint per message.  A malformed message
 * (wrong size, magic, version, or a type the other side does not send)
 * closes that connection, with a message saying why.
 *
 * Agent -> backend, only for the VM the backend serves:
 *   proc = af_hint_proc(as, gen): one key per guest process for the life of
 *   the VM.  NOTIFY says: vCPU 'vcpu' of VM 'vm_pid' wrote 'value' to the
 *   doorbell at 'addr' (virtio QueueNotify: value = queue index) while
 *   process 'proc' was current, at ts_ns (CLOCK_MONOTONIC).  CREATE, EXIT:
 *   process 'proc' began, ended.  VM_EXIT: the VM is gone.
 *
 * Backend -> agent, so that the agent sends (and its BPF programs produce)
 * only what the backend needs:
 *   SERVE: the backend now serves the front-end (VMM) 'vm_pid' (0: none),
 *   with 'value' queues; its doorbells are to be learned (every write of
 *   that VM with a value below 'value' is a candidate).  Sent when a
 *   front-end connects or leaves, to a new agent connection, and when a
 *   queue starts whose doorbell is not known.
 *   DOORBELL: queue 'value' of VM 'vm_pid' is notified by writes to 'addr';
 *   'pending' queues are started without a known doorbell (0: learning is
 *   over, only the doorbells matter).
 */
#ifndef ANTFARM_HINT_H
#define ANTFARM_HINT_H

#include <stdint.h>

#define AF_HINT_MAGIC   0x41464831u	/* "AFH1" */
#define AF_HINT_VERSION 2		/* 2: two-way (SERVE, DOORBELL) */

enum af_hint_type {
	AF_HINT_NOTIFY = 1,		/* agent -> backend */
	AF_HINT_CREATE = 2,
	AF_HINT_EXIT   = 3,
	AF_HINT_VM_EXIT = 4,
	AF_HINT_SERVE = 5,		/* backend -> agent */
	AF_HINT_DOORBELL = 6,
};

struct af_hint {
	uint32_t magic;
	uint16_t version;
	uint16_t type;		/* enum af_hint_type */
	uint32_t vm_pid;
	union {
		uint32_t vcpu;		/* NOTIFY */
		uint32_t pending;	/* DOORBELL */
	};
	uint64_t ts_ns;
	uint64_t proc;
	uint64_t addr;
	uint64_t value;
};

_Static_assert(sizeof(struct af_hint) == 48, "af_hint ABI size");

/* "" when m (n bytes received) is a well-formed hint of a type in
 * [lo, hi], else why not; for the error message before closing. */
static inline const char *af_hint_check(const struct af_hint *m, long n, unsigned lo,
					unsigned hi)
{
	if (n != (long)sizeof(*m))
		return "message of the wrong size (not a hint socket?)";
	if (m->magic != AF_HINT_MAGIC)
		return "bad magic (not a hint socket?)";
	if (m->version != AF_HINT_VERSION)
		return "another hint protocol version (run an antfarm-agent and an "
		       "antfarm-blk of the same release)";
	if (m->type < lo || m->type > hi)
		return "a message type this side does not take";
	return "";
}

static inline uint64_t af_hint_proc(uint64_t as, uint32_t gen)
{
	/* roots are page-aligned guest-physical addresses below 2^52: the
	 * low 12 and high 12 bits are free to carry 24 bits of generation */
	return (as & 0x000ffffffffff000ull) | (gen & 0xfffull) |
	       ((uint64_t)(gen >> 12) & 0xfff) << 52;
}

#endif
