/*
 * relay: the relay role (docs/relay.md).  The front (front.c) hands it
 * the session handshakes and the data connections (a preamble starting
 * with 'c' or 'p') that reach the node's listen address; it authorizes
 * sessions ("@S", "@R" + name)
 * against the [relay NAME] sections, hands each session a ticket, keeps
 * the outlets' pooled connections, pairs each allowed client connection
 * with a pooled connection of a live registrant (round robin) or with a
 * new connection to the next relay (via), and from then on only copies
 * ciphertext with splice(2).  Deny by default; every decision is an audit
 * line.  Never holds an end-to-end channel key.
 */
#ifndef SALLYPORT_RELAY_H
#define SALLYPORT_RELAY_H

#include <stddef.h>

#include "env.h"
#include "front.h"

struct relay;

/*
 * relay_kind:
 * The relay's sessions: requests "@S" (a client) and "@R" + name (a
 * registrant); relay_new registers it with the front.
 */
extern const struct front_kind relay_kind;

/*
 * relay_new(e, f, err, errlen):
 * The relay role of ${e} for its [relay NAME] sections, serving the
 * sessions and data connections the front ${f} (borrowed) hands over
 * (sessions to next relays are started).  NULL with a message in ${err}
 * on failure.
 */
struct relay *relay_new(struct env *e, struct front *f, char *err,
    size_t errlen);

/*
 * relay_stop(r):
 * Node shutdown: stop re-dialing next relays.  Pairs go on (they count
 * in relay_live) until they end or the grace period does.
 */
void relay_stop(struct relay *r);

/*
 * relay_reconfigure(r, err, errlen):
 * Reload: the environment of ${r} holds a new configuration.  Rebuild the
 * services from it, keeping by name the registrants, waiting clients and
 * unchanged next-relay sessions; then end (audit reason=revoked) every
 * session, pair and waiting client whose identity lost its right, and
 * every registration of a name that is gone, adding their count to
 * ${revoked}.  Return 0, or -1 on ENOMEM (${r} unchanged).
 */
int relay_reconfigure(struct relay *r, unsigned *revoked, char *err,
    size_t errlen);

/*
 * relay_expire(r):
 * End every pair of ${r} a side of which a credential admitted that has
 * expired (audit reason=credential-expired with conn=, close
 * reason=revoked), then every session admitted so (audit
 * reason=credential-expired, session-close reason=credential-expired).
 * Return how many.  NULL: 0.
 */
unsigned relay_expire(struct relay *r);

/*
 * relay_restart(r):
 * The node's identity changed: renew the sessions with next relays.
 */
void relay_restart(struct relay *r);

/*
 * relay_live(r):
 * How many client connections ${r} carries or holds (0 for NULL).
 */
unsigned relay_live(const struct relay *r);

/*
 * relay_free(r):
 * Close every session, pooled connection and pair; free ${r}.  NULL does
 * nothing.
 */
void relay_free(struct relay *r);

#endif
