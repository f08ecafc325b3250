/*
 * crypto: thin wrappers over BearSSL (X25519, AEAD, SHA-256, HMAC, HKDF,
 * ECDSA P-256, the random generator), constant-time comparison and wiping.
 * Never Noise logic, never I/O beyond the system entropy source.
 */
#ifndef SALLYPORT_CRYPTO_H
#define SALLYPORT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

#define CRYPTO_HASH_LEN 32
#define CRYPTO_KEY_LEN 32
#define CRYPTO_TAG_LEN 16
#define CRYPTO_IV_LEN 12
#define CRYPTO_X25519_LEN 32
#define CRYPTO_P256_PRIV_LEN 32
#define CRYPTO_P256_PUB_LEN 65 /* uncompressed SEC1: 0x04 || X || Y */
#define CRYPTO_P256_SIG_LEN 64 /* raw r || s (IEEE P1363) */

/*
 * crypto_init(void):
 * Pick the fastest constant-time implementations this CPU offers and seed
 * the random generator from the system.  Return 0, or -1 if no entropy.
 * Safe to call more than once.
 */
int crypto_init(void);

/*
 * crypto_aes_impl(void):
 * Name the AES-GCM implementation in use ("x86ni+pclmul" or a portable one).
 */
const char *crypto_aes_impl(void);

/*
 * crypto_random(buf, len):
 * Fill ${buf} with ${len} random bytes.  Return 0, or -1 (fail closed).
 */
int crypto_random(void *buf, size_t len);

/*
 * wipe(p, n):
 * Zero ${n} bytes at ${p} in a way the compiler keeps (best effort).
 */
void wipe(void *p, size_t n);

/*
 * ct_eq(a, b, n):
 * Compare ${n} bytes in constant time; return 1 if equal, 0 if not.
 */
int ct_eq(const void *a, const void *b, size_t n);

/*
 * ct_is_zero(p, n):
 * Return 1 if all ${n} bytes at ${p} are zero, in constant time.
 */
int ct_is_zero(const void *p, size_t n);

/* X25519 (RFC 7748 byte strings). */

/*
 * crypto_x25519_keypair(priv, pub):
 * Make a random key pair.  Return 0 or -1.
 */
int crypto_x25519_keypair(uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN]);

/*
 * crypto_x25519_pub(pub, priv):
 * Compute the public key of ${priv}.  Return 0 or -1.
 */
int crypto_x25519_pub(uint8_t pub[CRYPTO_X25519_LEN],
    const uint8_t priv[CRYPTO_X25519_LEN]);

/*
 * crypto_x25519(out, priv, pub):
 * Diffie-Hellman of ${priv} and the peer's ${pub} into ${out}.  Return 0,
 * or -1 if the result is all zero (low-order peer point); ${out} is then
 * zeroed.
 */
int crypto_x25519(uint8_t out[CRYPTO_X25519_LEN],
    const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t pub[CRYPTO_X25519_LEN]);

/* SHA-256, HMAC-SHA256, HKDF-SHA256 (RFC 5869). */

/*
 * crypto_sha256(out, data, len):
 * Hash ${len} bytes at ${data}.
 */
void crypto_sha256(uint8_t out[CRYPTO_HASH_LEN], const void *data,
    size_t len);

/*
 * crypto_sha256_2(out, a, alen, b, blen):
 * Hash the concatenation of two buffers (Noise's MixHash).
 */
void crypto_sha256_2(uint8_t out[CRYPTO_HASH_LEN], const void *a, size_t alen,
    const void *b, size_t blen);

/*
 * crypto_hmac_sha256(out, key, keylen, data, len):
 * HMAC-SHA256 of ${data} under ${key}.
 */
void crypto_hmac_sha256(uint8_t out[CRYPTO_HASH_LEN], const void *key,
    size_t keylen, const void *data, size_t len);

/*
 * crypto_hkdf_sha256(out, outlen, salt, saltlen, ikm, ikmlen, info, infolen):
 * RFC 5869 HKDF with SHA-256 into ${out}.  Return 0, or -1 (nothing
 * written) if ${outlen} is over 255 * 32.
 */
int crypto_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt,
    size_t saltlen, const void *ikm, size_t ikmlen, const void *info,
    size_t infolen);

/* AEAD: AES-256-GCM and ChaCha20-Poly1305 with 96-bit nonces, in place. */

enum crypto_aead_alg { CRYPTO_AESGCM, CRYPTO_CHACHAPOLY };

/*
 * An initialised struct crypto_aead may be copied by value: seal and open
 * re-point its GCM context at the copy's own AES keys before each use.
 */
struct crypto_aead {
	enum crypto_aead_alg alg;
	union {
		br_aes_x86ni_ctr_keys ni;
		br_aes_ct64_ctr_keys ct64;
	} aes;
	br_gcm_context gcm;
	uint8_t key[CRYPTO_KEY_LEN];
};

