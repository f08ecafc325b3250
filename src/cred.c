/*
 * cred: see cred.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "cred.h"
#include "file.h"
#include "identity.h"

/* Offsets of the fixed part (docs/protocol.md, "Credentials"). */
#define CR_VERSION 0
#define CR_SUBJECT 1
#define CR_ISSUER (CR_SUBJECT + CRED_ID_LEN)
#define CR_SERIAL (CR_ISSUER + CRYPTO_P256_PUB_LEN)
#define CR_NBF (CR_SERIAL + 8)
#define CR_NAF (CR_NBF + 8)
#define CR_NATTRS (CR_NAF + 8)

#define CTX_LEN (sizeof(CRED_CONTEXT) - 1)
#define CACHE_CTX "sallyport credential cache v1"

/* Whether the ${n} bytes at ${s} are an attribute key. */
static int
key_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CRED_KEY_MAX || s[0] < 'a' || s[0] > 'z')
		return (0);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return (0);
	return (1);
}

/* Whether the ${n} bytes at ${s} are an attribute value. */
static int
value_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CRED_VALUE_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == ':' || s[i] == '/' ||
		    s[i] == '-'))
			return (0);
	return (1);
}

/*
 * cred_key_is_valid(s), cred_value_is_valid(s):
 * An attribute key is 1 to CRED_KEY_MAX of [a-z0-9_-] starting with a
 * letter; a value 1 to CRED_VALUE_MAX of [A-Za-z0-9._:/-].
 */
int
cred_key_is_valid(const char *s)
{

	return (key_ok(s, strlen(s)));
}

int
cred_value_is_valid(const char *s)
{

	return (value_ok(s, strlen(s)));
}

/* Order attributes by key (bytes). */
static int
attr_cmp(const void *a, const void *b)
{

	return (strcmp(((const struct cred_attr *)a)->key,
	    ((const struct cred_attr *)b)->key));
}

/*
 * cred_sign(c, priv, out, cap, len):
 * Encode ${c} (its issuer fields are set from ${priv}, its attributes
 * sorted) and sign it with the authority key ${priv} into ${out} (${cap}
 * bytes); the size in ${len}.  Return 0, or -1 with a bad field (an
 * attribute out of the character set, duplicate keys, too many, a zero
 * serial, not_after <= not_before) or a too small ${out}.
 */
int
cred_sign(struct cred *c, const uint8_t priv[CRYPTO_P256_PRIV_LEN],
    uint8_t *out, size_t cap, size_t *len)
{
	uint8_t m[CTX_LEN + CRED_MAX_LEN];
	size_t i, n, kl, vl;

	if (c->nattrs > CRED_MAX_ATTRS || c->serial == 0 ||
	    c->not_after <= c->not_before)
		return (-1);
	qsort(c->attrs, c->nattrs, sizeof(c->attrs[0]), attr_cmp);
	for (i = 0; i < c->nattrs; i++)
		if (!cred_key_is_valid(c->attrs[i].key) ||
		    !cred_value_is_valid(c->attrs[i].value) ||
		    (i > 0 && strcmp(c->attrs[i - 1].key, c->attrs[i].key) ==
		    0))
			return (-1);
	if (crypto_p256_pub(c->issuer_pub, priv) == -1)
		return (-1);
	crypto_sha256(c->issuer, c->issuer_pub, CRYPTO_P256_PUB_LEN);

	/* The body, after the context, in m. */
	memcpy(m, CRED_CONTEXT, CTX_LEN);
	n = CTX_LEN;
	m[n + CR_VERSION] = CRED_VERSION;
	memcpy(m + n + CR_SUBJECT, c->subject, CRED_ID_LEN);
	memcpy(m + n + CR_ISSUER, c->issuer_pub, CRYPTO_P256_PUB_LEN);
	frame_put_u64(m + n + CR_SERIAL, c->serial);
	frame_put_u64(m + n + CR_NBF, c->not_before);
	frame_put_u64(m + n + CR_NAF, c->not_after);
	m[n + CR_NATTRS] = (uint8_t)c->nattrs;
	n += CRED_FIXED;
	for (i = 0; i < c->nattrs; i++) {
		kl = strlen(c->attrs[i].key);
		vl = strlen(c->attrs[i].value);
		if (n + 2 + kl + vl + CRYPTO_P256_SIG_LEN > CTX_LEN +
		    CRED_MAX_LEN)
			return (-1);
		m[n++] = (uint8_t)kl;
		memcpy(m + n, c->attrs[i].key, kl);
		n += kl;
		m[n++] = (uint8_t)vl;
		memcpy(m + n, c->attrs[i].value, vl);
		n += vl;
	}
	if (n - CTX_LEN + CRYPTO_P256_SIG_LEN > cap)
		return (-1);
	memcpy(out, m + CTX_LEN, n - CTX_LEN);
	if (crypto_p256_sign(out + n - CTX_LEN, priv, m, n) == -1)
		return (-1);
	*len = n - CTX_LEN + CRYPTO_P256_SIG_LEN;
	return (0);
}

