// SPDX-License-Identifier: GPL-2.0
/*
 * Client of the perfagent kernel module's generic netlink family, with
 * libnl-genl-3. Two sockets: "req" for requests and their replies (status,
 * backlog dump, scan), "ev" for what the kernel multicasts (the module's
 * "events" group, and nlctrl's "notify" group that says when the family
 * goes away and comes back, i.e. the module was unloaded or loaded).
 *
 * Delivery: the last sequence number delivered for the current module
 * instance is kept. Live events are delivered when they are the next one;
 * a gap (a multicast the socket lost, or ENOBUFS) makes the agent re-read
 * the backlog from that number on; what the backlog no longer holds is
 * counted as lost and said. A new instance (the module was reloaded)
 * starts again from sequence number 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>

#include "health_netlink.h"
#include "timeutil.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RECONNECT_INTERVAL_NS	1000000000ULL
#define REQUEST_TIMEOUT_S	10

struct health_nl {
	struct nl_sock *req;
	struct nl_sock *ev;
	int family;		/* 0 while not connected */
	int group;
	bool connected;
	bool need_resync;	/* overflow or gap seen */
	bool need_reconnect;	/* the family was added again, or an unknown instance */
	bool family_gone;
	bool requests_only;	/* status and scans: no events */
	uint64_t instance;
	uint64_t last_seq;
	uint64_t last_attempt_ns;
	health_event_fn on_event;
	health_notice_fn on_notice;
	void *ctx;
	struct health_stats stats;
};

static void notice(struct health_nl *h, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void notice(struct health_nl *h, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!h->on_notice)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	h->on_notice(h->ctx, msg);
}

/* ---- parsing ---- */

/*
 * libnl checks strings (NUL, maximum length) and nests here; numbers only
 * have a minimum length in libnl, so get_uint() checks them exactly and
 * names the attribute when one is wrong.
 */
static struct nla_policy event_policy[PA_ATTR_MAX + 1] = {
	[PA_ATTR_MODULE_VERSION] = { .type = NLA_STRING, .maxlen = 32 },
	[PA_ATTR_BUS]		= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN },
	[PA_ATTR_DEVICE]	= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN },
	[PA_ATTR_DRIVER]	= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN },
	[PA_ATTR_NETDEV]	= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN },
	[PA_ATTR_MODULE]	= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN },
	[PA_ATTR_DETAIL]	= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN + 32 },
	[PA_ATTR_DEVICE_ID]	= { .type = NLA_STRING, .maxlen = PA_GENL_NAME_LEN },
	[PA_ATTR_COUNTERS]	= { .type = NLA_NESTED },
};

static const char *attr_name(int type)
{
	static const char *const names[PA_ATTR_MAX + 1] = {
		[PA_ATTR_API_VERSION] = "API version",
		[PA_ATTR_INSTANCE] = "instance",
		[PA_ATTR_SEQ] = "sequence number",
		[PA_ATTR_TIME_REAL_NS] = "time",
		[PA_ATTR_EVENT] = "event code",
	};

	return type <= PA_ATTR_MAX && names[type] ? names[type] : "attribute";
}

/* libnl checks a minimum length only: insist on the exact one. */
static int get_uint(struct nlattr **tb, int type, int size, bool required,
		    uint64_t *out, char *err, size_t len)
{
	if (!tb[type]) {
		if (required)
			snprintf(err, len, "%s missing", attr_name(type));
		return required ? -EINVAL : 0;
	}
	if (nla_len(tb[type]) != size) {
		snprintf(err, len, "%s (attribute %d) has %d bytes, expected %d",
			 attr_name(type), type, nla_len(tb[type]), size);
		return -EINVAL;
	}
	*out = size == 8 ? nla_get_u64(tb[type]) : nla_get_u32(tb[type]);
	return 0;
}

static void get_str(struct nlattr **tb, int type, char *buf, size_t len)
{
	if (tb[type])
		snprintf(buf, len, "%s", nla_get_string(tb[type]));
}

/* libnl's parser silently skips an attribute cut short: not here. */
static int attrs_left_over(const struct genlmsghdr *gh)
{
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, genlmsg_attrdata(gh, 0), genlmsg_attrlen(gh, 0), rem)
		;
	return rem;
}

