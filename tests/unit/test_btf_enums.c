// SPDX-License-Identifier: GPL-2.0
/*
 * Enum names from BTF: from BTF built here (so kernels we do not run on are
 * covered: renumbered operations, a renamed enum, 64-bit and signed enums)
 * and from the running kernel's when it has BTF.
 */
#include <errno.h>
#include <unistd.h>
#include <bpf/btf.h>

#include "btf_enums.h"
#include "check.h"
#include "disk_ops.h"

struct enumerator {
	const char *name;
	long long value;
};

static int add_enum(struct btf *btf, const char *name, const struct enumerator *e, int n)
{
	int i;

	if (btf__add_enum(btf, name, 4) < 0)
		return -1;
	for (i = 0; i < n; i++)
		if (btf__add_enum_value(btf, e[i].name, e[i].value))
			return -1;
	return 0;
}

/* The 6.1 / 6.18 layout: operations 0..35, flags from bit 8. */
static const struct enumerator req_op[] = {
	{ "REQ_OP_READ", 0 }, { "REQ_OP_WRITE", 1 }, { "REQ_OP_FLUSH", 2 },
	{ "REQ_OP_DISCARD", 3 }, { "REQ_OP_SECURE_ERASE", 5 }, { "REQ_OP_WRITE_ZEROES", 9 },
	{ "REQ_OP_DRV_IN", 34 }, { "REQ_OP_DRV_OUT", 35 }, { "REQ_OP_LAST", 36 },
};
static const struct enumerator req_flag_bits[] = {
	{ "__REQ_FAILFAST_DEV", 8 }, { "__REQ_SYNC", 11 }, { "__REQ_META", 12 },
	{ "__REQ_FUA", 17 }, { "__REQ_PREFLUSH", 18 }, { "__REQ_NR_BITS", 30 },
};

static struct btf *kernel_like_btf(void)
{
	struct btf *btf = btf__new_empty();

	if (!btf || add_enum(btf, "req_op", req_op, 9) ||
	    add_enum(btf, "req_flag_bits", req_flag_bits, 6)) {
		btf__free(btf);
		return NULL;
	}
	return btf;
}

static void t_load_names_and_values(void)
{
	struct btf *btf = kernel_like_btf();
	struct btf_enum_table t;
	int64_t v = -1;

	CHECK(btf);
	CHECK(btf_enum_load(&t, btf, "req_op") == 0);
	btf__free(btf);			/* the table must outlive the BTF */
	CHECK(t.n == 9);
	CHECK_STREQ(btf_enum_name(&t, 9), "REQ_OP_WRITE_ZEROES");
	CHECK(btf_enum_name(&t, 4) == NULL);
	CHECK(btf_enum_value(&t, "REQ_OP_DISCARD", &v) && v == 3);
	CHECK(!btf_enum_value(&t, "REQ_OP_NOPE", &v));
	CHECK(btf_enum_min(&t) == 0 && btf_enum_max(&t) == 36);
	btf_enum_free(&t);
	CHECK(t.n == 0 && t.e == NULL);
}

static void t_missing_enum_is_enoent(void)
{
	struct btf *btf = kernel_like_btf();
	struct btf_enum_table t;
	int ret;

	CHECK(btf);
	ret = btf_enum_load(&t, btf, "skb_drop_reason");
	btf__free(btf);
	CHECKF(ret == -ENOENT, "got %d", ret);
	CHECK(t.n == 0);
}

/* Kernels before 6.0 called it enum req_opf. */
static void t_load_any_takes_the_name_that_exists(void)
{
	static const char *const names[] = { "req_op", "req_opf", NULL };
	struct btf *btf = btf__new_empty();
	struct btf_enum_table t;
	int idx;

	CHECK(btf && add_enum(btf, "req_opf", req_op, 4) == 0);
	idx = btf_enum_load_any(&t, btf, names);
	btf__free(btf);
	CHECKF(idx == 1, "index %d", idx);
	CHECK(t.n == 4 && !strcmp(btf_enum_name(&t, 2), "REQ_OP_FLUSH"));
	btf_enum_free(&t);
}

static void t_enum64_and_signed(void)
{
	struct btf *btf = btf__new_empty();
	struct btf_enum_table t;

	CHECK(btf);
	CHECK(btf__add_enum64(btf, "big", 8, false) > 0);
	CHECK(btf__add_enum64_value(btf, "BIG_HIGH", 1ULL << 40) == 0);
	CHECK(btf__add_enum(btf, "neg", 4) > 0);
	CHECK(btf__add_enum_value(btf, "NEG_ONE", -1) == 0);
	CHECK(btf_enum_load(&t, btf, "big") == 0);
	CHECK(t.n == 1 && t.e[0].value == (int64_t)(1ULL << 40));
	btf_enum_free(&t);
	CHECK(btf_enum_load(&t, btf, "neg") == 0);
	btf__free(btf);
	CHECKF(t.e[0].value == -1, "NEG_ONE read as %lld", (long long)t.e[0].value);
	btf_enum_free(&t);
}

