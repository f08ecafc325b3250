/*
 * channel: the secure channel that an inlet and an outlet run end to end
 * over a byte stream (possibly through relays).  A pure state machine:
 * frames in, frames out, no fds, no libev, no clock reads (callers pass
 * "now" in seconds).  Wire format: docs/protocol.md.
 *
 * Every message on the stream is a frame: a 2-byte big-endian length L,
 * then L bytes (frame.h).  The handshake is Noise_XX_25519_AESGCM_SHA256:
 *   msg1 I->R  e
 *   msg2 R->I  e, ee, s, es   payload: identity payload of R
 *   msg3 I->R  s, se          payload: identity payload of I, then request
 * An identity payload is the node's P-256 identity public key and an
 * attestation: the identity key's ECDSA signature over a context string,
 * the Noise static public key and an expiry.  The peer identifier is
 * SHA-256 of the 65-byte uncompressed identity public key.
 *
 * A transport record is one frame: L || AEAD(type || data) || tag, with the
 * two length bytes as associated data.  Records are built in place:
 *   rec[0..2)   length (written by channel_seal)
 *   rec[2]      type   (written by channel_seal)
 *   rec[3..3+n) data   (the caller's bytes, encrypted in place)
 *   then 16 bytes of tag.
 */
#ifndef SALLYPORT_CHANNEL_H
#define SALLYPORT_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "cred.h"
#include "crypto.h"
#include "noise.h"
#include "sigcache.h"

#define CHANNEL_ID_LEN 32         /* raw peer identifier: SHA-256(pub) */
#define CHANNEL_MAX_DATA 16384    /* plaintext bytes per record */
#define CHANNEL_HDR 3             /* length + type: data starts here */
#define CHANNEL_OVERHEAD (CHANNEL_HDR + CRYPTO_TAG_LEN)
#define CHANNEL_MAX_RECORD (CHANNEL_MAX_DATA + CHANNEL_OVERHEAD)
#define CHANNEL_MAX_HANDSHAKE 3072 /* largest handshake frame, both ways */
#define CHANNEL_MAX_REQUEST 255   /* request (service name) bytes in msg3 */
#define CHANNEL_PAYLOAD_LEN 138   /* identity payload: 1 + 65 + 8 + 64 */
#define CHANNEL_PAYLOAD_VERSION 2 /* then a credential block (cred.h) */
#define CHANNEL_VERSION 3         /* msg1's one-byte payload */
#define CHANNEL_PROLOGUE "sallyport/3"                /* Noise prologue */
#define CHANNEL_MAX_BOUND 63 /* service name bound into a relayed prologue */
#define CHANNEL_MAX_PROLOGUE (sizeof(CHANNEL_PROLOGUE) + CHANNEL_MAX_BOUND)
#define CHANNEL_ATTEST_CONTEXT "sallyport attestation v1" /* signed first */
#define CHANNEL_REKEY_INTERVAL 65536 /* records per direction per key */
#define CHANNEL_REKEY_TIME 120 /* seconds a used sending key may live */
#define CHANNEL_MAX_AGE (24 * 3600) /* seconds from handshake to the end */

/*
 * Resumed handshakes (docs/protocol.md 2.7): Noise_NNpsk0_25519_AESGCM_SHA256
 * keyed by a resumption secret both ends derived at the end of a full
 * handshake.  msg1's body is the ticket id in clear, then the Noise message;
 * a responder that does not know the ticket answers with a one-byte body
 * and the initiator starts a full handshake on the same stream.  msg3 is
 * the first transport record: the initiator's credential block as it is
 * now, then the request.
 */
