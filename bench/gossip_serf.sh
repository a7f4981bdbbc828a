#!/bin/sh
# bench/gossip_serf.sh: HashiCorp Serf's side of the gossip benchmark
# (issue #5): how fast a `serf event` reaches every one of N agents, and how
# many bytes each agent sends per second at rest and while the event
# spreads. See docs/bench.md ("Gossip: the Serf baseline") for what each
# figure means.
#
#   sh bench/gossip_serf.sh [N [INTERVAL_MS]]      (defaults: 32 200)
#
# N agents (N >= 2) run on 127.0.0.1 inside a network namespace of their
# own (`unshare -n`, or `unshare -rn` when not root; the script
# re-executes itself there): their ports cannot collide with anything,
# and everything lo carries there is theirs or this script's. Serf sets no
# gossip interval of its own, only a timing profile; so INTERVAL_MS picks
# the profile whose memberlist GossipInterval it is: 100 (local), 200
# (lan, Serf's default) or 500 (wan); any other value fails.
#
# Bytes are counted by bench/gossipmeter.c (`sniff`), which logs every IP
# packet lo sends in the namespace: its length, headers included, and
# whether a port is one of the agents' gossip ports (UDP and TCP); RPC
# and command-line traffic is on other ports and left out.
#
# Steps: start agent s0 (the seed), then s1..s(N-1) with -retry-join to
# it; wait until every agent's `serf members -status=alive` lists N (an
# agent still short 3 s after the last start gets a `serf join` to s0, or
# s0 one to s1, counted as a repair; none of this is timed); wait
# BENCH_GOSSIP_SETTLE_S; measure BENCH_GOSSIP_PP_JOINS push-pull exchanges
# (`serf join` between two members) and wait again; count
# BENCH_GOSSIP_REST_S of rest; then BENCH_GOSSIP_REPEAT times fire a user
# event from s0 (`serf event -coalesce=false`), wait until every agent's
# event handler has stamped it, and count bytes from the firing to the
# last arrival plus BENCH_GOSSIP_TAIL_MS. The median of the runs counts,
# each figure on its own. The per-second byte figures add one push-pull
# exchange per node per push-pull interval to what was measured, since
# no periodic push-pull falls within a run this short.
#
# Output: a table, then `BENCH gossip serf_N<N>_<figure>=<value>` lines
# (appended to $BENCH_LINES instead when that names a file, as bench_emit
# does). Exit status 0 on success; non-zero, with the reason on stderr, if
# serf is missing, an agent dies, the cluster does not converge or an event
# does not reach every agent within BENCH_GOSSIP_TIMEOUT_S.
#
# Environment (all optional):
#   BENCH_DIR               this folder (found from $0 if unset)
#   BENCH_TMP / TMPDIR      where the scratch folder goes (deleted at exit)
#   SERF                    the serf binary (default: serf on PATH)
#   GOSSIPMETER             a built bench/gossipmeter.c; else it is built
#                           with cc into the scratch folder
#   BENCH_GOSSIP_REPEAT     events fired (default BENCH_REPEAT, else 3)
#   BENCH_GOSSIP_REST_S     the rest window in seconds (default 10)
#   BENCH_GOSSIP_SETTLE_S   wait after convergence, before it (default 2)
#   BENCH_GOSSIP_TAIL_MS    counted after the last arrival (default 1000)
#   BENCH_GOSSIP_PAYLOAD    event payload bytes, random base64 (default 128;
#                           name + payload may not exceed Serf's 512)
#   BENCH_GOSSIP_TIMEOUT_S  limit for convergence and for each event (30)
#   BENCH_GOSSIP_PP_JOINS   push-pull exchanges measured (default 3)
#   BENCH_GOSSIP_KEEP       a folder to copy the scratch files into at exit
#                           (agent logs, the packet log net, stamps arr.*)
set -e
BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "$0")" && pwd)}
export BENCH_DIR
. "$BENCH_DIR/lib.sh"

