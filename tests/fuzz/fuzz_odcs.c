/*
 * fuzz_odcs.c: libFuzzer harness for the ODCS contract reader and writer.
 *
 * Any input must be parsed or refused without a crash, leak or sanitizer
 * report. An accepted contract must also survive the round trip: written
 * back (with the input as the base, and fresh), it must read back as the
 * same descriptor.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Ibuild/gen \
 *       -D_GNU_SOURCE tests/fuzz/fuzz_odcs.c storage/odcs.c \
 *       storage/odcs_yaml.c lib/err.c \
 *       storage/descriptor.c storage/chunk.c build/gen/weft.pb-c.c \
 *       $(pkg-config --libs yaml-0.1 libprotobuf-c libxxhash) \
 *       -o build/fuzz_odcs
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/odcs.h"

static int
fuzz_odcs_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int
fuzz_odcs_same(const weft_product_info_t *a, const weft_product_info_t *b)
{
	size_t i;

	if (!fuzz_odcs_streq(a->name, b->name) ||
	    !fuzz_odcs_streq(a->owner, b->owner) ||
	    !fuzz_odcs_streq(a->description, b->description) ||
	    a->ntags != b->ntags || a->ncols != b->ncols)
		return 0;
	for (i = 0; i < a->ntags; i++)
		if (strcmp(a->tags[i], b->tags[i]) != 0)
			return 0;
	for (i = 0; i < a->ncols; i++)
		if (strcmp(a->cols[i].name, b->cols[i].name) != 0 ||
		    a->cols[i].type != b->cols[i].type ||
		    a->cols[i].nullable != b->cols[i].nullable ||
		    !fuzz_odcs_streq(a->cols[i].description,
				     b->cols[i].description))
			return 0;
	return 1;
}

/* Write pi, read it back, and insist on the same descriptor. */
static void
fuzz_odcs_roundtrip(const weft_product_info_t *pi, const char *what)
{
	weft_product_info_t back;
	weft_err_t err;
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = weft_odcs_emit(pi, &out, &len, &err);
	if (rc == WEFT_ETOOBIG)
		return; /* grew past the output cap */
	if (rc != 0) {
		fprintf(stderr, "%s: emit failed (%d: %s)\n", what, rc,
			err.msg);
		abort();
	}
	rc = weft_odcs_parse(out, len, what, &back, &err);
	if (rc == WEFT_ETOOBIG) {
		free(out);
		return;
	}
	if (rc != 0 || !fuzz_odcs_same(pi, &back)) {
		fprintf(stderr, "%s: round trip failed (%d: %s):\n%.*s\n", what,
			rc, err.msg, (int)len, (const char *)out);
		abort();
	}
	weft_product_info_clear(&back);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_product_info_t pi;
	weft_err_t err;
	uint8_t *base;
	size_t base_len;

	memset(&err, 0, sizeof(err));
	if (weft_odcs_parse(data, size, "fuzz.yaml", &pi, &err) != 0)
		return 0;
	fuzz_odcs_roundtrip(&pi, "based.yaml");
	/* and as a fresh document, without the base */
	base = pi.contract_yaml;
	base_len = pi.contract_len;
	pi.contract_yaml = NULL;
	pi.contract_len = 0;
	fuzz_odcs_roundtrip(&pi, "fresh.yaml");
	pi.contract_yaml = base;
	pi.contract_len = base_len;
	weft_product_info_clear(&pi);
	return 0;
}
