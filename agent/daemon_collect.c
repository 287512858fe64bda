// SPDX-License-Identifier: GPL-2.0
/*
 * The system collectors (agent/collector.h) the config enables, run once
 * per interval. Their samples join the interval's batch, filtered as the
 * config asks (per-CPU series, mount points, interfaces); their events go
 * to events.jsonl, and those of severity warning or worse (a new kernel
 * taint, a crash record of a previous boot) are also raised as health
 * alerts; their errors are logged once each (a broken file is not
 * repeated every interval, only when the message changes or hourly).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "collector.h"
#include "daemon.h"
#include "logwriter.h"
#include "timeutil.h"

#define ERROR_REPEAT_NS	(3600ULL * 1000000000ULL)

static bool collector_enabled(const struct config *c, const char *name)
{
	const struct config_collectors *k = &c->collectors;

	if (!strcmp(name, "cpu")) return k->cpu;
	if (!strcmp(name, "mem")) return k->mem;
	if (!strcmp(name, "psi")) return k->psi;
	if (!strcmp(name, "load")) return k->load;
	if (!strcmp(name, "limits")) return k->limits;
	if (!strcmp(name, "fs")) return k->fs;
	if (!strcmp(name, "netdev")) return k->netdev;
	if (!strcmp(name, "taint")) return k->taint;
	if (!strcmp(name, "pstore")) return k->pstore;
	return false;
}

static void open_one(struct daemon *d, struct daemon_collector *dc)
{
	struct collector_opts o = { .root = "/", .state_dir = d->cfg.daemon.state_dir };
	char err[256];

	dc->note[0] = '\0';
	if (collector_open(&dc->c, dc->name, &o, err, sizeof(err))) {
		dc->c = NULL;
		snprintf(dc->note, sizeof(dc->note), "%s", err);
		daemon_log(d, LOG_NOTICE, "collector_unavailable", "collector %s not started: %s",
			   dc->name, err);
	}
}

void daemon_collectors_open(struct daemon *d)
{
	size_t n = 0, i;

	while (collector_names[n])
		n++;
	d->collectors = calloc(n, sizeof(*d->collectors));
	if (!d->collectors)
		return;
	d->ncollectors = n;
	for (i = 0; i < n; i++) {
		d->collectors[i].name = collector_names[i];
		if (collector_enabled(&d->cfg, collector_names[i]))
			open_one(d, &d->collectors[i]);
	}
}

/* Filters are applied per sample, so only turning one on or off matters. */
void daemon_collectors_reconfigure(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->ncollectors; i++) {
		struct daemon_collector *dc = &d->collectors[i];
		bool want = collector_enabled(&d->cfg, dc->name);

		if (want && !dc->c)
			open_one(d, dc);
		else if (!want && dc->c) {
			collector_close(dc->c);
			dc->c = NULL;
			dc->note[0] = '\0';
		}
	}
}

void daemon_collectors_close(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->ncollectors; i++)
		collector_close(d->collectors[i].c);
	free(d->collectors);
	d->collectors = NULL;
	d->ncollectors = 0;
}

static bool glob_any(const struct config_strings *l, const char *v)
{
	size_t i;

	if (!l->n)
		return true;
	for (i = 0; v && i < l->n; i++)
		if (!fnmatch(l->v[i], v, 0))
			return true;
	return false;
}

static bool sample_wanted(const struct config *c, const struct metric_sample *s)
{
	const char *v;

	if (!strncmp(s->name, "cpu.", 4) && !c->collectors.cpu_per_cpu) {
		v = metric_sample_label(s, "cpu");
		if (v && strcmp(v, "total"))
			return false;
	}
	if (!strncmp(s->name, "fs.", 3))
		return glob_any(&c->collectors.fs_mountpoints, metric_sample_label(s, "mountpoint"));
	if (!strncmp(s->name, "netdev.", 7))
		return glob_any(&c->collectors.netdev_interfaces,
				metric_sample_label(s, "interface"));
	return true;
}

static void on_sample(void *ctx, const struct metric_sample *s)
{
	struct daemon *d = ctx;

	if (sample_wanted(&d->cfg, s))
		metric_batch_add(&d->batch, s);
}

static void on_event(void *ctx, const struct collect_event *e)
{
	struct daemon *d = ctx;
	cJSON *o = cJSON_CreateObject(), *l;
	unsigned int i;

	if (o && cJSON_AddStringToObject(o, "type", e->kind) &&
	    cJSON_AddStringToObject(o, "severity", alert_severity_name(e->severity)) &&
	    cJSON_AddStringToObject(o, "message", e->message) &&
	    (l = cJSON_AddObjectToObject(o, "labels"))) {
		for (i = 0; i < e->nlabels; i++)
			cJSON_AddStringToObject(l, e->labels[i].name, e->labels[i].value);
		daemon_write_json(d, LOG_EVENTS, 0, o);
	} else {
		cJSON_Delete(o);
	}
	if (e->severity >= ALERT_WARNING)
		daemon_alert_event(d, ALERT_HEALTH, e->severity, e->kind, e->message, e->labels,
				   e->nlabels);
}

/* The collector being run: its errors are counted and deduplicated there. */
static struct daemon_collector *current;

static void on_error(void *ctx, const char *collector, const char *msg)
{
	struct daemon *d = ctx;
	struct daemon_collector *dc = current;
	uint64_t now = mono_ns();

	if (!dc)
		return;
	dc->errors++;
	if (!strcmp(dc->last_error, msg) && now - dc->last_error_mono < ERROR_REPEAT_NS)
		return;
	snprintf(dc->last_error, sizeof(dc->last_error), "%s", msg);
	dc->last_error_mono = now;
	daemon_log(d, LOG_WARNING, "collector_error", "collector %s: %s", collector, msg);
}

void daemon_collectors_run(struct daemon *d, uint64_t span_ns)
{
	struct collect_sink sink = { on_sample, on_event, on_error, d };
	size_t i;

	for (i = 0; i < d->ncollectors; i++) {
		const char *why;

		if (!d->collectors[i].c)
			continue;
		current = &d->collectors[i];
		collector_collect(d->collectors[i].c, span_ns, &sink);
		current = NULL;
		why = collector_unavailable(d->collectors[i].c);
		snprintf(d->collectors[i].note, sizeof(d->collectors[i].note), "%s",
			 why ? why : "");
	}
}
