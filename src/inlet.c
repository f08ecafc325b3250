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
 * then reset without any data.
 *
 * With via (docs/relay.md) the inlet keeps a client session with every
 * replica of its relays (fleet.c) and each client's channel goes to one
 * whose session is up, taken round robin, behind a ticket preamble naming
 * the service; the handshake is the same, end to end with the pinned
 * outlet.  If the dial of that replica fails (refused, unreachable, its
 * share of connect_timeout gone), the next one that is up is dialed,
 * within the same connect_timeout.  Clients that arrive while no session
 * is up wait for one (connect_timeout at most); while every last attempt
 * has failed, and as soon as they all have, they are reset at once.
 *
 * With warm = N (issue 23; not with via, not pinned by rule: config.c)
 * the inlet keeps up to N channels to its outlet made ahead of any client:
 * dialed and handshaken (full handshakes with fresh ephemeral keys; msg3
 * holds no request), then held in conn.c's WARM state.  A client takes
 * one at once (inlet_start): its request leaves as the channel's first
 * record, its bytes right behind, and only then does the outlet dial its
 * target.  warm.c counts and paces the refills (a failing outlet sees one
 * probe per backoff); a channel no client took is replaced after
 * CONN_WARM_IDLE / 2 seconds; a reload or a stop closes them all (the new
 * inlet makes new ones under the new configuration).
 *
 * Whenever the inlet gives up on a client (unreachable or refusing
 * outlet, dead channel, failed authentication, shutdown) the client sees a
 * reset, never a clean end of stream (docs/protocol.md).
 */
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "crypto.h"
#include "dialout.h"
#include "fleet.h"
#include "identity.h"
#include "inlet.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "sock.h"
#include "warm.h"

_Static_assert(CONFIG_WARM_MAX == WARM_MAX, "warm = N fits the pool");

/* One warm channel of an inlet, made or being made (c NULL: free). */
struct warm_slot {
	struct conn *c;
	ev_tstamp made; /* when it was established (0: being made) */
	int proved;     /* it lived WARM_MIN_LIFE (warm_proved) */
};

#define INLET_WAIT_MAX 64    /* clients waiting for a relay session */
#define INLET_TRIES_MAX 3    /* replicas tried per client, at most */
#define INLET_WAIT_TICK 0.05 /* how often they are looked at */
/*
 * A refill starts this long (seconds) after a client took a warm
 * channel: the new channel's handshake (its X25519s, at both ends, on
 * the loops that carry that client) would otherwise land on the client's
 * first round trip (bench: TTFB p50 1,160 us with it at once, 342 us
 * with 5 ms, against 841 us for a resumed handshake of its own).
 */
#define WARM_REFILL_AFTER 0.005

/*
 * After a resumed attempt failed at the outlet (closed, reset or a
 * handshake error before msg2: a node of a version without resumed
 * handshakes drops a resumed msg1), offer it no ticket for this long.
 */
#define INLET_RESUME_OFF 3600.

struct inlet {
	struct env *env;
	const struct config_inlet *ci;
	struct listener l;
	struct fleet *via;   /* the relay sessions, or NULL */
	struct inlet *old;   /* during take_over only */
	int wait_fd[INLET_WAIT_MAX];
	ev_tstamp wait_until[INLET_WAIT_MAX];
	unsigned nwait;
	ev_timer wait_timer;
	/* No resumed handshakes with the outlet before this time (a resumed
	 * attempt failed there: resume_lost). */
	ev_tstamp resume_off;
	/* Its metrics (metrics.h's handles, resolved in inlet_new): its
	 * connections opened; clients dropped, its relay session down. */
	struct metrics_series *m_opened;
	struct metrics_series *m_down;
	/* Its warm channels (warm =): their counts, the channels, the
	 * timer of the next refill, and the clients that took one. */
	struct warm_pool pool;
	struct warm_slot warm[WARM_MAX];
	ev_timer warm_timer;
	ev_tstamp warm_quiet; /* no refill starts before (WARM_REFILL_AFTER) */
	struct metrics_series *m_taken;
};

/* A client carried over from a refused resumed attempt (resume_denied). */
struct carried {
	uint8_t *held; /* what it sent so far (taken), or NULL */
	size_t len;
	int eof; /* and it ended its side */
};

static void inlet_dialed(struct conn *c, int err);
static void inlet_start(struct inlet *il, int fd, struct carried *cr);
static void inlet_established(struct conn *c);
static void inlet_handshake_failed(struct conn *c, int err);
static void inlet_refused(struct conn *c, unsigned code);
static int inlet_renewed(struct conn *c);
static void warm_established(struct conn *c);
static void warm_dropped(struct conn *c, enum conn_reason reason);

