# strip-c.awk: print a C file with comments, string and character
# literals blanked (each keeps its newlines, so line numbers stay),
# for mk/check-layers.sh to grep code only. #include lines are kept
# whole (their <...> and "..." are what the checks read).
BEGIN { incomment = 0 }
{
	line = $0
	if (!incomment && line ~ /^[ \t]*#[ \t]*include/) {
		print line
		next
	}
	out = ""
	i = 1
	n = length(line)
	while (i <= n) {
		c = substr(line, i, 1)
		d = substr(line, i, 2)
		if (incomment) {
			if (d == "*/") { incomment = 0; i += 2 }
			else i++
			continue
		}
		if (d == "/*") { incomment = 1; i += 2; out = out " "; continue }
		if (d == "//") break
		if (c == "\"" || c == "'") {
			q = c
			i++
			while (i <= n) {
				c = substr(line, i, 1)
				if (c == "\\") { i += 2; continue }
				i++
				if (c == q) break
			}
			out = out q q
			continue
		}
		out = out c
		i++
	}
	print out
}
