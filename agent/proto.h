/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's socket protocol (JSON lines), independent of sockets:
 * parsing a client's request line and encoding ring-buffer records.
 *
 * Request (the client's first line):
 *   {"events":["create","exit","switch"],"vm":PID}   subscribe (both optional)
 *   {"cmd":"ps","vm":PID} {"cmd":"vms"} {"cmd":"stats"} {"cmd":"metrics"}
 * Event names are the stable API; see the README for every field.
 */
#ifndef AF_PROTO_H
#define AF_PROTO_H

#include <stddef.h>
#include <stdint.h>
#include "antfarm_abi.h"
#include "antfarm_proto.h"
#include "lib/json.h"

enum af_cmd { AF_CMD_SUBSCRIBE, AF_CMD_PS, AF_CMD_VMS, AF_CMD_STATS, AF_CMD_METRICS };

/* Bit (1 << type) per enum af_ev_type. */
#define AF_EVMASK(t)		(1u << (t))
#define AF_EVMASK_DEFAULT	(AF_EVMASK(AF_EV_CREATE) | AF_EVMASK(AF_EV_EXIT) | \
				 AF_EVMASK(AF_EV_VM_EXIT))

struct af_request {
	enum af_cmd cmd;
	uint32_t events;	/* AF_EVMASK bits (subscriptions) */
	uint32_t vm;		/* VMM pid filter, 0 = all */
	unsigned naddr;		/* notify events only at these addresses; 0 = all */
	uint64_t addr[AF_REQ_MAX_ADDR];
};

/* Does a subscription with 'req' want notify events at 'addr'? */
int af_request_wants_addr(const struct af_request *req, uint64_t addr);

/* Returns 0, or -1 with a sentence in err. */
int af_request_parse(const char *line, size_t len, struct af_request *req,
		     char *err, size_t errlen);

const char *af_ev_name(unsigned type);		/* "create", ..., or NULL */
int af_ev_lookup(const char *name);		/* enum af_ev_type, or -1 */
const char *af_reason_name(unsigned reason);
const char *af_source_name(unsigned source);
const char *af_fidelity_name(unsigned fid);
const char *af_cmd_name(enum af_cmd cmd);

/* Append one event as a JSON line (with '\n'). */
void af_event_json(struct sbuf *b, const struct af_event *ev);
/* The same with "vm_name" after "vm" (left out when vm_name is empty). */
void af_event_json_name(struct sbuf *b, const struct af_event *ev, const char *vm_name);
/* Append {"error":"msg"}\n. */
void af_error_json(struct sbuf *b, const char *msg);

#endif
