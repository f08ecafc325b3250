/*
 * resumecache: a bounded store of resumption tickets.  See resumecache.h.
 */
#include <stdlib.h>
#include <string.h>

#include "resumecache.h"

struct resumecache {
	size_t n;                   /* entries */
	int per_peer;               /* one ticket per peer */
	struct channel_resume e[];  /* expiry 0: empty */
};

/*
 * resumecache_new(entries, per_peer):
 * A store of at most ${entries} (1 to RESUMECACHE_MAX) tickets,
 * one per peer if ${per_peer}.  NULL on ENOMEM or a size out of range.
 */
struct resumecache *
resumecache_new(size_t entries, int per_peer)
{
	struct resumecache *c;

	if (entries == 0 || entries > RESUMECACHE_MAX)
		return (NULL);
	if ((c = calloc(1, sizeof(*c) + entries *
	    sizeof(struct channel_resume))) == NULL)
		return (NULL);
	c->n = entries;
	c->per_peer = per_peer;
	return (c);
}

/*
 * resumecache_free(c):
 * Wipe and free ${c}; NULL does nothing.
 */
void
resumecache_free(struct resumecache *c)
{

	if (c == NULL)
		return;
	wipe(c->e, c->n * sizeof(c->e[0]));
	free(c);
}

/*
 * resumecache_put(c, t, now):
 * Keep a copy of the ticket ${t} in ${c}, replacing the peer's previous
 * one (per-peer stores), else an entry expired at ${now}, else the one
 * expiring first.
 */
void
resumecache_put(struct resumecache *c,
    const struct channel_resume *t, uint64_t now)
{
	struct channel_resume *victim = NULL;
	size_t i;

	if (t->expiry <= now || t->creds_len > sizeof(t->creds))
		return;
	for (i = 0; i < c->n; i++) {
		/* Identifiers are public: memcmp is fine (STYLE 7). */
		if (c->per_peer && c->e[i].expiry != 0 &&
		    memcmp(c->e[i].peer, t->peer, CHANNEL_ID_LEN) == 0) {
			victim = &c->e[i];
			break;
		}
		if (victim == NULL || c->e[i].expiry <= now ||
		    (victim->expiry > now && c->e[i].expiry < victim->expiry))
			victim = &c->e[i];
	}
	memcpy(victim, t, sizeof(*victim));
}

/* Copy entry ${e} to ${t} if valid at ${now}; wipe it if expired. */
static int
take(struct channel_resume *e, uint64_t now,
    struct channel_resume *t)
{

	if (e->expiry <= now) {
		channel_resume_fini(e);
		return (-1);
	}
	memcpy(t, e, sizeof(*t));
	return (0);
}

/*
 * resumecache_by_peer(c, peer, now, t):
 * Copy the ticket for ${peer}, valid at ${now}, into ${t}.  Return 0, or
 * -1 if there is none (an expired one is wiped).
 */
int
resumecache_by_peer(struct resumecache *c,
    const uint8_t peer[CHANNEL_ID_LEN], uint64_t now,
    struct channel_resume *t)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].expiry != 0 &&
		    memcmp(c->e[i].peer, peer, CHANNEL_ID_LEN) == 0)
			return (take(&c->e[i], now, t));
	return (-1);
}

/*
 * resumecache_lookup(arg, tid, now, t):
 * A channel_resume_lookup over the cache ${arg}: the ticket ${tid} valid
 * at ${now} into ${t}.  Return 0 or -1.
 */
int
resumecache_lookup(void *arg,
    const uint8_t tid[CHANNEL_RESUME_TID_LEN], uint64_t now,
    struct channel_resume *t)
{
	struct resumecache *c = arg;
	size_t i;

	/* The tid crossed the wire in clear: a public lookup key. */
	for (i = 0; i < c->n; i++)
		if (c->e[i].expiry != 0 &&
		    memcmp(c->e[i].tid, tid, CHANNEL_RESUME_TID_LEN) == 0)
			return (take(&c->e[i], now, t));
	return (-1);
}

/*
 * resumecache_drop(c, peer):
 * Forget the ticket of ${peer} (NULL: every ticket).
 */
void
resumecache_drop(struct resumecache *c,
    const uint8_t *peer)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->e[i].expiry != 0 && (peer == NULL ||
		    memcmp(c->e[i].peer, peer, CHANNEL_ID_LEN) == 0))
			channel_resume_fini(&c->e[i]);
}

/*
 * resumecache_expire(c, now):
 * Wipe every ticket of ${c} expired at ${now}; NULL does nothing.
 * Return how many.
 */
size_t
resumecache_expire(struct resumecache *c, uint64_t now)
{
	size_t i, n = 0;

	for (i = 0; c != NULL && i < c->n; i++)
		if (c->e[i].expiry != 0 && c->e[i].expiry <= now) {
			channel_resume_fini(&c->e[i]);
			n++;
		}
	return (n);
}
