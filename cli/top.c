/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * antfarm top: the guest processes of every VM, refreshed every interval,
 * with what changed over it (CPU%, switches per second).  Each refresh is
 * one "ps" request; rates come from the difference between two of them.
 * On a terminal it is a full-screen view drawn with plain ANSI sequences
 * (keys: q quits, c/s/f/v sort); otherwise it prints one table per
 * interval, as text.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "lib/clock.h"
#include "lib/num.h"

struct top_row {
	uint64_t vm, gen, first_ns, cpu_ns, switches;
	double cpu_pct, sw_rate;	/* over the last interval; < 0: not known yet */
	int live;
	char as[24], state[24], name[17];
};

struct sample {
	struct top_row *rows;
	size_t n, cap;
	uint64_t t_ns;
};

enum sort_key { SORT_CPU, SORT_SW, SORT_FIRST, SORT_VM };
static const char *const sort_names[] = { "cpu", "switches", "first-seen", "vm" };

struct top {
	const char *socket;
	const char *vm_arg;		/* --vm: a pid or a name */
	unsigned long vm;
	enum sort_key sort;
	unsigned interval_ms;
	unsigned long iterations;	/* 0: until q or a signal */
	int tty;
	struct sample cur, prev;
	struct top_row **view;		/* rows shown, sorted */
	size_t nview;
};

static volatile sig_atomic_t got_stop, got_winch;
static struct termios saved_tio;
static int tio_saved;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		got_winch = 1;
	else
		got_stop = 1;
}

/* Leave the screen as it was: normal buffer, cursor, cooked input. */
static void term_restore(void)
{
	if (!tio_saved)
		return;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	tio_saved = 0;
}

static void term_setup(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tio))
		die("top: the terminal: %s", strerror(errno));
	tio_saved = 1;
	atexit(term_restore);
	t = saved_tio;
	t.c_lflag &= ~(ICANON | ECHO);	/* keys one by one, not echoed; ^C still signals */
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	fputs("\033[?1049h\033[?25l", stdout);	/* alternate screen, no cursor */
}

static void row_keep(struct sample *s, const struct json_obj *o)
{
	struct top_row *r;
	const char *st = str_or(o, "state", "?");

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->rows = realloc(s->rows, s->cap * sizeof(*s->rows));
		if (!s->rows)
			die("out of memory");
	}
	r = &s->rows[s->n++];
	memset(r, 0, sizeof(*r));
	r->vm = json_get_u64(o, "vm", 0);
	r->gen = json_get_u64(o, "gen", 0);
	r->first_ns = json_get_u64(o, "first_ns", 0);
	r->cpu_ns = json_get_u64(o, "cpu_ns", json_get_u64(o, "run_ns", 0));
	r->switches = json_get_u64(o, "switches", 0);
	r->live = !strcmp(st, "live");
	r->cpu_pct = r->sw_rate = -1;
	snprintf(r->as, sizeof(r->as), "%s", str_or(o, "as", "?"));
	vm_name_col(r->name, sizeof(r->name), o, "vm_name");
	if (json_get(o, "reason"))
		snprintf(r->state, sizeof(r->state), "%s(%s)", st, str_or(o, "reason", "?"));
	else
		snprintf(r->state, sizeof(r->state), "%s", st);
}

/* One "ps" request: every process the agent knows, into s. */
static void fetch(const struct top *t, struct sample *s)
{
	struct reader *r = calloc(1, sizeof(*r));
	char req[64], *line;
	int fd;

	if (!r)
		die("out of memory");
	fd = agent_connect(t->socket);
	if (t->vm)
		snprintf(req, sizeof(req), "{\"cmd\":\"ps\",\"vm\":%lu}\n", t->vm);
	else
		snprintf(req, sizeof(req), "{\"cmd\":\"ps\"}\n");
	send_request(fd, req);
	r->fd = fd;
	s->n = 0;
	s->t_ns = af_now_ns();
	while ((line = read_line(r))) {
		struct json_obj o;
		int end;

		parse_line(line, &o);
		end = json_get_str(&o, "end") != NULL;
		if (!end)
			row_keep(s, &o);
		json_obj_free(&o);
		if (end)
			goto done;
	}
	die("the agent's ps reply was cut short (no end marker)");
done:
	close(fd);
	free(r);
}

static int key_cmp(const struct top_row *a, const struct top_row *b)
{
	if (a->vm != b->vm)
		return a->vm < b->vm ? -1 : 1;
	if (a->gen != b->gen)
		return a->gen < b->gen ? -1 : 1;
	return strcmp(a->as, b->as);
}

static int key_qcmp(const void *x, const void *y)
{
	return key_cmp(x, y);
}

