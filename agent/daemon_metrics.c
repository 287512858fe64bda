// SPDX-License-Identifier: GPL-2.0
/*
 * Probe aggregates of one interval -> metric samples with the names and
 * labels of docs/metrics.md (per syscall, per disk, per drop reason), and
 * the samples of the interval -> metrics.jsonl, one line per series:
 *
 *   {"type":"metric","name":"syscall.latency.p99","labels":{"syscall":"read"},
 *    "value":0.000123,"interval":"1s"}
 *
 * Lines are formatted by hand, not through cJSON: there are hundreds per
 * interval and this is the daemon's hottest path.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"
#include "blkdev_names.h"
#include "daemon.h"
#include "disk.h"
#include "disk_ops.h"
#include "hist.h"
#include "logwriter.h"
#include "net.h"
#include "net_report.h"
#include "syscall.h"
#include "syscall_names.h"

void daemon_add_sample(struct daemon *d, const char *name, double value, uint64_t ts, ...)
{
	struct metric_sample s = { .name = name, .value = value, .ts_ns = ts };
	const char *k;
	va_list ap;

	/* A value that is not a number (0/0 of an idle interval) is no sample. */
	if (!isfinite(value))
		return;
	va_start(ap, ts);
	while ((k = va_arg(ap, const char *)) && s.nlabels < METRIC_MAX_LABELS) {
		s.labels[s.nlabels].name = k;
		s.labels[s.nlabels].value = va_arg(ap, const char *);
		s.nlabels++;
	}
	va_end(ap);
	metric_batch_add(&d->batch, &s);
}

static double per_s(uint64_t n, uint64_t span_ns)
{
	return span_ns ? (double)n * 1e9 / (double)span_ns : 0;
}

/* Calls at least `slow` from the histogram: every bucket from the one that
 * holds `slow` up (so up to 1/16 below it may count as slow).
 */
static uint64_t hist_at_least(const uint64_t *h, uint64_t slow)
{
	unsigned int i;
	uint64_t n = 0;

	for (i = pa_hist_index(slow); i < PA_HIST_BUCKETS; i++)
		n += h[i];
	return n;
}

/* ---- syscalls --------------------------------------------------------- */

void daemon_metrics_syscalls(struct daemon *d, const struct syscall_totals *t,
			     uint64_t span_ns, uint64_t ts)
{
	uint64_t slow_ns = d->cfg.probes.syscall.slow_ns;
	unsigned int nr;

	for (nr = 0; nr < PA_SYSCALL_MAX; nr++) {
		const struct syscall_totals *s = &t[nr];
		char buf[32];
		const char *name;

		if (!s->count)
			continue;
		name = syscall_name_or_nr(nr, buf, sizeof(buf));
		daemon_add_sample(d, "syscall.calls_per_s", per_s(s->count, span_ns), ts,
				  "syscall", name, NULL);
		daemon_add_sample(d, "syscall.errors_per_s", per_s(s->errors, span_ns), ts,
				  "syscall", name, NULL);
		daemon_add_sample(d, "syscall.error_ratio", (double)s->errors / (double)s->count,
				  ts, "syscall", name, NULL);
		daemon_add_sample(d, "syscall.latency.p50",
				  (double)hist_percentile(s->hist, 0.50, s->max_ns), ts,
				  "syscall", name, NULL);
		daemon_add_sample(d, "syscall.latency.p90",
				  (double)hist_percentile(s->hist, 0.90, s->max_ns), ts,
				  "syscall", name, NULL);
		daemon_add_sample(d, "syscall.latency.p99",
				  (double)hist_percentile(s->hist, 0.99, s->max_ns), ts,
				  "syscall", name, NULL);
		daemon_add_sample(d, "syscall.latency.max", (double)s->max_ns, ts,
				  "syscall", name, NULL);
		daemon_add_sample(d, "syscall.latency.mean", (double)s->total_ns / (double)s->count,
				  ts, "syscall", name, NULL);
		if (slow_ns)
			daemon_add_sample(d, "syscall.slow_per_s",
					  per_s(hist_at_least(s->hist, slow_ns), span_ns), ts,
					  "syscall", name, NULL);
	}
}

/* ---- disks ------------------------------------------------------------ */

/* A disk the probe has reported: kept so its rates go on (as 0) when idle. */
static struct daemon_disk_dev *disk_dev(struct daemon *d, uint32_t major, uint32_t minor)
{
	struct daemon_disk_dev *v;
	size_t i;