#define CHANNEL_RESUME_PROLOGUE "sallyport/2 resume" /* then tid, bound */
#define CHANNEL_RESUME_SALT "sallyport resumption v1"  /* HKDF info, first */
#define CHANNEL_RESUME_TID_LEN 16
#define CHANNEL_RESUME_SECRET_LEN 32
#define CHANNEL_RESUME_LIFETIME 3600 /* seconds a ticket may be used */
#define CHANNEL_RESUME_MSG1_LEN (CHANNEL_RESUME_TID_LEN + 32 + 1 + 16)
#define CHANNEL_RESUME_UNKNOWN 0x01 /* the responder's one-byte answer */
/*
 * The resumed msg1's encrypted byte: 3, whose msg3 record carries the
 * initiator's current credential block before the request (2 before:
 * the ticket's block stood in for it).  Anything else is
 * CHANNEL_EVERSION.
 */
#define CHANNEL_RESUME_VERSION 3
#define CHANNEL_RESUME_MSG3_MAX \
	(CRED_BLOCK_MAX + CHANNEL_MAX_REQUEST + CHANNEL_OVERHEAD)

enum channel_role { CHANNEL_INITIATOR, CHANNEL_RESPONDER };

/* Record types, inside the encryption. */
enum channel_type {
	CHANNEL_DATA = 0, /* application bytes */
	CHANNEL_EOF = 1,  /* sender will send no more data (half-close); empty */
	CHANNEL_PING = 2, /* keepalive; answered by PONG */
	CHANNEL_PONG = 3,
	CHANNEL_REFUSE = 4, /* why the responder refuses; then it closes */
	CHANNEL_REKEY = 5,  /* last record under the sender's key; empty */
	CHANNEL_CREDS = 6,  /* the sender's renewed credential block */
	CHANNEL_REQUEST = 7 /* the request, when msg3 held none (2.3): the
			       first record of an initiator pinned by check
			       only; never sealed or opened through the API */
};

/*
 * The first data byte of a CHANNEL_REFUSE record: why a responder that
 * authenticated the initiator will not serve it (docs/protocol.md 3.4).
 * Bytes after the first are reserved (sent as none, ignored).
 */
enum channel_refusal {
	CHANNEL_REFUSAL_NOT_ALLOWED = 1,     /* not on the allow-list */
	CHANNEL_REFUSAL_UNKNOWN_SERVICE = 2, /* no such service */
	CHANNEL_REFUSAL_TARGET_FAILED = 3,   /* allowed; the target is down */
	CHANNEL_REFUSAL_REGISTRATION_MISMATCH = 4, /* pooled for another name */
	CHANNEL_REFUSAL_NOT_REGISTRANT = 5,  /* relay: may not register it */
	CHANNEL_REFUSAL_NO_REGISTRANT = 6,   /* relay: nobody serves it now */
	CHANNEL_REFUSAL_BAD_REQUEST = 7,     /* a malformed request */
	CHANNEL_REFUSAL_OLD_REQUEST = 8,     /* version 1 where 2 is needed */
	CHANNEL_REFUSAL_LIMIT = 9            /* over a limit of its peer */
};

/* Errors, returned negated.  Each names one way a peer can fail. */
enum channel_error {
	CHANNEL_OK = 0,
	CHANNEL_EFRAME = 1,    /* bad length prefix, or frame too large */
	CHANNEL_ESTATE = 2,    /* message out of turn / replayed handshake */
	CHANNEL_EHANDSHAKE = 3, /* Noise rejected a handshake message */
	CHANNEL_EPAYLOAD = 4,  /* malformed identity payload or request */
	CHANNEL_EATTEST = 5,   /* attestation signature does not verify */
	CHANNEL_EEXPIRED = 6,  /* attestation expired */
	CHANNEL_EPEER = 7,     /* peer is not the pinned identity */
	CHANNEL_EDECRYPT = 8,  /* record failed authentication */
	CHANNEL_ETYPE = 9,     /* unknown record type */
	CHANNEL_ENONCE = 10,   /* nonce space exhausted */
	CHANNEL_ENOMEM = 11,
	CHANNEL_ERANDOM = 12,
	CHANNEL_EDENIED = 13,  /* peer filter refused the claimed identity */
	CHANNEL_EVERSION = 14  /* the peer speaks another protocol version */
};

