/*
 * cast.c: conversions between SQL types with PostgreSQL's input and output
 * formats: text <-> every type, the numeric conversions (float8 -> int
 * rounds half to even, numeric -> int half away from zero), int <-> bool,
 * and the text output of every type (weft_value_format).
 *
 * NUMERIC is held as a double; its text form uses the display scale when
 * one is known (see vec.h) and 15 significant digits otherwise, never
 * exponent notation. INTERVAL is microseconds (no months); it prints as
 * PostgreSQL prints a justified interval ("-2 days -02:00:00").
 */
#include "query/expr.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/value.h"

#define WEFT_USEC_DAY INT64_C(86400000000)

static bool
weft_cast_isnum(weft_sqltype_t t)
{
	return t == WEFT_S_INT32 || t == WEFT_S_INT64 || t == WEFT_S_NUMERIC ||
	       t == WEFT_S_FLOAT64;
}

static int
weft_cast_rank(weft_sqltype_t t)
{
	switch (t) {
	case WEFT_S_INT32: return 1;
	case WEFT_S_INT64: return 2;
	case WEFT_S_NUMERIC: return 3;
	case WEFT_S_FLOAT64: return 4;
	default: return 0;
	}
}

bool
weft_cast__allowed(weft_sqltype_t from, weft_sqltype_t to, bool explicit_cast)
{
	if (from == to || from == WEFT_S_NULL || from == WEFT_S_UNKNOWN)
		return true;
	if (weft_cast_isnum(from) && weft_cast_isnum(to))
		return explicit_cast ||
		       weft_cast_rank(from) < weft_cast_rank(to);
	if (!explicit_cast)
		return false;
	if (to == WEFT_S_TEXT || from == WEFT_S_TEXT)
		return true;
	if ((from == WEFT_S_INT32 && to == WEFT_S_BOOL) ||
	    (from == WEFT_S_BOOL && to == WEFT_S_INT32))
		return true;
	return false;
}

/* ---- calendar ---- */

int64_t
weft_ts__days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void
weft_ts__civil(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* ---- number formatting ---- */

/*
 * The shortest digits (at most maxp) that read back as x, or exactly maxp
 * rounded digits when none shorter does and `exact` is false. digits gets
 * the digits without trailing zeros, *e10 the decimal exponent of the
 * first digit. x must be finite and non-zero.
 */
static int
weft_fmt_digits(double x, int maxp, bool exact, char *digits, int *e10)
{
	char buf[64];
	int p, k = 0;
	char *s, *ep;

	for (p = 1; p <= maxp; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, fabs(x));
		if (p == maxp || strtod(buf, NULL) == fabs(x))
			break;
	}
	(void)exact;
	ep = strchr(buf, 'e');
	*e10 = atoi(ep + 1);
	for (s = buf; s < ep; s++)
		if (isdigit((unsigned char)*s))
			digits[k++] = *s;
	while (k > 1 && digits[k - 1] == '0')
		k--;
	digits[k] = 0;
	return k;
}

/* Lay digits (value 0.d1d2.. x 10^(e10+1)) out positionally with at least
 * minfrac fraction digits. */
static size_t
weft_fmt_positional(bool neg, const char *dg, int k, int e10, int minfrac,
		    char *out, size_t cap)
{
	char buf[1200];
	size_t o = 0;
	int i, nfrac;

	if (neg)
		buf[o++] = '-';
	if (e10 >= 0) {
		for (i = 0; i <= e10; i++)
			buf[o++] = i < k ? dg[i] : '0';
		nfrac = k - e10 - 1;
		if (nfrac < 0)
			nfrac = 0;
		if (nfrac < minfrac)
			nfrac = minfrac;
		if (nfrac > 0) {
			buf[o++] = '.';
			for (i = 0; i < nfrac && o < sizeof(buf) - 2; i++) {
				int di = e10 + 1 + i;

				buf[o++] = di < k ? dg[di] : '0';
			}
		}
	} else {
		buf[o++] = '0';
		buf[o++] = '.';
		nfrac = -e10 - 1 + k;
		if (nfrac < minfrac)
			nfrac = minfrac;
		for (i = 0; i < nfrac && o < sizeof(buf) - 2; i++) {
			int di = i - (-e10 - 1);

			buf[o++] = di < 0 ? '0' : di < k ? dg[di] : '0';
		}
	}
	buf[o] = 0;
	return (size_t)snprintf(out, cap, "%s", buf);
}

