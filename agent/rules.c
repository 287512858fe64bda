// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

#define NOT_SINCE	UINT64_MAX
#define SEV_NONE	(-1)
#define NB		RULE_TREND_BUCKETS

static const char *const type_names[RULE_TYPE_COUNT] = {
	[RULE_THRESHOLD] = "threshold",
	[RULE_SLOPE] = "slope",
	[RULE_EXHAUSTION] = "exhaustion",
	[RULE_BASELINE] = "baseline",
};

const char *rule_type_name(enum rule_type t)
{
	return (unsigned int)t < RULE_TYPE_COUNT ? type_names[t] : "unknown";
}

int rule_type_parse(const char *s, enum rule_type *out)
{
	unsigned int i;

	for (i = 0; s && i < RULE_TYPE_COUNT; i++) {
		if (strcmp(s, type_names[i]) == 0) {
			*out = (enum rule_type)i;
			return 0;
		}
	}
	return -1;
}

const char *rule_direction_name(enum rule_direction d)
{
	return d == RULE_BELOW ? "below" : "above";
}

double rule_level_value(const struct rule_def *r, const struct rule_level *l)
{
	if (r->type == RULE_SLOPE && l->per_ns)
		return l->value * 1e9 / (double)l->per_ns;
	return l->value;
}

static bool level_equal(const struct rule_level *a, const struct rule_level *b)
{
	return a->set == b->set && (!a->set || (a->value == b->value && a->per_ns == b->per_ns));
}

bool rule_def_equal(const struct rule_def *a, const struct rule_def *b)
{
	unsigned int i;

	if (strcmp(a->name, b->name) || a->type != b->type || a->unit != b->unit ||
	    a->kind != b->kind || a->direction != b->direction ||
	    strcmp(a->sel.name, b->sel.name) || a->sel.nmatchers != b->sel.nmatchers ||
	    !level_equal(&a->clear, &b->clear) || a->hold_ns != b->hold_ns ||
	    a->clear_hold_ns != b->clear_hold_ns || a->cooldown_ns != b->cooldown_ns ||
	    a->repeat_ns != b->repeat_ns || a->window_ns != b->window_ns ||
	    a->baseline_ns != b->baseline_ns || a->min_baseline != b->min_baseline ||
	    a->has_limit != b->has_limit || (a->has_limit && a->limit != b->limit) ||
	    strcmp(a->limit_metric, b->limit_metric) || strcmp(a->message, b->message))
		return false;
	for (i = 0; i < a->sel.nmatchers; i++)
		if (strcmp(a->sel.m[i].name, b->sel.m[i].name) ||
		    strcmp(a->sel.m[i].pattern, b->sel.m[i].pattern))
			return false;
	for (i = 0; i < RULE_LEVELS; i++)
		if (!level_equal(&a->level[i], &b->level[i]))
			return false;
	return true;
}

enum metric_unit rule_value_unit(const struct rule_def *r)
{
	switch (r->type) {
	case RULE_EXHAUSTION: return METRIC_UNIT_NS;
	case RULE_BASELINE: return METRIC_UNIT_RATIO;
	default: return r->unit;
	}
}

char *rule_format_value(const struct rule_def *r, double v, char *buf, size_t len)
{
	char num[40];

	if (r->type == RULE_SLOPE && !isnan(v)) {
		snprintf(buf, len, "%s/h", metric_format_value(r->unit, v * 3600, num, sizeof(num)));
		return buf;
	}
	return metric_format_value(rule_value_unit(r), v, buf, len);
}

/* The way a rule's computed value is bad: slopes and deviations are made
 * positive in the bad direction, time left is bad when small.
 */
static enum rule_direction compare_direction(const struct rule_def *r)
{
	switch (r->type) {
	case RULE_THRESHOLD: return r->direction;
	case RULE_EXHAUSTION: return RULE_BELOW;
	default: return RULE_ABOVE;
	}
}

static int lowest_level(const struct rule_def *r)
{
	int l;

	for (l = 0; l < RULE_LEVELS; l++)
		if (r->level[l].set)
			return l;
	return SEV_NONE;
}

/* Where level l stops counting once it fired: hysteresis below the level by
 * the distance the user put between the lowest level and `clear`.
 */
static double clear_line(const struct rule_def *r, int l)
{
	int low = lowest_level(r);
	double lv, band;

	if (l < 0 || l >= RULE_LEVELS)
		return NAN;
	lv = rule_level_value(r, &r->level[l]);
	if (!r->clear.set || low == SEV_NONE)
		return lv;
	band = fabs(rule_level_value(r, &r->level[low]) - rule_level_value(r, &r->clear));
	return compare_direction(r) == RULE_ABOVE ? lv - band : lv + band;
}

