// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Exact process tags from hints, with the real components: antfarm-agent
 * (its BPF state machine fed through af-inject), antfarm-blk (--hints,
 * anticipatory scheduler) and this process as the vhost-user front-end
 * (the "VM": its pid is the vm_pid of the observations).  Each case puts
 * one read on queue 0, kicks it itself and checks, through the hints
 * stats, which process the request was tagged with:
 *   a) hint before the kick (x3: the doorbell is learned);
 *   b) kick first, hint ~300 us later with the doorbell write's time;
 *   c) decoy writes (same value, another address) after the real one, and
 *      in the race of b): ignored;
 *   d) no hint at all: served after --hint-wait-us, counted late.
 * antfarm-blk tells the agent the VM it serves (this process) and the
 * doorbell it learned: the agent's metrics show both, and no hint of
 * another VM reaches antfarm-blk (other_vm == 0), also while other KVM
 * guests run on this host.  When the front-end leaves, the agent is told.
 * Needs root (BPF).  Exit 77 when that or a binary is missing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "lib/sock.h"
#include "testlib.h"

#define VMKEY	0x7700000ull
#define ROOT_A	0x10000ull	/* current on vCPU 0 */
#define ROOT_B	0x20000ull	/* current on vCPU 1 */
#define DB	0xfe003000ull	/* the doorbell */
#define DECOY	0xfe100000ull	/* another device's register */
#define WAIT_US	2000000		/* generous: af-inject is a process start away */
#define AS_MASK	0x000ffffffffff000ull

static char build[256], agent_bin[300], inject_bin[300], agent_sock[108];
static pid_t agent_pid = -1;
static char stats_path[108];

static void stop_agent(void)
{
	if (agent_pid > 0) {
		kill(agent_pid, SIGTERM);
		waitpid(agent_pid, NULL, 0);
		agent_pid = -1;
	}
}

static int start_agent(const char *hints)
{
	char *sock = agent_sock;

	snprintf(agent_sock, sizeof(agent_sock), "%s/agent.sock", vhu_test_dir());
	agent_pid = fork();
	if (agent_pid == 0) {
		char log[300];

		prctl(PR_SET_PDEATHSIG, SIGTERM);
		snprintf(log, sizeof(log), "%s/agent.log", vhu_test_dir());
		if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout))
			_exit(127);
		execl(agent_bin, agent_bin, "-d", "--socket", sock, "--blk-hints", hints,
		      (char *)NULL);
		_exit(127);
	}
	if (agent_pid < 0)
		return -1;
	atexit(stop_agent);
	for (int i = 0; i < 300; i++) {
		int fd = sock_connect(sock, SOCK_STREAM, 0);

		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(agent_pid, NULL, WNOHANG) == agent_pid) {
			agent_pid = -1;
			return -1;
		}
		usleep(50000);
	}
	return -1;
}

