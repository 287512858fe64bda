// SPDX-License-Identifier: GPL-2.0
/* The cpu collector: exact shares from fixture snapshots, and a real run. */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"
#include "collect_test.h"

#define MS 1000000ULL

/* A root whose proc/ is a symlink we can point at one snapshot or another. */
struct snap_root {
	char dir[64];
	struct collector *c;
	struct capture cap;
	struct collect_sink sink;
};

static int snap_open(struct snap_root *r)
{
	memset(r, 0, sizeof(*r));
	if (!scratch_make(r->dir, sizeof(r->dir)))
		return -1;
	r->c = open_collector("cpu", r->dir, r->dir);
	r->sink = cap_sink(&r->cap);
	return r->c ? 0 : -1;
}

/* Collect the snapshot tests/fixtures/proc-cpu/<snap> after interval_ns. */
static int snap_collect(struct snap_root *r, const char *snap, uint64_t interval_ns)
{
	char target[PATH_MAX];
	int n = snprintf(target, sizeof(target), "%s/%s/proc", fixture("proc-cpu"), snap);

	if (n < 0 || n >= (int)sizeof(target))
		return -1;
	cap_reset(&r->cap);
	relink(r->dir, "proc", target);
	return collector_collect(r->c, interval_ns, &r->sink);
}

static void snap_close(struct snap_root *r)
{
	collector_close(r->c);
	cap_reset(&r->cap);
	scratch_remove(r->dir);
}

static void t_first_read_has_no_shares(void)
{
	struct snap_root r;
	int errors;

	CHECK(snap_open(&r) == 0);
	errors = snap_collect(&r, "t0", 0);
	CHECKF(errors == 0, "%d errors", errors);
	CHECK(!cap_has(&r.cap, "cpu.busy_ratio{cpu=total}"));
	CHECK(!cap_has(&r.cap, "cpu.context_switches_per_s"));
	CHECK(cap_get(&r.cap, "cpu.count") == 2);
	CHECK(cap_get(&r.cap, "cpu.procs_running") == 3);
	CHECK(cap_get(&r.cap, "cpu.procs_blocked") == 1);
	snap_close(&r);
}

/* t1 - t0: total 1000 ticks = user 300, system 100, idle 500, iowait 50,
 * irq 10, softirq 20, steal 20 (+100 guest, already inside user).
 */
static void t_total_shares_exact(void)
{
	struct snap_root r;
	const struct capture *cap = &r.cap;

	CHECK(snap_open(&r) == 0);
	snap_collect(&r, "t0", 0);
	CHECK(snap_collect(&r, "t1", 500 * MS) == 0);
	CHECKF(NEAR(cap_get(cap, "cpu.busy_ratio{cpu=total}"), 0.45), "busy %g",
	       cap_get(cap, "cpu.busy_ratio{cpu=total}"));
	CHECK(NEAR(cap_get(cap, "cpu.user_ratio{cpu=total}"), 0.30));
	CHECK(NEAR(cap_get(cap, "cpu.nice_ratio{cpu=total}"), 0.0));
	CHECK(NEAR(cap_get(cap, "cpu.system_ratio{cpu=total}"), 0.10));
	CHECK(NEAR(cap_get(cap, "cpu.idle_ratio{cpu=total}"), 0.50));
	CHECK(NEAR(cap_get(cap, "cpu.iowait_ratio{cpu=total}"), 0.05));
	CHECK(NEAR(cap_get(cap, "cpu.irq_ratio{cpu=total}"), 0.01));
	CHECK(NEAR(cap_get(cap, "cpu.softirq_ratio{cpu=total}"), 0.02));
	CHECK(NEAR(cap_get(cap, "cpu.steal_ratio{cpu=total}"), 0.02));
	/* 2500 switches and 50 forks in 0.5 s */
	CHECK(NEAR(cap_get(cap, "cpu.context_switches_per_s"), 5000));
	CHECK(NEAR(cap_get(cap, "cpu.forks_per_s"), 100));
	CHECK(cap_get(cap, "cpu.procs_running") == 7);
	snap_close(&r);
}

/* cpu0: 500 ticks, idle 200, iowait 40, steal 5; cpu1: idle 300, iowait 10,
 * steal 15. Per core only busy, iowait and steal are emitted.
 */
static void t_per_core_shares_exact(void)
{
	struct snap_root r;
	const struct capture *cap = &r.cap;

	CHECK(snap_open(&r) == 0);
	snap_collect(&r, "t0", 0);
	snap_collect(&r, "t1", 500 * MS);
	CHECK(NEAR(cap_get(cap, "cpu.busy_ratio{cpu=0}"), 0.52));
	CHECK(NEAR(cap_get(cap, "cpu.iowait_ratio{cpu=0}"), 0.08));
	CHECK(NEAR(cap_get(cap, "cpu.steal_ratio{cpu=0}"), 0.01));
	CHECK(NEAR(cap_get(cap, "cpu.busy_ratio{cpu=1}"), 0.38));
	CHECK(NEAR(cap_get(cap, "cpu.iowait_ratio{cpu=1}"), 0.02));
	CHECK(NEAR(cap_get(cap, "cpu.steal_ratio{cpu=1}"), 0.03));
	CHECK(!cap_has(cap, "cpu.user_ratio{cpu=0}"));
	/* 9 shares for the total, 3 for each of the 2 cores */
	CHECKF(cap_count(cap, "cpu.") - 5 == 9 + 2 * 3, "%zu cpu samples", cap_count(cap, "cpu."));
	snap_close(&r);
}

