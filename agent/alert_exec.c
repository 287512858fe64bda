// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert_exec.h"
#include "timeutil.h"
#include "units.h"

#define DEFAULT_TIMEOUT_NS	(10 * NSEC_PER_SEC)
#define DEFAULT_MAX_RUNNING	4
#define KILL_GRACE_NS		NSEC_PER_SEC	/* from SIGTERM to SIGKILL */
#define NO_PIDFD_TICK_MS	100		/* reap by polling when pidfds are missing */

extern char **environ;

struct child {
	pid_t pid;
	int pidfd;			/* -1: kernel without pidfd_open, poll waitpid */
	uint64_t deadline;		/* mono ns: SIGTERM */
	uint64_t kill_at;		/* mono ns: SIGKILL, once terminated */
	bool terminated;
};

struct alert_exec {
	char **argv;			/* what posix_spawn runs, NULL-terminated */
	bool search_path;		/* argv[0] has no '/': look it up in PATH */
	char *host;
	uint64_t timeout_ns;
	unsigned max_running;

	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct child *kids;		/* [max_running] */
	unsigned nkids;
	int wakefd;			/* eventfd: a child was added, or stop */
	bool stop;
	pthread_t reaper;
	bool reaper_started;
	struct alert_exec_stats st;
};

/* ---- what the command gets --------------------------------------------- */

static char *alert_json(struct alert_exec *ae, const struct alert *a)
{
	cJSON *o = cJSON_CreateObject();
	char ts[40], *text = NULL;

	format_iso8601(a->ts_ns ? a->ts_ns : realtime_ns(), ts, sizeof(ts));
	if (o && cJSON_AddStringToObject(o, "ts", ts) &&
	    cJSON_AddStringToObject(o, "host", ae->host) && alert_to_json(a, o) == 0)
		text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return text;
}

