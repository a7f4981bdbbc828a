# Revocation (issue 14, finding 9: "no revocation of a node certificate")
# with real agents on 127.0.0.1, org acme: a, b, c and m. m publishes
# m.data; then the org revokes m, carried by a (`weft org revoke --org
# acme.key --data-dir a m`, by name):
#   1. every other agent drops m's entries (m.data leaves their stored
#      catalogs, m leaves their member lists) and closes its sessions
#      with m, within gossip time (measured and printed);
#   2. m, still running and dialling, is refused by every handshake
#      ("revoked by its org"), and what it publishes next reaches no one;
#   3. b, restarted, still refuses m (the revocation is stored);
#   4. a revocation signed by another org's root (globex, trusted) or
#      by a node key is refused by the command, and the names check.
. "$(dirname "$0")/lib.sh"
mesh_test_init
now_ms() { date +%s%3N; }
cat_has() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"product\":\"$2\""; }
member() { "$WEFT" members --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"node\":\"$2\""; }
peer_of() { "$WEFT" peers --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"node\":\"$2\""; }
gone_from() { ! cat_has "$1" m.data && ! member "$1" m && ! peer_of "$1" m; }

ok "$WEFT" org create acme --out "$T/acme.key"
ok "$WEFT" org create globex --out "$T/globex.key"
for n in a b c m; do
	ok "$WEFT" init --mesh rv --data-dir "$T/$n" --org "$T/acme.key" --name $n
done
ok "$WEFT" trust add --data-dir "$T/a" "$T/globex.pub"
agent_start a
for n in b c m; do agent_start $n --join "$ADDR_a"; done
printf 'id,v\n1,2\n' >"$T/m.csv"
ok "$WEFT" publish --data-dir "$T/m" m.data "$T/m.csv"
for n in a b c; do
	until_ok 20 cat_has $n m.data || die "m.data never reached $n"
	until_ok 20 member $n m || die "$n never saw m"
done

# 4 first: what the command refuses
bad "not an org key" "$WEFT" org revoke --org "$T/m/node.key" --data-dir "$T/a" m
bad "no node \"zz\" of org acme" "$WEFT" org revoke --org "$T/acme.key" --data-dir "$T/a" zz
bad "carry its revocation from another node" "$WEFT" org revoke --org "$T/acme.key" --data-dir "$T/a" a
bad "usage" "$WEFT" org revoke --data-dir "$T/a" m
ok "$WEFT" status --data-dir "$T/m" --json
MPK=$(sed -n 's/.*"public_key":"\([0-9a-f]*\)".*/\1/p' "$T/out")
[ ${#MPK} -eq 64 ] || die "no public key for m"
# globex's root revoking acme's m: carried, but m's entries stay
ok "$WEFT" org revoke --org "$T/globex.key" --data-dir "$T/a" "$MPK" --reason test
sleep 2
for n in a b c; do cat_has $n m.data || die "a revocation by globex's root dropped m.data on $n"; done

# 1. acme revokes m
t0=$(now_ms)
ok "$WEFT" org revoke --org "$T/acme.key" --data-dir "$T/a" m --reason "stolen laptop" --json
has "\"revoked\":\"$MPK\""
for n in a b c; do
	until_ok 20 gone_from $n || die "m still in $n's catalog, members or peers"
done
t1=$(now_ms)
echo "t_revoke: from weft org revoke to m gone from a, b and c: $((t1 - t0)) ms" >&2
grep -q "node m (key .*) revoked by org acme: stolen laptop" "$T/b.log" || die "b does not log the revocation"
until_ok 10 grep -q "this node's certificate was revoked by org acme" "$T/m.log" ||
    die "m was not told it was revoked"

# 2. m keeps dialling a and is refused; its new product reaches no one
until_ok 20 grep -q "certificate for node m (org acme) was revoked" "$T/a.log" ||
    die "a does not refuse m's handshakes"
ok "$WEFT" publish --data-dir "$T/m" m.more "$T/m.csv"
sleep 3
for n in a b c; do
	cat_has $n m.more && die "m.more (published after the revocation) reached $n"
	peer_of $n m && die "$n has a session with m again"
done

# 3. b restarted still refuses m
kill -TERM "$PID_b"; wait "$PID_b" || die "b exited with $? after SIGTERM"
agent_start b --join "$ADDR_m"
sleep 3
peer_of b m && die "b, restarted, took m's session"
cat_has b m.data && die "m.data is back on b after a restart"
for n in a c m; do eval "kill -TERM \$PID_$n"; done
for n in a c m; do eval "wait \$PID_$n" || die "agent $n exited with $? after SIGTERM"; done
kill -TERM "$PID_b"; wait "$PID_b" || die "b exited with $?"
PIDS=""
for n in a b c m; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
echo "t_revoke: ok"
