/*
 * cmd_renew.c: `weft init --renew`: a fresh certificate for a node's
 * existing key (issue 14, finding 9), issued by the org root that signed
 * the current one, before the old one expires (or after: the org key's
 * holder vouches for the node again).
 *
 * Invariants: node.key is never touched; the new certificate keeps the
 * node's name, roles and key, and is signed by the same org root as the
 * current one (key and name), or nothing is written; node.cert is
 * replaced atomically (a temp file beside it, fsync, rename, the
 * directory fsync'd) with its mode kept. A running agent holds the
 * certificate it read at start and takes the new one at its next start.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"

#define RENEW_MAX_S ((int64_t)36500 * 86400)

static void
weft_renew_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft init --renew --data-dir DIR --org ORG.key\n"
	    "                 [--valid-days N] [--json]\n\n"
	    "Issues a fresh certificate (DIR/node.cert) for the node's\n"
	    "existing key, with the same name and roles, signed by ORG.key,\n"
	    "which must be the root of the org that signed the current one.\n"
	    "node.key, the store and the network key stay. A running agent\n"
	    "takes the new certificate at its next start.\n"
	    "  --valid-days N     lifetime from now (default 365)\n"
	    "  --valid-seconds N  lifetime in seconds: for tests (a\n"
	    "                     certificate that expires while they run)\n");
}

typedef struct renew_opts {
	const char *dir, *orgf;
	int64_t valid_s;
	int json;
} renew_opts_t;

/* A lifetime option: 1..max in unit seconds, else usage error. */
static int
weft_renew_num(const char *opt, const char *arg, long max, int64_t unit,
	       int64_t *out)
{
	char *e;
	long v;

	errno = 0;
	v = strtol(arg, &e, 10);
	if (errno != 0 || e == arg || *e || v < 1 || v > max) {
		weft_cli_error("init", "--%s: want 1..%ld, got \"%s\"", opt,
			       max, arg);
		return 2;
	}
	*out = (int64_t)v * unit;
	return 0;
}

/* Parse --renew's options: 0, -1 after --help, or 2 (usage printed). */
static int
weft_renew_args(int argc, char **argv, renew_opts_t *o)
{
	static const struct option lo[] = {
	    {"renew", no_argument, NULL, 'R'},
	    {"data-dir", required_argument, NULL, 'd'},
	    {"org", required_argument, NULL, 'o'},
	    {"valid-days", required_argument, NULL, 'v'},
	    {"valid-seconds", required_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    /* init's, which a renewal keeps from the current node */
	    {"name", required_argument, NULL, 'x'},
	    {"role", required_argument, NULL, 'x'},
	    {"network-key", required_argument, NULL, 'x'},
	    {"mesh", required_argument, NULL, 'x'},
	    {NULL, 0, NULL, 0},
	};
	int c, li = 0, lifetimes = 0;

	memset(o, 0, sizeof(*o));
	o->valid_s = (int64_t)365 * 86400;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:jh", lo, &li)) != -1) {
		switch (c) {
		case 'R': break;
		case 'd': o->dir = optarg; break;
		case 'o': o->orgf = optarg; break;
		case 'v':
		case 'S':
			if (lifetimes++ > 0) {
				weft_cli_error("init", "give --valid-days or "
						       "--valid-seconds once");
				return 2;
			}
			if (weft_renew_num(lo[li].name, optarg,
					   c == 'v' ? 36500 : (long)RENEW_MAX_S,
					   c == 'v' ? 86400 : 1,
					   &o->valid_s) != 0)
				return 2;
			break;
		case 'j': o->json = 1; break;
		case 'h': weft_renew_usage(stdout); return -1;
		case 'x':
			weft_cli_error("init",
				       "--renew keeps the node's name, roles, "
				       "key and network key: --%s does not "
				       "apply",
				       lo[li].name);
			return 2;
		default: weft_renew_usage(stderr); return 2;
		}
		li = 0;
	}
	o->dir = weft_cli_data_dir(o->dir);
	if (o->dir == NULL || o->orgf == NULL || optind != argc) {
		weft_renew_usage(stderr);
		return 2;
	}
	return 0;
}

