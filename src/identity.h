/*
 * identity: ECDSA P-256 identity keys and the identifier rule.  Reads and
 * writes PEM key files (PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY",
 * SubjectPublicKeyInfo "PUBLIC KEY"), refuses private key files others
 * could read, formats and parses identifiers.  Never logs key bytes.
 *
 * Identifier: "I" followed by the 64 lowercase hex digits of
 * SHA-256(0x04 || X || Y), the 65-byte uncompressed SEC1 public key.
 */
#ifndef SALLYPORT_IDENTITY_H
#define SALLYPORT_IDENTITY_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

#define IDENTITY_ID_LEN 32    /* raw identifier: SHA-256 of the public key */
#define IDENTITY_TEXT_LEN 65  /* "I" + 64 hex digits, without the NUL */
#define IDENTITY_TEXT_SIZE 66 /* buffer size for the text with its NUL */
#define IDENTITY_FILE_MAX 16384 /* largest key file read */

/* Flags for identity_load(). */
#define IDENTITY_PUBLIC_OK 0x1 /* a public key file is accepted too */

struct identity {
	uint8_t priv[CRYPTO_P256_PRIV_LEN]; /* secret scalar (has_priv) */
	uint8_t pub[CRYPTO_P256_PUB_LEN];   /* 0x04 || X || Y */
	uint8_t id[IDENTITY_ID_LEN];        /* SHA-256(pub) */
	int has_priv;                       /* 0: public key only */
};

/*
 * identity_generate(idn):
 * Make a new random key pair into ${idn} (crypto_init() must have run).
 * Return 0, or -1 if the random generator failed.
 */
int identity_generate(struct identity *idn);

/*
 * identity_from_priv(idn, priv):
 * Fill ${idn} from the raw 32-byte scalar ${priv} (copied).  Return 0, or
 * -1 if ${priv} is zero or not below the curve order.
 */
int identity_from_priv(struct identity *idn,
    const uint8_t priv[CRYPTO_P256_PRIV_LEN]);

/*
 * identity_from_pub(idn, pub, len):
 * Fill ${idn} (no private key) from the uncompressed public key ${pub} of
 * ${len} bytes.  Return 0, or -1 if it is not a point on P-256.
 */
int identity_from_pub(struct identity *idn, const uint8_t *pub, size_t len);

/*
 * identity_parse_pem(idn, buf, len, flags, err, errlen):
 * Parse the PEM text of ${len} bytes at ${buf} (borrowed, no NUL needed):
 * one "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC1) object, an
 * "EC PARAMETERS" object being ignored; with IDENTITY_PUBLIC_OK in
 * ${flags} a "PUBLIC KEY" object is accepted instead.  Only P-256 keys are
 * accepted.  Return 0, or -1 with a message in ${err} (${idn} is then
 * wiped).  Temporary copies of key bytes are wiped.
 */
int identity_parse_pem(struct identity *idn, const uint8_t *buf, size_t len,
    int flags, char *err, size_t errlen);

/*
 * identity_load(idn, path, flags, err, errlen):
 * Read the key file ${path} (symbolic links are followed; the mode and
 * owner checked are those of the file opened) and parse it as
 * identity_parse_pem() does.  A file holding a private key must be a
 * regular file owned by the effective user with no group or other
 * permissions (0600 or stricter), or owned by root with at most group read
 * (0640 or stricter); otherwise it is refused with a message saying how to
 * fix it.  Return 0, or -1 with "PATH: message" in ${err} and errno set:
 * as left by open(2) or read(2) when the file cannot be read, EPERM when
 * its owner or mode is unsafe, EINVAL when its content is not a usable
 * key.
 */
int identity_load(struct identity *idn, const char *path, int flags,
    char *err, size_t errlen);

/*
 * identity_load_for(idn, path, flags, user, err, errlen):
 * identity_load(), where a private key may also be owned by ${user} (the
 * [node] user a node started as root switches to; (uid_t)-1: none), with
 * the same mode as one of the effective user (0600 or stricter).
 */
int identity_load_for(struct identity *idn, const char *path, int flags,
    uid_t user, char *err, size_t errlen);

/*
 * identity_save(idn, path, err, errlen):
 * Write the private key of ${idn} to a new file ${path} as PKCS#8 PEM,
 * created with mode 0600 (O_CREAT | O_EXCL: an existing file or symbolic
 * link is never overwritten).  Return 0, or -1 with a message in ${err}
 * and errno set (EEXIST if ${path} exists); a partly written file is
 * removed.
 */
int identity_save(const struct identity *idn, const char *path, char *err,
    size_t errlen);

/*
 * identity_fini(idn):
 * Wipe ${idn}, private key included.
 */
void identity_fini(struct identity *idn);

/*
 * identity_id_from_pub(id, pub):
 * Derive the raw identifier of the uncompressed public key ${pub}.
 */
void identity_id_from_pub(uint8_t id[IDENTITY_ID_LEN],
    const uint8_t pub[CRYPTO_P256_PUB_LEN]);

/*
 * identity_id_format(id, buf):
 * Write the text form of ${id} ("I" + 64 lowercase hex digits, NUL
 * terminated) into ${buf}; return ${buf}.
 */
char *identity_id_format(const uint8_t id[IDENTITY_ID_LEN],
    char buf[IDENTITY_TEXT_SIZE]);

/*
 * identity_id_parse(s, id):
 * Parse the text form of an identifier: exactly "I" and 64 lowercase hex
 * digits, nothing before or after.  Return 0, or -1 (${id} untouched).
 */
int identity_id_parse(const char *s, uint8_t id[IDENTITY_ID_LEN]);

#endif
