// SPDX-License-Identifier: GPL-2.0
/* The floor for the disk probe: programs that do nothing, on the block
 * tracepoints bpf/disk.bpf.c uses, in the same flavour (tp_btf). Whatever
 * they cost is the price of hooking at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/block_io_start")
int BPF_PROG(empty_io_start, struct request *rq)
{
	return 0;
}

SEC("tp_btf/block_rq_insert")
int BPF_PROG(empty_insert, struct request *rq)
{
	return 0;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(empty_issue, struct request *rq)
{
	return 0;
}

SEC("tp_btf/block_rq_requeue")
int BPF_PROG(empty_requeue, struct request *rq)
{
	return 0;
}

SEC("tp_btf/block_rq_merge")
int BPF_PROG(empty_merge, struct request *rq)
{
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(empty_complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	return 0;
}