static bool beyond(enum rule_direction d, double v, double level)
{
	return d == RULE_ABOVE ? v > level : v < level;
}

/* ---- message templates ------------------------------------------------ */

static const char *const fixed_placeholders[] = {
	"value", "threshold", "rule", "metric", "severity", "labels",
};

int rule_message_check(const char *tmpl, const struct metric_desc *d, char *bad, size_t len)
{
	const char *p = tmpl;

	while ((p = strchr(p, '{')) != NULL) {
		const char *end = strchr(p, '}');
		char name[METRIC_LABEL_NAME_MAX];
		size_t n, i;
		bool ok = false;

		if (!end) {
			snprintf(bad, len, "%s", p);
			return -1;
		}
		n = (size_t)(end - p - 1);
		if (n < sizeof(name)) {
			memcpy(name, p + 1, n);
			name[n] = '\0';
			for (i = 0; i < sizeof(fixed_placeholders) / sizeof(fixed_placeholders[0]); i++)
				ok |= strcmp(name, fixed_placeholders[i]) == 0;
			ok |= d && metric_desc_has_label(d, name);
		}
		if (!ok) {
			snprintf(bad, len, "%.*s", (int)(end - p + 1), p);
			return -1;
		}
		p = end + 1;
	}
	return 0;
}

/* snprintf at *pos, never past len. */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
}

/* ---- the engine's data ------------------------------------------------ */

struct tbucket {
	int64_t idx;
	uint32_t n;
	double su, suu, sv, suv;	/* u: seconds since the bucket's start */
	double ufirst;
};

/*
 * A sliding window kept as RULE_TREND_BUCKETS sums, so a fit over hours of
 * 1 s samples costs a few KiB and is still exact least squares over the
 * points in the window (the window moves in steps of one bucket).
 */
struct trend {
	uint64_t origin, width;		/* ns; bucket i starts at origin + i * width */
	int64_t last;			/* bucket of the newest point */
	uint64_t last_ts;
	struct tbucket b[NB];
	/* baseline rules: EWMA of the buckets that left the window */
	bool have_base;
	double base;
	int64_t base_first, base_prev;
};

struct series {
	struct series *hnext;
	struct rstate *states;		/* linked by snext */
	uint64_t hash;
	uint64_t last_ts;
	double value;
	char name[METRIC_NAME_MAX];
	unsigned int nlabels;
	struct metric_label_copy labels[METRIC_MAX_LABELS];
	char key[];
};

struct rule_rt;

struct rstate {
	struct rule_rt *rule;
	struct series *series;
	struct rstate *rprev, *rnext;	/* the rule's states, in creation order */
	struct rstate *snext;		/* the series' states */
	uint64_t since[RULE_LEVELS];	/* beyond level l since (NOT_SINCE: not) */
	int current;			/* severity it fires at, SEV_NONE */
	int announced;			/* severity last announced, SEV_NONE */
	uint64_t firing_since;
	uint64_t cleared_since;
	bool ever_fired;
	uint64_t last_fire_ts;
	int last_fire_sev;
	double value;			/* last computed value */
	double raw_slope;		/* slope and exhaustion: per second */
	double recent, base;		/* baseline: for the message */
	struct trend *trend;
};

struct rule_rt {
	struct rule_def def;
	struct rstate *head, *tail;
	unsigned int nstates;
};

struct rules_engine {
	struct rules_engine_opts opts;
	struct rule_rt *rules;
	size_t nrules;
	struct series **tab;
	size_t tabsize, nseries;
	struct rules_engine_stats st;
};

/* ---- transitions ------------------------------------------------------ */

void rule_transitions_clear(struct rule_transitions *l)
{
	l->n = 0;
}

