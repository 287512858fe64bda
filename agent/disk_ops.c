// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>

#include "disk_ops.h"

#define FALLBACK_OP_BITS	8

static const char *const req_op_enums[] = { "req_op", "req_opf", NULL };

void disk_ops_load(struct disk_ops *o, const struct btf *btf)
{
	int64_t first_flag;

	memset(o, 0, sizeof(*o));
	o->ops_from_btf = btf_enum_load_any(&o->ops, btf, req_op_enums) >= 0;
	o->bits_from_btf = btf_enum_load(&o->flags, btf, "req_flag_bits") == 0 &&
			   o->flags.n > 0;
	first_flag = o->bits_from_btf ? btf_enum_min(&o->flags) : 0;
	if (o->bits_from_btf && first_flag > 0 && first_flag < 32) {
		o->op_bits = (unsigned int)first_flag;
	} else {
		o->bits_from_btf = false;
		o->op_bits = FALLBACK_OP_BITS;
	}
	if (!o->ops_from_btf || !o->bits_from_btf)
		snprintf(o->note, sizeof(o->note), "%s%s",
			 o->ops_from_btf ? "" : "no enum req_op in BTF: operations shown by number; ",
			 o->bits_from_btf ? "" : "no enum req_flag_bits in BTF: REQ_OP_BITS taken as 8");
}

void disk_ops_free(struct disk_ops *o)
{
	btf_enum_free(&o->ops);
	btf_enum_free(&o->flags);
}

static struct disk_ops kernel_ops;
static bool kernel_ops_loaded;

const struct disk_ops *disk_ops_kernel(void)
{
	if (!kernel_ops_loaded) {
		disk_ops_load(&kernel_ops, NULL);
		kernel_ops_loaded = true;
	}
	return &kernel_ops;
}

void disk_ops_kernel_release(void)
{
	disk_ops_free(&kernel_ops);
	kernel_ops_loaded = false;
}

uint32_t disk_ops_mask(const struct disk_ops *o)
{
	return (uint32_t)((1ULL << o->op_bits) - 1);
}

char *disk_op_name(const struct disk_ops *o, uint32_t op, char *buf, size_t len)
{
	const char *name = btf_enum_name(&o->ops, op);

	if (name && strcmp(name, "REQ_OP_LAST"))
		return btf_enum_pretty(name, "REQ_OP_", buf, len);
	snprintf(buf, len, "op%u", op);
	return buf;
}

char *disk_flags_text(const struct disk_ops *o, uint32_t cmd_flags, char *buf, size_t len)
{
	size_t i, used = 0;
	char name[48];

	if (len)
		buf[0] = '\0';
	for (i = 0; i < o->flags.n; i++) {
		const struct btf_enum_entry *e = &o->flags.e[i];

		/* __REQ_NR_BITS is the count, not a flag */
		if (e->value < o->op_bits || e->value >= 32 || !strcmp(e->name, "__REQ_NR_BITS"))
			continue;
		if (!(cmd_flags & (1U << e->value)))
			continue;
		btf_enum_pretty(e->name, "__REQ_", name, sizeof(name));
		used += snprintf(buf + used, used < len ? len - used : 0, "%s%s",
				 used ? "," : "", name);
	}
	return buf;
}

/* Index = blk_status_t value (include/linux/blk_types.h). */
static const char *const status_names[] = {
	[1] = "notsupp",
	[2] = "timeout",
	[3] = "nospc",
	[4] = "transport",
	[5] = "target",
	[6] = "resv_conflict",	/* BLK_STS_NEXUS before 6.5 */
	[7] = "medium",
	[8] = "protection",
	[9] = "resource",
	[10] = "ioerr",
	[11] = "dm_requeue",
	[12] = "again",
	[13] = "dev_resource",
	[14] = "zone_resource",
	[15] = "zone_open_resource",
	[16] = "zone_active_resource",
	[17] = "offline",
	[18] = "duration_limit",
	[19] = "inval",
};

const char *disk_status_name(uint32_t status)
{
	if (status >= sizeof(status_names) / sizeof(status_names[0]))
		return NULL;
	return status_names[status];
}
