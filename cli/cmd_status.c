/*
 * cmd_status.c: the commands that ask a running agent through its
 * control socket (agent/control.h): `weft status`, `weft peers`, `weft
 * members`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/control.h"
#include "cli/cli.h"
#include "lib/json.h"
#include "lib/util.h"
#include "weft.pb-c.h"

static void
fmt_age(int64_t us, char *out, size_t n)
{
	int64_t s = us / 1000000;

	if (s < 60)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lldm%02llds", (long long)(s / 60),
			 (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, n, "%lldh%02lldm", (long long)(s / 3600),
			 (long long)(s / 60 % 60));
	else
		snprintf(out, n, "%lldd%02lldh", (long long)(s / 86400),
			 (long long)(s / 3600 % 24));
}

/* A JSON array of strings. */
static void
json_strs(weft_json_t *j, const char *key, char **v, size_t n)
{
	size_t i;

	weft_json_begin_array(j, key);
	for (i = 0; i < n; i++)
		weft_json_string(j, NULL, v[i]);
	weft_json_end_array(j);
}

/* A named counter of `weft status --json`. */
typedef struct status_num {
	const char *k;
	uint64_t v;
} status_num_t;

/* `weft status --json`: one object. */
static void
status_json(weft_json_t *j, const Weft__AgentStatus *s, const char *hex)
{
	char up[32];
	const status_num_t c[] = {
	    {"sessions", s->sessions},
	    {"handshaking", s->handshaking},
	    {"handshakes_ok", s->handshakes_ok},
	    {"handshakes_failed", s->handshakes_failed},
	    {"bad_frames", s->bad_frames},
	    {"refused_limit", s->refused_limit},
	    {"timeouts", s->timeouts},
	    {"slow_peers", s->slow_peers},
	};
	const status_num_t g[] = {
	    {"members", s->members},
	    {"members_failed", s->members_failed},
	    {"catalog_entries", s->catalog_entries},
	    {"catalog_bytes", s->catalog_bytes},
	    {"gossip_over_quota", s->gossip_over_quota},
	    {"sig_verifies", s->sig_verifies},
	    {"gossip_accepted", s->gossip_accepted},
	    {"gossip_duplicates", s->gossip_duplicates},
	    {"gossip_refused", s->gossip_refused},
	    {"gossip_throttled", s->gossip_throttled},
	    {"gossip_dropped", s->gossip_dropped},
	    {"gossip_refused_visibility", s->gossip_refused_visibility},
	    {"gossip_pushes", s->gossip_pushes},
	    {"gossip_ihaves", s->gossip_ihaves},
	    {"gossip_grafts", s->gossip_grafts},
	    {"gossip_prunes", s->gossip_prunes},
	    {"gossip_repair_lists", s->gossip_repair_lists},
	    {"gossip_repair_grafts", s->gossip_repair_grafts},
	    {"neighbours", s->neighbours},
	    {"neighbours_max", s->neighbours_max},
	    {"overlay_let_go", s->overlay_let_go},
	    {"overlay_parted", s->overlay_parted},
	    {"overlay_walk_dials", s->overlay_walk_dials},
	    {"queries_asked", s->queries_asked},
	    {"queries_served", s->queries_served},
	    {"queries_refused", s->queries_refused},
	    {"queries_cancelled", s->queries_cancelled},
	    {"audit_written", s->audit_written},
	    {"audit_dropped", s->audit_dropped},
	    {"tunnels", s->tunnels},
	    {"tunnels_opened", s->tunnels_opened},
	    {"tunnels_accepted", s->tunnels_accepted},
	    {"tunnels_failed", s->tunnels_failed},
	    {"tunnel_relayed", s->tunnel_relayed},
	    {"tunnel_relayed_bytes", s->tunnel_relayed_bytes},
	    {"tunnel_refused", s->tunnel_refused},
	};
	size_t k;

	snprintf(up, sizeof(up), "%.3f",
		 (double)(s->now_us - s->started_us) / 1e6);
	weft_json_begin_object(j, NULL);
	weft_json_string(j, "node", s->node_name);
	weft_json_string(j, "org", s->org);
	weft_json_string(j, "public_key", hex);
	json_strs(j, "roles", s->roles, s->n_roles);
	weft_json_string(j, "version", s->version);
	weft_json_uint(j, "pid", s->pid);
	weft_json_int(j, "started_us", s->started_us);
	weft_json_raw(j, "uptime_s", up, strlen(up));
	json_strs(j, "listen", s->listen, s->n_listen);
	json_strs(j, "join", s->join, s->n_join);
	for (k = 0; k < sizeof(c) / sizeof(c[0]); k++)
		weft_json_uint(j, c[k].k, c[k].v);
	weft_json_int(j, "cert_not_after", s->cert_not_after);
	for (k = 0; k < sizeof(g) / sizeof(g[0]); k++)
		weft_json_uint(j, g[k].k, g[k].v);
	weft_json_end_object(j);
}

