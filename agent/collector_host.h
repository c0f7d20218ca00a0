/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Host detection for the collector: KVM flavour, tracepoints in BTF. */
#ifndef ANTFARM_COLLECTOR_HOST_H
#define ANTFARM_COLLECTOR_HOST_H

#include <stddef.h>
#include "collector.h"

struct btf;

struct af_host_info {
	enum af_host_kind kind;
	int forced;		/* kind came from af_collector_opts.force_host */
	int exit_vcpu_arg;	/* kvm_exit: index of the vcpu argument (5.15: 1) */
	unsigned hf_guest_mask;	/* HF_GUEST_MASK of this kernel (not in BTF) */
	unsigned svm_vmcb_off;	/* offsetof(struct vcpu_svm, vmcb) from kvm_amd BTF; 0 = unknown */
	struct btf *vmlinux;	/* kernel BTF */
	struct btf *kvm;	/* kvm module BTF, NULL when KVM is built in */
	char warning[256];	/* something the user should know; empty if none */
};

/* Fills h; returns -errno with a sentence in err when BTF is unusable. */
int af_host_detect(struct af_host_info *h, enum af_host_kind force, char *err, size_t errlen);
void af_host_free(struct af_host_info *h);

/* Does tracepoint 'name' exist (btf_trace_<name> typedef in kernel or kvm BTF)? */
int af_host_has_tp(const struct af_host_info *h, const char *name);

const char *af_host_fidelity_note(const struct af_host_info *h);

#endif
