/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Service-time model of one 7200 rpm disk, for experiments only (these
 * machines have no rotating disk).  antfarm-blk applies it as a delay
 * stage with device depth 1 (one head); the scheduler simulator in
 * tests/sched/ uses it as its device.  Pure computation, no clock: the
 * caller asks "how long does this request take from where the head is
 * now" and the model moves the head.
 *
 * service = positioning + transfer
 *   positioning = 0                      sequential continuation (the
 *                                        drive's read-ahead / track buffer
 *                                        covers a short think time)
 *               = gap / track * T_rot     short forward skip on the same
 *                                        track: wait for it to come round
 *               = seek(d) + T_rot / 2    otherwise (average latency)
 *   transfer    = bytes / rate(position), rate falling linearly from the
 *                 outer to the inner zone (zoned recording)
 *
 * seek(d), d = distance / stroke span in [0, 1]:
 *   d <= track  : single-track seek
 *   d <= 1/3    : a + b * sqrt(d)     (arm accelerates, then coasts:
 *   d >  1/3    : c + e * d            the usual short-sqrt / long-linear
 *                                      shape, Ruemmler & Wilkes 1994)
 * The sqrt part goes through (track, single-track seek), the linear part
 * through (1, full-stroke seek); their common value at d = 1/3 is solved
 * for so that the average over all seek pairs, weighted as the datasheets
 * define it (weight max + 1 - n for an n-track seek, i.e. the triangular
 * density 2(1 - d)), equals the datasheet's average seek.
 *
 * Default parameters (hdd_default_params), from public spec sheets:
 *   Hitachi Travelstar 7K320 SATA OEM Specification, 4.4.2 "Mechanical
 *   positioning" (manualowl.com/m/Hitachi/7K320/Manual/334882, p. 19):
 *   7200 rpm, 8.3 ms per revolution, average latency 4.2 ms; average seek
 *   12 ms (read/write, typical); full stroke 20.0 ms read / 22.0 ms write;
 *   single track 1.0 ms read / 1.1 ms write (typical).
 *   That spec's transfer-rate table was not available to us, so the rates
 *   come from a drive of the same maker and rpm, the Hitachi Deskstar 7K500
 *   specification, Table 10 "Data transfer speed" (easymanua.ls/hitachi/
 *   hds725050kla360/manual, p. 31): sustained read 64.8 MB/s in zone 0
 *   (outer), 31.0 MB/s in zone 29 (inner).  Capacity 320 GB (7K320).
 * Command overhead and the drive's cache are not modelled beyond the
 * sequential-continuation rule above.
 */
#ifndef ANTFARM_BLK_HDD_H
#define ANTFARM_BLK_HDD_H

#include <stdint.h>

struct hdd_params {
	const char *name;
	uint32_t rpm;
	uint64_t seek_track_ns[2];	/* [0] read, [1] write */
	uint64_t seek_avg_ns[2];
	uint64_t seek_full_ns[2];
	uint32_t rate_outer_kbs;	/* sustained, 1000-byte kB per second */
	uint32_t rate_inner_kbs;
	uint64_t drive_sectors;		/* stroke span; 0 = the image spans the
					 * whole stroke, else the image sits at
					 * the start of a drive this big */
};

extern const struct hdd_params hdd_default_params;

struct hdd_model {
	struct hdd_params p;
	uint64_t span;			/* sectors over the full stroke */
	uint64_t capacity;		/* the image's sectors */
	uint64_t head;			/* next sector under the head */
	uint64_t rot_ns;
	uint64_t track_sectors;		/* sectors passing in one revolution */
	double a[2], b[2], c[2], e[2];	/* seek curve, ns */
	double track_frac;
	uint64_t busy_until;		/* hdd_delay_ns: when the head is free */
	uint32_t time_scale;		/* hdd_delay_ns: real ns per model ns (1 after hdd_init) */
};

/* Returns 0, or -1 if the parameters are unusable (zero rpm or rate,
 * seeks not increasing: track <= avg <= full). */
int hdd_init(struct hdd_model *m, const struct hdd_params *p,
	     uint64_t capacity_sectors);

/* Time to serve [sector, sector + nsect) from the current head position;
 * moves the head to its end.  Out-of-range requests are clamped to the
 * image, never rejected: validation is the backend's job. */
uint64_t hdd_service_ns(struct hdd_model *m, uint64_t sector, uint32_t nsect,
			int write);

/* For a delay stage: the request issued at 'now' (CLOCK_MONOTONIC ns)
 * waits behind those issued before it (one head, served in issue order),
 * then takes hdd_service_ns x time_scale.  Returns how long after 'now' it completes.
 * Not thread-safe: one model per disk, called from one thread (or under
 * the caller's lock). */
uint64_t hdd_delay_ns(struct hdd_model *m, uint64_t now, uint64_t sector,
		      uint32_t nsect, int write);

/* The seek curve alone, for a distance in sectors. */
uint64_t hdd_seek_ns(const struct hdd_model *m, uint64_t dist, int write);

/* The model's average seek over all pairs, weighted as the datasheets do;
 * used to check the fit. */
double hdd_mean_seek_ns(const struct hdd_model *m, int write);

#endif