/* One session of `weft peers --json`. */
static void
peer_json(weft_json_t *j, const Weft__PeerInfo *p, const char *hex, int64_t now)
{
	char age[32];

	snprintf(age, sizeof(age), "%.3f", (double)(now - p->since_us) / 1e6);
	weft_json_begin_object(j, NULL);
	weft_json_string(j, "node", p->node_name);
	weft_json_string(j, "org", p->org);
	weft_json_string(j, "public_key", hex);
	json_strs(j, "roles", p->roles, p->n_roles);
	weft_json_string(j, "address", p->address);
	weft_json_string(j, "listen", p->listen_addr);
	weft_json_string(j, "direction", p->outbound ? "out" : "in");
	weft_json_int(j, "since_us", p->since_us);
	weft_json_raw(j, "age_s", age, strlen(age));
	weft_json_uint(j, "bytes_in", p->bytes_in);
	weft_json_uint(j, "bytes_out", p->bytes_out);
	weft_json_uint(j, "msgs_in", p->msgs_in);
	weft_json_uint(j, "msgs_out", p->msgs_out);
	weft_json_uint(j, "queued", p->queued);
	weft_json_bool(j, "paused", p->paused);
	weft_json_int(j, "rtt_us", p->rtt_us);
	weft_json_end_object(j);
}

/* One member of `weft members --json`. */
static void
member_json(weft_json_t *j, const Weft__MemberInfo *m, const char *hex)
{
	weft_json_begin_object(j, NULL);
	weft_json_string(j, "node", m->node_name);
	weft_json_string(j, "org", m->org);
	weft_json_string(j, "public_key", hex);
	weft_json_string(j, "roles", m->roles);
	weft_json_string(j, "address", m->address);
	weft_json_string(j, "state", m->state);
	weft_json_uint(j, "version", m->version);
	weft_json_int(j, "updated_us", m->updated_us);
	weft_json_bool(j, "connected", m->connected);
	weft_json_end_object(j);
}

static const char weft_status_usage[] =
    "usage: weft status --data-dir DIR [--json] [--wait SECONDS]\n\n"
    "Ask the running agent of DIR who it is and how it is doing: identity,\n"
    "org, roles, uptime, addresses, sessions and refusal counters.\n"
    "  --wait S   wait up to S seconds for the agent to come up\n";

static const char weft_peers_usage[] =
    "usage: weft peers --data-dir DIR [--json] [--wait SECONDS]\n\n"
    "List the running agent's sessions: node, org, address, direction,\n"
    "age, bytes in and out, send queue.\n";

/*
 * The shared front of status, peers and members: parse --data-dir, --json
 * and --wait, then ask the agent for op. Returns -1 with *resp set, or the
 * exit code (0 after --help, 2 usage, 1 no answer; message printed).
 */
static int
ctl_command(int argc, char **argv, const char *usage, Weft__ControlOp op,
	    int *json, Weft__ControlResponse **resp)
{
	static const struct option lo[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"wait", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *d = NULL, *dir;
	weft_err_t err = {0};
	double wait_s = 0;
	char *e;
	int c;

	*json = 0;
	*resp = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'd': d = optarg; break;
		case 'j': *json = 1; break;
		case 'w':
			wait_s = strtod(optarg, &e);
			if (*e || wait_s < 0 || wait_s > 3600) {
				fprintf(stderr, "weft: --wait: want 0..3600 "
						"seconds\n");
				return 2;
			}
			break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "weft: unexpected argument \"%s\"\n",
			argv[optind]);
		return 2;
	}
	if ((dir = weft_cli_data_dir(d)) == NULL)
		return 2;
	if (weft_ctl_call(dir, op, wait_s, resp, &err) != 0) {
		fprintf(stderr, "weft: %s\n", err.msg);
		return 1;
	}
	return -1;
}

