/*
 * entry.c: signed catalog entries: making, verifying and checking their
 * bodies (see entry.h). No store: bytes in, bytes or a verdict out.
 */
#include "storage/entry.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/revoke.h"
#include "lib/util.h"
#include "storage/policy.h"
#include "weft.pb-c.h"

int
weft_entry_make(const weft_signer_t *signer, int kind, const char *name,
		uint64_t version, int tombstone, int64_t expires_at,
		const uint8_t *body, size_t body_len, uint8_t **out,
		size_t *out_len, weft_err_t *err)
{
	return weft_entry_make_at(signer, kind, name, version, tombstone,
				  expires_at, body, body_len, weft_now_us(),
				  out, out_len, err);
}

int
weft_entry_make_at(const weft_signer_t *signer, int kind, const char *name,
		   uint64_t version, int tombstone, int64_t expires_at,
		   const uint8_t *body, size_t body_len, int64_t issued_at_us,
		   uint8_t **out, size_t *out_len, weft_err_t *err)
{
	Weft__CatalogEntry e = WEFT__CATALOG_ENTRY__INIT;
	uint8_t *buf;
	size_t len;
	int rc;

	e.kind = (Weft__EntryKind)kind;
	e.origin.data = (uint8_t *)signer->kp->pk;
	e.origin.len = WEFT_PK_BYTES;
	e.name = (char *)name;
	e.version = version;
	e.issued_at = issued_at_us;
	e.expires_at = expires_at;
	e.tombstone = tombstone != 0;
	e.body.data = (uint8_t *)body;
	e.body.len = body_len;
	len = weft__catalog_entry__get_packed_size(&e);
	buf = malloc(len ? len : 1);
	if (buf == NULL)
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	weft__catalog_entry__pack(&e, buf);
	rc = weft_envelope_sign(signer->kp, signer->cert, signer->cert_len, buf,
				len, out, out_len, err);
	free(buf);
	return rc;
}

int
weft_entry_verify(const uint8_t *env, size_t len, const weft_trust_t *trust,
		  int64_t now_us, weft_entry_info_t *info, uint8_t **body,
		  size_t *body_len, weft_err_t *err)
{
	Weft__CatalogEntry *e = NULL;
	uint8_t *payload = NULL;
	size_t plen;
	int rc;

	memset(info, 0, sizeof(*info));
	if (body != NULL) {
		*body = NULL;
		*body_len = 0;
	}
	if (len > WEFT_ENTRY_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "catalog entry of %zu bytes is too large",
				    len);
	rc = weft_envelope_open(env, len, trust, now_us / 1000000, &payload,
				&plen, &info->signer, err);
	if (rc != 0)
		return rc;
	e = weft__catalog_entry__unpack(NULL, plen, payload);
	if (e == NULL) {
		rc = weft_err_set(err, WEFT_EPARSE, "malformed catalog entry");
		goto out;
	}
	if (e->kind < WEFT__ENTRY_KIND__ENTRY_NODE ||
	    e->kind > WEFT__ENTRY_KIND__ENTRY_REVOCATION) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "catalog entry of unknown kind %d", e->kind);
		goto out;
	}
	if (e->origin.len != WEFT_PK_BYTES ||
	    memcmp(e->origin.data, info->signer.subject_pk, WEFT_PK_BYTES) !=
		0) {
		rc = weft_err_set(
		    err, WEFT_EINVAL,
		    "catalog entry \"%.64s\" claims another node's origin "
		    "(signed by %s)",
		    e->name, info->signer.subject_name);
		goto out;
	}
	if (e->name[0] == 0 || strlen(e->name) > WEFT_ENTRY_NAME_MAX) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "catalog entry with an empty or long name");
		goto out;
	}
	if (e->version == 0) {
		rc =
		    weft_err_set(err, WEFT_EINVAL,
				 "catalog entry \"%s\" has version 0", e->name);
		goto out;
	}
	if (e->issued_at > now_us + WEFT_CLOCK_SKEW_MAX) {
		rc = weft_err_set(
		    err, WEFT_EINVAL,
		    "catalog entry \"%s\" was issued %lld s "
		    "ahead of this node's clock (at most %lld s "
		    "of skew are allowed)",
		    e->name, (long long)((e->issued_at - now_us) / 1000000),
		    (long long)(WEFT_CLOCK_SKEW_MAX / 1000000));
		goto out;
	}
	if (e->expires_at != 0 && e->expires_at <= now_us) {
		rc = weft_err_set(err, WEFT_EEXPIRED,
				  "catalog entry \"%s\" has expired", e->name);
		goto out;
	}
	info->kind = e->kind;
	memcpy(info->origin, e->origin.data, WEFT_PK_BYTES);
	strcpy(info->name, e->name);
	info->version = e->version;
	info->issued_at = e->issued_at;
	info->expires_at = e->expires_at;
	info->tombstone = e->tombstone;
	if (body != NULL && e->body.len > 0) {
		*body = malloc(e->body.len);
		if (*body == NULL) {
			rc = weft_err_set(err, WEFT_ENOMEM, "out of memory");
			goto out;
		}
		memcpy(*body, e->body.data, e->body.len);
		*body_len = e->body.len;
	}
