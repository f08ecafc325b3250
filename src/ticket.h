/*
 * ticket: what lets a node open data connections to a relay without any
 * public-key operation at the relay.  Over an established session the
 * relay gives the node a ticket: a random 16-byte session id and a random
 * 32-byte key K.  Each data connection then starts with one fixed-size
 * preamble (docs/relay.md):
 *
 *   type(1) || id(16) || counter(8, BE) || AEAD_K(name padded to 64) || tag(16)
 *
 * sealed with AES-256-GCM under K, nonce = 4 zero bytes || counter, and
 * the first 25 bytes (type, id, counter) as associated data.  The receiver
 * refuses a counter it has seen before or one that fell behind a window
 * of TICKET_WINDOW counters below the largest seen (so connections
 * opened in parallel may arrive out of order).
 *
 * Pure: no sockets, no clock, no logging, no allocation.
 */
#ifndef SALLYPORT_TICKET_H
#define SALLYPORT_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define TICKET_ID_LEN 16
#define TICKET_KEY_LEN 32
#define TICKET_NAME_LEN 64 /* service name, zero padded */
#define TICKET_AD_LEN (1 + TICKET_ID_LEN + 8)
#define TICKET_PREAMBLE_LEN (TICKET_AD_LEN + TICKET_NAME_LEN + CRYPTO_TAG_LEN)
/* Counters accepted below the largest seen: at least the handshakes one
 * node may have in flight at once (their connections reach the relay in
 * any order), a multiple of 64. */
#define TICKET_WINDOW 4096
#define TICKET_CLIENT 'C' /* a client connection (inlet or relay) */
#define TICKET_POOLED 'P' /* an outlet's pooled, ready connection */

/*
 * One ticket, at either end.  The sender uses ${next}; the receiver keeps
 * the largest counter seen (${top}, 0: none yet) and a bitmap of the
 * TICKET_WINDOW counters below and including it (${seen}), a ring: the
 * bit of counter c is c % TICKET_WINDOW.
 */
struct ticket {
	uint8_t id[TICKET_ID_LEN];
	struct crypto_aead aead; /* the key schedule only: K is not kept */
	uint64_t next; /* sender: the next counter to use (starts at 1) */
	uint64_t top;  /* receiver: largest counter accepted */
	uint64_t seen[TICKET_WINDOW / 64]; /* receiver: accepted counters */
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
 * Wipe ${t}.
 */
void ticket_fini(struct ticket *t);

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
 * ticket_preamble_id(pre, type, id):
 * Read the clear part of the preamble ${pre}: its ${type} and session
 * ${id}, so the receiver can find the ticket.  Return 0, or -1 if the
 * type is neither TICKET_CLIENT nor TICKET_POOLED.
 */
int ticket_preamble_id(const uint8_t pre[TICKET_PREAMBLE_LEN], uint8_t *type,
    uint8_t id[TICKET_ID_LEN]);

/* Why ticket_preamble_check refused a preamble. */
enum ticket_error {
	TICKET_OK = 0,
	TICKET_EFORMAT = 1, /* bad type or session id */
	TICKET_EREPLAY = 2, /* counter seen before, or too old */
	TICKET_ETAG = 3,    /* authentication failed */
	TICKET_ENAME = 4    /* the decrypted name is malformed */
};

/*
 * ticket_preamble_check(t, pre, type, name):
 * Check the preamble ${pre} (borrowed, not modified) against ${t}: the
 * session id, the counter (never seen, within the window) and the tag;
 * then that the name is text padded with zero bytes.  On success record
 * the counter, store the type in ${type} and the name (NUL-terminated) in
 * ${name}; return 0.  Otherwise return -TICKET_E* and leave ${t}
 * unchanged.
 */
int ticket_preamble_check(struct ticket *t,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint8_t *type,
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
 * ticket_preamble_counter(pre):
 * The counter in the clear part of the preamble ${pre} (unauthenticated
 * until ticket_preamble_check accepted it).
 */
uint64_t ticket_preamble_counter(const uint8_t pre[TICKET_PREAMBLE_LEN]);

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
