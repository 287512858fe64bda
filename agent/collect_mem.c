// SPDX-License-Identifier: GPL-2.0
/*
 * Memory and swap from /proc/meminfo; swap traffic, major faults and OOM
 * kills from /proc/vmstat counters. "Used" memory is MemTotal - MemAvailable:
 * the kernel's own estimate of what could be had without swapping, which is
 * what runs out before an OOM, unlike MemFree (page cache counts as free).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_mem.h"

enum {
	MEM_TOTAL, MEM_FREE, MEM_AVAILABLE, BUFFERS, CACHED, DIRTY, WRITEBACK,
	SHMEM, SUNRECLAIM, COMMITTED_AS, COMMIT_LIMIT, SWAP_TOTAL, SWAP_FREE,
	NKEYS
};

static const struct {
	const char *key;
	const char *metric;	/* emitted as it is, NULL = only derived from */
	bool required;
} meminfo_keys[NKEYS] = {
	[MEM_TOTAL] = { "MemTotal", "mem.total_bytes", true },
	[MEM_FREE] = { "MemFree", "mem.free_bytes", true },
	[MEM_AVAILABLE] = { "MemAvailable", "mem.available_bytes", true },
	[BUFFERS] = { "Buffers", "mem.buffers_bytes", false },
	[CACHED] = { "Cached", "mem.cached_bytes", false },
	[DIRTY] = { "Dirty", "mem.dirty_bytes", false },
	[WRITEBACK] = { "Writeback", "mem.writeback_bytes", false },
	[SHMEM] = { "Shmem", "mem.shmem_bytes", false },
	[SUNRECLAIM] = { "SUnreclaim", "mem.slab_unreclaimable_bytes", false },
	[COMMITTED_AS] = { "Committed_AS", "mem.committed_bytes", false },
	[COMMIT_LIMIT] = { "CommitLimit", "mem.commit_limit_bytes", false },
	[SWAP_TOTAL] = { "SwapTotal", "swap.total_bytes", true },
	[SWAP_FREE] = { "SwapFree", "swap.free_bytes", true },
};

enum { PSWPIN, PSWPOUT, PGMAJFAULT, OOM_KILL, NCOUNTERS };

static const struct {
	const char *key;
	const char *metric;
} vmstat_keys[NCOUNTERS] = {
	[PSWPIN] = { "pswpin", "swap.in_pages_per_s" },
	[PSWPOUT] = { "pswpout", "swap.out_pages_per_s" },
	[PGMAJFAULT] = { "pgmajfault", "mem.major_faults_per_s" },
	[OOM_KILL] = { "oom_kill", "mem.oom_kills_per_s" },
};

struct mem_state {
	struct collect_counter counters[NCOUNTERS];
};

