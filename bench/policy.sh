#!/bin/sh
# bench/policy.sh: what enforcing a product policy at the owner costs the
# remote group-by (issue 13, "enforcement overhead on the remote group-by,
# goal <= 10%"). Run by bench/run.sh, which provides the environment
# described in bench/lib.sh.
#
# Set-up (untimed): org acme's node o publishes the events CSV run.sh
# generated (BENCH_ROWS rows, seed BENCH_SEED: the product bench/fed.sh's
# (a) reads) as bench.events, --visibility globex; org globex's node g
# asks. Each trusts the other org directly (weft trust add, as
# tests/cli/t_policy.sh), and g joins o. Agents on 127.0.0.1, gossip every
# 200 ms.
#
# The query is fed.sh's (a), asked from g:
#   SELECT category, count(*), avg(amount) FROM acme.bench.events
#   WHERE amount > -B GROUP BY category
# B is one more on every run (amount is never below -1000), so no two
# runs send the same fragment and the asker's result cache never answers
# (each timed run's --stats line is checked for it). It runs under four
# settings of the owner's policy for bench.events, changed with `weft
# policy set` / `drop` on o's data directory while its agent runs (the
# owner reads its policy afresh for every fragment):
#   none  no policy: the peer, the same work without enforcement;
#   rows  a grant to globex of columns [category, amount] and the rows
#         "amount > -1000000000000" (every row);
#   agg   a grant to globex of aggregates only, min_group 10, functions
#         count, sum, avg (every category group holds about 30,000 rows
#         or more per million, so none is folded away);
#   num   (context) rows' grant with the constant written "-1e12", a
#         numeric: what the predicate's own type costs.
# Before timing, each setting answers once (checked) and is shown to be
# in force: a query it forbids (region under rows and num, a plain
# SELECT under agg) must be refused by the owner.
#
# Then BENCH_POLICY_RUNS rounds (default 21), each one run of every
# setting, the order rotated from round to round; before each run the
# setting is applied and the agents are left a gossip interval
# (BENCH_POLICY_SETTLE, 0.25 s) to pass the new policy entry on, so that
# its gossip does not fall inside a timed run. Figures: the median of
# the whole `weft query` process's wall time (as fed.sh's), and the
# median of the fragment's own time on the asker's --stats line (from
# sending the fragment to its last batch: the owner's work and the round
# trip, without the process); the ratio of the fastest runs is printed
# beside each median's, since other work on the machine falls on single
# runs. Every answer must equal the first one
# (no policy; rows sorted, numbers to 1e-9 relative): a policy that
# changed it, or any failing step, fails the run. Missing the goal is
# reported, not a failure. See docs/bench.md.
set -e
. "$BENCH_DIR/lib.sh"

T=$BENCH_TMP/policy
RUNS=${BENCH_POLICY_RUNS:-21}
SETTLE=${BENCH_POLICY_SETTLE:-0.25}
mkdir -p "$T"
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

if ! bench_has weft; then
	echo "policy: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi

# ---- Agents ---------------------------------------------------------------

. "$BENCH_DIR/agents.sh"

# ---- Policies ---------------------------------------------------------------

# The documents of the settings rows, agg and num (docs/policy.md).
# amount is an int64: rows' constant is an int64 too; num's "-1e12" binds
# as a numeric, so each row's amount is compared as a numeric.
cat >"$T/rows.yaml" <<'EOF'
product: bench.events
grants:
  - to: [globex]
    columns: [category, amount]
    rows: "amount > -1000000000000"
EOF
cat >"$T/agg.yaml" <<'EOF'
product: bench.events
grants:
  - to: [globex]
    aggregate: {min_group: 10, functions: [count, sum, avg]}
EOF
cat >"$T/num.yaml" <<'EOF'
product: bench.events
grants:
  - to: [globex]
    columns: [category, amount]
    rows: "amount > -1e12"
EOF

# The setting in force on o: none, rows, agg or num.
CURRENT=none

# apply SETTING: puts SETTING in force on o (a new policy version, or the
# policy dropped), then leaves the agents SETTLE seconds.
apply() {
	if [ "$1" = none ]; then
		[ "$CURRENT" = none ] ||
		    "$WEFT" policy drop --data-dir "$T/o" bench.events \
		    >"$T/apply.out" 2>&1
	else
		"$WEFT" policy set --data-dir "$T/o" bench.events "$T/$1.yaml" \
		    >"$T/apply.out" 2>&1 &&
		    grep -q "^policy of bench.events set: version" "$T/apply.out"
	fi || {
		echo "bench: policy $1 could not be put in force on o:" >&2
		sed 's/^/    /' "$T/apply.out" >&2
		return 1
	}
	CURRENT=$1
	sleep "$SETTLE"
}

