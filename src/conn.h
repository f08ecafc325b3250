/*
 * conn: one tunneled TCP connection.  It pairs a plain socket (the client
 * on an inlet, the target on an outlet) with a channel socket carrying the
 * secure channel, drives the channel handshake, then shuttles bytes both
 * ways: plain -> sealed records -> channel, and channel -> opened records
 * -> plain, with bounded buffers that exist only while data flows.
 *
 * conn never knows inlet from outlet: the roles (inlet.c, outlet.c) make
 * the sockets and the channel and plug in callbacks (struct conn_ops) that
 * decide what happens when a dial finishes and when the handshake is done.
 * It never parses configuration and never makes access decisions.
 *
 * Life cycle (conn_set_state() asserts each step):
 *
 *   NEW --conn_dial_channel--> DIAL --(dialed)--> HANDSHAKE    (initiator)
 *   NEW --conn_handshake-----------------------> HANDSHAKE    (responder)
 *   NEW --conn_first_bytes--> FIRST_BYTES --(ops->first: conn_handshake)
 *       --> HANDSHAKE, or --(conn_take_chan)--> DEAD     (accepted socket)
 *   HANDSHAKE --(established)--> CONNECT (conn_dial_plain) --> OPEN
 *   HANDSHAKE --(established)--> QUEUED (conn_wait_plain)
 *       --(conn_dial_plain)--> CONNECT --> OPEN
 *   HANDSHAKE --(established)--> OPEN (conn_open)
 *   HANDSHAKE --(msg3 held no request)--> WARM --(its REQUEST record)-->
 *       HANDSHAKE --(established)--> ...                       (responder)
 *   HANDSHAKE --(established, conn_warm)--> WARM --(conn_bind)--> OPEN
 *                                                             (initiator)
 *   any --conn_drop--> DEAD (watchers stopped, fds closed; freed later)
 */
#ifndef SALLYPORT_CONN_H
#define SALLYPORT_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ev.h>

#include "addr.h"
#include "channel.h"
#include "limit.h"
#include "log.h"
#include "metrics.h"
#include "reap.h"
#include "resolve.h"

struct conn;
struct conn_buf;

/* ops->dialed's error when the name to dial did not resolve. */
#define CONN_ERESOLVE (-1)

/*
 * The room for c->dial_addr: every numeric address ("[v6]:port" is at
 * most 54 bytes); a longer name or path is cut.
 */
#define CONN_DIAL_TEXT 64

enum conn_state {
	CONN_NEW,       /* made, nothing started */
	CONN_FIRST_BYTES, /* accepted: its first bytes tell what it is */
	CONN_DIAL,      /* connecting the channel socket */
	CONN_HANDSHAKE, /* channel handshake running */
	CONN_QUEUED,    /* established; the plain dial waits its turn */
	CONN_CONNECT,   /* established; connecting the plain socket */
	CONN_OPEN,      /* carrying bytes */
	CONN_REFUSING,  /* our REFUSE and FIN sent: reading to the peer's FIN */
	CONN_WARM,      /* established but for the request: made ahead of a
			 * client (initiator: conn_warm; responder: its msg3
			 * held none and its REQUEST record has not come) */
	CONN_DEAD       /* dropped, waiting for the reaper */
};

/*
 * Why a connection ended: the word logged as reason= and, later, a metric
 * label.  The channel errors map one to one onto CHANNEL_E*.
 */
