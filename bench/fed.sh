#!/bin/sh
# bench/fed.sh: federated SQL (issue 12), weft beside postgres_fdw. Run by
# bench/run.sh, which provides the environment described in bench/lib.sh.
#
# Set-up (untimed): orgs acme and globex; acme's nodes a (the asker), b
# (hosts acme's bench.events, the events CSV), c (hosts bench.regions,
# 3,000 rows from weft-gen) and ga (gateway); globex's nodes gb (gateway)
# and x (hosts globex's bench.events, the same CSV, visible to acme). The
# two orgs link only gateway to gateway (as tests/cli/t_gateway.sh), so a
# query from a to x can only go through ga and gb. Two PostgreSQL servers
# on this host: the owner's, with events (and regions, for its local
# figures), and the asker's, with regions and events as a postgres_fdw
# foreign table (use_remote_estimate 'true', fetch_size '10000').
#
# Measurements, each the fastest of BENCH_REPEAT runs (default 3) of a
# whole process, weft query or psql, the runs of one query's measurements
# interleaved round by round, each printed beside its peer with the ratio
# and the issue's goal:
#   (a) group-by of acme.bench.events asked from a (remote) vs the same on
#       b with --local, and vs postgres_fdw;
#   (b) events (b) joined with regions (c), grouped by country, asked from
#       a, vs postgres_fdw with regions on the asking server;
#   (c) one million rows (or BENCH_ROWS, if fewer) streamed from x to a
#       through both gateways: rows/s and MiB/s beside one weft session's
#       bulk throughput into a's agent (weft-netbench session);
#   (d) (a)'s group-by of globex.bench.events through both gateways vs
#       (a)'s remote figure;
#   (e) (a)'s group-by repeated, unchanged: whole process;
#   (g) (b)'s join of rows (not grouped) with a selective filter on
#       regions (score > 99.5: about 0.5% of them), asked from a: regions'
#       keys go into the events fragment (a dynamic filter,
#       query/plan_dynf.c), vs postgres_fdw (regions local, events
#       foreign), with the rows the events fragment sent;
#   (f) (b)'s join with both products on b (bench.places: the regions CSV
#       again, on b), asked from a: the whole join and group-by run on b
#       (query/subplan.c), vs the same on b with --local (goal as (a)'s:
#       <= 1.3 x local + 5 ms), and vs postgres_fdw, which pushes the join
#       and the aggregate to the owner's server too (for context);
# and, for context, a one-row remote query in both (the floor: process,
# connection, one round trip to the owner).
# Every timed run of (a) to (d) carries its own always-true bound
# (amount > -1000001, -1000002, ...), so no two runs send the same fragment
# and none can be answered from a result cache; (e) repeats one text.
#
# Every answer is checked before it counts: weft's remote answer must equal
# weft's local one and PostgreSQL's (sorted; numbers to 1e-9 relative), and
# every run the first. A wrong answer, a failing step or an agent that does
# not exit cleanly fails the run. A query through the gateways that fails
# (tunnels across orgs may not exist yet) is reported as not measured.
# Missing a goal is reported, not a failure. See docs/bench.md.
set -e
. "$BENCH_DIR/lib.sh"

T=$BENCH_TMP/fed
REPEAT=${BENCH_REPEAT:-3}
SROWS=1000000
[ "$BENCH_ROWS" -lt "$SROWS" ] && SROWS=$BENCH_ROWS
MIB=${BENCH_FED_SESSION_MIB:-512}
FRAME=262144
mkdir -p "$T"
failed=""
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

if ! bench_has weft; then
	echo "fed: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
NB=$(dirname "$WEFT")/weft-netbench

# ---- Processes: agents and PostgreSQL servers ---------------------------

# Every process started, kept in variables (not only in files: the scratch
# folder may be going when they are stopped): "NAME:PID ..." of the agents,
# and the postmasters' PIDs.
AGENTS=""
PGPIDS=""

