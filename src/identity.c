/*
 * identity: see identity.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <bearssl.h>

#include "crypto.h"
#include "file.h"
#include "identity.h"
#include "seterr.h"

/* Largest DER object accepted inside a PEM key file. */
#define DER_MAX 4096

/* What a PEM object in a key file holds. */
enum pem_kind { PEM_OTHER, PEM_PARAMS, PEM_PKCS8, PEM_SEC1, PEM_SPKI };

/* Where br_pem_decoder writes the decoded bytes of the key object. */
struct der_sink {
	uint8_t buf[DER_MAX];
	struct crypto_pem_sink s; /* into buf */
};

/* DER contents of the OIDs a P-256 SubjectPublicKeyInfo carries. */
static const uint8_t oid_ec_public_key[] = {0x2a, 0x86, 0x48, 0xce, 0x3d,
    0x02, 0x01};
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
    0x07};

/*
 * Return 1 if the big-endian scalar ${x} is in [1, n - 1], n being the
 * order of P-256, without branching on its bytes.
 */
static int
scalar_is_valid(const uint8_t x[CRYPTO_P256_PRIV_LEN])
{
	const unsigned char *n;
	size_t nlen, i;
	uint32_t borrow = 0, d;

	n = br_ec_p256_m31.order(BR_EC_secp256r1, &nlen);
	if (nlen != CRYPTO_P256_PRIV_LEN)
		return (0);
	/* x < n iff computing x - n borrows out of the top byte. */
	for (i = CRYPTO_P256_PRIV_LEN; i-- > 0;) {
		d = (uint32_t)x[i] - (uint32_t)n[i] - borrow;
		borrow = d >> 31;
	}
	return ((int)borrow & (1 - ct_is_zero(x, CRYPTO_P256_PRIV_LEN)));
}

/*
 * identity_id_from_pub(id, pub):
 * Derive the raw identifier of the uncompressed public key ${pub}.
 */
void
identity_id_from_pub(uint8_t id[IDENTITY_ID_LEN],
    const uint8_t pub[CRYPTO_P256_PUB_LEN])
{

	crypto_sha256(id, pub, CRYPTO_P256_PUB_LEN);
}

/*
 * identity_id_format(id, buf):
 * Write the text form of ${id} ("I" + 64 lowercase hex digits, NUL
 * terminated) into ${buf}; return ${buf}.
 */
char *
identity_id_format(const uint8_t id[IDENTITY_ID_LEN],
    char buf[IDENTITY_TEXT_SIZE])
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf[0] = 'I';
	for (i = 0; i < IDENTITY_ID_LEN; i++) {
		buf[1 + 2 * i] = hex[id[i] >> 4];
		buf[2 + 2 * i] = hex[id[i] & 0x0f];
	}
	buf[IDENTITY_TEXT_LEN] = '\0';
	return (buf);
}

/* Value of a lowercase hex digit, or -1. */
static int
hexval(char c)
{

	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	return (-1);
}

/*
 * identity_id_parse(s, id):
 * Parse the text form of an identifier: exactly "I" and 64 lowercase hex
 * digits, nothing before or after.  Return 0, or -1 (${id} untouched).
 */
int
identity_id_parse(const char *s, uint8_t id[IDENTITY_ID_LEN])
{
	uint8_t tmp[IDENTITY_ID_LEN];
	size_t i;
	int hi, lo;

	/* Check the whole shape first: a short string ends at its NUL. */
	if (s[0] != 'I')
		goto fail;
	for (i = 0; i < IDENTITY_ID_LEN; i++) {
		if ((hi = hexval(s[1 + 2 * i])) == -1 ||
		    (lo = hexval(s[2 + 2 * i])) == -1)
			goto fail;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[IDENTITY_TEXT_LEN] != '\0')
		goto fail;
	memcpy(id, tmp, IDENTITY_ID_LEN);
	return (0);
fail:
	return (-1);
}

/*
 * identity_from_priv(idn, priv):
 * Fill ${idn} from the raw 32-byte scalar ${priv} (copied).  Return 0, or
 * -1 if ${priv} is zero or not below the curve order.
 */
