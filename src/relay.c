/*
 * relay: see relay.h and docs/relay.md.
 *
 * Objects, all owned by struct relay and linked in its lists (the
 * front, front.c, reads the first bytes of each connection and hands
 * over sessions and preambles):
 *   rsess   a session: the node's identity, its kind (client or
 *           registrant of one name), its ticket, and for a registrant
 *           the pooled P connections it keeps here;
 *   pooled  one ready P connection (watched only for its close);
 *   cwait   an allowed C connection waiting (connect_timeout at most)
 *           for a pooled connection or for the next relay's session;
 *   pair    a client joined to its other side, the bytes moved by the
 *           pair engine (splice.c: splice(2) through pipes taken from a
 *           pool while bytes are in flight, bounded memory; an idle
 *           pair holds its two sockets only); the pair adds who, what
 *           and through which sessions, for logs and for ending it when
 *           a side loses its right (pair_decide at its start, at a
 *           reload, at a renewal of its credentials; relay_expire at
 *           their expiry);
 *   kept    the credentials a session's node showed last, kept for the
 *           pairs it made once the session ended (shared, counted)
 *           until the node's next session takes them over (pairs_adopt).
 * Ended pairs and sessions are freed by the reaper (reap.c).
 *
 * Time: sessions keep themselves alive (session.c); every C connection
 * costs one AES-GCM open of 64 bytes (the preamble) and no public-key
 * operation.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialout.h"
#include "identity.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "env.h"
#include "front.h"
#include "relay.h"
#include "session.h"
#include "sock.h"
#include "splice.h"
#include "ticket.h"

#define RELAY_POOL_MAX 64       /* pooled connections kept per session */
#define RELAY_WAIT_TICK 0.05    /* how often waiting clients are checked */
#define RELAY_MSG_TICKET 'T'    /* session message: T || id || key */
#define RELAY_MSG_MORE 'M'      /* session message: a client waits */
/* Buckets of the map from preamble cid to session: sessions expect
 * TICKET_AHEAD to TICKET_WINDOW cids each. */
#define RELAY_MAP_BUCKETS ((size_t)1 << 16)

struct relay;
struct rsess;

struct pooled {
	struct rsess *sess;
	int fd;
	ev_io w;
	struct pooled *next;
};

struct rsvc {
	const struct config_relay *cr;
	struct rsess **regs; /* live registrants */
	size_t nregs, capregs;
	size_t rr;               /* next registrant to try */
	size_t more;             /* last registrant asked for more */
	struct dialout *via;     /* session with the next relay, or NULL */
	struct relay *r;
	struct cwait *wait_head; /* allowed clients waiting, oldest first */
	struct cwait **wait_tail;
};

struct rsess {
	struct relay *r;
	struct session *s;
	struct ticket t;
	struct ticket_window win; /* the cids t expects, linked in r->map */
	uint8_t peer[CHANNEL_ID_LEN];
	char kind;         /* 'S' or 'R' */
	struct rsvc *svc;  /* 'R': the name registered */
	struct pooled *pool;
	unsigned npool;
	uint8_t *creds;    /* the credential block its node sent, or NULL */
	size_t creds_len;
	struct sockaddr_storage src; /* its node's address (from =) */
	uint64_t expiry;   /* admitted by a credential until then; 0: no end */
	struct reap_entry reap;
	struct rsess *prev, *next;
};

struct cwait {
	int fd;
	struct rsess *sess; /* the client's session (NULL once it died) */
	ev_tstamp deadline;
	uint8_t peer[CHANNEL_ID_LEN];
	size_t limited; /* its limit entry's slot + 1 (limit.h), or 0 */
	struct cwait *next;
};

struct kept {
	unsigned refs; /* the pair sides holding it */
	size_t len;
	uint8_t creds[];
};

/*
 * A session's address as a pair keeps it for a later decision (from =):
 * an IPv4 or IPv6 socket address (family 0: unknown), 28 bytes where a
 * sockaddr_storage takes 128 (a relay holds thousands of pairs).
 */
