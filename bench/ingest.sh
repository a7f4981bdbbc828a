#!/bin/sh
# bench/ingest.sh: how fast each engine turns the events CSV into a
# persisted, queryable table. Run by bench/run.sh, which provides the
# environment described in bench/lib.sh.
#
# Every engine reads the same file (warm in the page cache, since weft-gen
# just wrote it) and writes into the same scratch folder, BENCH_REPEAT times
# (default 3) into a fresh database each time; the fastest run is reported.
# Times are wall clock for the load alone: weft's org and node set-up,
# node's start-up and DuckDB's database open are left out. See
# docs/bench.md for what each figure means and for fairness notes.
#
# The run fails if an engine fails or reports a row count other than
# BENCH_ROWS in any run; missing the speed goals is reported, not a failure.
set -e
. "$BENCH_DIR/lib.sh"

T=$BENCH_TMP/ingest
REPEAT=${BENCH_REPEAT:-3}
mkdir -p "$T"
failed=""
: >"$T/table"
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

# Each *_once function below loads the CSV once into a fresh database and
# writes one line to $T/rec: "SECONDS RSS_KIB ROWS DISK_KIB [KEY=VALUE...]",
# the extra pairs being further figures to report. It may write a label for
# the table to $T/label. It returns non-zero, having said why, on failure.

# measure NAME LABEL FUNCTION [ARG...]: runs FUNCTION REPEAT times, then
# reports the fastest run under NAME (the BENCH keys) and LABEL (the table).
measure() {
	m_name=$1 m_label=$2
	shift 2
	: >"$T/$m_name.recs"
	rm -f "$T/label"
	m_i=1
	while [ "$m_i" -le "$REPEAT" ]; do
		if ! "$@"; then
			failed="$failed $m_name"
			return 0
		fi
		cat "$T/rec" >>"$T/$m_name.recs"
		m_i=$((m_i + 1))
	done
	[ -f "$T/label" ] && m_label=$(cat "$T/label")

	# Every run must hold every row, not just the fastest.
	m_bad=$(awk -v n="$BENCH_ROWS" '$3 != n { print $3; exit }' \
	    "$T/$m_name.recs")
	if [ -n "$m_bad" ]; then
		echo "bench: FAILED: $m_label holds $m_bad rows, not" \
		    "$BENCH_ROWS" >&2
		failed="$failed $m_name"
	fi

	m_all=$(awk '{ printf "%s%s", sep, $1; sep = "," }' "$T/$m_name.recs")
	# shellcheck disable=SC2046 # splits the record into its fields.
	set -- $(sort -n -k1,1 "$T/$m_name.recs" | head -n 1)
	m_rps=$(bench_calc "int($BENCH_ROWS / $1 + 0.5)")
	echo "$m_name|$m_label|$1|$m_rps|$2|$4|$3" >>"$T/table"
	bench_emit ingest "${m_name}_seconds" "$1"
	bench_emit ingest "${m_name}_rows_per_s" "$m_rps"
	bench_emit ingest "${m_name}_peak_rss_kib" "$2"
	bench_emit ingest "${m_name}_disk_kib" "$4"
	bench_emit ingest "${m_name}_rows" "$3"
	bench_emit ingest "${m_name}_seconds_all" "$m_all"
	shift 4
	for m_kv in "$@"; do
		bench_emit ingest "${m_name}_${m_kv%%=*}" "${m_kv#*=}"
	done
}

# weft: an org (once) and a fresh node (each run) are set up untimed; only
# `weft publish` is timed.
weft_once() {
	rm -rf "$T/node"
	if ! "$WEFT" init --mesh test --data-dir "$T/node" --org "$T/org.key" \
	    --name bench1 >"$T/weft-init.log" 2>&1; then
		echo "bench: weft init failed:" >&2
		sed 's/^/    /' "$T/weft-init.log" | tail -n 20 >&2
		return 1
	fi
	bench_time "$T/weft.res" "$T/weft-publish.log" "$WEFT" publish \
	    --data-dir "$T/node" bench.events "$BENCH_CSV" || return 1
	if ! "$WEFT" products --data-dir "$T/node" --json \
	    >"$T/weft-products.json" 2>"$T/weft-products.log"; then
		echo "bench: weft products failed:" >&2
		sed 's/^/    /' "$T/weft-products.log" | tail -n 20 >&2
		return 1
	fi
	w_rows=$(tr -d '\n' <"$T/weft-products.json" |
	    grep -o '"rows"[[:space:]]*:[[:space:]]*[0-9]*' | head -n 1 |
	    sed 's/.*://; s/[[:space:]]//g')
	if [ -z "$w_rows" ]; then
		echo "bench: 'weft products --json' printed no \"rows\":" >&2
		sed 's/^/    /' "$T/weft-products.json" | head -n 20 >&2
		w_rows=none
	fi
	echo "$(bench_get "$T/weft.res" wall_s)" \
	    "$(bench_get "$T/weft.res" maxrss_kib)" "$w_rows" \
	    "$(bench_du "$T/node")" >"$T/rec"
	rm -rf "$T/node"
}

# sqlite3 as a user would run it: a new file database, the table created by
# .import from the header (all columns TEXT). PRAGMAs, if any, run first.
sqlite_once() { # NAME [PRAGMA...]
	s_db=$T/$1.db
	shift
	rm -f "$s_db"
	bench_time "$T/sqlite.res" "$T/sqlite.log" sqlite3 "$s_db" "$@" \
	    ".import --csv $BENCH_CSV events" || return 1
	echo "$(bench_get "$T/sqlite.res" wall_s)" \
	    "$(bench_get "$T/sqlite.res" maxrss_kib)" \
	    "$(sqlite3 "$s_db" 'SELECT count(*) FROM events')" \
	    "$(bench_du "$s_db")" >"$T/rec"
	rm -f "$s_db"
}

