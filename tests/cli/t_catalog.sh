# weft catalog, the local view: what this node published is listed with
# its signer, rows and version; --search by name, column, description and
# tag; --json fields; a dropped product disappears; usage errors exit 2.
# (The gossiped view across agents is tested with the agent tests.)
. "$(dirname "$0")/lib.sh"
mknode n1
D="$T/n1"
KEY=$(sed -n 's/^public key: \([0-9a-f]*\)$/\1/p' "$T/out")
[ ${#KEY} = 64 ] || die "no node public key in weft init's output"

# code CODE CMD...: must exit with CODE, no sanitizer report
code() {
	want=$1; shift
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	grep -q "Sanitizer\|runtime error" "$T/err" && { cat "$T/err" >&2; die "sanitizer report: $*"; }
	[ "$got" = "$want" ] || { cat "$T/out" "$T/err" >&2; die "exit $got, want $want: $*"; }
}
# lacks PATTERN: the last stdout does not match
lacks() { ! grep -Eq "$1" "$T/out" || { cat "$T/out" >&2; die "stdout has /$1/"; }; }

# an empty catalog: the header, an empty array
ok "$WEFT" catalog --data-dir "$D"
has "^NAME +NODE +ORG +VERSION +ROWS +UPDATED"
[ "$(wc -l <"$T/out")" = 1 ] || die "empty catalog: more than the header"
ok "$WEFT" catalog --data-dir "$D" --json
[ "$(cat "$T/out")" = "[]" ] || die "empty catalog: json is not []"

# three products: two plain, one with a contract (description, tags)
printf 'id,name,price\n1,apple,1.5\n2,pear,2\n3,kiwi,\n4,plum,0.5\n' > "$T/fruit.csv"
ok "$WEFT" publish --data-dir "$D" shop.fruit "$T/fruit.csv"
printf 'at,station,temperature\n2024-01-01 00:00:00,s1,3.5\n2024-01-01 01:00:00,s1,3.25\n' > "$T/r1.csv"
printf 'at,station,temperature\n2024-01-01 02:00:00,s2,-1\n' > "$T/r2.csv"
ok "$WEFT" publish --data-dir "$D" sensor.readings "$T/r1.csv"
ok "$WEFT" publish --data-dir "$D" sensor.readings "$T/r2.csv" --append
cat > "$T/orders.yaml" <<'Y'
apiVersion: v3.0.2
kind: DataContract
id: 0b6e7e1c-2a4f-4a43-9a57-3f1e2d7c9b11
name: orders
version: 1.0.0
status: active
domain: shop
dataProduct: orders
description:
  purpose: Every order placed in the web shop.
tags: [sales, finance]
schema:
  - name: orders
    logicalType: object
    properties:
      - name: id
        logicalType: integer
        required: true
      - name: customer
        logicalType: string
      - name: amount
        logicalType: number
Y
printf 'id,customer,amount\n1,ann,10\n2,bob,\n3,cy,4.5\n' > "$T/orders.csv"
ok "$WEFT" publish --data-dir "$D" shop.orders "$T/orders.csv" --contract "$T/orders.yaml"

# the table: full names org.domain.product, sorted, node, org, version, rows
ok "$WEFT" catalog --data-dir "$D"
has "^orgn1\.sensor\.readings +n1 +orgn1 +2 +3 +[0-9]{4}-[0-9]{2}-[0-9]{2} "
has "^orgn1\.shop\.fruit +n1 +orgn1 +1 +4 "
has "^orgn1\.shop\.orders +n1 +orgn1 +1 +3 .*sales, finance +Every order placed in the web shop\.$"
[ "$(sed -n '2,$s/ .*//p' "$T/out" | tr '\n' ' ')" = "orgn1.sensor.readings orgn1.shop.fruit orgn1.shop.orders " ] ||
	die "catalog is not sorted by full name"
ok "$WEFT" catalog --data-dir "$D" --json
has "^\[\{\"name\":\"orgn1\.sensor\.readings\",.*\},\{\"name\":\"orgn1\.shop\.fruit\",.*\},\{\"name\":\"orgn1\.shop\.orders\",.*\}\]$"
has "\"name\":\"orgn1\.shop\.orders\",\"product\":\"shop\.orders\",\"org\":\"orgn1\",\"node\":\"n1\",\"node_key\":\"$KEY\",\"version\":1,\"rows\":3,\"updated_us\":[0-9]{16,}"
has '"description":"Every order placed in the web shop.","tags":\["sales","finance"\],"columns":\[\{"name":"id","type":"int64"\},\{"name":"customer","type":"text"\},\{"name":"amount","type":"float64"\}\]\}'
has '"name":"orgn1\.sensor\.readings","product":"sensor\.readings".*"version":2,"rows":3'
has '"product":"shop\.fruit".*"description":null,"tags":\[\],"columns":\[\{"name":"id","type":"int64"\},\{"name":"name","type":"text"\},\{"name":"price","type":"float64"\}\]'
lacks '"matched"'
# the same as weft products for what this node hosts
ok "$WEFT" products --data-dir "$D" --json
[ "$(json_num rows)" = 3 ] || die "products disagrees"

# --search, ignoring case: by name
ok "$WEFT" catalog --data-dir "$D" --search FRUIT
has "^orgn1\.shop\.fruit "
[ "$(wc -l <"$T/out")" = 2 ] || die "search FRUIT: want one row"
ok "$WEFT" catalog --data-dir "$D" --search fruit --json
has '^\[\{"name":"orgn1\.shop\.fruit",.*"matched":\["name"\]\}\]$'
# by org: the full name holds it
ok "$WEFT" catalog --data-dir "$D" --search orgn1 --json
[ "$(grep -o '"matched":\["name"\]' "$T/out" | wc -l)" = 3 ] || die "search by org"
# by a column name
ok "$WEFT" catalog --data-dir "$D" --search Temperature --json
has '^\[\{"name":"orgn1\.sensor\.readings",.*"matched":\["column"\]\}\]$'
ok "$WEFT" catalog --data-dir "$D" --search customer
has "^orgn1\.shop\.orders "
[ "$(wc -l <"$T/out")" = 2 ] || die "search customer: want one row"
# by description
ok "$WEFT" catalog --data-dir "$D" --search "WEB SHOP" --json
has '^\[\{"name":"orgn1\.shop\.orders",.*"matched":\["description"\]\}\]$'
# by tag
ok "$WEFT" catalog --data-dir "$D" --search financ --json
has '^\[\{"name":"orgn1\.shop\.orders",.*"matched":\["tag"\]\}\]$'
# several fields at once, several products
ok "$WEFT" catalog --data-dir "$D" --search shop --json
has '^\[\{"name":"orgn1\.shop\.fruit",.*"matched":\["name"\]\},\{"name":"orgn1\.shop\.orders",.*"matched":\["name","description"\]\}\]$'
ok "$WEFT" catalog --data-dir "$D" --search id --json
has '"name":"orgn1\.shop\.fruit",.*"matched":\["column"\]'
has '"name":"orgn1\.shop\.orders",.*"matched":\["column"\]'
lacks 'sensor'
# no match: the header only, a note on stderr, exit 0
ok "$WEFT" catalog --data-dir "$D" --search nosuchthing
[ "$(wc -l <"$T/out")" = 1 ] || die "no match: more than the header"
grep -q "no products match" "$T/err" || die "no match: no note on stderr"
ok "$WEFT" catalog --data-dir "$D" --search nosuchthing --json
[ "$(cat "$T/out")" = "[]" ] || die "no match: json is not []"

# a dropped product disappears; re-created, it is back with a newer version
ok "$WEFT" drop --data-dir "$D" shop.fruit
ok "$WEFT" catalog --data-dir "$D"
lacks "shop\.fruit"
has "^orgn1\.shop\.orders "
ok "$WEFT" catalog --data-dir "$D" --search fruit --json
[ "$(cat "$T/out")" = "[]" ] || die "dropped product still found"
ok "$WEFT" publish --data-dir "$D" shop.fruit "$T/fruit.csv"
ok "$WEFT" catalog --data-dir "$D" --search fruit --json
has '"name":"orgn1\.shop\.fruit"'
[ "$(json_num version)" -gt 2 ] || die "re-created product: version not newer than its tombstone"
ok "$WEFT" check --data-dir "$D"

# usage and errors
ok "$WEFT" catalog --help
has "^usage: weft catalog"
has "column name"
code 2 "$WEFT" catalog --data-dir "$D" extra
grep -q "usage: weft catalog" "$T/err" || die "no usage on a stray argument"
code 2 "$WEFT" catalog --data-dir "$D" --bogus
code 2 "$WEFT" catalog --data-dir "$D" --search
code 2 "$WEFT" catalog --data-dir "$D" --search ""
grep -q "empty" "$T/err" || die "empty search term not explained"
code 2 env -u WEFT_DATA_DIR "$WEFT" catalog
grep -q "no data directory" "$T/err" || die "missing data dir not explained"
code 1 "$WEFT" catalog --data-dir "$T/nowhere"
grep -q "not a weft data directory" "$T/err" || die "bad data dir not explained"
WEFT_DATA_DIR="$D" ok "$WEFT" catalog --search orders
has "^orgn1\.shop\.orders "
exit 0
