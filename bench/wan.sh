#!/bin/sh
# bench/wan.sh: issue 14's fourth acceptance. N release agents (default
# 256) on H "hosts" (default 8 network namespaces on one bridge, agent I
# on host I mod H, each host one address) with --link-delay (100 ms, a
# WAN's one-way latency, held by every agent for every gossip message)
# join through ONE seed, caps as shipped; then:
#  1. join: from the seed's start until every agent lists N - 1 members
#     alive; nobody holds more than --max-neighbours (8) neighbours;
#  2. publish: a product published on the agent with the fewest
#     sessions reaches every agent (first an unmeasured one: the flood
#     that prunes the broadcast tree, as in tests/cli/t_sim_reality.sh);
#     the time from its "catalog: offered" line to the last "catalog:
#     learnt" one;
#  3. the simulator on the same parameters: `weft sim --topology seed
#     --scenario join` with the agents' start window, and `--topology
#     file:` (the real overlay's sessions) with both publishes at the
#     times they were made since the seed started (`--warmup`,
#     `--prime`; median of seeds 1-3): T_sim / T_real for both (goal:
#     within 30%);
#  4. a quarter killed (kill -9, chosen at random, never the seed): the
#     time until every survivor lists exactly the survivors alive, and a
#     publish reaching all of them;
#  5. the seed killed: the same (no partition).
# Run by bench/run.sh (see bench/lib.sh); docs/bench.md, "WAN".
#   BENCH_WAN_AGENTS (256), BENCH_WAN_HOSTS (8), BENCH_WAN_DELAY_MS (100)
set -e
. "$BENCH_DIR/lib.sh"

if ! bench_has weft; then
	echo "wan: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
N=${BENCH_WAN_AGENTS:-256}
H=${BENCH_WAN_HOSTS:-8}
DELAY=${BENCH_WAN_DELAY_MS:-100}
IV=200
MAXN=8
T=$BENCH_TMP/wan
d=$T/m
rm -rf "$T"
mkdir -p "$d"
NS=wan$$
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"
export BENCH_LINES

bench_agents_trap
bench_on_exit() {
	h=0
	while [ $h -lt "$H" ]; do
		ip netns del "${NS}h$h" 2>/dev/null || :
		h=$((h + 1))
	done
	ip netns del "${NS}sw" 2>/dev/null || :
}
# the hosts: H namespaces, each a veth into a bridge in a switch namespace
ip netns add "${NS}sw"
ip -n "${NS}sw" link add br0 type bridge
ip -n "${NS}sw" link set br0 up
BENCH_HOSTS=""
h=0
while [ $h -lt "$H" ]; do
	ip netns add "${NS}h$h"
	ip -n "${NS}h$h" link set lo up
	ip -n "${NS}h$h" link add eth0 type veth peer name "p$h" netns "${NS}sw"
	ip -n "${NS}h$h" addr add "10.77.0.$((h + 1))/24" dev eth0
	ip -n "${NS}h$h" link set eth0 up
	ip -n "${NS}sw" link set "p$h" master br0 up
	BENCH_HOSTS="$BENCH_HOSTS ${NS}h$h,10.77.0.$((h + 1))"
	h=$((h + 1))
done

