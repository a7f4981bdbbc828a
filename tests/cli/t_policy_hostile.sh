# The adversarial asker (issue 13): a node whose software ignores
# policies sends raw fragments straight to the owner (weft-probe qopen,
# bypassing any planner). The fragments are real ones, captured at the
# owner (WEFT_TRACE_FRAGMENTS) while the products had no policy; then
# the owner sets its policies and the probe replays each, as node h of
# org globex or node r of org acme (not granted):
#   ops.flights: globex may read origin, delay, distance;
#   ops.legs:    globex, aggregates only, groups of at least 2.
# Each is refused, or answered within the threshold, and each is in the
# owner's audit log: 0 bypasses.
. "$(dirname "$0")/lib.sh"
: "${WEFT_PROBE:?WEFT_PROBE must point at weft-probe}"
mesh_test_init

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in o q; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh hostile
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub"
done
for n in g h; do # h: the probe's node of globex (no agent)
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/globex.key" --name $n --mesh hostile
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/acme.pub"
done
ok "$WEFT" init --data-dir "$T/r" --org "$T/acme.key" --name r --mesh hostile # of acme
cat >"$T/flights.csv" <<'E'
origin,destination,delay,distance
AMS,JFK,12,5850
AMS,LHR,-3,370
CDG,JFK,45,5830
CDG,AMS,0,400
LHR,JFK,7,5540
LHR,AMS,80,370
E
printf 'code,city\nAMS,Amsterdam\nCDG,Paris\nLHR,London\nJFK,New York\n' >"$T/airports.csv"
for p in flights legs; do
	ok "$WEFT" publish --data-dir "$T/o" ops.$p "$T/flights.csv" --visibility globex
done
ok "$WEFT" publish --data-dir "$T/g" ref.airports "$T/airports.csv"
export WEFT_TRACE_FRAGMENTS="$T/frags"
agent_start o
unset WEFT_TRACE_FRAGMENTS
agent_start q --join "$ADDR_o"
agent_start g --join "$ADDR_o"
known() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"name\":\"acme.ops.$2\""; }
for n in g q; do
	until_ok 20 known $n legs || die "$n never learnt acme.ops.legs"
	until_ok 20 known $n flights || die "$n never learnt acme.ops.flights"
done

# capture NAME NODE SQL: run SQL from NODE without policies; NAME is
# then the index of the last fragment the owner received
nfrags() { n=$(grep -a -c '^fragment of ops\.' "$T/frags" 2>/dev/null); echo "${n:-0}"; }
more() { test "$(nfrags)" -gt "$before"; }
capture() {
	before=$(nfrags)
	ok "$WEFT" query --data-dir "$T/$2" --format csv "$3"
	until_ok 5 more || { ls -la "$T"; die "no fragment for $3"; }
	eval "$1=$(nfrags)"
}
capture sel g "SELECT destination FROM acme.ops.flights"
capture where g "SELECT origin FROM acme.ops.flights WHERE destination = 'JFK'"
capture group g "SELECT destination, count(*) FROM acme.ops.flights GROUP BY destination"
capture joinkey g "SELECT a.city FROM acme.ops.flights f JOIN ref.airports a ON a.code = f.destination WHERE f.delay > -100"
capture okcols g "SELECT origin, sum(delay) FROM acme.ops.flights GROUP BY origin"
capture rows g "SELECT origin, delay FROM acme.ops.legs"
capture unique g "SELECT delay, count(*) FROM acme.ops.legs GROUP BY delay"
capture small g "SELECT count(*) FROM acme.ops.legs WHERE origin = 'AMS' AND delay > 0"
capture fine g "SELECT origin, count(*), sum(delay) FROM acme.ops.legs GROUP BY origin"

cat >"$T/flights.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex]
    columns: [origin, delay, distance]
Y
cat >"$T/legs.yaml" <<'Y'
product: ops.legs
grants:
  - to: [globex]
    aggregate: {min_group: 2}
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/flights.yaml"
ok "$WEFT" policy set --data-dir "$T/o" ops.legs "$T/legs.yaml"

