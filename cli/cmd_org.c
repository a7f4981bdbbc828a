/*
 * cmd_org.c: `weft org create|show` and `weft init`.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"

static void
weft_org_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft org create NAME --out FILE [--json]\n"
	    "       weft org show FILE [--json]\n"
	    "       weft org revoke --org ORG.key --data-dir DIR NODE "
	    "[--reason TEXT]\n\n"
	    "create makes an org root key (Ed25519): FILE holds the secret\n"
	    "(mode 0600; keep it offline), FILE.pub (or NAME.pub beside a\n"
	    "FILE ending in .key) the public part to hand to other orgs.\n"
	    "show prints a key file's name and public key.\n"
	    "revoke revokes a node's certificates (weft org revoke --help).\n");
}

/* "x/acme.key" -> "x/acme.pub"; otherwise append ".pub". */
static void
weft_pub_path(const char *secret, char *out, size_t n)
{
	size_t l = strlen(secret);

	if (l > 4 && strcmp(secret + l - 4, ".key") == 0)
		snprintf(out, n, "%.*s.pub", (int)(l - 4), secret);
	else
		snprintf(out, n, "%s.pub", secret);
}

static void
weft_print_key(const char *kind, const char *name, const uint8_t *pk,
	       const char *secret, const char *pub, int json)
{
	char hex[2 * WEFT_PK_BYTES + 1];

	weft_hex(pk, WEFT_PK_BYTES, hex);
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "kind", kind);
		weft_json_string(&j, "name", name);
		weft_json_string(&j, "public_key", hex);
		if (secret)
			weft_json_string(&j, "secret_file", secret);
		if (pub)
			weft_json_string(&j, "public_file", pub);
		weft_json_end_object(&j);
		(void)weft_cli_json_end(&j);
		return;
	}
	printf("%s %s\npublic key: %s\n", kind, name, hex);
	if (secret)
		printf("secret key: %s (keep it offline)\n", secret);
	if (pub)
		printf("public file: %s\n", pub);
}

int
weft_cmd_org(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"out", required_argument, NULL, 'o'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	weft_err_t err = {0};
	int json = 0, c;

	if (argc >= 2 && strcmp(argv[1], "revoke") == 0)
		return weft_cmd_org_revoke(argc - 1, argv + 1);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'j': json = 1; break;
		case 'h': weft_org_usage(stdout); return 0;
		default: weft_org_usage(stderr); return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "create") == 0) {
		weft_keypair_t *kp = NULL;
		char pub[4096];

		if (optind + 2 != argc || out == NULL) {
			weft_org_usage(stderr);
			return 2;
		}
		if (weft_key_generate(WEFT_KEY_ORG, argv[optind + 1], &kp,
				      &err) != 0) {
			weft_cli_error("org", "%s", err.msg);
			return 1;
		}
		weft_pub_path(out, pub, sizeof(pub));
		if (weft_key_save(kp, out, pub, &err) != 0) {
			weft_cli_error("org", "%s", err.msg);
			weft_key_free(kp);
			return 1;
		}
		weft_print_key("org", kp->name, kp->pk, out, pub, json);
		weft_key_free(kp);
		return 0;
	}
	if (optind < argc && strcmp(argv[optind], "show") == 0) {
		weft_pubkey_t pk;

		if (optind + 2 != argc) {
			weft_org_usage(stderr);
			return 2;
		}
		if (weft_pub_load(argv[optind + 1], &pk, &err) != 0) {
			weft_cli_error("org", "%s", err.msg);
			return 1;
		}
		weft_print_key(pk.kind == WEFT_KEY_ORG ? "org" : "node",
			       pk.name, pk.pk, NULL, NULL, json);
		return 0;
	}
	weft_org_usage(stderr);
	return 2;
}

static void
weft_init_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: weft init --data-dir DIR --org ORG.key --name NAME\n"
	    "                 [--role ROLE]... [--valid-days N]\n"
	    "                 [--network-key FILE | --mesh NAME] [--json]\n"
	    "       weft init --renew --data-dir DIR --org ORG.key "
	    "[--valid-days N]\n\n"
	    "Creates DIR with the node's identity key (node.key, 0600), a\n"
	    "certificate signed by the org root (node.cert; name, roles,\n"
	    "validity window) and an empty store that trusts the org's root.\n"
	    "  --role ROLE      e.g. gateway (repeatable)\n"
	    "  --valid-days N   certificate lifetime (default 365)\n"
	    "  --network-key F  the mesh's network key: 64 hex digits (or 32\n"
	    "                   raw bytes) in file F; nodes without it cannot\n"
	    "                   even learn who answers (docs/protocol.md)\n"
	    "  --mesh NAME      derive the network key from a name: a key\n"
	    "                   anyone who guesses the name has; for demos\n"
	    "With neither, the node starts a new mesh: a random network key,\n"
	    "written to DIR/network.key (0600) to give to the other nodes.\n");
}

