// SPDX-License-Identifier: GPL-2.0
/*
 * The config parser: every bad config is refused with exactly the error a
 * user should read (one line, naming the field by its path, the value, and
 * what is allowed), good configs survive a round trip through
 * config_to_json, and the built-in default is valid and useful.
 *
 * Fixture files are read relative to the repository top (tests/run.sh runs
 * from there).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "check.h"
#include "cli.h"
#include "config.h"

struct bad {
	const char *json;
	const char *error;
};

#define LONG_SOCKET "/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

/* Each with exactly one mistake, so exactly one error. */
static const struct bad bad_configs[] = {
	{ "{\"interval\": \"10 ms\"}",
	  "interval: \"10 ms\" is not a duration (use e.g. \"10ms\", \"1.5s\")" },
	{ "{\"interval\": 10}",
	  "interval: 10 is not a duration (use e.g. \"10ms\", \"1.5s\")" },
	{ "{\"interval\": \"10ms\"}",
	  "interval: \"10ms\" is out of range (allowed: 100ms to 1h)" },
	{ "{\"logs\": {\"rotat\": true}}",
	  "logs.rotat: unknown key (known: dir, max_size, daily, max_files, max_total, compress)" },
	{ "{\"logs\": {\"dir\": \"logs\"}}",
	  "logs.dir: \"logs\" is not an absolute path (start it with /)" },
	{ "{\"logs\": {\"dir\": \"/a\", \"dir\": \"/b\"}}",
	  "logs.dir: duplicate key" },
	{ "{\"logs\": {\"max_size\": \"64 M\"}}",
	  "logs.max_size: \"64 M\" is not a size (use e.g. \"64M\", \"512K\", \"1G\")" },
	{ "{\"logs\": {\"max_size\": \"1k\"}}",
	  "logs.max_size: \"1k\" is out of range (allowed: 4K to 1T)" },
	{ "{\"logs\": {\"max_size\": \"64M\", \"max_total\": \"10M\"}}",
	  "logs.max_total: \"10M\" is less than logs.max_size (64M): it could not keep even one "
	  "rotated file (use 0 for no limit)" },
	{ "{\"logs\": {\"compress\": \"yes\"}}",
	  "logs.compress: \"yes\" is not a boolean (use true or false)" },
	{ "{\"logs\": {\"max_files\": 2.5}}",
	  "logs.max_files: 2.5 is not an integer" },
	{ "{\"logs\": []}",
	  "logs: [] is not an object" },
	{ "{\"probes\": {\"syscall\": {\"pid\": -1}}}",
	  "probes.syscall.pid: -1 is out of range (allowed: 0 to 4194304)" },
	{ "{\"probes\": {\"syscall\": {\"comm\": \"a-very-long-command\"}}}",
	  "probes.syscall.comm: \"a-very-long-command\" is too long (at most 15 characters)" },
	{ "{\"probes\": {\"syscall\": {\"cgroup\": \"system.slice\"}}}",
	  "probes.syscall.cgroup: \"system.slice\" is not an absolute path (start it with /)" },
	{ "{\"probes\": {\"syscall\": {\"syscalls\": [\"read\", \"reed\"]}}}",
	  "probes.syscall.syscalls[1]: \"reed\" is not a syscall known to this build (x86_64 "
	  "names, e.g. \"read\", \"openat\")" },
	{ "{\"probes\": {\"syscall\": {\"syscalls\": \"read\"}}}",
	  "probes.syscall.syscalls: \"read\" is not an array of strings" },
	{ "{\"probes\": {\"disk\": {\"devices\": [\"/dev/sda\"]}}}",
	  "probes.disk.devices[0]: \"/dev/sda\" is not a block device name (as in /sys/block: "
	  "\"sda\", \"nvme0n1\")" },
	{ "{\"probes\": {\"disk\": {\"slow\": \"2h\"}}}",
	  "probes.disk.slow: \"2h\" is out of range (allowed: 0s to 1h)" },
	{ "{\"probes\": {\"net\": {\"port\": 70000}}}",
	  "probes.net.port: 70000 is out of range (allowed: 0 to 65535)" },
	{ "{\"probes\": {\"tcp\": {}}}",
	  "probes.tcp: unknown key (known: syscall, disk, net, health)" },
	{ "{\"collectors\": {\"fs\": {\"mountpoints\": [\"\"]}}}",
	  "collectors.fs.mountpoints[0]: \"\" is empty (use a name or a glob such as \"eth*\")" },
	{ "{\"collectors\": {\"psi\": {\"enabled\": 1}}}",
	  "collectors.psi.enabled: 1 is not a boolean (use true or false)" },
	{ "{\"journald\": {\"min_severity\": \"warn\"}}",
	  "journald.min_severity: \"warn\" is not a severity (use \"info\", \"warning\" or "
	  "\"critical\")" },
	{ "{\"journald\": {\"socket\": \"" LONG_SOCKET "\"}}",
	  "journald.socket: \"/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa... is too "
	  "long (at most 107 characters)" },
	{ "{\"alert_command\": {\"args\": []}}",
	  "alert_command.path: missing (the program to run for each alert)" },
	{ "{\"alert_command\": {\"path\": \"/bin/true\", \"timeout\": \"1h\"}}",
	  "alert_command.timeout: \"1h\" is out of range (allowed: 100ms to 10m)" },
	{ "{\"alert_command\": {\"path\": \"/bin/true\", \"args\": [1]}}",
	  "alert_command.args[0]: 1 is not a string" },
	{ "{\"overhead\": {\"max_cpu\": \"150%\"}}",
	  "overhead.max_cpu: \"150%\" is out of range (allowed: 0% to 100%)" },
	{ "{\"overhead\": {\"max_cpu\": \"5 %\"}}",
	  "overhead.max_cpu: \"5 %\" is not a ratio (use e.g. \"5%\" or 0.05)" },
	{ "{\"daemon\": {\"pid_file\": \"perfagent.pid\"}}",
	  "daemon.pid_file: \"perfagent.pid\" is not an absolute path (start it with /)" },
	{ "{\"rules\": {}}",
	  "rules: {} is not an array of rules" },
	{ "{\"rules\": ["
	  "{\"name\": \"a\", \"metric\": \"disk.util\", \"warn\": \"90%\"},"
	  "{\"name\": \"b\", \"metric\": \"load.avg1\", \"warn\": 8},"
	  "{\"name\": \"c\", \"metric\": \"syscall.latency.p99\", \"warn\": \"10 ms\"}]}",
	  "rules[2].warn: \"10 ms\" is not a duration (use e.g. \"10ms\", \"1.5s\")" },
	{ "{\"rules\": [{\"name\": \"c\", \"metric\": \"syscall.latency.p99\", \"warn\": 10}]}",
	  "rules[0].warn: 10 is not a duration (use e.g. \"10ms\", \"1.5s\")" },
	{ "{\"rules\": [{\"name\": \"c\", \"metric\": \"fs.used_ratio\", \"warn\": \"10ms\"}]}",
	  "rules[0].warn: \"10ms\" is not a ratio (use e.g. \"5%\" or 0.05)" },
	{ "{\"rules\": [{\"name\": \"c\", \"metric\": \"fs.used_bytes\", \"warn\": \"lots\"}]}",
	  "rules[0].warn: \"lots\" is not a size (use e.g. \"64M\", \"1G\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.utl\", \"warn\": \"90%\"}]}",
	  "rules[0].metric: \"disk.utl\" is not a known metric (did you mean \"disk.util\"? all "
	  "are in docs/metrics.md)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"gpu.temperature\", \"warn\": 90}]}",
	  "rules[0].metric: \"gpu.temperature\" is not a known metric (all are in "
	  "docs/metrics.md)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util{dev=sda}\", \"warn\": \"90%\"}]}",
	  "rules[0].metric: disk.util has no label \"dev\" (its labels: device)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util{device}\", \"warn\": \"90%\"}]}",
	  "rules[0].metric: \"disk.util{device}\" is not a metric selector: expected label=value "
	  "inside {} (use e.g. \"disk.util{device=sd*}\")" },
	{ "{\"rules\": [{\"name\": \"disk-busy\", \"metric\": \"disk.util\", \"warn\": \"90%\"},"
	  "{\"name\": \"disk-busy\", \"metric\": \"disk.util\", \"warn\": \"95%\"}]}",
	  "rules[1].name: \"disk-busy\" is a duplicate (also rules[0].name)" },
	{ "{\"rules\": [{\"metric\": \"disk.util\", \"warn\": \"90%\"}]}",
	  "rules[0].name: missing (every rule needs a name, e.g. \"disk-slow\")" },
	{ "{\"rules\": [{\"name\": \"Disk Busy\", \"metric\": \"disk.util\", \"warn\": \"90%\"}]}",
	  "rules[0].name: \"Disk Busy\" is not a rule name (a-z, 0-9, '-', '_', '.'; up to 63 "
	  "characters)" },
	{ "{\"rules\": [{\"name\": \"probe-overhead\", \"metric\": \"disk.util\", \"warn\": \"90%\"}]}",
	  "rules[0].name: \"probe-overhead\" is reserved for the rule the overhead section makes" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"syscall.latency.p99\", \"warn\": \"10ms\","
	  " \"crit\": \"5ms\"}]}",
	  "rules[0].crit: \"5ms\" must be above warn \"10ms\" (direction is above)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"mem.available_ratio\", \"direction\": "
	  "\"below\", \"warn\": \"10%\", \"crit\": \"20%\"}]}",
	  "rules[0].crit: \"20%\" must be below warn \"10%\" (direction is below)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\", \"info\": \"50%\", "
	  "\"warn\": \"50%\"}]}",
	  "rules[0].warn: \"50%\" must be above info \"50%\" (direction is above)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\", \"warn\": \"90%\", "
	  "\"clear\": \"95%\"}]}",
	  "rules[0].clear: \"95%\" must not be above warn \"90%\" (the alert clears once the value "
	  "is back past clear; direction is above)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"mem.available_ratio\", \"direction\": "
	  "\"below\", \"warn\": \"10%\", \"clear\": \"8%\"}]}",
	  "rules[0].clear: \"8%\" must not be below warn \"10%\" (the alert clears once the value "
	  "is back past clear; direction is below)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\", \"direction\": \"up\", "
	  "\"warn\": \"90%\"}]}",
	  "rules[0].direction: \"up\" is not a direction (use \"above\" or \"below\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"trend\", \"metric\": \"disk.util\", "
	  "\"window\": \"1h\", \"warn\": \"90%\"}]}",
	  "rules[0].type: \"trend\" is not a rule type (use \"threshold\", \"slope\", "
	  "\"exhaustion\" or \"baseline\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\", \"window\": \"1h\", "
	  "\"warn\": \"90%\"}]}",
	  "rules[0].window: not used by threshold rules" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\", \"warn\": \"90%\", "
	  "\"critical\": \"99%\"}]}",
	  "rules[0].critical: unknown key (known: name, type, metric, direction, info, warn, crit, "
	  "clear, hold, clear_hold, cooldown, repeat, window, baseline, min_baseline, limit, "
	  "limit_metric, message)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\"}]}",
	  "rules[0]: no level (set warn, crit or info)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"disk.util\", \"warn\": \"90%\", "
	  "\"hold\": \"30\"}]}",
	  "rules[0].hold: \"30\" is not a duration (use e.g. \"10ms\", \"1.5s\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"exhaustion\", \"metric\": \"fs.used_bytes\", "
	  "\"window\": \"1h\", \"warn\": \"6h\"}]}",
	  "rules[0]: exhaustion rules need limit or limit_metric (e.g. \"limit_metric\": "
	  "\"fs.size_bytes\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"exhaustion\", \"metric\": \"fs.used_bytes\", "
	  "\"limit_metric\": \"mem.total_bytes\", \"window\": \"1h\", \"warn\": \"6h\"}]}",
	  "rules[0].limit_metric: \"mem.total_bytes\" is not comparable with fs.used_bytes (it "
	  "needs the same unit and labels)" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"exhaustion\", \"metric\": \"fs.used_bytes\", "
	  "\"limit_metric\": \"fs.size_bytes\", \"warn\": \"6h\"}]}",
	  "rules[0].window: missing (exhaustion rules need one, e.g. \"1h\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"exhaustion\", \"metric\": \"fs.used_bytes\", "
	  "\"limit_metric\": \"fs.size_bytes\", \"window\": \"1h\", \"warn\": \"6h\", "
	  "\"crit\": \"12h\"}]}",
	  "rules[0].crit: \"12h\" must be below warn \"6h\" (less time left is worse)" },
	{ "{\"interval\": \"10s\", \"rules\": [{\"name\": \"x\", \"type\": \"slope\", "
	  "\"metric\": \"syscall.latency.p99\", \"window\": \"20s\", \"warn\": \"5ms/h\"}]}",
	  "rules[0].window: \"20s\" is too short for interval 10s (a fit needs at least 3 "
	  "intervals: 30s)" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"slope\", \"metric\": \"syscall.latency.p99\", "
	  "\"window\": \"1h\", \"warn\": \"5ms\"}]}",
	  "rules[0].warn: \"5ms\" is not a rate of change of syscall.latency.p99 (use e.g. "
	  "\"5ms/h\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"baseline\", \"metric\": \"syscall.latency.p99\", "
	  "\"window\": \"10m\", \"warn\": \"50%\"}]}",
	  "rules[0].baseline: missing (the time the baseline learns over, e.g. \"6h\")" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"baseline\", \"metric\": \"syscall.latency.p99\", "
	  "\"window\": \"10m\", \"baseline\": \"5m\", \"warn\": \"50%\"}]}",
	  "rules[0].baseline: \"5m\" must be longer than window \"10m\"" },
	{ "{\"rules\": [{\"name\": \"x\", \"type\": \"baseline\", \"metric\": \"syscall.latency.p99\", "
	  "\"window\": \"10m\", \"baseline\": \"6h\", \"warn\": \"twice\"}]}",
	  "rules[0].warn: \"twice\" is not a fraction of the baseline (use e.g. \"50%\" or 0.5)" },
	{ "{\"rules\": [{\"name\": \"x\", \"metric\": \"fs.used_ratio\", \"warn\": \"90%\", "
	  "\"message\": \"{mnt} is full\"}]}",
	  "rules[0].message: unknown placeholder \"{mnt}\" (known: value, threshold, rule, metric, "
	  "severity, labels, mountpoint, device, fstype)" },
	{ "{\"interval\": \"10s\",\n \"logs\": {\"dir\": \"/x\",}\n}",
	  "line 2, column 24: not valid JSON after '\"logs\": {\"dir\": \"/x\",}'" },
	{ "{\"interval\": \"10s\"",
	  "line 1, column 19: the JSON ends too early (a missing '}' or ']'?)" },
	{ "[]",
	  "[] is not an object" },
};

