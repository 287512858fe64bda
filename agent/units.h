/* SPDX-License-Identifier: GPL-2.0 */
/* Human units: parsing and printing durations and sizes. */
#ifndef PERFAGENT_UNITS_H
#define PERFAGENT_UNITS_H

#include <stddef.h>
#include <stdint.h>

#define NSEC_PER_USEC	1000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_SEC	1000000000ULL

/*
 * Parse "250ms", "1.5s", "10us", "2m", "1h", "100ns" into nanoseconds.
 * A bare number is taken in bare_unit_ns; bare_unit_ns == 0 makes the unit
 * mandatory. Returns 0, or -1 when s is not a duration (no space between
 * number and unit, no negative values, no overflow).
 */
int parse_duration_ns(const char *s, uint64_t bare_unit_ns, uint64_t *out);

/* Parse "64M", "1G", "512k", "100" (bytes); suffixes are powers of 1024. */
int parse_size_bytes(const char *s, uint64_t *out);

/* "812ns", "12.4µs", "3.21ms", "1.50s", "2m05s": three significant digits. */
char *format_duration(uint64_t ns, char *buf, size_t len);

/* Columns of a UTF-8 string (µ is two bytes, one column). */
size_t utf8_width(const char *s);

#endif
