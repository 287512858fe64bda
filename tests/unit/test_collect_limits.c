// SPDX-License-Identifier: GPL-2.0
/* The limits collector: fixtures, bad files, and real files and threads. */
#include <pthread.h>
#include <sys/resource.h>

#include "check.h"
#include "collect_test.h"

static void t_limits_exact(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("limits", fixture("proc-limits"), "/nonexistent");

	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap_get(&cap, "limits.open_files") == 2048);
	CHECK(cap_get(&cap, "limits.open_files_max") == 100000);
	CHECK(NEAR(cap_get(&cap, "limits.open_files_ratio"), 0.02048));
	CHECK(cap_get(&cap, "limits.processes") == 3);	/* 1, 42, 4000; not self */
	CHECK(cap_get(&cap, "limits.threads") == 256);
	CHECK(cap_get(&cap, "limits.threads_max") == 1000);
	CHECK(NEAR(cap_get(&cap, "limits.threads_ratio"), 0.256));
	CHECK(cap_get(&cap, "limits.pid_max") == 4096);
	CHECK(NEAR(cap_get(&cap, "limits.pids_ratio"), 0.0625));
	cap_reset(&cap);
	collector_close(c);
}

static void t_malformed_files(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("limits", fixture("proc-limits-bad"), "/nonexistent");
	int errors;

	CHECK(c);
	errors = collector_collect(c, 0, &sink);
	CHECKF(errors == 2, "%d errors", errors);
	CHECK(cap_error(&cap, "proc-limits-bad/proc/sys/fs/file-nr:1: expected \"allocated "
			"unused max\", got \"garbage\"") >= 0);
	CHECK(cap_error(&cap, "proc-limits-bad/proc/sys/kernel/pid_max:1: expected a number, "
			"got \"12abc\"") >= 0);
	CHECK(!cap_has(&cap, "limits.open_files"));
	CHECK(!cap_has(&cap, "limits.pids_ratio"));
	CHECK(cap_get(&cap, "limits.threads") == 256);
	CHECK(NEAR(cap_get(&cap, "limits.threads_ratio"), 0.256));
	cap_reset(&cap);
	collector_close(c);
}

#define NFILES 3000
#define NTHREADS 100

static pthread_barrier_t hold;

static void *parked(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&hold);	/* until the test has looked */
	return NULL;
}

static int collect_limits(struct collector *c, struct capture *cap)
{
	struct collect_sink sink = cap_sink(cap);

	cap_reset(cap);
	return collector_collect(c, 0, &sink);
}

/*
 * Open 3000 files and start 100 threads: the system-wide counts move by
 * about that much (other processes on the machine add some noise, and the
 * kernel's file count is a per-CPU approximation).
 */
static void t_real_files_and_threads_counted(void)
{
	struct collector *c = open_collector("limits", NULL, NULL);
	struct capture cap = { 0 };
	double files0, threads0, files1, threads1;
	static int fds[NFILES];
	pthread_t th[NTHREADS];
	struct rlimit rl;
	int i, nfd = 0;

	CHECK(c);
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	if (rl.rlim_cur < NFILES + 100) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < NFILES + 100) {
			collector_close(c);
			SKIP("RLIMIT_NOFILE %llu is below %d", (unsigned long long)rl.rlim_cur,
			     NFILES + 100);
		}
	}
	CHECK(collect_limits(c, &cap) == 0);
	files0 = cap_get(&cap, "limits.open_files");
	threads0 = cap_get(&cap, "limits.threads");
	CHECK(cap_get(&cap, "limits.processes") >= 1);
	for (nfd = 0; nfd < NFILES; nfd++) {
		fds[nfd] = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fds[nfd] < 0)
			break;
	}
	pthread_barrier_init(&hold, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, parked, NULL);
	collect_limits(c, &cap);
	files1 = cap_get(&cap, "limits.open_files");
	threads1 = cap_get(&cap, "limits.threads");
	pthread_barrier_wait(&hold);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&hold);
	while (nfd > 0)
		close(fds[--nfd]);
	CHECKF(files1 - files0 > NFILES - 600 && files1 - files0 < NFILES + 600,
	       "open files %g -> %g after opening %d", files0, files1, NFILES);
	CHECKF(threads1 - threads0 > NTHREADS - 50 && threads1 - threads0 < NTHREADS + 50,
	       "threads %g -> %g after starting %d", threads0, threads1, NTHREADS);
	CHECK(cap_get(&cap, "limits.pids_ratio") > 0 && cap_get(&cap, "limits.pids_ratio") < 1);
	CHECK(cap_get(&cap, "limits.threads_ratio") > 0);
	cap_reset(&cap);
	collector_close(c);
}

int main(void)
{
	RUN(t_limits_exact);
	RUN(t_malformed_files);
	RUN(t_real_files_and_threads_counted);
	CHECK_EXIT();
}
