// SPDX-License-Identifier: GPL-2.0
/*
 * Health events from the perfagent kernel module (agent/health_netlink.h):
 * devices and drivers coming and going, probe failures, links, modules,
 * oopses. Each goes to events.jsonl ("type":"health"); a driver probe
 * failure and an oops are also raised as health alerts; the interval's
 * counts become health.events_per_s{kind=...}.
 *
 * The module is optional. Without it the daemon runs all the same, says
 * so once (log and `perfagent status`), and tries to connect again every
 * 30 s, so loading the module later needs no restart.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>

#include "daemon.h"
#include "health_decode.h"
#include "health_netlink.h"
#include "logwriter.h"
#include "timeutil.h"

#define RETRY_NS	(30ULL * 1000000000ULL)

#define NKINDS	(PA_EV_MAX + 1)

_Static_assert(NKINDS <= sizeof(((struct daemon_health *)0)->per_kind) / sizeof(uint64_t),
	       "daemon_health.per_kind must hold every event code");

static const char *kind_name(uint32_t code)
{
	const char *name = health_kmod_event_name(code);

	return name ? name : "unknown";
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
}

/* Warnings and worse, with the severities `perfagent trace health` gives
 * them (a probe failure an error, a lost carrier a warning, an oops
 * critical), as health alerts.
 */
static void alert(struct daemon *d, const struct health_event *ev)
{
	enum health_severity sev = health_kmod_severity(ev->code, ev->has_error);
	const char *subject = ev->netdev[0] ? ev->netdev : ev->device[0] ? ev->device : ev->module;
	struct metric_label l[1] = { { "subject", subject } };
	char rule[64], msg[512];

	if (sev < HEALTH_SEV_WARNING)
		return;
	snprintf(rule, sizeof(rule), "kmod.%s", kind_name(ev->code));
	if (ev->code == PA_EV_DIE)
		snprintf(msg, sizeof(msg), "kernel oops: %s", ev->detail);
	else
		snprintf(msg, sizeof(msg), "%s: %s%s%s%s%s", subject, kind_name(ev->code),
			 ev->driver[0] ? " (driver " : "", ev->driver, ev->driver[0] ? ")" : "",
			 ev->has_error ? ", error" : "");
	daemon_alert_event(d, ALERT_HEALTH, sev >= HEALTH_SEV_ERROR ? ALERT_CRITICAL : ALERT_WARNING,
			   rule, msg, l, subject[0] ? 1 : 0);
}

static void on_event(void *ctx, const struct health_event *ev)
{
	struct daemon *d = ctx;
	struct daemon_health *h = &d->health;
	cJSON *o = cJSON_CreateObject();
	char inst[24];

	h->events_interval++;
	if (ev->code < NKINDS) {
		h->per_kind[ev->code]++;
		h->kind_seen[ev->code] = true;
	}
	if (o) {
		cJSON_AddStringToObject(o, "type", "health");
		cJSON_AddStringToObject(o, "event", kind_name(ev->code));
		cJSON_AddNumberToObject(o, "code", ev->code);
		cJSON_AddStringToObject(o, "source", ev->source ? ev->source : "kmod");
		cJSON_AddNumberToObject(o, "event_seq", (double)ev->seq);
		snprintf(inst, sizeof(inst), "%016" PRIx64, ev->instance);
		cJSON_AddStringToObject(o, "instance", inst);
		cJSON_AddBoolToObject(o, "backlog", ev->from_backlog);
		add_str(o, "bus", ev->bus);
		add_str(o, "device", ev->device);
		add_str(o, "driver", ev->driver);
		add_str(o, "device_id", ev->device_id);
		add_str(o, "netdev", ev->netdev);
		add_str(o, "module", ev->module);
		add_str(o, "detail", ev->detail);
		if (ev->has_ifindex)
			cJSON_AddNumberToObject(o, "ifindex", ev->ifindex);
		if (ev->has_mtu) {
			cJSON_AddNumberToObject(o, "mtu", ev->mtu);
			cJSON_AddNumberToObject(o, "old_mtu", ev->old_mtu);
		}
		if (ev->has_taint)
			cJSON_AddNumberToObject(o, "taint", (double)ev->taint);
		if (ev->has_error)
			cJSON_AddNumberToObject(o, "error", ev->error);
		daemon_write_json(d, LOG_EVENTS, ev->real_ns, o);
	}
	if (!ev->from_backlog)
		alert(d, ev);
}

