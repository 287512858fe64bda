// SPDX-License-Identifier: GPL-2.0
/*
 * The network probe against traffic we make ourselves and know exactly:
 * children in network namespaces of their own (nothing else talks there,
 * and the namespace dies with the child, so nothing needs cleaning up)
 * connect over loopback N times, or to a closed port N times; the probe,
 * loaded for real and filtered on that namespace (or on a port), must count
 * exactly N, and exactly what the kernel's own interface counters say.
 * Run as root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cJSON.h>

#include "bpf_env.h"
#include "btf_enums.h"
#include "check.h"
#include "hist.h"
#include "net.h"
#include "net_report.h"
#include "netns_test.h"
#include "timeutil.h"
#include "units.h"

#define CONNECTS	40
#define OTHER_CONNECTS	15	/* in another namespace: must not be counted */
#define PREOPENED	5	/* connected before the probe attaches */
#define CONCURRENT	10	/* open at once, for the full connection table */
#define REFUSED		40
#define SENT		10000	/* client -> server per connection */
#define ANSWERED	3000	/* server -> client */
#define RATE		3	/* events per second per key, for the volume test */
#define MAX_EVENTS	4096

/* ---- workloads, run by children in their own network namespace ---- */

struct lo_counters {
	uint64_t rx_bytes, rx_packets, tx_bytes, tx_packets;
};

struct report {
	int ok;				/* the workload ran as planned */
	struct lo_counters before, after;	/* /proc/net/dev, lo, in the namespace */
	char err[160];
};

struct workload {
	int family;		/* AF_INET or AF_INET6 */
	uint16_t port;
	int connects;		/* to a listener on port */
	int refused;		/* to port + 1, where nobody listens */
	int preopened;		/* on port + 2, connected before the probe attaches */
	int concurrent;		/* on port + 3, all open at once, then all closed */
};

static int read_lo(struct lo_counters *c)
{
	FILE *f = fopen("/proc/net/dev", "r");
	unsigned long long v[16];
	char line[512];
	int found = 0;

	if (!f)
		return -1;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = strchr(line, ':');

		if (!p || strncmp(line + strspn(line, " "), "lo:", 3))
			continue;
		if (sscanf(p + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) == 10) {
			*c = (struct lo_counters){ v[0], v[1], v[8], v[9] };
			found = 1;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

static socklen_t loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *a = (void *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
	struct sockaddr_in *a = (void *)ss;

	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof(*a);
}

static int xfer_all(int fd, size_t n, bool send_side)
{
	char buf[4096];
	size_t done = 0;

	memset(buf, 'x', sizeof(buf));
	while (done < n) {
		size_t chunk = n - done < sizeof(buf) ? n - done : sizeof(buf);
		ssize_t r = send_side ? send(fd, buf, chunk, 0) : recv(fd, buf, chunk, 0);

		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* One full connection: connect, data both ways, client closes first, the
 * server reads the end of stream and closes: an orderly four-way close.
 */
static int one_connection(const struct workload *w, int listener)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(w->family, w->port, &ss);
	int c = socket(w->family, SOCK_STREAM, 0), s = -1, ret = -1;
	char b;

	if (c < 0 || connect(c, (void *)&ss, len))
		goto out;
	s = accept(listener, NULL, NULL);
	if (s < 0 || xfer_all(c, SENT, true) || xfer_all(s, SENT, false) ||
	    xfer_all(s, ANSWERED, true) || xfer_all(c, ANSWERED, false))
		goto out;
	close(c);
	c = -1;
	ret = recv(s, &b, 1, 0) == 0 ? 0 : -1;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	return ret;
}

static int run_connects(const struct workload *w, struct report *r)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(w->family, w->port, &ss);
	int l = socket(w->family, SOCK_STREAM, 0), one = 1, i;

	if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(l, (void *)&ss, len) || listen(l, 128)) {
		snprintf(r->err, sizeof(r->err), "listen on port %u: %s", w->port, strerror(errno));
		return -1;
	}
	for (i = 0; i < w->connects; i++) {
		if (one_connection(w, l)) {
			snprintf(r->err, sizeof(r->err), "connection %d: %s", i, strerror(errno));
			close(l);
			return -1;
		}
	}
	close(l);
	return 0;
}

static int run_refused(const struct workload *w, struct report *r)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(w->family, w->port + 1, &ss);
	int i, c;

	for (i = 0; i < w->refused; i++) {
		c = socket(w->family, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (void *)&ss, len) == 0 || errno != ECONNREFUSED) {
			snprintf(r->err, sizeof(r->err), "connect %d to closed port %u: %s", i,
				 w->port + 1, c < 0 ? strerror(errno) : "not refused");
			if (c >= 0)
				close(c);
			return -1;
		}
		close(c);
	}
	return 0;
}

static int run_concurrent(const struct workload *w, struct report *r)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(w->family, w->port + 3, &ss);
	int l = socket(w->family, SOCK_STREAM, 0), fds[2 * CONCURRENT], n = 0, i = 0, ret = -1;

	if (w->concurrent > CONCURRENT)
		abort();
	if (l < 0 || bind(l, (void *)&ss, len) || listen(l, CONCURRENT))
		goto out;
	for (i = 0; i < w->concurrent; i++) {
		fds[n] = socket(w->family, SOCK_STREAM, 0);
		if (fds[n] < 0 || connect(fds[n], (void *)&ss, len))
			goto out;
		fds[++n] = accept(l, NULL, NULL);
		if (fds[n++] < 0)
			goto out;
	}
	ret = 0;