/* Runs af-inject with up to 4 observations; 0 when it succeeded. */
static int inject(const char *o1, const char *o2, const char *o3, const char *o4)
{
	char pid[16];
	int st;
	pid_t p;

	snprintf(pid, sizeof(pid), "%d", (int)agent_pid);
	p = fork();
	if (p == 0) {
		execl(inject_bin, inject_bin, "--pid", pid, o1, o2, o3, o4, (char *)NULL);
		_exit(127);
	}
	if (p < 0 || waitpid(p, &st, 0) != p)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static const char *obs_notify(char *buf, size_t len, unsigned vcpu, uint64_t addr, uint64_t ts)
{
	snprintf(buf, len, "notify:0x%llx:%d:%u:0x%llx:0:6:%llu", VMKEY, (int)getpid(), vcpu,
		 (unsigned long long)addr, (unsigned long long)ts);
	return buf;
}

/* The "hints" line of antfarm-blk's stats, into buf. */
static int hints_stats(char *buf, size_t len)
{
	char all[16384], *line, *end;

	if (vhu_read_stats(stats_path, all, sizeof(all)) < 0)
		return -1;
	line = strstr(all, "{\"type\":\"hints\"");
	if (!line)
		return -1;
	end = strchr(line, '\n');
	if (end)
		*end = 0;
	snprintf(buf, len, "%s", line);
	return 0;
}

/* The agent's metrics, into buf. */
static int agent_metrics(char *buf, size_t len)
{
	int fd = sock_connect(agent_sock, SOCK_STREAM, 2000);
	size_t n = 0;
	ssize_t r;

	if (fd < 0 || write(fd, "{\"cmd\":\"metrics\"}\n", 18) != 18) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (n < len - 1 && (r = read(fd, buf + n, len - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return 0;
}

/* The value of a per-backend hint metric of the agent, -1 if absent. */
static long long agent_metric(const char *name)
{
	static char m[65536];
	char *p;

	if (agent_metrics(m, sizeof(m)) < 0 || !(p = strstr(m, name)) || !(p = strchr(p, '}')))
		return -1;
	return strtoll(p + 1, NULL, 10);
}

/* Polls an agent metric until it has the value (the agent reads what
 * antfarm-blk tells it in its own loop); the last value seen. */
static long long agent_metric_wait(const char *name, long long want)
{
	long long v = -1;

	for (int i = 0; i < 100 && (v = agent_metric(name)) != want; i++)
		usleep(50000);
	return v;
}

static long long field(const char *s, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = strstr(s, k);
	return p ? strtoll(p + strlen(k), NULL, 0) : -1;
}

/* Requests tagged with the process whose root is 'root', from "procs". */
static long long tagged(const char *s, uint64_t root)
{
	const char *p = strstr(s, "\"procs\":[");
	long long sum = 0;

	while (p && (p = strstr(p, "{\"proc\":\""))) {
		uint64_t proc = strtoull(p + 9, NULL, 16);
		const char *q = strstr(p, "\"requests\":");

		if (!q)
			break;
		if ((proc & AS_MASK) == root)
			sum += strtoll(q + 11, NULL, 10);
		p = q;
	}
	return sum;
}

/* NOTIFY hints antfarm-blk has received so far, -1 if unknown. */
static long long notifies(void)
{
	char s[8192];

	return hints_stats(s, sizeof(s)) == 0 ? field(s, "notify") : -1;
}

/* Polls until antfarm-blk has received 'want' NOTIFY hints (up to 5 s);
 * the last count seen. */
static long long notifies_wait(long long want)
{
	long long n = -1;

	for (int i = 0; i < 500 && (n = notifies()) < want; i++)
		usleep(10000);
	return n;
}

static void on_done(struct vhu_req *r, void *arg)
{
	(void)r;
	(*(int *)arg)++;
}

/* One read on queue 0: published, then kicked; hint_us >= 0 injects the
 * given hints that long after the kick (their ts = just before it). */
struct one_case {
	const char *name;
	unsigned vcpu;			/* of the real hint; -1u: none */
	int before;			/* hint before the kick (else after) */
	int decoy;			/* a decoy from the other vCPU too */
};

static int run_case(struct vhu_dev *d, const struct one_case *c)
{
	struct vhu_vq *vq = &d->vq[0];
	struct vhu_req *r = vhu_req_get(vq);
	char o1[128], o2[128];
	const char *a = NULL, *b = NULL;
	uint64_t kicks = vq->kicks, t0;
	int done = 0;

	if (!r)
		return -1;
	if (c->before && c->vcpu != -1u) {
		long long seen = notifies();

		a = obs_notify(o1, sizeof(o1), c->vcpu, DB, 0);
		b = c->decoy ? obs_notify(o2, sizeof(o2), !c->vcpu, DECOY, 0) : NULL;
		CHECK(inject(a, b, NULL, NULL) == 0, "%s: af-inject failed", c->name);
		/* "before" means before antfarm-blk sees the kick: the hint has
		 * to cross the agent first, which a busy host can delay past
		 * our kick (and a queue's first kick does not wait for hints) */
		CHECK(notifies_wait(seen + 1) > seen, "%s: the hint never reached antfarm-blk",
		      c->name);
	}
	t0 = af_now_ns();		/* the guest's doorbell write */
	if (vhu_req_submit(r, VIRTIO_BLK_T_IN, 8, 4096) < 0 || vhu_kick(vq) < 0)
		return -1;
	CHECK(vq->kicks == kicks + 1, "%s: the front-end did not kick", c->name);
	if (!c->before && c->vcpu != -1u) {
		usleep(300);
		/* decoy first: it must not satisfy the held kick */
		if (c->decoy)
			a = obs_notify(o2, sizeof(o2), !c->vcpu, DECOY, t0);
		b = obs_notify(o1, sizeof(o1), c->vcpu, DB, t0);
		CHECK(inject(a ? a : b, a ? b : NULL, NULL, NULL) == 0, "%s: af-inject failed",
		      c->name);
	}
	for (int i = 0; i < 200 && !done; i++)
		vhu_poll(d, 50, on_done, &done);
	CHECK(done == 1, "%s: request not completed (%d)", c->name, done);
	return done == 1 ? 0 : -1;
}

static void expect(const char *s, const char *what, long long want_a, long long want_b)
{
	long long a = tagged(s, ROOT_A), b = tagged(s, ROOT_B);

	CHECK(a == want_a && b == want_b, "after %s: tagged A=%lld B=%lld, want A=%lld B=%lld",
	      what, a, b, want_a, want_b);
}

static void run_all(struct vhu_dev *d)
{
	static const struct one_case cases[] = {
		{ "a1 hint before kick (A)", 0, 1, 0 },
		{ "a2 hint before kick (B)", 1, 1, 0 },
		{ "a3 hint before kick (A)", 0, 1, 0 },
		{ "b race: hint after kick (B)", 1, 0, 0 },
		{ "c1 decoy A after real B", 1, 1, 1 },
		{ "c2 race with decoy B before real A", 0, 0, 1 },
		{ "d no hint (late; latest = A)", -1u, 1, 0 },
	};
	static const long long want[][2] = { {1, 0}, {1, 1}, {2, 1}, {2, 2}, {2, 3}, {3, 3},
					     {4, 3} };
	char s[8192], root[128];

	snprintf(root, sizeof(root), "cr3:0x%llx:%d:0:0x%llx:2", VMKEY, (int)getpid(), ROOT_A);
	snprintf(s, sizeof(s), "cr3:0x%llx:%d:1:0x%llx:2", VMKEY, (int)getpid(), ROOT_B);
	CHECK(inject(root, s, NULL, NULL) == 0, "af-inject of the CR3 loads failed");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (run_case(d, &cases[i]) < 0 || hints_stats(s, sizeof(s)) < 0) {
			CHECK(0, "%s: could not run", cases[i].name);
			return;
		}
		expect(s, cases[i].name, want[i][0], want[i][1]);
		if (i == 2)
			CHECK(strstr(s, "\"doorbell\":\"0xfe003000\""),
			      "doorbell not learned after 3 kicks: %s", s);
	}
	printf("%s\n", s);
	CHECK(field(s, "late") == 1, "late %lld, want 1 (case d)", field(s, "late"));
	CHECK(field(s, "exact") == 6, "exact %lld, want 6", field(s, "exact"));
	CHECK(field(s, "ignored") == 2, "ignored %lld, want 2 decoys", field(s, "ignored"));
	CHECK(field(s, "unlearned") == 2, "unlearned %lld, want 2 (before the 3rd kick)",
	      field(s, "unlearned"));
	CHECK(field(s, "held") >= 1, "held %lld, want >= 1 (d at least)", field(s, "held"));
	/* the agent sees every VM on this host, but sends only ours */
	CHECK(field(s, "other_vm") == 0, "other_vm %lld: hints of another VM reached antfarm-blk",
	      field(s, "other_vm"));
	CHECK(field(s, "learnings") == 1 && field(s, "doorbell_sent") >= 1,
	      "doorbell learned once and told: %s", s);
	CHECK(agent_metric_wait("antfarm_hints_doorbells{", 1) == 1 &&
	      agent_metric_wait("antfarm_hints_learning{", 0) == 0,
	      "the agent did not take the learned doorbell");
}

static int wait_hint_conn(void)
{
	char s[8192];

	for (int i = 0; i < 200; i++) {
		if (hints_stats(s, sizeof(s)) == 0 && field(s, "connections") == 1)
			return 0;
		usleep(50000);
	}
	return -1;
}

int main(void)
{
	const char *e = getenv("ANTFARM_BUILD");
	struct vhu_backend b;
	struct vhu_dev d;
	char disk[512], hints[300], wait[32];
	const char *extra[12];

	snprintf(build, sizeof(build), "%s", e ? e : "build");
	snprintf(agent_bin, sizeof(agent_bin), "%s/antfarm-agent", build);
	snprintf(inject_bin, sizeof(inject_bin), "%s/tests/agent/af-inject", build);
	if (geteuid() != 0)
		test_skip("not root: antfarm-agent needs BPF");
	if (!vhu_blk_path() || access(agent_bin, X_OK) || access(inject_bin, X_OK))
		test_skip("antfarm-blk, antfarm-agent or af-inject not built in %s", build);
	snprintf(hints, sizeof(hints), "%s/hints.sock", vhu_test_dir());
	snprintf(stats_path, sizeof(stats_path), "%s/stats.sock", vhu_test_dir());
	snprintf(wait, sizeof(wait), "%d", WAIT_US);
	extra[0] = "--hints"; extra[1] = hints;
	extra[2] = "--scheduler"; extra[3] = "anticipatory";
	extra[4] = "--stats-socket"; extra[5] = stats_path;
	extra[6] = "--hint-wait-us"; extra[7] = wait;
	extra[8] = NULL;
	test_start(&b, VHU_BLK, "hints", 1, 1, extra, disk, sizeof(disk));
	if (start_agent(hints) < 0) {
		printf("FAIL: antfarm-agent did not start (see its log)\n");
		return 1;
	}
	CHECK(wait_hint_conn() == 0, "the agent never connected to --hints");
	if (test_connect(&d, &b, 1, 0) == 0) {
		CHECK(agent_metric_wait("antfarm_hints_vm{", getpid()) == getpid(),
		      "the agent was not told the VM served (this process, %d)", (int)getpid());
		run_all(&d);
		vhu_dev_free(&d);
		CHECK(agent_metric_wait("antfarm_hints_vm{", 0) == 0,
		      "the agent was not told that the front-end left");
	} else {
		CHECK(0, "vhost-user set-up failed");
	}
	stop_agent();
	vhu_backend_stop(&b);
	return check_summary("exact hint tags");
}
