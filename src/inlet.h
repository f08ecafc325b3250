/*
 * inlet: the client side of a portal.  Listens where local clients
 * connect; for each client it dials the outlet node, runs the channel
 * handshake as initiator, refuses any outlet but the pinned identity,
 * names the service inside the encrypted handshake, then carries bytes
 * (conn.c).  Never reads client bytes before the channel is established.
 */
#ifndef SALLYPORT_INLET_H
#define SALLYPORT_INLET_H

#include <stddef.h>

#include "config.h"
#include "env.h"

struct inlet;

/*
 * inlet_new(e, ci, fd, old, err, errlen):
 * The inlet ${ci} (borrowed; lives as long as the config) of the node
 * ${e}: accept on the listening socket ${fd} (taken; -1: bind
 * ci->listen now).  ${old} (may be NULL) is the inlet of that name in the
 * previous configuration: its relay session is kept if unchanged, and its
 * waiting clients and connections become this inlet's (free ${old}
 * afterwards).  NULL with a message in ${err} on failure (${fd} closed).
 */
struct inlet *inlet_new(struct env *e, const struct config_inlet *ci,
    int fd, struct inlet *old, char *err, size_t errlen);

/*
 * inlet_detach_listener(il, ci):
 * Reload: if ${il} listens where ${ci} wants to, hand its listening
 * socket over (return it; ${il} stops accepting); else return -1.
 */
int inlet_detach_listener(struct inlet *il, const struct config_inlet *ci);

/*
 * inlet_restart(il):
 * The node's identity changed: renew the relay session.
 */
void inlet_restart(struct inlet *il);

/*
 * inlet_revoke_all(e):
 * Reload: end every inlet connection of ${e} whose inlet (by name) now
 * pins another outlet identity or asks for another service, or, pinned
 * by attribute rule, whose outlet no longer passes the rule (revoked
 * identifier or serial, authority gone; audit reason=revoked); those of
 * removed inlets drain.  Return how many.
 */
unsigned inlet_revoke_all(struct env *e);

/*
 * inlet_expire_all(e):
 * End every inlet connection of ${e} whose outlet was admitted by a
 * credential (pinned by attribute rule) that has expired (audit
 * reason=credential-expired).  Return how many.
 */
unsigned inlet_expire_all(struct env *e);

/*
 * inlet_stop(il):
 * Stop accepting (close the listener); its connections go on.
 */
void inlet_stop(struct inlet *il);

/*
 * inlet_free(il):
 * Stop and free ${il}; NULL does nothing.  Its connections must be gone.
 */
void inlet_free(struct inlet *il);

/*
 * inlet_serve(il, fd):
 * Carry the client ${fd} (taken), accepted on the inlet's listen address
 * or redirected to the interception listener for one of its intercept
 * addresses, as if it had connected to the inlet.
 */
void inlet_serve(struct inlet *il, int fd);

#endif
