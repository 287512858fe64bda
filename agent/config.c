// SPDX-License-Identifier: GPL-2.0
/*
 * JSON config -> struct config. Every field is read by a getter that knows
 * its type and range and reports a mistake as "<path>: <value> <what is
 * wrong> (<what is allowed>)"; parsing goes on after an error so one run
 * lists every mistake, but a config with any error is refused whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "config.h"
#include "syscall_names.h"
#include "units.h"

#define SEC		NSEC_PER_SEC
#define MIN		(60 * SEC)
#define HOUR		(60 * MIN)
#define DAY		(24 * HOUR)
#define PATH_LEN	256		/* longest JSON path we print */
#define PID_MAX_LIMIT	4194304		/* the kernel's PID_MAX_LIMIT on 64-bit */

/*
 * The built-in rules: quiet on a healthy machine, loud before it runs out
 * of something. `perfagent check-config --print-default` prints them (with
 * every other default) for copying into a config of one's own.
 */
static const char default_rules_json[] =
	"["
	"{\"name\": \"fs-full-soon\", \"type\": \"exhaustion\", \"metric\": \"fs.used_bytes\","
	" \"limit_metric\": \"fs.size_bytes\", \"window\": \"1h\", \"warn\": \"6h\", \"crit\": \"1h\","
	" \"clear\": \"12h\", \"hold\": \"10m\", \"cooldown\": \"1h\","
	" \"message\": \"filesystem {mountpoint} full in {value}\"},"
	"{\"name\": \"fs-space\", \"metric\": \"fs.used_ratio\", \"warn\": \"90%\", \"crit\": \"97%\","
	" \"clear\": \"88%\", \"hold\": \"1m\"},"
	"{\"name\": \"fs-inodes\", \"metric\": \"fs.inodes_used_ratio\", \"warn\": \"90%\","
	" \"crit\": \"97%\", \"clear\": \"88%\", \"hold\": \"1m\"},"
	"{\"name\": \"mem-available\", \"metric\": \"mem.available_ratio\", \"direction\": \"below\","
	" \"warn\": \"10%\", \"crit\": \"5%\", \"clear\": \"12%\", \"hold\": \"30s\"},"
	"{\"name\": \"mem-pressure\", \"metric\": \"psi.full_stall_ratio{resource=memory}\","
	" \"warn\": \"10%\", \"crit\": \"30%\", \"clear\": \"5%\", \"hold\": \"1m\"},"
	"{\"name\": \"io-pressure\", \"metric\": \"psi.full_stall_ratio{resource=io}\","
	" \"warn\": \"30%\", \"crit\": \"60%\", \"clear\": \"20%\", \"hold\": \"2m\"},"
	"{\"name\": \"cpu-pressure\", \"metric\": \"psi.some_stall_ratio{resource=cpu}\","
	" \"warn\": \"50%\", \"crit\": \"90%\", \"clear\": \"40%\", \"hold\": \"5m\"},"
	"{\"name\": \"oom-kills\", \"metric\": \"mem.oom_kills_per_s\", \"warn\": 0,"
	" \"clear_hold\": \"5m\", \"cooldown\": \"30m\"},"
	"{\"name\": \"open-files\", \"metric\": \"limits.open_files_ratio\", \"warn\": \"80%\","
	" \"crit\": \"95%\", \"clear\": \"75%\", \"hold\": \"1m\"},"
	"{\"name\": \"threads\", \"metric\": \"limits.threads_ratio\", \"warn\": \"80%\","
	" \"crit\": \"95%\", \"clear\": \"75%\", \"hold\": \"1m\"},"
	"{\"name\": \"pids\", \"metric\": \"limits.pids_ratio\", \"warn\": \"80%\","
	" \"crit\": \"95%\", \"clear\": \"75%\", \"hold\": \"1m\"},"
	"{\"name\": \"disk-busy\", \"metric\": \"disk.util\", \"warn\": \"90%\", \"clear\": \"80%\","
	" \"hold\": \"5m\"},"
	"{\"name\": \"disk-latency\", \"metric\": \"disk.latency.p99\", \"warn\": \"100ms\","
	" \"crit\": \"1s\", \"clear\": \"80ms\", \"hold\": \"1m\"},"
	"{\"name\": \"disk-errors\", \"metric\": \"disk.errors_per_s\", \"crit\": 0,"
	" \"clear_hold\": \"10m\", \"cooldown\": \"1h\"},"
	"{\"name\": \"nic-rx-errors\", \"metric\": \"netdev.rx_errors_per_s\", \"warn\": 0,"
	" \"clear_hold\": \"10m\", \"cooldown\": \"1h\"},"
	"{\"name\": \"nic-tx-errors\", \"metric\": \"netdev.tx_errors_per_s\", \"warn\": 0,"
	" \"clear_hold\": \"10m\", \"cooldown\": \"1h\"},"
	"{\"name\": \"syscall-p99-regression\", \"type\": \"baseline\","
	" \"metric\": \"syscall.latency.p99{syscall=fsync|fdatasync|sync_file_range|openat|"
	"unlinkat|renameat2|mkdirat|newfstatat|statx}\","
	" \"window\": \"10m\", \"baseline\": \"6h\", \"warn\": \"100%\", \"crit\": \"400%\","
	" \"clear\": \"50%\", \"min_baseline\": \"10us\", \"hold\": \"5m\", \"cooldown\": \"1h\"},"
	"{\"name\": \"events-lost\", \"metric\": \"events.loss_ratio\", \"warn\": \"0%\","
	" \"crit\": \"1%\", \"clear_hold\": \"5m\", \"cooldown\": \"30m\"}"
	"]";

/* ---- errors ----------------------------------------------------------- */

struct pctx {
	struct config_errors *errs;
	bool nomem;
	bool builtin_rules;		/* parsing default_rules_json */
	uint64_t interval_ns;
};

static void fail(struct pctx *x, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct pctx *x, const char *path, const char *fmt, ...)
{
	struct config_errors *e = x->errs;
	va_list ap;
	int n = 0;

	if (e->n >= CONFIG_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	if (path && *path)
		n = snprintf(e->msg[e->n], CONFIG_ERROR_MAX, "%s: ", path);
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n] + n, CONFIG_ERROR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	e->n++;
}

static unsigned int nerrors(const struct pctx *x)
{
	return x->errs->n + x->errs->dropped;
}

/* The value as JSON text, shortened: what the user wrote, for messages. */
static const char *jtext(const cJSON *v, char *buf, size_t len)
{
	char *s = cJSON_PrintUnformatted(v);

	if (!s) {
		snprintf(buf, len, "(value)");
		return buf;
	}
	if (strlen(s) > 60)
		snprintf(buf, len, "%.57s...", s);
	else
		snprintf(buf, len, "%s", s);
	cJSON_free(s);
	return buf;
}

