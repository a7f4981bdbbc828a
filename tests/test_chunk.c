/*
 * test_chunk.c: column buffers encode what was pushed; the zero-copy
 * decoder agrees with protobuf-c's unpacker; hostile bytes never make the
 * decoder read out of bounds (every truncation and bit flip of real
 * chunks is either refused or decodes to an internally consistent view).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/chunk.h"
#include "weft.pb-c.h"

static void
encode(weft_colbuf_t *b, uint8_t **out, size_t *len)
{
	const uint8_t *p;

	assert_int_equal(weft_colbuf_encode(b, &p, len), 0);
	*out = malloc(*len);
	memcpy(*out, p, *len);
}

static void
test_int_roundtrip(void **state)
{
	weft_colbuf_t *b;
	weft_chunk_view_t v;
	uint8_t *buf;
	size_t len;
	uint32_t i;

	(void)state;
	assert_int_equal(weft_colbuf_new(WEFT_T_INT64, &b), 0);
	for (i = 0; i < WEFT_CHUNK_ROWS; i++) {
		if (i % 7 == 3)
			weft_colbuf_push_null(b);
		else
			weft_colbuf_push_i64(b, (int64_t)i * 1000 - 5000000);
	}
	assert_true(weft_colbuf_full(b));
	encode(b, &buf, &len);
	assert_int_equal(weft_chunk_view(buf, len, &v, NULL), 0);
	assert_int_equal(v.type, WEFT_T_INT64);
	assert_int_equal(v.count, WEFT_CHUNK_ROWS);
	assert_true(v.has_minmax);
	assert_int_equal(v.min_i, -5000000);
	assert_int_equal(v.max_i,
			 (int64_t)(WEFT_CHUNK_ROWS - 1) * 1000 - 5000000);
	for (i = 0; i < WEFT_CHUNK_ROWS; i++) {
		assert_int_equal(weft_chunk_is_null(&v, i), i % 7 == 3);
		if (i % 7 != 3)
			assert_int_equal(weft_chunk_i64(&v, i),
					 (int64_t)i * 1000 - 5000000);
	}
	/* reuse after reset */
	weft_colbuf_reset(b);
	weft_colbuf_push_i64(b, 42);
	free(buf);
	encode(b, &buf, &len);
	assert_int_equal(weft_chunk_view(buf, len, &v, NULL), 0);
	assert_int_equal(v.count, 1);
	assert_int_equal(v.null_count, 0);
	assert_null(v.nulls);
	assert_int_equal(weft_chunk_i64(&v, 0), 42);
	free(buf);
	weft_colbuf_free(b);
}

static void
test_float_bool(void **state)
{
	weft_colbuf_t *f, *bo;
	weft_chunk_view_t v;
	uint8_t *buf;
	size_t len;
	uint32_t i;

	(void)state;
	assert_int_equal(weft_colbuf_new(WEFT_T_FLOAT64, &f), 0);
	assert_int_equal(weft_colbuf_new(WEFT_T_BOOL, &bo), 0);
	for (i = 0; i < 1000; i++) {
		weft_colbuf_push_f64(f, i * 0.5 - 3);
		if (i % 3 == 0)
			weft_colbuf_push_null(bo);
		else
			weft_colbuf_push_i64(bo, i % 2);
	}
	encode(f, &buf, &len);
	assert_int_equal(weft_chunk_view(buf, len, &v, NULL), 0);
	assert_true(v.min_f == -3.0 && v.max_f == 999 * 0.5 - 3);
	for (i = 0; i < 1000; i++)
		assert_true(weft_chunk_f64(&v, i) == i * 0.5 - 3);
	free(buf);
	encode(bo, &buf, &len);
	assert_int_equal(weft_chunk_view(buf, len, &v, NULL), 0);
	assert_int_equal(v.type, WEFT_T_BOOL);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(weft_chunk_is_null(&v, i), i % 3 == 0);
		if (i % 3)
			assert_int_equal(weft_chunk_bool(&v, i), i % 2);
	}
	free(buf);
	weft_colbuf_free(f);
	weft_colbuf_free(bo);
}

static void
test_text_dictionary(void **state)
{
	weft_colbuf_t *b;
	weft_chunk_view_t v;
	uint8_t *buf;
	size_t len, l;
	uint32_t i;
	char s[32];
	const char *t;

	(void)state;
	assert_int_equal(weft_colbuf_new(WEFT_T_TEXT, &b), 0);
	for (i = 0; i < 5000; i++) {
		if (i % 11 == 0) {
			weft_colbuf_push_null(b);
			continue;
		}
		snprintf(s, sizeof(s), "v%u",
			 i % 300); /* > 256: 2-byte codes */
		assert_int_equal(weft_colbuf_push_text(b, s, strlen(s)), 0);
	}
	assert_int_equal(weft_colbuf_push_text(b, "", 0), 0);
	encode(b, &buf, &len);
	assert_int_equal(weft_chunk_view(buf, len, &v, NULL), 0);
	assert_int_equal(v.code_width, 2);
	assert_int_equal(v.dict_size, 301);
	for (i = 0; i < 5000; i++) {
		assert_int_equal(weft_chunk_is_null(&v, i), i % 11 == 0);
		if (i % 11 == 0)
			continue;
		snprintf(s, sizeof(s), "v%u", i % 300);
		t = weft_chunk_text(&v, i, &l);
		assert_int_equal(l, strlen(s));
		assert_memory_equal(t, s, l);
	}
	t = weft_chunk_text(&v, 5000, &l);
	assert_int_equal(l, 0);
	assert_int_equal(v.min_s_len, 0); /* "" sorts first */
	assert_memory_equal(v.max_s, "v99", 3);
	free(buf);
	weft_colbuf_free(b);
}

