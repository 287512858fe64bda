// SPDX-License-Identifier: GPL-2.0
/*
 * Decoding the health probe's events (agent/health_decode.c) from recorded
 * ones: the raw bytes bpf/health.bpf.c streams for a tracepoint record, with
 * values from real reports. This is the only test of the sources that
 * cannot be driven on the test machines: PCIe AER, machine checks, NVMe,
 * devlink health reports, KFENCE/KASAN error reports. Also the kernel's
 * rate-limit arithmetic (include/perfagent/health.h) with a fake clock.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cjson/cJSON.h>

#include "btf_enums.h"
#include "check.h"
#include "health_bpf.h"
#include "health_decode.h"
#include "perfagent/genl.h"

/*
 * Complete an event as the probe streams it (the union fields are set by
 * the caller), and pass it through a byte buffer as the ring buffer does.
 */
static void record(struct pa_health_event *e, uint32_t kind, const char *device,
		   const char *driver)
{
	unsigned char raw[sizeof(*e)];

	e->kind = kind;
	e->ts_ns = 1000000000ULL;
	if (device)
		memcpy(e->device, device, strnlen(device, sizeof(e->device)));
	if (driver)
		memcpy(e->driver, driver, strnlen(driver, sizeof(e->driver)));
	memcpy(raw, e, sizeof(raw));
	memcpy(e, raw, sizeof(raw));
}

static const char *jstr(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItem(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* A corrected error on a PCIe root port, as rasdaemon shows them:
 * "0000:00:1c.5 PCIe Bus Error: severity=Corrected, type=Physical Layer,
 * (Receiver ID)" with status 0x00000041 (Receiver Error, Bad TLP).
 */
static void t_aer_corrected(void)
{
	struct pa_health_event e = { .u.aer = { .status = 0x41, .severity = 2 } };
	struct health_view v;
	cJSON *o, *errs;

	record(&e, PA_HK_AER, "0000:00:1c.5", NULL);
	health_event_view(&e, &v);
	CHECK_STREQ(v.type, "pcie_aer");
	CHECK(v.severity == HEALTH_SEV_WARNING);
	CHECK_STREQ(v.subject, "0000:00:1c.5");
	CHECK_STREQ(v.text, "corrected, status 0x00000041: Receiver Error, Bad TLP");
	o = health_event_json(&e);
	CHECK(o);
	CHECK_STREQ(jstr(o, "source"), "bpf");
	CHECK_STREQ(jstr(o, "severity"), "warning");
	CHECK_STREQ(jstr(o, "device"), "0000:00:1c.5");
	CHECK_STREQ(jstr(o, "aer_severity"), "corrected");
	errs = cJSON_GetObjectItem(o, "errors");
	CHECK(cJSON_GetArraySize(errs) == 2);
	CHECK_STREQ(cJSON_GetArrayItem(errs, 1)->valuestring, "Bad TLP");
	CHECK(!cJSON_GetObjectItem(o, "tlp_header"));
	cJSON_Delete(o);
}

/* Uncorrectable: a surprise link down is fatal, a completion timeout not;
 * the logged TLP header is shown.
 */
static void t_aer_uncorrectable(void)
{
	struct pa_health_event e = {
		.u.aer = { .status = 1U << 5, .severity = 1, .tlp_valid = 1,
			   .tlp = { 0x40000001, 0x0000000f, 0xfee00000, 0x00000000 } },
	};
	const char *names[4];
	struct health_view v;
	cJSON *o;

	record(&e, PA_HK_AER, "0000:03:00.0", NULL);
	health_event_view(&e, &v);
	CHECK(v.severity == HEALTH_SEV_CRITICAL);
	CHECKF(strstr(v.text, "fatal, status 0x00000020: Surprise Down Error"), "'%s'", v.text);
	CHECKF(strstr(v.text, "TLP header 40000001 0000000f fee00000 00000000"), "'%s'", v.text);
	o = health_event_json(&e);
	CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "tlp_header")) == 4);
	cJSON_Delete(o);
	e.u.aer.severity = 0;
	e.u.aer.status = (1U << 14) | (1U << 31);
	CHECK(health_event_severity(&e) == HEALTH_SEV_ERROR);
	CHECK(health_aer_errors(e.u.aer.status, 0, names, 4) == 2);
	CHECK_STREQ(names[0], "Completion Timeout");
	CHECK_STREQ(names[1], "bit 31");
	CHECK_STREQ(health_aer_severity_name(0), "non-fatal");
}

