// SPDX-License-Identifier: GPL-2.0
/*
 * The log writer: envelope and sequence numbers, rotation (size, day, on
 * request) under a steady rate with compression running, recovery after a
 * crash (partial line, interrupted compression, lost live file), retention,
 * reopen after an external logrotate, and a full disk (a 64 KiB tmpfs in a
 * private mount namespace, so nothing is left mounted whatever happens).
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "logcheck.h"
#include "log_compress.h"
#include "log_rotate.h"
#include "logwriter.h"
#include "units.h"

static char dir[64];

static void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pa-logw-XXXXXX");
	if (!mkdtemp(dir))
		dir[0] = '\0';
}

static struct logwriter *open_lw(const struct logwriter_config *base)
{
	struct logwriter_config cfg = *base;
	char err[256];
	struct logwriter *lw;

	cfg.dir = dir;
	if (!cfg.host)
		cfg.host = "test-host";
	lw = logwriter_open(&cfg, err, sizeof(err));
	if (!lw)
		fprintf(stderr, "# logwriter_open: %s\n", err);
	return lw;
}

/* A record the audit can identify: n = index of the write, t = writer. */
static int put(struct logwriter *lw, enum log_stream s, long t, long n, size_t pad)
{
	char body[4096], fill[2048];

	if (pad >= sizeof(fill))
		pad = sizeof(fill) - 1;
	memset(fill, 'x', pad);
	fill[pad] = '\0';
	snprintf(body, sizeof(body), "{\"type\":\"test\",\"t\":%ld,\"n\":%ld,\"pad\":\"%s\"}", t, n, fill);
	return logwriter_write(lw, s, 0, body, strlen(body));
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

static int append_text(const char *name, const char *text)
{
	char path[256];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return -1;
	ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok ? 0 : -1;
}

static int count_rotated(const char *stream, bool compressed)
{
	struct rotated_list l;
	int fd = open(dir, O_RDONLY | O_DIRECTORY), n = 0;
	size_t i;

	if (fd < 0 || rotated_list(fd, stream, &l)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (i = 0; i < l.n; i++)
		n += !l.v[i].tmp && l.v[i].compressed == compressed;
	rotated_list_free(&l);
	close(fd);
	return n;
}

static void t_envelope_and_members(void)
{
	struct logwriter_config cfg = { .host = "web\"1" };
	struct logwriter *lw;
	char path[256], *text, *line2;
	const char *want;
	cJSON *o;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	CHECK(logwriter_write(lw, LOG_METRICS, 1795315044103045000ULL, "{\"a\":1}", 7) == 0);
	CHECK(logwriter_write(lw, LOG_METRICS, 0, " {} ", 4) == 0);
	CHECK(logwriter_write(lw, LOG_ALERTS, 0, "{\"s\":\"x\\\"y\"}", 12) == 0);
	logwriter_close(lw);

	snprintf(path, sizeof(path), "%s/metrics.jsonl", dir);
	text = read_text(path);
	CHECK(text);
	want = "{\"ts\":\"2026-11-22T02:37:24.103045Z\",\"seq\":1,\"host\":\"web\\\"1\","
	       "\"kind\":\"metrics\",\"a\":1}\n";
	CHECKF(strncmp(text, want, strlen(want)) == 0, "got %s", text);
	line2 = strchr(text, '\n') + 1;
	o = cJSON_Parse(line2);
	CHECKF(o && cJSON_GetArraySize(o) == 4, "second line: %s", line2);
	CHECK(cJSON_GetObjectItem(o, "seq")->valuedouble == 2);
	cJSON_Delete(o);
	free(text);
	/* Each stream numbers its own lines. */
	snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
	text = read_text(path);
	CHECK(text && strstr(text, "\"seq\":1,") &&
	      strstr(text, "\"kind\":\"alerts\",\"s\":\"x\\\"y\"}\n"));
	free(text);
}

static void t_rejects_what_is_not_one_object(void)
{
	static const char *const bad[] = { "", "[1]", "{", "{\"a\":\n1}", "x{}", "\"s\"" };
	struct logwriter_config cfg = { 0 };
	struct logwriter_stats st;
	struct logwriter *lw;
	size_t i;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECKF(logwriter_write(lw, LOG_EVENTS, 0, bad[i], strlen(bad[i])) == -EINVAL, "%s", bad[i]);
	logwriter_get_stats(lw, LOG_EVENTS, &st);
	CHECK(st.lines_written == 0 && st.lines_dropped == 0 && st.next_seq == 1);
	logwriter_close(lw);
}

static void t_seq_continues_across_restart(void)
{
	struct logwriter_config cfg = { 0 };
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;
	int i, round;

	fresh_dir();
	for (round = 0; round < 3; round++) {
		lw = open_lw(&cfg);
		CHECK(lw);
		for (i = 0; i < 5; i++)
			CHECK(put(lw, LOG_EVENTS, 0, round * 5 + i, 10) == 0);
		logwriter_get_stats(lw, LOG_EVENTS, &st);
		CHECKF(st.next_seq == (uint64_t)(round + 1) * 5 + 1, "next %llu",
		       (unsigned long long)st.next_seq);
		logwriter_close(lw);
	}
	CHECK(lc_scan_stream(dir, "events", &s) == 0);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	CHECK(max == 15 && s.nlines == 15 && s.bad == 0 && s.partial_live == 0);
	for (i = 0; i < 15; i++)
		CHECK(s.lines[i].n == i);
	lc_free(&s);
}

/*
 * The rotation test: a steady stream of lines into small files with
 * the compression thread working concurrently; afterwards every line is
 * found exactly once across the live and the decompressed rotated files.
 */
static void t_rotation_at_high_rate_loses_nothing(void)
{
	struct logwriter_config cfg = { .max_file_bytes = 16 * 1024, .compress = true };
	const long lines = 20000;
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;
	char *seen;
	long i;
	int k;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < lines; i++)
		CHECK(put(lw, (enum log_stream)(i % 3), 0, i, (size_t)(i * 7919 % 300)) == 0);
	logwriter_drain(lw);
	for (k = 0; k < LOG_STREAMS; k++) {
		logwriter_get_stats(lw, (enum log_stream)k, &st);
		CHECKF(st.rotations > 20 && st.compressed == st.rotations && st.compress_failures == 0,
		       "%s: %llu rotations, %llu compressed", log_stream_name(k),
		       (unsigned long long)st.rotations, (unsigned long long)st.compressed);
		CHECK(st.rotated_files == st.rotations && st.lines_dropped == 0);
	}
	logwriter_close(lw);

	seen = calloc((size_t)lines, 1);
	CHECK(seen);
	for (k = 0; k < LOG_STREAMS; k++) {
		const char *name = log_stream_name((enum log_stream)k);

		CHECK(lc_scan_stream(dir, name, &s) == 0);
		CHECKF(s.bad == 0 && s.bad_gz == 0 && s.partial_live == 0 && s.partial_other == 0,
		       "%s: bad %zu bad_gz %zu (%s)", name, s.bad, s.bad_gz, s.first_bad);
		CHECKF(s.rotated_plain == 0 && s.tmp == 0 && s.gz > 20, "%s: %zu plain, %zu tmp, %zu gz",
		       name, s.rotated_plain, s.tmp, s.gz);
		CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s: %s", name, why);
		CHECK(s.ngaps == 0 && max == s.nlines);
		for (i = 0; i < (long)s.nlines; i++) {
			long n = s.lines[i].n;

			CHECK(n >= 0 && n < lines && n % 3 == k && !seen[n]);
			seen[n] = 1;
			/* Sorted by seq, the writes come back in their order. */
			CHECK(i == 0 || n > s.lines[i - 1].n);
		}
		lc_free(&s);
	}
	for (i = 0; i < lines; i++)
		CHECKF(seen[i], "line %ld not found", i);
	free(seen);
}

/* Each rotated file is named by its first line's seq, outside the live glob. */
static void t_rotated_names(void)
{
	struct logwriter_config cfg = { .max_file_bytes = 2048, .compress = true };
	struct rotated_file f;
	struct logwriter *lw;
	struct dirent *de;
	struct lc_scan s;
	char path[512];
	int i, rotated = 0;
	DIR *d;

	CHECK(rotated_parse("metrics-20261122T023000-000017.jsonl.gz", "metrics", &f) == 0);
	CHECK(f.seq == 17 && f.compressed && !f.tmp && f.dup == 0);
	CHECK(rotated_parse("metrics-20261122T023000-1234567-2.jsonl", "metrics", &f) == 0);
	CHECK(f.seq == 1234567 && f.dup == 2 && !f.compressed);
	CHECK(rotated_parse("metrics-20261122T023000-000017.jsonl.gz.tmp", "metrics", &f) == 0 && f.tmp);
	CHECK(rotated_parse("metrics.jsonl", "metrics", &f) != 0);
	CHECK(rotated_parse("metrics-20261122T023000-000017.jsonl.1", "metrics", &f) != 0);
	CHECK(rotated_parse("events-20261122T023000-000017.jsonl", "metrics", &f) != 0);
	CHECK(rotated_parse("metrics-2026112T023000-000017.jsonl", "metrics", &f) != 0);

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 200; i++)
		CHECK(put(lw, LOG_METRICS, 0, i, 20) == 0);
	logwriter_drain(lw);
	logwriter_close(lw);
	d = opendir(dir);
	CHECK(d);
	while ((de = readdir(d))) {
		if (rotated_parse(de->d_name, "metrics", &f))
			continue;
		rotated++;
		CHECKF(fnmatch("metrics.jsonl*", de->d_name, 0) != 0, "%s", de->d_name);
		CHECK(f.compressed);
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		memset(&s, 0, sizeof(s));
		lc_read_file(&s, "metrics", path, false);
		CHECK(s.nlines > 0 && s.lines[0].seq == f.seq && s.bad == 0 && s.bad_gz == 0);
		lc_free(&s);
	}
	closedir(d);
	CHECK(rotated > 5);
}

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* Local midnight, in a zone two hours east of UTC: 22:00 UTC. */
static void t_rotates_at_local_midnight(void)
{
	struct logwriter_config cfg = { .rotate_daily = true, .clock = fake_clock };
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char path[256], *old_tz = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	setenv("TZ", "UTC-2", 1);	/* POSIX sign: local = UTC + 2 h */
	tzset();
	fresh_dir();
	fake_now = 1795384798ULL * 1000000000ULL;	/* 2026-11-22T21:59:58Z, 23:59:58 local */
	lw = open_lw(&cfg);
	CHECK(lw);
	CHECK(put(lw, LOG_METRICS, 0, 0, 0) == 0);
	fake_now += NSEC_PER_SEC;
	CHECK(put(lw, LOG_METRICS, 0, 1, 0) == 0);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	CHECK(st.rotations == 0);
	fake_now += 2 * NSEC_PER_SEC;	/* 2026-11-22T22:00:01Z, 00:00:01 local */
	CHECK(put(lw, LOG_METRICS, 0, 2, 0) == 0);
	CHECK(put(lw, LOG_METRICS, 0, 3, 0) == 0);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	CHECK(st.rotations == 1);
	logwriter_close(lw);
	if (old_tz)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	free(old_tz);
	tzset();

	/* The name carries the UTC time of the rotation, like every timestamp. */
	snprintf(path, sizeof(path), "%s/metrics-20261122T220001-000001.jsonl", dir);
	memset(&s, 0, sizeof(s));
	lc_read_file(&s, "metrics", path, false);
	CHECKF(s.files == 1 && s.nlines == 2 && s.lines[0].n == 0 && s.lines[1].n == 1,
	       "%zu lines in %s", s.nlines, path);
	lc_free(&s);
	snprintf(path, sizeof(path), "%s/metrics.jsonl", dir);
	lc_read_file(&s, "metrics", path, true);
	CHECK(s.nlines == 2 && s.lines[0].seq == 3 && s.lines[1].n == 3);
	lc_free(&s);
}

