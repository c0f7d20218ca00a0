// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The floor of the overhead benchmark: programs that do nothing, on the
 * tracepoints antfarm-agent uses.  What a guest pays for them is what
 * enabling the tracepoints and entering a BPF program costs, before any of
 * the agent's work.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define EMPTY(tp) SEC("tp_btf/" #tp) int BPF_PROG(floor_##tp) { return 0; }

EMPTY(kvm_emulate_insn)
EMPTY(kvm_mmu_get_page)
EMPTY(kvm_mmu_prepare_zap_page)
EMPTY(kvm_mmu_zap_all_fast)
EMPTY(kvm_page_fault)
EMPTY(sched_process_exit)
EMPTY(kvm_mmio)
EMPTY(kvm_fast_mmio)
EMPTY(kvm_pio)
