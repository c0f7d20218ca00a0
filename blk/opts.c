// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* antfarm-blk's command line: --help text, option parsing, --sched-opt. */
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lib/num.h"
#include "lib/sock.h"
#include "vub.h"
#include "sched.h"
#include "opts.h"

static void usage(FILE *out)
{
	fprintf(out,
"NAME\n"
"    antfarm-blk - io_uring vhost-user-blk backend with a process-aware scheduling stage\n\n"
"SYNOPSIS\n"
"    antfarm-blk --socket PATH --disk FILE [--num-queues N] [--direct] [--read-only]\n"
"                [--queue-size N] [--stats-socket PATH] [--scheduler NAME] [--hints PATH]\n"
"                [--socket-mode MODE] [--socket-group GROUP]\n"
"                [--hint-wait-us N] [--oracle-ioprio] [--serial ID]\n"
"                [--metrics-listen ADDR:PORT] [-v] [--help]\n"
"                [--hdd-model [--time-scale K]] [--tag-log FILE] [--sched-opt K=V]...\n"
"    antfarm-blk --print-capabilities\n\n"
"DESCRIPTION\n"
"    Serves FILE (a regular file or block device) as a virtio-blk disk to one\n"
"    vhost-user front-end (QEMU) at a time on the Unix socket PATH; when the\n"
"    front-end disconnects, the next connection is served.  Disk I/O goes\n"
"    through io_uring, straight into guest memory.  With the front-end's\n"
"    inflight region (INFLIGHT_SHMFD), requests in flight when antfarm-blk\n"
"    died are resubmitted by the next antfarm-blk process.\n\n"
"OPTIONS\n"
"    --socket PATH, --socket-path PATH   vhost-user socket to listen on; PATH.lock\n"
"                           is held while running; a stale socket is replaced,\n"
"                           a live one or anything else at PATH is an error\n"
"    --fd N                 listen on inherited socket fd N instead\n"
"    --disk FILE, --blk-file FILE        the disk image or device\n"
"    --num-queues N         virtqueues offered (1..%d, default 1)\n"
"    --queue-size N         largest virtqueue accepted (power of two, default 1024)\n"
"    --direct               open the disk with O_DIRECT\n"
"    --read-only            refuse writes (VIRTIO_BLK_F_RO); read-only backends\n"
"                           may share FILE, a writer has it to itself\n"
"    --stats-socket PATH    each connection gets JSON lines: one per queue, the\n"
"                           scheduler's, the hints', then the socket closes\n"
"    --metrics-listen ADDR:PORT  serve the same counters as Prometheus text:\n"
"                           GET /metrics on ADDR:PORT, e.g. 127.0.0.1:9478\n"
"                           or [::1]:9478 (default: off)\n"
"    --scheduler NAME       scheduling stage (default fifo; see below)\n"
"    --hints PATH           SOCK_SEQPACKET socket for antfarm-agent's process hints\n"
"    --socket-mode MODE     mode of the three sockets, octal (default 0660)\n"
"    --socket-group GROUP   their group (default: the caller's)\n"
"    --hint-wait-us N       after a kick, hold the queue's new requests up to N us\n"
"                           (0-10000000, default 1000) for the NOTIFY hint written\n"
"                           before it; then tag them with the latest hint (\"late\")\n"
"    --sched-opt KEY=VALUE  scheduler tunable (repeatable): window_us,\n"
"                           read_expire_ms, write_expire_ms, max_antic, max_inflight\n"
"    --tag-log FILE         write one JSON line per request: arrival time, queue, op,\n"
"                           sector, n, the header's ioprio, the process tag given and\n"
"                           how it was chosen (exact, late, latest, none, oracle)\n"
"    --oracle-ioprio        take the process key from the request header's ioprio\n"
"                           field (the test guest's ground truth; implied by\n"
"                           --scheduler oracle)\n"
"    --hdd-model            delay each completion by a 7200 rpm disk's service time\n"
"                           (blk/hdd.h; one head: device depth 1); experiments only\n"
"    --time-scale K         run the HDD model K times slower (1-1000, default 1), and\n"
"                           the scheduler's window, deadlines and think-time cap with\n"
"                           it (--sched-opt values are model times): for a guest\n"
"                           whose kernel is K times slower than hardware\n"
"    --poll-us N            poll the rings up to N us (0-1000, default 0) before\n"
"                           sleeping: lower latency for a CPU busy while polling\n"
"    --serial ID            answer to VIRTIO_BLK_T_GET_ID (20 bytes max)\n"
"    --print-capabilities   print the vhost-user backend capabilities (JSON) and exit\n"
"    -v                     debug messages (repeat for every message and request)\n"
"    --help                 this text\n\n"
"SCHEDULERS\n   ", VUB_MAX_QUEUES);
	for (int i = 0; af_schedulers[i]; i++)
		fprintf(out, " %s%s", af_schedulers[i]->name, af_schedulers[i]->device_wide ?
			" (device-wide)" : "");
	fprintf(out, "\n\nEXAMPLE\n"
"    antfarm-blk --socket /run/vm0-disk.sock --disk /var/lib/vm0.img --num-queues 2 &\n"
"    qemu-system-x86_64 -M microvm,memory-backend=mem \\\n"
"      -object memory-backend-memfd,id=mem,size=1G,share=on \\\n"
"      -chardev socket,id=c0,path=/run/vm0-disk.sock,reconnect=1 \\\n"
"      -device vhost-user-blk,chardev=c0,num-queues=2 ...\n");
}

