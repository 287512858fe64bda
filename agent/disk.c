// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_env.h"
#include "btf_enums.h"
#include "disk.h"
#include "disk.skel.h"
#include "disk_ops.h"
#include "doctor.h"
#include "hist.h"
#include "probe_common.h"
#include "timeutil.h"
#include "tracefs.h"

#define PERF_BUFFER_PAGES 64

/* What the agent remembers per key between reads. */
struct key_state {
	struct pa_disk_key key;
	struct pa_disk_stats *prev;	/* [ncpus] */
	struct disk_rolling *rolling;	/* adaptive only */
	uint64_t threshold;
};

struct disk_probe {
	struct disk_bpf *skel;
	struct probe_stream stream;
	disk_event_fn on_event;
	void *ctx;
	bool adaptive;
	uint64_t stale_after_ns;
	int ncpus;
	struct key_state *keys;
	size_t nkeys, capkeys;
	struct pa_disk_stats *cur;		/* [ncpus] scratch */
	struct pa_disk_rq_set *rqs;		/* disk_rqs, mapped */
	struct probe_counters counters;
	uint64_t prev_complete_misses, prev_other_misses;
	char describe[160];
	char missing[160];
};

void disk_tracepoints_probe(struct disk_tracepoints *tp)
{
	tp->io_start = tracepoint_exists("block", "block_io_start");
	tp->insert = tracepoint_exists("block", "block_rq_insert");
	tp->issue = tracepoint_exists("block", "block_rq_issue");
	tp->requeue = tracepoint_exists("block", "block_rq_requeue");
	tp->merge = tracepoint_exists("block", "block_rq_merge");
	tp->complete = tracepoint_exists("block", "block_rq_complete");
}

static void deliver(void *ctx, const void *event)
{
	struct disk_probe *p = ctx;

	p->on_event(p->ctx, event);
}

/* tp_btf needs the tracepoint's BTF type; raw_tp only the tracepoint. */
static bool have_tp_btf(void)
{
	const struct btf *btf = btf_vmlinux();

	return btf && btf__find_by_name_kind(btf, "btf_trace_block_rq_issue", BTF_KIND_TYPEDEF) > 0;
}

static void set_programs(struct disk_bpf *s, const struct disk_tracepoints *tp, bool btf)
{
	bpf_program__set_autoload(s->progs.io_start_btf, btf && tp->io_start);
	bpf_program__set_autoload(s->progs.rq_insert_btf, btf && tp->insert);
	bpf_program__set_autoload(s->progs.rq_issue_btf, btf && tp->issue);
	bpf_program__set_autoload(s->progs.rq_requeue_btf, btf && tp->requeue);
	bpf_program__set_autoload(s->progs.rq_merge_btf, btf && tp->merge);
	bpf_program__set_autoload(s->progs.rq_complete_btf, btf && tp->complete);
	bpf_program__set_autoload(s->progs.io_start_raw, !btf && tp->io_start);
	bpf_program__set_autoload(s->progs.rq_insert_raw, !btf && tp->insert);
	bpf_program__set_autoload(s->progs.rq_issue_raw, !btf && tp->issue);
	bpf_program__set_autoload(s->progs.rq_requeue_raw, !btf && tp->requeue);
	bpf_program__set_autoload(s->progs.rq_merge_raw, !btf && tp->merge);
	bpf_program__set_autoload(s->progs.rq_complete_raw, !btf && tp->complete);
}

static void note_missing(struct disk_probe *p, const struct disk_tracepoints *tp)
{
	snprintf(p->missing, sizeof(p->missing), "%s%s%s%s",
		 tp->io_start ? "" : "block_io_start,",
		 tp->insert ? "" : "block_rq_insert,",
		 tp->requeue ? "" : "block_rq_requeue,",
		 tp->merge ? "" : "block_rq_merge,");
	if (*p->missing)
		p->missing[strlen(p->missing) - 1] = '\0';
}