static void on_notice(void *ctx, const char *msg)
{
	daemon_log(ctx, LOG_NOTICE, "kmod", "kernel module: %s", msg);
}

void daemon_health_open(struct daemon *d, bool quiet)
{
	struct daemon_health *h = &d->health;
	char err[320] = "";
	int ret;

	h->next_try_mono = mono_ns() + RETRY_NS;
	if (!d->cfg.probes.health.enabled) {
		snprintf(h->note, sizeof(h->note), "disabled in the config (probes.health)");
		return;
	}
	ret = health_nl_open(&h->nl, on_event, on_notice, d, err, sizeof(err));
	if (ret) {
		h->nl = NULL;
		h->connected = false;
		if (!quiet || strcmp(h->note, err))
			daemon_log(d, LOG_NOTICE, "kmod", "no health events from the kernel module: "
				   "%s (the BPF probes and collectors work without it; retried "
				   "every 30s)", err);
		snprintf(h->note, sizeof(h->note), "%s", err);
		return;
	}
	h->connected = true;
	h->note[0] = '\0';
	d->losses.health_delivered_prev = d->losses.health_lost_prev = 0;
	{
		struct epoll_event ev = { .events = EPOLLIN,
					  .data.u64 = DAEMON_EV(DAEMON_EV_HEALTH, 0) };

		epoll_ctl(d->epfd, EPOLL_CTL_ADD, health_nl_fd(h->nl), &ev);
	}
	daemon_log(d, LOG_INFO, "kmod", "connected to the perfagent kernel module");
}

void daemon_health_close(struct daemon *d)
{
	if (d->health.nl) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, health_nl_fd(d->health.nl), NULL);
		health_nl_close(d->health.nl);
	}
	d->health.nl = NULL;
	d->health.connected = false;
}

void daemon_health_dispatch(struct daemon *d)
{
	char err[256];

	if (!d->health.nl)
		return;
	if (health_nl_dispatch(d->health.nl, err, sizeof(err)) < 0)
		daemon_log(d, LOG_WARNING, "kmod", "kernel module events: %s", err);
	d->health.connected = health_nl_connected(d->health.nl);
}

/* Once per interval: counts to samples, losses, and a retry when apart. */
void daemon_health_tick(struct daemon *d, uint64_t span_ns, uint64_t ts)
{
	struct daemon_health *h = &d->health;
	struct daemon_losses *l = &d->losses;
	struct health_stats st;
	unsigned int k;

	if (!h->nl && d->cfg.probes.health.enabled && mono_ns() >= h->next_try_mono)
		daemon_health_open(d, true);
	daemon_health_dispatch(d);
	h->events_total += h->events_interval;
	h->events_interval = 0;
	for (k = 0; k < NKINDS; k++) {
		if (!h->kind_seen[k])
			continue;
		daemon_add_sample(d, "health.events_per_s",
				  span_ns ? (double)h->per_kind[k] * 1e9 / (double)span_ns : 0, ts,
				  "kind", kind_name(k), NULL);
		h->per_kind[k] = 0;
	}
	/* The health probe's events, by their kind ("block_error", "oom_kill"). */
	for (k = 0; k < sizeof(h->bpf_kind) / sizeof(h->bpf_kind[0]); k++) {
		char name[32];

		if (!h->bpf_kind_seen[k])
			continue;
		daemon_add_sample(d, "health.events_per_s",
				  span_ns ? (double)h->bpf_kind[k] * 1e9 / (double)span_ns : 0, ts,
				  "kind", health_kind_name(k, name, sizeof(name)), NULL);
		h->bpf_kind[k] = 0;
	}
	if (!h->nl)
		return;
	health_nl_stats(h->nl, &st);
	l->stage[LOSS_KMOD].sent += st.delivered - l->health_delivered_prev;
	l->stage[LOSS_KMOD].lost += st.lost - l->health_lost_prev;
	l->stage[LOSS_KMOD].seen = true;
	l->health_delivered_prev = st.delivered;
	l->health_lost_prev = st.lost;
}
