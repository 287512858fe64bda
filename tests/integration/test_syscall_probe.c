// SPDX-License-Identifier: GPL-2.0
/*
 * The syscall probe against workloads whose calls we know exactly: children
 * make N calls, the probe (loaded for real, filtered on the child) must count
 * N. Run as root; every kernel mechanism flavour is checked (task storage and
 * thread hash, ring buffer and perf buffer).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf_env.h"
#include "cgroup_test.h"
#include "check.h"
#include "hist.h"
#include "syscall.h"
#include "units.h"

#define GETPPID_CALLS	100000
#define SLEEPS		50
#define SLEEP_NS	(2 * NSEC_PER_MSEC)
#define FAILING_CALLS	1000
#define SLOW_CALLS	20

struct child {
	pid_t pid;
	int go;		/* write end: releases the child */
	int report;	/* read end: what the child measured */
};

typedef void (*workload_fn)(int report_fd);

/* Fork a child that waits for go before running fn, so the probe can be
 * loaded with the child's pid as filter before the first measured call. The
 * child says it is ready (its set-up calls done) before the probe loads.
 */
static struct child spawn(workload_fn fn)
{
	int go[2], rep[2];
	struct child c;
	char b;

	if (pipe(go) || pipe(rep))
		abort();
	c.pid = fork();
	if (c.pid == 0) {
		close(go[1]);
		close(rep[0]);
		if (write(rep[1], "r", 1) != 1 || read(go[0], &b, 1) != 1)
			_exit(1);
		fn(rep[1]);
		_exit(0);
	}
	close(go[0]);
	close(rep[1]);
	c.go = go[1];
	c.report = rep[0];
	if (read(c.report, &b, 1) != 1)
		abort();
	return c;
}

/* Release the child, wait for it; returns what it reported (or 0). */
static uint64_t run_child(struct child *c)
{
	uint64_t v = 0;
	int st;

	if (write(c->go, "g", 1) != 1)
		abort();
	if (read(c->report, &v, sizeof(v)) != sizeof(v))
		v = 0;
	waitpid(c->pid, &st, 0);
	close(c->go);
	close(c->report);
	return v;
}

static void report_u64(int fd, uint64_t v)
{
	if (write(fd, &v, sizeof(v)) != sizeof(v))
		_exit(2);
}

