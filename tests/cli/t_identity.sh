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
ok "$WEFT" init --mesh test --data-dir "$T/n1" --org "$T/acme.key" --name n1 --role gateway
[ "$(stat -c %a "$T/n1/node.key")" = 600 ] || die "node key file is not 0600"
bad "already initialised" "$WEFT" init --mesh test --data-dir "$T/n1" --org "$T/acme.key" --name n1
bad "not an org key|weft key" "$WEFT" init --mesh test --data-dir "$T/n2" --org "$T/n1/node.cert" --name n2
bad "cannot open" "$WEFT" init --mesh test --data-dir "$T/n3" --org "$T/missing.key" --name n3
bad "not a weft data directory" "$WEFT" products --data-dir "$T/nowhere"
# network keys: same mesh name, same key; another mesh or a key file differ
fp() { sed -n 's/.*"network_key_fingerprint":"\([0-9a-f]*\)".*/\1/p' "$T/out"; }
ok "$WEFT" init --mesh test --data-dir "$T/m1" --org "$T/acme.key" --name m1 --json
f1=$(fp)
grep -q "warning: --mesh test" "$T/err" || die "init --mesh gave no warning"
ok "$WEFT" init --data-dir "$T/m2" --org "$T/acme.key" --name m2 --mesh test --json
[ "$(fp)" = "$f1" ] || die "the same --mesh gives another key"
ok "$WEFT" init --data-dir "$T/m3" --org "$T/acme.key" --name m3 --mesh prod --json
[ "$(fp)" != "$f1" ] || die "--mesh prod gives the key of --mesh test"
# no key given (issue 14, finding 6): a new mesh with a random key in
# DIR/network.key (0600, 64 hex digits), never the key of a public name
ok "$WEFT" init --data-dir "$T/r1" --org "$T/acme.key" --name r1 --json
fr=$(fp)
has '"network_key_file":"[^"]*/r1/network.key"'
[ "$(stat -c %a "$T/r1/network.key")" = 600 ] || die "network.key is not 0600"
grep -Eqx '[0-9a-f]{64}' "$T/r1/network.key" || die "network.key is not 64 hex digits"
ok "$WEFT" init --data-dir "$T/m0" --org "$T/acme.key" --name m0 --mesh weft --json
[ "$(fp)" != "$fr" ] || die "the default key is the public --mesh weft"
ok "$WEFT" init --data-dir "$T/r2" --org "$T/acme.key" --name r2 --json
[ "$(fp)" != "$fr" ] || die "two new meshes got the same key"
ok "$WEFT" init --data-dir "$T/r3" --org "$T/acme.key" --name r3 --network-key "$T/r1/network.key" --json
[ "$(fp)" = "$fr" ] || die "--network-key r1/network.key does not join r1's mesh"
[ -e "$T/r3/network.key" ] && die "init wrote network.key for a given key"
printf '%064d\n' 7 > "$T/net.key"
ok "$WEFT" init --data-dir "$T/m4" --org "$T/acme.key" --name m4 --network-key "$T/net.key" --json
f4=$(fp)
[ -n "$f4" ] && [ "$f4" != "$f1" ] || die "network key file ignored"
echo nothex > "$T/bad.netkey"
bad "not a network key" "$WEFT" init --data-dir "$T/m5" --org "$T/acme.key" --name m5 --network-key "$T/bad.netkey"
[ -e "$T/m5" ] && die "a refused init left a directory behind"
bad "not both" "$WEFT" init --data-dir "$T/m6" --org "$T/acme.key" --name m6 --network-key "$T/net.key" --mesh x
bad "usage" "$WEFT" publish
bad "unknown command" "$WEFT" frobnicate
ok "$WEFT" --help
has "publish"
ok "$WEFT" publish --help
has "contract"
ok "$WEFT" version
exit 0
