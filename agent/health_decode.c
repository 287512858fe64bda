// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <cjson/cJSON.h>

#include "blkdev_names.h"
#include "btf_enums.h"
#include "disk_ops.h"
#include "health_bpf.h"
#include "health_decode.h"
#include "hist.h"
#include "perfagent/disk.h"
#include "perfagent/genl.h"
#include "timeutil.h"
#include "units.h"

static const char *sysfs_root = "/sys";

void health_decode_set_sysfs(const char *root)
{
	sysfs_root = root ? root : "/sys";
}

/* snprintf that appends, never overflows. */
static void append(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

/* A fixed-size char array from the kernel, terminated whatever it holds. */
static void copy_name(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = strnlen(src, slen);

	if (n >= dlen)
		n = dlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

#define NAME(field, e) \
	char field[sizeof((e)->field) + 1]; \
	copy_name(field, sizeof(field), (e)->field, sizeof((e)->field))

const char *health_severity_name(enum health_severity s)
{
	static const char *const names[] = { "info", "notice", "warning", "error", "critical" };

	return (unsigned int)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static const char *const kind_names[PA_HK_COUNT] = {
	[PA_HK_BLOCK_ERROR]	= "block_error",
	[PA_HK_SCSI_DISPATCH]	= "scsi_dispatch_error",
	[PA_HK_SCSI_TIMEOUT]	= "scsi_timeout",
	[PA_HK_SCSI_ERROR]	= "scsi_error",
	[PA_HK_NVME_ERROR]	= "nvme_error",
	[PA_HK_AER]		= "pcie_aer",
	[PA_HK_MCE]		= "machine_check",
	[PA_HK_TX_TIMEOUT]	= "tx_timeout",
	[PA_HK_DEVLINK]		= "devlink_health",
	[PA_HK_OOM_KILL]	= "oom_kill",
	[PA_HK_ERROR_REPORT]	= "error_report",
	[PA_HK_MODULE_LOAD]	= "module_load",
};

const char *health_kind_name(uint32_t kind, char *buf, size_t len)
{
	if (kind < PA_HK_COUNT && kind_names[kind])
		return kind_names[kind];
	snprintf(buf, len, "kind_%u", kind);
	return buf;
}

static const char *const kmod_event_names[PA_EV_MAX + 1] = {
	[PA_EV_DEVICE_ADDED]		= "device_added",
	[PA_EV_DEVICE_REMOVED]		= "device_removed",
	[PA_EV_DRIVER_BOUND]		= "driver_bound",
	[PA_EV_DRIVER_UNBOUND]		= "driver_unbound",
	[PA_EV_PROBE_FAILED]		= "probe_failed",
	[PA_EV_NETDEV_REGISTERED]	= "netdev_registered",
	[PA_EV_NETDEV_UNREGISTERED]	= "netdev_unregistered",
	[PA_EV_NETDEV_UP]		= "netdev_up",
	[PA_EV_NETDEV_DOWN]		= "netdev_down",
	[PA_EV_CARRIER_DOWN]		= "carrier_down",
	[PA_EV_CARRIER_UP]		= "carrier_up",
	[PA_EV_MTU_CHANGED]		= "mtu_changed",
	[PA_EV_NETDEV_RENAMED]		= "netdev_renamed",
	[PA_EV_MODULE_COMING]		= "module_coming",
	[PA_EV_MODULE_LIVE]		= "module_live",
	[PA_EV_MODULE_GOING]		= "module_going",
	[PA_EV_DIE]			= "oops",
};

const char *health_kmod_event_name(uint32_t code)
{
	return code <= PA_EV_MAX ? kmod_event_names[code] : NULL;
}

/* ---- PCIe AER ------------------------------------------------------------ */

#define AER_NONFATAL	0
#define AER_FATAL	1
#define AER_CORRECTABLE	2

const char *health_aer_severity_name(uint8_t severity)
{
	switch (severity) {
	case AER_NONFATAL: return "non-fatal";
	case AER_FATAL: return "fatal";
	case AER_CORRECTABLE: return "corrected";
	}
	return "unknown";
}

/* Bit names of the PCIe Correctable and Uncorrectable Error Status
 * registers (PCI Express Base Specification, AER capability).
 */
static const char *const aer_correctable[32] = {
	[0] = "Receiver Error",
	[6] = "Bad TLP",
	[7] = "Bad DLLP",
	[8] = "REPLAY_NUM Rollover",
	[12] = "Replay Timer Timeout",
	[13] = "Advisory Non-Fatal Error",
	[14] = "Corrected Internal Error",
	[15] = "Header Log Overflow",
};

static const char *const aer_uncorrectable[32] = {
	[0] = "Undefined",
	[4] = "Data Link Protocol Error",
	[5] = "Surprise Down Error",
	[12] = "Poisoned TLP",
	[13] = "Flow Control Protocol Error",
	[14] = "Completion Timeout",
	[15] = "Completer Abort",
	[16] = "Unexpected Completion",
	[17] = "Receiver Overflow",
	[18] = "Malformed TLP",
	[19] = "ECRC Error",
	[20] = "Unsupported Request",
	[21] = "ACS Violation",
	[22] = "Uncorrectable Internal Error",
	[23] = "MC Blocked TLP",
	[24] = "AtomicOp Egress Blocked",
	[25] = "TLP Prefix Blocked",
	[26] = "Poisoned TLP Egress Blocked",
};

size_t health_aer_errors(uint32_t status, uint8_t severity, const char **names, size_t max)
{
	const char *const *table = severity == AER_CORRECTABLE ? aer_correctable : aer_uncorrectable;
	static char unnamed[32][8];
	size_t n = 0;
	int bit;

	for (bit = 0; bit < 32; bit++) {
		if (!(status & (1U << bit)))
			continue;
		if (n < max) {
			if (!table[bit]) {
				snprintf(unnamed[bit], sizeof(unnamed[bit]), "bit %d", bit);
				names[n] = unnamed[bit];
			} else {
				names[n] = table[bit];
			}
		}
		n++;
	}
	return n;
}

/* ---- x86 machine checks ---------------------------------------------------- */

#define MCI_STATUS_VAL		(1ULL << 63)
#define MCI_STATUS_OVER		(1ULL << 62)
#define MCI_STATUS_UC		(1ULL << 61)
#define MCI_STATUS_EN		(1ULL << 60)
#define MCI_STATUS_MISCV	(1ULL << 59)
#define MCI_STATUS_ADDRV	(1ULL << 58)
#define MCI_STATUS_PCC		(1ULL << 57)
#define MCI_STATUS_S		(1ULL << 56)
#define MCI_STATUS_AR		(1ULL << 55)

char *health_mce_flags(uint64_t status, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } flags[] = {
		{ MCI_STATUS_VAL, "VAL" }, { MCI_STATUS_OVER, "OVER" }, { MCI_STATUS_UC, "UC" },
		{ MCI_STATUS_EN, "EN" }, { MCI_STATUS_MISCV, "MISCV" },
		{ MCI_STATUS_ADDRV, "ADDRV" }, { MCI_STATUS_PCC, "PCC" }, { MCI_STATUS_S, "S" },
		{ MCI_STATUS_AR, "AR" },
	};
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (status & flags[i].bit)
			append(buf, len, "%s%s", buf[0] ? "," : "", flags[i].name);
	return buf;
}

/* Compound MCA error codes (Intel SDM vol. 3B, "Interpreting the MCA Error
 * Codes"; AMD uses the same encoding): bit 12 is the corrected-error filter
 * flag and is ignored.
 */
char *health_mce_error_class(uint64_t status, char *buf, size_t len)
{
	static const char *const level[] = { "L0", "L1", "L2", "generic" };
	static const char *const type[] = { "instruction", "data", "generic", "?" };
	static const char *const request[16] = {
		"generic", "read", "write", "data read", "data write", "instruction fetch",
		"prefetch", "eviction", "snoop",
	};
	unsigned int code = (unsigned int)(status & 0xffff) & ~0x1000U;

	if (code == 0)
		snprintf(buf, len, "no error");
	else if (code == 1)
		snprintf(buf, len, "unclassified");
	else if (code == 2)
		snprintf(buf, len, "microcode ROM parity");
	else if (code == 3)
		snprintf(buf, len, "external");
	else if (code == 4)
		snprintf(buf, len, "FRC");
	else if (code == 5)
		snprintf(buf, len, "internal parity");
	else if ((code & 0xfc00) == 0x0400)
		snprintf(buf, len, "internal");
	else if ((code & 0xfff0) == 0x0010)
		snprintf(buf, len, "%s %s TLB", level[code & 3], type[(code >> 2) & 3]);
	else if ((code & 0xff80) == 0x0080)
		snprintf(buf, len, "memory controller");
	else if ((code & 0xff00) == 0x0100)
		snprintf(buf, len, "%s %s cache, %s", level[code & 3], type[(code >> 2) & 3],
			 request[(code >> 4) & 15] ? request[(code >> 4) & 15] : "request");
	else if ((code & 0xf800) == 0x0800)
		snprintf(buf, len, "bus/interconnect %s", level[code & 3]);
	else
		snprintf(buf, len, "code 0x%04x", code);
	return buf;
}

enum health_severity health_mce_severity(uint64_t status)
{
	if (!(status & MCI_STATUS_UC))
		return HEALTH_SEV_WARNING;	/* corrected */
	if (status & MCI_STATUS_PCC)
		return HEALTH_SEV_CRITICAL;	/* processor context corrupt */
	return HEALTH_SEV_ERROR;		/* uncorrected, recoverable */
}

/* ---- SCSI ----------------------------------------------------------------- */

/* Linux host byte codes (enum scsi_host_status, DID_*): only ever appended to. */
static const char *const host_bytes[] = {
	"DID_OK", "DID_NO_CONNECT", "DID_BUS_BUSY", "DID_TIME_OUT", "DID_BAD_TARGET",
	"DID_ABORT", "DID_PARITY", "DID_ERROR", "DID_RESET", "DID_BAD_INTR",
	"DID_PASSTHROUGH", "DID_SOFT_ERROR", "DID_IMM_RETRY", "DID_REQUEUE",
	"DID_TRANSPORT_DISRUPTED", "DID_TRANSPORT_FAILFAST", "DID_TARGET_FAILURE",
	"DID_NEXUS_FAILURE", "DID_ALLOC_FAILURE", "DID_MEDIUM_ERROR",
	"DID_TRANSPORT_MARGINAL",
};

const char *health_scsi_host_byte(int32_t result, char *buf, size_t len)
{
	unsigned int b = ((uint32_t)result >> 16) & 0xff;

	if (b < sizeof(host_bytes) / sizeof(host_bytes[0]))
		return host_bytes[b];
	snprintf(buf, len, "host_byte_0x%02x", b);
	return buf;
}

/* SAM status codes (SCSI Architecture Model). */
const char *health_scsi_status(int32_t result, char *buf, size_t len)
{
	unsigned int s = (uint32_t)result & 0xff;

	switch (s) {
	case 0x00: return "GOOD";
	case 0x02: return "CHECK_CONDITION";
	case 0x04: return "CONDITION_MET";
	case 0x08: return "BUSY";
	case 0x10: return "INTERMEDIATE";
	case 0x14: return "INTERMEDIATE_CONDITION_MET";
	case 0x18: return "RESERVATION_CONFLICT";
	case 0x22: return "COMMAND_TERMINATED";
	case 0x28: return "TASK_SET_FULL";
	case 0x30: return "ACA_ACTIVE";
	case 0x40: return "TASK_ABORTED";
	}
	snprintf(buf, len, "status_0x%02x", s);
	return buf;
}

/* What queuecommand returned when the host refused a command. */
static const char *scsi_mlqueue(int32_t rtn)
{
	switch (rtn) {
	case 0x1055: return "host busy";
	case 0x1056: return "device busy";
	case 0x1057: return "error handler retry";
	case 0x1058: return "target busy";
	}
	return NULL;
}

const char *health_scsi_opcode(uint32_t opcode, char *buf, size_t len)
{
	static const struct { uint8_t op; const char *name; } ops[] = {
		{ 0x00, "TEST_UNIT_READY" }, { 0x03, "REQUEST_SENSE" }, { 0x08, "READ_6" },
		{ 0x0a, "WRITE_6" }, { 0x12, "INQUIRY" }, { 0x15, "MODE_SELECT" },
		{ 0x1a, "MODE_SENSE" }, { 0x1b, "START_STOP" }, { 0x1e, "ALLOW_MEDIUM_REMOVAL" },
		{ 0x25, "READ_CAPACITY" }, { 0x28, "READ_10" }, { 0x2a, "WRITE_10" },
		{ 0x2f, "VERIFY" }, { 0x35, "SYNCHRONIZE_CACHE" }, { 0x41, "WRITE_SAME" },
		{ 0x42, "UNMAP" }, { 0x4d, "LOG_SENSE" }, { 0x55, "MODE_SELECT_10" },
		{ 0x5a, "MODE_SENSE_10" }, { 0x88, "READ_16" }, { 0x8a, "WRITE_16" },
		{ 0x8f, "VERIFY_16" }, { 0x91, "SYNCHRONIZE_CACHE_16" }, { 0x93, "WRITE_SAME_16" },
		{ 0x9e, "SERVICE_ACTION_IN_16" }, { 0xa0, "REPORT_LUNS" }, { 0xa3, "MAINTENANCE_IN" },
		{ 0xa8, "READ_12" }, { 0xaa, "WRITE_12" },
	};
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == opcode)
			return ops[i].name;
	snprintf(buf, len, "opcode_0x%02x", opcode & 0xff);
	return buf;
}

char *health_scsi_disk(const struct pa_health_scsi *s, char *buf, size_t len)
{
	char path[256];
	struct dirent *d;
	DIR *dir;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/class/scsi_device/%u:%u:%u:%u/device/block", sysfs_root,
		 s->host, s->channel, s->id, s->lun);
	dir = opendir(path);
	if (!dir)
		return buf;
	while ((d = readdir(dir))) {
		if (d->d_name[0] != '.') {
			snprintf(buf, len, "%s", d->d_name);
			break;
		}
	}
	closedir(dir);
	return buf;
}