enum conn_reason {
	CONN_R_EOF,               /* both directions ended cleanly */
	CONN_R_HANDSHAKE_TIMEOUT, /* a handshake missed its deadline */
	CONN_R_CONNECT_TIMEOUT,   /* a dial missed its deadline */
	CONN_R_CONNECT_FAILED,    /* a dial failed */
	CONN_R_IDLE_TIMEOUT,      /* no byte either way for idle_timeout */
	CONN_R_CHANNEL_CLOSED,    /* channel socket closed without EOF record */
	CONN_R_CHANNEL_ERROR,     /* channel socket read/write error */
	CONN_R_RESET,             /* plain side reset or write failed */
	CONN_R_DENIED,            /* access refused (audited by the role) */
	CONN_R_TARGET_REFUSED,    /* target dial failed (audited by the role) */
	CONN_R_SHUTDOWN,          /* node shutdown grace ran out */
	CONN_R_NOMEM,             /* out of memory */
	CONN_R_EVICTED,           /* pending handshake made room (evict) */
	CONN_R_REVOKED,           /* a reload took its access away */
	CONN_R_REFUSED,           /* the peer sent a REFUSE record */
	CONN_R_RESOLVE_FAILED,    /* the name to dial did not resolve */
	CONN_R_FIRST_EVICTED,     /* FIRST_BYTES made room (evict) */
	CONN_R_MAX_HANDSHAKES,    /* a handshake came with every slot busy */
	CONN_R_WARM_EXPIRED,      /* WARM for CONN_WARM_IDLE (responder) or
				   * half of it (initiator): replaced */
	CONN_R_CHANNEL_BASE       /* + CHANNEL_E*: the channel's own error */
};

/* conn_ctx's byte tallies: at most this many roles (c->role values). */
#define CONN_ROLES 2

/* conn_ctx's handles by reason: the reasons below, the channel's errors. */
#define CONN_REASONS (CONN_R_CHANNEL_BASE + 16)
/* conn_ctx's metric handles: its roles ("inlet", "outlet", "relay"). */
#define CONN_SERIES_ROLES 3

/*
 * The metric series of the connections of one role (metrics.h's handles,
 * valid for the process's life), all resolved when the context is made
 * (conn_ctx_init): an opening or an end counts through them, an index
 * and an add, without a lookup by labels.
 */
struct conn_series {
	const char *role;                  /* the role's text */
	struct metrics_series *active;     /* connections_active{role} */
	struct metrics_series *seconds;    /* handshake_duration_seconds */
	struct metrics_series *warm;       /* warm_channels{role} */
	struct metrics_series *closed[CONN_REASONS]; /* {role, reason} */
	struct metrics_series *failed[CONN_REASONS]; /* handshake_failures */
};

/*
 * Plaintext bytes moved on plain sockets by the connections of one role
 * since the last scrape: added once per scrape to the metrics (received
 * and sent bytes) rather than once per read or write.
 */
struct conn_bytes {
	const char *role; /* c->role, by address; NULL: slot free */
	uint64_t in;      /* read from plain sockets */
	uint64_t out;     /* written to plain sockets */
};

/*
 * Shared by every connection of a process (one per node): the loop,
 * timeouts, the live set and counters.  Owned by the node; conn.c updates
 * the counters and the list.
 */
struct conn_ctx {
	struct ev_loop *loop;
	double handshake_timeout; /* seconds */
	double connect_timeout;   /* seconds */
	double idle_timeout;      /* seconds, 0: none */
	double keepalive;         /* seconds, 0: off (TCP keepalive idle) */
	struct conn *live;        /* every connection not yet freed */
	unsigned nconns;          /* connections not yet freed */
	unsigned npending;        /* in DIAL, HANDSHAKE or CONNECT (not
				   * QUEUED: no handshake, no dial) */
	unsigned nfirst;          /* in FIRST_BYTES: counted apart, with
				   * a bound of their own (the front's) */
	struct conn *pend_head;   /* all of those, oldest first */
	struct conn *pend_tail;
	unsigned nwarm;           /* in WARM (either end) */
	struct conn *warm_head;   /* those (linked by pprev, pnext) */
	uint64_t next_id;         /* per-process connection counter */
	struct resolve *resolver; /* names to dial (NULL: numeric only) */
	struct reaper reaper;     /* frees dropped connections (and more) */
	struct log_limit drop_log; /* "drop" lines: at most 20 per second */
	struct conn_buf *pool; /* spare full-size buffers */
	unsigned npool;
	void (*empty_cb)(struct conn_ctx *); /* nconns fell to 0 (or NULL) */
	/* nconns or npending went down: a slot is free (or NULL).  It may
	 * run inside any conn callback: it must not make connections. */
	void (*slot_cb)(struct conn_ctx *);
	void *data;                          /* the node */
	/*
	 * The configuration epoch (opaque): every new connection holds the
	 * current one, ${epoch_ref}(epoch, +1) when made and (epoch, -1)
	 * once freed, so what it borrows from that epoch outlives it.
	 */
	void *epoch;
	void (*epoch_ref)(void *epoch, int delta);
	struct conn_bytes bytes[CONN_ROLES]; /* since the last scrape */
	struct conn_series series[CONN_SERIES_ROLES]; /* by role */
	struct metrics_collector bytes_mc;   /* adds them to the metrics */
};

