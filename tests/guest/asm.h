/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Constants shared by boot.S and the C kernel. */
#ifndef GUEST_ASM_H
#define GUEST_ASM_H

#define KCODE    0x08
#define KDATA    0x10
#define UDATA    0x18
#define UCODE    0x20
#define KCODE32  0x28
#define TSS_SEL  0x30		/* + 16 * cpu */
#define MAXCPU   4
#define NVEC     49		/* stubs for vectors 0..48 */
#define TF_CS    (18 * 8)	/* offset of cs in struct trapframe */
#define TRAMPOLINE 0x8000	/* AP start page (SIPI vector 0x08) */

#endif
