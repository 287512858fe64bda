#!/bin/sh
# The agent survives the module being unloaded and loaded again: it says
# so, reconnects by itself, reads the new instance's backlog, and nothing
# is delivered twice.
set -u
. /tests/lib_kmod.sh
dmesg_mark

load || { not_ok "load perfagent"; exit 1; }
agent_start rl || { not_ok "agent connects"; exit 1; }
ip link add par0 type dummy
wait_for 20 seen rl '.type=="netdev_registered" and .netdev=="par0"'
first=$(jq -r 'select(.netdev=="par0") | .instance' "$KTMP/rl.out" | head -n1)

rmmod perfagent
check "the agent says the module was unloaded" \
	wait_for 20 grep -q 'kernel module perfagent was unloaded' "$KTMP/rl.err"
ip link add par1 type dummy	# nobody records this one
modprobe perfagent
check "the agent says the module was loaded again" \
	wait_for 20 grep -q 'kernel module perfagent 0.1.0 was loaded again' "$KTMP/rl.err"
ip link add par2 type dummy
wait_for 20 seen rl '.type=="netdev_registered" and .netdev=="par2"'
check "the agent is still running" agent_alive rl
agent_stop rl
rc=$?

second=$(jq -r 'select(.netdev=="par2") | .instance' "$KTMP/rl.out" | head -n1)
if [ "$(count rl '.type=="netdev_registered" and .netdev=="par0"')" -eq 1 ] &&
	[ "$(count rl '.netdev=="par1"')" -eq 0 ] &&
	[ "$(count rl '.type=="netdev_registered" and .netdev=="par2"')" -eq 1 ] &&
	[ -n "$first" ] && [ -n "$second" ] && [ "$first" != "$second" ]; then
	ok "events before and after the reload once each, from two module instances"
else
	not_ok "events before and after the reload once each" "$(jq -c 'select(.netdev // "" | startswith("par"))' "$KTMP/rl.out")"
fi
check "the new instance's backlog read: its own module_live, once" \
	test "$(count rl ".instance==\"$second\" and .type==\"module_live\" and .module==\"perfagent\"")" -eq 1
check "no event twice" unique_seqs rl
case $(grep '^perfagent: [0-9]* events' "$KTMP/rl.err") in
*" 1 reconnects"*) ok "agent exit $rc, one reconnect counted" ;;
*) not_ok "one reconnect counted" "exit $rc: $(cat "$KTMP/rl.err")" ;;
esac
ip link del par0
ip link del par1
ip link del par2
unload
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
