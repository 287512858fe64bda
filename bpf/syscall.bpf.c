// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall latency: count, errors, total and maximum time and a log-linear
 * latency histogram per syscall, kept in per-CPU maps; calls slower than a
 * load-time threshold are streamed one by one.
 *
 * Two attach flavours share one body:
 *  - tp_btf + task storage for the per-thread start time (5.11+): no global
 *    hash lookup on the hot path;
 *  - raw_tp + a hash keyed by thread id, for kernels without task storage.
 * The agent loads exactly one pair (see agent/syscall.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "perfagent/syscall.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time options: set by the agent before load, folded by the verifier. */
const volatile __u32 self_tgid;
const volatile __u32 filter_tgid;
const volatile __u32 filter_tid;
const volatile bool filter_comm_on;
const volatile char filter_comm[PA_COMM_LEN];
const volatile bool filter_cgroup_on;
const volatile bool filter_nr_on;
const volatile __u64 slow_ns;
const volatile bool use_ringbuf = true;

struct syscall_start {
	__u64 ts;
	__u32 nr;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct syscall_start);
} sys_start_task SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);	/* threads that exit mid-call age out */
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct syscall_start);
} sys_start_tid SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PA_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, struct pa_syscall_stats);
} sys_stats SEC(".maps");

/* Syscall numbers to keep when filter_nr_on: value 1 = traced. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, PA_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u8);
} sys_filter SEC(".maps");

/* Slot 0 holds the cgroup v2 directory to trace (with descendants). */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sys_cgroup SEC(".maps");

/* Ring buffer; the agent turns it into a perf event array when the kernel
 * lacks ring buffers or the user asks for the fallback (use_ringbuf = 0).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} sys_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_probe_counters);
} sys_counters SEC(".maps");

static __always_inline bool comm_matches(void)
{
	char comm[PA_COMM_LEN];
	int i;

	bpf_get_current_comm(comm, sizeof(comm));
	for (i = 0; i < PA_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* Every filter here is known at load time, so untaken ones cost nothing. */
static __always_inline bool wanted(__u64 pid_tgid, __u32 nr)
{
	__u32 tgid = pid_tgid >> 32;

	if (tgid == self_tgid)
		return false;
	if (filter_tgid && tgid != filter_tgid)
		return false;
	if (filter_tid && (__u32)pid_tgid != filter_tid)
		return false;
	if (filter_nr_on) {
		__u8 *on = bpf_map_lookup_elem(&sys_filter, &nr);

		if (!on || !*on)
			return false;
	}
	if (filter_comm_on && !comm_matches())
		return false;
	if (filter_cgroup_on && bpf_current_task_under_cgroup(&sys_cgroup, 0) != 1)
		return false;
	return true;
}

static __always_inline struct pa_probe_counters *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sys_counters, &zero);
}

static __always_inline void emit_slow(void *ctx, __u64 pid_tgid, __u32 nr,
				      __u64 now, __u64 lat, long ret)
{
	struct pa_probe_counters *c = counters();
	struct pa_syscall_event *e, stack_e;
	long err = 0;

	if (use_ringbuf) {
		e = bpf_ringbuf_reserve(&sys_events, sizeof(*e), 0);
		if (!e)
			goto lost;
	} else {
		e = &stack_e;
	}
	e->ts_ns = now;
	e->latency_ns = lat;
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->nr = nr;
	e->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (use_ringbuf)
		bpf_ringbuf_submit(e, 0);
	else
		err = bpf_perf_event_output(ctx, &sys_events, BPF_F_CURRENT_CPU,
					    e, sizeof(*e));
	if (err)
		goto lost;
	if (c)
		c->events_sent++;
	return;
lost:
	if (c)
		c->events_lost++;
}

static __always_inline void account(void *ctx, __u64 pid_tgid,
				    struct syscall_start *s, long ret)
{
	struct pa_syscall_stats *st;
	__u64 now = bpf_ktime_get_ns();
	__u64 lat = now - s->ts;
	__u32 nr = s->nr, idx;

	s->ts = 0;
	st = bpf_map_lookup_elem(&sys_stats, &nr);
	if (!st)
		return;
	st->count++;
	if (ret < 0)
		st->errors++;
	st->total_ns += lat;
	if (lat > st->max_ns)
		st->max_ns = lat;
	idx = pa_hist_index(lat) & 0x3ff;	/* a bound the verifier can see */
	if (idx < PA_HIST_BUCKETS)
		st->hist[idx]++;
	if (slow_ns && lat >= slow_ns)
		emit_slow(ctx, pid_tgid, nr, now, lat, ret);
}

static __always_inline bool nr_in_range(long id)
{
	struct pa_probe_counters *c;

	if ((unsigned long)id < PA_SYSCALL_MAX)
		return true;
	c = counters();
	if (c)
		c->out_of_range++;
	return false;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct syscall_start *s;

	if (!nr_in_range(id) || !wanted(pid_tgid, id))
		return 0;
	s = bpf_task_storage_get(&sys_start_task, bpf_get_current_task_btf(), 0,
				 BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!s)
		return 0;
	s->nr = id;
	s->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs *regs, long ret)
{
	struct syscall_start *s;

	s = bpf_task_storage_get(&sys_start_task, bpf_get_current_task_btf(), 0, 0);
	if (!s || !s->ts)
		return 0;
	account(ctx, bpf_get_current_pid_tgid(), s, ret);
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter_raw, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct syscall_start s = {};
	__u32 tid = (__u32)pid_tgid;

	if (!nr_in_range(id) || !wanted(pid_tgid, id))
		return 0;
	s.nr = id;
	s.ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&sys_start_tid, &tid, &s, BPF_ANY);
	return 0;
}

SEC("raw_tp/sys_exit")
int BPF_PROG(sys_exit_raw, struct pt_regs *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct syscall_start *s;

	s = bpf_map_lookup_elem(&sys_start_tid, &tid);
	if (!s || !s->ts)
		return 0;
	account(ctx, pid_tgid, s, ret);
	bpf_map_delete_elem(&sys_start_tid, &tid);
	return 0;
}