N=${1:-32}
INTERVAL_MS=${2:-200}
case $N in
'' | *[!0-9]*) bench_die "gossip_serf: N ('$N') is not a number" ;;
esac
[ "$N" -ge 2 ] || bench_die "gossip_serf: N must be at least 2"
# memberlist 0.2.2's profiles (config.go), which is all Serf's agent lets
# one choose: GossipInterval, ProbeInterval, PushPullInterval (seconds),
# RetransmitMult.
case $INTERVAL_MS in
100) PROFILE=local PROBE_MS=1000 PUSHPULL_S=15 RETRANSMIT=2 FANOUT=3 ;;
200) PROFILE=lan PROBE_MS=1000 PUSHPULL_S=30 RETRANSMIT=4 FANOUT=3 ;;
500) PROFILE=wan PROBE_MS=5000 PUSHPULL_S=60 RETRANSMIT=4 FANOUT=4 ;;
*) bench_die "gossip_serf: Serf's gossip interval is set only through its" \
	"profiles: INTERVAL_MS must be 100 (local), 200 (lan) or 500 (wan)," \
	"not '$INTERVAL_MS'" ;;
esac
REPEAT=${BENCH_GOSSIP_REPEAT:-${BENCH_REPEAT:-3}}
REST_S=${BENCH_GOSSIP_REST_S:-10}
SETTLE_S=${BENCH_GOSSIP_SETTLE_S:-2}
TAIL_MS=${BENCH_GOSSIP_TAIL_MS:-1000}
PAYLOAD=${BENCH_GOSSIP_PAYLOAD:-128}
TIMEOUT_S=${BENCH_GOSSIP_TIMEOUT_S:-30}
SERF=${SERF:-serf}
PP_JOINS=${BENCH_GOSSIP_PP_JOINS:-3}
GPORT=7946  # agent i gossips on GPORT+i (UDP and TCP)
RPORT=20000 # and answers RPC on RPORT+i
command -v "$SERF" >/dev/null 2>&1 ||
	bench_die "gossip_serf: no '$SERF' (apt-get install serf; mk/deps.sh does)"

# ---- A network namespace of our own -------------------------------------
# Re-executed inside a new one: the agents' ports cannot collide with
# anything, and lo's counters there are the agents' traffic alone. As
# root `unshare -n`; otherwise a user namespace as well (-r), where the
# kernel allows it.
if [ "${GOSSIP_SERF_NETNS:-}" != 1 ]; then
	GOSSIP_SERF_NETNS=1
	export GOSSIP_SERF_NETNS
	me=$BENCH_DIR/gossip_serf.sh
	if unshare -n true 2>/dev/null; then
		exec unshare -n sh "$me" "$N" "$INTERVAL_MS"
	elif unshare -rn true 2>/dev/null; then
		exec unshare -rn sh "$me" "$N" "$INTERVAL_MS"
	fi
	bench_die "gossip_serf: cannot make a network namespace (unshare -n" \
	    "needs root, or unprivileged user namespaces)"
fi

D=$(mktemp -d "${BENCH_TMP:-${TMPDIR:-/tmp}}/gossip_serf.XXXXXX")
PIDS=""
NAP_PID=""

