/*
 * crypto: thin wrappers over BearSSL.  See crypto.h.
 */
#include <string.h>
#include <sys/random.h>

#include "crypto.h"

/* Implementations chosen once by crypto_init(). */
static const br_block_ctr_class *aes_ctr;
static br_ghash ghash;
static br_chacha20_run chacha;
static br_poly1305_run poly;
static const br_ec_impl *c25519 = &br_ec_c25519_m31;
static const br_ec_impl *p256 = &br_ec_p256_m31;

static br_hmac_drbg_context drbg;
static int drbg_ready;

/* Seed ${drbg} from getrandom(2); BearSSL's seeder is the fallback. */
static int
drbg_seed(void)
{
	uint8_t seed[48];
	size_t got = 0;
	ssize_t r;
	br_prng_seeder seeder;
	int rc = -1;

	br_hmac_drbg_init(&drbg, &br_sha256_vtable, NULL, 0);
	while (got < sizeof(seed)) {
		r = getrandom(seed + got, sizeof(seed) - got, 0);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == sizeof(seed)) {
		br_hmac_drbg_update(&drbg, seed, sizeof(seed));
		rc = 0;
	} else if ((seeder = br_prng_seeder_system(NULL)) != NULL &&
	    seeder(&drbg.vtable)) {
		rc = 0;
	}
	wipe(seed, sizeof(seed));
	return (rc);
}

/*
 * Pick the fastest constant-time implementations once.  Needs no entropy,
 * so keyed operations (crypto_aead_init) work even when seeding fails.
 */
static void
pick_impls(void)
{

	if (aes_ctr == NULL) {
		if ((aes_ctr = br_aes_x86ni_ctr_get_vtable()) == NULL)
			aes_ctr = &br_aes_ct64_ctr_vtable;
		if ((ghash = br_ghash_pclmul_get()) == 0)
			ghash = &br_ghash_ctmul64;
		if ((chacha = br_chacha20_sse2_get()) == 0)
			chacha = &br_chacha20_ct_run;
		if ((poly = br_poly1305_ctmulq_get()) == 0)
			poly = &br_poly1305_ctmul_run;
	}
}

int
crypto_init(void)
{

	pick_impls();
	if (!drbg_ready) {
		if (drbg_seed() == -1)
			return (-1);
		drbg_ready = 1;
	}
	return (0);
}

const char *
crypto_aes_impl(void)
{

	pick_impls();
	if (aes_ctr == &br_aes_ct64_ctr_vtable)
		return (ghash == &br_ghash_ctmul64 ? "ct64+ctmul64"
		                                   : "ct64+pclmul");
	return (ghash == &br_ghash_ctmul64 ? "x86ni+ctmul64" : "x86ni+pclmul");
}

int
crypto_random(void *buf, size_t len)
{

	if (crypto_init() == -1)
		return (-1);
	br_hmac_drbg_generate(&drbg, buf, len);
	return (0);
}

void
wipe(void *p, size_t n)
{

	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

int
ct_eq(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	/* 1 if d == 0, without a data-dependent branch. */
	return ((int)(1 & ((((uint32_t)d) - 1) >> 8)));
}

int
ct_is_zero(const void *p, size_t n)
{
	const volatile uint8_t *x = p;
	uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= x[i];
	return ((int)(1 & ((((uint32_t)d) - 1) >> 8)));
}

int
crypto_x25519_pub(uint8_t pub[CRYPTO_X25519_LEN],
    const uint8_t priv[CRYPTO_X25519_LEN])
{

	if (c25519->mulgen(pub, priv, CRYPTO_X25519_LEN, BR_EC_curve25519) !=
	    CRYPTO_X25519_LEN)
		return (-1);
	return (0);
}

int
crypto_x25519_keypair(uint8_t priv[CRYPTO_X25519_LEN],
    uint8_t pub[CRYPTO_X25519_LEN])
{

	if (crypto_random(priv, CRYPTO_X25519_LEN) == -1)
		return (-1);
	return (crypto_x25519_pub(pub, priv));
}

int
crypto_x25519(uint8_t out[CRYPTO_X25519_LEN],
    const uint8_t priv[CRYPTO_X25519_LEN],
    const uint8_t pub[CRYPTO_X25519_LEN])
{
	uint32_t ok;

	memcpy(out, pub, CRYPTO_X25519_LEN);
	ok = c25519->mul(out, CRYPTO_X25519_LEN, priv, CRYPTO_X25519_LEN,
	    BR_EC_curve25519);
	/* A low-order point yields all zeros: refuse it (RFC 7748 sec. 6.1). */
	if (!ok || ct_is_zero(out, CRYPTO_X25519_LEN)) {
		wipe(out, CRYPTO_X25519_LEN);
		return (-1);
	}
	return (0);
}

void
crypto_sha256(uint8_t out[CRYPTO_HASH_LEN], const void *data, size_t len)
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
}

