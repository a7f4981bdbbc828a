/*
 * jsonl.c: the streaming JSON Lines reader (see jsonl.h for what it
 * accepts).
 *
 * Lines are found with memchr; a line split across blocks is gathered in
 * the carry buffer (lines cannot hold a raw LF, so no re-parsing is ever
 * needed). Each line is parsed by a small recursive-descent parser that
 * knows only flat objects. Strings without escapes are returned in place;
 * strings with escapes are decoded into a per-line scratch buffer, and
 * their pointers fixed up once the line is done (the scratch may move
 * while it grows).
 *
 * Keys of later lines are matched to columns by first guessing the column
 * after the previous key (lines usually repeat the first line's order),
 * then through an open-addressing hash table.
 */
#include "storage/jsonl.h"

#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "lib/utf8.h"
#include "storage/chunk.h"
#include "storage/descriptor.h"

struct weft_jsonl {
	char *name;
	const char *in;
	size_t in_len, in_pos;
	bool eof;
	char *carry;
	size_t carry_len, carry_cap;
	bool carrying;
	/* columns */
	size_t ncols;
	char *names; /* NUL-terminated names, back to back */
	size_t names_len, names_cap;
	size_t *name_off; /* ncols + 1 offsets (name i ends at off[i+1]-1) */
	uint32_t *hash;	  /* slots: column + 1, 0 = empty */
	uint32_t hash_mask;
	uint64_t *seen; /* per column: line that last set it */
	/* the record */
	weft_field_t *fields;
	uint32_t *soff; /* scratch offset of a decoded string */
	char *scratch;
	size_t scratch_len, scratch_cap;
	/* parse position in the current line */
	const char *ls, *le;
	uint64_t line; /* line being parsed */
	uint64_t rec_line;
	uint64_t nrec;
};

int
weft_jsonl_new(const char *name, weft_jsonl_t **out)
{
	weft_jsonl_t *p;

	*out = NULL;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return WEFT_ENOMEM;
	p->name = strdup(name != NULL ? name : "input");
	p->fields = malloc(WEFT_COLS_MAX * sizeof(*p->fields));
	p->soff = malloc(WEFT_COLS_MAX * sizeof(*p->soff));
	p->name_off = malloc((WEFT_COLS_MAX + 1) * sizeof(*p->name_off));
	if (p->name == NULL || p->fields == NULL || p->soff == NULL ||
	    p->name_off == NULL) {
		weft_jsonl_free(p);
		return WEFT_ENOMEM;
	}
	weft_jsonl_reset(p);
	*out = p;
	return 0;
}

void
weft_jsonl_free(weft_jsonl_t *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->carry);
	free(p->names);
	free(p->name_off);
	free(p->hash);
	free(p->seen);
	free(p->fields);
	free(p->soff);
	free(p->scratch);
	free(p);
}

void
weft_jsonl_reset(weft_jsonl_t *p)
{
	p->in = NULL;
	p->in_len = p->in_pos = 0;
	p->eof = false;
	p->carry_len = 0;
	p->carrying = false;
	p->ncols = 0;
	p->names_len = 0;
	p->scratch_len = 0;
	p->line = 0;
	p->rec_line = 0;
	p->nrec = 0;
}

void
weft_jsonl_feed(weft_jsonl_t *p, const char *buf, size_t len, bool eof)
{
	p->in = buf;
	p->in_len = len;
	p->in_pos = 0;
	p->eof = eof;
}

size_t
weft_jsonl_ncols(const weft_jsonl_t *p)
{
	return p->ncols;
}

const char *
weft_jsonl_colname(const weft_jsonl_t *p, size_t i, size_t *len)
{
	if (i >= p->ncols)
		return NULL;
	if (len != NULL)
		*len = p->name_off[i + 1] - p->name_off[i] - 1;
	return p->names + p->name_off[i];
}

uint64_t
weft_jsonl_line(const weft_jsonl_t *p)
{
	return p->rec_line;
}