/* ---- NVMe ------------------------------------------------------------------ */

/* Status field as the kernel keeps it (phase bit shifted out): SC in bits
 * 0-7, SCT in 8-10, CRD 11-12, More 13, DNR 14 (NVM Express Base Spec).
 */
#define NVME_SCT(s)	(((s) >> 8) & 7)
#define NVME_SC(s)	((s) & 0xff)
#define NVME_MORE	0x2000
#define NVME_DNR	0x4000

static const char *nvme_generic_sc(unsigned int sc)
{
	switch (sc) {
	case 0x00: return "success";
	case 0x01: return "invalid opcode";
	case 0x02: return "invalid field";
	case 0x03: return "command id conflict";
	case 0x04: return "data transfer error";
	case 0x05: return "aborted: power loss";
	case 0x06: return "internal error";
	case 0x07: return "abort requested";
	case 0x08: return "aborted: queue deleted";
	case 0x09: return "aborted: fused command failed";
	case 0x0a: return "aborted: missing fused command";
	case 0x0b: return "invalid namespace or format";
	case 0x0c: return "command sequence error";
	case 0x0d: return "invalid SGL descriptor";
	case 0x15: return "operation denied";
	case 0x1d: return "sanitize in progress";
	case 0x21: return "namespace write protected";
	case 0x22: return "command interrupted";
	case 0x80: return "LBA out of range";
	case 0x81: return "capacity exceeded";
	case 0x82: return "namespace not ready";
	case 0x83: return "reservation conflict";
	case 0x84: return "format in progress";
	}
	return NULL;
}

