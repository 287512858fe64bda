// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log_compress.h"
#include "log_rotate.h"
#include "logwriter.h"
#include "timeutil.h"

#define NS_PER_DAY	(86400ULL * 1000000000ULL)
#define HEAD_MAX	128	/* bytes enough to hold a line's envelope up to its seq */
#define SCAN_CHUNK	4096
#define ENVELOPE_MAX	(HEAD_MAX + 64)	/* plus host name and kind */

/* Lines that could not be written, to be reported in one gap record. */
struct log_gap {
	uint64_t lines, bytes;
	uint64_t first_seq, last_seq;	/* valid when has_range */
	bool has_range;
	uint64_t since_ns, until_ns;
	int err;			/* 0: a partial line repaired at open */
};

struct stream {
	pthread_mutex_t lock;
	enum log_stream id;
	char live[32];			/* "metrics.jsonl" */
	char state[32];			/* ".metrics.seq" */
	bool recovered;			/* read back at open: its state may be saved */
	int fd;				/* -1 while the live file cannot be opened */
	int open_errno;
	bool torn;			/* a failed write left bytes truncate could not remove */
	uint64_t size;
	uint64_t first_seq;		/* of the live file's first line (size > 0) */
	uint64_t day;			/* local day of the live file's last line */
	uint64_t next_seq;
	struct log_gap gap;
	char *buf;
	size_t cap;
	struct logwriter_stats st;	/* writer side, under lock */
	/* Worker side, under logwriter.wlock */
	uint64_t compressed, compress_failures, removed, rotated_files, rotated_bytes;
	int compress_errno;
};

struct logwriter {
	char *dir;
	char *host_json;		/* the host name as a JSON string, quotes included */
	int dirfd, lockfd;
	bool compress;
	int level;
	unsigned keep_files;
	uint64_t keep_bytes, max_file_bytes;
	bool rotate_daily;
	uint64_t (*clock)(void);
	struct stream s[LOG_STREAMS];

	pthread_t worker;
	bool worker_started;
	pthread_mutex_t wlock;
	pthread_cond_t wcond;
	uint64_t req_gen, done_gen;
	int stop;
};

static const char *const stream_names[LOG_STREAMS] = {
	[LOG_METRICS] = "metrics",
	[LOG_EVENTS] = "events",
	[LOG_ALERTS] = "alerts",
};

const char *log_stream_name(enum log_stream s)
{
	return (unsigned)s < LOG_STREAMS ? stream_names[s] : "unknown";
}

/*
 * Local calendar day number: daily rotation happens at local midnight, as
 * an admin (and logrotate's daily run) expects; the offset at that moment
 * follows DST changes.
 */
static uint64_t day_of(uint64_t ns)
{
	time_t sec = (time_t)(ns / 1000000000ULL);
	struct tm tm;

	if (!localtime_r(&sec, &tm))
		return ns / NS_PER_DAY;
	return (uint64_t)(((int64_t)sec + tm.tm_gmtoff) / 86400);
}

/* ---- reading back what an earlier run left ---------------------------- */

/*
 * The seq of a line from its envelope, {"ts":"...","seq":N, — which this
 * writer always puts first. The ',' after the digits must be there, so a
 * line cut inside the number is not misread.
 */
