#!/bin/sh
# What disk tracing costs a file-I/O workload, on ext4 over a loop device
# backed by memory (/dev/shm), so the device is as fast as it gets and the
# probe's per-request cost weighs the most:
#   randrw    4 KiB O_DIRECT random reads/writes on a 64 MiB file (ops/s)
#   seqwrite  1 MiB buffered writes with fsync every 8 MiB (MiB/s)
# each bare, with empty tp_btf programs on the disk probe's block tracepoints
# (the floor: the cost of hooking at all), with 'perfagent trace disk' at its
# default settings (every request aggregated, failed I/O streamed, rate limit
# 100/s per disk and operation) and with --slow-p99 (adaptive threshold:
# about 1 % of requests streamed, under the same rate limit). Rounds are
# interleaved so that machine noise hits every variant alike; the figure per
# variant is the median of the rounds. Also reports the events perfagent lost
# (buffer full) over all its runs: the goal is none. Last, the same
# workloads under build/bench/disk_cost, which reads the kernel's BPF
# run-time statistics: time spent in the probe per request and as a share of
# the workload's time, a figure the machine's noise does not blur.
# Run as root from the top of the tree:
#   tools/bench/disk_overhead.sh [ROUNDS [SECONDS]]
set -eu
cd "$(dirname "$0")/../.."
rounds=${1:-5}
secs=${2:-3}
make -s build/perfagent bench >/dev/null
B=build/bench
. tools/bench/lib_bench.sh
tmp=$(mktemp -d)

cleanup() {
	kill $(jobs -p) 2>/dev/null || true
	memfs_teardown
	rm -rf "$tmp"
}
on_exit cleanup

memfs_setup "$tmp"
mnt=$memfs_mnt

measure() { $B/disk_workload "$mnt/data" "$secs" "$1" | awk -v m="$1" '{ print (m == "randrw") ? $8 : $10 }'; }

# with_tracer MODE LABEL CMD...: start a tracer, measure, stop it.
with_tracer() {
	mode=$1 label=$2; shift 2
	"$@" >"$tmp/tracer.out" 2>&1 &
	pid=$!
	sleep 1.5
	measure "$mode" >>"$tmp/$mode.$label"
	kill -INT $pid
	wait $pid 2>/dev/null || true
	case $label in
	perfagent*)
		jq -r 'select(.type == "disk" and .final) | .events_lost' "$tmp/tracer.out" >>"$tmp/lost"
		jq -r 'select(.type == "disk" and .final) | .events_sent' "$tmp/tracer.out" >>"$tmp/sent.$label"
		;;
	esac
}

for r in $(seq "$rounds"); do
	for mode in randrw seqwrite; do
		measure $mode >>"$tmp/$mode.bare"
		with_tracer $mode floor $B/empty_attach $B/disk_empty.bpf.o
		with_tracer $mode perfagent ./build/perfagent trace disk -i 10s --json
		with_tracer $mode perfagent_p99 ./build/perfagent trace disk -i 1s --json --slow-p99
	done
done

median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-9s %-6s %11s %11s %11s %11s %9s %9s %9s\n' workload unit bare floor perfagent \
	"p99-stream" floor perfagent "p99"
for mode in randrw seqwrite; do
	case $mode in
	randrw) unit=ops/s ;;
	seqwrite) unit=MiB/s ;;
	esac
	b=$(median "$tmp/$mode.bare")
	f=$(median "$tmp/$mode.floor")
	p=$(median "$tmp/$mode.perfagent")
	q=$(median "$tmp/$mode.perfagent_p99")
	awk -v m=$mode -v u=$unit -v b="$b" -v f="$f" -v p="$p" -v q="$q" 'BEGIN {
		printf "%-9s %-6s %11.1f %11.1f %11.1f %11.1f %8.2f%% %8.2f%% %8.2f%%\n", m, u, b, f, p, q,
			(f / b - 1) * 100, (p / b - 1) * 100, (q / b - 1) * 100 }'
done
lost=$(awk '{ s += $1 } END { print s + 0 }' "$tmp/lost")
sent=$(awk '{ s += $1 } END { print s + 0 }' "$tmp/sent.perfagent_p99")
echo "events streamed with --slow-p99 over all runs: $sent; lost by perfagent over all runs: $lost"
for mode in randrw seqwrite; do
	printf '%-9s probe cost: ' $mode
	$B/disk_cost -- $B/disk_workload "$mnt/data" "$secs" $mode
done
echo "($rounds interleaved rounds of ${secs}s on $(nproc) CPUs, $(uname -r), $(date -u +%Y-%m-%d))"
