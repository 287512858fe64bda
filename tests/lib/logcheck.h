/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading a log directory back the way a strict consumer would, for the
 * log writer's tests: every file of a stream (live, rotated, gzip'd), every
 * line parsed, then an audit of the sequence numbers: each seq once, and
 * every hole explained by a gap record. Header-only (static functions).
 */
#ifndef PERFAGENT_TEST_LOGCHECK_H
#define PERFAGENT_TEST_LOGCHECK_H

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <cJSON.h>

struct lc_line {
	uint64_t seq;
	bool gap;
	long n;			/* the test's own "n" member, -1 when absent */
	long t;			/* the test's own "t" member (thread), -1 when absent */
};

struct lc_gap {
	uint64_t first, last, lines;
	bool has_range;
};

struct lc_scan {
	struct lc_line *lines;
	size_t nlines, cap;
	struct lc_gap *gaps;
	size_t ngaps;
	size_t partial_live;	/* unterminated last line of the live file */
	size_t partial_other;	/* unterminated last line of any other file: never allowed */
	size_t bad;		/* complete lines that are not a valid record */
	size_t bad_gz;		/* .gz files that do not decompress to the end */
	size_t files, gz, rotated_plain, tmp;
	char first_bad[160];
};

static inline int lc_add_line(struct lc_scan *s, const struct lc_line *l)
{
	if (s->nlines == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		struct lc_line *v = realloc(s->lines, cap * sizeof(*v));

		if (!v)
			return -1;
		s->lines = v;
		s->cap = cap;
	}
	s->lines[s->nlines++] = *l;
	return 0;
}

static inline double lc_num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* One complete line: the envelope must be there, in order, and right. */
static inline void lc_parse_line(struct lc_scan *s, const char *stream, const char *text,
				 size_t len)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	const cJSON *ts, *seq, *host, *kind, *type;
	struct lc_line l = { 0 };
	char expect_head[] = "{\"ts\":\"";

	ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
	seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
	host = cJSON_GetObjectItemCaseSensitive(o, "host");
	kind = cJSON_GetObjectItemCaseSensitive(o, "kind");
	type = cJSON_GetObjectItemCaseSensitive(o, "type");
	if (!o || !cJSON_IsString(ts) || strlen(ts->valuestring) != 27 ||
	    ts->valuestring[26] != 'Z' || !cJSON_IsNumber(seq) || !cJSON_IsString(host) ||
	    !cJSON_IsString(kind) || strcmp(kind->valuestring, stream) ||
	    strncmp(text, expect_head, strlen(expect_head))) {
		if (!s->bad++)
			snprintf(s->first_bad, sizeof(s->first_bad), "%.*s", (int)(len < 150 ? len : 150), text);
		cJSON_Delete(o);
		return;
	}
	l.seq = (uint64_t)seq->valuedouble;
	l.n = (long)lc_num(o, "n", -1);
	l.t = (long)lc_num(o, "t", -1);
	l.gap = cJSON_IsString(type) && strcmp(type->valuestring, "gap") == 0;
	if (l.gap) {
		struct lc_gap *g = realloc(s->gaps, (s->ngaps + 1) * sizeof(*g));

		if (g) {
			s->gaps = g;
			g = &s->gaps[s->ngaps++];
			g->has_range = cJSON_GetObjectItemCaseSensitive(o, "first_seq") != NULL;
			g->first = (uint64_t)lc_num(o, "first_seq", 0);
			g->last = (uint64_t)lc_num(o, "last_seq", 0);
			g->lines = (uint64_t)lc_num(o, "lines", 0);
		}
	}
	lc_add_line(s, &l);
	cJSON_Delete(o);
}

