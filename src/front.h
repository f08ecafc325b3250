/*
 * front: the one owner of the node's [node] listen socket and the
 * responder side of every channel that reaches this node, whether it was
 * accepted there or arrived on a pooled connection an outlet keeps at a
 * relay.  It tells each connection apart and hands it, through the
 * narrow callbacks below, to the role that serves it:
 *
 *   first byte 'c' or 'p'  -> a relay data connection: the whole preamble
 *                             is read, then ops.preamble (the relay role)
 *   anything else          -> a channel handshake as responder; once
 *                             established, the request decides:
 *       "@..."             -> ops.session (the relay role: "@S", "@R")
 *       a service name     -> ops.service (the outlet role)
 *
 * A pooled connection (front_adopt with a registration name) binds that
 * name into the handshake and serves that name only: any other request is
 * refused here (audit reason=registration-mismatch), before any role sees
 * it.  A request no role takes is refused (reason=unknown-service).
 */
#ifndef SALLYPORT_FRONT_H
#define SALLYPORT_FRONT_H

#include <stdint.h>

#include "addr.h"
#include "conn.h"
#include "env.h"
#include "ticket.h"

struct front;

/*
 * front_new(e, err, errlen):
 * The front of the node ${e}; binds [node] listen if the configuration
 * has one.  No role is plugged in yet.  NULL with a message in ${err} on
 * failure.
 */
struct front *front_new(struct env *e, char *err, size_t errlen);

/*
 * front_serve_relay(f, preamble, session, arg):
 * The relay role: ${preamble}(${arg}, fd, pre) gets each relay data
 * connection ${fd} (taken) with its whole preamble; ${session}(${arg}, c)
 * each established channel whose request starts with '@' and returns 1
 * if it took ${c}, 0 to let the front refuse it.
 */
void front_serve_relay(struct front *f,
    void (*preamble)(void *, int, const uint8_t *),
    int (*session)(void *, struct conn *), void *arg);

/*
 * front_serve_outlet(f, service, arg):
 * The outlet role: ${service}(${arg}, c, svc, req) gets each established
 * channel asking for the service ${svc} (text, at most CONFIG_NAME_MAX - 1
 * bytes) with its whole request ${req} (both borrowed for the call); it
 * owns ${c} from then on and plugs in its own callbacks with
 * conn_set_ops().
 */
void front_serve_outlet(struct front *f,
    void (*service)(void *, struct conn *, const char *,
    const struct channel_req *), void *arg);

/*
 * front_adopt(f, fd, via, reg):
 * Run a responder handshake on the connected socket ${fd} (taken): an
 * accepted channel (${via} and ${reg} NULL), or a pooled connection to
 * the relay at ${via} (copied to c->dial_addr) registered for the service
 * ${reg} (borrowed: c->name) that a client's msg1 arrived on; the
 * connection ends with the relay session ${tag} (c->via).
 */
void front_adopt(struct front *f, int fd, const struct addr *via,
    const char *reg, const void *tag);

/*
 * front_detach(f):
 * Reload: stop accepting and hand the listening socket over (return it,
 * or -1 if there is none); nothing is closed.
 */
int front_detach(struct front *f);

/*
 * front_listen(f, fd):
 * Reload: accept on ${fd} (taken; -1: no listen socket any more), bound
 * to [node] listen of the environment's configuration; the socket held
 * so far, if any, is closed.
 */
void front_listen(struct front *f, int fd);

/*
 * front_stop(f):
 * Stop accepting (close the listen socket); connections whose first
 * bytes are on their way are still served.  NULL does nothing.
 */
void front_stop(struct front *f);

/*
 * front_free(f):
 * Stop, close what is pending and free ${f}; NULL does nothing.
 */
void front_free(struct front *f);

#endif
