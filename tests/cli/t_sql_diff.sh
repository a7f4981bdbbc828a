#!/bin/sh
# Differential SQL test: every query in tests/sql/*.sql runs on weft and on
# a throw-away PostgreSQL server loaded with the same generated tables
# (bench/gen.c: people, orders, cities, nulls, empty, big), and the answers
# must match: same column names, same rows (as a multiset unless the query
# has a top-level ORDER BY, then in order), numbers equal to 1e-9 relative
# when either side is not an integer. A query PostgreSQL rejects must be
# rejected by weft too (exit code 1). Prints each failure with the query
# and both answers, then "sql-diff: N passed, M failed". psql --csv prints
# NULL and '' alike, so the queries test that difference explicitly
# (x IS NULL, x = '').
#
# Query files: statements end with ";" at the end of a line; "--" lines are
# comments, and a comment line "-- error" marks the next query as one that
# PostgreSQL must reject (a harness check: an unmarked query that fails in
# PostgreSQL, or a marked one that succeeds, is reported as a bad query).
#
# Environment (besides lib.sh's):
#   WEFT_DIFF_SELF=1    check the harness: compare PostgreSQL with itself,
#                       the second side on a copy of the tables loaded in
#                       another row order with hash aggregation and hash
#                       joins off (so a tie left unbroken by ORDER BY, or a
#                       multiset compared in order, shows up)
#   WEFT_DIFF_ONLY=RE   run only the queries whose line "KIND<TAB>ORDERED<TAB>
#                       SQL" (see below) matches the grep -E RE
#   WEFT_DIFF_VERBOSE=1 print every query's verdict
#   WEFT_DIFF_MESH=1    federated (tests/cli/t_fed_diff.sh): the tables
#                       spread over three nodes of two orgs linked only
#                       through gateways (acme: a1 people; a2 cities,
#                       empty; globex: g1 orders, nulls, big, shared with
#                       acme), every query asked of acme's node q, which
#                       hosts none, through its agent
#   WEFT_DIFF_KEEP=DIR  copy the agents' logs there at exit
#   WEFT_PG_PORT        the server's (Unix socket) port, default 5488
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
sqldir=$(cd "$here/../sql" && pwd)
: "${WEFT_GEN:?WEFT_GEN must point at weft-gen}"
SELF=${WEFT_DIFF_SELF:-0}
B=weft
[ "$SELF" = 1 ] && B="pg-shuffled"

