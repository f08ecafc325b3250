/*
 * fuzz_channel: shared set-up for the channel fuzz targets.  See
 * fuzz_channel.h.
 */
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "frame.h"
#include "fuzz_channel.h"
#include "resumecache.h"

struct channel_local fz_li, fz_lr, fz_ls;
static struct sigcache *cache_i, *cache_r;
static struct resumecache *store_r; /* r's tickets: i's one */
static int ready;

static const uint8_t E_I[32] = {0xe1, 1, 2, 3, 4, 5, 6, 7};
static const uint8_t E_R[32] = {0xe2, 7, 6, 5, 4, 3, 2, 1};
static uint8_t E_I_pub[32], E_R_pub[32];

void
fz_key_fixed(uint8_t priv[CRYPTO_P256_PRIV_LEN], uint8_t seed)
{
	size_t i;

	for (i = 0; i < CRYPTO_P256_PRIV_LEN; i++)
		priv[i] = (uint8_t)(seed + i);
}

void
fz_local_fixed(struct channel_local *l, uint8_t seed, uint64_t expiry)
{
	uint8_t priv[CRYPTO_P256_PRIV_LEN], s[32];
	size_t i;

	fz_key_fixed(priv, seed);
	for (i = 0; i < sizeof(s); i++)
		s[i] = (uint8_t)(seed * 5 + i);
	if (channel_local_init_static(l, priv, s, expiry) == -1)
		abort();
}

/* The one ticket of the resume targets: fixed, i's identity on r. */
static void
fz_ticket(struct channel_resume *t, const uint8_t *peer)
{

	memset(t, 0, sizeof(*t));
	memset(t->tid, 0x7a, sizeof(t->tid));
	memset(t->secret, 0x5c, sizeof(t->secret));
	memcpy(t->peer, peer, CHANNEL_ID_LEN);
	t->expiry = FZ_EXPIRY;
	t->bound = FZ_EXPIRY;
}

void
fz_setup(void)
{
	struct channel_resume t;

	if (ready)
		return;
	if (crypto_init() == -1 || crypto_x25519_pub(E_I_pub, E_I) == -1 ||
	    crypto_x25519_pub(E_R_pub, E_R) == -1)
		abort();
	fz_local_fixed(&fz_li, 1, FZ_EXPIRY);
	fz_local_fixed(&fz_lr, 2, FZ_EXPIRY);
	fz_local_fixed(&fz_ls, 3, FZ_EXPIRY);
	/* Caches keep the fuzzer fast: ECDSA once per distinct payload. */
	if ((cache_i = sigcache_new(64)) == NULL ||
	    (cache_r = sigcache_new(64)) == NULL)
		abort();
	if ((store_r = resumecache_new(1, 0)) == NULL)
		abort();
	fz_ticket(&t, fz_li.id);
	resumecache_put(store_r, &t, FZ_NOW);
	channel_resume_fini(&t);
	ready = 1;
}

/*
 * libFuzzer's start-up hook (and replay's, measuring): fz_setup.  Weak: a
 * target with more to set up (fuzz_nodeenv.h's) has its own.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{

	(void)argc;
	(void)argv;
	fz_setup();
	return (0);
}

/* Accept any responder (an initiator pinned by check). */
static int
accept_any(void *arg, const uint8_t id[CHANNEL_ID_LEN], const uint8_t *creds,
    size_t len)
{

	(void)arg;
	(void)id;
	(void)creds;
	(void)len;
	return (1);
}

/* i, pinned to r's identifier (${pinned}) or by a check that takes any. */
/*
 * The responder's peer filter, as the node's front has one: i goes on to
 * its attestation, anyone else is refused "not-allowed" (a REFUSE record
 * sealed to the stranger's keys) before any signature is checked.
 */
static int
known_only(void *arg, const uint8_t id[CHANNEL_ID_LEN], const uint8_t *req,
    size_t len)
{

	(void)arg;
	(void)req;
	(void)len;
	if (memcmp(id, fz_li.id, CHANNEL_ID_LEN) == 0)
		return (1);
	return (-CHANNEL_REFUSAL_NOT_ALLOWED);
}

static struct channel *
initiator_for(const struct channel_local *l, int pinned, const char *req)
{
	struct channel *ch;

	if ((ch = channel_new(CHANNEL_INITIATOR, l, cache_i)) == NULL)
		abort();
	/* The fixed ephemerals the way the node hands out its pooled ones. */
	channel_use_keypair(ch, E_I, E_I_pub);
	if (pinned)
		channel_expect_peer(ch, fz_lr.id);
	else
		channel_expect_check(ch, accept_any, NULL);
	if (channel_set_request(ch, (const uint8_t *)req, strlen(req)) != 0)
		abort();
	return (ch);
}

