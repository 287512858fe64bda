// SPDX-License-Identifier: GPL-2.0
/*
 * Streamed events (slow syscalls, slow or failed I/O, retransmits, resets,
 * drops) -> events.jsonl, in the same JSON as `perfagent trace ... --json`
 * prints them, with a budget: at most DAEMON_EVENTS_PER_S per probe per
 * second of interval.
 *
 * Why a budget: an event storm (a slow threshold of 1ns, a flood of
 * drops) must not take the daemon over. libbpf's ring_buffer__poll() keeps
 * consuming while the producer keeps producing, which in a storm means
 * never returning to the interval timer. So the daemon consumes the probes'
 * ring buffers itself (its own struct ring_buffer on the probe's events
 * map; the probe's own consumer is never polled): the callback stops the
 * consumption once the interval's budget is spent, and the buffer's fd
 * leaves the epoll set until the next interval. Meanwhile the kernel drops
 * what no longer fits and counts it (events_lost), which the loss
 * accounting reports: the storm costs the machine a bounded amount of CPU
 * and is visible, never silent.
 *
 * Kernels without BPF ring buffers (perf buffer fallback, before 5.8) use
 * the probe's own unbounded poll.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>

#include "blkdev_names.h"
#include "daemon.h"
#include "disk.h"
#include "disk_report.h"
#include "health_bpf.h"
#include "health_decode.h"
#include "logwriter.h"
#include "net.h"
#include "net_report.h"
#include "syscall.h"
#include "syscall_report.h"
#include "timeutil.h"

static const char *const map_names[DPROBE_COUNT] = {
	"sys_events", "disk_events", "net_events", "health_events",
};
static const size_t event_sizes[DPROBE_COUNT] = {
	sizeof(struct pa_syscall_event), sizeof(struct pa_disk_event), sizeof(struct pa_net_event),
	sizeof(struct pa_health_event),
};

/* ---- events to events.jsonl ------------------------------------------ */

/* The JSON object a report function printed into buf, to events.jsonl. */
static void write_captured(struct daemon *d, FILE *f, char *buf, size_t size, uint64_t ts_rt)
{
	long n;

	if (!f)
		return;
	fflush(f);
	n = ftell(f);
	fclose(f);
	if (n <= 0 || (size_t)n >= size)
		return;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	if (d->lw)
		logwriter_write(d->lw, LOG_EVENTS, ts_rt, buf, (size_t)n);
}

static void syscall_event(struct daemon *d, const struct pa_syscall_event *e)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (f)
		syscall_report_event_json(f, e);
	write_captured(d, f, buf, sizeof(buf), mono_to_realtime_ns(e->ts_ns));
}

static bool disk_wanted(struct daemon *d, uint32_t dev)
{
	const struct config_strings *l = &d->cfg.probes.disk.devices;
	char name[64];
	size_t i;

	/* One disk is filtered in the kernel; several, here. */
	if (l->n <= 1)
		return true;
	blkdev_name(PA_KDEV_MAJOR(dev), PA_KDEV_MINOR(dev), name, sizeof(name));
	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], name))
			return true;
	return false;
}

static void disk_event(struct daemon *d, const struct pa_disk_event *e)
{
	char buf[2048];
	FILE *f;

	if (!disk_wanted(d, e->dev))
		return;
	f = fmemopen(buf, sizeof(buf), "w");
	if (f)
		disk_report_event_json(f, e);
	write_captured(d, f, buf, sizeof(buf), mono_to_realtime_ns(e->ts_ns));
}

static void net_event(struct daemon *d, const struct pa_net_event *e)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (f)
		net_report_event_json(f, e);
	write_captured(d, f, buf, sizeof(buf), mono_to_realtime_ns(e->ts_ns));
}

/*
 * A device error, an OOM kill, a machine check: to events.jsonl as `trace
 * health --json` prints it, counted by kind, and raised as a health alert
 * from severity warning up (once per kind and device within the alert
 * cooldown, see daemon_alert_event).
 */
static void health_event(struct daemon *d, const struct pa_health_event *e)
{
	cJSON *o = health_event_json(e);
	struct health_view v;
	char rule[64];

	if (e->kind < sizeof(d->health.bpf_kind) / sizeof(d->health.bpf_kind[0])) {
		d->health.bpf_kind[e->kind]++;
		d->health.bpf_kind_seen[e->kind] = true;
	}
	daemon_write_json(d, LOG_EVENTS, mono_to_realtime_ns(e->ts_ns), o);
	health_event_view(e, &v);
	if (v.severity >= HEALTH_SEV_WARNING) {
		struct metric_label l[1] = { { "subject", v.subject } };
		char msg[600];

		snprintf(rule, sizeof(rule), "health.%s", v.type);
		snprintf(msg, sizeof(msg), "%s: %s", v.subject, v.text);
		daemon_alert_event(d, ALERT_HEALTH, v.severity >= HEALTH_SEV_ERROR ? ALERT_CRITICAL
				   : ALERT_WARNING, rule, msg, l, v.subject[0] ? 1 : 0);
	}
}

