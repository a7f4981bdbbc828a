#!/bin/sh
# bench/linreg.sh: a least-squares fit over two owners' rows, weft beside
# DuckDB (issue 13: "weft_linreg over 3M rows on two nodes vs the same fit
# in DuckDB (regr_slope for one variable; goal <= 1.5x)"). Run by
# bench/run.sh, which provides the environment described in bench/lib.sh.
#
# The fit is y on x, as set in "The fit" just below (the one place to
# change it): weft-gen draws amount and user_id independently, so y is
# amount + user_id and x is user_id (slope about 1, intercept about the
# mean amount), integer arithmetic both engines do exactly.
#
# Set-up (untimed): org acme; node n1 publishes the first half of the
# events CSV run.sh generated (BENCH_ROWS rows, seed BENCH_SEED; split
# with head and tail) as bench.e1, node n2 the second half as bench.e2,
# and node a, which holds no data, asks. Agents on 127.0.0.1, gossip every
# 200 ms; a's agent runs with --cache-size 0, so that no run is answered
# from its result cache (each timed run's --stats lines are checked for
# it). Each product must hold its half (weft products --json).
#
# Timed, each the fastest of BENCH_REPEAT runs (default 3) of a whole
# `weft query --format csv --stats` process on a, the runs of the four
# weft queries interleaved round by round:
#   fit    FIT_SQL: weft_linreg(y, x) over the UNION ALL of bench.e1 and
#          bench.e2 (its answer, PostgreSQL float8[] text, is
#          '{intercept,slope}');
#   regr   (context) regr_slope(y, x), regr_intercept(y, x) over the same
#          union; reported as not measured when weft refuses it;
#   suff   (context) the same fit from sufficient statistics written by
#          hand: count, sum(x), sum(y), sum(x*x), sum(x*y) per product (a
#          partial aggregate each owner computes), summed at the asker,
#          then the closed form; what pushing partial states can give;
#   floor  (context) a one-row query of bench.e1: process, agent, one
#          round trip to an owner.
# DuckDB (bench/duckdb_query.mjs, as bench/query.sh uses it): the whole
# events CSV loaded into an in-memory table (untimed), then DUCK_SQL,
# regr_slope and regr_intercept over it, BENCH_REPEAT times, timed inside
# node (node's start-up and the load left out). The ratio weft / DuckDB
# thus holds weft's whole process against DuckDB's query alone, the
# convention of bench/query.sh. Goal: fit <= 1.5 x DuckDB's time.
#
# Every answer is checked before it counts: slope and intercept must
# equal DuckDB's to 1e-6 relative (without DuckDB, suff's answer is the
# reference), and DuckDB must hold BENCH_ROWS rows; a wrong answer, a
# failing step or an agent that does not exit cleanly fails the run.
# LINREG_SQL replaces FIT_SQL with another query to time (e.g.
# LINREG_SQL='SELECT sum(y), count(x) FROM (...) s'); its answer is then
# only held to be the same in every run. Missing the goal
# is reported, not a failure. See docs/bench.md.
set -e
. "$BENCH_DIR/lib.sh"

# ---- The fit ----------------------------------------------------------------

