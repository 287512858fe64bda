/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the log-linear histograms of include/perfagent/hist.h. */
#ifndef PERFAGENT_AGENT_HIST_H
#define PERFAGENT_AGENT_HIST_H

#include <stdint.h>
#include "perfagent/hist.h"

/* Smallest value that lands in bucket idx. */
uint64_t hist_bucket_low(unsigned int idx);
/* First value past bucket idx (UINT64_MAX for the open-ended last one). */
uint64_t hist_bucket_high(unsigned int idx);

/*
 * Estimate of the nearest-rank p-th percentile (0 < p <= 1) of the values
 * counted in b: the midpoint of the bucket holding rank ceil(p * n), which is
 * within 1/32 of the exact value. Clamped to max when max is known (non-zero)
 * so a single sample is reported exactly. Returns 0 for an empty histogram.
 */
uint64_t hist_percentile(const uint64_t b[PA_HIST_BUCKETS], double p, uint64_t max);

uint64_t hist_total(const uint64_t b[PA_HIST_BUCKETS]);

/*
 * The maximum of an interval whose counts (per-CPU deltas, summed) are in
 * b. new_max is the largest per-CPU maximum that rose during the interval,
 * 0 if none did: then the interval's maximum is only known to lie in its
 * top bucket, below that bucket's end and at most all_max (the largest
 * per-CPU maximum ever). 0 for an empty interval.
 */
uint64_t hist_interval_max(const uint64_t b[PA_HIST_BUCKETS], uint64_t new_max,
			   uint64_t all_max);

#endif
