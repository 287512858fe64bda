/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf/net.bpf.c's connection table: where a TCP connection's start is kept
 * from SYN_SENT or SYN_RECV to CLOSE, found by its socket's address.
 */
#ifndef PERFAGENT_NET_CONNS_BPF_H
#define PERFAGENT_NET_CONNS_BPF_H

const volatile __u32 conn_sets = PA_NET_CONN_SETS;	/* a power of two: net_conns' size */

/* TCP connections seen opening, from SYN_SENT or SYN_RECV to CLOSE: a
 * set-associative table in an array, like a CPU cache. A socket's address
 * picks a set of CONN_WAYS slots; the slot holding that address is its
 * record. Taking and finding a slot is an inlined array lookup and a few
 * compares, where a hash map insert and delete (allocation, bucket lock)
 * cost several times the rest of the program on every connection.
 *
 * A socket opening when its set is full takes the oldest slot, and that
 * connection's record is lost (counted as conn_overflow: it will close
 * without a lifetime). Slots are claimed without atomics (kernels before
 * 5.12 have no compare-and-swap): two sockets of one set opening on two
 * CPUs at the same instant may take the same free slot; the one that loses
 * sees the slot taken and is counted the same way, unless both wrote in the
 * very same nanoseconds.
 */
#define CONN_WAYS	4

struct conn_slot {
	__u64 sk;		/* the socket's address, 0 = free */
	__u64 born_ns;		/* SYN_SENT or SYN_RECV */
	__u64 connect_ns;	/* SYN_SENT -> ESTABLISHED */
	__u32 pid;
	__u8 active;
	__u8 pad[3];
	char comm[PA_NET_COMM_LEN];
};

struct conn_set {
	struct conn_slot way[CONN_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PA_NET_CONN_SETS);	/* or conn_sets, set by the agent */
	__type(key, __u32);
	__type(value, struct conn_set);
} net_conns SEC(".maps");

#include "ptr_number.bpf.h"

/* The set a socket's record lives in; key is its address. Fibonacci
 * hashing: the top bits of the product depend on every bit of the address
 * (slab objects share their low bits).
 */
static __always_inline struct conn_set *conn_set_of(const struct sock *sk, __u64 *key)
{
	__u32 idx;

	*key = ptr_as_number(sk);
	idx = (__u32)((*key * 0x9E3779B97F4A7C15ULL) >> 32) & (conn_sets - 1);
	return *key ? bpf_map_lookup_elem(&net_conns, &idx) : NULL;
}

static __always_inline struct conn_slot *conn_tracked(const struct sock *sk)
{
	struct conn_set *set;
	__u64 key;
	int i;

	set = conn_set_of(sk, &key);
	if (!set)
		return NULL;
	for (i = 0; i < CONN_WAYS; i++)
		if (set->way[i].sk == key)
			return &set->way[i];
	return NULL;
}

static __always_inline void conn_forget(struct conn_slot *c)
{
	c->sk = 0;
}

/* The slot for a socket that opens: its own if it has one (the address of
 * a socket freed without our seeing it close, reused), else a free one,
 * else the oldest, whose record is then lost (*pushed).
 */
static __always_inline struct conn_slot *conn_claim(struct conn_set *set, __u64 key,
						    bool *pushed)
{
	__u64 oldest_ns = ~0ULL;
	int i, free = -1, oldest = 0;

	*pushed = false;
	for (i = 0; i < CONN_WAYS; i++) {
		if (set->way[i].sk == key)
			return &set->way[i];
		if (!set->way[i].sk && free < 0)
			free = i;
		if (set->way[i].born_ns < oldest_ns) {
			oldest_ns = set->way[i].born_ns;
			oldest = i;
		}
	}
	if (free < 0) {
		*pushed = true;
		free = oldest;
	}
	return &set->way[free & (CONN_WAYS - 1)];
}

#endif
