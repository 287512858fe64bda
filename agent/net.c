// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_env.h"
#include "btf_enums.h"
#include "doctor.h"
#include "grow.h"
#include "hist.h"
#include "kernel_config.h"
#include "net.h"
#include "net.skel.h"
#include "netns_links.h"
#include "probe_common.h"
#include "tracefs.h"

#define PERF_BUFFER_PAGES 64

/* Each program is named after the tracepoint it attaches to. */
static const struct net_tracepoint {
	const char *category;
	const char *name;
	const char *gives;	/* what is missing without it */
} tracepoints[] = {
	{ "skb", "kfree_skb", "packet drops, per interface and by reason" },
	{ "sock", "inet_sock_set_state", "TCP connects, connect latency, lifetimes and bytes" },
	{ "tcp", "tcp_retransmit_skb", "TCP retransmits" },
	{ "tcp", "tcp_retransmit_synack", "TCP SYN-ACK retransmits" },
	{ "tcp", "tcp_send_reset", "TCP resets sent" },
	{ "tcp", "tcp_receive_reset", "TCP resets received" },
};

#define NTRACEPOINTS (sizeof(tracepoints) / sizeof(tracepoints[0]))

/* One interface: traffic from the kernel's counters (netns_links), drops
 * from the probe's map. Monotonic, except that an interface that goes and
 * comes back under the same index starts its counters again.
 */
struct iface_sum {
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes;
	uint64_t rx_drops, tx_drops;
	char name[PA_NET_IFNAME_LEN];
	bool current_name;	/* from the kernel now, not the probe's first sight */
};

/* Per-key sums as last read, to take deltas from. */
struct iface_prev {
	struct pa_net_if_key key;
	struct iface_sum sum;
};

struct drop_prev {
	uint32_t reason;
	uint64_t sum;
};

struct net_probe {
	struct net_bpf *skel;
	struct probe_stream stream;
	net_event_fn on_event;
	void *ctx;
	int ncpus;
	bool iface_traffic;		/* read the kernel's interface counters */
	uint32_t netns;			/* the namespace filter, 0 = all */
	struct netns_links links;	/* scratch for each read */
	struct pa_net_tcp_stats *tcp_prev;	/* [ncpus] */
	struct pa_net_tcp_stats *tcp_cur;	/* [ncpus] scratch */
	struct probe_counters counters;
	struct iface_prev *ifaces;		/* sorted by key */
	size_t n_ifaces, cap_ifaces;
	struct drop_prev *drops;		/* sorted by reason */
	size_t n_drops, cap_drops;
	char describe[96];
	char missing[256];
};

static void deliver(void *ctx, const void *event)
{
	struct net_probe *p = ctx;

	p->on_event(p->ctx, event);
}

uint32_t net_own_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

/* Arguments of a tracepoint as the running kernel declares them in BTF
 * (btf_trace_NAME is a pointer to a prototype whose first parameter is the
 * tracepoint's private data). -1 when the kernel has no such tracepoint.
 */
static int tracepoint_nargs(const struct btf *btf, const char *name)
{
	const struct btf_type *t;
	char tname[128];
	int id;

	if (!btf)
		return -1;
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tname, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return -1;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);
	if (!t || !btf_is_ptr(t))
		return -1;
	t = btf__type_by_id(btf, t->type);
	if (!t || !btf_is_func_proto(t))
		return -1;
	return btf_vlen(t) - 1;
}

int net_tracepoint_nargs(const char *name)
{
	return tracepoint_nargs(btf_vmlinux(), name);
}

/* The local port range: events keyed by the rate limit leave these out. */
static void ephemeral_range(uint16_t *lo, uint16_t *hi)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned int a, b;

	*lo = 32768;
	*hi = 60999;
	if (!f)
		return;
	if (fscanf(f, "%u %u", &a, &b) == 2 && a <= b && b <= 65535) {
		*lo = (uint16_t)a;
		*hi = (uint16_t)b;
	}
	fclose(f);
}

