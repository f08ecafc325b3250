/*
 * fuzz_channel: shared set-up for the channel fuzz targets and their seed
 * generator.  Every key is fixed (identities, static and ephemeral keys),
 * so a given input always takes the same path and seeds stay valid.
 */
#ifndef SALLYPORT_FUZZ_CHANNEL_H
#define SALLYPORT_FUZZ_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "channel.h"
#include "crypto.h"

#define FZ_NOW 1700000000ULL                        /* "now" everywhere */
#define FZ_EXPIRY (FZ_NOW + 10ULL * 365 * 24 * 3600) /* both attestations */
#define FZ_REQUEST "fuzz"

/* The initiator's and the responder's node credentials, and a stranger's. */
extern struct channel_local fz_li, fz_lr, fz_ls;

/*
 * fz_key_fixed(priv, seed), fz_local_fixed(l, seed, expiry):
 * The fixed P-256 key of ${seed}; credentials in ${l} whose every key
 * derives from ${seed} (fz_li's is 1, fz_lr's 2, fz_ls's 3), attested
 * until ${expiry} (FZ_EXPIRY for the channel targets).  Abort on failure.
 */
void fz_key_fixed(uint8_t priv[CRYPTO_P256_PRIV_LEN], uint8_t seed);
void fz_local_fixed(struct channel_local *l, uint8_t seed, uint64_t expiry);

/*
 * fz_setup(void):
 * Make both nodes' credentials (once), the attestation caches and the
 * responder's ticket store (one ticket, i's: fz_resume_responder); abort
 * on failure.
 */
void fz_setup(void);

/*
 * fz_initiator(void), fz_responder(void):
 * A new channel with fixed ephemeral key; the initiator expects fz_lr and
 * asks for FZ_REQUEST.  The responder has a peer filter, as the node's:
 * fz_li goes on to its attestation, any other identity is refused
 * "not-allowed" before it.  Abort on ENOMEM.
 */
struct channel *fz_initiator(void);
struct channel *fz_responder(void);

/*
 * fz_stranger(void):
 * As fz_initiator(), with the identity fz_ls that fz_responder refuses.
 */
struct channel *fz_stranger(void);

/*
 * fz_initiator_as(l, req):
 * As fz_initiator(), with the credentials ${l} (borrowed) asking for
 * ${req} (text).
 */
struct channel *fz_initiator_as(const struct channel_local *l,
    const char *req);

/*
 * fz_resume_initiator(void), fz_resume_responder(void):
 * As fz_initiator and fz_responder, for a resumed handshake with one fixed
 * ticket (the responder's store holds only it).  Abort on ENOMEM.
 */
struct channel *fz_resume_initiator(void);
struct channel *fz_resume_responder(void);

/*
 * fz_initiator_checked():
 * fz_initiator(), pinned by a check that accepts any responder instead of
 * r's identifier (an inlet pinned by attribute rule): its msg3 holds no
 * request, which follows r's credential record.
 */
struct channel *fz_initiator_checked(void);

/*
 * fz_establish(ci, cr, m1, l1, m2, l2, m3, l3):
 * Run the whole (fixed) handshake between two new channels; store the
 * three frames if the pointers are not NULL (CHANNEL_MAX_HANDSHAKE bytes
 * each), and r's first record (its credentials, which i has read) in
 * fz_first (fz_first_len bytes).  Abort if it fails.
 */
extern uint8_t fz_first[CHANNEL_MAX_HANDSHAKE];
extern size_t fz_first_len;
void fz_establish(struct channel **ci, struct channel **cr, uint8_t *m1,
    size_t *l1, uint8_t *m2, size_t *l2, uint8_t *m3, size_t *l3);

/*
 * fz_responder_step(arg, f, n):
 * A fz_frames callback for the responder ${arg}: the frame ${f} (${n}
 * bytes) as a handshake message until established, then as a record.
 * Return non-zero once the channel failed.
 */
int fz_responder_step(void *arg, uint8_t *f, size_t n);

/*
 * fz_frames(data, size, fn, arg):
 * Cut ${data} into frames as an I/O layer would and call ${fn} on a
 * writable copy of each; a bad prefix or a short tail is handed over as
 * is (the channel must refuse it).  Stop when ${fn} returns non-zero.
 */
void fz_frames(const uint8_t *data, size_t size,
    int (*fn)(void *, uint8_t *, size_t), void *arg);

#endif
