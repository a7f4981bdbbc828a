# Product policies enforced at the source (issue 13, first part), with
# real agents on 127.0.0.1. Org acme: node o hosts ops.flights (visible
# to globex) and node q asks; org globex: node g asks (trusted directly).
# The asking nodes' software knows nothing of policies: every check below
# is the owner's, on the fragment it received.
#
#   - without a policy, g reads every column;
#   - `policy set` refuses a document that does not bind (unknown column,
#     bad predicate), naming the line, and keeps the policy in force;
#   - with a grant to globex of some columns: g's queries over them equal
#     the owner's own answers; a denied column is refused wherever it
#     appears (SELECT, WHERE, GROUP BY, ORDER BY, a join key, count(col));
#     q (own org, no grant) is refused; each refusal is in the owner's
#     log, naming the asker;
#   - an expired grant grants nothing;
#   - show/list (text and --json), drop (g reads everything again), and
#     the policy survives an agent restart.
. "$(dirname "$0")/lib.sh"
mesh_test_init
# the askers do not read gossiped policies: every check here is the owner's
export WEFT_TEST_POLICY_BLIND=1

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in o q; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh pol
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub"
done
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh pol
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"

cat >"$T/flights.csv" <<'E'
origin,destination,delay,distance,date
AMS,JFK,12,5850,2026-01-03 10:00:00
AMS,LHR,-3,370,2026-01-03 11:00:00
CDG,JFK,45,5830,2026-01-04 09:30:00
CDG,AMS,0,400,2026-01-05 07:00:00
LHR,JFK,7,5540,2026-01-05 12:00:00
LHR,AMS,80,370,2026-01-06 18:00:00
E
printf 'code,city\nAMS,Amsterdam\nCDG,Paris\nLHR,London\nJFK,New York\n' >"$T/airports.csv"
ok "$WEFT" publish --data-dir "$T/o" ops.flights "$T/flights.csv" --visibility globex
ok "$WEFT" publish --data-dir "$T/g" ref.airports "$T/airports.csv"

agent_start o
agent_start q --join "$ADDR_o"
agent_start g --join "$ADDR_o"
cat_has() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q '"name":"acme.ops.flights"'; }
until_ok 20 cat_has g || die "g never learnt acme.ops.flights"
until_ok 20 cat_has q || die "q never learnt acme.ops.flights"

# ask NODE SQL: NODE's answer must equal the owner's own (--local)
ask() {
	ok "$WEFT" query --data-dir "$T/o" --local --format csv "$2"
	mv "$T/out" "$T/want"
	ok "$WEFT" query --data-dir "$T/$1" --format csv "$2"
	cmp -s "$T/out" "$T/want" || { diff "$T/out" "$T/want" >&2; die "$1: wrong answer: $2"; }
	[ "$(wc -l <"$T/out")" -ge 2 ] || die "$1: no rows: $2"
}
# denied NODE PATTERN SQL: refused by the owner with PATTERN
denied() {
	bad "$2" "$WEFT" query --data-dir "$T/$1" --format csv "$3"
}
# denied_soon NODE PATTERN SQL: the same once NODE has learnt the owner's
# new policy by gossip: until then its result cache may still answer
# what the old policy allowed (the cache is keyed by the policies it
# knows of the owner); never refused: the cache went on answering
refused_now() {
	! "$WEFT" query --data-dir "$T/$1" --format csv "$3" >"$T/out" 2>"$T/err" &&
	    grep -Eq "$2" "$T/err"
}
denied_soon() {
	until_ok 20 refused_now "$@" || denied "$@"
	denied "$@"
}

# no policy: all of it
ask g "SELECT origin, destination, date FROM acme.ops.flights ORDER BY date"
ok "$WEFT" policy list --data-dir "$T/o"
grep -q "no policies" "$T/out" || die "policy list without policies"
bad "no policy is set for ops.flights" "$WEFT" policy show --data-dir "$T/o" ops.flights

# documents that do not bind are refused, naming the line
cat >"$T/badcol.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex]
    columns: [origin, delay]
  - to: [globex]
    columns: [origin, gate]
Y
bad "badcol.yaml:5.*gate" "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/badcol.yaml"
cat >"$T/badpred.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex]
    rows: "distance >> > 100"
Y
bad "badpred.yaml:3" "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/badpred.yaml"
bad "not ops.other|no product" "$WEFT" policy set --data-dir "$T/o" ops.other "$T/badcol.yaml"