int
weft_cmd_status(int argc, char **argv)
{
	Weft__ControlResponse *r;
	const Weft__AgentStatus *s;
	char hex[2 * WEFT_PK_BYTES + 1], age[32];
	int json, rc;
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_status_usage,
			      WEFT__CONTROL_OP__CTL_STATUS, &json, &r)) >= 0)
		return rc;
	s = r->status;
	if (s == NULL || s->node_key.len != WEFT_PK_BYTES) {
		fprintf(stderr, "weft: agent sent an incomplete status\n");
		weft__control_response__free_unpacked(r, NULL);
		return 1;
	}
	weft_hex(s->node_key.data, WEFT_PK_BYTES, hex);
	fmt_age(s->now_us - s->started_us, age, sizeof(age));
	if (json) {
		weft_json_t j;

		weft_json_init(&j, stdout, 0);
		status_json(&j, s, hex);
		rc = weft_cli_json_end(&j);
	} else {
		printf("node:        %s\norg:         %s\npublic key:  %s\n",
		       s->node_name, s->org, hex);
		printf("roles:       ");
		for (i = 0; i < s->n_roles; i++)
			printf("%s%s", i ? ", " : "", s->roles[i]);
		printf("%s\nversion:     %s (pid %u)\nuptime:      %s\n",
		       s->n_roles ? "" : "-", s->version, s->pid, age);
		printf("listen:      %s\n", s->n_listen ? s->listen[0] : "-");
		printf("join:        ");
		for (i = 0; i < s->n_join; i++)
			printf("%s%s", i ? ", " : "", s->join[i]);
		printf("%s\nsessions:    %u up, %u handshaking\n",
		       s->n_join ? "" : "-", s->sessions, s->handshaking);
		printf("handshakes:  %llu ok, %llu failed\n"
		       "refused:     %llu bad frames, %llu over limits, "
		       "%llu timeouts, %llu slow peers\n",
		       (unsigned long long)s->handshakes_ok,
		       (unsigned long long)s->handshakes_failed,
		       (unsigned long long)s->bad_frames,
		       (unsigned long long)s->refused_limit,
		       (unsigned long long)s->timeouts,
		       (unsigned long long)s->slow_peers);
		printf(
		    "members:     %u (%u failed)\ncatalog:     %llu entries, "
		    "%llu bytes; gossip: %llu accepted, %llu duplicates, "
		    "%llu refused, %llu throttled, %llu over quota, %llu "
		    "refused at an org boundary\n",
		    s->members, s->members_failed,
		    (unsigned long long)s->catalog_entries,
		    (unsigned long long)s->catalog_bytes,
		    (unsigned long long)s->gossip_accepted,
		    (unsigned long long)s->gossip_duplicates,
		    (unsigned long long)s->gossip_refused,
		    (unsigned long long)s->gossip_throttled,
		    (unsigned long long)s->gossip_over_quota,
		    (unsigned long long)s->gossip_refused_visibility);
		printf("tree:        sent %llu pushes, %llu announcements, "
		       "%llu grafts, %llu prunes\n",
		       (unsigned long long)s->gossip_pushes,
		       (unsigned long long)s->gossip_ihaves,
		       (unsigned long long)s->gossip_grafts,
		       (unsigned long long)s->gossip_prunes);
		printf("repair:      sent %llu lists, %llu grafts\n",
		       (unsigned long long)s->gossip_repair_lists,
		       (unsigned long long)s->gossip_repair_grafts);
		printf("overlay:     %llu of at most %llu neighbours; let go "
		       "%llu, let go by %llu; %llu joiners dialled\n",
		       (unsigned long long)s->neighbours,
		       (unsigned long long)s->neighbours_max,
		       (unsigned long long)s->overlay_let_go,
		       (unsigned long long)s->overlay_parted,
		       (unsigned long long)s->overlay_walk_dials);
		printf("queries:     asked %llu fragments; served %llu, "
		       "refused %llu, cancelled %llu\n",
		       (unsigned long long)s->queries_asked,
		       (unsigned long long)s->queries_served,
		       (unsigned long long)s->queries_refused,
		       (unsigned long long)s->queries_cancelled);
		printf("tunnels:     %u open (%llu opened, %llu accepted, "
		       "%llu failed); relayed %llu messages, %llu bytes; "
		       "refused %llu\n",
		       s->tunnels, (unsigned long long)s->tunnels_opened,
		       (unsigned long long)s->tunnels_accepted,
		       (unsigned long long)s->tunnels_failed,
		       (unsigned long long)s->tunnel_relayed,
		       (unsigned long long)s->tunnel_relayed_bytes,
		       (unsigned long long)s->tunnel_refused);
	}
	weft__control_response__free_unpacked(r, NULL);
	return json ? rc : 0;
}