union pair_src {
	sa_family_t family;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Keep ${ss} in ${k}. */
static void
src_keep(union pair_src *k, const struct sockaddr_storage *ss)
{

	memset(k, 0, sizeof(*k));
	if (ss->ss_family == AF_INET)
		memcpy(&k->in, ss, sizeof(k->in));
	else if (ss->ss_family == AF_INET6)
		memcpy(&k->in6, ss, sizeof(k->in6));
}

/* The address ${k} keeps, into ${ss}. */
static const struct sockaddr_storage *
src_view(const union pair_src *k, struct sockaddr_storage *ss)
{

	memset(ss, 0, sizeof(*ss));
	memcpy(ss, k, sizeof(*k));
	return (ss);
}

/* The sides of a pair: the client, admitted by the allow list of the
 * pair's name; the registrant, by its register list. */
enum { SIDE_CLIENT, SIDE_REGISTRANT };

struct pair {
	struct relay *r;
	struct splice *sp;     /* 0: the client side, 1: the outlet side */
	uint64_t id;
	ev_tstamp t_start;
	char name[CONFIG_NAME_MAX]; /* a copy: pairs outlive a reload */
	/*
	 * Per side (SIDE_*): the identity admitted for name, its session
	 * (NULL once that ended), the credentials it showed last once its
	 * session ended (NULL while it lives, or if it showed none), and
	 * when the admission ends (0: no end).  A pair made through a next
	 * relay has its client side only (nsides 1): the next relay decides
	 * about the other.
	 */
	uint8_t peer[2][CHANNEL_ID_LEN];
	union pair_src src[2]; /* its session's src */
	struct rsess *sess[2];
	struct kept *kept[2];
	uint64_t expiry[2];
	int nsides;
	struct rsvc *via;      /* made through this service's next relay */
	size_t limited; /* its client's limit entry's slot + 1, or 0 */
	struct reap_entry reap;
	struct pair *prev, *next;
};

struct relay {
	struct env *env;
	struct rsvc *svcs;
	size_t nsvcs;
	struct rsess *sessions;
	unsigned nsessions;
	struct pair *pairs;
	unsigned npairs;
	unsigned nwait;
	struct ticket_map map;       /* preamble cid -> session, counter */
	struct ticket_slot **buckets; /* of map */
	ev_timer wait_timer;
	struct metrics_collector gauges; /* relay_gauges() at each scrape */
	/* Its metrics (metrics.h's handles, resolved in relay_new): clients
	 * that found no ready connection in time; sessions and clients
	 * refused at max_connections. */
	struct metrics_series *m_no_ready;
	struct metrics_series *m_full;
	/* Per (client peer, name) limits (limit.h): each counted client
	 * connection, waiting or paired, holds its entry's slot + 1. */
	struct limit_table limits;
};

static void serve(struct relay *r, struct rsvc *svc);
static void relay_gauges(void *arg);
static bool admits(const struct relay *r, const struct config_relay *cr,
    int reg, const uint8_t *id, const uint8_t *creds, size_t len,
    const struct sockaddr_storage *src, struct acl_verdict *v);

/* Link ${e} at the head of the list *${head} (prev/next fields). */
#define LIST_PUSH(head, e)                                                     \
	do {                                                                   \
		(e)->prev = NULL;                                              \
		(e)->next = *(head);                                           \
		if (*(head) != NULL)                                           \
			(*(head))->prev = (e);                                 \
		*(head) = (e);                                                 \
	} while (0)
#define LIST_UNLINK(head, e)                                                   \
	do {                                                                   \
		if ((e)->prev != NULL)                                         \
			(e)->prev->next = (e)->next;                           \
		else                                                           \
			*(head) = (e)->next;                                   \
		if ((e)->next != NULL)                                         \
			(e)->next->prev = (e)->prev;                           \
	} while (0)

/* The service state of the name ${name}, or NULL. */
static struct rsvc *
svc_find(struct relay *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nsvcs; i++)
		if (strcmp(r->svcs[i].cr->name, name) == 0)
			return (&r->svcs[i]);
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* Pairs: splice both ways.                                            */

/* Let go of ${k} (NULL: nothing). */
static void
kept_drop(struct kept *k)
{

	if (k != NULL && --k->refs == 0)
		free(k);
}

/*
 * One more pair side keeps what the session ${rs} (ending) showed:
 * *${k}, made at the first call.  NULL if it showed nothing or on ENOMEM
 * (that side is then decided without credentials at the next reload).
 */
static struct kept *
kept_take(const struct rsess *rs, struct kept **k)
{

	if (rs->creds == NULL)
		return (NULL);
	if (*k == NULL) {
		if ((*k = malloc(sizeof(**k) + rs->creds_len)) == NULL)
			return (NULL);
		(*k)->refs = 0;
		(*k)->len = rs->creds_len;
		memcpy((*k)->creds, rs->creds, rs->creds_len);
	}
	(*k)->refs++;
	return (*k);
}

/* A client connection counted at the limit slot ${lim} - 1 (0: not
 * counted) ended. */
static void
release(struct relay *r, size_t lim)
{

	if (lim != 0)
		limit_release(&r->limits, lim - 1);
}

/* Log the end of ${p}, unlink it and hand it to the reaper. */
static void
pair_ended(struct pair *p, const char *reason, const uint64_t bytes[2])
{
	struct relay *r = p->r;
	char peer[IDENTITY_TEXT_SIZE];
	unsigned i;

	log_info("event=close role=relay conn=%" PRIu64 " name=%s peer=%s "
	    "service=%s bytes_in=%" PRIu64 " bytes_out=%" PRIu64
	    " duration_ms=%.0f reason=%s", p->id, p->name,
	    identity_id_format(p->peer[SIDE_CLIENT], peer), p->name, bytes[0],
	    bytes[1], (ev_now(r->env->loop) - p->t_start) * 1000., reason);
	for (i = 0; i < 2; i++)
		kept_drop(p->kept[i]);
	release(r, p->limited);
	LIST_UNLINK(&r->pairs, p);
	r->npairs--;
	reaper_defer(conn_ctx_reaper(&r->env->ctx), &p->reap, free, p);
	if (r->npairs == 0)
		env_idle(r->env);
}

/* The splice of ${arg} (a pair) ended by itself. */
static void
pair_done(void *arg, const char *reason, const uint64_t bytes[2])
{

	pair_ended(arg, reason, bytes);
}

/* End ${p} now (${reset}: with a reset both ways) for ${reason}. */
static void
pair_close(struct pair *p, const char *reason, int reset)
{
	uint64_t bytes[2];

	splice_close(p->sp, reset, bytes);
	pair_ended(p, reason, bytes);
}

/*
 * The credentials side ${i} of ${p} showed last (${len} bytes), or NULL:
 * its session's current ones, else those kept when its session ended.
 */
static const uint8_t *
side_creds(const struct pair *p, int i, size_t *len)
{

	*len = 0;
	if (p->sess[i] != NULL) {
		*len = p->sess[i]->creds_len;
		return (p->sess[i]->creds);
	}
	if (p->kept[i] != NULL) {
		*len = p->kept[i]->len;
		return (p->kept[i]->creds);
	}
	return (NULL);
}

/*
 * Decide ${p} for its own name, now: each side on its list of the name
 * (allow, register) with the credentials it showed last.  Every side
 * admitted: each one's admission now ends at its verdict's expiry,
 * return -1.  Otherwise return the first side denied (its verdict in
 * ${v}; no reason if the name is gone), ${p} unchanged.
 */
static int
pair_decide(struct relay *r, struct pair *p, struct acl_verdict *v)
{
	const struct rsvc *svc = svc_find(r, p->name);
	uint64_t expiry[2] = {0, 0};
	const uint8_t *creds;
	struct sockaddr_storage ss;
	size_t len;
	int i;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < p->nsides; i++) {
		creds = side_creds(p, i, &len);
		if (svc == NULL || !admits(r, svc->cr, i == SIDE_REGISTRANT,
		    p->peer[i], creds, len, src_view(&p->src[i], &ss), v))
			return (i);
		expiry[i] = v->expiry;
	}
	memcpy(p->expiry, expiry, sizeof(p->expiry));
	return (-1);
}

/*
 * End ${p} (with a reset both ways, close reason=revoked): its side
 * ${side} lost its right.  Audit deny for that side's identity, with
 * conn=: ${reason}, or if NULL the reason of ${side}'s verdict ${v}
 * (else not-allowed or not-registrant, the side's list).
 */
static void
pair_revoke(struct pair *p, int side, const char *reason,
    const struct acl_verdict *v)
{
	char tail[32];

	if (reason == NULL)
		reason = v->reason != NULL ? v->reason : side == SIDE_CLIENT ?
		    "not-allowed" : "not-registrant";
	snprintf(tail, sizeof(tail), " conn=%" PRIu64, p->id);
	env_audit_tail(p->r->env, 0, reason, p->peer[side], p->name, "relay",
	    tail);
	pair_close(p, "revoked", 1);
}

/*
 * Decide again every pair of ${r} made through the session ${rs} (NULL:
 * every pair) and end those a side of which lost its right (pair_decide,
 * pair_revoke): audit reason ${reason}, or, if NULL, the verdict's (else
 * not-allowed or not-registrant).  Return how many ended.  The one
 * re-decision of live pairs: a reload, a renewal of credentials.
 */
static unsigned
pairs_decide(struct relay *r, const struct rsess *rs, const char *reason)
{
	struct acl_verdict v;
	struct pair *p, *pn;
	unsigned n = 0;
	int side;

	for (p = r->pairs; p != NULL; p = pn) {
		pn = p->next;
		if (rs != NULL && p->sess[SIDE_CLIENT] != rs &&
		    p->sess[SIDE_REGISTRANT] != rs)
			continue;
		if ((side = pair_decide(r, p, &v)) == -1)
			continue;
		pair_revoke(p, side, reason, &v);
		n++;
	}
	return (n);
}

/*
 * The new session ${rs} takes over the sides of pairs its node held in a
 * session that ended (an outage; same identity and, for a registrant,
 * same name) if its credentials admit them: such a side follows its
 * renewals and its expiry from then on, as if it had been made through
 * it.  A side they do not admit keeps what it had (and still ends at
 * the expiry of the credentials it kept).
 */