out:
	if (ret)
		snprintf(r->err, sizeof(r->err), "concurrent connection %d on port %u: %s", i,
			 w->port + 3, strerror(errno));
	while (n > 0)
		close(fds[--n]);
	if (l >= 0)
		close(l);
	return ret;
}

/* Sockets of this namespace not yet closed (TIME_WAIT ones have finished:
 * their full socket already went through CLOSE, and they send nothing).
 */
static int open_sockets(void)
{
	static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	char line[512];
	unsigned int st;
	int n = 0;
	size_t i;

	for (i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "%*s %*s %*s %x", &st) == 1 && st != 6)
				n++;
		fclose(f);
	}
	return n;
}

static void wait_quiet(void)
{
	int i;

	for (i = 0; i < 500 && open_sockets(); i++)
		usleep(10000);
}

/* Connections established while the child waits to be released (before
 * the probe attaches), and closed first thing once it is.
 */
static int pre_fds[2 * PREOPENED + 1];
static int pre_count;
static char pre_err[96];

static void preopen(const struct workload *w)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(w->family, w->port + 2, &ss);
	int l = socket(w->family, SOCK_STREAM, 0), c, s, i;

	if (w->preopened > PREOPENED)
		abort();
	if (l < 0 || bind(l, (void *)&ss, len) || listen(l, PREOPENED))
		goto fail;
	pre_fds[pre_count++] = l;
	for (i = 0; i < w->preopened; i++) {
		c = socket(w->family, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (void *)&ss, len))
			goto fail;
		pre_fds[pre_count++] = c;
		s = accept(l, NULL, NULL);
		if (s < 0)
			goto fail;
		pre_fds[pre_count++] = s;
	}
	return;
fail:
	snprintf(pre_err, sizeof(pre_err), "pre-opened connection on port %u: %s", w->port + 2,
		 strerror(errno));
}

static void close_preopened(void)
{
	while (pre_count)
		close(pre_fds[--pre_count]);
}

static void workload_main(const struct workload *w, int report_fd)
{
	struct report r = { 0 };

	close_preopened();
	if (pre_err[0])
		snprintf(r.err, sizeof(r.err), "%s", pre_err);
	else if (read_lo(&r.before))
		snprintf(r.err, sizeof(r.err), "cannot read lo in /proc/net/dev");
	else if (!run_connects(w, &r) && !run_refused(w, &r) && !run_concurrent(w, &r)) {
		wait_quiet();
		r.ok = read_lo(&r.after) == 0;
	}
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(1);
}

struct child {
	pid_t pid;
	int go;			/* write end: releases the child */
	int report;		/* read end: its struct report */
	uint32_t netns;
	char nspath[64];
};

/* Fork a child into a new network namespace with lo up; it waits for go.
 * Returns -1 (with a reason) when namespaces cannot be made here.
 */
static int spawn(struct child *c, const struct workload *w, char *why, size_t len)
{
	int go[2], rep[2], ready[2];
	struct stat st;
	char b = 0;

	if (pipe(go) || pipe(rep) || pipe(ready))
		abort();
	c->pid = fork();
	if (c->pid == 0) {
		close(go[1]);
		close(rep[0]);
		close(ready[0]);
		b = unshare(CLONE_NEWNET) == 0 && netns_lo_up() == 0 ? 'r' : 'e';
		if (b == 'r' && w->preopened)
			preopen(w);
		if (write(ready[1], &b, 1) != 1 || b != 'r' || read(go[0], &b, 1) != 1)
			_exit(1);
		workload_main(w, rep[1]);
		/* Hold the namespace until dismissed: the probe reads its
		 * interfaces' counters while it exists.
		 */
		while (read(go[0], &b, 1) > 0)
			;
		_exit(0);
	}
	close(go[0]);
	close(rep[1]);
	close(ready[1]);
	c->go = go[1];
	c->report = rep[0];
	if (read(ready[0], &b, 1) != 1 || b != 'r') {
		snprintf(why, len, "cannot make a network namespace with lo up (unshare)");
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	snprintf(c->nspath, sizeof(c->nspath), "/proc/%d/ns/net", c->pid);
	if (stat(c->nspath, &st))
		abort();
	c->netns = (uint32_t)st.st_ino;
	return 0;
}

static void release(struct child *c)
{
	if (write(c->go, "g", 1) != 1)
		abort();
}

/* Let a child go: before its workload (the probe did not open) or after.
 * A child holds copies of the pipes of those forked before it: let them go
 * newest first.
 */
static void dismiss(struct child *c)
{
	int st;

	close(c->go);
	close(c->report);
	waitpid(c->pid, &st, 0);
}

/* The child's report (ok = 0 when it died early); it keeps its namespace
 * until dismissed.
 */
static struct report finish(struct child *c)
{
	struct report r = { 0 };

	if (read(c->report, &r, sizeof(r)) != sizeof(r))
		snprintf(r.err, sizeof(r.err), "child %d died", c->pid);
	return r;
}

/* ---- the probe side ---- */

static struct pa_net_event events[MAX_EVENTS];
static size_t nevents;

static void on_event(void *ctx, const struct pa_net_event *e)
{
	(void)ctx;
	if (nevents < MAX_EVENTS)
		events[nevents++] = *e;
}

static int open_probe(struct net_probe **p, struct net_probe_opts *o)
{
	char err[512];
	int ret;

	nevents = 0;
	ret = net_probe_open(p, o, on_event, NULL, err, sizeof(err));
	if (ret)
		fprintf(stderr, "# %s\n", err);
	return ret;
}

typedef bool (*done_fn)(const struct net_totals *t, const void *arg);

/* Poll events and add up intervals until done says so (the last FINs and
 * ACKs of a close may still be in flight when the workload returns), or 5 s.
 */
static int collect(struct net_probe *p, struct net_totals *sum, done_fn done, const void *arg)
{
	struct net_totals d = { 0 };
	uint64_t end = mono_ns() + 5 * NSEC_PER_SEC;
	int ret = 0;

	do {
		net_probe_poll(p, 50);
		if ((ret = net_probe_read(p, &d)))
			break;
		net_totals_add(sum, &d);
	} while (!done(sum, arg) && mono_ns() < end);
	net_probe_poll(p, 0);
	net_totals_free(&d);
	return ret;
}

static bool closed_all(const struct net_totals *t, const void *arg)
{
	return t->tcp.closed >= *(const uint64_t *)arg;
}

static bool refused_all(const struct net_totals *t, const void *arg)
{
	return t->tcp.resets_received >= *(const uint64_t *)arg;
}

static uint64_t drops_named(const struct net_totals *t, const char *want)
{
	char name[64];
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < t->n_drops; i++)
		if (!strcmp(net_drop_reason_name(t->drops[i].reason, name, sizeof(name)), want))
			n += t->drops[i].count;
	return n;
}

