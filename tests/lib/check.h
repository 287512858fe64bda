/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal test harness. Each test binary runs its cases with RUN(fn); a case
 * fails on the first CHECK that does not hold. Every case prints one line,
 * "ok - NAME" or "not ok - NAME", which tests/run.sh counts; the binary exits
 * non-zero when any case failed.
 */
#ifndef PERFAGENT_TEST_CHECK_H
#define PERFAGENT_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failed_cases;
static int check_case_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "# %s:%d: CHECK(%s) failed\n",         \
				__FILE__, __LINE__, #cond);                    \
			check_case_failed = 1;                                 \
			return;                                                \
		}                                                              \
	} while (0)

/* CHECK with a printf-style explanation of the values involved. */
#define CHECKF(cond, ...)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "# %s:%d: CHECK(%s) failed: ",         \
				__FILE__, __LINE__, #cond);                    \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			check_case_failed = 1;                                 \
			return;                                                \
		}                                                              \
	} while (0)

#define CHECK_STREQ(a, b) CHECKF(strcmp((a), (b)) == 0, "\"%s\" != \"%s\"", (a), (b))

/* A case that cannot run here (missing kernel feature) is reported as a
 * skip, never as a pass.
 */
#define SKIP(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "# skip: " __VA_ARGS__);                       \
		fputc('\n', stderr);                                           \
		check_case_failed = 2;                                         \
		return;                                                        \
	} while (0)

/* CHECK_ONLY=NAME[,NAME...] in the environment runs only those cases. */
static inline int check_selected(const char *name)
{
	const char *only = getenv("CHECK_ONLY"), *p;
	size_t n = strlen(name);

	if (!only || !*only)
		return 1;
	for (p = strstr(only, name); p; p = strstr(p + 1, name))
		if ((p == only || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

#define RUN(fn)                                                                \
	do {                                                                   \
		if (!check_selected(#fn))                                      \
			break;                                                 \
		check_case_failed = 0;                                         \
		fn();                                                          \
		if (check_case_failed == 2) {                                  \
			printf("skip - %s\n", #fn);                            \
		} else if (check_case_failed) {                                \
			printf("not ok - %s\n", #fn);                          \
			check_failed_cases++;                                  \
		} else {                                                       \
			printf("ok - %s\n", #fn);                              \
		}                                                              \
		fflush(stdout);                                                \
	} while (0)

#define CHECK_EXIT() return check_failed_cases ? 1 : 0

#endif
