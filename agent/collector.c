// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The collector: probes the host, loads the BPF programs that apply
 * (probe-then-autoload), attaches them and hands ring-buffer records to
 * the agent; feeds observations to the replay program, records them, polls
 * unshadowed roots.  The inference itself runs in BPF (bpf/infer.h).
 * Reading the maps: collector_maps.c; their metrics: collector_metrics.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <syslog.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "collector_int.h"
#include "digest.h"

#define AF_DEFAULT_IDLE_NS	(300ull * 1000000000ull)
#define AF_DEFAULT_RB_BYTES	(8u << 20)
#define AF_DEFAULT_KEEP_NS	(60ull * 1000000000ull)

/* Which host kinds a program is useful on. */
#define H_PVM		(1u << AF_HOST_PVM)
#define H_VMX_EPT	(1u << AF_HOST_VMX_EPT)
#define H_VMX_SH	(1u << AF_HOST_VMX_SHADOW)
#define H_SVM_NPT	(1u << AF_HOST_SVM_NPT)
#define H_SVM_SH	(1u << AF_HOST_SVM_SHADOW)
#define H_UNKNOWN	(1u << AF_HOST_UNKNOWN)
#define H_VENDOR	(H_VMX_EPT | H_VMX_SH | H_SVM_NPT | H_SVM_SH | H_UNKNOWN)
#define H_SHADOW	(H_PVM | H_VMX_SH | H_SVM_SH | H_UNKNOWN)
#define H_ALL		(H_VENDOR | H_PVM)

/*
 * The one table of BPF programs: everything else about a program (its
 * skeleton handle, its counters' slot, whether it is loaded here) is found
 * from its row.  Adding a program: the function in bpf/antfarm.bpf.c, an
 * enum af_prog_id slot, and a row here.
 */
const struct af_prog_desc af_progs[] = {
	{ "af_emulate",      "kvm_emulate_insn",         AF_PROG_EMULATE,   H_ALL,    1, 0 },
	{ "af_exit",         "kvm_exit",                 AF_PROG_EXIT,      H_VENDOR, 1, 0 },
	{ "af_entry",        "kvm_entry",                AF_PROG_ENTRY,     H_VENDOR, 1, 0 },
	{ "af_cr",           "kvm_cr",                   AF_PROG_CR,        H_VENDOR, 1, 0 },
	{ "af_mmu_get",      "kvm_mmu_get_page",         AF_PROG_MMU_GET,   H_SHADOW, 0, 0 },
	{ "af_mmu_zap",      "kvm_mmu_prepare_zap_page", AF_PROG_MMU_ZAP,   H_SHADOW, 0, 0 },
	{ "af_zap_all_fast", "kvm_mmu_zap_all_fast",     AF_PROG_ZAP_ALL,   H_SHADOW, 0, 0 },
	{ "af_pfault",       "kvm_page_fault",           AF_PROG_PFAULT,    H_ALL,    0, 0 },
	{ "af_pexit",        "sched_process_exit",       AF_PROG_PEXIT,     H_ALL,    0, 0 },
	{ "af_mmio",         "kvm_mmio",                 AF_PROG_MMIO,      H_ALL,    0, 1 },
	{ "af_fast_mmio",    "kvm_fast_mmio",            AF_PROG_FAST_MMIO, H_ALL,    0, 1 },
	{ "af_pio",          "kvm_pio",                  AF_PROG_PIO,       H_ALL,    0, 1 },
	{ AF_REPLAY_PROG,    NULL,                       AF_PROG_REPLAY,    H_ALL,    0, 0 },
};
const size_t af_nprogs = sizeof(af_progs) / sizeof(af_progs[0]);
#define AF_NPROGS (sizeof(af_progs) / sizeof(af_progs[0]))
_Static_assert(sizeof(af_progs) / sizeof(af_progs[0]) <= AF_PROG_MAX, "a counter slot per program");

struct bpf_program *prog_of(struct antfarm_bpf *s, size_t i)
{
	return i < AF_NPROGS ? bpf_object__find_program_by_name(s->obj, af_progs[i].name) : NULL;
}

static int libbpf_quiet(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	return 0;
}

static int libbpf_loud(enum libbpf_print_level l, const char *fmt, va_list ap)
{
	if (l == LIBBPF_DEBUG)
		return 0;
	log_vmsg(l == LIBBPF_WARN ? LOG_WARNING : LOG_INFO, fmt, ap);
	return 0;
}

/* Is name one of the comma-separated names in list? */
static int name_in(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] == ',')) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0))
			return 1;
	}
	return 0;
}