static void
pairs_adopt(struct relay *r, struct rsess *rs)
{
	int side = rs->kind == 'R' ? SIDE_REGISTRANT : SIDE_CLIENT;
	struct acl_verdict v;
	struct pair *p;

	for (p = r->pairs; p != NULL; p = p->next) {
		if (side >= p->nsides || p->sess[side] != NULL ||
		    memcmp(p->peer[side], rs->peer, CHANNEL_ID_LEN) != 0 ||
		    (rs->svc != NULL && strcmp(rs->svc->cr->name, p->name) != 0))
			continue;
		p->sess[side] = rs; /* decided with its credentials */
		if (pair_decide(r, p, &v) != -1) {
			p->sess[side] = NULL;
			continue;
		}
		kept_drop(p->kept[side]);
		p->kept[side] = NULL;
	}
}

/*
 * Join the client socket ${fa} of ${peer} for ${name} and the outlet-side
 * socket ${fb} (both taken), made through the client's session ${sa}
 * (NULL if it ended meanwhile) and the session ${sb} of the registrant
 * whose pooled connection ${fb} is (NULL: ${fb} goes to the next relay);
 * ${pre} (${prelen} bytes, may be 0) goes to ${fb} first and, if given,
 * ${fb} is still connecting (deadline: connect_timeout).  The pair is
 * decided at once (pair_decide) and ended if a side is denied.  Return
 * the pair, or NULL (ended, or both sockets closed).
 */
static struct pair *
pair_new(struct relay *r, int fa, int fb, const char *name,
    const uint8_t *peer, struct rsess *sa, struct rsess *sb,
    const uint8_t *pre, size_t prelen, size_t lim)
{
	char pid[IDENTITY_TEXT_SIZE];
	struct acl_verdict v;
	struct pair *p;
	int side;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		sock_close_reset(fa);
		sock_close_reset(fb);
		goto fail;
	}
	if ((p->sp = splice_new(conn_ctx_reaper(&r->env->ctx), fa, fb, pre, prelen,
	    r->env->cfg->node.connect_timeout, pair_done, p)) == NULL) {
		free(p); /* the sockets are closed */
		goto fail;
	}
	p->limited = lim; /* from here on pair_ended releases it */
	/* A peer gone for good (no FIN, no RST) must not hold a slot for
	 * ever now that pairs outlive their sessions. */
	sock_keepalive(fa, r->env->ctx.keepalive);
	sock_keepalive(fb, r->env->ctx.keepalive);
	p->r = r;
	p->id = conn_ctx_next_id(&r->env->ctx); /* one counter per process */
	p->t_start = ev_now(r->env->loop);
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->sess[SIDE_CLIENT] = sa;
	memcpy(p->peer[SIDE_CLIENT], peer, CHANNEL_ID_LEN);
	if (sa != NULL)
		src_keep(&p->src[SIDE_CLIENT], &sa->src);
	p->nsides = 1;
	if (sb != NULL) {
		p->sess[SIDE_REGISTRANT] = sb;
		memcpy(p->peer[SIDE_REGISTRANT], sb->peer, CHANNEL_ID_LEN);
		src_keep(&p->src[SIDE_REGISTRANT], &sb->src);
		p->nsides = 2;
	}
	LIST_PUSH(&r->pairs, p);
	r->npairs++;
	log_info("event=open role=relay conn=%" PRIu64 " name=%s peer=%s "
	    "service=%s", p->id, name, identity_id_format(peer, pid), name);
	/* Its admission, with the sessions' credentials of now: a renewal
	 * may have come while the client waited. */
	if ((side = pair_decide(r, p, &v)) != -1) {
		pair_revoke(p, side, NULL, &v);
		return (NULL);
	}
	return (p);
fail:
	log_warn("event=relay error=pair-failed errno=%d", errno);
	release(r, lim);
	return (NULL);
}

/* ------------------------------------------------------------------ */
/* Pooled connections and waiting clients.                             */

/* Take ${pc} off its session's pool (not closed, not freed). */
static void
pooled_unlink(struct pooled *pc)
{
	struct rsess *rs = pc->sess;
	struct pooled **pp;

	for (pp = &rs->pool; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == pc) {
			*pp = pc->next;
			rs->npool--;
			break;
		}
	}
	ev_io_stop(rs->r->env->loop, &pc->w);
}

/* A pooled connection became readable: its outlet closed it. */
static void
pooled_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pooled *pc = w->data;

	(void)loop;
	(void)revents;
	pooled_unlink(pc);
	close(pc->fd);
	free(pc);
}

/*
 * Take a pooled connection of a live registrant of ${svc}, round robin
 * from svc->rr, skipping registrants with an empty pool.  Return its fd
 * (its session in ${owner}) or -1.
 */
static int
pooled_take(struct rsvc *svc, struct rsess **owner)
{
	struct pooled *pc;
	struct rsess *rs;
	size_t i, k;
	uint8_t b;
	int fd;

	for (i = 0; i < svc->nregs; i++) {
		k = (svc->rr + i) % svc->nregs;
		rs = svc->regs[k];
		while ((pc = rs->pool) != NULL) {
			pooled_unlink(pc);
			fd = pc->fd;
			free(pc);
			/*
			 * Still open and silent?  An outlet that just died
			 * may have closed it before we read the news.
			 */
			if (recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == -1 &&
			    (errno == EAGAIN || errno == EWOULDBLOCK)) {
				svc->rr = k + 1;
				*owner = rs;
				return (fd);
			}
			close(fd);
		}
	}
	return (-1);
}

/* Queue the allowed client ${fd} of ${svc} (taken; counted at the limit
 * slot ${lim} - 1, 0: not counted). */
static void
wait_add(struct relay *r, struct rsvc *svc, int fd, const uint8_t *peer,
    struct rsess *cs, size_t lim)
{
	struct cwait *cw;

	if ((cw = calloc(1, sizeof(*cw))) == NULL) {
		sock_close_reset(fd);
		release(r, lim);
		return;
	}
	cw->fd = fd;
	cw->limited = lim;
	cw->sess = cs;
	cw->deadline = ev_now(r->env->loop) +
	    r->env->cfg->node.connect_timeout;
	memcpy(cw->peer, peer, CHANNEL_ID_LEN);
	*svc->wait_tail = cw;
	svc->wait_tail = &cw->next;
	if (r->nwait++ == 0)
		ev_timer_again(r->env->loop, &r->wait_timer);
}

/* Pop the oldest waiting client of ${svc}. */
static struct cwait *
wait_pop(struct relay *r, struct rsvc *svc)
{
	struct cwait *cw = svc->wait_head;

	if (cw == NULL)
		return (NULL);
	if ((svc->wait_head = cw->next) == NULL)
		svc->wait_tail = &svc->wait_head;
	if (--r->nwait == 0)
		ev_timer_stop(r->env->loop, &r->wait_timer);
	return (cw);
}

/* End the waiting client ${cw} (off its list): reset, release, free. */
static void
wait_drop(struct relay *r, struct cwait *cw)
{

	sock_close_reset(cw->fd);
	release(r, cw->limited);
	free(cw);
}

/* Connect to the next relay for ${svc}; -1 if it failed at once. */
static int
dial_next(struct rsvc *svc)
{

	return (sock_dial(dialout_addr(svc->via)));
}

