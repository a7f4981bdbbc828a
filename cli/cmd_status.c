/*
 * cmd_status.c: the commands that ask a running agent through its
 * control socket (agent/control.h): `weft status`, `weft peers`, `weft members`.
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

static void
json_strs(const char *key, char **v, size_t n)
{
	size_t i;

	printf(",\"%s\":[", key);
	for (i = 0; i < n; i++) {
		if (i)
			putchar(',');
		weft_json_quote(stdout, v[i], strlen(v[i]));
	}
	putchar(']');
}

static void
json_kv(const char *key, const char *v)
{
	printf(",\"%s\":", key);
	weft_json_quote(stdout, v, strlen(v));
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
		printf("{\"node\":");
		weft_json_quote(stdout, s->node_name, strlen(s->node_name));
		json_kv("org", s->org);
		printf(",\"public_key\":\"%s\"", hex);
		json_strs("roles", s->roles, s->n_roles);
		json_kv("version", s->version);
		printf(",\"pid\":%u,\"started_us\":%lld,\"uptime_s\":%.3f",
		       s->pid, (long long)s->started_us,
		       (double)(s->now_us - s->started_us) / 1e6);
		json_strs("listen", s->listen, s->n_listen);
		json_strs("join", s->join, s->n_join);
		printf(",\"sessions\":%u,\"handshaking\":%u,"
		       "\"handshakes_ok\":%llu,\"handshakes_failed\":%llu,"
		       "\"bad_frames\":%llu,\"refused_limit\":%llu,"
		       "\"timeouts\":%llu,\"slow_peers\":%llu,"
		       "\"cert_not_after\":%lld,\"members\":%u,"
		       "\"members_failed\":%u,\"catalog_entries\":%llu,"
		       "\"gossip_accepted\":%llu,\"gossip_duplicates\":%llu,"
		       "\"gossip_refused\":%llu,\"gossip_throttled\":%llu,"
		       "\"gossip_refused_visibility\":%llu,"
		       "\"gossip_pushes\":%llu,\"gossip_ihaves\":%llu,"
		       "\"gossip_grafts\":%llu,\"gossip_prunes\":%llu}\n",
		       s->sessions, s->handshaking,
		       (unsigned long long)s->handshakes_ok,
		       (unsigned long long)s->handshakes_failed,
		       (unsigned long long)s->bad_frames,
		       (unsigned long long)s->refused_limit,
		       (unsigned long long)s->timeouts,
		       (unsigned long long)s->slow_peers,
		       (long long)s->cert_not_after, s->members,
		       s->members_failed,
		       (unsigned long long)s->catalog_entries,
		       (unsigned long long)s->gossip_accepted,
		       (unsigned long long)s->gossip_duplicates,
		       (unsigned long long)s->gossip_refused,
		       (unsigned long long)s->gossip_throttled,
		       (unsigned long long)s->gossip_refused_visibility,
		       (unsigned long long)s->gossip_pushes,
		       (unsigned long long)s->gossip_ihaves,
		       (unsigned long long)s->gossip_grafts,
		       (unsigned long long)s->gossip_prunes);
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
		printf("members:     %u (%u failed)\ncatalog:     %llu entries; "
		       "gossip: %llu accepted, %llu duplicates, %llu refused, "
		       "%llu throttled, %llu refused at an org boundary\n",
		       s->members, s->members_failed,
		       (unsigned long long)s->catalog_entries,
		       (unsigned long long)s->gossip_accepted,
		       (unsigned long long)s->gossip_duplicates,
		       (unsigned long long)s->gossip_refused,
		       (unsigned long long)s->gossip_throttled,
		       (unsigned long long)s->gossip_refused_visibility);
		printf("tree:        sent %llu pushes, %llu announcements, "
		       "%llu grafts, %llu prunes\n",
		       (unsigned long long)s->gossip_pushes,
		       (unsigned long long)s->gossip_ihaves,
		       (unsigned long long)s->gossip_grafts,
		       (unsigned long long)s->gossip_prunes);
	}
	weft__control_response__free_unpacked(r, NULL);
	return 0;
}

int
weft_cmd_peers(int argc, char **argv)
{
	Weft__ControlResponse *r;
	char hex[2 * WEFT_PK_BYTES + 1], age[32];
	int json, rc;
	int64_t now = weft_now_us();
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_peers_usage,
			      WEFT__CONTROL_OP__CTL_PEERS, &json, &r)) >= 0)
		return rc;
	if (json)
		putchar('[');
	else
		printf("%-16s %-12s %-22s %-4s %-7s %12s %12s %8s\n", "NODE",
		       "ORG", "ADDRESS", "DIR", "AGE", "BYTES IN",
		       "BYTES OUT", "QUEUED");
	for (i = 0; i < r->n_peers; i++) {
		const Weft__PeerInfo *p = r->peers[i];

		if (p->node_key.len != WEFT_PK_BYTES)
			continue;
		weft_hex(p->node_key.data, WEFT_PK_BYTES, hex);
		fmt_age(now - p->since_us, age, sizeof(age));
		if (json) {
			printf("%s{\"node\":", i ? "," : "");
			weft_json_quote(stdout, p->node_name,
				      strlen(p->node_name));
			json_kv("org", p->org);
			printf(",\"public_key\":\"%s\"", hex);
			json_strs("roles", p->roles, p->n_roles);
			json_kv("address", p->address);
			json_kv("listen", p->listen_addr);
			printf(",\"direction\":\"%s\",\"since_us\":%lld,"
			       "\"age_s\":%.3f,\"bytes_in\":%llu,"
			       "\"bytes_out\":%llu,\"msgs_in\":%llu,"
			       "\"msgs_out\":%llu,\"queued\":%llu,"
			       "\"paused\":%s,\"rtt_us\":%lld}",
			       p->outbound ? "out" : "in",
			       (long long)p->since_us,
			       (double)(now - p->since_us) / 1e6,
			       (unsigned long long)p->bytes_in,
			       (unsigned long long)p->bytes_out,
			       (unsigned long long)p->msgs_in,
			       (unsigned long long)p->msgs_out,
			       (unsigned long long)p->queued,
			       p->paused ? "true" : "false",
			       (long long)p->rtt_us);
		} else {
			printf("%-16s %-12s %-22s %-4s %-7s %12llu %12llu "
			       "%8llu%s\n", p->node_name, p->org, p->address,
			       p->outbound ? "out" : "in", age,
			       (unsigned long long)p->bytes_in,
			       (unsigned long long)p->bytes_out,
			       (unsigned long long)p->queued,
			       p->paused ? " (paused)" : "");
		}
	}
	if (json)
		printf("]\n");
	weft__control_response__free_unpacked(r, NULL);
	return 0;
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
	int json, rc;
	size_t i;

	if ((rc = ctl_command(argc, argv, weft_members_usage,
			      WEFT__CONTROL_OP__CTL_MEMBERS, &json, &r)) >= 0)
		return rc;
	if (json)
		putchar('[');
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
			printf("%s{\"node\":", i ? "," : "");
			weft_json_quote(stdout, m->node_name,
				      strlen(m->node_name));
			json_kv("org", m->org);
			printf(",\"public_key\":\"%s\"", hex);
			json_kv("roles", m->roles);
			json_kv("address", m->address);
			json_kv("state", m->state);
			printf(",\"version\":%llu,\"updated_us\":%lld,"
			       "\"connected\":%s}",
			       (unsigned long long)m->version,
			       (long long)m->updated_us,
			       m->connected ? "true" : "false");
		} else {
			printf("%-16s %-12s %-12s %-22s %-7s %s\n",
			       m->node_name, m->org,
			       m->roles[0] ? m->roles : "-", m->address,
			       m->state, ts);
		}
	}
	if (json)
		printf("]\n");
	weft__control_response__free_unpacked(r, NULL);
	return 0;
}
