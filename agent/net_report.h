/* SPDX-License-Identifier: GPL-2.0 */
/* Presenting network probe results: text tables, JSON, event lines. */
#ifndef PERFAGENT_NET_REPORT_H
#define PERFAGENT_NET_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "net.h"

struct net_report {
	const struct net_totals *totals;
	uint64_t span_ns;		/* time covered */
	uint64_t when_ns;		/* CLOCK_REALTIME of the report */
	unsigned int top;		/* rows per table, 0 = all */
	bool final;			/* summary of the whole run */
};

void net_report_table(FILE *f, const struct net_report *r);
void net_report_json(FILE *f, const struct net_report *r);

void net_report_event_text(FILE *f, const struct pa_net_event *e);
void net_report_event_json(FILE *f, const struct pa_net_event *e);

/* "NO_SOCKET": the running kernel's name for an skb drop reason, from its
 * BTF (enum skb_drop_reason), without the SKB_DROP_REASON_ prefix. Reasons
 * of a subsystem (high 16 bits) read "SUBSYS:code"; unknown ones "reason N".
 */
const char *net_drop_reason_name(uint32_t reason, char *buf, size_t len);

/* "ESTABLISHED", "SYN_SENT", ...; "-" for 0. */
const char *net_tcp_state_name(uint32_t state);

/* "retransmit", "reset_sent", "reset_received", "drop", "conn_closed". */
const char *net_event_kind_name(uint32_t kind);

/* "127.0.0.1:5000", "[::1]:5000" for one end of a flow (local or remote). */
char *net_format_endpoint(const struct pa_net_flow *f, bool local, char *buf, size_t len);

#endif