# st I KEY: a number from agent I's `weft status --json`
st() { bench_stat "$d/n$1" "$2"; }
# bounded LIST: prints the most neighbours one agent of LIST holds; fails
# over MAXN
bounded() {
	most=0
	for i in $1; do
		x=$(st "$i" neighbours)
		[ -n "$x" ] || bench_die "wan: n$i does not answer"
		[ "$x" -le $MAXN ] || bench_die "wan: n$i holds $x neighbours, over $MAXN"
		[ "$x" -gt "$most" ] && most=$x
	done
	echo "$most"
}
# publish P NAME LIST: publishes NAME on agent P, waits until every agent
# of LIST but P learnt it; prints the milliseconds from P's "offered" line
# to the last "learnt" line
printf 'id,v\n1,2\n' >"$T/p.csv"
publish() {
	"$WEFT" publish --data-dir "$d/n$1" "shop.$2" "$T/p.csv" >/dev/null ||
	    bench_die "wan: publish on n$1 failed"
	end=$(($(bench_now_ms) + 120000))
	for i in $3; do
		[ "$i" -eq "$1" ] && continue
		until grep -q "catalog: learnt bench.shop.$2 version" "$d/n$i.log"; do
			[ "$(bench_now_ms)" -lt "$end" ] ||
			    bench_die "wan: shop.$2 did not reach n$i in 120 s"
			sleep 0.1
		done
	done
	t0=$(bench_log_ms "$(grep -m1 "catalog: offered bench.shop.$2 version" "$d/n$1.log" | cut -d' ' -f1)")
	for i in $3; do
		[ "$i" -eq "$1" ] && continue
		bench_log_ms "$(grep -m1 "catalog: learnt bench.shop.$2 version" "$d/n$i.log" | cut -d' ' -f1)"
	done | sort -n | tail -n 1 | awk -v t0="$t0" '{ print $1 - t0 }'
}
# edges LIST: the overlay's sessions among LIST, "DIALLER DIALLED"
edges() {
	for i in $1; do
		"$WEFT" peers --data-dir "$d/n$i" --json 2>/dev/null | tr '{' '\n' |
		    sed -n "s/.*\"node\":\"n\([0-9]*\)\".*\"direction\":\"out\".*/$i \1/p"
	done | sort -n -k1 -k2
}
# simt ARGS: weft sim's virtual time to 100% coverage, in ms
simt() {
	"$WEFT" sim --seed "${SIMSEED:-1}" --nodes "$N" --latency "${DELAY}ms" \
	    --gossip-interval "${IV}ms" --membership full "$@" >"$T/sim.out" 2>&1 ||
	    { cat "$T/sim.out" >&2; bench_die "wan: weft sim $* failed"; }
	sed -n 's/^ *100% *\([0-9.]*\) s.*/\1/p' "$T/sim.out" |
	    awk '{ printf "%.0f\n", $1 * 1000 }'
}

ALL=$(seq 0 $((N - 1)))
bench_mesh_init "$d" bench "$N" bench
t0=$(bench_now_ms)
start_ms=$t0 # (publish sets t0)
bench_mesh_start "$d" "$N" --gossip-interval ${IV}ms --backoff-max 1s \
    --link-delay "${DELAY}ms"
started=$(($(bench_now_ms) - t0))
bench_mesh_wait_list "$d" "$ALL" 600 ||
    bench_die "wan: the join did not complete: $BENCH_SHORT"
join=$(($(bench_now_ms) - t0))
most=$(bounded "$ALL")
letgo=$(st 0 overlay_let_go)
echo "wan: $N agents on $H hosts, link delay $DELAY ms: started in $started ms," \
    "membership complete after $join ms; at most $most neighbours at one" \
    "agent, the seed $(st 0 neighbours) ($letgo let go)"
bench_emit wan join_ms "$join"
bench_emit wan start_window_ms "$started"
bench_emit wan max_neighbours "$most"

# 2. a publish on the agent with the fewest sessions (not the seed)
sleep 2
edges "$ALL" >"$T/edges"
P=$(awk '{ d[$1]++; d[$2]++ } END { b = -1; for (i = 1; i < '"$N"'; i++) if (b < 0 || d[i] < d[b]) b = i; print b }' "$T/edges")
publish "$P" a "$ALL" >/dev/null
sleep 1
pub=$(publish "$P" b "$ALL")
echo "wan: a publish on n$P reached all $N after $pub ms"
bench_emit wan publish_ms "$pub"
# what a loop turn waits for a core here (the simulator models no CPU):
# 3 s of status requests to four agents in turn (bench/ctlping.c)
PING=$(dirname "$WEFT")/weft-ctlping
if [ -x "$PING" ]; then
	"$PING" 3 20 "$d/n1" "$d/n$P" "$d/n$((N / 2))" "$d/n$((N - 1))" \
	    >"$T/ping" 2>/dev/null || :
	wait_ms=$(awk '$3 ~ /^[0-9]+$/ { print $3 / 1000 }' "$T/ping" | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR) printf "%.1f\n", v[int((NR + 1) / 2)] }')
	echo "wan: an agent answers status in ${wait_ms:-?} ms (median) here," \
	    "at rest: the wait for a loop turn on this host, at every hop"
	[ -z "$wait_ms" ] || bench_emit wan status_median_ms "$wait_ms"
