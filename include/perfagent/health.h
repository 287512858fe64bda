/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What bpf/health.bpf.c keeps in its maps and streams through its ring
 * buffer, as read by agent/health_bpf.c and decoded by agent/health_decode.c.
 * One definition for both sides.
 *
 * Events carry the raw numbers the tracepoint gave (an MCE status word, an
 * AER status register, a SCSI result): the agent decodes them, so decoding
 * can be tested from a recorded event and improved without touching the
 * kernel side.
 */
#ifndef PERFAGENT_HEALTH_H
#define PERFAGENT_HEALTH_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif
#include "perfagent/hist.h"

#define PA_HEALTH_COMM_LEN	16
#define PA_HEALTH_NAME_LEN	32	/* device and driver names */
#define PA_HEALTH_DETAIL_LEN	96	/* devlink: reporter, then message */
#define PA_HEALTH_REPORTER_LEN	32	/* devlink: the message starts here in detail */

/* IRQ lines timed one by one; more are counted in irq_full. */
#define PA_HEALTH_MAX_IRQS	1024
/* Soft-IRQ vectors: NR_SOFTIRQS is 10 on every kernel so far. */
#define PA_HEALTH_SOFTIRQS	16
/* Rate-limit keys (kind + device); events of further keys pass unlimited
 * and are counted in keys_full.
 */
#define PA_HEALTH_MAX_KEYS	4096

/* The agent reads the 32-bit histogram counters at least this often and
 * takes wrap-safe deltas (as the syscall probe does).
 */
#define PA_HEALTH_MAX_READ_GAP_S	60

/* Where an event came from; values never change, new ones are appended. */
enum pa_health_kind {
	PA_HK_NONE,
	PA_HK_BLOCK_ERROR,	/* block:block_rq_error (or block_rq_complete, error) */
	PA_HK_SCSI_DISPATCH,	/* scsi:scsi_dispatch_cmd_error: host refused the command */
	PA_HK_SCSI_TIMEOUT,	/* scsi:scsi_dispatch_cmd_timeout */
	PA_HK_SCSI_ERROR,	/* scsi:scsi_dispatch_cmd_done with a non-zero result */
	PA_HK_NVME_ERROR,	/* nvme:nvme_complete_rq with a non-zero status */
	PA_HK_AER,		/* ras:aer_event */
	PA_HK_MCE,		/* mce:mce_record */
	PA_HK_TX_TIMEOUT,	/* net:net_dev_xmit_timeout */
	PA_HK_DEVLINK,		/* devlink:devlink_health_report */
	PA_HK_OOM_KILL,		/* oom:mark_victim */
	PA_HK_ERROR_REPORT,	/* error_report:error_report_end (KFENCE, KASAN, WARN) */
	PA_HK_MODULE_LOAD,	/* module:module_load */
	PA_HK_COUNT,
};

struct pa_health_block {
	__u64 sector;
	__u32 dev;		/* PA_KDEV(major, first_minor) of the disk */
	__u32 bytes;		/* bytes the error covers */
	__u32 status;		/* blk_status_t */
	__u32 cmd_flags;	/* REQ_OP_* and flags of this kernel (decoded with BTF) */
};

struct pa_health_scsi {
	__u32 host, channel, id, lun;
	__s32 result;		/* cmd->result; for a dispatch error, the LLD's return */
	__u32 opcode;		/* CDB byte 0 */
};

struct pa_health_nvme {
	__u64 result;		/* command-specific completion dword(s) */
	__s32 ctrl_id, qid, cid;
	__u16 status;		/* NVMe status field (SCT, SC, More, DNR), phase bit removed */
	__u8 retries;
	__u8 flags;
};

struct pa_health_aer {
	__u32 status;		/* the correctable or uncorrectable status register */
	__u8 severity;		/* 0 non-fatal, 1 fatal, 2 corrected (AER_*) */
	__u8 tlp_valid;
	__u16 pad;
	__u32 tlp[4];		/* TLP header log */
};

struct pa_health_mce {
	__u64 mcgcap, mcgstatus, status, addr, misc, synd, ipid, ip, tsc, walltime;
	__u32 cpu, cpuid, apicid, socketid;
	__u8 cs, bank, cpuvendor, pad;
};