/* Decide autoload per program from the host kind and the tracepoints in BTF. */
static int choose_programs(struct af_collector *c, char *err, size_t errlen)
{
	unsigned hostbit = 1u << c->host.kind;
	int ncr3 = 0;
	size_t i;

	struct bpf_program *p;

	/* a program without a row would load on no host: refuse to run so */
	bpf_object__for_each_program(p, c->skel->obj) {
		for (i = 0; i < AF_NPROGS && strcmp(af_progs[i].name, bpf_program__name(p)); i++)
			;
		if (i == AF_NPROGS) {
			errbuf_set(err, errlen, "BPF program %s has no row in the collector's "
				"program table", bpf_program__name(p));
			return -EINVAL;
		}
	}
	for (i = 0; i < AF_NPROGS; i++) {
		const struct af_prog_desc *d = &af_progs[i];
		int want = (d->hosts & hostbit) != 0;

		if (d->tp && want && !af_host_has_tp(&c->host, d->tp))
			want = 0;
		if (d->tp && want && c->opts.only_progs && !name_in(c->opts.only_progs, d->name))
			want = 0;
		if (want && d->cr3_source && c->opts.lifecycle)
			want = 0;
		bpf_program__set_autoload(prog_of(c->skel, i), want);
		c->attached[i] = want ? -1 : 0;	/* -1: to attach */
		if (want && d->cr3_source)
			ncr3++;
		if (c->opts.verbose)
			log_debug("collector: %-26s %s", d->tp ? d->tp : d->name,
				  want ? "load" : "skip");
	}
	if (!ncr3 && !c->opts.force_host && !c->opts.only_progs && !c->opts.lifecycle) {
		errbuf_set(err, errlen, "no KVM tracepoint that shows CR3 (kvm_emulate_insn, kvm_exit, "
			"kvm_entry, kvm_cr) is in this kernel's BTF: load the kvm module "
			"(modprobe kvm_intel or kvm_amd) or use a kernel with KVM tracepoints");
		return -ENOENT;
	}
	return 0;
}

static void configure(struct af_collector *c)
{
	struct antfarm_bpf *s = c->skel;
	uint32_t rb = c->opts.ringbuf_bytes ? c->opts.ringbuf_bytes : AF_DEFAULT_RB_BYTES;

	switch (c->host.kind) {
	case AF_HOST_SVM_NPT:
		s->rodata->cfg_exit_mode = AF_EXITMODE_SVM;
		s->rodata->cfg_teardown_invisible = 1;
		break;
	case AF_HOST_VMX_EPT:
		s->rodata->cfg_exit_mode = AF_EXITMODE_VMX;
		s->rodata->cfg_teardown_invisible = 1;
		break;
	case AF_HOST_PVM:
		s->rodata->cfg_emulate_full = 1;
		break;
	default:
		break;
	}
	s->rodata->cfg_lifecycle = c->opts.lifecycle ? 1 : 0;
	s->rodata->cfg_exit_vcpu_arg = c->host.exit_vcpu_arg;
	s->rodata->cfg_hf_guest_mask = c->host.hf_guest_mask;
	s->rodata->cfg_svm_vmcb_off = c->host.svm_vmcb_off;
	bpf_map__set_max_entries(s->maps.rb, rb);
	bpf_map__set_max_entries(s->maps.obs, rb);	/* --record: as large as the event ring */
}

static int attach_all(struct af_collector *c, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < AF_NPROGS; i++) {
		struct bpf_link *l;

		if (c->attached[i] != -1 || !af_progs[i].tp || c->opts.no_attach) {
			c->attached[i] = 0;
			continue;
		}
		if (af_progs[i].on_demand) {
			c->attached[i] = 0;
			c->loaded[i] = 1;	/* notify_sync attaches it when wanted */
			continue;
		}
		l = bpf_program__attach(prog_of(c->skel, i));
		if (!l) {
			int e = -errno;

			errbuf_set(err, errlen, "cannot attach %s to tracepoint %s: %s",
				bpf_program__name(prog_of(c->skel, i)), af_progs[i].tp,
				strerror(-e));
			return e;
		}
		c->links[i] = l;
		c->attached[i] = 1;
	}
	return 0;
}

static int on_sample(void *ctx, void *data, size_t size)
{
	struct af_collector *c = ctx;

	if (c->stopped || size < sizeof(struct af_event))
		return 0;
	c->cb_count++;
	if (c->cb && c->cb(c->cb_ctx, data)) {
		c->stopped = 1;
		return -ECANCELED;
	}
	return 0;
}

