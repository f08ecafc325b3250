/*
 * conn: see conn.h.
 *
 * Buffers.  A connection holds no buffer while it is idle: each direction
 * takes one from a small per-process pool when bytes arrive and gives it
 * back as soon as everything in it has been written.  Idle, a connection
 * costs its struct conn and its struct channel, nothing more.
 *
 *   tx (plain -> channel): CONN_SLOTS record slots of CHANNEL_MAX_RECORD
 *   bytes.  One readv() puts the plain bytes straight into the data area
 *   of each slot (slot + CHANNEL_HDR), channel_seal() encrypts each slot
 *   in place, one writev() sends the records.  No copy.  While records
 *   wait to be written the plain socket is not read (backpressure).
 *
 *   rx (channel -> plain): one contiguous area of the same size.  read()
 *   appends at ${have}; each whole record from ${pos} on is opened in
 *   place and its data (rec + CHANNEL_HDR) queued as an iovec; one
 *   writev() sends them to the plain socket.  While plaintext waits the
 *   channel socket is not read.  When all of it is written, a trailing
 *   partial record is moved to the front only if a whole record would no
 *   longer fit behind it (at most one record is ever copied).
 *
 * During the handshake the same two buffers exist in a small size
 * (CONN_HS_CAP); bytes that arrived behind the last handshake message are
 * carried into a full rx buffer by conn_open().
 *
 * Half-close and aborts.  EOF from the plain socket becomes a CHANNEL_EOF
 * record; a CHANNEL_EOF record becomes shutdown(fd_plain, SHUT_WR) once
 * every byte before it was written.  The connection ends cleanly when both
 * happened (CONN_R_EOF).  Anything else ends it as an abort: the plain
 * socket is closed with a reset (SO_LINGER 0) so its peer sees at once
 * that the stream did not end normally, and the channel socket is closed,
 * which the far end treats the same way, because a channel that closes
 * without an EOF record is never mistaken for the end of the data.
 *
 * Nothing is freed from inside a callback: conn_drop() stops every watcher
 * (which also clears pending events), closes the sockets and hands the
 * struct to the reaper (reap.c), which frees it before the loop next
 * blocks.  Code after a call that may drop checks for CONN_DEAD.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "frame.h"
#include "identity.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "sock.h"

/*
 * Records per buffer: one readv() and one writev() move up to this many
 * (256 KiB of plaintext).  Bulk data costs the kernel per system call and
 * per wake-up of the other end as much as per byte, and the records
 * themselves cost almost nothing in user space (bench/README.md, "Bulk
 * data").
 * Memory per idle connection does not change: buffers exist only while
 * bytes are in flight.
 */
#ifndef CONN_SLOTS
#define CONN_SLOTS 16
#endif
#define CONN_CAP (CONN_SLOTS * CHANNEL_MAX_RECORD)
/* Handshake-phase buffers: one handshake frame. */
#define CONN_HS_CAP (CHANNEL_MAX_HANDSHAKE + FRAME_HDR)
/* The first bytes are read into a handshake buffer. */
_Static_assert(CONN_FIRST_MAX <= CONN_HS_CAP, "CONN_FIRST_MAX");
/* Seconds a refused connection waits for the initiator's FIN (linger). */
#define CONN_LINGER 1.0
/* Records opened per writev() to the plain socket; a tx buffer queues
 * one iovec per slot. */
#define CONN_IOV CONN_SLOTS
/* At most this many "drop" lines per second; the rest are counted. */
#define CONN_DROP_LINES 20
/* While OPEN, the channel's age is looked at this often (rekey, end). */
#define CONN_LIFE_TICK 30.
/* Spare full-size buffers kept for reuse, per process (2 MiB). */
#define CONN_POOL_MAX 8

struct conn_buf {
	struct conn_buf *next; /* pool link */
	size_t cap;            /* bytes at data */
	size_t have;           /* rx: bytes read into data */
	size_t pos;            /* rx: first byte of the first unopened record */
	unsigned niov;         /* iovecs queued */
	unsigned first;        /* first iovec not completely written */
	unsigned has_eof;      /* tx: the last record queued is our EOF */
	struct iovec iov[CONN_IOV];
	uint8_t data[];
};

/*
 * Shaping (conn_shape): a token bucket of bytes per direction, and the
 * peer's shared one if any, spent by each read from the direction's
 * source socket (it may overdraw by one
 * read, at most a buffer); while a bucket is below one token its source
 * is not watched, and the timer wakes conn_update() when it refills.
 * Unshaped connections (c->shape NULL) pay one pointer test per update.
 */
enum { SHAPE_TX, SHAPE_RX }; /* plain -> channel, channel -> plain */
struct conn_shape {
	double rate; /* bytes per second, and the burst; 0: none */
	struct limit_bucket b[2];
	struct limit_share *share; /* the peer's, shared, or NULL */
	ev_timer timer;
	struct conn *c;
};

/* The first handshake message as a frame: length (2) || e (32). */
#define CONN_MSG1_LEN (FRAME_HDR + 32)

static void conn_update(struct conn *c);
static void tx_kick(struct conn *c);
static int refusal_send(struct conn *c, const uint8_t *rec, size_t len);
static int discard(struct conn *c);
static void linger(struct conn *c, enum conn_reason reason);
static void linger_read(struct conn *c);
static void rx_pump(struct conn *c);
static int warm_room(const struct conn *c);
static struct conn_series *series_of(struct conn *c);

/* Names logged as reason=, indexed by enum conn_reason. */
static const char *const reason_names[] = {
	"eof", "handshake-timeout", "connect-timeout", "connect-failed",
	"idle-timeout", "channel-closed", "channel-error", "reset", "denied",
	"target-refused", "shutdown", "nomem", "handshake-evicted", "revoked",
	"refused", "resolve-failed", "evicted", "max-handshakes",
	"warm-expired"};

/*
 * conn_reason_name(reason):
 * The word logged for ${reason}.
 */
const char *
conn_reason_name(enum conn_reason reason)
{

	if ((size_t)reason < CONN_R_CHANNEL_BASE)
		return (reason_names[reason]);
	return (channel_error_name((int)(reason - CONN_R_CHANNEL_BASE)));
}

/*
 * conn_dial_reason(err):
 * The reason to drop with after ops->dialed reported ${err} (not 0):
 * connect-timeout, resolve-failed or connect-failed.
 */
enum conn_reason
conn_dial_reason(int err)
{

	if (err == ETIMEDOUT)
		return (CONN_R_CONNECT_TIMEOUT);
	if (err == CONN_ERESOLVE)
		return (CONN_R_RESOLVE_FAILED);
	return (CONN_R_CONNECT_FAILED);
}

/*
 * conn_peer_text(c, buf):
 * The verified peer identifier of ${c} as text into ${buf}, or "-".
 */
const char *
conn_peer_text(const struct conn *c, char buf[66])
{
	const uint8_t *id;

	if (c->ch == NULL || (id = channel_peer_id(c->ch)) == NULL)
		return ("-");
	return (identity_id_format(id, buf));
}

/* Take a buffer of ${cap} bytes: full-size ones come from the pool. */
static struct conn_buf *
buf_get(struct conn_ctx *ctx, size_t cap)
{
	struct conn_buf *b;

	if (cap == CONN_CAP && ctx->pool != NULL) {
		b = ctx->pool;
		ctx->pool = b->next;
		ctx->npool--;
	} else if ((b = malloc(sizeof(*b) + cap)) == NULL)
		return (NULL);
	b->next = NULL;
	b->cap = cap;
	b->have = b->pos = 0;
	b->niov = b->first = 0;
	b->has_eof = 0;
	return (b);
}

/* Give ${b} back: to the pool if it is full-size and the pool has room. */
static void
buf_put(struct conn_ctx *ctx, struct conn_buf *b)
{

	if (b == NULL)
		return;
	if (b->cap == CONN_CAP && ctx->npool < CONN_POOL_MAX) {
		b->next = ctx->pool;
		ctx->pool = b;
		ctx->npool++;
		return;
	}
	free(b);
}

/*
 * Write the queued iovecs of ${b} to the socket ${fd}; add the bytes
 * written to ${*count}.  Return 1 when everything is written, 0 when the
 * socket is full, -1 on error (errno set).
 */
static int
buf_flush(struct conn_buf *b, int fd, uint64_t *count)
{
	struct msghdr msg;
	ssize_t n;
	size_t left;

	while (b->first < b->niov) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = b->iov + b->first;
		msg.msg_iovlen = b->niov - b->first;
		if ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (0);
			return (-1);
		}
		*count += (uint64_t)n;
		/* Skip what was written; trim a partly written iovec. */
		left = (size_t)n;
		while (left > 0 && b->first < b->niov) {
			struct iovec *v = &b->iov[b->first];

			if (left >= v->iov_len) {
				left -= v->iov_len;
				b->first++;
			} else {
				v->iov_base = (uint8_t *)v->iov_base + left;
				v->iov_len -= left;
				left = 0;
			}
		}
	}
	return (1);
}

/* Start or stop ${w} on ${fd} (which may have changed since last time). */
static void
watch(struct conn *c, ev_io *w, int fd, int on)
{

	if (on && !ev_is_active(w)) {
		if (w->fd != fd)
			ev_io_set(w, fd, w->events & (EV_READ | EV_WRITE));
		ev_io_start(c->ctx->loop, w);
	} else if (!on && ev_is_active(w))
		ev_io_stop(c->ctx->loop, w);
}

/*
 * Legal state transitions, one bit per target state (see conn.h).
 */
static const unsigned legal[] = {
	[CONN_NEW] = 1u << CONN_FIRST_BYTES | 1u << CONN_DIAL |
	    1u << CONN_HANDSHAKE | 1u << CONN_DEAD,
	[CONN_FIRST_BYTES] = 1u << CONN_HANDSHAKE | 1u << CONN_DEAD,
	[CONN_DIAL] = 1u << CONN_HANDSHAKE | 1u << CONN_DEAD,
	[CONN_HANDSHAKE] = 1u << CONN_QUEUED | 1u << CONN_CONNECT |
	    1u << CONN_OPEN | 1u << CONN_REFUSING | 1u << CONN_WARM |
	    1u << CONN_DEAD,
	[CONN_QUEUED] = 1u << CONN_CONNECT | 1u << CONN_REFUSING |
	    1u << CONN_DEAD,
	[CONN_CONNECT] = 1u << CONN_OPEN | 1u << CONN_REFUSING |
	    1u << CONN_DEAD,
	[CONN_OPEN] = 1u << CONN_DEAD,
	[CONN_REFUSING] = 1u << CONN_DEAD,
	[CONN_WARM] = 1u << CONN_HANDSHAKE | 1u << CONN_OPEN | 1u << CONN_DEAD,
	[CONN_DEAD] = 0,
};

static int
is_pending(enum conn_state s)
{

	return (s == CONN_FIRST_BYTES || s == CONN_DIAL ||
	    s == CONN_HANDSHAKE || s == CONN_CONNECT);
}

