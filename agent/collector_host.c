// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What kind of KVM host is this?  The answer decides which CR3 signal the
 * BPF side uses (docs/kvm-tracepoints.md): emulation (kvm_pvm), kvm_cr
 * (shadow paging), VMCB sampling at exits (AMD NPT) or cached-CR3
 * sampling at entries (Intel EPT).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/btf.h>
#include "collector_host.h"

/* Reads a module parameter: 1 for Y/1, 0 for N/0, -1 when absent. */
static int read_bool_param(const char *path)
{
	char buf[8] = "";
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return buf[0] == 'Y' || buf[0] == 'y' || buf[0] == '1';
}

static enum af_host_kind detect_kind(void)
{
	int ept = read_bool_param("/sys/module/kvm_intel/parameters/ept");
	int npt = read_bool_param("/sys/module/kvm_amd/parameters/npt");

	if (ept >= 0)
		return ept ? AF_HOST_VMX_EPT : AF_HOST_VMX_SHADOW;
	if (npt >= 0)
		return npt ? AF_HOST_SVM_NPT : AF_HOST_SVM_SHADOW;
	if (access("/sys/module/kvm_pvm", F_OK) == 0)
		return AF_HOST_PVM;
	return AF_HOST_UNKNOWN;
}

const char *af_host_kind_name(enum af_host_kind k)
{
	switch (k) {
	case AF_HOST_PVM:		return "pvm";
	case AF_HOST_VMX_EPT:		return "intel-ept";
	case AF_HOST_VMX_SHADOW:	return "intel-shadow";
	case AF_HOST_SVM_NPT:		return "amd-npt";
	case AF_HOST_SVM_SHADOW:	return "amd-shadow";
	default:			return "unknown";
	}
}

static int find_tp(const struct btf *b, const char *name)
{
	char tn[128];

	if (!b)
		return -ENOENT;
	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	return btf__find_by_name_kind(b, tn, BTF_KIND_TYPEDEF);
}

int af_host_has_tp(const struct af_host_info *h, const char *name)
{
	return find_tp(h->vmlinux, name) > 0 || find_tp(h->kvm, name) > 0;
}

/* kvm_exit is (exit_reason, vcpu, isa) on 5.15 and (vcpu, isa) since 6.1. */
static int exit_vcpu_arg(const struct af_host_info *h)
{
	const struct btf *b = h->kvm;
	const struct btf_type *t;
	int id = find_tp(b, "kvm_exit");

	if (id <= 0) {
		b = h->vmlinux;
		id = find_tp(b, "kvm_exit");
	}
	if (id <= 0)
		return 0;
	t = btf__type_by_id(b, btf__type_by_id(b, id)->type);	/* typedef -> ptr */
	if (!t || !btf_is_ptr(t))
		return 0;
	t = btf__type_by_id(b, t->type);			/* ptr -> func_proto */
	if (!t || !btf_is_func_proto(t))
		return 0;
	return btf_vlen(t) == 4 ? 1 : 0;	/* void *__data first */
}

/* HF_GUEST_MASK is a #define (not in BTF): bit 5 up to 6.5, bit 0 since 6.6. */
static unsigned hf_guest_mask(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &major, &minor);
	return major > 6 || (major == 6 && minor >= 6) ? 1u << 0 : 1u << 5;
}

/* offsetof(struct vcpu_svm, vmcb), from kvm_amd's module BTF when loaded. */
static unsigned svm_vmcb_offset(const struct af_host_info *h)
{
	const struct btf_member *m;
	const struct btf_type *t;
	struct btf *b;
	unsigned off = 0;
	int id, i;

	if (access("/sys/kernel/btf/kvm_amd", F_OK) != 0)
		return 0;
	b = btf__load_module_btf("kvm_amd", h->vmlinux);
	if (!b)
		return 0;
	id = btf__find_by_name_kind(b, "vcpu_svm", BTF_KIND_STRUCT);
	t = id > 0 ? btf__type_by_id(b, id) : NULL;
	for (i = 0, m = t ? btf_members(t) : NULL; t && i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(b, m->name_off), "vmcb"))
			off = btf_member_bit_offset(t, i) / 8;
	btf__free(b);
	return off;
}

int af_host_detect(struct af_host_info *h, enum af_host_kind force, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	h->kind = force ? force : detect_kind();
	h->forced = force != 0;
	h->vmlinux = btf__load_vmlinux_btf();
	if (!h->vmlinux) {
		int e = -errno;

		snprintf(err, errlen, "cannot read kernel BTF: %s", strerror(-e));
		return e;
	}
	if (access("/sys/kernel/btf/kvm", F_OK) == 0)
		h->kvm = btf__load_module_btf("kvm", h->vmlinux);
	h->exit_vcpu_arg = exit_vcpu_arg(h);
	h->hf_guest_mask = hf_guest_mask();
	h->svm_vmcb_off = svm_vmcb_offset(h);
	if (access("/dev/kvm", F_OK) != 0)
		snprintf(h->warning, sizeof(h->warning),
			 "no /dev/kvm on this machine (host kind %s): no VM can run here, so no "
			 "guest processes will be seen; the programs are loaded anyway",
			 af_host_kind_name(h->kind));
	return 0;
}

void af_host_free(struct af_host_info *h)
{
	btf__free(h->kvm);
	btf__free(h->vmlinux);
	h->kvm = h->vmlinux = NULL;
}

const char *af_host_fidelity_note(const struct af_host_info *h)
{
	switch (h->kind) {
	case AF_HOST_PVM:
		return "kvm_pvm: guest kernel code is emulated, every CR3 load is seen at "
		       "kvm_emulate_insn (full fidelity); root teardown is visible";
	case AF_HOST_VMX_EPT:
		return "Intel EPT: CR3 loads do not exit; CR3 is sampled only when KVM caches it "
		       "(often never), and exits come from an idle timeout. Load kvm_intel with "
		       "ept=0 for full fidelity (every CR3 load exits)";
	case AF_HOST_VMX_SHADOW:
		return "Intel ept=0 (shadow paging): every CR3 load is seen (kvm_cr): full fidelity";
	case AF_HOST_SVM_NPT:
		return "AMD NPT: CR3 sampled at every VM exit, switches between exits are missed "
		       "and exits come from an idle timeout; kvm_amd npt=0 gives full fidelity";
	case AF_HOST_SVM_SHADOW:
		return "AMD npt=0 (shadow paging): every CR3 load is seen (kvm_cr): full fidelity";
	default:
		return "unknown KVM host: no kvm_intel, kvm_amd or kvm_pvm module found";
	}
}