static const char *nvme_media_sc(unsigned int sc)
{
	switch (sc) {
	case 0x80: return "write fault";
	case 0x81: return "unrecovered read error";
	case 0x82: return "end-to-end guard check error";
	case 0x83: return "end-to-end application tag check error";
	case 0x84: return "end-to-end reference tag check error";
	case 0x85: return "compare failure";
	case 0x86: return "access denied";
	case 0x87: return "deallocated or unwritten block";
	}
	return NULL;
}

static const char *nvme_path_sc(unsigned int sc)
{
	switch (sc) {
	case 0x00: return "internal path error";
	case 0x01: return "asymmetric access persistent loss";
	case 0x02: return "asymmetric access inaccessible";
	case 0x03: return "asymmetric access transition";
	case 0x60: return "controller pathing error";
	case 0x70: return "host pathing error";
	case 0x71: return "aborted by host";
	}
	return NULL;
}

char *health_nvme_status(uint16_t status, char *buf, size_t len)
{
	static const char *const types[8] = {
		"generic", "command specific", "media", "path", NULL, NULL, NULL, "vendor specific",
	};
	unsigned int sct = NVME_SCT(status), sc = NVME_SC(status);
	const char *what = NULL;

	if (sct == 0)
		what = nvme_generic_sc(sc);
	else if (sct == 2)
		what = nvme_media_sc(sc);
	else if (sct == 3)
		what = nvme_path_sc(sc);
	if (types[sct])
		snprintf(buf, len, "%s: ", types[sct]);
	else
		snprintf(buf, len, "type %u: ", sct);
	if (what)
		append(buf, len, "%s", what);
	else
		append(buf, len, "code 0x%02x", sc);
	if (status & NVME_DNR)
		append(buf, len, ", do not retry");
	return buf;
}

/* ---- names from the running kernel's BTF ------------------------------------ */

char *health_taint_letters(uint32_t taints, char *buf, size_t len)
{
	static const char letters[] = "PFSRMBUDAWCIOELKXTNJ";
	size_t n = 0;
	unsigned int bit;

	for (bit = 0; bit < 32 && n + 1 < len; bit++)
		if (taints & (1U << bit))
			buf[n++] = bit < sizeof(letters) - 1 ? letters[bit] : '?';
	buf[n] = '\0';
	return buf;
}

const char *health_error_detector(uint32_t detector, char *buf, size_t len)
{
	static struct btf_enum_table t;
	static int loaded;
	const char *name;

	if (!loaded)
		loaded = btf_enum_load(&t, NULL, "error_detector") == 0 ? 1 : -1;
	name = loaded > 0 ? btf_enum_name(&t, detector) : NULL;
	if (name)
		return btf_enum_pretty(name, "ERROR_DETECTOR_", buf, len);
	snprintf(buf, len, "detector_%u", detector);
	return buf;
}

/* The soft-IRQ vectors are an anonymous enum in the kernel: found by its
 * NR_SOFTIRQS enumerator.
 */
static const struct btf_type *softirq_enum(const struct btf **btf_out)
{
	const struct btf *btf = btf_vmlinux();
	__u32 id, n;

	if (!btf)
		return NULL;
	n = btf__type_cnt(btf);
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_enum *e;
		int i;

		if (!btf_is_enum(t) || t->name_off)
			continue;
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++) {
			if (!strcmp(btf__name_by_offset(btf, e[i].name_off), "NR_SOFTIRQS")) {
				*btf_out = btf;
				return t;
			}
		}
	}
	return NULL;
}

unsigned int health_softirq_count(void)
{
	const struct btf *btf;
	const struct btf_type *t = softirq_enum(&btf);
	const struct btf_enum *e;
	int i;

	if (t) {
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++)
			if (!strcmp(btf__name_by_offset(btf, e[i].name_off), "NR_SOFTIRQS") &&
			    e[i].val > 0 && e[i].val <= PA_HEALTH_SOFTIRQS)
				return (unsigned int)e[i].val;
	}
	return 10;
}

