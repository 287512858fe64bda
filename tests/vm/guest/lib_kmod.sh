# Sourced by the kernel module's guest tests (kmod_*.sh); not a test itself
# (run-all.sh skips lib*.sh). POSIX sh, run as root in the test VM from
# /perfagent, with modprobe able to load perfagent (see run-all.sh).
#
# Each test script loads the module as it needs and leaves it unloaded, and
# removes the devices it made, so scripts do not depend on each other.
# Variables of these functions start with _k_ (sh has no local variables).

. /tests/lib_guest.sh

PERFAGENT=${PERFAGENT:-/perfagent/build/perfagent}
GENL_REQUEST=${GENL_REQUEST:-/perfagent/build/tests/genl_request}
KTMP=$(mktemp -d /tmp/kmod.XXXXXX)
AGENT_PIDS=""

# The module's events only: trace health also streams BPF health events by
# default, which these tests do not count.
health() { "$PERFAGENT" trace health --source kmod "$@"; }

note() { echo "# $*"; }

# check NAME CMD...: ok when CMD succeeds.
check() {
	_k_name=$1
	shift
	if "$@"; then ok "$_k_name"; else not_ok "$_k_name" "failed: $*"; fi
}

# wait_for SECONDS CMD...: until CMD succeeds; fails after SECONDS.
wait_for() {
	_k_wait=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		_k_wait=$((_k_wait - 1))
		[ $_k_wait -gt 0 ] || return 1
		sleep 0.1
	done
}

module_loaded() { [ -d /sys/module/perfagent ]; }
family_present() { "$GENL_REQUEST" perfagent 1 >/dev/null 2>&1; }
family_absent() { ! family_present; }

# load ARGS...: modprobe perfagent with module parameters.
load() {
	module_loaded && rmmod perfagent
	modprobe perfagent "$@"
}

unload() {
	if module_loaded; then rmmod perfagent; fi
}

