// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * antfarm-blk end to end over its real socket: the read/write path and every
 * request type, status codes for bad requests, hostile messages and chains
 * (the process survives, the next connection works), reconnect, stats and
 * hint sockets, read-only disks, and kill -9 with requests in flight
 * followed by a restart that completes them (INFLIGHT_SHMFD).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_blk.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "antfarm_hint.h"
#include "mini.h"
#include "util.h"

#define DISK_MB 8
static char sock[100], stats[100], hints[100], disk[100];
static pid_t backend;

static void start_with(const char *env, const char *d, const char *nq, const char *a1,
		       const char *a2, const char *a3)
{
	const char *args[] = { "--socket", sock, "--disk", d, "--stats-socket", stats,
			       "--hints", hints, "--serial", "antfarm-test-serial",
			       "--num-queues", nq, "-v", a1, a2, a3, NULL };

	unlink(sock);
	backend = t_start_backend(env, args);
}

static void start(const char *env, bool ro, const char *nq)
{
	start_with(env, disk, nq, ro ? "--read-only" : NULL, NULL, NULL);
}

static bool connect_start(struct mini *m, unsigned nq, bool inflight, bool event_idx)
{
	memset(m, 0, sizeof(*m));
	m->inflight_fd = -1;
	m->memfd = -1;
	for (unsigned i = 0; i < MINI_MAXQ; i++)
		m->q[i].kick = m->q[i].call = -1;
	if (mini_connect(m, sock) < 0)
		return false;
	return mini_start(m, nq, 128, inflight, event_idx) == 0;
}

