/*
 * node: the runtime of `sallyport run FILE`, above the roles.  One
 * process, one ev_default_loop, single-threaded.  It owns the process's
 * life: start-up order (the environment every role borrows, the front
 * that owns the [node] listen socket, then the outlet, relay and inlet
 * roles), signals (SIGTERM/SIGINT with the shutdown grace, SIGHUP), the
 * periodic re-signing of the channel credentials, and the end.  Never
 * parses the config (config.c), never touches key files (identity.c),
 * never calls exit() (main.c does).
 */
#ifndef SALLYPORT_NODE_H
#define SALLYPORT_NODE_H

#include <ev.h>

#include "config.h"
#include "env.h"
#include "identity.h"

struct admin;
struct front;
struct inlet;
struct outlet;
struct relay;

struct node {
	struct env env; /* lent to every role */
	struct front *front;   /* the [node] listen socket, or NULL */
	struct outlet *outlet; /* the [outlet NAME] sections, or NULL */
	struct relay *relay;   /* the [relay NAME] sections, or NULL */
	struct inlet **inlets;
	size_t ninlets;
	struct admin *admin;   /* [node] admin =, or NULL */
	ev_signal sigterm, sigint, sighup;
	ev_timer resign, grace;
};

/*
 * node_run(cfg, idn):
 * Run the node described by ${cfg} with the identity ${idn} (both
 * borrowed; crypto_init() has run): resolve the host names in ${cfg}
 * (once, blocking), bind every listener, drop the dump flag, log "ready",
 * serve until SIGTERM/SIGINT and the shutdown grace.  Return 0 after a
 * clean shutdown, -1 if start-up failed (logged).
 */
int node_run(struct config *cfg, const struct identity *idn);

#endif
