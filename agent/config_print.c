// SPDX-License-Identifier: GPL-2.0
/*
 * Writing a config back as JSON (check-config --print-default, --json): the
 * exact form config_parse() reads, so printed configs round-trip.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cJSON.h>

#include "config.h"

static cJSON *add_duration(cJSON *o, const char *key, uint64_t ns)
{
	char buf[32];

	return cJSON_AddStringToObject(o, key, config_format_duration(ns, buf, sizeof(buf)));
}

static cJSON *add_size(cJSON *o, const char *key, uint64_t b)
{
	char buf[32];

	return cJSON_AddStringToObject(o, key, config_format_size(b, buf, sizeof(buf)));
}

static cJSON *add_ratio(cJSON *o, const char *key, double v)
{
	char buf[48];

	if (config_format_ratio(v, buf, sizeof(buf)))
		return cJSON_AddStringToObject(o, key, buf);
	return cJSON_AddNumberToObject(o, key, v);
}

static cJSON *add_strings(cJSON *o, const char *key, const struct config_strings *l)
{
	cJSON *a = cJSON_AddArrayToObject(o, key);
	size_t i;

	for (i = 0; a && i < l->n; i++) {
		cJSON *s = cJSON_CreateString(l->v[i]);

		if (!s || !cJSON_AddItemToArray(a, s)) {
			cJSON_Delete(s);
			return NULL;
		}
	}
	return a;
}

/* An amount of unit u as the config writes it ("10ms", "64M", "5%", 3). */
static cJSON *amount_json(enum metric_unit u, double v)
{
	char buf[48];

	switch (u) {
	case METRIC_UNIT_NS:
		if (v >= 0 && v == floor(v) && v < 1.8e19)
			return cJSON_CreateString(config_format_duration((uint64_t)v, buf, sizeof(buf)));
		break;
	case METRIC_UNIT_BYTES:
	case METRIC_UNIT_BYTES_PER_S:
		if (v >= 0 && v == floor(v) && v < 1.8e19)
			return cJSON_CreateString(config_format_size((uint64_t)v, buf, sizeof(buf)));
		break;
	case METRIC_UNIT_RATIO:
		if (config_format_ratio(v, buf, sizeof(buf)))
			return cJSON_CreateString(buf);
		break;
	default:
		break;
	}
	return cJSON_CreateNumber(v);
}

static cJSON *level_json(const struct rule_def *r, const struct rule_level *l)
{
	char buf[96], amount[48], per[32];
	cJSON *a;

	switch (r->type) {
	case RULE_SLOPE:
		a = amount_json(r->unit, l->value);
		if (!a)
			return NULL;
		if (cJSON_IsString(a))
			snprintf(amount, sizeof(amount), "%s", a->valuestring);
		else
			alert_format_number(l->value, amount, sizeof(amount));
		cJSON_Delete(a);
		config_format_duration(l->per_ns, per, sizeof(per));
		snprintf(buf, sizeof(buf), "%s/%s", amount, per[0] == '1' && !per[2] ? per + 1 : per);
		return cJSON_CreateString(buf);
	case RULE_EXHAUSTION:
		return amount_json(METRIC_UNIT_NS, l->value);
	case RULE_BASELINE:
		return amount_json(METRIC_UNIT_RATIO, l->value);
	default:
		return amount_json(r->unit, l->value);
	}
}

static bool add_item(cJSON *o, const char *key, cJSON *item)
{
	if (!item)
		return false;
	if (!cJSON_AddItemToObject(o, key, item)) {
		cJSON_Delete(item);
		return false;
	}
	return true;
}