# a grant of some columns to globex
cat >"$T/cols.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex]
    columns: [origin, delay, distance]
    expires: 2099-01-01T00:00:00Z
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/cols.yaml"
grep -q "policy of ops.flights set: version 1, 1 grant$" "$T/out" || die "policy set: $(cat "$T/out")"
ok "$WEFT" policy show --data-dir "$T/o" ops.flights --json
grep -q '"product":"ops.flights","version":1,' "$T/out" || die "policy show --json: $(cat "$T/out")"
grep -q '"columns":\["origin","delay","distance"\]' "$T/out" || die "policy show --json columns: $(cat "$T/out")"
ok "$WEFT" policy show --data-dir "$T/o" ops.flights
grep -q "distance" "$T/out" || die "policy show: $(cat "$T/out")"
ok "$WEFT" policy list --data-dir "$T/o" --json
grep -q '\[{"product":"ops.flights","version":1}\]' "$T/out" || die "policy list --json: $(cat "$T/out")"

ask g "SELECT origin, sum(delay), max(distance) FROM acme.ops.flights GROUP BY origin ORDER BY origin"
ask g "SELECT origin, delay FROM acme.ops.flights WHERE distance > 1000 ORDER BY delay"
ask g "SELECT count(*) FROM acme.ops.flights"
D='column "destination" is not granted to org globex'
denied g "$D" "SELECT destination FROM acme.ops.flights"
denied g "$D" "SELECT origin FROM acme.ops.flights WHERE destination = 'JFK'"
denied g "$D" "SELECT count(*) FROM acme.ops.flights GROUP BY destination"
denied g "$D" "SELECT origin FROM acme.ops.flights ORDER BY destination"
denied g "$D" "SELECT count(destination) FROM acme.ops.flights"
denied g "$D" "SELECT a.city FROM acme.ops.flights f JOIN ref.airports a ON a.code = f.destination"
denied g 'column "destination" is not granted' "SELECT * FROM acme.ops.flights"
denied g 'column "date" is not granted' "SELECT origin FROM acme.ops.flights WHERE date > '2026-01-04'"
# the join on a granted column works
ask_join="SELECT a.city, sum(f.delay) FROM acme.ops.flights f JOIN ref.airports a ON a.code = f.origin GROUP BY a.city ORDER BY a.city"
ok "$WEFT" query --data-dir "$T/g" --format csv "$ask_join"
[ "$(sed -n 2p "$T/out")" = "Amsterdam,9" ] || die "join on a granted column: $(cat "$T/out")"
# the own org needs a grant too
denied q "grants the asking node \\(org acme\\) nothing" "SELECT count(*) FROM ops.flights"
# the owner logged the refusals, naming the askers
until_ok 5 grep -q "refused a fragment of ops.flights for node g of org globex: .*destination" "$T/o.log" ||
    die "the owner did not log g's refusal"
grep -q "refused a fragment of ops.flights for node q of org acme" "$T/o.log" ||
    die "the owner did not log q's refusal"

# a refused document keeps the policy in force
bad "gate" "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/badcol.yaml"
ok "$WEFT" policy show --data-dir "$T/o" ops.flights --json
grep -q '"version":1,' "$T/out" || die "a refused set changed the policy"

# an expired grant grants nothing
cat >"$T/old.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex, acme]
    expires: 2020-01-01T00:00:00Z
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/old.yaml"
denied_soon g "grants the asking node \\(org globex\\) nothing" "SELECT count(*) FROM acme.ops.flights"

# survives a restart
kill -TERM "$PID_o"; wait "$PID_o" || die "o exited with $?"
agent_start o
denied_soon g "grants the asking node \\(org globex\\) nothing" "SELECT count(*) FROM acme.ops.flights"

# dropped: all of it again
ok "$WEFT" policy drop --data-dir "$T/o" ops.flights --json
grep -q '"dropped":"ops.flights","version":3' "$T/out" || die "policy drop --json: $(cat "$T/out")"
bad "no policy is set for ops.flights" "$WEFT" policy drop --data-dir "$T/o" ops.flights
until_ok 20 "$WEFT" query --data-dir "$T/g" "SELECT count(*) FROM acme.ops.flights" ||
    die "g is still refused after the drop"
ask g "SELECT origin, destination, date FROM acme.ops.flights ORDER BY date"
ask q "SELECT destination, count(*) FROM ops.flights GROUP BY destination ORDER BY destination"

for n in o q g; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in agent $n"; }
done
echo "policies: columns enforced at the owner, refusals logged, set/show/list/drop"
