/*
 * bench_channel: what the secure channel costs, beside the raw primitives
 * measured in the same run (never run as a test).
 *
 *   handshake: full Noise XX with identity check, both sides in this
 *              thread, cold (no attestation cache: two ECDSA verifications
 *              each) and warm (cache hit: X25519 and hashing only), beside
 *              four raw X25519 operations (what one side must do: make e,
 *              then three DH);
 *   credentials: the warm handshake again, both sides presenting a
 *              credential (issuer, subject, one attribute, ECDSA
 *              signature) that the other side checks against an
 *              attribute rule (acl_admit) with its cache: once cached, no
 *              ECDSA verification is left, so it should cost about what
 *              the warm handshake costs; cold (no cache) beside it;
 *   resumed:   Noise NNpsk0 with a resumption ticket (channel_resume_*),
 *              both sides, beside two raw X25519 operations (one side:
 *              make e, then ee); and with key pairs made ahead of time
 *              (channel_use_keypair, as the daemon's idle-time pool gives
 *              them), timing only the handshake: one X25519 per side;
 *   transport: channel_seal + channel_open of 16 KiB records beside raw
 *              crypto_aead_seal + crypto_aead_open (AES-256-GCM) of the
 *              same size.
 *
 * Each figure is the best of ROUNDS rounds of at least ${secs} seconds of
 * CPU time each (default 0.2; first argument); the rounds of all measurements are
 * interleaved, so a busy neighbour process slows both sides of each
 * comparison alike.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acl.h"
#include "channel.h"
#include "config.h"
#include "cred.h"
#include "crypto.h"
#include "identity.h"

#define ROUNDS 10

static double secs = 0.2;
static struct channel_local li, lr;
/* Nodes that present credentials, and the rule both sides check. */
static struct channel_local lci, lcr;
static struct config cfg;

static void local_make(struct channel_local *l);

/*
 * This thread's CPU time in seconds: per-core figures that hold up when
 * other processes share the machine (time spent descheduled is not ours).
 */
static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static _Noreturn void
die(const char *what)
{

	fprintf(stderr, "bench_channel: %s failed\n", what);
	exit(1);
}

/*
 * A full handshake between new channels of ${a} (initiator) and ${b}
 * (responder) with the attestation caches ${ka} and ${kb} (NULL: none),
 * left established in *${ci} and *${cr}; die if it fails.
 */
static void
pair_make(struct channel_local *a, struct channel_local *b,
    struct sigcache *ka, struct sigcache *kb, struct channel **ci,
    struct channel **cr)
{
	uint8_t m1[CHANNEL_MAX_HANDSHAKE], m2[CHANNEL_MAX_HANDSHAKE];
	size_t l1, l2;
	uint64_t t = 1700000000;

	if ((*ci = channel_new(CHANNEL_INITIATOR, a, ka)) == NULL ||
	    (*cr = channel_new(CHANNEL_RESPONDER, b, kb)) == NULL)
		die("channel_new");
	channel_expect_peer(*ci, b->id);
	if (channel_set_request(*ci, (const uint8_t *)"postgres", 8) != 0 ||
	    channel_start(*ci, m1, sizeof(m1), &l1) != 0 ||
	    channel_handshake(*cr, m1, l1, t, m2, sizeof(m2), &l2) != 0 ||
	    channel_handshake(*ci, m2, l2, t, m1, sizeof(m1), &l1) != 1 ||
	    channel_handshake(*cr, m1, l1, t, m2, sizeof(m2), &l2) != 1)
		die("handshake");
}

/* One full handshake between new channels; die if it fails. */
static void
handshake(struct sigcache *ki, struct sigcache *kr)
{
	struct channel *ci, *cr;

	pair_make(&li, &lr, ki, kr, &ci, &cr);
	channel_free(ci);
	channel_free(cr);
}

/* Admit the peer of ${ch} by the rule of cfg (its credentials), with
 * the signature cache ${k}; die if it is not admitted. */
static void
admit(struct channel *ch, struct sigcache *k)
{
	const struct config_outlet *o = &cfg.outlets[0];
	struct acl_ctx ax = {&cfg, NULL, k, 1700000000};
	struct acl_peer peer;
	struct acl_verdict v;

	peer.id = channel_peer_id(ch);
	peer.creds = channel_peer_creds(ch, &peer.creds_len);
	if (!acl_admit(&ax, &o->pol, NULL, 0, o->rules, o->nrules, &peer,
	    NULL, &v) || v.rule == NULL)
		die("acl_admit");
}

/* One handshake between nodes presenting credentials, each side then
 * admitting the other by the rule; die if anything fails. */