int
identity_from_priv(struct identity *idn,
    const uint8_t priv[CRYPTO_P256_PRIV_LEN])
{

	if (!scalar_is_valid(priv))
		goto fail;
	memcpy(idn->priv, priv, CRYPTO_P256_PRIV_LEN);
	if (crypto_p256_pub(idn->pub, idn->priv) == -1)
		goto fail;
	identity_id_from_pub(idn->id, idn->pub);
	idn->has_priv = 1;
	return (0);
fail:
	identity_fini(idn);
	return (-1);
}

/*
 * identity_from_pub(idn, pub, len):
 * Fill ${idn} (no private key) from the uncompressed public key ${pub} of
 * ${len} bytes.  Return 0, or -1 if it is not a point on P-256.
 */
int
identity_from_pub(struct identity *idn, const uint8_t *pub, size_t len)
{
	static const uint8_t one[1] = {1};
	uint8_t tmp[CRYPTO_P256_PUB_LEN];

	if (len != CRYPTO_P256_PUB_LEN || pub[0] != 0x04)
		goto fail;
	/* mul() refuses points off the curve and the point at infinity. */
	memcpy(tmp, pub, sizeof(tmp));
	if (br_ec_p256_m31.mul(tmp, sizeof(tmp), one, sizeof(one),
		BR_EC_secp256r1) != 1)
		goto fail;
	identity_fini(idn);
	memcpy(idn->pub, pub, CRYPTO_P256_PUB_LEN);
	identity_id_from_pub(idn->id, idn->pub);
	return (0);
fail:
	identity_fini(idn);
	return (-1);
}

/*
 * identity_generate(idn):
 * Make a new random key pair into ${idn} (crypto_init() must have run).
 * Return 0, or -1 if the random generator failed.
 */
int
identity_generate(struct identity *idn)
{

	identity_fini(idn);
	if (crypto_p256_keypair(idn->priv, idn->pub) == -1)
		goto fail;
	identity_id_from_pub(idn->id, idn->pub);
	idn->has_priv = 1;
	return (0);
fail:
	identity_fini(idn);
	return (-1);
}

/*
 * identity_fini(idn):
 * Wipe ${idn}, private key included.
 */
void
identity_fini(struct identity *idn)
{

	wipe(idn, sizeof(*idn));
}

/* Classify a PEM object by its (upper-cased) name. */
static enum pem_kind
pem_classify(const char *name)
{

	if (strcmp(name, "PRIVATE KEY") == 0)
		return (PEM_PKCS8);
	if (strcmp(name, "EC PRIVATE KEY") == 0)
		return (PEM_SEC1);
	if (strcmp(name, "PUBLIC KEY") == 0)
		return (PEM_SPKI);
	if (strcmp(name, "EC PARAMETERS") == 0)
		return (PEM_PARAMS);
	return (PEM_OTHER);
}

/* Explain why a PEM object named ${name} is not usable. */
static void
pem_refuse(const char *name, char *err, size_t errlen)
{

	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
		seterr(err, errlen, "encrypted private keys are not supported "
		    "(decrypt it with openssl pkey)");
	else if (strcmp(name, "RSA PRIVATE KEY") == 0 ||
	    strcmp(name, "RSA PUBLIC KEY") == 0)
		seterr(err, errlen, "RSA key: sallyport identities are ECDSA "
		    "P-256 keys");
	else
		seterr(err, errlen, "unexpected PEM object \"%.40s\" (expected "
		    "PRIVATE KEY or EC PRIVATE KEY)", name);
}

/*
 * Decode the PEM text ${buf} of ${len} bytes and leave the DER of its one
 * key object in ${ds} and its kind in ${kind}.  Return 0 or -1 with a
 * message.
 */
static int
pem_extract(const uint8_t *buf, size_t len, struct der_sink *ds,
    enum pem_kind *kind, char *err, size_t errlen)
{
	br_pem_decoder_context pc;
	const uint8_t *p = buf;
	size_t rem = len;
	int inobj = 0, nkeys = 0, fed_nl = 0, ev;
	enum pem_kind k;

