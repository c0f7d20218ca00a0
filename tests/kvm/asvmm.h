/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * asvmm: the contract between the test VMM (asvmm.c, script.c) and its
 * ring-0 guest (guest.S): guest-physical layout, I/O ports, op codes.
 * Included by the assembler too, so only #defines outside the C part.
 *
 * The guest runs in 64-bit ring 0 in the kernel half: PML4 slot 256 maps
 * guest-physical 0..1 GiB at KERN_BASE with 2 MiB pages.  Every root the
 * guest builds copies that one entry, so switching roots never unmaps the
 * code; slots 0..255 are the user half a process owns.
 */
#ifndef ASVMM_H
#define ASVMM_H

#define KERN_BASE	0xffff800000000000	/* VA of guest-physical 0 */
#define KERN_SLOT	256			/* its PML4 index */

/* guest-physical layout */
#define GDT_GPA		0x1000		/* null, code64 0x08, data 0x10, TSS 0x18 */
#define TSS_GPA		0x1800
#define IDT_GPA		0x2000		/* 32 exception gates */
#define STATUS_GPA	0x3000		/* per vCPU: address of the op under way */
#define CODE_GPA	0x8000		/* guest.bin, at most CODE_MAX bytes */
#define CODE_MAX	0x8000
#define STUBS_OFF	0x100		/* exception stubs in guest.bin, 16 bytes each */
#define STACK_GPA	0x10000		/* per vCPU, STACK_SIZE each */
#define STACK_SIZE	0x4000
#define GARBAGE_GPA	0x20000		/* a page of PRNG bytes, source of scribbles */
#define FLAGS_GPA	0x40000		/* WAIT/SIGNAL words, one u64 each */
#define FLAGS_MAX	0x18000		/* up to 0x100000 */
#define BOOT_ROOT	0x100000	/* kernel-only PML4, never freed */
#define KERN_PDPT	0x101000
#define KERN_PD		0x102000
#define OPS_GPA		0x200000	/* op lists of all vCPUs, back to back */
#define OPS_END		0x1000000
#define ROOT_POOL	0x1000000	/* root slots, 8 KiB each (K, K + 4 KiB) */
#define ROOT_SLOTS	2048
#define USER_POOL	0x2000000	/* per root slot, 2 banks of USER_PAGES pages: to 0xa000000 */
#define USER_PAGES	8
#define MEM_SIZE	0x10000000	/* slot 0: 256 MiB */
#define XSLOT_GPA	0x20000000	/* the extra memslot (inside the 1 GiB map) */
#define XSLOT_SIZE	0x200000
#define XSLOT_MAGIC	0x61736d656d736c74	/* written by the guest after an add */

#define MAX_VCPUS	4

/* I/O ports: the guest writes a 32-bit value with "out %eax, %dx" */
#define PORT_MARK	0xaf0		/* value: mark id; the VMM stamps CLOCK_MONOTONIC */
#define PORT_WAIT	0xaf1		/* value: flag index still 0: block until set */
#define PORT_SIGNAL	0xaf2		/* value: flag index just set: wake its waiters */
#define PORT_MEMSLOT	0xaf3		/* value: 1 add the extra slot, 0 remove it */
#define PORT_DONE	0xaf4		/* value: 0; this vCPU's script is over */
#define PORT_FAULT	0xaf5		/* rdi vector, rsi rip, rbx error code, rcx cr2 */

/* ops: 32 bytes, { u32 code; u32 mark; u64 a, b, c; }; a non-zero mark is
 * written to PORT_MARK after the op is done */
#define OP_SIZE		32
#define OP_END		0	/* PORT_DONE, then hlt */
#define OP_NOP		1	/* nothing (carries a mark) */
#define OP_BUILD	2	/* a root, b user entries, c their first page: zero
				   root, copy the kernel entry, zero and link b pages
				   at slots 0..b-1 */
#define OP_LOAD		3	/* a: value for mov to cr3 */
#define OP_SPIN		4	/* a: loop iterations */
#define OP_CLEAR	5	/* a root: zero its user half (256 entries) */
#define OP_SCRIBBLE	6	/* a page: copy the garbage page over it */
#define OP_ZERO		7	/* a page: zero it */
#define OP_SETENT	8	/* a root, b index, c value: one PML4 entry */
#define OP_WAIT		9	/* a flag index: until it is non-zero */
#define OP_SIGNAL	10	/* a flag index: set it */
#define OP_MEMSLOT	11	/* a: 1 add, 0 remove; after an add, write XSLOT_MAGIC */
#define OP_FAULT	12	/* a: 1 ud2, 2 read an unmapped address (tests the VMM) */
#define OP_MAX		12

#define PTE_P		0x1
#define PTE_RW		0x2
#define PTE_US		0x4
#define PTE_PS		0x80
#define CR3_NOFLUSH	(1ull << 63)

#ifndef __ASSEMBLER__
#include <stdint.h>

struct as_op {
	uint32_t code;
	uint32_t mark;
	uint64_t a, b, c;
};

_Static_assert(sizeof(struct as_op) == OP_SIZE, "op layout shared with guest.S");
#endif

#endif
