/*
 * topo.c: initial overlays of the simulator (topo.h). Generators draw
 * only from the stream they are given; the file reader treats the file
 * as hostile: bounded line length, node numbers and edge count.
 */
#include "sim/topo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine.h"
#include "sim/sim.h"

static int
weft_sim_topo_init(weft_sim_topo_t *t, uint32_t nodes, unsigned orgs)
{
	memset(t, 0, sizeof(*t));
	t->nodes = nodes;
	t->orgs = orgs ? orgs : 1;
	t->org = calloc(nodes ? nodes : 1, 1);
	t->gateway = calloc(nodes ? nodes : 1, 1);
	if (t->org == NULL || t->gateway == NULL) {
		weft_sim_topo_free(t);
		return WEFT_ENOMEM;
	}
	return 0;
}

static int
weft_sim_topo_add(weft_sim_topo_t *t, uint32_t a, uint32_t b)
{
	if (a == b)
		return 0;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 1024;
		weft_sim_edge_t *e;

		if (t->n >= WEFT_SIM_EDGES_MAX)
			return WEFT_ETOOBIG;
		e = realloc(t->e, cap * sizeof(*e));
		if (e == NULL)
			return WEFT_ENOMEM;
		t->e = e;
		t->cap = cap;
	}
	t->e[t->n].a = a;
	t->e[t->n].b = b;
	t->n++;
	return 0;
}

/* random seeds among nodes [lo, lo + n) */
static int
weft_sim_topo_block(weft_sim_topo_t *t, uint32_t lo, uint32_t n, unsigned seeds,
		    uint64_t *rng)
{
	uint32_t i;
	unsigned k;
	int rc;

	for (i = 1; i < n; i++) {
		rc = weft_sim_topo_add(t, lo + i,
				       lo + (uint32_t)weft_sim_below(rng, i));
		if (rc != 0)
			return rc;
		for (k = 1; k < seeds && n > 2; k++) {
			uint32_t j = (uint32_t)weft_sim_below(rng, n - 1);

			if (j >= i)
				j++;
			if ((rc = weft_sim_topo_add(t, lo + i, lo + j)) != 0)
				return rc;
		}
	}
	return 0;
}

int
weft_sim_topo_random(weft_sim_topo_t *t, uint32_t nodes, unsigned seeds,
		     uint64_t *rng)
{
	int rc = weft_sim_topo_init(t, nodes, 1);

	if (rc == 0 && (rc = weft_sim_topo_block(t, 0, nodes, seeds, rng)) != 0)
		weft_sim_topo_free(t);
	return rc;
}

int
weft_sim_topo_seed(weft_sim_topo_t *t, uint32_t nodes)
{
	uint32_t i;
	int rc = weft_sim_topo_init(t, nodes, 1);

	for (i = 1; rc == 0 && i < nodes; i++)
		rc = weft_sim_topo_add(t, i, 0);
	if (rc != 0)
		weft_sim_topo_free(t);
	return rc;
}

int
weft_sim_topo_scale_free(weft_sim_topo_t *t, uint32_t nodes, unsigned m,
			 uint64_t *rng)
{
	uint32_t *ends = NULL, i, j, clique;
	size_t nends = 0;
	int rc = weft_sim_topo_init(t, nodes, 1);

	if (rc != 0)
		return rc;
	if (m < 1)
		m = 1;
	clique = m + 1 < nodes ? m + 1 : nodes;
	/* every edge end once: picking a uniform end picks a node with
	 * probability proportional to its degree */
	ends = malloc(((size_t)nodes * m * 2 + (size_t)clique * clique) *
		      sizeof(*ends));
	if (ends == NULL) {
		rc = WEFT_ENOMEM;
		goto out;
	}
	for (i = 0; i < clique; i++)
		for (j = 0; j < i; j++) {
			if ((rc = weft_sim_topo_add(t, i, j)) != 0)
				goto out;
			ends[nends++] = i;
			ends[nends++] = j;
		}
	for (i = clique; i < nodes; i++) {
		uint32_t pick[16];
		unsigned k = 0, tries = 0, q;

		while (k < m && k < 16 && tries++ < 1000) {
			uint32_t c = nends ? ends[weft_sim_below(rng, nends)]
					   : (uint32_t)weft_sim_below(rng, i);

			for (q = 0; q < k && pick[q] != c; q++)
				;
			if (q == k)
				pick[k++] = c;
		}
		for (q = 0; q < k; q++) {
			if ((rc = weft_sim_topo_add(t, i, pick[q])) != 0)
				goto out;
			ends[nends++] = i;
			ends[nends++] = pick[q];
		}
	}
out:
	free(ends);
	if (rc != 0)
		weft_sim_topo_free(t);
	return rc;
}

