/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * antfarm: the command-line client of antfarm-agent.  It sends one request
 * line over the agent's Unix socket and prints the JSON lines that come
 * back, as a table or (--json) unchanged.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "antfarm_proto.h"
#include "lib/clock.h"
#include "lib/json.h"
#include "lib/log.h"
#include "lib/num.h"
#include "lib/sock.h"
#include "cli.h"


const char usage_text[] =
"NAME\n"
"    antfarm - show the processes of KVM guests, as inferred by antfarm-agent\n"
"\n"
"SYNOPSIS\n"
"    antfarm [--socket PATH] [--timeout SEC] ps [--vm PID] [--json]\n"
"    antfarm [--socket PATH] [--timeout SEC] watch [--vm PID] [--events LIST]\n"
"            [--addr LIST] [--json]\n"
"    antfarm [--socket PATH] [--timeout SEC] vms [--json]\n"
"    antfarm [--socket PATH] [--timeout SEC] stats [--json]\n"
"    antfarm [--socket PATH] [--timeout SEC] top [--vm PID] [--sort KEY] [--interval MS]\n"
"            [-n N]\n"
"\n"
"COMMANDS\n"
"    ps      guest processes (address spaces): VM (the VMM's pid), NAME (the\n"
"            VM's: QEMU -name, libvirt domain, else the VMM's comm), AS (page-table\n"
"            root), GEN (generation: a reused root is a new process), STATE,\n"
"            FIRST SEEN, CPU TIME, SWITCHES (into it), LAST VCPU\n"
"    watch   follow events as they happen until interrupted; LIST is a comma-\n"
"            separated subset of create,exit,switch,vm-exit,notify,vm-new\n"
"            (default create,exit,vm-exit)\n"
"    vms     VMs with their names, vCPUs, live processes and fidelity (full: every\n"
"            CR3 load is seen; sampled: CR3 seen at exits only; none)\n"
"    stats   the agent's metrics in Prometheus text format (--json: a summary)\n"
"    top     live view of the guest processes of every VM, refreshed every\n"
"            interval: VM, AS, GEN, STATE, CPU% and switches per second over\n"
"            the last interval, CPU TIME, FIRST SEEN; live processes and those\n"
"            that exited in the interval.  Keys: c, s, f, v sort by CPU%,\n"
"            switches/s, first seen (newest first), VM; q quits.  When\n"
"            standard output is not a terminal: one text table per interval\n"
"\n"
"OPTIONS\n"
"    -s, --socket PATH   the agent's socket (default " AF_DEFAULT_SOCKET ",\n"
"                        or $ANTFARM_SOCKET)\n"
"    -t, --timeout SEC   give up when the agent does not accept the connection\n"
"                        or answer for SEC seconds (default 10; 0: wait\n"
"                        forever); watch waits for events without limit once\n"
"                        the agent has acknowledged the subscription\n"
"    --vm PID|NAME       only the VM whose VMM process is PID, or the VM named\n"
"                        NAME (as antfarm vms shows it)\n"
"    --events LIST       for watch: the events to follow (see above)\n"
"    --addr LIST         for watch: notify events only at these guest MMIO\n"
"                        addresses or I/O ports (comma-separated, at most 16,\n"
"                        e.g. 0x80,0xfeb00e50); the agent then has the kernel\n"
"                        side record only those writes\n"
"    --json              print the agent's JSON lines unchanged\n"
"    --sort KEY          for top: cpu (default), switches, first-seen, vm\n"
"    --interval MS       for top: refresh every MS milliseconds (default 1000)\n"
"    -n, --iterations N  for top: stop after N refreshes (default: at q or ^C)\n"
"    -h, --help          this text\n"
"\n"
"EXAMPLES\n"
"    antfarm ps                          # every guest process on this host\n"
"    antfarm ps --vm 4242 --json         # one VM, machine-readable\n"
"    antfarm watch --events create,exit  # process creation and exit, live\n"
"    antfarm watch --events switch --vm 4242 --json | head\n"
"    antfarm watch --events notify --addr 0x80 # one port's writes, every VM\n"
"    antfarm vms                         # fidelity per VM\n"
"    antfarm stats | grep dropped        # is anything being lost?\n"
"    antfarm top                         # what runs in the guests, now\n"
"    antfarm top -n 5 --sort switches > top.log\n";

