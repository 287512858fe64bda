// SPDX-License-Identifier: GPL-2.0
/*
 * The metric model: the catalogue, series keys, selectors, value formatting
 * and sample batches; and that the catalogue, docs/metrics.md and what the
 * collectors really emit on this machine all agree.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "metrics.h"

static void t_catalog_sorted_and_valid(void)
{
	size_t n, i;
	const struct metric_desc *c = metric_catalog(&n);
	unsigned int l;

	CHECK(n > 50);
	for (i = 0; i < n; i++) {
		struct metric_selector sel;
		char err[128];

		CHECKF(i == 0 || strcmp(c[i - 1].name, c[i].name) < 0, "%s after %s", c[i].name,
		       c[i - 1].name);
		CHECKF(metric_lookup(c[i].name) == &c[i], "lookup %s", c[i].name);
		CHECKF(strlen(c[i].name) < METRIC_NAME_MAX, "%s too long", c[i].name);
		CHECKF(metric_selector_parse(c[i].name, &sel, err, sizeof(err)) == 0, "%s: %s",
		       c[i].name, err);
		CHECK(c[i].help && c[i].help[0]);
		for (l = 0; l < METRIC_MAX_LABELS && c[i].labels[l]; l++)
			CHECKF(metric_label_name_valid(c[i].labels[l]), "%s label %s", c[i].name,
			       c[i].labels[l]);
	}
	CHECK(metric_lookup("disk.utl") == NULL);
	CHECK(metric_lookup("") == NULL && metric_lookup(NULL) == NULL);
	CHECK(metric_lookup("fs.used_ratio")->unit == METRIC_UNIT_RATIO);
	CHECK(metric_lookup("syscall.latency.p99")->unit == METRIC_UNIT_NS);
	CHECK(metric_desc_has_label(metric_lookup("fs.used_ratio"), "mountpoint"));
	CHECK(!metric_desc_has_label(metric_lookup("fs.used_ratio"), "mount"));
}

static void t_keys(void)
{
	struct metric_sample s = metric_sample_make("fs.used_ratio", 0.5, 1, "mountpoint", "/a,b}",
						    "device", "/dev/x\\y", NULL);
	struct metric_sample none = metric_sample_make("load.avg1", 1, 1, NULL);
	char buf[256];

	CHECK(s.nlabels == 2 && none.nlabels == 0);
	CHECK(metric_key(s.name, s.labels, s.nlabels, buf, sizeof(buf)) > 0);
	CHECK_STREQ(buf, "fs.used_ratio{device=/dev/x\\\\y,mountpoint=/a\\,b\\}}");
	CHECK(metric_key(none.name, none.labels, 0, buf, sizeof(buf)) == 9);
	CHECK_STREQ(buf, "load.avg1");
	/* a key that does not fit is refused, never cut */
	CHECK(metric_key(s.name, s.labels, s.nlabels, buf, 20) == -1);
	CHECK_STREQ(metric_sample_label(&s, "device"), "/dev/x\\y");
	CHECK(metric_sample_label(&s, "fstype") == NULL);
}

