// SPDX-License-Identifier: GPL-2.0
/*
 * perfagent --daemon: start-up, the main loop, reload and stop. What
 * happens each interval is daemon_tick(); each part of it lives in its own
 * daemon_*.c file (see daemon.h).
 *
 * Start-up refuses only what would make the daemon useless or dangerous: a
 * bad config, no privileges, another daemon holding the pid file, a log
 * directory that cannot be written. Everything else (a probe the kernel
 * cannot load, a missing tracepoint, no kernel module, no journal) is a
 * note in the log and in `perfagent status`, and the rest runs.
 *
 * Unless --foreground is given or systemd started us (NOTIFY_SOCKET or
 * INVOCATION_ID set), the daemon detaches: the parent waits until the child
 * is ready (or failed, with the reason on the terminal) and exits.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <syslog.h>
#include <unistd.h>

#include "bpf_env.h"
#include "btf_enums.h"
#include "disk_ops.h"
#include "health_decode.h"
#include "net_report.h"
#include "cli.h"
#include "daemon.h"
#include "logwriter.h"
#include "timeutil.h"

#define MIN_STALE_NS	(600ULL * 1000000000ULL)

_Static_assert((int)LOSS_SYSCALL == (int)DPROBE_SYSCALL && (int)LOSS_DISK == (int)DPROBE_DISK &&
	       (int)LOSS_NET == (int)DPROBE_NET && (int)LOSS_HEALTH == (int)DPROBE_HEALTH,
	       "probe loss stages are indexed by probe id");

/* ---- the interval ----------------------------------------------------- */

void daemon_tick(struct daemon *d)
{
	uint64_t now = mono_ns(), ts_rt = realtime_ns();
	uint64_t span = now - d->last_tick_mono;

	d->last_tick_mono = now;
	metric_batch_reset(&d->batch);
	daemon_probes_read(d, span, now);
	daemon_health_tick(d, span, now);
	daemon_collectors_run(d, span);
	daemon_selfcost_tick(d, span, now);
	daemon_losses_tick(d, span, now, ts_rt);

	/* Alerts before the metric lines: they are what someone waits for. */
	rule_transitions_clear(&d->trans);
	rules_feed_batch(d->engine, d->batch.v, d->batch.n, &d->trans);
	rules_expire(d->engine, now, &d->trans);
	daemon_alerts_deliver(d, &d->trans);
	daemon_overhead_check(d, &d->trans);
	daemon_metrics_write(d, ts_rt);
	/* A name table built late (its first event) may have loaded the
	 * kernel's BTF again: the tables keep copies, the BTF can go.
	 */
	btf_vmlinux_release();
	d->ticks++;
}

static int arm_timer(struct daemon *d)
{
	struct itimerspec its = { 0 };
	uint64_t iv = d->cfg.interval_ns;

	its.it_interval.tv_sec = (time_t)(iv / 1000000000ULL);
	its.it_interval.tv_nsec = (long)(iv % 1000000000ULL);
	its.it_value = its.it_interval;
	d->last_tick_mono = mono_ns();
	return timerfd_settime(d->timerfd, 0, &its, NULL) ? -errno : 0;
}

/* ---- config ----------------------------------------------------------- */

static int load_config(const char *path, struct config *c, char *err, size_t len)
{
	struct config_errors errs;
	size_t pos = 0;
	unsigned int i;
	int ret;

	if (!path)
		return config_default(c) ? -ENOMEM : 0;
	ret = config_load(path, c, &errs);
	if (ret == -ENOMEM) {
		snprintf(err, len, "out of memory");
		return ret;
	}
	if (!ret)
		return 0;
	err[0] = '\0';
	for (i = 0; i < errs.n && pos + 4 < len; i++) {
		int n = snprintf(err + pos, len - pos, "%s%s", i ? "; " : "", errs.msg[i]);

		if (n < 0)
			break;
		pos += (size_t)n;
	}
	if (errs.dropped && pos + 4 < len)
		snprintf(err + pos, len - pos, "; and %u more", errs.dropped);
	return ret;
}

