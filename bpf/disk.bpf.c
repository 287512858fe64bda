// SPDX-License-Identifier: GPL-2.0
/*
 * Block I/O: count, bytes, size histogram, queue / service / total latency
 * histograms and errors by status per (disk, operation), kept in a per-CPU
 * hash; slow and failed I/O streamed one by one, rate-limited per key.
 *
 * A request is followed by its address through the block tracepoints:
 *
 *   block_io_start  (6.5+) request made from a bio, in the submitter's context
 *   block_rq_insert  request put on a scheduler / dispatch queue
 *   block_rq_issue   request handed to the driver
 *   block_rq_requeue request sent back to the queue (retry, resource shortage)
 *   block_rq_merge   request merged into another one and freed (no completion)
 *   block_rq_complete (part of) the request finished, usually in an interrupt
 *
 * Attribution (process, cgroup) is taken at the first of these seen for a
 * request, which is where it is submitted: block_io_start where the kernel
 * has it; before that, block_rq_insert, which runs in the submitter's context
 * for scheduler inserts and for plugs flushed by their owner, or
 * block_rq_issue for requests sent straight to the driver (no scheduler, no
 * insert), which also runs in the submitter's context. Later stages may run
 * in other contexts (kblockd, another task's plug flush, the interrupt), so
 * they never overwrite it, and the filters (-p, --cgroup) are decided there
 * once and remembered. See docs in README ("trace disk").
 *
 * Two attach flavours share one body: tp_btf (BTF-typed arguments) and
 * raw_tp; the agent loads one, and only the programs whose tracepoint exists.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "perfagent/disk.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time options: set by the agent before load, folded by the verifier. */
const volatile __u32 filter_dev;		/* PA_KDEV, 0 = all disks */
const volatile __u32 filter_tgid;
const volatile bool filter_cgroup_on;
const volatile __u32 op_mask = 0xff;		/* (1 << REQ_OP_BITS) - 1, from BTF */
const volatile __u64 slow_ns;			/* fixed threshold, 0 = none */
const volatile bool slow_adaptive;		/* per-key threshold from disk_thresh */
const volatile __u64 rate_interval_ns;		/* 1 s / events per second, 0 = no limit */
const volatile __u64 rate_tolerance_ns;		/* (burst - 1) * rate_interval_ns */
const volatile bool use_ringbuf = true;
const volatile bool have_io_start;		/* block_io_start attached */


#include "disk_rqs.bpf.h"

/* Preallocated: a key is often first met in an interrupt (the completion),
 * where allocating per-CPU memory can fail (it did on 6.1: the first I/O of
 * a new disk went uncounted).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, PA_DISK_MAX_KEYS);
	__type(key, struct pa_disk_key);
	__type(value, struct pa_disk_stats);
} disk_stats SEC(".maps");

/* All zeroes: the first value of a new disk_stats key (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_disk_stats);
} disk_zero SEC(".maps");

/* Adaptive slow threshold per key (ns), written by the agent from the
 * rolling p99 of the key's latency; absent or 0 = not enough history yet.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PA_DISK_MAX_KEYS);
	__type(key, struct pa_disk_key);
	__type(value, __u64);
} disk_thresh SEC(".maps");

/* Rate limit per key: theoretical arrival time of the next event (GCRA, a
 * token bucket kept as one timestamp).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PA_DISK_MAX_KEYS);
	__type(key, struct pa_disk_key);
	__type(value, __u64);
} disk_bucket SEC(".maps");

/* Slot 0 holds the cgroup v2 directory to trace (with descendants). */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} disk_cgroup SEC(".maps");

/* Ring buffer; the agent turns it into a perf event array when the kernel
 * lacks ring buffers or the user asks for the fallback (use_ringbuf = 0).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} disk_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_disk_counters);
} disk_counters SEC(".maps");

/* Kernels before 5.16 kept the disk in the request itself. */
struct request___rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct pa_disk_counters *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&disk_counters, &zero);
}