# DuckDB: a new file database; the time is CREATE TABLE AS read_csv plus
# the CHECKPOINT that completes the database file (reported apart too).
duckdb_once() { # NAME [THREADS]
	d_db=$T/$1.db
	rm -f "$d_db" "$d_db.wal"
	# shellcheck disable=SC2086 # no THREADS argument when $2 is empty.
	bench_time "$T/duckdb.res" "$T/duckdb.out" node \
	    "$BENCH_DIR/duckdb_ingest.mjs" "$BENCH_CSV" "$d_db" $2 ||
	    return 1
	d_create=$(bench_get "$T/duckdb.out" seconds)
	d_ckpt=$(bench_get "$T/duckdb.out" checkpoint_s)
	echo "$(bench_calc "$d_create + $d_ckpt")" \
	    "$(bench_get "$T/duckdb.res" maxrss_kib)" \
	    "$(bench_get "$T/duckdb.out" rows)" \
	    "$(bench_du "$d_db" "$d_db.wal")" \
	    "create_seconds=$d_create checkpoint_seconds=$d_ckpt" >"$T/rec"
	echo "duckdb $(bench_get "$T/duckdb.out" version)," \
	    "$(bench_get "$T/duckdb.out" threads) thr" >"$T/label"
	rm -f "$d_db" "$d_db.wal"
}

# DuckDB into an in-memory database: no durability at all, so the fastest
# DuckDB can load this file; shown so the comparison above is not flattered.
duckdb_mem_once() { # NAME
	bench_time "$T/duckdb.res" "$T/duckdb.out" node \
	    "$BENCH_DIR/duckdb_ingest.mjs" "$BENCH_CSV" ":memory:" || return 1
	echo "$(bench_get "$T/duckdb.out" seconds)" \
	    "$(bench_get "$T/duckdb.res" maxrss_kib)" \
	    "$(bench_get "$T/duckdb.out" rows)" 0 >"$T/rec"
	echo "duckdb $(bench_get "$T/duckdb.out" version), in memory" \
	    >"$T/label"
}

echo "best of $REPEAT runs each"
bench_emit ingest runs "$REPEAT"

if bench_has weft; then
	if "$WEFT" org create benchorg --out "$T/org.key" \
	    >"$T/weft-org.log" 2>&1; then
		measure weft "weft" weft_once
	else
		echo "bench: weft org create failed:" >&2
		sed 's/^/    /' "$T/weft-org.log" | tail -n 20 >&2
		failed="$failed weft"
	fi
fi

if bench_has sqlite; then
	if command -v sqlite3 >/dev/null; then
		s_ver=$(sqlite3 --version | cut -d' ' -f1)
		measure sqlite "sqlite3 $s_ver" sqlite_once sqlite
		measure sqlite_nosync "sqlite3 $s_ver, journal+sync off" \
		    sqlite_once sqlite_nosync "PRAGMA journal_mode=OFF;" \
		    "PRAGMA synchronous=OFF;"
	else
		echo "sqlite: unavailable (no sqlite3; run make deps)"
	fi
fi

if bench_has duckdb && [ "$BENCH_DUCKDB" = 1 ]; then
	# DuckDB's default (a thread per core), then one thread, to compare
	# with weft's single writer.
	measure duckdb "duckdb" duckdb_once duckdb ""
	measure duckdb_1t "duckdb, 1 thread" duckdb_once duckdb_1t 1
	measure duckdb_mem "duckdb, in memory" duckdb_mem_once duckdb_mem
elif bench_has duckdb; then
	echo "duckdb: unavailable (npm install failed)"
fi

# The table, then the ratios against the goals.
echo
awk -F'|' -v mb="$(wc -c <"$BENCH_CSV")" '
BEGIN {
	printf "%-34s %9s %11s %8s %10s %10s\n", "engine", "seconds",
	    "rows/s", "MB/s", "peak RSS", "on disk"
}
{
	printf "%-34s %9.3f %11d %8.1f %6.1f MiB %6.1f MiB\n", $2, $3, $4,
	    mb / 1e6 / $3, $5 / 1024, $6 / 1024
}' "$T/table"
echo "(on disk: the database left behind; peak RSS of duckdb includes node" \
    "itself)"
echo

secs_of() { awk -F'|' -v n="$1" '$1 == n { print $3 }' "$T/table"; }
weft_s=$(secs_of weft)
ratio() { # NAME GOAL LABEL
	r_s=$(secs_of "$1")
	[ -n "$weft_s" ] && [ -n "$r_s" ] || return 0
	r_x=$(bench_calc "sprintf(\"%.2f\", $r_s / $weft_s)")
	r_ok=$(bench_calc "($r_x >= $2) ? \"met\" : \"NOT met\"")
	printf '%-36s %6sx   goal >= %sx: %s\n' "weft vs $3:" "$r_x" "$2" \
	    "$r_ok"
	bench_emit ingest "weft_vs_$1" "$r_x"
}
echo "goal: weft ingests >= 5x as fast as sqlite, >= 1x as fast as duckdb"
ratio sqlite 5 "sqlite (default)"
ratio sqlite_nosync 5 "sqlite (journal+sync off)"
ratio duckdb 1 "duckdb (default threads)"
ratio duckdb_1t 1 "duckdb (1 thread)"
ratio duckdb_mem 1 "duckdb (in memory, no durability)"
[ -n "$weft_s" ] || ! bench_has weft || echo "(no weft figure: see above)"

echo
cat "$BENCH_LINES"
[ -z "$failed" ] || bench_die "ingest:$failed"
