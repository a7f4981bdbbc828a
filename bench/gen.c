/*
 * weft-gen: a fast, deterministic generator of benchmark and test data.
 *
 * It writes one table as CSV (RFC 4180) or JSON Lines:
 *
 *   events   ts,user_id,amount,category,region  (default, 3,000,000 rows)
 *   regions  region,country,population,score    (3,000 rows, the side table
 *                                                that events.region joins)
 *
 * and, for the SQL correctness test (tests/cli/t_sql_diff.sh), small tables
 * full of edge cases (NULLs, empty strings, unicode, negative and
 * fractional numbers, timestamps before 1970 and with microseconds):
 *
 *   people   id,name,age,score,active,joined,city_id        (500 rows)
 *   orders   id,person_id,amount,category,placed            (2,000 rows;
 *            person_id also NULL or pointing past people)
 *   cities   city_id,city,country,pop                       (15 fixed rows)
 *   nulls    id,a,b,c,d,e,f,z  mostly NULL; z always NULL; f holds NaN and
 *            infinities                                     (300 rows)
 *   empty    id,name,v,flag,ts  no rows (a CSV header only)
 *   big      id,g,k,v,ts,person_id,flag   (25,000 rows: several storage
 *            chunks; k and ts grow with id, so chunk min/max can skip; the
 *            words in g shift along the table, so chunks have different
 *            text dictionaries)
 *
 * Their types: id, age, city_id, person_id, amount, pop, a, k: bigint;
 * score, b, f, v: double precision; active, d, flag: boolean; joined,
 * placed, e, ts: timestamp; the rest text. These tables draw their own NULLs
 * (--nulls adds more), write every text value quoted in CSV (so "" is the empty
 * string and an empty field is NULL, as in PostgreSQL's COPY) and never a
 * float through printf.
 *
 * Invariants:
 *  - The output is a pure function of (table, rows, seed, format, nulls):
 *    the only randomness is xoshiro256** seeded through splitmix64, ranges
 *    are reduced with integer arithmetic only, and no value goes through
 *    floating point or locale-dependent formatting, so the same arguments
 *    give byte-identical output on any machine and libc.
 *  - The first column is never NULL; --nulls P blanks each other field with
 *    probability P (an empty CSV field, or JSON null). With P = 0 no extra
 *    random numbers are drawn, so the output equals that of a run without
 *    --nulls.
 *  - events.ts is "increasing-ish": row i sits at i/rows of the way through
 *    2024 plus a jitter of up to two minutes, clamped into 2024.
 *  - CSV fields that hold a comma or a double quote are quoted and their
 *    quotes doubled; no generated text holds a newline.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_BUF_SIZE (1u << 20)
#define GEN_ROW_MAX 1024u /* Bytes; bounds any one row or header. */
#define GEN_YEAR_SECONDS (366u * 86400u) /* 2024 is a leap year. */
#define GEN_JITTER_SECONDS 120u
#define GEN_NREGIONS 3000u

enum gen_format { GEN_CSV, GEN_JSONL };
enum gen_table {
	GEN_EVENTS,
	GEN_REGIONS,
	GEN_PEOPLE,
	GEN_ORDERS,
	GEN_CITIES,
	GEN_NULLS,
	GEN_EMPTY,
	GEN_BIG
};

/* ---- PRNG: xoshiro256** seeded by splitmix64 ---------------------------- */

typedef struct {
	uint64_t s[4];
} gen_rng_t;

static uint64_t
gen_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
gen_rng_seed(gen_rng_t *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = gen_splitmix64(&seed);
}

static inline uint64_t
gen_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t
gen_rng_next(gen_rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t out = gen_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = gen_rotl(s[3], 45);
	return out;
}

/* A number in [0, n), by Lemire's multiply-shift (bias below 2^-40 here). */
static inline uint64_t
gen_rng_below(gen_rng_t *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)gen_rng_next(r) * n) >> 64);
}

/* A number in [lo, hi). */
static inline int64_t
gen_rng_range(gen_rng_t *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)gen_rng_below(r, (uint64_t)(hi - lo));
}

/*
 * A skewed number in [lo, hi): its decimal magnitude is drawn first from
 * weights[] (weights[k] for [10^k, 10^(k+1))), then a value uniformly within
 * that magnitude, clipped to [lo, hi). This gives the long tail that user ids
 * and amounts have in practice, with no floating point.
 */
static int64_t
gen_rng_magnitude(gen_rng_t *r, const unsigned *weights, int nweights,
		  int64_t lo, int64_t hi)
{
	unsigned total = 0, pick;
	int64_t base = 1;
	int k;

	for (k = 0; k < nweights; k++)
		total += weights[k];
	pick = (unsigned)gen_rng_below(r, total);
	for (k = 0; k < nweights - 1 && pick >= weights[k]; k++) {
		pick -= weights[k];
		base *= 10;
	}
	int64_t a = base < lo ? lo : base;
	int64_t b = base * 10 > hi ? hi : base * 10;
	return gen_rng_range(r, a, b);
}

/* ---- Output buffer ------------------------------------------------------ */

typedef struct {
	FILE *out;
	char *buf;
	size_t len;
	int err; /* errno of the first failed write, 0 if none. */
} gen_out_t;