static cJSON *rule_json(const struct rule_def *r)
{
	cJSON *o = cJSON_CreateObject();
	char sel[METRIC_KEY_MAX];
	bool ok;
	int l;

	if (!o)
		return NULL;
	ok = cJSON_AddStringToObject(o, "name", r->name) &&
	     cJSON_AddStringToObject(o, "type", rule_type_name(r->type)) &&
	     cJSON_AddStringToObject(o, "metric",
				     metric_selector_format(&r->sel, sel, sizeof(sel)));
	if (r->type != RULE_EXHAUSTION || r->direction != RULE_ABOVE)
		ok = ok && cJSON_AddStringToObject(o, "direction", rule_direction_name(r->direction));
	for (l = 0; l < RULE_LEVELS && ok; l++)
		if (r->level[l].set)
			ok = add_item(o, config_level_keys[l], level_json(r, &r->level[l]));
	if (ok && r->clear.set)
		ok = add_item(o, "clear", level_json(r, &r->clear));
	ok = ok && add_duration(o, "hold", r->hold_ns) &&
	     add_duration(o, "clear_hold", r->clear_hold_ns) &&
	     add_duration(o, "cooldown", r->cooldown_ns) &&
	     add_duration(o, "repeat", r->repeat_ns);
	if (ok && r->type != RULE_THRESHOLD)
		ok = add_duration(o, "window", r->window_ns) != NULL;
	if (ok && r->type == RULE_BASELINE)
		ok = add_duration(o, "baseline", r->baseline_ns) &&
		     add_item(o, "min_baseline", amount_json(r->unit, r->min_baseline));
	if (ok && r->type == RULE_EXHAUSTION) {
		if (r->limit_metric[0])
			ok = cJSON_AddStringToObject(o, "limit_metric", r->limit_metric) != NULL;
		else
			ok = add_item(o, "limit", amount_json(r->unit, r->limit));
	}
	if (ok && r->message[0])
		ok = cJSON_AddStringToObject(o, "message", r->message) != NULL;
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *enabled_obj(cJSON *parent, const char *key, bool on)
{
	cJSON *o = cJSON_AddObjectToObject(parent, key);

	if (o && !cJSON_AddBoolToObject(o, "enabled", on))
		return NULL;
	return o;
}

static bool probes_json(cJSON *root, const struct config *c)
{
	cJSON *p = cJSON_AddObjectToObject(root, "probes"), *o;
	const struct config_syscall_probe *s = &c->probes.syscall;

	if (!p || !(o = enabled_obj(p, "syscall", s->enabled)) ||
	    !cJSON_AddNumberToObject(o, "pid", s->pid) ||
	    !cJSON_AddStringToObject(o, "comm", s->comm) ||
	    !cJSON_AddStringToObject(o, "cgroup", s->cgroup) ||
	    !add_strings(o, "syscalls", &s->syscalls) || !add_duration(o, "slow", s->slow_ns))
		return false;
	if (!(o = enabled_obj(p, "disk", c->probes.disk.enabled)) ||
	    !add_strings(o, "devices", &c->probes.disk.devices) ||
	    !add_duration(o, "slow", c->probes.disk.slow_ns) ||
	    !cJSON_AddNumberToObject(o, "rate", c->probes.disk.rate))
		return false;
	if (!(o = enabled_obj(p, "net", c->probes.net.enabled)) ||
	    !cJSON_AddNumberToObject(o, "port", c->probes.net.port) ||
	    !cJSON_AddNumberToObject(o, "rate", c->probes.net.rate))
		return false;
	return enabled_obj(p, "health", c->probes.health.enabled);
}

static bool collectors_json(cJSON *root, const struct config_collectors *cc)
{
	cJSON *p = cJSON_AddObjectToObject(root, "collectors"), *o;

	if (!p || !(o = enabled_obj(p, "cpu", cc->cpu)) ||
	    !cJSON_AddBoolToObject(o, "per_cpu", cc->cpu_per_cpu) ||
	    !enabled_obj(p, "mem", cc->mem) || !enabled_obj(p, "psi", cc->psi) ||
	    !enabled_obj(p, "load", cc->load) || !enabled_obj(p, "limits", cc->limits))
		return false;
	if (!(o = enabled_obj(p, "fs", cc->fs)) ||
	    !add_strings(o, "mountpoints", &cc->fs_mountpoints))
		return false;
	if (!(o = enabled_obj(p, "netdev", cc->netdev)) ||
	    !add_strings(o, "interfaces", &cc->netdev_interfaces))
		return false;
	return enabled_obj(p, "taint", cc->taint) && enabled_obj(p, "pstore", cc->pstore);
}

static bool sections_json(cJSON *root, const struct config *c)
{
	cJSON *o;

	if (!(o = cJSON_AddObjectToObject(root, "logs")) ||
	    !cJSON_AddStringToObject(o, "dir", c->logs.dir) ||
	    !add_size(o, "max_size", c->logs.max_size) ||
	    !cJSON_AddBoolToObject(o, "daily", c->logs.daily) ||
	    !cJSON_AddNumberToObject(o, "max_files", c->logs.max_files) ||
	    !add_size(o, "max_total", c->logs.max_total) ||
	    !cJSON_AddBoolToObject(o, "compress", c->logs.compress))
		return false;
	if (!(o = cJSON_AddObjectToObject(root, "journald")) ||
	    !cJSON_AddBoolToObject(o, "enabled", c->journald.enabled) ||
	    !cJSON_AddStringToObject(o, "min_severity",
				     alert_severity_name(c->journald.min_severity)) ||
	    !cJSON_AddStringToObject(o, "socket", c->journald.socket))
		return false;
	if (!c->alert_command.enabled) {
		if (!cJSON_AddNullToObject(root, "alert_command"))
			return false;
	} else if (!(o = cJSON_AddObjectToObject(root, "alert_command")) ||
		   !cJSON_AddStringToObject(o, "path", c->alert_command.path) ||
		   !add_strings(o, "args", &c->alert_command.args) ||
		   !add_duration(o, "timeout", c->alert_command.timeout_ns) ||
		   !cJSON_AddStringToObject(o, "min_severity",
					    alert_severity_name(c->alert_command.min_severity))) {
		return false;
	}
	if (!(o = cJSON_AddObjectToObject(root, "overhead")) ||
	    !add_ratio(o, "max_cpu", c->overhead.max_cpu) ||
	    !add_duration(o, "hold", c->overhead.hold_ns) ||
	    !cJSON_AddBoolToObject(o, "detach", c->overhead.detach))
		return false;
	return (o = cJSON_AddObjectToObject(root, "daemon")) &&
	       cJSON_AddStringToObject(o, "pid_file", c->daemon.pid_file) &&
	       cJSON_AddStringToObject(o, "control_socket", c->daemon.control_socket) &&
	       cJSON_AddStringToObject(o, "state_dir", c->daemon.state_dir);
}

/* JSON as people write it: two-space indents, short lists on one line. */
static bool pretty_print(FILE *f, const cJSON *v, int depth)
{
	const cJSON *c;
	bool scalars = true;
	char *s;

	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		bool obj = cJSON_IsObject(v);

		if (!v->child)
			return fputs(obj ? "{}" : "[]", f) >= 0;
		for (c = v->child; c; c = c->next)
			scalars &= !cJSON_IsObject(c) && !cJSON_IsArray(c);
		/* a short list of plain values reads best on one line */
		if (!obj && scalars) {
			s = cJSON_PrintUnformatted(v);
			scalars = s && strlen(s) <= 72;
			cJSON_free(s);
		}
		if (!obj && scalars) {
			fputc('[', f);
			for (c = v->child; c; c = c->next) {
				if (!pretty_print(f, c, depth))
					return false;
				fputs(c->next ? ", " : "]", f);
			}
			return true;
		}
		fputs(obj ? "{\n" : "[\n", f);
		for (c = v->child; c; c = c->next) {
			fprintf(f, "%*s", 2 * (depth + 1), "");
			if (obj) {
				cJSON key = { .type = cJSON_String, .valuestring = c->string };

				s = cJSON_PrintUnformatted(&key);
				if (!s)
					return false;
				fprintf(f, "%s: ", s);
				cJSON_free(s);
			}
			if (!pretty_print(f, c, depth + 1))
				return false;
			fputs(c->next ? ",\n" : "\n", f);
		}
		fprintf(f, "%*s%c", 2 * depth, "", obj ? '}' : ']');
		return true;
	}
	s = cJSON_PrintUnformatted(v);
	if (!s)
		return false;
	fputs(s, f);
	cJSON_free(s);
	return true;
}

char *config_pretty_json(const cJSON *root)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	bool ok;

	if (!f)
		return NULL;
	ok = pretty_print(f, root, 0);
	if (fclose(f) || !ok) {
		free(text);
		return NULL;
	}
	return text;
}

char *config_to_json(const struct config *c)
{
	cJSON *root = cJSON_CreateObject(), *rules;
	char *text = NULL;
	size_t i;

	if (!root || !add_duration(root, "interval", c->interval_ns) || !probes_json(root, c) ||
	    !collectors_json(root, &c->collectors) || !sections_json(root, c) ||
	    !(rules = cJSON_AddArrayToObject(root, "rules")))
		goto out;
	for (i = 0; i < c->nrules; i++) {
		cJSON *r = rule_json(&c->rules[i]);

		if (!r || !cJSON_AddItemToArray(rules, r)) {
			cJSON_Delete(r);
			goto out;
		}
	}
	text = config_pretty_json(root);
out:
	cJSON_Delete(root);
	return text;
}