/*
 * This node's credentials, shared by all its channels (borrowed by them):
 * the identity key pair, a Noise static X25519 key pair made at start-up,
 * and the attestation binding the second to the first.  ${hs} holds a
 * freshly initialized Noise XX state per role (indexed by enum
 * channel_role) that each channel copies, so no handshake pays for
 * deriving s_pub from s again; ${res} the same for resumed handshakes
 * (NNpsk0, no prologue yet: each takes its ticket's).
 */
struct channel_local {
	uint8_t id_priv[CRYPTO_P256_PRIV_LEN];
	uint8_t id_pub[CRYPTO_P256_PUB_LEN];
	uint8_t id[CHANNEL_ID_LEN];
	uint8_t s[32], s_pub[32];
	uint64_t expiry;
	uint8_t sig[CRYPTO_P256_SIG_LEN];
	struct noise_handshake hs[2];
	struct noise_handshake res[2];
	uint8_t creds[CRED_BLOCK_MAX]; /* credential block presented */
	size_t creds_len;              /* 0: none (an empty block is sent) */
};

/*
 * channel_local_init(l, id_priv, now, lifetime):
 * Make a fresh static key and sign an attestation valid until
 * ${now} + ${lifetime} seconds.  Return 0 or -1.
 */
int channel_local_init(struct channel_local *l,
    const uint8_t id_priv[CRYPTO_P256_PRIV_LEN], uint64_t now,
    uint64_t lifetime);

/*
 * channel_local_init_static(l, id_priv, s, expiry):
 * As channel_local_init, with the given X25519 static private key ${s}
 * and absolute ${expiry} (seconds): deterministic, for tests and fuzzing,
 * or to reuse a stored static key.  Return 0 or -1.
 */
int channel_local_init_static(struct channel_local *l,
    const uint8_t id_priv[CRYPTO_P256_PRIV_LEN], const uint8_t s[32],
    uint64_t expiry);

/*
 * channel_local_set_creds(l, block, len):
 * Present the credential block ${block} (${len} bytes, checked with
 * cred_block_check; 0: none) in every identity payload of ${l}.  Return
 * 0, or -1 if it is malformed.
 */
int channel_local_set_creds(struct channel_local *l, const uint8_t *block,
    size_t len);

/*
 * channel_local_fini(l):
 * Wipe ${l}.
 */
void channel_local_fini(struct channel_local *l);

/*
 * channel_payload_check(buf, len, rs, now, expect, cache, id):
 * Parse the identity payload at ${buf} (exactly CHANNEL_PAYLOAD_LEN bytes)
 * received with the Noise remote static key ${rs}; refuse it if its
 * identifier is not ${expect} (unless NULL), if it expired at ${now}, or
 * if its attestation does not verify over ${rs}.  ${cache} (may be NULL)
 * answers repeated checks without ECDSA.  On success store the identifier
 * in ${id}.  Return 0, or -CHANNEL_EPAYLOAD, -CHANNEL_EPEER,
 * -CHANNEL_EEXPIRED or -CHANNEL_EATTEST.
 */
int channel_payload_check(const uint8_t *buf, size_t len,
    const uint8_t rs[32], uint64_t now, const uint8_t *expect,
    struct sigcache *cache, uint8_t id[CHANNEL_ID_LEN]);

struct channel;

/*
 * A resumption ticket: what one end keeps about a peer after a full
 * handshake, enough for resumed ones.  Holds a secret: channel_resume_fini.
 */
struct channel_resume {
	uint8_t tid[CHANNEL_RESUME_TID_LEN];       /* public lookup key */
	uint8_t secret[CHANNEL_RESUME_SECRET_LEN]; /* the psk */
	uint8_t peer[CHANNEL_ID_LEN]; /* the peer's verified identifier */
	uint64_t expiry;              /* not usable from then on */
	uint64_t bound; /* the earlier attestation expiry (in the secret) */
	/* Initiator's ticket: the responder's credential block of the full
	 * handshake (a responder's ticket keeps none: every resumed msg3
	 * brings the initiator's block as it is then). */
	uint8_t creds[CRED_BLOCK_MAX];
	size_t creds_len; /* 0: none */
};

