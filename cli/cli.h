/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the CLI's commands share (cli/antfarm.c): the agent connection, the
 * line reader, and the time and duration formats of the tables.
 */
#ifndef AF_CLI_H
#define AF_CLI_H

#include <stddef.h>
#include <stdint.h>
#include "lib/json.h"

/* Line reader over the agent's socket. */
struct reader {
	int fd;
	char buf[1 << 16];
	size_t start, end;
};

extern const char usage_text[];
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* --timeout: seconds agent_connect()'s socket waits to connect, send and
 * read (0: for ever); set_recv_timeout() changes the reads' later. */
extern unsigned cli_timeout_s;
int agent_connect(const char *path);
void set_recv_timeout(int fd, unsigned sec);
void send_request(int fd, const char *line);
char *read_line(struct reader *r);
void parse_line(const char *line, struct json_obj *o);
void fmt_time(char *out, size_t size, uint64_t mono_ns, int millis);
void fmt_dur(char *out, size_t size, uint64_t ns);
unsigned long resolve_vm(const char *socket, const char *s);
void vm_name_col(char *out, size_t size, const struct json_obj *o, const char *key);
const char *str_or(const struct json_obj *o, const char *k, const char *def);

/* top.c: antfarm top */
int cmd_top(const char *socket, int argc, char **argv);

#endif
