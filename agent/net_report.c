// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <cJSON.h>

#include "btf_enums.h"
#include "hist.h"
#include "net_report.h"
#include "timeutil.h"
#include "units.h"

#define DROP_PREFIX	"SKB_DROP_REASON_"
#define SUBSYS_PREFIX	"SKB_DROP_REASON_SUBSYS_"
#define SUBSYS_SHIFT	16

/* ---- names ---- */

/* The running kernel's enums, read once: the values differ between kernels
 * (NO_SOCKET is 2 on 6.1 and 3 on 6.18).
 */
static const struct btf_enum_table *drop_reasons(void)
{
	static struct btf_enum_table t;
	static bool tried;

	if (!tried) {
		tried = true;
		btf_enum_load(&t, NULL, "skb_drop_reason");
	}
	return &t;
}

static const struct btf_enum_table *drop_subsystems(void)
{
	static struct btf_enum_table t;
	static bool tried;

	if (!tried) {
		tried = true;
		btf_enum_load(&t, NULL, "skb_drop_reason_subsys");
	}
	return &t;
}

static const char *strip(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(name, prefix, n) || !name[n] ? name : name + n;
}

const char *net_drop_reason_name(uint32_t reason, char *buf, size_t len)
{
	const char *name = btf_enum_name(drop_reasons(), reason);
	uint32_t subsys = reason >> SUBSYS_SHIFT;

	if (name && (!subsys || strncmp(name, SUBSYS_PREFIX, strlen(SUBSYS_PREFIX)))) {
		snprintf(buf, len, "%s", strip(name, DROP_PREFIX));
		return buf;
	}
	name = subsys ? btf_enum_name(drop_subsystems(), subsys) : NULL;
	if (name)
		snprintf(buf, len, "%s:%u", strip(name, SUBSYS_PREFIX),
			 reason & ((1U << SUBSYS_SHIFT) - 1));
	else
		snprintf(buf, len, "reason %u", reason);
	return buf;
}

