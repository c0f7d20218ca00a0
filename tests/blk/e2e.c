// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * antfarm-blk end to end over its real socket, with the vhu front-end:
 * the read/write path and every request type, status codes for bad
 * requests, hostile messages and chains (the process survives, the next
 * connection works), reconnect, stats and hint sockets, and kill -9 with
 * requests in flight followed by a restart that completes them
 * (INFLIGHT_SHMFD).  Read-only disks: tests/vhu/test_blk.c.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include "antfarm_hint.h"
#include "lib/sock.h"
#include "testlib.h"

#define DISK_MB	8
#define QSIZE	128
#define SERIAL	"antfarm-test-serial"
#define TMO	5000		/* ms for a request that must complete */

static struct vhu_backend be;
static char stats[300], hints[300], disk[300];

static void start_with(const char *env, const char *d, unsigned nq, int writable,
		       const char *a1, const char *a2, const char *a3)
{
	const char *args[] = { "--stats-socket", stats, "--hints", hints, "--serial", SERIAL,
			       "-v", a1, a2, a3, NULL };
	int rc;

	rc = vhu_backend_start_env(&be, env, VHU_BLK, "blk.sock", d, nq, writable, args);
	if (rc < 0) {
		printf("FAIL: starting antfarm-blk: %s\n", strerror(-rc));
		vhu_backend_dump_log(&be);
		exit(1);
	}
}

static void start(const char *env, bool ro, unsigned nq)
{
	start_with(env, disk, nq, !ro, NULL, NULL, NULL);
}

static void restart_with(const char *d, const char *a1, const char *a2, const char *a3)
{
	vhu_backend_stop(&be);
	start_with(NULL, d, 2, 1, a1, a2, a3);
}

/* Direct chains (no indirect tables), so that the hostile cases can bend
 * the descriptors of slot 0: header 0, data 1, status 2. */
