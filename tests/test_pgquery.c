/*
 * test_pgquery.c: libpg_query and weft's protobuf-c code in one process.
 *
 * Debian's libpg_query.so exports its own copy of the protobuf_c_* runtime
 * symbols, so a binary linking both it and libprotobuf-c gets whichever the
 * dynamic linker finds first. They share the 1.4 ABI today; this test
 * unpacks a libpg_query parse tree and packs/unpacks a weft message in the
 * same process, so an ABI mismatch shows up here as a failure, not as a
 * crash in production (DESIGN.md, "Known pitfall").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "weft.pb-c.h"

static void
test_both_runtimes(void **state)
{
	PgQueryProtobufParseResult r;
	PgQuery__ParseResult *tree;
	Weft__CatalogEntry e = WEFT__CATALOG_ENTRY__INIT, *back;
	uint8_t buf[256];
	size_t len;

	(void)state;
	r = pg_query_parse_protobuf("SELECT a, count(*) FROM sales.orders "
				    "WHERE b > 1 GROUP BY a");
	assert_null(r.error);
	tree = pg_query__parse_result__unpack(
	    NULL, r.parse_tree.len, (const uint8_t *)r.parse_tree.data);
	assert_non_null(tree);
	assert_int_equal(tree->n_stmts, 1);
	assert_non_null(tree->stmts[0]->stmt);
	assert_int_equal(tree->stmts[0]->stmt->node_case,
			 PG_QUERY__NODE__NODE_SELECT_STMT);
	pg_query__parse_result__free_unpacked(tree, NULL);
	pg_query_free_protobuf_parse_result(r);

	e.kind = WEFT__ENTRY_KIND__ENTRY_DESCRIPTOR;
	e.name = "sales.orders";
	e.version = 7;
	len = weft__catalog_entry__pack(&e, buf);
	back = weft__catalog_entry__unpack(NULL, len, buf);
	assert_non_null(back);
	assert_string_equal(back->name, "sales.orders");
	assert_int_equal(back->version, 7);
	weft__catalog_entry__free_unpacked(back, NULL);

	/* and a syntax error comes back with its position, no crash */
	r = pg_query_parse_protobuf("SELECT FROM WHERE");
	assert_non_null(r.error);
	assert_true(r.error->cursorpos > 0);
	pg_query_free_protobuf_parse_result(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_both_runtimes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
