/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The guest's flat binary (guest.S, built first), linked into asvmm. */
	.section .rodata
	.globl	asvmm_guest, asvmm_guest_end
	.balign	16
asvmm_guest:
	.incbin	GUEST_BIN
asvmm_guest_end:
	.section .note.GNU-stack, "", @progbits
