// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_env.h"
#include "btf_enums.h"
#include "doctor.h"
#include "health_bpf.h"
#include "health_decode.h"
#include "health.skel.h"
#include "hist.h"
#include "probe_common.h"
#include "tracefs.h"

#define PERF_BUFFER_PAGES 16
#define MAX_PROGS 4

/*
 * The sources, in enum health_source_id order. `record` names the
 * trace_event_raw_* type a classic tracepoint program reads with CO-RE: it
 * must be in the kernel's BTF (or its module's) for the program to load.
 */
static const struct source_def {
	const char *cat, *name;		/* the tracepoint */
	const char *name2;		/* a second one needed in the same category */
	const char *record;
	const char *what;
} source_defs[HEALTH_SRC_COUNT] = {
	[HEALTH_SRC_IRQ] = { "irq", "irq_handler_entry", "irq_handler_exit", NULL,
			     "hard-IRQ handler time per IRQ line" },
	[HEALTH_SRC_SOFTIRQ] = { "irq", "softirq_entry", "softirq_exit", NULL,
				 "soft-IRQ time per vector" },
	[HEALTH_SRC_BLOCK] = { "block", "block_rq_error", NULL, NULL, "block request errors" },
	[HEALTH_SRC_SCSI_DISPATCH] = { "scsi", "scsi_dispatch_cmd_error", NULL,
				       "trace_event_raw_scsi_dispatch_cmd_error",
				       "SCSI commands the host refused" },
	[HEALTH_SRC_SCSI_TIMEOUT] = { "scsi", "scsi_dispatch_cmd_timeout", NULL,
				      "trace_event_raw_scsi_cmd_done_timeout_template",
				      "SCSI command timeouts" },
	[HEALTH_SRC_SCSI_DONE] = { "scsi", "scsi_dispatch_cmd_done", NULL,
				   "trace_event_raw_scsi_cmd_done_timeout_template",
				   "SCSI commands completed with an error" },
	[HEALTH_SRC_NVME] = { "nvme", "nvme_complete_rq", NULL, "trace_event_raw_nvme_complete_rq",
			      "NVMe commands completed with an error status" },
	[HEALTH_SRC_AER] = { "ras", "aer_event", NULL, "trace_event_raw_aer_event",
			     "PCIe AER errors" },
	[HEALTH_SRC_MCE] = { "mce", "mce_record", NULL, "trace_event_raw_mce_record",
			     "machine-check records" },
	[HEALTH_SRC_TX_TIMEOUT] = { "net", "net_dev_xmit_timeout", NULL,
				    "trace_event_raw_net_dev_xmit_timeout",
				    "network transmit timeouts" },
	[HEALTH_SRC_DEVLINK] = { "devlink", "devlink_health_report", NULL,
				 "trace_event_raw_devlink_health_report",
				 "devlink health reports" },
	[HEALTH_SRC_OOM] = { "oom", "mark_victim", NULL, "trace_event_raw_mark_victim",
			     "OOM kills" },
	[HEALTH_SRC_ERROR_REPORT] = { "error_report", "error_report_end", NULL,
				      "trace_event_raw_error_report_template",
				      "KFENCE/KASAN/WARN error reports" },
	[HEALTH_SRC_MODULE] = { "module", "module_load", NULL, "trace_event_raw_module_load",
				"module loads" },
};

/* What the agent remembers per IRQ line or vector between reads: sums over
 * CPUs, which is enough for wrap-safe 32-bit bucket deltas (the sum of the
 * per-CPU deltas is the delta of the sums, modulo 2^32), and per-CPU
 * maxima to tell which CPU set a new one.
 */
struct time_state {
	uint32_t irq;
	bool named;
	char name[PA_HEALTH_NAME_LEN];
	uint64_t count, total_ns;
	uint32_t hist[PA_HIST_BUCKETS];
	uint64_t *max;		/* [ncpus] */
};

struct key_state {
	struct pa_health_key key;
	uint64_t suppressed;
};

struct health_probe {
	struct health_bpf *skel;
	struct probe_stream stream;
	health_probe_event_fn on_event;
	void *ctx;
	int ncpus;
	struct pa_irq_time *cur;		/* [ncpus] scratch */
	struct time_state *irqs;
	size_t nirqs, capirqs;
	struct time_state softirqs[PA_HEALTH_SOFTIRQS];
	struct key_state *keys;
	size_t nkeys, capkeys;
	struct probe_counters counters;
	struct health_source_info info[HEALTH_SRC_COUNT];
	struct bpf_link *links[HEALTH_SRC_COUNT][MAX_PROGS];
	bool block_via_complete;
	char describe[160];
};