static void configure(struct disk_probe *p, const struct disk_probe_opts *o,
		      const struct disk_tracepoints *tp, bool btf, bool ringbuf)
{
	struct disk_bpf *s = p->skel;
	uint32_t burst = o->burst ? o->burst : o->rate;

	s->rodata->filter_dev = o->dev;
	s->rodata->filter_tgid = o->pid;
	s->rodata->filter_cgroup_on = o->cgroup != NULL;
	s->rodata->op_mask = disk_ops_mask(disk_ops_kernel());
	s->rodata->slow_ns = o->slow_ns;
	s->rodata->slow_adaptive = o->slow_adaptive;
	if (o->rate) {
		s->rodata->rate_interval_ns = 1000000000ULL / o->rate;
		s->rodata->rate_tolerance_ns = (uint64_t)(burst ? burst - 1 : 0) *
					       s->rodata->rate_interval_ns;
	}
	s->rodata->use_ringbuf = ringbuf;
	s->rodata->have_io_start = tp->io_start;
	set_programs(s, tp, btf);
	if (!ringbuf)
		probe_events_as_perfbuf(s->maps.disk_events);
	note_missing(p, tp);
	snprintf(p->describe, sizeof(p->describe), "%s, %s, attribution at %s",
		 btf ? "tp_btf" : "raw_tp", ringbuf ? "ring buffer" : "perf buffer",
		 tp->io_start ? "block_io_start" : "insert/issue");
}

static int alloc_scratch(struct disk_probe *p)
{
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->cur = calloc(p->ncpus, sizeof(*p->cur));
	if (!p->cur)
		return -ENOMEM;
	return probe_counters_init(&p->counters, p->ncpus, sizeof(struct pa_disk_counters));
}

static int check_required(const struct disk_tracepoints *tp, char *err, size_t len)
{
	if (tp->issue && tp->complete)
		return 0;
	snprintf(err, len, "this kernel has no block:%s tracepoint; block I/O cannot be "
		 "traced (is CONFIG_BLOCK on and tracefs readable?)",
		 tp->issue ? "block_rq_complete" : "block_rq_issue");
	return -ENOENT;
}

#define RQS_BYTES (PA_DISK_RQ_SETS * sizeof(struct pa_disk_rq_set))

/* The request table is swept from here every read (reap_stale_requests):
 * mapped, that is a walk over memory instead of a syscall per record.
 */
static int map_requests(struct disk_probe *p)
{
	void *m = mmap(NULL, RQS_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       bpf_map__fd(p->skel->maps.disk_rqs), 0);

	if (m == MAP_FAILED)
		return -errno;
	p->rqs = m;
	return 0;
}

int disk_probe_open(struct disk_probe **out, const struct disk_probe_opts *o,
		    disk_event_fn on_event, void *ctx, char *err, size_t len)
{
	bool btf = !o->raw_tp && have_tp_btf();
	bool ringbuf = probe_use_ringbuf(o->perfbuf);
	struct disk_tracepoints tp;
	struct disk_probe *p;
	const char *stage;
	int ret;

	disk_tracepoints_probe(&tp);
	if ((ret = check_required(&tp, err, len)))
		return ret;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->on_event = on_event;
	p->ctx = ctx;
	p->adaptive = o->slow_adaptive;
	p->stale_after_ns = o->stale_after_ns ? o->stale_after_ns : DISK_DEFAULT_STALE_NS;
	stage = "open";
	p->skel = disk_bpf__open();
	ret = p->skel ? alloc_scratch(p) : -errno;
	if (ret)
		goto fail;
	configure(p, o, &tp, btf, ringbuf);
	stage = "load";
	if ((ret = disk_bpf__load(p->skel)))
		goto fail;
	stage = "map the request table";
	if ((ret = map_requests(p)))
		goto fail;
	if (o->cgroup &&
	    (ret = probe_set_cgroup(p->skel->maps.disk_cgroup, o->cgroup, err, len)))
		goto out;
	stage = "stream";
	if ((ret = probe_stream_open(&p->stream, p->skel->maps.disk_events, ringbuf,
				     PERF_BUFFER_PAGES, sizeof(struct pa_disk_event), deliver, p)))
		goto fail;
	stage = "attach";
	if ((ret = disk_bpf__attach(p->skel)))
		goto fail;
	*out = p;
	return 0;
fail:
	probe_say_failure(err, len, "disk probe", stage, ret);
out:
	disk_probe_close(p);
	return ret;
}

int disk_probe_poll(struct disk_probe *p, int timeout_ms)
{
	return probe_stream_poll(&p->stream, timeout_ms);
}

static struct key_state *key_state(struct disk_probe *p, const struct pa_disk_key *key)
{
	struct key_state *ks;
	size_t i;

	for (i = 0; i < p->nkeys; i++)
		if (!memcmp(&p->keys[i].key, key, sizeof(*key)))
			return &p->keys[i];
	if (p->nkeys == p->capkeys) {
		size_t cap = p->capkeys ? 2 * p->capkeys : 16;
		struct key_state *k = realloc(p->keys, cap * sizeof(*k));

		if (!k)
			return NULL;
		p->keys = k;
		p->capkeys = cap;
	}
	ks = &p->keys[p->nkeys];
	memset(ks, 0, sizeof(*ks));
	ks->key = *key;
	ks->prev = calloc(p->ncpus, sizeof(*ks->prev));
	if (p->adaptive)
		ks->rolling = calloc(1, sizeof(*ks->rolling));
	if (!ks->prev || (p->adaptive && !ks->rolling)) {
		free(ks->prev);
		free(ks->rolling);
		return NULL;
	}
	p->nkeys++;
	return ks;
}

