/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* HDD service-time model; see hdd.h for the model and its sources. */
#include <math.h>
#include <string.h>
#include "hdd.h"

#define MS 1000000ull
#define KNOT (1.0 / 3.0)	/* where the sqrt part meets the linear part */
#define MEAN_STEPS 4096

const struct hdd_params hdd_default_params = {
	.name = "hitachi-7k320",
	.rpm = 7200,
	.seek_track_ns = { 1 * MS, 1100000 },
	.seek_avg_ns = { 12 * MS, 12 * MS },
	.seek_full_ns = { 20 * MS, 22 * MS },
	.rate_outer_kbs = 64800,
	.rate_inner_kbs = 31000,
	.drive_sectors = 320000000000ull / 512,
};

static double seek_at(const struct hdd_model *m, double d, int w)
{
	if (d <= 0)
		return 0;
	if (d <= m->track_frac)
		return m->p.seek_track_ns[w];
	if (d <= KNOT)
		return m->a[w] + m->b[w] * sqrt(d);
	return m->c[w] + m->e[w] * (d > 1 ? 1 : d);
}

/* Fix the curve for a given value at the knot. */
static void set_curve(struct hdd_model *m, int w, double mid)
{
	double t = m->track_frac, tt = m->p.seek_track_ns[w];

	m->b[w] = (mid - tt) / (sqrt(KNOT) - sqrt(t));
	m->a[w] = tt - m->b[w] * sqrt(t);
	m->e[w] = (m->p.seek_full_ns[w] - mid) / (1 - KNOT);
	m->c[w] = mid - m->e[w] * KNOT;
}

double hdd_mean_seek_ns(const struct hdd_model *m, int write)
{
	double sum = 0, h = 1.0 / MEAN_STEPS;

	/* midpoint rule over the triangular density 2(1 - d) */
	for (int i = 0; i < MEAN_STEPS; i++) {
		double d = (i + 0.5) * h;

		sum += 2 * (1 - d) * seek_at(m, d, write) * h;
	}
	return sum;
}

/* The mean is affine in the knot value, so two evaluations solve it. */
static void fit_curve(struct hdd_model *m, int w)
{
	double lo = m->p.seek_track_ns[w], hi = m->p.seek_full_ns[w];
	double m_lo, m_hi, mid;

	set_curve(m, w, lo);
	m_lo = hdd_mean_seek_ns(m, w);
	set_curve(m, w, hi);
	m_hi = hdd_mean_seek_ns(m, w);
	mid = lo + (m->p.seek_avg_ns[w] - m_lo) * (hi - lo) / (m_hi - m_lo);
	/* an average outside what the shape allows: keep the shape monotonic */
	if (mid < lo)
		mid = lo;
	if (mid > hi)
		mid = hi;
	set_curve(m, w, mid);
}

int hdd_init(struct hdd_model *m, const struct hdd_params *p,
	     uint64_t capacity_sectors)
{
	memset(m, 0, sizeof(*m));
	if (!p->rpm || !p->rate_outer_kbs || !p->rate_inner_kbs ||
	    !capacity_sectors)
		return -1;
	for (int w = 0; w < 2; w++)
		if (!p->seek_track_ns[w] ||
		    p->seek_track_ns[w] > p->seek_avg_ns[w] ||
		    p->seek_avg_ns[w] > p->seek_full_ns[w])
			return -1;
	m->p = *p;
	m->time_scale = 1;
	m->capacity = capacity_sectors;
	m->span = p->drive_sectors > capacity_sectors ? p->drive_sectors
						       : capacity_sectors;
	m->rot_ns = 60ull * 1000000000ull / p->rpm;
	/* one revolution passes rate * T_rot bytes under the head (outer zone) */
	m->track_sectors = (uint64_t)p->rate_outer_kbs * 1000 / 512 *
			   m->rot_ns / 1000000000ull;
	if (!m->track_sectors)
		m->track_sectors = 1;
	m->track_frac = (double)m->track_sectors / m->span;
	if (m->track_frac >= KNOT)
		return -1;	/* a "drive" a few tracks wide: nothing to fit */
	for (int w = 0; w < 2; w++)
		fit_curve(m, w);
	return 0;
}

uint64_t hdd_seek_ns(const struct hdd_model *m, uint64_t dist, int write)
{
	return (uint64_t)seek_at(m, (double)dist / m->span, !!write);
}

static uint64_t transfer_ns(const struct hdd_model *m, uint64_t sector,
			    uint32_t nsect)
{
	double pos = (double)sector / m->span;
	double kbs = m->p.rate_outer_kbs -
		     (double)(m->p.rate_outer_kbs - m->p.rate_inner_kbs) * pos;

	/* bytes / (kB/s * 1000) s = bytes * 1e6 / kbs ns */
	return (uint64_t)((double)nsect * 512 * 1e6 / kbs);
}

uint64_t hdd_service_ns(struct hdd_model *m, uint64_t sector, uint32_t nsect,
			int write)
{
	uint64_t pos_ns;

	if (sector >= m->capacity)
		sector = m->capacity - 1;
	if (nsect > m->capacity - sector)
		nsect = m->capacity - sector;
	if (sector == m->head)
		pos_ns = 0;
	else if (sector > m->head && sector - m->head < m->track_sectors)
		pos_ns = (sector - m->head) * m->rot_ns / m->track_sectors;
	else
		pos_ns = hdd_seek_ns(m, sector > m->head ? sector - m->head
							 : m->head - sector,
				     write) + m->rot_ns / 2;
	m->head = sector + nsect;
	return pos_ns + transfer_ns(m, sector, nsect);
}

uint64_t hdd_delay_ns(struct hdd_model *m, uint64_t now, uint64_t sector,
		      uint32_t nsect, int write)
{
	uint64_t start = m->busy_until > now ? m->busy_until : now;

	m->busy_until = start + hdd_service_ns(m, sector, nsect, write) * m->time_scale;
	return m->busy_until - now;
}