void rule_transitions_free(struct rule_transitions *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static struct rule_transition *transition_new(struct rule_transitions *l)
{
	struct rule_transition *t;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		struct rule_transition *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	t = &l->v[l->n++];
	memset(t, 0, sizeof(*t));
	return t;
}

void rule_transition_to_alert(const struct rule_transition *t, struct alert *a,
			      struct alert_label *labels)
{
	unsigned int i;

	for (i = 0; i < t->nlabels; i++) {
		labels[i].name = t->labels[i].name;
		labels[i].value = t->labels[i].value;
	}
	memset(a, 0, sizeof(*a));
	a->kind = t->kind;
	a->severity = t->severity;
	a->state = t->state;
	a->rule = t->rule;
	a->metric = t->metric;
	a->labels = labels;
	a->nlabels = t->nlabels;
	a->value = t->value;
	a->threshold = t->threshold;
	a->message = t->message;
	a->ts_ns = t->ts_ns;
}

/* What is going on, without a verdict: "disk.util{device=sda} is 97.2%". */
static void describe(const struct rstate *st, char *buf, size_t len)
{
	const struct rule_def *r = &st->rule->def;
	char val[48], a[METRIC_NAME_MAX], b[48];
	const char *series = st->series->key;
	bool up = r->direction == RULE_ABOVE;

	rule_format_value(r, st->value, val, sizeof(val));
	switch (r->type) {
	case RULE_THRESHOLD:
		snprintf(buf, len, "%s is %s", series, val);
		break;
	case RULE_SLOPE:
		snprintf(buf, len, "%s %s by %s", series, st->raw_slope >= 0 ? "rising" : "falling",
			 rule_format_value(r, fabs(st->raw_slope), val, sizeof(val)));
		break;
	case RULE_EXHAUSTION:
		if (r->limit_metric[0])
			snprintf(a, sizeof(a), "%s", r->limit_metric);
		else
			metric_format_value(r->unit, r->limit, a, sizeof(a));
		if (isinf(st->value))
			snprintf(buf, len, "%s is not %s toward %s", series,
				 up ? "growing" : "falling", a);
		else if (st->value <= 0)
			snprintf(buf, len, "%s has reached %s", series, a);
		else
			snprintf(buf, len, "%s reaches %s in %s", series, a, val);
		break;
	case RULE_BASELINE:
		snprintf(buf, len, "%s is %s %s its baseline (%s vs %s)", series,
			 metric_format_value(METRIC_UNIT_RATIO,
					     fabs(st->recent - st->base) / fabs(st->base), val,
					     sizeof(val)),
			 st->recent >= st->base ? "above" : "below",
			 metric_format_value(r->unit, st->recent, a, sizeof(a)),
			 metric_format_value(r->unit, st->base, b, sizeof(b)));
		break;
	default:
		buf[0] = '\0';
	}
}

static void render_template(const struct rule_transition *t, const struct rstate *st,
			    char *buf, size_t len)
{
	const struct rule_def *r = &st->rule->def;
	const char *p = r->message;
	size_t pos = 0;
	unsigned int i;

	buf[0] = '\0';
	while (*p) {
		const char *end;
		char name[METRIC_LABEL_NAME_MAX];
		size_t n;

		if (*p != '{' || !(end = strchr(p, '}')) ||
		    (n = (size_t)(end - p - 1)) >= sizeof(name)) {
			append(buf, len, &pos, "%c", *p++);
			continue;
		}
		memcpy(name, p + 1, n);
		name[n] = '\0';
		p = end + 1;
		if (!strcmp(name, "value")) {
			append(buf, len, &pos, "%s", t->value_text);
		} else if (!strcmp(name, "threshold")) {
			append(buf, len, &pos, "%s", t->threshold_text);
		} else if (!strcmp(name, "rule")) {
			append(buf, len, &pos, "%s", r->name);
		} else if (!strcmp(name, "metric")) {
			append(buf, len, &pos, "%s", st->series->name);
		} else if (!strcmp(name, "severity")) {
			append(buf, len, &pos, "%s", alert_severity_name(t->severity));
		} else if (!strcmp(name, "labels")) {
			/* the key without the name: "{a=x,b=y}", sorted */
			append(buf, len, &pos, "%s", st->series->key + strlen(st->series->name));
		} else {
			for (i = 0; i < st->series->nlabels; i++)
				if (!strcmp(st->series->labels[i].name, name))
					append(buf, len, &pos, "%s", st->series->labels[i].value);
		}
	}
}

/* "(warning above 90%)", "(warning below 6h00m)", "(warning over 50%)":
 * slopes and deviations are compared as amounts, whichever their direction.
 */
static const char *verdict_word(const struct rule_def *r)
{
	if (r->type == RULE_SLOPE || r->type == RULE_BASELINE)
		return "over";
	return rule_direction_name(compare_direction(r));
}

/* Record a transition of st into out; 0 or -ENOMEM. */
static int emit(struct rstate *st, enum alert_state state, int sev, double threshold,
		uint64_t ts, const char *why, struct rule_transitions *out)
{
	const struct rule_def *r = &st->rule->def;
	struct rule_transition *t = transition_new(out);
	char core[RULE_MESSAGE_MAX + METRIC_KEY_MAX];
	size_t pos = 0;
	unsigned int i;

	if (!t)
		return -ENOMEM;
	t->state = state;
	t->severity = (enum alert_severity)sev;
	t->kind = r->kind;
	t->type = r->type;
	snprintf(t->rule, sizeof(t->rule), "%s", r->name);
	snprintf(t->metric, sizeof(t->metric), "%s", st->series->name);
	t->nlabels = st->series->nlabels;
	for (i = 0; i < t->nlabels; i++)
		t->labels[i] = st->series->labels[i];
	t->value = st->value;
	t->threshold = threshold;
	rule_format_value(r, st->value, t->value_text, sizeof(t->value_text));
	rule_format_value(r, threshold, t->threshold_text, sizeof(t->threshold_text));
	t->ts_ns = ts;
	describe(st, core, sizeof(core));
	if (state == ALERT_RESOLVED && why)
		append(t->message, sizeof(t->message), &pos, "resolved: %s %s (was %s)",
		       st->series->key, why, alert_severity_name(t->severity));
	else if (state == ALERT_RESOLVED)
		append(t->message, sizeof(t->message), &pos, "resolved: %s (was %s)", core,
		       alert_severity_name(t->severity));
	else if (r->message[0])
		render_template(t, st, t->message, sizeof(t->message));
	else
		append(t->message, sizeof(t->message), &pos, "%s (%s %s %s)", core,
		       alert_severity_name(t->severity), verdict_word(r), t->threshold_text);
	return 0;
}

/* ---- the state machine ------------------------------------------------ */

/* The severity the value holds st at after this sample, before announcing. */
static int next_severity(struct rstate *st, double v, uint64_t ts)
{
	const struct rule_def *r = &st->rule->def;
	enum rule_direction dir = compare_direction(r);
	int l, target = SEV_NONE, kept = SEV_NONE;

	for (l = 0; l < RULE_LEVELS; l++) {
		if (!r->level[l].set)
			continue;
		if (!beyond(dir, v, rule_level_value(r, &r->level[l])))
			st->since[l] = NOT_SINCE;
		else if (st->since[l] == NOT_SINCE)
			st->since[l] = ts;
	}
	for (l = RULE_LEVELS - 1; l >= 0 && target == SEV_NONE; l--)
		if (r->level[l].set && st->since[l] != NOT_SINCE && ts - st->since[l] >= r->hold_ns)
			target = l;
	/* Hysteresis: a level that fired holds until its clear line is crossed. */
	for (l = st->current; l >= 0 && kept == SEV_NONE; l--)
		if (r->level[l].set && beyond(dir, v, clear_line(r, l)))
			kept = l;
	l = target > kept ? target : kept;
	if (l == SEV_NONE && st->current != SEV_NONE && r->clear_hold_ns) {
		if (st->cleared_since == NOT_SINCE)
			st->cleared_since = ts;
		if (ts - st->cleared_since < r->clear_hold_ns)
			return st->current;
	} else {
		st->cleared_since = NOT_SINCE;
	}
	return l;
}

static int announce_firing(struct rstate *st, int sev, uint64_t ts, bool reminder,
			   struct rule_transitions *out)
{
	const struct rule_def *r = &st->rule->def;
	int ret = emit(st, ALERT_FIRING, sev, rule_level_value(r, &r->level[sev]), ts, NULL, out);

	if (ret)
		return ret;
	out->v[out->n - 1].reminder = reminder;
	st->announced = sev;
	st->ever_fired = true;
	st->last_fire_ts = ts;
	st->last_fire_sev = sev;
	return 0;
}

static int step(struct rstate *st, double v, uint64_t ts, struct rule_transitions *out)
{
	const struct rule_def *r = &st->rule->def;
	int sev = next_severity(st, v, ts);
	int low = lowest_level(r);

	if (sev != SEV_NONE && st->current == SEV_NONE)
		st->firing_since = ts;
	st->current = sev;
	if (sev == SEV_NONE) {
		int was = st->announced;

		if (was == SEV_NONE)
			return 0;
		st->announced = SEV_NONE;
		return emit(st, ALERT_RESOLVED, was, clear_line(r, low), ts, NULL, out);
	}
	if (sev == st->announced) {
		if (r->repeat_ns && ts - st->last_fire_ts >= r->repeat_ns)
			return announce_firing(st, sev, ts, true, out);
		return 0;
	}
	/* Stepping down, escalating while announced, or a first firing: said at
	 * once; the same or a lower severity again within the cooldown: not
	 * yet (the next sample tries again, so it is said when the cooldown
	 * ends if it still fires).
	 */
	if (st->announced != SEV_NONE || !st->ever_fired || sev > st->last_fire_sev ||
	    ts - st->last_fire_ts >= r->cooldown_ns)
		return announce_firing(st, sev, ts, false, out);
	return 0;
}

/* ---- trends ----------------------------------------------------------- */

static struct trend *trend_new(const struct rule_def *r)
{
	struct trend *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->width = r->window_ns / NB ? r->window_ns / NB : 1;
	t->last = -1;
	return t;
}

static void trend_fold(struct trend *t, const struct rule_def *r, const struct tbucket *b)
{
	double mean = b->sv / b->n;

	if (!t->have_base) {
		t->base = mean;
		t->base_first = b->idx;
		t->have_base = true;
	} else {
		double dt = (double)(b->idx - t->base_prev) * (double)t->width;

		t->base += (1.0 - exp(-dt / (double)r->baseline_ns)) * (mean - t->base);
	}
	t->base_prev = b->idx;
}

static void trend_add(struct trend *t, const struct rule_def *r, uint64_t ts, double v)
{
	struct tbucket *b;
	int64_t idx, j, hi;
	double u;

	if (t->last < 0)
		t->origin = ts;
	idx = (int64_t)((ts - t->origin) / t->width);
	/* Buckets falling out of the window feed the baseline, oldest first. */
	hi = idx - NB < t->last ? idx - NB : t->last;
	for (j = t->last - (NB - 1) > 0 ? t->last - (NB - 1) : 0; t->last >= 0 && j <= hi; j++) {
		b = &t->b[j % NB];
		if (b->n && b->idx == j) {
			if (r->type == RULE_BASELINE)
				trend_fold(t, r, b);
			b->n = 0;
		}
	}
	b = &t->b[idx % NB];
	if (!b->n || b->idx != idx) {
		memset(b, 0, sizeof(*b));
		b->idx = idx;
	}
	u = (double)(ts - t->origin - (uint64_t)idx * t->width) / 1e9;
	if (!b->n)
		b->ufirst = u;
	b->n++;
	b->su += u;
	b->suu += u * u;
	b->sv += v;
	b->suv += u * v;
	t->last = idx;
	t->last_ts = ts;
}

struct fit {
	double n, slope, mean_v, fitted, span_s;
};

/*
 * Least squares over the window, x in seconds relative to the newest
 * bucket's start (small numbers: no precision lost to absolute times).
 */
static void trend_fit(const struct trend *t, struct fit *f)
{
	double sx = 0, sxx = 0, sv = 0, sxv = 0, first = 0, xnow, w = (double)t->width / 1e9;
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->slope = NAN;
	for (i = 0; i < NB; i++) {
		const struct tbucket *b = &t->b[i];
		double d;

		if (!b->n || b->idx <= t->last - NB || b->idx > t->last)
			continue;
		d = (double)(b->idx - t->last) * w;
		f->n += b->n;
		sx += b->n * d + b->su;
		sxx += b->n * d * d + 2 * d * b->su + b->suu;
		sv += b->sv;
		sxv += d * b->sv + b->suv;
		if (d + b->ufirst < first)
			first = d + b->ufirst;
	}
	if (f->n == 0)
		return;
	xnow = (double)(t->last_ts - t->origin - (uint64_t)t->last * t->width) / 1e9;
	f->span_s = xnow - first;
	f->mean_v = sv / f->n;
	if (f->n >= 3 && sxx - sx * sx / f->n > 0) {
		f->slope = (sxv - sx * sv / f->n) / (sxx - sx * sx / f->n);
		f->fitted = f->mean_v + f->slope * (xnow - sx / f->n);
	}
}

/* ---- series ----------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct series *series_find(struct rules_engine *e, const char *key, uint64_t h)
{
	struct series *s;

	if (!e->tabsize)
		return NULL;
	for (s = e->tab[h % e->tabsize]; s; s = s->hnext)
		if (s->hash == h && strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

static int table_grow(struct rules_engine *e)
{
	size_t size = e->tabsize ? e->tabsize * 2 : 64, i;
	struct series **tab = calloc(size, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (i = 0; i < e->tabsize; i++) {
		struct series *s = e->tab[i], *next;

		for (; s; s = next) {
			next = s->hnext;
			s->hnext = tab[s->hash % size];
			tab[s->hash % size] = s;
		}
	}
	free(e->tab);
	e->tab = tab;
	e->tabsize = size;
	return 0;
}

static void series_insert(struct rules_engine *e, struct series *s)
{
	s->hnext = e->tab[s->hash % e->tabsize];
	e->tab[s->hash % e->tabsize] = s;
	e->nseries++;
}

static struct series *series_new(struct rules_engine *e, const struct metric_sample *smp,
				 const char *key, uint64_t h)
{
	size_t klen = strlen(key) + 1;
	struct series *s;
	unsigned int i;

	if (e->nseries >= e->tabsize && table_grow(e))
		return NULL;
	s = calloc(1, sizeof(*s) + klen);
	if (!s)
		return NULL;
	memcpy(s->key, key, klen);
	s->hash = h;
	snprintf(s->name, sizeof(s->name), "%s", smp->name);
	s->nlabels = smp->nlabels;
	for (i = 0; i < smp->nlabels; i++) {
		snprintf(s->labels[i].name, sizeof(s->labels[i].name), "%s", smp->labels[i].name);
		snprintf(s->labels[i].value, sizeof(s->labels[i].value), "%s",
			 smp->labels[i].value);
	}
	series_insert(e, s);
	return s;
}

static bool labels_fit(const struct metric_sample *s)
{
	unsigned int i;

	if (s->nlabels > METRIC_MAX_LABELS || strlen(s->name) >= METRIC_NAME_MAX)
		return false;
	for (i = 0; i < s->nlabels; i++)
		if (strlen(s->labels[i].name) >= METRIC_LABEL_NAME_MAX ||
		    strlen(s->labels[i].value) >= METRIC_LABEL_VALUE_MAX)
			return false;
	return true;
}

static bool wanted(const struct rules_engine *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nrules; i++)
		if (!strcmp(e->rules[i].def.sel.name, name) ||
		    !strcmp(e->rules[i].def.limit_metric, name))
			return true;
	return false;
}

/* The series of a limit metric with the same labels as s, or NULL. */
static struct series *limit_series(struct rules_engine *e, const struct series *s,
				   const char *limit_metric)
{
	struct metric_label l[METRIC_MAX_LABELS];
	char key[METRIC_KEY_MAX];
	unsigned int i;

	for (i = 0; i < s->nlabels; i++) {
		l[i].name = s->labels[i].name;
		l[i].value = s->labels[i].value;
	}
	if (metric_key(limit_metric, l, s->nlabels, key, sizeof(key)) < 0)
		return NULL;
	return series_find(e, key, hash_str(key));
}

/* ---- states ----------------------------------------------------------- */

static struct rstate *state_new(struct rule_rt *rr, struct series *s)
{
	struct rstate *st = calloc(1, sizeof(*st));
	int l;

	if (!st)
		return NULL;
	if (rr->def.type != RULE_THRESHOLD) {
		st->trend = trend_new(&rr->def);
		if (!st->trend) {
			free(st);
			return NULL;
		}
	}
	st->rule = rr;
	st->series = s;
	for (l = 0; l < RULE_LEVELS; l++)
		st->since[l] = NOT_SINCE;
	st->current = st->announced = st->last_fire_sev = SEV_NONE;
	st->cleared_since = NOT_SINCE;
	st->value = NAN;
	st->rprev = rr->tail;
	if (rr->tail)
		rr->tail->rnext = st;
	else
		rr->head = st;
	rr->tail = st;
	rr->nstates++;
	st->snext = s->states;
	s->states = st;
	return st;
}

static void state_unlink_rule(struct rstate *st)
{
	struct rule_rt *rr = st->rule;

	if (st->rprev)
		st->rprev->rnext = st->rnext;
	else
		rr->head = st->rnext;
	if (st->rnext)
		st->rnext->rprev = st->rprev;
	else
		rr->tail = st->rprev;
	st->rprev = st->rnext = NULL;
	rr->nstates--;
}

static void state_free(struct rstate *st)
{
	struct rstate **pp;

	state_unlink_rule(st);
	for (pp = &st->series->states; *pp; pp = &(*pp)->snext) {
		if (*pp == st) {
			*pp = st->snext;
			break;
		}
	}
	free(st->trend);
	free(st);
}

static struct rstate *state_of(struct series *s, const struct rule_rt *rr)
{
	struct rstate *st;

	for (st = s->states; st; st = st->snext)
		if (st->rule == rr)
			return st;
	return NULL;
}

/* The rule's value for this sample, NAN while it has none (trend warming up). */
static double compute(struct rules_engine *e, struct rstate *st, double v, uint64_t ts)
{
	const struct rule_def *r = &st->rule->def;
	double limit, now_v, secs;
	struct fit f;

	if (r->type == RULE_THRESHOLD)
		return v;
	trend_add(st->trend, r, ts, v);
	if (r->type == RULE_BASELINE) {
		const struct trend *t = st->trend;

		trend_fit(t, &f);
		if (!t->have_base || f.n == 0 ||
		    (double)(t->base_prev - t->base_first + 1) * (double)t->width < (double)r->baseline_ns ||
		    fabs(t->base) < r->min_baseline || t->base == 0)
			return NAN;
		st->recent = f.mean_v;
		st->base = t->base;
		return (r->direction == RULE_ABOVE ? f.mean_v - t->base : t->base - f.mean_v) /
		       fabs(t->base);
	}
	trend_fit(st->trend, &f);
	if (isnan(f.slope) || f.span_s * 2e9 < (double)r->window_ns)
		return NAN;
	st->raw_slope = f.slope;
	if (r->type == RULE_SLOPE)
		return r->direction == RULE_ABOVE ? f.slope : -f.slope;
	/* exhaustion */
	if (r->limit_metric[0]) {
		struct series *ls = limit_series(e, st->series, r->limit_metric);

		if (!ls)
			return NAN;
		limit = ls->value;
	} else {
		limit = r->limit;
	}
	now_v = f.fitted;
	if (r->direction == RULE_ABOVE) {
		if (v >= limit || now_v >= limit)
			return 0;
		if (f.slope <= 0)
			return INFINITY;
		secs = (limit - now_v) / f.slope;
	} else {
		if (v <= limit || now_v <= limit)
			return 0;
		if (f.slope >= 0)
			return INFINITY;
		secs = (now_v - limit) / -f.slope;
	}
	return secs * 1e9;
}

static int run_rule(struct rules_engine *e, struct rule_rt *rr, struct series *s,
		    const struct metric_sample *smp, struct rule_transitions *out)
{
	struct rstate *st = state_of(s, rr);
	double v;

	if (!st) {
		if (rr->nstates >= e->opts.max_series_per_rule) {
			e->st.series_dropped++;
			return 0;
		}
		st = state_new(rr, s);
		if (!st)
			return -ENOMEM;
	}
	v = compute(e, st, smp->value, smp->ts_ns);
	if (isnan(v))
		return 0;
	st->value = v;
	return step(st, v, smp->ts_ns, out);
}

/* Find or make the series of smp and record its value; NULL when ignored. */
static struct series *record(struct rules_engine *e, const struct metric_sample *smp, int *err)
{
	char key[METRIC_KEY_MAX];
	struct series *s;
	uint64_t h;

	*err = 0;
	e->st.samples++;
	if (!smp->name || !wanted(e, smp->name) || isnan(smp->value))
		return NULL;
	if (!labels_fit(smp) || metric_key(smp->name, smp->labels, smp->nlabels, key, sizeof(key)) < 0) {
		e->st.series_dropped++;
		return NULL;
	}
	h = hash_str(key);
	s = series_find(e, key, h);
	if (!s) {
		s = series_new(e, smp, key, h);
		if (!s) {
			*err = -ENOMEM;
			return NULL;
		}
	} else if (smp->ts_ns <= s->last_ts) {
		e->st.out_of_order++;
		return NULL;
	}
	s->value = smp->value;
	s->last_ts = smp->ts_ns;
	return s;
}

int rules_feed(struct rules_engine *e, const struct metric_sample *smp,
	       struct rule_transitions *out)
{
	struct series *s;
	size_t i;
	int ret;

	s = record(e, smp, &ret);
	if (!s)
		return ret;
	for (i = 0; i < e->nrules; i++) {
		struct rule_rt *rr = &e->rules[i];

		if (!metric_selector_match(&rr->def.sel, smp))
			continue;
		ret = run_rule(e, rr, s, smp, out);
		if (ret)
			return ret;
	}
	return 0;
}

static bool is_limit_metric(const struct rules_engine *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->nrules; i++)
		if (!strcmp(e->rules[i].def.limit_metric, name))
			return true;
	return false;
}

