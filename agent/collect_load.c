// SPDX-License-Identifier: GPL-2.0
/*
 * Load averages from /proc/loadavg ("0.52 0.58 0.59 2/1234 56789"), and the
 * 1-minute load per online CPU so one threshold fits machines of any size.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_load.h"

/*
 * Count the CPUs in a kernel CPU list ("0-3,8,10-11"). 0 when the list
 * cannot be parsed.
 */
static unsigned int count_cpu_list(char *s)
{
	unsigned int n = 0;
	uint64_t lo, hi;

	while (*s && *s != '\n') {
		if (collect_parse_u64(&s, &lo))
			return 0;
		hi = lo;
		if (*s == '-') {
			s++;
			if (collect_parse_u64(&s, &hi) || hi < lo || hi - lo > 65536)
				return 0;
		}
		n += (unsigned int)(hi - lo + 1);
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return 0;
	}
	return n;
}

static unsigned int online_cpus(struct collector *c)
{
	char *text = collect_read(c, "/sys/devices/system/cpu/online");
	unsigned int n;

	if (!text)
		return 0;	/* no sysfs in this root: leave the per-CPU figure out */
	n = count_cpu_list(text);
	if (!n)
		collect_line_error(c, 1, "expected a CPU list like \"0-3,8\", got \"%.40s\"", text);
	return n;
}

static int load_init(struct collector *c, char *err, size_t len)
{
	(void)c;
	(void)err;
	(void)len;
	return 0;
}

static void load_collect(struct collector *c, uint64_t interval_ns)
{
	char *text = collect_read_or_error(c, "/proc/loadavg"), *p;
	double avg[3];
	uint64_t runnable, tasks;
	unsigned int ncpus, i;

	(void)interval_ns;
	if (!text)
		return;
	p = text;
	for (i = 0; i < 3; i++)
		if (collect_parse_double(&p, &avg[i]) || (*p != ' ' && *p != '\t'))
			goto bad;
	if (collect_parse_u64(&p, &runnable) || *p++ != '/' || collect_parse_u64(&p, &tasks))
		goto bad;
	collect_emit(c, "load.avg1", avg[0], NULL);
	collect_emit(c, "load.avg5", avg[1], NULL);
	collect_emit(c, "load.avg15", avg[2], NULL);
	collect_emit(c, "load.runnable", (double)runnable, NULL);
	collect_emit(c, "load.tasks", (double)tasks, NULL);
	ncpus = online_cpus(c);
	if (ncpus)
		collect_emit(c, "load.avg1_per_cpu", avg[0] / ncpus, NULL);
	return;
bad:
	text[strcspn(text, "\n")] = '\0';
	collect_line_error(c, 1, "expected \"avg1 avg5 avg15 runnable/tasks lastpid\", "
			   "got \"%.60s\"", text);
}

const struct collector_ops collect_load_ops = {
	.name = "load",
	.init = load_init,
	.collect = load_collect,
	.fini = NULL,
};
