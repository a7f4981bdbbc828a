# Agreement with reality (issue #6): the 32-agent dissemination of
# t_gossip.sh run as real agents on 127.0.0.1 and in `weft sim` on the
# same overlay with the same parameters; the simulated time to full
# coverage must be within 30% of the measured one (docs/sim.md,
# "Agreement with reality").
#
# Loopback has no latency to speak of and this kernel has no netem, so
# the agents emulate a WAN: `--link-delay 100ms` holds every gossip
# message 100 ms before sending, and the simulator gets `--latency 100ms`.
# What the simulator does not model is the agents' own work per hop
# (verifying, writing LMDB, 32 sanitized processes on 2 cores): that is
# the error being measured.
#  1. 32 agents from one seed, --gossip-interval 200ms, all list 32.
#  2. The real overlay: every agent's `weft peers --json`, its outbound
#     sessions as edges "DIALLER DIALLED" (n5 is sim node 5): the sim's
#     --topology file: dials the same links.
#  3. Product A published on P (the agent with the fewest sessions, so
#     most agents are two hops away): the first broadcast after the join
#     floods and prunes the broadcast tree; not measured.
#  4. B, C, D on P, on the tree: T_real = the last "catalog: learnt" log
#     line minus P's "catalog: offered" line (the moment P's core took
#     the product), median of the three.
#  5. weft sim --topology file:EDGES --publisher P --latency 100ms
#     --prime 1s (an unmeasured flood first, as A was): T_sim = its time
#     from the publish to 100% coverage.
#  6. |T_sim - T_real| <= 0.30 x T_real.
. "$(dirname "$0")/lib.sh"
N=32
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
die() {
	for f in "$T"/edges "$T"/treal; do [ -f "$f" ] && { echo "--- $f" >&2; tr '\n' ';' <"$f" >&2; echo >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
DELAY_MS=100
ARGS="--gossip-interval 200ms --suspect-timeout 1s --backoff-max 1s --max-pending-per-addr 64 --link-delay ${DELAY_MS}ms"
ALL=$(seq_list 0 $((N - 1)))

ok "$WEFT" org create acme --out "$T/acme.key"
for i in $ALL; do
	ok "$WEFT" init --data-dir "$T/n$i" --org "$T/acme.key" --name "n$i" --mesh gossip
done
"$WEFT" agent --data-dir "$T/n0" --listen 127.0.0.1:0 $ARGS 2>>"$T/n0.log" &
PIDS=$!
ok "$WEFT" status --data-dir "$T/n0" --json --wait 20
SEED=$(listen_addr)
for i in $(seq_list 1 $((N - 1))); do
	"$WEFT" agent --data-dir "$T/n$i" --listen 127.0.0.1:0 --join "$SEED" $ARGS 2>>"$T/n$i.log" &
	PIDS="$PIDS $!"
done
members_ok() {
	a=$("$WEFT" members --data-dir "$T/n$1" --json 2>/dev/null | grep -o '"state":"alive"' | wc -l)
	[ "$a" -eq $((N - 1)) ]
}
for i in $ALL; do until_ok 30 members_ok "$i" || die "n$i does not list $N members"; done
sleep 1 # dials under way settle

# 2. the overlay: outbound sessions, "DIALLER DIALLED"
dump() {
	for i in $ALL; do
		"$WEFT" peers --data-dir "$T/n$i" --json | tr '{' '\n' |
		    sed -n "s/.*\"node\":\"n\([0-9]*\)\".*\"direction\":\"out\".*/$i \1/p"
	done | sort -n -k1 -k2
}
dump >"$T/edges"
[ "$(wc -l <"$T/edges")" -ge $((N - 1)) ] || die "too few links"
# the publisher: fewest sessions, not the seed n0 (every agent's neighbour)
P=$(awk '{ d[$1]++; d[$2]++ } END { b = -1; for (i = 1; i < '$N'; i++) if (b < 0 || d[i] < d[b]) b = i; print b }' "$T/edges")

printf 'id,v\n1,2\n' >"$T/p.csv"
learnt() { grep -q "catalog: learnt acme.shop.$2 version" "$T/n$1.log"; }
offered() { grep -q "catalog: offered acme.shop.$1 version" "$T/n$P.log"; }
ms() { awk '{ split($1, a, ":"); printf "%.0f\n", ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 }'; }
# pub X: publish shop.X on P, wait for every agent; prints T_real in ms
pub() {
	ok "$WEFT" publish --data-dir "$T/n$P" "shop.$1" "$T/p.csv" --quiet
	until_ok 20 offered "$1" || die "n$P never offered shop.$1"
	for i in $ALL; do
		[ "$i" -eq "$P" ] && continue
		until_ok 20 learnt "$i" "$1" || die "shop.$1 did not reach n$i"
	done
	t0=$(grep -m1 "catalog: offered acme.shop.$1 version" "$T/n$P.log" | cut -c12-23 | ms)
	for i in $ALL; do
		[ "$i" -eq "$P" ] && continue
		grep -m1 "catalog: learnt acme.shop.$1 version" "$T/n$i.log" | cut -c12-23 | ms
	done | sort -n | tail -n 1 | awk -v t0="$t0" '{ x = $1 - t0; if (x < 0) x += 86400000; print x }'
	sleep 1 # the prunes and lazy announcements of this one are done
}

# 3. the flood that prunes the tree
pub a >/dev/null
# 4. the measured broadcasts, on the tree
: >"$T/treal"
for x in b c d; do
	pub $x >>"$T/treal"
done
TREAL=$(sort -n "$T/treal" | sed -n 2p)
dump >"$T/edges2"
cmp -s "$T/edges" "$T/edges2" || echo "t_sim_reality: note: the overlay changed during the run" >&2
HOPS=$(awk -v P="$P" '{ adj[$1] = adj[$1] " " $2; adj[$2] = adj[$2] " " $1 }
END { hop[P] = 0; q[0] = P; qh = 0; qt = 1; m = 0
	while (qh < qt) { u = q[qh++]; n = split(adj[u], nb, " ")
		for (k = 1; k <= n; k++) if (!(nb[k] in hop)) { hop[nb[k]] = hop[u] + 1; q[qt++] = nb[k]; c[hop[nb[k]]]++; if (hop[nb[k]] > m) m = hop[nb[k]] } }
	for (x = 1; x <= m; x++) printf "%s%d", (x > 1 ? "," : ""), c[x]; print "" }' "$T/edges")

# 5. the simulator on the same overlay
ok "$WEFT" sim --topology "file:$T/edges" --nodes $N --publisher "$P" \
    --latency "${DELAY_MS}ms" --gossip-interval 200ms --suspect-timeout 1s \
    --degree 4 --prime 1s --scenario dissemination --json
has '"final_coverage":1.000000'
TSIM=$(sed -n 's/.*"p100_s":\([0-9.]*\).*/\1/p' "$T/out" | awk '{ printf "%.0f", $1 * 1e3 }')
[ -n "$TSIM" ] || die "no simulated time to 100%"

# 6. within 30%
echo "t_sim_reality: publisher n$P (agents per hop: $HOPS), link delay $DELAY_MS ms;" \
    "T_real = $TREAL ms (median of $(tr '\n' ' ' <"$T/treal")), T_sim = $TSIM ms" >&2
awk -v s="$TSIM" -v r="$TREAL" 'BEGIN { e = s - r; if (e < 0) e = -e; exit !(e <= 0.30 * r) }' ||
    die "T_sim $TSIM ms is not within 30% of T_real $TREAL ms"
for i in $ALL; do
	grep -q "Sanitizer\|runtime error" "$T/n$i.log" && { cat "$T/n$i.log" >&2; die "sanitizer report in n$i"; }
done
for p in $PIDS; do kill -TERM "$p"; done
for p in $PIDS; do wait "$p" || die "an agent did not exit cleanly"; done
PIDS=""
exit 0