/* A connection or a pending slot was given back: tell the node. */
static void
slot_freed(struct conn_ctx *ctx)
{

	if (ctx->slot_cb != NULL)
		ctx->slot_cb(ctx);
}

/* Move ${c} to ${to}: assert the step is legal, keep ctx->npending,
 * ctx->nfirst and the pending list. */
static void
conn_set_state(struct conn *c, enum conn_state to)
{
	static const char *const names[] = {"new", "first-bytes", "dial",
	    "handshake", "queued", "connect", "open", "refusing", "warm",
	    "dead"};

	struct conn_ctx *ctx = c->ctx;

	assert(legal[c->state] & (1u << to));
	if (c->state == CONN_WARM) {
		/* Leave the warm list (pprev, pnext: not pending). */
		ctx->nwarm--;
		metrics_inc(series_of(c)->warm, -1);
		if (c->pprev != NULL)
			c->pprev->pnext = c->pnext;
		else
			ctx->warm_head = c->pnext;
		if (c->pnext != NULL)
			c->pnext->pprev = c->pprev;
		c->pprev = c->pnext = NULL;
	}
	/* FIRST_BYTES counts apart (ctx->nfirst), on the same list. */
	if (c->state == CONN_FIRST_BYTES)
		ctx->nfirst--;
	else if (is_pending(c->state))
		ctx->npending--;
	if (to == CONN_FIRST_BYTES)
		ctx->nfirst++;
	else if (is_pending(to))
		ctx->npending++;
	if (is_pending(c->state) && !is_pending(to)) {
		/* Leave the pending list. */
		if (c->pprev != NULL)
			c->pprev->pnext = c->pnext;
		else
			ctx->pend_head = c->pnext;
		if (c->pnext != NULL)
			c->pnext->pprev = c->pprev;
		else
			ctx->pend_tail = c->pprev;
		c->pprev = c->pnext = NULL;
		slot_freed(ctx);
	} else if (!is_pending(c->state) && is_pending(to)) {
		/* Join it at the tail: the list stays oldest first. */
		c->pprev = ctx->pend_tail;
		if (ctx->pend_tail != NULL)
			ctx->pend_tail->pnext = c;
		else
			ctx->pend_head = c;
		ctx->pend_tail = c;
	}
	if (to == CONN_WARM) {
		ctx->nwarm++;
		metrics_inc(series_of(c)->warm, 1);
		c->pprev = NULL;
		if ((c->pnext = ctx->warm_head) != NULL)
			c->pnext->pprev = c;
		ctx->warm_head = c;
	}
	log_debug("event=state role=%s conn=%" PRIu64 " from=%s to=%s",
	    c->role, c->id, names[c->state], names[to]);
	c->state = to;
}

/* (Re)arm the timer to fire ${after} seconds from now; 0 stops it. */
static void
timer_set(struct conn *c, double after)
{

	ev_timer_stop(c->ctx->loop, &c->timer);
	if (after > 0) {
		ev_timer_set(&c->timer, after, 0.);
		ev_timer_start(c->ctx->loop, &c->timer);
	}
}

/*
 * Shaped ${c}: return 1 if direction ${d} must wait for its bucket (then
 * the shape's timer is armed for the soonest refill), 0 if it may read.
 */
static int
shape_holds(struct conn *c, int d)
{
	struct conn_shape *sh = c->shape;
	ev_tstamp now = ev_now(c->ctx->loop);
	double wait = 0., w;

	if (sh->rate > 0.)
		wait = limit_bucket_wait(&sh->b[d], sh->rate, sh->rate, now);
	if (sh->share != NULL && (w = limit_bucket_wait(&sh->share->b[d],
	    sh->share->rate, sh->share->rate, now)) > wait)
		wait = w;
	if (wait == 0.)
		return (0);
	if (!ev_is_active(&sh->timer) ||
	    ev_timer_remaining(c->ctx->loop, &sh->timer) > wait) {
		ev_timer_stop(c->ctx->loop, &sh->timer);
		ev_timer_set(&sh->timer, wait, 0.);
		ev_timer_start(c->ctx->loop, &sh->timer);
	}
	return (1);
}

/* A bucket of the shape ${w->data} refilled: look again. */
static void
shape_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn_shape *sh = w->data;

	(void)loop;
	(void)revents;
	conn_update(sh->c);
}

/* ${n} bytes were read for direction ${d} of ${c}: spend them. */
static inline void
shape_spend(struct conn *c, int d, size_t n)
{

	struct conn_shape *sh = c->shape;

	if (sh == NULL)
		return;
	if (sh->rate > 0.)
		limit_bucket_spend(&sh->b[d], sh->rate, sh->rate, (double)n,
		    ev_now(c->ctx->loop));
	if (sh->share != NULL)
		limit_bucket_spend(&sh->share->b[d], sh->share->rate,
		    sh->share->rate, (double)n, ev_now(c->ctx->loop));
}

/*
 * conn_shape(c, rate):
 * Shape ${c}: each direction reads at most ${rate} bytes a second on
 * average from its source socket.  Return 0, or -1 on ENOMEM.
 */
int
conn_shape(struct conn *c, uint64_t rate, struct limit_share *share)
{
	struct conn_shape *sh;
	int d;

	if (rate == 0 && share == NULL)
		return (0);
	if ((sh = calloc(1, sizeof(*sh))) == NULL) {
		limit_share_put(share);
		return (-1);
	}
	if (rate != 0)
		sh->rate = rate < CONN_SHAPE_MIN ? CONN_SHAPE_MIN :
		    (double)rate;
	if ((sh->share = share) != NULL && share->rate < CONN_SHAPE_MIN)
		share->rate = CONN_SHAPE_MIN;
	for (d = SHAPE_TX; d <= SHAPE_RX; d++)
		limit_bucket_fill(&sh->b[d], sh->rate, ev_now(c->ctx->loop));
	ev_init(&sh->timer, shape_timer_cb);
	sh->timer.data = sh;
	sh->c = c;
	c->shape = sh;
	return (0);
}

/*
 * Start exactly the watchers the state and the buffers call for
 * (hitch's clear_read/clear_write, computed in one place).
 */
static void
conn_update(struct conn *c)
{
	int tx_busy = c->tx != NULL && c->tx->first < c->tx->niov;
	int rx_busy = (c->rx != NULL && c->rx->first < c->rx->niov) ||
	    c->pfx != NULL;

	switch (c->state) {
	case CONN_DIAL:
		/* No socket yet while the name is looked up. */
		watch(c, &c->chan_w, c->fd_chan, c->fd_chan != -1);
		break;
	case CONN_FIRST_BYTES:
	case CONN_HANDSHAKE:
		watch(c, &c->chan_r, c->fd_chan, 1);
		watch(c, &c->chan_w, c->fd_chan, tx_busy);
		break;
	case CONN_QUEUED:
	case CONN_CONNECT:
		/* Records wait in the kernel until the target is there. */
		watch(c, &c->chan_r, c->fd_chan, 0);
		watch(c, &c->chan_w, c->fd_chan, tx_busy);
		watch(c, &c->plain_w, c->fd_plain, c->fd_plain != -1);
		break;
	case CONN_OPEN:
		watch(c, &c->plain_r, c->fd_plain, !c->tx_eof_seen && !tx_busy &&
		    !(c->holding && c->held_len == CONN_HOLD_MAX) &&
		    (c->shape == NULL || !shape_holds(c, SHAPE_TX)));
		watch(c, &c->chan_w, c->fd_chan, tx_busy);
		watch(c, &c->chan_r, c->fd_chan, !rx_busy &&
		    (c->shape == NULL || !shape_holds(c, SHAPE_RX)));
		watch(c, &c->plain_w, c->fd_plain, rx_busy);
		break;
	case CONN_REFUSING:
		watch(c, &c->chan_r, c->fd_chan, 1);
		break;
	case CONN_WARM:
		/* Its closing, or (responder) its request. */
		watch(c, &c->chan_r, c->fd_chan, 1);
		watch(c, &c->chan_w, c->fd_chan, tx_busy);
		break;
	default:
		break;
	}
}

/* Both directions ended cleanly: the connection is done. */
static void
check_done(struct conn *c)
{

	if (c->state == CONN_OPEN && c->tx_eof_sent && c->rx_done)
		conn_drop(c, CONN_R_EOF);
}

/*
 * Write the queued records of c->tx to the channel socket.  When all are
 * written give the buffer back and queue what is owed (PONG, EOF).
 */
static void
tx_flush(struct conn *c)
{
	uint64_t n = 0;
	int r;

	if (c->tx == NULL)
		return;
	if ((r = buf_flush(c->tx, c->fd_chan, &n)) == -1) {
		conn_drop(c, CONN_R_CHANNEL_ERROR);
		return;
	}
	if (r == 0)
		return; /* chan_w will call again */
	if (c->tx->has_eof)
		c->tx_eof_sent = 1;
	buf_put(c->ctx, c->tx);
	c->tx = NULL;
	if (c->state != CONN_OPEN)
		return;
	tx_kick(c);
	if (c->state != CONN_DEAD)
		check_done(c);
}

/* Wipe and free the held plain bytes of ${c}, if any. */
static void
held_free(struct conn *c)
{

	if (c->held != NULL) {
		wipe(c->held, c->held_len);
		free(c->held);
	}
	c->held = NULL;
	c->held_len = 0;
	c->holding = c->replay = 0;
}

/*
 * With c->tx empty, queue a record that is owed: a PONG, a PING, the
 * plain bytes an earlier connection read (conn_replay_plain), then our
 * EOF once the plain side ended.  Nothing is sent after our EOF.
 */