static void deliver(void *ctx, const void *event)
{
	struct health_probe *p = ctx;

	p->on_event(p->ctx, event);
}

/* ---- what this kernel has ---------------------------------------------- */

/* tp_btf needs the tracepoint's BTF type; raw_tp only the tracepoint. */
static bool have_tp_btf(const char *tp)
{
	const struct btf *btf = btf_vmlinux();
	char name[96];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf && btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0;
}

/* A struct in the BTF of a loaded module (the tracepoints of scsi_mod,
 * nvme_core... are described there, not in vmlinux).
 */
static bool module_btf_has_struct(const char *name)
{
	const struct btf *vmlinux = btf_vmlinux();
	struct bpf_btf_info info;
	char mod[64];
	__u32 id = 0, len;
	bool found = false;
	int fd;

	while (!found && bpf_btf_get_next_id(id, &id) == 0) {
		fd = bpf_btf_get_fd_by_id(id);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		info.name = (__u64)(unsigned long)mod;
		info.name_len = sizeof(mod);
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && info.kernel_btf &&
		    strcmp(mod, "vmlinux")) {
			struct btf *b = btf__load_from_kernel_by_id_split(id, (struct btf *)vmlinux);

			if (b) {
				found = btf__find_by_name_kind(b, name, BTF_KIND_STRUCT) > 0;
				btf__free(b);
			}
		}
		close(fd);
	}
	return found;
}

static bool kernel_has_struct(const char *name)
{
	const struct btf *btf = btf_vmlinux();

	if (btf && btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT) > 0)
		return true;
	return btf && module_btf_has_struct(name);
}

/* Whether a source can attach here; why not in info->why_not. */
static bool source_available(int id, struct health_source_info *info, bool *via_complete)
{
	const struct source_def *d = &source_defs[id];

	if (id == HEALTH_SRC_BLOCK && !tracepoint_exists("block", "block_rq_error")) {
		if (tracepoint_exists("block", "block_rq_complete")) {
			*via_complete = true;
			info->tracepoint = "block:block_rq_complete";
			return true;
		}
		snprintf(info->why_not, sizeof(info->why_not),
			 "tracepoints block:block_rq_error and block_rq_complete absent");
		return false;
	}
	if (!tracepoint_exists(d->cat, d->name) || (d->name2 && !tracepoint_exists(d->cat, d->name2))) {
		snprintf(info->why_not, sizeof(info->why_not), "tracepoint %s:%s%s%s absent", d->cat,
			 d->name, d->name2 ? "/" : "", d->name2 ? d->name2 : "");
		return false;
	}
	if (d->record && !kernel_has_struct(d->record)) {
		snprintf(info->why_not, sizeof(info->why_not),
			 "tracepoint present but its record (struct %s) is not in the kernel's BTF",
			 d->record);
		return false;
	}
	return true;
}

/* The programs of a source, for the chosen flavour. */
static int source_programs(struct health_bpf *s, int id, bool btf, bool via_complete,
			   struct bpf_program **p)
{
	switch (id) {
	case HEALTH_SRC_IRQ:
		p[0] = btf ? s->progs.irq_entry_btf : s->progs.irq_entry_raw;
		p[1] = btf ? s->progs.irq_exit_btf : s->progs.irq_exit_raw;
		return 2;
	case HEALTH_SRC_SOFTIRQ:
		p[0] = btf ? s->progs.sirq_entry_btf : s->progs.sirq_entry_raw;
		p[1] = btf ? s->progs.sirq_exit_btf : s->progs.sirq_exit_raw;
		return 2;
	case HEALTH_SRC_BLOCK:
		if (via_complete)
			p[0] = btf ? s->progs.rq_done_btf : s->progs.rq_done_raw;
		else
			p[0] = btf ? s->progs.rq_error_btf : s->progs.rq_error_raw;
		return 1;
	case HEALTH_SRC_SCSI_DISPATCH: p[0] = s->progs.scsi_refused; return 1;
	case HEALTH_SRC_SCSI_TIMEOUT: p[0] = s->progs.scsi_timeout; return 1;
	case HEALTH_SRC_SCSI_DONE: p[0] = s->progs.scsi_cmd_done; return 1;
	case HEALTH_SRC_NVME: p[0] = s->progs.nvme_done; return 1;
	case HEALTH_SRC_AER: p[0] = s->progs.aer_event; return 1;
	case HEALTH_SRC_MCE: p[0] = s->progs.mce_record; return 1;
	case HEALTH_SRC_TX_TIMEOUT: p[0] = s->progs.tx_timeout; return 1;
	case HEALTH_SRC_DEVLINK: p[0] = s->progs.devlink_report; return 1;
	case HEALTH_SRC_OOM: p[0] = s->progs.oom_victim; return 1;
	case HEALTH_SRC_ERROR_REPORT: p[0] = s->progs.error_report; return 1;
	case HEALTH_SRC_MODULE: p[0] = s->progs.module_load; return 1;
	}
	return 0;
}

