# cmp.awk A B: compares two norm.awk outputs (first line the header);
# prints why they differ, nothing when they match. Headers must have the
# same names. Fields match when their text is equal, or when both are
# numbers, not both integers, within 1e-9 relative.
#   -v ORDERED=1  rows must match in order; else both files are sorted by
#                 KEY and compared as multisets: rows with one KEY form a
#                 group, and each row of a group must match a distinct row
#                 of the other side's group (numbers that differ in the
#                 last digits may share a KEY, so their text order is no
#                 guide)
#   -v SIDE=NAME  names the second side in the messages (default "weft")
function isnum(s) {
	return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/
}
function isint(s) { return s ~ /^[-+]?[0-9]+$/ }
function same(x, y,    a, b, d, m) {
	# as text first: awk would compare numeric strings as numbers
	if ((x "") == (y "")) return 1
	if (!isnum(x) || !isnum(y) || (isint(x) && isint(y))) return 0
	a = x + 0; b = y + 0
	d = a - b; if (d < 0) d = -d
	if (a < 0) a = -a
	if (b < 0) b = -b
	m = a > b ? a : b
	return d <= 1e-9 * m
}
# why rows r and s differ ("" when they match)
function rowdiff(r, s,    x, y, nx, j) {
	if ((r "") == (s "")) return ""
	nx = split(r, x, "\002")
	if (nx != split(s, y, "\002")) return "field counts differ"
	for (j = 1; j <= nx; j++)
		if (!same(x[j], y[j]))
			return sprintf("column %d: %s vs %s %s", j, x[j], SIDE, y[j])
	return ""
}
function show(s) { gsub(/\002/, ",", s); gsub(/\001/, "\\n", s); return s }
function fail(what, r, s) {
	printf "%s [%s | %s]", what, show(r), show(s)
	exit
}
{
	k = $0; sub(/\t.*/, "", k)
	r = $0; sub(/^[^\t]*\t/, "", r)
}
FNR == NR { AK[++na] = k; A[na] = r; next }
{ BK[++nb] = k; B[nb] = r }
END {
	if (SIDE == "") SIDE = "weft"
	ha = split(A[1], x, "\002"); hb = split(B[1], y, "\002")
	if (ha != hb) { printf "%d columns, %s has %d", ha, SIDE, hb; exit }
	for (j = 1; j <= ha; j++)
		if ((x[j] "") != (y[j] "")) {
			printf "column %d is named \"%s\", %s names it \"%s\"", j, x[j], SIDE, y[j]
			exit
		}
	if (na != nb) { printf "%d rows, %s has %d", na - 1, SIDE, nb - 1; exit }
	if (ORDERED) {
		for (i = 2; i <= na; i++)
			if ((w = rowdiff(A[i], B[i])) != "")
				fail(sprintf("row %d %s", i - 1, w), A[i], B[i])
		exit
	}
	for (i = 2; i <= na; i = e) {
		for (e = i; e <= na && (AK[e] "") == (AK[i] ""); e++) ;
		for (j = i; j < e; j++)
			if ((BK[j] "") != (AK[i] "")) {
				# the groups differ: show the first unmatched row
				fail(sprintf("sorted row %d differs", j - 1), A[j], B[j])
			}
		if (e <= na && (BK[e] "") == (AK[i] ""))
			fail(sprintf("sorted row %d differs", e - 1), A[e], B[e])
		split("", used)
		for (j = i; j < e; j++) {
			for (m = i; m < e; m++)
				if (!(m in used) && rowdiff(A[j], B[m]) == "") break
			if (m == e)
				fail(sprintf("sorted row %d has no match", j - 1),
				    A[j], B[j])
			used[m] = 1
		}
	}
}
