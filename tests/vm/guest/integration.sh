#!/bin/sh
# The host's BPF integration tests (tests/integration/test_*), run again in
# the VM: the same CO-RE objects must load and measure right on Debian's 6.1
# kernel as on the host's. Same invocation as tests/run.sh's integration
# suite; result lines are passed on with the test's name in front.
# Runs from /perfagent (run-all.sh), which mirrors the build tree.
# vm-time-limit: 420
set -u
PERFAGENT=${PERFAGENT:-/perfagent/build/perfagent}
export PERFAGENT
limit=${VM_INTEGRATION_TIMEOUT:-240}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# run NAME CMD...: one test program; prefix its result lines with NAME.
run() {
	name=$1
	shift
	timeout -s KILL "$limit" "$@" >"$out" 2>&1
	rc=$?
	sed -n "s/^\(ok\|not ok\|skip\) - /\1 - $name: /p; /^\(ok\|not ok\|skip\) - /!s/^/#   /p" "$out"
	if [ $rc -ne 0 ] && ! grep -q '^not ok - ' "$out"; then
		echo "not ok - $name: exited with status $rc"
	elif ! grep -qE '^(ok|not ok|skip) - ' "$out"; then
		echo "not ok - $name: printed no ok/not ok/skip line"
	fi
}

# The probe tests: what CO-RE must get right on a second kernel. The others
# (logs, journal, daemon) do not depend on the kernel's layout and are run on
# the host. test_net_probe: loopback connects, resets and NO_SOCKET drops
# counted exactly, lo's own counters matched, events rate-limited, on 6.1's
# tracepoints. test_netns_links: interface counters over 6.1's rtnetlink
# (a shorter struct rtnl_link_stats64). VM_INTEGRATION=test_a,test_b (kernel command line;
# tests/vm/run.sh passes it on) runs those instead.
VM_INTEGRATION=${VM_INTEGRATION:-test_syscall_probe,test_trace_cli,test_net_probe,test_netns_links}

# Timing bounds (percentiles within 5 %) are checked on the host: under TCG a
# single syscall can take milliseconds, so the tests skip them here.
PERFAGENT_TIMING_UNRELIABLE=1
export PERFAGENT_TIMING_UNRELIABLE

wanted() {
	case ,$VM_INTEGRATION, in
	*,"$1",*) return 0 ;;
	esac
	return 1
}

found=0
for t in build/tests/test_*; do
	[ -x "$t" ] && wanted "$(basename "$t")" || continue
	found=1
	run "$(basename "$t")" "$t"
done
for t in tests/integration/test_*.sh; do
	[ -e "$t" ] && wanted "$(basename "$t" .sh)" || continue
	found=1
	run "$(basename "$t" .sh)" /bin/sh "$t"
done
if [ $found -eq 0 ]; then
	echo "not ok - integration tests present in the VM (tools/vm/mkroot.sh copies build/tests/test_*)"
fi
