// SPDX-License-Identifier: GPL-2.0
/*
 * The alert command: what it gets (JSON on stdin, variables), that the
 * caller never waits for it, its timeout (the whole process group goes),
 * exit statuses, the bound on how many run at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "alert_exec.h"
#include "units.h"

static char dir[64];

static const struct alert_label labels[] = { { "mount", "/var" } };

static struct alert sample(void)
{
	return (struct alert){
		.kind = ALERT_THRESHOLD, .severity = ALERT_CRITICAL, .state = ALERT_FIRING,
		.rule = "disk_full", .metric = "fs.used_ratio", .labels = labels, .nlabels = 1,
		.value = 0.97, .threshold = 0.95, .ts_ns = 1795315044103045000ULL,
	};
}

static struct alert_exec *start(const char *cmd_fmt, uint64_t timeout_ns, unsigned max)
{
	struct alert_exec_config cfg = { .timeout_ns = timeout_ns, .max_running = max, .host = "h1" };
	char cmd[512], err[256];
	struct alert_exec *ae;

	snprintf(cmd, sizeof(cmd), cmd_fmt, dir, dir, dir);
	cfg.command = cmd;
	ae = alert_exec_open(&cfg, err, sizeof(err));
	if (!ae)
		fprintf(stderr, "# %s\n", err);
	return ae;
}

static char *slurp(const char *name)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 1 << 20);
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Gone, or a zombie waiting for init to reap it: either way not running. */
static int process_gone_now(pid_t pid)
{
	char path[64], buf[512] = "", *state;
	FILE *f;

	if (kill(pid, 0) && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	state = strrchr(buf, ')');
	return state && (state[2] == 'Z' || state[2] == 'X');
}

/* A signal to a process group takes effect asynchronously: wait up to 5 s. */
static int process_gone(pid_t pid)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (process_gone_now(pid))
			return 1;
		usleep(10000);
	}
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void t_command_gets_json_and_variables(void)
{
	struct alert a = sample();
	struct alert_exec_stats st;
	struct alert_exec *ae;
	char *json, *env;
	cJSON *o;

	ae = start("cat > %s/in.json; printf '%%s|%%s|%%s|%%s' \"$PERFAGENT_RULE\" "
		   "\"$PERFAGENT_SEVERITY\" \"$PERFAGENT_STATE\" \"$PERFAGENT_KIND\" > %s/env", 0, 0);
	CHECK(ae);
	CHECK(alert_exec_run(ae, &a) == 0);
	alert_exec_wait(ae);
	alert_exec_get_stats(ae, &st);
	alert_exec_close(ae);
	CHECK(st.started == 1 && st.succeeded == 1 && st.failed == 0 && st.running == 0);
	json = slurp("in.json");
	env = slurp("env");
	CHECK(json && env);
	CHECK_STREQ(env, "disk_full|critical|firing|threshold");
	CHECKF(strchr(json, '\n') == json + strlen(json) - 1, "one line: %s", json);
	o = cJSON_Parse(json);
	CHECK(o);
	CHECK_STREQ(cJSON_GetObjectItem(o, "ts")->valuestring, "2026-11-22T02:37:24.103045Z");
	CHECK_STREQ(cJSON_GetObjectItem(o, "host")->valuestring, "h1");
	CHECK_STREQ(cJSON_GetObjectItem(o, "type")->valuestring, "threshold");
	CHECK_STREQ(cJSON_GetObjectItem(o, "rule")->valuestring, "disk_full");
	CHECK(cJSON_GetObjectItem(o, "value")->valuedouble == 0.97);
	CHECK_STREQ(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "labels"), "mount")->valuestring, "/var");
	cJSON_Delete(o);
	free(json);
	free(env);
}

/*
 * The run returns while the command is still running, and a command past
 * its timeout is terminated together with what it started.
 */
static void t_never_waits_and_times_out(void)
{
	struct alert a = sample();
	struct alert_exec_stats st;
	struct alert_exec *ae;
	char *pids;
	int shell_pid, bg_pid;

	ae = start("echo $$ $(sleep 60 >/dev/null & echo $!) > %s/pids.tmp; mv %s/pids.tmp %s/pids; "
		   "exec sleep 60", 300 * NSEC_PER_MSEC, 0);
	CHECK(ae);
	CHECK(alert_exec_run(ae, &a) == 0);
	alert_exec_get_stats(ae, &st);
	CHECK(st.running == 1);
	alert_exec_wait(ae);
	alert_exec_get_stats(ae, &st);
	alert_exec_close(ae);
	CHECK(st.timed_out == 1 && st.running == 0 && st.succeeded == 0);
	CHECKF(WIFSIGNALED(st.last_status) && WTERMSIG(st.last_status) == SIGTERM, "status %#x",
	       st.last_status);
	pids = slurp("pids");
	CHECK(pids && sscanf(pids, "%d %d", &shell_pid, &bg_pid) == 2);
	CHECK(process_gone(shell_pid) && process_gone(bg_pid));
	free(pids);
}

static void t_exit_status_is_counted(void)
{
	struct alert a = sample();
	struct alert_exec_stats st;
	struct alert_exec *ae = start("exit 3", 0, 0);

	CHECK(ae);
	CHECK(alert_exec_run(ae, &a) == 0);
	alert_exec_wait(ae);
	alert_exec_get_stats(ae, &st);
	alert_exec_close(ae);
	CHECK(st.failed == 1 && st.succeeded == 0);
	CHECK(WIFEXITED(st.last_status) && WEXITSTATUS(st.last_status) == 3);
}

