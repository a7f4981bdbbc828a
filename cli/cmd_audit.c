/*
 * cmd_audit.c: `weft audit`: the remote query fragments this node
 * answered or refused, from its audit log (storage/audit.h,
 * docs/audit.md).
 *
 * Only reads: the store is opened as every reading command opens it and
 * walked in one read snapshot while the agent may be appending. Text that
 * came from other nodes (an asker's org, a refusal message quoting its
 * fragment) is printed to a terminal with control characters replaced,
 * so a hostile asker cannot send escape sequences through the log.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "lib/json.h"
#include "lib/utf8.h"
#include "lib/util.h"
#include "storage/audit.h"

static const char weft_audit_usage[] =
    "usage: weft audit --data-dir DIR [--product DOMAIN.PRODUCT] "
    "[--asker ORG]\n"
    "                  [--since TIME] [--refused] [--limit N] [--json]\n\n"
    "Lists the query fragments other nodes sent this node, each answered\n"
    "or refused by it, oldest first: when, which node of which org asked,\n"
    "for which product and version, under which policy version and grant\n"
    "line, what was returned (rows, groups, groups suppressed below a\n"
    "threshold, epsilon of noise spent) or why it was refused. Queries\n"
    "this node runs itself are not recorded. The log keeps at most\n"
    "1,000,000 records by default, dropping the oldest (docs/audit.md).\n\n"
    "  -d, --data-dir DIR   the node's data directory (or $WEFT_DATA_DIR)\n"
    "  -p, --product NAME   only fragments over this product\n"
    "                       (DOMAIN.PRODUCT, as this node publishes it)\n"
    "  -a, --asker ORG      only fragments from nodes of this org\n"
    "  -s, --since TIME     only records at or after TIME: an RFC 3339\n"
    "                       time (2026-12-01T00:00:00Z) or an age before\n"
    "                       now (90s, 15m, 2h, 7d)\n"
    "  -r, --refused        only refused fragments\n"
    "  -n, --limit N        only the newest N matching records (still\n"
    "                       printed oldest first)\n"
    "  -j, --json           a JSON array of objects: at, at_us, asker_org,\n"
    "                       asker_node (hex), product, product_version,\n"
    "                       policy_version, grant_line, frag_hash (hex),\n"
    "                       rows, groups, groups_suppressed, epsilon,\n"
    "                       outcome (answered or refused), error, reason\n"
    "Text output: one line per record; POLICY is the policy version and\n"
    "the line of the grant applied (- for none).\n";

typedef struct aud_opts {
	const char *dir;
	weft_audit_filter_t f;
	int json;
} aud_opts_t;

typedef struct aud_out {
	weft_json_t *j; /* NULL: text */
	uint64_t n;
} aud_out_t;

/* us since the epoch as RFC 3339, UTC, milliseconds. */
static void
aud_time(int64_t us, char out[40])
{
	int64_t ms = us / 1000 - (us % 1000 < 0);
	time_t s = (time_t)(ms / 1000 - (ms % 1000 < 0));
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0) {
		snprintf(out, 40, "@%lld", (long long)us);
		return;
	}
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms - (int64_t)s * 1000));
}

/* s with control characters as ' ' and malformed bytes as '?'; at
 * least pad columns wide. */
static void
aud_text(const char *s, size_t pad)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, n, shown = 0;
	uint32_t cp;

	while (i < len) {
		n = weft_utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			putchar('?');
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			putchar(' ');
		else
			fwrite(p + i, 1, n, stdout);
		shown += n ? (size_t)weft_utf8_cpwidth(cp) : 1;
		i += n ? n : 1;
	}
	for (; shown < pad; shown++)
		putchar(' ');
}

static void
aud_json(weft_json_t *j, const weft_audit_rec_t *r)
{
	char ts[40], pk[2 * WEFT_PK_BYTES + 1], h[2 * sizeof(r->frag_hash) + 1];

	aud_time(r->at_us, ts);
	weft_json_begin_object(j, NULL);
	weft_json_string(j, "at", ts);
	weft_json_int(j, "at_us", r->at_us);
	weft_json_string(j, "asker_org", r->asker_org);
	weft_json_string(j, "asker_node",
			 weft_hex(r->asker_pk, sizeof(r->asker_pk), pk));
	weft_json_string(j, "product", r->product);
	weft_json_uint(j, "product_version", r->product_version);
	weft_json_uint(j, "policy_version", r->policy_version);
	weft_json_uint(j, "grant_line", r->grant_line);
	weft_json_string(j, "frag_hash",
			 weft_hex(r->frag_hash, sizeof(r->frag_hash), h));
	weft_json_uint(j, "rows", r->rows);
	weft_json_uint(j, "groups", r->groups);
	weft_json_uint(j, "groups_suppressed", r->groups_suppressed);
	weft_json_double(j, "epsilon", r->epsilon);
	weft_json_string(j, "outcome", r->outcome ? "refused" : "answered");
	if (r->outcome)
		weft_json_string(j, "error", weft_strerror(r->outcome));
	else
		weft_json_null(j, "error");
	weft_json_string(j, "reason", r->reason);
	weft_json_end_object(j);
}

