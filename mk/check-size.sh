#!/bin/sh
# check-size.sh [--update] [ROOT]: the size ratchet (after Tor's
# practracker). A .c file may have at most FILE_MAX lines and a function
# at most FUNC_MAX; mk/size-exceptions lists the ones over, each with
# the size it had when listed, and that size may only shrink:
#   - a listed file or function that grew past its number fails;
#   - one over the limit and not listed fails;
#   - one that shrank passes, with a note to lower its number (or drop
#     the line once it is under the limit).
# --update rewrites mk/size-exceptions with today's sizes, only if
# nothing grew and nothing new is over (so it can only lower numbers).
# Counts every .c under ROOT (default .) but build/.
FILE_MAX=1500
FUNC_MAX=120
update=0
[ "$1" = --update ] && { update=1; shift; }
root=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
exc=$root/mk/size-exceptions
[ -f "$exc" ] || : >"$exc"
tmp=$(mktemp -d /tmp/weft-size-XXXXXX)
trap 'rm -rf "$tmp"' EXIT

(cd "$root" && find . -name '*.c' -not -path './build/*' | sed 's|^\./||' |
    sort) >"$tmp/files"
: >"$tmp/now"
while IFS= read -r f; do
	n=$(wc -l <"$root/$f")
	[ "$n" -gt $FILE_MAX ] && echo "file $f $n" >>"$tmp/now"
done <"$tmp/files"
(cd "$root" && xargs awk -f "$here/fnsize.awk" <"$tmp/files") |
    awk -v max=$FUNC_MAX '$3 > max { print "function " $1 " " $2 " " $3 }' \
    >>"$tmp/now"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$exc" >"$tmp/exc"

# Compare: key = all fields but the last; value = the last.
awk -v fmax=$FILE_MAX -v gmax=$FUNC_MAX '
function key(   k, i) { k = $1; for (i = 2; i < NF; i++) k = k " " $i; return k }
FILENAME == ARGV[1] { lim[key()] = $NF; next }
{
	k = key(); n = $NF; seen[k] = 1
	what = ($1 == "file") ? $2 : $2 ": " $3 "()"
	max = ($1 == "file") ? fmax : gmax
	if (!(k in lim)) {
		printf "check-size: %s is %d lines, over the limit of %d: split it (or, if you must, list it in mk/size-exceptions)\n", what, n, max
		bad = 1
	} else if (n > lim[k]) {
		printf "check-size: %s grew to %d lines (mk/size-exceptions allows %d, and a listed size may only shrink)\n", what, n, lim[k]
		bad = 1
	} else if (n < lim[k])
		printf "check-size: note: %s shrank to %d lines: lower its number in mk/size-exceptions (sh mk/check-size.sh --update)\n", what, n
}
END {
	for (k in lim) if (!(k in seen))
		printf "check-size: note: \"%s\" is within the limit now: drop its line from mk/size-exceptions (sh mk/check-size.sh --update)\n", k
	exit bad
}' "$tmp/exc" "$tmp/now"
rc=$?
if [ $update -eq 1 ]; then
	if [ $rc -ne 0 ]; then
		echo "check-size: not updating mk/size-exceptions: something grew or is new over the limit"
		exit 1
	fi
	{
		sed -n '/^#/p' "$exc"
		sort -k1,1 -k2,2 -k3,3 "$tmp/now"
	} >"$tmp/new"
	cp "$tmp/new" "$exc"
	echo "check-size: mk/size-exceptions updated ($(grep -vc '^#' "$exc") entries)"
	exit 0
fi
[ $rc -eq 0 ] && echo "check-size: ok ($(wc -l <"$tmp/now") files and functions over the limits, all listed, none grown)"
exit $rc
