/*
 * dialout: see dialout.h and docs/relay.md.
 *
 * Life cycle: IDLE --start--> handshake (a struct conn dialing the relay
 * and running Noise XX as initiator) --established--> session (the conn
 * hands over its socket and channel: conn_detach) --ticket--> up.  Any
 * failure on the way, or the session dying later (closed, keepalive
 * timeout), schedules the next attempt after the current backoff, drawn
 * uniformly from [b/2, b] where b starts at 0.1 s and doubles up to 5 s;
 * a ticket resets b.  So after a relay restart a node is back within 5 s
 * of the relay's return.
 *
 * Pool (registrations): ${pool} connections, each dialed, given its P
 * preamble, then left waiting.  The first byte that arrives on one is a
 * client's msg1: the socket goes to the owner (dialout_on_pooled) and a
 * new one is dialed at once.  A pooled connection the relay closes is
 * replaced after a second; all of them are closed with the session.
 */
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "dialout.h"
#include "config.h"
#include "env.h"
#include "identity.h"
#include "log.h"
#include "session.h"
#include "sock.h"

#define DIALOUT_BACKOFF_MIN 0.1
#define DIALOUT_BACKOFF_MAX 5.0
#define DIALOUT_REFILL 1.0   /* after a pooled connection failed */
#define DIALOUT_MSG_TICKET 'T'
#define DIALOUT_MSG_MORE 'M'
#define DIALOUT_EXTRA_MAX 64 /* pooled connections beyond ${pool} */
#define DIALOUT_TRACK 64     /* recent data connections, for refusals */

struct dpool {
	struct dialout *d;
	int fd;
	int ready; /* preamble sent; waiting for a client */
	size_t sent;
	uint8_t pre[TICKET_PREAMBLE_LEN];
	ev_io w;
	struct reap_entry reap;
	struct dpool *prev, *next;
};

struct dialout {
	struct env *env;
	enum dialout_kind kind;
	const char *name;
	const char *role;
	const uint8_t *relay_id;
	const struct addr *relay;
	/* A member of a fleet (fleet.c): the one address of ${relay} it
	 * keeps its session with (borrowed), else NULL. */
	const struct addr *at;
	/* ${relay} with the address its last session connected to (a name
	 * resolves to several): the pooled and relayed connections go
	 * there, to the same relay, without a lookup of their own. */
	struct addr peer;
	unsigned pool;
	struct conn *hs;    /* the handshake in progress, or NULL */
	struct session *s;  /* the session, or NULL */
	int has_ticket;
	struct ticket t;
	double backoff;
	ev_timer retry;     /* next attempt */
	ev_timer refill;    /* pool refill after a failure */
	struct dpool *pooled;
	unsigned npooled;
	int stopping;
	int failed; /* the last attempt failed (until the next one starts) */
	void (*down_cb)(void *); /* the session ended after it was up */
	void *down_arg;
	void (*fail_cb)(void *); /* an attempt failed or the session ended */
	void *fail_arg;
	/* a client's msg1 arrived on a pooled connection */
	void (*pooled_cb)(void *, int, struct dialout *);
	void *pooled_arg;
	struct ready_item ready; /* on env->ready: up or not (/readyz) */
	/* The last DIALOUT_TRACK client data connections: their preamble
	 * counter and conn= (a relay's refusal names the counter). */
	uint64_t track_ctr[DIALOUT_TRACK], track_id[DIALOUT_TRACK];
	struct dialout *prev, *next; /* env->dialouts */
};

static void start(struct dialout *d);

/*
 * The relay of ${d} for log lines into ${buf}: as written, and for a
 * member of a fleet the address it keeps its session with ("NAME:PORT
 * relay_addr=IP:PORT": the field relay_addr= added to the line).
 */
static const char *
where(const struct dialout *d, char *buf, size_t len)
{
	char w[ADDR_TEXT_MAX + 16], a[ADDR_TEXT_MAX + 16];

	(void)addr_format(d->relay, w, sizeof(w));
	if (d->at == NULL)
		snprintf(buf, len, "%s", w);
	else
		snprintf(buf, len, "%s relay_addr=%s", w,
		    addr_format(d->at, a, sizeof(a)));
	return (buf);
}

/* The readiness predicate of a dialout (ready.h): dialout_is_up(). */
static int
ready_is_up(const void *arg)
{

	return (dialout_is_up(arg));
}
static void pool_fill(struct dialout *d);

