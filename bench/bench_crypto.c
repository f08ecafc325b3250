/*
 * bench_crypto: micro benchmarks of crypto.c and noise.c on one core.
 *
 * Usage: bench/bench_crypto [SECONDS]
 *
 * Each figure is measured for about SECONDS (default 1) of wall-clock time
 * on CLOCK_MONOTONIC: X25519 operations per second, AES-256-GCM and
 * ChaCha20-Poly1305 sealing of 16 KiB buffers in MB/s (10^6 bytes), and full
 * NN and XX handshakes per second (both parties in this process, random
 * ephemerals, empty payloads, Split included; XX also from a copied
 * initialised template, which saves computing s.pub).  Not a test: it prints
 * numbers and checks nothing but errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto.h"
#include "noise.h"

#define BUF_LEN 16384

static double seconds = 1.0;

/* Monotonic time in seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Run ${fn}(${arg}) in batches of ${batch} until ${seconds} have passed;
 * return the number of calls per second.
 */
static double
rate(int (*fn)(void *), void *arg, unsigned long batch)
{
	double t0 = now(), t;
	unsigned long n = 0, i;

	do {
		for (i = 0; i < batch; i++) {
			if (fn(arg) != 0) {
				fprintf(stderr, "bench_crypto: operation "
						"failed\n");
				exit(1);
			}
		}
		n += batch;
	} while ((t = now() - t0) < seconds);
	return ((double)n / t);
}

/* Inputs shared by the X25519 runs. */
struct x25519_arg {
	uint8_t priv[32], pub[32], out[32];
};

static int
op_x25519(void *p)
{
	struct x25519_arg *a = p;

	/* Chain the output into the next input so nothing is hoisted. */
	if (crypto_x25519(a->out, a->priv, a->pub) == -1)
		return (-1);
	memcpy(a->pub, a->out, 32);
	return (0);
}

struct aead_arg {
	struct crypto_aead ae;
	uint8_t iv[CRYPTO_IV_LEN], tag[CRYPTO_TAG_LEN];
	uint8_t buf[BUF_LEN];
};

static int
op_seal(void *p)
{
	struct aead_arg *a = p;

	crypto_aead_seal(&a->ae, a->iv, NULL, 0, a->buf, sizeof(a->buf),
	    a->tag);
	a->iv[11]++;
	return (0);
}

struct hs_arg {
	enum noise_pattern pattern;
	uint8_t s_i[32], s_r[32];
	int use_template;                  /* copy tmpl instead of init */
	struct noise_handshake tmpl[2];
};

/* One full handshake of ${a}'s pattern between two fresh states. */
static int
op_handshake(void *p)
{
	struct hs_arg *a = p;
	struct noise_handshake hs[2];
	struct noise_cipherstate tx, rx;
	uint8_t msg[256], pl[64];
	size_t len, plen;
	int k, rc = -1;

	if (a->use_template) {
		/* s.pub already computed: copy the initialised states. */
		memcpy(hs, a->tmpl, sizeof(hs));
	} else {
		if (noise_handshake_init(&hs[0], a->pattern, NOISE_AESGCM,
		    NOISE_INITIATOR, NULL, 0, a->s_i, NULL, NULL) != 0)
			goto out1;
		if (noise_handshake_init(&hs[1], a->pattern, NOISE_AESGCM,
		    NOISE_RESPONDER, NULL, 0, a->s_r, NULL, NULL) != 0)
			goto out2;
	}
	for (k = 0; !hs[0].done; k++) {
		if (noise_handshake_write(&hs[k % 2], NULL, 0, msg, sizeof(msg),
		    &len) != 0 ||
		    noise_handshake_read(&hs[1 - k % 2], msg, len, pl,
		    sizeof(pl), &plen) != 0)
			goto out2;
	}
	if (noise_handshake_split(&hs[0], &tx, &rx) != 0 ||
	    noise_handshake_split(&hs[1], &tx, &rx) != 0)
		goto out2;
	noise_cs_fini(&tx);
	noise_cs_fini(&rx);
	rc = 0;
out2:
	noise_handshake_fini(&hs[1]);
out1:
	noise_handshake_fini(&hs[0]);
	return (rc);
}

int
main(int argc, char *argv[])
{
	static struct aead_arg aead;
	struct x25519_arg x;
	static struct hs_arg hs;
	double r;
	uint8_t key[32];

	if (argc > 1 && (seconds = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench_crypto [SECONDS]\n");
		return (2);
	}
	if (crypto_init() != 0) {
		fprintf(stderr, "bench_crypto: crypto_init failed\n");
		return (1);
	}
	printf("AES-GCM implementation: %s\n", crypto_aes_impl());

	if (crypto_x25519_keypair(x.priv, x.pub) != 0)
		return (1);
	r = rate(op_x25519, &x, 100);
	printf("X25519:                 %10.0f ops/s (%.1f us/op)\n", r,
	    1e6 / r);

	if (crypto_random(key, sizeof(key)) != 0)
		return (1);
	memset(aead.buf, 0x5a, sizeof(aead.buf));
	memset(aead.iv, 0, sizeof(aead.iv));
	if (crypto_aead_init(&aead.ae, CRYPTO_AESGCM, key, 32) != 0)
		return (1);
	r = rate(op_seal, &aead, 100);
	printf("AES-256-GCM seal 16K:   %10.1f MB/s\n", r * BUF_LEN / 1e6);
	crypto_aead_fini(&aead.ae);
	if (crypto_aead_init(&aead.ae, CRYPTO_CHACHAPOLY, key, 32) != 0)
		return (1);
	r = rate(op_seal, &aead, 100);
	printf("ChaCha20-Poly1305 16K:  %10.1f MB/s\n", r * BUF_LEN / 1e6);
	crypto_aead_fini(&aead.ae);

	if (crypto_random(hs.s_i, 32) != 0 || crypto_random(hs.s_r, 32) != 0)
		return (1);
	hs.pattern = NOISE_NN;
	r = rate(op_handshake, &hs, 10);
	printf("Noise NN handshakes:    %10.0f /s (both sides)\n", r);
	hs.pattern = NOISE_XX;
	r = rate(op_handshake, &hs, 10);
	printf("Noise XX handshakes:    %10.0f /s (both sides)\n", r);
	if (noise_handshake_init(&hs.tmpl[0], NOISE_XX, NOISE_AESGCM,
	    NOISE_INITIATOR, NULL, 0, hs.s_i, NULL, NULL) != 0 ||
	    noise_handshake_init(&hs.tmpl[1], NOISE_XX, NOISE_AESGCM,
	    NOISE_RESPONDER, NULL, 0, hs.s_r, NULL, NULL) != 0)
		return (1);
	hs.use_template = 1;
	r = rate(op_handshake, &hs, 10);
	printf("Noise XX, template:     %10.0f /s (both sides, s.pub kept)\n",
	    r);
	noise_handshake_fini(&hs.tmpl[0]);
	noise_handshake_fini(&hs.tmpl[1]);
	return (0);
}
