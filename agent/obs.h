/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Observations as text: one per line, "kind:vm_key:vm_pid:vcpu:a:b:c:ts"
 * (the AF_REPLAY_NARGS arguments of the af_replay program, antfarm_abi.h;
 * kind by name, numbers in C notation, missing trailing fields 0).  The
 * format of antfarm-agent --record files and of the tests' injector.
 */
#ifndef AF_OBS_H
#define AF_OBS_H

#include <stddef.h>
#include <stdint.h>
#include "antfarm_abi.h"

/* "cr3", "get", ... or NULL for a kind without a name. */
const char *af_obs_name(uint64_t kind);

/* Returns 0, 1 for a blank line, -1 for a malformed one. */
int af_obs_parse(const char *s, uint64_t args[AF_REPLAY_NARGS]);

/* Writes the line (no newline) into buf; returns its length. */
int af_obs_format(char *buf, size_t len, const uint64_t args[AF_REPLAY_NARGS]);

#endif
