/*
 * value.c: strict, allocation-free parsing of text into int64, float64,
 * bool and timestamp values, and type inference (UTF-8 validation is
 * lib/utf8.c's weft_utf8_check).
 *
 * These run once per field on the ingest hot path, so the common shapes
 * (short decimal integers, plain decimals, "YYYY-MM-DD HH:MM:SS", ASCII
 * text) take straight-line fast paths; anything unusual falls back to a
 * careful general path (strtod_l in the C locale for hard floats).
 */
#include "storage/value.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static inline bool
weft_value_space(char c)
{
	return c == ' ' || (unsigned)(c - '\t') <= '\r' - '\t';
}

/* Strip ASCII whitespace from both ends of [*p, *e). */
static inline void
weft_value_trim(const char **p, const char **e)
{
	while (*p < *e && weft_value_space(**p))
		(*p)++;
	while (*e > *p && weft_value_space((*e)[-1]))
		(*e)--;
}

static inline bool
weft_value_ieq(const char *s, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lit[i] || lit[i] == 0)
			return false;
	}
	return lit[len] == 0;
}

int
weft_value_i64(const char *s, size_t len, int64_t *out)
{
	const char *p = s, *e = s + len;
	uint64_t v = 0;
	bool neg = false;
	size_t n, i;

	/* Fast path: up to 18 plain digits, which cannot overflow. */
	if (len - 1 < 18 && (unsigned)(s[0] - '0') <= 9) {
		for (i = 0; i < len; i++) {
			unsigned d = (unsigned)(s[i] - '0');

			if (d > 9)
				break;
			v = v * 10 + d;
		}
		if (i == len) {
			*out = (int64_t)v;
			return 0;
		}
		v = 0;
	}
	if (len > 0 && (weft_value_space(p[0]) || weft_value_space(e[-1])))
		weft_value_trim(&p, &e);
	if (p < e && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	if (p == e)
		return WEFT_ETYPE;
	while (e - p > 1 && *p == '0')
		p++;
	n = (size_t)(e - p);
	if (n > 19) {
		for (i = 0; i < n; i++)
			if ((unsigned)(p[i] - '0') > 9)
				return WEFT_ETYPE;
		return -ERANGE;
	}
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');

		if (d > 9)
			return WEFT_ETYPE;
		v = v * 10 + d; /* < 10^19 < 2^64: cannot wrap */
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -ERANGE;
		*out = (int64_t)v;
	}
	return 0;
}

/* ---- float64 ---- */

static pthread_once_t weft_value_locale_once = PTHREAD_ONCE_INIT;
static locale_t weft_value_c_locale;