/*
 * A responder's ticket store (channel_resume_set_lookup): find the ticket
 * ${tid} still valid at ${now} and copy it into ${t}.  Return 0, or -1 if
 * unknown or expired.
 */
typedef int channel_resume_lookup(void *arg,
    const uint8_t tid[CHANNEL_RESUME_TID_LEN], uint64_t now,
    struct channel_resume *t);

/*
 * channel_resume_fini(t):
 * Wipe the ticket ${t}.
 */
void channel_resume_fini(struct channel_resume *t);

/*
 * channel_new(role, local, cache):
 * A channel for ${role}; ${local} and ${cache} (which may be NULL) are
 * borrowed and must outlive it.  NULL on ENOMEM.
 */
struct channel *channel_new(enum channel_role role,
    const struct channel_local *local, struct sigcache *cache);

/*
 * channel_free(ch):
 * Wipe and free ${ch}; NULL does nothing.
 */
void channel_free(struct channel *ch);

/*
 * channel_expect_peer(ch, id):
 * Initiator: refuse (CHANNEL_EPEER) any responder whose identifier is not
 * ${id}, before msg3, so nothing (not even the request) reaches it.  An
 * initiator with no expected peer refuses to start (deny by default).
 * Call before channel_start.
 */
void channel_expect_peer(struct channel *ch, const uint8_t id[CHANNEL_ID_LEN]);

/*
 * An initiator's decision on a responder it does not pin by identifier
 * (channel_expect_check): ${arg}, the responder's identifier ${id}, its
 * attestation verified in msg2, and the credential block of its first
 * record after msg3 (${creds}, ${len} bytes; NULL and 0 if none; not
 * verified: the caller checks it).  Return 1 to go on (send the request,
 * which msg3 did not hold), 0 to refuse (CHANNEL_EDENIED: that responder
 * never learns the request).
 */
typedef int channel_peer_check(void *arg, const uint8_t id[CHANNEL_ID_LEN],
    const uint8_t *creds, size_t len);

/*
 * channel_expect_check(ch, fn, arg):
 * Initiator, instead of channel_expect_peer: accept any responder for
 * which ${fn}(${arg}, ...) returns 1, asked once its credential record
 * came after msg3 (msg2's attestation verified; msg3 then holds no
 * request, sent in a record after an accept).  No resumed handshake is
 * tried (a ticket names one peer).  Call before channel_start.
 */
void channel_expect_check(struct channel *ch, channel_peer_check *fn,
    void *arg);

/*
 * A responder's first look at the initiator (channel_set_peer_filter):
 * ${arg}, the identifier ${id} the initiator claims (not yet verified) and
 * its ${req}uest (${len} bytes).  Return 1 to go on (verify the
 * attestation), 0 to refuse silently (CHANNEL_EDENIED), or a negated enum
 * channel_refusal to refuse (CHANNEL_EDENIED) and tell the initiator why:
 * channel_handshake() then returns -CHANNEL_EDENIED with one REFUSE record
 * in its output, which the caller sends before it closes.  The filter runs
 * once msg3 was read, so the initiator proved it holds the static key the
 * record is sealed to; only its identity is unverified.
 */
typedef int channel_peer_filter(void *arg, const uint8_t id[CHANNEL_ID_LEN],
    const uint8_t *req, size_t len);

/*
 * channel_set_peer_filter(ch, fn, arg):
 * Responder: call ${fn}(${arg}, ...) with the identifier the initiator
 * claims in msg3 before its attestation signature is verified (and before
 * the attestation cache is consulted or filled), so identities no allow
 * list names cost no ECDSA verification and cannot evict cached ones.
 * The final decision is still the caller's, on the verified identity.
 */
void channel_set_peer_filter(struct channel *ch, channel_peer_filter *fn,
    void *arg);

