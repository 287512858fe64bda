// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect_util.h"

#define READ_CHUNK 4096

const char *collect_path(const struct collector *c, const char *abs, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", c->root, abs);
	return buf;
}

static int grow_buf(struct collector *c, size_t need)
{
	size_t size = c->buf_size ? c->buf_size : READ_CHUNK;
	char *p;

	while (size < need)
		size *= 2;
	if (size == c->buf_size)
		return 0;
	p = realloc(c->buf, size);
	if (!p)
		return -1;
	c->buf = p;
	c->buf_size = size;
	return 0;
}

/* /proc files are generated as they are read: read to EOF in one go so a
 * snapshot is as consistent as the kernel makes it.
 */
char *collect_read(struct collector *c, const char *abs)
{
	size_t used = 0;
	ssize_t n;
	int fd, saved;

	collect_path(c, abs, c->path, sizeof(c->path));
	fd = open(c->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (;;) {
		if (grow_buf(c, used + READ_CHUNK + 1))
			goto fail;
		n = read(fd, c->buf + used, c->buf_size - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	c->buf[used] = '\0';
	return c->buf;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return NULL;
}

char *collect_read_or_error(struct collector *c, const char *abs)
{
	char *text = collect_read(c, abs);

	if (!text)
		collect_error(c, "%s: cannot read: %s", c->path, strerror(errno));
	return text;
}

static void report(struct collector *c, const char *msg)
{
	c->errors++;
	if (c->sink && c->sink->error)
		c->sink->error(c->sink->ctx, c->ops->name, msg);
}

void collect_error(struct collector *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	report(c, msg);
}

void collect_line_error(struct collector *c, unsigned int line, const char *fmt, ...)
{
	char msg[512];
	int n;
	va_list ap;

	n = snprintf(msg, sizeof(msg), "%s:%u: ", c->path, line);
	if (n < 0 || (size_t)n >= sizeof(msg))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	report(c, msg);
}

static unsigned int take_labels(struct metric_label *labels, va_list ap)
{
	unsigned int n = 0;
	const char *name;

	while ((name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (n < METRIC_MAX_LABELS)
			labels[n++] = (struct metric_label){ name, value };
	}
	return n;
}

void collect_emit(struct collector *c, const char *metric, double value, ...)
{
	struct metric_sample s = { .name = metric, .value = value, .ts_ns = c->ts_ns };
	va_list ap;

	va_start(ap, value);
	s.nlabels = take_labels(s.labels, ap);
	va_end(ap);
	if (c->sink && c->sink->sample)
		c->sink->sample(c->sink->ctx, &s);
}

void collect_event(struct collector *c, const char *kind, enum alert_severity sev,
		   const char *message, ...)
{
	struct collect_event e = { .kind = kind, .severity = sev, .message = message };
	va_list ap;

	va_start(ap, message);
	e.nlabels = take_labels(e.labels, ap);
	va_end(ap);
	if (c->sink && c->sink->event)
		c->sink->event(c->sink->ctx, &e);
}

void collect_set_unavailable(struct collector *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->unavailable, sizeof(c->unavailable), fmt, ap);
	va_end(ap);
}

char *collect_next_line(char **cur)
{
	char *line = *cur, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*cur = nl + 1;
	} else {
		*cur = line + strlen(line);
	}
	return line;
}

int collect_parse_u64(char **s, uint64_t *v)
{
	char *p = *s, *end;
	unsigned long long x;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	x = strtoull(p, &end, 10);
	if (errno)
		return -1;
	*v = x;
	*s = end;
	return 0;
}

int collect_parse_double(char **s, double *v)
{
	char *p = *s, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	*v = strtod(p, &end);
	if (errno)
		return -1;
	*s = end;
	return 0;
}

bool collect_counter_rate(const struct collector *c, struct collect_counter *k, uint64_t cur,
			  double *rate)
{
	uint64_t elapsed = c->clock_ns - k->stamp_ns;
	bool ok = k->valid && elapsed > 0 && cur >= k->prev;

	if (ok)
		*rate = collect_rate(cur - k->prev, elapsed);
	k->prev = cur;
	k->stamp_ns = c->clock_ns;
	k->valid = true;
	return ok;
}

double collect_ratio(double a, double b)
{
	return b > 0 ? a / b : 0;
}

static int mkdir_p(const char *dir)
{
	char path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

/* state_dir/name[suffix]; -1 with ENAMETOOLONG when it does not fit. */
static int state_path(const struct collector *c, const char *name, const char *suffix,
		      char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s%s", c->state_dir, name, suffix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

char *collect_state_load(struct collector *c, const char *name)
{
	char path[PATH_MAX], *data = NULL;
	size_t size = 0;
	FILE *f;

	if (state_path(c, name, "", path, sizeof(path)))
		return NULL;
	f = fopen(path, "re");
	if (!f)
		return NULL;
	if (getdelim(&data, &size, '\0', f) < 0) {
		free(data);
		data = strdup("");	/* empty file */
	}
	fclose(f);
	return data;
}

static int write_all(int fd, const char *data, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, data, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int collect_state_save(struct collector *c, const char *name, const char *data, size_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, dfd, saved;
	bool ok;

	if (state_path(c, name, "", path, sizeof(path)) ||
	    state_path(c, name, ".tmp", tmp, sizeof(tmp))) {
		collect_error(c, "state file %s/%s: path too long", c->state_dir, name);
		return -1;
	}
	if (mkdir_p(c->state_dir)) {
		collect_error(c, "state directory %s: %s (set state_dir to a writable directory)",
			      c->state_dir, strerror(errno));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	ok = !write_all(fd, data, len) && !fsync(fd);
	saved = errno;
	if (close(fd) && ok) {
		ok = false;
		saved = errno;
	}
	if (ok && rename(tmp, path)) {
		ok = false;
		saved = errno;
	}
	if (!ok) {
		unlink(tmp);
		errno = saved;
		goto fail;
	}
	/* The rename itself must survive a crash, or the next start repeats. */
	dfd = open(c->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	collect_error(c, "cannot save %s: %s", path, strerror(errno));
	return -1;
}
