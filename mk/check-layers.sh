#!/bin/sh
# Layering, checked: each folder may include only headers from the layers
# above it (docs/architecture.md). Only node/ includes <uv.h>.
set -e
fail=0
allowed() {
	case "$1" in
	lib) echo "lib" ;;
	crypto) echo "lib crypto" ;;
	storage) echo "lib crypto storage" ;;
	query) echo "lib crypto storage query" ;;
	node) echo "lib crypto storage query node" ;;
	agent) echo "lib crypto storage query node agent cli" ;;
	sim) echo "lib crypto storage query node sim" ;;
	cli) echo "lib crypto storage query node agent sim cli" ;;
	esac
}
for dir in lib crypto storage query node agent sim cli; do
	[ -d "$dir" ] || continue
	ok=$(allowed $dir)
	for f in $(find "$dir" -name '*.[ch]'); do
		for inc in $(sed -n 's/^#include "\([a-z]*\)\/.*/\1/p' "$f"); do
			case " $ok " in
			*" $inc "*) ;;
			*) echo "check-layers: $f includes $inc/ (not allowed from $dir/)"; fail=1 ;;
			esac
		done
		if [ "$dir" != agent ] && grep -q '#include <uv.h>' "$f"; then
			echo "check-layers: $f includes <uv.h> (only agent/ may)"; fail=1
		fi
		if [ "$dir" != agent ] && [ "$dir" != cli ] && [ "$dir" != sim ] && \
		    grep -Eq '#include <(sys/socket|netinet/in|arpa/inet).h>' "$f"; then
			echo "check-layers: $f does network I/O (only node/ and sim/ may)"; fail=1
		fi
	done
done
# Sans-IO cores: no event loop, sockets, clocks or randomness of their own
# (the driver and the simulator feed them time and seeds).
for f in crypto/handshake.c crypto/frame.c node/session.c node/gossip.c; do
	[ -f "$f" ] || continue
	if grep -Eq '#include <(uv|sys/socket|netinet/in|time|sys/time)\.h>' "$f" ||
	    grep -Eq '\b(clock_gettime|gettimeofday|time|randombytes_buf|randombytes_uniform|weft_now_us|weft_now_s|weft_mono_ns)\(' "$f"; then
		echo "check-layers: $f is a sans-IO core but does I/O, reads a clock or draws randomness"; fail=1
	fi
done
[ $fail -eq 0 ] && echo "check-layers: ok"
exit $fail
