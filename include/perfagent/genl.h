/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The generic netlink interface between the perfagent kernel module
 * (kmod/) and the agent (agent/health_netlink.c). One definition for both
 * sides: family, API version, commands, attributes, event codes and the
 * multicast group.
 *
 * Only perfagent's own codes go on the wire, never the kernel's notifier
 * action numbers (BUS_NOTIFY_* are #defines 1-8 on 6.1 and an enum 0-7 on
 * later kernels): the module maps them by name at compile time.
 *
 * Compatibility rule: PA_GENL_API_VERSION changes whenever the meaning of
 * an existing command, attribute or event code changes. Adding a new
 * attribute or event code at the end does not change it; readers ignore
 * attributes they do not know and print unknown event codes as numbers.
 */
#ifndef PERFAGENT_GENL_H
#define PERFAGENT_GENL_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define PA_GENL_NAME		"perfagent"
#define PA_GENL_VERSION		1	/* genlmsghdr.version */
#define PA_GENL_API_VERSION	1	/* PA_ATTR_API_VERSION */
#define PA_GENL_MCGRP_EVENTS	"events"

/* Longest string attribute the module sends, terminating NUL included. */
#define PA_GENL_NAME_LEN	64

enum pa_genl_cmd {
	PA_CMD_UNSPEC,
	/*
	 * Request: no attributes (optionally PA_ATTR_API_VERSION).
	 * Reply: PA_ATTR_API_VERSION, PA_ATTR_MODULE_VERSION, PA_ATTR_INSTANCE,
	 * PA_ATTR_BACKLOG_SIZE, PA_ATTR_BACKLOG_FILL, PA_ATTR_FIRST_SEQ,
	 * PA_ATTR_LAST_SEQ, PA_ATTR_DROPPED, PA_ATTR_LOST, PA_ATTR_MCAST_FAILED,
	 * PA_ATTR_UNBOUND_AT_LOAD, PA_ATTR_COUNTERS.
	 */
	PA_CMD_GET_STATUS,
	/*
	 * NLM_F_DUMP. Request: optional PA_ATTR_AFTER_SEQ (only events with a
	 * greater sequence number). Reply: one PA_CMD_EVENT message per event
	 * still in the backlog, oldest first.
	 */
	PA_CMD_DUMP_BACKLOG,
	/*
	 * NLM_F_DUMP. Request: no attributes. Reply: one PA_CMD_UNBOUND message
	 * per device on a watched bus that has no driver bound right now.
	 */
	PA_CMD_DUMP_UNBOUND,
	/* Kernel to agent only: one event (backlog dump and multicast). */
	PA_CMD_EVENT,
	/* Kernel to agent only: one device without a driver. */
	PA_CMD_UNBOUND,
	__PA_CMD_MAX,
};

#define PA_CMD_MAX (__PA_CMD_MAX - 1)

enum pa_genl_attr {
	PA_ATTR_UNSPEC,
	PA_ATTR_PAD,			/* alignment of the u64 attributes */
	PA_ATTR_API_VERSION,		/* u32, in every message the module sends */
	PA_ATTR_MODULE_VERSION,		/* string */
	PA_ATTR_INSTANCE,		/* u64, random per module load */
	PA_ATTR_SEQ,			/* u64, 1, 2, 3... per module load */
	PA_ATTR_TIME_REAL_NS,		/* u64, CLOCK_REALTIME */
	PA_ATTR_TIME_BOOT_NS,		/* u64, CLOCK_BOOTTIME */
	PA_ATTR_EVENT,			/* u32, enum pa_event_code */
	PA_ATTR_BUS,			/* string: "pci", "platform", "usb" */
	PA_ATTR_DEVICE,			/* string: device name on its bus */
	PA_ATTR_DRIVER,			/* string */
	PA_ATTR_NETDEV,			/* string: interface name */
	PA_ATTR_IFINDEX,		/* u32 */
	PA_ATTR_NETNS,			/* u32: network namespace inode number */
	PA_ATTR_MTU,			/* u32: new MTU */
	PA_ATTR_OLD_MTU,		/* u32 */
	PA_ATTR_MODULE,			/* string: module name */
	PA_ATTR_TAINT,			/* u64: TAINT_* bits the module added */
	PA_ATTR_ERROR,			/* s32: negative errno, when known */
	PA_ATTR_DETAIL,			/* string: e.g. the die reason */
	PA_ATTR_DEVICE_ID,		/* string: "8086:100e class 020000" (PCI) */
	PA_ATTR_BACKLOG_SIZE,		/* u32: capacity in events */
	PA_ATTR_BACKLOG_FILL,		/* u32: events held now */
	PA_ATTR_FIRST_SEQ,		/* u64: oldest sequence number held */
	PA_ATTR_LAST_SEQ,		/* u64: newest sequence number given out */
	PA_ATTR_DROPPED,		/* u64: events overwritten in the backlog */
	PA_ATTR_LOST,			/* u64: events never recorded (lock busy in an oops) */
	PA_ATTR_MCAST_FAILED,		/* u64: multicasts that could not be sent */
	PA_ATTR_UNBOUND_AT_LOAD,	/* u32: devices without a driver at load */
	PA_ATTR_COUNTERS,		/* nested: attribute type = event code, u64 count */
	PA_ATTR_AFTER_SEQ,		/* u64, request: dump events after this one */
	__PA_ATTR_MAX,
};

#define PA_ATTR_MAX (__PA_ATTR_MAX - 1)

/* perfagent's own event codes. Never renumber: append. */
enum pa_event_code {
	PA_EV_UNSPEC,
	PA_EV_DEVICE_ADDED,		/* bus, device */
	PA_EV_DEVICE_REMOVED,		/* bus, device */
	PA_EV_DRIVER_BOUND,		/* bus, device, driver */
	PA_EV_DRIVER_UNBOUND,		/* bus, device, driver */
	PA_EV_PROBE_FAILED,		/* bus, device, driver */
	PA_EV_NETDEV_REGISTERED,	/* netdev, ifindex, netns */
	PA_EV_NETDEV_UNREGISTERED,
	PA_EV_NETDEV_UP,
	PA_EV_NETDEV_DOWN,
	PA_EV_CARRIER_DOWN,
	PA_EV_CARRIER_UP,
	PA_EV_MTU_CHANGED,		/* + mtu, old mtu */
	PA_EV_NETDEV_RENAMED,		/* netdev is the new name */
	PA_EV_MODULE_COMING,		/* module, taint */
	PA_EV_MODULE_LIVE,
	PA_EV_MODULE_GOING,
	PA_EV_DIE,			/* detail (die reason), error */
	__PA_EV_MAX,
};

#define PA_EV_MAX (__PA_EV_MAX - 1)

#endif /* PERFAGENT_GENL_H */
