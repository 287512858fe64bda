// SPDX-License-Identifier: GPL-2.0
/*
 * Network: packets, bytes and drops per interface; TCP connects (with their
 * SYN_SENT -> ESTABLISHED latency), lifetimes, bytes, retransmits and
 * resets; packet drops by the kernel's drop reason. All aggregated in
 * per-CPU maps. Retransmits, resets, drops and (optionally) closed
 * connections are also streamed one by one, through a per-key rate limit so
 * that one misbehaving flow cannot flood the stream.
 *
 * Tracepoints only (tp_btf), each loaded only when the running kernel has it
 * (agent/net.c decides). Arguments that differ between kernels (the drop
 * reason of skb:kfree_skb, the error of tcp:tcp_retransmit_skb) are read
 * only when the agent found them in the kernel's BTF: the flags below are
 * read-only data, so the verifier never sees the other branch.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "perfagent/net.h"
#include "net_conns.bpf.h"
#include "net_rate.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET		2
#define AF_INET6	10
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IPPROTO_TCP	6
#define IPPROTO_UDP	17
#define NSEC_PER_SEC	1000000000ULL

/* The kernel's TCP states (include/net/tcp_states.h), a stable ABI. */
#define TCP_ESTABLISHED_	1
#define TCP_SYN_SENT_		2
#define TCP_SYN_RECV_		3
#define TCP_FIN_WAIT1_		4
#define TCP_TIME_WAIT_		6
#define TCP_CLOSE_		7
#define TCP_CLOSE_WAIT_		8
#define TCP_LAST_ACK_		9
#define TCP_CLOSING_		11
#define TCP_NEW_SYN_RECV_	12

/* Load-time options: set by the agent before load, folded by the verifier. */
const volatile __u32 filter_netns;	/* namespace inode, 0 = all */
const volatile __u16 filter_port;	/* local or remote port, 0 = all */
const volatile __u32 stream_kinds;	/* PA_NET_STREAM(kind) bits */
const volatile bool drop_has_reason;	/* skb:kfree_skb has its reason argument */
const volatile bool retrans_has_err;	/* tcp:tcp_retransmit_skb has err (fires on failures too) */
const volatile bool use_ringbuf = true;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PA_NET_MAX_IFACES);
	__type(key, struct pa_net_if_key);
	__type(value, struct pa_net_if_stats);
} net_ifaces SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_net_tcp_stats);
} net_tcp SEC(".maps");

/* Drops by reason (enum skb_drop_reason, including subsystem-coded ones). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PA_NET_MAX_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} net_drops SEC(".maps");

/* Ring buffer; the agent turns it into a perf event array when the kernel
 * lacks ring buffers or the user asks for the fallback (use_ringbuf = 0).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} net_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_net_counters);
} net_counters SEC(".maps");

static __always_inline struct pa_net_counters *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&net_counters, &zero);
}

static __always_inline struct pa_net_tcp_stats *tcp_stats(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&net_tcp, &zero);
}

static __always_inline bool netns_wanted(__u32 netns)
{
	return !filter_netns || netns == filter_netns;
}

static __always_inline bool flow_wanted(const struct pa_net_flow *f)
{
	return !filter_port || f->lport == filter_port || f->rport == filter_port;
}

/* Direct loads: every program here is tp_btf, whose pointers the verifier
 * lets us follow (a fault reads as zero), cheaper than a helper call each.
 */
static __always_inline __u32 dev_netns(const struct net_device *dev)
{
	return dev->nd_net.net->ns.inum;
}

static __always_inline __u32 sk_netns(const struct sock_common *skc)
{
	return skc->skc_net.net->ns.inum;
}

/* ---- per interface ---- */

static __noinline struct pa_net_if_stats *iface_insert(struct net_device *dev,
						       struct pa_net_if_key *key)
{
	struct pa_net_if_stats init = {};
	struct pa_net_counters *c;

	BPF_CORE_READ_STR_INTO(&init.name, dev, name);
	if (bpf_map_update_elem(&net_ifaces, key, &init, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&net_ifaces, key)) {
		c = counters();
		if (c)
			c->iface_overflow++;
		return NULL;
	}
	return bpf_map_lookup_elem(&net_ifaces, key);
}

