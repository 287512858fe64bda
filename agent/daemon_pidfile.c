// SPDX-License-Identifier: GPL-2.0
/*
 * The pid file (/run/perfagent.pid): one daemon per machine. The file is
 * held with flock(2) for the daemon's whole life, so a stale file left by a
 * crash (kill -9, power cut) never blocks a restart: the lock died with the
 * process. Another live daemon holds the lock, and we refuse to start,
 * naming it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"

/* The pid the holder wrote, 0 when unreadable. */
static long holder_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

int daemon_pidfile_lock(struct daemon *d, const char *path, char *err, size_t len)
{
	int fd;

	snprintf(d->pid_path, sizeof(d->pid_path), "%s", path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, len, "pid file %s: %s (set daemon.pid_file to a writable path)",
			 path, strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		int e = errno;
		long pid = holder_pid(fd);

		if (e == EWOULDBLOCK)
			snprintf(err, len, "another perfagent daemon is running (pid %ld, pid file %s); "
				 "stop it first, or see 'perfagent status'", pid, path);
		else
			snprintf(err, len, "pid file %s: cannot lock: %s", path, strerror(e));
		close(fd);
		return e == EWOULDBLOCK ? -EEXIST : -e;
	}
	d->pid_fd = fd;
	return 0;
}

/* Called in the process that stays (after detaching): its own pid. */
int daemon_pidfile_write(struct daemon *d)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (d->pid_fd < 0)
		return 0;
	if (ftruncate(d->pid_fd, 0) || pwrite(d->pid_fd, buf, (size_t)n, 0) != n)
		return -errno;
	return 0;
}

/* Unlink while still holding the lock: a new daemon starting now either
 * waits for our lock on the old inode or creates a new file.
 */
void daemon_pidfile_remove(struct daemon *d)
{
	if (d->pid_fd < 0)
		return;
	unlink(d->pid_path);
	close(d->pid_fd);
	d->pid_fd = -1;
}