/* Header, attributes and API version of a message from the module. */
static int parse_common(const struct nlmsghdr *nlh, uint8_t cmd, struct nlattr **tb,
			char *err, size_t len)
{
	struct nlmsghdr *hdr = (struct nlmsghdr *)nlh;
	struct genlmsghdr *gh;
	uint64_t ver = 0;
	int rc;

	if (!genlmsg_valid_hdr(hdr, 0)) {
		snprintf(err, len, "message too short for a generic netlink header");
		return -EINVAL;
	}
	gh = nlmsg_data(hdr);
	if (gh->cmd != cmd) {
		snprintf(err, len, "unexpected command %u (expected %u)", gh->cmd, cmd);
		return -EINVAL;
	}
	rc = genlmsg_parse(hdr, 0, tb, PA_ATTR_MAX, event_policy);
	if (rc < 0) {
		snprintf(err, len, "malformed attributes: %s", nl_geterror(rc));
		return -EINVAL;
	}
	rc = attrs_left_over(gh);
	if (rc) {
		snprintf(err, len, "malformed attributes: %d bytes left over (truncated message?)", rc);
		return -EINVAL;
	}
	if (get_uint(tb, PA_ATTR_API_VERSION, 4, true, &ver, err, len))
		return -EINVAL;
	if (ver != PA_GENL_API_VERSION) {
		snprintf(err, len, "kernel module perfagent speaks netlink API version %" PRIu64
			 ", this agent speaks %u: install the module and the agent of the same "
			 "release (dkms status perfagent; perfagent --version)",
			 ver, PA_GENL_API_VERSION);
		return -EPROTO;
	}
	return 0;
}

int health_parse_event(const struct nlmsghdr *nlh, struct health_event *ev,
		       char *err, size_t len)
{
	struct nlattr *tb[PA_ATTR_MAX + 1];
	uint64_t v = 0;
	int rc;

	memset(ev, 0, sizeof(*ev));
	ev->source = "kmod";
	rc = parse_common(nlh, PA_CMD_EVENT, tb, err, len);
	if (rc)
		return rc;
	if (get_uint(tb, PA_ATTR_INSTANCE, 8, true, &ev->instance, err, len) ||
	    get_uint(tb, PA_ATTR_SEQ, 8, true, &ev->seq, err, len) ||
	    get_uint(tb, PA_ATTR_TIME_REAL_NS, 8, true, &ev->real_ns, err, len) ||
	    get_uint(tb, PA_ATTR_TIME_BOOT_NS, 8, false, &ev->boot_ns, err, len) ||
	    get_uint(tb, PA_ATTR_EVENT, 4, true, &v, err, len))
		return -EINVAL;
	ev->code = (uint32_t)v;
	if (ev->seq == 0 || ev->code == PA_EV_UNSPEC) {
		snprintf(err, len, "%s is 0", ev->seq ? "event code" : "sequence number");
		return -EINVAL;
	}
	ev->has_ifindex = tb[PA_ATTR_IFINDEX] != NULL;
	ev->has_mtu = tb[PA_ATTR_MTU] != NULL;
	ev->has_taint = tb[PA_ATTR_TAINT] != NULL;
	ev->has_error = tb[PA_ATTR_ERROR] != NULL;
	if (get_uint(tb, PA_ATTR_IFINDEX, 4, false, &v, err, len))
		return -EINVAL;
	ev->ifindex = (uint32_t)v;
	v = 0;
	if (get_uint(tb, PA_ATTR_NETNS, 4, false, &v, err, len))
		return -EINVAL;
	ev->netns = (uint32_t)v;
	v = 0;
	if (get_uint(tb, PA_ATTR_MTU, 4, false, &v, err, len))
		return -EINVAL;
	ev->mtu = (uint32_t)v;
	v = 0;
	if (get_uint(tb, PA_ATTR_OLD_MTU, 4, false, &v, err, len))
		return -EINVAL;
	ev->old_mtu = (uint32_t)v;
	v = 0;
	if (get_uint(tb, PA_ATTR_ERROR, 4, false, &v, err, len) ||
	    get_uint(tb, PA_ATTR_TAINT, 8, false, &ev->taint, err, len))
		return -EINVAL;
	ev->error = (int32_t)(uint32_t)v;
	get_str(tb, PA_ATTR_BUS, ev->bus, sizeof(ev->bus));
	get_str(tb, PA_ATTR_DEVICE, ev->device, sizeof(ev->device));
	get_str(tb, PA_ATTR_DRIVER, ev->driver, sizeof(ev->driver));
	get_str(tb, PA_ATTR_NETDEV, ev->netdev, sizeof(ev->netdev));
	get_str(tb, PA_ATTR_MODULE, ev->module, sizeof(ev->module));
	get_str(tb, PA_ATTR_DETAIL, ev->detail, sizeof(ev->detail));
	get_str(tb, PA_ATTR_DEVICE_ID, ev->device_id, sizeof(ev->device_id));
	return 0;
}

