// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "units.h"

#define L1(a)		{ a, NULL, NULL, NULL }
#define L2(a, b)	{ a, b, NULL, NULL }
#define L3(a, b, c)	{ a, b, c, NULL }
#define L0		{ NULL, NULL, NULL, NULL }
#define FS_LABELS	L3("mountpoint", "device", "fstype")

/*
 * Every metric the agent emits, sorted by name (metric_lookup bisects).
 * Changing a name or a label breaks users' rules and dashboards: add, do not
 * rename. docs/metrics.md mirrors this table.
 */
static const struct metric_desc catalog[] = {
	{ "agent.cpu_ratio", METRIC_UNIT_RATIO, L0, "CPU time of the agent process (user + system), share of one CPU" },
	{ "agent.rss_bytes", METRIC_UNIT_BYTES, L0, "resident memory of the agent process" },
	{ "cpu.busy_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time not idle and not in iowait (cpu=total or a CPU number)" },
	{ "cpu.context_switches_per_s", METRIC_UNIT_PER_S, L0, "context switches" },
	{ "cpu.count", METRIC_UNIT_NONE, L0, "online CPUs" },
	{ "cpu.forks_per_s", METRIC_UNIT_PER_S, L0, "processes and threads created" },
	{ "cpu.idle_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time idle" },
	{ "cpu.iowait_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time idle with I/O outstanding" },
	{ "cpu.irq_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time in hard interrupts" },
	{ "cpu.nice_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time in niced user code" },
	{ "cpu.procs_blocked", METRIC_UNIT_NONE, L0, "tasks blocked on I/O" },
	{ "cpu.procs_running", METRIC_UNIT_NONE, L0, "tasks runnable" },
	{ "cpu.softirq_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time in soft interrupts" },
	{ "cpu.steal_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time taken by the hypervisor" },
	{ "cpu.system_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time in the kernel" },
	{ "cpu.user_ratio", METRIC_UNIT_RATIO, L1("cpu"), "share of time in user code" },
	{ "disk.errors_per_s", METRIC_UNIT_PER_S, L1("device"), "block requests completed with an error" },
	{ "disk.latency.max", METRIC_UNIT_NS, L1("device"), "slowest block request in the interval" },
	{ "disk.latency.p50", METRIC_UNIT_NS, L1("device"), "median block request latency" },
	{ "disk.latency.p99", METRIC_UNIT_NS, L1("device"), "99th percentile block request latency" },
	{ "disk.read_bytes_per_s", METRIC_UNIT_BYTES_PER_S, L1("device"), "bytes read" },
	{ "disk.reads_per_s", METRIC_UNIT_PER_S, L1("device"), "read requests completed" },
	{ "disk.slow_per_s", METRIC_UNIT_PER_S, L1("device"), "block requests slower than probes.disk.slow" },
	{ "disk.util", METRIC_UNIT_RATIO, L1("device"), "share of time the device had requests in flight" },
	{ "disk.write_bytes_per_s", METRIC_UNIT_BYTES_PER_S, L1("device"), "bytes written" },
	{ "disk.writes_per_s", METRIC_UNIT_PER_S, L1("device"), "write requests completed" },
	{ "events.loss_ratio", METRIC_UNIT_RATIO, L1("source"), "lost / (sent + lost) events in the interval, per stage" },
	{ "events.lost_per_s", METRIC_UNIT_PER_S, L1("source"), "events lost (ring buffer full, queue full, log not written)" },
	{ "events.sent_per_s", METRIC_UNIT_PER_S, L1("source"), "events delivered" },
	{ "fs.avail_bytes", METRIC_UNIT_BYTES, FS_LABELS, "space available to unprivileged users" },
	{ "fs.inodes", METRIC_UNIT_NONE, FS_LABELS, "inodes in the filesystem" },
	{ "fs.inodes_used", METRIC_UNIT_NONE, FS_LABELS, "inodes in use" },
	{ "fs.inodes_used_ratio", METRIC_UNIT_RATIO, FS_LABELS, "inodes in use, share of all" },
	{ "fs.readonly", METRIC_UNIT_NONE, FS_LABELS, "1 when mounted read-only" },
	{ "fs.size_bytes", METRIC_UNIT_BYTES, FS_LABELS, "size of the filesystem" },
	{ "fs.used_bytes", METRIC_UNIT_BYTES, FS_LABELS, "space in use" },
	{ "fs.used_ratio", METRIC_UNIT_RATIO, FS_LABELS, "used / (used + available), as df's Use%" },
	{ "health.events_per_s", METRIC_UNIT_PER_S, L1("kind"), "events from the kernel module, by kind" },
	{ "kernel.tainted", METRIC_UNIT_NONE, L0, "the kernel taint mask, /proc/sys/kernel/tainted (0: not tainted)" },
	{ "limits.open_files", METRIC_UNIT_NONE, L0, "file handles allocated" },
	{ "limits.open_files_max", METRIC_UNIT_NONE, L0, "fs.file-max" },
	{ "limits.open_files_ratio", METRIC_UNIT_RATIO, L0, "file handles allocated, share of fs.file-max" },
	{ "limits.pid_max", METRIC_UNIT_NONE, L0, "kernel.pid_max" },
	{ "limits.pids_ratio", METRIC_UNIT_RATIO, L0, "threads, share of kernel.pid_max" },
	{ "limits.processes", METRIC_UNIT_NONE, L0, "processes" },
	{ "limits.threads", METRIC_UNIT_NONE, L0, "threads" },
	{ "limits.threads_max", METRIC_UNIT_NONE, L0, "kernel.threads-max" },
	{ "limits.threads_ratio", METRIC_UNIT_RATIO, L0, "threads, share of kernel.threads-max" },
	{ "load.avg1", METRIC_UNIT_NONE, L0, "1-minute load average" },
	{ "load.avg15", METRIC_UNIT_NONE, L0, "15-minute load average" },
	{ "load.avg1_per_cpu", METRIC_UNIT_NONE, L0, "1-minute load average per online CPU" },
	{ "load.avg5", METRIC_UNIT_NONE, L0, "5-minute load average" },
	{ "load.runnable", METRIC_UNIT_NONE, L0, "runnable tasks" },
	{ "load.tasks", METRIC_UNIT_NONE, L0, "tasks" },
	{ "mem.available_bytes", METRIC_UNIT_BYTES, L0, "MemAvailable: what can be had without swapping" },
	{ "mem.available_ratio", METRIC_UNIT_RATIO, L0, "MemAvailable / MemTotal" },
	{ "mem.buffers_bytes", METRIC_UNIT_BYTES, L0, "block device buffers" },
	{ "mem.cached_bytes", METRIC_UNIT_BYTES, L0, "page cache" },
	{ "mem.commit_limit_bytes", METRIC_UNIT_BYTES, L0, "CommitLimit" },
	{ "mem.committed_bytes", METRIC_UNIT_BYTES, L0, "Committed_AS" },
	{ "mem.committed_ratio", METRIC_UNIT_RATIO, L0, "Committed_AS / CommitLimit" },
	{ "mem.dirty_bytes", METRIC_UNIT_BYTES, L0, "dirty page cache" },
	{ "mem.free_bytes", METRIC_UNIT_BYTES, L0, "MemFree" },
	{ "mem.major_faults_per_s", METRIC_UNIT_PER_S, L0, "major page faults" },
	{ "mem.oom_kills_per_s", METRIC_UNIT_PER_S, L0, "processes killed by the OOM killer" },
	{ "mem.shmem_bytes", METRIC_UNIT_BYTES, L0, "shared memory and tmpfs" },
	{ "mem.slab_unreclaimable_bytes", METRIC_UNIT_BYTES, L0, "unreclaimable kernel slab" },
	{ "mem.total_bytes", METRIC_UNIT_BYTES, L0, "MemTotal" },
	{ "mem.used_bytes", METRIC_UNIT_BYTES, L0, "MemTotal - MemAvailable" },
	{ "mem.writeback_bytes", METRIC_UNIT_BYTES, L0, "page cache under writeback" },
	{ "net.drops_per_s", METRIC_UNIT_PER_S, L1("reason"), "packets dropped by the kernel, by drop reason" },
	{ "net.tcp_connect_failures_per_s", METRIC_UNIT_PER_S, L0, "TCP connects that failed" },
	{ "net.tcp_resets_received_per_s", METRIC_UNIT_PER_S, L0, "TCP resets received" },
	{ "net.tcp_resets_sent_per_s", METRIC_UNIT_PER_S, L0, "TCP resets sent" },
	{ "net.tcp_retransmits_per_s", METRIC_UNIT_PER_S, L0, "TCP segments retransmitted" },
	{ "netdev.rx_bytes_per_s", METRIC_UNIT_BYTES_PER_S, L1("interface"), "bytes received" },
	{ "netdev.rx_dropped_per_s", METRIC_UNIT_PER_S, L1("interface"), "received packets dropped" },
	{ "netdev.rx_errors_per_s", METRIC_UNIT_PER_S, L1("interface"), "receive errors" },
	{ "netdev.rx_packets_per_s", METRIC_UNIT_PER_S, L1("interface"), "packets received" },
	{ "netdev.tx_bytes_per_s", METRIC_UNIT_BYTES_PER_S, L1("interface"), "bytes sent" },
	{ "netdev.tx_dropped_per_s", METRIC_UNIT_PER_S, L1("interface"), "sent packets dropped" },
	{ "netdev.tx_errors_per_s", METRIC_UNIT_PER_S, L1("interface"), "transmit errors" },
	{ "netdev.tx_packets_per_s", METRIC_UNIT_PER_S, L1("interface"), "packets sent" },
	{ "probe.cpu_ratio", METRIC_UNIT_RATIO, L1("probe"), "in-kernel run time of a probe's BPF programs, share of one CPU" },
	{ "probe.runs_per_s", METRIC_UNIT_PER_S, L1("probe"), "runs of a probe's BPF programs" },
	{ "psi.full_avg10_ratio", METRIC_UNIT_RATIO, L1("resource"), "the kernel's 10-second average of full stalls" },
	{ "psi.full_stall_ratio", METRIC_UNIT_RATIO, L1("resource"), "share of time all non-idle tasks stalled (resource=memory, io, cpu)" },
	{ "psi.some_avg10_ratio", METRIC_UNIT_RATIO, L1("resource"), "the kernel's 10-second average of some stalls" },
	{ "psi.some_stall_ratio", METRIC_UNIT_RATIO, L1("resource"), "share of time some task stalled (resource=memory, io, cpu, irq)" },
	{ "swap.free_bytes", METRIC_UNIT_BYTES, L0, "SwapFree" },
	{ "swap.in_pages_per_s", METRIC_UNIT_PER_S, L0, "pages swapped in" },
	{ "swap.out_pages_per_s", METRIC_UNIT_PER_S, L0, "pages swapped out" },
	{ "swap.total_bytes", METRIC_UNIT_BYTES, L0, "SwapTotal" },
	{ "swap.used_bytes", METRIC_UNIT_BYTES, L0, "SwapTotal - SwapFree" },
	{ "swap.used_ratio", METRIC_UNIT_RATIO, L0, "swap in use, share of all (absent without swap)" },
	{ "syscall.calls_per_s", METRIC_UNIT_PER_S, L1("syscall"), "calls completed" },
	{ "syscall.error_ratio", METRIC_UNIT_RATIO, L1("syscall"), "calls that returned an error, share of all" },
	{ "syscall.errors_per_s", METRIC_UNIT_PER_S, L1("syscall"), "calls that returned an error" },
	{ "syscall.latency.max", METRIC_UNIT_NS, L1("syscall"), "slowest call in the interval" },
	{ "syscall.latency.mean", METRIC_UNIT_NS, L1("syscall"), "mean call latency" },
	{ "syscall.latency.p50", METRIC_UNIT_NS, L1("syscall"), "median call latency" },
	{ "syscall.latency.p90", METRIC_UNIT_NS, L1("syscall"), "90th percentile call latency" },
	{ "syscall.latency.p99", METRIC_UNIT_NS, L1("syscall"), "99th percentile call latency" },
	{ "syscall.slow_per_s", METRIC_UNIT_PER_S, L1("syscall"), "calls slower than probes.syscall.slow" },
};