int
weft_cmd_peers(int argc, char **argv)
{
	Weft__ControlResponse *r;
	char hex[2 * WEFT_PK_BYTES + 1], age[32];
	weft_json_t j;
	int json, rc;
	int64_t now = weft_now_us();
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_peers_usage,
			      WEFT__CONTROL_OP__CTL_PEERS, &json, &r)) >= 0)
		return rc;
	weft_json_init(&j, stdout, 0);
	if (json)
		weft_json_begin_array(&j, NULL);
	else
		printf("%-16s %-12s %-22s %-4s %-7s %12s %12s %8s\n", "NODE",
		       "ORG", "ADDRESS", "DIR", "AGE", "BYTES IN", "BYTES OUT",
		       "QUEUED");
	for (i = 0; i < r->n_peers; i++) {
		const Weft__PeerInfo *p = r->peers[i];

		if (p->node_key.len != WEFT_PK_BYTES)
			continue;
		weft_hex(p->node_key.data, WEFT_PK_BYTES, hex);
		fmt_age(now - p->since_us, age, sizeof(age));
		if (json) {
			peer_json(&j, p, hex, now);
		} else {
			printf("%-16s %-12s %-22s %-4s %-7s %12llu %12llu "
			       "%8llu%s\n",
			       p->node_name, p->org, p->address,
			       p->outbound ? "out" : "in", age,
			       (unsigned long long)p->bytes_in,
			       (unsigned long long)p->bytes_out,
			       (unsigned long long)p->queued,
			       p->paused ? " (paused)" : "");
		}
	}
	rc = 0;
	if (json) {
		weft_json_end_array(&j);
		rc = weft_cli_json_end(&j);
	}
	weft__control_response__free_unpacked(r, NULL);
	return rc;
}

static const char weft_members_usage[] =
    "usage: weft members --data-dir DIR [--json] [--wait SECONDS]\n\n"
    "List the members of the mesh the running agent knows of (from the\n"
    "signed node records gossiped to it): node, org, roles, address,\n"
    "state (alive, failed, self) and when its record was issued.\n";

int
weft_cmd_members(int argc, char **argv)
{
	Weft__ControlResponse *r;
	char hex[2 * WEFT_PK_BYTES + 1], ts[40];
	weft_json_t j;
	int json, rc;
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_members_usage,
			      WEFT__CONTROL_OP__CTL_MEMBERS, &json, &r)) >= 0)
		return rc;
	weft_json_init(&j, stdout, 0);
	if (json)
		weft_json_begin_array(&j, NULL);
	else
		printf("%-16s %-12s %-12s %-22s %-7s %s\n", "NODE", "ORG",
		       "ROLES", "ADDRESS", "STATE", "RECORD ISSUED");
	for (i = 0; i < r->n_members; i++) {
		const Weft__MemberInfo *m = r->members[i];

		if (m->node_key.len != WEFT_PK_BYTES)
			continue;
		weft_hex(m->node_key.data, WEFT_PK_BYTES, hex);
		weft_fmt_ts(m->updated_us, ts);
		if (json) {
			member_json(&j, m, hex);
		} else {
			printf("%-16s %-12s %-12s %-22s %-7s %s\n",
			       m->node_name, m->org,
			       m->roles[0] ? m->roles : "-", m->address,
			       m->state, ts);
		}
	}
	rc = 0;
	if (json) {
		weft_json_end_array(&j);
		rc = weft_cli_json_end(&j);
	}
	weft__control_response__free_unpacked(r, NULL);
	return rc;
}
