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
 * inlet_new(n, ci, err, errlen):
 * Bind the listener of the inlet ${ci} (borrowed; lives as long as the
 * config) in the node ${e} and start accepting.  NULL with a message in
 * ${err} on failure.
 */
struct inlet *inlet_new(struct env *e, const struct config_inlet *ci,
    char *err, size_t errlen);

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

#endif