void
crypto_sha256_2(uint8_t out[CRYPTO_HASH_LEN], const void *a, size_t alen,
    const void *b, size_t blen)
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, a, alen);
	br_sha256_update(&c, b, blen);
	br_sha256_out(&c, out);
}

void
crypto_hmac_sha256(uint8_t out[CRYPTO_HASH_LEN], const void *key,
    size_t keylen, const void *data, size_t len)
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, keylen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, data, len);
	br_hmac_out(&hc, out);
	wipe(&kc, sizeof(kc));
	wipe(&hc, sizeof(hc));
}

int
crypto_hkdf_sha256(uint8_t *out, size_t outlen, const void *salt,
    size_t saltlen, const void *ikm, size_t ikmlen, const void *info,
    size_t infolen)
{
	br_hkdf_context hc;

	/* RFC 5869 caps L at 255 * HashLen; BearSSL would stop short. */
	if (outlen > 255 * CRYPTO_HASH_LEN)
		return (-1);
	br_hkdf_init(&hc, &br_sha256_vtable, salt, saltlen);
	br_hkdf_inject(&hc, ikm, ikmlen);
	br_hkdf_flip(&hc);
	br_hkdf_produce(&hc, info, infolen, out, outlen);
	wipe(&hc, sizeof(hc));
	return (0);
}

int
crypto_aead_init(struct crypto_aead *a, enum crypto_aead_alg alg,
    const uint8_t *key, size_t keylen)
{

	pick_impls();
	memset(a, 0, sizeof(*a));
	a->alg = alg;
	if (alg == CRYPTO_CHACHAPOLY) {
		if (keylen != CRYPTO_KEY_LEN)
			return (-1);
		memcpy(a->key, key, keylen);
		return (0);
	}
	if (keylen != 16 && keylen != 24 && keylen != 32)
		return (-1);
	if (aes_ctr == &br_aes_ct64_ctr_vtable)
		br_aes_ct64_ctr_init(&a->aes.ct64, key, keylen);
	else
		br_aes_x86ni_ctr_init(&a->aes.ni, key, keylen);
	br_gcm_init(&a->gcm, &a->aes.ni.vtable, ghash);
	return (0);
}

void
crypto_aead_fini(struct crypto_aead *a)
{

	if (a != NULL)
		wipe(a, sizeof(*a));
}

/*
 * The GCM context points at the AES keys inside the same struct.  Point it
 * there again before each use, so a struct crypto_aead may be copied by
 * value (noise.c works on copies and commits them): one pointer store, no
 * key schedule and no H recomputation.
 */
static void
gcm_repoint(struct crypto_aead *a)
{

	a->gcm.bctx = &a->aes.ni.vtable;
}

void
crypto_aead_seal(struct crypto_aead *a, const uint8_t iv[CRYPTO_IV_LEN],
    const void *ad, size_t adlen, uint8_t *buf, size_t len,
    uint8_t tag[CRYPTO_TAG_LEN])
{

	if (a->alg == CRYPTO_CHACHAPOLY) {
		poly(a->key, iv, buf, len, ad, adlen, tag, chacha, 1);
		return;
	}
	gcm_repoint(a);
	br_gcm_reset(&a->gcm, iv, CRYPTO_IV_LEN);
	br_gcm_aad_inject(&a->gcm, ad, adlen);
	br_gcm_flip(&a->gcm);
	br_gcm_run(&a->gcm, 1, buf, len);
	br_gcm_get_tag(&a->gcm, tag);
}

