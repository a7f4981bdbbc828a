#!/bin/sh
# check-cycles.sh [OBJDIR]: no two source files call each other, directly
# or round a longer loop. Reads the symbols of the compiled objects
# (nm; default build/rel, made by `make`): file A depends on file B when A
# uses a symbol B defines. Prints each cycle found as "a.c -> b.c -> a.c"
# and exits 1, else prints "check-cycles: ok (N files)". The generated
# protobuf code is left out (everything uses it; it uses nothing of ours).
dir=${1:-build/rel}
[ -d "$dir" ] || { echo "check-cycles: no $dir (run make first)"; exit 2; }
objs=$(find "$dir" -name '*.o' -not -path '*/gen/*' | sort)
[ -n "$objs" ] || { echo "check-cycles: no objects in $dir"; exit 2; }
for o in $objs; do
	src=${o#"$dir"/}
	src=${src%.o}.c
	nm "$o" | awk -v f="$src" '
		$2 ~ /^[TDBRC]$/ && NF == 3 { print "D", f, $3 }
		$1 == "U" && NF == 2 { print "U", f, $2 }'
done | awk '
$1 == "D" { def[$3] = $2; files[$2] = 1; next }
{ use[++nu] = $2 " " $3; files[$2] = 1 }
END {
	for (i = 1; i <= nu; i++) {
		split(use[i], p, " ")
		if ((p[2] in def) && def[p[2]] != p[1] && !((p[1] SUBSEP def[p[2]]) in edge)) {
			edge[p[1], def[p[2]]] = 1
			adj[p[1]] = adj[p[1]] " " def[p[2]]
		}
	}
	n = 0
	for (f in files) n++
	# depth-first search; state 1 = on the stack, 2 = done
	for (f in files) if (!state[f]) dfs(f, 0)
	if (!found) printf "check-cycles: ok (%d files)\n", n
	exit found
}
function dfs(v, depth,    k, m, w, ws, i, path) {
	state[v] = 1
	stack[depth] = v
	m = split(adj[v], ws, " ")
	for (k = 1; k <= m; k++) {
		w = ws[k]
		if (state[w] == 1) {
			path = w
			for (i = depth; i >= 0 && stack[i] != w; i--) ;
			path = ""
			for (; i <= depth; i++) path = path stack[i] " -> "
			printf "check-cycles: %s%s\n", path, w
			found = 1
		} else if (!state[w])
			dfs(w, depth + 1)
	}
	state[v] = 2
}'