static void parse_counters(struct nlattr *nest, struct health_status *st)
{
	struct nlattr *a;
	int rem;

	if (!nest)
		return;
	/* Unknown (newer) codes are skipped, as is the alignment padding. */
	nla_for_each_nested(a, nest, rem) {
		int code = nla_type(a);

		if (code >= 1 && code <= PA_EV_MAX && nla_len(a) == 8)
			st->counters[code] = nla_get_u64(a);
	}
}

int health_parse_status(const struct nlmsghdr *nlh, struct health_status *st,
			char *err, size_t len)
{
	struct nlattr *tb[PA_ATTR_MAX + 1];
	uint64_t size = 0, fill = 0, unbound = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = parse_common(nlh, PA_CMD_GET_STATUS, tb, err, len);
	if (rc)
		return rc;
	st->api_version = PA_GENL_API_VERSION;
	if (get_uint(tb, PA_ATTR_INSTANCE, 8, true, &st->instance, err, len) ||
	    get_uint(tb, PA_ATTR_BACKLOG_SIZE, 4, false, &size, err, len) ||
	    get_uint(tb, PA_ATTR_BACKLOG_FILL, 4, false, &fill, err, len) ||
	    get_uint(tb, PA_ATTR_FIRST_SEQ, 8, false, &st->first_seq, err, len) ||
	    get_uint(tb, PA_ATTR_LAST_SEQ, 8, false, &st->last_seq, err, len) ||
	    get_uint(tb, PA_ATTR_DROPPED, 8, false, &st->dropped, err, len) ||
	    get_uint(tb, PA_ATTR_LOST, 8, false, &st->lost, err, len) ||
	    get_uint(tb, PA_ATTR_MCAST_FAILED, 8, false, &st->mcast_failed, err, len) ||
	    get_uint(tb, PA_ATTR_UNBOUND_AT_LOAD, 4, false, &unbound, err, len))
		return -EINVAL;
	st->backlog_size = (uint32_t)size;
	st->backlog_fill = (uint32_t)fill;
	st->unbound_at_load = (uint32_t)unbound;
	get_str(tb, PA_ATTR_MODULE_VERSION, st->module_version, sizeof(st->module_version));
	parse_counters(tb[PA_ATTR_COUNTERS], st);
	return 0;
}

static int parse_unbound(const struct nlmsghdr *nlh, struct health_unbound *u,
			 char *err, size_t len)
{
	struct nlattr *tb[PA_ATTR_MAX + 1];
	int rc;

	memset(u, 0, sizeof(*u));
	rc = parse_common(nlh, PA_CMD_UNBOUND, tb, err, len);
	if (rc)
		return rc;
	if (!tb[PA_ATTR_BUS] || !tb[PA_ATTR_DEVICE]) {
		snprintf(err, len, "device without a driver: bus or device name missing");
		return -EINVAL;
	}
	get_str(tb, PA_ATTR_BUS, u->bus, sizeof(u->bus));
	get_str(tb, PA_ATTR_DEVICE, u->device, sizeof(u->device));
	get_str(tb, PA_ATTR_DEVICE_ID, u->device_id, sizeof(u->device_id));
	return 0;
}

/* ---- sequence numbers ---- */

enum health_seq_verdict health_seq_check(uint64_t cur_instance, uint64_t last_seq,
					 uint64_t instance, uint64_t seq)
{
	if (instance != cur_instance)
		return HEALTH_SEQ_OTHER_INSTANCE;
	if (seq <= last_seq)
		return HEALTH_SEQ_DUPLICATE;
	if (seq > last_seq + 1)
		return HEALTH_SEQ_GAP;
	return HEALTH_SEQ_DELIVER;
}

static void deliver(struct health_nl *h, struct health_event *ev)
{
	h->last_seq = ev->seq;
	h->stats.delivered++;
	if (ev->from_backlog)
		h->stats.from_backlog++;
	if (h->on_event)
		h->on_event(h->ctx, ev);
}

