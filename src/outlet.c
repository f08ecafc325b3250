/*
 * outlet: see outlet.h.
 *
 * Per channel (handed over by the front once the handshake is done and
 * the request names a service): unknown service, or a peer not on that
 * outlet's allow-list: audit "deny", close the channel, no target
 * connection is ever made -> dial the target (connect deadline);
 * failure: "target-failed" (not an access decision: the peer was
 * allowed), close the channel, which the inlet turns into a prompt reset
 * of its client -> audit "allow", open.  Records sent right behind msg3
 * wait in the kernel (the channel socket is not read) until the target
 * is connected.  Every refusal of the authenticated peer is said to it
 * first in one REFUSE record (conn_refuse, docs/protocol.md 3.4).
 *
 * Dial slots (max_dials per outlet, docs/config.md): a target with a
 * small listen backlog must not see more of our connections waiting in
 * its accept queue than it would from the clients themselves.  A dial
 * holds a slot from its connect until the target has shown that it
 * accepted the connection: it sent its first byte or its EOF (ops->heard),
 * or the connection ended; or, for a silent target, once OUTLET_HOLD has
 * passed with everything we sent acknowledged (looked at again every
 * OUTLET_LOOK while it is not: unacknowledged bytes mean the target's
 * kernel has not made the connection yet, the case that loses data
 * behind a SYN cookie).  A connection with nothing sent yet waits
 * OUTLET_HOLD too: over a relay its client's first bytes may reach us
 * well after the target connect (giving such slots back at once let the
 * target's accept queue overflow in test 27).  Dials beyond
 * the cap wait in QUEUED (conn_wait_plain: not a pending handshake),
 * first in first out, for as long as the target keeps accepting: the
 * wait is not the connect's, which gets its whole connect_timeout once
 * dequeued.  A slow turn of the slots (a slow target, or a loop busy
 * elsewhere: connects to a relay through a port range full of TIME_WAIT
 * once took most of an outlet's time) must not turn a client whose bytes
 * and EOF are already in into lost data.  The wait ends only when no
 * dial of the gate has connected for connect_timeout since the dial
 * started waiting (a target that accepts nothing): then it is refused
 * as target-failed ETIMEDOUT, like a dial that timed out.
 */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "conn.h"
#include "dialout.h"
#include "fleet.h"
#include "identity.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "outlet.h"
#include "proxyproto.h"
#include "request.h"
#include "sock.h"

/* Seconds a silent target holds a dial slot at least (file comment). */
#define OUTLET_HOLD 0.1
/* Seconds between two looks at a dial with bytes unacknowledged. */
#define OUTLET_LOOK 0.01

struct gate;

/* A target dial under a cap (c->slot): in exactly one list of its gate. */
struct dial {
	struct conn *c;
	struct gate *g; /* NULL: its outlet is gone (the conn ends alone) */
	enum { DIAL_QUEUED, DIAL_DIALING, DIAL_HOLDING } st;
	ev_tstamp look; /* QUEUED: since when; HOLDING: next look */
	TAILQ_ENTRY(dial) link;
};
TAILQ_HEAD(dial_list, dial);

/* The dial slots of one [outlet NAME]. */
struct gate {
	char name[CONFIG_NAME_MAX];
	unsigned max;            /* max_dials (0: no cap) */
	unsigned busy;           /* slots taken: dialing + holding */
	struct dial_list queue;  /* waiting, oldest first */
	struct dial_list dialing;
	struct dial_list holding; /* by ${look}, soonest first */
	ev_tstamp accepted;      /* a dial last connected (0: never) */
	ev_timer timer;          /* the next look or give-up, or a pump */
	struct outlet *o;
	/* Its metrics, by name (metrics.h's handles, resolved in
	 * outlet_new): connections opened, dials queued, dials waiting. */
	struct metrics_series *m_opened;
	struct metrics_series *m_queued;
	struct metrics_series *m_waiting;
};

