# bench/lib.sh: helpers shared by the benchmark scripts; sourced, not run.
#
# bench/run.sh sets up the environment these rely on and exports it:
#   BENCH_DIR   this folder (absolute)
#   BENCH_TMP   the run's scratch folder, deleted when run.sh exits
#   BENCH_RSS   the rss helper (bench/rss.c), built into BENCH_TMP
#   BENCH_CSV   the events CSV, BENCH_ROWS rows from weft-gen, seed BENCH_SEED
#   BENCH_ENGINES  engines to run, a subset of "weft sqlite duckdb"
#   BENCH_DUCKDB   1 if bench/node_modules has @duckdb/node-api, else 0
#   WEFT, WEFT_GEN  the binaries under test (WEFT only if weft is run)

# bench_has ENGINE: true if ENGINE is among BENCH_ENGINES.
bench_has() {
	case " $BENCH_ENGINES " in
	*" $1 "*) return 0 ;;
	*) return 1 ;;
	esac
}

# bench_die MESSAGE: prints MESSAGE loudly and exits non-zero.
bench_die() {
	echo "bench: FAILED: $*" >&2
	exit 1
}

# bench_time RESULT LOG COMMAND...: runs COMMAND with its output in LOG and
# its figures (wall_s, user_s, sys_s, maxrss_kib, status) in RESULT. Returns
# the command's status; on failure the tail of LOG goes to stderr.
bench_time() {
	_bt_res=$1 _bt_log=$2
	shift 2
	_bt_rc=0
	"$BENCH_RSS" "$_bt_res" "$@" >"$_bt_log" 2>&1 || _bt_rc=$?
	if [ "$_bt_rc" -ne 0 ]; then
		echo "bench: '$*' exited with status $_bt_rc; its output ends:" >&2
		tail -n 20 "$_bt_log" | sed 's/^/    /' >&2
	fi
	return "$_bt_rc"
}

# bench_get FILE KEY: prints the value of KEY=VALUE from a line of FILE
# (the format of rss and duckdb_ingest.mjs output).
bench_get() {
	tr ' ' '\n' <"$1" | sed -n "s/^$2=//p" | head -n 1
}

# bench_calc EXPR: prints an awk expression's value. Parenthesize a
# comparison: a bare ">" in awk's print is output redirection.
bench_calc() {
	awk "BEGIN { print $1 }"
}

# bench_emit BENCH KEY VALUE: one machine-readable line per figure, printed
# at once or, when BENCH_LINES names a file, appended there to be printed
# after the human-readable report.
bench_emit() {
	if [ -n "$BENCH_LINES" ]; then
		echo "BENCH $1 $2=$3" >>"$BENCH_LINES"
	else
		echo "BENCH $1 $2=$3"
	fi
}

# bench_du PATH...: the space PATHs take on disk, in KiB.
bench_du() {
	du -sk "$@" 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'
}