static __always_inline struct pa_net_if_stats *iface_stats(struct net_device *dev)
{
	struct pa_net_if_key key;
	struct pa_net_if_stats *s;

	key.netns = dev_netns(dev);
	if (!netns_wanted(key.netns))
		return NULL;
	key.ifindex = dev->ifindex;
	s = bpf_map_lookup_elem(&net_ifaces, &key);
	return s ? s : iface_insert(dev, &key);
}

/* ---- flows ---- */

/* Direct loads, word by word: the verifier follows the BTF pointer. */
static __always_inline void copy_in6(__u8 *dst, const struct in6_addr *a)
{
	__u32 w[4] = { a->in6_u.u6_addr32[0], a->in6_u.u6_addr32[1], a->in6_u.u6_addr32[2],
		       a->in6_u.u6_addr32[3] };

	__builtin_memcpy(dst, w, sizeof(w));
}

static __always_inline void flow_from_sock(const struct sock_common *skc,
					   struct pa_net_flow *f)
{
	__u16 family = skc->skc_family;

	f->protocol = IPPROTO_TCP;
	f->lport = skc->skc_num;
	f->rport = bpf_ntohs(skc->skc_dport);
	/* A full socket releases its port (skc_num = 0) on the way to CLOSE,
	 * before a reset it sends on close: its packets still carry inet_sport.
	 * Time-wait and request sockets always have skc_num.
	 */
	if (!f->lport && skc->skc_state != TCP_TIME_WAIT_ && skc->skc_state != TCP_NEW_SYN_RECV_) {
		const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)skc);

		if (tp)
			f->lport = bpf_ntohs(tp->inet_conn.icsk_inet.inet_sport);
	}
	if (family == AF_INET) {
		f->family = AF_INET;
		__u32 l = skc->skc_rcv_saddr, r = skc->skc_daddr;

		__builtin_memcpy(f->laddr, &l, 4);
		__builtin_memcpy(f->raddr, &r, 4);
	} else if (family == AF_INET6) {
		f->family = AF_INET6;
		copy_in6(f->laddr, &skc->skc_v6_rcv_saddr);
		copy_in6(f->raddr, &skc->skc_v6_daddr);
	}
}

/* The start of a TCP or UDP header: the ports, and for TCP the flags. */
struct l4_head {
	__be16 src;
	__be16 dst;
	__be32 seq;
	__be32 ack_seq;
	__u8 doff;
	__u8 flags;
};

#define TCP_FLAG_SYN	0x02
#define TCP_FLAG_ACK	0x10

/* The addresses and ports of a packet, from its network header. A packet
 * that arrived (skb_iif set) has its remote end as source; one on its way
 * out has the local end as source. Returns which end is the client when the
 * packet tells (a SYN comes from it, a SYN-ACK goes to it).
 */
static __always_inline enum client_side flow_from_skb(const struct sk_buff *skb,
						      struct pa_net_flow *f)
{
	unsigned char *head = skb->head;
	__u16 nh = skb->network_header, proto = bpf_ntohs(skb->protocol);
	bool rx = skb->skb_iif != 0;
	struct l4_head l4h = {};
	__u8 l4 = 0, *src, *dst;
	__u32 l4_off = 0, l4_len;

