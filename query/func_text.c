/*
 * func_text.c: the evaluator's text kernels: UTF-8 code points, case
 * mapping, LIKE and the text functions (lower, upper, length, substr,
 * trim, replace, left, right, strpos, concat), each over operands
 * func.c has already evaluated (func.h), with PostgreSQL's semantics.
 *
 * upper/lower map ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic
 * (what PostgreSQL does under a C.UTF-8 locale for those blocks); other
 * characters are left unchanged. Results point into their inputs or into
 * the batch's arena.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/utf8.h"
#include "query/func.h"

/* ---- UTF-8 ---- */

static inline uint32_t
weft_u8len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

static uint32_t
weft_u8count(const weft_str_t *s)
{
	uint32_t i, n = 0;

	for (i = 0; i < s->len; i++)
		n += ((unsigned char)s->p[i] & 0xc0) != 0x80;
	return n;
}

/* Byte offset of code point k (clamped to the end). */
static uint32_t
weft_u8off(const weft_str_t *s, int64_t k)
{
	uint32_t i = 0;

	while (k > 0 && i < s->len) {
		i += weft_u8len((unsigned char)s->p[i]);
		k--;
	}
	return i > s->len ? s->len : i;
}

static uint32_t
weft_fn_lower_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if ((c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	    (c >= 0x391 && c <= 0x3ab && c != 0x3a2) ||
	    (c >= 0x410 && c <= 0x42f))
		return c + 32;
	if (c >= 0x400 && c <= 0x40f)
		return c + 80;
	if (c == 0x178)
		return 0xff;
	if (c == 0x130)
		return 'i';
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	if (c == 0x386)
		return 0x3ac;
	if (c >= 0x388 && c <= 0x38a)
		return c + 37;
	if (c == 0x38c)
		return 0x3cc;
	if (c == 0x38e || c == 0x38f)
		return c + 63;
	return c;
}

static uint32_t
weft_fn_upper_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'a' && c <= 'z' ? c - 32 : c;
	if ((c >= 0xe0 && c <= 0xfe && c != 0xf7) ||
	    (c >= 0x3b1 && c <= 0x3cb && c != 0x3c2) ||
	    (c >= 0x430 && c <= 0x44f))
		return c - 32;
	if (c >= 0x450 && c <= 0x45f)
		return c - 80;
	if (c == 0xff)
		return 0x178;
	if (c == 0xb5)
		return 0x39c;
	if (c == 0x131)
		return 'I';
	if (c == 0x17f)
		return 'S';
	if (c == 0x3c2)
		return 0x3a3;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c & ~1u;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c : c - 1;
	if (c == 0x3ac)
		return 0x386;
	if (c >= 0x3ad && c <= 0x3af)
		return c - 37;
	if (c == 0x3cc)
		return 0x38c;
	if (c == 0x3cd || c == 0x3ce)
		return c - 63;
	return c;
}

/* Case-map s into the arena. */
static int
weft_fn_casemap(const weft_ectx_t *cx, const weft_str_t *s, bool upper,
		weft_str_t *out)
{
	char *d = weft_arena_alloc(cx->arena, (size_t)s->len * 2 + 1);
	uint32_t i = 0, o = 0;

	if (d == NULL)
		return weft_fn_nomem(cx);
	while (i < s->len) {
		unsigned char c = (unsigned char)s->p[i];
		uint32_t cp = c;
		size_t adv = 1;

		if (c >= 0x80) {
			adv = weft_utf8_decode((const unsigned char *)s->p + i,
					       s->len - i, &cp);
			if (adv == 0) { /* stray byte: keep */
				d[o++] = s->p[i++];
				continue;
			}
		}
		cp = upper ? weft_fn_upper_cp(cp) : weft_fn_lower_cp(cp);
		o += (uint32_t)weft_utf8_encode(cp, d + o);
		i += (uint32_t)adv;
	}
	d[o] = 0;
	*out = (weft_str_t){d, o};
	return 0;
}

/* ---- LIKE ---- */

/* Match s against p with % and _ (one code point) and escape esc (-1 for
 * none). The pattern was checked not to end with the escape. */