static uint64_t all_drops(const struct net_totals *t)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < t->n_drops; i++)
		n += t->drops[i].count;
	return n;
}

static const struct net_iface_totals *iface(const struct net_totals *t, uint32_t netns,
					     uint32_t ifindex)
{
	size_t i;

	for (i = 0; i < t->n_ifaces; i++)
		if (t->ifaces[i].netns == netns && t->ifaces[i].ifindex == ifindex)
			return &t->ifaces[i];
	return NULL;
}

static size_t count_events(uint32_t kind, uint64_t *suppressed)
{
	size_t i, n = 0;

	if (suppressed)
		*suppressed = 0;
	for (i = 0; i < nevents; i++) {
		if (events[i].kind != kind)
			continue;
		n++;
		if (suppressed)
			*suppressed += events[i].suppressed;
	}
	return n;
}

static bool is_loopback(const struct pa_net_flow *f, bool local)
{
	const uint8_t *a = local ? f->laddr : f->raddr;
	static const uint8_t v4[4] = { 127, 0, 0, 1 }, v6[16] = { [15] = 1 };

	return f->family == AF_INET ? !memcmp(a, v4, 4) : !memcmp(a, v6, 16);
}

/* A port below the local port range, so the rate limit's key keeps it. */
static uint16_t test_port(void)
{
	return (uint16_t)(20000 + (getpid() % 4000) * 2);
}

