/*
 * outlet: see outlet.h.
 *
 * Per channel (handed over by the front once the handshake is done and
 * the request names a service): unknown service, or a peer not on that
 * outlet's allow-list: audit "deny", close the channel, no target
 * connection is ever made -> dial the target (connect deadline);
 * failure: audit "deny reason=target-refused", close the channel, which
 * the inlet turns into a prompt reset of its client -> audit "allow",
 * open.  Records sent right behind msg3 wait in the kernel (the channel
 * socket is not read) until the target is connected.
 */
#include <stdio.h>
#include <stdlib.h>

#include "acl.h"
#include "conn.h"
#include "dialout.h"
#include "outlet.h"

struct outlet {
	struct env *env;
	struct front *front;
	struct dialout **dialouts; /* per [outlet] with relay =, or NULL */
	size_t ndialouts;
};

static void outlet_dialed(struct conn *c, int err);

static const struct conn_ops outlet_ops = {
	.dialed = outlet_dialed,
};

/* The target answered (or not). */
static void
outlet_dialed(struct conn *c, int err)
{
	struct outlet *o = c->arg;

	if (err != 0) {
		env_audit(o->env, 0, "target-refused", channel_peer_id(c->ch),
		    c->service, "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_TARGET_REFUSED);
		return;
	}
	env_audit(o->env, 1, "allowed", channel_peer_id(c->ch), c->service,
	    "outlet");
	conn_open(c);
}

/* The front hands over ${c}, authenticated, asking for ${svc}: decide,
 * then dial the target. */
static void
outlet_service(void *arg, struct conn *c, const char *svc)
{
	struct outlet *o = arg;
	const struct config_outlet *co;
	const uint8_t *peer = channel_peer_id(c->ch);

	conn_set_ops(c, &outlet_ops, o);
	if ((co = config_outlet_find(o->env->cfg, svc)) == NULL) {
		env_audit(o->env, 0, "unknown-service", peer, svc, "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return;
	}
	c->name = co->name;
	c->service = co->name;
	if (!acl_allows(co, peer)) {
		env_audit(o->env, 0, "not-allowed", peer, co->name, "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return;
	}
	if (conn_dial_plain(c, &co->target) == -1) {
		env_audit(o->env, 0, "target-refused", peer, co->name,
		    "outlet");
		c->quiet = 1;
		conn_drop(c, CONN_R_TARGET_REFUSED);
	}
}

/* A client's msg1 arrived on a pooled connection: the front runs it. */
static void
outlet_pooled(void *arg, int fd, const struct addr *via, const char *reg)
{
	struct outlet *o = arg;

	front_adopt(o->front, fd, via, reg); /* the front owns fd now */
}

/*
 * outlet_new(e, f, err, errlen):
 * The outlet role of ${e}: serve the channels the front ${f} (borrowed)
 * hands over, and register each outlet that has relay = at its relay.
 * NULL with a message in ${err} on failure.
 */
struct outlet *
outlet_new(struct env *e, struct front *f, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	struct outlet *o;
	size_t i;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto nomem;
	o->env = e;
	o->front = f;
	if (cfg->noutlets > 0 &&
	    (o->dialouts = calloc(cfg->noutlets, sizeof(*o->dialouts))) ==
	    NULL)
		goto nomem;
	for (i = 0; i < cfg->noutlets; i++) {
		const struct config_outlet *co = &cfg->outlets[i];

		if (!co->has_relay)
			continue;
		if ((o->dialouts[o->ndialouts] = dialout_new(e,
		    DIALOUT_REGISTER, co->name, co->relay_id, &co->relay,
		    co->pool, "outlet")) == NULL)
			goto nomem;
		dialout_on_pooled(o->dialouts[o->ndialouts++], outlet_pooled,
		    o);
	}
	front_serve_outlet(f, outlet_service, o);
	return (o);
nomem:
	snprintf(err, errlen, "out of memory");
	outlet_free(o);
	return (NULL);
}

/*
 * outlet_stop(o):
 * Stop registering at relays; NULL does nothing.
 */
void
outlet_stop(struct outlet *o)
{
	size_t i;

	if (o == NULL)
		return;
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
