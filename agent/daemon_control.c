// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket (/run/perfagent/control.sock unless configured): a
 * unix stream socket, mode 0600 in a 0700 directory, and callers other
 * than root are refused by their peer credentials as well. A client sends
 * one request line and reads one JSON answer until EOF:
 *
 *   "status\n"  -> the daemon's status (daemon_status.c)
 *
 * Answered inline by the main loop, with 500 ms send/receive timeouts so a
 * stuck client cannot hold the daemon up.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "daemon.h"

static int make_parent(const char *path, char *err, size_t len)
{
	char buf[256], *dir;

	snprintf(buf, sizeof(buf), "%s", path);
	dir = dirname(buf);
	if (mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, len, "control socket %s: cannot create %s: %s", path, dir,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

int daemon_control_open(struct daemon *d, char *err, size_t len)
{
	const char *path = d->cfg.daemon.control_socket;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN,
				  .data.u64 = DAEMON_EV(DAEMON_EV_CONTROL, 0) };
	mode_t old;
	int fd, ret;

	d->control_fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, len, "control socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	if ((ret = make_parent(path, err, len)))
		return ret;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "control socket: %s", strerror(errno));
		return -errno;
	}
	/* We hold the pid file: a socket file there is a dead daemon's. */
	unlink(path);
	old = umask(0077);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || chmod(path, 0600) || listen(fd, 8) ||
	    epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		ret = -errno;
		snprintf(err, len, "control socket %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	d->control_fd = fd;
	snprintf(d->control_path, sizeof(d->control_path), "%s", path);
	return 0;
}

void daemon_control_close(struct daemon *d)
{
	if (d->control_fd < 0)
		return;
	close(d->control_fd);
	unlink(d->control_path);
	d->control_fd = -1;
}

static void send_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void reply_error(int fd, const char *msg)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "{\"error\":\"%s\"}\n", msg);
	send_all(fd, buf, strlen(buf));
}

static void serve(struct daemon *d, int fd)
{
	struct timeval tv = { .tv_sec = 0, .tv_usec = 500000 };
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	char req[128];
	size_t n = 0;
	cJSON *st;
	char *text;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) || cred.uid != 0) {
		reply_error(fd, "permission denied: root only");
		return;
	}
	while (n < sizeof(req) - 1) {
		ssize_t r = recv(fd, req + n, sizeof(req) - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
		if (memchr(req, '\n', n))
			break;
	}
	req[n] = '\0';
	req[strcspn(req, "\r\n")] = '\0';
	if (strcmp(req, "status")) {
		reply_error(fd, "unknown request (known: status)");
		return;
	}
	st = daemon_status_json(d);
	text = st ? cJSON_PrintUnformatted(st) : NULL;
	cJSON_Delete(st);
	if (!text) {
		reply_error(fd, "out of memory");
		return;
	}
	send_all(fd, text, strlen(text));
	send_all(fd, "\n", 1);
	cJSON_free(text);
}

void daemon_control_accept(struct daemon *d)
{
	int fd;

	while ((fd = accept4(d->control_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		serve(d, fd);
		close(fd);
	}
}