	for (i = 0; i < d->ndisks; i++)
		if (d->disks[i].major == major && d->disks[i].minor == minor)
			return &d->disks[i];
	if (d->ndisks >= 256)
		return NULL;
	v = realloc(d->disks, (d->ndisks + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->disks = v;
	v = &d->disks[d->ndisks++];
	memset(v, 0, sizeof(*v));
	v->major = major;
	v->minor = minor;
	blkdev_name(major, minor, v->name, sizeof(v->name));
	return v;
}

/* Only the configured disks, when a list is given. */
static bool disk_wanted(const struct daemon *d, const char *name)
{
	const struct config_strings *l = &d->cfg.probes.disk.devices;
	size_t i;

	if (!l->n)
		return true;
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return true;
	return false;
}

/* Milliseconds the device had I/O in flight (io_ticks, /sys/.../stat field 10). */
static int read_io_ticks(const struct daemon_disk_dev *dev, uint64_t *ms)
{
	unsigned long long f[10];
	char path[64];
	FILE *fp;
	int n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/stat", dev->major, dev->minor);
	fp = fopen(path, "re");
	if (!fp)
		return -1;
	n = fscanf(fp, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9]);
	fclose(fp);
	if (n != 10)
		return -1;
	*ms = f[9];
	return 0;
}

struct disk_agg {
	uint64_t reads, writes, read_bytes, write_bytes, errors, count, max_ns;
	uint64_t hist[PA_HIST_BUCKETS];
};

static void disk_emit(struct daemon *d, struct daemon_disk_dev *dev, const struct disk_agg *a,
		      uint64_t span_ns, uint64_t ts)
{
	const char *n = dev->name;
	uint64_t ticks;

	daemon_add_sample(d, "disk.reads_per_s", per_s(a->reads, span_ns), ts, "device", n, NULL);
	daemon_add_sample(d, "disk.writes_per_s", per_s(a->writes, span_ns), ts, "device", n, NULL);
	daemon_add_sample(d, "disk.read_bytes_per_s", per_s(a->read_bytes, span_ns), ts,
			  "device", n, NULL);
	daemon_add_sample(d, "disk.write_bytes_per_s", per_s(a->write_bytes, span_ns), ts,
			  "device", n, NULL);
	daemon_add_sample(d, "disk.errors_per_s", per_s(a->errors, span_ns), ts, "device", n, NULL);
	if (a->count) {
		daemon_add_sample(d, "disk.latency.p50", (double)hist_percentile(a->hist, 0.5, a->max_ns),
				  ts, "device", n, NULL);
		daemon_add_sample(d, "disk.latency.p99",
				  (double)hist_percentile(a->hist, 0.99, a->max_ns), ts,
				  "device", n, NULL);
		daemon_add_sample(d, "disk.latency.max", (double)a->max_ns, ts, "device", n, NULL);
	}
	if (d->cfg.probes.disk.slow_ns)
		daemon_add_sample(d, "disk.slow_per_s",
				  per_s(hist_at_least(a->hist, d->cfg.probes.disk.slow_ns), span_ns),
				  ts, "device", n, NULL);
	if (read_io_ticks(dev, &ticks) == 0) {
		if (dev->have_ticks && span_ns) {
			double util = (double)(ticks - dev->io_ticks_ms) * 1e6 / (double)span_ns;

			daemon_add_sample(d, "disk.util", util > 1 ? 1 : util, ts, "device", n, NULL);
		}
		dev->io_ticks_ms = ticks;
		dev->have_ticks = true;
	}
}

void daemon_metrics_disks(struct daemon *d, const struct disk_set *set, uint64_t span_ns,
			  uint64_t ts)
{
	const struct disk_ops *ops = disk_ops_kernel();
	struct disk_agg *agg;
	size_t i, k;
	int b;

	for (i = 0; i < set->n; i++)
		disk_dev(d, PA_KDEV_MAJOR(set->rows[i].key.dev), PA_KDEV_MINOR(set->rows[i].key.dev));
	agg = calloc(d->ndisks ? d->ndisks : 1, sizeof(*agg));
	if (!agg)
		return;
	for (i = 0; i < set->n; i++) {
		const struct disk_totals *r = &set->rows[i];
		char op[32];

		for (k = 0; k < d->ndisks; k++)
			if (PA_KDEV(d->disks[k].major, d->disks[k].minor) == r->key.dev)
				break;
		if (k == d->ndisks)
			continue;
		disk_op_name(ops, r->key.op, op, sizeof(op));
		if (!strcmp(op, "read")) {
			agg[k].reads += r->count;
			agg[k].read_bytes += r->bytes;
		} else if (!strcmp(op, "write")) {
			agg[k].writes += r->count;
			agg[k].write_bytes += r->bytes;
		}
		agg[k].errors += r->errors;
		agg[k].count += r->count;
		if (r->latency_max_ns > agg[k].max_ns)
			agg[k].max_ns = r->latency_max_ns;
		for (b = 0; b < PA_HIST_BUCKETS; b++)
			agg[k].hist[b] += r->latency_hist[b];
	}
	for (k = 0; k < d->ndisks; k++)
		if (disk_wanted(d, d->disks[k].name))
			disk_emit(d, &d->disks[k], &agg[k], span_ns, ts);
	free(agg);
}

/* ---- network ---------------------------------------------------------- */

void daemon_metrics_net(struct daemon *d, const struct net_totals *t, uint64_t span_ns,
			uint64_t ts)
{
	size_t i;
	char *c;

	daemon_add_sample(d, "net.tcp_retransmits_per_s", per_s(t->tcp.retransmits, span_ns), ts,
			  NULL);
	daemon_add_sample(d, "net.tcp_resets_sent_per_s", per_s(t->tcp.resets_sent, span_ns), ts,
			  NULL);
	daemon_add_sample(d, "net.tcp_resets_received_per_s",
			  per_s(t->tcp.resets_received, span_ns), ts, NULL);
	daemon_add_sample(d, "net.tcp_connect_failures_per_s",
			  per_s(t->tcp.connect_failed, span_ns), ts, NULL);
	for (i = 0; i < t->n_drops; i++) {
		char reason[96];

		if (!t->drops[i].count)
			continue;
		net_drop_reason_name(t->drops[i].reason, reason, sizeof(reason));
		for (c = reason; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		daemon_add_sample(d, "net.drops_per_s", per_s(t->drops[i].count, span_ns), ts,
				  "reason", reason, NULL);
	}
}

/* ---- metrics.jsonl ---------------------------------------------------- */

bool json_escape(char *buf, size_t len, size_t *pos, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t p = *pos;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (p + 7 >= len)
			return false;
		if (c == '"' || c == '\\') {
			buf[p++] = '\\';
			buf[p++] = (char)c;
		} else if (c < 0x20) {
			memcpy(buf + p, "\\u00", 4);
			buf[p + 4] = hex[c >> 4];
			buf[p + 5] = hex[c & 15];
			p += 6;
		} else {
			buf[p++] = (char)c;
		}
	}
	*pos = p;
	return true;
}

static bool put(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n + 1 >= len)
		return false;
	memcpy(buf + *pos, s, n);
	*pos += n;
	return true;
}

