# The noise rule of a policy (issue 13), with real agents on 127.0.0.1:
# owner o (org acme) hosts ops.legs; g (org globex) and q (org acme) ask.
#
#   - a grant with noise answers aggregates only (count, sum, avg), each
#     noised (Laplace, checked statistically by test_noise): answers are
#     near the truth, and sums are of values clamped to the declared
#     bounds (one delay of a billion counts as 600);
#   - each answered query spends ε from the asking org's budget of the
#     period; once spent, refused with a message saying so; the budget
#     survives an agent restart; another org's budget is its own;
#   - sum over a column without bounds, max, and row queries are refused.
. "$(dirname "$0")/lib.sh"
mesh_test_init
# the askers do not read gossiped policies: every check here is the owner's
export WEFT_TEST_POLICY_BLIND=1

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in o q; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh noise
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub"
done
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh noise
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"

# 200 legs: delay i % 50, distance 100 * i; one delay of a billion
{
	echo "origin,delay,distance"
	i=1
	while [ $i -le 199 ]; do
		echo "A$((i % 4)),$((i % 50)),$((100 * i))"
		i=$((i + 1))
	done
	echo "A0,1000000000,5"
} >"$T/legs.csv"
ok "$WEFT" publish --data-dir "$T/o" ops.legs "$T/legs.csv" --visibility globex
cat >"$T/noise.yaml" <<'Y'
product: ops.legs
grants:
  - to: [globex]
    noise: {epsilon: 1, budget: 5, per: day, bounds: {delay: [0, 600]}}
  - to: [acme]
    noise: {epsilon: 0.5, budget: 1, per: week, bounds: {delay: [0, 600]}}
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.legs "$T/noise.yaml"

agent_start o
agent_start q --join "$ADDR_o"
agent_start g --join "$ADDR_o"
known() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q '"name":"acme.ops.legs"'; }
until_ok 20 known g || die "g never learnt acme.ops.legs"
until_ok 20 known q || die "q never learnt acme.ops.legs"

# near NODE SQL TRUE SLACK: the single number answered is within SLACK
near() {
	ok "$WEFT" query --data-dir "$T/$1" --format csv "$2"
	got=$(sed -n 2p "$T/out")
	awk -v g="$got" -v t="$3" -v s="$4" 'BEGIN { d = g - t; if (d < 0) d = -d; exit !(g != "" && d <= s) }' ||
	    die "$1: $2: $got is not within $4 of $3"
}
# count: scale 1 (ε 1, one state): |noise| <= 25 but once in e^25
near g "SELECT count(*) FROM acme.ops.legs WHERE distance > 0" 200 25
# sum of clamped delays: truth (0..49 four times, less 0, plus 600 for
# the billion); scale 600 / 0.5 = 1200: within 40000 but once in e^33
true_sum=$(awk 'BEGIN { s = 0; for (i = 1; i <= 199; i++) s += i % 50; print s + 600 }')
near g "SELECT sum(delay) FROM acme.ops.legs WHERE distance > 1" "$true_sum" 40000
near g "SELECT count(*) FROM acme.ops.legs WHERE distance > 2" 200 25
# refused before any ε is spent
bad "noise.*max cannot take.*count, sum and avg only" \
    "$WEFT" query --data-dir "$T/g" "SELECT max(delay) FROM acme.ops.legs"
bad "must be of a column the grant bounds \\(distance\\)" \
    "$WEFT" query --data-dir "$T/g" "SELECT sum(distance) FROM acme.ops.legs"
bad "allows aggregates only: the query must aggregate" \
    "$WEFT" query --data-dir "$T/g" "SELECT delay FROM acme.ops.legs"
near g "SELECT count(*) FROM acme.ops.legs WHERE distance > 3" 200 25
ok "$WEFT" query --data-dir "$T/g" --format csv \
    "SELECT origin, count(*), avg(delay) FROM acme.ops.legs WHERE distance > 4 GROUP BY origin"
[ "$(wc -l <"$T/out")" -eq 5 ] || die "grouped noise: $(cat "$T/out")"
# five spent: the sixth is refused, and stays refused across a restart
S="the noise budget of ops.legs for org globex is spent: 5 of 5"
bad "$S" "$WEFT" query --data-dir "$T/g" "SELECT count(*) FROM acme.ops.legs WHERE distance > 5"
kill -TERM "$PID_o"; wait "$PID_o" || die "o exited with $?"
agent_start o
until_ok 20 "$WEFT" query --data-dir "$T/q" --format csv \
    "SELECT count(*) FROM ops.legs WHERE distance > 6" || die "q: no answer after the restart"
until_ok 20 "$WEFT" status --data-dir "$T/g" || die "g"
bad "$S" "$WEFT" query --data-dir "$T/g" "SELECT count(*) FROM acme.ops.legs WHERE distance > 7"
# acme's own budget (1, ε 0.5 a query): q spent one above, one more, then refused
ok "$WEFT" query --data-dir "$T/q" --format csv "SELECT count(*) FROM ops.legs WHERE distance > 8"
bad "the noise budget of ops.legs for org acme is spent: 1 of 1" \
    "$WEFT" query --data-dir "$T/q" "SELECT count(*) FROM ops.legs WHERE distance > 9"

# the audit log records the ε each answer spent, and the refusals
audit_has() { "$WEFT" audit --data-dir "$T/o" --json >"$T/audit.json" 2>/dev/null && grep -q "$1" "$T/audit.json"; }
until_ok 10 audit_has '"asker_org":"acme",.*"epsilon":0.5,"outcome":"answered"' || die "audit: no ε of acme"
n=$(grep -o '"asker_org":"globex"[^}]*"epsilon":1,"outcome":"answered"' "$T/audit.json" | wc -l)
[ "$n" -eq 5 ] || die "audit: $n answers of globex spent ε 1, want 5"
grep -q '"outcome":"refused","error":"denied by policy","reason":"the noise budget of ops.legs for org globex is spent' "$T/audit.json" ||
    die "audit: no refusal for a spent budget"

for n in o q g; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in agent $n"; }
done
echo "policies: noise with clamped sums, budgets per org and period, kept across a restart"
