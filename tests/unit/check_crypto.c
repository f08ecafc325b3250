/*
 * check_crypto: the crypto.h wrappers against known answers (RFC 7748,
 * RFC 5869) and the Wycheproof files in tests/vectors/wycheproof/.  What is
 * run, skipped and accepted is written down in docs/crypto-vectors.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <jansson.h>

#include "crypto.h"
#include "fixture.h"

#ifndef WYCHEPROOF_DIR
#define WYCHEPROOF_DIR "tests/vectors/wycheproof"
#endif

#define MAX_HEX 8192 /* bytes of one decoded value (HKDF asks for 8160) */

/* A decoded hex value. */
struct hex {
	uint8_t b[MAX_HEX];
	size_t len;
};

/* Decode ${s} into ${h}; fail the test on malformed input. */
static void
hex_set(struct hex *h, const char *s)
{
	size_t n = strlen(s), i;
	unsigned int v;

	ck_assert_msg(n % 2 == 0 && n / 2 <= sizeof(h->b), "bad hex %s", s);
	for (i = 0; i < n / 2; i++) {
		ck_assert(sscanf(s + 2 * i, "%2x", &v) == 1);
		h->b[i] = (uint8_t)v;
	}
	h->len = n / 2;
}

/* Decode the hex string member ${key} of ${o} into ${h}. */
static void
hex_get(struct hex *h, json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	ck_assert_msg(json_is_string(x), "no string %s", key);
	hex_set(h, json_string_value(x));
}

/* Load the Wycheproof file ${name}; fail the test if it cannot. */
static json_t *
wp_load(const char *name)
{
	char path[512];
	json_error_t err;
	json_t *root;

	snprintf(path, sizeof(path), "%s/%s", WYCHEPROOF_DIR, name);
	root = json_load_file(path, 0, &err);
	ck_assert_msg(root != NULL, "%s:%d: %s", path, err.line, err.text);
	return (root);
}

/* The test's "result": 'v'alid, 'i'nvalid or 'a'cceptable. */
static char
wp_result(json_t *t)
{
	const char *r = json_string_value(json_object_get(t, "result"));

	ck_assert(r != NULL);
	ck_assert(strcmp(r, "valid") == 0 || strcmp(r, "invalid") == 0 ||
	    strcmp(r, "acceptable") == 0);
	return (r[0]);
}

/* The test's tcId, for messages. */
static int
wp_id(json_t *t)
{

	return ((int)json_integer_value(json_object_get(t, "tcId")));
}

/* An integer member of a test group (sizes are in bits). */
static size_t
wp_int(json_t *o, const char *key)
{
	json_t *x = json_object_get(o, key);

	ck_assert_msg(json_is_integer(x), "no integer %s", key);
	return ((size_t)json_integer_value(x));
}

/* Counts printed by each Wycheproof case (Check shows them in the log). */
struct wp_count {
	unsigned valid, invalid, acc_ok, acc_rejected, skipped;
};

static void
wp_report(const char *file, const struct wp_count *c)
{

	printf("wycheproof %s: %u valid accepted, %u invalid rejected, "
	       "%u acceptable accepted, %u acceptable rejected, %u skipped\n",
	    file, c->valid, c->invalid, c->acc_ok, c->acc_rejected,
	    c->skipped);
}

static struct hex a, b, c, d, e, f;

static void
setup(void)
{

	ck_assert_int_eq(crypto_init(), 0);
}