# ---- Runs and answers -------------------------------------------------------

BOUND=1000000

# run_once OUT: one run of the group-by from g, with the next bound, timed
# as a whole process: answer in OUT (CSV), stderr (--stats) in OUT.err,
# rss's figures in OUT.res, the command in OUT.cmd.
run_once() {
	r_out=$1
	BOUND=$((BOUND + 1))
	set -- "$WEFT" query --data-dir "$T/g" --format csv --stats \
	    "SELECT category, count(*), avg(amount) FROM acme.bench.events WHERE amount > -$BOUND GROUP BY category"
	echo "$*" >"$r_out.cmd"
	"$BENCH_RSS" "$r_out.res" "$@" >"$r_out" 2>"$r_out.err"
}

# once SETTING RUN: one run under SETTING (already in force), its answer
# checked against the reference ($T/ref, the first answer, under none).
# RUN is "check" (untimed) or a round number: then the process's wall
# seconds go to $T/SETTING.wall and the fragment's milliseconds to
# $T/SETTING.frag. Says why and returns non-zero on any failure.
once() {
	o_out=$T/$1.out
	if ! run_once "$o_out"; then
		echo "bench: the group-by under policy $1 failed:" \
		    "$(cat "$o_out.cmd")" >&2
		tail -n 20 "$o_out.err" | sed 's/^/    /' >&2
		return 1
	fi
	bench_norm "$o_out" 1 1 >/dev/null
	if [ ! -f "$T/ref" ]; then
		cp "$o_out.norm" "$T/ref"
	elif ! bench_same "$T/ref" "$o_out.norm" >"$T/diff" 2>&1; then
		{
			echo "bench: FAILED: wrong answer under policy $1" \
			    "(run $2): $(cat "$T/diff")"
			echo "    $(cat "$o_out.cmd")"
			echo "  under $1 (tab-separated, sorted):"
			head -n 25 "$o_out.norm" | sed 's/^/    /'
			echo "  without a policy:"
			head -n 25 "$T/ref" | sed 's/^/    /'
		} >&2
		return 1
	fi
	o_frag=$(sed -n 's/^fragment acme\.bench\.events on node o (direct session): version [0-9]*, [0-9]* rows, [0-9]* batches, [0-9]* bytes, \([0-9.]*\) ms.*/\1/p' \
	    "$o_out.err" | head -n 1)
	if [ -z "$o_frag" ]; then
		echo "bench: the group-by under policy $1 (run $2) was not" \
		    "answered by o over the session:" >&2
		sed 's/^/    /' "$o_out.err" >&2
		return 1
	fi
	[ "$2" = check ] && return 0
	bench_get "$o_out.res" wall_s >>"$T/$1.wall"
	echo "$o_frag" >>"$T/$1.frag"
}

# refused SETTING SQL PATTERN: SQL from g must be refused by the owner
# with PATTERN in its message: SETTING is in force.
refused() {
	if "$WEFT" query --data-dir "$T/g" --format csv "$2" >"$T/probe.out" \
	    2>"$T/probe.err"; then
		echo "bench: policy $1 is not in force on o: g was answered" \
		    "\"$2\"" >&2
		return 1
	fi
	grep -q "$3" "$T/probe.err" && return 0
	echo "bench: \"$2\" under policy $1 failed, not as refused:" >&2
	sed 's/^/    /' "$T/probe.err" >&2
	return 1
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
	sort -g "$1" | awk '{ v[NR] = $1 }
	END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- Set-up ---------------------------------------------------------------

setup() {
	"$WEFT" org create acme --out "$T/acme.key" &&
	    "$WEFT" org create globex --out "$T/globex.key" &&
	    "$WEFT" init --data-dir "$T/o" --org "$T/acme.key" --name o \
	    --mesh policybench &&
	    "$WEFT" trust add --data-dir "$T/o" "$T/globex.pub" &&
	    "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g \
	    --mesh policybench &&
	    "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub" &&
	    "$WEFT" publish --data-dir "$T/o" bench.events "$BENCH_CSV" \
	    --visibility globex --quiet
}
setup >"$T/setup.log" 2>&1 || {
	tail -n 20 "$T/setup.log" | sed 's/^/    /' >&2
	bench_die "policy: weft set-up"
}
start_agent o || bench_die "policy: agents"
start_agent g --join "$(cat "$T/o.addr")" || bench_die "policy: agents"
wait_for 30 has_product g acme.bench.events ||
    bench_die "policy: acme.bench.events never reached node g's catalog"

echo "median of $RUNS runs per setting, rounds interleaved; $BENCH_ROWS" \
    "rows of acme.bench.events on o, asked from g (org globex)"
bench_emit policy runs "$RUNS"

# ---- Checks: the same answer under each setting, each setting in force -----

SETTINGS="none rows agg num"
for s in $SETTINGS; do
	apply "$s" || bench_die "policy: set-up of $s"
	once "$s" check || bench_die "policy: $s"
	case $s in
	rows | num) refused "$s" "SELECT region FROM acme.bench.events LIMIT 1" \
	    'column "region" is not granted to org globex' ;;
	agg) refused "$s" "SELECT category FROM acme.bench.events LIMIT 1" \
	    "allows aggregates only" ;;
	esac || bench_die "policy: $s"
