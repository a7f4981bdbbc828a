#!/bin/sh
# bench/profile.sh: `weft profile` of the events product beside one plain
# group-by scan of it (issue 13: "`weft profile` of the 3M-row product
# (goal <= 3x one plain group-by scan)"). Run by bench/run.sh, which
# provides the environment described in bench/lib.sh.
#
# Set-up (untimed), as bench/policy.sh's: org acme's node o publishes the
# events CSV run.sh generated (BENCH_ROWS rows, seed BENCH_SEED) as
# bench.events, --visibility globex; org globex's node g asks. Each trusts
# the other org directly (weft trust add), and g joins o. Agents on
# 127.0.0.1, gossip every 200 ms; g's agent runs with --cache-size 0, so
# that no run is answered from its result cache (the cache key is the
# fragment, the product's version, the owner's policy epoch and the two
# identities: a repeated profile would hit it). Every run's --stats is
# checked for "result cache" all the same.
#
# Timed from g, each the fastest of BENCH_REPEAT runs (default 3) of a
# whole process, the two measurements interleaved round by round (the
# order alternating):
#   profile  weft profile --data-dir g --csv --stats acme.bench.events:
#            SELECT weft_profile(*) FROM acme.bench.events, one pass of
#            the owner over its rows computing every column's rows,
#            NULLs, distinct values, min, max, quantiles, histogram and
#            most common values (about 100 result rows);
#   groupby  the peer, one plain group-by scan of the same product (fed.sh's
#            (a), as policy.sh runs it):
#              weft query --data-dir g --format csv --stats
#              "SELECT category, count(*), avg(amount) FROM acme.bench.events
#               WHERE amount > -B GROUP BY category"
#            B one more on every run (amount is never below -1000), so no
#            two runs send the same fragment.
# Checked before it counts, in every run: the profile's answer has the
# header column,stat,key,value,rows and five fields a row, a `rows` stat
# of BENCH_ROWS for each of the columns ts, user_id, amount, category,
# region, and is the same in every run; the group-by's counts add up to
# BENCH_ROWS and its answer is the same in every run; the profile's
# exact category statistics agree with the group-by (distinct values =
# its groups, each common value's rows = its count). Each run must be
# answered by o over the session, not from the cache.
# Figures: the whole processes' wall time, and, for context, the owner's
# fragment time on g's --stats line (from sending the fragment to its
# last batch: the owner's pass and the round trip, without the process),
# each the fastest of its runs, and the ratios profile / group-by. Goal:
# the process ratio <= 3. Missing the goal is reported, not a failure; a
# wrong answer, a failing step or an agent that does not exit cleanly
# fails the run. See docs/bench.md.
set -e
. "$BENCH_DIR/lib.sh"

T=$BENCH_TMP/profile
REPEAT=${BENCH_REPEAT:-3}
GOAL=3
COLUMNS="ts user_id amount category region"
mkdir -p "$T"
BENCH_LINES=$T/bench.lines
: >"$BENCH_LINES"

if ! bench_has weft; then
	echo "profile: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi

# ---- Agents -----------------------------------------------------------------

. "$BENCH_DIR/agents.sh"

# ---- Answers ----------------------------------------------------------------

