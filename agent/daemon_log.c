// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's own messages: a probe that could not be attached, the kernel
 * module not loaded, a config refused on reload. Each goes to
 *   - events.jsonl, {"type":"agent","event":"config_rejected","level":...},
 *   - the journal (warnings and errors, native protocol, with
 *     PERFAGENT_EVENT=<event>) when journald is enabled, else
 *   - stderr, which is the terminal with --foreground (and the journal
 *     again under systemd, so messages sent natively are not repeated there).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"
#include "journal.h"
#include "logwriter.h"
#include "timeutil.h"

static const char *level_name(int level)
{
	switch (level) {
	case LOG_EMERG: case LOG_ALERT: case LOG_CRIT: case LOG_ERR: return "error";
	case LOG_WARNING: return "warning";
	case LOG_NOTICE: return "notice";
	default: return "info";
	}
}

void daemon_write_json(struct daemon *d, int stream, uint64_t ts_rt, cJSON *obj)
{
	if (obj && d->lw)
		logwriter_write_json(d->lw, (enum log_stream)stream, ts_rt, obj);
	cJSON_Delete(obj);
}

static int send_datagram(const char *path, const char *data, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, data, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int daemon_journal_notice(struct daemon *d, int priority, const char *message,
			  const char *const *fields)
{
	const char *sock = d->cfg.journald.socket ? d->cfg.journald.socket : JOURNAL_SOCKET_DEFAULT;
	struct journal_msg m = { 0 };
	char prio[4];
	int ret;

	snprintf(prio, sizeof(prio), "%d", priority);
	journal_msg_add(&m, "MESSAGE", message, strlen(message));
	journal_msg_add(&m, "PRIORITY", prio, strlen(prio));
	journal_msg_add(&m, "SYSLOG_IDENTIFIER", JOURNAL_IDENTIFIER, strlen(JOURNAL_IDENTIFIER));
	journal_msg_add(&m, "SYSLOG_FACILITY", "3", 1);
	for (; fields && *fields; fields++) {
		const char *eq = strchr(*fields, '=');
		char key[JOURNAL_FIELD_MAX + 1];
		size_t klen;

		if (!eq || (klen = (size_t)(eq - *fields)) > JOURNAL_FIELD_MAX)
			continue;
		memcpy(key, *fields, klen);
		key[klen] = '\0';
		journal_msg_add(&m, key, eq + 1, strlen(eq + 1));
	}
	ret = m.err ? m.err : send_datagram(sock, m.data, m.len);
	journal_msg_free(&m);
	if (ret == -ENOENT || ret == -ECONNREFUSED || ret == -ENOTSOCK) {
		/* No journal listening: syslog, as the alerts do. */
		openlog(JOURNAL_IDENTIFIER, LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog(priority, "%s", message);
		ret = 0;
	}
	return ret;
}

void daemon_log(struct daemon *d, int level, const char *event, const char *fmt, ...)
{
	bool to_journal = d->cfg.journald.enabled && level <= LOG_WARNING;
	char msg[1024], field[96];
	const char *fields[2] = { field, NULL };
	va_list ap;
	cJSON *o;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	/* Under systemd stderr is the journal: "<N>" gives the line its priority. */
	if (d->under_systemd && !to_journal)
		fprintf(stderr, "<%d>perfagent: %s: %s\n", level, level_name(level), msg);
	else if (!d->under_systemd)
		fprintf(stderr, "perfagent: %s: %s\n", level_name(level), msg);
	if (to_journal) {
		snprintf(field, sizeof(field), "PERFAGENT_EVENT=%s", event);
		daemon_journal_notice(d, level, msg, fields);
	}
	o = cJSON_CreateObject();
	if (o && cJSON_AddStringToObject(o, "type", "agent") &&
	    cJSON_AddStringToObject(o, "event", event) &&
	    cJSON_AddStringToObject(o, "level", level_name(level)) &&
	    cJSON_AddStringToObject(o, "message", msg))
		daemon_write_json(d, LOG_EVENTS, 0, o);
	else
		cJSON_Delete(o);
}
