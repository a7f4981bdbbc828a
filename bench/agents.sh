# bench/agents.sh: the real `weft agent` processes a bench part starts,
# sourced by bench/policy.sh, linreg.sh and profile.sh after they set T
# (their scratch folder): start_agent, stop_all (set as the EXIT trap),
# wait_for, has_peer, has_product.

# "NAME:PID ..." of the agents started, kept in a variable: the scratch
# folder may be going when they are stopped.
AGENTS=""

# stop_all: SIGTERM to every agent, then waits for each. Returns non-zero,
# with the end of its log, when an agent had gone before or did not exit
# with status 0 on the signal.
stop_all() {
	s_rc=0
	s_list=$AGENTS
	AGENTS=""
	s_gone=""
	for s_a in $s_list; do
		kill -TERM "${s_a#*:}" 2>/dev/null || s_gone="$s_gone ${s_a%%:*}"
	done
	for s_a in $s_list; do
		s_st=0
		wait "${s_a#*:}" || s_st=$?
		case " $s_gone " in
		*" ${s_a%%:*} "*) s_when="before the end of the run" ;;
		*) s_when="on SIGTERM" ;;
		esac
		if [ "$s_st" -ne 0 ] || [ "$s_when" != "on SIGTERM" ]; then
			echo "bench: weft agent ${s_a%%:*} exited with status" \
			    "$s_st $s_when; its log ends:" >&2
			tail -n 20 "$T/${s_a%%:*}.log" 2>/dev/null |
			    sed 's/^/    /' >&2
			s_rc=1
		fi
	done
	return $s_rc
}
trap 'stop_all || :' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_agent NAME ARG...: `weft agent` on node NAME, listening on a free
# loopback port, its log in $T/NAME.log; waits until `weft status` answers
# and writes the address it listens on to $T/NAME.addr.
start_agent() {
	a_n=$1
	shift
	"$WEFT" agent --data-dir "$T/$a_n" --listen 127.0.0.1:0 \
	    --gossip-interval 200ms "$@" >"$T/$a_n.log" 2>&1 &
	AGENTS="$AGENTS $a_n:$!"
	if ! "$WEFT" status --data-dir "$T/$a_n" --json --wait 20 \
	    >"$T/$a_n.status" 2>&1; then
		echo "bench: weft status did not find agent $a_n:" >&2
		tail -n 5 "$T/$a_n.status" | sed 's/^/    /' >&2
		tail -n 20 "$T/$a_n.log" | sed 's/^/    /' >&2
		return 1
	fi
	sed -n 's/.*"listen":\["\([^"]*\)".*/\1/p' "$T/$a_n.status" \
	    >"$T/$a_n.addr"
	[ -s "$T/$a_n.addr" ] || {
		echo "bench: no listen address for agent $a_n" >&2
		return 1
	}
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# non-zero if it never did within SECONDS.
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$w_end" ] || return 1
		sleep 0.2
	done
}

# has_peer NODE PEER: NODE's agent has a session with PEER.
has_peer() {
	"$WEFT" peers --data-dir "$T/$1" --json | grep -q "\"node\":\"$2\""
}

# has_product NODE ORG.DOMAIN.PRODUCT: NODE's catalog lists it.
has_product() {
	"$WEFT" catalog --data-dir "$T/$1" --json | grep -q "\"name\":\"$2\""
}