const char *health_softirq_name(unsigned int vec, char *buf, size_t len)
{
	const struct btf *btf;
	const struct btf_type *t = softirq_enum(&btf);
	const struct btf_enum *e;
	int i;

	if (t) {
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++) {
			const char *name = btf__name_by_offset(btf, e[i].name_off);
			size_t n = strlen(name);

			if ((unsigned int)e[i].val != vec || strcmp(name, "NR_SOFTIRQS") == 0)
				continue;
			if (n > 8 && !strcmp(name + n - 8, "_SOFTIRQ"))
				n -= 8;
			if (n >= len)
				n = len - 1;
			for (size_t k = 0; k < n; k++)
				buf[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
			buf[n] = '\0';
			return buf;
		}
	}
	snprintf(buf, len, "vec%u", vec);
	return buf;
}

/* ---- severity -------------------------------------------------------------------- */

enum health_severity health_event_severity(const struct pa_health_event *e)
{
	switch (e->kind) {
	case PA_HK_SCSI_DISPATCH:
		return HEALTH_SEV_WARNING;	/* the midlayer retries it */
	case PA_HK_AER:
		if (e->u.aer.severity == AER_CORRECTABLE)
			return HEALTH_SEV_WARNING;
		return e->u.aer.severity == AER_FATAL ? HEALTH_SEV_CRITICAL : HEALTH_SEV_ERROR;
	case PA_HK_MCE:
		return health_mce_severity(e->u.mce.status);
	case PA_HK_ERROR_REPORT: {
		char name[32];

		/* A WARN() is a kernel bug report; KFENCE/KASAN saw memory corruption. */
		return strcmp(health_error_detector(e->u.report.detector, name, sizeof(name)),
			      "warn") ? HEALTH_SEV_CRITICAL : HEALTH_SEV_WARNING;
	}
	case PA_HK_MODULE_LOAD:
		return e->u.module.taints ? HEALTH_SEV_NOTICE : HEALTH_SEV_INFO;
	case PA_HK_BLOCK_ERROR:
	case PA_HK_SCSI_TIMEOUT:
	case PA_HK_SCSI_ERROR:
	case PA_HK_NVME_ERROR:
	case PA_HK_TX_TIMEOUT:
	case PA_HK_DEVLINK:
	case PA_HK_OOM_KILL:
		return HEALTH_SEV_ERROR;
	}
	return HEALTH_SEV_NOTICE;
}

enum health_severity health_kmod_severity(uint32_t code, bool has_error)
{
	switch (code) {
	case PA_EV_DIE:
		return HEALTH_SEV_CRITICAL;
	case PA_EV_PROBE_FAILED:
		return HEALTH_SEV_ERROR;
	case PA_EV_CARRIER_DOWN:
		return HEALTH_SEV_WARNING;
	case PA_EV_DEVICE_REMOVED:
	case PA_EV_DRIVER_UNBOUND:
		return HEALTH_SEV_NOTICE;
	}
	return has_error ? HEALTH_SEV_ERROR : HEALTH_SEV_INFO;
}

/* ---- one event, by kind ---------------------------------------------------------- */

static void view_block(const struct pa_health_event *e, struct health_view *v)
{
	const struct pa_health_block *b = &e->u.block;
	const struct disk_ops *ops = disk_ops_kernel();
	const char *status = disk_status_name(b->status);
	char op[32];
	NAME(device, e);

	if (device[0])
		snprintf(v->subject, sizeof(v->subject), "%s", device);
	else
		blkdev_name(PA_KDEV_MAJOR(b->dev), PA_KDEV_MINOR(b->dev), v->subject,
			    sizeof(v->subject));
	snprintf(v->text, sizeof(v->text), "%s sector %" PRIu64 ", %u bytes: %s (status %u)",
		 disk_op_name(ops, b->cmd_flags & disk_ops_mask(ops), op, sizeof(op)),
		 (uint64_t)b->sector, b->bytes, status ? status : "unknown", b->status);
}

static void scsi_subject(const struct pa_health_scsi *s, char *buf, size_t len)
{
	char disk[PA_HEALTH_NAME_LEN + 32];

	health_scsi_disk(s, disk, sizeof(disk));
	if (disk[0])
		snprintf(buf, len, "%s (%u:%u:%u:%u)", disk, s->host, s->channel, s->id, s->lun);
	else
		snprintf(buf, len, "%u:%u:%u:%u", s->host, s->channel, s->id, s->lun);
}

static void view_scsi(const struct pa_health_event *e, struct health_view *v)
{
	const struct pa_health_scsi *s = &e->u.scsi;
	char opbuf[24], hb[24], st[24];
	const char *why, *op;

	scsi_subject(s, v->subject, sizeof(v->subject));
	op = health_scsi_opcode(s->opcode, opbuf, sizeof(opbuf));
	if (e->kind == PA_HK_SCSI_DISPATCH) {
		why = scsi_mlqueue(s->result);
		snprintf(v->text, sizeof(v->text), "%s refused by the host: %s (%d)", op,
			 why ? why : "error", s->result);
	} else if (e->kind == PA_HK_SCSI_TIMEOUT) {
		snprintf(v->text, sizeof(v->text), "%s timed out", op);
	} else {
		snprintf(v->text, sizeof(v->text), "%s failed: result 0x%08x %s %s", op,
			 (uint32_t)s->result, health_scsi_host_byte(s->result, hb, sizeof(hb)),
			 health_scsi_status(s->result, st, sizeof(st)));
	}
}

static void view_nvme(const struct pa_health_event *e, struct health_view *v)
{
	const struct pa_health_nvme *n = &e->u.nvme;
	char st[96];
	NAME(device, e);

	if (device[0])
		snprintf(v->subject, sizeof(v->subject), "%s", device);
	else
		snprintf(v->subject, sizeof(v->subject), "nvme%d", n->ctrl_id);
	snprintf(v->text, sizeof(v->text), "qid %d cid %d: status 0x%04x %s, %u retries", n->qid,
		 n->cid, n->status, health_nvme_status(n->status, st, sizeof(st)), n->retries);
}

static void view_aer(const struct pa_health_event *e, struct health_view *v)
{
	const struct pa_health_aer *a = &e->u.aer;
	const char *names[8];
	size_t n, i;
	NAME(device, e);

	snprintf(v->subject, sizeof(v->subject), "%s", device[0] ? device : "?");
	snprintf(v->text, sizeof(v->text), "%s, status 0x%08x:", health_aer_severity_name(a->severity),
		 a->status);
	n = health_aer_errors(a->status, a->severity, names, 8);
	for (i = 0; i < n && i < 8; i++)
		append(v->text, sizeof(v->text), "%s %s", i ? "," : "", names[i]);
	if (a->tlp_valid)
		append(v->text, sizeof(v->text), "; TLP header %08x %08x %08x %08x", a->tlp[0],
		       a->tlp[1], a->tlp[2], a->tlp[3]);
}

