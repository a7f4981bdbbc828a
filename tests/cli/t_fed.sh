# Federated SQL with real agents on 127.0.0.1 (issue 12). Org acme: node
# a hosts shop.events (and shop.big, 300,000 rows, for long scans), node b
# hosts shop.regions, node q hosts nothing and asks. Org globex (trusted
# directly, not through gateways): node g. Node ref (no agent) holds
# copies of events and regions: the reference answers.
#
# From q: group-by, filter, ORDER BY/LIMIT, a join across a and b, a
# self-join give exactly the answers of the same query run on one node;
# EXPLAIN places each scan, EXPLAIN ANALYZE counts each remote scan's
# rows; --stats names the versions read; an owner's error (quoting data
# with a tab and a newline) comes back as it is and the session stays;
# --timeout; a globex node is refused a product whose visibility acme
# narrowed to its own org, and the owner's log names it; a name two orgs
# publish is ambiguous; an owner killed mid-query gives a clear error
# long before the deadline and q serves on; without q's agent, a remote
# name says where it is hosted.
. "$(dirname "$0")/lib.sh"
: "${WEFT_GEN:?WEFT_GEN must point at weft-gen}"
mesh_test_init
start() { agent_start "$@"; }
stop() {
	eval "p=\$PID_$1"
	kill -TERM "$p"
	wait "$p" || die "agent $1 exited with $? after SIGTERM"
	check_log "$1"
}
check_log() {
	grep -q "Sanitizer\|runtime error" "$T/$1.log" && { cat "$T/$1.log" >&2; die "sanitizer report in agent $1"; }
	return 0
}
# cat_has NODE ORG.DOMAIN.PRODUCT VERSION: NODE's catalog lists it
cat_has() {
	"$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null |
	    grep -q "\"name\":\"$2\",[^{}]*\"version\":$3,"
}
# q_csv DIR SQL: the CSV answer of DIR (its agent if one runs) in $T/out
q_csv() { ok "$WEFT" query --data-dir "$T/$1" --format csv "$2"; }
# same SQL OTHER [--local]: q's answer equals OTHER's, byte for byte
same() {
	q_csv q "$1"
	mv "$T/out" "$T/ans.q"
	ok "$WEFT" query --data-dir "$T/$2" --format csv ${3:-} "$1"
	cmp -s "$T/ans.q" "$T/out" || { diff "$T/ans.q" "$T/out" | head >&2; die "q and $2 differ: $1"; }
	[ "$(wc -l <"$T/out")" -ge 2 ] || die "no rows: $1"
}

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in a b q ref; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh fed
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub"
done
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh fed
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"

ok "$WEFT_GEN" --rows 2000 --out "$T/ev.csv"
ok "$WEFT_GEN" --table regions --out "$T/rg.csv"
ok "$WEFT_GEN" --rows 300k --seed 2 --out "$T/big.csv"
printf 'k,v\n1,"x\ty\nz"\n2,5\n' >"$T/tabs.csv"
printf 'id\n1\n2\n' >"$T/two.csv"
ok "$WEFT" publish --data-dir "$T/a" shop.events "$T/ev.csv"
ok "$WEFT" publish --data-dir "$T/a" shop.big "$T/big.csv"
ok "$WEFT" publish --data-dir "$T/a" shop.tabs "$T/tabs.csv"
ok "$WEFT" publish --data-dir "$T/a" shop.shared "$T/two.csv" --visibility globex
ok "$WEFT" publish --data-dir "$T/b" shop.regions "$T/rg.csv"
ok "$WEFT" publish --data-dir "$T/ref" shop.events "$T/ev.csv"
ok "$WEFT" publish --data-dir "$T/ref" shop.regions "$T/rg.csv"

start a
start b --join "$ADDR_a"
start q --join "$ADDR_a"
start g --join "$ADDR_a"
for p in shop.events shop.big shop.tabs; do
	until_ok 20 cat_has q "acme.$p" 1 || die "q never learnt acme.$p"
done
until_ok 20 cat_has q acme.shop.regions 1 || die "q never learnt acme.shop.regions"
until_ok 20 cat_has g acme.shop.shared 1 || die "g never learnt acme.shop.shared"

