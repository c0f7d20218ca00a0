// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The userspace shim for bpf/infer.h (see shim.h). */
#define AF_SHIM_NO_INFER
#include "shim.h"

#define SHIM_RING 4096

struct shim_map procs = { .ksz = sizeof(struct af_as_key), .vsz = sizeof(struct af_as_val) };
struct shim_map vms = { .ksz = sizeof(__u64), .vsz = sizeof(struct af_vm_val) };
struct shim_map vcpus = { .ksz = sizeof(struct af_vcpu_key), .vsz = sizeof(struct af_vcpu_val) };
struct shim_map cr3_cache = { .ksz = sizeof(__u32), .vsz = sizeof(struct af_cr3_cache) };

struct af_event shim_ring[SHIM_RING];
int shim_ring_n, shim_ring_cap = SHIM_RING;
__u64 shim_drops[AF_PROG_MAX], shim_events[AF_EV_MAX];
__u64 state_seq, shim_seq, shim_now;
__u32 cfg_want_switch = 1, cfg_exit_mode, cfg_emulate_full = 1, cfg_teardown_invisible;
__u64 cfg_idle_ns, cfg_keep_ns;
__u32 cfg_max_live = SHIM_CAP, cfg_lifecycle;
__u64 shim_stats[AF_STAT_MAX];

static int find(struct shim_map *m, const void *k)
{
	int i;

	for (i = 0; i < SHIM_CAP; i++)
		if (m->used[i] && !memcmp(m->key[i], k, m->ksz))
			return i;
	return -1;
}

void *shim_lookup(struct shim_map *m, const void *k)
{
	int i = find(m, k);

	return i < 0 ? NULL : m->val[i];
}

int shim_update(struct shim_map *m, const void *k, const void *v)
{
	int i = find(m, k);

	for (int j = 0; i < 0 && j < SHIM_CAP; j++)
		if (!m->used[j])
			i = j;
	if (i < 0)
		return -1;	/* full, like -E2BIG */
	m->used[i] = 1;
	memcpy(m->key[i], k, m->ksz);
	memcpy(m->val[i], v, m->vsz);
	return 0;
}

int shim_delete(struct shim_map *m, const void *k)
{
	int i = find(m, k);

	if (i < 0)
		return -1;
	m->used[i] = 0;
	return 0;
}

void shim_for_each(struct shim_map *m,
		   long (*cb)(struct bpf_map *, const void *, void *, void *), void *ctx)
{
	int i;

	for (i = 0; i < SHIM_CAP; i++)
		if (m->used[i] && cb((struct bpf_map *)m, m->key[i], m->val[i], ctx))
			break;
}

/* Root digests by (VM, gfn): what af_root_digest reads in BPF from guest
 * memory.  Unknown pages read as unreadable (0). */
static struct shim_map digests = { .ksz = 2 * sizeof(__u64), .vsz = sizeof(__u64) };
int shim_records, shim_digest_reads;

void shim_set_digest(__u64 vm_key, __u64 gfn, __u64 d)
{
	__u64 k[2] = { vm_key, gfn };

	shim_update(&digests, k, &d);
}

__u64 af_root_digest(struct af_cx *cx, __u64 gfn)
{
	__u64 k[2] = { cx->vm_key, gfn }, *d = shim_lookup(&digests, k);

	shim_digest_reads++;
	return d ? *d : 0;
}

void af_digest_fed(struct af_cx *cx, __u64 gfn, __u64 d)
{
	shim_set_digest(cx->vm_key, gfn, d);
}

int shim_unshadowed;

int af_unshadowed_put(struct af_cx *cx, __u64 as, __u64 digest)
{
	shim_unshadowed++;
	return 0;
}

void af_unshadowed_del(struct af_cx *cx, __u64 as)
{
	shim_unshadowed--;
}

void shim_record(__u64 kind, __u64 a, __u64 b, __u64 c)
{
	shim_records++;
}

void shim_reset(void)
{
	struct shim_map *all[] = { &procs, &vms, &vcpus, &cr3_cache, &digests };
	__u32 zero = 0;
	struct af_cr3_cache c = {};

	for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		memset(all[i]->used, 0, sizeof(all[i]->used));
	shim_update(&cr3_cache, &zero, &c);	/* a per-CPU array always has its slot */
	shim_ring_n = 0;
	shim_ring_cap = SHIM_RING;
	shim_unshadowed = 0;
	memset(shim_drops, 0, sizeof(shim_drops));
	memset(shim_events, 0, sizeof(shim_events));
	state_seq = shim_seq = 0;
	cfg_want_switch = 1;
	cfg_exit_mode = AF_EXITMODE_NONE;
	cfg_emulate_full = 1;
	cfg_teardown_invisible = 0;
	cfg_idle_ns = 0;
	cfg_keep_ns = 0;
	cfg_max_live = SHIM_CAP;
	memset(shim_stats, 0, sizeof(shim_stats));
}
