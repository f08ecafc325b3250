/*
 * authtoken: the enrolment token line, its secret's hash and reference.
 * Pure: no files, no clock, no randomness.  The line format is described
 * in authtoken.h and docs/credentials.md ("Enrolment").
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "authtoken.h"
#include "crypto.h"
#include "identity.h"

/*
 * The project has no base64 helper of its own (PEM goes through BearSSL's
 * br_pem_*, which knows only the padded standard alphabet), so the
 * base64url codec of the secret lives here.  It is constant time (no
 * table indexed by secret bytes, no branch on them), as wireguard-tools
 * decodes its keys.
 */

/* The base64url character of the 6-bit value ${v}, without branches. */
static char
b64url_char(int v)
{
	int c = v + 'A';

	c += ((25 - v) >> 8) & 6;   /* 26..51: 'a'.. */
	c -= ((51 - v) >> 8) & 75;  /* 52..61: '0'.. */
	c -= ((61 - v) >> 8) & 13;  /* 62: '-' */
	c += ((62 - v) >> 8) & 49;  /* 63: '_' */
	return ((char)c);
}

/* The 6-bit value of the base64url character ${c}, or -1, without branches. */
static int
b64url_value(int c)
{
	int v = -1;

	v += (((64 - c) & (c - 91)) >> 8) & (c - 64);  /* A-Z */
	v += (((96 - c) & (c - 123)) >> 8) & (c - 70); /* a-z */
	v += (((47 - c) & (c - 58)) >> 8) & (c + 5);   /* 0-9 */
	v += (((44 - c) & (c - 46)) >> 8) & 63;        /* '-' */
	v += (((94 - c) & (c - 96)) >> 8) & 64;        /* '_' */
	return (v);
}

/* Encode the secret into AUTHTOKEN_SECRET_TEXT characters at ${out}. */
static void
secret_encode(const uint8_t in[AUTHTOKEN_SECRET_LEN], char *out)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	for (i = 0; i < AUTHTOKEN_SECRET_LEN; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = b64url_char((int)((acc >> bits) & 63));
		}
	}
	/* 256 bits: 42 full characters and 4 bits, padded with zero bits. */
	out[o++] = b64url_char((int)((acc << (6 - bits)) & 63));
	acc = 0;
}

/*
 * Decode AUTHTOKEN_SECRET_TEXT characters at ${in} into ${out}.  Return 0,
 * or -1 if a character is outside the alphabet or the unused low bits of
 * the last one are not zero (one text per secret).
 */
static int
secret_decode(const char *in, uint8_t out[AUTHTOKEN_SECRET_LEN])
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0, v, bad = 0;

	for (i = 0; i < AUTHTOKEN_SECRET_TEXT; i++) {
		v = b64url_value((unsigned char)in[i]);
		bad |= v;               /* negative if any was -1 */
		acc = (acc << 6) | (uint32_t)(v & 63);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	bad |= -(int)(acc & ((1u << bits) - 1)); /* the 2 spare bits */
	acc = 0;
	return (bad < 0 ? -1 : 0);
}

/*
 * authtoken_name_is_valid(s):
 * Whether ${s} is an authority name: 1 to AUTHTOKEN_NAME_MAX of
 * [a-z0-9_-].
 */
int
authtoken_name_is_valid(const char *s)
{
	size_t n = strlen(s);

	return (n >= 1 && n <= AUTHTOKEN_NAME_MAX &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n);
}

/* Whether the ${n} bytes at ${s} are a port number 1 to 65535 (no 0 first). */
static int
port_is_valid(const char *s, size_t n)
{
	unsigned long p = 0;
	size_t i;

	if (n < 1 || n > 5 || s[0] == '0')
		return (0);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (0);
		p = p * 10 + (unsigned long)(s[i] - '0');
	}
	return (p >= 1 && p <= 65535);
}

/*
 * authtoken_addr_is_valid(s):
 * Whether ${s} is an address a token may carry: "host:port", the host a
 * name or IPv4 address ([A-Za-z0-9._-]) or an IPv6 address in brackets,
 * the port 1 to 65535, at most AUTHTOKEN_ADDR_MAX bytes.
 */