static void do_getppid(int fd)
{
	int i;

	for (i = 0; i < GETPPID_CALLS; i++)
		syscall(SYS_getppid);
	report_u64(fd, GETPPID_CALLS);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 50 nanosleeps of 2 ms; reports the median the child measured itself. */
static void do_sleeps(int fd)
{
	struct timespec req = { 0, SLEEP_NS };
	uint64_t lat[SLEEPS], t0;
	int i;

	for (i = 0; i < SLEEPS; i++) {
		t0 = now_ns();
		syscall(SYS_nanosleep, &req, NULL);
		lat[i] = now_ns() - t0;
	}
	qsort(lat, SLEEPS, sizeof(lat[0]), cmp_u64);
	report_u64(fd, lat[(SLEEPS + 1) / 2 - 1]);	/* nearest-rank p50 */
}

static void do_failing_closes(int fd)
{
	int i, failed = 0;

	for (i = 0; i < FAILING_CALLS; i++)
		if (syscall(SYS_close, -1) < 0)
			failed++;
	report_u64(fd, (uint64_t)failed);
}

/* SLOW_CALLS sleeps of 5 ms among many fast calls. */
static void do_slow_and_fast(int fd)
{
	struct timespec req = { 0, 5 * NSEC_PER_MSEC };
	int i, j;

	for (i = 0; i < SLOW_CALLS; i++) {
		for (j = 0; j < 1000; j++)
			syscall(SYS_getppid);
		syscall(SYS_nanosleep, &req, NULL);
	}
	report_u64(fd, SLOW_CALLS);
}

struct events {
	unsigned int n;		/* the child's nanosleeps, as streamed */
	unsigned int all;	/* every event received */
	unsigned int bad;	/* not the child's, or under the threshold */
	pid_t want_pid;
};

#define SLOW_NS (3 * NSEC_PER_MSEC)

/* Under CPU emulation even getppid can take milliseconds: any of the child's
 * calls may be slow. What must hold is that each slow call comes exactly
 * once (received == sent by the kernel) and nothing else comes at all.
 */
static void count_event(void *ctx, const struct pa_syscall_event *e)
{
	struct events *ev = ctx;

	ev->all++;
	if ((pid_t)e->pid != ev->want_pid || e->latency_ns < SLOW_NS)
		ev->bad++;
	else if (e->nr == SYS_nanosleep)
		ev->n++;
}

struct probe_run {
	struct syscall_probe *probe;
	struct syscall_totals *totals;
	struct syscall_losses losses;
	struct events ev;
};

static int open_probe(struct probe_run *r, struct syscall_probe_opts *o)
{
	char err[512];

	memset(r, 0, sizeof(*r));
	r->ev.want_pid = (pid_t)o->pid;
	r->totals = calloc(PA_SYSCALL_MAX, sizeof(*r->totals));
	if (syscall_probe_open(&r->probe, o, count_event, &r->ev, err, sizeof(err))) {
		fprintf(stderr, "# %s\n", err);
		return -1;
	}
	return 0;
}

static int read_probe(struct probe_run *r)
{
	while (syscall_probe_poll(r->probe, 100) > 0)
		;
	return syscall_probe_read(r->probe, r->totals, &r->losses);
}

static void close_probe(struct probe_run *r)
{
	syscall_probe_close(r->probe);
	free(r->totals);
}

/* Count N getppid calls of one child, under a pid filter, while a second
 * child makes as many getppid calls at the same time.
 */
static void check_exact_count(bool perfbuf, bool tid_hash)
{
	struct child c = spawn(do_getppid), noise = spawn(do_getppid);
	struct syscall_probe_opts o = { .pid = c.pid, .perfbuf = perfbuf, .tid_hash = tid_hash };
	struct probe_run r;
	uint64_t made, got, hist;

	if (open_probe(&r, &o)) {
		run_child(&c);
		run_child(&noise);
		CHECK(!"probe loads");
	}
	if (write(noise.go, "g", 1) != 1)
		abort();
	made = run_child(&c);
	if (read(noise.report, &got, sizeof(got)) != sizeof(got))
		abort();
	waitpid(noise.pid, NULL, 0);
	close(noise.go);
	close(noise.report);
	if (read_probe(&r)) {
		close_probe(&r);
		CHECK(!"probe reads");
	}
	got = r.totals[SYS_getppid].count;
	hist = hist_total(r.totals[SYS_getppid].hist);
	close_probe(&r);
	CHECKF(made == GETPPID_CALLS, "child made %llu", (unsigned long long)made);
	CHECKF(got == GETPPID_CALLS, "counted %llu getppid; the traced child made %d, the "
	       "other child as many", (unsigned long long)got, GETPPID_CALLS);
	CHECKF(hist == GETPPID_CALLS, "histogram holds %llu samples", (unsigned long long)hist);
}

static void t_exact_count_task_storage_ringbuf(void) { check_exact_count(false, false); }
static void t_exact_count_thread_hash(void) { check_exact_count(false, true); }
static void t_exact_count_perfbuf(void) { check_exact_count(true, false); }

static void check_sleep_p50(bool perfbuf, bool tid_hash)
{
	if (getenv("PERFAGENT_TIMING_UNRELIABLE"))
		SKIP("timing under CPU emulation is too noisy for a 5 %% bound");

	struct child c = spawn(do_sleeps);
	struct syscall_probe_opts o = { .pid = c.pid, .perfbuf = perfbuf, .tid_hash = tid_hash };
	struct probe_run r;
	uint64_t child_p50, p50, n;
	double err;

	if (open_probe(&r, &o)) {
		run_child(&c);
		CHECK(!"probe loads");
	}
	child_p50 = run_child(&c);
	read_probe(&r);
	n = r.totals[SYS_nanosleep].count;
	p50 = hist_percentile(r.totals[SYS_nanosleep].hist, 0.5, r.totals[SYS_nanosleep].max_ns);
	close_probe(&r);
	err = fabs((double)p50 - (double)child_p50) / (double)child_p50;
	CHECKF(n == SLEEPS, "counted %llu nanosleeps, made %d", (unsigned long long)n, SLEEPS);
	CHECKF(err <= 0.05, "p50 %llu ns vs child's own %llu ns: %.2f %% off",
	       (unsigned long long)p50, (unsigned long long)child_p50, err * 100);
}

static void t_sleep_p50_within_5pct(void) { check_sleep_p50(false, false); }
static void t_sleep_p50_within_5pct_fallbacks(void) { check_sleep_p50(true, true); }

static void t_failing_calls_are_errors(void)
{
	struct child c = spawn(do_failing_closes);
	struct syscall_probe_opts o = { .pid = c.pid };
	struct probe_run r;
	uint64_t failed, count, errors, ppid_errors;

	if (open_probe(&r, &o)) {
		run_child(&c);
		CHECK(!"probe loads");
	}
	failed = run_child(&c);
	read_probe(&r);
	count = r.totals[SYS_close].count;
	errors = r.totals[SYS_close].errors;
	ppid_errors = r.totals[SYS_write].errors;
	close_probe(&r);
	CHECKF(failed == FAILING_CALLS, "child saw %llu failures", (unsigned long long)failed);
	CHECKF(count == FAILING_CALLS && errors == FAILING_CALLS,
	       "close: %llu calls, %llu errors; made %d failing", (unsigned long long)count,
	       (unsigned long long)errors, FAILING_CALLS);
	CHECK(ppid_errors == 0);
}

static void check_slow_stream(bool perfbuf)
{
	struct child c = spawn(do_slow_and_fast);
	struct syscall_probe_opts o = { .pid = c.pid, .slow_ns = SLOW_NS, .perfbuf = perfbuf };
	struct probe_run r;

	if (open_probe(&r, &o)) {
		run_child(&c);
		CHECK(!"probe loads");
	}
	run_child(&c);
	read_probe(&r);
	close_probe(&r);
	CHECKF(r.ev.n == SLOW_CALLS && r.ev.bad == 0,
	       "%u slow nanosleep events for the child's %d sleeps, %u unexpected; %llu "
	       "nanosleeps counted, %llu starts lost", r.ev.n, SLOW_CALLS, r.ev.bad,
	       (unsigned long long)r.totals[SYS_nanosleep].count,
	       (unsigned long long)r.losses.start_lost);
	CHECKF(r.ev.all == r.losses.events_sent && r.losses.events_lost == 0,
	       "received %u events, the kernel sent %llu and lost %llu", r.ev.all,
	       (unsigned long long)r.losses.events_sent,
	       (unsigned long long)r.losses.events_lost);
}

static void t_slow_calls_stream_once_ringbuf(void) { check_slow_stream(false); }
static void t_slow_calls_stream_once_perfbuf(void) { check_slow_stream(true); }

static void do_named_getppid(int fd)
{
	prctl(PR_SET_NAME, "pa_comm_match");
	do_getppid(fd);
}

static void do_other_getppid(int fd)
{
	prctl(PR_SET_NAME, "pa_comm_other");
	do_getppid(fd);
}

static void t_comm_filter_excludes_others(void)
{
	struct child a = spawn(do_named_getppid), b = spawn(do_other_getppid);
	struct syscall_probe_opts o = { .comm = "pa_comm_match" };
	struct probe_run r;
	uint64_t got;

	if (open_probe(&r, &o)) {
		run_child(&a);
		run_child(&b);
		CHECK(!"probe loads");
	}
	run_child(&b);
	run_child(&a);
	read_probe(&r);
	got = r.totals[SYS_getppid].count;
	close_probe(&r);
	CHECKF(got == GETPPID_CALLS, "comm filter counted %llu getppid, the matching child "
	       "made %d and the other %d", (unsigned long long)got, GETPPID_CALLS, GETPPID_CALLS);
}

static void t_cgroup_filter_excludes_others(void)
{
	char root[256], dir[512];
	struct child a, b;
	struct syscall_probe_opts o = { 0 };
	struct probe_run r;
	uint64_t got = 0;
	int ok;

	if (cgroup2_root(root, sizeof(root)))
		SKIP("no cgroup v2 hierarchy mounted");
	snprintf(dir, sizeof(dir), "%s/perfagent-test-%d", root, getpid());
	if (mkdir(dir, 0755))
		SKIP("cannot create %s: %s", dir, strerror(errno));
	a = spawn(do_getppid);
	b = spawn(do_getppid);
	o.cgroup = dir;
	ok = move_to_cgroup(dir, a.pid) == 0 && open_probe(&r, &o) == 0;
	run_child(&b);
	run_child(&a);
	if (ok) {
		read_probe(&r);
		got = r.totals[SYS_getppid].count;
		close_probe(&r);
	}
	rmdir(dir);
	CHECK(ok);
	CHECKF(got == GETPPID_CALLS, "cgroup filter counted %llu getppid; the child inside "
	       "made %d, the one outside %d", (unsigned long long)got, GETPPID_CALLS,
	       GETPPID_CALLS);
}

int main(void)
{
	char err[512];

	env_setup_libbpf(getenv("PERFAGENT_VERBOSE") != NULL);
	if (env_check_privileges(err, sizeof(err)) || env_check_btf(err, sizeof(err))) {
		printf("skip - syscall_probe (%s)\n", err);
		return 0;
	}
	RUN(t_exact_count_task_storage_ringbuf);
	RUN(t_exact_count_thread_hash);
	RUN(t_exact_count_perfbuf);
	RUN(t_sleep_p50_within_5pct);
	RUN(t_sleep_p50_within_5pct_fallbacks);
	RUN(t_failing_calls_are_errors);
	RUN(t_slow_calls_stream_once_ringbuf);
	RUN(t_slow_calls_stream_once_perfbuf);
	RUN(t_comm_filter_excludes_others);
	RUN(t_cgroup_filter_excludes_others);
	CHECK_EXIT();
}