/*
 * Give the client ${fd} (taken) of ${svc} its other side: a pooled
 * connection, or a new connection to the next relay (its preamble
 * queued in the pair).  Return 0, or -1 if none is available now (${fd}
 * is then still the caller's).
 */
static int
route(struct relay *r, struct rsvc *svc, int fd, const uint8_t *peer,
    struct rsess *cs, size_t lim)
{
	uint8_t pre[TICKET_PREAMBLE_LEN];
	struct rsess *owner = NULL;
	struct pair *p;
	int other;

	if (svc->via != NULL) {
		if (dialout_preamble(svc->via, svc->cr->name, pre) == -1)
			return (-1);
		if ((other = dial_next(svc)) == -1) {
			sock_close_reset(fd);
			release(r, lim);
			return (0);
		}
		if ((p = pair_new(r, fd, other, svc->cr->name, peer, cs, NULL,
		    pre, sizeof(pre), lim)) != NULL)
			p->via = svc; /* it ends with that session */
		return (0);
	}
	if ((other = pooled_take(svc, &owner)) == -1)
		return (-1);
	(void)pair_new(r, fd, other, svc->cr->name, peer, cs, owner, NULL, 0,
	    lim);
	return (0);
}

/*
 * A client of ${svc} waits for a pooled connection: ask a registrant
 * (round robin) for one more, so a burst is served by parallel dials
 * rather than one refill at a time.  Best effort.
 */
static void
want_more(struct rsvc *svc)
{
	static const uint8_t more = RELAY_MSG_MORE;

	if (svc->via != NULL || svc->nregs == 0)
		return;
	svc->more = (svc->more + 1) % svc->nregs;
	(void)session_send(svc->regs[svc->more]->s, &more, 1);
}

/* Pair waiting clients of ${svc} while the other sides are there. */
static void
serve(struct relay *r, struct rsvc *svc)
{
	struct cwait *cw;

	while ((cw = svc->wait_head) != NULL) {
		if (route(r, svc, cw->fd, cw->peer, cw->sess, cw->limited) ==
		    -1)
			break;
		(void)wait_pop(r, svc);
		free(cw);
	}
}

/* Every tick: serve waiting clients, drop the ones past their deadline. */
static void
relay_wait_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct relay *r = w->data;
	struct rsvc *svc;
	struct cwait *cw;
	size_t i;

	(void)revents;
	for (i = 0; i < r->nsvcs && r->nwait > 0; i++) {
		svc = &r->svcs[i];
		serve(r, svc);
		while ((cw = svc->wait_head) != NULL &&
		    cw->deadline <= ev_now(loop)) {
			(void)wait_pop(r, svc);
			metrics_inc(r->m_no_ready, 1);
			log_warn("event=relay-timeout role=relay service=%s "
			    "reason=no-ready-connection", svc->cr->name);
			wait_drop(r, cw);
		}
	}
	env_idle(r->env);
}

/* ------------------------------------------------------------------ */
/* Sessions.                                                           */

/* Drop the session ${rs}: its registration, pool and ticket go too. */
static void
rsess_free(struct rsess *rs, const char *reason)
{
	struct relay *r = rs->r;
	struct rsvc *svc = rs->svc;
	struct pooled *pc;
	struct pair *p, *pn;
	struct kept *k = NULL;
	struct cwait *cw;
	char peer[IDENTITY_TEXT_SIZE];
	size_t i;
	int side;

	if (svc != NULL) {
		for (i = 0; i < svc->nregs; i++) {
			if (svc->regs[i] == rs) {
				memmove(&svc->regs[i], &svc->regs[i + 1],
				    (svc->nregs - i - 1) * sizeof(*svc->regs));
				svc->nregs--;
				break;
			}
		}
	}
	while ((pc = rs->pool) != NULL) {
		pooled_unlink(pc);
		close(pc->fd);
		free(pc);
	}
	/*
	 * A pair needs its sessions only to be made: once paired it ends
	 * with its own TCP connections, as plain TCP would, whether the
	 * session was closed, died of silence (a link cut for a while) or of
	 * a read error (docs/relay.md, "Outages").  Only a session ended by
	 * policy (a reload took its right away) takes its pairs with it.
	 * Orphaned pairs still count against max_connections and end by
	 * TCP keepalive (tcp_keepalive) if their peer is gone for good.
	 * They keep the credentials the session showed last: a reload
	 * decides them with those, and they end at their expiry
	 * (relay_expire), as they would have with the session, unless the
	 * node's next session takes them over (pairs_adopt).
	 */
	for (p = r->pairs; p != NULL; p = pn) {
		pn = p->next;
		if (p->sess[0] != rs && p->sess[1] != rs)
			continue;
		if (strcmp(reason, "revoked") == 0) {
			pair_close(p, "session-closed", 1);
			continue;
		}
		for (side = 0; side < p->nsides; side++) {
			if (p->sess[side] != rs)
				continue;
			p->sess[side] = NULL;
			p->kept[side] = kept_take(rs, &k);
		}
	}
	for (i = 0; i < r->nsvcs; i++)
		for (cw = r->svcs[i].wait_head; cw != NULL; cw = cw->next)
			if (cw->sess == rs)
				cw->sess = NULL;
	log_info("event=session-close role=relay kind=%s peer=%s "
	    "service=%s reason=%s", rs->kind == 'R' ? "register" : "client",
	    identity_id_format(rs->peer, peer),
	    svc != NULL ? svc->cr->name : "-", reason);
	session_free(rs->s);
	ticket_fini(&rs->t);
	free(rs->creds);
	rs->creds = NULL;
	LIST_UNLINK(&r->sessions, rs);
	r->nsessions--;
	reaper_defer(conn_ctx_reaper(&r->env->ctx), &rs->reap, free, rs);
}

static void
rsess_message(struct session *s, const uint8_t *data, size_t len)
{

	/* Nodes send nothing but keepalives; ignore anything else. */
	(void)s;
	(void)data;
	(void)len;
}

static void
rsess_dead(struct session *s, const char *reason)
{

	rsess_free(session_arg(s), reason);
}


/*
 * The decision for the peer ${id} with the credential block ${creds}
 * (${len} bytes, may be NULL) on the register list (${reg}) or the
 * allow list of ${cr}, now; ${v} says why.
 */
static bool
admits(const struct relay *r, const struct config_relay *cr, int reg,
    const uint8_t *id, const uint8_t *creds, size_t len,
    const struct sockaddr_storage *src, struct acl_verdict *v)
{
	struct acl_peer peer = {id, creds, len, src};
	struct acl_ctx ax;

	env_acl(r->env, &ax);
	return (acl_relay(&ax, cr, reg, &peer, NULL, v));
}

/*
 * Return 1 if ${id} (with ${creds}) may reach any name of this relay;
 * ${v} holds the verdict that lasts longest (expiry 0: no end), or the
 * last deny.  Its credentials are checked once, not once per name.
 */
static int
allowed_anywhere(const struct relay *r, const uint8_t *id,
    const uint8_t *creds, size_t len, const struct sockaddr_storage *src,
    struct acl_verdict *v)
{
	struct acl_peer peer = {id, creds, len, src};
	const struct config_relay *cr;
	struct acl_checked ck;
	struct acl_verdict one;
	struct acl_ctx ax;
	size_t i;
	int ok = 0;

