// SPDX-License-Identifier: GPL-2.0
/*
 * perfagent --daemon end to end, for what happens around its log files and
 * alert command (test_daemon_e2e.c covers the rules, the journal, status
 * and crashes). Each case runs the real daemon in the foreground:
 *
 *   - disk full: the log directory is on a small tmpfs the test fills.
 *     The daemon keeps ticking, counts every line it could not write,
 *     raises the events-lost alert (source=log) in the journal, and when
 *     the space is freed writes again: each stream's gap records account
 *     for exactly the seqs missing, and the counts agree with
 *     `perfagent status` and the events.* metrics;
 *   - the alert command: it gets each alert of alerts.jsonl once, the same
 *     JSON (rule, severity, timestamp, ...); a command that hangs (and
 *     ignores SIGTERM) is killed at its timeout, and the daemon writes its
 *     intervals all the while;
 *   - an external logrotate (rename, `create` and `nocreate`) and SIGHUP:
 *     fresh files at the original names, the old ones left alone, and the
 *     old and new files together hold every seq once, with no gap.
 *
 * Everything is cleaned up: journald, the tmpfs, the daemon and its
 * commands, the bpffs mount if the daemon made it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "daemon_test.h"
#include "journald_ns.h"
#include "logcheck.h"

#define SLEEPER_COMM	"pa-logs-sleeper"
#define WAIT_MS		60000	/* generous: a loaded 2-core machine */

static const char *perfagent;
static char tmp[128], sock[256], pidfile[256], daemon_out[256], full_mnt[256];
static struct journald_ns jns;
static pid_t daemon_pid = -1, sleeper = -1;
static pid_t hang_pid = -1;	/* the hanging alert command, its own process group */
static bool bpffs_was_mounted, full_mounted;

static const char *const streams[3] = { "metrics", "events", "alerts" };

/* ---- small helpers ---------------------------------------------------- */

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t len = strlen(text);
	int ret;

	if (fd < 0)
		return -1;
	ret = write(fd, text, len) == (ssize_t)len ? 0 : -1;
	close(fd);
	return ret;
}

/* A JSON Lines file as an array of its lines; empty when absent. */
static cJSON *read_path(const char *path)
{
	char *text = read_file(path);
	cJSON *arr = parse_lines(text);

	free(text);
	return arr;
}

static cJSON *read_stream(const char *dir, const char *stream)
{
	char name[64];

	snprintf(name, sizeof(name), "%s.jsonl", stream);
	return read_jsonl(dir, name);
}

static int count_lines(const char *path)
{
	char *text = read_file(path), *p;
	int n = 0;

	for (p = text; p && (p = strchr(p, '\n')); p++)
		n++;
	free(text);
	return n;
}

/* ---- the daemon ------------------------------------------------------- */

static pid_t start_daemon(const char *config)
{
	return dt_start(perfagent, config, daemon_out);
}

static cJSON *status(void)
{
	return dt_status(sock);
}

static double status_intervals(void)
{
	cJSON *st = status();
	double n = nfield(st, "intervals");

	cJSON_Delete(st);
	return n;
}

/* status .logs.files[] member `key` of `stream`. */
static double log_stat(const cJSON *st, const char *stream, const char *key)
{
	const cJSON *f;

	cJSON_ArrayForEach(f, cJSON_GetObjectItem(cJSON_GetObjectItem(st, "logs"), "files"))
		if (sfield_is(f, "stream", stream))
			return nfield(f, key);
	return -1;
}

static bool alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

/* Until the daemon has ticked `n` intervals (it answers status by then). */
static bool wait_intervals(pid_t pid, double n, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < end) {
		if (status_intervals() >= n)
			return true;
		if (!alive(pid))
			return false;
		usleep(50000);
	}
	return false;
}

static int stop_daemon(pid_t pid)
{
	return dt_stop(pid, SIGTERM);
}

/* The config: probes off unless `probes` says otherwise, rules as given; no
 * rotation by the daemon itself (the files are only the live ones).
 */
static void write_config(const char *path, const char *interval, const char *logdir,
			 const char *probes, const char *more, const char *rules)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "{ \"interval\": \"%s\",\n"
		 "  \"probes\": %s,\n"
		 "  \"logs\": { \"dir\": \"%s\", \"max_size\": \"1G\", \"max_total\": 0,"
		 " \"daily\": false },\n"
		 "  \"journald\": { \"socket\": \"%s\", \"enabled\": %s },\n"
		 "  \"daemon\": { \"pid_file\": \"%s\", \"control_socket\": \"%s\",\n"
		 "              \"state_dir\": \"%s/state\" },\n"
		 "  %s\n"
		 "  \"rules\": %s }\n",
		 interval, probes ? probes :
		 "{ \"syscall\": { \"enabled\": false }, \"disk\": { \"enabled\": false },"
		 " \"net\": { \"enabled\": false }, \"health\": { \"enabled\": false } }",
		 logdir, jns.pid > 0 ? jns.sock : "/nonexistent", jns.pid > 0 ? "true" : "false",
		 pidfile, sock, tmp, more ? more : "", rules);
	write_file(path, text, 0644);
}