static bool connect_start(struct vhu_dev *d, unsigned nq, bool inflight, bool event_idx)
{
	struct vhu_opts o;

	vhu_opts_defaults(&o);
	o.queue_size = QSIZE;
	o.qd = 16;
	o.buf_size = 16384;
	o.no_indirect = 1;
	o.no_event_idx = !event_idx;
	o.want_inflight = inflight;
	return test_connect_with(d, &be, &o, nq) == 0;
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static int rw(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector, void *buf,
	      uint32_t len)
{
	return vhu_rw_sync(d, q, type, sector, buf, len, TMO);
}

static void test_rw(struct vhu_dev *d, unsigned qi)
{
	static uint8_t w[16384], r[16384];
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	int fd = open(disk, O_RDONLY);

	fill(w, sizeof(w), qi + 1);
	CHECK(rw(d, qi, VIRTIO_BLK_T_OUT, 8, w, sizeof(w)) == VIRTIO_BLK_S_OK, "write q%u", qi);
	CHECK(rw(d, qi, VIRTIO_BLK_T_IN, 8, r, sizeof(r)) == VIRTIO_BLK_S_OK, "read q%u", qi);
	CHECK(!memcmp(w, r, sizeof(w)), "read back differs (queue %u)", qi);
	memset(r, 0, sizeof(r));
	CHECK(pread(fd, r, sizeof(r), 8 * 512) == sizeof(r) && !memcmp(w, r, sizeof(w)),
	      "disk file does not hold the written data");
	close(fd);
	CHECK(rw(d, qi, VIRTIO_BLK_T_FLUSH, 0, NULL, 0) == VIRTIO_BLK_S_OK, "flush");
	CHECK(rw(d, qi, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES) == VIRTIO_BLK_S_OK &&
	      !strcmp(id, SERIAL), "GET_ID gave '%s'", id);
}

static int segment(struct vhu_dev *d, unsigned q, uint32_t type, uint64_t sector, uint32_t n,
		   uint32_t flags)
{
	return vhu_dwz_sync(d, q, type, sector, n, flags, TMO);
}

static void test_ops(struct vhu_dev *d)
{
	static uint8_t buf[8192], zero[8192];
	uint64_t cap = DISK_MB * 2048ull;

	memset(buf, 0xab, sizeof(buf));
	rw(d, 0, VIRTIO_BLK_T_OUT, 64, buf, sizeof(buf));
	CHECK(segment(d, 0, VIRTIO_BLK_T_DISCARD, 64, 8, 0) == VIRTIO_BLK_S_OK, "discard");
	CHECK(segment(d, 0, VIRTIO_BLK_T_WRITE_ZEROES, 72, 8, 0) == VIRTIO_BLK_S_OK,
	      "write zeroes");
	CHECK(rw(d, 0, VIRTIO_BLK_T_IN, 64, buf, sizeof(buf)) == VIRTIO_BLK_S_OK &&
	      !memcmp(buf, zero, sizeof(buf)), "discarded/zeroed range does not read as zeroes");
	CHECK(segment(d, 0, VIRTIO_BLK_T_DISCARD, 64, 8, 1) == VIRTIO_BLK_S_UNSUPP,
	      "discard with the unmap flag must be UNSUPP");
	CHECK(segment(d, 0, VIRTIO_BLK_T_WRITE_ZEROES, cap - 4, 8, 0) == VIRTIO_BLK_S_IOERR,
	      "write zeroes past the end");
	CHECK(rw(d, 0, VIRTIO_BLK_T_IN, cap - 1, buf, 1024) == VIRTIO_BLK_S_IOERR,
	      "read past the end");
	CHECK(rw(d, 0, VIRTIO_BLK_T_IN, ~0ull - 1, buf, 1024) == VIRTIO_BLK_S_IOERR,
	      "sector overflow");
	CHECK(rw(d, 0, VIRTIO_BLK_T_OUT, 0, buf, 100) == VIRTIO_BLK_S_IOERR,
	      "write of a partial sector");
	CHECK(rw(d, 0, 99, 0, buf, 512) == VIRTIO_BLK_S_UNSUPP, "unknown type");
	CHECK(rw(d, 0, VIRTIO_BLK_T_IN, cap - 2, buf, 1024) == VIRTIO_BLK_S_OK,
	      "read of the last sectors");
}

static void test_config(struct vhu_dev *d)
{
	CHECK(d->have_cfg, "no GET_CONFIG");
	CHECK(d->cfg.capacity == DISK_MB * 2048ull, "capacity %llu",
	      (unsigned long long)d->cfg.capacity);
	CHECK(d->cfg.num_queues == 2 && d->cfg.blk_size == 512, "num_queues %u blk_size %u",
	      d->cfg.num_queues, d->cfg.blk_size);
}

/* The next front-end is served: GET_FEATURES answered. */
static bool serves(void)
{
	struct vhu_dev d = { .acked_proto = 0 };
	uint64_t f = 0;
	int s = vhu_connect(be.sock, 2000), rc;

	if (s < 0)
		return false;
	d.sock = s;
	rc = vhu_get_u64(&d, VHU_GET_FEATURES, &f);
	close(s);
	return rc == 0 && f;
}

/* Sends one raw message; the backend must drop the connection. */
static void hostile_msg(const char *what, uint32_t req, uint32_t flags, const void *p,
			uint32_t size, const int *fds, unsigned nfds)
{
	struct vhu_msg m = { .request = req, .flags = flags, .size = size };
	int s = vhu_connect(be.sock, 2000);
	char c;

	if (!CHECK(s >= 0, "connect for %s", what))
		return;
	if (size)
		memcpy(m.u.raw, p, size);
	vhu_send(s, &m, fds, nfds);
	CHECK(read(s, &c, 1) <= 0, "%s: connection not closed", what);
	close(s);
	CHECK(vhu_backend_alive(&be), "backend died on %s", what);
	CHECK(serves(), "no service after %s", what);
}

static void test_hostile_msgs(void)
{
	uint8_t big[512] = { 0 };
	struct { uint32_t n, pad; uint64_t r[4 * 9]; } mt = { 9, 0, { 0 } };
	uint32_t st[2] = { 7, 128 };
	int fd = open("/dev/null", O_RDONLY), small;

	hostile_msg("bad version", VHU_GET_FEATURES, 2, NULL, 0, NULL, 0);
	hostile_msg("reply flag on a request", VHU_GET_FEATURES,
		    VHU_FLAG_VERSION | VHU_FLAG_REPLY, NULL, 0, NULL, 0);
	hostile_msg("oversized payload", VHU_GET_CONFIG, VHU_FLAG_VERSION, big, sizeof(big),
		    NULL, 0);
	hostile_msg("9 memory regions", VHU_SET_MEM_TABLE, VHU_FLAG_VERSION, &mt, 8 + 9 * 32,
		    NULL, 0);
	mt.n = 1;
	hostile_msg("region without fd", VHU_SET_MEM_TABLE, VHU_FLAG_VERSION, &mt, 8 + 32,
		    NULL, 0);
	mt.r[1] = 4096;	/* size; fd /dev/null cannot be mapped shared */
	hostile_msg("unmappable region", VHU_SET_MEM_TABLE, VHU_FLAG_VERSION, &mt, 8 + 32, &fd, 1);
	/* mapping past the end of a file would SIGBUS on first touch */
	small = memfd_create("small", MFD_CLOEXEC);
	CHECK(small >= 0 && ftruncate(small, 4096) == 0, "memfd");
	mt.r[1] = 1 << 20;
	hostile_msg("region larger than its memfd", VHU_SET_MEM_TABLE, VHU_FLAG_VERSION,
		    &mt, 8 + 32, &small, 1);
	mt.r[1] = 4096;
	mt.r[3] = 1ull << 40;	/* mmap offset */
	hostile_msg("mmap offset past the end of its memfd", VHU_SET_MEM_TABLE,
		    VHU_FLAG_VERSION, &mt, 8 + 32, &small, 1);
	close(small);
	hostile_msg("ring index beyond num-queues", VHU_SET_VRING_ENABLE, VHU_FLAG_VERSION,
		    st, 8, NULL, 0);
	st[0] = 0;
	st[1] = 100;
	hostile_msg("queue size not a power of two", VHU_SET_VRING_NUM, VHU_FLAG_VERSION,
		    st, 8, NULL, 0);
	hostile_msg("kick with fd flag and an fd", VHU_SET_VRING_KICK, VHU_FLAG_VERSION,
		    &(uint64_t){ VHU_VRING_NOFD }, 8, &fd, 1);
	hostile_msg("short u64 payload", VHU_SET_FEATURES, VHU_FLAG_VERSION, st, 4, NULL, 0);
	hostile_msg("config window past 256 bytes", VHU_GET_CONFIG, VHU_FLAG_VERSION,
		    &(uint32_t[4]){ 250, 10, 0, 0 }, 12 + 10, NULL, 0);
	close(fd);
}

static unsigned stat_errors(void)
{
	static char buf[65536];
	const char *p;

	if (vhu_read_stats(stats, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\"errors\":")))
		return ~0u;
	return atoi(p + 9);
}