static const struct conn_ops inlet_ops = {
	.dialed = inlet_dialed,
	.established = inlet_established,
	.handshake_failed = inlet_handshake_failed,
	.refused = inlet_refused,
	.renewed = inlet_renewed,
};

/* A warm channel's: dialed and established as a client's, then held. */
static const struct conn_ops warm_ops = {
	.dialed = inlet_dialed,
	.established = warm_established,
	.dropped = warm_dropped,
};

/* The socket address ${ss} as a request endpoint (family 0 if neither
 * IPv4 nor IPv6). */
static void
endpoint_of(const struct sockaddr_storage *ss, struct request_endpoint *e)
{
	const struct sockaddr_in *s4 = (const void *)ss;
	const struct sockaddr_in6 *s6 = (const void *)ss;

	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET) {
		e->family = 4;
		memcpy(e->ip, &s4->sin_addr, 4);
		e->port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		e->family = 6;
		memcpy(e->ip, &s6->sin6_addr, 16);
		e->port = ntohs(s6->sin6_port);
	}
}

/*
 * The request of the client ${fd} into ${out}: the service, and its two ends
 * as it sees them (its address; the address it connected to, or the
 * original destination of an intercepted connection), which the outlet
 * may pass on to its target (proxy_protocol).  Return its length, or -1.
 */
static long
make_request(struct inlet *il, int fd, uint8_t *out, size_t cap)
{
	struct request r;
	struct sockaddr_storage src, dst;
	socklen_t slen = sizeof(src), dlen = sizeof(dst);
	size_t len;

	memset(&r, 0, sizeof(r));
	snprintf(r.service, sizeof(r.service), "%s", il->ci->service);
	/* A unix socket client has no addresses: none are sent. */
	if (sock_client_ends(fd, &src, &slen, &dst, &dlen) == 0) {
		endpoint_of(&src, &r.src);
		endpoint_of(&dst, &r.dst);
	}
	if (request_encode(&r, out, cap, &len) != 0)
		return (-1);
	return ((long)len);
}

/*
 * [node] resume: offer the ticket we hold for the outlet, if any and
 * still valid, unless ${c} carries a client whose resumed attempt was
 * refused; without one the handshake is a full one.
 */
static void
resume_try(struct inlet *il, struct conn *c, struct channel *ch)
{
	struct channel_resume t;
	uint64_t now = (uint64_t)ev_now(il->env->loop);

	/* Pinned by attribute rule: no one outlet to hold a ticket for. */
	if (!il->env->cfg->node.resume || il->ci->outlet_by_rule ||
	    ev_now(il->env->loop) < il->resume_off || c->retry)
		return;
	if (resumecache_by_peer(il->env->resume_out,
	    il->ci->outlet_id, now, &t) == 0)
		(void)channel_resume_set(ch, &t, now);
	channel_resume_fini(&t);
}

/*
 * [node] resume, once established: after a full handshake keep its
 * ticket for the next connection to that outlet (replacing any other).
 */
static void
resume_keep(struct inlet *il, struct conn *c)
{
	struct channel_resume t;
	uint64_t now = (uint64_t)ev_now(il->env->loop);

	if (!il->env->cfg->node.resume || il->ci->outlet_by_rule ||
	    ev_now(il->env->loop) < il->resume_off)
		return;
	if (channel_resume_refused(c->ch))
		log_debug("event=resume-refused conn=%" PRIu64, c->id);
	if (channel_is_resumed(c->ch)) {
		log_debug("event=resumed role=inlet conn=%" PRIu64, c->id);
	} else if (channel_resume_export(c->ch, now, &t) == 0) {
		resumecache_put(il->env->resume_out, &t, now);
	}
	channel_resume_fini(&t);
}

/*
 * The decision of ${e} on the outlet ${peer} for the inlet ${ci} pinned
 * by attribute rule, now; ${v} says why.
 */
static bool
outlet_admitted(const struct env *e, const struct config_inlet *ci,
    const struct acl_peer *peer, struct acl_verdict *v)
{
	struct config_policy pol;

	memset(&pol, 0, sizeof(pol));
	pol.deny = ci->deny;
	return (env_admit(e, peer, &pol, NULL, 0, &ci->outlet_rule, 1, NULL,
	    v));
}

/*
 * Pinned by attribute rule (channel_expect_check): the responder ${id},
 * verified, with its credentials, answered the connection ${arg}.  Allow
 * if a valid credential holds the rule's attributes (the rule and the
 * credential's end are kept for the audit line and the expiry); else
 * audit the deny with the credential problem, if any, and refuse before
 * msg3.
 */
