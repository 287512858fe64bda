/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What bpf/net.bpf.c keeps in its maps and streams through its ring buffer,
 * as read by agent/net.c. One definition for both sides.
 */
#ifndef PERFAGENT_NET_H
#define PERFAGENT_NET_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "perfagent/hist.h"

#define PA_NET_IFNAME_LEN	16	/* IFNAMSIZ */
#define PA_NET_COMM_LEN		16
#define PA_NET_MAX_IFACES	4096
#define PA_NET_MAX_REASONS	1024
#define PA_NET_CONN_SETS	16384	/* of 4 connections each: 64 Ki, 3 MiB */

/* Per interface, keyed by network namespace and ifindex: ifindex alone is
 * ambiguous (every namespace has its own lo with ifindex 1).
 */
struct pa_net_if_key {
	__u32 netns;		/* inode of the namespace, as in /proc/PID/ns/net */
	__u32 ifindex;
};

/* Per-CPU hash "net_ifaces": packets dropped per interface. Traffic per
 * interface is not counted here: the kernel keeps those counters itself
 * and the agent reads them (agent/netns_links.c), where two program runs
 * per packet would recount them.
 */
struct pa_net_if_stats {
	__u64 rx_drops;		/* dropped after arriving on this device */
	__u64 tx_drops;		/* dropped on the way out of it (qdisc, driver) */
	char name[PA_NET_IFNAME_LEN];	/* at first sight; only on the CPU that saw it first */
};

/* TCP totals ("net_tcp", per-CPU array of one), under the namespace and
 * port filters.
 */
struct pa_net_tcp_stats {
	__u64 connects;		/* SYN_SENT: connect() started */
	__u64 connected;	/* SYN_SENT -> ESTABLISHED */
	__u64 connect_failed;	/* SYN_SENT -> CLOSE (refused, timed out, aborted) */
	__u64 accepted;		/* SYN_RECV -> ESTABLISHED */
	__u64 closed;		/* established connections that reached CLOSE */
	__u64 bytes_acked;	/* of the closed ones (tcp_sock.bytes_acked) */
	__u64 bytes_received;	/* of the closed ones (tcp_sock.bytes_received) */
	__u64 retransmits;	/* segments, and SYN-ACKs, sent again */
	__u64 resets_sent;
	__u64 resets_received;
	__u64 connlat_max_ns;
	__u64 lifetime_max_ns;
	/* Of connections seen opening (not those opened before the probe). */
	__u64 connlat_hist[PA_HIST_BUCKETS];	/* SYN_SENT -> ESTABLISHED */
	__u64 lifetime_hist[PA_HIST_BUCKETS];	/* SYN_SENT or SYN_RECV -> CLOSE */
};

/* An IPv4 or IPv6 flow as seen from this host: l* is the local end, r* the
 * remote one. IPv4 addresses sit in the first 4 bytes. Ports in host order.
 */
struct pa_net_flow {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u8 family;		/* AF_INET, AF_INET6, 0 = not IP */
	__u8 protocol;		/* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u16 pad;
};

enum pa_net_event_kind {
	PA_NET_EV_RETRANSMIT = 1,
	PA_NET_EV_RESET_SENT,
	PA_NET_EV_RESET_RECEIVED,
	PA_NET_EV_DROP,
	PA_NET_EV_CONN_CLOSED,
	PA_NET_EV_KINDS,
};

/* Bits of the load-time option "stream_kinds". */
#define PA_NET_STREAM(kind)	(1U << (kind))

/* One event, as streamed through "net_events". */
struct pa_net_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	struct pa_net_flow flow;
	__u32 kind;		/* enum pa_net_event_kind */
	__u32 reason;		/* DROP: the kernel's enum skb_drop_reason value */
	__u32 state;		/* TCP state at the event (TCP_ESTABLISHED = 1, ...) */
	__u32 netns;
	__u32 ifindex;		/* DROP: device of the packet, 0 = none */
	__u32 pid;		/* CONN_CLOSED: process that connected, 0 = unknown */
	__u32 suppressed;	/* events of this key the rate limit held back
				 * since the previous one that passed */
	__u32 cpu;
	__u64 location;		/* DROP: kernel address that freed the packet */
	__u64 lifetime_ns;	/* CONN_CLOSED */
	__u64 connect_ns;	/* CONN_CLOSED, active side: SYN_SENT -> ESTABLISHED */
	__u64 bytes_acked;	/* CONN_CLOSED */
	__u64 bytes_received;	/* CONN_CLOSED */
	char comm[PA_NET_COMM_LEN];	/* CONN_CLOSED: of pid */
};

/* Per-CPU counters of what the probe could not record ("net_counters"). */
struct pa_net_counters {
	__u64 events_sent;
	__u64 events_lost;	/* ring/perf buffer full */
	__u64 events_suppressed;	/* held back by the per-key rate limit */
	__u64 iface_overflow;	/* interfaces not counted: net_ifaces full */
	__u64 conn_overflow;	/* connections whose start was pushed out of net_conns */
};

#endif /* PERFAGENT_NET_H */
