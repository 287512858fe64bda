// SPDX-License-Identifier: GPL-2.0
/*
 * The rule engine driven by synthetic series: each case checks at exactly
 * which sample a rule fires, escalates, steps down and resolves, and what it
 * says. Timestamps are the samples' own, so nothing here depends on time.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "rules.h"

#define S 1000000000ULL		/* one second in ns */
#define MS 1000000ULL

static struct rule_def threshold_rule(const char *name, const char *metric, enum metric_unit unit,
				      enum rule_direction dir, double warn, double crit)
{
	struct rule_def r;

	memset(&r, 0, sizeof(r));
	snprintf(r.name, sizeof(r.name), "%s", name);
	r.type = RULE_THRESHOLD;
	metric_selector_parse(metric, &r.sel, NULL, 0);
	r.unit = unit;
	r.direction = dir;
	if (!isnan(warn))
		r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = warn };
	if (!isnan(crit))
		r.level[ALERT_CRITICAL] = (struct rule_level){ .set = true, .value = crit };
	return r;
}

static void set_clear(struct rule_def *r, double v)
{
	r->clear = (struct rule_level){ .set = true, .value = v };
}

/* A fixture: one engine, its transitions, and a cursor into them. */
struct fx {
	struct rules_engine *e;
	struct rule_transitions out;
	size_t seen;
};

static int fx_init(struct fx *f, const struct rule_def *rules, size_t n)
{
	memset(f, 0, sizeof(*f));
	return rules_engine_new(&f->e, rules, n, NULL);
}

static void fx_free(struct fx *f)
{
	rules_engine_free(f->e);
	rule_transitions_free(&f->out);
}

/* Feed one sample with up to one label; returns how many transitions it made. */
static int feed1(struct fx *f, const char *metric, const char *lname, const char *lvalue,
		 double v, uint64_t ts)
{
	struct metric_sample s = lname ? metric_sample_make(metric, v, ts, lname, lvalue, NULL) :
				 metric_sample_make(metric, v, ts, NULL);
	size_t before = f->out.n;

	if (rules_feed(f->e, &s, &f->out))
		return -1;
	return (int)(f->out.n - before);
}

static int feed(struct fx *f, const char *metric, double v, uint64_t ts)
{
	return feed1(f, metric, NULL, NULL, v, ts);
}

/* The newest transition; an empty one (matching nothing) when there is none. */
static const struct rule_transition *last(const struct fx *f)
{
	static const struct rule_transition none = { .state = -1, .severity = -1 };

	return f->out.n ? &f->out.v[f->out.n - 1] : &none;
}

/* ---- threshold -------------------------------------------------------- */

static void t_threshold_fires_and_resolves_at_exact_samples(void)
{
	struct rule_def r = threshold_rule("lat", "syscall.latency.p99", METRIC_UNIT_NS,
					   RULE_ABOVE, 10 * MS, 50 * MS);
	static const double ms[] = { 1, 5, 10, 10.5, 12, 60, 49, 9, 3 };
	/* 10 is not above 10: fires at 10.5 (index 3); 60 critical (5);
	 * 49 steps down to warning (6), 9 resolves (7). */
	static const int expect[] = { 0, 0, 0, 1, 0, 1, 1, 1, 0 };
	struct fx f;
	size_t i;

	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		int n = feed1(&f, "syscall.latency.p99", "syscall", "read", ms[i] * MS, i * S);

		CHECKF(n == expect[i], "sample %zu (%gms): %d transitions, expected %d", i, ms[i], n,
		       expect[i]);
	}
	CHECK(f.out.n == 4);
	CHECK(f.out.v[0].state == ALERT_FIRING && f.out.v[0].severity == ALERT_WARNING);
	CHECK(f.out.v[0].ts_ns == 3 * S && f.out.v[0].threshold == 10 * MS);
	CHECK_STREQ(f.out.v[0].message,
		    "syscall.latency.p99{syscall=read} is 10.5ms (warning above 10.0ms)");
	CHECK(f.out.v[1].state == ALERT_FIRING && f.out.v[1].severity == ALERT_CRITICAL);
	CHECK_STREQ(f.out.v[1].value_text, "60.0ms");
	CHECK_STREQ(f.out.v[1].threshold_text, "50.0ms");
	CHECK(f.out.v[2].state == ALERT_FIRING && f.out.v[2].severity == ALERT_WARNING);
	CHECK(f.out.v[3].state == ALERT_RESOLVED && f.out.v[3].severity == ALERT_WARNING);
	CHECK(f.out.v[3].ts_ns == 7 * S);
	CHECK_STREQ(f.out.v[3].message,
		    "resolved: syscall.latency.p99{syscall=read} is 9.00ms (was warning)");
	CHECK_STREQ(f.out.v[3].rule, "lat");
	CHECK_STREQ(f.out.v[3].metric, "syscall.latency.p99");
	CHECK(f.out.v[3].nlabels == 1);
	CHECK_STREQ(f.out.v[3].labels[0].name, "syscall");
	CHECK_STREQ(f.out.v[3].labels[0].value, "read");
	fx_free(&f);
}

static void t_hold_delays_firing_and_a_dip_restarts_it(void)
{
	struct rule_def r = threshold_rule("busy", "disk.util", METRIC_UNIT_RATIO, RULE_ABOVE,
					   0.9, NAN);
	/* Above 90% from t=2; dips at t=5; above again from t=6; hold 3s. */
	static const double v[] = { 0.5, 0.5, 0.95, 0.95, 0.95, 0.8, 0.95, 0.95, 0.95, 0.95, 0.95 };
	struct fx f;
	size_t i;
	int fired_at = -1;

	r.hold_ns = 3 * S;
	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (feed1(&f, "disk.util", "device", "sda", v[i], i * S) == 1 && fired_at < 0)
			fired_at = (int)i;
	/* t=2..4 is 2 s of breach (not 3), the dip restarts: 6 + 3 = 9. */
	CHECKF(fired_at == 9, "fired at sample %d, expected 9", fired_at);
	CHECK(f.out.n == 1);
	fx_free(&f);
}

