// SPDX-License-Identifier: GPL-2.0
/*
 * The answer to `perfagent status`: what the daemon runs and how it is
 * doing, as one JSON object (docs/daemon.md lists the members; `perfagent
 * status` prints it for a person, `--json` as is).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alert_exec.h"
#include "collector.h"
#include "daemon.h"
#include "journal.h"
#include "logwriter.h"
#include "timeutil.h"

static void add_time(cJSON *o, const char *key, uint64_t rt)
{
	char buf[40];

	cJSON_AddStringToObject(o, key, format_iso8601(rt, buf, sizeof(buf)));
}

static void add_config(struct daemon *d, cJSON *root)
{
	cJSON *c = cJSON_AddObjectToObject(root, "config");
	char iv[32];

	if (!c)
		return;
	if (d->config_path)
		cJSON_AddStringToObject(c, "file", d->config_path);
	else
		cJSON_AddNullToObject(c, "file");
	cJSON_AddBoolToObject(c, "builtin", d->config_path == NULL);
	add_time(c, "loaded", d->config_loaded_rt);
	cJSON_AddStringToObject(c, "interval",
				config_format_duration(d->cfg.interval_ns, iv, sizeof(iv)));
	cJSON_AddNumberToObject(c, "rules", (double)d->nrules);
	cJSON_AddNumberToObject(c, "reloads", (double)d->reloads);
	cJSON_AddNumberToObject(c, "reload_failures", (double)d->reload_failures);
	if (d->reload_error[0])
		cJSON_AddStringToObject(c, "last_reload_error", d->reload_error);
}

static void add_probe(struct daemon *d, cJSON *arr, const struct dprobe *p, enum loss_stage s)
{
	cJSON *o = cJSON_CreateObject(), *progs;
	const struct loss_counter *l = &d->losses.stage[s];
	char dir[128];
	unsigned int i;

	if (!o)
		return;
	cJSON_AddItemToArray(arr, o);
	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "state", dprobe_state_name(p->state));
	cJSON_AddBoolToObject(o, "attached", p->state == DPROBE_ATTACHED);
	if (p->mechanism[0])
		cJSON_AddStringToObject(o, "mechanism", p->mechanism);
	if (p->note[0])
		cJSON_AddStringToObject(o, "note", p->note);
	if (p->pinned) {
		snprintf(dir, sizeof(dir), "%s/%s", DAEMON_PIN_ROOT, p->name);
		cJSON_AddStringToObject(o, "pinned", dir);
	}
	cJSON_AddNumberToObject(o, "events_per_s", p->events_per_s);
	cJSON_AddNumberToObject(o, "events", (double)p->events_total);
	cJSON_AddNumberToObject(o, "events_lost", (double)l->lost_total);
	/* Intervals in which the event budget ran out (the rest was left to
	 * the kernel's buffer, which counts what it then had to drop).
	 */
	cJSON_AddNumberToObject(o, "event_budget_exhausted", (double)p->budget_stops);
	if (p->state != DPROBE_ATTACHED)
		return;
	add_time(o, "attached_since", mono_to_realtime_ns(p->opened_mono));
	cJSON_AddNumberToObject(o, "run_count", (double)p->run_cnt);
	cJSON_AddNumberToObject(o, "run_time_ns", (double)p->run_time_ns);
	cJSON_AddNumberToObject(o, "cpu_ratio", p->cpu_ratio);
	progs = cJSON_AddArrayToObject(o, "programs");
	for (i = 0; progs && i < p->nprogs; i++) {
		cJSON *g = cJSON_CreateObject();

		if (!g)
			break;
		cJSON_AddStringToObject(g, "name", p->progs[i].name);
		cJSON_AddNumberToObject(g, "id", p->progs[i].id);
		cJSON_AddNumberToObject(g, "run_count", (double)p->progs[i].run_cnt);
		cJSON_AddNumberToObject(g, "run_time_ns", (double)p->progs[i].run_time_ns);
		cJSON_AddItemToArray(progs, g);
	}
}

static void add_events(struct daemon *d, cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, "events"), *st;
	double per_s = 0, total = 0;
	uint64_t lost = 0;
	int i;

	if (!o)
		return;
	for (i = 0; i < DPROBE_COUNT; i++) {
		per_s += d->probes[i].events_per_s;
		total += (double)d->probes[i].events_total;
	}
	total += (double)d->health.events_total;
	for (i = 0; i < LOSS_STAGES; i++)
		lost += d->losses.stage[i].lost_total;
	cJSON_AddNumberToObject(o, "per_s", per_s);
	cJSON_AddNumberToObject(o, "total", total);
	cJSON_AddNumberToObject(o, "lost", (double)lost);
	cJSON_AddNumberToObject(o, "gap_records", (double)d->losses.gap_records);
	st = cJSON_AddObjectToObject(o, "stages");
	for (i = 0; st && i < LOSS_STAGES; i++) {
		const struct loss_counter *c = &d->losses.stage[i];
		cJSON *s;

		if (!c->seen)
			continue;
		s = cJSON_AddObjectToObject(st, loss_stage_name((enum loss_stage)i));
		if (!s)
			continue;
		cJSON_AddNumberToObject(s, "sent", (double)c->sent_total);
		cJSON_AddNumberToObject(s, "lost", (double)c->lost_total);
	}
}