static void t_partial_last_line_is_repaired(void)
{
	struct logwriter_config cfg = { 0 };
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;
	int i;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 5; i++)
		CHECK(put(lw, LOG_METRICS, 0, i, 5) == 0);
	logwriter_close(lw);
	/* What kill -9 in the middle of write(2) leaves. */
	CHECK(append_text("metrics.jsonl",
			  "{\"ts\":\"2026-11-22T02:30:00.000000Z\",\"seq\":6,\"host\":\"te") == 0);

	lw = open_lw(&cfg);
	CHECK(lw);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	CHECK(st.partial_repaired == 1 && st.gap_records == 1 && st.lines_dropped == 1);
	CHECKF(st.next_seq == 8, "next %llu", (unsigned long long)st.next_seq);
	CHECK(put(lw, LOG_METRICS, 0, 5, 5) == 0);
	logwriter_close(lw);

	CHECK(lc_scan_stream(dir, "metrics", &s) == 0);
	CHECK(s.partial_live == 0 && s.bad == 0);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	/* seq 6 is the lost line, 7 the gap record saying so, 8 the next line. */
	CHECK(max == 8 && s.nlines == 7 && s.ngaps == 1);
	CHECK(s.gaps[0].has_range && s.gaps[0].first == 6 && s.gaps[0].last == 6 && s.gaps[0].lines == 1);
	CHECK(s.lines[5].seq == 7 && s.lines[5].gap && s.lines[6].n == 5);
	lc_free(&s);
}

