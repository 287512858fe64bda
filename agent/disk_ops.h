/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the running kernel calls its block operations, request flags and
 * completion statuses. Operations and flags come from its BTF (enum req_op,
 * enum req_flag_bits): their numbers moved between kernels.
 */
#ifndef PERFAGENT_DISK_OPS_H
#define PERFAGENT_DISK_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "btf_enums.h"

struct disk_ops {
	struct btf_enum_table ops;	/* enum req_op (enum req_opf before 6.0) */
	struct btf_enum_table flags;	/* enum req_flag_bits: bit numbers of __REQ_* */
	unsigned int op_bits;		/* REQ_OP_BITS: the operation is cmd_flags' low bits */
	bool ops_from_btf;
	bool bits_from_btf;
	char note[200];			/* what fell back, and why; "" when nothing did */
};

/*
 * Fill o from btf (NULL = the running kernel's). REQ_OP_BITS is a #define,
 * not in BTF; it is derived as the lowest bit number in enum req_flag_bits
 * (the kernel defines the first flag as __REQ_FAILFAST_DEV = REQ_OP_BITS).
 * Without BTF, op_bits falls back to 8 (every kernel since 4.10) and
 * operations are shown by number. Never fails; free with disk_ops_free().
 */
void disk_ops_load(struct disk_ops *o, const struct btf *btf);
void disk_ops_free(struct disk_ops *o);

/* The running kernel's, loaded on first use; released (for leak checkers) by
 * disk_ops_kernel_release().
 */
const struct disk_ops *disk_ops_kernel(void);
void disk_ops_kernel_release(void);

/* (1 << op_bits) - 1 */
uint32_t disk_ops_mask(const struct disk_ops *o);

/* "read", "write", "flush", "discard", "write_zeroes"...; "op7" if unknown. */
char *disk_op_name(const struct disk_ops *o, uint32_t op, char *buf, size_t len);

/* The set flags of cmd_flags, comma-separated: "sync,idle,fua"; "" if none. */
char *disk_flags_text(const struct disk_ops *o, uint32_t cmd_flags, char *buf, size_t len);

/*
 * blk_status_t name ("medium", "timeout", "ioerr"), or NULL when unknown.
 * The BLK_STS_* values are preprocessor constants, absent from BTF; they
 * have only ever been appended to since 4.13, so this one table holds.
 */
const char *disk_status_name(uint32_t status);

#endif