/* "2026-11-25T15:34:49Z" for Unix seconds t. */
static void
weft_renew_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%lld", (long long)t);
}

/*
 * DIR is an initialised data directory that is safe to use: it exists,
 * it and its store pass weft_store_dir_safe, and it holds node.key.
 */
static int
weft_renew_dir(const char *dir, weft_err_t *err)
{
	char path[4096];
	struct stat sb;
	int n;

	if (stat(dir, &sb) != 0)
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "%s is not an initialised data directory "
				    "(%s); weft init without --renew makes one",
				    dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "%s is not an initialised data directory "
				    "(not a directory)",
				    dir);
	n = snprintf(path, sizeof(path), "%s/node.key", dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return weft_err_set(err, WEFT_EINVAL, "%s: path too long", dir);
	if (weft_store_dir_safe(dir, err) != 0)
		return err->code;
	if (access(path, F_OK) != 0)
		return weft_err_set(err, WEFT_ENOTFOUND,
				    "%s is not an initialised data directory "
				    "(no %s); weft init without --renew makes "
				    "one",
				    dir, path);
	return 0;
}

/* org's public root as the only trusted one (no revocations). */
static void
weft_renew_root(const weft_keypair_t *org, weft_pubkey_t *root,
		weft_trust_t *trust)
{
	memset(root, 0, sizeof(*root));
	root->kind = WEFT_KEY_ORG;
	memcpy(root->name, org->name, sizeof(root->name));
	memcpy(root->pk, org->pk, WEFT_PK_BYTES);
	memset(trust, 0, sizeof(*trust));
	trust->roots = root;
	trust->n = 1;
}

/*
 * org must be the root that signed the node's current certificate: the
 * same key and name, and the certificate's signature verifies under it
 * (at a moment of its window, so an expired one may be renewed).
 */
static int
weft_renew_same_org(const weft_keypair_t *org, const char *orgf,
		    const weft_node_id_t *id, const char *dir, weft_err_t *err)
{
	char have[2 * WEFT_PK_BYTES + 1], want[2 * WEFT_PK_BYTES + 1];
	weft_pubkey_t root;
	weft_trust_t trust = {0};
	weft_err_t e = {0};

	if (org->kind != WEFT_KEY_ORG)
		return weft_err_set(err, WEFT_EINVAL, "%s: not an org key",
				    orgf);
	if (memcmp(org->pk, id->info.org_pk, WEFT_PK_BYTES) != 0 ||
	    strcmp(org->name, id->info.org_name) != 0)
		return weft_err_set(
		    err, WEFT_ETRUST,
		    "%s is the root of org %s (key %s), but node %s's "
		    "certificate (%s/node.cert) is signed by org %s (key "
		    "%s): renew it with %s's root key",
		    orgf, org->name, weft_hex(org->pk, WEFT_PK_BYTES, have),
		    id->info.subject_name, dir, id->info.org_name,
		    weft_hex(id->info.org_pk, WEFT_PK_BYTES, want),
		    id->info.org_name);
	weft_renew_root(org, &root, &trust);
	if (weft_cert_verify(id->cert, id->cert_len, &trust,
			     id->info.not_before, NULL, &e) != 0)
		return weft_err_set(err, e.code,
				    "%s/node.cert does not verify under org "
				    "%s's key (%s): not renewing it; make a "
				    "new node with weft init",
				    dir, org->name, e.msg);
	return 0;
}

/*
 * Replace DIR/node.cert by cert (len bytes) atomically, keeping the old
 * file's mode: weft_write_file (temp file, fsync, rename), then the
 * directory fsync'd so the rename survives a crash.
 */
static int
weft_renew_write(const char *dir, const uint8_t *cert, size_t len,
		 weft_err_t *err)
{
	char path[4096];
	struct stat sb;
	int fd, rc;

	snprintf(path, sizeof(path), "%s/node.cert", dir);
	if (lstat(path, &sb) != 0)
		return weft_err_set(err, WEFT_EIO, "%s: %s", path,
				    strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return weft_err_set(err, WEFT_EINVAL,
				    "%s: not a regular file: not replacing it",
				    path);
	rc = weft_write_file(path, cert, len, (int)(sb.st_mode & 0777), 0, err);
	if (rc != 0)
		return rc;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0) {
		rc = errno;
		if (fd >= 0)
			close(fd);
		return weft_err_set(err, WEFT_EIO,
				    "%s: written, but the directory %s could "
				    "not be synced: %s",
				    path, dir, strerror(rc));
	}
	close(fd);
	return 0;
}

