/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The rule engine: decides from metric samples when something is wrong.
 *
 * Pure logic: no I/O, no clock. Time is the samples' own timestamps, so the
 * same series always gives the same alerts at the same samples (what the
 * unit tests rely on). The daemon feeds every sample of an interval and
 * hands the transitions it gets back to the sinks (agent/alert.h).
 *
 * Each rule computes one value per sample of each series it matches, then
 * runs the same state machine on it:
 *
 *   threshold   the sample's value
 *   slope       least-squares slope over `window` (per hour in messages)
 *   exhaustion  time until a least-squares fit over `window` reaches a limit
 *               (a constant, or another metric with the same labels)
 *   baseline    (recent window mean - baseline) / baseline, the baseline an
 *               EWMA (time constant `baseline`) of what left the window
 *
 * State machine per (rule, label set): a level (info, warn, crit) counts
 * once the value has been beyond it for `hold`; the alert fires at the
 * highest counted level. It steps down or resolves only when the value
 * crosses back past that level's clear line (hysteresis: `clear` for the
 * lowest level, the same distance below the others), and resolves only
 * after `clear_hold` on the clear side. A firing at the same or a lower
 * severity than the last one is not announced again within `cooldown` of
 * it; an escalation always is. `repeat` (optional) re-announces a firing
 * that goes on.
 */
#ifndef PERFAGENT_RULES_H
#define PERFAGENT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "metrics.h"

#define RULE_NAME_MAX		64
#define RULE_MESSAGE_MAX	256
#define RULE_LEVELS		3	/* indexed by enum alert_severity */
#define RULE_TREND_BUCKETS	64	/* a window is kept as this many sums */

enum rule_type { RULE_THRESHOLD, RULE_SLOPE, RULE_EXHAUSTION, RULE_BASELINE, RULE_TYPE_COUNT };

enum rule_direction { RULE_ABOVE, RULE_BELOW };

const char *rule_type_name(enum rule_type t);
int rule_type_parse(const char *s, enum rule_type *out);
const char *rule_direction_name(enum rule_direction d);

/*
 * A level in the unit of the rule's value: the metric's unit (threshold),
 * a metric amount per `per_ns` (slope: "5ms/h" is 5e6 per 3600e9 ns),
 * nanoseconds of time left (exhaustion) or a fraction (baseline).
 */
struct rule_level {
	bool set;
	double value;
	uint64_t per_ns;		/* slope only */
};

/* One rule, as config.c builds it from JSON. A plain value: copy freely. */
struct rule_def {
	char name[RULE_NAME_MAX];
	enum rule_type type;
	struct metric_selector sel;
	enum metric_unit unit;		/* of the metric (from the catalogue) */
	enum alert_kind kind;		/* for the sinks: threshold, trend, loss, ... */
	/*
	 * threshold, slope, baseline: which way is bad. exhaustion: which way
	 * the metric moves toward its limit (time left is bad when below).
	 */
	enum rule_direction direction;
	struct rule_level level[RULE_LEVELS];
	struct rule_level clear;	/* unset: the lowest level */
	uint64_t hold_ns;
	uint64_t clear_hold_ns;
	uint64_t cooldown_ns;
	uint64_t repeat_ns;		/* 0: never */
	uint64_t window_ns;		/* slope, exhaustion, baseline */
	uint64_t baseline_ns;		/* baseline: EWMA time constant */
	double min_baseline;		/* baseline: no verdict below this */
	bool has_limit;			/* exhaustion: a constant limit ... */
	double limit;
	char limit_metric[METRIC_NAME_MAX];	/* ... or this metric, same labels */
	char message[RULE_MESSAGE_MAX];	/* template, "" = built-in text */
};

/* Same definition, field by field (padding bytes are not compared). */
bool rule_def_equal(const struct rule_def *a, const struct rule_def *b);

/* Level as compared with the computed value (slopes per second). */
double rule_level_value(const struct rule_def *r, const struct rule_level *l);

/* The unit of the value a rule computes (ns for exhaustion, ratio for baseline). */
enum metric_unit rule_value_unit(const struct rule_def *r);

/* "12ms/h", "3h12m", "50%": a level or value of r as a person reads it. */
char *rule_format_value(const struct rule_def *r, double v, char *buf, size_t len);