# y and x, SQL expressions over the events columns; the same text runs in
# weft's union branches and over DuckDB's table.
Y="amount + user_id"
X="user_id"
# The two owners' rows, as weft sees them.
UNION="SELECT $Y AS y, $X AS x FROM bench.e1 UNION ALL SELECT $Y AS y, $X AS x FROM bench.e2"
FIT_SQL="SELECT weft_linreg(y, x) FROM ($UNION) s"
REGR_SQL="SELECT regr_slope(y, x), regr_intercept(y, x) FROM ($UNION) s"
DUCK_SQL="SELECT regr_slope(y, x), regr_intercept(y, x) FROM (SELECT $Y AS y, $X AS x FROM events) s"
# suff: per product n, sum(x), sum(y), sum(x*x), sum(x*y); then
# slope = (n Sxy - Sx Sy) / (n Sxx - Sx^2),
# intercept = (Sy Sxx - Sx Sxy) / (n Sxx - Sx^2).
SUFF_PART="SELECT count(*) AS n, sum(x) AS sx, sum(y) AS sy, sum(x * x) AS sxx, sum(x * y) AS sxy FROM (SELECT $Y AS y, $X AS x FROM"
SUFF_SQL="SELECT (n * sxy - sx * sy) / (n * sxx - sx * sx) AS slope, (sy * sxx - sx * sxy) / (n * sxx - sx * sx) AS intercept FROM (SELECT sum(n) AS n, sum(sx) AS sx, sum(sy) AS sy, sum(sxx) AS sxx, sum(sxy) AS sxy FROM ($SUFF_PART bench.e1) p UNION ALL $SUFF_PART bench.e2) p) u) t"
FLOOR_SQL="SELECT 1 AS one FROM bench.e1 LIMIT 1"
STANDIN=0
if [ -n "$LINREG_SQL" ]; then
	FIT_SQL=$LINREG_SQL
	STANDIN=1
fi

T=$BENCH_TMP/linreg
REPEAT=${BENCH_REPEAT:-3}
mkdir -p "$T"
failed=""
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

if ! bench_has weft; then
	echo "linreg: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
[ "$BENCH_ROWS" -ge 2 ] || bench_die "linreg: BENCH_ROWS must be 2 or more"

# ---- Agents -----------------------------------------------------------------

. "$BENCH_DIR/agents.sh"

# ---- Answers ----------------------------------------------------------------

# coefs NORM KIND: "SLOPE INTERCEPT" of a one-row answer normalised by
# bench_norm. KIND array: one field '{intercept,slope}' (weft_linreg's
# float8[] text); KIND pair: two fields, slope and intercept. Prints
# nothing when the answer has another shape (rows, fields, a NULL, NaN).
coefs() {
	LC_ALL=C awk -F'\t' -v kind="$2" '
	function isnum(s) {
		return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/
	}
	NR == 1 && kind == "array" && NF == 1 && $1 ~ /^\{.*\}$/ {
		if (split(substr($1, 2, length($1) - 2), v, ",") == 2 &&
		    isnum(v[1]) && isnum(v[2]))
			out = v[2] " " v[1]
	}
	NR == 1 && kind == "pair" && NF == 2 && isnum($1) && isnum($2) {
		out = $1 " " $2
	}
	END {
		if (NR == 1 && out != "")
			print out
	}' "$1"
}

# close A B: A and B agree to 1e-6 relative.
close() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		d = a - b
		if (d < 0)
			d = -d
		m = a < 0 ? -a : a
		if ((b < 0 ? -b : b) > m)
			m = b < 0 ? -b : b
		exit !(d <= 1e-6 * m)
	}'
}

