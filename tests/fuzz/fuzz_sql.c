/*
 * fuzz_sql.c: libFuzzer harness for the SQL front end: parse (libpg_query),
 * bind, type and plan, against a small fixed store (sql_fixture.h)
 * created once in LLVMFuzzerInitialize. Every plan's scan fragments are
 * also encoded to protobuf and decoded again, and the decoded fragment
 * must re-encode to the same bytes: what the planner accepts, the
 * fragment decoder accepts (query/frag.h).
 *
 * Execution is left out on purpose: a fuzzer quickly writes cross joins
 * whose results are astronomically large; the executor is covered by
 * test_query and the differential test.
 *
 * Build: make build/fuzz/fuzz_sql
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query/qint.h"
#include "query/query.h"
#include "sql_fixture.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_fixture_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_snapshot_t *s = NULL;
	weft_query_t *q = NULL;
	weft_err_t err = {0};
	char *sql;

	if (size > 8192)
		return 0;
	sql = malloc(size + 1);
	if (sql == NULL)
		return 0;
	memcpy(sql, data, size);
	sql[size] = 0;
	if (weft_snapshot_begin(fz_st, &s, &err) != 0)
		abort();
	if (weft_query_prepare(s, sql, &q, &err) == 0) {
		wq_frag_t *frs[16];
		size_t n = wq_query_frags(q, frs, 16), i;

		for (i = 0; i < n; i++) {
			uint8_t *a = NULL, *b = NULL;
			size_t la, lb;
			wq_frag_t *back = NULL;

			if (wq_frag_encode(frs[i], &a, &la, &err) != 0)
				abort();
			if (wq_frag_decode(a, la, &back, &err) != 0) {
				fprintf(stderr,
					"fuzz_sql: fragment does not "
					"decode: %s\n",
					err.msg);
				abort();
			}
			if (wq_frag_encode(back, &b, &lb, &err) != 0 ||
			    la != lb || memcmp(a, b, la) != 0)
				abort();
			free(a);
			free(b);
			wq_frag_free(back);
		}
		(void)weft_query_ncols(q);
	} else if (err.msg[0] == 0) {
		abort(); /* every error says what went wrong */
	}
	weft_query_free(q);
	weft_snapshot_end(s);
	free(sql);
	return 0;
}
