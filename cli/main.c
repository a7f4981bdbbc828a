/*
 * main.c: the `weft` binary: dispatch to subcommands, top-level help.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} weft_cmds[] = {
    {"org", weft_cmd_org, "create or show an org root key"},
    {"init", weft_cmd_init, "create a node's data directory and identity"},
    {"publish", weft_cmd_publish,
     "publish a CSV or JSON Lines file as a "
     "data product"},
    {"products", weft_cmd_products, "list the products this node hosts"},
    {"describe", weft_cmd_describe,
     "show a product's descriptor (or ODCS "
     "contract)"},
    {"drop", weft_cmd_drop, "drop a product"},
    {"check", weft_cmd_check, "verify the store's integrity"},
    {"trust", weft_cmd_trust, "add, list or remove trusted org roots"},
    {"policy", weft_cmd_policy,
     "set, show, list or drop who may read a product, and how"},
    {"audit", weft_cmd_audit,
     "list the remote queries this node answered or refused"},
    {"query", weft_cmd_query, "run SQL over this node's products"},
    {"profile", weft_cmd_profile, "profile a product's columns where it lives"},
    {"agent", weft_cmd_agent, "run the node: sessions with the mesh"},
    {"status", weft_cmd_status, "show the running agent's state"},
    {"peers", weft_cmd_peers, "list the running agent's sessions"},
    {"members", weft_cmd_members, "list the mesh's members (gossip)"},
    {"catalog", weft_cmd_catalog, "list or search the mesh's catalog"},
    {"sim", weft_cmd_sim,
     "simulate a mesh: the real gossip cores over a virtual network"},
};

#define WEFT_NCMDS (sizeof(weft_cmds) / sizeof(weft_cmds[0]))

static void
weft_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: weft COMMAND [OPTIONS]\n\n"
		   "weft is a peer-to-peer data mesh node.\n\nCommands:\n");
	for (i = 0; i < WEFT_NCMDS; i++)
		fprintf(f, "  %-10s %s\n", weft_cmds[i].name,
			weft_cmds[i].help);
	fprintf(f, "  %-10s %s\n", "version", "print the version");
	fprintf(f, "\nRun 'weft COMMAND --help' for a command's options.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		weft_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		if (argc > 2) {
			for (i = 0; i < WEFT_NCMDS; i++)
				if (strcmp(argv[2], weft_cmds[i].name) == 0) {
					char *a[] = {argv[2], "--help", NULL};

					return weft_cmds[i].fn(2, a);
				}
		}
		weft_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("weft %s\n", WEFT_VERSION);
		return 0;
	}
	for (i = 0; i < WEFT_NCMDS; i++)
		if (strcmp(argv[1], weft_cmds[i].name) == 0)
			return weft_cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "weft: unknown command \"%s\"\n\n", argv[1]);
	weft_usage(stderr);
	return 2;
}
