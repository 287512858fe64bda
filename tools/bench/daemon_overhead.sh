#!/bin/sh
# The daemon's own cost: CPU (utime + stime from /proc/PID/stat over a
# window) and resident memory (VmRSS, highest sample), with every probe and
# collector on at a 1 s interval, idle and under a getppid loop on another
# CPU. Also the probes' in-kernel run time (BPF run-time statistics, as
# `perfagent status` reports it) and the syscall rate the load reached (from
# the daemon's own syscall.calls_per_s{syscall=getppid}).
# Targets (issue 5): < 1 % of one CPU idle, < 3 % under ~1M syscalls/s,
# < 20 MB resident. Figures go to docs/benchmarks.md.
# Run as root from the top of the tree: tools/bench/daemon_overhead.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
window=${1:-60}
make -s build/perfagent bench >/dev/null
PA=./build/perfagent
. tools/bench/lib_bench.sh
tmp=$(mktemp -d)
load=""
pid=""
cleanup() {
	[ -n "$load" ] && kill "$load" 2>/dev/null
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
on_exit cleanup

daemon_config "$tmp/config.json" "$tmp"

daemon_start daemon_overhead
hz=$(getconf CLK_TCK)

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; }
# From the daemon's own metrics since $1: the mean of NAME{LABELS} ($2) per
# interval, summing the series of one interval (probe.cpu_ratio of all probes).
mean_metric() {
	grep -h "\"name\":\"$2\"" "$tmp/logs/metrics.jsonl" 2>/dev/null | grep -F "$3" |
		awk -v s="$1" -F'"' '$4 >= s {
			split($0, a, "\"value\":"); split(a[2], b, ",");
			if (!($4 in seen)) { seen[$4] = 1; n++ } v += b[1] }
			END { if (n) printf "%.6f", v / n; else print 0 }'
}

# measure LABEL: CPU share, max RSS and syscall rate over the window.
measure() {
	label=$1
	t0=$(cpu_ticks)
	since=$(date -u +%Y-%m-%dT%H:%M:%S)
	max=0
	i=0
	while [ $i -lt "$window" ]; do
		sleep 1
		r=$(rss_kb)
		[ "$r" -gt "$max" ] && max=$r
		i=$((i + 1))
	done
	t1=$(cpu_ticks)
	bpf=$(mean_metric "$since" probe.cpu_ratio '"probe":')
	rate=$(mean_metric "$since" syscall.calls_per_s '"syscall":"getppid"')
	awk -v l="$label" -v t=$((t1 - t0)) -v hz="$hz" -v w="$window" -v m="$max" \
		-v k="$bpf" -v r="$rate" 'BEGIN {
		printf "%-34s %8.2f %% %9.1f MB %12.2f %% %14.0f\n", l, 100 * t / hz / w, m / 1024,
			100 * k, r }'
}

ncpu=$(nproc)
printf '%-34s %10s %12s %14s %14s\n' "" "agent CPU" "max RSS" "probes' BPF" "getppid/s"
measure "idle (${window}s)"
# The load on the last CPU, the daemon free to run on the others.
taskset -c $((ncpu - 1)) ./build/bench/getppid_loop 4000000000 1 >/dev/null &
load=$!
sleep 3
measure "getppid loop on CPU $((ncpu - 1)) (${window}s)"
kill "$load" 2>/dev/null
load=""
echo "(agent CPU: utime+stime of the daemon over the window, share of one CPU; probes'"
echo " BPF: in-kernel run time of its programs (probe.cpu_ratio summed over probes, mean"
echo " per interval), share of one CPU, paid by the traced tasks; run on $(uname -r),"
echo " $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $ncpu CPUs)"
