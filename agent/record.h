/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* antfarm-agent --record and --replay (record.c, replay.c). */
#ifndef AF_RECORD_H
#define AF_RECORD_H

#ifndef ANTFARM_VERSION
#define ANTFARM_VERSION "unknown"
#endif

struct af_agent;
struct af_event;

int record_open(struct af_agent *a, const char *path, char *err, size_t errlen);
void record_event(struct af_agent *a, const struct af_event *ev);
void record_flush(struct af_agent *a);
void record_close(struct af_agent *a);

/* --replay FILE: exit status of the agent (0 = the replay inferred exactly
 * the recorded events, 1 = it did not, 2 = bad input or set-up). */
int replay_main(const char *path, int verbose);

#endif