# stop_all: SIGTERM to every agent, then waits for each; SIGQUIT (immediate
# shutdown) to every PostgreSQL server, waiting up to 10 s for each to go.
# Returns non-zero, with the end of its log, when an agent had gone before
# or did not exit with status 0 on the signal.
stop_all() {
	s_rc=0
	s_list=$AGENTS
	AGENTS=""
	s_gone=""
	for s_a in $s_list; do
		kill -TERM "${s_a#*:}" 2>/dev/null || s_gone="$s_gone ${s_a%%:*}"
	done
	for s_a in $s_list; do
		s_st=0
		wait "${s_a#*:}" || s_st=$?
		case " $s_gone " in
		*" ${s_a%%:*} "*) s_when="before the end of the run" ;;
		*) s_when="on SIGTERM" ;;
		esac
		if [ "$s_st" -ne 0 ] || [ "$s_when" != "on SIGTERM" ]; then
			echo "bench: weft agent ${s_a%%:*} exited with status" \
			    "$s_st $s_when; its log ends:" >&2
			tail -n 20 "$T/${s_a%%:*}.log" 2>/dev/null |
			    sed 's/^/    /' >&2
			s_rc=1
		fi
	done
	s_list=$PGPIDS
	PGPIDS=""
	for s_p in $s_list; do
		kill -QUIT "$s_p" 2>/dev/null || :
	done
	for s_p in $s_list; do
		s_i=0
		while kill -0 "$s_p" 2>/dev/null && [ "$s_i" -lt 100 ]; do
			sleep 0.1
			s_i=$((s_i + 1))
		done
	done
	return $s_rc
}
trap 'stop_all || :' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_agent NAME ARG...: `weft agent` on node NAME, listening on a free
# loopback port, its log in $T/NAME.log; waits until `weft status` answers
# and writes the address it listens on to $T/NAME.addr.
start_agent() {
	a_n=$1
	shift
	"$WEFT" agent --data-dir "$T/$a_n" --listen 127.0.0.1:0 \
	    --gossip-interval 200ms "$@" >"$T/$a_n.log" 2>&1 &
	AGENTS="$AGENTS $a_n:$!"
	if ! "$WEFT" status --data-dir "$T/$a_n" --json --wait 20 \
	    >"$T/$a_n.status" 2>&1; then
		echo "bench: weft status did not find agent $a_n:" >&2
		tail -n 5 "$T/$a_n.status" | sed 's/^/    /' >&2
		tail -n 20 "$T/$a_n.log" | sed 's/^/    /' >&2
		return 1
	fi
	sed -n 's/.*"listen":\["\([^"]*\)".*/\1/p' "$T/$a_n.status" \
	    >"$T/$a_n.addr"
	[ -s "$T/$a_n.addr" ] || {
		echo "bench: no listen address for agent $a_n" >&2
		return 1
	}
}

# wait_for SECONDS COMMAND...: runs COMMAND every 0.2 s until it succeeds;
# non-zero if it never did within SECONDS.
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$w_end" ] || return 1
		sleep 0.2
	done
}

# has_peer NODE PEER: NODE's agent has a session with PEER.
has_peer() {
	"$WEFT" peers --data-dir "$T/$1" --json | grep -q "\"node\":\"$2\""
}

# has_product NODE ORG.DOMAIN.PRODUCT: NODE's catalog lists it.
has_product() {
	"$WEFT" catalog --data-dir "$T/$1" --json | grep -q "\"name\":\"$2\""
}

# PostgreSQL: the newest server binaries installed. The server refuses to
# run as root, so as root it runs as the postgres user Debian creates,
# which must be able to reach its folder inside the scratch folder.
PGBIN=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5n); do
	[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && PGBIN=$d
done
if [ -z "$PGBIN" ] && command -v pg_ctl >/dev/null 2>&1; then
	PGBIN=$(dirname "$(command -v pg_ctl)")
fi
[ -n "$PGBIN" ] || bench_die "fed: no PostgreSQL server (make deps" \
    "installs postgresql)"
PSQL=$PGBIN/psql
[ -x "$PSQL" ] || PSQL=psql
if [ "$(id -u)" = 0 ]; then
	id postgres >/dev/null 2>&1 || bench_die "fed: no postgres user"
	chmod 711 "$BENCH_TMP" "$T"
	pg_as() { runuser -u postgres -- "$@"; }
else
	pg_as() { "$@"; }
fi
export TZ=UTC PGTZ=UTC PGOPTIONS=
unset PGDATABASE PGUSER PGHOST PGPORT PGSERVICE PGPASSWORD 2>/dev/null || :

# pg_start NAME: a new server in $T/NAME, listening only on its Unix
# socket there (port 5432; each server has its own socket folder).
pg_start() {
	mkdir -p "$T/$1"
	[ "$(id -u)" != 0 ] || chown postgres "$T/$1"
	if ! (cd "$T/$1" && pg_as "$PGBIN/initdb" -D "$T/$1/data" \
	    --locale=C --lc-ctype=C.UTF-8 --encoding=UTF8 -A trust \
	    -U postgres --no-sync) >"$T/$1.initdb.log" 2>&1; then
		tail -n 20 "$T/$1.initdb.log" | sed 's/^/    /' >&2
		return 1
	fi
	ps_rc=0
	(cd "$T/$1" && pg_as "$PGBIN/pg_ctl" -D "$T/$1/data" \
	    -l "$T/$1/server.log" -w -t 60 -o "-c listen_addresses='' \
-c unix_socket_directories='$T/$1' -p 5432 -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=1GB \
-c timezone=UTC -c datestyle='iso, mdy' -c lc_messages=C" start) \
	    >"$T/$1.pg_ctl.log" 2>&1 || ps_rc=$?
	if [ -f "$T/$1/data/postmaster.pid" ]; then
		PGPIDS="$PGPIDS $(head -n 1 "$T/$1/data/postmaster.pid")"
	fi
	if [ "$ps_rc" -ne 0 ]; then
		tail -n 20 "$T/$1.pg_ctl.log" "$T/$1/server.log" 2>/dev/null |
		    sed 's/^/    /' >&2
		return 1
	fi
}

# pg NAME ARG...: psql on server NAME; no psqlrc, errors fail.
pg() {
	p_n=$1
	shift
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$T/$p_n" -p 5432 -U postgres \
	    -d postgres "$@"
}

# ---- The queries -------------------------------------------------------

# sql KIND EVENTS REGIONS BOUND: the statement, over the tables so named.
# BOUND makes the text, and the fragment it sends, differ from run to run
# without changing the answer: amount is never below -1000.
sql() {
	case $1 in
	groupby) echo "SELECT category, count(*), avg(amount) FROM $2" \
	    "WHERE amount > -$4 GROUP BY category" ;;
	join | pjoin) echo "SELECT r.country, count(*), sum(e.amount) FROM $2 e" \
	    "JOIN $3 r ON e.region = r.region WHERE e.amount > -$4" \
	    "GROUP BY r.country" ;;
	stream) echo "SELECT * FROM $2 WHERE amount > -$4 LIMIT $SROWS" ;;
	dfilter) echo "SELECT e.user_id, e.amount, r.country FROM $2 e" \
	    "JOIN $3 r ON e.region = r.region WHERE r.score > 99.5" \
	    "AND e.amount > -$4" ;;
	repeat) echo "SELECT category, count(*), avg(amount) FROM $2" \
	    "GROUP BY category" ;;
	floor) echo "SELECT 1 AS one FROM $2 WHERE amount > -$4 LIMIT 1" ;;
	esac
}

