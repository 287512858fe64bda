/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bpf/net.bpf.c's per-key rate limit on streamed events, decided in the
 * kernel so that one misbehaving flow cannot flood the stream.
 */
#ifndef PERFAGENT_NET_RATE_BPF_H
#define PERFAGENT_NET_RATE_BPF_H

#ifndef NSEC_PER_SEC
#define NSEC_PER_SEC	1000000000ULL
#endif

const volatile __u32 rate_limit;	/* events per second per key, 0 = no limit */
const volatile __u32 jiffies_hz;	/* the kernel's CONFIG_HZ, 0 = not known */
const volatile __u16 ephemeral_lo;	/* the local port range: ports in it are */
const volatile __u16 ephemeral_hi;	/* left out of rate-limit keys */

/* Rate limiting: a fixed one-second window per key. The key is the event
 * kind (and drop reason) and its flow without the client's port, so a
 * client reconnecting from new ports is still one key. Which end is the
 * client is known for connections seen opening, and from SYNs; otherwise a
 * port in the local port range facing one outside it is taken for the
 * client's, and when both are in it neither port is kept.
 */
enum client_side {
	SIDE_UNKNOWN,
	SIDE_LOCAL,		/* we connected */
	SIDE_REMOTE,		/* they connected (or sent the packet we answer) */
};

struct rate_key {		/* a whole number of words, no padding */
	__u32 kind;
	__u32 reason;
	__u32 netns;
	struct pa_net_flow flow;
};

_Static_assert(sizeof(struct rate_key) % sizeof(__u32) == 0, "rate_key: whole words");

struct rate_state {
	__u64 window;		/* start of the current one, in rate_clock() units */
	__u64 passed;		/* in the current window */
	__u64 suppressed;	/* ever */
	__u64 reported;		/* of suppressed, already attached to an event */
};

/* Keys live in a set-associative table (see net_conns), found by a 64-bit
 * fingerprint of the key: two keys sharing one (a chance of 2^-63 a pair)
 * would share a limit. A new key in a full set takes the slot whose window
 * is the oldest; what that key had suppressed but not yet reported stays in
 * events_suppressed only.
 */
#define RATE_WAYS	4
#define RATE_SETS	4096	/* 16 Ki keys, 640 KiB */

struct rate_slot {
	__u64 fp;		/* fingerprint of the key, 0 = free */
	struct rate_state st;
};

struct rate_set {
	struct rate_slot way[RATE_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RATE_SETS);
	__type(key, __u32);
	__type(value, struct rate_set);
} net_rate SEC(".maps");

static __always_inline bool ephemeral(__u16 port)
{
	return port >= ephemeral_lo && port <= ephemeral_hi;
}

static __always_inline void drop_client_port(struct pa_net_flow *f, enum client_side side)
{
	if (side == SIDE_LOCAL)
		f->lport = 0;
	else if (side == SIDE_REMOTE)
		f->rport = 0;
	else if (ephemeral(f->lport) && ephemeral(f->rport))
		f->lport = f->rport = 0;	/* cannot tell: one key per address pair */
	else if (ephemeral(f->lport))
		f->lport = 0;
	else if (ephemeral(f->rport))
		f->rport = 0;
}

/* The rate limit's clock: jiffies when the agent found the kernel's tick
 * rate (a load the verifier inlines), else nanoseconds (a clock read, 65 ns
 * on this kind of CPU, paid by every event the limit holds back).
 */
static __always_inline __u64 rate_clock(void)
{
	return jiffies_hz ? bpf_jiffies64() : bpf_ktime_get_ns();
}

static __always_inline __u64 rate_window(void)
{
	return jiffies_hz ? jiffies_hz : NSEC_PER_SEC;
}

/* FNV-1a over the key's words, then a finalizer that spreads every bit. */
static __always_inline __u64 rate_fingerprint(const struct rate_key *k)
{
	__u32 w[sizeof(*k) / sizeof(__u32)];
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	__builtin_memcpy(w, k, sizeof(w));	/* not a cast: the fields were stored as other types */
	for (i = 0; i < (int)(sizeof(w) / sizeof(w[0])); i++) {
		h ^= w[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h | 1;		/* never 0: that marks a free slot */
}

/* The key's state, or a fresh one for a key not seen (or pushed out). */
static __always_inline struct rate_state *rate_state_of(__u64 fp, __u64 now, bool *fresh)
{
	__u32 idx = (__u32)(fp >> 40) & (RATE_SETS - 1);
	struct rate_set *set = bpf_map_lookup_elem(&net_rate, &idx);
	__u64 oldest = ~0ULL;
	int i, victim = 0;
	struct rate_slot *v;

	*fresh = false;
	if (!set)
		return NULL;
	for (i = 0; i < RATE_WAYS; i++) {
		if (set->way[i].fp == fp)
			return &set->way[i].st;
		if (set->way[i].st.window < oldest) {
			oldest = set->way[i].st.window;	/* a free slot has 0 */
			victim = i;
		}
	}
	v = &set->way[victim & (RATE_WAYS - 1)];
	v->fp = fp;
	v->st.window = now;
	v->st.passed = 0;
	v->st.suppressed = 0;
	v->st.reported = 0;
	*fresh = true;
	return &v->st;
}

/* Whether an event with this key may go out now (false: held back); fills
 * how many of the key's events were held back since the last one that
 * went out.
 */
static __always_inline bool rate_pass(struct rate_key *k, enum client_side side,
				      __u32 *suppressed)
{
	struct rate_state *s;
	bool fresh;
	__u64 held, now;

	*suppressed = 0;
	if (!rate_limit)
		return true;
	drop_client_port(&k->flow, side);
	now = rate_clock();
	s = rate_state_of(rate_fingerprint(k), now, &fresh);
	if (!s)
		return true;
	if (!fresh && now - s->window >= rate_window()) {
		s->window = now;
		s->passed = 0;
	}
	if (s->passed >= rate_limit) {
		__sync_fetch_and_add(&s->suppressed, 1);
		return false;
	}
	s->passed++;
	held = s->suppressed - s->reported;
	s->reported += held;
	*suppressed = held;
	return true;
}

#endif