struct outlet {
	struct env *env;
	struct front *front;
	struct fleet **fleets; /* per [outlet] with relay =, or NULL */
	const char **names;    /* the outlet of each (borrowed) */
	size_t nfleets;
	struct gate *gates; /* one per [outlet NAME], same order */
	size_t ngates;
	/* Per (peer, outlet) limits (limit.h): kept across reloads. */
	struct limit_table limits;
	struct outlet *old; /* during outlet_new only */
};

static void outlet_dialed(struct conn *c, int err);
static void outlet_heard(struct conn *c);
static void outlet_dropped(struct conn *c, enum conn_reason reason);

static int outlet_renewed(struct conn *c);

static const struct conn_ops outlet_ops = {
	.dialed = outlet_dialed,
	.renewed = outlet_renewed,
	.heard = outlet_heard,
	.dropped = outlet_dropped,
};

/*
 * The target ${a} of ${c} could not be reached (${err}, an errno value):
 * not an access decision (the peer was allowed) but the target's state:
 * log it, tell the peer, end ${c}.
 */
static void
target_failed(struct conn *c, const struct addr *a, int err)
{
	char peer[IDENTITY_TEXT_SIZE], addr[ADDR_TEXT_MAX + 16];
	const char *en = err == CONN_ERESOLVE ? "resolve-failed" :
	    strerrorname_np(err);

	log_warn("event=target-failed role=outlet conn=%" PRIu64 " name=%s "
	    "peer=%s service=%s addr=%s errno=%s error=\"%s\"", c->id,
	    c->name, conn_peer_text(c, peer), c->service,
	    a != NULL ? addr_format(a, addr, sizeof(addr)) : "-",
	    en != NULL ? en : "-", err == CONN_ERESOLVE ?
	    "the name does not resolve" : strerror(err));
	conn_refuse(c, CHANNEL_REFUSAL_TARGET_FAILED, err == CONN_ERESOLVE ?
	    CONN_R_RESOLVE_FAILED : CONN_R_TARGET_REFUSED);
}

/* The list of ${g} that holds a dial in state ${st}. */
static struct dial_list *
gate_list(struct gate *g, int st)
{

	return (st == DIAL_QUEUED ? &g->queue : st == DIAL_DIALING ?
	    &g->dialing : &g->holding);
}

/* Move ${d} to state ${st} (at the tail of its list). */
static void
dial_move(struct dial *d, int st)
{
	struct gate *g = d->g;

	if (g != NULL) {
		TAILQ_REMOVE(gate_list(g, (int)d->st), d, link);
		TAILQ_INSERT_TAIL(gate_list(g, st), d, link);
		if (d->st == DIAL_QUEUED)
			metrics_inc(g->m_waiting, -1);
		if (d->st == DIAL_QUEUED && st != DIAL_QUEUED)
			g->busy++;
	}
	d->st = st;
}

/* Look at ${g} again in ${after} seconds (0: as soon as the loop can). */
static void
gate_soon(struct gate *g, double after)
{
	struct ev_loop *loop = g->o->env->loop;

	if (ev_is_active(&g->timer) && after > 0 &&
	    ev_timer_remaining(loop, &g->timer) <= after)
		return;
	ev_timer_stop(loop, &g->timer);
	ev_timer_set(&g->timer, after, 0.);
	ev_timer_start(loop, &g->timer);
}

/*
 * ${d} gives its slot back (if it held one) and leaves its gate; the
 * queue moves on from the loop, never from inside a conn callback.
 */
static void
dial_leave(struct dial *d)
{
	struct gate *g = d->g;

	if (g == NULL)
		return;
	TAILQ_REMOVE(gate_list(g, (int)d->st), d, link);
	if (d->st == DIAL_QUEUED)
		metrics_inc(g->m_waiting, -1);
	else {
		g->busy--;
		if (!TAILQ_EMPTY(&g->queue))
			gate_soon(g, 0);
	}
	d->g = NULL;
}

/*
 * The queued ${d} waited connect_timeout while its target accepted no
 * dial: refuse it like a dial that timed out (its conn ends: ${d} leaves
 * and is freed).
 */
static void
dial_give_up(struct dial *d)
{
	const struct config_outlet *co;

	co = config_outlet_find(d->g->o->env->cfg, d->g->name);
	target_failed(d->c, co != NULL ? &co->target : NULL, ETIMEDOUT);
}