/* out = parent + suffix, cut to PATH_LEN (paths that long are nonsense). */
static void join_raw(char *out, const char *parent, const char *sep, const char *suffix)
{
	size_t n = 0;
	const char *parts[3] = { parent, sep, suffix };
	unsigned int i;

	if (out != parent)
		out[0] = '\0';
	for (i = 0; i < 3; i++) {
		const char *p = parts[i];

		if (i == 0 && out == parent) {
			n = strlen(out);
			continue;
		}
		while (*p && n + 1 < PATH_LEN)
			out[n++] = *p++;
		out[n] = '\0';
	}
}

static void join(char *out, const char *parent, const char *key)
{
	join_raw(out, parent, *parent ? "." : "", key);
}

static void join_index(char *out, const char *parent, size_t i)
{
	char idx[32];

	snprintf(idx, sizeof(idx), "[%zu]", i);
	join_raw(out, parent, "", idx);
}

/* "a, b, c" */
static void list_text(const char *const *names, char *buf, size_t len)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (; *names && pos < len; names++)
		pos += (size_t)snprintf(buf + pos, len - pos, "%s%s", pos ? ", " : "", *names);
}

/* ---- exact printing (what to_json writes reads back the same) ---------- */

char *config_format_duration(uint64_t ns, char *buf, size_t len)
{
	static const struct { const char *u; uint64_t ns; } units[] = {
		{ "d", DAY }, { "h", HOUR }, { "m", MIN }, { "s", SEC },
		{ "ms", NSEC_PER_MSEC }, { "us", NSEC_PER_USEC },
	};
	size_t i;

	if (ns == 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(ns / units[i].ns), units[i].u);
			return buf;
		}
	}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
	return buf;
}

char *config_format_size(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "T", "G", "M", "K" };
	unsigned int i;

	for (i = 0; i < 4 && b; i++) {
		uint64_t scale = 1ULL << (10 * (4 - i));

		if (b % scale == 0) {
			snprintf(buf, len, "%llu%s", (unsigned long long)(b / scale), units[i]);
			return buf;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)b);
	return buf;
}

/* "5%" when that reads back exactly, else NULL (write a plain number). */
const char *config_format_ratio(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g%%", v * 100);
	if (strtod(buf, NULL) / 100 == v)
		return buf;
	return NULL;
}

/* ---- field getters: 0 absent, 1 set, -1 wrong --------------------------- */

static const cJSON *field(const cJSON *o, const char *key)
{
	return o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
}

/*
 * o must be an object with only known keys, each once. Unknown keys are
 * reported; the known ones are still read.
 */
static bool object_ok(struct pctx *x, const cJSON *o, const char *path, const char *const *known)
{
	char p[PATH_LEN], buf[80], names[512];
	const cJSON *c, *d;
	const char *const *k;

	if (!cJSON_IsObject(o)) {
		fail(x, path, "%s is not an object", jtext(o, buf, sizeof(buf)));
		return false;
	}
	for (c = o->child; c; c = c->next) {
		bool found = false;

		join(p, path, c->string);
		for (k = known; *k && !found; k++)
			found = strcmp(*k, c->string) == 0;
		if (!found) {
			list_text(known, names, sizeof(names));
			fail(x, p, "unknown key (known: %s)", names);
			continue;
		}
		for (d = o->child; d != c; d = d->next) {
			if (strcmp(d->string, c->string) == 0) {
				fail(x, p, "duplicate key");
				break;
			}
		}
	}
	return true;
}

static int get_bool(struct pctx *x, const cJSON *o, const char *path, const char *key, bool *out)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80];

	if (!v)
		return 0;
	if (!cJSON_IsBool(v)) {
		join(p, path, key);
		fail(x, p, "%s is not a boolean (use true or false)", jtext(v, buf, sizeof(buf)));
		return -1;
	}
	*out = cJSON_IsTrue(v);
	return 1;
}

enum { STR_ANY, STR_ABSPATH, STR_NONEMPTY };

static int get_string(struct pctx *x, const cJSON *o, const char *path, const char *key,
		      char **out, size_t maxlen, int kind)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80];
	char *s;

	if (!v)
		return 0;
	join(p, path, key);
	if (!cJSON_IsString(v)) {
		fail(x, p, "%s is not a string", jtext(v, buf, sizeof(buf)));
		return -1;
	}
	if (strlen(v->valuestring) > maxlen) {
		fail(x, p, "%s is too long (at most %zu characters)", jtext(v, buf, sizeof(buf)),
		     maxlen);
		return -1;
	}
	if (kind == STR_ABSPATH && v->valuestring[0] != '/') {
		fail(x, p, "%s is not an absolute path (start it with /)", jtext(v, buf, sizeof(buf)));
		return -1;
	}
	if (kind == STR_NONEMPTY && !v->valuestring[0]) {
		fail(x, p, "\"\" is empty");
		return -1;
	}
	s = strdup(v->valuestring);
	if (!s) {
		x->nomem = true;
		return -1;
	}
	free(*out);
	*out = s;
	return 1;
}

static int get_uint(struct pctx *x, const cJSON *o, const char *path, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80];
	double d;

	if (!v)
		return 0;
	join(p, path, key);
	d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	if (d != floor(d)) {
		fail(x, p, "%s is not an integer", jtext(v, buf, sizeof(buf)));
		return -1;
	}
	if (d < (double)min || d > (double)max) {
		fail(x, p, "%s is out of range (allowed: %llu to %llu)", jtext(v, buf, sizeof(buf)),
		     (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*out = (uint64_t)d;
	return 1;
}

static const char duration_help[] = "(use e.g. \"10ms\", \"1.5s\")";
static const char size_help[] = "(use e.g. \"64M\", \"512K\", \"1G\")";
static const char ratio_help[] = "(use e.g. \"5%\" or 0.05)";

static int get_duration(struct pctx *x, const cJSON *o, const char *path, const char *key,
			uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80], a[32], b[32];
	uint64_t ns;

	if (!v)
		return 0;
	join(p, path, key);
	if (!cJSON_IsString(v) || parse_duration_ns(v->valuestring, 0, &ns)) {
		fail(x, p, "%s is not a duration %s", jtext(v, buf, sizeof(buf)), duration_help);
		return -1;
	}
	if (ns < min || ns > max) {
		fail(x, p, "%s is out of range (allowed: %s to %s)", jtext(v, buf, sizeof(buf)),
		     config_format_duration(min, a, sizeof(a)), config_format_duration(max, b, sizeof(b)));
		return -1;
	}
	*out = ns;
	return 1;
}

/* A size: "64M" or a whole number of bytes. */
static int size_value(const cJSON *v, uint64_t *out)
{
	if (cJSON_IsString(v))
		return parse_size_bytes(v->valuestring, out);
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble == floor(v->valuedouble) &&
	    v->valuedouble < 1.8e19) {
		*out = (uint64_t)v->valuedouble;
		return 0;
	}
	return -1;
}

static int get_size(struct pctx *x, const cJSON *o, const char *path, const char *key,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80], a[32], b[32];
	uint64_t n;

	if (!v)
		return 0;
	join(p, path, key);
	if (size_value(v, &n)) {
		fail(x, p, "%s is not a size %s", jtext(v, buf, sizeof(buf)), size_help);
		return -1;
	}
	if (n < min || n > max) {
		fail(x, p, "%s is out of range (allowed: %s to %s)", jtext(v, buf, sizeof(buf)),
		     config_format_size(min, a, sizeof(a)), config_format_size(max, b, sizeof(b)));
		return -1;
	}
	*out = n;
	return 1;
}