struct maxima {
	uint64_t new_max, all_max;
};

static void track_max(struct maxima *m, uint64_t cur, uint64_t old)
{
	if (cur > old && cur > m->new_max)
		m->new_max = cur;
	if (cur > m->all_max)
		m->all_max = cur;
}

static void add_u32_delta(uint64_t *sum, const __u32 *cur, const __u32 *old, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sum[i] += (__u32)(cur[i] - old[i]);
}

static void take_delta(struct disk_probe *p, struct key_state *ks, struct disk_totals *t)
{
	struct maxima q = { 0 }, s = { 0 }, l = { 0 };
	int cpu;

	memset(t, 0, sizeof(*t));
	t->key = ks->key;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct pa_disk_stats *c = &p->cur[cpu];
		struct pa_disk_stats *o = &ks->prev[cpu];

		track_max(&q, c->queue_max_ns, o->queue_max_ns);
		track_max(&s, c->service_max_ns, o->service_max_ns);
		track_max(&l, c->latency_max_ns, o->latency_max_ns);
		if (c->count == o->count && c->suppressed == o->suppressed)
			continue;
		t->count += c->count - o->count;
		t->bytes += c->bytes - o->bytes;
		t->errors += c->errors - o->errors;
		t->suppressed += c->suppressed - o->suppressed;
		t->queue_total_ns += c->queue_total_ns - o->queue_total_ns;
		t->service_total_ns += c->service_total_ns - o->service_total_ns;
		add_u32_delta(t->status, c->status, o->status, PA_DISK_STATUS_MAX);
		add_u32_delta(t->size_hist, c->size_hist, o->size_hist, PA_DISK_SIZE_BUCKETS);
		add_u32_delta(t->queue_hist, c->queue_hist, o->queue_hist, PA_HIST_BUCKETS);
		add_u32_delta(t->service_hist, c->service_hist, o->service_hist, PA_HIST_BUCKETS);
		add_u32_delta(t->latency_hist, c->latency_hist, o->latency_hist, PA_HIST_BUCKETS);
		*o = *c;
	}
	t->queue_max_ns = hist_interval_max(t->queue_hist, q.new_max, q.all_max);
	t->service_max_ns = hist_interval_max(t->service_hist, s.new_max, s.all_max);
	t->latency_max_ns = hist_interval_max(t->latency_hist, l.new_max, l.all_max);
}

static int push_threshold(struct disk_probe *p, struct key_state *ks, const struct disk_totals *t)
{
	uint64_t thr;

	disk_rolling_add(ks->rolling, t->latency_hist, DISK_ADAPTIVE_DECAY);
	thr = disk_rolling_p99(ks->rolling, DISK_ADAPTIVE_MIN_SAMPLES);
	if (thr == ks->threshold)
		return 0;
	if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.disk_thresh), &ks->key, &thr, BPF_ANY))
		return -errno;
	ks->threshold = thr;
	return 0;
}

static int read_losses(struct disk_probe *p, struct disk_losses *l)
{
	struct pa_disk_counters d;
	int ret = probe_counters_read(&p->counters, p->skel->maps.disk_counters, &d);

	if (ret)
		return ret;
	l->events_sent += d.events_sent;
	l->events_lost += d.events_lost;
	l->untracked += d.untracked;
	l->stats_full += d.stats_full;
	l->rq_full += d.rq_full;
	l->completions_unseen += d.completions_unseen;
	return 0;
}

static int prog_info(const struct bpf_program *prog, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);
	int fd = bpf_program__fd(prog);

	memset(info, 0, sizeof(*info));
	return fd < 0 ? -EBADF : bpf_obj_get_info_by_fd(fd, info, &len);
}

void disk_probe_cost(const struct disk_probe *p, uint64_t *run_ns, uint64_t *runs)
{
	struct bpf_program *prog;
	struct bpf_prog_info info;

	*run_ns = *runs = 0;
	bpf_object__for_each_program(prog, p->skel->obj) {
		if (prog_info(prog, &info))
			continue;
		*run_ns += info.run_time_ns;
		*runs += info.run_cnt;
	}
}

