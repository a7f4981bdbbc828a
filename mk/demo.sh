#!/bin/sh
# make demo: a domain team's first minutes with weft, on an embedded
# default data set (generated deterministically; nothing downloaded).
set -e
: "${WEFT:?}" "${WEFT_GEN:?}"
D=${WEFT_DEMO_DIR:-demo-data}
rm -rf "$D"
mkdir -p "$D"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

run "$WEFT" org create acme --out "$D/acme.key"
run "$WEFT" init --data-dir "$D/node1" --org "$D/acme.key" --name node1
say "$WEFT_GEN --rows 1000000 --seed 7 --out $D/events.csv"
"$WEFT_GEN" --rows 1000000 --seed 7 --out "$D/events.csv"
cat > "$D/events.yaml" <<'Y'
apiVersion: v3.0.2
kind: DataContract
id: demo-events
name: events
version: 1.0.0
status: active
domain: shop
dataProduct: events
description:
  purpose: Purchase events from the web shop, one row per purchase.
tags: [sales, demo]
team:
  - username: shop-analytics
    role: owner
schema:
  - name: events
    logicalType: object
    properties:
      - name: ts
        logicalType: timestamp
        physicalType: timestamp
        required: true
        description: When the purchase happened (UTC).
      - name: user_id
        logicalType: integer
        physicalType: bigint
        required: true
      - name: amount
        logicalType: integer
        physicalType: bigint
        description: Amount in cents; negative for refunds.
      - name: category
        logicalType: string
        physicalType: text
      - name: region
        logicalType: string
        physicalType: text
Y
run "$WEFT" publish --data-dir "$D/node1" shop.events "$D/events.csv" --contract "$D/events.yaml"
run "$WEFT" products --data-dir "$D/node1"
run "$WEFT" describe --data-dir "$D/node1" shop.events
say "$WEFT describe --data-dir $D/node1 shop.events --contract | head -20"
"$WEFT" describe --data-dir "$D/node1" shop.events --contract | head -20
run "$WEFT" query --data-dir "$D/node1" "SELECT category, count(*) AS sales, round(avg(amount) / 100.0, 2) AS avg_eur FROM shop.events GROUP BY category ORDER BY sales DESC LIMIT 5"
run "$WEFT" query --data-dir "$D/node1" "SELECT date_trunc('month', ts) AS month, sum(amount) AS total FROM shop.events GROUP BY 1 ORDER BY 1 LIMIT 3"
run "$WEFT" check --data-dir "$D/node1"
printf '\nThe demo left its files in %s/ (delete it when done).\n' "$D"