static int
weft_jsonl_grow(void **buf, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 16;
	void *n;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	n = realloc(*buf, c * elem);
	if (n == NULL)
		return WEFT_ENOMEM;
	*buf = n;
	*cap = c;
	return 0;
}

/* ---- parsing one line ---- */

static int
weft_jsonl_bad(weft_jsonl_t *p, const char *at, const char *what,
	       weft_err_t *err)
{
	return weft_err_set(
	    err, WEFT_EPARSE, "%s:%llu: invalid JSON at byte %zu: %s", p->name,
	    (unsigned long long)p->line, (size_t)(at - p->ls) + 1, what);
}

static inline const char *
weft_jsonl_ws(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n'))
		s++;
	return s;
}

/* First '"', '\\' or control byte in [s, e), or e. */
static inline const char *
weft_jsonl_scan_str(const char *s, const char *e)
{
#ifdef __SSE2__
	const __m128i q = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
	const __m128i c1f = _mm_set1_epi8(0x1F);

	while (e - s >= 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
		__m128i x = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)),
		    _mm_cmpeq_epi8(_mm_max_epu8(v, c1f), c1f));
		unsigned m = (unsigned)_mm_movemask_epi8(x);

		if (m != 0)
			return s + __builtin_ctz(m);
		s += 16;
	}
#endif
	while (s < e && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20)
		s++;
	return s;
}