/*
 * crypto_aead_init(a, alg, key, keylen):
 * Set up ${a} for ${alg} with a ${keylen}-byte key (32; AES-GCM also takes
 * 16 and 24 for test vectors).  Return 0, or -1 for a bad length.
 */
int crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
    const uint8_t *key, size_t keylen);

/*
 * crypto_aead_fini(a):
 * Wipe the key material in ${a}.
 */
void crypto_aead_fini(struct crypto_aead *a);

/*
 * crypto_aead_seal(a, iv, ad, adlen, buf, len, tag):
 * Encrypt ${len} bytes at ${buf} in place and write the 16-byte ${tag}.
 */
void crypto_aead_seal(struct crypto_aead *a, const uint8_t iv[CRYPTO_IV_LEN],
    const void *ad, size_t adlen, uint8_t *buf, size_t len,
    uint8_t tag[CRYPTO_TAG_LEN]);

/*
 * crypto_aead_open(a, iv, ad, adlen, buf, len, tag):
 * Check ${tag} and decrypt ${len} bytes at ${buf} in place.  Return 0, or
 * -1 if the tag is wrong; ${buf} is then wiped (never unauthenticated
 * plaintext).
 */
int crypto_aead_open(struct crypto_aead *a, const uint8_t iv[CRYPTO_IV_LEN],
    const void *ad, size_t adlen, uint8_t *buf, size_t len,
    const uint8_t tag[CRYPTO_TAG_LEN]);

/* ECDSA P-256 with SHA-256. */

/*
 * crypto_p256_keypair(priv, pub):
 * Make a random P-256 key pair.  Return 0 or -1.
 */
int crypto_p256_keypair(uint8_t priv[CRYPTO_P256_PRIV_LEN],
    uint8_t pub[CRYPTO_P256_PUB_LEN]);

/*
 * crypto_p256_pub(pub, priv):
 * Compute the uncompressed public key of ${priv}.  Return 0, or -1 if
 * ${priv} is not a valid scalar.
 */
int crypto_p256_pub(uint8_t pub[CRYPTO_P256_PUB_LEN],
    const uint8_t priv[CRYPTO_P256_PRIV_LEN]);

/*
 * crypto_p256_sign(sig, priv, msg, len):
 * Sign SHA-256(${msg}) deterministically (RFC 6979) into the raw ${sig}.
 * Return 0 or -1.
 */
int crypto_p256_sign(uint8_t sig[CRYPTO_P256_SIG_LEN],
    const uint8_t priv[CRYPTO_P256_PRIV_LEN], const void *msg, size_t len);

/*
 * crypto_p256_verify(pub, msg, len, sig, siglen):
 * Verify a raw (r || s, exactly 64 bytes) signature over SHA-256(${msg}).
 * Return 0 if it is valid, -1 otherwise.
 */
int crypto_p256_verify(const uint8_t *pub, size_t publen, const void *msg,
    size_t len, const uint8_t *sig, size_t siglen);

/*
 * crypto_p256_verify_der(pub, publen, msg, len, sig, siglen):
 * As crypto_p256_verify, for an ASN.1 DER signature; BER and other
 * non-canonical encodings are rejected.
 */
int crypto_p256_verify_der(const uint8_t *pub, size_t publen, const void *msg,
    size_t len, const uint8_t *sig, size_t siglen);

/*
 * crypto_p256_verifications():
 * How many P-256 verifications (the costly part of a handshake a stranger
 * can cause) this process has run, valid or not: the metric
 * sallyport_signature_verifications_total, and what tests count.
 */
uint64_t crypto_p256_verifications(void);

/*
 * A br_pem_decoder destination (crypto_pem_sink_append): up to ${cap}
 * bytes at ${buf}, ${len} of them used; a write that does not fit sets
 * ${overflow} and is dropped.
 */
struct crypto_pem_sink {
	uint8_t *buf;
	size_t cap, len;
	int overflow;
};

void crypto_pem_sink_append(void *ctx, const void *src, size_t len);

#define CRYPTO_PEM_DONE (-1)  /* the text and a final newline are in */
#define CRYPTO_PEM_STUCK (-2) /* nothing taken and no event: malformed */

/*
 * crypto_pem_next(pc, p, rem, fed_nl):
 * Push the text at *${p} (*${rem} bytes left; both advanced) into ${pc},
 * then one newline once it is used up (an END line needs one; *${fed_nl}
 * starts at 0).  Return the decoder's event (BR_PEM_BEGIN_OBJ,
 * BR_PEM_END_OBJ, BR_PEM_ERROR), 0 if none, CRYPTO_PEM_STUCK, or
 * CRYPTO_PEM_DONE at the end.
 */
int crypto_pem_next(br_pem_decoder_context *pc, const uint8_t **p,
    size_t *rem, int *fed_nl);

#endif
