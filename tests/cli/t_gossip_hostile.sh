# Hostile gossip against real agents on 127.0.0.1 (org acme: a, b, c, d).
# A member of the org (p, run only as build/asan/weft-probe) pushes to a:
# a valid descriptor evil.good v2 and then its older v1 (v2 must stay);
# evil.badsig with a broken envelope signature and evil.origin filed under
# b's key though signed by p (both refused everywhere); and a flood of
# 10000 valid descriptors in about a second, which a's per-neighbour
# verification budget (2000 per 1 s interval) must throttle: throttled
# entries are neither stored nor forwarded. Meanwhile an honest product
# published on d reaches all four.
. "$(dirname "$0")/lib.sh"
: "${WEFT_PROBE:?WEFT_PROBE must point at weft-probe}"
NODES="a b c d"
FLOOD=10000
PIDS=""
PROBE_PID=""
die() {
	for l in "$T"/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -15 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
trap 'for p in $PIDS $PROBE_PID; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
ARGS="--gossip-interval 1s --sync-interval 2s"

# start NAME ARGS...: an agent on $T/NAME, logging to $T/NAME.log
start() {
	n=$1; shift
	"$WEFT" agent --data-dir "$T/$n" --listen 127.0.0.1:0 $ARGS "$@" \
	    2>"$T/$n.log" &
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
	ok "$WEFT" status --data-dir "$T/$n" --json --wait 20
	eval "ADDR_$n=$(listen_addr)"
	eval "[ -n \"\$ADDR_$n\" ]" || die "agent $n: no listen address in status"
}
# alive NAME: NAME sees the three others alive
alive() {
	"$WEFT" members --data-dir "$T/$1" --json >"$T/m_$1" 2>/dev/null || return 1
	[ "$(grep -o '"state":"alive"' "$T/m_$1" | wc -l)" -eq 3 ]
}
# catalog NAME: NAME's catalog into $T/c_NAME (one object a line)
# (a failed listing is logged to $T/cat_fail and reported at the end)
catalog() {
	"$WEFT" catalog --data-dir "$T/$1" --json >"$T/c_raw" 2>"$T/c_err" || {
		echo "weft catalog on $1 exited $?: $(cat "$T/c_err")" >>"$T/cat_fail"
		return 1
	}
	sed 's/},{"name"/}\n{"name"/g' "$T/c_raw" >"$T/c_$1"
}
# has NAME PRODUCT VERSION: NAME's catalog holds PRODUCT at VERSION
has_v() {
	catalog "$1" || return 1
	grep -q "\"product\":\"$2\",[^}]*\"version\":$3[,}]" "$T/c_$1"
}
lacks() {
	! grep -q "\"product\":\"$2\"" "$T/c_$1"
}
# flood_count NAME: flood.p entries in NAME's catalog
flood_count() {
	until_ok 10 catalog "$1" || die "weft catalog on $1 keeps failing: $(cat "$T/c_err")"
	grep -o '"product":"flood\.p[0-9]*"' "$T/c_$1" | wc -l
}
flood_eq() { [ "$(flood_count "$1")" -eq "$2" ]; }
# status_num NAME KEY: a number from NAME's `weft status --json`
status_num() {
	ok "$WEFT" status --data-dir "$T/$1" --json
	v=$(json_num "$2")
	[ -n "$v" ] || { cat "$T/out" >&2; die "status of $1 lacks $2"; }
	echo "$v"
}

ok "$WEFT" org create acme --out "$T/acme.key"
for n in $NODES p; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name "$n" --mesh gossip
done
start a
for n in b c d; do start "$n" --join "$ADDR_a"; done
for n in $NODES; do
	until_ok 30 alive "$n" || { cat "$T/m_$n" >&2; die "$n does not see 3 alive members"; }
done

ok "$WEFT" status --data-dir "$T/b" --json
VICTIM=$(sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out")
[ ${#VICTIM} -eq 64 ] || { cat "$T/out" >&2; die "no public_key for b"; }
refused0=$(status_num a gossip_refused)

# The probe (in the background) and, during its flood, an honest publish.
"$WEFT_PROBE" gossip --data-dir "$T/p" --connect "$ADDR_a" \
    --victim-key "$VICTIM" --flood $FLOOD --seconds 3 --timeout 10 \
    >"$T/probe.json" 2>"$T/probe.err" &
PROBE_PID=$!
printf 'id,amount\n1,2.5\n2,3.5\n' >"$T/h.csv"
sleep 0.5
ok "$WEFT" publish --data-dir "$T/d" honest.data "$T/h.csv"
wait $PROBE_PID || { cat "$T/probe.err" >&2; die "weft-probe gossip exited with $?"; }
PROBE_PID=""
P=$(cat "$T/probe.json")
echo "$P" | grep -q '"up":true' || die "probe session did not come up: $P"
echo "$P" | grep -q '"error":null' || die "probe reported an error: $P"
echo "$P" | grep -q "\"flood_sent\":$FLOOD[,}]" || die "probe did not send the whole flood: $P"

# Honest data and the valid entry everywhere; forged ones nowhere.
for n in $NODES; do
	until_ok 20 has_v "$n" honest.data 1 || { head -c 2000 "$T/c_$n" >&2; die "honest.data v1 not in $n's catalog"; }
	until_ok 20 has_v "$n" evil.good 2 || { grep '"evil\.' "$T/c_$n" >&2; die "evil.good v2 not in $n's catalog"; }
done
sleep 2 # a sync interval, for anything that should not spread
for n in $NODES; do
	until_ok 10 catalog "$n" || die "weft catalog on $n keeps failing: $(cat "$T/c_err")"
	grep -q '"product":"evil\.good",[^}]*"version":2[,}]' "$T/c_$n" || {
		grep '"product":"evil\.' "$T/c_$n" >&2
		die "evil.good v2 no longer in $n's catalog"
	}
	[ "$(grep -c '"product":"evil\.good"' "$T/c_$n")" -eq 1 ] || die "evil.good listed twice on $n"
	lacks "$n" evil.badsig || die "evil.badsig (broken signature) stored on $n"
	lacks "$n" evil.origin || die "evil.origin (foreign origin) stored on $n"
done

# a counted the refusals and the throttling; the excess was dropped.
refused=$(status_num a gossip_refused)
throttled=$(status_num a gossip_throttled)
accepted=$(status_num a gossip_accepted)
[ $((refused - refused0)) -ge 2 ] || die "a refused $((refused - refused0)) entries (want >= 2)"
[ "$throttled" -gt 0 ] || die "a throttled nothing"
fa=$(flood_count a)
[ "$fa" -gt 0 ] || die "no flood entry accepted on a at all"
[ "$fa" -lt $FLOOD ] || die "all $fa flood entries stored on a despite the budget"
[ $((fa + throttled)) -ge $FLOOD ] || die "a: $fa flood entries stored + $throttled throttled < $FLOOD"
for n in b c d; do
	until_ok 10 flood_eq "$n" "$fa" || :
	f=$(flood_count "$n")
	[ "$f" -le "$fa" ] || die "$n holds $f flood entries, more than a's $fa"
done
echo "t_gossip_hostile: flood $FLOOD: $fa stored on a (b: $(flood_count b)), throttled $throttled, refused $((refused - refused0)), accepted $accepted" >&2
echo "t_gossip_hostile: probe: $P" >&2
[ -s "$T/cat_fail" ] && { echo "t_gossip_hostile: warning: transient catalog failures:" >&2; cat "$T/cat_fail" >&2; }

for n in $NODES; do eval "kill -TERM \$PID_$n"; done
for n in $NODES; do
	eval "wait \$PID_$n" || die "agent $n exited with $? after SIGTERM"
	if grep -q "Sanitizer\|runtime error" "$T/$n.log"; then
		cat "$T/$n.log" >&2; die "sanitizer report in agent $n"
	fi
done
PIDS=""
exit 0
