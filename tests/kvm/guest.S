/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * asvmm's guest: a ring-0 interpreter of the op list the VMM wrote into
 * guest memory (asvmm.h).  Flat binary loaded at KERN_BASE + CODE_GPA,
 * entered in 64-bit mode with
 *   rdi = VA of this vCPU's first op, rsi = vCPU index, rsp = its stack.
 * Under kvm_pvm every instruction here is emulated, so each op is a few
 * instructions; page-sized work is one rep string instruction.
 *
 * Registers kept across ops: r15 KERN_BASE, r14 the op, r12 this vCPU's
 * status word (the op under way, read by the VMM's watchdog).
 */
#include "asvmm.h"

	.text
	.code64
	.globl	_start
_start:
	jmp	start

/* Exception stubs, 16 bytes apart at STUBS_OFF (the VMM points the IDT
 * here): push a dummy error code where the CPU pushes none, then the
 * vector.  All in .text: the flat binary is that one section. */
	.org	STUBS_OFF
	.macro	stub vec
	.balign	16
	.if (\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq	$\vec
	.else
	pushq	$0
	pushq	$\vec
	.endif
	jmp	fault
	.endm
	.irp	v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	stub	\v
	.endr

fault:
	pop	%rdi			/* vector */
	pop	%rbx			/* error code */
	mov	(%rsp), %rsi		/* rip */
	mov	%cr2, %rcx
report:
	mov	$PORT_FAULT, %dx
	out	%eax, %dx
1:	hlt
	jmp	1b

start:
	movabs	$KERN_BASE, %r15
	mov	%rdi, %r14
	lea	STATUS_GPA(%r15,%rsi,8), %r12
	jmp	next

/* one op: r8, r9, r10 = a, b, c */
next:
	mov	%r14, (%r12)
	mov	(%r14), %eax
	mov	8(%r14), %r8
	mov	16(%r14), %r9
	mov	24(%r14), %r10
	cmp	$OP_MAX, %eax
	ja	bad_op
	lea	optab(%rip), %r11
	movslq	(%r11,%rax,4), %rax
	add	%r11, %rax
	jmp	*%rax

done:
	mov	4(%r14), %eax
	test	%eax, %eax
	jz	1f
	mov	$PORT_MARK, %dx
	out	%eax, %dx
1:	add	$OP_SIZE, %r14
	jmp	next

op_end:
	xor	%eax, %eax
	mov	$PORT_DONE, %dx
	out	%eax, %dx
1:	hlt
	jmp	1b

op_nop:
	jmp	done

op_build:
	lea	(%r15,%r8), %rdi
	xor	%eax, %eax
	mov	$512, %ecx
	rep stosq
	mov	BOOT_ROOT + KERN_SLOT * 8(%r15), %rax
	mov	%rax, KERN_SLOT * 8(%r15,%r8)
	xor	%ebx, %ebx			/* user entry index */
2:	cmp	%r9, %rbx
	jae	done
	lea	(%r15,%r10), %rdi
	xor	%eax, %eax
	mov	$512, %ecx
	rep stosq
	lea	PTE_P + PTE_RW + PTE_US(%r10), %rax
	mov	%rax, (%r15,%r8)
	add	$8, %r8
	add	$4096, %r10
	inc	%rbx
	jmp	2b

op_load:
	mov	%r8, %cr3
	jmp	done

op_spin:
	mov	%r8, %rcx
	test	%rcx, %rcx
	jz	done
1:	dec	%rcx
	jnz	1b
	jmp	done

op_clear:
	lea	(%r15,%r8), %rdi
	xor	%eax, %eax
	mov	$256, %ecx
	rep stosq
	jmp	done

op_scribble:
	lea	GARBAGE_GPA(%r15), %rsi
	lea	(%r15,%r8), %rdi
	mov	$512, %ecx
	rep movsq
	jmp	done

op_zero:
	lea	(%r15,%r8), %rdi
	xor	%eax, %eax
	mov	$512, %ecx
	rep stosq
	jmp	done

op_setent:
	lea	(%r15,%r8), %rdi
	mov	%r10, (%rdi,%r9,8)
	jmp	done

op_wait:
	lea	FLAGS_GPA(%r15,%r8,8), %rbx
1:	cmpq	$0, (%rbx)
	jne	done
	mov	%r8d, %eax
	mov	$PORT_WAIT, %dx
	out	%eax, %dx
	jmp	1b

op_signal:
	movq	$1, FLAGS_GPA(%r15,%r8,8)
	mov	%r8d, %eax
	mov	$PORT_SIGNAL, %dx
	out	%eax, %dx
	jmp	done

op_memslot:
	mov	%r8d, %eax
	mov	$PORT_MEMSLOT, %dx
	out	%eax, %dx
	test	%r8, %r8
	jz	done
	movabs	$XSLOT_MAGIC, %rax
	mov	%rax, XSLOT_GPA(%r15)
	jmp	done

op_fault:
	cmp	$1, %r8
	jne	1f
	ud2
1:	mov	0x1000, %rax			/* PML4 slot 0: not mapped */
	jmp	done

bad_op:
	mov	$0xff, %edi			/* reported as vector 255 */
	mov	%r14, %rsi
	xor	%ebx, %ebx
	xor	%ecx, %ecx
	jmp	report

	.balign	4
optab:
	.long	op_end - optab, op_nop - optab, op_build - optab, op_load - optab
	.long	op_spin - optab, op_clear - optab, op_scribble - optab, op_zero - optab
	.long	op_setent - optab, op_wait - optab, op_signal - optab, op_memslot - optab
	.long	op_fault - optab