static void
tx_kick(struct conn *c)
{
	enum channel_type type;
	size_t len = 0;
	long n;

	if (c->tx != NULL || c->tx_eof_sent || c->state != CONN_OPEN)
		return;
	if (c->pong_owed)
		type = CHANNEL_PONG;
	else if (c->ping_owed)
		type = CHANNEL_PING;
	else if (c->rekey_owed)
		type = CHANNEL_REKEY;
	else if (c->creds_out != NULL)
		type = CHANNEL_CREDS;
	else if (c->replay)
		type = CHANNEL_DATA;
	else if (c->tx_eof_seen)
		type = CHANNEL_EOF;
	else
		return;
	if (type == CHANNEL_CREDS)
		len = c->creds_out_len;
	else if (type == CHANNEL_DATA)
		len = c->held_len;
	if ((c->tx = buf_get(c->ctx, CHANNEL_OVERHEAD + len)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	if (type == CHANNEL_REKEY)
		n = channel_seal_rekey(c->ch, c->tx->data,
		    (uint64_t)ev_now(c->ctx->loop));
	else if (type == CHANNEL_CREDS) {
		memcpy(c->tx->data + CHANNEL_HDR, c->creds_out,
		    c->creds_out_len);
		n = channel_seal(c->ch, type, c->tx->data, c->creds_out_len);
		free(c->creds_out);
		c->creds_out = NULL;
	} else if (type == CHANNEL_DATA) {
		memcpy(c->tx->data + CHANNEL_HDR, c->held, len);
		n = channel_seal(c->ch, type, c->tx->data, len);
		c->bytes_in += len;
		held_free(c);
	} else
		n = channel_seal(c->ch, type, c->tx->data, 0);
	if (n < 0) {
		conn_drop(c, CONN_R_CHANNEL_BASE + (int)-n);
		return;
	}
	if (type == CHANNEL_PONG)
		c->pong_owed = 0;
	else if (type == CHANNEL_PING)
		c->ping_owed = 0;
	else if (type == CHANNEL_REKEY)
		c->rekey_owed = 0;
	else if (type == CHANNEL_EOF)
		c->tx->has_eof = 1;
	c->tx->iov[0].iov_base = c->tx->data;
	c->tx->iov[0].iov_len = (size_t)n;
	c->tx->niov = 1;
	tx_flush(c);
}

/* bytes_count() past the first slot: the others, or the metrics at once
 * for a role beyond CONN_ROLES. */
static void
bytes_count_more(struct conn *c, uint64_t in, uint64_t out)
{
	struct conn_bytes *t = c->ctx->bytes;
	size_t i;

	for (i = 0; i < CONN_ROLES; i++, t++) {
		if (t->role == NULL)
			t->role = c->role;
		if (t->role == c->role) {
			t->in += in;
			t->out += out;
			return;
		}
	}
	metrics_add(METRICS_BYTES_RECEIVED, (double)in, c->role, NULL, NULL);
	metrics_add(METRICS_BYTES_SENT, (double)out, c->role, NULL, NULL);
}

/*
 * Add the plain bytes ${in} (read) and ${out} (written) by ${c} to its
 * role's tally in the context (once per read or write: the first slot
 * inline).
 */
static inline void
bytes_count(struct conn *c, uint64_t in, uint64_t out)
{
	struct conn_bytes *t = &c->ctx->bytes[0];

	if (t->role != c->role) {
		bytes_count_more(c, in, out);
		return;
	}
	t->in += in;
	t->out += out;
}

/* The roles connections count under (c->role's texts), by conn_series. */
static const char *const role_names[CONN_SERIES_ROLES] = {"inlet",
    "outlet", "relay"};

/* Every role's end reasons fit in a family (and the inlet's own one). */
_Static_assert(CONN_SERIES_ROLES * CONN_REASONS < METRICS_SERIES_MAX,
    "conn_series needs more series than a metrics family holds");

/*
 * Resolve the metric handles of every role and end reason in ${ctx}, so
 * that no event of a connection (a stranger's end the first) looks a
 * series up by its labels.
 */
static void
series_init(struct conn_ctx *ctx)
{
	struct conn_series *m;
	const char *why;
	size_t i, r;

	for (i = 0; i < CONN_SERIES_ROLES; i++) {
		m = &ctx->series[i];
		m->role = role_names[i];
		m->active = metrics_series(METRICS_CONN_ACTIVE, m->role, NULL,
		    NULL);
		m->seconds = metrics_series(METRICS_HANDSHAKE_SECONDS, m->role,
		    NULL, NULL);
		m->warm = metrics_series(METRICS_WARM_CHANNELS, m->role, NULL,
		    NULL);
		for (r = 0; r < CONN_REASONS; r++) {
			why = conn_reason_name((enum conn_reason)r);
			m->closed[r] = metrics_series(METRICS_CONN_CLOSED,
			    m->role, why, NULL);
			m->failed[r] = metrics_series(
			    METRICS_HANDSHAKE_FAILURES, m->role, why, NULL);
		}
	}
}

/*
 * The metric handles of ${c}'s role (one of role_names; the last one's
 * for any other, which conn.h's contract rules out).
 */
static struct conn_series *
series_of(struct conn *c)
{
	struct conn_series *m = c->ctx->series;

	while (m < &c->ctx->series[CONN_SERIES_ROLES - 1] &&
	    strcmp(m->role, c->role) != 0)
		m++;
	return (m);
}

/* The collector: the tallies of the context ${arg} go to the metrics. */
static void
bytes_flush(void *arg)
{
	struct conn_ctx *ctx = arg;
	struct conn_bytes *t;
	size_t i;

	for (i = 0; i < CONN_ROLES; i++) {
		t = &ctx->bytes[i];
		if (t->role == NULL)
			continue;
		metrics_add(METRICS_BYTES_RECEIVED, (double)t->in, t->role,
		    NULL, NULL);
		metrics_add(METRICS_BYTES_SENT, (double)t->out, t->role, NULL,
		    NULL);
		t->in = t->out = 0;
	}
}

/*
 * Plain socket readable (OPEN, c->tx empty): read into the record slots,
 * seal each in place, write the records.
 */
static void
plain_read(struct conn *c)
{
	struct iovec in[CONN_SLOTS];
	struct conn_buf *b;
	ssize_t n;
	size_t left, len;
	long rl;
	unsigned i;

	assert(c->tx == NULL);
	if (c->holding && c->held_len == CONN_HOLD_MAX)
		return; /* until the peer shows it serves us */
	if ((b = c->tx = buf_get(c->ctx, CONN_CAP)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	for (i = 0; i < CONN_SLOTS; i++) {
		in[i].iov_base = b->data + i * CHANNEL_MAX_RECORD + CHANNEL_HDR;
		in[i].iov_len = CHANNEL_MAX_DATA;
	}
	/* Holding: no more than the copy has room for (one slot). */
	if (c->holding)
		in[0].iov_len = CONN_HOLD_MAX - c->held_len;
	while ((n = readv(c->fd_plain, in, c->holding ? 1 : CONN_SLOTS)) ==
	    -1 && errno == EINTR)
		;
	if (n > 0 && c->holding) {
		memcpy(c->held + c->held_len, in[0].iov_base, (size_t)n);
		c->held_len += (size_t)n;
	}
	if (n >= 0 && !c->plain_heard) {
		c->plain_heard = 1;
		if (c->ops->heard != NULL)
			c->ops->heard(c);
	}
	if (n <= 0) {
		buf_put(c->ctx, b);
		c->tx = NULL;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == -1) {
			/* A reset: the far end must not see a clean end. */
			conn_drop(c, CONN_R_RESET);
			return;
		}
		c->tx_eof_seen = 1;
		tx_kick(c);
		return;
	}
	c->bytes_in += (uint64_t)n;
	bytes_count(c, (uint64_t)n, 0);
	shape_spend(c, SHAPE_TX, (size_t)n);
	c->t_active = ev_now(c->ctx->loop);
	/* Seal each filled slot in place and queue it. */
	for (i = 0, left = (size_t)n; left > 0; i++) {
		len = left < CHANNEL_MAX_DATA ? left : CHANNEL_MAX_DATA;
		rl = channel_seal(c->ch, CHANNEL_DATA,
		    b->data + i * CHANNEL_MAX_RECORD, len);
		if (rl < 0) {
			conn_drop(c, CONN_R_CHANNEL_BASE + (int)-rl);
			return;
		}
		b->iov[i].iov_base = b->data + i * CHANNEL_MAX_RECORD;
		b->iov[i].iov_len = (size_t)rl;
		left -= len;
	}
	b->niov = i;
	tx_flush(c);
}

/*
 * Open the whole records in c->rx from pos on, queueing their data, until
 * the iovecs are used up, a partial record remains, or EOF.  Return 0, or
 * -1 after dropping ${c}.
 */
static int
rx_open_records(struct conn *c)
{
	struct conn_buf *b = c->rx;
	enum channel_type type;
	size_t total, len;
	uint8_t *rec;
	int r;

	while (b->niov < CONN_IOV && !c->rx_eof) {
		r = frame_peek(b->data + b->pos, b->have - b->pos,
		    CHANNEL_MAX_RECORD - FRAME_HDR, &total);
		if (r == 0)
			break;
		if (r < 0) {
			conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EFRAME);
			return (-1);
		}
		rec = b->data + b->pos;
		if ((r = channel_open(c->ch, rec, total, &type, &len)) < 0) {
			conn_drop(c, CONN_R_CHANNEL_BASE + -r);
			return (-1);
		}
		b->pos += total;
		/*
		 * The peer serves us: a record that only comes then (our
		 * PING's PONG, data, its EOF); credentials may come before
		 * its decision, a refusal instead of it.
		 */
		if (c->holding && type != CHANNEL_REFUSE &&
		    type != CHANNEL_CREDS)
			held_free(c);
		switch (type) {
		case CHANNEL_DATA:
			if (len == 0)
				break;
			b->iov[b->niov].iov_base = rec + CHANNEL_HDR;
			b->iov[b->niov].iov_len = len;
			b->niov++;
			break;
		case CHANNEL_EOF:
			c->rx_eof = 1;
			break;
		case CHANNEL_PING:
			c->pong_owed = 1;
			break;
		case CHANNEL_REFUSE:
			/* The responder says why, then closes: so do we. */
			if (c->ops->refused != NULL)
				c->ops->refused(c, rec[CHANNEL_HDR]);
			c->quiet = 1;
			conn_drop(c, CONN_R_REFUSED);
			return (-1);
		case CHANNEL_CREDS:
			if (c->ops->renewed != NULL && c->ops->renewed(c) != 0) {
				c->quiet = 1;
				conn_drop(c, CONN_R_REVOKED);
				return (-1);
			}
			break;
		default:
			break;
		}
	}
	return (0);
}

/*
 * Write the plain prefix; free it once it is all out.  Return 1 when it
 * is, 0 when the socket is full, -1 on error.
 */
static int
pfx_flush(struct conn *c)
{
	ssize_t n;

	while (c->pfx_off < c->pfx_len) {
		n = send(c->fd_plain, c->pfx + c->pfx_off,
		    c->pfx_len - c->pfx_off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return (errno == EAGAIN || errno == EWOULDBLOCK ? 0 :
			    -1);
		c->pfx_off += (size_t)n;
	}
	free(c->pfx);
	c->pfx = NULL;
	return (1);
}

/*
 * Move plaintext from c->rx to the plain socket for as long as it goes:
 * write what is queued, open more records, repeat.  On the peer's EOF,
 * once everything before it is written, shut down the plain write side.
 */
static void
rx_pump(struct conn *c)
{
	struct conn_buf *b;
	uint64_t n;
	size_t pos;
	int r;

	/* The plain prefix goes before anything else. */
	if (c->pfx != NULL && (r = pfx_flush(c)) != 1) {
		if (r == -1)
			conn_drop(c, CONN_R_RESET);
		return; /* plain_w will call again */
	}
	while ((b = c->rx) != NULL) {
		/* Write what is queued. */
		n = 0;
		r = buf_flush(b, c->fd_plain, &n);
		c->bytes_out += n;
		if (n > 0)
			bytes_count(c, 0, n);
		if (r == -1) {
			conn_drop(c, CONN_R_RESET);
			return;
		}
		if (r == 0)
			return; /* plain_w will call again */
		b->niov = b->first = 0;
		/*
		 * Make room: drop what was consumed (and anything behind the
		 * peer's EOF), keep a partial record.
		 */
		if (b->pos == b->have || c->rx_eof) {
			buf_put(c->ctx, b);
			c->rx = NULL;
			break;
		}
		if (b->cap - b->pos < CHANNEL_MAX_RECORD) {
			memmove(b->data, b->data + b->pos, b->have - b->pos);
			b->have -= b->pos;
			b->pos = 0;
		}
		pos = b->pos;
		if (rx_open_records(c) == -1)
			return;
		if (b->niov == 0 && b->pos == pos)
			break; /* a partial record: read more */
		/* Only control records: go round to free or make room. */
	}
	if (c->rx_eof && c->rx == NULL && !c->rx_done) {
		/* Everything before the EOF record reached the plain side. */
		(void)shutdown(c->fd_plain, SHUT_WR);
		c->rx_done = 1;
	}
	if (c->pong_owed)
		tx_kick(c);
	if (c->state != CONN_DEAD)
		check_done(c);
}

/* Channel socket readable while OPEN: read records, then pump them. */
static void
chan_read_open(struct conn *c)
{
	struct conn_buf *b;
	ssize_t n;

	if (c->rx == NULL && (c->rx = buf_get(c->ctx, CONN_CAP)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	b = c->rx;
	while ((n = read(c->fd_chan, b->data + b->have, b->cap - b->have)) ==
	    -1 && errno == EINTR)
		;
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (b->have == 0) {
				buf_put(c->ctx, b);
				c->rx = NULL;
			}
			return;
		}
		/* Closed or failed without our both EOFs: an abort. */
		conn_drop(c, n == 0 ? CONN_R_CHANNEL_CLOSED :
		    CONN_R_CHANNEL_ERROR);
		return;
	}
	if (c->rx_eof) {
		/* Only a close may follow the peer's EOF; ignore the rest. */
		b->have = b->pos = 0;
		buf_put(c->ctx, b);
		c->rx = NULL;
		return;
	}
	b->have += (size_t)n;
	shape_spend(c, SHAPE_RX, (size_t)n);
	c->t_active = ev_now(c->ctx->loop);
	if (rx_open_records(c) == -1)
		return;
	rx_pump(c);
}

/*
 * FIRST_BYTES, channel socket readable: read the bytes ops->first waits
 * for (the first one, then as many as it asks for, and no more: what
 * follows is not ours) into c->rx, where a handshake goes on from, and
 * let ops->first move ${c} on.  The peer closing first is no event: ${c}
 * goes without a line.
 */
static void
first_read(struct conn *c)
{
	struct conn_buf *b;
	ssize_t n;

	/* Small: most are a relay's data connections, gone after 97 bytes. */
	if (c->rx == NULL && (c->rx = buf_get(c->ctx, CONN_FIRST_MAX)) ==
	    NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	b = c->rx;
	n = read(c->fd_chan, b->data + b->have, c->first_want - b->have);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->quiet = 1;
		conn_drop(c, CONN_R_EOF);
		return;
	}
	if ((b->have += (size_t)n) == c->first_want) {
		c->first_want = c->ops->first(c, b->data, b->have);
		assert(c->first_want <= CONN_FIRST_MAX);
	}
}

/*
 * Channel socket readable during the handshake: feed whole frames to the
 * channel, send its replies, stop at the end of the handshake.
 */
static void
chan_read_handshake(struct conn *c)
{
	struct conn_buf *b;
	size_t total, outlen;
	ssize_t n;
	int r;

	/* A handshake whose first bytes came in first_read's small buffer. */
	if (c->rx != NULL && c->rx->cap < CONN_HS_CAP) {
		if ((b = buf_get(c->ctx, CONN_HS_CAP)) == NULL) {
			conn_drop(c, CONN_R_NOMEM);
			return;
		}
		memcpy(b->data, c->rx->data, b->have = c->rx->have);
		buf_put(c->ctx, c->rx);
		c->rx = b;
	}
	if (c->rx == NULL && (c->rx = buf_get(c->ctx, CONN_HS_CAP)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	b = c->rx;
	while ((n = read(c->fd_chan, b->data + b->have, b->cap - b->have)) ==
	    -1 && errno == EINTR)
		;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		if (c->ops->handshake_failed != NULL)
			c->ops->handshake_failed(c, 0);
		conn_drop(c, n == 0 ? CONN_R_CHANNEL_CLOSED :
		    CONN_R_CHANNEL_ERROR);
		return;
	}
	b->have += (size_t)n;
	for (;;) {
		r = frame_peek(b->data + b->pos, b->have - b->pos,
		    CHANNEL_MAX_HANDSHAKE - FRAME_HDR, &total);
		if (r == 0)
			break;
		if (r < 0 || c->tx != NULL) {
			/* Oversized, or a message before our reply left. */
			conn_drop(c, CONN_R_CHANNEL_BASE +
			    (r < 0 ? CHANNEL_EFRAME : CHANNEL_ESTATE));
			return;
		}
		if ((c->tx = buf_get(c->ctx, CONN_HS_CAP)) == NULL) {
			conn_drop(c, CONN_R_NOMEM);
			return;
		}
		r = channel_handshake(c->ch, b->data + b->pos, total,
		    (uint64_t)ev_now(c->ctx->loop), c->tx->data, c->tx->cap,
		    &outlen);
		b->pos += total;
		c->hs_progress = 1;
		if (r < 0) {
			if (c->ops->handshake_failed != NULL)
				c->ops->handshake_failed(c, -r);
			/* A refusal the responder tells (channel_handshake). */
			if (outlen > 0 && c->state != CONN_DEAD &&
			    !refusal_send(c, c->tx->data, outlen))
				linger(c, CONN_R_CHANNEL_BASE + -r);
			else
				conn_drop(c, CONN_R_CHANNEL_BASE + -r);
			return;
		}
		if (outlen > 0) {
			c->tx->iov[0].iov_base = c->tx->data;
			c->tx->iov[0].iov_len = outlen;
			c->tx->niov = 1;
			tx_flush(c);
			if (c->state == CONN_DEAD)
				return;
		} else {
			buf_put(c->ctx, c->tx);
			c->tx = NULL;
		}
		if (r == 0 && c->state == CONN_HANDSHAKE && c->hs_responder &&
		    channel_awaits_request(c->ch) && warm_room(c)) {
			/* Made ahead of a client: it may wait for it. */
			conn_set_state(c, CONN_WARM);
			timer_set(c, CONN_WARM_IDLE);
		}
		if (r == 1 && c->state == CONN_WARM) {
			/* Its request: setup_ms from here, not the wait. */
			conn_set_state(c, CONN_HANDSHAKE);
			c->t_start = ev_now(c->ctx->loop);
		}
		if (r == 1) {
			/* Established: keep what came behind, for conn_open. */
			if (b->pos == b->have) {
				buf_put(c->ctx, b);
				c->rx = NULL;
			}
			timer_set(c, 0);
			/* Keepalive for a channel that lives: the handshake
			 * has its own timeout, and a stranger costs no
			 * setsockopt(2). */
			sock_keepalive(c->fd_chan, c->ctx->keepalive);
			c->ops->established(c);
			return;
		}
	}
	/* Keep a partial frame at the front. */
	if (b->pos > 0) {
		memmove(b->data, b->data + b->pos, b->have - b->pos);
		b->have -= b->pos;
		b->pos = 0;
	}
}

/*
 * A responder's channel awaiting its request may wait in WARM: fewer
 * than CONN_WARM_PER_PEER of its peer's and CONN_WARM_MAX in all are
 * there.
 */
static int
warm_room(const struct conn *c)
{
	const uint8_t *id = channel_peer_id(c->ch);
	const struct conn *w;
	unsigned n = 0, all = 0;

	if (id == NULL)
		return (0);
	for (w = c->ctx->warm_head; w != NULL; w = w->pnext) {
		if (!w->hs_responder || w->ch == NULL)
			continue;
		if (++all >= CONN_WARM_MAX || (memcmp(channel_peer_id(w->ch),
		    id, CHANNEL_ID_LEN) == 0 && ++n >= CONN_WARM_PER_PEER))
			return (0);
	}
	return (1);
}

/*
 * Initiator, WARM: the channel socket is readable.  Keep what comes (the
 * responder's credential record) for conn_open, within the handshake
 * buffer; its closing or an error drops ${c}.
 */
static void
warm_read(struct conn *c)
{
	struct conn_buf *b;
	ssize_t n;

	if (c->rx == NULL && (c->rx = buf_get(c->ctx, CONN_HS_CAP)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	b = c->rx;
	if (b->have == b->cap) {
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EFRAME);
		return;
	}
	while ((n = read(c->fd_chan, b->data + b->have, b->cap - b->have)) ==
	    -1 && errno == EINTR)
		;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		conn_drop(c, n == 0 ? CONN_R_CHANNEL_CLOSED :
		    CONN_R_CHANNEL_ERROR);
		return;
	}
	b->have += (size_t)n;
}

/* The socket of the dial in progress (DIAL: channel; QUEUED, CONNECT:
 * plain). */
static int *
dial_fdp(struct conn *c)
{

	return (c->state == CONN_DIAL ? &c->fd_chan : &c->fd_plain);
}

/* The dial is over with ${err} (0: connected): tell the role. */
static void
dial_finish(struct conn *c, int err)
{

	resolve_addrs_free(c->addrs);
	c->addrs = NULL;
	c->dial_to = NULL;
	if (err == 0)
		timer_set(c, 0);
	c->ops->dialed(c, err);
	/* The next dial of ${c} (an outlet's pooled connection dials the
	 * target later) has a deadline of its own; a channel dial started
	 * again (conn_redial_channel) keeps this one. */
	if (c->state != CONN_DIAL)
		c->dial_deadline = 0;
}

/*
 * The dial failed before any socket was connecting (a name that does not
 * resolve, every address refused at once): report ${err} from the loop,
 * through the timer, never from inside conn_dial_*().
 */
static void
dial_fail_later(struct conn *c, int err)
{

	c->dial_err = err;
	timer_set(c, 0);
	ev_feed_event(c->ctx->loop, &c->timer, EV_TIMER);
}

/* The socket ${fd} is connecting: its deadline is ${after} seconds. */
static void
dial_set_fd(struct conn *c, int fd, double after)
{

	ev_io *w = c->state == CONN_DIAL ? &c->chan_w : &c->plain_w;

	*dial_fdp(c) = fd;
	/*
	 * A new socket may get the number of the one just closed: tell
	 * libev it is another file (watch() only does when the number
	 * differs), or the stopped-and-started watcher is never polled.
	 */
	assert(!ev_is_active(w));
	ev_io_set(w, fd, EV_WRITE);
	timer_set(c, after > 0.001 ? after : 0.001);
}

/*
 * Start a connect to the next address of c->addrs that takes one (with
 * the port of c->dial_to); each attempt gets an even share of the time
 * left.  Return 0 if one started, -1 (c->dial_err set) if none is left.
 */
static int
dial_next(struct conn *c)
{
	struct addr one;
	size_t left;
	int fd;

	while (c->addrs != NULL && c->next_addr < c->addrs->n) {
		addr_at(c->dial_to, &c->addrs->sa[c->next_addr], &one);
		left = c->addrs->n - c->next_addr++;
		if ((fd = sock_dial(&one)) == -1) {
			c->dial_err = errno;
			continue;
		}
		dial_set_fd(c, fd, (c->dial_deadline - ev_now(c->ctx->loop)) /
		    (double)left);
		return (0);
	}
	return (-1);
}

/* The lookup of the name to dial finished (resolve_cb). */
static void
conn_resolved(struct resolve_wait *w, struct resolve_addrs *a,
    const char *err)
{
	struct conn *c = w->arg;

	(void)err; /* resolve.c's note callback logs the name's failure */
	if (a == NULL)
		dial_finish(c, CONN_ERESOLVE);
	else {
		c->addrs = a; /* c holds the reference */
		c->next_addr = 0;
		if (dial_next(c) == -1)
			dial_finish(c, c->dial_err);
	}
	if (c->state != CONN_DEAD)
		conn_update(c);
}

/*
 * Start the dial of the current state to ${a}: at once if numeric (or a
 * unix socket), else after the lookup of its name (${a} borrowed until
 * then).  Return -1 only when a numeric dial fails at once.
 */
static int
dial_start(struct conn *c, const struct addr *a)
{
	const char *err = NULL;
	int fd, rc;

	double left;

	c->dial_to = a->salen > 0 ? NULL : a;
	c->dial_err = 0;
	/* Each dial gets all of connect_timeout (a wait in QUEUED before it
	 * is the role's to bound). */
	c->dial_deadline = ev_now(c->ctx->loop) + c->ctx->connect_timeout;
	left = c->ctx->connect_timeout;
	if (a->salen > 0) {
		if ((fd = sock_dial(a)) == -1)
			return (-1);
		dial_set_fd(c, fd, left /
		    (c->dial_shares > 1 ? c->dial_shares : 1));
		return (0);
	}
	if (c->ctx->resolver == NULL) {
		dial_fail_later(c, CONN_ERESOLVE);
		return (0);
	}
	rc = resolve_get(c->ctx->resolver, a->host, &c->addrs, &err, &c->rw,
	    conn_resolved, c);
	if (rc == 1) {
		timer_set(c, left > 0.001 ? left : 0.001); /* waiting */
		return (0);
	}
	if (rc == -1)
		dial_fail_later(c, CONN_ERESOLVE);
	else if ((c->next_addr = 0, dial_next(c)) == -1)
		dial_fail_later(c, c->dial_err);
	return (0);
}

/*
 * The socket of the dial is writable (connected or failed: SO_ERROR) or
 * its share of time ran out (${timed_out}); its watcher is stopped.  On a
 * failure the next address is tried, if any; else the role is told.
 */
static void
dial_done(struct conn *c, int timed_out)
{
	socklen_t len = sizeof(int);
	int *fdp = dial_fdp(c);
	int err = 0;

	if (*fdp == -1) {
		/* The timer, with no socket: a lookup still out or a
		 * failure reported later (dial_fail_later). */
		if (c->rw.e != NULL) {
			resolve_cancel(&c->rw);
			err = CONN_ERESOLVE;
		} else if ((err = c->dial_err) == 0)
			err = ETIMEDOUT;
		dial_finish(c, err);
		return;
	}
	if (timed_out)
		err = ETIMEDOUT;
	else if (getsockopt(*fdp, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0 && c->addrs != NULL && c->next_addr < c->addrs->n) {
		log_debug("event=dial-next role=%s conn=%" PRIu64 " tried=%zu "
		    "error=\"%s\"", c->role, c->id, c->next_addr,
		    strerror(err));
		close(*fdp);
		*fdp = -1;
		c->dial_err = err;
		if (dial_next(c) == 0)
			return;
		err = c->dial_err;
	}
	dial_finish(c, err);
}

static void
conn_plain_r_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	plain_read(c);
	if (c->state != CONN_DEAD)
		conn_update(c);
}

static void
conn_plain_w_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state == CONN_CONNECT) {
		watch(c, &c->plain_w, c->fd_plain, 0);
		dial_done(c, 0);
	} else
		rx_pump(c);
	if (c->state != CONN_DEAD)
		conn_update(c);
}

static void
conn_chan_r_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state == CONN_FIRST_BYTES)
		first_read(c);
	else if (c->state == CONN_HANDSHAKE ||
	    (c->state == CONN_WARM && c->hs_responder))
		chan_read_handshake(c);
	else if (c->state == CONN_WARM)
		warm_read(c);
	else if (c->state == CONN_REFUSING)
		linger_read(c);
	else
		chan_read_open(c);
	if (c->state != CONN_DEAD)
		conn_update(c);
}