static void
handshake_creds(struct sigcache *ki, struct sigcache *kr)
{
	struct channel *ci, *cr;

	pair_make(&lci, &lcr, ki, kr, &ci, &cr);
	admit(cr, kr);
	admit(ci, ki);
	channel_free(ci);
	channel_free(cr);
}

/* Give ${l} a credential for its identity, role=app from ${ca}. */
static void
give_cred(struct channel_local *l, const struct identity *ca)
{
	struct cred c;
	uint8_t buf[CRED_MAX_LEN], block[CRED_BLOCK_MAX];
	size_t len, blen = 0;

	memset(&c, 0, sizeof(c));
	memcpy(c.subject, l->id, CRED_ID_LEN);
	c.serial = 1;
	c.not_before = 1600000000;
	c.not_after = 1800000000;
	c.nattrs = 1;
	snprintf(c.attrs[0].key, sizeof(c.attrs[0].key), "role");
	snprintf(c.attrs[0].value, sizeof(c.attrs[0].value), "app");
	if (cred_sign(&c, ca->priv, buf, sizeof(buf), &len) == -1 ||
	    cred_block_add(block, sizeof(block), &blen, buf, len) == -1 ||
	    channel_local_set_creds(l, block, blen) == -1)
		die("credential");
}

/* The nodes with credentials and the configuration with the rule. */
static void
creds_setup(void)
{
	struct identity ca;
	char text[512], id[IDENTITY_TEXT_SIZE], err[256];

	if (identity_generate(&ca) == -1)
		die("authority");
	local_make(&lci);
	local_make(&lcr);
	give_cred(&lci, &ca);
	give_cred(&lcr, &ca);
	snprintf(text, sizeof(text), "[node]\nidentity = bench.key\n"
	    "listen = 127.0.0.1:7400\n[authorities]\ncorp = %s\n"
	    "[outlet postgres]\n"
	    "target = 127.0.0.1:5432\nallow = role=app@corp\n",
	    identity_id_format(ca.id, id));
	identity_fini(&ca);
	if (config_parse(&cfg, "bench.ini", text, strlen(text), err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "bench_channel: %s\n", err);
		exit(1);
	}
}

/* The responder's ticket store: the one ticket of this run. */
static struct channel_resume tick_i, tick_r;

static int
lookup(void *arg, const uint8_t tid[CHANNEL_RESUME_TID_LEN], uint64_t now,
    struct channel_resume *t)
{

	(void)arg;
	if (memcmp(tid, tick_r.tid, CHANNEL_RESUME_TID_LEN) != 0 ||
	    tick_r.expiry <= now)
		return (-1);
	memcpy(t, &tick_r, sizeof(*t));
	return (0);
}

/* One resumed handshake between new channels (key pairs made ahead of
 * time by the caller if ${pairs}); die if it fails. */
static void
resumed(const uint8_t (*pairs)[32])
{
	uint8_t a[CHANNEL_MAX_HANDSHAKE], b[CHANNEL_MAX_HANDSHAKE];
	struct channel *ci, *cr;
	size_t al, bl;
	uint64_t t = 1700000000;

	if ((ci = channel_new(CHANNEL_INITIATOR, &li, NULL)) == NULL ||
	    (cr = channel_new(CHANNEL_RESPONDER, &lr, NULL)) == NULL)
		die("channel_new");
	channel_expect_peer(ci, lr.id);
	channel_resume_set_lookup(cr, lookup, NULL);
	if (pairs != NULL) {
		channel_use_keypair(ci, pairs[0], pairs[1]);
		channel_use_keypair(cr, pairs[2], pairs[3]);
	}
	if (channel_set_request(ci, (const uint8_t *)"postgres", 8) != 0 ||
	    channel_resume_set(ci, &tick_i, t) != 0 ||
	    channel_start(ci, a, sizeof(a), &al) != 0 ||
	    channel_handshake(cr, a, al, t, b, sizeof(b), &bl) != 0 ||
	    channel_handshake(ci, b, bl, t, a, sizeof(a), &al) != 1 ||
	    channel_handshake(cr, a, al, t, b, sizeof(b), &bl) != 1 ||
	    !channel_is_resumed(cr))
		die("resumed handshake");
	channel_free(ci);
	channel_free(cr);
}