/*
 * What the role plugs in.  Each callback runs from the loop; it may call
 * conn_drop() on ${c}, after which ${c} must not be touched again (conn.c
 * checks for it on return).
 */
struct conn_ops {
	/* A conn_dial_*() finished: ${err} is 0, an errno value (of the
	 * last address tried) or CONN_ERESOLVE (the name did not resolve). */
	void (*dialed)(struct conn *c, int err);
	/* The handshake completed (channel_peer_id() is valid). */
	void (*established)(struct conn *c);
	/*
	 * The handshake failed with -${err} (a CHANNEL_E*), or with ${err}
	 * 0: the peer closed or reset the channel socket before it ended;
	 * may be NULL.  ${c} is dropped right after (conn_take_plain() may
	 * take its plain socket first).
	 */
	void (*handshake_failed)(struct conn *c, int err);
	/*
	 * ${c} was dropped (conn_drop; also after conn_detach) with
	 * ${reason}; may be NULL.  Only c->arg and c->slot may be read
	 * (and c->slot set); ${c} is freed after the current callbacks
	 * return.
	 */
	void (*dropped)(struct conn *c, enum conn_reason reason);
	/*
	 * The peer refused us with a REFUSE record (enum channel_refusal
	 * ${code}); ${c} is dropped (CONN_R_REFUSED) right after.  May be
	 * NULL.
	 */
	void (*refused)(struct conn *c, unsigned code);
	/*
	 * The peer sent renewed credentials (a CREDS record: what
	 * channel_peer_creds returns now): decide again.  Return 0 to keep
	 * ${c}, or -1 (the callee logged why) to have it dropped quietly
	 * (CONN_R_REVOKED).  May be NULL: the new block is kept, unused.
	 */
	int (*renewed)(struct conn *c);
	/*
	 * OPEN: the plain side was heard from for the first time (a byte,
	 * or its EOF, read from it); called once, before that data is
	 * passed on.  It must not drop ${c}.  May be NULL.
	 */
	void (*heard)(struct conn *c);
	/*
	 * FIRST_BYTES (conn_first_bytes): the bytes it waited for came in,
	 * ${have} (the first byte, then as many as it asked for) at ${p}.
	 * Move ${c} on (conn_handshake, which goes on from these bytes,
	 * conn_take_chan or conn_drop) and return 0, or return how many
	 * bytes in all (more than ${have}, at most CONN_FIRST_MAX) to be
	 * called again with: they are read, and no more.  Needed by
	 * conn_first_bytes only.
	 */
	size_t (*first)(struct conn *c, const uint8_t *p, size_t have);
};

/*
 * One connection.  The fields marked (role) are the role's to set after
 * conn_new(); the rest are private to conn.c.
 */
