// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's parts that need no BPF and no root: metric lines as
 * metrics.jsonl gets them (hand-formatted JSON, read back by a JSON
 * parser), the rules it runs (the events-lost rule always there), the pid
 * file lock, and sd_notify's datagram.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "logcheck.h"
#include "daemon.h"
#include "logwriter.h"

static char dir[64];

static cJSON *read_lines(const char *path, int *n)
{
	cJSON *arr = cJSON_CreateArray();
	char line[8192];
	FILE *f = fopen(path, "r");

	*n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		cJSON *o = cJSON_Parse(line);

		if (o)
			cJSON_AddItemToArray(arr, o);
		(*n)++;
	}
	if (f)
		fclose(f);
	return arr;
}

static void t_metric_lines_are_json(void)
{
	static const char nasty[] = "a\"b\\c\td\n\x01\xc3\xa9}";
	struct logwriter_config lc = { .dir = dir, .host = "h" };
	struct daemon d = { 0 };
	char err[256], path[128];
	const cJSON *m, *labels;
	cJSON *arr;
	int n;

	d.cfg.interval_ns = 1500000000ULL;
	d.lw = logwriter_open(&lc, err, sizeof(err));
	CHECKF(d.lw, "%s", err);
	daemon_add_sample(&d, "syscall.latency.p99", 123456.5, 1, "syscall", "read", NULL);
	daemon_add_sample(&d, "fs.used_ratio", 0.1, 1, "mountpoint", nasty, "device", "/dev/x",
			  NULL);
	daemon_add_sample(&d, "agent.cpu_ratio", NAN, 1, NULL);	/* not a sample */
	daemon_add_sample(&d, "agent.rss_bytes", 1e300, 1, NULL);
	daemon_add_sample(&d, "load.avg1", INFINITY, 1, NULL);		/* not a sample */
	CHECK(d.batch.n == 3);
	daemon_metrics_write(&d, 0);
	logwriter_close(d.lw);
	metric_batch_free(&d.batch);

	snprintf(path, sizeof(path), "%s/metrics.jsonl", dir);
	arr = read_lines(path, &n);
	CHECKF(n == 3 && cJSON_GetArraySize(arr) == 3, "%d lines, %d parsed", n,
	       cJSON_GetArraySize(arr));
	m = cJSON_GetArrayItem(arr, 0);
	CHECK(!strcmp(cJSON_GetObjectItem(m, "type")->valuestring, "metric"));
	CHECK(!strcmp(cJSON_GetObjectItem(m, "name")->valuestring, "syscall.latency.p99"));
	CHECK(cJSON_GetObjectItem(m, "value")->valuedouble == 123456.5);
	CHECK(!strcmp(cJSON_GetObjectItem(m, "interval")->valuestring, "1500ms"));
	labels = cJSON_GetObjectItem(m, "labels");
	CHECK(!strcmp(cJSON_GetObjectItem(labels, "syscall")->valuestring, "read"));
	m = cJSON_GetArrayItem(arr, 1);
	labels = cJSON_GetObjectItem(m, "labels");
	CHECKF(!strcmp(cJSON_GetObjectItem(labels, "mountpoint")->valuestring, nasty),
	       "label came back as %s", cJSON_GetObjectItem(labels, "mountpoint")->valuestring);
	CHECK(!strcmp(cJSON_GetObjectItem(labels, "device")->valuestring, "/dev/x"));
	m = cJSON_GetArrayItem(arr, 2);
	CHECK(cJSON_GetObjectItem(m, "value")->valuedouble == 1e300);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(m, "labels")) == 0);
	cJSON_Delete(arr);
}

static void t_json_escape_bounds(void)
{
	char buf[8];
	size_t pos = 0;

	CHECK(json_escape(buf, sizeof(buf), &pos, "\"") && pos == 2 && !memcmp(buf, "\\\"", 2));
	pos = 0;
	CHECK(!json_escape(buf, sizeof(buf), &pos, "0123456789"));	/* never past the end */
	CHECK(pos < sizeof(buf));
}