static bool can_run(void)
{
	char err[512];

	if (env_check_privileges(err, sizeof(err)) || env_check_btf(err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return false;
	}
	return true;
}

/* ---- cases ---- */

/* What t_connects_counted_exactly saw, checked further by later cases. */
/* One or two children's workloads, each in a namespace of its own, under one
 * probe (filtered on the first child's namespace when own_netns), until
 * done says the last of their traffic is counted. A skip or a failure is
 * left in check_case_failed.
 */
struct traced_run {
	const struct workload *w[2];	/* w[1] may be NULL */
	bool own_netns;
	done_fn done;
	const void *arg;
	struct child c[2];		/* out: the children (pid, netns) */
	struct report r[2];		/* out: their reports */
};

static void run_traced(struct traced_run *run, struct net_probe_opts *o, struct net_totals *t)
{
	size_t i, n = run->w[1] ? 2 : 1;
	struct net_probe *p = NULL;
	bool ok = true;
	char why[128];
	int rc;

	if (!can_run())
		SKIP("needs root and BTF");
	for (i = 0; i < n; i++) {
		if (spawn(&run->c[i], run->w[i], why, sizeof(why))) {
			while (i--)
				dismiss(&run->c[i]);
			SKIP("%s", why);
		}
	}
	if (run->own_netns)
		o->netns = run->c[0].netns;
	if (open_probe(&p, o)) {
		while (i--)
			dismiss(&run->c[i]);
		CHECK(!"net_probe_open");
	}
	for (i = 0; i < n; i++)
		release(&run->c[i]);
	for (i = 0; i < n; i++) {
		run->r[i] = finish(&run->c[i]);
		ok = ok && run->r[i].ok;
	}
	rc = ok ? collect(p, t, run->done, run->arg) : 0;
	while (i--)
		dismiss(&run->c[i]);
	net_probe_close(p);
	CHECKF(ok, "workload: %s%s", run->r[0].err, run->r[1].err);
	CHECK(rc == 0);
}

static struct {
	bool ran;
	uint32_t netns;
	struct report rep;
	struct net_totals t;
} conn_run;

static void t_connects_counted_exactly(void)
{
	struct workload w = { .family = AF_INET, .port = test_port(), .connects = CONNECTS };
	struct workload other = { .family = AF_INET, .port = test_port(),
				  .connects = OTHER_CONNECTS };
	struct net_probe_opts o = { .stream = PA_NET_STREAM(PA_NET_EV_CONN_CLOSED) };
	struct net_totals *t = &conn_run.t;
	uint64_t closes = 2 * CONNECTS, payload = (uint64_t)CONNECTS * (SENT + ANSWERED);
	struct traced_run run = { .w = { &w, &other }, .own_netns = true,
				 .done = closed_all, .arg = &closes };
	size_t i, active = 0;

	run_traced(&run, &o, t);
	if (check_case_failed)
		return;
	conn_run.rep = run.r[0];
	conn_run.ran = true;
	conn_run.netns = run.c[0].netns;

	CHECKF(t->tcp.connects == CONNECTS, "connects %llu", (unsigned long long)t->tcp.connects);
	CHECKF(t->tcp.connected == CONNECTS, "connected %llu", (unsigned long long)t->tcp.connected);
	CHECKF(t->tcp.accepted == CONNECTS, "accepted %llu", (unsigned long long)t->tcp.accepted);
	CHECK(t->tcp.connect_failed == 0);
	CHECKF(hist_total(t->tcp.connlat_hist) == CONNECTS, "latency samples %llu",
	       (unsigned long long)hist_total(t->tcp.connlat_hist));
	CHECK(t->tcp.connlat_max_ns > 0);
	CHECK(hist_percentile(t->tcp.connlat_hist, 0.5, t->tcp.connlat_max_ns) <=
	      hist_percentile(t->tcp.connlat_hist, 0.99, t->tcp.connlat_max_ns));
	CHECKF(t->tcp.closed == closes, "closed %llu", (unsigned long long)t->tcp.closed);
	CHECK(hist_total(t->tcp.lifetime_hist) == closes);
	/* The kernel counts sequence space: payload, plus SYN and FIN (at most
	 * 2 per side per connection).
	 */
	CHECKF(t->tcp.bytes_acked >= payload && t->tcp.bytes_acked <= payload + 4 * CONNECTS,
	       "bytes_acked %llu, payload %llu", (unsigned long long)t->tcp.bytes_acked,
	       (unsigned long long)payload);
	CHECKF(t->tcp.bytes_received >= payload && t->tcp.bytes_received <= payload + 4 * CONNECTS,
	       "bytes_received %llu, payload %llu", (unsigned long long)t->tcp.bytes_received,
	       (unsigned long long)payload);
	CHECK(t->tcp.retransmits == 0 && t->tcp.resets_sent == 0 && t->tcp.resets_received == 0);
	CHECK(t->losses.events_lost == 0 && t->losses.events_suppressed == 0);
	CHECKF(count_events(PA_NET_EV_CONN_CLOSED, NULL) == closes, "%zu closed events", nevents);
	for (i = 0; i < nevents; i++) {
		const struct pa_net_event *e = &events[i];

		CHECK(e->netns == conn_run.netns && e->flow.family == AF_INET);
		CHECK(is_loopback(&e->flow, true) && is_loopback(&e->flow, false));
		CHECKF(e->flow.lport == w.port || e->flow.rport == w.port, "ports %u %u",
		       e->flow.lport, e->flow.rport);
		CHECK(e->flow.lport && e->flow.rport);
		if (e->flow.rport == w.port) {	/* the client's end */
			active++;
			CHECKF(e->pid == (uint32_t)run.c[0].pid, "pid %u, child %d", e->pid,
			       run.c[0].pid);
			CHECK(e->connect_ns > 0);
			CHECK(e->bytes_acked >= SENT && e->bytes_acked <= SENT + 2);
			CHECK(e->bytes_received >= ANSWERED && e->bytes_received <= ANSWERED + 2);
		}
	}
	CHECK(active == CONNECTS);
}

/* Connections established before the probe attached and closed after: their
 * closes and bytes count (the transition says it all), but not as connects
 * or accepts, and they have no lifetime (their start was never seen).
 */
static void t_opened_before_attach(void)
{
	struct workload w = { .family = AF_INET, .port = test_port(), .connects = CONNECTS / 4,
			      .preopened = PREOPENED };
	uint64_t closes = 2 * (uint64_t)(w.connects + PREOPENED);
	struct net_probe_opts o = { 0 };
	struct traced_run run = { .w = { &w }, .own_netns = true,
				 .done = closed_all, .arg = &closes };
	struct net_totals t = { 0 };

	run_traced(&run, &o, &t);
	if (check_case_failed)
		return;
	CHECKF(t.tcp.closed == closes, "closed %llu, want %llu", (unsigned long long)t.tcp.closed,
	       (unsigned long long)closes);
	CHECKF(t.tcp.connects == (uint64_t)w.connects && t.tcp.connected == (uint64_t)w.connects &&
	       t.tcp.accepted == (uint64_t)w.connects, "connects %llu connected %llu accepted %llu",
	       (unsigned long long)t.tcp.connects, (unsigned long long)t.tcp.connected,
	       (unsigned long long)t.tcp.accepted);
	CHECKF(hist_total(t.tcp.lifetime_hist) == 2 * (uint64_t)w.connects, "lifetimes %llu",
	       (unsigned long long)hist_total(t.tcp.lifetime_hist));
	CHECK(hist_total(t.tcp.connlat_hist) == (uint64_t)w.connects);
	CHECK(t.losses.conn_overflow == 0);
	net_totals_free(&t);
}

/* A connection table of one set (4 slots) and 10 connections open at once:
 * every socket opening beyond the 4th pushes the oldest record out, and
 * each is counted; the 4 still there at the end close with a lifetime.
 */
static void t_conn_table_full(void)
{
	struct workload w = { .family = AF_INET, .port = test_port(), .concurrent = CONCURRENT };
	uint64_t closes = 2 * CONCURRENT, pushed = 2 * CONCURRENT - 4;
	struct net_probe_opts o = { .conn_sets = 1 };
	struct traced_run run = { .w = { &w }, .own_netns = true,
				 .done = closed_all, .arg = &closes };
	struct net_totals t = { 0 };

	run_traced(&run, &o, &t);
	if (check_case_failed)
		return;
	CHECKF(t.tcp.closed == closes, "closed %llu", (unsigned long long)t.tcp.closed);
	CHECKF(t.losses.conn_overflow == pushed, "conn_overflow %llu, want %llu",
	       (unsigned long long)t.losses.conn_overflow, (unsigned long long)pushed);
	CHECKF(hist_total(t.tcp.lifetime_hist) == closes - pushed, "lifetimes %llu",
	       (unsigned long long)hist_total(t.tcp.lifetime_hist));
	/* Each client is still in the table when its SYN-ACK arrives. */
	CHECK(hist_total(t.tcp.connlat_hist) == CONCURRENT);
	net_totals_free(&t);
}

static void t_conn_table_not_power_of_two(void)
{
	struct net_probe_opts o = { .conn_sets = 3 };
	struct net_probe *p = NULL;
	char err[256] = "";

	if (!can_run())
		SKIP("needs root and BTF");
	CHECK(net_probe_open(&p, &o, on_event, NULL, err, sizeof(err)) == -EINVAL);
	CHECKF(strstr(err, "not a power of two") != NULL, "%s", err);
}

/* What the probe reports for lo in that namespace is what the kernel's
 * counters (/proc/net/dev, read by the child in its namespace) moved by
 * while the workload ran.
 */
static void check_lo(const struct net_totals *t, uint32_t netns, const struct report *r)
{
	const struct net_iface_totals *lo = iface(t, netns, 1);

	CHECKF(lo != NULL, "no lo counted in namespace %u", netns);
	CHECK_STREQ(lo->name, "lo");
	CHECKF(lo->rx_packets == r->after.rx_packets - r->before.rx_packets,
	       "rx packets %llu, kernel %llu", (unsigned long long)lo->rx_packets,
	       (unsigned long long)(r->after.rx_packets - r->before.rx_packets));
	CHECKF(lo->tx_packets == r->after.tx_packets - r->before.tx_packets,
	       "tx packets %llu, kernel %llu", (unsigned long long)lo->tx_packets,
	       (unsigned long long)(r->after.tx_packets - r->before.tx_packets));
	CHECKF(lo->rx_bytes == r->after.rx_bytes - r->before.rx_bytes, "rx bytes %llu, kernel %llu",
	       (unsigned long long)lo->rx_bytes,
	       (unsigned long long)(r->after.rx_bytes - r->before.rx_bytes));
	CHECKF(lo->tx_bytes == r->after.tx_bytes - r->before.tx_bytes, "tx bytes %llu, kernel %llu",
	       (unsigned long long)lo->tx_bytes,
	       (unsigned long long)(r->after.tx_bytes - r->before.tx_bytes));
	CHECK(lo->tx_packets >= 6 * CONNECTS);	/* SYN, SYN-ACK, ACK, data, 2 FINs at least */
}

static void t_iface_matches_kernel_counters(void)
{
	if (!conn_run.ran)
		SKIP("t_connects_counted_exactly did not run");
	check_lo(&conn_run.t, conn_run.netns, &conn_run.rep);
	CHECKF(conn_run.t.n_ifaces == 1, "%zu interfaces", conn_run.t.n_ifaces);
}

/* Unfiltered, two namespaces busy at once, and ours: three lo with ifindex
 * 1. Per CPU one of them has the fast slot for ifindex 1, the others go
 * through the hash; each namespace's lo must still add up exactly.
 */
static void t_same_ifindex_in_two_namespaces(void)
{
	struct workload w = { .family = AF_INET, .port = test_port(), .connects = CONNECTS };
	struct workload w2 = { .family = AF_INET, .port = test_port() + 2, .connects = CONNECTS };
	struct net_probe_opts o = { 0 };
	struct net_totals t = { 0 };
	uint64_t closes = 4 * CONNECTS;
	struct traced_run run = { .w = { &w, &w2 }, .own_netns = false,
				 .done = closed_all, .arg = &closes };

	run_traced(&run, &o, &t);
	if (check_case_failed)
		return;
	check_lo(&t, run.c[0].netns, &run.r[0]);
	check_lo(&t, run.c[1].netns, &run.r[1]);
	net_totals_free(&t);
}

/* Connections to a closed port: resets and NO_SOCKET drops, exactly, and
 * their events held to RATE per second per key, with every event either
 * streamed or counted as suppressed.
 */
static void refused(int family, uint16_t port, struct net_probe_opts *o, const char *label)
{
	struct workload w = { .family = family, .port = port, .refused = REFUSED };
	struct net_totals t = { 0 };
	uint64_t want = REFUSED, held, streamed;
	int send_args = net_tracepoint_nargs("tcp_send_reset");
	struct traced_run run = { .w = { &w }, .own_netns = true,
				 .done = refused_all, .arg = &want };
	size_t i;

	run_traced(&run, o, &t);
	if (check_case_failed) {
		fprintf(stderr, "# (%s)\n", label);
		return;
	}

	CHECKF(t.tcp.connects == REFUSED && t.tcp.connect_failed == REFUSED,
	       "connects %llu failed %llu", (unsigned long long)t.tcp.connects,
	       (unsigned long long)t.tcp.connect_failed);
	CHECK(t.tcp.connected == 0 && hist_total(t.tcp.connlat_hist) == 0);
	CHECKF(t.tcp.resets_received == REFUSED, "resets received %llu",
	       (unsigned long long)t.tcp.resets_received);
	/* Kernels whose tcp_send_reset has a reason argument (6.10+) trace resets
	 * sent for no socket; older ones only resets from a full socket.
	 */
	CHECKF(t.tcp.resets_sent == REFUSED || (send_args < 3 && t.tcp.resets_sent == 0),
	       "resets sent %llu (tcp_send_reset has %d args)",
	       (unsigned long long)t.tcp.resets_sent, send_args);
	CHECKF(drops_named(&t, "NO_SOCKET") == REFUSED, "NO_SOCKET drops %llu",
	       (unsigned long long)drops_named(&t, "NO_SOCKET"));

	/* Volume: nothing lost, every event streamed or suppressed. */
	streamed = t.tcp.resets_received + t.tcp.resets_sent + all_drops(&t);
	CHECK(t.losses.events_lost == 0);
	CHECKF(nevents + t.losses.events_suppressed == streamed,
	       "%zu streamed + %llu suppressed != %llu", nevents,
	       (unsigned long long)t.losses.events_suppressed, (unsigned long long)streamed);
	if (o->rate) {
		/* One key per kind (the client's port is left out of it); the
		 * workload spans at most a few one-second windows.
		 */
		static const uint32_t kinds[] = { PA_NET_EV_RESET_RECEIVED, PA_NET_EV_RESET_SENT,
						  PA_NET_EV_DROP };

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
			size_t n = count_events(kinds[i], &held);

			CHECKF(n <= 3 * RATE && n + held <= REFUSED, "%zu %s events, %llu held",
			       n, net_event_kind_name(kinds[i]), (unsigned long long)held);
		}
		CHECK(count_events(PA_NET_EV_RESET_RECEIVED, NULL) >= 1);
		CHECK(t.losses.events_suppressed > 0);
	} else {
		CHECK(count_events(PA_NET_EV_RESET_RECEIVED, NULL) == REFUSED);
	}
	for (i = 0; i < nevents; i++) {
		const struct pa_net_event *e = &events[i];
		char name[64];

		CHECK(e->netns == run.c[0].netns && e->flow.family == family);
		CHECK(is_loopback(&e->flow, true) && is_loopback(&e->flow, false));
		if (e->kind == PA_NET_EV_RESET_RECEIVED) {
			CHECKF(e->flow.rport == w.port + 1 && e->state == 2 /* SYN_SENT */,
			       "rport %u state %u", e->flow.rport, e->state);
		} else if (e->kind == PA_NET_EV_DROP &&
			   !strcmp(net_drop_reason_name(e->reason, name, sizeof(name)), "NO_SOCKET")) {
			CHECKF(e->flow.lport == w.port + 1 && e->flow.protocol == IPPROTO_TCP,
			       "lport %u", e->flow.lport);
			CHECK(e->ifindex == 1);
		}
	}
	net_totals_free(&t);
}