static void t_too_many_at_once_are_skipped(void)
{
	struct alert a = sample();
	struct alert_exec_stats st;
	struct alert_exec *ae = start("exec sleep 60", 200 * NSEC_PER_MSEC, 2);

	CHECK(ae);
	CHECK(alert_exec_run(ae, &a) == 0);
	CHECK(alert_exec_run(ae, &a) == 0);
	CHECK(alert_exec_run(ae, &a) == -EBUSY);
	alert_exec_wait(ae);
	/* Room again once they are gone. */
	alert_exec_get_stats(ae, &st);
	CHECK(st.skipped == 1 && st.timed_out == 2 && st.started == 2);
	alert_exec_close(ae);
}

/* stdin is a file, not a pipe: a big alert cannot block the agent. */
static void t_big_alert_on_stdin(void)
{
	struct alert_label big = { "blob", NULL };
	struct alert a = sample();
	struct alert_exec_stats st;
	struct alert_exec *ae;
	char *val = malloc(300001), *count;
	cJSON *o;
	size_t expect;
	char *json;

	CHECK(val);
	memset(val, 'b', 300000);
	val[300000] = '\0';
	big.value = val;
	a.labels = &big;
	ae = start("wc -c < /dev/stdin > %s/count", 0, 0);
	CHECK(ae);
	CHECK(alert_exec_run(ae, &a) == 0);
	alert_exec_wait(ae);
	alert_exec_get_stats(ae, &st);
	alert_exec_close(ae);
	CHECK(st.succeeded == 1);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ts", "2026-11-22T02:37:24.103045Z");
	cJSON_AddStringToObject(o, "host", "h1");
	CHECK(alert_to_json(&a, o) == 0);
	json = cJSON_PrintUnformatted(o);
	expect = strlen(json) + 1;
	count = slurp("count");
	CHECKF(count && strtoul(count, NULL, 10) == expect, "%s vs %zu", count, expect);
	cJSON_Delete(o);
	free(json);
	free(count);
	free(val);
}

static void t_close_does_not_leave_commands_behind(void)
{
	struct alert a = sample();
	struct alert_exec *ae = start("echo $$ > %s/pid.tmp; mv %s/pid.tmp %s/pid; exec sleep 60",
				      200 * NSEC_PER_MSEC, 0);
	char *pid;
	int p = 0;

	CHECK(ae);
	CHECK(alert_exec_run(ae, &a) == 0);
	alert_exec_close(ae);
	pid = slurp("pid");
	if (pid)
		p = atoi(pid);
	free(pid);
	/* Killed before it wrote its pid is fine too: then nothing can be left. */
	CHECK(!p || process_gone(p));
}

/* Each case in its own directory, removed whatever the outcome. */
/* The config's form: a program and its arguments, passed verbatim, no shell. */
static void t_program_with_arguments(void)
{
	struct alert a = sample();
	struct alert_exec_stats st;
	struct alert_exec *ae;
	struct alert_exec_config cfg = { .path = "sh", .nargs = 4, .host = "h1" };
	char script[256], err[256], *out;
	char *args[4];
	int ret;

	snprintf(script, sizeof(script), "printf '%%s|%%s' \"$0\" \"$1\" > %s/argv", dir);
	args[0] = "-c";
	args[1] = script;
	args[2] = "zero";
	args[3] = "one two; $HOME";
	cfg.args = args;
	ae = alert_exec_open(&cfg, err, sizeof(err));
	CHECKF(ae, "%s", err);
	CHECK(alert_exec_run(ae, &a) == 0);
	alert_exec_wait(ae);
	alert_exec_close(ae);
	out = slurp("argv");
	CHECK(out);
	CHECK_STREQ(out, "zero|one two; $HOME");
	free(out);

	cfg.path = "/nonexistent/notify";
	cfg.nargs = 0;
	ae = alert_exec_open(&cfg, err, sizeof(err));
	CHECK(ae);
	ret = alert_exec_run(ae, &a);
	alert_exec_wait(ae);
	alert_exec_get_stats(ae, &st);
	alert_exec_close(ae);
	/* glibc reports the failed exec; under valgrind the child exits 127. */
	CHECKF((ret == -ENOENT && st.spawn_failed == 1 && st.started == 0) ||
	       (ret == 0 && st.failed == 1 && WEXITSTATUS(st.last_status) == 127),
	       "run %d, status %#x", ret, st.last_status);
}

#define RUN_IN_DIR(fn)                                                         \
	do {                                                                   \
		snprintf(dir, sizeof(dir), "/tmp/pa-aexec-XXXXXX");            \
		if (!mkdtemp(dir)) {                                           \
			perror("mkdtemp");                                     \
			return 1;                                              \
		}                                                              \
		RUN(fn);                                                       \
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);                  \
	} while (0)

int main(void)
{
	RUN_IN_DIR(t_command_gets_json_and_variables);
	RUN_IN_DIR(t_never_waits_and_times_out);
	RUN_IN_DIR(t_exit_status_is_counted);
	RUN_IN_DIR(t_too_many_at_once_are_skipped);
	RUN_IN_DIR(t_big_alert_on_stdin);
	RUN_IN_DIR(t_close_does_not_leave_commands_behind);
	RUN_IN_DIR(t_program_with_arguments);
	CHECK_EXIT();
}
