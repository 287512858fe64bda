/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The block I/O probe (bpf/disk.bpf.c): load with filters, stream slow and
 * failed I/O, read per-interval aggregates per (disk, operation).
 */
#ifndef PERFAGENT_DISK_PROBE_H
#define PERFAGENT_DISK_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfagent/disk.h"

/* Default per-key event rate: enough for every slow I/O of a healthy
 * machine, a bound on a sick one (100 lines/s/key, not 100000).
 */
#define DISK_DEFAULT_RATE	100

/* Twice the block layer's default request timeout (30 s): a request
 * still in flight after that has been requeued (which restarts our clock)
 * or failed, so a record this old outlived its request.
 */
#define DISK_DEFAULT_STALE_NS	(60ULL * 1000000000ULL)

struct disk_probe_opts {
	uint32_t dev;			/* PA_KDEV of the disk to trace, 0 = all */
	uint32_t pid;			/* submitting process (tgid), 0 = all */
	const char *cgroup;		/* cgroup v2 directory (with descendants) */
	uint64_t slow_ns;		/* stream I/O at least this slow, 0 = no fixed floor */
	bool slow_adaptive;		/* stream I/O above its key's rolling p99 */
	uint32_t rate;			/* events per second per key, 0 = unlimited */
	uint32_t burst;			/* events at once per key, 0 = rate */
	bool perfbuf;			/* force the perf buffer fallback */
	bool raw_tp;			/* force raw_tp instead of tp_btf */
	/* A request issued this long ago and still tracked completed without
	 * the probe seeing it (0 = DISK_DEFAULT_STALE_NS).
	 */
	uint64_t stale_after_ns;
};

/* Aggregates of one (disk, op) over a read interval. */
struct disk_totals {
	struct pa_disk_key key;
	uint64_t count;
	uint64_t bytes;
	uint64_t errors;
	uint64_t suppressed;
	uint64_t queue_total_ns;
	uint64_t service_total_ns;
	uint64_t queue_max_ns;		/* exact when a new maximum was set, else from the histogram */
	uint64_t service_max_ns;
	uint64_t latency_max_ns;
	uint64_t threshold_ns;		/* adaptive slow threshold in force (0 = none) */
	uint64_t status[PA_DISK_STATUS_MAX];
	uint64_t size_hist[PA_DISK_SIZE_BUCKETS];
	uint64_t queue_hist[PA_HIST_BUCKETS];
	uint64_t service_hist[PA_HIST_BUCKETS];
	uint64_t latency_hist[PA_HIST_BUCKETS];
};

/* A growable set of totals, one per key. */
struct disk_set {
	struct disk_totals *rows;
	size_t n, cap;
};

/* What the probe could not record, summed over CPUs, since the last read. */
struct disk_losses {
	uint64_t events_sent;
	uint64_t events_lost;
	uint64_t suppressed;
	uint64_t untracked;
	uint64_t stats_full;
	uint64_t rq_full;
	/* Completions the kernel never ran the probe for, found when their
	 * request was made again (pa_disk_counters.completions_unseen).
	 */
	uint64_t completions_unseen;
	/* Program runs the kernel skipped because the same program was already
	 * running on that CPU (an interrupt's completion nesting into another's):
	 * each missed completion is an I/O not counted.
	 */
	uint64_t missed_completions;
	uint64_t missed_other;
};

typedef void (*disk_event_fn)(void *ctx, const struct pa_disk_event *e);

struct disk_probe;

/* Returns 0, or a negative errno with a one-line reason in err. */
int disk_probe_open(struct disk_probe **out, const struct disk_probe_opts *opts,
		    disk_event_fn on_event, void *ctx, char *err, size_t len);

/* Deliver streamed events, waiting up to timeout_ms; returns events seen or -errno. */
int disk_probe_poll(struct disk_probe *p, int timeout_ms);

/*
 * Replace *set with what each key did since the last read (keys that did
 * nothing are left out) and fill losses. Call at least every
 * PA_DISK_MAX_READ_GAP_S seconds. With slow_adaptive this also pushes each
 * key's new threshold into the kernel.
 */
int disk_probe_read(struct disk_probe *p, struct disk_set *set, struct disk_losses *losses);

/* "tp_btf, ring buffer, attribution at block_io_start" and the like. */
const char *disk_probe_describe(const struct disk_probe *p);

/* Tracepoints the probe would attach and could not, comma-separated ("" = none). */
const char *disk_probe_missing(const struct disk_probe *p);

/* For the daemon: the epoll fd that is readable when events wait (then
 * call disk_probe_poll(p, 0)), and the BPF object (programs and maps, for
 * pinning and run-time statistics).
 */
struct bpf_object;
int disk_probe_poll_fd(const struct disk_probe *p);
struct bpf_object *disk_probe_bpf_object(const struct disk_probe *p);

/* Time the kernel spent in the probe's programs and how many runs, summed
 * over them (counted only while BPF run-time statistics are enabled:
 * bpf_enable_stats() or kernel.bpf_stats_enabled). For benchmarks.
 */
void disk_probe_cost(const struct disk_probe *p, uint64_t *run_ns, uint64_t *runs);

void disk_probe_close(struct disk_probe *p);

/* The row for key, added (zeroed) when absent; NULL when out of memory. */
struct disk_totals *disk_set_get(struct disk_set *s, const struct pa_disk_key *key);
/* Merge d into the row of its key. */
int disk_set_add(struct disk_set *s, const struct disk_totals *d);
void disk_set_clear(struct disk_set *s);
void disk_set_free(struct disk_set *s);

/*
 * Adaptive threshold: a latency histogram per key decayed by `decay` every
 * interval (0.9: the last ~10 intervals weigh most), whose p99 becomes the
 * key's slow threshold once it holds at least `min_samples`.
 */
#define DISK_ADAPTIVE_DECAY		0.9
#define DISK_ADAPTIVE_MIN_SAMPLES	100.0

struct disk_rolling {
	double hist[PA_HIST_BUCKETS];
	double total;
};

void disk_rolling_add(struct disk_rolling *r, const uint64_t *hist, double decay);
/* The rolling p99 (bucket midpoint), 0 with fewer than min_samples. */
uint64_t disk_rolling_p99(const struct disk_rolling *r, double min_samples);

/* Which block tracepoints exist here, for doctor and the describe line. */
struct disk_tracepoints {
	bool io_start, insert, issue, requeue, merge, complete;
};
void disk_tracepoints_probe(struct disk_tracepoints *tp);

#endif