static void accept_event(struct health_nl *h, struct health_event *ev)
{
	switch (health_seq_check(h->instance, h->last_seq, ev->instance, ev->seq)) {
	case HEALTH_SEQ_DELIVER:
		deliver(h, ev);
		break;
	case HEALTH_SEQ_DUPLICATE:
		h->stats.duplicates++;
		break;
	case HEALTH_SEQ_GAP:
		/* The backlog holds what it still can: the rest is lost. */
		if (ev->from_backlog) {
			h->stats.lost += ev->seq - h->last_seq - 1;
			deliver(h, ev);
		} else {
			h->need_resync = true;
		}
		break;
	case HEALTH_SEQ_OTHER_INSTANCE:
		/* A reload whose nlctrl notification was not seen (yet). */
		if (!ev->from_backlog)
			h->need_reconnect = true;
		break;
	}
}

/* ---- requests ---- */

struct reply {
	struct health_nl *h;
	int (*on_msg)(struct reply *r, struct nlmsghdr *nlh);
	void *arg;
	bool done;
	int error;		/* negative errno from the kernel */
	char extack[200];
	int parse_rc;
	char parse_err[300];
};

static void read_extack(const struct nlmsghdr *nlh, size_t payload_off, char *buf, size_t len)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	int attrlen = nlmsg_datalen(nlh) - (int)payload_off;

	buf[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || attrlen <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlmsg_data(nlh) + payload_off), attrlen, NULL))
		return;
	if (tb[NLMSGERR_ATTR_MSG])
		snprintf(buf, len, "%s", nla_get_string(tb[NLMSGERR_ATTR_MSG]));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	struct reply *r = arg;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	size_t off = sizeof(*e);

	(void)who;
	/* Without NETLINK_CAP_ACK the request follows the error code. */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	r->error = e->error;
	read_extack(nlh, off, r->extack, sizeof(r->extack));
	r->done = true;
	return NL_STOP;
}

/* libnl ignores the error code a dump can end with (NLMSG_DONE payload). */
static int on_finish(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	if (nlmsg_datalen(nlh) >= (int)sizeof(int)) {
		int code;

		memcpy(&code, nlmsg_data(nlh), sizeof(code));
		if (code < 0) {
			r->error = code;
			read_extack(nlh, NLMSG_ALIGN(sizeof(code)), r->extack, sizeof(r->extack));
		}
	}
	r->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;

	(void)msg;
	r->done = true;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct reply *r = arg;
	int rc;

	if (r->parse_rc)
		return NL_SKIP;
	rc = r->on_msg(r, nlmsg_hdr(msg));
	if (rc && !r->parse_rc)
		r->parse_rc = rc;
	return NL_OK;
}

static const char *errno_advice(int err)
{
	switch (err) {
	case -EPERM:
	case -EACCES:
		return ": perfagent's netlink commands need CAP_NET_ADMIN (run as root)";
	case -ENOENT:
	case -EOPNOTSUPP:
		return ": is kernel module perfagent loaded?";
	default:
		return "";
	}
}

/*
 * Send cmd (with our API version, and after_seq for the backlog dump) and
 * hand every reply message to r->on_msg. Returns 0 or a negative errno
 * with the reason in err.
 */
static int request(struct health_nl *h, uint8_t cmd, bool dump, uint64_t after_seq,
		   struct reply *r, char *err, size_t len)
{
	struct nl_msg *msg;
	struct nl_cb *cb;
	int rc;

	msg = nlmsg_alloc();
	cb = nl_cb_clone(nl_socket_get_cb(h->req));
	if (!msg || !cb) {
		nlmsg_free(msg);
		nl_cb_put(cb);
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, h->family, 0,
			 dump ? NLM_F_DUMP : 0, cmd, PA_GENL_VERSION) ||
	    nla_put_u32(msg, PA_ATTR_API_VERSION, PA_GENL_API_VERSION) ||
	    (cmd == PA_CMD_DUMP_BACKLOG && nla_put_u64(msg, PA_ATTR_AFTER_SEQ, after_seq))) {
		rc = -ENOMEM;
		snprintf(err, len, "cannot build the request");
		goto out;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, r);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, r);
	rc = nl_send_auto(h->req, msg);
	while (rc >= 0 && !r->done)
		rc = nl_recvmsgs(h->req, cb);
	if (r->error) {
		rc = r->error;
		snprintf(err, len, "kernel module perfagent refused the request: %s%s%s%s",
			 strerror(-rc), r->extack[0] ? " (" : "", r->extack,
			 r->extack[0] ? ")" : "");
		snprintf(err + strlen(err), len - strlen(err), "%s", errno_advice(rc));
	} else if (rc < 0) {
		snprintf(err, len, "talking to kernel module perfagent: %s", nl_geterror(rc));
		rc = -EIO;
	} else if (r->parse_rc) {
		rc = r->parse_rc;
		snprintf(err, len, "bad message from kernel module perfagent: %s", r->parse_err);
	} else {
		rc = 0;
	}
