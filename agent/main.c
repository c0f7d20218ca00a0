/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * antfarm-agent: infers the processes of every KVM guest on this host from
 * BPF programs on KVM tracepoints and serves them over a Unix socket.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include "agent.h"
#include "antfarm_proto.h"
#include "lib/num.h"
#include "record.h"
#include "lib/httpd.h"

#define MAX_HINTS 16

enum { OPT_HINTS = 256, OPT_IDLE, OPT_QUEUE, OPT_MAXCL, OPT_REQTO, OPT_NOSWITCH, OPT_RB,
       OPT_REPLYTO, OPT_SMODE, OPT_SGROUP, OPT_RECORD, OPT_REPLAY, OPT_NOATTACH, OPT_PROGS,
       OPT_BPFSTATS, OPT_FIDELITY, OPT_METRICS, OPT_QTOTAL };

static const char usage_text[] =
"NAME\n"
"    antfarm-agent - track the processes of KVM guests from the host\n"
"\n"
"SYNOPSIS\n"
"    antfarm-agent [-d] [-v] [--socket PATH] [--socket-mode MODE]\n"
"                  [--socket-group GROUP] [--blk-hints PATH]...\n"
"                  [--idle-timeout SEC] [--queue-kib N] [--queue-total-mib N]\n"
"                  [--max-clients N]\n"
"                  [--request-timeout SEC] [--reply-timeout SEC]\n"
"                  [--ringbuf-mib N] [--no-switch] [--record FILE] [--no-attach]\n"
"                  [--programs LIST] [--bpf-stats] [--fidelity full|lifecycle]\n"
"                  [--metrics-listen ADDR:PORT]\n"
"    antfarm-agent --replay FILE [-v]\n"
"\n"
"DESCRIPTION\n"
"    Attaches BPF programs to the KVM tracepoints and infers, knowing nothing\n"
"    of the guest OS, every guest's processes (address spaces): creation,\n"
"    exit with its reason, context switches per vCPU and CPU time.  Clients\n"
"    talk JSON lines over a Unix socket; see antfarm(1) and the README.\n"
"    Must run as root on a kernel with BTF (/sys/kernel/btf/vmlinux).\n"
"\n"
"OPTIONS\n"
"    -d, --foreground      stay in the foreground and log to stderr\n"
"                          (default: detach and log to syslog)\n"
"    -v, --verbose         debug messages (libbpf, each client)\n"
"    -s, --socket PATH     listen on PATH (default " AF_DEFAULT_SOCKET ");\n"
"                          PATH.lock is held while running; a stale socket\n"
"                          is replaced, a live one or anything else at PATH\n"
"                          is an error\n"
"    --socket-mode MODE    the socket's mode, octal (default 0660)\n"
"    --socket-group GROUP  the socket's group (default root's): its members\n"
"                          may use antfarm(1)\n"
"    --blk-hints PATH      send process hints to the antfarm-blk backend\n"
"                          listening on PATH (repeatable, up to 16): only\n"
"                          of the VM it serves, notify only for its doorbells\n"
"    --idle-timeout SEC    where the host cannot see page-table teardown,\n"
"                          end a process not seen for SEC seconds\n"
"                          (reason \"idle\"; default: the collector's)\n"
"    --queue-kib N         per-subscriber output queue (default 4096 KiB);\n"
"                          beyond it events are dropped and the subscriber\n"
"                          gets {\"event\":\"lost\",\"count\":N}\n"
"    --queue-total-mib N   all clients' queues together (default 64 MiB): past\n"
"                          it events are dropped for every subscriber that has\n"
"                          a backlog; command replies are never dropped\n"
"    --max-clients N       connected clients at most (default 256)\n"
"    --request-timeout SEC a client must send its request line within SEC\n"
"                          seconds (default 5)\n"
"    --reply-timeout SEC   a client that has not read a command's whole reply\n"
"                          within SEC seconds is disconnected (default 30)\n"
"    --ringbuf-mib N       BPF ring buffer size, a power of two (default 8);\n"
"                          records that find it full are counted as reserve\n"
"                          failures (antfarm stats)\n"
"    --no-switch           do not produce switch records at all\n"
"    --record FILE         write every raw observation of the BPF programs\n"
"                          and every event inferred from them to FILE (a\n"
"                          text file to replay anywhere, e.g. with a bug\n"
"                          report)\n"
"    --fidelity MODE       full (default): creates, exits, every switch and\n"
"                          CPU time; lifecycle: creates and exits only, from\n"
"                          shadow page-table roots, without the per-\n"
"                          instruction CR3 sampling of kvm_pvm hosts (much\n"
"                          cheaper for the guests; no switches, no CPU time)\n"
"    --bpf-stats           per-program run counts and times in the metrics\n"
"                          (kernel bpf_stats: two clock reads per invocation\n"
"                          of every program, measurable on a guest whose\n"
"                          kernel code is emulated)\n"
"    --programs LIST       attach only these programs (comma-separated, as in\n"
"                          antfarm stats; diagnostics and benchmarks)\n"
"    --no-attach           load the BPF programs but attach none: events come\n"
"                          only from observations injected through the\n"
"                          af_replay program (tests, diagnostics)\n"
"    --replay FILE         load the BPF programs without attaching them, feed\n"
"                          the recording's observations through the state\n"
"                          machine, print the events on stdout and compare\n"
"                          them with those recorded; exit 0 if identical,\n"
"                          1 if not, 2 on bad input\n"
"    --metrics-listen ADDR:PORT\n"
"                          also serve the metrics (antfarm stats) over HTTP:\n"
"                          GET /metrics on ADDR:PORT, e.g. 127.0.0.1:9477\n"
"                          or [::1]:9477 (default: off)\n"
"    -h, --help            this text\n"
"\n"
"SIGNALS\n"
"    SIGINT, SIGTERM       detach the BPF programs, remove the socket, exit 0\n"
"\n"
"EXAMPLES\n"
"    sudo antfarm-agent                 # run as a daemon\n"
"    sudo antfarm-agent -d -v           # foreground, verbose\n"
"    sudo antfarm-agent -d --blk-hints /run/antfarm/blk-hints.sock\n"
"    antfarm watch --events create,exit # then, as root or the socket's group\n";