static void
gen_out_flush(gen_out_t *o)
{
	if (o->len && !o->err && fwrite(o->buf, 1, o->len, o->out) != o->len)
		o->err = errno ? errno : EIO;
	o->len = 0;
}

/*
 * Makes room for n more bytes. Each row reserves GEN_ROW_MAX bytes up front,
 * which bounds any row, so the appends below need no check of their own.
 */
static inline void
gen_out_reserve(gen_out_t *o, size_t n)
{
	if (o->len + n > GEN_BUF_SIZE)
		gen_out_flush(o);
}

static inline void
gen_out_mem(gen_out_t *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static inline void
gen_out_str(gen_out_t *o, const char *s)
{
	gen_out_mem(o, s, strlen(s));
}

static inline void
gen_out_ch(gen_out_t *o, char c)
{
	o->buf[o->len++] = c;
}

static inline void
gen_out_int(gen_out_t *o, int64_t v)
{
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t t = u;
	size_t n = 1;
	char *p;

	if (v < 0)
		gen_out_ch(o, '-');
	while (t >= 10) {
		t /= 10;
		n++;
	}
	p = o->buf + o->len + n;
	o->len += n;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
}

/* Writes text as a CSV field (quoted only when needed) or a JSON string. */
static void
gen_out_text(gen_out_t *o, enum gen_format fmt, const char *s)
{
	if (fmt == GEN_JSONL) {
		gen_out_ch(o, '"');
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				gen_out_ch(o, '\\');
			gen_out_ch(o, *s);
		}
		gen_out_ch(o, '"');
		return;
	}
	if (!strpbrk(s, ",\"")) {
		gen_out_str(o, s);
		return;
	}
	gen_out_ch(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			gen_out_ch(o, '"');
		gen_out_ch(o, *s);
	}
	gen_out_ch(o, '"');
}

/* ---- Rows --------------------------------------------------------------- */

typedef struct {
	enum gen_format fmt;
	uint64_t null_threshold; /* P * 2^64; 0 means never NULL. */
	int null_all;		 /* P >= 1. */
	gen_rng_t rng;
	gen_out_t out;
	const char *const *cols;
	int col;
} gen_row_t;

static void
gen_row_begin(gen_row_t *w)
{
	w->col = 0;
	gen_out_reserve(&w->out, GEN_ROW_MAX);
	if (w->fmt == GEN_JSONL)
		gen_out_ch(&w->out, '{');
}

static void
gen_row_end(gen_row_t *w)
{
	if (w->fmt == GEN_JSONL)
		gen_out_ch(&w->out, '}');
	gen_out_ch(&w->out, '\n');
}

/*
 * Starts the next field. Returns 0 when the field is NULL (its NULL form is
 * already written), 1 when the caller must write the value.
 */
static int
gen_field(gen_row_t *w)
{
	int c = w->col++;
	int is_null = 0;

	if (c > 0 &&
	    (w->null_all ||
	     (w->null_threshold && gen_rng_next(&w->rng) < w->null_threshold)))
		is_null = 1;
	if (w->fmt == GEN_JSONL) {
		if (c > 0)
			gen_out_ch(&w->out, ',');
		gen_out_ch(&w->out, '"');
		gen_out_str(&w->out, w->cols[c]);
		gen_out_mem(&w->out, "\":", 2);
		if (is_null)
			gen_out_mem(&w->out, "null", 4);
	} else if (c > 0) {
		gen_out_ch(&w->out, ',');
	}
	return !is_null;
}

static void
gen_header(gen_row_t *w)
{
	if (w->fmt != GEN_CSV)
		return;
	gen_out_reserve(&w->out, GEN_ROW_MAX);
	for (int c = 0; w->cols[c]; c++) {
		if (c)
			gen_out_ch(&w->out, ',');
		gen_out_str(&w->out, w->cols[c]);
	}
	gen_out_ch(&w->out, '\n');
}

/* Writes "region_N" as text. */
static void
gen_region_name(gen_row_t *w, unsigned n)
{
	if (w->fmt == GEN_JSONL)
		gen_out_ch(&w->out, '"');
	gen_out_mem(&w->out, "region_", 7);
	gen_out_int(&w->out, n);
	if (w->fmt == GEN_JSONL)
		gen_out_ch(&w->out, '"');
}

/* ---- Table: events ------------------------------------------------------ */

static const char *const gen_events_cols[] = {"ts",	  "user_id", "amount",
					      "category", "region",  NULL};

/* Categories and their weights (per mille); two need quoting in CSV. */
static const struct {
	const char *name;
	unsigned weight;
} gen_categories[] = {
    {"food", 120},	 {"toys", 80},	     {"books", 80},
    {"home", 70},	 {"games", 60},	     {"music", 60},
    {"pets", 50},	 {"auto", 40},	     {"baby", 40},
    {"tools", 40},	 {"sport", 50},	     {"beauty", 40},
    {"garden", 40},	 {"health", 40},     {"office", 30},
    {"travel", 30},	 {"grocery", 40},    {"electronics", 60},
    {"toys, games", 20}, {"12\" vinyl", 10},
};
#define GEN_NCATEGORIES (sizeof(gen_categories) / sizeof(gen_categories[0]))
#define GEN_CAT_PAD 32 /* Encoded names are copied whole, padding and all. */

/* A category as written in the output format, padded for a fixed copy. */
typedef struct {
	char text[GEN_CAT_PAD];
	size_t len;
} gen_cat_enc_t;

