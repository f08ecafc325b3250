/*
 * front: see front.h.
 *
 * Objects: the listener.  Every accepted socket is a struct conn
 * (conn.c) with the front's callbacks: while a relay role is plugged in,
 * first in FIRST_BYTES (a pending connection like a handshake: one list,
 * one eviction, one deadline, but a bound of its own), then, unless it is a preamble, in the
 * handshake until the request is known; then the role that serves it
 * takes it over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "front.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "sock.h"

struct front {
	struct env *env;
	struct listener l;
	void (*preamble)(void *, int, const uint8_t *);
	void *preamble_arg;
	struct {
		const struct front_kind *kind;
		int (*take)(void *, struct conn *);
		void *arg;
	} kinds[FRONT_KINDS]; /* registered request kinds */
	size_t nkinds;
	void (*service)(void *, struct conn *, const char *,
	    const struct request *);
	void *service_arg;
	struct metrics_series *m_max_pending; /* refused: first bytes due */
};

_Static_assert(TICKET_PREAMBLE_LEN <= CONN_FIRST_MAX, "preamble");

static void front_established(struct conn *c);
static size_t front_first(struct conn *c, const uint8_t *p, size_t have);

static const struct conn_ops front_ops = {
	.established = front_established,
	.first = front_first,
};

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

/*
 * The service the request ${req} (${len} bytes) of a peer not yet
 * proven names, for its audit line only: version 2's first TLV when it
 * is the service (as every sender writes it), else the bytes as they
 * are.  Nothing more of a request is parsed before its sender is proven
 * (request_parse runs in front_established).
 */
static void
claimed_service(char svc[CONFIG_NAME_MAX], const uint8_t *req, size_t len)
{

	if (len >= 3 && req[0] == REQUEST_V2 &&
	    req[1] == REQUEST_SERVICE && req[2] <= len - 3)
		copy_name(svc, req + 3, req[2]);
	else
		copy_name(svc, req, len);
}

/*
 * The role the node port's connections log before a role takes them:
 * "relay" on a node whose configuration has relay names and no outlet,
 * else "outlet".
 */
static const char *
front_role(const struct front *f)
{
	const struct config *cfg = f->env->cfg;

	return (cfg->noutlets == 0 && cfg->nrelays > 0 ? "relay" : "outlet");
}

/*
 * The registered kind whose prefix the request ${req} (${len} bytes)
 * starts with (the longest, if several do), as its index; -1 if none:
 * the request names a service.
 */
static int
kind_find(const struct front *f, const uint8_t *req, size_t len)
{
	size_t i, plen, best = 0;
	int found = -1;

	for (i = 0; i < f->nkinds; i++) {
		plen = strlen(f->kinds[i].kind->prefix);
		if (plen <= len && plen > best &&
		    memcmp(req, f->kinds[i].kind->prefix, plen) == 0) {
			best = plen;
			found = (int)i;
		}
	}
	return (found);
}

/*
 * Refuse ${c} with the audit ${reason} for the request ${svc}; the
 * authenticated peer is told why (${code}, enum channel_refusal).
 */
static void
refuse(struct front *f, struct conn *c, const char *reason, unsigned code,
    const char *svc)
{

	env_audit_conn(f->env, c, 0, reason, svc, c->role);
	conn_refuse(c, code, CONN_R_DENIED);
}

/* The initiator is authenticated: hand ${c} to the role for its request. */
static void
front_established(struct conn *c)
{
	struct front *f = c->arg;
	struct request r;
	const uint8_t *req;
	char svc[CONFIG_NAME_MAX];
	size_t len = 0;
	int k;

	req = channel_request(c->ch, &len);
	if (req == NULL)
		len = 0;
	copy_name(svc, req, len);
	/* A registered kind of request (the relay's "@S", "@R") is its
	 * part's, unless the connection is pooled (a service only). */
	k = len > 0 && c->dial_addr[0] == '\0' ? kind_find(f, req, len) : -1;
	if (k != -1) {
		c->role = f->kinds[k].kind->role;
		if (f->kinds[k].take != NULL &&
		    f->kinds[k].take(f->kinds[k].arg, c))
			return;
	}
	/* The request names a service (a bare name, or version 2). */
	if (request_parse(req, len, &r) != 0) {
		if (k != -1)
			refuse(f, c, "unknown-service",
			    CHANNEL_REFUSAL_UNKNOWN_SERVICE, svc);
		else
			refuse(f, c, "bad-request",
			    CHANNEL_REFUSAL_BAD_REQUEST, svc);
		return;
	}
	/*
	 * A pooled connection serves the name it was registered for and
	 * nothing else (not even a relay session request): the relay
	 * authorized the client for that name only.
	 */
	if (c->dial_addr[0] != '\0' && strcmp(r.service, c->name) != 0) {
		refuse(f, c, "registration-mismatch",
		    CHANNEL_REFUSAL_REGISTRATION_MISMATCH, r.service);
		return;
	}
	if (f->service == NULL || r.service[0] == FRONT_KIND_MARK) {
		refuse(f, c, "unknown-service",
		    CHANNEL_REFUSAL_UNKNOWN_SERVICE, r.service);
		return;
	}
	f->service(f->service_arg, c, r.service, &r);
}

