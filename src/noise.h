/*
 * noise: the Noise Protocol Framework (revision 34): CipherState,
 * SymmetricState and HandshakeState for the patterns NN, XX and IK and the
 * pre-shared key variants NNpsk0, NNpsk2, XXpsk3 and IKpsk2 (section 9),
 * with DH 25519, ciphers AESGCM and ChaChaPoly, hash SHA256.  Bytes in,
 * bytes out: no clocks, no sockets, no heap.  Every secret is wiped by
 * _fini.
 */
#ifndef SALLYPORT_NOISE_H
#define SALLYPORT_NOISE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define NOISE_DHLEN 32
#define NOISE_HASHLEN 32
#define NOISE_TAGLEN 16
#define NOISE_MAX_MSG 65535

#define NOISE_PSKLEN 32

enum noise_pattern {
	NOISE_NN,
	NOISE_XX,
	NOISE_IK,
	NOISE_NNPSK0,
	NOISE_NNPSK2,
	NOISE_XXPSK3,
	NOISE_IKPSK2
};
enum noise_cipher { NOISE_AESGCM, NOISE_CHACHAPOLY };
enum noise_role { NOISE_INITIATOR, NOISE_RESPONDER };

/* Errors returned (negated) by the functions below. */
enum noise_error {
	NOISE_OK = 0,
	NOISE_EPATTERN = 1, /* unknown or unsupported protocol name */
	NOISE_ESTATE = 2,   /* call out of turn, or handshake finished */
	NOISE_ESHORT = 3,   /* message too short for its tokens */
	NOISE_ESPACE = 4,   /* output buffer too small or message > 65535 */
	NOISE_EDH = 5,      /* DH gave all zero (low-order point) */
	NOISE_EDECRYPT = 6, /* authentication tag did not verify */
	NOISE_ENONCE = 7,   /* nonce exhausted (2^64-1 reached) */
	NOISE_EKEY = 8,     /* a required key is missing */
	NOISE_ERANDOM = 9   /* no randomness */
};

struct noise_cipherstate {
	struct crypto_aead aead;
	enum noise_cipher cipher;
	uint64_t n;
	int has_key;
};

struct noise_symmetricstate {
	struct noise_cipherstate cs;
	uint8_t ck[NOISE_HASHLEN];
	uint8_t h[NOISE_HASHLEN];
};

struct noise_handshake {
	struct noise_symmetricstate ss;
	enum noise_pattern pattern;
	enum noise_role role;
	int msg;  /* index of the next message pattern; -1 once dead */
	int done; /* set when every message pattern is processed */
	uint8_t s[NOISE_DHLEN], s_pub[NOISE_DHLEN];
	uint8_t e[NOISE_DHLEN], e_pub[NOISE_DHLEN];
	uint8_t rs[NOISE_DHLEN], re[NOISE_DHLEN];
	uint8_t psk[NOISE_PSKLEN];
	int has_s, has_e, has_rs, has_re, has_psk;
};

/*
 * noise_protocol_parse(name, pattern, cipher):
 * Parse a full protocol name such as "Noise_XX_25519_AESGCM_SHA256".
 * Return 0, or -NOISE_EPATTERN for anything this module does not implement.
 */
int noise_protocol_parse(const char *name, enum noise_pattern *pattern,
    enum noise_cipher *cipher);

/* CipherState (section 5.1).  A struct may be copied by value. */

/*
 * noise_cs_init(cs, cipher, k):
 * InitializeKey(k) with n = 0; ${k} NULL leaves the state without a key.
 * The key is copied (into the AEAD's key schedule).
 */
void noise_cs_init(struct noise_cipherstate *cs, enum noise_cipher cipher,
    const uint8_t k[32]);

/*
 * noise_cs_fini(cs):
 * Wipe the key schedule and counter.
 */
void noise_cs_fini(struct noise_cipherstate *cs);
/*
 * noise_cs_encrypt(cs, ad, adlen, buf, len, tag):
 * EncryptWithAd in place; the 16-byte tag goes to ${tag}.  Without a key,
 * copies nothing and returns 0 with no tag written (callers use
 * cs->has_key).  Return 0 or -NOISE_ENONCE.
 */
int noise_cs_encrypt(struct noise_cipherstate *cs, const uint8_t *ad,
    size_t adlen, uint8_t *buf, size_t len, uint8_t tag[NOISE_TAGLEN]);
