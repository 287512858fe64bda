/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A kernel pointer's address as a number, to hash it: the verifier allows
 * no arithmetic on a pointer it typed from BTF, but a copy read back from a
 * map value is a plain number. One per-CPU slot, "ptr_number", per object.
 */
#ifndef PERFAGENT_PTR_NUMBER_BPF_H
#define PERFAGENT_PTR_NUMBER_BPF_H

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} ptr_number SEC(".maps");

static __always_inline __u64 ptr_as_number(const void *ptr)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&ptr_number, &zero);

	if (!v)
		return 0;
	*(volatile __u64 *)v = (__u64)ptr;
	return *(volatile __u64 *)v;
}

#endif