/*
 * t2 has a bad cpu1 line and a bad ctxt line: both reported by file and
 * line, the rest still read. t3 is good again: cpu1's shares then cover
 * t1..t3 (its last good read), and the context switch rate the time since
 * t1's read, not only the last interval.
 */
static void t_malformed_lines_reported_rest_kept(void)
{
	struct snap_root r;
	const struct capture *cap = &r.cap;
	char path[128];
	int errors;

	CHECK(snap_open(&r) == 0);
	snap_collect(&r, "t0", 0);
	snap_collect(&r, "t1", 500 * MS);
	errors = snap_collect(&r, "t2-bad", 500 * MS);
	CHECKF(errors == 2, "%d errors", errors);
	CHECK(cap_error(cap, "proc/stat:3: cpu1: expected at least 8 tick counts, got 1") >= 0);
	CHECK(cap_error(cap, "proc/stat:5: ctxt: expected a number") >= 0);
	snprintf(path, sizeof(path), "%s/proc/stat:3: ", r.dir);	/* the path read, whole */
	CHECK(cap_error(cap, path) >= 0);
	CHECK(NEAR(cap_get(cap, "cpu.busy_ratio{cpu=total}"), 1.0));
	CHECK(NEAR(cap_get(cap, "cpu.busy_ratio{cpu=0}"), 1.0));
	CHECK(!cap_has(cap, "cpu.busy_ratio{cpu=1}"));
	CHECK(!cap_has(cap, "cpu.context_switches_per_s"));
	CHECK(NEAR(cap_get(cap, "cpu.forks_per_s"), 20));	/* 10 in 0.5 s */

	CHECK(snap_collect(&r, "t3", 500 * MS) == 0);
	/* cpu1 t3 - t1: idle 200, iowait 50, steal 50 of 300 */
	CHECK(NEAR(cap_get(cap, "cpu.busy_ratio{cpu=1}"), 50.0 / 300));
	CHECK(NEAR(cap_get(cap, "cpu.iowait_ratio{cpu=1}"), 50.0 / 300));
	CHECK(NEAR(cap_get(cap, "cpu.steal_ratio{cpu=1}"), 50.0 / 300));
	/* 500 switches since t1, one second ago */
	CHECKF(NEAR(cap_get(cap, "cpu.context_switches_per_s"), 500),
	       "%g", cap_get(cap, "cpu.context_switches_per_s"));
	snap_close(&r);
}

static void t_missing_file_is_an_error(void)
{
	struct snap_root r;
	int errors;

	CHECK(snap_open(&r) == 0);
	errors = collector_collect(r.c, 0, &r.sink);
	CHECK(errors == 1);
	CHECK(cap_error(&r.cap, "/proc/stat: cannot read: No such file or directory") >= 0);
	CHECK(r.cap.n == 0);
	snap_close(&r);
}

static void spin_until_killed(void)
{
	volatile unsigned long x = 0;

	for (;;)
		x++;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One child spinning on a core for 200 ms: the machine's busy share is at
 * least a good part of one core's share, whatever else runs.
 */
static void t_real_run_sees_a_spinning_child(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("cpu", NULL, NULL);
	double busy, ncpus, sum = 0;
	const char *parts[] = { "user", "nice", "system", "irq", "softirq", "iowait", "steal",
				"idle" };
	char key[64];
	size_t i;
	pid_t pid;

	CHECK(c);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		spin_until_killed();
	sleep_ms(20);		/* let it get going */
	CHECK(collector_collect(c, 0, &sink) == 0);
	ncpus = cap_get(&cap, "cpu.count");
	cap_reset(&cap);
	sleep_ms(200);
	CHECK(collector_collect(c, 200 * MS, &sink) == 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	busy = cap_get(&cap, "cpu.busy_ratio{cpu=total}");
	CHECKF(ncpus >= 1, "cpu.count %g", ncpus);
	CHECKF(busy >= 0.4 / ncpus && busy <= 1.0, "busy %g with %g CPUs", busy, ncpus);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		snprintf(key, sizeof(key), "cpu.%s_ratio{cpu=total}", parts[i]);
		CHECKF(cap_get(&cap, key) >= 0 && cap_get(&cap, key) <= 1, "%s = %g", key,
		       cap_get(&cap, key));
		sum += cap_get(&cap, key);
	}
	CHECKF(NEAR(sum, 1.0), "shares add up to %g", sum);
	CHECK(cap_get(&cap, "cpu.context_switches_per_s") > 0);
	cap_reset(&cap);
	collector_close(c);
}

int main(void)
{
	RUN(t_first_read_has_no_shares);
	RUN(t_total_shares_exact);
	RUN(t_per_core_shares_exact);
	RUN(t_malformed_lines_reported_rest_kept);
	RUN(t_missing_file_is_an_error);
	RUN(t_real_run_sees_a_spinning_child);
	CHECK_EXIT();
}