static void add_kmod(struct daemon *d, cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, "kernel_module");

	if (!o)
		return;
	cJSON_AddBoolToObject(o, "connected", d->health.connected);
	cJSON_AddNumberToObject(o, "events", (double)d->health.events_total);
	if (d->health.note[0])
		cJSON_AddStringToObject(o, "note", d->health.note);
}

static void add_collectors(struct daemon *d, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "collectors");
	size_t i;

	for (i = 0; arr && i < d->ncollectors; i++) {
		const struct daemon_collector *c = &d->collectors[i];
		cJSON *o = cJSON_CreateObject();

		if (!o)
			return;
		cJSON_AddStringToObject(o, "name", c->name);
		cJSON_AddStringToObject(o, "state", !c->c ? (c->note[0] ? "unavailable" : "disabled")
					: c->note[0] ? "unavailable" : "running");
		if (c->note[0])
			cJSON_AddStringToObject(o, "note", c->note);
		cJSON_AddNumberToObject(o, "errors", (double)c->errors);
		cJSON_AddItemToArray(arr, o);
	}
}

static void add_logs(struct daemon *d, cJSON *root)
{
	cJSON *o = cJSON_AddObjectToObject(root, "logs"), *files;
	char path[512];
	int s;

	if (!o)
		return;
	cJSON_AddStringToObject(o, "dir", d->cfg.logs.dir);
	files = cJSON_AddArrayToObject(o, "files");
	for (s = 0; d->lw && files && s < LOG_STREAMS; s++) {
		struct logwriter_stats st;
		cJSON *f = cJSON_CreateObject();

		if (!f)
			return;
		logwriter_get_stats(d->lw, (enum log_stream)s, &st);
		snprintf(path, sizeof(path), "%s/%s.jsonl", d->cfg.logs.dir,
			 log_stream_name((enum log_stream)s));
		cJSON_AddStringToObject(f, "stream", log_stream_name((enum log_stream)s));
		cJSON_AddStringToObject(f, "file", path);
		cJSON_AddNumberToObject(f, "bytes", (double)st.file_bytes);
		cJSON_AddNumberToObject(f, "rotated_files", (double)st.rotated_files);
		cJSON_AddNumberToObject(f, "rotated_bytes", (double)st.rotated_bytes);
		cJSON_AddNumberToObject(f, "next_seq", (double)st.next_seq);
		cJSON_AddNumberToObject(f, "lines_written", (double)st.lines_written);
		cJSON_AddNumberToObject(f, "lines_dropped", (double)st.lines_dropped);
		cJSON_AddNumberToObject(f, "rotations", (double)st.rotations);
		cJSON_AddNumberToObject(f, "compress_failures", (double)st.compress_failures);
		cJSON_AddItemToArray(files, f);
	}
}

static void add_sinks(struct daemon *d, cJSON *root)
{
	cJSON *o;

	o = cJSON_AddObjectToObject(root, "journal");
	if (o) {
		cJSON_AddBoolToObject(o, "enabled", d->journal != NULL);
		if (d->journal) {
			struct journal_stats st;

			journal_get_stats(d->journal, &st);
			cJSON_AddStringToObject(o, "socket", d->cfg.journald.socket);
			cJSON_AddNumberToObject(o, "sent", (double)(st.sent + st.sent_memfd));
			cJSON_AddNumberToObject(o, "sent_syslog", (double)st.sent_syslog);
			cJSON_AddNumberToObject(o, "failed", (double)st.failed);
		}
	}
	o = cJSON_AddObjectToObject(root, "alert_command");
	if (o) {
		cJSON_AddBoolToObject(o, "enabled", d->aexec != NULL);
		if (d->aexec) {
			struct alert_exec_stats st;

			alert_exec_get_stats(d->aexec, &st);
			cJSON_AddNumberToObject(o, "started", (double)st.started);
			cJSON_AddNumberToObject(o, "failed", (double)st.failed);
			cJSON_AddNumberToObject(o, "timed_out", (double)st.timed_out);
			cJSON_AddNumberToObject(o, "skipped", (double)st.skipped);
		}
	}
	o = cJSON_AddObjectToObject(root, "alerts");
	if (o) {
		cJSON_AddNumberToObject(o, "firing", (double)d->alerts_firing_total);
		cJSON_AddNumberToObject(o, "resolved", (double)d->alerts_resolved_total);
	}
}

/* ---- rules and their states ------------------------------------------ */