/* Schedule the next attempt: [b/2, b], then double b (at most 5 s). */
static void
schedule(struct dialout *d)
{
	char addr[2 * ADDR_TEXT_MAX + 48];
	uint32_t rnd = 0;
	double delay;

	if (d->stopping)
		return;
	if (d->fail_cb != NULL)
		d->fail_cb(d->fail_arg);
	(void)crypto_random(&rnd, sizeof(rnd));
	delay = d->backoff * (0.5 + 0.5 * (double)rnd / 4294967295.0);
	d->backoff *= 2;
	if (d->backoff > DIALOUT_BACKOFF_MAX)
		d->backoff = DIALOUT_BACKOFF_MAX;
	ev_timer_stop(d->env->loop, &d->retry);
	ev_timer_set(&d->retry, delay, 0.);
	ev_timer_start(d->env->loop, &d->retry);
	log_info("event=relay-retry role=%s kind=%s relay=%s service=%s "
	    "delay_s=%.2f", d->role, d->kind == DIALOUT_REGISTER ? "register" :
	    "client", where(d, addr, sizeof(addr)), d->name,
	    delay);
}

/* Close and forget one pooled connection. */
static void
dpool_free(struct dpool *dp, int close_fd)
{
	struct dialout *d = dp->d;

	ev_io_stop(d->env->loop, &dp->w);
	if (close_fd)
		close(dp->fd);
	if (dp->prev != NULL)
		dp->prev->next = dp->next;
	else
		d->pooled = dp->next;
	if (dp->next != NULL)
		dp->next->prev = dp->prev;
	d->npooled--;
	wipe(dp->pre, sizeof(dp->pre));
	reaper_defer(conn_ctx_reaper(&d->env->ctx), &dp->reap, free, dp);
}

/* A pooled connection failed or was closed: replace it later. */
static void
dpool_lost(struct dpool *dp)
{
	struct dialout *d = dp->d;

	dpool_free(dp, 1);
	if (!ev_is_active(&d->refill)) {
		ev_timer_set(&d->refill, DIALOUT_REFILL, 0.);
		ev_timer_start(d->env->loop, &d->refill);
	}
}

/*
 * A pooled connection's socket is ready: finish the connect and send the
 * preamble (writable), or see what the relay sent (readable): a client's
 * first bytes (hand it to the outlet role) or a close.
 */
static void
dpool_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct dpool *dp = w->data;
	struct dialout *d = dp->d;
	socklen_t len = sizeof(int);
	uint8_t b;
	ssize_t n;
	int err = 0, fd;

	(void)revents;
	if (!dp->ready) {
		if (getsockopt(dp->fd, SOL_SOCKET, SO_ERROR, &err, &len) ==
		    -1 || err != 0) {
			dpool_lost(dp);
			return;
		}
		n = send(dp->fd, dp->pre + dp->sent, sizeof(dp->pre) - dp->sent,
		    MSG_NOSIGNAL);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			dpool_lost(dp);
			return;
		}
		dp->sent += (size_t)n;
		if (dp->sent < sizeof(dp->pre))
			return;
		dp->ready = 1;
		ev_io_stop(loop, &dp->w);
		ev_io_set(&dp->w, dp->fd, EV_READ);
		ev_io_start(loop, &dp->w);
		return;
	}
	n = recv(dp->fd, &b, 1, MSG_PEEK);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		dpool_lost(dp);
		return;
	}
	/* A client's handshake: the owner takes the socket. */
	fd = dp->fd;
	dpool_free(dp, 0);
	if (d->pooled_cb != NULL)
		d->pooled_cb(d->pooled_arg, fd, d);
	else
		close(fd);
	pool_fill(d);
}

/* Open one pooled connection: dial, the preamble follows when writable. */
static int
dpool_open(struct dialout *d)
{
	struct dpool *dp;

	if ((dp = calloc(1, sizeof(*dp))) == NULL)
		goto fail0;
	if (ticket_preamble_build(&d->t, TICKET_POOLED, d->name, dp->pre) ==
	    -1)
		goto fail1;
	if ((dp->fd = sock_dial(dialout_addr(d))) == -1)
		goto fail1;
	dp->d = d;
	ev_io_init(&dp->w, dpool_cb, dp->fd, EV_WRITE);
	dp->w.data = dp;
	ev_io_start(d->env->loop, &dp->w);
	dp->prev = NULL;
	if ((dp->next = d->pooled) != NULL)
		d->pooled->prev = dp;
	d->pooled = dp;
	d->npooled++;
	return (0);
fail1:
	wipe(dp->pre, sizeof(dp->pre));
	free(dp);
fail0:
	return (-1);
}

