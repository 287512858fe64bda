// SPDX-License-Identifier: GPL-2.0
#include "check.h"
#include "units.h"

static void t_durations(void)
{
	uint64_t v;

	CHECK(parse_duration_ns("10ms", 0, &v) == 0 && v == 10000000);
	CHECK(parse_duration_ns("1.5s", 0, &v) == 0 && v == 1500000000);
	CHECK(parse_duration_ns("250us", 0, &v) == 0 && v == 250000);
	CHECK(parse_duration_ns("250µs", 0, &v) == 0 && v == 250000);
	CHECK(parse_duration_ns("100ns", 0, &v) == 0 && v == 100);
	CHECK(parse_duration_ns("2m", 0, &v) == 0 && v == 120000000000ULL);
	CHECK(parse_duration_ns("1h", 0, &v) == 0 && v == 3600000000000ULL);
	CHECK(parse_duration_ns("3", NSEC_PER_SEC, &v) == 0 && v == 3000000000ULL);
}

static void t_bad_durations(void)
{
	uint64_t v;

	CHECK(parse_duration_ns("10", 0, &v) == -1);
	CHECK(parse_duration_ns("10 ms", 0, &v) == -1);
	CHECK(parse_duration_ns("-1s", 0, &v) == -1);
	CHECK(parse_duration_ns("ms", 0, &v) == -1);
	CHECK(parse_duration_ns("", NSEC_PER_SEC, &v) == -1);
	CHECK(parse_duration_ns("1e400s", 0, &v) == -1);
	CHECK(parse_duration_ns("5 parsecs", 0, &v) == -1);
	CHECK(parse_duration_ns(NULL, 0, &v) == -1);
}

static void t_sizes(void)
{
	uint64_t v;

	CHECK(parse_size_bytes("64M", &v) == 0 && v == 64ULL << 20);
	CHECK(parse_size_bytes("1G", &v) == 0 && v == 1ULL << 30);
	CHECK(parse_size_bytes("512k", &v) == 0 && v == 512ULL << 10);
	CHECK(parse_size_bytes("100", &v) == 0 && v == 100);
	CHECK(parse_size_bytes("1X", &v) == -1);
	CHECK(parse_size_bytes("-5M", &v) == -1);
}

static void t_format(void)
{
	char b[32];

	CHECK_STREQ(format_duration(812, b, sizeof(b)), "812ns");
	CHECK_STREQ(format_duration(12400, b, sizeof(b)), "12.4µs");
	CHECK_STREQ(format_duration(3210000, b, sizeof(b)), "3.21ms");
	CHECK_STREQ(format_duration(1500000000, b, sizeof(b)), "1.50s");
	CHECK_STREQ(format_duration(125000000000ULL, b, sizeof(b)), "2m05s");
	CHECK(utf8_width("12.4µs") == 6);
}

int main(void)
{
	RUN(t_durations);
	RUN(t_bad_durations);
	RUN(t_sizes);
	RUN(t_format);
	CHECK_EXIT();
}
