/*
 * limit: the limits per peer and per service that outlets and relays
 * enforce where a connection arrives (docs/config.md, "Limits per
 * peer"): at most N live connections of one peer identity to one service,
 * at most R new ones per second (a token bucket with a burst).  Pure: the
 * caller passes the time ("now", seconds on any steady clock), so the
 * unit tests drive it with a fake clock.
 *
 * The state is a bounded table of (peer identifier, service name)
 * entries.  An entry with live connections is never evicted; an entry
 * with none is idle once its bucket has refilled (it then holds nothing a
 * fresh entry would not) and is reused first; when the table is full of
 * entries that are not idle, the one with no live connection used least
 * recently is reused (that peer's rate starts over with a full burst).
 * Entries grow to at most ${cap} (limit_table_init): a role passes its
 * node's max_connections plus LIMIT_IDLE_KEEP, so that live connections
 * alone can never fill it; if they do all the same (a reload lowered
 * max_connections), a new pair is refused with LIMIT_TABLE.
 */
#ifndef SALLYPORT_LIMIT_H
#define SALLYPORT_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Entries kept beyond max_connections for peers with none live. */
#define LIMIT_IDLE_KEEP 1024

/* A token bucket: ${tokens} at time ${last}. */
struct limit_bucket {
	double tokens;
	double last;
};

/* Why a connection is refused (0: it is not). */
enum limit_kind {
	LIMIT_OK = 0,
	LIMIT_CONNECTIONS, /* the peer has max_connections_per_peer live */
	LIMIT_RATE,        /* the peer's new-connection bucket is empty */
	LIMIT_TABLE,       /* no entry free for a new (peer, service) pair */
	LIMIT_KINDS
};

/*
 * The bytes a peer may read per second across all its connections to one
 * outlet (bytes_per_second_per_peer): a bucket per direction, shared by
 * its entry and every connection it shapes, counted, freed by the last
 * one (limit_share_put), so it outlives a reload, an eviction or the
 * table.
 */
struct limit_share {
	unsigned refs;
	double rate; /* bytes per second, and the burst */
	struct limit_bucket b[2];
};

/* One (peer, service) pair. */
struct limit_entry {
	uint8_t id[CONFIG_ID_LEN];
	char name[CONFIG_NAME_MAX];
	unsigned live;              /* connections admitted and not ended */
	struct limit_bucket bucket; /* new connections */
	double used;                /* last admission or refusal */
	double audited;             /* when its last refusal was audited */
	uint64_t refused;           /* refusals not yet in an audit line */
	struct limit_share *share;  /* bytes_per_second_per_peer, or NULL */
};

struct limit_table {
	struct limit_entry *e;
	size_t n;   /* entries in use: e[0 .. n - 1] */
	size_t cap; /* most entries ever (the bound) */
	size_t alloc;
};

/*
 * limit_bucket_take(b, rate, burst, now):
 * Refill ${b} at ${rate} tokens per second up to ${burst} since its last
 * use, then take one token if there is one.  Return true if taken.
 * A bucket whose time is later than ${now} (a clock that went back) is
 * refilled from ${now}.
 */
bool limit_bucket_take(struct limit_bucket *b, double rate, double burst,
    double now);

/*
 * limit_bucket_spend(b, rate, burst, n, now):
 * Refill ${b} as limit_bucket_take() does, then take ${n} tokens, going
 * below zero if need be (an overdraft the refill pays back first).
 */
void limit_bucket_spend(struct limit_bucket *b, double rate, double burst,
    double n, double now);

/*
 * limit_bucket_wait(b, rate, burst, now):
 * Refill ${b}; return 0 if it holds at least one token, else the seconds
 * until it will (${rate} > 0).
 */
double limit_bucket_wait(struct limit_bucket *b, double rate, double burst,
    double now);

/*
 * limit_bucket_fill(b, burst, now):
 * Make ${b} full (${burst} tokens) at ${now}.
 */
void limit_bucket_fill(struct limit_bucket *b, double burst, double now);

/*
 * limit_table_init(t, cap):
 * An empty table of at most ${cap} entries (at least 1).  Nothing is
 * allocated until the first entry.
 */
void limit_table_init(struct limit_table *t, size_t cap);

/*
 * limit_table_set_cap(t, cap):
 * A reload: the table keeps at most ${cap} entries from now on (entries
 * beyond it stay until they are reused).
 */
void limit_table_set_cap(struct limit_table *t, size_t cap);

/*
 * limit_table_fini(t):
 * Free what ${t} holds.
 */
void limit_table_fini(struct limit_table *t);

/*
 * limit_admit(t, id, name, lim, now, e):
 * A new connection of the peer ${id} (CONFIG_ID_LEN bytes) to ${name}
 * under the limits ${lim} at ${now}: LIMIT_OK and the pair's live count
 * raised by one, or why not (the pair's refusal count raised by one).
 * The entry is stored in *${e} either way (NULL with LIMIT_TABLE, or on
 * ENOMEM, which is reported as LIMIT_TABLE); it stays valid until the
 * next call that changes ${t}.  A ${lim} with no limit set admits
 * without touching ${t} (*${e} NULL).
 */
enum limit_kind limit_admit(struct limit_table *t, const uint8_t *id,
    const char *name, const struct config_limits *lim, double now,
    struct limit_entry **e);

/*
 * limit_slot(t, e):
 * The place of the entry ${e} of ${t}: it holds the same pair for as long
 * as the pair has live connections (entries are reused in place, never
 * moved, and only when they have none), so a connection keeps it, plus
 * one, as its handle (0: not counted).
 */
size_t limit_slot(const struct limit_table *t, const struct limit_entry *e);

/*
 * limit_release(t, slot):
 * A connection limit_admit() counted in the entry at ${slot} (limit_slot)
 * ended.
 */
void limit_release(struct limit_table *t, size_t slot);

/*
 * limit_find(t, id, name):
 * The entry of ${id} and ${name}, or NULL.
 */
struct limit_entry *limit_find(struct limit_table *t, const uint8_t *id,
    const char *name);

/*
 * limit_share_get(e, rate, now):
 * The bandwidth share of the entry ${e} at ${rate} bytes per second (made
 * full at ${now} on first use; its rate set to ${rate}), with a reference
 * for the caller; NULL on ENOMEM.
 */
struct limit_share *limit_share_get(struct limit_entry *e, double rate,
    double now);

/*
 * limit_share_put(sh):
 * Drop a reference to ${sh}; the last frees it.  NULL does nothing.
 */
void limit_share_put(struct limit_share *sh);

/*
 * limit_kind_name(k):
 * "peer-connections", "peer-rate" or "peer-table": the reason word of
 * the audit line and of the metrics.
 */
const char *limit_kind_name(enum limit_kind k);

/*
 * limit_is_set(lim):
 * Return true if ${lim} limits anything.
 */
bool limit_is_set(const struct config_limits *lim);

#endif