/* Keep ${pool} pooled connections while registered. */
static void
pool_fill(struct dialout *d)
{

	if (d->kind != DIALOUT_REGISTER || !d->has_ticket || d->stopping)
		return;
	while (d->npooled < d->pool) {
		if (dpool_open(d) == -1) {
			if (!ev_is_active(&d->refill)) {
				ev_timer_set(&d->refill, DIALOUT_REFILL, 0.);
				ev_timer_start(d->env->loop, &d->refill);
			}
			return;
		}
	}
}

static void
dialout_refill_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	pool_fill(w->data);
}

/*
 * The relay refused one of our data connections (${code}, enum
 * channel_refusal; its preamble counter ${ctr}): an access decision of
 * the relay's, logged with the relay's identity and, if it was a client
 * connection of ours, its conn=.
 */
static void
refused_data(struct dialout *d, unsigned code, uint64_t ctr)
{
	char addr[2 * ADDR_TEXT_MAX + 48], tail[2 * ADDR_TEXT_MAX + 144], id[24];
	size_t i;

	snprintf(id, sizeof(id), "-");
	for (i = 0; ctr != 0 && i < DIALOUT_TRACK; i++)
		if (d->track_ctr[i] == ctr)
			snprintf(id, sizeof(id), "%" PRIu64, d->track_id[i]);
	snprintf(tail, sizeof(tail), " conn=%s relay=%s counter=%" PRIu64, id,
	    where(d, addr, sizeof(addr)), ctr);
	env_audit_tail(d->env, 0, env_refusal_reason(0, code), d->relay_id,
	    d->name, d->role, tail);
}

/* The relay refused the session itself (a REFUSE record): say why. */
static void
dialout_refused(struct session *s, unsigned code)
{
	struct dialout *d = session_arg(s);
	char addr[2 * ADDR_TEXT_MAX + 48], tail[2 * ADDR_TEXT_MAX + 112];

	snprintf(tail, sizeof(tail), " kind=%s relay=%s",
	    d->kind == DIALOUT_REGISTER ? "register" : "client",
	    where(d, addr, sizeof(addr)));
	env_audit_tail(d->env, 0, env_refusal_reason(0, code), d->relay_id,
	    d->name, d->role, tail);
}

/* The session delivered a message: the ticket, a request for one more
 * pooled connection, or a refusal of a data connection. */
static void
dialout_message(struct session *s, const uint8_t *data, size_t len)
{
	struct dialout *d = session_arg(s);
	char addr[2 * ADDR_TEXT_MAX + 48], peer[IDENTITY_TEXT_SIZE];
	uint64_t ctr;
	uint8_t code;

	if (ticket_refusal_decode(data, len, &code, &ctr) == 0) {
		refused_data(d, code, ctr);
		return;
	}
	if (len == 1 && data[0] == DIALOUT_MSG_MORE) {
		/* A client waits at the relay: one more, within bounds. */
		if (d->kind == DIALOUT_REGISTER && d->has_ticket &&
		    !d->stopping && d->npooled < d->pool + DIALOUT_EXTRA_MAX)
			(void)dpool_open(d);
		return;
	}
	if (len != 1 + TICKET_ID_LEN + TICKET_KEY_LEN ||
	    data[0] != DIALOUT_MSG_TICKET || d->has_ticket)
		return;
	ticket_init(&d->t, data + 1, data + 1 + TICKET_ID_LEN);
	d->has_ticket = 1;
	d->backoff = DIALOUT_BACKOFF_MIN;
	log_info("event=session-open role=%s kind=%s relay=%s peer=%s "
	    "service=%s", d->role, d->kind == DIALOUT_REGISTER ? "register" :
	    "client", where(d, addr, sizeof(addr)),
	    identity_id_format(d->relay_id, peer), d->name);
	pool_fill(d);
}