static int
inlet_check(void *arg, const uint8_t id[CHANNEL_ID_LEN],
    const uint8_t *creds, size_t len)
{
	struct conn *c = arg;
	struct inlet *il = c->arg;
	struct acl_peer peer = {id, creds, len, NULL};
	struct acl_verdict v;
	char src[ADDR_TEXT_MAX + 16], idt[IDENTITY_TEXT_SIZE];
	char tail[ADDR_TEXT_MAX + 2 * CONFIG_RULE_TEXT + 96];

	if (outlet_admitted(il->env, il->ci, &peer, &v)) {
		c->rule = v.rule;
		c->cred_expiry = v.expiry;
		return (1);
	}
	snprintf(tail, sizeof(tail), " conn=%" PRIu64 " src=%s "
	    "expected_rule=%s%s%s", c->id, conn_src_text(c, src, sizeof(src)),
	    il->ci->outlet_rule.text, v.reason != NULL &&
	    strcmp(v.reason, "denied") == 0 ? " deny_rule=" : "",
	    v.deny_rule != NULL ? v.deny_rule : v.deny_listed ?
	    identity_id_format(id, idt) : "");
	env_audit_tail(il->env, 0, v.reason != NULL ? v.reason :
	    "peer-mismatch", id, il->ci->service, "inlet", tail);
	c->quiet = 1;
	return (0);
}

