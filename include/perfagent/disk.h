/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What bpf/disk.bpf.c keeps in its maps and streams through its ring buffer,
 * as read by agent/disk.c. One definition for both sides.
 */
#ifndef PERFAGENT_DISK_H
#define PERFAGENT_DISK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "perfagent/hist.h"

#define PA_DISK_COMM_LEN	16

/* Devices are named by the kernel's internal dev_t (MKDEV: 12-bit major,
 * 20-bit minor), which is what struct gendisk gives the BPF side; the agent
 * converts to the userspace encoding when it looks names up.
 */
#define PA_KDEV_MINORBITS	20
#define PA_KDEV(major, minor)	(((__u32)(major) << PA_KDEV_MINORBITS) | (__u32)(minor))
#define PA_KDEV_MAJOR(kdev)	((__u32)(kdev) >> PA_KDEV_MINORBITS)
#define PA_KDEV_MINOR(kdev)	((__u32)(kdev) & ((1U << PA_KDEV_MINORBITS) - 1))

/* Distinct (device, operation) pairs the kernel keeps apart; more are
 * counted in pa_disk_counters.stats_full. Their statistics are preallocated:
 * sizeof(struct pa_disk_stats) (6664 bytes) per pair per CPU, 833 KiB per CPU.
 */
#define PA_DISK_MAX_KEYS	128

/* Completion statuses (blk_status_t) counted one by one; larger values share
 * the last slot. Both sizes are powers of two: the BPF side masks indexes
 * with them so that every verifier sees the bound.
 */
#define PA_DISK_STATUS_MAX	32

/* I/O sizes: bucket 0 holds 0 bytes, bucket k holds [2^(k-1), 2^k) bytes. */
#define PA_DISK_SIZE_BUCKETS	32

/* The agent reads the 32-bit counters at least this often and takes
 * wrap-safe deltas (as the syscall probe does).
 */
#define PA_DISK_MAX_READ_GAP_S	60

struct pa_disk_key {
	__u32 dev;		/* PA_KDEV(major, first_minor) of the disk */
	__u32 op;		/* cmd_flags & the op mask: REQ_OP_* of this kernel */
};

/* One per (device, op) per CPU ("disk_stats", a per-CPU hash). Latencies
 * are counted once per I/O, when it completes:
 *   queue   = issue - insert (0 when the request went straight to the driver)
 *   service = complete - issue
 *   latency = complete - first insert or issue (queue + service, plus any
 *             earlier attempts of a requeued request)
 */
struct pa_disk_stats {
	__u64 count;
	__u64 bytes;
	__u64 errors;
	__u64 suppressed;	/* events the rate limit held back */
	__u64 queue_total_ns;
	__u64 service_total_ns;
	__u64 queue_max_ns;
	__u64 service_max_ns;
	__u64 latency_max_ns;
	__u32 status[PA_DISK_STATUS_MAX];
	__u32 size_hist[PA_DISK_SIZE_BUCKETS];
	__u32 queue_hist[PA_HIST_BUCKETS];
	__u32 service_hist[PA_HIST_BUCKETS];
	__u32 latency_hist[PA_HIST_BUCKETS];
};

enum pa_disk_event_kind {
	PA_DISK_EV_SLOW = 1,
	PA_DISK_EV_ERROR = 2,
};

/* One slow or failed I/O, as streamed through "disk_events". */
struct pa_disk_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC at completion */
	__u64 latency_ns;
	__u64 queue_ns;
	__u64 service_ns;
	__u64 sector;		/* first sector (512 bytes) on the disk */
	__u64 cgroup_id;	/* cgroup v2 of the submitter */
	__u32 bytes;
	__u32 dev;		/* PA_KDEV */
	__u32 cmd_flags;	/* op and REQ_* flags, decoded with the kernel's BTF */
	__u32 op;
	__u32 pid;		/* submitter's tgid */
	__u32 tid;
	__u32 status;		/* blk_status_t, 0 = success */
	__u32 kind;		/* enum pa_disk_event_kind */
	__u32 cpu;		/* where it completed */
	__u32 pad;
	char comm[PA_DISK_COMM_LEN];
};

/* A request in flight, from its first sighting to its completion. The
 * agent reads it to find requests whose completion the probe never saw.
 */
struct pa_disk_rq {
	__u64 seen_ts;		/* when this record was made */
	__u64 first_ts;		/* first queued or issued: start of its latency */
	__u64 insert_ts;	/* last time it entered a queue (insert, requeue) */
	__u64 issue_ts;		/* last time it was handed to the driver */
	__u64 cgroup_id;
	__u32 tgid;
	__u32 tid;
	__u32 bytes;		/* size when issued */
	__u8 wanted;		/* passed the submitter filters */
	char comm[PA_DISK_COMM_LEN];
};

/* "disk_rqs": requests in flight, a set-associative table in an array
 * (bpf/disk_rqs.bpf.h). A request's address picks a set; the way whose rq
 * holds that address has its record. The addresses lead the set so that a
 * search reads one cache line.
 */
#define PA_DISK_RQ_WAYS		4
#define PA_DISK_RQ_SETS		8192	/* 32 Ki requests, 2.5 MiB */

struct pa_disk_rq_set {
	__u64 rq[PA_DISK_RQ_WAYS];	/* struct request *, 0 = free */
	struct pa_disk_rq rec[PA_DISK_RQ_WAYS];
};

/* Per-CPU counters of what the probe could not record ("disk_counters"). */
struct pa_disk_counters {
	__u64 events_sent;
	__u64 events_lost;	/* ring/perf buffer full */
	__u64 untracked;	/* completions of requests seen neither queued nor issued */
	__u64 stats_full;	/* I/O not counted: PA_DISK_MAX_KEYS pairs already kept */
	__u64 rq_full;		/* records pushed out of a full set of disk_rqs */
	/* Requests that reached the driver but whose completion the probe
	 * never saw: the kernel fired block_rq_complete (ftrace records it)
	 * without running the program and without counting a recursion miss
	 * (seen on 6.18, about one completion in 10^4 under load). Found when
	 * the request is made again, so the last requests of a quiet disk are
	 * found late.
	 */
	__u64 completions_unseen;
};

#endif /* PERFAGENT_DISK_H */
