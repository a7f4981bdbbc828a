/*
 * descriptor.h: a data product's descriptor as C sees it, and its
 * conversion to and from weft.ProductDescriptor (the only place that
 * converts).
 *
 * Ownership: every pointer member of weft_product_info_t is malloc'd and
 * owned by the struct; weft_product_info_clear() frees them all and zeroes
 * the struct. A zeroed struct is a valid empty descriptor.
 */
#ifndef WEFT_STORAGE_DESCRIPTOR_H
#define WEFT_STORAGE_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"
#include "storage/chunk.h"

#define WEFT_PRODUCT_NAME_MAX 128 /* "domain.product" */
#define WEFT_COLNAME_MAX 63	  /* PostgreSQL's NAMEDATALEN - 1 */
#define WEFT_COLS_MAX 1024
#define WEFT_DESC_MAX 65536 /* descriptions */
#define WEFT_TAGS_MAX 64
#define WEFT_CONTRACT_MAX (1u << 20) /* ODCS YAML document */

enum { WEFT_VIS_ORG = 0, WEFT_VIS_LISTED = 1, WEFT_VIS_PUBLIC = 2 };

typedef struct weft_column {
	char *name;
	weft_type_t type;
	int nullable;	   /* 1 = may hold NULL */
	char *description; /* may be NULL */
} weft_column_t;

typedef struct weft_product_info {
	char *name;  /* domain.product */
	char *org;   /* owning org */
	char *owner; /* owning team or person */
	char *description;
	char *node; /* hosting node name */
	char **tags;
	size_t ntags;
	weft_column_t *cols;
	size_t ncols;
	uint64_t version;
	uint64_t row_count;
	int64_t created_at, updated_at; /* microseconds */
	int visibility;
	char **visible_to;
	size_t nvisible;
	uint8_t *contract_yaml; /* ODCS document as given; may be NULL */
	size_t contract_len;
} weft_product_info_t;

void weft_product_info_clear(weft_product_info_t *pi);
/* Deep copy src into *dst (dst must be clear). */
int weft_product_info_copy(weft_product_info_t *dst,
			   const weft_product_info_t *src);

/*
 * Product names: "domain.product", each part 1..63 bytes of [a-z0-9_],
 * starting with a letter. 0, or WEFT_EINVAL with a message saying why.
 */
int weft_product_name_check(const char *name, weft_err_t *err);
/* Column names: 1..63 bytes, no control characters. */
int weft_column_name_check(const char *name, weft_err_t *err);

/* Serialize as weft.ProductDescriptor into a malloc'd buffer. */
int weft_product_info_encode(const weft_product_info_t *pi, uint8_t **out,
			     size_t *len);
/* Parse a weft.ProductDescriptor, checking bounds and names. */
int weft_product_info_decode(const uint8_t *buf, size_t len,
			     weft_product_info_t *pi, weft_err_t *err);

/* Append a malloc'd copy of s to a (char **, size_t) list. */
int weft_strlist_add(char ***list, size_t *n, const char *s);

#endif
