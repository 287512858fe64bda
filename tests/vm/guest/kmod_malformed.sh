#!/bin/sh
# Malformed requests are refused with an extended ack message, never a
# crash, and the module keeps working. Numbers are from
# include/perfagent/genl.h: commands GET_STATUS 1, DUMP_BACKLOG 2,
# DUMP_UNBOUND 3, EVENT 4; attributes API_VERSION 2, SEQ 5, AFTER_SEQ 31
# (PA_ATTR_MAX 31).
set -u
. /tests/lib_kmod.sh
dmesg_mark

# refused NAME ERRNO EXTACK ARGS...: genl_request ARGS is refused with that
# errno name and an extended ack message containing EXTACK ("" for none).
refused() {
	name=$1 want=$2 msg=$3
	shift 3
	res=$("$GENL_REQUEST" "$@" 2>&1)
	case $res in
	*"name=$want extack="*"$msg"*) ok "$name: $want${msg:+, \"$msg\"}" ;;
	*) not_ok "$name: $want${msg:+, \"$msg\"}" "got: $res" ;;
	esac
}

load || { not_ok "load perfagent"; exit 1; }

refused "unknown attribute type" EINVAL "Unknown attribute type" -a 200:u32:1 perfagent 1
refused "API version as 1 byte" EINVAL "invalid attribute length" -a 2:u8:1 perfagent 1
refused "AFTER_SEQ as 4 bytes" EINVAL "invalid attribute length" -d -a 31:u32:1 perfagent 2
refused "a reply-only attribute in a request" EINVAL "Unsupported attribute" -a 5:u64:1 perfagent 1
refused "nested flag on a plain attribute" EINVAL "NLA_F_NESTED not expected" -a 32770:u32:1 perfagent 1
refused "AFTER_SEQ on GET_STATUS" EINVAL "perfagent: attribute not valid for this command" \
	-a 31:u64:1 perfagent 1
refused "AFTER_SEQ on DUMP_UNBOUND" EINVAL "perfagent: attribute not valid for this command" \
	-d -a 31:u64:1 perfagent 3
refused "another API version" EPROTO "perfagent: agent and module speak different API versions" \
	-a 2:u32:99 perfagent 1
refused "another API version on a dump" EPROTO "perfagent: agent and module speak different API versions" \
	-d -a 2:u32:99 perfagent 2
refused "reserved header field set" EINVAL "genlmsghdr.reserved field is not 0" -r 1 perfagent 1
refused "unknown command" EOPNOTSUPP "" perfagent 99
refused "kernel-to-agent command EVENT" EOPNOTSUPP "" perfagent 4
refused "GET_STATUS as a dump" EOPNOTSUPP "" -d perfagent 1
refused "DUMP_BACKLOG without NLM_F_DUMP" EOPNOTSUPP "" perfagent 2

# Well-formed ones still work, and give what they should; 80 more events
# make the backlog dump span several netlink messages.
i=1
while [ $i -le 40 ]; do
	ip link add "paf$i" type dummy && ip link del "paf$i"
	i=$((i + 1))
done
check "GET_STATUS: one reply" sh -c "'$GENL_REQUEST' -a 2:u32:1 perfagent 1 | grep -qx 'result=ok replies=1'"
fill=$(health --status --json | jq .backlog_fill)
check "DUMP_BACKLOG: as many replies as the backlog holds ($fill)" \
	sh -c "'$GENL_REQUEST' -d perfagent 2 | grep -qx 'result=ok replies=$fill'"
last=$(health --status --json | jq .last_seq)
check "DUMP_BACKLOG after the last event: no replies" \
	sh -c "'$GENL_REQUEST' -d -a 31:u64:$last perfagent 2 | grep -qx 'result=ok replies=0'"
check "the agent still works" sh -c "'$PERFAGENT' trace health --source kmod -d 1 >/dev/null 2>&1"
check "rmmod after all that" rmmod perfagent
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