/* Cut before its seq was written, the lost line never had a visible number. */
static void t_partial_line_without_seq(void)
{
	struct logwriter_config cfg = { 0 };
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	CHECK(put(lw, LOG_EVENTS, 0, 0, 5) == 0);
	logwriter_close(lw);
	CHECK(append_text("events.jsonl", "{\"ts\":\"2026-11") == 0);
	lw = open_lw(&cfg);
	CHECK(lw);
	CHECK(put(lw, LOG_EVENTS, 0, 1, 5) == 0);
	logwriter_close(lw);
	CHECK(lc_scan_stream(dir, "events", &s) == 0);
	CHECK(s.partial_live == 0 && s.bad == 0);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	CHECK(max == 3 && s.ngaps == 1 && !s.gaps[0].has_range && s.gaps[0].lines == 1);
	lc_free(&s);
}

/* With the live file gone, the sequence continues from the newest rotated file. */
static void t_seq_recovered_from_rotated_file(void)
{
	struct logwriter_config cfg = { .compress = true };
	struct logwriter_stats st;
	struct logwriter *lw;
	char path[256];
	int i;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 10; i++)
		CHECK(put(lw, LOG_ALERTS, 0, i, 5) == 0);
	CHECK(logwriter_rotate(lw, LOG_ALERTS) == 0);
	logwriter_drain(lw);
	logwriter_close(lw);
	CHECK(count_rotated("alerts", true) == 1);
	/* As if killed between the rename and the creation of a new file. */
	snprintf(path, sizeof(path), "%s/alerts.jsonl", dir);
	CHECK(unlink(path) == 0);
	snprintf(path, sizeof(path), "%s/.alerts.seq", dir);
	CHECK(unlink(path) == 0);
	lw = open_lw(&cfg);
	CHECK(lw);
	logwriter_get_stats(lw, LOG_ALERTS, &st);
	CHECKF(st.next_seq == 11, "next %llu", (unsigned long long)st.next_seq);
	logwriter_close(lw);
}