	br_pem_decoder_init(&pc);
	ds->s.buf = ds->buf;
	ds->s.cap = sizeof(ds->buf);
	ds->s.len = 0;
	ds->s.overflow = 0;
	while ((ev = crypto_pem_next(&pc, &p, &rem, &fed_nl)) !=
	    CRYPTO_PEM_DONE) {
		switch (ev) {
		case BR_PEM_BEGIN_OBJ:
			inobj = 1;
			k = pem_classify(br_pem_decoder_name(&pc));
			if (k == PEM_OTHER) {
				pem_refuse(br_pem_decoder_name(&pc), err,
				    errlen);
				goto fail;
			}
			if (k == PEM_PARAMS) {
				br_pem_decoder_setdest(&pc, NULL, NULL);
				break;
			}
			if (nkeys++ > 0) {
				seterr(err, errlen, "more than one key in the "
				    "file");
				goto fail;
			}
			*kind = k;
			br_pem_decoder_setdest(&pc, crypto_pem_sink_append,
			    &ds->s);
			break;
		case BR_PEM_END_OBJ:
			inobj = 0;
			break;
		case BR_PEM_ERROR:
			seterr(err, errlen, "malformed PEM (bad base64 or "
			    "END line)");
			goto fail;
		case CRYPTO_PEM_STUCK:
			seterr(err, errlen, "malformed PEM");
			goto fail;
		default:
			break;
		}
	}
	if (inobj) {
		seterr(err, errlen, "truncated PEM (no END line)");
		goto fail;
	}
	if (nkeys == 0) {
		seterr(err, errlen, "no key found (expected a PEM \"PRIVATE "
		    "KEY\" or \"EC PRIVATE KEY\" block)");
		goto fail;
	}
	if (ds->s.overflow) {
		seterr(err, errlen, "key object too large for a P-256 key");
		goto fail;
	}
	wipe(&pc, sizeof(pc));
	return (0);
fail:
	wipe(&pc, sizeof(pc));
	wipe(ds, sizeof(*ds));
	return (-1);
}

/* Name a BearSSL curve identifier for error messages. */
static const char *
curve_name(int curve)
{

	switch (curve) {
	case BR_EC_secp256r1:
		return ("P-256");
	case BR_EC_secp384r1:
		return ("P-384");
	case BR_EC_secp521r1:
		return ("P-521");
	case BR_EC_secp256k1:
		return ("secp256k1");
	case BR_EC_curve25519:
		return ("Curve25519");
	default:
		return ("an unsupported curve");
	}
}

/* Decode a PKCS#8 or SEC1 private key from ${der} into ${idn}. */
static int
parse_private(struct identity *idn, const uint8_t *der, size_t len,
    char *err, size_t errlen)
{
	br_skey_decoder_context sd;
	const br_ec_private_key *sk;
	uint8_t x[CRYPTO_P256_PRIV_LEN];
	int rc = -1, e;

	br_skey_decoder_init(&sd);
	br_skey_decoder_push(&sd, der, len);
	if ((e = br_skey_decoder_last_error(&sd)) != 0) {
		if (e == BR_ERR_X509_TRUNCATED)
			seterr(err, errlen, "truncated private key");
		else if (e == BR_ERR_X509_UNSUPPORTED)
			seterr(err, errlen, "unsupported key algorithm "
			    "(sallyport identities are ECDSA P-256 keys)");
		else
			seterr(err, errlen, "malformed private key "
			    "(DER error %d)", e);
		goto out;
	}
	if ((sk = br_skey_decoder_get_ec(&sd)) == NULL) {
		seterr(err, errlen, "not an EC key (sallyport identities are "
		    "ECDSA P-256 keys)");
		goto out;
	}
	if (sk->curve != BR_EC_secp256r1) {
		seterr(err, errlen, "key is on %s, not P-256 (make one with "
		    "sallyport identity create)", curve_name(sk->curve));
		goto out;
	}
	if (sk->xlen > sizeof(x) || sk->xlen == 0) {
		seterr(err, errlen, "malformed P-256 private key (scalar of "
		    "%zu bytes)", sk->xlen);
		goto out;
	}
	/* A shorter encoding dropped leading zero bytes: put them back. */
	memset(x, 0, sizeof(x));
	memcpy(x + sizeof(x) - sk->xlen, sk->x, sk->xlen);
	if (identity_from_priv(idn, x) == -1) {
		seterr(err, errlen, "invalid P-256 private key (scalar out of "
		    "range)");
		goto out;
	}
	rc = 0;
out:
	wipe(x, sizeof(x));
	wipe(&sd, sizeof(sd));
	return (rc);
}

