// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_cpu.h"
#include "collect_fs.h"
#include "collect_limits.h"
#include "collect_load.h"
#include "collect_mem.h"
#include "collect_netdev.h"
#include "collect_psi.h"
#include "collect_pstore.h"
#include "collect_taint.h"
#include "collect_util.h"
#include "timeutil.h"

static const struct collector_ops *const all_ops[] = {
	&collect_cpu_ops,
	&collect_mem_ops,
	&collect_psi_ops,
	&collect_load_ops,
	&collect_limits_ops,
	&collect_fs_ops,
	&collect_netdev_ops,
	&collect_taint_ops,
	&collect_pstore_ops,
};

#define NUM_COLLECTORS (sizeof(all_ops) / sizeof(all_ops[0]))

const char *const collector_names[] = {
	"cpu", "mem", "psi", "load", "limits", "fs", "netdev", "taint", "pstore", NULL,
};

_Static_assert(sizeof(collector_names) / sizeof(collector_names[0]) == NUM_COLLECTORS + 1,
	       "collector_names must list every collector");

static const struct collector_ops *find_ops(const char *name)
{
	size_t i;

	for (i = 0; i < NUM_COLLECTORS; i++)
		if (strcmp(all_ops[i]->name, name) == 0)
			return all_ops[i];
	return NULL;
}

/* A root of "/" (or "///") is stored as "" so paths stay "/proc/stat". */
static int set_root(struct collector *c, const char *root, char *err, size_t len)
{
	size_t n;

	if (!root)
		root = "/";
	n = strlen(root);
	while (n > 0 && root[n - 1] == '/')
		n--;
	if (n >= sizeof(c->root) - 64) {
		snprintf(err, len, "collector root %s: path too long", root);
		return -ENAMETOOLONG;
	}
	memcpy(c->root, root, n);
	c->root[n] = '\0';
	return 0;
}

int collector_open(struct collector **out, const char *name,
		   const struct collector_opts *opts, char *err, size_t len)
{
	const struct collector_ops *ops = find_ops(name);
	const char *state_dir = opts && opts->state_dir ? opts->state_dir : COLLECT_STATE_DIR;
	struct collector *c;
	int ret;

	*out = NULL;
	if (!ops) {
		snprintf(err, len, "unknown collector \"%s\" (known: cpu, mem, psi, load, "
			 "limits, fs, netdev, taint, pstore)", name);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, len, "collector %s: out of memory", name);
		return -ENOMEM;
	}
	c->ops = ops;
	ret = set_root(c, opts ? opts->root : NULL, err, len);
	if (!ret && snprintf(c->state_dir, sizeof(c->state_dir), "%s", state_dir) >=
		    (int)sizeof(c->state_dir) - 64) {
		snprintf(err, len, "collector state_dir %s: path too long", state_dir);
		ret = -ENAMETOOLONG;
	}
	if (!ret)
		ret = ops->init(c, err, len);
	if (ret) {
		free(c->buf);
		free(c);
		return ret;
	}
	*out = c;
	return 0;
}

/* Say once, as an event, why a collector collects nothing. */
static void announce_unavailable(struct collector *c)
{
	char msg[320];

	if (!c->unavailable[0] || strcmp(c->unavailable, c->announced) == 0)
		return;
	snprintf(c->announced, sizeof(c->announced), "%s", c->unavailable);
	snprintf(msg, sizeof(msg), "%s: not available: %s", c->ops->name, c->unavailable);
	collect_event(c, "collector.unavailable", ALERT_INFO, msg,
		      "collector", c->ops->name, NULL);
}

int collector_collect(struct collector *c, uint64_t interval_ns,
		      const struct collect_sink *sink)
{
	c->sink = sink;
	c->errors = 0;
	c->ts_ns = mono_ns();
	c->clock_ns += interval_ns;
	/* Called even while unavailable: a collector may find its source
	 * again (pstore mounted later) and clear c->unavailable.
	 */
	c->ops->collect(c, interval_ns);
	announce_unavailable(c);
	c->sink = NULL;
	return c->errors;
}

const char *collector_name(const struct collector *c)
{
	return c->ops->name;
}

const char *collector_unavailable(const struct collector *c)
{
	return c->unavailable[0] ? c->unavailable : NULL;
}

void collector_close(struct collector *c)
{
	if (!c)
		return;
	if (c->ops->fini)
		c->ops->fini(c);
	free(c->buf);
	free(c);
}