/* Three mce_record values: a corrected DRAM error (memory controller read),
 * an uncorrected action-required data cache error (SRAR) and a
 * processor-context-corrupt internal parity error.
 */
static void t_mce_records(void)
{
	struct pa_health_event e = {
		.u.mce = { .status = 0x9c00004000010090ULL, .addr = 0x12345000, .misc = 0x86,
			   .bank = 7, .cpu = 3, .socketid = 0, .mcgstatus = 0 },
	};
	struct health_view v;
	char buf[64];
	cJSON *o;

	record(&e, PA_HK_MCE, NULL, NULL);
	health_event_view(&e, &v);
	CHECK_STREQ(v.type, "machine_check");
	CHECK(v.severity == HEALTH_SEV_WARNING);
	CHECK_STREQ(v.subject, "cpu 3 bank 7");
	CHECKF(!strcmp(v.text, "corrected memory controller error, status 0x9c00004000010090 "
		       "[VAL,EN,MISCV,ADDRV] addr 0x12345000 misc 0x86"), "'%s'", v.text);
	o = health_event_json(&e);
	CHECK(cJSON_IsFalse(cJSON_GetObjectItem(o, "uncorrected")));
	CHECK_STREQ(jstr(o, "addr"), "0x12345000");
	CHECK(jnum(o, "bank") == 7);
	cJSON_Delete(o);

	e.u.mce.status = 0xbd80000000100134ULL;
	CHECK(health_event_severity(&e) == HEALTH_SEV_ERROR);
	CHECK_STREQ(health_mce_flags(e.u.mce.status, buf, sizeof(buf)), "VAL,UC,EN,MISCV,ADDRV,S,AR");
	CHECK_STREQ(health_mce_error_class(e.u.mce.status, buf, sizeof(buf)),
		    "L0 data cache, data read");

	e.u.mce.status = 0xb200000000000005ULL;
	CHECK(health_event_severity(&e) == HEALTH_SEV_CRITICAL);
	health_event_view(&e, &v);
	CHECKF(!strcmp(v.text, "uncorrected internal parity error, status 0xb200000000000005 "
		       "[VAL,UC,EN,PCC]"), "'%s'", v.text);
	CHECK_STREQ(health_mce_error_class(0x1014, buf, sizeof(buf)), "L0 data TLB");
	CHECK_STREQ(health_mce_error_class(0x0e0b, buf, sizeof(buf)), "bus/interconnect generic");
}

/* SCSI: a medium error (CHECK CONDITION), a host timeout, a refusal. */
static void t_scsi_results(void)
{
	struct pa_health_event e = {
		.u.scsi = { .host = 2, .channel = 0, .id = 0, .lun = 0, .result = 0x02,
			    .opcode = 0x28 },
	};
	struct health_view v;
	char buf[32];
	cJSON *o;

	health_decode_set_sysfs("/nonexistent");
	record(&e, PA_HK_SCSI_ERROR, NULL, NULL);
	health_event_view(&e, &v);
	CHECK_STREQ(v.type, "scsi_error");
	CHECK_STREQ(v.subject, "2:0:0:0");
	CHECK_STREQ(v.text, "READ_10 failed: result 0x00000002 DID_OK CHECK_CONDITION");
	o = health_event_json(&e);
	CHECK_STREQ(jstr(o, "device"), "2:0:0:0");
	CHECK_STREQ(jstr(o, "status"), "CHECK_CONDITION");
	CHECK_STREQ(jstr(o, "result"), "0x2");
	cJSON_Delete(o);
	CHECK_STREQ(health_scsi_host_byte(0x00030000, buf, sizeof(buf)), "DID_TIME_OUT");
	CHECK_STREQ(health_scsi_host_byte(0x00630000, buf, sizeof(buf)), "host_byte_0x63");
	CHECK_STREQ(health_scsi_status(0x18, buf, sizeof(buf)), "RESERVATION_CONFLICT");
	CHECK_STREQ(health_scsi_opcode(0xc1, buf, sizeof(buf)), "opcode_0xc1");

	e.kind = PA_HK_SCSI_TIMEOUT;
	e.u.scsi.opcode = 0x8a;
	health_event_view(&e, &v);
	CHECK_STREQ(v.text, "WRITE_16 timed out");
	CHECK(v.severity == HEALTH_SEV_ERROR);

	e.kind = PA_HK_SCSI_DISPATCH;
	e.u.scsi.result = 0x1055;
	health_event_view(&e, &v);
	CHECK(v.severity == HEALTH_SEV_WARNING);
	CHECKF(strstr(v.text, "refused by the host: host busy"), "'%s'", v.text);
	health_decode_set_sysfs(NULL);
}

