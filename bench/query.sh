#!/bin/sh
# bench/query.sh: how fast each engine answers four SQL queries over the
# events table (BENCH_ROWS rows) and the regions table (3,000 rows). Run by
# bench/run.sh, which provides the environment described in bench/lib.sh.
#
# Each engine loads both tables once, untimed: weft publishes both CSVs
# into a fresh node; SQLite imports them into typed tables, adds the
# indexes a user would add and runs ANALYZE; DuckDB loads them into an
# in-memory database. Then each query runs BENCH_REPEAT times (default 3)
# and the fastest run counts. weft and sqlite3 are timed as whole processes
# (`weft query ... --format csv`, `sqlite3 -csv DB "SQL"`, output to a
# file); DuckDB inside node, so node's start-up is left out. See
# docs/bench.md for what each figure means and for fairness notes.
#
# The engines must agree on every answer (same rows; for group-bys in any
# order; numbers to 1e-9 relative): the run fails, printing the query and
# both answers, when they do not, or when an engine fails. Missing the
# speed goals is reported, not a failure.
set -e
. "$BENCH_DIR/lib.sh"

T=$BENCH_TMP/query
REPEAT=${BENCH_REPEAT:-3}
mkdir -p "$T"
failed=""
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

# ---- The queries --------------------------------------------------------

# q_key N: the query's name in BENCH keys.
q_key() {
	case $1 in
	1) echo count ;;
	2) echo groupby ;;
	3) echo top10 ;;
	4) echo join ;;
	esac
}

# q_label N: the query's name in the table.
q_label() {
	case $1 in
	1) echo "filtered count" ;;
	2) echo "group-by count/avg, text key" ;;
	3) echo "top-10 by amount" ;;
	4) echo "join 3M x 3k, group-by" ;;
	esac
}

# q_sql N EVENTS REGIONS: the query's SQL, over the tables so named. The
# same text runs in every engine. Top-10's ORDER BY breaks ties (equal
# amounts) by ts, then user_id, so that its answer is one list.
q_sql() {
	case $1 in
	1) echo "SELECT count(*) FROM $2 WHERE amount > 50000 AND" \
	    "category = 'books'" ;;
	2) echo "SELECT category, count(*), avg(amount) FROM $2" \
	    "GROUP BY category" ;;
	3) echo "SELECT * FROM $2 ORDER BY amount DESC, ts, user_id LIMIT 10" ;;
	4) echo "SELECT r.country, count(*), sum(e.amount) FROM $2 e" \
	    "JOIN $3 r ON e.region = r.region GROUP BY r.country" ;;
	esac
}

# q_sorted N: 1 if the answer's row order is not defined (group-bys).
q_sorted() {
	case $1 in
	2 | 4) echo 1 ;;
	*) echo 0 ;;
	esac
}

# ---- Engines --------------------------------------------------------------

# Each engine's answer to query N goes to $T/ENGINE.qN.csv, and its runs to
# $T/ENGINE.qN.recs, one "SECONDS PEAK_RSS_KIB" line each.

# cli_runs ENGINE N COMMAND...: runs COMMAND (one query) REPEAT times with
# its output in $T/ENGINE.qN.csv, which every run must reproduce.
cli_runs() {
	c_eng=$1 c_n=$2
	shift 2
	c_out=$T/$c_eng.q$c_n
	: >"$c_out.recs"
	c_i=1
	while [ "$c_i" -le "$REPEAT" ]; do
		c_rc=0
		"$BENCH_RSS" "$T/$c_eng.res" "$@" >"$c_out.run" \
		    2>"$c_out.err" || c_rc=$?
		if [ "$c_rc" -ne 0 ]; then
			echo "bench: $c_eng, query $c_n ($(q_label "$c_n")):" \
			    "exited with status $c_rc:" >&2
			q_sql "$c_n" "<events>" "<regions>" | sed 's/^/    /' >&2
			tail -n 20 "$c_out.err" | sed 's/^/    /' >&2
			rm -f "$c_out.csv"
			return 1
		fi
		if [ "$c_i" = 1 ]; then
			mv "$c_out.run" "$c_out.csv"
		elif ! cmp -s "$c_out.run" "$c_out.csv"; then
			echo "bench: $c_eng, query $c_n: run $c_i answered" \
			    "differently from run 1" >&2
			rm -f "$c_out.csv"
			return 1
		fi
		echo "$(bench_get "$T/$c_eng.res" wall_s)" \
		    "$(bench_get "$T/$c_eng.res" maxrss_kib)" >>"$c_out.recs"
		c_i=$((c_i + 1))
	done
}