/* ct_eq and ct_is_zero: every byte position counts. */
START_TEST(test_ct)
{
	uint8_t x[33], y[33];
	size_t i;

	memset(x, 0x5a, sizeof(x));
	memcpy(y, x, sizeof(y));
	ck_assert_int_eq(ct_eq(x, y, sizeof(x)), 1);
	ck_assert_int_eq(ct_eq(x, y, 0), 1);
	for (i = 0; i < sizeof(x); i++) {
		y[i] ^= 0x80;
		ck_assert_int_eq(ct_eq(x, y, sizeof(x)), 0);
		y[i] ^= 0x81;
		ck_assert_int_eq(ct_eq(x, y, sizeof(x)), 0);
		y[i] ^= 0x01;
	}
	memset(x, 0, sizeof(x));
	ck_assert_int_eq(ct_is_zero(x, sizeof(x)), 1);
	ck_assert_int_eq(ct_is_zero(x, 0), 1);
	for (i = 0; i < sizeof(x); i++) {
		x[i] = 1;
		ck_assert_int_eq(ct_is_zero(x, sizeof(x)), 0);
		x[i] = 0x80;
		ck_assert_int_eq(ct_is_zero(x, sizeof(x)), 0);
		x[i] = 0;
	}
}
END_TEST

/* RFC 7748 section 5.2 (two single multiplications, 1 and 1000 iterations)
 * and section 6.1 (Alice and Bob). */
START_TEST(test_rfc7748)
{
	uint8_t k[32], u[32], out[32], pa[32], pb[32], s1[32], s2[32];
	int i;

	hex_set(&a, "a546e36bf0527c9d3b16154b82465edd"
		    "62144c0ac1fc5a18506a2244ba449ac4");
	hex_set(&b, "e6db6867583030db3594c1a424b15f7c"
		    "726624ec26b3353b10a903a6d0ab1c4c");
	hex_set(&c, "c3da55379de9c6908e94ea4df28d084f"
		    "32eccf03491c71f754b4075577a28552");
	ck_assert_int_eq(crypto_x25519(out, a.b, b.b), 0);
	ck_assert_mem_eq(out, c.b, 32);

	hex_set(&a, "4b66e9d4d1b4673c5ad22691957d6af5"
		    "c11b6421e0ea01d42ca4169e7918ba0d");
	hex_set(&b, "e5210f12786811d3f4b7959d0538ae2c"
		    "31dbe7106fc03c3efc4cd549c715a493");
	hex_set(&c, "95cbde9476e8907d7aade45cb4b873f8"
		    "8b595a68799fa152e6f8f7647aac7957");
	ck_assert_int_eq(crypto_x25519(out, a.b, b.b), 0);
	ck_assert_mem_eq(out, c.b, 32);

	/* k = u = 9; then k, u = X25519(k, u), k. */
	memset(k, 0, 32);
	k[0] = 9;
	memcpy(u, k, 32);
	for (i = 1; i <= 1000; i++) {
		ck_assert_int_eq(crypto_x25519(out, k, u), 0);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1) {
			hex_set(&c, "422c8e7a6227d7bca1350b3e2bb7279f"
				    "7897b87bb6854b783c60e80311ae3079");
			ck_assert_mem_eq(k, c.b, 32);
		}
	}
	hex_set(&c, "684cf59ba83309552800ef566f2f4d3c"
		    "1c3887c49360e3875f2eb94d99532c51");
	ck_assert_mem_eq(k, c.b, 32);

	hex_set(&a, "77076d0a7318a57d3c16c17251b26645"
		    "df4c2f87ebc0992ab177fba51db92c2a");
	hex_set(&b, "5dab087e624a8a4b79e17f8b83800ee6"
		    "6f3bb1292618b6fd1c2f8b27ff88e0eb");
	ck_assert_int_eq(crypto_x25519_pub(pa, a.b), 0);
	ck_assert_int_eq(crypto_x25519_pub(pb, b.b), 0);
	hex_set(&c, "8520f0098930a754748b7ddcb43ef75a"
		    "0dbf3a0d26381af4eba4a98eaa9b4e6a");
	ck_assert_mem_eq(pa, c.b, 32);
	hex_set(&c, "de9edb7d7b7dc1b4d35b61c2ece43537"
		    "3f8343c85b78674dadfc7e146f882b4f");
	ck_assert_mem_eq(pb, c.b, 32);
	ck_assert_int_eq(crypto_x25519(s1, a.b, pb), 0);
	ck_assert_int_eq(crypto_x25519(s2, b.b, pa), 0);
	hex_set(&c, "4a5d9d5ba4ce2de1728e3bf480350f25"
		    "e07e21c947d19e3376f09b3c1e161742");
	ck_assert_mem_eq(s1, c.b, 32);
	ck_assert_mem_eq(s2, c.b, 32);
}
END_TEST

