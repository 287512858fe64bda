#!/bin/sh
# perfagent trace net against a lossy link: a veth pair across two network
# namespaces, netem dropping a share of what leaves one end. A bulk TCP
# transfer across it must show retransmits, each attributed to that flow
# (addresses, ports, state); netem's drops must show on the sending device
# and under the kernel's drop reason for a qdisc drop; and the probe's
# packet and byte counts for the veth must be exactly what the device itself
# counted. Runs in the test VM (tests/vm/guest/run-all.sh), as root.
# Every wait is bounded (TCG on a loaded host is slow, so generously), and
# the namespaces and agents go on any exit, also at run-all.sh's time limit.
# vm-time-limit: 300
set -u
. /tests/lib_guest.sh
PA=${PERFAGENT:-/perfagent/build/perfagent}
A=pa_net_a
B=pa_net_b
ADDR_A=10.77.0.1
ADDR_B=10.77.0.2
PORT=5001
LOSS=15%
BYTES_K=2048
tmp=$(mktemp -d)
agent=

limited=
cleanup() {
	trap - EXIT INT TERM
	[ -n "$agent" ] && kill -KILL "$agent" $limited 2>/dev/null
	for ns in $A $B; do
		ip netns pids $ns 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	done
	ip netns del $A 2>/dev/null
	ip netns del $B 2>/dev/null
	rm -rf "$tmp"
}
on_exit cleanup

# gone PID SECONDS: wait up to SECONDS for PID to exit; false if it has not.
gone() {
	n=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null && [ $n -gt 0 ]; do sleep 0.1; n=$((n - 1)); done
	! kill -0 "$1" 2>/dev/null
}

# retrans_segs: the TCP RetransSegs counter of namespace A (per namespace).
retrans_segs() {
	in_a awk '$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) c[$i] = i; h = 1; next }
		$1 == "Tcp:" { print $c["RetransSegs"] }' /proc/net/snmp
}

in_a() { ip netns exec $A "$@"; }
in_b() { ip netns exec $B "$@"; }

# stats DEV: rx_packets rx_bytes tx_packets tx_bytes of a device in netns A.
stats() {
	for s in rx_packets rx_bytes tx_packets tx_bytes; do
		in_a cat /sys/class/net/$1/statistics/$s
	done | tr '\n' ' '
}

if ! modprobe veth || ! modprobe sch_netem; then
	skip "netem: veth or sch_netem cannot be loaded"
	exit 0
fi

# Two namespaces, one veth between them; no IPv6, so no router solicitation
# or DAD traffic on the link besides ours.
ip netns add $A && ip netns add $B &&
	ip link add pa_va netns $A type veth peer name pa_vb netns $B || {
	not_ok "netem: set up namespaces and veth"
	exit 1
}
for ns in $A $B; do
	ip netns exec $ns sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6;
		echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' 2>/dev/null
	ip -n $ns link set lo up
done
ip -n $A addr add $ADDR_A/24 dev pa_va && ip -n $A link set pa_va up &&
	ip -n $B addr add $ADDR_B/24 dev pa_vb && ip -n $B link set pa_vb up &&
	in_a tc qdisc add dev pa_va root netem loss $LOSS || {
	not_ok "netem: addresses, links up, netem loss $LOSS on pa_va"
	exit 1
}
# Static neighbours: no ARP on the link, so the device counters move only
# with the transfer (and netem cannot drop an ARP packet instead of ours).
mac_a=$(in_a cat /sys/class/net/pa_va/address)
mac_b=$(in_b cat /sys/class/net/pa_vb/address)
ip -n $A neigh replace $ADDR_B lladdr "$mac_b" dev pa_va nud permanent &&
	ip -n $B neigh replace $ADDR_A lladdr "$mac_a" dev pa_vb nud permanent || {
	not_ok "netem: static neighbours"
	exit 1
}
dd if=/dev/zero of="$tmp/data" bs=1k count=$BYTES_K 2>/dev/null

# busybox nc quits when its standard input ends: the receiver's never does
# (it stops at the sender's end of stream); the sender's is the data.
in_b sh -c "tail -f /dev/null | nc -l -p $PORT >/dev/null" &
"$PA" trace net --netns $A --json -e retrans,drop --rate 0 -i 500ms >"$tmp/out" 2>"$tmp/err" &
agent=$!
# A second one with the default per-flow rate limit, on the same traffic.
"$PA" trace net --netns $A --json -e retrans,drop --rate 5 -i 500ms >"$tmp/limited" 2>&1 &
limited=$!
# Loading and attaching the BPF programs can take tens of seconds under TCG.
for i in $(seq 1200); do
	[ -s "$tmp/out" ] && [ -s "$tmp/limited" ] && break
	kill -0 $agent $limited 2>/dev/null || break
	sleep 0.1