static void
conn_chan_w_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct conn *c = w->data;

	(void)loop;
	(void)revents;
	if (c->state == CONN_DIAL) {
		watch(c, &c->chan_w, c->fd_chan, 0);
		dial_done(c, 0);
	} else
		tx_flush(c);
	if (c->state != CONN_DEAD)
		conn_update(c);
}

/*
 * While OPEN: arm the timer for the earliest of the idle deadline, the
 * channel's end and the next look at its sending key's age.
 */
static void
open_timer(struct conn *c)
{
	double now = ev_now(c->ctx->loop), left = CONN_LIFE_TICK, t;

	t = c->ch != NULL ? (double)channel_deadline(c->ch) - now : left;
	if (t < left)
		left = t;
	if (c->ctx->idle_timeout > 0) {
		t = c->t_active + c->ctx->idle_timeout - now;
		if (t < left)
			left = t;
	}
	/* timer_set(0) would stop it: fire at once instead. */
	timer_set(c, left > 0.001 ? left : 0.001);
}

/*
 * While OPEN: end the connection when its channel must end (the earlier
 * attestation expiry or CHANNEL_MAX_AGE: the next use would need a new
 * handshake, so the tunneled connection ends, with a reset) or when it
 * was idle too long; send a REKEY record when the sending key is old.
 */