# Untimed set-up figures, for context: "ENGINE|what|SECONDS".
: >"$T/loads"

# weft: an org and a node, both tables published, then
# `weft query --format csv` per run. Its CSV starts with a header line.
WEFT_SKIP=1
weft_side() {
	if ! "$WEFT" org create benchorg --out "$T/org.key" \
	    >"$T/weft-setup.log" 2>&1 ||
	    ! "$WEFT" init --mesh test --data-dir "$T/node" --org "$T/org.key" \
	    --name bench1 >>"$T/weft-setup.log" 2>&1; then
		echo "bench: weft set-up failed:" >&2
		tail -n 20 "$T/weft-setup.log" | sed 's/^/    /' >&2
		return 1
	fi
	bench_time "$T/weft-pub.res" "$T/weft-pub.log" "$WEFT" publish \
	    --data-dir "$T/node" bench.events "$BENCH_CSV" || return 1
	w_pub=$(bench_get "$T/weft-pub.res" wall_s)
	bench_time "$T/weft-pub.res" "$T/weft-pub.log" "$WEFT" publish \
	    --data-dir "$T/node" bench.regions "$T/regions.csv" || return 1
	w_pub=$(bench_calc "$w_pub + $(bench_get "$T/weft-pub.res" wall_s)")
	echo "weft|weft publish, both tables|$w_pub" >>"$T/loads"
	bench_emit query weft_load_seconds "$w_pub"
	w_rc=0
	for n in 1 2 3 4; do
		cli_runs weft "$n" "$WEFT" query --data-dir "$T/node" \
		    "$(q_sql "$n" bench.events bench.regions)" --format csv ||
		    w_rc=1
	done
	return $w_rc
}

# sqlite3: typed tables filled by .import, the indexes a user would add for
# these queries, ANALYZE (all untimed, with journal and sync off); then
# `sqlite3 -csv DB "SQL"` per run, no header.
sqlite_side() {
	s_db=$T/sqlite.db
	bench_time "$T/sqlite-load.res" "$T/sqlite-load.log" sqlite3 "$s_db" \
	    "PRAGMA journal_mode=OFF;" "PRAGMA synchronous=OFF;" \
	    "CREATE TABLE events(ts TEXT, user_id INTEGER, amount INTEGER,
		category TEXT, region TEXT);" \
	    "CREATE TABLE regions(region TEXT, country TEXT,
		population INTEGER, score REAL);" \
	    ".import --csv --skip 1 $BENCH_CSV events" \
	    ".import --csv --skip 1 $T/regions.csv regions" \
	    "CREATE INDEX events_category ON events(category);" \
	    "CREATE INDEX events_amount ON events(amount);" \
	    "CREATE INDEX events_region ON events(region);" \
	    "CREATE INDEX regions_region ON regions(region);" \
	    "ANALYZE;" || return 1
	s_load=$(bench_get "$T/sqlite-load.res" wall_s)
	echo "sqlite|sqlite3 import + 4 indexes + ANALYZE|$s_load" >>"$T/loads"
	bench_emit query sqlite_load_seconds "$s_load"
	s_rc=0
	for n in 1 2 3 4; do
		sqlite3 "$s_db" "EXPLAIN QUERY PLAN $(q_sql "$n" events regions)" \
		    >"$T/sqlite.q$n.plan" 2>&1 || true
		cli_runs sqlite "$n" sqlite3 -csv -bail "$s_db" \
		    "$(q_sql "$n" events regions)" || s_rc=1
	done
	return $s_rc
}