/* A value hovering at the line: without hysteresis it flaps, with it not. */
static void t_hysteresis_stops_flapping(void)
{
	struct rule_def r = threshold_rule("p", "psi.some_stall_ratio{resource=cpu}",
					   METRIC_UNIT_RATIO, RULE_ABOVE, 0.5, NAN);
	static const double v[] = { 0.51, 0.49, 0.52, 0.48, 0.51, 0.47, 0.45, 0.39, 0.41 };
	struct fx f;
	size_t i;

	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		feed1(&f, "psi.some_stall_ratio", "resource", "cpu", v[i], i * S);
	CHECKF(f.out.n == 6, "without clear: %zu transitions, expected 6", f.out.n);
	fx_free(&f);

	set_clear(&r, 0.4);
	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		feed1(&f, "psi.some_stall_ratio", "resource", "cpu", v[i], i * S);
	CHECKF(f.out.n == 2, "with clear 40%%: %zu transitions, expected 2", f.out.n);
	CHECK(f.out.v[0].state == ALERT_FIRING && f.out.v[0].ts_ns == 0);
	CHECK(f.out.v[1].state == ALERT_RESOLVED && f.out.v[1].ts_ns == 7 * S);
	CHECK(fabs(f.out.v[1].threshold - 0.4) < 1e-12);
	/* Another resource's series is another state; this one saw nothing. */
	CHECK(feed1(&f, "psi.some_stall_ratio", "resource", "io", 0.9, 20 * S) == 0);
	fx_free(&f);
}

/* Hysteresis applies to critical too, the same distance under its level. */
static void t_escalation_and_step_down_with_hysteresis(void)
{
	struct rule_def r = threshold_rule("fs", "fs.used_ratio", METRIC_UNIT_RATIO, RULE_ABOVE,
					   0.90, 0.97);
	/* clear 0.88: band 0.02, so critical steps down below 0.95 */
	static const double v[] = { 0.91, 0.98, 0.96, 0.951, 0.949, 0.97, 0.971, 0.89, 0.879 };
	static const int sev[] = { ALERT_WARNING, ALERT_CRITICAL, -1, -1, ALERT_WARNING, -1,
				   ALERT_CRITICAL, ALERT_WARNING, -2 /* resolved */ };
	struct fx f;
	size_t i;

	set_clear(&r, 0.88);
	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = feed1(&f, "fs.used_ratio", "mountpoint", "/", v[i], i * S);

		if (sev[i] == -1) {
			CHECKF(n == 0, "sample %zu: unexpected transition", i);
		} else if (sev[i] == -2) {
			CHECK(n == 1 && last(&f)->state == ALERT_RESOLVED);
			CHECK(last(&f)->severity == ALERT_WARNING);
		} else {
			CHECKF(n == 1 && last(&f)->state == ALERT_FIRING &&
			       (int)last(&f)->severity == sev[i], "sample %zu: n=%d", i, n);
		}
	}
	fx_free(&f);
}

static void t_direction_below(void)
{
	struct rule_def r = threshold_rule("mem", "mem.available_ratio", METRIC_UNIT_RATIO,
					   RULE_BELOW, 0.10, 0.05);
	/* clear 0.12: critical steps down at or above 0.05 + 0.02 */
	static const double v[] = { 0.5, 0.11, 0.099, 0.049, 0.06, 0.11, 0.121 };
	static const int expect[] = { 0, 0, 1, 1, 0, 1, 1 };
	struct fx f;
	size_t i;

	set_clear(&r, 0.12);
	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int n = feed(&f, "mem.available_ratio", v[i], i * S);

		CHECKF(n == expect[i], "sample %zu: %d transitions, expected %d", i, n, expect[i]);
	}
	CHECK(f.out.n == 4);
	CHECK(f.out.v[1].severity == ALERT_CRITICAL);
	CHECK(f.out.v[2].state == ALERT_FIRING && f.out.v[2].severity == ALERT_WARNING);
	CHECK(f.out.v[3].state == ALERT_RESOLVED && f.out.v[3].ts_ns == 6 * S);
	CHECK_STREQ(f.out.v[0].message, "mem.available_ratio is 9.9% (warning below 10%)");
	fx_free(&f);
}

/* Exactly where critical steps down and warning clears, going below. */
static void t_step_down_below(void)
{
	struct rule_def r = threshold_rule("mem", "mem.available_ratio", METRIC_UNIT_RATIO,
					   RULE_BELOW, 0.10, 0.05);
	struct fx f;

	set_clear(&r, 0.12);
	CHECK(fx_init(&f, &r, 1) == 0);
	CHECK(feed(&f, "mem.available_ratio", 0.04, 0) == 1);
	CHECK(last(&f)->severity == ALERT_CRITICAL);
	CHECK(feed(&f, "mem.available_ratio", 0.069, S) == 0);
	CHECK(feed(&f, "mem.available_ratio", 0.07, 2 * S) == 1);
	CHECK(last(&f)->state == ALERT_FIRING && last(&f)->severity == ALERT_WARNING);
	CHECK(feed(&f, "mem.available_ratio", 0.119, 3 * S) == 0);
	CHECK(feed(&f, "mem.available_ratio", 0.12, 4 * S) == 1);
	CHECK(last(&f)->state == ALERT_RESOLVED);
	fx_free(&f);
}