/* Load only the programs whose tracepoint exists here; note the rest. */
static int choose_programs(struct net_probe *p)
{
	size_t i, n = 0, off = 0;

	p->missing[0] = '\0';
	for (i = 0; i < NTRACEPOINTS; i++) {
		const struct net_tracepoint *tp = &tracepoints[i];
		struct bpf_program *prog = bpf_object__find_program_by_name(p->skel->obj, tp->name);
		bool have = tracepoint_exists(tp->category, tp->name);

		if (!prog)
			return -ENOENT;
		bpf_program__set_autoload(prog, have);
		if (have) {
			n++;
		} else if (off < sizeof(p->missing)) {
			off += snprintf(p->missing + off, sizeof(p->missing) - off, "%s%s:%s",
					off ? ", " : "", tp->category, tp->name);
		}
	}
	return (int)n;
}

static int configure(struct net_probe *p, const struct net_probe_opts *o, bool ringbuf,
		     char *err, size_t len)
{
	const struct btf *btf = btf_vmlinux();
	struct net_bpf *s = p->skel;
	int n;

	if (!btf) {
		snprintf(err, len, "net probe: cannot read the kernel's BTF: %s", strerror(errno));
		return -ENODATA;
	}
	/* Arguments added over time: used only where this kernel has them. */
	s->rodata->drop_has_reason = tracepoint_nargs(btf, "kfree_skb") >= 3;
	s->rodata->retrans_has_err = tracepoint_nargs(btf, "tcp_retransmit_skb") >= 3;

	s->rodata->filter_netns = o->netns;
	s->rodata->filter_port = o->port;
	s->rodata->stream_kinds = o->stream;
	s->rodata->rate_limit = o->rate;
	s->rodata->jiffies_hz = kernel_hz();
	ephemeral_range((uint16_t *)&s->rodata->ephemeral_lo, (uint16_t *)&s->rodata->ephemeral_hi);
	s->rodata->use_ringbuf = ringbuf;
	if (o->conn_sets) {
		if (o->conn_sets & (o->conn_sets - 1)) {
			snprintf(err, len, "net probe: connection table of %u sets: not a power "
				 "of two", o->conn_sets);
			return -EINVAL;
		}
		s->rodata->conn_sets = o->conn_sets;
		bpf_map__set_max_entries(s->maps.net_conns, o->conn_sets);
	}
	if (!ringbuf)
		probe_events_as_perfbuf(s->maps.net_events);
	n = choose_programs(p);
	if (n <= 0) {
		snprintf(err, len, "net probe: this kernel has none of the network tracepoints "
			 "(%s); network tracing is not possible", p->missing);
		return -ENOENT;
	}
	snprintf(p->describe, sizeof(p->describe), "tp_btf, %s, %d of %zu tracepoints",
		 ringbuf ? "ring buffer" : "perf buffer", n, NTRACEPOINTS);
	return 0;
}

static int alloc_snapshots(struct net_probe *p)
{
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->tcp_prev = calloc(p->ncpus, sizeof(*p->tcp_prev));
	p->tcp_cur = calloc(p->ncpus, sizeof(*p->tcp_cur));
	if (!p->tcp_prev || !p->tcp_cur)
		return -ENOMEM;
	return probe_counters_init(&p->counters, p->ncpus, sizeof(struct pa_net_counters));
}

static int read_ifaces(struct net_probe *p, struct net_totals *t);

