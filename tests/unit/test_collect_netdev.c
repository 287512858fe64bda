// SPDX-License-Identifier: GPL-2.0
/* The netdev collector: exact rates, resets and bad lines, and real lo traffic. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "check.h"
#include "collect_test.h"

#define SEC 1000000000ULL

struct netdev_run {
	char dir[64];
	struct collector *c;
	struct capture cap;
	struct collect_sink sink;
};

static int run_snap(struct netdev_run *r, const char *snap, uint64_t interval_ns)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc-netdev/%s/proc", snap);
	cap_reset(&r->cap);
	relink(r->dir, "proc", fixture(rel));
	return collector_collect(r->c, interval_ns, &r->sink);
}

static void t_rates_exact_resets_and_bad_lines(void)
{
	struct netdev_run r = { 0 };
	const struct capture *cap = &r.cap;
	int errors;

	CHECK(scratch_make(r.dir, sizeof(r.dir)));
	r.c = open_collector("netdev", r.dir, "/nonexistent");
	r.sink = cap_sink(&r.cap);
	CHECK(r.c);
	CHECK(run_snap(&r, "t0", 0) == 0);
	CHECK(cap->n == 0);		/* first read: no rates */

	/* 2 s later */
	errors = run_snap(&r, "t1", 2 * SEC);
	CHECKF(errors == 1, "%d errors", errors);
	CHECK(cap_error(cap, "/proc/net/dev:6: expected \"name: 16 counters\", "
			"got \"  bad0: 1 2 3\"") >= 0);
	CHECK(cap_get(cap, "netdev.rx_bytes_per_s{interface=eth0}") == 1000);
	CHECK(cap_get(cap, "netdev.rx_packets_per_s{interface=eth0}") == 50);
	CHECK(cap_get(cap, "netdev.rx_errors_per_s{interface=eth0}") == 5);
	CHECK(cap_get(cap, "netdev.rx_dropped_per_s{interface=eth0}") == 2);
	CHECK(cap_get(cap, "netdev.tx_bytes_per_s{interface=eth0}") == 500);
	CHECK(cap_get(cap, "netdev.tx_packets_per_s{interface=eth0}") == 25);
	CHECK(cap_get(cap, "netdev.tx_errors_per_s{interface=eth0}") == 0);
	CHECK(cap_get(cap, "netdev.tx_dropped_per_s{interface=eth0}") == 3);
	CHECK(cap_get(cap, "netdev.rx_bytes_per_s{interface=lo}") == 200);
	CHECK(cap_count(cap, "netdev.rx_bytes_per_s{interface=veth1}") == 0);	/* new */
	CHECK(cap_count(cap, "netdev.rx_bytes_per_s{interface=gone0}") == 0);	/* gone */
	CHECK(cap->n == 2 * 8);

	/* 1 s later: eth0's counters went back (re-created): no rates for it */
	CHECK(run_snap(&r, "t2", SEC) == 0);
	CHECK(cap_count(cap, "netdev.rx_bytes_per_s{interface=eth0}") == 0);
	CHECK(cap_get(cap, "netdev.rx_bytes_per_s{interface=veth1}") == 300);
	CHECK(cap_get(cap, "netdev.rx_dropped_per_s{interface=veth1}") == 3);
	CHECK(cap_get(cap, "netdev.tx_errors_per_s{interface=veth1}") == 2);
	CHECK(cap_get(cap, "netdev.rx_bytes_per_s{interface=lo}") == 0);

	/* eth0 has a fresh baseline now: rates again from t2 */
	CHECK(run_snap(&r, "t2", SEC) == 0);
	CHECK(cap_get(cap, "netdev.rx_bytes_per_s{interface=eth0}") == 0);
	cap_reset(&r.cap);
	collector_close(r.c);
	scratch_remove(r.dir);
}

/* 200 datagrams of 100 bytes to ourselves over lo: lo's receive rate over
 * a (declared) 1 s interval is at least that, headers on top.
 */
static void t_real_loopback_traffic(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("netdev", NULL, NULL);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char payload[100] = "perfagent netdev test";
	int rx, tx, i, rcvbuf = 1 << 20;
	double pkts, bytes;

	CHECK(c);
	rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(rx >= 0 && tx >= 0);
	setsockopt(rx, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	CHECK(bind(rx, (struct sockaddr *)&a, sizeof(a)) == 0);
	CHECK(getsockname(rx, (struct sockaddr *)&a, &alen) == 0);
	CHECK(collector_collect(c, 0, &sink) == 0);
	for (i = 0; i < 200; i++)
		CHECK(sendto(tx, payload, sizeof(payload), 0, (struct sockaddr *)&a, sizeof(a)) ==
		      sizeof(payload));
	cap_reset(&cap);
	CHECK(collector_collect(c, SEC, &sink) == 0);
	close(rx);
	close(tx);
	pkts = cap_get(&cap, "netdev.rx_packets_per_s{interface=lo}");
	bytes = cap_get(&cap, "netdev.rx_bytes_per_s{interface=lo}");
	CHECKF(pkts >= 200, "lo rx packets %g after sending 200", pkts);
	CHECKF(bytes >= 200 * (100 + 28), "lo rx bytes %g after sending 200 x 100 bytes", bytes);
	CHECK(cap_get(&cap, "netdev.tx_packets_per_s{interface=lo}") >= 200);
	cap_reset(&cap);
	collector_close(c);
}

int main(void)
{
	RUN(t_rates_exact_resets_and_bad_lines);
	RUN(t_real_loopback_traffic);
	CHECK_EXIT();
}
