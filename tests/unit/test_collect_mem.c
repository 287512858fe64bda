// SPDX-License-Identifier: GPL-2.0
/* The mem collector: meminfo and vmstat fixtures, and the real MemTotal. */
#include <sys/sysinfo.h>

#include "check.h"
#include "collect_test.h"

#define KB 1024.0
#define SEC 1000000000ULL

static void t_meminfo_exact(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("mem", fixture("proc-mem/t0"), "/nonexistent");

	CHECK(c);
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap_get(&cap, "mem.total_bytes") == 16000000 * KB);
	CHECK(cap_get(&cap, "mem.free_bytes") == 2000000 * KB);
	CHECK(cap_get(&cap, "mem.available_bytes") == 4000000 * KB);
	CHECK(cap_get(&cap, "mem.used_bytes") == 12000000 * KB);
	CHECK(NEAR(cap_get(&cap, "mem.available_ratio"), 0.25));
	CHECK(cap_get(&cap, "mem.buffers_bytes") == 100000 * KB);
	CHECK(cap_get(&cap, "mem.cached_bytes") == 1500000 * KB);
	CHECK(cap_get(&cap, "mem.dirty_bytes") == 12000 * KB);
	CHECK(cap_get(&cap, "mem.writeback_bytes") == 400 * KB);
	CHECK(cap_get(&cap, "mem.shmem_bytes") == 65536 * KB);
	CHECK(cap_get(&cap, "mem.slab_unreclaimable_bytes") == 200000 * KB);
	CHECK(NEAR(cap_get(&cap, "mem.committed_ratio"), 0.9));
	CHECK(cap_get(&cap, "swap.total_bytes") == 2000000 * KB);
	CHECK(cap_get(&cap, "swap.free_bytes") == 1500000 * KB);
	CHECK(cap_get(&cap, "swap.used_bytes") == 500000 * KB);
	CHECK(NEAR(cap_get(&cap, "swap.used_ratio"), 0.25));
	/* first read: counters have no rate yet */
	CHECK(cap_count(&cap, "swap.in_pages_per_s") == 0);
	CHECK(cap_count(&cap, "mem.oom_kills_per_s") == 0);
	cap_reset(&cap);
	collector_close(c);
}

/* vmstat t1 - t0 over 2 s: pswpin +400, pswpout +0, pgmajfault +200,
 * oom_kill +2.
 */
static void t_vmstat_rates_exact(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c;
	char dir[64];

	CHECK(scratch_make(dir, sizeof(dir)));
	CHECK(relink(dir, "proc", fixture("proc-mem/t0/proc")) == 0);
	c = open_collector("mem", dir, "/nonexistent");
	CHECK(c);
	collector_collect(c, 0, &sink);
	cap_reset(&cap);
	CHECK(relink(dir, "proc", fixture("proc-mem/t1/proc")) == 0);
	CHECK(collector_collect(c, 2 * SEC, &sink) == 0);
	CHECK(NEAR(cap_get(&cap, "swap.in_pages_per_s"), 200));
	CHECK(NEAR(cap_get(&cap, "swap.out_pages_per_s"), 0));
	CHECK(NEAR(cap_get(&cap, "mem.major_faults_per_s"), 100));
	CHECK(NEAR(cap_get(&cap, "mem.oom_kills_per_s"), 1));
	cap_reset(&cap);
	collector_close(c);
	scratch_remove(dir);
}

static void t_no_swap_has_no_swap_ratio(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("mem", fixture("proc-mem-noswap"), "/nonexistent");

	CHECK(c);
	/* no /proc/vmstat in this tree: not an error */
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap_get(&cap, "swap.total_bytes") == 0);
	CHECK(cap_get(&cap, "swap.used_bytes") == 0);
	CHECK(!cap_has(&cap, "swap.used_ratio"));
	CHECK(NEAR(cap_get(&cap, "mem.available_ratio"), 0.75));
	CHECK(!cap_has(&cap, "mem.committed_ratio"));
	cap_reset(&cap);
	collector_close(c);
}

/* Bad lines and a missing MemAvailable: each reported by file and line,
 * what was readable still emitted, nothing derived from the missing key.
 */
static void t_malformed_meminfo(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("mem", fixture("proc-mem-bad"), "/nonexistent");
	int errors;

	CHECK(c);
	collector_collect(c, 0, &sink);
	cap_reset(&cap);
	errors = collector_collect(c, SEC, &sink);
	CHECKF(errors == 4, "%d errors", errors);
	CHECK(cap_error(&cap, "proc-mem-bad/proc/meminfo:4: expected \"Name: number [kB]\", "
			"got \"Dirty:              lots kB\"") >= 0);
	CHECK(cap_error(&cap, "proc-mem-bad/proc/meminfo:5: expected") >= 0);
	CHECK(cap_error(&cap, "proc-mem-bad/proc/meminfo: no MemAvailable line") >= 0);
	CHECK(cap_error(&cap, "proc-mem-bad/proc/vmstat:2: pswpin: expected a number") >= 0);
	CHECK(cap_get(&cap, "mem.total_bytes") == 16000000 * KB);
	CHECK(cap_get(&cap, "mem.buffers_bytes") == 100000 * KB);
	CHECK(!cap_has(&cap, "mem.dirty_bytes"));
	CHECK(!cap_has(&cap, "mem.available_ratio"));
	CHECK(!cap_has(&cap, "mem.used_bytes"));
	CHECK(NEAR(cap_get(&cap, "mem.major_faults_per_s"), 0));	/* same value, 1 s on */
	cap_reset(&cap);
	collector_close(c);
}

static void t_real_memtotal_matches_sysinfo(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("mem", NULL, NULL);
	struct sysinfo si;
	double total;

	CHECK(c);
	CHECK(sysinfo(&si) == 0);
	CHECK(collector_collect(c, 0, &sink) == 0);
	total = (double)si.totalram * si.mem_unit;
	CHECKF(cap_get(&cap, "mem.total_bytes") == total, "meminfo %g, sysinfo %g",
	       cap_get(&cap, "mem.total_bytes"), total);
	CHECK(cap_get(&cap, "mem.available_ratio") > 0 && cap_get(&cap, "mem.available_ratio") <= 1);
	CHECK(cap_get(&cap, "swap.total_bytes") == (double)si.totalswap * si.mem_unit);
	cap_reset(&cap);
	collector_close(c);
}

int main(void)
{
	RUN(t_meminfo_exact);
	RUN(t_vmstat_rates_exact);
	RUN(t_no_swap_has_no_swap_ratio);
	RUN(t_malformed_meminfo);
	RUN(t_real_memtotal_matches_sysinfo);
	CHECK_EXIT();
}
