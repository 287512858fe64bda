/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The syscall latency probe (bpf/syscall.bpf.c): load with filters, stream
 * slow calls, read per-interval aggregates.
 */
#ifndef PERFAGENT_SYSCALL_PROBE_H
#define PERFAGENT_SYSCALL_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfagent/syscall.h"

struct syscall_probe_opts {
	uint32_t pid;			/* tgid to trace, 0 = all */
	uint32_t tid;			/* thread to trace, 0 = all */
	const char *comm;		/* exact command name, NULL = all */
	const char *cgroup;		/* cgroup v2 directory (with descendants) */
	const uint8_t *only_nr;		/* [PA_SYSCALL_MAX] 1 = trace, NULL = all */
	uint64_t slow_ns;		/* stream calls at least this slow, 0 = none */
	bool perfbuf;			/* force the perf buffer fallback */
	bool tid_hash;			/* force the hash fallback for start times */
	bool trace_self;		/* include perfagent's own syscalls */
};

/* Aggregates of one syscall over a read interval. */
struct syscall_totals {
	uint64_t count;
	uint64_t errors;
	uint64_t total_ns;
	uint64_t max_ns;		/* exact when a new maximum was set, else from the histogram */
	uint64_t hist[PA_HIST_BUCKETS];
};

/* What the probe could not record, summed over CPUs, since the last read. */
struct syscall_losses {
	uint64_t events_sent;
	uint64_t events_lost;
	uint64_t out_of_range;
	uint64_t start_lost;		/* calls not measured: no room to keep their start */
};

typedef void (*syscall_event_fn)(void *ctx, const struct pa_syscall_event *e);

struct syscall_probe;

/* Returns 0, or a negative errno with a one-line reason in err. */
int syscall_probe_open(struct syscall_probe **out, const struct syscall_probe_opts *opts,
		       syscall_event_fn on_event, void *ctx, char *err, size_t len);

/* Deliver streamed events, waiting up to timeout_ms; returns events seen or -errno. */
int syscall_probe_poll(struct syscall_probe *p, int timeout_ms);

/* Fill totals[PA_SYSCALL_MAX] and losses with what happened since the last
 * read (or since open). Must be called at least every
 * PA_SYSCALL_MAX_READ_GAP_S seconds for the 32-bit bucket deltas to hold.
 */
int syscall_probe_read(struct syscall_probe *p, struct syscall_totals *totals,
		       struct syscall_losses *losses);

/* "tp_btf, task storage, ring buffer" and the like. */
const char *syscall_probe_describe(const struct syscall_probe *p);

/* For the daemon: the epoll fd that is readable when events wait (then
 * call syscall_probe_poll(p, 0)), and the BPF object (programs and maps, for
 * pinning and run-time statistics).
 */
struct bpf_object;
int syscall_probe_poll_fd(const struct syscall_probe *p);
struct bpf_object *syscall_probe_bpf_object(const struct syscall_probe *p);

void syscall_probe_close(struct syscall_probe *p);

/* Merge one interval's totals for one syscall into a running sum. */
void syscall_totals_add(struct syscall_totals *sum, const struct syscall_totals *d);

#endif
