/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the end-to-end tests of `perfagent --daemon` share: reading its
 * JSON Lines files back, starting it in the foreground, asking it for
 * status over its control socket, stopping it, and a child whose syscalls
 * are slow on demand. Header-only (static functions).
 */
#ifndef PERFAGENT_TEST_DAEMON_TEST_H
#define PERFAGENT_TEST_DAEMON_TEST_H

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <cJSON.h>

#define DT_PIN_ROOT	"/sys/fs/bpf/perfagent"

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The whole file, NUL-terminated; NULL when it cannot be read. */
static inline char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			char *nb = realloc(buf, cap = cap ? 2 * cap : 65536);

			if (!nb)
				break;
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n);
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

/* Every complete line of a JSON Lines text that parses, in an array. */
static inline cJSON *parse_lines(char *text)
{
	cJSON *arr = cJSON_CreateArray();
	char *line, *nl;

	for (line = text; text && (nl = strchr(line, '\n')); line = nl + 1) {
		cJSON *o;

		*nl = '\0';
		o = cJSON_Parse(line);
		if (o)
			cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

/* dir/name (a JSON Lines file) as an array of its lines; empty when absent. */
static inline cJSON *read_jsonl(const char *dir, const char *name)
{
	char path[512], *text;
	cJSON *arr;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = read_file(path);
	arr = parse_lines(text);
	free(text);
	return arr;
}

static inline const char *sfield(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static inline bool sfield_is(const cJSON *o, const char *k, const char *want)
{
	const char *v = sfield(o, k);

	return v && !strcmp(v, want);
}

/* A number member, -1 when absent. */
static inline double nfield(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Alerts of `rule` with this state in an alerts.jsonl array. */
static inline int count_alerts(const cJSON *alerts, const char *rule, const char *state)
{
	const cJSON *a;
	int n = 0;

	cJSON_ArrayForEach(a, alerts)
		if (sfield_is(a, "rule", rule) && sfield_is(a, "state", state))
			n++;
	return n;
}

/*
 * `perfagent --daemon --foreground --config CONFIG`, its output appended
 * to `out`, killed if the test dies, and not taking the test for systemd.
 */
static inline pid_t dt_start(const char *perfagent, const char *config, const char *out)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		dup2(fd, 1);
		dup2(fd, 2);
		unsetenv("NOTIFY_SOCKET");
		unsetenv("INVOCATION_ID");
		execl(perfagent, perfagent, "--daemon", "--foreground", "--config", config,
		      (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* One request over the control socket, as `perfagent status --json` makes it. */
static inline cJSON *dt_status(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char buf[1 << 20];
	size_t len = 0;
	ssize_t r;
	int fd;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) || write(fd, "status\n", 7) != 7) {
		close(fd);
		return NULL;
	}
	while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	return cJSON_Parse(buf);
}

/* Send sig and reap: the wait status, -1 without a daemon. */
static inline int dt_stop(pid_t pid, int sig)
{
	int st = -1;

	if (pid <= 0)
		return -1;
	kill(pid, sig);
	waitpid(pid, &st, 0);
	return st;
}

/*
 * The daemon to test ($PERFAGENT, else build/perfagent), or NULL with a
 * skip line naming `test` when it cannot run here: not root, no binary, or
 * another daemon's pins in the way (its programs would be ours to unpin).
 */
static inline const char *dt_binary_or_skip(const char *test)
{
	const char *bin = getenv("PERFAGENT") ? getenv("PERFAGENT") : "build/perfagent";
	struct stat st;

	if (geteuid() != 0 || access(bin, X_OK)) {
		printf("skip - %s (needs root and %s)\n", test, bin);
		return NULL;
	}
	if (stat(DT_PIN_ROOT, &st) == 0) {
		printf("skip - %s (%s exists: another perfagent daemon runs here)\n",
		       test, DT_PIN_ROOT);
		return NULL;
	}
	return bin;
}

static inline bool dt_bpffs_mounted(void)
{
	struct statfs sf;

	return statfs("/sys/fs/bpf", &sf) == 0 && sf.f_type == BPF_FS_MAGIC;
}

/* The daemon mounts bpffs when it is missing; leave the machine as found. */
static inline void dt_bpffs_restore(bool was_mounted)
{
	if (!was_mounted && dt_bpffs_mounted())
		umount("/sys/fs/bpf");
}

/* A child named `comm`: `slow_s` seconds of 30 ms sleeps, then 200 us
 * sleeps until killed (a syscall latency that breaches, then clears).
 */
static inline pid_t dt_start_sleeper(const char *comm, int slow_s)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct timespec slow = { 0, 30 * 1000000 }, fast = { 0, 200 * 1000 };
		uint64_t until = now_ms() + (uint64_t)slow_s * 1000;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, comm);
		while (now_ms() < until)
			nanosleep(&slow, NULL);
		for (;;)
			nanosleep(&fast, NULL);
	}
	return pid;
}

#endif
