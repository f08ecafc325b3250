/*
 * node: the runtime of `sallyport run FILE`, above the roles.  One
 * process, one ev_default_loop, single-threaded.  It owns the process's
 * life: start-up order (the environment every role borrows, the front
 * that owns the [node] listen socket, then the outlet, relay and inlet
 * roles), signals (SIGTERM/SIGINT with the shutdown grace, SIGHUP
 * reload), reload = watch, the periodic re-signing of the channel
 * credentials, and the end.  Never parses the config (config.c), never
 * calls exit() (main.c does).
 */
#ifndef SALLYPORT_NODE_H
#define SALLYPORT_NODE_H

#include <stdint.h>

#include <ev.h>

#include "config.h"
#include "env.h"
#include "gen.h"
#include "identity.h"
#include "part.h"
#include "resolve.h"
#include "rows.h"

/* Where a file was (reload = watch). */
struct node_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_s, mtime_ns;
};

#define NODE_STAMPS (3 + CRED_MAX_BLOCK)

struct node {
	struct env env; /* lent to every role */
	struct gens gens;      /* the configuration in force and its inlets,
				  older ones until their connections end */
	struct part_host host; /* what the parts borrow */
	struct part *parts[ROWS_NODE]; /* the table of parts (rows.c) */
	int level_fixed;       /* the command line set the log level */
	/* The file, the key file, the credential files, the revoked file. */
	struct node_stamp stamp[NODE_STAMPS];
	ev_signal sigterm, sigint, sighup;
	ev_timer resign, grace, watch, expire;
	ev_timer flush; /* reports lines the rate limits left out */
	/*
	 * A reload whose file names a new local address (a listen, admin
	 * or intercept name this file in force does not have) that only DNS
	 * can answer: loaded, waiting for that name (node.c, reload_names).
	 */
	struct config *pending;  /* the file loaded, or NULL */
	const char *pending_why; /* its trigger */
	const char *again;       /* a reload asked for meanwhile, or NULL */
	struct addr *waiting;    /* the name looked up, in pending */
	const char *wrole, *wname; /* its section, for the error */
	int wfailed;             /* its lookup failed (werr) */
	char werr[ADDR_TEXT_MAX + 192];
	struct resolve_wait rwait;
	ev_timer rdeadline; /* RESOLVE_WAIT_MAX for the reload's lookups */
	ev_timer rnext;     /* goes on outside the resolver's callback */
};

/*
 * node_run(cfg, idn, level_fixed):
 * Run the node described by ${cfg} with the identity ${idn} (both
 * borrowed; crypto_init() has run): resolve the host names in ${cfg},
 * bind every listener, drop the dump flag, log "ready", serve until
 * SIGTERM/SIGINT and the shutdown grace, reloading on SIGHUP (and with
 * reload = watch); ${level_fixed}: the command line set the log level, a
 * reload does not change it.  Return 0 after a clean shutdown, -1 if
 * start-up failed (logged).
 */
int node_run(struct config *cfg, const struct identity *idn,
    int level_fixed);

#endif
