# What the owners of a cross-org join receive (issue #8: "a cross-org
# join with default policies moves no row or key of either side to the
# other org"), with real agents. Orgs acme and globex link only through
# gateways (ga, gb). Node a0 of acme hosts sales.orders (shared with
# globex), node b0 of globex hosts crm.customers (shared with acme); a1
# (acme) and b1 (globex) host nothing and ask cross-org joins: inner,
# grouped, filtered on both sides, LEFT, RIGHT, anti- and semi-joins.
# Every value of either side carries its org's mark (AKEY7391/AVAL7391
# for acme, GKEY4826/GVAL4826 for globex, CK3344 for the keys they share)
# and each owner records every fragment it is asked to run, after a
# tunnel's decryption (WEFT_TRACE_FRAGMENTS, docs/hacking.md):
#   - every answer is the one node ref, holding copies of both tables,
#     gives (and the grouped join's counts and sums are also the ones awk
#     computes from the CSVs);
#   - --stats shows one fragment per owner, by the expected route, and
#     each owner recorded exactly one fragment, of its own product only,
#     per query;
#   - a0's record holds no value or key of globex's table (nor any shared
#     key), b0's none of acme's; a filter constant of each side reaches
#     that side's owner (so the record would show what came) and only
#     that one;
#   - after one side publishes new contents (new keys and values, the
#     same shape), the same queries send the other side's owner
#     byte-identical fragments (globex's side changed first, then
#     acme's): nothing the asker derives from one side's data (key
#     lists, Bloom filters, ranges, counts) rides in the other side's
#     fragment, whatever its encoding;
#   - the gateways' cores (WEFT_TRACE_INPUT) saw none of it in plaintext,
#     while the direct sessions' dumps show the same marks.
. "$(dirname "$0")/lib.sh"
mesh_test_init
AGENT_TRACE=1

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in ga a0 a1 ref gb b0 b1; do
	org=acme other=globex role=""
	case $n in gb | b*) org=globex other=acme ;; esac
	case $n in g*) role="--role gateway" ;; esac
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/$org.key" --name $n \
	    --mesh own $role
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/$other.pub" --via-gateway
done

# gen_orders GEN, gen_customers GEN: the two sides' CSVs; another GEN
# gives other keys and values, the same row counts and types
gen_orders() {
	awk -v g=$1 'BEGIN {
		print "order_id,cust,amount,region"
		for (i = 1; i <= 400; i++) {
			if (i % 5 == 0)
				c = sprintf("AKEY7391-%d-%04d", g, i)
			else
				c = sprintf("CK3344-%04d", (i * 7 + g) % 100 + 1)
			printf "AVAL7391-%d-%04d,%s,%d,%s\n", g, i, c,
			    (i * 37 + g) % 1000, i % 3 ? "north" : "south"
		}
	}'
}
gen_customers() {
	awk -v g=$1 'BEGIN {
		print "cust,name,tier,score"
		for (i = 1; i <= 120; i++) {
			if (i <= 100 - 3 * g)
				c = sprintf("CK3344-%04d", i + 3 * g)
			else
				c = sprintf("GKEY4826-%d-%04d", g, i)
			t = i % 3 == 0 ? "gold" : i % 3 == 1 ? "silver" : "bronze"
			printf "%s,GVAL4826-%d-%04d,%s,%d\n", c, g, i, t,
			    (i * 13 + g) % 100
		}
	}'
}
# publish_gen orders|customers GEN: that side at its owner (as version
# GEN) and a copy at ref
publish_gen() {
	gen_$1 $2 >"$T/$1.csv"
	r=""
	[ $2 -gt 1 ] && r=--replace
	case $1 in
	orders) ok "$WEFT" publish --data-dir "$T/a0" sales.orders "$T/orders.csv" $r --visibility globex
		ok "$WEFT" publish --data-dir "$T/ref" sales.orders "$T/orders.csv" $r ;;
	customers) ok "$WEFT" publish --data-dir "$T/b0" crm.customers "$T/customers.csv" $r --visibility acme
		ok "$WEFT" publish --data-dir "$T/ref" crm.customers "$T/customers.csv" $r ;;
	esac
}
# cat_has NODE ORG.DOMAIN.PRODUCT VERSION: NODE's catalog lists it
cat_has() {
	"$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null |
	    grep -q "\"name\":\"$2\",[^{}]*\"version\":$3,"
}
# wait_gen ORDERS_VERSION CUSTOMERS_VERSION: both askers know them
wait_gen() {
	for n in a1 b1; do
		until_ok 20 cat_has $n acme.sales.orders $1 ||
		    die "$n never learnt sales.orders version $1"
		until_ok 20 cat_has $n globex.crm.customers $2 ||
		    die "$n never learnt crm.customers version $2"
	done
}

