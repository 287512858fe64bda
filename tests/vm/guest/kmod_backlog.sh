#!/bin/sh
# The backlog: events from before the agent connected arrive from it
# exactly once (and again, once, for the next agent); events during the
# connect are neither lost nor doubled; a backlog that overflowed says how
# many events were lost, and its status counts them.
set -u
. /tests/lib_kmod.sh
dmesg_mark

# life NAME DEV: the types of DEV's events the agent NAME got.
life() { types "$1" ".netdev==\"$2\""; }
want="netdev_registered netdev_up netdev_down netdev_unregistered"
dummy_life() {
	ip link add "$1" type dummy && ip link set "$1" up &&
		ip link set "$1" down && ip link del "$1"
}

unload
load || { not_ok "load perfagent"; exit 1; }

# --- before any agent ---
dummy_life pab0
for run in 1 2; do
	health --json -d 2 >"$KTMP/run$run.out" 2>"$KTMP/run$run.err"
	got=$(life "run$run" pab0)
	if [ "$got" = "$want" ] &&
		[ "$(count "run$run" '.netdev=="pab0" and .backlog')" -eq 4 ]; then
		ok "agent $run gets the 4 events from before it started, once each, from the backlog"
	else
		not_ok "agent $run gets the events from before it started once each" "got: '$got'" \
			"$(cat "$KTMP/run$run.err")"
	fi
	check "agent $run: no event twice" unique_seqs "run$run"
done
# What the backlog held is the module's count of them.
health --status --json >"$KTMP/status"
held=$(count run2 'true')
fill=$(jq .backlog_fill "$KTMP/status")
if [ "$held" -eq "$fill" ] && [ "$(jq .dropped "$KTMP/status")" -eq 0 ]; then
	ok "the agent read all $fill events the backlog held, none dropped"
else
	not_ok "the agent read all events the backlog held" "read $held, status: $(cat "$KTMP/status")"
fi

# --- events racing with the connect: backlog and live merged ---
( for i in 1 2 3 4 5 6 7 8; do dummy_life "pac$i"; done ) &
churn=$!
agent_start race
wait "$churn"
wait_for 20 seen race '.type=="netdev_unregistered" and .netdev=="pac8"'
bad=""
for i in 1 2 3 4 5 6 7 8; do
	[ "$(life race "pac$i")" = "$want" ] || bad="$bad pac$i:'$(life race "pac$i")'"
done
if [ -z "$bad" ]; then
	ok "32 events during the connect: each once, in order ($(count race '.backlog and (.netdev // "" | startswith("pac"))') from the backlog)"
else
	not_ok "events during the connect: each once, in order" "$bad"
fi
check "no event twice (backlog and live merged)" unique_seqs race
agent_stop race

# --- overflow: a 16-event backlog and 40 events before the agent ---
unload
load backlog=16 || { not_ok "load perfagent backlog=16"; exit 1; }
for i in 1 2 3 4 5 6 7 8 9 10; do dummy_life "pad$i"; done
health --status --json >"$KTMP/ostatus"
health --json -d 2 >"$KTMP/over.out" 2>"$KTMP/over.err"
dropped=$(jq .dropped "$KTMP/ostatus")
last=$(jq .last_seq "$KTMP/ostatus")
got=$(count over 'true')
lost=$(sed -n 's/^perfagent: \([0-9]*\) events were lost: the module.s backlog overflowed.*/\1/p' "$KTMP/over.err")
if [ "$(jq .backlog_fill "$KTMP/ostatus")" -eq 16 ] && [ "$dropped" -eq $((last - 16)) ] &&
	[ "$got" -eq 16 ] && [ "${lost:-0}" -eq "$dropped" ]; then
	ok "backlog=16 after $last events: 16 delivered, $dropped counted lost by module and agent alike"
else
	not_ok "an overflowed backlog counts and reports its losses" "delivered $got, agent said lost '${lost}'" \
		"status: $(cat "$KTMP/ostatus")" "$(cat "$KTMP/over.err")"
fi
check "the 16 delivered are the newest, in order" \
	jq_true "$KTMP/over.out" "map(.seq) == [range($((last - 15)); $((last + 1)))]"
unload

bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