out:
	if (e != NULL)
		weft__catalog_entry__free_unpacked(e, NULL);
	free(payload);
	return rc;
}

/* A policy's body: a valid weft.Policy (storage/policy.h), filed under
 * the name of the product it is about. */
static int
entry_check_policy(const weft_entry_info_t *info, const uint8_t *body,
		   size_t blen, weft_err_t *err)
{
	Weft__Policy *p = NULL;
	int rc;

	rc = weft_policy_decode(body, blen, &p, err);
	if (rc == 0 && strcmp(p->product, info->name) != 0)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "policy of \"%s\" filed under name \"%s\"",
				  p->product, info->name);
	weft__policy__free_unpacked(p, NULL);
	return rc;
}

/* A revocation parses and is filed under its subject's and root's keys
 * (weft_revocation_name); its signature is the org root's, checked by who
 * acts on it against its trusted roots (the gossip core). */
static int
entry_check_revocation(const weft_entry_info_t *info, const uint8_t *body,
		       size_t blen, weft_err_t *err)
{
	weft_revocation_t r;
	char want[WEFT_REVOCATION_NAME + 1];
	int rc = weft_revocation_check(body, blen, NULL, &r, err);

	if (rc != 0)
		return rc;
	if (strcmp(weft_revocation_name(&r.key, want), info->name) != 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "revocation of node %.16s... filed under "
				    "the name \"%.16s...\"",
				    want, info->name);
	return 0;
}

/* A failure report names its subject (the name is the subject's key in
 * hex: one report per reporter and subject), reports a version of the
 * subject's record no later than its own making, and expires within
 * WEFT_REPORT_TTL_MAX of it: a report cannot mark a node failed forever
 * nor for a version the node has yet to issue. */
static int
entry_check_report(const weft_entry_info_t *info, const uint8_t *body,
		   size_t blen, weft_err_t *err)
{
	Weft__FailureReport *r = weft__failure_report__unpack(NULL, blen, body);
	char hex[2 * WEFT_PK_BYTES + 1];
	int rc = 0;

	if (r == NULL)
		return weft_err_set(err, WEFT_EPARSE,
				    "failure report \"%.16s...\": the body "
				    "does not parse",
				    info->name);
	if (r->subject.len != WEFT_PK_BYTES)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "failure report \"%.16s...\": its subject "
				  "is not a node key",
				  info->name);
	else if (strcmp(weft_hex(r->subject.data, WEFT_PK_BYTES, hex),
			info->name) != 0)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "failure report about node %.16s... filed "
				  "under the name \"%.16s...\"",
				  hex, info->name);
	else if (r->subject_version == 0 || r->subject_version > info->version)
		rc = weft_err_set(
		    err, WEFT_EINVAL,
		    "failure report about node %.16s...: it reports version "
		    "%llu of the node's record, later than the report itself "
		    "(%llu)",
		    hex, (unsigned long long)r->subject_version,
		    (unsigned long long)info->version);
	else if (info->expires_at <= 0 ||
		 (uint64_t)info->expires_at >
		     info->version + (uint64_t)WEFT_REPORT_TTL_MAX)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "failure report about node %.16s...: it "
				  "must expire within %lld s of being made",
				  hex,
				  (long long)(WEFT_REPORT_TTL_MAX / 1000000));
	weft__failure_report__free_unpacked(r, NULL);
	return rc;
}