/* Fail a decode with ${msg}. */
static int
bad(const char **why, const char *msg)
{

	if (why != NULL)
		*why = msg;
	return (-1);
}

/*
 * cred_claim(buf, len, subject, issuer, why):
 * The subject and the issuer's identifier, from the header only (the
 * first checks of cred_decode, which builds on it).
 */
int
cred_claim(const uint8_t *buf, size_t len, uint8_t subject[CRED_ID_LEN],
    uint8_t issuer[CRED_ID_LEN], const char **why)
{

	if (len < CRED_MIN_LEN)
		return (bad(why, "too short"));
	if (len > CRED_MAX_LEN)
		return (bad(why, "too long"));
	if (buf[CR_VERSION] != CRED_VERSION)
		return (bad(why, "unknown version"));
	if (buf[CR_ISSUER] != 0x04)
		return (bad(why, "issuer key not an uncompressed point"));
	memcpy(subject, buf + CR_SUBJECT, CRED_ID_LEN);
	crypto_sha256(issuer, buf + CR_ISSUER, CRYPTO_P256_PUB_LEN);
	return (0);
}

/*
 * cred_decode(c, buf, len, why):
 * Parse the credential of exactly ${len} bytes at ${buf} into ${c}
 * without checking its signature.  Return 0, or -1 with a static message
 * in ${why} (may be NULL).
 */
int
cred_decode(struct cred *c, const uint8_t *buf, size_t len, const char **why)
{
	size_t off, end, i, kl, vl;
	struct cred_attr *a;

	memset(c, 0, sizeof(*c));
	if (cred_claim(buf, len, c->subject, c->issuer, why) == -1)
		return (-1);
	memcpy(c->issuer_pub, buf + CR_ISSUER, CRYPTO_P256_PUB_LEN);
	if ((c->serial = frame_get_u64(buf + CR_SERIAL)) == 0)
		return (bad(why, "serial is zero"));
	c->not_before = frame_get_u64(buf + CR_NBF);
	c->not_after = frame_get_u64(buf + CR_NAF);
	if (c->not_after <= c->not_before)
		return (bad(why, "not-after is not after not-before"));
	if ((c->nattrs = buf[CR_NATTRS]) > CRED_MAX_ATTRS)
		return (bad(why, "too many attributes"));

	/* The attributes: bounded reads, each key above the previous. */
	end = len - CRYPTO_P256_SIG_LEN;
	off = CRED_FIXED;
	for (i = 0; i < c->nattrs; i++) {
		a = &c->attrs[i];
		if (off >= end)
			return (bad(why, "attribute cut short"));
		kl = buf[off++];
		if (kl > end - off)
			return (bad(why, "attribute key cut short"));
		if (!key_ok((const char *)buf + off, kl))
			return (bad(why, "bad attribute key"));
		memcpy(a->key, buf + off, kl);
		a->key[kl] = '\0';
		off += kl;
		if (off >= end)
			return (bad(why, "attribute value missing"));
		vl = buf[off++];
		if (vl > end - off)
			return (bad(why, "attribute value cut short"));
		if (!value_ok((const char *)buf + off, vl))
			return (bad(why, "bad attribute value"));
		memcpy(a->value, buf + off, vl);
		a->value[vl] = '\0';
		off += vl;
		if (i > 0 && strcmp(c->attrs[i - 1].key, a->key) >= 0)
			return (bad(why, "attributes not in strictly "
			    "ascending key order"));
	}
	if (off != end)
		return (bad(why, "bytes after the attributes"));
	return (0);
}