	memset(v, 0, sizeof(*v));
	ck.done = 0;
	env_acl(r->env, &ax);
	for (i = 0; i < r->nsvcs; i++) {
		cr = r->svcs[i].cr;
		if (!acl_relay(&ax, cr, 0, &peer, &ck, &one)) {
			if (!ok)
				*v = one;
			continue;
		}
		if (!ok || one.expiry == 0 || (v->expiry != 0 &&
		    one.expiry > v->expiry))
			*v = one;
		ok = 1;
		if (v->expiry == 0)
			break;
	}
	return (ok);
}

/* Whether the session ${rs} keeps its right: the verdict in ${v}. */
static bool
rsess_allowed(const struct relay *r, const struct rsess *rs,
    struct acl_verdict *v)
{

	if (rs->kind == 'R') {
		memset(v, 0, sizeof(*v));
		return (rs->svc != NULL && admits(r, rs->svc->cr, 1, rs->peer,
		    rs->creds, rs->creds_len, &rs->src, v));
	}
	return (allowed_anywhere(r, rs->peer, rs->creds, rs->creds_len,
	    &rs->src, v));
}

/*
 * The node of ${s} renewed its credentials: decide again with them, first
 * each pair made through the session by its own name (pairs_decide: one
 * whose name no longer admits the node ends), then the session.  Kept:
 * until the new expiry (audit allow reason=credential-renewed).  Denied:
 * ended like a revocation, with its pairs (audit deny, the credential
 * problem as reason).
 */
static int
rsess_renewed(struct session *s)
{
	struct rsess *rs = session_arg(s);
	struct relay *r = rs->r;
	const char *name = rs->svc != NULL ? rs->svc->cr->name : "";
	struct acl_verdict v;
	const uint8_t *creds;
	uint8_t *copy = NULL;
	size_t len;

	if ((creds = session_peer_creds(s, &len)) != NULL &&
	    (copy = malloc(len)) == NULL) {
		rsess_free(rs, "nomem");
		return (-1);
	}
	if (copy != NULL)
		memcpy(copy, creds, len);
	free(rs->creds);
	rs->creds = copy;
	rs->creds_len = copy != NULL ? len : 0;
	/* Each pair it made, by its own name (audit deny, close revoked). */
	(void)pairs_decide(r, rs, NULL);
	if (!rsess_allowed(r, rs, &v)) {
		env_audit_verdict(r->env, 0, rs->kind == 'R' ?
		    "not-registrant" : "not-allowed", rs->peer, name, "relay",
		    &v);
		rsess_free(rs, "revoked");
		return (-1);
	}
	rs->expiry = v.expiry;
	env_audit_verdict(r->env, 1, "credential-renewed", rs->peer, name,
	    "relay", &v);
	return (0);
}

static const struct session_ops rsess_ops = {
	.message = rsess_message,
	.dead = rsess_dead,
	.renewed = rsess_renewed,
};

/*
 * The relay's request kind (front_kind.claim): what an unknown peer's
 * "@R" + name or "@S" is audited as, and told.
 */
static size_t
relay_claim(const uint8_t *req, size_t len, const char **why,
    unsigned *code)
{

	if (len < 2 || req[1] != 'R')
		return (len); /* "@S": no name */
	*why = "not-registrant";
	*code = CHANNEL_REFUSAL_NOT_REGISTRANT;
	return (2);
}

/*
 * relay_kind:
 * The relay's sessions: requests "@S" (a client) and "@R" + name (a
 * registrant); relay_new registers it with the front.
 */
const struct front_kind relay_kind = {"@", "relay", relay_claim, 0};

/*
 * Authorize the relay session ${c} asking ${req} (${len} bytes, "@R" +
 * name or "@S"): a registrant of the name (its service into *${svc} and
 * ${name}), or a client of some name; the verdict into ${v}.  Return 0,
 * or the enum channel_refusal to refuse it with (audited here).
 */
static unsigned
session_decide(struct relay *r, struct conn *c, const uint8_t *req,
    size_t len, char name[CONFIG_NAME_MAX], struct rsvc **svc,
    struct acl_verdict *v)
{
	const uint8_t *creds, *peer = channel_peer_id(c->ch);
	struct sockaddr_storage src;
	size_t clen;

	conn_src_addr(c, &src);
	creds = channel_peer_creds(c->ch, &clen);
	name[0] = '\0';
	if (req[1] == 'R') {
		if (len - 2 >= CONFIG_NAME_MAX || memchr(req + 2, 0, len - 2) !=
		    NULL)
			len = 2; /* cannot be a configured name */
		memcpy(name, req + 2, len - 2);
		name[len - 2] = '\0';
		if ((*svc = svc_find(r, name)) == NULL) {
			env_audit_conn(r->env, c, 0, "unknown-service", name,
			    "relay");
			return (CHANNEL_REFUSAL_UNKNOWN_SERVICE);
		}
		if (!admits(r, (*svc)->cr, 1, peer, creds, clen, &src, v)) {
			env_audit_conn_verdict(r->env, c, 0, "not-registrant",
			    name, "relay", v);
			return (CHANNEL_REFUSAL_NOT_REGISTRANT);
		}
	} else if (!allowed_anywhere(r, peer, creds, clen, &src, v)) {
		env_audit_conn_verdict(r->env, c, 0, "not-allowed", "", "relay",
		    v);
		return (CHANNEL_REFUSAL_NOT_ALLOWED);
	}
	return (0);
}

/* Free a session made by rsess_make that never went live. */
static void
rsess_unmake(struct rsess *rs, int has_ticket)
{

	if (has_ticket)
		ticket_fini(&rs->t);
	free(rs->creds);
	free(rs);
}

/*
 * The session of kind ${kind} ('R' or 'S') for the authorized ${c}
 * (taken: its socket and channel go to the session; dropped on failure)
 * with the verdict ${v}: a new ticket (its key K into ${key}, which the
 * caller sends and wipes), its cids findable, room for one more
 * registrant of ${svc} (if any).  Return it, not yet on any list, or NULL.
 */