/* Encodes the categories for fmt with gen_out_text into enc[]. */
static void
gen_categories_encode(enum gen_format fmt, gen_cat_enc_t *enc)
{
	char buf[GEN_ROW_MAX];
	gen_out_t o = {.buf = buf};

	for (size_t i = 0; i < GEN_NCATEGORIES; i++) {
		o.len = 0;
		gen_out_text(&o, fmt, gen_categories[i].name);
		memset(enc[i].text, 0, sizeof(enc[i].text));
		memcpy(enc[i].text, buf, o.len);
		enc[i].len = o.len;
	}
}

static const uint16_t gen_month_days[12] = {31, 29, 31, 30, 31, 30,
					    31, 31, 30, 31, 30, 31};

/* Formats seconds since 2024-01-01 00:00:00 (< GEN_YEAR_SECONDS). */
static void
gen_format_ts(char out[19], uint32_t t)
{
	static uint32_t cached_day = UINT32_MAX;
	static char date[10];
	uint32_t day = t / 86400, sec = t % 86400;

	if (day != cached_day) {
		uint32_t d = day;
		int m = 0;

		while (d >= gen_month_days[m])
			d -= gen_month_days[m++];
		memcpy(date, "2024-", 5);
		date[5] = (char)('0' + (m + 1) / 10);
		date[6] = (char)('0' + (m + 1) % 10);
		date[7] = '-';
		date[8] = (char)('0' + (d + 1) / 10);
		date[9] = (char)('0' + (d + 1) % 10);
		cached_day = day;
	}
	memcpy(out, date, 10);
	out[10] = ' ';
	out[11] = (char)('0' + sec / 36000);
	out[12] = (char)('0' + sec / 3600 % 10);
	out[13] = ':';
	out[14] = (char)('0' + sec % 3600 / 600);
	out[15] = (char)('0' + sec % 3600 / 60 % 10);
	out[16] = ':';
	out[17] = (char)('0' + sec % 60 / 10);
	out[18] = (char)('0' + sec % 10);
}

static void
gen_events(gen_row_t *w, uint64_t rows)
{
	/* Magnitude weights: 1, 2, ... digit numbers. */
	static const unsigned user_w[] = {2, 6, 14, 26, 30, 22};
	static const unsigned amount_w[] = {10, 30, 30, 20, 10};
	unsigned cat_total = 0;
	uint64_t step_num = GEN_YEAR_SECONDS - GEN_JITTER_SECONDS;
	int narrow = rows <= UINT64_MAX / step_num; /* i * step_num fits. */
	gen_cat_enc_t cats[GEN_NCATEGORIES];

	for (size_t i = 0; i < GEN_NCATEGORIES; i++)
		cat_total += gen_categories[i].weight;
	gen_categories_encode(w->fmt, cats);

	gen_header(w);
	for (uint64_t i = 0; i < rows; i++) {
		uint64_t pos =
		    narrow
			? i * step_num / rows
			: (uint64_t)(((unsigned __int128)i * step_num) / rows);
		uint32_t ts = (uint32_t)pos + (uint32_t)gen_rng_below(
						  &w->rng, GEN_JITTER_SECONDS);

		gen_row_begin(w);
		gen_field(w);
		if (w->fmt == GEN_JSONL)
			gen_out_ch(&w->out, '"');
		gen_format_ts(w->out.buf + w->out.len, ts);
		w->out.len += 19;
		if (w->fmt == GEN_JSONL)
			gen_out_ch(&w->out, '"');

		if (gen_field(w))
			gen_out_int(&w->out, gen_rng_magnitude(&w->rng, user_w,
							       6, 1, 1000000));

		if (gen_field(w)) {
			/* About 3% are refunds in [-1000, 0). */
			int64_t amount;
			if (gen_rng_below(&w->rng, 100) < 3)
				amount = gen_rng_range(&w->rng, -1000, 0);
			else
				amount = gen_rng_magnitude(&w->rng, amount_w, 5,
							   0, 100000);
			gen_out_int(&w->out, amount);
		}

		if (gen_field(w)) {
			unsigned pick =
			    (unsigned)gen_rng_below(&w->rng, cat_total);
			size_t c = 0;
			while (pick >= gen_categories[c].weight)
				pick -= gen_categories[c++].weight;
			memcpy(w->out.buf + w->out.len, cats[c].text,
			       GEN_CAT_PAD);
			w->out.len += cats[c].len;
		}

		if (gen_field(w)) {
			/* Busy regions first: a third of the rows in 0..99. */
			unsigned r = gen_rng_below(&w->rng, 3) == 0
					 ? (unsigned)gen_rng_below(&w->rng, 100)
					 : (unsigned)gen_rng_below(
					       &w->rng, GEN_NREGIONS);
			gen_region_name(w, r);
		}
		gen_row_end(w);
	}
}

/* ---- Table: regions ----------------------------------------------------- */

static const char *const gen_regions_cols[] = {"region", "country",
					       "population", "score", NULL};

