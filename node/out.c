/*
 * out.c: the output FIFO every core keeps (out.h).
 */
#include "node/out.h"

#include <stdlib.h>
#include <string.h>

#define OUTQ_KEEP 16 /* a drained queue keeps an array this big */

weft_out_t *
weft_outq_push(weft_outq_t *q, weft_out_kind_t kind)
{
	weft_out_t *o;

	if (q->oq_head > 0 && q->oq_head == q->oq_n)
		q->oq_head = q->oq_n = 0;
	if (q->oq_n == q->oq_cap) {
		size_t cap = q->oq_cap ? q->oq_cap * 2 : 4;
		weft_out_t *p = realloc(q->oq_v, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		q->oq_v = p;
		q->oq_cap = cap;
	}
	o = &q->oq_v[q->oq_n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	return o;
}

void
weft_outq_unpush(weft_outq_t *q)
{
	if (q->oq_n > q->oq_head)
		q->oq_n--;
}

int
weft_outq_pop(weft_outq_t *q, weft_out_t *out)
{
	if (q->oq_head >= q->oq_n) {
		q->oq_head = q->oq_n = 0;
		if (q->oq_cap > OUTQ_KEEP)
			weft_outq_free(q);
		return 0;
	}
	*out = q->oq_v[q->oq_head++];
	return 1;
}

void
weft_outq_free(weft_outq_t *q)
{
	free(q->oq_v);
	memset(q, 0, sizeof(*q));
}
