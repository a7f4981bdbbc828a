/*
 * testutil.h: shared fixtures for weft's cmocka tests: a temp directory
 * removed afterwards, and an org + node identity to sign with.
 * Header-only (static functions) so each test binary stays one file.
 */
#ifndef WEFT_TESTUTIL_H
#define WEFT_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/identity.h"
#include "lib/util.h"
#include "storage/store.h"

typedef struct weft_test_id {
	weft_keypair_t *org, *node;
	weft_pubkey_t root;
	uint8_t *cert;
	size_t cert_len;
	weft_signer_t signer;
} weft_test_id_t;

static inline int
weft_test_rm_cb(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s;
	(void)f;
	(void)w;
	return remove(p);
}

static inline void
weft_test_rmrf(const char *dir)
{
	nftw(dir, weft_test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *
weft_test_tmpdir(void)
{
	char *d = strdup("/tmp/weft-test-XXXXXX");

	if (d == NULL || mkdtemp(d) == NULL)
		abort();
	return d;
}

/* An org and a node certified by it, valid from nb to na (Unix s). */
static inline void
weft_test_id_make(weft_test_id_t *id, const char *org, const char *node,
		  int64_t nb, int64_t na)
{
	memset(id, 0, sizeof(*id));
	if (weft_key_generate(WEFT_KEY_ORG, org, &id->org, NULL) ||
	    weft_key_generate(WEFT_KEY_NODE, node, &id->node, NULL) ||
	    weft_cert_issue(id->org, node, id->node->pk, NULL, 0, nb, na, 1,
			    &id->cert, &id->cert_len, NULL))
		abort();
	id->root.kind = WEFT_KEY_ORG;
	memcpy(id->root.name, id->org->name, sizeof(id->root.name));
	memcpy(id->root.pk, id->org->pk, WEFT_PK_BYTES);
	id->signer.kp = id->node;
	id->signer.cert = id->cert;
	id->signer.cert_len = id->cert_len;
	id->signer.org = id->org->name;
	id->signer.node = id->node->name;
}

/* A weft_store_check callback printing each problem to the FILE *arg. */
static inline void
weft_test_problem(void *arg, const char *what)
{
	fprintf(arg, "%s\n", what);
}

static inline void
weft_test_id_free(weft_test_id_t *id)
{
	weft_key_free(id->org);
	weft_key_free(id->node);
	free(id->cert);
}

#endif