/*
 * cred_verify_sig(buf, len):
 * Check the signature of the (decoded) credential at ${buf} with the
 * issuer key it carries, over CRED_CONTEXT and every byte before the
 * signature.  Return 0, or -1.
 */
int
cred_verify_sig(const uint8_t *buf, size_t len)
{
	uint8_t m[CTX_LEN + CRED_MAX_LEN];
	size_t n;

	if (len < CRED_MIN_LEN || len > CRED_MAX_LEN)
		return (-1);
	n = len - CRYPTO_P256_SIG_LEN;
	memcpy(m, CRED_CONTEXT, CTX_LEN);
	memcpy(m + CTX_LEN, buf, n);
	return (crypto_p256_verify(buf + CR_ISSUER, CRYPTO_P256_PUB_LEN, m,
	    CTX_LEN + n, buf + n, CRYPTO_P256_SIG_LEN));
}

/*
 * cred_cache_key(key, buf, len):
 * The key under which a verified credential is remembered: SHA-256 of a
 * context and the bytes, never equal to an attestation's cache key.
 */
void
cred_cache_key(uint8_t key[CRYPTO_HASH_LEN], const uint8_t *buf, size_t len)
{

	crypto_sha256_2(key, CACHE_CTX, sizeof(CACHE_CTX) - 1, buf, len);
}

/*
 * cred_pem_encode(buf, len, out, cap):
 * Armour the ${len} bytes at ${buf} as PEM (CRED_PEM_BANNER) into the
 * text ${out} (NUL terminated).  Return its length, or 0 if ${cap} is too
 * small.
 */
size_t
cred_pem_encode(const uint8_t *buf, size_t len, char *out, size_t cap)
{
	size_t n;

	n = br_pem_encode(NULL, buf, len, CRED_PEM_BANNER, BR_PEM_LINE64);
	if (n + 1 > cap)
		return (0);
	return (br_pem_encode(out, buf, len, CRED_PEM_BANNER, BR_PEM_LINE64));
}

/*
 * cred_pem_decode(text, tlen, out, cap, len, why):
 * Extract the one CRED_PEM_BANNER object of the text at ${text} into
 * ${out}; its size in ${len}.  Return 0, or -1 with a message in ${why}.
 */
int
cred_pem_decode(const uint8_t *text, size_t tlen, uint8_t *out, size_t cap,
    size_t *len, const char **why)
{
	br_pem_decoder_context pc;
	struct crypto_pem_sink s = {out, cap, 0, 0};
	const uint8_t *p = text;
	size_t rem = tlen;
	int inobj = 0, nobj = 0, fed_nl = 0, ev;

	br_pem_decoder_init(&pc);
	while ((ev = crypto_pem_next(&pc, &p, &rem, &fed_nl)) !=
	    CRYPTO_PEM_DONE) {
		switch (ev) {
		case BR_PEM_BEGIN_OBJ:
			if (strcmp(br_pem_decoder_name(&pc),
			    CRED_PEM_BANNER) != 0)
				return (bad(why, "not a SALLYPORT CREDENTIAL "
				    "PEM object"));
			if (nobj++ > 0)
				return (bad(why, "more than one credential"));
			inobj = 1;
			br_pem_decoder_setdest(&pc, crypto_pem_sink_append,
			    &s);
			break;
		case BR_PEM_END_OBJ:
			inobj = 0;
			break;
		case BR_PEM_ERROR:
		case CRYPTO_PEM_STUCK:
			return (bad(why, "malformed PEM"));
		default:
			break;
		}
	}
	if (inobj)
		return (bad(why, "truncated PEM (no END line)"));
	if (nobj == 0)
		return (bad(why, "no SALLYPORT CREDENTIAL PEM object"));
	if (s.overflow)
		return (bad(why, "credential too large"));
	*len = s.len;
	return (0);
}

/*
 * cred_block_next(block, len, off, cred, credlen):
 * Step through a credential block: start with *${off} = 0; each call
 * stores the next credential's bytes in ${cred}, ${credlen}.  Return 1,
 * 0 at the end, -1 if the block is malformed.
 */
int
cred_block_next(const uint8_t *block, size_t len, size_t *off,
    const uint8_t **cred, size_t *credlen)
{
	size_t n;

	if (len == 0 || block[0] > CRED_MAX_BLOCK)
		return (-1);
	if (*off == 0)
		*off = 1;
	if (*off == len)
		return (0);
	if (len - *off < 2)
		return (-1);
	n = ((size_t)block[*off] << 8) | block[*off + 1];
	if (n == 0 || n > CRED_MAX_LEN || n > len - *off - 2)
		return (-1);
	*cred = block + *off + 2;
	*credlen = n;
	*off += 2 + n;
	return (1);
}

