/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * VM names from the VMM's pid (vmname.h).  The cache is a small hash of
 * pids; a miss reads /proc/PID/cmdline (and, without -name, the libvirt
 * status files, then /proc/PID/comm) once, in the agent's loop: a few
 * small reads per new VM.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "vmname.h"

#define NBUCKETS 256
#define MAX_ENTRIES 4096		/* VMs remembered; past it the cache starts over */
#define CMDLINE_MAX (256 * 1024)
#define DEFAULT_LIBVIRT_DIR "/run/libvirt/qemu"

struct vmname_entry {
	uint32_t pid;
	char name[VMNAME_MAX];
	struct vmname_entry *next;
};

struct vmnames {
	struct vmname_entry *b[NBUCKETS];
	unsigned n;
	char libvirt_dir[256];
};

struct vmnames *vmnames_new(const char *libvirt_dir)
{
	struct vmnames *n = calloc(1, sizeof(*n));

	if (n)
		snprintf(n->libvirt_dir, sizeof(n->libvirt_dir), "%s",
			 libvirt_dir ? libvirt_dir : DEFAULT_LIBVIRT_DIR);
	return n;
}

static void clear(struct vmnames *n)
{
	for (unsigned i = 0; i < NBUCKETS; i++)
		while (n->b[i]) {
			struct vmname_entry *e = n->b[i];
			n->b[i] = e->next;
			free(e);
		}
	n->n = 0;
}

void vmnames_free(struct vmnames *n)
{
	if (!n)
		return;
	clear(n);
	free(n);
}

/* Copies at most size - 1 bytes of s[0..len) that are not control characters. */
static void copy_name(char *out, size_t size, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++)
		if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
			out[o++] = s[i];
	out[o] = 0;
}

/* One element of a QEMU option value, split at single commas (",," is a
 * literal comma), into out; returns the position after it. */
static const char *opt_elem(const char *p, char *out, size_t size)
{
	size_t o = 0;

	for (; *p; p++) {
		if (*p == ',') {
			if (p[1] != ',')
				break;
			p++;
		}
		if (o + 1 < size)
			out[o++] = *p;
	}
	out[o] = 0;
	return *p ? p + 1 : p;
}

/* -name's value: "NAME[,k=v...]" or "guest=NAME[,...]" (any position). */
static int name_from_opt(const char *v, char *out, size_t size)
{
	char elem[VMNAME_MAX * 4];
	int first = 1, found = 0;

	while (*v) {
		v = opt_elem(v, elem, sizeof(elem));
		if (!strncmp(elem, "guest=", 6)) {
			copy_name(out, size, elem + 6, strlen(elem + 6));
			return out[0] ? 0 : -1;
		}
		if (first && !strchr(elem, '=')) {
			copy_name(out, size, elem, strlen(elem));
			found = out[0] != 0;
		}
		first = 0;
	}
	return found ? 0 : -1;
}

int vmname_from_cmdline(const char *argv, size_t len, char *out, size_t size)
{
	const char *end = argv + len, *arg = argv;

	while (arg < end) {
		const char *next = memchr(arg, 0, end - arg);

		if (!next)
			break;
		if ((!strcmp(arg, "-name") || !strcmp(arg, "--name")) && next + 1 < end &&
		    memchr(next + 1, 0, end - next - 1))
			return name_from_opt(next + 1, out, size);
		arg = next + 1;
	}
	return -1;
}

/* Reads up to max - 1 bytes of path, NUL-terminated; its length or -1. */
static ssize_t read_file(const char *path, char *buf, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t r;

	if (fd < 0)
		return -1;
	while (len + 1 < max && (r = read(fd, buf + len, max - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = 0;
	return len;
}

int vmname_libvirt_pid(const char *xml, uint32_t pid)
{
	const char *p = strstr(xml, "<domstatus");
	char want[32];
	const char *end;

	if (!p)
		return 0;
	end = strchr(p, '>');
	snprintf(want, sizeof(want), " pid='%u'", pid);
	p = strstr(p, want);
	if (!p || (end && p > end)) {
		snprintf(want, sizeof(want), " pid=\"%u\"", pid);
		p = strstr(xml, want);
	}
	return p && (!end || p < end);
}

/* The libvirt domain whose status file says its QEMU is pid. */
static int name_from_libvirt(struct vmnames *n, uint32_t pid, char *out, size_t size)
{
	DIR *d = opendir(n->libvirt_dir);
	struct dirent *de;
	char path[512], head[4096];
	int rc = -1;

	if (!d)
		return -1;
	while (rc && (de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (l <= 4 || strcmp(de->d_name + l - 4, ".xml"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", n->libvirt_dir, de->d_name);
		if (read_file(path, head, sizeof(head)) > 0 && vmname_libvirt_pid(head, pid)) {
			copy_name(out, size, de->d_name, l - 4);
			rc = out[0] ? 0 : -1;
		}
	}
	closedir(d);
	return rc;
}

static void resolve(struct vmnames *n, uint32_t pid, char *out, size_t size)
{
	char path[64];
	char *buf = malloc(CMDLINE_MAX);
	ssize_t len;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if (buf && (len = read_file(path, buf, CMDLINE_MAX)) > 0 &&
	    vmname_from_cmdline(buf, len, out, size) == 0)
		goto done;
	if (name_from_libvirt(n, pid, out, size) == 0)
		goto done;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (buf && (len = read_file(path, buf, 64)) > 0)
		copy_name(out, size, buf, len);	/* drops the newline */
done:
	free(buf);
}

const char *vmname(struct vmnames *n, uint32_t pid)
{
	struct vmname_entry **head = &n->b[pid % NBUCKETS], *e;

	for (e = *head; e; e = e->next)
		if (e->pid == pid)
			return e->name;
	if (n->n >= MAX_ENTRIES)
		clear(n);
	e = calloc(1, sizeof(*e));
	if (!e)
		return "";
	e->pid = pid;
	resolve(n, pid, e->name, sizeof(e->name));
	e->next = *head;
	*head = e;
	n->n++;
	return e->name;
}

void vmname_forget(struct vmnames *n, uint32_t pid)
{
	for (struct vmname_entry **p = &n->b[pid % NBUCKETS]; *p; p = &(*p)->next)
		if ((*p)->pid == pid) {
			struct vmname_entry *e = *p;
			*p = e->next;
			free(e);
			n->n--;
			return;
		}
}
