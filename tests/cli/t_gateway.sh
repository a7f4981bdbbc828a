# Trust boundaries with real agents: orgs acme and globex trust each
# other's signatures but link only gateway to gateway. A product visible
# only to acme never reaches a globex node (checked on every globex node
# and in acme's gateway's forwarding log); one shared with globex, and a
# public one of globex, reach every node of the other org; a regular node
# of one org is refused a direct session with the other.
. "$(dirname "$0")/lib.sh"
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
die() {
	for l in "$T"/ga.log "$T"/gb.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -20 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
ARGS="--gossip-interval 200ms --suspect-timeout 1s --backoff-max 1s"
start() {
	n=$1; shift
	"$WEFT" agent --data-dir "$T/$n" --listen 127.0.0.1:0 $ARGS "$@" 2>>"$T/$n.log" &
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
	ok "$WEFT" status --data-dir "$T/$n" --json --wait 20
	eval "ADDR_$n=$(listen_addr)"
}
cat_has() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"name\":\"$2\""; }
cat_lacks() { "$WEFT" catalog --data-dir "$T/$1" --json >"$T/cat" 2>/dev/null && ! grep -q "\"name\":\"$2\"" "$T/cat"; }

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in a0 a1 ga; do
	role=""; [ $n = ga ] && role="--role gateway"
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n --mesh gw $role
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/globex.pub" --via-gateway
done
for n in b0 b1 gb; do
	role=""; [ $n = gb ] && role="--role gateway"
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/globex.key" --name $n --mesh gw $role
	ok "$WEFT" trust add --data-dir "$T/$n" "$T/acme.pub" --via-gateway
done
ok "$WEFT" trust list --data-dir "$T/a0"
has "^globex .*\(through gateways\)"

start ga
start a0 --join "$ADDR_ga"
start a1 --join "$ADDR_ga"
start gb --join "$ADDR_ga"
start b0 --join "$ADDR_gb"
start b1 --join "$ADDR_gb"
# every node sees its org's nodes and the other org's gateway
for n in a0 a1 ga b0 b1 gb; do
	until_ok 20 sh -c "\"$WEFT\" members --data-dir \"$T/$n\" --json | grep -o '\"state\":\"alive\"' | wc -l | grep -qx 3" ||
	    die "$n does not see 3 alive members"
done
ok "$WEFT" members --data-dir "$T/b0" --json
grep -q '"node":"ga"' "$T/out" || die "b0 does not know acme's gateway"
grep -q '"node":"a0"' "$T/out" && die "b0 knows acme's regular node a0"

printf 'id\n1\n' >"$T/p.csv"
ok "$WEFT" publish --data-dir "$T/a0" acme.private "$T/p.csv"
ok "$WEFT" publish --data-dir "$T/a0" acme.shared "$T/p.csv" --visibility globex
ok "$WEFT" publish --data-dir "$T/b1" globex.open "$T/p.csv" --visibility public
for n in b0 b1 gb; do
	until_ok 20 cat_has $n acme.acme.shared || die "acme.shared never reached $n"
done
for n in a0 a1 ga; do
	until_ok 20 cat_has $n globex.globex.open || die "globex.open never reached $n"
	until_ok 20 cat_has $n acme.acme.private || die "acme.private never reached $n"
done
sleep 1 # a few more gossip rounds
for n in b0 b1 gb; do
	cat_lacks $n acme.acme.private || die "acme.private reached globex node $n"
done
grep -q "gossip: forwarded descriptor acme.shared of org acme version [0-9]* to org globex" "$T/ga.log" ||
    die "no forwarding log line for acme.shared"
grep -q "forwarded descriptor acme.private" "$T/ga.log" && die "the gateway forwarded acme.private"

# Remote products are described from the catalog, by full or bare name.
ok "$WEFT" describe --data-dir "$T/b0" acme.acme.shared --json
grep -q '"name":"acme.shared","org":"acme","node":"a0"' "$T/out" || { cat "$T/out" >&2; die "remote describe"; }
grep -q '"visibility":"listed","visible_to":\["globex"\]' "$T/out" || die "visibility not shown"
ok "$WEFT" describe --data-dir "$T/a1" globex.open
grep -q "globex" "$T/out" || die "bare-name remote describe"
bad "no product" "$WEFT" describe --data-dir "$T/b0" acme.acme.private

# A regular node of acme dialling globex's gateway directly is refused.
ok "$WEFT" init --data-dir "$T/a2" --org "$T/acme.key" --name a2 --mesh gw
ok "$WEFT" trust add --data-dir "$T/a2" "$T/globex.pub" --via-gateway
start a2 --join "$ADDR_gb"
until_ok 20 grep -q "node a2 of org acme is reached only through gateways" "$T/gb.log" ||
    die "gb took a direct session from a2"
for n in a0 a1 ga b0 b1 gb a2; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
	eval "kill -TERM \$PID_$n"
	eval "wait \$PID_$n" || die "$n did not exit cleanly"
done
exit 0