static void view_mce(const struct pa_health_event *e, struct health_view *v)
{
	const struct pa_health_mce *m = &e->u.mce;
	char flags[64], cls[64];

	snprintf(v->subject, sizeof(v->subject), "cpu %u bank %u", m->cpu, m->bank);
	snprintf(v->text, sizeof(v->text), "%s %s error, status 0x%016" PRIx64 " [%s]",
		 m->status & MCI_STATUS_UC ? "uncorrected" : "corrected",
		 health_mce_error_class(m->status, cls, sizeof(cls)), (uint64_t)m->status,
		 health_mce_flags(m->status, flags, sizeof(flags)));
	if (m->status & MCI_STATUS_ADDRV)
		append(v->text, sizeof(v->text), " addr 0x%" PRIx64, (uint64_t)m->addr);
	if (m->status & MCI_STATUS_MISCV)
		append(v->text, sizeof(v->text), " misc 0x%" PRIx64, (uint64_t)m->misc);
}

static void view_oom(const struct pa_health_event *e, struct health_view *v)
{
	const struct pa_health_oom *o = &e->u.oom;
	char victim[PA_HEALTH_COMM_LEN + 1], comm[PA_HEALTH_COMM_LEN + 1];

	copy_name(victim, sizeof(victim), o->comm, sizeof(o->comm));
	copy_name(comm, sizeof(comm), e->comm, sizeof(e->comm));
	snprintf(v->subject, sizeof(v->subject), "pid %d (%s)", o->pid, victim[0] ? victim : "?");
	snprintf(v->text, sizeof(v->text), "killed");
	if (o->has_memory)
		append(v->text, sizeof(v->text), ": total-vm %" PRIu64 "kB, anon-rss %" PRIu64
		       "kB, file-rss %" PRIu64 "kB, shmem-rss %" PRIu64 "kB",
		       (uint64_t)o->total_vm_kb, (uint64_t)o->anon_rss_kb,
		       (uint64_t)o->file_rss_kb, (uint64_t)o->shmem_rss_kb);
	append(v->text, sizeof(v->text), "; oom_score_adj %d, OOM killer run by pid %u (%s)",
	       o->oom_score_adj, e->pid, e->comm[0] ? comm : "?");
}

static void view_devlink(const struct pa_health_event *e, struct health_view *v)
{
	char reporter[PA_HEALTH_REPORTER_LEN + 1], msg[PA_HEALTH_DETAIL_LEN];
	NAME(device, e);
	NAME(driver, e);

	copy_name(reporter, sizeof(reporter), e->detail, PA_HEALTH_REPORTER_LEN);
	copy_name(msg, sizeof(msg), e->detail + PA_HEALTH_REPORTER_LEN,
		  PA_HEALTH_DETAIL_LEN - PA_HEALTH_REPORTER_LEN);
	snprintf(v->subject, sizeof(v->subject), "%s%s%s%s", device, driver[0] ? " (" : "", driver,
		 driver[0] ? ")" : "");
	snprintf(v->text, sizeof(v->text), "reporter %s: %s", reporter, msg);
}

void health_event_view(const struct pa_health_event *e, struct health_view *v)
{
	char name[32];
	NAME(device, e);
	NAME(driver, e);

	memset(v, 0, sizeof(*v));
	snprintf(v->type, sizeof(v->type), "%s", health_kind_name(e->kind, name, sizeof(name)));
	v->severity = health_event_severity(e);
	switch (e->kind) {
	case PA_HK_BLOCK_ERROR:
		view_block(e, v);
		break;
	case PA_HK_SCSI_DISPATCH:
	case PA_HK_SCSI_TIMEOUT:
	case PA_HK_SCSI_ERROR:
		view_scsi(e, v);
		break;
	case PA_HK_NVME_ERROR:
		view_nvme(e, v);
		break;
	case PA_HK_AER:
		view_aer(e, v);
		break;
	case PA_HK_MCE:
		view_mce(e, v);
		break;
	case PA_HK_TX_TIMEOUT:
		snprintf(v->subject, sizeof(v->subject), "%s%s%s%s", device, driver[0] ? " (" : "",
			 driver, driver[0] ? ")" : "");
		snprintf(v->text, sizeof(v->text), "transmit queue %d timed out", e->u.tx.queue);
		break;
	case PA_HK_DEVLINK:
		view_devlink(e, v);
		break;
	case PA_HK_OOM_KILL:
		view_oom(e, v);
		break;
	case PA_HK_ERROR_REPORT:
		snprintf(v->subject, sizeof(v->subject), "%s",
			 health_error_detector(e->u.report.detector, name, sizeof(name)));
		snprintf(v->text, sizeof(v->text), "report at 0x%" PRIx64, (uint64_t)e->u.report.id);
		break;
	case PA_HK_MODULE_LOAD: {
		char taint[40];

		snprintf(v->subject, sizeof(v->subject), "%s", driver);
		snprintf(v->text, sizeof(v->text), "loaded");
		if (e->u.module.taints)
			append(v->text, sizeof(v->text), ", taints kernel: %s",
			       health_taint_letters(e->u.module.taints, taint, sizeof(taint)));
		break;
	}
	default:
		snprintf(v->subject, sizeof(v->subject), "%s", device[0] ? device : driver);
		break;
	}
}

/* ---- JSON ------------------------------------------------------------------- */

static void json_str(cJSON *o, const char *key, const char *val)
{
	if (val && val[0])
		cJSON_AddStringToObject(o, key, val);
}

static void json_hex(cJSON *o, const char *key, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	cJSON_AddStringToObject(o, key, buf);
}

static void json_common(cJSON *o, uint64_t real_ns, uint64_t mono, const char *type,
			enum health_severity sev)
{
	char when[40];

	cJSON_AddStringToObject(o, "time", format_iso8601(real_ns, when, sizeof(when)));
	cJSON_AddNumberToObject(o, "real_ns", (double)real_ns);
	if (mono)
		cJSON_AddNumberToObject(o, "mono_ns", (double)mono);
	cJSON_AddStringToObject(o, "source", "bpf");
	cJSON_AddStringToObject(o, "type", type);
	cJSON_AddStringToObject(o, "severity", health_severity_name(sev));
}

