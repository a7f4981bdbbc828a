# Revocation at the owner (issue 13): a fragment that is running when the
# owner's policy changes is cancelled at once, with a reason the asker
# sees, and the audit log records it; the next query is judged by the
# new policy. Real agents on 127.0.0.1: o (org acme) hosts ops.big
# (400,000 wide rows, visible to globex); g (org globex) asks for all of it,
# and its client stops reading (a FIFO nobody reads yet), so the
# owner's fragment waits for credit, mid-answer, when the policy is set.
. "$(dirname "$0")/lib.sh"
mesh_test_init

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
ok "$WEFT" init --data-dir "$T/o" --org "$T/acme.key" --name o --mesh rev
ok "$WEFT" trust add --data-dir "$T/o" "$T/globex.pub"
ok "$WEFT" init --data-dir "$T/g" --org "$T/globex.key" --name g --mesh rev
ok "$WEFT" trust add --data-dir "$T/g" "$T/acme.pub"
# wide rows (some 50 MB of answer): more than every buffer between the
# owner and the FIFO holds; published by the release build, for speed
awk 'BEGIN { print "id,name,amount"; p = sprintf("%0120d", 0); for (i = 1; i <= 400000; i++) printf "%d,customer-%07d-%s,%d\n", i, i, p, i % 977 }' >"$T/big.csv"
ok "${WEFT_REL:-$WEFT}" publish --data-dir "$T/o" ops.big "$T/big.csv" --visibility globex
agent_start o
agent_start g --join "$ADDR_o"
known() { "$WEFT" catalog --data-dir "$T/g" --json 2>/dev/null | grep -q '"name":"acme.ops.big"'; }
until_ok 20 known || die "g never learnt acme.ops.big"

mkfifo "$T/fifo"
"$WEFT" query --data-dir "$T/g" --format csv "SELECT id, name, amount FROM acme.ops.big" \
    >"$T/fifo" 2>"$T/qerr" &
QPID=$!
exec 3<"$T/fifo" # opened, not read: the answer backs up to the owner
sleep 3
grep -q "fragment of ops.big" "$T/o.log" && die "the fragment finished before the policy changed"
cat >"$T/narrow.yaml" <<'Y'
product: ops.big
grants:
  - to: [globex]
    columns: [id]
Y
ok "$WEFT" policy set --data-dir "$T/o" ops.big "$T/narrow.yaml"
until_ok 10 grep -q "a policy changed: 1 fragment being served cancelled" "$T/o.log" ||
    die "the owner did not cancel the running fragment"
cat <&3 >/dev/null
exec 3<&-
wait "$QPID" && die "the query under the withdrawn grant succeeded"
grep -q "a policy of the owner changed while the fragment ran" "$T/qerr" ||
    die "the asker was not told why: $(cat "$T/qerr")"
# the next query is judged by the new policy
bad 'column "name" is not granted to org globex' \
    "$WEFT" query --data-dir "$T/g" "SELECT count(name) FROM acme.ops.big"
ok "$WEFT" query --data-dir "$T/g" --format csv "SELECT count(id) FROM acme.ops.big"
has "^400000$"
audit_has() { "$WEFT" audit --data-dir "$T/o" --refused --json >"$T/audit.json" 2>/dev/null && grep -q "$1" "$T/audit.json"; }
until_ok 10 audit_has "a policy of the owner changed" || die "audit: no record of the cancelled fragment"
grep -q "Sanitizer\|runtime error" "$T/o.log" "$T/g.log" && die "sanitizer report"
echo "policies: a running fragment is cancelled when the owner's policy changes"
