#!/bin/sh
# bench/run.sh: weft's benchmarks, run by `make bench` (see docs/bench.md).
#
#   WEFT=build/weft WEFT_GEN=build/weft-gen sh bench/run.sh [BENCH...]
#
# Sets up what every benchmark shares, then runs each named benchmark
# (default: all of BENCH_ALL below) as bench/NAME.sh: a scratch folder that
# is always deleted at exit, the rss timing helper, one events CSV from
# weft-gen, and DuckDB's node package, installed on demand into
# bench/node_modules. A benchmark that fails makes the run fail.
#
# Environment (all optional except as noted):
#   WEFT           weft binary (needed when "weft" is in BENCH_ENGINES)
#   WEFT_GEN       weft-gen binary (required)
#   BENCH_ROWS     rows in the events CSV (default 3000000)
#   BENCH_SEED     weft-gen seed (default 1)
#   BENCH_ENGINES  engines to compare (default "weft sqlite duckdb")
#   BENCH_REPEAT   runs of each measurement; the fastest counts (default 3)
#   BENCH_KEEP     if set, the scratch folder is kept (to read the logs)
#   TMPDIR         where the scratch folder goes (default /tmp); put it on
#                  the disk you mean to measure, since engines write there
set -e

# Benchmarks run by default, in order; a new one is bench/NAME.sh, added here.
BENCH_ALL="ingest query session fed policy linreg profile gossip catalog insider overlay wan sim"

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
BENCH_ROWS=${BENCH_ROWS:-3000000}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_ENGINES=${BENCH_ENGINES:-"weft sqlite duckdb"}
export BENCH_DIR BENCH_ROWS BENCH_SEED BENCH_ENGINES
. "$BENCH_DIR/lib.sh"

[ -n "$WEFT_GEN" ] && [ -x "$WEFT_GEN" ] ||
	bench_die "WEFT_GEN ('$WEFT_GEN') is not an executable weft-gen"
if bench_has weft; then
	[ -n "$WEFT" ] && [ -x "$WEFT" ] ||
		bench_die "WEFT ('$WEFT') is not an executable weft"
	WEFT=$(cd "$(dirname "$WEFT")" && pwd)/$(basename "$WEFT")
fi
WEFT_GEN=$(cd "$(dirname "$WEFT_GEN")" && pwd)/$(basename "$WEFT_GEN")
export WEFT WEFT_GEN

BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/weft-bench.XXXXXX")
export BENCH_TMP
trap '[ -n "$BENCH_KEEP" ] || rm -rf "$BENCH_TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

BENCH_RSS=$BENCH_TMP/rss
export BENCH_RSS
cc -std=gnu11 -O2 -o "$BENCH_RSS" "$BENCH_DIR/rss.c"

# DuckDB comes from npm (version pinned in bench/package.json). Without a
# network the comparison is skipped, not the whole run.
BENCH_DUCKDB=0
if bench_has duckdb; then
	if [ -f "$BENCH_DIR/node_modules/@duckdb/node-api/package.json" ]; then
		BENCH_DUCKDB=1
	elif command -v npm >/dev/null &&
	    (cd "$BENCH_DIR" && npm install --no-save --no-package-lock \
	    --no-audit --no-fund --silent) >"$BENCH_TMP/npm.log" 2>&1; then
		BENCH_DUCKDB=1
	else
		echo "duckdb: unavailable (npm install failed)"
		sed 's/^/    /' "$BENCH_TMP/npm.log" 2>/dev/null | tail -n 5
	fi
fi
export BENCH_DUCKDB

BENCH_CSV=$BENCH_TMP/events.csv
export BENCH_CSV
bench_time "$BENCH_TMP/gen.res" "$BENCH_TMP/gen.log" "$WEFT_GEN" \
	--rows "$BENCH_ROWS" --seed "$BENCH_SEED" --out "$BENCH_CSV" ||
	bench_die "weft-gen failed"
gen_s=$(bench_get "$BENCH_TMP/gen.res" wall_s)
csv_bytes=$(wc -c <"$BENCH_CSV" | tr -d ' ')
echo "data: $BENCH_ROWS rows of events, seed $BENCH_SEED, $(bench_calc \
	"sprintf(\"%.1f MB\", $csv_bytes / 1e6)") CSV, generated in $(bench_calc \
	"sprintf(\"%.2f\", $gen_s)") s"
bench_emit data csv_bytes "$csv_bytes"
bench_emit data gen_seconds "$gen_s"

# Others' work on this machine skews every figure; say so.
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
bench_emit data load_avg "$load"
if [ "$(bench_calc "($load > 0.5)")" = 1 ]; then
	echo "warning: load average $load before the run; other processes" \
	    "will skew the figures"
fi
echo

# shellcheck disable=SC2086 # BENCH_ALL is a list of names.
[ $# -gt 0 ] || set -- $BENCH_ALL
for b in "$@"; do
	[ -f "$BENCH_DIR/$b.sh" ] || bench_die "no benchmark bench/$b.sh"
	echo "== $b"
	sh "$BENCH_DIR/$b.sh" || bench_die "benchmark $b"
	echo
done
