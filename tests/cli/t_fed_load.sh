# Federated queries under load and faults, with real agents (release
# build, so the figures are not ASan's): an owner o hosting 1M events and
# four asking nodes of the same org (result cache off).
#   - 100 queries at once, 25 from each asker: every answer equals the
#     owner's own (--local) answer;
#   - an asker whose client stops reading: the owner's RSS stays bounded
#     (credit and a 4 MiB window per fragment);
#   - Ctrl-C on that client frees the owner's worker within 100 ms (its
#     log line "cancelled" against the moment of the signal);
#   - during a scan of 3M rows (1M three times) to an asker, the owner's
#     keepalive round trips (weft peers) stay under 50 ms: the scan runs
#     on the serving pool, not on the loop.
. "$(dirname "$0")/lib.sh"
: "${WEFT_REL:?WEFT_REL must point at the release weft}"
: "${WEFT_GEN:?WEFT_GEN must point at weft-gen}"
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
die() {
	for l in "$T"/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -8 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
ARGS="--gossip-interval 200ms --keepalive 200ms --cache-size 0"
start() {
	n=$1; shift
	"$WEFT_REL" agent --data-dir "$T/$n" --listen 127.0.0.1:0 $ARGS "$@" 2>>"$T/$n.log" &
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
	ok "$WEFT" status --data-dir "$T/$n" --json --wait 20
	eval "ADDR_$n=$(listen_addr)"
}
ms_now() { date +%s%3N; }
# log_ms LINE: the log line's timestamp in ms since the epoch
log_ms() { date -d "$(echo "$1" | cut -d' ' -f1)" +%s%3N; }
rss_kb() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }

ok "$WEFT" org create acme --out "$T/acme.key"
for n in o a1 a2 a3 a4; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh ld
done
"$WEFT_GEN" --rows 1M --seed 3 --out "$T/events.csv" || die "weft-gen"
ok "$WEFT_REL" publish --data-dir "$T/o" --quiet bench.events "$T/events.csv"
start o
for n in a1 a2 a3 a4; do start $n --join "$ADDR_o"; done
cat_has() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q '"name":"acme.bench.events"'; }
for n in a1 a2 a3 a4; do
	until_ok 20 cat_has $n || die "bench.events never reached $n"
done

SQL="SELECT category, count(*), sum(amount), min(user_id) FROM bench.events WHERE amount > 10 GROUP BY category ORDER BY category"
"$WEFT" query --data-dir "$T/o" --local --format csv "$SQL" >"$T/want" || die "local answer"
[ "$(wc -l <"$T/want")" -gt 3 ] || die "too small an answer"

# 100 at once
i=0
for n in a1 a2 a3 a4; do
	k=0
	while [ $k -lt 25 ]; do
		"$WEFT_REL" query --data-dir "$T/$n" --format csv --timeout 120 "$SQL" \
		    >"$T/got.$i" 2>"$T/err.$i" &
		eval "QP_$i=$!"
		i=$((i + 1)); k=$((k + 1))
	done
done
i=0
while [ $i -lt 100 ]; do
	eval "wait \$QP_$i" || { cat "$T/err.$i" >&2; echo "query $i:" >&2; die "concurrent query $i failed"; }
	cmp -s "$T/got.$i" "$T/want" || { diff "$T/got.$i" "$T/want" >&2; die "concurrent query $i: wrong answer"; }
	i=$((i + 1))
done
ok "$WEFT" status --data-dir "$T/o" --json
[ "$(json_num queries_served)" -ge 100 ] || die "the owner served $(json_num queries_served) fragments"

