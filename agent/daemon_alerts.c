// SPDX-License-Identifier: GPL-2.0
/*
 * Alert transitions to their sinks, in this order: alerts.jsonl (every
 * alert: the record), the journal (journald.min_severity and up), the
 * alert command (alert_command.min_severity and up; never waited for).
 *
 * Also the rules the engine runs: the config's, the `probe-overhead` rule
 * the overhead section makes, and the built-in `events-lost` rule when the
 * config has no rule on events.loss_ratio / events.lost_per_s of its own:
 * losing data must never be silent, whatever the config says.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "alert_exec.h"
#include "daemon.h"
#include "journal.h"
#include "logwriter.h"
#include "timeutil.h"

#define LOSS_RULE	"events-lost"

static bool watches_losses(const struct rule_def *r)
{
	return !strcmp(r->sel.name, "events.loss_ratio") || !strcmp(r->sel.name, "events.lost_per_s");
}

/* The built-in events-lost rule, from the built-in config. */
static int builtin_loss_rule(struct rule_def *out)
{
	struct config def;
	size_t i;
	int ret = -ENOENT;

	if (config_default(&def))
		return -ENOMEM;
	for (i = 0; i < def.nrules; i++) {
		if (!strcmp(def.rules[i].name, LOSS_RULE)) {
			*out = def.rules[i];
			ret = 0;
			break;
		}
	}
	config_free(&def);
	return ret;
}

