/*
 * func_mask.c: the hash mask of a policy (docs/policy.md, "Masks").
 *
 * The owner rewrites a fragment whose grant masks a column with `hash`
 * so that every use of the column reads weft_mask_hash(col, key)
 * instead (query/serve_rewrite.c). The key is the owner's secret,
 * derived per grant, so the asker can neither invert a hash by trying
 * the few values a column may hold nor link hashes across grants, while
 * equal values hash equal within one grant: joins and GROUP BY on the
 * masked column still work. The column keeps its type: text becomes 32
 * hex digits (128 bits of keyed BLAKE2b), bigint a non-negative bigint
 * (63 bits), so the asker's plan, typed by the descriptor, stays valid.
 */
#include <string.h>

#include <sodium.h>

#include "query/func.h"

#define MASK_KEY 32
#define MASK_TEXT 16 /* bytes of hash shown for text: 32 hex digits */

int
weft_fn_mask_hash(const weft_opnd_t *o, const weft_ectx_t *cx, weft_vec_t *out)
{
	uint8_t key[MASK_KEY], h[MASK_TEXT];
	const weft_str_t *k = &OS(&o[1], 0);
	uint32_t i, n = cx->n;
	size_t klen = 0;

	if (ONUL(&o[1], 0) || k->len != 2 * MASK_KEY ||
	    sodium_hex2bin(key, sizeof(key), k->p, k->len, NULL, &klen, NULL) !=
		0 ||
	    klen != MASK_KEY)
		return weft_fn_err(cx, "mask: a hash key of 64 hex digits");
	for (i = 0; i < n; i++) {
		if (ONUL(&o[0], i)) {
			weft_fn_setnull(out, i);
			continue;
		}
		out->nulls[i] = 0;
		if (out->type == WEFT_S_TEXT) {
			const weft_str_t *s = &OS(&o[0], i);
			char *d =
			    weft_arena_alloc(cx->arena, 2 * MASK_TEXT + 1);

			if (d == NULL) {
				sodium_memzero(key, sizeof(key));
				return weft_fn_nomem(cx);
			}
			crypto_generichash(h, sizeof(h),
					   (const unsigned char *)s->p, s->len,
					   key, sizeof(key));
			sodium_bin2hex(d, 2 * MASK_TEXT + 1, h, sizeof(h));
			out->v.s[i] = (weft_str_t){d, 2 * MASK_TEXT};
		} else {
			uint8_t b[8];
			uint64_t v = (uint64_t)OI(&o[0], i), x = 0;
			int j;

			for (j = 0; j < 8; j++)
				b[j] = (uint8_t)(v >> (8 * j));
			crypto_generichash(h, 8, b, sizeof(b), key,
					   sizeof(key));
			for (j = 0; j < 8; j++)
				x |= (uint64_t)h[j] << (8 * j);
			out->v.i64[i] = (int64_t)(x >> 1);
		}
	}
	sodium_memzero(key, sizeof(key));
	return 0;
}
