// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's parsing of the kernel module's generic netlink messages:
 * messages are built here with libnl's nlmsg API, as the module would send
 * them, or broken on purpose; a malformed or version-mismatched one must be
 * refused with a clear reason, never misread. Also the sequence number
 * rules that merge the backlog with live events.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "check.h"
#include "health_netlink.h"

#define FAKE_FAMILY 0x42

static char err[512];

/* An event message as the module builds it, with API version ver. */
static struct nl_msg *event_msg(uint32_t ver)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_EVENT, PA_GENL_VERSION) ||
	    nla_put_u32(msg, PA_ATTR_API_VERSION, ver) ||
	    nla_put_u64(msg, PA_ATTR_INSTANCE, 0xabcdef0123456789ULL) ||
	    nla_put_u64(msg, PA_ATTR_SEQ, 17) ||
	    nla_put_u64(msg, PA_ATTR_TIME_REAL_NS, 1700000000123456789ULL) ||
	    nla_put_u64(msg, PA_ATTR_TIME_BOOT_NS, 5000000000ULL) ||
	    nla_put_u32(msg, PA_ATTR_EVENT, PA_EV_CARRIER_DOWN) ||
	    nla_put_string(msg, PA_ATTR_NETDEV, "eth0") ||
	    nla_put_u32(msg, PA_ATTR_IFINDEX, 2) ||
	    nla_put_u32(msg, PA_ATTR_NETNS, 4026531840U) ||
	    nla_put_string(msg, PA_ATTR_BUS, "pci") ||
	    nla_put_string(msg, PA_ATTR_DEVICE, "0000:00:03.0") ||
	    nla_put_string(msg, PA_ATTR_DRIVER, "e1000")) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int parse(struct nl_msg *msg, struct health_event *ev)
{
	err[0] = '\0';
	return health_parse_event(nlmsg_hdr(msg), ev, err, sizeof(err));
}

static void t_event_parses(void)
{
	struct nl_msg *msg = event_msg(PA_GENL_API_VERSION);
	struct health_event ev;
	int rc;

	CHECK(msg);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == 0, "rc %d: %s", rc, err);
	CHECK(ev.seq == 17);
	CHECK(ev.instance == 0xabcdef0123456789ULL);
	CHECK(ev.real_ns == 1700000000123456789ULL);
	CHECK(ev.boot_ns == 5000000000ULL);
	CHECK(ev.code == PA_EV_CARRIER_DOWN);
	CHECK(ev.has_ifindex && ev.ifindex == 2 && ev.netns == 4026531840U);
	CHECK(!ev.has_mtu && !ev.has_taint && !ev.has_error);
	CHECK_STREQ(ev.netdev, "eth0");
	CHECK_STREQ(ev.bus, "pci");
	CHECK_STREQ(ev.device, "0000:00:03.0");
	CHECK_STREQ(ev.driver, "e1000");
	CHECK_STREQ(ev.source, "kmod");
	CHECK(!ev.from_backlog);
}

static void t_version_mismatch_refused(void)
{
	struct nl_msg *msg = event_msg(PA_GENL_API_VERSION + 1);
	struct health_event ev;
	char want[64];
	int rc;

	CHECK(msg);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EPROTO, "rc %d", rc);
	snprintf(want, sizeof(want), "speaks netlink API version %d", PA_GENL_API_VERSION + 1);
	CHECKF(strstr(err, want) && strstr(err, "this agent speaks 1"), "err: %s", err);
}

static void t_missing_version_refused(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_event ev;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_EVENT, PA_GENL_VERSION);
	nla_put_u64(msg, PA_ATTR_SEQ, 1);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "API version missing"), "rc %d, err: %s", rc, err);
}

static void t_wrong_command_refused(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_event ev;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_GET_STATUS, PA_GENL_VERSION);
	nla_put_u32(msg, PA_ATTR_API_VERSION, PA_GENL_API_VERSION);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "unexpected command"), "rc %d, err: %s", rc, err);
}

