/*
 * json.c: the streaming JSON writer (see json.h).
 *
 * State is a stack of open containers, each with its kind and whether a
 * member was written yet (so the next one needs a comma). Every value
 * goes through weft_json_member(), which checks the key against the
 * container, writes the separator and the key, and says whether to write
 * the value at all. Strings are copied in runs: bytes that need no
 * escape, including whole well-formed UTF-8 sequences, go out with one
 * fwrite per run.
 */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "utf8.h"

void
weft_json_quote(FILE *f, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	fputc('"', f);
	while (i < len) {
		unsigned char c = u[i];
		uint32_t cp;
		size_t k;

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80 && (k = weft_utf8_decode(u + i, len - i, &cp))) {
			i += k;
			continue;
		}
		if (i > run)
			fwrite(u + run, 1, i - run, f);
		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (c < 0x20)
				fprintf(f, "\\u%04x", c);
			else
				fputs("\\ufffd", f); /* not UTF-8 */
		}
		run = ++i;
	}
	if (i > run)
		fwrite(u + run, 1, i - run, f);
	fputc('"', f);
}

void
weft_json_init(weft_json_t *j, FILE *f, unsigned flags)
{
	*j = (weft_json_t){.js_f = f, .js_flags = flags};
}

static bool
weft_json_misuse(weft_json_t *j)
{
	if (j->js_err == 0)
		j->js_err = WEFT_EINVAL;
	return false;
}

/* Rows layout: inside the outermost container, an array. */
static bool
weft_json_rows(const weft_json_t *j)
{
	return (j->js_flags & WEFT_JSON_ROWS) && j->js_depth == 1 &&
	       !j->js_obj[0];
}

/*
 * Before a value or a container: check the key, write the comma (or the
 * newline between top-level values) and the key. false: write nothing.
 */
static bool
weft_json_member(weft_json_t *j, const char *key)
{
	bool in_obj;

	if (j->js_skip > 0)
		return false;
	if (j->js_depth == 0) {
		if (key != NULL)
			return weft_json_misuse(j);
		if (j->js_top_any)
			fputc('\n', j->js_f);
		j->js_top_any = 1;
		return true;
	}
	in_obj = j->js_obj[j->js_depth - 1];
	if (in_obj != (key != NULL))
		return weft_json_misuse(j);
	if (j->js_any[j->js_depth - 1])
		fputc(',', j->js_f);
	if (weft_json_rows(j))
		fputc('\n', j->js_f);
	j->js_any[j->js_depth - 1] = 1;
	if (key != NULL) {
		weft_json_quote(j->js_f, key, strlen(key));
		fputc(':', j->js_f);
	}
	return true;
}

static void
weft_json_begin(weft_json_t *j, const char *key, bool obj)
{
	if (j->js_skip > 0 || j->js_depth == WEFT_JSON_DEPTH) {
		if (j->js_skip == 0)
			weft_json_misuse(j);
		j->js_skip++;
		return;
	}
	if (!weft_json_member(j, key)) {
		j->js_skip++; /* swallow its contents and its end */
		return;
	}
	fputc(obj ? '{' : '[', j->js_f);
	j->js_obj[j->js_depth] = obj;
	j->js_any[j->js_depth] = 0;
	j->js_depth++;
}

static void
weft_json_end(weft_json_t *j, bool obj)
{
	if (j->js_skip > 0) {
		j->js_skip--;
		return;
	}
	if (j->js_depth == 0 || j->js_obj[j->js_depth - 1] != obj) {
		weft_json_misuse(j);
		return;
	}
	if (weft_json_rows(j) && j->js_any[0])
		fputc('\n', j->js_f);
	j->js_depth--;
	fputc(obj ? '}' : ']', j->js_f);
}

void
weft_json_begin_object(weft_json_t *j, const char *key)
{
	weft_json_begin(j, key, true);
}

void
weft_json_end_object(weft_json_t *j)
{
	weft_json_end(j, true);
}

void
weft_json_begin_array(weft_json_t *j, const char *key)
{
	weft_json_begin(j, key, false);
}

void
weft_json_end_array(weft_json_t *j)
{
	weft_json_end(j, false);
}

void
weft_json_string_len(weft_json_t *j, const char *key, const char *s, size_t len)
{
	if (weft_json_member(j, key))
		weft_json_quote(j->js_f, s, len);
}

void
weft_json_string(weft_json_t *j, const char *key, const char *s)
{
	if (!weft_json_member(j, key))
		return;
	if (s == NULL)
		fputs("null", j->js_f);
	else
		weft_json_quote(j->js_f, s, strlen(s));
}

void
weft_json_int(weft_json_t *j, const char *key, int64_t v)
{
	if (weft_json_member(j, key))
		fprintf(j->js_f, "%" PRId64, v);
}

void
weft_json_uint(weft_json_t *j, const char *key, uint64_t v)
{
	if (weft_json_member(j, key))
		fprintf(j->js_f, "%" PRIu64, v);
}

void
weft_json_double(weft_json_t *j, const char *key, double v)
{
	char buf[32];
	int p;

	if (!weft_json_member(j, key))
		return;
	if (!isfinite(v)) {
		fputs("null", j->js_f);
		return;
	}
	for (p = 15; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (p == 17)
		snprintf(buf, sizeof(buf), "%.17g", v);
	fputs(buf, j->js_f);
}

void
weft_json_bool(weft_json_t *j, const char *key, int v)
{
	if (weft_json_member(j, key))
		fputs(v ? "true" : "false", j->js_f);
}

void
weft_json_null(weft_json_t *j, const char *key)
{
	if (weft_json_member(j, key))
		fputs("null", j->js_f);
}

void
weft_json_raw(weft_json_t *j, const char *key, const char *text, size_t len)
{
	if (weft_json_member(j, key))
		fwrite(text, 1, len, j->js_f);
}

int
weft_json_finish(weft_json_t *j)
{
	if (ferror(j->js_f))
		return WEFT_EIO;
	if (j->js_err != 0)
		return j->js_err;
	return j->js_depth != 0 || j->js_skip != 0 ? WEFT_EINVAL : 0;
}
