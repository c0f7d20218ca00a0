/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The stats socket's content (report.c). */
#ifndef ANTFARM_BLK_REPORT_H
#define ANTFARM_BLK_REPORT_H

#include <stdio.h>

struct vub_dev;
struct vub_hints;

/* JSON lines: device, one per queue, one per scheduler instance, hints.
 * Pauses the workers briefly to read the schedulers' state. */
void stats_report(struct vub_dev *d, struct vub_hints *h, FILE *out);
/* Prometheus text of the same counters (metrics.c). */
void metrics_report(struct vub_dev *d, struct vub_hints *h, FILE *out);
/* Once a second: per-queue IOPS over the last second. */
void stats_tick(struct vub_dev *d);

#endif