int net_probe_open(struct net_probe **out, const struct net_probe_opts *o,
		   net_event_fn on_event, void *ctx, char *err, size_t len)
{
	bool ringbuf = probe_use_ringbuf(o->perfbuf);
	struct net_totals baseline = { 0 };
	struct net_probe *p;
	const char *stage;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->on_event = on_event;
	p->ctx = ctx;
	p->iface_traffic = !o->no_iface_traffic;
	p->netns = o->netns;
	stage = "open";
	p->skel = net_bpf__open();
	ret = p->skel ? alloc_snapshots(p) : -errno;
	if (ret)
		goto fail;
	if ((ret = configure(p, o, ringbuf, err, len)))
		goto out;
	stage = "load";
	if ((ret = net_bpf__load(p->skel)))
		goto fail;
	stage = "stream";
	if ((ret = probe_stream_open(&p->stream, p->skel->maps.net_events, ringbuf,
				     PERF_BUFFER_PAGES, sizeof(struct pa_net_event), deliver, p)))
		goto fail;
	stage = "attach";
	if ((ret = net_bpf__attach(p->skel)))
		goto fail;
	stage = "interface counters";
	if ((ret = read_ifaces(p, &baseline)))
		goto fail;
	net_totals_free(&baseline);
	*out = p;
	return 0;
fail:
	probe_say_failure(err, len, "net probe", stage, ret);
out:
	net_totals_free(&baseline);
	net_probe_close(p);
	return ret;
}

/* The BPF side wakes us only once its ring is a quarter full (a wakeup per
 * event would cost more than the event): between wakeups, events are read
 * every NET_POLL_MS, so they show up at most that late.
 */
#define NET_POLL_MS 100

int net_probe_poll(struct net_probe *p, int timeout_ms)
{
	int n, m;

	if (!p->stream.rb)
		return probe_stream_poll(&p->stream, timeout_ms);
	n = probe_stream_poll(&p->stream, timeout_ms < NET_POLL_MS ? timeout_ms : NET_POLL_MS);
	if (n < 0)
		return n;
	m = ring_buffer__consume(p->stream.rb);
	return m < 0 ? m : n + m;
}

/* ---- reading: deltas of monotonic per-CPU sums ---- */

static int if_key_cmp(const void *a, const void *b)
{
	const struct pa_net_if_key *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return 0;
}

static int reason_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static struct iface_prev *iface_prev_slot(struct net_probe *p, const struct pa_net_if_key *k)
{
	struct iface_prev *hit, *arr;
	size_t i;

	hit = p->n_ifaces ? bsearch(k, p->ifaces, p->n_ifaces, sizeof(*p->ifaces), if_key_cmp)
			  : NULL;
	if (hit)
		return hit;
	arr = grow(p->ifaces, &p->cap_ifaces, p->n_ifaces + 1, sizeof(*arr));
	if (!arr)
		return NULL;
	p->ifaces = arr;
	for (i = p->n_ifaces; i > 0 && if_key_cmp(&arr[i - 1].key, k) > 0; i--)
		arr[i] = arr[i - 1];
	memset(&arr[i], 0, sizeof(arr[i]));
	arr[i].key = *k;
	p->n_ifaces++;
	return &arr[i];
}