static int on_obs(void *ctx, void *data, size_t size)
{
	struct af_collector *c = ctx;

	if (c->obs_cb && size >= AF_REPLAY_NARGS * sizeof(uint64_t))
		c->obs_cb(c->obs_ctx, data);
	return 0;
}

int af_collector_record(struct af_collector *c, af_obs_cb cb, void *ctx)
{
	c->obs_rb = ring_buffer__new(bpf_map__fd(c->skel->maps.obs), on_obs, c, NULL);
	if (!c->obs_rb)
		return -errno;
	c->obs_cb = cb;
	c->obs_ctx = ctx;
	c->skel->bss->cfg_record = 1;
	return 0;
}

int af_collector_record_fd(struct af_collector *c)
{
	return c->obs_rb ? ring_buffer__epoll_fd(c->obs_rb) : -1;
}

void af_collector_record_poll(struct af_collector *c)
{
	if (c->obs_rb)
		ring_buffer__consume(c->obs_rb);
}

/* Feed one observation as if a program had made it: recorded, then run.
 * What the programs recorded before it goes to the recording first, so
 * that a replay applies them in this order too. */
static void observe(struct af_collector *c, uint64_t a[AF_REPLAY_NARGS])
{
	af_collector_record_poll(c);
	if (c->obs_cb)
		c->obs_cb(c->obs_ctx, a);
	af_collector_replay(c, a);
}

/* Digest of the root page at hva in process pid, or 0 if it cannot be read. */
static uint64_t read_digest(uint32_t pid, uint64_t hva)
{
	uint64_t page[512];
	char path[32];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%u/mem", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread(fd, page, sizeof(page), (off_t)hva);
	close(fd);
	return n == (int)sizeof(page) ? af_digest_of((const __u64 *)page) : 0;
}

struct poll_walk {
	struct af_collector *c;
	uint64_t now;
	int left;
	struct af_as_key gone[64];	/* unreadable: the VMM is gone */
	int ngone;
};

static int poll_one(void *ctx, const void *key, void *val)
{
	const struct af_as_key *k = key;
	const struct af_unshadowed *u = val;
	struct poll_walk *w = ctx;
	uint64_t d = read_digest(u->vm_pid, u->hva);
	uint64_t a[AF_REPLAY_NARGS] = { AF_OBS_DIGEST, k->vm_key, u->vm_pid, AF_VCPU_NONE,
					k->as >> 12, d, 0, w->now };

	if (!d) {
		log_debug("unshadowed root %#llx of pid %u: cannot read %#llx",
			  (unsigned long long)k->as, u->vm_pid, (unsigned long long)u->hva);
		if (w->ngone < 64)
			w->gone[w->ngone++] = *k;
		return 0;
	}
	/* digest 0 (lifecycle mode): only an emptied root matters */
	if (d == u->digest || (!u->digest && !(d & AF_DIGEST_EMPTY))) {
		w->left++;
		return 0;
	}
	observe(w->c, a);
	a[0] = AF_OBS_POLL;
	a[5] = 0;
	observe(w->c, a);
	return 0;
}

int af_collector_poll_roots(struct af_collector *c, uint64_t now_ns)
{
	int fd = bpf_map__fd(c->skel->maps.unshadowed);
	struct poll_walk w = { .c = c, .now = now_ns };
	struct af_unshadowed u;
	int n = map_walk(fd, sizeof(struct af_as_key), &u, poll_one, &w);

	for (int i = 0; i < w.ngone; i++)
		bpf_map_delete_elem(fd, &w.gone[i]);
	return n < 0 ? n : w.left;
}

void af_collector_config(const struct af_collector *c, struct af_collector_config *out)
{
	out->host = c->host.kind;
	out->idle_ns = c->skel->bss->cfg_idle_ns;
	out->keep_ns = c->skel->bss->cfg_keep_ns;
	out->want_switch = c->skel->bss->cfg_want_switch;
}

