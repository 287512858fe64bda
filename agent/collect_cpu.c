// SPDX-License-Identifier: GPL-2.0
/*
 * CPU shares over the interval from /proc/stat tick deltas. Ratios are
 * delta(field) / delta(all fields), so they need no clock and hold whatever
 * the real interval was. guest and guest_nice are already counted in user
 * and nice, so they are left out of the sum.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_cpu.h"

enum { USER, NICE, SYSTEM, IDLE, IOWAIT, IRQ, SOFTIRQ, STEAL, NFIELDS };

struct cpu_times {
	uint64_t t[NFIELDS];
	bool valid;
};

struct cpu_state {
	struct cpu_times total;
	struct cpu_times *per_cpu;	/* indexed by CPU number */
	unsigned int nr_per_cpu;
	struct collect_counter ctxt, forks;
};

/* Ratios for the whole machine; per core only those worth one line each. */
static const struct {
	const char *metric;
	unsigned int field;
	bool per_core;
} shares[] = {
	{ "cpu.user_ratio", USER, false },
	{ "cpu.nice_ratio", NICE, false },
	{ "cpu.system_ratio", SYSTEM, false },
	{ "cpu.irq_ratio", IRQ, false },
	{ "cpu.softirq_ratio", SOFTIRQ, false },
	{ "cpu.iowait_ratio", IOWAIT, true },
	{ "cpu.steal_ratio", STEAL, true },
	{ "cpu.idle_ratio", IDLE, false },
};

static int cpu_init(struct collector *c, char *err, size_t len)
{
	c->priv = calloc(1, sizeof(struct cpu_state));
	if (!c->priv) {
		snprintf(err, len, "cpu collector: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void cpu_fini(struct collector *c)
{
	struct cpu_state *st = c->priv;

	free(st->per_cpu);
	free(st);
}

static void emit_shares(struct collector *c, const char *cpu, bool total,
			const struct cpu_times *prev, const struct cpu_times *cur)
{
	uint64_t d[NFIELDS], sum = 0;
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		d[i] = collect_delta(cur->t[i], prev->t[i]);
		sum += d[i];
	}
	if (sum == 0)
		return;		/* no tick elapsed: nothing to divide */
	collect_emit(c, "cpu.busy_ratio", (double)(sum - d[IDLE] - d[IOWAIT]) / (double)sum,
		     "cpu", cpu, NULL);
	for (i = 0; i < sizeof(shares) / sizeof(shares[0]); i++)
		if (total || shares[i].per_core)
			collect_emit(c, shares[i].metric, (double)d[shares[i].field] / (double)sum,
				     "cpu", cpu, NULL);
}

static struct cpu_times *per_cpu_slot(struct cpu_state *st, unsigned long n)
{
	if (n >= 65536)
		return NULL;
	if (n >= st->nr_per_cpu) {
		unsigned int nr = (unsigned int)n + 1;
		struct cpu_times *p = realloc(st->per_cpu, nr * sizeof(*p));

		if (!p)
			return NULL;
		memset(p + st->nr_per_cpu, 0, (nr - st->nr_per_cpu) * sizeof(*p));
		st->per_cpu = p;
		st->nr_per_cpu = nr;
	}
	return &st->per_cpu[n];
}

/* "cpu  1 2 3 ..." or "cpu7 1 2 3 ...": returns the number of CPU lines (0/1). */
static int parse_cpu_line(struct collector *c, char *line, unsigned int lineno)
{
	struct cpu_state *st = c->priv;
	struct cpu_times cur = { .valid = true }, *slot;
	char *p = line + 3, *name_end, label[16];
	bool total = (*p == ' ' || *p == '\t');
	unsigned long n = 0;
	unsigned int i;

	if (!total) {
		n = strtoul(p, &name_end, 10);
		if (name_end == p || (*name_end != ' ' && *name_end != '\t')) {
			collect_line_error(c, lineno, "unknown CPU line \"%.40s\"", line);
			return 0;
		}
		p = name_end;
	}
	for (i = 0; i < NFIELDS; i++) {
		if (collect_parse_u64(&p, &cur.t[i])) {
			collect_line_error(c, lineno, "%.*s: expected at least %d tick counts, got %u",
					   (int)strcspn(line, " \t"), line, NFIELDS, i);
			return 0;
		}
	}
	slot = total ? &st->total : per_cpu_slot(st, n);
	if (!slot) {
		collect_line_error(c, lineno, "CPU number %lu out of range", n);
		return 0;
	}
	snprintf(label, sizeof(label), total ? "total" : "%lu", n);
	if (slot->valid)
		emit_shares(c, label, total, slot, &cur);
	*slot = cur;
	return total ? 0 : 1;
}

/* "ctxt 123" and the like; 0, or -1 after reporting the line. */
static int parse_counter_line(struct collector *c, char *line, unsigned int lineno,
			      const char *key, uint64_t *v)
{
	char *p = line + strlen(key);

	if (collect_parse_u64(&p, v)) {
		collect_line_error(c, lineno, "%s: expected a number, got \"%.40s\"", key, line);
		return -1;
	}
	return 0;
}

static bool line_is(const char *line, const char *key)
{
	size_t n = strlen(key);

	return strncmp(line, key, n) == 0 && (line[n] == ' ' || line[n] == '\t');
}

static void cpu_collect(struct collector *c, uint64_t interval_ns)
{
	char *text = collect_read_or_error(c, "/proc/stat"), *line;
	struct cpu_state *st = c->priv;
	unsigned int lineno = 0, ncpus = 0;
	double rate;
	uint64_t v;

	(void)interval_ns;	/* ratios need no clock; rates use c->clock_ns */
	if (!text)
		return;
	while ((line = collect_next_line(&text)) != NULL) {
		lineno++;
		if (strncmp(line, "cpu", 3) == 0) {
			ncpus += parse_cpu_line(c, line, lineno);
		} else if (line_is(line, "ctxt")) {
			if (!parse_counter_line(c, line, lineno, "ctxt", &v) &&
			    collect_counter_rate(c, &st->ctxt, v, &rate))
				collect_emit(c, "cpu.context_switches_per_s", rate, NULL);
		} else if (line_is(line, "processes")) {
			if (!parse_counter_line(c, line, lineno, "processes", &v) &&
			    collect_counter_rate(c, &st->forks, v, &rate))
				collect_emit(c, "cpu.forks_per_s", rate, NULL);
		} else if (line_is(line, "procs_running")) {
			if (!parse_counter_line(c, line, lineno, "procs_running", &v))
				collect_emit(c, "cpu.procs_running", (double)v, NULL);
		} else if (line_is(line, "procs_blocked")) {
			if (!parse_counter_line(c, line, lineno, "procs_blocked", &v))
				collect_emit(c, "cpu.procs_blocked", (double)v, NULL);
		}
	}
	if (ncpus)
		collect_emit(c, "cpu.count", ncpus, NULL);
}

const struct collector_ops collect_cpu_ops = {
	.name = "cpu",
	.init = cpu_init,
	.collect = cpu_collect,
	.fini = cpu_fini,
};