/* Decide which sources run (info[].attached, until attaching says
 * otherwise); returns how many.
 */
static int choose_sources(struct health_probe *p, const struct health_probe_opts *o)
{
	int id, chosen = 0;

	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		struct health_source_info *info = &p->info[id];
		bool via_complete = false;

		info->tracepoint = NULL;
		info->what = source_defs[id].what;
		if (o->no_irq && (id == HEALTH_SRC_IRQ || id == HEALTH_SRC_SOFTIRQ)) {
			snprintf(info->why_not, sizeof(info->why_not), "turned off (--no-irq)");
			continue;
		}
		if (!source_available(id, info, &via_complete))
			continue;
		if (id == HEALTH_SRC_BLOCK)
			p->block_via_complete = via_complete;
		info->attached = true;
		chosen++;
	}
	return chosen;
}

/* Programs on for the chosen sources, off for the others. */
static void select_programs(struct health_probe *p, bool btf)
{
	struct bpf_program *progs[MAX_PROGS], *prog;
	int id, i, n;

	bpf_object__for_each_program(prog, p->skel->obj)
		bpf_program__set_autoload(prog, false);
	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		if (!p->info[id].attached)
			continue;
		n = source_programs(p->skel, id, btf, p->block_via_complete, progs);
		for (i = 0; i < n; i++)
			bpf_program__set_autoload(progs[i], true);
	}
}

static void fill_tracepoint_names(struct health_probe *p)
{
	static char names[HEALTH_SRC_COUNT][96];
	int id;

	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		const struct source_def *d = &source_defs[id];

		if (p->info[id].tracepoint)
			continue;
		snprintf(names[id], sizeof(names[id]), "%s:%s%s%s", d->cat, d->name,
			 d->name2 ? "/" : "", d->name2 ? d->name2 : "");
		p->info[id].tracepoint = names[id];
	}
}

static void configure(struct health_probe *p, const struct health_probe_opts *o, bool ringbuf)
{
	struct health_bpf *s = p->skel;
	uint32_t burst = o->burst ? o->burst : HEALTH_DEFAULT_BURST;

	if (o->rate) {
		s->rodata->rate_interval_ns = 1000000000ULL / o->rate;
		s->rodata->rate_tolerance_ns = (uint64_t)(burst - 1) * s->rodata->rate_interval_ns;
	}
	s->rodata->use_ringbuf = ringbuf;
	if (!ringbuf)
		probe_events_as_perfbuf(s->maps.health_events);
}

/* A fresh skeleton with the chosen sources' programs, loaded. */
static int load_skeleton(struct health_probe *p, const struct health_probe_opts *o, bool btf,
			 bool ringbuf)
{
	health_bpf__destroy(p->skel);
	p->skel = health_bpf__open();
	if (!p->skel)
		return -errno;
	select_programs(p, btf);
	configure(p, o, ringbuf);
	return health_bpf__load(p->skel);
}

/*
 * The chosen sources did not load together: one of them does not on this
 * kernel (a verifier or CO-RE surprise). Try each alone, leave out those
 * that fail (saying why), and load the rest; the others keep running.
 */