static const char *const gen_countries[] = {
    "Argentina",     "Australia", "Austria",
    "Belgium",	     "Brazil",	  "Canada",
    "Chile",	     "China",	  "Colombia",
    "Czechia",	     "Denmark",	  "Egypt",
    "Finland",	     "France",	  "Germany",
    "Ghana",	     "Greece",	  "India",
    "Indonesia",     "Ireland",	  "Italy",
    "Japan",	     "Kenya",	  "Korea, Republic of",
    "Mexico",	     "Morocco",	  "Netherlands",
    "New Zealand",   "Nigeria",	  "Norway",
    "Peru",	     "Poland",	  "Portugal",
    "Spain",	     "Sweden",	  "Switzerland",
    "Thailand",	     "Turkey",	  "United Kingdom",
    "United States", "Viet Nam",  "C\xc3\xb4te d'Ivoire",
};
#define GEN_NCOUNTRIES (sizeof(gen_countries) / sizeof(gen_countries[0]))

static void
gen_regions(gen_row_t *w, uint64_t rows)
{
	static const unsigned pop_w[] = {0, 0, 0, 5, 25, 35, 25, 10};

	gen_header(w);
	for (uint64_t i = 0; i < rows; i++) {
		gen_row_begin(w);
		gen_field(w);
		gen_region_name(w, (unsigned)i);
		if (gen_field(w))
			gen_out_text(&w->out, w->fmt,
				     gen_countries[gen_rng_below(
					 &w->rng, GEN_NCOUNTRIES)]);
		if (gen_field(w))
			gen_out_int(&w->out,
				    gen_rng_magnitude(&w->rng, pop_w, 8, 1000,
						      40000000));
		if (gen_field(w)) {
			/* A decimal in [0.00, 100.00), written without floats.
			 */
			unsigned s = (unsigned)gen_rng_below(&w->rng, 10000);
			char frac[3] = {'.', (char)('0' + s % 100 / 10),
					(char)('0' + s % 10)};
			gen_out_int(&w->out, s / 100);
			gen_out_mem(&w->out, frac, sizeof(frac));
		}
		gen_row_end(w);
	}
}

/* ---- Tables for the SQL correctness test -------------------------------- */

/* Writes a NULL for a field gen_field() left to the caller. */
static void
gen_null(gen_row_t *w)
{
	if (w->fmt == GEN_JSONL)
		gen_out_mem(&w->out, "null", 4);
}

/* A text value, always quoted in CSV so that "" stays the empty string. */
static void
gen_out_qtext(gen_out_t *o, enum gen_format fmt, const char *s)
{
	if (fmt == GEN_JSONL) {
		gen_out_text(o, fmt, s);
		return;
	}
	gen_out_ch(o, '"');
	for (; *s; s++) {
		if (*s == '"')
			gen_out_ch(o, '"');
		gen_out_ch(o, *s);
	}
	gen_out_ch(o, '"');
}

/* A bare token (number, boolean, float spelling): quoted in JSON only when
 * it is not a JSON literal. */
static void
gen_out_tok(gen_row_t *w, const char *s, int json_string)
{
	if (w->fmt == GEN_JSONL && json_string)
		gen_out_text(&w->out, w->fmt, s);
	else
		gen_out_str(&w->out, s);
}

/* k/4 written exactly as a decimal ("-12.75"). */
static void
gen_out_quarters(gen_out_t *o, int64_t k)
{
	static const char *const frac[4] = {"", ".25", ".5", ".75"};
	uint64_t a = k < 0 ? (uint64_t)0 - (uint64_t)k : (uint64_t)k;

	if (k < 0)
		gen_out_ch(o, '-');
	gen_out_int(o, (int64_t)(a / 4));
	gen_out_str(o, frac[a % 4]);
}

/*
 * A timestamp: microseconds since 1970-01-01 00:00:00 (may be negative),
 * as "YYYY-MM-DD HH:MM:SS[.ffffff]" (fraction without trailing zeros),
 * quoted in JSON.
 */
static void
gen_out_ts(gen_row_t *w, int64_t us)
{
	int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
	int64_t frac = us - secs * 1000000;
	int64_t z = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	int64_t tod = secs - z * 86400;
	int64_t era, doe, yoe, y, doy, mp, d, m;
	char b[40];
	int n;

	/* civil_from_days (H. Hinnant), integer only. */
	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	n = snprintf(b, sizeof(b), "%04d-%02d-%02d %02d:%02d:%02d", (int)y,
		     (int)m, (int)d, (int)(tod / 3600), (int)(tod % 3600 / 60),
		     (int)(tod % 60));
	if (frac) {
		n += snprintf(b + n, sizeof(b) - (size_t)n, ".%06d", (int)frac);
		while (b[n - 1] == '0')
			b[--n] = '\0';
	}
	if (w->fmt == GEN_JSONL)
		gen_out_ch(&w->out, '"');
	gen_out_str(&w->out, b);
	if (w->fmt == GEN_JSONL)
		gen_out_ch(&w->out, '"');
}

/* 1 with probability pct/100. */
static int
gen_pct(gen_row_t *w, unsigned pct)
{
	return gen_rng_below(&w->rng, 100) < pct;
}

#define GEN_N(a) (sizeof(a) / sizeof((a)[0]))
#define GEN_NPEOPLE 500u
#define GEN_US 1000000LL

static const char *const gen_people_cols[] = {
    "id", "name", "age", "score", "active", "joined", "city_id", NULL};

/* Names: case variants, unicode (2-, 3- and 4-byte UTF-8), the empty
 * string, blanks, quotes, commas and LIKE metacharacters. */