# 1. Answers: single-owner queries as the owner answers them locally,
# queries over both owners as one node holding both answers them.
same "SELECT category, count(*), sum(amount), min(ts), max(region) FROM shop.events GROUP BY category ORDER BY category" a --local
same "SELECT user_id, amount, category FROM shop.events WHERE amount > 900 AND category LIKE 'b%' ORDER BY user_id, amount" a --local
same "SELECT category, count(*) FROM shop.events GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3 OFFSET 2" a --local
same "SELECT ts, user_id, amount FROM shop.events ORDER BY amount DESC, ts LIMIT 5" a --local
same "SELECT r.country, count(*), sum(e.amount), min(r.population) FROM shop.events e JOIN shop.regions r ON e.region = r.region GROUP BY 1 ORDER BY 1" ref
same "SELECT e.user_id, e.amount, r.country FROM shop.events e JOIN shop.regions r ON e.region = r.region WHERE r.score > 50 ORDER BY e.amount DESC, e.user_id LIMIT 7" ref
same "SELECT x.category, count(*) FROM shop.events x JOIN shop.events y ON x.user_id = y.user_id AND x.ts < y.ts GROUP BY 1 ORDER BY 1" ref
same "SELECT x.category, count(*) FROM shop.events x JOIN shop.events y ON x.user_id = y.user_id AND x.ts < y.ts GROUP BY 1 ORDER BY 1" a --local
grep -q "query: fragment of shop.events for node q of org acme: [0-9]* rows" "$T/a.log" ||
    die "the owner's log does not name the asker"

# 2. EXPLAIN shows where each scan runs; --stats the versions read.
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN SELECT r.country, count(*) FROM shop.events e JOIN shop.regions r ON e.region = r.region GROUP BY 1"
has "Remote Scan acme.shop.events on node a \(version 1, 2000 rows; direct session\)"
has "Remote Scan acme.shop.regions on node b \(version 1, 3000 rows; direct session\)"
# the owner of events groups by the join key first (plan_eager.c)
has "Remote Scan acme.shop.events .* partial aggregate: keys \[region\]"
# EXPLAIN ANALYZE runs it: a remote scan's actual rows are the rows its
# owner sent (ref counts them), the join's the pairs; what came over the
# wire, and by which route, under each remote scan. regions is filtered,
# so its keys filter the events fragment (plan_dynf.c): a sends only the
# events that join (region is regions' key: one pair per such event).
J="FROM shop.events e JOIN shop.regions r ON e.region = r.region WHERE r.score > 50"
q_csv ref "SELECT count(*) FROM shop.regions r WHERE r.score > 50"
nr=$(tail -1 "$T/out")
q_csv ref "SELECT count(*) $J"
nj=$(tail -1 "$T/out")
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN ANALYZE SELECT e.user_id, r.country $J"
has "Remote Scan acme.shop.regions on node b .*score > .*\(actual rows=$nr loops=1 time=[0-9.]+ ms\)"
has "Remote Scan acme.shop.events on node a .*dynamic filter: region IN .*\(actual rows=$nj loops=1 time=[0-9.]+ ms\)"
has "Inner Hash Join .*\(actual rows=$nj loops=1 time=[0-9.]+ ms\)"
[ "$(grep -Ec '^ +Received: batches=[1-9][0-9]* bytes=[1-9][0-9]* first=[0-9.]+ ms waited=[0-9.]+ ms; (direct session|result cache); version 1 read' "$T/out")" -eq 2 ] ||
    { cat "$T/out" >&2; die "EXPLAIN ANALYZE: what came over the wire"; }
has "^ Execution Time: [0-9.]+ ms"
ok "$WEFT" query --data-dir "$T/q" --stats "SELECT count(*) FROM shop.events e JOIN shop.regions r ON e.region = r.region"
# (events arrive grouped by region: fewer rows than it holds)
grep -Eq "fragment acme.shop.events on node a \(direct session\): version 1, [0-9]+ rows" "$T/err" || { cat "$T/err" >&2; die "--stats: events"; }
grep -q "fragment acme.shop.regions on node b (direct session): version 1, 3000 rows" "$T/err" || { cat "$T/err" >&2; die "--stats: regions"; }
ok "$WEFT" publish --data-dir "$T/a" shop.events "$T/ev.csv" --append
ok "$WEFT" publish --data-dir "$T/ref" shop.events "$T/ev.csv" --append
until_ok 20 cat_has q acme.shop.events 2 || die "q never learnt shop.events version 2"
SELF="SELECT count(*), sum(x.amount) FROM shop.events x JOIN shop.events y ON x.user_id = y.user_id AND x.ts = y.ts"
same "$SELF" ref
ok "$WEFT" query --data-dir "$T/q" --stats "$SELF"
# (the same query ran above: the result cache may answer, at version 2)
# Both sides live on a: the whole join runs there (subplan.c), one
# fragment, the join's result the only thing that travels.
[ "$(grep -Ec 'fragment acme.shop.events \(a plan of 2 scans\) on node a \((direct session|result cache)\): version 2, 1 rows' "$T/err")" -eq 1 ] ||
    { cat "$T/err" >&2; die "--stats: a self-join is one plan on a, at version 2"; }