/* The kernel counts them per program (bpf_prog_info.recursion_misses). */
static void read_misses(struct disk_probe *p, struct disk_losses *l)
{
	const struct bpf_program *complete[] = { p->skel->progs.rq_complete_btf,
						 p->skel->progs.rq_complete_raw };
	struct bpf_program *prog;
	uint64_t done = 0, other = 0;

	bpf_object__for_each_program(prog, p->skel->obj) {
		struct bpf_prog_info info;

		if (prog_info(prog, &info))
			continue;
		if (prog == complete[0] || prog == complete[1])
			done += info.recursion_misses;
		else
			other += info.recursion_misses;
	}
	l->missed_completions = done - p->prev_complete_misses;
	l->missed_other = other - p->prev_other_misses;
	p->prev_complete_misses = done;
	p->prev_other_misses = other;
}

static int read_key(struct disk_probe *p, int fd, const struct pa_disk_key *key,
		    struct disk_set *set, struct disk_losses *l)
{
	struct key_state *ks = key_state(p, key);
	struct disk_totals t, *row;
	int ret;

	if (!ks)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, key, p->cur))
		return errno == ENOENT ? 0 : -errno;
	take_delta(p, ks, &t);
	if (p->adaptive && (ret = push_threshold(p, ks, &t)))
		return ret;
	t.threshold_ns = ks->threshold;
	l->suppressed += t.suppressed;
	if (!t.count && !t.suppressed)
		return 0;
	row = disk_set_get(set, key);
	if (!row)
		return -ENOMEM;
	*row = t;
	return 0;
}

/*
 * Records of requests handed to the driver longer ago than any request
 * stays there: the kernel completed them without running the probe (see
 * pa_disk_counters.completions_unseen). The probe finds such a record
 * itself only when the same request is made again, which on an idle disk
 * may be never; dropping it here counts each one once. A way is freed only
 * if it still holds the same request (the probe may reuse it meanwhile).
 */
static uint64_t reap_stale_requests(struct disk_probe *p)
{
	uint64_t now = mono_ns(), reaped = 0, key, issued;
	struct pa_disk_rq_set *set;
	size_t s;
	int w;

	for (s = 0; s < PA_DISK_RQ_SETS; s++) {
		set = &p->rqs[s];
		for (w = 0; w < PA_DISK_RQ_WAYS; w++) {
			key = __atomic_load_n(&set->rq[w], __ATOMIC_RELAXED);
			if (!key)
				continue;
			issued = __atomic_load_n(&set->rec[w].issue_ts, __ATOMIC_RELAXED);
			if (!issued || issued >= now || now - issued <= p->stale_after_ns)
				continue;
			reaped += __atomic_compare_exchange_n(&set->rq[w], &key, 0, false,
							      __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
		}
	}
	return reaped;
}

int disk_probe_read(struct disk_probe *p, struct disk_set *set, struct disk_losses *l)
{
	int fd = bpf_map__fd(p->skel->maps.disk_stats), ret;
	struct pa_disk_key key, next;
	void *prev = NULL;

	disk_set_clear(set);
	memset(l, 0, sizeof(*l));
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if ((ret = read_key(p, fd, &key, set, l)))
			return ret;
	}
	read_misses(p, l);
	if ((ret = read_losses(p, l)))
		return ret;
	l->completions_unseen += reap_stale_requests(p);
	return 0;
}

const char *disk_probe_describe(const struct disk_probe *p)
{
	return p->describe;
}

const char *disk_probe_missing(const struct disk_probe *p)
{
	return p->missing;
}

int disk_probe_poll_fd(const struct disk_probe *p)
{
	return probe_stream_fd(&p->stream);
}

struct bpf_object *disk_probe_bpf_object(const struct disk_probe *p)
{
	return p->skel->obj;
}

void disk_probe_close(struct disk_probe *p)
{
	size_t i;

	if (!p)
		return;
	probe_stream_close(&p->stream);
	if (p->rqs)
		munmap(p->rqs, RQS_BYTES);
	disk_bpf__destroy(p->skel);
	for (i = 0; i < p->nkeys; i++) {
		free(p->keys[i].prev);
		free(p->keys[i].rolling);
	}
	free(p->keys);
	free(p->cur);
	probe_counters_free(&p->counters);
	free(p);
}

struct disk_totals *disk_set_get(struct disk_set *s, const struct pa_disk_key *key)
{
	struct disk_totals *t;
	size_t i;

	for (i = 0; i < s->n; i++)
		if (!memcmp(&s->rows[i].key, key, sizeof(*key)))
			return &s->rows[i];
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;

		t = realloc(s->rows, cap * sizeof(*t));
		if (!t)
			return NULL;
		s->rows = t;
		s->cap = cap;
	}
	t = &s->rows[s->n++];
	memset(t, 0, sizeof(*t));
	t->key = *key;
	return t;
}

