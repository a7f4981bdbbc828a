#!/bin/sh
# bench/catalog.sh: what the decentralised catalog costs a node (issue 14;
# docs/bench.md, "Catalog"), with real agents on 127.0.0.1:
#   1. memory: agent b learns 10,000 descriptors of node a (stored by
#      weft-catfill, offered by a's agent when it starts): b's RSS before
#      and after, per 10k entries, and the envelope bytes it holds;
#   2. verification: Ed25519 checks b made per entry it accepted (goal:
#      exactly one; `weft status` counts them as sig_verifies);
#   3. catch-up: the time b takes to hold all 10,000;
#   4. revocation: N agents (default 32) joined through one seed; from
#      `weft org revoke` to the last of the others logging that the node
#      is revoked, and its entries gone (log timestamps).
# Run by bench/run.sh (see bench/lib.sh). Nothing here has a peer to
# compare with: Serf holds no catalog, and reach beside Serf is
# bench/gossip.sh's.
set -e
. "$BENCH_DIR/lib.sh"

if ! bench_has weft; then
	echo "catalog: skipped (weft is not in BENCH_ENGINES)"
	exit 0
fi
COUNT=${BENCH_CATALOG_COUNT:-10000}
NREV=${BENCH_CATALOG_REVOKE_N:-32}
CF=$(dirname "$WEFT")/weft-catfill
[ -x "$CF" ] || bench_die "catalog: no $CF (make build/weft-catfill)"
T=$BENCH_TMP/catalog
mkdir -p "$T"
bench_agents_trap
rss_kib() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$1/status"; }
# stat DIR KEY: a number from DIR's `weft status --json`
stat() {
	"$WEFT" status --data-dir "$1" --json 2>/dev/null |
	    sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p"
}
agent() { # DIR LOG ARGS...
	_ad=$1 _al=$2
	shift 2
	"$WEFT" agent --data-dir "$_ad" --listen 127.0.0.1:0 "$@" 2>"$_al" &
	BENCH_PIDS="$BENCH_PIDS $!"
	APID=$!
	"$WEFT" status --data-dir "$_ad" --json --wait 20 >"$T/s.json"
	AADDR=$(sed -n 's/.*"listen":\["\([^"]*\)"\].*/\1/p' "$T/s.json")
}

# 1-3: a's 10,000 descriptors reach b
"$WEFT" org create acme --out "$T/acme.key" >/dev/null
for n in a b; do
	"$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name $n \
	    --mesh bench >/dev/null 2>&1
done
"$CF" --data-dir "$T/a" --count "$COUNT" >"$T/fill" ||
	bench_die "catalog: weft-catfill failed"
ARGS="--sync-interval 1s --origin-max-entries $((2 * COUNT))"
agent "$T/b" "$T/b.log" $ARGS
BPID=$APID
BADDR=$AADDR
sleep 1
r0=$(rss_kib "$BPID")
v0=$(stat "$T/b" sig_verifies)
c0=$(stat "$T/b" gossip_accepted)
t0=$(bench_now_ms)
agent "$T/a" "$T/a.log" $ARGS --join "$BADDR"
w=0
while :; do
	e=$(stat "$T/b" catalog_entries)
	[ "${e:-0}" -ge $((COUNT + 2)) ] && break
	w=$((w + 1))
	[ $w -lt 1200 ] || bench_die "catalog: b holds ${e:-0} of $((COUNT + 2)) entries after 120 s"
	sleep 0.1
done
t1=$(bench_now_ms)
sleep 1
r1=$(rss_kib "$BPID")
v1=$(stat "$T/b" sig_verifies)
c1=$(stat "$T/b" gossip_accepted)
cb=$(stat "$T/b" catalog_bytes)
acc=$((c1 - c0))
per10k=$(bench_calc "sprintf(\"%.1f\", ($r1 - $r0) / 1024 * 10000 / $COUNT)")
perent=$(bench_calc "sprintf(\"%.3f\", ($v1 - $v0) / $acc)")
echo "catalog: $COUNT descriptors of one node learnt by another"
echo "  memory: RSS $((r0 / 1024)) -> $((r1 / 1024)) MiB: $per10k MiB per 10k entries; the catalog counts $(bench_calc "sprintf(\"%.1f\", $cb / 1048576)") MiB held (envelopes and records)"
echo "  verification: $((v1 - v0)) Ed25519 checks for $acc entries accepted: $perent per entry (goal: 1)"
echo "  catch-up: all $COUNT held $((t1 - t0)) ms after a started (anti-entropy, one budget of 2,000 a tick)"
bench_emit catalog rss_mib_per_10k "$per10k"
bench_emit catalog verifies_per_entry "$perent"
bench_emit catalog catchup_ms $((t1 - t0))
bench_agents_stop 2>/dev/null || :

# 4: revocation through NREV agents
d=$T/rv
mkdir -p "$d"
bench_mesh_init "$d" rv "$NREV" bench
bench_mesh_start "$d" "$NREV" --gossip-interval 200ms \
    --max-pending-per-addr $((2 * NREV)) --backoff-max 1s
last=$((NREV - 1))
bench_mesh_wait "$d" "$NREV" 60 || bench_die "catalog: $NREV agents did not converge: $BENCH_SHORT"
t0=$(bench_now_ms)
"$WEFT" org revoke --org "$d/org.key" --data-dir "$d/n0" "n$last" \
    >/dev/null || bench_die "catalog: weft org revoke failed"
: >"$d/arr"
worst=$(bench_reach "$d" "$NREV" "$last" "node n$last (key .*) revoked by org rv" "$t0" 30) ||
    bench_die "catalog: the revocation did not reach every agent"
i=0
while [ $i -lt "$last" ]; do
	ts=$(grep -m1 "node n$last (key .*) revoked by org rv" "$d/n$i.log" |
	    cut -d' ' -f1)
	echo $(($(bench_log_ms "$ts") - t0)) >>"$d/arr"
	i=$((i + 1))
done
p50=$(sort -n "$d/arr" | sed -n "$((NREV / 2))p")
echo "  revocation: $NREV agents, from weft org revoke to the last of $((NREV - 1)) refusing n$last: $worst ms (median $p50 ms)"
bench_emit catalog revoke_last_ms "$worst"
