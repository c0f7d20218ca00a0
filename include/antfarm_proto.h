/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The agent's socket protocol as the agent and its clients (the CLI,
 * scripts) see it: where the socket is, the request keys and command
 * names, the event names (the stable API: README, "Socket protocol") and
 * the reply markers.  JSON lines; see agent/proto.h for the parser.
 */
#ifndef ANTFARM_PROTO_H
#define ANTFARM_PROTO_H

#include "antfarm_abi.h"

#define AF_DEFAULT_SOCKET	"/run/antfarm/agent.sock"
#define AF_REQ_MAX_LINE		(64 * 1024)	/* a request line, without its newline */

/* request keys */
#define AF_KEY_CMD		"cmd"
#define AF_KEY_EVENTS		"events"
#define AF_KEY_VM		"vm"
#define AF_KEY_ADDR		"addr"		/* notify events: only these addresses */
#define AF_REQ_MAX_ADDR		AF_NOTIFY_ADDRS

/* commands ({"cmd":NAME}); no "cmd" is a subscription */
#define AF_CMD_NAME_PS		"ps"
#define AF_CMD_NAME_VMS		"vms"
#define AF_CMD_NAME_STATS	"stats"
#define AF_CMD_NAME_METRICS	"metrics"

/* event names, by enum af_ev_type (antfarm_abi.h), and "lost" */
#define AF_EV_NAMES { \
	[AF_EV_CREATE] = "create", [AF_EV_EXIT] = "exit", [AF_EV_SWITCH] = "switch", \
	[AF_EV_VM_EXIT] = "vm-exit", [AF_EV_NOTIFY] = "notify", [AF_EV_VM_NEW] = "vm-new", \
}
#define AF_EV_NAME_LOST		"lost"

/* reply keys: a refusal, the subscription's first line, a reply's last */
#define AF_KEY_ERROR		"error"
#define AF_KEY_SUBSCRIBED	"subscribed"
#define AF_KEY_END		"end"
#define AF_METRICS_END		"# EOF"

#endif