static int load_what_loads(struct health_probe *p, const struct health_probe_opts *o, bool btf,
			   bool ringbuf)
{
	bool chosen[HEALTH_SRC_COUNT];
	int id, k, left = 0;

	for (id = 0; id < HEALTH_SRC_COUNT; id++)
		chosen[id] = p->info[id].attached;
	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		int ret;

		if (!chosen[id])
			continue;
		for (k = 0; k < HEALTH_SRC_COUNT; k++)
			p->info[k].attached = k == id;
		ret = load_skeleton(p, o, btf, ringbuf);
		if (ret) {
			snprintf(p->info[id].why_not, sizeof(p->info[id].why_not),
				 "load failed: %s%s%s", strerror(-ret),
				 *env_last_libbpf_warning() ? "; " : "", env_last_libbpf_warning());
			chosen[id] = false;
		}
	}
	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		p->info[id].attached = chosen[id];
		left += chosen[id];
	}
	return left ? load_skeleton(p, o, btf, ringbuf) : -ENOENT;
}

/* A source's programs, exits before entries: a handler is never timed
 * from half a pair. Returns 0 or -errno, with nothing left attached.
 */
static int attach_source(struct health_probe *p, int id, bool btf)
{
	struct bpf_program *progs[MAX_PROGS];
	struct probe_attach order[MAX_PROGS];
	int i, n;

	n = source_programs(p->skel, id, btf, p->block_via_complete, progs);
	for (i = 0; i < n; i++)
		order[i] = (struct probe_attach){ progs[n - 1 - i], &p->links[id][n - 1 - i] };
	return probe_attach_in_order(order, n);
}

/* Each source on its own: one that fails to attach (its module went away
 * meanwhile) is reported, the others run.
 */
static int attach_sources(struct health_probe *p, bool btf)
{
	int id, ret, attached = 0;

	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		struct health_source_info *info = &p->info[id];

		if (!info->attached)
			continue;
		ret = attach_source(p, id, btf);
		if (ret) {
			snprintf(info->why_not, sizeof(info->why_not), "attach failed: %s",
				 strerror(-ret));
			info->attached = false;
			continue;
		}
		attached++;
	}
	return attached;
}

static int alloc_state(struct health_probe *p)
{
	int v;

	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->cur = calloc(p->ncpus, sizeof(*p->cur));
	if (!p->cur ||
	    probe_counters_init(&p->counters, p->ncpus, sizeof(struct pa_health_counters)))
		return -ENOMEM;
	for (v = 0; v < PA_HEALTH_SOFTIRQS; v++) {
		p->softirqs[v].irq = v;
		p->softirqs[v].max = calloc(p->ncpus, sizeof(uint64_t));
		if (!p->softirqs[v].max)
			return -ENOMEM;
	}
	return 0;
}

static const char *first_failure(const struct health_probe *p)
{
	int id;

	for (id = 0; id < HEALTH_SRC_COUNT; id++)
		if (strstr(p->info[id].why_not, "failed"))
			return p->info[id].why_not;
	return "?";
}

static void describe(struct health_probe *p, bool btf, bool ringbuf, int attached)
{
	snprintf(p->describe, sizeof(p->describe), "%s, %s, %d of %d sources%s", btf ? "tp_btf" : "raw_tp",
		 ringbuf ? "ring buffer" : "perf buffer", attached, HEALTH_SRC_COUNT,
		 p->block_via_complete ? ", block errors from block_rq_complete" : "");
}