static int copy_file(const char *from, const char *to)
{
	char *text = read_text(from);
	FILE *f;
	int ok;

	if (!text)
		return -1;
	f = fopen(to, "w");
	ok = f && fputs(text, f) >= 0;
	if (f)
		fclose(f);
	free(text);
	return ok ? 0 : -1;
}

/*
 * What a crash in the middle of compression leaves: a partial .gz.tmp, or a
 * finished .gz whose source was not unlinked yet. Both are finished at open.
 */
static void t_interrupted_compression_is_finished(void)
{
	struct logwriter_config plain = { 0 }, gz = { .compress = true };
	struct rotated_list l;
	struct gzip_result res;
	struct logwriter *lw;
	struct lc_scan s;
	char a[256], b[256], tmp[300], save[300], why[160];
	uint64_t max;
	int i, dfd;

	fresh_dir();
	lw = open_lw(&plain);
	CHECK(lw);
	for (i = 0; i < 20; i++) {
		CHECK(put(lw, LOG_METRICS, 0, i, 30) == 0);
		if (i == 9 || i == 19)
			CHECK(logwriter_rotate(lw, LOG_METRICS) == 0);
	}
	CHECK(put(lw, LOG_METRICS, 0, 20, 30) == 0);
	logwriter_drain(lw);
	logwriter_close(lw);

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && rotated_list(dfd, "metrics", &l) == 0 && l.n == 2);
	snprintf(a, sizeof(a), "%s/%s", dir, l.v[0].name);
	snprintf(b, sizeof(b), "%s/%s", dir, l.v[1].name);
	/* First file: compression cut short, a truncated temp file. */
	snprintf(tmp, sizeof(tmp), "%s.gz.tmp", a);
	CHECK(copy_file(a, tmp) == 0 && truncate(tmp, 10) == 0);
	/* Second: the .gz was renamed into place, the source still there. */
	snprintf(save, sizeof(save), "%s.save", b);
	CHECK(copy_file(b, save) == 0);
	CHECK(gzip_file(dfd, l.v[1].name, 0, NULL, &res) == 0 && rename(save, b) == 0);
	rotated_list_free(&l);
	close(dfd);

	lw = open_lw(&gz);
	CHECK(lw);
	logwriter_drain(lw);
	logwriter_close(lw);
	CHECK(lc_scan_stream(dir, "metrics", &s) == 0);
	CHECKF(s.tmp == 0 && s.rotated_plain == 0 && s.gz == 2 && s.bad == 0 && s.bad_gz == 0,
	       "tmp %zu plain %zu gz %zu", s.tmp, s.rotated_plain, s.gz);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	CHECK(max == 21 && s.nlines == 21);
	lc_free(&s);
}

