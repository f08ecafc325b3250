/*
 * relay: see relay.h and docs/relay.md.
 *
 * Objects, all owned by struct relay and linked in its lists:
 *   pend    an accepted socket whose first bytes are not known yet
 *           (handshake deadline; at most max_handshakes at once);
 *   rsess   a session: the node's identity, its kind (client or
 *           registrant of one name), its ticket, and for a registrant
 *           the pooled P connections it keeps here;
 *   pooled  one ready P connection (watched only for its close);
 *   cwait   an allowed C connection waiting (connect_timeout at most)
 *           for a pooled connection or for the next relay's session;
 *   pair    two sockets joined: one pipe per direction, splice(2) moves
 *           bytes socket -> pipe -> socket without copying them to user
 *           space.  A pair costs its struct (a few hundred bytes), four
 *           pipe descriptors and the kernel's pipe pages (at most 64 KiB
 *           per direction): bounded, whatever the peers do.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dialout.h"
#include "identity.h"
#include "log.h"
#include "node.h"
#include "outlet.h"
#include "relay.h"
#include "session.h"
#include "ticket.h"

#define RELAY_POOL_MAX 64       /* pooled connections kept per session */
#define RELAY_SPLICE (1 << 16)  /* bytes asked of one splice(2) */
#define RELAY_WAIT_TICK 0.05    /* how often waiting clients are checked */
#define RELAY_MSG_TICKET 'T'    /* session message: T || id || key */
#define RELAY_MSG_MORE 'M'      /* session message: a client waits */
#define RELAY_PENDING_MAX 4096  /* connections whose first bytes are due */
#define RELAY_BAD_LINES 10      /* unknown-session lines per second */
#define RELAY_EVICT_AGE 1.0     /* seconds before a silent pend may go */

struct relay;
struct rsess;

struct pend {
	struct relay *r;
	int fd;
	ev_io w;
	ev_timer t;
	size_t have;
	ev_tstamp t_start; /* when it was accepted */
	uint8_t buf[TICKET_PREAMBLE_LEN];
	struct pend *prev, *next; /* r->pends, newest first */
};

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
	uint8_t peer[CHANNEL_ID_LEN];
	char kind;         /* 'S' or 'R' */
	struct rsvc *svc;  /* 'R': the name registered */
	struct pooled *pool;
	unsigned npool;
	struct rsess *prev, *next;
};

struct cwait {
	int fd;
	struct rsess *sess; /* the client's session (NULL once it died) */
	ev_tstamp deadline;
	uint8_t peer[CHANNEL_ID_LEN];
	struct cwait *next;
};

struct pair {
	struct relay *r;
	int fd[2];         /* 0: the client side, 1: the outlet side */
	int pipe[2][2];    /* pipe[d] carries fd[d] -> fd[!d] */
	size_t inpipe[2];  /* bytes waiting in pipe[d] */
	unsigned eof[2];   /* fd[d] said EOF */
	unsigned full[2];  /* pipe[d] took nothing: wait for a drain */
	unsigned shut[2];  /* fd[!d] shut down for writing */
	unsigned started;  /* a byte reached fd[1] (connect deadline off) */
	ev_io rd[2], wr[2];
	ev_timer timer;
	uint64_t bytes[2];
	uint64_t id;
	ev_tstamp t_start;
	const char *name;
	uint8_t peer[CHANNEL_ID_LEN];
	struct rsess *sess[2]; /* the sessions behind each side, or NULL */
	struct rsvc *via;      /* made through this service's next relay */
	struct pair *prev, *next;
};

struct relay {
	struct node *node;
	struct rsvc *svcs;
	size_t nsvcs;
	struct pend *pends;
	unsigned npends;
	struct rsess *sessions;
	unsigned nsessions;
	struct pair *pairs;
	unsigned npairs;
	unsigned nwait;
	ev_timer wait_timer;
	ev_tstamp bad_at;        /* start of the current bad-ticket second */
	unsigned bad_lines;      /* bad-ticket lines logged in it */
	uint64_t bad_suppressed; /* bad-ticket lines left out */
};

static void serve(struct relay *r, struct rsvc *svc);

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