/*
 * The mesh network key: from a file (64 hex digits or 32 raw bytes), or
 * BLAKE2b("weft-mesh-v1\0" || mesh name). Prints its own errors.
 */
static int
weft_init_netkey(const char *file, const char *mesh, uint8_t key[32])
{
	static const char label[] = "weft-mesh-v1";
	crypto_generichash_state h;
	weft_err_t err = {0};
	uint8_t *buf = NULL;
	size_t len = 0, a = 0;
	int rc = -1;

	if (file == NULL) {
		if (weft_name_check("mesh", mesh, &err) != 0) {
			weft_cli_error("init", "%s", err.msg);
			return -1;
		}
		crypto_generichash_init(&h, NULL, 0, 32);
		crypto_generichash_update(&h, (const uint8_t *)label,
					  sizeof(label));
		crypto_generichash_update(&h, (const uint8_t *)mesh,
					  strlen(mesh));
		crypto_generichash_final(&h, key, 32);
		return 0;
	}
	if (weft_read_file(file, 256, &buf, &len, &err) != 0) {
		weft_cli_error("init", "%s", err.msg);
		return -1;
	}
	if (len == 32) {
		memcpy(key, buf, 32);
		rc = 0;
	} else {
		while (len > 0 && (buf[len - 1] == '\n' ||
				   buf[len - 1] == '\r' || buf[len - 1] == ' '))
			buf[--len] = 0;
		while (a < len && buf[a] == ' ')
			a++;
		if (weft_unhex((const char *)buf + a, key, 32) == 0)
			rc = 0;
		else
			weft_cli_error("init",
				       "%s: not a network key (want 64 "
				       "hex digits or 32 bytes)",
				       file);
	}
	sodium_memzero(buf, len);
	free(buf);
	return rc;
}

/* Write a new mesh's network key to DIR/network.key (64 hex digits and a
 * newline, 0600, a new file): 0, or an error in err. */
static int
weft_init_write_netkey(const char *dir, const uint8_t key[32], char *path,
		       size_t cap, weft_err_t *err)
{
	char hex[65];
	int fd, n = snprintf(path, cap, "%s/network.key", dir);
	ssize_t w;

	if (n < 0 || (size_t)n >= cap)
		return weft_err_set(err, WEFT_EINVAL, "%s: path too long", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return weft_err_set(err, WEFT_EIO, "%s: %s", path,
				    strerror(errno));
	weft_hex(key, 32, hex);
	hex[64] = '\n';
	w = write(fd, hex, sizeof(hex));
	sodium_memzero(hex, sizeof(hex));
	if (w != (ssize_t)sizeof(hex) || fsync(fd) != 0) {
		int e = errno;

		close(fd);
		return weft_err_set(err, WEFT_EIO, "%s: %s", path,
				    w < 0 || w == (ssize_t)sizeof(hex)
					? strerror(e)
					: "short write");
	}
	if (close(fd) != 0)
		return weft_err_set(err, WEFT_EIO, "%s: %s", path,
				    strerror(errno));
	return 0;
}

/* init's options. */
typedef struct init_opts {
	const char *dir, *orgf, *name, *nkfile, *mesh;
	const char *roles[WEFT_ROLES_MAX];
	size_t nroles;
	long days;
	int json;
} init_opts_t;

/* Parse init's options: 0, -1 after --help, or 2 (usage printed). */
static int
weft_init_args(int argc, char **argv, init_opts_t *o)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"org", required_argument, NULL, 'o'},
	    {"name", required_argument, NULL, 'n'},
	    {"role", required_argument, NULL, 'r'},
	    {"valid-days", required_argument, NULL, 'v'},
	    {"network-key", required_argument, NULL, 'k'},
	    {"mesh", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	char *e;
	int c;

	memset(o, 0, sizeof(*o));
	o->days = 365;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:o:n:r:v:k:m:jh", lo, NULL)) !=
	       -1) {
		switch (c) {
		case 'k': o->nkfile = optarg; break;
		case 'm': o->mesh = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'o': o->orgf = optarg; break;
		case 'n': o->name = optarg; break;
		case 'r':
			if (o->nroles == WEFT_ROLES_MAX) {
				weft_cli_error("init", "at most %d roles",
					       WEFT_ROLES_MAX);
				return 2;
			}
			o->roles[o->nroles++] = optarg;
			break;
		case 'v':
			o->days = strtol(optarg, &e, 10);
			if (*e || o->days < 1 || o->days > 36500) {
				weft_cli_error("init",
					       "--valid-days: want "
					       "1..36500, got \"%s\"",
					       optarg);
				return 2;
			}
			break;
		case 'j': o->json = 1; break;
		case 'h': weft_init_usage(stdout); return -1;
		default: weft_init_usage(stderr); return 2;
		}
	}
	o->dir = weft_cli_data_dir(o->dir);
	if (o->dir == NULL || o->orgf == NULL || o->name == NULL ||
	    optind != argc) {
		weft_init_usage(stderr);
		return 2;
	}
	if (o->nkfile != NULL && o->mesh != NULL) {
		weft_cli_error("init",
			       "give --network-key or --mesh, not both");
		return 2;
	}
	return 0;
}

