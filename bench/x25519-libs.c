/*
 * x25519-libs: what one X25519 (a variable-base scalar multiplication,
 * the operation on a handshake's critical path) costs in each library
 * Debian 12 packages, against the BearSSL 0.6 code sallyport uses
 * (br_ec_c25519_m31: Debian's build has no m62/m64 code).  Not built by
 * make and not a dependency of sallyport: it exists to back the argument
 * in bench/README.md.  Rounds are interleaved (every library once per
 * round, 0.05 s each) and the best of 7 rounds is kept, so a shared,
 * loaded machine shows the ratios even when it distorts the absolute
 * figures.  Every library's product is compared with BearSSL's first.
 *
 * Build (needs libbearssl-dev, nettle-dev, libssl-dev; libsodium23 is
 * called through its two public prototypes, since Debian 12 has no
 * headers installed here):
 *   cc -O2 -o /tmp/x25519-libs bench/x25519-libs.c -lbearssl -lhogweed \
 *       -lnettle -lcrypto -l:libsodium.so.23
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bearssl.h>
#include <nettle/curve25519.h>
#include <openssl/evp.h>

int sodium_init(void);
int crypto_scalarmult(unsigned char *, const unsigned char *,
    const unsigned char *);

static unsigned char k[32], u[32];
static EVP_PKEY *okey, *opeer;

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec + t.tv_nsec / 1e9);
}

static void
br(const br_ec_impl *im, unsigned char o[32])
{

	memcpy(o, u, 32);
	im->mul(o, 32, k, 32, BR_EC_curve25519);
}

static void m31(unsigned char o[32]) { br(&br_ec_c25519_m31, o); }
static void m15(unsigned char o[32]) { br(&br_ec_c25519_m15, o); }
static void i31(unsigned char o[32]) { br(&br_ec_c25519_i31, o); }
static void net(unsigned char o[32]) { curve25519_mul(o, k, u); }
static void sod(unsigned char o[32]) { (void)crypto_scalarmult(o, k, u); }

static void
ossl(unsigned char o[32])
{
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(okey, NULL);
	size_t n = 32;

	if (c == NULL || EVP_PKEY_derive_init(c) != 1 ||
	    EVP_PKEY_derive_set_peer(c, opeer) != 1 ||
	    EVP_PKEY_derive(c, o, &n) != 1)
		memset(o, 0, 32);
	EVP_PKEY_CTX_free(c);
}

int
main(void)
{
	struct {
		const char *name;
		void (*f)(unsigned char *);
		double best;
	} t[] = {
		{"BearSSL 0.6 c25519_m31 (sallyport)", m31, 1e9},
		{"BearSSL 0.6 c25519_m15", m15, 1e9},
		{"BearSSL 0.6 c25519_i31", i31, 1e9},
		{"Nettle 3.8 curve25519_mul", net, 1e9},
		{"OpenSSL 3.0 EVP X25519 derive", ossl, 1e9},
		{"libsodium 1.0.18 crypto_scalarmult", sod, 1e9},
	};
	const size_t nt = sizeof(t) / sizeof(t[0]);
	unsigned char want[32], got[32];
	size_t i, r;

	for (i = 0; i < 32; i++)
		k[i] = (unsigned char)(i * 7 + 1);
	u[0] = 9; /* the base point: any valid u works for the timing */
	if (sodium_init() < 0 ||
	    (okey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, k,
	    32)) == NULL ||
	    (opeer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, u,
	    32)) == NULL)
		return (1);
	m31(want);
	for (i = 1; i < nt; i++) {
		t[i].f(got);
		if (memcmp(got, want, 32) != 0) {
			printf("%s disagrees with BearSSL\n", t[i].name);
			return (1);
		}
	}
	for (r = 0; r < 7; r++)
		for (i = 0; i < nt; i++) {
			double a = now(), us;
			long n = 0;

			while (now() - a < 0.05) {
				t[i].f(got);
				n++;
			}
			us = (now() - a) / n * 1e6;
			if (us < t[i].best)
				t[i].best = us;
		}
	for (i = 0; i < nt; i++)
		printf("%-38s %8.1f us  %5.2fx BearSSL m31's speed\n",
		    t[i].name, t[i].best, t[0].best / t[i].best);
	return (0);
}
