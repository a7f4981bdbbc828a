# A session refused after the handshake backs off like a failed dial
# (issue 14, finding 11: "reconnect storm"). Trust is asymmetric: acme
# links with globex only gateway to gateway (`trust add --via-gateway`),
# while globex's node b trusts acme for direct links. b learns acme's
# gateway ga from its own gateway gb (gateways' records cross orgs), dials
# it directly, and ga closes the session at once: b's gossip core redials
# a lost neighbour at once, so before the fix the two reconnected some
# 500 times a second (ASan build), each attempt a line in both logs.
#   1. Over 5 s, b and ga see at most 20 handshakes, ga logs at most 10
#      refusal lines, and all three agents still answer `weft status`.
#   2. A --join dialer (default --backoff-max) whose sessions the peer
#      refuses backs off too: a fresh globex node c joining ga makes at
#      most 6 attempts in 5 s (0.5, 1, 2, 4 s apart; before the fix the
#      backoff was reset at every handshake: 0.5 s apart, about 11).
. "$(dirname "$0")/lib.sh"
mesh_test_init
start() { agent_start "$@"; }
# attempts N: the handshakes agent N has seen (finished or failed)
attempts() {
	ok "$WEFT" status --data-dir "$T/$1" --json
	echo $(($(json_num handshakes_ok) + $(json_num handshakes_failed)))
}
refusals() { grep -c "node $1 of org globex is reached only through gateways" "$T/ga.log"; }

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
ok "$WEFT" init --mesh test --data-dir "$T/ga" --org "$T/acme.key" --name ga --role gateway
ok "$WEFT" trust add --data-dir "$T/ga" "$T/globex.pub" --via-gateway
ok "$WEFT" init --mesh test --data-dir "$T/gb" --org "$T/globex.key" --name gb --role gateway
ok "$WEFT" trust add --data-dir "$T/gb" "$T/acme.pub" --via-gateway
for n in b c; do
	ok "$WEFT" init --mesh test --data-dir "$T/$n" --org "$T/globex.key" --name $n
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/acme.pub" # not via gateways
done

# 1. The storm: b dials ga, found by gossip.
start ga
start gb --join "$ADDR_ga"
start b --join "$ADDR_gb"
until_ok 20 grep -q "node b of org globex is reached only through gateways" "$T/ga.log" ||
    die "b never dialled ga"
ga0=$(attempts ga)
b0=$(attempts b)
l0=$(refusals b)
sleep 5
ga1=$(attempts ga)
b1=$(attempts b)
l1=$(refusals b)
echo "in 5 s: ga saw $((ga1 - ga0)) handshakes, b $((b1 - b0)); ga logged $((l1 - l0)) refusals"
[ $((ga1 - ga0)) -le 20 ] || die "ga saw $((ga1 - ga0)) handshakes in 5 s: a reconnect storm"
[ $((b1 - b0)) -le 20 ] || die "b saw $((b1 - b0)) handshakes in 5 s: a reconnect storm"
[ $((l1 - l0)) -le 10 ] || die "ga logged $((l1 - l0)) refusals of b in 5 s: not folded"
grep -q "(node ga of org acme) ended before its first message: refused" "$T/b.log" ||
    die "b does not log the refusal"
for n in ga gb b; do
	ok "$WEFT" status --data-dir "$T/$n" --json
	has '"sessions":'
done
# the gateways' own link is untouched
ok "$WEFT" members --data-dir "$T/gb" --json
grep -q '"node":"ga".*"state":"alive"\|"state":"alive".*"node":"ga"' "$T/out" ||
    die "gb lost ga"
kill -TERM $PID_b
wait $PID_b || die "b did not exit cleanly"

# 2. A --join dialer refused after each handshake backs off.
ARGS="--gossip-interval 200ms --suspect-timeout 1s"
start c --join "$ADDR_ga"
sleep 5
c1=$(attempts c)
echo "in 5 s: c made $c1 attempts"
[ "$c1" -le 6 ] || die "c made $c1 attempts in 5 s: the backoff is not growing"

for n in ga gb c; do
	eval "p=\$PID_$n"
	ok "$WEFT" status --data-dir "$T/$n" --json
	kill -TERM $p
	wait $p || die "$n did not exit cleanly"
done
for n in ga gb b c; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
exit 0