/* Dial the target of ${co} for ${c} (NULL: the outlet is gone). */
static void
dial_target(struct conn *c, const struct config_outlet *co)
{

	if (co == NULL)
		target_failed(c, NULL, ENOENT); /* gone: revoked anyway */
	else if (conn_dial_plain(c, &co->target) == -1)
		target_failed(c, &co->target, errno != 0 ? errno : EIO);
}

/*
 * When the queued ${d} of ${g} is given up: connect_timeout after the
 * later of its start of waiting and the last connect of a dial of ${g}.
 */
static ev_tstamp
queue_deadline(const struct gate *g, const struct dial *d)
{

	return ((d->look > g->accepted ? d->look : g->accepted) +
	    g->o->env->ctx.connect_timeout);
}

/*
 * Let the holders of ${g} whose look is due go if the target acknowledged
 * all they sent, give up the queued dials whose deadline passed (the
 * oldest first: the deadlines grow along the queue), give the free slots
 * to the oldest dials left.  Then arm the timer for the next look or
 * deadline.
 */
static void
gate_run(struct gate *g)
{
	ev_tstamp now = ev_now(g->o->env->loop), next;
	struct dial *d;

	while ((d = TAILQ_FIRST(&g->holding)) != NULL && d->look <= now) {
		if (d->c->fd_plain == -1 || !sock_unacked(d->c->fd_plain))
			dial_leave(d); /* d stays the conn's, unlinked */
		else {
			d->look = now + OUTLET_LOOK;
			dial_move(d, DIAL_HOLDING); /* to the tail */
		}
	}
	while ((d = TAILQ_FIRST(&g->queue)) != NULL &&
	    queue_deadline(g, d) <= now)
		dial_give_up(d); /* d has left */
	while ((g->max == 0 || g->busy < g->max) &&
	    (d = TAILQ_FIRST(&g->queue)) != NULL) {
		dial_move(d, DIAL_DIALING);
		log_debug("event=dial-dequeued role=outlet conn=%" PRIu64
		    " name=%s waited_ms=%.0f", d->c->id, g->name,
		    (now - d->look) * 1000.);
		/* may drop d->c: then d has left */
		dial_target(d->c, config_outlet_find(g->o->env->cfg, g->name));
	}
	next = 0;
	if ((d = TAILQ_FIRST(&g->holding)) != NULL)
		next = d->look;
	if ((d = TAILQ_FIRST(&g->queue)) != NULL &&
	    (next == 0 || queue_deadline(g, d) < next))
		next = queue_deadline(g, d);
	if (next != 0)
		gate_soon(g, next - now > 0.001 ? next - now : 0.001);
}

static void
gate_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	gate_run(w->data);
}

