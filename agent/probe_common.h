/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the BPF probes' userspace sides (syscall.c, disk.c, net.c,
 * health_bpf.c) share: the event stream (a ring buffer, or the perf buffer
 * fallback), the cgroup v2 filter, attaching programs in a set order, and
 * the per-CPU counters of what the kernel side could not record.
 */
#ifndef PERFAGENT_PROBE_COMMON_H
#define PERFAGENT_PROBE_COMMON_H

#include <stdbool.h>
#include <stddef.h>

struct bpf_link;
struct bpf_map;
struct bpf_program;
struct perf_buffer;
struct ring_buffer;

/* A ring buffer where the kernel has one (5.8) and no perf buffer is asked for. */
bool probe_use_ringbuf(bool perfbuf_asked);

/* Before load: the events map (declared a ring buffer) becomes the perf
 * event array of the fallback, one buffer per CPU.
 */
void probe_events_as_perfbuf(struct bpf_map *events);

/* One event, whole and aligned for its type; valid during the call. */
typedef void (*probe_event_fn)(void *ctx, const void *event);

struct probe_stream {
	struct ring_buffer *rb;		/* one of the two */
	struct perf_buffer *pb;
	probe_event_fn deliver;
	void *ctx;
	size_t event_size;		/* shorter samples are dropped */
	void *aligned;			/* [event_size]: where perf samples are copied */
};

/* After load: read the events map. Returns 0 or -errno. */
int probe_stream_open(struct probe_stream *s, struct bpf_map *events, bool ringbuf,
		      size_t perf_pages, size_t event_size, probe_event_fn deliver, void *ctx);

/* Deliver events, waiting up to timeout_ms; returns events seen or -errno. */
int probe_stream_poll(struct probe_stream *s, int timeout_ms);

/* Readable when events wait (then probe_stream_poll(s, 0)). */
int probe_stream_fd(const struct probe_stream *s);

/* Safe on a stream never opened (zeroed). */
void probe_stream_close(struct probe_stream *s);

/* After load: only tasks in the cgroup v2 directory PATH or below, through
 * the BPF_MAP_TYPE_CGROUP_ARRAY map's slot 0. Returns 0, or -errno with the
 * reason ("--cgroup PATH: ...") in err.
 */
int probe_set_cgroup(struct bpf_map *cgroup_array, const char *path, char *err, size_t len);

struct probe_attach {
	struct bpf_program *prog;
	struct bpf_link **link;		/* where the link is kept */
};

/* Attach in the order given, leaving out programs not loaded. On a failure
 * what this call attached is detached again. Returns 0 or -errno.
 */
int probe_attach_in_order(const struct probe_attach *a, size_t n);

/* "NAME probe: STAGE failed: REASON; libbpf: LAST WARNING" into err. */
void probe_say_failure(char *err, size_t len, const char *probe, const char *stage, int ret);

/* A per-CPU array whose element 0 is a struct of __u64 counters, read as
 * deltas: what all CPUs counted since the last read.
 */
struct probe_counters {
	int ncpus;
	size_t size;			/* of the struct */
	void *prev;			/* [ncpus] as last read */
	void *cur;			/* [ncpus] scratch */
};

int probe_counters_init(struct probe_counters *c, int ncpus, size_t size);

/* delta: a struct like the map's value. Returns 0 or -errno. */
int probe_counters_read(struct probe_counters *c, struct bpf_map *map, void *delta);

void probe_counters_free(struct probe_counters *c);

#endif
