// SPDX-License-Identifier: GPL-2.0
/*
 * Which probes run: each one the config enables is opened with the
 * config's filters; one that cannot run here (a tracepoint the kernel
 * lacks, no BTF, a load failure) is a note in the log and in `perfagent
 * status`, never a failure of the daemon. An attached probe is pinned, its
 * ring buffer's epoll fd joins the main loop, and every interval its
 * aggregates become metric samples (daemon_metrics.c) and its loss
 * counters feed the loss accounting (daemon_losses.c).
 *
 * Streamed events go to events.jsonl through daemon_events.c, which also
 * bounds what a storm of them can cost.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "blkdev_names.h"
#include "daemon.h"
#include "disk.h"
#include "health_bpf.h"
#include "net.h"
#include "syscall.h"
#include "syscall_names.h"
#include "timeutil.h"
#include "tracefs.h"

/* Aggregates read each interval, kept to avoid reallocating them. */
static struct syscall_totals *sys_totals;	/* [PA_SYSCALL_MAX] */
static struct disk_set disk_rows;
static struct net_totals net_rows;
static struct health_read health_rows;

const char *dprobe_state_name(enum dprobe_state s)
{
	static const char *const n[] = { "disabled", "attached", "unavailable", "detached" };

	return s <= DPROBE_DETACHED ? n[s] : "?";
}

/* ---- opening ---------------------------------------------------------- */

static int open_syscall(struct daemon *d, struct dprobe *p, char *err, size_t len)
{
	const struct config_syscall_probe *c = &d->cfg.probes.syscall;
	struct syscall_probe_opts o = { 0 };
	uint8_t only[PA_SYSCALL_MAX] = { 0 };
	size_t i;
	int ret;

	if (!tracepoint_exists("raw_syscalls", "sys_enter") ||
	    !tracepoint_exists("raw_syscalls", "sys_exit")) {
		snprintf(err, len, "tracepoints raw_syscalls:sys_enter/sys_exit are missing "
			 "(kernel built without CONFIG_FTRACE_SYSCALLS)");
		return -ENOENT;
	}
	o.pid = c->pid;
	o.comm = c->comm && *c->comm ? c->comm : NULL;
	o.cgroup = c->cgroup && *c->cgroup ? c->cgroup : NULL;
	o.slow_ns = c->slow_ns;
	if (c->syscalls.n) {
		for (i = 0; i < c->syscalls.n; i++) {
			int nr = syscall_lookup(c->syscalls.v[i]);

			if (nr >= 0 && nr < PA_SYSCALL_MAX)
				only[nr] = 1;
		}
		o.only_nr = only;
	}
	if (!sys_totals && !(sys_totals = calloc(PA_SYSCALL_MAX, sizeof(*sys_totals))))
		return -ENOMEM;
	ret = syscall_probe_open(&p->p.sys, &o, daemon_on_syscall_event, d, err, len);
	if (ret)
		return ret;
	p->obj = syscall_probe_bpf_object(p->p.sys);
	p->poll_fd = syscall_probe_poll_fd(p->p.sys);
	snprintf(p->mechanism, sizeof(p->mechanism), "%s", syscall_probe_describe(p->p.sys));
	return 0;
}

static int open_disk(struct daemon *d, struct dprobe *p, char *err, size_t len)
{
	const struct config_disk_probe *c = &d->cfg.probes.disk;
	struct disk_probe_opts o = { 0 };
	uint32_t major, minor;
	const char *missing;
	int ret;

	o.slow_ns = c->slow_ns;
	o.rate = c->rate;
	if (c->devices.n == 1) {
		/* One disk: the kernel filters. Several: the daemon does. */
		if (blkdev_resolve_disk(c->devices.v[0], &major, &minor, err, len))
			return -ENODEV;
		o.dev = PA_KDEV(major, minor);
	}
	ret = disk_probe_open(&p->p.disk, &o, daemon_on_disk_event, d, err, len);
	if (ret)
		return ret;
	p->obj = disk_probe_bpf_object(p->p.disk);
	p->poll_fd = disk_probe_poll_fd(p->p.disk);
	snprintf(p->mechanism, sizeof(p->mechanism), "%s", disk_probe_describe(p->p.disk));
	missing = disk_probe_missing(p->p.disk);
	if (missing && *missing)
		snprintf(p->note, sizeof(p->note), "tracepoints missing on this kernel: %s", missing);
	return 0;
}