/* The session ended: forget the ticket and the pool, try again later. */
static void
dialout_dead(struct session *s, const char *reason)
{
	struct dialout *d = session_arg(s);
	char addr[2 * ADDR_TEXT_MAX + 48], peer[IDENTITY_TEXT_SIZE];
	log_warn("event=session-close role=%s kind=%s relay=%s peer=%s "
	    "service=%s reason=%s", d->role, d->kind == DIALOUT_REGISTER ?
	    "register" : "client", where(d, addr, sizeof(addr)),
	    identity_id_format(d->relay_id, peer), d->name, reason);
	d->failed = 1;
	session_free(s);
	d->s = NULL;
	/*
	 * Tunneled connections through this relay go on: once paired they
	 * need the session no more, and end with their own connections
	 * (docs/relay.md, "Outages"); the relay keeps its side of them.
	 */
	if (d->has_ticket) {
		ticket_fini(&d->t);
		d->has_ticket = 0;
		if (d->down_cb != NULL)
			d->down_cb(d->down_arg);
	}
	while (d->pooled != NULL)
		dpool_free(d->pooled, 1);
	schedule(d);
}

static const struct session_ops dialout_sops = {
	.message = dialout_message,
	.dead = dialout_dead,
	.refused = dialout_refused,
};

static void dialout_dialed(struct conn *c, int err);
static void dialout_established(struct conn *c);
static void dialout_dropped(struct conn *c, enum conn_reason reason);

static const struct conn_ops dialout_ops = {
	.dialed = dialout_dialed,
	.established = dialout_established,
	.handshake_failed = NULL,
	.dropped = dialout_dropped,
};