/* Rates over the interval since prev, for the rows prev knew. */
static void rates(struct top *t)
{
	double secs = (t->cur.t_ns - t->prev.t_ns) / 1e9;

	if (!t->prev.t_ns || secs <= 0)
		return;
	for (size_t i = 0; i < t->cur.n; i++) {
		struct top_row *r = &t->cur.rows[i];
		struct top_row *p = bsearch(r, t->prev.rows, t->prev.n, sizeof(*r), key_qcmp);

		if (!p) {	/* new in this interval: all of it happened in it */
			r->cpu_pct = 0;
			r->sw_rate = 0;
			if (r->first_ns >= t->prev.t_ns) {
				r->cpu_pct = r->cpu_ns / 1e9 / secs * 100;
				r->sw_rate = r->switches / secs;
			}
			continue;
		}
		r->cpu_pct = (r->cpu_ns >= p->cpu_ns ? r->cpu_ns - p->cpu_ns : 0) / 1e9 / secs * 100;
		r->sw_rate = (r->switches >= p->switches ? r->switches - p->switches : 0) / secs;
	}
}

static int dbl_desc(double a, double b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

static enum sort_key view_sort;

static int view_cmp(const void *x, const void *y)
{
	const struct top_row *a = *(struct top_row *const *)x, *b = *(struct top_row *const *)y;
	int c = 0;

	switch (view_sort) {
	case SORT_CPU: c = dbl_desc(a->cpu_pct, b->cpu_pct); break;
	case SORT_SW: c = dbl_desc(a->sw_rate, b->sw_rate); break;
	case SORT_FIRST: c = a->first_ns > b->first_ns ? -1 : a->first_ns < b->first_ns; break;
	case SORT_VM: break;
	}
	if (!c && view_sort != SORT_CPU)
		c = dbl_desc(a->cpu_pct, b->cpu_pct);
	return c ? c : key_cmp(a, b);
}

/* What is shown: live processes, and those that exited in the last
 * interval (still live in the previous sample). */
static void build_view(struct top *t)
{
	free(t->view);
	t->view = calloc(t->cur.n + 1, sizeof(*t->view));
	if (!t->view)
		die("out of memory");
	t->nview = 0;
	for (size_t i = 0; i < t->cur.n; i++) {
		struct top_row *r = &t->cur.rows[i], *p;

		p = r->live ? NULL : bsearch(r, t->prev.rows, t->prev.n, sizeof(*r), key_qcmp);
		if (r->live || (p && p->live))
			t->view[t->nview++] = r;
	}
	view_sort = t->sort;
	qsort(t->view, t->nview, sizeof(*t->view), view_cmp);
}

static void fmt_rate(char *out, size_t size, double v, const char *fmt)
{
	if (v < 0)
		snprintf(out, size, "-");
	else
		snprintf(out, size, fmt, v);
}

static void row_text(char *out, size_t size, const struct top_row *r)
{
	char pct[16], sw[16], cpu[16], first[16];

	fmt_rate(pct, sizeof(pct), r->cpu_pct, "%.1f");
	fmt_rate(sw, sizeof(sw), r->sw_rate, "%.0f");
	fmt_dur(cpu, sizeof(cpu), r->cpu_ns);
	fmt_time(first, sizeof(first), r->first_ns, 0);
	snprintf(out, size, "%-8llu %-16s %-18s %4llu %-13s %6s %8s %9s %s",
		 (unsigned long long)r->vm, r->name, r->as, (unsigned long long)r->gen, r->state, pct, sw,
		 cpu, first);
}

static void header_text(char *out, size_t size, const struct top *t)
{
	char now[16];
	size_t vms = 0, live = 0;

	fmt_time(now, sizeof(now), af_now_ns(), 0);
	for (size_t i = 0; i < t->cur.n; i++) {
		live += t->cur.rows[i].live;
		/* rows arrive sorted by key: a new VM starts a new run */
		vms += i == 0 || t->cur.rows[i].vm != t->cur.rows[i - 1].vm;
	}
	snprintf(out, size, "antfarm top - %s  VMs %zu  live processes %zu  sort: %s", now, vms,
		 live, sort_names[t->sort]);
}

static const char col_header[] =
	"VM       NAME             AS                  GEN STATE           CPU%%    SW/S  CPU TIME FIRST SEEN";

static void draw_text(const struct top *t)
{
	char line[256];

	header_text(line, sizeof(line), t);
	printf("%s\n", line);
	printf(col_header);
	putchar('\n');
	for (size_t i = 0; i < t->nview; i++) {
		row_text(line, sizeof(line), t->view[i]);
		printf("%s\n", line);
	}
	putchar('\n');
	fflush(stdout);
}

/* A line cut to the terminal's width, then "erase to end of line". */
static void screen_line(const char *s, int cols, const char *pre, const char *post)
{
	printf("%s%.*s%s\033[K\n", pre, cols, s, post);
}

static void draw_screen(const struct top *t)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char line[256];
	int rows, cols;

	ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws);
	rows = ws.ws_row > 3 ? ws.ws_row : 24;
	cols = ws.ws_col ? ws.ws_col : 80;
	fputs("\033[H", stdout);
	header_text(line, sizeof(line), t);
	screen_line(line, cols, "", "");
	screen_line("keys: c cpu  s switches/s  f first seen  v vm  q quit", cols, "", "");
	snprintf(line, sizeof(line), col_header);
	screen_line(line, cols, "\033[7m", "\033[0m");
	for (size_t i = 0; i < t->nview && (int)i < rows - 4; i++) {
		row_text(line, sizeof(line), t->view[i]);
		screen_line(line, cols, "", "");
	}
	fputs("\033[J", stdout);	/* clear what an earlier, longer view left */
	fflush(stdout);
}