/*
 * noise_cs_decrypt(cs, ad, adlen, buf, len, tag):
 * DecryptWithAd in place.  Return 0, -NOISE_EDECRYPT (buffer wiped, nonce
 * not advanced) or -NOISE_ENONCE.
 */
int noise_cs_decrypt(struct noise_cipherstate *cs, const uint8_t *ad,
    size_t adlen, uint8_t *buf, size_t len, const uint8_t tag[NOISE_TAGLEN]);
/*
 * noise_cs_rekey(cs):
 * REKEY per section 11.3: k = ENCRYPT(k, maxnonce, zerolen, zeros)[0:32].
 */
void noise_cs_rekey(struct noise_cipherstate *cs);

/*
 * noise_handshake_init(hs, pattern, cipher, role, prologue, plen, s, rs, e):
 * Initialize with the optional local static private key ${s}, the remote
 * static public key ${rs} (IK initiator) and a fixed ephemeral private key
 * ${e} (test vectors only; NULL makes a random one when needed).  Keys are
 * copied.  Computing s.pub costs one X25519 operation: a state initialised
 * without ${e} that has processed no message may be copied by value as a
 * template for further handshakes with the same keys and prologue.
 * Return 0 or a negative noise_error.
 */
int noise_handshake_init(struct noise_handshake *hs,
    enum noise_pattern pattern, enum noise_cipher cipher, enum noise_role role,
    const uint8_t *prologue, size_t plen, const uint8_t *s, const uint8_t *rs,
    const uint8_t *e);

/*
 * noise_handshake_set_prologue(hs, prologue, plen):
 * Restart the symmetric state of ${hs}, which has processed no message,
 * with another prologue: InitializeSymmetric(protocol_name),
 * MixHash(prologue), then the pre-messages, keeping every key.  Costs two
 * hashes, no DH: a template copy can be given a per-connection prologue.
 * Return 0 or -NOISE_ESTATE.
 */
int noise_handshake_set_prologue(struct noise_handshake *hs,
    const uint8_t *prologue, size_t plen);

/*
 * noise_handshake_set_psk(hs, psk):
 * Give ${hs}, a psk pattern that has processed no message, its pre-shared
 * key ${psk} (copied; wiped by _fini).  A psk pattern without a key fails
 * at its psk token with -NOISE_EKEY.  Return 0, -NOISE_EPATTERN for a
 * pattern without psk modifier, or -NOISE_ESTATE.
 */
int noise_handshake_set_psk(struct noise_handshake *hs,
    const uint8_t psk[NOISE_PSKLEN]);

/*
 * noise_handshake_set_ephemeral(hs, e, e_pub):
 * Use the ephemeral key pair ${e}, ${e_pub} (copied; ${e_pub} must be
 * X25519(e, 9), made ahead of time) instead of making one when the "e"
 * token is written: no X25519 on the critical path for it.  Only before
 * ${hs} has an ephemeral.  Return 0 or -NOISE_ESTATE.
 */
int noise_handshake_set_ephemeral(struct noise_handshake *hs,
    const uint8_t e[NOISE_DHLEN], const uint8_t e_pub[NOISE_DHLEN]);

/*
 * noise_handshake_write(hs, payload, plen, out, cap, outlen):
 * WriteMessage: the next message with ${payload} into ${out} (at most
 * ${cap} bytes), its length in ${outlen}.  ${payload} must not overlap
 * ${out}.  On any error the handshake is unusable.  Return 0 or a negative
 * error.
 */
int noise_handshake_write(struct noise_handshake *hs, const uint8_t *payload,
    size_t plen, uint8_t *out, size_t cap, size_t *outlen);

/*
 * noise_handshake_read(hs, msg, len, payload, cap, plen):
 * ReadMessage: process ${msg}, write the payload to ${payload}, which may
 * overlap ${msg}.  The state changes only if the whole message verifies;
 * on any error the handshake is unusable.  Return 0 or a negative error.
 */
int noise_handshake_read(struct noise_handshake *hs, const uint8_t *msg,
    size_t len, uint8_t *payload, size_t cap, size_t *plen);

/*
 * noise_handshake_split(hs, tx, rx):
 * After the last message: Split() into the sending and receiving cipher
 * states for this role.  Return 0 or -NOISE_ESTATE.
 */
int noise_handshake_split(struct noise_handshake *hs,
    struct noise_cipherstate *tx, struct noise_cipherstate *rx);

/*
 * noise_handshake_fini(hs):
 * Wipe every key and the chaining key; the handshake is then unusable.
 */
void noise_handshake_fini(struct noise_handshake *hs);

#endif