/*
 * Reading the request. tp_btf programs dereference it directly: the
 * verifier turns those loads into fault-safe ones, no helper call (the hot
 * path's main cost on this kind of CPU). raw_tp programs must go through
 * bpf_probe_read_kernel (BPF_CORE_READ). `btf` is a constant in every
 * caller, so each program holds only one of the two forms.
 */
static __always_inline struct gendisk *rq_gendisk(struct request *rq, bool btf)
{
	struct request___rq_disk *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return btf ? old->rq_disk : BPF_CORE_READ(old, rq_disk);
	return btf ? rq->q->disk : BPF_CORE_READ(rq, q, disk);
}

static __always_inline __u32 rq_dev(struct request *rq, bool btf)
{
	struct gendisk *disk = rq_gendisk(rq, btf);

	if (!disk)
		return 0;
	if (btf)
		return PA_KDEV(disk->major, disk->first_minor);
	return PA_KDEV(BPF_CORE_READ(disk, major), BPF_CORE_READ(disk, first_minor));
}

static __always_inline __u32 rq_cmd_flags(struct request *rq, bool btf)
{
	return btf ? rq->cmd_flags : BPF_CORE_READ(rq, cmd_flags);
}

static __always_inline __u32 rq_data_len(struct request *rq, bool btf)
{
	return btf ? rq->__data_len : BPF_CORE_READ(rq, __data_len);
}

static __always_inline __u64 rq_sector(struct request *rq, bool btf)
{
	return btf ? rq->__sector : BPF_CORE_READ(rq, __sector);
}

/* When the request was allocated (0 when the queue keeps no timestamps). */
static __always_inline __u64 rq_alloc_ns(struct request *rq, bool btf)
{
	if (!bpf_core_field_exists(rq->start_time_ns))
		return 0;
	return btf ? rq->start_time_ns : BPF_CORE_READ(rq, start_time_ns);
}

/* The device filter can be asked at every stage: a request's disk is fixed. */
static __always_inline bool dev_wanted(struct request *rq, bool btf)
{
	return !filter_dev || rq_dev(rq, btf) == filter_dev;
}

/* Submitter filters, asked once per request in its submitting context. */
static __always_inline bool submitter_wanted(__u32 tgid)
{
	if (filter_tgid && tgid != filter_tgid)
		return false;
	if (filter_cgroup_on && bpf_current_task_under_cgroup(&disk_cgroup, 0) != 1)
		return false;
	return true;
}

/*
 * A record left by an earlier life of the same request, whose completion
 * was never seen (the kernel skips a BPF program that is already running on
 * that CPU, e.g. when a softirq completion interrupts it; the agent reports
 * these as missed). Where block_io_start exists it replaces the record of
 * every new request. Elsewhere: the request was allocated again after the
 * record was made; requests carry an allocation time only when the queue
 * keeps I/O statistics or has a scheduler, without it a stale record stays.
 */
static __always_inline bool rq_stale(struct request *rq, const struct pa_disk_rq *ri, bool btf)
{
	__u64 alloc;

	if (have_io_start)
		return false;
	alloc = rq_alloc_ns(rq, btf);
	return alloc && alloc > ri->seen_ts;
}

/*
 * Who submits: in tp_btf programs read straight from the task (one helper
 * call for the task, then loads the verifier makes fault-safe) rather than
 * the three helpers the raw_tp flavour needs: for every request, most of
 * the cost of making its record. The cgroup is the task's on the default
 * hierarchy, as bpf_get_current_cgroup_id() reports it.
 */
static __always_inline void submitter_from_task(struct pa_disk_rq *r)
{
	struct task_struct *task = bpf_get_current_task_btf();

	r->tgid = task->tgid;
	r->tid = task->pid;
	r->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	__builtin_memcpy(r->comm, task->comm, sizeof(r->comm));
}

/* The request's record, made from the current task when this is its first
 * sighting (always at block_io_start: a request is made there). now = 0 at
 * block_io_start (no clock read needed there, see rq_stale).
 */
