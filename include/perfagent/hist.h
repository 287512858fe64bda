/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Log-linear latency histogram shared by the BPF programs and the agent.
 *
 * A log2 histogram cannot give percentiles within 5 %: a 1.1 ms call and a
 * 1.9 ms call share the 1-2 ms bucket. Here every power of two is split into
 * PA_HIST_SUB linear sub-buckets, so a bucket is at most 1/16 of its lower
 * bound wide and its midpoint is within 1/32 (3.125 %) of any value in it.
 *
 *   v < 16                 -> index v (exact)
 *   2^m <= v < 2^(m+1)     -> index (m - 3) * 16 + ((v >> (m - 4)) - 16)
 *   v >= 2^PA_HIST_MAX_LOG2 -> last bucket (the exact max is kept apart)
 *
 * With nanosecond values this covers 1 ns .. 68.7 s in 528 buckets.
 */
#ifndef PERFAGENT_HIST_H
#define PERFAGENT_HIST_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define PA_HIST_SUB_BITS	4
#define PA_HIST_SUB		(1 << PA_HIST_SUB_BITS)
#define PA_HIST_MAX_LOG2	36
#define PA_HIST_BUCKETS		((PA_HIST_MAX_LOG2 - PA_HIST_SUB_BITS + 1) * PA_HIST_SUB)

/* Index of the highest set bit of v (v != 0), without loops or builtins the
 * BPF backend of older clangs lacks.
 */
static __always_inline unsigned int pa_hist_log2(unsigned long long v)
{
	unsigned int r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffffULL) << 4; v >>= shift; r |= shift;
	shift = (v > 0xffULL) << 3; v >>= shift; r |= shift;
	shift = (v > 0xfULL) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3ULL) << 1; v >>= shift; r |= shift;
	r |= (unsigned int)(v >> 1);
	return r;
}

static __always_inline unsigned int pa_hist_index(unsigned long long v)
{
	unsigned int m;

	if (v < PA_HIST_SUB)
		return (unsigned int)v;
	m = pa_hist_log2(v);
	if (m >= PA_HIST_MAX_LOG2)
		return PA_HIST_BUCKETS - 1;
	return (m - PA_HIST_SUB_BITS + 1) * PA_HIST_SUB +
	       (unsigned int)((v >> (m - PA_HIST_SUB_BITS)) - PA_HIST_SUB);
}

#endif /* PERFAGENT_HIST_H */