#define NCATALOG (sizeof(catalog) / sizeof(catalog[0]))

static int cmp_desc(const void *key, const void *elem)
{
	return strcmp(key, ((const struct metric_desc *)elem)->name);
}

const struct metric_desc *metric_lookup(const char *name)
{
	if (!name)
		return NULL;
	return bsearch(name, catalog, NCATALOG, sizeof(catalog[0]), cmp_desc);
}

const struct metric_desc *metric_catalog(size_t *n)
{
	*n = NCATALOG;
	return catalog;
}

bool metric_desc_has_label(const struct metric_desc *d, const char *label)
{
	unsigned int i;

	for (i = 0; i < METRIC_MAX_LABELS && d->labels[i]; i++)
		if (strcmp(d->labels[i], label) == 0)
			return true;
	return false;
}

const char *metric_unit_name(enum metric_unit u)
{
	switch (u) {
	case METRIC_UNIT_RATIO: return "ratio";
	case METRIC_UNIT_BYTES: return "bytes";
	case METRIC_UNIT_BYTES_PER_S: return "bytes/s";
	case METRIC_UNIT_NS: return "ns";
	case METRIC_UNIT_PER_S: return "1/s";
	case METRIC_UNIT_NONE: break;
	}
	return "number";
}

struct metric_sample metric_sample_make(const char *name, double value, uint64_t ts_ns, ...)
{
	struct metric_sample s = { .name = name, .value = value, .ts_ns = ts_ns };
	const char *k;
	va_list ap;

