# One model over two orgs' products, no row leaving its owner (issue 13,
# "insights without seeing the data"), with real agents on 127.0.0.1:
# acme's node a and globex's node g each host half of the same-shaped
# product ops.legs; acme's node q, which hosts nothing, fits
#   weft_linreg(delay, distance, hour)
# over their UNION ALL.
#
#   - the coefficients equal the fit of the whole data on one node (a
#     plain local store, no agent) to 1e-9 relative, and regr_slope,
#     corr and stddev over the union equal the local ones too;
#   - each owner's fragment sends one row (its state), never its rows
#     (--stats, which also shows globex's policy note: version, grant,
#     groups), and EXPLAIN shows the partial aggregation at each owner;
#   - globex's policy allows acme aggregates only, min_group 5, of the
#     functions weft_linreg, regr_slope, count: the fit is answered, a
#     row query and corr (not listed) are refused by the owner, and its
#     audit log records the fit with one group returned.
. "$(dirname "$0")/lib.sh"
mesh_test_init

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in a q; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh lr
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub"
done
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh lr
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"
ok "$WEFT" org create ref --out "$T/ref.key"
ok "$WEFT" init --mesh test --data-dir "$T/r" --org "$T/ref.key" --name r

# 600 legs: delay = 3 + 0.02 distance - 1.5 hour + a deterministic
# wiggle; every 37th leg has no hour (it drops out of the fit)
awk 'BEGIN {
	print "origin,delay,distance,hour"
	for (i = 1; i <= 600; i++) {
		d = (i * 7919) % 2000 + 50; h = (i * 31) % 24
		y = 3 + 0.02 * d - 1.5 * h + ((i * 104729) % 1000) / 250 - 2
		printf "A%d,%.4f,%d,%s\n", i % 3, y, d, (i % 37 == 0 ? "" : h)
	}
}' >"$T/all.csv"
head -301 "$T/all.csv" >"$T/half1.csv"
{ head -1 "$T/all.csv"; tail -n +302 "$T/all.csv"; } >"$T/half2.csv"
ok "$WEFT" publish --data-dir "$T/r" ops.legs "$T/all.csv"
ok "$WEFT" publish --data-dir "$T/a" ops.legs "$T/half1.csv"
ok "$WEFT" publish --data-dir "$T/g" ops.legs "$T/half2.csv" --visibility acme
cat >"$T/lr.yaml" <<'Y'
product: ops.legs
grants:
  - to: [acme]
    aggregate: {min_group: 5, functions: [weft_linreg, regr_slope, count]}
Y
ok "$WEFT" policy set --data-dir "$T/g" ops.legs "$T/lr.yaml"

agent_start a
agent_start g --join "$ADDR_a"
agent_start q --join "$ADDR_a"
known() { "$WEFT" catalog --data-dir "$T/q" --json 2>/dev/null | grep -q "\"name\":\"$1\""; }
until_ok 20 known acme.ops.legs || die "q never learnt acme.ops.legs"
until_ok 20 known globex.ops.legs || die "q never learnt globex.ops.legs"

U="SELECT delay, distance, hour FROM acme.ops.legs UNION ALL SELECT delay, distance, hour FROM globex.ops.legs"

# same A B: two CSV answers (header, one row) equal, numbers (also inside
# {a,b,c}) to 1e-9 relative
same() {
	awk -F'[,{}"]+' -v num='^-?[0-9.]+(e[-+]?[0-9]+)?$' 'NR == FNR { for (i = 1; i <= NF; i++) a[FNR, i] = $i; n[FNR] = NF; next }
	{
		if (NF != n[FNR]) { bad = 1; exit }
		for (i = 1; i <= NF; i++) {
			x = a[FNR, i]; y = $i
			if (x == y) continue
			if (x !~ num || y !~ num) { bad = 1; exit }
			d = x - y; if (d < 0) d = -d
			m = (x < 0 ? -x : x); if ((y < 0 ? -y : y) > m) m = (y < 0 ? -y : y)
			if (d > 1e-9 * m) { bad = 1; exit }
		}
	}
	END { exit bad }' "$1" "$2" || { cat "$1" "$2" >&2; die "answers differ"; }
}

