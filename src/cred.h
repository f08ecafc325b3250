/*
 * cred: credentials (an authority's signed statement that an identity
 * holds some attributes for a while), their one binary layout and its PEM
 * armour, the block of credentials an identity payload carries, and the
 * revocation list.  Pure: bytes in, bytes out; no clock reads (callers
 * pass "now"); files only through file.c (cred_load, cred_save,
 * cred_revoked_load, cred_block_load).  Never decides access (acl.c
 * does).  Layout: docs/protocol.md, section "Credentials".
 */
#ifndef SALLYPORT_CRED_H
#define SALLYPORT_CRED_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define CRED_VERSION 1
#define CRED_CONTEXT "sallyport credential v1" /* signed first */
#define CRED_ID_LEN 32       /* raw identifiers: SHA-256 of a public key */
#define CRED_MAX_ATTRS 8     /* attributes per credential */
#define CRED_KEY_MAX 32      /* bytes of an attribute key */
#define CRED_VALUE_MAX 64    /* bytes of an attribute value */
#define CRED_FIXED 123       /* bytes before the attributes */
#define CRED_MIN_LEN (CRED_FIXED + CRYPTO_P256_SIG_LEN)
#define CRED_MAX_LEN 512     /* a whole credential, signature included */
#define CRED_MAX_BLOCK 4     /* credentials presented in one payload */
/* A block: count (1), then per credential a u16 length and its bytes. */
#define CRED_BLOCK_MAX (1 + CRED_MAX_BLOCK * (2 + CRED_MAX_LEN))
#define CRED_PEM_BANNER "SALLYPORT CREDENTIAL"
#define CRED_PEM_MAX 2048    /* largest credential file read */
#define CRED_SERIAL_TEXT 18  /* "S" + 16 hex digits + NUL */
#define CRED_SKEW_DEFAULT 30 /* seconds of clock skew tolerated */

struct cred_attr {
	char key[CRED_KEY_MAX + 1];
	char value[CRED_VALUE_MAX + 1];
};

struct cred {
	uint8_t subject[CRED_ID_LEN];
	uint8_t issuer_pub[CRYPTO_P256_PUB_LEN];
	uint8_t issuer[CRED_ID_LEN]; /* SHA-256(issuer_pub), derived */
	uint64_t serial;             /* not 0 */
	uint64_t not_before, not_after; /* seconds; not_before < not_after */
	size_t nattrs;
	struct cred_attr attrs[CRED_MAX_ATTRS]; /* keys strictly ascending */
};

/*
 * cred_key_is_valid(s), cred_value_is_valid(s):
 * An attribute key is 1 to CRED_KEY_MAX of [a-z0-9_-] starting with a
 * letter; a value 1 to CRED_VALUE_MAX of [A-Za-z0-9._:/-].
 */
int cred_key_is_valid(const char *s);
int cred_value_is_valid(const char *s);

/*
 * cred_sign(c, priv, out, cap, len):
 * Encode ${c} (its issuer fields are set from ${priv}, its attributes
 * sorted) and sign it with the authority key ${priv} into ${out} (${cap}
 * bytes); the size in ${len}.  Return 0, or -1 with a bad field (an
 * attribute out of the character set, duplicate keys, too many, a zero
 * serial, not_after <= not_before) or a too small ${out}.
 */
int cred_sign(struct cred *c, const uint8_t priv[CRYPTO_P256_PRIV_LEN],
    uint8_t *out, size_t cap, size_t *len);

/*
 * cred_claim(buf, len, subject, issuer, why):
 * The look at the credential of ${len} bytes at ${buf} that is taken
 * before anything is verified: its subject and its issuer's identifier,
 * from the fixed header alone (the attributes are decoded, by
 * cred_decode, only once the peer's identity is proven).  Return 0, or
 * -1 with a static message in ${why} (may be NULL) if ${len} is out of
 * bounds or the header is not of this version.
 */
int cred_claim(const uint8_t *buf, size_t len, uint8_t subject[CRED_ID_LEN],
    uint8_t issuer[CRED_ID_LEN], const char **why);