struct pa_health_oom {
	__s32 pid;		/* the victim (task pid as the kernel sees it) */
	__u32 uid;
	__u64 total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, pgtables_kb;
	__s16 oom_score_adj;
	__u8 has_memory;	/* the kernel's record had the memory fields */
	__u8 pad[5];
	char comm[PA_HEALTH_COMM_LEN];	/* the victim's */
};

struct pa_health_error_report {
	__u64 id;		/* address or id the detector reported */
	__u32 detector;		/* enum error_detector (named from BTF) */
	__u32 pad;
};

struct pa_health_module {
	__u32 taints;		/* TAINT_* bits the module brings */
	__u32 pad;
};

struct pa_health_tx_timeout {
	__s32 queue;
	__u32 pad;
};

/* One event, as streamed through "health_events". */
struct pa_health_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC when it happened */
	__u64 key_id;		/* the rate-limit key's id (see pa_health_key) */
	__u32 kind;		/* enum pa_health_kind */
	__u32 cpu;
	__u32 pid;		/* the task running when it happened (tgid), 0 in IRQ */
	__u32 tid;
	char comm[PA_HEALTH_COMM_LEN];
	char device[PA_HEALTH_NAME_LEN];	/* disk, interface, PCI address... */
	char driver[PA_HEALTH_NAME_LEN];	/* driver or module, when named */
	char detail[PA_HEALTH_DETAIL_LEN];	/* devlink: reporter name in the first
						 * PA_HEALTH_REPORTER_LEN bytes, then
						 * the message */
	union {
		struct pa_health_block block;
		struct pa_health_scsi scsi;
		struct pa_health_nvme nvme;
		struct pa_health_aer aer;
		struct pa_health_mce mce;
		struct pa_health_oom oom;
		struct pa_health_error_report report;
		struct pa_health_module module;
		struct pa_health_tx_timeout tx;
		__u64 raw[14];
	} u;
};

/*
 * Rate limit: one token bucket per key, kept as the theoretical arrival
 * time of the next event (GCRA): an event passes when tat - now is at most
 * the burst tolerance, and moves tat one interval on. From an idle key, a
 * burst of N events lets `burst` through at once and one more per interval:
 * over T ns at most burst + T / interval pass; the rest are counted.
 */
struct pa_health_key {
	__u32 kind;
	__u32 pad;
	__u64 id;		/* dev_t, SCSI address or hash of the device name */
};

struct pa_health_bucket {
	__u64 tat;
	__u64 passed;		/* events let through (sent or lost in the buffer) */
	__u64 suppressed;	/* events held back, ever */
	char device[PA_HEALTH_NAME_LEN];	/* as in the key's first event */
};

static __always_inline int pa_rate_allow(__u64 *tat, __u64 now, __u64 interval,
					 __u64 tolerance)
{
	__u64 t = *tat > now ? *tat : now;

	if (t - now > tolerance)
		return 0;
	*tat = t + interval;
	return 1;
}

/* FNV-1a over a NUL-terminated name of at most PA_HEALTH_NAME_LEN bytes:
 * the key of devices the tracepoint names only by a string.
 */
static __always_inline __u64 pa_name_hash(const char *s)
{
	__u64 h = 0xcbf29ce484222325ULL;
	int i;

	for (i = 0; i < PA_HEALTH_NAME_LEN; i++) {
		if (!s[i])
			break;
		h = (h ^ (__u8)s[i]) * 0x100000001b3ULL;
	}
	return h;
}

/* Time spent in one IRQ line's handlers, or one soft-IRQ vector, per CPU. */
struct pa_irq_time {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u32 hist[PA_HIST_BUCKETS];
};

/* Per-CPU counters of what the probe could not record ("health_counters"). */
struct pa_health_counters {
	__u64 events_sent;
	__u64 events_lost;	/* ring/perf buffer full */
	__u64 suppressed;	/* held back by the rate limit */
	__u64 keys_full;	/* passed unlimited: no room for their key */
	__u64 irq_full;		/* handler runs not timed: PA_HEALTH_MAX_IRQS lines kept */
	__u64 irq_unmatched;	/* exits without their entry (attached mid-handler) */
};

#endif /* PERFAGENT_HEALTH_H */
