# weft audit on a node whose agent never answered a remote fragment: an
# empty log prints nothing (text) or [] (--json) with every filter; bad
# arguments exit 2 naming the argument; --help describes each option.
# (The records themselves are written by the agent: tests/test_audit.c
# covers the log, the agent's tests what it records.)
. "$(dirname "$0")/lib.sh"
mknode a

ok "$WEFT" audit --data-dir "$T/a"
[ -s "$T/out" ] && die "empty log printed something: $(cat "$T/out")"
ok "$WEFT" audit -d "$T/a" --json
[ "$(cat "$T/out")" = "[]" ] || die "empty log, --json: $(cat "$T/out")"
ok "$WEFT" audit --data-dir "$T/a" --product ops.flights --asker globex \
    --since 7d --refused --limit 10 --json
[ "$(cat "$T/out")" = "[]" ] || die "filters, --json: $(cat "$T/out")"
for s in 90s 15m 2h 7d 2026-12-01T00:00:00Z 2026-12-01T00:00:00.5+02:00 \
    2026-12-01; do
	ok "$WEFT" audit --data-dir "$T/a" --since "$s"
	[ -s "$T/out" ] && die "--since $s printed something"
done
ok env WEFT_DATA_DIR="$T/a" "$WEFT" audit -n 1 -r -p a.b -a org -s 1h -j
[ "$(cat "$T/out")" = "[]" ] || die "short options: $(cat "$T/out")"

# bad arguments: exit 2, the argument named
usage() { # PATTERN ARGS...: exit code 2 and PATTERN on stderr
	p=$1; shift
	bad "$p" "$WEFT" audit "$@"
	"$WEFT" audit "$@" >/dev/null 2>&1
	[ $? -eq 2 ] || die "exit code not 2: weft audit $*"
}
for s in 5x -3d 0s 1.5h 2026-13-01T00:00:00Z 1969-12-31T00:00:00Z yesterday ""; do
	usage "audit: --since: \"$s\" is neither an RFC 3339 time" --data-dir "$T/a" --since "$s"
done
for n in 0 -1 abc 10x ""; do
	usage "audit: --limit: \"$n\" is not a positive integer" --data-dir "$T/a" --limit "$n"
done
usage "audit: --product: empty" --data-dir "$T/a" --product ""
usage "audit: --product: too long" --data-dir "$T/a" \
    --product "$(printf 'p%.0s' $(seq_list 1 129))"
usage "audit: --asker: empty" --data-dir "$T/a" --asker ""
usage "unexpected argument \"extra\"" --data-dir "$T/a" extra
usage "unrecognized option '--bogus'" --data-dir "$T/a" --bogus
usage "requires an argument" --data-dir "$T/a" --since
env -u WEFT_DATA_DIR "$WEFT" audit >/dev/null 2>"$T/err" && die "no data dir accepted"
grep -q "no data directory" "$T/err" || die "no data dir: $(cat "$T/err")"
bad "not a weft data directory" "$WEFT" audit --data-dir "$T/missing"

# help: each option described, on stdout, exit 0
ok "$WEFT" audit --help
for o in ", --data-dir DIR" ", --product NAME" ", --asker ORG" \
    ", --since TIME" ", --refused" ", --limit N" ", --json" "RFC 3339" 7d \
    "oldest first" "not recorded"; do
	has "$o"
done
ok "$WEFT" help audit
has "usage: weft audit"
ok "$WEFT" --help
has "^  audit "
exit 0