struct opts {
	const char *socket;
	const char *vm_arg;	/* --vm: a pid or a name */
	unsigned long vm;
	const char *events;
	const char *addr;	/* --addr LIST */
	int json;
};

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_WARNING, fmt, ap);
	va_end(ap);
	exit(1);
}

unsigned cli_timeout_s = 10;

void set_recv_timeout(int fd, unsigned sec)
{
	struct timeval tv = { .tv_sec = sec };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Bounded by --timeout: an agent that is stopped, or whose backlog is
 * full, makes the connect, the request or a read fail instead of hang. */
int agent_connect(const char *path)
{
	int fd = sock_connect(path, SOCK_STREAM, cli_timeout_s * 1000);

	if (fd >= 0) {
		set_recv_timeout(fd, cli_timeout_s);
		return fd;
	}
	errno = -fd;
	if (errno == ENAMETOOLONG)
		die("socket path too long: %s", path);
	if (errno == ETIMEDOUT)
		die("cannot connect to %s: no answer within %u s — is antfarm-agent stopped? "
		    "(--timeout)", path, cli_timeout_s);
	if (errno == EACCES)
		die("cannot connect to %s: %s — run as root or as a member of the "
		    "socket's group", path, strerror(errno));
	die("cannot connect to %s: %s — is antfarm-agent running? start it with: "
	    "sudo antfarm-agent", path, strerror(errno));
}

void send_request(int fd, const char *line)
{
	size_t n = strlen(line), off = 0;

	while (off < n) {
		ssize_t w = send(fd, line + off, n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				die("the agent does not take the request: timed out (--timeout)");
			die("sending the request: %s", strerror(errno));
		}
		off += w;
	}
}

/* Returns a NUL-terminated line without '\n', or NULL at end of stream. */
char *read_line(struct reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl) {
			char *line = r->buf + r->start;
			*nl = 0;
			r->start = nl + 1 - r->buf;
			return line;
		}
		if (r->start) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		if (r->end == sizeof(r->buf))
			die("line from the agent too long");
		ssize_t n = read(r->fd, r->buf + r->end, sizeof(r->buf) - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			die("the agent did not answer within the timeout — is it stopped? (--timeout)");
		if (n < 0)
			die("reading from the agent: %s", strerror(errno));
		if (n == 0)
			return NULL;
		r->end += n;
	}
}

/* Parse a line; an {"error":...} line from the agent ends the program. */
void parse_line(const char *line, struct json_obj *o)
{
	char err[128];
	const char *msg;

	if (json_parse_object(line, strlen(line), o, err, sizeof(err)))
		die("unexpected line from the agent (%s): %.200s", err, line);
	if ((msg = json_get_str(o, AF_KEY_ERROR)))
		die("the agent refused the request: %s", msg);
}

