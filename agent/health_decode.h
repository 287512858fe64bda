/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Turning the health probe's raw records (include/perfagent/health.h) into
 * what people and programs read: a type, a severity, the device or driver,
 * and the decoded numbers (AER error bits, MCE status flags, SCSI result
 * bytes, NVMe status codes, OOM victim memory), as one text line or one
 * JSON object. Also the severity of the kernel module's events, so that
 * 'perfagent trace health' shows both sources alike.
 *
 * Kernel enums that differ between kernels (enum error_detector, the
 * soft-IRQ vectors) are named from the running kernel's BTF; the rest are
 * hardware or protocol encodings (PCIe, x86 MCA, SAM, NVMe) that do not.
 */
#ifndef PERFAGENT_HEALTH_DECODE_H
#define PERFAGENT_HEALTH_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "perfagent/health.h"

struct cJSON;
struct health_irq_set;
struct health_irq_totals;
struct health_suppressed;

enum health_severity {
	HEALTH_SEV_INFO,
	HEALTH_SEV_NOTICE,
	HEALTH_SEV_WARNING,
	HEALTH_SEV_ERROR,
	HEALTH_SEV_CRITICAL,
};

/* "info", "notice", "warning", "error", "critical" */
const char *health_severity_name(enum health_severity s);

/* "block_error", "scsi_timeout", "oom_kill"...; "kind_N" when unknown. */
const char *health_kind_name(uint32_t kind, char *buf, size_t len);

/* The kernel module's event code (include/perfagent/genl.h) as a name, or
 * NULL for a code this agent does not know (from a newer module).
 */
const char *health_kmod_event_name(uint32_t code);

enum health_severity health_event_severity(const struct pa_health_event *e);

/* The kernel module's events (enum pa_event_code): a probe failure is an
 * error, a lost carrier a warning, an oops critical, the rest information.
 */
enum health_severity health_kmod_severity(uint32_t code, bool has_error);

/*
 * An event as one line: its subject (device or driver, "sdb", "eth0",
 * "pid 4242 (memhog)") and what happened, decoded. Both always
 * NUL-terminated.
 */
struct health_view {
	char type[32];
	enum health_severity severity;
	char subject[96];
	char text[400];
};

void health_event_view(const struct pa_health_event *e, struct health_view *v);

/* Every field, decoded: time, source "bpf", type, severity, device, driver,
 * and the kind's own. NULL when out of memory.
 */
struct cJSON *health_event_json(const struct pa_health_event *e);

/* ---- what the agent adds from the aggregates -------------------------- */

/* An IRQ line (or soft-IRQ vector, soft = true) over its storm threshold. */
void health_storm_view(const struct health_irq_totals *t, bool soft, double seconds,
		       struct health_view *v);
struct cJSON *health_storm_json(const struct health_irq_totals *t, bool soft, double seconds,
				uint64_t real_ns);

/* Events of one key the kernel's rate limit held back. */
void health_suppressed_view(const struct health_suppressed *s, double seconds,
			    struct health_view *v);
struct cJSON *health_suppressed_json(const struct health_suppressed *s, double seconds,
				     uint64_t real_ns);

/*
 * IRQ and soft-IRQ time over `seconds`: the top lines by time spent, then
 * every vector that ran, with rate, share of a CPU and p50/p99/max.
 */
void health_irq_table_print(FILE *f, const struct health_irq_set *irqs,
			    const struct health_irq_totals *soft, unsigned int nsoft,
			    double seconds, size_t top, const char *title);
/* The same as one JSON object, type "irq_time". */
struct cJSON *health_irq_table_json(const struct health_irq_set *irqs,
				    const struct health_irq_totals *soft, unsigned int nsoft,
				    double seconds, bool final, uint64_t real_ns);

/* ---- decoders, exposed for tests -------------------------------------- */

/* "corrected", "non-fatal", "fatal" (AER_* severity). */
const char *health_aer_severity_name(uint8_t severity);
/* The error names set in an AER status register (correctable register
 * when severity is corrected, uncorrectable otherwise), up to max. Returns
 * how many are set (may exceed max).
 */
size_t health_aer_errors(uint32_t status, uint8_t severity, const char **names, size_t max);

/* "VAL,UC,EN,ADDRV,PCC" from an MCi_STATUS value. */
char *health_mce_flags(uint64_t status, char *buf, size_t len);
/* The MCA error code's class: "memory controller", "cache L2 data read"... */
char *health_mce_error_class(uint64_t status, char *buf, size_t len);
enum health_severity health_mce_severity(uint64_t status);

/* SCSI result: host byte ("DID_TIME_OUT") and SAM status ("CHECK_CONDITION"). */
const char *health_scsi_host_byte(int32_t result, char *buf, size_t len);
const char *health_scsi_status(int32_t result, char *buf, size_t len);
/* CDB opcode name ("READ_10"), or "0x.." */
const char *health_scsi_opcode(uint32_t opcode, char *buf, size_t len);
/* The block device of a SCSI address (sysfs), "" when it has none. */
char *health_scsi_disk(const struct pa_health_scsi *s, char *buf, size_t len);

/* NVMe status field: "generic: invalid field", "media: unrecovered read error". */
char *health_nvme_status(uint16_t status, char *buf, size_t len);

/* Module taint letters (the kernel's TAINT_* order), "" when none. */
char *health_taint_letters(uint32_t taints, char *buf, size_t len);

/* enum error_detector value as named by this kernel's BTF: "kfence". */
const char *health_error_detector(uint32_t detector, char *buf, size_t len);

/* Soft-IRQ vectors as this kernel's BTF names them: "net_rx"; and how many
 * there are (NR_SOFTIRQS, 10 when BTF cannot tell).
 */
const char *health_softirq_name(unsigned int vec, char *buf, size_t len);
unsigned int health_softirq_count(void);

/* Where sysfs is (tests point it at a fixture tree). */
void health_decode_set_sysfs(const char *root);

#endif
