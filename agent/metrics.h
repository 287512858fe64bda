/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The metric model every producer (probes, collectors, the agent itself) and
 * every consumer (rules, logs) shares: a sample is a stable metric name, up
 * to METRIC_MAX_LABELS name=value labels, a value and a timestamp; written
 * out as "disk.util{device=sda}".
 *
 * The catalogue (metric_lookup) lists every name the agent emits, with its
 * unit and label names; docs/metrics.md documents the same list and
 * tests/unit/test_metrics.c keeps the two in step. Config validation uses it
 * to refuse rules on metrics that do not exist, and to parse a rule's levels
 * in the metric's unit ("10ms" for a latency, "90%" for a ratio).
 */
#ifndef PERFAGENT_METRICS_H
#define PERFAGENT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRIC_MAX_LABELS	4
#define METRIC_NAME_MAX		64	/* with the NUL */
#define METRIC_LABEL_NAME_MAX	32
#define METRIC_LABEL_VALUE_MAX	256
#define METRIC_KEY_MAX		(METRIC_NAME_MAX + METRIC_MAX_LABELS * \
				 (METRIC_LABEL_NAME_MAX + 2 * METRIC_LABEL_VALUE_MAX) + 4)

/* What a value counts; decides how levels are written and values printed. */
enum metric_unit {
	METRIC_UNIT_NONE,		/* a plain number: load average, a count */
	METRIC_UNIT_RATIO,		/* 0..1, written "5%" or 0.05 */
	METRIC_UNIT_BYTES,		/* written "64M" */
	METRIC_UNIT_BYTES_PER_S,	/* written "64M" (per second implied) */
	METRIC_UNIT_NS,			/* a duration, written "250ms" */
	METRIC_UNIT_PER_S,		/* events per second */
};

struct metric_desc {
	const char *name;
	enum metric_unit unit;
	const char *labels[METRIC_MAX_LABELS];	/* NULL-padded */
	const char *help;
};

/* The catalogue entry of name, or NULL when the agent never emits it. */
const struct metric_desc *metric_lookup(const char *name);

/* Every catalogue entry, sorted by name. */
const struct metric_desc *metric_catalog(size_t *n);

bool metric_desc_has_label(const struct metric_desc *d, const char *label);

/* "ratio", "bytes", "ns", ... as docs/metrics.md writes them. */
const char *metric_unit_name(enum metric_unit u);

/* A borrowed label: the strings belong to whoever made the sample. */
struct metric_label {
	const char *name;
	const char *value;
};

struct metric_sample {
	const char *name;
	unsigned int nlabels;
	struct metric_label labels[METRIC_MAX_LABELS];
	double value;
	uint64_t ts_ns;			/* CLOCK_MONOTONIC or any clock, as long as one */
};

/* A label with its own storage, for things that outlive the sample (alerts). */
struct metric_label_copy {
	char name[METRIC_LABEL_NAME_MAX];
	char value[METRIC_LABEL_VALUE_MAX];
};

/* Label pairs name, value, ... ended by NULL; at most METRIC_MAX_LABELS. */
struct metric_sample metric_sample_make(const char *name, double value, uint64_t ts_ns, ...)
	__attribute__((sentinel));

/*
 * The canonical text of a series, "name{a=x,b=y}" with labels sorted by
 * name ("name" alone without labels); ',', '}' and '\' in values are escaped
 * with '\'. Two samples belong to the same series exactly when their keys
 * are equal. Returns the length, or -1 when it did not fit in len.
 */
int metric_key(const char *name, const struct metric_label *labels, unsigned int n,
	       char *buf, size_t len);

/* The value of label name in s, or NULL. */
const char *metric_sample_label(const struct metric_sample *s, const char *name);

bool metric_label_name_valid(const char *s);

/*
 * What a rule watches: a metric name and label matchers,
 * "syscall.latency.p99{syscall=read|write}" or "fs.used_ratio{mount=/}".
 * A matcher's pattern is one or more '|'-separated fnmatch(3) globs; a
 * sample matches when it has every named label and each value matches.
 * Labels not named match anything.
 */
struct metric_matcher {
	char name[METRIC_LABEL_NAME_MAX];
	char pattern[METRIC_LABEL_VALUE_MAX];
};

struct metric_selector {
	char name[METRIC_NAME_MAX];
	unsigned int nmatchers;
	struct metric_matcher m[METRIC_MAX_LABELS];
};

/* Syntax only (the catalogue is not consulted). 0, or -1 with why in err. */
int metric_selector_parse(const char *s, struct metric_selector *sel, char *err, size_t len);

/* Back to text: metric_selector_parse(metric_selector_format(x)) == x. */
char *metric_selector_format(const struct metric_selector *sel, char *buf, size_t len);

bool metric_selector_match(const struct metric_selector *sel, const struct metric_sample *s);

/* True when value matches one of the '|'-separated globs of pattern. */
bool metric_pattern_match(const char *pattern, const char *value);

/*
 * A value as a person reads it, by unit: "3.21ms", "3h12m", "1.5G", "97.2%",
 * "1.2k/s", "0.75". Infinity prints as "never" for durations.
 */
char *metric_format_value(enum metric_unit u, double v, char *buf, size_t len);

/* "812ns" .. "59.9s" as format_duration, then "12m30s", "3h12m", "2d04h"
 * (rounded down: a time left is never overstated).
 */
char *metric_format_duration(double ns, char *buf, size_t len);

/*
 * Samples of one interval with their own copies of every string (pointers in
 * the samples stay valid until metric_batch_reset or _free).
 */
struct metric_batch {
	struct metric_sample *v;
	size_t n, cap;
	struct metric_arena *arena;
};

int metric_batch_add(struct metric_batch *b, const struct metric_sample *s);
void metric_batch_reset(struct metric_batch *b);
void metric_batch_free(struct metric_batch *b);

#endif