static void add_array(uint64_t *sum, const uint64_t *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		sum[i] += d[i];
}

static void keep_max(uint64_t *m, uint64_t v)
{
	if (v > *m)
		*m = v;
}

int disk_set_add(struct disk_set *s, const struct disk_totals *d)
{
	struct disk_totals *t = disk_set_get(s, &d->key);

	if (!t)
		return -ENOMEM;
	t->count += d->count;
	t->bytes += d->bytes;
	t->errors += d->errors;
	t->suppressed += d->suppressed;
	t->queue_total_ns += d->queue_total_ns;
	t->service_total_ns += d->service_total_ns;
	keep_max(&t->queue_max_ns, d->queue_max_ns);
	keep_max(&t->service_max_ns, d->service_max_ns);
	keep_max(&t->latency_max_ns, d->latency_max_ns);
	t->threshold_ns = d->threshold_ns;
	add_array(t->status, d->status, PA_DISK_STATUS_MAX);
	add_array(t->size_hist, d->size_hist, PA_DISK_SIZE_BUCKETS);
	add_array(t->queue_hist, d->queue_hist, PA_HIST_BUCKETS);
	add_array(t->service_hist, d->service_hist, PA_HIST_BUCKETS);
	add_array(t->latency_hist, d->latency_hist, PA_HIST_BUCKETS);
	return 0;
}

void disk_set_clear(struct disk_set *s)
{
	s->n = 0;
}

void disk_set_free(struct disk_set *s)
{
	free(s->rows);
	memset(s, 0, sizeof(*s));
}

void disk_rolling_add(struct disk_rolling *r, const uint64_t *hist, double decay)
{
	int i;

	r->total = 0;
	for (i = 0; i < PA_HIST_BUCKETS; i++) {
		r->hist[i] = r->hist[i] * decay + (double)hist[i];
		r->total += r->hist[i];
	}
}

uint64_t disk_rolling_p99(const struct disk_rolling *r, double min_samples)
{
	double rank, seen = 0;
	int i;

	if (r->total < min_samples)
		return 0;
	rank = r->total * 0.99;
	for (i = 0; i < PA_HIST_BUCKETS; i++) {
		seen += r->hist[i];
		if (seen >= rank && r->hist[i] > 0) {
			uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);

			return i == PA_HIST_BUCKETS - 1 ? lo : lo + (hi - lo - 1) / 2;
		}
	}
	return 0;
}

static void ignore_event(void *ctx, const struct pa_disk_event *e)
{
	(void)ctx;
	(void)e;
}

static void doctor_disk_notes(struct doctor_result *r, const struct disk_tracepoints *tp)
{
	const struct disk_ops *ops = disk_ops_kernel();

	if (!tp->insert)
		doctor_degraded(r, "no block:block_rq_insert tracepoint: queue time reads 0");
	if (!tp->io_start)
		doctor_note(r, "no block:block_io_start tracepoint: I/O is attributed where it "
			    "is queued or issued (the submitter's context on most paths)");
	if (!tp->requeue)
		doctor_note(r, "no block:block_rq_requeue tracepoint: a retried request's queue "
			    "time includes its earlier attempts");
	if (!tp->merge)
		doctor_note(r, "no block:block_rq_merge tracepoint: merged-away requests stay "
			    "in the in-flight table until evicted");
	if (strstr(r->mechanism, "perf buffer"))
		doctor_note(r, "fallback: perf buffer (no BPF ring buffer)");
	if (ops->ops_from_btf && ops->bits_from_btf)
		doctor_note(r, "operations from BTF: %zu in enum req_op, REQ_OP_BITS %u from "
			    "enum req_flag_bits", ops->ops.n, ops->op_bits);
	else
		doctor_degraded(r, "%s", ops->note);
}

void doctor_check_disk(struct doctor_result *r)
{
	struct disk_probe_opts o = { .rate = DISK_DEFAULT_RATE };
	struct disk_tracepoints tp;
	struct disk_probe *p;
	char err[512];

	if (!doctor_bpf_ready(r))
		return;
	disk_tracepoints_probe(&tp);
	if (check_required(&tp, err, sizeof(err))) {
		doctor_inactive(r, "%s", err);
		return;
	}
	if (disk_probe_open(&p, &o, ignore_event, NULL, err, sizeof(err))) {
		doctor_inactive(r, "%s", err);
		return;
	}
	doctor_mechanism(r, "%s", disk_probe_describe(p));
	disk_probe_close(p);
	doctor_disk_notes(r, &tp);
}