static int open_net(struct daemon *d, struct dprobe *p, char *err, size_t len)
{
	const struct config_net_probe *c = &d->cfg.probes.net;
	struct net_probe_opts o = { 0 };
	const char *missing;
	int ret;

	o.port = c->port;
	o.rate = c->rate;
	o.stream = NET_DEFAULT_STREAM;
	o.no_iface_traffic = true;	/* the netdev collector has it */
	ret = net_probe_open(&p->p.net, &o, daemon_on_net_event, d, err, len);
	if (ret)
		return ret;
	p->obj = net_probe_bpf_object(p->p.net);
	p->poll_fd = net_probe_poll_fd(p->p.net);
	snprintf(p->mechanism, sizeof(p->mechanism), "%s", net_probe_describe(p->p.net));
	missing = net_probe_missing(p->p.net);
	if (missing && *missing)
		snprintf(p->note, sizeof(p->note), "tracepoints missing on this kernel: %s", missing);
	return 0;
}

/*
 * Device and driver health without the kernel module: block, SCSI, NVMe,
 * AER, MCE errors, TX timeouts, devlink reports, OOM kills, kernel error
 * reports, module loads (whichever tracepoints this kernel has). Under
 * probes.health, with the kernel module's events (daemon_health.c), as
 * `perfagent trace health` shows both. IRQ timing is left off: the daemon
 * has no metric for it, and it runs on every interrupt.
 */
static int open_health(struct daemon *d, struct dprobe *p, char *err, size_t len)
{
	struct health_probe_opts o = { .rate = HEALTH_DEFAULT_RATE, .no_irq = true };
	const struct health_source_info *src;
	size_t pos = 0;
	int ret, i;

	ret = health_probe_open(&p->p.health, &o, daemon_on_health_event, d, err, len);
	if (ret)
		return ret;
	p->obj = health_probe_bpf_object(p->p.health);
	p->poll_fd = health_probe_poll_fd(p->p.health);
	snprintf(p->mechanism, sizeof(p->mechanism), "%s", health_probe_describe(p->p.health));
	src = health_probe_sources(p->p.health);
	for (i = 0; src && i < HEALTH_SRC_COUNT; i++) {
		int n;

		if (src[i].attached || i == HEALTH_SRC_IRQ || i == HEALTH_SRC_SOFTIRQ)
			continue;
		n = snprintf(p->note + pos, sizeof(p->note) - pos, "%s%s",
			     pos ? ", " : "not on this kernel (a note, not an error): ",
			     src[i].tracepoint);
		if (n < 0 || (size_t)n >= sizeof(p->note) - pos)
			break;
		pos += (size_t)n;
	}
	return 0;
}

static bool probe_enabled(const struct config *c, enum dprobe_id id)
{
	switch (id) {
	case DPROBE_SYSCALL: return c->probes.syscall.enabled;
	case DPROBE_DISK: return c->probes.disk.enabled;
	case DPROBE_NET: return c->probes.net.enabled;
	case DPROBE_HEALTH: return c->probes.health.enabled;
	default: return false;
	}
}

static void probe_open(struct daemon *d, enum dprobe_id id)
{
	static int (*const openers[DPROBE_COUNT])(struct daemon *, struct dprobe *, char *,
						    size_t) = { open_syscall, open_disk, open_net,
								open_health };
	struct dprobe *p = &d->probes[id];
	char err[512] = "";
	int ret;

	p->note[0] = p->mechanism[0] = '\0';
	p->obj = NULL;
	p->poll_fd = -1;
	p->p.any = NULL;
	daemon_selfcost_reset(p);
	if (!probe_enabled(&d->cfg, id)) {
		p->state = DPROBE_DISABLED;
		return;
	}
	ret = openers[id](d, p, err, sizeof(err));
	if (ret) {
		p->state = DPROBE_UNAVAILABLE;
		snprintf(p->note, sizeof(p->note), "%s", err[0] ? err : strerror(-ret));
		daemon_log(d, LOG_NOTICE, "probe_unavailable", "%s probe not attached: %s", p->name,
			   p->note);
		return;
	}
	p->state = DPROBE_ATTACHED;
	p->opened_mono = mono_ns();
	daemon_events_open(d, id, p->poll_fd);
	daemon_pin_probe(d, p);
	if (p->note[0])
		daemon_log(d, LOG_NOTICE, "probe_degraded", "%s probe: %s", p->name, p->note);
}