	src = rx ? f->raddr : f->laddr;
	dst = rx ? f->laddr : f->raddr;
	if (proto == ETH_P_IP) {
		struct iphdr ip;

		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh) || ip.version != 4)
			return SIDE_UNKNOWN;
		f->family = AF_INET;
		__builtin_memcpy(src, &ip.saddr, 4);
		__builtin_memcpy(dst, &ip.daddr, 4);
		l4 = ip.protocol;
		/* Only the first fragment carries the ports. */
		if (!(bpf_ntohs(ip.frag_off) & 0x1fff))
			l4_off = nh + ip.ihl * 4;
	} else if (proto == ETH_P_IPV6) {
		struct ipv6hdr ip6;

		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh) || ip6.version != 6)
			return SIDE_UNKNOWN;
		f->family = AF_INET6;
		__builtin_memcpy(src, &ip6.saddr, 16);
		__builtin_memcpy(dst, &ip6.daddr, 16);
		l4 = ip6.nexthdr;	/* extension headers are not walked */
		l4_off = nh + sizeof(ip6);
	} else {
		return SIDE_UNKNOWN;
	}
	f->protocol = l4;
	if (!l4_off || (l4 != IPPROTO_TCP && l4 != IPPROTO_UDP))
		return SIDE_UNKNOWN;
	l4_len = l4 == IPPROTO_TCP ? sizeof(l4h) : 4;
	if (bpf_probe_read_kernel(&l4h, l4_len, head + l4_off))
		return SIDE_UNKNOWN;
	f->lport = bpf_ntohs(rx ? l4h.dst : l4h.src);
	f->rport = bpf_ntohs(rx ? l4h.src : l4h.dst);
	if (!(l4h.flags & TCP_FLAG_SYN))
		return SIDE_UNKNOWN;
	/* The sender of a SYN, the receiver of a SYN-ACK, is the client. */
	if (!(l4h.flags & TCP_FLAG_ACK) == rx)
		return SIDE_REMOTE;
	return SIDE_LOCAL;
}

/* ---- streaming, under the per-key rate limit ---- */

/* Waking the agent for every event costs more than the rest of the
 * program: it is woken once a quarter of the ring is filled, and otherwise
 * reads on its own every NET_POLL_MS (agent/net.c).
 */
#define WAKEUP_BYTES	(64 * 1024)

static __always_inline void emit(void *ctx, struct pa_net_event *e)
{
	struct pa_net_counters *c = counters();
	struct pa_net_event *r;
	long err = 0;
	__u64 flags;

	if (use_ringbuf) {
		r = bpf_ringbuf_reserve(&net_events, sizeof(*r), 0);
		if (!r)
			goto lost;
		__builtin_memcpy(r, e, sizeof(*r));
		flags = bpf_ringbuf_query(&net_events, BPF_RB_AVAIL_DATA) >= WAKEUP_BYTES ?
			BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
		bpf_ringbuf_submit(r, flags);
	} else {
		err = bpf_perf_event_output(ctx, &net_events, BPF_F_CURRENT_CPU, e, sizeof(*e));
		if (err)
			goto lost;
	}
	if (c)
		c->events_sent++;
	return;
lost:
	if (c)
		c->events_lost++;
}

/* Per-CPU scratch for building an event: too big for the 512-byte stack
 * next to the rate key.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_net_event);
} net_scratch SEC(".maps");

/* Whether an event of this kind and key is to be streamed now: its kind is
 * streamed and its key is under the rate limit. Asked before the event is
 * built: under a flood most are held back, and those then cost one lookup.
 * Fills how many of the key's events the limit held back since the last
 * one that went out.
 */
static __always_inline bool stream_wanted(__u32 kind, __u32 reason, __u32 netns,
					  const struct pa_net_flow *f, enum client_side side,
					  __u32 *held)
{
	struct rate_key k = { .kind = kind, .reason = reason, .netns = netns, .flow = *f };

	struct pa_net_counters *c;

	if (!(stream_kinds & PA_NET_STREAM(kind)))
		return false;
	if (rate_pass(&k, side, held))
		return true;
	c = counters();
	if (c)
		c->events_suppressed++;
	return false;
}

static __always_inline struct pa_net_event *new_event(__u32 kind, __u32 netns,
						      const struct pa_net_flow *f, __u32 held)
{
	struct pa_net_event *e;
	__u32 zero = 0;

	e = bpf_map_lookup_elem(&net_scratch, &zero);
	if (!e)
		return NULL;
	__builtin_memset(e, 0, sizeof(*e));
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->netns = netns;
	e->flow = *f;
	e->suppressed = held;
	e->cpu = bpf_get_smp_processor_id();
	return e;
}

/* ---- drops ---- */

