/*
 * fuzz_hs_msg3.c: libFuzzer harness for handshake message 3, fed to a
 * responder that has received the honest message 1 and answered with
 * message 2. The first input byte picks the split size.
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
	weft_hs_t *r;
	int rc;

	if (size < 1)
		return 0;
	r = fz_hs(WEFT_HS_RESPONDER, 2);
	if (fz_feed(r, fz.m1, sizeof(fz.m1), sizeof(fz.m1)) != WEFT_HS_CONTINUE)
		abort();
	rc = fz_feed(r, data + 1, size - 1, (size_t)data[0] * 19 + 1);
	if (rc == WEFT_HS_DONE)
		abort();
	weft_hs_free(r);
	return 0;
}