int af_collector_open(struct af_collector **out, const struct af_collector_opts *o,
		      char *err, size_t errlen)
{
	struct af_collector *c;
	int r;

	*out = NULL;
	if (geteuid() != 0) {
		errbuf_set(err, errlen, "must run as root: loading BPF programs on KVM tracepoints "
			"needs CAP_BPF and CAP_PERFMON");
		return -EPERM;
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		errbuf_set(err, errlen, "no kernel BTF (/sys/kernel/btf/vmlinux): use a kernel built "
			"with CONFIG_DEBUG_INFO_BTF=y");
		return -ENOENT;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errbuf_set(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->stats_fd = -1;
	if (o)
		c->opts = *o;
	if (!c->opts.idle_timeout_ns)
		c->opts.idle_timeout_ns = AF_DEFAULT_IDLE_NS;
	if (!c->opts.exited_keep_ns)
		c->opts.exited_keep_ns = AF_DEFAULT_KEEP_NS;
	libbpf_set_print(c->opts.verbose ? libbpf_loud : libbpf_quiet);

	r = af_host_detect(&c->host, c->opts.force_host, err, errlen);
	if (r < 0)
		goto fail;
	if (c->host.warning[0])
		log_warnx("warning: %s", c->host.warning);

	c->skel = antfarm_bpf__open();
	if (!c->skel) {
		r = -errno;
		errbuf_set(err, errlen, "cannot open the BPF object: %s", strerror(-r));
		goto fail;
	}
	r = choose_programs(c, err, errlen);
	if (r < 0)
		goto fail;
	configure(c);
	r = antfarm_bpf__load(c->skel);
	if (r) {
		errbuf_set(err, errlen, "cannot load the BPF programs: %s (run with -v for the "
			"verifier log)", strerror(-r));
		goto fail;
	}
	c->skel->bss->cfg_want_switch = c->opts.want_switch ? 1 : 0;
	/* idle exits only where teardown is invisible (NPT/EPT) */
	if (c->skel->rodata->cfg_teardown_invisible)
		c->skel->bss->cfg_idle_ns = c->opts.idle_timeout_ns;
	c->skel->bss->cfg_keep_ns = c->opts.exited_keep_ns;
	r = attach_all(c, err, errlen);
	if (r < 0)
		goto fail;
	/* run counts and times per program for the metrics; optional */
	if (c->opts.bpf_stats)
		c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.rb), on_sample, c, NULL);
	if (!c->rb) {
		r = -errno;
		errbuf_set(err, errlen, "cannot set up the ring buffer: %s", strerror(-r));
		goto fail;
	}
	snprintf(c->note, sizeof(c->note), "%s", af_host_fidelity_note(&c->host));
	*out = c;
	return 0;
fail:
	af_collector_close(c);
	return r < 0 ? r : -EINVAL;
}

void af_collector_close(struct af_collector *c)
{
	size_t i;

	if (!c)
		return;
	ring_buffer__free(c->rb);
	ring_buffer__free(c->obs_rb);
	for (i = 0; i < AF_NPROGS; i++)
		bpf_link__destroy(c->links[i]);
	af_host_free(&c->host);
	antfarm_bpf__destroy(c->skel);
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	free(c);
}

int af_collector_fd(struct af_collector *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int af_collector_poll(struct af_collector *c, af_event_cb cb, void *ctx)
{
	int r;

	c->cb = cb;
	c->cb_ctx = ctx;
	c->cb_count = 0;
	c->stopped = 0;
	r = ring_buffer__consume(c->rb);
	if (r < 0 && r != -ECANCELED)
		return r;
	return c->cb_count;
}

int af_collector_replay(struct af_collector *c, const uint64_t args[AF_REPLAY_NARGS])
{
	uint64_t a[AF_REPLAY_NARGS];
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = a, .ctx_size_in = sizeof(a));
	int r;

	memcpy(a, args, sizeof(a));
	r = bpf_prog_test_run_opts(bpf_program__fd(c->skel->progs.af_replay), &t);
	if (r)
		return -errno;
	return (int)t.retval;
}

/* Destroyed VMs stay listable (exited processes) for this long, then their
 * map entries go, so the maps do not fill up over the host's lifetime. */
#define AF_DEAD_KEEP_NS (60ull * 1000000000ull)
#define AF_DEAD_BATCH	64

struct reap {
	uint64_t now;
	uint64_t vms[AF_DEAD_BATCH];
	int nvms;
	struct af_as_key *procs;	/* to delete after the walk */
	size_t nprocs, cap;
	int oom;
};

static int find_dead(void *ctx, const void *key, void *val)
{
	const struct af_vm_val *v = val;
	struct reap *r = ctx;

	if ((v->flags & AF_VMF_DEAD) && v->last_ns + AF_DEAD_KEEP_NS < r->now &&
	    r->nvms < AF_DEAD_BATCH)
		r->vms[r->nvms++] = *(const uint64_t *)key;
	return 0;
}

