// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "blkdev_names.h"
#include "disk_ops.h"
#include "disk_report.h"
#include "hist.h"
#include "timeutil.h"
#include "units.h"

struct lat {
	uint64_t p50, p99, max, avg;
};

static struct lat lat_of(const uint64_t *hist, uint64_t max, uint64_t total_ns, uint64_t n)
{
	return (struct lat){
		.p50 = hist_percentile(hist, 0.50, max),
		.p99 = hist_percentile(hist, 0.99, max),
		.max = max,
		.avg = n ? total_ns / n : 0,
	};
}

static char *dev_name(uint32_t kdev, char *buf, size_t len)
{
	return blkdev_name(PA_KDEV_MAJOR(kdev), PA_KDEV_MINOR(kdev), buf, len);
}

static char *op_name(uint32_t op, char *buf, size_t len)
{
	return disk_op_name(disk_ops_kernel(), op, buf, len);
}

char *disk_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v >= 100 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f%s", v, unit[u]);
	else
		snprintf(buf, len, "%.*f%s", v < 10 ? 2 : 1, v, unit[u]);
	return buf;
}

static int by_count(const void *a, const void *b)
{
	const struct disk_totals *x = *(const struct disk_totals *const *)a;
	const struct disk_totals *y = *(const struct disk_totals *const *)b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->key.dev != y->key.dev)
		return x->key.dev < y->key.dev ? -1 : 1;
	return x->key.op < y->key.op ? -1 : x->key.op > y->key.op;
}

/* Busiest first; returns an array of set->n pointers (NULL on no memory). */
static const struct disk_totals **sorted_rows(const struct disk_set *s)
{
	const struct disk_totals **rows = malloc((s->n ? s->n : 1) * sizeof(*rows));
	size_t i;

	if (!rows)
		return NULL;
	for (i = 0; i < s->n; i++)
		rows[i] = &s->rows[i];
	qsort(rows, s->n, sizeof(*rows), by_count);
	return rows;
}

/* Right-align a cell that may hold multi-byte characters (µ). */
static void cell(FILE *f, const char *s, size_t width)
{
	size_t w = utf8_width(s);

	fputc(' ', f);
	while (w++ < width)
		fputc(' ', f);
	fputs(s, f);
}

static void duration_cell(FILE *f, uint64_t ns)
{
	char buf[32];

	cell(f, format_duration(ns, buf, sizeof(buf)), 9);
}

static double per_second(uint64_t v, uint64_t span_ns)
{
	return span_ns ? (double)v * 1e9 / (double)span_ns : 0;
}

static void print_errors(FILE *f, const struct disk_totals *t)
{
	const char *name;
	int s, n = 0;

	fputs("    errors by status:", f);
	for (s = 1; s < PA_DISK_STATUS_MAX; s++) {
		if (!t->status[s])
			continue;
		name = disk_status_name(s);
		fprintf(f, "%s %s(%d) %llu", n++ ? "," : "", name ? name : "status", s,
			(unsigned long long)t->status[s]);
	}
	fputc('\n', f);
}

static void print_row(FILE *f, const struct disk_totals *t, uint64_t span_ns)
{
	struct lat q = lat_of(t->queue_hist, t->queue_max_ns, t->queue_total_ns, t->count);
	struct lat s = lat_of(t->service_hist, t->service_max_ns, t->service_total_ns, t->count);
	char dev[64], op[32], sz[32], num[32];

	fprintf(f, "%-12s %-13s", dev_name(t->key.dev, dev, sizeof(dev)),
		op_name(t->key.op, op, sizeof(op)));
	snprintf(num, sizeof(num), "%.1f", per_second(t->count, span_ns));
	cell(f, num, 10);
	snprintf(num, sizeof(num), "%.2f", per_second(t->bytes, span_ns) / (1024 * 1024));
	cell(f, num, 9);
	cell(f, disk_format_bytes(t->count ? t->bytes / t->count : 0, sz, sizeof(sz)), 8);
	duration_cell(f, q.p50);
	duration_cell(f, q.p99);
	duration_cell(f, q.max);
	duration_cell(f, s.p50);
	duration_cell(f, s.p99);
	duration_cell(f, s.max);
	fprintf(f, " %7llu\n", (unsigned long long)t->errors);
	if (t->errors)
		print_errors(f, t);
}