static void json_task(cJSON *o, const char *key, uint32_t pid, const char *comm, size_t len)
{
	char name[PA_HEALTH_COMM_LEN + 1];
	cJSON *t = cJSON_AddObjectToObject(o, key);

	copy_name(name, sizeof(name), comm, len);
	cJSON_AddNumberToObject(t, "pid", pid);
	cJSON_AddStringToObject(t, "comm", name);
}

static void json_block(cJSON *o, const struct pa_health_event *e, const struct health_view *v)
{
	const struct pa_health_block *b = &e->u.block;
	const struct disk_ops *ops = disk_ops_kernel();
	const char *status = disk_status_name(b->status);
	char buf[32];

	cJSON_AddStringToObject(o, "device", v->subject);
	snprintf(buf, sizeof(buf), "%u:%u", PA_KDEV_MAJOR(b->dev), PA_KDEV_MINOR(b->dev));
	cJSON_AddStringToObject(o, "dev", buf);
	cJSON_AddStringToObject(o, "op", disk_op_name(ops, b->cmd_flags & disk_ops_mask(ops), buf,
						      sizeof(buf)));
	cJSON_AddNumberToObject(o, "sector", (double)b->sector);
	cJSON_AddNumberToObject(o, "bytes", b->bytes);
	cJSON_AddNumberToObject(o, "status", b->status);
	cJSON_AddStringToObject(o, "status_name", status ? status : "unknown");
}

static void json_scsi(cJSON *o, const struct pa_health_event *e)
{
	const struct pa_health_scsi *s = &e->u.scsi;
	char disk[PA_HEALTH_NAME_LEN + 32], buf[32];

	health_scsi_disk(s, disk, sizeof(disk));
	snprintf(buf, sizeof(buf), "%u:%u:%u:%u", s->host, s->channel, s->id, s->lun);
	cJSON_AddStringToObject(o, "device", disk[0] ? disk : buf);
	cJSON_AddStringToObject(o, "scsi_address", buf);
	cJSON_AddStringToObject(o, "opcode", health_scsi_opcode(s->opcode, buf, sizeof(buf)));
	if (e->kind == PA_HK_SCSI_DISPATCH) {
		const char *why = scsi_mlqueue(s->result);

		cJSON_AddNumberToObject(o, "rtn", s->result);
		json_str(o, "reason", why);
		return;
	}
	json_hex(o, "result", (uint32_t)s->result);
	cJSON_AddStringToObject(o, "host_byte", health_scsi_host_byte(s->result, buf, sizeof(buf)));
	cJSON_AddStringToObject(o, "status", health_scsi_status(s->result, buf, sizeof(buf)));
}

static void json_nvme(cJSON *o, const struct pa_health_event *e, const struct health_view *v)
{
	const struct pa_health_nvme *n = &e->u.nvme;
	char st[96];

	cJSON_AddStringToObject(o, "device", v->subject);
	cJSON_AddNumberToObject(o, "ctrl_id", n->ctrl_id);
	cJSON_AddNumberToObject(o, "qid", n->qid);
	cJSON_AddNumberToObject(o, "cid", n->cid);
	json_hex(o, "status", n->status);
	cJSON_AddNumberToObject(o, "status_type", NVME_SCT(n->status));
	cJSON_AddNumberToObject(o, "status_code", NVME_SC(n->status));
	cJSON_AddStringToObject(o, "status_name", health_nvme_status(n->status, st, sizeof(st)));
	cJSON_AddBoolToObject(o, "do_not_retry", (n->status & NVME_DNR) != 0);
	cJSON_AddNumberToObject(o, "retries", n->retries);
	json_hex(o, "result", n->result);
}

static void json_aer(cJSON *o, const struct pa_health_event *e, const struct health_view *v)
{
	const struct pa_health_aer *a = &e->u.aer;
	const char *names[32];
	cJSON *arr;
	size_t n, i;

	cJSON_AddStringToObject(o, "device", v->subject);
	cJSON_AddStringToObject(o, "aer_severity", health_aer_severity_name(a->severity));
	json_hex(o, "status", a->status);
	arr = cJSON_AddArrayToObject(o, "errors");
	n = health_aer_errors(a->status, a->severity, names, 32);
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
	if (a->tlp_valid) {
		arr = cJSON_AddArrayToObject(o, "tlp_header");
		for (i = 0; i < 4; i++) {
			char w[12];

			snprintf(w, sizeof(w), "%08x", a->tlp[i]);
			cJSON_AddItemToArray(arr, cJSON_CreateString(w));
		}
	}
}

static void json_mce(cJSON *o, const struct pa_health_event *e)
{
	const struct pa_health_mce *m = &e->u.mce;
	char buf[64];

	cJSON_AddNumberToObject(o, "cpu", m->cpu);
	cJSON_AddNumberToObject(o, "bank", m->bank);
	cJSON_AddBoolToObject(o, "uncorrected", (m->status & MCI_STATUS_UC) != 0);
	cJSON_AddStringToObject(o, "error_class", health_mce_error_class(m->status, buf, sizeof(buf)));
	cJSON_AddStringToObject(o, "flags", health_mce_flags(m->status, buf, sizeof(buf)));
	json_hex(o, "status", m->status);
	json_hex(o, "addr", m->addr);
	json_hex(o, "misc", m->misc);
	json_hex(o, "synd", m->synd);
	json_hex(o, "ipid", m->ipid);
	json_hex(o, "mcgstatus", m->mcgstatus);
	json_hex(o, "mcgcap", m->mcgcap);
	json_hex(o, "ip", m->ip);
	cJSON_AddNumberToObject(o, "cs", m->cs);
	cJSON_AddNumberToObject(o, "socket", m->socketid);
	cJSON_AddNumberToObject(o, "apicid", m->apicid);
	json_hex(o, "cpuid", m->cpuid);
	cJSON_AddNumberToObject(o, "walltime", (double)m->walltime);
}

static void json_oom(cJSON *o, const struct pa_health_event *e)
{
	const struct pa_health_oom *m = &e->u.oom;
	char comm[PA_HEALTH_COMM_LEN + 1];
	cJSON *victim = cJSON_AddObjectToObject(o, "victim");

	copy_name(comm, sizeof(comm), m->comm, sizeof(m->comm));
	cJSON_AddNumberToObject(victim, "pid", m->pid);
	cJSON_AddStringToObject(victim, "comm", comm);
	cJSON_AddNumberToObject(victim, "uid", m->uid);
	cJSON_AddNumberToObject(victim, "oom_score_adj", m->oom_score_adj);
	if (m->has_memory) {
		cJSON_AddNumberToObject(victim, "total_vm_kb", (double)m->total_vm_kb);
		cJSON_AddNumberToObject(victim, "anon_rss_kb", (double)m->anon_rss_kb);
		cJSON_AddNumberToObject(victim, "file_rss_kb", (double)m->file_rss_kb);
		cJSON_AddNumberToObject(victim, "shmem_rss_kb", (double)m->shmem_rss_kb);
		cJSON_AddNumberToObject(victim, "pgtables_kb", (double)m->pgtables_kb);
	}
	json_task(o, "killed_by", e->pid, e->comm, sizeof(e->comm));
}