/* Return 1 if ${id} is one of the ${n} identifiers at ${list}. */
static int
id_listed(const uint8_t (*list)[CONFIG_ID_LEN], size_t n, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(list[i], id, CONFIG_ID_LEN) == 0)
			return (1);
	return (0);
}

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

/* Free ${p}: stop, close everything (${reset}: with a reset), log. */
static void
pair_close(struct pair *p, const char *reason, int reset)
{
	struct relay *r = p->r;
	char peer[IDENTITY_TEXT_SIZE];
	int d;

	for (d = 0; d < 2; d++) {
		ev_io_stop(r->node->loop, &p->rd[d]);
		ev_io_stop(r->node->loop, &p->wr[d]);
		if (reset)
			conn_close_reset(p->fd[d]);
		else
			close(p->fd[d]);
		close(p->pipe[d][0]);
		close(p->pipe[d][1]);
	}
	ev_timer_stop(r->node->loop, &p->timer);
	log_info("event=close role=relay conn=%" PRIu64 " name=%s peer=%s "
	    "service=%s bytes_in=%" PRIu64 " bytes_out=%" PRIu64
	    " duration_ms=%.0f reason=%s", p->id, p->name,
	    identity_id_format(p->peer, peer), p->name, p->bytes[0],
	    p->bytes[1], (ev_now(r->node->loop) - p->t_start) * 1000.,
	    reason);
	LIST_UNLINK(&r->pairs, p);
	r->npairs--;
	free(p);
	if (r->npairs == 0)
		node_check_empty(r->node);
}

/* Start exactly the watchers the pipes call for. */
static void
pair_update(struct pair *p)
{
	struct ev_loop *loop = p->r->node->loop;
	int d, on;

	for (d = 0; d < 2; d++) {
		on = !p->eof[d] && !p->full[d];
		if (on && !ev_is_active(&p->rd[d]))
			ev_io_start(loop, &p->rd[d]);
		else if (!on && ev_is_active(&p->rd[d]))
			ev_io_stop(loop, &p->rd[d]);
		/* wr[!d] drains pipe[d] into fd[!d]. */
		on = p->inpipe[d] > 0;
		if (on && !ev_is_active(&p->wr[!d]))
			ev_io_start(loop, &p->wr[!d]);
		else if (!on && ev_is_active(&p->wr[!d]))
			ev_io_stop(loop, &p->wr[!d]);
	}
}

/*
 * Drain pipe[d] into fd[!d]; pass an EOF on once the pipe is empty.
 * Return 0, or -1 after closing ${p}.
 */
static int
pair_drain(struct pair *p, int d)
{
	ssize_t n;

	while (p->inpipe[d] > 0) {
		n = splice(p->pipe[d][0], NULL, p->fd[!d], NULL, p->inpipe[d],
		    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return (0);
		if (n <= 0) {
			pair_close(p, "reset", 1);
			return (-1);
		}
		p->inpipe[d] -= (size_t)n;
		p->bytes[d] += (uint64_t)n;
		p->full[d] = 0;
		if (d == 0 && !p->started) {
			p->started = 1;
			ev_timer_stop(p->r->node->loop, &p->timer);
		}
	}
	if (p->eof[d] && !p->shut[d]) {
		(void)shutdown(p->fd[!d], SHUT_WR);
		p->shut[d] = 1;
		if (p->shut[!d]) {
			pair_close(p, "eof", 0);
			return (-1);
		}
	}
	return (0);
}

/* fd[d] readable: move what it has into pipe[d], then on. */
static void
pair_fill(struct pair *p, int d)
{
	ssize_t n;

	while ((n = splice(p->fd[d], NULL, p->pipe[d][1], NULL, RELAY_SPLICE,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK)) == -1 && errno == EINTR)
		;
	if (n == -1 && errno == EAGAIN) {
		/*
		 * Nothing to read, or the pipe has no free slot (it counts
		 * pages, not bytes): stop reading until it drains.
		 */
		if (p->inpipe[d] > 0) {
			p->full[d] = 1;
			pair_update(p);
		}
		return;
	}
	if (n == -1) {
		pair_close(p, "reset", 1);
		return;
	}
	if (n == 0)
		p->eof[d] = 1;
	else
		p->inpipe[d] += (size_t)n;
	if (pair_drain(p, d) == -1)
		return;
	pair_update(p);
}

static void
pair_rd_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pair *p = w->data;

	(void)loop;
	(void)revents;
	pair_fill(p, w == &p->rd[0] ? 0 : 1);
}