/*
 * cred_block_len(block, len, blen):
 * The size of the block that starts at ${block} (followed by other
 * bytes, ${len} in all) in ${blen}.  Return 0, or -1 if it is malformed
 * or cut short.
 */
int
cred_block_len(const uint8_t *block, size_t len, size_t *blen)
{
	size_t off = 1, n, k;

	if (len == 0 || block[0] > CRED_MAX_BLOCK)
		return (-1);
	for (k = 0; k < block[0]; k++) {
		if (len - off < 2)
			return (-1);
		n = ((size_t)block[off] << 8) | block[off + 1];
		if (n == 0 || n > CRED_MAX_LEN || n > len - off - 2)
			return (-1);
		off += 2 + n;
	}
	*blen = off;
	return (0);
}

/*
 * cred_block_check(block, len):
 * Return 0 if the ${len} bytes at ${block} are one well formed block
 * (count at most CRED_MAX_BLOCK, each length 1..CRED_MAX_LEN, nothing
 * after the last one), else -1.
 */
int
cred_block_check(const uint8_t *block, size_t len)
{
	size_t n;

	return (cred_block_len(block, len, &n) == 0 && n == len ? 0 : -1);
}

/*
 * cred_block_add(block, cap, len, cred, credlen):
 * Append a credential to the block of *${len} bytes at ${block} (an
 * empty block is *${len} = 0).  Return 0, or -1 if full.
 */
int
cred_block_add(uint8_t *block, size_t cap, size_t *len, const uint8_t *cred,
    size_t credlen)
{
	size_t n = *len == 0 ? 1 : *len;

	if (cap < 1 || credlen == 0 || credlen > CRED_MAX_LEN ||
	    (*len > 0 && block[0] >= CRED_MAX_BLOCK) ||
	    credlen + 2 > cap - n)
		return (-1);
	if (*len == 0)
		block[0] = 0;
	block[n] = (uint8_t)(credlen >> 8);
	block[n + 1] = (uint8_t)credlen;
	memcpy(block + n + 2, cred, credlen);
	block[0]++;
	*len = n + 2 + credlen;
	return (0);
}

/*
 * cred_serial_format(serial, buf), cred_serial_parse(s, serial):
 * The text form of a serial: "S" and 16 lowercase hex digits.  Parse
 * returns 0, or -1 (then ${serial} is untouched).
 */
char *
cred_serial_format(uint64_t serial, char buf[CRED_SERIAL_TEXT])
{

	snprintf(buf, CRED_SERIAL_TEXT, "S%016llx", (unsigned long long)serial);
	return (buf);
}

int
cred_serial_parse(const char *s, uint64_t *serial)
{
	uint64_t v = 0;
	int i;

	if (s[0] != 'S' || strlen(s) != CRED_SERIAL_TEXT - 1)
		return (-1);
	for (i = 1; i < CRED_SERIAL_TEXT - 1; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			v = (v << 4) | (uint64_t)(s[i] - '0');
		else if (s[i] >= 'a' && s[i] <= 'f')
			v = (v << 4) | (uint64_t)(s[i] - 'a' + 10);
		else
			return (-1);
	}
	if (v == 0)
		return (-1);
	*serial = v;
	return (0);
}