static struct rsess *
rsess_make(struct relay *r, struct conn *c, char kind, struct rsvc *svc,
    const struct acl_verdict *v, uint8_t key[TICKET_KEY_LEN])
{
	uint8_t rest[256];
	struct channel *ch;
	struct rsess *rs, **regs;
	const uint8_t *creds;
	size_t restlen, clen;
	int fd;

	creds = channel_peer_creds(c->ch, &clen);
	if ((rs = calloc(1, sizeof(*rs))) == NULL)
		goto nomem;
	rs->r = r;
	rs->kind = kind;
	memcpy(rs->peer, channel_peer_id(c->ch), CHANNEL_ID_LEN);
	conn_src_addr(c, &rs->src);
	rs->expiry = v->expiry;
	if (creds != NULL && (rs->creds = malloc(clen)) != NULL) {
		memcpy(rs->creds, creds, clen);
		rs->creds_len = clen;
	}
	if (svc != NULL && svc->nregs == svc->capregs) {
		if ((regs = reallocarray(svc->regs, svc->capregs * 2 + 4,
		    sizeof(*svc->regs))) == NULL)
			goto nomem;
		svc->regs = regs;
		svc->capregs = svc->capregs * 2 + 4;
	}
	if (ticket_make(&rs->t, key) == -1)
		goto nomem;
	/* The cids of its next data connections, findable from now on. */
	ticket_expect(&rs->t, &r->map, &rs->win);
	if (conn_detach(c, &fd, &ch, rest, sizeof(rest), &restlen) == -1) {
		rsess_unmake(rs, 1);
		return (NULL);
	}
	if ((rs->s = session_new(conn_ctx_reaper(&r->env->ctx), fd, ch,
	    r->env->cfg->node.keepalive, &rsess_ops, rs, rest, restlen)) ==
	    NULL) {
		rsess_unmake(rs, 1);
		return (NULL);
	}
	return (rs);
nomem:
	if (rs != NULL)
		rsess_unmake(rs, 0);
	c->quiet = 1;
	conn_drop(c, CONN_R_NOMEM);
	return (NULL);
}

/*
 * ${c} completed a responder handshake and its request starts with '@'
 * (the front's session callback; ${arg} is the relay): if it is a session
 * request ("@S" or "@R" + name), take it over (authorize, send the
 * ticket) and return 1 (${c} is gone); otherwise return 0.
 */
static int
relay_session(void *arg, struct conn *c)
{
	struct relay *r = arg;
	const uint8_t *req, *peer = channel_peer_id(c->ch);
	uint8_t msg[1 + TICKET_ID_LEN + TICKET_KEY_LEN];
	char name[CONFIG_NAME_MAX], pid[IDENTITY_TEXT_SIZE];
	struct rsess *rs;
	struct rsvc *svc = NULL;
	struct acl_verdict v;
	size_t len = 0;
	unsigned code;

	req = channel_request(c->ch, &len);
	if (req == NULL || len < 2 || req[0] != '@' ||
	    (req[1] != 'S' && req[1] != 'R'))
		return (0);
	if ((code = session_decide(r, c, req, len, name, &svc, &v)) != 0) {
		/* The node is authenticated: it is told why (docs/relay.md). */
		conn_refuse(c, code, CONN_R_DENIED);
		return (1);
	}
	env_resume_keep(r->env, c, "relay"); /* allowed: its ticket */
	if (r->nsessions >= r->env->cfg->node.max_connections) {
		metrics_inc(r->m_full, 1);
		log_warn("event=refuse role=relay reason=max-connections");
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return (1);
	}
	/* K goes in msg at once: sent once, then wiped. */
	if ((rs = rsess_make(r, c, (char)req[1], svc, &v,
	    msg + 1 + TICKET_ID_LEN)) == NULL) {
		wipe(msg, sizeof(msg));
		return (1);
	}
	LIST_PUSH(&r->sessions, rs);
	r->nsessions++;
	if (svc != NULL) {
		rs->svc = svc;
		svc->regs[svc->nregs++] = rs;
		env_audit_verdict(r->env, 1, "registered", peer, name,
		    "relay", &v);
	}
	pairs_adopt(r, rs);
	log_info("event=session-open role=relay kind=%s peer=%s "
	    "service=%s", rs->kind == 'R' ? "register" : "client",
	    identity_id_format(peer, pid), svc != NULL ? name : "-");
	/* The ticket, inside the channel. */
	msg[0] = RELAY_MSG_TICKET;
	memcpy(msg + 1, rs->t.id, TICKET_ID_LEN); /* K is already there */
	(void)session_send(rs->s, msg, sizeof(msg));
	wipe(msg, sizeof(msg));
	return (1);
}

/* ------------------------------------------------------------------ */
/* Data connections: the preamble.                                     */

/*
 * Tell the node of ${rs} why its data connection with the preamble
 * counter ${ctr} was refused (${code}, enum channel_refusal), over its
 * session: the data connection itself carries no channel of ours.  Best
 * effort.
 */
static void
tell_refused(struct rsess *rs, unsigned code, uint64_t ctr)
{
	uint8_t msg[TICKET_REFUSAL_LEN];

	ticket_refusal_encode((uint8_t)code, ctr, msg);
	(void)session_send(rs->s, msg, sizeof(msg));
}

/* A whole preamble arrived on ${fd} (taken; the front's preamble
 * callback, ${arg} is the relay): decide and act. */
static void
relay_preamble(void *arg, int fd, const uint8_t *pre)
{
	struct relay *r = arg;
	uint8_t type;
	char name[TICKET_NAME_LEN];
	struct ticket *t;
	struct rsess *rs;
	struct rsvc *svc;
	struct pooled *pc;
	uint64_t ctr;
	struct acl_verdict v;
	struct limit_entry *x;
	enum limit_kind lk;
	size_t lim;
	int e;

	/*
	 * The cid names the session and the counter: one bucket of the
	 * map, whatever the number of sessions.  Unknown, replayed, too old
	 * and version 1 preambles are all not found.
	 */
	if ((t = ticket_lookup(&r->map, pre, &ctr)) == NULL) {
		/* Anyone can send this: at most a few lines per second. */
		env_audit_limited(r->env, &r->env->anyone_log, 0, "bad-ticket", NULL,
		    "", "relay");
		goto refuse;
	}
	rs = (struct rsess *)(void *)((char *)t - offsetof(struct rsess, t));
	if ((e = ticket_preamble_check(&rs->t, pre, ctr, &type, name)) != 0) {
		/*
		 * Anyone who saw a preamble can send this too: limited,
		 * and the session's identity is not the sender's (peer=-).
		 */
		env_audit_limited(r->env, &r->env->anyone_log, 0, ticket_strerror(e),
		    NULL, "", "relay");
		goto refuse;
	}
	if (type == TICKET_POOLED) {
		/* A ready connection of the registrant, for its own name. */
		if (rs->kind != 'R' || strcmp(name, rs->svc->cr->name) != 0) {
			env_audit(r->env, 0, "not-registrant", rs->peer, name,
			    "relay");
			tell_refused(rs, CHANNEL_REFUSAL_NOT_REGISTRANT, ctr);
			goto refuse;
		}
		if (rs->npool >= RELAY_POOL_MAX ||
		    (pc = calloc(1, sizeof(*pc))) == NULL)
			goto refuse;
		pc->sess = rs;
		pc->fd = fd;
		ev_io_init(&pc->w, pooled_cb, fd, EV_READ);
		pc->w.data = pc;
		ev_io_start(r->env->loop, &pc->w);
		pc->next = rs->pool;
		rs->pool = pc;
		rs->npool++;
		serve(r, rs->svc);
		return;
	}
	/* A client: allowed for this name, and someone to take it. */
	if ((svc = svc_find(r, name)) == NULL) {
		env_audit(r->env, 0, "unknown-service", rs->peer, name,
		    "relay");
		tell_refused(rs, CHANNEL_REFUSAL_UNKNOWN_SERVICE, ctr);
		goto refuse;
	}
	if (!admits(r, svc->cr, 0, rs->peer, rs->creds, rs->creds_len,
	    &rs->src, &v)) {
		env_audit_verdict(r->env, 0, "not-allowed", rs->peer, name,
		    "relay", &v);
		tell_refused(rs, CHANNEL_REFUSAL_NOT_ALLOWED, ctr);
		goto refuse;
	}
	if (svc->via == NULL && svc->nregs == 0) {
		env_audit(r->env, 0, "no-registrant", rs->peer, name,
		    "relay");
		tell_refused(rs, CHANNEL_REFUSAL_NO_REGISTRANT, ctr);
		goto refuse;
	}
	if (r->npairs + r->nwait >= r->env->cfg->node.max_connections) {
		metrics_inc(r->m_full, 1);
		log_warn("event=refuse role=relay reason=max-connections");
		goto refuse;
	}
	if ((lk = limit_admit(&r->limits, rs->peer, name, &svc->cr->limits,
	    ev_now(r->env->loop), &x)) != LIMIT_OK) {
		env_limit_refused(r->env, NULL, rs->peer, name, "relay", lk, x,
		    &svc->cr->limits);
		tell_refused(rs, CHANNEL_REFUSAL_LIMIT, ctr);
		goto refuse;
	}
	lim = x != NULL ? limit_slot(&r->limits, x) + 1 : 0;
	env_audit_verdict(r->env, 1, "allowed", rs->peer, name, "relay", &v);
	if (svc->wait_head != NULL ||
	    route(r, svc, fd, rs->peer, rs, lim) == -1) {
		wait_add(r, svc, fd, rs->peer, rs, lim);
		want_more(svc);
	}
	return;
refuse:
	sock_close_reset(fd);
}