/*
 * The kernel's BTF (5 MB and more, parsed) is needed to load the probes and
 * to build a few name tables; once those exist, it is dead weight for the
 * daemon's whole life. Build the tables the interval and event paths use,
 * free the BTF (a reload that reopens a probe loads it again, and comes
 * here again), and give freed heap back.
 */
static void release_setup_memory(void)
{
	char buf[64];

	disk_ops_kernel();
	net_drop_reason_name(0, buf, sizeof(buf));
	net_drop_reason_name(1U << 16, buf, sizeof(buf));	/* the subsystem table too */
	health_error_detector(0, buf, sizeof(buf));
	btf_vmlinux_release();
	malloc_trim(0);
}

static int build_engine(const struct config *c, struct rules_engine **e, struct rule_def **rules,
			size_t *n)
{
	struct rules_engine_opts o = { .max_series_per_rule = 1000 };
	int ret;

	/* Forget a series (resolving it "no data") only well after it stopped:
	 * a rare syscall or a disk gone quiet keeps its baseline meanwhile.
	 */
	o.stale_ns = 5 * c->interval_ns > MIN_STALE_NS ? 5 * c->interval_ns : MIN_STALE_NS;
	ret = daemon_rules_build(c, rules, n);
	if (ret)
		return ret;
	ret = rules_engine_new(e, *rules, *n, &o);
	if (ret) {
		free(*rules);
		*rules = NULL;
	}
	return ret;
}

static struct logwriter *open_logs(const struct daemon *d, const struct config *c, char *err,
				   size_t len)
{
	struct logwriter_config lc = {
		.dir = c->logs.dir,
		.host = d->host,
		.max_file_bytes = c->logs.max_size,
		.rotate_daily = c->logs.daily,
		.compress = c->logs.compress,
		.keep_files = c->logs.max_files,
		.keep_bytes = c->logs.max_total,
	};

	return logwriter_open(&lc, err, len);
}

static bool logs_config_eq(const struct config *a, const struct config *b)
{
	return !strcmp(a->logs.dir, b->logs.dir) && a->logs.max_size == b->logs.max_size &&
	       a->logs.daily == b->logs.daily && a->logs.max_files == b->logs.max_files &&
	       a->logs.max_total == b->logs.max_total && a->logs.compress == b->logs.compress;
}

static void note_restart_only(struct daemon *d, const struct config *nc)
{
	const char *what = NULL;

	if (strcmp(nc->daemon.pid_file, d->cfg.daemon.pid_file))
		what = "daemon.pid_file";
	else if (strcmp(nc->daemon.control_socket, d->cfg.daemon.control_socket))
		what = "daemon.control_socket";
	else if (strcmp(nc->daemon.state_dir, d->cfg.daemon.state_dir))
		what = "daemon.state_dir";
	if (what)
		daemon_log(d, LOG_NOTICE, "config_reloaded", "%s changed: it takes effect at the next "
			   "start of the daemon", what);
}

static void refuse_reload(struct daemon *d, const char *why)
{
	d->reload_failures++;
	snprintf(d->reload_error, sizeof(d->reload_error), "%s", why);
	daemon_log(d, LOG_ERR, "config_rejected", "config %s refused, the previous configuration "
		   "stays in force: %s", d->config_path, why);
}

/* The logs section changed: a new writer, or the old one kept. */
static int switch_logs(struct daemon *d, const struct config *nc, char *err, size_t len)
{
	struct logwriter *lw;

	if (logs_config_eq(&d->cfg, nc))
		return 0;
	if (!strcmp(d->cfg.logs.dir, nc->logs.dir)) {
		/* Same directory: its lock must be released before reopening. */
		char again[256];

		logwriter_close(d->lw);
		d->lw = open_logs(d, nc, err, len);
		if (d->lw)
			return 0;
		d->lw = open_logs(d, &d->cfg, again, sizeof(again));
		return -EIO;
	}
	lw = open_logs(d, nc, err, len);
	if (!lw)
		return -EIO;
	logwriter_close(d->lw);
	d->lw = lw;
	return 0;
}