int rules_feed_batch(struct rules_engine *e, const struct metric_sample *s, size_t n,
		     struct rule_transitions *out)
{
	size_t i;
	int pass, ret;

	/* Limits first, so exhaustion rules compare with this interval's. */
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if (!s[i].name || is_limit_metric(e, s[i].name) != (pass == 0))
				continue;
			ret = rules_feed(e, &s[i], out);
			if (ret)
				return ret;
		}
	}
	return 0;
}

static bool stale(const struct rules_engine *e, const struct series *s, uint64_t now)
{
	return e->opts.stale_ns && now > s->last_ts && now - s->last_ts > e->opts.stale_ns;
}

int rules_expire(struct rules_engine *e, uint64_t now_ns, struct rule_transitions *out)
{
	char why[64], age[32];
	size_t i;
	int ret;

	for (i = 0; i < e->nrules; i++) {
		struct rstate *st = e->rules[i].head, *next;

		for (; st; st = next) {
			next = st->rnext;
			if (!stale(e, st->series, now_ns))
				continue;
			if (st->announced != SEV_NONE) {
				snprintf(why, sizeof(why), "not reported for %s",
					 metric_format_duration((double)(now_ns - st->series->last_ts),
								age, sizeof(age)));
				ret = emit(st, ALERT_RESOLVED, st->announced,
					   clear_line(&st->rule->def, lowest_level(&st->rule->def)),
					   now_ns, why, out);
				if (ret)
					return ret;
			}
			state_free(st);
		}
	}
	for (i = 0; i < e->tabsize; i++) {
		struct series **pp = &e->tab[i];

		while (*pp) {
			struct series *s = *pp;

			if (!s->states && stale(e, s, now_ns)) {
				*pp = s->hnext;
				free(s);
				e->nseries--;
			} else {
				pp = &s->hnext;
			}
		}
	}
	return 0;
}