static void release(struct mini *m)
{
	mini_close(m);
	if (m->mem)
		munmap(m->mem, MINI_MEM);
	if (m->memfd >= 0)
		close(m->memfd);
	if (m->inflight_fd >= 0)
		close(m->inflight_fd);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

static void test_rw(struct mini *m, unsigned qi)
{
	static uint8_t w[16384], r[16384];
	char id[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	int fd = open(disk, O_RDONLY);

	fill(w, sizeof(w), qi + 1);
	CHECK(mini_req(m, qi, VIRTIO_BLK_T_OUT, 8, w, sizeof(w)) == VIRTIO_BLK_S_OK, "write q%u", qi);
	CHECK(mini_req(m, qi, VIRTIO_BLK_T_IN, 8, r, sizeof(r)) == VIRTIO_BLK_S_OK, "read q%u", qi);
	CHECK(!memcmp(w, r, sizeof(w)), "read back differs (queue %u)", qi);
	memset(r, 0, sizeof(r));
	CHECK(pread(fd, r, sizeof(r), 8 * 512) == sizeof(r) && !memcmp(w, r, sizeof(w)),
	      "disk file does not hold the written data");
	close(fd);
	CHECK(mini_req(m, qi, VIRTIO_BLK_T_FLUSH, 0, NULL, 0) == VIRTIO_BLK_S_OK, "flush");
	CHECK(mini_req(m, qi, VIRTIO_BLK_T_GET_ID, 0, id, VIRTIO_BLK_ID_BYTES) == VIRTIO_BLK_S_OK &&
	      !strcmp(id, "antfarm-test-serial"), "GET_ID gave '%s'", id);
}

static int segment_req(struct mini *m, uint32_t type, uint64_t sector, uint32_t n, uint32_t flags)
{
	struct virtio_blk_discard_write_zeroes s = { sector, n, flags };

	return mini_req(m, 0, type, 0, &s, sizeof(s));
}

static void test_ops(struct mini *m)
{
	static uint8_t buf[8192], zero[8192];
	uint64_t cap = DISK_MB * 2048ull;

	memset(buf, 0xab, sizeof(buf));
	mini_req(m, 0, VIRTIO_BLK_T_OUT, 64, buf, sizeof(buf));
	CHECK(segment_req(m, VIRTIO_BLK_T_DISCARD, 64, 8, 0) == VIRTIO_BLK_S_OK, "discard");
	CHECK(segment_req(m, VIRTIO_BLK_T_WRITE_ZEROES, 72, 8, 0) == VIRTIO_BLK_S_OK, "write zeroes");
	CHECK(mini_req(m, 0, VIRTIO_BLK_T_IN, 64, buf, sizeof(buf)) == 0 &&
	      !memcmp(buf, zero, sizeof(buf)), "discarded/zeroed range does not read as zeroes");
	CHECK(segment_req(m, VIRTIO_BLK_T_DISCARD, 64, 8, 1) == VIRTIO_BLK_S_UNSUPP,
	      "discard with the unmap flag must be UNSUPP");
	CHECK(segment_req(m, VIRTIO_BLK_T_WRITE_ZEROES, cap - 4, 8, 0) == VIRTIO_BLK_S_IOERR,
	      "write zeroes past the end");
	CHECK(mini_req(m, 0, VIRTIO_BLK_T_IN, cap - 1, buf, 1024) == VIRTIO_BLK_S_IOERR,
	      "read past the end");
	CHECK(mini_req(m, 0, VIRTIO_BLK_T_IN, ~0ull - 1, buf, 1024) == VIRTIO_BLK_S_IOERR,
	      "sector overflow");
	CHECK(mini_req(m, 0, VIRTIO_BLK_T_OUT, 0, buf, 100) == VIRTIO_BLK_S_IOERR,
	      "write of a partial sector");
	CHECK(mini_req(m, 0, 99, 0, buf, 512) == VIRTIO_BLK_S_UNSUPP, "unknown type");
	CHECK(mini_req(m, 0, VIRTIO_BLK_T_IN, cap - 2, buf, 1024) == VIRTIO_BLK_S_OK,
	      "read of the last sectors");
}

static void test_config(struct mini *m)
{
	struct { uint32_t off, size, flags; struct virtio_blk_config c; } cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.size = sizeof(cfg.c);
	uint32_t r, size = sizeof(cfg);

	CHECK(mini_send(m, 24, 1, &cfg, sizeof(cfg), NULL, 0) == 0 &&
	      mini_recv(m, &r, &cfg, &size, NULL) == 0, "GET_CONFIG");
	CHECK(cfg.c.capacity == DISK_MB * 2048ull, "capacity %llu", (unsigned long long)cfg.c.capacity);
	CHECK(cfg.c.num_queues == 2 && cfg.c.blk_size == 512, "num_queues %u blk_size %u",
	      cfg.c.num_queues, cfg.c.blk_size);
}

/* Sends raw bytes as a message; the backend must drop the connection. */
static void hostile_msg(const char *what, uint32_t req, uint32_t flags, const void *p,
			uint32_t size, const int *fds, unsigned nfds)
{
	struct mini m = { .sock = -1 };
	char c;
	uint64_t f;

	CHECK(mini_connect(&m, sock) == 0, "connect for %s", what);
	mini_send(&m, req, flags, p, size, fds, nfds);
	CHECK(read(m.sock, &c, 1) <= 0, "%s: connection not closed", what);
	close(m.sock);
	CHECK(t_alive(backend), "backend died on %s", what);
	/* and the next front-end is served */
	CHECK(mini_connect(&m, sock) == 0 && mini_send(&m, 1, 1, NULL, 0, NULL, 0) == 0 &&
	      mini_recv(&m, &(uint32_t){ 0 }, &f, &(uint32_t){ 8 }, NULL) == 0,
	      "no service after %s", what);
	close(m.sock);
}

static void test_hostile_msgs(void)
{
	uint8_t big[512] = { 0 };
	struct { uint32_t n, pad; uint64_t r[4 * 9]; } mt = { 9, 0, { 0 } };
	uint32_t st[2] = { 7, 128 };
	int fd = open("/dev/null", O_RDONLY);

	hostile_msg("bad version", 1, 2, NULL, 0, NULL, 0);
	hostile_msg("reply flag on a request", 1, 1 | 4, NULL, 0, NULL, 0);
	hostile_msg("oversized payload", 24, 1, big, sizeof(big), NULL, 0);
	hostile_msg("9 memory regions", 5, 1, &mt, 8 + 9 * 32, NULL, 0);
	mt.n = 1;
	hostile_msg("region without fd", 5, 1, &mt, 8 + 32, NULL, 0);
	mt.r[1] = 4096;	/* size; fd /dev/null cannot be mapped shared */
	hostile_msg("unmappable region", 5, 1, &mt, 8 + 32, &fd, 1);
	{
		/* mapping past the end of a file would SIGBUS on first touch */
		int small = memfd_create("small", MFD_CLOEXEC);

		CHECK(small >= 0 && ftruncate(small, 4096) == 0, "memfd");
		mt.r[1] = 1 << 20;
		hostile_msg("region larger than its memfd", 5, 1, &mt, 8 + 32, &small, 1);
		mt.r[1] = 4096;
		mt.r[3] = 1ull << 40;	/* mmap offset */
		hostile_msg("mmap offset past the end of its memfd", 5, 1, &mt, 8 + 32, &small, 1);
		mt.r[3] = 0;
		close(small);
	}
	hostile_msg("ring index beyond num-queues", 18, 1, st, 8, NULL, 0);
	st[0] = 0;
	st[1] = 100;
	hostile_msg("queue size not a power of two", 8, 1, st, 8, NULL, 0);
	hostile_msg("kick with fd flag and an fd", 12, 1, &(uint64_t){ 0x100 }, 8, &fd, 1);
	hostile_msg("short u64 payload", 2, 1, st, 4, NULL, 0);
	hostile_msg("config window past 256 bytes",
		    24, 1, &(uint32_t[4]){ 250, 10, 0, 0 }, 12 + 10, NULL, 0);
	close(fd);
}

static uint64_t acked(struct mini *m, uint32_t req, const void *p, uint32_t len)
{
	uint64_t ack = ~0ull;
	uint32_t r, size = 8;

	if (mini_send(m, req, 1 | 8, p, len, NULL, 0) < 0 || mini_recv(m, &r, &ack, &size, NULL) < 0)
		return ~0ull;
	return ack;
}

static unsigned stat_errors(void)
{
	static char buf[65536];
	const char *p;

	if (t_read_stats(stats, buf, sizeof(buf)) < 0 || !(p = strstr(buf, "\"errors\":")))
		return ~0u;
	return atoi(p + 9);
}

/* Ring corruption marks the queue broken (no completion, logged), nothing crashes. */
static void hostile_chain(const char *what, void (*corrupt)(struct mini *), int good)
{
	struct mini m;
	uint64_t st;
	unsigned before = stat_errors();

	CHECK(connect_start(&m, 1, false, true), "start for %s", what);
	mini_queue_req(&m, 0, VIRTIO_BLK_T_IN, 0, MINI_GPA + (8 << 20), 4096, true, &st);
	corrupt(&m);
	mini_kick(&m, 0);
	for (int i = 0; i < good; i++)
		CHECK(mini_wait_used(&m, 0, 3000, NULL) >= 0, "%s: good request lost", what);
	CHECK(mini_wait_used(&m, 0, 300, NULL) < 0, "%s: completed anyway", what);
	CHECK(t_alive(backend), "backend died on %s", what);
	CHECK(stat_errors() == before + 1, "%s: not counted as an error", what);
	release(&m);
}

static void outside(struct mini *m) { m->q[0].desc[1].addr = 0x7fff00000000ull; }
static void self_loop(struct mini *m) { m->q[0].desc[1].next = 1; m->q[0].desc[1].flags |= 1; }
static void jump(struct mini *m) { m->q[0].avail->idx += 200; }
static void no_status(struct mini *m) { m->q[0].desc[0].flags = 0; }
static void twice(struct mini *m)
{
	struct mini_q *q = &m->q[0];

	q->avail->ring[1] = q->avail->ring[0];
	q->avail->idx++;
}

static void test_hostile_chains(void)
{
	hostile_chain("buffer outside memory", outside, 0);
	hostile_chain("descriptor loop", self_loop, 0);
	hostile_chain("avail index jump", jump, 0);
	hostile_chain("chain without a status byte", no_status, 0);
	hostile_chain("head made available twice", twice, 1);
}

static bool log_has(const char *what)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "grep -q '%s' %s/blk.log", what, t_tmpdir());
	return system(cmd) == 0;
}