static const char *const gen_names[] = {
    "Ann",
    "ann",
    "ANN",
    "Anna",
    "Anne-Marie",
    "Bob",
    "bob",
    "Carl",
    "Zed",
    "zed",
    "Zo\xc3\xab",
    "ZO\xc3\x8b",
    "\xc5\x81ukasz",
    "\xc3\x89mile",
    "\xc3\xa9mile",
    "\xc3\x98rsted",
    "stra\xc3\x9f"
    "e",
    "na\xc3\xafve caf\xc3\xa9",
    "\xe6\x9d\xb1\xe4\xba\xac", /* 東京 */
    "\xe6\x9d\xb1\xe4\xba\xac\xe3\x82\xbf\xe3\x83\xaf\xe3\x83\xbc",
    "\xf0\x9f\x98\x80",			/* 😀 */
    "party \xf0\x9f\x8e\x89",		/* party 🎉 */
    "\xd0\x98\xd0\xb2\xd0\xb0\xd0\xbd", /* Иван */
    "\xce\xa9",				/* Ω */
    "",
    " padded ",
    "O'Brien",
    "a,b",
    "say \"hi\"",
    "50%",
    "under_score",
    "back\\slash",
    "x",
    "X",
    "yves",
    "Yves",
};

/* Scores that are not multiples of 1/4: rounding ties, tiny, huge. */
static const char *const gen_score_specials[] = {
    "0.1", "-0.1",  "2.5",	   "-2.5",   "0.5",   "-0.5",
    "3.5", "1e-05", "1234567.891", "-99.99", "1e+15", "0.3",
};

static void
gen_people(gen_row_t *w, uint64_t rows)
{
	/* 1960-01-01 .. 2025-01-01 */
	const int64_t lo = -315619200LL, hi = 1735689600LL;

	gen_header(w);
	for (uint64_t i = 1; i <= rows; i++) {
		gen_row_begin(w);
		gen_field(w);
		gen_out_int(&w->out, (int64_t)i);
		if (gen_field(w)) {
			if (gen_pct(w, 5))
				gen_null(w);
			else
				gen_out_qtext(&w->out, w->fmt,
					      gen_names[gen_rng_below(
						  &w->rng, GEN_N(gen_names))]);
		}
		if (gen_field(w)) {
			if (gen_pct(w, 12))
				gen_null(w);
			else
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng, 0, 90));
		}
		if (gen_field(w)) {
			unsigned p = (unsigned)gen_rng_below(&w->rng, 100);
			if (p < 10)
				gen_null(w);
			else if (p < 18)
				gen_out_ch(&w->out, '0');
			else if (p < 24)
				gen_out_tok(
				    w,
				    gen_score_specials[gen_rng_below(
					&w->rng, GEN_N(gen_score_specials))],
				    0);
			else
				gen_out_quarters(
				    &w->out,
				    gen_rng_range(&w->rng, -2000, 2001));
		}
		if (gen_field(w)) {
			unsigned p = (unsigned)gen_rng_below(&w->rng, 100);
			if (p < 15)
				gen_null(w);
			else
				gen_out_str(&w->out, p < 60 ? "true" : "false");
		}
		if (gen_field(w)) {
			if (gen_pct(w, 10)) {
				gen_null(w);
			} else {
				int64_t us =
				    gen_rng_range(&w->rng, lo, hi) * GEN_US;
				unsigned p =
				    (unsigned)gen_rng_below(&w->rng, 100);
				if (p < 10) /* midnight */
					us -= (us % (86400 * GEN_US) +
					       86400 * GEN_US) %
					      (86400 * GEN_US);
				else if (p < 25) /* microseconds */
					us += gen_rng_range(&w->rng, 1,
							    (int64_t)GEN_US);
				gen_out_ts(w, us);
			}
		}
		if (gen_field(w)) {
			if (gen_pct(w, 10))
				gen_null(w);
			else /* 16 and 17 are not in cities */
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng, 1, 18));
		}
		gen_row_end(w);
	}
}

static const char *const gen_orders_cols[] = {"id",	  "person_id", "amount",
					      "category", "placed",    NULL};

static const char *const gen_order_cats[] = {
    "food",	    "toys", "books",	     "caf\xc3\xa9", "Caf\xc3\xa9",
    "CAF\xc3\x89",  "",	    "home & garden", "12\" vinyl",  "a,b",
    "\xe6\x9c\xac", /* 本 */
    "Food",
};