/*
 * Read one DER TLV with tag ${tag} at *${p} (before ${end}): its value in
 * ${val}/${vlen}, *${p} moved past it.  Definite lengths up to 2 bytes,
 * minimal encoding.  Return 0 or -1.
 */
static int
der_read(const uint8_t **p, const uint8_t *end, uint8_t tag,
    const uint8_t **val, size_t *vlen)
{
	const uint8_t *q = *p;
	size_t len, nb, i;

	if (end - q < 2 || q[0] != tag)
		return (-1);
	len = q[1];
	q += 2;
	if (len & 0x80) {
		nb = len & 0x7f;
		if (nb == 0 || nb > 2 || (size_t)(end - q) < nb || q[0] == 0)
			return (-1);
		for (len = 0, i = 0; i < nb; i++)
			len = len << 8 | q[i];
		q += nb;
		if (len < 0x80)
			return (-1);
	}
	if (len > (size_t)(end - q))
		return (-1);
	*val = q;
	*vlen = len;
	*p = q + len;
	return (0);
}

/* Decode a SubjectPublicKeyInfo holding a P-256 point into ${idn}. */
static int
parse_public(struct identity *idn, const uint8_t *der, size_t len,
    char *err, size_t errlen)
{
	const uint8_t *p = der, *end = der + len, *spki, *spki_end, *alg,
		      *alg_end, *oid, *bits;
	size_t spki_len, alg_len, oid_len, bits_len;

	/* SEQUENCE { SEQUENCE { OID, OID }, BIT STRING }, nothing after. */
	if (der_read(&p, end, 0x30, &spki, &spki_len) == -1 || p != end)
		goto malformed;
	spki_end = spki + spki_len;
	if (der_read(&spki, spki_end, 0x30, &alg, &alg_len) == -1)
		goto malformed;
	alg_end = alg + alg_len;
	if (der_read(&alg, alg_end, 0x06, &oid, &oid_len) == -1)
		goto malformed;
	if (oid_len != sizeof(oid_ec_public_key) ||
	    memcmp(oid, oid_ec_public_key, oid_len) != 0) {
		seterr(err, errlen, "not an EC public key (sallyport "
		    "identities are ECDSA P-256 keys)");
		goto fail;
	}
	if (der_read(&alg, alg_end, 0x06, &oid, &oid_len) == -1 ||
	    alg != alg_end)
		goto malformed;
	if (oid_len != sizeof(oid_p256) ||
	    memcmp(oid, oid_p256, oid_len) != 0) {
		seterr(err, errlen, "public key is not on P-256");
		goto fail;
	}
	if (der_read(&spki, spki_end, 0x03, &bits, &bits_len) == -1 ||
	    spki != spki_end || bits_len < 2 || bits[0] != 0)
		goto malformed;
	if (bits[1] == 0x02 || bits[1] == 0x03) {
		seterr(err, errlen, "compressed public keys are not "
		    "supported");
		goto fail;
	}
	if (identity_from_pub(idn, bits + 1, bits_len - 1) == -1) {
		seterr(err, errlen, "invalid P-256 public key (not a point "
		    "on the curve)");
		goto fail;
	}
	return (0);
malformed:
	seterr(err, errlen, "malformed public key");
fail:
	return (-1);
}

/*
 * identity_parse_pem(idn, buf, len, flags, err, errlen):
 * Parse the PEM text of ${len} bytes at ${buf} (borrowed, no NUL needed):
 * one "PRIVATE KEY" (PKCS#8) or "EC PRIVATE KEY" (SEC1) object, an
 * "EC PARAMETERS" object being ignored; with IDENTITY_PUBLIC_OK in
 * ${flags} a "PUBLIC KEY" object is accepted instead.  Only P-256 keys are
 * accepted.  Return 0, or -1 with a message in ${err} (${idn} is then
 * wiped).  Temporary copies of key bytes are wiped.
 */