# DuckDB: bench/duckdb_query.mjs loads both tables into memory and runs
# every query REPEAT times, timing each inside node. No header.
duckdb_side() {
	bench_time "$T/duckdb.res" "$T/duckdb.out" node \
	    "$BENCH_DIR/duckdb_query.mjs" "$BENCH_CSV" "$T/regions.csv" "$T" \
	    "$REPEAT" "$(q_sql 1 events regions)" "$(q_sql 2 events regions)" \
	    "$(q_sql 3 events regions)" "$(q_sql 4 events regions)" ||
	    return 1
	d_load=$(bench_get "$T/duckdb.out" load_s)
	echo "duckdb|duckdb read_csv into memory|$d_load" >>"$T/loads"
	bench_emit query duckdb_load_seconds "$d_load"
	bench_emit query duckdb_peak_rss_kib \
	    "$(bench_get "$T/duckdb.res" maxrss_kib)"
	d_label="duckdb $(bench_get "$T/duckdb.out" version)"
	d_label="$d_label, $(bench_get "$T/duckdb.out" threads) threads"
	for n in 1 2 3 4; do
		grep "^query=$n " "$T/duckdb.out" >"$T/duckdb.line"
		bench_get "$T/duckdb.line" seconds_all | tr ',' '\n' |
		    sed 's/$/ 0/' >"$T/duckdb.q$n.recs"
	done
}

"$WEFT_GEN" --table regions --seed "$BENCH_SEED" --out "$T/regions.csv" ||
	bench_die "weft-gen --table regions failed"

echo "best of $REPEAT runs each; $BENCH_ROWS events rows, 3000 regions rows"
bench_emit query runs "$REPEAT"
engines=""
w_label="" s_label="" d_label=""
if bench_has weft; then
	w_label="weft"
	engines="$engines weft"
	weft_side || failed="$failed weft"
fi
if bench_has sqlite; then
	if command -v sqlite3 >/dev/null; then
		s_label="sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
		engines="$engines sqlite"
		sqlite_side || failed="$failed sqlite"
	else
		echo "sqlite: unavailable (no sqlite3; run make deps)"
	fi
fi
if bench_has duckdb && [ "$BENCH_DUCKDB" = 1 ]; then
	engines="$engines duckdb"
	duckdb_side || failed="$failed duckdb"
elif bench_has duckdb; then
	echo "duckdb: unavailable (npm install failed)"
fi

# ---- Agreement --------------------------------------------------------------