static void t_refused_resets_and_drops_rate_limited(void)
{
	struct net_probe_opts o = { .stream = ~0U, .rate = RATE };

	refused(AF_INET, test_port(), &o, "ipv4");
}

static void t_refused_ipv6(void)
{
	struct net_probe_opts o = { .stream = ~0U };

	refused(AF_INET6, test_port(), &o, "ipv6");
}

static void t_refused_perf_buffer(void)
{
	struct net_probe_opts o = { .stream = ~0U, .perfbuf = true };

	refused(AF_INET, test_port(), &o, "perf buffer");
}

/* A server on a port inside the local port range (as when it binds port
 * 0): the rate limit still finds the client's end from the connection it
 * saw open, or from the SYN, and keeps one key per kind.
 */
static void t_rate_key_with_ephemeral_server_port(void)
{
	struct net_probe_opts o = { .stream = ~0U, .rate = RATE };
	unsigned int lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%u %u", &lo, &hi) != 2)
			lo = 32768, hi = 60999;
		fclose(f);
	}
	if (hi - lo < 4000)
		SKIP("local port range %u-%u too small", lo, hi);
	refused(AF_INET, (uint16_t)(lo + 1000 + (getpid() % 1000) * 2), &o, "ephemeral port");
}

/* No namespace filter, a port filter: only flows on that port count. */
static void t_port_filter(void)
{
	struct workload w = { .family = AF_INET, .port = test_port(), .connects = CONNECTS,
			      .refused = REFUSED };
	struct workload other = { .family = AF_INET, .port = test_port() + 2,
				  .connects = OTHER_CONNECTS };
	struct net_probe_opts o = { .port = w.port };
	uint64_t closes = 2 * CONNECTS;
	struct traced_run run = { .w = { &w, &other }, .own_netns = false,
				 .done = closed_all, .arg = &closes };
	struct net_totals t = { 0 };

	run_traced(&run, &o, &t);
	if (check_case_failed)
		return;
	CHECKF(t.tcp.connects == CONNECTS, "connects %llu", (unsigned long long)t.tcp.connects);
	CHECK(t.tcp.connected == CONNECTS && t.tcp.accepted == CONNECTS);
	CHECKF(t.tcp.closed == closes, "closed %llu", (unsigned long long)t.tcp.closed);
	CHECK(t.tcp.connect_failed == 0 && t.tcp.resets_received == 0);
	CHECK(drops_named(&t, "NO_SOCKET") == 0);	/* those went to port + 1 */
	net_totals_free(&t);
}