/* A kick "eventfd" that reads end-of-file must not make the worker spin. */
static void test_null_kick(void)
{
	struct mini m;
	int null = open("/dev/null", O_RDONLY);

	CHECK(connect_start(&m, 1, false, true), "start for null kick");
	CHECK(mini_send(&m, 12, 1 | 8, &(uint64_t){ 0 }, 8, &null, 1) == 0 &&
	      mini_recv(&m, &(uint32_t){ 0 }, &(uint64_t){ 0 }, &(uint32_t){ 8 }, NULL) == 0,
	      "SET_VRING_KICK /dev/null");
	for (int i = 0; i < 100 && !log_has("kick fd reached end of file"); i++)
		usleep(20000);
	CHECK(log_has("kick fd reached end of file"), "EOF on the kick fd not noticed");
	close(null);
	release(&m);
	CHECK(t_alive(backend), "backend died on a /dev/null kick");
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
	struct mini m;
	uint32_t base, st[2];
	struct { uint32_t off, size, flags; uint8_t wce; } cfg = { 32, 1, 0, 0 };
	struct { uint32_t n, pad; uint64_t gpa, size, uva, off; } t;

	CHECK(connect_start(&m, 1, false, true), "start");
	for (int i = 0; i < 3; i++)
		mini_req(&m, 0, VIRTIO_BLK_T_IN, i, buf, sizeof(buf));
	CHECK(mini_get_vring_base(&m, 0, &base) == 0 && base == 3, "vring base %u", base);
	st[0] = 0;
	st[1] = base;
	CHECK(acked(&m, 10, st, 8) == 0, "SET_VRING_BASE after stop");
	CHECK(mini_send(&m, 12, 1 | 8, &(uint64_t){ 0 }, 8, &m.q[0].kick, 1) == 0 &&
	      mini_recv(&m, &(uint32_t){ 0 }, &(uint64_t){ 0 }, &(uint32_t){ 8 }, NULL) == 0,
	      "SET_VRING_KICK restart");
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0, "I/O after ring restart");
	t = (typeof(t)){ 1, 0, MINI_GPA, MINI_MEM, (uintptr_t)m.mem, 0 };
	CHECK(mini_send(&m, 5, 1 | 8, &t, sizeof(t), &m.memfd, 1) == 0 &&
	      mini_recv(&m, &(uint32_t){ 0 }, &(uint64_t){ 0 }, &(uint32_t){ 8 }, NULL) == 0,
	      "SET_MEM_TABLE while running");
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0, "I/O after new mem table");
	CHECK(acked(&m, 25, &cfg, 13) == 0, "SET_CONFIG writeback=0");
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_OUT, 0, buf, sizeof(buf)) == 0, "write-through write");
	cfg.off = 0;
	CHECK(acked(&m, 25, &cfg, 13) != 0, "SET_CONFIG of capacity must be refused");
	CHECK(acked(&m, 6, &(uint64_t[2]){ 4096, 0 }, 16) != 0, "SET_LOG_BASE must be refused");
	CHECK(acked(&m, 19, &(uint64_t){ 0 }, 8) != 0, "unsupported request refused");
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0,
	      "connection still served after refusals");
	release(&m);
	test_null_kick();
}