/* A node record: the only one of its origin (name "node"), small, and
 * a weft.NodeRecord. */
static int
entry_check_node(const weft_entry_info_t *info, const uint8_t *body,
		 size_t blen, weft_err_t *err)
{
	Weft__NodeRecord *r;

	if (strcmp(info->name, "node") != 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "node record of %s filed under the name "
				    "\"%.64s\"",
				    info->signer.subject_name, info->name);
	if (blen > WEFT_NODE_RECORD_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "node record of %s: %zu bytes (at most %u)",
				    info->signer.subject_name, blen,
				    (unsigned)WEFT_NODE_RECORD_MAX);
	if ((r = weft__node_record__unpack(NULL, blen, body)) == NULL)
		return weft_err_set(err, WEFT_EPARSE,
				    "node record of %s does not parse",
				    info->signer.subject_name);
	weft__node_record__free_unpacked(r, NULL);
	return 0;
}

int
weft_entry_check_body(const weft_entry_info_t *info, const uint8_t *body,
		      size_t blen, weft_err_t *err)
{
	weft_product_info_t pi;
	int rc;

	/* a drop says which entry it drops, nothing more */
	if (info->tombstone && blen > 0)
		return weft_err_set(err, WEFT_EINVAL,
				    "catalog entry \"%.64s\": a drop with a "
				    "body of %zu bytes",
				    info->name, blen);
	if (info->kind == WEFT_ENTRY_NODE && !info->tombstone)
		return entry_check_node(info, body, blen, err);
	if (info->kind == WEFT_ENTRY_REPORT && blen > WEFT_REPORT_MAX)
		return weft_err_set(err, WEFT_ETOOBIG,
				    "failure report of %s: %zu bytes (at most "
				    "%u)",
				    info->signer.subject_name, blen,
				    (unsigned)WEFT_REPORT_MAX);

	if (info->kind == WEFT_ENTRY_POLICY && !info->tombstone)
		return entry_check_policy(info, body, blen, err);
	if (info->kind == WEFT_ENTRY_REPORT && !info->tombstone)
		return entry_check_report(info, body, blen, err);
	if (info->kind == WEFT_ENTRY_REVOCATION)
		return info->tombstone
			   ? weft_err_set(err, WEFT_EINVAL,
					  "a revocation cannot be dropped")
			   : entry_check_revocation(info, body, blen, err);
	if (info->kind != WEFT_ENTRY_DESCRIPTOR || info->tombstone)
		return 0;
	rc = weft_product_info_decode(body, blen, &pi, err);
	if (rc != 0)
		;
	else if (strcmp(pi.name, info->name) != 0)
		rc = weft_err_set(err, WEFT_EINVAL,
				  "descriptor \"%s\" filed under name \"%s\"",
				  pi.name, info->name);
	else if (strcmp(pi.org ? pi.org : "", info->signer.org_name) != 0 ||
		 strcmp(pi.node ? pi.node : "", info->signer.subject_name) != 0)
		rc = weft_err_set(
		    err, WEFT_EINVAL,
		    "descriptor \"%s\" claims org %s, node %s, but is signed "
		    "by node %s of org %s",
		    info->name, pi.org ? pi.org : "", pi.node ? pi.node : "",
		    info->signer.subject_name, info->signer.org_name);
	weft_product_info_clear(&pi);
	return rc;
}
