# weft sim: same seed, same trace hash; bad input exits 1 with a clear
# message (edge-list errors name file:line); --json, --csv and --plot.
. "$(dirname "$0")/lib.sh"
ok "$WEFT" sim --nodes 1000 --topology random --scenario dissemination --seed 7
has "^trace hash: [0-9a-f]{16}$"
has "100%"
has "membership: partial"
h1=$(grep "^trace hash:" "$T/out")
ok "$WEFT" sim --nodes 1000 --topology random --scenario dissemination --seed 7
h2=$(grep "^trace hash:" "$T/out")
[ "$h1" = "$h2" ] || die "same seed, different trace hash: $h1 / $h2"
ok "$WEFT" sim --nodes 1000 --topology random --scenario dissemination --seed 8
[ "$(grep "^trace hash:" "$T/out")" != "$h1" ] || die "another seed, same hash"
ok "$WEFT" sim --nodes 300 --fast-crypto --gossip-interval 200ms --json \
    --csv "$T/s.csv" --plot "$T/s.svg"
has '"fast_crypto":true'
has '"trace_hash":"[0-9a-f]{16}"'
[ "$(head -1 "$T/s.csv")" = "time_s,coverage,messages,bytes" ] || die "csv header"
[ "$(wc -l <"$T/s.csv")" -gt 10 ] || die "csv too short"
grep -q "<svg" "$T/s.svg" || die "no svg plot"
ok "$WEFT" sim --nodes 300 --fast-crypto
has "fast crypto: signatures NOT verified"
ok "$WEFT" sim --help
has "topology T"
# bad input: exit 1 and say what
printf '0 1\n1 2\n2 banana\n' >"$T/edges.txt"
bad "edges.txt:3:" "$WEFT" sim --topology "file:$T/edges.txt"
"$WEFT" sim --topology "file:$T/edges.txt" >/dev/null 2>&1
[ $? -eq 1 ] || die "bad edge list: exit status is not 1"
printf '# ring\n0 1\n1 2\n2 0\n' >"$T/ring.txt"
ok "$WEFT" sim --topology "file:$T/ring.txt" --fast-crypto
has "3 nodes"
bad "unknown topology" "$WEFT" sim --topology torus
bad "unknown scenario" "$WEFT" sim --scenario meteor
bad "more gateways than" "$WEFT" sim --nodes 8 --topology multi-org --orgs 2 --gateways 5
bad "from 2 to" "$WEFT" sim --nodes 1
bad "loss" "$WEFT" sim --loss 1
bad "not a latency" "$WEFT" sim --latency fast
bad "needs --topology multi-org" "$WEFT" sim --scenario gateway-failure
bad "no such file|cannot|No such" "$WEFT" sim --topology "file:$T/missing.txt"
bad "png or .svg" "$WEFT" sim --nodes 10 --fast-crypto --plot "$T/x.gif"
"$WEFT" sim --frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || die "unknown option: exit status is not 2"
for st in 1; do "$WEFT" sim --scenario meteor >/dev/null 2>&1; [ $? -eq $st ] || die "unknown scenario: exit status"; done
exit 0