int
identity_parse_pem(struct identity *idn, const uint8_t *buf, size_t len,
    int flags, char *err, size_t errlen)
{
	struct der_sink ds;
	enum pem_kind kind = PEM_OTHER;
	int rc = -1;

	identity_fini(idn);
	if (pem_extract(buf, len, &ds, &kind, err, errlen) == -1)
		goto out;
	if (kind == PEM_SPKI) {
		if (!(flags & IDENTITY_PUBLIC_OK)) {
			seterr(err, errlen, "this is a public key; a private "
			    "key is needed here");
			goto out;
		}
		if (parse_public(idn, ds.buf, ds.s.len, err, errlen) == -1)
			goto out;
	} else if (parse_private(idn, ds.buf, ds.s.len, err, errlen) == -1) {
		goto out;
	}
	rc = 0;
out:
	if (rc == -1)
		identity_fini(idn);
	wipe(&ds, sizeof(ds));
	return (rc);
}

/*
 * A key file on a read-only file system (a Kubernetes secret volume) cannot
 * be chmod'ed: the fix is the volume's defaultMode (and fsGroup).  Append
 * that hint to ${err} if the file ${fd} is on one.
 */
static void
ro_hint(int fd, char *err, size_t errlen)
{
	struct statvfs sv;
	size_t n = strlen(err);

	if (fd == -1 || fstatvfs(fd, &sv) == -1 || !(sv.f_flag & ST_RDONLY))
		return;
	snprintf(err + n, errlen - n, " (the file is on a read-only volume, "
	    "e.g. a Kubernetes secret: set the volume's defaultMode: 0440 "
	    "with the pod's securityContext fsGroup as the group sallyport "
	    "runs with, or defaultMode: 0400 and runAsUser the owner)");
}

/*
 * Check the owner and mode of an open private key file (PostgreSQL's
 * rule, with ${user} (or (uid_t)-1) as a second owner like the effective
 * user).  Return 0, or -1 with "PATH: ..." and how to fix it.
 */
static int
mode_check(const struct stat *st, const char *path, uid_t user, char *err,
    size_t errlen)
{
	uid_t me = geteuid();
	unsigned mode = (unsigned)(st->st_mode & 07777);
	int mine = st->st_uid == me || (user != (uid_t)-1 &&
	    st->st_uid == user);
	char users[96];

	/* Ours with no group or other bits, or root's with at most g+r. */
	if (mine && (mode & 077) == 0)
		return (0);
	if (st->st_uid == 0 && (mode & 037) == 0)
		return (0);
	if (user != (uid_t)-1 && user != me)
		snprintf(users, sizeof(users), "the user running sallyport "
		    "(uid %u), the [node] user it switches to (uid %u)",
		    (unsigned)me, (unsigned)user);
	else
		snprintf(users, sizeof(users), "the user running sallyport "
		    "(uid %u)", (unsigned)me);
	if (mine)
		seterr(err, errlen, "%s: permissions %04o let others read this "
		    "private key (0600 or stricter needed); fix: chmod 600 %s",
		    path, mode, path);
	else if (st->st_uid == 0)
		seterr(err, errlen, "%s: permissions %04o are too open for a "
		    "root-owned private key (0640 or stricter needed); fix: "
		    "chmod 640 %s", path, mode, path);
	else
		seterr(err, errlen, "%s: owned by uid %u; a private key must "
		    "belong to %s or root; fix: chown %u %s && chmod 600 %s",
		    path, (unsigned)st->st_uid, users, (unsigned)(user !=
		    (uid_t)-1 ? user : me), path, path);
	return (-1);
}

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
int
identity_load(struct identity *idn, const char *path, int flags, char *err,
    size_t errlen)
{

	return (identity_load_for(idn, path, flags, (uid_t)-1, err, errlen));
}

/*
 * identity_load_for(idn, path, flags, user, err, errlen):
 * identity_load(), where a private key may also be owned by ${user} (the
 * [node] user a node started as root switches to; (uid_t)-1: none), with
 * the same mode as one of the effective user (0600 or stricter).
 */