fi

# 3. the simulator on the same parameters
sjoin=$(simt --topology seed --scenario join --join-window "${started}ms")
# the publishes at the agents' age: the overlay mixes (a link replaced
# every 30 s per node), so a mesh that ran 40 s has a broadcast tree
# under repair where one that ran 3 s has not; median of three seeds
ta=$(bench_log_ms "$(grep -m1 "catalog: offered bench.shop.a version" "$d/n$P.log" | cut -d' ' -f1)")
tb=$(bench_log_ms "$(grep -m1 "catalog: offered bench.shop.b version" "$d/n$P.log" | cut -d' ' -f1)")
spub=$(for SIMSEED in 1 2 3; do
	simt --topology "file:$T/edges" --publisher "$P" \
	    --warmup "$((ta - start_ms))ms" --prime "$((tb - ta))ms"
done | sort -n | sed -n 2p)
echo "wan: simulated: join $sjoin ms, publish $spub ms"
bench_emit wan sim_join_ms "$sjoin"
bench_emit wan sim_publish_ms "$spub"

# 4. a quarter killed, never the seed
DEAD=$(seq 1 $((N - 1)) | awk 'BEGIN { srand(1) } { print rand(), $1 }' |
    sort -n | head -n $((N / 4)) | cut -d' ' -f2 | sort -n)
for i in $DEAD; do kill -9 "$(cat "$d/n$i.pid")"; done
tk=$(bench_now_ms)
LIVE=$(echo "$ALL" | grep -vxF "$DEAD")
Q=$(echo "$LIVE" | sed -n 2p)
kpub=$(publish "$Q" c "$LIVE")
bench_mesh_wait_list "$d" "$LIVE" 300 ||
    bench_die "wan: the survivors did not converge: $BENCH_SHORT"
kconv=$(($(bench_now_ms) - tk))
most=$(bounded "$LIVE")
echo "wan: $(echo "$DEAD" | wc -w) killed: a publish reached the" \
    "$(echo "$LIVE" | wc -w) others after $kpub ms; they list exactly each" \
    "other alive $kconv ms after the kill; at most $most neighbours"
bench_emit wan killed_publish_ms "$kpub"
bench_emit wan killed_converge_ms "$kconv"

# 5. the seed killed
kill -9 "$(cat "$d/n0.pid")"
tk=$(bench_now_ms)
REST=$(echo "$LIVE" | grep -vx 0)
spub2=$(publish "$Q" d "$REST")
bench_mesh_wait_list "$d" "$REST" 300 ||
    bench_die "wan: partition after the seed was killed: $BENCH_SHORT"
sconv=$(($(bench_now_ms) - tk))
echo "wan: the seed killed: a publish reached the $(echo "$REST" | wc -w)" \
    "others after $spub2 ms; they list exactly each other alive $sconv ms" \
    "after the kill (no partition)"
bench_emit wan seedless_publish_ms "$spub2"
bench_emit wan seedless_converge_ms "$sconv"

bench_agents_stop 2>/dev/null || :

echo
printf '%-34s %10s %10s %8s\n' "figure" "real" "sim" "ratio"
printf '%-34s %10s %10s %8s\n' "N=$N membership complete, ms" "$join" "$sjoin" \
    "$(bench_calc "sprintf(\"%.2f\", $sjoin / $join)")"
printf '%-34s %10s %10s %8s\n' "N=$N publish reaches all, ms" "$pub" "$spub" \
    "$(bench_calc "sprintf(\"%.2f\", $spub / $pub)")"
echo "(ratio = sim / real; goal: 0.70 to 1.30; neighbours <= $MAXN)"
echo
cat "$BENCH_LINES"
