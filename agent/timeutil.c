// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <time.h>

#include "timeutil.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

uint64_t mono_to_realtime_ns(uint64_t mono)
{
	/* Recomputed each call: cheap, and follows clock steps (NTP). */
	return mono + (realtime_ns() - mono_ns());
}

char *format_iso8601(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char base[32];

	gmtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06lluZ", base, (unsigned long long)(ns / 1000 % 1000000));
	return buf;
}

char *format_clock(uint64_t ns, char *buf, size_t len)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	char base[16];

	localtime_r(&sec, &tm);
	strftime(base, sizeof(base), "%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%06llu", base, (unsigned long long)(ns / 1000 % 1000000));
	return buf;
}