/* Whether a served kind takes strangers (front_kind.strangers). */
static int
strangers_served(const struct front *f)
{
	size_t i;

	for (i = 0; i < f->nkinds; i++)
		if (f->kinds[i].kind->strangers && f->kinds[i].take != NULL)
			return (1);
	return (0);
}

/*
 * Whether ${f}'s node lets the peer ${id} of ${c} through its handshake
 * now: not revoked, and either a kind that decides on strangers itself
 * takes its request (kind ${k}; or, with no request yet, ${len} 0, such
 * a kind is served), or an allow list of the node names it with the
 * credentials it showed (*${why}: a credential's problem, if any).
 */
static int
peer_admitted(struct front *f, struct conn *c, const uint8_t *id, int k,
    size_t len, const char **why)
{
	const uint8_t *creds;
	size_t clen;

	if (cred_revoked_has_id(&f->env->revoked, id))
		return (0);
	/*
	 * A kind that decides on strangers itself (front_kind.strangers);
	 * or no request yet (an initiator pinning us by check sends it
	 * after msg3, a channel made ahead of a client with its client)
	 * while such a kind is served: the role that takes the request
	 * decides (an outlet or a relay on its allow lists).
	 */
	if ((k != -1 && f->kinds[k].kind->strangers &&
	    f->kinds[k].take != NULL) || (len == 0 && strangers_served(f)))
		return (1);
	creds = channel_peer_creds(c->ch, &clen);
	return (acl_claims(f->env->cfg, f->env->cache,
	    (uint64_t)ev_now(f->env->loop), id, creds, clen, why));
}

/*
 * The peer filter of every responder channel (${arg} is its connection,
 * whose arg is the front): an identity no allow list of the node names,
 * that shows no credential for itself from an authority a rule names, or
 * that is revoked, is refused before any signature is verified.
 */
static int
front_peer_known(void *arg, const uint8_t id[CHANNEL_ID_LEN],
    const uint8_t *req, size_t len)
{
	struct conn *c = arg;
	struct front *f = c->arg;
	char svc[CONFIG_NAME_MAX];
	int k = len > 0 ? kind_find(f, req, len) : -1;
	const char *role = k != -1 ? f->kinds[k].kind->role : front_role(f);
	const char *why = NULL, *dflt = "not-allowed";
	unsigned code = CHANNEL_REFUSAL_NOT_ALLOWED;
	size_t at;
	int told, forged;

	if (peer_admitted(f, c, id, k, len, &why))
		return (1);
	/*
	 * Audited as the role would have, plus verified=no (docs/logging.md):
	 * the identifier is the one claimed, its signature never checked.
	 * Anyone can cause this line: rate limited.
	 */
	if (k != -1) {
		at = f->kinds[k].kind->claim(req, len, &dflt, &code);
		copy_name(svc, req + at, len - at);
	} else
		claimed_service(svc, req, len);
	forged = why != NULL; /* a credential of the claim failed its check */
	if (cred_revoked_has_id(&f->env->revoked, id))
		why = "revoked";
	if (why == NULL)
		why = dflt;
	/* A resumed channel's peer is proven (its ticket): no verified=no. */
	if (channel_is_resumed(c->ch)) {
		env_audit_limited(f->env, &f->env->anyone_log, 0, why, id, svc,
		    role);
		told = 1;
	} else
		told = env_audit_claimed(f->env, &f->env->anyone_log, c, why,
		    id, svc, role);
	/*
	 * The initiator proved it holds its static key (msg3 was read):
	 * tell it, under the same limit as the line, that this identity is
	 * not admitted, so that it can say so (docs/protocol.md 2.3).  A
	 * claim resting on a credential that failed its check (forged
	 * headers) is closed silently: it cost a verification already.
	 */
	if (!told || forged)
		return (0);
	return (-(int)code);
}

/* A connection of the front on the accepted socket ${fd} (taken); NULL
 * (${fd} closed) on ENOMEM. */
