/*
 * authority: the online authority of a node with an [authority NAME]
 * section (docs/credentials.md, "Enrolment"; the wire: docs/protocol.md,
 * "Enrolment and renewal").  It holds the authority key and its store
 * (authstore.h), issues the node its own credential (authority=NAME, at
 * start and at half its lifetime, presented on every channel), and serves
 * the request kind "@A" + NAME on the node port (front_register): a node
 * enrols with a token's secret, renews the credential its channel shows,
 * or fetches the revocation list.  Strangers may ask (they enrol): every
 * channel is bounded (one question, a deadline per message, a bounded
 * answer sent a piece per ask), rate limited per source, and audited.
 * The store is reached in short transactions on a worker thread
 * (authwork.h), at most AUTHWORK_QUEUE pending: more are refused "busy".
 */
#ifndef SALLYPORT_AUTHORITY_H
#define SALLYPORT_AUTHORITY_H

#include <stdint.h>

#include "env.h"
#include "front.h"

#define AUTHORITY_MAX_SESSIONS 256 /* channels served at once */
#define AUTHORITY_TIMEOUT 10.      /* seconds for each message */
#define AUTHORITY_SOURCES 256      /* sources remembered for the rate */

struct authority;

/* What an [authority NAME] section says (the row reads it). */
struct authority_conf {
	const char *name;  /* NAME */
	const char *key;   /* the authority key file */
	const char *store; /* the store's file */
	uint64_t ttl;      /* credential lifetime, seconds */
	unsigned rate;     /* channels per second per source (enrol_rate) */
	unsigned burst;    /* ... after a burst of that many (enrol_burst) */
};

/* The request kind "@A" + NAME, registered by authority_new. */
extern const struct front_kind authority_kind;

/*
 * authority_new(e, conf, err, errlen):
 * The authority ${conf} (borrowed for the call) of the node ${e}: load
 * its key and open its store; it serves nothing yet (authority_serve).
 * NULL with a message in ${err}.
 */
struct authority *authority_new(struct env *e,
    const struct authority_conf *conf, char *err, size_t errlen);

/*
 * authority_serve(a, f):
 * Issue the node its own credential (presented from now on) and serve
 * authority_kind at the front ${f} (borrowed).  Failures are logged.
 */
void authority_serve(struct authority *a, struct front *f);

/*
 * authority_restart(a):
 * The node's key changed: issue its own credential again.  NULL does
 * nothing.
 */
void authority_restart(struct authority *a);

/*
 * authority_expire(a):
 * Every second: re-issue the node's own credential at half its lifetime.
 */
void authority_expire(struct authority *a);

/*
 * authority_live(a):
 * Channels being served.
 */
unsigned authority_live(const struct authority *a);

/*
 * authority_free(a):
 * End every channel, stop presenting the node's own credential, close
 * the store, unregister the kind (it stays known, unserved), wipe the
 * key.  NULL does nothing.
 */
void authority_free(struct authority *a);

#endif