static void reload(struct daemon *d)
{
	struct rules_engine *engine = NULL;
	struct rule_def *rules = NULL;
	struct config nc, old;
	size_t nrules = 0;
	char err[sizeof(d->reload_error) - 64];

	daemon_sd_notify("RELOADING=1");
	/* SIGHUP is also logrotate's "reopen your files". */
	if (d->lw)
		logwriter_reopen(d->lw);
	if (!d->config_path) {
		daemon_log(d, LOG_INFO, "config_reloaded", "SIGHUP: log files reopened (no config "
			   "file: the built-in config stays)");
		goto out;
	}
	if (load_config(d->config_path, &nc, err, sizeof(err))) {
		refuse_reload(d, err);
		goto out;
	}
	if (build_engine(&nc, &engine, &rules, &nrules)) {
		refuse_reload(d, "out of memory");
		config_free(&nc);
		goto out;
	}
	err[0] = '\0';
	if (switch_logs(d, &nc, err, sizeof(err))) {
		refuse_reload(d, err);
		rules_engine_free(engine);
		free(rules);
		config_free(&nc);
		goto out;
	}
	note_restart_only(d, &nc);
	rule_transitions_clear(&d->trans);
	rules_engine_take_state(engine, d->engine, mono_ns(), &d->trans);
	daemon_alerts_deliver(d, &d->trans);
	rules_engine_free(d->engine);
	free(d->rules);
	d->engine = engine;
	d->rules = rules;
	d->nrules = nrules;

	old = d->cfg;
	d->cfg = nc;
	daemon_probes_reconfigure(d, &old);
	daemon_collectors_reconfigure(d);
	daemon_alerts_reconfigure(d, &old);
	if (old.probes.health.enabled != d->cfg.probes.health.enabled) {
		daemon_health_close(d);
		daemon_health_open(d, false);
	} else if (!d->health.nl && d->cfg.probes.health.enabled) {
		daemon_health_open(d, true);	/* like the probes: a reload retries */
	}
	if (old.interval_ns != d->cfg.interval_ns)
		arm_timer(d);
	config_free(&old);
	release_setup_memory();
	d->reloads++;
	d->reload_error[0] = '\0';
	d->config_loaded_rt = realtime_ns();
	daemon_log(d, LOG_INFO, "config_reloaded", "config %s reloaded (%zu rules)",
		   d->config_path, d->nrules);
out:
	daemon_sd_notify("READY=1");
}

/* ---- start and stop --------------------------------------------------- */

static int setup_signals(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = DAEMON_EV(DAEMON_EV_SIGNAL, 0) };
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Before any thread starts, so every thread has them blocked. */
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev))
		return -errno;
	return 0;
}

static int setup_timer(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = DAEMON_EV(DAEMON_EV_TIMER, 0) };

	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (d->timerfd < 0 || epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev))
		return -errno;
	return arm_timer(d);
}

static void log_started(struct daemon *d)
{
	char probes[256] = "", iv[32];
	size_t pos = 0;
	int i;

	for (i = 0; i < DPROBE_COUNT; i++) {
		int n = snprintf(probes + pos, sizeof(probes) - pos, "%s%s %s", i ? ", " : "",
				 d->probes[i].name, dprobe_state_name(d->probes[i].state));

		if (n > 0 && (size_t)n < sizeof(probes) - pos)
			pos += (size_t)n;
	}
	daemon_log(d, LOG_INFO, "started", "started (pid %d, config %s, interval %s, %zu rules; "
		   "probes: %s; kernel module %s; logs in %s)", (int)getpid(),
		   d->config_path ? d->config_path : "built-in",
		   config_format_duration(d->cfg.interval_ns, iv, sizeof(iv)), d->nrules, probes,
		   d->health.connected ? "connected" : "not connected", d->cfg.logs.dir);
}