static __always_inline struct pa_disk_rq *rq_attribute(struct request *rq, bool new_request,
						    __u64 now, bool btf)
{
	struct pa_disk_counters *c;
	struct pa_disk_rq *ri;
	struct rq_ref r;
	__u64 pid_tgid;
	bool pushed;
	int way;

	if (!rq_ref_of(rq, &r))
		return NULL;
	way = rq_way(&r);
	if (way >= 0) {
		ri = rq_record(&r, way);
		if (!new_request && !rq_stale(rq, ri, btf))
			return ri;
		/* What an earlier life left: it reached the driver, so it
		 * completed, unseen by us.
		 */
		if (ri->issue_ts && (c = counters()))
			c->completions_unseen++;
	} else {
		way = rq_claim(&r, &pushed);
		if (pushed && (c = counters()))
			c->rq_full++;
		ri = rq_record(&r, way);
	}
	__builtin_memset(ri, 0, sizeof(*ri));
	ri->seen_ts = now;
	if (btf) {
		submitter_from_task(ri);
	} else {
		pid_tgid = bpf_get_current_pid_tgid();
		ri->tgid = pid_tgid >> 32;
		ri->tid = (__u32)pid_tgid;
		ri->cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(ri->comm, sizeof(ri->comm));
	}
	ri->wanted = submitter_wanted(ri->tgid);
	return ri;
}

static __always_inline void on_io_start(struct request *rq, bool btf)
{
	if (dev_wanted(rq, btf))
		rq_attribute(rq, true, 0, btf);
}

static __always_inline void on_insert(struct request *rq, bool btf)
{
	struct pa_disk_rq *ri;
	__u64 now;

	if (!dev_wanted(rq, btf))
		return;
	now = bpf_ktime_get_ns();
	if (!(ri = rq_attribute(rq, false, now, btf)))
		return;
	ri->insert_ts = now;
	if (!ri->first_ts)
		ri->first_ts = now;
}

static __always_inline void on_issue(struct request *rq, bool btf)
{
	struct pa_disk_rq *ri;
	__u64 now;

	if (!dev_wanted(rq, btf))
		return;
	now = bpf_ktime_get_ns();
	if (!(ri = rq_attribute(rq, false, now, btf)))
		return;
	ri->issue_ts = now;
	if (!ri->first_ts)
		ri->first_ts = now;
	ri->bytes = rq_data_len(rq, btf);
}

/* Back to the queue: its queue time starts again, its latency does not. */
static __always_inline void on_requeue(struct request *rq, bool btf)
{
	struct pa_disk_rq *ri;
	struct rq_ref r;
	int way;

	if (!rq_ref_of(rq, &r) || (way = rq_way(&r)) < 0)
		return;
	ri = rq_record(&r, way);
	ri->insert_ts = bpf_ktime_get_ns();
	ri->issue_ts = 0;
}

/* Merged into another request and freed: its bytes complete with that one. */
static __always_inline void on_merge(struct request *rq, bool btf)
{
	struct rq_ref r;
	int way;

	if (rq_ref_of(rq, &r) && (way = rq_way(&r)) >= 0)
		rq_forget(&r, way);
}

static __always_inline struct pa_disk_stats *stats_for(const struct pa_disk_key *key)
{
	struct pa_disk_counters *c;
	struct pa_disk_stats *st;
	__u32 zero = 0;
	void *blank;

	st = bpf_map_lookup_elem(&disk_stats, key);
	if (st)
		return st;
	blank = bpf_map_lookup_elem(&disk_zero, &zero);
	if (blank)
		bpf_map_update_elem(&disk_stats, key, blank, BPF_NOEXIST);
	st = bpf_map_lookup_elem(&disk_stats, key);
	if (!st && (c = counters()))
		c->stats_full++;
	return st;
}

static __always_inline void hist_add(__u32 *hist, __u64 v)
{
	__u32 idx = pa_hist_index(v) & 0x3ff;	/* a bound the verifier can see */

	if (idx < PA_HIST_BUCKETS)
		hist[idx]++;
}

