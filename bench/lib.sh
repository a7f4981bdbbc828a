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

# bench_norm FILE SKIP SORTED: FILE's CSV rows (RFC 4180, one row a line; the
# first SKIP lines, a header, left out) with their fields tab-separated,
# sorted bytewise when SORTED is 1. Also written to FILE.norm.
bench_norm() {
	LC_ALL=C awk -v skip="$2" '
	NR > skip {
		sub(/\r$/, "")
		out = ""; f = ""; q = 0; nf = 0; n = length($0)
		for (i = 1; i <= n; i++) {
			c = substr($0, i, 1)
			if (q) {
				if (c != "\"")
					f = f c
				else if (substr($0, i + 1, 1) == "\"") {
					f = f c
					i++
				} else
					q = 0
			} else if (c == "\"")
				q = 1
			else if (c == ",") {
				out = out (nf++ ? "\t" : "") f
				f = ""
			} else
				f = f c
		}
		print out (nf ? "\t" : "") f
	}' "$1" >"$1.norm"
	if [ "$3" = 1 ]; then
		LC_ALL=C sort "$1.norm" >"$1.sorted"
		mv "$1.sorted" "$1.norm"
	fi
	cat "$1.norm"
}

# bench_same A B: true if normalised answers A and B hold the same rows, numbers
# equal to 1e-9 relative and everything else byte for byte. Otherwise says
# where they first differ.
bench_same() {
	LC_ALL=C awk -F'\t' '
	function isnum(s) {
		return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/
	}
	function abs(x) { return x < 0 ? -x : x }
	FILENAME == ARGV[1] { a[++na] = $0; next }
	{
		nb++
		if (nb > na)
			next
		n = split(a[nb], x, "\t")
		if (n != NF) {
			printf "row %d: %d columns, not %d\n", nb, NF, n
			bad = 1
			exit
		}
		for (i = 1; i <= n; i++) {
			if (isnum(x[i]) && isnum($i)) {
				d = abs(x[i] - $i)
				m = abs(x[i]) > abs($i) ? abs(x[i]) : abs($i)
				if (d <= 1e-9 * m)
					continue
			} else if (x[i] == $i)
				continue
			printf "row %d, column %d: \"%s\", not \"%s\"\n", nb, i,
			    $i, x[i]
			bad = 1
			exit
		}
	}
	END {
		if (!bad && na != nb) {
			printf "%d rows, not %d\n", nb, na
			bad = 1
		}
		exit bad
	}' "$1" "$2"
}