static int
id_cmp(const void *a, const void *b)
{

	return (memcmp(a, b, CRED_ID_LEN));
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

static int
issued_cmp(const void *a, const void *b)
{
	const struct cred_revoked_issued *x = a, *y = b;
	int c = memcmp(x->issuer, y->issuer, CRED_ID_LEN);

	return (c != 0 ? c : u64_cmp(&x->serial, &y->serial));
}

/* Append one entry ${s} (NUL terminated) to ${rv}.  0 or -1. */
static int
revoked_add(struct cred_revoked *rv, char *s, const char **why)
{
	uint8_t id[CRED_ID_LEN];
	uint64_t serial;
	char *colon;
	void *q;

	if (rv->nids + rv->nserials + rv->nissued >= CRED_REVOKED_MAX)
		return (bad(why, "too many entries"));
	/* ISSUER:SERIAL, the serial one authority issued. */
	if ((colon = strchr(s, ':')) != NULL) {
		*colon = '\0';
		if (identity_id_parse(s, id) == -1 ||
		    cred_serial_parse(colon + 1, &serial) == -1)
			return (bad(why, "not ISSUER:SERIAL (the issuer's "
			    "identifier, a colon, a serial)"));
		if ((q = reallocarray(rv->issued, rv->nissued + 1,
		    sizeof(*rv->issued))) == NULL)
			return (bad(why, "out of memory"));
		rv->issued = q;
		memcpy(rv->issued[rv->nissued].issuer, id, CRED_ID_LEN);
		rv->issued[rv->nissued++].serial = serial;
		return (0);
	}
	if (identity_id_parse(s, id) == 0) {
		if ((q = reallocarray(rv->ids, rv->nids + 1,
		    sizeof(*rv->ids))) == NULL)
			return (bad(why, "out of memory"));
		rv->ids = q;
		memcpy(rv->ids[rv->nids++], id, CRED_ID_LEN);
		return (0);
	}
	if (cred_serial_parse(s, &serial) == 0) {
		if ((q = reallocarray(rv->serials, rv->nserials + 1,
		    sizeof(*rv->serials))) == NULL)
			return (bad(why, "out of memory"));
		rv->serials = q;
		rv->serials[rv->nserials++] = serial;
		return (0);
	}
	return (bad(why, "neither an identifier (I and 64 lowercase hex "
	    "digits), a serial (S and 16 lowercase hex digits) nor "
	    "ISSUER:SERIAL"));
}

/*
 * cred_revoked_parse(rv, text, len, err, errlen):
 * Parse a revocation list (one entry a line: an identifier, a serial of
 * any issuer, or ISSUER:SERIAL, the issuer's identifier and a serial it
 * issued; blank lines and lines starting with '#' ignored; blanks around
 * an entry allowed) into ${rv}.  Return 0, or -1 with "LINE: message" in
 * ${err} (${rv} then holds nothing).
 */
int
cred_revoked_parse(struct cred_revoked *rv, const char *text, size_t len,
    char *err, size_t errlen)
{
	char entry[96];
	const char *why = NULL;
	size_t pos = 0, b, e, eol;
	int line = 0;

	memset(rv, 0, sizeof(*rv));
	while (pos < len) {
		line++;
		for (eol = pos; eol < len && text[eol] != '\n'; eol++)
			;
		for (b = pos; b < eol && (text[b] == ' ' || text[b] == '\t');
		     b++)
			;
		for (e = eol; e > b && (text[e - 1] == ' ' ||
		    text[e - 1] == '\t' || text[e - 1] == '\r'); e--)
			;
		pos = eol + 1;
		if (e == b || text[b] == '#')
			continue;
		if (e - b >= sizeof(entry) || memchr(text + b, '\0', e - b)) {
			why = "neither an identifier, a serial nor "
			    "ISSUER:SERIAL";
			goto fail;
		}
		memcpy(entry, text + b, e - b);
		entry[e - b] = '\0';
		if (revoked_add(rv, entry, &why) == -1)
			goto fail;
	}
	if (rv->nids > 0)
		qsort(rv->ids, rv->nids, sizeof(*rv->ids), id_cmp);
	if (rv->nserials > 0)
		qsort(rv->serials, rv->nserials, sizeof(*rv->serials),
		    u64_cmp);
	if (rv->nissued > 0)
		qsort(rv->issued, rv->nissued, sizeof(*rv->issued),
		    issued_cmp);
	return (0);
fail:
	snprintf(err, errlen, "%d: %s", line, why);
	cred_revoked_free(rv);
	return (-1);
}

/*
 * cred_revoked_free(rv):
 * Free what ${rv} holds (it is left empty); NULL does nothing.
 */
void
cred_revoked_free(struct cred_revoked *rv)
{

	if (rv == NULL)
		return;
	free(rv->ids);
	free(rv->serials);
	free(rv->issued);
	memset(rv, 0, sizeof(*rv));
}

/*
 * cred_revoked_has_id(rv, id), cred_revoked_has_serial(rv, issuer, serial):
 * Whether ${rv} (NULL: an empty list) names the identifier, or the serial
 * (alone, or with ${issuer}, its issuer's identifier).
 */
int
cred_revoked_has_id(const struct cred_revoked *rv,
    const uint8_t id[CRED_ID_LEN])
{

	return (rv != NULL && rv->nids > 0 && bsearch(id, rv->ids, rv->nids,
	    sizeof(*rv->ids), id_cmp) != NULL);
}

int
cred_revoked_has_serial(const struct cred_revoked *rv,
    const uint8_t issuer[CRED_ID_LEN], uint64_t serial)
{
	struct cred_revoked_issued key;

	if (rv == NULL)
		return (0);
	if (rv->nserials > 0 && bsearch(&serial, rv->serials, rv->nserials,
	    sizeof(*rv->serials), u64_cmp) != NULL)
		return (1);
	memcpy(key.issuer, issuer, CRED_ID_LEN);
	key.serial = serial;
	return (rv->nissued > 0 && bsearch(&key, rv->issued, rv->nissued,
	    sizeof(*rv->issued), issued_cmp) != NULL);
}

/*
 * Read ${path} (a regular file under ${cap} bytes) into ${buf} (${cap}
 * bytes); the size in ${len}.  Return 0, or -1 with errno set and
 * "PATH: E" in ${err} ("PATH: not a regular file": EINVAL).
 */
static int
read_small(const char *path, char *buf, size_t cap, size_t *len, char *err,
    size_t errlen)
{

	if (file_read(path, (uint8_t *)buf, cap - 1, len, err, errlen) == 0)
		return (0);
	if (errno != EINVAL)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return (-1);
}

/*
 * cred_load(path, out, cap, len, c, err, errlen):
 * Read the credential file ${path} (PEM; not secret, so no mode check),
 * store its bytes in ${out} (${cap} bytes; their size in ${len}) and
 * decode them into ${c}.  The signature is not checked here.  Return 0,
 * or -1 with "PATH: message" in ${err} and errno set (as open(2) or
 * read(2) left it, EINVAL for a bad content).
 */
int
cred_load(const char *path, uint8_t *out, size_t cap, size_t *len,
    struct cred *c, char *err, size_t errlen)
{
	char text[CRED_PEM_MAX];
	const char *why;
	size_t tlen;

	if (read_small(path, text, sizeof(text), &tlen, err, errlen) == -1)
		return (-1);
	if (cred_pem_decode((const uint8_t *)text, tlen, out, cap, len,
	    &why) == -1 || cred_decode(c, out, *len, &why) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		errno = EINVAL;
		return (-1);
	}
	return (0);
}

/*
 * cred_save(path, buf, len, err, errlen):
 * Write the credential ${buf} as PEM to ${path}, replacing it at once
 * (a temporary file in the same directory, mode 0644, then rename(2)),
 * so a node that watches the file never reads half of it.  Return 0, or
 * -1 with a message in ${err}.
 */
int
cred_save(const char *path, const uint8_t *buf, size_t len, char *err,
    size_t errlen)
{
	char text[CRED_PEM_MAX];
	size_t tlen;

	if ((tlen = cred_pem_encode(buf, len, text, sizeof(text))) == 0) {
		snprintf(err, errlen, "%s: too long", path);
		return (-1);
	}
	return (file_replace(path, (const uint8_t *)text, tlen, 0644, err,
	    errlen));
}

/*
 * cred_block_load(paths, n, subject, block, cap, len, err, errlen):
 * Load the ${n} credential files ${paths} into one block (${block},
 * ${cap} bytes, its size in ${len}; 0 when ${n} is 0): each must decode,
 * carry a valid signature, name ${subject} (the node's own identifier)
 * and come from an issuer no other file names.  Return 0, or -1 with
 * "PATH: message" in ${err}.
 */
int
cred_block_load(const char (*paths)[4096], size_t n,
    const uint8_t subject[CRED_ID_LEN], uint8_t *block, size_t cap,
    size_t *len, char *err, size_t errlen)
{
	uint8_t buf[CRED_MAX_LEN], issuers[CRED_MAX_BLOCK][CRED_ID_LEN];
	struct cred c;
	size_t i, j, blen;

	*len = 0;
	for (i = 0; i < n && i < CRED_MAX_BLOCK; i++) {
		if (cred_load(paths[i], buf, sizeof(buf), &blen, &c, err,
		    errlen) == -1)
			return (-1);
		if (cred_verify_sig(buf, blen) == -1) {
			snprintf(err, errlen, "%s: bad signature", paths[i]);
			return (-1);
		}
		if (memcmp(c.subject, subject, CRED_ID_LEN) != 0) {
			snprintf(err, errlen, "%s: issued to another identity "
			    "(its subject is not this node's identifier)",
			    paths[i]);
			return (-1);
		}
		for (j = 0; j < i; j++)
			if (memcmp(issuers[j], c.issuer, CRED_ID_LEN) == 0) {
				snprintf(err, errlen, "%s: a second credential "
				    "of the same authority (one per "
				    "authority)", paths[i]);
				return (-1);
			}
		memcpy(issuers[i], c.issuer, CRED_ID_LEN);
		if (cred_block_add(block, cap, len, buf, blen) == -1) {
			snprintf(err, errlen, "%s: too many credentials",
			    paths[i]);
			return (-1);
		}
	}
	return (0);
}

/*
 * cred_parse_duration(s, secs):
 * "90", "90s", "15m", "12h", "7d" into seconds (1 to 10 years).  Return
 * 0, or -1.
 */
int
cred_parse_duration(const char *s, uint64_t *secs)
{
	uint64_t v = 0, mul = 1;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > 1000000000000ULL)
			return (-1);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return (-1);
	switch (s[i]) {
	case '\0':
	case 's':
		break;
	case 'm':
		mul = 60;
		break;
	case 'h':
		mul = 3600;
		break;
	case 'd':
		mul = 86400;
		break;
	default:
		return (-1);
	}
	if (s[i] != '\0' && s[i + 1] != '\0')
		return (-1);
	v *= mul;
	if (v == 0 || v > 10ULL * 366 * 86400)
		return (-1);
	*secs = v;
	return (0);
}