/* Every stream's files (live and rotated) scanned, the seqs audited. */
static bool audit_stream(const char *dir, const char *stream, struct lc_scan *s, char *why,
			 size_t len)
{
	uint64_t max;

	if (lc_scan_stream(dir, stream, s)) {
		snprintf(why, len, "cannot read the log directory");
		return false;
	}
	if (s->bad || s->partial_live || s->partial_other || s->bad_gz) {
		snprintf(why, len, "bad %zu partial %zu/%zu bad gz %zu (%s)", s->bad,
			 s->partial_live, s->partial_other, s->bad_gz, s->first_bad);
		return false;
	}
	return lc_audit(s, 1, &max, why, len) == 0;
}

/* ---- 1. the log disk full --------------------------------------------- */

/* Fill the filesystem of `dir` to the last byte. 0 once a 1-byte write fails with ENOSPC. */
static int fill_up(const char *path)
{
	static char chunk[1 << 16];
	size_t n = sizeof(chunk);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	memset(chunk, 0x5a, sizeof(chunk));
	for (;;) {
		ssize_t w = write(fd, chunk, n);

		if (w == (ssize_t)n)
			continue;
		if (w < 0 && errno != ENOSPC)
			break;
		if (w < 0 && n == 1) {
			close(fd);
			return 0;
		}
		if (w <= 0)
			n = n > 1 ? n / 2 : 1;
	}
	close(fd);
	return -1;
}

static double sum_all_streams(const cJSON *st, const char *key)
{
	double sum = 0;
	int i;

	for (i = 0; i < 3; i++)
		sum += log_stat(st, streams[i], key);
	return sum;
}

static const cJSON *stage(const cJSON *st, const char *name)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(st, "events"),
						       "stages"), name);
}

/* The journal's events-lost firing entry for source=log, if any. */
static bool journal_has_log_loss_alert(void)
{
	cJSON *arr = jns_read(&jns, "-t perfagent PERFAGENT_RULE=events-lost");
	const cJSON *e;
	bool found = false;

	cJSON_ArrayForEach(e, arr)
		if (sfield_is(e, "PERFAGENT_STATE", "firing") &&
		    sfield_is(e, "PERFAGENT_KIND", "loss") &&
		    sfield_is(e, "PERFAGENT_METRIC", "events.loss_ratio") &&
		    sfield_is(e, "PERFAGENT_LABEL_SOURCE", "log"))
			found = true;
	cJSON_Delete(arr);
	return found;
}

/* The largest value of metric `name`{source=log} in metrics.jsonl. */
static double max_log_metric(const cJSON *metrics, const char *name)
{
	const cJSON *m;
	double max = -1;

	cJSON_ArrayForEach(m, metrics)
		if (sfield_is(m, "name", name) &&
		    sfield_is(cJSON_GetObjectItem(m, "labels"), "source", "log") &&
		    nfield(m, "value") > max)
			max = nfield(m, "value");
	return max;
}

/*
 * The files of a stream after a loss of `dropped` lines: every seq from 1
 * to the last is a line or inside a gap record, each gap record's range is
 * exactly its line count, and the counts add up to `dropped`. *records:
 * the lines that are not gap records.
 */
static bool gaps_are_the_holes(const char *dir, const char *stream, double dropped,
			       double *records, char *why, size_t len)
{
	struct lc_scan s;
	double lost = 0;
	bool ok;
	size_t g;

	ok = audit_stream(dir, stream, &s, why, len);
	for (g = 0; ok && g < s.ngaps; g++) {
		const struct lc_gap *gap = &s.gaps[g];

		if (!gap->has_range || gap->last - gap->first + 1 != gap->lines) {
			snprintf(why, len, "a gap record of %llu lines for seqs %llu-%llu",
				 (unsigned long long)gap->lines, (unsigned long long)gap->first,
				 (unsigned long long)gap->last);
			ok = false;
		}
		lost += (double)gap->lines;
	}
	if (ok && (double)s.lines[s.nlines - 1].seq != (double)s.nlines + lost) {
		snprintf(why, len, "last seq %llu, %zu lines, %.0f lost",
			 (unsigned long long)s.lines[s.nlines - 1].seq, s.nlines, lost);
		ok = false;
	}
	if (ok && lost != dropped) {
		snprintf(why, len, "gap records for %.0f lines, status says %.0f dropped", lost,
			 dropped);
		ok = false;
	}
	*records = (double)(s.nlines - s.ngaps);
	lc_free(&s);
	return ok;
}