static void
gen_orders(gen_row_t *w, uint64_t rows)
{
	/* 2023-01-01 .. 2025-01-01 */
	const int64_t lo = 1672531200LL, hi = 1735689600LL;

	gen_header(w);
	for (uint64_t i = 1; i <= rows; i++) {
		gen_row_begin(w);
		gen_field(w);
		gen_out_int(&w->out, (int64_t)i);
		if (gen_field(w)) {
			unsigned p = (unsigned)gen_rng_below(&w->rng, 100);
			if (p < 5)
				gen_null(w);
			else if (p < 10) /* dangling */
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng,
							  GEN_NPEOPLE + 1,
							  GEN_NPEOPLE + 60));
			else
				gen_out_int(
				    &w->out,
				    gen_rng_range(&w->rng, 1, GEN_NPEOPLE + 1));
		}
		if (gen_field(w)) {
			unsigned p = (unsigned)gen_rng_below(&w->rng, 100);
			if (p < 5)
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng, -500, 0));
			else if (p < 10)
				gen_out_ch(&w->out, '0');
			else if (p < 11)
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng,
							  1000000000000LL,
							  10000000000000LL));
			else
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng, 1, 100001));
		}
		if (gen_field(w)) {
			if (gen_pct(w, 10))
				gen_null(w);
			else
				gen_out_qtext(
				    &w->out, w->fmt,
				    gen_order_cats[gen_rng_below(
					&w->rng, GEN_N(gen_order_cats))]);
		}
		if (gen_field(w)) {
			int64_t us = gen_rng_range(&w->rng, lo, hi) * GEN_US;
			if (gen_pct(w, 10))
				us +=
				    gen_rng_range(&w->rng, 1, (int64_t)GEN_US);
			gen_out_ts(w, us);
		}
		gen_row_end(w);
	}
}

static const char *const gen_cities_cols[] = {"city_id", "city", "country",
					      "pop", NULL};

/* Fixed rows; a NULL is written as a NULL pointer (text) or -1 (pop). */
static const struct {
	const char *city, *country;
	int64_t pop;
} gen_cities_rows[] = {
    {"Paris", "France", 2100000},
    {"Z\xc3\xbcrich", "Switzerland", 420000},
    {"\xe6\x9d\xb1\xe4\xba\xac", "Japan", 13960000},
    {"Krak\xc3\xb3w", "Poland", 780000},
    {"S\xc3\xa3o Paulo", "Brazil", 12300000},
    {"New York", "United States", 8400000},
    {"Reykjav\xc3\xadk", "Iceland", 130000},
    {"\xc5\x81\xc3\xb3"
     "d\xc5\xba",
     "Poland", 670000},
    {"\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0", "Russia", -1},
    {"paris", "France", -1},
    {"", NULL, 0},
    {NULL, "Nowhere", 1},
    {"Springfield", "United States", 30000},
    {"Springfield", NULL, 167000},
    {"Z", "Zland", 1},
};

static void
gen_cities(gen_row_t *w, uint64_t rows)
{
	gen_header(w);
	for (uint64_t i = 0; i < rows && i < GEN_N(gen_cities_rows); i++) {
		gen_row_begin(w);
		gen_field(w);
		gen_out_int(&w->out, (int64_t)i + 1);
		if (gen_field(w)) {
			if (gen_cities_rows[i].city)
				gen_out_qtext(&w->out, w->fmt,
					      gen_cities_rows[i].city);
			else
				gen_null(w);
		}
		if (gen_field(w)) {
			if (gen_cities_rows[i].country)
				gen_out_qtext(&w->out, w->fmt,
					      gen_cities_rows[i].country);
			else
				gen_null(w);
		}
		if (gen_field(w)) {
			if (gen_cities_rows[i].pop >= 0)
				gen_out_int(&w->out, gen_cities_rows[i].pop);
			else
				gen_null(w);
		}
		gen_row_end(w);
	}
}

static const char *const gen_nulls_cols[] = {"id", "a", "b", "c", "d",
					     "e",  "f", "z", NULL};

static void
gen_nulls(gen_row_t *w, uint64_t rows)
{
	static const char *const cs[] = {"", "x", "y", "X", "\xe1\xba\x9e"};
	static const char *const fs[] = {"NaN", "Infinity", "-Infinity",
					 "0",	"1.5",	    "-1.5"};

	gen_header(w);
	for (uint64_t i = 1; i <= rows; i++) {
		gen_row_begin(w);
		gen_field(w);
		gen_out_int(&w->out, (int64_t)i);
		if (gen_field(w)) {
			if (gen_pct(w, 80))
				gen_null(w);
			else
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng, 0, 10));
		}
		if (gen_field(w)) {
			if (gen_pct(w, 80))
				gen_null(w);
			else
				gen_out_quarters(
				    &w->out,
				    2 * gen_rng_range(&w->rng, -20, 21));
		}
		if (gen_field(w)) {
			if (gen_pct(w, 80))
				gen_null(w);
			else
				gen_out_qtext(
				    &w->out, w->fmt,
				    cs[gen_rng_below(&w->rng, GEN_N(cs))]);
		}
		if (gen_field(w)) {
			if (gen_pct(w, 90))
				gen_null(w);
			else
				gen_out_str(&w->out,
					    gen_pct(w, 50) ? "true" : "false");
		}
		if (gen_field(w)) {
			if (gen_pct(w, 85))
				gen_null(w);
			else /* 1969-01-01 .. 1971-01-01: around the epoch */
				gen_out_ts(w, gen_rng_range(&w->rng, -31536000,
							    31536000) *
						  GEN_US);
		}
		if (gen_field(w)) {
			if (gen_pct(w, 70))
				gen_null(w);
			else {
				const char *f =
				    fs[gen_rng_below(&w->rng, GEN_N(fs))];
				gen_out_tok(w, f, strpbrk(f, "NI") != NULL);
			}
		}
		if (gen_field(w))
			gen_null(w);
		gen_row_end(w);
	}
}

static const char *const gen_empty_cols[] = {"id",   "name", "v",
					     "flag", "ts",   NULL};

