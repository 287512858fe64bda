#!/bin/sh
# The agent's socket overflows (ENOBUFS): it says so, re-reads the backlog
# and delivers every event exactly once, losing none the backlog still has.
set -u
. /tests/lib_kmod.sh
dmesg_mark

n=60
load || { not_ok "load perfagent"; exit 1; }
# A tiny socket buffer: a handful of events fill it.
agent_start ovf --rcvbuf 4k || { not_ok "agent connects"; exit 1; }
m=$(mark ovf) || { not_ok "marker event"; exit 1; }
pid=$(agent_pid ovf)
kill -STOP "$pid"
i=1
while [ $i -le $n ]; do ip link add "pao$i" type dummy; i=$((i + 1)); done
i=1
while [ $i -le $n ]; do ip link del "pao$i"; i=$((i + 1)); done
kill -CONT "$pid"
wait_for 60 seen ovf ".type==\"netdev_unregistered\" and .netdev==\"pao$n\"" ||
	note "the last event did not arrive within 60 s"
agent_stop ovf
rc=$?
note "the agent printed $(wc -l <"$KTMP/ovf.out") events:" \
	"$(jq -r .type "$KTMP/ovf.out" | sort | uniq -c | tr -s " " | tr "\n" ",")"
note "and said:"
agent_messages ovf

check "the agent said its socket overflowed" grep -q 'event socket overflowed (ENOBUFS)' "$KTMP/ovf.err"
# One jq pass (jq is slow under TCG): each device's event types, in order.
jq -r -s "map(select(.seq > $m and (.netdev // \"\" | startswith(\"pao\")))) |
	group_by(.netdev)[] | \"\(.[0].netdev) \(map(.type) | join(\",\"))\"" \
	"$KTMP/ovf.out" | sort >"$KTMP/got"
i=1
while [ $i -le $n ]; do
	echo "pao$i netdev_registered,netdev_unregistered"
	i=$((i + 1))
done | sort >"$KTMP/want"
if cmp -s "$KTMP/got" "$KTMP/want"; then
	ok "all $((2 * n)) events delivered once each, in order, after the overflow"
else
	not_ok "all events delivered once each after the overflow" \
		"$(diff "$KTMP/want" "$KTMP/got" | head -10 | tr '\n' ' ')"
fi
check "no event twice" unique_seqs ovf
check "sequence numbers after the marker have no gap" \
	jq_true "$KTMP/ovf.out" "map(select(.seq > $m) | .seq) as \$s | \$s == [range($m + 1; $m + 1 + (\$s | length))]"
summary=$(grep '^perfagent: [0-9]* events' "$KTMP/ovf.err")
case $summary in
*" 0 lost,"*) ok "agent exit $rc, summary: $summary" ;;
*) not_ok "the agent counts no lost event" "exit $rc: $summary" ;;
esac
unload
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
