/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The network probe (bpf/net.bpf.c): load with filters, stream retransmits,
 * resets, drops and closed connections, read per-interval aggregates.
 */
#ifndef PERFAGENT_NET_PROBE_H
#define PERFAGENT_NET_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfagent/net.h"

#define NET_DEFAULT_RATE	10	/* events per second per key */
#define NET_DEFAULT_STREAM	(PA_NET_STREAM(PA_NET_EV_RETRANSMIT) | \
				 PA_NET_STREAM(PA_NET_EV_RESET_SENT) | \
				 PA_NET_STREAM(PA_NET_EV_RESET_RECEIVED) | \
				 PA_NET_STREAM(PA_NET_EV_DROP))

struct net_probe_opts {
	uint32_t netns;			/* namespace inode to watch, 0 = all */
	uint16_t port;			/* TCP and drops: local or remote port, 0 = all */
	uint32_t stream;		/* PA_NET_STREAM() bits of events to stream */
	uint32_t rate;			/* events per second per key, 0 = no limit */
	bool perfbuf;			/* force the perf buffer fallback */
	uint32_t conn_sets;		/* connection table: sets of 4, a power of two;
					 * 0 = PA_NET_CONN_SETS */
	bool no_iface_traffic;		/* leave out the kernel's interface counters
					 * (the daemon reads them with its netdev
					 * collector) */
};

/* One interface over a read interval: packets and bytes as the kernel
 * counts them (ip -s link), in every namespace a process or /run/netns
 * holds; drops as the probe saw them.
 */
struct net_iface_totals {
	uint32_t netns;
	uint32_t ifindex;
	char name[PA_NET_IFNAME_LEN];	/* current name, else as the probe first saw it */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_drops, tx_drops;
};

struct net_drop_count {
	uint32_t reason;		/* the kernel's enum skb_drop_reason value */
	uint64_t count;
};

/* What the probe could not record, summed over CPUs. */
struct net_losses {
	uint64_t events_sent;
	uint64_t events_lost;
	uint64_t events_suppressed;
	uint64_t iface_overflow;
	uint64_t conn_overflow;
};

/* TCP over a read interval: the fields of struct pa_net_tcp_stats. */
struct net_tcp_totals {
	uint64_t connects, connected, connect_failed, accepted, closed;
	uint64_t bytes_acked, bytes_received;
	uint64_t retransmits, resets_sent, resets_received;
	uint64_t connlat_max_ns, lifetime_max_ns;
	uint64_t connlat_hist[PA_HIST_BUCKETS];
	uint64_t lifetime_hist[PA_HIST_BUCKETS];
};

/* Everything over one read interval (or a sum of them). The TCP maxima are
 * exact when set in the interval, else bounded by the histogram.
 */
struct net_totals {
	struct net_iface_totals *ifaces;
	size_t n_ifaces, cap_ifaces;
	struct net_drop_count *drops;
	size_t n_drops, cap_drops;
	struct net_tcp_totals tcp;
	struct net_losses losses;
};

typedef void (*net_event_fn)(void *ctx, const struct pa_net_event *e);

struct net_probe;

/* Returns 0, or a negative errno with a one-line reason in err. */
int net_probe_open(struct net_probe **out, const struct net_probe_opts *opts,
		   net_event_fn on_event, void *ctx, char *err, size_t len);

/* Deliver streamed events: wait for a wakeup up to timeout_ms, but never
 * more than 100 ms, then read whatever is pending (see net_probe_poll_fd).
 * Returns events seen or -errno.
 */
int net_probe_poll(struct net_probe *p, int timeout_ms);

/* Replace t's contents with what happened since the last read (or open). */
int net_probe_read(struct net_probe *p, struct net_totals *t);

/* "tp_btf, ring buffer, 8 of 8 tracepoints" and the like. */
const char *net_probe_describe(const struct net_probe *p);

/* Comma-separated tracepoints this kernel lacks ("" when none). */
const char *net_probe_missing(const struct net_probe *p);

/* For the daemon: the epoll fd that is readable when events wait (then
 * call net_probe_poll(p, 0)), and the BPF object (programs and maps, for
 * pinning and run-time statistics). With a ring buffer the programs wake
 * readers only once 64 KiB of events are pending (a wakeup per event costs
 * more than the event): also consume on a timer, as net_probe_poll does
 * every 100 ms.
 */
struct bpf_object;
int net_probe_poll_fd(const struct net_probe *p);
struct bpf_object *net_probe_bpf_object(const struct net_probe *p);

void net_probe_close(struct net_probe *p);

/* Totals: sum and free. */
void net_totals_add(struct net_totals *sum, const struct net_totals *d);
void net_totals_clear(struct net_totals *t);
void net_totals_free(struct net_totals *t);

/* Arguments of tracepoint NAME on the running kernel (from its BTF), -1
 * when it has no such tracepoint. Tracepoints gain arguments over time
 * (skb:kfree_skb's drop reason in 5.17, tcp:tcp_send_reset's reset reason in
 * 6.10): what a kernel reports is decided by this, never by its version.
 */
int net_tracepoint_nargs(const char *name);

/* Namespace inode of /proc/self/ns/net (0 when it cannot be read). */
uint32_t net_own_netns(void);

#endif