static struct af_collector_opts col_opts;
static int no_switch;
static const char *record_path, *replay_path;
static int foreground, verbose;
static const char *hint_paths[MAX_HINTS];
static char hint_abs[MAX_HINTS][SOCK_PATH_MAX];

static int opt_seconds(const char *opt, uint64_t max, uint64_t *ns)
{
	uint64_t v;

	if (parse_opt_u64(opt, optarg, 1, max, &v))
		return -1;
	*ns = v * 1000000000ull;
	return 0;
}

/* The agent chdir()s to / when it detaches: hint paths are made absolute
 * first (the socket's path is, by sock_listen()). */
static int add_hint_path(struct af_agent_opts *o, const char *path)
{
	if (o->nhints == MAX_HINTS) {
		log_warnx("at most %d --blk-hints", MAX_HINTS);
		return -1;
	}
	if (sock_abspath(path, hint_abs[o->nhints], sizeof(hint_abs[0]))) {
		log_warnx("--blk-hints: path too long: %s", path);
		return -1;
	}
	hint_paths[o->nhints] = hint_abs[o->nhints];
	o->nhints++;
	return 0;
}

static int socket_opt(int c, struct af_agent_opts *o)
{
	if (c == OPT_SMODE && sock_parse_mode(optarg, &o->socket_mode)) {
		log_warnx("--socket-mode: '%s' is not an octal mode (example: 0660)", optarg);
		return -1;
	}
	if (c == OPT_SGROUP && sock_parse_group(optarg, &o->socket_gid)) {
		log_warnx("--socket-group: no group '%s'", optarg);
		return -1;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct af_agent_opts *o)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "socket", required_argument, NULL, 's' },
		{ "socket-mode", required_argument, NULL, OPT_SMODE },
		{ "socket-group", required_argument, NULL, OPT_SGROUP },
		{ "help", no_argument, NULL, 'h' },
		{ "blk-hints", required_argument, NULL, OPT_HINTS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "queue-kib", required_argument, NULL, OPT_QUEUE },
		{ "queue-total-mib", required_argument, NULL, OPT_QTOTAL },
		{ "max-clients", required_argument, NULL, OPT_MAXCL },
		{ "request-timeout", required_argument, NULL, OPT_REQTO },
		{ "no-switch", no_argument, NULL, OPT_NOSWITCH },
		{ "ringbuf-mib", required_argument, NULL, OPT_RB },
		{ "reply-timeout", required_argument, NULL, OPT_REPLYTO },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "no-attach", no_argument, NULL, OPT_NOATTACH },
		{ "programs", required_argument, NULL, OPT_PROGS },
		{ "bpf-stats", no_argument, NULL, OPT_BPFSTATS },
		{ "fidelity", required_argument, NULL, OPT_FIDELITY },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ 0 }
	};
	uint64_t v;
	int c;

	while ((c = getopt_long(argc, argv, "dvs:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': foreground = 1; break;
		case 'v': verbose++; break;
		case 's': o->socket_path = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case OPT_SMODE:
		case OPT_SGROUP:
			if (socket_opt(c, o))
				return -1;
			break;
		case OPT_HINTS:
			if (add_hint_path(o, optarg))
				return -1;
			break;
		case OPT_IDLE:
			if (opt_seconds("--idle-timeout", 86400, &col_opts.idle_timeout_ns))
				return -1;
			break;
		case OPT_QUEUE:
			if (parse_opt_u64("--queue-kib", optarg, 1, 1 << 20, &v))
				return -1;
			o->queue_limit = v * 1024;
			break;
		case OPT_QTOTAL:
			if (parse_opt_u64("--queue-total-mib", optarg, 1, 1 << 16, &v))
				return -1;
			o->queue_total = v << 20;
			break;
		case OPT_MAXCL:
			if (parse_opt_u64("--max-clients", optarg, 1, 65536, &v))
				return -1;
			o->max_clients = v;
			break;
		case OPT_REQTO:
			if (opt_seconds("--request-timeout", 3600, &o->request_timeout_ns))
				return -1;
			break;
		case OPT_REPLYTO:
			if (opt_seconds("--reply-timeout", 3600, &o->reply_timeout_ns))
				return -1;
			break;
		case OPT_NOSWITCH: no_switch = 1; break;
		case OPT_RECORD: record_path = optarg; break;
		case OPT_NOATTACH: col_opts.no_attach = 1; break;
		case OPT_PROGS: col_opts.only_progs = optarg; break;
		case OPT_BPFSTATS: col_opts.bpf_stats = 1; break;
		case OPT_FIDELITY:
			if (strcmp(optarg, "full") && strcmp(optarg, "lifecycle")) {
				log_warnx("--fidelity: '%s' is not full or lifecycle", optarg);
				return -1;
			}
			col_opts.lifecycle = !strcmp(optarg, "lifecycle");
			break;
		case OPT_REPLAY: replay_path = optarg; break;
		case OPT_METRICS: o->metrics_listen = optarg; break;
		case OPT_RB:
			if (parse_opt_u64("--ringbuf-mib", optarg, 1, 1024, &v))
				return -1;
			if (v & (v - 1)) {
				log_warnx("--ringbuf-mib: %llu is not a power of two",
					  (unsigned long long)v);
				return -1;
			}
			col_opts.ringbuf_bytes = v << 20;
			break;
		default:
			log_warnx("try 'antfarm-agent --help'");
			return -1;
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument '%s'; try 'antfarm-agent --help'", argv[optind]);
		return -1;
	}
	o->hint_paths = hint_paths;
	return 0;
}

/* Records handled per poll before the subscribers are written to: a full
 * ring (megabytes) must not become megabytes of queue before the first
 * send, or a burst would overflow queues that a reader keeps up with. */
#define POLL_BUDGET 512

static int on_event(void *ctx, const struct af_event *ev)
{
	struct af_agent *a = ctx;

	server_event(a, ev);
	hints_event(a, ev);
	roots_event(a, ev);
	record_event(a, ev);
	return ++a->polled >= POLL_BUDGET;
}

static void ring_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	int n;

	/* the ring fd stays readable while records are left: the loop comes
	 * back here after serving the other fds */
	a->polled = 0;
	n = af_collector_poll(a->col, on_event, a);
	if (n < 0 && n != -EINTR)
		log_warnx("reading the ring buffer: %s", strerror(-n));
	server_flush(a);
}

