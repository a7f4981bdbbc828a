# Crash safety: SIGKILL the publishing process at random moments, 20
# times. Every time the store opens cleanly, `weft check` finds nothing
# wrong, and the product is at its previous or its new version, never in
# between (each version's row count is known).
. "$(dirname "$0")/lib.sh"
: "${WEFT_REL:?}" "${WEFT_GEN:?}"
mknode n1
D="$T/n1"
"$WEFT_GEN" --rows 400000 --seed 1 --out "$T/a.csv" || die "gen"
"$WEFT_GEN" --rows 250000 --seed 2 --out "$T/b.csv" || die "gen"
ok "$WEFT_REL" publish --data-dir "$D" crash.p "$T/a.csv" --quiet
# how long one publish takes, in ms, to spread the kills over it
s=$(date +%s%N)
ok "$WEFT_REL" publish --data-dir "$D" crash.p "$T/b.csv" --replace --quiet
ms=$(( ($(date +%s%N) - s) / 1000000 + 20 ))
ver=2; rows=250000
i=0; committed=0; killed=0
while [ $i -lt 20 ]; do
	if [ $((i % 2)) -eq 0 ]; then f=a.csv; nrows=400000; else f=b.csv; nrows=250000; fi
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	delay=$(( r % ms ))
	"$WEFT_REL" publish --data-dir "$D" crash.p "$T/$f" --replace --quiet >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%03d' "$delay")" 2>/dev/null || sleep 0
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? -eq 137 ] && killed=$((killed + 1))
	"$WEFT" check --data-dir "$D" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err"; die "iteration $i: store check failed"; }
	ok "$WEFT" describe --data-dir "$D" crash.p --json
	v=$(json_num version); n=$(json_num rows)
	if [ "$v" = "$ver" ]; then
		[ "$n" = "$rows" ] || die "iteration $i: version $v has $n rows, expected $rows"
	elif [ "$v" = $((ver + 1)) ]; then
		[ "$n" = "$nrows" ] || die "iteration $i: version $v has $n rows, expected $nrows"
		ver=$v; rows=$n; committed=$((committed + 1))
	else
		die "iteration $i: version $v, expected $ver or $((ver + 1))"
	fi
	i=$((i + 1))
done
echo "20 kills: $killed landed mid-publish, $committed publishes committed first"
[ $killed -gt 0 ] || die "no kill landed while publishing"
exit 0
