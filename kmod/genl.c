// SPDX-License-Identifier: GPL-2.0
/*
 * The generic netlink family "perfagent": status, backlog dump, scan of
 * devices without a driver, and the "events" multicast group. Layout in
 * include/perfagent/genl.h.
 *
 * Requests are checked against one strict family-level policy (every
 * command has it, so the core also rejects unknown attributes, wrong
 * lengths and stray header bits, with an extended ack), then against the
 * attributes each command accepts. Every command needs CAP_NET_ADMIN; so
 * does joining "events" on kernels that can say so (see PA_MCGRP_FLAGS).
 *
 * Events are recorded from any context but multicast from a work item, in
 * process context with GFP_KERNEL: the work drains the backlog in sequence
 * order from the last event it sent.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/irq_work.h>
#include <linux/module.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>

#include "perfagent.h"

enum pa_mcgrp {
	PA_MCGRP_EVENTS,
};

static const struct nla_policy pa_policy[PA_ATTR_MAX + 1] = {
	[PA_ATTR_API_VERSION]	= { .type = NLA_U32 },
	[PA_ATTR_AFTER_SEQ]	= { .type = NLA_U64 },
};

#define PA_REQ_ATTR(a) BIT_ULL(a)

static int pa_get_status(struct sk_buff *skb, struct genl_info *info);
static int pa_dump_backlog(struct sk_buff *skb, struct netlink_callback *cb);
static int pa_dump_unbound(struct sk_buff *skb, struct netlink_callback *cb);

static const struct genl_small_ops pa_ops[] = {
	{
		.cmd	= PA_CMD_GET_STATUS,
		.doit	= pa_get_status,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= PA_CMD_DUMP_BACKLOG,
		.dumpit	= pa_dump_backlog,
		.flags	= GENL_ADMIN_PERM,
	},
	{
		.cmd	= PA_CMD_DUMP_UNBOUND,
		.dumpit	= pa_dump_unbound,
		.flags	= GENL_ADMIN_PERM,
	},
};

/*
 * GENL_MCAST_CAP_NET_ADMIN came upstream in late 2023 and was backported
 * to the stable series (Debian 12's 6.1 has it; 6.18 has it). Without it
 * anyone may join the group: events carry device, driver and module names,
 * nothing secret, while every command still needs CAP_NET_ADMIN.
 */
static const struct genl_multicast_group pa_mcgrps[] = {
	[PA_MCGRP_EVENTS] = {
		.name	= PA_GENL_MCGRP_EVENTS,
#ifdef GENL_MCAST_CAP_NET_ADMIN
		.flags	= GENL_MCAST_CAP_NET_ADMIN,
#endif
	},
};

/*
 * resv_start_op stays 0: every command is new, so the core validates the
 * header's reserved field and flags strictly for all of them, and all of
 * them have the family-level policy.
 */
static struct genl_family pa_family __ro_after_init = {
	.name		= PA_GENL_NAME,
	.version	= PA_GENL_VERSION,
	.maxattr	= PA_ATTR_MAX,
	.policy		= pa_policy,
	.module		= THIS_MODULE,
	.small_ops	= pa_ops,
	.n_small_ops	= ARRAY_SIZE(pa_ops),
	.mcgrps		= pa_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(pa_mcgrps),
};

static void pa_mcast_fn(struct work_struct *work);
static DECLARE_WORK(pa_mcast_work, pa_mcast_fn);
static u64 pa_mcast_seq;		/* last event the work handled */
static atomic64_t pa_mcast_failed = ATOMIC64_INIT(0);
static bool pa_genl_ready;

static void pa_irq_work_fn(struct irq_work *work)
{
	schedule_work(&pa_mcast_work);
}

static DEFINE_IRQ_WORK(pa_irq_work, pa_irq_work_fn);

/* ---- requests ---- */

/* Attributes the policy allows but this command does not use, and an API
 * version the agent announces that is not ours, are refused.
 */