# Runs of every measurement take the next bound, so no two are alike.
BOUND=1000000

# ---- Runs and answers --------------------------------------------------

# run_once ENGINE KIND OUT: one run of query KIND by ENGINE, timed as a
# whole process: answer in OUT (CSV with a header), stderr in OUT.err,
# rss's figures in OUT.res. Returns the command's status. Engines:
#   remote  weft query on a, acme's products (fragments to b and c)
#   local   weft query --local on b (its own acme.bench.events)
#   gw      weft query on a, globex's bench.events on x (two gateways)
#   xlocal  weft query --local on x
#   fdw     psql on the asker's server (events foreign)
#   pglocal psql on the owner's server (both tables local)
run_once() {
	r_eng=$1 r_kind=$2 r_out=$3
	BOUND=$((BOUND + 1))
	r_w=acme.bench.regions r_p=regions
	[ "$r_kind" != pjoin ] || r_w=acme.bench.places r_p=places
	case $r_eng in
	remote) set -- "$WEFT" query --data-dir "$T/a" --format csv --stats \
	    "$(sql "$r_kind" acme.bench.events "$r_w" "$BOUND")" ;;
	local) set -- "$WEFT" query --data-dir "$T/b" --local --format csv \
	    "$(sql "$r_kind" acme.bench.events "$r_w" "$BOUND")" ;;
	gw) set -- "$WEFT" query --data-dir "$T/a" --format csv --stats \
	    "$(sql "$r_kind" globex.bench.events - "$BOUND")" ;;
	xlocal) set -- "$WEFT" query --data-dir "$T/x" --local --format csv \
	    "$(sql "$r_kind" globex.bench.events - "$BOUND")" ;;
	fdw) set -- "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$T/pga" -p 5432 \
	    -U postgres -d postgres --csv \
	    -c "$(sql "$r_kind" events "$r_p" "$BOUND")" ;;
	pglocal) set -- "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$T/pgb" -p 5432 \
	    -U postgres -d postgres --csv \
	    -c "$(sql "$r_kind" events regions "$BOUND")" ;;
	esac
	echo "$*" >"$r_out.cmd"
	"$BENCH_RSS" "$r_out.res" "$@" >"$r_out" 2>"$r_out.err" || return $?
}

# normal KIND FILE: FILE's answer as compared, in FILE.norm: the stream's
# CSV lines sorted (both sides are weft's own CSV, so bytes compare); the
# group-bys' rows tab-separated and sorted (bench_norm).
normal() {
	if [ "$1" = stream ]; then
		tail -n +2 "$2" | LC_ALL=C sort >"$2.norm"
	else
		bench_norm "$2" 1 1 >/dev/null
	fi
}