/* A low-order peer point gives -1 and a zeroed output. */
START_TEST(test_x25519_low_order)
{
	uint8_t out[32], zero[32], priv[32], pub[32];

	ck_assert_int_eq(crypto_x25519_keypair(priv, pub), 0);
	memset(zero, 0, sizeof(zero));
	memset(out, 0xaa, sizeof(out));
	ck_assert_int_eq(crypto_x25519(out, priv, zero), -1);
	ck_assert_mem_eq(out, zero, 32);
}
END_TEST

/* RFC 5869 appendix A, test cases 1 to 3 (SHA-256). */
START_TEST(test_rfc5869)
{
	uint8_t okm[82];
	size_t i;

	memset(a.b, 0x0b, 22);
	hex_set(&b, "000102030405060708090a0b0c");
	hex_set(&c, "f0f1f2f3f4f5f6f7f8f9");
	hex_set(&d, "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db0"
		    "2d56ecc4c5bf34007208d5b887185865");
	ck_assert_int_eq(crypto_hkdf_sha256(okm, 42, b.b, b.len, a.b, 22, c.b,
			     c.len),
	    0);
	ck_assert_mem_eq(okm, d.b, 42);

	/* Case 2: 80-byte IKM, salt and info counting up, L = 82. */
	for (i = 0; i < 80; i++) {
		a.b[i] = (uint8_t)i;
		b.b[i] = (uint8_t)(0x60 + i);
		c.b[i] = (uint8_t)(0xb0 + i);
	}
	hex_set(&d, "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050"
		    "cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f"
		    "09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87");
	ck_assert_int_eq(crypto_hkdf_sha256(okm, 82, b.b, 80, a.b, 80, c.b, 80),
	    0);
	ck_assert_mem_eq(okm, d.b, 82);

	/* Case 3: empty salt and info. */
	memset(a.b, 0x0b, 22);
	hex_set(&d, "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec345"
		    "4e5f3c738d2d9d201395faa4b61a96c8");
	ck_assert_int_eq(crypto_hkdf_sha256(okm, 42, "", 0, a.b, 22, "", 0),
	    0);
	ck_assert_mem_eq(okm, d.b, 42);

	/* More than 255 blocks is refused. */
	ck_assert_int_eq(crypto_hkdf_sha256(e.b, 255 * 32 + 1, "", 0, a.b, 22,
			     "", 0),
	    -1);
}
END_TEST

/* crypto_aead_open wipes the buffer when the tag is wrong (both ciphers). */
START_TEST(test_aead_open_wipes)
{
	struct crypto_aead ae;
	uint8_t key[32], iv[12], buf[100], tag[16], zero[100];
	enum crypto_aead_alg alg = _i == 0 ? CRYPTO_AESGCM : CRYPTO_CHACHAPOLY;

	memset(key, 7, sizeof(key));
	memset(iv, 1, sizeof(iv));
	memset(buf, 0x42, sizeof(buf));
	memset(zero, 0, sizeof(zero));
	ck_assert_int_eq(crypto_aead_init(&ae, alg, key, sizeof(key)), 0);
	crypto_aead_seal(&ae, iv, "ad", 2, buf, sizeof(buf), tag);
	tag[15] ^= 1;
	ck_assert_int_eq(crypto_aead_open(&ae, iv, "ad", 2, buf, sizeof(buf),
			     tag),
	    -1);
	ck_assert_mem_eq(buf, zero, sizeof(buf));

	/* A good tag still opens, and a copy of the state works too. */
	memset(buf, 0x42, sizeof(buf));
	crypto_aead_seal(&ae, iv, "ad", 2, buf, sizeof(buf), tag);
	{
		struct crypto_aead copy = ae;

		memset(&ae, 0, sizeof(ae));
		ck_assert_int_eq(crypto_aead_open(&copy, iv, "ad", 2, buf,
				     sizeof(buf), tag),
		    0);
		crypto_aead_fini(&copy);
	}
	memset(zero, 0x42, sizeof(zero));
	ck_assert_mem_eq(buf, zero, sizeof(buf));
}
END_TEST

