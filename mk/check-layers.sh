#!/bin/sh
# check-layers.sh [ROOT]: enforce mk/layers (each folder's rule: which
# folders' headers its files may include, and what its code may not do)
# on every .c and .h file under ROOT (default: the current directory).
# Prints one line per violation, "check-layers: FILE:LINE: what (rule)",
# and exits 1 if there is any, else prints "check-layers: ok".
root=${1:-.}
here=$(cd "$(dirname "$0")" && pwd)
rules=$root/mk/layers
[ -f "$rules" ] || { echo "check-layers: no $rules"; exit 2; }
tmp=$(mktemp -d /tmp/weft-layers-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0

# The rule lines without comments: "NAME: INCLUDES | CHECKS".
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$rules" >"$tmp/rules"
folders=$(sed -n 's|^\([a-z_]*\):.*|\1|p' "$tmp/rules")

bad() { echo "check-layers: $*"; fail=1; }

# Every folder that holds C code has a rule (tests/ and bench/ are
# outside the layers: they may use anything).
for d in $(find "$root" -mindepth 2 -maxdepth 2 -name '*.[ch]' \
    -not -path "$root/build/*" -not -path "$root/tests/*" \
    -not -path "$root/bench/*" | sed "s|^$root/||; s|/.*||" | sort -u); do
	case " $(echo $folders) " in
	*" $d "*) ;;
	*) bad "$d/: a folder with C code but no rule in mk/layers" ;;
	esac
done

# grep -nE on the stripped code of a file; prints "LINE:text" matches.
code_grep() { grep -nE "$1" "$tmp/code" | head -3; }

check_file() { # FILE FOLDER INCLUDES CHECKS (sh has no locals: cf_*)
	cf_f=$1 cf_dir=$2 cf_incl=$3 cf_checks=$4
	cf_rel=${cf_f#"$root"/}
	awk -f "$here/strip-c.awk" "$cf_f" >"$tmp/code"
	grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]+/' \
	    "$tmp/code" | while IFS= read -r l; do
		n=${l%%:*}
		inc=$(echo "$l" | sed 's|^[0-9]*:[^"]*"\([a-z_]*\)/.*|\1|')
		case " $cf_dir $cf_incl " in
		*" $inc "*) ;;
		*) echo "check-layers: $cf_rel:$n: includes $inc/ (mk/layers: $cf_dir/ may include ${cf_incl:-no other folder})" ;;
		esac
	done >"$tmp/inc"
	if [ -s "$tmp/inc" ]; then cat "$tmp/inc"; fail=1; fi
	for c in $cf_checks; do
		case $c in
		no-uv) pat='^[[:space:]]*#[[:space:]]*include[[:space:]]*<uv\.h>'
			what="includes <uv.h>" ;;
		no-net) pat='^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sys/socket|sys/un|netdb|netinet/[a-z_]+|arpa/[a-z_]+)\.h>'
			what="includes a socket header" ;;
		no-clock) pat='^[[:space:]]*#[[:space:]]*include[[:space:]]*<(sys/)?time\.h>|(^|[^A-Za-z0-9_])(time|clock_gettime|gettimeofday|weft_now_us|weft_now_s|weft_mono_ns)[[:space:]]*\('
			what="reads a clock" ;;
		no-random) pat='(^|[^A-Za-z0-9_])(randombytes_[a-z_]+|rand|srand|random|getrandom|arc4random[a-z_]*)[[:space:]]*\('
			what="draws randomness" ;;
		no-thread) pat='^[[:space:]]*#[[:space:]]*include[[:space:]]*<pthread\.h>|(^|[^A-Za-z0-9_])(sleep|usleep|nanosleep)[[:space:]]*\('
			what="uses threads or sleeps" ;;
		no-store) pat='^[[:space:]]*#[[:space:]]*include[[:space:]]*(<lmdb\.h>|"storage/store\.h"|"storage/catalog\.h")'
			what="uses the store (LMDB)" ;;
		no-print) pat='(^|[^A-Za-z0-9_])(stdout|stderr)([^A-Za-z0-9_]|$)|(^|[^A-Za-z0-9_])(printf|vprintf|puts|putchar|perror)[[:space:]]*\('
			what="prints for a person" ;;
		*) echo "check-layers: mk/layers: unknown check $c"; fail=1; continue ;;
		esac
		code_grep "$pat" >"$tmp/hit"
		while IFS= read -r l; do
			[ -n "$l" ] || continue
			bad "$cf_rel:${l%%:*}: $what ($cf_dir/: $c; see mk/layers)"
		done <"$tmp/hit"
	done
}

for dir in $folders; do
	case $dir in */*) continue ;; esac
	[ -d "$root/$dir" ] || continue
	line=$(grep "^$dir:" "$tmp/rules")
	incl=$(echo "$line" | sed 's#^[^:]*:\([^|]*\).*#\1#' | xargs)
	checks=$(echo "$line" | sed -n 's#^[^|]*[|]\(.*\)#\1#p' | xargs)
	for f in $(find "$root/$dir" -name '*.[ch]' | sort); do
		rel=${f#"$root"/}
		fc=$checks
		extra=$(grep "^$rel:" "$tmp/rules" | sed 's|^[^:]*:||')
		for x in $extra; do
			case $x in
			-*) fc=$(echo " $fc " | sed "s# ${x#-} # #") ;;
			*) fc="$fc $x" ;;
			esac
		done
		check_file "$f" "$dir" "$incl" "$fc"
	done
done
# check_file runs in this shell, but the include loop runs in a pipe:
# its lines went through $tmp/inc, which set fail above.
[ $fail -eq 0 ] && echo "check-layers: ok"
exit $fail