# agree ID OUT: OUT's answer (CSV from weft, a header line) is right for
# query ID: for fit, regr and suff slope and intercept equal the reference
# ($T/ref, "SLOPE INTERCEPT" from $T/ref.who; the first checked becomes
# it), for the stand-in fit and floor the same as ID's first answer. Says
# why and returns non-zero otherwise.
agree() {
	bench_norm "$2" 1 0 >/dev/null
	if [ "$1" = floor ] && [ "$(cat "$2.norm")" != 1 ]; then
		echo "bench: FAILED: floor's answer is not one row '1':" >&2
		head -n 5 "$2" | sed 's/^/    /' >&2
		return 1
	fi
	if [ "$1" = floor ] || { [ "$1" = fit ] && [ "$STANDIN" = 1 ]; }; then
		if [ ! -f "$T/$1.first" ]; then
			cp "$2.norm" "$T/$1.first"
		elif ! bench_same "$T/$1.first" "$2.norm" >"$T/diff" 2>&1; then
			echo "bench: FAILED: $1's answer changed from run to run:" \
			    "$(cat "$T/diff")" >&2
			return 1
		fi
		return 0
	fi
	ag_kind=pair
	[ "$1" = fit ] && ag_kind=array
	ag_c=$(coefs "$2.norm" "$ag_kind")
	if [ -z "$ag_c" ]; then
		{
			echo "bench: FAILED: $1's answer is not one row of" \
			    "$([ "$ag_kind" = array ] && echo "'{intercept,slope}'" ||
			    echo "slope, intercept"):"
			echo "    $(cat "$2.cmd")"
			head -n 5 "$2" | sed 's/^/    /'
		} >&2
		return 1
	fi
	if [ ! -f "$T/ref" ]; then
		echo "$ag_c" >"$T/ref"
		echo "weft $1" >"$T/ref.who"
	fi
	# shellcheck disable=SC2046,SC2086 # two numbers each.
	set -- "$1" "$2" $ag_c $(cat "$T/ref")
	if close "$3" "$5" && close "$4" "$6"; then
		echo "$3 $4" >"$T/$1.coefs"
		return 0
	fi
	{
		echo "bench: FAILED: wrong answer: $1's slope, intercept" \
		    "$3, $4 differ from $(cat "$T/ref.who")'s $5, $6" \
		    "(by more than 1e-6 relative)"
		echo "    $(cat "$2.cmd")"
	} >&2
	return 1
}

# ---- Runs -------------------------------------------------------------------

# sql ID: query ID's SQL.
sql() {
	case $1 in
	fit) echo "$FIT_SQL" ;;
	regr) echo "$REGR_SQL" ;;
	suff) echo "$SUFF_SQL" ;;
	floor) echo "$FLOOR_SQL" ;;
	esac
}

# once ID RUN: one run of query ID from a, timed as a whole process
# (answer in $T/ID.out, --stats in $T/ID.out.err, rss's figures in
# $T/ID.out.res), its answer checked. RUN is "check" (untimed) or a round
# number, whose wall time goes to $T/ID.recs, the fastest run's to
# $T/ID.best and its --stats to $T/ID.best.err. On failure the ID is out
# of the series: regr refused as unsupported is noted in $T/regr.skip (not
# measured), anything else fails the run, having said why. Returns
# non-zero then.
once() {
	o_id=$1 o_run=$2 o_out=$T/$1.out
	set -- "$WEFT" query --data-dir "$T/a" --format csv --stats \
	    "$(sql "$o_id")"
	echo "$*" >"$o_out.cmd"
	if ! "$BENCH_RSS" "$o_out.res" "$@" >"$o_out" 2>"$o_out.err"; then
		if [ "$o_id" = regr ] && grep -q \
		    'ERROR: unsupported\|ERROR: function .* does not exist' \
		    "$o_out.err"; then
			{ grep -m 1 'ERROR' "$o_out.err" ||
			    head -n 1 "$o_out.err"; } >"$T/regr.skip"
		else
			echo "bench: $o_id failed: $(cat "$o_out.cmd")" >&2
			tail -n 20 "$o_out.err" | sed 's/^/    /' >&2
			failed="$failed $o_id"
		fi
		return 1
	fi
	if grep -q '^fragment .*(result cache)' "$o_out.err"; then
		echo "bench: $o_id (run $o_run) was answered from a's result" \
		    "cache:" >&2
		sed 's/^/    /' "$o_out.err" >&2
		failed="$failed $o_id"
		return 1
	fi
	if ! agree "$o_id" "$o_out"; then
		failed="$failed $o_id"
		return 1
	fi
	[ "$o_run" = check ] && return 0
	o_w=$(bench_get "$o_out.res" wall_s)
	echo "$o_w" >>"$T/$o_id.recs"
	if [ ! -s "$T/$o_id.best" ] ||
	    [ "$(bench_calc "($o_w < $(cat "$T/$o_id.best"))")" = 1 ]; then
		echo "$o_w" >"$T/$o_id.best"
		cp "$o_out.err" "$T/$o_id.best.err"
		cp "$o_out" "$T/$o_id.best.out"
	fi
}

# ---- DuckDB -----------------------------------------------------------------