/*
 * cred_parse_time(s, now, t):
 * A point in time: seconds since the epoch, "now", "now+DURATION",
 * "now-DURATION" (relative to ${now}), or "YYYY-MM-DDTHH:MM:SSZ" (UTC).
 * Return 0, or -1.
 */
int
cred_parse_time(const char *s, uint64_t now, uint64_t *t)
{
	struct tm tm;
	const char *end;
	uint64_t v = 0, d;
	time_t tt;
	size_t i;

	if (strncmp(s, "now", 3) == 0) {
		if (s[3] == '\0') {
			*t = now;
			return (0);
		}
		if ((s[3] != '+' && s[3] != '-') ||
		    cred_parse_duration(s + 4, &d) == -1)
			return (-1);
		if (s[3] == '-' && d > now)
			return (-1);
		*t = s[3] == '+' ? now + d : now - d;
		return (0);
	}
	if (strchr(s, 'T') != NULL) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL ||
		    *end != '\0' || (tt = timegm(&tm)) == (time_t)-1 ||
		    tt < 0)
			return (-1);
		*t = (uint64_t)tt;
		return (0);
	}
	for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 12; i++)
		v = v * 10 + (uint64_t)(s[i] - '0');
	if (i == 0 || s[i] != '\0')
		return (-1);
	*t = v;
	return (0);
}

/*
 * cred_revoked_load(rv, path, err, errlen):
 * Read and parse the revocation list file ${path} (cred_revoked_parse).
 * Return 0, or -1 with "PATH:LINE: message" or "PATH: message".
 */
int
cred_revoked_load(struct cred_revoked *rv, const char *path, char *err,
    size_t errlen)
{

	return (cred_revoked_load_with(rv, path, NULL, 0, err, errlen));
}

int
cred_revoked_load_with(struct cred_revoked *rv, const char *path,
    const char *extra, size_t extralen, char *err, size_t errlen)
{
	char *text, msg[256];
	size_t len = 0;
	int rc = -1;

	memset(rv, 0, sizeof(*rv));
	if ((text = malloc(8 * 1024 * 1024 + 1 + extralen)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path != NULL ?
		    path : "revoked");
		return (-1);
	}
	if (path != NULL && read_small(path, text, 8 * 1024 * 1024, &len, err,
	    errlen) == -1)
		goto out;
	if (extralen > 0) {
		text[len++] = '\n';
		memcpy(text + len, extra, extralen);
		len += extralen;
	}
	if (cred_revoked_parse(rv, text, len, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "%s:%s", path != NULL ? path :
		    "authority's list", msg);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return (rc);
}
