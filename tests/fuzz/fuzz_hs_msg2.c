/*
 * fuzz_hs_msg2.c: libFuzzer harness for handshake message 2, fed to an
 * initiator that has sent its (honest) message 1. The first input byte
 * picks the split size. Nothing but the genuine responder's message 2 can
 * complete the handshake.
 */
#include "tests/fuzz/hs_fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_init();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	weft_hs_t *i;
	const uint8_t *o;
	size_t ol;
	int rc;

	if (size < 1)
		return 0;
	i = fz_hs(WEFT_HS_INITIATOR, 1);
	if (weft_hs_start(i, &o, &ol, NULL) != 0)
		abort();
	rc = fz_feed(i, data + 1, size - 1, (size_t)data[0] * 19 + 1);
	if (rc == WEFT_HS_DONE)
		abort();
	weft_hs_free(i);
	return 0;
}
