#!/bin/sh
# Module events: loading and unloading another module gives module_coming,
# module_live, module_going, in order; a signed in-tree module adds no taint.
set -u
. /tests/lib_kmod.sh
dmesg_mark

load || { not_ok "load perfagent"; exit 1; }
agent_start mod || { not_ok "agent connects"; exit 1; }
m=$(mark mod) || { not_ok "marker event"; exit 1; }

# A module no earlier test left loaded (or that can be unloaded now).
mod=""
for c in veth sch_netem null_blk scsi_debug; do
	c_sys=$(echo "$c" | tr - _)
	if [ -d "/sys/module/$c_sys" ]; then
		rmmod "$c" 2>/dev/null || continue
	fi
	mod=$c_sys
	break
done
if [ -z "$mod" ]; then
	skip "module events: every candidate module is in use"
else
	modprobe "$mod" && rmmod "$mod" || not_ok "modprobe/rmmod $mod"
	wait_for 20 seen mod ".seq > $m and .type==\"module_going\" and .module==\"$mod\""
	got=$(types mod ".seq > $m and .module==\"$mod\"")
	if [ "$got" = "module_coming module_live module_going" ]; then
		ok "modprobe + rmmod $mod: module_coming module_live module_going"
	else
		not_ok "modprobe + rmmod $mod: module_coming module_live module_going" "got: '$got'"
	fi
	check "$mod (signed, in tree) added no taint" \
		jq_true "$KTMP/mod.out" "map(select(.seq > $m and .module==\"$mod\")) | length == 3 and all(.taint == 0)"
fi
check "no event delivered twice" unique_seqs mod
agent_stop mod
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
