/*
 * dialout: a node's side of a relay (docs/relay.md).  Keeps one session
 * open to a relay (Noise XX as initiator, pinned to the relay identity),
 * re-established after any failure with exponential backoff (0.1 s
 * doubling to 5 s, with jitter), and holds the ticket the relay sent over
 * it, from which data-connection preambles are made.
 *
 * Two kinds: a client session (request "@S": an inlet with via, or a
 * relay forwarding to the next one) and a registration (request "@R" +
 * service name: an outlet with relay =), which also keeps a pool of ready
 * "P" connections at the relay and hands each one to its owner as soon
 * as a client's handshake arrives on it (dialout_on_pooled).  Never makes
 * access decisions.
 */
#ifndef SALLYPORT_DIALOUT_H
#define SALLYPORT_DIALOUT_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "ticket.h"

struct env;
struct dialout;

enum dialout_kind {
	DIALOUT_CLIENT,  /* "@S": data connections of type C */
	DIALOUT_REGISTER /* "@R" + name: registration and P pool */
};

/*
 * dialout_new(e, kind, name, relay_id, relay, pool, role):
 * Start keeping a session of ${kind} with the relay ${relay_id} at
 * ${relay}; ${name} is the service registered (DIALOUT_REGISTER) or a
 * label for logs; ${pool} ready connections are kept (DIALOUT_REGISTER);
 * ${role} ("inlet", "outlet", "relay") is for logs.  ${at} NULL: dial
 * ${relay} (a name: whichever of its addresses answers) and count in
 * /readyz; else ${at} is the one address of ${relay} to use, for a member
 * of a fleet (fleet.c), which answers for readiness itself.  Every
 * pointer is borrowed and must outlive the dialout (or be replaced by
 * dialout_rebind).  NULL on ENOMEM.
 */
struct dialout *dialout_new(struct env *e, enum dialout_kind kind,
    const char *name, const uint8_t *relay_id, const struct addr *relay,
    const struct addr *at, unsigned pool, const char *role);

/*
 * dialout_free(d):
 * Close the session and the pooled connections and free ${d}; NULL does
 * nothing.
 */
void dialout_free(struct dialout *d);

/*
 * dialout_send_creds_all(e, block, len):
 * Our credentials were renewed: send the block (${len} well formed bytes,
 * 1 to CRED_BLOCK_MAX) to the relay over every live session of ${e}'s
 * dialouts, so that what the relay admitted by credential lasts.  Return
 * how many sessions it was sent on.
 */
unsigned dialout_send_creds_all(struct env *e, const uint8_t *block,
    size_t len);

/*
 * dialout_stop(d):
 * Make no new attempt (node shutdown): a handshake in progress is
 * dropped.  A registration is closed with its pool (the relay then sends
 * new clients elsewhere); a client session and its ticket stay usable
 * for connections still being set up.
 */
void dialout_stop(struct dialout *d);

/*
 * dialout_same(d, kind, name, relay_id, relay, pool):
 * Return 1 if ${d} was made with these very arguments (the relay address
 * by its text and resolved address), so that a reload can keep it.
 */
int dialout_same(const struct dialout *d, enum dialout_kind kind,
    const char *name, const uint8_t *relay_id, const struct addr *relay,
    unsigned pool);

/*
 * dialout_rebind(d, name, relay_id, relay):
 * A reload keeps ${d} (dialout_same held): borrow these equal values of
 * the new configuration from now on.  Connections made before keep what
 * they borrowed (the old configuration lives as long as they do).
 */
void dialout_rebind(struct dialout *d, const char *name,
    const uint8_t *relay_id, const struct addr *relay);

/*
 * dialout_restart(d):
 * The node's identity changed: end the session (and the pool) now and
 * make a new one at once, under the new credentials.  Connections made
 * through the old session go on.
 */
void dialout_restart(struct dialout *d);

/*
 * dialout_on_down(d, cb, arg):
 * Call ${cb}(${arg}) whenever the session of ${d} ends after it was up
 * (relay.c ends the pairs it made through it).
 */
void dialout_on_down(struct dialout *d, void (*cb)(void *), void *arg);

/*
 * dialout_on_fail(d, cb, arg):
 * Call ${cb}(${arg}) whenever an attempt of ${d} fails or its session
 * ends, as the next attempt is scheduled (fleet.c then looks its name up
 * again).
 */
void dialout_on_fail(struct dialout *d, void (*cb)(void *), void *arg);

/*
 * dialout_on_pooled(d, cb, arg):
 * Registrations: call ${cb}(${arg}, fd, d) when a client's first bytes
 * arrive on a pooled connection ${fd} (taken) of ${d} (dialout_addr and
 * dialout_name say where and for what).  Without it such a connection is
 * closed.
 */
void dialout_on_pooled(struct dialout *d,
    void (*cb)(void *, int, struct dialout *), void *arg);

/*
 * dialout_is_up(d):
 * Return 1 if the session is up and holds a ticket.
 */
int dialout_is_up(const struct dialout *d);

/*
 * dialout_is_down(d):
 * Return 1 if the last attempt failed and the next has not started yet
 * (clients should not wait), 0 while up or trying.
 */
int dialout_is_down(const struct dialout *d);

/*
 * dialout_preamble(d, name, out):
 * Write the preamble of a new client (C) data connection for the service
 * ${name} to ${out}.  Return 0, or -1 if the session is not up.
 */
int dialout_preamble(struct dialout *d, const char *name,
    uint8_t out[TICKET_PREAMBLE_LEN]);

/*
 * dialout_track(d, pre, id):
 * The client data connection conn=${id} starts with the preamble ${pre}
 * (from dialout_preamble): if the relay refuses it, its refusal line
 * names that conn= (the last few connections are remembered).
 */
void dialout_track(struct dialout *d,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint64_t id);

/*
 * dialout_name(d):
 * The service registered (or the label) of ${d}.
 */
const char *dialout_name(const struct dialout *d);

/*
 * dialout_addr(d):
 * The relay's address (for data connections): a fleet member's own
 * address; a name comes with the address its last session connected to
 * (salen 0 before the first one).
 */
const struct addr *dialout_addr(const struct dialout *d);

#endif