/* "5%" or 0.05 (any non-negative number). */
static int ratio_value(const cJSON *v, double *out)
{
	char *end;
	double d;

	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
	} else if (cJSON_IsString(v) && (v->valuestring[0] == '.' ||
					 (v->valuestring[0] >= '0' && v->valuestring[0] <= '9'))) {
		errno = 0;
		d = strtod(v->valuestring, &end);
		if (errno || strcmp(end, "%") != 0)
			return -1;
		d /= 100;
	} else {
		return -1;
	}
	if (!isfinite(d) || d < 0)
		return -1;
	*out = d;
	return 0;
}

static int get_ratio(struct pctx *x, const cJSON *o, const char *path, const char *key,
		     double max, double *out)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80], m[32];
	double d;

	if (!v)
		return 0;
	join(p, path, key);
	if (ratio_value(v, &d)) {
		fail(x, p, "%s is not a ratio %s", jtext(v, buf, sizeof(buf)), ratio_help);
		return -1;
	}
	if (d > max) {
		fail(x, p, "%s is out of range (allowed: 0%% to %s)", jtext(v, buf, sizeof(buf)),
		     config_format_ratio(max, m, sizeof(m)));
		return -1;
	}
	*out = d;
	return 1;
}

static int get_severity(struct pctx *x, const cJSON *o, const char *path, const char *key,
			enum alert_severity *out)
{
	const cJSON *v = field(o, key);
	char p[PATH_LEN], buf[80];

	if (!v)
		return 0;
	if (!cJSON_IsString(v) || alert_severity_parse(v->valuestring, out)) {
		join(p, path, key);
		fail(x, p, "%s is not a severity (use \"info\", \"warning\" or \"critical\")",
		     jtext(v, buf, sizeof(buf)));
		return -1;
	}
	return 1;
}

static void strings_free(struct config_strings *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Checks one list item; returns NULL when fine, else what is wrong. */
typedef const char *(*item_check)(const char *s);

static int get_strings(struct pctx *x, const cJSON *o, const char *path, const char *key,
		       item_check check, struct config_strings *out)
{
	const cJSON *v = field(o, key), *it;
	char p[PATH_LEN], pi[PATH_LEN], buf[80];
	struct config_strings l = { 0 };
	size_t i = 0;
	const char *why;
	int ret = 1;

	if (!v)
		return 0;
	join(p, path, key);
	if (!cJSON_IsArray(v)) {
		fail(x, p, "%s is not an array of strings", jtext(v, buf, sizeof(buf)));
		return -1;
	}
	l.v = calloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(char *));
	if (!l.v) {
		x->nomem = true;
		return -1;
	}
	cJSON_ArrayForEach(it, v) {
		join_index(pi, p, i++);
		if (!cJSON_IsString(it)) {
			fail(x, pi, "%s is not a string", jtext(it, buf, sizeof(buf)));
			ret = -1;
			continue;
		}
		if (check && (why = check(it->valuestring)) != NULL) {
			fail(x, pi, "%s %s", jtext(it, buf, sizeof(buf)), why);
			ret = -1;
			continue;
		}
		l.v[l.n] = strdup(it->valuestring);
		if (!l.v[l.n]) {
			x->nomem = true;
			ret = -1;
			break;
		}
		l.n++;
	}
	if (ret < 0) {
		strings_free(&l);
		return -1;
	}
	strings_free(out);
	*out = l;
	return 1;
}

static const char *check_syscall(const char *s)
{
	return syscall_lookup(s) < 0 ? "is not a syscall known to this build (x86_64 names, "
				       "e.g. \"read\", \"openat\")" : NULL;
}

static const char *check_device(const char *s)
{
	if (!*s || strchr(s, '/') || strlen(s) > 31)
		return "is not a block device name (as in /sys/block: \"sda\", \"nvme0n1\")";
	return NULL;
}

static const char *check_glob(const char *s)
{
	return *s ? NULL : "is empty (use a name or a glob such as \"eth*\")";
}

/* ---- sections --------------------------------------------------------- */

#define KEYS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void parse_syscall_probe(struct pctx *x, const cJSON *o, struct config_syscall_probe *p)
{
	const char *path = "probes.syscall";
	uint64_t pid = p->pid;

	if (!object_ok(x, o, path, KEYS("enabled", "pid", "comm", "cgroup", "syscalls", "slow")))
		return;
	get_bool(x, o, path, "enabled", &p->enabled);
	if (get_uint(x, o, path, "pid", 0, PID_MAX_LIMIT, &pid) > 0)
		p->pid = (uint32_t)pid;
	/* The kernel keeps 15 characters of a command name. */
	get_string(x, o, path, "comm", &p->comm, 15, STR_ANY);
	if (field(o, "cgroup") && cJSON_IsString(field(o, "cgroup")) &&
	    !field(o, "cgroup")->valuestring[0])
		get_string(x, o, path, "cgroup", &p->cgroup, 4095, STR_ANY);
	else
		get_string(x, o, path, "cgroup", &p->cgroup, 4095, STR_ABSPATH);
	get_strings(x, o, path, "syscalls", check_syscall, &p->syscalls);
	get_duration(x, o, path, "slow", 0, HOUR, &p->slow_ns);
}

static void parse_probes(struct pctx *x, const cJSON *o, struct config *c)
{
	const cJSON *v;
	uint64_t n;

	if (!object_ok(x, o, "probes", KEYS("syscall", "disk", "net", "health")))
		return;
	if ((v = field(o, "syscall")))
		parse_syscall_probe(x, v, &c->probes.syscall);
	if ((v = field(o, "disk")) &&
	    object_ok(x, v, "probes.disk", KEYS("enabled", "devices", "slow", "rate"))) {
		get_bool(x, v, "probes.disk", "enabled", &c->probes.disk.enabled);
		get_strings(x, v, "probes.disk", "devices", check_device, &c->probes.disk.devices);
		get_duration(x, v, "probes.disk", "slow", 0, HOUR, &c->probes.disk.slow_ns);
		if (get_uint(x, v, "probes.disk", "rate", 0, 1000000, &n) > 0)
			c->probes.disk.rate = (uint32_t)n;
	}
	if ((v = field(o, "net")) &&
	    object_ok(x, v, "probes.net", KEYS("enabled", "port", "rate"))) {
		get_bool(x, v, "probes.net", "enabled", &c->probes.net.enabled);
		if (get_uint(x, v, "probes.net", "port", 0, 65535, &n) > 0)
			c->probes.net.port = (uint16_t)n;
		if (get_uint(x, v, "probes.net", "rate", 0, 1000000, &n) > 0)
			c->probes.net.rate = (uint32_t)n;
	}
	if ((v = field(o, "health")) && object_ok(x, v, "probes.health", KEYS("enabled")))
		get_bool(x, v, "probes.health", "enabled", &c->probes.health.enabled);
}

