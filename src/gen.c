/*
 * gen: see gen.h.
 */
#include <stdlib.h>

#include "gen.h"
#include "inlet.h"

/*
 * gen_new(gs, cfg, owned):
 * A new generation of ${gs} for ${cfg} (taken if ${owned}, else
 * borrowed), numbered after the current one and held once (it is about
 * to be current); not yet current.  NULL if out of memory.
 */
struct gen *
gen_new(struct gens *gs, struct config *cfg, int owned)
{
	struct gen *g;

	if ((g = calloc(1, sizeof(*g))) == NULL)
		return (NULL);
	g->gens = gs;
	g->cfg = cfg;
	g->cfg_owned = owned;
	g->refs = 1;
	g->id = gs->cur != NULL ? gs->cur->id + 1 : 0;
	return (g);
}

/*
 * gen_free(g):
 * Free ${g}: its inlets, its configuration if owned.  NULL does nothing.
 */
void
gen_free(struct gen *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->ninlets; i++)
		inlet_free(g->inlets[i]);
	free(g->inlets);
	if (g->cfg_owned) {
		config_free(g->cfg);
		free(g->cfg);
	}
	free(g);
}

/*
 * Free the retired generations that nothing holds, oldest first, and stop
 * at the oldest one still held: a connection made under generation N may
 * later borrow from a newer one (an outlet connection learns its service
 * after a reload), so generations newer than a held one stay too.
 */
static void
gen_collect(struct gens *gs)
{
	struct gen **gp, **oldest;

	while (gs->retired != NULL) {
		oldest = &gs->retired; /* the list is newest first */
		for (gp = &gs->retired; *gp != NULL; gp = &(*gp)->next)
			oldest = gp;
		if ((*oldest)->refs != 0)
			return;
		gen_free(*oldest);
		*oldest = NULL;
	}
}

/*
 * gen_ref(epoch, delta):
 * The conn context's epoch hook: a connection holds (${delta} 1) or lets
 * go of (-1) the generation ${epoch}; a retired generation nothing holds
 * is freed, with the older ones (gen_collect).
 */
void
gen_ref(void *epoch, int delta)
{
	struct gen *g = epoch;

	g->refs += (unsigned)delta;
	if (g->refs == 0)
		gen_collect(g->gens);
}

/*
 * gen_retire(old):
 * ${old} is no longer current: it joins the retired ones and is freed
 * with the last connection it holds.
 */
void
gen_retire(struct gen *old)
{

	old->next = old->gens->retired;
	old->gens->retired = old;
	gen_ref(old, -1);
}

/*
 * gens_fini(gs):
 * Free every generation of ${gs}, retired and current.
 */
void
gens_fini(struct gens *gs)
{
	struct gen *g;

	while ((g = gs->retired) != NULL) {
		gs->retired = g->next;
		gen_free(g);
	}
	gen_free(gs->cur);
	gs->cur = NULL;
}
