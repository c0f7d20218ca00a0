/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#include <stdio.h>
#include <string.h>
#include "proto.h"
#include "lib/num.h"

#define NAME(tab, i) ((i) < sizeof(tab) / sizeof(tab[0]) ? tab[i] : NULL)

static const char *const ev_names[] = AF_EV_NAMES;
static const char *const reason_names[] = {
	[AF_EXIT_NONE] = "none", [AF_EXIT_ZAP] = "zap", [AF_EXIT_VM] = "vm",
	[AF_EXIT_IDLE] = "idle", [AF_EXIT_REUSED] = "reused",
};
static const char *const source_names[] = {
	[AF_SRC_NONE] = "none",       [AF_SRC_EMULATE] = "emulate", [AF_SRC_CR] = "cr",
	[AF_SRC_EXIT] = "exit",       [AF_SRC_MMU_GET] = "mmu-get", [AF_SRC_MMU_ZAP] = "mmu-zap",
	[AF_SRC_MMIO] = "mmio",       [AF_SRC_PIO] = "pio",         [AF_SRC_REPLAY] = "replay",
};
static const char *const fid_names[] = {
	[AF_FID_NONE] = "none", [AF_FID_SAMPLED] = "sampled", [AF_FID_FULL] = "full",
	[AF_FID_LIFECYCLE] = "lifecycle",
};
static const char *const cmd_names[] = {
	[AF_CMD_SUBSCRIBE] = "subscribe",	     [AF_CMD_PS] = AF_CMD_NAME_PS,
	[AF_CMD_VMS] = AF_CMD_NAME_VMS,		     [AF_CMD_STATS] = AF_CMD_NAME_STATS,
	[AF_CMD_METRICS] = AF_CMD_NAME_METRICS,
};

const char *af_ev_name(unsigned t) { return NAME(ev_names, t); }
const char *af_reason_name(unsigned r) { return NAME(reason_names, r) ?: "unknown"; }
const char *af_source_name(unsigned s) { return NAME(source_names, s) ?: "unknown"; }
const char *af_fidelity_name(unsigned f) { return NAME(fid_names, f) ?: "unknown"; }
const char *af_cmd_name(enum af_cmd c) { return NAME(cmd_names, (unsigned)c); }

int af_ev_lookup(const char *name)
{
	for (unsigned i = 0; i < sizeof(ev_names) / sizeof(ev_names[0]); i++)
		if (ev_names[i] && !strcmp(ev_names[i], name))
			return i;
	return -1;
}

/* A name the client sent, for an error message: quoted and cut to 40
 * bytes on a character boundary (the parser accepts only valid UTF-8). */
static const char *quoted(const struct json_val *v, char *buf, size_t len)
{
	if (v->type != JSON_STR)
		return "(not a string)";
	snprintf(buf, len, "\"%.*s\"", (int)utf8_cut(v->str, strlen(v->str), 40), v->str);
	return buf;
}

static int parse_events(const struct json_val *v, uint32_t *mask, char *err, size_t errlen)
{
	char name[48];

	if (v->type != JSON_ARR) {
		snprintf(err, errlen, "\"events\" must be an array of event names");
		return -1;
	}
	*mask = 0;
	for (int i = 0; i < v->nitems; i++) {
		int t = v->items[i].type == JSON_STR ? af_ev_lookup(v->items[i].str) : -1;
		if (t < 0) {
			snprintf(err, errlen, "unknown event name %s (known: create, exit, "
				 "switch, vm-exit, notify, vm-new)",
				 quoted(&v->items[i], name, sizeof(name)));
			return -1;
		}
		*mask |= AF_EVMASK(t);
	}
	if (!*mask) {
		snprintf(err, errlen, "\"events\" is empty");
		return -1;
	}
	return 0;
}

