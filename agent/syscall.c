// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>

#include "bpf_env.h"
#include "hist.h"
#include "syscall.h"
#include "syscall.skel.h"

#define PERF_BUFFER_PAGES 64

struct syscall_probe {
	struct syscall_bpf *skel;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	syscall_event_fn on_event;
	void *ctx;
	int ncpus;
	struct pa_syscall_stats *prev;		/* [PA_SYSCALL_MAX][ncpus] */
	struct pa_syscall_stats *cur;		/* [ncpus] scratch */
	struct pa_probe_counters *prev_counters;	/* [ncpus] */
	char describe[96];
};

static int ringbuf_event(void *ctx, void *data, size_t size)
{
	struct syscall_probe *p = ctx;

	if (size >= sizeof(struct pa_syscall_event))
		p->on_event(p->ctx, data);
	return 0;
}

/* Perf buffer samples sit behind a 4-byte size header: copy to alignment. */
static void perfbuf_event(void *ctx, int cpu, void *data, __u32 size)
{
	struct syscall_probe *p = ctx;
	struct pa_syscall_event e;

	(void)cpu;
	if (size < sizeof(e))
		return;
	memcpy(&e, data, sizeof(e));
	p->on_event(p->ctx, &e);
}

static int set_cgroup(struct syscall_probe *p, const char *path, char *err, size_t len)
{
	struct statfs st;
	int fd, key = 0, ret = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, len, "--cgroup %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstatfs(fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, len, "--cgroup %s: not a cgroup v2 directory "
			 "(the unified hierarchy, e.g. /sys/fs/cgroup/...)", path);
		ret = -EINVAL;
	} else if (bpf_map_update_elem(bpf_map__fd(p->skel->maps.sys_cgroup), &key, &fd, BPF_ANY)) {
		ret = -errno;
		snprintf(err, len, "--cgroup %s: cannot set the filter: %s", path, strerror(errno));
	}
	close(fd);
	return ret;
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
	if (!ringbuf) {
		bpf_map__set_type(s->maps.sys_events, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
		bpf_map__set_key_size(s->maps.sys_events, sizeof(int));
		bpf_map__set_value_size(s->maps.sys_events, sizeof(int));
		bpf_map__set_max_entries(s->maps.sys_events, 0);
	}
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
	struct {
		struct bpf_program *prog;
		struct bpf_link **link;
	} order[] = {
		{ s->progs.sys_switch_btf, &s->links.sys_switch_btf },
		{ s->progs.sys_rename_btf, &s->links.sys_rename_btf },
		{ s->progs.sys_exec_btf, &s->links.sys_exec_btf },
		{ s->progs.sys_exit_btf, &s->links.sys_exit_btf },
		{ s->progs.sys_enter_btf, &s->links.sys_enter_btf },
		{ s->progs.sys_exit_raw, &s->links.sys_exit_raw },
		{ s->progs.sys_enter_raw, &s->links.sys_enter_raw },
	};
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!bpf_program__autoload(order[i].prog))
			continue;
		*order[i].link = bpf_program__attach(order[i].prog);
		if (!*order[i].link)
			return -errno;
	}
	return 0;
}

static int open_stream(struct syscall_probe *p, bool ringbuf)
{
	int fd = bpf_map__fd(p->skel->maps.sys_events);

	if (ringbuf)
		p->rb = ring_buffer__new(fd, ringbuf_event, p, NULL);
	else
		p->pb = perf_buffer__new(fd, PERF_BUFFER_PAGES, perfbuf_event, NULL, p, NULL);
	return (p->rb || p->pb) ? 0 : -errno;
}

static int alloc_snapshots(struct syscall_probe *p)
{
	p->ncpus = libbpf_num_possible_cpus();
	if (p->ncpus <= 0)
		return -EINVAL;
	p->prev = calloc((size_t)PA_SYSCALL_MAX * p->ncpus, sizeof(*p->prev));
	p->cur = calloc(p->ncpus, sizeof(*p->cur));
	p->prev_counters = calloc(p->ncpus, sizeof(*p->prev_counters));
	return (p->prev && p->cur && p->prev_counters) ? 0 : -ENOMEM;
}

int syscall_probe_open(struct syscall_probe **out, const struct syscall_probe_opts *o,
		       syscall_event_fn on_event, void *ctx, char *err, size_t len)
{
	bool task_storage = !o->tid_hash &&
			    libbpf_probe_bpf_map_type(BPF_MAP_TYPE_TASK_STORAGE, NULL) > 0;
	bool ringbuf = !o->perfbuf && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) > 0;
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
	if (o->cgroup && (ret = set_cgroup(p, o->cgroup, err, len)))
		goto out;
	stage = "filter";
	if (o->only_nr && (ret = set_syscall_filter(p, o->only_nr)))
		goto fail;
	stage = "stream";
	if ((ret = open_stream(p, ringbuf)))
		goto fail;
	stage = "attach";
	if ((ret = attach_in_order(p->skel)))
		goto fail;
	*out = p;
	return 0;
fail:
	snprintf(err, len, "syscall probe: %s failed: %s%s%s", stage, strerror(-ret),
		 *env_last_libbpf_warning() ? "; libbpf: " : "", env_last_libbpf_warning());
out:
	syscall_probe_close(p);
	return ret;
}

int syscall_probe_poll(struct syscall_probe *p, int timeout_ms)
{
	if (p->rb)
		return ring_buffer__poll(p->rb, timeout_ms);
	return perf_buffer__poll(p->pb, timeout_ms);
}

/* Per-interval max: exact when some CPU set a new maximum, else the top
 * bucket of the interval's histogram bounded by the all-time maximum.
 */
static uint64_t interval_max(const struct syscall_totals *t, uint64_t new_max, uint64_t all_max)
{
	int i;

	if (new_max)
		return new_max;
	for (i = PA_HIST_BUCKETS - 1; i >= 0; i--) {
		if (t->hist[i]) {
			uint64_t hi = hist_bucket_high(i) - 1;

			return hi < all_max ? hi : all_max;
		}
	}
	return 0;
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
	t->max_ns = interval_max(t, new_max, all_max);
}

static int read_losses(struct syscall_probe *p, struct syscall_losses *l)
{
	struct pa_probe_counters cur[p->ncpus];
	__u32 zero = 0;
	int cpu;

	memset(l, 0, sizeof(*l));
	if (bpf_map_lookup_elem(bpf_map__fd(p->skel->maps.sys_counters), &zero, cur))
		return -errno;
	for (cpu = 0; cpu < p->ncpus; cpu++) {
		l->events_sent += cur[cpu].events_sent - p->prev_counters[cpu].events_sent;
		l->events_lost += cur[cpu].events_lost - p->prev_counters[cpu].events_lost;
		l->out_of_range += cur[cpu].out_of_range - p->prev_counters[cpu].out_of_range;
		l->start_lost += cur[cpu].start_lost - p->prev_counters[cpu].start_lost;
		p->prev_counters[cpu] = cur[cpu];
	}
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
	return p->rb ? ring_buffer__epoll_fd(p->rb) : perf_buffer__epoll_fd(p->pb);
}

struct bpf_object *syscall_probe_bpf_object(const struct syscall_probe *p)
{
	return p->skel->obj;
}

void syscall_probe_close(struct syscall_probe *p)
{
	if (!p)
		return;
	ring_buffer__free(p->rb);
	perf_buffer__free(p->pb);
	syscall_bpf__destroy(p->skel);
	free(p->prev);
	free(p->cur);
	free(p->prev_counters);
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