struct conn {
	enum conn_state state;
	unsigned tx_eof_seen : 1;   /* plain side sent EOF */
	unsigned tx_eof_sent : 1;   /* our EOF record is fully written */
	unsigned rx_eof : 1;        /* peer's EOF record received */
	unsigned rx_done : 1;       /* ... and the plain side shut down */
	unsigned pong_owed : 1;     /* peer sent PING, PONG not yet sent */
	unsigned rekey_owed : 1;    /* our sending key is old: REKEY owed */
	unsigned logged_open : 1;   /* "open" was logged: log "close" */
	unsigned quiet : 1;         /* the role logged why: no "drop" line */
	unsigned hs_responder : 1;  /* the handshake runs as responder */
	unsigned hs_progress : 1;   /* a whole handshake message came in */
	unsigned plain_heard : 1;   /* ops->heard was called */
	unsigned holding : 1;       /* keep plain bytes: no record came yet */
	unsigned ping_owed : 1;     /* a PING asks the peer for a record */
	unsigned replay : 1;        /* held bytes go to the channel first */
	/* REFUSING: the reason it is dropped with once the peer closed. */
	enum conn_reason linger_reason;
	int fd_plain;
	int fd_chan;
	ev_io plain_r, plain_w, chan_r, chan_w;
	ev_timer timer; /* the deadline of the current phase, or idle */
	struct channel *ch;
	struct conn_buf *tx; /* plain -> channel: sealed records */
	struct conn_buf *rx; /* channel -> plain: records, opened in place */
	struct conn_ctx *ctx;
	const struct conn_ops *ops;
	struct conn *prev, *next; /* ctx->live */
	struct reap_entry reap;   /* queued for freeing once dropped */
	void *epoch;              /* the ctx->epoch it was made in */
	struct conn *pprev, *pnext; /* ctx->pend_* while pending */
	/* The dial in progress (DIAL: the channel socket; CONNECT: the
	 * plain one): the name being looked up (NULL for a numeric address,
	 * and once the dial is over: only a name of the configuration, which
	 * the epoch keeps, is borrowed that long), the addresses left to
	 * try, the overall deadline, the last error. */
	const struct addr *dial_to;
	struct resolve_wait rw;
	struct resolve_addrs *addrs;
	size_t next_addr;
	ev_tstamp dial_deadline;
	int dial_err;
	/* (role) Set before conn_dial_channel() to a numeric address: the
	 * attempts the connect deadline is shared by (0 or 1: one gets all
	 * of it), the others made by conn_redial_channel(). */
	unsigned dial_shares;
	uint8_t *pfx;      /* bytes owed to the plain side first, or NULL */
	uint8_t *creds_out; /* our renewed credential block owed, or NULL */
	size_t creds_out_len;
	uint8_t *held;   /* conn_hold_plain, conn_replay_plain, or NULL */
	size_t held_len; /* at most CONN_HOLD_MAX */
	size_t pfx_len, pfx_off;
	uint64_t src; /* source key of the accepted socket (sock_source_key) */
	uint64_t id;
	uint64_t bytes_in;  /* plaintext bytes read from the plain socket */
	uint64_t bytes_out; /* plaintext bytes written to the plain socket */
	ev_tstamp t_start;  /* when the connection was made */
	ev_tstamp t_active; /* last byte either way */
	/* (role) */
	void *arg;             /* the role's own object, borrowed */
	const char *role;      /* "inlet", "outlet" or "relay" (conn_ctx's
				* series know no other), for logs and metrics
				* labels: a string literal (conn_ctx's byte
				* tallies tell roles by address) */
	const char *name;      /* inlet or outlet name, for logs (borrowed) */
	/* The series conn_open counts in (connections_opened_total{role,
	 * name}): the handle the part c->name is from resolved (metrics.h:
	 * valid for the process's life); set before conn_open. */
	struct metrics_series *opened;
	const char *service;   /* requested service, for logs (borrowed) */
	/* Where the channel was dialed, for logs: a copy of the address as
	 * written (what it came from, a relay fleet's member, may be freed
	 * by a reload or a name's new answer while ${c} lives); "" for an
	 * accepted channel. */
	char dial_addr[CONN_DIAL_TEXT];
	const void *via; /* the relay session it goes through (compared only) */
	/* Admitted by a peer's credential: until when (0: no end), and the
	 * attribute rule that admitted it (borrowed from the config). */
	uint64_t cred_expiry;
	const char *rule;
	void *slot; /* the role's own record of ${c}, or NULL */
	struct conn_shape *shape; /* conn_shape(): NULL when not shaped */
	/* The role counted ${c} in a per-peer limit: the entry's slot plus
	 * one (limit_slot); 0: not counted. */
	size_t limited;
	int retry;  /* a client carried over from an earlier connection */
	size_t first_want; /* FIRST_BYTES: the bytes ops->first waits for */
};