/*
 * channel_set_request(ch, req, len):
 * Initiator, before channel_start: the request (the service name) sent
 * encrypted in msg3.  Return 0, -CHANNEL_EPAYLOAD if ${len} >
 * CHANNEL_MAX_REQUEST, or -CHANNEL_ESTATE if too late or not an initiator.
 */
int channel_set_request(struct channel *ch, const uint8_t *req, size_t len);

/*
 * channel_send_request(ch, req, len, out, cap, outlen):
 * Initiator pinned by identifier (channel_expect_peer) that set an empty
 * request (channel_set_request with ${len} 0) and completed a full
 * handshake: a channel made ahead of its use (issue 23's warm channels).
 * Seal the request ${req} (1 to CHANNEL_MAX_REQUEST bytes) as the first
 * record (CHANNEL_REQUEST, docs/protocol.md 2.2) into ${out} (${cap}
 * bytes), its size in *${outlen}; the caller sends it before any other
 * record (the responder refuses anything else first: CHANNEL_EPAYLOAD).
 * Return 0, -CHANNEL_EPAYLOAD for a bad length, -CHANNEL_EFRAME if
 * ${cap} is too small, or -CHANNEL_ESTATE if no request is due (a
 * request went in msg3, a resumed handshake, sent already).
 */
int channel_send_request(struct channel *ch, const uint8_t *req, size_t len,
    uint8_t *out, size_t cap, size_t *outlen);

/*
 * channel_bind_service(ch, name, len):
 * Before the first handshake message, either role: mix the service name
 * ${name} (1 to CHANNEL_MAX_BOUND bytes, no NUL) into the Noise prologue,
 * which becomes CHANNEL_PROLOGUE || 0x00 || name.  Both ends of a relayed
 * channel bind the name the relay paired them for, so a handshake spliced
 * onto a connection made for another name fails (CHANNEL_EHANDSHAKE).
 * Return 0, -CHANNEL_EPAYLOAD for a bad name, or -CHANNEL_ESTATE if too
 * late.
 */
int channel_bind_service(struct channel *ch, const uint8_t *name, size_t len);

/*
 * channel_set_ephemeral(ch, e):
 * Tests and fuzzing only: use the X25519 private key ${e} as the
 * handshake's ephemeral key instead of a random one, so runs repeat.
 * Call before the first handshake message.  Never in the daemon.
 */
void channel_set_ephemeral(struct channel *ch, const uint8_t e[32]);

/*
 * channel_resume_export(ch, now, t):
 * After a full handshake (either role): the ticket for resumed handshakes
 * with the same peer into ${t}.  Both ends derive the same tid and secret:
 * HKDF-SHA256(salt the final chaining key ck, ikm the handshake hash h,
 * info CHANNEL_RESUME_SALT, the initiator's and responder's identifiers
 * and the earlier of the two attestation expiries, 8 bytes big-endian),
 * 48 bytes: secret then tid.
 * ${t}->bound is that expiry; ${t}->expiry, when the ticket may no longer
 * start a handshake, is it capped at ${now} + CHANNEL_RESUME_LIFETIME and
 * at channel_deadline().  A resumed channel lives as a full one would
 * (channel_deadline with ${t}->bound as the peer's attestation expiry).
 * Return 0, -CHANNEL_ESTATE (not established, or itself resumed) or
 * -CHANNEL_EEXPIRED.
 */
int channel_resume_export(const struct channel *ch, uint64_t now,
    struct channel_resume *t);

/*
 * channel_resume_set(ch, t, now):
 * Initiator, before channel_start (after channel_expect_peer): try a
 * resumed handshake with the ticket ${t} (copied).  Return 0,
 * -CHANNEL_EEXPIRED if it is not valid at ${now}, -CHANNEL_EPEER if it is
 * for another peer than the expected one, -CHANNEL_ESTATE if too late.
 */
int channel_resume_set(struct channel *ch, const struct channel_resume *t,
    uint64_t now);

