/*
 * outlet: the service side of a portal.  The front (front.c) runs the
 * responder handshake of every channel that reaches the node and hands
 * over those asking for a service; the outlet looks the service up,
 * checks the initiator's identity against that outlet's allow-list
 * (acl.c), writes the audit line, and only then connects to the target
 * and carries bytes (conn.c).  Never reads a record, never touches the
 * target, before that decision.  Outlets with relay = keep a
 * registration at their relay (dialout.c) whose pooled connections go to
 * the front.
 */
#ifndef SALLYPORT_OUTLET_H
#define SALLYPORT_OUTLET_H

#include <stddef.h>

#include "env.h"
#include "front.h"

struct outlet;

/*
 * outlet_new(e, f, old, err, errlen):
 * The outlet role of ${e}: serve the channels the front ${f} (borrowed)
 * hands over, and register each outlet that has relay = at its relay.
 * ${old} (may be NULL) is the outlet role of the previous configuration:
 * its unchanged registrations and its connections become this one's
 * (free ${old} afterwards: what is left of it ends).  NULL with a
 * message in ${err} on failure.
 */
struct outlet *outlet_new(struct env *e, struct front *f, struct outlet *old,
    char *err, size_t errlen);

/*
 * outlet_restart(o):
 * The node's identity changed: renew every registration.
 */
void outlet_restart(struct outlet *o);

/*
 * outlet_revoke_all(e):
 * Reload: end every outlet connection of ${e} whose service is gone or
 * whose peer its allow-list no longer names (audit reason=revoked).
 * Return how many.
 */
unsigned outlet_revoke_all(struct env *e);

/*
 * outlet_expire_all(e):
 * End every outlet connection of ${e} admitted by a credential that has
 * expired (audit reason=credential-expired).  Return how many.
 */
unsigned outlet_expire_all(struct env *e);

/*
 * outlet_stop(o):
 * Stop registering at relays; NULL does nothing.
 */
void outlet_stop(struct outlet *o);

/*
 * outlet_free(o):
 * Stop and free ${o}; NULL does nothing.
 */
void outlet_free(struct outlet *o);

#endif
