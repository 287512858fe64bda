// SPDX-License-Identifier: GPL-2.0
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>

#include "btf_enums.h"

static struct btf *vmlinux;
static bool vmlinux_tried;

const struct btf *btf_vmlinux(void)
{
	if (!vmlinux_tried) {
		vmlinux_tried = true;
		vmlinux = btf__load_vmlinux_btf();	/* NULL (errno set) when absent */
	}
	return vmlinux;
}

void btf_vmlinux_release(void)
{
	btf__free(vmlinux);
	vmlinux = NULL;
	vmlinux_tried = false;
}

static const struct btf_type *find_enum(const struct btf *btf, const char *name)
{
	__s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);

	if (id <= 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
	return id > 0 ? btf__type_by_id(btf, id) : NULL;
}

static int64_t enumerator_value(const struct btf_type *t, unsigned int i, bool is_signed)
{
	if (btf_is_enum64(t))
		return (int64_t)btf_enum64_value(btf_enum64(t) + i);
	if (is_signed)
		return (int32_t)btf_enum(t)[i].val;
	return (uint32_t)btf_enum(t)[i].val;
}

static __u32 enumerator_name_off(const struct btf_type *t, unsigned int i)
{
	if (btf_is_enum64(t))
		return ((const __u32 *)(btf_enum64(t) + i))[0];
	return btf_enum(t)[i].name_off;
}

/* One allocation holds the entries and, after them, copies of the names,
 * so the table outlives the BTF object it came from.
 */
static int copy_enum(struct btf_enum_table *tab, const struct btf *btf, const struct btf_type *t)
{
	unsigned int i, n = btf_vlen(t);
	size_t names = 0, off;
	char *p;

	for (i = 0; i < n; i++)
		names += strlen(btf__name_by_offset(btf, enumerator_name_off(t, i))) + 1;
	tab->e = malloc(n * sizeof(*tab->e) + names + 1);
	if (!tab->e)
		return -ENOMEM;
	tab->n = n;
	tab->is_signed = btf_kflag(t);
	p = (char *)(tab->e + n);
	for (i = 0, off = 0; i < n; i++) {
		const char *s = btf__name_by_offset(btf, enumerator_name_off(t, i));
		size_t l = strlen(s) + 1;

		memcpy(p + off, s, l);
		tab->e[i].name = p + off;
		tab->e[i].value = enumerator_value(t, i, tab->is_signed);
		off += l;
	}
	return 0;
}

int btf_enum_load(struct btf_enum_table *t, const struct btf *btf, const char *name)
{
	const struct btf_type *type;

	memset(t, 0, sizeof(*t));
	if (!btf)
		btf = btf_vmlinux();
	if (!btf)
		return -ENODATA;
	type = find_enum(btf, name);
	if (!type)
		return -ENOENT;
	return copy_enum(t, btf, type);
}

int btf_enum_load_any(struct btf_enum_table *t, const struct btf *btf,
		      const char *const *names)
{
	int i, ret = -ENOENT;

	for (i = 0; names[i]; i++) {
		ret = btf_enum_load(t, btf, names[i]);
		if (ret == 0)
			return i;
		if (ret != -ENOENT)
			break;
	}
	return ret;
}

void btf_enum_free(struct btf_enum_table *t)
{
	free(t->e);
	t->e = NULL;
	t->n = 0;
}

const char *btf_enum_name(const struct btf_enum_table *t, int64_t value)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].value == value)
			return t->e[i].name;
	return NULL;
}

bool btf_enum_value(const struct btf_enum_table *t, const char *name, int64_t *value)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name)) {
			*value = t->e[i].value;
			return true;
		}
	return false;
}

int64_t btf_enum_min(const struct btf_enum_table *t)
{
	int64_t m = t->n ? t->e[0].value : 0;
	size_t i;

	for (i = 1; i < t->n; i++)
		if (t->e[i].value < m)
			m = t->e[i].value;
	return m;
}

int64_t btf_enum_max(const struct btf_enum_table *t)
{
	int64_t m = t->n ? t->e[0].value : 0;
	size_t i;

	for (i = 1; i < t->n; i++)
		if (t->e[i].value > m)
			m = t->e[i].value;
	return m;
}

char *btf_enum_pretty(const char *name, const char *prefix, char *buf, size_t len)
{
	size_t i, plen = prefix ? strlen(prefix) : 0;

	if (!len)
		return buf;
	if (plen && !strncmp(name, prefix, plen) && name[plen])
		name += plen;
	for (i = 0; name[i] && i + 1 < len; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[i] = '\0';
	return buf;
}