/* ---- names and formats ---- */

/* Drop reason names come from the running kernel's enum skb_drop_reason:
 * every enumerator reads back as its name without the prefix.
 */
static void t_drop_reason_names(void)
{
	struct btf_enum_table t, sub;
	char name[64], want[96];
	size_t i;

	if (btf_enum_load(&t, NULL, "skb_drop_reason"))
		SKIP("this kernel has no enum skb_drop_reason (before 5.17)");
	CHECK(t.n > 10);
	for (i = 0; i < t.n; i++) {
		const char *n = t.e[i].name;

		if (btf_enum_name(&t, t.e[i].value) != n)
			continue;	/* an alias of an earlier value */
		if (!strncmp(n, "SKB_DROP_REASON_SUBSYS_", 23))
			continue;	/* the subsystem mask, not a reason */
		snprintf(want, sizeof(want), "%s",
			 strncmp(n, "SKB_DROP_REASON_", 16) ? n : n + 16);
		net_drop_reason_name((uint32_t)t.e[i].value, name, sizeof(name));
		CHECKF(!strcmp(name, want), "%lld: '%s', want '%s'", (long long)t.e[i].value,
		       name, want);
	}
	CHECK_STREQ(net_drop_reason_name(60000, name, sizeof(name)), "reason 60000");
	if (btf_enum_load(&sub, NULL, "skb_drop_reason_subsys") == 0) {
		int64_t v;

		if (btf_enum_value(&sub, "SKB_DROP_REASON_SUBSYS_OPENVSWITCH", &v)) {
			net_drop_reason_name(((uint32_t)v << 16) | 3, name, sizeof(name));
			btf_enum_free(&sub);
			CHECK_STREQ(name, "OPENVSWITCH:3");
		} else {
			btf_enum_free(&sub);
		}
	}
	btf_enum_free(&t);
}