/*
 * conn_ctx_init(ctx, loop):
 * Initialize ${ctx} for ${loop} with default timeouts (10 s, 10 s, no idle
 * timeout, TCP keepalive 120 s); its byte tallies reach the metrics before
 * each scrape (a collector) until conn_ctx_fini().
 */
void conn_ctx_init(struct conn_ctx *ctx, struct ev_loop *loop);

/*
 * conn_ctx_drop_all(ctx, reason):
 * Drop every live connection of ${ctx} with ${reason}.
 */
void conn_ctx_drop_all(struct conn_ctx *ctx, enum conn_reason reason);

/*
 * conn_ctx_fini(ctx):
 * Free everything still waiting for the reaper and stop it; the byte
 * tallies go to the metrics one last time.  Live connections must have
 * been dropped first.  Nothing on a zeroed ${ctx} or one already
 * finished.
 */
void conn_ctx_fini(struct conn_ctx *ctx);

/*
 * conn_ctx_evict(ctx, first, idle_age, busy_age):
 * Make room for one more connection when a limit is reached: drop
 * (CONN_R_EVICTED) one responder handshake, or, if ${first},
 * (CONN_R_FIRST_EVICTED) one connection in FIRST_BYTES.  First choice:
 * one that has made no progress (not one whole handshake message in) for
 * ${idle_age} seconds or more: for a handshake, the oldest such one of
 * the source holding more than half of the pending handshakes if there
 * is one, else (and for first bytes) the oldest such one.  Only when there is none: the oldest one with progress that has
 * been running for ${busy_age} seconds or more.  Return 0 if one was
 * dropped, -1 if none qualifies.  So idle, trickling or garbage
 * connections cannot hold slots, and a real peer in the middle of its
 * handshake is never pushed out while any of them is there.
 */
int conn_ctx_evict(struct conn_ctx *ctx, int first, double idle_age,
    double busy_age);

/*
 * conn_ctx_each(ctx, fn, arg):
 * Call ${fn}(${c}, ${arg}) for every live connection ${c} of ${ctx}; ${fn}
 * may drop ${c} (and no other connection).
 */
void conn_ctx_each(struct conn_ctx *ctx, void (*fn)(struct conn *, void *),
    void *arg);

/*
 * conn_ctx_reaper(ctx):
 * The reaper of ${ctx} (reap.h), which frees every event-loop object of
 * the process: connections, sessions, pairs.
 */
struct reaper *conn_ctx_reaper(struct conn_ctx *ctx);

/*
 * conn_ctx_next_id(ctx):
 * The next number of the process-wide conn= counter (for relayed pairs,
 * which are no struct conn but are logged alike).
 */
uint64_t conn_ctx_next_id(struct conn_ctx *ctx);

/*
 * conn_ctx_drop_via(ctx, via, keep, reason):
 * Drop with ${reason} every live connection of ${ctx} whose c->via is
 * ${via} (a relay session), except ${keep} (may be NULL): the session
 * is gone.  With ${via} NULL nothing is dropped.
 */
void conn_ctx_drop_via(struct conn_ctx *ctx, const void *via,
    const struct conn *keep, enum conn_reason reason);

/*
 * conn_ctx_forget_via(ctx, via):
 * The relay session ${via} is freed: no live connection refers to it any
 * more (c->via set to NULL where it was ${via}).
 */
void conn_ctx_forget_via(struct conn_ctx *ctx, const void *via);

/*
 * conn_set_ops(c, ops, arg):
 * Hand ${c} over to another owner: from now on ${ops} (borrowed) and
 * ${arg} serve it.  For a dispatcher that runs the handshake and then
 * gives the connection to the role that serves its request (called from
 * ops->established).
 */
void conn_set_ops(struct conn *c, const struct conn_ops *ops, void *arg);