static void
weft_value_locale_init(void)
{
	weft_value_c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* strtod on exactly [p, e), which has been checked to be a decimal float. */
static int
weft_value_strtod(const char *p, const char *e, double *out)
{
	char stack[128], *buf = stack, *end;
	size_t n = (size_t)(e - p);
	double d;
	int rc = 0;

	if (n >= sizeof(stack)) {
		buf = malloc(n + 1);
		if (buf == NULL)
			return WEFT_ENOMEM;
	}
	memcpy(buf, p, n);
	buf[n] = 0;
	pthread_once(&weft_value_locale_once, weft_value_locale_init);
	errno = 0;
	if (weft_value_c_locale != (locale_t)0)
		d = strtod_l(buf, &end, weft_value_c_locale);
	else
		d = strtod(buf, &end);
	if (end != buf + n)
		rc = WEFT_ETYPE;
	else if (errno == ERANGE && (d == 0 || isinf(d)))
		rc = -ERANGE;
	else
		*out = d;
	if (buf != stack)
		free(buf);
	return rc;
}

static const double weft_value_p10[23] = {
    1e0,  1e1,	1e2,  1e3,  1e4,  1e5,	1e6,  1e7,  1e8,  1e9,	1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

int
weft_value_f64(const char *s, size_t len, double *out)
{
	const char *p = s, *e = s + len, *start;
	uint64_t m = 0;
	int nd = 0, exp10 = 0, ndigits = 0;
	bool neg = false, exact = true;

	if (len > 0 && (weft_value_space(p[0]) || weft_value_space(e[-1])))
		weft_value_trim(&p, &e);
	start = p;
	if (p < e && (*p == '+' || *p == '-')) {
		neg = *p == '-';
		p++;
	}
	if (p < e && ((*p | 0x20) == 'i' || (*p | 0x20) == 'n')) {
		size_t n = (size_t)(e - p);

		if (weft_value_ieq(p, n, "infinity") ||
		    weft_value_ieq(p, n, "inf")) {
			*out = neg ? -INFINITY : INFINITY;
			return 0;
		}
		if (p == start && weft_value_ieq(p, n, "nan")) {
			*out = NAN;
			return 0;
		}
		return WEFT_ETYPE;
	}
	/* Integer part. */
	for (; p < e && (unsigned)(*p - '0') <= 9; p++, ndigits++) {
		unsigned d = (unsigned)(*p - '0');

		if (nd < 19) {
			m = m * 10 + d;
			if (m != 0)
				nd++;
		} else {
			exp10++;
			if (d != 0)
				exact = false;
		}
	}
	if (p < e && *p == '.') {
		for (p++; p < e && (unsigned)(*p - '0') <= 9; p++, ndigits++) {
			unsigned d = (unsigned)(*p - '0');

			if (nd < 19) {
				m = m * 10 + d;
				if (m != 0)
					nd++;
				exp10--;
			} else if (d != 0) {
				exact = false;
			}
		}
	}
	if (ndigits == 0)
		return WEFT_ETYPE;
	if (p < e && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		int ev = 0, edigits = 0;

		p++;
		if (p < e && (*p == '+' || *p == '-')) {
			eneg = *p == '-';
			p++;
		}
		for (; p < e && (unsigned)(*p - '0') <= 9; p++, edigits++)
			if (ev < 100000)
				ev = ev * 10 + (*p - '0');
		if (edigits == 0)
			return WEFT_ETYPE;
		exp10 += eneg ? -ev : ev;
	}
	if (p != e)
		return WEFT_ETYPE;
	if (m == 0 && exact) {
		*out = neg ? -0.0 : 0.0;
		return 0;
	}
	/* Clinger's fast path: both operands exact, one rounding. */
	if (exact && m <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
		double d = (double)m;

		d = exp10 < 0 ? d / weft_value_p10[-exp10]
			      : d * weft_value_p10[exp10];
		*out = neg ? -d : d;
		return 0;
	}
	return weft_value_strtod(start, e, out);
}

/* ---- bool ---- */

/* 1 = true, 0 = false, -1 = not a boolean; *word set for word forms. */
static int
weft_value_bool_word(const char *p, size_t n, bool *word)
{
	*word = true;
	switch (n) {
	case 1:
		switch (*p | 0x20) {
		case 't':
		case 'y': return 1;
		case 'f':
		case 'n': return 0;
		default: break;
		}
		*word = false;
		if (*p == '1')
			return 1;
		if (*p == '0')
			return 0;
		return -1;
	case 2:
		if (weft_value_ieq(p, n, "on"))
			return 1;
		if (weft_value_ieq(p, n, "no"))
			return 0;
		return -1;
	case 3:
		if (weft_value_ieq(p, n, "yes"))
			return 1;
		if (weft_value_ieq(p, n, "off"))
			return 0;
		return -1;
	case 4: return weft_value_ieq(p, n, "true") ? 1 : -1;
	case 5: return weft_value_ieq(p, n, "false") ? 0 : -1;
	default: return -1;
	}
}

int
weft_value_bool(const char *s, size_t len, bool *out)
{
	const char *p = s, *e = s + len;
	bool word;
	int r;

	weft_value_trim(&p, &e);
	r = weft_value_bool_word(p, (size_t)(e - p), &word);
	if (r < 0)
		return WEFT_ETYPE;
	*out = r == 1;
	return 0;
}

/* ---- timestamp ---- */

/* Two ASCII digits at p, or -1. */
static inline int
weft_value_d2(const char *p)
{
	unsigned a = (unsigned)(p[0] - '0'), b = (unsigned)(p[1] - '0');

	if (a > 9 || b > 9)
		return -1;
	return (int)(a * 10 + b);
}

static inline bool
weft_value_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline int
weft_value_mdays(int y, int m)
{
	static const unsigned char d[12] = {31, 28, 31, 30, 31, 30,
					    31, 31, 30, 31, 30, 31};

	return m == 2 && weft_value_leap(y) ? 29 : d[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). After
 * Howard Hinnant's days_from_civil. */
static inline int64_t
weft_value_days(int y, int m, int d)
{
	unsigned yoe, doy, doe;
	int era;

	y -= m <= 2;
	era = y / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + (int64_t)doe - 719468;
}

int
weft_value_ts(const char *s, size_t len, int64_t *out)
{
	const char *p = s, *e = s + len;
	int y, mo, d, hh = 0, mi = 0, ss = 0, c1, c2;
	int64_t us = 0, off_min = 0;

	/* Fast path: exactly "YYYY-MM-DD HH:MM:SS" (or 'T'). */
	if (len == 19 && s[4] == '-' && s[7] == '-' &&
	    (s[10] == ' ' || s[10] == 'T') && s[13] == ':' && s[16] == ':') {
		c1 = weft_value_d2(s);
		c2 = weft_value_d2(s + 2);
		mo = weft_value_d2(s + 5);
		d = weft_value_d2(s + 8);
		hh = weft_value_d2(s + 11);
		mi = weft_value_d2(s + 14);
		ss = weft_value_d2(s + 17);
		y = c1 * 100 + c2;
		if ((c1 | c2 | mo | d | hh | mi | ss) >= 0 && y > 0 &&
		    mo >= 1 && mo <= 12 && d >= 1 &&
		    d <= weft_value_mdays(y, mo) && hh <= 23 && mi <= 59 &&
		    ss <= 59) {
			*out = (weft_value_days(y, mo, d) * 86400 + hh * 3600 +
				mi * 60 + ss) *
			       1000000;
			return 0;
		}
		hh = mi = ss = 0; /* not valid: the general path says why */
	}
	if (len > 0 && (weft_value_space(p[0]) || weft_value_space(e[-1])))
		weft_value_trim(&p, &e);
	if (e - p < 10 || p[4] != '-' || p[7] != '-')
		return WEFT_ETYPE;
	c1 = weft_value_d2(p);
	c2 = weft_value_d2(p + 2);
	mo = weft_value_d2(p + 5);
	d = weft_value_d2(p + 8);
	if (c1 < 0 || c2 < 0 || mo < 0 || d < 0)
		return WEFT_ETYPE;
	y = c1 * 100 + c2;
	if (mo < 1 || mo > 12 || d < 1)
		return WEFT_ETYPE;
	if (y == 0)
		return -ERANGE;
	if (d > weft_value_mdays(y, mo))
		return WEFT_ETYPE;
	p += 10;
	if (p < e && (*p == ' ' || *p == 'T' || *p == 't') && e - p >= 6 &&
	    p[3] == ':') {
		hh = weft_value_d2(p + 1);
		mi = weft_value_d2(p + 4);
		if (hh < 0 || mi < 0 || hh > 23 || mi > 59)
			return WEFT_ETYPE;
		p += 6;
		if (p < e && *p == ':') {
			if (e - p < 3)
				return WEFT_ETYPE;
			ss = weft_value_d2(p + 1);
			if (ss < 0 || ss > 59)
				return WEFT_ETYPE;
			p += 3;
			if (p < e && *p == '.') {
				int nf = 0;

				for (p++; p < e && (unsigned)(*p - '0') <= 9;
				     p++, nf++) {
					if (nf < 6)
						us = us * 10 + (*p - '0');
					else if (nf == 6 && *p >= '5')
						us++;
				}
				if (nf == 0)
					return WEFT_ETYPE;
				for (; nf < 6; nf++)
					us *= 10;
			}
		}
	}
	while (p < e && *p == ' ')
		p++;
	if (p < e) {
		if ((*p == 'Z' || *p == 'z') && e - p == 1) {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p == '-' ? -1 : 1, oh, om = 0;
			size_t n = (size_t)(e - p - 1);

			if (n != 2 && n != 4 && n != 5)
				return WEFT_ETYPE;
			oh = weft_value_d2(p + 1);
			if (n == 4)
				om = weft_value_d2(p + 3);
			else if (n == 5)
				om = p[3] == ':' ? weft_value_d2(p + 4) : -1;
			if (oh < 0 || om < 0 || oh > 15 || om > 59)
				return WEFT_ETYPE;
			off_min = sign * (oh * 60 + om);
			p = e;
		} else {
			return WEFT_ETYPE;
		}
	}
	if (p != e)
		return WEFT_ETYPE;
	*out = ((weft_value_days(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss -
		 off_min * 60) *
		    1000000 +
		us);
	return 0;
}

/* ---- inference ---- */

unsigned
weft_value_classify(const char *s, size_t len, uint32_t kind)
{
	unsigned m = 0;
	int64_t i;
	double f;
	bool word;
	int r;

	if (weft_value_ts(s, len, &i) == 0)
		return WEFT_VM_TS;
	if (kind == WEFT_FK_JSTR)
		return 0;
	r = weft_value_i64(s, len, &i);
	if (r == 0)
		m |= WEFT_VM_INT | WEFT_VM_FLOAT;
	else if (weft_value_f64(s, len, &f) == 0)
		m |= WEFT_VM_FLOAT;
	{
		const char *p = s, *e = s + len;

		weft_value_trim(&p, &e);
		if (weft_value_bool_word(p, (size_t)(e - p), &word) >= 0)
			m |= WEFT_VM_BOOL | (word ? WEFT_VM_WORD : 0);
	}
	return m;
}

weft_type_t
weft_value_pick(unsigned mask, bool words)
{
	if ((mask & WEFT_VM_ALL) == WEFT_VM_ALL)
		return WEFT_T_TEXT; /* nothing but NULLs seen */
	if ((mask & WEFT_VM_BOOL) && words)
		return WEFT_T_BOOL;
	if (mask & WEFT_VM_INT)
		return WEFT_T_INT64;
	if (mask & WEFT_VM_FLOAT)
		return WEFT_T_FLOAT64;
	if (mask & WEFT_VM_TS)
		return WEFT_T_TIMESTAMP;
	if (mask & WEFT_VM_BOOL)
		return WEFT_T_BOOL;
	return WEFT_T_TEXT;
}