done
if ! [ -s "$tmp/out" ] || ! [ -s "$tmp/limited" ]; then
	not_ok "netem: perfagent trace net starts" "$(cat "$tmp/err")"
	exit 1
fi
before=$(stats pa_va)
segs_before=$(retrans_segs)
if ! in_a timeout 150 nc $ADDR_B $PORT <"$tmp/data"; then
	not_ok "netem: the ${BYTES_K}KiB transfer over the lossy link ends within 150 s"
	exit 1
fi
# Wait for the transfer's last segments to be acknowledged: no socket of
# namespace A left in a state other than TIME_WAIT (06), and none of B's
# but its listener (0A) and TIME_WAIT (B's FIN, whose ACK netem may drop, is
# sent again from LAST_ACK).
for i in $(seq 600); do
	busy=$(in_a awk 'NR > 1 && $4 != "06"' /proc/net/tcp | wc -l)
	busy=$((busy + $(in_b awk 'NR > 1 && $4 != "06" && $4 != "0A"' /proc/net/tcp | wc -l)))
	[ "$busy" -eq 0 ] && break
	sleep 0.1
done
# Then the device's counters, once they hold still for a second (the four
# files are read one by one: a packet between them would tear the read).
after=$(stats pa_va)
for i in $(seq 20); do
	sleep 1
	now=$(stats pa_va)
	[ "$now" = "$after" ] && break
	after=$now
done
segs_after=$(retrans_segs)
# The client's port: the one connection of namespace A, now in TIME_WAIT.
lport=$(in_a awk 'NR > 1 && $4 == "06" { split($2, a, ":"); print a[2] }' /proc/net/tcp)
lport=$(printf '%d' "0x${lport:-0}")
kill -INT $agent $limited
gone $limited 30 || kill -KILL $limited
gone $agent 30 || kill -KILL $agent
wait $limited
wait $agent
rc=$?
agent=
if [ $rc -ne 0 ]; then
	not_ok "netem: perfagent trace net exits cleanly" "exit $rc" "$(cat "$tmp/err")"
	exit 1
fi
ok "netem: perfagent trace net ran over a ${BYTES_K}KiB transfer with $LOSS loss"

jq -c 'select(.type == "net" and .final)' "$tmp/out" >"$tmp/final"
jq -c 'select(.type == "net_event" and .event == "retransmit")' "$tmp/out" >"$tmp/retrans"
retrans=$(jq '.tcp.retransmits' "$tmp/final")
events=$(wc -l <"$tmp/retrans")
if [ -n "$retrans" ] && [ "$retrans" -gt 0 ] && [ "$events" -eq "$retrans" ]; then
	ok "netem: $retrans retransmits counted, each streamed (--rate 0)"
else
	not_ok "netem: retransmits counted and streamed" "summary: $retrans, events: $events" \
		"$(tail -3 "$tmp/out")"
fi
wrong=$(jq -c "select(.laddr != \"$ADDR_A\" or .raddr != \"$ADDR_B\" or .rport != $PORT or
	.protocol != \"tcp\" or .family != \"ipv4\" or .lport != $lport)" "$tmp/retrans")
states=$(jq -r .state "$tmp/retrans" | sort | uniq -c | awk '{ printf "%s%s %s", sep, $2, $1; sep = ", " }')
if [ "$lport" -gt 0 ] && [ "$events" -gt 0 ] && [ -z "$wrong" ]; then
	ok "netem: every retransmit names the flow $ADDR_A:$lport -> $ADDR_B:$PORT (states: $states)"
else
	not_ok "netem: every retransmit names the flow $ADDR_A:$lport -> $ADDR_B:$PORT" \
		"$(echo "$wrong" | head -3)"
fi
# The kernel's own count for namespace A: RetransSegs counts segments, and a
# retransmitted skb can carry several (GSO), so it bounds the probe's count
# of retransmitted skbs from above; with none lost there is at least one.
segs=$((segs_after - segs_before))
if [ -n "$retrans" ] && [ "$retrans" -gt 0 ] && [ "$retrans" -le "$segs" ]; then
	ok "netem: $retrans retransmits within the namespace's RetransSegs ($segs)"
else
	not_ok "netem: retransmits within the namespace's RetransSegs" "probe $retrans, kernel $segs"
fi