static void t_retention_by_count(void)
{
	struct logwriter_config cfg = { .max_file_bytes = 4096, .compress = true, .keep_files = 3 };
	struct logwriter_stats st;
	struct rotated_list l;
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;
	int i, dfd;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 2000; i++) {
		CHECK(put(lw, LOG_EVENTS, 0, i, 40) == 0);
		if (i % 200 == 0)
			logwriter_drain(lw);	/* let retention act along the way too */
	}
	logwriter_drain(lw);
	logwriter_get_stats(lw, LOG_EVENTS, &st);
	CHECK(st.rotations > 10 && st.rotated_files == 3);
	CHECKF(st.retention_removed == st.rotations - 3, "removed %llu of %llu",
	       (unsigned long long)st.retention_removed, (unsigned long long)st.rotations);
	logwriter_close(lw);

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && rotated_list(dfd, "events", &l) == 0);
	CHECK(l.n == 3);
	/* The newest are kept: from the oldest kept file's first seq, all is there. */
	CHECK(lc_scan_stream(dir, "events", &s) == 0);
	CHECKF(lc_audit(&s, l.v[0].seq, &max, why, sizeof(why)) == 0, "%s", why);
	CHECK(s.lines[0].seq == l.v[0].seq && max == 2000 && s.lines[s.nlines - 1].n == 1999);
	rotated_list_free(&l);
	close(dfd);
	lc_free(&s);
}

