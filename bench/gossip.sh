#!/bin/sh
# bench/gossip.sh: how fast a published descriptor reaches every one of N
# weft agents, and how many bytes each agent sends per second at rest and
# while it spreads, beside the same for HashiCorp Serf (a `serf event`
# reaching every agent; bench/gossip_serf.sh), with the same agent count
# and the same gossip interval (200 ms: Serf's LAN profile). Run by
# bench/run.sh (see bench/lib.sh); docs/bench.md ("Gossip") explains the
# figures.
#
# weft's agents run on 127.0.0.1 in a network namespace of their own
# (`ip netns`, root), so every byte lo sends there is theirs: the bytes
# are lo's transmit counter (IP packets, headers included, as
# gossipmeter counts Serf's). Arrival is the agent's log line
# "catalog: learnt ORG.NAME version V" (millisecond timestamps), the start
# is taken just before `weft publish` runs.
set -e
. "$BENCH_DIR/lib.sh"

if ! bench_has weft; then
	echo "gossip: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
SIZES=${BENCH_GOSSIP_SIZES:-"32 64"}
IV=${BENCH_GOSSIP_INTERVAL_MS:-200}
REPEAT=${BENCH_GOSSIP_REPEAT:-${BENCH_REPEAT:-3}}
# weft's rest traffic is keepalives (every 15 s per idle session) and one
# anti-entropy summary every 10 s: 30 s of rest sees both at their long-run
# rate (Serf's script adds its push-pull at its long-run rate instead).
REST_S=${BENCH_GOSSIP_WEFT_REST_S:-30}
TAIL_MS=${BENCH_GOSSIP_TAIL_MS:-1000}
T=$BENCH_TMP/gossip
mkdir -p "$T"
NS=wgb$$
GM=$T/gossipmeter
cc -O2 -o "$GM" "$BENCH_DIR/gossipmeter.c" || bench_die "gossip: cannot build gossipmeter"
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"
export BENCH_LINES

bench_agents_trap
bench_on_exit() { ip netns del $NS 2>/dev/null || :; }
BENCH_NETNS=$NS

lo_bytes() { ip netns exec $NS "$GM" lo-bytes | cut -d' ' -f1; }
now_ms() { bench_now_ms; }

# weft_run N: the weft figures for N agents, as bench lines
weft_run() {
	n=$1
	d=$T/w$n
	rm -rf "$d"
	mkdir -p "$d"
	ip netns add $NS
	ip -n $NS link set lo up
	bench_mesh_init "$d" bench "$n" bench
	bench_mesh_start "$d" "$n" --gossip-interval ${IV}ms \
	    --max-pending-per-addr $((2 * n)) --backoff-max 1s
	# converge: every agent lists n alive members (itself as self)
	bench_mesh_wait "$d" "$n" 60 ||
	    bench_die "gossip: $n weft agents did not converge: $BENCH_SHORT"
	sleep 2
	b0=$(lo_bytes)
	t0=$(now_ms)
	sleep "$REST_S"
	b1=$(lo_bytes)
	t1=$(now_ms)
	rest=$(bench_calc "sprintf(\"%.0f\", ($b1 - $b0) / $n / (($t1 - $t0) / 1000))")
	printf 'id,v\n1,2\n' >"$d/p.csv"
	# publish 0 is the first broadcast after the join: it floods every
	# link and prunes the broadcast tree out of the overlay (Plumtree;
	# the join itself travels by anti-entropy). Reported on its own;
	# the medians are over publishes 1..REPEAT, on the tree.
	r=0
	: >"$d/reach" ; : >"$d/dissem"
	while [ $r -le "$REPEAT" ]; do
		b0=$(lo_bytes)
		t0=$(now_ms)
		"$WEFT" publish --data-dir "$d/n0" "bench.p$r" "$d/p.csv" \
		    --quiet >/dev/null
		last=$(bench_reach "$d" "$n" 0 \
		    "catalog: learnt bench.bench.p$r version" "$t0" 30) ||
		    bench_die "gossip: bench.p$r did not reach all $n weft agents"
		mv "$d/reach.ms" "$d/arr.s"
		p50=$(sed -n "$(((n - 1 + 1) / 2))p" "$d/arr.s")
		p90=$(sed -n "$(((n - 1) * 9 / 10))p" "$d/arr.s")
		# bytes from the publish to the last arrival plus the tail
		left=$((last + TAIL_MS - ($(now_ms) - t0)))
		[ "$left" -gt 0 ] && sleep "$(bench_calc "sprintf(\"%.3f\", $left / 1000)")"
		b1=$(lo_bytes)
		win=$((last + TAIL_MS))
		[ $win -lt $(($(now_ms) - t0)) ] && win=$(($(now_ms) - t0))
		rate=$(bench_calc "sprintf(\"%.0f\", ($b1 - $b0) / $n / ($win / 1000))")
		if [ $r -eq 0 ]; then
			bench_emit gossip "weft_N${n}_first_reach_all_ms" "$last"
			bench_emit gossip "weft_N${n}_first_dissem_bytes_per_node_s" "$rate"
		else
			echo "$last $p50 $p90" >>"$d/reach"
			echo "$rate" >>"$d/dissem"
		fi
		r=$((r + 1))
	done
	# a policy narrowed on n0 (issue 13's revocation): version 1
	# grants the org bench.p1's columns; version 2 only id. The time
	# until every other agent logs "catalog: learnt policy of
	# bench.bench.p1 version 2": the time until every catalog holds
	# the narrower grant (the owner applies it at once)
	printf 'product: bench.p1\ngrants:\n  - to: [bench]\n' >"$d/pol1.yaml"
	printf 'product: bench.p1\ngrants:\n  - to: [bench]\n    columns: [id]\n' \
	    >"$d/pol2.yaml"
	: >"$d/preach"
	for v in 1 2; do
		t0=$(now_ms)
		"$WEFT" policy set --data-dir "$d/n0" bench.p1 "$d/pol$v.yaml" \
		    >/dev/null
		last=$(bench_reach "$d" "$n" 0 \
		    "catalog: learnt policy of bench.bench.p1 version $v " \
		    "$t0" 30) ||
		    bench_die "gossip: policy version $v did not reach all $n agents"
		echo "$last" >>"$d/preach"
	done
	bench_emit gossip "weft_N${n}_policy_reach_all_ms" "$(tail -n 1 "$d/preach")"
	med() { sort -n "$1" | sed -n "$(( ($(wc -l <"$1") + 1) / 2 ))p"; }
	cut -d' ' -f1 "$d/reach" >"$d/r.all"
	cut -d' ' -f2 "$d/reach" >"$d/r50"
	cut -d' ' -f3 "$d/reach" >"$d/r90"
	bench_emit gossip "weft_N${n}_reach_all_ms" "$(med "$d/r.all")"
	bench_emit gossip "weft_N${n}_reach_all_ms_all" "$(paste -sd, "$d/r.all")"
	bench_emit gossip "weft_N${n}_reach_50_ms" "$(med "$d/r50")"
	bench_emit gossip "weft_N${n}_reach_90_ms" "$(med "$d/r90")"
	bench_emit gossip "weft_N${n}_rest_bytes_per_node_s" "$rest"
	bench_emit gossip "weft_N${n}_dissem_bytes_per_node_s" "$(med "$d/dissem")"
	bench_emit gossip "weft_N${n}_dissem_bytes_per_node_s_all" "$(paste -sd, "$d/dissem")"
	bench_agents_stop || bench_die "gossip: a weft agent exited with $?"
	for f in "$d"/n*.log; do
		if grep -q "Sanitizer\|runtime error" "$f"; then
			bench_die "gossip: sanitizer report in $f"
		fi
	done
	ip netns del $NS
}