/* The hand decoder and protobuf-c agree on every field. */
static void
test_decoder_matches_protobuf_c(void **state)
{
	weft_colbuf_t *b;
	weft_chunk_view_t v;
	Weft__ColumnChunk *m;
	uint8_t *buf;
	size_t len;
	int i;

	(void)state;
	assert_int_equal(weft_colbuf_new(WEFT_T_TEXT, &b), 0);
	for (i = 0; i < 100; i++)
		weft_colbuf_push_text(b, i % 2 ? "odd" : "even", i % 2 ? 3 : 4);
	weft_colbuf_push_null(b);
	encode(b, &buf, &len);
	m = weft__column_chunk__unpack(NULL, len, buf);
	assert_non_null(m);
	assert_int_equal(weft_chunk_view(buf, len, &v, NULL), 0);
	assert_int_equal((int)m->type, (int)v.type);
	assert_int_equal(m->count, v.count);
	assert_int_equal(m->null_count, v.null_count);
	assert_int_equal(m->values.len, v.values_len);
	assert_memory_equal(m->values.data, v.values, v.values_len);
	assert_int_equal(m->dict_size, v.dict_size);
	assert_int_equal(m->dict_data.len, v.dict_data_len);
	assert_memory_equal(m->dict_data.data, v.dict_data, v.dict_data_len);
	assert_int_equal(m->min_s.len, v.min_s_len);
	assert_memory_equal(m->max_s.data, v.max_s, v.max_s_len);
	weft__column_chunk__free_unpacked(m, NULL);
	free(buf);
	weft_colbuf_free(b);
}

/* Reads every value of a view the way a scan would. */
static void
touch_all(const weft_chunk_view_t *v)
{
	volatile uint64_t sink = 0;
	uint32_t i;
	size_t l;

	for (i = 0; i < v->count; i++) {
		if (weft_chunk_is_null(v, i))
			continue;
		switch (v->type) {
		case WEFT_T_TEXT:
			sink +=
			    (uint64_t)(uintptr_t)weft_chunk_text(v, i, &l) + l;
			break;
		case WEFT_T_BOOL: sink += weft_chunk_bool(v, i); break;
		default: sink += (uint64_t)weft_chunk_i64(v, i);
		}
	}
	(void)sink;
}

static void
test_hostile_bytes(void **state)
{
	static const weft_type_t types[] = {WEFT_T_INT64, WEFT_T_TEXT,
					    WEFT_T_BOOL};
	size_t t, i, len;
	int bit;

	(void)state;
	for (t = 0; t < 3; t++) {
		weft_colbuf_t *b;
		weft_chunk_view_t v;
		uint8_t *buf;

		assert_int_equal(weft_colbuf_new(types[t], &b), 0);
		for (i = 0; i < 40; i++) {
			if (i == 5)
				weft_colbuf_push_null(b);
			else if (types[t] == WEFT_T_TEXT)
				weft_colbuf_push_text(b, i % 3 ? "ab" : "c",
						      i % 3 ? 2 : 1);
			else
				weft_colbuf_push_i64(b, (int64_t)(i % 2));
		}
		encode(b, &buf, &len);
		for (i = 0; i < len; i++) {
			/* truncation: a copy of exactly i bytes, so ASan
			 * sees any overread */
			uint8_t *cut = malloc(i ? i : 1);

			memcpy(cut, buf, i);
			if (weft_chunk_view(cut, i, &v, NULL) == 0)
				touch_all(&v);
			free(cut);
			for (bit = 0; bit < 8; bit++) {
				buf[i] ^= (uint8_t)(1 << bit);
				if (weft_chunk_view(buf, len, &v, NULL) == 0)
					touch_all(&v);
				buf[i] ^= (uint8_t)(1 << bit);
			}
		}
		free(buf);
		weft_colbuf_free(b);
	}
}

static void
test_type_names(void **state)
{
	(void)state;
	assert_int_equal(weft_type_parse("BIGINT"), WEFT_T_INT64);
	assert_int_equal(weft_type_parse("double precision"), WEFT_T_FLOAT64);
	assert_int_equal(weft_type_parse("varchar(20)"), WEFT_T_TEXT);
	assert_int_equal(weft_type_parse("timestamptz"), WEFT_T_TIMESTAMP);
	assert_int_equal(weft_type_parse("boolean"), WEFT_T_BOOL);
	assert_int_equal(weft_type_parse("intt"), WEFT_T_UNKNOWN);
	assert_string_equal(weft_type_name(WEFT_T_TIMESTAMP), "timestamp");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_int_roundtrip),
	    cmocka_unit_test(test_float_bool),
	    cmocka_unit_test(test_text_dictionary),
	    cmocka_unit_test(test_decoder_matches_protobuf_c),
	    cmocka_unit_test(test_hostile_bytes),
	    cmocka_unit_test(test_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