/* A u64 attribute sent as 4 bytes must not be read as a u64. */
static void t_short_u64_refused(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_event ev;
	uint32_t small = 17;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_EVENT, PA_GENL_VERSION);
	nla_put_u32(msg, PA_ATTR_API_VERSION, PA_GENL_API_VERSION);
	nla_put_u64(msg, PA_ATTR_INSTANCE, 1);
	nla_put(msg, PA_ATTR_SEQ, sizeof(small), &small);
	nla_put_u64(msg, PA_ATTR_TIME_REAL_NS, 1);
	nla_put_u32(msg, PA_ATTR_EVENT, PA_EV_NETDEV_UP);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "sequence number") && strstr(err, "expected 8"),
	       "rc %d, err: %s", rc, err);
}

/* Strings must be NUL-terminated and within the module's limit. */
static void t_bad_strings_refused(void)
{
	char longname[PA_GENL_NAME_LEN + 8];
	struct health_event ev;
	struct nl_msg *msg;
	int rc;

	msg = event_msg(PA_GENL_API_VERSION);
	CHECK(msg);
	nla_put(msg, PA_ATTR_MODULE, 5, "dummy");	/* no NUL */
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "malformed attributes"), "rc %d, err: %s", rc, err);

	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	msg = event_msg(PA_GENL_API_VERSION);
	CHECK(msg);
	nla_put_string(msg, PA_ATTR_MODULE, longname);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "malformed attributes"), "rc %d, err: %s", rc, err);
}

static void t_missing_seq_refused(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_event ev;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_EVENT, PA_GENL_VERSION);
	nla_put_u32(msg, PA_ATTR_API_VERSION, PA_GENL_API_VERSION);
	nla_put_u64(msg, PA_ATTR_INSTANCE, 1);
	nla_put_u64(msg, PA_ATTR_TIME_REAL_NS, 1);
	nla_put_u32(msg, PA_ATTR_EVENT, PA_EV_NETDEV_UP);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "sequence number missing"), "rc %d, err: %s", rc, err);
}

/* An attribute claiming more bytes than the message has. */
static void t_truncated_refused(void)
{
	struct nl_msg *msg = event_msg(PA_GENL_API_VERSION);
	struct health_event ev;
	struct nlmsghdr *nlh;
	int rc;

	CHECK(msg);
	nlh = nlmsg_hdr(msg);
	nlh->nlmsg_len -= 6;	/* cut into the last attribute */
	rc = parse(msg, &ev);
	CHECKF(rc == -EINVAL, "rc %d, err: %s", rc, err);
	nlh->nlmsg_len = NLMSG_HDRLEN + 2;	/* not even a genl header */
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == -EINVAL && strstr(err, "too short"), "rc %d, err: %s", rc, err);
}

/* Newer modules may add attributes and event codes: not an error. */
static void t_unknown_attr_and_code_kept(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_event ev;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_EVENT, PA_GENL_VERSION);
	nla_put_u32(msg, PA_ATTR_API_VERSION, PA_GENL_API_VERSION);
	nla_put_u64(msg, PA_ATTR_INSTANCE, 1);
	nla_put_u64(msg, PA_ATTR_SEQ, 3);
	nla_put_u64(msg, PA_ATTR_TIME_REAL_NS, 1);
	nla_put_u32(msg, PA_ATTR_EVENT, 999);
	nla_put_u32(msg, PA_ATTR_MAX + 5, 7);
	rc = parse(msg, &ev);
	nlmsg_free(msg);
	CHECKF(rc == 0, "rc %d, err: %s", rc, err);
	CHECK(ev.code == 999 && ev.seq == 3);
}