static int sched_opt(struct af_sched_conf *c, const char *kv)
{
	static const struct { const char *key; uint64_t scale; size_t off; bool u32; } keys[] = {
		{ "window_us", 1000, offsetof(struct af_sched_conf, antic_window_ns), false },
		{ "read_expire_ms", 1000000, offsetof(struct af_sched_conf, read_expire_ns), false },
		{ "write_expire_ms", 1000000, offsetof(struct af_sched_conf, write_expire_ns), false },
		{ "max_antic", 1, offsetof(struct af_sched_conf, max_antic), true },
		{ "max_inflight", 1, offsetof(struct af_sched_conf, max_inflight), true },
	};
	const char *eq = strchr(kv, '=');
	unsigned v;

	for (size_t i = 0; eq && i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].key) != (size_t)(eq - kv) || strncmp(kv, keys[i].key, eq - kv))
			continue;
		if (parse_uint(eq + 1, 0, 1u << 30, &v) < 0)
			break;
		if (keys[i].u32)
			*(uint32_t *)((char *)c + keys[i].off) = v;
		else
			*(uint64_t *)((char *)c + keys[i].off) = v * keys[i].scale;
		return 0;
	}
	log_warnx("bad --sched-opt '%s' (see --help)", kv);
	return -1;
}

int opts_sched_conf(const struct opts *o, struct af_sched_conf *c)
{
	for (unsigned i = 0; i < o->n_sched_opts; i++)
		if (sched_opt(c, o->sched_opts[i]) < 0)
			return -1;
	return 0;
}

int parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_SOCKET = 256, OPT_FD, OPT_DISK, OPT_NQ, OPT_DIRECT, OPT_RO, OPT_QSIZE, OPT_STATS, OPT_SCHED,
	       OPT_HINTS, OPT_HINT_WAIT, OPT_ORACLE, OPT_SERIAL, OPT_CAPS, OPT_HELP, OPT_SCHED_OPT, OPT_HDD,
	       OPT_POLL, OPT_SMODE, OPT_SGROUP, OPT_METRICS, OPT_SCALE, OPT_TAGLOG };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "socket-path", required_argument, NULL, OPT_SOCKET },
		{ "fd", required_argument, NULL, OPT_FD },
		{ "disk", required_argument, NULL, OPT_DISK },
		{ "blk-file", required_argument, NULL, OPT_DISK },
		{ "num-queues", required_argument, NULL, OPT_NQ },
		{ "direct", no_argument, NULL, OPT_DIRECT },
		{ "read-only", no_argument, NULL, OPT_RO },
		{ "queue-size", required_argument, NULL, OPT_QSIZE },
		{ "stats-socket", required_argument, NULL, OPT_STATS },
		{ "metrics-listen", required_argument, NULL, OPT_METRICS },
		{ "scheduler", required_argument, NULL, OPT_SCHED },
		{ "hints", required_argument, NULL, OPT_HINTS },
		{ "hint-wait-us", required_argument, NULL, OPT_HINT_WAIT },
		{ "oracle-ioprio", no_argument, NULL, OPT_ORACLE },
		{ "sched-opt", required_argument, NULL, OPT_SCHED_OPT },
		{ "hdd-model", no_argument, NULL, OPT_HDD },
		{ "time-scale", required_argument, NULL, OPT_SCALE },
		{ "tag-log", required_argument, NULL, OPT_TAGLOG },
		{ "poll-us", required_argument, NULL, OPT_POLL },
		{ "serial", required_argument, NULL, OPT_SERIAL },
		{ "socket-mode", required_argument, NULL, OPT_SMODE },
		{ "socket-group", required_argument, NULL, OPT_SGROUP },
		{ "print-capabilities", no_argument, NULL, OPT_CAPS },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	unsigned fd;

	while ((c = getopt_long(argc, argv, "v", lo, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET: o->socket = optarg; break;
		case OPT_FD:
			if (parse_opt_uint("--fd", optarg, 0, 1 << 20, &fd) < 0)
				goto bad;
			o->listen_fd = fd;
			break;
		case OPT_DISK: o->disk = optarg; break;
		case OPT_NQ:
			if (parse_opt_uint("--num-queues", optarg, 1, VUB_MAX_QUEUES, &o->nqueues) < 0)
				goto bad;
			break;
		case OPT_QSIZE:
			if (parse_opt_uint("--queue-size", optarg, 2, VUB_MAX_QSIZE, &o->qsize) < 0 ||
			    (o->qsize & (o->qsize - 1)))
				goto bad;
			break;
		case OPT_DIRECT: o->direct = true; break;
		case OPT_RO: o->ro = true; break;
		case OPT_STATS: o->stats = optarg; break;
		case OPT_METRICS: o->metrics = optarg; break;
		case OPT_SCHED: o->sched = optarg; break;
		case OPT_HINTS: o->hints = optarg; break;
		case OPT_TAGLOG: o->tag_log = optarg; break;
		case OPT_HINT_WAIT:
			if (parse_opt_uint("--hint-wait-us", optarg, 0, 10000000, &o->hint_wait_us) < 0)
				goto bad;
			break;
		case OPT_ORACLE: o->oracle = true; break;
		case OPT_HDD: o->hdd = true; break;
		case OPT_SCALE:
			if (parse_opt_uint("--time-scale", optarg, 1, 1000, &o->time_scale) < 0)
				goto bad;
			break;
		case OPT_POLL:
			if (parse_opt_uint("--poll-us", optarg, 0, 1000, &o->poll_us) < 0)
				goto bad;
			break;
		case OPT_SCHED_OPT:
			if (o->n_sched_opts >= 16)
				goto bad;
			o->sched_opts[o->n_sched_opts++] = optarg;
			break;
		case OPT_SERIAL: o->serial = optarg; break;
		case OPT_SMODE:
			if (sock_parse_mode(optarg, &o->socket_mode) < 0) {
				log_warnx("--socket-mode: '%s' is not an octal mode (example: 0660)",
					  optarg);
				goto bad;
			}
			break;
		case OPT_SGROUP:
			if (sock_parse_group(optarg, &o->socket_gid) < 0) {
				log_warnx("--socket-group: no group '%s'", optarg);
				goto bad;
			}
			break;
		case OPT_CAPS:
			printf("{\"type\":\"block\",\"features\":[\"read-only\",\"blk-file\"]}\n");
			exit(0);
		case OPT_HELP: usage(stdout); exit(0);
		case 'v': o->verbose++; break;
		default: goto bad;
		}
	}
	if (optind != argc || (!o->socket && o->listen_fd < 0) || !o->disk) {
		log_warnx("--socket (or --fd) and --disk are required");
		return -1;
	}
	if (o->time_scale > 1 && !o->hdd) {
		log_warnx("--time-scale slows the HDD model down: it needs --hdd-model");
		return -1;
	}
	return 0;
bad:
	log_warnx("bad option or value (see --help)");
	return -1;
}