static void t_flow_formats(void)
{
	struct pa_net_flow f = { .family = AF_INET, .protocol = IPPROTO_TCP, .lport = 443,
				 .rport = 51000 };
	char buf[80];

	inet_pton(AF_INET, "10.1.2.3", f.laddr);
	inet_pton(AF_INET, "192.0.2.9", f.raddr);
	CHECK_STREQ(net_format_endpoint(&f, true, buf, sizeof(buf)), "10.1.2.3:443");
	CHECK_STREQ(net_format_endpoint(&f, false, buf, sizeof(buf)), "192.0.2.9:51000");
	f.family = AF_INET6;
	inet_pton(AF_INET6, "fd00::2", f.laddr);
	inet_pton(AF_INET6, "::ffff:192.0.2.9", f.raddr);
	CHECK_STREQ(net_format_endpoint(&f, true, buf, sizeof(buf)), "[fd00::2]:443");
	CHECK_STREQ(net_format_endpoint(&f, false, buf, sizeof(buf)), "192.0.2.9:51000");
	f.lport = 0;
	CHECK_STREQ(net_format_endpoint(&f, true, buf, sizeof(buf)), "fd00::2");
	f.family = 0;
	CHECK_STREQ(net_format_endpoint(&f, true, buf, sizeof(buf)), "-");
	CHECK_STREQ(net_tcp_state_name(1), "ESTABLISHED");
	CHECK_STREQ(net_tcp_state_name(2), "SYN_SENT");
	CHECK_STREQ(net_tcp_state_name(12), "NEW_SYN_RECV");
	CHECK_STREQ(net_tcp_state_name(99), "?");
	CHECK_STREQ(net_event_kind_name(PA_NET_EV_RESET_RECEIVED), "reset_received");
}

/* ---- the command line, as a user runs it ---- */