/*
 * x25519_test.json: every valid case and every acceptable case with a
 * non-zero result must give "shared"; the 31 cases whose shared secret is
 * all zero (LowOrderPublic, ZeroSharedSecret) must be rejected.
 */
START_TEST(test_wp_x25519)
{
	json_t *root = wp_load("x25519_test.json"), *g, *t;
	struct wp_count n = {0, 0, 0, 0, 0};
	uint8_t out[32];
	size_t gi, ti;
	char r;
	int rc;

	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
	{
		json_array_foreach(json_object_get(g, "tests"), ti, t)
		{
			r = wp_result(t);
			hex_get(&a, t, "public");
			hex_get(&b, t, "private");
			hex_get(&c, t, "shared");
			ck_assert(a.len == 32 && b.len == 32 && c.len == 32);
			rc = crypto_x25519(out, b.b, a.b);
			ck_assert_msg(r != 'i', "tcId %d: invalid?", wp_id(t));
			if (ct_is_zero(c.b, 32)) {
				ck_assert_msg(r == 'a' && rc == -1,
				    "tcId %d: zero secret", wp_id(t));
				n.acc_rejected++;
				continue;
			}
			ck_assert_msg(rc == 0, "tcId %d rejected", wp_id(t));
			ck_assert_msg(memcmp(out, c.b, 32) == 0,
			    "tcId %d: wrong secret", wp_id(t));
			if (r == 'v')
				n.valid++;
			else
				n.acc_ok++;
		}
	}
	wp_report("x25519", &n);
	ck_assert_uint_eq(n.valid, 264);
	ck_assert_uint_eq(n.acc_ok + n.acc_rejected, 254);
	ck_assert_uint_eq(n.acc_rejected, 31);
	json_decref(root);
}
END_TEST

/*
 * AEAD files: groups with a 96-bit IV and a 128-bit tag run (seal must
 * give ct || tag for valid cases; open must accept valid and reject
 * invalid ones); other groups are outside the API and counted as skipped.
 */
static void
wp_aead(const char *file, enum crypto_aead_alg alg, unsigned want_valid,
    unsigned want_invalid, unsigned want_skipped)
{
	json_t *root = wp_load(file), *g, *t;
	struct wp_count n = {0, 0, 0, 0, 0};
	struct crypto_aead ae;
	uint8_t tag[16];
	size_t gi, ti;
	char r;

	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
	{
		if (wp_int(g, "ivSize") != 96 || wp_int(g, "tagSize") != 128) {
			n.skipped += (unsigned)json_array_size(
			    json_object_get(g, "tests"));
			continue;
		}
		json_array_foreach(json_object_get(g, "tests"), ti, t)
		{
			r = wp_result(t);
			ck_assert_msg(r != 'a', "tcId %d", wp_id(t));
			hex_get(&a, t, "key");
			hex_get(&b, t, "iv");
			hex_get(&c, t, "aad");
			hex_get(&d, t, "msg");
			hex_get(&e, t, "ct");
			hex_get(&f, t, "tag");
			ck_assert(b.len == 12 && f.len == 16);
			ck_assert_int_eq(crypto_aead_init(&ae, alg, a.b, a.len),
			    0);
			if (r == 'v') {
				/* Encrypt: ct and tag as expected. */
				ck_assert(d.len == e.len);
				crypto_aead_seal(&ae, b.b, c.b, c.len, d.b,
				    d.len, tag);
				ck_assert_msg(memcmp(d.b, e.b, e.len) == 0 &&
					memcmp(tag, f.b, 16) == 0,
				    "tcId %d: seal", wp_id(t));
				hex_get(&d, t, "msg");
			}
			/* Decrypt: valid opens to msg, invalid is refused. */
			ck_assert_int_eq(crypto_aead_open(&ae, b.b, c.b, c.len,
					     e.b, e.len, f.b),
			    r == 'v' ? 0 : -1);
			if (r == 'v') {
				ck_assert_msg(memcmp(e.b, d.b, d.len) == 0,
				    "tcId %d: open", wp_id(t));
				n.valid++;
			} else {
				ck_assert(ct_is_zero(e.b, e.len));
				n.invalid++;
			}
			crypto_aead_fini(&ae);
		}
	}
	wp_report(file, &n);
	ck_assert_uint_eq(n.valid, want_valid);
	ck_assert_uint_eq(n.invalid, want_invalid);
	ck_assert_uint_eq(n.skipped, want_skipped);
	json_decref(root);
}