/* ---- the engine ------------------------------------------------------- */

int rules_engine_new(struct rules_engine **out, const struct rule_def *rules, size_t n,
		     const struct rules_engine_opts *opts)
{
	struct rules_engine *e = calloc(1, sizeof(*e));
	size_t i;

	*out = NULL;
	if (!e)
		return -ENOMEM;
	e->opts.stale_ns = opts ? opts->stale_ns : 600 * 1000000000ULL;
	e->opts.max_series_per_rule = opts && opts->max_series_per_rule ?
				      opts->max_series_per_rule : 1000;
	e->rules = calloc(n ? n : 1, sizeof(*e->rules));
	if (!e->rules) {
		free(e);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		e->rules[i].def = rules[i];
	e->nrules = n;
	*out = e;
	return 0;
}

static void free_states(struct rule_rt *rr)
{
	struct rstate *st = rr->head, *next;

	for (; st; st = next) {
		next = st->rnext;
		free(st->trend);
		free(st);
	}
	rr->head = rr->tail = NULL;
	rr->nstates = 0;
}

void rules_engine_free(struct rules_engine *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->nrules; i++)
		free_states(&e->rules[i]);
	for (i = 0; i < e->tabsize; i++) {
		struct series *s = e->tab[i], *next;

		for (; s; s = next) {
			next = s->hnext;
			free(s);
		}
	}
	free(e->tab);
	free(e->rules);
	free(e);
}