static void
open_tick(struct conn *c)
{
	ev_tstamp now = ev_now(c->ctx->loop);
	int r;

	if (c->ch != NULL &&
	    (r = channel_check_time(c->ch, (uint64_t)now)) != 0) {
		conn_drop(c, CONN_R_CHANNEL_BASE + -r);
		return;
	}
	if (c->ctx->idle_timeout > 0 &&
	    c->t_active + c->ctx->idle_timeout - now <= 0) {
		conn_drop(c, CONN_R_IDLE_TIMEOUT);
		return;
	}
	if (c->ch != NULL && channel_rekey_due(c->ch, (uint64_t)now) &&
	    !c->tx_eof_sent) {
		c->rekey_owed = 1;
		tx_kick(c);
		if (c->state == CONN_DEAD)
			return;
	}
	open_timer(c);
}

/* The phase deadline, or the idle, age and rekey checks while OPEN. */
static void
conn_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct conn *c = w->data;

	(void)revents;
	switch (c->state) {
	case CONN_DIAL:
		watch(c, &c->chan_w, c->fd_chan, 0);
		dial_done(c, 1);
		break;
	case CONN_CONNECT:
		watch(c, &c->plain_w, c->fd_plain, 0);
		dial_done(c, 1);
		break;
	case CONN_FIRST_BYTES:
	case CONN_HANDSHAKE:
		conn_drop(c, CONN_R_HANDSHAKE_TIMEOUT);
		break;
	case CONN_REFUSING: /* the initiator did not close: enough */
		conn_drop(c, c->linger_reason);
		break;
	case CONN_WARM: /* no client came: replaced, not kept */
		c->quiet = 1;
		conn_drop(c, CONN_R_WARM_EXPIRED);
		break;
	case CONN_OPEN:
		/* Lazy idle timer: reads only stamp t_active. */
		(void)loop;
		open_tick(c);
		break;
	default:
		break;
	}
	if (c->state != CONN_DEAD)
		conn_update(c);
}

/* Free the dropped connection ${arg}; its epoch may go with it. */
static void
conn_free(void *arg)
{
	struct conn *c = arg;
	struct conn_ctx *ctx = c->ctx;

	if (c->epoch != NULL && ctx->epoch_ref != NULL)
		ctx->epoch_ref(c->epoch, -1);
	free(c);
}

/* After the reaper freed what was dropped: tell the node if none is left. */
static void
conn_reaped(void *arg)
{
	struct conn_ctx *ctx = arg;

	if (ctx->nconns == 0 && ctx->empty_cb != NULL)
		ctx->empty_cb(ctx);
}

/*
 * conn_ctx_init(ctx, loop):
 * Initialize ${ctx} for ${loop} with default timeouts (10 s, 10 s, no idle
 * timeout, TCP keepalive 120 s), the metric series of its roles resolved;
 * its byte tallies reach the metrics before each scrape until
 * conn_ctx_fini().
 */
void
conn_ctx_init(struct conn_ctx *ctx, struct ev_loop *loop)
{

	memset(ctx, 0, sizeof(*ctx));
	ctx->loop = loop;
	ctx->handshake_timeout = 10;
	ctx->connect_timeout = 10;
	ctx->idle_timeout = 0;
	ctx->keepalive = 120;
	log_limit_init(&ctx->drop_log, CONN_DROP_LINES);
	series_init(ctx);
	reaper_init(&ctx->reaper, loop);
	ctx->reaper.after = conn_reaped;
	ctx->reaper.after_arg = ctx;
	metrics_collector_add(&ctx->bytes_mc, bytes_flush, ctx);
}

/*
 * conn_ctx_drop_all(ctx, reason):
 * Drop every live connection of ${ctx} with ${reason}.
 */
void
conn_ctx_drop_all(struct conn_ctx *ctx, enum conn_reason reason)
{

	while (ctx->live != NULL)
		conn_drop(ctx->live, reason);
}

/*
 * conn_ctx_fini(ctx):
 * Free every dropped connection still waiting for the reaper and stop it;
 * the byte tallies go to the metrics one last time.  Live connections
 * must have been dropped first.  Nothing on a zeroed ${ctx} (never
 * initialized) or one already finished.
 */
void
conn_ctx_fini(struct conn_ctx *ctx)
{
	struct conn_buf *b;

	if (ctx->loop == NULL)
		return;
	assert(ctx->live == NULL);
	bytes_flush(ctx);
	metrics_collector_remove(&ctx->bytes_mc);
	reaper_fini(&ctx->reaper);
	while ((b = ctx->pool) != NULL) {
		ctx->pool = b->next;
		free(b);
	}
	ctx->npool = 0;
	ctx->loop = NULL; /* finished */
}

