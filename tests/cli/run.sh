#!/bin/sh
# Runs every tests/cli/t_*.sh with real weft processes and prints one
# closing line "N passed, N failed". Each test script exits non-zero on
# its first failed check and prints what failed.
#   WEFT      the binary under test (ASan/UBSan build)
#   WEFT_REL  the release build (for RSS and crash timing)
#   WEFT_GEN  the data generator;  WEFT_RSS  the peak-RSS helper
here=$(cd "$(dirname "$0")" && pwd)
logs=$(mktemp -d /tmp/weft-logs-XXXXXX)
pass=0
fail=0
failed=""
for t in "$here"/t_*.sh; do
	name=$(basename "$t" .sh)
	[ -n "$WEFT_TEST_ONLY" ] && [ "$name" != "$WEFT_TEST_ONLY" ] && continue
	start=$(date +%s)
	if sh "$t" >"$logs/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name ($(( $(date +%s) - start ))s)"
	else
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name"
		sed 's/^/    /' "$logs/$name.log" | tail -40
	fi
done
echo "cli: logs in $logs"
echo "cli: $pass passed, $fail failed"
[ $fail -eq 0 ]