static void t_retention_by_size(void)
{
	struct logwriter_config cfg = { .max_file_bytes = 4096, .keep_bytes = 20000 };
	struct logwriter_stats st;
	struct rotated_list l;
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max, bytes;
	size_t files;
	int i, dfd;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 1000; i++)
		CHECK(put(lw, LOG_METRICS, 0, i, 40) == 0);
	logwriter_drain(lw);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	logwriter_close(lw);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(dfd >= 0 && rotated_list(dfd, "metrics", &l) == 0);
	rotated_totals(&l, &files, &bytes);
	/* Files of at most 4096 bytes: 4 fit in 20000, 5 would not fit for sure. */
	CHECKF(bytes <= 20000 && files >= 4 && files <= 5, "%zu files, %llu bytes", files,
	       (unsigned long long)bytes);
	CHECK(st.retention_removed == st.rotations - files);
	CHECK(lc_scan_stream(dir, "metrics", &s) == 0);
	CHECKF(lc_audit(&s, l.v[0].seq, &max, why, sizeof(why)) == 0, "%s", why);
	CHECK(max == 1000);
	rotated_list_free(&l);
	close(dfd);
	lc_free(&s);
}

/* logrotate's way: rename the live file, then SIGHUP (reopen). */
static void t_reopen_after_external_rotation(void)
{
	struct logwriter_config cfg = { 0 };
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char from[256], to[256];
	int i;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 5; i++)
		CHECK(put(lw, LOG_METRICS, 0, i, 5) == 0);
	snprintf(from, sizeof(from), "%s/metrics.jsonl", dir);
	snprintf(to, sizeof(to), "%s/metrics.jsonl.1", dir);
	CHECK(rename(from, to) == 0);
	CHECK(put(lw, LOG_METRICS, 0, 5, 5) == 0);	/* still into the renamed file */
	CHECK(logwriter_reopen(lw) == 0);
	CHECK(put(lw, LOG_METRICS, 0, 6, 5) == 0);
	logwriter_close(lw);
	memset(&s, 0, sizeof(s));
	lc_read_file(&s, "metrics", to, false);
	CHECK(s.nlines == 6 && s.lines[5].seq == 6);
	lc_free(&s);
	lc_read_file(&s, "metrics", from, true);
	CHECK(s.nlines == 1 && s.lines[0].seq == 7);
	lc_free(&s);

	/* Rotated away again while stopped: the saved seq carries on. */
	snprintf(to, sizeof(to), "%s/metrics.jsonl.2", dir);
	CHECK(rename(from, to) == 0);
	lw = open_lw(&cfg);
	CHECK(lw);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	CHECKF(st.next_seq == 8, "next %llu", (unsigned long long)st.next_seq);
	logwriter_close(lw);
}

static void t_one_writer_per_directory(void)
{
	struct logwriter_config cfg = { 0 };
	struct logwriter *lw, *other;
	char err[256];

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	cfg.dir = dir;
	other = logwriter_open(&cfg, err, sizeof(err));
	CHECK(!other);
	CHECKF(strstr(err, dir) && strstr(err, "in use"), "%s", err);
	logwriter_close(lw);
}

struct writer_arg {
	struct logwriter *lw;
	long t;
	int failures;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	long i;

	for (i = 0; i < 3000; i++)
		a->failures += put(a->lw, LOG_EVENTS, a->t, i, (size_t)(i % 50)) != 0;
	return NULL;
}

static void t_threads_share_a_stream(void)
{
	struct logwriter_config cfg = { .max_file_bytes = 8192, .compress = true };
	struct writer_arg args[4];
	pthread_t th[4];
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;
	long last[4] = { -1, -1, -1, -1 };
	size_t i;
	int k;

	fresh_dir();
	lw = open_lw(&cfg);
	CHECK(lw);
	for (k = 0; k < 4; k++) {
		args[k] = (struct writer_arg){ .lw = lw, .t = k };
		CHECK(pthread_create(&th[k], NULL, writer_thread, &args[k]) == 0);
	}
	for (k = 0; k < 4; k++)
		pthread_join(th[k], NULL);
	logwriter_drain(lw);
	logwriter_close(lw);
	for (k = 0; k < 4; k++)
		CHECK(args[k].failures == 0);
	CHECK(lc_scan_stream(dir, "events", &s) == 0);
	CHECK(s.bad == 0 && s.bad_gz == 0 && s.partial_live == 0);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	CHECK(max == 12000 && s.nlines == 12000);
	/* Per thread, seq order is write order, and nothing is missing. */
	for (i = 0; i < s.nlines; i++) {
		k = (int)s.lines[i].t;
		CHECK(k >= 0 && k < 4 && s.lines[i].n == last[k] + 1);
		last[k] = s.lines[i].n;
	}
	lc_free(&s);
}

