// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * vhu-client: a vhost-user-blk front-end for tests and benchmarks.
 *
 *   vhu-client --socket PATH [options] info|verify|bench|raw
 *
 * See usage() for the options.  Exit status: 0 success, 1 failure, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vhu.h"
#include "vhu_client.h"

static void usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"    vhu-client - vhost-user-blk front-end for tests and benchmarks\n\n"
"SYNOPSIS\n"
"    vhu-client --socket PATH [options] info | verify | bench | raw\n\n"
"DESCRIPTION\n"
"    Plays the VMM's part against any vhost-user-blk back-end: shares a\n"
"    memfd as guest memory, negotiates features (MQ, CONFIG, REPLY_ACK,\n"
"    INFLIGHT_SHMFD when offered), sets up split virtqueues and issues\n"
"    virtio-blk requests with eventfd kick and call (EVENT_IDX when offered).\n\n"
"COMMANDS\n"
"    info     features, protocol features, queues, config space, device id\n"
"    verify   patterned writes read back on every queue, flush, write-zeroes\n"
"             and discard read back as zeros, get-id; exit 1 on any failure\n"
"    bench    closed-loop load: --rw, --bs, --qd per queue, --seconds\n"
"    raw      send one hand-made message: --msg REQ[,SIZE[,FLAGS]]\n"
"             [--payload HEX] [--fds N]; print the reply or the outcome\n\n"
"OPTIONS\n"
"    -s, --socket PATH     back-end socket (required)\n"
"    -q, --queues N        queues to use (default 1)\n"
"        --queue-size N    ring size (default 256)\n"
"    -d, --qd N            requests in flight per queue (default 1 for bench)\n"
"    -b, --bs SIZE         request size, suffix k/m (default 4k)\n"
"    -r, --rw MODE         randread|randwrite|read|write (default randread)\n"
"    -t, --seconds S       bench duration (default 5)\n"
"        --span SIZE       bytes of the disk to address (default: all)\n"
"    -p, --pid PID         back-end pid: report its CPU time from /proc\n"
"    -j, --json            one JSON object instead of text\n"
"        --label K=V       extra JSON field (repeatable)\n"
"        --no-event-idx    do not negotiate VIRTIO_F_EVENT_IDX\n"
"        --no-indirect     do not negotiate VIRTIO_F_RING_INDIRECT_DESC\n"
"        --no-inflight     do not negotiate INFLIGHT_SHMFD\n"
"    -v, --verbose\n"
"    -h, --help\n\n"
"EXAMPLES\n"
"    vhu-client -s /tmp/blk.sock info\n"
"    vhu-client -s /tmp/blk.sock -q 2 verify\n"
"    vhu-client -s /tmp/blk.sock bench --rw randread --bs 4k --qd 16 -t 5 --json\n");
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static void print_features(const char *what, uint64_t offered, uint64_t acked)
{
	printf("%-18s offered 0x%016llx  negotiated 0x%016llx\n", what,
	       (unsigned long long)offered, (unsigned long long)acked);
}

static int cmd_info(struct vhu_dev *d, struct client_opts *c)
{
	char id[VIRTIO_BLK_ID_BYTES + 1];
	const struct blk_config *g = &d->cfg;
	int idok = vhu_check_get_id(d, id) == 0;

	if (c->json) {
		printf("{\"features\":%llu,\"acked\":%llu,\"protocol_features\":%llu,"
		       "\"acked_protocol\":%llu,\"max_queues\":%llu,\"queues\":%u,"
		       "\"queue_size\":%u,\"capacity\":%llu,\"blk_size\":%u,"
		       "\"num_queues\":%u,\"seg_max\":%u,\"inflight\":%d,\"id\":\"%s\"}\n",
		       (unsigned long long)d->features, (unsigned long long)d->acked,
		       (unsigned long long)d->proto, (unsigned long long)d->acked_proto,
		       (unsigned long long)d->max_queues, d->nq, d->o.queue_size,
		       (unsigned long long)g->capacity, g->blk_size, g->num_queues,
		       g->seg_max, d->inflight != NULL, idok ? id : "");
		return 0;
	}
	print_features("features", d->features, d->acked);
	print_features("protocol features", d->proto, d->acked_proto);
	printf("%-18s %llu (using %u, ring size %u, %u slots each)\n", "max queues",
	       (unsigned long long)d->max_queues, d->nq, d->o.queue_size, d->vq[0].nslots);
	printf("%-18s %s\n", "inflight buffer", d->inflight ? "yes" : "no");
	if (d->have_cfg)
		printf("%-18s capacity %llu sectors (%llu MiB), blk_size %u, seg_max %u,\n"
		       "%-18s size_max %u, num_queues %u, wce %u, max_discard_sectors %u,\n"
		       "%-18s max_write_zeroes_sectors %u\n",
		       "config", (unsigned long long)g->capacity,
		       (unsigned long long)(g->capacity >> 11), g->blk_size, g->seg_max,
		       "", g->size_max, g->num_queues, g->wce, g->max_discard_sectors,
		       "", g->max_write_zeroes_sectors);
	printf("%-18s %s\n", "id", idok ? id : "(failed)");
	return 0;
}

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "queues", required_argument, NULL, 'q' },
	{ "queue-size", required_argument, NULL, 'Q' },
	{ "qd", required_argument, NULL, 'd' },
	{ "bs", required_argument, NULL, 'b' },
	{ "rw", required_argument, NULL, 'r' },
	{ "seconds", required_argument, NULL, 't' },
	{ "span", required_argument, NULL, 'S' },
	{ "pid", required_argument, NULL, 'p' },
	{ "json", no_argument, NULL, 'j' },
	{ "label", required_argument, NULL, 'L' },
	{ "no-event-idx", no_argument, NULL, 'E' },
	{ "no-indirect", no_argument, NULL, 'I' },
	{ "no-inflight", no_argument, NULL, 'F' },
	{ "msg", required_argument, NULL, 'm' },
	{ "payload", required_argument, NULL, 'P' },
	{ "fds", required_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ 0 }
};

