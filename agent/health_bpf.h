/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The driver-health probe (bpf/health.bpf.c): attach what this kernel has,
 * stream device-error and stability events, read IRQ / soft-IRQ time and
 * what the rate limit held back.
 *
 *   health_probe_open()    load, attach every source whose tracepoint exists
 *   health_probe_poll()    deliver streamed events (or poll health_probe_poll_fd)
 *   health_probe_read()    per-interval IRQ and soft-IRQ time, suppressed counts,
 *                          losses; at least every PA_HEALTH_MAX_READ_GAP_S s
 *   health_probe_close()
 */
#ifndef PERFAGENT_HEALTH_PROBE_H
#define PERFAGENT_HEALTH_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfagent/health.h"

/* Default per-key event rate: every error of a healthy machine, a bound on
 * a sick one (a disk failing every request, a fork bomb hitting its limit).
 */
#define HEALTH_DEFAULT_RATE	10
#define HEALTH_DEFAULT_BURST	20

struct health_probe_opts {
	uint32_t rate;		/* events per second per (kind, device), 0 = unlimited */
	uint32_t burst;		/* events at once per key, 0 = the default */
	bool no_irq;		/* do not time hard and soft IRQs */
	bool perfbuf;		/* force the perf buffer fallback */
	bool raw_tp;		/* force raw_tp instead of tp_btf for the hot paths */
};

/* The sources the probe knows, in a fixed order. */
enum health_source_id {
	HEALTH_SRC_IRQ,		/* irq:irq_handler_entry/exit */
	HEALTH_SRC_SOFTIRQ,	/* irq:softirq_entry/exit */
	HEALTH_SRC_BLOCK,	/* block:block_rq_error, else block_rq_complete */
	HEALTH_SRC_SCSI_DISPATCH,
	HEALTH_SRC_SCSI_TIMEOUT,
	HEALTH_SRC_SCSI_DONE,
	HEALTH_SRC_NVME,
	HEALTH_SRC_AER,
	HEALTH_SRC_MCE,
	HEALTH_SRC_TX_TIMEOUT,
	HEALTH_SRC_DEVLINK,
	HEALTH_SRC_OOM,
	HEALTH_SRC_ERROR_REPORT,
	HEALTH_SRC_MODULE,
	HEALTH_SRC_COUNT,
};

struct health_source_info {
	const char *tracepoint;	/* "scsi:scsi_dispatch_cmd_timeout" */
	const char *what;	/* "SCSI command timeouts" */
	bool attached;
	char why_not[160];	/* when not attached: "tracepoint absent", ... */
};

/* Time in one IRQ line's handlers (or one soft-IRQ vector) over an interval. */
struct health_irq_totals {
	uint32_t irq;		/* IRQ number, or soft-IRQ vector */
	char name[PA_HEALTH_NAME_LEN];	/* handler name, or soft-IRQ name */
	uint64_t count;
	uint64_t total_ns;
	uint64_t max_ns;	/* exact when a new maximum was set, else from the histogram */
	uint64_t hist[PA_HIST_BUCKETS];
};

/* IRQ lines (or vectors), one row each. */
struct health_irq_set {
	struct health_irq_totals *rows;
	size_t n, cap;
};

/* Merge d into the row of its line (added when absent): -ENOMEM or 0. */
int health_irq_set_add(struct health_irq_set *s, const struct health_irq_totals *d);
void health_irq_set_clear(struct health_irq_set *s);
void health_irq_set_free(struct health_irq_set *s);

/* Events of one key the rate limit held back over an interval. */
struct health_suppressed {
	struct pa_health_key key;
	char device[PA_HEALTH_NAME_LEN];
	uint64_t count;
};

/* What the probe could not record, summed over CPUs, over an interval. */
struct health_losses {
	uint64_t events_sent;
	uint64_t events_lost;	/* buffer full */
	uint64_t suppressed;	/* held back by the rate limit (sum of the keys') */
	uint64_t keys_full;
	uint64_t irq_full;
	uint64_t irq_unmatched;
};

/* One read: lines and vectors that ran, keys that were held back. */
struct health_read {
	struct health_irq_set irqs;
	struct health_irq_totals softirqs[PA_HEALTH_SOFTIRQS];
	unsigned int nsoftirqs;		/* vectors this kernel has */
	struct health_suppressed *supp;
	size_t nsupp, capsupp;
	struct health_losses losses;
};

typedef void (*health_probe_event_fn)(void *ctx, const struct pa_health_event *e);

struct health_probe;

/* Returns 0, or a negative errno with a one-line reason in err (also when
 * none of the sources exists on this kernel).
 */
int health_probe_open(struct health_probe **out, const struct health_probe_opts *opts,
		      health_probe_event_fn on_event, void *ctx, char *err, size_t len);

/* Deliver streamed events, waiting up to timeout_ms; returns events seen or -errno. */
int health_probe_poll(struct health_probe *p, int timeout_ms);
int health_probe_poll_fd(const struct health_probe *p);

/* Replace *r with what happened since the last read (or open). */
int health_probe_read(struct health_probe *p, struct health_read *r);
void health_read_free(struct health_read *r);

/* "tp_btf, ring buffer, 9 of 14 sources" and the like. */
const char *health_probe_describe(const struct health_probe *p);
/* Each source: attached, or why not. */
const struct health_source_info *health_probe_sources(const struct health_probe *p);

struct bpf_object;
struct bpf_object *health_probe_bpf_object(const struct health_probe *p);

void health_probe_close(struct health_probe *p);

/* Merge one interval's totals into a running sum (same line or vector). */
void health_irq_totals_add(struct health_irq_totals *sum, const struct health_irq_totals *d);

#endif
