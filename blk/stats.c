// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-queue statistics and their JSON form. */
#include "stats.h"

unsigned stats_bucket(uint64_t ns)
{
	unsigned msb, sub;

	if (ns < 4)
		return ns;
	msb = 63 - __builtin_clzll(ns);
	sub = (ns >> (msb - 2)) & 3;
	return msb * 4 + sub - 4;	/* ns 4 -> 4 */
}

/* Bucket b holds [lo, lo + width). */
static void bucket_range(unsigned b, uint64_t *lo, uint64_t *width)
{
	unsigned msb = (b + 4) / 4, sub = (b + 4) % 4;

	if (b < 4) {
		*lo = b;
		*width = 1;
		return;
	}
	*lo = (1ull << msb) | ((uint64_t)sub << (msb - 2));
	*width = 1ull << (msb - 2);
}

uint64_t stats_bucket_ns(unsigned b)
{
	uint64_t lo, width;

	bucket_range(b, &lo, &width);
	return b < 4 ? lo : lo + width / 2;
}

uint64_t stats_bucket_max_ns(unsigned b)
{
	uint64_t lo, width;

	bucket_range(b, &lo, &width);
	return lo + width - 1;
}

uint64_t stats_percentile(const uint64_t *hist, double p)
{
	uint64_t total = 0, acc = 0, want;

	for (unsigned i = 0; i < VUB_HIST_BUCKETS; i++)
		total += hist[i];
	if (!total)
		return 0;
	want = (uint64_t)(total * p / 100.0 + 0.5);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < VUB_HIST_BUCKETS; i++) {
		acc += hist[i];
		if (acc >= want)
			return stats_bucket_ns(i);
	}
	return stats_bucket_ns(VUB_HIST_BUCKETS - 1);
}

void stats_queue_json(FILE *out, unsigned index, struct vub_qstats *s, unsigned inflight)
{
	uint64_t hist[VUB_HIST_BUCKETS];
	int first = 1;

	for (unsigned i = 0; i < VUB_HIST_BUCKETS; i++)
		hist[i] = STAT_GET(s->lat_hist[i]);
	fprintf(out, "{\"type\":\"queue\",\"queue\":%u,\"requests\":%llu,\"iops\":%llu,"
		"\"reads\":%llu,\"writes\":%llu,\"flushes\":%llu,\"discards\":%llu,"
		"\"write_zeroes\":%llu,\"other\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu,"
		"\"inflight\":%u,\"errors\":%llu,\"unsupported\":%llu,"
		"\"p50_us\":%.1f,\"p99_us\":%.1f,\"lat_hist_ns\":{",
		index, (unsigned long long)STAT_GET(s->requests), (unsigned long long)s->iops,
		(unsigned long long)STAT_GET(s->reads), (unsigned long long)STAT_GET(s->writes),
		(unsigned long long)STAT_GET(s->flushes), (unsigned long long)STAT_GET(s->discards),
		(unsigned long long)STAT_GET(s->write_zeroes), (unsigned long long)STAT_GET(s->others),
		(unsigned long long)STAT_GET(s->bytes_read),
		(unsigned long long)STAT_GET(s->bytes_written), inflight,
		(unsigned long long)STAT_GET(s->errors), (unsigned long long)STAT_GET(s->unsupported),
		stats_percentile(hist, 50) / 1000.0, stats_percentile(hist, 99) / 1000.0);
	for (unsigned i = 0; i < VUB_HIST_BUCKETS; i++) {
		if (!hist[i])
			continue;
		fprintf(out, "%s\"%llu\":%llu", first ? "" : ",",
			(unsigned long long)stats_bucket_ns(i), (unsigned long long)hist[i]);
		first = 0;
	}
	fputs("}}", out);
}
