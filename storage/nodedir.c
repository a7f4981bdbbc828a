/*
 * nodedir.c: a data directory's own node (nodedir.h).
 */
#include "storage/nodedir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/util.h"

#define NODEDIR_VIA_KEY "trust_via_gateway"
#define NODEDIR_LIST_MAX 4096

int
weft_nodedir_id_load(const char *dir, weft_node_id_t *id, weft_err_t *err)
{
	char path[4096];
	int rc;

	memset(id, 0, sizeof(*id));
	snprintf(path, sizeof(path), "%s/node.key", dir);
	rc = weft_key_load(path, &id->kp, err);
	if (rc != 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/node.cert", dir);
	rc = weft_read_file(path, WEFT_CERT_MAX, &id->cert, &id->cert_len, err);
	if (rc != 0)
		goto fail;
	rc = weft_cert_decode(id->cert, id->cert_len, &id->info, err);
	if (rc != 0) {
		weft_err_prefix(err, "%s", path);
		goto fail;
	}
	if (memcmp(id->info.subject_pk, id->kp->pk, WEFT_PK_BYTES) != 0) {
		rc = weft_err_set(err, WEFT_EINVAL,
				  "%s: certificate is for another key", path);
		goto fail;
	}
	id->signer.kp = id->kp;
	id->signer.cert = id->cert;
	id->signer.cert_len = id->cert_len;
	id->signer.org = id->info.org_name;
	id->signer.node = id->info.subject_name;
	return 0;
fail:
	weft_nodedir_id_free(id);
	return rc;
}

int
weft_nodedir_fresh(const char *dir, weft_err_t *err)
{
	char path[4096];

	struct stat sb;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/node.key", dir);
	if (access(path, F_OK) == 0)
		return weft_err_set(err, WEFT_EEXIST,
				    "%s is already "
				    "initialised (%s exists)",
				    dir, path);
	if (stat(dir, &sb) != 0)
		return 0; /* made 0700 by weft_nodedir_create */
	if ((d = opendir(dir)) == NULL)
		return weft_err_set(err, WEFT_EIO, "%s: cannot read: %s", dir,
				    strerror(errno));
	/* a directory made by someone else may hold a planted store (a
	 * trusted root, a network key) or files weft would take over with
	 * their modes: a new node starts from nothing */
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			break;
	if (de != NULL) {
		weft_err_set(err, WEFT_EEXIST,
			     "%s is not empty (it holds %s): weft init needs a "
			     "new or empty directory",
			     dir, de->d_name);
		closedir(d);
		return WEFT_EEXIST;
	}
	closedir(d);
	return weft_store_dir_safe(dir, err);
}

/* The store of a new node: its org's root trusted, names, network key. */
static int
nodedir_store(const char *dir, const weft_nodedir_new_t *nn, weft_err_t *err)
{
	weft_store_opts_t so = {0};
	weft_store_t *st = NULL;
	weft_pubkey_t root;
	int rc;

	so.create = 1;
	rc = weft_store_open(dir, &so, &st, err);
	if (rc != 0)
		return rc;
	memset(&root, 0, sizeof(root));
	root.kind = WEFT_KEY_ORG;
	memcpy(root.name, nn->org->name, sizeof(root.name));
	memcpy(root.pk, nn->org->pk, WEFT_PK_BYTES);
	if ((rc = weft_store_trust_add(st, &root, err)) != 0 ||
	    (rc = weft_store_meta_put(st, "node", nn->name, strlen(nn->name),
				      err)) != 0 ||
	    (rc = weft_store_meta_put(st, "org", nn->org->name,
				      strlen(nn->org->name), err)) != 0)
		goto out;
	rc = weft_store_meta_put(st, "network_key", nn->network_key,
				 WEFT_HS_KEY_BYTES, err);
out:
	weft_store_close(st);
	return rc;
}

int
weft_nodedir_create(const char *dir, const weft_nodedir_new_t *nn,
		    uint8_t pk[WEFT_PK_BYTES], weft_err_t *err)
{
	char path[4096];
	weft_keypair_t *node = NULL;
	uint8_t *cert = NULL;
	size_t cert_len;
	int64_t now = weft_now_s();
	uint64_t serial;
	int rc;

	if ((rc = weft_nodedir_fresh(dir, err)) != 0)
		return rc;
	snprintf(path, sizeof(path), "%s/node.key", dir);
	rc = weft_key_generate(WEFT_KEY_NODE, nn->name, &node, err);
	if (rc != 0)
		return rc;
	randombytes_buf(&serial, sizeof(serial));
	rc = weft_cert_issue(nn->org, nn->name, node->pk, nn->roles, nn->nroles,
			     now - 300, now + nn->valid_s, serial, &cert,
			     &cert_len, err);
	if (rc != 0)
		goto out;
	if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
		rc = weft_err_set(err, WEFT_EIO, "%s: cannot create directory",
				  dir);
		goto out;
	}
	if ((rc = weft_key_save(node, path, NULL, err)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/node.cert", dir);
	if ((rc = weft_write_file(path, cert, cert_len, 0644, 0, err)) != 0 ||
	    (rc = nodedir_store(dir, nn, err)) != 0)
		goto out;
	memcpy(pk, node->pk, WEFT_PK_BYTES);
out:
	weft_key_free(node);
	free(cert);
	return rc;
}

void
weft_nodedir_id_free(weft_node_id_t *id)
{
	weft_key_free(id->kp);
	free(id->cert);
	memset(id, 0, sizeof(*id));
}

int
weft_nodedir_netkey(weft_store_t *st, uint8_t key[WEFT_HS_KEY_BYTES],
		    weft_err_t *err)
{
	uint8_t *v = NULL;
	size_t l = 0;
	weft_err_t e = {0};
	int rc;

	rc = weft_store_meta_get(st, "network_key", &v, &l, &e);
	if (rc == 0 && l == WEFT_HS_KEY_BYTES) {
		memcpy(key, v, WEFT_HS_KEY_BYTES);
		sodium_memzero(v, l);
		free(v);
		return 0;
	}
	if (v != NULL)
		sodium_memzero(v, l);
	free(v);
	return weft_err_set(
	    err, rc != 0 && rc != WEFT_ENOTFOUND ? rc : WEFT_ENOTFOUND,
	    "%s: no network key in the store (%s); run weft "
	    "init",
	    weft_store_dir(st), e.msg[0] ? e.msg : "wrong length");
}

void
weft_nodedir_via_gateway(weft_store_t *st, char *out, size_t n)
{
	uint8_t *v = NULL;
	size_t l = 0;

	out[0] = 0;
	if (weft_store_meta_get(st, NODEDIR_VIA_KEY, &v, &l, NULL) == 0)
		snprintf(out, n, "%.*s", (int)l, (const char *)v);
	free(v);
}

int
weft_nodedir_set_via_gateway(weft_store_t *st, const char *org, int via,
			     weft_err_t *err)
{
	char cur[NODEDIR_LIST_MAX], out[NODEDIR_LIST_MAX], *tok, *save = NULL;
	size_t off = 0;

	weft_nodedir_via_gateway(st, cur, sizeof(cur));
	out[0] = 0;
	for (tok = strtok_r(cur, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (strcmp(tok, org) != 0)
			off += (size_t)snprintf(out + off, sizeof(out) - off,
						"%s%s", off ? "," : "", tok);
	if (via && off + strlen(org) + 2 < sizeof(out))
		snprintf(out + off, sizeof(out) - off, "%s%s", off ? "," : "",
			 org);
	return weft_store_meta_put(st, NODEDIR_VIA_KEY, out, strlen(out), err);
}