# agree KIND FILE WHO: FILE's answer must be query KIND's reference, the
# first answer checked ($T/KIND.ref, from $T/KIND.who), or becomes it.
# Says how they differ and returns non-zero otherwise. The repeated query
# has the group-by's answer.
agree() {
	normal "$1" "$2"
	[ "$1" = repeat ] && set -- groupby "$2" "$3"
	if [ ! -f "$T/$1.ref" ]; then
		cp "$2.norm" "$T/$1.ref"
		echo "$3" >"$T/$1.who"
		return 0
	fi
	if [ "$1" = stream ]; then
		cmp -s "$T/$1.ref" "$2.norm" && return 0
		echo "rows differ: $(wc -l <"$2.norm" | tr -d ' ') rows, not" \
		    "$(wc -l <"$T/$1.ref" | tr -d ' ') or other rows" >"$T/diff"
	else
		bench_same "$T/$1.ref" "$2.norm" >"$T/diff" 2>&1 && return 0
	fi
	{
		echo "bench: FAILED: wrong answer: $3 differs from" \
		    "$(cat "$T/$1.who"): $(cat "$T/diff")"
		echo "    $(cat "$2.cmd")"
		echo "  $3 (tab-separated, sorted):"
		head -n 25 "$2.norm" | sed 's/^/    /'
		echo "  $(cat "$T/$1.who"):"
		head -n 25 "$T/$1.ref" | sed 's/^/    /'
	} >&2
	return 1
}

# errline FILE: the first line of weft's error in FILE (stderr).
errline() {
	grep -m 1 'ERROR\|error' "$1" || head -n 1 "$1"
}

# once ID ENGINE KIND RUN: one run of ENGINE's query KIND, its answer
# checked; RUN is "check" (untimed) or a number, whose wall time goes to
# $T/ID.recs, the fastest run's to $T/ID.best and its stderr to
# $T/ID.best.err. On failure the ID is out of the series: $T/ID.skip says
# why when ENGINE is gw and the query failed (not measured), otherwise the
# ID fails the run, having said why. Returns non-zero then.
once() {
	o_id=$1 o_eng=$2 o_kind=$3 o_run=$4
	if ! run_once "$o_eng" "$o_kind" "$T/$o_id.out"; then
		if [ "$o_eng" = gw ]; then
			errline "$T/$o_id.out.err" >"$T/$o_id.skip"
		else
			echo "bench: $o_id failed: $(cat "$T/$o_id.out.cmd")" >&2
			tail -n 20 "$T/$o_id.out.err" | sed 's/^/    /' >&2
			failed="$failed $o_id"
		fi
		return 1
	fi
	if ! agree "$o_kind" "$T/$o_id.out" "$o_id (run $o_run)"; then
		failed="$failed $o_id"
		return 1
	fi
	[ "$o_run" = check ] && return 0
	o_w=$(bench_get "$T/$o_id.out.res" wall_s)
	echo "$o_w" >>"$T/$o_id.recs"
	if [ ! -s "$T/$o_id.best" ] ||
	    [ "$(bench_calc "($o_w < $(cat "$T/$o_id.best"))")" = 1 ]; then
		echo "$o_w" >"$T/$o_id.best"
		cp "$T/$o_id.out.err" "$T/$o_id.best.err"
	fi
}

# series KIND ID:ENGINE...: the measurements of query KIND: each ID's
# check run, then REPEAT rounds of one timed run of each ID still in,
# interleaved, so that a slow spell of the machine does not fall on one
# figure alone.
series() {
	se_kind=$1
	shift
	se_in=""
	for se_p in "$@"; do
		: >"$T/${se_p%%:*}.recs"
		rm -f "$T/${se_p%%:*}.best"
		once "${se_p%%:*}" "${se_p#*:}" "$se_kind" check &&
		    se_in="$se_in $se_p"
	done
	se_i=1
	while [ "$se_i" -le "$REPEAT" ]; do
		se_next=""
		for se_p in $se_in; do
			once "${se_p%%:*}" "${se_p#*:}" "$se_kind" "$se_i" &&
			    se_next="$se_next $se_p"
		done
		se_in=$se_next
		se_i=$((se_i + 1))
	done
	for se_p in $se_in; do
		bench_emit fed "${se_p%%:*}_seconds" "$(cat "$T/${se_p%%:*}.best")"
		bench_emit fed "${se_p%%:*}_seconds_all" \
		    "$(paste -sd, "$T/${se_p%%:*}.recs")"
	done
}

# stat FIELD ID: a figure of the fragment line weft query --stats printed
# in ID's fastest run (rows, batches, bytes, ms); the first fragment's.
stat() {
	sed -n "s/^fragment .*: version [0-9]*, \([0-9]*\) rows, \([0-9]*\) batches, \([0-9]*\) bytes, \([0-9.]*\) ms.*/\1 \2 \3 \4/p" \
	    "$T/$2.best.err" | head -n 1 | awk -v f="$1" '{
		print (f == "rows" ? $1 : f == "batches" ? $2 : f == "bytes" ? $3 : $4) }'
}

# ---- Set-up --------------------------------------------------------------

"$WEFT_GEN" --table regions --seed "$BENCH_SEED" --out "$T/regions.csv" ||
	bench_die "fed: weft-gen --table regions failed"