static int parse_cmd(const struct json_val *v, enum af_cmd *cmd, char *err, size_t errlen)
{
	char name[48];

	if (v->type == JSON_STR)
		for (unsigned i = AF_CMD_PS; i <= AF_CMD_METRICS; i++)
			if (!strcmp(v->str, cmd_names[i])) {
				*cmd = i;
				return 0;
			}
	snprintf(err, errlen, "unknown command %s (known: ps, vms, stats, metrics)",
		 quoted(v, name, sizeof(name)));
	return -1;
}

/* "addr": [A, ...], each a number or a string ("0x80", "128"). */
static int parse_addrs(const struct json_val *v, struct af_request *req, char *err, size_t errlen)
{
	char name[48];

	if (v->type != JSON_ARR || !v->nitems || v->nitems > AF_REQ_MAX_ADDR) {
		snprintf(err, errlen, "\"addr\" must be a list of 1 to %d addresses",
			 AF_REQ_MAX_ADDR);
		return -1;
	}
	for (int i = 0; i < v->nitems; i++) {
		const struct json_val *a = &v->items[i];
		uint64_t u;

		if (a->type == JSON_NUM && a->is_uint)
			u = a->u;
		else if (a->type != JSON_STR || parse_u64(a->str, 0, UINT64_MAX, &u)) {
			snprintf(err, errlen, "bad address %s in \"addr\" (a number, or a string "
				 "such as \"0x80\")", quoted(a, name, sizeof(name)));
			return -1;
		}
		req->addr[req->naddr++] = u;
	}
	if (!(req->events & AF_EVMASK(AF_EV_NOTIFY))) {
		snprintf(err, errlen, "\"addr\" filters notify events, which this "
			 "subscription does not ask for");
		return -1;
	}
	return 0;
}

int af_request_wants_addr(const struct af_request *req, uint64_t addr)
{
	if (!req->naddr)
		return 1;
	for (unsigned i = 0; i < req->naddr; i++)
		if (req->addr[i] == addr)
			return 1;
	return 0;
}

static int check_request(const struct json_obj *o, struct af_request *req,
			 char *err, size_t errlen)
{
	const struct json_val *v;

	for (int i = 0; i < o->n; i++) {
		const char *k = o->kv[i].key;
		if (strcmp(k, AF_KEY_CMD) && strcmp(k, AF_KEY_EVENTS) && strcmp(k, AF_KEY_VM) &&
		    strcmp(k, AF_KEY_ADDR)) {
			snprintf(err, errlen, "unknown key \"%.*s\" (known: cmd, events, vm, addr)",
				 (int)utf8_cut(k, strlen(k), 40), k);
			return -1;
		}
	}
	if ((v = json_get(o, AF_KEY_CMD)) && parse_cmd(v, &req->cmd, err, errlen))
		return -1;
	if ((v = json_get(o, AF_KEY_EVENTS))) {
		if (req->cmd != AF_CMD_SUBSCRIBE) {
			snprintf(err, errlen, "\"events\" is only for subscriptions, not with \"cmd\"");
			return -1;
		}
		if (parse_events(v, &req->events, err, errlen))
			return -1;
	}
	if ((v = json_get(o, AF_KEY_VM))) {
		if (v->type != JSON_NUM || !v->is_uint || !v->u || v->u > UINT32_MAX) {
			snprintf(err, errlen, "\"vm\" must be a VMM process id (1 to 4294967295)");
			return -1;
		}
		if (req->cmd != AF_CMD_SUBSCRIBE && req->cmd != AF_CMD_PS) {
			snprintf(err, errlen, "\"vm\" is not valid with \"%s\"", cmd_names[req->cmd]);
			return -1;
		}
		req->vm = v->u;
	}
	if ((v = json_get(o, AF_KEY_ADDR))) {
		if (req->cmd != AF_CMD_SUBSCRIBE) {
			snprintf(err, errlen, "\"addr\" is only for subscriptions, not with \"cmd\"");
			return -1;
		}
		if (parse_addrs(v, req, err, errlen))
			return -1;
	}
	return 0;
}