const char *net_tcp_state_name(uint32_t state)
{
	/* The kernel's TCP_* states: a stable ABI shown by ss and every trace tool. */
	static const char *const names[] = {
		"-", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
		"TIME_WAIT", "CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
		"NEW_SYN_RECV",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *net_event_kind_name(uint32_t kind)
{
	switch (kind) {
	case PA_NET_EV_RETRANSMIT: return "retransmit";
	case PA_NET_EV_RESET_SENT: return "reset_sent";
	case PA_NET_EV_RESET_RECEIVED: return "reset_received";
	case PA_NET_EV_DROP: return "drop";
	case PA_NET_EV_CONN_CLOSED: return "conn_closed";
	default: return "unknown";
	}
}

static const char *protocol_name(uint8_t proto)
{
	switch (proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	default: return NULL;
	}
}

/* An IPv4-mapped IPv6 address (a dual-stack socket talking IPv4) prints as IPv4. */
static bool v4_mapped(const uint8_t *a)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}

static char *format_addr(const struct pa_net_flow *f, const uint8_t *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (f->family == AF_INET)
		inet_ntop(AF_INET, a, ip, sizeof(ip));
	else if (f->family == AF_INET6 && v4_mapped(a))
		inet_ntop(AF_INET, a + 12, ip, sizeof(ip));
	else if (f->family == AF_INET6)
		inet_ntop(AF_INET6, a, ip, sizeof(ip));
	else
		snprintf(ip, sizeof(ip), "-");
	snprintf(buf, len, "%s", ip);
	return buf;
}

char *net_format_endpoint(const struct pa_net_flow *f, bool local, char *buf, size_t len)
{
	const uint8_t *a = local ? f->laddr : f->raddr;
	uint16_t port = local ? f->lport : f->rport;
	char ip[INET6_ADDRSTRLEN];
	bool v6 = f->family == AF_INET6 && !v4_mapped(a);

	format_addr(f, a, ip, sizeof(ip));
	if (!f->family)
		snprintf(buf, len, "-");
	else if (!port)
		snprintf(buf, len, "%s", ip);
	else
		snprintf(buf, len, v6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

/* "812B", "12.4K", "3.21M": powers of 1024, as parse_size_bytes reads them. */
static char *format_bytes(uint64_t n, char *buf, size_t len)
{
	static const char units[] = "BKMGTP";
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%lluB", (unsigned long long)n);
	else
		snprintf(buf, len, v < 10 ? "%.2f%c" : v < 100 ? "%.1f%c" : "%.0f%c", v, units[u]);
	return buf;
}

/* ---- text ---- */

struct tcp_percentiles {
	uint64_t conn_p50, conn_p99, life_p50, life_p99;
};

static struct tcp_percentiles tcp_percentiles_of(const struct net_tcp_totals *t)
{
	return (struct tcp_percentiles){
		.conn_p50 = hist_percentile(t->connlat_hist, 0.50, t->connlat_max_ns),
		.conn_p99 = hist_percentile(t->connlat_hist, 0.99, t->connlat_max_ns),
		.life_p50 = hist_percentile(t->lifetime_hist, 0.50, t->lifetime_max_ns),
		.life_p99 = hist_percentile(t->lifetime_hist, 0.99, t->lifetime_max_ns),
	};
}

static int by_traffic(const void *a, const void *b)
{
	const struct net_iface_totals *x = a, *y = b;
	uint64_t tx = x->rx_bytes + x->tx_bytes, ty = y->rx_bytes + y->tx_bytes;

	if (tx != ty)
		return tx < ty ? 1 : -1;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

static int by_count(const void *a, const void *b)
{
	const struct net_drop_count *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->reason < y->reason ? -1 : x->reason > y->reason;
}

/* Sorted copies, so the totals the caller keeps stay as they are. */
static struct net_iface_totals *sorted_ifaces(const struct net_totals *t)
{
	struct net_iface_totals *v = malloc((t->n_ifaces + 1) * sizeof(*v));

	if (v && t->n_ifaces) {
		memcpy(v, t->ifaces, t->n_ifaces * sizeof(*v));
		qsort(v, t->n_ifaces, sizeof(*v), by_traffic);
	}
	return v;
}

static struct net_drop_count *sorted_drops(const struct net_totals *t)
{
	struct net_drop_count *v = malloc((t->n_drops + 1) * sizeof(*v));

	if (v && t->n_drops) {
		memcpy(v, t->drops, t->n_drops * sizeof(*v));
		qsort(v, t->n_drops, sizeof(*v), by_count);
	}
	return v;
}

static void iface_label(const struct net_iface_totals *i, uint32_t own, char *buf, size_t len)
{
	if (i->netns == own)
		snprintf(buf, len, "%s", i->name);
	else
		snprintf(buf, len, "%s@%u", i->name, i->netns);
}

static void print_ifaces(FILE *f, const struct net_report *r)
{
	const struct net_totals *t = r->totals;
	struct net_iface_totals *v = sorted_ifaces(t);
	uint32_t own = net_own_netns();
	char label[48], b1[16], b2[16];
	size_t i;

	if (!v)
		return;
	fprintf(f, "%-26s %10s %10s %10s %10s %9s %9s\n", "INTERFACE", "RX_PKTS", "RX_BYTES",
		"TX_PKTS", "TX_BYTES", "DROP_IN", "DROP_OUT");
	for (i = 0; i < t->n_ifaces && (!r->top || i < r->top); i++) {
		iface_label(&v[i], own, label, sizeof(label));
		fprintf(f, "%-26s %10llu %10s %10llu %10s %9llu %9llu\n", label,
			(unsigned long long)v[i].rx_packets, format_bytes(v[i].rx_bytes, b1, sizeof(b1)),
			(unsigned long long)v[i].tx_packets, format_bytes(v[i].tx_bytes, b2, sizeof(b2)),
			(unsigned long long)v[i].rx_drops, (unsigned long long)v[i].tx_drops);
	}
	if (r->top && t->n_ifaces > r->top)
		fprintf(f, "(%zu more interfaces; -n 0 shows all)\n", t->n_ifaces - r->top);
	free(v);
}

/* A duration, or "-" when there was nothing to measure. */
static const char *duration_or_dash(uint64_t ns, uint64_t samples, char *buf, size_t len)
{
	return samples ? format_duration(ns, buf, len) : "-";
}

static void print_tcp(FILE *f, const struct net_tcp_totals *t)
{
	struct tcp_percentiles p = tcp_percentiles_of(t);
	uint64_t nc = hist_total(t->connlat_hist), nl = hist_total(t->lifetime_hist);
	char a[32], b[32], c[32], d[32], e[32], g[16], h[16];

	fprintf(f, "TCP connects %llu (%llu established, %llu failed)  latency p50 %s p99 %s "
		"max %s  accepted %llu\n",
		(unsigned long long)t->connects, (unsigned long long)t->connected,
		(unsigned long long)t->connect_failed,
		duration_or_dash(p.conn_p50, nc, a, sizeof(a)),
		duration_or_dash(p.conn_p99, nc, b, sizeof(b)),
		duration_or_dash(t->connlat_max_ns, nc, c, sizeof(c)), (unsigned long long)t->accepted);
	fprintf(f, "TCP closed %llu  lifetime p50 %s p99 %s  bytes acked %s received %s\n",
		(unsigned long long)t->closed, duration_or_dash(p.life_p50, nl, d, sizeof(d)),
		duration_or_dash(p.life_p99, nl, e, sizeof(e)),
		format_bytes(t->bytes_acked, g, sizeof(g)), format_bytes(t->bytes_received, h, sizeof(h)));
	fprintf(f, "TCP retransmits %llu  resets sent %llu received %llu\n",
		(unsigned long long)t->retransmits, (unsigned long long)t->resets_sent,
		(unsigned long long)t->resets_received);
}

static void print_drops(FILE *f, const struct net_report *r)
{
	const struct net_totals *t = r->totals;
	struct net_drop_count *v;
	char name[64];
	size_t i;

	if (!t->n_drops)
		return;
	v = sorted_drops(t);
	if (!v)
		return;
	fprintf(f, "%-34s %10s\n", "DROP REASON", "COUNT");
	for (i = 0; i < t->n_drops && (!r->top || i < r->top); i++)
		fprintf(f, "%-34s %10llu\n", net_drop_reason_name(v[i].reason, name, sizeof(name)),
			(unsigned long long)v[i].count);
	if (r->top && t->n_drops > r->top)
		fprintf(f, "(%zu more drop reasons; -n 0 shows all)\n", t->n_drops - r->top);
	free(v);
}

static void print_losses(FILE *f, const struct net_losses *l)
{
	if (l->events_lost)
		fprintf(f, "WARNING: %llu events were lost (buffer full); lower --rate to stream "
			"fewer\n", (unsigned long long)l->events_lost);
	if (l->iface_overflow)
		fprintf(f, "WARNING: %llu packets on interfaces beyond the first %d were not "
			"counted\n", (unsigned long long)l->iface_overflow, PA_NET_MAX_IFACES);
	if (l->conn_overflow)
		fprintf(f, "WARNING: %llu connections have no latency or lifetime (too many "
			"open at once)\n",
			(unsigned long long)l->conn_overflow);
}

void net_report_table(FILE *f, const struct net_report *r)
{
	const struct net_losses *l = &r->totals->losses;
	char when[32], span[32];

	fprintf(f, "\n%s  %s %s: %llu events streamed, %llu suppressed by the rate limit, "
		"%llu lost\n",
		format_clock(r->when_ns, when, sizeof(when)),
		r->final ? "SUMMARY over" : "interval", format_duration(r->span_ns, span, sizeof(span)),
		(unsigned long long)l->events_sent, (unsigned long long)l->events_suppressed,
		(unsigned long long)l->events_lost);
	print_losses(f, l);
	print_ifaces(f, r);
	print_tcp(f, &r->totals->tcp);
	print_drops(f, r);
}

/* ---- JSON ---- */

static void print_json(FILE *f, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s) {
		fputs(s, f);
		fputc('\n', f);
		free(s);
	}
	cJSON_Delete(o);
}

static void add_u64(cJSON *o, const char *name, uint64_t v)
{
	cJSON_AddNumberToObject(o, name, (double)v);
}

static cJSON *iface_json(const struct net_iface_totals *i)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", i->name);
	add_u64(o, "netns", i->netns);
	add_u64(o, "ifindex", i->ifindex);
	add_u64(o, "rx_packets", i->rx_packets);
	add_u64(o, "rx_bytes", i->rx_bytes);
	add_u64(o, "tx_packets", i->tx_packets);
	add_u64(o, "tx_bytes", i->tx_bytes);
	add_u64(o, "rx_drops", i->rx_drops);
	add_u64(o, "tx_drops", i->tx_drops);
	return o;
}

static cJSON *tcp_json(const struct net_tcp_totals *t)
{
	struct tcp_percentiles p = tcp_percentiles_of(t);
	cJSON *o = cJSON_CreateObject();

	add_u64(o, "connects", t->connects);
	add_u64(o, "connected", t->connected);
	add_u64(o, "connect_failed", t->connect_failed);
	add_u64(o, "connect_samples", hist_total(t->connlat_hist));
	add_u64(o, "connect_p50_ns", p.conn_p50);
	add_u64(o, "connect_p99_ns", p.conn_p99);
	add_u64(o, "connect_max_ns", t->connlat_max_ns);
	add_u64(o, "accepted", t->accepted);
	add_u64(o, "closed", t->closed);
	add_u64(o, "lifetime_p50_ns", p.life_p50);
	add_u64(o, "lifetime_p99_ns", p.life_p99);
	add_u64(o, "lifetime_max_ns", t->lifetime_max_ns);
	add_u64(o, "bytes_acked", t->bytes_acked);
	add_u64(o, "bytes_received", t->bytes_received);
	add_u64(o, "retransmits", t->retransmits);
	add_u64(o, "resets_sent", t->resets_sent);
	add_u64(o, "resets_received", t->resets_received);
	return o;
}

void net_report_json(FILE *f, const struct net_report *r)
{
	const struct net_totals *t = r->totals;
	struct net_iface_totals *ifs = sorted_ifaces(t);
	struct net_drop_count *drops = sorted_drops(t);
	cJSON *o = cJSON_CreateObject(), *arr, *d;
	char when[40], name[64];
	size_t i;

	if (!o || !ifs || !drops)
		goto out;
	cJSON_AddStringToObject(o, "type", "net");
	cJSON_AddStringToObject(o, "time", format_iso8601(r->when_ns, when, sizeof(when)));
	add_u64(o, "interval_ns", r->span_ns);
	cJSON_AddBoolToObject(o, "final", r->final);
	add_u64(o, "events_sent", t->losses.events_sent);
	add_u64(o, "events_lost", t->losses.events_lost);
	add_u64(o, "events_suppressed", t->losses.events_suppressed);
	add_u64(o, "iface_overflow", t->losses.iface_overflow);
	add_u64(o, "conn_overflow", t->losses.conn_overflow);
	arr = cJSON_AddArrayToObject(o, "interfaces");
	for (i = 0; i < t->n_ifaces && (!r->top || i < r->top); i++)
		cJSON_AddItemToArray(arr, iface_json(&ifs[i]));
	cJSON_AddItemToObject(o, "tcp", tcp_json(&t->tcp));
	arr = cJSON_AddArrayToObject(o, "drops");
	for (i = 0; i < t->n_drops && (!r->top || i < r->top); i++) {
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "reason",
					net_drop_reason_name(drops[i].reason, name, sizeof(name)));
		add_u64(d, "code", drops[i].reason);
		add_u64(d, "count", drops[i].count);
		cJSON_AddItemToArray(arr, d);
	}
	print_json(f, o);
	o = NULL;
out:
	cJSON_Delete(o);
	free(ifs);
	free(drops);
}

/* ---- events ---- */

static const char *event_label(uint32_t kind)
{
	switch (kind) {
	case PA_NET_EV_RETRANSMIT: return "RETRANS";
	case PA_NET_EV_RESET_SENT: return "RST-OUT";
	case PA_NET_EV_RESET_RECEIVED: return "RST-IN";
	case PA_NET_EV_DROP: return "DROP";
	case PA_NET_EV_CONN_CLOSED: return "CLOSED";
	default: return "?";
	}
}

static void event_comm(const struct pa_net_event *e, char *comm)
{
	memcpy(comm, e->comm, PA_NET_COMM_LEN);
	comm[PA_NET_COMM_LEN] = '\0';
}

static void event_detail(FILE *f, const struct pa_net_event *e)
{
	char a[32], b[32], c[16], d[16], comm[PA_NET_COMM_LEN + 1];

	switch (e->kind) {
	case PA_NET_EV_DROP:
		fprintf(f, "  %s", net_drop_reason_name(e->reason, a, sizeof(a)));
		if (e->ifindex)
			fprintf(f, " ifindex %u", e->ifindex);
		break;
	case PA_NET_EV_CONN_CLOSED:
		event_comm(e, comm);
		fprintf(f, "  lifetime %s", format_duration(e->lifetime_ns, a, sizeof(a)));
		if (e->connect_ns)
			fprintf(f, " connect %s", format_duration(e->connect_ns, b, sizeof(b)));
		fprintf(f, " acked %s received %s", format_bytes(e->bytes_acked, c, sizeof(c)),
			format_bytes(e->bytes_received, d, sizeof(d)));
		if (e->pid)
			fprintf(f, " pid %u %s", e->pid, comm);
		break;
	default:
		fprintf(f, "  %s", e->state ? net_tcp_state_name(e->state) : "no socket");
		break;
	}
}

void net_report_event_text(FILE *f, const struct pa_net_event *e)
{
	char when[32], l[64], r[64];
	const char *proto = protocol_name(e->flow.protocol);

	fprintf(f, "%-7s %s %-4s %-28s %-28s",
		event_label(e->kind), format_clock(mono_to_realtime_ns(e->ts_ns), when, sizeof(when)),
		proto ? proto : "-", net_format_endpoint(&e->flow, true, l, sizeof(l)),
		net_format_endpoint(&e->flow, false, r, sizeof(r)));
	event_detail(f, e);
	if (e->suppressed)
		fprintf(f, "  (+%u like it suppressed)", e->suppressed);
	fputc('\n', f);
}

static void flow_json(cJSON *o, const struct pa_net_flow *fl)
{
	const char *proto = protocol_name(fl->protocol);
	char a[INET6_ADDRSTRLEN];

	if (!fl->family)
		return;
	cJSON_AddStringToObject(o, "family", fl->family == AF_INET ? "ipv4" : "ipv6");
	if (proto)
		cJSON_AddStringToObject(o, "protocol", proto);
	else
		add_u64(o, "protocol", fl->protocol);
	cJSON_AddStringToObject(o, "laddr", format_addr(fl, fl->laddr, a, sizeof(a)));
	add_u64(o, "lport", fl->lport);
	cJSON_AddStringToObject(o, "raddr", format_addr(fl, fl->raddr, a, sizeof(a)));
	add_u64(o, "rport", fl->rport);
}

void net_report_event_json(FILE *f, const struct pa_net_event *e)
{
	char when[40], name[64], comm[PA_NET_COMM_LEN + 1], loc[32];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return;
	cJSON_AddStringToObject(o, "type", "net_event");
	cJSON_AddStringToObject(o, "event", net_event_kind_name(e->kind));
	cJSON_AddStringToObject(o, "time",
				format_iso8601(mono_to_realtime_ns(e->ts_ns), when, sizeof(when)));
	add_u64(o, "netns", e->netns);
	flow_json(o, &e->flow);
	if (e->kind == PA_NET_EV_DROP) {
		cJSON_AddStringToObject(o, "reason", net_drop_reason_name(e->reason, name, sizeof(name)));
		add_u64(o, "reason_code", e->reason);
		add_u64(o, "ifindex", e->ifindex);
		snprintf(loc, sizeof(loc), "0x%llx", (unsigned long long)e->location);
		cJSON_AddStringToObject(o, "location", loc);
	} else {
		cJSON_AddStringToObject(o, "state", net_tcp_state_name(e->state));
	}
	if (e->kind == PA_NET_EV_CONN_CLOSED) {
		event_comm(e, comm);
		add_u64(o, "pid", e->pid);
		cJSON_AddStringToObject(o, "comm", comm);
		add_u64(o, "lifetime_ns", e->lifetime_ns);
		add_u64(o, "connect_ns", e->connect_ns);
		add_u64(o, "bytes_acked", e->bytes_acked);
		add_u64(o, "bytes_received", e->bytes_received);
	}
	add_u64(o, "suppressed", e->suppressed);
	add_u64(o, "cpu", e->cpu);
	print_json(f, o);
}