static bool has_rule(const struct rule_def *r, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(r[i].name, name))
			return true;
	return false;
}

static void t_loss_rule_always_there(void)
{
	struct config_errors errs;
	struct rule_def *r = NULL;
	struct config c;
	size_t n = 0;

	/* No rules at all: the daemon still watches for losses. */
	CHECK(config_parse("{\"rules\": [], \"overhead\": {\"max_cpu\": 0}}", &c, &errs) == 0);
	CHECK(daemon_rules_build(&c, &r, &n) == 0);
	CHECKF(n == 1 && has_rule(r, n, "events-lost"), "%zu rules", n);
	CHECK(r[0].kind == ALERT_LOSS && !strcmp(r[0].sel.name, "events.loss_ratio"));
	CHECK(r[0].cooldown_ns >= 60ULL * 1000000000ULL);	/* a storm is one alert */
	free(r);
	config_free(&c);

	/* A loss rule of the config's own replaces it. */
	CHECK(config_parse("{\"rules\": [{\"name\": \"my-losses\", \"metric\": "
			   "\"events.lost_per_s{source=syscall}\", \"warn\": 100}]}", &c, &errs) == 0);
	CHECK(daemon_rules_build(&c, &r, &n) == 0);
	CHECKF(n == 2 && has_rule(r, n, "my-losses") && !has_rule(r, n, "events-lost") &&
	       has_rule(r, n, CONFIG_OVERHEAD_RULE), "%zu rules", n);
	free(r);
	config_free(&c);

	/* The built-in rules have it already: not twice. */
	CHECK(config_default(&c) == 0);
	CHECK(daemon_rules_build(&c, &r, &n) == 0);
	CHECK(n == c.nrules + 1);	/* + probe-overhead */
	free(r);
	config_free(&c);
}

static void t_pidfile_refuses_second(void)
{
	struct daemon a = { .pid_fd = -1 }, b = { .pid_fd = -1 };
	char path[128], err[512], *text;
	FILE *f;

	snprintf(path, sizeof(path), "%s/perfagent.pid", dir);
	CHECK(daemon_pidfile_lock(&a, path, err, sizeof(err)) == 0);
	CHECK(daemon_pidfile_write(&a) == 0);
	CHECK(daemon_pidfile_lock(&b, path, err, sizeof(err)) == -EEXIST);
	CHECKF(strstr(err, "another perfagent daemon is running") && strstr(err, path), "%s", err);
	text = calloc(1, 32);
	f = fopen(path, "r");
	CHECK(text && f && fgets(text, 32, f));
	fclose(f);
	CHECK(atoi(text) == getpid());
	free(text);
	daemon_pidfile_remove(&a);
	CHECK(access(path, F_OK) != 0);
	/* Gone with its holder: the next one gets it. */
	CHECK(daemon_pidfile_lock(&b, path, err, sizeof(err)) == 0);
	daemon_pidfile_remove(&b);
}

static void t_sd_notify(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[128], msg[64];
	ssize_t n;
	int fd;

	unsetenv("NOTIFY_SOCKET");
	CHECK(daemon_sd_notify("READY=1") == 0);	/* not under systemd: nothing */
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	strcpy(sa.sun_path, path);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	setenv("NOTIFY_SOCKET", path, 1);
	CHECK(daemon_sd_notify("READY=1") == 0);
	n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
	CHECK(n == 7 && !memcmp(msg, "READY=1", 7));
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	CHECK(daemon_sd_notify("READY=1") == -EINVAL);
	unsetenv("NOTIFY_SOCKET");
	close(fd);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/pa-daemon-parts-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(t_metric_lines_are_json);
	RUN(t_json_escape_bounds);
	RUN(t_loss_rule_always_there);
	RUN(t_pidfile_refuses_second);
	RUN(t_sd_notify);
	lc_rmtree(dir);
	CHECK_EXIT();
}