static __always_inline void count_drop_reason(__u32 reason)
{
	__u64 one = 1, *n;

	n = bpf_map_lookup_elem(&net_drops, &reason);
	if (n) {
		(*n)++;
		return;
	}
	if (bpf_map_update_elem(&net_drops, &reason, &one, BPF_NOEXIST)) {
		n = bpf_map_lookup_elem(&net_drops, &reason);
		if (n)
			(*n)++;
	}
}

/* The device the packet was on: received on it when skb_iif says so,
 * else on its way out.
 */
static __always_inline void count_iface_drop(const struct sk_buff *skb, struct net_device *dev)
{
	struct pa_net_if_stats *s = iface_stats(dev);

	if (!s)
		return;
	if (skb->skb_iif == dev->ifindex)
		s->rx_drops++;
	else
		s->tx_drops++;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb, struct sk_buff *skb, void *location)
{
	enum client_side side = SIDE_UNKNOWN;
	struct net_device *dev = skb->dev;
	struct pa_net_flow f = {};
	struct pa_net_event *e;
	__u32 reason = 0, netns = 0, held;
	struct sock *sk;

	if (drop_has_reason) {
		reason = (__u32)((__u64 *)ctx)[2];
		if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
		    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
			return 0;	/* not a drop; newer kernels trace these as consume_skb */
	}
	if (dev) {
		count_iface_drop(skb, dev);	/* interfaces ignore the port filter */
		netns = dev_netns(dev);
	} else {
		sk = skb->sk;
		if (sk)
			netns = sk_netns(&sk->__sk_common);
	}
	if (!netns_wanted(netns))
		return 0;
	if (filter_port || (stream_kinds & PA_NET_STREAM(PA_NET_EV_DROP)))
		side = flow_from_skb(skb, &f);
	if (!flow_wanted(&f))
		return 0;
	count_drop_reason(reason);
	if (!stream_wanted(PA_NET_EV_DROP, reason, netns, &f, side, &held))
		return 0;
	e = new_event(PA_NET_EV_DROP, netns, &f, held);
	if (!e)
		return 0;
	e->reason = reason;
	e->ifindex = dev ? dev->ifindex : 0;
	e->location = (__u64)location;
	emit(ctx, e);
	return 0;
}

/* ---- TCP ---- */

static __always_inline void hist_add(__u64 *hist, __u64 *max, __u64 v)
{
	__u32 idx = pa_hist_index(v) & 0x3ff;	/* a bound the verifier can see */

	if (idx < PA_HIST_BUCKETS)
		hist[idx]++;
	if (v > *max)
		*max = v;
}

static __always_inline void count_conn_lost(void)
{
	struct pa_net_counters *cnt = counters();

	if (cnt)
		cnt->conn_overflow++;
}

static __always_inline void conn_open(const struct sock *sk, bool active)
{
	struct conn_slot *c;
	struct conn_set *set;
	bool pushed;
	__u64 key;

	set = conn_set_of(sk, &key);
	if (!set)
		return;
	c = conn_claim(set, key, &pushed);
	if (pushed)
		count_conn_lost();
	c->sk = key;
	c->born_ns = bpf_ktime_get_ns();
	c->connect_ns = 0;
	c->active = active;
	c->pid = 0;
	/* connect() runs in the process: the one to name in its events. */
	if (active && (stream_kinds & PA_NET_STREAM(PA_NET_EV_CONN_CLOSED))) {
		c->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(c->comm, sizeof(c->comm));
	}
	if (c->sk != key)
		count_conn_lost();	/* another CPU took the slot meanwhile */
}

/* Counting needs only the transition; the map is read for the connect
 * latency alone. A simultaneous open (SYN_SENT -> SYN_RECV -> ESTABLISHED,
 * both ends connecting at once) counts as accepted.
 */
static __always_inline void conn_established(const struct sock *sk, int oldstate,
					     struct pa_net_tcp_stats *st)
{
	struct conn_slot *c;

	if (oldstate == TCP_SYN_RECV_) {
		st->accepted++;
		return;
	}
	if (oldstate != TCP_SYN_SENT_)
		return;
	st->connected++;
	c = conn_tracked(sk);
	if (!c)
		return;		/* connect() began before we attached */
	c->connect_ns = bpf_ktime_get_ns() - c->born_ns;
	hist_add(st->connlat_hist, &st->connlat_max_ns, c->connect_ns);
}

