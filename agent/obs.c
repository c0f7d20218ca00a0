// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Observations as text lines (see obs.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "obs.h"

static const char *const kinds[AF_OBS_KIND_MAX + 1] = {
	[AF_OBS_CR3] = "cr3", [AF_OBS_ROOT_GET] = "get", [AF_OBS_ROOT_ZAP] = "zap",
	[AF_OBS_VM_DESTROY] = "destroy", [AF_OBS_NOTIFY] = "notify", [AF_OBS_TICK] = "tick",
	[AF_OBS_ZAP_ALL] = "zapall", [AF_OBS_VMM_EXIT] = "vmmexit", [AF_OBS_DIGEST] = "digest",
	[AF_OBS_VCPU] = "vcpu",
};

const char *af_obs_name(uint64_t kind)
{
	return kind <= AF_OBS_KIND_MAX ? kinds[kind] : NULL;
}

static int kind_of(const char *tok, uint64_t *out)
{
	for (unsigned k = 0; k <= AF_OBS_KIND_MAX; k++)
		if (kinds[k] && !strcmp(tok, kinds[k])) {
			*out = k;
			return 0;
		}
	return -1;
}

int af_obs_parse(const char *s, uint64_t args[AF_REPLAY_NARGS])
{
	char buf[512], *tok, *save, *end;
	int i = 0;

	memset(args, 0, sizeof(uint64_t) * AF_REPLAY_NARGS);
	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ": \t\r\n", &save); tok; tok = strtok_r(NULL, ": \t\r\n", &save)) {
		if (i == AF_REPLAY_NARGS)
			return -1;
		if (i == 0 && !kind_of(tok, &args[0])) {
			i++;
			continue;
		}
		errno = 0;
		args[i++] = strtoull(tok, &end, 0);
		if (errno || *end || *tok == '-')
			return -1;
	}
	return i ? 0 : 1;
}

int af_obs_format(char *buf, size_t len, const uint64_t a[AF_REPLAY_NARGS])
{
	const char *name = af_obs_name(a[0]);
	char kind[24];

	if (!name) {
		snprintf(kind, sizeof(kind), "%llu", (unsigned long long)a[0]);
		name = kind;
	}
	return snprintf(buf, len, "%s:%#llx:%llu:%llu:%#llx:%#llx:%#llx:%llu", name,
			(unsigned long long)a[1], (unsigned long long)a[2],
			(unsigned long long)a[3], (unsigned long long)a[4],
			(unsigned long long)a[5], (unsigned long long)a[6],
			(unsigned long long)a[7]);
}
