// SPDX-License-Identifier: GPL-2.0
/*
 * kill -9 at random moments: a child process writes all three streams as
 * fast as it can, with small files so that it rotates and compresses all the
 * time, and is killed and restarted over and over. After every kill, every
 * file must parse except at most the last line of a live file, and rotated
 * files must be whole (gzip complete to its trailer). At the end, after one
 * clean start: no partial line, no temp or uncompressed rotated file left,
 * and every sequence number from 1 is there exactly once or accounted for by
 * a gap record (one per repaired partial line at most), so nothing rotated
 * was lost. PERFAGENT_SEED=N replays a run.
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "logcheck.h"
#include "logwriter.h"

#define ROUNDS		40	/* at least */
#define MAX_ROUNDS	160	/* more until kills have cut enough lines in half */
#define WANT_PARTIAL	3

static char dir[64];
static uint64_t rng;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static struct logwriter_config config_for_round(int round)
{
	/* Small files rotate often; big ones make compression take long enough to be hit. */
	struct logwriter_config cfg = {
		.dir = dir,
		.host = "crash-test",
		.max_file_bytes = round % 2 ? 256 * 1024 : 8 * 1024,
		.compress = true,
	};
	return cfg;
}

#define BIG_PAD (128 * 1024)

/*
 * Mostly short lines, every 64th one 128 KiB; in one round out of four all
 * of them: long enough for write(2) to be cut by the kill half-way (the
 * kernel checks for it between pages), which leaves a partial last line.
 */
static void writer_child(int round)
{
	struct logwriter_config cfg = config_for_round(round);
	char *body = malloc(BIG_PAD + 128), *fill = malloc(BIG_PAD), err[256];
	struct logwriter *lw;
	unsigned long i;

	lw = logwriter_open(&cfg, err, sizeof(err));
	if (!lw || !body || !fill) {
		fprintf(stderr, "# child: %s\n", lw ? "out of memory" : err);
		_exit(3);
	}
	memset(fill, 'y', BIG_PAD);
	for (i = 0;; i++) {
		int pad = i % 64 == 63 || round % 4 == 3 ? BIG_PAD : (int)(next_rand() % 500);

		snprintf(body, BIG_PAD + 128, "{\"type\":\"test\",\"round\":%d,\"n\":%lu,\"pad\":\"%.*s\"}",
			 round, i, pad, fill);
		logwriter_write(lw, (enum log_stream)(i % 3), 0, body, strlen(body));
	}
}

static void sleep_us(uint64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / 1000000), .tv_nsec = (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* The state a kill leaves, before anything repairs it. */
static void check_after_kill(int round, int *partial)
{
	struct lc_scan s;
	int k;

	for (k = 0; k < LOG_STREAMS; k++) {
		const char *name = log_stream_name((enum log_stream)k);

		CHECK(lc_scan_stream(dir, name, &s) == 0);
		CHECKF(s.bad == 0 && s.bad_gz == 0 && s.partial_other == 0,
		       "round %d, %s: %zu bad lines (%s), %zu bad gzip files, %zu partial lines in rotated files",
		       round, name, s.bad, s.first_bad, s.bad_gz, s.partial_other);
		CHECK(s.partial_live <= 1);
		*partial += (int)s.partial_live;
		lc_free(&s);
	}
}

static void t_kill9_at_random_moments(void)
{
	struct logwriter_config cfg;
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char err[256], why[160];
	const char *seed_env = getenv("PERFAGENT_SEED");
	uint64_t seed, max;
	int round, k, status, started = 0, partial = 0;
	pid_t pid;

	seed = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
	rng = seed ? seed : 1;
	fprintf(stderr, "# PERFAGENT_SEED=%llu\n", (unsigned long long)seed);
	snprintf(dir, sizeof(dir), "/tmp/pa-crash-XXXXXX");
	CHECK(mkdtemp(dir));

	for (round = 0; round < MAX_ROUNDS && (round < ROUNDS || partial < WANT_PARTIAL); round++) {
		uint64_t wait_us = next_rand() % 40000;

		fflush(NULL);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0)
			writer_child(round);
		sleep_us(wait_us);
		kill(pid, SIGKILL);
		CHECK(waitpid(pid, &status, 0) == pid);
		/* Killed, or it could not even start (reported on stderr). */
		CHECKF(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 3),
		       "round %d: child status %#x", round, status);
		started++;
		check_after_kill(round, &partial);
		if (check_case_failed)
			return;
	}

	fprintf(stderr, "# %d kills, %d left a partial line\n", started, partial);
	/* The repair is what this test is about: it must have been exercised. */
	CHECKF(partial > 0, "no kill in %d rounds cut a line: try another PERFAGENT_SEED", started);

	/* One clean start: repairs, finishes the compressions, then stops. */
	cfg = config_for_round(0);
	lw = logwriter_open(&cfg, err, sizeof(err));
	CHECKF(lw, "%s", err);
	logwriter_drain(lw);
	for (k = 0; k < LOG_STREAMS; k++) {
		logwriter_get_stats(lw, (enum log_stream)k, &st);
		CHECK(st.compress_failures == 0);
	}
	logwriter_close(lw);

	for (k = 0; k < LOG_STREAMS; k++) {
		const char *name = log_stream_name((enum log_stream)k);

		CHECK(lc_scan_stream(dir, name, &s) == 0);
		CHECKF(s.bad == 0 && s.bad_gz == 0 && s.partial_live == 0 && s.partial_other == 0,
		       "%s: bad %zu (%s), bad gzip %zu, partial %zu+%zu", name, s.bad, s.first_bad,
		       s.bad_gz, s.partial_live, s.partial_other);
		CHECKF(s.tmp == 0 && s.rotated_plain == 0, "%s: %zu temp files, %zu uncompressed rotated",
		       name, s.tmp, s.rotated_plain);
		CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s: %s", name, why);
		/* Only repaired partial lines may leave holes: one per start at most. */
		CHECKF(s.ngaps <= (size_t)started + 1, "%s: %zu gap records for %d kills", name, s.ngaps,
		       started);
		CHECKF(s.gz > 0 && max > 1000, "%s: %zu rotated files, %llu lines: the writer barely ran",
		       name, s.gz, (unsigned long long)max);
		fprintf(stderr, "# %s: %llu lines, %zu rotated files, %zu repaired partial lines\n", name,
			(unsigned long long)max, s.gz, s.ngaps);
		lc_free(&s);
	}
}

int main(void)
{
	RUN(t_kill9_at_random_moments);
	if (dir[0])
		lc_rmtree(dir);
	CHECK_EXIT();
}
