/*
 * ticket: what lets a node open data connections to a relay without any
 * public-key operation at the relay.  Over an established session the
 * relay gives the node a ticket: a random 16-byte session id and a random
 * 32-byte key K.  Each data connection then starts with one fixed-size
 * preamble (docs/relay.md), version 2:
 *
 *   type(1) || cid(16) || AEAD_K(name padded to 64) || tag(16)
 *
 * where cid = HMAC-SHA256(Kc, "sallyport/2 cid" || counter(8, BE))[0:16]
 * is the connection's own identifier, Kc = HMAC-SHA256(K, "sallyport/2
 * cid key"), and the AEAD is AES-256-GCM under K with nonce = 4 zero
 * bytes || counter and the first 17 bytes (type, cid) as associated data.
 * Neither the session id nor the counter crosses the wire: without K two
 * preambles share nothing but their type byte.
 *
 * The receiver (the relay) finds the session and the counter from the
 * cid alone: each session keeps the cids of a window of TICKET_WINDOW
 * counters (TICKET_AHEAD beyond the largest accepted, the rest below it,
 * not yet seen) in a ring, linked into one hash map shared by all
 * sessions (struct ticket_map).  A cid is in the map once, until its
 * connection is accepted or the window moves past it: so a replayed
 * preamble, or one whose counter fell behind the window, is not found.
 *
 * Pure: no sockets, no clock, no logging, no allocation (the caller
 * provides the ring and the map's buckets).
 */
#ifndef SALLYPORT_TICKET_H
#define SALLYPORT_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define TICKET_ID_LEN 16
#define TICKET_KEY_LEN 32
#define TICKET_CID_LEN 16  /* per-connection identifier */
#define TICKET_NAME_LEN 64 /* service name, zero padded */
#define TICKET_AD_LEN (1 + TICKET_CID_LEN)
#define TICKET_PREAMBLE_LEN (TICKET_AD_LEN + TICKET_NAME_LEN + CRYPTO_TAG_LEN)
/*
 * Counters a receiver expects per session: a power of two.  Connections
 * opened in parallel reach the relay in any order (a burst of clients is
 * read in descriptor order), so most of the window lies below the
 * largest counter accepted: TICKET_WINDOW - TICKET_AHEAD of them.
 */
#define TICKET_WINDOW 1024
#define TICKET_AHEAD 256
#define TICKET_MAX_COUNTER ((uint64_t)1 << 62) /* never reached */
#define TICKET_CLIENT 'c' /* a client connection (inlet or relay) */
#define TICKET_POOLED 'p' /* an outlet's pooled, ready connection */
#define TICKET_CLIENT_V1 'C' /* version 1 preambles (session id in */
#define TICKET_POOLED_V1 'P' /* clear): refused */

struct ticket_window;

/* One expected cid, in a session's ring and in the map's chain. */
struct ticket_slot {
	uint8_t cid[TICKET_CID_LEN];
	struct ticket_slot *next;   /* map chain */
	struct ticket_window *win;  /* the ring it belongs to */
};

/*
 * The receiver's ring: slot c % TICKET_WINDOW holds the cid of counter
 * c, for the TICKET_WINDOW counters up to top + TICKET_AHEAD; ${live}
 * marks the slots linked into the map (expected, not yet seen).
 */
struct ticket_window {
	struct ticket *t;
	uint64_t live[TICKET_WINDOW / 64];
	struct ticket_slot s[TICKET_WINDOW];
};

/* The receiver's map from cid to slot, over all its sessions. */
struct ticket_map {
	struct ticket_slot **b; /* buckets (the caller's, zeroed) */
	size_t mask;            /* buckets - 1, a power of two minus one */
	size_t n;               /* slots linked */
};

/*
 * One ticket, at either end.  The sender uses ${next}; the receiver keeps
 * the largest counter accepted (${top}, 0: none yet) and its window.
 */
struct ticket {
	uint8_t id[TICKET_ID_LEN];
	struct crypto_aead aead; /* the key schedule only: K is not kept */
	uint8_t cidkey[CRYPTO_HASH_LEN]; /* Kc, derived from K */
	uint64_t next; /* sender: the next counter to use (starts at 1) */
	uint64_t top;  /* receiver: largest counter accepted */
	struct ticket_window *win; /* receiver: borrowed, NULL: none */
	struct ticket_map *map;    /* receiver: borrowed */
};

/*
 * ticket_make(t, key):
 * Fill ${t} with a fresh random id and key (the relay's side); the key K
 * is written to ${key} once, for the ticket message: the caller sends it
 * and wipes it (${t} keeps only its key schedule).  Return 0, or -1 if no
 * randomness.
 */
int ticket_make(struct ticket *t, uint8_t key[TICKET_KEY_LEN]);