static int envelope_seq(const char *line, size_t len, uint64_t *seq)
{
	static const char key[] = "\"seq\":";
	const char *p, *end = line + len;
	uint64_t v = 0;

	if (len < 8 || memcmp(line, "{\"ts\":\"", 7))
		return -1;
	p = memchr(line + 7, '"', len - 7);	/* end of the timestamp */
	if (!p || end - p < (ptrdiff_t)sizeof(key) + 1 || p[1] != ',' ||
	    memcmp(p + 2, key, sizeof(key) - 1))
		return -1;
	p += 2 + sizeof(key) - 1;
	if (p >= end || *p < '0' || *p > '9')
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (p >= end || *p != ',')
		return -1;
	*seq = v;
	return 0;
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* Offset of the last '\n' before offset end, or -1 when there is none. */
static int last_newline_before(int fd, uint64_t end, int64_t *pos)
{
	char buf[SCAN_CHUNK];

	while (end > 0) {
		size_t n = end < SCAN_CHUNK ? (size_t)end : SCAN_CHUNK;
		ssize_t got = pread_full(fd, buf, n, (off_t)(end - n));
		char *nl;

		if (got < 0)
			return (int)got;
		if ((size_t)got != n)
			return -EIO;	/* shrank under us */
		nl = memrchr(buf, '\n', n);
		if (nl) {
			*pos = (int64_t)(end - n) + (nl - buf);
			return 0;
		}
		end -= n;
	}
	*pos = -1;
	return 0;
}

/* seq from the envelope of the line starting at off; -1 when unreadable. */
static int seq_at(int fd, uint64_t off, uint64_t *seq)
{
	char head[HEAD_MAX];
	ssize_t n = pread_full(fd, head, sizeof(head), (off_t)off);

	if (n <= 0)
		return -1;
	return envelope_seq(head, (size_t)n, seq);
}

/*
 * The live file ends in a line without its '\n' when a run was killed while
 * writing it: cut it off, and keep its seq (when that much of it was
 * written) to report the loss in a gap record.
 */
static int repair_tail(struct logwriter *lw, struct stream *s, uint64_t mtime_ns)
{
	int64_t nl;
	uint64_t keep, seq;
	int ret;

	ret = last_newline_before(s->fd, s->size, &nl);
	if (ret)
		return ret;
	keep = (uint64_t)(nl + 1);
	if (keep == s->size)
		return 0;
	memset(&s->gap, 0, sizeof(s->gap));
	s->gap.lines = 1;
	s->gap.bytes = s->size - keep;
	s->gap.since_ns = s->gap.until_ns = mtime_ns ? mtime_ns : lw->clock();
	if (seq_at(s->fd, keep, &seq) == 0) {
		s->gap.has_range = true;
		s->gap.first_seq = s->gap.last_seq = seq;
	}
	if (ftruncate(s->fd, (off_t)keep))
		return -errno;
	s->size = keep;
	s->st.partial_repaired++;
	s->st.lines_dropped++;
	s->st.bytes_dropped += s->gap.bytes;
	return 0;
}

/* seq of the live file's last line; 1 when found, 0 when none can be read. */
static int live_last_seq(struct stream *s, uint64_t *seq)
{
	uint64_t end = s->size;
	int tries, ret;
	int64_t nl;

	/* A hand-edited last line should not hide the ones before it. */
	for (tries = 0; end > 0 && tries < 16; tries++) {
		ret = last_newline_before(s->fd, end - 1, &nl);
		if (ret)
			return ret;
		if (seq_at(s->fd, (uint64_t)(nl + 1), seq) == 0)
			return 1;
		end = (uint64_t)(nl + 1);
	}
	return 0;
}

/* seq of the newest rotated file's last line, which may be gzip'd. */
static int rotated_last_seq(struct logwriter *lw, struct stream *s, uint64_t *seq)
{
	struct rotated_list l;
	size_t i, len;
	char *line;
	int ret, found = 0;

	ret = rotated_list(lw->dirfd, stream_names[s->id], &l);
	if (ret)
		return ret;
	for (i = l.n; i-- > 0 && !found;) {
		if (l.v[i].tmp)
			continue;
		ret = file_last_line(lw->dirfd, l.v[i].name, &line, &len);
		if (ret == 1) {
			found = envelope_seq(line, len, seq) == 0;
			free(line);
		}
	}
	rotated_list_free(&l);
	return found;
}

/* The next seq saved at the last clean close or reopen; 1 when found. */
static int saved_next_seq(struct logwriter *lw, struct stream *s, uint64_t *next)
{
	char buf[32];
	ssize_t n;
	int fd;

	fd = openat(lw->dirfd, s->state, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = pread_full(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return sscanf(buf, "%" SCNu64, next) == 1;
}

/*
 * Saved so that seq survives an external logrotate, after which neither the
 * live file nor our rotated files hold the last seq. Written atomically.
 */
static void save_next_seq(struct logwriter *lw, struct stream *s)
{
	char tmp[48], buf[32];
	int fd, n;

	snprintf(tmp, sizeof(tmp), "%s.tmp", s->state);
	n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", s->next_seq);
	fd = openat(lw->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		unlinkat(lw->dirfd, tmp, 0);
		return;
	}
	close(fd);
	if (renameat(lw->dirfd, tmp, lw->dirfd, s->state))
		unlinkat(lw->dirfd, tmp, 0);
}

/* ---- the live file ----------------------------------------------------- */

static int open_live(struct logwriter *lw, struct stream *s)
{
	struct stat st;

	s->fd = openat(lw->dirfd, s->live, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (s->fd < 0) {
		s->open_errno = errno;
		return -errno;
	}
	if (fstat(s->fd, &st)) {
		s->open_errno = errno;
		close(s->fd);
		s->fd = -1;
		return -s->open_errno;
	}
	s->open_errno = 0;
	s->size = (uint64_t)st.st_size;
	s->day = day_of(st.st_size ? (uint64_t)st.st_mtim.tv_sec * 1000000000ULL : lw->clock());
	/* An existing file keeps its name at rotation by its first line's seq. */
	if (s->size && seq_at(s->fd, 0, &s->first_seq))
		s->first_seq = s->next_seq;
	return 0;
}

static int recover_stream(struct logwriter *lw, struct stream *s, char *err, size_t errlen)
{
	uint64_t mtime, seq = 0, saved;
	struct stat st;
	int ret, found = 0;

	s->next_seq = 1;
	ret = open_live(lw, s);
	if (ret == 0 && fstat(s->fd, &st) == 0) {
		mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ULL + (uint64_t)st.st_mtim.tv_nsec;
		ret = repair_tail(lw, s, mtime);
		if (ret == 0)
			found = live_last_seq(s, &seq);
		if (found < 0)
			ret = found;
		if (ret) {
			snprintf(err, errlen, "%s/%s: cannot read back the last lines: %s",
				 lw->dir, s->live, strerror(-ret));
			return ret;
		}
	}
	/* A live file that cannot be opened is not fatal: lines are counted as dropped. */
	if (!found && rotated_last_seq(lw, s, &seq) == 1)
		found = 1;
	if (found)
		s->next_seq = seq + 1;
	if (saved_next_seq(lw, s, &saved) && saved > s->next_seq)
		s->next_seq = saved;
	if (s->gap.has_range && s->gap.last_seq >= s->next_seq)
		s->next_seq = s->gap.last_seq + 1;
	if (s->size && seq_at(s->fd, 0, &s->first_seq))
		s->first_seq = s->next_seq;
	s->recovered = true;
	return 0;
}

/* ---- writing ----------------------------------------------------------- */

static int reserve(struct stream *s, size_t need)
{
	char *b;
	size_t cap;

	if (need <= s->cap)
		return 0;
	cap = s->cap ? s->cap : 1024;
	while (cap < need)
		cap *= 2;
	b = realloc(s->buf, cap);
	if (!b)
		return -ENOMEM;
	s->buf = b;
	s->cap = cap;
	return 0;
}

/* The object's members between its braces, trimmed; NULL when not an object. */
static const char *object_members(const char *obj, size_t len, size_t *mlen)
{
	const char *b = obj, *e;

	if (!obj || memchr(obj, '\n', len))
		return NULL;
	e = obj + len;
	while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
		b++;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\0'))
		e--;
	if (e - b < 2 || *b != '{' || e[-1] != '}')
		return NULL;
	b++;
	e--;
	while (b < e && (*b == ' ' || *b == '\t' || *b == '\r'))
		b++;
	*mlen = (size_t)(e - b);
	return b;
}

/* Envelope, then the caller's members, then '\n', into s->buf. */
static int format_line(struct logwriter *lw, struct stream *s, uint64_t ts_ns, uint64_t seq,
		       const char *members, size_t mlen, size_t *out)
{
	char ts[40];
	size_t n;
	int ret;

	ret = reserve(s, ENVELOPE_MAX + strlen(lw->host_json) + mlen + 3);
	if (ret)
		return ret;
	format_iso8601(ts_ns, ts, sizeof(ts));
	n = (size_t)snprintf(s->buf, s->cap,
			     "{\"ts\":\"%s\",\"seq\":%" PRIu64 ",\"host\":%s,\"kind\":\"%s\"",
			     ts, seq, lw->host_json, stream_names[s->id]);
	if (mlen) {
		s->buf[n++] = ',';
		memcpy(s->buf + n, members, mlen);
		n += mlen;
	}
	s->buf[n++] = '}';
	s->buf[n++] = '\n';
	*out = n;
	return 0;
}

static bool rotation_due(struct logwriter *lw, struct stream *s, uint64_t now, size_t len)
{
	if (s->fd < 0 || s->size == 0)
		return false;
	if (lw->max_file_bytes && s->size + len > lw->max_file_bytes)
		return true;
	return lw->rotate_daily && day_of(now) != s->day;
}

static void wake_worker(struct logwriter *lw)
{
	pthread_mutex_lock(&lw->wlock);
	lw->req_gen++;
	pthread_cond_broadcast(&lw->wcond);
	pthread_mutex_unlock(&lw->wlock);
}

/* Rename to a free rotated name; RENAME_NOREPLACE so nothing is overwritten. */
static int rename_live(struct logwriter *lw, struct stream *s, uint64_t now)
{
	char name[ROTATED_NAME_MAX];
	unsigned dup;

	for (dup = 0; dup < 1000; dup++) {
		if (rotated_name(name, sizeof(name), stream_names[s->id], now, s->first_seq, dup))
			return -ENAMETOOLONG;
		if (renameat2(lw->dirfd, s->live, lw->dirfd, name, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno == EEXIST)
			continue;
		if (errno != EINVAL)
			return -errno;
		/* A filesystem without RENAME_NOREPLACE: check, then rename. */
		if (faccessat(lw->dirfd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue;
		return renameat(lw->dirfd, s->live, lw->dirfd, name) ? -errno : 0;
	}
	return -EEXIST;
}

static int rotate_locked(struct logwriter *lw, struct stream *s, uint64_t now)
{
	int ret = rename_live(lw, s, now);

	if (ret && ret != -ENOENT) {
		/* Keep writing to the big file rather than lose lines. */
		s->st.rotate_failures++;
		return ret;
	}
	/* ENOENT: someone deleted the live file; start a new one. */
	close(s->fd);
	s->fd = -1;
	s->size = 0;
	if (ret == 0) {
		s->st.rotations++;
		wake_worker(lw);
	}
	return open_live(lw, s);
}

/* write(2) the whole line, or take back what part of it went out. */
static int write_line(struct stream *s, const char *p, size_t len)
{
	size_t done = 0;
	int err = 0;

	while (done < len) {
		ssize_t n = write(s->fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : ENOSPC;
			break;
		}
		done += (size_t)n;
	}
	if (!err)
		return 0;
	if (done && ftruncate(s->fd, (off_t)s->size))
		s->torn = true;
	return -err;
}

/* A fragment left by a write that failed half-way gets its own line end. */
static int close_torn_line(struct stream *s)
{
	int ret;

	if (!s->torn)
		return 0;
	ret = write_line(s, "\n", 1);
	if (ret == 0) {
		s->torn = false;
		s->size += 1;
	}
	return ret;
}

static int emit_locked(struct logwriter *lw, struct stream *s, uint64_t now, uint64_t ts_ns,
		       uint64_t seq, const char *members, size_t mlen, size_t *len)
{
	int ret;

	*len = mlen + ENVELOPE_MAX;
	ret = format_line(lw, s, ts_ns, seq, members, mlen, len);
	if (ret)
		return ret;
	if (s->fd < 0 && open_live(lw, s))
		return -s->open_errno;
	if (rotation_due(lw, s, now, *len)) {
		ret = rotate_locked(lw, s, now);
		if (ret && s->fd < 0)
			return ret;
	}
	ret = close_torn_line(s);
	if (!ret)
		ret = write_line(s, s->buf, *len);
	if (ret)
		return ret;
	if (s->size == 0)
		s->first_seq = seq;
	s->size += *len;
	s->day = day_of(now);
	s->st.lines_written++;
	s->st.bytes_written += *len;
	return 0;
}

static void note_drop(struct stream *s, uint64_t seq, size_t len, int err, uint64_t now)
{
	struct log_gap *g = &s->gap;

	if (!g->lines)
		g->since_ns = now;
	if (!g->has_range) {
		g->first_seq = seq;
		g->has_range = true;
	}
	g->lines++;
	g->bytes += len;
	g->last_seq = seq;
	g->until_ns = now;
	g->err = -err;
	s->st.lines_dropped++;
	s->st.bytes_dropped += len;
	s->st.write_errno = -err;
}

static int add_time(cJSON *obj, const char *key, uint64_t ns)
{
	char ts[40];

	return cJSON_AddStringToObject(obj, key, format_iso8601(ns, ts, sizeof(ts))) ? 0 : -1;
}

/* The gap record's members: what was lost, which seqs, when and why. */
static char *gap_body(const struct log_gap *g)
{
	char reason[160], ebuf[128];
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;

	if (g->err)
		snprintf(reason, sizeof(reason), "%s", strerror_r(g->err, ebuf, sizeof(ebuf)));
	else
		snprintf(reason, sizeof(reason), "partial last line removed after an unclean stop");
	if (o && cJSON_AddStringToObject(o, "type", "gap") &&
	    cJSON_AddNumberToObject(o, "lines", (double)g->lines) &&
	    cJSON_AddNumberToObject(o, "bytes", (double)g->bytes) &&
	    (!g->has_range || (cJSON_AddNumberToObject(o, "first_seq", (double)g->first_seq) &&
			       cJSON_AddNumberToObject(o, "last_seq", (double)g->last_seq))) &&
	    !add_time(o, "since", g->since_ns) && !add_time(o, "until", g->until_ns) &&
	    cJSON_AddStringToObject(o, "reason", reason))
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* Try to put the pending gap record in-band; it is kept for later on failure. */
static int write_gap_locked(struct logwriter *lw, struct stream *s, uint64_t now)
{
	char *body = gap_body(&s->gap);
	const char *members;
	size_t mlen, len;
	int ret = -ENOMEM;

	if (!body)
		return ret;
	members = object_members(body, strlen(body), &mlen);
	if (members)
		ret = emit_locked(lw, s, now, now, s->next_seq, members, mlen, &len);
	if (members && ret == 0) {
		s->next_seq++;
		s->st.gap_records++;
		memset(&s->gap, 0, sizeof(s->gap));
	}
	free(body);
	return ret;
}

int logwriter_write(struct logwriter *lw, enum log_stream id, uint64_t ts_ns,
		    const char *obj, size_t len)
{
	struct stream *s;
	const char *members;
	size_t mlen, linelen;
	uint64_t now, seq;
	int ret;

	if ((unsigned)id >= LOG_STREAMS)
		return -EINVAL;
	members = object_members(obj, len, &mlen);
	if (!members)
		return -EINVAL;
	s = &lw->s[id];
	pthread_mutex_lock(&s->lock);
	now = lw->clock();
	/*
	 * While a gap is open, no line goes out before its gap record: a short
	 * line may fit in what a full disk has left where the record does not,
	 * and the gap's seq range must never span a line that was written.
	 */
	ret = s->gap.lines ? write_gap_locked(lw, s, now) : 0;
	seq = s->next_seq++;
	if (ret == 0)
		ret = emit_locked(lw, s, now, ts_ns ? ts_ns : now, seq, members, mlen, &linelen);
	else if (format_line(lw, s, ts_ns ? ts_ns : now, seq, members, mlen, &linelen))
		linelen = mlen + ENVELOPE_MAX;
	if (ret)
		note_drop(s, seq, linelen, ret, now);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int logwriter_write_json(struct logwriter *lw, enum log_stream s, uint64_t ts_ns,
			 const cJSON *obj)
{
	char *text = cJSON_PrintUnformatted(obj);
	int ret;

	if (!text)
		return -ENOMEM;
	ret = logwriter_write(lw, s, ts_ns, text, strlen(text));
	free(text);
	return ret;
}

int logwriter_rotate(struct logwriter *lw, enum log_stream id)
{
	struct stream *s;
	int ret = 0;

	if ((unsigned)id >= LOG_STREAMS)
		return -EINVAL;
	s = &lw->s[id];
	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0 && s->size)
		ret = rotate_locked(lw, s, lw->clock());
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int logwriter_reopen(struct logwriter *lw)
{
	int i, ret = 0, r;

	for (i = 0; i < LOG_STREAMS; i++) {
		struct stream *s = &lw->s[i];

		pthread_mutex_lock(&s->lock);
		if (s->fd >= 0)
			close(s->fd);
		s->fd = -1;
		s->torn = false;
		r = open_live(lw, s);
		save_next_seq(lw, s);
		pthread_mutex_unlock(&s->lock);
		if (r && !ret)
			ret = r;
	}
	wake_worker(lw);
	return ret;
}

/* ---- the worker: compression and retention ----------------------------- */

/* Entries the pass below decided to drop. */
static void list_remove(struct rotated_list *l, size_t i)
{
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

/*
 * What a crash can leave: NAME.gz.tmp (compression cut short: delete, the
 * source is intact) and NAME next to NAME.gz (cut between the rename and
 * the unlink: the .gz is complete, so the source goes).
 */
static void drop_leftovers(struct logwriter *lw, struct rotated_list *l)
{
	size_t i = 0;

	while (i < l->n) {
		struct rotated_file *f = &l->v[i];
		bool twin = i + 1 < l->n && !f->compressed && !f->tmp && l->v[i + 1].compressed &&
			    l->v[i + 1].seq == f->seq && l->v[i + 1].dup == f->dup;

		if ((f->tmp || twin) && (unlinkat(lw->dirfd, f->name, 0) == 0 || errno == ENOENT)) {
			list_remove(l, i);
			continue;
		}
		i++;
	}
}

static void compress_pending(struct logwriter *lw, struct stream *s, struct rotated_list *l)
{
	struct gzip_result res;
	size_t i;
	int ret;

	for (i = 0; i < l->n && !__atomic_load_n(&lw->stop, __ATOMIC_RELAXED); i++) {
		struct rotated_file *f = &l->v[i];

		if (f->compressed || f->tmp)
			continue;
		ret = gzip_file(lw->dirfd, f->name, lw->level, &lw->stop, &res);
		pthread_mutex_lock(&lw->wlock);
		if (ret == 0) {
			s->compressed++;
		} else if (ret != -ECANCELED) {
			s->compress_failures++;
			s->compress_errno = -ret;
		}
		pthread_mutex_unlock(&lw->wlock);
		if (ret == 0) {
			strncat(f->name, ".gz", sizeof(f->name) - strlen(f->name) - 1);
			f->compressed = true;
			f->bytes = res.out_bytes;
		}
	}
}

static void maintain_stream(struct logwriter *lw, struct stream *s)
{
	struct rotated_list l;
	uint64_t bytes;
	size_t files;
	int removed;

	if (rotated_list(lw->dirfd, stream_names[s->id], &l))
		return;
	drop_leftovers(lw, &l);
	if (lw->compress)
		compress_pending(lw, s, &l);
	removed = rotated_retain(lw->dirfd, &l, lw->keep_files, lw->keep_bytes);
	rotated_totals(&l, &files, &bytes);
	pthread_mutex_lock(&lw->wlock);
	if (removed > 0)
		s->removed += (uint64_t)removed;
	s->rotated_files = files;
	s->rotated_bytes = bytes;
	pthread_mutex_unlock(&lw->wlock);
	rotated_list_free(&l);
}

static void *worker_main(void *arg)
{
	struct logwriter *lw = arg;
	uint64_t gen;
	int i;

	pthread_mutex_lock(&lw->wlock);
	for (;;) {
		while (lw->done_gen == lw->req_gen && !lw->stop)
			pthread_cond_wait(&lw->wcond, &lw->wlock);
		if (lw->stop)
			break;
		gen = lw->req_gen;
		pthread_mutex_unlock(&lw->wlock);
		for (i = 0; i < LOG_STREAMS; i++)
			maintain_stream(lw, &lw->s[i]);
		pthread_mutex_lock(&lw->wlock);
		lw->done_gen = gen;
		pthread_cond_broadcast(&lw->wcond);
	}
	pthread_mutex_unlock(&lw->wlock);
	return NULL;
}

void logwriter_drain(struct logwriter *lw)
{
	uint64_t target;

	pthread_mutex_lock(&lw->wlock);
	target = lw->req_gen;
	while (lw->done_gen < target && !lw->stop)
		pthread_cond_wait(&lw->wcond, &lw->wlock);
	pthread_mutex_unlock(&lw->wlock);
}

void logwriter_get_stats(struct logwriter *lw, enum log_stream id, struct logwriter_stats *out)
{
	struct stream *s;

	memset(out, 0, sizeof(*out));
	if ((unsigned)id >= LOG_STREAMS)
		return;
	s = &lw->s[id];
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	out->next_seq = s->next_seq;
	out->file_bytes = s->size;
	out->dropping = s->gap.lines > 0;
	if (!out->write_errno && s->fd < 0)
		out->write_errno = s->open_errno;
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&lw->wlock);
	out->compressed = s->compressed;
	out->compress_failures = s->compress_failures;
	out->compress_errno = s->compress_errno;
	out->retention_removed = s->removed;
	out->rotated_files = s->rotated_files;
	out->rotated_bytes = s->rotated_bytes;
	pthread_mutex_unlock(&lw->wlock);
}

/* ---- open and close ---------------------------------------------------- */

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0750) && errno != EEXIST)
		return -errno;
	return 0;
}

static char *json_string(const char *s)
{
	cJSON *str = cJSON_CreateString(s);
	char *text = str ? cJSON_PrintUnformatted(str) : NULL;

	cJSON_Delete(str);
	return text;
}

static int set_host(struct logwriter *lw, const char *host)
{
	char name[HOST_NAME_MAX + 1] = "";

	if (!host) {
		if (gethostname(name, sizeof(name)))
			snprintf(name, sizeof(name), "unknown");
		name[sizeof(name) - 1] = '\0';
		host = name;
	}
	lw->host_json = json_string(host);
	return lw->host_json ? 0 : -ENOMEM;
}

/* One writer per directory: two would interleave seqs and race on rotation. */
static int lock_dir(struct logwriter *lw, char *err, size_t errlen)
{
	lw->lockfd = openat(lw->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (lw->lockfd < 0) {
		snprintf(err, errlen, "log directory %s: cannot create .lock: %s", lw->dir,
			 strerror(errno));
		return -1;
	}
	if (flock(lw->lockfd, LOCK_EX | LOCK_NB)) {
		snprintf(err, errlen, "log directory %s is in use by another perfagent "
			 "(its .lock is held); give each instance its own log directory", lw->dir);
		return -1;
	}
	return 0;
}

static int open_dir(struct logwriter *lw, const struct logwriter_config *cfg,
		    char *err, size_t errlen)
{
	int ret;

	if (!cfg->dir || !*cfg->dir) {
		snprintf(err, errlen, "no log directory given");
		return -1;
	}
	lw->dir = strdup(cfg->dir);
	if (!lw->dir || set_host(lw, cfg->host)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ret = mkdir_p(cfg->dir);
	if (ret) {
		snprintf(err, errlen, "log directory %s: cannot create it: %s", cfg->dir, strerror(-ret));
		return -1;
	}
	lw->dirfd = open(cfg->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lw->dirfd < 0) {
		snprintf(err, errlen, "log directory %s: %s", cfg->dir, strerror(errno));
		return -1;
	}
	return lock_dir(lw, err, errlen);
}

static void init_stream(struct stream *s, enum log_stream id)
{
	pthread_mutex_init(&s->lock, NULL);
	s->id = id;
	s->fd = -1;
	snprintf(s->live, sizeof(s->live), "%s.jsonl", stream_names[id]);
	snprintf(s->state, sizeof(s->state), ".%s.seq", stream_names[id]);
}

struct logwriter *logwriter_open(const struct logwriter_config *cfg, char *err, size_t errlen)
{
	struct logwriter *lw = calloc(1, sizeof(*lw));
	uint64_t now;
	int i;

	if (!lw) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	lw->dirfd = lw->lockfd = -1;
	lw->compress = cfg->compress;
	lw->level = cfg->compress_level;
	lw->keep_files = cfg->keep_files;
	lw->keep_bytes = cfg->keep_bytes;
	lw->max_file_bytes = cfg->max_file_bytes;
	lw->rotate_daily = cfg->rotate_daily;
	lw->clock = cfg->clock ? cfg->clock : realtime_ns;
	pthread_mutex_init(&lw->wlock, NULL);
	pthread_cond_init(&lw->wcond, NULL);
	for (i = 0; i < LOG_STREAMS; i++)
		init_stream(&lw->s[i], (enum log_stream)i);
	if (open_dir(lw, cfg, err, errlen))
		goto fail;
	for (i = 0; i < LOG_STREAMS; i++) {
		if (recover_stream(lw, &lw->s[i], err, errlen))
			goto fail;
	}
	/* The first pass finishes what a previous run left half done. */
	lw->req_gen = 1;
	if (pthread_create(&lw->worker, NULL, worker_main, lw)) {
		snprintf(err, errlen, "cannot start the log compression thread");
		goto fail;
	}
	lw->worker_started = true;
	/* A line repaired above is reported now, not at the first write. */
	now = lw->clock();
	for (i = 0; i < LOG_STREAMS; i++) {
		pthread_mutex_lock(&lw->s[i].lock);
		if (lw->s[i].gap.lines && lw->s[i].fd >= 0)
			write_gap_locked(lw, &lw->s[i], now);
		pthread_mutex_unlock(&lw->s[i].lock);
	}
	return lw;
fail:
	logwriter_close(lw);
	return NULL;
}

void logwriter_close(struct logwriter *lw)
{
	int i;

	if (!lw)
		return;
	if (lw->worker_started) {
		pthread_mutex_lock(&lw->wlock);
		__atomic_store_n(&lw->stop, 1, __ATOMIC_RELAXED);
		pthread_cond_broadcast(&lw->wcond);
		pthread_mutex_unlock(&lw->wlock);
		pthread_join(lw->worker, NULL);
	}
	for (i = 0; i < LOG_STREAMS; i++) {
		struct stream *s = &lw->s[i];

		if (s->fd >= 0 && s->gap.lines)
			write_gap_locked(lw, s, lw->clock());
		if (s->fd >= 0) {
			fsync(s->fd);
			close(s->fd);
		}
		if (s->recovered)
			save_next_seq(lw, s);
		free(s->buf);
		pthread_mutex_destroy(&s->lock);
	}
	if (lw->lockfd >= 0)
		close(lw->lockfd);
	if (lw->dirfd >= 0)
		close(lw->dirfd);
	pthread_mutex_destroy(&lw->wlock);
	pthread_cond_destroy(&lw->wcond);
	free(lw->host_json);
	free(lw->dir);
	free(lw);
}