# Every pair of engines with an answer must agree; weft is compared with
# each of the others, and SQLite with DuckDB.
mismatch=""
for n in 1 2 3 4; do
	for e in $engines; do
		[ -f "$T/$e.q$n.csv" ] || continue
		skip=0
		[ "$e" = weft ] && skip=$WEFT_SKIP
		bench_norm "$T/$e.q$n.csv" "$skip" "$(q_sorted "$n")" >/dev/null
	done
	for pair in weft:sqlite weft:duckdb sqlite:duckdb; do
		a=${pair%%:*} b=${pair#*:}
		[ -f "$T/$a.q$n.csv.norm" ] && [ -f "$T/$b.q$n.csv.norm" ] ||
			continue
		if ! bench_same "$T/$b.q$n.csv.norm" "$T/$a.q$n.csv.norm" \
		    >"$T/diff" 2>&1; then
			{
				echo "bench: query $n ($(q_label "$n")): $a's" \
				    "answer differs from $b's: $(cat "$T/diff")"
				echo "    $(q_sql "$n" "<events>" "<regions>")"
				echo "  $a (tab-separated, as compared):"
				head -n 50 "$T/$a.q$n.csv.norm" | sed 's/^/    /'
				echo "  $b:"
				head -n 50 "$T/$b.q$n.csv.norm" | sed 's/^/    /'
			} >&2
			mismatch="$mismatch q$n:$a/$b"
		fi
	done
done

# ---- Report -------------------------------------------------------------

# best ENGINE N: "SECONDS RSS_KIB" of the fastest run, or nothing.
best() {
	[ -s "$T/$1.q$2.recs" ] && [ -f "$T/$1.q$2.csv" ] || return 0
	sort -n -k1,1 "$T/$1.q$2.recs" | head -n 1
}

echo
[ -z "$w_label" ] || echo "weft:   $w_label (whole process, incl. start-up)"
[ -z "$s_label" ] || echo "sqlite: $s_label (whole process, incl. start-up)"
[ -z "$d_label" ] || echo "duckdb: $d_label (inside node, in memory)"
awk -F'|' '{ printf "  load (untimed below): %-40s %8.2f s\n", $2, $3 }' \
    "$T/loads"
echo
: >"$T/table"
for n in 1 2 3 4; do
	k=$(q_key "$n")
	# shellcheck disable=SC2046 # splits "SECONDS RSS".
	set -- $(best weft "$n") - -
	w_s=$1 w_rss=$2
	# shellcheck disable=SC2046
	set -- $(best sqlite "$n") - -
	s_s=$1 s_rss=$2
	# shellcheck disable=SC2046
	set -- $(best duckdb "$n") - -
	d_s=$1
	for e in weft sqlite duckdb; do
		[ -s "$T/$e.q$n.recs" ] && [ -f "$T/$e.q$n.csv" ] || continue
		bench_emit query "${e}_${k}_seconds" "$(best "$e" "$n" |
		    cut -d' ' -f1)"
		bench_emit query "${e}_${k}_seconds_all" "$(awk '
		    { printf "%s%s", sep, $1; sep = "," }' "$T/$e.q$n.recs")"
	done
	[ "$w_rss" = - ] || bench_emit query "weft_${k}_peak_rss_kib" "$w_rss"
	[ "$s_rss" = - ] || bench_emit query "sqlite_${k}_peak_rss_kib" \
	    "$s_rss"
	if [ -f "$T/weft.q$n.csv.norm" ]; then
		bench_emit query "${k}_rows" "$(wc -l <"$T/weft.q$n.csv.norm" |
		    tr -d ' ')"
	fi
	sw=- wd=-
	if [ "$w_s" != - ] && [ "$s_s" != - ]; then
		sw=$(bench_calc "sprintf(\"%.2f\", $s_s / $w_s)")
		bench_emit query "${k}_sqlite_vs_weft" "$sw"
	fi
	if [ "$w_s" != - ] && [ "$d_s" != - ]; then
		wd=$(bench_calc "sprintf(\"%.2f\", $w_s / $d_s)")
		bench_emit query "${k}_weft_vs_duckdb" "$wd"
	fi
	echo "$(q_label "$n")|$w_s|$s_s|$d_s|$w_rss|$sw|$wd" >>"$T/table"
done

awk -F'|' '
function secs(s) { return s == "-" ? sprintf("%8s", "-") : sprintf("%8.3f", s) }
function ratio(r, goal, le) {
	if (r == "-")
		return sprintf("%8s %-8s", "-", "")
	return sprintf("%7.2fx %-8s", r,
	    (le ? r + 0 <= goal : r + 0 >= goal) ? "met" : "NOT met")
}
BEGIN {
	printf "%-29s %8s %8s %8s %10s %17s %17s\n", "query", "weft s",
	    "sqlite s", "duckdb s", "weft RSS", "sqlite/weft >=10", "weft/duckdb <=1.5"
}
{
	rss = $5 == "-" ? sprintf("%10s", "-") : sprintf("%6.1f MiB", $5 / 1024)
	printf "%-29s %s %s %s %s %s %s\n", $1, secs($2), secs($3), secs($4),
	    rss, ratio($6, 10, 0), ratio($7, 1.5, 1)
}' "$T/table"
echo "(goals: each query >= 10x as fast as sqlite, <= 1.5x duckdb's time)"
echo

cat "$BENCH_LINES"
[ -z "$mismatch" ] || failed="$failed answers:$mismatch"
[ -z "$failed" ] || bench_die "query:$failed"
