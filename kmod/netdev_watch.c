// SPDX-License-Identifier: GPL-2.0
/*
 * Network devices: registered/unregistered, up/down, carrier lost/regained,
 * MTU change, rename, from the netdevice notifier (process context, under
 * RTNL). A flapping link shows as carrier-down/carrier-up events, each with
 * its timestamp and sequence number.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "perfagent.h"

/*
 * Registering the notifier replays REGISTER and UP for every existing
 * device, unregistering replays DOWN and UNREGISTER: those are not events.
 * The replay runs in the task that (un)registers, so only its callbacks
 * are skipped; real events in other tasks around it still count.
 */
static struct task_struct *pa_netdev_replayer;

/* NETDEV_CHANGE comes from netdev_state_change() (link state: carrier,
 * dormant) with flags_changed == 0, or from a flags change (IFF_NOARP...)
 * with the changed flags: only the former is a carrier event.
 */
static bool pa_is_link_change(void *ptr)
{
	struct netdev_notifier_change_info *ci = ptr;

	return ci->flags_changed == 0;
}

static u32 pa_netdev_code(unsigned long action, void *ptr, struct net_device *dev)
{
	switch (action) {
	case NETDEV_REGISTER:
		return PA_EV_NETDEV_REGISTERED;
	case NETDEV_UNREGISTER:
		return PA_EV_NETDEV_UNREGISTERED;
	case NETDEV_UP:
		return PA_EV_NETDEV_UP;
	case NETDEV_DOWN:
		return PA_EV_NETDEV_DOWN;
	case NETDEV_CHANGE:
		if (!pa_is_link_change(ptr))
			return PA_EV_UNSPEC;
		return netif_carrier_ok(dev) ? PA_EV_CARRIER_UP : PA_EV_CARRIER_DOWN;
	case NETDEV_CHANGEMTU:
		return PA_EV_MTU_CHANGED;
	case NETDEV_CHANGENAME:
		return PA_EV_NETDEV_RENAMED;
	default:
		return PA_EV_UNSPEC;
	}
}

static int pa_netdev_event(struct notifier_block *nb, unsigned long action, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct pa_event ev;
	u32 code;

	if (READ_ONCE(pa_netdev_replayer) == current)
		return NOTIFY_DONE;
	code = pa_netdev_code(action, ptr, dev);
	if (code == PA_EV_UNSPEC)
		return NOTIFY_DONE;
	pa_event_init(&ev, code);
	strscpy(ev.netdev, dev->name, sizeof(ev.netdev));
	ev.ifindex = dev->ifindex;
	ev.netns = dev_net(dev)->ns.inum;
	ev.flags = PA_F_IFINDEX;
	if (code == PA_EV_MTU_CHANGED) {
		struct netdev_notifier_info_ext *ext = ptr;

		ev.mtu = dev->mtu;
		ev.old_mtu = ext->ext.mtu;
		ev.flags |= PA_F_MTU;
	}
	if (dev->dev.parent) {
		struct device *parent = dev->dev.parent;
		struct device_driver *drv = READ_ONCE(parent->driver);

		strscpy(ev.device, dev_name(parent), sizeof(ev.device));
		if (parent->bus)
			strscpy(ev.bus, parent->bus->name, sizeof(ev.bus));
		if (drv)
			strscpy(ev.driver, drv->name, sizeof(ev.driver));
	}
	pa_record(&ev);
	return NOTIFY_DONE;
}

static struct notifier_block pa_netdev_nb = { .notifier_call = pa_netdev_event };

int pa_netdev_watch_init(void)
{
	int err;

	WRITE_ONCE(pa_netdev_replayer, current);
	err = register_netdevice_notifier(&pa_netdev_nb);
	WRITE_ONCE(pa_netdev_replayer, NULL);
	return err;
}

void pa_netdev_watch_exit(void)
{
	WRITE_ONCE(pa_netdev_replayer, current);
	unregister_netdevice_notifier(&pa_netdev_nb);
	WRITE_ONCE(pa_netdev_replayer, NULL);
}