# 1. the fit over the union equals the fit over the whole data
ok "$WEFT" query --data-dir "$T/r" --format csv \
    "SELECT weft_linreg(delay, distance, hour) FROM ops.legs"
cp "$T/out" "$T/want.csv"
grep -q '^"{' "$T/want.csv" || grep -q '^{' "$T/want.csv" || die "no fit: $(cat "$T/want.csv")"
ok "$WEFT" query --data-dir "$T/q" --format csv --stats \
    "SELECT weft_linreg(delay, distance, hour) FROM ($U) u"
cp "$T/out" "$T/got.csv"
same "$T/want.csv" "$T/got.csv"
# 2. one row from each owner: the state, not the rows
for o in "acme.ops.legs on node a" "globex.ops.legs on node g"; do
	grep -Eq "fragment $o \(direct session\): version 1, 1 rows" "$T/err" ||
	    { cat "$T/err" >&2; die "--stats: $o sent more than its state"; }
done
# the owner under a policy says which grant applied and what it kept
grep -q "the owner's policy version 1, grant at line 3: 1 group sent, 0 below the threshold folded away" "$T/err" ||
	{ cat "$T/err" >&2; die "--stats: globex's policy note"; }
[ "$(grep -c "the owner's policy" "$T/err")" -eq 1 ] ||
	{ cat "$T/err" >&2; die "--stats: a policy note from acme, which has no policy"; }
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN SELECT weft_linreg(delay, distance, hour) FROM ($U) u"
[ "$(grep -c 'Remote Scan .* partial aggregate: keys \[\] aggs \[weft_linreg(' "$T/out")" -eq 2 ] ||
	{ cat "$T/out" >&2; die "EXPLAIN: the fit is not at both owners"; }
# 3. one-regressor forms agree with the local ones (regr_slope is listed
# in globex's grant; grouped by origin: 3 groups of about 100 rows)
ok "$WEFT" query --data-dir "$T/r" --format csv \
    "SELECT origin, regr_slope(delay, distance), count(*) FROM ops.legs GROUP BY origin ORDER BY origin"
cp "$T/out" "$T/want.csv"
ok "$WEFT" query --data-dir "$T/q" --format csv \
    "SELECT origin, regr_slope(delay, distance), count(*) FROM (SELECT origin, delay, distance FROM acme.ops.legs UNION ALL SELECT origin, delay, distance FROM globex.ops.legs) u GROUP BY origin ORDER BY origin"
same "$T/want.csv" "$T/out"
# 4. the owner's policy holds: rows and unlisted functions are refused
bad "allows aggregates only" \
    "$WEFT" query --data-dir "$T/q" "SELECT delay FROM globex.ops.legs"
bad "allows aggregates only, and not corr" \
    "$WEFT" query --data-dir "$T/q" "SELECT corr(delay, distance) FROM ($U) u"
# its own org's product is under no policy: corr over acme's half alone
ok "$WEFT" query --data-dir "$T/q" --format csv \
    "SELECT corr(delay, distance) > 0.5 AS strong FROM acme.ops.legs"
has "^t$"
# 5. the owner's audit log: the fit answered, one group
until_ok 5 sh -c "\"$WEFT\" audit --data-dir \"$T/g\" --json | grep -q '\"outcome\":\"answered\"'" ||
	die "g's audit has no answered query"
ok "$WEFT" audit --data-dir "$T/g" --json
grep '"outcome":"answered"' "$T/out" | grep -q '"groups":1' ||
	{ cat "$T/out" >&2; die "audit: the fit's one group"; }
echo "t_linreg: ok"
