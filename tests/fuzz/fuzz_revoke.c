/*
 * fuzz_revoke.c: libFuzzer harness for revocations (crypto/revoke.c):
 * hostile bytes as a SignedRevocation, checked for shape only and
 * against the fixture's trusted root; and a valid revocation by that
 * root with the input's bytes XORed into it, which must verify only
 * when unchanged. Nothing may crash, leak or pass a broken signature.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/revoke.h"
#include "node_fixture.h"

static uint8_t *fz_valid; /* a valid revocation by the fixture's root */
static size_t fz_valid_len;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t subject[WEFT_PK_BYTES] = {7};

	(void)argc;
	(void)argv;
	fz_node_fixture();
	if (weft_revocation_make(fz_org, subject, 1700000000000000ll, "fuzz",
				 &fz_valid, &fz_valid_len, NULL) != 0)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t subject[WEFT_PK_BYTES] = {7};
	weft_revocation_t r;
	weft_err_t err = {0};
	uint8_t *buf;
	size_t i;

	(void)weft_revocation_check(data, size, NULL, &r, &err);
	(void)weft_revocation_check(data, size, &fz_trust, &r, &err);
	buf = malloc(fz_valid_len);
	if (buf == NULL)
		abort();
	memcpy(buf, fz_valid, fz_valid_len);
	for (i = 0; i + 1 < size; i += 2)
		buf[data[i] % fz_valid_len] ^= data[i + 1];
	/* whatever still verifies must say what the root signed: the
	 * signature covers the packed statement byte for byte */
	if (weft_revocation_check(buf, fz_valid_len, &fz_trust, &r, &err) ==
		0 &&
	    (memcmp(r.key.org, fz_org->pk, WEFT_PK_BYTES) != 0 ||
	     memcmp(r.key.subject, subject, WEFT_PK_BYTES) != 0 ||
	     r.revoked_at != 1700000000000000ll ||
	     strcmp(r.reason, "fuzz") != 0))
		abort();
	free(buf);
	return 0;
}