static void
pair_wr_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pair *p = w->data;
	int d = w == &p->wr[0] ? 1 : 0; /* wr[x] drains pipe[!x] */

	(void)loop;
	(void)revents;
	if (pair_drain(p, d) == -1)
		return;
	pair_update(p);
}

/* The next relay did not answer in time. */
static void
pair_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pair *p = w->data;

	(void)loop;
	(void)revents;
	pair_close(p, "connect-timeout", 1);
}

/*
 * Join the client socket ${fa} and the outlet-side socket ${fb} (both
 * taken), made through the sessions ${sa} and ${sb} (either may be NULL;
 * the pair ends with them); ${pre} (${prelen} bytes, may be 0) goes to
 * ${fb} first and, if given, ${fb} is still connecting (deadline:
 * connect_timeout).  Return the pair, or NULL (both sockets closed).
 */
static struct pair *
pair_new(struct relay *r, int fa, int fb, const char *name,
    const uint8_t *peer, struct rsess *sa, struct rsess *sb,
    const uint8_t *pre, size_t prelen)
{
	char pid[IDENTITY_TEXT_SIZE];
	struct pair *p;
	int d;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto fail0;
	if (pipe2(p->pipe[0], O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail1;
	if (pipe2(p->pipe[1], O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail2;
	if (prelen > 0 && write(p->pipe[0][1], pre, prelen) != (ssize_t)prelen)
		goto fail3;
	p->r = r;
	p->fd[0] = fa; /* p owns both sockets now */
	p->fd[1] = fb;
	p->inpipe[0] = prelen;
	p->id = ++r->node->ctx.next_id; /* one conn= counter per process */
	p->t_start = ev_now(r->node->loop);
	p->name = name;
	p->sess[0] = sa;
	p->sess[1] = sb;
	memcpy(p->peer, peer, CHANNEL_ID_LEN);
	for (d = 0; d < 2; d++) {
		ev_io_init(&p->rd[d], pair_rd_cb, p->fd[d], EV_READ);
		ev_io_init(&p->wr[d], pair_wr_cb, p->fd[d], EV_WRITE);
		p->rd[d].data = p->wr[d].data = p;
	}
	ev_timer_init(&p->timer, pair_timer_cb,
	    r->node->cfg->node.connect_timeout, 0.);
	p->timer.data = p;
	if (prelen > 0)
		ev_timer_start(r->node->loop, &p->timer);
	else
		p->started = 1;
	LIST_PUSH(&r->pairs, p);
	r->npairs++;
	log_info("event=open role=relay conn=%" PRIu64 " name=%s peer=%s "
	    "service=%s", p->id, name, identity_id_format(peer, pid), name);
	pair_update(p);
	return (p);
fail3:
	close(p->pipe[1][0]);
	close(p->pipe[1][1]);
fail2:
	close(p->pipe[0][0]);
	close(p->pipe[0][1]);
fail1:
	free(p);
fail0:
	log_warn("event=relay error=pair-failed errno=%d", errno);
	conn_close_reset(fa);
	conn_close_reset(fb);
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
	ev_io_stop(rs->r->node->loop, &pc->w);
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

/* Queue the allowed client ${fd} of ${svc} (taken). */
static void
wait_add(struct relay *r, struct rsvc *svc, int fd, const uint8_t *peer,
    struct rsess *cs)
{
	struct cwait *cw;

	if ((cw = calloc(1, sizeof(*cw))) == NULL) {
		conn_close_reset(fd);
		return;
	}
	cw->fd = fd;
	cw->sess = cs;
	cw->deadline = ev_now(r->node->loop) +
	    r->node->cfg->node.connect_timeout;
	memcpy(cw->peer, peer, CHANNEL_ID_LEN);
	*svc->wait_tail = cw;
	svc->wait_tail = &cw->next;
	if (r->nwait++ == 0)
		ev_timer_again(r->node->loop, &r->wait_timer);
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
		ev_timer_stop(r->node->loop, &r->wait_timer);
	return (cw);
}

/* Connect to the next relay for ${svc}; -1 if it failed at once. */
static int
dial_next(struct rsvc *svc)
{
	const struct addr *a = dialout_addr(svc->via);
	int fd;

	if ((fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (connect(fd, (const struct sockaddr *)&a->sa, a->salen) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return (-1);
	}
	conn_set_nodelay(fd);
	return (fd);
}

/*
 * Give the client ${fd} (taken) of ${svc} its other side: a pooled
 * connection, or a new connection to the next relay (its preamble
 * queued in the pair).  Return 0, or -1 if none is available now (${fd}
 * is then still the caller's).
 */
static int
route(struct relay *r, struct rsvc *svc, int fd, const uint8_t *peer,
    struct rsess *cs)
{
	uint8_t pre[TICKET_PREAMBLE_LEN];
	struct rsess *owner = NULL;
	struct pair *p;
	int other;

	if (svc->via != NULL) {
		if (dialout_preamble(svc->via, svc->cr->name, pre) == -1)
			return (-1);
		if ((other = dial_next(svc)) == -1) {
			conn_close_reset(fd);
			return (0);
		}
		if ((p = pair_new(r, fd, other, svc->cr->name, peer, cs, NULL,
		    pre, sizeof(pre))) != NULL)
			p->via = svc; /* it ends with that session */
		return (0);
	}
	if ((other = pooled_take(svc, &owner)) == -1)
		return (-1);
	(void)pair_new(r, fd, other, svc->cr->name, peer, cs, owner, NULL, 0);
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
		if (route(r, svc, cw->fd, cw->peer, cw->sess) == -1)
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
			log_warn("event=relay-timeout role=relay service=%s "
			    "reason=no-ready-connection", svc->cr->name);
			conn_close_reset(cw->fd);
			free(cw);
		}
	}
	node_check_empty(r->node);
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
	struct cwait *cw;
	char peer[IDENTITY_TEXT_SIZE];
	size_t i;

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
	 * Connections made through it end too: a session that died of
	 * silence means the path is gone, and its peer cannot tell.
	 */
	for (p = r->pairs; p != NULL; p = pn) {
		pn = p->next;
		if (p->sess[0] == rs || p->sess[1] == rs)
			pair_close(p, "session-closed", 1);
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
	LIST_UNLINK(&r->sessions, rs);
	r->nsessions--;
	free(rs);
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

static const struct session_ops rsess_ops = {
	.message = rsess_message,
	.dead = rsess_dead,
};

/* Return 1 if ${id} may reach any name of this relay. */
static int
allowed_anywhere(const struct relay *r, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < r->nsvcs; i++)
		if (id_listed(r->svcs[i].cr->allow, r->svcs[i].cr->nallow, id))
			return (1);
	return (0);
}

/*
 * relay_claim(r, c):
 * ${c} completed a responder handshake: if its request is a session
 * request ("@S" or "@R" + name), take it over (authorize, send the
 * ticket) and return 1 (${c} is gone); otherwise return 0.
 */
int
relay_claim(struct relay *r, struct conn *c)
{
	const uint8_t *req, *peer = channel_peer_id(c->ch);
	uint8_t rest[256], msg[1 + TICKET_ID_LEN + TICKET_KEY_LEN];
	char name[CONFIG_NAME_MAX], pid[IDENTITY_TEXT_SIZE];
	struct channel *ch;
	struct rsess *rs, **regs;
	struct rsvc *svc = NULL;
	size_t len = 0, restlen;
	int fd;

	req = channel_request(c->ch, &len);
	if (req == NULL || len < 2 || req[0] != '@' ||
	    (req[1] != 'S' && req[1] != 'R'))
		return (0);
	/* Authorize: a registrant of the name, or a client of some name. */
	name[0] = '\0';
	if (req[1] == 'R') {
		if (len - 2 >= sizeof(name) || memchr(req + 2, 0, len - 2) !=
		    NULL)
			len = 2; /* cannot be a configured name */
		memcpy(name, req + 2, len - 2);
		name[len - 2] = '\0';
		if ((svc = svc_find(r, name)) == NULL) {
			node_audit(r->node, 0, "unknown-service", peer, name,
			    "relay");
			goto deny;
		}
		if (!id_listed(svc->cr->reg, svc->cr->nreg, peer)) {
			node_audit(r->node, 0, "not-registrant", peer, name,
			    "relay");
			goto deny;
		}
	} else if (!allowed_anywhere(r, peer)) {
		node_audit(r->node, 0, "not-allowed", peer, "", "relay");
		goto deny;
	}
	if (r->nsessions >= r->node->cfg->node.max_connections) {
		log_warn("event=refuse role=relay reason=max-connections");
		goto deny;
	}
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		c->quiet = 1;
		conn_drop(c, CONN_R_NOMEM);
		return (1);
	}
	rs->r = r;
	rs->kind = (char)req[1];
	memcpy(rs->peer, peer, CHANNEL_ID_LEN);
	if (svc != NULL && svc->nregs == svc->capregs) {
		if ((regs = reallocarray(svc->regs, svc->capregs * 2 + 4,
		    sizeof(*svc->regs))) == NULL) {
			free(rs);
			c->quiet = 1;
			conn_drop(c, CONN_R_NOMEM);
			return (1);
		}
		svc->regs = regs;
		svc->capregs = svc->capregs * 2 + 4;
	}
	if (ticket_make(&rs->t) == -1) {
		free(rs);
		c->quiet = 1;
		conn_drop(c, CONN_R_NOMEM);
		return (1);
	}
	if (conn_detach(c, &fd, &ch, rest, sizeof(rest), &restlen) == -1) {
		ticket_fini(&rs->t);
		free(rs);
		return (1);
	}
	if ((rs->s = session_new(r->node->loop, fd, ch,
	    r->node->cfg->node.keepalive, &rsess_ops, rs, rest, restlen)) ==
	    NULL) {
		ticket_fini(&rs->t);
		free(rs);
		return (1);
	}
	LIST_PUSH(&r->sessions, rs);
	r->nsessions++;
	if (svc != NULL) {
		rs->svc = svc;
		svc->regs[svc->nregs++] = rs;
		node_audit(r->node, 1, "registered", peer, name, "relay");
	}
	log_info("event=session-open role=relay kind=%s peer=%s "
	    "service=%s", rs->kind == 'R' ? "register" : "client",
	    identity_id_format(peer, pid), svc != NULL ? name : "-");
	/* The ticket, inside the channel. */
	msg[0] = RELAY_MSG_TICKET;
	memcpy(msg + 1, rs->t.id, TICKET_ID_LEN);
	memcpy(msg + 1 + TICKET_ID_LEN, rs->t.key, TICKET_KEY_LEN);
	(void)session_send(rs->s, msg, sizeof(msg));
	wipe(msg, sizeof(msg));
	return (1);
deny:
	c->quiet = 1;
	conn_drop(c, CONN_R_DENIED);
	return (1);
}

/* ------------------------------------------------------------------ */
/* Data connections: the preamble.                                     */

static void
pend_free(struct pend *pd, int close_fd)
{
	struct relay *r = pd->r;

	ev_io_stop(r->node->loop, &pd->w);
	ev_timer_stop(r->node->loop, &pd->t);
	if (close_fd && pd->fd != -1)
		conn_close_reset(pd->fd);
	LIST_UNLINK(&r->pends, pd);
	r->npends--;
	free(pd);
}

/*
 * Lines anyone can cause (unknown sessions, silent connections): return 1
 * if one may be logged now, at most RELAY_BAD_LINES per second; the first
 * line after a quiet spell says how many were left out.
 */
static int
may_log(struct relay *r)
{
	ev_tstamp now = ev_now(r->node->loop);

	if (now - r->bad_at >= 1.) {
		r->bad_at = now;
		r->bad_lines = 0;
	}
	if (r->bad_lines++ >= RELAY_BAD_LINES) {
		r->bad_suppressed++;
		return (0);
	}
	if (r->bad_suppressed > 0)
		log_warn("event=relay-suppressed suppressed=%llu",
		    (unsigned long long)r->bad_suppressed);
	r->bad_suppressed = 0;
	return (1);
}

/* The session holding the ticket ${id}, or NULL. */
static struct rsess *
rsess_find(struct relay *r, const uint8_t *id)
{
	struct rsess *rs;

	for (rs = r->sessions; rs != NULL; rs = rs->next)
		if (memcmp(rs->t.id, id, TICKET_ID_LEN) == 0)
			return (rs);
	return (NULL);
}

/* A whole preamble arrived on ${fd} (taken): decide and act. */
static void
preamble(struct relay *r, int fd, const uint8_t *pre)
{
	uint8_t type, id[TICKET_ID_LEN];
	char name[TICKET_NAME_LEN];
	struct rsess *rs;
	struct rsvc *svc;
	struct pooled *pc;
	int e;

	if (ticket_preamble_id(pre, &type, id) == -1 ||
	    (rs = rsess_find(r, id)) == NULL) {
		/* Anyone can send this: at most a few lines per second. */
		if (may_log(r))
			node_audit(r->node, 0, "bad-ticket", NULL, "", "relay");
		goto refuse;
	}
	if ((e = ticket_preamble_check(&rs->t, pre, &type, name)) != 0) {
		node_audit(r->node, 0, ticket_strerror(e), rs->peer, "",
		    "relay");
		goto refuse;
	}
	if (type == TICKET_POOLED) {
		/* A ready connection of the registrant, for its own name. */
		if (rs->kind != 'R' || strcmp(name, rs->svc->cr->name) != 0) {
			node_audit(r->node, 0, "not-registrant", rs->peer, name,
			    "relay");
			goto refuse;
		}
		if (rs->npool >= RELAY_POOL_MAX ||
		    (pc = calloc(1, sizeof(*pc))) == NULL)
			goto refuse;
		pc->sess = rs;
		pc->fd = fd;
		ev_io_init(&pc->w, pooled_cb, fd, EV_READ);
		pc->w.data = pc;
		ev_io_start(r->node->loop, &pc->w);
		pc->next = rs->pool;
		rs->pool = pc;
		rs->npool++;
		serve(r, rs->svc);
		return;
	}
	/* A client: allowed for this name, and someone to take it. */
	if ((svc = svc_find(r, name)) == NULL) {
		node_audit(r->node, 0, "unknown-service", rs->peer, name,
		    "relay");
		goto refuse;
	}
	if (!id_listed(svc->cr->allow, svc->cr->nallow, rs->peer)) {
		node_audit(r->node, 0, "not-allowed", rs->peer, name, "relay");
		goto refuse;
	}
	if (svc->via == NULL && svc->nregs == 0) {
		node_audit(r->node, 0, "no-registrant", rs->peer, name,
		    "relay");
		goto refuse;
	}
	if (r->npairs + r->nwait >= r->node->cfg->node.max_connections) {
		log_warn("event=refuse role=relay reason=max-connections");
		goto refuse;
	}
	node_audit(r->node, 1, "allowed", rs->peer, name, "relay");
	if (svc->wait_head != NULL || route(r, svc, fd, rs->peer, rs) == -1) {
		wait_add(r, svc, fd, rs->peer, rs);
		want_more(svc);
	}
	return;
refuse:
	conn_close_reset(fd);
}

/*
 * The first bytes of an accepted connection: a handshake frame (its
 * length prefix starts with a byte below 4) goes to the outlet role; a
 * preamble is read whole (and no further: what follows is the channel).
 */
static void
pend_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct pend *pd = w->data;
	struct relay *r = pd->r;
	ssize_t n;
	int fd;

	(void)loop;
	(void)revents;
	if (pd->have == 0) {
		n = recv(pd->fd, pd->buf, 1, MSG_PEEK);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			pend_free(pd, 1);
			return;
		}
		if (pd->buf[0] != TICKET_CLIENT &&
		    pd->buf[0] != TICKET_POOLED) {
			fd = pd->fd;
			pd->fd = -1; /* the outlet role owns fd now */
			pend_free(pd, 0);
			outlet_adopt(r->node->outlet, fd, NULL);
			return;
		}
	}
	n = read(pd->fd, pd->buf + pd->have, sizeof(pd->buf) - pd->have);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		pend_free(pd, 1);
		return;
	}
	pd->have += (size_t)n;
	if (pd->have < sizeof(pd->buf))
		return;
	fd = pd->fd;
	pd->fd = -1;
	preamble(r, fd, pd->buf); /* fd taken */
	pend_free(pd, 0);
}

/* The first bytes did not come in time. */
static void
pend_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct pend *pd = w->data;

	(void)loop;
	(void)revents;
	if (may_log(pd->r))
		log_warn("event=drop role=relay conn=0 addr=- "
		    "reason=handshake-timeout");
	pend_free(pd, 1);
}

/*
 * At RELAY_PENDING_MAX: reset the oldest pending connection if it has been
 * waiting RELAY_EVICT_AGE seconds or more (a live peer sends its first
 * bytes right behind its connect).  Return 0 if one went, else -1.
 */
static int
pend_evict(struct relay *r)
{
	struct pend *pd, *old = NULL;

	for (pd = r->pends; pd != NULL; pd = pd->next)
		old = pd; /* the list is newest first */
	if (old == NULL ||
	    ev_now(r->node->loop) - old->t_start < RELAY_EVICT_AGE)
		return (-1);
	if (may_log(r))
		log_warn("event=drop role=relay conn=0 addr=- reason=evicted");
	pend_free(old, 1);
	return (0);
}

/*
 * relay_accept(r, fd):
 * A connection accepted on the node's listen address (${fd} taken): wait
 * for its first byte; a handshake goes to the outlet role
 * (outlet_adopt), a preamble is checked here.
 */
void
relay_accept(struct relay *r, int fd)
{
	struct pend *pd;
	int one = 1;

	if (r->npends >= RELAY_PENDING_MAX && pend_evict(r) == -1) {
		log_warn("event=refuse role=relay reason=max-pending");
		conn_close_reset(fd);
		return;
	}
	if ((pd = calloc(1, sizeof(*pd))) == NULL) {
		conn_close_reset(fd);
		return;
	}
	pd->r = r;
	pd->fd = fd; /* pd owns fd now */
	/* Every write is a relayed segment: no Nagle (fails harmlessly on a
	 * unix socket; one system call less than conn_set_nodelay). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	ev_io_init(&pd->w, pend_read_cb, fd, EV_READ);
	ev_timer_init(&pd->t, pend_timer_cb,
	    r->node->cfg->node.handshake_timeout, 0.);
	pd->w.data = pd->t.data = pd;
	pd->t_start = ev_now(r->node->loop);
	ev_io_start(r->node->loop, &pd->w);
	ev_timer_start(r->node->loop, &pd->t);
	LIST_PUSH(&r->pends, pd);
	r->npends++;
}

/* The session with the next relay of ${arg} (an rsvc) ended: so do the
 * pairs made through it. */
static void
via_down(void *arg)
{
	struct rsvc *svc = arg;
	struct relay *r = svc->r;
	struct pair *p, *pn;

	for (p = r->pairs; p != NULL; p = pn) {
		pn = p->next;
		if (p->via == svc)
			pair_close(p, "session-closed", 1);
	}
}

/*
 * relay_new(n, err, errlen):
 * The relay role of ${n} for its [relay NAME] sections (sessions to next
 * relays are started).  NULL with a message in ${err} on failure.
 */
struct relay *
relay_new(struct node *n, char *err, size_t errlen)
{
	const struct config *cfg = n->cfg;
	struct relay *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto nomem;
	r->node = n;
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
		    (svc->via = dialout_new(n, DIALOUT_CLIENT, svc->cr->name,
		    svc->cr->via_id, &svc->cr->via, 0, "relay")) == NULL)
			goto nomem;
		if (svc->via != NULL)
			dialout_on_down(svc->via, via_down, svc);
	}
	return (r);
nomem:
	snprintf(err, errlen, "out of memory");
	relay_free(r);
	return (NULL);
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
	while (r->pends != NULL)
		pend_free(r->pends, 1);
	while (r->pairs != NULL)
		pair_close(r->pairs, "shutdown", 1);
	while (r->sessions != NULL)
		rsess_free(r->sessions, "shutdown");
	for (i = 0; i < r->nsvcs; i++) {
		while ((cw = wait_pop(r, &r->svcs[i])) != NULL) {
			conn_close_reset(cw->fd);
			free(cw);
		}
		dialout_free(r->svcs[i].via);
		free(r->svcs[i].regs);
	}
	ev_timer_stop(r->node->loop, &r->wait_timer);
	free(r->svcs);
	free(r);
}