done

# ---- Measurements -----------------------------------------------------------

for s in $SETTINGS; do
	: >"$T/$s.wall"
	: >"$T/$s.frag"
done
i=1
while [ "$i" -le "$RUNS" ]; do
	# This round's order: SETTINGS rotated by i.
	# shellcheck disable=SC2086 # a list of names.
	set -- $SETTINGS
	j=$((i % $#))
	while [ "$j" -gt 0 ]; do
		s=$1
		shift
		set -- "$@" "$s"
		j=$((j - 1))
	done
	for s in "$@"; do
		apply "$s" || bench_die "policy: round $i"
		once "$s" "$i" || bench_die "policy: round $i"
	done
	i=$((i + 1))
done
apply none || bench_die "policy: drop"
stop_all || bench_die "policy: agent exit"
trap - EXIT

# ---- Report -----------------------------------------------------------------

# Every run's figures in milliseconds: $T/SETTING.wall.ms (whole
# processes) beside $T/SETTING.frag (fragments).
for s in $SETTINGS; do
	awk '{ printf "%.1f\n", $1 * 1000 }' "$T/$s.wall" >"$T/$s.wall.ms"
	bench_emit policy "${s}_seconds" "$(median "$T/$s.wall")"
	bench_emit policy "${s}_seconds_all" "$(paste -sd, "$T/$s.wall")"
	bench_emit policy "${s}_fragment_ms" "$(median "$T/$s.frag")"
	bench_emit policy "${s}_fragment_ms_all" "$(paste -sd, "$T/$s.frag")"
done

# fastest FILE: the smallest number in FILE.
fastest() {
	sort -g "$1" | head -n 1
}

: >"$T/table"
# row KEY LABEL SETTING EXT GOAL: a line of the table: SETTING's median
# milliseconds ($T/SETTING.EXT) over none's, the ratio emitted as KEY, and
# the ratio of the fastest runs beside it (KEY_fastest); GOAL "-" for
# context. The verdict is the medians'.
row() {
	r_p=$(median "$T/$3.$4") r_n=$(median "$T/none.$4")
	r_r=$(bench_calc "sprintf(\"%.3f\", $r_p / $r_n)")
	r_f=$(bench_calc "sprintf(\"%.3f\", $(fastest "$T/$3.$4") / \
	    $(fastest "$T/none.$4"))")
	bench_emit policy "$1" "$r_r"
	bench_emit policy "${1}_fastest" "$r_f"
	if [ "$5" = - ]; then
		r_v="(context: no goal)"
	else
		r_v=$(bench_calc "($r_r <= $5) ? \"goal met\" : \"goal NOT met\"")
	fi
	echo "$2|$r_p|$r_n|$r_r|$r_f|${5#-}|$r_v" >>"$T/table"
}
row rows_vs_none "policy (columns + rows) vs none" rows wall.ms 1.10
row agg_vs_none "policy (aggregates only, k=10) vs none" agg wall.ms 1.10
row rows_vs_none_fragment "  fragment only: columns + rows" rows frag 1.10
row agg_vs_none_fragment "  fragment only: aggregates only" agg frag 1.10
row num_vs_none "rows \"amount > -1e12\" (numeric) vs none" num wall.ms -
row num_vs_none_fragment "  fragment only: rows with -1e12" num frag -

echo
awk -F'|' '
BEGIN {
	printf "%-40s %10s %10s %6s %7s %7s\n", "figure", "policy", "none",
	    "ratio", "fastest", "goal"
}
{
	g = ($6 == "") ? "-" : "<= " $6
	printf "%-40s %7.1f ms %7.1f ms %6s %7s %7s  %s\n", $1, $2, $3, $4,
	    $5, g, $7
}' "$T/table"
echo "(medians of $RUNS runs: whole \`weft query\` processes on g, and" \
    "\"fragment only\": the fragment's time on g's --stats line; fastest:" \
    "the ratio of the fastest runs; goal of issue 13)"
echo
cat "$BENCH_LINES"