int daemon_rules_build(const struct config *c, struct rule_def **rules, size_t *n)
{
	struct rule_def loss, *v;
	size_t i;
	int ret = config_engine_rules(c, rules, n);

	if (ret)
		return ret;
	for (i = 0; i < *n; i++)
		if (watches_losses(&(*rules)[i]))
			return 0;
	for (i = 0; i < *n; i++)
		if (!strcmp((*rules)[i].name, LOSS_RULE))
			return 0;	/* a rule of that name on something else: leave it */
	if (builtin_loss_rule(&loss))
		return 0;
	v = realloc(*rules, (*n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[(*n)++] = loss;
	*rules = v;
	return 0;
}

/* ---- sinks ------------------------------------------------------------ */

static int open_exec(struct daemon *d, char *err, size_t len)
{
	struct alert_exec_config ac = { 0 };

	if (!d->cfg.alert_command.enabled)
		return 0;
	ac.path = d->cfg.alert_command.path;
	ac.args = d->cfg.alert_command.args.v;
	ac.nargs = d->cfg.alert_command.args.n;
	ac.timeout_ns = d->cfg.alert_command.timeout_ns;
	ac.host = d->host;
	d->aexec = alert_exec_open(&ac, err, len);
	return d->aexec ? 0 : -EINVAL;
}

int daemon_alerts_open_sinks(struct daemon *d, char *err, size_t len)
{
	if (d->cfg.journald.enabled) {
		d->journal = journal_open(d->cfg.journald.socket);
		if (!d->journal) {
			snprintf(err, len, "journal: out of memory");
			return -ENOMEM;
		}
	}
	return open_exec(d, err, len);
}

void daemon_alerts_close_sinks(struct daemon *d)
{
	if (d->aexec)
		alert_exec_close(d->aexec);
	d->aexec = NULL;
	if (d->journal)
		journal_close(d->journal);
	d->journal = NULL;
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

static bool exec_config_eq(const struct config *a, const struct config *b)
{
	if (a->alert_command.enabled != b->alert_command.enabled)
		return false;
	if (!a->alert_command.enabled)
		return true;
	return !strcmp(a->alert_command.path, b->alert_command.path) &&
	       strings_eq(&a->alert_command.args, &b->alert_command.args) &&
	       a->alert_command.timeout_ns == b->alert_command.timeout_ns;
}

/* After a reload: the journal is reopened (cheap); the alert command only
 * when it changed (closing waits for commands still running).
 */
void daemon_alerts_reconfigure(struct daemon *d, const struct config *old)
{
	char err[256];

	if (d->journal)
		journal_close(d->journal);
	d->journal = d->cfg.journald.enabled ? journal_open(d->cfg.journald.socket) : NULL;
	if (exec_config_eq(old, &d->cfg))
		return;
	if (d->aexec)
		alert_exec_close(d->aexec);
	d->aexec = NULL;
	if (open_exec(d, err, sizeof(err)))
		daemon_log(d, LOG_ERR, "alert_command", "alert command not started: %s", err);
}

/* ---- delivery --------------------------------------------------------- */

static void deliver(struct daemon *d, const struct alert *a, bool reminder)
{
	cJSON *o = cJSON_CreateObject();

	if (o && alert_to_json(a, o) == 0 && (!reminder || cJSON_AddTrueToObject(o, "reminder")))
		daemon_write_json(d, LOG_ALERTS, a->ts_ns, o);
	else
		cJSON_Delete(o);
	if (d->journal && a->severity >= d->cfg.journald.min_severity)
		journal_send_alert(d->journal, a);
	if (d->aexec && a->severity >= d->cfg.alert_command.min_severity)
		alert_exec_run(d->aexec, a);
	if (a->state == ALERT_FIRING)
		d->alerts_firing_total++;
	else
		d->alerts_resolved_total++;
}

void daemon_alerts_deliver(struct daemon *d, const struct rule_transitions *t)
{
	struct alert_label labels[METRIC_MAX_LABELS];
	struct alert a;
	size_t i;

	for (i = 0; i < t->n; i++) {
		rule_transition_to_alert(&t->v[i], &a, labels);
		/* Samples are stamped with CLOCK_MONOTONIC; alerts carry real time. */
		a.ts_ns = mono_to_realtime_ns(t->v[i].ts_ns);
		deliver(d, &a, t->v[i].reminder);
	}
}

/*
 * One-off alerts (health events) have no rule state to keep them from
 * repeating: a disk failing every request, a link flapping. The same rule
 * and first label are announced again only after EVENT_ALERT_COOLDOWN_NS;
 * every event is in events.jsonl all the same.
 */
#define EVENT_ALERT_COOLDOWN_NS	(600ULL * 1000000000ULL)
#define EVENT_ALERT_SLOTS	64

static bool event_alert_due(const char *rule, const struct metric_label *labels,
			    unsigned int nlabels)
{
	static struct {
		char key[160];
		uint64_t last;
	} slots[EVENT_ALERT_SLOTS];
	uint64_t now = mono_ns(), oldest = UINT64_MAX;
	char key[160];
	size_t i, victim = 0;

	snprintf(key, sizeof(key), "%s|%s", rule, nlabels ? labels[0].value : "");
	for (i = 0; i < EVENT_ALERT_SLOTS; i++) {
		if (!strcmp(slots[i].key, key)) {
			if (now - slots[i].last < EVENT_ALERT_COOLDOWN_NS)
				return false;
			slots[i].last = now;
			return true;
		}
		if (slots[i].last < oldest) {
			oldest = slots[i].last;
			victim = i;
		}
	}
	snprintf(slots[victim].key, sizeof(slots[victim].key), "%s", key);
	slots[victim].last = now;
	return true;
}

void daemon_alert_event(struct daemon *d, enum alert_kind kind, enum alert_severity sev,
			const char *rule, const char *message,
			const struct metric_label *labels, unsigned int nlabels)
{
	struct alert_label l[METRIC_MAX_LABELS];
	struct alert a = {
		.kind = kind, .severity = sev, .state = ALERT_FIRING, .rule = rule,
		.labels = l, .value = NAN, .threshold = NAN, .message = message,
		.ts_ns = realtime_ns(),
	};
	unsigned int i;

	if (!event_alert_due(rule, labels, nlabels))
		return;
	for (i = 0; i < nlabels && i < METRIC_MAX_LABELS; i++) {
		l[i].name = labels[i].name;
		l[i].value = labels[i].value;
		a.nlabels++;
	}
	deliver(d, &a, false);
}
