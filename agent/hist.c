// SPDX-License-Identifier: GPL-2.0
#include <math.h>

#include "hist.h"

uint64_t hist_bucket_low(unsigned int idx)
{
	unsigned int m;

	if (idx < PA_HIST_SUB)
		return idx;
	m = idx / PA_HIST_SUB + PA_HIST_SUB_BITS - 1;
	return (uint64_t)(PA_HIST_SUB + idx % PA_HIST_SUB) << (m - PA_HIST_SUB_BITS);
}

uint64_t hist_bucket_high(unsigned int idx)
{
	if (idx >= PA_HIST_BUCKETS - 1)
		return UINT64_MAX;
	return hist_bucket_low(idx + 1);
}

uint64_t hist_total(const uint64_t b[PA_HIST_BUCKETS])
{
	uint64_t n = 0;
	unsigned int i;

	for (i = 0; i < PA_HIST_BUCKETS; i++)
		n += b[i];
	return n;
}

static uint64_t bucket_mid(unsigned int idx, uint64_t max)
{
	uint64_t lo = hist_bucket_low(idx), hi = hist_bucket_high(idx);

	if (hi == UINT64_MAX)
		return max > lo ? max : lo;
	return lo + (hi - lo - 1) / 2;
}

uint64_t hist_percentile(const uint64_t b[PA_HIST_BUCKETS], double p, uint64_t max)
{
	uint64_t n = hist_total(b), rank, seen = 0, v;
	unsigned int i;

	if (!n)
		return 0;
	rank = (uint64_t)ceil(p * (double)n);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < PA_HIST_BUCKETS; i++) {
		seen += b[i];
		if (seen >= rank)
			break;
	}
	if (i == PA_HIST_BUCKETS)
		i = PA_HIST_BUCKETS - 1;
	v = bucket_mid(i, max);
	if (max && v > max && max >= hist_bucket_low(i))
		v = max;
	return v;
}

uint64_t hist_interval_max(const uint64_t b[PA_HIST_BUCKETS], uint64_t new_max,
			   uint64_t all_max)
{
	int i;

	if (new_max)
		return new_max;
	for (i = PA_HIST_BUCKETS - 1; i >= 0; i--) {
		if (b[i]) {
			uint64_t hi = hist_bucket_high(i) - 1;

			return hi < all_max ? hi : all_max;
		}
	}
	return 0;
}
