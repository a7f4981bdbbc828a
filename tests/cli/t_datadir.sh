# A data directory others could change is refused (issue 14, finding 8):
# weft init on a world-writable pre-made directory, or on one that already
# holds files (a planted store with a trusted root of the attacker's), and
# every command, the agent too, on a directory, store or lock file that
# its group or other users may write (the store: also read: it holds the
# network key). A fresh directory is 0700, its store 0600.
. "$(dirname "$0")/lib.sh"
ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create evil --out "$T/evil.key"

# a world-writable directory someone made for us
mkdir "$T/w" && chmod 777 "$T/w"
bad "mode 0777 lets its group and other users write it.*chmod 700" \
    "$WEFT" init --mesh test --data-dir "$T/w" --org "$T/acme.key" --name w
[ -e "$T/w/node.key" ] && die "init wrote into a world-writable directory"

# a directory with a planted store: the attacker's org trusted in it
ok "$WEFT" init --mesh test --data-dir "$T/planted" --org "$T/evil.key" --name p
rm "$T/planted/node.key" "$T/planted/node.cert"
bad "is not empty \(it holds (data|lock)\.mdb\)" \
    "$WEFT" init --mesh test --data-dir "$T/planted" --org "$T/acme.key" --name n
[ -e "$T/planted/node.key" ] && die "init took over a planted store"

# an empty pre-made directory is fine; a new one is made 0700
mkdir "$T/empty"
ok "$WEFT" init --mesh test --data-dir "$T/empty" --org "$T/acme.key" --name e
ok "$WEFT" init --mesh test --data-dir "$T/n" --org "$T/acme.key" --name n
[ "$(stat -c %a "$T/n")" = 700 ] || die "data directory is not 0700"
[ "$(stat -c %a "$T/n/data.mdb")" = 600 ] || die "data.mdb is not 0600"
[ "$(stat -c %a "$T/n/node.key")" = 600 ] || die "node.key is not 0600"
printf 'id,v\n1,2\n' >"$T/p.csv"
ok "$WEFT" publish --data-dir "$T/n" --quiet d.p "$T/p.csv"

# loosened later: every command refuses, and says how to fix it
chmod 770 "$T/n"
bad "mode 0770 lets its group write it.*chmod 700 $T/n\)" \
    "$WEFT" products --data-dir "$T/n"
bad "lets its group write it" "$WEFT" agent --data-dir "$T/n" \
    --listen 127.0.0.1:0
chmod 700 "$T/n"
chmod 644 "$T/n/data.mdb"
bad "data.mdb: mode 0644 lets its group and other users read it.*network key" \
    "$WEFT" query --data-dir "$T/n" --local "SELECT count(*) FROM d.p"
chmod 600 "$T/n/data.mdb"
chmod 606 "$T/n/lock.mdb"
bad "lock.mdb: mode 0606 lets other users write it" \
    "$WEFT" products --data-dir "$T/n"
chmod 600 "$T/n/lock.mdb"
# nothing was lost: the product is still there
ok "$WEFT" query --data-dir "$T/n" --local --format csv \
    "SELECT count(*), sum(v) FROM d.p"
has "^1,2"