/* The session with the next relay of ${arg} (an rsvc) ended: the pairs
 * made through it go on (they end with their own connections, as in
 * rsess_free) and no longer follow it. */
static void
via_down(void *arg)
{
	struct rsvc *svc = arg;
	struct pair *p;

	for (p = svc->r->pairs; p != NULL; p = p->next)
		if (p->via == svc)
			p->via = NULL;
}

/*
 * relay_new(e, f, err, errlen):
 * The relay role of ${e} for its [relay NAME] sections, serving the
 * sessions and data connections the front ${f} (borrowed) hands over
 * (sessions to next relays are started).  NULL with a message in ${err}
 * on failure.
 */
struct relay *
relay_new(struct env *e, struct front *f, char *err, size_t errlen)
{
	const struct config *cfg = e->cfg;
	struct relay *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->env = e;
	limit_table_init(&r->limits,
	    (size_t)cfg->node.max_connections + LIMIT_IDLE_KEEP);
	if ((r->buckets = calloc(RELAY_MAP_BUCKETS, sizeof(*r->buckets))) ==
	    NULL)
		goto nomem;
	ticket_map_init(&r->map, r->buckets, RELAY_MAP_BUCKETS);
	ev_init(&r->wait_timer, relay_wait_cb);
	r->wait_timer.repeat = RELAY_WAIT_TICK;
	r->wait_timer.data = r;
	if ((r->svcs = calloc(cfg->nrelays, sizeof(*r->svcs))) == NULL)
		goto nomem;
	for (i = 0; i < cfg->nrelays; i++) {
		struct rsvc *svc = &r->svcs[i];

		svc->cr = &cfg->relays[i];
		svc->r = r;
		svc->wait_tail = &svc->wait_head;
		r->nsvcs++;
		if (svc->cr->has_via &&
		    (svc->via = dialout_new(e, DIALOUT_CLIENT, svc->cr->name,
		    svc->cr->via_id, &svc->cr->via, NULL, 0, "relay")) == NULL)
			goto nomem;
		if (svc->via != NULL)
			dialout_on_down(svc->via, via_down, svc);
	}
	front_serve_preamble(f, relay_preamble, r);
	(void)front_register(f, &relay_kind, relay_session, r);
	r->m_no_ready = metrics_series(METRICS_HANDSHAKE_FAILURES, "relay",
	    "no-ready-connection", NULL);
	r->m_full = metrics_series(METRICS_REFUSED, "relay", "max-connections",
	    NULL);
	metrics_collector_add(&r->gauges, relay_gauges, r);
	return (r);
nomem:
	snprintf(err, errlen, "out of memory");
	relay_free(r);
	return (NULL);
}

/* The service of ${name} in ${svcs} (${n} of them), or NULL. */
static struct rsvc *
svc_in(struct rsvc *svcs, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(svcs[i].cr->name, name) == 0)
			return (&svcs[i]);
	return (NULL);
}

/* Move what ${from} (old) holds into ${to} (new, same name). */
static void
svc_move(struct rsvc *to, struct rsvc *from)
{
	const struct config_relay *cr = to->cr;

	to->regs = from->regs;
	to->nregs = from->nregs;
	to->capregs = from->capregs;
	to->rr = from->rr;
	to->more = from->more;
	from->regs = NULL;
	from->nregs = from->capregs = 0;
	if ((to->wait_head = from->wait_head) != NULL)
		to->wait_tail = from->wait_tail;
	from->wait_head = NULL;
	from->wait_tail = &from->wait_head;
	if (from->via != NULL && cr->has_via && dialout_same(from->via,
	    DIALOUT_CLIENT, cr->name, cr->via_id, &cr->via, 0)) {
		to->via = from->via; /* to owns it now */
		from->via = NULL;
		dialout_rebind(to->via, cr->name, cr->via_id, &cr->via);
		dialout_on_down(to->via, via_down, to);
	}
}

/* Reload: refuse ${rs} now (audit reason=revoked). */
static void
revoke_session(struct relay *r, struct rsess *rs)
{

	env_audit(r->env, 0, "revoked", rs->peer,
	    rs->svc != NULL ? rs->svc->cr->name : "", "relay");
	rsess_free(rs, "revoked");
}

/* The limits of [relay ${name}] of ${cfg}, or NULL. */
static const struct config_limits *
limits_of(const struct config *cfg, const char *name)
{
	const struct config_relay *cr = config_relay_find(cfg, name);

	return (cr != NULL ? &cr->limits : NULL);
}

/*
 * relay_reconfigure(r, err, errlen):
 * Reload: the environment of ${r} holds a new configuration.  Rebuild the
 * services from it, keeping by name the registrants, waiting clients and
 * unchanged next-relay sessions; then end (audit reason=revoked) every
 * session, pair and waiting client whose identity lost its right, and
 * every registration of a name that is gone, adding their count to
 * ${revoked}.  Return 0, or -1 on ENOMEM (${r} unchanged).
 */