int health_probe_open(struct health_probe **out, const struct health_probe_opts *o,
		      health_probe_event_fn on_event, void *ctx, char *err, size_t len)
{
	bool btf = !o->raw_tp && have_tp_btf("irq_handler_entry") && have_tp_btf("block_rq_complete");
	bool ringbuf = probe_use_ringbuf(o->perfbuf);
	struct health_probe *p;
	const char *stage;
	char why[400];
	int ret, attached;

	if (env_check_privileges(why, sizeof(why)) || env_check_btf(why, sizeof(why))) {
		snprintf(err, len, "health probe: %s", why);
		return -EPERM;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->on_event = on_event;
	p->ctx = ctx;
	stage = "open";
	if ((ret = alloc_state(p)))
		goto fail;
	if (!choose_sources(p, o)) {
		fill_tracepoint_names(p);
		snprintf(err, len, "health probe: none of its tracepoints exists on this kernel "
			 "(is tracefs readable? see 'perfagent doctor')");
		ret = -ENOENT;
		goto out;
	}
	fill_tracepoint_names(p);
	stage = "load";
	ret = load_skeleton(p, o, btf, ringbuf);
	if (ret)
		ret = load_what_loads(p, o, btf, ringbuf);
	if (ret)
		goto fail;
	stage = "stream";
	if ((ret = probe_stream_open(&p->stream, p->skel->maps.health_events, ringbuf,
				     PERF_BUFFER_PAGES, sizeof(struct pa_health_event),
				     deliver, p)))
		goto fail;
	attached = attach_sources(p, btf);
	if (!attached) {
		snprintf(err, len, "health probe: no source could be attached (%s)",
			 first_failure(p));
		ret = -ENOENT;
		goto out;
	}
	describe(p, btf, ringbuf, attached);
	*out = p;
	return 0;
fail:
	snprintf(err, len, "health probe: %s failed: %s%s%s", stage, strerror(-ret),
		 *env_last_libbpf_warning() ? "; " : "", env_last_libbpf_warning());
out:
	health_probe_close(p);
	return ret;
}

int health_probe_poll(struct health_probe *p, int timeout_ms)
{
	return probe_stream_poll(&p->stream, timeout_ms);
}

int health_probe_poll_fd(const struct health_probe *p)
{
	return probe_stream_fd(&p->stream);
}

/* ---- reading ------------------------------------------------------------ */

/* Per-interval max: exact when some CPU set a new maximum that lies in the
 * interval's top bucket, else that bucket's upper bound, capped by the
 * all-time maximum.
 */
static uint64_t interval_max(const uint64_t *hist, uint64_t new_max, uint64_t all_max)
{
	int i;

	for (i = PA_HIST_BUCKETS - 1; i >= 0; i--) {
		if (hist[i]) {
			uint64_t hi = hist_bucket_high(i) - 1;

			if (new_max >= hist_bucket_low(i))
				return new_max;
			return hi < all_max ? hi : all_max;
		}
	}
	return new_max;
}

/* Sum the per-CPU values in p->cur and take the delta against st. */
static void take_delta(struct health_probe *p, struct time_state *st, struct health_irq_totals *t)
{
	uint64_t count = 0, total = 0, new_max = 0, all_max = 0;
	uint32_t hist[PA_HIST_BUCKETS];
	int cpu, b;

	memset(hist, 0, sizeof(hist));
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct pa_irq_time *c = &p->cur[cpu];

		count += c->count;
		total += c->total_ns;
		if (c->max_ns > st->max[cpu] && c->max_ns > new_max)
			new_max = c->max_ns;
		if (c->max_ns > all_max)
			all_max = c->max_ns;
		st->max[cpu] = c->max_ns;
		for (b = 0; b < PA_HIST_BUCKETS; b++)
			hist[b] += c->hist[b];
	}
	memset(t, 0, sizeof(*t));
	t->irq = st->irq;
	memcpy(t->name, st->name, sizeof(t->name));
	t->count = count - st->count;
	t->total_ns = total - st->total_ns;
	for (b = 0; b < PA_HIST_BUCKETS; b++) {
		t->hist[b] = (uint32_t)(hist[b] - st->hist[b]);
		st->hist[b] = hist[b];
	}
	st->count = count;
	st->total_ns = total;
	t->max_ns = t->count ? interval_max(t->hist, new_max, all_max) : 0;
}

static struct time_state *irq_state(struct health_probe *p, uint32_t irq)
{
	struct time_state *st;
	size_t i;

	for (i = 0; i < p->nirqs; i++)
		if (p->irqs[i].irq == irq)
			return &p->irqs[i];
	if (p->nirqs == p->capirqs) {
		size_t cap = p->capirqs ? 2 * p->capirqs : 32;

		st = realloc(p->irqs, cap * sizeof(*st));
		if (!st)
			return NULL;
		p->irqs = st;
		p->capirqs = cap;
	}
	st = &p->irqs[p->nirqs];
	memset(st, 0, sizeof(*st));
	st->irq = irq;
	st->max = calloc(p->ncpus, sizeof(uint64_t));
	if (!st->max)
		return NULL;
	p->nirqs++;
	return st;
}

static void irq_name(struct health_probe *p, struct time_state *st)
{
	char name[PA_HEALTH_NAME_LEN] = "";

	if (st->named)
		return;
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.irq_names), &st->irq, name) == 0) {
		memcpy(st->name, name, sizeof(st->name));
		st->name[sizeof(st->name) - 1] = '\0';
		st->named = true;
	}
}