static void timer_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	uint64_t expirations, now = af_now_ns();

	if (read(w->fd, &expirations, sizeof(expirations)) < 0)
		return;
	af_collector_tick(a->col, now);
	server_tick(a, now);
	hints_tick(a, now);
	if (!a->roots_armed)
		roots_poll(a);	/* in case an AF_EV_UNSHADOWED record was lost */
	record_flush(a);
	/* the tick may have produced records (idle exits) */
	ring_ready(a, &a->ring_w, 0);
}

static void httpd_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	httpd_service(a->httpd);
}

/* --metrics-listen: the HTTP server's epoll set is one more fd in ours */
static int open_metrics(struct af_agent *a, char *err, size_t errlen)
{
	if (!a->o.metrics_listen)
		return 0;
	a->httpd = httpd_open(a->o.metrics_listen, metrics_write, a, err, errlen);
	if (!a->httpd)
		return -1;
	a->httpd_w.fn = httpd_ready;
	a->httpd_w.fd = httpd_fd(a->httpd);
	if (af_watch_add(a, &a->httpd_w, EPOLLIN)) {
		snprintf(err, errlen, "metrics server: %s", strerror(errno));
		return -1;
	}
	log_info("metrics on http://%s/metrics", httpd_addr(a->httpd));
	return 0;
}