int
relay_reconfigure(struct relay *r, unsigned *revoked, char *err,
    size_t errlen)
{
	const struct config *cfg = r->env->cfg;
	struct rsvc *svcs, *old = r->svcs, *svc;
	size_t nold = r->nsvcs, i;
	struct rsess *rs, *rsn;
	struct pair *p;
	struct cwait *cw;
	struct acl_verdict v;

	if ((svcs = calloc(cfg->nrelays + 1, sizeof(*svcs))) == NULL)
		goto nomem;
	for (i = 0; i < cfg->nrelays; i++) {
		svcs[i].cr = &cfg->relays[i];
		svcs[i].r = r;
		svcs[i].wait_tail = &svcs[i].wait_head;
		if (cfg->relays[i].has_via && (svc = svc_in(old, nold,
		    cfg->relays[i].name)) != NULL && svc->via != NULL &&
		    dialout_same(svc->via, DIALOUT_CLIENT, cfg->relays[i].name,
		    cfg->relays[i].via_id, &cfg->relays[i].via, 0))
			continue; /* kept in svc_move */
		if (cfg->relays[i].has_via && (svcs[i].via = dialout_new(r->env,
		    DIALOUT_CLIENT, cfg->relays[i].name, cfg->relays[i].via_id,
		    &cfg->relays[i].via, NULL, 0, "relay")) == NULL)
			goto fail;
		if (svcs[i].via != NULL)
			dialout_on_down(svcs[i].via, via_down, &svcs[i]);
	}
	/* From here on nothing fails. */
	for (i = 0; i < cfg->nrelays; i++)
		if ((svc = svc_in(old, nold, svcs[i].cr->name)) != NULL)
			svc_move(&svcs[i], svc);
	for (rs = r->sessions; rs != NULL; rs = rs->next)
		if (rs->svc != NULL)
			rs->svc = svc_in(svcs, cfg->nrelays, rs->svc->cr->name);
	/* A pair made through a next relay follows its session, if kept
	 * (svc_move took it: the old service has none left). */
	for (p = r->pairs; p != NULL; p = p->next)
		if (p->via != NULL)
			p->via = p->via->via == NULL ? svc_in(svcs,
			    cfg->nrelays, p->name) : NULL;
	/* What is left of the old services goes. */
	for (i = 0; i < nold; i++) {
		while ((cw = wait_pop(r, &old[i])) != NULL)
			wait_drop(r, cw);
		dialout_free(old[i].via);
		free(old[i].regs);
	}
	free(old);
	r->svcs = svcs;
	r->nsvcs = cfg->nrelays;
	env_limit_reload(r->env, &r->limits, "relay", limits_of);
	/* Revoke what lost its right. */
	for (rs = r->sessions; rs != NULL; rs = rsn) {
		rsn = rs->next;
		if (!rsess_allowed(r, rs, &v)) {
			revoke_session(r, rs);
			(*revoked)++;
		} else
			rs->expiry = v.expiry;
	}
	*revoked += pairs_decide(r, NULL, "revoked");
	return (0);
fail:
	for (i = 0; i < cfg->nrelays; i++)
		dialout_free(svcs[i].via);
	free(svcs);
nomem:
	snprintf(err, errlen, "out of memory");
	return (-1);
}

/*
 * relay_expire(r):
 * End every pair of ${r} a side of which a credential admitted that has
 * expired (audit reason=credential-expired with conn=, close
 * reason=revoked), then every session admitted so (audit
 * reason=credential-expired, session-close reason=credential-expired).
 * Return how many.
 */
unsigned
relay_expire(struct relay *r)
{
	uint64_t now;
	struct rsess *rs, *rsn;
	struct pair *p, *pn;
	unsigned n = 0;
	int i;

	if (r == NULL)
		return (0);
	now = (uint64_t)ev_now(r->env->loop);
	/* A pair's sides expire no later than their sessions (the same
	 * credentials, one name of the session's): pairs first. */
	for (p = r->pairs; p != NULL; p = pn) {
		pn = p->next;
		for (i = 0; i < p->nsides; i++) {
			if (p->expiry[i] == 0 || now < p->expiry[i])
				continue;
			pair_revoke(p, i, "credential-expired", NULL);
			n++;
			break;
		}
	}
	for (rs = r->sessions; rs != NULL; rs = rsn) {
		rsn = rs->next;
		if (rs->expiry == 0 || now < rs->expiry)
			continue;
		env_audit(r->env, 0, "credential-expired", rs->peer,
		    rs->svc != NULL ? rs->svc->cr->name : "", "relay");
		rsess_free(rs, "credential-expired");
		n++;
	}
	return (n);
}

/*
 * relay_restart(r):
 * The node's identity changed: renew the sessions with next relays.
 */
void
relay_restart(struct relay *r)
{
	size_t i;

	for (i = 0; r != NULL && i < r->nsvcs; i++)
		dialout_restart(r->svcs[i].via);
}

/* Set the relay's gauges (a metrics collector: runs at each scrape). */
static void
relay_gauges(void *arg)
{
	const struct relay *r = arg;
	const struct rsess *rs;
	unsigned n[2] = {0, 0}, pooled;
	size_t i, k, pidle, pbusy;

	for (rs = r->sessions; rs != NULL; rs = rs->next)
		n[rs->kind == 'R']++;
	metrics_set(METRICS_RELAY_SESSIONS, n[0], "client", NULL, NULL);
	metrics_set(METRICS_RELAY_SESSIONS, n[1], "registrant", NULL, NULL);
	metrics_set(METRICS_RELAY_PAIRS, r->npairs, NULL, NULL, NULL);
	splice_pool_counts(&pidle, &pbusy);
	metrics_set(METRICS_RELAY_PIPES, (double)pidle, "idle", NULL, NULL);
	metrics_set(METRICS_RELAY_PIPES, (double)pbusy, "busy", NULL, NULL);
	metrics_reset(METRICS_RELAY_REGISTRANTS);
	metrics_reset(METRICS_RELAY_POOLED);
	for (i = 0; i < r->nsvcs; i++) {
		const struct rsvc *svc = &r->svcs[i];

		for (k = 0, pooled = 0; k < svc->nregs; k++)
			pooled += svc->regs[k]->npool;
		metrics_set(METRICS_RELAY_REGISTRANTS, (double)svc->nregs,
		    svc->cr->name, NULL, NULL);
		metrics_set(METRICS_RELAY_POOLED, pooled, svc->cr->name, NULL,
		    NULL);
	}
}

/*
 * relay_live(r):
 * How many client connections ${r} carries or holds (0 for NULL).
 */
unsigned
relay_live(const struct relay *r)
{

	return (r != NULL ? r->npairs + r->nwait : 0);
}

/*
 * relay_stop(r):
 * Node shutdown: stop re-dialing next relays.  Pairs go on (they count
 * in relay_live) until they end or the grace period does.
 */
void
relay_stop(struct relay *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsvcs; i++)
		dialout_stop(r->svcs[i].via);
}

/*
 * relay_free(r):
 * Close every session, pooled connection and pair; free ${r}.  NULL does
 * nothing.
 */
void
relay_free(struct relay *r)
{
	struct cwait *cw;
	size_t i;

	if (r == NULL)
		return;
	metrics_collector_remove(&r->gauges);
	while (r->pairs != NULL)
		pair_close(r->pairs, "shutdown", 1);
	while (r->sessions != NULL)
		rsess_free(r->sessions, "shutdown");
	for (i = 0; i < r->nsvcs; i++) {
		while ((cw = wait_pop(r, &r->svcs[i])) != NULL)
			wait_drop(r, cw);
		dialout_free(r->svcs[i].via);
		free(r->svcs[i].regs);
	}
	ev_timer_stop(r->env->loop, &r->wait_timer);
	free(r->svcs);
	free(r->buckets);
	limit_table_fini(&r->limits);
	free(r);
}
