/*
 * limit: see limit.h.
 *
 * The table is an array searched in order: at most max_connections plus
 * LIMIT_IDLE_KEEP entries, compared on the identifier's first bytes
 * first, which costs far less than the handshake that precedes every
 * look-up.  It grows by doubling, from 16 entries, up to its cap.
 */
#include <stdlib.h>
#include <string.h>

#include "limit.h"

#define LIMIT_FIRST_ALLOC 16

/*
 * limit_bucket_fill(b, burst, now):
 * Make ${b} full (${burst} tokens) at ${now}.
 */
void
limit_bucket_fill(struct limit_bucket *b, double burst, double now)
{

	b->tokens = burst;
	b->last = now;
}

/* Refill ${b} at ${rate} per second up to ${burst}, to ${now}. */
static void
refill(struct limit_bucket *b, double rate, double burst, double now)
{

	if (now > b->last)
		b->tokens += (now - b->last) * rate;
	if (b->tokens > burst)
		b->tokens = burst;
	b->last = now;
}

/*
 * limit_bucket_take(b, rate, burst, now):
 * Refill ${b} at ${rate} tokens per second up to ${burst} since its last
 * use, then take one token if there is one.  Return true if taken.
 */
bool
limit_bucket_take(struct limit_bucket *b, double rate, double burst,
    double now)
{

	refill(b, rate, burst, now);
	if (b->tokens < 1.)
		return (false);
	b->tokens -= 1.;
	return (true);
}

/*
 * limit_bucket_spend(b, rate, burst, n, now):
 * Refill ${b}, then take ${n} tokens, going below zero if need be.
 */
void
limit_bucket_spend(struct limit_bucket *b, double rate, double burst,
    double n, double now)
{

	refill(b, rate, burst, now);
	b->tokens -= n;
}

/*
 * limit_bucket_wait(b, rate, burst, now):
 * Refill ${b}; 0 if it holds a token, else the seconds until it will.
 */
double
limit_bucket_wait(struct limit_bucket *b, double rate, double burst,
    double now)
{

	refill(b, rate, burst, now);
	return (b->tokens >= 1. ? 0. : (1. - b->tokens) / rate);
}

/* The burst of ${lim}: new_connections_burst, or the rate (at least 1). */
static double
burst_of(const struct config_limits *lim)
{

	if (lim->burst != 0)
		return ((double)lim->burst);
	return (lim->rate > 0 ? (double)lim->rate : 1.);
}

/*
 * limit_is_set(lim):
 * Return true if ${lim} limits anything.
 */
bool
limit_is_set(const struct config_limits *lim)
{

	return (lim->max_conns != 0 || lim->rate != 0 ||
	    lim->peer_bytes != 0);
}

/*
 * limit_table_init(t, cap):
 * An empty table of at most ${cap} entries (at least 1).
 */
void
limit_table_init(struct limit_table *t, size_t cap)
{

	memset(t, 0, sizeof(*t));
	t->cap = cap > 0 ? cap : 1;
}

/*
 * limit_table_set_cap(t, cap):
 * A reload: the table keeps at most ${cap} entries from now on.
 */
void
limit_table_set_cap(struct limit_table *t, size_t cap)
{

	t->cap = cap > 0 ? cap : 1;
}

/*
 * limit_table_fini(t):
 * Free what ${t} holds.
 */
void
limit_table_fini(struct limit_table *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		limit_share_put(t->e[i].share);
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/*
 * limit_find(t, id, name):
 * The entry of ${id} and ${name}, or NULL.
 */
struct limit_entry *
limit_find(struct limit_table *t, const uint8_t *id, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->e[i].id[0] == id[0] &&
		    memcmp(t->e[i].id, id, CONFIG_ID_LEN) == 0 &&
		    strcmp(t->e[i].name, name) == 0)
			return (&t->e[i]);
	return (NULL);
}

/*
 * An entry for a new pair: a fresh one while the table is below its cap
 * (growing it if need be), else an idle one (no live connection, bucket
 * refilled by ${now}), else the least recently used one without live
 * connections.  NULL if every entry has live connections, or on ENOMEM.
 */