int
weft_sim_topo_multi_org(weft_sim_topo_t *t, uint32_t nodes, unsigned orgs,
			unsigned gateways, unsigned seeds, uint64_t *rng,
			weft_err_t *err)
{
	uint32_t o, p, i, j, lo[WEFT_SIM_ORGS_MAX + 1];
	int rc;

	if (orgs < 1 || orgs > WEFT_SIM_ORGS_MAX)
		return weft_err_set(err, WEFT_EINVAL,
				    "--orgs: must be from 1 to %u",
				    WEFT_SIM_ORGS_MAX);
	for (o = 0; o <= orgs; o++)
		lo[o] = (uint32_t)((uint64_t)nodes * o / orgs);
	for (o = 0; o < orgs; o++)
		if (gateways < 1 || gateways > lo[o + 1] - lo[o])
			return weft_err_set(
			    err, WEFT_EINVAL,
			    "--gateways: %u gateways per org, "
			    "but org %u has %u nodes (and needs "
			    "at least one gateway)",
			    gateways, o, lo[o + 1] - lo[o]);
	if ((rc = weft_sim_topo_init(t, nodes, orgs)) != 0)
		return weft_err_set(err, rc, "out of memory");
	for (o = 0; o < orgs; o++) {
		for (i = lo[o]; i < lo[o + 1]; i++) {
			t->org[i] = (uint8_t)o;
			t->gateway[i] = i - lo[o] < gateways;
		}
		if ((rc = weft_sim_topo_block(t, lo[o], lo[o + 1] - lo[o],
					      seeds, rng)) != 0)
			goto fail;
	}
	for (o = 0; o < orgs; o++)
		for (p = o + 1; p < orgs; p++)
			for (i = 0; i < gateways; i++)
				for (j = 0; j < gateways; j++)
					if ((rc = weft_sim_topo_add(
						 t, lo[o] + i, lo[p] + j)) != 0)
						goto fail;
	return 0;
fail:
	weft_sim_topo_free(t);
	return weft_err_set(err, rc, "topology: %s", weft_strerror(rc));
}

/* One unsigned decimal at *p (advanced), at most max. */
static int
weft_sim_topo_num(const char **p, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

/* One line of an edge list: 1 with the edge in *a, *b; 0 for a blank
 * or comment line; WEFT_EPARSE naming path:lineno otherwise. */
static int
weft_sim_topo_line(const char *path, unsigned long lineno, const char *p,
		   uint32_t lim, uint32_t *a, uint32_t *b, weft_err_t *err)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '#' || *p == '\n' || *p == '\r' || *p == 0)
		return 0;
	if (weft_sim_topo_num(&p, lim, a) != 0 || (*p != ' ' && *p != '\t'))
		goto two;
	while (*p == ' ' || *p == '\t')
		p++;
	if (weft_sim_topo_num(&p, lim, b) != 0)
		goto two;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p != 0 && *p != '#')
		return weft_err_set(err, WEFT_EPARSE,
				    "%s:%lu: unexpected "
				    "text after \"A B\"",
				    path, lineno);
	if (*a == *b)
		return weft_err_set(err, WEFT_EPARSE,
				    "%s:%lu: node %u linked "
				    "to itself",
				    path, lineno, *a);
	return 1;
two:
	return weft_err_set(err, WEFT_EPARSE,
			    "%s:%lu: expected \"A B\": two "
			    "node numbers from 0 to %u",
			    path, lineno, lim);
}

