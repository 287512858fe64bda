// SPDX-License-Identifier: GPL-2.0
/* The floor for the network probe: programs that do nothing, on the
 * tracepoints bpf/net.bpf.c uses, in the same flavour (tp_btf). Whatever
 * they cost is the price of hooking at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/kfree_skb")
int BPF_PROG(empty_drop, struct sk_buff *skb)
{
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(empty_state, const struct sock *sk)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(empty_retrans, const struct sock *sk)
{
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(empty_synack, const struct sock *sk)
{
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(empty_rst_out, const struct sock *sk)
{
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(empty_rst_in, struct sock *sk)
{
	return 0;
}