static struct channel *
initiator(const struct channel_local *l, int pinned)
{

	return (initiator_for(l, pinned, FZ_REQUEST));
}

struct channel *
fz_initiator_as(const struct channel_local *l, const char *req)
{

	return (initiator_for(l, 1, req));
}

struct channel *
fz_initiator(void)
{

	return (initiator(&fz_li, 1));
}

struct channel *
fz_stranger(void)
{

	return (initiator(&fz_ls, 1));
}

struct channel *
fz_initiator_checked(void)
{

	return (initiator(&fz_li, 0));
}

struct channel *
fz_responder(void)
{
	struct channel *ch;

	if ((ch = channel_new(CHANNEL_RESPONDER, &fz_lr, cache_r)) == NULL)
		abort();
	channel_use_keypair(ch, E_R, E_R_pub);
	channel_set_peer_filter(ch, known_only, NULL);
	return (ch);
}

int
fz_responder_step(void *arg, uint8_t *f, size_t n)
{
	struct channel *cr = arg;
	uint8_t out[CHANNEL_MAX_HANDSHAKE + FRAME_HDR]; /* conn.c's CONN_HS_CAP */
	enum channel_type t;
	size_t olen, len;

	if (channel_request(cr, &len) != NULL)
		return (channel_open(cr, f, n, &t, &len) != 0);
	return (channel_handshake(cr, f, n, FZ_NOW, out, sizeof(out), &olen) <
	    0);
}

struct channel *
fz_resume_initiator(void)
{
	struct channel_resume t;
	struct channel *ch = fz_initiator();

	fz_ticket(&t, fz_lr.id);
	if (channel_resume_set(ch, &t, FZ_NOW) != 0)
		abort();
	return (ch);
}

/* The responder's store is the node's: fz_setup() put that ticket in. */
struct channel *
fz_resume_responder(void)
{
	struct channel *ch = fz_responder();

	channel_resume_set_lookup(ch, resumecache_lookup, store_r);
	return (ch);
}

uint8_t fz_first[CHANNEL_MAX_HANDSHAKE];
size_t fz_first_len;

void
fz_establish(struct channel **ci, struct channel **cr, uint8_t *m1,
    size_t *l1, uint8_t *m2, size_t *l2, uint8_t *m3, size_t *l3)
{
	uint8_t a[CHANNEL_MAX_HANDSHAKE], b[CHANNEL_MAX_HANDSHAKE];
	uint8_t c[CHANNEL_MAX_HANDSHAKE], d[CHANNEL_MAX_HANDSHAKE];
	enum channel_type t;
	size_t al, bl, cl, dl, tl;

	*ci = fz_initiator();
	*cr = fz_responder();
	if (channel_start(*ci, a, sizeof(a), &al) != 0 ||
	    channel_handshake(*cr, a, al, FZ_NOW, b, sizeof(b), &bl) != 0 ||
	    channel_handshake(*ci, b, bl, FZ_NOW, c, sizeof(c), &cl) != 1 ||
	    channel_handshake(*cr, c, cl, FZ_NOW, d, sizeof(d), &dl) != 1)
		abort();
	/* The responder's first record, its credentials: i reads it. */
	memcpy(fz_first, d, dl);
	fz_first_len = dl;
	if (channel_open(*ci, d, dl, &t, &tl) != 0 || t != CHANNEL_CREDS)
		abort();
	if (m1 != NULL) {
		memcpy(m1, a, al);
		*l1 = al;
	}
	if (m2 != NULL) {
		memcpy(m2, b, bl);
		*l2 = bl;
	}
	if (m3 != NULL) {
		memcpy(m3, c, cl);
		*l3 = cl;
	}
}

void
fz_frames(const uint8_t *data, size_t size,
    int (*fn)(void *, uint8_t *, size_t), void *arg)
{
	static uint8_t buf[FRAME_HDR + FRAME_MAX_BODY];
	size_t total;

	while (size > 0) {
		/* A whole frame, or else everything left as one bad piece. */
		if (frame_peek(data, size, FRAME_MAX_BODY, &total) != 1)
			total = size;
		memcpy(buf, data, total);
		if (fn(arg, buf, total) != 0)
			return;
		data += total;
		size -= total;
	}
}
