# norm.awk: CSV (RFC 4180, as psql --csv writes it) to one line per record:
#   KEY <TAB> FIELDS
# FIELDS are the record's values joined by \002 (quotes removed, embedded
# newlines as \001); KEY is the same with every number in one canonical
# form (%.6e), so that sorting KEY orders both sides' rows alike even when
# they print a number differently (2.0000000000000000 vs 2). The header is
# the first line, normalised the same way. A dangling quote fails (exit 1).
function isnum(s) {
	return s ~ /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/
}
function emit(rec,    n, i, c, f, q, fields, key, k) {
	n = 0; f = ""; q = 0
	# fast path: no quotes
	if (index(rec, "\"") == 0) {
		n = split(rec, fields, ",")
		if (rec == "") { n = 1; fields[1] = "" }
	} else {
		for (i = 1; i <= length(rec); i++) {
			c = substr(rec, i, 1)
			if (q) {
				if (c == "\"") {
					if (substr(rec, i + 1, 1) == "\"") { f = f "\""; i++ }
					else q = 0
				} else f = f c
			} else if (c == "\"") q = 1
			else if (c == ",") { fields[++n] = f; f = "" }
			else f = f c
		}
		fields[++n] = f
	}
	key = ""; rec = ""
	for (i = 1; i <= n; i++) {
		k = fields[i]
		if (isnum(k)) k = sprintf("%.6e", k + 0)
		key = key (i > 1 ? "\002" : "") k
		rec = rec (i > 1 ? "\002" : "") fields[i]
	}
	print key "\t" rec
}
{
	cur = cur == "" && !open ? $0 : cur "\001" $0
	# a record ends where its quotes balance
	t = cur; nq = gsub(/"/, "", t)
	if (nq % 2 == 0) { emit(cur); cur = ""; open = 0 } else open = 1
}
END { if (open) exit 1 }