static int add_iface_delta(struct net_totals *t, const struct net_iface_totals *d)
{
	struct net_iface_totals *arr;

	if (!d->rx_packets && !d->tx_packets && !d->rx_drops && !d->tx_drops)
		return 0;
	arr = grow(t->ifaces, &t->cap_ifaces, t->n_ifaces + 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	t->ifaces = arr;
	arr[t->n_ifaces++] = *d;
	return 0;
}

/* One interface's counters: the kernel's, and the probe's summed over CPUs. */
struct iface_row {
	struct pa_net_if_key key;
	struct iface_sum sum;
};

struct iface_rows {
	struct iface_row *v;
	size_t n, cap;
};

static void iface_add(struct iface_sum *s, const struct iface_sum *v)
{
	s->rx_packets += v->rx_packets;
	s->rx_bytes += v->rx_bytes;
	s->tx_packets += v->tx_packets;
	s->tx_bytes += v->tx_bytes;
	s->rx_drops += v->rx_drops;
	s->tx_drops += v->tx_drops;
	if (v->name[0] && (v->current_name || !s->name[0]) && !s->current_name) {
		memcpy(s->name, v->name, sizeof(s->name));
		s->current_name = v->current_name;
	}
	s->name[sizeof(s->name) - 1] = '\0';
}

/* A new row; rows of the same key are folded after sorting (fold_rows). */
static struct iface_sum *iface_row(struct iface_rows *r, const struct pa_net_if_key *k)
{
	struct iface_row *arr;

	arr = grow(r->v, &r->cap, r->n + 1, sizeof(*arr));
	if (!arr)
		return NULL;
	r->v = arr;
	memset(&arr[r->n], 0, sizeof(arr[r->n]));
	arr[r->n].key = *k;
	return &arr[r->n++].sum;
}

static int collect_drop_rows(struct net_probe *p, struct iface_rows *rows)
{
	int fd = bpf_map__fd(p->skel->maps.net_ifaces);
	struct pa_net_if_stats *vals = calloc(p->ncpus, sizeof(*vals));
	struct pa_net_if_key key, next, *prevk = NULL;
	struct iface_sum *row;
	int ret = vals ? 0 : -ENOMEM;

	while (!ret && bpf_map_get_next_key(fd, prevk, &next) == 0) {
		key = next;
		prevk = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;	/* deleted under us */
		row = iface_row(rows, &key);
		if (!row) {
			ret = -ENOMEM;
			break;
		}
		for (int cpu = 0; cpu < p->ncpus; cpu++) {
			row->rx_drops += vals[cpu].rx_drops;
			row->tx_drops += vals[cpu].tx_drops;
			if (!row->name[0] && vals[cpu].name[0])
				memcpy(row->name, vals[cpu].name, sizeof(row->name));
		}
		row->name[sizeof(row->name) - 1] = '\0';
	}
	free(vals);
	return ret;
}

/* A namespace that cannot be read this time is left out of this read
 * (its interfaces' deltas come with the next one that works).
 */
static int collect_traffic_rows(struct net_probe *p, struct iface_rows *rows)
{
	struct iface_sum *row;
	char err[128];
	size_t i;
	int ret;

	if (!p->iface_traffic)
		return 0;
	ret = netns_links_read(p->netns, &p->links, err, sizeof(err));
	for (i = 0; !ret && i < p->links.n; i++) {
		const struct netns_link *k = &p->links.v[i];
		struct pa_net_if_key key = { .netns = k->netns, .ifindex = k->ifindex };

		if (!(row = iface_row(rows, &key)))
			return -ENOMEM;
		*row = (struct iface_sum){ .rx_packets = k->rx_packets, .rx_bytes = k->rx_bytes,
					   .tx_packets = k->tx_packets, .tx_bytes = k->tx_bytes,
					   .current_name = true };
		snprintf(row->name, sizeof(row->name), "%s", k->name);
	}
	return ret;
}

/* Counters that went backwards belong to a new interface of that index. */
static uint64_t since(uint64_t now, uint64_t before)
{
	return now >= before ? now - before : now;
}

static int report_iface(struct net_probe *p, struct net_totals *t, const struct iface_row *r)
{
	struct net_iface_totals d = { .netns = r->key.netns, .ifindex = r->key.ifindex };
	struct iface_prev *o = iface_prev_slot(p, &r->key);

	if (!o)
		return -ENOMEM;
	d.rx_packets = since(r->sum.rx_packets, o->sum.rx_packets);
	d.rx_bytes = since(r->sum.rx_bytes, o->sum.rx_bytes);
	d.tx_packets = since(r->sum.tx_packets, o->sum.tx_packets);
	d.tx_bytes = since(r->sum.tx_bytes, o->sum.tx_bytes);
	d.rx_drops = since(r->sum.rx_drops, o->sum.rx_drops);
	d.tx_drops = since(r->sum.tx_drops, o->sum.tx_drops);
	o->sum = r->sum;
	if (r->sum.name[0])
		snprintf(d.name, sizeof(d.name), "%s", r->sum.name);
	else
		snprintf(d.name, sizeof(d.name), "if%u", r->key.ifindex);
	return add_iface_delta(t, &d);
}

/* One row per interface: sorted by key (the key leads each row), the
 * kernel's row and the probe's row of an interface become one.
 */
static void fold_rows(struct iface_rows *r)
{
	size_t i, n = 0;

	if (!r->n)
		return;
	qsort(r->v, r->n, sizeof(*r->v), if_key_cmp);
	for (i = 1; i < r->n; i++) {
		if (!if_key_cmp(&r->v[n].key, &r->v[i].key))
			iface_add(&r->v[n].sum, &r->v[i].sum);
		else
			r->v[++n] = r->v[i];
	}
	r->n = n + 1;
}

static int read_ifaces(struct net_probe *p, struct net_totals *t)
{
	struct iface_rows rows = { 0 };
	int ret = collect_drop_rows(p, &rows);
	size_t i;

	if (!ret)
		ret = collect_traffic_rows(p, &rows);
	if (!ret)
		fold_rows(&rows);
	for (i = 0; !ret && i < rows.n; i++)
		ret = report_iface(p, t, &rows.v[i]);
	free(rows.v);
	return ret;
}

static struct drop_prev *drop_prev_slot(struct net_probe *p, uint32_t reason)
{
	struct drop_prev *hit, *arr;
	size_t i;

	hit = p->n_drops ? bsearch(&reason, p->drops, p->n_drops, sizeof(*p->drops), reason_cmp)
			 : NULL;
	if (hit)
		return hit;
	arr = grow(p->drops, &p->cap_drops, p->n_drops + 1, sizeof(*arr));
	if (!arr)
		return NULL;
	p->drops = arr;
	for (i = p->n_drops; i > 0 && arr[i - 1].reason > reason; i--)
		arr[i] = arr[i - 1];
	arr[i] = (struct drop_prev){ .reason = reason };
	p->n_drops++;
	return &arr[i];
}

static int add_drop_delta(struct net_totals *t, uint32_t reason, uint64_t n)
{
	struct net_drop_count *arr;

	if (!n)
		return 0;
	arr = grow(t->drops, &t->cap_drops, t->n_drops + 1, sizeof(*arr));
	if (!arr)
		return -ENOMEM;
	t->drops = arr;
	arr[t->n_drops++] = (struct net_drop_count){ reason, n };
	return 0;
}

static int read_drops(struct net_probe *p, struct net_totals *t)
{
	int fd = bpf_map__fd(p->skel->maps.net_drops), cpu, ret = 0;
	uint64_t *vals = calloc(p->ncpus, sizeof(*vals)), sum;
	uint32_t key, next, *prevk = NULL;

	if (!vals)
		return -ENOMEM;
	while (!ret && bpf_map_get_next_key(fd, prevk, &next) == 0) {
		struct drop_prev *o;

		key = next;
		prevk = &key;
		if (bpf_map_lookup_elem(fd, &key, vals))
			continue;
		for (sum = 0, cpu = 0; cpu < p->ncpus; cpu++)
			sum += vals[cpu];
		o = drop_prev_slot(p, key);
		if (!o) {
			ret = -ENOMEM;
			break;
		}
		ret = add_drop_delta(t, key, sum - o->sum);
		o->sum = sum;
	}
	free(vals);
	return ret;
}

#define TCP_COUNTER_FIELDS(X) X(connects) X(connected) X(connect_failed) X(accepted) \
	X(closed) X(bytes_acked) X(bytes_received) X(retransmits) X(resets_sent) \
	X(resets_received)

static void tcp_cpu_delta(struct net_tcp_totals *t, const struct pa_net_tcp_stats *c,
			  const struct pa_net_tcp_stats *o)
{
	int b;

#define DELTA(f) t->f += c->f - o->f;
	TCP_COUNTER_FIELDS(DELTA)
#undef DELTA
	for (b = 0; b < PA_HIST_BUCKETS; b++) {
		t->connlat_hist[b] += c->connlat_hist[b] - o->connlat_hist[b];
		t->lifetime_hist[b] += c->lifetime_hist[b] - o->lifetime_hist[b];
	}
}

static int read_tcp(struct net_probe *p, struct net_tcp_totals *t)
{
	uint64_t new_conn = 0, all_conn = 0, new_life = 0, all_life = 0;
	__u32 zero = 0;
	int cpu;

	memset(t, 0, sizeof(*t));
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.net_tcp), &zero, p->tcp_cur))
		return -errno;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct pa_net_tcp_stats *c = &p->tcp_cur[cpu];
		struct pa_net_tcp_stats *o = &p->tcp_prev[cpu];

		tcp_cpu_delta(t, c, o);
		if (c->connlat_max_ns > o->connlat_max_ns && c->connlat_max_ns > new_conn)
			new_conn = c->connlat_max_ns;
		if (c->lifetime_max_ns > o->lifetime_max_ns && c->lifetime_max_ns > new_life)
			new_life = c->lifetime_max_ns;
		if (c->connlat_max_ns > all_conn)
			all_conn = c->connlat_max_ns;
		if (c->lifetime_max_ns > all_life)
			all_life = c->lifetime_max_ns;
		*o = *c;
	}
	t->connlat_max_ns = hist_interval_max(t->connlat_hist, new_conn, all_conn);
	t->lifetime_max_ns = hist_interval_max(t->lifetime_hist, new_life, all_life);
	return 0;
}