/* A memfd holding the JSON and a newline, at offset 0, to be the command's stdin. */
static int stdin_memfd(const char *json)
{
	size_t len = strlen(json), done = 0;
	int fd = memfd_create("perfagent-alert", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (done <= len) {
		ssize_t n = done < len ? write(fd, json + done, len - done) : write(fd, "\n", 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -EIO;
		}
		done += (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int env_add(char **env, size_t *n, const char *key, const char *value)
{
	if (asprintf(&env[*n], "%s=%s", key, value ? value : "") < 0) {
		env[*n] = NULL;
		return -ENOMEM;
	}
	(*n)++;
	return 0;
}

/* environ without PERFAGENT_*, then the alert's PERFAGENT_* variables. */
static char **build_env(const struct alert *a, char *msgbuf, size_t msglen)
{
	size_t count = 0, n = 0, i;
	char **env;

	while (environ && environ[count])
		count++;
	env = calloc(count + 8, sizeof(*env));
	if (!env)
		return NULL;
	for (i = 0; i < count; i++) {
		if (strncmp(environ[i], "PERFAGENT_", 10) == 0)
			continue;
		env[n] = strdup(environ[i]);
		if (!env[n])
			goto fail;
		n++;
	}
	if (env_add(env, &n, "PERFAGENT_RULE", a->rule) ||
	    env_add(env, &n, "PERFAGENT_KIND", alert_kind_name(a->kind)) ||
	    env_add(env, &n, "PERFAGENT_SEVERITY", alert_severity_name(a->severity)) ||
	    env_add(env, &n, "PERFAGENT_STATE", alert_state_name(a->state)) ||
	    env_add(env, &n, "PERFAGENT_METRIC", a->metric) ||
	    env_add(env, &n, "PERFAGENT_MESSAGE", alert_message(a, msgbuf, msglen)))
		goto fail;
	return env;
fail:
	for (i = 0; i < n; i++)
		free(env[i]);
	free(env);
	return NULL;
}

static void free_env(char **env)
{
	size_t i;

	for (i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* ---- starting it --------------------------------------------------------- */

/*
 * posix_spawn (vfork-like: cheap even for a big daemon) into a new process
 * group, so that a timeout kills the shell and whatever it started; signals
 * back to default and unblocked, whatever the daemon did with them.
 */
static int spawn_command(struct alert_exec *ae, int in_fd, char **env, pid_t *pid)
{
	static const int reset[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM,
				     SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	size_t i;
	int ret;

	sigemptyset(&none);
	sigemptyset(&defaults);
	for (i = 0; i < sizeof(reset) / sizeof(reset[0]); i++)
		sigaddset(&defaults, reset[i]);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
				 POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	if (ae->search_path)
		ret = posix_spawnp(pid, ae->argv[0], &fa, &attr, ae->argv, env);
	else
		ret = posix_spawn(pid, ae->argv[0], &fa, &attr, ae->argv, env);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -ret;
}

/* -1 when the kernel (or valgrind) has no pidfd_open: asked once, not per alert. */
static int open_pidfd(pid_t pid)
{
	static int missing;
	int fd;

	if (__atomic_load_n(&missing, __ATOMIC_RELAXED))
		return -1;
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 && errno == ENOSYS)
		__atomic_store_n(&missing, 1, __ATOMIC_RELAXED);
	return fd;
}

/* Cannot fail in a way that matters: a full counter means a wake-up is pending. */
static void wake_reaper(struct alert_exec *ae)
{
	uint64_t one = 1;
	ssize_t n = write(ae->wakefd, &one, sizeof(one));

	(void)n;
}

int alert_exec_run(struct alert_exec *ae, const struct alert *a)
{
	char msg[1024], *json;
	char **env = NULL;
	int in_fd = -1, ret;
	pid_t pid;

	pthread_mutex_lock(&ae->lock);
	if (ae->nkids >= ae->max_running) {
		ae->st.skipped++;
		pthread_mutex_unlock(&ae->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&ae->lock);

	json = alert_json(ae, a);
	ret = json ? 0 : -ENOMEM;
	if (!ret) {
		in_fd = stdin_memfd(json);
		ret = in_fd < 0 ? in_fd : 0;
	}
	if (!ret) {
		env = build_env(a, msg, sizeof(msg));
		ret = env ? 0 : -ENOMEM;
	}
	if (!ret)
		ret = spawn_command(ae, in_fd, env, &pid);
	free(json);
	free_env(env);
	if (in_fd >= 0)
		close(in_fd);

	pthread_mutex_lock(&ae->lock);
	if (ret) {
		ae->st.spawn_failed++;
	} else {
		struct child *c = &ae->kids[ae->nkids++];

		c->pid = pid;
		c->pidfd = open_pidfd(pid);
		c->deadline = mono_ns() + ae->timeout_ns;
		c->terminated = false;
		ae->st.started++;
		ae->st.running = ae->nkids;
	}
	pthread_mutex_unlock(&ae->lock);
	if (!ret)
		wake_reaper(ae);
	return ret;
}

/* ---- the reaper thread ----------------------------------------------------- */

static void account_exit(struct alert_exec *ae, const struct child *c, int status)
{
	if (c->terminated) {
		ae->st.timed_out++;
		ae->st.last_status = status;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		ae->st.succeeded++;
	} else {
		ae->st.failed++;
		ae->st.last_status = status;
	}
}

/* Reap what has exited; under lock. */
static void reap_exited(struct alert_exec *ae)
{
	unsigned i = 0;
	siginfo_t si;
	int status;

	while (i < ae->nkids) {
		struct child *c = &ae->kids[i];

		/* Look without reaping: the pid must stay ours for the kill below. */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && !si.si_pid) {
			i++;
			continue;
		}
		/* What a timed-out command left running goes with it. */
		if (c->terminated)
			kill(-c->pid, SIGKILL);
		if (waitpid(c->pid, &status, 0) == c->pid)
			account_exit(ae, c, status);
		else
			ae->st.failed++;	/* reaped by someone else: outcome unknown */
		if (c->pidfd >= 0)
			close(c->pidfd);
		ae->kids[i] = ae->kids[--ae->nkids];
	}
	ae->st.running = ae->nkids;
	if (!ae->nkids)
		pthread_cond_broadcast(&ae->idle);
}

/* Past the deadline: SIGTERM to the group; a grace later, SIGKILL. Under lock. */
static void enforce_timeouts(struct alert_exec *ae, uint64_t now)
{
	unsigned i;

	for (i = 0; i < ae->nkids; i++) {
		struct child *c = &ae->kids[i];

		if (!c->terminated && now >= c->deadline) {
			kill(-c->pid, SIGTERM);
			c->terminated = true;
			c->kill_at = now + KILL_GRACE_NS;
		} else if (c->terminated && now >= c->kill_at) {
			kill(-c->pid, SIGKILL);
			c->kill_at = UINT64_MAX;
		}
	}
}

/* poll() timeout in ms until the next deadline; -1 when there is none. */
static int next_timeout_ms(struct alert_exec *ae, uint64_t now)
{
	uint64_t next = UINT64_MAX, ms;
	unsigned i;

	for (i = 0; i < ae->nkids; i++) {
		const struct child *c = &ae->kids[i];
		uint64_t t = c->terminated ? c->kill_at : c->deadline;

		if (t < next)
			next = t;
		if (c->pidfd < 0 && now + NO_PIDFD_TICK_MS * NSEC_PER_MSEC < next)
			next = now + NO_PIDFD_TICK_MS * NSEC_PER_MSEC;
	}
	if (next == UINT64_MAX)
		return -1;
	ms = next > now ? (next - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC : 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static void *reaper_main(void *arg)
{
	struct alert_exec *ae = arg;
	struct pollfd *pfd;
	uint64_t drain;
	unsigned i, n;
	int timeout;

	pfd = calloc(ae->max_running + 1, sizeof(*pfd));
	pthread_mutex_lock(&ae->lock);
	while (!(ae->stop && ae->nkids == 0)) {
		n = 0;
		if (pfd) {
			pfd[n++] = (struct pollfd){ .fd = ae->wakefd, .events = POLLIN };
			for (i = 0; i < ae->nkids; i++) {
				if (ae->kids[i].pidfd >= 0)
					pfd[n++] = (struct pollfd){ .fd = ae->kids[i].pidfd, .events = POLLIN };
			}
		}
		timeout = next_timeout_ms(ae, mono_ns());
		if (!pfd && (timeout < 0 || timeout > NO_PIDFD_TICK_MS))
			timeout = NO_PIDFD_TICK_MS;
		pthread_mutex_unlock(&ae->lock);
		/* A pidfd is readable once its process has exited. */
		poll(pfd, n, timeout);
		if (pfd && (pfd[0].revents & POLLIN)) {
			ssize_t got = read(ae->wakefd, &drain, sizeof(drain));

			(void)got;	/* only to reset the eventfd */
		}
		pthread_mutex_lock(&ae->lock);
		reap_exited(ae);
		enforce_timeouts(ae, mono_ns());
	}
	pthread_mutex_unlock(&ae->lock);
	free(pfd);
	return NULL;
}

/* ---- open, wait, close ------------------------------------------------------ */

static void free_strv(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* path + args, or sh -c command: copied, the config may go away. */
static int build_argv(struct alert_exec *ae, const struct alert_exec_config *cfg)
{
	size_t i, n = cfg->path ? cfg->nargs + 1 : 3;

	ae->argv = calloc(n + 1, sizeof(*ae->argv));
	if (!ae->argv)
		return -1;
	if (cfg->path) {
		ae->argv[0] = strdup(cfg->path);
		for (i = 0; i < cfg->nargs; i++)
			ae->argv[i + 1] = strdup(cfg->args[i] ? cfg->args[i] : "");
		ae->search_path = !strchr(cfg->path, '/');
	} else {
		ae->argv[0] = strdup("/bin/sh");
		ae->argv[1] = strdup("-c");
		ae->argv[2] = strdup(cfg->command);
	}
	for (i = 0; i < n; i++) {
		if (!ae->argv[i])
			break;
	}
	if (i == n)
		return 0;
	for (i = 0; i < n; i++)
		free(ae->argv[i]);
	free(ae->argv);
	ae->argv = NULL;
	return -1;
}

struct alert_exec *alert_exec_open(const struct alert_exec_config *cfg, char *err, size_t errlen)
{
	struct alert_exec *ae = calloc(1, sizeof(*ae));
	char host[HOST_NAME_MAX + 1] = "unknown";

	if ((!cfg->path || !*cfg->path) && (!cfg->command || !*cfg->command)) {
		snprintf(err, errlen, "alert command: no program given");
		free(ae);
		return NULL;
	}
	if (!ae)
		goto nomem;
	ae->wakefd = -1;
	pthread_mutex_init(&ae->lock, NULL);
	pthread_cond_init(&ae->idle, NULL);
	if (build_argv(ae, cfg))
		goto nomem;
	ae->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : DEFAULT_TIMEOUT_NS;
	ae->max_running = cfg->max_running ? cfg->max_running : DEFAULT_MAX_RUNNING;
	if (!cfg->host && gethostname(host, sizeof(host)) == 0)
		host[sizeof(host) - 1] = '\0';
	ae->host = strdup(cfg->host ? cfg->host : host);
	ae->kids = calloc(ae->max_running, sizeof(*ae->kids));
	if (!ae->host || !ae->kids)
		goto nomem;
	ae->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ae->wakefd < 0) {
		snprintf(err, errlen, "alert command: eventfd: %s", strerror(errno));
		goto fail;
	}
	if (pthread_create(&ae->reaper, NULL, reaper_main, ae)) {
		snprintf(err, errlen, "alert command: cannot start its reaper thread");
		goto fail;
	}
	ae->reaper_started = true;
	return ae;
nomem:
	snprintf(err, errlen, "alert command: out of memory");
fail:
	alert_exec_close(ae);
	return NULL;
}

void alert_exec_wait(struct alert_exec *ae)
{
	pthread_mutex_lock(&ae->lock);
	while (ae->nkids && ae->reaper_started)
		pthread_cond_wait(&ae->idle, &ae->lock);
	pthread_mutex_unlock(&ae->lock);
}

void alert_exec_get_stats(struct alert_exec *ae, struct alert_exec_stats *out)
{
	pthread_mutex_lock(&ae->lock);
	*out = ae->st;
	pthread_mutex_unlock(&ae->lock);
}

void alert_exec_close(struct alert_exec *ae)
{
	if (!ae)
		return;
	if (ae->reaper_started) {
		pthread_mutex_lock(&ae->lock);
		ae->stop = true;
		pthread_mutex_unlock(&ae->lock);
		wake_reaper(ae);
		pthread_join(ae->reaper, NULL);
	}
	if (ae->wakefd >= 0)
		close(ae->wakefd);
	pthread_mutex_destroy(&ae->lock);
	pthread_cond_destroy(&ae->idle);
	free(ae->kids);
	free_strv(ae->argv);
	free(ae->host);
	free(ae);
}
