/*
 * relay: the relay role (docs/relay.md).  On the node's listen address it
 * tells a session handshake (a frame) from a data connection (a preamble
 * starting with 'C' or 'P'); it authorizes sessions ("@S", "@R" + name)
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

#include "conn.h"

struct node;
struct relay;

/*
 * relay_new(n, err, errlen):
 * The relay role of ${n} for its [relay NAME] sections (sessions to next
 * relays are started).  NULL with a message in ${err} on failure.
 */
struct relay *relay_new(struct node *n, char *err, size_t errlen);

/*
 * relay_stop(r):
 * Node shutdown: stop re-dialing next relays.  Pairs go on (they count
 * in relay_live) until they end or the grace period does.
 */
void relay_stop(struct relay *r);

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

/*
 * relay_accept(r, fd):
 * A connection accepted on the node's listen address (${fd} taken): wait
 * for its first byte; a handshake goes to the outlet role
 * (outlet_adopt), a preamble is checked here.
 */
void relay_accept(struct relay *r, int fd);

/*
 * relay_claim(r, c):
 * ${c} completed a responder handshake: if its request is a session
 * request ("@S" or "@R" + name), take it over (authorize, send the
 * ticket) and return 1 (${c} is gone); otherwise return 0.
 */
int relay_claim(struct relay *r, struct conn *c);

#endif
