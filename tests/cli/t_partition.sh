# Gossip across a partition, with real agents in two network namespaces
# joined by a veth pair (needs root, as `make test` has on CI): 8 agents on
# each side form one mesh; the link goes down, each side marks failed the
# nodes across the cut it had sessions with (and never one of its own) and
# converges on its own new product; the link comes back and both sides
# converge on everything, the failed marks refuted.
. "$(dirname "$0")/lib.sh"
NSA=wftA$$ NSB=wftB$$
PIDS=""
cleanup() {
	for p in $PIDS; do kill -9 $p 2>/dev/null; done
	ip netns del $NSA 2>/dev/null; ip netns del $NSB 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
die() {
	for l in "$T"/a0.log "$T"/b0.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -15 "$l" >&2; }; done
	echo "FAILED: $*" >&2; exit 1
}
ip netns add $NSA && ip netns add $NSB || die "cannot create network namespaces (root needed)"
ip link add vA$$ netns $NSA type veth peer name vB$$ netns $NSB || die "veth"
ip -n $NSA addr add 10.77.0.1/24 dev vA$$
ip -n $NSB addr add 10.77.0.2/24 dev vB$$
for ns in $NSA $NSB; do ip -n $ns link set lo up; done
ip -n $NSA link set vA$$ up
ip -n $NSB link set vB$$ up

ARGS="--gossip-interval 200ms --suspect-timeout 1s --backoff-max 1s --keepalive 300ms --idle-timeout 1500ms"
SIDE_A="a0 a1 a2 a3 a4 a5 a6 a7"
SIDE_B="b0 b1 b2 b3 b4 b5 b6 b7"
start() { # NAME NS IP ARGS...
	n=$1 ns=$2 ip=$3; shift 3
	ip netns exec "$ns" "$WEFT" agent --data-dir "$T/$n" --listen "$ip:0" \
	    $ARGS "$@" 2>>"$T/$n.log" &
	eval "PID_$n=$!"
	PIDS="$PIDS $!"
}
# count NAME STATE: members of NAME's view in STATE
count() {
	"$WEFT" members --data-dir "$T/$1" --json >"$T/m_$1" 2>/dev/null || { echo -1; return; }
	grep -o "\"state\":\"$2\"" "$T/m_$1" | wc -l
}
view_is() { [ "$(count "$1" alive)" -eq "$2" ] && [ "$(count "$1" failed)" -eq "$3" ]; }
has() { "$WEFT" catalog --data-dir "$T/$1" --json 2>/dev/null | grep -q "\"product\":\"$2\""; }
lacks() { ! has "$@"; }
view_is_n() { view_is "$1" "$V_ALIVE" "$V_FAILED"; }
# split_ok NAME: during the partition NAME's own side is all alive (no
# false suspicion) and at least one node across the cut is marked failed
# (its neighbours there reported it: a node is reported by the nodes it
# had sessions with, so a node without one across the cut stays unknown).
split_ok() {
	own=$(echo "$1" | cut -c1)
	"$WEFT" members --data-dir "$T/$1" --json >"$T/m_$1" 2>/dev/null || return 1
	tr '{' '\n' <"$T/m_$1" | grep "\"node\":\"$own" | grep -q '"state":"failed"' && return 1
	[ "$(tr '{' '\n' <"$T/m_$1" | grep "\"node\":\"$own" | grep -c '"state":"\(alive\|self\)"')" -eq 8 ] || return 1
	tr '{' '\n' <"$T/m_$1" | grep -v "\"node\":\"$own" | grep -q '"state":"failed"'
}
has_n() { has "$1" "$P"; }
lacks_n() { lacks "$1" "$P"; }
check() { # CHECK LIST SECONDS
	c=$1 list=$2 s=$3
	for n in $list; do until_ok "$s" "$c" "$n" || { cat "$T/m_$n" >&2 2>/dev/null; die "$c ($V_ALIVE/$V_FAILED/${P:-}) on $n"; }; done
}

ok "$WEFT" org create acme --out "$T/acme.key"
for n in $SIDE_A $SIDE_B; do
	ok "$WEFT" init --data-dir "$T/$n" --org "$T/acme.key" --name "$n" --mesh part
done
start a0 $NSA 10.77.0.1
ok "$WEFT" status --data-dir "$T/a0" --json --wait 20
SEED=$(listen_addr)
for n in a1 a2 a3 a4 a5 a6 a7; do start $n $NSA 10.77.0.1 --join "$SEED"; done
for n in $SIDE_B; do start $n $NSB 10.77.0.2 --join "$SEED"; done
V_ALIVE=15 V_FAILED=0; check view_is_n "$SIDE_A $SIDE_B" 30

# Partition.
ip -n $NSA link set vA$$ down
check split_ok "$SIDE_A $SIDE_B" 30
printf 'id\n1\n' >"$T/p.csv"
ok "$WEFT" publish --data-dir "$T/a3" left.data "$T/p.csv"
ok "$WEFT" publish --data-dir "$T/b5" right.data "$T/p.csv"
P=left.data; check has_n "$SIDE_A" 30
P=right.data; check has_n "$SIDE_B" 30
P=left.data; check lacks_n "$SIDE_B" 1
P=right.data; check lacks_n "$SIDE_A" 1

# Heal: both sides converge on both products and on one live mesh.
ip -n $NSA link set vA$$ up
P=right.data; check has_n "$SIDE_A" 40
P=left.data; check has_n "$SIDE_B" 40
V_ALIVE=15 V_FAILED=0; check view_is_n "$SIDE_A $SIDE_B" 40
for n in $SIDE_A $SIDE_B; do
	grep -q "Sanitizer\|runtime error" "$T/$n.log" && { cat "$T/$n.log" >&2; die "sanitizer report in $n"; }
done
for n in $SIDE_A $SIDE_B; do eval "kill -TERM \$PID_$n"; done
for n in $SIDE_A $SIDE_B; do eval "wait \$PID_$n" || die "$n did not exit cleanly"; done
exit 0