/*
 * conn_new(ctx, ops, fd_plain, fd_chan):
 * A connection in ${ctx} using ${ops} (borrowed).  It takes ${fd_plain}
 * and ${fd_chan} (either may be -1: dialed later).  NULL on ENOMEM (the
 * fds are then still the caller's).
 */
struct conn *conn_new(struct conn_ctx *ctx, const struct conn_ops *ops,
    int fd_plain, int fd_chan);

/*
 * conn_first_bytes(c):
 * NEW, with the accepted channel socket only: wait for its first bytes
 * (ops->first tells what they are) with the handshake deadline, on the
 * pending list but counted in ctx->nfirst, not ctx->npending (a relay
 * takes many: a data connection waits there for its preamble, and the
 * handshake slots must not run out for them; conn_ctx_evict(ctx, 1, ...)
 * may take it: CONN_R_FIRST_EVICTED).  The
 * socket closing first drops ${c} without a line.
 */
#define CONN_FIRST_MAX 256
void conn_first_bytes(struct conn *c);

/*
 * conn_take_chan(c):
 * From ops->first: take the channel socket out of ${c} (the caller's
 * now) and drop ${c} without a line.  Return the socket.
 */
int conn_take_chan(struct conn *c);

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
int conn_dial_channel(struct conn *c, const struct addr *a);

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
int conn_redial_channel(struct conn *c, const struct addr *a);

/*
 * conn_dial_plain(c, a):
 * Like conn_dial_channel() for the plain socket (the outlet's target),
 * once the handshake is established (names too), or after
 * conn_wait_plain(): the connect deadline starts here in both cases.
 */
int conn_dial_plain(struct conn *c, const struct addr *a);

/*
 * conn_wait_plain(c):
 * Once the handshake is established: enter QUEUED (the role queues the
 * dial; ${c} no longer counts as pending).  QUEUED has no deadline of its
 * own: the role bounds the wait and ends ${c} itself (conn_refuse) when
 * it gives up; the conn_dial_plain() that ends the wait starts the
 * connect deadline.  Records from the peer wait in the kernel meanwhile.
 */
void conn_wait_plain(struct conn *c);

/*
 * conn_shape(c, rate, share):
 * Shape ${c} (not yet OPEN): each direction reads at most ${rate} bytes
 * a second on average from its source socket (the plain socket for plain
 * to channel, the channel socket for the other way), bursts of one
 * second's worth, and, with ${share} (a reference the caller gives ${c};
 * may be NULL), at most the share's rate together with every connection
 * holding it; a direction over either leaves its source socket unread
 * (TCP backpressure, nothing dropped) until the bucket refilled (a timer).
 * Rates are raised to CONN_SHAPE_MIN; ${rate} 0 is none.  Return 0, or
 * -1 on ENOMEM (${share} is then released).
 */
#define CONN_SHAPE_MIN 262144 /* a buffer's worth: pauses stay under 1 s */
int conn_shape(struct conn *c, uint64_t rate, struct limit_share *share);

/*
 * conn_plain_prefix(c, p, len):
 * Before conn_open: the ${len} (1 to CONN_PREFIX_MAX) bytes at ${p}
 * (copied) go to the plain socket ahead of every byte from the channel,
 * once it is connected (an outlet's PROXY header).  Return 0, or -1 on
 * ENOMEM.
 */
#define CONN_PREFIX_MAX 1024
int conn_plain_prefix(struct conn *c, const uint8_t *p, size_t len);

/*
 * conn_send_creds(c, block, len):
 * ${c} is OPEN: send our renewed credential block, ${len} (1 to
 * CRED_BLOCK_MAX) well formed bytes at ${block} (copied), in a CREDS
 * record after what is queued; a newer block replaces one not sent yet.
 * Return 0, 1 if ${c} is not OPEN or its EOF record is out (nothing to
 * do), -1 on ENOMEM.  May drop ${c} (a failed write): check c->state.
 */
int conn_send_creds(struct conn *c, const uint8_t *block, size_t len);