static int read_losses(struct net_probe *p, struct net_losses *l)
{
	struct pa_net_counters d;
	int ret = probe_counters_read(&p->counters, p->skel->maps.net_counters, &d);

	memset(l, 0, sizeof(*l));
	if (ret)
		return ret;
	l->events_sent = d.events_sent;
	l->events_lost = d.events_lost;
	l->events_suppressed = d.events_suppressed;
	l->iface_overflow = d.iface_overflow;
	l->conn_overflow = d.conn_overflow;
	return 0;
}

int net_probe_read(struct net_probe *p, struct net_totals *t)
{
	int ret;

	net_totals_clear(t);
	if ((ret = read_ifaces(p, t)) || (ret = read_drops(p, t)) ||
	    (ret = read_tcp(p, &t->tcp)))
		return ret;
	return read_losses(p, &t->losses);
}

const char *net_probe_describe(const struct net_probe *p)
{
	return p->describe;
}

const char *net_probe_missing(const struct net_probe *p)
{
	return p->missing;
}

int net_probe_poll_fd(const struct net_probe *p)
{
	return probe_stream_fd(&p->stream);
}

struct bpf_object *net_probe_bpf_object(const struct net_probe *p)
{
	return p->skel->obj;
}

void net_probe_close(struct net_probe *p)
{
	if (!p)
		return;
	probe_stream_close(&p->stream);
	net_bpf__destroy(p->skel);
	free(p->tcp_prev);
	free(p->tcp_cur);
	probe_counters_free(&p->counters);
	free(p->ifaces);
	free(p->drops);
	netns_links_free(&p->links);
	free(p);
}