/* The disk behind a SCSI address, from a sysfs tree made here. */
static void t_scsi_disk_from_sysfs(void)
{
	char root[] = "/tmp/pa-health-sysfs-XXXXXX", path[256], buf[64];
	struct pa_health_scsi s = { .host = 3, .channel = 0, .id = 1, .lun = 2 };
	struct pa_health_event e = { .u.scsi = s };
	struct health_view v;

	CHECK(mkdtemp(root));
	snprintf(path, sizeof(path), "mkdir -p %s/class/scsi_device/3:0:1:2/device/block/sdc",
		 root);
	CHECK(system(path) == 0);
	health_decode_set_sysfs(root);
	CHECK_STREQ(health_scsi_disk(&s, buf, sizeof(buf)), "sdc");
	record(&e, PA_HK_SCSI_TIMEOUT, NULL, NULL);
	health_event_view(&e, &v);
	CHECK_STREQ(v.subject, "sdc (3:0:1:2)");
	s.lun = 3;
	CHECK_STREQ(health_scsi_disk(&s, buf, sizeof(buf)), "");
	health_decode_set_sysfs(NULL);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	CHECK(system(path) == 0);
}

/* nvme_complete_rq with status 0x4281: media error, unrecovered read, DNR. */
static void t_nvme_status(void)
{
	struct pa_health_event e = {
		.u.nvme = { .ctrl_id = 0, .qid = 2, .cid = 17, .status = 0x4281, .retries = 0 },
	};
	struct health_view v;
	char buf[96];
	cJSON *o;

	record(&e, PA_HK_NVME_ERROR, "nvme0n1", NULL);
	health_event_view(&e, &v);
	CHECK_STREQ(v.subject, "nvme0n1");
	CHECK_STREQ(v.text, "qid 2 cid 17: status 0x4281 media: unrecovered read error, "
		    "do not retry, 0 retries");
	o = health_event_json(&e);
	CHECK(jnum(o, "status_type") == 2 && jnum(o, "status_code") == 0x81);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItem(o, "do_not_retry")));
	cJSON_Delete(o);
	CHECK_STREQ(health_nvme_status(0x0002, buf, sizeof(buf)), "generic: invalid field");
	CHECK_STREQ(health_nvme_status(0x0370, buf, sizeof(buf)), "path: host pathing error");
	CHECK_STREQ(health_nvme_status(0x01c0, buf, sizeof(buf)), "command specific: code 0xc0");
	memset(e.device, 0, sizeof(e.device));
	e.u.nvme.ctrl_id = 4;
	health_event_view(&e, &v);
	CHECK_STREQ(v.subject, "nvme4");
}

/* devlink_health_report: reporter and message split as the probe packs them. */
static void t_devlink_report(void)
{
	struct pa_health_event e = { 0 };
	struct health_view v;
	cJSON *o;

	strcpy(e.detail, "tx");
	strcpy(e.detail + PA_HEALTH_REPORTER_LEN, "TX timeout on queue: 5, SQ: 0x12d");
	record(&e, PA_HK_DEVLINK, "0000:08:00.0", "mlx5_core");
	health_event_view(&e, &v);
	CHECK_STREQ(v.type, "devlink_health");
	CHECK_STREQ(v.subject, "0000:08:00.0 (mlx5_core)");
	CHECK_STREQ(v.text, "reporter tx: TX timeout on queue: 5, SQ: 0x12d");
	o = health_event_json(&e);
	CHECK_STREQ(jstr(o, "reporter"), "tx");
	CHECK_STREQ(jstr(o, "driver"), "mlx5_core");
	cJSON_Delete(o);
}

/* error_report_end: the detector named from this kernel's BTF. */
static void t_error_report(void)
{
	struct pa_health_event e = { .u.report = { .detector = 0, .id = 0xffff888012345678ULL } };
	struct btf_enum_table t;
	struct health_view v;
	int64_t warn;
	cJSON *o;

	record(&e, PA_HK_ERROR_REPORT, NULL, NULL);
	if (btf_enum_load(&t, NULL, "error_detector"))
		SKIP("no enum error_detector in this kernel's BTF");
	health_event_view(&e, &v);
	CHECK_STREQ(v.type, "error_report");
	CHECK_STREQ(v.subject, "kfence");
	CHECK(v.severity == HEALTH_SEV_CRITICAL);
	CHECK_STREQ(v.text, "report at 0xffff888012345678");
	o = health_event_json(&e);
	CHECK_STREQ(jstr(o, "detector"), "kfence");
	cJSON_Delete(o);
	if (btf_enum_value(&t, "ERROR_DETECTOR_WARN", &warn)) {
		e.u.report.detector = (uint32_t)warn;
		CHECK(health_event_severity(&e) == HEALTH_SEV_WARNING);
	}
	btf_enum_free(&t);
}

