// SPDX-License-Identifier: GPL-2.0
/* The psi collector: fixtures, PSI disabled, bad lines, and a real stall. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "collect_test.h"

#define SEC 1000000000ULL

/* t1 - t0 over 1 s: cpu some +250000 us, memory some +100000, full +50000. */
static void t_avg10_and_stall_ratios_exact(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c;
	char dir[64];

	CHECK(scratch_make(dir, sizeof(dir)));
	CHECK(relink(dir, "proc", fixture("proc-psi/t0/proc")) == 0);
	c = open_collector("psi", dir, "/nonexistent");
	CHECK(c);
	CHECK(collector_unavailable(c) == NULL);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(NEAR(cap_get(&cap, "psi.some_avg10_ratio{resource=cpu}"), 0.125));
	CHECK(NEAR(cap_get(&cap, "psi.full_avg10_ratio{resource=memory}"), 0.01));
	CHECK(cap_count(&cap, "psi.some_stall_ratio") == 0);
	cap_reset(&cap);

	CHECK(relink(dir, "proc", fixture("proc-psi/t1/proc")) == 0);
	CHECK(collector_collect(c, SEC, &sink) == 0);
	CHECK(NEAR(cap_get(&cap, "psi.some_avg10_ratio{resource=cpu}"), 0.20));
	CHECK(NEAR(cap_get(&cap, "psi.some_avg10_ratio{resource=memory}"), 0.0525));
	CHECK(NEAR(cap_get(&cap, "psi.full_avg10_ratio{resource=memory}"), 0.025));
	CHECK(NEAR(cap_get(&cap, "psi.some_stall_ratio{resource=cpu}"), 0.25));
	CHECK(NEAR(cap_get(&cap, "psi.full_stall_ratio{resource=cpu}"), 0));
	CHECK(NEAR(cap_get(&cap, "psi.some_stall_ratio{resource=memory}"), 0.10));
	CHECK(NEAR(cap_get(&cap, "psi.full_stall_ratio{resource=memory}"), 0.05));
	CHECK(NEAR(cap_get(&cap, "psi.some_stall_ratio{resource=io}"), 0));
	/* no irq file here: optional, so neither samples nor errors */
	CHECK(cap_count(&cap, "psi.some_stall_ratio{resource=irq}") == 0);
	CHECK(cap.nev == 0);
	cap_reset(&cap);
	collector_close(c);
	scratch_remove(dir);
}

static void t_disabled_is_not_available_not_an_error(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("psi", fixture("proc-psi-none"), "/nonexistent");
	const char *why;

	CHECK(c);
	why = collector_unavailable(c);
	CHECK(why && strstr(why, "proc-psi-none/proc/pressure does not exist"));
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap.n == 0 && cap.nerr == 0);
	CHECKF(cap.nev == 1, "%zu events", cap.nev);
	CHECK_STREQ(cap.ev[0].kind, "collector.unavailable");
	CHECK(cap.ev[0].severity == ALERT_INFO);
	CHECK(strstr(cap.ev[0].message, "psi: not available: "));
	CHECK_STREQ(cap.ev[0].labels, "collector=psi");
	cap_reset(&cap);
	/* said once, not every interval */
	CHECK(collector_collect(c, SEC, &sink) == 0);
	CHECK(cap.n == 0 && cap.nerr == 0 && cap.nev == 0);
	cap_reset(&cap);
	collector_close(c);
}

static void t_malformed_line(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("psi", fixture("proc-psi-bad"), "/nonexistent");
	int errors;

	CHECK(c);
	errors = collector_collect(c, 0, &sink);
	CHECKF(errors == 1, "%d errors", errors);
	CHECK(cap_error(&cap, "proc-psi-bad/proc/pressure/cpu:1: expected \"some|full "
			"avg10=N.NN ... total=N\", got \"some avg10=abc") >= 0);
	CHECK(!cap_has(&cap, "psi.some_avg10_ratio{resource=cpu}"));
	CHECK(NEAR(cap_get(&cap, "psi.full_avg10_ratio{resource=cpu}"), 0));
	CHECK(NEAR(cap_get(&cap, "psi.some_avg10_ratio{resource=memory}"), 0.015));
	cap_reset(&cap);
	collector_close(c);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* More spinning children than CPUs: some task always waits for a CPU. */
static void t_real_cpu_pressure_under_contention(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("psi", NULL, NULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	pid_t pids[64];
	double some;
	long i, n;

	CHECK(c);
	if (collector_unavailable(c)) {
		collector_close(c);
		SKIP("%s", "PSI is off on this kernel");
	}
	n = ncpu * 2 + 1 < 64 ? ncpu * 2 + 1 : 64;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			for (volatile unsigned long x = 0;; x++)
				;
	}
	sleep_ms(50);
	CHECK(collector_collect(c, 0, &sink) == 0);
	cap_reset(&cap);
	sleep_ms(300);
	CHECK(collector_collect(c, 300 * 1000000ULL, &sink) == 0);
	for (i = 0; i < n; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
	}
	some = cap_get(&cap, "psi.some_stall_ratio{resource=cpu}");
	CHECKF(some > 0.05 && some <= 1, "cpu some stall ratio %g with %ld spinners on %ld CPUs",
	       some, n, ncpu);
	CHECK(cap_get(&cap, "psi.some_avg10_ratio{resource=memory}") >= 0);
	cap_reset(&cap);
	collector_close(c);
}

int main(void)
{
	RUN(t_avg10_and_stall_ratios_exact);
	RUN(t_disabled_is_not_available_not_an_error);
	RUN(t_malformed_line);
	RUN(t_real_cpu_pressure_under_contention);
	CHECK_EXIT();
}
