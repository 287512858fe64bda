/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel's own traffic counters for every interface of every network
 * namespace the agent can reach, read as `ip -s link` reads them.
 */
#ifndef PERFAGENT_NETNS_LINKS_H
#define PERFAGENT_NETNS_LINKS_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

struct netns_link {
	uint32_t netns;			/* inode, as in /proc/PID/ns/net */
	uint32_t ifindex;
	char name[IF_NAMESIZE];
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
};

struct netns_links {
	struct netns_link *v;
	size_t n, cap;
	unsigned int unreadable;	/* namespaces found but not readable */
};

/* Replace l's contents with the counters of every interface in the
 * namespaces held by a process (/proc/PID/ns/net), named by 'ip netns'
 * (/run/netns) or ours; only namespace only_netns when not 0. A namespace
 * that goes away meanwhile is left out. Returns 0 or -errno with a reason.
 */
int netns_links_read(uint32_t only_netns, struct netns_links *l, char *err, size_t len);

void netns_links_free(struct netns_links *l);

#endif