/*
 * ticket_init(t, id, key):
 * Set ${t} up from a received ${id} and ${key} (the node's side; ${key}
 * is borrowed: the caller wipes it, ${t} keeps only its key schedule).
 */
void ticket_init(struct ticket *t, const uint8_t id[TICKET_ID_LEN],
    const uint8_t key[TICKET_KEY_LEN]);

/*
 * ticket_fini(t):
 * Unlink ${t}'s expected cids from its map (receiver), wipe ${t} and its
 * window.
 */
void ticket_fini(struct ticket *t);

/*
 * ticket_cid(t, ctr, cid):
 * The connection identifier of counter ${ctr} under ${t}'s key.
 */
void ticket_cid(const struct ticket *t, uint64_t ctr,
    uint8_t cid[TICKET_CID_LEN]);

/*
 * ticket_preamble_build(t, type, name, out):
 * Write the preamble of a new data connection of ${type} (TICKET_CLIENT
 * or TICKET_POOLED) for the service ${name} (1 to TICKET_NAME_LEN - 1
 * bytes of text) to ${out}, using and advancing t->next.  Return 0, or -1
 * if ${type} or ${name} is invalid or the counters are used up.
 */
int ticket_preamble_build(struct ticket *t, uint8_t type, const char *name,
    uint8_t out[TICKET_PREAMBLE_LEN]);

/*
 * ticket_map_init(map, buckets, n):
 * Set up the empty ${map} over the ${n} (a power of two) zeroed
 * ${buckets} (borrowed; they must outlive every ticket linked in).
 */
void ticket_map_init(struct ticket_map *map, struct ticket_slot **buckets,
    size_t n);

/*
 * ticket_expect(t, map, win):
 * Receiver: link the cids of ${t}'s first TICKET_AHEAD counters into
 * ${map}, in the ring ${win} (borrowed until ticket_fini; ${t} must not
 * move meanwhile).
 */
void ticket_expect(struct ticket *t, struct ticket_map *map,
    struct ticket_window *win);

/*
 * ticket_lookup(map, pre, ctr):
 * The ticket expecting the cid of the preamble ${pre} (its counter in
 * ${ctr}), or NULL if no session expects it (an unknown, replayed or too
 * old preamble, or a version 1 one).  Costs no cryptography: one bucket.
 */
struct ticket *ticket_lookup(const struct ticket_map *map,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint64_t *ctr);

/* Why ticket_preamble_check refused a preamble. */
enum ticket_error {
	TICKET_OK = 0,
	TICKET_EFORMAT = 1, /* bad type or unknown cid */
	TICKET_EREPLAY = 2, /* counter seen before, or too old */
	TICKET_ETAG = 3,    /* authentication failed */
	TICKET_ENAME = 4    /* the decrypted name is malformed */
};

/*
 * ticket_preamble_check(t, pre, ctr, type, name):
 * Check the preamble ${pre} (borrowed, not modified), found by
 * ticket_lookup for ${t} and counter ${ctr}: that the counter is still
 * expected, the tag, then that the name is text padded with zero bytes.
 * On success take the counter out of the map, move the window (the cids
 * of the counters now within TICKET_AHEAD of the largest accepted are
 * linked in, those that fell behind are unlinked), store the type in
 * ${type} and the name (NUL-terminated) in ${name}; return 0.  Otherwise
 * return -TICKET_E* and leave ${t} unchanged.
 */
int ticket_preamble_check(struct ticket *t,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint64_t ctr, uint8_t *type,
    char name[TICKET_NAME_LEN]);

/*
 * Why the relay refused a data connection, told to the node over its
 * session (docs/relay.md): 'E' || reason (1, enum channel_refusal) ||
 * the preamble's counter (8, BE), so the node can tell which of its data
 * connections it was.
 */
#define TICKET_MSG_REFUSAL 'E'
#define TICKET_REFUSAL_LEN 10

/*
 * ticket_last_counter(t):
 * Sender: the counter of the last preamble ticket_preamble_build made
 * with ${t} (0: none yet), so a refusal for it can be matched.
 */
uint64_t ticket_last_counter(const struct ticket *t);

/*
 * ticket_refusal_encode(code, counter, out):
 * Write the refusal message for the data connection with the preamble
 * counter ${counter}, refused for ${code}, to ${out}.
 */
void ticket_refusal_encode(uint8_t code, uint64_t counter,
    uint8_t out[TICKET_REFUSAL_LEN]);

/*
 * ticket_refusal_decode(msg, len, code, counter):
 * If the session message ${msg} (${len} bytes) is a refusal, store its
 * reason in ${code} and counter in ${counter} and return 0; else -1.
 */
int ticket_refusal_decode(const uint8_t *msg, size_t len, uint8_t *code,
    uint64_t *counter);

/*
 * ticket_strerror(err):
 * A short word for a (positive or negative) ticket_error.
 */
const char *ticket_strerror(int err);

#endif
