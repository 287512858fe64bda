/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A systemd-journald of the test's own, in a journal namespace
 * (`systemd-journald NAME`): it listens on /run/systemd/journal.NAME/socket
 * and `journalctl --namespace=NAME` reads it, so a test sees only what it
 * sent and never touches the machine's journal. jns_stop() kills it and
 * removes its sockets and journal files. Header-only (static functions).
 *
 *	struct journald_ns j;
 *	if (jns_start(&j, "pa-mytest")) SKIP(...);
 *	... point the sender at j.sock ...
 *	cJSON *entries = jns_read(&j, "-t perfagent PERFAGENT_RULE=x");
 *	jns_stop(&j);
 */
#ifndef PERFAGENT_TEST_JOURNALD_NS_H
#define PERFAGENT_TEST_JOURNALD_NS_H

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cJSON.h>

#include "logcheck.h"

#define JNS_JOURNALD	"/lib/systemd/systemd-journald"

struct journald_ns {
	char name[64];		/* the namespace: PREFIX-<pid of the test> */
	char dir[128];		/* /run/systemd/journal.NAME */
	char sock[160];		/* its native socket, for journald.socket */
	pid_t pid;		/* -1: not running */
};

/* journald and journalctl are there and we may run them (root). */
static inline bool jns_available(void)
{
	struct stat st;

	return geteuid() == 0 && stat(JNS_JOURNALD, &st) == 0 &&
	       system("command -v journalctl >/dev/null 2>&1") == 0;
}

/* Start it and wait (up to 10 s) for its socket. 0, or -1 (j->pid is then -1). */
static inline int jns_start(struct journald_ns *j, const char *prefix)
{
	struct stat st;
	int i;

	memset(j, 0, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "%s-%d", prefix, (int)getpid());
	snprintf(j->dir, sizeof(j->dir), "/run/systemd/journal.%s", j->name);
	snprintf(j->sock, sizeof(j->sock), "%s/socket", j->dir);
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0)
		return -1;
	if (j->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		/* Gone with the test, even if the test dies. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(null, 1);
		dup2(null, 2);
		execl(JNS_JOURNALD, JNS_JOURNALD, j->name, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 1000; i++) {
		if (stat(j->sock, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		if (waitpid(j->pid, NULL, WNOHANG) == j->pid)
			break;
		usleep(10000);
	}
	if (waitpid(j->pid, NULL, WNOHANG) == 0) {
		kill(j->pid, SIGKILL);
		waitpid(j->pid, NULL, 0);
	}
	j->pid = -1;
	return -1;
}

/* Stop it; remove its runtime directory and its journal files. */
static inline void jns_stop(struct journald_ns *j)
{
	char machine_id[64] = "", path[256];
	FILE *f;

	if (j->pid > 0) {
		kill(j->pid, SIGTERM);
		waitpid(j->pid, NULL, 0);
		j->pid = -1;
	}
	if (!j->name[0])
		return;
	f = fopen("/etc/machine-id", "r");
	if (f) {
		if (fscanf(f, "%63s", machine_id) != 1)
			machine_id[0] = '\0';
		fclose(f);
	}
	if (machine_id[0]) {
		snprintf(path, sizeof(path), "/var/log/journal/%s.%s", machine_id, j->name);
		lc_rmtree(path);
		snprintf(path, sizeof(path), "/run/log/journal/%s.%s", machine_id, j->name);
		lc_rmtree(path);
	}
	lc_rmtree(j->dir);
	j->name[0] = '\0';
}

/*
 * The entries `journalctl --namespace=NAME -o json ARGS` prints (after a
 * --sync, so everything sent so far is in), as a JSON array; NULL when
 * journalctl cannot be run.
 */
static inline cJSON *jns_read(const struct journald_ns *j, const char *args)
{
	char cmd[1024], *buf = NULL, *line, *nl;
	size_t len = 0, cap = 0, n;
	cJSON *arr;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "journalctl --namespace=%s --sync >/dev/null 2>&1; "
		 "journalctl --namespace=%s --no-pager --all -o json %s 2>/dev/null",
		 j->name, j->name, args);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	for (;;) {
		if (len + 65536 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? cap * 2 : 1 << 20);

			if (!nb)
				break;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, p);
		if (!n)
			break;
		len += n;
	}
	pclose(p);
	arr = cJSON_CreateArray();
	if (!buf || !arr) {
		free(buf);
		return arr;
	}
	buf[len] = '\0';
	for (line = buf; *line; line = nl + 1) {
		cJSON *o;

		nl = strchr(line, '\n');
		if (!nl)
			nl = line + strlen(line) - 1;
		else
			*nl = '\0';
		o = cJSON_Parse(line);
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	free(buf);
	return arr;
}

#endif
