// SPDX-License-Identifier: GPL-2.0
/*
 * perfagent: what eBPF cannot see well (device and driver binding, network
 * device state, modules, oopses), kept in a bounded backlog and handed to
 * the perfagent agent over generic netlink.
 *
 * Load order: backlog, netlink family, then the watchers, so every event
 * has somewhere to go. Unload in reverse: once every notifier is
 * unregistered (which waits for running callbacks), nothing queues work,
 * so the multicast work can be cancelled, the family removed and the
 * backlog freed.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/random.h>

#include "perfagent.h"

#define PA_BACKLOG_MIN	16
#define PA_BACKLOG_MAX	65536

static unsigned int backlog = 1024;
module_param(backlog, uint, 0444);
MODULE_PARM_DESC(backlog, "events kept until the agent reads them (16-65536, default 1024)");

u64 pa_instance;
unsigned int pa_unbound_at_load;

static int __init pa_init(void)
{
	int err;

	if (backlog < PA_BACKLOG_MIN || backlog > PA_BACKLOG_MAX) {
		pr_err("backlog=%u is out of range (%u-%u)\n",
		       backlog, PA_BACKLOG_MIN, PA_BACKLOG_MAX);
		return -EINVAL;
	}
	/* Tells the agent that sequence numbers restarted (a reload). */
	pa_instance = get_random_u64();
	err = pa_backlog_init(backlog);
	if (err)
		return err;
	err = pa_genl_init();
	if (err)
		goto err_backlog;
	pa_unbound_at_load = pa_unbound_count();
	err = pa_netdev_watch_init();
	if (err)
		goto err_genl;
	err = pa_module_watch_init();
	if (err)
		goto err_netdev;
	err = pa_bus_watch_init();
	if (err)
		goto err_module;
	err = pa_die_watch_init();
	if (err)
		goto err_bus;
	pr_info("version %s loaded: backlog of %u events, %u devices without a driver\n",
		PERFAGENT_KMOD_VERSION, backlog, pa_unbound_at_load);
	return 0;

err_bus:
	pa_bus_watch_exit();
err_module:
	pa_module_watch_exit();
err_netdev:
	pa_netdev_watch_exit();
err_genl:
	pa_genl_exit();
err_backlog:
	pa_backlog_exit();
	pr_err("cannot load: %d\n", err);
	return err;
}

static void __exit pa_exit(void)
{
	pa_die_watch_exit();
	pa_bus_watch_exit();
	pa_module_watch_exit();
	pa_netdev_watch_exit();
	pa_genl_exit();
	pa_backlog_exit();
}

module_init(pa_init);
module_exit(pa_exit);

MODULE_DESCRIPTION("perfagent: device, driver, network device and module health events over generic netlink");
MODULE_AUTHOR("perfagent developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(PERFAGENT_KMOD_VERSION);