static int mem_init(struct collector *c, char *err, size_t len)
{
	c->priv = calloc(1, sizeof(struct mem_state));
	if (!c->priv) {
		snprintf(err, len, "mem collector: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void mem_fini(struct collector *c)
{
	free(c->priv);
}

/* "MemTotal:       16318960 kB": 0 with the key cut out and bytes, or -1
 * with the line left as it was (for the error message).
 */
static int parse_meminfo_line(char *line, uint64_t *bytes)
{
	char *colon = strchr(line, ':'), *p;
	uint64_t v;

	if (!colon || colon == line)
		return -1;
	p = colon + 1;
	if (collect_parse_u64(&p, &v))
		return -1;
	while (*p == ' ')
		p++;
	if (strcmp(p, "kB") == 0) {
		if (v > UINT64_MAX / 1024)
			return -1;
		v *= 1024;
	} else if (*p) {
		return -1;
	}
	*colon = '\0';
	*bytes = v;
	return 0;
}

/* Index of the key that line starts with (up to its colon), or -1. */
static int find_meminfo_key(const char *line)
{
	size_t n = strcspn(line, ":");
	int i;

	for (i = 0; i < NKEYS; i++)
		if (strlen(meminfo_keys[i].key) == n && strncmp(meminfo_keys[i].key, line, n) == 0)
			return i;
	return -1;
}

/*
 * Fills v[] and have[] (parsed). A missing required key and a malformed
 * line are reported, each once.
 */
static void read_meminfo(struct collector *c, uint64_t v[NKEYS], bool have[NKEYS])
{
	char *text = collect_read_or_error(c, "/proc/meminfo"), *line;
	bool seen[NKEYS] = { false };
	unsigned int lineno = 0;
	uint64_t bytes;
	int i;

	if (!text)
		return;
	while ((line = collect_next_line(&text)) != NULL) {
		lineno++;
		if (!*line)
			continue;
		i = find_meminfo_key(line);
		if (i >= 0)
			seen[i] = true;
		if (parse_meminfo_line(line, &bytes)) {
			collect_line_error(c, lineno, "expected \"Name: number [kB]\", got \"%.60s\"",
					   line);
			continue;
		}
		if (i >= 0 && !have[i]) {
			have[i] = true;
			v[i] = bytes;
		}
	}
	for (i = 0; i < NKEYS; i++)
		if (meminfo_keys[i].required && !seen[i])
			collect_error(c, "%s: no %s line", c->path, meminfo_keys[i].key);
}

static void emit_meminfo(struct collector *c)
{
	uint64_t v[NKEYS] = { 0 };
	bool have[NKEYS] = { false };
	int i;

	read_meminfo(c, v, have);
	for (i = 0; i < NKEYS; i++)
		if (have[i] && meminfo_keys[i].metric)
			collect_emit(c, meminfo_keys[i].metric, (double)v[i], NULL);
	if (have[MEM_TOTAL] && have[MEM_AVAILABLE]) {
		if (v[MEM_AVAILABLE] > v[MEM_TOTAL])
			v[MEM_AVAILABLE] = v[MEM_TOTAL];
		collect_emit(c, "mem.used_bytes", (double)(v[MEM_TOTAL] - v[MEM_AVAILABLE]), NULL);
		collect_emit(c, "mem.available_ratio",
			     collect_ratio((double)v[MEM_AVAILABLE], (double)v[MEM_TOTAL]), NULL);
	}
	if (have[COMMITTED_AS] && have[COMMIT_LIMIT] && v[COMMIT_LIMIT])
		collect_emit(c, "mem.committed_ratio",
			     (double)v[COMMITTED_AS] / (double)v[COMMIT_LIMIT], NULL);
	if (!have[SWAP_TOTAL] || !have[SWAP_FREE])
		return;
	if (v[SWAP_FREE] > v[SWAP_TOTAL])
		v[SWAP_FREE] = v[SWAP_TOTAL];
	collect_emit(c, "swap.used_bytes", (double)(v[SWAP_TOTAL] - v[SWAP_FREE]), NULL);
	/* No swap: a used ratio would be 0/0; leave it out rather than lie. */
	if (v[SWAP_TOTAL])
		collect_emit(c, "swap.used_ratio",
			     (double)(v[SWAP_TOTAL] - v[SWAP_FREE]) / (double)v[SWAP_TOTAL], NULL);
}

static void emit_vmstat(struct collector *c)
{
	struct mem_state *st = c->priv;
	char *text = collect_read(c, "/proc/vmstat"), *line, *p, *sp;
	unsigned int lineno = 0;
	double rate;
	uint64_t v;
	int i;

	if (!text) {
		if (errno != ENOENT)
			collect_error(c, "%s: cannot read: %s", c->path, strerror(errno));
		return;
	}
	while ((line = collect_next_line(&text)) != NULL) {
		lineno++;
		sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		for (i = 0; i < NCOUNTERS; i++)
			if (strcmp(line, vmstat_keys[i].key) == 0)
				break;
		if (i == NCOUNTERS)
			continue;
		p = sp + 1;
		if (collect_parse_u64(&p, &v) || *p) {
			collect_line_error(c, lineno, "%s: expected a number", line);
			continue;
		}
		if (collect_counter_rate(c, &st->counters[i], v, &rate))
			collect_emit(c, vmstat_keys[i].metric, rate, NULL);
	}
}

static void mem_collect(struct collector *c, uint64_t interval_ns)
{
	(void)interval_ns;	/* rates use c->clock_ns */
	emit_meminfo(c);
	emit_vmstat(c);
}

const struct collector_ops collect_mem_ops = {
	.name = "mem",
	.init = mem_init,
	.collect = mem_collect,
	.fini = mem_fini,
};