/*
 * channel_resume_set_lookup(ch, fn, arg):
 * Responder, before the first frame: answer resumed msg1s with the ticket
 * store ${fn}(${arg}, ...).  Without one every resumed msg1 falls back.
 */
void channel_resume_set_lookup(struct channel *ch, channel_resume_lookup *fn,
    void *arg);

/*
 * channel_is_resumed(ch):
 * Return 1 if ${ch} is (or is becoming) a resumed channel, 0 if full.
 */
int channel_is_resumed(const struct channel *ch);

/*
 * channel_resume_refused(ch):
 * Initiator: 1 if the responder did not know the ticket and the channel
 * went on with a full handshake (the caller drops its ticket), else 0.
 */
int channel_resume_refused(const struct channel *ch);

/*
 * channel_use_keypair(ch, e, e_pub):
 * Before the first handshake message: use the X25519 key pair ${e},
 * ${e_pub} (copied; made ahead of time, used once) as the handshake's
 * ephemeral, so making it costs nothing on the critical path.  A resumed
 * attempt that falls back makes a fresh one for the full handshake.
 */
void channel_use_keypair(struct channel *ch, const uint8_t e[32],
    const uint8_t e_pub[32]);

/*
 * channel_set_rekey_interval(ch, n):
 * Tests only: rekey each direction every ${n} (>= 1) records instead of
 * every CHANNEL_REKEY_INTERVAL.  Both ends must use the same ${n}.
 */
void channel_set_rekey_interval(struct channel *ch, uint64_t n);

/*
 * channel_deadline(ch):
 * Once established: the time (seconds since the epoch) at which ${ch}
 * must end: the earliest of the peer's attestation expiry, our own
 * attestation's expiry as sent in the handshake, and the handshake's
 * time plus CHANNEL_MAX_AGE.  Both ends compute the same value.  0 before.
 */
uint64_t channel_deadline(const struct channel *ch);

/*
 * channel_check_time(ch, now):
 * Return 0 if ${ch} may still be used at ${now}, else kill it (its keys
 * are wiped) and return -CHANNEL_EEXPIRED.  Callers check before they
 * seal or open at a later time, and when a timer set for
 * channel_deadline() fires.
 */
int channel_check_time(struct channel *ch, uint64_t now);

/*
 * channel_rekey_due(ch, now):
 * Return 1 if the sending key has protected a record and is at least
 * CHANNEL_REKEY_TIME seconds old at ${now}: the caller then sends a
 * CHANNEL_REKEY record (channel_seal_rekey).  0 otherwise.
 */
int channel_rekey_due(const struct channel *ch, uint64_t now);

/*
 * channel_rekey_at(ch):
 * When channel_rekey_due() becomes 1 if records are sealed before then
 * (seconds since the epoch); 0 before the channel is established.
 */
uint64_t channel_rekey_at(const struct channel *ch);

/*
 * channel_seal_rekey(ch, rec, now):
 * Seal an empty CHANNEL_REKEY record into ${rec} (CHANNEL_OVERHEAD
 * bytes), then replace the sending key by Noise's REKEY() of it; the
 * receiver does the same after opening that record.  ${now} is when the
 * new key starts.  Return the record length, or -error.
 */
long channel_seal_rekey(struct channel *ch, uint8_t *rec, uint64_t now);

/*
 * channel_start(ch, out, cap, outlen):
 * Initiator: write msg1 (a whole frame) to ${out}.  Return 0 or -error
 * (-CHANNEL_EPEER when no peer is expected).
 */
int channel_start(struct channel *ch, uint8_t *out, size_t cap,
    size_t *outlen);

