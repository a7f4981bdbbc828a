# Shared helpers for the CLI tests (sourced).
set -u
T=$(mktemp -d /tmp/weft-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
: "${WEFT:?WEFT must point at the weft binary}"

die() { echo "FAILED: $*" >&2; exit 1; }
# ok CMD...: must succeed
ok() { "$@" >"$T/out" 2>"$T/err" || { cat "$T/out" "$T/err" >&2; die "expected success: $*"; }; }
# bad PATTERN CMD...: must exit non-zero with PATTERN (grep -E) on stderr,
# and without a sanitizer report
bad() {
	pat=$1; shift
	if "$@" >"$T/out" 2>"$T/err"; then die "expected failure: $*"; fi
	grep -q "Sanitizer\|runtime error" "$T/err" && { cat "$T/err" >&2; die "sanitizer report: $*"; }
	grep -Eq "$pat" "$T/err" || { cat "$T/err" >&2; die "stderr lacks /$pat/: $*"; }
}
# has PATTERN: the last stdout matches
has() { grep -Eq "$1" "$T/out" || { cat "$T/out" >&2; die "stdout lacks /$1/"; }; }
# json_num KEY: first numeric value of "KEY" in the last stdout
json_num() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$T/out" | head -1; }
# a fresh org + node in $T/$1
mknode() {
	ok "$WEFT" org create "org$1" --out "$T/org$1.key"
	ok "$WEFT" init --mesh test --data-dir "$T/$1" --org "$T/org$1.key" --name "$1"
}
# seq_list A B: "A A+1 ... B " (agent numbers for loops)
seq_list() { i=$1; while [ $i -le $2 ]; do printf '%s ' $i; i=$((i + 1)); done; }
# listen_addr: the first listen address in the last `weft status --json`
listen_addr() { sed -n 's/.*"listen":\["\([^"]*\)"\].*/\1/p' "$T/out"; }
# until_ok SECONDS CMD...: retry CMD (quietly) every 0.2 s until it
# succeeds; non-zero if it never did
until_ok() {
	_us=$1; shift; _ui=0 # not s or i: callers loop over $i
	while ! "$@" >/dev/null 2>&1; do
		_ui=$((_ui + 1)); [ $_ui -gt $((_us * 5)) ] && return 1
		sleep 0.2
	done
}

# Tests with several agents: mesh_test_init sets the trap that kills them
# at exit (PIDS) and a die that shows the end of every agent's log;
# agent_start NAME [ARGS...] starts `weft agent` on $T/NAME (listening on
# 127.0.0.1, with $ARGS, logging to $T/NAME.log; with AGENT_TRACE=1
# dumping each agent's core input to $T/NAME.trace), waits for it, and
# sets PID_NAME and ADDR_NAME.
mesh_test_init() {
	PIDS=""
	trap 'for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$T"' EXIT INT TERM
	ARGS=${ARGS:-"--gossip-interval 200ms --suspect-timeout 1s --backoff-max 1s"}
	die() {
		for l in "$T"/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -15 "$l" >&2; }; done
		echo "FAILED: $*" >&2; exit 1
	}
}
agent_start() {
	n=$1; shift
	if [ "${AGENT_TRACE:-0}" = 1 ]; then
		WEFT_TRACE_INPUT="$T/$n.trace" "$WEFT" agent --data-dir "$T/$n" \
		    --listen 127.0.0.1:0 $ARGS "$@" 2>>"$T/$n.log" &
	else
		"$WEFT" agent --data-dir "$T/$n" --listen 127.0.0.1:0 $ARGS "$@" \
		    2>>"$T/$n.log" &
	fi
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
	ok "$WEFT" status --data-dir "$T/$n" --json --wait 20
	eval "ADDR_$n=$(listen_addr)"
}