void disk_report_table(FILE *f, const struct disk_report *r)
{
	const struct disk_totals **rows = sorted_rows(r->set);
	uint64_t ios = 0, errors = 0;
	char when[32], span[32];
	size_t i, n = r->set->n;

	if (!rows)
		return;
	for (i = 0; i < n; i++) {
		ios += rows[i]->count;
		errors += rows[i]->errors;
	}
	fprintf(f, "\n%s  %s %s: %llu I/O, %llu errors; events %llu streamed, "
		"%llu suppressed, %llu lost\n",
		format_clock(r->when_ns, when, sizeof(when)),
		r->final ? "SUMMARY over" : "interval", format_duration(r->span_ns, span, sizeof(span)),
		(unsigned long long)ios, (unsigned long long)errors,
		(unsigned long long)r->losses->events_sent,
		(unsigned long long)r->losses->suppressed,
		(unsigned long long)r->losses->events_lost);
	if (r->losses->events_lost)
		fprintf(f, "WARNING: %llu I/O events were lost (buffer full); raise --slow or "
			"lower --rate-limit\n", (unsigned long long)r->losses->events_lost);
	if (r->losses->missed_completions)
		fprintf(f, "WARNING: %llu I/O completions not counted: the kernel skipped the "
			"probe while it was already running on that CPU\n",
			(unsigned long long)r->losses->missed_completions);
	if (r->losses->completions_unseen)
		fprintf(f, "WARNING: %llu I/O completions not counted: the kernel did not run the "
			"probe for them\n", (unsigned long long)r->losses->completions_unseen);
	if (r->losses->stats_full)
		fprintf(f, "WARNING: %llu I/O not counted: more than %d device/operation pairs\n",
			(unsigned long long)r->losses->stats_full, PA_DISK_MAX_KEYS);
	fprintf(f, "%-12s %-13s %10s %9s %8s %9s %9s %9s %9s %9s %9s %7s\n", "DEVICE", "OP",
		"IOPS", "MiB/s", "AVG SZ", "Q P50", "Q P99", "Q MAX", "SVC P50", "SVC P99",
		"SVC MAX", "ERRORS");
	for (i = 0; i < n && (!r->top || i < r->top); i++)
		print_row(f, rows[i], r->span_ns);
	if (r->top && n > r->top)
		fprintf(f, "(%zu more rows; -n 0 shows all)\n", n - r->top);
	free(rows);
}

static cJSON *lat_json(const struct lat *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "p50_ns", (double)l->p50);
	cJSON_AddNumberToObject(o, "p99_ns", (double)l->p99);
	cJSON_AddNumberToObject(o, "max_ns", (double)l->max);
	cJSON_AddNumberToObject(o, "avg_ns", (double)l->avg);
	return o;
}

static cJSON *size_json(const struct disk_totals *t)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	int b;

	cJSON_AddNumberToObject(o, "avg_bytes", t->count ? (double)(t->bytes / t->count) : 0);
	arr = cJSON_AddArrayToObject(o, "hist");
	for (b = 0; b < PA_DISK_SIZE_BUCKETS; b++) {
		cJSON *bucket;

		if (!t->size_hist[b])
			continue;
		bucket = cJSON_CreateObject();
		cJSON_AddNumberToObject(bucket, "min", b ? (double)(1ULL << (b - 1)) : 0);
		cJSON_AddNumberToObject(bucket, "max", b ? (double)((1ULL << b) - 1) : 0);
		cJSON_AddNumberToObject(bucket, "count", (double)t->size_hist[b]);
		cJSON_AddItemToArray(arr, bucket);
	}
	return o;
}