static void t_log_disk_full(void)
{
	char cfg[320], dir[320], filler[320], why[512];
	double i0, dropped_full, dropped, written, lost_stage, alerts_sent;
	double dropped_stream[3], lines[3], log_lost_records = 0;
	bool alerted = false;
	cJSON *st, *arr;
	const cJSON *e;
	uint64_t end;
	int i, rc;

	if (jns.pid <= 0)
		SKIP("no journald");
	snprintf(full_mnt, sizeof(full_mnt), "%s/full", tmp);
	CHECK(mkdir(full_mnt, 0755) == 0);
	CHECKF(mount("pa-logs-e2e", full_mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=8m,mode=0755") == 0,
	       "mount tmpfs: %s", strerror(errno));
	full_mounted = true;
	snprintf(dir, sizeof(dir), "%s/logs", full_mnt);
	snprintf(filler, sizeof(filler), "%s/filler", full_mnt);
	snprintf(cfg, sizeof(cfg), "%s/full.json", tmp);
	/* "rules": [] keeps the built-in events-lost rule: the alert checked here. */
	write_config(cfg, "250ms", dir, NULL, NULL, "[]");
	daemon_pid = start_daemon(cfg);
	CHECKF(wait_intervals(daemon_pid, 3, WAIT_MS), "daemon not ticking: %s",
	       read_file(daemon_out));

	/* Full: every line that does not fit in a page already allocated fails. */
	CHECKF(fill_up(filler) == 0, "cannot fill %s: %s", full_mnt, strerror(errno));
	i0 = status_intervals();
	end = now_ms() + WAIT_MS;
	for (;;) {
		st = status();
		dropped_full = sum_all_streams(st, "lines_dropped");
		cJSON_Delete(st);
		if (!alerted)
			alerted = journal_has_log_loss_alert();
		if ((alerted && dropped_full > 0 && status_intervals() >= i0 + 8) || now_ms() > end)
			break;
		CHECKF(alive(daemon_pid), "the daemon died with the disk full: %s",
		       read_file(daemon_out));
		usleep(200000);
	}
	printf("# disk full: %.0f lines dropped over %.0f intervals\n", dropped_full,
	       status_intervals() - i0);
	CHECKF(dropped_full > 0, "nothing dropped with %s full", full_mnt);
	CHECKF(alerted, "no events-lost alert (source=log) in the journal");
	CHECKF(alive(daemon_pid), "the daemon died with the disk full");

	/* Space again: the next lines go out, each stream's gap record first. */
	CHECK(unlink(filler) == 0);
	i0 = status_intervals();
	CHECKF(wait_intervals(daemon_pid, i0 + 4, WAIT_MS), "no intervals after freeing space");
	st = status();
	dropped = sum_all_streams(st, "lines_dropped");
	written = log_stat(st, "metrics", "lines_written");
	lost_stage = nfield(stage(st, "log"), "lost");
	cJSON_Delete(st);
	CHECKF(wait_intervals(daemon_pid, i0 + 6, WAIT_MS), "no intervals after freeing space");
	st = status();
	CHECKF(sum_all_streams(st, "lines_dropped") == dropped, "still dropping: %.0f then %.0f",
	       dropped, sum_all_streams(st, "lines_dropped"));
	for (i = 0; i < 3; i++)
		dropped_stream[i] = log_stat(st, streams[i], "lines_dropped");
	alerts_sent = nfield(cJSON_GetObjectItem(st, "alerts"), "firing") +
		      nfield(cJSON_GetObjectItem(st, "alerts"), "resolved");
	CHECKF(log_stat(st, "metrics", "lines_written") > written, "metrics.jsonl not written again");
	cJSON_Delete(st);
	/* The log stage counts every line the writer dropped, once. */
	CHECKF(lost_stage == dropped, "status events.stages.log.lost %.0f, lines dropped %.0f",
	       lost_stage, dropped);
	rc = stop_daemon(daemon_pid);
	daemon_pid = -1;
	CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "exit status %#x", rc);

	/* Each stream: the seqs missing are exactly those its gap records name. */
	for (i = 0; i < 3; i++) {
		CHECKF(gaps_are_the_holes(dir, streams[i], dropped_stream[i], &lines[i], why,
					  sizeof(why)), "%s: %s", streams[i], why);
		printf("# %s: %.0f lines, %.0f lost and named by gap records\n", streams[i],
		       lines[i], dropped_stream[i]);
	}
	CHECKF(dropped_stream[0] > 0, "no metrics line was lost");
	/* Every alert delivered is a line of alerts.jsonl or one of its lost lines. */
	CHECKF(alerts_sent >= 1 && alerts_sent == lines[2] + dropped_stream[2],
	       "%.0f alerts sent, %.0f in alerts.jsonl, %.0f lost", alerts_sent, lines[2],
	       dropped_stream[2]);

	/* The loss is in the metrics and the "lost" records written after it. */
	arr = read_stream(dir, "metrics");
	CHECKF(max_log_metric(arr, "events.lost_per_s") > 0, "no events.lost_per_s{source=log}");
	CHECKF(max_log_metric(arr, "events.loss_ratio") > 0, "no events.loss_ratio{source=log}");
	cJSON_Delete(arr);
	arr = read_stream(dir, "events");
	cJSON_ArrayForEach(e, arr) {
		double n = nfield(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "sources"), "log"),
				  "lost");

		if (sfield_is(e, "type", "lost") && n > 0)
			log_lost_records += n;
	}
	cJSON_Delete(arr);
	/* Some "lost" records were themselves lost; those written say no more than happened. */
	CHECKF(log_lost_records > 0 && log_lost_records <= dropped,
	       "\"lost\" records count %.0f log lines, %.0f were dropped", log_lost_records, dropped);

}

