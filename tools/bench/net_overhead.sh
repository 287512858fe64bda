#!/bin/sh
# What network tracing costs a loopback TCP workload: bulk throughput
# (stream, MiB/s), 1-byte request/response (rr, transactions/s) and
# connect/request/response/close (crr, connections/s), each bare, with empty
# tp_btf programs on the net probe's tracepoints (the floor: the cost of
# hooking at all) and with 'perfagent trace net' at its default settings
# (all 6 tracepoints, retransmits/resets/drops streamed, rate limit 10/s).
#
# Two figures per run: the rate, and the CPU time per operation (client and
# server, user + system). On a machine shared with other work the rate
# mostly measures the share of CPU the workload got; CPU time per operation
# is the steadier measure of what tracing adds. Rounds are interleaved so
# that noise hits every variant alike; each figure is the median of the
# rounds. Also reports the events perfagent lost (buffer full) over all its
# runs: the goal is none.
#
# BPF_STATS=1 also measures the probe's programs directly (kernel.
# bpf_stats_enabled, a machine-wide switch, on for those runs only): the
# nanoseconds they ran per operation.
#
# Run as root from the top of the tree:
#   tools/bench/net_overhead.sh [ROUNDS [SECONDS]]
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-5}
secs=${2:-3}
make -s build/perfagent bench >/dev/null
B=build/bench
. tools/bench/lib_bench.sh
tmp=$(mktemp -d)
on_exit 'kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"'

measure() { $B/net_tcp_bench "$1" "$secs"; }

# with_tracer MODE LABEL CMD...: start a tracer, measure, stop it.
with_tracer() {
	mode=$1 label=$2; shift 2
	"$@" >"$tmp/tracer.out" 2>&1 &
	pid=$!
	sleep 1.5
	measure "$mode" >>"$tmp/$mode.$label"
	kill -INT $pid
	wait $pid 2>/dev/null || true
	if [ "$label" = perfagent ]; then
		jq -r 'select(.type == "net" and .final) | .events_lost' "$tmp/tracer.out" >>"$tmp/lost"
	fi
}

for r in $(seq "$rounds"); do
	for mode in stream rr crr; do
		measure $mode >>"$tmp/$mode.bare"
		with_tracer $mode floor $B/empty_attach $B/net_empty.bpf.o
		with_tracer $mode perfagent ./build/perfagent trace net -i 10s --json
	done
done

# median FILE COLUMN
median() { sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }
unit() { case $1 in stream) echo MiB/s ;; rr) echo trans/s ;; crr) echo conn/s ;; esac; }
op() { case $1 in stream) echo MiB ;; rr) echo trans ;; crr) echo conn ;; esac; }

printf '%-7s %-8s %10s %10s %10s %9s %9s\n' workload unit bare floor perfagent floor perfagent
for mode in stream rr crr; do
	awk -v m=$mode -v u="$(unit $mode)" -v b="$(median "$tmp/$mode.bare" 1)" \
		-v f="$(median "$tmp/$mode.floor" 1)" -v p="$(median "$tmp/$mode.perfagent" 1)" 'BEGIN {
		printf "%-7s %-8s %10.1f %10.1f %10.1f %+8.2f%% %+8.2f%%\n", m, u, b, f, p,
			(f / b - 1) * 100, (p / b - 1) * 100 }'
done
printf '\n%-7s %-12s %10s %10s %10s %9s %9s\n' workload "CPU per" bare floor perfagent floor perfagent
for mode in stream rr crr; do
	awk -v m=$mode -v u="µs/$(op $mode)" -v b="$(median "$tmp/$mode.bare" 2)" \
		-v f="$(median "$tmp/$mode.floor" 2)" -v p="$(median "$tmp/$mode.perfagent" 2)" 'BEGIN {
		printf "%-7s %-12s %10.2f %10.2f %10.2f %+8.2f%% %+8.2f%%\n", m, u, b, f, p,
			(f / b - 1) * 100, (p / b - 1) * 100 }'
done
lost=$(awk '{ s += $1 } END { print s + 0 }' "$tmp/lost")
echo "events lost by perfagent over all runs: $lost"

# prog_stats FIRST: run counts and times of the net probe's programs loaded
# after program id FIRST, as "name run_cnt run_time_ns" lines. Should
# another net probe be loaded meanwhile (the machine is shared), the first
# one loaded of each name is ours.
prog_stats() {
	bpftool prog show -j | jq -r --argjson f "$1" '[.[] | select(.id > $f and
		(.name | test("^(kfree_skb|inet_sock_set_state|tcp_retransmit_skb|tcp_retransmit_synack|tcp_send_reset|tcp_receive_reset)$")))]
		| group_by(.name) | map(min_by(.id)) | .[]
		| "\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | sort
}

if [ "${BPF_STATS:-0}" = 1 ]; then
	old=$(cat /proc/sys/kernel/bpf_stats_enabled)
	printf '\n%-7s %14s  %s\n' workload "BPF ns per op" "(program: runs per op, ns per run)"
	for mode in stream rr crr; do
		first=$(bpftool prog show -j | jq '[.[].id] | max // 0')
		./build/perfagent trace net -i 10s --json >"$tmp/tracer.out" 2>&1 &
		pid=$!
		sleep 1.5
		echo 1 >/proc/sys/kernel/bpf_stats_enabled
		prog_stats "$first" >"$tmp/stats0"
		rate=$(measure $mode | cut -d' ' -f1)
		prog_stats "$first" >"$tmp/stats1"
		echo "$old" >/proc/sys/kernel/bpf_stats_enabled
		kill -INT $pid
		wait $pid 2>/dev/null || true
		join "$tmp/stats0" "$tmp/stats1" | awk -v m=$mode -v ops="$(awk -v r="$rate" \
			-v s="$secs" 'BEGIN { print r * s }')" '{
			n = $4 - $2; t = $5 - $3; total += t
			if (n > 0) detail = detail sprintf("%s%s %.2f, %d ns", sep, $1, n / ops, t / n)
			if (n > 0) sep = "; "
		} END { printf "%-7s %11.0f ns  (%s)\n", m, total / ops, detail }'
	done
fi
echo "($rounds interleaved rounds of ${secs}s on $(nproc) CPUs, $(uname -r)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