# a burst of queries of three fragments each from one asker: more than
# the owner runs for one node at once (8); "busy" fragments are asked
# again after a pause, so every query answers
U="SELECT count(*), sum(amount) FROM (SELECT amount FROM bench.events WHERE amount < 10 UNION ALL SELECT amount FROM bench.events WHERE amount < 20 UNION ALL SELECT amount FROM bench.events WHERE amount BETWEEN 5 AND 25) s"
"$WEFT" query --data-dir "$T/o" --local --format csv "$U" >"$T/uwant" || die "local union"
i=0
while [ $i -lt 16 ]; do
	"$WEFT_REL" query --data-dir "$T/a1" --format csv --timeout 120 "$U" \
	    >"$T/u.$i" 2>"$T/uerr.$i" &
	eval "UP_$i=$!"
	i=$((i + 1))
done
i=0
while [ $i -lt 16 ]; do
	eval "wait \$UP_$i" || { cat "$T/uerr.$i" >&2; die "burst query $i failed"; }
	cmp -s "$T/u.$i" "$T/uwant" || die "burst query $i: wrong answer"
	i=$((i + 1))
done
ok "$WEFT" status --data-dir "$T/a1" --json
echo "a1 asked $(json_num queries_asked) fragments for 25 + 16 x 3"

# a client that stops reading: the owner holds a few batches, no more
rss0=$(rss_kb $PID_o)
mkfifo "$T/fifo"
"$WEFT_REL" query --data-dir "$T/a1" --format csv --timeout 120 \
    "SELECT * FROM bench.events" >"$T/fifo" 2>"$T/stall.err" &
QP=$!
exec 7<"$T/fifo" # opened, never read: the client blocks once the pipe fills
sleep 3
rss1=$(rss_kb $PID_o)
grow=$(( (rss1 - rss0) / 1024 ))
echo "owner RSS with a stalled asker: $((rss0 / 1024)) -> $((rss1 / 1024)) MiB"
[ $grow -lt 64 ] || die "owner RSS grew $grow MiB for a stalled asker"
kill -0 $QP 2>/dev/null || die "the stalled query ended early"
grep -q "fragment of bench.events for node a1 .*cancelled" "$T/o.log" &&
    die "cancelled before Ctrl-C"

# Ctrl-C on it: the owner's worker is free within 100 ms
t0=$(ms_now)
kill -INT $QP
exec 7<&-
until_ok 10 grep -q "fragment of bench.events for node a1 .*cancelled" "$T/o.log" ||
    die "the owner never stopped the fragment"
t1=$(log_ms "$(grep "fragment of bench.events for node a1 .*cancelled" "$T/o.log" | tail -1)")
echo "owner's worker freed $((t1 - t0)) ms after Ctrl-C"
[ $((t1 - t0)) -lt 100 ] || die "the owner's worker was freed $((t1 - t0)) ms after Ctrl-C"
wait $QP 2>/dev/null

# pings during a full scan of 3 million rows (the product three times:
# one million alone streams in a few tenths of a second)
"$WEFT_REL" query --data-dir "$T/a2" --format csv --timeout 120 \
    "SELECT * FROM bench.events UNION ALL SELECT * FROM bench.events UNION ALL SELECT * FROM bench.events" \
    >/dev/null 2>"$T/scan.err" &
QP=$!
max=0 samples=0
while kill -0 $QP 2>/dev/null && [ $samples -lt 20 ]; do
	"$WEFT_REL" peers --data-dir "$T/o" --json >"$T/peers" 2>/dev/null || break
	for r in $(sed 's/"rtt_us":/\n&/g' "$T/peers" | sed -n 's/^"rtt_us":\([0-9]*\).*/\1/p'); do
		[ "$r" -gt "$max" ] && max=$r
	done
	samples=$((samples + 1))
	sleep 0.02
done
wait $QP || { cat "$T/scan.err" >&2; die "the full scan failed"; }
echo "owner's largest keepalive RTT during the scan: $((max / 1000)) ms ($samples samples)"
[ $samples -ge 2 ] || die "the scan ended before two samples"
[ $max -lt 50000 ] || die "keepalive RTT $((max / 1000)) ms during a scan"
exit 0