static void test_stats_and_hints(void)
{
	static char buf[65536];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct af_hint h = { AF_HINT_MAGIC, AF_HINT_VERSION, AF_HINT_NOTIFY, 0, 0, 1, 42, 0, 0 };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	char c;

	strncpy(sa.sun_path, hints, sizeof(sa.sun_path) - 1);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "hint connect");
	CHECK(send(fd, &h, sizeof(h), 0) == sizeof(h), "hint send");
	h.magic = 0;
	send(fd, &h, sizeof(h), 0);
	CHECK(read(fd, &c, 1) <= 0, "bad hint did not close the hint connection");
	close(fd);
	CHECK(t_read_stats(stats, buf, sizeof(buf)) == 0, "stats socket");
	CHECK(strstr(buf, "\"type\":\"queue\",\"queue\":0,\"requests\":") != NULL, "queue stats: %s", buf);
	CHECK(strstr(buf, "\"notify\":1,") && strstr(buf, "\"bad\":1,"), "hint counts: %s", buf);
	CHECK(strstr(buf, "\"type\":\"scheduler\",\"name\":\"fifo\"") != NULL, "scheduler stats");
	CHECK(strstr(buf, "\"p99_us\":") != NULL, "latency percentiles");
}

/* kill -9 with writes in flight, restart, the same front-end state continues. */
static void test_crash_restart(void)
{
	enum { N = 6, LEN = 8192 };
	static uint8_t w[N][LEN], r[LEN];
	uint64_t data[N], st[N];
	struct mini m;
	int done = 0, fd;

	t_stop_backend(backend, SIGTERM);
	start("ANTFARM_BLK_TEST_HOLD_MS=20000", false, "2");
	CHECK(connect_start(&m, 1, true, true), "start with inflight region");
	for (int i = 0; i < N; i++) {
		fill(w[i], LEN, 100 + i);
		data[i] = mini_alloc(&m, LEN);
		memcpy(mini_gpa(&m, data[i]), w[i], LEN);
		mini_queue_req(&m, 0, VIRTIO_BLK_T_OUT, 256 + i * 16, data[i], LEN, false, &st[i]);
	}
	mini_kick(&m, 0);
	usleep(300000);
	CHECK(m.q[0].used->idx == 0, "completions were not held");
	t_stop_backend(backend, SIGKILL);
	mini_close(&m);
	/* wipe what the first backend wrote: the restart must redo the writes */
	fd = open(disk, O_RDWR);
	CHECK(fallocate(fd, 0x02 | 0x01, 256 * 512, N * 16 * 512) == 0, "punch");
	start(NULL, false, "2");
	CHECK(mini_connect(&m, sock) == 0 && mini_start(&m, 1, 128, true, true) == 0, "reconnect");
	while (done < N && mini_wait_used(&m, 0, 5000, NULL) >= 0)
		done++;
	CHECK(done == N, "%d of %d requests completed after the restart", done, N);
	for (int i = 0; i < N; i++) {
		CHECK(*(uint8_t *)mini_gpa(&m, st[i]) == VIRTIO_BLK_S_OK, "status of request %d", i);
		CHECK(pread(fd, r, LEN, (256 + i * 16) * 512) == LEN && !memcmp(r, w[i], LEN),
		      "write %d lost or torn", i);
	}
	close(fd);
	/* the restarted backend continues where the ring is */
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_IN, 256, r, LEN) == 0 && !memcmp(r, w[0], LEN),
	      "I/O after the restart");
	release(&m);
}

