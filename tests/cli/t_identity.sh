# Org keys, node init, help and usage errors.
. "$(dirname "$0")/lib.sh"
ok "$WEFT" org create acme --out "$T/acme.key"
has "public key: [0-9a-f]{64}"
[ "$(stat -c %a "$T/acme.key")" = 600 ] || die "secret key file is not 0600"
[ "$(stat -c %a "$T/acme.pub")" = 644 ] || die "public key file is not 0644"
bad "already exists" "$WEFT" org create acme --out "$T/acme.key"
bad "invalid|name" "$WEFT" org create "bad name!" --out "$T/x.key"
ok "$WEFT" org show "$T/acme.pub" --json
has '"name":"acme"'
pk=$(sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out")
ok "$WEFT" org show "$T/acme.key" --json
has "\"public_key\":\"$pk\""
grep -q secret "$T/out" && die "org show printed the secret"
ok "$WEFT" init --data-dir "$T/n1" --org "$T/acme.key" --name n1 --role gateway
[ "$(stat -c %a "$T/n1/node.key")" = 600 ] || die "node key file is not 0600"
bad "already initialised" "$WEFT" init --data-dir "$T/n1" --org "$T/acme.key" --name n1
bad "not an org key|weft key" "$WEFT" init --data-dir "$T/n2" --org "$T/n1/node.cert" --name n2
bad "cannot open" "$WEFT" init --data-dir "$T/n3" --org "$T/missing.key" --name n3
bad "not a weft data directory" "$WEFT" products --data-dir "$T/nowhere"
bad "usage" "$WEFT" publish
bad "unknown command" "$WEFT" frobnicate
ok "$WEFT" --help
has "publish"
ok "$WEFT" publish --help
has "contract"
ok "$WEFT" version
exit 0