[ "$(grep -c '^fragment' "$T/err")" -eq 1 ] || { cat "$T/err" >&2; die "--stats: more than one fragment for a self-join"; }
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN $SELF"
has "Remote Plan on node a \(org acme, [0-9]* bytes; direct session\)"
[ "$(grep -c "Scan shop.events (version 2)" "$T/out")" -eq 2 ] || { cat "$T/out" >&2; die "EXPLAIN: the plan's two scans"; }
grep -q "Remote Scan" "$T/out" && { cat "$T/out" >&2; die "EXPLAIN: a remote scan beside the plan"; }
# EXPLAIN ANALYZE: the plan's one row came back from a; its steps ran
# there (no figures of theirs)
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN ANALYZE $SELF"
has "^ +Remote Plan on node a .*\(actual rows=1 loops=1 time=[0-9.]+ ms\)"
has "^ +Received: batches=1 bytes=[1-9][0-9]* .*; version 2 read"
grep "Scan shop.events (version 2)" "$T/out" | grep -q "actual" && { cat "$T/out" >&2; die "EXPLAIN ANALYZE: figures for a step run on a"; }
# joins, groups, sorts and limits over a's products: answers as one node
# holding both gives them, each a single plan on a
PUSHED="SELECT x.category, count(*), max(y.amount) FROM shop.events x JOIN shop.events y ON x.user_id = y.user_id AND x.ts < y.ts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 4"
same "$PUSHED" ref
same "SELECT x.user_id, y.amount FROM shop.events x LEFT JOIN shop.events y ON x.user_id = y.user_id AND y.amount > 990 ORDER BY 1, 2 NULLS FIRST LIMIT 20" ref
same "SELECT category FROM shop.events WHERE amount < 10 UNION SELECT category FROM shop.events WHERE amount > 990 ORDER BY 1" ref
until_ok 10 grep -q "query: fragment of shop.events (a plan of 2 scans) for node q of org acme: 4 rows" "$T/a.log" ||
    die "a's log does not show the plan it ran for q"
# Dynamic filters (plan_dynf.c): regions, filtered on b, is read first and
# its keys go into the events fragment to a (all of org acme): a sends
# only rows that join, and the answer is the one node's.
DYN="SELECT e.user_id, e.amount, r.country FROM shop.events e JOIN shop.regions r ON e.region = r.region WHERE r.score > 99 ORDER BY 1, 2, 3"
same "$DYN" ref
ok "$WEFT" query --data-dir "$T/q" "EXPLAIN $DYN"
has "Remote Scan acme.shop.events on node a .* dynamic filter: region IN \(the join's build keys\)"
ok "$WEFT" query --data-dir "$T/q" --stats --format csv "$DYN LIMIT 100000"
n=$(sed -n 's/^fragment acme.shop.events on node a ([a-z ]*): version 2, \([0-9]*\) rows.*/\1/p' "$T/err")
[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt 400 ] || { cat "$T/err" >&2; die "dynamic filter: a sent ${n:-?} of 4000 event rows"; }

# 3. Without the agent, a remote name says where it is hosted.
bad 'relation "shop.events" is hosted on node a of org acme; start `weft agent` to query the mesh' \
    "$WEFT" query --data-dir "$T/q" --local "SELECT count(*) FROM shop.events"

# 4. The owner's error comes back as the engine wrote it (a tab and a
# newline of the data as spaces), on one line of the owner's log, and the
# session carries on.
bad 'acme.shop.tabs on node a: invalid input syntax for type bigint: "x y z"$' \
    "$WEFT" query --data-dir "$T/q" "SELECT v::bigint FROM shop.tabs"
grep -q 'query: fragment of shop.tabs for node q of org acme: 0 rows in [0-9.]* ms: invalid input syntax for type bigint: "x y z"$' "$T/a.log" ||
    die "the owner's log line for shop.tabs"
grep -q "bad frame" "$T/q.log" && die "q closed a session on a bad frame"
q_csv q "SELECT sum(k) FROM shop.tabs"
has "^3$"

# 5. --timeout: a scan the owner cannot finish in time.
X="upper(ts::text || category || region) LIKE '%ZZZ%' OR lower(region || ts::text || category) LIKE '%zzz%'"
SLOW="SELECT count(*) FROM shop.big WHERE $X OR $X OR $X OR $X"
t0=$(date +%s)
bad "timed out waiting for acme.shop.big on node a" "$WEFT" query --data-dir "$T/q" --timeout 1 "$SLOW"
[ $(($(date +%s) - t0)) -le 4 ] || die "--timeout 1 took $(($(date +%s) - t0)) s"
# The owner stops at the cancel, mid-fragment, not when the scan ends.
# (the owner logs once its worker stopped: the asker's error may come
# first)
until_ok 10 grep -q "query: fragment of shop.big for node q .*: cancelled$" "$T/a.log" ||
    die "the owner did not report the fragment cancelled"
