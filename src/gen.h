/*
 * gen: the generations of a running node.  Each load of the file
 * (start-up, then every reload) is a generation: the configuration and
 * the inlets that borrow from it.  Connections borrow from the generation
 * they were made in, or a newer one (names, addresses), so each one holds
 * the one it was made in (the conn context's epoch, counted in conn.c
 * without knowing what it is), and a retired generation is freed once
 * neither it nor an older one is held.  Never opens a socket or reads a
 * file.
 */
#ifndef SALLYPORT_GEN_H
#define SALLYPORT_GEN_H

#include <stddef.h>

#include "config.h"

struct inlet;
struct gens;

struct gen {
	struct gens *gens;     /* the node's list */
	struct config *cfg;
	int cfg_owned;         /* on the heap, freed with the generation */
	struct inlet **inlets; /* current: one per cfg->inlets[i]; retired:
				  the removed ones that drain */
	size_t ninlets;
	unsigned refs;         /* connections made under it; +1 if current */
	unsigned id;
	struct gen *next;      /* on gens->retired */
};

/* A node's generations: the one in force, the older ones still held. */
struct gens {
	struct gen *cur;
	struct gen *retired; /* newest first */
};

/*
 * gen_new(gs, cfg, owned):
 * A new generation of ${gs} for ${cfg} (taken if ${owned}, else
 * borrowed), numbered after the current one and held once (it is about
 * to be current); not yet current.  NULL if out of memory.
 */
struct gen *gen_new(struct gens *gs, struct config *cfg, int owned);

/*
 * gen_ref(epoch, delta):
 * The conn context's epoch hook: a connection holds (${delta} 1) or lets
 * go of (-1) the generation ${epoch}; a retired generation nothing holds
 * is freed, with the older ones (gen_collect).
 */
void gen_ref(void *epoch, int delta);

/*
 * gen_retire(old):
 * ${old} is no longer current: it joins the retired ones and is freed
 * with the last connection it holds.
 */
void gen_retire(struct gen *old);

/*
 * gen_free(g):
 * Free ${g}: its inlets, its configuration if owned.  NULL does nothing.
 */
void gen_free(struct gen *g);

/*
 * gens_fini(gs):
 * Free every generation of ${gs}, retired and current.
 */
void gens_fini(struct gens *gs);

#endif