/* ---- totals ---- */

static struct net_iface_totals *find_iface(struct net_totals *t, uint32_t netns, uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < t->n_ifaces; i++)
		if (t->ifaces[i].netns == netns && t->ifaces[i].ifindex == ifindex)
			return &t->ifaces[i];
	return NULL;
}

static void add_iface(struct net_totals *sum, const struct net_iface_totals *d)
{
	struct net_iface_totals *s = find_iface(sum, d->netns, d->ifindex);

	if (!s) {
		add_iface_delta(sum, d);
		return;
	}
	memcpy(s->name, d->name, sizeof(s->name));	/* the latest */
	s->rx_packets += d->rx_packets;
	s->rx_bytes += d->rx_bytes;
	s->tx_packets += d->tx_packets;
	s->tx_bytes += d->tx_bytes;
	s->rx_drops += d->rx_drops;
	s->tx_drops += d->tx_drops;
}

static void add_drop(struct net_totals *sum, const struct net_drop_count *d)
{
	size_t i;

	for (i = 0; i < sum->n_drops; i++) {
		if (sum->drops[i].reason == d->reason) {
			sum->drops[i].count += d->count;
			return;
		}
	}
	add_drop_delta(sum, d->reason, d->count);
}

static void add_tcp(struct net_tcp_totals *s, const struct net_tcp_totals *d)
{
	int b;

#define ADD(f) s->f += d->f;
	TCP_COUNTER_FIELDS(ADD)
#undef ADD
	for (b = 0; b < PA_HIST_BUCKETS; b++) {
		s->connlat_hist[b] += d->connlat_hist[b];
		s->lifetime_hist[b] += d->lifetime_hist[b];
	}
	if (d->connlat_max_ns > s->connlat_max_ns)
		s->connlat_max_ns = d->connlat_max_ns;
	if (d->lifetime_max_ns > s->lifetime_max_ns)
		s->lifetime_max_ns = d->lifetime_max_ns;
}

