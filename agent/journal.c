// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "journal.h"
#include "timeutil.h"

#define SEND_TIMEOUT_US	50000	/* how long a busy journald may hold us up */

static const char *const message_ids[ALERT_KIND_COUNT] = {
	[ALERT_THRESHOLD] = "92ae73221fa144eca2c1db2b5c29cbc8",
	[ALERT_TREND] = "37b73ab91b33471ca7e1000d8073920e",
	[ALERT_BASELINE] = "833f795059ab4ebb929470cbe11b6ad2",
	[ALERT_LOSS] = "0f67180e894145d19378062bce0a7e2e",
	[ALERT_OVERHEAD] = "ca400be8747243dbbc8face0783e1548",
	[ALERT_HEALTH] = "61cf2482bf704687a380a39475f06c0d",
};

/* For an alert of a kind this build does not know. */
#define MESSAGE_ID_OTHER "39d5cb9708624d3fa16e6e4f31004e5b"

struct journal_sink {
	pthread_mutex_t lock;
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	size_t max_datagram;
	bool syslog_open;
	struct journal_stats st;
};

const char *journal_message_id(enum alert_kind kind)
{
	return (unsigned)kind < ALERT_KIND_COUNT ? message_ids[kind] : MESSAGE_ID_OTHER;
}

int journal_priority(enum alert_severity sev)
{
	switch (sev) {
	case ALERT_CRITICAL:
		return LOG_CRIT;
	case ALERT_WARNING:
		return LOG_WARNING;
	default:
		return LOG_INFO;
	}
}

/* ---- building the message --------------------------------------------- */

static void msg_put(struct journal_msg *m, const void *p, size_t n)
{
	if (m->err)
		return;
	if (m->len + n > m->cap) {
		size_t cap = m->cap ? m->cap : 1024;
		char *d;

		while (cap < m->len + n)
			cap *= 2;
		d = realloc(m->data, cap);
		if (!d) {
			m->err = -ENOMEM;
			return;
		}
		m->data = d;
		m->cap = cap;
	}
	memcpy(m->data + m->len, p, n);
	m->len += n;
}

void journal_msg_add(struct journal_msg *m, const char *key, const char *value, size_t vlen)
{
	unsigned char le[8];
	uint64_t n = vlen;
	int i;

	msg_put(m, key, strlen(key));
	if (memchr(value, '\n', vlen)) {
		/* KEY=value cannot hold a newline: the length-prefixed form can. */
		for (i = 0; i < 8; i++)
			le[i] = (unsigned char)(n >> (8 * i));
		msg_put(m, "\n", 1);
		msg_put(m, le, sizeof(le));
	} else {
		msg_put(m, "=", 1);
	}
	msg_put(m, value, vlen);
	msg_put(m, "\n", 1);
}

static void msg_add_str(struct journal_msg *m, const char *key, const char *value)
{
	journal_msg_add(m, key, value, strlen(value));
}

static void msg_add_num(struct journal_msg *m, const char *key, double v)
{
	char num[40];

	if (!isnan(v))
		msg_add_str(m, key, alert_format_number(v, num, sizeof(num)));
}

void journal_msg_free(struct journal_msg *m)
{
	free(m->data);
	memset(m, 0, sizeof(*m));
}

void journal_label_field(const char *label, char *out, size_t len)
{
	static const char prefix[] = "PERFAGENT_LABEL_";
	size_t n = 0, max;

	if (len < sizeof(prefix) + 8) {
		if (len)
			out[0] = '\0';
		return;
	}
	max = (len - 1 < JOURNAL_FIELD_MAX ? len - 1 : JOURNAL_FIELD_MAX) - (sizeof(prefix) - 1);
	memcpy(out, prefix, sizeof(prefix) - 1);
	out += sizeof(prefix) - 1;
	/* Leading '_' would give PERFAGENT_LABEL__X: drop it. */
	while (*label == '_')
		label++;
	for (; *label && n < max; label++) {
		char c = *label;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		out[n++] = c;
	}
	if (!n) {
		snprintf(out, max + 1, "UNNAMED");
		return;
	}
	out[n] = '\0';
}

int journal_format_alert(const struct alert *a, struct journal_msg *m)
{
	char buf[1024], field[JOURNAL_FIELD_MAX + 1], prio[4], ts[40];
	size_t i;

	memset(m, 0, sizeof(*m));
	snprintf(prio, sizeof(prio), "%d", journal_priority(a->severity));
	msg_add_str(m, "MESSAGE", alert_message(a, buf, sizeof(buf)));
	msg_add_str(m, "MESSAGE_ID", journal_message_id(a->kind));
	msg_add_str(m, "PRIORITY", prio);
	msg_add_str(m, "SYSLOG_IDENTIFIER", JOURNAL_IDENTIFIER);
	msg_add_str(m, "SYSLOG_FACILITY", "3");	/* daemon, as the syslog fallback */
	msg_add_str(m, "PERFAGENT_KIND", alert_kind_name(a->kind));
	msg_add_str(m, "PERFAGENT_RULE", a->rule ? a->rule : "");
	if (a->metric)
		msg_add_str(m, "PERFAGENT_METRIC", a->metric);
	msg_add_num(m, "PERFAGENT_VALUE", a->value);
	msg_add_num(m, "PERFAGENT_THRESHOLD", a->threshold);
	msg_add_str(m, "PERFAGENT_STATE", alert_state_name(a->state));
	msg_add_str(m, "PERFAGENT_SEVERITY", alert_severity_name(a->severity));
	msg_add_str(m, "PERFAGENT_TIMESTAMP",
		    format_iso8601(a->ts_ns ? a->ts_ns : realtime_ns(), ts, sizeof(ts)));
	for (i = 0; i < a->nlabels; i++) {
		journal_label_field(a->labels[i].name ? a->labels[i].name : "", field, sizeof(field));
		msg_add_str(m, field, a->labels[i].value ? a->labels[i].value : "");
	}
	if (m->err) {
		int err = m->err;

		journal_msg_free(m);
		return err;
	}
	return 0;
}