/* Everything before the loop. Returns 0 or -errno with the reason in err. */
static int setup(struct daemon *d, char *err, size_t len)
{
	int ret;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0 || (ret = setup_signals(d))) {
		snprintf(err, len, "cannot set up the event loop: %s", strerror(errno));
		return -errno;
	}
	if ((ret = daemon_pidfile_lock(d, d->cfg.daemon.pid_file, err, len)))
		return ret;
	daemon_pidfile_write(d);
	d->lw = open_logs(d, &d->cfg, err, len);
	if (!d->lw)
		return -EIO;
	if ((ret = daemon_alerts_open_sinks(d, err, len)))
		return ret;
	if ((ret = build_engine(&d->cfg, &d->engine, &d->rules, &d->nrules))) {
		snprintf(err, len, "rules: %s", strerror(-ret));
		return ret;
	}
	env_setup_libbpf(cli_verbose);
	daemon_pin_open(d);
	daemon_selfcost_open(d);
	daemon_probes_open(d);
	daemon_collectors_open(d);
	daemon_health_open(d, false);
	if (daemon_control_open(d, err, len))
		daemon_log(d, LOG_ERR, "control", "%s: 'perfagent status' will not work", err);
	if ((ret = setup_timer(d))) {
		snprintf(err, len, "interval timer: %s", strerror(-ret));
		return ret;
	}
	release_setup_memory();
	log_started(d);
	return 0;
}

static void teardown(struct daemon *d)
{
	daemon_probes_close(d);
	daemon_pin_close(d);
	daemon_health_close(d);
	daemon_collectors_close(d);
	daemon_selfcost_close(d);
	daemon_control_close(d);
	daemon_alerts_close_sinks(d);
	rules_engine_free(d->engine);
	d->engine = NULL;
	free(d->rules);
	d->rules = NULL;
	metric_batch_free(&d->batch);
	rule_transitions_free(&d->trans);
	free(d->disks);
	d->disks = NULL;
	if (d->lw)
		logwriter_close(d->lw);
	d->lw = NULL;
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->epfd >= 0)
		close(d->epfd);
	d->timerfd = d->sigfd = d->epfd = -1;
	daemon_pidfile_remove(d);
	config_free(&d->cfg);
	free(d->config_path);
	d->config_path = NULL;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
		} else if (!d->stopping) {
			d->stopping = true;
			daemon_sd_notify("STOPPING=1");
			daemon_log(d, LOG_INFO, "stopping", "%s: flushing the logs and detaching the "
				   "probes", strsignal((int)si.ssi_signo));
		}
	}
}

static void run_loop(struct daemon *d)
{
	struct epoll_event evs[16];
	uint64_t expirations;
	int i, n;

	while (!d->stopping) {
		/* The netlink socket wants a dispatch at least once a second. */
		n = epoll_wait(d->epfd, evs, 16, d->health.nl ? 1000 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			daemon_log(d, LOG_ERR, "loop", "epoll_wait: %s", strerror(errno));
			break;
		}
		if (n == 0)
			daemon_health_dispatch(d);
		for (i = 0; i < n && !d->stopping; i++) {
			uint32_t kind = (uint32_t)(evs[i].data.u64 >> 32);
			uint32_t id = (uint32_t)evs[i].data.u64;

			switch (kind) {
			case DAEMON_EV_TIMER:
				if (read(d->timerfd, &expirations, sizeof(expirations)) > 0)
					daemon_tick(d);
				break;
			case DAEMON_EV_SIGNAL:
				on_signal(d);
				break;
			case DAEMON_EV_CONTROL:
				daemon_control_accept(d);
				break;
			case DAEMON_EV_HEALTH:
				daemon_health_dispatch(d);
				break;
			case DAEMON_EV_PROBE:
				if (id < DPROBE_COUNT)
					daemon_events_ready(d, (enum dprobe_id)id);
				break;
			}
		}
	}
}

