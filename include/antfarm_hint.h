/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Process hints, antfarm-agent -> antfarm-blk.  The agent connects to the
 * backend's hint socket (SOCK_SEQPACKET, antfarm-blk --hints PATH) and sends
 * one struct af_hint per message.  The backend never answers; a malformed
 * message (wrong size, magic or version) closes that connection.
 *
 * proc = af_hint_proc(as, gen): one key per guest process for the life of
 * the VM.  NOTIFY says: vCPU 'vcpu' of VM 'vm_pid' wrote 'value' to the
 * doorbell at 'addr' (virtio QueueNotify: value = queue index) while
 * process 'proc' was current, at ts_ns (CLOCK_MONOTONIC).
 */
#ifndef ANTFARM_HINT_H
#define ANTFARM_HINT_H

#include <stdint.h>

#define AF_HINT_MAGIC   0x41464831u	/* "AFH1" */
#define AF_HINT_VERSION 1

enum af_hint_type {
	AF_HINT_NOTIFY = 1,
	AF_HINT_CREATE = 2,
	AF_HINT_EXIT   = 3,
	AF_HINT_VM_EXIT = 4,
};

struct af_hint {
	uint32_t magic;
	uint16_t version;
	uint16_t type;		/* enum af_hint_type */
	uint32_t vm_pid;
	uint32_t vcpu;
	uint64_t ts_ns;
	uint64_t proc;
	uint64_t addr;
	uint64_t value;
};

_Static_assert(sizeof(struct af_hint) == 48, "af_hint ABI size");

static inline uint64_t af_hint_proc(uint64_t as, uint32_t gen)
{
	/* roots are page-aligned guest-physical addresses below 2^52: the
	 * low 12 and high 12 bits are free to carry 24 bits of generation */
	return (as & 0x000ffffffffff000ull) | (gen & 0xfffull) |
	       ((uint64_t)(gen >> 12) & 0xfff) << 52;
}

#endif