/* ---- 2. the alert command --------------------------------------------- */

static bool wait_alert(const char *dir, const char *rule, const char *state, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	while (now_ms() < end) {
		cJSON *alerts = read_stream(dir, "alerts");
		int n = count_alerts(alerts, rule, state);

		cJSON_Delete(alerts);
		if (n)
			return true;
		usleep(200000);
	}
	return false;
}

/* The files in dir whose name ends in `suffix`, each parsed as one JSON object. */
static cJSON *read_objects(const char *dir, const char *suffix)
{
	cJSON *arr = cJSON_CreateArray();
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t sl = strlen(suffix);

	while (d && (de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		char path[600], *text;

		if (nl <= sl || strcmp(de->d_name + nl - sl, suffix))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		text = read_file(path);
		cJSON_AddItemToArray(arr, text ? cJSON_Parse(text) : cJSON_CreateNull());
		free(text);
	}
	if (d)
		closedir(d);
	return arr;
}

/*
 * The command's JSON is the alerts.jsonl line: the same members with the
 * same values, except the line's own seq and kind (the log's envelope).
 */
static bool same_alert(const cJSON *line, const cJSON *got)
{
	const cJSON *m;

	if (!cJSON_IsObject(got))
		return false;
	cJSON_ArrayForEach(m, got)
		if (!cJSON_Compare(m, cJSON_GetObjectItemCaseSensitive(line, m->string), true))
			return false;
	cJSON_ArrayForEach(m, line)
		if (strcmp(m->string, "seq") && strcmp(m->string, "kind") &&
		    !cJSON_GetObjectItemCaseSensitive(got, m->string))
			return false;
	return true;
}

static const cJSON *alert_command_stats(const cJSON *st)
{
	return cJSON_GetObjectItem(st, "alert_command");
}

static void t_alert_command_gets_each_alert(void)
{
	char cfg[320], dir[256], got[256], script[256], text[1024], probes[512], more[1024];
	char rules[512];
	cJSON *alerts, *cmds, *st;
	const cJSON *a, *c;
	int nalerts, ncmds = 0, rc, i;
	uint64_t end;
	bool *used;

	snprintf(dir, sizeof(dir), "%s/logs-cmd", tmp);
	snprintf(got, sizeof(got), "%s/got", tmp);
	snprintf(script, sizeof(script), "%s/save-alert.sh", tmp);
	snprintf(cfg, sizeof(cfg), "%s/cmd.json", tmp);
	CHECK(mkdir(got, 0755) == 0);
	/* Saves stdin, and what the environment says, then makes it visible at once. */
	CHECK(write_file(script,
			 "#!/bin/sh\n"
			 "f=$(mktemp \"$1/alert.XXXXXX\") || exit 1\n"
			 "cat > \"$f\"\n"
			 "printf '%s %s %s' \"$PERFAGENT_RULE\" \"$PERFAGENT_SEVERITY\" "
			 "\"$PERFAGENT_STATE\" > \"$f.env\"\n"
			 "mv \"$f\" \"$f.json\"\n", 0755) == 0);
	snprintf(probes, sizeof(probes),
		 "{ \"syscall\": { \"comm\": \"%s\", \"slow\": \"25ms\" },"
		 " \"disk\": { \"enabled\": false }, \"net\": { \"enabled\": false },"
		 " \"health\": { \"enabled\": false } }", SLEEPER_COMM);
	snprintf(more, sizeof(more),
		 "\"alert_command\": { \"path\": \"%s\", \"args\": [\"%s\"], \"timeout\": \"10s\","
		 " \"min_severity\": \"info\" },", script, got);
	snprintf(rules, sizeof(rules),
		 "[ { \"name\": \"e2e-syscall-slow\","
		 " \"metric\": \"syscall.latency.p99{syscall=clock_nanosleep}\","
		 " \"warn\": \"15ms\", \"clear\": \"8ms\" } ]");
	write_config(cfg, "500ms", dir, probes, more, rules);
	daemon_pid = start_daemon(cfg);
	CHECKF(wait_intervals(daemon_pid, 1, WAIT_MS), "daemon not ticking: %s",
	       read_file(daemon_out));
	sleeper = dt_start_sleeper(SLEEPER_COMM, 5);
	CHECKF(wait_alert(dir, "e2e-syscall-slow", "firing", WAIT_MS), "no firing alert");
	CHECKF(wait_alert(dir, "e2e-syscall-slow", "resolved", WAIT_MS), "no resolved alert");
	kill(sleeper, SIGKILL);
	waitpid(sleeper, NULL, 0);
	sleeper = -1;

	/* Every alert ran the command once: wait for the last one to finish. */
	alerts = read_stream(dir, "alerts");
	nalerts = cJSON_GetArraySize(alerts);
	end = now_ms() + WAIT_MS;
	while (now_ms() < end) {
		cmds = read_objects(got, ".json");
		ncmds = cJSON_GetArraySize(cmds);
		cJSON_Delete(cmds);
		if (ncmds >= nalerts)
			break;
		usleep(100000);
	}
	CHECKF(wait_intervals(daemon_pid, status_intervals() + 2, WAIT_MS), "daemon stopped");
	st = status();
	CHECKF(nfield(alert_command_stats(st), "started") == nalerts &&
	       nfield(alert_command_stats(st), "failed") == 0 &&
	       nfield(alert_command_stats(st), "timed_out") == 0,
	       "%d alerts; alert_command started %.0f failed %.0f timed out %.0f", nalerts,
	       nfield(alert_command_stats(st), "started"), nfield(alert_command_stats(st), "failed"),
	       nfield(alert_command_stats(st), "timed_out"));
	cJSON_Delete(st);
	rc = stop_daemon(daemon_pid);
	daemon_pid = -1;
	CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "exit status %#x", rc);
	cJSON_Delete(alerts);

	/* Each line of alerts.jsonl matches exactly one command's stdin, and back. */
	alerts = read_stream(dir, "alerts");
	cmds = read_objects(got, ".json");
	nalerts = cJSON_GetArraySize(alerts);
	ncmds = cJSON_GetArraySize(cmds);
	CHECKF(nalerts >= 2 && ncmds == nalerts, "%d alerts in alerts.jsonl, the command ran %d "
	       "times", nalerts, ncmds);
	used = calloc((size_t)ncmds, sizeof(*used));
	CHECK(used);
	cJSON_ArrayForEach(a, alerts) {
		int match = -1;

		i = 0;
		cJSON_ArrayForEach(c, cmds) {
			if (!used[i] && same_alert(a, c)) {
				match = i;
				break;
			}
			i++;
		}
		if (match < 0) {
			free(used);
			CHECKF(0, "alert seq %.0f (%s %s, ts %s) was not given to the command as it is",
			       nfield(a, "seq"), sfield(a, "rule"), sfield(a, "state"), sfield(a, "ts"));
		}
		used[match] = true;
		printf("# alert seq %.0f %s %s %s: the command got it, ts %s\n", nfield(a, "seq"),
		       sfield(a, "rule"), sfield(a, "severity"), sfield(a, "state"), sfield(a, "ts"));
	}
	free(used);
	/* And its environment names the same alert. */
	cJSON_ArrayForEach(c, cmds) {
		char path[600], *env;
		DIR *d = opendir(got);
		struct dirent *de;
		bool found = false;

		snprintf(text, sizeof(text), "%s %s %s", sfield(c, "rule"), sfield(c, "severity"),
			 sfield(c, "state"));
		while (d && (de = readdir(d)) && !found) {
			if (!strstr(de->d_name, ".env"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", got, de->d_name);
			env = read_file(path);
			found = env && !strcmp(env, text);
			free(env);
		}
		if (d)
			closedir(d);
		CHECKF(found, "no command saw PERFAGENT_RULE/SEVERITY/STATE = %s", text);
	}
	cJSON_Delete(alerts);
	cJSON_Delete(cmds);
}

/* The number after "stopped after " in the daemon's last agent event. */
static double stopped_after(const char *dir)
{
	cJSON *ev = read_stream(dir, "events");
	const cJSON *e;
	double n = -1;

	cJSON_ArrayForEach(e, ev)
		if (sfield_is(e, "event", "stopped") && sfield(e, "message"))
			sscanf(sfield(e, "message"), "stopped after %lf", &n);
	cJSON_Delete(ev);
	return n;
}

/* Distinct timestamps of metrics.jsonl: one per interval written. */
static int metric_intervals(const char *dir)
{
	cJSON *m = read_stream(dir, "metrics");
	const cJSON *l;
	char last[40] = "";
	int n = 0;

	cJSON_ArrayForEach(l, m)
		if (sfield(l, "ts") && strcmp(sfield(l, "ts"), last)) {
			snprintf(last, sizeof(last), "%s", sfield(l, "ts"));
			n++;
		}
	cJSON_Delete(m);
	return n;
}

/* The first and last numbers of a file of numbers, one a line; how many. */
static int first_last(const char *path, long *first, long *last)
{
	char *text = read_file(path), *p, *nl;
	int n = 0;

	for (p = text; p && (nl = strchr(p, '\n')); p = nl + 1) {
		long v = strtol(p, NULL, 10);

		if (!n++)
			*first = v;
		*last = v;
	}
	free(text);
	return n;
}

static long read_long(const char *path)
{
	char *text = read_file(path);
	long v = text ? atol(text) : 0;

	free(text);
	return v;
}

static cJSON *read_json(const char *path)
{
	char *text = read_file(path);
	cJSON *o = text ? cJSON_Parse(text) : NULL;

	free(text);
	return o;
}

/*
 * A command that hangs, ignoring SIGTERM: it is killed at its timeout (and
 * SIGKILL a second later), and meanwhile the daemon writes its intervals,
 * which the command itself watches: metrics.jsonl grows while it runs.
 */
static void t_alert_command_hang_is_killed(void)
{
	char cfg[320], dir[256], hang[256], script[256], more[1200], path[600], why[512];
	char metrics[320];
	long first = 0, last = 0, pid = 0;
	double intervals, timed_out;
	int samples, rc, iv;
	uint64_t end;
	struct lc_scan s;
	cJSON *st, *alerts, *o;
	bool ok;

	snprintf(dir, sizeof(dir), "%s/logs-hang", tmp);
	snprintf(hang, sizeof(hang), "%s/hang", tmp);
	snprintf(script, sizeof(script), "%s/hang.sh", tmp);
	snprintf(cfg, sizeof(cfg), "%s/hang.json", tmp);
	snprintf(metrics, sizeof(metrics), "%s/metrics.jsonl", dir);
	CHECK(mkdir(hang, 0755) == 0);
	CHECK(write_file(script,
			 "#!/bin/sh\n"
			 "trap '' TERM\n"
			 "cat > \"$1/stdin.json\"\n"
			 "echo $$ > \"$1/pid\"\n"
			 "i=0\n"
			 "while [ $i -lt 1200 ]; do\n"	/* 2 min: never left behind for long */
			 "  wc -l < \"$2\" >> \"$1/seen\"\n"
			 "  sleep 0.1\n"
			 "  i=$((i + 1))\n"
			 "done\n"
			 "echo never > \"$1/finished\"\n", 0755) == 0);
	snprintf(more, sizeof(more),
		 "\"alert_command\": { \"path\": \"%s\", \"args\": [\"%s\", \"%s\"],"
		 " \"timeout\": \"3s\", \"min_severity\": \"info\" },", script, hang, metrics);
	/* A rule that fires at the first interval: the daemon's RSS is above 1K. */
	write_config(cfg, "250ms", dir, NULL, more,
		     "[ { \"name\": \"e2e-always\", \"metric\": \"agent.rss_bytes\", \"warn\": \"1K\" } ]");
	daemon_pid = start_daemon(cfg);
	snprintf(path, sizeof(path), "%s/pid", hang);
	end = now_ms() + WAIT_MS;
	while (now_ms() < end && count_lines(path) < 1 && alive(daemon_pid))
		usleep(50000);
	CHECKF(count_lines(path) == 1, "the command did not start: %s", read_file(daemon_out));
	pid = read_long(path);
	CHECK(pid > 1);
	hang_pid = (pid_t)pid;

	/* Killed at the timeout, by the daemon. */
	end = now_ms() + WAIT_MS;
	for (;;) {
		st = status();
		timed_out = nfield(alert_command_stats(st), "timed_out");
		cJSON_Delete(st);
		if (timed_out >= 1 || now_ms() > end)
			break;
		usleep(100000);
	}
	CHECKF(timed_out == 1, "timed_out %.0f", timed_out);
	end = now_ms() + WAIT_MS;
	while (now_ms() < end && kill((pid_t)pid, 0) == 0)
		usleep(50000);
	CHECKF(kill((pid_t)pid, 0) != 0 && errno == ESRCH, "the command (pid %ld) still runs", pid);
	hang_pid = -1;
	snprintf(path, sizeof(path), "%s/finished", hang);
	CHECK(access(path, F_OK) != 0);
	snprintf(path, sizeof(path), "%s/stdin.json", hang);
	o = read_json(path);
	ok = sfield_is(o, "rule", "e2e-always") && sfield_is(o, "state", "firing");
	cJSON_Delete(o);
	CHECKF(ok, "the command's stdin is not the alert");

	/* While it hung, the intervals went on: the command saw metrics.jsonl grow. */
	snprintf(path, sizeof(path), "%s/seen", hang);
	samples = first_last(path, &first, &last);
	printf("# the hanging command saw metrics.jsonl grow from %ld to %ld lines (%d looks)\n",
	       first, last, samples);
	CHECKF(samples >= 2 && last > first, "metrics.jsonl: %ld lines, then %ld", first, last);

	intervals = status_intervals();
	CHECK(wait_intervals(daemon_pid, intervals + 2, WAIT_MS));
	st = status();
	CHECKF(nfield(alert_command_stats(st), "started") == 1 &&
	       nfield(alert_command_stats(st), "failed") == 0, "started %.0f failed %.0f",
	       nfield(alert_command_stats(st), "started"), nfield(alert_command_stats(st), "failed"));
	cJSON_Delete(st);
	rc = stop_daemon(daemon_pid);
	daemon_pid = -1;
	CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "exit status %#x", rc);

	alerts = read_stream(dir, "alerts");
	CHECKF(cJSON_GetArraySize(alerts) == 1 && count_alerts(alerts, "e2e-always", "firing") == 1,
	       "%d alerts", cJSON_GetArraySize(alerts));
	cJSON_Delete(alerts);
	/* Every interval wrote its metrics, and no line is missing. */
	CHECKF(audit_stream(dir, "metrics", &s, why, sizeof(why)), "metrics: %s", why);
	CHECKF(s.ngaps == 0 && s.lines[s.nlines - 1].seq == s.nlines, "%zu gap records, last seq "
	       "%llu of %zu lines", s.ngaps, (unsigned long long)s.lines[s.nlines - 1].seq, s.nlines);
	lc_free(&s);
	iv = metric_intervals(dir);
	CHECKF(iv == stopped_after(dir), "%d intervals in metrics.jsonl, the daemon ran %.0f", iv,
	       stopped_after(dir));
}

/* ---- 3. external logrotate and SIGHUP ---------------------------------- */

static int events_in_file(const char *path, const char *event)
{
	cJSON *ev = read_path(path);
	const cJSON *e;
	int n = 0;

	cJSON_ArrayForEach(e, ev)
		n += sfield_is(e, "event", event);
	cJSON_Delete(ev);
	return n;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* The seqs of one file: lowest and highest; the number of lines. */
static size_t seq_range(const char *stream, const char *path, uint64_t *lo, uint64_t *hi)
{
	struct lc_scan s;
	size_t i, n;

	memset(&s, 0, sizeof(s));
	lc_read_file(&s, stream, path, false);
	*lo = UINT64_MAX;
	*hi = 0;
	for (i = 0; i < s.nlines; i++) {
		if (s.lines[i].seq < *lo)
			*lo = s.lines[i].seq;
		if (s.lines[i].seq > *hi)
			*hi = s.lines[i].seq;
	}
	n = s.nlines;
	lc_free(&s);
	return n;
}

#define ROUNDS 3

static void t_logrotate_and_sighup(void)
{
	char cfg[320], dir[256], live[320], old[340], why[512];
	off_t old_size[ROUNDS][3];
	struct stat sb;
	double iv;
	int r, i, rc;
	uint64_t end;
	ino_t created = 0;

	snprintf(dir, sizeof(dir), "%s/logs-rotate", tmp);
	snprintf(cfg, sizeof(cfg), "%s/rotate.json", tmp);
	write_config(cfg, "200ms", dir, NULL, NULL,
		     "[ { \"name\": \"e2e-always\", \"metric\": \"agent.rss_bytes\", \"warn\": \"1K\" } ]");
	daemon_pid = start_daemon(cfg);
	CHECKF(wait_intervals(daemon_pid, 3, WAIT_MS), "daemon not ticking: %s",
	       read_file(daemon_out));
	for (r = 0; r < ROUNDS; r++) {
		/* logrotate: rename; with `create` (rounds 0 and 2) a new empty file. */
		bool create = r != 1;

		for (i = 0; i < 3; i++) {
			snprintf(live, sizeof(live), "%s/%s.jsonl", dir, streams[i]);
			snprintf(old, sizeof(old), "%s/%s.jsonl.%d", dir, streams[i], r + 1);
			CHECKF(rename(live, old) == 0, "rename %s: %s", live, strerror(errno));
			if (create) {
				CHECK(write_file(live, "", 0640) == 0);
				if (i == 0)
					created = (stat(live, &sb) == 0) ? sb.st_ino : 0;
			}
		}
		CHECK(kill(daemon_pid, SIGHUP) == 0);
		/* The reload's own message is written after the reopen: in the new file. */
		snprintf(live, sizeof(live), "%s/events.jsonl", dir);
		end = now_ms() + WAIT_MS;
		while (now_ms() < end && !events_in_file(live, "config_reloaded"))
			usleep(50000);
		CHECKF(events_in_file(live, "config_reloaded") == 1, "round %d: no config_reloaded "
		       "in the new events.jsonl", r);
		/* The renamed one has only the previous round's. */
		snprintf(old, sizeof(old), "%s/events.jsonl.%d", dir, r + 1);
		CHECKF(events_in_file(old, "config_reloaded") == (r ? 1 : 0), "round %d: "
		       "config_reloaded went to the renamed file", r);
		for (i = 0; i < 3; i++) {
			snprintf(old, sizeof(old), "%s/%s.jsonl.%d", dir, streams[i], r + 1);
			old_size[r][i] = file_size(old);
		}
		snprintf(live, sizeof(live), "%s/metrics.jsonl", dir);
		iv = status_intervals();
		CHECK(wait_intervals(daemon_pid, iv + 3, WAIT_MS));
		/* Writes go on in the fresh file, the one logrotate made if it made one. */
		CHECKF(stat(live, &sb) == 0 && sb.st_size > 0, "round %d: metrics.jsonl empty", r);
		CHECKF(!create || sb.st_ino == created, "round %d: metrics.jsonl is not the file "
		       "logrotate created", r);
		CHECKF(create || (sb.st_mode & 0777) == 0640, "round %d: mode %o", r,
		       sb.st_mode & 0777);
		/* The renamed files are left alone. */
		for (i = 0; i < 3; i++) {
			snprintf(old, sizeof(old), "%s/%s.jsonl.%d", dir, streams[i], r + 1);
			CHECKF(file_size(old) == old_size[r][i], "round %d: %s still grows", r, old);
		}
	}
	rc = stop_daemon(daemon_pid);
	daemon_pid = -1;
	CHECKF(WIFEXITED(rc) && WEXITSTATUS(rc) == 0, "exit status %#x", rc);

	/* Old and new files together: every seq once, no gap, in file order. */
	for (i = 0; i < 3; i++) {
		struct lc_scan s;
		uint64_t max, prev_hi = 0, lo, hi;
		size_t n;

		memset(&s, 0, sizeof(s));
		for (r = 0; r <= ROUNDS; r++) {
			if (r < ROUNDS)
				snprintf(old, sizeof(old), "%s/%s.jsonl.%d", dir, streams[i], r + 1);
			else
				snprintf(old, sizeof(old), "%s/%s.jsonl", dir, streams[i]);
			lc_read_file(&s, streams[i], old, r == ROUNDS);
			n = seq_range(streams[i], old, &lo, &hi);
			CHECKF(!n || lo == prev_hi + 1, "%s: seq %llu follows %llu", old,
			       (unsigned long long)lo, (unsigned long long)prev_hi);
			if (n)
				prev_hi = hi;
		}
		CHECKF(!s.bad && !s.partial_live && !s.partial_other, "%s: bad %zu partial %zu/%zu "
		       "(%s)", streams[i], s.bad, s.partial_live, s.partial_other, s.first_bad);
		CHECKF(s.nlines && lc_audit(&s, 1, &max, why, sizeof(why)) == 0, "%s: %s",
		       streams[i], s.nlines ? why : "no lines");
		CHECKF(s.ngaps == 0 && max == s.nlines, "%s: %zu gap records, last seq %llu of %zu "
		       "lines", streams[i], s.ngaps, (unsigned long long)max, s.nlines);
		printf("# %s: seqs 1-%llu in %d files, each once\n", streams[i],
		       (unsigned long long)max, ROUNDS + 1);
		lc_free(&s);
	}
	/* The reloads kept the rule's state: one alert, not one per SIGHUP. */
	{
		cJSON *all = cJSON_CreateArray();

		for (r = 0; r <= ROUNDS; r++) {
			cJSON *part, *e;

			if (r < ROUNDS)
				snprintf(old, sizeof(old), "%s/alerts.jsonl.%d", dir, r + 1);
			else
				snprintf(old, sizeof(old), "%s/alerts.jsonl", dir);
			part = read_path(old);
			while ((e = cJSON_DetachItemFromArray(part, 0)))
				cJSON_AddItemToArray(all, e);
			cJSON_Delete(part);
		}
		i = count_alerts(all, "e2e-always", "firing");
		cJSON_Delete(all);
		CHECKF(i == 1, "%d firing alerts over %d reloads", i, ROUNDS);
	}
}

/* ---- main ------------------------------------------------------------- */

/* What a failed case left running: the daemon is stopped cleanly (its pins go). */
static void stop_leftovers(void)
{
	if (sleeper > 0) {
		kill(sleeper, SIGKILL);
		waitpid(sleeper, NULL, 0);
		sleeper = -1;
	}
	if (daemon_pid > 0)
		stop_daemon(daemon_pid);
	daemon_pid = -1;
	/* Not our child: the daemon's. Should the case fail before the
	 * daemon killed it, it must not outlive the test.
	 */
	if (hang_pid > 0)
		kill(-hang_pid, SIGKILL);
	hang_pid = -1;
	if (full_mounted)
		umount2(full_mnt, MNT_DETACH);
	full_mounted = false;
}

#define RUN_CLEAN(fn)                                                          \
	do {                                                                   \
		RUN(fn);                                                       \
		stop_leftovers();                                              \
	} while (0)

static void cleanup(void)
{
	stop_leftovers();
	jns_stop(&jns);
	dt_bpffs_restore(bpffs_was_mounted);
	lc_rmtree(tmp);
}

int main(void)
{
	perfagent = dt_binary_or_skip("daemon_logs_e2e");
	if (!perfagent)
		return 0;
	bpffs_was_mounted = dt_bpffs_mounted();
	snprintf(tmp, sizeof(tmp), "/tmp/pa-logs-e2e-XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	snprintf(sock, sizeof(sock), "%s/control.sock", tmp);
	snprintf(pidfile, sizeof(pidfile), "%s/perfagent.pid", tmp);
	snprintf(daemon_out, sizeof(daemon_out), "%s/daemon.out", tmp);
	if (jns_available() && jns_start(&jns, "pa-logs-e2e"))
		fprintf(stderr, "# cannot start %s in a namespace\n", JNS_JOURNALD);

	RUN_CLEAN(t_log_disk_full);
	RUN_CLEAN(t_alert_command_gets_each_alert);
	RUN_CLEAN(t_alert_command_hang_is_killed);
	RUN_CLEAN(t_logrotate_and_sighup);
	if (check_failed_cases) {
		char *out = read_file(daemon_out);

		fprintf(stderr, "# daemon output:\n%s\n", out ? out : "(none)");
		free(out);
	}
	cleanup();
	CHECK_EXIT();
}