static void t_cooldown_suppresses_refiring_then_tells_when_it_ends(void)
{
	struct rule_def r = threshold_rule("err", "disk.errors_per_s", METRIC_UNIT_PER_S,
					   RULE_ABOVE, 0, 10);
	struct fx f;
	uint64_t t;

	r.cooldown_ns = 60 * S;
	CHECK(fx_init(&f, &r, 1) == 0);
	CHECK(feed(&f, "disk.errors_per_s", 1, 0) == 1);		/* fires */
	CHECK(feed(&f, "disk.errors_per_s", 0, 1 * S) == 1);		/* resolves */
	CHECK(last(&f)->state == ALERT_RESOLVED);
	/* Breaches again within the cooldown: nothing said, not even a resolve. */
	CHECK(feed(&f, "disk.errors_per_s", 2, 10 * S) == 0);
	CHECK(feed(&f, "disk.errors_per_s", 0, 11 * S) == 0);
	/* Breaching from 30 s on: said when the cooldown ends, at exactly 60 s. */
	for (t = 30; t < 60; t++)
		CHECKF(feed(&f, "disk.errors_per_s", 3, t * S) == 0, "t=%llus", (unsigned long long)t);
	CHECK(feed(&f, "disk.errors_per_s", 3, 60 * S) == 1);
	CHECK(last(&f)->state == ALERT_FIRING && last(&f)->ts_ns == 60 * S);
	/* An escalation is always said, cooldown or not. */
	CHECK(feed(&f, "disk.errors_per_s", 0, 61 * S) == 1);
	CHECK(feed(&f, "disk.errors_per_s", 20, 62 * S) == 1);
	CHECK(last(&f)->severity == ALERT_CRITICAL);
	CHECK(f.out.n == 5);
	fx_free(&f);
}

static void t_repeat_reminds_while_firing(void)
{
	struct rule_def r = threshold_rule("oom", "mem.oom_kills_per_s", METRIC_UNIT_PER_S,
					   RULE_ABOVE, 0, NAN);
	struct fx f;
	uint64_t t;
	size_t i;

	r.repeat_ns = 30 * S;
	CHECK(fx_init(&f, &r, 1) == 0);
	for (t = 0; t <= 75; t += 5)
		feed(&f, "mem.oom_kills_per_s", 1, t * S);
	CHECK(f.out.n == 3);
	for (i = 0; i < 3; i++) {
		CHECK(f.out.v[i].state == ALERT_FIRING);
		CHECK(f.out.v[i].ts_ns == i * 30 * S);
		CHECK(f.out.v[i].reminder == (i > 0));
	}
	fx_free(&f);
}

/* A storm of losses with gaps: one alert, one resolve, no flood. */
static void t_loss_storm_is_one_alert(void)
{
	struct rule_def r = threshold_rule("events-lost", "events.loss_ratio", METRIC_UNIT_RATIO,
					   RULE_ABOVE, 0, 0.01);
	struct fx f;
	uint64_t t;
	int firing = 0, resolved = 0;
	size_t i;

	r.clear_hold_ns = 60 * S;
	r.cooldown_ns = 30 * 60 * S;
	r.kind = ALERT_LOSS;
	CHECK(fx_init(&f, &r, 1) == 0);
	/* Losses (0.1%) every 10 s for 2 minutes, nothing lost in between. */
	for (t = 0; t <= 300; t++)
		feed1(&f, "events.loss_ratio", "source", "syscall",
		      t <= 120 && t % 10 == 0 ? 0.001 : 0, t * S);
	for (i = 0; i < f.out.n; i++) {
		firing += f.out.v[i].state == ALERT_FIRING;
		resolved += f.out.v[i].state == ALERT_RESOLVED;
	}
	CHECKF(firing == 1 && resolved == 1, "%d firing, %d resolved", firing, resolved);
	CHECK(f.out.v[0].ts_ns == 0 && f.out.v[0].kind == ALERT_LOSS);
	/* Clear from t=121: resolved 60 s later. */
	CHECKF(f.out.v[1].ts_ns == 181 * S, "resolved at %llus",
	       (unsigned long long)(f.out.v[1].ts_ns / S));
	fx_free(&f);
}

static void t_selector_labels_and_series_apart(void)
{
	struct rule_def r = threshold_rule("sd", "disk.util{device=sd*|nvme0n1}",
					   METRIC_UNIT_RATIO, RULE_ABOVE, 0.9, NAN);
	struct fx f;

	CHECK(fx_init(&f, &r, 1) == 0);
	CHECK(feed1(&f, "disk.util", "device", "sda", 0.95, S) == 1);
	CHECK(feed1(&f, "disk.util", "device", "sdb", 0.95, S) == 1);
	CHECK(feed1(&f, "disk.util", "device", "nvme0n1", 0.95, S) == 1);
	CHECK(feed1(&f, "disk.util", "device", "nvme1n1", 0.95, S) == 0);
	CHECK(feed1(&f, "disk.util", "device", "loop0", 0.95, S) == 0);
	CHECK(feed(&f, "disk.util", 0.95, S) == 0);		/* no device label */
	CHECK(feed1(&f, "disk.util", "device", "sda", 0.5, 2 * S) == 1);
	CHECK_STREQ(last(&f)->labels[0].value, "sda");
	CHECK(last(&f)->state == ALERT_RESOLVED);
	fx_free(&f);
}

static void t_out_of_order_and_nan_ignored(void)
{
	struct rule_def r = threshold_rule("x", "load.avg1", METRIC_UNIT_NONE, RULE_ABOVE, 4, NAN);
	struct rules_engine_stats st;
	struct fx f;

	CHECK(fx_init(&f, &r, 1) == 0);
	CHECK(feed(&f, "load.avg1", 1, 10 * S) == 0);
	CHECK(feed(&f, "load.avg1", 9, 5 * S) == 0);		/* older: ignored */
	CHECK(feed(&f, "load.avg1", 9, 10 * S) == 0);		/* same time: ignored */
	CHECK(feed(&f, "load.avg1", NAN, 11 * S) == 0);
	CHECK(feed(&f, "load.avg5", 9, 12 * S) == 0);		/* no rule on it */
	CHECK(feed(&f, "load.avg1", 9, 12 * S) == 1);
	rules_engine_stats(f.e, &st);
	CHECK(st.out_of_order == 2);
	CHECK(st.samples == 6);
	CHECK(st.series == 1 && st.states == 1);
	fx_free(&f);
}