# the owners record the fragments they are asked to run
agent_start ga
agent_start gb --join "$ADDR_ga"
for n in a0 b0; do
	: >"$T/$n.frags"
	export WEFT_TRACE_FRAGMENTS="$T/$n.frags"
	case $n in a0) agent_start a0 --join "$ADDR_ga" ;; b0) agent_start b0 --join "$ADDR_gb" ;; esac
	unset WEFT_TRACE_FRAGMENTS
done
# (no result cache at the askers: every query reaches both owners)
agent_start a1 --join "$ADDR_ga" --cache-size 0
agent_start b1 --join "$ADDR_gb" --cache-size 0
publish_gen orders 1
publish_gen customers 1
wait_gen 1 1

# The queries: each reads each side once.
Q1="SELECT o.order_id, o.amount, c.name, c.tier FROM sales.orders o JOIN crm.customers c ON o.cust = c.cust ORDER BY o.order_id"
Q2="SELECT c.tier, count(*), sum(o.amount), min(o.order_id), max(c.name) FROM sales.orders o JOIN crm.customers c USING (cust) GROUP BY c.tier ORDER BY c.tier"
Q3="SELECT o.region, c.tier, count(*), sum(o.amount + c.score) FROM sales.orders o JOIN crm.customers c ON o.cust = c.cust WHERE o.region <> 'AFILT2231' AND o.amount > 100 AND c.tier <> 'GFILT6614' AND c.score < 90 GROUP BY 1, 2 ORDER BY 1, 2"
Q4="SELECT o.order_id, o.cust, c.name FROM sales.orders o LEFT JOIN crm.customers c ON o.cust = c.cust WHERE o.amount < 300 ORDER BY o.order_id"
Q5="SELECT c.cust, c.name, count(o.order_id), coalesce(sum(o.amount), 0) FROM sales.orders o RIGHT JOIN crm.customers c ON o.cust = c.cust GROUP BY c.cust, c.name ORDER BY c.cust"
Q6="SELECT o.order_id, o.cust FROM sales.orders o LEFT JOIN crm.customers c ON o.cust = c.cust WHERE c.cust IS NULL ORDER BY 1"
Q7="SELECT count(*), sum(o.amount) FROM sales.orders o JOIN (SELECT DISTINCT cust FROM crm.customers WHERE tier = 'gold') g ON o.cust = g.cust"
NQ=7
ACME="AKEY7391[-0-9]*|AVAL7391[-0-9]*|AFILT2231"
GLOBEX="GKEY4826[-0-9]*|GVAL4826[-0-9]*|GFILT6614"

# ask STEP ASKER I: query I from ASKER (with sales.orders at version $VO,
# crm.customers at $VC), checked against ref; its answer kept in
# $T/ans.STEP.ASKER.I, each owner's record of it in $T/rec.STEP.ASKER.I.OWNER
ask() {
	step=$1 asker=$2 i=$3
	eval "sql=\$Q$i"
	: >"$T/a0.frags"
	: >"$T/b0.frags"
	"$WEFT" query --data-dir "$T/$asker" --format csv --stats --timeout 20 \
	    "$sql" >"$T/ans" 2>"$T/stats" </dev/null ||
	    { cat "$T/stats" >&2; die "$asker, query $i failed"; }
	ok "$WEFT" query --data-dir "$T/ref" --local --format csv "$sql"
	cmp -s "$T/ans" "$T/out" ||
	    { diff "$T/ans" "$T/out" | head >&2; die "$asker and ref differ: $sql"; }
	[ "$(wc -l <"$T/ans")" -ge 2 ] || die "no rows: $sql"
	cp "$T/ans" "$T/ans.$step.$asker.$i"
	# one fragment per owner, a0 direct for acme, tunnelled for globex
	route_a="direct session" route_b="tunnel through gateways"
	[ $asker = b1 ] && route_a="tunnel through gateways" route_b="direct session"
	[ "$(grep -c '^fragment ' "$T/stats")" = 2 ] &&
	    grep -q "^fragment acme.sales.orders on node a0 ($route_a): version $VO, " "$T/stats" &&
	    grep -q "^fragment globex.crm.customers on node b0 ($route_b): version $VC, " "$T/stats" ||
	    { cat "$T/stats" >&2; die "--stats of query $i from $asker"; }
	org=acme
	[ $asker = b1 ] && org=globex
	for o in a0 b0; do
		rec="$T/rec.$step.$asker.$i.$o"
		cp "$T/$o.frags" "$rec"
		p=sales.orders other=crm.customers leak=$GLOBEX
		[ $o = b0 ] && p=crm.customers other=sales.orders leak=$ACME
		[ "$(grep -ac '^fragment of ' "$rec")" = 1 ] &&
		    grep -aq "^fragment of $p for node $asker of org $org: [0-9]* bytes$" "$rec" ||
		    { cat -v "$rec" >&2; die "$o's record of query $i from $asker"; }
		tail -n +2 "$rec" | grep -aq "$p" || die "$o's fragment does not name $p"
		grep -aq "$other" "$rec" && die "$o received a fragment naming $other (query $i from $asker)"
		if grep -aEo "$leak|CK3344[-0-9]*" "$rec" >"$T/leaked"; then
			sort -u "$T/leaked" | head >&2
			die "owner $o received the other org's data for query $i from $asker (above)"
		fi
	done
}

