// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "hist.h"
#include "syscall_names.h"
#include "syscall_report.h"
#include "timeutil.h"
#include "units.h"

struct row {
	unsigned int nr;
	const struct syscall_totals *t;
};

struct percentiles {
	uint64_t p50, p95, p99;
};

static int by_total_time(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->t->total_ns != y->t->total_ns)
		return x->t->total_ns < y->t->total_ns ? 1 : -1;
	return x->nr < y->nr ? -1 : 1;
}

/* Syscalls seen, busiest first; returns how many. */
static unsigned int sorted_rows(const struct syscall_totals *t, struct row *rows)
{
	unsigned int nr, n = 0;

	for (nr = 0; nr < PA_SYSCALL_MAX; nr++)
		if (t[nr].count)
			rows[n++] = (struct row){ nr, &t[nr] };
	qsort(rows, n, sizeof(*rows), by_total_time);
	return n;
}

static struct percentiles percentiles_of(const struct syscall_totals *t)
{
	return (struct percentiles){
		.p50 = hist_percentile(t->hist, 0.50, t->max_ns),
		.p95 = hist_percentile(t->hist, 0.95, t->max_ns),
		.p99 = hist_percentile(t->hist, 0.99, t->max_ns),
	};
}

/* Right-align a cell that may hold multi-byte characters (µ). */
static void cell(FILE *f, const char *s, size_t width)
{
	size_t w = utf8_width(s);

	while (w++ < width)
		fputc(' ', f);
	fputs(s, f);
}

static void duration_cell(FILE *f, uint64_t ns)
{
	char buf[32];

	cell(f, format_duration(ns, buf, sizeof(buf)), 10);
}

static void print_row(FILE *f, const struct row *r)
{
	struct percentiles p = percentiles_of(r->t);
	char name[32];

	fprintf(f, "%-22s %10llu %8llu", syscall_name_or_nr(r->nr, name, sizeof(name)),
		(unsigned long long)r->t->count, (unsigned long long)r->t->errors);
	duration_cell(f, p.p50);
	duration_cell(f, p.p95);
	duration_cell(f, p.p99);
	duration_cell(f, r->t->max_ns);
	duration_cell(f, r->t->total_ns);
	fputc('\n', f);
}

void syscall_report_table(FILE *f, const struct syscall_report *r)
{
	struct row *rows = malloc(PA_SYSCALL_MAX * sizeof(*rows));
	uint64_t calls = 0, errors = 0;
	unsigned int i, n;
	char when[32], span[32];

	if (!rows)
		return;
	n = sorted_rows(r->totals, rows);
	for (i = 0; i < n; i++) {
		calls += rows[i].t->count;
		errors += rows[i].t->errors;
	}
	fprintf(f, "\n%s  %s %s: %llu calls, %llu errors, %llu slow calls streamed, %llu lost\n",
		format_clock(r->when_ns, when, sizeof(when)),
		r->final ? "SUMMARY over" : "interval", format_duration(r->span_ns, span, sizeof(span)),
		(unsigned long long)calls, (unsigned long long)errors,
		(unsigned long long)r->losses->events_sent,
		(unsigned long long)r->losses->events_lost);
	if (r->losses->events_lost)
		fprintf(f, "WARNING: %llu slow-call events were lost (buffer full); "
			"raise --slow to stream fewer\n", (unsigned long long)r->losses->events_lost);
	if (r->losses->start_lost)
		fprintf(f, "WARNING: %llu blocked calls were not measured (the kernel could not "
			"keep their start time)\n", (unsigned long long)r->losses->start_lost);
	fprintf(f, "%-22s %10s %8s %10s %10s %10s %10s %10s\n", "SYSCALL", "COUNT", "ERRORS",
		"P50", "P95", "P99", "MAX", "TOTAL");
	for (i = 0; i < n && (!r->top || i < r->top); i++)
		print_row(f, &rows[i]);
	if (r->top && n > r->top)
		fprintf(f, "(%u more syscalls; -n 0 shows all)\n", n - r->top);
	free(rows);
}