/* Every line of one file (plain or gzip: zlib reads both). */
static inline void lc_read_file(struct lc_scan *s, const char *stream, const char *path, bool live)
{
	char buf[65536];
	char *line = NULL;
	size_t len = 0, cap = 0;
	int n, errnum = Z_OK;
	gzFile gz = gzopen(path, "rb");

	if (!gz) {
		s->bad_gz++;
		return;
	}
	s->files++;
	while ((n = gzread(gz, buf, sizeof(buf))) > 0) {
		int i;

		for (i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				lc_parse_line(s, stream, line ? line : "", len);
				len = 0;
				continue;
			}
			if (len + 1 >= cap) {
				cap = cap ? cap * 2 : 4096;
				line = realloc(line, cap);
			}
			line[len++] = buf[i];
		}
	}
	if (n < 0 || (gzerror(gz, &errnum), errnum != Z_OK))
		s->bad_gz++;
	if (len) {
		if (live)
			s->partial_live++;
		else
			s->partial_other++;
	}
	gzclose(gz);
	free(line);
}

/* The files of stream in dir: STREAM.jsonl and STREAM-*.jsonl[.gz]. */
static inline int lc_scan_stream(const char *dir, const char *stream, struct lc_scan *s)
{
	char path[4096], live[64];
	struct dirent *de;
	size_t sl = strlen(stream);
	DIR *d = opendir(dir);

	memset(s, 0, sizeof(*s));
	if (!d)
		return -1;
	snprintf(live, sizeof(live), "%s.jsonl", stream);
	while ((de = readdir(d))) {
		const char *name = de->d_name;
		size_t nl = strlen(name);
		bool is_live = strcmp(name, live) == 0;

		if (!is_live && (strncmp(name, stream, sl) || name[sl] != '-'))
			continue;
		if (nl > 4 && strcmp(name + nl - 4, ".tmp") == 0) {
			s->tmp++;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (nl > 3 && strcmp(name + nl - 3, ".gz") == 0)
			s->gz++;
		else if (!is_live)
			s->rotated_plain++;
		lc_read_file(s, stream, path, is_live);
	}
	closedir(d);
	return 0;
}

static inline void lc_free(struct lc_scan *s)
{
	free(s->lines);
	free(s->gaps);
	memset(s, 0, sizeof(*s));
}

static inline int lc_by_seq(const void *a, const void *b)
{
	const struct lc_line *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static inline bool lc_in_gap(const struct lc_scan *s, uint64_t seq)
{
	size_t i;

	for (i = 0; i < s->ngaps; i++) {
		if (s->gaps[i].has_range && seq >= s->gaps[i].first && seq <= s->gaps[i].last)
			return true;
	}
	return false;
}

/*
 * Sort by seq, then: no seq twice; each seq from first (0: the lowest found)
 * to the highest is a line or inside a gap record's range; no line inside a
 * gap range. 0, or -1 with the first violation in why.
 */
static inline int lc_audit(struct lc_scan *s, uint64_t first, uint64_t *max, char *why, size_t len)
{
	uint64_t expect;
	size_t i;

	*max = 0;
	if (!s->nlines) {
		snprintf(why, len, "no lines");
		return -1;
	}
	qsort(s->lines, s->nlines, sizeof(*s->lines), lc_by_seq);
	expect = first ? first : s->lines[0].seq;
	for (i = 0; i < s->nlines; i++) {
		uint64_t seq = s->lines[i].seq;

		if (i && seq == s->lines[i - 1].seq) {
			snprintf(why, len, "seq %llu found twice", (unsigned long long)seq);
			return -1;
		}
		if (lc_in_gap(s, seq)) {
			snprintf(why, len, "seq %llu is a line but inside a gap record", (unsigned long long)seq);
			return -1;
		}
		for (; expect < seq; expect++) {
			if (!lc_in_gap(s, expect)) {
				snprintf(why, len, "seq %llu missing, no gap record explains it",
					 (unsigned long long)expect);
				return -1;
			}
		}
		expect = seq + 1;
	}
	*max = s->lines[s->nlines - 1].seq;
	return 0;
}

static inline int lc_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf dir */
static inline void lc_rmtree(const char *dir)
{
	nftw(dir, lc_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