static const char *const gen_big_cols[] = {"id", "g",	      "k",    "v",
					   "ts", "person_id", "flag", NULL};

static void
gen_big(gen_row_t *w, uint64_t rows)
{
	static const char *const words[] = {
	    "alpha", "beta",	"gamma",
	    "delta", "epsilon", "zeta",
	    "eta",   "theta",	"iota",
	    "kappa", "lambda",	"mu",
	    "nu",    "xi",	"omicron",
	    "pi",    "rho",	"sigma",
	    "tau",   "upsilon", "\xcf\x86\xce\xb9", /* φι */
	    "",
	};
	/* 2024-01-01, plus about 3 minutes a row */
	const int64_t t0 = 1704067200LL;

	gen_header(w);
	for (uint64_t i = 1; i <= rows; i++) {
		gen_row_begin(w);
		gen_field(w);
		gen_out_int(&w->out, (int64_t)i);
		if (gen_field(w)) {
			if (gen_pct(w, 5)) {
				gen_null(w);
			} else {
				/* a window of 8 words that moves every 5,000
				 * rows */
				uint64_t base = i / 5000;
				gen_out_qtext(
				    &w->out, w->fmt,
				    words[(base + gen_rng_below(&w->rng, 8)) %
					  GEN_N(words)]);
			}
		}
		if (gen_field(w)) {
			if (gen_pct(w, 3))
				gen_null(w);
			else
				gen_out_int(&w->out,
					    (int64_t)(i / 10) +
						gen_rng_range(&w->rng, -5, 6));
		}
		if (gen_field(w)) {
			if (gen_pct(w, 8))
				gen_null(w);
			else
				gen_out_quarters(
				    &w->out,
				    gen_rng_range(&w->rng, -4000, 4001));
		}
		if (gen_field(w)) {
			if (gen_pct(w, 2))
				gen_null(w);
			else
				gen_out_ts(w, (t0 + (int64_t)i * 180 +
					       gen_rng_range(&w->rng, 0, 180)) *
						  GEN_US);
		}
		if (gen_field(w)) {
			if (gen_pct(w, 10))
				gen_null(w);
			else
				gen_out_int(&w->out,
					    gen_rng_range(&w->rng, 1,
							  GEN_NPEOPLE + 100));
		}
		if (gen_field(w)) {
			unsigned p = (unsigned)gen_rng_below(&w->rng, 10);
			if (p == 0)
				gen_null(w);
			else
				gen_out_str(&w->out, p < 4 ? "true" : "false");
		}
		gen_row_end(w);
	}
}

/* ---- Command line ------------------------------------------------------- */

static void
gen_usage(FILE *f)
{
	fputs(
	    "usage: weft-gen [--rows N] [--seed S] [--format csv|jsonl]\n"
	    "                [--table T] [--nulls P] [--out "
	    "FILE]\n"
	    "\n"
	    "Writes deterministic test data: the same arguments give "
	    "byte-identical\n"
	    "output on any machine.\n"
	    "\n"
	    "  --rows N      rows to write (default: 3000000 for events, 3000 "
	    "for\n"
	    "                regions); N may end in k or M (x1000, x1000000)\n"
	    "  --seed S      PRNG seed, an unsigned 64-bit integer (default "
	    "1)\n"
	    "  --format F    csv (RFC 4180, with a header line; default) or "
	    "jsonl\n"
	    "                (one flat JSON object per line)\n"
	    "  --table T     events: ts,user_id,amount,category,region "
	    "(default)\n"
	    "                regions: region,country,population,score\n"
	    "                people, orders, cities, nulls, empty, big: "
	    "tables of\n"
	    "                edge cases for the SQL test (see the top of "
	    "bench/gen.c)\n"
	    "  --nulls P     blank each field but the first with probability P "
	    "in\n"
	    "                [0,1] (an empty CSV field, JSON null; default 0)\n"
	    "  --out FILE    write to FILE instead of standard output\n"
	    "  --help        show this help\n",
	    f);
}

