#!/bin/sh
# What the net probe's programs cost per TCP connection under connection
# churn (crr: connect, 1-byte request/response, close with a reset), for
# one or more perfagent binaries measured in the same run: an A/B of two
# builds on a shared machine, where only ratios within one run mean much.
#
# Rounds interleave: a bare crr run (no tracing: the workload's own CPU per
# connection), then one crr run under 'perfagent trace net' at its defaults
# for each binary, with kernel.bpf_stats_enabled on. Per binary it prints
# the medians over the rounds of each program's runs per connection and ns
# per run, the total BPF ns per connection, and that total as a share of
# the bare CPU per connection (the issue's target for this is 2 %).
#
# bpf_stats itself adds about one clock read (~70 ns here) to every run;
# the empty-program floor in net_overhead.sh shows its size.
#
# Run as root from the top of the tree:
#   tools/bench/net_crr_ab.sh [ROUNDS [SECONDS]] [BINARY...]
# (default: 5 rounds of 3 s, ./build/perfagent)
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-5}
secs=${2:-3}
[ $# -gt 2 ] && shift 2 || set -- ./build/perfagent
make -s build/perfagent bench >/dev/null
B=build/bench
. tools/bench/lib_bench.sh
tmp=$(mktemp -d)
old=$(cat /proc/sys/kernel/bpf_stats_enabled)
on_exit 'echo "$old" >/proc/sys/kernel/bpf_stats_enabled; kill $(jobs -p) 2>/dev/null; rm -rf "$tmp"'

# prog_stats FIRST: "name runs ns" of the programs loaded after id FIRST.
prog_stats() {
	bpftool prog show -j | jq -r --argjson f "$1" '[.[] | select(.id > $f)]
		| group_by(.name) | map(min_by(.id)) | .[]
		| "\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | sort
}

# traced N BINARY: one crr run under BINARY; appends "N prog runs/conn ns/run"
# and "N TOTAL ns/conn" lines to $tmp/all.
traced() {
	first=$(bpftool prog show -j | jq '[.[].id] | max // 0')
	"$2" trace net -i 10s --json >"$tmp/tracer.out" 2>&1 &
	pid=$!
	sleep 1.5
	echo 1 >/proc/sys/kernel/bpf_stats_enabled
	prog_stats "$first" >"$tmp/s0"
	conns=$($B/net_tcp_bench crr "$secs" | awk -v s="$secs" '{ print $1 * s }')
	prog_stats "$first" >"$tmp/s1"
	echo "$old" >/proc/sys/kernel/bpf_stats_enabled
	kill -INT $pid
	wait $pid 2>/dev/null || true
	join "$tmp/s0" "$tmp/s1" | awk -v n="$1" -v c="$conns" '{
		runs = $4 - $2; ns = $5 - $3; total += ns
		if (runs > 0) printf "%s %s %.2f %.0f\n", n, $1, runs / c, ns / runs
	} END { printf "%s TOTAL %.0f\n", n, total / c }' >>"$tmp/all"
}

for r in $(seq "$rounds"); do
	$B/net_tcp_bench crr "$secs" | awk '{ print "0 BARE", $2 }' >>"$tmp/all"
	n=0
	for b in "$@"; do
		n=$((n + 1))
		traced $n "$b"
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
bare=$(awk '$2 == "BARE" { print $3 }' "$tmp/all" | median)
printf 'bare crr: %.1f µs CPU per connection (median of %d)\n' "$bare" "$rounds"
n=0
for b in "$@"; do
	n=$((n + 1))
	total=$(awk -v n=$n '$1 == n && $2 == "TOTAL" { print $3 }' "$tmp/all" | median)
	printf '%s: %s ns BPF per connection, %.2f %% of the bare CPU\n' "$b" "$total" \
		"$(awk -v t="$total" -v b="$bare" 'BEGIN { print t / (b * 10) }')"
	for p in $(awk -v n=$n '$1 == n && $2 != "TOTAL" { print $2 }' "$tmp/all" | sort -u); do
		runs=$(awk -v n=$n -v p="$p" '$1 == n && $2 == p { print $3 }' "$tmp/all" | median)
		ns=$(awk -v n=$n -v p="$p" '$1 == n && $2 == p { print $4 }' "$tmp/all" | median)
		printf '    %-22s %5s runs/conn %6s ns/run\n' "$p" "$runs" "$ns"
	done
done
echo "($rounds interleaved rounds of ${secs}s on $(nproc) CPUs, $(uname -r)," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d))"