/* mark_victim: the victim, its memory, and who ran the OOM killer. */
static void t_oom_kill(void)
{
	struct pa_health_event e = {
		.pid = 77, .u.oom = { .pid = 4242, .uid = 1000, .total_vm_kb = 1048576,
				      .anon_rss_kb = 524288, .file_rss_kb = 1024, .has_memory = 1,
				      .oom_score_adj = 0, .comm = "memhog" },
	};
	struct health_view v;
	cJSON *o, *victim;

	strcpy(e.comm, "java");
	record(&e, PA_HK_OOM_KILL, NULL, NULL);
	health_event_view(&e, &v);
	CHECK(v.severity == HEALTH_SEV_ERROR);
	CHECK_STREQ(v.subject, "pid 4242 (memhog)");
	CHECKF(!strcmp(v.text, "killed: total-vm 1048576kB, anon-rss 524288kB, file-rss 1024kB, "
		       "shmem-rss 0kB; oom_score_adj 0, OOM killer run by pid 77 (java)"), "'%s'",
	       v.text);
	o = health_event_json(&e);
	victim = cJSON_GetObjectItem(o, "victim");
	CHECK(jnum(victim, "pid") == 4242);
	CHECK_STREQ(jstr(victim, "comm"), "memhog");
	CHECK(jnum(victim, "anon_rss_kb") == 524288);
	CHECK_STREQ(jstr(cJSON_GetObjectItem(o, "killed_by"), "comm"), "java");
	cJSON_Delete(o);
	/* An older kernel's record: no memory fields. */
	e.u.oom.has_memory = 0;
	health_event_view(&e, &v);
	CHECK(!strstr(v.text, "total-vm"));
	o = health_event_json(&e);
	CHECK(jnum(cJSON_GetObjectItem(o, "victim"), "anon_rss_kb") == -1);
	cJSON_Delete(o);
}

/* A comm of exactly 16 bytes has no NUL in the record: still one string. */
static void t_names_without_nul(void)
{
	struct pa_health_event e = { 0 };
	struct health_view v;

	memset(e.device, 'x', sizeof(e.device));
	memset(e.driver, 'y', sizeof(e.driver));
	record(&e, PA_HK_TX_TIMEOUT, NULL, NULL);
	e.u.tx.queue = 3;
	health_event_view(&e, &v);
	CHECK(strlen(v.subject) == 2 * PA_HEALTH_NAME_LEN + 3);
	CHECK_STREQ(v.text, "transmit queue 3 timed out");
	e.kind = 99;
	health_event_view(&e, &v);
	CHECK_STREQ(v.type, "kind_99");
	CHECK(v.severity == HEALTH_SEV_NOTICE);
}

static void t_module_load(void)
{
	struct pa_health_event e = { .u.module = { .taints = (1U << 12) | (1U << 13) } };
	struct health_view v;
	cJSON *o;

	record(&e, PA_HK_MODULE_LOAD, NULL, "perfagent");
	health_event_view(&e, &v);
	CHECK(v.severity == HEALTH_SEV_NOTICE);
	CHECK_STREQ(v.subject, "perfagent");
	CHECK_STREQ(v.text, "loaded, taints kernel: OE");
	o = health_event_json(&e);
	CHECK_STREQ(jstr(o, "module"), "perfagent");
	CHECK_STREQ(jstr(o, "taint_flags"), "OE");
	cJSON_Delete(o);
	e.u.module.taints = 0;
	CHECK(health_event_severity(&e) == HEALTH_SEV_INFO);
}

/* The module's events get a severity too. */
static void t_kmod_severity(void)
{
	CHECK(health_kmod_severity(PA_EV_DIE, false) == HEALTH_SEV_CRITICAL);
	CHECK(health_kmod_severity(PA_EV_PROBE_FAILED, true) == HEALTH_SEV_ERROR);
	CHECK(health_kmod_severity(PA_EV_CARRIER_DOWN, false) == HEALTH_SEV_WARNING);
	CHECK(health_kmod_severity(PA_EV_CARRIER_UP, false) == HEALTH_SEV_INFO);
	CHECK(health_kmod_severity(PA_EV_DEVICE_REMOVED, false) == HEALTH_SEV_NOTICE);
	CHECK(health_kmod_severity(PA_EV_MAX + 5, true) == HEALTH_SEV_ERROR);
	CHECK_STREQ(health_severity_name(HEALTH_SEV_CRITICAL), "critical");
}

