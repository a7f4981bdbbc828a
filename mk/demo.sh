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

# The mesh: node1 and two more nodes run agents on 127.0.0.1 (free
# ports); node3 belongs to another org that acme trusts. Gossip brings
# every member and the products each may see to every node.
AGENTS=""
trap 'for p in $AGENTS; do kill -TERM $p 2>/dev/null; done' EXIT
agent() {
	say "$WEFT agent --data-dir $D/$1 --listen 127.0.0.1:0 $2 &"
	"$WEFT" agent --data-dir "$D/$1" --listen 127.0.0.1:0 \
	    --gossip-interval 200ms $2 2>"$D/$1.log" &
	AGENTS="$AGENTS $!"
	"$WEFT" status --data-dir "$D/$1" --json --wait 10 >"$D/$1.status"
}
run "$WEFT" org create globex --out "$D/globex.key"
run "$WEFT" init --data-dir "$D/node2" --org "$D/acme.key" --name node2 \
    --network-key "$D/node1/network.key"
run "$WEFT" init --data-dir "$D/node3" --org "$D/globex.key" --name node3 \
    --network-key "$D/node1/network.key"
run "$WEFT" trust add --data-dir "$D/node1" "$D/globex.pub"
run "$WEFT" trust add --data-dir "$D/node2" "$D/globex.pub"
run "$WEFT" trust add --data-dir "$D/node3" "$D/acme.pub"
agent node1
SEED=$(sed -n 's/.*"listen":\["\([^"]*\)"\].*/\1/p' "$D/node1.status")
agent node2 "--join $SEED"
agent node3 "--join $SEED"
say "$WEFT publish --data-dir $D/node3 crm.accounts accounts.csv --visibility acme"
printf 'id,name,tier\n1,Initech,gold\n2,Umbrella,silver\n' >"$D/accounts.csv"
"$WEFT" publish --data-dir "$D/node3" crm.accounts "$D/accounts.csv" \
    --visibility acme --quiet
i=0
until "$WEFT" catalog --data-dir "$D/node2" --json 2>/dev/null |
    grep -q globex.crm.accounts; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "demo: gossip did not converge" >&2; exit 1; }
	sleep 0.1
done
run "$WEFT" members --data-dir "$D/node2"
run "$WEFT" peers --data-dir "$D/node1"
run "$WEFT" catalog --data-dir "$D/node2"
run "$WEFT" catalog --data-dir "$D/node2" --search tier
run "$WEFT" describe --data-dir "$D/node2" globex.crm.accounts
for p in $AGENTS; do kill -TERM $p; wait $p; done
AGENTS=""
# The same gossip code, 10,000 nodes in the simulator (docs/sim.md).
run "$WEFT" sim --nodes 10000 --topology random --scenario dissemination \
    --seed 7 --csv "$D/coverage.csv"
printf '\nThe demo left its files in %s/ (delete it when done).\n' "$D"
