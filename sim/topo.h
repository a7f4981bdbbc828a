/*
 * topo.h: the simulator's initial overlays: who joins whom at start.
 *
 * An edge (a, b) says node a dials node b at start, as `weft agent
 * --join` would: its seed. Edges may repeat and go both ways; a link
 * is made once. Nodes are 0..nodes-1; org[i] and gateway[i] say which
 * org a node is in and whether it has the gateway role (single-org
 * topologies: org 0, no gateways).
 */
#ifndef WEFT_SIM_TOPO_H
#define WEFT_SIM_TOPO_H

#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

#define WEFT_SIM_NODES_MAX 1000000u
#define WEFT_SIM_ORGS_MAX 64u
#define WEFT_SIM_EDGES_MAX 50000000u
#define WEFT_SIM_LINE_MAX 256

typedef struct weft_sim_edge {
	uint32_t a, b;
} weft_sim_edge_t;

typedef struct weft_sim_topo {
	uint32_t nodes;
	unsigned orgs;	  /* >= 1 */
	uint8_t *org;	  /* [nodes] */
	uint8_t *gateway; /* [nodes] */
	weft_sim_edge_t *e;
	size_t n, cap;
} weft_sim_topo_t;

/*
 * random: node i > 0 joins one random node below i (so the overlay is
 * connected) and seeds - 1 more random nodes other than itself.
 */
int weft_sim_topo_random(weft_sim_topo_t *t, uint32_t nodes, unsigned seeds,
			 uint64_t *rng);
/* scale-free (Barabasi-Albert): a clique of m + 1 nodes, then each node
 * joins m distinct nodes chosen with probability proportional to their
 * degree. */
int weft_sim_topo_scale_free(weft_sim_topo_t *t, uint32_t nodes, unsigned m,
			     uint64_t *rng);
/*
 * multi-org: nodes split into `orgs` contiguous blocks; the first
 * `gateways` nodes of each block are its gateways. Within an org, as
 * random; every gateway joins every gateway of the orgs after its own,
 * the only links between orgs. Needs gateways <= nodes per org.
 */
int weft_sim_topo_multi_org(weft_sim_topo_t *t, uint32_t nodes, unsigned orgs,
			    unsigned gateways, unsigned seeds, uint64_t *rng,
			    weft_err_t *err);
/*
 * An edge list file: lines "A B" (node numbers), blank lines and
 * comments from '#' ignored. nodes 0: one more than the largest number.
 * Errors name the file and line ("edges.txt:3: ...").
 */
int weft_sim_topo_file(weft_sim_topo_t *t, const char *path, uint32_t nodes,
		       weft_err_t *err);
/* seed: every node joins node 0, as agents given one --join. */
int weft_sim_topo_seed(weft_sim_topo_t *t, uint32_t nodes);
void weft_sim_topo_free(weft_sim_topo_t *t);

/* The topology c asks for (its --topology, --nodes, --seeds, ...). */
struct weft_sim_cfg;
int weft_sim_topo_make(weft_sim_topo_t *t, const struct weft_sim_cfg *c,
		       weft_err_t *err);
/*
 * Every node's neighbours in t, as CSR arrays: node i's are
 * (*adj)[(*off)[i] .. (*off)[i + 1]), the ones it dials (its seeds) with
 * bit 31 set. Both arrays are the caller's (free). Errors: WEFT_ENOMEM.
 */
int weft_sim_topo_adjacency(const weft_sim_topo_t *t, uint32_t n,
			    uint32_t **off, uint32_t **adj, weft_err_t *err);

#endif
