/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One alert transition (a rule started firing, or resolved): what the rules
 * engine hands to the sinks (alerts.jsonl, the journal, the alert command).
 * Every sink renders the same struct, so a field means the same everywhere.
 * Strings are borrowed: the sinks copy what they keep.
 */
#ifndef PERFAGENT_ALERT_H
#define PERFAGENT_ALERT_H

#include <stddef.h>
#include <stdint.h>
#include <cJSON.h>

/* What raised the alert; each kind has its own journal MESSAGE_ID. */
enum alert_kind {
	ALERT_THRESHOLD,	/* a value crossed a warning/critical level */
	ALERT_TREND,		/* a fitted slope reaches a limit soon */
	ALERT_BASELINE,		/* a recent window deviates from the learned baseline */
	ALERT_LOSS,		/* events or log lines were lost */
	ALERT_OVERHEAD,		/* a probe costs more CPU than its budget */
	ALERT_HEALTH,		/* kernel health: taint, crash records, module events */
	ALERT_KIND_COUNT
};

enum alert_severity { ALERT_INFO, ALERT_WARNING, ALERT_CRITICAL };

enum alert_state { ALERT_FIRING, ALERT_RESOLVED };

struct alert_label {
	const char *name;
	const char *value;
};

struct alert {
	enum alert_kind kind;
	enum alert_severity severity;
	enum alert_state state;
	const char *rule;		/* rule name from the config */
	const char *metric;		/* metric name, NULL when none */
	const struct alert_label *labels;
	size_t nlabels;
	double value;			/* NAN when the alert has no value */
	double threshold;		/* NAN when the alert has no threshold */
	const char *message;		/* for a person; NULL: alert_message() builds one */
	uint64_t ts_ns;			/* CLOCK_REALTIME of the measurement; 0: now */
};

const char *alert_kind_name(enum alert_kind kind);		/* "threshold" */
const char *alert_severity_name(enum alert_severity sev);	/* "warning" */
const char *alert_state_name(enum alert_state state);		/* "firing" */

/* "info", "warning", "critical" → *out; -1 for anything else. */
int alert_severity_parse(const char *s, enum alert_severity *out);

/*
 * Shortest text that reads back as the same double ("0.1", "97.25",
 * "123456789"); "nan" / "inf" for those.
 */
char *alert_format_number(double v, char *buf, size_t len);

/*
 * a->message, or one built from the fields when it is NULL:
 * "warning: rule disk_full: fs.used_ratio{mount=/} = 0.93 (threshold 0.9)".
 */
const char *alert_message(const struct alert *a, char *buf, size_t len);

/*
 * Add the alert's fields to a JSON object: type (the kind), rule, metric,
 * labels {}, value, threshold, severity, state, message. Absent parts
 * (no metric, NAN value) are left out rather than written as null.
 * Returns 0, or -1 when out of memory.
 */
int alert_to_json(const struct alert *a, cJSON *obj);

#endif