static int pa_check_request(struct nlattr **attrs, u64 allowed,
			    struct netlink_ext_ack *extack)
{
	struct nlattr *ver = attrs[PA_ATTR_API_VERSION];
	int i;

	for (i = 1; i <= PA_ATTR_MAX; i++) {
		if (attrs[i] && !(allowed & PA_REQ_ATTR(i))) {
			NL_SET_ERR_MSG_ATTR(extack, attrs[i],
					    "perfagent: attribute not valid for this command");
			return -EINVAL;
		}
	}
	if (ver && nla_get_u32(ver) != PA_GENL_API_VERSION) {
		NL_SET_ERR_MSG_ATTR(extack, ver,
				    "perfagent: agent and module speak different API versions");
		return -EPROTO;
	}
	return 0;
}

/* Dumps get no parsed attributes from genl_small_ops on every kernel
 * version, so parse them again (the core already validated them).
 */
static int pa_dump_check_request(struct netlink_callback *cb, u64 allowed,
				 struct nlattr **attrs)
{
	int err;

	err = genlmsg_parse(cb->nlh, &pa_family, attrs, PA_ATTR_MAX, pa_policy,
			    cb->extack);
	if (err)
		return err;
	return pa_check_request(attrs, allowed, cb->extack);
}

static int pa_put_str(struct sk_buff *skb, int type, const char *s)
{
	return s[0] ? nla_put_string(skb, type, s) : 0;
}

static int pa_put_event(struct sk_buff *skb, const struct pa_event *ev)
{
	if (nla_put_u32(skb, PA_ATTR_API_VERSION, PA_GENL_API_VERSION) ||
	    nla_put_u64_64bit(skb, PA_ATTR_INSTANCE, pa_instance, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_SEQ, ev->seq, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_TIME_REAL_NS, ev->real_ns, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_TIME_BOOT_NS, ev->boot_ns, PA_ATTR_PAD) ||
	    nla_put_u32(skb, PA_ATTR_EVENT, ev->code) ||
	    pa_put_str(skb, PA_ATTR_BUS, ev->bus) ||
	    pa_put_str(skb, PA_ATTR_DEVICE, ev->device) ||
	    pa_put_str(skb, PA_ATTR_DRIVER, ev->driver) ||
	    pa_put_str(skb, PA_ATTR_NETDEV, ev->netdev) ||
	    pa_put_str(skb, PA_ATTR_MODULE, ev->module) ||
	    pa_put_str(skb, PA_ATTR_DETAIL, ev->detail) ||
	    pa_put_str(skb, PA_ATTR_DEVICE_ID, ev->device_id))
		return -EMSGSIZE;
	if ((ev->flags & PA_F_IFINDEX) &&
	    (nla_put_u32(skb, PA_ATTR_IFINDEX, ev->ifindex) ||
	     nla_put_u32(skb, PA_ATTR_NETNS, ev->netns)))
		return -EMSGSIZE;
	if ((ev->flags & PA_F_MTU) &&
	    (nla_put_u32(skb, PA_ATTR_MTU, ev->mtu) ||
	     nla_put_u32(skb, PA_ATTR_OLD_MTU, ev->old_mtu)))
		return -EMSGSIZE;
	if ((ev->flags & PA_F_TAINT) &&
	    nla_put_u64_64bit(skb, PA_ATTR_TAINT, ev->taint, PA_ATTR_PAD))
		return -EMSGSIZE;
	if ((ev->flags & PA_F_ERROR) && nla_put_s32(skb, PA_ATTR_ERROR, ev->error))
		return -EMSGSIZE;
	return 0;
}

