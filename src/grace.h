/*
 * grace: the end of a running node.  SIGTERM or SIGINT stops every part
 * from accepting and gives live connections (and the parts' other live
 * objects: relayed pairs, waiting clients) the shutdown grace; the loop
 * ends once none is left or the grace is over (what is left is dropped).
 * A second signal ends the grace at once.  Never frees a part.
 */
#ifndef SALLYPORT_GRACE_H
#define SALLYPORT_GRACE_H

#include <stddef.h>

#include <ev.h>

#include "env.h"
#include "part.h"

struct grace {
	struct env *env;
	struct part **parts; /* the node's table */
	size_t nparts;
	ev_signal sigterm, sigint;
	ev_timer timer;
	void (*stopping)(void *); /* stop the node's own timers */
	void *arg;
};

/*
 * grace_init(g, e, parts, n, stopping, arg):
 * The end of the node whose environment is ${e} and whose table of parts
 * is ${parts} (${n} rows; both borrowed): at the first signal
 * ${stopping}(${arg}) stops what else the node runs.  ${e}'s conn
 * context and idle hook tell ${g} when a connection or live object ends
 * (e->data and e->ctx.data are ${g}).  Not started.
 */
void grace_init(struct grace *g, struct env *e, struct part **parts,
    size_t n, void (*stopping)(void *), void *arg);

/*
 * grace_start(g):
 * Catch SIGTERM and SIGINT.
 */
void grace_start(struct grace *g);

/*
 * grace_fini(g):
 * Stop the signal watchers and the grace timer.
 */
void grace_fini(struct grace *g);

#endif