iface_with_mac() {
	for _k_d in /sys/class/net/*; do
		if [ "$(cat "$_k_d/address" 2>/dev/null)" = "$1" ]; then
			basename "$_k_d"
			return 0
		fi
	done
	return 1
}

# agent_start NAME ARGS...: `perfagent trace health --json ARGS` in the
# background, output in $KTMP/NAME.out and .err. Returns when it has
# connected: its first line is out (the backlog always holds at least the
# module's own module_live event). Joining the event group comes before
# reading the backlog, so from then on no event is missed.
agent_start() {
	_k_agent=$1
	shift
	# A file left by an earlier agent of this name would look like this
	# one's first line until the new process truncates it (after the fork,
	# before the exec): then a SIGINT could come before it has a handler.
	rm -f "$KTMP/$_k_agent.out" "$KTMP/$_k_agent.err"
	# Not through health(): $! must be the agent, not a subshell.
	"$PERFAGENT" trace health --source kmod --json "$@" \
		>"$KTMP/$_k_agent.out" 2>"$KTMP/$_k_agent.err" &
	eval "agent_pid_$_k_agent=$!"
	AGENT_PIDS="$AGENT_PIDS $!"
	if ! wait_for 30 agent_settled "$_k_agent" || ! [ -s "$KTMP/$_k_agent.out" ]; then
		note "agent $_k_agent did not start: $(cat "$KTMP/$_k_agent.err")"
		agent_state "$_k_agent"
		return 1
	fi
}

agent_pid() { eval "echo \$agent_pid_$1"; }

# agent_state NAME: where a stuck or vanished agent is, as diagnostics.
agent_state() {
	_k_pid=$(agent_pid "$1")
	if ! [ -d "/proc/$_k_pid" ]; then
		wait "$_k_pid"
		note "agent $1 (pid $_k_pid) has exited, status $?"
		return 0
	fi
	note "agent $1 (pid $_k_pid): $(grep State "/proc/$_k_pid/status")"
	for _k_t in /proc/"$_k_pid"/task/*; do
		note "  thread $(basename "$_k_t") $(cat "$_k_t/comm") in $(cat "$_k_t/wchan"):"
		sed 's/^/#     /' "$_k_t/stack"
	done
}
agent_alive() { kill -0 "$(agent_pid "$1")" 2>/dev/null; }
agent_settled() { [ -s "$KTMP/$1.out" ] || ! agent_alive "$1"; }

# agent_stop NAME: SIGINT, and its exit status; SIGKILL (status 137) if it
# has not exited within 15 s, with its last messages.
agent_stop() {
	_k_pid=$(agent_pid "$1")
	kill -INT "$_k_pid" 2>/dev/null
	_k_wait=150
	while kill -0 "$_k_pid" 2>/dev/null && [ $_k_wait -gt 0 ]; do
		sleep 0.1
		_k_wait=$((_k_wait - 1))
	done
	if kill -0 "$_k_pid" 2>/dev/null; then
		note "agent $1 ignored SIGINT for 15 s; killing it. Its last messages:"
		tail -n 5 "$KTMP/$1.err" | sed 's/^/#   /'
		kill -KILL "$_k_pid"
	fi
	wait "$_k_pid"
}

# agent_messages NAME: what the agent said on stderr, as diagnostics.
agent_messages() { tail -n "${2:-10}" "$KTMP/$1.err" | sed 's/^/#   /'; }

# jq_true FILE FILTER: FILTER (over all of FILE's objects, slurped) is true.
jq_true() { jq -s -e "$2" "$1" >/dev/null; }

# out NAME: the agent's JSON lines.
out() { cat "$KTMP/$1.out"; }

# count NAME JQ-FILTER: how many events match (e.g. '.type=="netdev_up"').
count() { jq -c "select($2)" "$KTMP/$1.out" | wc -l; }

# seen NAME JQ-FILTER: an event matching has arrived.
seen() { [ "$(count "$1" "$2")" -gt 0 ]; }

# types NAME JQ-FILTER: the types of the matching events, in order, on one line.
types() { jq -r "select($2) | .type" "$KTMP/$1.out" | tr '\n' ' ' | sed 's/ $//'; }

# mark NAME: the sequence number of a fresh marker event the agent NAME has
# received (a dummy device registered); tests look at the events after it
# (jq: .seq > $mark), whether they came from the backlog or live.
mark() {
	_k_dev=pam$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	ip link add "$_k_dev" type dummy || return 1
	if ! wait_for 30 seen "$1" ".type==\"netdev_registered\" and .netdev==\"$_k_dev\""; then
		ip link del "$_k_dev"
		note "marker event $_k_dev not seen by agent $1"
		return 1
	fi
	ip link del "$_k_dev"
	jq -r "select(.type==\"netdev_registered\" and .netdev==\"$_k_dev\") | .seq" \
		"$KTMP/$1.out" | tail -n1
}

# unique_seqs NAME: no (instance, sequence number) delivered twice, and
# sequence numbers increase within each instance.
unique_seqs() {
	jq -s -e 'group_by(.instance) | all(map(.seq) as $s | $s == ($s | unique))' \
		"$KTMP/$1.out" >/dev/null
}

# dmesg_mark; ...; dmesg_new: kernel log lines since the mark.
dmesg_mark() { dmesg | wc -l >"$KTMP/dmesg.mark"; }
dmesg_new() { dmesg | tail -n +$(($(cat "$KTMP/dmesg.mark") + 1)); }
kernel_trouble() { dmesg_new | grep -E 'WARNING:|BUG:|Oops|general protection|kernel BUG|Call Trace'; }

# Agents still running get SIGINT, then SIGKILL after 15 s: a stuck one
# must not hold the script to its time limit.
kmod_cleanup() {
	for p in $AGENT_PIDS; do kill -INT "$p" 2>/dev/null; done
	_k_wait=150
	for p in $AGENT_PIDS; do
		while kill -0 "$p" 2>/dev/null && [ $_k_wait -gt 0 ]; do
			sleep 0.1
			_k_wait=$((_k_wait - 1))
		done
		kill -0 "$p" 2>/dev/null && note "agent pid $p ignored SIGINT; killing it" &&
			kill -KILL "$p"
		wait "$p" 2>/dev/null
	done
	for d in /sys/class/net/pa*; do
		[ -e "$d" ] && ip link del "$(basename "$d")" 2>/dev/null
	done
	unload
	rm -rf "$KTMP"
}
on_exit kmod_cleanup
