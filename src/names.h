/*
 * names: the host names of a running node's configuration.  The local
 * ones ([node] listen and admin, an inlet's listen and intercept) get one
 * address: at start-up, blocking, before anything is served; at a reload,
 * on the loop, waiting at most RESOLVE_WAIT_MAX seconds for a name the
 * file in force does not have (an unchanged name keeps its address and
 * its listening socket).  The names it dials are watched by the resolver,
 * whose news is logged once per section that uses the name.  Never binds
 * or dials.
 */
#ifndef SALLYPORT_NAMES_H
#define SALLYPORT_NAMES_H

#include <ev.h>

#include "addr.h"
#include "config.h"
#include "env.h"
#include "resolve.h"

/* A reload's file waiting for its local names (names_wait_start). */
struct names_wait {
	const struct env *env; /* loop, resolver, the file in force */
	void (*done)(void *, struct config *, const char *, const char *);
	void *arg;
	struct config *pending;    /* the file loaded, or NULL */
	const char *why;           /* its trigger */
	struct addr *waiting;      /* the name looked up, in pending */
	const char *wrole, *wname; /* its section, for the error */
	int wfailed;               /* its lookup failed (werr) */
	char werr[ADDR_TEXT_MAX + 192];
	struct resolve_wait rwait;
	ev_timer deadline; /* RESOLVE_WAIT_MAX for the reload's lookups */
	ev_timer next;     /* goes on outside the resolver's callback */
};

/*
 * names_start(e, cfg):
 * Start-up: every local name of ${cfg} gets its address (blocking:
 * nothing is served yet; each failure logged).  Return 0, or -1 if one
 * failed.
 */
int names_start(const struct env *e, struct config *cfg);

/*
 * names_watch(e):
 * The names the configuration in force dials are looked up now (without
 * blocking) and, while they fail, again and again (resolve.c): the
 * failure is logged at once, not at the first connection.
 */
void names_watch(const struct env *e);

/*
 * names_note(arg, host, err, n):
 * The resolver's news (resolve_note_cb; ${arg} is a struct names_wait):
 * one line per section of the file in force.  The lookups of local names
 * (start-up, a reload's) report their own failure.
 */
void names_note(void *arg, const char *host, const char *err, size_t n);

/*
 * names_wait_init(w, e, done, arg):
 * A reload's wait for names, on ${e}'s loop and resolver (borrowed; its
 * cfg is the file in force): ${done}(${arg}, cfg, why, err) gets each
 * file handed to names_wait_start, with its addresses (${err} NULL; cfg
 * taken), or the reason it failed (cfg NULL, freed).
 */
void names_wait_init(struct names_wait *w, const struct env *e,
    void (*done)(void *, struct config *, const char *, const char *),
    void *arg);

/*
 * names_wait_start(w, cfg, why):
 * Give the local names of ${cfg} (taken) their addresses: a name the file
 * in force has keeps its address, a new one is looked up (the loop serves
 * on meanwhile, at most RESOLVE_WAIT_MAX seconds); then ${w}->done.  Not
 * while names_wait_busy.
 */
void names_wait_start(struct names_wait *w, struct config *cfg,
    const char *why);

/*
 * names_wait_busy(w):
 * A file waits for its names.
 */
int names_wait_busy(const struct names_wait *w);

/*
 * names_wait_fini(w):
 * Drop the wait and the file waiting, if any.
 */
void names_wait_fini(struct names_wait *w);

#endif
