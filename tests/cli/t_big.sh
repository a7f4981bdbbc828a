# The 3,000,000-row (~100 MB) generated CSV publishes with the right row
# count and types in under 200 MB of peak RSS. RSS is measured on the
# release build: sanitizer shadow memory would swamp the figure.
. "$(dirname "$0")/lib.sh"
: "${WEFT_REL:?}" "${WEFT_GEN:?}" "${WEFT_RSS:?}"
mknode n1
"$WEFT_GEN" --rows 3000000 --seed 42 --out "$T/events.csv" || die "gen"
size=$(stat -c %s "$T/events.csv")
echo "input: $size bytes"
[ "$size" -gt 80000000 ] || die "generated file is only $size bytes"
"$WEFT_RSS" "$T/rss" "$WEFT_REL" publish --data-dir "$T/n1" bench.events "$T/events.csv" --quiet \
	|| { cat "$T/rss"; die "publish failed"; }
cat "$T/rss"
kib=$(sed -n 's/.*maxrss_kib=\([0-9]*\).*/\1/p' "$T/rss")
[ "$kib" -lt 204800 ] || die "peak RSS ${kib} KiB >= 200 MB"
ok "$WEFT" describe --data-dir "$T/n1" bench.events --json
[ "$(json_num rows)" = 3000000 ] || die "rows != 3000000"
has '"name":"ts","type":"timestamp"'
has '"name":"user_id","type":"int64"'
has '"name":"amount","type":"int64"'
has '"name":"category","type":"text"'
has '"name":"region","type":"text"'
ok "$WEFT" describe --data-dir "$T/n1" bench.events
has "ts +timestamp"
ok "$WEFT_REL" check --data-dir "$T/n1"
exit 0