START_TEST(test_wp_aesgcm)
{

	/* 197 tests with 96-bit IVs (128-, 192- and 256-bit keys). */
	wp_aead("aes_gcm_test.json", CRYPTO_AESGCM, 116, 81, 119);
}
END_TEST

START_TEST(test_wp_chachapoly)
{

	/* 9 one-test groups with other nonce sizes, all invalid. */
	wp_aead("chacha20_poly1305_test.json", CRYPTO_CHACHAPOLY, 256, 60, 9);
}
END_TEST

/*
 * hmac_sha256_test.json: compare the first tagSize/8 bytes of the full
 * HMAC with "tag" (ct_eq): equal for valid cases, different for invalid.
 */
START_TEST(test_wp_hmac)
{
	json_t *root = wp_load("hmac_sha256_test.json"), *g, *t;
	struct wp_count n = {0, 0, 0, 0, 0};
	uint8_t mac[32];
	size_t gi, ti, tlen;
	char r;

	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
	{
		tlen = wp_int(g, "tagSize") / 8;
		ck_assert(tlen > 0 && tlen <= 32);
		json_array_foreach(json_object_get(g, "tests"), ti, t)
		{
			r = wp_result(t);
			hex_get(&a, t, "key");
			hex_get(&b, t, "msg");
			hex_get(&c, t, "tag");
			ck_assert(c.len == tlen);
			crypto_hmac_sha256(mac, a.b, a.len, b.b, b.len);
			ck_assert_msg(ct_eq(mac, c.b, tlen) == (r == 'v'),
			    "tcId %d", wp_id(t));
			if (r == 'v')
				n.valid++;
			else
				n.invalid++;
		}
	}
	wp_report("hmac_sha256", &n);
	ck_assert_uint_eq(n.valid, 66);
	ck_assert_uint_eq(n.invalid, 108);
	json_decref(root);
}
END_TEST

/* hkdf_sha256_test.json: okm for valid cases; over 255 * 32 refused. */
START_TEST(test_wp_hkdf)
{
	json_t *root = wp_load("hkdf_sha256_test.json"), *g, *t;
	struct wp_count n = {0, 0, 0, 0, 0};
	size_t gi, ti, size;
	char r;

	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
	{
		json_array_foreach(json_object_get(g, "tests"), ti, t)
		{
			r = wp_result(t);
			hex_get(&a, t, "ikm");
			hex_get(&b, t, "salt");
			hex_get(&c, t, "info");
			hex_get(&d, t, "okm");
			size = wp_int(t, "size");
			ck_assert(size <= sizeof(e.b));
			if (r == 'v') {
				ck_assert_int_eq(crypto_hkdf_sha256(e.b, size,
						     b.b, b.len, a.b, a.len,
						     c.b, c.len),
				    0);
				ck_assert_msg(size == d.len &&
					memcmp(e.b, d.b, size) == 0,
				    "tcId %d", wp_id(t));
				n.valid++;
			} else {
				ck_assert_int_eq(crypto_hkdf_sha256(e.b, size,
						     b.b, b.len, a.b, a.len,
						     c.b, c.len),
				    -1);
				n.invalid++;
			}
		}
	}
	wp_report("hkdf_sha256", &n);
	ck_assert_uint_eq(n.valid, 83);
	ck_assert_uint_eq(n.invalid, 3);
	json_decref(root);
}
END_TEST

