# Row predicates and masks enforced at the owner (issue 13), with real
# agents on 127.0.0.1. Org acme: node o hosts ops.flights, node q asks;
# org globex: node g asks and hosts ref.airports; the orgs linked only
# through their gateways ga and gb. The asking nodes'
# planners know nothing of policies: the owner rewrites each fragment to
# read the product as the grant shows it, as a view would:
#   SELECT <masked columns> FROM ops.flights WHERE <rows>
# and every answer is compared with PostgreSQL's answer over that view
# written as SQL, on a throw-away server (tests/cli/pglib.sh) loaded with
# the same CSV files (numbers to 1e-9 relative, rows as multisets unless
# ordered: tests/sql/cmp.awk, as t_sql_diff).
#
#   - rows: only rows the predicate (with requester_org()) admits, the
#     predicate reading a column the grant does not show (distance);
#     the asker's own filter never runs on a hidden row, not even to
#     fail on it (100 / delay over a hidden delay of 0);
#   - masks: round(-1) and truncate(day) equal the SQL they stand for;
#     hash gives 32 hex digits, equal values hash equal within a grant
#     (a self-join on the hashed column joins), no comparison reaches
#     the raw value (= 'JFK', a join with the asker's airports: nothing);
#     null and redact for another grant; a denied column stays denied.
#   - a predicate that parses but does not bind (an unknown function) is
#     refused at `policy set`, naming the line.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
sqldir=$(cd "$here/../sql" && pwd)
. "$here/pglib.sh"
mesh_test_init
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; pg_stop; rm -rf "$T"' EXIT INT TERM
pg_start
# the askers do not read gossiped policies: every check here is the owner's
export WEFT_TEST_POLICY_BLIND=1

# the two orgs meet only gateway to gateway (ga, gb): globex's fragments
# reach o through both, sealed end to end (as t_gateway.sh)
ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in o q ga; do
	role=""
	[ $n = ga ] && role="--role gateway"
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh rules $role
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub" --via-gateway
done
for n in g gb; do
	role=""
	[ $n = gb ] && role="--role gateway"
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/globex.key" --name $n --mesh rules $role
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/acme.pub" --via-gateway
done

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
ok "$WEFT" publish --data-dir "$T/o" ops.legs "$T/flights.csv" --visibility globex
printf 'passenger,origin,amount\np1,AMS,10\np1,AMS,20\np1,AMS,30\np2,CDG,5\np3,CDG,7\np4,LHR,1\np5,LHR,2\np6,LHR,3\n' >"$T/pax.csv"
ok "$WEFT" publish --data-dir "$T/o" ops.pax "$T/pax.csv" --visibility globex
ok "$WEFT" publish --data-dir "$T/g" ref.airports "$T/airports.csv"
# the same products in PostgreSQL, as weft typed them
cat >"$T/load.sql" <<E
CREATE SCHEMA ops;
CREATE TABLE ops.flights (origin text, destination text, delay bigint, distance bigint, date timestamp);
CREATE TABLE ops.legs (LIKE ops.flights);
CREATE TABLE ops.pax (passenger text, origin text, amount bigint);
\\copy ops.flights FROM '$T/flights.csv' WITH (FORMAT csv, HEADER true)
\\copy ops.legs FROM '$T/flights.csv' WITH (FORMAT csv, HEADER true)
\\copy ops.pax FROM '$T/pax.csv' WITH (FORMAT csv, HEADER true)
E
pg postgres -f "$T/load.sql" >"$T/load.log" 2>&1 || { cat "$T/load.log" >&2; die "loading PostgreSQL failed"; }

# a predicate that parses but does not bind is refused at set
cat >"$T/badfn.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex]
    rows: "nosuchfn(origin) = 1"
Y
bad "badfn.yaml:3.*nosuchfn" "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/badfn.yaml"

cat >"$T/rules.yaml" <<'Y'
product: ops.flights
grants:
  - to: [globex]
    columns: [origin, destination, delay, date]
    mask: {destination: hash, date: truncate(day), delay: round(-1)}
    rows: "distance > 1000 AND requester_org() = 'globex'"
  - to: [acme]
    mask: {origin: null, destination: redact}
    rows: "requester_org() = 'acme' AND delay >= 0"
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/rules.yaml"
cat >"$T/agg.yaml" <<'Y'
product: ops.legs
grants:
  - to: [globex]
    deny: [distance]
    aggregate: {min_group: 2, functions: [count, sum, avg]}
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.legs "$T/agg.yaml"
cat >"$T/pax.yaml" <<'Y'
product: ops.pax
grants:
  - to: [globex]
    deny: [passenger]
    aggregate: {min_group: 2, entity: passenger}
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.pax "$T/pax.yaml"

agent_start ga
agent_start o --join "$ADDR_ga"
agent_start q --join "$ADDR_ga"
agent_start gb --join "$ADDR_ga"
agent_start g --join "$ADDR_gb"
cat_has() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q '"name":"acme.ops.flights"'; }
until_ok 20 cat_has g || die "g never learnt acme.ops.flights"
until_ok 20 cat_has q || die "q never learnt acme.ops.flights"
legs_known() { "$WEFT" catalog --data-dir "$T/g" --json 2>/dev/null | grep -q '"name":"acme.ops.legs"'; }
until_ok 20 legs_known || die "g never learnt acme.ops.legs"

