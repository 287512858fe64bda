#!/bin/sh
# 100 unload/load cycles of perfagent with the agent subscribed and events
# happening all the while: no WARNING, BUG or Oops, and the agent follows
# every reload without delivering anything twice.
set -u
. /tests/lib_kmod.sh
dmesg_mark

cycles=${KMOD_STRESS_CYCLES:-100}
load || { not_ok "load perfagent"; exit 1; }
agent_start st || { not_ok "agent connects"; exit 1; }
ip link add pas0 type dummy
touch "$KTMP/churn"
( while [ -e "$KTMP/churn" ]; do ip link set pas0 up; ip link set pas0 down; done ) &
churn=$!

failed=0 busy=0 i=0
while [ "$i" -lt "$cycles" ]; do
	# A backlog dump in progress holds a module reference: rmmod may
	# have to try again ("in use"), as for any module.
	tries=0
	until rmmod perfagent 2>/dev/null; do
		tries=$((tries + 1))
		if [ $tries -ge 100 ]; then
			failed=1
			break 2
		fi
		busy=$((busy + 1))
		sleep 0.05
	done
	modprobe perfagent || { failed=1; break; }
	i=$((i + 1))
done
rm -f "$KTMP/churn"
wait "$churn"
if [ $failed -eq 0 ]; then
	ok "$cycles unload/load cycles ($busy rmmod retries while a dump held the module)"
else
	not_ok "$cycles unload/load cycles" "stopped at cycle $i"
fi
if agent_alive st; then
	ok "the agent is still running"
else
	not_ok "the agent is still running"
	agent_messages st
fi
final=$(health --status --json | jq -r .instance)
check "the agent follows the last instance" wait_for 30 seen st ".instance==\"$final\""
agent_stop st
rc=$?
check "the agent exited cleanly (status $rc)" test "$rc" -eq 0
check "no event twice across $cycles instances" unique_seqs st
note "$(grep '^perfagent: [0-9]* events' "$KTMP/st.err")"
note "instances seen: $(jq -r .instance "$KTMP/st.out" | sort -u | wc -l)"
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops after $cycles cycles"; else not_ok "no WARNING, BUG or Oops after $cycles cycles" "$bad"; fi
