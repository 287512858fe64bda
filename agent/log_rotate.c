// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log_rotate.h"

int rotated_name(char *buf, size_t len, const char *stream, uint64_t now_ns,
		 uint64_t first_seq, unsigned dup)
{
	time_t sec = (time_t)(now_ns / 1000000000ULL);
	char stamp[32], suffix[16] = "";
	struct tm tm;
	int n;

	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	if (dup)
		snprintf(suffix, sizeof(suffix), "-%u", dup);
	n = snprintf(buf, len, "%s-%s-%06llu%s.jsonl", stream, stamp,
		     (unsigned long long)first_seq, suffix);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Skip exactly n digits; NULL when they are not there. */
static const char *skip_digits(const char *p, int n)
{
	while (n-- > 0) {
		if (!isdigit((unsigned char)*p))
			return NULL;
		p++;
	}
	return p;
}

/* A decimal number of at least one digit; NULL when none or it overflows. */
static const char *parse_u64(const char *p, uint64_t *out)
{
	uint64_t v = 0;

	if (!isdigit((unsigned char)*p))
		return NULL;
	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p++ - '0');

		if (v > (UINT64_MAX - d) / 10)
			return NULL;
		v = v * 10 + d;
	}
	*out = v;
	return p;
}

int rotated_parse(const char *name, const char *stream, struct rotated_file *out)
{
	size_t slen = strlen(stream);
	const char *p = name;
	uint64_t dup = 0;

	memset(out, 0, sizeof(*out));
	if (strlen(name) >= sizeof(out->name) || strncmp(p, stream, slen) || p[slen] != '-')
		return -1;
	p = skip_digits(p + slen + 1, 8);
	if (!p || *p++ != 'T' || !(p = skip_digits(p, 6)) || *p++ != '-')
		return -1;
	if (!(p = parse_u64(p, &out->seq)))
		return -1;
	if (*p == '-' && (!(p = parse_u64(p + 1, &dup)) || dup > 1000000))
		return -1;
	out->dup = (unsigned)dup;
	if (strcmp(p, ".jsonl.gz") == 0)
		out->compressed = true;
	else if (strcmp(p, ".jsonl.gz.tmp") == 0)
		out->tmp = true;
	else if (strcmp(p, ".jsonl") != 0)
		return -1;
	strcpy(out->name, name);
	return 0;
}

static int push(struct rotated_list *l, const struct rotated_file *f)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct rotated_file *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *f;
	return 0;
}

static int by_age(const void *a, const void *b)
{
	const struct rotated_file *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	if (x->dup != y->dup)
		return x->dup < y->dup ? -1 : 1;
	return strcmp(x->name, y->name);
}

int rotated_list(int dirfd, const char *stream, struct rotated_list *out)
{
	struct rotated_file f;
	struct dirent *de;
	struct stat st;
	int fd, ret = 0;
	DIR *d;

	memset(out, 0, sizeof(*out));
	/* readdir needs its own descriptor: fdopendir takes ownership. */
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while ((de = readdir(d))) {
		if (rotated_parse(de->d_name, stream, &f))
			continue;
		if (fstatat(dirfd, f.name, &st, AT_SYMLINK_NOFOLLOW) || !S_ISREG(st.st_mode))
			continue;	/* gone meanwhile, or not ours */
		f.bytes = (uint64_t)st.st_size;
		ret = push(out, &f);
		if (ret)
			break;
	}
	closedir(d);
	if (ret) {
		rotated_list_free(out);
		return ret;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_age);
	return 0;
}

void rotated_list_free(struct rotated_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void rotated_totals(const struct rotated_list *l, size_t *files, uint64_t *bytes)
{
	size_t i;

	*files = 0;
	*bytes = 0;
	for (i = 0; i < l->n; i++) {
		if (l->v[i].tmp)
			continue;
		(*files)++;
		*bytes += l->v[i].bytes;
	}
}

static bool over_limits(const struct rotated_list *l, unsigned keep_files, uint64_t keep_bytes)
{
	uint64_t bytes;
	size_t files;

	rotated_totals(l, &files, &bytes);
	return (keep_files && files > keep_files) || (keep_bytes && bytes > keep_bytes);
}

int rotated_retain(int dirfd, struct rotated_list *l, unsigned keep_files, uint64_t keep_bytes)
{
	int removed = 0;
	size_t i = 0;

	while (i < l->n && over_limits(l, keep_files, keep_bytes)) {
		if (l->v[i].tmp) {
			i++;
			continue;
		}
		if (unlinkat(dirfd, l->v[i].name, 0) && errno != ENOENT)
			return -errno;
		memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
		l->n--;
		removed++;
	}
	return removed;
}