static void test_read_only(void)
{
	static uint8_t buf[4096];
	struct mini m;

	t_stop_backend(backend, SIGTERM);
	start(NULL, true, "2");
	CHECK(connect_start(&m, 1, false, false), "start read-only");
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_OUT, 0, buf, sizeof(buf)) == VIRTIO_BLK_S_IOERR,
	      "write to a read-only disk");
	CHECK(mini_req(&m, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == VIRTIO_BLK_S_OK,
	      "read from a read-only disk");
	release(&m);
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
	struct mini m;
	int fd;

	snprintf(shm, sizeof(shm), "/dev/shm/antfarm-blk-e2e.%d", (int)getpid());
	fd = open(shm, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || ftruncate(fd, 4 << 20) < 0) {
		printf("no /dev/shm; scheduler cases skipped\n");
		return;
	}
	close(fd);
	for (unsigned i = 0; i < 3; i++) {
		t_stop_backend(backend, SIGTERM);
		start_with(NULL, shm, "2", "--scheduler", names[i], "--hdd-model");
		CHECK(connect_start(&m, 2, false, true), "start with %s", names[i]);
		memset(buf, 0x5a, sizeof(buf));
		CHECK(mini_req(&m, 1, VIRTIO_BLK_T_OUT, 8, buf, sizeof(buf)) == 0, "%s write", names[i]);
		CHECK(segment_req(&m, VIRTIO_BLK_T_WRITE_ZEROES, 8, 8, 0) == 0, "%s zeroes", names[i]);
		CHECK(mini_req(&m, 1, VIRTIO_BLK_T_IN, 8, buf, sizeof(buf)) == 0 &&
		      !memcmp(buf, zero, sizeof(buf)), "%s read after write-zeroes", names[i]);
		CHECK(mini_req(&m, 0, VIRTIO_BLK_T_IN, 0, buf, sizeof(buf)) == 0, "%s q0", names[i]);
		release(&m);
	}
	unlink(shm);
}