int
weft_cmd_init(int argc, char **argv)
{
	init_opts_t o;
	weft_nodedir_new_t nn = {0};
	uint8_t netkey[WEFT_HS_KEY_BYTES], fp[8], pk[WEFT_PK_BYTES];
	char fphex[17], hex[2 * WEFT_PK_BYTES + 1], nkpath[4096] = "";
	weft_keypair_t *org = NULL;
	weft_err_t err = {0};
	int rc, i;

	for (i = 1; i < argc; i++) /* a fresh certificate: cmd_renew.c */
		if (strcmp(argv[i], "--renew") == 0)
			return weft_cmd_init_renew(argc, argv);
	if ((rc = weft_init_args(argc, argv, &o)) != 0)
		return rc < 0 ? 0 : rc;
	if (o.nkfile == NULL && o.mesh == NULL)
		randombytes_buf(netkey, sizeof(netkey)); /* a new mesh */
	else if (weft_init_netkey(o.nkfile, o.mesh, netkey) != 0)
		return 1;
	if (o.mesh != NULL)
		fprintf(stderr,
			"weft init: warning: --mesh %s: a network key anyone "
			"who guesses the name can make; fine for a demo, but "
			"to keep strangers out use a random one (weft init "
			"without --mesh writes DIR/network.key)\n",
			o.mesh);
	crypto_generichash(fp, sizeof(fp), netkey, sizeof(netkey), NULL, 0);
	weft_hex(fp, sizeof(fp), fphex);
	rc = 1;
	if (weft_nodedir_fresh(o.dir, &err) != 0 ||
	    weft_key_load(o.orgf, &org, &err) != 0)
		goto fail;
	if (org->kind != WEFT_KEY_ORG) {
		weft_err_set(&err, WEFT_EINVAL, "%s: not an org key", o.orgf);
		goto fail;
	}
	nn.org = org;
	nn.name = o.name;
	nn.roles = o.roles;
	nn.nroles = o.nroles;
	nn.valid_s = (int64_t)o.days * 86400;
	nn.network_key = netkey;
	if (weft_nodedir_create(o.dir, &nn, pk, &err) != 0)
		goto fail;
	if (o.nkfile == NULL && o.mesh == NULL &&
	    weft_init_write_netkey(o.dir, netkey, nkpath, sizeof(nkpath),
				   &err) != 0)
		goto fail;
	weft_hex(pk, WEFT_PK_BYTES, hex);
	if (o.json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		weft_json_begin_object(&j, NULL);
		weft_json_string(&j, "node", o.name);
		weft_json_string(&j, "org", org->name);
		weft_json_string(&j, "public_key", hex);
		weft_json_string(&j, "data_dir", o.dir);
		weft_json_string(&j, "network_key_fingerprint", fphex);
		weft_json_string(&j, "network_key_file",
				 nkpath[0] ? nkpath : o.nkfile);
		weft_json_end_object(&j);
		(void)weft_cli_json_end(&j);
	} else {
		printf("initialised node %s of org %s in %s\npublic key: %s\n"
		       "network key fingerprint: %s (%s%s)\n",
		       o.name, org->name, o.dir, hex, fphex,
		       o.nkfile ? o.nkfile
		       : o.mesh ? "derived from the mesh name "
				: "new, random: ",
		       o.nkfile ? ""
		       : o.mesh ? o.mesh
				: nkpath);
		if (nkpath[0])
			printf(
			    "a new mesh: give %s to every other node "
			    "(weft init --network-key %s); without it no one "
			    "can connect, nor learn who answers\n",
			    nkpath, nkpath);
	}
	rc = 0;
	goto out;
fail:
	weft_cli_error("init", "%s", err.msg);
out:
	sodium_memzero(netkey, sizeof(netkey));
	weft_key_free(org);
	return rc;
}
