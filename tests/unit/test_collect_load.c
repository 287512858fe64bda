// SPDX-License-Identifier: GPL-2.0
/* The load collector: a fixture with a known CPU list, a bad line, the host. */
#include "check.h"
#include "collect_test.h"

static void t_loadavg_exact(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("load", fixture("proc-load"), "/nonexistent");

	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(NEAR(cap_get(&cap, "load.avg1"), 1.5));
	CHECK(NEAR(cap_get(&cap, "load.avg5"), 0.75));
	CHECK(NEAR(cap_get(&cap, "load.avg15"), 0.25));
	CHECK(cap_get(&cap, "load.runnable") == 3);
	CHECK(cap_get(&cap, "load.tasks") == 456);
	/* online "0-2,4" is 4 CPUs */
	CHECKF(NEAR(cap_get(&cap, "load.avg1_per_cpu"), 0.375), "%g",
	       cap_get(&cap, "load.avg1_per_cpu"));
	CHECK(cap.n == 6);
	cap_reset(&cap);
	collector_close(c);
}

static void t_malformed_loadavg(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("load", fixture("proc-load-bad"), "/nonexistent");

	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 1);
	CHECK(cap_error(&cap, "proc-load-bad/proc/loadavg:1: expected \"avg1 avg5 avg15 "
			"runnable/tasks lastpid\", got \"1.50 zz 0.25 3/456 7890\"") >= 0);
	CHECK(cap.n == 0);
	cap_reset(&cap);
	collector_close(c);
}

static void t_real_host(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("load", NULL, NULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap_get(&cap, "load.avg1") >= 0);
	CHECK(cap_get(&cap, "load.tasks") >= 1);
	CHECK(cap_get(&cap, "load.runnable") >= 1);	/* this test itself */
	CHECKF(NEAR(cap_get(&cap, "load.avg1_per_cpu") * ncpu, cap_get(&cap, "load.avg1")),
	       "per cpu %g, %ld CPUs, avg1 %g", cap_get(&cap, "load.avg1_per_cpu"), ncpu,
	       cap_get(&cap, "load.avg1"));
	cap_reset(&cap);
	collector_close(c);
}

int main(void)
{
	RUN(t_loadavg_exact);
	RUN(t_malformed_loadavg);
	RUN(t_real_host);
	CHECK_EXIT();
}
