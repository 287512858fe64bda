// SPDX-License-Identifier: GPL-2.0
/*
 * Crash records a previous boot left in pstore (/sys/fs/pstore): the kernel
 * log it dumped on an oops or panic (dmesg-<backend>-<id>) and machine
 * check records (mce-*). Each is reported once as a crash event. Records stay
 * in pstore until someone removes them, and names such as dmesg-ramoops-0
 * come back after every crash, so a record is known by name, time and size,
 * and what was reported is kept in the state directory: a restarted agent
 * does not report it again. A crash between the event and saving the state
 * repeats the event on the next start (at least once, never lost).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "collect_pstore.h"
#include "timeutil.h"

#define STATE_FILE "pstore-reported"
#define PSTORE_DIR "/sys/fs/pstore"
#define KEY_MAX 320

struct record {
	char name[256];
	char key[KEY_MAX];		/* "name mtime size": who it is */
	char backend[32];
	char reason[32];		/* "Panic", "Oops", ... ("" = unknown) */
	unsigned int count, part;	/* "Panic#<count> Part<part>" */
	char summary[200];
	uint64_t mtime_ns;
	bool reported;
};

struct pstore_state {
	char **keys;			/* reported, of records still present */
	size_t nkeys;
	bool loaded;
};

static int pstore_init(struct collector *c, char *err, size_t len)
{
	c->priv = calloc(1, sizeof(struct pstore_state));
	if (!c->priv) {
		snprintf(err, len, "pstore collector: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void free_keys(struct pstore_state *st)
{
	size_t i;

	for (i = 0; i < st->nkeys; i++)
		free(st->keys[i]);
	free(st->keys);
	st->keys = NULL;
	st->nkeys = 0;
}

static void pstore_fini(struct collector *c)
{
	free_keys(c->priv);
	free(c->priv);
}

static bool key_reported(const struct pstore_state *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->nkeys; i++)
		if (strcmp(st->keys[i], key) == 0)
			return true;
	return false;
}

static int add_key(struct pstore_state *st, const char *key);

static void load_keys(struct collector *c, struct pstore_state *st)
{
	char *text = collect_state_load(c, STATE_FILE), *cur = text, *line;

	st->loaded = true;
	if (!text) {
		if (errno != ENOENT)
			collect_error(c, "%s/%s: cannot read: %s", c->state_dir, STATE_FILE,
				      strerror(errno));
		return;
	}
	while ((line = collect_next_line(&cur)) != NULL)
		if (*line && add_key(st, line))
			break;
	free(text);
}

/* Not mounted: the directory exists in sysfs but is sysfs's own, empty. */
static bool pstore_mounted(struct collector *c, const char *dir)
{
	struct statfs sf;
	struct stat sb;

	if (c->root[0])
		return stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
	return statfs(dir, &sf) == 0 && sf.f_type == PSTOREFS_MAGIC;
}

static bool crash_record_name(const char *name)
{
	return strncmp(name, "dmesg-", 6) == 0 || strncmp(name, "mce-", 4) == 0;
}

/* Drop "<4>[  12.345678] " from a kernel log line. */
static const char *strip_log_prefix(const char *s)
{
	const char *p = s;

	if (*p == '<') {
		p += strspn(p + 1, "0123456789") + 1;
		if (*p == '>')
			s = ++p;
	}
	if (*s == '[') {
		p = strchr(s, ']');
		if (p)
			s = p + 1 + (p[1] == ' ');
	}
	return s;
}

/* The line that says what happened, most telling first; control bytes of
 * a damaged record become spaces so the message stays one printable line.
 */
static void summarize(char *text, char *out, size_t len)
{
	static const char *const patterns[] = {
		"Kernel panic - not syncing", "BUG:", "Oops:", "general protection fault",
		"Unable to handle", "watchdog:", "WARNING:", "Machine check",
	};
	size_t i;
	char *hit, *end;

	out[0] = '\0';
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		hit = strstr(text, patterns[i]);
		if (!hit)
			continue;
		end = strchr(hit, '\n');
		snprintf(out, len, "%.*s", (int)(end ? end - hit : (long)strlen(hit)), hit);
		for (end = out; *end; end++)
			if ((unsigned char)*end < 0x20 || *end == 0x7f)
				*end = ' ';
		return;
	}
}

/* Header "Panic#1 Part1" (pstore writes it before the dumped log). */
static void parse_header(struct record *r, char *text)
{
	unsigned int count, part;
	char *hash = strchr(text, '#');
	size_t n = strcspn(text, "\n");
	const char *s;

	if (hash && (size_t)(hash - text) < n && (size_t)(hash - text) < sizeof(r->reason) &&
	    sscanf(hash, "#%u Part%u", &count, &part) == 2) {
		snprintf(r->reason, sizeof(r->reason), "%.*s", (int)(hash - text), text);
		r->count = count;
		r->part = part;
	}
	summarize(text, r->summary, sizeof(r->summary));
	s = strip_log_prefix(r->summary);
	memmove(r->summary, s, strlen(s) + 1);
}

/* Name, time and size; the contents only when not reported yet. */
static int read_record(struct collector *c, struct pstore_state *st, const char *name,
		       struct record *r)
{
	char rel[PATH_MAX], path[PATH_MAX], *text;
	struct stat sb;
	const char *dash;

	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(rel, sizeof(rel), "%s/%s", PSTORE_DIR, name);
	collect_path(c, rel, path, sizeof(path));
	if (stat(path, &sb)) {
		collect_error(c, "%s: cannot stat: %s", path, strerror(errno));
		return -1;
	}
	r->mtime_ns = (uint64_t)sb.st_mtim.tv_sec * 1000000000ULL + (uint64_t)sb.st_mtim.tv_nsec;
	snprintf(r->key, sizeof(r->key), "%s %" PRIu64 " %lld", name, r->mtime_ns,
		 (long long)sb.st_size);
	r->reported = key_reported(st, r->key);
	if (r->reported)
		return 0;
	dash = strchr(name, '-');
	if (dash)
		snprintf(r->backend, sizeof(r->backend), "%.*s",
			 (int)strcspn(dash + 1, "-"), dash + 1);
	text = collect_read(c, rel);
	if (!text) {
		collect_error(c, "%s: cannot read: %s", c->path, strerror(errno));
		return -1;
	}
	if (strncmp(name, "mce-", 4) == 0) {
		snprintf(r->reason, sizeof(r->reason), "MCE");
		summarize(text, r->summary, sizeof(r->summary));
	} else {
		parse_header(r, text);
	}
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(((const struct record *)a)->name, ((const struct record *)b)->name);
}

/*
 * The crash records in dir, sorted by name. 0, or -1 when the directory
 * could not be read whole (then nothing may be forgotten).
 */
static int scan(struct collector *c, const char *dir, struct record **out, size_t *n)
{
	struct record *recs = NULL, *p;
	struct dirent *de;
	size_t cap = 0;
	int ret = 0;
	DIR *d = opendir(dir);

	*n = 0;
	*out = NULL;
	if (!d) {
		collect_error(c, "%s: cannot list: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!crash_record_name(de->d_name))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			p = realloc(recs, cap * sizeof(*p));
			if (!p) {
				collect_error(c, "pstore collector: out of memory");
				ret = -1;
				break;
			}
			recs = p;
		}
		if (read_record(c, c->priv, de->d_name, &recs[*n]))
			ret = -1;
		else
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(recs, *n, sizeof(*recs), compare_names);
	*out = recs;
	return ret;
}

static bool same_crash(const struct record *a, const struct record *b)
{
	return a->reason[0] && strcmp(a->reason, b->reason) == 0 && a->count == b->count &&
	       strcmp(a->backend, b->backend) == 0;
}

static enum alert_severity crash_severity(const struct record *r)
{
	static const char *const orderly[] = { "Restart", "Halt", "Poweroff" };
	size_t i;

	for (i = 0; i < sizeof(orderly) / sizeof(orderly[0]); i++)
		if (strcmp(r->reason, orderly[i]) == 0)
			return ALERT_INFO;	/* printk.always_kmsg_dump */
	return ALERT_CRITICAL;
}

/* The unreported record of r's crash with the lowest part number. */
static size_t first_part(struct record *recs, size_t n, size_t i)
{
	size_t j, best = i;

	for (j = 0; j < n; j++)
		if (!recs[j].reported && same_crash(&recs[i], &recs[j]) &&
		    recs[j].part < recs[best].part)
			best = j;
	return best;
}

/*
 * One event per crash: a dump split into parts (Part1, Part2, ... of the
 * same "Panic#N") is one crash, reported with its first part.
 */
static void report(struct collector *c, struct record *recs, size_t n, size_t i)
{
	char msg[1024], parts[400] = "", when[40], what[48];
	struct record *r = &recs[first_part(recs, n, i)];
	size_t j, used = 0;
	int w;

	r->reported = true;
	for (j = 0; j < n; j++) {
		if (recs[j].reported || !same_crash(r, &recs[j]))
			continue;
		recs[j].reported = true;
		w = snprintf(parts + used, sizeof(parts) - used, "%s%s", used ? ", " : " and ",
			     recs[j].name);
		if (w > 0 && (size_t)w < sizeof(parts) - used)
			used += (size_t)w;
	}
	format_iso8601(r->mtime_ns, when, sizeof(when));
	if (r->count)
		snprintf(what, sizeof(what), "%s#%u", r->reason, r->count);
	else
		snprintf(what, sizeof(what), "%s", r->reason[0] ? r->reason : "crash");
	snprintf(msg, sizeof(msg), "crash record from a previous boot: %s in %s%s (%s, %s)%s%s",
		 what, r->name, parts, r->backend, when, r->summary[0] ? ": " : "", r->summary);
	collect_event(c, "kernel.crash_record", crash_severity(r), msg, "record", r->name,
		      "backend", r->backend, "reason", r->reason[0] ? r->reason : "unknown",
		      "time", when, NULL);
}

static int add_key(struct pstore_state *st, const char *key)
{
	char **keys;

	if (key_reported(st, key))
		return 0;
	keys = realloc(st->keys, (st->nkeys + 1) * sizeof(*keys));
	if (!keys)
		return -1;
	st->keys = keys;
	st->keys[st->nkeys] = strdup(key);
	if (!st->keys[st->nkeys])
		return -1;
	st->nkeys++;
	return 0;
}

static void save_keys(struct collector *c, struct pstore_state *st)
{
	size_t i, len = 0;
	char *data = malloc(st->nkeys * (KEY_MAX + 1) + 1);

	if (!data) {
		collect_error(c, "pstore collector: out of memory");
		return;
	}
	for (i = 0; i < st->nkeys; i++)
		len += (size_t)sprintf(data + len, "%s\n", st->keys[i]);
	data[len] = '\0';
	collect_state_save(c, STATE_FILE, data, len);
	free(data);
}

/*
 * Remember the records present (all reported by now). With prune, keys of
 * records that vanished are forgotten, so the file does not grow forever;
 * without (the directory could not be read whole) nothing is forgotten.
 */
static void remember(struct collector *c, struct pstore_state *st, struct record *recs,
		     size_t n, bool prune, bool changed)
{
	size_t i;

	if (!changed && (!prune || st->nkeys == n))
		return;
	if (prune)
		free_keys(st);
	for (i = 0; i < n; i++) {
		if (add_key(st, recs[i].key)) {
			collect_error(c, "pstore collector: out of memory");
			break;
		}
	}
	save_keys(c, st);
}

static void pstore_collect(struct collector *c, uint64_t interval_ns)
{
	struct pstore_state *st = c->priv;
	char dir[PATH_MAX];
	struct record *recs;
	bool changed = false;
	size_t n, i;
	int ret;

	(void)interval_ns;
	collect_path(c, PSTORE_DIR, dir, sizeof(dir));
	if (!pstore_mounted(c, dir)) {
		collect_set_unavailable(c, "no pstore filesystem at %s (mount -t pstore pstore "
					"%s; the kernel needs CONFIG_PSTORE and a backend such "
					"as ramoops or efi)", dir, PSTORE_DIR);
		return;
	}
	c->unavailable[0] = '\0';
	if (!st->loaded)
		load_keys(c, st);
	ret = scan(c, dir, &recs, &n);
	for (i = 0; i < n; i++) {
		if (recs[i].reported)
			continue;
		report(c, recs, n, i);
		changed = true;
	}
	remember(c, st, recs, n, ret == 0, changed);
	free(recs);
}

const struct collector_ops collect_pstore_ops = {
	.name = "pstore",
	.init = pstore_init,
	.collect = pstore_collect,
	.fini = pstore_fini,
};
