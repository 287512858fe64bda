/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What bpf/syscall.bpf.c keeps in its maps and streams through its ring
 * buffer, as read by agent/syscall.c. One definition for both sides.
 */
#ifndef PERFAGENT_SYSCALL_H
#define PERFAGENT_SYSCALL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "perfagent/hist.h"

/* x86_64 numbers stay below 512; anything above (x32 bit set, new calls
 * beyond the table) is counted in pa_probe_counters.out_of_range.
 */
#define PA_SYSCALL_MAX		512
#define PA_COMM_LEN		16

/* One per syscall number per CPU (per-CPU array "sys_stats"). Bucket
 * counters are 32 bits to halve the map: the agent reads at least every
 * PA_SYSCALL_MAX_READ_GAP_S seconds and takes wrap-safe deltas.
 */
struct pa_syscall_stats {
	__u64 count;
	__u64 errors;
	__u64 total_ns;
	__u64 max_ns;
	__u32 hist[PA_HIST_BUCKETS];
};

#define PA_SYSCALL_MAX_READ_GAP_S	60

/* One slow call, as streamed through "sys_events". */
struct pa_syscall_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC at syscall exit */
	__u64 latency_ns;
	__s64 ret;
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 nr;
	__u32 cpu;
	char comm[PA_COMM_LEN];
};

/* Per-CPU counters of what the probe could not record ("sys_counters"). */
struct pa_probe_counters {
	__u64 events_sent;
	__u64 events_lost;	/* ring/perf buffer full */
	__u64 out_of_range;	/* syscall number >= PA_SYSCALL_MAX */
	__u64 start_lost;	/* a blocked call's start could not be kept */
};

#endif /* PERFAGENT_SYSCALL_H */
