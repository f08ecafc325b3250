/*
 * outlet: see outlet.h.
 *
 * Per channel: accept -> handshake as responder (handshake deadline) ->
 * established: the request names a service; unknown service, or a peer
 * not on that outlet's allow-list: audit "deny", close the channel, no
 * target connection is ever made -> dial the target (connect deadline);
 * failure: audit "deny reason=target-refused", close the channel, which
 * the inlet turns into a prompt reset of its client -> audit "allow",
 * open.  Records sent right behind msg3 wait in the kernel (the channel
 * socket is not read) until the target is connected.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "conn.h"
#include "dialout.h"
#include "log.h"
#include "outlet.h"
#include "relay.h"

struct outlet {
	struct node *node;
	struct node_listener l;
	struct dialout **dialouts; /* per [outlet] with relay =, or NULL */
	size_t ndialouts;
};

static void outlet_dialed(struct conn *c, int err);
static void outlet_established(struct conn *c);

static const struct conn_ops outlet_ops = {
	.dialed = outlet_dialed,
	.established = outlet_established,
	.handshake_failed = NULL,
};

/* The target answered (or not). */
static void
outlet_dialed(struct conn *c, int err)
{
	struct outlet *o = c->arg;

	if (err != 0) {
		node_audit(o->node, 0, "target-refused", channel_peer_id(c->ch),
		    c->service, "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_TARGET_REFUSED);
		return;
	}
	node_audit(o->node, 1, "allowed", channel_peer_id(c->ch), c->service,
	    "outlet");
	conn_open(c);
}

/* The request ${req} (${len} bytes) as text for logs and lookups: cut at
 * CONFIG_NAME_MAX - 1 bytes (too long: cannot match any name). */
static void
copy_name(char svc[CONFIG_NAME_MAX], const uint8_t *req, size_t len)
{

	if (len >= CONFIG_NAME_MAX)
		len = CONFIG_NAME_MAX - 1;
	if (len > 0)
		memcpy(svc, req, len);
	svc[len] = '\0';
}

/* The initiator is authenticated: decide, then dial the target. */
static void
outlet_established(struct conn *c)
{
	struct outlet *o = c->arg;
	const struct config_outlet *co;
	const uint8_t *req, *peer = channel_peer_id(c->ch);
	char svc[CONFIG_NAME_MAX];
	size_t len = 0;

	/* The request is the service name: text, no NUL, short. */
	req = channel_request(c->ch, &len);
	if (req == NULL)
		len = 0;
	/*
	 * A pooled connection serves the name it was registered for and
	 * nothing else (not even a relay session request): the relay
	 * authorized the client for that name only.
	 */
	if (c->dial_addr != NULL && (len != strlen(c->name) ||
	    memcmp(req, c->name, len) != 0)) {
		copy_name(svc, req, len);
		node_audit(o->node, 0, "registration-mismatch", peer, svc,
		    "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return;
	}
	/* A relay session ("@S", "@R" + name) is the relay role's. */
	if (o->node->relay != NULL && relay_claim(o->node->relay, c))
		return;
	copy_name(svc, req, len);
	co = NULL;
	if (req != NULL && len > 0 && memchr(req, '\0', len) == NULL)
		co = config_outlet_find(o->node->cfg, svc);
	if (co == NULL) {
		node_audit(o->node, 0, "unknown-service", peer, svc, "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return;
	}
	c->name = co->name;
	c->service = co->name;
	if (!acl_allows(co, peer)) {
		node_audit(o->node, 0, "not-allowed", peer, co->name, "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return;
	}
	if (conn_dial_plain(c, &co->target) == -1) {
		node_audit(o->node, 0, "target-refused", peer, co->name,
		    "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_TARGET_REFUSED);
	}
}

/*
 * outlet_adopt(o, fd, via, reg):
 * Run a responder handshake on the connected socket ${fd} (taken): an
 * accepted channel, or a pooled connection to the relay at ${via}
 * (borrowed, kept as c->dial_addr; NULL for an accepted one) registered
 * for the service ${reg} (borrowed; NULL for an accepted one) that a
 * client's msg1 arrived on.  A pooled connection binds ${reg} into the
 * handshake (channel_bind_service) and serves no other request.
 */
void
outlet_adopt(struct outlet *o, int fd, const struct addr *via,
    const char *reg)
{
	struct channel *ch;
	struct conn *c;

	if ((c = conn_new(&o->node->ctx, &outlet_ops, -1, fd)) == NULL) {
		close(fd);
		return;
	}
	/* c owns fd now. */
	c->arg = o;
	c->role = "outlet";
	/* Pooled (dial_addr set): c->name is the registration it serves. */
	assert((via == NULL) == (reg == NULL));
	c->dial_addr = via;
	if (reg != NULL)
		c->name = reg;
	if ((ch = channel_new(CHANNEL_RESPONDER, node_local(o->node),
	    o->node->cache)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	if (reg != NULL && channel_bind_service(ch, (const uint8_t *)reg,
	    strlen(reg)) != 0) {
		channel_free(ch);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	if (conn_handshake(c, ch, CHANNEL_RESPONDER) == -1) /* c owns ch */
		conn_drop(c, CONN_R_NOMEM);
}

/* A connection on the node's listen address: a channel, or (on a relay)
 * maybe a relay data connection. */
static void
outlet_accept(struct node_listener *l, int fd)
{
	struct outlet *o = l->arg;

	if (o->node->relay != NULL)
		relay_accept(o->node->relay, fd); /* relay owns fd now */
	else
		outlet_adopt(o, fd, NULL, NULL);
}

/*
 * outlet_new(n, err, errlen):
 * Bind the [node] listen address of ${n} (if it has one) and start
 * accepting channels; start registering each outlet that has relay = at
 * its relay.  NULL with a message in ${err} on failure.
 */
struct outlet *
outlet_new(struct node *n, char *err, size_t errlen)
{
	const struct config *cfg = n->cfg;
	struct outlet *o;
	size_t i;

	if ((o = calloc(1, sizeof(*o))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail0;
	}
	o->node = n;
	o->l.fd = -1;
	if (cfg->node.has_listen &&
	    node_listener_open(&o->l, n, &cfg->node.listen, "node", "node",
	    outlet_accept, o, err, errlen) == -1)
		goto fail1;
	if (cfg->noutlets > 0 &&
	    (o->dialouts = calloc(cfg->noutlets, sizeof(*o->dialouts))) ==
	    NULL)
		goto fail2;
	for (i = 0; i < cfg->noutlets; i++) {
		const struct config_outlet *co = &cfg->outlets[i];

		if (!co->has_relay)
			continue;
		if ((o->dialouts[o->ndialouts] = dialout_new(n,
		    DIALOUT_REGISTER, co->name, co->relay_id, &co->relay,
		    co->pool, "outlet")) == NULL)
			goto fail2;
		o->ndialouts++;
	}
	return (o);
fail2:
	snprintf(err, errlen, "out of memory");
	outlet_free(o);
	return (NULL);
fail1:
	free(o);
fail0:
	return (NULL);
}

/*
 * outlet_stop(o):
 * Stop accepting (close the listener); NULL does nothing.
 */
void
outlet_stop(struct outlet *o)
{
	size_t i;

	if (o == NULL)
		return;
	node_listener_close(&o->l);
	for (i = 0; i < o->ndialouts; i++)
		dialout_stop(o->dialouts[i]);
}

/*
 * outlet_free(o):
 * Stop and free ${o}; NULL does nothing.
 */
void
outlet_free(struct outlet *o)
{

	size_t i;

	if (o == NULL)
		return;
	outlet_stop(o);
	for (i = 0; i < o->ndialouts; i++)
		dialout_free(o->dialouts[i]);
	free(o->dialouts);
	free(o);
}
