/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf/disk.bpf.c's request table: a request's record from its first
 * sighting to its completion, found by the request's address.
 *
 * A set-associative table in an array, like a CPU cache: finding, making
 * and dropping a record is an inlined array lookup and four compares. The
 * LRU hash it replaces spent two thirds of block_io_start and
 * block_rq_complete in bucket walks, its free lists and the delete.
 *
 * A request made when its set is full pushes out the way handed to the
 * driver longest ago (a request whose completion was never seen is the
 * first to go), counted in rq_full; a pushed-out request that does
 * complete is counted as untracked. Ways are claimed without atomics
 * (kernels before 5.12 have no compare-and-swap): two requests of one set
 * made on two CPUs at the same instant may take the same free way, and the
 * loser's completion is counted the same way.
 */
#ifndef PERFAGENT_DISK_RQS_BPF_H
#define PERFAGENT_DISK_RQS_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);	/* the agent sweeps it for stale records */
	__uint(max_entries, PA_DISK_RQ_SETS);
	__type(key, __u32);
	__type(value, struct pa_disk_rq_set);
} disk_rqs SEC(".maps");

#include "ptr_number.bpf.h"

/* Where a request's record is (or would go). */
struct rq_ref {
	struct pa_disk_rq_set *set;
	__u64 key;
};

/* Fibonacci hashing: the top bits of the product depend on every bit of the
 * address (requests sit in an array with a fixed stride).
 */
static __always_inline bool rq_ref_of(const struct request *rq, struct rq_ref *r)
{
	__u32 idx;

	r->key = ptr_as_number(rq);
	idx = (__u32)((r->key * 0x9E3779B97F4A7C15ULL) >> 32) & (PA_DISK_RQ_SETS - 1);
	r->set = r->key ? bpf_map_lookup_elem(&disk_rqs, &idx) : NULL;
	return r->set != NULL;
}

static __always_inline int rq_way(const struct rq_ref *r)
{
	int i;

	for (i = 0; i < PA_DISK_RQ_WAYS; i++)
		if (r->set->rq[i] == r->key)
			return i;
	return -1;
}

static __always_inline struct pa_disk_rq *rq_record(const struct rq_ref *r, int way)
{
	return &r->set->rec[way & (PA_DISK_RQ_WAYS - 1)];
}

static __always_inline void rq_forget(const struct rq_ref *r, int way)
{
	r->set->rq[way & (PA_DISK_RQ_WAYS - 1)] = 0;
}

/* A way for a request without a record: a free one, else the one issued
 * longest ago (unissued records are the newest), whose record is lost.
 */
static __always_inline int rq_claim(const struct rq_ref *r, bool *pushed)
{
	__u64 oldest = ~0ULL, ts;
	int i, free = -1, victim = 0;

	for (i = 0; i < PA_DISK_RQ_WAYS; i++) {
		if (!r->set->rq[i]) {
			free = i;
			break;
		}
		ts = r->set->rec[i].issue_ts;
		if (ts && ts < oldest) {
			oldest = ts;
			victim = i;
		}
	}
	*pushed = free < 0;
	if (free < 0)
		free = victim;
	r->set->rq[free & (PA_DISK_RQ_WAYS - 1)] = r->key;
	return free;
}

#endif
