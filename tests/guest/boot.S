/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * PVH entry (32-bit protected mode, paging off, %ebx = hvm_start_info),
 * switch to long mode with an identity map of the first 4 GiB in 2 MiB
 * pages (PML4 slot 0 = the kernel half), trap stubs, context switch, the
 * AP trampoline and the two user system-call stubs.
 */
#include "asm.h"

	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18			/* namesz, descsz, XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start

	.section .boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	movl %ebx, boot_info
	movl $boot_stack_top, %esp
	call build_boot_tables
	movl $boot_pml4, %eax
	call enter_long32
	ljmp $KCODE, $long_entry

/* Identity map 0-4 GiB: pml4[0] -> pdpt, pdpt[0..3] -> pd0..pd3. */
build_boot_tables:
	movl $boot_pdpt + 3, boot_pml4
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd + 3, %eax
	movl %eax, boot_pdpt(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax			/* present, writable, 2 MiB */
	movl %eax, boot_pd(,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax			/* high dword: bits 32+ of the address */
	movl %eax, boot_pd+4(,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jb 2b
	ret

/* %eax = PML4 physical address: PAE, EFER.LME, paging, 64-bit GDT. */
enter_long32:
	movl %eax, %cr3
	movl %cr4, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	lgdt gdt_ptr
	ret

	.code64
long_entry:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	movl boot_info, %edi
	call kmain
1:	hlt
	jmp 1b

/*
 * AP trampoline, copied to TRAMPOLINE (4 KiB aligned, below 1 MiB) and
 * started by SIPI in real mode.  It reaches protected mode, then long mode
 * on the kernel page tables, and calls ap_main on the stack in ap_stack.
 */
	.code16
	.globl ap_tramp, ap_tramp_end
ap_tramp:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TRAMPOLINE + (ap_gdt_ptr - ap_tramp)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $KCODE32, $(TRAMPOLINE + (ap_prot - ap_tramp))
	.code32
ap_prot:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $boot_pml4, %eax
	movl $ap_stack_tmp, %esp
	movl $enter_long32, %ebx	/* absolute: this code runs from a copy */
	call *%ebx
	ljmp $KCODE, $ap_long
	.balign 8
ap_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
ap_tramp_end:

	.code64
ap_long:
	movw $KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq ap_stack, %rsp
	call ap_main
1:	hlt
	jmp 1b

/* Trap stubs: push a dummy error code where the CPU does not push one. */
.macro stub n
	.balign 16
	.if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
.endm

	.text
	.altmacro
	.globl trap_stubs
	.balign 16
trap_stubs:
	.set i, 0
	.rept NVEC
	stub %i
	.set i, i + 1
	.endr
	.noaltmacro

/*
 * Entry from ring 3 with KPTI on: move from the user root to the kernel
 * root of the pair (clear bit 12 of CR3); the reverse on the way out.
 */
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	testb $3, TF_CS(%rsp)
	jz 1f
	cmpb $0, kpti_on
	je 1f
	movq %cr3, %rax
	btrq $12, %rax
	movq %rax, %cr3
	incq kpti_flips
1:	movq %rsp, %rdi
	cld
	call trap
	.globl trap_ret
trap_ret:
	testb $3, TF_CS(%rsp)
	jz 1f
	cmpb $0, kpti_on
	je 1f
	movq %cr3, %rax
	btsq $12, %rax
	movq %rax, %cr3
	incq kpti_flips
1:	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* void swtch(u64 *save_rsp, u64 new_rsp): callee-saved registers only. */
	.globl swtch
swtch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* First run of a task: to user through trap_ret (dropping the big lock), or kthread. */
	.globl task_first_user, task_first_kthread
task_first_user:
	call sched_tail
	jmp trap_ret
task_first_kthread:
	movq %r13, %rdi
	call *%r12
1:	hlt
	jmp 1b

/* The system-call stubs: long sys(nr, a, b, c).  One is copied to the vdso page. */
	.globl sys_stub_int3, sys_stub_ud2, sys_stub_end
sys_stub_int3:
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	movq %rcx, %rdx
	int3
	ret
sys_stub_ud2:
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	movq %rcx, %rdx
	ud2
	ret
sys_stub_end:

	.data
	.balign 16
	.globl gdt, gdt_ptr
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* KCODE: 64-bit ring 0 */
	.quad 0x00cf92000000ffff	/* KDATA */
	.quad 0x00cff2000000ffff	/* UDATA: ring 3 */
	.quad 0x00affa000000ffff	/* UCODE: 64-bit ring 3 */
	.quad 0x00cf9a000000ffff	/* KCODE32: for the AP trampoline */
	.fill 2 * MAXCPU, 8, 0		/* one 16-byte TSS descriptor per CPU */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.bss
	/* 8 KiB, as a KPTI kernel aligns its own root (the pair slot): an odd
	 * page would look like the user half of a pair at the page below */
	.balign 8192
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4 * 4096
	.skip 8192
boot_stack_top:
	.skip 256
ap_stack_tmp:
	.globl boot_info, ap_stack
boot_info:	.long 0
	.balign 8
ap_stack:	.quad 0
.section .note.GNU-stack,"",@progbits