static struct limit_entry *
make_room(struct limit_table *t, const struct config_limits *lim,
    double now)
{
	struct limit_entry *e, *lru = NULL;
	struct limit_bucket b;
	size_t i, alloc;

	if (t->n < t->cap) {
		if (t->n == t->alloc) {
			alloc = t->alloc == 0 ? LIMIT_FIRST_ALLOC :
			    t->alloc * 2;
			if (alloc > t->cap)
				alloc = t->cap;
			if ((e = realloc(t->e, alloc * sizeof(*e))) == NULL)
				return (NULL);
			t->e = e;
			t->alloc = alloc;
		}
		e = &t->e[t->n++];
		memset(e, 0, sizeof(*e));
		return (e);
	}
	for (i = 0; i < t->n; i++) {
		if (t->e[i].live != 0)
			continue;
		b = t->e[i].bucket;
		refill(&b, (double)lim->rate, burst_of(lim), now);
		if (lim->rate == 0 || b.tokens >= burst_of(lim))
			return (&t->e[i]); /* idle: holds nothing */
		if (lru == NULL || t->e[i].used < lru->used)
			lru = &t->e[i];
	}
	return (lru);
}

/*
 * limit_admit(t, id, name, lim, now, e):
 * A new connection of the peer ${id} to ${name} under ${lim} at ${now}:
 * LIMIT_OK and the live count raised, or why not.
 */
enum limit_kind
limit_admit(struct limit_table *t, const uint8_t *id, const char *name,
    const struct config_limits *lim, double now, struct limit_entry **e)
{
	struct limit_entry *x;

	*e = NULL;
	if (!limit_is_set(lim))
		return (LIMIT_OK);
	if ((x = limit_find(t, id, name)) == NULL) {
		if ((x = make_room(t, lim, now)) == NULL)
			return (LIMIT_TABLE);
		limit_share_put(x->share); /* a reused entry's */
		memset(x, 0, sizeof(*x));
		memcpy(x->id, id, CONFIG_ID_LEN);
		strncpy(x->name, name, sizeof(x->name) - 1);
		limit_bucket_fill(&x->bucket, burst_of(lim), now);
		x->audited = -1e300;
	}
	*e = x;
	x->used = now;
	if (lim->max_conns != 0 && x->live >= lim->max_conns) {
		x->refused++;
		return (LIMIT_CONNECTIONS);
	}
	if (lim->rate != 0 && !limit_bucket_take(&x->bucket,
	    (double)lim->rate, burst_of(lim), now)) {
		x->refused++;
		return (LIMIT_RATE);
	}
	x->live++;
	return (LIMIT_OK);
}

/*
 * limit_slot(t, e):
 * The place of the entry ${e} of ${t}.
 */
size_t
limit_slot(const struct limit_table *t, const struct limit_entry *e)
{

	return ((size_t)(e - t->e));
}

/*
 * limit_release(t, slot):
 * A connection counted in the entry at ${slot} ended.
 */
void
limit_release(struct limit_table *t, size_t slot)
{

	if (slot < t->n && t->e[slot].live > 0)
		t->e[slot].live--;
}

/*
 * limit_share_get(e, rate, now):
 * The bandwidth share of ${e} at ${rate}, with a reference; NULL on
 * ENOMEM.
 */
struct limit_share *
limit_share_get(struct limit_entry *e, double rate, double now)
{
	int d;

	if (e->share == NULL) {
		if ((e->share = calloc(1, sizeof(*e->share))) == NULL)
			return (NULL);
		e->share->refs = 1; /* the entry's */
		for (d = 0; d < 2; d++)
			limit_bucket_fill(&e->share->b[d], rate, now);
	}
	e->share->rate = rate;
	e->share->refs++;
	return (e->share);
}

/*
 * limit_share_put(sh):
 * Drop a reference to ${sh}; the last frees it.
 */
void
limit_share_put(struct limit_share *sh)
{

	if (sh != NULL && --sh->refs == 0)
		free(sh);
}

/*
 * limit_kind_name(k):
 * The reason word of ${k}.
 */
const char *
limit_kind_name(enum limit_kind k)
{
	static const char *const names[LIMIT_KINDS] = {"none",
	    "peer-connections", "peer-rate", "peer-table"};

	return ((unsigned)k < LIMIT_KINDS ? names[k] : "none");
}
