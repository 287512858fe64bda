// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_env.h"
#include "hist.h"
#include "probe_common.h"
#include "syscall.h"
#include "syscall.skel.h"

#define PERF_BUFFER_PAGES 64

struct syscall_probe {
	struct syscall_bpf *skel;
	struct probe_stream stream;
	syscall_event_fn on_event;
	void *ctx;
	int ncpus;
	struct pa_syscall_stats *prev;		/* [PA_SYSCALL_MAX][ncpus] */
	struct pa_syscall_stats *cur;		/* [ncpus] scratch */
	struct probe_counters counters;
	char describe[96];
};

static void deliver(void *ctx, const void *event)
{
	struct syscall_probe *p = ctx;

	p->on_event(p->ctx, event);
}

static int set_syscall_filter(struct syscall_probe *p, const uint8_t *only)
{
	int fd = bpf_map__fd(p->skel->maps.sys_filter);
	__u32 nr;

	for (nr = 0; nr < PA_SYSCALL_MAX; nr++) {
		__u8 on = only[nr] ? 1 : 0;

		if (on && bpf_map_update_elem(fd, &nr, &on, BPF_ANY))
			return -errno;
	}
	return 0;
}

static void configure(struct syscall_probe *p, const struct syscall_probe_opts *o,
		      bool task_storage, bool ringbuf)
{
	struct syscall_bpf *s = p->skel;

	s->rodata->self_tgid = o->trace_self ? 0 : (__u32)getpid();
	s->rodata->filter_tgid = o->pid;
	s->rodata->filter_tid = o->tid;
	if (o->comm) {
		s->rodata->filter_comm_on = true;
		strncpy((char *)s->rodata->filter_comm, o->comm, PA_COMM_LEN - 1);
	}
	s->rodata->filter_cgroup_on = o->cgroup != NULL;
	s->rodata->filter_nr_on = o->only_nr != NULL;
	s->rodata->slow_ns = o->slow_ns;
	s->rodata->use_ringbuf = ringbuf;

	bpf_program__set_autoload(s->progs.sys_enter_btf, task_storage);
	bpf_program__set_autoload(s->progs.sys_exit_btf, task_storage);
	bpf_program__set_autoload(s->progs.sys_switch_btf, task_storage);
	bpf_program__set_autoload(s->progs.sys_rename_btf, task_storage);
	bpf_program__set_autoload(s->progs.sys_exec_btf, task_storage);
	bpf_program__set_autoload(s->progs.sys_enter_raw, !task_storage);
	bpf_program__set_autoload(s->progs.sys_exit_raw, !task_storage);
	bpf_map__set_autocreate(s->maps.sys_start_task, task_storage);
	bpf_map__set_autocreate(s->maps.sys_start_tid, !task_storage);
	bpf_map__set_autocreate(s->maps.sys_cpu_slot, task_storage);
	if (!ringbuf)
		probe_events_as_perfbuf(s->maps.sys_events);
	snprintf(p->describe, sizeof(p->describe), "%s, %s, %s",
		 task_storage ? "tp_btf" : "raw_tp",
		 task_storage ? "per-CPU slot + task storage" : "thread hash",
		 ringbuf ? "ring buffer" : "perf buffer");
}

/* Movers before fillers: sched_switch and sys_exit must be in place before
 * sys_enter starts filling per-CPU slots (see bpf/syscall.bpf.c).
 */
static int attach_in_order(struct syscall_bpf *s)
{
	const struct probe_attach order[] = {
		{ s->progs.sys_switch_btf, &s->links.sys_switch_btf },
		{ s->progs.sys_rename_btf, &s->links.sys_rename_btf },
		{ s->progs.sys_exec_btf, &s->links.sys_exec_btf },
		{ s->progs.sys_exit_btf, &s->links.sys_exit_btf },
		{ s->progs.sys_enter_btf, &s->links.sys_enter_btf },
		{ s->progs.sys_exit_raw, &s->links.sys_exit_raw },
		{ s->progs.sys_enter_raw, &s->links.sys_enter_raw },
	};

	return probe_attach_in_order(order, sizeof(order) / sizeof(order[0]));
}

static int alloc_snapshots(struct syscall_probe *p)
{
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->prev = calloc((size_t)PA_SYSCALL_MAX * p->ncpus, sizeof(*p->prev));
	p->cur = calloc(p->ncpus, sizeof(*p->cur));
	if (!p->prev || !p->cur)
		return -ENOMEM;
	return probe_counters_init(&p->counters, p->ncpus, sizeof(struct pa_probe_counters));
}