/* The relay answered: handshake, pinned to its identity. */
static void
dialout_dialed(struct conn *c, int err)
{
	struct dialout *d = c->arg;
	uint8_t req[2 + CONFIG_NAME_MAX];
	struct channel *ch;
	size_t len = 2;

	if (err != 0) {
		conn_drop(c, conn_dial_reason(err));
		return;
	}
	if (d->at == NULL && d->relay->salen == 0) {
		/* A name: remember which of its addresses answered. */
		socklen_t sl = sizeof(d->peer.sa);

		d->peer = *d->relay;
		if (getpeername(c->fd_chan, (struct sockaddr *)&d->peer.sa,
		    &sl) == 0)
			d->peer.salen = sl;
	}
	if ((ch = channel_new(CHANNEL_INITIATOR, env_local(d->env),
	    d->env->cache)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	channel_expect_peer(ch, d->relay_id);
	req[0] = '@';
	req[1] = d->kind == DIALOUT_REGISTER ? 'R' : 'S';
	if (d->kind == DIALOUT_REGISTER) {
		len += strlen(d->name);
		memcpy(req + 2, d->name, len - 2);
	}
	if (channel_set_request(ch, req, len) != 0) {
		channel_free(ch);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	if (conn_handshake(c, ch, CHANNEL_INITIATOR) == -1) /* c owns ch */
		conn_drop(c, CONN_R_NOMEM);
}

/* The relay is who we pinned: run the session over the same socket. */
static void
dialout_established(struct conn *c)
{
	struct dialout *d = c->arg;
	struct channel *ch;
	uint8_t rest[512];
	size_t restlen;
	int fd;

	d->hs = NULL; /* the conn goes away in conn_detach */
	if (conn_detach(c, &fd, &ch, rest, sizeof(rest), &restlen) == -1) {
		d->failed = 1;
		schedule(d);
		return;
	}
	if ((d->s = session_new(conn_ctx_reaper(&d->env->ctx), fd, ch,
	    d->env->cfg->node.keepalive,
	    &dialout_sops, d, rest, restlen)) == NULL) {
		d->failed = 1;
		schedule(d);
	}
}

/* The handshake failed (the conn logged why): try again later. */
static void
dialout_dropped(struct conn *c, enum conn_reason reason)
{
	struct dialout *d = c->arg;

	(void)reason;
	if (d->hs != c)
		return;
	d->hs = NULL;
	d->failed = 1;
	schedule(d);
}

/* Start an attempt: dial the relay. */
static void
start(struct dialout *d)
{
	struct conn *c;

	if (d->stopping || d->hs != NULL || d->s != NULL)
		return;
	if ((c = conn_new(&d->env->ctx, &dialout_ops, -1, -1)) == NULL) {
		schedule(d);
		return;
	}
	c->arg = d;
	c->role = d->role;
	c->name = d->name;
	c->service = d->name;
	d->hs = c;
	d->failed = 0;
	if (conn_dial_channel(c, d->at != NULL ? d->at : d->relay) == -1)
		conn_drop(c, CONN_R_CONNECT_FAILED); /* dropped: schedules */
}

static void
dialout_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	start(w->data);
}

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
struct dialout *
dialout_new(struct env *e, enum dialout_kind kind, const char *name,
    const uint8_t *relay_id, const struct addr *relay, const struct addr *at,
    unsigned pool, const char *role)
{
	struct dialout *d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return (NULL);
	d->env = e;
	d->kind = kind;
	d->name = name;
	d->role = role;
	d->relay_id = relay_id;
	d->relay = relay;
	d->at = at;
	d->pool = pool;
	d->backoff = DIALOUT_BACKOFF_MIN;
	ev_init(&d->retry, dialout_retry_cb);
	d->retry.data = d;
	ev_init(&d->refill, dialout_refill_cb);
	d->refill.data = d;
	/* The first attempt from the loop, once everything is set up. */
	ev_timer_set(&d->retry, 0., 0.);
	ev_timer_start(e->loop, &d->retry);
	if (at == NULL) /* else the fleet answers for readiness */
		ready_add(&e->ready, &d->ready, role, name,
	    kind == DIALOUT_REGISTER ? "not registered at its relay" :
	    "no relay session", ready_is_up, d);
	if ((d->next = e->dialouts) != NULL)
		d->next->prev = d;
	e->dialouts = d;
	return (d);
}

/* End the session of ${d} now with its pool and ticket (not its
 * tunneled connections). */
static void
end_session(struct dialout *d)
{

	while (d->pooled != NULL)
		dpool_free(d->pooled, 1);
	session_free(d->s);
	d->s = NULL;
	if (d->has_ticket) {
		ticket_fini(&d->t);
		d->has_ticket = 0;
	}
}

/*
 * dialout_free(d):
 * Close the session and the pooled connections and free ${d}; NULL does
 * nothing.
 */
void
dialout_free(struct dialout *d)
{

	if (d == NULL)
		return;
	conn_ctx_forget_via(&d->env->ctx, d);
	if (d->prev != NULL)
		d->prev->next = d->next;
	else
		d->env->dialouts = d->next;
	if (d->next != NULL)
		d->next->prev = d->prev;
	d->stopping = 1;
	ready_remove(&d->ready);
	ev_timer_stop(d->env->loop, &d->retry);
	ev_timer_stop(d->env->loop, &d->refill);
	if (d->hs != NULL)
		conn_drop(d->hs, CONN_R_SHUTDOWN);
	end_session(d);
	free(d);
}

/*
 * dialout_send_creds_all(e, block, len):
 * Our credentials were renewed: send the block (${len} well formed bytes,
 * 1 to CRED_BLOCK_MAX) to the relay over every live session of ${e}'s
 * dialouts, so that what the relay admitted by credential lasts.  Return
 * how many sessions it was sent on.
 */
unsigned
dialout_send_creds_all(struct env *e, const uint8_t *block, size_t len)
{
	struct dialout *d;
	unsigned n = 0;

	for (d = e->dialouts; d != NULL; d = d->next)
		if (d->s != NULL && session_send_creds(d->s, block, len) == 0)
			n++;
	return (n);
}

/*
 * dialout_stop(d):
 * Make no new attempt (node shutdown): a handshake in progress is
 * dropped.  A registration is closed with its pool (the relay then sends
 * new clients elsewhere); a client session and its ticket stay usable
 * for connections still being set up.
 */
void
dialout_stop(struct dialout *d)
{

	if (d == NULL)
		return;
	d->stopping = 1;
	ready_remove(&d->ready);
	ev_timer_stop(d->env->loop, &d->retry);
	ev_timer_stop(d->env->loop, &d->refill);
	if (d->hs != NULL)
		conn_drop(d->hs, CONN_R_SHUTDOWN);
	if (d->kind != DIALOUT_REGISTER)
		return;
	/*
	 * A registration ends at once: the relay sends new clients to the
	 * other registrants; connections already carried drain as usual.
	 */
	end_session(d);
}

/*
 * dialout_same(d, kind, name, relay_id, relay, pool):
 * Return 1 if ${d} was made with these very arguments (the relay address
 * by its text and resolved address), so that a reload can keep it.
 */
int
dialout_same(const struct dialout *d, enum dialout_kind kind,
    const char *name, const uint8_t *relay_id, const struct addr *relay,
    unsigned pool)
{

	return (d->kind == kind && strcmp(d->name, name) == 0 &&
	    memcmp(d->relay_id, relay_id, CONFIG_ID_LEN) == 0 &&
	    addr_same(d->relay, relay) && d->pool == pool);
}

/*
 * dialout_rebind(d, name, relay_id, relay):
 * A reload keeps ${d} (dialout_same held): borrow these equal values of
 * the new configuration from now on.  Connections made before keep what
 * they borrowed (the old configuration lives as long as they do).
 */
void
dialout_rebind(struct dialout *d, const char *name, const uint8_t *relay_id,
    const struct addr *relay)
{

	d->name = name;
	d->relay_id = relay_id;
	d->relay = relay;
	d->ready.name = name; /* /readyz names it */
}

/*
 * dialout_restart(d):
 * The node's identity changed: end the session (and the pool) now and
 * make a new one at once, under the new credentials.  Connections made
 * through the old session go on.
 */
void
dialout_restart(struct dialout *d)
{

	if (d == NULL || d->stopping)
		return;
	if (d->hs != NULL)
		conn_drop(d->hs, CONN_R_SHUTDOWN); /* dropped: schedules */
	end_session(d);
	d->backoff = DIALOUT_BACKOFF_MIN;
	ev_timer_stop(d->env->loop, &d->retry);
	ev_timer_set(&d->retry, 0., 0.);
	ev_timer_start(d->env->loop, &d->retry);
}

/*
 * dialout_on_down(d, cb, arg):
 * Call ${cb}(${arg}) whenever the session of ${d} ends after it was up
 * (relay.c ends the pairs it made through it).
 */
void
dialout_on_down(struct dialout *d, void (*cb)(void *), void *arg)
{

	d->down_cb = cb;
	d->down_arg = arg;
}

/*
 * dialout_on_fail(d, cb, arg):
 * Call ${cb}(${arg}) whenever an attempt of ${d} fails or its session
 * ends, as the next attempt is scheduled (fleet.c then looks its name up
 * again).
 */
void
dialout_on_fail(struct dialout *d, void (*cb)(void *), void *arg)
{

	d->fail_cb = cb;
	d->fail_arg = arg;
}

/*
 * dialout_on_pooled(d, cb, arg):
 * Registrations: call ${cb}(${arg}, fd, d) when a client's first bytes
 * arrive on a pooled connection ${fd} (taken) of ${d} (dialout_addr and
 * dialout_name say where and for what).  Without it such a connection is
 * closed.
 */
void
dialout_on_pooled(struct dialout *d,
    void (*cb)(void *, int, struct dialout *), void *arg)
{

	d->pooled_cb = cb;
	d->pooled_arg = arg;
}

/*
 * dialout_is_up(d):
 * Return 1 if the session is up and holds a ticket.
 */
int
dialout_is_up(const struct dialout *d)
{

	return (d->s != NULL && d->has_ticket);
}

/*
 * dialout_is_down(d):
 * Return 1 if the last attempt failed and the next has not started yet
 * (clients should not wait), 0 while up or trying.
 */
int
dialout_is_down(const struct dialout *d)
{

	return (!dialout_is_up(d) && d->failed);
}

/*
 * dialout_preamble(d, name, out):
 * Write the preamble of a new client (C) data connection for the service
 * ${name} to ${out}.  Return 0, or -1 if the session is not up.
 */
int
dialout_preamble(struct dialout *d, const char *name,
    uint8_t out[TICKET_PREAMBLE_LEN])
{

	if (!dialout_is_up(d))
		return (-1);
	return (ticket_preamble_build(&d->t, TICKET_CLIENT, name, out));
}

/*
 * dialout_track(d, pre, id):
 * The client data connection conn=${id} starts with the preamble ${pre}
 * (from dialout_preamble): if the relay refuses it, its refusal line
 * names that conn= (the last few connections are remembered).
 */
void
dialout_track(struct dialout *d, const uint8_t pre[TICKET_PREAMBLE_LEN],
    uint64_t id)
{
	uint64_t ctr = ticket_last_counter(&d->t);
	size_t i = ctr % DIALOUT_TRACK;

	(void)pre; /* made by the last dialout_preamble: its counter */
	d->track_ctr[i] = ctr;
	d->track_id[i] = id;
}

/*
 * dialout_name(d):
 * The service registered (or the label) of ${d}.
 */
const char *
dialout_name(const struct dialout *d)
{

	return (d->name);
}

/*
 * dialout_addr(d):
 * The relay's address (for data connections): a fleet member's own
 * address; a name comes with the address its last session connected to
 * (salen 0 before the first one).
 */
const struct addr *
dialout_addr(const struct dialout *d)
{

	if (d->at != NULL)
		return (d->at);
	return (d->relay->salen == 0 ? &d->peer : d->relay);
}