# view NODE SQL VIEW_SQL: NODE's answer to SQL equals PostgreSQL's answer
# to VIEW_SQL (the rule written out over the tables); in order when SQL
# has an ORDER BY
view() {
	pg postgres --csv -c "$3" >"$T/want" 2>"$T/pgerr" ||
		{ cat "$T/pgerr" >&2; die "PostgreSQL refused the view: $3"; }
	ok "$WEFT" query --data-dir "$T/$1" --format csv "$2"
	o=0
	case $2 in *"ORDER BY"*) o=1 ;; esac
	for f in want out; do
		awk -f "$sqldir/norm.awk" "$T/$f" >"$T/$f.n1" || die "bad CSV: $T/$f"
		if [ $o = 1 ]; then
			mv "$T/$f.n1" "$T/$f.n"
		else
			{ head -1 "$T/$f.n1"; tail -n +2 "$T/$f.n1" | LC_ALL=C sort; } >"$T/$f.n"
		fi
	done
	why=$(awk -v ORDERED=$o -f "$sqldir/cmp.awk" "$T/want.n" "$T/out.n")
	[ -z "$why" ] || { cat "$T/want" "$T/out" >&2; die "$1: $2: $why"; }
}
# one NODE SQL WANT: NODE's answer is the single line WANT after the header
one() {
	ok "$WEFT" query --data-dir "$T/$1" --format csv "$2"
	got=$(sed -n 2p "$T/out")
	[ "$(wc -l <"$T/out")" -eq 2 ] && echo "$got" | grep -Eq "^$3\$" ||
	    { cat "$T/out" >&2; die "$1: $2: want /$3/"; }
}

# globex reaches o only through the gateways
ok "$WEFT" query --data-dir "$T/g" --stats "SELECT count(*) FROM acme.ops.flights"
grep -q "fragment acme.ops.flights on node o (tunnel through gateways)" "$T/err" ||
	{ cat "$T/err" >&2; die "g's fragment did not go through the gateways"; }
G="FROM ops.flights WHERE distance > 1000"
view g "SELECT origin, delay, date FROM acme.ops.flights ORDER BY origin" \
    "SELECT origin, round(delay::numeric, -1)::bigint AS delay, date_trunc('day', date) AS date $G ORDER BY origin"
view g "SELECT count(*) FROM acme.ops.flights" "SELECT count(*) $G"
view g "SELECT origin, sum(delay), max(date) FROM acme.ops.flights GROUP BY origin ORDER BY origin" \
    "SELECT origin, sum(round(delay::numeric, -1)::bigint), max(date_trunc('day', date)) $G GROUP BY origin ORDER BY origin"
# hidden rows have a masked delay of 0: the asker's filter never sees them
view g "SELECT origin FROM acme.ops.flights WHERE 100 / delay > 0 ORDER BY origin" \
    "SELECT origin $G ORDER BY origin"
one g "SELECT destination, count(*) FROM acme.ops.flights GROUP BY destination" "[0-9a-f]{32},3"
one g "SELECT count(*) FROM acme.ops.flights WHERE destination = 'JFK'" "0"
one g "SELECT count(*) FROM acme.ops.flights f JOIN ref.airports a ON a.code = f.destination" "0"
one g "SELECT count(*) FROM acme.ops.flights f1 JOIN acme.ops.flights f2 ON f1.destination = f2.destination" "9"
bad 'column "distance" is not granted to org globex' \
    "$WEFT" query --data-dir "$T/g" "SELECT origin FROM acme.ops.flights WHERE distance < 1000"
# the hash is the owner's secret: not the plain text, not a key-less hash
ok "$WEFT" query --data-dir "$T/g" --format csv "SELECT DISTINCT destination FROM acme.ops.flights"
grep -q "JFK" "$T/out" && die "a hashed column shows its value"

A="FROM ops.flights WHERE delay >= 0"
view q "SELECT origin, destination, delay FROM ops.flights ORDER BY delay" \
    "SELECT NULL::text AS origin, '***' AS destination, delay $A ORDER BY delay"
view q "SELECT count(*) FROM ops.flights WHERE origin IS NULL" "SELECT count(*) $A"
view q "SELECT destination, count(*), sum(distance) FROM ops.flights GROUP BY destination" \
    "SELECT '***' AS destination, count(*), sum(distance) $A"

# aggregates only, groups of at least 2 (Snowflake's remainder: smaller
# groups fold into one with NULL keys, itself dropped below 2)
L="FROM ops.legs"
view g "SELECT origin, count(*), sum(delay), avg(delay) FROM acme.ops.legs GROUP BY origin ORDER BY origin" \
    "SELECT origin, count(*), sum(delay), avg(delay) $L GROUP BY origin ORDER BY origin"