out:
	nlmsg_free(msg);
	nl_cb_put(cb);
	return rc;
}

static int status_msg(struct reply *r, struct nlmsghdr *nlh)
{
	return health_parse_status(nlh, r->arg, r->parse_err, sizeof(r->parse_err));
}

static int fetch_status(struct health_nl *h, struct health_status *st, char *err, size_t len)
{
	struct reply r = { .h = h, .on_msg = status_msg, .arg = st };

	memset(st, 0, sizeof(*st));
	return request(h, PA_CMD_GET_STATUS, false, 0, &r, err, len);
}

static int backlog_msg(struct reply *r, struct nlmsghdr *nlh)
{
	struct health_event ev;
	int rc;

	rc = health_parse_event(nlh, &ev, r->parse_err, sizeof(r->parse_err));
	if (rc)
		return rc;
	ev.from_backlog = true;
	accept_event(r->h, &ev);
	return 0;
}

/* Everything the backlog holds after the last event delivered. */
static int read_backlog(struct health_nl *h, char *err, size_t len)
{
	struct reply r = { .h = h, .on_msg = backlog_msg };
	uint64_t lost = h->stats.lost;
	int rc;

	rc = request(h, PA_CMD_DUMP_BACKLOG, true, h->last_seq, &r, err, len);
	if (!rc && h->stats.lost > lost)
		notice(h, "%" PRIu64 " events were lost: the module's backlog overflowed before "
		       "they were read (modprobe perfagent backlog=N keeps more)",
		       h->stats.lost - lost);
	return rc;
}

/* ---- connecting ---- */

static int subscribe(struct health_nl *h, int family, char *err, size_t len)
{
	int group, rc;

	group = genl_ctrl_resolve_grp(h->req, PA_GENL_NAME, PA_GENL_MCGRP_EVENTS);
	if (group < 0) {
		snprintf(err, len, "kernel module perfagent has no '%s' multicast group: %s",
			 PA_GENL_MCGRP_EVENTS, nl_geterror(group));
		return -ENOENT;	/* it went away meanwhile */
	}
	if (h->group > 0)
		nl_socket_drop_membership(h->ev, h->group);
	h->group = 0;
	rc = nl_socket_add_membership(h->ev, group);
	if (rc < 0) {
		if (rc == -NLE_PERM || rc == -NLE_NOACCESS) {
			snprintf(err, len, "joining kernel module perfagent's event group needs "
				 "CAP_NET_ADMIN (run as root)");
			return -EPERM;
		}
		snprintf(err, len, "joining kernel module perfagent's event group: %s",
			 nl_geterror(rc));
		return -EIO;
	}
	h->group = group;
	h->family = family;
	return 0;
}

static void disconnect(struct health_nl *h)
{
	h->connected = false;
	h->family = 0;
}

/*
 * (Re)connect and catch up: resolve the family, check the module's API
 * version and instance, join the event group (before reading the backlog,
 * so nothing falls between the two), then read the backlog.
 */
static int sync_with_module(struct health_nl *h, char *err, size_t len)
{
	struct health_status st;
	bool resubscribe;
	int family, rc;

	h->last_attempt_ns = mono_ns();
	family = genl_ctrl_resolve(h->req, PA_GENL_NAME);
	if (family < 0) {
		disconnect(h);
		snprintf(err, len, "kernel module perfagent is not loaded (modprobe perfagent; "
			 "see README)");
		return -ENOENT;
	}
	resubscribe = !h->connected || family != h->family || h->need_reconnect;
	h->family = family;
	rc = fetch_status(h, &st, err, len);
	if (rc)
		goto fail;
	if (h->requests_only) {
		h->connected = true;
		return 0;
	}
	if (resubscribe && (rc = subscribe(h, family, err, len)))
		goto fail;
	if (st.instance != h->instance) {
		if (h->instance) {
			h->stats.reconnects++;
			notice(h, "kernel module perfagent %s was loaded again; reading its backlog",
			       st.module_version);
		}
		h->instance = st.instance;
		h->last_seq = 0;
	}
	h->need_resync = false;
	h->need_reconnect = false;
	h->connected = true;
	return read_backlog(h, err, len);
fail:
	disconnect(h);
	return rc;
}