# ---- PostgreSQL: a server of its own in a temporary directory -------------
. "$here/pglib.sh"
AGENTS=""
cleanup() {
	for p in $AGENTS; do kill -9 "$p" 2>/dev/null; done
	[ -n "${WEFT_DIFF_KEEP:-}" ] && cp "$T"/*.log "$WEFT_DIFF_KEEP"/ 2>/dev/null
	pg_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
pg_start

# ---- The tables ------------------------------------------------------------
# name, then "column type" pairs (PostgreSQL types; the ODCS contract that
# pins weft's types uses the same physicalType)
TABLES="people orders cities nulls empty big"
cols_people="id bigint name text age bigint score float8 active boolean joined timestamp city_id bigint"
cols_orders="id bigint person_id bigint amount bigint category text placed timestamp"
cols_cities="city_id bigint city text country text pop bigint"
cols_nulls="id bigint a bigint b float8 c text d boolean e timestamp f float8 z text"
cols_empty="id bigint name text v float8 flag boolean ts timestamp"
cols_big="id bigint g text k bigint v float8 ts timestamp person_id bigint flag boolean"
pgtype() { case $1 in float8) echo "double precision" ;; *) echo "$1" ;; esac; }

# WEFT_DIFF_MESH: orgs acme (a1, a2, q, gateway ga) and globex (g1,
# gateway gb), trusting each other only through gateways.
mesh_start() {
	ok "$WEFT" org create acme --out "$T/acme.key"
	ok "$WEFT" org create globex --out "$T/globex.key"
	join_ga="" join_gb=""
	for n in ga a1 a2 q gb g1; do
		org=acme other=globex join=$join_ga role=""
		case $n in gb | g1) org=globex other=acme ;; esac
		[ $n = g1 ] && join=$join_gb
		case $n in ga | gb) role="--role gateway" ;; esac
		ok "$WEFT" init --data-dir "$T/$n" --org "$T/$org.key" --name $n \
		    --mesh diff $role
		ok "$WEFT" trust add --data-dir "$T/$n" "$T/$other.pub" --via-gateway
		"$WEFT" agent --data-dir "$T/$n" --listen 127.0.0.1:0 \
		    --gossip-interval 200ms $join 2>"$T/$n.log" &
		AGENTS="$AGENTS $!"
		ok "$WEFT" status --data-dir "$T/$n" --json --wait 20
		[ $n = ga ] && join_ga="--join $(listen_addr)"
		[ $n = gb ] && join_gb="--join $(listen_addr)"
	done
}
# every product reached q
mesh_wait() {
	for t in $TABLES; do
		until_ok 30 sh -c "\"$WEFT\" catalog --data-dir \"$T/q\" --json | grep -q '\"name\":\"[a-z]*\.t\.$t\"'" ||
		    die "t.$t never reached q"
	done
}

mkdir -p "$T/data"
for t in $TABLES; do
	"$WEFT_GEN" --table "$t" --seed 1 --out "$T/data/$t.csv" ||
		die "weft-gen --table $t failed"
done

# DDL and \copy for one database; $1 = "plain" or "shuffled" (rows in
# another order, for WEFT_DIFF_SELF)
load_pg() {
	db=$1 how=$2
	{
		echo "CREATE SCHEMA t;"
		for t in $TABLES; do
			eval "cols=\$cols_$t"
			printf 'CREATE TABLE t.%s (' "$t"
			set -- $cols
			sep=""
			while [ $# -ge 2 ]; do
				printf '%s%s %s' "$sep" "$1" "$(pgtype "$2")"
				sep=", "
				shift 2
			done
			echo ");"
			f="$T/data/$t.csv"
			if [ "$how" = shuffled ]; then
				# a fixed permutation: ids by (id * 7919) mod 10007
				{ head -1 "$f"; tail -n +2 "$f" |
				    awk -F, '{ printf "%d\t%s\n", ($1 * 7919) % 10007, $0 }' |
				    sort -n | cut -f2-; } >"$T/data/$t.shuf.csv"
				f="$T/data/$t.shuf.csv"
			fi
			printf '%s\n' "\\copy t.$t FROM '$f' WITH (FORMAT csv, HEADER true)"
		done
		echo "ANALYZE;"
	} >"$T/load_$db.sql"
	pg "$db" -f "$T/load_$db.sql" >"$T/load_$db.log" 2>&1 ||
		{ cat "$T/load_$db.log" >&2; die "loading PostgreSQL ($db) failed"; }
}
load_pg postgres plain
if [ "$SELF" = 1 ]; then
	pg postgres -c "CREATE DATABASE shuf" >/dev/null 2>&1 ||
		die "CREATE DATABASE shuf failed"
	pg postgres -c "ALTER DATABASE shuf SET enable_hashagg = off" >/dev/null &&
	pg postgres -c "ALTER DATABASE shuf SET enable_hashjoin = off" >/dev/null ||
		die "ALTER DATABASE shuf failed"
	load_pg shuf shuffled
else
	# weft: one node (or, WEFT_DIFF_MESH, the host chosen below), every
	# table a product t.NAME with a contract that pins the same types
	if [ "${WEFT_DIFF_MESH:-0}" = 1 ]; then
		mesh_start
	else
		mknode node
	fi
	for t in $TABLES; do
		eval "cols=\$cols_$t"
		{
			printf 'apiVersion: v3.0.2\nkind: DataContract\n'
			printf 'id: sql-diff-%s\nname: %s\nversion: 1.0.0\n' "$t" "$t"
			printf 'status: active\ndomain: t\ndataProduct: %s\n' "$t"
			printf 'schema:\n  - name: %s\n    properties:\n' "$t"
			set -- $cols
			while [ $# -ge 2 ]; do
				printf '      - name: %s\n        physicalType: %s\n' \
				    "$1" "$(pgtype "$2")"
				shift 2
			done
		} >"$T/data/$t.yaml"
		host=node vis=""
		if [ "${WEFT_DIFF_MESH:-0}" = 1 ]; then
			case $t in
			people) host=a1 ;;
			cities | empty) host=a2 ;;
			*) host=g1 vis="--visibility acme" ;;
			esac
		fi
		ok "$WEFT" publish --data-dir "$T/$host" --quiet "t.$t" \
		    "$T/data/$t.csv" --contract "$T/data/$t.yaml" $vis
	done
	[ "${WEFT_DIFF_MESH:-0}" = 1 ] && mesh_wait
fi

# ---- The queries -------------------------------------------------------------
# One query per line in $T/queries: "KIND<TAB>ORDERED<TAB>sql", joined from
# the files' lines. KIND is E when PostgreSQL must reject the query, else
# "-"; ORDERED is 1 when the query has an ORDER BY outside any parentheses
# and string literals (then row order counts), else 0.
awk '
	function ordered(q,    s, d, c, i, inq, out) {
		s = tolower(q); d = 0; inq = ""; out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (inq != "") { if (c == inq) inq = ""; continue }
			if (c == "\047" || c == "\"") { inq = c; continue }
			if (c == "(") d++
			else if (c == ")") d--
			else out = out (d == 0 ? c : " ")
		}
		gsub(/[ \t]+/, " ", out)
		return out ~ /(^|[^a-z0-9_])order by / ? 1 : 0
	}
	/^[ \t]*$/ { next }
	/^[ \t]*--/ {
		if (cur == "" && $0 ~ /^[ \t]*--[ \t]*error[ \t]*$/) err = 1
		next
	}
	{
		line = $0
		sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line)
		cur = cur == "" ? line : cur " " line
		if (cur ~ /;$/) {
			sub(/[ \t]*;$/, "", cur)
			printf "%s\t%d\t%s\n", err ? "E" : "-", ordered(cur), cur
			cur = ""; err = 0
		}
	}
	END { if (cur != "") { print "unterminated query: " cur > "/dev/stderr"; exit 1 } }
' "$sqldir"/*.sql >"$T/queries" || die "bad query files"
if [ -n "${WEFT_DIFF_ONLY:-}" ]; then
	grep -E -- "$WEFT_DIFF_ONLY" "$T/queries" >"$T/queries.only" || :
	mv "$T/queries.only" "$T/queries"
fi

# pg_all DB DIR: every query in one psql session; query N's CSV answer in
# DIR/N.out, or its error message in DIR/N.err
pg_all() {
	mkdir -p "$2"
	awk -F '\t' -v dir="$2" '{
		printf "\\o %s/%d.out\n%s;\n", dir, NR, $3
		printf "\\if :ERROR\n\\o %s/%d.err\n\\qecho :LAST_ERROR_MESSAGE\n\\endif\n", dir, NR
	}' "$T/queries" >"$2.sql"
	"$PSQL" -X -q --csv -h "$P" -p "$PORT" -U postgres -d "$1" \
	    -f "$2.sql" >"$2.log" 2>&1 </dev/null
}

# ---- Run and compare -----------------------------------------------------------
# norm FILE ORDERED: header line, then each record on one line (embedded
# newlines as \001), prefixed with a sort key; rows sorted unless ORDERED
norm() {
	awk -f "$sqldir/norm.awk" "$1" >"$1.n1" || return 1
	if [ "$2" = 1 ]; then
		mv "$1.n1" "$1.n"
	else
		{ head -1 "$1.n1"; tail -n +2 "$1.n1" | LC_ALL=C sort; } >"$1.n"
	fi
}
show() { # show LABEL FILE: the first lines of an answer
	n=$(wc -l <"$2")
	echo "  -- $1 ($n lines):"
	head -8 "$2" | sed 's/^/  | /'
	[ "$n" -gt 8 ] && echo "  | ..."
	:
}

pass=0
fail=0
nq=0
TAB=$(printf '\t')
start=$(date +%s)
pg_all postgres "$T/pa"
[ "$SELF" = 1 ] && pg_all shuf "$T/pb"
while IFS="$TAB" read -r kind o q; do
	nq=$((nq + 1))
	A="$T/pa/$nq"
	arc=0
	[ -e "$A.err" ] && arc=1
	if [ "$SELF" = 1 ]; then
		Bf="$T/pb/$nq"
		brc=0
		[ -e "$Bf.err" ] && brc=1
	else
		Bf="$T/b"
		asker=node
		[ "${WEFT_DIFF_MESH:-0}" = 1 ] && asker=q
		"$WEFT" query --data-dir "$T/$asker" --format csv "$q" \
		    >"$Bf.out" 2>"$Bf.err" </dev/null
		brc=$?
		grep -q "Sanitizer\|runtime error" "$Bf.err" && brc=sanitizer
	fi
	why=""
	if [ "$brc" = sanitizer ]; then
		why="sanitizer report"
	elif [ "$kind" = E ] && [ $arc -eq 0 ]; then
		why="bad query: marked -- error but PostgreSQL accepts it"
	elif [ "$kind" != E ] && [ $arc -ne 0 ]; then
		why="bad query: PostgreSQL rejects it"
	elif [ $arc -ne 0 ]; then
		[ $brc -eq 1 ] || why="PostgreSQL rejects it, $B exits $brc (want 1)"
	elif [ $brc -ne 0 ]; then
		why="$B fails (exit $brc)"
	elif cmp -s "$A.out" "$Bf.out"; then
		:
	elif norm "$A.out" "$o" && norm "$Bf.out" "$o"; then
		why=$(awk -v SIDE="$B" -v ORDERED="$o" -f "$sqldir/cmp.awk" \
		    "$A.out.n" "$Bf.out.n")
	else
		why="cannot parse the CSV"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
		[ "${WEFT_DIFF_VERBOSE:-0}" = 1 ] && echo "ok   #$nq $q"
	else
		fail=$((fail + 1))
		echo "FAIL #$nq: $why"
		echo "  query: $q"
		if [ $arc -ne 0 ]; then show "PostgreSQL error" "$A.err"
		else show "PostgreSQL" "$A.out"; fi
		if [ "$brc" != 0 ] || [ ! -s "$Bf.out" ]; then
			show "$B exit $brc, stderr" "$Bf.err"
			[ -s "$Bf.out" ] && show "$B stdout" "$Bf.out"
		else
			show "$B" "$Bf.out"
		fi
	fi
	[ "$SELF" = 1 ] || rm -f "$Bf.out.n" "$Bf.out.n1"
done <"$T/queries"
[ "$SELF" = 1 ] && echo "(WEFT_DIFF_SELF: PostgreSQL against itself)"
if [ "${WEFT_DIFF_MESH:-0}" = 1 ]; then
	# the answers came from the owners, not from copies at q
	for n in a1 a2 g1; do
		grep -q "query: fragment of t\.[a-z]* for node q of org acme" "$T/$n.log" ||
		    die "no fragment served by $n for q"
	done
fi
echo "sql-diff: $pass passed, $fail failed ($nq queries, $(( $(date +%s) - start ))s)"
[ $nq -gt 0 ] && [ $fail -eq 0 ]