# replay NODE PRODUCT INDEX: the probe, as NODE, sends fragment INDEX
replay() {
	ok "$WEFT_PROBE" qopen --data-dir "$T/$1" --connect "$ADDR_o" --product "$2" \
	    --dump "$T/frags" --count "$3"
	grep -q "\"qend\":true" "$T/out" || { cat "$T/out" "$T/err" >&2; die "no QueryEnd for fragment $3"; }
}
refused() { # refused NODE PRODUCT INDEX PATTERN
	replay "$1" "$2" "$3"
	grep -Eq "\"qend_error\":\".*$4" "$T/out" || { cat "$T/out" >&2; die "fragment $3 of $2 not refused with /$4/"; }
}
answered() {
	replay "$1" "$2" "$3"
	grep -Eq '"qend_error":(null|"")' "$T/out" || { cat "$T/out" >&2; die "fragment $3 of $2 refused"; }
}
D='column \\"destination\\" is not granted to org globex'
refused h ops.flights "$sel" "$D"
refused h ops.flights "$where" "$D"
refused h ops.flights "$group" "$D"
refused h ops.flights "$joinkey" "$D"
answered h ops.flights "$okcols"
refused r ops.flights "$okcols" "grants the asking node \\(org acme\\) nothing"
refused h ops.legs "$rows" "allows aggregates only: the query must aggregate"
answered h ops.legs "$unique"
answered h ops.legs "$small"
answered h ops.legs "$fine"

# the audit log: every replay, and what the threshold did
audit() { "$WEFT" audit --data-dir "$T/o" --json >"$T/audit.json" 2>/dev/null; }
n_refused() { audit && test "$(grep -o '"outcome":"refused"' "$T/audit.json" | wc -l)" -ge 6; }
until_ok 10 n_refused || die "audit: not every refusal recorded: $(cat "$T/audit.json")"
# (records reach the log within a flush: wait for each)
has_rec() { audit && grep -q "\"product\":\"ops.legs\",[^}]*$1" "$T/audit.json"; }
# the group-by on a unique key: six groups folded into one remainder of 6
until_ok 10 has_rec '"rows":1,"groups":6,"groups_suppressed":6,' ||
    die "audit: the unique-key group-by was not folded"
# count over k-1 = 1 row: its one group suppressed, nothing sent
until_ok 10 has_rec '"rows":0,"groups":1,"groups_suppressed":1,' ||
    die "audit: the count over one row was not suppressed"
until_ok 10 has_rec '"rows":3,"groups":3,"groups_suppressed":0,' ||
    die "audit: the allowed group-by"
# the asking node's own planner (g reads gossiped policies): the same
# refusals before anything is sent, and EXPLAIN shows the grant
early() { ! "$WEFT" query --data-dir "$T/g" "$2" >"$T/out" 2>"$T/err" && grep -Eq "$1" "$T/err"; }
until_ok 20 early 'column "destination" is not granted to org globex' \
    "SELECT count(destination) FROM acme.ops.flights" || die "g did not refuse early: $(cat "$T/err")"
early "allows aggregates only: the query must aggregate" "SELECT origin FROM acme.ops.legs WHERE delay > 1" ||
    die "g: no early refusal for a row query of ops.legs: $(cat "$T/err")"
grep -q "refused a fragment of ops\.[a-z]* for node g " "$T/o.log" &&
    die "g sent a fragment its own planner should have refused"
ok "$WEFT" query --data-dir "$T/g" "EXPLAIN SELECT origin, sum(delay) FROM acme.ops.flights GROUP BY origin"
has "policy: version 1, grant at line 3; columns 3"
ok "$WEFT" query --data-dir "$T/g" "EXPLAIN SELECT origin, count(*) FROM acme.ops.legs GROUP BY origin"
has "policy: version 1, grant at line 3; aggregates only, groups of 2\+"
# the owner's policy as gossiped to g
ok "$WEFT" policy show --data-dir "$T/g" acme.ops.flights
has "^# policy of acme.ops.flights on node o, version 1 \(as gossiped here\)"
has "columns: \[origin, delay, distance\]"
ok "$WEFT" policy show --data-dir "$T/g" acme.ops.legs --json
has '^\[\{"org":"acme","node":"o","policy":\{"product":"ops.legs","version":1,'
bad "no policy of globex.ref.airports has reached this node" \
    "$WEFT" policy show --data-dir "$T/o" globex.ref.airports
grep -q "Sanitizer\|runtime error" "$T/o.log" && die "sanitizer report in the owner"
echo "policies: raw fragments from a hostile asker refused or thresholded at the owner, all audited"