# profile_ok OUT: OUT (weft profile --csv) has the header
# column,stat,key,value,rows, five fields in every row, and a `rows` stat
# of BENCH_ROWS (key and value empty) for each of COLUMNS. Says why and
# returns non-zero otherwise. Leaves the rows, tab-separated, in OUT.norm.
profile_ok() {
	p_h=$(head -n 1 "$1" | tr -d '\r')
	if [ "$p_h" != "column,stat,key,value,rows" ]; then
		echo "bench: the profile's header is \"$p_h\", not" \
		    "\"column,stat,key,value,rows\"" >&2
		return 1
	fi
	bench_norm "$1" 1 0 >/dev/null
	if [ ! -s "$1.norm" ]; then
		echo "bench: the profile's answer has no rows" >&2
		return 1
	fi
	if ! awk -F'\t' 'NF != 5 { printf "row %d has %d fields: %s\n", \
	    NR + 1, NF, $0; bad = 1; exit } END { exit bad }' "$1.norm" \
	    >"$T/why"; then
		echo "bench: the profile's answer is not five fields a row:" \
		    "$(cat "$T/why")" >&2
		return 1
	fi
	for p_c in $COLUMNS; do
		p_r=$(awk -F'\t' -v c="$p_c" '$1 == c && $2 == "rows" &&
		    $3 == "" && $4 == "" { print $5 }' "$1.norm")
		if [ "$p_r" != "$BENCH_ROWS" ]; then
			echo "bench: the profile's rows of column $p_c:" \
			    "\"$(echo "$p_r" | paste -sd, -)\", not $BENCH_ROWS" >&2
			return 1
		fi
	done
}

# groupby_ok OUT: OUT (the group-by, CSV) holds groups whose counts add up
# to BENCH_ROWS. Leaves its rows, tab-separated and sorted, in OUT.norm.
groupby_ok() {
	bench_norm "$1" 1 1 >/dev/null
	g_n=$(awk -F'\t' '{ s += $2 } END { print s + 0 }' "$1.norm")
	if [ "$g_n" != "$BENCH_ROWS" ]; then
		echo "bench: the group-by's counts add up to $g_n, not" \
		    "$BENCH_ROWS" >&2
		return 1
	fi
}

# agree_category: the profile's exact category statistics ($T/profile.first)
# agree with the group-by's groups ($T/groupby.first): distinct values =
# the number of groups, each common value's rows = its group's count.
agree_category() {
	LC_ALL=C awk -F'\t' '
	FILENAME == ARGV[1] { n[$1] = $2; groups++; next }
	$1 != "category" { next }
	$2 == "distinct" && $3 == "exact" && $5 != groups {
		printf "%s distinct categories, %d groups\n", $5, groups
		bad = 1
	}
	$2 == "mcv" && $3 != "" && n[$3] != $5 {
		printf "category \"%s\": %s rows in the profile, %s counted\n",
		    $3, $5, n[$3]
		bad = 1
	}
	$2 == "mcv" && $3 != "" { mcv++ }
	END {
		if (!bad && mcv == 0) {
			print "the profile has no common values of category"
			bad = 1
		}
		exit bad
	}' "$T/groupby.first" "$T/profile.first" >"$T/why" && return 0
	echo "bench: FAILED: the profile disagrees with the group-by:" \
	    "$(head -n 3 "$T/why")" >&2
	return 1
}

# ---- Runs -------------------------------------------------------------------

BOUND=1000000

# once ID RUN: one run of ID (profile or groupby) from g, timed as a whole
# process (answer in $T/ID.out, --stats in $T/ID.out.err, rss's figures in
# $T/ID.out.res), its answer checked, and its fragment line: answered by o
# over the session, not from the result cache. RUN is "check" (untimed) or
# a round number: then the wall seconds go to $T/ID.wall and the
# fragment's milliseconds to $T/ID.frag. Says why and returns non-zero on
# any failure.
once() {
	o_id=$1 o_run=$2 o_out=$T/$1.out
	if [ "$o_id" = profile ]; then
		set -- "$WEFT" profile --data-dir "$T/g" --csv --stats \
		    acme.bench.events
	else
		BOUND=$((BOUND + 1))
		set -- "$WEFT" query --data-dir "$T/g" --format csv --stats \
		    "SELECT category, count(*), avg(amount) FROM acme.bench.events WHERE amount > -$BOUND GROUP BY category"
	fi
	echo "$*" >"$o_out.cmd"
	if ! "$BENCH_RSS" "$o_out.res" "$@" >"$o_out" 2>"$o_out.err"; then
		echo "bench: $o_id failed (run $o_run): $(cat "$o_out.cmd")" >&2
		tail -n 20 "$o_out.err" | sed 's/^/    /' >&2
		return 1
	fi
	if grep -q '^fragment .*(result cache)' "$o_out.err"; then
		echo "bench: $o_id (run $o_run) was answered from g's result" \
		    "cache:" >&2
		sed 's/^/    /' "$o_out.err" >&2
		return 1
	fi
	o_frag=$(sed -n 's/^fragment acme\.bench\.events on node o (direct session): version [0-9]*, [0-9]* rows, [0-9]* batches, [0-9]* bytes, \([0-9.]*\) ms.*/\1/p' \
	    "$o_out.err" | head -n 1)
	if [ -z "$o_frag" ]; then
		echo "bench: $o_id (run $o_run) was not answered by o over the" \
		    "session:" >&2
		sed 's/^/    /' "$o_out.err" >&2
		return 1
	fi
	if [ "$o_id" = profile ]; then
		profile_ok "$o_out"
	else
		groupby_ok "$o_out"
	fi || {
		echo "    $(cat "$o_out.cmd")" >&2
		return 1
	}
	if [ ! -f "$T/$o_id.first" ]; then
		cp "$o_out.norm" "$T/$o_id.first"
		cp "$o_out.err" "$T/$o_id.first.err"
	elif ! bench_same "$T/$o_id.first" "$o_out.norm" >"$T/diff" 2>&1; then
		echo "bench: FAILED: $o_id's answer changed (run $o_run):" \
		    "$(cat "$T/diff")" >&2
		echo "    $(cat "$o_out.cmd")" >&2
		return 1
	fi
	[ "$o_run" = check ] && return 0
	bench_get "$o_out.res" wall_s >>"$T/$o_id.wall"
	echo "$o_frag" >>"$T/$o_id.frag"
}

# ---- Set-up -----------------------------------------------------------------

setup() {
	"$WEFT" org create acme --out "$T/acme.key" &&
	    "$WEFT" org create globex --out "$T/globex.key" &&
	    "$WEFT" init --data-dir "$T/o" --org "$T/acme.key" --name o \
	    --mesh profilebench &&
	    "$WEFT" trust add --data-dir "$T/o" "$T/globex.pub" &&
	    "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g \
	    --mesh profilebench &&
	    "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub" &&
	    "$WEFT" publish --data-dir "$T/o" bench.events "$BENCH_CSV" \
	    --visibility globex --quiet
}
setup >"$T/setup.log" 2>&1 || {
	tail -n 20 "$T/setup.log" | sed 's/^/    /' >&2
	bench_die "profile: weft set-up"
}
start_agent o || bench_die "profile: agents"
start_agent g --cache-size 0 --join "$(cat "$T/o.addr")" ||
	bench_die "profile: agents"
wait_for 30 has_peer g o || bench_die "profile: node g has no session with o"
wait_for 30 has_product g acme.bench.events ||
	bench_die "profile: acme.bench.events never reached node g's catalog"

echo "best of $REPEAT runs each, rounds interleaved; $BENCH_ROWS rows of" \
    "acme.bench.events on o, asked from g (org globex; --cache-size 0)"
bench_emit profile runs "$REPEAT"

# ---- Measurements -----------------------------------------------------------

IDS="profile groupby"
for id in $IDS; do
	once "$id" check || bench_die "profile: $id"
	: >"$T/$id.wall"
	: >"$T/$id.frag"
done
agree_category || bench_die "profile: answers"
i=1
while [ "$i" -le "$REPEAT" ]; do
	order=$IDS
	[ $((i % 2)) = 1 ] || order="groupby profile"
	for id in $order; do
		once "$id" "$i" || bench_die "profile: round $i"
	done
	i=$((i + 1))
done
stop_all || bench_die "profile: agent exit"
trap - EXIT

# ---- Report -----------------------------------------------------------------

# fastest FILE: the smallest number in FILE.
fastest() {
	sort -g "$1" | head -n 1
}

# stat_of STAT: the profile's STAT rows (from its first answer), as
# "column=rows ..." (count stats) or "column=value ..." otherwise.
stat_of() {
	awk -F'\t' -v s="$1" '$2 == s {
		printf "%s%s=%s", n++ ? " " : "", $1, ($5 != "" ? $5 : $4)
	}' "$T/profile.first"
}