static void probe_close(struct daemon *d, enum dprobe_id id)
{
	struct dprobe *p = &d->probes[id];

	if (!p->p.any)
		return;
	daemon_unpin_probe(d, p);
	daemon_events_close(d, id);
	switch (id) {
	case DPROBE_SYSCALL: syscall_probe_close(p->p.sys); break;
	case DPROBE_DISK: disk_probe_close(p->p.disk); break;
	case DPROBE_NET: net_probe_close(p->p.net); break;
	case DPROBE_HEALTH: health_probe_close(p->p.health); break;
	default: break;
	}
	p->p.any = NULL;
	p->obj = NULL;
	p->poll_fd = -1;
	daemon_selfcost_reset(p);
}

void daemon_probes_open(struct daemon *d)
{
	static const char *const names[DPROBE_COUNT] = { "syscall", "disk", "net", "health" };
	char err[256];
	int i;

	for (i = 0; i < DPROBE_COUNT; i++) {
		d->probes[i].name = names[i];
		d->probes[i].poll_fd = -1;
	}
	/* Tracepoints are looked up in tracefs; mount it if nobody has. */
	if (!tracefs_ensure(err, sizeof(err)))
		daemon_log(d, LOG_NOTICE, "tracefs", "tracefs: %s (tracepoints are looked up in "
			   "BTF instead)", err);
	for (i = 0; i < DPROBE_COUNT; i++)
		probe_open(d, (enum dprobe_id)i);
}

void daemon_probe_detach(struct daemon *d, enum dprobe_id id, const char *why)
{
	struct dprobe *p = &d->probes[id];

	probe_close(d, id);
	p->state = DPROBE_DETACHED;
	snprintf(p->note, sizeof(p->note), "detached: over its CPU budget (%s of a CPU, "
		 "overhead.max_cpu); a reload (SIGHUP) attaches it again", why);
	daemon_log(d, LOG_WARNING, "probe_detached", "%s probe detached: it cost %s of a CPU, "
		   "more than overhead.max_cpu", p->name, why);
}

void daemon_probes_close(struct daemon *d)
{
	int i;

	daemon_probes_drain(d);
	for (i = 0; i < DPROBE_COUNT; i++)
		probe_close(d, (enum dprobe_id)i);
	free(sys_totals);
	sys_totals = NULL;
	disk_set_free(&disk_rows);
	net_totals_free(&net_rows);
	health_read_free(&health_rows);
}

/* ---- reload ----------------------------------------------------------- */

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static bool strings_eq(const struct config_strings *a, const struct config_strings *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return false;
	return true;
}

static bool probe_config_eq(const struct config *a, const struct config *b, enum dprobe_id id)
{
	switch (id) {
	case DPROBE_SYSCALL: {
		const struct config_syscall_probe *x = &a->probes.syscall, *y = &b->probes.syscall;

		return x->enabled == y->enabled && x->pid == y->pid && str_eq(x->comm, y->comm) &&
		       str_eq(x->cgroup, y->cgroup) && strings_eq(&x->syscalls, &y->syscalls) &&
		       x->slow_ns == y->slow_ns;
	}
	case DPROBE_DISK: {
		const struct config_disk_probe *x = &a->probes.disk, *y = &b->probes.disk;

		return x->enabled == y->enabled && strings_eq(&x->devices, &y->devices) &&
		       x->slow_ns == y->slow_ns && x->rate == y->rate;
	}
	case DPROBE_NET: {
		const struct config_net_probe *x = &a->probes.net, *y = &b->probes.net;

		return x->enabled == y->enabled && x->port == y->port && x->rate == y->rate;
	}
	case DPROBE_HEALTH:
		return a->probes.health.enabled == b->probes.health.enabled;
	default:
		return true;
	}
}

/*
 * After a reload: reopen a probe whose options changed, and retry one that
 * was unavailable or detached (a reload is the admin's way to say "try
 * again"). Unchanged attached probes keep running, their counters intact.
 */
void daemon_probes_reconfigure(struct daemon *d, const struct config *old)
{
	int i;

	for (i = 0; i < DPROBE_COUNT; i++) {
		struct dprobe *p = &d->probes[i];

		if (p->state == DPROBE_ATTACHED && probe_config_eq(old, &d->cfg, (enum dprobe_id)i))
			continue;
		if (p->state == DPROBE_DISABLED && !probe_enabled(&d->cfg, (enum dprobe_id)i))
			continue;
		daemon_probes_drain(d);
		probe_close(d, (enum dprobe_id)i);
		probe_open(d, (enum dprobe_id)i);
	}
}

