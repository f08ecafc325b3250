/*
 * resumecache: a bounded store of resumption tickets (struct
 * channel_resume, channel.h) for either end of a channel.  Pure: no fds,
 * no libev, no clock reads (callers pass "now" in seconds).  Tickets hold
 * secrets: every one leaving the store is wiped (channel_resume_fini).
 */
#ifndef SALLYPORT_RESUMECACHE_H
#define SALLYPORT_RESUMECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"

/*
 * A bounded store of tickets for either end: an initiator keeps one per
 * peer and finds it by peer (resumecache_by_peer); a responder keeps any
 * number per peer (concurrent full handshakes finish in any order at the
 * two ends) and finds them by tid (resumecache_lookup, a
 * channel_resume_lookup with the cache as ${arg}).  Linear scans: sized
 * for hundreds of peers.
 */
struct resumecache;

/*
 * resumecache_new(entries, per_peer):
 * A store of at most ${entries} (1 to RESUMECACHE_MAX) tickets, one per
 * peer if ${per_peer} (an initiator's).  NULL on ENOMEM or a size out of
 * range.
 */
#define RESUMECACHE_MAX 4096
struct resumecache *resumecache_new(size_t entries, int per_peer);

/*
 * resumecache_free(c):
 * Wipe and free ${c}; NULL does nothing.
 */
void resumecache_free(struct resumecache *c);

/*
 * resumecache_put(c, t, now):
 * Keep a copy of the ticket ${t} in ${c}, replacing the peer's previous
 * one (per-peer stores), else an entry expired at ${now}, else the one
 * expiring first.
 */
void resumecache_put(struct resumecache *c, const struct channel_resume *t,
    uint64_t now);

/*
 * resumecache_by_peer(c, peer, now, t):
 * Copy the ticket for ${peer}, valid at ${now}, into ${t}.  Return 0, or
 * -1 if there is none (an expired one is wiped).
 */
int resumecache_by_peer(struct resumecache *c,
    const uint8_t peer[CHANNEL_ID_LEN], uint64_t now,
    struct channel_resume *t);

/*
 * resumecache_lookup(arg, tid, now, t):
 * A channel_resume_lookup over the cache ${arg}: the ticket ${tid} valid
 * at ${now} into ${t}.  Return 0 or -1.
 */
int resumecache_lookup(void *arg,
    const uint8_t tid[CHANNEL_RESUME_TID_LEN], uint64_t now,
    struct channel_resume *t);

/*
 * resumecache_drop(c, peer):
 * Forget the ticket of ${peer} (NULL: every ticket), e.g. after the peer
 * refused it (channel_resume_refused) or on reload.
 */
void resumecache_drop(struct resumecache *c, const uint8_t *peer);

/*
 * resumecache_expire(c, now):
 * Wipe every ticket of ${c} expired at ${now}, so that no ticket secret
 * stays in memory past its use (node.c: every second); NULL does
 * nothing.  Return how many.
 */
size_t resumecache_expire(struct resumecache *c, uint64_t now);

#endif