/* ${c} (just admitted to ${co}) dials its target, or waits its turn. */
static void
gate_enter(struct outlet *o, struct conn *c,
    const struct config_outlet *co)
{
	struct gate *g = NULL;
	struct dial *d;
	size_t i;

	for (i = 0; i < o->ngates && g == NULL; i++)
		if (strcmp(o->gates[i].name, co->name) == 0)
			g = &o->gates[i];
	/* (An outlet older than the configuration has no gate for it.) */
	c->opened = g != NULL ? g->m_opened :
	    metrics_series(METRICS_CONN_OPENED, "outlet", co->name, NULL);
	if (g == NULL || g->max == 0) {
		/* No cap (or an outlet older than the configuration). */
		dial_target(c, co);
		return;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	d->c = c;
	d->g = g;
	c->slot = d;
	if (g->busy < g->max && TAILQ_EMPTY(&g->queue)) {
		d->st = DIAL_DIALING;
		TAILQ_INSERT_TAIL(&g->dialing, d, link);
		g->busy++;
		dial_target(c, co);
		return;
	}
	d->st = DIAL_QUEUED;
	d->look = ev_now(o->env->loop);
	TAILQ_INSERT_TAIL(&g->queue, d, link);
	metrics_inc(g->m_queued, 1);
	metrics_inc(g->m_waiting, 1);
	log_debug("event=dial-queued role=outlet conn=%" PRIu64 " name=%s "
	    "busy=%u max_dials=%u", c->id, g->name, g->busy, g->max);
	conn_wait_plain(c);
	gate_soon(g, queue_deadline(g, d) - d->look);
}

/* The target of ${c} sent its first byte or its EOF: it accepted. */
static void
outlet_heard(struct conn *c)
{
	struct dial *d = c->slot;

	if (d != NULL && d->st == DIAL_HOLDING)
		dial_leave(d);
}

/* ${c} ended: its dial, queued or not, is over. */
static void
outlet_dropped(struct conn *c, enum conn_reason reason)
{
	struct outlet *o = c->arg;
	struct dial *d = c->slot;

	(void)reason;
	if (c->limited != 0) {
		limit_release(&o->limits, c->limited - 1);
		c->limited = 0;
	}
	if (d == NULL)
		return;
	dial_leave(d);
	free(d);
	c->slot = NULL;
}

/* The target answered (or not). */
static void
outlet_dialed(struct conn *c, int err)
{
	struct outlet *o = c->arg;
	const struct config_outlet *co;
	struct dial *d = c->slot;

	if (err == 0 && d != NULL && d->g != NULL) {
		/* The target accepts: the queue's deadlines move on. */
		d->g->accepted = ev_now(o->env->loop);
		d->look = ev_now(o->env->loop) + OUTLET_HOLD;
		dial_move(d, DIAL_HOLDING);
		gate_soon(d->g, OUTLET_HOLD);
	}
	if (err != 0) {
		/* c->service is the outlet's name (the config it came from). */
		co = config_outlet_find(o->env->cfg, c->service);
		target_failed(c, co != NULL ? &co->target : NULL, err);
		return;
	}
	env_audit_conn(o->env, c, 1, "allowed", c->service, "outlet");
	conn_open(c);
}

/*
 * proxy_protocol = v2: the PROXY header for ${c} (the client's ends from
 * the request ${r}, which the peer's identity vouches for) goes to the
 * target ahead of everything.  Return 0, or -1 on ENOMEM.
 */
static int
proxy_header(struct conn *c, const struct config_outlet *co,
    const struct request *r)
{
	struct proxyproto_info pi;
	char peer[IDENTITY_TEXT_SIZE];
	uint8_t hdr[PROXYPROTO_MAX];
	long n;

	pi.src = &r->src;
	pi.dst = &r->dst;
	pi.peer = identity_id_format(channel_peer_id(c->ch), peer);
	pi.authority = co->name;
	pi.unique_id = c->id;
	if ((n = proxyproto_build(&pi, hdr, sizeof(hdr))) < 0)
		return (-1); /* cannot happen: every value is bounded */
	return (conn_plain_prefix(c, hdr, (size_t)n));
}

/*
 * The decision of ${e} for the peer of ${c} on the allow list of ${co},
 * now: with its credentials; ${v} says why.
 */
static bool
outlet_admits(const struct env *e, const struct conn *c,
    const struct config_outlet *co, struct acl_verdict *v)
{
	struct sockaddr_storage src;
	struct acl_peer peer;
	struct acl_ctx ax;

	conn_src_addr(c, &src);
	peer.id = channel_peer_id(c->ch);
	peer.creds = channel_peer_creds(c->ch, &peer.creds_len);
	peer.src = &src;
	env_acl(e, &ax);
	return (acl_outlet(&ax, co, &peer, NULL, v));
}

/*
 * The limits of ${co} for the peer of ${c} (allowed): return 0 if it is
 * within them (${c} is then counted until it ends, and shaped if the
 * outlet says so), or -1 once ${c} is refused (REFUSE limit; audited,
 * counted) or dropped (ENOMEM).
 */
static int
outlet_limits(struct outlet *o, struct conn *c,
    const struct config_outlet *co)
{
	const uint8_t *id = channel_peer_id(c->ch);
	struct limit_share *sh;
	struct limit_entry *x;
	enum limit_kind k;

	k = limit_admit(&o->limits, id, co->name, &co->limits,
	    ev_now(o->env->loop), &x);
	if (k == LIMIT_OK) {
		c->limited = x != NULL ? limit_slot(&o->limits, x) + 1 : 0;
		sh = NULL;
		if (co->limits.peer_bytes != 0 && (sh = limit_share_get(x,
		    (double)co->limits.peer_bytes, ev_now(o->env->loop))) ==
		    NULL) {
			conn_drop(c, CONN_R_NOMEM);
			return (-1);
		}
		if (conn_shape(c, co->limits.bytes, sh) == 0)
			return (0);
		conn_drop(c, CONN_R_NOMEM);
		return (-1);
	}
	env_limit_refused(o->env, c, id, co->name, "outlet", k, x,
	    &co->limits);
	conn_refuse(c, CHANNEL_REFUSAL_LIMIT, CONN_R_DENIED);
	return (-1);
}

/* The front hands over ${c}, authenticated, asking for ${svc} (the
 * request ${r}): decide, then dial the target. */
static void
outlet_service(void *arg, struct conn *c, const char *svc,
    const struct request *r)
{
	struct outlet *o = arg;
	const struct config_outlet *co;
	struct acl_verdict v;

	conn_set_ops(c, &outlet_ops, o);
	if ((co = config_outlet_find(o->env->cfg, svc)) == NULL) {
		env_audit_conn(o->env, c, 0, "unknown-service", svc, "outlet");
		conn_refuse(c, CHANNEL_REFUSAL_UNKNOWN_SERVICE, CONN_R_DENIED);
		return;
	}
	c->name = co->name;
	c->service = co->name;
	if (!outlet_admits(o->env, c, co, &v)) {
		env_audit_conn_verdict(o->env, c, 0, "not-allowed", co->name,
		    "outlet", &v);
		conn_refuse(c, CHANNEL_REFUSAL_NOT_ALLOWED, CONN_R_DENIED);
		return;
	}
	c->cred_expiry = v.expiry;
	c->rule = v.rule;
	env_audit_conn_would(o->env, c, co->name, "outlet", &v);
	env_resume_keep(o->env, c, "outlet"); /* allowed: its ticket */
	/* The client's addresses come from a version 2 request only. */
	if (co->proxy_v2 && r->version < 2) {
		env_audit_conn(o->env, c, 0, "old-request", co->name, "outlet");
		conn_refuse(c, CHANNEL_REFUSAL_OLD_REQUEST, CONN_R_DENIED);
		return;
	}
	if (outlet_limits(o, c, co) == -1)
		return;
	if (co->proxy_v2 && proxy_header(c, co, r) == -1) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	gate_enter(o, c, co);
}

/* A client's msg1 arrived on a pooled connection: the front runs it. */
static void
outlet_pooled(void *arg, int fd, struct dialout *d)
{
	struct outlet *o = arg;

	/* the front owns fd now */
	front_adopt(o->front, fd, dialout_addr(d), dialout_name(d), d);
}

/* Reload: ${c}, a connection of the old outlet ${o->old}, is ${o}'s. */
static void
take_conn(struct conn *c, void *arg)
{
	struct outlet *o = arg;

	if (c->ops == &outlet_ops && c->arg == o->old)
		conn_set_ops(c, &outlet_ops, o);
}

/* Reload: the fleet of registrations of ${co} in ${old}, or NULL. */
static struct fleet *
old_fleet(struct outlet *old, const struct config_outlet *co)
{
	size_t i;

	for (i = 0; old != NULL && i < old->nfleets; i++)
		if (old->names[i] != NULL && strcmp(old->names[i], co->name) ==
		    0)
			return (old->fleets[i]);
	return (NULL);
}

/* Orphan every dial of ${g} (its conns end alone) and stop its timer. */
static void
gate_fini(struct gate *g)
{
	struct dial *d;
	int st;

	for (st = DIAL_QUEUED; st <= DIAL_HOLDING; st++)
		while ((d = TAILQ_FIRST(gate_list(g, st))) != NULL)
			dial_leave(d);
	ev_timer_stop(g->o->env->loop, &g->timer);
}

/*
 * Reload: the gate ${g} of the new outlet takes over the dials of the
 * gate of the same name in ${old}, if any, in their order.
 */
static void
take_gate(struct gate *g, struct outlet *old)
{
	struct gate *og = NULL;
	struct dial *d;
	size_t i;
	int st;

	for (i = 0; old != NULL && i < old->ngates && og == NULL; i++)
		if (strcmp(old->gates[i].name, g->name) == 0)
			og = &old->gates[i];
	if (og == NULL)
		return;
	for (st = DIAL_QUEUED; st <= DIAL_HOLDING; st++)
		while ((d = TAILQ_FIRST(gate_list(og, st))) != NULL) {
			TAILQ_REMOVE(gate_list(og, st), d, link);
			TAILQ_INSERT_TAIL(gate_list(g, st), d, link);
			d->g = g;
		}
	g->busy = og->busy;
	g->accepted = og->accepted;
	og->busy = 0;
	ev_timer_stop(g->o->env->loop, &og->timer);
	gate_soon(g, 0); /* the cap may have changed */
}

/* The limits of [outlet ${name}] of ${cfg}, or NULL. */
static const struct config_limits *
limits_of(const struct config *cfg, const char *name)
{
	const struct config_outlet *co = config_outlet_find(cfg, name);

	return (co != NULL ? &co->limits : NULL);
}

/*
 * Reload: the per-peer table of ${old} is ${o}'s (its connections' slots
 * stay), bounded anew; pairs now over their cap are said.
 */
static void
take_limits(struct outlet *o, struct outlet *old)
{

	o->limits = old->limits;
	limit_table_init(&old->limits, 1);
	env_limit_reload(o->env, &o->limits, "outlet", limits_of);
}

/*
 * outlet_new(e, f, old, err, errlen):
 * The outlet role of ${e}: serve the channels the front ${f} (borrowed)
 * hands over, and register each outlet that has relay = at its relay.
 * ${old} (may be NULL) is the outlet role of the previous configuration:
 * its unchanged registrations and its connections become this one's
 * (free ${old} afterwards: what is left of it ends).  NULL with a
 * message in ${err} on failure.
 */
struct outlet *
outlet_new(struct env *e, struct front *f, struct outlet *old, char *err,
    size_t errlen)
{
	const struct config *cfg = e->cfg;
	struct outlet *o;
	size_t i;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto nomem;
	o->env = e;
	o->front = f;
	limit_table_init(&o->limits,
	    (size_t)cfg->node.max_connections + LIMIT_IDLE_KEEP);
	if (cfg->noutlets > 0 &&
	    ((o->fleets = calloc(cfg->noutlets, sizeof(*o->fleets))) ==
	    NULL || (o->names = calloc(cfg->noutlets, sizeof(*o->names))) ==
	    NULL || (o->gates = calloc(cfg->noutlets, sizeof(*o->gates))) ==
	    NULL))
		goto nomem;
	for (i = 0; i < cfg->noutlets; i++) {
		struct gate *g = &o->gates[i];

		snprintf(g->name, sizeof(g->name), "%s", cfg->outlets[i].name);
		g->max = cfg->outlets[i].max_dials;
		TAILQ_INIT(&g->queue);
		TAILQ_INIT(&g->dialing);
		TAILQ_INIT(&g->holding);
		ev_init(&g->timer, gate_timer_cb);
		g->timer.data = g;
		g->o = o;
		g->m_opened = metrics_series(METRICS_CONN_OPENED, "outlet",
		    g->name, NULL);
		g->m_queued = metrics_series(METRICS_DIALS_QUEUED, g->name,
		    NULL, NULL);
		g->m_waiting = metrics_series(METRICS_DIALS_WAITING, g->name,
		    NULL, NULL);
		o->ngates++;
	}
	for (i = 0; i < cfg->noutlets; i++) {
		const struct config_outlet *co = &cfg->outlets[i];
		struct fleet *fl;

		if (!co->has_relay)
			continue;
		/* Unchanged registrations of ${old} go on in the new fleet. */
		if ((fl = fleet_new(e, DIALOUT_REGISTER, co->name, co->relay,
		    co->nrelay, co->pool, "outlet", old_fleet(old, co))) ==
		    NULL)
			goto nomem;
		fleet_on_pooled(fl, outlet_pooled, o);
		o->names[o->nfleets] = co->name;
		o->fleets[o->nfleets++] = fl;
	}
	if (old != NULL) {
		o->old = old;
		conn_ctx_each(&e->ctx, take_conn, o);
		o->old = NULL;
		for (i = 0; i < o->ngates; i++)
			take_gate(&o->gates[i], old);
		take_limits(o, old);
	}
	front_serve_outlet(f, outlet_service, o);
	return (o);
nomem:
	snprintf(err, errlen, "out of memory");
	outlet_free(o);
	return (NULL);
}

/*
 * outlet_restart(o):
 * The node's identity changed: renew every registration.
 */
void
outlet_restart(struct outlet *o)
{
	size_t i;

	for (i = 0; i < o->nfleets; i++)
		fleet_restart(o->fleets[i]);
}

/*
 * Decide again for ${c} (its service and peer, the peer's credentials as
 * they are now) with ${e}'s configuration; ${v} says why.  Admitted: keep
 * the credential's end and rule, return 1.
 */
static int
readmit(struct env *e, struct conn *c, struct acl_verdict *v)
{
	const struct config_outlet *co;

	memset(v, 0, sizeof(*v));
	if ((co = config_outlet_find(e->cfg, c->service)) == NULL ||
	    !outlet_admits(e, c, co, v))
		return (0);
	c->cred_expiry = v->expiry;
	c->rule = v->rule; /* the current configuration's text */
	return (1);
}

/* Reload: keep ${c} if its service remains and still admits its peer. */
static int
still_admitted(struct env *e, struct conn *c)
{
	struct acl_verdict v;

	return (readmit(e, c, &v));
}

/*
 * The peer of ${c} renewed its credentials: decide again with them (audit
 * allow reason=credential-renewed, or deny with the credential problem:
 * then ${c} ends).
 */
static int
outlet_renewed(struct conn *c)
{
	struct outlet *o = c->arg;
	struct acl_verdict v;

	if (!readmit(o->env, c, &v)) {
		env_audit_conn_verdict(o->env, c, 0, "not-allowed", c->service,
		    "outlet", &v);
		return (-1);
	}
	env_audit_conn_verdict(o->env, c, 1, "credential-renewed", c->service,
	    "outlet", &v);
	return (0);
}

/*
 * outlet_revoke_all(e):
 * Reload: end every outlet connection of ${e} whose service is gone or
 * whose peer its allow-list no longer names (audit reason=revoked).
 * Return how many.
 */
unsigned
outlet_revoke_all(struct env *e)
{

	return (env_end_each(e, &outlet_ops, still_admitted, "revoked",
	    "outlet"));
}

/*
 * outlet_expire_all(e):
 * End every outlet connection of ${e} admitted by a credential that has
 * expired (audit reason=credential-expired).  Return how many.
 */
unsigned
outlet_expire_all(struct env *e)
{

	return (env_expire_each(e, &outlet_ops, "outlet"));
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
	for (i = 0; i < o->nfleets; i++)
		fleet_stop(o->fleets[i]);
}

/* ${o} goes: its connection ${c} (ending alone) is counted nowhere now. */
static void
forget_limit(struct conn *c, void *arg)
{

	if (c->ops == &outlet_ops && c->arg == arg)
		c->limited = 0;
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
	/* Connections can outlive it (shutdown frees the roles first): they
	 * must not release into its table. */
	conn_ctx_each(&o->env->ctx, forget_limit, o);
	outlet_stop(o);
	for (i = 0; i < o->nfleets; i++)
		fleet_free(o->fleets[i]); /* what is left of it */
	free(o->fleets);
	free(o->names);
	for (i = 0; i < o->ngates; i++)
		gate_fini(&o->gates[i]);
	free(o->gates);
	limit_table_fini(&o->limits);
	free(o);
}