static cJSON *errors_json(const struct disk_totals *t)
{
	cJSON *o = cJSON_CreateObject();
	char other[32];
	int s;

	for (s = 1; s < PA_DISK_STATUS_MAX; s++) {
		const char *name = disk_status_name(s);

		if (!t->status[s])
			continue;
		if (!name) {
			snprintf(other, sizeof(other), "status%d", s);
			name = other;
		}
		cJSON_AddNumberToObject(o, name, (double)t->status[s]);
	}
	return o;
}

static cJSON *row_json(const struct disk_totals *t, uint64_t span_ns)
{
	struct lat q = lat_of(t->queue_hist, t->queue_max_ns, t->queue_total_ns, t->count);
	struct lat s = lat_of(t->service_hist, t->service_max_ns, t->service_total_ns, t->count);
	struct lat l = lat_of(t->latency_hist, t->latency_max_ns,
			      t->queue_total_ns + t->service_total_ns, t->count);
	cJSON *o = cJSON_CreateObject();
	char buf[64];

	cJSON_AddStringToObject(o, "device", dev_name(t->key.dev, buf, sizeof(buf)));
	snprintf(buf, sizeof(buf), "%u:%u", PA_KDEV_MAJOR(t->key.dev), PA_KDEV_MINOR(t->key.dev));
	cJSON_AddStringToObject(o, "dev", buf);
	cJSON_AddStringToObject(o, "op", op_name(t->key.op, buf, sizeof(buf)));
	cJSON_AddNumberToObject(o, "op_nr", t->key.op);
	cJSON_AddNumberToObject(o, "count", (double)t->count);
	cJSON_AddNumberToObject(o, "bytes", (double)t->bytes);
	cJSON_AddNumberToObject(o, "iops", per_second(t->count, span_ns));
	cJSON_AddNumberToObject(o, "bytes_per_sec", per_second(t->bytes, span_ns));
	cJSON_AddNumberToObject(o, "errors", (double)t->errors);
	cJSON_AddItemToObject(o, "errors_by_status", errors_json(t));
	cJSON_AddNumberToObject(o, "suppressed", (double)t->suppressed);
	cJSON_AddItemToObject(o, "queue", lat_json(&q));
	cJSON_AddItemToObject(o, "service", lat_json(&s));
	cJSON_AddItemToObject(o, "latency", lat_json(&l));
	cJSON_AddItemToObject(o, "size", size_json(t));
	if (t->threshold_ns)
		cJSON_AddNumberToObject(o, "slow_threshold_ns", (double)t->threshold_ns);
	return o;
}

static void print_json(FILE *f, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s) {
		fputs(s, f);
		fputc('\n', f);
		free(s);
	}
	cJSON_Delete(o);
}

void disk_report_json(FILE *f, const struct disk_report *r)
{
	const struct disk_totals **rows = sorted_rows(r->set);
	const struct disk_losses *l = r->losses;
	cJSON *o = cJSON_CreateObject(), *arr;
	size_t i, n = r->set->n;
	char when[40];

	if (!rows || !o) {
		free(rows);
		cJSON_Delete(o);
		return;
	}
	cJSON_AddStringToObject(o, "type", "disk");
	cJSON_AddStringToObject(o, "time", format_iso8601(r->when_ns, when, sizeof(when)));
	cJSON_AddNumberToObject(o, "interval_ns", (double)r->span_ns);
	cJSON_AddBoolToObject(o, "final", r->final);
	cJSON_AddNumberToObject(o, "events_sent", (double)l->events_sent);
	cJSON_AddNumberToObject(o, "events_lost", (double)l->events_lost);
	cJSON_AddNumberToObject(o, "events_suppressed", (double)l->suppressed);
	cJSON_AddNumberToObject(o, "untracked", (double)l->untracked);
	cJSON_AddNumberToObject(o, "stats_full", (double)l->stats_full);
	cJSON_AddNumberToObject(o, "rq_full", (double)l->rq_full);
	cJSON_AddNumberToObject(o, "missed_completions", (double)l->missed_completions);
	cJSON_AddNumberToObject(o, "completions_unseen", (double)l->completions_unseen);
	cJSON_AddNumberToObject(o, "missed_other", (double)l->missed_other);
	arr = cJSON_AddArrayToObject(o, "devices");
	for (i = 0; i < n && (!r->top || i < r->top); i++)
		cJSON_AddItemToArray(arr, row_json(rows[i], r->span_ns));
	print_json(f, o);
	free(rows);
}

