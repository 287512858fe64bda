// SPDX-License-Identifier: GPL-2.0
/*
 * What the agent costs the machine it watches.
 *
 * In the kernel: BPF run-time statistics. bpf_enable_stats(BPF_STATS_RUN_TIME)
 * turns them on for as long as its fd is held (no sysctl left behind if we
 * die); then bpf_prog_info gives each program's run count and total run
 * time. Per probe, per interval: probe.runs_per_s and probe.cpu_ratio (the
 * share of one CPU its programs used), which the `probe-overhead` rule
 * (config `overhead`) watches; with overhead.detach a probe over budget is
 * detached rather than kept hurting the machine.
 *
 * In userspace: the daemon's own CPU time (CLOCK_PROCESS_CPUTIME_ID: every
 * thread, to the nanosecond) and resident memory, as agent.cpu_ratio and agent.rss_bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "daemon.h"

void daemon_selfcost_open(struct daemon *d)
{
	d->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (d->stats_fd < 0) {
		int e = errno;

		snprintf(d->stats_note, sizeof(d->stats_note),
			 "BPF run-time statistics unavailable (%s): probe run time not measured",
			 strerror(e));
		daemon_log(d, LOG_NOTICE, "selfcost", "%s", d->stats_note);
		d->stats_fd = -1;
	}
}

void daemon_selfcost_close(struct daemon *d)
{
	if (d->stats_fd >= 0)
		close(d->stats_fd);
	d->stats_fd = -1;
}

void daemon_selfcost_reset(struct dprobe *p)
{
	p->have_prev = false;
	p->nprogs = 0;
	p->run_cnt = p->run_time_ns = 0;
	p->cpu_ratio = p->runs_per_s = 0;
}

/* Each loaded program's counters; the probe's sums. */
static void read_programs(struct dprobe *p)
{
	struct bpf_program *prog;

	p->nprogs = 0;
	p->run_cnt = p->run_time_ns = 0;
	bpf_object__for_each_program(prog, p->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);
		struct dprog *dp;

		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		p->run_cnt += info.run_cnt;
		p->run_time_ns += info.run_time_ns;
		if (p->nprogs >= DPROBE_MAX_PROGS)
			continue;
		dp = &p->progs[p->nprogs++];
		snprintf(dp->name, sizeof(dp->name), "%s", bpf_program__name(prog));
		dp->id = info.id;
		dp->run_cnt = info.run_cnt;
		dp->run_time_ns = info.run_time_ns;
	}
}

static void probe_cost(struct daemon *d, struct dprobe *p, uint64_t span_ns, uint64_t ts)
{
	read_programs(p);
	if (p->have_prev && span_ns && d->stats_fd >= 0) {
		p->cpu_ratio = (double)(p->run_time_ns - p->prev_time) / (double)span_ns;
		p->runs_per_s = (double)(p->run_cnt - p->prev_cnt) * 1e9 / (double)span_ns;
		daemon_add_sample(d, "probe.cpu_ratio", p->cpu_ratio, ts, "probe", p->name, NULL);
		daemon_add_sample(d, "probe.runs_per_s", p->runs_per_s, ts, "probe", p->name, NULL);
	}
	p->prev_time = p->run_time_ns;
	p->prev_cnt = p->run_cnt;
	p->have_prev = true;
}

/* CPU time of the whole process (every thread) in ns; RSS in bytes. */
static int read_self(uint64_t *cpu_ns, uint64_t *rss)
{
	struct timespec ts;
	long pages = 0;
	FILE *f;

	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts))
		return -errno;
	*cpu_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fscanf(f, "%*d %ld", &pages) != 1)
			pages = 0;
		fclose(f);
	}
	*rss = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}

void daemon_selfcost_tick(struct daemon *d, uint64_t span_ns, uint64_t ts)
{
	uint64_t cpu_ns = 0, rss = 0;
	int i;

	for (i = 0; i < DPROBE_COUNT; i++)
		if (d->probes[i].state == DPROBE_ATTACHED && d->probes[i].obj)
			probe_cost(d, &d->probes[i], span_ns, ts);
	if (read_self(&cpu_ns, &rss))
		return;
	if (d->self_cpu_prev_ns && span_ns) {
		d->self_cpu_ratio = (double)(cpu_ns - d->self_cpu_prev_ns) / (double)span_ns;
		daemon_add_sample(d, "agent.cpu_ratio", d->self_cpu_ratio, ts, NULL);
	}
	d->self_cpu_prev_ns = cpu_ns;
	d->self_rss_bytes = rss;
	daemon_add_sample(d, "agent.rss_bytes", (double)rss, ts, NULL);
}

/* A probe-overhead alert firing for probe=X: detach X when configured. */
void daemon_overhead_check(struct daemon *d, const struct rule_transitions *t)
{
	size_t i;
	unsigned int l;
	int id;

	if (!d->cfg.overhead.detach)
		return;
	for (i = 0; i < t->n; i++) {
		const struct rule_transition *tr = &t->v[i];

		if (tr->state != ALERT_FIRING || strcmp(tr->rule, CONFIG_OVERHEAD_RULE))
			continue;
		for (l = 0; l < tr->nlabels; l++) {
			if (strcmp(tr->labels[l].name, "probe"))
				continue;
			for (id = 0; id < DPROBE_COUNT; id++)
				if (!strcmp(d->probes[id].name, tr->labels[l].value) &&
				    d->probes[id].state == DPROBE_ATTACHED)
					daemon_probe_detach(d, (enum dprobe_id)id, tr->value_text);
		}
	}
}