static void t_pretty_names(void)
{
	char buf[32];

	CHECK_STREQ(btf_enum_pretty("REQ_OP_WRITE_ZEROES", "REQ_OP_", buf, sizeof(buf)),
		    "write_zeroes");
	CHECK_STREQ(btf_enum_pretty("SKB_DROP_REASON_NO_SOCKET", "SKB_DROP_REASON_", buf,
				    sizeof(buf)), "no_socket");
	CHECK_STREQ(btf_enum_pretty("OTHER", "REQ_OP_", buf, sizeof(buf)), "other");
	CHECK_STREQ(btf_enum_pretty("REQ_OP_", "REQ_OP_", buf, sizeof(buf)), "req_op_");
	CHECK_STREQ(btf_enum_pretty("ABCDEFGH", NULL, buf, 4), "abc");
}

static void t_disk_ops_from_btf(void)
{
	struct btf *btf = kernel_like_btf();
	struct disk_ops o;
	char buf[64];

	CHECK(btf);
	disk_ops_load(&o, btf);
	btf__free(btf);
	CHECK(o.ops_from_btf && o.bits_from_btf && o.note[0] == '\0');
	CHECK(o.op_bits == 8 && disk_ops_mask(&o) == 0xff);
	CHECK_STREQ(disk_op_name(&o, 0, buf, sizeof(buf)), "read");
	CHECK_STREQ(disk_op_name(&o, 9, buf, sizeof(buf)), "write_zeroes");
	CHECK_STREQ(disk_op_name(&o, 36, buf, sizeof(buf)), "op36");	/* REQ_OP_LAST */
	CHECK_STREQ(disk_op_name(&o, 4, buf, sizeof(buf)), "op4");
	CHECK_STREQ(disk_flags_text(&o, 1 | (1U << 11) | (1U << 17), buf, sizeof(buf)),
		    "sync,fua");
	CHECK_STREQ(disk_flags_text(&o, 1, buf, sizeof(buf)), "");
	disk_ops_free(&o);
}

/* A kernel that numbered things differently is decoded its own way. */
static void t_disk_ops_follow_the_kernel(void)
{
	static const struct enumerator ops[] = {
		{ "REQ_OP_READ", 0 }, { "REQ_OP_WRITE", 1 }, { "REQ_OP_DISCARD", 5 },
	};
	static const struct enumerator flags[] = {
		{ "__REQ_FAILFAST_DEV", 6 }, { "__REQ_SYNC", 7 }, { "__REQ_NR_BITS", 20 },
	};
	struct btf *btf = btf__new_empty();
	struct disk_ops o;
	char buf[64];

	CHECK(btf && add_enum(btf, "req_op", ops, 3) == 0 &&
	      add_enum(btf, "req_flag_bits", flags, 3) == 0);
	disk_ops_load(&o, btf);
	btf__free(btf);
	CHECK(o.op_bits == 6 && disk_ops_mask(&o) == 0x3f);
	CHECK_STREQ(disk_op_name(&o, 5, buf, sizeof(buf)), "discard");
	CHECK_STREQ(disk_flags_text(&o, 5 | (1U << 7), buf, sizeof(buf)), "sync");
	disk_ops_free(&o);
}

static void t_disk_ops_without_btf_enums(void)
{
	struct btf *btf = btf__new_empty();
	struct disk_ops o;
	char buf[64];

	CHECK(btf);
	disk_ops_load(&o, btf);
	btf__free(btf);
	CHECK(!o.ops_from_btf && !o.bits_from_btf && o.op_bits == 8);
	CHECK(strstr(o.note, "req_op") && strstr(o.note, "REQ_OP_BITS"));
	CHECK_STREQ(disk_op_name(&o, 1, buf, sizeof(buf)), "op1");
	disk_ops_free(&o);
}

static void t_status_names(void)
{
	CHECK(disk_status_name(0) == NULL);
	CHECK_STREQ(disk_status_name(2), "timeout");
	CHECK_STREQ(disk_status_name(7), "medium");
	CHECK_STREQ(disk_status_name(10), "ioerr");
	CHECK(disk_status_name(250) == NULL);
}

/* REQ_OP_READ = 0 and REQ_OP_WRITE = 1 hold on every kernel with BTF. */
static void t_running_kernel(void)
{
	const struct disk_ops *o;
	int64_t v = -1;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		SKIP("no /sys/kernel/btf/vmlinux");
	o = disk_ops_kernel();
	CHECKF(o->ops_from_btf && o->bits_from_btf, "%s", o->note);
	CHECK(btf_enum_value(&o->ops, "REQ_OP_READ", &v) && v == 0);
	CHECK(btf_enum_value(&o->ops, "REQ_OP_WRITE", &v) && v == 1);
	CHECK(btf_enum_value(&o->ops, "REQ_OP_FLUSH", &v) && v < (1 << o->op_bits));
	CHECK(o->op_bits >= 4 && o->op_bits <= 16);
}

int main(void)
{
	RUN(t_load_names_and_values);
	RUN(t_missing_enum_is_enoent);
	RUN(t_load_any_takes_the_name_that_exists);
	RUN(t_enum64_and_signed);
	RUN(t_pretty_names);
	RUN(t_disk_ops_from_btf);
	RUN(t_disk_ops_follow_the_kernel);
	RUN(t_disk_ops_without_btf_enums);
	RUN(t_status_names);
	RUN(t_running_kernel);
	disk_ops_kernel_release();
	btf_vmlinux_release();
	CHECK_EXIT();
}