static bool
weft_fn_like(const char *s, uint32_t sn, const char *p, uint32_t pn, int esc)
{
	uint32_t si = 0, pi = 0, star_p = UINT32_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '%') {
			while (pi < pn && p[pi] == '%')
				pi++;
			if (pi == pn)
				return true;
			star_p = pi;
			star_s = si;
			continue;
		}
		if (pi < pn && p[pi] == '_') {
			si += weft_u8len((unsigned char)s[si]);
			pi++;
			continue;
		}
		if (pi < pn) {
			uint32_t q = pi;

			if ((int)(unsigned char)p[q] == esc && q + 1 < pn)
				q++;
			if (p[q] == s[si]) {
				/* a whole code point must match */
				uint32_t k = weft_u8len((unsigned char)p[q]), j;
				bool ok = q + k <= pn && si + k <= sn;

				for (j = 1; ok && j < k; j++)
					ok = p[q + j] == s[si + j];
				if (ok) {
					si += k;
					pi = q + k;
					continue;
				}
			}
		}
		if (star_p == UINT32_MAX)
			return false;
		star_s += weft_u8len((unsigned char)s[star_s]);
		si = star_s;
		pi = star_p;
	}
	while (pi < pn && p[pi] == '%')
		pi++;
	return pi == pn;
}

static bool
weft_fn_like_bad(const weft_str_t *p, int esc)
{
	uint32_t i;

	if (esc < 0)
		return false;
	for (i = 0; i < p->len; i++)
		if ((int)(unsigned char)p->p[i] == esc) {
			if (i + 1 == p->len)
				return true;
			i++;
		}
	return false;
}

/* A constant pattern's shape: 0 general, 1 exact, 2 prefix%, 3 %suffix,
 * 4 %infix%; lit gets the literal part (when no _ or escape in it). */
static int
weft_fn_like_shape(const weft_str_t *p, int esc, weft_str_t *lit)
{
	uint32_t a = 0, z = p->len, i;
	bool lead, trail;

	lead = z > 0 && p->p[0] == '%';
	trail = z > (lead ? 1u : 0u) && p->p[z - 1] == '%';
	if (lead)
		a = 1;
	if (trail)
		z--;
	for (i = a; i < z; i++)
		if (p->p[i] == '%' || p->p[i] == '_' ||
		    (int)(unsigned char)p->p[i] == esc)
			return 0;
	lit->p = p->p + a;
	lit->len = z - a;
	return lead ? (trail ? 4 : 3) : (trail ? 2 : 1);
}

/* Does x match the pattern: by its shape (1 exact, 2 prefix%, 3
 * %suffix, 4 %infix%, with literal lit), else by the general matcher. */
static inline bool
weft_fn_like_match(int shape, const weft_str_t *x, const weft_str_t *lit,
		   const weft_str_t *pat, int esc)
{
	switch (shape) {
	case 1:
		return x->len == lit->len &&
		       (lit->len == 0 || !memcmp(x->p, lit->p, lit->len));
	case 2:
		return x->len >= lit->len &&
		       (lit->len == 0 || !memcmp(x->p, lit->p, lit->len));
	case 3:
		return x->len >= lit->len &&
		       (lit->len == 0 ||
			!memcmp(x->p + x->len - lit->len, lit->p, lit->len));
	case 4:
		return lit->len == 0 ||
		       (x->len > 0 &&
			memmem(x->p, x->len, lit->p, lit->len) != NULL);
	default: return weft_fn_like(x->p, x->len, pat->p, pat->len, esc);
	}
}

int
weft_fn_like_rows(const weft_expr_t *e, const weft_opnd_t *s,
		  const weft_opnd_t *p, const weft_opnd_t *es,
		  const weft_ectx_t *cx, const uint8_t *sel, weft_vec_t *out)
{
	bool neg = (e->flags & WEFT_EF_NOT) != 0;
	bool ci = (e->flags & WEFT_EF_ILIKE) != 0;
	bool cpattern = p->m == 0 && !p->cnull && (es == NULL || es->m == 0);
	uint32_t i, n = cx->n;
	int rc, esc = '\\', shape = 0;
	weft_str_t lit = {"", 0}, cpat = {"", 0};

	/* constant pattern (and escape): check and classify once */
	if (cpattern) {
		cpat = p->c.s;
		if (es != NULL && !es->cnull)
			esc =
			    es->c.s.len == 0 ? -1 : (unsigned char)es->c.s.p[0];
		if (ci) {
			rc = weft_fn_casemap(cx, &p->c.s, false, &cpat);
			if (rc != 0)
				return rc;
		}
		shape = weft_fn_like_shape(&cpat, esc, &lit);
	}
	for (i = 0; i < n; i++) {
		weft_str_t x, pat;

		if (ONUL(s, i) || ONUL(p, i) || (es != NULL && ONUL(es, i))) {
			out->nulls[i] = 1;
			out->v.b[i] = 0;
			continue;
		}
		out->nulls[i] = 0;
		x = OS(s, i);
		if (es != NULL && es->m != 0) {
			const weft_str_t *ee = &OS(es, i);

			esc = ee->len == 0 ? -1 : (unsigned char)ee->p[0];
		}
		if (es != NULL && OS(es, i).len > 1 &&
		    weft_u8count(&OS(es, i)) > 1) {
			if (WEFT_ACT(sel, i))
				return weft_fn_err(cx, "invalid escape string");
			continue;
		}
		if (ci && (rc = weft_fn_casemap(cx, &x, false, &x)) != 0)
			return rc;
		if (cpattern) {
			pat = cpat;
		} else {
			pat = OS(p, i);
			if (ci &&
			    (rc = weft_fn_casemap(cx, &pat, false, &pat)) != 0)
				return rc;
		}
		if (weft_fn_like_bad(&pat, esc)) {
			if (WEFT_ACT(sel, i))
				return weft_fn_err(cx,
						   "LIKE pattern must not "
						   "end with escape character");
			out->v.b[i] = 0;
			continue;
		}
		out->v.b[i] =
		    weft_fn_like_match(shape, &x, &lit, &pat, esc) != neg;
	}
	return 0;
}

