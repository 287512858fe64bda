#!/bin/sh
# perfagent trace syscalls as a user runs it: help, errors, and the numbers
# in its JSON output against a workload with known calls.
set -u
PA=${PERFAGENT:-build/perfagent}
WORKER=$(dirname "$PA")/tests/syscall_worker
[ -x "$WORKER" ] || WORKER=build/tests/syscall_worker
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/../lib/check.sh"

expect help 0 "trace syscalls" "$PA" --help
expect version 0 "perfagent 0." "$PA" --version
expect trace_help 0 "syscalls" "$PA" trace --help
expect syscalls_help 0 "--slow DURATION" "$PA" trace syscalls --help
expect unknown_command 2 "unknown command 'frobnicate'" "$PA" frobnicate
expect unknown_source 2 "unknown trace source 'gpu'" "$PA" trace gpu
expect unknown_syscall 2 "-e: unknown syscall 'nosuchcall'" "$PA" trace syscalls -e read,nosuchcall
expect bad_slow 2 "--slow: '10' is not a duration" "$PA" trace syscalls --slow 10
expect bad_interval 2 "-i: 'soon' is not a duration" "$PA" trace syscalls -i soon
expect bad_pid 2 "-p: 'abc' is not a valid id" "$PA" trace syscalls -p abc
expect bad_comm 2 "-c: 'a-name-longer-than-15' cannot be a command name" "$PA" trace syscalls -c a-name-longer-than-15
expect unknown_option 2 "unknown option '--frob'" "$PA" trace syscalls --frob
expect missing_value 2 "missing value for option '-p'" "$PA" trace syscalls -p
expect bad_cgroup 1 "--cgroup /proc: not a cgroup v2 directory" "$PA" trace syscalls --cgroup /proc -d 1
if command -v setpriv >/dev/null; then
	expect not_root 1 "needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all --bounding-set=-all "$PA" trace syscalls -d 1
fi

# json_run NAME CALLS SLEEPS SLEEP_MS EXTRA-ARGS...: trace the worker by pid.
json_run() {
	name=$1 calls=$2 sleeps=$3 ms=$4; shift 4
	rm -f "$tmp/fifo" "$tmp/json"
	mkfifo "$tmp/fifo"
	"$WORKER" "$calls" "$sleeps" "$ms" <"$tmp/fifo" &
	wpid=$!
	"$PA" trace syscalls -p "$wpid" --json -i 200ms -d 4s "$@" >"$tmp/json" 2>"$tmp/err" &
	tpid=$!
	i=0
	while [ ! -s "$tmp/json" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	echo go >"$tmp/fifo"
	wait "$wpid"
	wait "$tpid"
	trc=$?
	if [ $trc -ne 0 ]; then
		fail "$name" "perfagent exited $trc: $(cat "$tmp/err")"
		return 1
	fi
}

json_run json_counts 25000 0 0
got=$(jq -s '[.[] | select(.final) | .syscalls[] | select(.name == "getppid") | .count] | add' "$tmp/json")
lines=$(jq -c . "$tmp/json" | wc -l)
sum=$(jq -s '[.[] | select(.final | not) | .syscalls[] | select(.name == "getppid") | .count] | add' "$tmp/json")
if [ "$got" = 25000 ] && [ "$sum" = 25000 ] && [ "$lines" -ge 2 ]; then
	ok json_counts
else
	fail json_counts "final getppid count $got, sum of intervals $sum (want 25000), $lines JSON lines"
fi

json_run json_slow_stream 1000 5 20 --slow 10ms
# Every call of the worker at least 10 ms slow is streamed, exactly once; under
# CPU emulation that can include a getppid, so only the sleeps are counted.
slow=$(jq -s '[.[] | select(.type == "slow_syscall" and .syscall == "nanosleep" and .latency_ns >= 10000000)] | length' "$tmp/json")
under=$(jq -s '[.[] | select(.type == "slow_syscall" and .latency_ns < 10000000)] | length' "$tmp/json")
streamed=$(jq -s '[.[] | select(.type == "slow_syscall")] | length' "$tmp/json")
sent=$(jq -s '[.[] | select(.final) | .events_sent] | add' "$tmp/json")
p50=$(jq -s '[.[] | select(.final) | .syscalls[] | select(.name == "nanosleep") | .p50_ns] | add' "$tmp/json")
if [ "$slow" = 5 ] && [ "$under" = 0 ] && [ "$streamed" = "$sent" ] && [ "$p50" -ge 19000000 ]; then
	ok json_slow_stream
else
	fail json_slow_stream "$slow slow nanosleep events (want 5), $under under 10ms, $streamed streamed of $sent sent, p50 $p50 ns (want >= 19ms)"
fi

# The human table: the same count in the summary row.
rm -f "$tmp/fifo"; mkfifo "$tmp/fifo"
"$WORKER" 12345 0 0 <"$tmp/fifo" &
wpid=$!
"$PA" trace syscalls -p "$wpid" -i 200ms -d 3s >"$tmp/table" 2>"$tmp/err" &
tpid=$!
i=0
while ! grep -q Tracing "$tmp/err" && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
echo go >"$tmp/fifo"
wait "$wpid"; wait "$tpid"
row=$(sed -n '/SUMMARY/,$p' "$tmp/table" | awk '$1 == "getppid" { print $2 }')
if [ "$row" = 12345 ]; then ok table_summary; else fail table_summary "summary getppid count '$row'" "$(cat "$tmp/table" | tail -5)"; fi