static int
weft_jsonl_hex4(const char *s, const char *e, unsigned *out)
{
	unsigned v = 0;
	int i;

	if (e - s < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Decode the \u escape at s (s[0] == '\\', s[1] == 'u'), with the low half
 * of a surrogate pair that must follow a high half, into *o as UTF-8.
 * Returns the bytes of input used, or a negative error.
 */
static int
weft_jsonl_unicode(weft_jsonl_t *p, const char *s, const char *e, char **o,
		   weft_err_t *err)
{
	unsigned cp, lo;

	if (weft_jsonl_hex4(s + 2, e, &cp) != 0)
		return weft_jsonl_bad(p, s, "\\u needs four hex digits", err);
	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return weft_jsonl_bad(p, s, "lone low surrogate in \\u escape",
				      err);
	if (cp < 0xD800 || cp > 0xDBFF) {
		*o += weft_utf8_encode(cp, *o);
		return 6;
	}
	if (e - s < 12 || s[6] != '\\' || s[7] != 'u' ||
	    weft_jsonl_hex4(s + 8, e, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
		return weft_jsonl_bad(p, s,
				      "high surrogate in \\u escape not "
				      "followed by a low one",
				      err);
	cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
	*o += weft_utf8_encode(cp, *o);
	return 12;
}

/*
 * Decode the escape at s (a backslash) into *o. Returns the bytes of
 * input used, or a negative error (q: the string's opening quote).
 */
static inline int
weft_jsonl_escape(weft_jsonl_t *p, const char *q, const char *s, const char *e,
		  char **o, weft_err_t *err)
{
	static const char plain[256] = {
	    ['"'] = '"',  ['\\'] = '\\', ['/'] = '/',  ['b'] = '\b',
	    ['f'] = '\f', ['n'] = '\n',	 ['r'] = '\r', ['t'] = '\t',
	};
	unsigned char c;

	if (s + 1 == e)
		return weft_jsonl_bad(p, q, "unterminated string", err);
	c = (unsigned char)s[1];
	if (c == 'u')
		return weft_jsonl_unicode(p, s, e, o, err);
	if (plain[c] == 0)
		return weft_jsonl_bad(p, s, "invalid escape", err);
	*(*o)++ = plain[c];
	return 2;
}

/*
 * Parse the string whose opening quote is at *sp. On success *sp is past
 * the closing quote and the value is either in place (*ptr, *len) or in
 * the scratch buffer (*ptr NULL, offset *off).
 */
static int
weft_jsonl_string(weft_jsonl_t *p, const char **sp, const char **ptr,
		  uint32_t *off, size_t *len, weft_err_t *err)
{
	const char *s = *sp + 1, *e = p->le, *b = s;
	char *o;
	size_t start;

	s = weft_jsonl_scan_str(s, e);
	if (s < e && *s == '"') {
		*ptr = b;
		*len = (size_t)(s - b);
		*sp = s + 1;
		return 0;
	}
	/* Escapes: decode into the scratch (at most as long as the input;
	 * one more byte, so that the scratch exists even for an empty rest
	 * of the line: no arithmetic on a NULL scratch). */
	if (weft_jsonl_grow((void **)&p->scratch, &p->scratch_cap,
			    p->scratch_len + (size_t)(e - b) + 1, 1) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	start = p->scratch_len;
	o = p->scratch + start;
	memcpy(o, b, (size_t)(s - b));
	o += s - b;
	for (;;) {
		int n;

		if (s == e)
			return weft_jsonl_bad(p, *sp, "unterminated string",
					      err);
		if (*s == '"')
			break;
		if ((unsigned char)*s < 0x20)
			return weft_jsonl_bad(
			    p, s, "control character in string", err);
		n = weft_jsonl_escape(p, *sp, s, e, &o, err); /* backslash */
		if (n < 0)
			return n;
		s += n;
		b = s;
		s = weft_jsonl_scan_str(s, e);
		memcpy(o, b, (size_t)(s - b));
		o += s - b;
	}
	*ptr = NULL;
	*off = (uint32_t)start;
	*len = (size_t)(o - (p->scratch + start));
	p->scratch_len += *len;
	*sp = s + 1;
	return 0;
}

/* A JSON number at s; returns its end, or NULL if malformed. */
static const char *
weft_jsonl_number(const char *s, const char *e)
{
	if (s < e && *s == '-')
		s++;
	if (s < e && *s == '0') {
		s++;
	} else if (s < e && *s >= '1' && *s <= '9') {
		while (s < e && (unsigned)(*s - '0') <= 9)
			s++;
	} else {
		return NULL;
	}
	if (s < e && *s == '.') {
		const char *d = ++s;

		while (s < e && (unsigned)(*s - '0') <= 9)
			s++;
		if (s == d)
			return NULL;
	}
	if (s < e && (*s == 'e' || *s == 'E')) {
		const char *d;

		s++;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		d = s;
		while (s < e && (unsigned)(*s - '0') <= 9)
			s++;
		if (s == d)
			return NULL;
	}
	return s;
}

static uint32_t
weft_jsonl_hashkey(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Column of key (s, n), or -1. `guess` is tried first. */
static long
weft_jsonl_lookup(const weft_jsonl_t *p, const char *s, size_t n, size_t guess)
{
	uint32_t slot;

	if (guess < p->ncols &&
	    p->name_off[guess + 1] - p->name_off[guess] - 1 == n &&
	    memcmp(p->names + p->name_off[guess], s, n) == 0)
		return (long)guess;
	slot = weft_jsonl_hashkey(s, n) & p->hash_mask;
	for (;;) {
		uint32_t c = p->hash[slot];

		if (c == 0)
			return -1;
		c--;
		if (p->name_off[c + 1] - p->name_off[c] - 1 == n &&
		    memcmp(p->names + p->name_off[c], s, n) == 0)
			return (long)c;
		slot = (slot + 1) & p->hash_mask;
	}
}

/* Add a column named (s, n) from the first line. */
static int
weft_jsonl_addcol(weft_jsonl_t *p, const char *s, size_t n, weft_err_t *err)
{
	size_t cap;

	if (p->ncols >= WEFT_COLS_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "%s:%llu: more than %d keys", p->name,
				    (unsigned long long)p->line, WEFT_COLS_MAX);
	cap = p->names_cap;
	if (weft_jsonl_grow((void **)&p->names, &cap, p->names_len + n + 1,
			    1) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	p->names_cap = cap;
	memcpy(p->names + p->names_len, s, n);
	p->names[p->names_len + n] = 0;
	p->name_off[p->ncols] = p->names_len;
	p->names_len += n + 1;
	p->name_off[p->ncols + 1] = p->names_len;
	p->ncols++;
	return 0;
}

static int
weft_jsonl_build_hash(weft_jsonl_t *p, weft_err_t *err)
{
	size_t slots = 16, i;

	while (slots < 2 * p->ncols)
		slots *= 2;
	free(p->hash);
	free(p->seen);
	p->hash = calloc(slots, sizeof(*p->hash));
	p->seen = calloc(p->ncols ? p->ncols : 1, sizeof(*p->seen));
	if (p->hash == NULL || p->seen == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	p->hash_mask = (uint32_t)(slots - 1);
	for (i = 0; i < p->ncols; i++) {
		const char *s = p->names + p->name_off[i];
		size_t n = p->name_off[i + 1] - p->name_off[i] - 1;
		uint32_t slot = weft_jsonl_hashkey(s, n) & p->hash_mask;

		while (p->hash[slot] != 0) {
			size_t c = p->hash[slot] - 1;

			if (p->name_off[c + 1] - p->name_off[c] - 1 == n &&
			    memcmp(p->names + p->name_off[c], s, n) == 0)
				return weft_err_set(
				    err, WEFT_EPARSE,
				    "%s:%llu: duplicate key \"%.*s\"", p->name,
				    (unsigned long long)p->line, (int)n, s);
			slot = (slot + 1) & p->hash_mask;
		}
		p->hash[slot] = (uint32_t)i + 1;
	}
	return 0;
}

/*
 * The value at s (not at the end of the line) into field col. A string
 * decoded into the scratch is marked (kind | 0x100) and *scratch set, for
 * weft_jsonl_fixup. Returns the end of the value, or NULL with *rc set
 * to a negative error.
 */
static inline const char *
weft_jsonl_value(weft_jsonl_t *p, const char *s, long col, bool *scratch,
		 int *rc, weft_err_t *err)
{
	const char *e = p->le, *vptr = NULL, *n;
	uint32_t voff = 0, kind;
	size_t vlen = 0;

	switch (*s) {
	case '"':
		*rc = weft_jsonl_string(p, &s, &vptr, &voff, &vlen, err);
		if (*rc < 0)
			return NULL;
		if (vlen > WEFT_TEXT_MAX)
			goto too_long;
		kind = WEFT_FK_JSTR;
		if (vptr == NULL) {
			p->soff[col] = voff;
			*scratch = true;
			kind |= 0x100; /* fixed up by weft_jsonl_fixup */
		}
		break;
	case 't':
	case 'f':
	case 'n': {
		const char *lit = *s == 't'   ? "true"
				  : *s == 'f' ? "false"
					      : "null";
		size_t nl = strlen(lit);

		if ((size_t)(e - s) < nl || memcmp(s, lit, nl) != 0)
			goto invalid;
		vptr = s;
		vlen = nl;
		kind = *s == 'n' ? WEFT_FK_NULL : WEFT_FK_RAW;
		s += nl;
		break;
	}
	case '{':
	case '[':
		*rc = weft_err_set(err, WEFT_EPARSE,
				   "%s:%llu: key \"%s\": nested objects and "
				   "arrays are not supported",
				   p->name, (unsigned long long)p->line,
				   p->names + p->name_off[col]);
		return NULL;
	default:
		n = weft_jsonl_number(s, e);
		if (n == NULL)
			goto invalid;
		if ((size_t)(n - s) > WEFT_TEXT_MAX) {
			*rc = weft_jsonl_bad(p, s, "number too long", err);
			return NULL;
		}
		vptr = s;
		vlen = (size_t)(n - s);
		kind = WEFT_FK_RAW;
		s = n;
		break;
	}
	p->fields[col].ptr = kind == WEFT_FK_NULL ? NULL : vptr;
	p->fields[col].len = kind == WEFT_FK_NULL ? 0 : (uint32_t)vlen;
	p->fields[col].kind = kind;
	return s;
invalid:
	*rc = weft_jsonl_bad(p, s, "invalid value", err);
	return NULL;
too_long:
	*rc = weft_err_set(err, WEFT_ETOOBIG,
			   "%s:%llu: key \"%s\": value longer than %u bytes",
			   p->name, (unsigned long long)p->line,
			   p->names + p->name_off[col], WEFT_TEXT_MAX);
	return NULL;
}

/*
 * After the object: on the first line, the column index; then point the
 * fields decoded into the scratch (which may have moved while it grew)
 * at their bytes. 1 (the line is a record) or a negative error.
 */
static int
weft_jsonl_fixup(weft_jsonl_t *p, bool first, bool scratch, weft_err_t *err)
{
	size_t i;
	int rc;

	if (first) {
		if (p->ncols == 0)
			return weft_err_set(
			    err, WEFT_EPARSE,
			    "%s:%llu: the first object has no keys", p->name,
			    (unsigned long long)p->line);
		rc = weft_jsonl_build_hash(p, err);
		if (rc < 0)
			return rc;
		for (i = 0; i < p->ncols; i++)
			p->seen[i] = p->line;
	}
	if (scratch)
		for (i = 0; i < p->ncols; i++)
			if (p->fields[i].kind & 0x100) {
				p->fields[i].kind &= 0xFF;
				p->fields[i].ptr = p->scratch + p->soff[i];
			}
	return 1;
}

/*
 * Parse the line [p->ls, p->le). Returns 1 with p->fields filled, 2 for a
 * blank line, or a negative error.
 */
static int
weft_jsonl_parse(weft_jsonl_t *p, weft_err_t *err)
{
	const char *s = p->ls, *e = p->le;
	bool first = p->nrec == 0, scratch = false;
	size_t guess = 0, i;
	int rc;

	p->scratch_len = 0;
	s = weft_jsonl_ws(s, e);
	if (s == e)
		return 2;
	if (*s != '{')
		return weft_jsonl_bad(p, s, "expected an object", err);
	if (first) {
		p->ncols = 0;
		p->names_len = 0;
	} else {
		for (i = 0; i < p->ncols; i++) {
			p->fields[i].ptr = NULL;
			p->fields[i].len = 0;
			p->fields[i].kind = WEFT_FK_NULL;
		}
	}
	s = weft_jsonl_ws(s + 1, e);
	if (s < e && *s == '}') {
		s++;
		goto done;
	}
	for (;;) {
		const char *kptr, *kstart = s;
		uint32_t koff = 0;
		size_t klen;
		bool kscratch;
		long col;

		if (s == e || *s != '"')
			return weft_jsonl_bad(p, s, "expected a key", err);
		rc = weft_jsonl_string(p, &s, &kptr, &koff, &klen, err);
		if (rc < 0)
			return rc;
		kscratch = kptr == NULL;
		if (kscratch)
			kptr = p->scratch + koff; /* valid until next string */
		s = weft_jsonl_ws(s, e);
		if (s == e || *s != ':')
			return weft_jsonl_bad(p, s, "expected ':'", err);
		s = weft_jsonl_ws(s + 1, e);
		if (s == e)
			return weft_jsonl_bad(p, s, "expected a value", err);
		/* Resolve the key before the value can move the scratch. */
		if (first) {
			if (klen > WEFT_TEXT_MAX)
				return weft_jsonl_bad(p, kstart, "key too long",
						      err);
			rc = weft_jsonl_addcol(p, kptr, klen, err);
			if (rc < 0)
				return rc;
			col = (long)p->ncols - 1;
		} else {
			col = weft_jsonl_lookup(p, kptr, klen, guess);
			if (col < 0)
				return weft_err_set(
				    err, WEFT_ESCHEMA,
				    "%s:%llu: unknown key \"%.*s\" (the first "
				    "line defines the columns)",
				    p->name, (unsigned long long)p->line,
				    (int)(klen > 200 ? 200 : klen), kptr);
			if (p->seen[col] == p->line)
				return weft_err_set(
				    err, WEFT_EPARSE,
				    "%s:%llu: duplicate key \"%.*s\"", p->name,
				    (unsigned long long)p->line,
				    (int)(klen > 200 ? 200 : klen), kptr);
			p->seen[col] = p->line;
			guess = (size_t)col + 1;
		}
		/* The key is no longer needed: reuse its scratch bytes. */
		if (kscratch)
			p->scratch_len = koff;
		s = weft_jsonl_value(p, s, col, &scratch, &rc, err);
		if (s == NULL)
			return rc;
		s = weft_jsonl_ws(s, e);
		if (s < e && *s == ',') {
			s = weft_jsonl_ws(s + 1, e);
			continue;
		}
		if (s < e && *s == '}') {
			s++;
			break;
		}
		return weft_jsonl_bad(p, s, "expected ',' or '}'", err);
	}
done:
	s = weft_jsonl_ws(s, e);
	if (s != e)
		return weft_jsonl_bad(p, s, "text after the object", err);
	return weft_jsonl_fixup(p, first, scratch, err);
}

/* ---- lines ---- */

static int
weft_jsonl_too_long(weft_jsonl_t *p, weft_err_t *err)
{
	return weft_err_set(err, WEFT_ETOOBIG,
			    "%s:%llu: line is longer than %u bytes", p->name,
			    (unsigned long long)p->line + 1, WEFT_RECORD_MAX);
}

static int
weft_jsonl_carry_add(weft_jsonl_t *p, const char *b, size_t n, weft_err_t *err)
{
	if (p->carry_len + n > WEFT_RECORD_MAX)
		return weft_jsonl_too_long(p, err);
	if (weft_jsonl_grow((void **)&p->carry, &p->carry_cap, p->carry_len + n,
			    1) != 0)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	memcpy(p->carry + p->carry_len, b, n);
	p->carry_len += n;
	return 0;
}

/* Find the next whole line: 1 (p->ls, p->le set), 0 need more / done. */
static int
weft_jsonl_getline(weft_jsonl_t *p, weft_err_t *err)
{
	const char *b = p->in + p->in_pos;
	size_t avail = p->in_len - p->in_pos;
	const char *nl = avail ? memchr(b, '\n', avail) : NULL;
	int rc;

	if (p->carrying) {
		size_t n = nl != NULL ? (size_t)(nl - b) : avail;

		rc = weft_jsonl_carry_add(p, b, n, err);
		if (rc < 0)
			return rc;
		p->in_pos += n + (nl != NULL);
		if (nl == NULL && !p->eof)
			return 0;
		p->carrying = false;
		p->ls = p->carry;
		p->le = p->carry + p->carry_len;
		return 1;
	}
	if (nl != NULL) {
		if ((size_t)(nl - b) > WEFT_RECORD_MAX)
			return weft_jsonl_too_long(p, err);
		p->ls = b;
		p->le = nl;
		p->in_pos += (size_t)(nl - b) + 1;
		return 1;
	}
	if (avail == 0)
		return 0;
	if (p->eof) {
		p->ls = b;
		p->le = b + avail;
		p->in_pos = p->in_len;
		return avail > WEFT_RECORD_MAX ? weft_jsonl_too_long(p, err)
					       : 1;
	}
	p->carry_len = 0;
	rc = weft_jsonl_carry_add(p, b, avail, err);
	if (rc < 0)
		return rc;
	p->carrying = true;
	p->in_pos = p->in_len;
	return 0;
}

int
weft_jsonl_next(weft_jsonl_t *p, const weft_field_t **fields, size_t *nfields,
		weft_err_t *err)
{
	for (;;) {
		int rc = weft_jsonl_getline(p, err);

		if (rc <= 0)
			return rc;
		p->line++;
		rc = weft_jsonl_parse(p, err);
		if (p->ls == p->carry)
			p->carry_len = 0; /* the line stays readable */
		if (rc < 0)
			return rc;
		if (rc == 2)
			continue;
		p->rec_line = p->line;
		p->nrec++;
		*fields = p->fields;
		*nfields = p->ncols;
		return 1;
	}
}