/*
 * Channels made ahead of a client (docs/protocol.md 2.2, "Warm
 * channels"): a responder keeps an established channel whose msg3 held
 * no request in WARM, not pending (no handshake slot, no handshake
 * deadline), for CONN_WARM_IDLE seconds at most (then CONN_R_WARM_EXPIRED),
 * at most CONN_WARM_PER_PEER of them per peer identity and CONN_WARM_MAX
 * in all (identities cost nothing to make: a node that serves strangers
 * lets any through its handshake): over those a
 * new one waits as a pending handshake does, with the handshake deadline
 * (as before warm channels existed).  Its REQUEST record takes it back to
 * HANDSHAKE, then ops->established as usual.
 */
#define CONN_WARM_IDLE 60.
#define CONN_WARM_PER_PEER 64
#define CONN_WARM_MAX 1024

/*
 * conn_warm(c):
 * Initiator, from ops->established, with no plain socket: keep ${c} in
 * WARM until conn_bind (the channel's request is due:
 * channel_send_request).  Meanwhile the channel socket is read but
 * nothing is processed (what comes, the responder's credential record,
 * waits for conn_open; more than a handshake buffer drops ${c}); its
 * closing or an error drops ${c} (ops->dropped), and so does
 * CONN_WARM_IDLE / 2 seconds in WARM (CONN_R_WARM_EXPIRED), so the
 * initiator replaces it before the responder's bound.
 */
void conn_warm(struct conn *c);

/*
 * conn_warm_answered(c):
 * 1 if ${c} is in WARM (initiator) and the responder sent something
 * since msg3 (its credential record, which it sends once it accepted
 * us; a refusal is followed by its close, which drops ${c}), else 0.  A
 * channel no one answered yet is not given to a client.
 */
int conn_warm_answered(const struct conn *c);

/*
 * conn_bind(c, fd, req, len):
 * WARM (initiator): bind the client ${fd} (taken, even on failure) to
 * ${c}: its request, ${len} (1 to CHANNEL_MAX_REQUEST) bytes at ${req},
 * leaves at once as the channel's first record, then conn_open (its
 * setup_ms and duration_ms count from here).  Return 0 (${c} may have
 * been dropped meanwhile: a failed write), or -1 (the caller drops
 * ${c}).
 */
int conn_bind(struct conn *c, int fd, const uint8_t *req, size_t len);

/*
 * conn_handshake(c, ch, role):
 * NEW, DIAL or (responder) FIRST_BYTES: run the handshake of ${ch}
 * (taken: freed with ${c}, even on failure) on the channel socket with
 * the handshake deadline; ${role} is the role
 * ${ch} was made for: an initiator sends msg1 at once.  The wall clock is
 * read here (ev_now) and passed to the channel as "now".
 * Return 0, or -1 on failure (the caller then drops ${c}).
 */
int conn_handshake(struct conn *c, struct channel *ch,
    enum channel_role role);

/*
 * conn_handshake_pre(c, ch, role, pre, prelen):
 * As conn_handshake(), but first send the ${prelen} (at most 256) bytes
 * at ${pre} (copied) on the channel socket, ahead of the handshake: a
 * relay's data-connection preamble.
 */
int conn_handshake_pre(struct conn *c, struct channel *ch,
    enum channel_role role, const uint8_t *pre, size_t prelen);

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
int conn_detach(struct conn *c, int *fd, struct channel **ch, uint8_t *rest,
    size_t cap, size_t *restlen);

/*
 * conn_take_plain(c):
 * From ops->handshake_failed, before ${c} opened: take its plain socket
 * out of ${c} (nothing was read from it or written to it: what the client
 * sent waits in the kernel) and make ${c}'s coming drop silent, so the
 * caller can carry the client over another connection.  The caller owns
 * the socket.  Return it, or -1 if ${c} has none.
 */
int conn_take_plain(struct conn *c);