static void event_comm(const struct pa_disk_event *e, char *comm)
{
	memcpy(comm, e->comm, PA_DISK_COMM_LEN);
	comm[PA_DISK_COMM_LEN] = '\0';
}

static char *status_text(uint32_t status, char *buf, size_t len)
{
	const char *name = disk_status_name(status);

	snprintf(buf, len, "%s(%u)", name ? name : "status", status);
	return buf;
}

void disk_report_event_text(FILE *f, const struct pa_disk_event *e)
{
	char when[32], dev[64], op[32], sz[32], lat[32], q[32], s[32], st[48];
	char comm[PA_DISK_COMM_LEN + 1];

	event_comm(e, comm);
	fprintf(f, "%-5s %s %-10s %-7s sector %-12llu %7s  lat %s (queue %s, service %s)",
		e->kind == PA_DISK_EV_ERROR ? "ERROR" : "SLOW",
		format_clock(mono_to_realtime_ns(e->ts_ns), when, sizeof(when)),
		dev_name(e->dev, dev, sizeof(dev)), op_name(e->op, op, sizeof(op)),
		(unsigned long long)e->sector, disk_format_bytes(e->bytes, sz, sizeof(sz)),
		format_duration(e->latency_ns, lat, sizeof(lat)),
		format_duration(e->queue_ns, q, sizeof(q)),
		format_duration(e->service_ns, s, sizeof(s)));
	if (e->status)
		fprintf(f, "  status %s", status_text(e->status, st, sizeof(st)));
	fprintf(f, "  pid %u %s\n", e->pid, comm);
}

void disk_report_event_json(FILE *f, const struct pa_disk_event *e)
{
	char when[40], buf[160], comm[PA_DISK_COMM_LEN + 1];
	cJSON *o = cJSON_CreateObject();
	const char *status;

	if (!o)
		return;
	event_comm(e, comm);
	cJSON_AddStringToObject(o, "type", "disk_io");
	cJSON_AddStringToObject(o, "kind", e->kind == PA_DISK_EV_ERROR ? "error" : "slow");
	cJSON_AddStringToObject(o, "time",
				format_iso8601(mono_to_realtime_ns(e->ts_ns), when, sizeof(when)));
	cJSON_AddStringToObject(o, "device", dev_name(e->dev, buf, sizeof(buf)));
	snprintf(buf, sizeof(buf), "%u:%u", PA_KDEV_MAJOR(e->dev), PA_KDEV_MINOR(e->dev));
	cJSON_AddStringToObject(o, "dev", buf);
	cJSON_AddStringToObject(o, "op", op_name(e->op, buf, sizeof(buf)));
	cJSON_AddStringToObject(o, "flags",
				disk_flags_text(disk_ops_kernel(), e->cmd_flags, buf, sizeof(buf)));
	cJSON_AddNumberToObject(o, "sector", (double)e->sector);
	cJSON_AddNumberToObject(o, "bytes", e->bytes);
	cJSON_AddNumberToObject(o, "latency_ns", (double)e->latency_ns);
	cJSON_AddNumberToObject(o, "queue_ns", (double)e->queue_ns);
	cJSON_AddNumberToObject(o, "service_ns", (double)e->service_ns);
	cJSON_AddNumberToObject(o, "status", e->status);
	status = disk_status_name(e->status);
	if (e->status)
		cJSON_AddStringToObject(o, "status_name", status ? status : "unknown");
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddNumberToObject(o, "tid", e->tid);
	cJSON_AddStringToObject(o, "comm", comm);
	cJSON_AddNumberToObject(o, "cgroup_id", (double)e->cgroup_id);
	cJSON_AddNumberToObject(o, "cpu", e->cpu);
	print_json(f, o);
}