int
weft_sim_topo_file(weft_sim_topo_t *t, const char *path, uint32_t nodes,
		   weft_err_t *err)
{
	FILE *f = fopen(path, "r");
	char line[WEFT_SIM_LINE_MAX + 2];
	weft_sim_edge_t *tmp = NULL;
	size_t ntmp = 0, cap = 0, i;
	uint32_t maxn = 0, lim = nodes ? nodes - 1 : WEFT_SIM_NODES_MAX - 1;
	unsigned long lineno = 0;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (f == NULL)
		return weft_err_set(err, -errno, "%s: %s", path,
				    strerror(errno));
	for (;;) {
		uint32_t a = 0, b = 0;
		size_t n = 0;
		int c = 0, nul = 0;

		while (n <= WEFT_SIM_LINE_MAX && (c = getc(f)) != EOF &&
		       c != '\n') {
			nul |= c == 0;
			line[n++] = (char)c;
		}
		if (n == 0 && c == EOF)
			break;
		line[n] = 0;
		lineno++;
		if (n > WEFT_SIM_LINE_MAX) {
			rc = weft_err_set(err, WEFT_EPARSE,
					  "%s:%lu: line longer than %d bytes",
					  path, lineno, WEFT_SIM_LINE_MAX);
			goto out;
		}
		if (nul) {
			rc = weft_err_set(err, WEFT_EPARSE, "%s:%lu: NUL byte",
					  path, lineno);
			goto out;
		}
		rc = weft_sim_topo_line(path, lineno, line, lim, &a, &b, err);
		if (rc < 0)
			goto out;
		if (rc == 0)
			continue;
		rc = 0;
		if (ntmp == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			weft_sim_edge_t *e;

			if (ntmp >= WEFT_SIM_EDGES_MAX) {
				rc = weft_err_set(err, WEFT_ETOOBIG,
						  "%s:%lu: more than %u edges",
						  path, lineno,
						  WEFT_SIM_EDGES_MAX);
				goto out;
			}
			e = realloc(tmp, nc * sizeof(*e));
			if (e == NULL) {
				rc = weft_err_set(err, WEFT_ENOMEM,
						  "out of memory");
				goto out;
			}
			tmp = e;
			cap = nc;
		}
		tmp[ntmp].a = a;
		tmp[ntmp].b = b;
		ntmp++;
		if (a > maxn)
			maxn = a;
		if (b > maxn)
			maxn = b;
	}
	if (ferror(f)) {
		rc = weft_err_set(err, WEFT_EIO, "%s: read error", path);
		goto out;
	}
	if (ntmp == 0) {
		rc = weft_err_set(err, WEFT_EPARSE, "%s: no edges", path);
		goto out;
	}
	if ((rc = weft_sim_topo_init(t, nodes ? nodes : maxn + 1, 1)) != 0) {
		rc = weft_err_set(err, rc, "out of memory");
		goto out;
	}
	for (i = 0; i < ntmp; i++)
		if ((rc = weft_sim_topo_add(t, tmp[i].a, tmp[i].b)) != 0) {
			weft_sim_topo_free(t);
			rc = weft_err_set(err, rc, "out of memory");
			goto out;
		}
out:
	free(tmp);
	fclose(f);
	return rc;
}

void
weft_sim_topo_free(weft_sim_topo_t *t)
{
	free(t->org);
	free(t->gateway);
	free(t->e);
	memset(t, 0, sizeof(*t));
}

int
weft_sim_topo_make(weft_sim_topo_t *t, const weft_sim_cfg_t *c, weft_err_t *err)
{
	uint64_t rng = weft_sim_mix(c->seed, 0x7070);
	int rc;

	switch (c->topology) {
	case WEFT_SIM_TOPO_FILE:
		return weft_sim_topo_file(t, c->topo_file, c->nodes, err);
	case WEFT_SIM_TOPO_MULTI_ORG:
		return weft_sim_topo_multi_org(
		    t, c->nodes, c->orgs, c->gateways, c->seeds, &rng, err);
	case WEFT_SIM_TOPO_SEED: rc = weft_sim_topo_seed(t, c->nodes); break;
	case WEFT_SIM_TOPO_SCALE_FREE:
		rc = weft_sim_topo_scale_free(t, c->nodes, c->seeds, &rng);
		break;
	default: rc = weft_sim_topo_random(t, c->nodes, c->seeds, &rng); break;
	}
	return rc ? weft_err_set(err, rc, "topology: %s", weft_strerror(rc))
		  : 0;
}

int
weft_sim_topo_adjacency(const weft_sim_topo_t *t, uint32_t n, uint32_t **off,
			uint32_t **adj, weft_err_t *err)
{
	uint32_t i, *fill, *o, *a;
	size_t k;

	*off = o = calloc((size_t)n + 1, sizeof(*o));
	*adj = a = malloc((t->n * 2 + 1) * sizeof(*a));
	fill = calloc((size_t)n + 1, sizeof(*fill));
	if (o == NULL || a == NULL || fill == NULL) {
		free(fill);
		return weft_err_set(err, WEFT_ENOMEM, "out of memory");
	}
	for (k = 0; k < t->n; k++) {
		o[t->e[k].a + 1]++;
		o[t->e[k].b + 1]++;
	}
	for (i = 0; i < n; i++)
		o[i + 1] += o[i];
	for (k = 0; k < t->n; k++) {
		uint32_t x = t->e[k].a, y = t->e[k].b;

		a[o[x] + fill[x]++] = y | 0x80000000u;
		a[o[y] + fill[y]++] = x;
	}
	free(fill);
	return 0;
}
