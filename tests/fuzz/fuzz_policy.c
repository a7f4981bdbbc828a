/*
 * fuzz_policy.c: libFuzzer harness for product policies
 * (storage/policy.c, storage/policy_yaml.c).
 *
 * Every input is read twice: as a YAML document (weft_policy_parse) and as
 * a signed entry's body (weft_policy_decode). Either must accept or refuse
 * it without a crash, leak or sanitizer report. What is accepted must
 * then hold up everywhere else: written as YAML it reads back the same
 * (lines aside), packed it decodes again (a document cannot hold what a
 * body may not), and binding, choosing a grant, asking about columns and
 * listing orgs all run on it cleanly.
 *
 *   make build/fuzz/fuzz_policy
 *   build/fuzz/fuzz_policy -max_total_time=20 tests/fuzz/seeds/fuzz_policy
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/policy.h"

/* p's packed bytes with every grant's line zeroed, malloc'd. */
static uint8_t *
fuzz_policy_pack(Weft__Policy *p, size_t *len)
{
	uint8_t *buf;
	size_t i;

	for (i = 0; i < p->n_grants; i++)
		p->grants[i]->line = 0;
	*len = weft__policy__get_packed_size(p);
	if ((buf = malloc(*len + 1)) == NULL)
		abort();
	weft__policy__pack(p, buf);
	return buf;
}

/* Written as YAML, p must read back the same. */
static void
fuzz_policy_roundtrip(Weft__Policy *p, const char *what)
{
	Weft__Policy *back;
	uint8_t *a, *b;
	size_t alen, blen, ylen;
	weft_err_t err;
	char *y;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = weft_policy_yaml(p, &y, &ylen, &err);
	if (rc == WEFT_ETOOBIG)
		return; /* its YAML would be over the document limit */
	if (rc != 0) {
		fprintf(stderr, "%s: yaml failed (%d: %s)\n", what, rc,
			err.msg);
		abort();
	}
	rc = weft_policy_parse((const uint8_t *)y, ylen, "out.yaml", &back,
			       &err);
	if (rc != 0) {
		fprintf(stderr,
			"%s: written YAML does not read (%d: %s):\n%s\n", what,
			rc, err.msg, y);
		abort();
	}
	a = fuzz_policy_pack(p, &alen);
	b = fuzz_policy_pack(back, &blen);
	if (alen != blen || memcmp(a, b, alen) != 0) {
		fprintf(stderr, "%s: round trip differs:\n%s\n", what, y);
		abort();
	}
	free(a);
	free(b);
	free(y);
	weft__policy__free_unpacked(back, NULL);
}

/* Packed, p must decode again. */
static void
fuzz_policy_redecode(Weft__Policy *p, const char *what)
{
	Weft__Policy *back;
	weft_err_t err;
	uint8_t *buf;
	size_t len;
	int rc;

	memset(&err, 0, sizeof(err));
	buf = fuzz_policy_pack(p, &len);
	rc = weft_policy_decode(buf, len, &back, &err);
	if (rc == WEFT_ETOOBIG && len > WEFT_POLICY_MAX) {
		free(buf);
		return;
	}
	if (rc != 0) {
		fprintf(stderr, "%s: packed, it does not decode (%d: %s)\n",
			what, rc, err.msg);
		abort();
	}
	weft__policy__free_unpacked(back, NULL);
	free(buf);
}

/* Bind, choose, ask and list: anything goes but a crash. */
static void
fuzz_policy_use(const Weft__Policy *p)
{
	static const char *const roles[] = {"analyst", "a"};
	weft_column_t cols[] = {
	    {"origin", WEFT_T_TEXT, 1, NULL},
	    {"delay", WEFT_T_INT64, 1, NULL},
	    {"distance", WEFT_T_FLOAT64, 1, NULL},
	    {"date", WEFT_T_TIMESTAMP, 1, NULL},
	    {"a", WEFT_T_BOOL, 1, NULL},
	};
	weft_product_info_t pi;
	uint8_t pk[WEFT_PK_BYTES] = {0};
	weft_requester_t r = {"globex", pk, roles, 2};
	const Weft__PolicyGrant *g;
	const char **orgs = NULL;
	weft_err_t err;
	size_t n = 0, i;

	memset(&pi, 0, sizeof(pi));
	pi.name = p->product;
	pi.cols = cols;
	pi.ncols = sizeof(cols) / sizeof(cols[0]);
	memset(&err, 0, sizeof(err));
	(void)weft_policy_bind(p, &pi, "fuzz.yaml", &err);
	g = weft_policy_grant(p, &r, 1700000000LL * 1000000);
	for (i = 0; g != NULL && i < pi.ncols; i++)
		(void)weft_policy_allows(g, cols[i].name);
	if (weft_policy_orgs(p, &orgs, &n) == 0) {
		for (i = 0; i < n; i++)
			if (strlen(orgs[i]) == 0)
				abort();
		free(orgs);
	}
}

static void
fuzz_policy_check(Weft__Policy *p, const char *what)
{
	fuzz_policy_use(p);
	fuzz_policy_redecode(p, what);
	fuzz_policy_roundtrip(p, what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Weft__Policy *p;
	weft_err_t err;

	memset(&err, 0, sizeof(err));
	if (weft_policy_parse(data, size, "fuzz.yaml", &p, &err) == 0) {
		fuzz_policy_check(p, "parsed");
		weft__policy__free_unpacked(p, NULL);
	}
	if (weft_policy_decode(data, size, &p, &err) == 0) {
		fuzz_policy_check(p, "decoded");
		weft__policy__free_unpacked(p, NULL);
	}
	return 0;
}