/* Ring corruption marks the queue broken (no completion, logged, counted);
 * nothing crashes.  'good' requests before the bad one still complete. */
static void hostile_chain(const char *what, void (*corrupt)(struct vhu_vq *), int good)
{
	unsigned before = stat_errors();
	struct vhu_dev d;
	int done = 0, n;

	if (!CHECK(connect_start(&d, 1, false, true), "start for %s", what))
		goto out;
	CHECK(vhu_req_submit(&d.vq[0].slots[0], VIRTIO_BLK_T_IN, 0, 4096) == 0, "%s", what);
	corrupt(&d.vq[0]);
	vhu_kick(&d.vq[0]);
	while (done < good && (n = vhu_poll(&d, 3000, NULL, NULL)) > 0)
		done += n;
	CHECK(done == good, "%s: %d of %d good requests completed", what, done, good);
	CHECK(vhu_poll(&d, 300, NULL, NULL) == 0, "%s: completed anyway", what);
	CHECK(vhu_backend_alive(&be), "backend died on %s", what);
	CHECK(stat_errors() == before + 1, "%s: not counted as an error", what);
out:
	vhu_dev_free(&d);
}

static void outside(struct vhu_vq *vq) { vq->desc[1].addr = 0x7fff00000000ull; }
static void self_loop(struct vhu_vq *vq) { vq->desc[1].next = 1; vq->desc[1].flags |= 1; }
static void no_status(struct vhu_vq *vq) { vq->desc[0].flags = 0; }