static void parse_collectors(struct pctx *x, const cJSON *o, struct config_collectors *cc)
{
	static const struct { const char *name; size_t off; } simple[] = {
		{ "mem", offsetof(struct config_collectors, mem) },
		{ "psi", offsetof(struct config_collectors, psi) },
		{ "load", offsetof(struct config_collectors, load) },
		{ "limits", offsetof(struct config_collectors, limits) },
		{ "taint", offsetof(struct config_collectors, taint) },
		{ "pstore", offsetof(struct config_collectors, pstore) },
	};
	char p[PATH_LEN];
	const cJSON *v;
	size_t i;

	if (!object_ok(x, o, "collectors", KEYS("cpu", "mem", "psi", "load", "limits", "fs",
						"netdev", "taint", "pstore")))
		return;
	if ((v = field(o, "cpu")) &&
	    object_ok(x, v, "collectors.cpu", KEYS("enabled", "per_cpu"))) {
		get_bool(x, v, "collectors.cpu", "enabled", &cc->cpu);
		get_bool(x, v, "collectors.cpu", "per_cpu", &cc->cpu_per_cpu);
	}
	if ((v = field(o, "fs")) &&
	    object_ok(x, v, "collectors.fs", KEYS("enabled", "mountpoints"))) {
		get_bool(x, v, "collectors.fs", "enabled", &cc->fs);
		get_strings(x, v, "collectors.fs", "mountpoints", check_glob, &cc->fs_mountpoints);
	}
	if ((v = field(o, "netdev")) &&
	    object_ok(x, v, "collectors.netdev", KEYS("enabled", "interfaces"))) {
		get_bool(x, v, "collectors.netdev", "enabled", &cc->netdev);
		get_strings(x, v, "collectors.netdev", "interfaces", check_glob,
			    &cc->netdev_interfaces);
	}
	for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++) {
		join(p, "collectors", simple[i].name);
		if ((v = field(o, simple[i].name)) && object_ok(x, v, p, KEYS("enabled")))
			get_bool(x, v, p, "enabled", (bool *)((char *)cc + simple[i].off));
	}
}

static void parse_logs(struct pctx *x, const cJSON *o, struct config *c)
{
	uint64_t n = c->logs.max_files;
	char buf[80], a[32];

	if (!object_ok(x, o, "logs", KEYS("dir", "max_size", "daily", "max_files", "max_total",
					  "compress")))
		return;
	get_string(x, o, "logs", "dir", &c->logs.dir, 4000, STR_ABSPATH);
	get_size(x, o, "logs", "max_size", 4096, 1ULL << 40, &c->logs.max_size);
	get_bool(x, o, "logs", "daily", &c->logs.daily);
	if (get_uint(x, o, "logs", "max_files", 0, 100000, &n) > 0)
		c->logs.max_files = (uint32_t)n;
	if (get_size(x, o, "logs", "max_total", 0, 1ULL << 50, &c->logs.max_total) > 0 &&
	    c->logs.max_total && c->logs.max_total < c->logs.max_size)
		fail(x, "logs.max_total", "%s is less than logs.max_size (%s): it could not keep "
		     "even one rotated file (use 0 for no limit)",
		     jtext(field(o, "max_total"), buf, sizeof(buf)),
		     config_format_size(c->logs.max_size, a, sizeof(a)));
	get_bool(x, o, "logs", "compress", &c->logs.compress);
}

static void parse_journald(struct pctx *x, const cJSON *o, struct config *c)
{
	if (!object_ok(x, o, "journald", KEYS("enabled", "min_severity", "socket")))
		return;
	get_bool(x, o, "journald", "enabled", &c->journald.enabled);
	get_severity(x, o, "journald", "min_severity", &c->journald.min_severity);
	/* sun_path holds 108 bytes with the NUL. */
	get_string(x, o, "journald", "socket", &c->journald.socket, 107, STR_ABSPATH);
}

static void parse_alert_command(struct pctx *x, const cJSON *o, struct config *c)
{
	const char *path = "alert_command";

	if (cJSON_IsNull(o))
		return;
	if (!object_ok(x, o, path, KEYS("path", "args", "timeout", "min_severity")))
		return;
	c->alert_command.enabled = true;
	if (!field(o, "path"))
		fail(x, "alert_command.path", "missing (the program to run for each alert)");
	get_string(x, o, path, "path", &c->alert_command.path, 4000, STR_ABSPATH);
	get_strings(x, o, path, "args", NULL, &c->alert_command.args);
	get_duration(x, o, path, "timeout", 100 * NSEC_PER_MSEC, 10 * MIN,
		     &c->alert_command.timeout_ns);
	get_severity(x, o, path, "min_severity", &c->alert_command.min_severity);
}

static void parse_overhead(struct pctx *x, const cJSON *o, struct config *c)
{
	if (!object_ok(x, o, "overhead", KEYS("max_cpu", "hold", "detach")))
		return;
	get_ratio(x, o, "overhead", "max_cpu", 1.0, &c->overhead.max_cpu);
	get_duration(x, o, "overhead", "hold", 0, HOUR, &c->overhead.hold_ns);
	get_bool(x, o, "overhead", "detach", &c->overhead.detach);
}

static void parse_daemon(struct pctx *x, const cJSON *o, struct config *c)
{
	if (!object_ok(x, o, "daemon", KEYS("pid_file", "control_socket", "state_dir")))
		return;
	get_string(x, o, "daemon", "pid_file", &c->daemon.pid_file, 4000, STR_ABSPATH);
	get_string(x, o, "daemon", "control_socket", &c->daemon.control_socket, 107, STR_ABSPATH);
	get_string(x, o, "daemon", "state_dir", &c->daemon.state_dir, 4000, STR_ABSPATH);
}

/* ---- rules ------------------------------------------------------------ */

static const char *const rule_keys[] = {
	"name", "type", "metric", "direction", "info", "warn", "crit", "clear", "hold",
	"clear_hold", "cooldown", "repeat", "window", "baseline", "min_baseline", "limit",
	"limit_metric", "message", NULL,
};

const char *const config_level_keys[RULE_LEVELS] = { "info", "warn", "crit" };

/* Which rule types a type-specific key belongs to (bit per type). */
static unsigned int key_types(const char *key)
{
	if (!strcmp(key, "window"))
		return 1u << RULE_SLOPE | 1u << RULE_EXHAUSTION | 1u << RULE_BASELINE;
	if (!strcmp(key, "baseline") || !strcmp(key, "min_baseline"))
		return 1u << RULE_BASELINE;
	if (!strcmp(key, "limit") || !strcmp(key, "limit_metric"))
		return 1u << RULE_EXHAUSTION;
	return ~0u;
}

static bool rule_name_valid(const char *s)
{
	size_t i;

	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return false;
	return i < RULE_NAME_MAX;
}