static __always_inline void stream_conn_closed(void *ctx, const struct sock *sk,
					       const struct conn_slot *c, __u64 life,
					       __u64 acked, __u64 received)
{
	struct pa_net_flow f = {};
	struct pa_net_event *e;
	__u32 netns, held;

	netns = sk_netns(&sk->__sk_common);
	flow_from_sock(&sk->__sk_common, &f);
	if (!stream_wanted(PA_NET_EV_CONN_CLOSED, 0, netns, &f,
			   c->active ? SIDE_LOCAL : SIDE_REMOTE, &held))
		return;
	e = new_event(PA_NET_EV_CONN_CLOSED, netns, &f, held);
	if (!e)
		return;
	e->state = TCP_CLOSE_;
	e->pid = c->pid;
	__builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
	e->lifetime_ns = life;
	e->connect_ns = c->connect_ns;
	e->bytes_acked = acked;
	e->bytes_received = received;
	emit(ctx, e);
}

/* The states a connection that was established can close from. */
static __always_inline bool was_established(int state)
{
	return state == TCP_ESTABLISHED_ || (state >= TCP_FIN_WAIT1_ && state <= TCP_TIME_WAIT_) ||
	       (state >= TCP_CLOSE_WAIT_ && state <= TCP_LAST_ACK_) || state == TCP_CLOSING_;
}

static __always_inline void conn_closed(void *ctx, const struct sock *sk, int oldstate,
					struct pa_net_tcp_stats *st)
{
	struct conn_slot *c;
	struct tcp_sock *tp;
	__u64 acked, received, life;

	if (oldstate == TCP_SYN_SENT_ || oldstate == TCP_SYN_RECV_) {
		if (oldstate == TCP_SYN_SENT_)
			st->connect_failed++;
		c = conn_tracked(sk);
		if (c)
			conn_forget(c);
		return;
	}
	if (!was_established(oldstate))
		return;		/* a listener, or a socket that never connected */
	tp = bpf_skc_to_tcp_sock((void *)sk);
	if (!tp)
		return;
	acked = tp->bytes_acked;
	received = tp->bytes_received;
	st->closed++;
	st->bytes_acked += acked;
	st->bytes_received += received;
	c = conn_tracked(sk);
	if (!c)
		return;		/* opened before we attached: no lifetime */
	life = bpf_ktime_get_ns() - c->born_ns;
	hist_add(st->lifetime_hist, &st->lifetime_max_ns, life);
	if (stream_kinds & PA_NET_STREAM(PA_NET_EV_CONN_CLOSED))
		stream_conn_closed(ctx, sk, c, life, acked, received);
	conn_forget(c);
}

/* Whether a socket passes the namespace and port filters. Without filters
 * (the constants are 0) the verifier drops all of it.
 */
static __always_inline bool sock_wanted(const struct sock *sk)
{
	struct pa_net_flow f = {};

	if (filter_netns && !netns_wanted(sk_netns(&sk->__sk_common)))
		return false;
	if (!filter_port)
		return true;
	flow_from_sock(&sk->__sk_common, &f);
	return flow_wanted(&f);
}

/* Counts come from the transitions themselves. The connection's own
 * record (its open time, for connect latency and lifetime) lives in
 * "net_conns" from SYN_SENT (connect) or SYN_RECV (a child of a listener)
 * to CLOSE. At SYN_SENT the local port may not be chosen yet: a port filter
 * matches connects by their remote port.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	struct pa_net_tcp_stats *st;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (newstate != TCP_SYN_SENT_ && newstate != TCP_SYN_RECV_ &&
	    newstate != TCP_ESTABLISHED_ && newstate != TCP_CLOSE_)
		return 0;
	if (!sock_wanted(sk))
		return 0;
	st = tcp_stats();
	if (!st)
		return 0;
	switch (newstate) {
	case TCP_SYN_SENT_:
		st->connects++;
		conn_open(sk, true);
		break;
	case TCP_SYN_RECV_:
		if (oldstate != TCP_SYN_SENT_)	/* else a simultaneous open: tracked already */
			conn_open(sk, false);
		break;
	case TCP_ESTABLISHED_:
		conn_established(sk, oldstate, st);
		break;
	default:
		conn_closed(ctx, sk, oldstate, st);
	}
	return 0;
}