static void t_message_template(void)
{
	struct rule_def r = threshold_rule("fs-space", "fs.used_ratio", METRIC_UNIT_RATIO,
					   RULE_ABOVE, 0.9, NAN);
	struct metric_sample s = metric_sample_make("fs.used_ratio", 0.934, 5 * S, "mountpoint",
						    "/var", "device", "/dev/sda2", "fstype", "ext4",
						    NULL);
	struct fx f;
	char bad[64];

	snprintf(r.message, sizeof(r.message),
		 "{severity}: {mountpoint} ({fstype}) is {value} full, over {threshold} [{rule} "
		 "{metric}{labels}] {unclosed");
	CHECK(rule_message_check("{value} {mountpoint}", metric_lookup("fs.used_ratio"), bad,
				 sizeof(bad)) == 0);
	CHECK(rule_message_check("{value} {mnt}", metric_lookup("fs.used_ratio"), bad,
				 sizeof(bad)) == -1);
	CHECK_STREQ(bad, "{mnt}");
	CHECK(fx_init(&f, &r, 1) == 0);
	CHECK(rules_feed(f.e, &s, &f.out) == 0 && f.out.n == 1);
	CHECK_STREQ(f.out.v[0].message,
		    "warning: /var (ext4) is 93.4% full, over 90% [fs-space "
		    "fs.used_ratio{device=/dev/sda2,fstype=ext4,mountpoint=/var}] {unclosed");
	fx_free(&f);
}

static void t_stale_series_resolve(void)
{
	struct rule_def r = threshold_rule("busy", "disk.util", METRIC_UNIT_RATIO, RULE_ABOVE,
					   0.9, NAN);
	struct rules_engine_opts o = { .stale_ns = 60 * S };
	struct rules_engine_stats st;
	struct fx f;

	memset(&f, 0, sizeof(f));
	CHECK(rules_engine_new(&f.e, &r, 1, &o) == 0);
	CHECK(feed1(&f, "disk.util", "device", "sdz", 0.99, 100 * S) == 1);
	CHECK(feed1(&f, "disk.util", "device", "sda", 0.10, 100 * S) == 0);
	CHECK(feed1(&f, "disk.util", "device", "sda", 0.10, 150 * S) == 0);
	CHECK(rules_expire(f.e, 160 * S, &f.out) == 0 && f.out.n == 1);	/* 60 s: not yet */
	CHECK(rules_expire(f.e, 161 * S, &f.out) == 0 && f.out.n == 2);
	CHECK(last(&f)->state == ALERT_RESOLVED && last(&f)->ts_ns == 161 * S);
	CHECK_STREQ(last(&f)->message,
		    "resolved: disk.util{device=sdz} not reported for 1m01s (was warning)");
	rules_engine_stats(f.e, &st);
	CHECK(st.series == 1 && st.states == 1);
	/* The device comes back: a fresh state, firing anew. */
	CHECK(feed1(&f, "disk.util", "device", "sdz", 0.99, 200 * S) == 1);
	fx_free(&f);
}

static void t_series_cap(void)
{
	struct rule_def r = threshold_rule("busy", "disk.util", METRIC_UNIT_RATIO, RULE_ABOVE,
					   0.9, NAN);
	struct rules_engine_opts o = { .max_series_per_rule = 3 };
	struct rules_engine_stats st;
	static const char *const dev[] = { "a", "b", "c", "d", "e" };
	struct fx f;
	size_t i;

	memset(&f, 0, sizeof(f));
	CHECK(rules_engine_new(&f.e, &r, 1, &o) == 0);
	for (i = 0; i < 5; i++)
		feed1(&f, "disk.util", "device", dev[i], 0.95, S);
	CHECK(f.out.n == 3);
	rules_engine_stats(f.e, &st);
	CHECK(st.states == 3 && st.series_dropped == 2);
	fx_free(&f);
}

/* ---- trends ----------------------------------------------------------- */

static struct rule_def trend_rule(enum rule_type type, const char *name, const char *metric,
				  enum metric_unit unit, uint64_t window)
{
	struct rule_def r = threshold_rule(name, metric, unit, RULE_ABOVE, NAN, NAN);

	r.type = type;
	r.window_ns = window;
	r.kind = type == RULE_BASELINE ? ALERT_BASELINE : ALERT_TREND;
	return r;
}

/*
 * Least squares over the points the engine's window holds (those whose
 * bucket, (t - t0) / (window / 64), is within the newest 64), done the
 * plain way: the reference the engine's bucketed sums must match.
 */
static double ref_slope(const uint64_t *ts, const double *v, size_t n, uint64_t window,
			double *span)
{
	uint64_t w = window / RULE_TREND_BUCKETS;
	int64_t newest = (int64_t)((ts[n - 1] - ts[0]) / w);
	double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0, first = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		double x = (double)(ts[i] - ts[0]) / 1e9;

		if ((int64_t)((ts[i] - ts[0]) / w) <= newest - RULE_TREND_BUCKETS)
			continue;
		if (first < 0)
			first = x;
		m++;
		sx += x;
		sy += v[i];
		sxx += x * x;
		sxy += x * v[i];
	}
	*span = (double)(ts[n - 1] - ts[0]) / 1e9 - first;
	return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

/* Deterministic noise in [-1, 1]. */
static double noise(unsigned int *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return ((double)((*seed >> 8) & 0xffff) / 32767.5) - 1.0;
}

