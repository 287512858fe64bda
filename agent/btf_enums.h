/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names of kernel enum values read from BTF (the running kernel's by
 * default), so the agent decodes what the kernel it runs on means: REQ_OP_*
 * (the block layer renumbered them over time), enum skb_drop_reason (which
 * grows with every release), and the like. Never a table written for one
 * kernel.
 */
#ifndef PERFAGENT_BTF_ENUMS_H
#define PERFAGENT_BTF_ENUMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct btf;

struct btf_enum_entry {
	const char *name;	/* as in the kernel: "REQ_OP_WRITE" */
	int64_t value;
};

/* The enumerators of one enum, in declaration order. */
struct btf_enum_table {
	size_t n;
	struct btf_enum_entry *e;
	bool is_signed;
};

/*
 * Fill t with the enumerators of `enum NAME` (ENUM or ENUM64 kind) from btf,
 * or from the running kernel's vmlinux BTF when btf is NULL. Returns 0,
 * -ENOENT when there is no such enum, or another negative errno (no BTF).
 * Free with btf_enum_free().
 */
int btf_enum_load(struct btf_enum_table *t, const struct btf *btf, const char *name);

/* The first of names[] (NULL-terminated) that exists, e.g. an enum renamed
 * between kernels ("req_op" since 6.0, "req_opf" before). Returns the index
 * of the one found or a negative errno.
 */
int btf_enum_load_any(struct btf_enum_table *t, const struct btf *btf,
		      const char *const *names);

void btf_enum_free(struct btf_enum_table *t);

/* The first enumerator with this value, or NULL. */
const char *btf_enum_name(const struct btf_enum_table *t, int64_t value);

/* The value of enumerator `name`; false when absent. */
bool btf_enum_value(const struct btf_enum_table *t, const char *name, int64_t *value);

/* Smallest and largest values (0 for an empty table). */
int64_t btf_enum_min(const struct btf_enum_table *t);
int64_t btf_enum_max(const struct btf_enum_table *t);

/*
 * A display form of an enumerator: `prefix` removed when the name starts
 * with it, lower case. ("REQ_OP_WRITE_ZEROES", "REQ_OP_") -> "write_zeroes".
 */
char *btf_enum_pretty(const char *name, const char *prefix, char *buf, size_t len);

/* The running kernel's vmlinux BTF, loaded once and shared (parsing it
 * takes tens of milliseconds). NULL when the kernel has none.
 * btf_vmlinux_release() frees it (for leak checkers; optional).
 */
const struct btf *btf_vmlinux(void);
void btf_vmlinux_release(void);

#endif
