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
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "log.h"
#include "record.h"

#define DEFAULT_SOCKET "/run/antfarm/agent.sock"
#define MAX_HINTS 16

static const char usage_text[] =
"NAME\n"
"    antfarm-agent - track the processes of KVM guests from the host\n"
"\n"
"SYNOPSIS\n"
"    antfarm-agent [-d] [-v] [--socket PATH] [--blk-hints PATH]...\n"
"                  [--idle-timeout SEC] [--queue-kib N] [--max-clients N]\n"
"                  [--request-timeout SEC] [--reply-timeout SEC]\n"
"                  [--ringbuf-mib N] [--no-switch] [--record FILE]\n"
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
"    -v, --verbose         more detail (libbpf messages, each client)\n"
"    -s, --socket PATH     listen on PATH (default " DEFAULT_SOCKET ");\n"
"                          mode 0660; a stale socket is replaced, a live\n"
"                          agent on PATH is an error\n"
"    --blk-hints PATH      send process hints to the antfarm-blk backend\n"
"                          listening on PATH (repeatable, up to 16)\n"
"    --idle-timeout SEC    where the host cannot see page-table teardown,\n"
"                          end a process not seen for SEC seconds\n"
"                          (reason \"idle\"; default: the collector's)\n"
"    --queue-kib N         per-subscriber output queue (default 4096 KiB);\n"
"                          beyond it events are dropped and the subscriber\n"
"                          gets {\"event\":\"lost\",\"count\":N}\n"
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
"    --replay FILE         load the BPF programs without attaching them, feed\n"
"                          the recording's observations through the state\n"
"                          machine, print the events on stdout and compare\n"
"                          them with those recorded; exit 0 if identical,\n"
"                          1 if not, 2 on bad input\n"
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

uint64_t af_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int af_watch_add(struct af_agent *a, struct af_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(a->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int af_watch_mod(struct af_agent *a, struct af_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(a->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

static int parse_uint(const char *s, const char *opt, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno || *end || end == s || *s == '-' || *out == 0 || *out > max) {
		fprintf(stderr, "antfarm-agent: %s: invalid value '%s' (1 to %lu)\n", opt, s, max);
		return -1;
	}
	return 0;
}

enum { OPT_HINTS = 256, OPT_IDLE, OPT_QUEUE, OPT_MAXCL, OPT_REQTO, OPT_NOSWITCH, OPT_RB, OPT_REPLYTO,
       OPT_RECORD, OPT_REPLAY };

static int parse_args(int argc, char **argv, struct af_agent_opts *o)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'd' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "blk-hints", required_argument, NULL, OPT_HINTS },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "queue-kib", required_argument, NULL, OPT_QUEUE },
		{ "max-clients", required_argument, NULL, OPT_MAXCL },
		{ "request-timeout", required_argument, NULL, OPT_REQTO },
		{ "no-switch", no_argument, NULL, OPT_NOSWITCH },
		{ "ringbuf-mib", required_argument, NULL, OPT_RB },
		{ "reply-timeout", required_argument, NULL, OPT_REPLYTO },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ 0 }
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "dvs:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': foreground = 1; break;
		case 'v': verbose++; break;
		case 's': o->socket_path = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case OPT_HINTS:
			if (o->nhints == MAX_HINTS) {
				fprintf(stderr, "antfarm-agent: at most %d --blk-hints\n", MAX_HINTS);
				return -1;
			}
			hint_paths[o->nhints++] = optarg;
			break;
		case OPT_IDLE:
			if (parse_uint(optarg, "--idle-timeout", 86400, &v))
				return -1;
			col_opts.idle_timeout_ns = v * 1000000000ull;
			break;
		case OPT_QUEUE:
			if (parse_uint(optarg, "--queue-kib", 1 << 20, &v))
				return -1;
			o->queue_limit = v * 1024;
			break;
		case OPT_MAXCL:
			if (parse_uint(optarg, "--max-clients", 65536, &v))
				return -1;
			o->max_clients = v;
			break;
		case OPT_REQTO:
			if (parse_uint(optarg, "--request-timeout", 3600, &v))
				return -1;
			o->request_timeout_ns = v * 1000000000ull;
			break;
		case OPT_REPLYTO:
			if (parse_uint(optarg, "--reply-timeout", 3600, &v))
				return -1;
			o->reply_timeout_ns = v * 1000000000ull;
			break;
		case OPT_NOSWITCH: no_switch = 1; break;
		case OPT_RECORD: record_path = optarg; break;
		case OPT_REPLAY: replay_path = optarg; break;
		case OPT_RB:
			if (parse_uint(optarg, "--ringbuf-mib", 1024, &v))
				return -1;
			if (v & (v - 1)) {
				fprintf(stderr, "antfarm-agent: --ringbuf-mib: %lu is not a power of two\n", v);
				return -1;
			}
			col_opts.ringbuf_bytes = v << 20;
			break;
		default:
			fputs("Try 'antfarm-agent --help'.\n", stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "antfarm-agent: unexpected argument '%s'\nTry 'antfarm-agent --help'.\n",
			argv[optind]);
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
	record_flush(a);
	/* the tick may have produced records (idle exits) */
	ring_ready(a, &a->ring_w, 0);
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

static void run(struct af_agent *a)
{
	struct epoll_event evs[64];

	while (!a->stop) {
		int n = epoll_wait(a->epfd, evs, 64, -1);
		if (n < 0 && errno != EINTR) {
			log_warn("epoll_wait");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct af_watch *w = evs[i].data.ptr;
			w->fn(a, w, evs[i].events);
		}
		server_reap(a);
	}
}

static void cleanup(struct af_agent *a)
{
	/* the last records first: a recording ends with what was inferred */
	if (a->col)
		ring_ready(a, &a->ring_w, 0);
	record_close(a);
	server_close(a);
	hints_close(a);
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
		.signal_w.fd = -1, .timer_w.fd = -1, .listen_w.fd = -1,
		.o = { .socket_path = DEFAULT_SOCKET, .max_clients = 256,
		       .queue_limit = 4096 * 1024, .request_timeout_ns = 5000000000ull,
		       .reply_timeout_ns = 30000000000ull },
		.epfd = -1,
	};
	char err[512] = "";
	int ret = 1;

	if (parse_args(argc, argv, &a.o))
		return 2;
	log_init(1, verbose);
	a.no_switch = no_switch;
	col_opts.verbose = verbose;
	if (replay_path)
		return replay_main(replay_path, verbose);
	if (geteuid() != 0) {
		fprintf(stderr, "antfarm-agent: must run as root (loading BPF programs on the KVM "
			"tracepoints needs CAP_BPF and CAP_PERFMON); try: sudo antfarm-agent\n");
		return 1;
	}
	a.start_ns = af_now_ns();
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
	if (open_fds(&a, err, sizeof(err)) || server_open(&a, err, sizeof(err)))
		goto cleanup;
	if (!foreground) {
		if (daemon(0, 0)) {
			snprintf(err, sizeof(err), "daemon: %s", strerror(errno));
			goto cleanup;
		}
		log_init(0, verbose);
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
	log_info("listening on %s", a.o.socket_path);
	run(&a);
	ret = 0;
cleanup:
	if (err[0])
		log_warnx("%s", err);
	cleanup(&a);
	return ret;
}