static void t_slope_matches_least_squares_sample_by_sample(void)
{
	struct rule_def r = trend_rule(RULE_SLOPE, "p99-rising", "syscall.latency.p99",
				       METRIC_UNIT_NS, 600 * S);
	static uint64_t ts[400];
	static double v[400];
	unsigned int seed = 7;
	struct fx f;
	size_t i;
	int fired = -1;

	/* warn when rising faster than 60ms/h */
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 60 * MS,
						      .per_ns = 3600 * S };
	CHECK(fx_init(&f, &r, 1) == 0);
	for (i = 0; i < 400; i++) {
		double slope_s, span, expect;
		int n;

		ts[i] = 1000 * S + i * 10 * S;
		/* flat 5ms, rising 2ms/min (120ms/h) from sample 100 to 200, flat
		 * again; +-0.2ms noise throughout */
		v[i] = 5 * MS + (i < 100 ? 0 : i < 200 ? (double)(i - 100) * 20 * MS / 60 :
				 100.0 * 20 * MS / 60) + 0.2 * MS * noise(&seed);
		n = feed1(&f, "syscall.latency.p99", "syscall", "fsync", v[i], ts[i]);
		CHECK(n >= 0);
		slope_s = ref_slope(ts, v, i + 1, r.window_ns, &span);
		/* firing exactly when the reference fit says so (after the window
		 * is half full), never otherwise */
		expect = span >= 300 && i >= 2 ? slope_s * 3600 : 0;
		if (n == 1 && fired < 0) {
			fired = (int)i;
			CHECKF(expect > 60 * MS, "fired at %zu with reference %g ns/h", i, expect);
			CHECKF(fabs(last(&f)->value - slope_s) < 1e-6 * fabs(slope_s),
			       "engine %g vs reference %g", last(&f)->value, slope_s);
		}
		if (fired < 0)
			CHECKF(!(expect > 60 * MS), "sample %zu: reference %g ns/h but no alert", i,
			       expect);
		if (fired >= 0 && n == 1 && last(&f)->state == ALERT_RESOLVED) {
			CHECKF(slope_s * 3600 <= 60 * MS, "resolved at %zu with %g", i, slope_s);
			break;
		}
	}
	CHECKF(fired > 100 && fired < 200, "fired at %d", fired);
	CHECK(f.out.n == 2 && f.out.v[1].state == ALERT_RESOLVED);
	CHECKF(strncmp(f.out.v[0].message, "syscall.latency.p99{syscall=fsync} rising by ",
		       strlen("syscall.latency.p99{syscall=fsync} rising by ")) == 0, "%s",
	       f.out.v[0].message);
	CHECK(strstr(f.out.v[0].message, "(warning over 60.0ms/h)") != NULL);
	fx_free(&f);
}

static void t_slope_needs_half_a_window(void)
{
	struct rule_def r = trend_rule(RULE_SLOPE, "grow", "mem.used_bytes", METRIC_UNIT_BYTES,
				       640 * S);
	struct fx f;
	int i, fired = -1;

	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 1, .per_ns = S };
	CHECK(fx_init(&f, &r, 1) == 0);
	/* 1 MiB/s from the start: far over 1 byte/s, but judged only once the
	 * data spans half the window, 320 s: sample 32 at 10 s apart. */
	for (i = 0; i < 60; i++)
		if (feed(&f, "mem.used_bytes", (double)i * 10 * 1048576, (uint64_t)i * 10 * S) == 1 &&
		    fired < 0)
			fired = i;
	CHECKF(fired == 32, "fired at %d", fired);
	CHECK(fabs(f.out.v[0].value - 1048576) < 1e-3);
	CHECK_STREQ(f.out.v[0].value_text, "3.52G/h");
	fx_free(&f);
}

/* "filesystem / full in ...": the analytic time left, at the right sample. */
static void t_exhaustion_time_left(void)
{
	struct rule_def r = trend_rule(RULE_EXHAUSTION, "fs-full-soon", "fs.used_bytes",
				       METRIC_UNIT_BYTES, 3600 * S);
	const double MiB = 1048576, size = 102400 * MiB, rate = 1 * MiB;
	struct metric_sample s[2];
	struct fx f;
	uint64_t t;
	int fired = -1;

	snprintf(r.limit_metric, sizeof(r.limit_metric), "fs.size_bytes");
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 6.0 * 3600 * S };
	r.level[ALERT_CRITICAL] = (struct rule_level){ .set = true, .value = 1.0 * 3600 * S };
	snprintf(r.message, sizeof(r.message), "filesystem {mountpoint} full in {value}");
	CHECK(fx_init(&f, &r, 1) == 0);
	/* used = 50 GiB + 1 MiB/s; the limit comes after the value in each
	 * batch, and still counts for the same interval */
	for (t = 0; t <= 40000; t += 60) {
		size_t before = f.out.n;

		s[0] = metric_sample_make("fs.used_bytes", 51200 * MiB + rate * (double)t, t * S,
					  "mountpoint", "/", NULL);
		s[1] = metric_sample_make("fs.size_bytes", size, t * S, "mountpoint", "/", NULL);
		CHECK(rules_feed_batch(f.e, s, 2, &f.out) == 0);
		if (f.out.n > before && fired < 0)
			fired = (int)t;
	}
	/* Left at t: 51200 - t seconds. Below 6 h (21600 s) first at t=29640
	 * (29580 leaves 21620 s). */
	CHECKF(fired == 29640, "fired at t=%d", fired);
	CHECK(f.out.v[0].severity == ALERT_WARNING);
	CHECKF(fabs(f.out.v[0].value - 21560e9) < 1e-6 * 21560e9, "time left %g s",
	       f.out.v[0].value / 1e9);
	CHECK_STREQ(f.out.v[0].message, "filesystem / full in 5h59m");
	/* Critical below 1 h: 51200 - t < 3600 first at t=47640 > 40000: none. */
	CHECK(f.out.n == 1);
	fx_free(&f);
}