grep "query: fragment of shop.big for node q" "$T/a.log" | tail -1 >"$T/big.line"
ms=$(sed -n 's/.* rows in \([0-9]*\)\.[0-9] ms: cancelled$/\1/p' "$T/big.line")
[ -n "$ms" ] || { cat "$T/big.line" >&2; die "the owner did not report the fragment cancelled"; }
[ "$ms" -lt 1600 ] || die "the owner ran the cancelled fragment for $ms ms"
# A query whose time goes to q's own operators stops at the deadline too.
t0=$(date +%s)
bad "timed out \(the query's deadline passed\)" "$WEFT" query --data-dir "$T/q" --timeout 1 \
    "SELECT count(*) FROM shop.big x JOIN shop.regions r ON x.amount > r.score"
[ $(($(date +%s) - t0)) -le 4 ] || die "--timeout 1 on q's own work took $(($(date +%s) - t0)) s"

# 6. Visibility is checked by the owner: g was allowed shop.shared, then
# acme narrowed it to its own org; g still holds the old descriptor and
# asks, and is refused; a's log names g. What g never saw, it cannot name.
q_csv g "SELECT count(*) FROM acme.shop.shared"
has "^2$"
ok "$WEFT" publish --data-dir "$T/a" shop.shared "$T/two.csv" --replace --visibility org
until_ok 20 cat_has q acme.shop.shared 2 || die "q never learnt shop.shared version 2"
cat_has g acme.shop.shared 1 || die "g lost shop.shared version 1"
# (a query g has not asked before: the same one would be answered from
# g's result cache, which holds what version 1 gave it)
bad "acme.shop.shared on node a: no product shop.shared here for org globex" \
    "$WEFT" query --data-dir "$T/g" "SELECT count(*) FROM acme.shop.shared WHERE id > 1"
grep -q "warn query: refused a fragment of shop.shared for node g of org globex: no product shop.shared here for org globex" "$T/a.log" ||
    die "a's log does not name the refused asker"
bad 'relation "acme.shop.events" does not exist' \
    "$WEFT" query --data-dir "$T/g" "SELECT count(*) FROM acme.shop.events"

# 7. Two orgs publish shop.regions: the bare name is ambiguous, and each
# full name works.
ok "$WEFT" publish --data-dir "$T/g" shop.regions "$T/rg.csv" --visibility public
until_ok 20 cat_has q globex.shop.regions 1 || die "q never learnt globex.shop.regions"
bad 'relation "shop.regions" is ambiguous: it names .*acme.shop.regions \(node b\)' \
    "$WEFT" query --data-dir "$T/q" "SELECT count(*) FROM shop.regions"
grep -q 'globex.shop.regions (node g)' "$T/err" || { cat "$T/err" >&2; die "ambiguity lacks globex.shop.regions"; }
q_csv q "SELECT count(*) FROM globex.shop.regions g JOIN acme.shop.regions a ON g.region = a.region"
has "^3000$"
# No dynamic filter crosses orgs: globex's keys never go to a, nor
# acme's to g (issue #8, item 4); each side does what it can at home.
for s in "WHERE g.score > 99" "WHERE e.amount > 990"; do
	ok "$WEFT" query --data-dir "$T/q" "EXPLAIN SELECT count(*) FROM acme.shop.events e JOIN globex.shop.regions g ON e.region = g.region $s"
	has "Remote Scan globex.shop.regions on node g"
	grep -q "dynamic filter" "$T/out" && { cat "$T/out" >&2; die "a dynamic filter across orgs ($s)"; }
done

# 8. The owner dies mid-query: a clear error long before the deadline;
# q serves on, and still queries b.
t0=$(date +%s)
"$WEFT" query --data-dir "$T/q" --timeout 30 "$SLOW" >"$T/kill.out" 2>"$T/kill.err" &
qp=$!
sleep 1
kill -9 "$PID_a"
wait "$PID_a" 2>/dev/null
if wait $qp; then die "the query survived its owner"; fi
[ $(($(date +%s) - t0)) -le 10 ] || die "the error took $(($(date +%s) - t0)) s"
grep -Eq "acme.shop.big on node a: |node a of org acme" "$T/kill.err" || { cat "$T/kill.err" >&2; die "no clear error when the owner died"; }
ok "$WEFT" status --data-dir "$T/q"
has "^node: +q"
until_ok 20 sh -c "\"$WEFT\" members --data-dir \"$T/q\" | grep -q '^a .* failed'" || die "q never found a failed"
q_csv q "SELECT count(*) FROM acme.shop.regions"
has "^3000$"

# 9. q's agent stopped: a remote name says where it is hosted.
stop q
bad 'relation "shop.events" is hosted on node a of org acme; start `weft agent` to query the mesh' \
    "$WEFT" query --data-dir "$T/q" "SELECT count(*) FROM shop.events"

for n in b g; do stop $n; done
check_log a
exit 0
