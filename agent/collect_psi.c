// SPDX-License-Identifier: GPL-2.0
/*
 * Pressure stall information: the share of time some (or all non-idle)
 * tasks waited for CPU, memory or I/O. avg10 is the kernel's own 10 s
 * average; the stall ratio is the increase of the "total" stall time
 * (microseconds) over the interval, so it covers exactly the interval.
 * A kernel without PSI (CONFIG_PSI off, or booted with psi=0) has no
 * /proc/pressure: that makes the collector unavailable, not failing.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_psi.h"

enum { SOME, FULL, NKINDS };

static const char *const kind_names[NKINDS] = { "some", "full" };

static const struct {
	const char *avg10;
	const char *stall;
} kind_metrics[NKINDS] = {
	{ "psi.some_avg10_ratio", "psi.some_stall_ratio" },
	{ "psi.full_avg10_ratio", "psi.full_stall_ratio" },
};

/* irq pressure needs CONFIG_IRQ_TIME_ACCOUNTING (6.1+): read when present. */
static const struct {
	const char *name;
	bool optional;
} resources[] = {
	{ "cpu", false }, { "memory", false }, { "io", false }, { "irq", true },
};

#define NRES (sizeof(resources) / sizeof(resources[0]))

struct psi_state {
	bool present[NRES];
	struct collect_counter total[NRES][NKINDS];	/* stalled microseconds */
};

static bool psi_off(int err)
{
	return err == ENOENT || err == EOPNOTSUPP;
}

static int psi_init(struct collector *c, char *err, size_t len)
{
	struct psi_state *st = calloc(1, sizeof(*st));
	char rel[64], path[PATH_MAX];
	size_t i, n = 0;
	bool exists;

	if (!st) {
		snprintf(err, len, "psi collector: out of memory");
		return -ENOMEM;
	}
	c->priv = st;
	for (i = 0; i < NRES; i++) {
		snprintf(rel, sizeof(rel), "/proc/pressure/%s", resources[i].name);
		exists = collect_read(c, rel) || !psi_off(errno);
		n += exists && !resources[i].optional;
		/* A required file that vanishes while PSI is on is an error
		 * each interval; an optional one is simply not read.
		 */
		st->present[i] = exists || !resources[i].optional;
	}
	if (n == 0)
		collect_set_unavailable(c, "%s does not exist (kernel built without "
					"CONFIG_PSI, or booted with psi=0)",
					collect_path(c, "/proc/pressure", path, sizeof(path)));
	return 0;
}

static void psi_fini(struct collector *c)
{
	free(c->priv);
}

/* "some avg10=0.12 avg60=0.30 avg300=0.05 total=123456" */
static int parse_psi_line(char *line, int *kind, double *avg10, uint64_t *total)
{
	char *p = line, *tok;
	bool got_avg10 = false, got_total = false;

	for (*kind = 0; *kind < NKINDS; (*kind)++)
		if (strncmp(line, kind_names[*kind], 4) == 0 && line[4] == ' ')
			break;
	if (*kind == NKINDS)
		return -1;
	p = line + 5;
	while ((tok = strsep(&p, " ")) != NULL) {
		char *v = strchr(tok, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (strcmp(tok, "avg10") == 0)
			got_avg10 = !collect_parse_double(&v, avg10) && !*v;
		else if (strcmp(tok, "total") == 0)
			got_total = !collect_parse_u64(&v, total) && !*v;
	}
	return got_avg10 && got_total ? 0 : -1;
}

static void collect_resource(struct collector *c, size_t r)
{
	struct psi_state *st = c->priv;
	const char *res = resources[r].name;
	char rel[64], *text, *line, copy[128];
	unsigned int lineno = 0;
	double avg10, stalled_us_per_s;
	uint64_t total;
	int kind;

	snprintf(rel, sizeof(rel), "/proc/pressure/%s", res);
	text = collect_read(c, rel);
	if (!text) {
		if (psi_off(errno) && resources[r].optional)
			return;
		collect_error(c, "%s: cannot read: %s", c->path, strerror(errno));
		return;
	}
	while ((line = collect_next_line(&text)) != NULL) {
		lineno++;
		snprintf(copy, sizeof(copy), "%s", line);
		if (parse_psi_line(line, &kind, &avg10, &total)) {
			collect_line_error(c, lineno, "expected \"some|full avg10=N.NN ... "
					   "total=N\", got \"%.60s\"", copy);
			continue;
		}
		collect_emit(c, kind_metrics[kind].avg10, avg10 / 100.0, "resource", res, NULL);
		if (collect_counter_rate(c, &st->total[r][kind], total, &stalled_us_per_s)) {
			/* Stall time is wall time: it cannot exceed the interval
			 * except by the jitter of when we read; clamp that.
			 */
			double ratio = stalled_us_per_s / 1e6;

			collect_emit(c, kind_metrics[kind].stall, ratio > 1 ? 1 : ratio,
				     "resource", res, NULL);
		}
	}
}

static void psi_collect(struct collector *c, uint64_t interval_ns)
{
	struct psi_state *st = c->priv;
	size_t r;

	(void)interval_ns;	/* rates use c->clock_ns */
	if (c->unavailable[0])
		return;
	for (r = 0; r < NRES; r++)
		if (st->present[r])
			collect_resource(c, r);
}

const struct collector_ops collect_psi_ops = {
	.name = "psi",
	.init = psi_init,
	.collect = psi_collect,
	.fini = psi_fini,
};
