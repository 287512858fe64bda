/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Alerts to the systemd journal over its native protocol (a datagram of
 * KEY=value lines on a unix socket), so that `journalctl -t perfagent
 * -p warning` and `journalctl PERFAGENT_RULE=name` find them. Falls back to
 * syslog(3) when no journald listens on the socket.
 *
 * Fields of every entry: MESSAGE (for a person), MESSAGE_ID (one per alert
 * kind), PRIORITY (critical 2, warning 4, info 6), SYSLOG_IDENTIFIER=perfagent,
 * SYSLOG_FACILITY=3, PERFAGENT_KIND, PERFAGENT_RULE, PERFAGENT_METRIC,
 * PERFAGENT_VALUE, PERFAGENT_THRESHOLD, PERFAGENT_STATE (firing/resolved),
 * PERFAGENT_SEVERITY, PERFAGENT_TIMESTAMP, and PERFAGENT_LABEL_<NAME> per label.
 */
#ifndef PERFAGENT_JOURNAL_H
#define PERFAGENT_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "alert.h"

#define JOURNAL_SOCKET_DEFAULT	"/run/systemd/journal/socket"
#define JOURNAL_IDENTIFIER	"perfagent"

/* Journal field names: at most 64 of A-Z 0-9 _, not starting with _ or a digit. */
#define JOURNAL_FIELD_MAX	64

/* One native-protocol message, built in memory. */
struct journal_msg {
	char *data;
	size_t len, cap;
	int err;		/* -ENOMEM once an append failed */
};

/*
 * Append KEY=value; a value holding '\n' takes the binary form: KEY '\n',
 * 64-bit little-endian length, the bytes, '\n'.
 */
void journal_msg_add(struct journal_msg *m, const char *key, const char *value, size_t vlen);
void journal_msg_free(struct journal_msg *m);

/* The whole message for an alert. 0 or -ENOMEM. */
int journal_format_alert(const struct alert *a, struct journal_msg *m);

/* "PERFAGENT_LABEL_" + the label name upper-cased, other bytes as '_'. */
void journal_label_field(const char *label, char *out, size_t len);

/* 32 lowercase hex digits, fixed per kind (stable: admins filter on them). */
const char *journal_message_id(enum alert_kind kind);

/* syslog priority: critical 2, warning 4, info 6. */
int journal_priority(enum alert_severity sev);

struct journal_stats {
	uint64_t sent;		/* entries journald took as a datagram */
	uint64_t sent_memfd;	/* entries too big for a datagram, sent as a sealed memfd */
	uint64_t sent_syslog;	/* entries that went to syslog: no journal listening */
	uint64_t failed;	/* entries lost (journal too busy, out of memory) */
	int last_errno;
};

struct journal_sink;

/* socket_path NULL: JOURNAL_SOCKET_DEFAULT. NULL only when out of memory. */
struct journal_sink *journal_open(const char *socket_path);

/*
 * Entries larger than this go by memfd without first trying a datagram
 * (0: try the datagram, use the memfd on EMSGSIZE). Tests use it.
 */
void journal_set_max_datagram(struct journal_sink *j, size_t max);

enum journal_result { JOURNAL_SENT = 0, JOURNAL_SYSLOG = 1 };

/*
 * Send one alert: JOURNAL_SENT, JOURNAL_SYSLOG (no journal: sent to syslog
 * instead), or -errno (counted as failed). Waits at most 50 ms when journald
 * is too busy to take it.
 */
int journal_send_alert(struct journal_sink *j, const struct alert *a);

void journal_get_stats(struct journal_sink *j, struct journal_stats *out);
void journal_close(struct journal_sink *j);

#endif
