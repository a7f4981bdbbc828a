# Gossip with 32 real agents on 127.0.0.1, started from one seed: every
# agent lists 32 members; a product published on one appears in `weft
# catalog` on all 32, a new version replaces it everywhere, a drop removes
# it everywhere; 8 agents killed are marked failed by the rest, which keep
# converging on new entries; restarted, they catch up by anti-entropy.
. "$(dirname "$0")/lib.sh"
N=32
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
die() {
	for l in "$T"/n0.log "$T"/n9.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -15 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
ARGS="--gossip-interval 200ms --suspect-timeout 1s --backoff-max 1s --max-pending-per-addr 64"

start() {
	i=$1; shift
	"$WEFT" agent --data-dir "$T/n$i" $ARGS "$@" 2>>"$T/n$i.log" &
	eval "PID_$i=$!"
	PIDS="$PIDS $!"
}
# until SECONDS CMD...: retry CMD (quietly) until it succeeds
# members_ok I WANT_ALIVE: agent I sees WANT_ALIVE alive members + itself
members_ok() {
	"$WEFT" members --data-dir "$T/n$1" --json >"$T/m$1" 2>/dev/null || return 1
	a=$(grep -o '"state":"alive"' "$T/m$1" | wc -l)
	[ "$a" -eq $(($2 - 1)) ]
}
failed_ok() {
	"$WEFT" members --data-dir "$T/n$1" --json >"$T/m$1" 2>/dev/null || return 1
	f=$(grep -o '"state":"failed"' "$T/m$1" | wc -l)
	[ "$f" -eq "$2" ]
}
# has_product I NAME VERSION: agent I's catalog holds NAME at VERSION
has_product() {
	"$WEFT" catalog --data-dir "$T/n$1" --json >"$T/c$1" 2>/dev/null || return 1
	grep -q "\"product\":\"$2\",[^}]*\"version\":$3[,}]" "$T/c$1"
}
no_product() {
	"$WEFT" catalog --data-dir "$T/n$1" --json >"$T/c$1" 2>/dev/null || return 1
	! grep -q "\"product\":\"$2\"" "$T/c$1"
}
# all LIST CHECK ARGS...: CHECK I ARGS holds for every I in LIST, within 30 s
all() {
	list=$1; shift
	for i in $list; do
		until_ok 30 "$@" "$i" || { "$1" "$i" "$2" "$3" || :; cat "$T/c$i" "$T/m$i" 2>/dev/null | head -c 2000 >&2; die "$1 $2 ${3:-} on n$i"; }
	done
}
# the wrappers `all` calls: CHECK I ARG1 ARG2
m_alive() { members_ok "$2" "$1"; }
m_failed() { failed_ok "$2" "$1"; }
p_has() { has_product "$3" "$1" "$2"; }
p_none() { no_product "$2" "$1"; }
ALL=$(seq_list 0 $((N - 1)))

ok "$WEFT" org create acme --out "$T/acme.key"
for i in $ALL; do
	ok "$WEFT" init --data-dir "$T/n$i" --org "$T/acme.key" --name "n$i" --mesh gossip
done
start 0 --listen 127.0.0.1:0
ok "$WEFT" status --data-dir "$T/n0" --json --wait 20
SEED=$(listen_addr)
for i in $(seq_list 1 $((N - 1))); do
	start "$i" --listen 127.0.0.1:0 --join "$SEED"
done
t0=$(date +%s.%N)
all "$ALL" m_alive $N
echo "t_gossip: $N agents know each other after $(echo "$(date +%s.%N) - $t0" | bc) s" >&2

# Publish on n7: everywhere; a new version; a drop.
printf 'id,amount\n1,2.5\n2,3.5\n' >"$T/a.csv"
ok "$WEFT" publish --data-dir "$T/n7" shop.orders "$T/a.csv"
all "$ALL" p_has shop.orders 1
printf 'id,amount\n3,4.5\n' >"$T/b.csv"
ok "$WEFT" publish --data-dir "$T/n7" shop.orders "$T/b.csv" --append
all "$ALL" p_has shop.orders 2
ok "$WEFT" drop --data-dir "$T/n7" shop.orders
all "$ALL" p_none shop.orders

# Kill 8: the rest mark them failed and still converge on new entries.
DEAD="24 25 26 27 28 29 30 31"
LIVE=$(seq_list 0 23)
for i in $DEAD; do eval "kill -9 \$PID_$i"; done
all "$LIVE" m_failed 8
ok "$WEFT" publish --data-dir "$T/n3" ops.logs "$T/a.csv"
all "$LIVE" p_has ops.logs 1
# Restarted (same data directory and port), they catch up.
for i in $DEAD; do
	addr=$(tr '{' '\n' <"$T/m0" | grep "\"node\":\"n$i\"" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')
	start "$i" --listen "$addr" --join "$SEED"
done
all "$ALL" m_alive $N
all "$DEAD" p_has ops.logs 1
for i in $ALL; do
	grep -q "Sanitizer\|runtime error" "$T/n$i.log" && { cat "$T/n$i.log" >&2; die "sanitizer report in n$i"; }
done
for i in $ALL; do eval "kill -TERM \$PID_$i"; done
for i in $ALL; do eval "wait \$PID_$i" || die "n$i did not exit cleanly"; done
exit 0
