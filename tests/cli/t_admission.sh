# Admission under attack (issue 14, finding 7: "slots exhausted without a
# key"): half-open handshakes from many addresses filled every connection
# slot, and honest peers were refused. Here a runs with --max-conns 64
# (so six addresses are enough; the finding used 69 x 16 against 1024)
# and a long handshake deadline (so nothing times out during the test);
# c joined before the attack.
#   1. Six probes on 127.0.0.2 .. 127.0.0.7, one after the other, each
#      opening 16 connections that never finish the handshake (the
#      per-address cap) and holding them: 96 in all, more than the 64
#      slots. a keeps at most --max-handshakes (default: half the slots,
#      32) and closes the OLDEST to admit each newcomer: the first probe's
#      connections are all closed, the last probe's are kept.
#   2. Meanwhile an honest node b joins a and sees the mesh, a answers
#      `weft status` and `weft members`, and c's session, established
#      before the attack, was never closed.
#   3. a logs and counts the evictions (refused_limit).
# Before the fix the half-open connections took all 64 slots (the last
# ones refused at once) and b was refused ("too many connections") until
# the deadline.
. "$(dirname "$0")/lib.sh"
: "${WEFT_PROBE:?WEFT_PROBE must point at weft-probe}"
mesh_test_init
HOLD=20
PROBES="2 3 4 5 6 7"
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM

ok "$WEFT" org create acme --out "$T/acme.key"
for n in a b c; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh adm
done
agent_start a --max-conns 64 --handshake-timeout 60s
agent_start c --join "$ADDR_a"
# peer_of X Y: X has a session with Y
peer_of() {
	"$WEFT" peers --data-dir "$T/$1" --json >"$T/p_$1" 2>/dev/null &&
	    grep -q "\"node\":\"$2\"" "$T/p_$1"
}
until_ok 20 peer_of a c || die "c never joined a"

# 1. The flood, one address after the other.
for i in $PROBES; do
	"$WEFT_PROBE" halfopen --connect "$ADDR_a" --count 16 \
	    --bind 127.0.0.$i --hold $HOLD >"$T/half$i.json" 2>"$T/half$i.err" &
	eval "HP_$i=$!"
	PIDS="$PIDS $!"
	# this probe's connections are in before the next one starts
	sleep 1
done

# 2. An honest node joins during the flood (well before the deadline).
t0=$(date +%s)
agent_start b --join "$ADDR_a"
until_ok 8 peer_of b a || die "b cannot join a during the flood"
until_ok 8 peer_of a b || die "a has no session with b"
echo "b joined in $(($(date +%s) - t0)) s"
ok "$WEFT" status --data-dir "$T/a" --json
hs=$(json_num handshaking)
echo "a under attack: $hs unfinished handshakes"
[ "$hs" -le 32 ] || die "a holds $hs unfinished handshakes: not capped"
ok "$WEFT" members --data-dir "$T/a" --json
has '"node":"b"'
ok "$WEFT" status --data-dir "$T/a" --json
has '"sessions":'
peer_of a c || die "a lost c's session during the flood"
grep -q "session with .*(node c) ended\|(node c) closed" "$T/a.log" &&
    die "c's session was closed during the flood"

# The probes end at their --hold: what happened to each one's connections.
for i in $PROBES; do
	eval "p=\$HP_$i"
	wait $p || { cat "$T/half$i.err" >&2; die "halfopen probe $i failed"; }
	echo "probe 127.0.0.$i: $(cat "$T/half$i.json")"
done
cat "$T/half2.json" >"$T/out"
has '"opened":16'
[ "$(json_num closed_later)" -eq 16 ] ||
    die "the oldest connections (127.0.0.2) were not all evicted"
cat "$T/half7.json" >"$T/out"
has '"opened":16'
[ "$(json_num still_open)" -ge 12 ] ||
    die "the newest connections (127.0.0.7) were evicted, not the oldest"

# 3. Evictions logged and counted.
grep -q "evicted the oldest unfinished handshake, from 127.0.0.2:[0-9]*" "$T/a.log" ||
    die "a does not log its evictions"
ok "$WEFT" status --data-dir "$T/a" --json
[ "$(json_num refused_limit)" -ge 60 ] || die "evictions not counted"

for n in b c a; do
	eval "p=\$PID_$n"
	kill -TERM $p
	wait $p || die "$n did not exit cleanly"
done
for n in a b c; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
exit 0