setup_weft() {
	"$WEFT" org create acme --out "$T/acme.key" &&
	    "$WEFT" org create globex --out "$T/globex.key" || return 1
	for n in a b c s ga; do
		role=""
		[ "$n" = ga ] && role="--role gateway"
		# shellcheck disable=SC2086 # role is empty or two words.
		"$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name "$n" \
		    --mesh fedbench $role &&
		    "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub" \
		    --via-gateway || return 1
	done
	for n in x gb; do
		role=""
		[ "$n" = gb ] && role="--role gateway"
		# shellcheck disable=SC2086
		"$WEFT" init --data-dir "$T/$n" --org "$T/globex.key" \
		    --name "$n" --mesh fedbench $role &&
		    "$WEFT" trust add --data-dir "$T/$n" "$T/acme.pub" \
		    --via-gateway || return 1
	done
	"$WEFT" publish --data-dir "$T/b" bench.events "$BENCH_CSV" --quiet &&
	    "$WEFT" publish --data-dir "$T/c" bench.regions "$T/regions.csv" \
	    --quiet &&
	    "$WEFT" publish --data-dir "$T/b" bench.places "$T/regions.csv" \
	    --quiet &&
	    "$WEFT" publish --data-dir "$T/x" bench.events "$BENCH_CSV" \
	    --visibility acme --quiet
}

start_agents() {
	start_agent b || return 1
	start_agent c --join "$(cat "$T/b.addr")" || return 1
	start_agent ga --join "$(cat "$T/b.addr")" || return 1
	start_agent a --join "$(cat "$T/b.addr")" --join "$(cat "$T/c.addr")" \
	    --join "$(cat "$T/ga.addr")" || return 1
	start_agent gb --join "$(cat "$T/ga.addr")" || return 1
	start_agent x --join "$(cat "$T/gb.addr")" || return 1
	for p in b c; do
		wait_for 30 has_peer a "$p" || {
			echo "bench: node a has no session with $p" >&2
			return 1
		}
	done
	for p in acme.bench.events acme.bench.regions acme.bench.places \
	    globex.bench.events; do
		wait_for 30 has_product a "$p" || {
			echo "bench: $p never reached node a's catalog" >&2
			return 1
		}
	done
}

setup_pg() {
	pg_start pgb && pg_start pga || return 1
	cat >"$T/pgb.sql" <<EOF
CREATE TABLE events (ts timestamp, user_id bigint, amount bigint,
    category text, region text);
CREATE TABLE regions (region text PRIMARY KEY, country text,
    population bigint, score double precision);
\\copy events FROM '$BENCH_CSV' WITH (FORMAT csv, HEADER true)
\\copy regions FROM '$T/regions.csv' WITH (FORMAT csv, HEADER true)
CREATE INDEX events_region ON events (region);
VACUUM (ANALYZE) events;
VACUUM (ANALYZE) regions;
EOF
	cat >"$T/pga.sql" <<EOF
CREATE TABLE regions (region text PRIMARY KEY, country text,
    population bigint, score double precision);
\\copy regions FROM '$T/regions.csv' WITH (FORMAT csv, HEADER true)
VACUUM (ANALYZE) regions;
CREATE EXTENSION postgres_fdw;
CREATE SERVER owner FOREIGN DATA WRAPPER postgres_fdw OPTIONS (
    host '$T/pgb', port '5432', dbname 'postgres',
    use_remote_estimate 'true', fetch_size '10000');
CREATE USER MAPPING FOR postgres SERVER owner OPTIONS (user 'postgres');
IMPORT FOREIGN SCHEMA public LIMIT TO (events) FROM SERVER owner
    INTO public;
CREATE FOREIGN TABLE places (region text, country text, population bigint,
    score double precision) SERVER owner OPTIONS (table_name 'regions');
EOF
	for p in pgb pga; do
		pg "$p" -f "$T/$p.sql" >"$T/$p.load.log" 2>&1 && continue
		tail -n 20 "$T/$p.load.log" | sed 's/^/    /' >&2
		return 1
	done
}

echo "best of $REPEAT runs each (whole processes); $BENCH_ROWS events" \
    "rows, 3000 regions rows; $SROWS rows streamed in (c)"
bench_emit fed runs "$REPEAT"
setup_weft >"$T/setup.log" 2>&1 || {
	tail -n 20 "$T/setup.log" | sed 's/^/    /' >&2
	bench_die "fed: weft set-up"
}
t0=$(date +%s)
setup_pg || bench_die "fed: PostgreSQL set-up"
echo "PostgreSQL $("$PGBIN/postgres" --version |
    sed 's/^[^0-9]*\([0-9.]*\).*/\1/'):" \
    "two servers loaded in $(($(date +%s) - t0)) s (untimed)"
start_agents || bench_die "fed: agents"

# ---- Measurements --------------------------------------------------------

series groupby a_remote:remote a_local:local a_fdw:fdw a_pglocal:pglocal \
    d_gw:gw
