# weft trust: add another org's root, list, refuse node keys and the own
# org's root, remove.
. "$(dirname "$0")/lib.sh"
mknode a
ok "$WEFT" org create globex --out "$T/globex.key"
ok "$WEFT" trust list --data-dir "$T/a" --json
has '"org":"orga","public_key":"[0-9a-f]{64}","own":true'
ok "$WEFT" trust add --data-dir "$T/a" "$T/globex.pub"
has "trusting org globex"
ok "$WEFT" trust list --data-dir "$T/a"
has "^globex "
has "^orga .*\(own org\)"
bad "not an org key" "$WEFT" trust add --data-dir "$T/a" "$T/a/node.key"
bad "cannot open" "$WEFT" trust add --data-dir "$T/a" "$T/missing.pub"
ok "$WEFT" trust list --data-dir "$T/a" --json
own=$(sed -n 's/.*"org":"orga","public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out")
[ -n "$own" ] || die "no own key in list"
bad "own org root" "$WEFT" trust remove --data-dir "$T/a" "$own"
ok "$WEFT" trust remove --data-dir "$T/a" "$T/globex.pub"
ok "$WEFT" trust list --data-dir "$T/a" --json
grep -q globex "$T/out" && die "globex still trusted after remove"
bad "is not trusted" "$WEFT" trust remove --data-dir "$T/a" "$T/globex.pub"
bad "usage" "$WEFT" trust frob --data-dir "$T/a"
exit 0
