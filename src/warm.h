/*
 * warm: the bookkeeping of an inlet's warm channels (issue 23, section 3):
 * channels to its outlet made ahead of a client, handshaken and allowed
 * but bound to no client and no target yet.  This module only counts and
 * paces: how many to start now, when to try again after a failure.  It
 * holds no connection, reads no clock (callers pass "now") and draws no
 * randomness (callers pass a draw in [0, 1]), so the unit tests drive it
 * alone; the inlet owns the channels themselves.
 *
 * Bounds: at most ${want} (<= WARM_MAX) channels ready or being made.
 * Pacing: after a failure (a dial, a handshake, or a ready channel the
 * peer closed within WARM_MIN_LIFE seconds of being made), no attempt
 * starts before a backoff ran out (WARM_BACKOFF_MIN doubled per failure
 * in a row, at most WARM_BACKOFF_MAX, drawn in [b/2, b]), and while
 * failures last at most one attempt is in flight: a failing outlet sees
 * one probe per backoff, never a reconnect storm.  A channel that proved
 * itself (warm_proved: it lived WARM_MIN_LIFE) ends it; being made does
 * not, since an initiator is established once msg3 is out, before the
 * responder's verdict: an outlet that refuses every channel at msg3 must
 * see the backoff grow.
 */
#ifndef SALLYPORT_WARM_H
#define SALLYPORT_WARM_H

#define WARM_MAX 16            /* the largest `warm =` */
#define WARM_BACKOFF_MIN 0.1   /* seconds, after the first failure */
#define WARM_BACKOFF_MAX 30.0  /* seconds, the most it grows to */
#define WARM_MIN_LIFE 1.0      /* seconds: a ready channel lost sooner
				  counts as a failure */

struct warm_pool {
	unsigned want;   /* channels to keep ready (0: none) */
	unsigned ready;  /* made, allowed, bound to nothing */
	unsigned making; /* being dialed or handshaken */
	unsigned fails;  /* failures in a row (0 after a success) */
	double backoff;  /* seconds: the next failure's bound */
	double next;     /* no attempt starts before this time */
};

/*
 * warm_init(p, want):
 * An empty pool that wants ${want} (at most WARM_MAX) channels.
 */
void warm_init(struct warm_pool *p, unsigned want);

/*
 * warm_due(p, now):
 * How many attempts to start at ${now}: 0 while a backoff runs, at most
 * one in flight while failures last, else what brings ready + making up
 * to want.
 */
unsigned warm_due(const struct warm_pool *p, double now);

/*
 * warm_wait(p, now):
 * Seconds from ${now} until warm_due may become non-zero through time
 * alone (the backoff's end), 0 if it is non-zero now, or -1 if only an
 * event (a channel made, failed, lost or taken) can change it.
 */
double warm_wait(const struct warm_pool *p, double now);

/*
 * warm_started(p):
 * One attempt started (the caller asked warm_due first).
 */
void warm_started(struct warm_pool *p);

/*
 * warm_made(p):
 * An attempt ended with a channel made (our side established).  Return
 * 0: it is ready; or -1: the pool shrank meanwhile (warm_resize) and has
 * ${want} ready already: the caller closes it.  The failures in a row go
 * on until warm_proved.
 */
int warm_made(struct warm_pool *p);

/*
 * warm_proved(p):
 * A ready channel lived WARM_MIN_LIFE seconds (the responder kept it):
 * the failures in a row end, the backoff starts from WARM_BACKOFF_MIN.
 */
void warm_proved(struct warm_pool *p);

/*
 * warm_failed(p, now, draw):
 * An attempt failed at ${now}: back off for a time drawn by ${draw}
 * (0 to 1) in [b/2, b], then double b (at most WARM_BACKOFF_MAX).
 */
void warm_failed(struct warm_pool *p, double now, double draw);

/*
 * warm_take(p):
 * A client takes a ready channel: return 0, or -1 if none is ready (the
 * client's connection makes its own channel, as without a pool).
 */
int warm_take(struct warm_pool *p);

/*
 * warm_lost(p, age, now, draw):
 * A ready channel ended without a client: closed by the peer or by an
 * error ${age} seconds after it was made.  Sooner than WARM_MIN_LIFE
 * counts as a failure (warm_failed): an outlet that closes every warm
 * channel at once gets no storm of new ones.
 */
void warm_lost(struct warm_pool *p, double age, double now, double draw);

/*
 * warm_closed(p):
 * We closed a ready channel on purpose (a reload took its access away,
 * it idled past its bound, the pool shrank): no failure.
 */
void warm_closed(struct warm_pool *p);

/*
 * warm_resize(p, want):
 * A reload set the pool's size to ${want} (at most WARM_MAX); return how
 * many ready channels are over it, which the caller closes (warm_closed).
 */
unsigned warm_resize(struct warm_pool *p, unsigned want);

#endif