series join b_remote:remote b_fdw:fdw b_pglocal:pglocal
series pjoin f_remote:remote f_local:local f_fdw:fdw
series dfilter g_remote:remote g_fdw:fdw
series stream c_direct:remote c_xlocal:xlocal c_gw:gw
series repeat e_repeat:remote
# For context: a one-row remote query, what a process, its connection and
# a round trip to the owner cost whatever the work.
series floor floor_remote:remote floor_fdw:fdw
# And the floor below (e): a process that does nothing (true), and weft
# starting and stopping (--version), under the same timer.
for f_id in proc_true proc_weft; do
	: >"$T/$f_id.recs"
	f_i=1
	while [ "$f_i" -le "$REPEAT" ]; do
		if [ $f_id = proc_true ]; then set -- true; else set -- "$WEFT" --version; fi
		"$BENCH_RSS" "$T/$f_id.res" "$@" >/dev/null 2>&1 &&
		    bench_get "$T/$f_id.res" wall_s >>"$T/$f_id.recs"
		f_i=$((f_i + 1))
	done
	sort -g "$T/$f_id.recs" | head -n 1 >"$T/$f_id.best"
	bench_emit fed "${f_id}_seconds" "$(cat "$T/$f_id.best")"
done

# The session figure (c) is held against: bulk through one weft session
# into the asker's agent, measured here as bench/session.sh does (after
# the queries, so that they run on idle agents).
: >"$T/session.all"
if [ -x "$NB" ]; then
	i=1
	while [ "$i" -le "$REPEAT" ]; do
		if "$NB" session --data-dir "$T/s" --connect "$(cat "$T/a.addr")" \
		    --frame "$FRAME" --mb "$MIB" >"$T/nb.out" 2>&1; then
			bench_get "$T/nb.out" mib_per_s >>"$T/session.all"
		else
			echo "bench: weft-netbench session failed:" >&2
			tail -n 10 "$T/nb.out" | sed 's/^/    /' >&2
			failed="$failed session"
			break
		fi
		i=$((i + 1))
	done
else
	echo "fed: no $NB (make build/weft-netbench): no session figure"
fi

# The plans PostgreSQL chose, for the record.
pg pga -c "EXPLAIN (VERBOSE) $(sql join events places 1000000)" \
    >"$T/fdw.pjoin.plan" 2>&1 || :
pg pga -c "EXPLAIN (VERBOSE) $(sql dfilter events regions 1000000)" \
    >"$T/fdw.dfilter.plan" 2>&1 || :
for k in groupby join; do
	pg pga -c "EXPLAIN (VERBOSE) $(sql $k events regions 1000000)" \
	    >"$T/fdw.$k.plan" 2>&1 || :
	pg pgb -c "EXPLAIN (VERBOSE) $(sql $k events regions 1000000)" \
	    >"$T/pglocal.$k.plan" 2>&1 || :
done
stop_all || failed="$failed agent-exit"
trap - EXIT

# ---- Report --------------------------------------------------------------

# best ID: the fastest run's seconds, or "-".
best() {
	if [ -s "$T/$1.best" ] && [ ! -f "$T/$1.skip" ]; then
		cat "$T/$1.best"
	else
		echo -
	fi
}

# row FIGURE WEFT PEER RATIO GOAL VERDICT: one line of the table.
: >"$T/table"
row() {
	echo "$1|$2|$3|$4|$5|$6" >>"$T/table"
}