void net_totals_add(struct net_totals *sum, const struct net_totals *d)
{
	size_t i;

	for (i = 0; i < d->n_ifaces; i++)
		add_iface(sum, &d->ifaces[i]);
	for (i = 0; i < d->n_drops; i++)
		add_drop(sum, &d->drops[i]);
	add_tcp(&sum->tcp, &d->tcp);
	sum->losses.events_sent += d->losses.events_sent;
	sum->losses.events_lost += d->losses.events_lost;
	sum->losses.events_suppressed += d->losses.events_suppressed;
	sum->losses.iface_overflow += d->losses.iface_overflow;
	sum->losses.conn_overflow += d->losses.conn_overflow;
}

void net_totals_clear(struct net_totals *t)
{
	t->n_ifaces = 0;
	t->n_drops = 0;
	memset(&t->tcp, 0, sizeof(t->tcp));
	memset(&t->losses, 0, sizeof(t->losses));
}

void net_totals_free(struct net_totals *t)
{
	free(t->ifaces);
	free(t->drops);
	memset(t, 0, sizeof(*t));
}

/* ---- perfagent doctor ---- */

static void ignore_event(void *ctx, const struct pa_net_event *e)
{
	(void)ctx;
	(void)e;
}

/* Loaded and attached for real, then detached: what a run would get. */
void doctor_check_net(struct doctor_result *r)
{
	struct net_probe_opts o = { .stream = NET_DEFAULT_STREAM, .rate = NET_DEFAULT_RATE };
	struct net_probe *p;
	char err[512];
	size_t i;

	if (!doctor_bpf_ready(r))
		return;
	if (net_probe_open(&p, &o, ignore_event, NULL, err, sizeof(err))) {
		doctor_inactive(r, "%s", err);
		return;
	}
	doctor_mechanism(r, "%s", net_probe_describe(p));
	net_probe_close(p);
	for (i = 0; i < NTRACEPOINTS; i++)
		if (!tracepoint_exists(tracepoints[i].category, tracepoints[i].name))
			doctor_degraded(r, "tracepoint %s:%s missing: no %s", tracepoints[i].category,
					tracepoints[i].name, tracepoints[i].gives);
	if (net_tracepoint_nargs("kfree_skb") == 2)
		doctor_degraded(r, "skb:kfree_skb has no drop reason argument (before 5.17): "
				"drops are counted, all under reason 0");
	if (net_tracepoint_nargs("tcp_send_reset") == 2)
		doctor_note(r, "tcp:tcp_send_reset traces only resets sent from a full socket on "
			    "this kernel (no reason argument): resets answering a closed port are "
			    "seen as NO_SOCKET drops and by the receiver");
	if (strstr(r->mechanism, "perf buffer"))
		doctor_note(r, "fallback: perf buffer (no BPF ring buffer)");
}