# cleanup: SIGTERM to every process started here, SIGKILL to any still
# there after 3 s, then the scratch folder goes.
cleanup() {
	[ -z "$NAP_PID" ] || kill -TERM "$NAP_PID" 2>/dev/null || :
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null || :
	done
	c_i=0
	while [ "$c_i" -lt 30 ]; do
		c_left=""
		for p in $PIDS; do
			kill -0 "$p" 2>/dev/null && c_left="$c_left $p"
		done
		[ -n "$c_left" ] || break
		sleep 0.1
		c_i=$((c_i + 1))
	done
	for p in $PIDS; do
		kill -KILL "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	PIDS=""
	if [ -n "$BENCH_GOSSIP_KEEP" ]; then
		mkdir -p "$BENCH_GOSSIP_KEEP" && cp -r "$D"/. "$BENCH_GOSSIP_KEEP"/
	fi
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$BENCH_LINES" ]; then
	BENCH_LINES=$D/bench.lines
	OWN_LINES=1
	: >"$BENCH_LINES"
fi

if [ -n "$GOSSIPMETER" ] && [ -x "$GOSSIPMETER" ]; then
	GM=$GOSSIPMETER
else
	GM=$D/gossipmeter
	cc -std=gnu11 -O2 -o "$GM" "$BENCH_DIR/gossipmeter.c" ||
		bench_die "gossip_serf: building bench/gossipmeter.c"
fi
"$GM" lo-up || bench_die "gossip_serf: cannot bring lo up"

now() { "$GM" now; }

# nap SECONDS: sleeps, but lets a signal's trap run at once (a shell runs
# traps only when its foreground command ends; `wait` ends on a signal).
nap() {
	sleep "$1" &
	NAP_PID=$!
	wait "$NAP_PID" || :
	NAP_PID=""
}

# seconds_since T: seconds from monotonic time T (ns) to now, 1 decimal.
seconds_since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

# agent_log_die I WHAT: fails the run with agent I's log.
agent_log_die() {
	echo "bench: serf agent s$1 $2; its log ends:" >&2
	tail -n 15 "$D/log.$1" 2>/dev/null | sed 's/^/    /' >&2
	bench_die "gossip_serf"
}

# start_agent I [JOIN_ADDR]: serf agent sI in the background.
start_agent() {
	sa_join=""
	[ -z "$2" ] || sa_join="-retry-join=$2"
	# The handler runs as `/bin/sh -c "$GM stamp FILE"` for every user
	# event; it appends "NAME TIME" to FILE. $D has no blanks (mktemp).
	# shellcheck disable=SC2086 # sa_join is one word or none.
	"$SERF" agent -node="s$1" -bind="127.0.0.1:$((GPORT + $1))" \
	    -rpc-addr="127.0.0.1:$((RPORT + $1))" -profile="$PROFILE" \
	    -log-level=warn -retry-interval=1s \
	    -event-handler="user=$GM stamp $D/arr.$1" $sa_join \
	    >"$D/log.$1" 2>&1 &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
}

# alive_count I: how many members agent sI reports alive (0 if none).
alive_count() {
	"$SERF" members -rpc-addr="127.0.0.1:$((RPORT + $1))" -status=alive \
	    2>/dev/null | wc -l | tr -d ' '
}

# check_up I: fails the run if agent sI has exited.
check_up() {
	eval "cu_pid=\$PID_$1"
	# shellcheck disable=SC2154 # cu_pid is set by the eval.
	kill -0 "$cu_pid" 2>/dev/null || agent_log_die "$1" "exited"
}

# ---- Start and converge -------------------------------------------------

t_start=$(now)
deadline=$((t_start + TIMEOUT_S * 1000000000))
start_agent 0
until "$SERF" members -rpc-addr="127.0.0.1:$RPORT" >/dev/null 2>&1; do
	check_up 0
	[ "$(now)" -lt "$deadline" ] || agent_log_die 0 "did not answer RPC"
	sleep 0.1
done
i=1
while [ "$i" -lt "$N" ]; do
	start_agent "$i" "127.0.0.1:$GPORT"
	i=$((i + 1))
done
# Agents that started at once sometimes never hear of one another in
# their first 30 s: the alive messages of dozens of joins compete for the
# same gossip packets, and the next full state exchange (push-pull) is
# 30 to 60 s away. An agent still short of members 3 s after the last
# start is made to exchange state (`serf join`, a push-pull) with s0,
# which was checked complete first (s0 itself with s1), every 2 s until
# it is complete.
t_all=$(now)
repairs=0
last_repair=0
i=0
while [ "$i" -lt "$N" ]; do
	if [ "$(alive_count "$i")" = "$N" ]; then
		i=$((i + 1))
		last_repair=0
		continue
	fi
	check_up "$i"
	t=$(now)
	if [ "$t" -ge "$deadline" ]; then
		echo "bench: the members that agent s$i does not see alive:" >&2
		"$SERF" members -rpc-addr="127.0.0.1:$((RPORT + i))" 2>&1 |
		    grep -v ' alive' | sed 's/^/    /' >&2 || :
		agent_log_die "$i" "saw $(alive_count "$i") of $N members alive\
 after $TIMEOUT_S s"
	fi
	if [ "$t" -ge $((t_all + 3000000000)) ] &&
	    [ "$t" -ge $((last_repair + 2000000000)) ]; then
		peer=0
		[ "$i" != 0 ] || peer=1
		"$SERF" join -rpc-addr="127.0.0.1:$((RPORT + i))" \
		    "127.0.0.1:$((GPORT + peer))" >/dev/null 2>&1 || :
		repairs=$((repairs + 1))
		last_repair=$t
	fi
	sleep 0.2
done
converge_s=$(seconds_since "$t_start")

# The capture: every packet lo sends, with a port among the agents'
# gossip ports or not (RPC and the command line).
"$GM" sniff "$D/net" "$GPORT" "$((GPORT + N - 1))" 2>"$D/sniff.err" &
SNIFF_PID=$!
PIDS="$PIDS $SNIFF_PID"
until [ -s "$D/net" ]; do
	kill -0 "$SNIFF_PID" 2>/dev/null || {
		sed 's/^/    /' "$D/sniff.err" >&2
		bench_die "gossip_serf: the packet capture did not start"
	}
	sleep 0.05
done
nap "$SETTLE_S"

# window T0 T1: sets w_bytes, w_packets, w_udp_bytes, w_udp_packets,
# w_tcp_bytes, w_tcp_packets, w_other_bytes, w_other_packets, w_seconds
# to the capture's sums over [T0, T1) (bytes and packets: the agents'
# gossip ports, UDP and TCP; other: everything else on lo). Waits until
# the capture has passed T1.
window() {
	while ! "$GM" window "$D/net" "$1" "$2" >"$D/window" 2>/dev/null; do
		kill -0 "$SNIFF_PID" 2>/dev/null ||
			bench_die "gossip_serf: the packet capture stopped"
		sleep 0.05
	done
	eval "$(tr ' ' '\n' <"$D/window" | sed -n 's/^\([a-z_]*\)=\([0-9.]*\)$/w_\1=\2/p')"
}

# ---- Push-pull ----------------------------------------------------------
# No agent's periodic push-pull (a full state exchange over TCP) falls in
# a run this short: memberlist starts the first one a random stagger plus
# a whole interval after the agent starts. So its cost is measured here,
# before the rest window, with the exchange that `serf join` to an agent
# already in the cluster makes (the same messages, both ways: a periodic
# exchange of a cluster that has seen no event is within a few bytes of
# it), and spread over the push-pull interval.

# pushpull K FILE: K exchanges, each from agent sA to sB, appending to FILE
# the bytes of the TCP packets to or from sB's gossip port in the join's
# window (so that the rare periodic exchange elsewhere in the cluster at
# the same moment is left out).
pushpull() {
	pp_k=0
	while [ "$pp_k" -lt "$1" ]; do
		a=$((pp_k % N))
		b=$(((pp_k + N / 2) % N))
		[ "$a" != "$b" ] || b=$(((a + 1) % N))
		j0=$(now)
		"$SERF" join -rpc-addr="127.0.0.1:$((RPORT + a))" \
		    "127.0.0.1:$((GPORT + b))" >"$D/join.log" 2>&1 || {
			sed 's/^/    /' "$D/join.log" >&2
			bench_die "gossip_serf: serf join s$a to s$b failed"
		}
		sleep 0.3 # until the connection has closed
		j1=$(now)
		window "$j0" "$j1"
		awk -v t0="$j0" -v t1="$j1" -v port="$((GPORT + b))" '
			$1 !~ /^#/ && $1 >= t0 && $1 < t1 && $3 == "t" &&
			    ($5 == port || $6 == port) { s += $2 }
			END { print s + 0 }' "$D/net" >>"$2"
		pp_k=$((pp_k + 1))
	done
}
: >"$D/pushpull"
: >"$D/pushpull_after"
pushpull "$PP_JOINS" "$D/pushpull"
# Each join also gossips a join intent (UDP) to the whole cluster; let it
# die down before the rest window.
nap "$SETTLE_S"

# ---- At rest ------------------------------------------------------------

r0=$(now)
nap "$REST_S"
r1=$(now)
window "$r0" "$r1"
# shellcheck disable=SC2154 # w_* are set by window.
{
	rest_s=$w_seconds
	rest_udp=$w_udp_bytes
	rest_tcp=$w_tcp_bytes
	rest_packets=$w_packets
	rest_other=$w_other_bytes
}

# ---- Events -------------------------------------------------------------

for f in reach_all reach_50 reach_90 local dissem_udp dissem_tcp \
    dissem_other extra; do
	: >"$D/$f"
done
r=1
while [ "$r" -le "$REPEAT" ]; do
	name=weftbench$r
	payload=$(head -c "$PAYLOAD" /dev/urandom | base64 -w 0 |
	    head -c "$PAYLOAD")
	if ! "$GM" exec "$D/t0.$r" "$SERF" event -coalesce=false \
	    -rpc-addr="127.0.0.1:$RPORT" "$name" "$payload" \
	    >"$D/event.$r.log" 2>&1; then
		echo "bench: serf event failed:" >&2
		sed 's/^/    /' "$D/event.$r.log" >&2
		bench_die "gossip_serf"
	fi
	t0=$(cat "$D/t0.$r")
	ev_deadline=$((t0 + TIMEOUT_S * 1000000000))
	while :; do
		got=$(grep -l "^$name " "$D"/arr.* 2>/dev/null | wc -l |
		    tr -d ' ')
		[ "$got" -lt "$N" ] || break
		if [ "$(now)" -ge "$ev_deadline" ]; then
			miss=$(i=0; while [ "$i" -lt "$N" ]; do
				grep -q "^$name " "$D/arr.$i" 2>/dev/null ||
				    printf ' s%s' "$i"
				i=$((i + 1))
			done)
			bench_die "gossip_serf: event $r reached $got of $N" \
			    "agents in $TIMEOUT_S s; missing:$miss"
		fi
		sleep 0.05
	done
	# Each agent's first stamp of this event, in ms after t0, in agent
	# order (s0, the origin, first).
	i=0
	while [ "$i" -lt "$N" ]; do
		grep "^$name " "$D/arr.$i" | head -n 1 | cut -d' ' -f2
		i=$((i + 1))
	done | awk -v t0="$t0" '{ printf "%.3f\n", ($1 - t0) / 1e6 }' \
	    >"$D/delays.$r"
	head -n 1 "$D/delays.$r" >>"$D/local"
	sort -g "$D/delays.$r" | awk -v n="$N" -v d="$D" '
		{ v[NR] = $1 }
		function at(q,  k) { k = int(q * n); if (k < q * n) k++; return v[k] }
		END {
			print at(0.5) >>(d "/reach_50")
			print at(0.9) >>(d "/reach_90")
			print v[n] >>(d "/reach_all")
		}'
	t_last=$(awk -v t0="$t0" -v m="$(sort -g "$D/delays.$r" | tail -n 1)" \
	    'BEGIN { printf "%.0f", t0 + m * 1e6 }')
	t1=$((t_last + TAIL_MS * 1000000))
	while [ "$(now)" -lt "$t1" ]; do
		sleep 0.05
	done
	window "$t0" "$t1"
	# Rates per node; extra: the UDP bytes above the rest rate.
	echo "$w_udp_bytes $w_tcp_bytes $w_other_bytes $w_seconds" |
	    awk -v n="$N" -v d="$D" -v ru="$rest_udp" -v rs="$rest_s" '{
		print $1 / n / $4 >>(d "/dissem_udp")
		print $2 / n / $4 >>(d "/dissem_tcp")
		print $3 / n / $4 >>(d "/dissem_other")
		print ($1 - ru / rs * $4) / n >>(d "/extra")
	}'
	sleep 0.5 # the next event starts from rest
	r=$((r + 1))