/*
 * channel_handshake(ch, frame, len, now, out, cap, outlen):
 * Process one whole handshake frame (length prefix included) and write the
 * reply frame, if any, to ${out} (*outlen is 0 when there is none; the
 * responder's reply to msg3 is its credential record, so ${cap} must hold
 * CHANNEL_OVERHEAD + CRED_BLOCK_MAX).  Return 0 while the handshake goes
 * on, 1 once it is established (the initiator after writing msg3, or,
 * pinned by check, after the responder's credential record and writing
 * its request record; the responder after reading msg3, or the request
 * record when msg3 held none), or a
 * negative channel_error; after an error the channel is dead and
 * *outlen is 0 (an initiator whose peer is not the expected one returns
 * -CHANNEL_EPEER before it starts on msg3), but for -CHANNEL_EDENIED when
 * the peer filter asked to tell why: then ${out} holds one REFUSE record
 * to send before closing.  ${now} (seconds since the
 * epoch) is checked against the peer's attestation expiry.
 */
int channel_handshake(struct channel *ch, const uint8_t *frame, size_t len,
    uint64_t now, uint8_t *out, size_t cap, size_t *outlen);

/*
 * channel_peer_id(ch):
 * The verified peer identifier (CHANNEL_ID_LEN bytes), or NULL before it
 * is known.
 */
const uint8_t *channel_peer_id(const struct channel *ch);

/*
 * channel_claimed_id(ch):
 * Initiator, after -CHANNEL_EPEER: the identifier the responder presented
 * instead of the expected one (unverified: its attestation was never
 * checked), or NULL.
 */
const uint8_t *channel_claimed_id(const struct channel *ch);

/*
 * channel_refusal_name(code):
 * The word for the enum channel_refusal ${code} ("not-allowed", ...), or
 * "refused" for a code this build does not know.
 */
const char *channel_refusal_name(unsigned code);

/*
 * channel_peer_creds(ch, len):
 * The credential block the peer presented (not verified: acl.c checks
 * it), its size in ${len}; NULL and 0 before it arrived or if the peer
 * presented none.  Available to the peer filter already.
 */
const uint8_t *channel_peer_creds(const struct channel *ch, size_t *len);

/*
 * channel_awaits_request(ch):
 * 1 if ${ch} is a responder whose initiator's msg3 held no request and
 * whose REQUEST record has not come yet (its keys are split, its
 * credential record is out: only that record may come), else 0.
 */
int channel_awaits_request(const struct channel *ch);

/*
 * channel_request(ch, len):
 * Once established: the request (received by a responder, sent by an
 * initiator) and its length in ${len}; NULL and 0 before.
 */
const uint8_t *channel_request(const struct channel *ch, size_t *len);

/*
 * channel_seal(ch, type, rec, len):
 * Encrypt the ${len} (<= CHANNEL_MAX_DATA) bytes at rec + CHANNEL_HDR in
 * place into a record of ${type} (not CHANNEL_REKEY: channel_seal_rekey;
 * a CHANNEL_CREDS record holds one well formed credential block);
 * ${rec} has room for len + CHANNEL_OVERHEAD bytes.  Return the record
 * length, or -error.
 */
long channel_seal(struct channel *ch, enum channel_type type, uint8_t *rec,
    size_t len);

/*
 * channel_open(ch, rec, reclen, type, len):
 * Authenticate and decrypt one whole record in place; on success the data
 * is at rec + CHANNEL_HDR, ${len} bytes, of ${type}.  A CHANNEL_REKEY
 * record (empty) has already replaced the receiving key when this
 * returns; the caller has nothing to do for it.  A CHANNEL_CREDS record
 * (a well formed credential block, cred.h) has already replaced what
 * channel_peer_creds returns; the caller decides again with it.  Return 0
 * or -error; after an error the channel is dead.
 */
int channel_open(struct channel *ch, uint8_t *rec, size_t reclen,
    enum channel_type *type, size_t *len);

/*
 * channel_error_name(err):
 * The one word that names the (positive or negative) channel_error ${err}
 * in logs (reason=EDECRYPT) and metrics labels; "channel" if unknown.
 */
const char *channel_error_name(int err);

/*
 * channel_strerror(err):
 * A short text for a (positive or negative) channel_error.
 */
const char *channel_strerror(int err);

#endif