/* Seconds per resumed handshake (both sides) in one round. */
static double
bench_resumed(void)
{
	double t0, t;
	long n = 0;

	t0 = now_s();
	do {
		resumed(NULL);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (t / (double)n);
}

/* As bench_resumed, the key pairs made ahead of time (not timed). */
static double
bench_resumed_pool(void)
{
	uint8_t pairs[4][32];
	double t0, t1, t = 0, all0;
	long n = 0;

	all0 = now_s();
	do {
		if (crypto_x25519_keypair(pairs[0], pairs[1]) == -1 ||
		    crypto_x25519_keypair(pairs[2], pairs[3]) == -1)
			die("x25519");
		t0 = now_s();
		resumed((const uint8_t (*)[32])pairs);
		t1 = now_s();
		t += t1 - t0;
		n++;
	} while (t1 - all0 < 2 * secs);
	wipe(pairs, sizeof(pairs));
	return (t / (double)n);
}

/* Seconds per handshake ${hs} (both sides) in one round, with caches or
 * not. */
static double
bench_handshake(void (*hs)(struct sigcache *, struct sigcache *),
    struct sigcache *ki, struct sigcache *kr)
{
	double t0, t;
	long n = 0;

	t0 = now_s();
	do {
		hs(ki, kr);
		n++;
	} while ((t = now_s() - t0) < secs);
	return (t / (double)n);
}

/*
 * Seconds for one side's X25519 operations: make e, then ${dh} of the
 * handshake's DH (1: a resumed side's ee; 3: a full side's ee, es, se).
 */
static double
bench_x25519(unsigned dh)
{
	uint8_t e[32], e_pub[32], out[32];
	double t0, t;
	long n = 0;

	t0 = now_s();
	do {
		if (crypto_x25519_keypair(e, e_pub) == -1 ||
		    crypto_x25519(out, e, lr.s_pub) == -1 ||
		    (dh > 1 && (crypto_x25519(out, li.s, e_pub) == -1 ||
		    crypto_x25519(out, e, li.s_pub) == -1)))
			die("x25519");
		n++;
	} while ((t = now_s() - t0) < secs);
	wipe(e, sizeof(e));
	wipe(out, sizeof(out));
	return (t / (double)n);
}

/* An established pair for the transport benchmark. */
static void
pair_open(struct channel **ci, struct channel **cr)
{

	pair_make(&li, &lr, NULL, NULL, ci, cr);
}

/* Bytes per second through channel_seal + channel_open, 16 KiB records. */
static double
bench_channel(struct channel *ci, struct channel *cr)
{
	static uint8_t rec[CHANNEL_MAX_RECORD];
	enum channel_type type;
	double t0, t;
	size_t len;
	long n = 0, rl;

	memset(rec, 'x', sizeof(rec));
	t0 = now_s();
	do {
		if ((rl = channel_seal(ci, CHANNEL_DATA, rec,
		    CHANNEL_MAX_DATA)) < 0 ||
		    channel_open(cr, rec, (size_t)rl, &type, &len) != 0)
			die("seal/open");
		n++;
	} while ((t = now_s() - t0) < secs);
	return ((double)n * CHANNEL_MAX_DATA / t);
}

/* Bytes per second of raw AES-256-GCM (seal + open, or seal only). */
static double
bench_aead(struct crypto_aead *aead, int open_too)
{
	static uint8_t buf[CHANNEL_MAX_DATA];
	uint8_t iv[CRYPTO_IV_LEN], tag[CRYPTO_TAG_LEN], ad[2] = {0};
	double t0, t;
	long n = 0;
	int i;

	memset(buf, 'x', sizeof(buf));
	t0 = now_s();
	do {
		memset(iv, 0, sizeof(iv));
		for (i = 0; i < 4; i++)
			iv[11 - i] = (uint8_t)(n >> (8 * i));
		crypto_aead_seal(aead, iv, ad, sizeof(ad), buf, sizeof(buf),
		    tag);
		if (open_too && crypto_aead_open(aead, iv, ad, sizeof(ad), buf,
		    sizeof(buf), tag) == -1)
			die("crypto_aead_open");
		n++;
	} while ((t = now_s() - t0) < secs);
	return ((double)n * sizeof(buf) / t);
}

/* Keep the smaller (${lower}) or larger of ${*best} and ${v}. */
static void
keep(double *best, double v, int lower)
{

	if (*best == 0 || (lower ? v < *best : v > *best))
		*best = v;
}

/* A node with a random identity. */
static void
local_make(struct channel_local *l)
{
	uint8_t priv[CRYPTO_P256_PRIV_LEN], pub[CRYPTO_P256_PUB_LEN];

	if (crypto_p256_keypair(priv, pub) == -1 ||
	    channel_local_init(l, priv, 1700000000, 86400) == -1)
		die("identity");
	wipe(priv, sizeof(priv));
}

int
main(int argc, char *argv[])
{
	struct sigcache *ki, *kr;
	struct channel *ci, *cr;
	struct crypto_aead aead;
	uint8_t key[32];
	double x4 = 0, cold = 0, warm = 0, ch = 0, raw = 0, raw_seal = 0;
	double x2 = 0, res = 0, resp = 0, cwarm = 0, ccold = 0;
	int r;

	if (argc > 1 && (secs = atof(argv[1])) <= 0)
		die("usage: bench_channel [SECONDS]; argument");
	if (crypto_init() == -1)
		die("crypto_init");
	local_make(&li);
	local_make(&lr);
	if ((ki = sigcache_new(256)) == NULL ||
	    (kr = sigcache_new(256)) == NULL)
		die("sigcache_new");
	creds_setup();
	handshake(ki, kr); /* warm the caches */
	handshake_creds(ki, kr);
	pair_open(&ci, &cr);
	if (channel_resume_export(ci, 1700000000, &tick_i) != 0 ||
	    channel_resume_export(cr, 1700000000, &tick_r) != 0)
		die("channel_resume_export");
	memset(key, 7, sizeof(key));
	if (crypto_aead_init(&aead, CRYPTO_AESGCM, key, sizeof(key)) == -1)
		die("crypto_aead_init");
	printf("AES-GCM implementation: %s; best of %d rounds of %.2f s\n",
	    crypto_aes_impl(), ROUNDS, secs);

	/* Interleaved rounds: each comparison sees the same load. */
	for (r = 0; r < ROUNDS; r++) {
		keep(&x4, bench_x25519(3), 1);
		keep(&warm, bench_handshake(handshake, ki, kr), 1);
		keep(&cold, bench_handshake(handshake, NULL, NULL), 1);
		keep(&cwarm, bench_handshake(handshake_creds, ki, kr), 1);
		keep(&ccold, bench_handshake(handshake_creds, NULL,
		    NULL), 1);
		keep(&x2, bench_x25519(1), 1);
		keep(&res, bench_resumed(), 1);
		keep(&resp, bench_resumed_pool(), 1);
		keep(&ch, bench_channel(ci, cr), 0);
		keep(&raw, bench_aead(&aead, 1), 0);
		keep(&raw_seal, bench_aead(&aead, 0), 0);
	}

	printf("4 x X25519 (one side's share):   %8.1f us\n", x4 * 1e6);
	printf("handshake cold (no cache):       %8.1f us both sides, "
	    "%8.1f us/side, %7.0f handshakes/s/core\n", cold * 1e6,
	    cold * 1e6 / 2, 1 / cold);
	printf("handshake warm (cache hit):      %8.1f us both sides, "
	    "%8.1f us/side, %7.0f handshakes/s/core\n", warm * 1e6,
	    warm * 1e6 / 2, 1 / warm);
	printf("warm side / 4 x X25519:          %8.3f (target <= 1.10)\n",
	    warm / 2 / x4);
	printf("credentials both sides, cached:  %8.1f us both sides "
	    "(/ warm handshake: %.3f)\n", cwarm * 1e6, cwarm / warm);
	printf("credentials both sides, no cache:%8.1f us both sides "
	    "(/ cold handshake: %.3f)\n", ccold * 1e6, ccold / cold);
	printf("2 x X25519 (resumed side):       %8.1f us\n", x2 * 1e6);
	printf("handshake resumed (NNpsk0):      %8.1f us both sides, "
	    "%8.1f us/side, %7.0f handshakes/s/core\n", res * 1e6,
	    res * 1e6 / 2, 1 / res);
	printf("resumed side / 2 x X25519:       %8.3f\n", res / 2 / x2);
	printf("resumed / cold, resumed / warm:  %8.3f %8.3f\n", res / cold,
	    res / warm);
	printf("resumed, pairs made ahead:       %8.1f us both sides, "
	    "%8.1f us/side (1 x X25519: %.1f us)\n", resp * 1e6,
	    resp * 1e6 / 2, x2 * 1e6 / 2);
	printf("transport seal+open, 16 KiB:     %8.1f MB/s\n", ch / 1e6);
	printf("raw AES-256-GCM seal+open:       %8.1f MB/s\n", raw / 1e6);
	printf("raw AES-256-GCM seal only:       %8.1f MB/s\n", raw_seal / 1e6);
	printf("transport / raw:                 %8.3f (target >= 0.90)\n",
	    ch / raw);

	crypto_aead_fini(&aead);
	channel_free(ci);
	channel_free(cr);
	sigcache_free(ki);
	sigcache_free(kr);
	channel_resume_fini(&tick_i);
	channel_resume_fini(&tick_r);
	channel_local_fini(&li);
	channel_local_fini(&lr);
	channel_local_fini(&lci);
	channel_local_fini(&lcr);
	config_free(&cfg);
	return (0);
}