/* Closest catalogue name by edit distance, for "did you mean". */
static const char *closest_metric(const char *name)
{
	size_t n, i, j, k, la = strlen(name), best_d = 4;
	const struct metric_desc *cat = metric_catalog(&n);
	const char *best = NULL;
	size_t row[METRIC_NAME_MAX + 1], prev[METRIC_NAME_MAX + 1];

	if (la > METRIC_NAME_MAX)
		return NULL;
	for (k = 0; k < n; k++) {
		const char *b = cat[k].name;
		size_t lb = strlen(b);

		for (j = 0; j <= lb; j++)
			prev[j] = j;
		for (i = 1; i <= la; i++) {
			row[0] = i;
			for (j = 1; j <= lb; j++) {
				size_t sub = prev[j - 1] + (name[i - 1] != b[j - 1]);
				size_t del = prev[j] + 1, ins = row[j - 1] + 1;

				row[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
			}
			memcpy(prev, row, (lb + 1) * sizeof(row[0]));
		}
		if (prev[lb] < best_d) {
			best_d = prev[lb];
			best = b;
		}
	}
	return best;
}

static void labels_list(const struct metric_desc *d, char *buf, size_t len)
{
	const char *names[METRIC_MAX_LABELS + 1] = { NULL };
	unsigned int i;

	for (i = 0; i < METRIC_MAX_LABELS && d->labels[i]; i++)
		names[i] = d->labels[i];
	if (!names[0])
		snprintf(buf, len, "none");
	else
		list_text(names, buf, len);
}

/* A metric reference "name{label=glob,...}" that names a catalogue metric. */
static const struct metric_desc *check_selector(struct pctx *x, const char *p, const cJSON *v,
						struct metric_selector *sel)
{
	char buf[80], why[128], names[128];
	const struct metric_desc *d;
	const char *near;
	unsigned int i;

	if (!cJSON_IsString(v)) {
		fail(x, p, "%s is not a string (use a metric name, e.g. \"disk.util{device=sda}\")",
		     jtext(v, buf, sizeof(buf)));
		return NULL;
	}
	if (metric_selector_parse(v->valuestring, sel, why, sizeof(why))) {
		fail(x, p, "%s is not a metric selector: %s (use e.g. \"disk.util{device=sd*}\")",
		     jtext(v, buf, sizeof(buf)), why);
		return NULL;
	}
	d = metric_lookup(sel->name);
	if (!d) {
		near = closest_metric(sel->name);
		if (near)
			fail(x, p, "\"%s\" is not a known metric (did you mean \"%s\"? all are in "
			     "docs/metrics.md)", sel->name, near);
		else
			fail(x, p, "\"%s\" is not a known metric (all are in docs/metrics.md)",
			     sel->name);
		return NULL;
	}
	for (i = 0; i < sel->nmatchers; i++) {
		if (!metric_desc_has_label(d, sel->m[i].name)) {
			labels_list(d, names, sizeof(names));
			fail(x, p, "%s has no label \"%s\" (its labels: %s)", d->name,
			     sel->m[i].name, names);
			return NULL;
		}
	}
	return d;
}

static const char *amount_help(enum metric_unit u)
{
	switch (u) {
	case METRIC_UNIT_NS: return "a duration";
	case METRIC_UNIT_BYTES:
	case METRIC_UNIT_BYTES_PER_S: return "a size";
	case METRIC_UNIT_RATIO: return "a ratio";
	default: return "a number";
	}
}

static const char *amount_example(enum metric_unit u)
{
	switch (u) {
	case METRIC_UNIT_NS: return "(use e.g. \"10ms\", \"1.5s\")";
	case METRIC_UNIT_BYTES:
	case METRIC_UNIT_BYTES_PER_S: return "(use e.g. \"64M\", \"1G\")";
	case METRIC_UNIT_RATIO: return "(use e.g. \"5%\" or 0.05)";
	default: return "(use e.g. 100 or 0.5)";
	}
}

/* A value in unit u from JSON (v) or from a string (s, for slope amounts). */
static int amount_value(enum metric_unit u, const cJSON *v, const char *s, double *out)
{
	uint64_t n;
	char *end;

	switch (u) {
	case METRIC_UNIT_NS:
		if (v && !cJSON_IsString(v))
			return -1;
		if (parse_duration_ns(v ? v->valuestring : s, 0, &n))
			return -1;
		*out = (double)n;
		return 0;
	case METRIC_UNIT_BYTES:
	case METRIC_UNIT_BYTES_PER_S:
		if (v ? size_value(v, &n) : parse_size_bytes(s, &n))
			return -1;
		*out = (double)n;
		return 0;
	case METRIC_UNIT_RATIO:
		if (v)
			return ratio_value(v, out);
		{
			cJSON tmp = { .type = cJSON_String, .valuestring = (char *)s };

			return ratio_value(&tmp, out);
		}
	default:
		if (v) {
			if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
				return -1;
			*out = v->valuedouble;
			return 0;
		}
		errno = 0;
		*out = strtod(s, &end);
		return (errno || end == s || *end || !isfinite(*out)) ? -1 : 0;
	}
}

/* "5ms/h": an amount per a duration (a bare unit means one of it). */
static int slope_value(enum metric_unit u, const char *s, struct rule_level *l)
{
	const char *slash = strrchr(s, '/');
	char amount[64], per[64];
	uint64_t ns;

	if (!slash || (size_t)(slash - s) >= sizeof(amount) || strlen(slash + 1) + 2 > sizeof(per))
		return -1;
	memcpy(amount, s, (size_t)(slash - s));
	amount[slash - s] = '\0';
	snprintf(per, sizeof(per), "%s%s",
		 (slash[1] >= '0' && slash[1] <= '9') || slash[1] == '.' ? "" : "1", slash + 1);
	if (amount_value(u, NULL, amount, &l->value) || parse_duration_ns(per, 0, &ns) || !ns)
		return -1;
	l->per_ns = ns;
	return 0;
}

static const char *slope_example(enum metric_unit u)
{
	switch (u) {
	case METRIC_UNIT_NS: return "\"5ms/h\"";
	case METRIC_UNIT_BYTES:
	case METRIC_UNIT_BYTES_PER_S: return "\"1G/h\"";
	case METRIC_UNIT_RATIO: return "\"5%/h\"";
	default: return "\"100/h\"";
	}
}

/* A level (or clear, min_baseline) in the unit of rule r's computed value. */
static int parse_level(struct pctx *x, const char *p, const cJSON *v, const struct rule_def *r,
		       struct rule_level *l)
{
	char buf[80];
	uint64_t ns;

	memset(l, 0, sizeof(*l));
	switch (r->type) {
	case RULE_THRESHOLD:
		if (amount_value(r->unit, v, NULL, &l->value)) {
			fail(x, p, "%s is not %s %s", jtext(v, buf, sizeof(buf)),
			     amount_help(r->unit), amount_example(r->unit));
			return -1;
		}
		break;
	case RULE_SLOPE:
		if (!cJSON_IsString(v) || slope_value(r->unit, v->valuestring, l)) {
			fail(x, p, "%s is not a rate of change of %s (use e.g. %s)",
			     jtext(v, buf, sizeof(buf)), r->sel.name, slope_example(r->unit));
			return -1;
		}
		break;
	case RULE_EXHAUSTION:
		if (!cJSON_IsString(v) || parse_duration_ns(v->valuestring, 0, &ns)) {
			fail(x, p, "%s is not a duration (time left; use e.g. \"6h\", \"30m\")",
			     jtext(v, buf, sizeof(buf)));
			return -1;
		}
		l->value = (double)ns;
		break;
	case RULE_BASELINE:
		if (ratio_value(v, &l->value)) {
			fail(x, p, "%s is not a fraction of the baseline (use e.g. \"50%%\" or 0.5)",
			     jtext(v, buf, sizeof(buf)));
			return -1;
		}
		break;
	default:
		return -1;
	}
	l->set = true;
	return 0;
}

/* Levels must get worse from info to crit; clear must lie on the good side. */
static void check_level_order(struct pctx *x, const char *rpath, const cJSON *o,
			      const struct rule_def *r)
{
	enum rule_direction d = r->type == RULE_THRESHOLD ? r->direction :
				r->type == RULE_EXHAUSTION ? RULE_BELOW : RULE_ABOVE;
	const char *why = r->type == RULE_THRESHOLD ?
			  (d == RULE_ABOVE ? "direction is above" : "direction is below") :
			  r->type == RULE_EXHAUSTION ? "less time left is worse" :
			  "a larger change is worse";
	const char *side = d == RULE_ABOVE ? "above" : "below";
	char p[PATH_LEN], a[80], b[80];
	int l, prev = -1, low = -1;

	for (l = 0; l < RULE_LEVELS; l++) {
		if (!r->level[l].set)
			continue;
		if (low < 0)
			low = l;
		if (prev >= 0) {
			double pv = rule_level_value(r, &r->level[prev]);
			double lv = rule_level_value(r, &r->level[l]);

			if (d == RULE_ABOVE ? !(lv > pv) : !(lv < pv)) {
				join(p, rpath, config_level_keys[l]);
				fail(x, p, "%s must be %s %s %s (%s)",
				     jtext(field(o, config_level_keys[l]), a, sizeof(a)), side,
				     config_level_keys[prev], jtext(field(o, config_level_keys[prev]), b, sizeof(b)),
				     why);
			}
		}
		prev = l;
	}
	if (low >= 0 && r->clear.set) {
		double cv = rule_level_value(r, &r->clear);
		double lv = rule_level_value(r, &r->level[low]);

		if (d == RULE_ABOVE ? cv > lv : cv < lv) {
			join(p, rpath, "clear");
			fail(x, p, "%s must not be %s %s %s (the alert clears once the value is "
			     "back past clear; %s)", jtext(field(o, "clear"), a, sizeof(a)), side,
			     config_level_keys[low], jtext(field(o, config_level_keys[low]), b, sizeof(b)), why);
		}
	}
}

static enum alert_kind rule_kind(const struct rule_def *r)
{
	if (!strcmp(r->sel.name, "events.loss_ratio") || !strcmp(r->sel.name, "events.lost_per_s"))
		return ALERT_LOSS;
	if (!strncmp(r->sel.name, "probe.", 6))
		return ALERT_OVERHEAD;
	if (!strncmp(r->sel.name, "health.", 7))
		return ALERT_HEALTH;
	switch (r->type) {
	case RULE_SLOPE:
	case RULE_EXHAUSTION: return ALERT_TREND;
	case RULE_BASELINE: return ALERT_BASELINE;
	default: return ALERT_THRESHOLD;
	}
}

static void parse_rule_trend(struct pctx *x, const char *rpath, const cJSON *o,
			     struct rule_def *r, const struct metric_desc *d)
{
	char p[PATH_LEN], buf[80], a[32], b[32];
	const struct metric_desc *ld;
	const cJSON *v;

	if (r->type == RULE_THRESHOLD)
		return;
	join(p, rpath, "window");
	if (!field(o, "window")) {
		fail(x, p, "missing (%s rules need one, e.g. \"1h\")", rule_type_name(r->type));
	} else if (get_duration(x, o, rpath, "window", 1, 30 * DAY, &r->window_ns) > 0 &&
		   !x->builtin_rules && r->window_ns < 3 * x->interval_ns) {
		fail(x, p, "%s is too short for interval %s (a fit needs at least 3 intervals: %s)",
		     jtext(field(o, "window"), buf, sizeof(buf)),
		     config_format_duration(x->interval_ns, a, sizeof(a)),
		     config_format_duration(3 * x->interval_ns, b, sizeof(b)));
	}
	if (r->type == RULE_BASELINE) {
		join(p, rpath, "baseline");
		if (!field(o, "baseline"))
			fail(x, p, "missing (the time the baseline learns over, e.g. \"6h\")");
		else if (get_duration(x, o, rpath, "baseline", 1, 90 * DAY, &r->baseline_ns) > 0 &&
			 r->window_ns && r->baseline_ns <= r->window_ns)
			fail(x, p, "%s must be longer than window %s",
			     jtext(field(o, "baseline"), buf, sizeof(buf)),
			     jtext(field(o, "window"), a, sizeof(a)));
		if (d && (v = field(o, "min_baseline"))) {
			join(p, rpath, "min_baseline");
			if (amount_value(r->unit, v, NULL, &r->min_baseline))
				fail(x, p, "%s is not %s %s", jtext(v, buf, sizeof(buf)),
				     amount_help(r->unit), amount_example(r->unit));
		}
	}
	if (r->type != RULE_EXHAUSTION)
		return;
	if (field(o, "limit") && field(o, "limit_metric")) {
		join(p, rpath, "limit");
		fail(x, p, "set limit or limit_metric, not both");
		return;
	}
	if ((v = field(o, "limit"))) {
		join(p, rpath, "limit");
		if (d && amount_value(r->unit, v, NULL, &r->limit))
			fail(x, p, "%s is not %s %s", jtext(v, buf, sizeof(buf)),
			     amount_help(r->unit), amount_example(r->unit));
		r->has_limit = true;
	} else if ((v = field(o, "limit_metric"))) {
		struct metric_selector lsel;

		join(p, rpath, "limit_metric");
		ld = check_selector(x, p, v, &lsel);
		if (!ld)
			return;
		if (lsel.nmatchers) {
			fail(x, p, "%s takes no labels (the limit has the same labels as the metric)",
			     jtext(v, buf, sizeof(buf)));
		} else if (d && (ld->unit != d->unit ||
				 memcmp(ld->labels, d->labels, sizeof(d->labels)) != 0)) {
			fail(x, p, "%s is not comparable with %s (it needs the same unit and labels)",
			     jtext(v, buf, sizeof(buf)), d->name);
		}
		snprintf(r->limit_metric, sizeof(r->limit_metric), "%s", lsel.name);
	} else {
		fail(x, rpath, "exhaustion rules need limit or limit_metric (e.g. "
		     "\"limit_metric\": \"fs.size_bytes\")");
	}
}

static void parse_rule(struct pctx *x, const cJSON *o, size_t idx, struct rule_def *r)
{
	char rpath[PATH_LEN], p[PATH_LEN], buf[80], bad[80], names[256];
	const struct metric_desc *d = NULL;
	const cJSON *v, *c;
	char *s = NULL;
	int l;

	join_index(rpath, "rules", idx);
	memset(r, 0, sizeof(*r));
	r->cooldown_ns = 5 * MIN;
	if (!object_ok(x, o, rpath, rule_keys))
		return;

	join(p, rpath, "name");
	if (!(v = field(o, "name")))
		fail(x, p, "missing (every rule needs a name, e.g. \"disk-slow\")");
	else if (!cJSON_IsString(v) || !rule_name_valid(v->valuestring))
		fail(x, p, "%s is not a rule name (a-z, 0-9, '-', '_', '.'; up to %d characters)",
		     jtext(v, buf, sizeof(buf)), RULE_NAME_MAX - 1);
	else if (!x->builtin_rules && !strcmp(v->valuestring, CONFIG_OVERHEAD_RULE))
		fail(x, p, "\"%s\" is reserved for the rule the overhead section makes",
		     CONFIG_OVERHEAD_RULE);
	else
		snprintf(r->name, sizeof(r->name), "%s", v->valuestring);

	if ((v = field(o, "type"))) {
		join(p, rpath, "type");
		if (!cJSON_IsString(v) || rule_type_parse(v->valuestring, &r->type)) {
			fail(x, p, "%s is not a rule type (use \"threshold\", \"slope\", "
			     "\"exhaustion\" or \"baseline\")", jtext(v, buf, sizeof(buf)));
			return;	/* what else is allowed depends on the type */
		}
	}
	for (c = o->child; c; c = c->next) {
		if (!(key_types(c->string) & (1u << r->type))) {
			join(p, rpath, c->string);
			fail(x, p, "not used by %s rules", rule_type_name(r->type));
		}
	}

	join(p, rpath, "metric");
	if (!(v = field(o, "metric")))
		fail(x, p, "missing (the metric the rule watches, e.g. \"fs.used_ratio\")");
	else
		d = check_selector(x, p, v, &r->sel);
	if (d)
		r->unit = d->unit;

	if ((v = field(o, "direction"))) {
		join(p, rpath, "direction");
		if (cJSON_IsString(v) && !strcmp(v->valuestring, "above"))
			r->direction = RULE_ABOVE;
		else if (cJSON_IsString(v) && !strcmp(v->valuestring, "below"))
			r->direction = RULE_BELOW;
		else
			fail(x, p, "%s is not a direction (use \"above\" or \"below\")",
			     jtext(v, buf, sizeof(buf)));
	}

	get_duration(x, o, rpath, "hold", 0, 7 * DAY, &r->hold_ns);
	get_duration(x, o, rpath, "clear_hold", 0, 7 * DAY, &r->clear_hold_ns);
	get_duration(x, o, rpath, "cooldown", 0, 7 * DAY, &r->cooldown_ns);
	get_duration(x, o, rpath, "repeat", 0, 30 * DAY, &r->repeat_ns);
	parse_rule_trend(x, rpath, o, r, d);

	if (get_string(x, o, rpath, "message", &s, RULE_MESSAGE_MAX - 1, STR_NONEMPTY) > 0) {
		if (d && rule_message_check(s, d, bad, sizeof(bad))) {
			const char *known[] = { "value", "threshold", "rule", "metric", "severity",
						"labels", d->labels[0], d->labels[1], d->labels[2],
						d->labels[3], NULL };

			list_text(known, names, sizeof(names));
			join(p, rpath, "message");
			fail(x, p, "unknown placeholder \"%s\" (known: %s)", bad, names);
		}
		snprintf(r->message, sizeof(r->message), "%s", s);
	}
	free(s);

	/* Levels need the metric's unit: without a metric they are not read. */
	if (!d)
		return;
	{
		unsigned int before = nerrors(x);
		bool any = false;

		for (l = 0; l < RULE_LEVELS; l++) {
			if (!(v = field(o, config_level_keys[l])))
				continue;
			join(p, rpath, config_level_keys[l]);
			any = true;
			parse_level(x, p, v, r, &r->level[l]);
		}
		if ((v = field(o, "clear"))) {
			join(p, rpath, "clear");
			parse_level(x, p, v, r, &r->clear);
		}
		if (!any)
			fail(x, rpath, "no level (set warn, crit or info)");
		else if (nerrors(x) == before)
			check_level_order(x, rpath, o, r);
	}
	r->kind = rule_kind(r);
}

static void parse_rules(struct pctx *x, const cJSON *a, struct config *c)
{
	char buf[80], p[PATH_LEN], q[PATH_LEN];
	const cJSON *it;
	size_t n, i = 0, j;

	if (!cJSON_IsArray(a)) {
		fail(x, "rules", "%s is not an array of rules", jtext(a, buf, sizeof(buf)));
		return;
	}
	n = (size_t)cJSON_GetArraySize(a);
	c->rules = calloc(n ? n : 1, sizeof(*c->rules));
	if (!c->rules) {
		x->nomem = true;
		return;
	}
	cJSON_ArrayForEach(it, a) {
		parse_rule(x, it, i, &c->rules[i]);
		for (j = 0; j < i && c->rules[i].name[0]; j++) {
			if (!strcmp(c->rules[j].name, c->rules[i].name)) {
				join_index(p, "rules", i);
				join_index(q, "rules", j);
				join(p, p, "name");
				join(q, q, "name");
				fail(x, p, "\"%s\" is a duplicate (also %s)", c->rules[i].name, q);
				break;
			}
		}
		i++;
	}
	c->nrules = n;
}

/* ---- whole configs ---------------------------------------------------- */

static int set_str(char **dst, const char *s)
{
	*dst = strdup(s);
	return *dst ? 0 : -ENOMEM;
}

/* Everything but the rules. */
static int init_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->interval_ns = 10 * SEC;
	c->probes.syscall.enabled = true;
	c->probes.syscall.slow_ns = 100 * NSEC_PER_MSEC;
	c->probes.disk.enabled = true;
	c->probes.disk.slow_ns = 100 * NSEC_PER_MSEC;
	c->probes.disk.rate = 100;
	c->probes.net.enabled = true;
	c->probes.net.rate = 10;
	c->probes.health.enabled = true;
	c->collectors = (struct config_collectors){
		.cpu = true, .cpu_per_cpu = true, .mem = true, .psi = true, .load = true,
		.limits = true, .fs = true, .netdev = true, .taint = true, .pstore = true,
	};
	c->logs.max_size = 64ULL << 20;
	c->logs.daily = true;
	c->logs.max_files = 10;
	c->logs.max_total = 1ULL << 30;
	c->logs.compress = true;
	c->journald.enabled = true;
	c->journald.min_severity = ALERT_WARNING;
	c->alert_command.timeout_ns = 10 * SEC;
	c->alert_command.min_severity = ALERT_WARNING;
	c->overhead.max_cpu = 0.02;
	c->overhead.hold_ns = MIN;
	c->overhead.detach = false;
	if (set_str(&c->probes.syscall.comm, "") || set_str(&c->probes.syscall.cgroup, "") ||
	    set_str(&c->logs.dir, "/var/log/perfagent") ||
	    set_str(&c->journald.socket, "/run/systemd/journal/socket") ||
	    set_str(&c->daemon.pid_file, "/run/perfagent.pid") ||
	    set_str(&c->daemon.control_socket, "/run/perfagent/control.sock") ||
	    set_str(&c->daemon.state_dir, "/var/lib/perfagent"))
		return -ENOMEM;
	return 0;
}

