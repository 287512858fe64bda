/* SPDX-License-Identifier: GPL-2.0 */
/* Clocks and timestamp formats shared by every output. */
#ifndef PERFAGENT_TIMEUTIL_H
#define PERFAGENT_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

uint64_t mono_ns(void);
uint64_t realtime_ns(void);

/* CLOCK_MONOTONIC (as bpf_ktime_get_ns gives) to CLOCK_REALTIME. */
uint64_t mono_to_realtime_ns(uint64_t mono);

/* "2026-11-22T02:50:01.123456Z" */
char *format_iso8601(uint64_t realtime_ns, char *buf, size_t len);

/* "02:50:01.123456" in local time */
char *format_clock(uint64_t realtime_ns, char *buf, size_t len);

#endif