/* The outcome: the node, its unchanged key, the new window. */
static void
weft_renew_print(const renew_opts_t *o, const weft_node_id_t *id,
		 const weft_cert_info_t *n)
{
	char hex[2 * WEFT_PK_BYTES + 1], from[32], to[32], was[32];
	weft_json_t j;

	weft_hex(n->subject_pk, WEFT_PK_BYTES, hex);
	if (o->json) {
		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "node", n->subject_name);
		weft_json_string(&j, "org", n->org_name);
		weft_json_string(&j, "public_key", hex);
		weft_json_string(&j, "data_dir", o->dir);
		weft_json_int(&j, "not_before", n->not_before);
		weft_json_int(&j, "not_after", n->not_after);
		weft_json_int(&j, "previous_not_after", id->info.not_after);
		weft_json_end_object(&j);
		(void)weft_cli_json_end(&j);
		return;
	}
	weft_renew_time(n->not_before, from);
	weft_renew_time(n->not_after, to);
	weft_renew_time(id->info.not_after, was);
	printf("renewed the certificate of node %s of org %s in %s\n"
	       "public key: %s (unchanged)\n"
	       "valid from %s to %s (the previous one until %s)\n"
	       "a running agent takes it at its next start\n",
	       n->subject_name, n->org_name, o->dir, hex, from, to, was);
}

/* Sign the new certificate for id's key, name and roles with org. */
static int
weft_renew_issue(const weft_keypair_t *org, const weft_node_id_t *id,
		 int64_t valid_s, uint8_t **cert, size_t *len,
		 weft_cert_info_t *info, weft_err_t *err)
{
	const char *roles[WEFT_ROLES_MAX];
	weft_pubkey_t root;
	weft_trust_t trust = {0};
	int64_t now = weft_now_s();
	uint64_t serial;
	size_t i;
	int rc;

	for (i = 0; i < id->info.nroles && i < WEFT_ROLES_MAX; i++)
		roles[i] = id->info.roles[i];
	randombytes_buf(&serial, sizeof(serial));
	/* valid from five minutes ago, as weft init's: clocks differ */
	rc = weft_cert_issue(org, id->info.subject_name, id->kp->pk, roles, i,
			     now - 300, now + valid_s, serial, cert, len, err);
	if (rc != 0)
		return rc;
	weft_renew_root(org, &root, &trust);
	rc = weft_cert_verify(*cert, *len, &trust, now, info, err);
	if (rc != 0) {
		free(*cert);
		*cert = NULL;
	}
	return rc;
}

int
weft_cmd_init_renew(int argc, char **argv)
{
	renew_opts_t o;
	weft_node_id_t id;
	weft_keypair_t *org = NULL;
	weft_cert_info_t ni;
	weft_err_t err = {0};
	uint8_t *cert = NULL;
	size_t len = 0;
	int rc;

	memset(&id, 0, sizeof(id));
	if ((rc = weft_renew_args(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	rc = 1;
	if (weft_renew_dir(o.dir, &err) != 0 ||
	    weft_nodedir_id_load(o.dir, &id, &err) != 0 ||
	    weft_key_load(o.orgf, &org, &err) != 0 ||
	    weft_renew_same_org(org, o.orgf, &id, o.dir, &err) != 0 ||
	    weft_renew_issue(org, &id, o.valid_s, &cert, &len, &ni, &err) !=
		0 ||
	    weft_renew_write(o.dir, cert, len, &err) != 0) {
		weft_cli_error("init", "%s", err.msg);
		goto out;
	}
	weft_renew_print(&o, &id, &ni);
	rc = 0;
out:
	free(cert);
	weft_key_free(org);
	weft_nodedir_id_free(&id);
	return rc;
}
