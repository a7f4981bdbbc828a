# weft profile (issue 13, "insights without seeing the data"), with real
# agents on 127.0.0.1: acme's node o hosts ops.free (no policy), ops.legs
# (a policy) and ops.noisy (a noise grant); acme's node q and globex's
# node g ask.
#
#   - a remote profile is computed by the owner: q's profile of ops.free
#     equals o's own (--local) one row for row, and the fragment sends
#     the profile's rows, not the product's 600 (--stats);
#   - under acme's grant, which hashes origin, the profile shows hashes
#     (min, max and common values), never a raw origin;
#   - under globex's aggregates-only grant (min_group 100) no min, max,
#     quantiles or histogram, a `withheld` row saying so, common values
#     only of 100 rows or more, NULLs withheld below 100; the owner's
#     audit records the profile;
#   - a noise grant refuses a profile, naming why; --columns and --where
#     narrow it; a bad product name is a usage error.
. "$(dirname "$0")/lib.sh"
mesh_test_init

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in o q; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh pf
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub"
done
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh pf
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"

# 600 legs: origin A0 300, A1 150, A2 90, A3 60; delay i % 97 (every
# 11th empty: 54 NULLs); distance 100 + i
awk 'BEGIN {
	print "origin,delay,distance"
	for (i = 1; i <= 600; i++) {
		o = i <= 300 ? "A0" : i <= 450 ? "A1" : i <= 540 ? "A2" : "A3"
		printf "%s,%s,%d\n", o, (i % 11 == 0 ? "" : i % 97), 100 + i
	}
}' >"$T/legs.csv"
for p in free legs noisy; do
	ok "$WEFT" publish --data-dir "$T/o" ops.$p "$T/legs.csv" --visibility globex
done
cat >"$T/legs.yaml" <<'Y'
product: ops.legs
grants:
  - to: [globex]
    aggregate: {min_group: 100, functions: [count, sum]}
  - to: [acme]
    mask: {origin: hash}
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.legs "$T/legs.yaml"
cat >"$T/noisy.yaml" <<'Y'
product: ops.noisy
grants:
  - to: [globex, acme]
    noise: {epsilon: 1, budget: 100, per: day, bounds: {delay: [0, 100]}}
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.noisy "$T/noisy.yaml"

agent_start o
agent_start q --join "$ADDR_o"
agent_start g --join "$ADDR_o"
known() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"name\":\"acme.ops.$2\""; }
for p in free legs noisy; do
	until_ok 20 known q $p || die "q never learnt acme.ops.$p"
	until_ok 20 known g $p || die "g never learnt acme.ops.$p"
done

# 1. computed at the owner: the same rows as the owner's own profile
ok "$WEFT" profile --data-dir "$T/o" --local --csv ops.free
cp "$T/out" "$T/want.csv"
grep -q '^origin,mcv,A0,,300$' "$T/want.csv" || die "o: A0's count: $(cat "$T/want.csv")"
grep -q '^delay,nulls,,,54$' "$T/want.csv" || die "o: delay's NULLs"
grep -q '^distance,min,,101,$' "$T/want.csv" || die "o: distance's min"
ok "$WEFT" profile --data-dir "$T/q" --csv --stats acme.ops.free
cmp -s "$T/out" "$T/want.csv" || { diff "$T/want.csv" "$T/out" >&2; die "q's profile differs from the owner's"; }
n=$(($(wc -l <"$T/want.csv") - 1))
grep -q "fragment acme.ops.free on node o (direct session): version 1, $n rows" "$T/err" ||
	{ cat "$T/err" >&2; die "--stats: the fragment did not send the profile's $n rows"; }
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN SELECT weft_profile(*) FROM acme.ops.free"
has "Remote Scan acme.ops.free on node o .* profile"

# 2. acme's grant hashes origin: hashes only
ok "$WEFT" profile --data-dir "$T/q" --csv acme.ops.legs
grep -q '^origin,mcv,[0-9a-f]\{32\},,300$' "$T/out" || { cat "$T/out" >&2; die "q: origin's hashed common value"; }
grep -q 'A[0-3]' "$T/out" && { cat "$T/out" >&2; die "q: a raw origin in a hashed profile"; }
grep -q '^delay,max,,96,$' "$T/out" || die "q: delay's max"

# 3. globex: aggregates only, groups of 100
ok "$WEFT" profile --data-dir "$T/g" --csv --stats acme.ops.legs
grep -q '^origin,rows,,,600$' "$T/out" || die "g: origin's rows"
grep -q '^origin,mcv,A0,,300$' "$T/out" || die "g: A0 (300 rows)"
grep -q '^origin,mcv,A1,,150$' "$T/out" || die "g: A1 (150 rows)"
grep -q '^origin,mcv,,,150$' "$T/out" || die "g: A2 and A3 (90 + 60) as one remainder"
grep -q 'A2\|A3' "$T/out" && die "g: a value of fewer than 100 rows"
grep -Eq '^[a-z]+,(min|max|quantile|histogram),' "$T/out" && { cat "$T/out" >&2; die "g: a value of single rows"; }
[ "$(grep -c '^[a-z]*,withheld,' "$T/out")" -eq 3 ] || die "g: withheld rows"
grep -q '^delay,nulls,' "$T/out" && die "g: 54 NULLs shown under min_group 100"
grep -q "the owner's policy version 1, grant at line 3" "$T/err" || { cat "$T/err" >&2; die "g: --stats policy note"; }
# the owner's audit: the profile answered for globex
until_ok 5 sh -c "\"$WEFT\" audit --data-dir \"$T/o\" --json --product ops.legs | grep -q '\"asker_org\":\"globex\".*\"outcome\":\"answered\"'" ||
	die "o's audit has no answered profile for globex"

# 4. noise: refused
bad "ops.noisy: the grant at line 3 adds noise, which a profile cannot take" \
    "$WEFT" profile --data-dir "$T/g" acme.ops.noisy
# 5. narrowed: two columns, some rows
ok "$WEFT" profile --data-dir "$T/q" --csv --columns distance,delay --where "distance > 600" acme.ops.free
grep -q '^distance,rows,,,100$' "$T/out" || { cat "$T/out" >&2; die "--where: distance rows"; }
grep -q '^origin,' "$T/out" && die "--columns: origin shown"
head -2 "$T/out" | tail -1 | grep -q '^distance,type' || die "--columns: order"
bad "is not a product name" "$WEFT" profile --data-dir "$T/q" 'a"b.c'
bad 'weft_profile\(\*\) must be the only item' \
    "$WEFT" query --data-dir "$T/q" "SELECT 1, weft_profile(*) FROM acme.ops.free"
for n in o q g; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in agent $n"; }
done
echo "t_profile: ok"
