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

#define WEFT_ODCS_MAX (1u << 20) /* bytes of YAML accepted */

/*
 * Parse an ODCS v3 document (len bytes, need not be NUL-terminated) into a
 * clear *pi: name (from domain + dataProduct, or the schema object name),
 * owner, description, tags, columns; contract_yaml = a copy of the input.
 * `path` names the file in error messages ("c.yaml:12:5: ...").
 */
int weft_odcs_parse(const uint8_t *yaml, size_t len, const char *path,
		    weft_product_info_t *pi, weft_err_t *err);

/*
 * Emit pi as an ODCS v3 document into a malloc'd buffer (*out, *len). If pi
 * has contract_yaml, it is the base and unknown fields are kept; otherwise
 * a fresh document is written.
 */
int weft_odcs_emit(const weft_product_info_t *pi, uint8_t **out, size_t *len,
		   weft_err_t *err);

#endif
