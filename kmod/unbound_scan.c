// SPDX-License-Identifier: GPL-2.0
/*
 * Devices on the watched buses (PCI, platform) that have no driver bound:
 * the agent's driver compatibility check at start-up. Counted once at load
 * time and listed live on request (PA_CMD_DUMP_UNBOUND).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/device.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/string.h>

#include "perfagent.h"

struct pa_walk {
	unsigned long index;	/* devices without a driver seen so far */
	unsigned long start;	/* report from this one on */
	pa_unbound_fn fn;
	void *ctx;
};

static int pa_visit(struct device *dev, void *data)
{
	struct pa_walk *w = data;
	struct pa_unbound u;

	/* Unlocked read: a probe racing with the scan may or may not count. */
	if (READ_ONCE(dev->driver))
		return 0;
	if (w->index++ < w->start)
		return 0;
	u.bus = dev->bus->name;
	strscpy(u.device, dev_name(dev), sizeof(u.device));
	pa_describe_device(dev, u.device_id, sizeof(u.device_id));
	if (w->fn(w->ctx, &u)) {
		w->index--;	/* not sent: resume with it */
		return 1;
	}
	return 0;
}

int pa_unbound_walk(unsigned long *next, pa_unbound_fn fn, void *ctx)
{
	struct pa_walk w = { .start = *next, .fn = fn, .ctx = ctx };
	int stopped = 0;

#ifdef CONFIG_PCI
	stopped = bus_for_each_dev(&pci_bus_type, NULL, &w, pa_visit);
#endif
	if (!stopped)
		stopped = bus_for_each_dev(&platform_bus_type, NULL, &w, pa_visit);
	*next = w.index;
	return stopped;
}

static int pa_count_one(void *ctx, const struct pa_unbound *u)
{
	return 0;
}

unsigned int pa_unbound_count(void)
{
	unsigned long n = 0;

	pa_unbound_walk(&n, pa_count_one, NULL);
	return n;
}