/* Which end of a socket's connection is the client, when we saw it open. */
static __always_inline enum client_side sock_side(const struct sock *sk)
{
	struct conn_slot *c = conn_tracked(sk);

	if (!c)
		return SIDE_UNKNOWN;
	return c->active ? SIDE_LOCAL : SIDE_REMOTE;
}

static __always_inline void stream_tcp_event(void *ctx, __u32 kind, __u32 netns,
					     const struct pa_net_flow *f, __u32 state,
					     enum client_side side)
{
	struct pa_net_event *e;
	__u32 held;

	if (!stream_wanted(kind, 0, netns, f, side, &held))
		return;
	e = new_event(kind, netns, f, held);
	if (!e)
		return;
	e->state = state;
	emit(ctx, e);
}

/* sk is the full socket when there is one (not for a SYN-ACK of a request). */
static __always_inline void retransmit(void *ctx, const struct sock_common *skc,
				       const struct sock *sk, enum client_side side)
{
	struct pa_net_tcp_stats *st;
	struct pa_net_flow f = {};
	__u32 netns = sk_netns(skc);

	if (!netns_wanted(netns))
		return;
	flow_from_sock(skc, &f);
	if (!flow_wanted(&f))
		return;
	st = tcp_stats();
	if (st)
		st->retransmits++;
	if (side == SIDE_UNKNOWN && sk && (stream_kinds & PA_NET_STREAM(PA_NET_EV_RETRANSMIT)))
		side = sock_side(sk);
	stream_tcp_event(ctx, PA_NET_EV_RETRANSMIT, netns, &f, skc->skc_state, side);
}

/* Fires after each retransmission; on kernels where it has an error
 * argument it also fires for attempts that failed (nothing was sent).
 */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
{
	if (retrans_has_err && (int)((__u64 *)ctx)[2] != 0)
		return 0;
	if (sk)
		retransmit(ctx, &sk->__sk_common, sk, SIDE_UNKNOWN);
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(tcp_retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	if (req)
		retransmit(ctx, &req->__req_common, NULL, SIDE_REMOTE);	/* a SYN-ACK: they connected */
	return 0;
}

static __always_inline void reset(void *ctx, __u32 kind, const struct sock *sk,
				  const struct sk_buff *skb)
{
	enum client_side side = SIDE_REMOTE;
	struct pa_net_tcp_stats *st;
	struct pa_net_flow f = {};
	__u32 netns = 0, state = 0;
	struct net_device *dev;

	if (sk) {
		netns = sk_netns(&sk->__sk_common);
		flow_from_sock(&sk->__sk_common, &f);
		state = sk->__sk_common.skc_state;
		side = SIDE_UNKNOWN;
	} else if (skb) {
		/* No socket: the RST answers this packet, whose sender we take
		 * for the client.
		 */
		dev = skb->dev;
		if (dev)
			netns = dev_netns(dev);
		if (flow_from_skb(skb, &f) == SIDE_LOCAL)
			side = SIDE_LOCAL;
	} else {
		return;
	}
	if (!netns_wanted(netns) || !flow_wanted(&f))
		return;
	st = tcp_stats();
	if (st) {
		if (kind == PA_NET_EV_RESET_SENT)
			st->resets_sent++;
		else
			st->resets_received++;
	}
	if (side == SIDE_UNKNOWN && (stream_kinds & PA_NET_STREAM(kind)))
		side = sock_side(sk);
	stream_tcp_event(ctx, kind, netns, &f, state, side);
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(tcp_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	reset(ctx, PA_NET_EV_RESET_SENT, sk, skb);
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(tcp_receive_reset, struct sock *sk)
{
	reset(ctx, PA_NET_EV_RESET_RECEIVED, sk, NULL);
	return 0;
}