static void jump(struct vhu_vq *vq)
{
	vq->avail_idx += 200;
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
}

static void twice(struct vhu_vq *vq)
{
	vhu_publish(vq, vq->slots[0].head);
}

static void test_hostile_chains(void)
{
	hostile_chain("buffer outside memory", outside, 0);
	hostile_chain("descriptor loop", self_loop, 0);
	hostile_chain("avail index jump", jump, 0);
	hostile_chain("chain without a status byte", no_status, 0);
	hostile_chain("head made available twice", twice, 1);
}

static int set_kick(struct vhu_dev *d, int fd)
{
	struct vhu_msg m = { .request = VHU_SET_VRING_KICK, .size = 8, .u.u64 = 0 };

	return vhu_call(d, &m, &fd, 1);
}

/* A kick "eventfd" that reads end-of-file must not make the worker spin. */
static void test_null_kick(void)
{
	const char *eof = "kick fd reached end of file";
	struct vhu_dev d;
	int null = open("/dev/null", O_RDONLY);

	CHECK(connect_start(&d, 1, false, true), "start for null kick");
	CHECK(set_kick(&d, null) == 0, "SET_VRING_KICK /dev/null");
	for (int i = 0; i < 100 && !vhu_backend_log_has(&be, eof); i++)
		usleep(20000);
	CHECK(vhu_backend_log_has(&be, eof), "EOF on the kick fd not noticed");
	close(null);
	vhu_dev_free(&d);
	CHECK(vhu_backend_alive(&be), "backend died on a /dev/null kick");
}

/* A request answered with an ack: 0, or the non-zero ack (or error). */
static int acked(struct vhu_dev *d, uint32_t req, const void *p, uint32_t len)
{
	struct vhu_msg m = { .request = req, .size = len };

	memcpy(m.u.raw, p, len);
	return vhu_call(d, &m, NULL, 0);
}

/*
 * What QEMU does around guest resets and memory hotplug: stop a ring with
 * GET_VRING_BASE and restart it from that base; resend the memory table
 * while rings run; toggle the write cache; refused requests keep the
 * connection.
 */