/* ---- the event socket ---- */

static void on_ctrl_msg(struct health_nl *h, struct nlmsghdr *nlh)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct genlmsghdr *gh;

	if (!genlmsg_valid_hdr(nlh, 0) || genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0)
		return;
	if (!tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), PA_GENL_NAME))
		return;
	gh = nlmsg_data(nlh);
	if (gh->cmd == CTRL_CMD_DELFAMILY)
		h->family_gone = true;
	else if (gh->cmd == CTRL_CMD_NEWFAMILY)
		h->need_reconnect = true;
}

static int on_ev_msg(struct nl_msg *msg, void *arg)
{
	struct health_nl *h = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct health_event ev;
	char err[300];

	if (nlh->nlmsg_type == GENL_ID_CTRL) {
		on_ctrl_msg(h, nlh);
		return NL_OK;
	}
	if (!h->connected || nlh->nlmsg_type != h->family)
		return NL_OK;	/* sent by a module instance since unloaded */
	if (health_parse_event(nlh, &ev, err, sizeof(err))) {
		notice(h, "ignored a bad event message from kernel module perfagent: %s", err);
		return NL_OK;
	}
	accept_event(h, &ev);
	return NL_OK;
}

static int setsockopt_int(struct nl_sock *sk, int opt, int val)
{
	return setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, opt, &val, sizeof(val));
}

static int open_sockets(struct health_nl *h, int rcvbuf, char *err, size_t len)
{
	struct timeval req_timeout = { .tv_sec = REQUEST_TIMEOUT_S };
	int ctrl_group, rc;

	h->req = nl_socket_alloc();
	h->ev = nl_socket_alloc();
	if (!h->req || !h->ev) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	if ((rc = genl_connect(h->req)) < 0 || (rc = genl_connect(h->ev)) < 0) {
		snprintf(err, len, "cannot open a generic netlink socket: %s", nl_geterror(rc));
		return -EIO;
	}
	/* Error messages from the module, without the request echoed back. */
	setsockopt_int(h->req, NETLINK_EXT_ACK, 1);
	setsockopt_int(h->req, NETLINK_CAP_ACK, 1);
	/* An answer always comes; should it not, fail instead of hanging. */
	if (setsockopt(nl_socket_get_fd(h->req), SOL_SOCKET, SO_RCVTIMEO, &req_timeout,
		       sizeof(req_timeout))) {
		snprintf(err, len, "cannot set a timeout on the request socket: %s",
			 strerror(errno));
		return -EIO;
	}
	nl_socket_disable_seq_check(h->ev);
	nl_socket_modify_cb(h->ev, NL_CB_VALID, NL_CB_CUSTOM, on_ev_msg, h);
	if (rcvbuf > 0)
		nl_socket_set_buffer_size(h->ev, rcvbuf, 0);
	if (nl_socket_set_nonblocking(h->ev) < 0) {
		snprintf(err, len, "cannot make the event socket non-blocking");
		return -EIO;
	}
	ctrl_group = genl_ctrl_resolve_grp(h->req, "nlctrl", "notify");
	if (ctrl_group < 0 || (rc = nl_socket_add_membership(h->ev, ctrl_group)) < 0) {
		snprintf(err, len, "cannot follow generic netlink family changes: %s",
			 nl_geterror(ctrl_group < 0 ? ctrl_group : rc));
		return -EIO;
	}
	return 0;
}

int health_nl_open_opts(struct health_nl **out, const struct health_nl_opts *opts,
			health_event_fn on_event, health_notice_fn on_notice, void *ctx,
			char *err, size_t len)
{
	struct health_nl *h;
	int rc;

	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, len, "out of memory");
		return -ENOMEM;
	}
	h->on_event = on_event;
	h->on_notice = on_notice;
	h->ctx = ctx;
	h->requests_only = opts && opts->requests_only;
	rc = open_sockets(h, opts ? opts->rcvbuf : 0, err, len);
	if (!rc)
		rc = sync_with_module(h, err, len);
	if (rc) {
		health_nl_close(h);
		return rc;
	}
	*out = h;
	return 0;
}

