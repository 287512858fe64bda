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
#include "probe_common.h"

bool probe_use_ringbuf(bool perfbuf_asked)
{
	return !perfbuf_asked && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) > 0;
}

void probe_events_as_perfbuf(struct bpf_map *events)
{
	bpf_map__set_type(events, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	bpf_map__set_key_size(events, sizeof(int));
	bpf_map__set_value_size(events, sizeof(int));
	bpf_map__set_max_entries(events, 0);	/* libbpf: one per possible CPU */
}

static int ringbuf_sample(void *ctx, void *data, size_t size)
{
	struct probe_stream *s = ctx;

	/* Ring buffer records are 8-byte aligned: no copy needed. */
	if (size >= s->event_size)
		s->deliver(s->ctx, data);
	return 0;
}

static void perfbuf_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct probe_stream *s = ctx;

	(void)cpu;
	/* Perf samples sit behind a 4-byte size header: copied to alignment. */
	if (size < s->event_size)
		return;
	memcpy(s->aligned, data, s->event_size);
	s->deliver(s->ctx, s->aligned);
}

int probe_stream_open(struct probe_stream *s, struct bpf_map *events, bool ringbuf,
		      size_t perf_pages, size_t event_size, probe_event_fn deliver, void *ctx)
{
	int fd = bpf_map__fd(events);

	s->deliver = deliver;
	s->ctx = ctx;
	s->event_size = event_size;
	if (ringbuf) {
		s->rb = ring_buffer__new(fd, ringbuf_sample, s, NULL);
		return s->rb ? 0 : -errno;
	}
	s->aligned = malloc(event_size);
	if (!s->aligned)
		return -ENOMEM;
	s->pb = perf_buffer__new(fd, perf_pages, perfbuf_sample, NULL, s, NULL);
	return s->pb ? 0 : -errno;
}

int probe_stream_poll(struct probe_stream *s, int timeout_ms)
{
	if (s->rb)
		return ring_buffer__poll(s->rb, timeout_ms);
	return perf_buffer__poll(s->pb, timeout_ms);
}

int probe_stream_fd(const struct probe_stream *s)
{
	return s->rb ? ring_buffer__epoll_fd(s->rb) : perf_buffer__epoll_fd(s->pb);
}

void probe_stream_close(struct probe_stream *s)
{
	ring_buffer__free(s->rb);
	perf_buffer__free(s->pb);
	free(s->aligned);
	memset(s, 0, sizeof(*s));
}

int probe_set_cgroup(struct bpf_map *cgroup_array, const char *path, char *err, size_t len)
{
	struct statfs st;
	int fd, key = 0, ret = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, len, "--cgroup %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstatfs(fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC) {
		snprintf(err, len, "--cgroup %s: not a cgroup v2 directory "
			 "(the unified hierarchy, e.g. /sys/fs/cgroup/...)", path);
		ret = -EINVAL;
	} else if (bpf_map_update_elem(bpf_map__fd(cgroup_array), &key, &fd, BPF_ANY)) {
		ret = -errno;
		snprintf(err, len, "--cgroup %s: cannot set the filter: %s", path, strerror(-ret));
	}
	close(fd);	/* the map holds its own reference to the cgroup */
	return ret;
}

int probe_attach_in_order(const struct probe_attach *a, size_t n)
{
	size_t i;
	int ret;

	for (i = 0; i < n; i++) {
		if (!bpf_program__autoload(a[i].prog))
			continue;
		*a[i].link = bpf_program__attach(a[i].prog);
		if (!*a[i].link)
			break;
	}
	if (i == n)
		return 0;
	ret = -errno;
	/* Last attached first: the order's dependencies hold while detaching. */
	while (i-- > 0) {
		bpf_link__destroy(*a[i].link);
		*a[i].link = NULL;
	}
	return ret;
}

void probe_say_failure(char *err, size_t len, const char *probe, const char *stage, int ret)
{
	snprintf(err, len, "%s: %s failed: %s%s%s", probe, stage, strerror(-ret),
		 *env_last_libbpf_warning() ? "; libbpf: " : "", env_last_libbpf_warning());
}

int probe_counters_init(struct probe_counters *c, int ncpus, size_t size)
{
	c->ncpus = ncpus;
	c->size = size;
	c->prev = calloc(ncpus, size);
	c->cur = calloc(ncpus, size);
	return c->prev && c->cur ? 0 : -ENOMEM;
}

int probe_counters_read(struct probe_counters *c, struct bpf_map *map, void *delta)
{
	size_t n = c->size / sizeof(__u64), i;
	__u64 *cur = c->cur, *prev = c->prev, *sum = delta;
	__u32 zero = 0;
	int cpu;

	memset(delta, 0, c->size);
	if (bpf_map_lookup_elem(bpf_map__fd(map), &zero, c->cur))
		return -errno;
	/* Each CPU's counters only grow: the delta of each, then the sum. */
	for (cpu = 0; cpu < c->ncpus; cpu++, cur += n, prev += n) {
		for (i = 0; i < n; i++)
			sum[i] += cur[i] - prev[i];
		memcpy(prev, cur, c->size);
	}
	return 0;
}

void probe_counters_free(struct probe_counters *c)
{
	free(c->prev);
	free(c->cur);
	memset(c, 0, sizeof(*c));
}