/* All are tried, and every mismatch is shown, before the case fails. */
static void t_bad_configs_exact_errors(void)
{
	size_t i, n = sizeof(bad_configs) / sizeof(bad_configs[0]);
	int wrong = 0;

	CHECK(n >= 20);
	for (i = 0; i < n; i++) {
		struct config_errors errs;
		struct config c;
		int ret = config_parse(bad_configs[i].json, &c, &errs);

		if (ret == 0) {
			config_free(&c);
			fprintf(stderr, "# config %zu accepted: %s\n", i, bad_configs[i].json);
			wrong++;
		} else if (ret != -EINVAL || errs.n != 1 ||
			   strcmp(errs.msg[0], bad_configs[i].error) != 0) {
			fprintf(stderr, "# config %zu: ret %d, %u errors\n#   got:      %s\n"
				"#   expected: %s\n", i, ret, errs.n, errs.n ? errs.msg[0] : "",
				bad_configs[i].error);
			if (errs.n > 1)
				fprintf(stderr, "#   also:     %s\n", errs.msg[1]);
			wrong++;
		}
	}
	CHECKF(wrong == 0, "%d of %zu bad configs not refused as expected", wrong, n);
}

/* Every mistake is listed, in order, and a refused config leaves nothing. */
static void t_all_errors_listed(void)
{
	struct config_errors errs;
	struct config c;

	CHECK(config_load("tests/config/bad-three-mistakes.json", &c, &errs) == -EINVAL);
	CHECKF(errs.n == 3, "%u errors", errs.n);
	CHECK_STREQ(errs.msg[0], "interval: \"1 s\" is not a duration (use e.g. \"10ms\", \"1.5s\")");
	CHECK_STREQ(errs.msg[1], "logs.rotate: unknown key (known: dir, max_size, daily, "
		    "max_files, max_total, compress)");
	CHECK_STREQ(errs.msg[2], "rules[0].crit: \"80%\" must be above warn \"90%\" (direction "
		    "is above)");
}