static void signal_ready(struct af_agent *a, struct af_watch *w, uint32_t ev)
{
	struct signalfd_siginfo si;

	if (read(w->fd, &si, sizeof(si)) == sizeof(si)) {
		log_info("got signal %u, detaching", si.ssi_signo);
		a->stop = 1;
	}
}

/* SIGINT/SIGTERM arrive through a signalfd.  It must be created (and put
 * into the epoll set) after daemon(): a signalfd watched by epoll wakes
 * the waiters of the process that registered it, not of a forked child. */
static int open_signalfd(struct af_agent *a, char *err, size_t errlen)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	a->signal_w.fn = signal_ready;
	a->signal_w.fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (a->signal_w.fd < 0 || af_watch_add(a, &a->signal_w, EPOLLIN)) {
		snprintf(err, errlen, "signalfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int open_fds(struct af_agent *a, char *err, size_t errlen)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };

	signal(SIGPIPE, SIG_IGN);
	a->timer_w.fn = timer_ready;
	a->timer_w.fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	a->ring_w.fn = ring_ready;
	a->ring_w.fd = af_collector_fd(a->col);
	if (a->timer_w.fd < 0 || timerfd_settime(a->timer_w.fd, 0, &its, NULL) ||
	    af_watch_add(a, &a->timer_w, EPOLLIN) || af_watch_add(a, &a->ring_w, EPOLLIN)) {
		snprintf(err, errlen, "setting up the event loop: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void cleanup(struct af_agent *a)
{
	/* the last records first: a recording ends with what was inferred */
	if (a->col)
		ring_ready(a, &a->ring_w, 0);
	record_close(a);
	server_close(a);
	hints_close(a);
	roots_close(a);
	httpd_close(a->httpd);
	vmnames_free(a->names);
	if (a->signal_w.fd >= 0)
		close(a->signal_w.fd);
	if (a->timer_w.fd >= 0)
		close(a->timer_w.fd);
	if (a->epfd >= 0)
		close(a->epfd);
	af_collector_close(a->col);
}

int main(int argc, char **argv)
{
	struct af_agent a = {
		.signal_w.fd = -1, .timer_w.fd = -1, .listen_w.fd = -1, .roots_w.fd = -1,
		.listener = SOCK_LISTENER_INIT, .reserve_fd = -1,
		.o = { .socket_path = AF_DEFAULT_SOCKET, .socket_gid = (gid_t)-1, .max_clients = 256,
		       .queue_limit = 4096 * 1024, .queue_total = 64 << 20,
		       .request_timeout_ns = 5000000000ull,
		       .reply_timeout_ns = 30000000000ull },
		.epfd = -1,
	};
	char err[512] = "";
	int ret = 1;

	log_init("antfarm-agent", 0, 0);
	if (parse_args(argc, argv, &a.o))
		return 2;
	log_init("antfarm-agent", 0, verbose);
	a.no_switch = no_switch;
	a.qpool.limit = a.o.queue_total;
	col_opts.verbose = verbose;
	if (replay_path)
		return replay_main(replay_path, verbose);
	if (geteuid() != 0) {
		log_warnx("must run as root (loading BPF programs on the KVM tracepoints needs "
			  "CAP_BPF and CAP_PERFMON); try: sudo antfarm-agent");
		return 1;
	}
	a.start_ns = af_now_ns();
	/* ANTFARM_LIBVIRT_DIR: where libvirt's QEMU status files are (tests) */
	a.names = vmnames_new(getenv("ANTFARM_LIBVIRT_DIR"));
	if (!a.names) {
		snprintf(err, sizeof(err), "out of memory");
		goto cleanup;
	}
	a.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a.epfd < 0) {
		snprintf(err, sizeof(err), "epoll_create1: %s", strerror(errno));
		goto cleanup;
	}
	if (af_collector_open(&a.col, &col_opts, err, sizeof(err)) < 0) {
		a.col = NULL;
		goto cleanup;
	}
	log_info("host: %s; %s", af_host_kind_name(af_collector_host(a.col)),
		 af_collector_fidelity_note(a.col) ?: "");
	/* before daemon(): a relative path names the caller's directory */
	if (record_path && record_open(&a, record_path, err, sizeof(err)))
		goto cleanup;
	if (open_fds(&a, err, sizeof(err)) || server_open(&a, err, sizeof(err)) ||
	    open_metrics(&a, err, sizeof(err)))
		goto cleanup;
	if (!foreground) {
		if (daemon(0, 0)) {
			snprintf(err, sizeof(err), "daemon: %s", strerror(errno));
			goto cleanup;
		}
		log_init("antfarm-agent", 1, verbose);
		/* the collector printed it to stderr; say it in syslog too */
		if (af_collector_warning(a.col)[0])
			log_warnx("%s", af_collector_warning(a.col));
	}
	if (open_signalfd(&a, err, sizeof(err)))
		goto cleanup;
	if (hints_open(&a)) {
		snprintf(err, sizeof(err), "out of memory");
		goto cleanup;
	}
	if (roots_open(&a)) {
		snprintf(err, sizeof(err), "timerfd: %s", strerror(errno));
		goto cleanup;
	}
	server_limit_clients(&a);
	log_info("listening on %s", a.listener.path);
	ret = af_loop_run(&a) ? 1 : 0;
cleanup:
	if (err[0])
		log_warnx("%s", err);
	cleanup(&a);
	return ret;
}