/* ---- disk full -------------------------------------------------------- */

static int fill_file(const char *path, size_t bytes)
{
	char buf[4096];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int ok = fd >= 0;

	memset(buf, 'f', sizeof(buf));
	while (ok && bytes) {
		size_t n = bytes < sizeof(buf) ? bytes : sizeof(buf);

		ok = write(fd, buf, n) == (ssize_t)n;
		bytes -= n;
	}
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

static void disk_full_case(const char *mnt)
{
	struct logwriter_config cfg = { .host = "h" };
	struct logwriter_stats st;
	struct logwriter *lw;
	struct lc_scan s;
	char filler[128], why[160], err[256];
	uint64_t max, gap_lines = 0;
	int i, ok = 0, failed = 0;
	size_t g;

	snprintf(filler, sizeof(filler), "%s/filler", mnt);
	CHECK(fill_file(filler, 32 * 1024) == 0);
	cfg.dir = mnt;
	lw = logwriter_open(&cfg, err, sizeof(err));
	CHECKF(lw, "%s", err);
	/* Same-size lines: once one does not fit, none does. */
	for (i = 0; i < 400 && !failed; i++) {
		if (put(lw, LOG_METRICS, 0, i, 300) == 0)
			ok++;
		else
			failed++;
	}
	CHECKF(failed == 1 && ok > 20, "%d written before the disk was full", ok);
	for (; i < 430; i++)
		failed += put(lw, LOG_METRICS, 0, i, 300) != 0;
	logwriter_get_stats(lw, LOG_METRICS, &st);
	CHECKF(st.lines_dropped == (uint64_t)failed && st.write_errno == ENOSPC && st.dropping,
	       "dropped %llu of %d failed, errno %d", (unsigned long long)st.lines_dropped, failed,
	       st.write_errno);
	CHECK(st.lines_written == (uint64_t)ok + st.gap_records);

	/* Space comes back: writing resumes, and the gap is reported in-band. */
	CHECK(unlink(filler) == 0);
	for (; i < 440; i++)
		CHECK(put(lw, LOG_METRICS, 0, i, 300) == 0);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	CHECK(!st.dropping && st.gap_records >= 1);
	logwriter_close(lw);

	CHECK(lc_scan_stream(mnt, "metrics", &s) == 0);
	CHECKF(s.bad == 0 && s.partial_live == 0, "bad %zu partial %zu", s.bad, s.partial_live);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	for (g = 0; g < s.ngaps; g++)
		gap_lines += s.gaps[g].lines;
	CHECKF(gap_lines == (uint64_t)failed, "gap records count %llu lines, %d were lost",
	       (unsigned long long)gap_lines, failed);
	CHECK(s.nlines == (size_t)(ok + 10) + s.ngaps);
	lc_free(&s);
}

static void t_disk_full_counts_and_reports_the_gap(void)
{
	char mnt[64] = "/tmp/pa-enospc-XXXXXX";
	int status;
	pid_t pid;

	if (geteuid() != 0)
		SKIP("needs root to mount a tmpfs");
	if (!mkdtemp(mnt))
		SKIP("mkdtemp: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Private mount namespace: the tmpfs vanishes with this process. */
		if (unshare(CLONE_NEWNS) || mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ||
		    mount("tmpfs", mnt, "tmpfs", 0, "size=64k,mode=0700"))
			_exit(77);
		disk_full_case(mnt);
		umount(mnt);
		_exit(check_case_failed ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	rmdir(mnt);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		SKIP("cannot mount a tmpfs here");
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}

/*
 * A full disk leaves some room in the live file's last block: a short line
 * may fit where the pending gap record does not. The gap record must still
 * come first, or the next drop would widen its seq range over the line
 * that was written. RLIMIT_FSIZE makes that room exact (EFBIG, not ENOSPC:
 * the writer treats both alike).
 */
static void small_line_case(void)
{
	struct logwriter_config cfg = { 0 };
	struct logwriter_stats st;
	struct rlimit rl;
	struct logwriter *lw;
	struct lc_scan s;
	char why[160];
	uint64_t max;
	size_t g;
	int i;

	signal(SIGXFSZ, SIG_IGN);
	lw = open_lw(&cfg);
	CHECK(lw);
	for (i = 0; i < 5; i++)
		CHECK(put(lw, LOG_METRICS, 0, i, 300) == 0);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	/* Room for one short line (~100 bytes), not for a gap record (~200). */
	CHECK(getrlimit(RLIMIT_FSIZE, &rl) == 0);
	rl.rlim_cur = st.file_bytes + 150;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	CHECK(put(lw, LOG_METRICS, 0, i++, 300) != 0);		/* the gap opens */
	put(lw, LOG_METRICS, 0, i++, 10);			/* fits, the gap record not */
	put(lw, LOG_METRICS, 0, i++, 300);
	rl.rlim_cur = rl.rlim_max;
	CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	CHECK(put(lw, LOG_METRICS, 0, i++, 300) == 0);
	logwriter_get_stats(lw, LOG_METRICS, &st);
	logwriter_close(lw);

	CHECK(lc_scan_stream(dir, "metrics", &s) == 0);
	CHECKF(lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s", why);
	for (g = 0; g < s.ngaps; g++)
		CHECKF(s.gaps[g].last - s.gaps[g].first + 1 == s.gaps[g].lines,
		       "a gap record of %llu lines for seqs %llu-%llu",
		       (unsigned long long)s.gaps[g].lines, (unsigned long long)s.gaps[g].first,
		       (unsigned long long)s.gaps[g].last);
	CHECKF(max == s.nlines + st.lines_dropped, "last seq %llu, %zu lines, %llu dropped",
	       (unsigned long long)max, s.nlines, (unsigned long long)st.lines_dropped);
	lc_free(&s);
}

static void t_gap_record_comes_before_a_short_line(void)
{
	int status;
	pid_t pid;

	fresh_dir();
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The file size limit stays in this process. */
		small_line_case();
		_exit(check_case_failed ? 1 : 0);
	}
	waitpid(pid, &status, 0);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
}

/* A failed CHECK returns early: the directory is removed here either way. */
#define RUN_CLEAN(fn)                                                          \
	do {                                                                   \
		RUN(fn);                                                       \
		if (dir[0])                                                    \
			lc_rmtree(dir);                                        \
		dir[0] = '\0';                                                 \
	} while (0)

int main(void)
{
	RUN_CLEAN(t_envelope_and_members);
	RUN_CLEAN(t_rejects_what_is_not_one_object);
	RUN_CLEAN(t_seq_continues_across_restart);
	RUN_CLEAN(t_rotation_at_high_rate_loses_nothing);
	RUN_CLEAN(t_rotated_names);
	RUN_CLEAN(t_rotates_at_local_midnight);
	RUN_CLEAN(t_partial_last_line_is_repaired);
	RUN_CLEAN(t_partial_line_without_seq);
	RUN_CLEAN(t_seq_recovered_from_rotated_file);
	RUN_CLEAN(t_interrupted_compression_is_finished);
	RUN_CLEAN(t_retention_by_count);
	RUN_CLEAN(t_retention_by_size);
	RUN_CLEAN(t_reopen_after_external_rotation);
	RUN_CLEAN(t_one_writer_per_directory);
	RUN_CLEAN(t_threads_share_a_stream);
	RUN_CLEAN(t_disk_full_counts_and_reports_the_gap);
	RUN_CLEAN(t_gap_record_comes_before_a_short_line);
	CHECK_EXIT();
}
