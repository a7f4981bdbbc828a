# Quotas against an insider (issue 14, finding 1: catalog freeze), with
# real agents on 127.0.0.1 (org acme: a, b, c). A member of the org (p,
# run only as build/asan/weft-probe) floods a with 3,000 valid
# descriptors. The agents hold at most 1,500 entries (--catalog-max-
# entries), so an origin may hold 150: p keeps 150 on a and b, no more,
# and an honest product published on c during the flood reaches all
# three. Before quotas the flood filled the table and the honest publish
# never arrived (run with --origin-max-entries 1500 to see it).
. "$(dirname "$0")/lib.sh"
: "${WEFT_PROBE:?WEFT_PROBE must point at weft-probe}"
NODES="a b c"
FLOOD=3000
QUOTA=150
ARGS="--gossip-interval 1s --sync-interval 2s --catalog-max-entries 1500 ${QUOTA_ARGS:-}"
mesh_test_init
start() { agent_start "$@"; }
alive() {
	"$WEFT" members --data-dir "$T/$1" --json >"$T/m_$1" 2>/dev/null || return 1
	[ "$(grep -o '"state":"alive"' "$T/m_$1" | wc -l)" -eq 2 ]
}
catalog() {
	"$WEFT" catalog --data-dir "$T/$1" --json >"$T/c_raw" 2>"$T/c_err" || return 1
	sed 's/},{"name"/}\n{"name"/g' "$T/c_raw" >"$T/c_$1"
}
has_p() { catalog "$1" && grep -q "\"product\":\"$2\"" "$T/c_$1"; }
flood_count() {
	until_ok 10 catalog "$1" || die "weft catalog on $1 keeps failing: $(cat "$T/c_err")"
	grep -o '"product":"flood\.p[0-9]*"' "$T/c_$1" | wc -l
}
status_num() {
	ok "$WEFT" status --data-dir "$T/$1" --json
	v=$(json_num "$2")
	[ -n "$v" ] || { cat "$T/out" >&2; die "status of $1 lacks $2"; }
	echo "$v"
}

ok "$WEFT" org create acme --out "$T/acme.key"
for n in $NODES p; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name "$n" --mesh quota
done
start a
for n in b c; do start "$n" --join "$ADDR_a"; done
for n in $NODES; do
	until_ok 30 alive "$n" || { cat "$T/m_$n" >&2; die "$n does not see 2 alive members"; }
done
ok "$WEFT" status --data-dir "$T/b" --json
VICTIM=$(sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out")

"$WEFT_PROBE" gossip --data-dir "$T/p" --connect "$ADDR_a" \
    --victim-key "$VICTIM" --flood $FLOOD --seconds 4 --timeout 20 \
    >"$T/probe.json" 2>"$T/probe.err" &
PROBE_PID=$!
PIDS="$PIDS $PROBE_PID"
printf 'id,amount\n1,2.5\n2,3.5\n' >"$T/h.csv"
sleep 1
ok "$WEFT" publish --data-dir "$T/c" honest.data "$T/h.csv"
wait $PROBE_PID || { cat "$T/probe.err" >&2; die "weft-probe gossip exited with $?"; }
P=$(cat "$T/probe.json")
echo "$P" | grep -q '"up":true' || die "probe session did not come up: $P"
echo "$P" | grep -q "\"flood_sent\":$FLOOD[,}]" || die "probe did not send the whole flood: $P"

for n in $NODES; do
	until_ok 20 has_p "$n" honest.data || die "honest.data never reached $n"
done
sleep 3 # an anti-entropy round or more: nothing more of p may spread
fa=$(flood_count a)
fb=$(flood_count b)
over=$(status_num a gossip_over_quota)
[ "$fa" -gt 0 ] || die "no flood entry held on a"
# p's quota counts its node record and evil.good too
[ "$fa" -le $QUOTA ] || die "a holds $fa flood entries, over p's quota of $QUOTA"
[ "$fb" -le $QUOTA ] || die "b holds $fb flood entries, over p's quota of $QUOTA"
[ "$over" -gt 0 ] || die "a counted nothing over quota"
echo "t_quota: flood $FLOOD: a holds $fa, b $fb, a refused $over over quota" >&2

# The store survives a restart with the same bound.
kill -TERM "$PID_a"; wait "$PID_a" || die "agent a exited with $? after SIGTERM"
start a --join "$ADDR_b"
[ "$(flood_count a)" -le $QUOTA ] || die "a holds more than $QUOTA flood entries after a restart"
until_ok 20 has_p a honest.data || die "honest.data gone from a after a restart"
for n in $NODES; do eval "kill -TERM \$PID_$n"; done
for n in $NODES; do
	eval "wait \$PID_$n" || die "agent $n exited with $? after SIGTERM"
	if grep -q "Sanitizer\|runtime error" "$T/$n.log"; then
		cat "$T/$n.log" >&2; die "sanitizer report in agent $n"
	fi
done
PIDS=""
echo "t_quota: ok"
