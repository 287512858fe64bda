// SPDX-License-Identifier: GPL-2.0
/*
 * System-wide limits that make fork() and open() fail when reached: open
 * files against fs.file-max, threads against kernel.threads-max, and PIDs
 * (every thread holds one) against kernel.pid_max.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_limits.h"

static int limits_init(struct collector *c, char *err, size_t len)
{
	(void)c;
	(void)err;
	(void)len;
	return 0;
}

/* A file holding one number ("32768\n"). 0, or -1 after reporting. */
static int read_number(struct collector *c, const char *rel, uint64_t *v)
{
	char *text = collect_read_or_error(c, rel), *p = text;

	if (!text)
		return -1;
	if (collect_parse_u64(&p, v) || (*p && *p != '\n')) {
		text[strcspn(text, "\n")] = '\0';
		collect_line_error(c, 1, "expected a number, got \"%.40s\"", text);
		return -1;
	}
	return 0;
}

/* "allocated unused max": file handles in use = allocated - unused. */
static void open_files(struct collector *c)
{
	char *text = collect_read_or_error(c, "/proc/sys/fs/file-nr"), *p = text;
	uint64_t allocated, unused, max;

	if (!text)
		return;
	if (collect_parse_u64(&p, &allocated) || collect_parse_u64(&p, &unused) ||
	    collect_parse_u64(&p, &max) || (*p && *p != '\n')) {
		text[strcspn(text, "\n")] = '\0';
		collect_line_error(c, 1, "expected \"allocated unused max\", got \"%.40s\"", text);
		return;
	}
	allocated = collect_delta(allocated, unused);
	collect_emit(c, "limits.open_files", (double)allocated, NULL);
	collect_emit(c, "limits.open_files_max", (double)max, NULL);
	collect_emit(c, "limits.open_files_ratio", collect_ratio((double)allocated, (double)max),
		     NULL);
}

/* Threads (tasks) in the system: the denominator of "2/1234" in loadavg. */
static int count_threads(struct collector *c, uint64_t *threads)
{
	char *text = collect_read_or_error(c, "/proc/loadavg"), *p;

	if (!text)
		return -1;
	p = strchr(text, '/');
	if (!p || (p++, collect_parse_u64(&p, threads))) {
		text[strcspn(text, "\n")] = '\0';
		collect_line_error(c, 1, "expected \"... runnable/tasks lastpid\", got \"%.60s\"",
				   text);
		return -1;
	}
	return 0;
}

static int count_processes(struct collector *c, uint64_t *n)
{
	struct dirent *de;
	DIR *d;

	collect_path(c, "/proc", c->path, sizeof(c->path));
	d = opendir(c->path);
	if (!d) {
		collect_error(c, "%s: cannot list: %s", c->path, strerror(errno));
		return -1;
	}
	*n = 0;
	while ((de = readdir(d)) != NULL)
		if (isdigit((unsigned char)de->d_name[0]))
			(*n)++;
	closedir(d);
	return 0;
}

static void tasks(struct collector *c)
{
	uint64_t threads, threads_max, pid_max, procs;
	int have_threads = !count_threads(c, &threads);

	if (!count_processes(c, &procs))
		collect_emit(c, "limits.processes", (double)procs, NULL);
	if (have_threads)
		collect_emit(c, "limits.threads", (double)threads, NULL);
	if (!read_number(c, "/proc/sys/kernel/threads-max", &threads_max)) {
		collect_emit(c, "limits.threads_max", (double)threads_max, NULL);
		if (have_threads)
			collect_emit(c, "limits.threads_ratio",
				     collect_ratio((double)threads, (double)threads_max), NULL);
	}
	if (!read_number(c, "/proc/sys/kernel/pid_max", &pid_max)) {
		collect_emit(c, "limits.pid_max", (double)pid_max, NULL);
		if (have_threads)
			collect_emit(c, "limits.pids_ratio",
				     collect_ratio((double)threads, (double)pid_max), NULL);
	}
}

static void limits_collect(struct collector *c, uint64_t interval_ns)
{
	(void)interval_ns;
	open_files(c);
	tasks(c);
}

const struct collector_ops collect_limits_ops = {
	.name = "limits",
	.init = limits_init,
	.collect = limits_collect,
	.fini = NULL,
};
