/*
 * inlet: see inlet.h.
 *
 * Per client: accept -> dial the outlet node (connect deadline) -> channel
 * handshake as initiator, pinned to the configured outlet identity, the
 * service name sent encrypted in msg3 (handshake deadline) -> open.  The
 * client socket is not read before the channel is established; once it is,
 * bytes flow at once (the first records follow msg3 without waiting for a
 * reply).  A wrong outlet identity fails the handshake before msg3, so
 * that outlet learns nothing, not even the service name; the client is
 * then closed without any data.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "inlet.h"
#include "log.h"

struct inlet {
	struct node *node;
	const struct config_inlet *ci;
	struct node_listener l;
};

static void inlet_dialed(struct conn *c, int err);
static void inlet_established(struct conn *c);
static void inlet_handshake_failed(struct conn *c, int err);

static const struct conn_ops inlet_ops = {
	.dialed = inlet_dialed,
	.established = inlet_established,
	.handshake_failed = inlet_handshake_failed,
};

/* The outlet node answered (or not): start the handshake. */
static void
inlet_dialed(struct conn *c, int err)
{
	struct inlet *il = c->arg;
	struct channel *ch;

	if (err != 0) {
		conn_drop(c, err == ETIMEDOUT ? CONN_R_CONNECT_TIMEOUT :
		    CONN_R_CONNECT_FAILED);
		return;
	}
	if ((ch = channel_new(CHANNEL_INITIATOR, node_local(il->node),
	    il->node->cache)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	channel_expect_peer(ch, il->ci->outlet_id);
	if (channel_set_request(ch, (const uint8_t *)il->ci->service,
	    strlen(il->ci->service)) != 0) {
		channel_free(ch);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	if (conn_handshake(c, ch, CHANNEL_INITIATOR) == -1) /* c owns ch */
		conn_drop(c, CONN_R_NOMEM);
}

/* The pinned outlet answered and the request is sent: carry bytes. */
static void
inlet_established(struct conn *c)
{
	struct inlet *il = c->arg;

	node_audit(il->node, 1, "allowed", channel_peer_id(c->ch),
	    il->ci->service, "inlet");
	conn_open(c);
}

/* A handshake failed: a wrong outlet identity is an access decision. */
static void
inlet_handshake_failed(struct conn *c, int err)
{
	struct inlet *il = c->arg;

	if (err != CHANNEL_EPEER)
		return; /* conn_drop logs the channel error */
	node_audit(il->node, 0, "peer-mismatch", channel_peer_id(c->ch),
	    il->ci->service, "inlet");
	c->quiet = 1;
}

/* A client connected: dial the outlet node for it. */
static void
inlet_accept(struct node_listener *l, int fd)
{
	struct inlet *il = l->arg;
	struct conn *c;

	if ((c = conn_new(&il->node->ctx, &inlet_ops, fd, -1)) == NULL) {
		close(fd);
		return;
	}
	/* c owns fd now. */
	c->arg = il;
	c->role = "inlet";
	c->name = il->ci->name;
	c->service = il->ci->service;
	if (conn_dial_channel(c, &il->ci->outlet) == -1)
		conn_drop(c, CONN_R_CONNECT_FAILED);
}

/*
 * inlet_new(n, ci, err, errlen):
 * Bind the listener of the inlet ${ci} (borrowed; lives as long as the
 * config) in the node ${n} and start accepting.  NULL with a message in
 * ${err} on failure.
 */
struct inlet *
inlet_new(struct node *n, const struct config_inlet *ci, char *err,
    size_t errlen)
{
	struct inlet *il;

	if ((il = calloc(1, sizeof(*il))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail0;
	}
	il->node = n;
	il->ci = ci;
	if (node_listener_open(&il->l, n, &ci->listen, "inlet", ci->name,
	    inlet_accept, il, err, errlen) == -1)
		goto fail1;
	return (il);
fail1:
	free(il);
fail0:
	return (NULL);
}

/*
 * inlet_stop(il):
 * Stop accepting (close the listener); its connections go on.
 */
void
inlet_stop(struct inlet *il)
{

	if (il != NULL)
		node_listener_close(&il->l);
}

/*
 * inlet_free(il):
 * Stop and free ${il}; NULL does nothing.  Its connections must be gone.
 */
void
inlet_free(struct inlet *il)
{

	if (il == NULL)
		return;
	inlet_stop(il);
	free(il);
}