static void t_too_many_errors_counted(void)
{
	char json[8192];
	struct config_errors errs;
	struct config c;
	size_t pos = 0;
	int i;

	pos += (size_t)snprintf(json + pos, sizeof(json) - pos, "{\"rules\": [");
	for (i = 0; i < 30; i++)
		pos += (size_t)snprintf(json + pos, sizeof(json) - pos,
					"%s{\"name\": \"r%d\", \"metric\": \"nope\", \"warn\": 1}",
					i ? "," : "", i);
	snprintf(json + pos, sizeof(json) - pos, "]}");
	CHECK(config_parse(json, &c, &errs) == -EINVAL);
	CHECK(errs.n == CONFIG_MAX_ERRORS && errs.dropped == 30 - CONFIG_MAX_ERRORS);
}

static void t_load_errors(void)
{
	struct config_errors errs;
	struct config c;

	CHECK(config_load("/nonexistent/perfagent.json", &c, &errs) == -EINVAL);
	CHECK(errs.n == 1);
	CHECK_STREQ(errs.msg[0], "cannot read the config: No such file or directory");
	CHECK(config_load("tests", &c, &errs) == -EINVAL);
	CHECK_STREQ(errs.msg[0], "not a config file (a regular file of at most 1048576 bytes)");
}

static void t_minimal_config_is_the_default(void)
{
	struct config_errors errs;
	struct config c, d;
	char *a, *b;

	CHECK(config_load("tests/config/good-minimal.json", &c, &errs) == 0);
	CHECK(config_default(&d) == 0);
	a = config_to_json(&c);
	b = config_to_json(&d);
	CHECK(a && b);
	CHECK_STREQ(a, b);
	CHECK(c.default_rules && c.nrules == d.nrules && c.nrules >= 10);
	free(a);
	free(b);
	config_free(&c);
	config_free(&d);
}

