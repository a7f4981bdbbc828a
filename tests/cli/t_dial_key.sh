# A member dial checks the key it reaches (issue 14, finding 10: "a
# dialled node's key is never compared with the key we meant to
# reach"), and host names are resolved off the loop ("getaddrinfo
# blocks the loop").
#   1. b joins the seed a, then stops; c, a node of the same org with
#      another key, starts on b's old address. a's gossip core dials its
#      lost member b there: a must refuse the node it reaches ("dialled
#      node b at ADDR expecting key B, got C ...: closed"), never link
#      with c through that dial, and back off like a failed dial (at most
#      12 handshakes on c in 5 s; without the backoff a redials every
#      200 ms tick).
#   2. A --join by host name (localhost:PORT, resolved on libuv's thread
#      pool) still links: d joins a that way. (a listens on localhost:0,
#      so the name means the same address to both.)
#   3. A member dial to a host name with the right key links: e
#      advertises localhost:PORT and joins d (with --degree 1, so it
#      dials no one else); a learns e's record by gossip and dials it by
#      name.
. "$(dirname "$0")/lib.sh"
mesh_test_init
# peer_of X Y [DIR]: X has a session with Y (DIR: dialled "out" or "in")
peer_of() {
	"$WEFT" peers --data-dir "$T/$1" --json >"$T/p_$1" 2>/dev/null &&
	    tr '{' '\n' <"$T/p_$1" | grep "\"node\":\"$2\"" |
	    grep -q "\"direction\":\"${3:-[a-z]*}\""
}
no_peer() { ! peer_of "$@"; }
key_of() {
	ok "$WEFT" status --data-dir "$T/$1" --json
	sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out" | head -1
}

ok "$WEFT" org create acme --out "$T/acme.key"
for n in a b c d e; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh dk
done
agent_start a --listen localhost:0
agent_start b --join "$ADDR_a"
until_ok 20 peer_of a b || die "b never joined a"
KEY_b=$(key_of b)
PORT_b=${ADDR_b##*:}
kill -TERM $PID_b
wait $PID_b || die "b did not exit cleanly"
until_ok 10 no_peer a b || die "a still has a session with b"

# 1. Another node at b's address.
agent_start c --listen "127.0.0.1:$PORT_b"
KEY_c=$(key_of c)
until_ok 20 grep -q "dialled node b at 127.0.0.1:$PORT_b expecting key $KEY_b, got $KEY_c (node c of org acme): closed" "$T/a.log" ||
    die "a does not refuse the wrong node at b's address"
grep -q "session up: node c (org acme) dialled at" "$T/a.log" &&
    die "a linked with c through a dial meant for b"
ok "$WEFT" status --data-dir "$T/c" --json
h0=$(json_num handshakes_ok)
sleep 5
ok "$WEFT" status --data-dir "$T/c" --json
h1=$(json_num handshakes_ok)
echo "in 5 s: c saw $((h1 - h0)) handshakes"
[ $((h1 - h0)) -le 12 ] || die "a redialled b's address $((h1 - h0)) times in 5 s: no backoff"
grep -q "session up: node c (org acme) dialled at" "$T/a.log" &&
    die "a linked with c through a dial meant for b"
kill -TERM $PID_c
wait $PID_c || die "c did not exit cleanly"

# 2. --join by host name.
PORT_a=${ADDR_a##*:}
agent_start d --join "localhost:$PORT_a"
until_ok 20 peer_of d a out || die "d cannot join a by name (localhost:$PORT_a)"

# 3. A member dial by host name: e's record gives localhost:PORT.
agent_start e
PORT_e=${ADDR_e##*:}
kill -TERM $PID_e
wait $PID_e || die "e did not exit cleanly"
agent_start e --listen "localhost:$PORT_e" --advertise "localhost:$PORT_e" \
    --join "$ADDR_d" --degree 1
until_ok 20 peer_of a e out ||
    die "a never dialled e at its advertised name localhost:$PORT_e"
grep -q "session up: node e (org acme) dialled at" "$T/a.log" ||
    die "a's session with e is not its own dial"

for n in a d e; do
	eval "p=\$PID_$n"
	ok "$WEFT" status --data-dir "$T/$n" --json
	kill -TERM $p
	wait $p || die "$n did not exit cleanly"
done
for n in a b c d e; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
exit 0
