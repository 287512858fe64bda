// SPDX-License-Identifier: GPL-2.0
/* The log-linear histogram: bucketing and the percentile error bound. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "hist.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void t_every_value_lands_in_its_bucket(void)
{
	uint64_t v;
	int i;

	for (v = 0; v < 100000; v++) {
		unsigned int idx = pa_hist_index(v);

		CHECKF(hist_bucket_low(idx) <= v && v < hist_bucket_high(idx),
		       "v=%llu idx=%u", (unsigned long long)v, idx);
	}
	for (i = 0; i < 200000; i++) {
		v = rng() >> (rng() % 64);
		unsigned int idx = pa_hist_index(v);

		if (idx == PA_HIST_BUCKETS - 1) {
			CHECK(v >= hist_bucket_low(idx));
			continue;
		}
		CHECKF(hist_bucket_low(idx) <= v && v < hist_bucket_high(idx),
		       "v=%llu idx=%u", (unsigned long long)v, idx);
	}
}

static void t_buckets_are_contiguous_and_narrow(void)
{
	unsigned int i;

	CHECK(hist_bucket_low(0) == 0);
	for (i = 1; i < PA_HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), prev_hi = hist_bucket_high(i - 1);

		CHECKF(lo == prev_hi, "bucket %u starts at %llu, previous ends at %llu", i,
		       (unsigned long long)lo, (unsigned long long)prev_hi);
		if (i < PA_HIST_BUCKETS - 1)
			CHECKF((hist_bucket_high(i) - lo) * 16 <= lo || lo < 32,
			       "bucket %u is wider than 1/16 of its start", i);
	}
	/* The open-ended last bucket takes the top sub-bucket below 2^36 ns (68.7 s) and all above. */
	CHECK(hist_bucket_low(PA_HIST_BUCKETS - 1) == (1ULL << 36) - (1ULL << 31));
	CHECK(pa_hist_index(UINT64_MAX) == PA_HIST_BUCKETS - 1);
}

/* Exact nearest-rank percentile of sorted values. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * (double)n);

	return sorted[(rank ? rank : 1) - 1];
}

static double worst_error(uint64_t *vals, size_t n)
{
	static const double ps[] = { 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0 };
	uint64_t *b = calloc(PA_HIST_BUCKETS, sizeof(*b)), max = 0;
	double worst = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		b[pa_hist_index(vals[i])]++;
		if (vals[i] > max)
			max = vals[i];
	}
	qsort(vals, n, sizeof(*vals), cmp_u64);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		double exact = (double)exact_percentile(vals, n, ps[i]);
		double est = (double)hist_percentile(b, ps[i], max);
		double err = exact ? fabs(est - exact) / exact : est;

		if (err > worst)
			worst = err;
	}
	free(b);
	return worst;
}

/* Log-uniform values from 1 ns to 60 s: every octave the probe covers. */
static void t_percentiles_within_bound_log_uniform(void)
{
	size_t n = 100000, i;
	uint64_t *v = malloc(n * sizeof(*v));
	int round;

	for (round = 0; round < 20; round++) {
		for (i = 0; i < n; i++)
			v[i] = (uint64_t)exp((double)(rng() % 1000000) / 1000000.0 * log(60e9)) + 1;
		double err = worst_error(v, n);

		if (err > 1.0 / 32 + 1e-9) {
			free(v);
			CHECKF(0, "round %d: worst percentile error %.4f > 1/32", round, err);
		}
	}
	free(v);
}

/* Narrow clusters, where one bucket holds most samples: the hardest case. */
static void t_percentiles_within_bound_clusters(void)
{
	size_t n = 5000, i;
	uint64_t *v = malloc(n * sizeof(*v));
	int round;

	for (round = 0; round < 200; round++) {
		uint64_t centre = 50 + rng() % 10000000000ULL, spread = centre / 50 + 1;

		for (i = 0; i < n; i++)
			v[i] = centre + rng() % spread;
		double err = worst_error(v, n);

		if (err > 1.0 / 32 + 1e-9) {
			free(v);
			CHECKF(0, "centre %llu: worst error %.4f > 1/32", (unsigned long long)centre, err);
		}
	}
	free(v);
}

/* The case a log2 histogram gets wrong: 1.1 ms must not read as 1.5 ms. */
static void t_one_point_one_ms(void)
{
	uint64_t b[PA_HIST_BUCKETS] = { 0 }, p;

	b[pa_hist_index(1100000)] = 10;
	p = hist_percentile(b, 0.5, 0);
	CHECKF(fabs((double)p - 1100000.0) / 1100000.0 <= 1.0 / 32, "p50 %llu", (unsigned long long)p);
}

static void t_empty_and_single(void)
{
	uint64_t b[PA_HIST_BUCKETS] = { 0 };

	CHECK(hist_percentile(b, 0.99, 0) == 0);
	b[pa_hist_index(123456789)] = 1;
	CHECK(hist_percentile(b, 0.5, 123456789) == 123456789);
	CHECK(hist_total(b) == 1);
}

/* Known exactly when a CPU set a new maximum, else bounded by the top
 * bucket's end and by the largest maximum ever seen.
 */
static void t_interval_max(void)
{
	uint64_t b[PA_HIST_BUCKETS] = { 0 };
	unsigned int top = pa_hist_index(1000000);

	CHECK(hist_interval_max(b, 0, 5000000) == 0);
	b[pa_hist_index(1000)] = 3;
	b[top] = 1;
	CHECK(hist_interval_max(b, 1000123, 9000000) == 1000123);
	CHECK(hist_interval_max(b, 0, 9000000) == hist_bucket_high(top) - 1);
	CHECK(hist_interval_max(b, 0, 1000010) == 1000010);
}

int main(void)
{
	RUN(t_every_value_lands_in_its_bucket);
	RUN(t_buckets_are_contiguous_and_narrow);
	RUN(t_percentiles_within_bound_log_uniform);
	RUN(t_percentiles_within_bound_clusters);
	RUN(t_one_point_one_ms);
	RUN(t_empty_and_single);
	RUN(t_interval_max);
	CHECK_EXIT();
}