static __always_inline __u32 size_bucket(__u32 bytes)
{
	__u32 b = bytes ? pa_hist_log2(bytes) + 1 : 0;

	b = b < PA_DISK_SIZE_BUCKETS ? b : PA_DISK_SIZE_BUCKETS - 1;
	barrier_var(b);		/* keep the mask: a bound the 6.1 verifier can see */
	return b & (PA_DISK_SIZE_BUCKETS - 1);
}

/* GCRA: allow when the next theoretical arrival is at most the burst
 * tolerance ahead. Two CPUs racing on one key may both pass: the limit can
 * be exceeded by one event per racing CPU, never by a flood.
 */
static __always_inline bool rate_allows(const struct pa_disk_key *key, __u64 now)
{
	__u64 *tat, t;

	if (!rate_interval_ns)
		return true;
	tat = bpf_map_lookup_elem(&disk_bucket, key);
	if (!tat) {
		t = now + rate_interval_ns;
		bpf_map_update_elem(&disk_bucket, key, &t, BPF_NOEXIST);
		return true;
	}
	t = *tat > now ? *tat : now;
	if (t - now > rate_tolerance_ns)
		return false;
	*tat = t + rate_interval_ns;
	return true;
}

static __always_inline bool is_slow(const struct pa_disk_key *key, __u64 lat)
{
	__u64 *thr;

	if (!slow_ns && !slow_adaptive)
		return false;
	if (slow_ns && lat < slow_ns)
		return false;
	if (!slow_adaptive)
		return true;
	thr = bpf_map_lookup_elem(&disk_thresh, key);
	return thr && *thr && lat > *thr;
}

struct io_done {
	struct request *rq;
	const struct pa_disk_rq *ri;
	struct pa_disk_key key;
	__u64 now, latency, queue, service;
	__u32 status;
	__u32 cmd_flags;
	bool btf;
};

static __always_inline void fill_event(struct pa_disk_event *e, const struct io_done *c,
				       __u32 kind)
{
	e->ts_ns = c->now;
	e->latency_ns = c->latency;
	e->queue_ns = c->queue;
	e->service_ns = c->service;
	e->sector = rq_sector(c->rq, c->btf);
	e->cgroup_id = c->ri->cgroup_id;
	e->bytes = c->ri->bytes;
	e->dev = c->key.dev;
	e->cmd_flags = c->cmd_flags;
	e->op = c->key.op;
	e->pid = c->ri->tgid;
	e->tid = c->ri->tid;
	e->status = c->status;
	e->kind = kind;
	e->cpu = bpf_get_smp_processor_id();
	e->pad = 0;
	__builtin_memcpy(e->comm, c->ri->comm, sizeof(e->comm));
}

/* Filled in each branch separately: clang would otherwise compute field
 * addresses of the reserved record before its NULL check.
 */
static __always_inline void emit(void *ctx, const struct io_done *c, __u32 kind)
{
	struct pa_disk_counters *cnt = counters();
	struct pa_disk_event *e, stack_e;

	if (use_ringbuf) {
		e = bpf_ringbuf_reserve(&disk_events, sizeof(*e), 0);
		if (!e)
			goto lost;
		fill_event(e, c, kind);
		bpf_ringbuf_submit(e, 0);
	} else {
		fill_event(&stack_e, c, kind);
		if (bpf_perf_event_output(ctx, &disk_events, BPF_F_CURRENT_CPU,
					  &stack_e, sizeof(stack_e)))
			goto lost;
	}
	if (cnt)
		cnt->events_sent++;
	return;
lost:
	if (cnt)
		cnt->events_lost++;
}