/*
 * conn_ctx_evict(ctx, first, idle_age, busy_age):
 * Make room for one more connection when a limit is reached: drop
 * (CONN_R_EVICTED) one responder handshake, or, if ${first},
 * (CONN_R_FIRST_EVICTED) one connection in FIRST_BYTES.  First choice:
 * one that has made no progress (not one whole handshake message in) for
 * ${idle_age} seconds or more: for a handshake, the oldest such one of
 * the source holding more than half of those candidates if there is one,
 * else (and for first bytes) the oldest such one.  Only when there is none: the oldest one with progress that
 * has been running for ${busy_age} seconds or more.  Return 0 if one was
 * dropped, -1 if none qualifies.  So idle, trickling or garbage
 * connections cannot hold slots, and a real peer in the middle of its
 * handshake is never pushed out while any of them is there.
 *
 * The majority source is found with one Boyer-Moore vote over the
 * candidates and one counting pass: O(pending), no memory, only at a
 * limit.
 */
static int
evict_candidate(const struct conn *c, int first)
{

	if (first)
		return (c->state == CONN_FIRST_BYTES);
	return (c->state == CONN_HANDSHAKE && c->hs_responder);
}

int
conn_ctx_evict(struct conn_ctx *ctx, int first, double idle_age,
    double busy_age)
{
	struct conn *c, *oldest = NULL, *victim = NULL, *busy = NULL;
	ev_tstamp now = ev_now(ctx->loop);
	uint64_t cand = 0;
	unsigned votes = 0, count = 0, n = 0;

	/*
	 * First bytes: no vote, the oldest idle one.  Up to 4096 of them
	 * wait, a flood evicts one per accept, and a walk of the whole list
	 * per accept slowed the relay's loop for everyone (35-flood-relay-
	 * multi-address: 37-76 ms of setup against 1-17 ms).  A real
	 * client sends its first bytes right behind its connect.
	 */
	if (!first) {
		for (c = ctx->pend_head; c != NULL; c = c->pnext) {
			if (!evict_candidate(c, 0))
				continue;
			n++;
			if (votes == 0) {
				cand = c->src;
				votes = 1;
			} else if (c->src == cand)
				votes++;
			else
				votes--;
		}
		for (c = ctx->pend_head; c != NULL; c = c->pnext)
			count += evict_candidate(c, 0) && c->src == cand;
		if (count * 2 <= n)
			votes = 0; /* no source holds most */
	}
	/* Oldest first: the first that qualifies is the oldest. */
	for (c = ctx->pend_head; c != NULL && victim == NULL; c = c->pnext) {
		if (!evict_candidate(c, first))
			continue;
		if (c->hs_progress) {
			if (busy == NULL && now - c->t_start >= busy_age &&
			    sock_pending(c->fd_chan) == 0)
				busy = c;
			continue;
		}
		if (now - c->t_start < idle_age)
			continue;
		/*
		 * A whole first message waiting unread is progress the loop
		 * has not got to yet (a burst keeps it busy): not idle.
		 */
		if (sock_pending(c->fd_chan) >= CONN_MSG1_LEN)
			continue;
		if (oldest == NULL)
			oldest = c;
		if (votes == 0 || c->src == cand)
			victim = c;
	}
	if (victim == NULL)
		victim = oldest;
	if (victim == NULL)
		victim = busy;
	if (victim == NULL)
		return (-1);
	conn_drop(victim, first ? CONN_R_FIRST_EVICTED : CONN_R_EVICTED);
	return (0);
}

/*
 * conn_ctx_each(ctx, fn, arg):
 * Call ${fn}(${c}, ${arg}) for every live connection ${c} of ${ctx}; ${fn}
 * may drop ${c} (and no other connection).
 */
void
conn_ctx_each(struct conn_ctx *ctx, void (*fn)(struct conn *, void *),
    void *arg)
{
	struct conn *c, *next;

	for (c = ctx->live; c != NULL; c = next) {
		next = c->next;
		fn(c, arg);
	}
}

/*
 * conn_ctx_reaper(ctx):
 * The reaper of ${ctx} (reap.h), which frees every event-loop object of
 * the process: connections, sessions, pairs.
 */
struct reaper *
conn_ctx_reaper(struct conn_ctx *ctx)
{

	return (&ctx->reaper);
}

/*
 * conn_ctx_next_id(ctx):
 * The next number of the process-wide conn= counter (for relayed pairs,
 * which are no struct conn but are logged alike).
 */
uint64_t
conn_ctx_next_id(struct conn_ctx *ctx)
{

	return (++ctx->next_id);
}

/*
 * conn_ctx_drop_via(ctx, via, keep, reason):
 * Drop with ${reason} every live connection of ${ctx} whose c->via is
 * ${via} (a relay session), except ${keep} (may be NULL): the session
 * is gone.  With ${via} NULL nothing is dropped.
 */
void
conn_ctx_drop_via(struct conn_ctx *ctx, const void *via,
    const struct conn *keep, enum conn_reason reason)
{
	struct conn *c, *next;

	if (via == NULL)
		return;
	for (c = ctx->live; c != NULL; c = next) {
		next = c->next;
		if (c->via == via && c != keep)
			conn_drop(c, reason);
	}
}

/*
 * conn_ctx_forget_via(ctx, via):
 * The relay session ${via} is freed: no live connection refers to it any
 * more (c->via set to NULL where it was ${via}).
 */
void
conn_ctx_forget_via(struct conn_ctx *ctx, const void *via)
{
	struct conn *c;

	for (c = ctx->live; c != NULL; c = c->next)
		if (c->via == via)
			c->via = NULL;
}

/*
 * conn_set_ops(c, ops, arg):
 * Hand ${c} over to another owner: from now on ${ops} (borrowed) and
 * ${arg} serve it.  For a dispatcher that runs the handshake and then
 * gives the connection to the role that serves its request (called from
 * ops->established).
 */
void
conn_set_ops(struct conn *c, const struct conn_ops *ops, void *arg)
{

	c->ops = ops;
	c->arg = arg;
}

/*
 * conn_new(ctx, ops, fd_plain, fd_chan):
 * A connection in ${ctx} using ${ops} (borrowed).  It takes ${fd_plain}
 * and ${fd_chan} (either may be -1: dialed later).  NULL on ENOMEM (the
 * fds are then still the caller's).
 */
struct conn *
conn_new(struct conn_ctx *ctx, const struct conn_ops *ops, int fd_plain,
    int fd_chan)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->state = CONN_NEW;
	c->ctx = ctx;
	c->ops = ops;
	c->fd_plain = fd_plain;
	c->fd_chan = fd_chan;
	ev_io_init(&c->plain_r, conn_plain_r_cb, fd_plain, EV_READ);
	ev_io_init(&c->plain_w, conn_plain_w_cb, fd_plain, EV_WRITE);
	ev_io_init(&c->chan_r, conn_chan_r_cb, fd_chan, EV_READ);
	ev_io_init(&c->chan_w, conn_chan_w_cb, fd_chan, EV_WRITE);
	ev_init(&c->timer, conn_timer_cb);
	c->plain_r.data = c->plain_w.data = c;
	c->chan_r.data = c->chan_w.data = c;
	c->timer.data = c;
	c->id = ++ctx->next_id;
	if ((c->epoch = ctx->epoch) != NULL && ctx->epoch_ref != NULL)
		ctx->epoch_ref(c->epoch, +1);
	c->t_start = c->t_active = ev_now(ctx->loop);
	c->role = c->name = c->service = "-";
	/* The accepted socket names the source (for conn_ctx_evict). */
	c->src = sock_source_key(fd_chan != -1 ? fd_chan : fd_plain);
	if (fd_plain != -1)
		sock_nodelay(fd_plain);
	if (fd_chan != -1)
		sock_nodelay(fd_chan);
	/* Link into the live set. */
	c->next = ctx->live;
	if (ctx->live != NULL)
		ctx->live->prev = c;
	ctx->live = c;
	ctx->nconns++;
	return (c);
}

/*
 * conn_dial_channel(c, a):
 * Start a non-blocking connect of the channel socket to ${a} (borrowed
 * for the call if numeric, until the lookup's end if a name; copied to
 * c->dial_addr for logs) with the connect deadline; ops->dialed
 * is called when it finishes.  A numeric address or a unix socket is
 * dialed at once.  A name is looked up (ctx->resolver, without blocking)
 * and its addresses are tried in order, the next one when one refuses,
 * fails or misses its share of the time: connect_timeout covers the
 * lookup and every attempt, each address getting an even share of what
 * is left when its attempt starts.  Return 0, or -1 if a numeric dial
 * failed at once (the caller then drops ${c}); a name that fails at once
 * is reported through ops->dialed from the loop, never from here.
 */
int
conn_dial_channel(struct conn *c, const struct addr *a)
{

	assert(c->state == CONN_NEW && c->fd_chan == -1);
	(void)addr_format(a, c->dial_addr, sizeof(c->dial_addr));
	conn_set_state(c, CONN_DIAL);
	if (dial_start(c, a) == -1)
		return (-1);
	conn_update(c);
	return (0);
}

/*
 * conn_redial_channel(c, a):
 * In ops->dialed, after an error of a numeric channel dial: close that
 * socket and dial the numeric ${a} (borrowed for the call; copied to
 * c->dial_addr) instead, within the connect
 * deadline of the first dial, sharing what is left with the attempts
 * left of c->dial_shares.  Return 0 (ops->dialed is called again), or -1
 * with ${c} unchanged (no attempt or time left, or ${a} fails at once:
 * the caller then drops ${c}).
 */
int
conn_redial_channel(struct conn *c, const struct addr *a)
{
	double left = c->dial_deadline - ev_now(c->ctx->loop);
	int fd;

	assert(c->state == CONN_DIAL);
	if (c->dial_shares <= 1 || left <= 0.001 || a->salen == 0 ||
	    (fd = sock_dial(a)) == -1)
		return (-1);
	c->dial_shares--;
	if (c->fd_chan != -1)
		close(c->fd_chan);
	c->fd_chan = -1;
	(void)addr_format(a, c->dial_addr, sizeof(c->dial_addr));
	c->dial_err = 0;
	dial_set_fd(c, fd, left / c->dial_shares);
	conn_update(c);
	return (0);
}

/*
 * conn_dial_plain(c, a):
 * Like conn_dial_channel() for the plain socket (the outlet's target),
 * once the handshake is established (names too).
 */
int
conn_dial_plain(struct conn *c, const struct addr *a)
{

	assert((c->state == CONN_HANDSHAKE || c->state == CONN_QUEUED) &&
	    c->fd_plain == -1);
	conn_set_state(c, CONN_CONNECT);
	if (dial_start(c, a) == -1)
		return (-1);
	conn_update(c);
	return (0);
}

/*
 * conn_wait_plain(c):
 * Once the handshake is established: enter QUEUED (the role queues the
 * dial; ${c} no longer counts as pending) with no deadline: the role
 * bounds the wait (it ends ${c} itself), and the conn_dial_plain() that
 * ends it gets the whole connect_timeout.  Records from the peer wait in
 * the kernel meanwhile.
 */