# duckdb_side: DUCK_SQL (and a row count) by bench/duckdb_query.mjs over
# the whole events CSV in memory. Its answer becomes the reference.
duckdb_side() {
	"$WEFT_GEN" --table regions --seed "$BENCH_SEED" \
	    --out "$T/regions.csv" || return 1
	bench_time "$T/duckdb.res" "$T/duckdb.out" node \
	    "$BENCH_DIR/duckdb_query.mjs" "$BENCH_CSV" "$T/regions.csv" "$T" \
	    "$REPEAT" "$DUCK_SQL" "SELECT count(*) FROM events" || return 1
	d_rows=$(cat "$T/duckdb.q2.csv")
	if [ "$d_rows" != "$BENCH_ROWS" ]; then
		echo "bench: duckdb holds $d_rows rows, not $BENCH_ROWS" >&2
		return 1
	fi
	bench_norm "$T/duckdb.q1.csv" 0 0 >/dev/null
	d_c=$(coefs "$T/duckdb.q1.csv.norm" pair)
	if [ -z "$d_c" ]; then
		echo "bench: duckdb's answer is not one row of slope," \
		    "intercept:" >&2
		head -n 5 "$T/duckdb.q1.csv" | sed 's/^/    /' >&2
		return 1
	fi
	echo "$d_c" >"$T/ref"
	echo "duckdb" >"$T/ref.who"
	grep '^query=1 ' "$T/duckdb.out" >"$T/duckdb.line"
	bench_get "$T/duckdb.line" seconds >"$T/duckdb.best"
	bench_get "$T/duckdb.line" seconds_all >"$T/duckdb.all"
	D_LABEL="duckdb $(bench_get "$T/duckdb.out" version)"
	D_LABEL="$D_LABEL, $(bench_get "$T/duckdb.out" threads) threads"
	bench_emit linreg duckdb_seconds "$(cat "$T/duckdb.best")"
	bench_emit linreg duckdb_seconds_all "$(cat "$T/duckdb.all")"
	bench_emit linreg duckdb_load_seconds \
	    "$(bench_get "$T/duckdb.out" load_s)"
	bench_emit linreg duckdb_slope "${d_c% *}"
	bench_emit linreg duckdb_intercept "${d_c#* }"
}

# ---- Set-up -----------------------------------------------------------------

H1=$((BENCH_ROWS / 2))
H2=$((BENCH_ROWS - H1))
echo "best of $REPEAT runs each; $BENCH_ROWS events rows: $H1 on node n1" \
    "(bench.e1), $H2 on node n2 (bench.e2), asked from node a"
echo "fit: y = $Y, x = $X"
[ "$STANDIN" = 0 ] ||
	echo "stand-in for the fit (LINREG_SQL; its answer is not checked): $FIT_SQL"
bench_emit linreg runs "$REPEAT"
bench_emit linreg stand_in "$STANDIN"

D_LABEL=""
if bench_has duckdb && [ "$BENCH_DUCKDB" = 1 ]; then
	duckdb_side || failed="$failed duckdb"
elif bench_has duckdb; then
	echo "duckdb: unavailable (npm install failed)"
fi

setup_weft() {
	head -n $((H1 + 1)) "$BENCH_CSV" >"$T/e1.csv" &&
	    { head -n 1 "$BENCH_CSV" && tail -n +$((H1 + 2)) "$BENCH_CSV"; } \
	    >"$T/e2.csv" &&
	    "$WEFT" org create acme --out "$T/acme.key" || return 1
	for n in n1 n2 a; do
		"$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name "$n" \
		    --mesh linregbench || return 1
	done
	"$WEFT" publish --data-dir "$T/n1" bench.e1 "$T/e1.csv" --quiet &&
	    "$WEFT" publish --data-dir "$T/n2" bench.e2 "$T/e2.csv" --quiet ||
	    return 1
	rm -f "$T/e1.csv" "$T/e2.csv"
	for p in n1:e1:$H1 n2:e2:$H2; do
		set -- "${p%%:*}" "$(echo "$p" | cut -d: -f2)" "${p##*:}"
		"$WEFT" products --data-dir "$T/$1" --json >"$T/$1.products" ||
			return 1
		s_rows=$(tr -d '\n' <"$T/$1.products" |
		    grep -o '"rows"[[:space:]]*:[[:space:]]*[0-9]*' |
		    head -n 1 | sed 's/.*://; s/[[:space:]]//g')
		if [ "$s_rows" != "$3" ]; then
			echo "bench: node $1's bench.$2 holds ${s_rows:-no}" \
			    "rows, not $3" >&2
			return 1
		fi
	done
}
setup_weft >"$T/setup.log" 2>&1 || {
	tail -n 20 "$T/setup.log" | sed 's/^/    /' >&2
	bench_die "linreg: weft set-up"
}

