#!/bin/sh
# Privilege: the module's commands need CAP_NET_ADMIN, and so does joining
# its event group on kernels that support restricting it (6.6+, and the
# stable kernels the restriction was backported to: Debian's 6.1 has it).
set -u
. /tests/lib_kmod.sh
dmesg_mark

as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# Root, but CAP_NET_ADMIN dropped from the bounding set: gone after exec.
as_root_without_net_admin() { setpriv --bounding-set=-net_admin "$@"; }

# refused NAME WANT CMD...: genl_request's answer has errno name WANT.
refused() {
	name=$1 want=$2
	shift 2
	res=$("$@" 2>&1)
	case $res in
	*"name=$want "*) ok "$name: refused with $want" ;;
	*) not_ok "$name: refused with $want" "got: $res" ;;
	esac
}

load || { not_ok "load perfagent"; exit 1; }
check "root: GET_STATUS answered" sh -c "'$GENL_REQUEST' perfagent 1 | grep -q 'result=ok replies=1'"
refused "nobody: GET_STATUS" EPERM as_nobody "$GENL_REQUEST" perfagent 1
refused "nobody: DUMP_BACKLOG" EPERM as_nobody "$GENL_REQUEST" -d perfagent 2
refused "nobody: DUMP_UNBOUND" EPERM as_nobody "$GENL_REQUEST" -d perfagent 3
refused "nobody: joining the events group" EPERM as_nobody "$GENL_REQUEST" -j events perfagent
refused "root without CAP_NET_ADMIN: GET_STATUS" EPERM as_root_without_net_admin "$GENL_REQUEST" perfagent 1
refused "root without CAP_NET_ADMIN: joining the events group" EPERM \
	as_root_without_net_admin "$GENL_REQUEST" -j events perfagent
check "root: joining the events group" sh -c "'$GENL_REQUEST' -j events perfagent | grep -q 'result=ok joined'"

# The agent itself, unprivileged: a clear message and a non-zero exit.
as_nobody "$PERFAGENT" trace health --source kmod -d 1 >"$KTMP/nobody.out" 2>"$KTMP/nobody.err"
rc=$?
if [ $rc -ne 0 ] && grep -q 'CAP_NET_ADMIN' "$KTMP/nobody.err" && ! [ -s "$KTMP/nobody.out" ]; then
	ok "agent as nobody: exit $rc, '$(cat "$KTMP/nobody.err")'"
else
	not_ok "agent as nobody is refused with a clear message" "exit $rc: $(cat "$KTMP/nobody.err")"
fi
unload
bad=$(kernel_trouble)
if [ -z "$bad" ]; then ok "no WARNING, BUG or Oops"; else not_ok "no WARNING, BUG or Oops" "$bad"; fi