/* The outlet node answered (or not): start the handshake. */
static void
inlet_dialed(struct conn *c, int err)
{
	struct inlet *il = c->arg;
	struct channel *ch;
	uint8_t req[CHANNEL_MAX_REQUEST];
	long reqlen;

	if (err != 0 && c->via != NULL) {
		/* That replica failed: the next one up, if time is left. */
		struct dialout *d = fleet_pick(il->via, c->via);

		if (d != NULL && conn_redial_channel(c, dialout_addr(d)) == 0) {
			log_debug("event=relay-next role=inlet conn=%" PRIu64
			    " error=\"%s\"", c->id, strerror(err));
			c->via = d;
			return;
		}
	}
	if (err != 0) {
		conn_drop(c, conn_dial_reason(err));
		return;
	}
	if ((ch = channel_new(CHANNEL_INITIATOR, env_local(il->env),
	    il->env->cache)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	if (il->ci->outlet_by_rule)
		channel_expect_check(ch, inlet_check, c);
	else
		channel_expect_peer(ch, il->ci->outlet_id);
	env_keypair(il->env, ch);
	/* A warm channel (no client yet) sends its request later (conn_bind),
	 * which a resumed msg3 cannot (docs/protocol.md 2.7): full. */
	if (c->fd_plain != -1)
		resume_try(il, c, ch);
	if (c->fd_plain != -1 && ((reqlen = make_request(il, c->fd_plain,
	    req, sizeof(req))) == -1 ||
	    channel_set_request(ch, req, (size_t)reqlen) != 0)) {
		channel_free(ch);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	if (c->via != NULL) {
		/* Through the relay: the ticket preamble goes first. */
		struct dialout *d = (struct dialout *)(uintptr_t)c->via;
		uint8_t pre[TICKET_PREAMBLE_LEN];

		/* The outlet binds the name it registered: so do we. */
		if (channel_bind_service(ch, (const uint8_t *)il->ci->service,
		    strlen(il->ci->service)) != 0 ||
		    dialout_preamble(d, il->ci->service, pre) == -1) {
			channel_free(ch);
			conn_drop(c, CONN_R_CONNECT_FAILED);
			return;
		}
		dialout_track(d, pre, c->id);
		if (conn_handshake_pre(c, ch, CHANNEL_INITIATOR, pre,
		    sizeof(pre)) == -1) /* c owns ch */
			conn_drop(c, CONN_R_NOMEM);
		return;
	}
	if (conn_handshake(c, ch, CHANNEL_INITIATOR) == -1) /* c owns ch */
		conn_drop(c, CONN_R_NOMEM);
}

/*
 * The pinned outlet answered and the request is sent: carry bytes.  The
 * allow is the inlet's own decision (the pin held; rule= the attribute
 * rule that admitted the outlet, if pinned by one); the outlet's verdict
 * comes later, as a REFUSE record (inlet_refused) or as bytes.
 */
static void
inlet_established(struct conn *c)
{
	struct inlet *il = c->arg;

	resume_keep(il, c);
	env_audit_conn(il->env, c, 1, "allowed", il->ci->service, "inlet");
	/* Resumed: what the client sends is kept until the outlet serves
	 * us, in case it refuses the ticket (resume_denied). */
	if (channel_is_resumed(c->ch) && conn_hold_plain(c) == -1) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	conn_open(c);
}

/*
 * The outlet refused ${c}'s resumed connection as not allowed: it may
 * have decided on what the ticket stood for, which a full handshake
 * would not (a node of an earlier build kept the credentials of the full
 * handshake).  Forget the ticket and carry the client, with what it sent
 * so far, over a new connection with a full handshake, once (that one
 * offers no ticket): the client sees the refusal only if that one is
 * refused too.  Return 1 if so, 0 if ${c} held nothing (then it ends as
 * any refused connection).
 */
static int
resume_denied(struct inlet *il, struct conn *c)
{
	char peer[IDENTITY_TEXT_SIZE];
	struct carried cr;
	int fd;

	if ((fd = conn_take_held(c, &cr.held, &cr.len, &cr.eof)) == -1)
		return (0);
	resumecache_drop(il->env->resume_out, il->ci->outlet_id);
	log_info("event=resume-denied role=inlet conn=%" PRIu64 " name=%s "
	    "peer=%s reason=remote-not-allowed held=%zu redial=yes", c->id,
	    il->ci->name, conn_peer_text(c, peer), cr.len);
	inlet_start(il, fd, &cr);
	return (1);
}

/*
 * The outlet (authenticated: the record opened under the channel's keys)
 * refused us and said why.  An access decision there is one here too,
 * logged with the outlet's identity; a target that is down is not.
 */
static void
inlet_refused(struct conn *c, unsigned code)
{
	struct inlet *il = c->arg;
	char peer[IDENTITY_TEXT_SIZE];

	if (code == CHANNEL_REFUSAL_NOT_ALLOWED && channel_is_resumed(c->ch) &&
	    resume_denied(il, c))
		return;
	if (code == CHANNEL_REFUSAL_TARGET_FAILED) {
		log_warn("event=target-failed role=inlet conn=%" PRIu64
		    " name=%s peer=%s service=%s side=remote", c->id, c->name,
		    conn_peer_text(c, peer), c->service);
		return;
	}
	env_audit_conn(il->env, c, 0, env_refusal_reason(1, code),
	    il->ci->service, "inlet");
}

/*
 * A resumed attempt of ${c} failed (${err}: a CHANNEL_E*, or 0 when the
 * outlet closed or reset the connection) before the outlet answered it:
 * a node without resumed handshakes drops a resumed msg1, and so may a
 * lost or stale ticket.  Forget the ticket and offer none to this outlet
 * for INLET_RESUME_OFF seconds.  Direct, carry the client over a new
 * connection with a full handshake (nothing was read from it yet): it
 * sees a delay, not a failure; once per client connection, since the new
 * one resumes nothing.  Through a relay, which closes a data connection
 * it refuses the same way (and says why over the session), the
 * connection ends as any failed handshake does.
 */
static void
resume_lost(struct inlet *il, struct conn *c, int err)
{
	int redial = il->via == NULL;
	int fd;

	resumecache_drop(il->env->resume_out, il->ci->outlet_id);
	il->resume_off = ev_now(il->env->loop) + INLET_RESUME_OFF;
	log_info("event=resume-failed role=inlet conn=%" PRIu64 " name=%s "
	    "reason=%s off_s=%.0f redial=%s", c->id, il->ci->name,
	    err == 0 ? "channel-closed" : channel_error_name(err),
	    INLET_RESUME_OFF, redial ? "yes" : "no");
	if (redial && (fd = conn_take_plain(c)) != -1)
		inlet_start(il, fd, NULL);
}

/*
 * A handshake failed: a wrong outlet identity is an access decision,
 * logged with the identifier pinned and the one presented (unverified:
 * its attestation was never checked).
 */
static void
inlet_handshake_failed(struct conn *c, int err)
{
	struct inlet *il = c->arg;
	char want[IDENTITY_TEXT_SIZE], got[IDENTITY_TEXT_SIZE];
	char src[ADDR_TEXT_MAX + 16], tail[ADDR_TEXT_MAX + 240];
	const uint8_t *claimed;

	if (c->ch != NULL && channel_is_resumed(c->ch)) {
		resume_lost(il, c, err);
		return;
	}
	if (err != CHANNEL_EPEER)
		return; /* conn_drop logs the channel error */
	claimed = c->ch != NULL ? channel_claimed_id(c->ch) : NULL;
	snprintf(tail, sizeof(tail), " conn=%" PRIu64 " src=%s expected=%s "
	    "presented=%s verified=no", c->id,
	    conn_src_text(c, src, sizeof(src)),
	    identity_id_format(il->ci->outlet_id, want),
	    claimed != NULL ? identity_id_format(claimed, got) : "-");
	env_audit_tail(il->env, 0, "peer-mismatch", NULL, il->ci->service,
	    "inlet", tail);
	c->quiet = 1;
}

/* A connection of ${il} served by ${ops} for the client ${fd} (taken; -1:
 * a warm channel's, no client yet); NULL on ENOMEM (${fd} still ours). */
static struct conn *
inlet_conn(struct inlet *il, const struct conn_ops *ops, int fd)
{
	struct conn *c;

	if ((c = conn_new(&il->env->ctx, ops, fd, -1)) == NULL)
		return (NULL);
	c->arg = il;
	c->role = "inlet";
	c->name = il->ci->name;
	c->opened = il->m_opened;
	c->service = il->ci->service;
	return (c);
}

/* A draw in [0, 1] for warm.c's backoff. */
static double
warm_draw(void)
{
	uint32_t r = 0;

	(void)crypto_random(&r, sizeof(r));
	return ((double)r / (double)UINT32_MAX);
}

/*
 * Arm the refill timer for when warm.c says one may start, but not
 * before il->warm_quiet (or stop it), once a ready channel that lived
 * WARM_MIN_LIFE ended a run of failures.
 */
static void
warm_schedule(struct inlet *il)
{
	ev_tstamp now = ev_now(il->env->loop);
	double w;
	unsigned i;

	for (i = 0; i < WARM_MAX; i++)
		if (il->warm[i].c != NULL && il->warm[i].made != 0 &&
		    !il->warm[i].proved &&
		    now - il->warm[i].made >= WARM_MIN_LIFE) {
			il->warm[i].proved = 1;
			warm_proved(&il->pool);
		}
	w = warm_wait(&il->pool, now);

	ev_timer_stop(il->env->loop, &il->warm_timer);
	if (w < 0)
		return;
	if (w < il->warm_quiet - now)
		w = il->warm_quiet - now;
	ev_timer_set(&il->warm_timer, w, 0.);
	ev_timer_start(il->env->loop, &il->warm_timer);
}

/* Start the warm channels due now: each dials the outlet as a client's. */
static void
warm_fill(struct inlet *il)
{
	unsigned n = warm_due(&il->pool, ev_now(il->env->loop)), i;
	struct conn *c;

	for (i = 0; n > 0 && i < WARM_MAX; i++) {
		if (il->warm[i].c != NULL)
			continue;
		if ((c = inlet_conn(il, &warm_ops, -1)) == NULL)
			return;
		c->slot = &il->warm[i];
		il->warm[i].c = c;
		il->warm[i].made = 0;
		il->warm[i].proved = 0;
		warm_started(&il->pool);
		n--;
		if (conn_dial_channel(c, &il->ci->outlet) == -1)
			conn_drop(c, CONN_R_CONNECT_FAILED); /* warm_dropped */
	}
}

static void
warm_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct inlet *il = w->data;

	(void)loop;
	(void)revents;
	warm_fill(il);
	warm_schedule(il);
}

/* A warm channel is established: hold it for a client. */
static void
warm_established(struct conn *c)
{
	struct inlet *il = c->arg;
	struct warm_slot *s = c->slot;

	resume_keep(il, c);
	if (warm_made(&il->pool) == -1) {
		/* Not wanted any more: no failure. */
		s->c = NULL;
		c->slot = NULL;
		c->quiet = 1;
		conn_drop(c, CONN_R_REVOKED);
		return;
	}
	s->made = ev_now(il->env->loop);
	log_debug("event=warm-ready role=inlet conn=%" PRIu64 " name=%s",
	    c->id, il->ci->name);
	conn_warm(c);
	warm_schedule(il);
}

/*
 * A warm channel ended without a client: one being made failed (a
 * backoff), a ready one was lost (a backoff if young), or expired (no
 * failure).  Refill when warm.c says.
 */
static void
warm_dropped(struct conn *c, enum conn_reason reason)
{
	struct inlet *il = c->arg;
	struct warm_slot *s = c->slot;
	ev_tstamp now = ev_now(il->env->loop);

	if (s == NULL)
		return; /* taken, or closed by inlet_stop */
	if (s->made != 0 && !s->proved && now - s->made >= WARM_MIN_LIFE)
		warm_proved(&il->pool); /* it lived: the outlet kept it */
	if (s->made == 0)
		warm_failed(&il->pool, now, warm_draw());
	else if (reason == CONN_R_WARM_EXPIRED)
		warm_closed(&il->pool);
	else
		warm_lost(&il->pool, now - s->made, now, warm_draw());
	s->c = NULL;
	c->slot = NULL;
	warm_schedule(il);
}

/*
 * A warm channel for a new client, taken from the pool (its
 * accounting), or NULL if none is ready.
 */
static struct conn *
warm_pick(struct inlet *il)
{
	struct conn *c;
	unsigned i;

	for (i = 0; i < WARM_MAX; i++)
		if ((c = il->warm[i].c) != NULL && il->warm[i].made != 0 &&
		    conn_warm_answered(c) && warm_take(&il->pool) == 0) {
			il->warm[i].c = NULL;
			c->slot = NULL;
			il->warm_quiet = ev_now(il->env->loop) +
			    WARM_REFILL_AFTER;
			warm_schedule(il);
			return (c);
		}
	return (NULL);
}

/*
 * The client ${fd} (taken) takes the warm channel ${c}: the allow is the
 * inlet's own, as for a client's own channel (inlet_established); its
 * request leaves at once, its bytes behind it.
 */
static void
warm_bind(struct inlet *il, struct conn *c, int fd)
{
	uint8_t req[CHANNEL_MAX_REQUEST];
	long reqlen;

	conn_set_ops(c, &inlet_ops, il);
	if ((reqlen = make_request(il, fd, req, sizeof(req))) == -1) {
		sock_close_reset(fd);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	metrics_inc(il->m_taken, 1);
	log_debug("event=warm-taken role=inlet conn=%" PRIu64 " name=%s",
	    c->id, il->ci->name);
	env_audit_conn(il->env, c, 1, "allowed", il->ci->service, "inlet");
	if (conn_bind(c, fd, req, (size_t)reqlen) == -1) /* c owns fd */
		conn_drop(c, CONN_R_NOMEM);
}

/* Close every warm channel of ${il} (a stop, a reload): no failure. */
static void
warm_close_all(struct inlet *il)
{
	struct conn *c;
	unsigned i;

	for (i = 0; i < WARM_MAX; i++) {
		if ((c = il->warm[i].c) == NULL)
			continue;
		if (il->warm[i].made != 0)
			warm_closed(&il->pool);
		/* (one being made needs no count: the pool is done) */
		il->warm[i].c = NULL;
		c->slot = NULL;
		c->quiet = 1;
		conn_drop(c, CONN_R_REVOKED);
	}
	ev_timer_stop(il->env->loop, &il->warm_timer);
}

/*
 * Carry the client ${fd} (taken): dial the outlet node or the relay.
 * ${cr} (NULL: a new client) is one carried over from a refused resumed
 * attempt: its bytes so far (taken) go first, and no ticket is offered.
 */
static void
inlet_start(struct inlet *il, int fd, struct carried *cr)
{
	struct dialout *d;
	struct conn *c;

	/* A new client takes a warm channel if one is ready. */
	if (cr == NULL && il->pool.ready > 0 && (c = warm_pick(il)) != NULL) {
		warm_bind(il, c, fd);
		return;
	}
	if ((c = inlet_conn(il, &inlet_ops, fd)) == NULL) {
		sock_close_reset(fd);
		if (cr != NULL) {
			wipe(cr->held, cr->len);
			free(cr->held);
		}
		return;
	}
	/* c owns fd now. */
	if (cr != NULL) {
		conn_replay_plain(c, cr->held, cr->len, cr->eof); /* c's now */
		c->retry = 1;
	}
	if (il->via == NULL) {
		if (conn_dial_channel(c, &il->ci->outlet) == -1)
			conn_drop(c, CONN_R_CONNECT_FAILED);
		return;
	}
	/* A replica whose session is up (inlet_serve saw one). */
	if ((d = fleet_pick(il->via, NULL)) == NULL) {
		conn_drop(c, CONN_R_CONNECT_FAILED);
		return;
	}
	c->via = d;
	c->dial_shares = (unsigned)fleet_count_up(il->via);
	if (c->dial_shares > INLET_TRIES_MAX)
		c->dial_shares = INLET_TRIES_MAX;
	if (conn_dial_channel(c, dialout_addr(d)) == -1)
		conn_drop(c, CONN_R_CONNECT_FAILED);
}

/* Start waiting clients once the relay session is up; drop late ones. */
static void
inlet_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct inlet *il = w->data;
	unsigned i, k = 0;
	int up = fleet_count_up(il->via) > 0, down = fleet_is_down(il->via);

	(void)revents;
	for (i = 0; i < il->nwait; i++) {
		if (up)
			inlet_start(il, il->wait_fd[i], NULL);
		else if (down || il->wait_until[i] <= ev_now(loop)) {
			metrics_inc(il->m_down, 1);
			log_warn("event=drop role=inlet conn=0 addr=- "
			    "reason=relay-session-down name=%s", il->ci->name);
			sock_close_reset(il->wait_fd[i]);
		} else {
			il->wait_fd[k] = il->wait_fd[i];
			il->wait_until[k++] = il->wait_until[i];
		}
	}
	il->nwait = k;
	if (k == 0)
		ev_timer_stop(loop, w);
}

/* A client connected: dial the outlet node (or the relay) for it. */
static void
inlet_accept(struct listener *l, int fd)
{

	inlet_serve(l->arg, fd);
}

/*
 * inlet_serve(il, fd):
 * Carry the client ${fd} (taken), accepted on the inlet's listen address
 * or redirected to the interception listener for one of its intercept
 * addresses, as if it had connected to the inlet.
 */
void
inlet_serve(struct inlet *il, int fd)
{
	struct sockaddr_storage ss;
	char src[ADDR_TEXT_MAX + 16], tail[ADDR_TEXT_MAX + 32];
	socklen_t salen;

	/* from =: a client from elsewhere is refused before any dial. */
	if (il->ci->from.n > 0 && (sock_peer(fd, &ss, &salen) == -1 ||
	    !acl_from(&il->ci->from, &ss))) {
		snprintf(tail, sizeof(tail), " conn=0 src=%s",
		    addr_sa_format(&ss, src, sizeof(src)));
		env_audit_tail(il->env, 0, "not-from", NULL, il->ci->service,
		    "inlet", tail);
		sock_close_reset(fd);
		return;
	}
	if (il->via == NULL || fleet_count_up(il->via) > 0) {
		inlet_start(il, fd, NULL);
		return;
	}
	if (fleet_is_down(il->via) || il->nwait >= INLET_WAIT_MAX) {
		/* The last attempt failed: do not keep the client waiting. */
		metrics_inc(il->m_down, 1);
		log_warn("event=drop role=inlet conn=0 addr=- "
		    "reason=relay-session-down name=%s", il->ci->name);
		sock_close_reset(fd);
		return;
	}
	il->wait_fd[il->nwait] = fd; /* waits for the session */
	il->wait_until[il->nwait++] = ev_now(il->env->loop) +
	    il->env->cfg->node.connect_timeout;
	if (!ev_is_active(&il->wait_timer))
		ev_timer_again(il->env->loop, &il->wait_timer);
}

/* Reload: ${c}, a connection of ${arg}'s old inlet, is the new one's. */
static void
take_conn(struct conn *c, void *arg)
{
	struct inlet *il = arg;

	if (c->ops == &inlet_ops && c->arg == il->old)
		conn_set_ops(c, &inlet_ops, il);
}

/*
 * Reload: take over from ${old} (same name, previous configuration) its
 * waiting clients and its connections (its unchanged relay sessions are
 * taken by fleet_new).
 */
static void
take_over(struct inlet *il, struct inlet *old)
{
	unsigned i;

	for (i = 0; i < old->nwait && il->nwait < INLET_WAIT_MAX; i++) {
		il->wait_fd[il->nwait] = old->wait_fd[i];
		il->wait_until[il->nwait++] = old->wait_until[i];
	}
	old->nwait = 0;
	if (il->nwait > 0)
		ev_timer_again(il->env->loop, &il->wait_timer);
	il->old = old;
	conn_ctx_each(&il->env->ctx, take_conn, il);
	il->old = NULL;
}

/*
 * inlet_new(e, ci, fd, old, err, errlen):
 * The inlet ${ci} (borrowed; lives as long as the config) of the node
 * ${e}: accept on the listening socket ${fd} (taken; -1: bind
 * ci->listen now).  ${old} (may be NULL) is the inlet of that name in the
 * previous configuration: its relay session is kept if unchanged, and its
 * waiting clients and connections become this inlet's (free ${old}
 * afterwards).  NULL with a message in ${err} on failure (${fd} closed).
 */
struct inlet *
inlet_new(struct env *e, const struct config_inlet *ci, int fd,
    struct inlet *old, char *err, size_t errlen)
{
	struct inlet *il;

	if ((il = calloc(1, sizeof(*il))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail0;
	}
	il->env = e;
	il->ci = ci;
	il->m_opened = metrics_series(METRICS_CONN_OPENED, "inlet", ci->name,
	    NULL);
	il->m_down = metrics_series(METRICS_HANDSHAKE_FAILURES, "inlet",
	    "relay-session-down", NULL);
	il->m_taken = metrics_series(METRICS_WARM_TAKEN, ci->name, NULL,
	    NULL);
	warm_init(&il->pool, ci->warm);
	ev_init(&il->warm_timer, warm_timer_cb);
	il->warm_timer.data = il;
	ev_init(&il->wait_timer, inlet_wait_cb);
	il->wait_timer.repeat = INLET_WAIT_TICK;
	il->wait_timer.data = il;
	il->l.fd = -1;
	if (fd != -1) {
		listener_attach(&il->l, e, fd, &ci->listen, "inlet", ci->name,
		    inlet_accept, il);
		fd = -1; /* il->l owns it now */
	} else if (ci->has_listen && listener_open(&il->l, e, &ci->listen,
	    "inlet", ci->name, inlet_accept, il, err, errlen) == -1)
		goto fail1;
	/* Unchanged relay sessions of ${old} go on in the new fleet. */
	if (ci->has_via && (il->via = fleet_new(e, DIALOUT_CLIENT,
	    ci->service, ci->via, ci->nvia, 0, "inlet", old != NULL ?
	    old->via : NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail2;
	}
	if (old != NULL)
		take_over(il, old);
	warm_schedule(il); /* the first warm channels, from the loop */
	return (il);
fail2:
	listener_close(&il->l);
fail1:
	free(il);
fail0:
	if (fd != -1)
		close(fd);
	return (NULL);
}

/*
 * inlet_detach_listener(il, ci):
 * Reload: if ${il} listens where ${ci} wants to, hand its listening
 * socket over (return it; ${il} stops accepting); else return -1.
 */
int
inlet_detach_listener(struct inlet *il, const struct config_inlet *ci)
{

	if (!il->ci->has_listen || !ci->has_listen ||
	    !addr_same(&il->ci->listen, &ci->listen))
		return (-1);
	return (listener_detach(&il->l));
}

/*
 * inlet_restart(il):
 * The node's identity changed: renew the relay session.
 */
void
inlet_restart(struct inlet *il)
{

	if (il->via != NULL)
		fleet_restart(il->via);
}

/*
 * The outlet of ${c} renewed its credentials (docs/protocol.md 3.6):
 * pinned by attribute rule, decide again with them (audit allow
 * reason=credential-renewed, or deny, and ${c} ends); pinned by
 * identifier, nothing to do.
 */
static int
inlet_renewed(struct conn *c)
{
	struct inlet *il = c->arg;
	struct acl_peer peer;
	struct acl_verdict v;

	if (!il->ci->outlet_by_rule)
		return (0);
	peer.id = channel_peer_id(c->ch);
	peer.creds = channel_peer_creds(c->ch, &peer.creds_len);
	if (!outlet_admitted(il->env, il->ci, &peer, &v)) {
		env_audit_conn_verdict(il->env, c, 0, "peer-mismatch",
		    il->ci->service, "inlet", &v);
		return (-1);
	}
	c->rule = v.rule;
	c->cred_expiry = v.expiry;
	env_audit_conn_verdict(il->env, c, 1, "credential-renewed",
	    il->ci->service, "inlet", &v);
	return (0);
}

/*
 * Reload: keep ${c} unless its inlet now pins another outlet or service;
 * pinned by attribute rule, unless its outlet no longer passes the rule
 * (the new one) with the credentials it showed (revoked, authority gone).
 */
static int
keeps(struct env *e, struct conn *c)
{
	const struct config_inlet *ci, *was;
	struct acl_peer peer;
	struct acl_verdict v;
	size_t i;

	/* c->name is the name field of the config_inlet it was made for. */
	was = (const struct config_inlet *)(const void *)(c->name -
	    offsetof(struct config_inlet, name));
	for (i = 0, ci = NULL; i < e->cfg->ninlets; i++)
		if (strcmp(e->cfg->inlets[i].name, c->name) == 0)
			ci = &e->cfg->inlets[i];
	if (ci == NULL)
		return (1); /* the inlet is gone: its connections drain */
	if (strcmp(was->service, ci->service) != 0 ||
	    was->outlet_by_rule != ci->outlet_by_rule)
		return (0);
	if (!ci->outlet_by_rule)
		return (memcmp(was->outlet_id, ci->outlet_id,
		    CONFIG_ID_LEN) == 0);
	/* Still dialing or in its handshake: inlet_check decides, by the
	 * new rule (take_over gave c the new inlet). */
	if (c->ch == NULL || (peer.id = channel_peer_id(c->ch)) == NULL)
		return (1);
	peer.creds = channel_peer_creds(c->ch, &peer.creds_len);
	if (!outlet_admitted(e, ci, &peer, &v))
		return (0);
	c->rule = v.rule; /* the new configuration's text */
	c->cred_expiry = v.expiry;
	return (1);
}

/*
 * inlet_revoke_all(e):
 * Reload: end every inlet connection of ${e} whose inlet (by name) now
 * pins another outlet identity or asks for another service, or, pinned
 * by attribute rule, whose outlet no longer passes the rule (revoked
 * identifier or serial, authority gone; audit reason=revoked); those of
 * removed inlets drain.  Return how many.
 */
unsigned
inlet_revoke_all(struct env *e)
{

	return (env_end_each(e, &inlet_ops, keeps, "revoked", "inlet"));
}

/*
 * inlet_expire_all(e):
 * End every inlet connection of ${e} whose outlet was admitted by a
 * credential (pinned by attribute rule) that has expired (audit
 * reason=credential-expired).  Return how many.
 */
unsigned
inlet_expire_all(struct env *e)
{

	return (env_expire_each(e, &inlet_ops, "inlet"));
}

/*
 * inlet_stop(il):
 * Stop accepting (close the listener); its connections go on.
 */
void
inlet_stop(struct inlet *il)
{
	unsigned i;

	if (il == NULL)
		return;
	listener_close(&il->l);
	fleet_stop(il->via);
	warm_close_all(il);
	for (i = 0; i < il->nwait; i++)
		sock_close_reset(il->wait_fd[i]);
	il->nwait = 0;
	ev_timer_stop(il->env->loop, &il->wait_timer);
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
	fleet_free(il->via);
	free(il);
}
