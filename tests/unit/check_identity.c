/*
 * check_identity: identifier rule, PEM key parsing (openssl-made fixtures
 * in tests/vectors/keys), key file load/save, mode checks.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "fixture.h"
#include "identity.h"

#ifndef VECTORS
#define VECTORS "tests/vectors/keys"
#endif

/* Identifier of p256-pkcs8.pem, computed with openssl (see README). */
#define FIXTURE_ID                                                             \
	"I88c315c5f8bd49df0a78319027fdb410da3ece2d781aafcc4ce0b9b0a07b4c42"
#define PARAMS_ID                                                              \
	"I513b0ac30ba4940c771e05a205878296e369c4dc1eaf06343ddd097d50518bdb"
/* SHA-256 of 0x04 || Gx || Gy, the P-256 generator (private key 1). */
#define GENERATOR_ID                                                           \
	"I698bea63dc44a344663ff1429aea10842df27b6b991ef25866b2c6c02cdcc5be"

static char tmpdir[64];

static void
tmp_setup(void)
{

	strcpy(tmpdir, "/tmp/check_identity.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(crypto_init(), 0);
}

static void
tmp_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Read fixture ${name} into ${buf}; return its length. */
static size_t
fixture(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", VECTORS, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, cap, f);
	ck_assert_int_lt(n, cap);
	fclose(f);
	return (n);
}

/* Parse fixture ${name}; return identity_parse_pem's result. */
static int
parse_fixture(const char *name, int flags, struct identity *idn, char *err,
    size_t errlen)
{
	uint8_t buf[4096];
	size_t n = fixture(name, buf, sizeof(buf));

	return (identity_parse_pem(idn, buf, n, flags, err, errlen));
}

/* Write ${len} bytes to ${tmpdir}/${name} with ${mode}; path in ${path}. */
static void
write_file(const char *name, const void *data, size_t len, mode_t mode,
    char *path, size_t pathlen)
{
	int fd;

	snprintf(path, pathlen, "%s/%s", tmpdir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

START_TEST(test_id_generator)
{
	static const uint8_t one[32] = {[31] = 1};
	struct identity idn;
	char text[IDENTITY_TEXT_SIZE];

	ck_assert_int_eq(identity_from_priv(&idn, one), 0);
	ck_assert_int_eq(idn.pub[0], 0x04);
	ck_assert_int_eq(idn.pub[1], 0x6b);
	ck_assert_int_eq(idn.pub[64], 0xf5);
	ck_assert_str_eq(identity_id_format(idn.id, text), GENERATOR_ID);
	ck_assert_int_eq(idn.has_priv, 1);
	identity_fini(&idn);
}
END_TEST

START_TEST(test_id_format_parse)
{
	uint8_t id[32], back[32];
	char text[IDENTITY_TEXT_SIZE], bad[IDENTITY_TEXT_SIZE + 2];
	size_t i;

	for (i = 0; i < sizeof(id); i++)
		id[i] = (uint8_t)(i * 37 + 5);
	identity_id_format(id, text);
	ck_assert_uint_eq(strlen(text), IDENTITY_TEXT_LEN);
	ck_assert_int_eq(text[0], 'I');
	ck_assert_int_eq(identity_id_parse(text, back), 0);
	ck_assert_mem_eq(id, back, sizeof(id));
	ck_assert_int_eq(identity_id_parse(FIXTURE_ID, back), 0);
	memcpy(id, back, sizeof(id));

	/* Uppercase hex, lowercase 'i', short, long, empty: refused. */
	strcpy(bad, FIXTURE_ID);
	bad[5] = 'C';
	ck_assert_int_eq(identity_id_parse(bad, back), -1);
	strcpy(bad, FIXTURE_ID);
	bad[0] = 'i';
	ck_assert_int_eq(identity_id_parse(bad, back), -1);
	strcpy(bad, FIXTURE_ID);
	bad[IDENTITY_TEXT_LEN - 1] = '\0';
	ck_assert_int_eq(identity_id_parse(bad, back), -1);
	strcpy(bad, FIXTURE_ID);
	strcat(bad, "0");
	ck_assert_int_eq(identity_id_parse(bad, back), -1);
	strcpy(bad, FIXTURE_ID);
	bad[10] = 'g';
	ck_assert_int_eq(identity_id_parse(bad, back), -1);
	ck_assert_int_eq(identity_id_parse("", back), -1);
	ck_assert_int_eq(identity_id_parse("I", back), -1);
	ck_assert_int_eq(identity_id_parse(FIXTURE_ID + 1, back), -1);
	/* A failed parse leaves the output alone. */
	ck_assert_mem_eq(id, back, sizeof(id));
}
END_TEST

START_TEST(test_scalar_range)
{
	static const uint8_t zero[32];
	/* n, the order of P-256, and n - 1. */
	static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x00,
	    0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xbc,
	    0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2,
	    0xfc, 0x63, 0x25, 0x51};
	uint8_t nm1[32], ff[32];
	struct identity idn;

	memcpy(nm1, n, 32);
	nm1[31]--;
	memset(ff, 0xff, sizeof(ff));
	ck_assert_int_eq(identity_from_priv(&idn, zero), -1);
	ck_assert_int_eq(identity_from_priv(&idn, n), -1);
	ck_assert_int_eq(identity_from_priv(&idn, ff), -1);
	ck_assert_int_eq(identity_from_priv(&idn, nm1), 0);
	identity_fini(&idn);
}
END_TEST

START_TEST(test_from_pub)
{
	struct identity a, b;

	ck_assert_int_eq(identity_generate(&a), 0);
	ck_assert_int_eq(identity_from_pub(&b, a.pub, sizeof(a.pub)), 0);
	ck_assert_mem_eq(a.id, b.id, sizeof(a.id));
	ck_assert_int_eq(b.has_priv, 0);
	ck_assert_int_eq(identity_from_pub(&b, a.pub, 64), -1);
	a.pub[40] ^= 1; /* now off the curve */
	ck_assert_int_eq(identity_from_pub(&b, a.pub, sizeof(a.pub)), -1);
	a.pub[40] ^= 1;
	a.pub[0] = 0x02;
	ck_assert_int_eq(identity_from_pub(&b, a.pub, sizeof(a.pub)), -1);
	identity_fini(&a);
}
END_TEST

START_TEST(test_openssl_pkcs8)
{
	struct identity idn;
	char err[256], text[IDENTITY_TEXT_SIZE];

	ck_assert_int_eq(parse_fixture("p256-pkcs8.pem", 0, &idn, err,
			     sizeof(err)),
	    0);
	ck_assert_int_eq(idn.has_priv, 1);
	ck_assert_str_eq(identity_id_format(idn.id, text), FIXTURE_ID);
	identity_fini(&idn);
}
END_TEST

START_TEST(test_openssl_sec1)
{
	struct identity idn;
	char err[256], text[IDENTITY_TEXT_SIZE];

	ck_assert_int_eq(parse_fixture("p256-sec1.pem", 0, &idn, err,
			     sizeof(err)),
	    0);
	ck_assert_str_eq(identity_id_format(idn.id, text), FIXTURE_ID);
	/* "EC PARAMETERS" before the key, as openssl ecparam writes. */
	ck_assert_int_eq(parse_fixture("p256-params-sec1.pem", 0, &idn, err,
			     sizeof(err)),
	    0);
	ck_assert_str_eq(identity_id_format(idn.id, text), PARAMS_ID);
	identity_fini(&idn);
}
END_TEST

START_TEST(test_openssl_public)
{
	struct identity idn;
	char err[256], text[IDENTITY_TEXT_SIZE];

	ck_assert_int_eq(parse_fixture("p256-pub.pem", IDENTITY_PUBLIC_OK,
			     &idn, err, sizeof(err)),
	    0);
	ck_assert_int_eq(idn.has_priv, 0);
	ck_assert_str_eq(identity_id_format(idn.id, text), FIXTURE_ID);
	/* Without the flag a public key is refused. */
	ck_assert_int_eq(parse_fixture("p256-pub.pem", 0, &idn, err,
			     sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "this is a public key; a private key is needed "
			      "here");
	ck_assert_int_eq(parse_fixture("p256-pub-compressed.pem",
			     IDENTITY_PUBLIC_OK, &idn, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "compressed public keys are not supported");
}
END_TEST

/* Each of these is refused with the given message. */
static const struct {
	const char *file;
	const char *msg;
} refused[] = {
    {"p384-pkcs8.pem", "key is on P-384, not P-256 (make one with sallyport "
		       "identity create)"},
    {"p384-sec1.pem", "key is on P-384, not P-256 (make one with sallyport "
		      "identity create)"},
    {"p384-pub.pem", "public key is not on P-256"},
    {"ed25519.pem", "unsupported key algorithm (sallyport identities are "
		    "ECDSA P-256 keys)"},
    {"ed25519-pub.pem", "not an EC public key (sallyport identities are "
			"ECDSA P-256 keys)"},
    {"rsa1024.pem", "not an EC key (sallyport identities are ECDSA P-256 "
		    "keys)"},
    {"p256-encrypted.pem", "encrypted private keys are not supported "
			   "(decrypt it with openssl pkey)"},
};

START_TEST(test_wrong_keys)
{
	struct identity idn;
	char err[256];

	ck_assert_int_eq(parse_fixture(refused[_i].file, IDENTITY_PUBLIC_OK,
			     &idn, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, refused[_i].msg);
	/* A failed parse leaves nothing behind. */
	ck_assert_int_eq(ct_is_zero(&idn, sizeof(idn)), 1);
}
END_TEST

START_TEST(test_truncated)
{
	uint8_t buf[4096];
	struct identity idn;
	char err[256];
	const char *end;
	size_t n, len, cut;

	n = fixture("p256-pkcs8.pem", buf, sizeof(buf));
	buf[n] = '\0';
	end = strstr((char *)buf, "-----END");
	ck_assert_ptr_nonnull(end);
	cut = (size_t)(end - (char *)buf);
	/* Every prefix that stops before the END line is refused. */
	for (len = 0; len <= cut; len++)
		ck_assert_msg(identity_parse_pem(&idn, buf, len, 0, err,
				  sizeof(err)) == -1,
		    "prefix of %zu bytes accepted", len);
	ck_assert_str_eq(err, "truncated PEM (no END line)");
	/* Without its final newline the file still parses. */
	ck_assert_int_eq(identity_parse_pem(&idn, buf, n - 1, 0, err,
			     sizeof(err)),
	    0);
	identity_fini(&idn);
}
END_TEST

START_TEST(test_truncated_der)
{
	struct identity idn, back;
	uint8_t der[256], pem[1024];
	br_ec_private_key sk;
	size_t derlen, pemlen, cut;
	char err[256];

	/* A well-formed PEM around a DER key cut short. */
	ck_assert_int_eq(identity_generate(&idn), 0);
	sk.curve = BR_EC_secp256r1;
	sk.x = idn.priv;
	sk.xlen = sizeof(idn.priv);
	derlen = br_encode_ec_pkcs8_der(der, &sk, NULL);
	ck_assert_uint_gt(derlen, 0);
	for (cut = 1; cut < derlen; cut += 7) {
		pemlen = br_pem_encode(pem, der, derlen - cut, "PRIVATE KEY",
		    0);
		ck_assert_int_eq(identity_parse_pem(&back, pem, pemlen, 0, err,
				     sizeof(err)),
		    -1);
	}
	pemlen = br_pem_encode(pem, der, derlen, "PRIVATE KEY", 0);
	ck_assert_int_eq(identity_parse_pem(&back, pem, pemlen, 0, err,
			     sizeof(err)),
	    0);
	ck_assert_mem_eq(back.id, idn.id, sizeof(idn.id));
	identity_fini(&idn);
	identity_fini(&back);
}
END_TEST

START_TEST(test_garbage)
{
	static const char *const inputs[] = {
	    "",
	    "hello world\n",
	    "-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n",
	    "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	    "-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n",
	    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    "-----BEGIN PUBLIC KEY-----\nMAA=\n-----END PUBLIC KEY-----\n",
	};
	uint8_t rnd[512], buf[1024];
	struct identity idn;
	char err[256];
	size_t i, n;

	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++)
		ck_assert_msg(identity_parse_pem(&idn,
				  (const uint8_t *)inputs[i], strlen(inputs[i]),
				  IDENTITY_PUBLIC_OK, err, sizeof(err)) == -1,
		    "input %zu accepted", i);
	ck_assert_int_eq(identity_parse_pem(&idn, (const uint8_t *)"x", 1, 0,
			     err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "no key found (expected a PEM \"PRIVATE KEY\" "
			      "or \"EC PRIVATE KEY\" block)");
	/* Random DER inside valid PEM, and random bytes alone. */
	for (i = 0; i < 50; i++) {
		ck_assert_int_eq(crypto_random(rnd, sizeof(rnd)), 0);
		n = br_pem_encode(buf, rnd, 1 + rnd[0] % 200,
		    i % 2 ? "PRIVATE KEY" : "PUBLIC KEY", 0);
		ck_assert_int_eq(identity_parse_pem(&idn, buf, n,
				     IDENTITY_PUBLIC_OK, err, sizeof(err)),
		    -1);
		ck_assert_int_eq(identity_parse_pem(&idn, rnd, sizeof(rnd),
				     IDENTITY_PUBLIC_OK, err, sizeof(err)),
		    -1);
	}
	/* Two keys in one file. */
	n = fixture("p256-pkcs8.pem", buf, sizeof(buf) / 2);
	memcpy(buf + n, buf, n);
	ck_assert_int_eq(identity_parse_pem(&idn, buf, 2 * n, 0, err,
			     sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "more than one key in the file");
}
END_TEST

START_TEST(test_round_trip)
{
	struct identity a, b;
	struct stat st;
	char path[256], err[256];

	ck_assert_int_eq(identity_generate(&a), 0);
	snprintf(path, sizeof(path), "%s/node.key", tmpdir);
	ck_assert_int_eq(identity_save(&a, path, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(identity_load(&b, path, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(b.has_priv, 1);
	ck_assert_mem_eq(a.priv, b.priv, sizeof(a.priv));
	ck_assert_mem_eq(a.pub, b.pub, sizeof(a.pub));
	ck_assert_mem_eq(a.id, b.id, sizeof(a.id));
	/* Wiped by fini. */
	identity_fini(&b);
	ck_assert_int_eq(ct_is_zero(&b, sizeof(b)), 1);
	identity_fini(&a);
}
END_TEST

START_TEST(test_overwrite_refused)
{
	struct identity a, b;
	char path[256], err[256];
	uint8_t before[512], after[512];
	FILE *f;
	size_t n1, n2;

	ck_assert_int_eq(identity_generate(&a), 0);
	ck_assert_int_eq(identity_generate(&b), 0);
	snprintf(path, sizeof(path), "%s/node.key", tmpdir);
	ck_assert_int_eq(identity_save(&a, path, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	n1 = fread(before, 1, sizeof(before), f);
	fclose(f);
	errno = 0;
	ck_assert_int_eq(identity_save(&b, path, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_ptr_nonnull(strstr(err, "already exists"));
	ck_assert_ptr_nonnull(f = fopen(path, "rb"));
	n2 = fread(after, 1, sizeof(after), f);
	fclose(f);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(before, after, n1);
	/* A dangling symbolic link is not followed either. */
	snprintf(path, sizeof(path), "%s/link.key", tmpdir);
	ck_assert_int_eq(symlink("/nonexistent-sallyport-target", path), 0);
	ck_assert_int_eq(identity_save(&b, path, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EEXIST);
	identity_fini(&a);
	identity_fini(&b);
}
END_TEST

START_TEST(test_unsafe_modes)
{
	uint8_t buf[4096];
	struct identity idn;
	char path[256], err[1024], want[1024];
	size_t n;

	n = fixture("p256-pkcs8.pem", buf, sizeof(buf));
	write_file("k.pem", buf, n, 0644, path, sizeof(path));
	errno = 0;
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EPERM);
	snprintf(want, sizeof(want), "%s: permissions 0644 let others read "
	    "this private key (0600 or stricter needed); fix: chmod 600 %s",
	    path, path);
	ck_assert_str_eq(err, want);
	/* Even when public keys are welcome, a private one is refused. */
	ck_assert_int_eq(identity_load(&idn, path, IDENTITY_PUBLIC_OK, err,
			     sizeof(err)),
	    -1);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(ct_is_zero(&idn, sizeof(idn)), 1);
	/* World bits alone, group write: refused. */
	ck_assert_int_eq(chmod(path, 0604), 0);
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(chmod(path, 0400), 0);
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(chmod(path, 0640), 0);
	if (geteuid() == 0) {
		/* Root-owned 0640 is fine (PostgreSQL's rule). */
		ck_assert_int_eq(identity_load(&idn, path, 0, err,
				     sizeof(err)),
		    0);
		/* Another user's key is refused, whatever its mode. */
		ck_assert_int_eq(chmod(path, 0600), 0);
		ck_assert_int_eq(chown(path, 12345, 12345), 0);
		ck_assert_int_eq(identity_load(&idn, path, 0, err,
				     sizeof(err)),
		    -1);
		ck_assert_int_eq(errno, EPERM);
		ck_assert_ptr_nonnull(strstr(err, "owned by uid 12345"));
		ck_assert_ptr_nonnull(strstr(err, "fix: chown 0 "));
		/* ... unless it is the [node] user's (issue 19): 0600 ... */
		ck_assert_int_eq(identity_load_for(&idn, path, 0, 12345, err,
				     sizeof(err)),
		    0);
		/* ... not group-readable like root's ... */
		ck_assert_int_eq(chmod(path, 0640), 0);
		ck_assert_int_eq(identity_load_for(&idn, path, 0, 12345, err,
				     sizeof(err)),
		    -1);
		ck_assert_int_eq(errno, EPERM);
		ck_assert_ptr_nonnull(strstr(err, "fix: chmod 600"));
		/* ... and the fix for a third user's key names the [node]
		 * user. */
		ck_assert_int_eq(chmod(path, 0600), 0);
		ck_assert_int_eq(identity_load_for(&idn, path, 0, 54321, err,
				     sizeof(err)),
		    -1);
		ck_assert_ptr_nonnull(strstr(err, "the [node] user it switches "
						  "to (uid 54321) or root"));
		ck_assert_ptr_nonnull(strstr(err, "fix: chown 54321 "));
	} else {
		ck_assert_int_eq(identity_load(&idn, path, 0, err,
				     sizeof(err)),
		    -1);
		ck_assert_ptr_nonnull(strstr(err, "fix: chmod 600"));
		/* Another [node] user changes nothing for our own key. */
		ck_assert_int_eq(identity_load_for(&idn, path, 0,
				     geteuid() + 1, err, sizeof(err)),
		    -1);
		ck_assert_ptr_nonnull(strstr(err, "fix: chmod 600"));
		ck_assert_int_eq(chmod(path, 0600), 0);
		ck_assert_int_eq(identity_load_for(&idn, path, 0,
				     geteuid() + 1, err, sizeof(err)),
		    0);
	}
	identity_fini(&idn);
}
END_TEST

START_TEST(test_public_file_modes)
{
	uint8_t buf[4096];
	struct identity idn;
	char path[256], err[512], text[IDENTITY_TEXT_SIZE];
	size_t n;

	/* A world-readable public key file is fine. */
	n = fixture("p256-pub.pem", buf, sizeof(buf));
	write_file("pub.pem", buf, n, 0644, path, sizeof(path));
	ck_assert_int_eq(identity_load(&idn, path, IDENTITY_PUBLIC_OK, err,
			     sizeof(err)),
	    0);
	ck_assert_str_eq(identity_id_format(idn.id, text), FIXTURE_ID);
	/* But it is not an identity a node can use. */
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EPERM);
}
END_TEST

START_TEST(test_load_errors)
{
	uint8_t buf[4096];
	struct identity idn;
	char path[256], link[256], err[1024], want[1024];
	size_t n;

	snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, ENOENT);
	snprintf(want, sizeof(want), "%s: cannot open: %s", path,
	    strerror(ENOENT));
	ck_assert_str_eq(err, want);
	/* A directory is not a key file. */
	ck_assert_int_eq(identity_load(&idn, tmpdir, 0, err, sizeof(err)),
	    -1);
	ck_assert_int_eq(errno, EINVAL);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	ck_assert_str_eq(err, want);
	/* Content errors name the file. */
	write_file("junk.key", "junk\n", 5, 0600, path, sizeof(path));
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_int_eq(errno, EINVAL);
	snprintf(want, sizeof(want), "%s: no key found (expected a PEM "
	    "\"PRIVATE KEY\" or \"EC PRIVATE KEY\" block)", path);
	ck_assert_str_eq(err, want);
	/* Too large. */
	memset(buf, '\n', sizeof(buf));
	write_file("big.key", buf, 0, 0600, path, sizeof(path));
	for (n = 0; n <= IDENTITY_FILE_MAX / sizeof(buf); n++) {
		FILE *f = fopen(path, "ab");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(buf, 1, sizeof(buf), f), sizeof(buf));
		fclose(f);
	}
	ck_assert_int_eq(identity_load(&idn, path, 0, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "too large"));
	/* Symbolic links are followed (Kubernetes secret volumes). */
	n = fixture("p256-sec1.pem", buf, sizeof(buf));
	write_file("real.key", buf, n, 0600, path, sizeof(path));
	snprintf(link, sizeof(link), "%s/link.key", tmpdir);
	ck_assert_int_eq(symlink(path, link), 0);
	ck_assert_int_eq(identity_load(&idn, link, 0, err, sizeof(err)), 0);
	identity_fini(&idn);
}
END_TEST

static Suite *
identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc;

	tc = tcase_create("identifier");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_id_generator);
	tcase_add_test(tc, test_id_format_parse);
	tcase_add_test(tc, test_scalar_range);
	tcase_add_test(tc, test_from_pub);
	suite_add_tcase(s, tc);

	tc = tcase_create("pem");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_openssl_pkcs8);
	tcase_add_test(tc, test_openssl_sec1);
	tcase_add_test(tc, test_openssl_public);
	tcase_add_loop_test(tc, test_wrong_keys, 0,
	    sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_truncated_der);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_overwrite_refused);
	tcase_add_test(tc, test_unsafe_modes);
	tcase_add_test(tc, test_public_file_modes);
	tcase_add_test(tc, test_load_errors);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(identity_suite()));
}