cJSON *health_event_json(const struct pa_health_event *e)
{
	cJSON *o = cJSON_CreateObject();
	struct health_view v;
	char buf[48];
	NAME(device, e);
	NAME(driver, e);

	if (!o)
		return NULL;
	health_event_view(e, &v);
	json_common(o, mono_to_realtime_ns(e->ts_ns), e->ts_ns, v.type, v.severity);
	cJSON_AddNumberToObject(o, "cpu", e->cpu);
	switch (e->kind) {
	case PA_HK_BLOCK_ERROR:
		json_block(o, e, &v);
		break;
	case PA_HK_SCSI_DISPATCH:
	case PA_HK_SCSI_TIMEOUT:
	case PA_HK_SCSI_ERROR:
		json_scsi(o, e);
		break;
	case PA_HK_NVME_ERROR:
		json_nvme(o, e, &v);
		break;
	case PA_HK_AER:
		json_aer(o, e, &v);
		break;
	case PA_HK_MCE:
		json_mce(o, e);
		break;
	case PA_HK_TX_TIMEOUT:
		json_str(o, "device", device);
		json_str(o, "driver", driver);
		cJSON_AddNumberToObject(o, "queue", e->u.tx.queue);
		break;
	case PA_HK_DEVLINK: {
		char rep[PA_HEALTH_REPORTER_LEN + 1], msg[PA_HEALTH_DETAIL_LEN];

		copy_name(rep, sizeof(rep), e->detail, PA_HEALTH_REPORTER_LEN);
		copy_name(msg, sizeof(msg), e->detail + PA_HEALTH_REPORTER_LEN,
			  PA_HEALTH_DETAIL_LEN - PA_HEALTH_REPORTER_LEN);
		json_str(o, "device", device);
		json_str(o, "driver", driver);
		cJSON_AddStringToObject(o, "reporter", rep);
		cJSON_AddStringToObject(o, "message", msg);
		break;
	}
	case PA_HK_OOM_KILL:
		json_oom(o, e);
		break;
	case PA_HK_ERROR_REPORT:
		cJSON_AddStringToObject(o, "detector",
					health_error_detector(e->u.report.detector, buf, sizeof(buf)));
		json_hex(o, "id", e->u.report.id);
		json_task(o, "task", e->pid, e->comm, sizeof(e->comm));
		break;
	case PA_HK_MODULE_LOAD:
		cJSON_AddStringToObject(o, "driver", driver);
		cJSON_AddStringToObject(o, "module", driver);
		cJSON_AddNumberToObject(o, "taints", e->u.module.taints);
		cJSON_AddStringToObject(o, "taint_flags",
					health_taint_letters(e->u.module.taints, buf, sizeof(buf)));
		json_task(o, "task", e->pid, e->comm, sizeof(e->comm));
		break;
	default:
		json_str(o, "device", device);
		json_str(o, "driver", driver);
		break;
	}
	cJSON_AddStringToObject(o, "message", v.text);
	return o;
}

/* ---- from the aggregates ----------------------------------------------------- */

static void storm_numbers(const struct health_irq_totals *t, double seconds, double *rate,
			  double *share, uint64_t *p99)
{
	*rate = seconds > 0 ? (double)t->count / seconds : 0;
	*share = seconds > 0 ? (double)t->total_ns / (seconds * 1e9) : 0;
	*p99 = hist_percentile(t->hist, 0.99, t->max_ns);
}

void health_storm_view(const struct health_irq_totals *t, bool soft, double seconds,
		       struct health_view *v)
{
	double rate, share;
	uint64_t p99;
	char d[24];

	memset(v, 0, sizeof(*v));
	storm_numbers(t, seconds, &rate, &share, &p99);
	snprintf(v->type, sizeof(v->type), "%s", soft ? "softirq_storm" : "irq_storm");
	v->severity = HEALTH_SEV_WARNING;
	if (soft)
		snprintf(v->subject, sizeof(v->subject), "softirq %s", t->name);
	else
		snprintf(v->subject, sizeof(v->subject), "irq %u %s", t->irq, t->name);
	snprintf(v->text, sizeof(v->text), "%.0f/s, %.1f%% of a CPU, p99 %s", rate, share * 100,
		 format_duration(p99, d, sizeof(d)));
}

cJSON *health_storm_json(const struct health_irq_totals *t, bool soft, double seconds,
			 uint64_t real_ns)
{
	cJSON *o = cJSON_CreateObject();
	struct health_view v;
	double rate, share;
	uint64_t p99;

	if (!o)
		return NULL;
	health_storm_view(t, soft, seconds, &v);
	storm_numbers(t, seconds, &rate, &share, &p99);
	json_common(o, real_ns, 0, v.type, v.severity);
	if (soft)
		cJSON_AddStringToObject(o, "softirq", t->name);
	else {
		cJSON_AddNumberToObject(o, "irq", t->irq);
		json_str(o, "device", t->name);
	}
	cJSON_AddNumberToObject(o, "count", (double)t->count);
	cJSON_AddNumberToObject(o, "seconds", seconds);
	cJSON_AddNumberToObject(o, "rate", rate);
	cJSON_AddNumberToObject(o, "cpu_share", share);
	cJSON_AddNumberToObject(o, "p99_ns", (double)p99);
	cJSON_AddNumberToObject(o, "max_ns", (double)t->max_ns);
	cJSON_AddStringToObject(o, "message", v.text);
	return o;
}

static void suppressed_subject(const struct health_suppressed *s, char *buf, size_t len)
{
	char dev[PA_HEALTH_NAME_LEN + 1];

	copy_name(dev, sizeof(dev), s->device, sizeof(s->device));
	if (dev[0])
		snprintf(buf, len, "%s", dev);
	else if (s->key.kind == PA_HK_MCE)
		snprintf(buf, len, "bank %" PRIu64, (uint64_t)s->key.id);
	else if (s->key.kind == PA_HK_ERROR_REPORT)
		health_error_detector((uint32_t)s->key.id, buf, len);
	else
		snprintf(buf, len, "key %016" PRIx64, (uint64_t)s->key.id);
}

