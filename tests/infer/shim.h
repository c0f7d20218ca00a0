/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Userspace stand-ins for what bpf/infer.h needs from BPF: hash maps,
 * the ring buffer, counters and configuration.  Small and linear: the
 * replay tests hold a few dozen entries.
 */
#ifndef AF_TEST_SHIM_H
#define AF_TEST_SHIM_H

#include <linux/types.h>
#include <string.h>
#include "antfarm_abi.h"
#include "infer_types.h"

#define SHIM_CAP  512
#define SHIM_KMAX 32
#define SHIM_VMAX 64

struct bpf_map;

struct shim_map {
	size_t ksz, vsz;
	unsigned char used[SHIM_CAP];
	unsigned char key[SHIM_CAP][SHIM_KMAX];
	unsigned char val[SHIM_CAP][SHIM_VMAX];
};

void *shim_lookup(struct shim_map *m, const void *k);
int shim_update(struct shim_map *m, const void *k, const void *v);
int shim_delete(struct shim_map *m, const void *k);
void shim_for_each(struct shim_map *m,
		   long (*cb)(struct bpf_map *, const void *, void *, void *), void *ctx);
void shim_reset(void);

extern struct shim_map procs, vms, vcpus, cr3_cache;
extern struct af_event shim_ring[];
extern int shim_ring_n, shim_ring_cap;
extern __u64 shim_drops[AF_PROG_MAX], shim_events[AF_EV_MAX];
extern __u64 state_seq, shim_seq, shim_now;
extern __u32 cfg_want_switch, cfg_exit_mode, cfg_emulate_full, cfg_teardown_invisible;
extern __u64 cfg_idle_ns, cfg_keep_ns;
extern __u32 cfg_max_live, cfg_lifecycle;
extern __u64 shim_stats[AF_STAT_MAX];

static inline struct af_event *shim_rb_reserve(void)
{
	return shim_ring_n < shim_ring_cap ? &shim_ring[shim_ring_n++] : NULL;
}

#define AF_INLINE		inline
#define AF_LOOKUP(m, k)		shim_lookup(&m, k)
#define AF_UPDATE(m, k, v)	shim_update(&m, k, v)
#define AF_DELETE(m, k)		shim_delete(&m, k)
#define AF_FOR_EACH(m, cb, c)	shim_for_each(&m, cb, c)
#define AF_RB_RESERVE()		shim_rb_reserve()
#define AF_RB_SUBMIT(e)		((void)(e))
#define af_count_drop(p)	(shim_drops[(p) % AF_PROG_MAX]++)
#define af_count_event(t)	(shim_events[(t) % AF_EV_MAX]++)
#define af_count_stat(w)	(shim_stats[(w) % AF_STAT_MAX]++)
#define af_next_seq()		(shim_seq++)
#define af_vm_born(cx)		((void)(cx))
#define AF_NOW()		(++shim_now)
#define AF_RECORD(cx, kind, a, b, c)	shim_record(kind, a, b, c)

/* Root pages as the tests set them (shim_set_digest), and what was recorded. */
__u64 af_root_digest(struct af_cx *cx, __u64 gfn);
void af_digest_fed(struct af_cx *cx, __u64 gfn, __u64 d);
void shim_set_digest(__u64 vm_key, __u64 gfn, __u64 d);
void shim_record(__u64 kind, __u64 a, __u64 b, __u64 c);
int af_unshadowed_put(struct af_cx *cx, __u64 as, __u64 digest);
void af_unshadowed_del(struct af_cx *cx, __u64 as);
extern int shim_unshadowed;	/* roots the agent would poll */
extern int shim_records, shim_digest_reads;

#ifndef AF_SHIM_NO_INFER
#include "infer.h"
#endif

#endif
