/*
 * outlet: the service side of a portal.  Accepts secure channels on the
 * node's [node] listen address as responder; once a channel is
 * established it looks up the requested service, checks the initiator's
 * identity against that outlet's allow-list (acl.c), writes the audit
 * line, and only then connects to the target and carries bytes (conn.c).
 * Never reads a record, never touches the target, before that decision.
 */
#ifndef SALLYPORT_OUTLET_H
#define SALLYPORT_OUTLET_H

#include <stddef.h>

#include "node.h"

struct outlet;

/*
 * outlet_new(n, err, errlen):
 * Bind the [node] listen address of ${n} (if it has one) and start
 * accepting channels; start registering each outlet that has relay = at
 * its relay.  NULL with a message in ${err} on failure.
 */
struct outlet *outlet_new(struct node *n, char *err, size_t errlen);

/*
 * outlet_adopt(o, fd, via, reg):
 * Run a responder handshake on the connected socket ${fd} (taken): an
 * accepted channel, or a pooled connection to the relay at ${via}
 * (borrowed, kept as c->dial_addr; NULL for an accepted one) registered
 * for the service ${reg} (borrowed; NULL for an accepted one) that a
 * client's msg1 arrived on.  A pooled connection binds ${reg} into the
 * handshake (channel_bind_service) and serves no other request.
 */
void outlet_adopt(struct outlet *o, int fd, const struct addr *via,
    const char *reg);

/*
 * outlet_stop(o):
 * Stop accepting (close the listener); NULL does nothing.
 */
void outlet_stop(struct outlet *o);

/*
 * outlet_free(o):
 * Stop and free ${o}; NULL does nothing.
 */
void outlet_free(struct outlet *o);

#endif
