// SPDX-License-Identifier: GPL-2.0
/*
 * Per-interface traffic, errors and drops as rates over the interval, from
 * /proc/net/dev (one read for every interface of the agent's network
 * namespace, where sysfs would take eight files per interface).
 */
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect_netdev.h"

/* Columns of /proc/net/dev after "name:". */
enum {
	RX_BYTES, RX_PACKETS, RX_ERRS, RX_DROP, RX_FIFO, RX_FRAME, RX_COMPRESSED, RX_MULTICAST,
	TX_BYTES, TX_PACKETS, TX_ERRS, TX_DROP, TX_FIFO, TX_COLLS, TX_CARRIER, TX_COMPRESSED,
	NCOLS
};

static const struct {
	unsigned int col;
	const char *metric;
} rates[] = {
	{ RX_BYTES, "netdev.rx_bytes_per_s" },
	{ RX_PACKETS, "netdev.rx_packets_per_s" },
	{ RX_ERRS, "netdev.rx_errors_per_s" },
	{ RX_DROP, "netdev.rx_dropped_per_s" },
	{ TX_BYTES, "netdev.tx_bytes_per_s" },
	{ TX_PACKETS, "netdev.tx_packets_per_s" },
	{ TX_ERRS, "netdev.tx_errors_per_s" },
	{ TX_DROP, "netdev.tx_dropped_per_s" },
};

#define NRATES (sizeof(rates) / sizeof(rates[0]))

struct iface {
	char name[IFNAMSIZ];
	uint64_t prev[NCOLS];
	uint64_t stamp_ns;		/* c->clock_ns of prev */
	bool seen;
};

struct netdev_state {
	struct iface *ifs;
	size_t n, cap;
};

static int netdev_init(struct collector *c, char *err, size_t len)
{
	c->priv = calloc(1, sizeof(struct netdev_state));
	if (!c->priv) {
		snprintf(err, len, "netdev collector: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void netdev_fini(struct collector *c)
{
	struct netdev_state *st = c->priv;

	free(st->ifs);
	free(st);
}

/* The interface's slot, *fresh when it was not there at the last read. */
static struct iface *find_iface(struct netdev_state *st, const char *name, bool *fresh)
{
	size_t i;

	*fresh = false;
	for (i = 0; i < st->n; i++)
		if (strcmp(st->ifs[i].name, name) == 0)
			return &st->ifs[i];
	if (st->n == st->cap) {
		size_t cap = st->cap ? st->cap * 2 : 16;
		struct iface *p = realloc(st->ifs, cap * sizeof(*p));

		if (!p)
			return NULL;
		st->ifs = p;
		st->cap = cap;
	}
	*fresh = true;
	memset(&st->ifs[st->n], 0, sizeof(st->ifs[0]));
	snprintf(st->ifs[st->n].name, IFNAMSIZ, "%s", name);
	return &st->ifs[st->n++];
}

/* Interfaces gone since the last read are forgotten. */
static void drop_unseen(struct netdev_state *st)
{
	size_t i = 0;

	while (i < st->n) {
		if (!st->ifs[i].seen)
			st->ifs[i] = st->ifs[--st->n];
		else
			st->ifs[i++].seen = false;
	}
}

static void emit_iface(struct collector *c, struct iface *ifc, const uint64_t cur[NCOLS])
{
	uint64_t elapsed = c->clock_ns - ifc->stamp_ns;
	size_t i;

	if (!elapsed)
		return;
	/* A counter that went back means the interface was re-created or its
	 * driver reset its statistics: no honest delta this time.
	 */
	for (i = 0; i < NCOLS; i++)
		if (cur[i] < ifc->prev[i])
			return;
	for (i = 0; i < NRATES; i++)
		collect_emit(c, rates[i].metric,
			     collect_rate(cur[rates[i].col] - ifc->prev[rates[i].col], elapsed),
			     "interface", ifc->name, NULL);
}

/* "  eth0: 1 2 3 ... 16": 0, or -1 when the line does not have that shape. */
static int parse_dev_line(char *line, char **name, uint64_t cur[NCOLS])
{
	char *colon = strchr(line, ':'), *p;
	size_t i;

	if (!colon)
		return -1;
	*colon = '\0';
	*name = line + strspn(line, " ");
	if (!**name || strlen(*name) >= IFNAMSIZ)
		return -1;
	p = colon + 1;
	for (i = 0; i < NCOLS; i++)
		if (collect_parse_u64(&p, &cur[i]))
			return -1;
	return 0;
}

static void netdev_collect(struct collector *c, uint64_t interval_ns)
{
	struct netdev_state *st = c->priv;
	char *text = collect_read_or_error(c, "/proc/net/dev"), *line, *name, copy[200];
	unsigned int lineno = 0;
	uint64_t cur[NCOLS];
	struct iface *ifc;
	bool fresh;

	(void)interval_ns;	/* rates use c->clock_ns */
	if (!text)
		return;
	while ((line = collect_next_line(&text)) != NULL) {
		if (++lineno <= 2)
			continue;	/* the two header lines */
		snprintf(copy, sizeof(copy), "%s", line);
		if (parse_dev_line(line, &name, cur)) {
			collect_line_error(c, lineno, "expected \"name: %d counters\", got \"%.80s\"",
					   NCOLS, copy);
			continue;
		}
		ifc = find_iface(st, name, &fresh);
		if (!ifc) {
			collect_error(c, "netdev collector: out of memory");
			break;
		}
		if (ifc->seen) {
			collect_line_error(c, lineno, "interface %s listed twice", name);
			continue;
		}
		if (!fresh)
			emit_iface(c, ifc, cur);
		memcpy(ifc->prev, cur, sizeof(cur));
		ifc->stamp_ns = c->clock_ns;
		ifc->seen = true;
	}
	drop_unseen(st);
}

const struct collector_ops collect_netdev_ops = {
	.name = "netdev",
	.init = netdev_init,
	.collect = netdev_collect,
	.fini = netdev_fini,
};
