// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert.h"

static const char *const kind_names[ALERT_KIND_COUNT] = {
	[ALERT_THRESHOLD] = "threshold",
	[ALERT_TREND] = "trend",
	[ALERT_BASELINE] = "baseline",
	[ALERT_LOSS] = "loss",
	[ALERT_OVERHEAD] = "overhead",
	[ALERT_HEALTH] = "health",
};

static const char *const severity_names[] = {
	[ALERT_INFO] = "info",
	[ALERT_WARNING] = "warning",
	[ALERT_CRITICAL] = "critical",
};

const char *alert_kind_name(enum alert_kind kind)
{
	return (unsigned)kind < ALERT_KIND_COUNT ? kind_names[kind] : "unknown";
}

const char *alert_severity_name(enum alert_severity sev)
{
	return (unsigned)sev <= ALERT_CRITICAL ? severity_names[sev] : "unknown";
}

const char *alert_state_name(enum alert_state state)
{
	return state == ALERT_RESOLVED ? "resolved" : "firing";
}

int alert_severity_parse(const char *s, enum alert_severity *out)
{
	unsigned i;

	for (i = 0; s && i <= ALERT_CRITICAL; i++) {
		if (strcmp(s, severity_names[i]) == 0) {
			*out = (enum alert_severity)i;
			return 0;
		}
	}
	return -1;
}

char *alert_format_number(double v, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "nan");
	} else if (isinf(v)) {
		snprintf(buf, len, v < 0 ? "-inf" : "inf");
	} else {
		/* 15 digits reads well; 17 only when 15 would change the value. */
		snprintf(buf, len, "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, len, "%.17g", v);
	}
	return buf;
}

/* snprintf at *pos, never past len; *pos may end beyond len (truncated). */
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t)n;
}

const char *alert_message(const struct alert *a, char *buf, size_t len)
{
	char num[40];
	size_t pos = 0, i;

	if (a->message)
		return a->message;
	if (!len)
		return "";
	buf[0] = '\0';
	if (a->state == ALERT_RESOLVED)
		append(buf, len, &pos, "resolved: rule %s", a->rule ? a->rule : "?");
	else
		append(buf, len, &pos, "%s: rule %s", alert_severity_name(a->severity),
		       a->rule ? a->rule : "?");
	if (a->metric) {
		append(buf, len, &pos, ": %s", a->metric);
		for (i = 0; i < a->nlabels; i++)
			append(buf, len, &pos, "%s%s=%s", i ? "," : "{",
			       a->labels[i].name, a->labels[i].value);
		if (a->nlabels)
			append(buf, len, &pos, "}");
	}
	if (!isnan(a->value))
		append(buf, len, &pos, " = %s", alert_format_number(a->value, num, sizeof(num)));
	if (!isnan(a->threshold))
		append(buf, len, &pos, " (threshold %s)",
		       alert_format_number(a->threshold, num, sizeof(num)));
	return buf;
}

/* JSON has no NaN or infinity: leave such a number out. */
static int add_number(cJSON *obj, const char *key, double v)
{
	if (!isfinite(v))
		return 0;
	return cJSON_AddNumberToObject(obj, key, v) ? 0 : -1;
}

static int add_labels(const struct alert *a, cJSON *obj)
{
	cJSON *labels = cJSON_AddObjectToObject(obj, "labels");
	size_t i;

	if (!labels)
		return -1;
	for (i = 0; i < a->nlabels; i++) {
		if (!cJSON_AddStringToObject(labels, a->labels[i].name,
					     a->labels[i].value ? a->labels[i].value : ""))
			return -1;
	}
	return 0;
}

int alert_to_json(const struct alert *a, cJSON *obj)
{
	char msg[512];

	if (!cJSON_AddStringToObject(obj, "type", alert_kind_name(a->kind)) ||
	    !cJSON_AddStringToObject(obj, "rule", a->rule ? a->rule : ""))
		return -1;
	if (a->metric && !cJSON_AddStringToObject(obj, "metric", a->metric))
		return -1;
	if (add_labels(a, obj) || add_number(obj, "value", a->value) ||
	    add_number(obj, "threshold", a->threshold))
		return -1;
	if (!cJSON_AddStringToObject(obj, "severity", alert_severity_name(a->severity)) ||
	    !cJSON_AddStringToObject(obj, "state", alert_state_name(a->state)) ||
	    !cJSON_AddStringToObject(obj, "message", alert_message(a, msg, sizeof(msg))))
		return -1;
	return 0;
}