static int find_dead_proc(void *ctx, const void *key, void *val)
{
	const struct af_as_key *k = key;
	struct reap *r = ctx;
	int i;

	for (i = 0; i < r->nvms; i++) {
		if (k->vm_key != r->vms[i])
			continue;
		if (r->nprocs == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 256;
			void *p = realloc(r->procs, cap * sizeof(*r->procs));

			if (!p) {
				r->oom = 1;
				return 1;	/* stop; the rest goes next tick */
			}
			r->procs = p;
			r->cap = cap;
		}
		r->procs[r->nprocs++] = *k;
		break;
	}
	return 0;
}

static void reap_dead_vms(struct af_collector *c, uint64_t now_ns)
{
	int vfd = bpf_map__fd(c->skel->maps.vms), pfd = bpf_map__fd(c->skel->maps.procs);
	struct reap r = { .now = now_ns };
	struct af_vm_val vv;
	struct af_as_val v;
	size_t j;
	int i;

	map_walk(vfd, sizeof(uint64_t), &vv, find_dead, &r);
	if (!r.nvms)
		return;
	map_walk(pfd, sizeof(struct af_as_key), &v, find_dead_proc, &r);
	for (j = 0; j < r.nprocs; j++)
		bpf_map_delete_elem(pfd, &r.procs[j]);
	free(r.procs);
	/* the VM entries go once none of their processes is left */
	for (i = 0; !r.oom && i < r.nvms; i++)
		bpf_map_delete_elem(vfd, &r.vms[i]);
}

void af_collector_tick(struct af_collector *c, uint64_t now_ns)
{
	uint64_t a[AF_REPLAY_NARGS] = { AF_OBS_TICK };

	reap_dead_vms(c, now_ns);
	/* idle exits (NPT/EPT) and forgetting old exited processes, in BPF */
	a[7] = now_ns;
	observe(c, a);
}

void af_collector_set_want_switch(struct af_collector *c, int on)
{
	c->skel->bss->cfg_want_switch = on ? 1 : 0;
}

/*
 * The MMIO/PIO programs run on every guest device write, which under
 * kvm_pvm is every exit to the VMM: attached only while a backend is served
 * (a notify_filter entry) or a subscriber wants notify events.
 */
static void notify_sync(struct af_collector *c)
{
	int want = c->want_notify || c->nfilters > 0;

	for (size_t i = 0; i < AF_NPROGS; i++) {
		if (!c->loaded[i] || c->attached[i] == want)
			continue;
		if (!want) {
			bpf_link__destroy(c->links[i]);
			c->links[i] = NULL;
			c->attached[i] = 0;
			continue;
		}
		c->links[i] = bpf_program__attach(prog_of(c->skel, i));
		if (!c->links[i]) {
			log_warn("cannot attach %s to %s: no notify events from it",
				 af_progs[i].name, af_progs[i].tp);
			c->loaded[i] = 0;
			continue;
		}
		c->attached[i] = 1;
	}
}

void af_collector_set_want_notify(struct af_collector *c, int on, const uint64_t *addr,
				  unsigned naddr)
{
	struct antfarm_bpf__bss *bss = c->skel->bss;

	if (naddr > AF_NOTIFY_ADDRS)
		naddr = 0;	/* more than the program checks: all of them */
	/* the list before its length: a running program never reads an
	 * address that is not there yet */
	bss->cfg_notify_naddr = 0;
	for (unsigned i = 0; i < naddr; i++)
		bss->cfg_notify_addr[i] = addr[i];
	bss->cfg_notify_naddr = naddr;
	c->want_notify = on;
	bss->cfg_want_notify = on ? 1 : 0;
	notify_sync(c);
}

int af_collector_notify_filter(struct af_collector *c, uint32_t vm_pid,
			       const struct af_notify_filter *f)
{
	int fd = bpf_map__fd(c->skel->maps.notify_filter), had, r;
	struct af_notify_filter old;

	had = bpf_map_lookup_elem(fd, &vm_pid, &old) == 0;
	r = f ? bpf_map_update_elem(fd, &vm_pid, f, BPF_ANY) : bpf_map_delete_elem(fd, &vm_pid);
	if (r && (f || had))
		return -errno;
	c->nfilters += (f != NULL) - had;
	notify_sync(c);
	return 0;
}

enum af_host_kind af_collector_host(const struct af_collector *c)
{
	return c->host.kind;
}

const char *af_collector_fidelity_note(const struct af_collector *c)
{
	return c->note;
}

const char *af_collector_warning(const struct af_collector *c)
{
	return c->host.warning;
}

int af_collector_prog_attached(const struct af_collector *c, const char *tp)
{
	size_t i;

	for (i = 0; i < AF_NPROGS; i++)
		if (af_progs[i].tp && !strcmp(af_progs[i].tp, tp))
			return c->attached[i] == 1;
	return 0;
}