static void test_protocol(void)
{
	static uint8_t buf[4096];
	struct vhu_msg m = { .request = VHU_GET_VRING_BASE, .size = 8 };
	struct { uint32_t off, size, flags; uint8_t wce; } cfg = { 32, 1, 0, 0 };
	struct vhu_dev d;

	CHECK(connect_start(&d, 1, false, true), "start");
	for (int i = 0; i < 3; i++)
		rw(&d, 0, VIRTIO_BLK_T_IN, i, buf, sizeof(buf));
	CHECK(vhu_call(&d, &m, NULL, 0) == 0 && m.u.state.num == 3, "vring base %u",
	      m.u.state.num);
	CHECK(vhu_set_state(&d, VHU_SET_VRING_BASE, 0, m.u.state.num) == 0,
	      "SET_VRING_BASE after stop");
	CHECK(set_kick(&d, d.vq[0].kick_fd) == 0, "SET_VRING_KICK restart");
	CHECK(rw(&d, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0, "I/O after ring restart");
	CHECK(vhu_set_mem_table(&d) == 0, "SET_MEM_TABLE while running");
	CHECK(rw(&d, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0, "I/O after new mem table");
	CHECK(acked(&d, VHU_SET_CONFIG, &cfg, 13) == 0, "SET_CONFIG writeback=0");
	CHECK(rw(&d, 0, VIRTIO_BLK_T_OUT, 0, buf, sizeof(buf)) == 0, "write-through write");
	cfg.off = 0;
	CHECK(acked(&d, VHU_SET_CONFIG, &cfg, 13) != 0, "SET_CONFIG of capacity must be refused");
	CHECK(acked(&d, VHU_SET_LOG_BASE, &(uint64_t[2]){ 4096, 0 }, 16) != 0,
	      "SET_LOG_BASE must be refused");
	CHECK(acked(&d, VHU_SEND_RARP, &(uint64_t){ 0 }, 8) != 0, "unsupported request refused");
	CHECK(rw(&d, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0,
	      "connection still served after refusals");
	vhu_dev_free(&d);
	test_null_kick();
}

static int hint_connect(void)
{
	int fd = sock_connect(hints, SOCK_SEQPACKET, 2000);

	CHECK(fd >= 0, "hint connect: %s", strerror(-fd));
	return fd;
}

/* The first message on a new hint connection: SERVE, of no VM here. */
static void expect_serve(int fd, uint32_t vm_pid)
{
	struct af_hint m;
	ssize_t n = recv(fd, &m, sizeof(m), 0);

	CHECK(n == sizeof(m) && m.magic == AF_HINT_MAGIC && m.version == AF_HINT_VERSION &&
	      m.type == AF_HINT_SERVE && m.vm_pid == vm_pid && m.value == 2,
	      "first hint from antfarm-blk: %zd bytes, type %u, vm %u, value %llu", n,
	      n > 0 ? m.type : 0, n > 0 ? m.vm_pid : 0, n > 0 ? (unsigned long long)m.value : 0);
}

/* A bad hint closes the connection: read what antfarm-blk said first. */
static void expect_closed(int fd, const char *what)
{
	struct af_hint m;
	ssize_t n;

	while ((n = recv(fd, &m, sizeof(m), 0)) > 0)
		;
	CHECK(n == 0, "%s did not close the hint connection", what);
}

static void spoil_magic(struct af_hint *h) { h->magic = 0; }
static void spoil_version(struct af_hint *h) { h->version = 1; }
static void spoil_type(struct af_hint *h) { h->type = AF_HINT_SERVE; }
static void spoil_type99(struct af_hint *h) { h->type = 99; }

static void test_stats_and_hints(void)
{
	static char buf[65536];
	struct af_hint h = { .magic = AF_HINT_MAGIC, .version = AF_HINT_VERSION,
			     .type = AF_HINT_NOTIFY, .ts_ns = 1, .proc = 42 };
	struct { const char *what; void (*spoil)(struct af_hint *); } bad[] = {
		{ "bad magic", spoil_magic }, { "protocol version 1", spoil_version },
		{ "SERVE from the agent's side", spoil_type }, { "unknown type 99", spoil_type99 },
	};
	int fd = hint_connect();

	expect_serve(fd, 0);
	CHECK(send(fd, &h, sizeof(h), 0) == sizeof(h), "hint send");
	spoil_magic(&h);
	send(fd, &h, sizeof(h), 0);
	expect_closed(fd, "bad magic");
	close(fd);
	for (size_t i = 1; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct af_hint b = { .magic = AF_HINT_MAGIC, .version = AF_HINT_VERSION,
				     .type = AF_HINT_NOTIFY, .ts_ns = 1 };

		fd = hint_connect();
		bad[i].spoil(&b);
		send(fd, &b, sizeof(b), 0);
		expect_closed(fd, bad[i].what);
		close(fd);
	}
	fd = hint_connect();
	send(fd, &h, 20, 0);	/* short */
	expect_closed(fd, "a 20-byte hint");
	close(fd);
	CHECK(vhu_read_stats(stats, buf, sizeof(buf)) == 0, "stats socket");
	CHECK(strstr(buf, "\"type\":\"queue\",\"queue\":0,\"requests\":") != NULL,
	      "queue stats: %s", buf);
	CHECK(strstr(buf, "\"notify\":1,") && strstr(buf, "\"bad\":5,"), "hint counts: %s", buf);
	CHECK(strstr(buf, "\"type\":\"scheduler\",\"name\":\"fifo\"") != NULL, "scheduler stats");
	CHECK(strstr(buf, "\"p99_us\":") != NULL, "latency percentiles");
	CHECK(vhu_backend_log_has(&be, "another hint protocol version"),
	      "no clear message for a version-1 hint");
}

/* kill -9 with writes in flight, restart, the same front-end state continues. */
static void test_crash_restart(void)
{
	enum { N = 6, LEN = 8192 };
	static uint8_t w[N][LEN], r[LEN];
	struct vhu_dev d;
	int done = 0, n, fd;

	vhu_backend_stop(&be);
	start("ANTFARM_BLK_TEST_HOLD_MS=20000", false, 2);
	if (!CHECK(connect_start(&d, 1, true, true), "start with inflight region"))
		goto out;
	for (int i = 0; i < N; i++) {
		struct vhu_req *rq = &d.vq[0].slots[i];

		fill(w[i], LEN, 100 + i);
		memcpy(rq->buf, w[i], LEN);
		CHECK(vhu_req_submit(rq, VIRTIO_BLK_T_OUT, 256 + i * 16, LEN) == 0, "submit %d", i);
	}
	vhu_kick(&d.vq[0]);
	usleep(300000);
	CHECK(d.vq[0].used->idx == 0, "completions were not held");
	vhu_backend_kill(&be, SIGKILL);
	/* wipe what the first backend wrote: the restart must redo the writes */
	fd = open(disk, O_RDWR);
	CHECK(fallocate(fd, 0x02 | 0x01, 256 * 512, N * 16 * 512) == 0, "punch");
	start(NULL, false, 2);
	CHECK(vhu_reconnect(&d, be.sock, 2000) == 0, "reconnect");
	while (done < N && (n = vhu_poll(&d, TMO, NULL, NULL)) > 0)
		done += n;
	CHECK(done == N, "%d of %d requests completed after the restart", done, N);
	for (int i = 0; i < N; i++) {
		CHECK(*d.vq[0].slots[i].status == VIRTIO_BLK_S_OK, "status of request %d", i);
		CHECK(pread(fd, r, LEN, (256 + i * 16) * 512) == LEN && !memcmp(r, w[i], LEN),
		      "write %d lost or torn", i);
	}
	close(fd);
	/* the restarted backend continues where the ring is */
	CHECK(rw(&d, 0, VIRTIO_BLK_T_IN, 256, r, LEN) == 0 && !memcmp(r, w[0], LEN),
	      "I/O after the restart");
out:
	vhu_dev_free(&d);
}

/*
 * Device-wide schedulers (one dispatch thread for both queues) with the HDD
 * delay stage at device depth 1, on a tmpfs file where write-zeroes takes
 * the punch-hole fallback: every request must come back.
 */
static void test_schedulers(void)
{
	static const char *const names[] = { "deadline", "anticipatory", "oracle" };
	static uint8_t buf[4096], zero[4096];
	char shm[64];
	struct vhu_dev d;
	int fd;

	snprintf(shm, sizeof(shm), "/dev/shm/antfarm-blk-e2e.%d", (int)getpid());
	fd = open(shm, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4 << 20) < 0) {
		printf("no /dev/shm; scheduler cases skipped\n");
		return;
	}
	close(fd);
	for (unsigned i = 0; i < 3; i++) {
		restart_with(shm, "--scheduler", names[i], "--hdd-model");
		CHECK(connect_start(&d, 2, false, true), "start with %s", names[i]);
		memset(buf, 0x5a, sizeof(buf));
		CHECK(rw(&d, 1, VIRTIO_BLK_T_OUT, 8, buf, sizeof(buf)) == 0, "%s write", names[i]);
		CHECK(segment(&d, 0, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0) == 0, "%s zeroes",
		      names[i]);
		CHECK(rw(&d, 1, VIRTIO_BLK_T_IN, 8, buf, sizeof(buf)) == 0 &&
		      !memcmp(buf, zero, sizeof(buf)), "%s read after write-zeroes", names[i]);
		CHECK(rw(&d, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0, "%s q0", names[i]);
		vhu_dev_free(&d);
	}
	unlink(shm);
}

static void send_hint(int fd, uint16_t type, uint64_t proc, uint64_t value)
{
	struct af_hint h = { .magic = AF_HINT_MAGIC, .version = AF_HINT_VERSION, .type = type,
			     .vm_pid = (uint32_t)getpid(), .ts_ns = 1, .proc = proc,
			     .addr = 0xfeb00e50, .value = value };

	CHECK(send(fd, &h, sizeof(h), 0) == sizeof(h), "hint send");
}

/*
 * Requests reach the scheduler tagged with their process: from the
 * latest NOTIFY hint of their queue, or (oracle) from the header's ioprio;
 * EXIT hints reach the scheduler.
 */
static void test_tagging(void)
{
	static char buf[65536];
	static uint8_t data[4096];
	const char *sched;
	struct vhu_dev d;
	int fd;

	restart_with(disk, "--scheduler", "anticipatory", NULL);
	CHECK(connect_start(&d, 2, false, true), "start for tagging");
	fd = hint_connect();
	send_hint(fd, AF_HINT_NOTIFY, 0xabc000, 1);	/* queue 1 */
	send_hint(fd, AF_HINT_EXIT, 0xdef000, 0);
	usleep(100000);	/* hints and virtqueues are independent channels */
	for (int i = 0; i < 3; i++)
		rw(&d, 1, VIRTIO_BLK_T_IN, i * 64, data, sizeof(data));
	send_hint(fd, AF_HINT_EXIT, 0xabc000, 0);
	usleep(100000);
	CHECK(vhu_read_stats(stats, buf, sizeof(buf)) == 0, "stats");
	sched = strstr(buf, "\"type\":\"scheduler\"");
	CHECK(strstr(buf, "{\"proc\":\"0xabc000\"") != NULL,
	      "no key for the hinted process: %.600s", sched ? sched : buf);
	CHECK(strstr(buf, "\"exited\":true") != NULL, "exit hint did not reach the scheduler");
	close(fd);
	vhu_dev_free(&d);

	restart_with(disk, "--scheduler", "oracle", NULL);
	CHECK(connect_start(&d, 2, false, true), "start for oracle");
	d.ioprio = 0x43;	/* the test guest writes pid + 1 here */
	for (int i = 0; i < 3; i++)
		rw(&d, 0, VIRTIO_BLK_T_IN, i * 64, data, sizeof(data));
	CHECK(vhu_read_stats(stats, buf, sizeof(buf)) == 0 && strstr(buf, "{\"proc\":\"0x43\""),
	      "oracle key from ioprio missing");
	vhu_dev_free(&d);
}

int main(void)
{
	struct vhu_dev d;

	if (!vhu_blk_path())
		test_skip("antfarm-blk not built yet (no build/antfarm-blk)");
	snprintf(stats, sizeof(stats), "%s/stats.sock", vhu_test_dir());
	snprintf(hints, sizeof(hints), "%s/hints.sock", vhu_test_dir());
	if (vhu_make_disk("disk.img", DISK_MB << 20, disk, sizeof(disk)) < 0) {
		perror(disk);
		return 1;
	}
	start(NULL, false, 2);
	if (!CHECK(connect_start(&d, 2, false, true), "negotiation with antfarm-blk"))
		goto out;
	test_rw(&d, 0);
	test_rw(&d, 1);
	test_ops(&d);
	test_config(&d);
	vhu_dev_free(&d);
	/* the same backend serves a second connection (no event-idx this time) */
	CHECK(connect_start(&d, 1, false, false), "reconnect");
	test_rw(&d, 0);
	vhu_dev_free(&d);
	test_hostile_msgs();
	test_hostile_chains();
	test_protocol();
	test_stats_and_hints();
	test_crash_restart();
	test_schedulers();
	test_tagging();
out:
	vhu_dev_free(&d);
	if (check_failures)
		vhu_backend_dump_log(&be);
	vhu_backend_stop(&be);
	return check_summary("antfarm-blk end to end");
}
