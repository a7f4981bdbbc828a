#!/bin/sh
# bench/session.sh: how fast weft sets up sessions and moves bulk bytes
# through one, next to what plain TCP and the raw cipher can do on the same
# machine. Run by bench/run.sh, which provides the environment described in
# bench/lib.sh; the measurements are bench/netbench.c (weft-netbench, built
# next to $WEFT).
#
# Two nodes of one org and mesh are set up and `weft agent` is started on
# node a, listening on 127.0.0.1 (untimed). Then BENCH_REPEAT rounds
# (default 3), each measuring once, in this order (the best run counts):
#   - libsodium's XChaCha20-Poly1305 encryption of frames, one core;
#   - plain TCP over 127.0.0.1 to a forked reader;
#   - the same with each frame sealed and opened: the bare sealed stream,
#     what any one-sender, one-receiver design could reach here;
#   - full handshakes between the two nodes in one process;
#   - handshakes from node b to the agent, one connection each;
#   - bulk throughput through one session from node b to the agent.
# The agent is stopped with SIGTERM at the end (or on any exit) and must
# exit with status 0. See docs/bench.md ("Sessions") for what each figure
# means. Missing the goal (session >= 70% of raw AEAD) is reported, not a
# failure; a failing step or agent fails the run.
set -e
. "$BENCH_DIR/lib.sh"

T=$BENCH_TMP/session
REPEAT=${BENCH_REPEAT:-3}
FRAME=${BENCH_FRAME:-262144}
# ...and the largest Bulk a frame holds (the 1 MiB cap less the framing),
# what a bulk transfer would use: the goal is checked at both sizes.
FRAME2=${BENCH_FRAME2:-1048000}
MIB=${BENCH_SESSION_MIB:-1024}
HS_N=${BENCH_HANDSHAKES:-1000}
GOAL=0.70
mkdir -p "$T"
failed=""
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

if ! bench_has weft; then
	echo "session: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
NB=$(dirname "$WEFT")/weft-netbench
[ -x "$NB" ] || bench_die "session: no $NB (make build/weft-netbench)"

# ---- The agent ----------------------------------------------------------

AGENT_PID=""

# stop_agent: SIGTERM to the agent, if started, and wait for it. Returns
# non-zero, with the end of its log, unless it exited with status 0 on
# that signal.
stop_agent() {
	[ -n "$AGENT_PID" ] || return 0
	a_pid=$AGENT_PID
	AGENT_PID=""
	a_when="on SIGTERM"
	kill -TERM "$a_pid" 2>/dev/null || a_when="before the end of the run"
	a_rc=0
	wait "$a_pid" || a_rc=$?
	if [ "$a_rc" -ne 0 ] || [ "$a_when" != "on SIGTERM" ]; then
		echo "bench: weft agent exited with status $a_rc $a_when;" \
		    "its log ends:" >&2
		tail -n 20 "$T/agent.log" | sed 's/^/    /' >&2
		return 1
	fi
}
trap 'stop_agent || true' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_agent: `weft agent` on node a, listening on a free loopback port;
# sets ADDR to the HOST:PORT it reports through `weft status`.
start_agent() {
	"$WEFT" agent --data-dir "$T/a" --listen 127.0.0.1:0 \
	    >"$T/agent.log" 2>&1 &
	AGENT_PID=$!
	if ! "$WEFT" status --data-dir "$T/a" --json --wait 10 \
	    >"$T/status.json" 2>"$T/status.err"; then
		echo "bench: weft status did not find the agent:" >&2
		sed 's/^/    /' "$T/status.err" >&2
		echo "  agent log:" >&2
		tail -n 20 "$T/agent.log" | sed 's/^/    /' >&2
		return 1
	fi
	ADDR=$(sed -n 's/.*"listen":\["\([^"]*\)".*/\1/p' "$T/status.json")
	if [ -z "$ADDR" ]; then
		echo "bench: no listen address in weft status:" \
		    "$(head -c 300 "$T/status.json")" >&2
		return 1
	fi
}

# ---- Measurements -------------------------------------------------------

# once NAME KEY ARG...: runs `weft-netbench ARG...` once and appends the
# value of KEY in its result to $T/NAME.all; on failure says why, marks
# NAME failed (no figure) and returns non-zero.
once() {
	o_name=$1 o_key=$2
	shift 2
	[ ! -f "$T/$o_name.failed" ] || return 1
	if ! "$NB" "$@" >"$T/$o_name.out" 2>&1; then
		echo "bench: 'weft-netbench $*' failed:" >&2
		tail -n 20 "$T/$o_name.out" | sed 's/^/    /' >&2
		: >"$T/$o_name.failed"
		failed="$failed $o_name"
		rm -f "$T/$o_name.all"
		return 1
	fi
	bench_get "$T/$o_name.out" "$o_key" >>"$T/$o_name.all"
}

# value NAME: the best figure of NAME, or "-" if it was not measured.
value() {
	if [ -s "$T/$1.all" ]; then
		sort -g "$T/$1.all" | tail -n 1
	else
		echo -
	fi
}

if ! "$WEFT" org create acme --out "$T/acme.key" >"$T/setup.log" 2>&1 ||
    ! "$WEFT" init --data-dir "$T/a" --org "$T/acme.key" --name a \
    --mesh bench >>"$T/setup.log" 2>&1 ||
    ! "$WEFT" init --data-dir "$T/b" --org "$T/acme.key" --name b \
    --mesh bench >>"$T/setup.log" 2>&1; then
	echo "bench: node set-up failed:" >&2
	tail -n 20 "$T/setup.log" | sed 's/^/    /' >&2
	bench_die "session: set-up"
fi