VO=1 VC=1
for asker in a1 b1; do
	for i in $(seq_list 1 $NQ); do ask 1 $asker $i; done
done

# The plan says so: each scan runs at its owner, globex's crosses to acme
# as results only.
ok "$WEFT" query --data-dir "$T/a1" "EXPLAIN $Q1"
has "Remote Scan acme.sales.orders on node a0 \(version 1, 400 rows; direct session\)"
has "Remote Scan globex.crm.customers on node b0 \(version 1, 120 rows; tunnel through gateways; crosses from org globex: results only\)"

# The answers do not merely agree with ref's: the grouped join from the
# CSVs (count and sum of amount per tier).
awk -F, 'NR == FNR { if (FNR > 1) tier[$1] = $3; next }
	FNR > 1 && ($2 in tier) { n[tier[$2]]++; s[tier[$2]] += $3 }
	END { for (t in n) print t "," n[t] "," s[t] }' \
    "$T/customers.csv" "$T/orders.csv" | sort >"$T/awk"
cut -d, -f1-3 "$T/ans.1.a1.2" | tail -n +2 >"$T/q2"
cmp -s "$T/awk" "$T/q2" || { diff "$T/awk" "$T/q2" >&2; die "the grouped join is not the CSVs' one"; }
[ "$(wc -l <"$T/awk")" = 3 ] || die "the CSVs' grouped join has not 3 tiers"

# The record shows what came: each side's filter constant reached its
# owner, and only that one.
for asker in a1 b1; do
	grep -aq AFILT2231 "$T/rec.1.$asker.3.a0" || die "a0's record lacks acme's filter ($asker)"
	grep -aq GFILT6614 "$T/rec.1.$asker.3.b0" || die "b0's record lacks globex's filter ($asker)"
done

# New contents on one side, the same shape: the same fragments at the
# other side's owner (and new answers, so the change was seen).
# step_again STEP OWNER: the queries again, OWNER's records compared
# with those of step STEP-1
step_again() {
	for asker in a1 b1; do
		for i in $(seq_list 1 $NQ); do
			ask $1 $asker $i
			cmp -s "$T/ans.$(($1 - 1)).$asker.$i" "$T/ans.$1.$asker.$i" &&
			    die "query $i answers as before new contents (step $1)"
			cmp -s "$T/rec.$(($1 - 1)).$asker.$i.$2" "$T/rec.$1.$asker.$i.$2" ||
			    die "$2's fragment of query $i from $asker changed with the other org's data"
		done
	done
}
publish_gen customers 2
VC=2
wait_gen $VO $VC
grep -q GKEY4826-2- "$T/customers.csv" || die "generation 2 has no new keys"
step_again 2 a0
publish_gen orders 2
VO=2
wait_gen $VO $VC
grep -q AKEY7391-2- "$T/orders.csv" || die "generation 2 has no new keys"
step_again 3 b0

# Plaintext: in the direct sessions' dumps, never at a gateway.
grep -aq AFILT2231 "$T/a0.trace" || die "a0's trace misses a1's fragment"
grep -aq GFILT6614 "$T/b0.trace" || die "b0's trace misses b1's fragment"
grep -aq AVAL7391 "$T/a1.trace" || die "a1's trace misses a0's rows"
grep -aq GVAL4826 "$T/b1.trace" || die "b1's trace misses b0's rows"
relayed=0
for g in ga gb; do
	[ -s "$T/$g.trace" ] || die "no trace from $g"
	if grep -aEo "$ACME|$GLOBEX|CK3344[-0-9]*" "$T/$g.trace" >"$T/leaked"; then
		sort -u "$T/leaked" | head >&2
		die "gateway $g saw plaintext (above)"
	fi
	ok "$WEFT" status --data-dir "$T/$g" --json
	n=$(json_num tunnel_relayed)
	[ -n "$n" ] || die "status of $g lacks tunnel_relayed"
	relayed=$((relayed + n))
done
# (each tunnelled fragment crossed both gateways, there and back)
[ $relayed -ge $((4 * 3 * NQ * 2)) ] || die "gateways relayed only $relayed messages"
# every agent stops cleanly, without a sanitizer report
for n in a1 b1 a0 b0 ga gb; do
	eval "p=\$PID_$n"
	kill -TERM "$p"
	wait "$p" || die "agent $n exited with $? after SIGTERM"
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in agent $n"; }
done
exit 0