static int read_irqs(struct health_probe *p, struct health_read *r)
{
	int fd = bpf_map__fd(p->skel->maps.irq_stats);
	struct health_irq_totals t;
	struct time_state *st;
	__u32 key, next;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, p->cur)) {
			if (errno == ENOENT)
				continue;
			return -errno;
		}
		if (!(st = irq_state(p, key)))
			return -ENOMEM;
		irq_name(p, st);
		take_delta(p, st, &t);
		if (t.count && health_irq_set_add(&r->irqs, &t))
			return -ENOMEM;
	}
	return 0;
}

static int read_softirqs(struct health_probe *p, struct health_read *r)
{
	int fd = bpf_map__fd(p->skel->maps.softirq_stats);
	unsigned int n = health_softirq_count();
	__u32 vec;

	r->nsoftirqs = n;
	for (vec = 0; vec < n && vec < PA_HEALTH_SOFTIRQS; vec++) {
		struct time_state *st = &p->softirqs[vec];

		if (bpf_map_lookup_elem(fd, &vec, p->cur))
			return -errno;
		if (!st->named) {
			health_softirq_name(vec, st->name, sizeof(st->name));
			st->named = true;
		}
		take_delta(p, st, &r->softirqs[vec]);
	}
	return 0;
}

static struct key_state *key_state(struct health_probe *p, const struct pa_health_key *key)
{
	struct key_state *ks;
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (p->keys[i].key.kind == key->kind && p->keys[i].key.id == key->id)
			return &p->keys[i];
	if (p->nkeys == p->capkeys) {
		size_t cap = p->capkeys ? 2 * p->capkeys : 16;

		ks = realloc(p->keys, cap * sizeof(*ks));
		if (!ks)
			return NULL;
		p->keys = ks;
		p->capkeys = cap;
	}
	ks = &p->keys[p->nkeys++];
	memset(ks, 0, sizeof(*ks));
	ks->key = *key;
	return ks;
}

static int supp_add(struct health_read *r, const struct pa_health_key *key,
		    const struct pa_health_bucket *b, uint64_t count)
{
	struct health_suppressed *s;

	if (r->nsupp == r->capsupp) {
		size_t cap = r->capsupp ? 2 * r->capsupp : 8;

		s = realloc(r->supp, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		r->supp = s;
		r->capsupp = cap;
	}
	s = &r->supp[r->nsupp++];
	s->key = *key;
	memcpy(s->device, b->device, sizeof(s->device));
	s->device[sizeof(s->device) - 1] = '\0';
	s->count = count;
	return 0;
}

static int read_buckets(struct health_probe *p, struct health_read *r)
{
	int fd = bpf_map__fd(p->skel->maps.health_bucket), ret;
	struct pa_health_key key, next;
	struct pa_health_bucket b;
	struct key_state *ks;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &b))
			continue;
		if (!(ks = key_state(p, &key)))
			return -ENOMEM;
		if (b.suppressed == ks->suppressed)
			continue;
		ret = supp_add(r, &key, &b, b.suppressed - ks->suppressed);
		if (ret)
			return ret;
		r->losses.suppressed += b.suppressed - ks->suppressed;
		ks->suppressed = b.suppressed;
	}
	return 0;
}

/* The counters' suppressed is left out: read_buckets counts it per key. */
static int read_counters(struct health_probe *p, struct health_losses *l)
{
	struct pa_health_counters d;
	int ret = probe_counters_read(&p->counters, p->skel->maps.health_counters, &d);

	if (ret)
		return ret;
	l->events_sent += d.events_sent;
	l->events_lost += d.events_lost;
	l->keys_full += d.keys_full;
	l->irq_full += d.irq_full;
	l->irq_unmatched += d.irq_unmatched;
	return 0;
}

int health_probe_read(struct health_probe *p, struct health_read *r)
{
	int ret;

	health_irq_set_clear(&r->irqs);
	r->nsupp = 0;
	memset(r->softirqs, 0, sizeof(r->softirqs));
	r->nsoftirqs = 0;
	memset(&r->losses, 0, sizeof(r->losses));
	if (p->info[HEALTH_SRC_IRQ].attached && (ret = read_irqs(p, r)))
		return ret;
	if (p->info[HEALTH_SRC_SOFTIRQ].attached && (ret = read_softirqs(p, r)))
		return ret;
	if ((ret = read_buckets(p, r)))
		return ret;
	return read_counters(p, &r->losses);
}