static void
aud_line(const weft_audit_rec_t *r, uint64_t nth)
{
	char ts[40], pk[2 * WEFT_PK_BYTES + 1], pol[48], eps[32];
	char prod[WEFT_PRODUCT_NAME_MAX + 24];

	if (nth == 0)
		printf("%-24s  %-12s  %-16s  %-28s  %-9s  %10s  %8s  %10s  "
		       "%7s  %s\n",
		       "TIME (UTC)", "ORG", "NODE", "PRODUCT@VERSION", "POLICY",
		       "ROWS", "GROUPS", "SUPPRESSED", "EPSILON", "OUTCOME");
	aud_time(r->at_us, ts);
	weft_hex(r->asker_pk, sizeof(r->asker_pk), pk);
	pk[16] = 0;
	snprintf(prod, sizeof(prod), "%s@%llu",
		 r->product[0] ? r->product : "-",
		 (unsigned long long)r->product_version);
	if (r->policy_version == 0)
		snprintf(pol, sizeof(pol), "-");
	else if (r->grant_line == 0)
		snprintf(pol, sizeof(pol), "%llu/-",
			 (unsigned long long)r->policy_version);
	else
		snprintf(pol, sizeof(pol), "%llu/%u",
			 (unsigned long long)r->policy_version, r->grant_line);
	if (r->epsilon > 0)
		snprintf(eps, sizeof(eps), "%g", r->epsilon);
	else
		snprintf(eps, sizeof(eps), "-");
	printf("%s  ", ts);
	aud_text(r->asker_org[0] ? r->asker_org : "-", 12);
	printf("  %s  ", pk);
	aud_text(prod, 28);
	printf("  %-9s  %10llu  %8llu  %10llu  %7s  ", pol,
	       (unsigned long long)r->rows, (unsigned long long)r->groups,
	       (unsigned long long)r->groups_suppressed, eps);
	if (r->outcome == 0) {
		fputs("answered\n", stdout);
		return;
	}
	fputs("refused: ", stdout);
	aud_text(r->reason[0] ? r->reason : weft_strerror(r->outcome), 0);
	putchar('\n');
}

static int
aud_one(const weft_audit_rec_t *r, void *ctx)
{
	aud_out_t *o = ctx;

	if (o->j != NULL)
		aud_json(o->j, r);
	else
		aud_line(r, o->n);
	o->n++;
	return 0;
}

/* --limit: a positive integer. */
static int
aud_limit(const char *s, uint64_t *n)
{
	char *e;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno || e == s || *e || *s < '0' || *s > '9' || v == 0) {
		weft_cli_error(
		    "audit", "--limit: \"%.40s\" is not a positive integer", s);
		return -1;
	}
	*n = v;
	return 0;
}

/* A --product or --asker value: not empty, within its name's bound. */
static int
aud_name(const char *opt, const char *s, size_t max)
{
	if (*s == 0 || strlen(s) > max) {
		weft_cli_error("audit", "--%s: %s (at most %zu bytes)", opt,
			       *s ? "too long" : "empty", max);
		return -1;
	}
	return 0;
}

/* Options into o: 1 to go on, 0 (help printed), or -1 (usage error,
 * message printed). */
static int
aud_opts(int argc, char **argv, aud_opts_t *o)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"product", required_argument, NULL, 'p'},
	    {"asker", required_argument, NULL, 'a'},
	    {"since", required_argument, NULL, 's'},
	    {"refused", no_argument, NULL, 'r'},
	    {"limit", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	weft_err_t err = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "d:p:a:s:rn:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'p':
			if (aud_name("product", optarg,
				     WEFT_PRODUCT_NAME_MAX) != 0)
				return -1;
			o->f.product = optarg;
			break;
		case 'a':
			if (aud_name("asker", optarg, WEFT_NAME_MAX) != 0)
				return -1;
			o->f.asker_org = optarg;
			break;
		case 's':
			if (weft_audit_parse_since(optarg, weft_now_us(),
						   &o->f.since_us, &err) != 0) {
				weft_cli_error("audit", "--since: %s", err.msg);
				return -1;
			}
			break;
		case 'r': o->f.refused_only = 1; break;
		case 'n':
			if (aud_limit(optarg, &o->f.limit) != 0)
				return -1;
			break;
		case 'j': o->json = 1; break;
		case 'h': fputs(weft_audit_usage, stdout); return 0;
		default: fputs(weft_audit_usage, stderr); return -1;
		}
	}
	if (optind != argc) {
		weft_cli_error("audit", "unexpected argument \"%s\"",
			       argv[optind]);
		fputs(weft_audit_usage, stderr);
		return -1;
	}
	o->dir = weft_cli_data_dir(o->dir);
	return o->dir ? 1 : -1;
}

int
weft_cmd_audit(int argc, char **argv)
{
	aud_opts_t o;
	aud_out_t out = {NULL, 0};
	weft_store_t *st = NULL;
	weft_err_t err = {0};
	weft_json_t j;
	int r, rc;

	memset(&o, 0, sizeof(o));
	r = aud_opts(argc, argv, &o);
	if (r <= 0)
		return r == 0 ? 0 : 2;
	if (weft_cli_open_store(o.dir, &st) != 0)
		return 1;
	if (o.json) {
		weft_json_init(&j, stdout, WEFT_JSON_ROWS);
		weft_json_begin_array(&j, NULL);
		out.j = &j;
	}
	rc = weft_audit_list(st, &o.f, aud_one, &out, &err);
	weft_store_close(st);
	if (o.json) {
		weft_json_end_array(&j);
		if (weft_cli_json_end(&j) != 0 && rc == 0)
			rc = WEFT_EIO;
	}
	if (fflush(stdout) != 0 && rc == 0)
		rc = weft_err_set(&err, WEFT_EIO, "cannot write the output");
	if (rc != 0) {
		weft_cli_error("audit", "%s",
			       err.msg[0] ? err.msg : weft_strerror(rc));
		return 1;
	}
	return 0;
}