static void t_selectors(void)
{
	static const struct {
		const char *text, *error;
	} bad[] = {
		{ "", "expected a metric name, then optional {label=value,...}" },
		{ "Disk.util", "expected a metric name, then optional {label=value,...}" },
		{ "disk.util{device}", "expected label=value inside {}" },
		{ "disk.util{device=sda", "missing '}'" },
		{ "disk.util{device=}", "label device has an empty value" },
		{ "disk.util{Device=sda}", "\"Device\" is not a label name (a-z, 0-9, _)" },
		{ "disk.util{device=sda}x", "text after '}'" },
		{ "disk.util{a=1,b=2,c=3,d=4,e=5}", "more than 4 labels" },
	};
	struct metric_selector sel;
	struct metric_sample s;
	char err[128], buf[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECKF(metric_selector_parse(bad[i].text, &sel, err, sizeof(err)) == -1, "%s",
		       bad[i].text);
		CHECKF(strcmp(err, bad[i].error) == 0, "%s: \"%s\"", bad[i].text, err);
	}
	CHECK(metric_selector_parse("disk.util{device=sd*|nvme0n1,x=a\\,b}", &sel, err,
				    sizeof(err)) == 0);
	CHECK_STREQ(sel.name, "disk.util");
	CHECK(sel.nmatchers == 2);
	CHECK_STREQ(sel.m[0].pattern, "sd*|nvme0n1");
	CHECK_STREQ(sel.m[1].pattern, "a,b");
	CHECK_STREQ(metric_selector_format(&sel, buf, sizeof(buf)),
		    "disk.util{device=sd*|nvme0n1,x=a\\,b}");

	s = metric_sample_make("disk.util", 1, 1, "device", "sdb", "x", "a,b", NULL);
	CHECK(metric_selector_match(&sel, &s));
	s.labels[0].value = "nvme0n1";
	CHECK(metric_selector_match(&sel, &s));
	s.labels[0].value = "nvme1n1";
	CHECK(!metric_selector_match(&sel, &s));
	s.labels[0].value = "sda";
	s.nlabels = 1;				/* x missing */
	CHECK(!metric_selector_match(&sel, &s));
	s.name = "disk.utilx";
	CHECK(!metric_selector_match(&sel, &s));
	CHECK(metric_selector_parse("mem.available_ratio", &sel, err, sizeof(err)) == 0);
	s = metric_sample_make("mem.available_ratio", 1, 1, "any", "thing", NULL);
	CHECK(metric_selector_match(&sel, &s));
	CHECK(metric_pattern_match("eth*|ens3", "ens3") && !metric_pattern_match("eth*", "ens3"));
}

static void t_format_values(void)
{
	char b[64];

	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, 11520e9, b, sizeof(b)), "3h12m");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, 11579e9, b, sizeof(b)), "3h12m");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, 90e9, b, sizeof(b)), "1m30s");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, (2 * 86400 + 4 * 3600) * 1e9, b, sizeof(b)),
		    "2d04h");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, 3.21e6, b, sizeof(b)), "3.21ms");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, INFINITY, b, sizeof(b)), "never");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NS, NAN, b, sizeof(b)), "unknown");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_BYTES, 1536, b, sizeof(b)), "1.5K");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_BYTES, 64.0 * 1048576, b, sizeof(b)), "64M");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_BYTES, 100, b, sizeof(b)), "100B");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_BYTES, 1023.0 * 1048576, b, sizeof(b)),
		    "1023M");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_BYTES_PER_S, 2.5 * 1073741824, b, sizeof(b)),
		    "2.5G/s");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_RATIO, 0.972, b, sizeof(b)), "97.2%");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_RATIO, 0.05, b, sizeof(b)), "5%");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_RATIO, 0.00123, b, sizeof(b)), "0.12%");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_PER_S, 12.345, b, sizeof(b)), "12.3/s");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_PER_S, 1234567, b, sizeof(b)), "1.23M/s");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_PER_S, 45000, b, sizeof(b)), "45k/s");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NONE, 0.75, b, sizeof(b)), "0.75");
	CHECK_STREQ(metric_format_value(METRIC_UNIT_NONE, 4194304, b, sizeof(b)), "4194304");
}

static void t_batch_owns_its_strings(void)
{
	struct metric_batch b = { 0 };
	char name[32], dev[32];
	struct metric_sample s;
	size_t i;

	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "disk.util");
		snprintf(dev, sizeof(dev), "dev%zu", i);
		s = metric_sample_make(name, (double)i, i, "device", dev, NULL);
		CHECK(metric_batch_add(&b, &s) == 0);
		memset(dev, 'x', sizeof(dev) - 1);	/* the caller's buffer changes */
	}
	CHECK(b.n == 5000);
	for (i = 0; i < 5000; i += 499) {
		snprintf(dev, sizeof(dev), "dev%zu", i);
		CHECK_STREQ(b.v[i].labels[0].value, dev);
		CHECK_STREQ(b.v[i].name, "disk.util");
		CHECK(b.v[i].value == (double)i && b.v[i].ts_ns == i);
	}
	metric_batch_reset(&b);
	CHECK(b.n == 0);
	s = metric_sample_make("load.avg1", 3, 7, NULL);
	CHECK(metric_batch_add(&b, &s) == 0 && b.n == 1);
	CHECK_STREQ(b.v[0].name, "load.avg1");
	metric_batch_free(&b);
	CHECK(b.v == NULL && b.n == 0);
}

