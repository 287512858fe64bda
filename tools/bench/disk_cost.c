// SPDX-License-Identifier: GPL-2.0
/*
 * The disk probe's cost per block request, from the kernel's own BPF
 * run-time statistics rather than from throughput (which a shared, noisy
 * machine blurs by more than the probe costs): loads the probe as
 * 'perfagent trace disk' does at its default settings, enables run-time
 * statistics, runs a workload command, and prints the time spent in the
 * probe's programs per request against the workload's time per request.
 *
 *   disk_cost [--slow-p99] -- COMMAND...
 *
 * COMMAND is typically 'disk_workload FILE SECONDS randrw'; its last output
 * line must contain "ops N" and "seconds F". Prints one line:
 *   requests N probe_runs N probe_ns_per_request F workload_ns_per_op F share_pct F
 * where share_pct is the time spent in the probe over the workload's wall
 * time: what a single-threaded workload loses, at most, to the probe's
 * programs (the cost of the tracepoint hook itself is what
 * disk_overhead.sh's "floor" variant measures).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpf_env.h"
#include "disk.h"

static void ignore(void *ctx, const struct pa_disk_event *e)
{
	(void)ctx;
	(void)e;
}

/* Runs argv, returns its "ops" and "seconds" from the last line. */
static int run_workload(char **argv, double *ops, double *secs)
{
	char cmd[4096] = "", line[512], last[512] = "";
	const char *p;
	size_t used = 0;
	FILE *f;
	int i;

	for (i = 0; argv[i]; i++)
		used += snprintf(cmd + used, used < sizeof(cmd) ? sizeof(cmd) - used : 0, "'%s' ",
				 argv[i]);
	f = popen(cmd, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		snprintf(last, sizeof(last), "%s", line);
	if (pclose(f))
		return -1;
	p = strstr(last, "ops ");
	*ops = p ? atof(p + 4) : 0;
	p = strstr(last, "seconds ");
	*secs = p ? atof(p + 8) : 0;
	return *ops > 0 && *secs > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct disk_probe_opts o = { .rate = DISK_DEFAULT_RATE };
	struct disk_probe *p;
	struct disk_set set = { 0 };
	struct disk_losses l;
	uint64_t ns, runs, requests = 0;
	double ops, secs, probe_ns, op_ns, share;
	char err[512];
	int a = 1, stats_fd;
	size_t i;

	if (a < argc && !strcmp(argv[a], "--slow-p99")) {
		o.slow_adaptive = true;
		a++;
	}
	if (a < argc && !strcmp(argv[a], "--"))
		a++;
	if (a >= argc) {
		fprintf(stderr, "usage: %s [--slow-p99] -- COMMAND...\n", argv[0]);
		return 2;
	}
	env_setup_libbpf(false);
	if (disk_probe_open(&p, &o, ignore, NULL, err, sizeof(err))) {
		fprintf(stderr, "disk_cost: %s\n", err);
		return 1;
	}
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats_fd < 0 || run_workload(argv + a, &ops, &secs)) {
		fprintf(stderr, "disk_cost: %s\n", stats_fd < 0 ? "cannot enable BPF run-time "
			"statistics" : "the workload failed or printed no 'ops N ... seconds F'");
		disk_probe_close(p);
		return 1;
	}
	disk_probe_cost(p, &ns, &runs);
	close(stats_fd);
	disk_probe_read(p, &set, &l);
	for (i = 0; i < set.n; i++)
		requests += set.rows[i].count;
	probe_ns = requests ? (double)ns / (double)requests : 0;
	op_ns = secs * 1e9 / ops;
	share = (double)ns / (secs * 1e9) * 100;
	printf("requests %llu probe_runs %llu probe_ns_per_request %.1f workload_ns_per_op %.1f "
	       "share_pct %.2f\n", (unsigned long long)requests, (unsigned long long)runs, probe_ns,
	       op_ns, share);
	disk_set_free(&set);
	disk_probe_close(p);
	return 0;
}