/* Parses an unsigned integer with an optional k/M suffix. */
static int
gen_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	uint64_t v, mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'k' || *end == 'K')
		mul = 1000, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1000000, end++;
	if (*end || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

int
main(int argc, char **argv)
{
	enum gen_table table = GEN_EVENTS;
	gen_row_t w;
	uint64_t rows = 0, seed = 1;
	int have_rows = 0, rc = 1;
	double nulls = 0;
	const char *path = NULL;

	memset(&w, 0, sizeof(w));
	w.fmt = GEN_CSV;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		size_t n;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			gen_usage(stdout);
			return 0;
		}
		if (strncmp(a, "--", 2) != 0)
			goto bad_arg;
		n = strcspn(a, "=");
#define GEN_OPT(name) (n == strlen(name) && !strncmp(a, name, n))
		if (!GEN_OPT("--rows") && !GEN_OPT("--seed") &&
		    !GEN_OPT("--format") && !GEN_OPT("--table") &&
		    !GEN_OPT("--nulls") && !GEN_OPT("--out"))
			goto bad_arg;
		if (a[n] == '=')
			v = a + n + 1;
		else if (i + 1 < argc)
			v = argv[++i];
		else {
			fprintf(stderr, "weft-gen: %s needs a value\n", a);
			return 2;
		}
		if (GEN_OPT("--rows")) {
			if (gen_parse_u64(v, &rows) < 0)
				goto bad_value;
			have_rows = 1;
		} else if (GEN_OPT("--seed")) {
			if (gen_parse_u64(v, &seed) < 0)
				goto bad_value;
		} else if (GEN_OPT("--format")) {
			if (!strcmp(v, "csv"))
				w.fmt = GEN_CSV;
			else if (!strcmp(v, "jsonl"))
				w.fmt = GEN_JSONL;
			else
				goto bad_value;
		} else if (GEN_OPT("--table")) {
			if (!strcmp(v, "events"))
				table = GEN_EVENTS;
			else if (!strcmp(v, "regions"))
				table = GEN_REGIONS;
			else if (!strcmp(v, "people"))
				table = GEN_PEOPLE;
			else if (!strcmp(v, "orders"))
				table = GEN_ORDERS;
			else if (!strcmp(v, "cities"))
				table = GEN_CITIES;
			else if (!strcmp(v, "nulls"))
				table = GEN_NULLS;
			else if (!strcmp(v, "empty"))
				table = GEN_EMPTY;
			else if (!strcmp(v, "big"))
				table = GEN_BIG;
			else
				goto bad_value;
		} else if (GEN_OPT("--nulls")) {
			char *end;
			errno = 0;
			nulls = strtod(v, &end);
			if (errno || end == v || *end ||
			    !(nulls >= 0 && nulls <= 1))
				goto bad_value;
		} else {
			path = v;
		}
#undef GEN_OPT
		continue;
	bad_value:
		fprintf(stderr, "weft-gen: %.*s: bad value \"%s\"\n", (int)n, a,
			v);
		return 2;
	bad_arg:
		fprintf(stderr,
			"weft-gen: unknown argument \"%s\" "
			"(try --help)\n",
			a);
		return 2;
	}
	if (!have_rows) {
		static const uint64_t def_rows[] = {
		    [GEN_EVENTS] = 3000000,
		    [GEN_REGIONS] = GEN_NREGIONS,
		    [GEN_PEOPLE] = GEN_NPEOPLE,
		    [GEN_ORDERS] = 2000,
		    [GEN_CITIES] = GEN_N(gen_cities_rows),
		    [GEN_NULLS] = 300,
		    [GEN_EMPTY] = 0,
		    [GEN_BIG] = 25000,
		};
		rows = def_rows[table];
	}

	if (nulls >= 1)
		w.null_all = 1;
	else
		w.null_threshold = (uint64_t)(nulls * 18446744073709551616.0);
	/* The table picks its own stream, so tables with one seed differ. */
	{
		static const uint64_t salt[] = {
		    [GEN_EVENTS] = 0,
		    [GEN_REGIONS] = 0x5265676e73ULL,
		    [GEN_PEOPLE] = 0x50656f706c65ULL,
		    [GEN_ORDERS] = 0x4f7264657273ULL,
		    [GEN_CITIES] = 0x436974696573ULL,
		    [GEN_NULLS] = 0x4e756c6c73ULL,
		    [GEN_EMPTY] = 0x456d707479ULL,
		    [GEN_BIG] = 0x426967ULL,
		};
		static const char *const *const cols[] = {
		    [GEN_EVENTS] = gen_events_cols,
		    [GEN_REGIONS] = gen_regions_cols,
		    [GEN_PEOPLE] = gen_people_cols,
		    [GEN_ORDERS] = gen_orders_cols,
		    [GEN_CITIES] = gen_cities_cols,
		    [GEN_NULLS] = gen_nulls_cols,
		    [GEN_EMPTY] = gen_empty_cols,
		    [GEN_BIG] = gen_big_cols,
		};
		gen_rng_seed(&w.rng, seed ^ salt[table]);
		w.cols = cols[table];
	}

	w.out.out = path ? fopen(path, "wb") : stdout;
	if (!w.out.out) {
		fprintf(stderr, "weft-gen: %s: %s\n", path, strerror(errno));
		return 1;
	}
	w.out.buf = malloc(GEN_BUF_SIZE);
	if (!w.out.buf) {
		fprintf(stderr, "weft-gen: out of memory\n");
		goto out;
	}

	switch (table) {
	case GEN_EVENTS: gen_events(&w, rows); break;
	case GEN_REGIONS: gen_regions(&w, rows); break;
	case GEN_PEOPLE: gen_people(&w, rows); break;
	case GEN_ORDERS: gen_orders(&w, rows); break;
	case GEN_CITIES: gen_cities(&w, rows); break;
	case GEN_NULLS: gen_nulls(&w, rows); break;
	case GEN_EMPTY: /* the header only: rows are ignored */
		gen_header(&w);
		break;
	case GEN_BIG: gen_big(&w, rows); break;
	}
	gen_out_flush(&w.out);
	if (!w.out.err && fflush(w.out.out) != 0)
		w.out.err = errno ? errno : EIO;
	if (w.out.err) {
		fprintf(stderr, "weft-gen: %s: %s\n", path ? path : "stdout",
			strerror(w.out.err));
		goto out;
	}
	rc = 0;
out:
	free(w.out.buf);
	if (path && w.out.out && fclose(w.out.out) != 0 && rc == 0) {
		fprintf(stderr, "weft-gen: %s: %s\n", path, strerror(errno));
		rc = 1;
	}
	return rc;
}