/*
 * cred_decode(c, buf, len, why):
 * Parse the credential of exactly ${len} bytes at ${buf} into ${c}
 * without checking its signature.  Return 0, or -1 with a static message
 * in ${why} (may be NULL).
 */
int cred_decode(struct cred *c, const uint8_t *buf, size_t len,
    const char **why);

/*
 * cred_verify_sig(buf, len):
 * Check the signature of the (decoded) credential at ${buf} with the
 * issuer key it carries, over CRED_CONTEXT and every byte before the
 * signature.  Return 0, or -1.
 */
int cred_verify_sig(const uint8_t *buf, size_t len);

/*
 * cred_cache_key(key, buf, len):
 * The key under which a verified credential is remembered: SHA-256 of a
 * context and the bytes, never equal to an attestation's cache key.
 */
void cred_cache_key(uint8_t key[CRYPTO_HASH_LEN], const uint8_t *buf,
    size_t len);

/*
 * cred_pem_encode(buf, len, out, cap):
 * Armour the ${len} bytes at ${buf} as PEM (CRED_PEM_BANNER) into the
 * text ${out} (NUL terminated).  Return its length, or 0 if ${cap} is too
 * small.
 */
size_t cred_pem_encode(const uint8_t *buf, size_t len, char *out,
    size_t cap);

/*
 * cred_pem_decode(text, tlen, out, cap, len, why):
 * Extract the one CRED_PEM_BANNER object of the text at ${text} into
 * ${out}; its size in ${len}.  Return 0, or -1 with a message in ${why}.
 */
int cred_pem_decode(const uint8_t *text, size_t tlen, uint8_t *out,
    size_t cap, size_t *len, const char **why);

/*
 * cred_block_next(block, len, off, cred, credlen):
 * Step through a credential block: start with *${off} = 0; each call
 * stores the next credential's bytes in ${cred}, ${credlen}.  Return 1,
 * 0 at the end, -1 if the block is malformed.
 */
int cred_block_next(const uint8_t *block, size_t len, size_t *off,
    const uint8_t **cred, size_t *credlen);

/*
 * cred_block_len(block, len, blen):
 * The size of the block that starts at ${block} (followed by other
 * bytes, ${len} in all) in ${blen}.  Return 0, or -1 if it is malformed
 * or cut short.
 */
int cred_block_len(const uint8_t *block, size_t len, size_t *blen);

/*
 * cred_block_check(block, len):
 * Return 0 if the ${len} bytes at ${block} are one well formed block
 * (count at most CRED_MAX_BLOCK, each length 1..CRED_MAX_LEN, nothing
 * after the last one), else -1.
 */
int cred_block_check(const uint8_t *block, size_t len);

/*
 * cred_block_add(block, cap, len, cred, credlen):
 * Append a credential to the block of *${len} bytes at ${block} (an
 * empty block is *${len} = 0).  Return 0, or -1 if full.
 */
int cred_block_add(uint8_t *block, size_t cap, size_t *len,
    const uint8_t *cred, size_t credlen);

/*
 * cred_serial_format(serial, buf), cred_serial_parse(s, serial):
 * The text form of a serial: "S" and 16 lowercase hex digits.  Parse
 * returns 0, or -1 (then ${serial} is untouched).
 */
char *cred_serial_format(uint64_t serial, char buf[CRED_SERIAL_TEXT]);
int cred_serial_parse(const char *s, uint64_t *serial);

struct cred_revoked;

/*
 * cred_load(path, out, cap, len, c, err, errlen):
 * Read the credential file ${path} (PEM; not secret, so no mode check),
 * store its bytes in ${out} (${cap} bytes; their size in ${len}) and
 * decode them into ${c}.  The signature is not checked here.  Return 0,
 * or -1 with "PATH: message" in ${err} and errno set (as open(2) or
 * read(2) left it, EINVAL for a bad content).
 */
int cred_load(const char *path, uint8_t *out, size_t cap, size_t *len,
    struct cred *c, char *err, size_t errlen);

/*
 * cred_save(path, buf, len, err, errlen):
 * Write the credential ${buf} as PEM to ${path}, replacing it at once
 * (a temporary file in the same directory, mode 0644, then rename(2)),
 * so a node that watches the file never reads half of it.  Return 0, or
 * -1 with a message in ${err}.
 */