static void draw(struct top *t)
{
	build_view(t);
	if (t->tty)
		draw_screen(t);
	else
		draw_text(t);
}

/* Take a sample: the previous one becomes the base of the rates. */
static void refresh(struct top *t)
{
	struct sample tmp = t->prev;

	t->prev = t->cur;
	t->cur = tmp;
	fetch(t, &t->cur);
	qsort(t->cur.rows, t->cur.n, sizeof(*t->cur.rows), key_qcmp);
	rates(t);
	draw(t);
}

/* A key pressed; returns 1 to quit. */
static int key(struct top *t, int c)
{
	switch (c) {
	case 'q': case 'Q': return 1;
	case 'c': t->sort = SORT_CPU; break;
	case 's': t->sort = SORT_SW; break;
	case 'f': t->sort = SORT_FIRST; break;
	case 'v': t->sort = SORT_VM; break;
	default: return 0;
	}
	draw(t);
	return 0;
}

/* Wait until the next refresh is due, serving keys and resizes. */
static int wait_next(struct top *t, uint64_t due_ns)
{
	for (;;) {
		uint64_t now = af_now_ns();
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		char buf[64];
		ssize_t n;

		if (got_stop)
			return 1;
		if (got_winch) {
			got_winch = 0;
			draw(t);
		}
		if (now >= due_ns)
			return 0;
		if (poll(&p, t->tty, (due_ns - now) / 1000000 + 1) <= 0 || !(p.revents & POLLIN))
			continue;
		n = read(STDIN_FILENO, buf, sizeof(buf));
		for (ssize_t i = 0; i < n; i++)
			if (key(t, buf[i]))
				return 1;
	}
}

static int sort_by_name(const char *s)
{
	for (unsigned i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (!strcmp(s, sort_names[i]))
			return i;
	die("top: --sort: '%s' is not one of cpu, switches, first-seen, vm", s);
}

static unsigned long parse_count(const char *s, const char *opt, unsigned long max)
{
	uint64_t v;

	if (parse_u64(s, 1, max, &v))
		die("top: %s: '%s' is not a number from 1 to %lu", opt, s, max);
	return v;
}

static void parse_top_args(struct top *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "vm", required_argument, NULL, 'V' },
		{ "sort", required_argument, NULL, 'S' },
		{ "interval", required_argument, NULL, 'i' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'V': t->vm_arg = optarg; break;
		case 'S': t->sort = sort_by_name(optarg); break;
		case 'i': t->interval_ms = parse_count(optarg, "--interval", 3600000); break;
		case 'n': t->iterations = parse_count(optarg, "--iterations", 1000000000); break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default:
			fputs("Try 'antfarm --help'.\n", stderr);
			exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s'\nTry 'antfarm --help'.", argv[optind]);
}

int cmd_top(const char *socket, int argc, char **argv)
{
	struct top t = { .socket = socket, .interval_ms = 1000 };
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t due;

	parse_top_args(&t, argc, argv);
	if (t.vm_arg)
		t.vm = resolve_vm(socket, t.vm_arg);
	t.tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	if (t.tty)
		term_setup();
	due = af_now_ns();
	for (unsigned long i = 0; !t.iterations || i < t.iterations; i++) {
		refresh(&t);
		due += t.interval_ms * 1000000ull;
		if (t.iterations && i + 1 == t.iterations)
			break;
		if (wait_next(&t, due))
			break;
	}
	term_restore();
	free(t.cur.rows);
	free(t.prev.rows);
	free(t.view);
	return 0;
}
