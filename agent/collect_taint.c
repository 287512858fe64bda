// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_taint.h"

#define STATE_FILE "taint-reported"

/* Documentation/admin-guide/tainted-kernels.rst, by bit. */
static const struct {
	char letter;
	enum alert_severity severity;
	const char *meaning;
} flags[] = {
	{ 'P', ALERT_INFO, "proprietary module was loaded" },
	{ 'F', ALERT_WARNING, "module was force loaded" },
	{ 'S', ALERT_WARNING, "kernel running on an out of specification system" },
	{ 'R', ALERT_WARNING, "module was force unloaded" },
	{ 'M', ALERT_CRITICAL, "processor reported a Machine Check Exception (MCE)" },
	{ 'B', ALERT_CRITICAL, "bad page referenced or some unexpected page flags" },
	{ 'U', ALERT_INFO, "taint requested by userspace application" },
	{ 'D', ALERT_CRITICAL, "kernel died recently, i.e. there was an OOPS or BUG" },
	{ 'A', ALERT_INFO, "an ACPI table was overridden by user" },
	{ 'W', ALERT_WARNING, "kernel issued warning" },
	{ 'C', ALERT_INFO, "staging driver was loaded" },
	{ 'I', ALERT_WARNING, "workaround for bug in platform firmware applied" },
	{ 'O', ALERT_INFO, "externally-built (\"out-of-tree\") module was loaded" },
	{ 'E', ALERT_INFO, "unsigned module was loaded" },
	{ 'L', ALERT_CRITICAL, "soft lockup occurred" },
	{ 'K', ALERT_INFO, "kernel has been live patched" },
	{ 'X', ALERT_INFO, "auxiliary taint, defined for and used by distros" },
	{ 'T', ALERT_INFO, "kernel was built with the struct randomization plugin" },
	{ 'N', ALERT_INFO, "an in-kernel test has been run" },
	{ 'J', ALERT_WARNING, "userspace used a mutating debug operation in fwctl" },
};

#define NFLAGS (sizeof(flags) / sizeof(flags[0]))

struct taint_state {
	char boot_id[64];
	uint64_t reported;		/* mask already reported this boot */
	bool loaded;			/* state file consulted */
};

char *taint_letters(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int bit;

	for (bit = 0; bit < 64 && n + 1 < len; bit++)
		if (mask & (1ULL << bit))
			buf[n++] = bit < NFLAGS ? flags[bit].letter : '?';
	if (len)
		buf[n < len ? n : len - 1] = '\0';
	return buf;
}

char *taint_describe(uint64_t mask, char *buf, size_t len)
{
	size_t n = 0;
	unsigned int bit;
	int w;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		if (bit < NFLAGS)
			w = snprintf(buf + n, len - n, "%s%c (%s)", n ? ", " : "",
				     flags[bit].letter, flags[bit].meaning);
		else
			w = snprintf(buf + n, len - n, "%s? (unknown taint bit %u)", n ? ", " : "",
				     bit);
		if (w < 0 || (size_t)w >= len - n) {
			buf[n] = '\0';	/* whole flags only */
			break;
		}
		n += (size_t)w;
	}
	return buf;
}

enum alert_severity taint_severity(uint64_t mask)
{
	enum alert_severity sev = ALERT_INFO, s;
	unsigned int bit;

	for (bit = 0; bit < 64; bit++) {
		if (!(mask & (1ULL << bit)))
			continue;
		s = bit < NFLAGS ? flags[bit].severity : ALERT_WARNING;
		if (s > sev)
			sev = s;
	}
	return sev;
}

static int taint_init(struct collector *c, char *err, size_t len)
{
	c->priv = calloc(1, sizeof(struct taint_state));
	if (!c->priv) {
		snprintf(err, len, "taint collector: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void taint_fini(struct collector *c)
{
	free(c->priv);
}

/*
 * What was already reported in this boot: the state file holds
 * "<boot_id> <mask>". Another boot, or no file, means nothing was.
 */
static void load_reported(struct collector *c, struct taint_state *st)
{
	char *text = collect_read(c, "/proc/sys/kernel/random/boot_id"), *saved;
	char id[64];
	uint64_t mask;

	if (text)
		snprintf(st->boot_id, sizeof(st->boot_id), "%.*s", (int)strcspn(text, "\n"), text);
	st->loaded = true;
	saved = collect_state_load(c, STATE_FILE);
	if (!saved)
		return;
	if (st->boot_id[0] && sscanf(saved, "%63s %" SCNu64, id, &mask) == 2 &&
	    strcmp(id, st->boot_id) == 0)
		st->reported = mask;
	free(saved);
}

static void save_reported(struct collector *c, struct taint_state *st)
{
	char line[128];
	int n;

	if (!st->boot_id[0])
		return;		/* cannot tell boots apart: keep nothing */
	n = snprintf(line, sizeof(line), "%s %" PRIu64 "\n", st->boot_id, st->reported);
	collect_state_save(c, STATE_FILE, line, (size_t)n);
}

static void report_change(struct collector *c, uint64_t prev, uint64_t cur)
{
	char msg[1400], letters[72], added[72], mask[24], desc[1200];
	uint64_t new_bits = cur & ~prev;

	taint_letters(cur, letters, sizeof(letters));
	taint_letters(new_bits, added, sizeof(added));
	snprintf(mask, sizeof(mask), "%" PRIu64, cur);
	if (new_bits) {
		taint_describe(new_bits, desc, sizeof(desc));
		snprintf(msg, sizeof(msg), "kernel tainted: %s (taint %" PRIu64 " -> %" PRIu64
			 ", flags now %s)", desc, prev, cur, letters);
	} else {
		/* Bits do not clear within a boot; say so if they ever do. */
		snprintf(msg, sizeof(msg), "kernel taint changed %" PRIu64 " -> %" PRIu64
			 " without new flags (flags now %s)", prev, cur, cur ? letters : "none");
	}
	collect_event(c, "kernel.taint_changed", new_bits ? taint_severity(new_bits) : ALERT_INFO,
		      msg, "flags", letters, "new_flags", added, "tainted", mask, NULL);
}

static void taint_collect(struct collector *c, uint64_t interval_ns)
{
	struct taint_state *st = c->priv;
	char *text, *p;
	uint64_t mask;

	(void)interval_ns;
	if (!st->loaded)
		load_reported(c, st);
	text = collect_read_or_error(c, "/proc/sys/kernel/tainted");
	if (!text)
		return;
	p = text;
	if (collect_parse_u64(&p, &mask) || (*p && *p != '\n')) {
		text[strcspn(text, "\n")] = '\0';
		collect_line_error(c, 1, "expected a number, got \"%.40s\"", text);
		return;
	}
	collect_emit(c, "kernel.tainted", (double)mask, NULL);
	if (mask == st->reported)
		return;
	report_change(c, st->reported, mask);
	st->reported = mask;
	save_reported(c, st);
}

const struct collector_ops collect_taint_ops = {
	.name = "taint",
	.init = taint_init,
	.collect = taint_collect,
	.fini = taint_fini,
};