int
authtoken_addr_is_valid(const char *s)
{
	static const char name[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
	const char *colon;
	size_t n = strlen(s), h;

	if (n > AUTHTOKEN_ADDR_MAX || (colon = strrchr(s, ':')) == NULL)
		return (0);
	h = (size_t)(colon - s);
	if (!port_is_valid(colon + 1, n - h - 1) || h == 0)
		return (0);
	if (s[0] == '[')
		return (h > 2 && s[h - 1] == ']' &&
		    strspn(s + 1, "0123456789abcdefABCDEF:.") == h - 2);
	return (strspn(s, name) == h);
}

/*
 * authtoken_format(t, out, cap):
 * Format ${t} into ${out} (NUL-terminated line, no newline).  Return its
 * length, or 0 if ${cap} is too small or a field is bad.
 */
size_t
authtoken_format(const struct authtoken *t, char *out, size_t cap)
{
	char line[AUTHTOKEN_LINE_MAX + 1], id[IDENTITY_TEXT_SIZE];
	size_t i, n, len = 0;

	if (memchr(t->name, '\0', sizeof(t->name)) == NULL ||
	    !authtoken_name_is_valid(t->name) || t->naddrs < 1 ||
	    t->naddrs > AUTHTOKEN_MAX_ADDRS)
		return (0);
	for (i = 0; i < t->naddrs; i++)
		if (memchr(t->addrs[i], '\0', sizeof(t->addrs[i])) == NULL ||
		    !authtoken_addr_is_valid(t->addrs[i]))
			return (0);
	/* Prefix, name, identifier: fixed sizes well under the limit. */
	len = (size_t)snprintf(line, sizeof(line), "%s%s:%s:", AUTHTOKEN_PREFIX,
	    t->name, identity_id_format(t->authority, id));
	for (i = 0; i < t->naddrs; i++) {
		n = strlen(t->addrs[i]);
		if (len + n + 1 > AUTHTOKEN_LINE_MAX)
			return (0);
		memcpy(line + len, t->addrs[i], n);
		len += n;
		line[len++] = i + 1 < t->naddrs ? ',' : ':';
	}
	if (len + AUTHTOKEN_SECRET_TEXT > AUTHTOKEN_LINE_MAX ||
	    len + AUTHTOKEN_SECRET_TEXT >= cap) {
		len = 0;
		goto out;
	}
	secret_encode(t->secret, line + len);
	len += AUTHTOKEN_SECRET_TEXT;
	memcpy(out, line, len);
	out[len] = '\0';
out:
	wipe(line, sizeof(line));
	return (len);
}

/*
 * authtoken_parse(line, len, t, why):
 * Parse the ${len} bytes at ${line} (one line; a trailing newline and
 * surrounding blanks allowed) into ${t}.  Return 0, or -1 with a static
 * message in ${why} (may be NULL); ${t} is then wiped.
 */
int
authtoken_parse(const char *line, size_t len, struct authtoken *t,
    const char **why)
{
	static const size_t plen = sizeof(AUTHTOKEN_PREFIX) - 1;
	char id[IDENTITY_TEXT_SIZE];
	const char *p, *end, *f, *secret, *msg;
	size_t n;

	memset(t, 0, sizeof(*t));
	/* Blanks around, one newline at the end. */
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
	    line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	while (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
		line++;
		len--;
	}
	msg = "longer than 1024 bytes";
	if (len > AUTHTOKEN_LINE_MAX)
		goto fail;
	/* Text only: a NUL would end a field early (found by fuzzing). */
	msg = "a NUL byte in the line";
	if (memchr(line, '\0', len) != NULL)
		goto fail;
	msg = "not a token (expected sallyport-token-1:...)";
	if (len < plen || memcmp(line, AUTHTOKEN_PREFIX, plen) != 0)
		goto fail;
	p = line + plen;
	end = line + len;

	/* NAME: */
	msg = "bad authority name (1 to 31 of a-z 0-9 _ -)";
	if ((f = memchr(p, ':', (size_t)(end - p))) == NULL ||
	    (n = (size_t)(f - p)) == 0 || n > AUTHTOKEN_NAME_MAX)
		goto fail;
	memcpy(t->name, p, n);
	if (!authtoken_name_is_valid(t->name))
		goto fail;
	p = f + 1;

	/* AUTHORITY_ID: */
	msg = "bad authority identifier (expected I and 64 hex digits)";
	if ((size_t)(end - p) < IDENTITY_TEXT_LEN + 1 ||
	    p[IDENTITY_TEXT_LEN] != ':')
		goto fail;
	memcpy(id, p, IDENTITY_TEXT_LEN);
	id[IDENTITY_TEXT_LEN] = '\0';
	if (identity_id_parse(id, t->authority) == -1)
		goto fail;
	p += IDENTITY_TEXT_LEN + 1;

	/* ADDR,...:SECRET: the secret follows the last ':' */
	msg = "bad secret (expected 43 base64url characters)";
	if ((size_t)(end - p) < AUTHTOKEN_SECRET_TEXT + 1)
		goto fail;
	secret = end - AUTHTOKEN_SECRET_TEXT;
	if (secret[-1] != ':' || secret_decode(secret, t->secret) == -1)
		goto fail;
	end = secret - 1;
	while (p < end) {
		msg = "more than 8 addresses";
		if (t->naddrs == AUTHTOKEN_MAX_ADDRS)
			goto fail;
		if ((f = memchr(p, ',', (size_t)(end - p))) == NULL)
			f = end;
		n = (size_t)(f - p);
		msg = "bad address (expected host:port, at most 8, "
		    "comma-separated)";
		if (n == 0 || n > AUTHTOKEN_ADDR_MAX ||
		    memchr(p, '\0', n) != NULL)
			goto fail;
		memcpy(t->addrs[t->naddrs], p, n);
		t->addrs[t->naddrs][n] = '\0';
		if (!authtoken_addr_is_valid(t->addrs[t->naddrs]))
			goto fail;
		t->naddrs++;
		p = f + 1;
		if (f < end && p == end)
			goto fail; /* a trailing comma */
	}
	msg = "no address";
	if (t->naddrs == 0)
		goto fail;
	return (0);
fail:
	wipe(t, sizeof(*t));
	if (why != NULL)
		*why = msg;
	return (-1);
}

/*
 * authtoken_hash(secret, hash):
 * The SHA-256 of ${secret} that the store keeps instead of the secret.
 */
void
authtoken_hash(const uint8_t secret[AUTHTOKEN_SECRET_LEN],
    uint8_t hash[CRYPTO_HASH_LEN])
{

	crypto_sha256(hash, secret, AUTHTOKEN_SECRET_LEN);
}

/* RFC 4648's base32 alphabet, lowercase: references are not secret. */
static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/*
 * authtoken_ref(hash, ref):
 * The short non-secret reference for logs, derived from the hash (never
 * from the secret): "T" and 11 lowercase base32 characters (RFC 4648
 * alphabet) of the first 55 bits of ${hash}.
 */
void
authtoken_ref(const uint8_t hash[CRYPTO_HASH_LEN],
    char ref[AUTHTOKEN_REF_TEXT])
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 7; i++)
		v = (v << 8) | hash[i];
	ref[0] = 'T';
	for (i = 0; i < 11; i++)
		ref[1 + i] = b32[(v >> (51 - 5 * i)) & 31];
	ref[12] = '\0';
}

/*
 * authtoken_ref_is_valid(s):
 * Whether ${s} has the form of a reference authtoken_ref() makes.
 */
int
authtoken_ref_is_valid(const char *s)
{

	return (s[0] == 'T' && strlen(s) == AUTHTOKEN_REF_TEXT - 1 &&
	    strspn(s + 1, b32) == AUTHTOKEN_REF_TEXT - 2);
}