done

# One more exchange now that the agents hold REPEAT user events: Serf's
# push-pull carries its buffer of recent events, so every later exchange
# is larger by about the size of each event.
pushpull 1 "$D/pushpull_after"

kill -TERM "$SNIFF_PID" 2>/dev/null || :
sniff_rc=0
wait "$SNIFF_PID" || sniff_rc=$?
if [ "$sniff_rc" -ne 0 ]; then
	sed 's/^/    /' "$D/sniff.err" >&2
	bench_die "gossip_serf: the packet capture failed (status $sniff_rc)"
fi

# ---- Report -------------------------------------------------------------

# median NAME: the middle run (the lower middle for an even count).
median() {
	sort -g "$D/$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
all() { paste -sd, "$D/$1"; }

# Push-pull runs every PUSHPULL_S, times ceil(log2(N/32)) + 1 above 32
# nodes (memberlist's pushPullScale); a broadcast is sent RETRANSMIT *
# ceil(log10(N+1)) times by each agent (retransmitLimit).
pp_mult=1
s=32
while [ "$s" -lt "$N" ]; do
	s=$((s * 2))
	pp_mult=$((pp_mult + 1))
done
pp_s=$((PUSHPULL_S * pp_mult))
digits=0
s=1
while [ "$s" -lt $((N + 1)) ]; do
	s=$((s * 10))
	digits=$((digits + 1))
done
version=$(dpkg-query -W -f='${Version}' serf 2>/dev/null || echo "?")

pp_bytes=$(median pushpull)
pp_rate=$(bench_calc "$pp_bytes / $pp_s")
rest_udp_rate=$(bench_calc "$rest_udp / $N / $rest_s")
rest_measured=$(bench_calc "($rest_udp + $rest_tcp) / $N / $rest_s")
rest_rate=$(bench_calc "$rest_udp_rate + $pp_rate")
dissem_measured=$(paste -d' ' "$D/dissem_udp" "$D/dissem_tcp" |
    awk '{ print $1 + $2 }' | sort -g |
    awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
awk -v p="$pp_rate" '{ print $1 + p }' "$D/dissem_udp" >"$D/dissem"

echo "serf $version, profile $PROFILE: $N agents on 127.0.0.1; gossip" \
    "every $INTERVAL_MS ms to $FANOUT agents, probe every $PROBE_MS ms," \
    "push-pull every $pp_s s; each broadcast sent $((RETRANSMIT * digits))" \
    "times per agent"
echo "converged in $converge_s s ($repairs repair joins); $REPEAT events" \
    "of $PAYLOAD payload bytes from s0, median run; bytes: IP packets" \
    "between the agents' gossip ports, headers included"
{
	echo "event reaches 50% of agents|$(median reach_50)|ms"
	echo "event reaches 90% of agents|$(median reach_90)|ms"
	echo "event reaches all agents|$(median reach_all)|ms"
	echo "  s0's own handler (CLI, RPC, handler start)|$(median \
	    local)|ms"
	echo "bytes sent per node per second, at rest|$rest_rate|B/s"
	echo "  probes and gossip (UDP), over $REST_S s|$rest_udp_rate|B/s"
	echo "  push-pull (TCP), $pp_bytes B per node per $pp_s s|$pp_rate|B/s"
	echo "bytes sent per node per second, dissemination|$(median \
	    dissem)|B/s"
	echo "  UDP, from t0 to last arrival + $TAIL_MS ms|$(median \
	    dissem_udp)|B/s"
	echo "bytes per node per event, above rest|$(median extra)|B"
} | awk -F'|' -v n="$N" '
BEGIN { printf "%-52s %12s\n", "figure (serf, " n " agents)", "value" }
{ printf "%-52s %12.1f %s\n", $1, $2, $3 }'

p="serf_N$N"
bench_emit gossip "${p}_interval_ms" "$INTERVAL_MS"
bench_emit gossip "${p}_probe_ms" "$PROBE_MS"
bench_emit gossip "${p}_pushpull_s" "$pp_s"
bench_emit gossip "${p}_runs" "$REPEAT"
bench_emit gossip "${p}_converge_s" "$converge_s"
bench_emit gossip "${p}_repair_joins" "$repairs"
for f in reach_all reach_50 reach_90 local; do
	bench_emit gossip "${p}_${f}_ms" "$(median "$f")"
	bench_emit gossip "${p}_${f}_ms_all" "$(all "$f")"
done
bench_emit gossip "${p}_rest_bytes_per_node_s" "$rest_rate"
bench_emit gossip "${p}_rest_udp_bytes_per_node_s" "$rest_udp_rate"
bench_emit gossip "${p}_rest_measured_bytes_per_node_s" "$rest_measured"
bench_emit gossip "${p}_rest_packets_per_node_s" \
    "$(bench_calc "$rest_packets / $N / $rest_s")"
bench_emit gossip "${p}_rest_other_bytes" "$rest_other"
bench_emit gossip "${p}_pushpull_bytes" "$pp_bytes"
bench_emit gossip "${p}_pushpull_bytes_all" "$(all pushpull)"
bench_emit gossip "${p}_pushpull_after_events_bytes" "$(median pushpull_after)"
bench_emit gossip "${p}_dissem_bytes_per_node_s" "$(median dissem)"
bench_emit gossip "${p}_dissem_bytes_per_node_s_all" "$(all dissem)"
bench_emit gossip "${p}_dissem_udp_bytes_per_node_s" "$(median dissem_udp)"
bench_emit gossip "${p}_dissem_measured_bytes_per_node_s" "$dissem_measured"
bench_emit gossip "${p}_event_bytes_per_node" "$(median extra)"
bench_emit gossip "${p}_event_bytes_per_node_all" "$(all extra)"
[ -z "$OWN_LINES" ] || cat "$BENCH_LINES"