static struct conn *
front_conn(struct front *f, int fd)
{
	struct conn *c;

	if ((c = conn_new(&f->env->ctx, &front_ops, -1, fd)) == NULL) {
		sock_close_reset(fd);
		return (NULL);
	}
	c->arg = f; /* c owns fd now */
	c->service = "-"; /* until a role takes its request */
	return (c);
}

/*
 * Run the responder handshake on ${c} (NEW, or FIRST_BYTES: a handshake
 * came): front_adopt's ${via}, ${reg} and ${tag}.
 */
static void
front_handshake(struct front *f, struct conn *c, const struct addr *via,
    const char *reg, const void *tag)
{
	struct channel *ch;

	c->role = via != NULL ? "outlet" : front_role(f);
	/* Pooled (dial_addr set): c->name is the registration it serves. */
	if (via != NULL && reg != NULL) {
		(void)addr_format(via, c->dial_addr, sizeof(c->dial_addr));
		c->name = reg;
		c->via = tag;
	}
	if ((ch = channel_new(CHANNEL_RESPONDER, env_local(f->env),
	    f->env->cache)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	channel_set_peer_filter(ch, front_peer_known, c);
	env_keypair(f->env, ch);
	/* [node] resume; without it a resumed msg1 gets "unknown". */
	if (f->env->cfg->node.resume)
		channel_resume_set_lookup(ch, resumecache_lookup,
		    f->env->resume_in);
	if (c->dial_addr[0] != '\0' && channel_bind_service(ch,
	    (const uint8_t *)reg, strlen(reg)) != 0) {
		channel_free(ch);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	if (conn_handshake(c, ch, CHANNEL_RESPONDER) == -1) /* c owns ch */
		conn_drop(c, CONN_R_NOMEM);
}

/* Reload: keep ${c} unless it waits for its request (WARM) and its peer
 * is no longer let through (front_peer_known's decision, again). */
static int
warm_keeps(struct env *e, struct conn *c)
{
	const uint8_t *id;
	const char *why = NULL;

	(void)e;
	if (c->state != CONN_WARM || c->ch == NULL ||
	    (id = channel_peer_id(c->ch)) == NULL)
		return (1);
	return (peer_admitted(c->arg, c, id, -1, 0, &why));
}

/*
 * front_revoke_warm(f):
 * Reload: end every channel of ${f} waiting for its request (a channel
 * made ahead of a client: conn.c's WARM) whose peer the node would no
 * longer let through its handshake (revoked, named by no allow list, its
 * credential's authority gone): audit deny reason=revoked.  Return how
 * many.
 */
unsigned
front_revoke_warm(struct front *f)
{

	return (env_end_each(f->env, &front_ops, warm_keeps, "revoked",
	    front_role(f)));
}

/*
 * front_adopt(f, fd, via, reg, tag):
 * Run a responder handshake on the connected socket ${fd} (taken): an
 * accepted channel (${via} and ${reg} NULL), or a pooled connection to
 * the relay at ${via} (copied to c->dial_addr) registered for the service
 * ${reg} (borrowed: c->name) that a client's msg1 arrived on; the
 * connection ends with the relay session ${tag} (c->via).
 */
void
front_adopt(struct front *f, int fd, const struct addr *via,
    const char *reg, const void *tag)
{
	struct conn *c;

	if ((c = front_conn(f, fd)) != NULL)
		front_handshake(f, c, via, reg, tag);
}

/*
 * The first bytes of an accepted connection (conn.c's FIRST_BYTES): a
 * handshake frame (its length prefix starts with a byte below 4) is a
 * channel; a preamble is read whole (and no further: what follows is the
 * channel) and goes to the relay role.
 */
static size_t
front_first(struct conn *c, const uint8_t *p, size_t have)
{
	struct front *f = c->arg;
	uint8_t pre[TICKET_PREAMBLE_LEN];

	if (p[0] != TICKET_CLIENT && p[0] != TICKET_POOLED) {
		/* A handshake now takes a slot of max_handshakes. */
		if (listener_make_room(&f->l, 0) == -1)
			conn_drop(c, CONN_R_MAX_HANDSHAKES);
		else
			front_handshake(f, c, NULL, NULL, NULL);
		return (0);
	}
	if (have < sizeof(pre))
		return (sizeof(pre));
	memcpy(pre, p, sizeof(pre)); /* p goes with c */
	f->preamble(f->preamble_arg, conn_take_chan(c), pre);
	return (0);
}

/*
 * A connection on the node's listen address (${fd} taken): on a relay
 * maybe a data connection, which its first bytes tell.
 */
static void
front_accept(struct listener *l, int fd)
{
	struct front *f = l->arg;
	struct conn *c;

	/*
	 * A relay: its own bound on connections waiting for their first
	 * bytes (not max_handshakes: the listener never stops for them);
	 * at it, one that sent nothing goes, else the newcomer.
	 */
	if (f->preamble != NULL && listener_make_room(l, 1) == -1) {
		metrics_inc(f->m_max_pending, 1);
		(void)log_limited(&f->env->refuse_log, ev_now(f->env->loop),
		    LOG_LVL_WARN, "event=refuse role=relay reason=max-pending "
		    "pending=%u", f->env->ctx.nfirst);
		sock_close_reset(fd);
		return;
	}
	if ((c = front_conn(f, fd)) == NULL)
		return;
	if (f->preamble == NULL) {
		front_handshake(f, c, NULL, NULL, NULL);
		return;
	}
	c->role = "relay";
	conn_first_bytes(c);
}

/*
 * front_new(e, err, errlen):
 * The front of the node ${e}; binds [node] listen if the configuration
 * has one.  No role is plugged in yet.  NULL with a message in ${err} on
 * failure.
 */
struct front *
front_new(struct env *e, char *err, size_t errlen)
{
	struct front *f;

	if ((f = calloc(1, sizeof(*f))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	f->env = e;
	f->m_max_pending = metrics_series(METRICS_REFUSED, "relay",
	    "max-pending", NULL);
	f->l.fd = -1;
	if (e->cfg->node.has_listen && listener_open(&f->l, e,
	    &e->cfg->node.listen, "node", "node", front_accept, f, err,
	    errlen) == -1) {
		free(f);
		return (NULL);
	}
	return (f);
}

/*
 * front_detach(f):
 * Reload: stop accepting and hand the listening socket over (return it,
 * or -1 if there is none); nothing is closed.
 */
int
front_detach(struct front *f)
{

	return (listener_detach(&f->l));
}

/*
 * front_listen(f, fd):
 * Reload: accept on ${fd} (taken; -1: no listen socket any more), bound
 * to [node] listen of the environment's configuration; the socket held
 * so far, if any, is closed.
 */
void
front_listen(struct front *f, int fd)
{

	listener_close(&f->l);
	if (fd != -1)
		listener_attach(&f->l, f->env, fd, &f->env->cfg->node.listen,
		    "node", "node", front_accept, f);
}

/*
 * front_register(f, kind, take, arg):
 * Requests that start with ${kind}->prefix (borrowed, static) are the
 * kind ${kind}: ${take}(${arg}, c) gets each established channel asking
 * for it and returns 1 if it took ${c}, 0 to let the front refuse it
 * (${take} NULL: the kind is known, for its audit lines, but not served).
 * Registering a prefix again replaces its handler.  Return 0, or -1 if
 * FRONT_KINDS kinds are registered already.
 */
int
front_register(struct front *f, const struct front_kind *kind,
    int (*take)(void *, struct conn *), void *arg)
{
	size_t i;

	for (i = 0; i < f->nkinds; i++)
		if (strcmp(f->kinds[i].kind->prefix, kind->prefix) == 0)
			break;
	if (i == FRONT_KINDS)
		return (-1);
	if (i == f->nkinds)
		f->nkinds++;
	f->kinds[i].kind = kind;
	f->kinds[i].take = take;
	f->kinds[i].arg = arg;
	return (0);
}

/*
 * front_serve_preamble(f, preamble, arg):
 * The relay role: ${preamble}(${arg}, fd, pre) gets each relay data
 * connection ${fd} (taken) with its whole preamble.
 */
void
front_serve_preamble(struct front *f,
    void (*preamble)(void *, int, const uint8_t *), void *arg)
{

	f->preamble = preamble;
	f->preamble_arg = arg;
}

/*
 * front_serve_outlet(f, service, arg):
 * The outlet role: ${service}(${arg}, c, svc, req) gets each established
 * channel asking for the service ${svc} (text, at most CONFIG_NAME_MAX - 1
 * bytes) with its whole request ${req} (both borrowed for the call); it
 * owns ${c} from then on and plugs in its own callbacks with
 * conn_set_ops().
 */
void
front_serve_outlet(struct front *f,
    void (*service)(void *, struct conn *, const char *,
    const struct request *), void *arg)
{

	f->service = service;
	f->service_arg = arg;
}

/*
 * front_stop(f):
 * Stop accepting (close the listen socket); connections whose first
 * bytes are on their way are still served.  NULL does nothing.
 */
void
front_stop(struct front *f)
{

	if (f != NULL)
		listener_close(&f->l);
}

/*
 * front_free(f):
 * Stop and free ${f}; NULL does nothing.
 */
void
front_free(struct front *f)
{

	if (f == NULL)
		return;
	front_stop(f);
	free(f);
}