echo "best of $REPEAT runs each; frames of $FRAME bytes, $MIB MiB per" \
    "throughput run, $HS_N handshakes per handshake run"
bench_emit session runs "$REPEAT"
bench_emit session frame_bytes "$FRAME"
bench_emit session mib "$MIB"
bench_emit session handshakes "$HS_N"

# The runs of each figure are interleaved with the others', so that a
# slow spell of the machine does not fall on one figure's runs alone.
agent_up=0
if start_agent; then
	agent_up=1
else
	failed="$failed agent"
fi
r=1
while [ "$r" -le "$REPEAT" ]; do
	once aead_mib_per_s mib_per_s aead --frame "$FRAME" --mb "$MIB" || :
	once tcp_mib_per_s mib_per_s tcp --frame "$FRAME" --mb "$MIB" || :
	once sealed_mib_per_s mib_per_s sealed --frame "$FRAME" --mb "$MIB" ||
	    :
	once handshake_local_per_s per_s handshake --data-dir "$T/a" \
	    --peer-dir "$T/b" --n "$HS_N" || :
	if [ "$agent_up" = 1 ]; then
		once handshake_agent_per_s per_s handshake --data-dir "$T/b" \
		    --connect "$ADDR" --n "$HS_N" || :
		once session_mib_per_s mib_per_s session --data-dir "$T/b" \
		    --connect "$ADDR" --frame "$FRAME" --mb "$MIB" || :
		once session2_mib_per_s mib_per_s session --data-dir "$T/b" \
		    --connect "$ADDR" --frame "$FRAME2" --mb "$MIB" || :
	fi
	once aead2_mib_per_s mib_per_s aead --frame "$FRAME2" --mb "$MIB" || :
	r=$((r + 1))
done
stop_agent || failed="$failed agent-exit"
for f in aead_mib_per_s tcp_mib_per_s sealed_mib_per_s \
    handshake_local_per_s handshake_agent_per_s session_mib_per_s \
    aead2_mib_per_s session2_mib_per_s; do
	[ -s "$T/$f.all" ] || continue
	bench_emit session "$f" "$(value "$f")"
	bench_emit session "${f}_all" "$(paste -sd, "$T/$f.all")"
done

# ---- Report -------------------------------------------------------------

aead=$(value aead_mib_per_s)
tcp=$(value tcp_mib_per_s)
sealed=$(value sealed_mib_per_s)
sess=$(value session_mib_per_s)
aead2=$(value aead2_mib_per_s)
sess2=$(value session2_mib_per_s)
vs_aead=- vs_tcp=- vs_sealed=- vs_aead2=-
if [ "$sess2" != - ] && [ "$aead2" != - ]; then
	vs_aead2=$(bench_calc "sprintf(\"%.2f\", $sess2 / $aead2)")
	bench_emit session session2_vs_aead2 "$vs_aead2"
fi
if [ "$sess" != - ] && [ "$aead" != - ]; then
	vs_aead=$(bench_calc "sprintf(\"%.2f\", $sess / $aead)")
	bench_emit session session_vs_aead "$vs_aead"
fi
if [ "$sess" != - ] && [ "$tcp" != - ]; then
	vs_tcp=$(bench_calc "sprintf(\"%.2f\", $sess / $tcp)")
	bench_emit session session_vs_tcp "$vs_tcp"
fi
if [ "$sess" != - ] && [ "$sealed" != - ]; then
	vs_sealed=$(bench_calc "sprintf(\"%.2f\", $sess / $sealed)")
	bench_emit session session_vs_sealed "$vs_sealed"
fi

echo
{
	echo "handshakes/s, in one process (both sides, one core)|$(value \
	    handshake_local_per_s)|/s"
	echo "handshakes/s, to weft agent over loopback|$(value \
	    handshake_agent_per_s)|/s"
	echo "one weft session, Bulk of $FRAME bytes|$sess|MiB/s"
	echo "plain TCP over loopback|$tcp|MiB/s"
	echo "bare sealed stream over loopback (no session core)|$sealed|MiB/s"
	echo "raw XChaCha20-Poly1305, one core|$aead|MiB/s"
	echo "one weft session, Bulk of $FRAME2 bytes|$sess2|MiB/s"
	echo "raw XChaCha20-Poly1305, $FRAME2-byte frames, one core|$aead2|MiB/s"
} | awk -F'|' '
BEGIN { printf "%-52s %12s\n", "figure", "value" }
{
	if ($2 == "-")
		printf "%-52s %12s\n", $1, "-"
	else
		printf "%-52s %12.1f %s\n", $1, $2, $3
}'
if [ "$vs_aead" = - ]; then
	ok=""
else
	ok=$(bench_calc "($sess / $aead >= $GOAL) ? \"met\" : \"NOT met\"")
fi
printf '%-52s %12s   goal >= %s: %s\n' "session / raw AEAD" "$vs_aead" \
    "$GOAL" "${ok:--}"
if [ "$vs_aead2" = - ]; then
	ok2=""
else
	ok2=$(bench_calc "($sess2 / $aead2 >= $GOAL) ? \"met\" : \"NOT met\"")
fi
printf '%-52s %12s   goal >= %s: %s\n' "session / raw AEAD, $FRAME2-byte frames" \
    "$vs_aead2" "$GOAL" "${ok2:--}"
printf '%-52s %12s\n' "session / bare sealed stream" "$vs_sealed"
printf '%-52s %12s\n' "session / plain TCP" "$vs_tcp"
echo "(MiB/s = 2^20 bytes of payload a second; goal: session >= 70% of raw" \
    "AEAD)"

echo
cat "$BENCH_LINES"
[ -z "$failed" ] || bench_die "session:$failed"
