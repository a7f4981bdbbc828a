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

# ---- Meshes of agents (bench/gossip.sh, overlay.sh, catalog.sh, insider.sh)
# A script keeps its agents' pids in BENCH_PIDS and calls bench_agents_trap
# once: at exit the agents are stopped, then bench_on_exit runs (a script
# that made a network namespace redefines it to delete it). With
# BENCH_NETNS set, bench_mesh_start runs the agents inside that namespace.

bench_now_ms() { date +%s%3N; }

# bench_log_ms TIME: an agent log line's time (2026-12-07T04:31:07.123Z) in
# milliseconds since the epoch.
bench_log_ms() {
	date -u -d "$(echo "$1" | sed 's/T/ /; s/Z$//')" +%s%3N
}

bench_on_exit() { :; }

# bench_agents_stop: SIGTERM to every agent in BENCH_PIDS; waits for them.
# Returns non-zero if one exited with an error.
bench_agents_stop() {
	_bs_rc=0
	for _bs_p in $BENCH_PIDS; do kill -TERM "$_bs_p" 2>/dev/null || :; done
	for _bs_p in $BENCH_PIDS; do wait "$_bs_p" || _bs_rc=$?; done
	BENCH_PIDS=""
	return $_bs_rc
}

bench_agents_trap() {
	BENCH_PIDS=""
	trap 'bench_agents_stop 2>/dev/null; bench_on_exit' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# bench_mesh_init DIR ORG N MESH: org ORG (key DIR/org.key) and N nodes
# DIR/n0 .. DIR/n(N-1) of it on mesh MESH.
bench_mesh_init() {
	"$WEFT" org create "$2" --out "$1/org.key" >/dev/null
	_bi=0
	while [ $_bi -lt "$3" ]; do
		"$WEFT" init --data-dir "$1/n$_bi" --org "$1/org.key" \
		    --name "n$_bi" --mesh "$4" >/dev/null 2>&1 ||
		    bench_die "weft init of $1/n$_bi failed"
		_bi=$((_bi + 1))
	done
}

# bench_mesh_start DIR N ARGS...: DIR/n0's agent listens (the seed: its
# address in BENCH_SEED, its pid in BENCH_SEED_PID), then the others
# start, each with --join the seed, as fast as the shell starts them;
# every agent gets ARGS, logs to DIR/nI.log and leaves its pid in
# DIR/nI.pid. Agents listen on 127.0.0.1 (in BENCH_NETNS if set), or,
# with BENCH_HOSTS set to a list of NETNS,ADDR items, agent I runs in
# item I mod (the number of items) and listens on its ADDR.
bench_mesh_agent() {
	_ba_i=$1
	shift
	_ba_ns=$BENCH_NETNS _ba_addr=127.0.0.1
	if [ -n "$BENCH_HOSTS" ]; then
		# shellcheck disable=SC2086 # a list
		_ba_h=$(printf '%s\n' $BENCH_HOSTS |
		    sed -n "$((_ba_i % $(printf '%s\n' $BENCH_HOSTS | wc -l) + 1))p")
		_ba_ns=${_ba_h%%,*} _ba_addr=${_ba_h#*,}
	fi
	${_ba_ns:+ip netns exec "$_ba_ns"} "$WEFT" agent \
	    --data-dir "$_bd/n$_ba_i" --listen "$_ba_addr:0" "$@" \
	    2>"$_bd/n$_ba_i.log" &
	echo $! >"$_bd/n$_ba_i.pid"
	BENCH_PIDS="$BENCH_PIDS $!"
}
bench_mesh_start() {
	_bd=$1 _bn=$2
	shift 2
	bench_mesh_agent 0 "$@"
	BENCH_SEED_PID=$!
	"$WEFT" status --data-dir "$_bd/n0" --json --wait 20 >"$_bd/seed.json" ||
	    bench_die "the seed agent did not start: $(tail -n 3 "$_bd/n0.log")"
	BENCH_SEED=$(sed -n 's/.*"listen":\["\([^"]*\)"\].*/\1/p' "$_bd/seed.json")
	_bi=1
	while [ $_bi -lt "$_bn" ]; do
		bench_mesh_agent $_bi --join "$BENCH_SEED" "$@"
		_bi=$((_bi + 1))
	done
}

# bench_alive DIR: how many members DIR's agent lists alive.
bench_alive() {
	"$WEFT" members --data-dir "$1" --json 2>/dev/null |
	    grep -o '"state":"alive"' | wc -l
}

# bench_stat DIR KEY: a number from DIR's `weft status --json` (empty if
# the agent does not answer).
bench_stat() {
	"$WEFT" status --data-dir "$1" --json 2>/dev/null |
	    sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" | head -1
}

# bench_mesh_wait_list DIR LIST SECONDS: until every agent DIR/nI, I in
# LIST, lists exactly the others of LIST alive (asked in turn; one once
# complete is not asked again). Non-zero after SECONDS, with BENCH_SHORT
# saying who lacks how many.
bench_mesh_wait_list() {
	_bend=$(($(bench_now_ms) + $3 * 1000))
	_bwant=$(($(echo "$2" | wc -w) - 1))
	for _bi in $2; do
		while [ "$(bench_alive "$1/n$_bi")" -ne "$_bwant" ]; do
			if [ "$(bench_now_ms)" -ge "$_bend" ]; then
				BENCH_SHORT="n$_bi lists $(bench_alive "$1/n$_bi") of $_bwant members alive after $3 s"
				return 1
			fi
			sleep 0.1
		done
	done
}

# bench_mesh_wait DIR N SECONDS: bench_mesh_wait_list for DIR/n0 ..
# DIR/n(N-1).
bench_mesh_wait() {
	bench_mesh_wait_list "$1" "$(seq 0 $(($2 - 1)))" "$3"
}

# bench_reach DIR N SKIP LINE T0 SECONDS: waits until the log of every agent
# but nSKIP holds LINE (a grep pattern), then prints the most milliseconds
# from T0 (bench_now_ms) to an agent's first such line; every agent's
# figure, sorted, is left in DIR/reach.ms. Non-zero after
# SECONDS, with BENCH_SHORT saying how many had it (and on stderr, since
# the caller usually runs it in a command substitution).
bench_reach() {
	_bend=$(($(bench_now_ms) + $6 * 1000))
	while :; do
		_bg=$(grep -l -- "$4" "$1"/n*.log 2>/dev/null | grep -v "/n$3\.log$" |
		    wc -l)
		[ "$_bg" -ge $(($2 - 1)) ] && break
		if [ "$(bench_now_ms)" -ge "$_bend" ]; then
			BENCH_SHORT="$_bg of $(($2 - 1)) agents after $6 s"
			echo "bench_reach: $4: $BENCH_SHORT" >&2
			return 1
		fi
		sleep 0.1
	done
	_bi=0
	while [ $_bi -lt "$2" ]; do
		if [ $_bi -ne "$3" ]; then
			_bt=$(grep -m1 -- "$4" "$1/n$_bi.log" | cut -d' ' -f1)
			echo $(($(bench_log_ms "$_bt") - $5))
		fi
		_bi=$((_bi + 1))
	done | sort -n >"$1/reach.ms"
	tail -n 1 "$1/reach.ms"
}