static struct rule_rt *same_rule(struct rules_engine *e, const struct rule_def *d)
{
	size_t i;

	for (i = 0; i < e->nrules; i++)
		if (rule_def_equal(&e->rules[i].def, d))
			return &e->rules[i];
	return NULL;
}

int rules_engine_take_state(struct rules_engine *new, struct rules_engine *old,
			    uint64_t now_ns, struct rule_transitions *out)
{
	size_t i;
	int ret;

	if (new->nseries)
		return -EBUSY;
	/* Room for every series first: after this nothing can fail half-way. */
	while (new->tabsize < old->nseries)
		if (table_grow(new))
			return -ENOMEM;
	/* Rules gone or changed: say their alerts are over, then drop them. */
	for (i = 0; i < old->nrules; i++) {
		struct rule_rt *rr = &old->rules[i];
		struct rstate *st, *next;

		if (same_rule(new, &rr->def))
			continue;
		for (st = rr->head; st; st = next) {
			next = st->rnext;
			if (st->announced != SEV_NONE) {
				ret = emit(st, ALERT_RESOLVED, st->announced,
					   clear_line(&rr->def, lowest_level(&rr->def)), now_ns,
					   "no longer watched (rule changed or removed)", out);
				if (ret)
					return ret;
			}
			state_free(st);
		}
	}
	/* What is left moves over whole: series, then the states on them. */
	for (i = 0; i < old->nrules; i++) {
		struct rule_rt *rr = &old->rules[i], *nr = same_rule(new, &rr->def);
		struct rstate *st;

		if (!nr)
			continue;
		for (st = rr->head; st; st = st->rnext)
			st->rule = nr;
		nr->head = rr->head;
		nr->tail = rr->tail;
		nr->nstates = rr->nstates;
		rr->head = rr->tail = NULL;
		rr->nstates = 0;
	}
	for (i = 0; i < old->tabsize; i++) {
		struct series *s = old->tab[i], *next;

		for (; s; s = next) {
			next = s->hnext;
			if (!s->states && !wanted(new, s->name))
				free(s);
			else
				series_insert(new, s);
		}
		old->tab[i] = NULL;
	}
	old->nseries = 0;
	return 0;
}

void rules_engine_foreach(const struct rules_engine *e,
			  void (*fn)(void *ctx, const struct rule_state_info *i), void *ctx)
{
	size_t i;

	for (i = 0; i < e->nrules; i++) {
		const struct rstate *st;

		for (st = e->rules[i].head; st; st = st->rnext) {
			struct rule_state_info info = {
				.rule = e->rules[i].def.name,
				.series = st->series->key,
				.firing = st->current != SEV_NONE,
				.announced = st->announced != SEV_NONE,
				.severity = st->current != SEV_NONE ?
					    (enum alert_severity)st->current : ALERT_INFO,
				.value = st->value,
				.since_ns = st->current != SEV_NONE ? st->firing_since : 0,
			};
			fn(ctx, &info);
		}
	}
}

void rules_engine_stats(const struct rules_engine *e, struct rules_engine_stats *st)
{
	size_t i;

	*st = e->st;
	st->series = e->nseries;
	st->states = 0;
	for (i = 0; i < e->nrules; i++)
		st->states += e->rules[i].nstates;
}