int health_nl_open(struct health_nl **out, health_event_fn on_event,
		   health_notice_fn on_notice, void *ctx, char *err, size_t len)
{
	return health_nl_open_opts(out, NULL, on_event, on_notice, ctx, err, len);
}

int health_nl_fd(const struct health_nl *h)
{
	return nl_socket_get_fd(h->ev);
}

static int drain_events(struct health_nl *h, char *err, size_t len)
{
	int rc;

	for (;;) {
		rc = nl_recvmsgs_default(h->ev);
		if (rc == 0)
			continue;	/* one datagram handled */
		if (rc == -NLE_AGAIN)
			return 0;
		if (rc == -NLE_NOMEM) {
			/* ENOBUFS: the kernel dropped what did not fit. */
			h->stats.overflows++;
			h->need_resync = true;
			notice(h, "event socket overflowed (ENOBUFS); re-reading the module's "
			       "backlog");
			continue;
		}
		if (rc == -NLE_INTR)
			continue;
		snprintf(err, len, "reading events from kernel module perfagent: %s",
			 nl_geterror(rc));
		return -EIO;
	}
}

int health_nl_dispatch(struct health_nl *h, char *err, size_t len)
{
	bool was_connected;
	char why[300];
	int rc;

	rc = drain_events(h, err, len);
	if (rc)
		return rc;
	if (h->family_gone) {
		h->family_gone = false;
		if (h->connected)
			notice(h, "kernel module perfagent was unloaded; waiting for it to be "
			       "loaded again");
		disconnect(h);
	}
	if (h->connected && !h->need_resync && !h->need_reconnect)
		return 0;
	if (!h->connected && !h->need_reconnect &&
	    mono_ns() - h->last_attempt_ns < RECONNECT_INTERVAL_NS)
		return 0;
	if (h->connected && h->need_resync)
		h->stats.resyncs++;
	was_connected = h->connected;
	rc = sync_with_module(h, why, sizeof(why));
	if (rc == -ENOENT && was_connected)	/* its nlctrl notice was lost */
		notice(h, "kernel module perfagent was unloaded; waiting for it to be "
		       "loaded again");
	/* Only what retrying cannot fix ends the session; anything else is
	 * the module going or coming while we talk to it: retry in a second.
	 */
	if (rc == -EPERM || rc == -EPROTO || rc == -ENOMEM) {
		snprintf(err, len, "%s", why);
		return rc;
	}
	return 0;
}

int health_nl_status(struct health_nl *h, struct health_status *st, char *err, size_t len)
{
	if (!h->connected) {
		snprintf(err, len, "kernel module perfagent is not loaded (modprobe perfagent; "
			 "see README)");
		return -ENOTCONN;
	}
	return fetch_status(h, st, err, len);
}

struct unbound_ctx {
	health_unbound_fn fn;
	void *ctx;
};

static int unbound_msg(struct reply *r, struct nlmsghdr *nlh)
{
	struct unbound_ctx *u = r->arg;
	struct health_unbound dev;
	int rc;

	rc = parse_unbound(nlh, &dev, r->parse_err, sizeof(r->parse_err));
	if (!rc)
		u->fn(u->ctx, &dev);
	return rc;
}

int health_nl_unbound(struct health_nl *h, health_unbound_fn fn, void *ctx,
		      char *err, size_t len)
{
	struct unbound_ctx u = { .fn = fn, .ctx = ctx };
	struct reply r = { .h = h, .on_msg = unbound_msg, .arg = &u };

	if (!h->connected) {
		snprintf(err, len, "kernel module perfagent is not loaded (modprobe perfagent; "
			 "see README)");
		return -ENOTCONN;
	}
	return request(h, PA_CMD_DUMP_UNBOUND, true, 0, &r, err, len);
}

void health_nl_stats(const struct health_nl *h, struct health_stats *st)
{
	*st = h->stats;
}

bool health_nl_connected(const struct health_nl *h)
{
	return h->connected;
}

void health_nl_close(struct health_nl *h)
{
	if (!h)
		return;
	nl_socket_free(h->req);
	nl_socket_free(h->ev);
	free(h);
}
