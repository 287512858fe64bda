// SPDX-License-Identifier: GPL-2.0
/*
 * Driver and system health from tracepoints:
 *
 *  - time in hard-IRQ handlers per IRQ line and in soft-IRQs per vector:
 *    count, total, maximum and a log-linear histogram, per CPU, so the agent
 *    sees both how long handlers take and how often they run (storms);
 *  - device errors (block, SCSI, NVMe, PCIe AER, machine checks, transmit
 *    timeouts, devlink health reports) and stability events (OOM kills,
 *    KFENCE/KASAN/WARN error reports, module loads), streamed one by one,
 *    rate-limited per (kind, device) in the kernel with the held-back
 *    events counted.
 *
 * Attach types: the hot paths (IRQ and soft-IRQ entry/exit, block
 * completions) use tp_btf, or raw_tp where the kernel's BTF lacks the
 * tracepoint's type; the rare error events use classic tracepoints, whose
 * record is the kernel's stable description of the event, read with CO-RE
 * against the running kernel's (or its module's) trace_event_raw_* type, so
 * fields that come and go between kernels (the OOM victim's memory, the MCE
 * syndrome) are read only where they exist. The agent loads only the
 * programs whose tracepoint exists on the running kernel.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "perfagent/disk.h"
#include "perfagent/health.h"

char LICENSE[] SEC("license") = "GPL";

/* Load-time options: set by the agent before load, folded by the verifier. */
const volatile __u64 rate_interval_ns;		/* 1 s / events per second, 0 = no limit */
const volatile __u64 rate_tolerance_ns;		/* (burst - 1) * rate_interval_ns */
const volatile bool use_ringbuf = true;

/* ---- maps ---------------------------------------------------------------- */

/* The IRQ handler running on this CPU (hard IRQs do not nest on Linux). */
struct irq_slot {
	__u64 ts;
	__u32 irq;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct irq_slot);
} irq_start SEC(".maps");

/* Allocated on first use: a few lines are busy, not PA_HEALTH_MAX_IRQS. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, PA_HEALTH_MAX_IRQS);
	__type(key, __u32);
	__type(value, struct pa_irq_time);
} irq_stats SEC(".maps");

/* All zeroes: the first value of a new irq_stats key (too big for the stack). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_irq_time);
} irq_zero SEC(".maps");

/* The handler's name per line ("virtio1-req.0"), written when first timed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PA_HEALTH_MAX_IRQS);
	__type(key, __u32);
	__type(value, char[PA_HEALTH_NAME_LEN]);
} irq_names SEC(".maps");

/* Start of the soft-IRQ running per vector on this CPU (0 = none). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PA_HEALTH_SOFTIRQS);
	__type(key, __u32);
	__type(value, __u64);
} softirq_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PA_HEALTH_SOFTIRQS);
	__type(key, __u32);
	__type(value, struct pa_irq_time);
} softirq_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PA_HEALTH_MAX_KEYS);
	__type(key, struct pa_health_key);
	__type(value, struct pa_health_bucket);
} health_bucket SEC(".maps");

/* Ring buffer; the agent turns it into a perf event array when the kernel
 * lacks ring buffers or the user asks for the fallback (use_ringbuf = 0).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} health_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pa_health_counters);
} health_counters SEC(".maps");

static __always_inline struct pa_health_counters *counters(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&health_counters, &zero);
}

/* ---- IRQ and soft-IRQ time -------------------------------------------------- */

static __always_inline void time_add(struct pa_irq_time *t, __u64 ns)
{
	__u32 idx = pa_hist_index(ns) & 0x3ff;	/* a bound the verifier can see */

	t->count++;
	t->total_ns += ns;
	if (ns > t->max_ns)
		t->max_ns = ns;
	if (idx < PA_HIST_BUCKETS)
		t->hist[idx]++;
}

static __always_inline void irq_enter(int irq)
{
	__u32 zero = 0;
	struct irq_slot *s = bpf_map_lookup_elem(&irq_start, &zero);

	if (s) {
		s->irq = irq;
		s->ts = bpf_ktime_get_ns();
	}
}

/* The line's time record; made (with its handler's name) on first use. */
static __always_inline struct pa_irq_time *irq_time(__u32 irq, struct irqaction *action)
{
	char name[PA_HEALTH_NAME_LEN] = {};
	struct pa_health_counters *c;
	struct pa_irq_time *t;
	__u32 zero = 0;
	void *blank;

	t = bpf_map_lookup_elem(&irq_stats, &irq);
	if (t)
		return t;
	blank = bpf_map_lookup_elem(&irq_zero, &zero);
	if (blank)
		bpf_map_update_elem(&irq_stats, &irq, blank, BPF_NOEXIST);
	t = bpf_map_lookup_elem(&irq_stats, &irq);
	if (!t) {
		if ((c = counters()))
			c->irq_full++;
		return NULL;
	}
	bpf_probe_read_kernel_str(name, sizeof(name), BPF_CORE_READ(action, name));
	bpf_map_update_elem(&irq_names, &irq, name, BPF_ANY);
	return t;
}