# JFK 3, AMS 2 pass; LHR 1 folds into a remainder of 1: dropped
view g "SELECT destination, count(*), sum(delay) FROM acme.ops.legs GROUP BY destination ORDER BY destination" \
    "SELECT destination, count(*), sum(delay) $L GROUP BY destination HAVING count(*) >= 2 ORDER BY destination"
# every delay is unique: one remainder group of all six, keys NULL
view g "SELECT delay, count(*), sum(delay), avg(delay) FROM acme.ops.legs GROUP BY delay" \
    "SELECT NULL::bigint AS delay, count(*), sum(delay), avg(delay) $L"
# grouped by two keys: (AMS,JFK) (AMS,LHR) ... all single: the remainder
view g "SELECT origin, destination, count(*) FROM acme.ops.legs GROUP BY origin, destination" \
    "SELECT NULL::text AS origin, NULL::text AS destination, count(*) $L"
view g "SELECT count(*), sum(delay) FROM acme.ops.legs WHERE delay > 0" \
    "SELECT count(*), sum(delay) $L WHERE delay > 0"
# one row below k: suppressed, read as an aggregate over no rows
one g "SELECT count(*), sum(delay) FROM acme.ops.legs WHERE origin = 'AMS' AND delay > 0" "0,"
bad "allows aggregates only: the query must aggregate" \
    "$WEFT" query --data-dir "$T/g" "SELECT origin FROM acme.ops.legs"
bad "allows aggregates only, and not max" \
    "$WEFT" query --data-dir "$T/g" "SELECT origin, max(delay) FROM acme.ops.legs GROUP BY origin"
bad "allows aggregates only: the query must aggregate" \
    "$WEFT" query --data-dir "$T/g" "SELECT a.city, f.delay FROM acme.ops.legs f JOIN ref.airports a ON a.code = f.origin"
# a join the asker can answer from allowed groups (its planner pushes
# count(*) GROUP BY origin below the join): answered
one g "SELECT count(*) FROM acme.ops.legs f JOIN ref.airports a ON a.code = f.origin" "6"
bad 'column "distance" is not granted' \
    "$WEFT" query --data-dir "$T/g" "SELECT origin, sum(distance) FROM acme.ops.legs GROUP BY origin"
# DISTINCT aggregates are not pushed: the owner would send rows
bad "allows aggregates only: the query must aggregate" \
    "$WEFT" query --data-dir "$T/g" "SELECT count(DISTINCT origin) FROM acme.ops.legs"

# the owner's audit log holds every fragment: answered ones with their
# policy version and grant line, refusals with the reason, groups folded
# into a remainder counted
audit_has() { "$WEFT" audit --data-dir "$T/o" --json >"$T/audit.json" 2>/dev/null && grep -q "$1" "$T/audit.json"; }
until_ok 10 audit_has '"groups_suppressed":6' || die "no audit record of the remainder: $(cat "$T/audit.json")"
grep -q '"asker_org":"globex","asker_node":"[0-9a-f]*","product":"ops.flights","product_version":1,"policy_version":1,"grant_line":3,' "$T/audit.json" ||
    die "audit: no answered fragment of ops.flights under grant 3"
grep -q '"outcome":"refused","error":"denied by policy","reason":"ops.flights: column \\"distance\\" is not granted' "$T/audit.json" ||
    die "audit: no refusal of distance: $(grep -o '"reason":"[^"]*' "$T/audit.json" | head)"
grep -q '"asker_org":"acme",.*"product":"ops.flights",.*"grant_line":7,' "$T/audit.json" ||
    die "audit: no fragment of q under grant 7"
ok "$WEFT" audit --data-dir "$T/o" --refused --product ops.legs
has "must aggregate"
grep -q "answered" "$T/out" && die "audit --refused lists an answered fragment"

# entities: groups of at least 2 distinct passengers (AMS: 3 rows of one
# passenger, dropped: distinct entities do not add up into a remainder);
# the entity column itself is denied, yet counted at the owner
pax_known() { "$WEFT" catalog --data-dir "$T/g" --json 2>/dev/null | grep -q '"name":"acme.ops.pax"'; }
until_ok 20 pax_known || die "g never learnt acme.ops.pax"
view g "SELECT origin, count(*), sum(amount) FROM acme.ops.pax GROUP BY origin ORDER BY origin" \
    "SELECT origin, count(*), sum(amount) FROM ops.pax GROUP BY origin HAVING count(DISTINCT passenger) >= 2 ORDER BY origin"
view g "SELECT count(*), avg(amount) FROM acme.ops.pax WHERE amount > 1" \
    "SELECT count(*), avg(amount) FROM ops.pax WHERE amount > 1"
one g "SELECT count(*) FROM acme.ops.pax WHERE origin = 'AMS'" "0"
bad 'column "passenger" is not granted' \
    "$WEFT" query --data-dir "$T/g" "SELECT count(*) FROM acme.ops.pax GROUP BY passenger"

for n in o q g ga gb; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in agent $n"; }
done
echo "policies: row predicates and masks enforced at the owner, equal to their views"