void health_read_free(struct health_read *r)
{
	health_irq_set_free(&r->irqs);
	free(r->supp);
	memset(r, 0, sizeof(*r));
}

const char *health_probe_describe(const struct health_probe *p)
{
	return p->describe;
}

const struct health_source_info *health_probe_sources(const struct health_probe *p)
{
	return p->info;
}

struct bpf_object *health_probe_bpf_object(const struct health_probe *p)
{
	return p->skel->obj;
}

void health_probe_close(struct health_probe *p)
{
	size_t i;
	int id, k;

	if (!p)
		return;
	for (id = 0; id < HEALTH_SRC_COUNT; id++)
		for (k = 0; k < MAX_PROGS; k++)
			bpf_link__destroy(p->links[id][k]);
	probe_stream_close(&p->stream);
	health_bpf__destroy(p->skel);
	for (i = 0; i < p->nirqs; i++)
		free(p->irqs[i].max);
	for (i = 0; i < PA_HEALTH_SOFTIRQS; i++)
		free(p->softirqs[i].max);
	free(p->irqs);
	free(p->keys);
	free(p->cur);
	probe_counters_free(&p->counters);
	free(p);
}

void health_irq_totals_add(struct health_irq_totals *sum, const struct health_irq_totals *d)
{
	int b;

	if (!d->count)
		return;
	if (!sum->name[0])
		memcpy(sum->name, d->name, sizeof(sum->name));
	sum->irq = d->irq;
	sum->count += d->count;
	sum->total_ns += d->total_ns;
	if (d->max_ns > sum->max_ns)
		sum->max_ns = d->max_ns;
	for (b = 0; b < PA_HIST_BUCKETS; b++)
		sum->hist[b] += d->hist[b];
}

int health_irq_set_add(struct health_irq_set *s, const struct health_irq_totals *d)
{
	struct health_irq_totals *t;
	size_t i;

	if (!d->count)
		return 0;
	for (i = 0; i < s->n; i++)
		if (s->rows[i].irq == d->irq)
			break;
	if (i == s->n) {
		if (s->n == s->cap) {
			size_t cap = s->cap ? 2 * s->cap : 32;

			t = realloc(s->rows, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			s->rows = t;
			s->cap = cap;
		}
		memset(&s->rows[s->n++], 0, sizeof(*t));
	}
	health_irq_totals_add(&s->rows[i], d);
	return 0;
}

void health_irq_set_clear(struct health_irq_set *s)
{
	s->n = 0;
}

void health_irq_set_free(struct health_irq_set *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

/* ---- perfagent doctor ---------------------------------------------------- */

static void ignore_event(void *ctx, const struct pa_health_event *e)
{
	(void)ctx;
	(void)e;
}

void doctor_check_health_bpf(struct doctor_result *r)
{
	struct health_probe_opts o = { .rate = HEALTH_DEFAULT_RATE };
	const struct health_source_info *info;
	struct health_probe *p;
	char err[512], absent[DOCTOR_NOTE_LEN] = "";
	int id;

	if (!doctor_bpf_ready(r))
		return;
	if (health_probe_open(&p, &o, ignore_event, NULL, err, sizeof(err))) {
		doctor_inactive(r, "%s", err);
		return;
	}
	doctor_mechanism(r, "%s", health_probe_describe(p));
	info = health_probe_sources(p);
	/* Absent tracepoints are the norm (no SCSI, no AER here): one note
	 * lists them; anything else that kept a source out gets its own.
	 */
	for (id = 0; id < HEALTH_SRC_COUNT; id++) {
		if (info[id].attached)
			continue;
		if (strstr(info[id].why_not, "absent")) {
			const char *name = strchr(info[id].tracepoint, ':');
			size_t n = strlen(absent);

			snprintf(absent + n, sizeof(absent) - n, "%s%s", n ? ", " : "",
				 name ? name + 1 : info[id].tracepoint);
		} else {
			doctor_degraded(r, "%s (%s): %s", info[id].what, info[id].tracepoint,
					info[id].why_not);
		}
	}
	if (*absent)
		doctor_note(r, "absent (subsystem not built, or its module not loaded when "
			    "perfagent starts): %s", absent);
	if (strstr(r->mechanism, "perf buffer"))
		doctor_note(r, "fallback: perf buffer (no BPF ring buffer)");
	health_probe_close(p);
}
