# Roles in policies (issue 13): `org:role` grants and
# requester_has_role() in row predicates, with real agents on 127.0.0.1.
# Org acme: o hosts ops.flights; a (certificate role auditor) and s (no
# role) ask. The owner takes the asker's roles from its node record
# (gossiped, signed with its certificate, verified again), the asker's
# planner from its own certificate: both agree.
#   - a matches the first grant (acme:auditor): every column, and a
#     predicate with requester_has_role('auditor') that keeps every row;
#   - s falls to the second (acme): origin only, rows of AMS only
#     (requester_has_role('auditor') is false for it);
#   - checked at the owner (askers blind) and at the askers.
. "$(dirname "$0")/lib.sh"
mesh_test_init

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" init --data-dir "$T/o" --org "$T/acme.key" --name o --mesh roles
ok "$WEFT" init --data-dir "$T/a" --org "$T/acme.key" --name a --mesh roles --role auditor
ok "$WEFT" init --data-dir "$T/s" --org "$T/acme.key" --name s --mesh roles
cat >"$T/flights.csv" <<'E'
origin,destination,delay
AMS,JFK,12
AMS,LHR,-3
CDG,JFK,45
LHR,AMS,80
E
ok "$WEFT" publish --data-dir "$T/o" ops.flights "$T/flights.csv"
cat >"$T/roles.yaml" <<'Y'
product: ops.flights
grants:
  - to: ["acme:auditor"]
    rows: "requester_has_role('auditor')"
  - to: [acme]
    columns: [origin]
    rows: "origin = 'AMS' OR requester_has_role('auditor')"
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.flights "$T/roles.yaml"

check() { # the answers of a and s, whoever judges
	ok "$WEFT" query --data-dir "$T/a" --format csv "SELECT count(*), count(destination) FROM ops.flights"
	has "^4,4$"
	ok "$WEFT" query --data-dir "$T/s" --format csv "SELECT origin, count(*) FROM ops.flights GROUP BY origin"
	has "^AMS,2$"
	[ "$(wc -l <"$T/out")" -eq 2 ] || die "s read rows beyond its predicate: $(cat "$T/out")"
	bad 'column "destination" is not granted to org acme' \
	    "$WEFT" query --data-dir "$T/s" "SELECT count(destination) FROM ops.flights"
}
# the owner judges: askers blind to policies
export WEFT_TEST_POLICY_BLIND=1
agent_start o
agent_start a --join "$ADDR_o"
agent_start s --join "$ADDR_o"
unset WEFT_TEST_POLICY_BLIND
# the owner needs a's node record (with its roles) before it can match
nodes_known() { "$WEFT" members --data-dir "$T/o" --json 2>/dev/null | grep -o '"state":"alive"' | wc -l | grep -q '^2$'; }
until_ok 20 nodes_known || die "o never learnt a and s"
learnt() { "$WEFT" query --data-dir "$T/a" --format csv "SELECT count(destination) FROM ops.flights" >/dev/null 2>&1; }
until_ok 20 learnt || die "a was never granted its role's columns"
check
grep -q "refused a fragment of ops.flights for node s of org acme: .*destination" "$T/o.log" ||
    die "the owner did not refuse s"
# the askers judge too (their planners read the policy and their roles)
kill -TERM "$PID_a" "$PID_s"; wait "$PID_a" "$PID_s" 2>/dev/null || :
agent_start a --join "$ADDR_o"
agent_start s --join "$ADDR_o"
pol_known() { "$WEFT" policy show --data-dir "$T/$1" acme.ops.flights >/dev/null 2>&1; }
until_ok 20 pol_known a || die "a never received the policy"
until_ok 20 pol_known s || die "s never received the policy"
n=$(grep -c "refused a fragment of ops.flights for node s" "$T/o.log")
check
[ "$(grep -c "refused a fragment of ops.flights for node s" "$T/o.log")" -eq "$n" ] ||
    die "s's own planner sent what its policy refuses"
for x in o a s; do
	grep -q "Sanitizer\|runtime error" "$T/$x.log" && die "sanitizer report in $x"
done
echo "policies: org:role grants and requester_has_role, at the owner and the asker"
