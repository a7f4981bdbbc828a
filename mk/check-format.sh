#!/bin/sh
# check-format.sh [ROOT]: every .c and .h file (but build/) is as
# clang-format formats it with the checked-in .clang-format. Lists the
# files that differ (`clang-format -i FILE` fixes one) and exits 1.
root=${1:-.}
command -v clang-format >/dev/null 2>&1 ||
	{ echo "check-format: clang-format is missing (make deps installs it)"; exit 2; }
bad=0
for f in $(cd "$root" && find . -name '*.[ch]' -not -path './build/*' \
    -not -path './bench/node_modules/*' | sed 's|^\./||' | sort); do
	if ! (cd "$root" && clang-format --dry-run --Werror "$f") >/dev/null 2>&1; then
		echo "check-format: $f differs from clang-format's output (clang-format -i $f)"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "check-format: ok"
exit $bad