/*
 * Detach: the child goes on; the parent waits on a pipe for "ok" (ready)
 * or an error message, prints it, and exits accordingly. Returns in the
 * child with the pipe's write end in *ready_fd.
 */
static int detach(int *ready_fd)
{
	char msg[1024];
	size_t n = 0;
	ssize_t r;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		while (n < sizeof(msg) - 1 && (r = read(p[0], msg + n, sizeof(msg) - 1 - n)) != 0) {
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				break;
			n += (size_t)r;
		}
		msg[n] = '\0';
		if (!strcmp(msg, "ok"))
			_exit(0);
		cli_error("%s", n ? msg : "the daemon exited while starting (see the logs)");
		_exit(1);
	}
	close(p[0]);
	setsid();
	if (chdir("/"))
		return -errno;
	*ready_fd = p[1];
	return 0;
}

static void detached_ready(int ready_fd, const char *msg)
{
	int null;

	if (ready_fd < 0)
		return;
	if (write(ready_fd, msg, strlen(msg)) < 0)
		return;
	close(ready_fd);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
}

/* The config at start: each mistake on its own line, as check-config. */
static int start_config(const char *path, struct config *c)
{
	struct config_errors errs;
	unsigned int i;
	int ret;

	if (!path) {
		ret = config_default(c);
	} else {
		ret = config_load(path, c, &errs);
		for (i = 0; ret == -EINVAL && i < errs.n; i++)
			cli_error("%s: %s", path, errs.msg[i]);
		if (ret == -EINVAL && errs.dropped)
			cli_error("%s: ... and %u more errors", path, errs.dropped);
	}
	if (ret == -ENOMEM)
		cli_error("out of memory");
	return ret;
}

static void daemon_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	d->epfd = d->sigfd = d->timerfd = d->control_fd = d->pid_fd = -1;
	d->stats_fd = d->pin_lock_fd = -1;
	d->start_mono = mono_ns();
	d->start_rt = realtime_ns();
	if (gethostname(d->host, sizeof(d->host) - 1))
		snprintf(d->host, sizeof(d->host), "localhost");
}

int daemon_main(const struct daemon_opts *o)
{
	static struct daemon dm;
	struct daemon *d = &dm;
	char err[1024] = "";
	int ready_fd = -1, ret;

	daemon_init(d);
	if (start_config(o->config_path, &d->cfg))
		return 1;
	d->config_path = o->config_path ? realpath(o->config_path, NULL) : NULL;
	d->config_loaded_rt = realtime_ns();
	if (env_check_privileges(err, sizeof(err))) {
		cli_error("%s", err);
		config_free(&d->cfg);
		return 1;
	}
	d->under_systemd = getenv("NOTIFY_SOCKET") || getenv("INVOCATION_ID");
	d->foreground = o->foreground || d->under_systemd;
	if (!d->foreground && (ret = detach(&ready_fd))) {
		cli_error("cannot detach: %s", strerror(-ret));
		config_free(&d->cfg);
		return 1;
	}
	if (setup(d, err, sizeof(err))) {
		if (ready_fd >= 0) {
			if (write(ready_fd, err, strlen(err)) < 0)
				ready_fd = -1;
		} else {
			cli_error("%s", err);
		}
		teardown(d);
		return 1;
	}
	detached_ready(ready_fd, "ok");
	daemon_sd_notify("READY=1\nSTATUS=watching");
	run_loop(d);
	daemon_log(d, LOG_INFO, "stopped", "stopped after %llu intervals",
		   (unsigned long long)d->ticks);
	teardown(d);
	return 0;
}