/* ---- each interval ---------------------------------------------------- */

/* Deliver every event already in the buffers (before reading totals). */
void daemon_probes_drain(struct daemon *d)
{
	int i;

	for (i = 0; i < DPROBE_COUNT; i++)
		daemon_events_ready(d, (enum dprobe_id)i);
}

static void set_losses(struct daemon *d, enum loss_stage stage, uint64_t sent, uint64_t lost)
{
	struct loss_counter *c = &d->losses.stage[stage];

	c->sent += sent;
	c->lost += lost;
	c->seen = true;
}

static void detail(struct dprobe *p, const char *name, uint64_t v)
{
	if (p->nlost_detail >= 6)
		return;
	p->lost_detail_names[p->nlost_detail] = name;
	p->lost_detail[p->nlost_detail++] = v;
}

static void read_syscall(struct daemon *d, struct dprobe *p, uint64_t span, uint64_t ts)
{
	struct syscall_losses l;
	int ret = syscall_probe_read(p->p.sys, sys_totals, &l);

	if (ret) {
		daemon_log(d, LOG_WARNING, "probe_read", "syscall probe: read failed: %s",
			   strerror(-ret));
		return;
	}
	daemon_metrics_syscalls(d, sys_totals, span, ts);
	set_losses(d, LOSS_SYSCALL, l.events_sent, l.events_lost);
	detail(p, "events_lost", l.events_lost);
	detail(p, "calls_unmeasured", l.start_lost);
	detail(p, "out_of_range", l.out_of_range);
}

static void read_disk(struct daemon *d, struct dprobe *p, uint64_t span, uint64_t ts)
{
	struct disk_losses l;
	int ret = disk_probe_read(p->p.disk, &disk_rows, &l);

	if (ret) {
		daemon_log(d, LOG_WARNING, "probe_read", "disk probe: read failed: %s",
			   strerror(-ret));
		return;
	}
	daemon_metrics_disks(d, &disk_rows, span, ts);
	set_losses(d, LOSS_DISK, l.events_sent, l.events_lost);
	detail(p, "events_lost", l.events_lost);
	detail(p, "untracked", l.untracked);
	detail(p, "stats_full", l.stats_full);
	detail(p, "rq_full", l.rq_full);
	detail(p, "missed_completions", l.missed_completions);
	detail(p, "completions_unseen", l.completions_unseen);
}

static void read_net(struct daemon *d, struct dprobe *p, uint64_t span, uint64_t ts)
{
	int ret = net_probe_read(p->p.net, &net_rows);
	const struct net_losses *l = &net_rows.losses;

	if (ret) {
		daemon_log(d, LOG_WARNING, "probe_read", "net probe: read failed: %s",
			   strerror(-ret));
		return;
	}
	daemon_metrics_net(d, &net_rows, span, ts);
	set_losses(d, LOSS_NET, l->events_sent, l->events_lost);
	detail(p, "events_lost", l->events_lost);
	detail(p, "iface_overflow", l->iface_overflow);
	detail(p, "conn_overflow", l->conn_overflow);
}

static void read_health(struct daemon *d, struct dprobe *p)
{
	const struct health_losses *l = &health_rows.losses;
	int ret = health_probe_read(p->p.health, &health_rows);

	if (ret) {
		daemon_log(d, LOG_WARNING, "probe_read", "health probe: read failed: %s",
			   strerror(-ret));
		return;
	}
	set_losses(d, LOSS_HEALTH, l->events_sent, l->events_lost);
	detail(p, "events_lost", l->events_lost);
	detail(p, "keys_full", l->keys_full);
}

void daemon_probes_read(struct daemon *d, uint64_t span_ns, uint64_t ts)
{
	int i;

	daemon_probes_drain(d);
	for (i = 0; i < DPROBE_COUNT; i++) {
		struct dprobe *p = &d->probes[i];

		p->nlost_detail = 0;
		p->events_total += p->events_interval;
		p->events_per_s = span_ns ? (double)p->events_interval * 1e9 / (double)span_ns : 0;
		p->events_interval = 0;
		if (p->state != DPROBE_ATTACHED)
			continue;
		switch (i) {
		case DPROBE_SYSCALL: read_syscall(d, p, span_ns, ts); break;
		case DPROBE_DISK: read_disk(d, p, span_ns, ts); break;
		case DPROBE_NET: read_net(d, p, span_ns, ts); break;
		case DPROBE_HEALTH: read_health(d, p); break;
		}
	}
	daemon_events_tick(d);
}
