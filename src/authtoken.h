/*
 * authtoken: the enrolment token line, the one line of printable ASCII
 * that a new node needs to join an authority and nothing else:
 *
 *     sallyport-token-1:NAME:AUTHORITY_ID:ADDR[,ADDR...]:SECRET
 *
 * NAME is the [authority NAME] name ([a-z0-9_-], 1 to 31), AUTHORITY_ID
 * the authority key's identifier in its text form ("I" + 64 hex digits),
 * each ADDR a host:port of the authority node (1 to AUTHTOKEN_MAX_ADDRS),
 * SECRET 32 bytes in base64url without padding (43 characters).  Also the
 * SHA-256 that the store keeps instead of the secret, and the short
 * non-secret reference logs name a token by.
 *
 * Pure: bytes in, bytes out; no files, no clock, no randomness (the caller
 * passes the secret).  Never logs.  Callers wipe a struct authtoken with
 * crypto's wipe() once done: it holds the secret.
 */
#ifndef SALLYPORT_AUTHTOKEN_H
#define SALLYPORT_AUTHTOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "cred.h"
#include "crypto.h"

#define AUTHTOKEN_PREFIX "sallyport-token-1:"
#define AUTHTOKEN_SECRET_LEN 32
#define AUTHTOKEN_SECRET_TEXT 43 /* base64url characters, no padding */
#define AUTHTOKEN_MAX_ADDRS 8
#define AUTHTOKEN_ADDR_MAX 255   /* bytes of one "host:port" */
#define AUTHTOKEN_NAME_MAX 31    /* bytes of the authority's name */
#define AUTHTOKEN_LINE_MAX 1024
/* "T" + 11 chars + NUL: a short non-secret reference */
#define AUTHTOKEN_REF_TEXT 13

struct authtoken {
	char name[32];
	uint8_t authority[CRED_ID_LEN];       /* raw identifier */
	size_t naddrs;
	char addrs[AUTHTOKEN_MAX_ADDRS][256]; /* "host:port" text as written */
	uint8_t secret[AUTHTOKEN_SECRET_LEN];
};

/*
 * authtoken_name_is_valid(s):
 * Whether ${s} is an authority name: 1 to AUTHTOKEN_NAME_MAX of
 * [a-z0-9_-].
 */
int authtoken_name_is_valid(const char *s);

/*
 * authtoken_addr_is_valid(s):
 * Whether ${s} is an address a token may carry: "host:port", the host a
 * name or IPv4 address ([A-Za-z0-9._-]) or an IPv6 address in brackets,
 * the port 1 to 65535, at most AUTHTOKEN_ADDR_MAX bytes.
 */
int authtoken_addr_is_valid(const char *s);

/*
 * authtoken_format(t, out, cap):
 * Format ${t} into ${out} (NUL-terminated line, no newline).  Return its
 * length, or 0 if ${cap} is too small or a field is bad.
 */
size_t authtoken_format(const struct authtoken *t, char *out, size_t cap);

/*
 * authtoken_parse(line, len, t, why):
 * Parse the ${len} bytes at ${line} (one line; a trailing newline and
 * surrounding blanks allowed) into ${t}.  Return 0, or -1 with a static
 * message in ${why} (may be NULL); ${t} is then wiped.
 */
int authtoken_parse(const char *line, size_t len, struct authtoken *t,
    const char **why);

/*
 * authtoken_hash(secret, hash):
 * The SHA-256 of ${secret} that the store keeps instead of the secret.
 */
void authtoken_hash(const uint8_t secret[AUTHTOKEN_SECRET_LEN],
    uint8_t hash[CRYPTO_HASH_LEN]);

/*
 * authtoken_ref(hash, ref):
 * The short non-secret reference for logs, derived from the hash (never
 * from the secret): "T" and 11 lowercase base32 characters (RFC 4648
 * alphabet) of the first 55 bits of ${hash}.
 */
void authtoken_ref(const uint8_t hash[CRYPTO_HASH_LEN],
    char ref[AUTHTOKEN_REF_TEXT]);

/*
 * authtoken_ref_is_valid(s):
 * Whether ${s} has the form of a reference authtoken_ref() makes.
 */
int authtoken_ref_is_valid(const char *s);

#endif /* !SALLYPORT_AUTHTOKEN_H */