/* ECDSA files: valid signatures verify, invalid ones do not. */
static void
wp_ecdsa(const char *file, int der, unsigned want_valid,
    unsigned want_invalid)
{
	json_t *root = wp_load(file), *g, *t;
	struct wp_count n = {0, 0, 0, 0, 0};
	size_t gi, ti;
	char r;
	int rc;

	json_array_foreach(json_object_get(root, "testGroups"), gi, g)
	{
		hex_get(&a, json_object_get(g, "publicKey"), "uncompressed");
		json_array_foreach(json_object_get(g, "tests"), ti, t)
		{
			r = wp_result(t);
			ck_assert_msg(r != 'a', "tcId %d", wp_id(t));
			hex_get(&b, t, "msg");
			hex_get(&c, t, "sig");
			if (der)
				rc = crypto_p256_verify_der(a.b, a.len, b.b,
				    b.len, c.b, c.len);
			else
				rc = crypto_p256_verify(a.b, a.len, b.b, b.len,
				    c.b, c.len);
			ck_assert_msg(rc == (r == 'v' ? 0 : -1), "tcId %d",
			    wp_id(t));
			if (r == 'v')
				n.valid++;
			else
				n.invalid++;
		}
	}
	wp_report(file, &n);
	ck_assert_uint_eq(n.valid, want_valid);
	ck_assert_uint_eq(n.invalid, want_invalid);
	json_decref(root);
}

START_TEST(test_wp_ecdsa_p1363)
{

	wp_ecdsa("ecdsa_secp256r1_sha256_p1363_test.json", 0, 173, 89);
}
END_TEST

START_TEST(test_wp_ecdsa_der)
{

	wp_ecdsa("ecdsa_secp256r1_sha256_test.json", 1, 174, 310);
}
END_TEST

/* Our own signatures verify in both encodings' raw form, and only ours. */
START_TEST(test_p256_sign)
{
	uint8_t priv[32], pub[65], sig[64];

	ck_assert_int_eq(crypto_p256_keypair(priv, pub), 0);
	ck_assert_int_eq(crypto_p256_sign(sig, priv, "hello", 5), 0);
	ck_assert_int_eq(crypto_p256_verify(pub, 65, "hello", 5, sig, 64), 0);
	ck_assert_int_eq(crypto_p256_verify(pub, 65, "hellp", 5, sig, 64), -1);
	sig[10] ^= 1;
	ck_assert_int_eq(crypto_p256_verify(pub, 65, "hello", 5, sig, 64), -1);
}
END_TEST

static Suite *
crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("known answers");
	tcase_add_checked_fixture(tc, setup, NULL);
	/*
	 * Check's default of 4 s per test leaves too little room for ASan
	 * on a loaded machine: test_rfc7748 took 1.2 s under ASan
	 * at a load of 16 to 22.
	 */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ct);
	tcase_add_test(tc, test_rfc7748);
	tcase_add_test(tc, test_x25519_low_order);
	tcase_add_test(tc, test_rfc5869);
	tcase_add_loop_test(tc, test_aead_open_wipes, 0, 2);
	tcase_add_test(tc, test_p256_sign);
	suite_add_tcase(s, tc);

	tc = tcase_create("wycheproof");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_wp_x25519);
	tcase_add_test(tc, test_wp_aesgcm);
	tcase_add_test(tc, test_wp_chachapoly);
	tcase_add_test(tc, test_wp_hmac);
	tcase_add_test(tc, test_wp_hkdf);
	tcase_add_test(tc, test_wp_ecdsa_p1363);
	tcase_add_test(tc, test_wp_ecdsa_der);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(crypto_suite()));
}