int cred_save(const char *path, const uint8_t *buf, size_t len, char *err,
    size_t errlen);

/*
 * cred_block_load(paths, n, subject, block, cap, len, err, errlen):
 * Load the ${n} credential files ${paths} into one block (${block},
 * ${cap} bytes, its size in ${len}; 0 when ${n} is 0): each must decode,
 * carry a valid signature, name ${subject} (the node's own identifier)
 * and come from an issuer no other file names.  Return 0, or -1 with
 * "PATH: message" in ${err}.
 */
int cred_block_load(const char (*paths)[4096], size_t n,
    const uint8_t subject[CRED_ID_LEN], uint8_t *block, size_t cap,
    size_t *len, char *err, size_t errlen);

/*
 * cred_parse_duration(s, secs):
 * "90", "90s", "15m", "12h", "7d" into seconds (1 to 10 years).  Return
 * 0, or -1.
 */
int cred_parse_duration(const char *s, uint64_t *secs);

/*
 * cred_parse_time(s, now, t):
 * A point in time: seconds since the epoch, "now", "now+DURATION",
 * "now-DURATION" (relative to ${now}), or "YYYY-MM-DDTHH:MM:SSZ" (UTC).
 * Return 0, or -1.
 */
int cred_parse_time(const char *s, uint64_t now, uint64_t *t);

/*
 * cred_revoked_load(rv, path, err, errlen):
 * Read and parse the revocation list file ${path} (cred_revoked_parse).
 * Return 0, or -1 with "PATH:LINE: message" or "PATH: message".
 */
int cred_revoked_load(struct cred_revoked *rv, const char *path, char *err,
    size_t errlen);

/*
 * cred_revoked_load_with(rv, path, extra, extralen, err, errlen):
 * cred_revoked_load() of the file ${path} (NULL: none) followed by the
 * ${extralen} bytes of list at ${extra} (an authority's, fetched: its
 * entries count as the file's).
 */
int cred_revoked_load_with(struct cred_revoked *rv, const char *path,
    const char *extra, size_t extralen, char *err, size_t errlen);

/* A serial as one authority issued it ("ISSUER:SERIAL" entries). */
struct cred_revoked_issued {
	uint8_t issuer[CRED_ID_LEN];
	uint64_t serial;
};

/* The revocation list: identifiers and serials, sorted for lookups. */
struct cred_revoked {
	uint8_t (*ids)[CRED_ID_LEN];
	size_t nids;
	uint64_t *serials; /* "SERIAL": whoever issued it */
	size_t nserials;
	struct cred_revoked_issued *issued; /* "ISSUER:SERIAL" */
	size_t nissued;
};

#define CRED_REVOKED_MAX 100000 /* entries in one file */

/*
 * cred_revoked_parse(rv, text, len, err, errlen):
 * Parse a revocation list (one entry a line: an identifier, a serial of
 * any issuer, or ISSUER:SERIAL, the issuer's identifier and a serial it
 * issued; blank lines and lines starting with '#' ignored; blanks around
 * an entry allowed) into ${rv}.  Return 0, or -1 with "LINE: message" in
 * ${err} (${rv} then holds nothing).
 */
int cred_revoked_parse(struct cred_revoked *rv, const char *text,
    size_t len, char *err, size_t errlen);

/*
 * cred_revoked_free(rv):
 * Free what ${rv} holds (it is left empty); NULL does nothing.
 */
void cred_revoked_free(struct cred_revoked *rv);

/*
 * cred_revoked_has_id(rv, id), cred_revoked_has_serial(rv, issuer, serial):
 * Whether ${rv} (NULL: an empty list) names the identifier, or the serial
 * (alone, or with ${issuer}, its issuer's identifier).
 */
int cred_revoked_has_id(const struct cred_revoked *rv,
    const uint8_t id[CRED_ID_LEN]);
int cred_revoked_has_serial(const struct cred_revoked *rv,
    const uint8_t issuer[CRED_ID_LEN], uint64_t serial);

#endif