/*
 * Placeholders a message template may use: {value} {threshold} {rule}
 * {metric} {severity} {labels} and {NAME} for each label of the metric.
 * Returns 0, or -1 with the offending placeholder copied to bad.
 */
int rule_message_check(const char *tmpl, const struct metric_desc *d, char *bad, size_t len);

/* One alert transition, owning its strings (unlike struct alert). */
struct rule_transition {
	enum alert_state state;
	enum alert_severity severity;	/* resolved: the severity it had */
	enum alert_kind kind;
	enum rule_type type;
	char rule[RULE_NAME_MAX];
	char metric[METRIC_NAME_MAX];
	unsigned int nlabels;
	struct metric_label_copy labels[METRIC_MAX_LABELS];
	double value;			/* the rule's computed value */
	double threshold;		/* level crossed; resolved: the clear line */
	char value_text[48];		/* as rule_format_value */
	char threshold_text[48];
	uint64_t ts_ns;			/* timestamp of the sample that decided */
	bool reminder;			/* a `repeat` of a firing already announced */
	char message[2 * RULE_MESSAGE_MAX];
};

/* Borrowing view for the sinks; labels must have METRIC_MAX_LABELS room. */
void rule_transition_to_alert(const struct rule_transition *t, struct alert *a,
			      struct alert_label *labels);

struct rule_transitions {
	struct rule_transition *v;
	size_t n, cap;
};

void rule_transitions_clear(struct rule_transitions *l);
void rule_transitions_free(struct rule_transitions *l);

struct rules_engine_opts {
	/* A series not fed for this long is forgotten; if it was firing it
	 * resolves ("no data"). 0: never. */
	uint64_t stale_ns;
	/* Label sets tracked per rule; samples of further ones are dropped
	 * (counted in stats) so a label explosion cannot eat memory. */
	unsigned int max_series_per_rule;
};

struct rules_engine_stats {
	uint64_t samples;		/* fed */
	uint64_t out_of_order;		/* ignored: not newer than the series' last */
	uint64_t series_dropped;	/* ignored: over max_series_per_rule */
	size_t series;			/* tracked now */
	size_t states;			/* (rule, label set) pairs tracked now */
};

struct rules_engine;

/* Copies rules. NULL opts: stale after 10 min, 1000 series per rule. */
int rules_engine_new(struct rules_engine **out, const struct rule_def *rules, size_t n,
		     const struct rules_engine_opts *opts);
void rules_engine_free(struct rules_engine *e);

/*
 * Feed one sample. Samples of a series must come in timestamp order (older
 * ones are ignored). Transitions are appended to out. 0 or -ENOMEM.
 */
int rules_feed(struct rules_engine *e, const struct metric_sample *s,
	       struct rule_transitions *out);

/*
 * Feed the samples of one interval: the latest values are recorded first, so
 * an exhaustion rule sees the limit metric of the same interval whatever the
 * order of the samples.
 */
int rules_feed_batch(struct rules_engine *e, const struct metric_sample *s, size_t n,
		     struct rule_transitions *out);

/* Forget series older than stale_ns at now_ns (resolving firing ones). */
int rules_expire(struct rules_engine *e, uint64_t now_ns, struct rule_transitions *out);

/*
 * Carry the state of every rule that exists unchanged (same definition) in
 * both engines from old to new (a config reload). Firing alerts of rules
 * that are gone or changed are resolved into out, stamped now_ns.
 */
int rules_engine_take_state(struct rules_engine *new, struct rules_engine *old,
			    uint64_t now_ns, struct rule_transitions *out);

/* For `perfagent status`: one call per (rule, label set) tracked. */
struct rule_state_info {
	const char *rule;
	const char *series;		/* "fs.used_bytes{mountpoint=/}" */
	bool firing;			/* beyond its levels (announced or not) */
	bool announced;
	enum alert_severity severity;	/* when firing */
	double value;			/* last computed value, NAN if none yet */
	uint64_t since_ns;		/* firing since */
};

void rules_engine_foreach(const struct rules_engine *e,
			  void (*fn)(void *ctx, const struct rule_state_info *i), void *ctx);

void rules_engine_stats(const struct rules_engine *e, struct rules_engine_stats *st);

#endif
