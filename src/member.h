/*
 * member: a node's membership of the authority its [node] enroll token
 * names (docs/credentials.md, "Enrolment"): the first enrolment, before
 * the node serves anything (member_first), then, on the loop, renewal of
 * the credential at 2/3 of its lifetime (with jitter; on failure again
 * after a backoff doubling from 1 s to 2 min, the current credential kept
 * until it expires) and the authority's revocation list fetched every
 * MEMBER_REVOKED_EVERY seconds.  A renewed credential is written to the
 * enroll_credential file (cred_save: at once) and the node reloads
 * (env->reload), so the trust part presents it to new channels and sends
 * it to live ones; a new revocation list goes to env->revoked_auth and
 * ends, through the same reload, what it revokes.
 */
#ifndef SALLYPORT_MEMBER_H
#define SALLYPORT_MEMBER_H

#include "config.h"
#include "env.h"
#include "identity.h"

#define MEMBER_BACKOFF_MIN 1.    /* seconds after the first failure */
#define MEMBER_BACKOFF_MAX 120.  /* ... doubling up to this */
#define MEMBER_REVOKED_EVERY 60. /* seconds between revocation fetches */

struct member;

/*
 * member_first(cfg, idn):
 * If ${cfg} enrolls (enroll =) and its enroll_credential file does not
 * exist yet, enrol now with the token as ${idn}, blocking: an authority
 * that does not answer is asked again after a backoff (logged each time);
 * a refusal ends it.  Return 0 (enrolled, or nothing to do), or -1
 * (logged).
 */
int member_first(const struct config *cfg, const struct identity *idn);

/*
 * member_new(e):
 * The membership of the node ${e} (its configuration enrolls), on its
 * loop: timers set from the credential file, metrics and a readiness
 * item (the credential missing or expired).  NULL on ENOMEM.
 */
struct member *member_new(struct env *e);

/*
 * member_reconfigure(m):
 * e->cfg changed: the credential file may be new; look at it again.
 */
void member_reconfigure(struct member *m);

/*
 * member_free(m):
 * Stop and free ${m}; NULL does nothing.
 */
void member_free(struct member *m);

#endif
