/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VM names, found in userspace from the VMM's pid and cached: QEMU's
 * "-name guest=NAME,..." or "-name NAME" on its command line (libvirt
 * starts QEMU with -name guest=DOMAIN), else the libvirt domain whose
 * status file (/run/libvirt/qemu/DOMAIN.xml) names that pid, else the
 * VMM's comm.  A name is looked up once per VM and again when the VM is
 * seen new (vm-new: the pid may have been reused).  Names come from
 * whoever started the VMM: they are untrusted text, cut to VMNAME_MAX - 1
 * bytes, and escaped wherever they are written.
 */
#ifndef AF_VMNAME_H
#define AF_VMNAME_H

#include <stddef.h>
#include <stdint.h>

#define VMNAME_MAX 64

struct vmnames;

/* libvirt_dir: where libvirt keeps its QEMU status files (NULL: the
 * default, /run/libvirt/qemu). */
struct vmnames *vmnames_new(const char *libvirt_dir);
void vmnames_free(struct vmnames *n);
/* The name of the VM whose VMM is pid ("" when none can be found). */
const char *vmname(struct vmnames *n, uint32_t pid);
/* Look pid up again at its next use. */
void vmname_forget(struct vmnames *n, uint32_t pid);

/* The parsers, for tests: the name in a NUL-separated command line of
 * len bytes, or in a libvirt status file's text for pid; 0 if found. */
int vmname_from_cmdline(const char *argv, size_t len, char *out, size_t size);
int vmname_libvirt_pid(const char *xml, uint32_t pid);

#endif