static void send_hint(int fd, uint16_t type, uint64_t proc, uint64_t value)
{
	struct af_hint h = { AF_HINT_MAGIC, AF_HINT_VERSION, type, (uint32_t)getpid(), 0, 1,
			     proc, 0xfeb00e50, value };

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
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mini m;
	int fd;

	t_stop_backend(backend, SIGTERM);
	start_with(NULL, disk, "2", "--scheduler", "anticipatory", NULL);
	CHECK(connect_start(&m, 2, false, true), "start for tagging");
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	strncpy(sa.sun_path, hints, sizeof(sa.sun_path) - 1);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "hint connect");
	send_hint(fd, AF_HINT_NOTIFY, 0xabc000, 1);	/* queue 1 */
	send_hint(fd, AF_HINT_EXIT, 0xdef000, 0);
	usleep(100000);	/* hints and virtqueues are independent channels */
	for (int i = 0; i < 3; i++)
		mini_req(&m, 1, VIRTIO_BLK_T_IN, i * 64, data, sizeof(data));
	send_hint(fd, AF_HINT_EXIT, 0xabc000, 0);
	usleep(100000);
	CHECK(t_read_stats(stats, buf, sizeof(buf)) == 0, "stats");
	CHECK(strstr(buf, "{\"proc\":\"0xabc000\"") != NULL, "no key for the hinted process: %.600s",
	      strstr(buf, "\"type\":\"scheduler\"") ? strstr(buf, "\"type\":\"scheduler\"") : buf);
	CHECK(strstr(buf, "\"exited\":true") != NULL, "exit hint did not reach the scheduler");
	close(fd);
	release(&m);

	t_stop_backend(backend, SIGTERM);
	start_with(NULL, disk, "2", "--scheduler", "oracle", NULL);
	CHECK(connect_start(&m, 2, false, true), "start for oracle");
	m.ioprio = 0x43;	/* the test guest writes pid + 1 here */
	for (int i = 0; i < 3; i++)
		mini_req(&m, 0, VIRTIO_BLK_T_IN, i * 64, data, sizeof(data));
	CHECK(t_read_stats(stats, buf, sizeof(buf)) == 0 && strstr(buf, "{\"proc\":\"0x43\""),
	      "oracle key from ioprio missing");
	release(&m);
}

int main(void)
{
	struct mini m;
	int fd;

	snprintf(sock, sizeof(sock), "%s/blk.sock", t_tmpdir());
	snprintf(stats, sizeof(stats), "%s/stats.sock", t_tmpdir());
	snprintf(hints, sizeof(hints), "%s/hints.sock", t_tmpdir());
	snprintf(disk, sizeof(disk), "%s/disk.img", t_tmpdir());
	fd = open(disk, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || ftruncate(fd, DISK_MB << 20) < 0) {
		perror(disk);
		return 1;
	}
	close(fd);
	start(NULL, false, "2");
	if (!connect_start(&m, 2, false, true)) {
		printf("FAIL: negotiation with antfarm-blk\n");
		t_failures++;
		goto out;
	}
	test_rw(&m, 0);
	test_rw(&m, 1);
	test_ops(&m);
	test_config(&m);
	release(&m);
	/* the same backend serves a second connection (no event-idx this time) */
	CHECK(connect_start(&m, 1, false, false), "reconnect");
	test_rw(&m, 0);
	release(&m);
	test_hostile_msgs();
	test_hostile_chains();
	test_protocol();
	test_stats_and_hints();
	test_crash_restart();
	test_read_only();
	test_schedulers();
	test_tagging();
out:
	t_stop_backend(backend, SIGTERM);
	if (t_failures) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "tail -n 30 %s/blk.log", t_tmpdir());
		if (system(cmd) != 0)
			printf("(no backend log)\n");
	}
	t_cleanup_dir();
	printf("%s: %d failure(s)\n", t_failures ? "FAIL" : "PASS", t_failures);
	return t_failures ? 1 : 0;
}
