#!/bin/sh
# Loading the kernel module (modprobe, as installed by DKMS, and insmod of
# the .ko with a parameter), its status over netlink, unloading, and what
# the agent says when the module is not loaded.
set -u
. /tests/lib_kmod.sh
dmesg_mark

unload
if load && module_loaded; then
	ok "modprobe perfagent loads it"
else
	not_ok "modprobe perfagent loads it" "$(dmesg | tail -5)"
fi
ver=$(cat /sys/module/perfagent/version 2>/dev/null)
if [ -n "$ver" ] && [ "$ver" = "$("$PERFAGENT" --version | cut -d' ' -f2)" ]; then
	ok "module version $ver is the agent's"
else
	not_ok "module version is the agent's" "module: '$ver', agent: $("$PERFAGENT" --version)"
fi
check "the kernel log says it loaded" sh -c "dmesg | grep -q 'perfagent: version $ver loaded'"

# Status: JSON, counters consistent with the backlog.
if health --status --json >"$KTMP/status" 2>"$KTMP/status.err"; then
	size=$(jq -r .backlog_size "$KTMP/status")
	fill=$(jq -r .backlog_fill "$KTMP/status")
	first=$(jq -r .first_seq "$KTMP/status")
	last=$(jq -r .last_seq "$KTMP/status")
	total=$(jq '[.counters[]] | add' "$KTMP/status")
	if [ "$size" = 1024 ] && [ "$fill" -ge 1 ] && [ "$last" -eq "$total" ] &&
		[ $((last - first + 1)) -eq "$fill" ] && [ "$(jq -r .api_version "$KTMP/status")" = 1 ]; then
		ok "status: default backlog 1024, fill $fill, sequence $first-$last, $total events counted"
	else
		not_ok "status is consistent" "$(cat "$KTMP/status")"
	fi
else
	not_ok "status is consistent" "$(cat "$KTMP/status.err")"
fi

# The module saw itself go live; it is out of tree, so it tainted the kernel.
health --json -d 1 >"$KTMP/self.out" 2>/dev/null
if jq -e 'select(.type=="module_live" and .module=="perfagent" and .backlog and (.taint_flags | test("O")))' \
	"$KTMP/self.out" >/dev/null; then
	ok "backlog holds perfagent's own module_live, out-of-tree taint (O)"
else
	not_ok "backlog holds perfagent's own module_live, out-of-tree taint (O)" "$(cat "$KTMP/self.out")"
fi

# Devices without a driver: the same list as sysfs, live.
health --unbound --json >"$KTMP/unbound" 2>"$KTMP/unbound.err"
for bus in pci platform; do
	for d in "/sys/bus/$bus/devices/"*; do
		[ -e "$d/driver" ] || echo "$bus $(basename "$d")"
	done
done | sort >"$KTMP/unbound.sysfs"
jq -r '"\(.bus) \(.device)"' "$KTMP/unbound" | sort >"$KTMP/unbound.agent"
if [ -s "$KTMP/unbound.sysfs" ] && cmp -s "$KTMP/unbound.sysfs" "$KTMP/unbound.agent"; then
	ok "--unbound lists the $(wc -l <"$KTMP/unbound.agent") PCI/platform devices sysfs shows without a driver"
else
	not_ok "--unbound lists the devices sysfs shows without a driver" \
		"sysfs: $(tr '\n' ',' <"$KTMP/unbound.sysfs")" "agent: $(tr '\n' ',' <"$KTMP/unbound.agent")"
fi

check "rmmod perfagent unloads it" sh -c 'rmmod perfagent && ! [ -d /sys/module/perfagent ]'
check "the netlink family is gone with it" family_absent

# The agent without the module: a plain explanation; with the module as
# the only source, a non-zero exit.
nomod='kernel module perfagent is not loaded (modprobe perfagent; see README)'
health >"$KTMP/nomod.out" 2>"$KTMP/nomod.err"
rc=$?
if [ $rc -ne 0 ] && grep -qF "$nomod" "$KTMP/nomod.err"; then
	ok "trace health --source kmod without the module says so and exits $rc"
else
	not_ok "trace health --source kmod without the module says so" "exit $rc: $(cat "$KTMP/nomod.err")"
fi
"$PERFAGENT" trace health -d 1 >"$KTMP/nomod2.out" 2>"$KTMP/nomod2.err"
if grep -qF "$nomod" "$KTMP/nomod2.err"; then
	ok "trace health (all sources) without the module says so"
else
	not_ok "trace health (all sources) without the module says so" "$(cat "$KTMP/nomod2.err")"
fi

# insmod of the file, with a module parameter.
if insmod "$PERFAGENT_KO" backlog=64 && [ "$(cat /sys/module/perfagent/parameters/backlog)" = 64 ] &&
	[ "$(health --status --json | jq .backlog_size)" = 64 ]; then
	ok "insmod perfagent.ko backlog=64 sets a 64-event backlog"
else
	not_ok "insmod perfagent.ko backlog=64 sets a 64-event backlog"
fi
unload
if ! insmod "$PERFAGENT_KO" backlog=3 2>/dev/null && ! module_loaded &&
	dmesg | grep -q 'perfagent: backlog=3 is out of range'; then
	ok "a backlog out of range is refused with a message"
else
	not_ok "a backlog out of range is refused with a message"
fi
unload

bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