static void t_exhaustion_constant_limit_noise_and_resolve(void)
{
	struct rule_def r = trend_rule(RULE_EXHAUSTION, "swap", "swap.used_bytes",
				       METRIC_UNIT_BYTES, 1800 * S);
	const double G = 1073741824.0;
	unsigned int seed = 42;
	struct fx f;
	uint64_t t;
	int fired = -1;

	r.has_limit = true;
	r.limit = 8 * G;
	r.level[ALERT_CRITICAL] = (struct rule_level){ .set = true, .value = 11100.0 * S };
	r.clear = (struct rule_level){ .set = true, .value = 4.0 * 3600 * S };
	CHECK(fx_init(&f, &r, 1) == 0);
	/* 0.5 MiB/s with +-4 MiB noise; left = (8G - used) / rate */
	for (t = 0; t < 4000 && fired < 0; t += 30) {
		double used = 2 * G + 524288.0 * (double)t + 4194304.0 * noise(&seed);

		if (feed(&f, "swap.used_bytes", used, t * S) == 1)
			fired = (int)t;
	}
	/* analytic: (8G - 2G - 0.5M t) / 0.5M = 12288 - t < 11100 at t > 1188
	 * (judged from t=900, when the data spans half the window) */
	CHECKF(fired >= 1080 && fired <= 1320, "fired at t=%d", fired);
	CHECKF(fabs(f.out.v[0].value / 1e9 - (12288.0 - fired)) < 0.02 * (12288.0 - fired),
	       "time left %g s, analytic %g s", f.out.v[0].value / 1e9, 12288.0 - fired);
	CHECKF(strncmp(f.out.v[0].message, "swap.used_bytes reaches 8G in 3h0", 33) == 0, "%s",
	       f.out.v[0].message);
	/* Usage stops growing: time left goes to "never", and the alert clears. */
	for (; t < 20000 && f.out.n == 1; t += 30)
		feed(&f, "swap.used_bytes", 3 * G, t * S);
	CHECK(f.out.n == 2 && f.out.v[1].state == ALERT_RESOLVED);
	CHECK(f.out.v[1].value >= 4.0 * 3600 * S);
	fx_free(&f);
}

/* Exactly "3h12m" at the firing sample, for the message in the issue. */
static void t_exhaustion_message_3h12m(void)
{
	struct rule_def r = trend_rule(RULE_EXHAUSTION, "fs-full-soon", "fs.used_bytes",
				       METRIC_UNIT_BYTES, 640 * S);
	struct fx f;
	uint64_t t;

	r.limit_metric[0] = '\0';
	r.has_limit = true;
	r.limit = 100000;
	/* 1 byte/s, left = 100000 - t; warn below 3h12m30s = 11550 s */
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 11550.0 * S };
	snprintf(r.message, sizeof(r.message), "filesystem {mountpoint} full in {value}");
	CHECK(fx_init(&f, &r, 1) == 0);
	for (t = 88000; t < 89000 && !f.out.n; t += 10)
		feed1(&f, "fs.used_bytes", "mountpoint", "/", (double)t, t * S);
	CHECK(f.out.n == 1);
	/* 100000 - t < 11550 first at t = 88460 (left 11540 s = 3h12m20s) */
	CHECKF(f.out.v[0].ts_ns == 88460 * S, "fired at %llu",
	       (unsigned long long)(f.out.v[0].ts_ns / S));
	CHECK_STREQ(f.out.v[0].message, "filesystem / full in 3h12m");
	fx_free(&f);
}

static void t_exhaustion_falling_toward_limit(void)
{
	struct rule_def r = trend_rule(RULE_EXHAUSTION, "mem-gone", "mem.available_bytes",
				       METRIC_UNIT_BYTES, 640 * S);
	struct fx f;
	uint64_t t;

	r.direction = RULE_BELOW;
	r.has_limit = true;
	r.limit = 0;
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 3600.0 * S };
	CHECK(fx_init(&f, &r, 1) == 0);
	/* 10000 bytes falling 1/s: left = 10000 - t, below 3600 s at t > 6400 */
	for (t = 50; t < 10000 && !f.out.n; t += 100)
		feed(&f, "mem.available_bytes", 10000.0 - (double)t, t * S);
	CHECK(f.out.n == 1 && f.out.v[0].ts_ns == 6450 * S);
	CHECK_STREQ(f.out.v[0].message,
		    "mem.available_bytes reaches 0B in 59m10s (warning below 1h00m)");
	fx_free(&f);
}

static void t_exhaustion_without_limit_series_waits(void)
{
	struct rule_def r = trend_rule(RULE_EXHAUSTION, "fs", "fs.used_bytes", METRIC_UNIT_BYTES,
				       640 * S);
	struct fx f;
	uint64_t t;

	snprintf(r.limit_metric, sizeof(r.limit_metric), "fs.size_bytes");
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 1e30 };
	CHECK(fx_init(&f, &r, 1) == 0);
	for (t = 0; t < 2000; t += 10)
		feed1(&f, "fs.used_bytes", "mountpoint", "/", (double)t, t * S);
	CHECK(f.out.n == 0);
	/* The limit of another filesystem does not count for this one. */
	feed1(&f, "fs.size_bytes", "mountpoint", "/home", 1e6, 2000 * S);
	feed1(&f, "fs.used_bytes", "mountpoint", "/", 2000.0, 2000 * S);
	CHECK(f.out.n == 0);
	feed1(&f, "fs.size_bytes", "mountpoint", "/", 1e6, 2010 * S);
	feed1(&f, "fs.used_bytes", "mountpoint", "/", 2010.0, 2010 * S);
	CHECK(f.out.n == 1);
	fx_free(&f);
}

/* Step from 100 to 300 at t=200: worked out in the comments. */
static void t_baseline_degradation(void)
{
	struct rule_def r = trend_rule(RULE_BASELINE, "p99-regression", "syscall.latency.p99",
				       METRIC_UNIT_NS, 10 * S);
	struct fx f;
	uint64_t t;
	int warn_at = -1, crit_at = -1, resolved_at = -1;
	size_t i;

	r.baseline_ns = 60 * S;
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 0.5 };
	r.level[ALERT_CRITICAL] = (struct rule_level){ .set = true, .value = 1.5 };
	CHECK(fx_init(&f, &r, 1) == 0);
	for (t = 0; t < 1000; t++) {
		size_t before = f.out.n;

		feed1(&f, "syscall.latency.p99", "syscall", "openat", t < 200 ? 100 : 300, t * S);
		for (i = before; i < f.out.n; i++) {
			if (f.out.v[i].state == ALERT_RESOLVED)
				resolved_at = (int)t;
			else if (f.out.v[i].severity == ALERT_WARNING && warn_at < 0)
				warn_at = (int)t;
			else if (f.out.v[i].severity == ALERT_CRITICAL)
				crit_at = (int)t;
		}
	}
	/*
	 * The window holds the last 10 samples, the baseline is exactly 100
	 * until the step leaves the window. k samples of 300: mean 100 + 20k.
	 * Over 50%: k = 3 (t=202). Over 150%: k = 8 (t=207).
	 */
	CHECKF(warn_at == 202, "warning at %d", warn_at);
	CHECKF(crit_at == 207, "critical at %d", crit_at);
	CHECK(f.out.v[0].value == 0.6);
	CHECK_STREQ(f.out.v[0].message, "syscall.latency.p99{syscall=openat} is 60% above its "
		    "baseline (160ns vs 100ns) (warning over 50%)");
	/* The baseline learns the new level, so the alert ends (a new normal). */
	CHECKF(resolved_at > 210, "resolved at %d", resolved_at);
	CHECK(last(&f)->state == ALERT_RESOLVED && last(&f)->value <= 0.5);
	fx_free(&f);
}