int syscall_probe_open(struct syscall_probe **out, const struct syscall_probe_opts *o,
		       syscall_event_fn on_event, void *ctx, char *err, size_t len)
{
	bool task_storage = !o->tid_hash &&
			    libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) > 0;
	bool ringbuf = probe_use_ringbuf(o->perfbuf);
	struct syscall_probe *p;
	const char *stage;
	int ret;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->on_event = on_event;
	p->ctx = ctx;
	stage = "open";
	p->skel = syscall_bpf__open();
	ret = p->skel ? alloc_snapshots(p) : -errno;
	if (ret)
		goto fail;
	configure(p, o, task_storage, ringbuf);
	stage = "load";
	ret = syscall_bpf__load(p->skel);
	if (ret)
		goto fail;
	if (o->cgroup && (ret = probe_set_cgroup(p->skel->maps.sys_cgroup, o->cgroup, err, len)))
		goto out;
	stage = "filter";
	if (o->only_nr && (ret = set_syscall_filter(p, o->only_nr)))
		goto fail;
	stage = "stream";
	if ((ret = probe_stream_open(&p->stream, p->skel->maps.sys_events, ringbuf,
				     PERF_BUFFER_PAGES, sizeof(struct pa_syscall_event),
				     deliver, p)))
		goto fail;
	stage = "attach";
	if ((ret = attach_in_order(p->skel)))
		goto fail;
	*out = p;
	return 0;
fail:
	probe_say_failure(err, len, "syscall probe", stage, ret);
out:
	syscall_probe_close(p);
	return ret;
}

int syscall_probe_poll(struct syscall_probe *p, int timeout_ms)
{
	return probe_stream_poll(&p->stream, timeout_ms);
}

static void take_delta(struct syscall_probe *p, __u32 nr, struct syscall_totals *t)
{
	struct pa_syscall_stats *prev = &p->prev[(size_t)nr * p->ncpus];
	uint64_t new_max = 0, all_max = 0;
	int cpu, b;

	memset(t, 0, sizeof(*t));
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		const struct pa_syscall_stats *c = &p->cur[cpu];
		struct pa_syscall_stats *o = &prev[cpu];

		if (c->count == o->count)
			continue;
		t->count += c->count - o->count;
		t->errors += c->errors - o->errors;
		t->total_ns += c->total_ns - o->total_ns;
		if (c->max_ns > o->max_ns && c->max_ns > new_max)
			new_max = c->max_ns;
		if (c->max_ns > all_max)
			all_max = c->max_ns;
		for (b = 0; b < PA_HIST_BUCKETS; b++)
			t->hist[b] += (__u32)(c->hist[b] - o->hist[b]);
		*o = *c;
	}
	t->max_ns = hist_interval_max(t->hist, new_max, all_max);
}

static int read_losses(struct syscall_probe *p, struct syscall_losses *l)
{
	struct pa_probe_counters d;
	int ret = probe_counters_read(&p->counters, p->skel->maps.sys_counters, &d);

	memset(l, 0, sizeof(*l));
	if (ret)
		return ret;
	l->events_sent = d.events_sent;
	l->events_lost = d.events_lost;
	l->out_of_range = d.out_of_range;
	l->start_lost = d.start_lost;
	return 0;
}

int syscall_probe_read(struct syscall_probe *p, struct syscall_totals *totals,
		       struct syscall_losses *losses)
{
	int fd = bpf_map__fd(p->skel->maps.sys_stats);
	__u32 nr;

	for (nr = 0; nr < PA_SYSCALL_MAX; nr++) {
		if (bpf_map_lookup_elem(fd, &nr, p->cur))
			return -errno;
		take_delta(p, nr, &totals[nr]);
	}
	return read_losses(p, losses);
}

const char *syscall_probe_describe(const struct syscall_probe *p)
{
	return p->describe;
}

int syscall_probe_poll_fd(const struct syscall_probe *p)
{
	return probe_stream_fd(&p->stream);
}

struct bpf_object *syscall_probe_bpf_object(const struct syscall_probe *p)
{
	return p->skel->obj;
}

void syscall_probe_close(struct syscall_probe *p)
{
	if (!p)
		return;
	probe_stream_close(&p->stream);
	syscall_bpf__destroy(p->skel);
	free(p->prev);
	free(p->cur);
	probe_counters_free(&p->counters);
	free(p);
}

void syscall_totals_add(struct syscall_totals *sum, const struct syscall_totals *d)
{
	int b;

	if (!d->count)
		return;
	sum->count += d->count;
	sum->errors += d->errors;
	sum->total_ns += d->total_ns;
	if (d->max_ns > sum->max_ns)
		sum->max_ns = d->max_ns;
	for (b = 0; b < PA_HIST_BUCKETS; b++)
		sum->hist[b] += d->hist[b];
}