	va_start(ap, ts_ns);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		if (s.nlabels < METRIC_MAX_LABELS) {
			s.labels[s.nlabels].name = k;
			s.labels[s.nlabels].value = v;
			s.nlabels++;
		}
	}
	va_end(ap);
	return s;
}

const char *metric_sample_label(const struct metric_sample *s, const char *name)
{
	unsigned int i;

	for (i = 0; i < s->nlabels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

bool metric_label_name_valid(const char *s)
{
	size_t i;

	if (!s || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; s[i]; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return i < METRIC_LABEL_NAME_MAX;
}

/* Append c to buf at *pos; false once it no longer fits (NUL kept in). */
static bool put(char *buf, size_t len, size_t *pos, char c)
{
	if (*pos + 1 >= len)
		return false;
	buf[(*pos)++] = c;
	buf[*pos] = '\0';
	return true;
}

static bool put_str(char *buf, size_t len, size_t *pos, const char *s, bool escape)
{
	for (; *s; s++) {
		if (escape && (*s == ',' || *s == '}' || *s == '\\') && !put(buf, len, pos, '\\'))
			return false;
		if (!put(buf, len, pos, *s))
			return false;
	}
	return true;
}

int metric_key(const char *name, const struct metric_label *labels, unsigned int n,
	       char *buf, size_t len)
{
	const struct metric_label *sorted[METRIC_MAX_LABELS];
	unsigned int i, j;
	size_t pos = 0;

	if (len == 0 || n > METRIC_MAX_LABELS)
		return -1;
	buf[0] = '\0';
	/* Insertion sort: at most four labels, and no allocation. */
	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && strcmp(sorted[j - 1]->name, labels[i].name) > 0; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = &labels[i];
	}
	if (!put_str(buf, len, &pos, name, false))
		return -1;
	for (i = 0; i < n; i++) {
		if (!put(buf, len, &pos, i ? ',' : '{') ||
		    !put_str(buf, len, &pos, sorted[i]->name, false) ||
		    !put(buf, len, &pos, '=') ||
		    !put_str(buf, len, &pos, sorted[i]->value, true))
			return -1;
	}
	if (n && !put(buf, len, &pos, '}'))
		return -1;
	return (int)pos;
}

static bool metric_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

/* Copy an unescaped label value from *s up to ',' or '}' into out. */
static int parse_label_value(const char **s, char *out, size_t len)
{
	const char *p = *s;
	size_t n = 0;

	while (*p && *p != ',' && *p != '}') {
		if (*p == '\\' && p[1])
			p++;
		if (n + 1 >= len)
			return -1;
		out[n++] = *p++;
	}
	out[n] = '\0';
	*s = p;
	return 0;
}

int metric_selector_parse(const char *s, struct metric_selector *sel, char *err, size_t len)
{
	const char *p = s;
	size_t n = 0;

	memset(sel, 0, sizeof(*sel));
	while (metric_name_char(*p)) {
		if (n + 1 >= sizeof(sel->name)) {
			snprintf(err, len, "metric name longer than %d characters",
				 METRIC_NAME_MAX - 1);
			return -1;
		}
		sel->name[n++] = *p++;
	}
	if (n == 0 || (*p && *p != '{')) {
		snprintf(err, len, "expected a metric name, then optional {label=value,...}");
		return -1;
	}
	if (!*p)
		return 0;
	p++;
	while (*p != '}') {
		struct metric_matcher *m;
		const char *eq = strchr(p, '=');

		if (sel->nmatchers == METRIC_MAX_LABELS) {
			snprintf(err, len, "more than %d labels", METRIC_MAX_LABELS);
			return -1;
		}
		m = &sel->m[sel->nmatchers];
		if (!eq || (size_t)(eq - p) >= sizeof(m->name) || eq == p) {
			snprintf(err, len, "expected label=value inside {}");
			return -1;
		}
		memcpy(m->name, p, (size_t)(eq - p));
		if (!metric_label_name_valid(m->name)) {
			snprintf(err, len, "\"%s\" is not a label name (a-z, 0-9, _)", m->name);
			return -1;
		}
		p = eq + 1;
		if (parse_label_value(&p, m->pattern, sizeof(m->pattern))) {
			snprintf(err, len, "label value longer than %d characters",
				 METRIC_LABEL_VALUE_MAX - 1);
			return -1;
		}
		if (!m->pattern[0]) {
			snprintf(err, len, "label %s has an empty value", m->name);
			return -1;
		}
		sel->nmatchers++;
		if (*p == ',')
			p++;
		else if (*p != '}') {
			snprintf(err, len, "missing '}'");
			return -1;
		}
	}
	if (p[1]) {
		snprintf(err, len, "text after '}'");
		return -1;
	}
	return 0;
}

char *metric_selector_format(const struct metric_selector *sel, char *buf, size_t len)
{
	unsigned int i;
	size_t pos = 0;

	/* Matchers keep their written order. */
	buf[0] = '\0';
	put_str(buf, len, &pos, sel->name, false);
	for (i = 0; i < sel->nmatchers; i++) {
		put(buf, len, &pos, i ? ',' : '{');
		put_str(buf, len, &pos, sel->m[i].name, false);
		put(buf, len, &pos, '=');
		put_str(buf, len, &pos, sel->m[i].pattern, true);
	}
	if (sel->nmatchers)
		put(buf, len, &pos, '}');
	return buf;
}

bool metric_pattern_match(const char *pattern, const char *value)
{
	char glob[METRIC_LABEL_VALUE_MAX];
	const char *p = pattern;

	for (;;) {
		size_t n = strcspn(p, "|");

		if (n < sizeof(glob)) {
			memcpy(glob, p, n);
			glob[n] = '\0';
			if (fnmatch(glob, value, 0) == 0)
				return true;
		}
		if (!p[n])
			return false;
		p += n + 1;
	}
}

bool metric_selector_match(const struct metric_selector *sel, const struct metric_sample *s)
{
	unsigned int i;

	if (strcmp(sel->name, s->name) != 0)
		return false;
	for (i = 0; i < sel->nmatchers; i++) {
		const char *v = metric_sample_label(s, sel->m[i].name);

		if (!v || !metric_pattern_match(sel->m[i].pattern, v))
			return false;
	}
	return true;
}

/* Three significant digits without trailing zeros: "1.5", "12.3", "512". */
static char *sig3(double v, char *buf, size_t len)
{
	double a = fabs(v);
	char *dot, *end;

	snprintf(buf, len, "%.*f", a < 10 ? 2 : a < 100 ? 1 : 0, v);
	dot = strchr(buf, '.');
	if (dot) {
		end = buf + strlen(buf) - 1;
		while (end > dot && *end == '0')
			*end-- = '\0';
		if (end == dot)
			*end = '\0';
	}
	return buf;
}

char *metric_format_duration(double ns, char *buf, size_t len)
{
	uint64_t s, d, h, m;

	if (isnan(ns)) {
		snprintf(buf, len, "unknown");
		return buf;
	}
	if (isinf(ns) && ns > 0) {
		snprintf(buf, len, "never");
		return buf;
	}
	if (ns < 0)
		ns = 0;
	if (ns < 60e9)
		return format_duration((uint64_t)ns, buf, len);
	s = (uint64_t)(ns / 1e9);
	d = s / 86400;
	h = s / 3600 % 24;
	m = s / 60 % 60;
	if (d)
		snprintf(buf, len, "%llud%02lluh", (unsigned long long)d, (unsigned long long)h);
	else if (h)
		snprintf(buf, len, "%lluh%02llum", (unsigned long long)h, (unsigned long long)m);
	else
		snprintf(buf, len, "%llum%02llus", (unsigned long long)m,
			 (unsigned long long)(s % 60));
	return buf;
}

/* 1536 -> "1.5K": binary multiples, as the config's sizes are written. */
static char *format_bytes(double v, const char *suffix, char *buf, size_t len)
{
	static const char *const units[] = { "B", "K", "M", "G", "T", "P" };
	char num[32];
	unsigned int i = 0;

	while (fabs(v) >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%s%s%s", sig3(v, num, sizeof(num)), units[i], suffix);
	return buf;
}

char *metric_format_value(enum metric_unit u, double v, char *buf, size_t len)
{
	char num[32];

	if (isnan(v)) {
		snprintf(buf, len, "unknown");
		return buf;
	}
	switch (u) {
	case METRIC_UNIT_NS:
		return metric_format_duration(v, buf, len);
	case METRIC_UNIT_BYTES:
		return format_bytes(v, "", buf, len);
	case METRIC_UNIT_BYTES_PER_S:
		return format_bytes(v, "/s", buf, len);
	case METRIC_UNIT_RATIO:
		snprintf(buf, len, "%s%%", sig3(v * 100, num, sizeof(num)));
		return buf;
	case METRIC_UNIT_PER_S:
		if (fabs(v) >= 1e6)
			snprintf(buf, len, "%sM/s", sig3(v / 1e6, num, sizeof(num)));
		else if (fabs(v) >= 1e4)
			snprintf(buf, len, "%sk/s", sig3(v / 1e3, num, sizeof(num)));
		else
			snprintf(buf, len, "%s/s", sig3(v, num, sizeof(num)));
		return buf;
	case METRIC_UNIT_NONE:
		break;
	}
	if (isinf(v))
		snprintf(buf, len, v > 0 ? "inf" : "-inf");
	else if (fabs(v) >= 1e4 && fabs(v) < 1e15 && v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		sig3(v, buf, len);
	return buf;
}

/*
 * Strings of a batch live in blocks that never move, so a sample's pointers
 * stay good while the sample array itself grows.
 */
#define ARENA_BLOCK 8192

struct metric_arena {
	struct metric_arena *next;
	size_t used, size;
	char data[];
};

static const char *arena_strdup(struct metric_arena **head, const char *s)
{
	size_t n = strlen(s) + 1;
	struct metric_arena *a = *head;
	char *p;

	if (!a || a->size - a->used < n) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;

		a = malloc(sizeof(*a) + size);
		if (!a)
			return NULL;
		a->next = *head;
		a->used = 0;
		a->size = size;
		*head = a;
	}
	p = a->data + a->used;
	memcpy(p, s, n);
	a->used += n;
	return p;
}

int metric_batch_add(struct metric_batch *b, const struct metric_sample *s)
{
	struct metric_sample copy = *s;
	unsigned int i;

	if (s->nlabels > METRIC_MAX_LABELS)
		return -EINVAL;
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct metric_sample *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	copy.name = arena_strdup(&b->arena, s->name);
	if (!copy.name)
		return -ENOMEM;
	for (i = 0; i < s->nlabels; i++) {
		copy.labels[i].name = arena_strdup(&b->arena, s->labels[i].name);
		copy.labels[i].value = arena_strdup(&b->arena, s->labels[i].value);
		if (!copy.labels[i].name || !copy.labels[i].value)
			return -ENOMEM;
	}
	b->v[b->n++] = copy;
	return 0;
}

static void arena_free(struct metric_arena *a)
{
	while (a) {
		struct metric_arena *next = a->next;

		free(a);
		a = next;
	}
}

void metric_batch_reset(struct metric_batch *b)
{
	/* Keep the newest block for the next interval; free the rest. */
	if (b->arena) {
		arena_free(b->arena->next);
		b->arena->next = NULL;
		b->arena->used = 0;
	}
	b->n = 0;
}

void metric_batch_free(struct metric_batch *b)
{
	arena_free(b->arena);
	free(b->v);
	memset(b, 0, sizeof(*b));
}