struct rules_ctx {
	struct daemon *d;
	cJSON **states;		/* per rule: its "states" array */
};

static void on_state(void *ctx, const struct rule_state_info *i)
{
	struct rules_ctx *x = ctx;
	cJSON *o;
	size_t r;

	for (r = 0; r < x->d->nrules; r++)
		if (!strcmp(x->d->rules[r].name, i->rule))
			break;
	if (r == x->d->nrules || !x->states[r] || !(o = cJSON_CreateObject()))
		return;
	cJSON_AddStringToObject(o, "series", i->series);
	cJSON_AddStringToObject(o, "state", i->firing ? "firing" : "ok");
	if (i->firing) {
		cJSON_AddStringToObject(o, "severity", alert_severity_name(i->severity));
		cJSON_AddBoolToObject(o, "announced", i->announced);
		add_time(o, "since", mono_to_realtime_ns(i->since_ns));
	}
	if (!isnan(i->value)) {
		char buf[48];

		cJSON_AddNumberToObject(o, "value", i->value);
		cJSON_AddStringToObject(o, "value_text",
					rule_format_value(&x->d->rules[r], i->value, buf, sizeof(buf)));
	}
	cJSON_AddItemToArray(x->states[r], o);
}

static void add_rules(struct daemon *d, cJSON *root)
{
	cJSON *arr = cJSON_AddArrayToObject(root, "rules"), *states[d->nrules ? d->nrules : 1];
	struct rules_ctx x = { d, states };
	char sel[512];
	size_t r;

	for (r = 0; r < d->nrules; r++) {
		cJSON *o = arr ? cJSON_CreateObject() : NULL;

		states[r] = NULL;
		if (!o)
			continue;
		cJSON_AddItemToArray(arr, o);
		cJSON_AddStringToObject(o, "name", d->rules[r].name);
		cJSON_AddStringToObject(o, "type", rule_type_name(d->rules[r].type));
		cJSON_AddStringToObject(o, "metric",
					metric_selector_format(&d->rules[r].sel, sel, sizeof(sel)));
		states[r] = cJSON_AddArrayToObject(o, "states");
	}
	if (d->engine)
		rules_engine_foreach(d->engine, on_state, &x);
	/* Summary: the worst state per rule, for a quick look. */
	for (r = 0; r < d->nrules; r++) {
		cJSON *o = cJSON_GetArrayItem(arr, (int)r), *s;
		const char *worst = "ok";
		int sev = -1;

		if (!o || !states[r])
			continue;
		cJSON_ArrayForEach(s, states[r]) {
			const cJSON *st = cJSON_GetObjectItem(s, "state");
			const cJSON *sv = cJSON_GetObjectItem(s, "severity");
			enum alert_severity v;

			if (!cJSON_IsString(st) || strcmp(st->valuestring, "firing") || !cJSON_IsString(sv) ||
			    alert_severity_parse(sv->valuestring, &v))
				continue;
			if ((int)v > sev) {
				sev = (int)v;
				worst = sv->valuestring;
			}
		}
		cJSON_AddStringToObject(o, "state", sev < 0 ? (cJSON_GetArraySize(states[r]) ? "ok"
							      : "no data") : "firing");
		if (sev >= 0)
			cJSON_AddStringToObject(o, "severity", worst);
	}
}

cJSON *daemon_status_json(struct daemon *d)
{
	cJSON *root = cJSON_CreateObject(), *probes, *agent;
	uint64_t now = mono_ns();
	int i;

	if (!root)
		return NULL;
	cJSON_AddStringToObject(root, "version", PERFAGENT_VERSION);
	cJSON_AddNumberToObject(root, "pid", getpid());
	cJSON_AddStringToObject(root, "host", d->host);
	add_time(root, "started", d->start_rt);
	cJSON_AddNumberToObject(root, "uptime_s", (double)(now - d->start_mono) / 1e9);
	cJSON_AddNumberToObject(root, "intervals", (double)d->ticks);
	add_config(d, root);
	probes = cJSON_AddArrayToObject(root, "probes");
	for (i = 0; probes && i < DPROBE_COUNT; i++)
		add_probe(d, probes, &d->probes[i], (enum loss_stage)i);
	cJSON_AddStringToObject(root, "pins", d->pin_note);
	cJSON_AddBoolToObject(root, "bpf_stats", d->stats_fd >= 0);
	if (d->stats_note[0])
		cJSON_AddStringToObject(root, "bpf_stats_note", d->stats_note);
	add_events(d, root);
	add_kmod(d, root);
	add_collectors(d, root);
	add_logs(d, root);
	add_sinks(d, root);
	add_rules(d, root);
	agent = cJSON_AddObjectToObject(root, "agent");
	if (agent) {
		cJSON_AddNumberToObject(agent, "cpu_ratio", d->self_cpu_ratio);
		cJSON_AddNumberToObject(agent, "rss_bytes", (double)d->self_rss_bytes);
	}
	return root;
}