static int pa_put_counters(struct sk_buff *skb, const struct pa_stats *st)
{
	struct nlattr *nest;
	int code;

	nest = nla_nest_start(skb, PA_ATTR_COUNTERS);
	if (!nest)
		return -EMSGSIZE;
	for (code = 1; code <= PA_EV_MAX; code++) {
		/* Attribute 0 (PA_EV_UNSPEC) pads, readers skip it. */
		if (nla_put_u64_64bit(skb, code, st->counters[code], PA_EV_UNSPEC)) {
			nla_nest_cancel(skb, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(skb, nest);
	return 0;
}

static int pa_put_status(struct sk_buff *skb, const struct pa_stats *st)
{
	if (nla_put_u32(skb, PA_ATTR_API_VERSION, PA_GENL_API_VERSION) ||
	    nla_put_string(skb, PA_ATTR_MODULE_VERSION, PERFAGENT_KMOD_VERSION) ||
	    nla_put_u64_64bit(skb, PA_ATTR_INSTANCE, pa_instance, PA_ATTR_PAD) ||
	    nla_put_u32(skb, PA_ATTR_BACKLOG_SIZE, st->size) ||
	    nla_put_u32(skb, PA_ATTR_BACKLOG_FILL, st->fill) ||
	    nla_put_u64_64bit(skb, PA_ATTR_FIRST_SEQ, st->first_seq, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_LAST_SEQ, st->last_seq, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_DROPPED, st->dropped, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_LOST, st->lost, PA_ATTR_PAD) ||
	    nla_put_u64_64bit(skb, PA_ATTR_MCAST_FAILED,
			      atomic64_read(&pa_mcast_failed), PA_ATTR_PAD) ||
	    nla_put_u32(skb, PA_ATTR_UNBOUND_AT_LOAD, pa_unbound_at_load))
		return -EMSGSIZE;
	return pa_put_counters(skb, st);
}

static int pa_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct pa_stats st;
	struct sk_buff *msg;
	void *hdr;
	int err;

	err = pa_check_request(info->attrs, PA_REQ_ATTR(PA_ATTR_API_VERSION),
			       info->extack);
	if (err)
		return err;
	pa_backlog_stats(&st);
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pa_family, 0, PA_CMD_GET_STATUS);
	if (!hdr || pa_put_status(msg, &st)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

/*
 * cb->args[0]: 0 before the first call, then 1.
 * cb->args[1]: the last sequence number sent (or asked to start after).
 */
static int pa_dump_backlog(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr *attrs[PA_ATTR_MAX + 1];
	struct pa_event ev;
	void *hdr;
	int err;

	if (!cb->args[0]) {
		err = pa_dump_check_request(cb, PA_REQ_ATTR(PA_ATTR_API_VERSION) |
					    PA_REQ_ATTR(PA_ATTR_AFTER_SEQ), attrs);
		if (err)
			return err;
		if (attrs[PA_ATTR_AFTER_SEQ])
			cb->args[1] = nla_get_u64(attrs[PA_ATTR_AFTER_SEQ]);
		cb->args[0] = 1;
	}
	while (pa_backlog_next(cb->args[1], &ev)) {
		hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
				  &pa_family, NLM_F_MULTI, PA_CMD_EVENT);
		if (!hdr)
			break;
		if (pa_put_event(skb, &ev)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[1] = ev.seq;
	}
	return skb->len;
}

struct pa_unbound_dump {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int pa_put_unbound(void *ctx, const struct pa_unbound *u)
{
	struct pa_unbound_dump *d = ctx;
	void *hdr;

	hdr = genlmsg_put(d->skb, NETLINK_CB(d->cb->skb).portid, d->cb->nlh->nlmsg_seq,
			  &pa_family, NLM_F_MULTI, PA_CMD_UNBOUND);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(d->skb, PA_ATTR_API_VERSION, PA_GENL_API_VERSION) ||
	    nla_put_u64_64bit(d->skb, PA_ATTR_INSTANCE, pa_instance, PA_ATTR_PAD) ||
	    nla_put_string(d->skb, PA_ATTR_BUS, u->bus) ||
	    nla_put_string(d->skb, PA_ATTR_DEVICE, u->device) ||
	    pa_put_str(d->skb, PA_ATTR_DEVICE_ID, u->device_id)) {
		genlmsg_cancel(d->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(d->skb, hdr);
	return 0;
}

/*
 * A live scan. cb->args[1] counts the devices without a driver already
 * sent, so a dump spanning several messages resumes where it stopped (a
 * device bound or added in between may be missed or repeated once).
 */
static int pa_dump_unbound(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct nlattr *attrs[PA_ATTR_MAX + 1];
	struct pa_unbound_dump d = { .skb = skb, .cb = cb };
	unsigned long next;
	int err;

	if (!cb->args[0]) {
		err = pa_dump_check_request(cb, PA_REQ_ATTR(PA_ATTR_API_VERSION), attrs);
		if (err)
			return err;
		cb->args[0] = 1;
	}
	next = cb->args[1];
	pa_unbound_walk(&next, pa_put_unbound, &d);
	cb->args[1] = next;
	return skb->len;
}

/* ---- multicast ---- */

/* The largest event message: sized to fit, so that a listener's socket
 * buffer holds many events (its truesize counts, not what is used).
 */
static size_t pa_event_msg_size(void)
{
	return 6 * nla_total_size(sizeof(u32)) +	/* api, event, ifindex... */
	       nla_total_size(sizeof(s32)) +		/* error */
	       5 * nla_total_size_64bit(sizeof(u64)) +	/* instance, seq, times, taint */
	       nla_total_size(sizeof_field(struct pa_event, bus)) +
	       nla_total_size(sizeof_field(struct pa_event, device)) +
	       nla_total_size(sizeof_field(struct pa_event, driver)) +
	       nla_total_size(sizeof_field(struct pa_event, netdev)) +
	       nla_total_size(sizeof_field(struct pa_event, module)) +
	       nla_total_size(sizeof_field(struct pa_event, detail)) +
	       nla_total_size(sizeof_field(struct pa_event, device_id));
}

static void pa_mcast_event(const struct pa_event *ev)
{
	struct sk_buff *skb;
	void *hdr;
	int err;

	skb = genlmsg_new(pa_event_msg_size(), GFP_KERNEL);
	if (!skb) {
		atomic64_inc(&pa_mcast_failed);
		return;
	}
	hdr = genlmsg_put(skb, 0, 0, &pa_family, 0, PA_CMD_EVENT);
	if (!hdr || pa_put_event(skb, ev)) {
		nlmsg_free(skb);
		atomic64_inc(&pa_mcast_failed);
		return;
	}
	genlmsg_end(skb, hdr);
	/* -ESRCH: nobody listens any more. Listeners whose socket overflowed
	 * get ENOBUFS on it and re-sync from the backlog themselves.
	 */
	err = genlmsg_multicast(&pa_family, skb, 0, PA_MCGRP_EVENTS, GFP_KERNEL);
	if (err && err != -ESRCH)
		atomic64_inc(&pa_mcast_failed);
}

static void pa_mcast_fn(struct work_struct *work)
{
	struct pa_event ev;

	while (pa_backlog_next(pa_mcast_seq, &ev)) {
		pa_mcast_seq = ev.seq;
		if (genl_has_listeners(&pa_family, &init_net, PA_MCGRP_EVENTS))
			pa_mcast_event(&ev);
		cond_resched();
	}
}

void pa_genl_kick(void)
{
	if (READ_ONCE(pa_genl_ready))
		schedule_work(&pa_mcast_work);
}

/* irq_work is the one deferral that may be queued from NMI. */
void pa_genl_kick_from_nmi(void)
{
	if (READ_ONCE(pa_genl_ready))
		irq_work_queue(&pa_irq_work);
}

int pa_genl_init(void)
{
	int err;

	err = genl_register_family(&pa_family);
	if (err) {
		pr_err("cannot register generic netlink family %s: %d\n",
		       PA_GENL_NAME, err);
		return err;
	}
	WRITE_ONCE(pa_genl_ready, true);
	return 0;
}

/* Called once every watcher is unregistered: nothing kicks any more. */
void pa_genl_exit(void)
{
	WRITE_ONCE(pa_genl_ready, false);
	irq_work_sync(&pa_irq_work);
	cancel_work_sync(&pa_mcast_work);
	genl_unregister_family(&pa_family);
}