static void t_baseline_waits_to_learn(void)
{
	struct rule_def r = trend_rule(RULE_BASELINE, "b", "syscall.latency.p99", METRIC_UNIT_NS,
				       10 * S);
	struct fx f;
	uint64_t t;

	r.baseline_ns = 60 * S;
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 0.5 };
	CHECK(fx_init(&f, &r, 1) == 0);
	/* A step at t=30, before a minute has been learned: first verdict at
	 * t=70, when the bucket of t=60 leaves the window. */
	for (t = 0; t < 70; t++)
		feed(&f, "syscall.latency.p99", t < 30 ? 100 : 1000, t * S);
	CHECK(f.out.n == 0);
	feed(&f, "syscall.latency.p99", 1000, 70 * S);
	CHECK(f.out.n == 1 && f.out.v[0].ts_ns == 70 * S);
	fx_free(&f);
}

static void t_baseline_below_and_floor(void)
{
	struct rule_def r = trend_rule(RULE_BASELINE, "tput", "disk.write_bytes_per_s",
				       METRIC_UNIT_BYTES_PER_S, 10 * S);
	struct fx f;
	uint64_t t;

	r.direction = RULE_BELOW;
	r.baseline_ns = 60 * S;
	r.min_baseline = 1000;
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 0.5 };
	CHECK(fx_init(&f, &r, 1) == 0);
	/* below the floor: never judged */
	for (t = 0; t < 200; t++)
		feed(&f, "disk.write_bytes_per_s", t < 100 ? 500 : 0, t * S);
	CHECK(f.out.n == 0);
	/* 100000 for long enough to learn it, dropping to 20000 at t=1000:
	 * mean 100000 - 8000k, 50 % below when k > 6.25: t=1006 */
	for (t = 200; t < 1020; t++)
		feed(&f, "disk.write_bytes_per_s", t < 1000 ? 100000 : 20000, t * S);
	CHECK(f.out.n == 1);
	CHECKF(f.out.v[0].ts_ns == 1006 * S, "fired at %llu",
	       (unsigned long long)(f.out.v[0].ts_ns / S));
	fx_free(&f);
}

struct last_value {
	double value;
};

static void grab_value(void *ctx, const struct rule_state_info *i)
{
	((struct last_value *)ctx)->value = i->value;
}

/*
 * The baseline is an EWMA of what left the window: after a step from 100 to
 * 200 it is 200 - 100 * exp(-T / tau), T the time between the buckets of
 * the last 100 and the newest 200 that left (bucket = floor(t / (10s/64))).
 */
static void t_baseline_learns_as_an_ewma(void)
{
	struct rule_def r = trend_rule(RULE_BASELINE, "b", "syscall.latency.p99", METRIC_UNIT_NS,
				       10 * S);
	struct last_value lv = { NAN };
	const double w = 10.0 / 64, tau = 60;
	double base, expect;
	struct fx f;
	uint64_t t;

	r.baseline_ns = 60 * S;
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 100 };
	CHECK(fx_init(&f, &r, 1) == 0);
	for (t = 0; t <= 300; t++)
		feed(&f, "syscall.latency.p99", t < 200 ? 100 : 200, t * S);
	rules_engine_foreach(f.e, grab_value, &lv);
	/* at t=300 the newest bucket is 1920; buckets up to 1856 (t=290) have
	 * left; the last 100 (t=199) was bucket 1273 */
	base = 200 - 100 * exp(-(1856 - 1273) * w / tau);
	expect = (200 - base) / base;
	CHECKF(fabs(lv.value - expect) < 1e-9 * expect, "deviation %.12f, expected %.12f",
	       lv.value, expect);
	fx_free(&f);
}

/* Already at the limit: no extrapolation, it has reached it. */
static void t_exhaustion_at_the_limit(void)
{
	struct rule_def r = trend_rule(RULE_EXHAUSTION, "files", "limits.open_files",
				       METRIC_UNIT_NONE, 640 * S);
	struct fx f;
	uint64_t t;

	r.has_limit = true;
	r.limit = 1000;
	r.level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 60.0 * S };
	CHECK(fx_init(&f, &r, 1) == 0);
	for (t = 0; t < 600; t += 10)
		feed(&f, "limits.open_files", 500 + (double)t / 10, t * S);
	CHECK(f.out.n == 0);
	CHECK(feed(&f, "limits.open_files", 1000, 600 * S) == 1);
	CHECK(f.out.v[0].value == 0);
	CHECK_STREQ(f.out.v[0].message, "limits.open_files has reached 1000 (warning below 1m00s)");
	fx_free(&f);
}

/* ---- engine plumbing -------------------------------------------------- */