static cJSON *row_json(const struct row *r)
{
	struct percentiles p = percentiles_of(r->t);
	cJSON *o = cJSON_CreateObject();
	char name[32];

	cJSON_AddStringToObject(o, "name", syscall_name_or_nr(r->nr, name, sizeof(name)));
	cJSON_AddNumberToObject(o, "nr", r->nr);
	cJSON_AddNumberToObject(o, "count", (double)r->t->count);
	cJSON_AddNumberToObject(o, "errors", (double)r->t->errors);
	cJSON_AddNumberToObject(o, "p50_ns", (double)p.p50);
	cJSON_AddNumberToObject(o, "p95_ns", (double)p.p95);
	cJSON_AddNumberToObject(o, "p99_ns", (double)p.p99);
	cJSON_AddNumberToObject(o, "max_ns", (double)r->t->max_ns);
	cJSON_AddNumberToObject(o, "total_ns", (double)r->t->total_ns);
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

void syscall_report_json(FILE *f, const struct syscall_report *r)
{
	struct row *rows = malloc(PA_SYSCALL_MAX * sizeof(*rows));
	cJSON *o = cJSON_CreateObject(), *arr;
	unsigned int i, n;
	char when[40];

	if (!rows || !o) {
		free(rows);
		cJSON_Delete(o);
		return;
	}
	n = sorted_rows(r->totals, rows);
	cJSON_AddStringToObject(o, "type", "syscalls");
	cJSON_AddStringToObject(o, "time", format_iso8601(r->when_ns, when, sizeof(when)));
	cJSON_AddNumberToObject(o, "interval_ns", (double)r->span_ns);
	cJSON_AddBoolToObject(o, "final", r->final);
	cJSON_AddNumberToObject(o, "events_sent", (double)r->losses->events_sent);
	cJSON_AddNumberToObject(o, "events_lost", (double)r->losses->events_lost);
	cJSON_AddNumberToObject(o, "out_of_range", (double)r->losses->out_of_range);
	cJSON_AddNumberToObject(o, "calls_unmeasured", (double)r->losses->start_lost);
	arr = cJSON_AddArrayToObject(o, "syscalls");
	for (i = 0; i < n && (!r->top || i < r->top); i++)
		cJSON_AddItemToArray(arr, row_json(&rows[i]));
	print_json(f, o);
	free(rows);
}

static void event_comm(const struct pa_syscall_event *e, char *comm)
{
	memcpy(comm, e->comm, PA_COMM_LEN);
	comm[PA_COMM_LEN] = '\0';
}

void syscall_report_event_text(FILE *f, const struct pa_syscall_event *e)
{
	char when[32], lat[32], name[32], comm[PA_COMM_LEN + 1];

	event_comm(e, comm);
	fprintf(f, "SLOW %s %-16s pid %-7u tid %-7u %-16s %10s  ret %lld\n",
		format_clock(mono_to_realtime_ns(e->ts_ns), when, sizeof(when)),
		syscall_name_or_nr(e->nr, name, sizeof(name)), e->pid, e->tid, comm,
		format_duration(e->latency_ns, lat, sizeof(lat)), (long long)e->ret);
}

void syscall_report_event_json(FILE *f, const struct pa_syscall_event *e)
{
	char when[40], name[32], comm[PA_COMM_LEN + 1];
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return;
	event_comm(e, comm);
	cJSON_AddStringToObject(o, "type", "slow_syscall");
	cJSON_AddStringToObject(o, "time",
				format_iso8601(mono_to_realtime_ns(e->ts_ns), when, sizeof(when)));
	cJSON_AddStringToObject(o, "syscall", syscall_name_or_nr(e->nr, name, sizeof(name)));
	cJSON_AddNumberToObject(o, "nr", e->nr);
	cJSON_AddNumberToObject(o, "pid", e->pid);
	cJSON_AddNumberToObject(o, "tid", e->tid);
	cJSON_AddStringToObject(o, "comm", comm);
	cJSON_AddNumberToObject(o, "latency_ns", (double)e->latency_ns);
	cJSON_AddNumberToObject(o, "ret", (double)e->ret);
	cJSON_AddNumberToObject(o, "cpu", e->cpu);
	print_json(f, o);
}