get() { sed -n "s/^BENCH gossip $1=//p" "$BENCH_LINES" | tail -n 1; }

echo "gossip interval ${IV} ms for both; $REPEAT publishes / events per size, median"
for n in $SIZES; do
	weft_run "$n"
	BENCH_GOSSIP_REPEAT=$REPEAT GOSSIPMETER=$GM BENCH_GOSSIP_REST_S=10 \
	    sh "$BENCH_DIR/gossip_serf.sh" "$n" "$IV" >"$T/serf$n.out" 2>&1 ||
	    { tail -n 30 "$T/serf$n.out" >&2; bench_die "gossip: serf run failed"; }
done

echo
printf '%-44s %12s %12s %8s\n' "figure" "weft" "serf" "ratio"
for n in $SIZES; do
	for f in reach_all_ms reach_50_ms reach_90_ms rest_bytes_per_node_s \
	    dissem_bytes_per_node_s; do
		w=$(get "weft_N${n}_$f")
		s=$(get "serf_N${n}_$f")
		ratio=-
		if [ -n "$w" ] && [ -n "$s" ] && [ "$s" != 0 ]; then
			ratio=$(bench_calc "sprintf(\"%.2f\", $w / $s)")
		fi
		printf '%-44s %12s %12s %8s\n' "N=$n $f" "${w:--}" "${s:--}" "$ratio"
	done
	# a narrowed policy reaching every catalog, beside a Serf event
	w=$(get "weft_N${n}_policy_reach_all_ms")
	s=$(get "serf_N${n}_reach_all_ms")
	ratio=-
	if [ -n "$w" ] && [ -n "$s" ] && [ "$s" != 0 ]; then
		ratio=$(bench_calc "sprintf(\"%.2f\", $w / $s)")
	fi
	printf '%-44s %12s %12s %8s\n' "N=$n policy_v2_reach_all_ms" "${w:--}" \
	    "${s:--}" "$ratio"
done
echo "(ratio = weft / serf; goal: reach_all <= 1 and bytes per node <= 1)"
for n in $SIZES; do
	echo "N=$n weft's first broadcast after the join (floods, builds the tree):" \
	    "reach all $(get "weft_N${n}_first_reach_all_ms") ms," \
	    "$(get "weft_N${n}_first_dissem_bytes_per_node_s") bytes/node/s"
done
echo
cat "$BENCH_LINES"