acked=$(jq '.tcp.bytes_acked' "$tmp/final")
closed=$(jq '.tcp.closed' "$tmp/final")
if [ "$closed" = 1 ] && [ "$acked" -ge $((BYTES_K * 1024)) ] && [ "$acked" -le $((BYTES_K * 1024 + 2)) ]; then
	ok "netem: the connection closed with its $acked bytes acknowledged (payload, SYN, FIN)"
else
	not_ok "netem: the connection closed with its bytes acknowledged" "closed $closed, acked $acked"
fi

# netem's losses: qdisc drops on the way out of pa_va.
va=$(jq -c '.interfaces[] | select(.name == "pa_va")' "$tmp/final")
tx_drops=$(echo "$va" | jq '.tx_drops')
qdisc=$(jq '[.drops[] | select(.reason == "QDISC_DROP") | .count] | add // 0' "$tmp/final")
reasons=$(jq -r '.drops[] | "\(.reason)=\(.count)"' "$tmp/final" | tr '\n' ' ')
if [ -n "$tx_drops" ] && [ "$tx_drops" -gt 0 ] && [ "$qdisc" -gt 0 ] && [ "$qdisc" -le "$tx_drops" ]; then
	ok "netem: its losses are drops out of pa_va ($tx_drops) with reason QDISC_DROP ($qdisc)"
else
	not_ok "netem: its losses are drops out of pa_va with reason QDISC_DROP" \
		"pa_va: $va" "reasons: $reasons"
fi
bad=$(jq -c 'select(.type == "net_event" and .event == "drop" and .reason == "QDISC_DROP" and
	(.laddr != "'$ADDR_A'" or .raddr != "'$ADDR_B'" or .rport != '$PORT'))' "$tmp/out" | head -3)
if [ "$qdisc" -gt 0 ] && [ -z "$bad" ]; then
	ok "netem: QDISC_DROP events name the flow"
else
	not_ok "netem: QDISC_DROP events name the flow" "$bad"
fi

# Volume control: at most 5 events a second per flow and kind, and every
# event either streamed or counted as suppressed.
jq -c 'select(.type == "net" and .final)' "$tmp/limited" >"$tmp/lfinal"
l_events=$(jq -c 'select(.type == "net_event")' "$tmp/limited" | wc -l)
l_retrans=$(jq -c 'select(.type == "net_event" and .event == "retransmit")' "$tmp/limited" | wc -l)
l_sum=$(jq '.events_sent + .events_suppressed + .events_lost' "$tmp/lfinal")
l_total=$(jq '.tcp.retransmits + ([.drops[].count] | add // 0)' "$tmp/lfinal")
l_secs=$(jq '(.interval_ns / 1e9 | ceil) + 1' "$tmp/lfinal")
if [ -n "$l_sum" ] && [ "$l_sum" = "$l_total" ] && [ "$l_events" = "$(jq .events_sent "$tmp/lfinal")" ] &&
	[ "$l_retrans" -ge 1 ] && [ "$l_retrans" -le $((5 * l_secs)) ] && [ "$l_retrans" -lt "$retrans" ]; then
	ok "netem: --rate 5 streamed $l_retrans of $retrans retransmits over ${l_secs}s, the rest counted as suppressed"
else
	not_ok "netem: --rate 5 holds the stream to 5 a second per flow" \
		"events $l_events (retransmits $l_retrans, of $retrans) over $l_secs s" \
		"sent+suppressed+lost $l_sum, retransmits+drops $l_total"
fi

# The probe's counts for pa_va against the device's own counters.
set -- $before
b_rxp=$1 b_rxb=$2 b_txp=$3 b_txb=$4
set -- $after
want="$(($1 - b_rxp)) $(($2 - b_rxb)) $(($3 - b_txp)) $(($4 - b_txb))"
got=$(echo "$va" | jq -r '"\(.rx_packets) \(.rx_bytes) \(.tx_packets) \(.tx_bytes)"')
if [ "$got" = "$want" ]; then
	ok "netem: pa_va rx/tx packets and bytes are the device's own counts ($got)"
else
	not_ok "netem: pa_va rx/tx packets and bytes are the device's own counts" \
		"probe:  $got" "device: $want"
fi

# perfagent doctor's row for the net source on this kernel.
row=$("$PA" doctor --json 2>/dev/null | jq -c '.sources[] | select(.name == "net")')
if echo "$row" | jq -e '.active and (.mechanism | test("tp_btf"))' >/dev/null 2>&1; then
	ok "doctor: net active: $(echo "$row" | jq -r '.mechanism')$(echo "$row" |
		jq -r '.notes[] | "; " + .' | tr -d '\n')"
else
	not_ok "doctor: net active" "$row"
fi
