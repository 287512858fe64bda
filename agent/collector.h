/* SPDX-License-Identifier: GPL-2.0 */
/*
 * System collectors: the narrow interface the daemon drives once per
 * interval. A collector reads kernel state under a root directory ("/" in
 * production, a fixture tree in tests) and hands what it found to a sink:
 * samples (stable metric name, labels, value), events (things that happened:
 * a taint change, a crash record) and errors (bad input, named by file and
 * line; the collector keeps going with the rest).
 *
 * Units: ratios are 0..1, sizes are bytes, rates are per second.
 * Samples are agent/metrics.h's struct metric_sample: names and labels are
 * in its catalogue (metric_lookup) and docs. Events carry an
 * agent/alert.h severity so the daemon can raise them as health alerts.
 */
#ifndef PERFAGENT_COLLECTOR_H
#define PERFAGENT_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"
#include "metrics.h"

/* Pointers are valid only during the sink callback: copy what you keep. */
struct collect_event {
	const char *kind;		/* stable: "kernel.taint_changed", ... */
	enum alert_severity severity;
	const char *message;		/* one line for a person */
	unsigned int nlabels;
	struct metric_label labels[METRIC_MAX_LABELS];
};

/*
 * Samples: strings are valid only during the callback; ts_ns is the
 * CLOCK_MONOTONIC time the collect call started (one per call).
 */
struct collect_sink {
	void (*sample)(void *ctx, const struct metric_sample *s);
	void (*event)(void *ctx, const struct collect_event *e);
	/* "/proc/stat:3: cpu1: expected at least 8 numbers, got 2" */
	void (*error)(void *ctx, const char *collector, const char *msg);
	void *ctx;
};

struct collector_opts {
	const char *root;		/* prefix of /proc, /sys; NULL = "/" */
	const char *state_dir;		/* kept across restarts; NULL = COLLECT_STATE_DIR */
};

#define COLLECT_STATE_DIR "/var/lib/perfagent"

struct collector;

/* NULL-terminated list of every collector name, in a stable order. */
extern const char *const collector_names[];

/* Returns 0, or a negative errno with a one-line reason in err. */
int collector_open(struct collector **out, const char *name,
		   const struct collector_opts *opts, char *err, size_t len);

/*
 * Read once and emit to sink. interval_ns is the time since the previous
 * call as the caller measured it; rates are computed over it, and the first
 * call (no previous snapshot) emits no rates or deltas. Returns how many
 * errors were passed to sink->error (0 = all input was good).
 */
int collector_collect(struct collector *c, uint64_t interval_ns,
		      const struct collect_sink *sink);

const char *collector_name(const struct collector *c);

/*
 * NULL while the collector works, else why it collects nothing (e.g. PSI
 * disabled in the kernel). That is not an error: the first collect after it
 * turns unavailable also emits one "collector.unavailable" info event.
 */
const char *collector_unavailable(const struct collector *c);

void collector_close(struct collector *c);

#endif
