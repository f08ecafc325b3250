/*
 * node: the runtime of `sallyport run FILE`, above the roles.  One
 * process, one ev_default_loop, single-threaded.  It owns the process's
 * life: start-up order (the environment every role borrows, then the
 * table of parts, rows.c: trust, front, outlet, relay, inlets,
 * intercept, admin), SIGHUP and reload = watch (load the file, give its
 * names their addresses, then prepare every part and commit all or
 * abort all, part.h), the periodic timers (re-signing, expiry, log
 * limits) and the end (grace.c).  Never names a role, never parses the
 * config (config.c), never calls exit() (main.c does).
 */
#ifndef SALLYPORT_NODE_H
#define SALLYPORT_NODE_H

#include <ev.h>

#include "config.h"
#include "env.h"
#include "filewatch.h"
#include "gen.h"
#include "grace.h"
#include "identity.h"
#include "names.h"
#include "part.h"
#include "rows.h"

struct node {
	struct env env; /* lent to every role */
	struct gens gens;      /* the configuration in force and its inlets,
				  older ones until their connections end */
	struct part_host host; /* what the parts borrow */
	struct part *parts[ROWS_NODE]; /* the table of parts (rows.c) */
	int level_fixed;       /* the command line set the log level */
	struct filewatch watch; /* reload = watch */
	struct grace grace;      /* SIGTERM, SIGINT and the shutdown grace */
	ev_signal sighup;
	ev_timer resign, expire;
	ev_timer flush; /* reports lines the rate limits left out */
	struct names_wait names; /* a reload's file waiting for a name */
	const char *again;       /* a reload asked for meanwhile, or NULL */
	/* Reloads by status (metrics.h's handles, resolved in node_run). */
	struct metrics_series *m_reload_ok;
	struct metrics_series *m_reload_failed;
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