static bool rules_equal(const struct rule_def *a, const struct rule_def *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!rule_def_equal(&a[i], &b[i])) {
			fprintf(stderr, "# rule %zu (%s) differs\n", i, a[i].name);
			return false;
		}
	}
	return true;
}

/* Parse, print, parse again: the same config, and the same text. */
static int round_trip(const struct config *c, struct config *back, char **text)
{
	struct config_errors errs;
	int ret;

	*text = config_to_json(c);
	if (!*text)
		return -ENOMEM;
	ret = config_parse(*text, back, &errs);
	if (ret)
		fprintf(stderr, "# round trip: %s\n", errs.n ? errs.msg[0] : "?");
	return ret;
}

static void t_full_config_values_and_round_trip(void)
{
	struct config_errors errs;
	struct config c, back;
	const struct rule_def *r;
	char *t1, *t2;

	CHECKF(config_load("tests/config/good-full.json", &c, &errs) == 0, "%s",
	       errs.n ? errs.msg[0] : "");
	CHECK(c.interval_ns == 5000000000ULL);
	CHECK(c.probes.syscall.pid == 1234);
	CHECK_STREQ(c.probes.syscall.comm, "postgres");
	CHECK(c.probes.syscall.syscalls.n == 4);
	CHECK_STREQ(c.probes.syscall.syscalls.v[2], "fsync");
	CHECK(c.probes.syscall.slow_ns == 50000000ULL);
	CHECK(c.probes.disk.devices.n == 2 && c.probes.disk.rate == 50);
	CHECK(!c.probes.net.enabled && c.probes.net.port == 5432 && c.probes.net.rate == 0);
	CHECK(c.probes.health.enabled);
	CHECK(!c.collectors.cpu_per_cpu && !c.collectors.load && !c.collectors.pstore);
	CHECK(c.collectors.netdev_interfaces.n == 2);
	CHECK(c.logs.max_size == 16ULL << 20 && !c.logs.daily && c.logs.max_files == 30);
	CHECK(c.logs.max_total == 2ULL << 30);
	CHECK(c.journald.min_severity == ALERT_INFO);
	CHECK_STREQ(c.journald.socket, "/run/systemd/journal.test/socket");
	CHECK(c.alert_command.enabled && c.alert_command.args.n == 2);
	CHECK(c.alert_command.timeout_ns == 15000000000ULL);
	CHECK(c.alert_command.min_severity == ALERT_CRITICAL);
	CHECK(fabs(c.overhead.max_cpu - 0.015) < 1e-15 && c.overhead.detach);
	CHECK(!c.default_rules && c.nrules == 9);

	r = &c.rules[0];
	CHECK_STREQ(r->name, "fsync-slow");
	CHECK(r->type == RULE_THRESHOLD && r->unit == METRIC_UNIT_NS && r->kind == ALERT_THRESHOLD);
	CHECK_STREQ(r->sel.name, "syscall.latency.p99");
	CHECK(r->sel.nmatchers == 1 && !strcmp(r->sel.m[0].pattern, "fsync|fdatasync"));
	CHECK(r->level[ALERT_WARNING].value == 20e6 && r->level[ALERT_CRITICAL].value == 200e6);
	CHECK(!r->level[ALERT_INFO].set && r->clear.value == 15e6);
	CHECK(r->hold_ns == 30000000000ULL && r->repeat_ns == 3600000000000ULL);
	r = &c.rules[1];
	CHECK(r->direction == RULE_BELOW && r->level[ALERT_INFO].value == 0.2);
	CHECK(r->level[ALERT_CRITICAL].value == 0.05 && r->clear.value == 0.225);
	CHECK(r->cooldown_ns == 300000000000ULL);	/* the default */
	r = &c.rules[2];
	CHECK(r->type == RULE_SLOPE && r->kind == ALERT_TREND);
	CHECK(r->level[ALERT_WARNING].value == 5e6 &&
	      r->level[ALERT_WARNING].per_ns == 3600000000000ULL);
	CHECK(r->level[ALERT_CRITICAL].value == 1e6 &&
	      r->level[ALERT_CRITICAL].per_ns == 60000000000ULL);
	r = &c.rules[3];
	CHECK(r->type == RULE_EXHAUSTION && !strcmp(r->limit_metric, "fs.size_bytes"));
	CHECK(r->level[ALERT_WARNING].value == 12 * 3600e9 && r->window_ns == 7200000000000ULL);
	r = &c.rules[4];
	CHECK(r->has_limit && r->limit == 8589934592.0);
	r = &c.rules[6];
	CHECK(r->type == RULE_BASELINE && r->min_baseline == 1048576.0 && r->direction == RULE_BELOW);
	CHECK(r->level[ALERT_CRITICAL].value == 0.9 && r->baseline_ns == 3600000000000ULL);
	CHECK(c.rules[7].kind == ALERT_LOSS);
	CHECK(c.rules[8].level[ALERT_CRITICAL].value == 1000.5);

	CHECK(round_trip(&c, &back, &t1) == 0);
	CHECK(back.nrules == c.nrules);
	CHECK(rules_equal(back.rules, c.rules, c.nrules));
	t2 = config_to_json(&back);
	CHECK(t2);
	CHECK_STREQ(t1, t2);
	/* the comparison can fail: one field off is a different rule */
	back.rules[2].level[ALERT_CRITICAL].per_ns++;
	CHECK(!rule_def_equal(&back.rules[2], &c.rules[2]));
	free(t1);
	free(t2);
	config_free(&back);
	config_free(&c);
}