int
crypto_aead_open(struct crypto_aead *a, const uint8_t iv[CRYPTO_IV_LEN],
    const void *ad, size_t adlen, uint8_t *buf, size_t len,
    const uint8_t tag[CRYPTO_TAG_LEN])
{
	uint8_t want[CRYPTO_TAG_LEN];
	int ok;

	if (a->alg == CRYPTO_CHACHAPOLY) {
		/* BearSSL only computes the tag: compare it ourselves. */
		poly(a->key, iv, buf, len, ad, adlen, want, chacha, 0);
		ok = ct_eq(want, tag, CRYPTO_TAG_LEN);
		wipe(want, sizeof(want));
	} else {
		gcm_repoint(a);
		br_gcm_reset(&a->gcm, iv, CRYPTO_IV_LEN);
		br_gcm_aad_inject(&a->gcm, ad, adlen);
		br_gcm_flip(&a->gcm);
		br_gcm_run(&a->gcm, 0, buf, len);
		ok = (int)br_gcm_check_tag(&a->gcm, tag);
	}
	/* The buffer holds unauthenticated plaintext now: never pass it on. */
	if (!ok) {
		wipe(buf, len);
		return (-1);
	}
	return (0);
}

int
crypto_p256_pub(uint8_t pub[CRYPTO_P256_PUB_LEN],
    const uint8_t priv[CRYPTO_P256_PRIV_LEN])
{

	if (p256->mulgen(pub, priv, CRYPTO_P256_PRIV_LEN, BR_EC_secp256r1) !=
	    CRYPTO_P256_PUB_LEN)
		return (-1);
	return (0);
}

int
crypto_p256_keypair(uint8_t priv[CRYPTO_P256_PRIV_LEN],
    uint8_t pub[CRYPTO_P256_PUB_LEN])
{
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_ec_private_key sk;
	int rc = -1;

	if (crypto_init() == -1)
		goto out;
	if (br_ec_keygen(&drbg.vtable, p256, &sk, kbuf, BR_EC_secp256r1) !=
	    CRYPTO_P256_PRIV_LEN)
		goto out;
	memcpy(priv, sk.x, CRYPTO_P256_PRIV_LEN);
	if (crypto_p256_pub(pub, priv) == -1)
		goto out;
	rc = 0;
out:
	wipe(kbuf, sizeof(kbuf));
	return (rc);
}

int
crypto_p256_sign(uint8_t sig[CRYPTO_P256_SIG_LEN],
    const uint8_t priv[CRYPTO_P256_PRIV_LEN], const void *msg, size_t len)
{
	uint8_t hash[CRYPTO_HASH_LEN];
	br_ec_private_key sk;
	int rc = -1;

	crypto_sha256(hash, msg, len);
	sk.curve = BR_EC_secp256r1;
	sk.x = (unsigned char *)(uintptr_t)priv;
	sk.xlen = CRYPTO_P256_PRIV_LEN;
	if (br_ecdsa_i31_sign_raw(p256, &br_sha256_vtable, hash, &sk, sig) ==
	    CRYPTO_P256_SIG_LEN)
		rc = 0;
	wipe(hash, sizeof(hash));
	return (rc);
}

/*
 * Read one DER INTEGER at ${p} (at most ${end}) as a 32-byte big-endian
 * value into ${v}; advance ${p}.  Strict DER only: short-form length, no
 * superfluous leading zero, not negative, at most 32 significant bytes.
 * BearSSL's own parser is laxer (Wycheproof tcIds 6, 8, 84, 128).
 */
static int
der_uint32b(const uint8_t **p, const uint8_t *end, uint8_t v[32])
{
	const uint8_t *q = *p;
	size_t len;

	if (end - q < 2 || q[0] != 0x02 || q[1] >= 0x80)
		return (-1);
	len = q[1];
	q += 2;
	if (len == 0 || len > (size_t)(end - q))
		return (-1);
	/* Negative, or a leading zero that is not needed for the sign. */
	if ((q[0] & 0x80) != 0 || (len > 1 && q[0] == 0 && (q[1] & 0x80) == 0))
		return (-1);
	if (q[0] == 0) {
		q++;
		len--;
	}
	if (len > 32)
		return (-1);
	memset(v, 0, 32 - len);
	memcpy(v + 32 - len, q, len);
	*p = q + len;
	return (0);
}

/*
 * Convert the strict DER signature SEQUENCE { r INTEGER, s INTEGER } at
 * ${sig} into raw r || s.  Return 0, or -1 if it is not exactly that.
 */