static int parse_opt(struct client_opts *c, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case 's': c->socket = arg; return 0;
	case 'r': c->rw = arg; return 0;
	case 'j': c->json = 1; return 0;
	case 'E': c->vo.no_event_idx = 1; return 0;
	case 'I': c->vo.no_indirect = 1; return 0;
	case 'F': c->vo.want_inflight = 0; return 0;
	case 'm': c->msg = arg; return 0;
	case 'P': c->payload = arg; return 0;
	case 'v': c->verbose++; return 0;
	case 'L':
		if (c->nlabels >= 8 || !strchr(arg, '='))
			return -1;
		c->labels[c->nlabels++] = arg;
		return 0;
	}
	if (!arg || parse_size(arg, &v) < 0)
		return -1;
	switch (opt) {
	case 'q': c->queues = v; return v >= 1 && v <= VHU_MAX_QUEUES ? 0 : -1;
	case 'Q': c->vo.queue_size = v; return v >= 4 && v <= 32768 ? 0 : -1;
	case 'd': c->qd = v; return v >= 1 && v <= 32768 ? 0 : -1;
	case 'b': c->bs = v; return v >= 512 && v % 512 == 0 && v <= (16 << 20) ? 0 : -1;
	case 't': c->seconds = v; return v >= 1 ? 0 : -1;
	case 'S': c->span = v; return 0;
	case 'p': c->pid = v; return 0;
	case 'f': c->nfds = v; return v <= 16 ? 0 : -1;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct client_opts c = { .queues = 1, .qd = 0, .bs = 4096, .rw = "randread",
				 .seconds = 5 };
	struct vhu_dev d;
	const char *cmd;
	int opt, rc;

	vhu_opts_defaults(&c.vo);
	while ((opt = getopt_long(argc, argv, "s:q:d:b:r:t:p:jvh", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return 0;
		}
		if (opt == '?' || parse_opt(&c, opt, optarg) < 0) {
			fprintf(stderr, "vhu-client: bad option or value (%s)\n",
				optarg ? optarg : argv[optind - 1]);
			return 2;
		}
	}
	if (!c.socket || optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	if (!strcmp(cmd, "raw"))
		return cmd_raw(&c);
	if (strcmp(cmd, "info") && strcmp(cmd, "verify") && strcmp(cmd, "bench")) {
		fprintf(stderr, "vhu-client: unknown command '%s'\n", cmd);
		return 2;
	}
	if (!strcmp(cmd, "bench"))
		bench_prepare_opts(&c);
	rc = vhu_dev_init(&d, &c.vo, c.queues);
	if (rc == 0)
		rc = vhu_setup(&d, c.socket, 2000);
	if (rc < 0) {
		fprintf(stderr, "vhu-client: setting up %s: %s\n", c.socket,
			rc == -ERANGE ? "more queues asked than the back-end offers"
				      : strerror(-rc));
		vhu_dev_free(&d);
		return 1;
	}
	d.verbose = c.verbose;
	if (!strcmp(cmd, "info"))
		rc = cmd_info(&d, &c);
	else if (!strcmp(cmd, "verify"))
		rc = vhu_check_all(&d, 1) ? 1 : 0;
	else
		rc = cmd_bench(&d, &c);
	vhu_dev_free(&d);
	return rc;
}