int af_request_parse(const char *line, size_t len, struct af_request *req,
		     char *err, size_t errlen)
{
	struct json_obj o;
	char jerr[96];
	int ret = -1;

	memset(req, 0, sizeof(*req));
	req->events = AF_EVMASK_DEFAULT;
	if (len > AF_REQ_MAX_LINE) {
		snprintf(err, errlen, "request line longer than %d bytes", AF_REQ_MAX_LINE);
		return -1;
	}
	if (json_parse_object(line, len, &o, jerr, sizeof(jerr))) {
		snprintf(err, errlen, "request is not a JSON object: %s", jerr);
		goto cleanup;
	}
	ret = check_request(&o, req, err, errlen);
cleanup:
	json_obj_free(&o);
	return ret;
}

void af_error_json(struct sbuf *b, const char *msg)
{
	sb_puts(b, "{\"error\":");
	sb_str(b, msg);
	sb_puts(b, "}\n");
}

static void key(struct sbuf *b, const char *k)
{
	sb_putc(b, ',');
	sb_putc(b, '"');
	sb_puts(b, k);
	sb_putc(b, '"');
	sb_putc(b, ':');
}

static void as_fields(struct sbuf *b, const char *as_key, uint64_t as,
		      const char *gen_key, uint32_t gen)
{
	key(b, as_key);
	sb_hex(b, as);
	key(b, gen_key);
	sb_u64(b, gen);
}

void af_event_json(struct sbuf *b, const struct af_event *ev)
{
	af_event_json_name(b, ev, NULL);
}

void af_event_json_name(struct sbuf *b, const struct af_event *ev, const char *vm_name)
{
	const char *name = af_ev_name(ev->type);

	sb_puts(b, "{\"event\":");
	if (name) {
		sb_putc(b, '"');
		sb_puts(b, name);
		sb_putc(b, '"');
	} else {
		sb_printf(b, "\"type-%u\"", ev->type);
	}
	key(b, "ts_ns"); sb_u64(b, ev->ts_ns);
	key(b, "vm"); sb_u64(b, ev->vm_pid);
	if (vm_name && vm_name[0]) {
		key(b, "vm_name");
		sb_str(b, vm_name);
	}
	key(b, "vm_key"); sb_hex(b, ev->vm_key);
	if (ev->vcpu != AF_VCPU_NONE) {
		key(b, "vcpu");
		sb_u64(b, ev->vcpu);
	}
	switch (ev->type) {
	case AF_EV_SWITCH:
		as_fields(b, "as", ev->as, "gen", ev->gen);
		as_fields(b, "from", ev->from_as, "from_gen", ev->from_gen);
		as_fields(b, "to", ev->as, "to_gen", ev->gen);
		break;
	case AF_EV_EXIT:
		as_fields(b, "as", ev->as, "gen", ev->gen);
		key(b, "reason"); sb_putc(b, '"'); sb_puts(b, af_reason_name(ev->reason)); sb_putc(b, '"');
		key(b, "run_ns"); sb_u64(b, ev->run_ns);
		break;
	case AF_EV_NOTIFY:
		as_fields(b, "as", ev->as, "gen", ev->gen);
		key(b, "addr"); sb_hex(b, ev->addr);
		key(b, "value"); sb_u64(b, ev->value);
		break;
	case AF_EV_VM_EXIT:
	case AF_EV_VM_NEW:
		break;
	default:
		as_fields(b, "as", ev->as, "gen", ev->gen);
	}
	if (ev->flags & AF_EVF_KPTI) {
		key(b, "kpti");
		sb_puts(b, "true");
	}
	key(b, "source"); sb_putc(b, '"'); sb_puts(b, af_source_name(ev->source)); sb_putc(b, '"');
	key(b, "seq"); sb_u64(b, ev->seq);
	sb_puts(b, "}\n");
}
