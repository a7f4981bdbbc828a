/*
 * odcs.h: Open Data Contract Standard (ODCS) v3 YAML in and out.
 *
 * A contract gives a product's owner, description, tags and schema
 * (column names, types, nullability, descriptions). weft keeps the whole
 * document it was given, so fields it does not understand survive: on
 * output, the fields weft owns are updated in place in that document and
 * everything else is written back as it was.
 */
#ifndef WEFT_STORAGE_ODCS_H
#define WEFT_STORAGE_ODCS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/descriptor.h"

#define WEFT_ODCS_MAX (1u << 20)       /* bytes of YAML accepted */
#define WEFT_ODCS_DEPTH_MAX 64	       /* nesting of YAML collections */
#define WEFT_ODCS_NODES_MAX (1u << 17) /* YAML nodes in one document */

/*
 * Parse an ODCS v3 document (len bytes, need not be NUL-terminated) into a
 * clear *pi: name (from domain + dataProduct, or the schema object name),
 * owner, description, tags, columns; contract_yaml = a copy of the input.
 * `path` names the file in error messages ("c.yaml:12:5: ..."); NULL
 * means "contract".
 *
 * *pi is overwritten (zeroed first, not freed); on success the caller owns
 * it and frees it with weft_product_info_clear(); on failure it is left
 * clear. pi->name is NULL when the document has no `domain`: the caller
 * then names the product itself. Only name, owner, description, tags,
 * cols/ncols and contract_yaml/contract_len are set. docs/odcs.md gives
 * the field and type mapping.
 *
 * Returns 0, or with err filled: WEFT_EPARSE (YAML syntax, invalid UTF-8,
 * aliases, more than one document, a duplicate key among those weft
 * reads), WEFT_ESCHEMA (not a mapping, no schema or no properties, unknown
 * type, duplicate column -- compared ignoring ASCII case -- or a field of
 * the wrong shape), WEFT_EINVAL (bad product or column name, NUL in a
 * string), WEFT_ETOOBIG (over WEFT_ODCS_MAX bytes, WEFT_ODCS_DEPTH_MAX,
 * WEFT_ODCS_NODES_MAX, WEFT_COLS_MAX, WEFT_TAGS_MAX or WEFT_DESC_MAX),
 * WEFT_ENOMEM.
 */
int weft_odcs_parse(const uint8_t *yaml, size_t len, const char *path,
		    weft_product_info_t *pi, weft_err_t *err);

/*
 * Emit pi as an ODCS v3 document into a malloc'd buffer (*out, *len). If pi
 * has contract_yaml, it is the base and unknown fields are kept; otherwise
 * a fresh document is written.
 *
 * With a base, only what would read back differently from pi is changed:
 * domain/dataProduct, the owner (as a top-level customProperties entry
 * `owner`), description.purpose, tags and schema[0].properties (one per
 * column, in pi's order; other keys of an existing property are kept).
 * pi->version, row_count and updated_at, when non-zero, are written as
 * customProperties weftVersion, weftRowCount and weftUpdatedAt. YAML
 * comments and anchors are not kept. weft_odcs_parse() of the output
 * gives back pi's name, owner, description, tags and columns.
 *
 * *out is NUL-terminated (not counted in *len); the caller frees it. On
 * failure *out is NULL and err says why: WEFT_EPARSE etc. if the base does
 * not load, WEFT_EINVAL for text that is not UTF-8, WEFT_ETOOBIG past
 * 4 * WEFT_ODCS_MAX bytes, WEFT_ENOMEM.
 */
int weft_odcs_emit(const weft_product_info_t *pi, uint8_t **out, size_t *len,
		   weft_err_t *err);

#endif