void
conn_wait_plain(struct conn *c)
{

	assert(c->state == CONN_HANDSHAKE && c->fd_plain == -1);
	conn_set_state(c, CONN_QUEUED);
	c->dial_to = NULL;
	c->dial_err = 0;
	timer_set(c, 0); /* the role bounds the wait */
	conn_update(c);
}

/*
 * conn_plain_prefix(c, p, len):
 * Before conn_open: the ${len} (1 to CONN_PREFIX_MAX) bytes at ${p}
 * (copied) go to the plain socket ahead of every byte from the channel,
 * once it is connected (an outlet's PROXY header).  Return 0, or -1 on
 * ENOMEM.
 */
int
conn_plain_prefix(struct conn *c, const uint8_t *p, size_t len)
{

	assert(c->state != CONN_OPEN && c->state != CONN_DEAD);
	assert(c->pfx == NULL && len > 0 && len <= CONN_PREFIX_MAX);
	if ((c->pfx = malloc(len)) == NULL)
		return (-1);
	memcpy(c->pfx, p, len);
	c->pfx_len = len;
	c->pfx_off = 0;
	return (0);
}

/*
 * conn_send_creds(c, block, len):
 * ${c} is OPEN: send our renewed credential block, ${len} (1 to
 * CRED_BLOCK_MAX) well formed bytes at ${block} (copied), in a CREDS
 * record after what is queued; a newer block replaces one not sent yet.
 * Return 0, 1 if ${c} is not OPEN or its EOF record is out (nothing to
 * do), -1 on ENOMEM.
 */
int
conn_send_creds(struct conn *c, const uint8_t *block, size_t len)
{
	uint8_t *copy;

	assert(len > 0 && len <= CRED_BLOCK_MAX);
	if (c->state != CONN_OPEN || c->tx_eof_sent || c->ch == NULL)
		return (1);
	if ((copy = malloc(len)) == NULL)
		return (-1);
	memcpy(copy, block, len);
	free(c->creds_out);
	c->creds_out = copy;
	c->creds_out_len = len;
	tx_kick(c);
	return (0);
}

/*
 * conn_handshake(c, ch, role):
 * Run the handshake of ${ch} (taken: freed with ${c}, even on failure)
 * on the channel socket with the handshake deadline; ${role} is the role
 * ${ch} was made for: an initiator sends msg1 at once.  The wall clock is
 * read here (ev_now) and passed to the channel as "now".
 * Return 0, or -1 on failure (the caller then drops ${c}).
 */
int
conn_handshake(struct conn *c, struct channel *ch, enum channel_role role)
{

	return (conn_handshake_pre(c, ch, role, NULL, 0));
}

/*
 * conn_handshake_pre(c, ch, role, pre, prelen):
 * As conn_handshake(), but first send the ${prelen} (at most 256) bytes
 * at ${pre} (copied) on the channel socket, ahead of the handshake: a
 * relay's data-connection preamble.
 */
int
conn_handshake_pre(struct conn *c, struct channel *ch,
    enum channel_role role, const uint8_t *pre, size_t prelen)
{
	size_t outlen = 0;

	assert(c->state == CONN_NEW || c->state == CONN_DIAL ||
	    (c->state == CONN_FIRST_BYTES && role == CHANNEL_RESPONDER));
	assert(c->ch == NULL);
	assert(prelen <= 256);
	c->ch = ch;
	c->hs_responder = role == CHANNEL_RESPONDER;
	conn_set_state(c, CONN_HANDSHAKE);
	timer_set(c, c->ctx->handshake_timeout);
	if (role == CHANNEL_INITIATOR || prelen > 0) {
		/* The preamble, then -> msg1 (initiator) in one write. */
		if ((c->tx = buf_get(c->ctx, CONN_HS_CAP)) == NULL)
			return (-1);
		if (prelen > 0)
			memcpy(c->tx->data, pre, prelen);
		if (role == CHANNEL_INITIATOR &&
		    channel_start(ch, c->tx->data + prelen,
		    c->tx->cap - prelen, &outlen) != 0)
			return (-1);
		c->tx->iov[0].iov_base = c->tx->data;
		c->tx->iov[0].iov_len = prelen + outlen;
		c->tx->niov = 1;
		tx_flush(c);
		if (c->state == CONN_DEAD)
			return (0);
	}
	conn_update(c);
	return (0);
}

/*
 * conn_detach(c, fd, ch, rest, cap, restlen):
 * Take the channel socket and the established channel out of ${c}, which
 * must be in HANDSHAKE (called from ops->established, before conn_open)
 * and have no plain socket: store them in ${fd} and ${ch} (the caller's
 * now), copy bytes that arrived behind the handshake (at most ${cap}) to
 * ${rest} with their count in ${restlen}, then drop ${c} silently.
 * Return 0, or -1 if more than ${cap} bytes were waiting (${c} is then
 * dropped with everything in it).  For sessions that carry their own
 * messages over the channel (relay.c).
 */
int
conn_detach(struct conn *c, int *fd, struct channel **ch, uint8_t *rest,
    size_t cap, size_t *restlen)
{
	size_t n = 0;

	assert(c->state == CONN_HANDSHAKE && c->fd_plain == -1);
	c->quiet = 1;
	if (c->rx != NULL)
		n = c->rx->have - c->rx->pos;
	if (n > cap || c->tx != NULL) {
		/* Too much behind the handshake, or our msg3 not yet out. */
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_ESTATE);
		return (-1);
	}
	if (n > 0)
		memcpy(rest, c->rx->data + c->rx->pos, n);
	*restlen = n;
	*fd = c->fd_chan;
	*ch = c->ch;
	c->fd_chan = -1; /* the caller owns the socket and channel now */
	c->ch = NULL;
	conn_drop(c, CONN_R_EOF);
	return (0);
}

/*
 * conn_first_bytes(c):
 * NEW, accepted channel socket only: wait for its first bytes with the
 * handshake deadline, as a pending connection.
 */
void
conn_first_bytes(struct conn *c)
{

	assert(c->state == CONN_NEW && c->fd_chan != -1 && c->fd_plain == -1);
	c->first_want = 1;
	conn_set_state(c, CONN_FIRST_BYTES);
	timer_set(c, c->ctx->handshake_timeout);
	conn_update(c);
}

/*
 * conn_take_chan(c):
 * From ops->first: take the channel socket and drop ${c} without a line.
 */
int
conn_take_chan(struct conn *c)
{
	int fd = c->fd_chan;

	assert(c->state == CONN_FIRST_BYTES);
	c->fd_chan = -1; /* the caller owns it now (conn_drop stops chan_r) */
	c->quiet = 1;
	conn_drop(c, CONN_R_EOF);
	return (fd);
}

/*
 * conn_take_plain(c):
 * From ops->handshake_failed, before ${c} opened: take its plain socket
 * and make the coming drop silent.  Return it, or -1 if none.
 */
int
conn_take_plain(struct conn *c)
{
	int fd = c->fd_plain;

	assert(c->state == CONN_DIAL || c->state == CONN_HANDSHAKE);
	ev_io_stop(c->ctx->loop, &c->plain_r);
	ev_io_stop(c->ctx->loop, &c->plain_w);
	c->fd_plain = -1; /* the caller owns it now */
	c->quiet = 1;
	return (fd);
}

/*
 * conn_open(c):
 * Start carrying bytes both ways and log "open".  Records that arrived
 * behind the handshake are processed now.
 */
void
conn_open(struct conn *c)
{
	char peer[IDENTITY_TEXT_SIZE];
	struct conn_series *m;
	struct conn_buf *b;

	conn_set_state(c, CONN_OPEN);
	c->t_active = ev_now(c->ctx->loop);
	open_timer(c);
	c->logged_open = 1;
	assert(c->opened != NULL);
	m = series_of(c);
	metrics_inc(c->opened, 1);
	metrics_inc(m->active, 1);
	metrics_observe(m->seconds, ev_time() - c->t_start);
	log_info("event=open role=%s conn=%" PRIu64 " name=%s peer=%s "
	    "service=%s setup_ms=%.2f", c->role, c->id, c->name,
	    conn_peer_text(c, peer), c->service,
	    (ev_time() - c->t_start) * 1000.);
	/* Records that came behind the handshake: move to a full buffer. */
	if (c->rx != NULL) {
		if ((b = buf_get(c->ctx, CONN_CAP)) == NULL) {
			conn_drop(c, CONN_R_NOMEM);
			return;
		}
		b->have = c->rx->have - c->rx->pos;
		memcpy(b->data, c->rx->data + c->rx->pos, b->have);
		buf_put(c->ctx, c->rx);
		c->rx = b;
		if (rx_open_records(c) == -1)
			return;
	}
	if (c->rx != NULL || c->pfx != NULL) {
		rx_pump(c);
		if (c->state == CONN_DEAD)
			return;
	}
	/* A PING or replayed bytes owed go out first. */
	tx_kick(c);
	if (c->state == CONN_DEAD)
		return;
	conn_update(c);
}

/*
 * conn_warm(c):
 * Initiator, established, no plain socket: wait for conn_bind.
 */
void
conn_warm(struct conn *c)
{

	assert(c->state == CONN_HANDSHAKE && c->fd_plain == -1 &&
	    !c->hs_responder);
	conn_set_state(c, CONN_WARM);
	timer_set(c, CONN_WARM_IDLE / 2);
	conn_update(c);
}

/*
 * conn_warm_answered(c):
 * WARM, and bytes came since msg3.
 */
int
conn_warm_answered(const struct conn *c)
{

	return (c->state == CONN_WARM && !c->hs_responder && c->rx != NULL &&
	    c->rx->have > c->rx->pos);
}

/*
 * conn_bind(c, fd, req, len):
 * WARM: the client ${fd} (taken) and its request, sealed and sent first;
 * then OPEN.  Return 0 or -1.
 */
int
conn_bind(struct conn *c, int fd, const uint8_t *req, size_t len)
{
	size_t n;

	assert(c->state == CONN_WARM && c->fd_plain == -1 && c->tx == NULL);
	c->fd_plain = fd;
	c->t_start = ev_now(c->ctx->loop); /* the client's: setup_ms, duration */
	if ((c->tx = buf_get(c->ctx, CHANNEL_OVERHEAD + len)) == NULL ||
	    channel_send_request(c->ch, req, len, c->tx->data, c->tx->cap,
	    &n) != 0)
		return (-1);
	c->tx->iov[0].iov_base = c->tx->data;
	c->tx->iov[0].iov_len = n;
	c->tx->niov = 1;
	tx_flush(c);
	if (c->state == CONN_DEAD)
		return (0);
	conn_open(c);
	return (0);
}

/*
 * conn_hold_plain(c):
 * Initiator, before conn_open: keep a copy of the plain bytes until the
 * peer shows it serves us, which a PING asks it to.  Return 0 or -1.
 */
