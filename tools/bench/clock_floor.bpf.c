// SPDX-License-Identifier: GPL-2.0
/* The floor plus the one thing a latency cannot do without: the empty
 * programs of empty.bpf.c, each reading the clock once and keeping the
 * value where the syscall probe keeps it (a per-CPU slot). The gap between
 * this and the probe is what the probe's own bookkeeping costs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} bench_clock_slot SEC(".maps");

static __always_inline void keep_time(void)
{
	__u32 zero = 0;
	__u64 *slot = bpf_map_lookup_elem(&bench_clock_slot, &zero);

	if (slot)
		*slot = bpf_ktime_get_ns();
}

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_clock_enter, struct pt_regs *regs, long id)
{
	keep_time();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(bench_clock_exit, struct pt_regs *regs, long ret)
{
	keep_time();
	return 0;
}
