# Sessions re-checked while they run (issue 14, finding 9: "sessions are
# never re-checked after expiry or trust removal"); agent/recheck.c.
#   1. acme's a and globex's g trust each other and link; `weft trust
#      remove` of globex on a (agent running) closes the session within a
#      few seconds, with a line naming node and org; g does not come back
#      in a loop (handshakes bounded, as in t_refused_backoff), and both
#      agents keep answering.
#   2. Trusted again, they link again; `weft trust add --via-gateway`
#      (neither is a gateway) closes the session the same way.
#   3. A certificate that expires while its session is up: d's is renewed
#      with the test-only --valid-seconds; c closes the session once it
#      expired (not before) and refuses d from then on.
. "$(dirname "$0")/lib.sh"
mesh_test_init
attempts() {
	ok "$WEFT" status --data-dir "$T/$1" --json
	echo $(($(json_num handshakes_ok) + $(json_num handshakes_failed)))
}
linked() { "$WEFT" peers --data-dir "$T/$1" --json | grep -q "\"node\":\"$2\""; }
wait_linked() { until_ok 20 linked "$1" "$2" || die "$1 never linked with $2"; }
wait_log() { until_ok "$3" grep -q "$2" "$T/$1.log" || die "$1 never logged /$2/ in $3 s"; }

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in a c d; do
	ok "$WEFT" init --mesh test --data-dir "$T/$n" --org "$T/acme.key" --name $n
done
ok "$WEFT" init --mesh test --data-dir "$T/g" --org "$T/globex.key" --name g
ok "$WEFT" trust add --data-dir "$T/a" "$T/globex.pub"
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"

# 1. Trust removed while the session is up.
agent_start a
agent_start g --join "$ADDR_a"
wait_linked a g
wait_linked g a
t0=$(date +%s)
ok "$WEFT" trust remove --data-dir "$T/a" "$T/globex.pub"
wait_log a "session with node g (org globex) closed: org globex is no longer trusted" 5
echo "closed $(($(date +%s) - t0)) s after trust remove"
until_ok 5 sh -c "! '$WEFT' peers --data-dir '$T/a' --json | grep -q '\"node\":\"g\"'" ||
    die "a still lists g"
sleep 1
a0=$(attempts a)
g0=$(attempts g)
sleep 5
a1=$(attempts a)
g1=$(attempts g)
echo "in 5 s after the close: a saw $((a1 - a0)) handshakes, g $((g1 - g0))"
[ $((a1 - a0)) -le 20 ] || die "a saw $((a1 - a0)) handshakes in 5 s: a reconnect storm"
[ $((g1 - g0)) -le 20 ] || die "g saw $((g1 - g0)) handshakes in 5 s: a reconnect storm"
linked a g && die "a linked with g again although it no longer trusts globex"
[ "$(grep -c "session with node g (org globex) closed" "$T/a.log")" = 1 ] ||
    die "a closed g more than once"

# 2. Trusted again, then only gateway to gateway.
ok "$WEFT" trust add --data-dir "$T/a" "$T/globex.pub"
wait_linked a g
ok "$WEFT" trust add --data-dir "$T/a" "$T/globex.pub" --via-gateway
wait_log a "session with node g (org globex) closed: org globex is now reached only through gateways" 5
until_ok 5 sh -c "! '$WEFT' peers --data-dir '$T/a' --json | grep -q '\"node\":\"g\"'" ||
    die "a still lists g after --via-gateway"
for n in a g; do
	eval "p=\$PID_$n"
	ok "$WEFT" status --data-dir "$T/$n" --json
	kill -TERM $p
	wait $p || die "$n did not exit cleanly"
done

# 3. A certificate that expires while its session is up.
ok "$WEFT" init --renew --data-dir "$T/d" --org "$T/acme.key" --valid-seconds 15 --json
exp=$(sed -n 's/.*"not_after":\([0-9]*\).*/\1/p' "$T/out")
[ -n "$exp" ] || die "renew printed no not_after"
agent_start c
agent_start d --join "$ADDR_c"
wait_linked c d
[ "$(date +%s)" -lt "$exp" ] || die "the session came up too late to test expiry"
wait_log c "session with node d (org acme) closed: its certificate expired at" 30
closed=$(date +%s)
echo "closed at $closed, the certificate expired at $exp"
[ "$closed" -gt "$exp" ] || die "c closed d's session before its certificate expired"
[ $((closed - exp)) -le 5 ] || die "c closed d's session $((closed - exp)) s after the expiry"
grep "closed: its certificate expired at" "$T/c.log" | grep -q "$(date -u -d "@$exp" +%Y-%m-%dT%H:%M:%SZ)" ||
    die "the log line does not give the expiry time"
sleep 3
linked c d && die "c linked with d again although its certificate expired"
grep -q "handshake .* refused: .*expired\|certificate .*expired" "$T/c.log" "$T/d.log" ||
    die "d's redials were not refused for its expired certificate"
c0=$(attempts c)
sleep 5
c1=$(attempts c)
echo "in 5 s: c saw $((c1 - c0)) handshakes from the expired d"
[ $((c1 - c0)) -le 20 ] || die "c saw $((c1 - c0)) handshakes in 5 s: a reconnect storm"
for n in c d; do
	eval "p=\$PID_$n"
	kill -TERM $p
	wait $p || die "$n did not exit cleanly"
done
for n in a g c d; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
exit 0