static __always_inline void account(struct pa_disk_stats *st, const struct io_done *c)
{
	st->count++;
	st->bytes += c->ri->bytes;
	if (c->status) {
		st->errors++;
		__u32 i = c->status < PA_DISK_STATUS_MAX ? c->status : PA_DISK_STATUS_MAX - 1;

		barrier_var(i);
		st->status[i & (PA_DISK_STATUS_MAX - 1)]++;
	}
	st->size_hist[size_bucket(c->ri->bytes)]++;
	if (!c->ri->issue_ts)
		return;		/* failed before reaching the driver: no times */
	st->queue_total_ns += c->queue;
	st->service_total_ns += c->service;
	if (c->queue > st->queue_max_ns)
		st->queue_max_ns = c->queue;
	if (c->service > st->service_max_ns)
		st->service_max_ns = c->service;
	if (c->latency > st->latency_max_ns)
		st->latency_max_ns = c->latency;
	hist_add(st->queue_hist, c->queue);
	hist_add(st->service_hist, c->service);
	hist_add(st->latency_hist, c->latency);
}

static __always_inline void on_complete(void *ctx, struct request *rq, __u32 status,
					__u32 nr_bytes, bool btf)
{
	struct pa_disk_counters *cnt;
	struct pa_disk_stats *st;
	struct io_done c = { .rq = rq, .status = status, .btf = btf };
	struct pa_disk_rq ri;
	struct rq_ref r;
	__u32 kind = 0;
	int way = -1;

	c.key.dev = rq_dev(rq, btf);
	if (filter_dev && c.key.dev != filter_dev)
		return;
	if (rq_ref_of(rq, &r))
		way = rq_way(&r);
	if (way < 0) {
		if ((cnt = counters()))
			cnt->untracked++;
		return;
	}
	/* Partly done (the rest completes later): wait for the last part. */
	if (!status && nr_bytes < rq_data_len(rq, btf))
		return;
	ri = *rq_record(&r, way);
	rq_forget(&r, way);
	/* Never reached the driver and did not fail: handled inside the block
	 * layer (the data-less part of a flush sequence), not device I/O.
	 */
	if (!ri.wanted || (!ri.issue_ts && !status))
		return;
	c.ri = &ri;
	c.now = bpf_ktime_get_ns();
	c.cmd_flags = rq_cmd_flags(rq, btf);
	c.key.op = c.cmd_flags & op_mask;
	c.latency = c.now - (ri.first_ts ? ri.first_ts : c.now);
	if (ri.issue_ts) {
		c.service = c.now - ri.issue_ts;
		if (ri.insert_ts && ri.insert_ts <= ri.issue_ts)
			c.queue = ri.issue_ts - ri.insert_ts;
	}
	st = stats_for(&c.key);
	if (!st)
		return;
	account(st, &c);
	if (status)
		kind = PA_DISK_EV_ERROR;
	else if (is_slow(&c.key, c.latency))
		kind = PA_DISK_EV_SLOW;
	if (!kind)
		return;
	if (rate_allows(&c.key, c.now))
		emit(ctx, &c, kind);
	else
		st->suppressed++;
}

/*
 * Each tracepoint in both flavours around one body: tp_btf (direct loads)
 * and raw_tp (probe reads, for kernels without the tracepoint's BTF). The
 * agent loads one flavour (agent/disk.c, set_programs).
 */
#define DISK_RQ_PROGS(tp, name, handler)			\
SEC("tp_btf/" #tp)						\
int BPF_PROG(name##_btf, struct request *rq)			\
{								\
	handler(rq, true);					\
	return 0;						\
}								\
								\
SEC("raw_tp/" #tp)						\
int BPF_PROG(name##_raw, struct request *rq)			\
{								\
	handler(rq, false);					\
	return 0;						\
}

DISK_RQ_PROGS(block_io_start, io_start, on_io_start)
DISK_RQ_PROGS(block_rq_insert, rq_insert, on_insert)
DISK_RQ_PROGS(block_rq_issue, rq_issue, on_issue)
DISK_RQ_PROGS(block_rq_requeue, rq_requeue, on_requeue)
DISK_RQ_PROGS(block_rq_merge, rq_merge, on_merge)

SEC("tp_btf/block_rq_complete")
int BPF_PROG(rq_complete_btf, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	on_complete(ctx, rq, error, nr_bytes, true);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(rq_complete_raw, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	on_complete(ctx, rq, error, nr_bytes, false);
	return 0;
}