static int
der_to_raw(uint8_t raw[CRYPTO_P256_SIG_LEN], const uint8_t *sig,
    size_t siglen)
{
	const uint8_t *p = sig, *end = sig + siglen;

	/* P-256 signatures are under 128 bytes: short-form length only. */
	if (siglen < 2 || p[0] != 0x30 || p[1] >= 0x80 ||
	    (size_t)p[1] != siglen - 2)
		return (-1);
	p += 2;
	if (der_uint32b(&p, end, raw) == -1 ||
	    der_uint32b(&p, end, raw + 32) == -1 || p != end)
		return (-1);
	return (0);
}

/* P-256 verifications run (crypto_p256_verifications). */
static uint64_t p256_verifications;

/* Shared front half of the two verifiers. */
static int
p256_verify(const uint8_t *pub, size_t publen, const void *msg, size_t len,
    const uint8_t *sig, size_t siglen, int der)
{
	uint8_t hash[CRYPTO_HASH_LEN], raw[CRYPTO_P256_SIG_LEN];
	br_ec_public_key pk;
	uint32_t ok;

	if (publen != CRYPTO_P256_PUB_LEN || pub[0] != 0x04)
		return (-1);
	/*
	 * Only exact encodings: strict DER, or exactly 64 raw bytes
	 * (br_ecdsa_i31_vrfy_raw accepts shorter r || s as well).
	 */
	if (der) {
		if (der_to_raw(raw, sig, siglen) == -1)
			return (-1);
	} else {
		if (siglen != CRYPTO_P256_SIG_LEN)
			return (-1);
		memcpy(raw, sig, CRYPTO_P256_SIG_LEN);
	}
	crypto_sha256(hash, msg, len);
	p256_verifications++;
	pk.curve = BR_EC_secp256r1;
	pk.q = (unsigned char *)(uintptr_t)pub;
	pk.qlen = publen;
	ok = br_ecdsa_i31_vrfy_raw(p256, hash, sizeof(hash), &pk, raw,
	    sizeof(raw));
	return (ok ? 0 : -1);
}

int
crypto_p256_verify(const uint8_t *pub, size_t publen, const void *msg,
    size_t len, const uint8_t *sig, size_t siglen)
{

	return (p256_verify(pub, publen, msg, len, sig, siglen, 0));
}

/*
 * crypto_p256_verifications():
 * How many P-256 verifications this process has run, valid or not.
 */
uint64_t
crypto_p256_verifications(void)
{

	return (p256_verifications);
}

int
crypto_p256_verify_der(const uint8_t *pub, size_t publen, const void *msg,
    size_t len, const uint8_t *sig, size_t siglen)
{

	return (p256_verify(pub, publen, msg, len, sig, siglen, 1));
}

/*
 * crypto_pem_sink_append(ctx, src, len):
 * br_pem_decoder destination: append to the crypto_pem_sink ${ctx}, or
 * note the overflow.
 */
void
crypto_pem_sink_append(void *ctx, const void *src, size_t len)
{
	struct crypto_pem_sink *s = ctx;

	if (len > s->cap - s->len) {
		s->overflow = 1;
		return;
	}
	memcpy(s->buf + s->len, src, len);
	s->len += len;
}

/*
 * crypto_pem_next(pc, p, rem, fed_nl):
 * Push the text at *${p} (*${rem} bytes left; both advanced) into ${pc},
 * then one newline once it is used up (an END line needs one; *${fed_nl}
 * starts at 0).  Return the decoder's event (BR_PEM_BEGIN_OBJ,
 * BR_PEM_END_OBJ, BR_PEM_ERROR), 0 if none, CRYPTO_PEM_STUCK, or
 * CRYPTO_PEM_DONE at the end.
 */
int
crypto_pem_next(br_pem_decoder_context *pc, const uint8_t **p, size_t *rem,
    int *fed_nl)
{
	size_t n;
	int ev;

	if (*rem == 0) {
		if (*fed_nl)
			return (CRYPTO_PEM_DONE);
		*p = (const uint8_t *)"\n";
		*rem = 1;
		*fed_nl = 1;
	}
	n = br_pem_decoder_push(pc, *p, *rem);
	*p += n;
	*rem -= n;
	ev = br_pem_decoder_event(pc);
	if (ev == BR_PEM_BEGIN_OBJ || ev == BR_PEM_END_OBJ ||
	    ev == BR_PEM_ERROR)
		return (ev);
	/* No event and nothing consumed would loop forever. */
	return (n == 0 ? CRYPTO_PEM_STUCK : 0);
}
