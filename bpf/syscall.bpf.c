// SPDX-License-Identifier: GPL-2.0
/*
 * Syscall latency: count, errors, total and maximum time and a log-linear
 * latency histogram per syscall, kept in per-CPU maps; calls slower than a
 * load-time threshold are streamed one by one.
 *
 * Two attach flavours share one body:
 *  - tp_btf (5.11+): the call in flight on a CPU sits in a per-CPU slot,
 *    tagged with the thread that entered it. sys_exit finds it there unless
 *    the task was switched out inside the call; sched_switch then moves it
 *    into the task's task storage, where sys_exit looks next. Calls that do
 *    not block, the vast majority, cost two clock reads and inlined per-CPU
 *    array accesses: no helper to find the current task, no storage or hash
 *    lookup. The thread is recognised by its saved user registers (the
 *    tracepoints' pt_regs argument: the top of its own kernel stack), which
 *    both tracepoints hand us for free; the task itself is read only when
 *    another thread takes the slot. The slot is checked against the
 *    current thread on every use, so a switch the program did not see (the
 *    kernel now and then fires a tracepoint without running the program,
 *    and says nothing) costs at most that one call, counted in start_lost,
 *    never a wrong or silently missing sample.
 *  - raw_tp + a hash keyed by thread id, for kernels without task storage.
 * The agent loads exactly one flavour (see agent/syscall.c) and attaches
 * sched_switch and sys_exit before sys_enter.
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

/* Per CPU: the thread that last entered a syscall here, whether it passes
 * the task filters, and its traced call in flight (ts != 0).
 */
struct cpu_slot {
	__u64 ts;
	__u64 regs;		/* owner's struct pt_regs *, 0: nobody */
	__u32 tid;		/* owner, for sched_switch (which gets a task) */
	__u32 nr;
	__u8 wanted;		/* tid passes the task filters */
	__u8 recheck;		/* name or program changed: decide wanted again */
	__u8 pad[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_slot);
} sys_cpu_slot SEC(".maps");

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

/* Every filter here is known at load time, so untaken ones cost nothing. */
static __always_inline bool task_wanted(__u32 tgid, __u32 tid, const char *comm)
{
	int i;

	if (tgid == self_tgid)
		return false;
	if (filter_tgid && tgid != filter_tgid)
		return false;
	if (filter_tid && tid != filter_tid)
		return false;
	if (filter_comm_on) {
		for (i = 0; i < PA_COMM_LEN; i++) {
			if (comm[i] != filter_comm[i])
				return false;
			if (!comm[i])
				break;
		}
	}
	return true;
}

static __always_inline bool call_wanted(__u32 nr)
{
	if (filter_nr_on) {
		__u8 *on = bpf_map_lookup_elem(&sys_filter, &nr);

		if (!on || !*on)
			return false;
	}
	if (filter_cgroup_on && bpf_current_task_under_cgroup(&sys_cgroup, 0) != 1)
		return false;
	return true;
}

/* Task filters for a thread entering the slot; comm only when asked for. */
static __always_inline bool task_passes(struct task_struct *task)
{
	char comm[PA_COMM_LEN] = {};

	if (filter_comm_on)
		bpf_probe_read_kernel_str(comm, sizeof(comm), task->comm);
	return task_wanted(task->tgid, task->pid, comm);
}

static __always_inline bool current_wanted(__u64 pid_tgid, __u32 nr)
{
	char comm[PA_COMM_LEN] = {};

	if (filter_comm_on)
		bpf_get_current_comm(comm, sizeof(comm));
	return task_wanted(pid_tgid >> 32, (__u32)pid_tgid, comm) && call_wanted(nr);
}

static __always_inline struct pa_probe_counters *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sys_counters, &zero);
}

static __always_inline void emit_slow(void *ctx, __u32 nr, __u64 now, __u64 lat, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
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

/* Helper calls are the main cost here (each one tens of ns on a virtual
 * machine), so the exit path makes only the two it cannot avoid.
 */
static __always_inline void account(void *ctx, struct syscall_start *s, long ret)
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
		emit_slow(ctx, nr, now, lat, ret);
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

static __always_inline struct cpu_slot *cpu_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&sys_cpu_slot, &zero);
}

static __always_inline void count_start_lost(void)
{
	struct pa_probe_counters *c = counters();

	if (c)
		c->start_lost++;
}

/* A new thread takes the slot (or its name changed): its verdict. */
static __always_inline void slot_take(struct cpu_slot *slot, __u64 regs)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (slot->regs != regs && slot->ts)	/* its owner left unseen */
		count_start_lost();
	slot->regs = regs;
	slot->tid = task->pid;
	slot->wanted = task_passes(task);
	slot->recheck = 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter_btf, struct pt_regs *regs, long id)
{
	struct cpu_slot *slot = cpu_slot();

	if (!slot || !nr_in_range(id))
		return 0;
	if (slot->regs != (__u64)regs || slot->recheck)
		slot_take(slot, (__u64)regs);
	slot->ts = 0;
	if (!slot->wanted || !call_wanted(id))
		return 0;
	slot->nr = id;
	slot->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit_btf, struct pt_regs *regs, long ret)
{
	struct cpu_slot *slot = cpu_slot();
	struct syscall_start *s, start;

	if (!slot)
		return 0;
	if (slot->regs == (__u64)regs) {
		if (!slot->ts)		/* not traced, or entered before attach */
			return 0;
		start.ts = slot->ts;
		start.nr = slot->nr;
		slot->ts = 0;
		account(ctx, &start, ret);
		return 0;
	}
	/* The task slept or was preempted inside the call: sched_switch moved it. */
	s = bpf_task_storage_get(&sys_start_task, bpf_get_current_task_btf(), 0, 0);
	if (s && s->ts)
		account(ctx, s, ret);
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sys_switch_btf, bool preempt, struct task_struct *prev)
{
	struct cpu_slot *slot = cpu_slot();
	struct syscall_start *s;

	if (!slot)
		return 0;
	if (slot->ts && slot->tid == (__u32)prev->pid) {
		s = bpf_task_storage_get(&sys_start_task, prev, 0,
					 BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (s) {
			s->ts = slot->ts;
			s->nr = slot->nr;
		} else {
			count_start_lost();
		}
		slot->ts = 0;
	}
	slot->regs = 0;		/* the next task decides its own verdict */
	slot->tid = 0;
	return 0;
}

/* A new name (prctl, /proc/PID/comm) or program (exec: new name, and a new
 * pid for a non-leader thread) can change the filter verdict: decide again
 * at the next syscall. A task renamed from another CPU decides again after
 * its next switch.
 */
static __always_inline void forget_slot_owner(void)
{
	struct cpu_slot *slot = cpu_slot();

	if (slot)
		slot->recheck = 1;
}

SEC("tp_btf/task_rename")
int BPF_PROG(sys_rename_btf)
{
	forget_slot_owner();
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sys_exec_btf)
{
	forget_slot_owner();
	return 0;
}

SEC("raw_tp/sys_enter")
int BPF_PROG(sys_enter_raw, struct pt_regs *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct syscall_start s = {};
	__u32 tid = (__u32)pid_tgid;

	if (!nr_in_range(id) || !current_wanted(pid_tgid, id))
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
	account(ctx, s, ret);
	bpf_map_delete_elem(&sys_start_tid, &tid);
	return 0;
}