int
conn_hold_plain(struct conn *c)
{

	assert(c->state != CONN_OPEN && c->state != CONN_DEAD);
	assert(c->held == NULL);
	if ((c->held = malloc(CONN_HOLD_MAX)) == NULL)
		return (-1);
	c->held_len = 0;
	c->holding = 1;
	c->ping_owed = 1;
	return (0);
}

/*
 * conn_take_held(c, held, len, eof):
 * From ops->refused while ${c} holds: take its plain socket, the bytes
 * read from it and whether it ended.  Return the socket, or -1.
 */
int
conn_take_held(struct conn *c, uint8_t **held, size_t *len, int *eof)
{
	int fd = c->fd_plain;

	if (!c->holding || fd == -1)
		return (-1);
	ev_io_stop(c->ctx->loop, &c->plain_r);
	ev_io_stop(c->ctx->loop, &c->plain_w);
	c->fd_plain = -1; /* the caller owns it now */
	*eof = c->tx_eof_seen;
	*len = c->held_len;
	*held = c->held_len > 0 ? c->held : NULL;
	if (*held == NULL)
		free(c->held);
	c->held = NULL; /* the caller's now */
	held_free(c);
	return (fd);
}

/*
 * conn_replay_plain(c, held, len, eof):
 * Before conn_open: the ${len} bytes at ${held} (taken) go to the
 * channel first, then our EOF if ${eof}.
 */
void
conn_replay_plain(struct conn *c, uint8_t *held, size_t len, int eof)
{

	assert(c->state != CONN_OPEN && c->state != CONN_DEAD);
	assert(c->held == NULL && len <= CONN_HOLD_MAX);
	if (len > 0) {
		c->held = held;
		c->held_len = len;
		c->replay = 1;
	} else
		free(held);
	if (eof)
		c->tx_eof_seen = 1;
}

/* The peer of the socket ${fd} ("[v6]:port", "v4:port", "unix"), or "-". */
static const char *
peer_text(int fd, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t salen;

	(void)sock_peer(fd, &ss, &salen);
	return (addr_sa_format(&ss, buf, len));
}

/*
 * Format the channel peer's address for a "drop" line: the address dialed,
 * or the accepted socket's peer.
 */
static const char *
chan_addr_text(const struct conn *c, char *buf, size_t len)
{

	if (c->dial_addr[0] != '\0')
		return (c->dial_addr);
	return (peer_text(c->fd_chan, buf, len));
}

/*
 * conn_src_text(c, buf, len):
 * The address of the peer of ${c}'s accepted socket ("v4:port",
 * "[v6]:port", "unix") into ${buf}, or "-": the client of an inlet, the
 * node or relay that connected to an outlet.
 */
const char *
conn_src_text(const struct conn *c, char *buf, size_t len)
{

	/* A responder accepted (or was handed) its channel socket; an
	 * initiator dialed it and accepted its plain one. */
	return (peer_text(c->hs_responder ? c->fd_chan : c->fd_plain, buf,
	    len));
}

/*
 * conn_src_addr(c, ss):
 * The address conn_src_text() names, into ${ss} (zero, AF_UNSPEC, if it
 * cannot be had).
 */
void
conn_src_addr(const struct conn *c, struct sockaddr_storage *ss)
{
	socklen_t salen;

	(void)sock_peer(c->hs_responder ? c->fd_chan : c->fd_plain, ss,
	    &salen);
}

/*
 * Send the sealed REFUSE record ${rec} (${len} bytes) on the channel
 * socket of ${c}, best effort (never waits), then end our side with a
 * FIN: what the initiator sent behind msg3 is read and discarded first
 * (a bounded amount), so the close does not become a reset that could
 * overtake the record.
 */
static int
refusal_send(struct conn *c, const uint8_t *rec, size_t len)
{

	(void)send(c->fd_chan, rec, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)shutdown(c->fd_chan, SHUT_WR);
	return (discard(c));
}

/*
 * Read and discard what the peer sent on the channel socket of ${c} (a
 * bounded amount per call).  Return 1 once its FIN (or an error) came,
 * 0 while it may send more.
 */
static int
discard(struct conn *c)
{
	uint8_t junk[4096];
	size_t total = 0;
	ssize_t n;

	while (total < 16 * sizeof(junk)) {
		n = recv(c->fd_chan, junk, sizeof(junk), MSG_DONTWAIT);
		if (n > 0) {
			total += (size_t)n;
			continue;
		}
		return (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR));
	}
	return (0);
}

/* A lingering connection's role is gone: nothing to tell anyone. */
static const struct conn_ops linger_ops;

/*
 * Our REFUSE record and FIN are out but the initiator may still be
 * sending: the role lets ${c} go now (ops->dropped), and ${c} stays in
 * CONN_REFUSING for at most CONN_LINGER seconds, reading and discarding
 * until the initiator's FIN, then is dropped with ${reason}: closing
 * with its bytes unread would send a reset that could destroy the record
 * before the initiator reads it.
 */
static void
linger(struct conn *c, enum conn_reason reason)
{

	if (c->ops->dropped != NULL)
		c->ops->dropped(c, reason);
	c->ops = &linger_ops;
	c->linger_reason = reason;
	ev_io_stop(c->ctx->loop, &c->plain_r);
	ev_io_stop(c->ctx->loop, &c->plain_w);
	ev_io_stop(c->ctx->loop, &c->chan_w);
	resolve_cancel(&c->rw);
	if (c->fd_plain != -1) {
		sock_close_reset(c->fd_plain);
		c->fd_plain = -1;
	}
	conn_set_state(c, CONN_REFUSING);
	timer_set(c, CONN_LINGER);
	conn_update(c);
}

/* CONN_REFUSING: the initiator sent more, or closed. */
static void
linger_read(struct conn *c)
{

	if (discard(c))
		conn_drop(c, c->linger_reason);
}

/*
 * conn_refuse(c, code, reason):
 * Responder, once established (HANDSHAKE, QUEUED or CONNECT, before
 * conn_open):
 * tell the authenticated initiator why it is not served (one REFUSE
 * record with the enum channel_refusal ${code}, best effort: never
 * waits), then close the channel socket cleanly and drop ${c} quietly
 * with ${reason} (the role logged why).
 *
 * The record is 20 bytes on a socket that has sent nothing since msg2,
 * so it fits the send buffer.  What the initiator sent behind msg3 is
 * read and discarded first (a bounded amount), so the close is a FIN
 * behind the record rather than a reset that could overtake it.
 */
void
conn_refuse(struct conn *c, unsigned code, enum conn_reason reason)
{
	uint8_t rec[CHANNEL_OVERHEAD + 1];
	long rl;

	assert(c->state == CONN_HANDSHAKE || c->state == CONN_QUEUED ||
	    c->state == CONN_CONNECT);
	rec[CHANNEL_HDR] = (uint8_t)code;
	c->quiet = 1;
	if (c->tx == NULL && c->fd_chan != -1 && c->ch != NULL &&
	    (rl = channel_seal(c->ch, CHANNEL_REFUSE, rec, 1)) > 0 &&
	    !refusal_send(c, rec, (size_t)rl))
		linger(c, reason);
	else
		conn_drop(c, reason);
}

/*
 * conn_drop(c, reason):
 * The one teardown: stop every watcher, close both sockets (the plain one
 * with a reset unless ${reason} is CONN_R_EOF), free the channel and the
 * buffers, log "close" (if open) or "drop" (unless quiet), and queue ${c}
 * for freeing after the current callbacks return.  Dropping twice does
 * nothing.
 */
void
conn_drop(struct conn *c, enum conn_reason reason)
{
	struct conn_ctx *ctx = c->ctx;
	char peer[IDENTITY_TEXT_SIZE], addr[ADDR_TEXT_MAX + 16];
	struct conn_series *m;
	size_t r;

	if (c->state == CONN_DEAD)
		return;
	ev_io_stop(ctx->loop, &c->plain_r);
	ev_io_stop(ctx->loop, &c->plain_w);
	ev_io_stop(ctx->loop, &c->chan_r);
	ev_io_stop(ctx->loop, &c->chan_w);
	ev_timer_stop(ctx->loop, &c->timer);
	if (c->shape != NULL) {
		ev_timer_stop(ctx->loop, &c->shape->timer);
		limit_share_put(c->shape->share);
		free(c->shape);
		c->shape = NULL;
	}
	resolve_cancel(&c->rw);
	resolve_addrs_free(c->addrs);
	c->addrs = NULL;

	/* Metrics: an opened one closes; one that never opened failed
	 * (a detached session's handshake ends with EOF: not a failure).
	 * Channel errors past the table count as its last one's, "channel",
	 * as conn_reason_name names them. */
	m = series_of(c);
	r = (size_t)reason < CONN_REASONS ? (size_t)reason : CONN_REASONS - 1;
	if (c->logged_open) {
		metrics_inc(m->closed[r], 1);
		metrics_inc(m->active, -1);
	} else if (reason != CONN_R_EOF && c->state != CONN_WARM)
		metrics_inc(m->failed[r], 1); /* WARM: its handshake ended */

	if (c->logged_open)
		log_info("event=close role=%s conn=%" PRIu64 " name=%s "
		    "peer=%s service=%s bytes_in=%" PRIu64 " bytes_out=%" PRIu64
		    " duration_ms=%.0f reason=%s", c->role, c->id, c->name,
		    conn_peer_text(c, peer), c->service, c->bytes_in,
		    c->bytes_out, (ev_now(ctx->loop) - c->t_start) * 1000.,
		    conn_reason_name(reason));
	else if (!c->quiet) {
		/* Bad peers are logged, but a flood of them is summarized. */
		(void)log_limited(&ctx->drop_log, ev_now(ctx->loop),
		    LOG_LVL_WARN, "event=drop role=%s conn=%" PRIu64 " addr=%s "
		    "reason=%s", c->role, c->id,
		    chan_addr_text(c, addr, sizeof(addr)),
		    conn_reason_name(reason));
	}

	/* An abort resets the plain side so its peer learns at once. */
	if (c->fd_plain != -1) {
		if (reason != CONN_R_EOF)
			sock_close_reset(c->fd_plain);
		else
			close(c->fd_plain);
		c->fd_plain = -1;
	}
	if (c->fd_chan != -1) {
		close(c->fd_chan);
		c->fd_chan = -1;
	}
	channel_free(c->ch);
	c->ch = NULL;
	buf_put(ctx, c->tx);
	buf_put(ctx, c->rx);
	c->tx = c->rx = NULL;
	free(c->pfx);
	free(c->creds_out);
	held_free(c);
	c->pfx = NULL;
	conn_set_state(c, CONN_DEAD);

	/* Off the live list; the reaper frees it. */
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ctx->live = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	ctx->nconns--;
	reaper_defer(&ctx->reaper, &c->reap, conn_free, c);
	if (c->ops->dropped != NULL)
		c->ops->dropped(c, reason);
	slot_freed(ctx);
}
