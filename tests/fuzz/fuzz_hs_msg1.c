/*
 * fuzz_hs_msg1.c: libFuzzer harness for handshake message 1, fed to a
 * fresh responder. The first input byte picks a split size and a mode: in
 * "honest MAC" mode the harness recomputes message 1's HMAC with the
 * network key (and dates it now), so the fuzzer also reaches the key
 * agreement and message 2 (e.g. low-order ephemeral keys).
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
	uint8_t *m;
	size_t split;
	int rc;

	if (size < 1)
		return 0;
	split = (size_t)(data[0] >> 1) % 80 + 1;
	m = malloc(size);
	if (m == NULL)
		abort();
	memcpy(m, data + 1, size - 1);
	if ((data[0] & 1) && size - 1 >= WEFT_HS_MSG1_BYTES) {
		uint8_t mac[16 + 40];
		uint64_t t = FZ_NOW;
		int k;

		for (k = 0; k < 8; k++)
			m[32 + k] = (uint8_t)(t >> (56 - 8 * k));
		memcpy(mac, "weft-hs-v1-msg1", 16);
		memcpy(mac + 16, m, 40);
		crypto_auth(m + 40, mac, sizeof(mac), fz.nk);
	}
	r = fz_hs(WEFT_HS_RESPONDER, 2);
	rc = fz_feed(r, m, size - 1, split);
	/* Only a well-authenticated message 1 may get an answer. */
	if (rc == WEFT_HS_DONE)
		abort();
	weft_hs_free(r);
	free(m);
	return 0;
}
