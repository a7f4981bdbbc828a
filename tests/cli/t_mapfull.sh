# The catalog's store past its first map (issue 14, finding 4: "catalog
# silently not persisted": LMDB's full map ended weft_catalog_put before
# its grow-and-retry, the log filled with "error storing a catalog
# entry: " and a restart lost what was learnt). With real agents:
#   1. a holds 16,000 descriptors of ~4.5 KB (~70 MiB: past the 64 MiB
#      map a store starts with; stored by weft-catfill), b learns them
#      all by gossip: b's map grows, nothing fails, all 16,000 are in
#      b's store, also after b restarts;
#   2. c may not grow past 48 MiB (WEFT_MAP_MAX): it stores what fits,
#      says why the rest could not be stored (a message, not an empty
#      one), keeps serving, and what it stored is there after a restart.
. "$(dirname "$0")/lib.sh"
: "${WEFT_CATFILL:?WEFT_CATFILL must point at weft-catfill}"
mesh_test_init
N=16000
ARGS="--sync-interval 1s --origin-max-entries 40000 --catalog-max-bytes 1G"
count() {
	"$WEFT" catalog --data-dir "$T/$1" --json >"$T/cat" 2>/dev/null || return 1
	grep -o '"product":"big\.p[0-9]*"' "$T/cat" | wc -l
}
has_all() { [ "$(count "$1")" -eq "$N" ]; }

ok "$WEFT" org create acme --out "$T/acme.key"
for n in a b c; do
	ok "$WEFT" init --mesh mf --data-dir "$T/$n" --org "$T/acme.key" --name $n
done
ok "$WEFT_CATFILL" --data-dir "$T/a" --count $N --prefix big --desc-bytes 4000
has "stored=$N"
[ "$(stat -c %s "$T/a/data.mdb")" -gt $((64 << 20)) ] || die "a's store did not pass 64 MiB"

# 1. b learns everything
agent_start b
agent_start a --join "$ADDR_b"
until_ok 120 has_all b || die "b holds $(count b) of $N entries"
grep -q "error storing" "$T/b.log" && die "b failed to store entries"
[ "$(stat -c %s "$T/b/data.mdb")" -gt $((64 << 20)) ] || die "b's map did not grow"
kill -TERM "$PID_b"; wait "$PID_b" || die "b exited with $?"
has_all b || die "b holds $(count b) of $N after it stopped"

# 2. c under a cap: it reports, keeps serving, keeps what it stored
WEFT_MAP_MAX=$((48 << 20)) agent_start c --join "$ADDR_a"
until_ok 60 grep -q "store is full" "$T/c.log" || die "c never said its store is full"
grep -q "storing a catalog entry: $" "$T/c.log" && die "c logged an empty reason"
ok "$WEFT" status --data-dir "$T/c" --json
held=$(count c)
[ "$held" -gt 0 ] && [ "$held" -lt $N ] || die "c holds $held of $N under a 48 MiB cap"
kill -TERM "$PID_c"; wait "$PID_c" || die "c exited with $?"
[ "$(count c)" -ge "$held" ] || die "c lost entries over a restart"
kill -TERM "$PID_a"; wait "$PID_a" || die "a exited with $?"
PIDS=""
for n in a b c; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
echo "t_mapfull: b learnt $N (~$(($(stat -c %s "$T/b/data.mdb") >> 20)) MiB store); c kept $held under 48 MiB" >&2