for id in $IDS; do
	bench_emit profile "${id}_seconds" "$(fastest "$T/$id.wall")"
	bench_emit profile "${id}_seconds_all" "$(paste -sd, "$T/$id.wall")"
	bench_emit profile "${id}_fragment_ms" "$(fastest "$T/$id.frag")"
	bench_emit profile "${id}_fragment_ms_all" "$(paste -sd, "$T/$id.frag")"
done
p_rows=$(wc -l <"$T/profile.first" | tr -d ' ')
p_bytes=$(sed -n 's/^fragment .* \([0-9]*\) bytes, .*/\1/p' \
    "$T/profile.first.err" | head -n 1)
bench_emit profile profile_result_rows "$p_rows"
bench_emit profile profile_fragment_bytes "$p_bytes"

: >"$T/table"
# row KEY LABEL EXT SCALE GOAL: a line of the table: profile's fastest
# ($T/profile.EXT, times SCALE to milliseconds) beside groupby's, the
# ratio emitted as KEY; GOAL "-" for context.
row() {
	r_p=$(bench_calc "$(fastest "$T/profile.$3") * $4")
	r_g=$(bench_calc "$(fastest "$T/groupby.$3") * $4")
	r_r=$(bench_calc "sprintf(\"%.3f\", $r_p / $r_g)")
	bench_emit profile "$1" "$r_r"
	if [ "$5" = - ]; then
		r_v="(context: no goal)"
	else
		r_v=$(bench_calc "($r_r <= $5) ? \"goal met\" : \"goal NOT met\"")
	fi
	echo "$2|$r_p|$r_g|$r_r|${5#-}|$r_v" >>"$T/table"
}
row profile_vs_groupby "weft profile vs one group-by scan" wall 1000 "$GOAL"
row profile_vs_groupby_fragment "  fragment only (owner + round trip)" \
    frag 1 -

echo "profile: $p_rows result rows, $p_bytes bytes from o; distinct" \
    "$(stat_of distinct)"
echo "  --stats of the untimed first runs:"
grep '^fragment' "$T/profile.first.err" | sed 's/^/    (profile) /'
grep '^fragment' "$T/groupby.first.err" | sed 's/^/    (group-by) /'
echo
awk -F'|' '
BEGIN {
	printf "%-40s %10s %10s %7s %7s\n", "figure", "profile", "group-by",
	    "ratio", "goal"
}
{
	g = ($5 == "") ? "-" : "<= " $5
	printf "%-40s %7.1f ms %7.1f ms %7s %7s  %s\n", $1, $2, $3, $4, g, $6
}' "$T/table"
echo "(fastest of $REPEAT runs: whole \`weft profile --csv --stats\` and" \
    "\`weft query --format csv --stats\` processes on g, and \"fragment" \
    "only\": the fragment's time on g's --stats line; goal of issue 13)"
echo
cat "$BENCH_LINES"
