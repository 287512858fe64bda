#!/bin/sh
# The network probe's host integration test (tests/integration/
# test_net_probe.c) run again on the guest's kernel: the same CO-RE object
# must count loopback connects, resets and NO_SOCKET drops exactly, match
# lo's own counters, and rate-limit its events on Debian's 6.1 as on the
# host. Its result lines pass through as they are (run-all.sh names them).
set -u
t=/perfagent/build/tests/test_net_probe
if ! [ -x "$t" ]; then
	echo "not ok - test_net_probe is in the VM (tools/vm/mkroot.sh copies build/tests/test_*)"
	exit 1
fi
PERFAGENT=${PERFAGENT:-/perfagent/build/perfagent} exec "$t"