int
identity_load_for(struct identity *idn, const char *path, int flags,
    uid_t user, char *err, size_t errlen)
{
	uint8_t buf[IDENTITY_FILE_MAX + 1];
	char msg[256];
	struct stat st;
	size_t len = 0;
	int fd, unsafe, rc = -1, saved = EINVAL;

	identity_fini(idn);
	if ((fd = file_open(path, &st, err, errlen)) == -1) {
		saved = errno;
		goto out;
	}
	if ((unsafe = mode_check(&st, path, user, err, errlen) == -1))
		ro_hint(fd, err, errlen);
	/* A private key is required: refuse before reading anything. */
	if (unsafe && !(flags & IDENTITY_PUBLIC_OK)) {
		saved = EPERM;
		goto out1;
	}
	if (file_read_fd(fd, path, buf, IDENTITY_FILE_MAX, &len, err,
	    errlen) == -1) {
		if (errno == EFBIG)
			seterr(err, errlen, "%s: too large for a key file "
			    "(over %d bytes)", path, IDENTITY_FILE_MAX);
		else
			saved = errno;
		goto out1;
	}
	if (identity_parse_pem(idn, buf, len, flags, msg, sizeof(msg)) ==
	    -1) {
		seterr(err, errlen, "%s: %s", path, msg);
		goto out1;
	}
	/* Public key files may be world-readable; private ones may not. */
	if (idn->has_priv && unsafe) {
		mode_check(&st, path, user, err, errlen);
		ro_hint(fd, err, errlen);
		identity_fini(idn);
		saved = EPERM;
		goto out1;
	}
	rc = 0;
out1:
	close(fd);
out:
	wipe(buf, sizeof(buf));
	if (rc == -1)
		errno = saved;
	return (rc);
}

/*
 * identity_save(idn, path, err, errlen):
 * Write the private key of ${idn} to a new file ${path} as PKCS#8 PEM,
 * created with mode 0600 (O_CREAT | O_EXCL: an existing file or symbolic
 * link is never overwritten).  Return 0, or -1 with a message in ${err}
 * and errno set (EEXIST if ${path} exists); a partly written file is
 * removed.
 */
int
identity_save(const struct identity *idn, const char *path, char *err,
    size_t errlen)
{
	uint8_t der[512], pem[1024];
	br_ec_private_key sk;
	br_ec_public_key pk;
	size_t derlen, pemlen;
	int rc = -1, saved = EINVAL;

	if (!idn->has_priv) {
		seterr(err, errlen, "%s: no private key to save", path);
		goto out;
	}
	/* PKCS#8 with the public key inside, as openssl writes it. */
	sk.curve = BR_EC_secp256r1;
	sk.x = (unsigned char *)(uintptr_t)idn->priv;
	sk.xlen = sizeof(idn->priv);
	pk.curve = BR_EC_secp256r1;
	pk.q = (unsigned char *)(uintptr_t)idn->pub;
	pk.qlen = sizeof(idn->pub);
	if ((derlen = br_encode_ec_pkcs8_der(NULL, &sk, &pk)) == 0 ||
	    derlen > sizeof(der) ||
	    br_encode_ec_pkcs8_der(der, &sk, &pk) != derlen ||
	    (pemlen = br_pem_encode(NULL, der, derlen, BR_ENCODE_PEM_PKCS8,
		 BR_PEM_LINE64)) >= sizeof(pem) ||
	    br_pem_encode(pem, der, derlen, BR_ENCODE_PEM_PKCS8,
		BR_PEM_LINE64) != pemlen) {
		seterr(err, errlen, "%s: cannot encode the key", path);
		goto out;
	}
	if (file_create(path, pem, pemlen, 0600, err, errlen) == -1) {
		saved = errno;
		if (errno == EEXIST)
			seterr(err, errlen, "%s: already exists (refusing to "
			    "overwrite a key)", path);
		goto out;
	}
	rc = 0;
out:
	wipe(der, sizeof(der));
	wipe(pem, sizeof(pem));
	wipe(&sk, sizeof(sk));
	if (rc == -1)
		errno = saved;
	return (rc);
}
