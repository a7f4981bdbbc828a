# weft init --renew (issue 14, finding 9): a fresh certificate for the
# node's existing key, signed by the same org root, node.cert replaced
# atomically with its mode kept; refused with another org's key, on a
# directory that holds no node, with options that do not apply. Agents:
# a and b connected; b renewed while it runs, restarted, and connected
# again with the new certificate (weft status shows its expiry).
. "$(dirname "$0")/lib.sh"
mesh_test_init
# jnum KEY: an integer (possibly negative) of the last stdout's JSON
jnum() { sed -n "s/.*\"$1\":\(-\{0,1\}[0-9]*\).*/\1/p" "$T/out" | head -1; }
jstr() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$T/out" | head -1; }
# wait_peer NAME PEER: NAME lists PEER in weft peers (15 s)
wait_peer() {
	until_ok 15 sh -c "'$WEFT' peers --data-dir '$T/$1' --json | grep -q '\"node\":\"$2\"'" ||
	    die "$1 never saw $2"
}

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
ok "$WEFT" init --mesh test --data-dir "$T/a" --org "$T/acme.key" --name a
ok "$WEFT" init --mesh test --data-dir "$T/b" --org "$T/acme.key" --name b \
    --role ops --valid-days 1 --json
pk=$(jstr public_key)
[ -n "$pk" ] || die "init printed no public key"
cp "$T/b/node.key" "$T/b.key0"
cp "$T/b/node.cert" "$T/b.cert0"
chmod 0640 "$T/b/node.cert" # a mode of the operator's: kept

# 1. The renewal itself.
now=$(date +%s)
ok "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 30 --json
has "\"node\":\"b\""
has "\"org\":\"acme\""
has "\"public_key\":\"$pk\""
na=$(jnum not_after)
pna=$(jnum previous_not_after)
nb=$(jnum not_before)
echo "renewed: not_after $pna -> $na (now $now)"
[ $((pna - now)) -le 86400 ] && [ $((pna - now)) -gt 86000 ] ||
    die "the previous not_after $pna is not init's day"
[ $((na - now)) -ge $((30 * 86400 - 5)) ] && [ $((na - now)) -le $((30 * 86400 + 5)) ] ||
    die "the new not_after $na is not 30 days from now"
[ "$nb" -le "$now" ] || die "the new certificate is not valid yet ($nb)"
cmp -s "$T/b/node.key" "$T/b.key0" || die "renew changed node.key"
cmp -s "$T/b/node.cert" "$T/b.cert0" && die "renew left node.cert as it was"
[ "$(stat -c %a "$T/b/node.cert")" = 640 ] || die "renew did not keep node.cert's mode"
ls "$T/b" | grep -q tmp && die "renew left a temp file: $(ls "$T/b")"
# the text form: the new window, key unchanged; the roles stay
ok "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 30
has "renewed the certificate of node b of org acme"
has "public key: $pk \(unchanged\)"
has "valid from [0-9-]+T[0-9:]+Z to [0-9-]+T[0-9:]+Z"
has "next start"

# 2. Refusals: nothing is written.
cp "$T/b/node.cert" "$T/b.cert1"
bad "globex.key is the root of org globex .*signed by org acme" \
    "$WEFT" init --renew --data-dir "$T/b" --org "$T/globex.key"
bad "not an org key" "$WEFT" init --renew --data-dir "$T/b" --org "$T/a/node.key"
bad "cannot open" "$WEFT" init --renew --data-dir "$T/b" --org "$T/missing.key"
bad ": --name does not apply" "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --name x
bad ": --role does not apply" "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --role gateway
bad ": --mesh does not apply" "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --mesh test
bad "want 1..36500" "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 0
bad "want 1..36500" "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 9x
bad "once" "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 2 --valid-seconds 5
bad "usage" "$WEFT" init --renew --data-dir "$T/b"
cmp -s "$T/b/node.cert" "$T/b.cert1" || die "a refused renewal changed node.cert"
bad "not an initialised data directory" \
    "$WEFT" init --renew --data-dir "$T/nowhere" --org "$T/acme.key"
[ -e "$T/nowhere" ] && die "renew made a directory"
mkdir -m 700 "$T/empty"
bad "not an initialised data directory .*no .*node.key" \
    "$WEFT" init --renew --data-dir "$T/empty" --org "$T/acme.key"
# hostile files: a certificate that is not one, one of another node
ok "$WEFT" init --mesh test --data-dir "$T/c" --org "$T/acme.key" --name c
head -c 300 /dev/urandom >"$T/c/node.cert"
bad "node.cert" "$WEFT" init --renew --data-dir "$T/c" --org "$T/acme.key"
cp "$T/a/node.cert" "$T/c/node.cert"
bad "certificate is for another key" "$WEFT" init --renew --data-dir "$T/c" --org "$T/acme.key"
# a world-writable data directory is refused, as by every command
chmod 0777 "$T/c"
bad "chmod" "$WEFT" init --renew --data-dir "$T/c" --org "$T/acme.key"
chmod 0700 "$T/c"

# 3. Agents: b renewed while it runs, then restarted: it links with a.
ok "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 1 --json
na1=$(jnum not_after)
agent_start a
agent_start b --join "$ADDR_a"
wait_peer a b
ok "$WEFT" status --data-dir "$T/b" --json
[ "$(jnum cert_not_after)" = "$na1" ] || die "b runs with another certificate than its own"
ok "$WEFT" init --renew --data-dir "$T/b" --org "$T/acme.key" --valid-days 30 --json
na2=$(jnum not_after)
[ "$na2" -gt "$na1" ] || die "the renewal did not move not_after"
ok "$WEFT" status --data-dir "$T/b" --json
[ "$(jnum cert_not_after)" = "$na1" ] || die "the running b changed its certificate"
kill -TERM $PID_b
wait $PID_b || die "b did not exit cleanly"
until_ok 15 sh -c "! '$WEFT' peers --data-dir '$T/a' --json | grep -q '\"node\":\"b\"'" ||
    die "a still lists b after b stopped"
agent_start b --join "$ADDR_a"
ok "$WEFT" status --data-dir "$T/b" --json
[ "$(jnum cert_not_after)" = "$na2" ] || die "b restarted without its renewed certificate"
has "\"public_key\":\"$pk\""
has '"roles":\["ops"\]'
wait_peer a b
wait_peer b a
for n in a b; do
	eval "p=\$PID_$n"
	kill -TERM $p
	wait $p || die "$n did not exit cleanly"
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
exit 0