/* A CLOCK_MONOTONIC time as wall-clock HH:MM:SS(.mmm). */
void fmt_time(char *out, size_t size, uint64_t mono_ns, int millis)
{
	struct timespec rt;
	struct tm tm;
	int64_t ago = (int64_t)(af_now_ns() - mono_ns);
	int64_t wall;
	time_t sec;

	if (!mono_ns) {
		snprintf(out, size, "-");
		return;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	wall = (int64_t)rt.tv_sec * 1000000000 + rt.tv_nsec - ago;
	sec = wall / 1000000000;
	localtime_r(&sec, &tm);
	if (millis)
		snprintf(out, size, "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (int)(wall % 1000000000 / 1000000));
	else
		snprintf(out, size, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void fmt_dur(char *out, size_t size, uint64_t ns)
{
	if (ns < 1000000)
		snprintf(out, size, "%.1fus", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(out, size, "%.1fms", ns / 1e6);
	else
		snprintf(out, size, "%.2fs", ns / 1e9);
}

const char *str_or(const struct json_obj *o, const char *k, const char *def)
{
	const char *s = json_get_str(o, k);

	return s ? s : def;
}

/* Read a command reply up to its end marker, handing each row to fn. */
static unsigned read_rows(struct reader *r, const char *cmd, const struct opts *op,
			  void (*fn)(const struct json_obj *o), struct json_obj *end)
{
	unsigned rows = 0;
	char *line;

	while ((line = read_line(r))) {
		struct json_obj o;
		parse_line(line, &o);
		if (json_get_str(&o, AF_KEY_END)) {
			*end = o;
			return rows;
		}
		if (op->json) {
			puts(line);
		} else {
			fn(&o);
		}
		rows++;
		json_obj_free(&o);
	}
	die("the agent's %s reply was cut short (no end marker)", cmd);
}

/* ps rows are kept (compactly) and sorted by VM, then first seen: the
 * agent answers in hash-map order. */
struct ps_row {
	uint64_t vm, gen, first_ns, run_ns, switches, last_vcpu;
	int has_vcpu;
	char as[24], state[24], name[17];
};

static struct ps_row *ps_rows;
static size_t ps_nrows, ps_cap;

/* A VM name for a table column: at most size - 1 bytes, "-" when none,
 * nothing that would move the terminal's cursor. */
void vm_name_col(char *out, size_t size, const struct json_obj *o, const char *key)
{
	const char *s = str_or(o, key, "");
	size_t n = 0;

	for (; *s && n + 1 < size; s++)
		out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
	out[n] = 0;
	if (!n)
		snprintf(out, size, "-");
}

static void ps_keep(const struct json_obj *o)
{
	struct ps_row *p;
	const char *st = str_or(o, "state", "?");

	if (ps_nrows == ps_cap) {
		ps_cap = ps_cap ? ps_cap * 2 : 256;
		ps_rows = realloc(ps_rows, ps_cap * sizeof(*ps_rows));
		if (!ps_rows)
			die("out of memory");
	}
	p = &ps_rows[ps_nrows++];
	p->vm = json_get_u64(o, "vm", 0);
	p->gen = json_get_u64(o, "gen", 0);
	p->first_ns = json_get_u64(o, "first_ns", 0);
	/* cpu_ns includes the interval under way on a vCPU (newer agents) */
	p->run_ns = json_get_u64(o, "cpu_ns", json_get_u64(o, "run_ns", 0));
	p->switches = json_get_u64(o, "switches", 0);
	p->has_vcpu = json_get(o, "last_vcpu") != NULL;
	p->last_vcpu = json_get_u64(o, "last_vcpu", 0);
	snprintf(p->as, sizeof(p->as), "%s", str_or(o, "as", "?"));
	vm_name_col(p->name, sizeof(p->name), o, "vm_name");
	if (json_get(o, "reason"))
		snprintf(p->state, sizeof(p->state), "%s(%s)", st, str_or(o, "reason", "?"));
	else
		snprintf(p->state, sizeof(p->state), "%s", st);
}

static int ps_cmp(const void *x, const void *y)
{
	const struct ps_row *a = x, *b = y;

	if (a->vm != b->vm)
		return a->vm < b->vm ? -1 : 1;
	if (a->first_ns != b->first_ns)
		return a->first_ns < b->first_ns ? -1 : 1;
	return strcmp(a->as, b->as);
}

static void ps_print(const struct ps_row *p)
{
	char first[16], cpu[16], vcpu[24] = "-";

	fmt_time(first, sizeof(first), p->first_ns, 0);
	fmt_dur(cpu, sizeof(cpu), p->run_ns);
	if (p->has_vcpu)
		snprintf(vcpu, sizeof(vcpu), "%llu", (unsigned long long)p->last_vcpu);
	printf("%-8llu %-16s %-18s %4llu %-13s %-10s %9s %9llu %9s\n", (unsigned long long)p->vm,
	       p->name, p->as, (unsigned long long)p->gen, p->state, first, cpu,
	       (unsigned long long)p->switches, vcpu);
}

static int cmd_ps(int fd, const struct opts *op)
{
	struct reader *r = calloc(1, sizeof(*r));
	struct json_obj end;
	char req[64];

	if (op->vm)
		snprintf(req, sizeof(req), "{\"" AF_KEY_CMD "\":\"" AF_CMD_NAME_PS "\",\""
			 AF_KEY_VM "\":%lu}\n", op->vm);
	else
		snprintf(req, sizeof(req), "{\"" AF_KEY_CMD "\":\"" AF_CMD_NAME_PS "\"}\n");
	send_request(fd, req);
	r->fd = fd;
	read_rows(r, "ps", op, ps_keep, &end);
	if (!op->json) {
		qsort(ps_rows, ps_nrows, sizeof(*ps_rows), ps_cmp);
		printf("%-8s %-16s %-18s %4s %-13s %-10s %9s %9s %9s\n", "VM", "NAME", "AS", "GEN",
		       "STATE", "FIRST SEEN", "CPU TIME", "SWITCHES", "LAST VCPU");
		for (size_t i = 0; i < ps_nrows; i++)
			ps_print(&ps_rows[i]);
	}
	free(ps_rows);
	json_obj_free(&end);
	free(r);
	return 0;
}

static void vm_row(const struct json_obj *o)
{
	char first[16], name[33];

	fmt_time(first, sizeof(first), json_get_u64(o, "first_ns", 0), 0);
	vm_name_col(name, sizeof(name), o, "name");
	printf("%-8llu %-24s %-18s %5llu %6llu %-9s %s\n",
	       (unsigned long long)json_get_u64(o, "vm", 0), name, str_or(o, "vm_key", "?"),
	       (unsigned long long)json_get_u64(o, "vcpus", 0),
	       (unsigned long long)json_get_u64(o, "live", 0), str_or(o, "fidelity", "?"), first);
}

static int cmd_vms(int fd, const struct opts *op)
{
	struct reader *r = calloc(1, sizeof(*r));
	struct json_obj end;

	send_request(fd, "{\"" AF_KEY_CMD "\":\"" AF_CMD_NAME_VMS "\"}\n");
	r->fd = fd;
	if (!op->json)
		printf("%-8s %-24s %-18s %5s %6s %-9s %s\n", "VM", "NAME", "KVM", "VCPUS", "LIVE",
		       "FIDELITY", "FIRST SEEN");
	read_rows(r, "vms", op, vm_row, &end);
	if (!op->json) {
		printf("host: %s\n", str_or(&end, "host", "?"));
		if (str_or(&end, "note", "")[0])
			printf("note: %s\n", str_or(&end, "note", ""));
	}
	json_obj_free(&end);
	free(r);
	return 0;
}

static int cmd_stats(int fd, const struct opts *op)
{
	struct reader *r = calloc(1, sizeof(*r));
	char *line;

	send_request(fd, op->json ? "{\"" AF_KEY_CMD "\":\"" AF_CMD_NAME_STATS "\"}\n" :
		     "{\"" AF_KEY_CMD "\":\"" AF_CMD_NAME_METRICS "\"}\n");
	r->fd = fd;
	while ((line = read_line(r))) {
		if (op->json) {
			struct json_obj o;
			parse_line(line, &o);
			int end = json_get_str(&o, AF_KEY_END) != NULL;
			json_obj_free(&o);
			if (end)
				goto done;
		} else if (!strcmp(line, AF_METRICS_END)) {
			goto done;
		} else if (line[0] == '{') {
			struct json_obj o;
			parse_line(line, &o);	/* dies on {"error":...} */
			json_obj_free(&o);
		}
		puts(line);
	}
	die("the agent's stats reply was cut short");
done:
	free(r);
	return 0;
}

static void watch_line(const struct json_obj *o)
{
	const char *ev = str_or(o, "event", "?");
	char t[20], cpu[16], name[17];

	if (!strcmp(ev, AF_EV_NAME_LOST)) {
		printf("%-12s %-8s lost     %llu events (this client read too slowly)\n", "", "",
		       (unsigned long long)json_get_u64(o, "count", 0));
		return;
	}
	fmt_time(t, sizeof(t), json_get_u64(o, "ts_ns", 0), 1);
	vm_name_col(name, sizeof(name), o, "vm_name");
	printf("%-12s %-8llu %-16s %-8s", t, (unsigned long long)json_get_u64(o, "vm", 0), name, ev);
	if (!strcmp(ev, "switch")) {
		printf(" %s:%llu -> %s:%llu", str_or(o, "from", "?"),
		       (unsigned long long)json_get_u64(o, "from_gen", 0), str_or(o, "to", "?"),
		       (unsigned long long)json_get_u64(o, "to_gen", 0));
	} else if (json_get(o, "as")) {
		printf(" %s gen %llu", str_or(o, "as", "?"),
		       (unsigned long long)json_get_u64(o, "gen", 0));
	}
	if (json_get(o, "vcpu"))
		printf(" vcpu %llu", (unsigned long long)json_get_u64(o, "vcpu", 0));
	if (json_get(o, "reason")) {
		fmt_dur(cpu, sizeof(cpu), json_get_u64(o, "run_ns", 0));
		printf(" reason %s cpu %s", str_or(o, "reason", "?"), cpu);
	}
	if (json_get(o, "addr"))
		printf(" addr %s value %llu", str_or(o, "addr", "?"),
		       (unsigned long long)json_get_u64(o, "value", 0));
	putchar('\n');
}

/* A comma-separated option value as a JSON list of strings, a,b -> ["a","b"]
 * (the agent judges the items); opt and example for the error. */
static void list_json(char *out, size_t size, const char *list, const char *opt,
		      const char *example)
{
	size_t n = snprintf(out, size, "[");

	for (const char *p = list; *p && n < size;) {
		size_t len = strcspn(p, ",");
		if (len == 0 || strcspn(p, "\"\\") < len)
			die("%s: bad list '%s' (example: %s)", opt, list, example);
		n += snprintf(out + n, size - n, "%s\"%.*s\"", n > 1 ? "," : "", (int)len, p);
		p += len + (p[len] == ',');
	}
	if (n + 2 >= size)
		die("%s: list too long", opt);
	strcat(out, "]");
}

static int cmd_watch(int fd, const struct opts *op)
{
	struct reader *r = calloc(1, sizeof(*r));
	char req[2048], part[900];
	size_t n = 1;
	char *line;

	strcpy(req, "{");
	if (op->events) {
		list_json(part, sizeof(part), op->events, "--events", "create,exit,switch");
		n += snprintf(req + n, sizeof(req) - n, "\"" AF_KEY_EVENTS "\":%s", part);
	}
	if (op->addr) {
		list_json(part, sizeof(part), op->addr, "--addr", "0x80,0xfeb00e50");
		n += snprintf(req + n, sizeof(req) - n, "%s\"" AF_KEY_ADDR "\":%s",
			      n > 1 ? "," : "", part);
	}
	if (op->vm)
		n += snprintf(req + n, sizeof(req) - n, "%s\"" AF_KEY_VM "\":%lu", n > 1 ? "," : "",
			      op->vm);
	snprintf(req + n, sizeof(req) - n, "}\n");
	send_request(fd, req);
	r->fd = fd;
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((line = read_line(r))) {
		struct json_obj o;
		parse_line(line, &o);
		if (json_get(&o, AF_KEY_SUBSCRIBED))
			set_recv_timeout(fd, 0);	/* events may be far apart */
		else if (op->json)
			puts(line);
		else
			watch_line(&o);
		json_obj_free(&o);
	}
	die("the agent closed the connection");
}

/* --vm's argument: a pid, or a VM name that the agent knows (antfarm vms);
 * a name that several VMs have is refused. */
unsigned long resolve_vm(const char *socket, const char *s)
{
	struct reader *r;
	unsigned long vm = 0, pid;
	unsigned matches = 0;
	char *line;

	if (s[0] >= '0' && s[0] <= '9') {
		uint64_t v;

		if (parse_u64(s, 1, UINT32_MAX, &v))
			die("--vm: '%s' is not a process id", s);
		return v;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		die("out of memory");
	r->fd = agent_connect(socket);
	send_request(r->fd, "{\"cmd\":\"vms\"}\n");
	while ((line = read_line(r))) {
		struct json_obj o;
		int end;

		parse_line(line, &o);
		end = json_get_str(&o, "end") != NULL;
		pid = json_get_u64(&o, "vm", 0);
		if (!end && !strcmp(str_or(&o, "name", ""), s) && pid != vm) {
			vm = pid;
			matches++;
		}
		json_obj_free(&o);
		if (end)
			break;
	}
	close(r->fd);
	free(r);
	if (matches > 1)
		die("--vm: several VMs are named '%s'; give the pid (antfarm vms lists them)", s);
	if (!matches)
		die("--vm: no VM named '%s' (antfarm vms lists them)", s);
	return vm;
}

static void parse_sub_args(int argc, char **argv, struct opts *op, int allow_events)
{
	static const struct option longopts[] = {
		{ "vm", required_argument, NULL, 'V' },
		{ "events", required_argument, NULL, 'e' },
		{ "addr", required_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'V':
			op->vm_arg = optarg;
			break;
		case 'e':
			if (!allow_events)
				die("--events is only for watch");
			op->events = optarg;
			break;
		case 'a':
			if (!allow_events)
				die("--addr is only for watch");
			op->addr = optarg;
			break;
		case 'j':
			op->json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			log_warnx("try 'antfarm --help'");
			exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'; try 'antfarm --help'", argv[optind]);
}

int main(int argc, char **argv)
{
	struct opts op = { .socket = getenv("ANTFARM_SOCKET") };
	const char *cmd;
	int i = 1, fd;

	if (!op.socket || !op.socket[0])
		op.socket = AF_DEFAULT_SOCKET;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage_text, stdout);
			return 0;
		} else if ((!strcmp(argv[i], "-s") || !strcmp(argv[i], "--socket")) && i + 1 < argc) {
			op.socket = argv[++i];
		} else if (!strncmp(argv[i], "--socket=", 9)) {
			op.socket = argv[i] + 9;
		} else if ((!strcmp(argv[i], "-t") || !strcmp(argv[i], "--timeout")) && i + 1 < argc) {
			if (parse_opt_uint("--timeout", argv[++i], 0, 86400, &cli_timeout_s))
				return 2;
		} else if (!strncmp(argv[i], "--timeout=", 10)) {
			if (parse_opt_uint("--timeout", argv[i] + 10, 0, 86400, &cli_timeout_s))
				return 2;
		} else {
			log_warnx("unknown option '%s'; try 'antfarm --help'", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		log_warnx("missing command (ps, watch, vms, stats, top); try 'antfarm --help'");
		return 2;
	}
	cmd = argv[i];
	if (!strcmp(cmd, "top"))
		return cmd_top(op.socket, argc - i, argv + i);
	if (strcmp(cmd, "ps") && strcmp(cmd, "watch") && strcmp(cmd, "vms") && strcmp(cmd, "stats")) {
		log_warnx("unknown command '%s' (ps, watch, vms, stats, top); try 'antfarm --help'", cmd);
		return 2;
	}
	parse_sub_args(argc - i, argv + i, &op, !strcmp(cmd, "watch"));
	if (op.vm_arg && (!strcmp(cmd, "vms") || !strcmp(cmd, "stats")))
		die("--vm is only for ps, watch and top");
	if (op.vm_arg)
		op.vm = resolve_vm(op.socket, op.vm_arg);
	fd = agent_connect(op.socket);
	if (!strcmp(cmd, "ps"))
		return cmd_ps(fd, &op);
	if (!strcmp(cmd, "vms"))
		return cmd_vms(fd, &op);
	if (!strcmp(cmd, "stats"))
		return cmd_stats(fd, &op);
	return cmd_watch(fd, &op);
}
