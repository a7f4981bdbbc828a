# fnsize.awk: "FILE FUNCTION LINES" for every function definition in the
# C files given, in weft's style (clang-format: the name starts a line,
# the body's braces stand at column 0). LINES counts from the name's line
# to the closing brace, both included.
FNR == 1 { cand = ""; inbody = 0 }
/^[A-Za-z_][A-Za-z0-9_]*\(/ {
	if (!inbody) {
		cand = $0
		sub(/\(.*/, "", cand)
		candline = FNR
	}
	next
}
/^\{/ {
	if (cand != "" && !inbody) {
		name = cand
		start = candline
		inbody = 1
	}
	next
}
/^\}/ {
	if (inbody) {
		print FILENAME, name, FNR - start + 1
		inbody = 0
		cand = ""
	}
	next
}
/;[ \t]*$/ { if (!inbody) cand = "" }