/* ---- sending ------------------------------------------------------------ */

struct journal_sink *journal_open(const char *socket_path)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = SEND_TIMEOUT_US };
	struct journal_sink *j = calloc(1, sizeof(*j));
	const char *path = socket_path ? socket_path : JOURNAL_SOCKET_DEFAULT;

	if (!j)
		return NULL;
	pthread_mutex_init(&j->lock, NULL);
	j->addr.sun_family = AF_UNIX;
	/* A path too long for sun_path can never be a journal: syslog it is. */
	if (strlen(path) < sizeof(j->addr.sun_path))
		strcpy(j->addr.sun_path, path);
	j->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(j->addr.sun_path) + 1);
	/* Unconnected: a journald restart between two alerts goes unnoticed. */
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (j->fd >= 0)
		setsockopt(j->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return j;
}

void journal_set_max_datagram(struct journal_sink *j, size_t max)
{
	j->max_datagram = max;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Too big for one datagram: journald takes a sealed memfd holding the
 * message, passed as SCM_RIGHTS with an empty datagram.
 */
static int send_memfd(struct journal_sink *j, const struct journal_msg *m)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = { 0 };
	struct cmsghdr *c;
	int fd, ret;

	fd = memfd_create("perfagent-journal", MFD_ALLOW_SEALING | MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, m->data, m->len);
	if (!ret && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL))
		ret = -errno;
	if (!ret) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_name = &j->addr;
		mh.msg_namelen = j->addrlen;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
		if (sendmsg(j->fd, &mh, MSG_NOSIGNAL) < 0)
			ret = -errno;
	}
	close(fd);
	return ret;
}

static int send_native(struct journal_sink *j, const struct journal_msg *m)
{
	int ret;

	if (j->fd < 0 || !j->addr.sun_path[0])
		return -ENOENT;
	if (!j->max_datagram || m->len <= j->max_datagram) {
		if (sendto(j->fd, m->data, m->len, MSG_NOSIGNAL,
			   (const struct sockaddr *)&j->addr, j->addrlen) >= 0) {
			j->st.sent++;
			return 0;
		}
		if (errno != EMSGSIZE && errno != ENOBUFS)
			return -errno;
	}
	ret = send_memfd(j, m);
	if (ret == 0)
		j->st.sent_memfd++;
	return ret;
}

/* Errors that mean "no journald here", as opposed to "journald is busy". */
static bool no_journal(int err)
{
	return err == -ENOENT || err == -ECONNREFUSED || err == -ENOTDIR ||
	       err == -EPROTOTYPE || err == -EACCES || err == -ENOTSOCK;
}

static void send_syslog(struct journal_sink *j, const struct alert *a)
{
	char msg[1024], fields[1024], num[40], num2[40];
	size_t i, pos;
	int n;

	if (!j->syslog_open) {
		openlog(JOURNAL_IDENTIFIER, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		j->syslog_open = true;
	}
	/* The fields after the sentence, so a grep still finds rule and labels. */
	n = snprintf(fields, sizeof(fields),
		     "rule=%s kind=%s state=%s severity=%s metric=%s value=%s threshold=%s",
		     a->rule ? a->rule : "", alert_kind_name(a->kind), alert_state_name(a->state),
		     alert_severity_name(a->severity), a->metric ? a->metric : "-",
		     alert_format_number(a->value, num, sizeof(num)),
		     alert_format_number(a->threshold, num2, sizeof(num2)));
	pos = n > 0 ? (size_t)n : 0;
	for (i = 0; i < a->nlabels && pos < sizeof(fields); i++) {
		n = snprintf(fields + pos, sizeof(fields) - pos, " %s=%s",
			     a->labels[i].name ? a->labels[i].name : "",
			     a->labels[i].value ? a->labels[i].value : "");
		pos += n > 0 ? (size_t)n : 0;
	}
	syslog(LOG_DAEMON | journal_priority(a->severity), "%s [%s]",
	       alert_message(a, msg, sizeof(msg)), fields);
	j->st.sent_syslog++;
}

int journal_send_alert(struct journal_sink *j, const struct alert *a)
{
	struct journal_msg m;
	int ret;

	pthread_mutex_lock(&j->lock);
	ret = journal_format_alert(a, &m);
	if (!ret) {
		ret = send_native(j, &m);
		journal_msg_free(&m);
	}
	if (ret && no_journal(ret)) {
		send_syslog(j, a);
		ret = JOURNAL_SYSLOG;
	} else if (ret) {
		j->st.failed++;
		j->st.last_errno = -ret;
	}
	pthread_mutex_unlock(&j->lock);
	return ret;
}

void journal_get_stats(struct journal_sink *j, struct journal_stats *out)
{
	pthread_mutex_lock(&j->lock);
	*out = j->st;
	pthread_mutex_unlock(&j->lock);
}

void journal_close(struct journal_sink *j)
{
	if (!j)
		return;
	if (j->fd >= 0)
		close(j->fd);
	if (j->syslog_open)
		closelog();
	pthread_mutex_destroy(&j->lock);
	free(j);
}