static void t_reload_keeps_state_of_unchanged_rules(void)
{
	struct rule_def a = threshold_rule("a", "load.avg1", METRIC_UNIT_NONE, RULE_ABOVE, 4, NAN);
	struct rule_def b = threshold_rule("b", "load.avg5", METRIC_UNIT_NONE, RULE_ABOVE, 4, NAN);
	struct rule_def rules1[2] = { a, b }, rules2[2];
	struct rules_engine *e2;
	struct fx f;

	CHECK(fx_init(&f, rules1, 2) == 0);
	CHECK(feed(&f, "load.avg1", 9, S) == 1);
	CHECK(feed(&f, "load.avg5", 9, S) == 1);
	/* reload: a unchanged, b's level changed */
	rules2[0] = a;
	rules2[1] = b;
	rules2[1].level[ALERT_WARNING].value = 5;
	CHECK(rules_engine_new(&e2, rules2, 2, NULL) == 0);
	CHECK(rules_engine_take_state(e2, f.e, 2 * S, &f.out) == 0);
	CHECK(f.out.n == 3);
	CHECK(last(&f)->state == ALERT_RESOLVED);
	CHECK_STREQ(last(&f)->rule, "b");
	CHECK(strstr(last(&f)->message, "rule changed or removed") != NULL);
	rules_engine_free(f.e);
	f.e = e2;
	/* a is still firing in the new engine: no second firing, one resolve */
	CHECK(feed(&f, "load.avg1", 9, 3 * S) == 0);
	CHECK(feed(&f, "load.avg1", 1, 4 * S) == 1 && last(&f)->state == ALERT_RESOLVED);
	/* b starts over */
	CHECK(feed(&f, "load.avg5", 9, 3 * S) == 1 && last(&f)->state == ALERT_FIRING);
	fx_free(&f);
}

struct seen {
	int n, firing;
	char series[128];
};

static void count_state(void *ctx, const struct rule_state_info *i)
{
	struct seen *s = ctx;

	s->n++;
	if (i->firing) {
		s->firing++;
		snprintf(s->series, sizeof(s->series), "%s %s %s", i->rule, i->series,
			 alert_severity_name(i->severity));
	}
}

static void t_foreach_and_alert_view(void)
{
	struct rule_def r = threshold_rule("busy", "disk.util", METRIC_UNIT_RATIO, RULE_ABOVE,
					   0.9, NAN);
	struct alert_label labels[METRIC_MAX_LABELS];
	struct seen seen = { 0 };
	struct alert a;
	struct fx f;

	CHECK(fx_init(&f, &r, 1) == 0);
	feed1(&f, "disk.util", "device", "sda", 0.95, S);
	feed1(&f, "disk.util", "device", "sdb", 0.10, S);
	rules_engine_foreach(f.e, count_state, &seen);
	CHECK(seen.n == 2 && seen.firing == 1);
	CHECK_STREQ(seen.series, "busy disk.util{device=sda} warning");
	rule_transition_to_alert(&f.out.v[0], &a, labels);
	CHECK(a.kind == ALERT_THRESHOLD && a.state == ALERT_FIRING && a.severity == ALERT_WARNING);
	CHECK_STREQ(a.rule, "busy");
	CHECK_STREQ(a.metric, "disk.util");
	CHECK(a.nlabels == 1);
	CHECK_STREQ(a.labels[0].name, "device");
	CHECK_STREQ(a.labels[0].value, "sda");
	CHECK(a.value == 0.95 && a.threshold == 0.9 && a.ts_ns == S);
	CHECK(a.message == f.out.v[0].message);
	fx_free(&f);
}

/* Same series in, same transitions out. */
static void t_deterministic(void)
{
	struct rule_def r[2] = {
		threshold_rule("t", "syscall.latency.p99", METRIC_UNIT_NS, RULE_ABOVE, 1e6, 5e6),
		trend_rule(RULE_SLOPE, "s", "syscall.latency.p99", METRIC_UNIT_NS, 300 * S),
	};
	struct fx f[2];
	unsigned int seed;
	size_t i;
	int k;

	r[0].hold_ns = 20 * S;
	r[0].cooldown_ns = 100 * S;
	r[1].level[ALERT_WARNING] = (struct rule_level){ .set = true, .value = 1e6,
							 .per_ns = 3600 * S };
	for (k = 0; k < 2; k++) {
		CHECK(fx_init(&f[k], r, 2) == 0);
		seed = 1;
		for (i = 0; i < 3000; i++)
			feed1(&f[k], "syscall.latency.p99", "syscall", "read",
			      3e6 + 3e6 * noise(&seed), i * 5 * S);
	}
	CHECK(f[0].out.n == f[1].out.n && f[0].out.n > 10);
	for (i = 0; i < f[0].out.n; i++) {
		CHECK(f[0].out.v[i].ts_ns == f[1].out.v[i].ts_ns);
		CHECK_STREQ(f[0].out.v[i].message, f[1].out.v[i].message);
	}
	fx_free(&f[0]);
	fx_free(&f[1]);
}

int main(void)
{
	RUN(t_threshold_fires_and_resolves_at_exact_samples);
	RUN(t_hold_delays_firing_and_a_dip_restarts_it);
	RUN(t_hysteresis_stops_flapping);
	RUN(t_escalation_and_step_down_with_hysteresis);
	RUN(t_direction_below);
	RUN(t_step_down_below);
	RUN(t_cooldown_suppresses_refiring_then_tells_when_it_ends);
	RUN(t_repeat_reminds_while_firing);
	RUN(t_loss_storm_is_one_alert);
	RUN(t_selector_labels_and_series_apart);
	RUN(t_out_of_order_and_nan_ignored);
	RUN(t_message_template);
	RUN(t_stale_series_resolve);
	RUN(t_series_cap);
	RUN(t_slope_matches_least_squares_sample_by_sample);
	RUN(t_slope_needs_half_a_window);
	RUN(t_exhaustion_time_left);
	RUN(t_exhaustion_constant_limit_noise_and_resolve);
	RUN(t_exhaustion_message_3h12m);
	RUN(t_exhaustion_falling_toward_limit);
	RUN(t_exhaustion_without_limit_series_waits);
	RUN(t_baseline_degradation);
	RUN(t_baseline_waits_to_learn);
	RUN(t_baseline_below_and_floor);
	RUN(t_baseline_learns_as_an_ewma);
	RUN(t_exhaustion_at_the_limit);
	RUN(t_reload_keeps_state_of_unchanged_rules);
	RUN(t_foreach_and_alert_view);
	RUN(t_deterministic);
	CHECK_EXIT();
}