size_t
weft_format_float8(double x, char *buf, size_t n)
{
	char dg[32];
	int k, e10;

	if (isnan(x))
		return (size_t)snprintf(buf, n, "NaN");
	if (isinf(x))
		return (size_t)snprintf(buf, n,
					x > 0 ? "Infinity" : "-Infinity");
	if (x == 0)
		return (size_t)snprintf(buf, n, signbit(x) ? "-0" : "0");
	k = weft_fmt_digits(x, 17, true, dg, &e10);
	if (e10 < -4 || e10 >= 15) {
		char m[40];

		if (k == 1)
			snprintf(m, sizeof(m), "%c", dg[0]);
		else
			snprintf(m, sizeof(m), "%c.%s", dg[0], dg + 1);
		return (size_t)snprintf(buf, n, "%s%se%c%02d", x < 0 ? "-" : "",
					m, e10 < 0 ? '-' : '+', abs(e10));
	}
	return weft_fmt_positional(x < 0, dg, k, e10, 0, buf, n);
}

size_t
weft_format_numeric(double x, int scale, char *buf, size_t n)
{
	char dg[32];
	int k, e10;

	if (isnan(x))
		return (size_t)snprintf(buf, n, "NaN");
	if (isinf(x))
		return (size_t)snprintf(buf, n,
					x > 0 ? "Infinity" : "-Infinity");
	if (scale > 1000)
		scale = 1000;
	if (x == 0 || (scale >= 0 && fabs(x) < 0.5 * pow(10, -scale))) {
		/* zero: numeric has no negative zero */
		if (scale <= 0)
			return (size_t)snprintf(buf, n, "0");
		return weft_fmt_positional(false, "0", 1, 0, scale, buf, n);
	}
	if (scale < 0 && x == trunc(x) && fabs(x) < 9007199254740992.0)
		return (size_t)snprintf(buf, n, "%lld", (long long)x);
	if (scale < 0) {
		k = weft_fmt_digits(x, 15, false, dg, &e10);
		return weft_fmt_positional(x < 0, dg, k, e10, 0, buf, n);
	}
	k = weft_fmt_digits(x, 17, true, dg, &e10);
	if (k - e10 - 1 <= scale) /* shortest digits fit: pad with zeros */
		return weft_fmt_positional(x < 0, dg, k, e10, scale, buf, n);
	x = weft_num__round(x, scale);
	if (x == 0)
		return weft_fmt_positional(false, "0", 1, 0, scale, buf, n);
	k = weft_fmt_digits(x, 17, true, dg, &e10);
	return weft_fmt_positional(x < 0, dg, k, e10, scale, buf, n);
}

double
weft_num__round(double x, int digits)
{
	char dg[40], out[48], num[80];
	int k, e10, keep, i;
	bool up;

	if (!isfinite(x) || x == 0)
		return x;
	if (digits > 300)
		return x;
	k = weft_fmt_digits(x, 17, true, dg, &e10);
	keep = e10 + 1 + digits;
	if (keep >= k)
		return x;
	if (keep < 0)
		return 0.0;
	up = dg[keep] >= '5';
	out[0] = '0'; /* room for a carry */
	memcpy(out + 1, dg, (size_t)keep);
	out[keep + 1] = 0;
	if (up) {
		for (i = keep; i >= 0; i--) {
			if (out[i] == '9') {
				out[i] = '0';
			} else {
				out[i]++;
				break;
			}
		}
	}
	snprintf(num, sizeof(num), "%s%se%d", x < 0 ? "-" : "", out,
		 e10 + 1 - keep);
	return strtod(num, NULL) + 0.0;
}

