# ODCS v3 contracts in and out; unknown fields survive; mismatches refused.
. "$(dirname "$0")/lib.sh"
mknode n1
D="$T/n1"
cat > "$T/c.yaml" <<'Y'
apiVersion: v3.0.2
kind: DataContract
id: 53581432-6c55-4ba2-a65f-72344a91553a
name: orders
version: 1.0.0
status: active
domain: shop
dataProduct: orders
description:
  purpose: Every order placed in the web shop.
tags: [sales, finance]
x-internal-ticket: ABC-123
schema:
  - name: orders
    logicalType: object
    properties:
      - name: id
        logicalType: integer
        physicalType: bigint
        required: true
        description: Order number.
      - name: customer
        logicalType: string
        physicalType: text
        x-pii: true
      - name: amount
        logicalType: number
        physicalType: double precision
Y
printf 'id,customer,amount\n1,ann,10\n2,bob,\n' > "$T/o.csv"
ok "$WEFT" publish --data-dir "$D" shop.orders "$T/o.csv" --contract "$T/c.yaml"
ok "$WEFT" describe --data-dir "$D" shop.orders --json
has '"description":"Every order placed in the web shop."'
has '"tags":\["sales","finance"\]'
has '"name":"id","type":"int64","nullable":false,"description":"Order number."'
has '"name":"amount","type":"float64","nullable":true'
ok "$WEFT" describe --data-dir "$D" shop.orders --contract
cp "$T/out" "$T/back.yaml"
grep -q "x-internal-ticket" "$T/back.yaml" || die "unknown top-level field dropped"
grep -q "x-pii" "$T/back.yaml" || die "unknown property field dropped"
grep -q "apiVersion" "$T/back.yaml" || die "no apiVersion"
# what we emit is accepted back
ok "$WEFT" publish --data-dir "$D" shop.orders "$T/o.csv" --contract "$T/back.yaml" --replace
# contract says integer, data says otherwise
printf 'id,customer,amount\nx1,ann,10\n' > "$T/bad.csv"
bad "bad.csv:2.*id.*integer" "$WEFT" publish --data-dir "$D" shop.orders "$T/bad.csv" --contract "$T/c.yaml" --replace
# required column with a NULL
printf 'id,customer,amount\n,ann,10\n' > "$T/null.csv"
bad "null.csv:2.*id" "$WEFT" publish --data-dir "$D" shop.orders "$T/null.csv" --contract "$T/c.yaml" --replace
# a file whose columns differ from the contract
printf 'id,who,amount\n1,ann,10\n' > "$T/cols.csv"
bad "contract" "$WEFT" publish --data-dir "$D" shop.orders "$T/cols.csv" --contract "$T/c.yaml" --replace
# contract for another product
bad "contract is for product" "$WEFT" publish --data-dir "$D" shop.other "$T/o.csv" --contract "$T/c.yaml"
printf 'apiVersion: [unclosed\n' > "$T/broken.yaml"
bad "broken.yaml:[0-9]+" "$WEFT" publish --data-dir "$D" shop.orders "$T/o.csv" --contract "$T/broken.yaml" --replace
ok "$WEFT" describe --data-dir "$D" shop.orders --json
[ "$(json_num version)" = 2 ] || die "version changed by refused publishes"
exit 0