start_agents() {
	start_agent n1 || return 1
	start_agent n2 --join "$(cat "$T/n1.addr")" || return 1
	start_agent a --cache-size 0 --join "$(cat "$T/n1.addr")" \
	    --join "$(cat "$T/n2.addr")" || return 1
	for p in n1 n2; do
		wait_for 30 has_peer a "$p" || {
			echo "bench: node a has no session with $p" >&2
			return 1
		}
	done
	for p in acme.bench.e1 acme.bench.e2; do
		wait_for 30 has_product a "$p" || {
			echo "bench: $p never reached node a's catalog" >&2
			return 1
		}
	done
}
start_agents || bench_die "linreg: agents"

# ---- Measurements -----------------------------------------------------------

# Without DuckDB, suff (checked first) is the reference.
IDS="suff fit regr floor"
ids_in=""
for id in $IDS; do
	: >"$T/$id.recs"
	once "$id" check && ids_in="$ids_in $id"
done
i=1
while [ "$i" -le "$REPEAT" ]; do
	next=""
	for id in $ids_in; do
		once "$id" "$i" && next="$next $id"
	done
	ids_in=$next
	i=$((i + 1))
done

# The plans, for the record: the fit's, and a sum/count over the same
# union (does the aggregate go below UNION ALL to the owners?).
"$WEFT" query --data-dir "$T/a" "EXPLAIN $FIT_SQL" >"$T/fit.plan" 2>&1 || :
"$WEFT" query --data-dir "$T/a" \
    "EXPLAIN SELECT sum(y), count(*) FROM ($UNION) s" >"$T/sum.plan" 2>&1 || :
stop_all || failed="$failed agent-exit"
trap - EXIT

# ---- Report -----------------------------------------------------------------

# best ID: the fastest run's seconds, or "-".
best() {
	if [ -s "$T/$1.best" ] && [ ! -f "$T/$1.skip" ]; then
		cat "$T/$1.best"
	else
		echo -
	fi
}

# ratio A B: A / B to 3 places, or "-".
ratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then
		echo -
	else
		bench_calc "sprintf(\"%.3f\", $1 / $2)"
	fi
}

# frags ID FIELD: the sum of FIELD (rows or bytes) over the fragment lines
# of ID's fastest run's --stats, or nothing.
frags() {
	[ -s "$T/$1.best.err" ] || return 0
	sed -n 's/^fragment .*: version [0-9]*, \([0-9]*\) rows, [0-9]* batches, \([0-9]*\) bytes, .*/\1 \2/p' \
	    "$T/$1.best.err" | awk -v f="$2" '
	    { s += (f == "rows" ? $1 : $2); n++ } END { if (n) print s }'
}

d_s=-
[ ! -s "$T/duckdb.best" ] || d_s=$(cat "$T/duckdb.best")
for id in $IDS; do
	[ "$(best "$id")" != - ] || continue
	bench_emit linreg "${id}_seconds" "$(best "$id")"
	bench_emit linreg "${id}_seconds_all" "$(paste -sd, "$T/$id.recs")"
	r=$(frags "$id" rows)
	[ -z "$r" ] || bench_emit linreg "${id}_fragment_rows" "$r"
	r=$(frags "$id" bytes)
	[ -z "$r" ] || bench_emit linreg "${id}_fragment_bytes" "$r"
	if [ -s "$T/$id.coefs" ]; then
		bench_emit linreg "${id}_slope" "$(cut -d' ' -f1 "$T/$id.coefs")"
		bench_emit linreg "${id}_intercept" \
		    "$(cut -d' ' -f2 "$T/$id.coefs")"
	fi