static void dispatch(struct daemon *d, enum dprobe_id id, const void *data)
{
	d->probes[id].events_interval++;
	switch (id) {
	case DPROBE_SYSCALL: syscall_event(d, data); break;
	case DPROBE_DISK: disk_event(d, data); break;
	case DPROBE_NET: net_event(d, data); break;
	case DPROBE_HEALTH: health_event(d, data); break;
	default: break;
	}
}

/* The probes' own callbacks (perf buffer fallback). */
void daemon_on_syscall_event(void *ctx, const struct pa_syscall_event *e)
{
	dispatch(ctx, DPROBE_SYSCALL, e);
}

void daemon_on_disk_event(void *ctx, const struct pa_disk_event *e)
{
	dispatch(ctx, DPROBE_DISK, e);
}

void daemon_on_net_event(void *ctx, const struct pa_net_event *e)
{
	dispatch(ctx, DPROBE_NET, e);
}

void daemon_on_health_event(void *ctx, const struct pa_health_event *e)
{
	dispatch(ctx, DPROBE_HEALTH, e);
}

/* ---- the bounded consumer --------------------------------------------- */

struct consumer {
	struct daemon *d;
	enum dprobe_id id;
};

static struct consumer consumers[DPROBE_COUNT];

static uint64_t budget(const struct daemon *d)
{
	uint64_t b = DAEMON_EVENTS_PER_S * d->cfg.interval_ns / 1000000000ULL;

	return b < 100 ? 100 : b;
}

static int ring_sample(void *ctx, void *data, size_t size)
{
	struct consumer *c = ctx;
	struct dprobe *p = &c->d->probes[c->id];

	if (size >= event_sizes[c->id])
		dispatch(c->d, c->id, data);
	/* Negative: libbpf stops here (this record is consumed). */
	return ++p->budget_used >= budget(c->d) ? -E2BIG : 0;
}

static void arm(struct daemon *d, struct dprobe *p, enum dprobe_id id, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = DAEMON_EV(DAEMON_EV_PROBE, id) };

	if (p->poll_fd < 0 || p->armed == on)
		return;
	epoll_ctl(d->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, p->poll_fd, on ? &ev : NULL);
	p->armed = on;
}

/* After the probe is open: our consumer on its events map, or its own. */
void daemon_events_open(struct daemon *d, enum dprobe_id id, int probe_fd)
{
	struct dprobe *p = &d->probes[id];
	struct bpf_map *map = bpf_object__find_map_by_name(p->obj, map_names[id]);

	p->rb = NULL;
	p->poll_fd = probe_fd;
	p->budget_used = 0;
	p->armed = false;
	if (map && bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF && bpf_map__fd(map) >= 0) {
		consumers[id] = (struct consumer){ d, id };
		p->rb = ring_buffer__new(bpf_map__fd(map), ring_sample, &consumers[id], NULL);
		if (p->rb)
			p->poll_fd = ring_buffer__epoll_fd(p->rb);
	}
	arm(d, p, id, true);
}

void daemon_events_close(struct daemon *d, enum dprobe_id id)
{
	struct dprobe *p = &d->probes[id];

	arm(d, p, id, false);
	ring_buffer__free(p->rb);
	p->rb = NULL;
	p->poll_fd = -1;
}

/* The fd is readable (or the interval wants what is there). */
void daemon_events_ready(struct daemon *d, enum dprobe_id id)
{
	struct dprobe *p = &d->probes[id];

	if (p->state != DPROBE_ATTACHED)
		return;
	if (!p->rb) {
		switch (id) {
		case DPROBE_SYSCALL: syscall_probe_poll(p->p.sys, 0); break;
		case DPROBE_DISK: disk_probe_poll(p->p.disk, 0); break;
		case DPROBE_NET: net_probe_poll(p->p.net, 0); break;
		case DPROBE_HEALTH: health_probe_poll(p->p.health, 0); break;
		default: break;
		}
		return;
	}
	if (p->budget_used >= budget(d))
		return;
	if (ring_buffer__consume(p->rb) == -E2BIG) {
		/* Spent: leave the rest to the kernel's buffer until the next
		 * interval, and stop waking up for it.
		 */
		p->budget_stops++;
		arm(d, p, id, false);
	}
}

/* Each interval, after the totals are read: a fresh budget. */
void daemon_events_tick(struct daemon *d)
{
	int i;

	for (i = 0; i < DPROBE_COUNT; i++) {
		struct dprobe *p = &d->probes[i];

		p->budget_used = 0;
		if (p->state == DPROBE_ATTACHED)
			arm(d, p, (enum dprobe_id)i, true);
	}
}
