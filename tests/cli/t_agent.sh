# weft agent with real processes on 127.0.0.1: sessions within an org;
# across orgs only once each side trusts the other; and every refusal of
# issue 4 (wrong network key, untrusted / expired / not-yet-valid / forged
# certificates, replayed handshake messages, a flipped bit, a 4 GiB length,
# 1000 half-open connections, a peer that does not read) logged while the
# agent keeps serving its honest peer. Hostile peers are build/asan/weft-probe.
. "$(dirname "$0")/lib.sh"
: "${WEFT_PROBE:?WEFT_PROBE must point at weft-probe}"
PIDS=""
# On failure, show the agents' last log lines too.
die() {
	for l in "$T"/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -15 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM

# start NAME ARGS...: run an agent on $T/NAME, logging to $T/NAME.log
start() {
	n=$1; shift
	"$WEFT" agent --data-dir "$T/$n" --listen 127.0.0.1:0 "$@" \
	    2>"$T/$n.log" &
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
	ok "$WEFT" status --data-dir "$T/$n" --json --wait 20
	eval "PORT_$n=$(sed -n 's/.*"listen":\["127.0.0.1:\([0-9]*\)"\].*/\1/p' "$T/out")"
}
# stop NAME: SIGTERM, must exit 0 with a clean log
stop() {
	eval "p=\$PID_$1"
	kill -TERM "$p"
	wait "$p" || die "agent $1 exited with $? after SIGTERM"
	grep -q "info stopped" "$T/$1.log" || die "agent $1: no clean stop"
	[ -e "$T/$1/agent.sock" ] && die "agent $1 left its socket behind"
	check_log "$1"
}
check_log() {
	if grep -q "Sanitizer\|runtime error\|LeakSanitizer" "$T/$1.log"; then
		cat "$T/$1.log" >&2; die "sanitizer report in agent $1"
	fi
}
# wait_log NAME PATTERN [SECONDS]
wait_log() {
	i=0
	while ! grep -Eq "$2" "$T/$1.log"; do
		i=$((i + 1))
		[ $i -gt $((${3:-15} * 10)) ] && { cat "$T/$1.log" >&2; die "agent $1: no log line /$2/"; }
		sleep 0.1
	done
}
# wait_peer NAME PEER: NAME lists PEER in weft peers
wait_peer() {
	i=0
	while :; do
		"$WEFT" peers --data-dir "$T/$1" --json >"$T/out" 2>"$T/err" || die "weft peers $1"
		grep -q "\"node\":\"$2\"" "$T/out" && return 0
		i=$((i + 1))
		[ $i -gt 150 ] && { cat "$T/$1.log" >&2; die "$1 never saw $2"; }
		sleep 0.1
	done
}
# still_serving: a's session with b works end to end right now
still_serving() {
	ok "$WEFT_PROBE" hello --data-dir "$T/h" --connect "127.0.0.1:$PORT_a"
	has '"up":true'
	has '"echo":true'
	ok "$WEFT" peers --data-dir "$T/a" --json
	has '"node":"b"'
}
# probe MODE ARGS...: run the probe against a, output in $T/out
probe() {
	m=$1; shift
	ok "$WEFT_PROBE" "$m" --connect "127.0.0.1:$PORT_a" "$@"
}

# Org acme: a, b, c, h (c and h are only ever used by the probe: c for the
# hostile modes, h for the honest checks, so their sessions never count as
# duplicates of each other). Org globex: g.
# Node x is in acme but on another mesh.
ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
ok "$WEFT" org create evil --out "$T/evil.key"
for n in a b c h; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh test
done
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh test
ok "$WEFT" init --data-dir "$T/x" --org "$T/acme.key" --name x --mesh other

# Usage errors.
bad "invalid value" "$WEFT" agent --data-dir "$T/a" --max-queue lots
bad "want HOST:PORT" "$WEFT" agent --data-dir "$T/a" --listen nowhere
bad "no agent is running" "$WEFT" status --data-dir "$T/a"

# 1. Two nodes of one org.
start a --handshake-timeout 2s --max-queue 256K --stall-timeout 3s \
    --max-pending-per-addr 16 --backoff-max 1s
bad "another weft agent is running" "$WEFT" agent --data-dir "$T/a" --listen 127.0.0.1:0
start b --join "127.0.0.1:$PORT_a" --backoff-max 1s
wait_peer a b
wait_peer b a
ok "$WEFT" peers --data-dir "$T/b" --json
has '"node":"a","org":"acme".*"direction":"out"'
ok "$WEFT" peers --data-dir "$T/a"
has "^b +acme +127.0.0.1:[0-9]+ +in "
ok "$WEFT" status --data-dir "$T/a"
has "sessions: +1 up"
still_serving

# 2. Two orgs: refused until each trusts the other's root.
start g --join "127.0.0.1:$PORT_a" --backoff-max 1s
wait_log g "handshake to 127.0.0.1:$PORT_a refused: .*signed by org acme .* which is not trusted"
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"
wait_log a "handshake from 127.0.0.1:[0-9]+ refused: .*signed by org globex .* which is not trusted"
ok "$WEFT" peers --data-dir "$T/a" --json
grep -q '"node":"g"' "$T/out" && die "a took g before trusting globex"
ok "$WEFT" trust add --data-dir "$T/a" "$T/globex.pub"
wait_peer a g
wait_peer g a

# 3. Wrong network key: the responder stays silent and logs it.
start x --join "127.0.0.1:$PORT_a" --backoff-max 1s
wait_log a "refused: handshake: bad network key"
wait_log x "handshake to 127.0.0.1:$PORT_a failed: connection closed by peer before it finished"
stop x
# ...and a client without the key receives not one byte.
probe nokey --dump "$T/nokey.bin"
has '"received":0'
[ -s "$T/nokey.bin" ] && die "a client without the network key got bytes"
ok "$WEFT" status --data-dir "$T/a" --json
pk=$(sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out")
[ -n "$pk" ] || die "no public key in status"
still_serving

# 4. Certificates: untrusted org, expired, not yet valid, broken signature.
now=$(date +%s)
probe cert --data-dir "$T/c" --org "$T/evil.key"
has '"up":false'
wait_log a "refused: .*signed by org evil .* which is not trusted"
probe cert --data-dir "$T/c" --org "$T/acme.key" --not-before $((now - 7200)) --not-after $((now - 3600))
has '"up":false'
wait_log a "refused: .*expired at"
probe cert --data-dir "$T/c" --org "$T/acme.key" --not-before $((now + 3600)) --not-after $((now + 7200))
has '"up":false'
wait_log a "refused: .*is not valid until"
probe cert --data-dir "$T/c" --org "$T/acme.key" --break-sig
has '"up":false'
wait_log a "refused: .*signature does not verify"
still_serving

# 5. Replayed handshake messages.
probe replay1 --data-dir "$T/c"
has '"received":0'
has '"closed_by_peer":true'
wait_log a "refused: handshake: replayed message 1"
probe replay3 --data-dir "$T/c"
has '"up":false'
has '"closed_by_peer":true'
wait_log a "refused: handshake: message 3"
still_serving

# 6. Bad frames: one flipped bit; an authenticated 4 GiB length.
probe flipbit --data-dir "$T/c"
has '"closed_by_peer":true'
wait_log a "closed: bad frame: frame: .*authenticate"
probe biglen --data-dir "$T/c"
has '"closed_by_peer":true'
wait_log a "closed: bad frame: frame: .*(exceeds|cap)"
ok "$WEFT" status --data-dir "$T/a" --json
[ "$(json_num bad_frames)" -ge 2 ] || die "bad frames not counted"
still_serving

# 7. 1000 connections that never finish the handshake (from 127.0.0.2, so
# the honest peers on 127.0.0.1 are not affected by the per-address cap).
# a, with the default cap of 16 unfinished handshakes per address, refuses
# most at once and closes the rest at its 2 s deadline, serving others
# meanwhile.
"$WEFT_PROBE" halfopen --connect "127.0.0.1:$PORT_a" --count 1000 \
    --bind 127.0.0.2 --hold 8 >"$T/half.json" 2>"$T/half.err" &
hp=$!
sleep 1
still_serving
wait $hp || { cat "$T/half.err" >&2; die "halfopen probe failed"; }
cat "$T/half.json" >"$T/out"
has '"opened":1000'
has '"still_open":0'
wait_log a "refused connection from 127.0.0.2:[0-9]+: too many unfinished handshakes"
wait_log a "connection from 127.0.0.2:[0-9]+ closed: handshake: not completed before the deadline"
ok "$WEFT" status --data-dir "$T/a" --json
[ "$(json_num handshaking)" -eq 0 ] || die "handshakes left over"
[ "$(json_num refused_limit)" -ge 900 ] || die "connections over the cap not refused"
still_serving
# An agent whose caps let all 1000 in (release build, so RSS is the
# agent's own and not sanitizer shadow): every one is closed at the
# deadline, and memory stays bounded while they are held.
ok "$WEFT" init --data-dir "$T/f" --org "$T/acme.key" --name f --mesh test
WEFT_SAVED=$WEFT; WEFT=$WEFT_REL
start f --handshake-timeout 3s --max-conns 2000 --max-per-addr 2000 \
    --max-pending-per-addr 2000
WEFT=$WEFT_SAVED
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$PID_f/status"; }
rss0=$(rss)
"$WEFT_PROBE" halfopen --connect "127.0.0.1:$PORT_f" --count 1000 \
    --bind 127.0.0.2 --hold 10 >"$T/half.json" 2>"$T/half.err" &
hp=$!
i=0
while :; do
	ok "$WEFT" status --data-dir "$T/f" --json
	[ "$(json_num handshaking)" -ge 900 ] && break
	i=$((i + 1)); [ $i -gt 100 ] && die "flood never reached f"
	sleep 0.05
done
rss1=$(rss)
[ -n "$rss0" ] && [ -n "$rss1" ] || die "cannot read the agent's RSS"
[ $((rss1 - rss0)) -lt 49152 ] || die "RSS grew by $((rss1 - rss0)) kB with 1000 pending handshakes"
wait $hp || { cat "$T/half.err" >&2; die "halfopen probe failed"; }
cat "$T/half.json" >"$T/out"
has '"opened":1000'
has '"closed_immediately":0'
has '"closed_later":1000'
has '"still_open":0'
min=$(json_num close_min_ms)
[ "$min" -ge 2500 ] || die "a half-open connection closed after $min ms, before the 3 s deadline"
ok "$WEFT" status --data-dir "$T/f" --json
[ "$(json_num timeouts)" -ge 1000 ] || die "deadline closes not counted"
[ "$(json_num handshaking)" -eq 0 ] || die "handshakes left over on f"
echo "t_agent: 1000 half-open connections: RSS $rss0 -> $rss1 kB" >&2
stop f

# 8. A peer that sends but does not read: the queue stays capped, reading
# pauses, and the session is closed after the stall timeout.
"$WEFT_PROBE" slowreader --connect "127.0.0.1:$PORT_a" --data-dir "$T/c" \
    --seconds 8 >"$T/slow.json" 2>"$T/slow.err" &
sp=$!
sleep 2
ok "$WEFT" peers --data-dir "$T/a" --json
q=$(tr '{' '\n' <"$T/out" | grep '"node":"c"' | sed -n 's/.*"queued":\([0-9]*\).*/\1/p')
[ -n "$q" ] && [ "$q" -le $((256 * 1024 + 320 * 1024)) ] || die "queue for the slow reader: ${q:-none}"
tr '{' '\n' <"$T/out" | grep '"node":"c"' | grep -q '"paused":true' || die "reading not paused"
still_serving
wait $sp || { cat "$T/slow.err" >&2; die "slowreader probe failed"; }
cat "$T/slow.json" >"$T/out"
has '"closed_by_peer":true'
wait_log a "\(node c\) closed: slow peer: session: peer read none"
still_serving

# 9. Clean shutdown of everyone; the peer notices.
stop g
stop b
wait_log a "session with 127.0.0.1:[0-9]+ \(node b\) closed by peer"
stop a
exit 0