/* ---- text functions ---- */

int
weft_fn_text1(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
	      const uint8_t *sel, weft_vec_t *out)
{
	uint32_t i, n = cx->n;
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const weft_str_t *s;

		if (ONUL(&o[0], i)) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		s = &OS(&o[0], i);
		switch (e->op) {
		case WEFT_F_LOWER:
		case WEFT_F_UPPER:
			rc = weft_fn_casemap(cx, s, e->op == WEFT_F_UPPER,
					     &out->v.s[i]);
			break;
		case WEFT_F_LENGTH: out->v.i64[i] = weft_u8count(s); break;
		default: break;
		}
	}
	return rc;
}

/* Does the code point at c (adv bytes) occur in set? */
static bool
weft_fn_inset(const weft_str_t *set, const char *c, uint32_t adv)
{
	uint32_t i = 0;

	while (i < set->len) {
		uint32_t k = weft_u8len((unsigned char)set->p[i]);

		if (k == adv && i + k <= set->len && !memcmp(set->p + i, c, k))
			return true;
		i += k;
	}
	return false;
}

static void
weft_fn_trim(const weft_str_t *s, const weft_str_t *set, bool left, bool right,
	     weft_str_t *out)
{
	uint32_t a = 0, z = s->len;

	if (left)
		while (a < z) {
			uint32_t k = weft_u8len((unsigned char)s->p[a]);

			if (a + k > z || !weft_fn_inset(set, s->p + a, k))
				break;
			a += k;
		}
	if (right)
		while (z > a) {
			uint32_t b = z - 1;

			while (b > a && ((unsigned char)s->p[b] & 0xc0) == 0x80)
				b--;
			if (!weft_fn_inset(set, s->p + b, z - b))
				break;
			z = b;
		}
	out->p = s->p + a;
	out->len = z - a;
}

/* substr(s, start[, count]) of row i into *r (a slice of s). */
static inline int
weft_fn_substr_row(const weft_expr_t *e, weft_opnd_t *o, uint32_t i,
		   const weft_str_t *s, const weft_ectx_t *cx,
		   const uint8_t *sel, weft_str_t *r)
{
	int64_t st = OI(&o[1], i), en;
	uint32_t a, z;

	if (e->nargs == 3) {
		int64_t cnt = OI(&o[2], i);

		if (cnt < 0) {
			if (WEFT_ACT(sel, i))
				return weft_fn_err(cx, "negative substring "
						       "length not allowed");
			cnt = 0;
		}
		en = st + cnt; /* exclusive, 1-based */
	} else {
		en = INT64_MAX;
	}
	if (st < 1)
		st = 1;
	if (en <= st) {
		*r = (weft_str_t){"", 0};
		return 0;
	}
	a = weft_u8off(s, st - 1);
	z = en == INT64_MAX ? s->len : weft_u8off(s, en - 1);
	*r = (weft_str_t){s->p + a, z - a};
	return 0;
}

/* left(s, c) / right(s, c) into *r (a slice of s): c characters, or all
 * but -c when c is negative. */
static inline void
weft_fn_leftright_row(bool left, const weft_str_t *s, int64_t c, weft_str_t *r)
{
	int64_t len = weft_u8count(s), keep;
	uint32_t off;

	keep = c >= 0 ? (c < len ? c : len) : (len + c > 0 ? len + c : 0);
	if (left) {
		off = weft_u8off(s, keep);
		*r = (weft_str_t){s->p, off};
	} else {
		off = weft_u8off(s, len - keep);
		*r = (weft_str_t){s->p + off, s->len - off};
	}
}