/* Soft-IRQ vectors named from this kernel's BTF (an anonymous enum). */
static void t_softirq_names(void)
{
	char buf[32];

	if (!btf_vmlinux())
		SKIP("no kernel BTF");
	CHECK(health_softirq_count() == 10);
	CHECK_STREQ(health_softirq_name(0, buf, sizeof(buf)), "hi");
	CHECK_STREQ(health_softirq_name(3, buf, sizeof(buf)), "net_rx");
	CHECK_STREQ(health_softirq_name(9, buf, sizeof(buf)), "rcu");
	CHECK_STREQ(health_softirq_name(12, buf, sizeof(buf)), "vec12");
}

/*
 * The kernel's rate limit, on a fake clock: from an idle key a burst of N
 * events at one instant lets exactly `burst` through; over T ns, at most
 * burst + T / interval; passed + held back = N always.
 */
static void t_rate_limit_arithmetic(void)
{
	const uint64_t interval = 100000000ULL, burst = 5, tol = (burst - 1) * interval;
	__u64 tat = 0;
	uint64_t now = 5000000000ULL, passed = 0, held = 0, n, t0;
	int i;

	for (i = 0; i < 1000; i++)
		pa_rate_allow(&tat, now, interval, tol) ? passed++ : held++;
	CHECK(passed == burst && held == 1000 - burst);
	/* 10 events a millisecond for 2.5 s: 25 refills. */
	t0 = now;
	for (n = 0; n < 25000; n++) {
		now = t0 + n * 100000;
		pa_rate_allow(&tat, now, interval, tol) ? passed++ : held++;
	}
	CHECKF(passed == burst + (now - t0) / interval, "%llu passed", (unsigned long long)passed);
	CHECK(passed + held == 26000);
	/* Idle long enough, the bucket is full again: one burst more. */
	now += 10 * interval;
	for (i = 0, passed = 0; i < 20; i++)
		passed += pa_rate_allow(&tat, now, interval, tol);
	CHECK(passed == burst);
}

/* Storms and suppressed counts as the agent reports them. */
static void t_agent_views(void)
{
	struct health_irq_totals t = { .irq = 36, .name = "virtio1-req.0", .count = 120000,
				       .total_ns = 600000000, .max_ns = 9000 };
	struct health_suppressed s = { .key = { .kind = PA_HK_BLOCK_ERROR, .id = 7 },
				       .device = "loop3", .count = 45 };
	struct health_view v;
	cJSON *o;

	t.hist[pa_hist_index(5000)] = 120000;
	health_storm_view(&t, false, 2.0, &v);
	CHECK_STREQ(v.type, "irq_storm");
	CHECK_STREQ(v.subject, "irq 36 virtio1-req.0");
	CHECKF(!strncmp(v.text, "60000/s, 30.0% of a CPU, p99 ", 29), "'%s'", v.text);
	o = health_storm_json(&t, false, 2.0, 1);
	CHECK(jnum(o, "rate") == 60000);
	cJSON_Delete(o);
	health_suppressed_view(&s, 1.0, &v);
	CHECK_STREQ(v.type, "rate_limited");
	CHECK_STREQ(v.subject, "loop3");
	CHECK_STREQ(v.text, "45 more block_error events held back by the rate limit in 1.0s");
	o = health_suppressed_json(&s, 1.0, 1);
	CHECK(jnum(o, "suppressed") == 45);
	CHECK_STREQ(jstr(o, "kind"), "block_error");
	cJSON_Delete(o);
	s.device[0] = '\0';
	s.key.kind = PA_HK_MCE;
	s.key.id = 4;
	health_suppressed_view(&s, 1.0, &v);
	CHECK_STREQ(v.subject, "bank 4");
}

int main(void)
{
	RUN(t_aer_corrected);
	RUN(t_aer_uncorrectable);
	RUN(t_mce_records);
	RUN(t_scsi_results);
	RUN(t_scsi_disk_from_sysfs);
	RUN(t_nvme_status);
	RUN(t_devlink_report);
	RUN(t_error_report);
	RUN(t_oom_kill);
	RUN(t_names_without_nul);
	RUN(t_module_load);
	RUN(t_kmod_severity);
	RUN(t_softirq_names);
	RUN(t_rate_limit_arithmetic);
	RUN(t_agent_views);
	btf_vmlinux_release();
	CHECK_EXIT();
}