/* One metrics.jsonl object; 0 when it did not fit (not written). */
static size_t format_metric(char *buf, size_t len, const struct metric_sample *s,
			    const char *interval)
{
	char num[48];
	size_t pos = 0;
	unsigned int i;
	bool ok;

	ok = put(buf, len, &pos, "{\"type\":\"metric\",\"name\":\"") &&
	     json_escape(buf, len, &pos, s->name) && put(buf, len, &pos, "\",\"labels\":{");
	for (i = 0; ok && i < s->nlabels; i++)
		ok = put(buf, len, &pos, i ? ",\"" : "\"") &&
		     json_escape(buf, len, &pos, s->labels[i].name) &&
		     put(buf, len, &pos, "\":\"") &&
		     json_escape(buf, len, &pos, s->labels[i].value) && put(buf, len, &pos, "\"");
	ok = ok && put(buf, len, &pos, "},\"value\":") &&
	     put(buf, len, &pos, alert_format_number(s->value, num, sizeof(num))) &&
	     put(buf, len, &pos, ",\"interval\":\"") && put(buf, len, &pos, interval) &&
	     put(buf, len, &pos, "\"}");
	return ok ? pos : 0;
}

void daemon_metrics_write(struct daemon *d, uint64_t ts_rt)
{
	char line[2048], interval[32];
	size_t i, n;

	if (!d->lw)
		return;
	config_format_duration(d->cfg.interval_ns, interval, sizeof(interval));
	for (i = 0; i < d->batch.n; i++) {
		n = format_metric(line, sizeof(line), &d->batch.v[i], interval);
		if (n)
			logwriter_write(d->lw, LOG_METRICS, ts_rt, line, n);
	}
}