# judge ID VALUE OP GOAL: "goal met" or "goal NOT met" for VALUE OP GOAL
# (OP: le or ge), emitting ID's ratio; "-" when VALUE is.
judge() {
	if [ "$2" = - ]; then
		echo -
		return
	fi
	bench_emit fed "$1" "$2"
	if [ "$3" = le ]; then
		bench_calc "($2 <= $4) ? \"goal met\" : \"goal NOT met\""
	else
		bench_calc "($2 >= $4) ? \"goal met\" : \"goal NOT met\""
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

a_r=$(best a_remote) a_l=$(best a_local) a_f=$(best a_fdw)
a_p=$(best a_pglocal) b_r=$(best b_remote) b_f=$(best b_fdw)
b_p=$(best b_pglocal) c_d=$(best c_direct) c_g=$(best c_gw)
d_g=$(best d_gw) e_r=$(best e_repeat)
f_r=$(best f_remote) f_l=$(best f_local) f_f=$(best f_fdw)
g_r=$(best g_remote) g_f=$(best g_fdw)

# (a) remote <= 1.3 x local + 5 ms: the ratio is remote over that bound.
a_bound=-
[ "$a_l" = - ] || a_bound=$(bench_calc "sprintf(\"%.6f\", 1.3 * $a_l + 0.005)")
r=$(ratio "$a_r" "$a_bound")
row "(a) group-by, remote vs 1.3 local + 5 ms" "$a_r" "$a_bound" "$r" \
    "<= 1" "$(judge a_remote_vs_local_bound "$r" le 1)"
r=$(ratio "$a_r" "$a_f")
row "(a) group-by, remote vs postgres_fdw" "$a_r" "$a_f" "$r" "<= 0.1" \
    "$(judge a_remote_vs_fdw "$r" le 0.1)"
r=$(ratio "$b_r" "$b_f")
row "(b) join, remote vs postgres_fdw" "$b_r" "$b_f" "$r" \
    "<= 0.15" "$(judge b_remote_vs_fdw "$r" le 0.15)"

# (c) MiB/s of result batches (bytes on the wire over the fragment's time,
# at the asker, from --stats) against the session's bulk MiB/s.
sess=-
[ -s "$T/session.all" ] && sess=$(sort -g "$T/session.all" | tail -n 1)
[ "$sess" = - ] || bench_emit fed session_mib_per_s "$sess"
[ ! -s "$T/session.all" ] || bench_emit fed session_mib_per_s_all \
    "$(paste -sd, "$T/session.all")"
# stream_figs ID: "ROWS_PER_S MIB_PER_S FRAG_MIB_PER_S BYTES" of ID's
# fastest run: rows and batch bytes over the whole process's time, and
# batch bytes over the fragment's own time.
stream_figs() {
	sf_w=$(best "$1")
	if [ "$sf_w" = - ]; then
		echo "- - - -"
		return
	fi
	sf_rows=$(stat rows "$1") sf_bytes=$(stat bytes "$1")
	sf_ms=$(stat ms "$1")
	if [ -z "$sf_bytes" ] || [ "$sf_rows" != "$SROWS" ] ||
	    [ "$(bench_calc "($sf_ms > 0)")" != 1 ]; then
		echo "bench: $1: no fragment of $SROWS rows in weft's" \
		    "--stats: $(head -n 1 "$T/$1.best.err")" >&2
		echo "- - - -"
		return
	fi
	bench_calc "sprintf(\"%.0f %.1f %.1f %d\", $sf_rows / $sf_w, \
	    $sf_bytes / 1048576 / $sf_w, $sf_bytes / 1048576 / ($sf_ms / 1000), \
	    $sf_bytes)"
}
# shellcheck disable=SC2046 # four figures.
set -- $(stream_figs c_direct)
cd_rows=$1 cd_mib=$2 cd_fmib=$3 cd_bytes=$4
# shellcheck disable=SC2046
set -- $(stream_figs c_gw)
cg_rows=$1 cg_mib=$2 cg_fmib=$3 cg_bytes=$4
if [ "$cd_rows" != - ]; then
	bench_emit fed c_direct_rows_per_s "$cd_rows"
	bench_emit fed c_direct_mib_per_s "$cd_mib"
	bench_emit fed c_direct_fragment_mib_per_s "$cd_fmib"
	bench_emit fed c_direct_bytes "$cd_bytes"
fi
if [ "$cg_rows" != - ]; then
	bench_emit fed c_gw_rows_per_s "$cg_rows"
	bench_emit fed c_gw_mib_per_s "$cg_mib"
	bench_emit fed c_gw_fragment_mib_per_s "$cg_fmib"
	bench_emit fed c_gw_bytes "$cg_bytes"
fi
if [ -f "$T/c_gw.skip" ]; then
	row "(c) $SROWS rows, 2 gateways, vs session" - "$sess" - ">= 0.5" \
	    "not measured"
else
	r=$(ratio "$cg_fmib" "$sess")
	row "(c) $SROWS rows, 2 gateways, vs session" "$cg_fmib" "$sess" \
	    "$r" ">= 0.5" "$(judge c_gw_vs_session "$r" ge 0.5)"
fi
if [ -f "$T/d_gw.skip" ]; then
	row "(d) group-by, 2 gateways vs direct" - "$a_r" - "<= 1.2" \
	    "not measured"
else
	r=$(ratio "$d_g" "$a_r")
	row "(d) group-by, 2 gateways vs direct" "$d_g" "$a_r" "$r" \
	    "<= 1.2" "$(judge d_gw_vs_direct "$r" le 1.2)"
fi
r=$(ratio "$e_r" 0.005)
row "(e) repeated query vs 5 ms" "$e_r" 0.005 "$r" "<= 1" \
    "$(judge e_repeat_vs_5ms "$r" le 1)"
f_bound=-
[ "$f_l" = - ] || f_bound=$(bench_calc "sprintf(\"%.6f\", 1.3 * $f_l + 0.005)")
r=$(ratio "$f_r" "$f_bound")
row "(f) join pushed whole, vs 1.3 local + 5 ms" "$f_r" "$f_bound" "$r" \
    "<= 1" "$(judge f_remote_vs_local_bound "$r" le 1)"
r=$(ratio "$f_r" "$f_f")
[ "$r" = - ] || bench_emit fed f_remote_vs_fdw "$r"
row "(f) join pushed whole, vs postgres_fdw" "$f_r" "$f_f" "$r" - \
    "(context: both push it)"
r=$(ratio "$g_r" "$g_f")
[ "$r" = - ] || bench_emit fed g_remote_vs_fdw "$r"
row "(g) dynamic filter, vs postgres_fdw" "$g_r" "$g_f" "$r" - \
    "(context: no goal)"

# ctx LABEL SECONDS [MORE]: a context line.
ctx() {
	if [ "$2" = - ]; then
		printf '  %-46s %12s %s\n' "$1" - "$3"
	else
		printf '  %-46s %10.4f s %s\n' "$1" "$2" "$3"
	fi
}

echo
echo "weft: whole \`weft query\` processes (start-up included), asked from" \
    "node a; postgres: whole psql processes (connecting, and postgres_fdw's" \
    "connection to the owner's server, included)"
ctx "one-row remote query, weft" "$(best floor_remote)"
ctx "one-row remote query, postgres_fdw" "$(best floor_fdw)"
ctx "a process doing nothing (true)" "$(cat "$T/proc_true.best")"
ctx "weft --version" "$(cat "$T/proc_weft.best")"
ctx "(a) weft local on the owner (--local)" "$a_l" \
    "remote / local: $(ratio "$a_r" "$a_l")"
ctx "(a) postgres local on the owner's server" "$a_p"
ctx "(b) postgres local, both tables on one server" "$b_p"
if [ -s "$T/b_remote.best.err" ]; then
	grep '^fragment' "$T/b_remote.best.err" | sed 's/^/  (b) /'
fi
if [ "$cd_rows" != - ]; then
	ctx "(c) over the direct session (a asks, b owns)" "$c_d" \
	    "$cd_rows rows/s, $cd_mib MiB/s; fragment $cd_fmib MiB/s, $cd_bytes B"
fi
ctx "(c) the same on the owner (--local)" "$(best c_xlocal)"
if [ -f "$T/c_gw.skip" ]; then
	echo "  (c) not measured: $(cat "$T/c_gw.skip")"
else
	ctx "(c) via 2 gateways (a asks, x owns)" "$c_g" \
	    "$cg_rows rows/s, $cg_mib MiB/s; fragment $cg_fmib MiB/s, $cg_bytes B"
fi
[ ! -f "$T/d_gw.skip" ] || echo "  (d) not measured: $(cat "$T/d_gw.skip")"
echo "  (c) session bulk into a's agent, $FRAME-byte Bulks: $sess MiB/s" \
    "(weft-netbench session, best of $REPEAT)"
if [ -s "$BENCH_TMP/session/session_mib_per_s.all" ]; then
	echo "      bench/session.sh's figure earlier in this run:" \
	    "$(sort -g "$BENCH_TMP/session/session_mib_per_s.all" |
	    tail -n 1) MiB/s"
