// SPDX-License-Identifier: GPL-2.0
/*
 * Losing nothing silently: every stage that can drop something is counted
 * every interval, as `source` of events.sent_per_s, events.lost_per_s and
 * events.loss_ratio (lost / (sent + lost)):
 *
 *   syscall, disk, net, ring-buffer reservations that failed in the kernel
 *   health              (the probes)
 *   kmod                kernel module events never received
 *   log                 lines the log writer could not write (disk full, ...)
 *   journal             alerts the journal did not take
 *   alert_command       alert commands not run (too many still running)
 *   rules               samples the rules engine dropped (too many series)
 *
 * The agent has no queue of its own between a source and the log: events
 * are written from the ring-buffer callback, so there is no stage to lose
 * them in between.
 *
 * An interval in which anything was lost gets one in-band gap record in
 * events.jsonl, {"type":"lost","since":...,"until":...,"sources":{...}},
 * with the counts per stage (the log writer adds its own "gap" records,
 * with sequence numbers, for the lines it could not write). The
 * events-lost rule on events.loss_ratio raises the alert; its clear_hold
 * and cooldown make a loss storm one alert, not a flood.
 */
#include <stdio.h>
#include <string.h>

#include "alert_exec.h"
#include "daemon.h"
#include "journal.h"
#include "logwriter.h"
#include "timeutil.h"

const char *loss_stage_name(enum loss_stage s)
{
	static const char *const n[LOSS_STAGES] = {
		"syscall", "disk", "net", "health", "kmod", "log", "journal", "alert_command",
		"rules",
	};

	return s < LOSS_STAGES ? n[s] : "?";
}

static void add(struct loss_counter *c, uint64_t sent, uint64_t lost)
{
	c->sent += sent;
	c->lost += lost;
	c->seen = true;
}

/* Stages inside the agent: deltas of their own counters. */
static void count_agent_stages(struct daemon *d)
{
	struct daemon_losses *l = &d->losses;
	uint64_t written = 0, dropped = 0;
	int s;

	if (d->lw) {
		for (s = 0; s < LOG_STREAMS; s++) {
			struct logwriter_stats st;

			logwriter_get_stats(d->lw, (enum log_stream)s, &st);
			written += st.lines_written;
			dropped += st.lines_dropped;
		}
		add(&l->stage[LOSS_LOG], written - l->log_written_prev, dropped - l->log_dropped_prev);
		l->log_written_prev = written;
		l->log_dropped_prev = dropped;
	}
	if (d->journal) {
		struct journal_stats st;
		uint64_t sent;

		journal_get_stats(d->journal, &st);
		sent = st.sent + st.sent_memfd + st.sent_syslog;
		/* A reopened sink starts from 0 again. */
		if (sent < l->journal_sent_prev || st.failed < l->journal_failed_prev)
			l->journal_sent_prev = l->journal_failed_prev = 0;
		add(&l->stage[LOSS_JOURNAL], sent - l->journal_sent_prev,
		    st.failed - l->journal_failed_prev);
		l->journal_sent_prev = sent;
		l->journal_failed_prev = st.failed;
	}
	if (d->aexec) {
		struct alert_exec_stats st;
		uint64_t lost;

		alert_exec_get_stats(d->aexec, &st);
		lost = st.skipped + st.spawn_failed;
		if (st.started < l->exec_started_prev || lost < l->exec_skipped_prev)
			l->exec_started_prev = l->exec_skipped_prev = 0;
		add(&l->stage[LOSS_ALERT_COMMAND], st.started - l->exec_started_prev,
		    lost - l->exec_skipped_prev);
		l->exec_started_prev = st.started;
		l->exec_skipped_prev = lost;
	}
	if (d->engine) {
		struct rules_engine_stats st;

		rules_engine_stats(d->engine, &st);
		if (st.samples < l->rules_samples_prev || st.series_dropped < l->rules_dropped_prev)
			l->rules_samples_prev = l->rules_dropped_prev = 0;
		add(&l->stage[LOSS_RULES], st.samples - l->rules_samples_prev,
		    st.series_dropped - l->rules_dropped_prev);
		l->rules_samples_prev = st.samples;
		l->rules_dropped_prev = st.series_dropped;
	}
}

/* Probe-side details (calls not measured, tables full) for the record. */
static bool probe_details(struct daemon *d, enum loss_stage s, cJSON *o)
{
	const struct dprobe *p;
	bool any = false;
	unsigned int i;

	if ((int)s >= DPROBE_COUNT)
		return false;
	p = &d->probes[s];
	for (i = 0; i < p->nlost_detail; i++) {
		if (!p->lost_detail[i] || !strcmp(p->lost_detail_names[i], "events_lost"))
			continue;
		any = true;
		if (o)
			cJSON_AddNumberToObject(o, p->lost_detail_names[i], (double)p->lost_detail[i]);
	}
	return any;
}

static void write_gap_record(struct daemon *d, uint64_t since_rt, uint64_t until_rt)
{
	cJSON *o = cJSON_CreateObject(), *src, *one;
	char since[40], until[40];
	int s;

	if (!o || !cJSON_AddStringToObject(o, "type", "lost") ||
	    !cJSON_AddStringToObject(o, "since", format_iso8601(since_rt, since, sizeof(since))) ||
	    !cJSON_AddStringToObject(o, "until", format_iso8601(until_rt, until, sizeof(until))) ||
	    !(src = cJSON_AddObjectToObject(o, "sources"))) {
		cJSON_Delete(o);
		return;
	}
	for (s = 0; s < LOSS_STAGES; s++) {
		const struct loss_counter *c = &d->losses.stage[s];

		if (!c->lost && !probe_details(d, (enum loss_stage)s, NULL))
			continue;
		one = cJSON_AddObjectToObject(src, loss_stage_name((enum loss_stage)s));
		if (!one)
			continue;
		cJSON_AddNumberToObject(one, "sent", (double)c->sent);
		cJSON_AddNumberToObject(one, "lost", (double)c->lost);
		probe_details(d, (enum loss_stage)s, one);
	}
	d->losses.gap_records++;
	daemon_write_json(d, LOG_EVENTS, until_rt, o);
}

void daemon_losses_tick(struct daemon *d, uint64_t span_ns, uint64_t ts, uint64_t ts_rt)
{
	struct daemon_losses *l = &d->losses;
	bool any = false;
	int s;

	count_agent_stages(d);
	for (s = 0; s < LOSS_STAGES; s++) {
		struct loss_counter *c = &l->stage[s];
		const char *name = loss_stage_name((enum loss_stage)s);
		double sec = span_ns ? (double)span_ns / 1e9 : 1;

		if (!c->seen)
			continue;
		daemon_add_sample(d, "events.sent_per_s", (double)c->sent / sec, ts,
				  "source", name, NULL);
		daemon_add_sample(d, "events.lost_per_s", (double)c->lost / sec, ts,
				  "source", name, NULL);
		daemon_add_sample(d, "events.loss_ratio",
				  c->sent + c->lost ? (double)c->lost / (double)(c->sent + c->lost) : 0,
				  ts, "source", name, NULL);
		if (c->lost || probe_details(d, (enum loss_stage)s, NULL))
			any = true;
	}
	if (any)
		write_gap_record(d, ts_rt - span_ns, ts_rt);
	for (s = 0; s < LOSS_STAGES; s++) {
		struct loss_counter *c = &l->stage[s];

		c->sent_total += c->sent;
		c->lost_total += c->lost;
		c->sent = c->lost = 0;
	}
}
