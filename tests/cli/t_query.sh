# weft query from the command line: output formats, and bad input giving a
# clear error with the position marked, exit 1, no crash.
. "$(dirname "$0")/lib.sh"
mknode n1
D="$T/n1"
printf 'id,name,price\n1,apple,1.5\n2,"pear, green",\n3,,2\n' > "$T/f.csv"
ok "$WEFT" publish --data-dir "$D" shop.fruit "$T/f.csv"

ok "$WEFT" query --data-dir "$D" --format csv "SELECT id, name, price FROM shop.fruit ORDER BY id"
printf 'id,name,price\n1,apple,1.5\n2,"pear, green",\n3,,2\n' > "$T/want.csv"
cmp -s "$T/out" "$T/want.csv" || { diff "$T/want.csv" "$T/out"; die "csv output differs"; }
ok "$WEFT" query --data-dir "$D" --format json "SELECT id, price FROM shop.fruit WHERE id = 2"
has '^\[$'
has '\{"id":2,"price":null\}'
ok "$WEFT" query --data-dir "$D" "SELECT name, count(*) AS n FROM fruit GROUP BY name ORDER BY name NULLS FIRST"
has '^ *name *\| *n *$'
has '\(3 rows\)'
ok "$WEFT" query --data-dir "$D" "EXPLAIN SELECT id FROM shop.fruit WHERE price > 1"
has 'Scan shop.fruit'

# bad input: message, the SQL line, a caret under the position, exit 1
caret() { # COLUMN: the caret sits under character COLUMN of the SQL
	n=$(grep -n '^LINE 1:' "$T/err" | cut -d: -f1)
	[ -n "$n" ] || die "no LINE 1: in error output"
	line=$(sed -n "$((n + 1))p" "$T/err")
	want=$(( $1 + 7 ))   # "LINE 1: " is 8 characters; column 1 -> index 8
	[ "${#line}" -eq "$((want + 1))" ] || { cat "$T/err"; die "caret at $(( ${#line} - 8 )), want $1"; }
}
bad 'syntax error at or near "SELEC"' "$WEFT" query --data-dir "$D" "SELEC 1"
caret 1
bad 'column "nmae" does not exist.*did you mean "name"' "$WEFT" query --data-dir "$D" "SELECT nmae FROM shop.fruit"
caret 8
bad 'relation "shop.fruits" does not exist.*did you mean "shop.fruit"' "$WEFT" query --data-dir "$D" "SELECT * FROM shop.fruits"
caret 15
bad 'invalid input syntax for type integer: "abc"' "$WEFT" query --data-dir "$D" "SELECT 'abc' + 1"
caret 8
bad 'operator does not exist: text \+ integer' "$WEFT" query --data-dir "$D" "SELECT name + 1 FROM shop.fruit"
bad 'division by zero' "$WEFT" query --data-dir "$D" "SELECT id / (id - id) FROM shop.fruit"
bad 'unsupported at character 12: window functions' "$WEFT" query --data-dir "$D" "SELECT id, row_number() OVER () FROM shop.fruit"
# the caret counts display columns: 東京 takes four
bad 'column "nope" does not exist' "$WEFT" query --data-dir "$D" "SELECT '東京', nope FROM shop.fruit"
caret 16
# and the table aligns wide text by display width
printf 'id,name\n1,東京\n2,abcd\n' > "$T/w.csv"
ok "$WEFT" publish --data-dir "$D" geo.wide "$T/w.csv"
ok "$WEFT" query --data-dir "$D" "SELECT name, id FROM geo.wide ORDER BY id"
has '^ 東京 \|  1$'
has '^ abcd \|  2$'
bad 'usage' "$WEFT" query --data-dir "$D"
bad 'format' "$WEFT" query --data-dir "$D" --format xml "SELECT 1"
exit 0
