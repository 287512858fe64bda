// SPDX-License-Identifier: GPL-2.0
/* The collector interface: names, opening, empty roots, the metric catalogue. */
#include "check.h"
#include "collect_test.h"

#define SEC 1000000000ULL

static void t_names(void)
{
	static const char *const want[] = { "cpu", "mem", "psi", "load", "limits", "fs",
					    "netdev", "taint", "pstore" };
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		CHECK(collector_names[i] != NULL);
		CHECK_STREQ(collector_names[i], want[i]);
	}
	CHECK(collector_names[i] == NULL);
}

static void t_unknown_name(void)
{
	struct collector *c = (struct collector *)1;
	char err[256];

	CHECK(collector_open(&c, "bogus", NULL, err, sizeof(err)) == -EINVAL);
	CHECK(c == NULL);
	CHECK_STREQ(err, "unknown collector \"bogus\" (known: cpu, mem, psi, load, limits, fs, "
		    "netdev, taint, pstore)");
}

/* "/" however written reads the real /proc. */
static void t_root_slashes(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	struct collector *c = open_collector("load", "///", NULL);

	CHECK(c);
	CHECK_STREQ(collector_name(c), "load");
	CHECK(collector_collect(c, 0, &sink) == 0);
	CHECK(cap_has(&cap, "load.avg1"));
	cap_reset(&cap);
	collector_close(c);
	collector_close(NULL);
}

/* An empty root: every collector says which file it could not read (or that
 * its source is not available), emits nothing false, and does not crash.
 */
static void t_empty_root(void)
{
	struct capture cap = { 0 };
	struct collect_sink sink = cap_sink(&cap);
	char root[64], state[64];
	size_t i;

	CHECK(scratch_make(root, sizeof(root)));
	CHECK(scratch_make(state, sizeof(state)));
	for (i = 0; collector_names[i]; i++) {
		struct collector *c = open_collector(collector_names[i], root, state);
		int e1, e2;

		CHECK(c);
		cap_reset(&cap);
		e1 = collector_collect(c, 0, &sink);
		e2 = collector_collect(c, SEC, &sink);
		if (collector_unavailable(c)) {
			CHECKF(e1 == 0 && e2 == 0 && cap.nev == 1, "%s: %d/%d errors, %zu events",
			       collector_names[i], e1, e2, cap.nev);
		} else {
			CHECKF(e1 >= 1 && e2 >= 1, "%s: %d/%d errors", collector_names[i], e1, e2);
			CHECKF(strstr(cap.err[0], root) && strstr(cap.err[0], "No such file"),
			       "%s: %s", collector_names[i], cap.err[0]);
		}
		CHECKF(cap.n == 0, "%s: %zu samples from nothing", collector_names[i], cap.n);
		collector_close(c);
	}
	cap_reset(&cap);
	scratch_remove(root);
	scratch_remove(state);
}

struct name_check {
	char bad[512];
	size_t seen;
};

static void check_sample(void *ctx, const struct metric_sample *s)
{
	struct name_check *nc = ctx;
	const struct metric_desc *d = metric_lookup(s->name);
	unsigned int i;

	nc->seen++;
	if (nc->bad[0])
		return;
	if (!d) {
		snprintf(nc->bad, sizeof(nc->bad), "%s is not in the metric catalogue", s->name);
		return;
	}
	for (i = 0; i < s->nlabels; i++)
		if (!metric_desc_has_label(d, s->labels[i].name))
			snprintf(nc->bad, sizeof(nc->bad), "%s: label %s is not in the catalogue",
				 s->name, s->labels[i].name);
}

static void run_all(const char *root, const char *state, struct name_check *nc)
{
	struct collect_sink sink = { check_sample, NULL, NULL, nc };
	size_t i;

	for (i = 0; collector_names[i]; i++) {
		struct collector *c = open_collector(collector_names[i], root, state);

		if (!c)
			continue;
		collector_collect(c, 0, &sink);
		collector_collect(c, SEC, &sink);
		collector_close(c);
	}
}

/* Every metric any collector emits (host and fixtures) has a catalogue
 * entry with the labels it carries: rules and docs rely on that.
 */
static void t_every_metric_is_catalogued(void)
{
	struct name_check nc = { .bad = "" };
	char state[64];

	CHECK(scratch_make(state, sizeof(state)));
	run_all(NULL, state, &nc);
	run_all(fixture("proc-mem/t0"), state, &nc);
	run_all(fixture("proc-fs"), state, &nc);
	scratch_remove(state);
	CHECKF(!nc.bad[0], "%s", nc.bad);
	CHECKF(nc.seen > 100, "only %zu samples", nc.seen);
}

int main(void)
{
	RUN(t_names);
	RUN(t_unknown_name);
	RUN(t_root_slashes);
	RUN(t_empty_root);
	RUN(t_every_metric_is_catalogued);
	CHECK_EXIT();
}