/* strpos(s, sub): the character position of sub in s, 1-based, 0 when
 * absent. */
static inline int64_t
weft_fn_strpos_row(const weft_str_t *s, const weft_str_t *sub)
{
	const char *hit;
	weft_str_t pre;

	if (sub->len == 0)
		return 1;
	hit = s->len ? memmem(s->p, s->len, sub->p, sub->len) : NULL;
	if (hit == NULL)
		return 0;
	pre = (weft_str_t){s->p, (uint32_t)(hit - s->p)};
	return weft_u8count(&pre) + 1;
}

/* replace(s, from, to) into *r (in the arena when anything changes). */
static inline int
weft_fn_replace_row(const weft_str_t *s, const weft_str_t *from,
		    const weft_str_t *to, const weft_ectx_t *cx, weft_str_t *r)
{
	size_t cap, o2 = 0;
	uint32_t p, cnt = 0;
	char *d;
	const char *h;

	if (from->len == 0 || s->len == 0) {
		*r = *s;
		return 0;
	}
	for (p = 0; p < s->len;) {
		h = memmem(s->p + p, s->len - p, from->p, from->len);
		if (h == NULL)
			break;
		cnt++;
		p = (uint32_t)(h - s->p) + from->len;
	}
	cap = s->len + (size_t)cnt * to->len + 1;
	d = weft_arena_alloc(cx->arena, cap);
	if (d == NULL)
		return weft_fn_nomem(cx);
	for (p = 0; p < s->len;) {
		size_t seg;

		h = memmem(s->p + p, s->len - p, from->p, from->len);
		seg = h ? (size_t)(h - (s->p + p)) : s->len - p;
		memcpy(d + o2, s->p + p, seg);
		o2 += seg;
		if (h == NULL)
			break;
		if (to->len)
			memcpy(d + o2, to->p, to->len);
		o2 += to->len;
		p = (uint32_t)(h - s->p) + from->len;
	}
	d[o2] = 0;
	*r = (weft_str_t){d, (uint32_t)o2};
	return 0;
}

int
weft_fn_textn(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
	      const uint8_t *sel, weft_vec_t *out)
{
	uint32_t i, k, n = cx->n;
	const weft_str_t space = {" ", 1};
	int rc = 0;

	for (i = 0; i < n && rc == 0; i++) {
		const weft_str_t *s;
		bool isnull = false;

		for (k = 0; k < e->nargs; k++)
			isnull |= ONUL(&o[k], i) != 0;
		if (isnull) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		s = &OS(&o[0], i);
		switch (e->op) {
		case WEFT_F_SUBSTR:
			rc = weft_fn_substr_row(e, o, i, s, cx, sel,
						&out->v.s[i]);
			break;
		case WEFT_F_BTRIM:
		case WEFT_F_LTRIM:
		case WEFT_F_RTRIM:
			weft_fn_trim(s, e->nargs > 1 ? &OS(&o[1], i) : &space,
				     e->op != WEFT_F_RTRIM,
				     e->op != WEFT_F_LTRIM, &out->v.s[i]);
			break;
		case WEFT_F_LEFT:
		case WEFT_F_RIGHT:
			weft_fn_leftright_row(e->op == WEFT_F_LEFT, s,
					      OI(&o[1], i), &out->v.s[i]);
			break;
		case WEFT_F_STRPOS:
			out->v.i64[i] = weft_fn_strpos_row(s, &OS(&o[1], i));
			break;
		case WEFT_F_REPLACE:
			rc = weft_fn_replace_row(
			    s, &OS(&o[1], i), &OS(&o[2], i), cx, &out->v.s[i]);
			break;
		default: break;
		}
	}
	return rc;
}

int
weft_fn_concat(const weft_expr_t *e, weft_opnd_t *o, const weft_ectx_t *cx,
	       weft_vec_t *out)
{
	uint32_t i, k;

	for (i = 0; i < cx->n; i++) {
		size_t len = 0, p = 0;
		char *d;

		for (k = 0; k < e->nargs; k++)
			if (!ONUL(&o[k], i))
				len += OS(&o[k], i).len;
		d = weft_arena_alloc(cx->arena, len + 1);
		if (d == NULL)
			return weft_fn_nomem(cx);
		for (k = 0; k < e->nargs; k++)
			if (!ONUL(&o[k], i) && OS(&o[k], i).len) {
				memcpy(d + p, OS(&o[k], i).p, OS(&o[k], i).len);
				p += OS(&o[k], i).len;
			}
		d[p] = 0;
		out->nulls[i] = 0;
		out->v.s[i] = (weft_str_t){d, (uint32_t)p};
	}
	return 0;
}