fi
if [ -s "$T/e_repeat.best.err" ]; then
	echo "  (e) $(head -n 1 "$T/e_repeat.best.err")"
fi
ctx "(f) weft local on the owner (--local)" "$f_l" \
    "remote / local: $(ratio "$f_r" "$f_l")"
if [ -s "$T/f_remote.best.err" ]; then
	grep '^fragment' "$T/f_remote.best.err" | sed 's/^/  (f) /'
fi
if [ -s "$T/g_remote.best.err" ]; then
	grep '^fragment' "$T/g_remote.best.err" | sed 's/^/  (g) /'
	g_rows=$(sed -n 's/^fragment acme.bench.events on node b ([a-z ]*): version [0-9]*, \([0-9]*\) rows.*/\1/p' \
	    "$T/g_remote.best.err")
	[ -z "$g_rows" ] || {
		bench_emit fed g_events_rows_sent "$g_rows"
		echo "  (g) the events fragment sent $g_rows of $BENCH_ROWS rows"
	}
fi
for k in groupby join pjoin dfilter; do
	[ -s "$T/fdw.$k.plan" ] || continue
	echo "  postgres_fdw's remote SQL ($k):" \
	    "$(sed -n 's/^ *Remote SQL: //p' "$T/fdw.$k.plan" | head -n 1)"
done
jit=""
for k in fdw.groupby fdw.join pglocal.groupby pglocal.join; do
	grep -q '^ *JIT:' "$T/$k.plan" 2>/dev/null && jit="$jit $k"
done
echo "  postgres plans with JIT compilation:${jit:- none}"
echo
awk -F'|' '
function fig(s, mib) {
	if (s == "-")
		return sprintf("%13s", "-")
	return mib ? sprintf("%7.1f MiB/s", s) : sprintf("%11.4f s", s)
}
BEGIN {
	printf "%-42s %13s %13s %7s %7s\n", "figure", "weft", "peer", "ratio",
	    "goal"
}
{
	printf "%-42s %13s %13s %7s %7s  %s\n", $1, fig($2, $1 ~ /^\(c\)/),
	    fig($3, $1 ~ /^\(c\)/), $4, $5, $6
}' "$T/table"
echo "(goals of issue 12, and (f)'s as (a)'s; ratio = weft / peer, for (c)" \
    "MiB/s / MiB/s)"
echo
cat "$BENCH_LINES"
[ -z "$failed" ] || bench_die "fed:$failed"