static void parse_default_rules(struct pctx *x, struct config *c)
{
	cJSON *a = cJSON_Parse(default_rules_json);

	if (!a) {
		x->nomem = true;
		return;
	}
	x->builtin_rules = true;
	parse_rules(x, a, c);
	x->builtin_rules = false;
	c->default_rules = true;
	cJSON_Delete(a);
}

int config_default(struct config *c)
{
	struct config_errors errs = { 0 };
	struct pctx x = { .errs = &errs };

	if (init_defaults(c)) {
		config_free(c);
		return -ENOMEM;
	}
	x.interval_ns = c->interval_ns;
	parse_default_rules(&x, c);
	if (x.nomem || errs.n) {
		/* errs.n would be a bug in default_rules_json; the tests check. */
		config_free(c);
		return -ENOMEM;
	}
	return 0;
}

/* "line 3, column 12" of pos in text. */
static void position(const char *text, const char *pos, unsigned int *line, unsigned int *col)
{
	const char *p;

	*line = 1;
	*col = 1;
	for (p = text; p < pos && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* How much of the line before pos to show with a syntax error: up to 32
 * characters, leading blanks left out.
 */
static size_t context_len(const char *text, const char *pos)
{
	size_t n = 0;

	while (pos - n > text && n < 32 && pos[-(long)n - 1] != '\n')
		n++;
	while (n && (pos[-(long)n] == ' ' || pos[-(long)n] == '\t'))
		n--;
	return n;
}

static void parse_root(struct pctx *x, const cJSON *root, struct config *c)
{
	const cJSON *v;

	if (!object_ok(x, root, "", KEYS("interval", "probes", "collectors", "logs", "journald",
					 "alert_command", "overhead", "daemon", "rules")))
		return;
	get_duration(x, root, "", "interval", 100 * NSEC_PER_MSEC, HOUR, &c->interval_ns);
	x->interval_ns = c->interval_ns;
	if ((v = field(root, "probes")))
		parse_probes(x, v, c);
	if ((v = field(root, "collectors")))
		parse_collectors(x, v, &c->collectors);
	if ((v = field(root, "logs")))
		parse_logs(x, v, c);
	if ((v = field(root, "journald")))
		parse_journald(x, v, c);
	if ((v = field(root, "alert_command")))
		parse_alert_command(x, v, c);
	if ((v = field(root, "overhead")))
		parse_overhead(x, v, c);
	if ((v = field(root, "daemon")))
		parse_daemon(x, v, c);
	if ((v = field(root, "rules")))
		parse_rules(x, v, c);
	else
		parse_default_rules(x, c);
}

int config_parse(const char *json, struct config *out, struct config_errors *errs)
{
	struct pctx x = { .errs = errs };
	const char *end = NULL;
	unsigned int line, col;
	struct config c;
	cJSON *root;

	memset(errs, 0, sizeof(*errs));
	root = cJSON_ParseWithOpts(json, &end, 1);
	if (!root) {
		if (!end)
			end = json + strlen(json);
		position(json, end, &line, &col);
		if (!*end)
			fail(&x, "", "line %u, column %u: the JSON ends too early (a missing '}' "
			     "or ']'?)", line, col);
		else
			fail(&x, "", "line %u, column %u: not valid JSON after '%.*s'", line, col,
			     (int)context_len(json, end), end - context_len(json, end));
		return -EINVAL;
	}
	if (init_defaults(&c)) {
		config_free(&c);
		cJSON_Delete(root);
		return -ENOMEM;
	}
	x.interval_ns = c.interval_ns;
	parse_root(&x, root, &c);
	cJSON_Delete(root);
	if (x.nomem || nerrors(&x)) {
		config_free(&c);
		return x.nomem ? -ENOMEM : -EINVAL;
	}
	*out = c;
	return 0;
}

int config_load(const char *path, struct config *c, struct config_errors *errs)
{
	struct pctx x = { .errs = errs };
	struct stat st;
	char *text;
	ssize_t n;
	int fd, ret;

	memset(errs, 0, sizeof(*errs));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		fail(&x, "", "cannot read the config: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX_BYTES) {
		fail(&x, "", "not a config file (a regular file of at most %d bytes)",
		     CONFIG_MAX_BYTES);
		close(fd);
		return -EINVAL;
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		fail(&x, "", "cannot read the config: %s", n < 0 ? strerror(errno) : "short read");
		free(text);
		return -EINVAL;
	}
	text[n] = '\0';
	if (strlen(text) != (size_t)n) {
		fail(&x, "", "the config contains a NUL byte (not a text file?)");
		free(text);
		return -EINVAL;
	}
	ret = config_parse(text, c, errs);
	free(text);
	return ret;
}

/* ---- back to JSON ----------------------------------------------------- */

int config_engine_rules(const struct config *c, struct rule_def **out, size_t *n)
{
	struct rule_def *v = calloc(c->nrules + 1, sizeof(*v)), *r;

	*out = NULL;
	*n = 0;
	if (!v)
		return -ENOMEM;
	if (c->nrules)
		memcpy(v, c->rules, c->nrules * sizeof(*v));
	*n = c->nrules;
	if (c->overhead.max_cpu > 0) {
		r = &v[(*n)++];
		snprintf(r->name, sizeof(r->name), "%s", CONFIG_OVERHEAD_RULE);
		r->type = RULE_THRESHOLD;
		snprintf(r->sel.name, sizeof(r->sel.name), "probe.cpu_ratio");
		r->unit = METRIC_UNIT_RATIO;
		r->kind = ALERT_OVERHEAD;
		r->direction = RULE_ABOVE;
		r->level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = c->overhead.max_cpu };
		r->hold_ns = c->overhead.hold_ns;
		r->cooldown_ns = HOUR;
		snprintf(r->message, sizeof(r->message), "probe {probe} costs {value} of a CPU "
			 "(budget {threshold})%s", c->overhead.detach ? ": detaching it" : "");
	}
	*out = v;
	return 0;
}

void config_free(struct config *c)
{
	free(c->probes.syscall.comm);
	free(c->probes.syscall.cgroup);
	strings_free(&c->probes.syscall.syscalls);
	strings_free(&c->probes.disk.devices);
	strings_free(&c->collectors.fs_mountpoints);
	strings_free(&c->collectors.netdev_interfaces);
	free(c->logs.dir);
	free(c->journald.socket);
	free(c->alert_command.path);
	strings_free(&c->alert_command.args);
	free(c->daemon.pid_file);
	free(c->daemon.control_socket);
	free(c->daemon.state_dir);
	free(c->rules);
	memset(c, 0, sizeof(*c));
}