static __always_inline void irq_exit(int irq, struct irqaction *action)
{
	struct pa_health_counters *c;
	struct pa_irq_time *t;
	struct irq_slot *s;
	__u32 zero = 0;
	__u64 ns;

	s = bpf_map_lookup_elem(&irq_start, &zero);
	if (!s)
		return;
	if (!s->ts || s->irq != (__u32)irq) {
		if ((c = counters()))
			c->irq_unmatched++;
		return;
	}
	ns = bpf_ktime_get_ns() - s->ts;
	s->ts = 0;
	t = irq_time(irq, action);
	if (t)
		time_add(t, ns);
}

static __always_inline void softirq_enter(__u32 vec)
{
	__u64 *start = bpf_map_lookup_elem(&softirq_start, &vec);

	if (start)
		*start = bpf_ktime_get_ns();
}

static __always_inline void softirq_exit(__u32 vec)
{
	__u64 *start = bpf_map_lookup_elem(&softirq_start, &vec);
	struct pa_health_counters *c;
	struct pa_irq_time *t;
	__u64 ns;

	if (!start)
		return;
	if (!*start) {
		if ((c = counters()))
			c->irq_unmatched++;
		return;
	}
	ns = bpf_ktime_get_ns() - *start;
	*start = 0;
	t = bpf_map_lookup_elem(&softirq_stats, &vec);
	if (t)
		time_add(t, ns);
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(irq_entry_btf, int irq, struct irqaction *action)
{
	irq_enter(irq);
	return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(irq_exit_btf, int irq, struct irqaction *action, int ret)
{
	irq_exit(irq, action);
	return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(sirq_entry_btf, unsigned int vec)
{
	softirq_enter(vec);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(sirq_exit_btf, unsigned int vec)
{
	softirq_exit(vec);
	return 0;
}

SEC("raw_tp/irq_handler_entry")
int BPF_PROG(irq_entry_raw, int irq, struct irqaction *action)
{
	irq_enter(irq);
	return 0;
}

SEC("raw_tp/irq_handler_exit")
int BPF_PROG(irq_exit_raw, int irq, struct irqaction *action, int ret)
{
	irq_exit(irq, action);
	return 0;
}

SEC("raw_tp/softirq_entry")
int BPF_PROG(sirq_entry_raw, unsigned int vec)
{
	softirq_enter(vec);
	return 0;
}

SEC("raw_tp/softirq_exit")
int BPF_PROG(sirq_exit_raw, unsigned int vec)
{
	softirq_exit(vec);
	return 0;
}

/* ---- events: rate limit and output -------------------------------------- */

/*
 * Whether the key's bucket lets one more event through. Passed and held
 * back events are counted with atomic adds, so every event is counted
 * exactly once whatever the concurrency; two CPUs racing on one key's tat
 * may both pass, exceeding the limit by one event per racing CPU at most.
 */
static __always_inline bool rate_pass(const struct pa_health_key *key, const char *device,
				      __u64 now)
{
	struct pa_health_counters *c;
	struct pa_health_bucket *b;

	if (!rate_interval_ns)
		return true;
	b = bpf_map_lookup_elem(&health_bucket, key);
	if (!b) {
		struct pa_health_bucket fresh = {};

		bpf_probe_read_kernel_str(fresh.device, sizeof(fresh.device), device);
		bpf_map_update_elem(&health_bucket, key, &fresh, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&health_bucket, key);
		if (!b) {
			if ((c = counters()))
				c->keys_full++;
			return true;
		}
	}
	if (pa_rate_allow(&b->tat, now, rate_interval_ns, rate_tolerance_ns)) {
		__sync_fetch_and_add(&b->passed, 1);
		return true;
	}
	__sync_fetch_and_add(&b->suppressed, 1);
	if ((c = counters()))
		c->suppressed++;
	return false;
}

/* Fill what every event has: time, CPU, the task running. */
static __always_inline void event_init(struct pa_health_event *e, __u32 kind)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->cpu = bpf_get_smp_processor_id();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* Rate-limit by (kind, key_id), then stream. */
static __always_inline void submit(void *ctx, struct pa_health_event *e)
{
	struct pa_health_counters *c;
	struct pa_health_key key = { .kind = e->kind, .id = e->key_id };
	long err;

	if (!rate_pass(&key, e->device[0] ? e->device : e->driver, e->ts_ns))
		return;
	if (use_ringbuf)
		err = bpf_ringbuf_output(&health_events, e, sizeof(*e), 0);
	else
		err = bpf_perf_event_output(ctx, &health_events, BPF_F_CURRENT_CPU,
					    e, sizeof(*e));
	if ((c = counters())) {
		if (err)
			c->events_lost++;
		else
			c->events_sent++;
	}
}

/* A __data_loc string of a tracepoint record: offset in the low 16 bits. */
static __always_inline void read_data_loc(void *rec, __u32 loc, char *dst, __u32 size)
{
	bpf_probe_read_kernel_str(dst, size, (char *)rec + (loc & 0xffff));
}

/* ---- block request errors (hot path: tp_btf / raw_tp) --------------------- */

/* Kernels before 5.16 kept the disk in the request itself. */
struct request___rq_disk {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline struct gendisk *rq_gendisk(struct request *rq)
{
	struct request___rq_disk *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return BPF_CORE_READ(old, rq_disk);
	return BPF_CORE_READ(rq, q, disk);
}

static __always_inline void block_error(void *ctx, struct request *rq, __u32 status,
					__u32 nr_bytes)
{
	struct pa_health_event e = {};
	struct gendisk *disk;

	event_init(&e, PA_HK_BLOCK_ERROR);
	disk = rq_gendisk(rq);
	if (disk) {
		e.u.block.dev = PA_KDEV(BPF_CORE_READ(disk, major),
					BPF_CORE_READ(disk, first_minor));
		bpf_probe_read_kernel_str(e.device, sizeof(e.device), &disk->disk_name);
	}
	e.u.block.sector = BPF_CORE_READ(rq, __sector);
	e.u.block.bytes = nr_bytes;
	e.u.block.status = status;
	e.u.block.cmd_flags = BPF_CORE_READ(rq, cmd_flags);
	e.key_id = e.u.block.dev;
	submit(ctx, &e);
}

SEC("tp_btf/block_rq_error")
int BPF_PROG(rq_error_btf, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	block_error(ctx, rq, error, nr_bytes);
	return 0;
}

SEC("raw_tp/block_rq_error")
int BPF_PROG(rq_error_raw, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	block_error(ctx, rq, error, nr_bytes);
	return 0;
}

/* Kernels without block_rq_error: every completion, errors kept. */
SEC("tp_btf/block_rq_complete")
int BPF_PROG(rq_done_btf, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	if (error)
		block_error(ctx, rq, error, nr_bytes);
	return 0;
}

SEC("raw_tp/block_rq_complete")
int BPF_PROG(rq_done_raw, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	if (error)
		block_error(ctx, rq, error, nr_bytes);
	return 0;
}

/* ---- classic tracepoints: the kernel's records ---------------------------- */

/*
 * Local copies of the records, with only the fields used. CO-RE matches
 * them by name (the ___pa suffix is ignored) against the running kernel's
 * BTF, or the BTF of the module that defines the tracepoint (scsi_mod,
 * nvme_core), so each field is read at the offset it has there.
 */
struct trace_event_raw_scsi_dispatch_cmd_error___pa {
	struct trace_entry ent;
	unsigned int host_no, channel, id, lun;
	int rtn;
	unsigned int opcode;
} __attribute__((preserve_access_index));

struct trace_event_raw_scsi_cmd_done_timeout_template___pa {
	struct trace_entry ent;
	unsigned int host_no, channel, id, lun;
	int result;
	unsigned int opcode;
} __attribute__((preserve_access_index));

struct trace_event_raw_nvme_complete_rq___pa {
	struct trace_entry ent;
	char disk[32];
	int ctrl_id, qid, cid;
	__u64 result;
	__u8 retries, flags;
	__u16 status;
} __attribute__((preserve_access_index));

struct trace_event_raw_aer_event___pa {
	struct trace_entry ent;
	__u32 __data_loc_dev_name;
	__u32 status;
	__u8 severity;
	__u8 tlp_header_valid;
	__u32 tlp_header[4];
} __attribute__((preserve_access_index));

struct trace_event_raw_mce_record___pa {
	struct trace_entry ent;
	__u64 mcgcap, mcgstatus, status, addr, misc, synd, ipid, ip, tsc, walltime;
	__u32 cpu, cpuid, apicid, socketid;
	__u8 cs, bank, cpuvendor;
} __attribute__((preserve_access_index));

struct trace_event_raw_net_dev_xmit_timeout___pa {
	struct trace_entry ent;
	__u32 __data_loc_name;
	__u32 __data_loc_driver;
	int queue_index;
} __attribute__((preserve_access_index));

struct trace_event_raw_devlink_health_report___pa {
	struct trace_entry ent;
	__u32 __data_loc_bus_name;
	__u32 __data_loc_dev_name;
	__u32 __data_loc_driver_name;
	__u32 __data_loc_reporter_name;
	__u32 __data_loc_msg;
} __attribute__((preserve_access_index));

struct trace_event_raw_mark_victim___pa {
	struct trace_entry ent;
	int pid;
	__u32 __data_loc_comm;
	unsigned long total_vm, anon_rss, file_rss, shmem_rss;
	__u32 uid;
	unsigned long pgtables;
	short oom_score_adj;
} __attribute__((preserve_access_index));

struct trace_event_raw_error_report_template___pa {
	struct trace_entry ent;
	enum error_detector error_detector;
	unsigned long id;
} __attribute__((preserve_access_index));

struct trace_event_raw_module_load___pa {
	struct trace_entry ent;
	unsigned int taints;
	__u32 __data_loc_name;
} __attribute__((preserve_access_index));

/* SCSI devices are keyed by their address, host:channel:id:lun. */
static __always_inline __u64 scsi_key(const struct pa_health_scsi *s)
{
	return ((__u64)(s->host & 0xffff) << 48) | ((__u64)(s->channel & 0xffff) << 32) |
	       ((__u64)(s->id & 0xffff) << 16) | (s->lun & 0xffff);
}

SEC("tracepoint/scsi/scsi_dispatch_cmd_error")
int scsi_refused(struct trace_event_raw_scsi_dispatch_cmd_error___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_SCSI_DISPATCH);
	e.u.scsi.host = rec->host_no;
	e.u.scsi.channel = rec->channel;
	e.u.scsi.id = rec->id;
	e.u.scsi.lun = rec->lun;
	e.u.scsi.result = rec->rtn;
	e.u.scsi.opcode = rec->opcode;
	e.key_id = scsi_key(&e.u.scsi);
	submit(rec, &e);
	return 0;
}

static __always_inline void scsi_done(struct trace_event_raw_scsi_cmd_done_timeout_template___pa *rec,
				      __u32 kind)
{
	struct pa_health_event e = {};

	event_init(&e, kind);
	e.u.scsi.host = rec->host_no;
	e.u.scsi.channel = rec->channel;
	e.u.scsi.id = rec->id;
	e.u.scsi.lun = rec->lun;
	e.u.scsi.result = rec->result;
	e.u.scsi.opcode = rec->opcode;
	e.key_id = scsi_key(&e.u.scsi);
	submit(rec, &e);
}

SEC("tracepoint/scsi/scsi_dispatch_cmd_timeout")
int scsi_timeout(struct trace_event_raw_scsi_cmd_done_timeout_template___pa *rec)
{
	scsi_done(rec, PA_HK_SCSI_TIMEOUT);
	return 0;
}

/* Every SCSI command completes here: only failed ones go further. */
SEC("tracepoint/scsi/scsi_dispatch_cmd_done")
int scsi_cmd_done(struct trace_event_raw_scsi_cmd_done_timeout_template___pa *rec)
{
	if (rec->result)
		scsi_done(rec, PA_HK_SCSI_ERROR);
	return 0;
}

/* Every NVMe command completes here: only failed ones go further. */
SEC("tracepoint/nvme/nvme_complete_rq")
int nvme_done(struct trace_event_raw_nvme_complete_rq___pa *rec)
{
	struct pa_health_event e = {};
	__u16 status = rec->status;

	if (!status)
		return 0;
	event_init(&e, PA_HK_NVME_ERROR);
	bpf_probe_read_kernel_str(e.device, sizeof(e.device), &rec->disk);
	e.u.nvme.ctrl_id = rec->ctrl_id;
	e.u.nvme.qid = rec->qid;
	e.u.nvme.cid = rec->cid;
	e.u.nvme.result = rec->result;
	e.u.nvme.retries = rec->retries;
	e.u.nvme.flags = rec->flags;
	e.u.nvme.status = status;
	e.key_id = e.device[0] ? pa_name_hash(e.device) : (__u64)(__u32)rec->ctrl_id;
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/ras/aer_event")
int aer_event(struct trace_event_raw_aer_event___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_AER);
	read_data_loc(rec, rec->__data_loc_dev_name, e.device, sizeof(e.device));
	e.u.aer.status = rec->status;
	e.u.aer.severity = rec->severity;
	if (bpf_core_field_exists(rec->tlp_header_valid) && rec->tlp_header_valid) {
		e.u.aer.tlp_valid = 1;
		bpf_probe_read_kernel(e.u.aer.tlp, sizeof(e.u.aer.tlp), &rec->tlp_header);
	}
	e.key_id = pa_name_hash(e.device);
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/mce/mce_record")
int mce_record(struct trace_event_raw_mce_record___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_MCE);
	e.u.mce.mcgcap = rec->mcgcap;
	e.u.mce.mcgstatus = rec->mcgstatus;
	e.u.mce.status = rec->status;
	e.u.mce.addr = rec->addr;
	e.u.mce.misc = rec->misc;
	if (bpf_core_field_exists(rec->synd))
		e.u.mce.synd = rec->synd;
	if (bpf_core_field_exists(rec->ipid))
		e.u.mce.ipid = rec->ipid;
	e.u.mce.ip = rec->ip;
	e.u.mce.tsc = rec->tsc;
	e.u.mce.walltime = rec->walltime;
	e.u.mce.cpu = rec->cpu;
	e.u.mce.cpuid = rec->cpuid;
	e.u.mce.apicid = rec->apicid;
	e.u.mce.socketid = rec->socketid;
	e.u.mce.cs = rec->cs;
	e.u.mce.bank = rec->bank;
	e.u.mce.cpuvendor = rec->cpuvendor;
	e.key_id = rec->bank;		/* a failing bank repeats; other banks still show */
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/net/net_dev_xmit_timeout")
int tx_timeout(struct trace_event_raw_net_dev_xmit_timeout___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_TX_TIMEOUT);
	read_data_loc(rec, rec->__data_loc_name, e.device, sizeof(e.device));
	read_data_loc(rec, rec->__data_loc_driver, e.driver, sizeof(e.driver));
	e.u.tx.queue = rec->queue_index;
	e.key_id = pa_name_hash(e.device);
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/devlink/devlink_health_report")
int devlink_report(struct trace_event_raw_devlink_health_report___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_DEVLINK);
	read_data_loc(rec, rec->__data_loc_dev_name, e.device, sizeof(e.device));
	read_data_loc(rec, rec->__data_loc_driver_name, e.driver, sizeof(e.driver));
	read_data_loc(rec, rec->__data_loc_reporter_name, e.detail, PA_HEALTH_REPORTER_LEN);
	read_data_loc(rec, rec->__data_loc_msg, e.detail + PA_HEALTH_REPORTER_LEN,
		      sizeof(e.detail) - PA_HEALTH_REPORTER_LEN);
	/* One key per device and reporter: a flapping reporter hides no other. */
	e.key_id = pa_name_hash(e.device) ^ pa_name_hash(e.detail);
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/oom/mark_victim")
int oom_victim(struct trace_event_raw_mark_victim___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_OOM_KILL);
	e.u.oom.pid = rec->pid;
	if (bpf_core_field_exists(rec->__data_loc_comm))
		read_data_loc(rec, rec->__data_loc_comm, e.u.oom.comm, sizeof(e.u.oom.comm));
	if (bpf_core_field_exists(rec->total_vm)) {
		e.u.oom.has_memory = 1;
		e.u.oom.total_vm_kb = rec->total_vm;
		e.u.oom.anon_rss_kb = rec->anon_rss;
		e.u.oom.file_rss_kb = rec->file_rss;
		e.u.oom.shmem_rss_kb = rec->shmem_rss;
	}
	if (bpf_core_field_exists(rec->uid))
		e.u.oom.uid = rec->uid;
	if (bpf_core_field_exists(rec->pgtables))
		e.u.oom.pgtables_kb = rec->pgtables;
	if (bpf_core_field_exists(rec->oom_score_adj))
		e.u.oom.oom_score_adj = rec->oom_score_adj;
	/* A runaway program respawned over and over is one key, by its name. */
	e.key_id = pa_name_hash(e.u.oom.comm);
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/error_report/error_report_end")
int error_report(struct trace_event_raw_error_report_template___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_ERROR_REPORT);
	e.u.report.detector = rec->error_detector;
	e.u.report.id = rec->id;
	e.key_id = e.u.report.detector;
	submit(rec, &e);
	return 0;
}

SEC("tracepoint/module/module_load")
int module_load(struct trace_event_raw_module_load___pa *rec)
{
	struct pa_health_event e = {};

	event_init(&e, PA_HK_MODULE_LOAD);
	read_data_loc(rec, rec->__data_loc_name, e.driver, sizeof(e.driver));
	e.u.module.taints = rec->taints;
	e.key_id = pa_name_hash(e.driver);
	submit(rec, &e);
	return 0;
}