static FILE *start_cli(const char *agent, const char *nspath, pid_t *pid)
{
	int out[2];

	if (pipe(out))
		return NULL;
	*pid = fork();
	if (*pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		close(out[1]);
		execl(agent, agent, "trace", "net", "--netns", nspath, "-i", "200ms", "--json",
		      "-e", "all", (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	return fdopen(out[0], "r");
}

static cJSON *json_number_path(cJSON *o, const char *a, const char *b)
{
	cJSON *x = cJSON_GetObjectItem(o, a);

	return b && x ? cJSON_GetObjectItem(x, b) : x;
}

static void t_cli_json(void)
{
	struct workload w = { .family = AF_INET, .port = test_port(), .connects = CONNECTS,
			      .refused = REFUSED };
	const char *agent = getenv("PERFAGENT");
	cJSON *final = NULL, *o, *d;
	char *line = NULL;
	size_t cap = 0;
	int closed_events = 0, st;
	struct report r;
	struct child c;
	pid_t pid;
	char why[128];
	FILE *f;

	if (!agent)
		SKIP("PERFAGENT (path of the perfagent binary) is not set");
	if (!can_run())
		SKIP("needs root and BTF");
	if (spawn(&c, &w, why, sizeof(why)))
		SKIP("%s", why);
	f = start_cli(agent, c.nspath, &pid);
	if (!f) {
		dismiss(&c);
		CHECK(!"pipe");
	}
	/* The first interval object means the programs are attached. */
	if (getline(&line, &cap, f) <= 0 || !strstr(line, "\"type\":\"net\"")) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		dismiss(&c);
		fclose(f);
		free(line);
		CHECK(!"perfagent printed its first interval");
	}
	release(&c);
	r = finish(&c);
	usleep(300000);		/* the last ACKs of the closes */
	kill(pid, SIGINT);
	while (getline(&line, &cap, f) > 0) {
		o = cJSON_Parse(line);
		if (!o)
			continue;
		d = cJSON_GetObjectItem(o, "event");
		if (d && cJSON_IsString(d) && !strcmp(d->valuestring, "conn_closed"))
			closed_events++;
		if (cJSON_IsTrue(cJSON_GetObjectItem(o, "final"))) {
			cJSON_Delete(final);
			final = o;
		} else {
			cJSON_Delete(o);
		}
	}
	fclose(f);
	free(line);
	waitpid(pid, &st, 0);
	dismiss(&c);
	CHECKF(r.ok, "workload: %s", r.err);
	CHECKF(WIFEXITED(st) && WEXITSTATUS(st) == 0, "perfagent exit status %d", st);
	CHECK(final != NULL);
	o = json_number_path(final, "tcp", "connects");
	CHECKF(o && o->valuedouble == CONNECTS + REFUSED, "connects %g", o ? o->valuedouble : -1);
	o = json_number_path(final, "tcp", "connected");
	CHECK(o && o->valuedouble == CONNECTS);
	o = json_number_path(final, "tcp", "connect_samples");
	CHECK(o && o->valuedouble == CONNECTS);
	o = json_number_path(final, "tcp", "connect_p99_ns");
	CHECK(o && o->valuedouble > 0);
	o = json_number_path(final, "tcp", "resets_received");
	CHECK(o && o->valuedouble == REFUSED);
	CHECKF(closed_events >= 1 && closed_events <= 2 * CONNECTS, "%d conn_closed events",
	       closed_events);
	d = cJSON_GetObjectItem(final, "drops");
	CHECK(d && cJSON_IsArray(d));
	o = NULL;
	for (int i = 0; i < cJSON_GetArraySize(d); i++) {
		cJSON *x = cJSON_GetArrayItem(d, i), *n = cJSON_GetObjectItem(x, "reason");

		if (n && cJSON_IsString(n) && !strcmp(n->valuestring, "NO_SOCKET"))
			o = cJSON_GetObjectItem(x, "count");
	}
	CHECKF(o && o->valuedouble == REFUSED, "NO_SOCKET %g", o ? o->valuedouble : -1);
	cJSON_Delete(final);
}

/* run(ARGS) with stdout and stderr in out; returns the exit status. */
static int run_agent(const char *agent, const char *args, char *out, size_t len)
{
	char cmd[1024];
	FILE *f;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", agent, args);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	n = fread(out, 1, len - 1, f);
	out[n] = '\0';
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void t_cli_usage(void)
{
	static const struct {
		const char *args;
		int status;
		const char *says;
	} cases[] = {
		{ "trace net --help", 0, "--netns NS" },
		{ "trace --help", 0, "net " },
		{ "trace net -p 0", 2, "-p: '0' is not a number from 1 to 65535" },
		{ "trace net -p 70000", 2, "-p: '70000' is not a number from 1 to 65535" },
		{ "trace net -e retrans,bogus", 2, "-e: unknown event kind 'bogus'" },
		{ "trace net --rate -1", 2, "--rate: '-1' is not a number" },
		{ "trace net -i soon", 2, "-i: 'soon' is not a duration" },
		{ "trace net --netns no-such-netns-here", 2, "/run/netns/no-such-netns-here" },
		{ "trace net --frob", 2, "unknown option '--frob'" },
		{ "trace net extra", 2, "unexpected argument 'extra'" },
	};
	const char *agent = getenv("PERFAGENT");
	char out[8192];
	size_t i;
	int st;

	if (!agent)
		SKIP("PERFAGENT (path of the perfagent binary) is not set");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		st = run_agent(agent, cases[i].args, out, sizeof(out));
		CHECKF(st == cases[i].status && strstr(out, cases[i].says),
		       "'%s': exit %d (want %d), output: %.300s", cases[i].args, st,
		       cases[i].status, out);
	}
}

static void t_cli_not_root(void)
{
	const char *agent = getenv("PERFAGENT");
	char out[4096], args[512];
	int st;

	if (!agent)
		SKIP("PERFAGENT (path of the perfagent binary) is not set");
	if (access("/usr/bin/setpriv", X_OK))
		SKIP("setpriv (util-linux) is not installed");
	snprintf(args, sizeof(args), "--reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "
		 "--bounding-set=-all %s trace net -d 1", agent);
	st = run_agent("/usr/bin/setpriv", args, out, sizeof(out));
	CHECKF(st == 1 && strstr(out, "needs root"), "exit %d: %s", st, out);
}

int main(void)
{
	RUN(t_connects_counted_exactly);
	RUN(t_opened_before_attach);
	RUN(t_conn_table_full);
	RUN(t_conn_table_not_power_of_two);
	RUN(t_iface_matches_kernel_counters);
	RUN(t_same_ifindex_in_two_namespaces);
	RUN(t_refused_resets_and_drops_rate_limited);
	RUN(t_refused_ipv6);
	RUN(t_refused_perf_buffer);
	RUN(t_rate_key_with_ephemeral_server_port);
	RUN(t_port_filter);
	RUN(t_drop_reason_names);
	RUN(t_flow_formats);
	RUN(t_cli_json);
	RUN(t_cli_usage);
	RUN(t_cli_not_root);
	net_totals_free(&conn_run.t);
	CHECK_EXIT();
}
