// SPDX-License-Identifier: GPL-2.0
/* The floor: programs that do nothing, on the tracepoints the syscall probe
 * uses, in the same flavour (tp_btf). Whatever they cost is the price of
 * hooking at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_enter, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(bench_exit, struct pt_regs *regs, long ret)
{
	return 0;
}
