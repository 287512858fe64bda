/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the collector tests (tests/unit/test_collect_*.c) share: a sink that
 * keeps every sample by its series key ("cpu.busy_ratio{cpu=total}"), every
 * event and error; fixture paths; scratch directories.
 */
#ifndef PERFAGENT_TEST_COLLECT_H
#define PERFAGENT_TEST_COLLECT_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "metrics.h"

struct cap_sample {
	char key[METRIC_KEY_MAX];
	double value;
};

struct cap_event {
	char kind[64];
	enum alert_severity severity;
	char message[2048];
	char labels[512];	/* "a=x,b=y" in emitted order */
};

struct capture {
	struct cap_sample *s;
	size_t n;
	struct cap_event *ev;
	size_t nev;
	char (*err)[640];
	size_t nerr;
};

static void cap_on_sample(void *ctx, const struct metric_sample *s)
{
	struct capture *cap = ctx;

	cap->s = realloc(cap->s, (cap->n + 1) * sizeof(*cap->s));
	if (metric_key(s->name, s->labels, s->nlabels, cap->s[cap->n].key,
		       sizeof(cap->s[cap->n].key)) < 0)
		snprintf(cap->s[cap->n].key, sizeof(cap->s[cap->n].key), "(key too long)");
	cap->s[cap->n++].value = s->value;
}

static void cap_on_event(void *ctx, const struct collect_event *e)
{
	struct capture *cap = ctx;
	struct cap_event *ce;
	size_t used = 0;
	unsigned int i;

	cap->ev = realloc(cap->ev, (cap->nev + 1) * sizeof(*cap->ev));
	ce = &cap->ev[cap->nev++];
	snprintf(ce->kind, sizeof(ce->kind), "%s", e->kind);
	ce->severity = e->severity;
	snprintf(ce->message, sizeof(ce->message), "%s", e->message);
	ce->labels[0] = '\0';
	for (i = 0; i < e->nlabels && used < sizeof(ce->labels); i++)
		used += (size_t)snprintf(ce->labels + used, sizeof(ce->labels) - used, "%s%s=%s",
					 i ? "," : "", e->labels[i].name, e->labels[i].value);
}

static void cap_on_error(void *ctx, const char *collector, const char *msg)
{
	struct capture *cap = ctx;

	cap->err = realloc(cap->err, (cap->nerr + 1) * sizeof(*cap->err));
	snprintf(cap->err[cap->nerr++], sizeof(cap->err[0]), "%s: %s", collector, msg);
	/* Shown in the test output: what an admin would read. */
	fprintf(stderr, "# collector error: %s: %s\n", collector, msg);
}

static inline struct collect_sink cap_sink(struct capture *cap)
{
	return (struct collect_sink){ cap_on_sample, cap_on_event, cap_on_error, cap };
}

static inline void cap_reset(struct capture *cap)
{
	free(cap->s);
	free(cap->ev);
	free(cap->err);
	memset(cap, 0, sizeof(*cap));
}

/* The value of series key, or NAN when it was not emitted. */
static inline double cap_get(const struct capture *cap, const char *key)
{
	size_t i;

	for (i = 0; i < cap->n; i++)
		if (strcmp(cap->s[i].key, key) == 0)
			return cap->s[i].value;
	return NAN;
}

static inline bool cap_has(const struct capture *cap, const char *key)
{
	return !isnan(cap_get(cap, key));
}

/* Samples whose key starts with prefix. */
static inline size_t cap_count(const struct capture *cap, const char *prefix)
{
	size_t i, n = 0;

	for (i = 0; i < cap->n; i++)
		n += strncmp(cap->s[i].key, prefix, strlen(prefix)) == 0;
	return n;
}

/* Index of the first error containing text, or -1. */
static inline int cap_error(const struct capture *cap, const char *text)
{
	size_t i;

	for (i = 0; i < cap->nerr; i++)
		if (strstr(cap->err[i], text))
			return (int)i;
	return -1;
}

#define NEAR(a, b) (fabs((a) - (b)) < 1e-9)

/*
 * Absolute path of tests/fixtures/rel. The tests run from the top of the
 * tree (tests/run.sh does); from elsewhere, PERFAGENT_FIXTURES names the
 * fixtures directory.
 */
static inline const char *fixture(const char *rel)
{
	static char paths[8][PATH_MAX];
	static unsigned int next;
	const char *base = getenv("PERFAGENT_FIXTURES");
	char *out = paths[next++ % 8], cwd[PATH_MAX];
	int n;

	if (!base)
		base = "tests/fixtures";
	if (base[0] == '/' || !getcwd(cwd, sizeof(cwd)))
		n = snprintf(out, PATH_MAX, "%s/%s", base, rel);
	else
		n = snprintf(out, PATH_MAX, "%s/%s/%s", cwd, base, rel);
	if (n < 0 || n >= PATH_MAX)
		out[0] = '\0';
	return out;
}

static inline struct collector *open_collector(const char *name, const char *root,
					       const char *state_dir)
{
	struct collector_opts opts = { .root = root, .state_dir = state_dir };
	struct collector *c = NULL;
	char err[512];

	if (collector_open(&c, name, &opts, err, sizeof(err)))
		fprintf(stderr, "# collector_open %s: %s\n", name, err);
	return c;
}

static int scratch_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Scratch directories not removed yet: a failed CHECK returns early, so
 * whatever is left is removed at exit.
 */
static char scratch_dirs[32][64];

static inline void scratch_remove(const char *dir)
{
	size_t i;

	if (!dir || !dir[0])
		return;
	nftw(dir, scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (i = 0; i < 32; i++)
		if (strcmp(scratch_dirs[i], dir) == 0)
			scratch_dirs[i][0] = '\0';
}

static void scratch_remove_left(void)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (scratch_dirs[i][0])
			nftw(scratch_dirs[i], scratch_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh scratch directory; remove it with scratch_remove. */
static inline char *scratch_make(char *buf, size_t len)
{
	static bool registered;
	size_t i;

	snprintf(buf, len, "/tmp/perfagent-test-XXXXXX");
	if (!mkdtemp(buf))
		return NULL;
	if (!registered)
		registered = !atexit(scratch_remove_left);
	for (i = 0; i < 32; i++) {
		if (!scratch_dirs[i][0]) {
			snprintf(scratch_dirs[i], sizeof(scratch_dirs[i]), "%s", buf);
			break;
		}
	}
	return buf;
}

/* Write text to dir/rel, creating the directories on the way. */
static inline int put_file(const char *dir, const char *rel, const char *text)
{
	char path[PATH_MAX], *p;
	FILE *f;
	int n = snprintf(path, sizeof(path), "%s/%s", dir, rel);

	if (n < 0 || n >= (int)sizeof(path))
		return -1;
	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Point dir/name (a symlink) at target, replacing what was there. */
static inline int relink(const char *dir, const char *name, const char *target)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);

	if (n < 0 || n >= (int)sizeof(path))
		return -1;
	unlink(path);
	return symlink(target, path);
}

#endif
