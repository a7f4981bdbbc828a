#!/bin/sh
# bench/overlay.sh: N weft agents join through ONE seed, with the caps as
# shipped (issue 14, finding 12; docs/gossip.md, "Overlay"): the time from
# the seed's start until every agent lists all N members alive, beside the
# same for N Serf agents joining one seed (bench/gossip_serf.sh's
# converge_s, its event figures ignored here); the seed's RSS and
# neighbours then, and the most neighbours any agent holds (the bound:
# --max-neighbours, 8). Run by bench/run.sh (see bench/lib.sh).
#
# Both sides run on 127.0.0.1 in a network namespace, one agent after the
# other as fast as the shell starts them, the same gossip interval
# (200 ms: Serf's LAN profile). weft's only non-default option is that
# interval (and --backoff-max 1s, the redial cap, as in bench/gossip.sh).
set -e
. "$BENCH_DIR/lib.sh"

if ! bench_has weft; then
	echo "overlay: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
# 256 by default: on the 2-vCPU VM this was written on, 500 agents of
# either kind overload the host (docs/bench.md, "Overlay")
SIZES=${BENCH_OVERLAY_SIZES:-"256"}
SERF_TIMEOUT_S=${BENCH_OVERLAY_SERF_TIMEOUT_S:-300}
IV=200
T=$BENCH_TMP/overlay
mkdir -p "$T"
NS=wob$$
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"
export BENCH_LINES

bench_agents_trap
bench_on_exit() { ip netns del $NS 2>/dev/null || :; }
BENCH_NETNS=$NS
# st I KEY: a number from agent I's `weft status --json`
st() { bench_stat "$d/n$1" "$2"; }

weft_run() {
	n=$1
	d=$T/w$n
	rm -rf "$d"
	mkdir -p "$d"
	ip netns add $NS
	ip -n $NS link set lo up
	bench_mesh_init "$d" bench "$n" bench
	t0=$(bench_now_ms)
	bench_mesh_start "$d" "$n" --gossip-interval ${IV}ms --backoff-max 1s
	seedpid=$BENCH_SEED_PID
	started=$(($(bench_now_ms) - t0))
	# complete: every agent lists n - 1 others alive
	bench_mesh_wait "$d" "$n" 300 || bench_die "overlay: $BENCH_SHORT"
	conv=$(($(bench_now_ms) - t0))
	rss=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' /proc/$seedpid/status)
	snb=$(st 0 neighbours)
	letgo=$(st 0 overlay_let_go)
	maxnb=0
	i=0
	while [ $i -lt "$n" ]; do
		x=$(st $i neighbours)
		[ -n "$x" ] && [ "$x" -gt "$maxnb" ] && maxnb=$x
		i=$((i + 1))
	done
	echo "weft: $n agents started in $started ms, complete after $conv ms;" \
	    "seed RSS $((rss / 1024)) MiB, $snb neighbours, $letgo let go;" \
	    "at most $maxnb neighbours at one agent"
	bench_emit overlay "weft_N${n}_converge_ms" "$conv"
	bench_emit overlay "weft_N${n}_seed_rss_kib" "$rss"
	bench_emit overlay "weft_N${n}_seed_neighbours" "$snb"
	bench_emit overlay "weft_N${n}_seed_let_go" "$letgo"
	bench_emit overlay "weft_N${n}_max_neighbours" "$maxnb"
	bench_agents_stop || bench_die "overlay: a weft agent exited with $?"
	ip netns del $NS
	rm -rf "$d"
}

get() { sed -n "s/^BENCH overlay $1=//p" "$BENCH_LINES" | tail -n 1; }

for n in $SIZES; do
	weft_run "$n"
	# Serf's side: its converge_s (start of the seed to all complete,
	# repair joins included; bench/gossip_serf.sh), one event
	: >"$T/serf.lines"
	if BENCH_LINES=$T/serf.lines BENCH_GOSSIP_REPEAT=1 \
	    BENCH_GOSSIP_REST_S=1 BENCH_GOSSIP_PP_JOINS=1 \
	    BENCH_GOSSIP_TIMEOUT_S=$SERF_TIMEOUT_S \
	    sh "$BENCH_DIR/gossip_serf.sh" "$n" "$IV" >"$T/serf$n.out" 2>&1; then
		s=$(sed -n "s/^BENCH gossip serf_N${n}_converge_s=//p" \
		    "$T/serf.lines" | tail -n 1)
		bench_emit overlay "serf_N${n}_converge_ms" \
		    "$(bench_calc "sprintf(\"%.0f\", $s * 1000)")"
	elif grep -q "members alive after" "$T/serf$n.out"; then
		# Serf did not converge: its figure is at least the timeout
		grep "members alive after" "$T/serf$n.out" | head -n 1
		bench_emit overlay "serf_N${n}_converge_ms" \
		    ">$((SERF_TIMEOUT_S * 1000))"
	else
		tail -n 30 "$T/serf$n.out" >&2
		bench_die "overlay: serf run failed"
	fi
done

echo
printf '%-36s %10s %10s %8s\n' "figure" "weft" "serf" "ratio"
for n in $SIZES; do
	w=$(get "weft_N${n}_converge_ms")
	s=$(get "serf_N${n}_converge_ms")
	case $s in
	'>'*) r="<$(bench_calc "sprintf(\"%.2f\", $w / ${s#>})")" ;;
	*) r=$(bench_calc "sprintf(\"%.2f\", $w / $s)") ;;
	esac
	printf '%-36s %10s %10s %8s\n' "N=$n membership complete, ms" "$w" "$s" \
	    "$r"
	printf '%-36s %10s\n' "N=$n seed RSS, MiB" \
	    "$(($(get "weft_N${n}_seed_rss_kib") / 1024))"
	printf '%-36s %10s\n' "N=$n seed neighbours" "$(get "weft_N${n}_seed_neighbours")"
	printf '%-36s %10s\n' "N=$n most neighbours at one agent" \
	    "$(get "weft_N${n}_max_neighbours")"
done
echo "(ratio = weft / serf; goal: <= 1, seed RSS <= 64 MiB, neighbours <= 8)"
echo
cat "$BENCH_LINES"
