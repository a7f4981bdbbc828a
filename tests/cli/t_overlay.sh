# The bounded overlay (issue 14, finding 12), with 24 real agents that
# all join through one seed, at --degree 2 --max-neighbours 4 so that the
# bound bites: no agent ever holds more than 4 neighbours (the seed
# neither), the seed lets links go and nobody reports those as failures;
# membership is complete and a publish reaches everyone. Then 6 agents
# are killed: the rest find new neighbours among the members they know
# and converge on a new publish; then the seed is killed: no partition.
# Without the bound (the overlay before issue 14) the seed held a
# session to every agent, which the first check catches.
. "$(dirname "$0")/lib.sh"
N=24
MAXN=4
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
die() {
	for l in "$T"/n0.log "$T"/n5.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -20 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
ARGS="--gossip-interval 200ms --suspect-timeout 1s --backoff-max 1s --degree 2 --max-neighbours $MAXN"

start() {
	i=$1; shift
	"$WEFT" agent --data-dir "$T/n$i" $ARGS "$@" 2>>"$T/n$i.log" &
	eval "PID_$i=$!"
	PIDS="$PIDS $!"
}
# m_alive WANT I: agent I sees WANT alive members besides itself, and none
# failed
m_alive() {
	"$WEFT" members --data-dir "$T/n$2" --json >"$T/m$2" 2>/dev/null || return 1
	[ "$(grep -o '"state":"alive"' "$T/m$2" | wc -l)" -eq "$1" ] &&
	    ! grep -q '"state":"failed"' "$T/m$2"
}
# p_has NAME I: agent I's catalog holds product NAME
p_has() {
	"$WEFT" catalog --data-dir "$T/n$2" --json >"$T/c$2" 2>/dev/null || return 1
	grep -q "\"product\":\"$1\"" "$T/c$2"
}
# why I: what agent I holds, compactly (a failing check's context)
why() {
	"$WEFT" members --data-dir "$T/n$1" --json 2>/dev/null | tr '{' '\n' |
	    sed -n 's/.*"node":"\([^"]*\)".*"state":"\([a-z]*\)".*"connected":\([a-z]*\).*/\1 \2 \3/p' |
	    tr '\n' ';' >&2
	echo >&2
	"$WEFT" status --data-dir "$T/n$1" --json 2>/dev/null | tr ',' '\n' |
	    grep -E 'neighbours|overlay_|gossip_(throttled|dropped|refused)"' | tr '\n' ' ' >&2
	echo >&2
	grep -o '"product":"[^"]*"' "$T/c$1" 2>/dev/null | tr '\n' ' ' >&2
	echo "--- n$1.log" >&2
	tail -n 15 "$T/n$1.log" >&2
}
# all LIST CHECK ARG: CHECK ARG I holds for every I in LIST, within 60 s
all() {
	list=$1; shift
	for j in $list; do
		until_ok 60 "$@" "$j" || { why "$j"; die "$* on n$j"; }
	done
}
# bounded LIST: every agent in LIST holds at most MAXN neighbours and at
# least one; sets LETGO to the links they let go in all
bounded() {
	LETGO=0
	for i in $1; do
		ok "$WEFT" status --data-dir "$T/n$i" --json
		nb=$(json_num neighbours)
		[ "$nb" -le $MAXN ] || die "n$i holds $nb neighbours, over $MAXN"
		[ "$nb" -ge 1 ] || die "n$i holds no neighbour"
		LETGO=$((LETGO + $(json_num overlay_let_go)))
		ok "$WEFT" peers --data-dir "$T/n$i" --json
		np=$(grep -o '"node_name"' "$T/out" | wc -l)
		[ "$np" -le $((MAXN + 1)) ] || die "n$i has $np sessions"
	done
}
ALL=$(seq_list 0 $((N - 1)))

ok "$WEFT" org create acme --out "$T/acme.key"
for i in $ALL; do
	ok "$WEFT" init --data-dir "$T/n$i" --org "$T/acme.key" --name "n$i" --mesh overlay
done
start 0 --listen 127.0.0.1:0
ok "$WEFT" status --data-dir "$T/n0" --json --wait 20
SEED=$(listen_addr)
for i in $(seq_list 1 $((N - 1))); do
	start "$i" --listen 127.0.0.1:0 --join "$SEED"
done
all "$ALL" m_alive $((N - 1))
bounded "$ALL"
[ "$LETGO" -gt 0 ] || die "no agent let a link go: the bound never bit"
ok "$WEFT" status --data-dir "$T/n0" --json
[ "$(json_num overlay_let_go)" -gt 0 ] || die "the seed let no link go"
echo "t_overlay: $N agents, links let go: $LETGO (seed: $(json_num overlay_let_go))" >&2

printf 'id,amount\n1,2.5\n' >"$T/a.csv"
ok "$WEFT" publish --data-dir "$T/n9" shop.orders "$T/a.csv"
all "$ALL" p_has shop.orders
# still nobody failed: a link let go is not a failure
all "$ALL" m_alive $((N - 1))

# Kill a quarter: the rest reconnect among themselves and converge.
DEAD="18 19 20 21 22 23"
LIVE=$(seq_list 0 17)
for i in $DEAD; do eval "kill -9 \$PID_$i"; done
ok "$WEFT" publish --data-dir "$T/n3" ops.logs "$T/a.csv"
all "$LIVE" p_has ops.logs
sleep 2
bounded "$LIVE"

# The seed killed: no partition.
kill -9 $PID_0
REST=$(seq_list 1 17)
ok "$WEFT" publish --data-dir "$T/n11" ops.more "$T/a.csv"
all "$REST" p_has ops.more
sleep 2
bounded "$REST"
for i in $ALL; do
	grep -q "Sanitizer\|runtime error" "$T/n$i.log" && { cat "$T/n$i.log" >&2; die "sanitizer report in n$i"; }
done
for i in $REST; do eval "kill -TERM \$PID_$i"; done
for i in $REST; do eval "wait \$PID_$i" || die "n$i did not exit cleanly"; done
exit 0