/* v in decimal at d (at most 20 bytes), returning the end: snprintf's
 * "%lld" without its cost (a million rows print five values each). */
static char *
fmt_i64(char *d, int64_t v)
{
	char t[20];
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	int k = 0;

	do {
		t[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*d++ = '-';
	while (k)
		*d++ = t[--k];
	return d;
}

/* Two digits of v (0..99) at d. */
static char *
fmt_2(char *d, int v)
{
	*d++ = (char)('0' + v / 10);
	*d++ = (char)('0' + v % 10);
	return d;
}

size_t
weft_format_timestamp(int64_t us, char *buf, size_t n)
{
	int64_t days = us / WEFT_USEC_DAY, rem = us % WEFT_USEC_DAY, y;
	int m, d, hh, mi, ss, frac;
	char fr[16] = "";
	bool bc;

	if (rem < 0) {
		rem += WEFT_USEC_DAY;
		days--;
	}
	weft_ts__civil(days, &y, &m, &d);
	hh = (int)(rem / 3600000000);
	mi = (int)(rem / 60000000 % 60);
	ss = (int)(rem / 1000000 % 60);
	frac = (int)(rem % 1000000);
	if (frac) {
		int len;

		snprintf(fr, sizeof(fr), ".%06d", frac);
		len = (int)strlen(fr);
		while (fr[len - 1] == '0')
			fr[--len] = 0;
	}
	bc = y <= 0;
	if (bc)
		y = 1 - y;
	if (y <= 9999 && n >= 32) { /* the common case, by hand */
		char *w = buf;
		size_t fl = strlen(fr);

		w = fmt_2(w, (int)(y / 100));
		w = fmt_2(w, (int)(y % 100));
		*w++ = '-';
		w = fmt_2(w, m);
		*w++ = '-';
		w = fmt_2(w, d);
		*w++ = ' ';
		w = fmt_2(w, hh);
		*w++ = ':';
		w = fmt_2(w, mi);
		*w++ = ':';
		w = fmt_2(w, ss);
		memcpy(w, fr, fl);
		w += fl;
		if (bc) {
			memcpy(w, " BC", 3);
			w += 3;
		}
		*w = 0;
		return (size_t)(w - buf);
	}
	return (size_t)snprintf(buf, n, "%04lld-%02d-%02d %02d:%02d:%02d%s%s",
				(long long)y, m, d, hh, mi, ss, fr,
				bc ? " BC" : "");
}

size_t
weft_format_interval(int64_t us, char *buf, size_t n)
{
	int64_t days = us / WEFT_USEC_DAY, rem = us % WEFT_USEC_DAY;
	char out[96], fr[16] = "";
	size_t o = 0;
	uint64_t r;

	if (days != 0)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%lld %s",
				      (long long)days,
				      days == 1 ? "day" : "days");
	if (rem != 0 || days == 0) {
		r = rem < 0 ? (uint64_t)(-rem) : (uint64_t)rem;
		if (r % 1000000) {
			int len;

			snprintf(fr, sizeof(fr), ".%06d", (int)(r % 1000000));
			len = (int)strlen(fr);
			while (fr[len - 1] == '0')
				fr[--len] = 0;
		}
		o += (size_t)snprintf(
		    out + o, sizeof(out) - o, "%s%s%02d:%02d:%02d%s",
		    days != 0 ? " " : "", rem < 0 ? "-" : (days < 0 ? "+" : ""),
		    (int)(r / 3600000000u), (int)(r / 60000000u % 60),
		    (int)(r / 1000000u % 60), fr);
	}
	return (size_t)snprintf(buf, n, "%s", out);
}

/* Text output; bool_words selects true/false (a cast to text) over t/f
 * (the output function). */
static size_t
weft_cast_format(weft_sqltype_t type, const weft_vec_t *v, uint32_t row,
		 int scale, bool bool_words, char *buf, size_t n)
{
	if (v->nulls != NULL && v->nulls[row]) {
		if (n)
			buf[0] = 0;
		return 0;
	}
	switch (type) {
	case WEFT_S_NULL:
		if (n)
			buf[0] = 0;
		return 0;
	case WEFT_S_BOOL:
		if (bool_words)
			return (size_t)snprintf(buf, n, "%s",
						v->v.b[row] ? "true" : "false");
		return (size_t)snprintf(buf, n, "%s", v->v.b[row] ? "t" : "f");
	case WEFT_S_INT32:
	case WEFT_S_INT64:
		if (n >= 21) {
			char *e = fmt_i64(buf, v->v.i64[row]);

			*e = 0;
			return (size_t)(e - buf);
		}
		return (size_t)snprintf(buf, n, "%lld",
					(long long)v->v.i64[row]);
	case WEFT_S_FLOAT64: return weft_format_float8(v->v.f64[row], buf, n);
	case WEFT_S_NUMERIC:
		return weft_format_numeric(v->v.f64[row], scale, buf, n);
	case WEFT_S_TIMESTAMP:
		return weft_format_timestamp(v->v.i64[row], buf, n);
	case WEFT_S_INTERVAL:
		return weft_format_interval(v->v.i64[row], buf, n);
	case WEFT_S_TEXT:
	case WEFT_S_UNKNOWN: {
		const weft_str_t *s = &v->v.s[row];

		if (n) {
			size_t c = s->len < n - 1 ? s->len : n - 1;

			if (c)
				memcpy(buf, s->p, c);
			buf[c] = 0;
		}
		return s->len;
	}
	}
	return 0;
}

size_t
weft_value_format(weft_sqltype_t type, const weft_vec_t *v, uint32_t row,
		  char *buf, size_t n)
{
	return weft_cast_format(type, v, row, v->has_scale ? v->scale : -1,
				false, buf, n);
}

size_t
weft_cast__text(weft_sqltype_t type, const weft_vec_t *v, uint32_t row,
		int scale, char *buf, size_t n)
{
	return weft_cast_format(type, v, row, scale, true, buf, n);
}

/* ---- text input ---- */

/* numeric: [ws][+|-](d+[.d*]|.d+)[e[+|-]d+][ws] or NaN/Infinity. */
static int
weft_cast_numeric_in(const char *s, size_t len, double *out, int *scale)
{
	char buf[512];
	size_t i = 0, j;
	int frac = 0, digits = 0;
	long ex = 0;
	bool dot = false;
	char *end;

	while (i < len && isspace((unsigned char)s[i]))
		i++;
	while (len > i && isspace((unsigned char)s[len - 1]))
		len--;
	if (len - i >= sizeof(buf))
		return WEFT_ETYPE;
	memcpy(buf, s + i, len - i);
	buf[len - i] = 0;
	if (!strcasecmp(buf, "nan")) {
		*out = NAN;
		*scale = 0;
		return 0;
	}
	if (!strcasecmp(buf, "infinity") || !strcasecmp(buf, "+infinity") ||
	    !strcasecmp(buf, "inf") || !strcasecmp(buf, "-infinity") ||
	    !strcasecmp(buf, "-inf") || !strcasecmp(buf, "+inf")) {
		*out = buf[0] == '-' ? -INFINITY : INFINITY;
		*scale = 0;
		return 0;
	}
	j = 0;
	if (buf[j] == '+' || buf[j] == '-')
		j++;
	for (; buf[j]; j++) {
		if (isdigit((unsigned char)buf[j])) {
			digits++;
			if (dot)
				frac++;
		} else if (buf[j] == '.' && !dot) {
			dot = true;
		} else {
			break;
		}
	}
	if (digits == 0)
		return WEFT_ETYPE;
	if (buf[j] == 'e' || buf[j] == 'E') {
		char *ee;

		errno = 0;
		ex = strtol(buf + j + 1, &ee, 10);
		if (ee == buf + j + 1 || *ee != 0 || errno)
			return WEFT_ETYPE;
	} else if (buf[j] != 0) {
		return WEFT_ETYPE;
	}
	*out = strtod(buf, &end) + 0.0;
	*scale = frac - (int)ex < 0 ? 0 : frac - (int)ex;
	if (*scale > 1000)
		*scale = 1000;
	return 0;
}

typedef struct weft_cast_unit {
	const char *name;
	int64_t us;
} weft_cast_unit_t;

static const weft_cast_unit_t weft_cast_units[] = {
    {"microsecond", 1},
    {"microseconds", 1},
    {"us", 1},
    {"usec", 1},
    {"usecs", 1},
    {"millisecond", 1000},
    {"milliseconds", 1000},
    {"ms", 1000},
    {"msec", 1000},
    {"msecs", 1000},
    {"second", 1000000},
    {"seconds", 1000000},
    {"sec", 1000000},
    {"secs", 1000000},
    {"s", 1000000},
    {"minute", 60000000},
    {"minutes", 60000000},
    {"min", 60000000},
    {"mins", 60000000},
    {"m", 60000000},
    {"hour", INT64_C(3600000000)},
    {"hours", INT64_C(3600000000)},
    {"hr", INT64_C(3600000000)},
    {"hrs", INT64_C(3600000000)},
    {"h", INT64_C(3600000000)},
    {"day", WEFT_USEC_DAY},
    {"days", WEFT_USEC_DAY},
    {"d", WEFT_USEC_DAY},
    {"week", 7 * WEFT_USEC_DAY},
    {"weeks", 7 * WEFT_USEC_DAY},
    {"w", 7 * WEFT_USEC_DAY},
    {NULL, 0},
};

/* interval: [@] (number unit | [+-]hh:mm[:ss[.f]])+ [ago]. Months and
 * years are not supported (no fixed length in microseconds). */
static int
weft_cast_interval_in(const char *s, size_t len, int64_t *out)
{
	char buf[256];
	char *p, *tok, *save = NULL;
	double total = 0;
	bool any = false;

	if (len >= sizeof(buf))
		return WEFT_ETYPE;
	memcpy(buf, s, len);
	buf[len] = 0;
	for (p = buf; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (tok = strtok_r(buf, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		char *end;
		double v;

		if (!strcmp(tok, "@"))
			continue;
		if (!strcmp(tok, "ago")) {
			if (!any)
				return WEFT_ETYPE;
			total = -total;
			continue;
		}
		if (strchr(tok, ':') != NULL) {
			int sign = 1;
			long hh, mm;
			double ss = 0;

			if (*tok == '-' || *tok == '+')
				sign = *tok++ == '-' ? -1 : 1;
			hh = strtol(tok, &end, 10);
			if (end == tok || *end != ':')
				return WEFT_ETYPE;
			tok = end + 1;
			mm = strtol(tok, &end, 10);
			if (end == tok || (*end != ':' && *end != 0))
				return WEFT_ETYPE;
			if (*end == ':') {
				tok = end + 1;
				ss = strtod(tok, &end);
				if (end == tok || *end != 0)
					return WEFT_ETYPE;
			}
			total += sign * (hh * 3600e6 + mm * 60e6 + ss * 1e6);
			any = true;
			continue;
		}
		v = strtod(tok, &end);
		if (end == tok)
			return WEFT_ETYPE;
		if (*end == 0) {
			/* the unit is the next token, or seconds */
			char *u = strtok_r(NULL, " \t", &save);
			const weft_cast_unit_t *cu;

			if (u == NULL) {
				total += v * 1e6;
				any = true;
				break;
			}
			end = u;
			for (cu = weft_cast_units; cu->name; cu++)
				if (!strcmp(cu->name, end))
					break;
			if (cu->name == NULL)
				return WEFT_ETYPE;
			total += v * (double)cu->us;
		} else {
			const weft_cast_unit_t *cu;

			for (cu = weft_cast_units; cu->name; cu++)
				if (!strcmp(cu->name, end))
					break;
			if (cu->name == NULL)
				return WEFT_ETYPE;
			total += v * (double)cu->us;
		}
		any = true;
	}
	if (!any || fabs(total) > 9.2e18)
		return WEFT_ETYPE;
	*out = (int64_t)llround(total);
	return 0;
}

/* PostgreSQL's message for text that is not a valid `type` literal. */
static int
weft_cast_bad_input(weft_err_t *err, const char *type, const char *s,
		    size_t len)
{
	return weft_err_set(err, WEFT_ETYPE,
			    "invalid input syntax for type %s: \"%.*s\"", type,
			    (int)len, s);
}

int
weft_cast__parse(weft_sqltype_t to, const char *s, size_t len,
		 weft_value_t *out, int *scale, weft_err_t *err)
{
	int rc;
	int64_t i;
	double f;
	bool b;

	memset(out, 0, sizeof(*out));
	out->type = to;
	*scale = -1;
	switch (to) {
	case WEFT_S_INT32:
	case WEFT_S_INT64:
		rc = weft_value_i64(s, len, &i);
		if (rc == WEFT_ETYPE)
			return weft_cast_bad_input(err, weft_sqltype_name(to),
						   s, len);
		if (rc != 0 ||
		    (to == WEFT_S_INT32 && (i < INT32_MIN || i > INT32_MAX)))
			return weft_err_set(
			    err, WEFT_ETYPE,
			    "value \"%.*s\" is out of range for "
			    "type %s",
			    (int)len, s, weft_sqltype_name(to));
		out->u.i = i;
		return 0;
	case WEFT_S_FLOAT64:
		rc = weft_value_f64(s, len, &f);
		if (rc == -ERANGE)
			return weft_err_set(err, WEFT_ETYPE,
					    "\"%.*s\" is out of range for type "
					    "double precision",
					    (int)len, s);
		if (rc != 0)
			return weft_cast_bad_input(err, "double precision", s,
						   len);
		out->u.f = f;
		return 0;
	case WEFT_S_NUMERIC:
		if (weft_cast_numeric_in(s, len, &f, scale) != 0)
			return weft_cast_bad_input(err, "numeric", s, len);
		out->u.f = f;
		return 0;
	case WEFT_S_BOOL:
		if (weft_value_bool(s, len, &b) != 0)
			return weft_cast_bad_input(err, "boolean", s, len);
		out->u.b = b;
		return 0;
	case WEFT_S_TIMESTAMP: {
		size_t a = 0, z = len;

		while (a < z && isspace((unsigned char)s[a]))
			a++;
		while (z > a && isspace((unsigned char)s[z - 1]))
			z--;
		if (z - a == 5 && !strncasecmp(s + a, "epoch", 5)) {
			out->u.i = 0;
			return 0;
		}
		rc = weft_value_ts(s, len, &i);
		if (rc == WEFT_ETYPE && z - a >= 10 &&
		    isdigit((unsigned char)s[a]) && s[a + 4] == '-' &&
		    s[a + 7] == '-' && isdigit((unsigned char)s[a + 5]) &&
		    isdigit((unsigned char)s[a + 8]) &&
		    isdigit((unsigned char)s[a + 9]) &&
		    (z - a == 10 || s[a + 10] == ' ' || s[a + 10] == 'T'))
			rc = -ERANGE; /* well-formed, bad field */
		if (rc == -ERANGE)
			return weft_err_set(err, WEFT_ETYPE,
					    "date/time field value out of "
					    "range: \"%.*s\"",
					    (int)len, s);
		if (rc != 0)
			return weft_cast_bad_input(err, "timestamp", s, len);
		out->u.i = i;
		return 0;
	}
	case WEFT_S_INTERVAL:
		if (weft_cast_interval_in(s, len, &i) != 0)
			return weft_cast_bad_input(err, "interval", s, len);
		out->u.i = i;
		return 0;
	default:
		return weft_err_set(err, WEFT_EINVAL,
				    "cannot cast type text to %s",
				    weft_sqltype_name(to));
	}
}

/* ---- the cast kernel ---- */

#define WEFT_ACTIVE(sel, i) ((sel) == NULL || (sel)[i])

static int
weft_cast_range(const weft_ectx_t *cx, weft_sqltype_t to)
{
	return weft_err_set(cx->err, WEFT_ETYPE, "%s out of range",
			    to == WEFT_S_INT32 ? "integer" : "bigint");
}

/* Cast one double to an integer type; rint or round-half-away. */
static bool
weft_cast_f2i(double x, bool half_even, weft_sqltype_t to, int64_t *r)
{
	double v = half_even ? rint(x) : round(x);

	if (isnan(v))
		return false;
	if (to == WEFT_S_INT32) {
		if (v < -2147483648.0 || v >= 2147483648.0)
			return false;
	} else if (v < -9223372036854775808.0 || v >= 9223372036854775808.0) {
		return false;
	}
	*r = (int64_t)v;
	return true;
}

/* Rows of in (mask m) as text: copied when in is text, else through
 * the output function (PostgreSQL's cast to text unless flags has
 * WEFT_EF_OUTFN) into the arena. */
static int
weft_cast_to_text(const weft_vec_t *in, uint32_t m, const weft_ectx_t *cx,
		  int flags, weft_vec_t *out)
{
	int scale = in->has_scale ? in->scale : -1;
	uint32_t i, n = cx->n;

	if (weft_sqltype_store(in->type) == 3) {
		for (i = 0; i < n; i++)
			out->v.s[i] = in->v.s[i & m];
		return 0;
	}
	for (i = 0; i < n; i++) {
		char buf[1100], *p;
		size_t len;

		if (out->nulls[i]) {
			out->v.s[i] = (weft_str_t){"", 0};
			continue;
		}
		len = weft_cast_format(in->type, in, i & m, scale,
				       !(flags & WEFT_EF_OUTFN), buf,
				       sizeof(buf));
		if (len >= sizeof(buf))
			len = sizeof(buf) - 1;
		p = weft_arena_alloc(cx->arena, len + 1);
		if (p == NULL)
			return weft_err_set(cx->err, WEFT_ENOMEM,
					    "out of memory");
		memcpy(p, buf, len + 1);
		out->v.s[i] = (weft_str_t){p, (uint32_t)len};
	}
	return 0;
}

/* Text rows of in (mask m) parsed as out's type; a bad input fails the
 * cast if its row is selected. */
static int
weft_cast_from_text(const weft_vec_t *in, uint32_t m, const weft_ectx_t *cx,
		    const uint8_t *sel, weft_vec_t *out)
{
	int ts = weft_sqltype_store(out->type);
	uint32_t i, n = cx->n;

	for (i = 0; i < n; i++) {
		weft_value_t v;
		int sc;
		const weft_str_t *s = &in->v.s[i & m];

		if (out->nulls[i] || !WEFT_ACTIVE(sel, i)) {
			out->v.i64[i] = 0;
			if (ts == 2)
				out->v.b[i] = 0;
			continue;
		}
		if (weft_cast__parse(out->type, s->p, s->len, &v, &sc,
				     cx->err) != 0)
			return cx->err ? cx->err->code : WEFT_ETYPE;
		switch (ts) {
		case 0: out->v.i64[i] = v.u.i; break;
		case 1: out->v.f64[i] = v.u.f; break;
		case 2: out->v.b[i] = v.u.b; break;
		default: break;
		}
	}
	return 0;
}

/* Between the numeric types and boolean: integers narrowed with a range
 * check, doubles rounded to integers (half to even for double precision,
 * half away from zero for numeric), double precision to numeric through
 * its 15-digit text form. */
static int
weft_cast_numbers(const weft_vec_t *in, uint32_t m, const weft_ectx_t *cx,
		  const uint8_t *sel, weft_vec_t *out)
{
	weft_sqltype_t from = in->type, to = out->type;
	int fs = weft_sqltype_store(from), ts = weft_sqltype_store(to);
	uint32_t i, n = cx->n;

	if (fs == 0 && ts == 1 && m == UINT32_MAX) {
		/* integers to double precision (or numeric), the arguments of
		 * the statistical aggregates: one loop without branches */
		for (i = 0; i < n; i++) {
			double d = (double)in->v.i64[i];

			out->v.f64[i] = out->nulls[i] ? 0.0 : d;
		}
		return 0;
	}
	for (i = 0; i < n; i++) {
		uint32_t j = i & m;
		int64_t r = 0;

		if (out->nulls[i]) {
			if (ts == 2)
				out->v.b[i] = 0;
			else
				out->v.i64[i] = 0;
			continue;
		}
		if (to == WEFT_S_BOOL) {
			out->v.b[i] = fs == 2 ? in->v.b[j] : in->v.i64[j] != 0;
			continue;
		}
		if (fs == 2) {
			if (ts == 1)
				out->v.f64[i] = in->v.b[j];
			else
				out->v.i64[i] = in->v.b[j];
			continue;
		}
		if (fs == 0 && ts == 0) {
			r = in->v.i64[j];
			if (to == WEFT_S_INT32 &&
			    (r < INT32_MIN || r > INT32_MAX)) {
				if (WEFT_ACTIVE(sel, i))
					return weft_cast_range(cx, to);
				r = 0;
			}
			out->v.i64[i] = r;
		} else if (fs == 0) {
			out->v.f64[i] = (double)in->v.i64[j];
		} else if (ts == 0) {
			if (!weft_cast_f2i(in->v.f64[j], from == WEFT_S_FLOAT64,
					   to, &r)) {
				if (WEFT_ACTIVE(sel, i))
					return weft_cast_range(cx, to);
				r = 0;
			}
			out->v.i64[i] = r;
		} else if (from == WEFT_S_FLOAT64 && to == WEFT_S_NUMERIC) {
			double x = in->v.f64[j];

			if (isfinite(x) && x != 0) {
				char buf[40];

				snprintf(buf, sizeof(buf), "%.15g", x);
				x = strtod(buf, NULL);
			}
			out->v.f64[i] = x;
		} else {
			out->v.f64[i] = in->v.f64[j];
		}
	}
	return 0;
}

int
weft_cast__eval(const weft_vec_t *in, uint32_t m, const weft_ectx_t *cx,
		const uint8_t *sel, int flags, weft_vec_t *out)
{
	uint32_t i, n = cx->n;

	if (m == UINT32_MAX)
		memcpy(out->nulls, in->nulls, n);
	else if (m == 0)
		memset(out->nulls, in->nulls[0], n);
	else
		for (i = 0; i < n; i++)
			out->nulls[i] = in->nulls[i & m];
	if (in->type == WEFT_S_NULL) {
		memset(out->nulls, 1, n);
		return 0;
	}
	if (out->type == WEFT_S_TEXT || out->type == WEFT_S_UNKNOWN)
		return weft_cast_to_text(in, m, cx, flags, out);
	if (weft_sqltype_store(in->type) == 3)
		return weft_cast_from_text(in, m, cx, sel, out);
	return weft_cast_numbers(in, m, cx, sel, out);
}
