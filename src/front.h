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
 *       a registered prefix -> that kind's part (front_register; the
 *                             relay's "@S", "@R")
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
#include "request.h"
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
 * A kind of request other than a service name: the relay's sessions
 * ("@S", "@R" + name); each starts with FRONT_KIND_MARK, which no service
 * name does.  The part that serves a kind describes it (a static
 * struct) and registers it with front_register.
 */
#define FRONT_KIND_MARK '@'
#define FRONT_KINDS 8 /* kinds a front knows at most */

struct front_kind {
	const char *prefix; /* the request starts with it ("@") */
	const char *role;   /* c->role, and the role of its audit lines */
	/*
	 * A peer not yet proven asks with ${req} (${len} bytes, starting
	 * with the prefix) and is not admitted: return where in ${req} the
	 * name its audit line shows starts (${len}: no name); set the
	 * reason (${why}, preset "not-allowed") and the refusal it is told
	 * (${code}, preset CHANNEL_REFUSAL_NOT_ALLOWED) if more specific.
	 */
	size_t (*claim)(const uint8_t *req, size_t len, const char **why,
	    unsigned *code);
	/*
	 * 1: a peer no allow list names (but not a revoked one) is let
	 * through the handshake and handed to the kind's take, which
	 * decides on it itself (the authority's enrolment: a stranger
	 * with a token).  0: such a peer is refused as any other.
	 */
	int strangers;
};

/*
 * front_register(f, kind, take, arg):
 * Requests that start with ${kind}->prefix (borrowed, static) are the
 * kind ${kind}: ${take}(${arg}, c) gets each established channel asking
 * for it and returns 1 if it took ${c}, 0 to let the front refuse it
 * (${take} NULL: the kind is known, for its audit lines, but not served).
 * Registering a prefix again replaces its handler.  Return 0, or -1 if
 * FRONT_KINDS kinds are registered already.
 */
int front_register(struct front *f, const struct front_kind *kind,
    int (*take)(void *, struct conn *), void *arg);

/*
 * front_serve_preamble(f, preamble, arg):
 * The relay role: ${preamble}(${arg}, fd, pre) gets each relay data
 * connection ${fd} (taken) with its whole preamble.
 */
void front_serve_preamble(struct front *f,
    void (*preamble)(void *, int, const uint8_t *), void *arg);

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
    const struct request *), void *arg);

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
 * front_revoke_warm(f):
 * Reload: end every channel waiting for its request (a channel made
 * ahead of a client) whose peer the node no longer lets through its
 * handshake (audit deny reason=revoked).  Return how many.
 */
unsigned front_revoke_warm(struct front *f);

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
 * Stop and free ${f}; NULL does nothing.  Its connections, those whose
 * first bytes are due too, are conn.c's: the node drops them after
 * (conn_ctx_drop_all), without running a callback of the front.
 */
void front_free(struct front *f);

#endif
