// SPDX-License-Identifier: GPL-2.0
/* The disk probe's userspace pieces that need no kernel: the adaptive
 * threshold's rolling p99, per-key sets, device-name parsing, byte sizes.
 */
#include <math.h>

#include "blkdev_names.h"
#include "check.h"
#include "disk.h"
#include "disk_report.h"
#include "hist.h"

static uint64_t hist[PA_HIST_BUCKETS];

static void fill(uint64_t value, uint64_t n)
{
	hist[pa_hist_index(value)] += n;
}

static double rel_err(uint64_t got, uint64_t want)
{
	return fabs((double)got - (double)want) / (double)want;
}

static void t_rolling_p99_within_bucket_error(void)
{
	static struct disk_rolling r;
	uint64_t p99;

	memset(hist, 0, sizeof(hist));
	fill(100000, 980);		/* 100 µs */
	fill(5000000, 20);		/* 5 ms: the top 2 % */
	disk_rolling_add(&r, hist, DISK_ADAPTIVE_DECAY);
	p99 = disk_rolling_p99(&r, DISK_ADAPTIVE_MIN_SAMPLES);
	CHECKF(rel_err(p99, 5000000) <= 1.0 / 32, "p99 %llu, want 5 ms", (unsigned long long)p99);
}

static void t_rolling_needs_history(void)
{
	static struct disk_rolling r;

	memset(hist, 0, sizeof(hist));
	fill(1000, 99);
	disk_rolling_add(&r, hist, DISK_ADAPTIVE_DECAY);
	CHECK(disk_rolling_p99(&r, DISK_ADAPTIVE_MIN_SAMPLES) == 0);
	memset(hist, 0, sizeof(hist));
	fill(1000, 20);
	disk_rolling_add(&r, hist, DISK_ADAPTIVE_DECAY);	/* 99 * 0.9 + 20 >= 100 */
	CHECKF(rel_err(disk_rolling_p99(&r, DISK_ADAPTIVE_MIN_SAMPLES), 1000) <= 1.0 / 32,
	       "p99 %llu", (unsigned long long)disk_rolling_p99(&r, DISK_ADAPTIVE_MIN_SAMPLES));
}

/* Old behaviour fades: after a slow phase, a fast one takes over. */
static void t_rolling_forgets(void)
{
	static struct disk_rolling r;
	uint64_t p99 = 0;
	int i;

	memset(hist, 0, sizeof(hist));
	fill(10000000, 1000);		/* 10 ms */
	disk_rolling_add(&r, hist, DISK_ADAPTIVE_DECAY);
	memset(hist, 0, sizeof(hist));
	fill(200000, 1000);		/* 200 µs */
	for (i = 0; i < 60; i++)
		disk_rolling_add(&r, hist, DISK_ADAPTIVE_DECAY);
	p99 = disk_rolling_p99(&r, DISK_ADAPTIVE_MIN_SAMPLES);
	CHECKF(rel_err(p99, 200000) <= 1.0 / 32, "p99 %llu after 60 fast intervals",
	       (unsigned long long)p99);
}

static void t_set_merges_by_key(void)
{
	struct disk_set s = { 0 };
	struct disk_totals *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	CHECK(a && b);
	a->key = (struct pa_disk_key){ PA_KDEV(7, 3), 0 };
	a->count = 2;
	a->bytes = 8192;
	a->service_max_ns = 50;
	a->service_hist[pa_hist_index(50)] = 2;
	*b = *a;
	b->service_max_ns = 70;
	CHECK(disk_set_add(&s, a) == 0 && disk_set_add(&s, b) == 0);
	b->key.op = 1;
	CHECK(disk_set_add(&s, b) == 0);
	CHECK(s.n == 2);
	CHECK(s.rows[0].count == 4 && s.rows[0].bytes == 16384 && s.rows[0].service_max_ns == 70);
	CHECK(s.rows[0].service_hist[pa_hist_index(50)] == 4);
	CHECK(disk_set_get(&s, &b->key) == &s.rows[1]);
	disk_set_clear(&s);
	CHECK(s.n == 0);
	disk_set_free(&s);
	free(a);
	free(b);
}

static void t_kdev_encoding(void)
{
	uint32_t d = PA_KDEV(259, 1048575);

	CHECK(PA_KDEV_MAJOR(d) == 259 && PA_KDEV_MINOR(d) == 1048575);
	CHECK(PA_KDEV(7, 3) == ((7U << 20) | 3));
}

static void t_uevent_name(void)
{
	char buf[32];

	CHECK(blkdev_uevent_name("MAJOR=259\nMINOR=0\nDEVNAME=nvme0n1\nDEVTYPE=disk\n",
				 buf, sizeof(buf)));
	CHECK_STREQ(buf, "nvme0n1");
	CHECK(blkdev_uevent_name("DEVNAME=sda", buf, sizeof(buf)));
	CHECK_STREQ(buf, "sda");
	CHECK(!blkdev_uevent_name("MAJOR=8\nMINOR=0\n", buf, sizeof(buf)));
	CHECK(!blkdev_uevent_name("DEVNAME=\n", buf, sizeof(buf)));
	CHECK(!blkdev_uevent_name("DEVNAME=averyveryverylongdevicenamethatdoesnotfit\n", buf, 8));
}

/* A name that cannot exist falls back to MAJ:MIN. */
static void t_unknown_device_shown_by_number(void)
{
	char buf[32];

	CHECK_STREQ(blkdev_name(4000, 999999, buf, sizeof(buf)), "4000:999999");
}

static void t_format_bytes(void)
{
	char buf[32];

	CHECK_STREQ(disk_format_bytes(0, buf, sizeof(buf)), "0B");
	CHECK_STREQ(disk_format_bytes(512, buf, sizeof(buf)), "512B");
	CHECK_STREQ(disk_format_bytes(4096, buf, sizeof(buf)), "4KiB");
	CHECK_STREQ(disk_format_bytes(1536, buf, sizeof(buf)), "1.50KiB");
	CHECK_STREQ(disk_format_bytes(1048576 * 3 / 2, buf, sizeof(buf)), "1.50MiB");
	CHECK_STREQ(disk_format_bytes(131072, buf, sizeof(buf)), "128KiB");
}

int main(void)
{
	RUN(t_rolling_p99_within_bucket_error);
	RUN(t_rolling_needs_history);
	RUN(t_rolling_forgets);
	RUN(t_set_merges_by_key);
	RUN(t_kdev_encoding);
	RUN(t_uevent_name);
	RUN(t_unknown_device_shown_by_number);
	RUN(t_format_bytes);
	CHECK_EXIT();
}