done

: >"$T/table"
# row LABEL ID GOAL: a line of the table: ID's fastest seconds beside
# DuckDB's, the ratio emitted as ID_vs_duckdb; GOAL "-" for context.
row() {
	r_w=$(best "$2")
	r_r=$(ratio "$r_w" "$d_s")
	[ "$r_r" = - ] || bench_emit linreg "${2}_vs_duckdb" "$r_r"
	if [ -f "$T/$2.skip" ]; then
		r_v="not measured: $(cat "$T/$2.skip")"
	elif echo " $failed " | grep -q " $2 "; then
		r_v="failed (see above)"
	elif [ "$r_r" = - ]; then
		r_v="-"
	elif [ "$3" = - ]; then
		r_v="(context)"
	else
		r_v=$(bench_calc "($r_r <= $3) ? \"goal met\" : \"goal NOT met\"")
	fi
	echo "$1|$r_w|$d_s|$r_r|${3#-}|$r_v" >>"$T/table"
}
if [ "$STANDIN" = 1 ]; then
	row "stand-in for weft_linreg (LINREG_SQL)" fit 1.5
else
	row "weft_linreg(y, x), two owners" fit 1.5
fi
row "  regr_slope, regr_intercept in weft" regr -
row "  sufficient statistics by hand" suff -
row "  one-row remote query (the floor)" floor -

echo
echo "weft: whole \`weft query --format csv --stats\` processes on node a" \
    "(start-up, the agent and the owners included)"
[ -z "$D_LABEL" ] || echo "duckdb: $D_LABEL (inside node, in memory;" \
    "load $(bench_get "$T/duckdb.out" load_s) s untimed)"
if [ -s "$T/ref" ]; then
	echo "  reference answer ($(cat "$T/ref.who")): slope" \
	    "$(cut -d' ' -f1 "$T/ref"), intercept $(cut -d' ' -f2 "$T/ref");" \
	    "weft's must agree to 1e-6 relative"
fi
if [ "$STANDIN" = 1 ] && [ -s "$T/fit.first" ]; then
	echo "  the stand-in's answer (tab-separated): $(head -n 1 \
	    "$T/fit.first")"
fi
for id in fit suff; do
	[ -s "$T/$id.best.err" ] || continue
	grep '^fragment' "$T/$id.best.err" | sed "s/^/  ($id) /"
	r=$(frags "$id" rows)
	[ -z "$r" ] || echo "  ($id) the fragments sent $r rows, $(frags "$id" \
	    bytes) bytes to a"
done
for p in fit sum; do
	[ -s "$T/$p.plan" ] || continue
	echo "  plan ($p):"
	grep -v '^-*$\|QUERY PLAN\|^([0-9]* rows)' "$T/$p.plan" |
	    sed 's/^/    /'
done
echo
awk -F'|' '
function secs(s) {
	return s == "-" ? sprintf("%10s", "-") : sprintf("%8.4f s", s)
}
BEGIN {
	printf "%-40s %10s %10s %7s %7s\n", "figure", "weft", "duckdb",
	    "ratio", "goal"
}
{
	g = ($5 == "") ? "-" : "<= " $5
	printf "%-40s %s %s %7s %7s  %s\n", $1, secs($2), secs($3), $4, g, $6
}' "$T/table"
echo "(fastest of $REPEAT runs; ratio = weft / duckdb, weft's whole process" \
    "against DuckDB's query inside node, as bench/query.sh; goal of issue 13)"
echo
cat "$BENCH_LINES"
[ -z "$failed" ] || bench_die "linreg:$failed"