/*
 * conn_hold_plain(c):
 * Initiator, before conn_open: until the peer shows it serves us (a
 * record other than REFUSE or CREDS), keep a copy of what is read from
 * the plain side (at most CONN_HOLD_MAX bytes: the plain side is not read
 * beyond them meanwhile) and ask the peer for such a record at once (a
 * PING, which it answers once it serves us), so that if it refuses
 * instead, ops->refused can carry the client over another connection
 * (conn_take_held) without losing a byte.  Return 0, or -1 on ENOMEM.
 */
#define CONN_HOLD_MAX CHANNEL_MAX_DATA
int conn_hold_plain(struct conn *c);

/*
 * conn_take_held(c, held, len, eof):
 * From ops->refused of a connection that still holds (conn_hold_plain:
 * nothing showed it was served before the refusal): take its plain socket out of ${c}
 * with the bytes read from it so far (*${held}, *${len} bytes: the
 * caller's to free; NULL and 0 if none) and whether the plain side ended
 * (*${eof}); nothing of them was written to the plain socket.  The
 * caller owns the socket.  Return it, or -1 (nothing taken) if ${c} does
 * not hold.
 */
int conn_take_held(struct conn *c, uint8_t **held, size_t *len, int *eof);

/*
 * conn_replay_plain(c, held, len, eof):
 * Before conn_open, on a connection made for a plain socket taken with
 * conn_take_held: the ${len} (at most CONN_HOLD_MAX) bytes at ${held}
 * (taken) go to the channel first, then our EOF if ${eof}.
 */
void conn_replay_plain(struct conn *c, uint8_t *held, size_t len, int eof);

/*
 * conn_open(c):
 * Start carrying bytes both ways and log "open".  Records that arrived
 * behind the handshake are processed now.
 */
void conn_open(struct conn *c);

/*
 * conn_drop(c, reason):
 * The one teardown: stop every watcher, close both sockets (the plain one
 * with a reset unless ${reason} is CONN_R_EOF), free the channel and the
 * buffers, log "close" (if open) or "drop" (unless quiet), and queue ${c}
 * for freeing after the current callbacks return.  Dropping twice does
 * nothing.
 */
void conn_drop(struct conn *c, enum conn_reason reason);

/*
 * conn_refuse(c, code, reason):
 * Responder, once established (HANDSHAKE, QUEUED or CONNECT, before
 * conn_open):
 * tell the authenticated initiator why it is not served (one REFUSE
 * record with the enum channel_refusal ${code}, best effort: never
 * waits), then close the channel socket cleanly and drop ${c} quietly
 * with ${reason} (the role logged why).  The role is done with ${c} at
 * once (ops->dropped is called now); ${c} itself may stay for at most
 * CONN_LINGER seconds, reading and discarding what the initiator still
 * sends until its FIN, so that the close does not become a reset that
 * destroys the record on its way (a lingering close).
 */
void conn_refuse(struct conn *c, unsigned code, enum conn_reason reason);

/*
 * conn_src_text(c, buf, len):
 * The address of the peer of ${c}'s accepted socket ("v4:port",
 * "[v6]:port", "unix") into ${buf}, or "-": the client of an inlet, the
 * node or relay that connected to an outlet.
 */
const char *conn_src_text(const struct conn *c, char *buf, size_t len);

/*
 * conn_src_addr(c, ss):
 * The address conn_src_text() names, into ${ss} (zero, AF_UNSPEC, if it
 * cannot be had): what from = ranges are held against.
 */
void conn_src_addr(const struct conn *c, struct sockaddr_storage *ss);

/*
 * conn_dial_reason(err):
 * The reason to drop with after ops->dialed reported ${err} (not 0):
 * connect-timeout, resolve-failed or connect-failed.
 */
enum conn_reason conn_dial_reason(int err);

/*
 * conn_reason_name(reason):
 * The word logged for ${reason}.
 */
const char *conn_reason_name(enum conn_reason reason);

/*
 * conn_peer_text(c, buf):
 * The verified peer identifier of ${c} as text into ${buf}, or "-".
 */
const char *conn_peer_text(const struct conn *c, char buf[66]);

#endif