static void t_status_parses(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_status st;
	struct nlattr *nest;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_GET_STATUS, PA_GENL_VERSION);
	nla_put_u32(msg, PA_ATTR_API_VERSION, PA_GENL_API_VERSION);
	nla_put_string(msg, PA_ATTR_MODULE_VERSION, "0.1.0");
	nla_put_u64(msg, PA_ATTR_INSTANCE, 9);
	nla_put_u32(msg, PA_ATTR_BACKLOG_SIZE, 1024);
	nla_put_u32(msg, PA_ATTR_BACKLOG_FILL, 12);
	nla_put_u64(msg, PA_ATTR_FIRST_SEQ, 5);
	nla_put_u64(msg, PA_ATTR_LAST_SEQ, 16);
	nla_put_u64(msg, PA_ATTR_DROPPED, 4);
	nla_put_u32(msg, PA_ATTR_UNBOUND_AT_LOAD, 3);
	nest = nla_nest_start(msg, PA_ATTR_COUNTERS);
	nla_put(msg, 0, 0, NULL);	/* the kernel's alignment padding */
	nla_put_u64(msg, PA_EV_DEVICE_ADDED, 7);
	nla_put_u64(msg, PA_EV_MODULE_LIVE, 2);
	nla_put_u64(msg, PA_EV_MAX + 3, 99);	/* a newer module's code */
	nla_nest_end(msg, nest);
	err[0] = '\0';
	rc = health_parse_status(nlmsg_hdr(msg), &st, err, sizeof(err));
	nlmsg_free(msg);
	CHECKF(rc == 0, "rc %d: %s", rc, err);
	CHECK_STREQ(st.module_version, "0.1.0");
	CHECK(st.instance == 9 && st.backlog_size == 1024 && st.backlog_fill == 12);
	CHECK(st.first_seq == 5 && st.last_seq == 16 && st.dropped == 4);
	CHECK(st.unbound_at_load == 3);
	CHECK(st.counters[PA_EV_DEVICE_ADDED] == 7 && st.counters[PA_EV_MODULE_LIVE] == 2);
	CHECK(st.counters[PA_EV_DRIVER_BOUND] == 0);
}

static void t_status_version_mismatch_refused(void)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct health_status st;
	int rc;

	CHECK(msg);
	genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, PA_CMD_GET_STATUS, PA_GENL_VERSION);
	nla_put_u32(msg, PA_ATTR_API_VERSION, 0);
	nla_put_u64(msg, PA_ATTR_INSTANCE, 9);
	err[0] = '\0';
	rc = health_parse_status(nlmsg_hdr(msg), &st, err, sizeof(err));
	nlmsg_free(msg);
	CHECKF(rc == -EPROTO && strstr(err, "API version 0"), "rc %d, err: %s", rc, err);
}

static void t_seq_rules(void)
{
	/* instance 7, last delivered 10 */
	CHECK(health_seq_check(7, 10, 7, 11) == HEALTH_SEQ_DELIVER);
	CHECK(health_seq_check(7, 10, 7, 10) == HEALTH_SEQ_DUPLICATE);
	CHECK(health_seq_check(7, 10, 7, 3) == HEALTH_SEQ_DUPLICATE);
	CHECK(health_seq_check(7, 10, 7, 12) == HEALTH_SEQ_GAP);
	CHECK(health_seq_check(7, 10, 8, 11) == HEALTH_SEQ_OTHER_INSTANCE);
	CHECK(health_seq_check(7, 10, 8, 1) == HEALTH_SEQ_OTHER_INSTANCE);
	/* nothing delivered yet */
	CHECK(health_seq_check(7, 0, 7, 1) == HEALTH_SEQ_DELIVER);
	CHECK(health_seq_check(7, 0, 7, 5) == HEALTH_SEQ_GAP);
}

int main(void)
{
	RUN(t_event_parses);
	RUN(t_version_mismatch_refused);
	RUN(t_missing_version_refused);
	RUN(t_wrong_command_refused);
	RUN(t_short_u64_refused);
	RUN(t_bad_strings_refused);
	RUN(t_missing_seq_refused);
	RUN(t_truncated_refused);
	RUN(t_unknown_attr_and_code_kept);
	RUN(t_status_parses);
	RUN(t_status_version_mismatch_refused);
	RUN(t_seq_rules);
	CHECK_EXIT();
}
