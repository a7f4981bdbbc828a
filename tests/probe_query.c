/*
 * probe_query.c: the probe's query modes (see tests/probe.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/util.h"

#include "tests/probe.h"

/*
 * The n-th (from 1) fragment of a WEFT_TRACE_FRAGMENTS file: records of a
 * header line "fragment of P for node N of org O: LEN bytes", LEN bytes,
 * a newline. 0 with *frag (malloc'd) and *len, or -1.
 */
static int
probe_trace_fragment(const char *path, unsigned long n, uint8_t **frag,
		     size_t *len)
{
	uint8_t *buf = NULL;
	size_t blen = 0, at = 0, flen;
	unsigned long k;
	weft_err_t err = {0};

	if (weft_read_file(path, 64u << 20, &buf, &blen, &err) != 0) {
		fprintf(stderr, "probe: %s\n", err.msg);
		return -1;
	}
	for (k = 1;; k++) {
		const uint8_t *nl = memchr(buf + at, '\n', blen - at), *b;

		if (nl == NULL)
			break;
		for (b = nl; b > buf + at && b[-1] != ' '; b--)
			; /* the length: the header's last word but one */
		for (b = b > buf + at ? b - 1 : b; b > buf + at && b[-1] != ' ';
		     b--)
			;
		if (sscanf((const char *)b, "%zu bytes", &flen) != 1 ||
		    flen > blen - (size_t)(nl + 1 - buf))
			break;
		at = (size_t)(nl + 1 - buf);
		if (k == n) {
			*frag = malloc(flen ? flen : 1);
			if (*frag == NULL)
				break;
			memcpy(*frag, buf + at, flen);
			*len = flen;
			free(buf);
			return 0;
		}
		at += flen + 1;
		if (at > blen)
			break;
	}
	fprintf(stderr, "probe: %s: no fragment %lu\n", path, n);
	free(buf);
	return -1;
}

/*
 * qopen: a QueryOpen made by hand (junk fragment, any version) for a
 * product, sent straight to its owner; the owner must refuse what the
 * asker may not read, whatever the fragment.
 */
int
probe_mode_qopen(const probe_opts_t *o)
{
	static const uint8_t junk[] = "not a fragment";
	uint8_t *frag = NULL;
	size_t flen = 0;
	Weft__WireMessage m = WEFT__WIRE_MESSAGE__INIT;
	Weft__QueryOpen q = WEFT__QUERY_OPEN__INIT;
	probe_id_t id = {0};
	probe_link_t l;
	probe_json_t j;
	weft_err_t err = {0};
	int rc = 1, r;

	memset(&l, 0, sizeof(l));
	l.fd = -1;
	if (o->dump != NULL &&
	    probe_trace_fragment(o->dump, o->count ? o->count : 1, &frag,
				 &flen) != 0)
		return 1;
	if (probe_id_load_node(&id, o->data_dir) != 0 ||
	    probe_id_load_mesh(&id, o->data_dir) != 0)
		goto out;
	if (probe_open_session(&l, &id, o, 0) != 0)
		goto out;
	r = probe_link_establish(&l, probe_now_ms() + o->timeout_ms);
	if (r == 0) {
		m.msg_case = WEFT__WIRE_MESSAGE__MSG_QOPEN;
		m.qopen = &q;
		q.qid = 7;
		q.product = (char *)o->product;
		q.fragment.data = frag ? frag : (uint8_t *)junk;
		q.fragment.len = frag ? flen : sizeof(junk) - 1;
		q.credit = 4;
		if (weft_sess_send(l.sess, probe_now_ms(), &m, &err) != 0)
			probe_link_fail(&l, err.msg);
		else
			probe_link_why(
			    &l,
			    probe_link_pump(&l, probe_now_ms() + o->timeout_ms,
					    PROBE_UNTIL_QEND),
			    "a QueryEnd");
		probe_link_goodbye(&l, o->timeout_ms);
	}
	probe_json_begin(&j, o->mode);
	probe_json_link(&j, &l);
	probe_json_bool(&j, "qend", l.qend);
	probe_json_str(&j, "qend_error", l.qend ? l.qend_error : NULL);
	probe_json_str(&j, "error", l.error[0] ? l.error : NULL);
	probe_json_end(&j);
	rc = 0;
out:
	free(frag);
	probe_link_free(&l);
	probe_id_free(&id);
	return rc;
}