void health_suppressed_view(const struct health_suppressed *s, double seconds,
			    struct health_view *v)
{
	char kind[32];

	memset(v, 0, sizeof(*v));
	snprintf(v->type, sizeof(v->type), "rate_limited");
	v->severity = HEALTH_SEV_NOTICE;
	suppressed_subject(s, v->subject, sizeof(v->subject));
	snprintf(v->text, sizeof(v->text), "%" PRIu64 " more %s events held back by the rate limit "
		 "in %.1fs", (uint64_t)s->count, health_kind_name(s->key.kind, kind, sizeof(kind)),
		 seconds);
}

cJSON *health_suppressed_json(const struct health_suppressed *s, double seconds,
			      uint64_t real_ns)
{
	cJSON *o = cJSON_CreateObject();
	struct health_view v;
	char kind[32];

	if (!o)
		return NULL;
	health_suppressed_view(s, seconds, &v);
	json_common(o, real_ns, 0, v.type, v.severity);
	cJSON_AddStringToObject(o, "device", v.subject);
	cJSON_AddStringToObject(o, "kind", health_kind_name(s->key.kind, kind, sizeof(kind)));
	cJSON_AddNumberToObject(o, "suppressed", (double)s->count);
	cJSON_AddNumberToObject(o, "seconds", seconds);
	cJSON_AddStringToObject(o, "message", v.text);
	return o;
}

/* ---- IRQ time tables ------------------------------------------------------------ */

static int by_time_desc(const void *a, const void *b)
{
	const struct health_irq_totals *x = a, *y = b;

	return x->total_ns < y->total_ns ? 1 : x->total_ns > y->total_ns ? -1 : 0;
}

/* The rows of irqs, busiest first; caller frees. */
static struct health_irq_totals *sorted_rows(const struct health_irq_set *irqs)
{
	struct health_irq_totals *rows = malloc((irqs->n ? irqs->n : 1) * sizeof(*rows));

	if (!rows)
		return NULL;
	if (irqs->n)
		memcpy(rows, irqs->rows, irqs->n * sizeof(*rows));
	qsort(rows, irqs->n, sizeof(*rows), by_time_desc);
	return rows;
}

static void table_row(FILE *f, const char *id, const struct health_irq_totals *t, double seconds)
{
	char avg[24], p50[24], p99[24], max[24];

	fprintf(f, "  %-8s %-20s %10" PRIu64 " %10.1f %7.2f%% %9s %9s %9s %9s\n", id, t->name,
		(uint64_t)t->count, seconds > 0 ? (double)t->count / seconds : 0.0,
		seconds > 0 ? (double)t->total_ns / (seconds * 1e7) : 0.0,
		format_duration(t->count ? t->total_ns / t->count : 0, avg, sizeof(avg)),
		format_duration(hist_percentile(t->hist, 0.5, t->max_ns), p50, sizeof(p50)),
		format_duration(hist_percentile(t->hist, 0.99, t->max_ns), p99, sizeof(p99)),
		format_duration(t->max_ns, max, sizeof(max)));
}

void health_irq_table_print(FILE *f, const struct health_irq_set *irqs,
			    const struct health_irq_totals *soft, unsigned int nsoft,
			    double seconds, size_t top, const char *title)
{
	struct health_irq_totals *rows = sorted_rows(irqs);
	char id[16];
	size_t i;

	fprintf(f, "-- %s (%.1fs) --\n", title, seconds);
	fprintf(f, "  %-8s %-20s %10s %10s %8s %9s %9s %9s %9s\n", "IRQ", "HANDLER", "COUNT",
		"RATE/s", "CPU", "AVG", "P50", "P99", "MAX");
	for (i = 0; rows && i < irqs->n && (!top || i < top); i++) {
		snprintf(id, sizeof(id), "%u", rows[i].irq);
		table_row(f, id, &rows[i], seconds);
	}
	if (rows && top && irqs->n > top)
		fprintf(f, "  (%zu more lines)\n", irqs->n - top);
	free(rows);
	for (i = 0; i < nsoft; i++)
		if (soft[i].count)
			table_row(f, "softirq", &soft[i], seconds);
}

static cJSON *table_entry(const struct health_irq_totals *t, double seconds, bool soft)
{
	cJSON *o = cJSON_CreateObject();

	if (!o)
		return NULL;
	if (soft)
		cJSON_AddStringToObject(o, "softirq", t->name);
	else {
		cJSON_AddNumberToObject(o, "irq", t->irq);
		cJSON_AddStringToObject(o, "name", t->name);
	}
	cJSON_AddNumberToObject(o, "count", (double)t->count);
	cJSON_AddNumberToObject(o, "rate", seconds > 0 ? (double)t->count / seconds : 0);
	cJSON_AddNumberToObject(o, "total_ns", (double)t->total_ns);
	cJSON_AddNumberToObject(o, "cpu_share", seconds > 0 ? (double)t->total_ns / (seconds * 1e9) : 0);
	cJSON_AddNumberToObject(o, "p50_ns", (double)hist_percentile(t->hist, 0.5, t->max_ns));
	cJSON_AddNumberToObject(o, "p99_ns", (double)hist_percentile(t->hist, 0.99, t->max_ns));
	cJSON_AddNumberToObject(o, "max_ns", (double)t->max_ns);
	return o;
}

cJSON *health_irq_table_json(const struct health_irq_set *irqs,
			     const struct health_irq_totals *soft, unsigned int nsoft,
			     double seconds, bool final, uint64_t real_ns)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	struct health_irq_totals *rows = sorted_rows(irqs);
	char when[40];
	size_t i;

	if (!o || !rows) {
		cJSON_Delete(o);
		free(rows);
		return NULL;
	}
	cJSON_AddStringToObject(o, "time", format_iso8601(real_ns, when, sizeof(when)));
	cJSON_AddNumberToObject(o, "real_ns", (double)real_ns);
	cJSON_AddStringToObject(o, "source", "bpf");
	cJSON_AddStringToObject(o, "type", "irq_time");
	cJSON_AddNumberToObject(o, "seconds", seconds);
	cJSON_AddBoolToObject(o, "final", final);
	arr = cJSON_AddArrayToObject(o, "irqs");
	for (i = 0; i < irqs->n; i++)
		cJSON_AddItemToArray(arr, table_entry(&rows[i], seconds, false));
	arr = cJSON_AddArrayToObject(o, "softirqs");
	for (i = 0; i < nsoft; i++)
		cJSON_AddItemToArray(arr, table_entry(&soft[i], seconds, true));
	free(rows);
	return o;
}
