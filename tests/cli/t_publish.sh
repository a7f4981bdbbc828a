# Publishing, looking around, versions, and every kind of bad input
# leaving the previous version intact.
. "$(dirname "$0")/lib.sh"
mknode n1
D="$T/n1"
printf 'id,name,price,ok,at\n1,apple,1.5,true,2024-01-02 03:04:05\n2,"pear, green",2,false,2024-01-03\n3,"say ""hi""",,true,2024-02-29 23:59:59\n4,"multi\nline",4.25,,2024-03-01T00:00:00Z\n' > "$T/fruit.csv"
ok "$WEFT" publish --data-dir "$D" shop.fruit "$T/fruit.csv"
has "version 1: 4 rows"
ok "$WEFT" products --data-dir "$D" --json
has '"name":"shop.fruit"'
[ "$(json_num rows)" = 4 ] || die "rows != 4"
ok "$WEFT" describe --data-dir "$D" shop.fruit --json
has '"name":"id","type":"int64","nullable":false'
has '"name":"name","type":"text"'
has '"name":"price","type":"float64","nullable":true'
has '"name":"ok","type":"bool","nullable":true'
has '"name":"at","type":"timestamp"'
ok "$WEFT" describe --data-dir "$D" shop.fruit
has "schema:"
ok "$WEFT" products --data-dir "$D"
has "shop.fruit +4 +5 +1"

# append and replace make new versions
printf 'id,name,price,ok,at\n5,kiwi,3,true,2024-04-01\n' > "$T/more.csv"
ok "$WEFT" publish --data-dir "$D" shop.fruit "$T/more.csv" --append
ok "$WEFT" products --data-dir "$D" --json
[ "$(json_num rows)" = 5 ] || die "append: rows != 5"
[ "$(json_num version)" = 2 ] || die "append: version != 2"
bad "already exists" "$WEFT" publish --data-dir "$D" shop.fruit "$T/more.csv"

# JSON Lines
printf '{"a":1,"b":"x"}\n{"a":2,"b":null}\n' > "$T/j.jsonl"
ok "$WEFT" publish --data-dir "$D" shop.j "$T/j.jsonl"
has "2 rows"

# bad input: clear error (file, line), non-zero exit, version 2 intact
check_intact() {
	ok "$WEFT" describe --data-dir "$D" shop.fruit --json
	[ "$(json_num version)" = 2 ] || die "version changed after: $1"
	[ "$(json_num rows)" = 5 ] || die "rows changed after: $1"
}
printf 'id,name,price,ok,at\n6,"open,1,true,2024-01-01\n' > "$T/b1.csv"
bad "b1.csv:2.*unterminated" "$WEFT" publish --data-dir "$D" shop.fruit "$T/b1.csv" --append
check_intact "unterminated quote"
printf 'id,name,price,ok,at\n6,x,1,true\n' > "$T/b2.csv"
bad "b2.csv:2.*(5 fields|fields)" "$WEFT" publish --data-dir "$D" shop.fruit "$T/b2.csv" --append
check_intact "field count"
printf 'id,name,price,ok,at\n1,a,1,true,2024-01-01\nabc,x,1,true,2024-01-01\n' > "$T/b3.csv"
bad "b3.csv:3.*id.*abc.*integer" "$WEFT" publish --data-dir "$D" shop.fruit "$T/b3.csv" --append
check_intact "abc in integer column"
printf 'id,name,price,ok,at\n6,\377\376,1,true,2024-01-01\n' > "$T/b4.csv"
bad "b4.csv:2.*UTF-8" "$WEFT" publish --data-dir "$D" shop.fruit "$T/b4.csv" --append
check_intact "invalid UTF-8"
: > "$T/b5.csv"
bad "b5.csv.*empty" "$WEFT" publish --data-dir "$D" shop.fruit "$T/b5.csv" --replace
check_intact "empty file"
bad "nope.csv.*(No such file|cannot open)" "$WEFT" publish --data-dir "$D" shop.fruit "$T/nope.csv" --replace
check_intact "missing file"
bad "invalid product name" "$WEFT" publish --data-dir "$D" "Shop.Fruit!" "$T/fruit.csv"
bad "invalid product name" "$WEFT" publish --data-dir "$D" "nodot" "$T/fruit.csv"
printf 'a,b\n1,2\n' > "$T/b6.csv"
bad "b6.csv.*(header|column)" "$WEFT" publish --data-dir "$D" shop.fruit "$T/b6.csv" --append
check_intact "append with other columns"

# a map too small to grow: refused, nothing lost
"$WEFT_GEN" --rows 200000 --seed 3 --out "$T/mid.csv" || die "gen"
WEFT_MAP_MAX=2097152 bad "full.*may not grow" "$WEFT" publish --data-dir "$D" shop.fruit "$T/mid.csv" --replace --quiet
check_intact "map full"
ok "$WEFT" check --data-dir "$D"

# drop
ok "$WEFT" drop --data-dir "$D" shop.fruit
bad "no product" "$WEFT" describe --data-dir "$D" shop.fruit
bad "no product" "$WEFT" drop --data-dir "$D" shop.fruit
ok "$WEFT" publish --data-dir "$D" shop.fruit "$T/fruit.csv"
ok "$WEFT" describe --data-dir "$D" shop.fruit --json
[ "$(json_num version)" -gt 3 ] || die "re-created product must get a newer version than its tombstone"
ok "$WEFT" check --data-dir "$D"

# several processes on one data directory at once (LMDB is multi-process):
# two publishers and a reader
"$WEFT_GEN" --rows 50000 --seed 5 --out "$T/c1.csv" || die "gen"
"$WEFT" publish --data-dir "$D" conc.one "$T/c1.csv" --quiet >"$T/p1" 2>&1 &
p1=$!
"$WEFT" publish --data-dir "$D" conc.two "$T/c1.csv" --quiet >"$T/p2" 2>&1 &
p2=$!
"$WEFT" products --data-dir "$D" --json >/dev/null 2>"$T/p3" || { cat "$T/p3"; die "reader failed during publishes"; }
wait $p1 || { cat "$T/p1"; die "concurrent publish 1 failed"; }
wait $p2 || { cat "$T/p2"; die "concurrent publish 2 failed"; }
for p in conc.one conc.two; do
	ok "$WEFT" describe --data-dir "$D" $p --json
	[ "$(json_num rows)" = 50000 ] || die "$p: rows != 50000"
done
ok "$WEFT" check --data-dir "$D"
exit 0
