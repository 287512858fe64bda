// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

struct unit {
	const char *name;
	double scale;
};

static const struct unit duration_units[] = {
	{ "ns", 1.0 }, { "us", 1e3 }, { "µs", 1e3 }, { "ms", 1e6 },
	{ "s", 1e9 },  { "m", 60e9 }, { "h", 3600e9 }, { "d", 86400e9 },
};

static const struct unit size_units[] = {
	{ "", 1.0 },
	{ "k", 1024.0 }, { "K", 1024.0 }, { "KB", 1024.0 }, { "KiB", 1024.0 },
	{ "M", 1048576.0 }, { "MB", 1048576.0 }, { "MiB", 1048576.0 },
	{ "G", 1073741824.0 }, { "GB", 1073741824.0 }, { "GiB", 1073741824.0 },
	{ "T", 1099511627776.0 }, { "TB", 1099511627776.0 }, { "TiB", 1099511627776.0 },
};

/* Parse a non-negative decimal number at the start of s; *end = after it. */
static int parse_number(const char *s, double *v, const char **end)
{
	char *e;

	if (!isdigit((unsigned char)s[0]) && s[0] != '.')
		return -1;
	errno = 0;
	*v = strtod(s, &e);
	if (errno || e == s || !isfinite(*v) || *v < 0)
		return -1;
	*end = e;
	return 0;
}

static int scaled(const char *s, const struct unit *units, size_t n,
		  double bare, double *out)
{
	const char *suffix;
	double v;
	size_t i;

	if (!s || parse_number(s, &v, &suffix))
		return -1;
	if (!*suffix) {
		if (bare <= 0)
			return -1;
		*out = v * bare;
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(suffix, units[i].name) == 0) {
			*out = v * units[i].scale;
			return 0;
		}
	}
	return -1;
}

int parse_duration_ns(const char *s, uint64_t bare_unit_ns, uint64_t *out)
{
	double v;

	if (scaled(s, duration_units, sizeof(duration_units) / sizeof(duration_units[0]),
		   (double)bare_unit_ns, &v))
		return -1;
	if (v >= 18446744073709551615.0)
		return -1;
	*out = (uint64_t)llround(v);
	return 0;
}

int parse_size_bytes(const char *s, uint64_t *out)
{
	double v;

	if (scaled(s, size_units, sizeof(size_units) / sizeof(size_units[0]), 1.0, &v))
		return -1;
	if (v >= 18446744073709551615.0)
		return -1;
	*out = (uint64_t)llround(v);
	return 0;
}

char *format_duration(uint64_t ns, char *buf, size_t len)
{
	double v = (double)ns;

	if (ns < NSEC_PER_USEC)
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
	else if (ns < NSEC_PER_MSEC)
		snprintf(buf, len, "%.*fµs", v < 1e4 ? 2 : v < 1e5 ? 1 : 0, v / 1e3);
	else if (ns < NSEC_PER_SEC)
		snprintf(buf, len, "%.*fms", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6);
	else if (ns < 60 * NSEC_PER_SEC)
		snprintf(buf, len, "%.2fs", v / 1e9);
	else
		snprintf(buf, len, "%llum%02llus",
			 (unsigned long long)(ns / (60 * NSEC_PER_SEC)),
			 (unsigned long long)(ns / NSEC_PER_SEC % 60));
	return buf;
}

size_t utf8_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}