/* The catalogue and docs/metrics.md list the same names. */
static void t_docs_list_the_catalog(void)
{
	size_t n, i, len;
	const struct metric_desc *c = metric_catalog(&n);
	char line[512], want[128];
	char *doc;
	FILE *f = fopen("docs/metrics.md", "r");
	long size;

	CHECKF(f, "docs/metrics.md: %s (run from the repository top)", strerror(errno));
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)size + 1);
	CHECK(doc);
	CHECK(fread(doc, 1, (size_t)size, f) == (size_t)size);
	/* every catalogue entry has a table row "| `name` | unit | labels |" */
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "| `%s` | %s |", c[i].name, metric_unit_name(c[i].unit));
		CHECKF(strstr(doc, want), "docs/metrics.md has no row starting %s", want);
	}
	/* and every row names a catalogue entry */
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "| `", 3) != 0)
			continue;
		len = strcspn(line + 3, "`");
		line[3 + len] = '\0';
		CHECKF(metric_lookup(line + 3), "docs/metrics.md lists %s, the catalogue does not",
		       line + 3);
	}
	fclose(f);
	free(doc);
}

struct emitted {
	int samples, unknown;
	char first_unknown[160];
};

static void on_sample(void *ctx, const struct metric_sample *s)
{
	struct emitted *e = ctx;
	const struct metric_desc *d = metric_lookup(s->name);
	unsigned int i;

	e->samples++;
	if (!d) {
		if (!e->unknown++)
			snprintf(e->first_unknown, sizeof(e->first_unknown), "%s", s->name);
		return;
	}
	for (i = 0; i < s->nlabels; i++) {
		if (!metric_desc_has_label(d, s->labels[i].name)) {
			if (!e->unknown++)
				snprintf(e->first_unknown, sizeof(e->first_unknown),
					 "%s{%s} (label not in the catalogue)", s->name,
					 s->labels[i].name);
		}
	}
}

static void on_event(void *ctx, const struct collect_event *e)
{
	(void)ctx;
	(void)e;
}

static void on_error(void *ctx, const char *collector, const char *msg)
{
	(void)ctx;
	(void)collector;
	(void)msg;
}

/* What the collectors really emit here is in the catalogue, labels too. */
static void t_collectors_emit_catalogued_metrics(void)
{
	struct emitted e = { 0 };
	struct collect_sink sink = { on_sample, on_event, on_error, &e };
	char state[] = "/tmp/test_metrics.XXXXXX";
	struct collector_opts opts = { .root = "/", .state_dir = NULL };
	const char *const *name;
	char err[256];

	CHECK(mkdtemp(state));
	opts.state_dir = state;
	for (name = collector_names; *name; name++) {
		struct collector *c;

		if (collector_open(&c, *name, &opts, err, sizeof(err)))
			continue;	/* not this test's business */
		/* twice: rates appear from the second read */
		collector_collect(c, 1000000000ULL, &sink);
		collector_collect(c, 1000000000ULL, &sink);
		collector_close(c);
	}
	/* the collectors may leave state files; remove the directory's content */
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
		CHECK(system(cmd) == 0);
	}
	CHECK(e.samples > 20);
	CHECKF(e.unknown == 0, "%d samples outside the catalogue, first %s", e.unknown,
	       e.first_unknown);
}

int main(void)
{
	RUN(t_catalog_sorted_and_valid);
	RUN(t_keys);
	RUN(t_selectors);
	RUN(t_format_values);
	RUN(t_batch_owns_its_strings);
	RUN(t_docs_list_the_catalog);
	RUN(t_collectors_emit_catalogued_metrics);
	CHECK_EXIT();
}
