/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Driver and device health events from the perfagent kernel module, over
 * generic netlink (include/perfagent/genl.h). Connects, checks the API
 * version, reads the module's backlog, then follows live events; events
 * are delivered once each, in sequence order, also across a socket
 * overflow (re-sync from the backlog) and a module unload/reload
 * (reconnect).
 *
 *   health_nl_open()       connect; fails when the module is not loaded
 *   health_nl_fd()         poll it for POLLIN
 *   health_nl_dispatch()   when it is readable, and at least once a second
 *   health_nl_status()     the module's own counters
 *   health_nl_close()
 */
#ifndef PERFAGENT_HEALTH_NETLINK_H
#define PERFAGENT_HEALTH_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "perfagent/genl.h"

struct nlmsghdr;

/* One event, whatever produced it ("kmod" here; other sources may fill
 * the same struct).
 */
struct health_event {
	const char *source;
	uint64_t seq;		/* per module load, from 1 */
	uint64_t instance;	/* module load it belongs to */
	uint64_t real_ns;	/* CLOCK_REALTIME */
	uint64_t boot_ns;	/* CLOCK_BOOTTIME */
	uint32_t code;		/* enum pa_event_code; unknown ones are kept */
	bool from_backlog;	/* read from the backlog, not received live */
	bool has_ifindex, has_mtu, has_taint, has_error;
	uint32_t ifindex, netns, mtu, old_mtu;
	uint64_t taint;		/* TAINT_* bits loading the module added */
	int32_t error;		/* negative errno */
	char bus[PA_GENL_NAME_LEN];
	char device[PA_GENL_NAME_LEN];
	char driver[PA_GENL_NAME_LEN];
	char netdev[PA_GENL_NAME_LEN];
	char module[PA_GENL_NAME_LEN];
	char detail[PA_GENL_NAME_LEN + 32];
	char device_id[PA_GENL_NAME_LEN];
};

/* What the module reports about itself (PA_CMD_GET_STATUS). */
struct health_status {
	uint32_t api_version;
	char module_version[32];
	uint64_t instance;
	uint32_t backlog_size, backlog_fill;
	uint64_t first_seq, last_seq;
	uint64_t dropped;	/* overwritten in the backlog */
	uint64_t lost;		/* never recorded */
	uint64_t mcast_failed;
	uint32_t unbound_at_load;
	uint64_t counters[PA_EV_MAX + 1];	/* by event code */
};

/* What this side saw. */
struct health_stats {
	uint64_t delivered;
	uint64_t from_backlog;
	uint64_t duplicates;	/* dropped: already delivered */
	uint64_t overflows;	/* ENOBUFS on the event socket */
	uint64_t resyncs;	/* backlog re-reads after an overflow or a gap */
	uint64_t lost;		/* sequence numbers never seen */
	uint64_t reconnects;	/* module loaded again */
};

/* A device without a driver (PA_CMD_DUMP_UNBOUND). */
struct health_unbound {
	char bus[PA_GENL_NAME_LEN];
	char device[PA_GENL_NAME_LEN];
	char device_id[PA_GENL_NAME_LEN];
};

typedef void (*health_event_fn)(void *ctx, const struct health_event *ev);
/* Something the user should know that is not an event: the module went
 * away or came back, events were lost. One sentence, no newline.
 */
typedef void (*health_notice_fn)(void *ctx, const char *msg);
typedef void (*health_unbound_fn)(void *ctx, const struct health_unbound *u);

struct health_nl;

/*
 * Connect and deliver the backlog through on_event. Returns 0, or a
 * negative errno with a one-line explanation in err: -ENOENT the module is
 * not loaded, -EPERM not privileged (CAP_NET_ADMIN), -EPROTO the module
 * speaks another API version.
 */
int health_nl_open(struct health_nl **out, health_event_fn on_event,
		   health_notice_fn on_notice, void *ctx, char *err, size_t len);

struct health_nl_opts {
	int rcvbuf;	/* event socket receive buffer in bytes, 0: the system's */
	bool requests_only;	/* only status and scans: no backlog, no events */
};

int health_nl_open_opts(struct health_nl **out, const struct health_nl_opts *opts,
			health_event_fn on_event, health_notice_fn on_notice, void *ctx,
			char *err, size_t len);
int health_nl_fd(const struct health_nl *h);
/* Deliver what arrived; re-sync or reconnect as needed. Never blocks long.
 * Returns 0, or a negative errno with the reason in err.
 */
int health_nl_dispatch(struct health_nl *h, char *err, size_t len);
/* -ENOTCONN while the module is unloaded. */
int health_nl_status(struct health_nl *h, struct health_status *st, char *err, size_t len);
int health_nl_unbound(struct health_nl *h, health_unbound_fn fn, void *ctx,
		      char *err, size_t len);
void health_nl_stats(const struct health_nl *h, struct health_stats *st);
bool health_nl_connected(const struct health_nl *h);
void health_nl_close(struct health_nl *h);

/*
 * Parsers of the module's messages (netlink header included), exposed for
 * tests. They refuse, with a one-line reason in err, a message that is not
 * what it claims to be: wrong command, missing or malformed attributes, or
 * an API version other than PA_GENL_API_VERSION. Return 0 or -EINVAL /
 * -EPROTO (version).
 */
int health_parse_event(const struct nlmsghdr *nlh, struct health_event *ev,
		       char *err, size_t len);
int health_parse_status(const struct nlmsghdr *nlh, struct health_status *st,
			char *err, size_t len);

/*
 * Merging the backlog with live events: given the last sequence number
 * delivered for the current module instance, what to do with the next one.
 */
enum health_seq_verdict {
	HEALTH_SEQ_DELIVER,	/* the next one */
	HEALTH_SEQ_DUPLICATE,	/* already delivered */
	HEALTH_SEQ_GAP,		/* some before it are missing: re-sync */
	HEALTH_SEQ_OTHER_INSTANCE,	/* from another load of the module */
};

enum health_seq_verdict health_seq_check(uint64_t cur_instance, uint64_t last_seq,
					 uint64_t instance, uint64_t seq);

#endif /* PERFAGENT_HEALTH_NETLINK_H */