static void t_default_config_valid_and_round_trips(void)
{
	struct config c, back;
	char *t1, *t2;
	size_t i;
	bool have_exhaustion = false, have_baseline = false, have_loss = false;

	CHECK(config_default(&c) == 0);
	CHECK(c.interval_ns == 10000000000ULL && c.journald.enabled && c.logs.compress);
	for (i = 0; i < c.nrules; i++) {
		have_exhaustion |= c.rules[i].type == RULE_EXHAUSTION;
		have_baseline |= c.rules[i].type == RULE_BASELINE;
		have_loss |= c.rules[i].kind == ALERT_LOSS;
	}
	CHECK(have_exhaustion && have_baseline && have_loss);
	CHECK(round_trip(&c, &back, &t1) == 0);
	CHECK(rules_equal(back.rules, c.rules, c.nrules));
	t2 = config_to_json(&back);
	CHECK_STREQ(t1, t2);
	free(t1);
	free(t2);
	config_free(&back);
	config_free(&c);
}

/* The example in the docs must be a config the agent takes. */
static void t_docs_example_is_valid(void)
{
	struct config_errors errs;
	struct config c;

	char *doc, *start, *end;
	FILE *f;
	long n;

	CHECKF(config_load("docs/perfagent.example.json", &c, &errs) == 0, "%s",
	       errs.n ? errs.msg[0] : "");
	config_free(&c);
	/* and the shortened copy in docs/config.md */
	f = fopen("docs/config.md", "r");
	CHECKF(f, "docs/config.md: %s", strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	CHECK(doc && fread(doc, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	start = strstr(doc, "```json\n");
	end = start ? strstr(start + 8, "```") : NULL;
	if (!end)
		free(doc);
	CHECK(start && end);
	*end = '\0';
	n = config_parse(start + 8, &c, &errs);
	free(doc);
	CHECKF(n == 0, "the example in docs/config.md: %s", errs.n ? errs.msg[0] : "");
	config_free(&c);
}

/* Each field config.md documents is a field the parser knows, and back. */
static void t_docs_document_every_field(void)
{
	struct config c;
	char *json, *doc;
	cJSON *root;
	FILE *f;
	long n;
	const cJSON *sec, *k;

	f = fopen("docs/config.md", "r");
	CHECKF(f, "docs/config.md: %s", strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	CHECK(doc && fread(doc, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	CHECK(config_default(&c) == 0);
	json = config_to_json(&c);
	root = cJSON_Parse(json);
	CHECK(root);
	/* every key of every section, as `section.key` in the reference */
	cJSON_ArrayForEach(sec, root) {
		char want[128];

		snprintf(want, sizeof(want), "`%s`", sec->string);
		CHECKF(strstr(doc, want), "docs/config.md does not document %s", want);
		if (!cJSON_IsObject(sec))
			continue;
		cJSON_ArrayForEach(k, sec) {
			const cJSON *kk;

			snprintf(want, sizeof(want), "`%s.%s`", sec->string, k->string);
			CHECKF(strstr(doc, want), "docs/config.md does not document %s", want);
			if (!cJSON_IsObject(k))
				continue;
			cJSON_ArrayForEach(kk, k) {
				snprintf(want, sizeof(want), "`%s.%s.%s`", sec->string, k->string,
					 kk->string);
				CHECKF(strstr(doc, want), "docs/config.md does not document %s", want);
			}
		}
	}
	/* and every rule key */
	{
		static const char *const keys[] = {
			"name", "type", "metric", "direction", "info", "warn", "crit", "clear",
			"hold", "clear_hold", "cooldown", "repeat", "window", "baseline",
			"min_baseline", "limit", "limit_metric", "message",
		};
		size_t i;
		char want[64];

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			snprintf(want, sizeof(want), "`rules[].%s`", keys[i]);
			CHECKF(strstr(doc, want), "docs/config.md does not document %s", want);
		}
	}
	cJSON_Delete(root);
	free(json);
	free(doc);
	config_free(&c);
}

static void t_overhead_rule(void)
{
	struct config_errors errs;
	struct rule_transitions out = { 0 };
	struct rules_engine *e;
	struct rule_def *rules;
	struct metric_sample s;
	struct config c;
	size_t n;

	CHECK(config_parse("{\"overhead\": {\"max_cpu\": \"2%\", \"hold\": \"0s\", "
			   "\"detach\": true}, \"rules\": []}", &c, &errs) == 0);
	CHECK(config_engine_rules(&c, &rules, &n) == 0);
	CHECK(n == 1 && !strcmp(rules[0].name, CONFIG_OVERHEAD_RULE));
	CHECK(rules_engine_new(&e, rules, n, NULL) == 0);
	s = metric_sample_make("probe.cpu_ratio", 0.05, 1, "probe", "syscall", NULL);
	CHECK(rules_feed(e, &s, &out) == 0 && out.n == 1);
	CHECK(out.v[0].kind == ALERT_OVERHEAD);
	CHECK_STREQ(out.v[0].message, "probe syscall costs 5% of a CPU (budget 2%): detaching it");
	rules_engine_free(e);
	rule_transitions_free(&out);
	free(rules);
	config_free(&c);

	CHECK(config_parse("{\"overhead\": {\"max_cpu\": 0}}", &c, &errs) == 0);
	CHECK(config_engine_rules(&c, &rules, &n) == 0);
	CHECK(n == c.nrules);
	free(rules);
	config_free(&c);
}

/* The default rules do what they say on plausible data. */
static void t_default_rules_fire(void)
{
	struct rule_transitions out = { 0 };
	struct rules_engine *e;
	struct rule_def *rules;
	struct metric_sample s[2];
	struct config c;
	uint64_t t;
	size_t n, i;
	bool full_soon = false;

	CHECK(config_default(&c) == 0);
	CHECK(config_engine_rules(&c, &rules, &n) == 0);
	CHECK(rules_engine_new(&e, rules, n, NULL) == 0);
	/* 100 GiB filesystem filling at 2 MiB/s from 50 GiB: full in ~7 h, then
	 * less than 6 h left after ~1 h; the rule holds 10 min */
	for (t = 0; t < 4 * 3600 && !full_soon; t += 10) {
		s[0] = metric_sample_make("fs.used_bytes", 50.0 * (1 << 30) + 2.0 * (1 << 20) * t,
					  t * 1000000000ULL, "mountpoint", "/srv", "device",
					  "/dev/vdb", "fstype", "xfs", NULL);
		s[1] = metric_sample_make("fs.size_bytes", 100.0 * (1 << 30), t * 1000000000ULL,
					  "mountpoint", "/srv", "device", "/dev/vdb", "fstype",
					  "xfs", NULL);
		CHECK(rules_feed_batch(e, s, 2, &out) == 0);
		for (i = 0; i < out.n; i++)
			full_soon |= !strcmp(out.v[i].rule, "fs-full-soon");
	}
	CHECK(full_soon);
	CHECKF(strncmp(out.v[0].message, "filesystem /srv full in 5h", 26) == 0, "%s",
	       out.v[0].message);
	rule_transitions_clear(&out);
	s[0] = metric_sample_make("mem.available_ratio", 0.04, 100000000000000ULL, NULL);
	CHECK(rules_feed(e, &s[0], &out) == 0 && out.n == 0);	/* hold 30 s */
	s[0].ts_ns += 30000000000ULL;
	CHECK(rules_feed(e, &s[0], &out) == 0 && out.n == 1);
	CHECK(out.v[0].severity == ALERT_CRITICAL);
	rules_engine_free(e);
	rule_transitions_free(&out);
	free(rules);
	config_free(&c);
}

/* Run cmd_check_config with stdout and stderr in files. */
static int run_check_config(char **argv, int argc, char *out, size_t outlen, char *err,
			    size_t errlen)
{
	char ob[] = "/tmp/test_config.out.XXXXXX", eb[] = "/tmp/test_config.err.XXXXXX";
	int ofd = mkstemp(ob), efd = mkstemp(eb), so, se, rc;
	ssize_t n;

	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	dup2(ofd, 1);
	dup2(efd, 2);
	rc = cmd_check_config(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	n = pread(ofd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(efd, err, errlen - 1, 0);
	err[n > 0 ? n : 0] = '\0';
	close(ofd);
	close(efd);
	unlink(ob);
	unlink(eb);
	return rc;
}

static void t_check_config_command(void)
{
	static char out[65536], err[4096];
	char *good[] = { "check-config", "tests/config/good-full.json" };
	char *bad[] = { "check-config", "tests/config/bad-three-mistakes.json" };
	char *bad_json[] = { "check-config", "tests/config/bad-three-mistakes.json", "--json" };
	char *good_json[] = { "check-config", "--json", "tests/config/good-minimal.json" };
	char *dflt[] = { "check-config", "--print-default" };
	char *usage[] = { "check-config" };
	char *two[] = { "check-config", "a.json", "b.json" };
	struct config_errors errs;
	struct config c;
	cJSON *j;

	CHECK(run_check_config(good, 2, out, sizeof(out), err, sizeof(err)) == 0);
	CHECK_STREQ(out, "tests/config/good-full.json: valid (interval 5s, 9 rules)\n");
	CHECK_STREQ(err, "");

	CHECK(run_check_config(bad, 2, out, sizeof(out), err, sizeof(err)) == 1);
	CHECK_STREQ(out, "");
	CHECK_STREQ(err,
		    "perfagent: error: tests/config/bad-three-mistakes.json: interval: \"1 s\" is "
		    "not a duration (use e.g. \"10ms\", \"1.5s\")\n"
		    "perfagent: error: tests/config/bad-three-mistakes.json: logs.rotate: unknown "
		    "key (known: dir, max_size, daily, max_files, max_total, compress)\n"
		    "perfagent: error: tests/config/bad-three-mistakes.json: rules[0].crit: \"80%\" "
		    "must be above warn \"90%\" (direction is above)\n");

	CHECK(run_check_config(bad_json, 3, out, sizeof(out), err, sizeof(err)) == 1);
	j = cJSON_Parse(out);
	CHECK(j);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "valid")));
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(j, "errors")) == 3);
	CHECK(!cJSON_GetObjectItem(j, "config"));
	cJSON_Delete(j);

	CHECK(run_check_config(good_json, 3, out, sizeof(out), err, sizeof(err)) == 0);
	j = cJSON_Parse(out);
	CHECK(j);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "valid")));
	CHECK(cJSON_IsObject(cJSON_GetObjectItem(j, "config")));
	cJSON_Delete(j);

	CHECK(run_check_config(dflt, 2, out, sizeof(out), err, sizeof(err)) == 0);
	CHECK(config_parse(out, &c, &errs) == 0);
	CHECK(c.nrules >= 10);
	config_free(&c);

	CHECK(run_check_config(usage, 1, out, sizeof(out), err, sizeof(err)) == EXIT_USAGE);
	CHECK(strstr(err, "Usage: perfagent check-config FILE") != NULL);
	CHECK(run_check_config(two, 3, out, sizeof(out), err, sizeof(err)) == EXIT_USAGE);
	CHECK_STREQ(err, "perfagent: error: check-config: one FILE only (got 'a.json' and "
		    "'b.json')\n");
}

int main(void)
{
	RUN(t_bad_configs_exact_errors);
	RUN(t_all_errors_listed);
	RUN(t_too_many_errors_counted);
	RUN(t_load_errors);
	RUN(t_minimal_config_is_the_default);
	RUN(t_full_config_values_and_round_trip);
	RUN(t_default_config_valid_and_round_trips);
	RUN(t_docs_example_is_valid);
	RUN(t_docs_document_every_field);
	RUN(t_overhead_rule);
	RUN(t_default_rules_fire);
	RUN(t_check_config_command);
	CHECK_EXIT();
}
