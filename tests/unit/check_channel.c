/*
 * check_channel: the secure channel end to end between two instances:
 * handshake with real identities, pinning, attestations, tampering of
 * every byte, truncation, replay, size limits, rekeying, the cache,
 * resumed handshakes and their fallback.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "channel.h"
#include "crypto.h"
#include "fixture.h"
#include "frame.h"
#include "noise.h"
#include "resumecache.h"
#include "sigcache.h"

#define NOW FIXTURE_NOW
#define LIFETIME 3600ULL
#define HS CHANNEL_MAX_HANDSHAKE

static const uint8_t E_I[32] = {0x11, 0x22, 0x33};
static const uint8_t E_R[32] = {0x44, 0x55, 0x66};
static const char REQ[] = "postgres";

/* Two nodes: i (initiator side) and r (responder side). */
static struct channel_local li, lr;

/* The three handshake frames of one run. */
struct msgs {
	uint8_t m1[HS], m2[HS], m3[HS];
	size_t l1, l2, l3;
};

/* A node with a fresh random identity and attestation valid from NOW. */
static void
local_random(struct channel_local *l)
{
	uint8_t priv[CRYPTO_P256_PRIV_LEN], pub[CRYPTO_P256_PUB_LEN];

	ck_assert_int_eq(crypto_p256_keypair(priv, pub), 0);
	ck_assert_int_eq(channel_local_init(l, priv, NOW, LIFETIME), 0);
	ck_assert_mem_eq(l->id_pub, pub, sizeof(pub));
	wipe(priv, sizeof(priv));
}

/* A node whose keys all derive from ${seed}: runs repeat byte for byte. */
static void
local_fixed(struct channel_local *l, uint8_t seed, uint64_t expiry)
{
	uint8_t priv[CRYPTO_P256_PRIV_LEN], s[32];
	size_t i;

	for (i = 0; i < sizeof(priv); i++) {
		priv[i] = (uint8_t)(seed + i);
		s[i] = (uint8_t)(seed * 7 + i * 3 + 1);
	}
	ck_assert_int_eq(channel_local_init_static(l, priv, s, expiry), 0);
}

static void
setup_random(void)
{

	ck_assert_int_eq(crypto_init(), 0);
	local_random(&li);
	local_random(&lr);
}

static void
setup_fixed(void)
{

	ck_assert_int_eq(crypto_init(), 0);
	local_fixed(&li, 1, NOW + LIFETIME);
	local_fixed(&lr, 101, NOW + LIFETIME);
}

static void
teardown(void)
{

	channel_local_fini(&li);
	channel_local_fini(&lr);
}

/* A channel pair i -> r expecting r, asking for REQ; fixed ephemerals. */
static void
pair_new(struct channel **ci, struct channel **cr, struct sigcache *kci,
    struct sigcache *kcr, int fixed)
{

	ck_assert_ptr_nonnull(*ci = channel_new(CHANNEL_INITIATOR, &li, kci));
	ck_assert_ptr_nonnull(*cr = channel_new(CHANNEL_RESPONDER, &lr, kcr));
	channel_expect_peer(*ci, lr.id);
	ck_assert_int_eq(channel_set_request(*ci, (const uint8_t *)REQ,
	    strlen(REQ)), 0);
	if (fixed) {
		channel_set_ephemeral(*ci, E_I);
		channel_set_ephemeral(*cr, E_R);
	}
}

static void
pair_free(struct channel *ci, struct channel *cr)
{

	channel_free(ci);
	channel_free(cr);
}

/*
 * Run a whole handshake; assert every step succeeds, and that the
 * responder's first record, its credential block (none here: a lone zero
 * count), reaches the initiator (version 3: never in msg2).
 */
static void
handshake_ok(struct channel *ci, struct channel *cr, uint64_t now,
    struct msgs *m)
{
	uint8_t out[HS];
	enum channel_type t;
	size_t olen = 1, len;

	ck_assert_int_eq(channel_start(ci, m->m1, sizeof(m->m1), &m->l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m->m1, m->l1, now, m->m2,
	    sizeof(m->m2), &m->l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m->m2, m->l2, now, m->m3,
	    sizeof(m->m3), &m->l3), 1);
	ck_assert_int_eq(channel_handshake(cr, m->m3, m->l3, now, out,
	    sizeof(out), &olen), 1);
	if (channel_is_resumed(cr)) {
		ck_assert_uint_eq(olen, 0); /* the ticket holds them */
		return;
	}
	ck_assert_uint_eq(olen, 1 + CHANNEL_OVERHEAD);
	ck_assert_int_eq(channel_open(ci, out, olen, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_CREDS);
	ck_assert_uint_eq(len, 1);
}

/* msg1, then msg2 read by ${ci}: what it returns (msg3 in ${m}). */
static int
through_msg2(struct channel *ci, struct channel *cr, struct msgs *m)
{

	ck_assert_int_eq(channel_start(ci, m->m1, sizeof(m->m1), &m->l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m->m1, m->l1, NOW, m->m2,
	    sizeof(m->m2), &m->l2), 0);
	return (channel_handshake(ci, m->m2, m->l2, NOW, m->m3, sizeof(m->m3),
	    &m->l3));
}

/* An established pair with fixed keys (the reference run's transcript). */
static void
pair_established(struct channel **ci, struct channel **cr, struct msgs *m,
    struct sigcache *kci, struct sigcache *kcr)
{
	struct msgs tmp;

	pair_new(ci, cr, kci, kcr, 1);
	handshake_ok(*ci, *cr, NOW, m != NULL ? m : &tmp);
}

/* Seal ${n} bytes of ${type} on ${a}, open on ${b}, check they arrive. */
static void
send_ok(struct channel *a, struct channel *b, enum channel_type type,
    const uint8_t *data, size_t n)
{
	static uint8_t rec[CHANNEL_MAX_RECORD];
	enum channel_type t;
	size_t len;
	long rl;

	memcpy(rec + CHANNEL_HDR, data, n);
	rl = channel_seal(a, type, rec, n);
	ck_assert_int_eq(rl, (long)(n + CHANNEL_OVERHEAD));
	ck_assert_int_eq(channel_open(b, rec, (size_t)rl, &t, &len), 0);
	ck_assert_int_eq(t, type);
	ck_assert_uint_eq(len, n);
	if (n > 0)
		ck_assert_mem_eq(rec + CHANNEL_HDR, data, n);
}

/*
 * ${rec} (${rlen} bytes) is ${ci}'s REQUEST record for REQ: ${cr}, waiting
 * for it, is established with that request, and data flows both ways.
 */
static void
request_record_ok(struct channel *ci, struct channel *cr, uint8_t *rec,
    size_t rlen)
{
	uint8_t out[HS];
	const uint8_t *got;
	size_t len;

	ck_assert_uint_eq(rlen, strlen(REQ) + CHANNEL_OVERHEAD);
	ck_assert_int_eq(channel_handshake(cr, rec, rlen, NOW, out,
	    sizeof(out), &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_ptr_nonnull(got = channel_request(cr, &len));
	ck_assert_uint_eq(len, strlen(REQ));
	ck_assert_mem_eq(got, REQ, len);
	send_ok(cr, ci, CHANNEL_DATA, (const uint8_t *)"x", 1);
	send_ok(ci, cr, CHANNEL_DATA, (const uint8_t *)"y", 1);
}

/* The identity payload of ${l}, built here from docs/protocol.md. */
static void
payload_of(uint8_t out[CHANNEL_PAYLOAD_LEN], const struct channel_local *l)
{
	int i;

	out[0] = 2;
	memcpy(out + 1, l->id_pub, 65);
	for (i = 0; i < 8; i++)
		out[66 + i] = (uint8_t)(l->expiry >> (56 - 8 * i));
	memcpy(out + 74, l->sig, 64);
}

/*
 * A test-side initiator driven through noise.h directly (as
 * docs/protocol.md describes the wire), so records a correct peer would
 * never seal can be made: msg3 carries ${extra} (${xlen} bytes) after the
 * identity payload.  Returns the responder's last handshake result; the
 * initiator's Noise state stays in ${hs} (the caller finis it).
 */
static uint8_t raw_first[HS]; /* the responder's first record */
static size_t raw_first_len;

static int
raw_initiator_hs(struct channel *cr, const uint8_t *extra, size_t xlen,
    struct noise_handshake *hs)
{
	uint8_t a[HS], b[HS], pl[HS];
	size_t n, bl, plen;
	int rc;

	/* No request would make the responder wait for one: send "x". */
	if (xlen == 0) {
		extra = (const uint8_t *)"x";
		xlen = 1;
	}
	ck_assert_int_eq(noise_handshake_init(hs, NOISE_XX, NOISE_AESGCM,
	    NOISE_INITIATOR, (const uint8_t *)CHANNEL_PROLOGUE,
	    strlen(CHANNEL_PROLOGUE), li.s, NULL, NULL), 0);
	pl[0] = CHANNEL_VERSION;
	ck_assert_int_eq(noise_handshake_write(hs, pl, 1, a + 2,
	    sizeof(a) - 2, &n), 0);
	frame_put_len(a, n);
	ck_assert_int_eq(channel_handshake(cr, a, n + 2, NOW, b, sizeof(b),
	    &bl), 0);
	ck_assert_int_eq(noise_handshake_read(hs, b + 2, bl - 2, pl,
	    sizeof(pl), &plen), 0);
	/* The identity payload alone (version 3). */
	ck_assert_uint_eq(plen, CHANNEL_PAYLOAD_LEN);
	payload_of(pl, &li);
	pl[CHANNEL_PAYLOAD_LEN] = 0;
	if (xlen > 0)
		memcpy(pl + CHANNEL_PAYLOAD_LEN + 1, extra, xlen);
	ck_assert_int_eq(noise_handshake_write(hs, pl,
	    CHANNEL_PAYLOAD_LEN + 1 + xlen, a + 2, sizeof(a) - 2, &n), 0);
	frame_put_len(a, n);
	rc = channel_handshake(cr, a, n + 2, NOW, raw_first,
	    sizeof(raw_first), &raw_first_len);
	return (rc);
}

/*
 * raw_initiator_hs, then, when established, the raw cipher states in ${tx}
 * and ${rx}.
 */
static int
raw_initiator(struct channel *cr, const uint8_t *extra, size_t xlen,
    struct noise_cipherstate *tx, struct noise_cipherstate *rx)
{
	struct noise_handshake hs;
	int rc;

	rc = raw_initiator_hs(cr, extra, xlen, &hs);
	if (rc == 1) {
		ck_assert_int_eq(noise_handshake_split(&hs, tx, rx), 0);
		/* The responder's credential record: nonce 0 of rx. */
		ck_assert_uint_eq(raw_first_len, 1 + CHANNEL_OVERHEAD);
		ck_assert_int_eq(noise_cs_decrypt(rx, raw_first, 2,
		    raw_first + 2, 2, raw_first + 4), 0);
		ck_assert_int_eq(raw_first[2], CHANNEL_CREDS);
	}
	noise_handshake_fini(&hs);
	return (rc);
}

/* Seal a raw record of any type byte with the test-side cipher state. */
static size_t
raw_seal(struct noise_cipherstate *tx, uint8_t *rec, uint8_t type,
    const uint8_t *data, size_t n)
{

	frame_put_len(rec, 1 + n + CRYPTO_TAG_LEN);
	rec[2] = type;
	if (n > 0)
		memcpy(rec + 3, data, n);
	ck_assert_int_eq(noise_cs_encrypt(tx, rec, 2, rec + 2, 1 + n,
	    rec + 3 + n), 0);
	return (n + CHANNEL_OVERHEAD);
}

/* Full handshake with real identities both ways, then data both ways. */
START_TEST(test_handshake_full)
{
	struct channel *ci, *cr;
	struct msgs m;
	const uint8_t *req;
	uint8_t data[CHANNEL_MAX_DATA];
	size_t i, len;
	int round;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);
	for (round = 0; round < 2; round++) {
		pair_new(&ci, &cr, NULL, NULL, 0);
		ck_assert_ptr_null(channel_peer_id(ci));
		ck_assert_ptr_null(channel_peer_id(cr));
		handshake_ok(ci, cr, NOW, &m);

		/* Sizes as docs/protocol.md states them. */
		ck_assert_uint_eq(m.l1, 2 + 32 + 1);
		ck_assert_uint_eq(m.l2, 2 + 32 + 48 + CHANNEL_PAYLOAD_LEN + 16);
		ck_assert_uint_eq(m.l3,
		    2 + 48 + CHANNEL_PAYLOAD_LEN + 1 + strlen(REQ) + 16);
		/* The request is never in clear on the wire. */
		ck_assert_ptr_null(memmem(m.m3, m.l3, REQ, strlen(REQ)));

		ck_assert_mem_eq(channel_peer_id(ci), lr.id, CHANNEL_ID_LEN);
		ck_assert_mem_eq(channel_peer_id(cr), li.id, CHANNEL_ID_LEN);
		req = channel_request(cr, &len);
		ck_assert_uint_eq(len, strlen(REQ));
		ck_assert_mem_eq(req, REQ, len);

		send_ok(ci, cr, CHANNEL_DATA, data, 100);
		send_ok(cr, ci, CHANNEL_DATA, data + 5, 200);
		send_ok(ci, cr, CHANNEL_DATA, data, CHANNEL_MAX_DATA);
		send_ok(cr, ci, CHANNEL_DATA, data, CHANNEL_MAX_DATA);
		send_ok(ci, cr, CHANNEL_DATA, data, 0);
		send_ok(ci, cr, CHANNEL_PING, data, 8);
		send_ok(cr, ci, CHANNEL_PONG, data, 8);
		send_ok(cr, ci, CHANNEL_EOF, data, 0);
		send_ok(ci, cr, CHANNEL_DATA, data, 10);
		send_ok(ci, cr, CHANNEL_EOF, data, 0);
		pair_free(ci, cr);

		/* The other way round: the nodes swap roles. */
		{
			struct channel_local t = li;
			li = lr;
			lr = t;
		}
	}
}
END_TEST

/* A responder other than the pinned one never sees msg3 (or the request). */
START_TEST(test_wrong_peer)
{
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t other[CHANNEL_ID_LEN];
	size_t i;

	memcpy(other, lr.id, sizeof(other));
	other[7] ^= 1;
	pair_new(&ci, &cr, NULL, NULL, 0);
	channel_expect_peer(ci, other);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	memset(m.m3, 0xa5, sizeof(m.m3));
	m.l3 = 99;
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
	    sizeof(m.m3), &m.l3), -CHANNEL_EPEER);
	ck_assert_uint_eq(m.l3, 0);
	for (i = 0; i < sizeof(m.m3); i++)
		ck_assert_uint_eq(m.m3[i], 0xa5);
	ck_assert_ptr_null(channel_peer_id(ci));
	/* What the responder presented instead, for the log (unverified). */
	ck_assert_ptr_nonnull(channel_claimed_id(ci));
	ck_assert_mem_eq(channel_claimed_id(ci), lr.id, CHANNEL_ID_LEN);
	pair_free(ci, cr);
}
END_TEST

/*
 * Relayed channels bind the service name into the prologue: the same
 * name on both ends completes; another name (a connection spliced onto
 * another registration) or a name on one end only fails at msg2, before
 * the initiator reveals anything; bad names and late calls are refused.
 */
START_TEST(test_bind_service)
{
	static const char *const names[][2] = {
		{"pub", "secret"}, {"pub", NULL}, {NULL, "pub"}};
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t big[CHANNEL_MAX_BOUND + 1];
	size_t i;

	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_bind_service(ci, (const uint8_t *)"pub", 3),
	    0);
	ck_assert_int_eq(channel_bind_service(cr, (const uint8_t *)"pub", 3),
	    0);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(channel_bind_service(ci, (const uint8_t *)"pub", 3),
	    -CHANNEL_ESTATE);
	pair_free(ci, cr);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		pair_new(&ci, &cr, NULL, NULL, 0);
		if (names[i][0] != NULL)
			ck_assert_int_eq(channel_bind_service(ci,
			    (const uint8_t *)names[i][0], strlen(names[i][0])),
			    0);
		if (names[i][1] != NULL)
			ck_assert_int_eq(channel_bind_service(cr,
			    (const uint8_t *)names[i][1], strlen(names[i][1])),
			    0);
		ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1),
		    0);
		ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
		    sizeof(m.m2), &m.l2), 0);
		ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
		    sizeof(m.m3), &m.l3), -CHANNEL_EHANDSHAKE);
		ck_assert_uint_eq(m.l3, 0);
		ck_assert_ptr_null(channel_peer_id(ci));
		pair_free(ci, cr);
	}

	pair_new(&ci, &cr, NULL, NULL, 0);
	memset(big, 'a', sizeof(big));
	ck_assert_int_eq(channel_bind_service(ci, big, 0), -CHANNEL_EPAYLOAD);
	ck_assert_int_eq(channel_bind_service(ci, big, sizeof(big)),
	    -CHANNEL_EPAYLOAD);
	ck_assert_int_eq(channel_bind_service(ci, big, sizeof(big) - 1), 0);
	big[3] = 0;
	ck_assert_int_eq(channel_bind_service(cr, big, 5), -CHANNEL_EPAYLOAD);
	pair_free(ci, cr);
}
END_TEST

/* No expected peer: the initiator refuses to start at all. */
START_TEST(test_no_pin)
{
	struct channel *ci;
	uint8_t out[HS];
	size_t olen = 7;

	ck_assert_ptr_nonnull(ci = channel_new(CHANNEL_INITIATOR, &li, NULL));
	ck_assert_int_eq(channel_start(ci, out, sizeof(out), &olen),
	    -CHANNEL_EPEER);
	ck_assert_uint_eq(olen, 0);
	channel_free(ci);
}
END_TEST

/* Expired attestations, on either side, at and after the expiry second. */
START_TEST(test_expired)
{
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t out[HS];
	size_t olen;

	/* The responder's attestation expired: initiator refuses msg2. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW + LIFETIME,
	    m.m2, sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW + LIFETIME,
	    m.m3, sizeof(m.m3), &m.l3), -CHANNEL_EEXPIRED);
	ck_assert_uint_eq(m.l3, 0);
	pair_free(ci, cr);

	/* The initiator's expired (the responder's is still good). */
	channel_local_fini(&li);
	local_fixed(&li, 9, NOW - 1);
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
	    sizeof(m.m3), &m.l3), 1);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, out,
	    sizeof(out), &olen), -CHANNEL_EEXPIRED);
	ck_assert_ptr_null(channel_peer_id(cr));
	pair_free(ci, cr);
}
END_TEST

/* An attestation made for another static key does not transfer. */
START_TEST(test_other_static)
{
	struct channel *ci, *cr;
	struct channel_local other;
	struct msgs m;
	uint8_t out[HS];
	size_t olen;

	uint8_t s2[32];

	/* r presents a signature its identity made over a different s. */
	memset(s2, 0x77, sizeof(s2));
	ck_assert_int_eq(channel_local_init_static(&other, lr.id_priv, s2,
	    lr.expiry), 0);
	ck_assert_mem_ne(other.s_pub, lr.s_pub, 32);
	memcpy(lr.sig, other.sig, sizeof(lr.sig));
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
	    sizeof(m.m3), &m.l3), -CHANNEL_EATTEST);
	pair_free(ci, cr);

	/* Same for the initiator's attestation, checked by the responder. */
	local_fixed(&lr, 101, NOW + LIFETIME);
	ck_assert_int_eq(channel_local_init_static(&other, li.id_priv, s2,
	    li.expiry), 0);
	memcpy(li.sig, other.sig, sizeof(li.sig));
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
	    sizeof(m.m3), &m.l3), 1);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, out,
	    sizeof(out), &olen), -CHANNEL_EATTEST);
	pair_free(ci, cr);
	channel_local_fini(&other);
}
END_TEST

/* The payload checker on its own: each rule with its own error. */
START_TEST(test_payload_check)
{
	struct sigcache *cache;
	uint8_t p[CHANNEL_PAYLOAD_LEN + 1], q[CHANNEL_PAYLOAD_LEN];
	uint8_t id[CHANNEL_ID_LEN], rs[32];
	uint64_t hits, misses;

	payload_of(p, &lr);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, NOW, lr.id, NULL, id), 0);
	ck_assert_mem_eq(id, lr.id, CHANNEL_ID_LEN);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, NOW, NULL, NULL, id), 0);

	/* Layout. */
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN - 1,
	    lr.s_pub, NOW, NULL, NULL, id), -CHANNEL_EPAYLOAD);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN + 1,
	    lr.s_pub, NOW, NULL, NULL, id), -CHANNEL_EPAYLOAD);
	memcpy(q, p, sizeof(q));
	q[0] = 1; /* version 1 carried no credential block */
	ck_assert_int_eq(channel_payload_check(q, sizeof(q), lr.s_pub, NOW,
	    NULL, NULL, id), -CHANNEL_EPAYLOAD);
	q[0] = 3;
	ck_assert_int_eq(channel_payload_check(q, sizeof(q), lr.s_pub, NOW,
	    NULL, NULL, id), -CHANNEL_EPAYLOAD);
	memcpy(q, p, sizeof(q));
	q[1] = 0x02;
	ck_assert_int_eq(channel_payload_check(q, sizeof(q), lr.s_pub, NOW,
	    NULL, NULL, id), -CHANNEL_EPAYLOAD);

	/* Pin, expiry, rs binding, signature, key. */
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, NOW, li.id, NULL, id), -CHANNEL_EPEER);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, lr.expiry, NULL, NULL, id), -CHANNEL_EEXPIRED);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, lr.expiry - 1, NULL, NULL, id), 0);
	memcpy(rs, lr.s_pub, sizeof(rs));
	rs[31] ^= 0x40;
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN, rs,
	    NOW, NULL, NULL, id), -CHANNEL_EATTEST);
	memcpy(q, p, sizeof(q));
	q[100] ^= 1;
	ck_assert_int_eq(channel_payload_check(q, sizeof(q), lr.s_pub, NOW,
	    NULL, NULL, id), -CHANNEL_EATTEST);
	memcpy(q, p, sizeof(q));
	q[10] ^= 1;
	ck_assert_int_eq(channel_payload_check(q, sizeof(q), lr.s_pub, NOW,
	    NULL, NULL, id), -CHANNEL_EATTEST);
	memcpy(q, p, sizeof(q));
	q[73] ^= 1; /* expiry moved: the signature covers it */
	ck_assert_int_eq(channel_payload_check(q, sizeof(q), lr.s_pub, NOW,
	    NULL, NULL, id), -CHANNEL_EATTEST);

	/* Through a cache: a hit still needs the same rs and a live expiry. */
	ck_assert_ptr_nonnull(cache = sigcache_new(16));
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, NOW, NULL, cache, id), 0);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, NOW, NULL, cache, id), 0);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN, rs,
	    NOW, NULL, cache, id), -CHANNEL_EATTEST);
	ck_assert_int_eq(channel_payload_check(p, CHANNEL_PAYLOAD_LEN,
	    lr.s_pub, lr.expiry, NULL, cache, id), -CHANNEL_EEXPIRED);
	sigcache_stats(cache, &hits, &misses);
	ck_assert_uint_eq(hits, 1);
	ck_assert_uint_eq(misses, 2);
	sigcache_free(cache);
}
END_TEST

/* Handshake frames of the fixed-key reference run. */
static void
reference(struct msgs *m)
{
	struct channel *ci, *cr;

	pair_established(&ci, &cr, m, NULL, NULL);
	pair_free(ci, cr);
}

/* Flip one bit in every byte of msg1: the handshake never completes. */
START_TEST(test_flip_msg1)
{
	struct channel *ci, *cr;
	struct msgs ref, m;
	size_t i;
	int rc;

	reference(&ref);
	for (i = 0; i < ref.l1; i++) {
		pair_new(&ci, &cr, NULL, NULL, 1);
		ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1),
		    0);
		ck_assert_mem_eq(m.m1, ref.m1, ref.l1);
		m.m1[i] ^= (uint8_t)(1 << (i % 8));
		rc = channel_handshake(cr, m.m1, m.l1, NOW, m.m2, sizeof(m.m2),
		    &m.l2);
		if (i < FRAME_HDR) {
			ck_assert_int_eq(rc, -CHANNEL_EFRAME);
		} else if (i == ref.l1 - 1) {
			/* The version byte: named, not a later failure. */
			ck_assert_int_eq(rc, -CHANNEL_EVERSION);
		} else {
			/* e is not authenticated until msg2 is read. */
			ck_assert_int_eq(rc, 0);
			ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW,
			    m.m3, sizeof(m.m3), &m.l3), -CHANNEL_EHANDSHAKE);
			ck_assert_uint_eq(m.l3, 0);
		}
		pair_free(ci, cr);
	}
}
END_TEST

/* Flip one bit in every byte of msg2: the initiator refuses it. */
START_TEST(test_flip_msg2)
{
	struct channel *ci, *cr;
	struct msgs ref, m;
	size_t i;
	int rc;

	reference(&ref);
	for (i = 0; i < ref.l2; i++) {
		pair_new(&ci, &cr, NULL, NULL, 1);
		ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1),
		    0);
		memcpy(m.m2, ref.m2, ref.l2);
		m.m2[i] ^= (uint8_t)(1 << (i % 8));
		rc = channel_handshake(ci, m.m2, ref.l2, NOW, m.m3,
		    sizeof(m.m3), &m.l3);
		ck_assert_int_eq(rc, i < FRAME_HDR ? -CHANNEL_EFRAME
		                                   : -CHANNEL_EHANDSHAKE);
		ck_assert_uint_eq(m.l3, 0);
		pair_free(ci, cr);
	}
}
END_TEST

/* Flip one bit in every byte of msg3: the responder refuses it. */
START_TEST(test_flip_msg3)
{
	struct channel *ci, *cr;
	struct msgs ref, m;
	uint8_t out[HS];
	size_t i, olen;
	int rc;

	reference(&ref);
	for (i = 0; i < ref.l3; i++) {
		pair_new(&ci, &cr, NULL, NULL, 1);
		ck_assert_int_eq(channel_handshake(cr, ref.m1, ref.l1, NOW,
		    m.m2, sizeof(m.m2), &m.l2), 0);
		ck_assert_mem_eq(m.m2, ref.m2, ref.l2);
		memcpy(m.m3, ref.m3, ref.l3);
		m.m3[i] ^= (uint8_t)(1 << (i % 8));
		rc = channel_handshake(cr, m.m3, ref.l3, NOW, out, sizeof(out),
		    &olen);
		ck_assert_int_eq(rc, i < FRAME_HDR ? -CHANNEL_EFRAME
		                                   : -CHANNEL_EHANDSHAKE);
		ck_assert_ptr_null(channel_peer_id(cr));
		ck_assert_ptr_null(channel_request(cr, &olen));
		pair_free(ci, cr);
	}
}
END_TEST

/* Flip one bit in every byte of a transport record. */
START_TEST(test_flip_record)
{
	struct sigcache *kci, *kcr;
	struct channel *ci, *cr;
	uint8_t rec[CHANNEL_MAX_RECORD], ref[CHANNEL_MAX_RECORD];
	enum channel_type t;
	size_t i, len;
	long rl;

	ck_assert_ptr_nonnull(kci = sigcache_new(8));
	ck_assert_ptr_nonnull(kcr = sigcache_new(8));
	pair_established(&ci, &cr, NULL, kci, kcr);
	memset(ref + CHANNEL_HDR, 'x', 40);
	ck_assert_int_gt(rl = channel_seal(ci, CHANNEL_DATA, ref, 40), 0);
	pair_free(ci, cr);
	for (i = 0; i < (size_t)rl; i++) {
		pair_established(&ci, &cr, NULL, kci, kcr);
		memcpy(rec, ref, (size_t)rl);
		rec[i] ^= (uint8_t)(1 << (i % 8));
		ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len),
		    i < FRAME_HDR ? -CHANNEL_EFRAME : -CHANNEL_EDECRYPT);
		/* Dead now: even the genuine record is refused. */
		memcpy(rec, ref, (size_t)rl);
		ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len),
		    -CHANNEL_ESTATE);
		pair_free(ci, cr);
	}
	/* The untouched record opens in a fresh pair (keys repeat). */
	pair_established(&ci, &cr, NULL, kci, kcr);
	memcpy(rec, ref, (size_t)rl);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len), 0);
	ck_assert_uint_eq(len, 40);
	pair_free(ci, cr);
	sigcache_free(kci);
	sigcache_free(kcr);
}
END_TEST

/* Truncated handshake frames: "need more" from frame_peek; EFRAME inside. */
START_TEST(test_truncate_handshake)
{
	struct channel *ci, *cr;
	struct msgs ref, m;
	uint8_t out[HS];
	size_t i, total, olen;
	int which;

	reference(&ref);
	for (which = 1; which <= 3; which++) {
		const uint8_t *f = which == 1 ? ref.m1
		    : which == 2 ? ref.m2 : ref.m3;
		size_t fl = which == 1 ? ref.l1 : which == 2 ? ref.l2 : ref.l3;

		for (i = 0; i < fl; i++) {
			ck_assert_int_eq(frame_peek(f, i, HS, &total), 0);
			pair_new(&ci, &cr, NULL, NULL, 1);
			if (which == 1) {
				ck_assert_int_eq(channel_handshake(cr, f, i,
				    NOW, out, sizeof(out), &olen),
				    -CHANNEL_EFRAME);
			} else if (which == 2) {
				ck_assert_int_eq(channel_start(ci, m.m1,
				    sizeof(m.m1), &m.l1), 0);
				ck_assert_int_eq(channel_handshake(ci, f, i,
				    NOW, out, sizeof(out), &olen),
				    -CHANNEL_EFRAME);
			} else {
				ck_assert_int_eq(channel_handshake(cr, ref.m1,
				    ref.l1, NOW, m.m2, sizeof(m.m2), &m.l2), 0);
				ck_assert_int_eq(channel_handshake(cr, f, i,
				    NOW, out, sizeof(out), &olen),
				    -CHANNEL_EFRAME);
			}
			ck_assert_uint_eq(olen, 0);
			pair_free(ci, cr);
		}
	}

	/* A body cut short under a prefix rewritten to match: still no. */
	for (i = FRAME_HDR + 1; i < ref.l2; i += 7) {
		pair_new(&ci, &cr, NULL, NULL, 1);
		ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1),
		    0);
		memcpy(m.m2, ref.m2, i);
		frame_put_len(m.m2, i - FRAME_HDR);
		ck_assert_int_lt(channel_handshake(ci, m.m2, i, NOW, out,
		    sizeof(out), &olen), 0);
		pair_free(ci, cr);
	}
}
END_TEST

/* Truncated records at every length fail; so does a re-prefixed one. */
START_TEST(test_truncate_record)
{
	struct sigcache *kci, *kcr;
	struct channel *ci, *cr;
	uint8_t rec[CHANNEL_MAX_RECORD], ref[CHANNEL_MAX_RECORD];
	enum channel_type t;
	size_t i, len, total;
	long rl;

	ck_assert_ptr_nonnull(kci = sigcache_new(8));
	ck_assert_ptr_nonnull(kcr = sigcache_new(8));
	pair_established(&ci, &cr, NULL, kci, kcr);
	memset(ref + CHANNEL_HDR, 'y', 30);
	ck_assert_int_gt(rl = channel_seal(ci, CHANNEL_DATA, ref, 30), 0);
	pair_free(ci, cr);
	for (i = 0; i < (size_t)rl; i++) {
		ck_assert_int_eq(frame_peek(ref, i, CHANNEL_MAX_RECORD, &total),
		    0);
		pair_established(&ci, &cr, NULL, kci, kcr);
		memcpy(rec, ref, (size_t)rl);
		ck_assert_int_eq(channel_open(cr, rec, i, &t, &len),
		    -CHANNEL_EFRAME);
		pair_free(ci, cr);
		if (i < CHANNEL_OVERHEAD)
			continue;
		pair_established(&ci, &cr, NULL, kci, kcr);
		memcpy(rec, ref, (size_t)rl);
		frame_put_len(rec, i - FRAME_HDR);
		ck_assert_int_eq(channel_open(cr, rec, i, &t, &len),
		    -CHANNEL_EDECRYPT);
		pair_free(ci, cr);
	}
	sigcache_free(kci);
	sigcache_free(kcr);
}
END_TEST

/* Replayed handshake messages fail, in every state they can reach. */
START_TEST(test_replay_handshake)
{
	struct channel *ci, *cr, *cr2;
	struct msgs m;
	uint8_t out[HS];
	size_t olen;

	/* msg1 again to a responder waiting for msg3. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, out,
	    sizeof(out), &olen), -CHANNEL_EHANDSHAKE);
	/* The initiator's own msg1 reflected back to it. */
	ck_assert_int_eq(channel_handshake(ci, m.m1, m.l1, NOW, out,
	    sizeof(out), &olen), -CHANNEL_EHANDSHAKE);
	pair_free(ci, cr);

	/* msg2 and msg3 again once established. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, out,
	    sizeof(out), &olen), -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, out,
	    sizeof(out), &olen), -CHANNEL_ESTATE);
	ck_assert_uint_eq(olen, 0);

	/* A recorded msg1 + msg3 replayed to a new responder session. */
	ck_assert_ptr_nonnull(cr2 = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(channel_handshake(cr2, m.m1, m.l1, NOW, out,
	    sizeof(out), &olen), 0);
	ck_assert_int_eq(channel_handshake(cr2, m.m3, m.l3, NOW, out,
	    sizeof(out), &olen), -CHANNEL_EHANDSHAKE);
	ck_assert_ptr_null(channel_peer_id(cr2));
	channel_free(cr2);
	pair_free(ci, cr);
}
END_TEST

/* Replayed, reordered and dropped records fail authentication. */
START_TEST(test_replay_record)
{
	struct channel *ci, *cr;
	uint8_t r1[64], r2[64], c1[64];
	enum channel_type t;
	size_t len;
	long l1, l2;

	/* Replay. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	memset(r1 + CHANNEL_HDR, 'a', 10);
	ck_assert_int_gt(l1 = channel_seal(ci, CHANNEL_DATA, r1, 10), 0);
	memcpy(c1, r1, (size_t)l1);
	ck_assert_int_eq(channel_open(cr, r1, (size_t)l1, &t, &len), 0);
	ck_assert_int_eq(channel_open(cr, c1, (size_t)l1, &t, &len),
	    -CHANNEL_EDECRYPT);
	pair_free(ci, cr);

	/* Reorder (and, the same thing, a dropped record). */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	memset(r1 + CHANNEL_HDR, 'a', 10);
	memset(r2 + CHANNEL_HDR, 'b', 10);
	ck_assert_int_gt(l1 = channel_seal(ci, CHANNEL_DATA, r1, 10), 0);
	ck_assert_int_gt(l2 = channel_seal(ci, CHANNEL_DATA, r2, 10), 0);
	ck_assert_int_eq(channel_open(cr, r2, (size_t)l2, &t, &len),
	    -CHANNEL_EDECRYPT);
	ck_assert_int_eq(channel_open(cr, r1, (size_t)l1, &t, &len),
	    -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* A record reflected back to its sender. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	memset(r1 + CHANNEL_HDR, 'a', 10);
	ck_assert_int_gt(l1 = channel_seal(ci, CHANNEL_DATA, r1, 10), 0);
	ck_assert_int_eq(channel_open(ci, r1, (size_t)l1, &t, &len),
	    -CHANNEL_EDECRYPT);
	pair_free(ci, cr);
}
END_TEST

/* Messages over the limits. */
START_TEST(test_size_limits)
{
	struct channel *ci, *cr;
	static uint8_t rec[CHANNEL_MAX_RECORD + 16], big[HS + 16];
	uint8_t out[HS];
	enum channel_type t;
	size_t olen, len;
	long rl;

	/* A handshake frame over CHANNEL_MAX_HANDSHAKE. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	frame_put_len(big, HS - FRAME_HDR + 1);
	ck_assert_int_eq(channel_handshake(cr, big, HS + 1, NOW, out,
	    sizeof(out), &olen), -CHANNEL_EFRAME);
	channel_free(cr);
	/* At the limit it is framed fine, but msg1 carries no payload. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	frame_put_len(big, HS - FRAME_HDR);
	ck_assert_int_eq(channel_handshake(cr, big, HS, NOW, out, sizeof(out),
	    &olen), -CHANNEL_EPAYLOAD);
	channel_free(cr);

	/* Records: one byte too much to seal, or announced to open. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_int_eq(channel_seal(ci, CHANNEL_DATA, rec,
	    CHANNEL_MAX_DATA + 1), -CHANNEL_EFRAME);
	ck_assert_int_eq(channel_seal(ci, CHANNEL_DATA, rec, 1),
	    -CHANNEL_ESTATE);
	frame_put_len(rec, CHANNEL_MAX_RECORD + 1 - FRAME_HDR);
	ck_assert_int_eq(channel_open(cr, rec, CHANNEL_MAX_RECORD + 1, &t,
	    &len), -CHANNEL_EFRAME);
	pair_free(ci, cr);

	/* Exactly CHANNEL_MAX_DATA is fine. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	memset(rec + CHANNEL_HDR, 'z', CHANNEL_MAX_DATA);
	rl = channel_seal(ci, CHANNEL_DATA, rec, CHANNEL_MAX_DATA);
	ck_assert_int_eq(rl, CHANNEL_MAX_RECORD);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len), 0);
	ck_assert_uint_eq(len, CHANNEL_MAX_DATA);
	pair_free(ci, cr);
}
END_TEST

/* Requests: 0 and 255 bytes arrive; 256 is refused at both ends. */
START_TEST(test_request)
{
	struct channel *ci, *cr;
	struct noise_cipherstate tx, rx;
	struct msgs m;
	uint8_t req[CHANNEL_MAX_REQUEST + 1];
	const uint8_t *got;
	size_t len;

	memset(req, 'q', sizeof(req));
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_set_request(ci, req, sizeof(req)),
	    -CHANNEL_EPAYLOAD);
	ck_assert_int_eq(channel_set_request(ci, req, CHANNEL_MAX_REQUEST), 0);
	ck_assert_int_eq(channel_set_request(cr, req, 1), -CHANNEL_ESTATE);
	handshake_ok(ci, cr, NOW, &m);
	got = channel_request(cr, &len);
	ck_assert_uint_eq(len, CHANNEL_MAX_REQUEST);
	ck_assert_mem_eq(got, req, len);
	ck_assert_int_eq(channel_set_request(ci, req, 1), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/*
	 * A msg3 without request (version 3): the responder sends its
	 * credentials and waits for the request in a record.
	 */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_set_request(ci, NULL, 0), 0);
	ck_assert_int_eq(through_msg2(ci, cr, &m), 1);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m1,
	    sizeof(m.m1), &m.l1), 0);
	ck_assert_uint_eq(m.l1, 1 + CHANNEL_OVERHEAD);
	ck_assert_ptr_null(channel_request(cr, &len));
	pair_free(ci, cr);

	/* A peer that sends 256 request bytes anyway. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator(cr, req, sizeof(req), &tx, &rx),
	    -CHANNEL_EPAYLOAD);
	channel_free(cr);
}
END_TEST

/*
 * A channel made ahead of its use (issue 23, warm channels): an initiator
 * pinned by identifier sends msg3 without request and is established;
 * the responder sends its credentials and waits.  Later the request goes
 * as the initiator's first record, once, then data flows both ways.  Bad
 * lengths and a short buffer change nothing; a channel whose msg3 held
 * the request has none due; data first is refused by the responder.
 */
START_TEST(test_send_request)
{
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t req[CHANNEL_MAX_REQUEST + 1], rec[HS];
	enum channel_type t;
	size_t rlen, len;

	memset(req, 'q', sizeof(req));
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_set_request(ci, NULL, 0), 0);
	ck_assert_int_eq(through_msg2(ci, cr, &m), 1);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, rec,
	    sizeof(rec), &rlen), 0);
	ck_assert_ptr_null(channel_request(cr, &len));
	ck_assert_int_eq(channel_open(ci, rec, rlen, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_CREDS);
	ck_assert_int_eq(channel_send_request(ci, req, 0, rec, sizeof(rec),
	    &rlen), -CHANNEL_EPAYLOAD);
	ck_assert_int_eq(channel_send_request(ci, req, sizeof(req), rec,
	    sizeof(rec), &rlen), -CHANNEL_EPAYLOAD);
	ck_assert_int_eq(channel_send_request(ci, req, 5, rec,
	    5 + CHANNEL_OVERHEAD - 1, &rlen), -CHANNEL_EFRAME);
	ck_assert_int_eq(channel_send_request(ci, (const uint8_t *)REQ,
	    strlen(REQ), rec, sizeof(rec), &rlen), 0);
	ck_assert_int_eq(channel_send_request(ci, req, 1, m.m1, sizeof(m.m1),
	    &len), -CHANNEL_ESTATE); /* once */
	request_record_ok(ci, cr, rec, rlen);
	ck_assert_int_eq(channel_send_request(ci, req, 1, rec, sizeof(rec),
	    &rlen), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* The request went in msg3: none is due. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_int_eq(channel_send_request(ci, req, 1, rec, sizeof(rec),
	    &rlen), -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_send_request(cr, req, 1, rec, sizeof(rec),
	    &rlen), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* Data before the request: the responder refuses it. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_set_request(ci, NULL, 0), 0);
	ck_assert_int_eq(through_msg2(ci, cr, &m), 1);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, rec,
	    sizeof(rec), &rlen), 0);
	rec[CHANNEL_HDR] = 'd';
	ck_assert_int_eq(channel_seal(ci, CHANNEL_DATA, rec, 1),
	    1 + CHANNEL_OVERHEAD);
	ck_assert_int_eq(channel_handshake(cr, rec, 1 + CHANNEL_OVERHEAD, NOW,
	    m.m1, sizeof(m.m1), &len), -CHANNEL_EPAYLOAD);
	ck_assert_ptr_null(channel_request(cr, &len));
	pair_free(ci, cr);
}
END_TEST

/* A CREDS record replaces the peer's credential block; only a well
 * formed block is sealed or accepted. */
START_TEST(test_creds_record)
{
	struct channel *ci, *cr;
	struct noise_cipherstate tx, rx;
	static const uint8_t one[] = {1, 0, 3, 'a', 'b', 'c'};
	static const uint8_t none[] = {0};
	static const uint8_t cut[] = {2, 0, 1, 'x'};
	uint8_t rec[64];
	const uint8_t *got;
	enum channel_type t;
	size_t n, len, glen;
	long sl;

	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_ptr_null(channel_peer_creds(cr, &glen));
	memcpy(rec + CHANNEL_HDR, one, sizeof(one));
	ck_assert_int_gt(sl = channel_seal(ci, CHANNEL_CREDS, rec,
	    sizeof(one)), 0);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)sl, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_CREDS);
	ck_assert_uint_eq(len, sizeof(one));
	ck_assert_ptr_nonnull(got = channel_peer_creds(cr, &glen));
	ck_assert_uint_eq(glen, sizeof(one));
	ck_assert_mem_eq(got, one, sizeof(one));
	/* An empty block: the peer presents nothing any more. */
	memcpy(rec + CHANNEL_HDR, none, sizeof(none));
	ck_assert_int_gt(sl = channel_seal(ci, CHANNEL_CREDS, rec, 1), 0);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)sl, &t, &len), 0);
	ck_assert_ptr_null(channel_peer_creds(cr, &glen));
	ck_assert_uint_eq(glen, 0);
	/* A block cut short is never sealed. */
	memcpy(rec + CHANNEL_HDR, cut, sizeof(cut));
	ck_assert_int_eq(channel_seal(ci, CHANNEL_CREDS, rec, sizeof(cut)),
	    -CHANNEL_EFRAME);
	pair_free(ci, cr);

	/* Nor accepted: an authentic record with a malformed block. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator(cr, NULL, 0, &tx, &rx), 1);
	n = raw_seal(&tx, rec, CHANNEL_CREDS, cut, sizeof(cut));
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len),
	    -CHANNEL_EPAYLOAD);
	ck_assert_mem_ne(rec + CHANNEL_HDR, cut, sizeof(cut)); /* wiped */
	channel_free(cr);
	noise_cs_fini(&tx);
	noise_cs_fini(&rx);
}
END_TEST

/* Record types: unknown ones refused both ways; order after EOF. */
START_TEST(test_types)
{
	struct channel *ci, *cr;
	struct noise_cipherstate tx, rx;
	uint8_t rec[64], data[4] = {1, 2, 3, 4};
	enum channel_type t;
	size_t n, len;

	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_int_eq(channel_seal(ci, (enum channel_type)5, rec, 0),
	    -CHANNEL_ETYPE);
	pair_free(ci, cr);
	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_int_eq(channel_seal(ci, CHANNEL_EOF, rec, 1),
	    -CHANNEL_EFRAME);
	pair_free(ci, cr);

	/* An authentic record of an unknown type. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator(cr, NULL, 0, &tx, &rx), 1);
	n = raw_seal(&tx, rec, CHANNEL_DATA, data, 4);
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len), 0);
	n = raw_seal(&tx, rec, 0x80, data, 4);
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len), -CHANNEL_ETYPE);
	ck_assert_mem_ne(rec + CHANNEL_HDR, data, 4); /* wiped */
	channel_free(cr);
	noise_cs_fini(&tx);
	noise_cs_fini(&rx);

	/* An EOF with data in it. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator(cr, NULL, 0, &tx, &rx), 1);
	n = raw_seal(&tx, rec, CHANNEL_EOF, data, 1);
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len), -CHANNEL_EFRAME);
	channel_free(cr);
	noise_cs_fini(&tx);
	noise_cs_fini(&rx);

	/* DATA after EOF: the peer broke the half-close. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator(cr, NULL, 0, &tx, &rx), 1);
	n = raw_seal(&tx, rec, CHANNEL_EOF, NULL, 0);
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_EOF);
	n = raw_seal(&tx, rec, CHANNEL_PING, data, 4);
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_PING);
	n = raw_seal(&tx, rec, CHANNEL_DATA, data, 4);
	ck_assert_int_eq(channel_open(cr, rec, n, &t, &len), -CHANNEL_ESTATE);
	channel_free(cr);
	noise_cs_fini(&tx);
	noise_cs_fini(&rx);

	/* Our own side: no DATA after our EOF, keepalives still go. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	send_ok(ci, cr, CHANNEL_EOF, data, 0);
	send_ok(ci, cr, CHANNEL_PING, data, 4);
	send_ok(cr, ci, CHANNEL_DATA, data, 4);
	ck_assert_int_eq(channel_seal(ci, CHANNEL_DATA, rec, 1),
	    -CHANNEL_ESTATE);
	pair_free(ci, cr);
}
END_TEST

/*
 * REFUSE: the responder's one record saying why it will not serve an
 * authenticated initiator.  It carries its reason byte (an empty one is
 * EFRAME both ways), bytes after it are reserved, and the reason words
 * are the audit words; unknown codes read as "refused".
 */
START_TEST(test_refuse)
{
	struct channel *ci, *cr;
	struct noise_cipherstate tx, rx;
	uint8_t rec[64], data[3] = {CHANNEL_REFUSAL_NOT_ALLOWED, 9, 9};
	enum channel_type t;
	size_t len;
	long n;

	pair_established(&ci, &cr, NULL, NULL, NULL);
	rec[CHANNEL_HDR] = CHANNEL_REFUSAL_TARGET_FAILED;
	n = channel_seal(cr, CHANNEL_REFUSE, rec, 1);
	ck_assert_int_eq(n, 1 + CHANNEL_OVERHEAD);
	ck_assert_int_eq(rec[0], 0);
	ck_assert_int_eq(rec[1], 1 + 1 + 16);
	ck_assert_int_eq(channel_open(ci, rec, (size_t)n, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_REFUSE);
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(rec[CHANNEL_HDR], CHANNEL_REFUSAL_TARGET_FAILED);
	ck_assert_int_eq(channel_seal(cr, CHANNEL_REFUSE, rec, 0),
	    -CHANNEL_EFRAME);
	pair_free(ci, cr);

	/* Received: empty is EFRAME; reserved bytes behind are fine. */
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator(cr, NULL, 0, &tx, &rx), 1);
	n = (long)raw_seal(&tx, rec, CHANNEL_REFUSE, data, 3);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)n, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_REFUSE);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(rec[CHANNEL_HDR], CHANNEL_REFUSAL_NOT_ALLOWED);
	n = (long)raw_seal(&tx, rec, CHANNEL_REFUSE, NULL, 0);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)n, &t, &len),
	    -CHANNEL_EFRAME);
	channel_free(cr);
	noise_cs_fini(&tx);
	noise_cs_fini(&rx);

	ck_assert_str_eq(channel_refusal_name(CHANNEL_REFUSAL_NOT_ALLOWED),
	    "not-allowed");
	ck_assert_str_eq(channel_refusal_name(
	    CHANNEL_REFUSAL_UNKNOWN_SERVICE), "unknown-service");
	ck_assert_str_eq(channel_refusal_name(CHANNEL_REFUSAL_TARGET_FAILED),
	    "target-failed");
	ck_assert_str_eq(channel_refusal_name(
	    CHANNEL_REFUSAL_REGISTRATION_MISMATCH), "registration-mismatch");
	ck_assert_str_eq(channel_refusal_name(
	    CHANNEL_REFUSAL_NOT_REGISTRANT), "not-registrant");
	ck_assert_str_eq(channel_refusal_name(CHANNEL_REFUSAL_NO_REGISTRANT),
	    "no-registrant");
	ck_assert_str_eq(channel_refusal_name(CHANNEL_REFUSAL_BAD_REQUEST),
	    "bad-request");
	ck_assert_str_eq(channel_refusal_name(CHANNEL_REFUSAL_OLD_REQUEST),
	    "old-request");
	ck_assert_str_eq(channel_refusal_name(0), "refused");
	ck_assert_str_eq(channel_refusal_name(200), "refused");
}
END_TEST

/* Calls out of turn, and a dead channel refuses everything. */
START_TEST(test_state)
{
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t out[HS], rec[64];
	enum channel_type t;
	size_t olen, len;

	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(cr, out, sizeof(out), &olen),
	    -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_seal(ci, CHANNEL_DATA, rec, 1),
	    -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_start(ci, out, sizeof(out), &olen),
	    -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* Before its msg1 the initiator has nothing to read. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1),
	    0);
	channel_free(ci);
	ck_assert_ptr_nonnull(ci = channel_new(CHANNEL_INITIATOR, &li, NULL));
	channel_expect_peer(ci, lr.id);
	ck_assert_int_eq(channel_handshake(ci, m.m1, m.l1, NOW, out,
	    sizeof(out), &olen), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* Starting twice. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_start(ci, out, sizeof(out), &olen),
	    -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* Open before established. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_open(cr, m.m1, m.l1, &t, &len),
	    -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, out,
	    sizeof(out), &olen), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* Output buffer too small for msg2. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_lt(channel_handshake(cr, m.m1, m.l1, NOW, m.m2, 100,
	    &m.l2), 0);
	ck_assert_uint_eq(m.l2, 0);
	pair_free(ci, cr);
}
END_TEST

/* Rekeying: a small interval crossed many times with data flowing. */
START_TEST(test_rekey_small)
{
	struct channel *ci, *cr;
	uint8_t data[100];
	enum channel_type t;
	uint8_t rec[200];
	size_t i, len;
	long rl;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	pair_established(&ci, &cr, NULL, NULL, NULL);
	channel_set_rekey_interval(ci, 3);
	channel_set_rekey_interval(cr, 3);
	for (i = 0; i < 20; i++) {
		send_ok(ci, cr, CHANNEL_DATA, data, i + 1);
		send_ok(cr, ci, CHANNEL_DATA, data, 2 * i + 1);
		if (i % 2 == 0)
			send_ok(ci, cr, CHANNEL_DATA, data, 3);
	}
	pair_free(ci, cr);

	/* Proof that keys changed: a receiver that does not rekey fails. */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	channel_set_rekey_interval(ci, 3);
	for (i = 0; i < 3; i++)
		send_ok(ci, cr, CHANNEL_DATA, data, 5);
	memcpy(rec + CHANNEL_HDR, data, 5);
	ck_assert_int_gt(rl = channel_seal(ci, CHANNEL_DATA, rec, 5), 0);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len),
	    -CHANNEL_EDECRYPT);
	pair_free(ci, cr);
}
END_TEST

/* The default schedule: the key changes after record 65536. */
START_TEST(test_rekey_default)
{
	struct channel *ci, *cr, *cx, *cy;
	uint8_t rec[64];
	enum channel_type t;
	size_t i, len;
	long rl;

	pair_established(&ci, &cr, NULL, NULL, NULL);
	pair_established(&cx, &cy, NULL, NULL, NULL);
	/* cy never rekeys in time: it must fail exactly at 65537. */
	channel_set_rekey_interval(cy, (uint64_t)1 << 40);
	for (i = 0; i < CHANNEL_REKEY_INTERVAL + 10; i++) {
		rec[CHANNEL_HDR] = (uint8_t)i;
		ck_assert_int_gt(rl = channel_seal(ci, CHANNEL_DATA, rec, 1),
		    0);
		ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len),
		    0);
		ck_assert_uint_eq(rec[CHANNEL_HDR], (uint8_t)i);
		rec[CHANNEL_HDR] = (uint8_t)i;
		ck_assert_int_gt(rl = channel_seal(cx, CHANNEL_DATA, rec, 1),
		    0);
		ck_assert_int_eq(channel_open(cy, rec, (size_t)rl, &t, &len),
		    i < CHANNEL_REKEY_INTERVAL ? 0 : -CHANNEL_EDECRYPT);
		if (i == CHANNEL_REKEY_INTERVAL)
			break;
	}
	ck_assert_uint_eq(i, CHANNEL_REKEY_INTERVAL);
	/* And the genuine pair goes on both ways past the boundary. */
	for (i = 0; i < 5; i++) {
		send_ok(ci, cr, CHANNEL_DATA, rec, 1);
		send_ok(cr, ci, CHANNEL_DATA, rec, 1);
	}
	pair_free(ci, cr);
	pair_free(cx, cy);
}
END_TEST

/*
 * Rekey by time: a used sending key is due after CHANNEL_REKEY_TIME, a
 * REKEY record changes it at both ends at the same record, also when it
 * lands on a count boundary; an unused key is never due.
 */
START_TEST(test_rekey_time)
{
	struct channel *ci, *cr;
	uint8_t rec[64], data[3] = {7, 8, 9};
	enum channel_type t;
	size_t i, len;
	long rl;

	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_uint_eq(channel_rekey_at(ci), NOW + CHANNEL_REKEY_TIME);
	ck_assert_int_eq(channel_rekey_due(ci, NOW + 10000), 0); /* unused */
	send_ok(ci, cr, CHANNEL_DATA, data, 3);
	ck_assert_int_eq(channel_rekey_due(ci, NOW + CHANNEL_REKEY_TIME - 1),
	    0);
	ck_assert_int_eq(channel_rekey_due(ci, NOW + CHANNEL_REKEY_TIME), 1);
	/* cr's key protected its credential record (version 3): due too. */
	ck_assert_int_eq(channel_rekey_due(cr, NOW + CHANNEL_REKEY_TIME), 1);
	rl = channel_seal_rekey(ci, rec, NOW + CHANNEL_REKEY_TIME);
	ck_assert_int_eq(rl, CHANNEL_OVERHEAD);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_REKEY);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(channel_rekey_due(ci, NOW + 2 * CHANNEL_REKEY_TIME),
	    0);
	ck_assert_uint_eq(channel_rekey_at(ci), NOW + 2 * CHANNEL_REKEY_TIME);
	for (i = 0; i < 4; i++) {
		send_ok(ci, cr, CHANNEL_DATA, data, 3);
		send_ok(cr, ci, CHANNEL_DATA, data, 2);
	}
	/* A receiver that misses the REKEY (here: reads it as lost) fails. */
	ck_assert_int_gt(rl = channel_seal_rekey(ci, rec, NOW + 300), 0);
	memcpy(rec + CHANNEL_HDR, data, 3);
	ck_assert_int_gt(rl = channel_seal(ci, CHANNEL_DATA, rec, 3), 0);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len),
	    -CHANNEL_EDECRYPT);
	pair_free(ci, cr);

	/* On a count boundary (every 3 records): REKEY is the 3rd, 6th... */
	pair_established(&ci, &cr, NULL, NULL, NULL);
	channel_set_rekey_interval(ci, 3);
	channel_set_rekey_interval(cr, 3);
	for (i = 0; i < 12; i++) {
		if (i % 3 == 2) {
			rl = channel_seal_rekey(ci, rec, NOW + i);
			ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t,
			    &len), 0);
			ck_assert_int_eq(t, CHANNEL_REKEY);
		} else {
			send_ok(ci, cr, CHANNEL_DATA, data, 3);
		}
		send_ok(cr, ci, CHANNEL_PING, data, 1);
	}
	/* REKEY records carry nothing; after our EOF they still go. */
	send_ok(ci, cr, CHANNEL_EOF, data, 0);
	rl = channel_seal_rekey(ci, rec, NOW + 50);
	ck_assert_int_eq(channel_open(cr, rec, (size_t)rl, &t, &len), 0);
	send_ok(ci, cr, CHANNEL_PING, data, 1);
	ck_assert_int_eq(channel_seal(ci, CHANNEL_REKEY, rec, 0),
	    -CHANNEL_ETYPE);
	pair_free(ci, cr);
}
END_TEST

/*
 * Maximum age: a channel ends at the earlier attestation expiry of its
 * two ends, or CHANNEL_MAX_AGE after its handshake, at both ends alike.
 */
START_TEST(test_max_age)
{
	struct channel *ci, *cr;
	uint8_t rec[64], data[1] = {1};

	/* Long attestations: the fixed cap. */
	channel_local_fini(&li);
	channel_local_fini(&lr);
	local_fixed(&li, 1, NOW + 10 * CHANNEL_MAX_AGE);
	local_fixed(&lr, 101, NOW + 10 * CHANNEL_MAX_AGE);
	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_uint_eq(channel_deadline(ci), NOW + CHANNEL_MAX_AGE);
	ck_assert_uint_eq(channel_deadline(cr), NOW + CHANNEL_MAX_AGE);
	pair_free(ci, cr);

	/* The initiator's attestation ends first: both ends use it. */
	channel_local_fini(&li);
	local_fixed(&li, 1, NOW + 100);
	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_uint_eq(channel_deadline(ci), NOW + 100);
	ck_assert_uint_eq(channel_deadline(cr), NOW + 100);
	ck_assert_int_eq(channel_check_time(ci, NOW + 99), 0);
	send_ok(ci, cr, CHANNEL_DATA, data, 1);
	ck_assert_int_eq(channel_check_time(cr, NOW + 100),
	    -CHANNEL_EEXPIRED);
	/* Dead: nothing more, whatever the time. */
	ck_assert_int_eq(channel_check_time(cr, NOW), -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_seal(cr, CHANNEL_DATA, rec, 1),
	    -CHANNEL_ESTATE);
	ck_assert_int_eq(channel_check_time(ci, NOW + 101),
	    -CHANNEL_EEXPIRED);
	pair_free(ci, cr);

	/* The responder's: the same. */
	channel_local_fini(&lr);
	local_fixed(&lr, 101, NOW + 50);
	pair_established(&ci, &cr, NULL, NULL, NULL);
	ck_assert_uint_eq(channel_deadline(ci), NOW + 50);
	ck_assert_uint_eq(channel_deadline(cr), NOW + 50);
	pair_free(ci, cr);
}
END_TEST

/* The second handshake between the same nodes skips ECDSA entirely. */
START_TEST(test_cache)
{
	struct sigcache *kci, *kcr;
	struct channel *ci, *cr;
	struct msgs m;
	uint64_t hits, misses;
	int k;

	ck_assert_ptr_null(sigcache_new(((size_t)1 << 20) + 1));
	ck_assert_ptr_nonnull(kci = sigcache_new(64));
	ck_assert_ptr_nonnull(kcr = sigcache_new(64));
	for (k = 0; k < 3; k++) {
		pair_new(&ci, &cr, kci, kcr, 0);
		handshake_ok(ci, cr, NOW + (uint64_t)k, &m);
		ck_assert_mem_eq(channel_peer_id(ci), lr.id, CHANNEL_ID_LEN);
		ck_assert_mem_eq(channel_peer_id(cr), li.id, CHANNEL_ID_LEN);
		pair_free(ci, cr);
		sigcache_stats(kci, &hits, &misses);
		ck_assert_uint_eq(misses, 1);
		ck_assert_uint_eq(hits, (uint64_t)k);
		sigcache_stats(kcr, &hits, &misses);
		ck_assert_uint_eq(misses, 1);
		ck_assert_uint_eq(hits, (uint64_t)k);
	}

	/* Cached, but expired now: refused all the same. */
	pair_new(&ci, &cr, kci, kcr, 0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, lr.expiry, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, lr.expiry, m.m3,
	    sizeof(m.m3), &m.l3), -CHANNEL_EEXPIRED);
	pair_free(ci, cr);
	sigcache_free(kci);
	sigcache_free(kcr);
	sigcache_free(NULL);
}
END_TEST

/* A peer filter: saw the claimed id and request; says ${filter_ok}. */
static int filter_ok, filter_calls;
static uint8_t filter_id[CHANNEL_ID_LEN];

static int
filter(void *arg, const uint8_t id[CHANNEL_ID_LEN], const uint8_t *req,
    size_t len)
{

	ck_assert_ptr_eq(arg, &filter_ok);
	ck_assert_uint_eq(len, strlen(REQ));
	ck_assert_mem_eq(req, REQ, len);
	memcpy(filter_id, id, CHANNEL_ID_LEN);
	filter_calls++;
	return (filter_ok);
}

/*
 * The responder's peer filter sees the claimed identifier before the
 * signature: a refused one costs no ECDSA (no cache miss) and leaves the
 * cache alone; an accepted one goes on to the normal check.
 */
START_TEST(test_peer_filter)
{
	struct sigcache *kcr;
	struct channel *ci, *cr;
	struct msgs m;
	uint64_t hits, misses;

	ck_assert_ptr_nonnull(kcr = sigcache_new(64));
	pair_new(&ci, &cr, NULL, kcr, 0);
	channel_set_peer_filter(cr, filter, &filter_ok);
	filter_ok = 0;
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
	    sizeof(m.m3), &m.l3), 1);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EDENIED);
	ck_assert_int_eq(filter_calls, 1);
	ck_assert_mem_eq(filter_id, li.id, CHANNEL_ID_LEN);
	ck_assert_ptr_null(channel_peer_id(cr));
	sigcache_stats(kcr, &hits, &misses);
	ck_assert_uint_eq(hits + misses, 0);
	pair_free(ci, cr);

	pair_new(&ci, &cr, NULL, kcr, 0);
	channel_set_peer_filter(cr, filter, &filter_ok);
	filter_ok = 1;
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(filter_calls, 2);
	sigcache_stats(kcr, &hits, &misses);
	ck_assert_uint_eq(misses, 1);
	ck_assert_str_eq(channel_error_name(CHANNEL_EDENIED), "EDENIED");
	pair_free(ci, cr);
	sigcache_free(kcr);
}
END_TEST

/* An initiator's check (channel_expect_check): what it saw; says ${check_ok}. */
static int check_ok, check_calls;
static uint8_t check_id[CHANNEL_ID_LEN];
static size_t check_len;

static int
check(void *arg, const uint8_t id[CHANNEL_ID_LEN], const uint8_t *creds,
    size_t len)
{

	ck_assert_ptr_eq(arg, &check_ok);
	ck_assert(len == 0 || creds != NULL);
	memcpy(check_id, id, CHANNEL_ID_LEN);
	check_len = len;
	check_calls++;
	return (check_ok);
}

/*
 * An initiator pinned by a check instead of an identifier: msg2 carries no
 * credential (version 3), so the initiator writes msg3 and waits for the
 * responder's first record, its credential block; the check sees the
 * verified responder once, then: a refusal is EDENIED, an accept
 * completes.  A first record of another type is EPAYLOAD.
 */
START_TEST(test_expect_check)
{
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t rec[HS];
	size_t rlen, rlen2;

	for (check_ok = 0; check_ok <= 1; check_ok++) {
		check_calls = 0;
		ck_assert_ptr_nonnull(ci = channel_new(CHANNEL_INITIATOR, &li,
		    NULL));
		ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr,
		    NULL));
		channel_expect_check(ci, check, &check_ok);
		ck_assert_int_eq(channel_set_request(ci, (const uint8_t *)REQ,
		    strlen(REQ)), 0);
		ck_assert_int_eq(through_msg2(ci, cr, &m), 0);
		ck_assert_uint_eq(m.l2, 2 + 32 + 48 + CHANNEL_PAYLOAD_LEN + 16);
		ck_assert_uint_gt(m.l3, 0);
		ck_assert_int_eq(check_calls, 0);
		/* msg3 holds no request: the responder waits for it. */
		ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, rec,
		    sizeof(rec), &rlen), 0);
		ck_assert_ptr_null(channel_request(cr, &rlen2));
		ck_assert_int_eq(channel_handshake(ci, rec, rlen, NOW, m.m2,
		    sizeof(m.m2), &m.l2), check_ok ? 1 : -CHANNEL_EDENIED);
		ck_assert_int_eq(check_calls, 1);
		ck_assert_mem_eq(check_id, lr.id, CHANNEL_ID_LEN);
		ck_assert_uint_eq(check_len, 0); /* lr shows no credential */
		if (!check_ok) {
			ck_assert_uint_eq(m.l2, 0); /* the request never left */
		} else {
			/* The request record, then both ends are established. */
			request_record_ok(ci, cr, m.m2, m.l2);
		}
		pair_free(ci, cr);
	}
}
END_TEST

/* A full set evicts its least recently used entry. */
/*
 * Issue 19, N7: the responder's credentials never travel in msg2 (anyone
 * who sends msg1 reads it); they come in its first record, once msg3
 * proved the initiator.  An initiator pinned by check takes nothing else
 * in its place (the check is never asked).
 */
START_TEST(test_creds_after_msg3)
{
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t cred[200], block[CRED_BLOCK_MAX], rec[HS];
	const uint8_t *got;
	enum channel_type t;
	size_t blen = 0, rlen, len;

	memset(cred, 0x5c, sizeof(cred));
	ck_assert_int_eq(cred_block_add(block, sizeof(block), &blen, cred,
	    sizeof(cred)), 0);
	ck_assert_int_eq(channel_local_set_creds(&lr, block, blen), 0);
	pair_new(&ci, &cr, NULL, NULL, 1);
	ck_assert_int_eq(through_msg2(ci, cr, &m), 1);
	ck_assert_uint_eq(m.l2, 2 + 32 + 48 + CHANNEL_PAYLOAD_LEN + 16);
	ck_assert_ptr_null(channel_peer_creds(ci, &len));
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, rec,
	    sizeof(rec), &rlen), 1);
	ck_assert_uint_eq(rlen, blen + CHANNEL_OVERHEAD);
	ck_assert_int_eq(channel_open(ci, rec, rlen, &t, &len), 0);
	ck_assert_int_eq(t, CHANNEL_CREDS);
	ck_assert_ptr_nonnull(got = channel_peer_creds(ci, &len));
	ck_assert_uint_eq(len, blen);
	ck_assert_mem_eq(got, block, blen);
	pair_free(ci, cr);

	/* Pinned by check: the first record must be the credential one. */
	check_ok = 1;
	check_calls = 0;
	ck_assert_ptr_nonnull(ci = channel_new(CHANNEL_INITIATOR, &li, NULL));
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	channel_expect_check(ci, check, &check_ok);
	ck_assert_int_eq(through_msg2(ci, cr, &m), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, rec,
	    sizeof(rec), &rlen), 0);
	/* A tampered credential record: refused, the check never asked. */
	rec[rlen - 1] ^= 1;
	ck_assert_int_eq(channel_handshake(ci, rec, rlen, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EDECRYPT);
	ck_assert_uint_eq(m.l2, 0);
	ck_assert_int_eq(check_calls, 0);
	pair_free(ci, cr);
}
END_TEST

/*
 * Issue 19, N7: version 3.  A version-2 initiator (prologue sallyport/2,
 * version byte 2) is refused at msg1 with EVERSION, not a later failure.
 */
START_TEST(test_version_2_refused)
{
	struct noise_handshake hs;
	struct channel *cr;
	uint8_t a[HS], b[HS], v = 2;
	size_t n, bl;

	ck_assert_int_eq(CHANNEL_VERSION, 3);
	ck_assert_str_eq(CHANNEL_PROLOGUE, "sallyport/3");
	ck_assert_int_eq(noise_handshake_init(&hs, NOISE_XX, NOISE_AESGCM,
	    NOISE_INITIATOR, (const uint8_t *)"sallyport/2", 11, li.s, NULL,
	    NULL), 0);
	ck_assert_int_eq(noise_handshake_write(&hs, &v, 1, a + 2,
	    sizeof(a) - 2, &n), 0);
	frame_put_len(a, n);
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(channel_handshake(cr, a, n + 2, NOW, b, sizeof(b),
	    &bl), -CHANNEL_EVERSION);
	ck_assert_uint_eq(bl, 0);
	channel_free(cr);
	noise_handshake_fini(&hs);
}
END_TEST

START_TEST(test_cache_evict)
{
	struct sigcache *cache;
	struct channel_local l[5];
	uint8_t p[5][CHANNEL_PAYLOAD_LEN], id[CHANNEL_ID_LEN];
	uint64_t hits, misses;
	int k;

	ck_assert_ptr_nonnull(cache = sigcache_new(4)); /* one set */
	for (k = 0; k < 5; k++) {
		local_fixed(&l[k], (uint8_t)(30 + k), NOW + 10);
		payload_of(p[k], &l[k]);
	}
	for (k = 0; k < 4; k++)
		ck_assert_int_eq(channel_payload_check(p[k], sizeof(p[k]),
		    l[k].s_pub, NOW, NULL, cache, id), 0);
	/* Touch 0: 1 is now the oldest and goes when 4 comes in. */
	ck_assert_int_eq(channel_payload_check(p[0], sizeof(p[0]), l[0].s_pub,
	    NOW, NULL, cache, id), 0);
	ck_assert_int_eq(channel_payload_check(p[4], sizeof(p[4]), l[4].s_pub,
	    NOW, NULL, cache, id), 0);
	sigcache_stats(cache, &hits, &misses);
	ck_assert_uint_eq(hits, 1);
	ck_assert_uint_eq(misses, 5);
	ck_assert_int_eq(channel_payload_check(p[0], sizeof(p[0]), l[0].s_pub,
	    NOW, NULL, cache, id), 0);
	ck_assert_int_eq(channel_payload_check(p[1], sizeof(p[1]), l[1].s_pub,
	    NOW, NULL, cache, id), 0);
	sigcache_stats(cache, &hits, &misses);
	ck_assert_uint_eq(hits, 2);
	ck_assert_uint_eq(misses, 6);
	for (k = 0; k < 5; k++)
		channel_local_fini(&l[k]);
	sigcache_free(cache);
}
END_TEST

/* Every error has its own text. */
START_TEST(test_strerror)
{
	int i, j;

	for (i = CHANNEL_OK; i <= CHANNEL_EDENIED; i++) {
		ck_assert_str_ne(channel_strerror(i), "unknown channel error");
		ck_assert_str_eq(channel_strerror(i), channel_strerror(-i));
		for (j = 0; j < i; j++) {
			ck_assert_str_ne(channel_strerror(i),
			    channel_strerror(j));
			ck_assert_str_ne(channel_error_name(i),
			    channel_error_name(j));
		}
		/* One word: a log value (key=value) and a metrics label. */
		ck_assert_ptr_null(strchr(channel_error_name(i), ' '));
		ck_assert_str_eq(channel_error_name(i), channel_error_name(-i));
	}
	ck_assert_str_eq(channel_strerror(99), "unknown channel error");
	ck_assert_str_eq(channel_error_name(99), "channel");
	ck_assert_str_eq(channel_error_name(-CHANNEL_EDECRYPT), "EDECRYPT");
}
END_TEST

/* channel_local_init: the attestation verifies; silly lifetimes fail. */
START_TEST(test_local)
{
	struct channel_local l;
	uint8_t priv[CRYPTO_P256_PRIV_LEN], pub[CRYPTO_P256_PUB_LEN];
	uint8_t p[CHANNEL_PAYLOAD_LEN], id[CHANNEL_ID_LEN], want[32];

	ck_assert_int_eq(crypto_p256_keypair(priv, pub), 0);
	ck_assert_int_eq(channel_local_init(&l, priv, NOW, 10), 0);
	ck_assert_uint_eq(l.expiry, NOW + 10);
	crypto_sha256(want, pub, sizeof(pub));
	ck_assert_mem_eq(l.id, want, 32);
	payload_of(p, &l);
	ck_assert_int_eq(channel_payload_check(p, sizeof(p), l.s_pub, NOW,
	    want, NULL, id), 0);
	ck_assert_int_eq(channel_local_init(&l, priv, NOW, UINT64_MAX), -1);
	memset(priv, 0, sizeof(priv));
	ck_assert_int_eq(channel_local_init(&l, priv, NOW, 10), -1);
	channel_local_fini(&l);
}
END_TEST

/* The responder's ticket store in the resume tests: one ticket or none. */
static struct channel_resume store;
static int store_has, store_calls;

static int
store_lookup(void *arg, const uint8_t tid[CHANNEL_RESUME_TID_LEN],
    uint64_t now, struct channel_resume *t)
{

	ck_assert_ptr_eq(arg, &store);
	store_calls++;
	if (!store_has || memcmp(store.tid, tid, CHANNEL_RESUME_TID_LEN) != 0 ||
	    store.expiry <= now)
		return (-1);
	memcpy(t, &store, sizeof(*t));
	return (0);
}

/*
 * A full handshake between li and lr; the initiator's ticket goes to
 * ${ti}, the responder's into the store.
 */
static void
resume_tickets(struct channel_resume *ti)
{
	struct channel *ci, *cr;
	struct msgs m;

	pair_new(&ci, &cr, NULL, NULL, 0);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(channel_resume_export(ci, NOW, ti), 0);
	ck_assert_int_eq(channel_resume_export(cr, NOW, &store), 0);
	store_has = 1;
	store_calls = 0;
	pair_free(ci, cr);
}

/* Run a handshake up to msg3, which the responder has yet to read. */
static void
up_to_msg3(struct channel *ci, struct channel *cr, struct msgs *m)
{

	ck_assert_int_eq(channel_start(ci, m->m1, sizeof(m->m1), &m->l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m->m1, m->l1, NOW, m->m2,
	    sizeof(m->m2), &m->l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m->m2, m->l2, NOW, m->m3,
	    sizeof(m->m3), &m->l3), 1);
}

/* A resumed pair: i holds ${ti}, r looks tickets up in the store. */
static void
resume_pair(struct channel **ci, struct channel **cr,
    const struct channel_resume *ti)
{

	pair_new(ci, cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_resume_set(*ci, ti, NOW), 0);
	channel_resume_set_lookup(*cr, store_lookup, &store);
}

/* Both ends derive the same ticket id and secret, bound to both ids. */
START_TEST(test_resume_derive)
{
	struct channel_resume ti, t2;
	struct channel *ci, *cr;

	resume_tickets(&ti);
	ck_assert_mem_eq(ti.tid, store.tid, CHANNEL_RESUME_TID_LEN);
	ck_assert_mem_eq(ti.secret, store.secret, CHANNEL_RESUME_SECRET_LEN);
	ck_assert_mem_eq(ti.peer, lr.id, CHANNEL_ID_LEN);
	ck_assert_mem_eq(store.peer, li.id, CHANNEL_ID_LEN);
	ck_assert_uint_le(ti.expiry, NOW + CHANNEL_RESUME_LIFETIME);
	ck_assert_uint_le(ti.expiry, li.expiry);
	ck_assert_uint_le(ti.expiry, lr.expiry);
	ck_assert_uint_gt(ti.expiry, NOW);

	/* Another full handshake: another ticket. */
	resume_tickets(&t2);
	ck_assert(memcmp(t2.secret, ti.secret, CHANNEL_RESUME_SECRET_LEN) !=
	    0);
	ck_assert(memcmp(t2.tid, ti.tid, CHANNEL_RESUME_TID_LEN) != 0);

	/* Nothing to export before the end, or when already expired. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_resume_export(ci, NOW, &t2), -CHANNEL_ESTATE);
	pair_free(ci, cr);
	pair_new(&ci, &cr, NULL, NULL, 0);
	handshake_ok(ci, cr, NOW, &(struct msgs){0});
	ck_assert_int_eq(channel_resume_export(ci, NOW + LIFETIME, &t2),
	    -CHANNEL_EEXPIRED);
	pair_free(ci, cr);
	channel_resume_fini(&ti);
	channel_resume_fini(&t2);
}
END_TEST

/*
 * A filter that refuses and asks to tell why: the responder's msg3 call
 * returns EDENIED with one REFUSE record in its output, which the
 * initiator opens (the reason); still no ECDSA and no cache entry.  A
 * silent refusal writes nothing.  A resumed msg3 is told the same way.
 */
START_TEST(test_peer_filter_tells)
{
	struct sigcache *kcr;
	struct channel_resume ti;
	struct channel *ci, *cr;
	struct msgs m;
	enum channel_type t;
	uint64_t hits, misses;
	size_t len;
	int round;

	ck_assert_ptr_nonnull(kcr = sigcache_new(64));
	for (round = 0; round < 2; round++) {
		if (round == 0) {
			pair_new(&ci, &cr, NULL, kcr, 0);
		} else {
			resume_tickets(&ti);
			resume_pair(&ci, &cr, &ti);
		}
		channel_set_peer_filter(cr, filter, &filter_ok);
		filter_ok = -(int)CHANNEL_REFUSAL_NOT_ALLOWED;
		up_to_msg3(ci, cr, &m);
		ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
		    sizeof(m.m2), &m.l2), -CHANNEL_EDENIED);
		ck_assert_uint_eq(m.l2, 1 + CHANNEL_OVERHEAD);
		ck_assert_ptr_null(channel_peer_id(cr));
		ck_assert_int_eq(channel_open(ci, m.m2, m.l2, &t, &len), 0);
		ck_assert_int_eq(t, CHANNEL_REFUSE);
		ck_assert_uint_eq(len, 1);
		ck_assert_int_eq(m.m2[CHANNEL_HDR],
		    CHANNEL_REFUSAL_NOT_ALLOWED);
		pair_free(ci, cr);
		if (round == 1)
			channel_resume_fini(&ti);
	}
	sigcache_stats(kcr, &hits, &misses);
	ck_assert_uint_eq(hits + misses, 0);

	/* Silent: nothing to send. */
	pair_new(&ci, &cr, NULL, kcr, 0);
	channel_set_peer_filter(cr, filter, &filter_ok);
	filter_ok = 0;
	up_to_msg3(ci, cr, &m);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EDENIED);
	ck_assert_uint_eq(m.l2, 0);
	pair_free(ci, cr);
	sigcache_free(kcr);
}
END_TEST

/*
 * A resumed handshake: 1.5 round trips as a full one, the same peer ids
 * and request, the peer filter asked, data both ways; a resumed channel
 * makes no ticket of its own.
 */
START_TEST(test_resume_handshake)
{
	struct channel_resume ti, t2;
	struct channel *ci, *cr;
	struct msgs m;
	const uint8_t *req;
	uint8_t data[300];
	size_t len;

	memset(data, 0x5a, sizeof(data));
	resume_tickets(&ti);
	resume_pair(&ci, &cr, &ti);
	channel_set_peer_filter(cr, filter, &filter_ok);
	filter_ok = 1;
	filter_calls = 0;
	handshake_ok(ci, cr, NOW + 10, &m);
	ck_assert_uint_eq(store_calls, 1);
	ck_assert_int_eq(filter_calls, 1);
	ck_assert_mem_eq(filter_id, li.id, CHANNEL_ID_LEN);
	/* Sizes: tid + e + version + tag; e + tag; the record with the
	 * (empty) credential block and the request. */
	ck_assert_uint_eq(m.l1, 2 + CHANNEL_RESUME_MSG1_LEN);
	ck_assert_uint_eq(m.l2, 2 + 32 + 16);
	ck_assert_uint_eq(m.l3, 1 + strlen(REQ) + CHANNEL_OVERHEAD);
	ck_assert_ptr_null(channel_peer_creds(cr, &len));
	ck_assert_ptr_null(memmem(m.m3, m.l3, REQ, strlen(REQ)));
	ck_assert_int_eq(channel_is_resumed(ci), 1);
	ck_assert_int_eq(channel_is_resumed(cr), 1);
	ck_assert_int_eq(channel_resume_refused(ci), 0);
	ck_assert_mem_eq(channel_peer_id(ci), lr.id, CHANNEL_ID_LEN);
	ck_assert_mem_eq(channel_peer_id(cr), li.id, CHANNEL_ID_LEN);
	req = channel_request(cr, &len);
	ck_assert_uint_eq(len, strlen(REQ));
	ck_assert_mem_eq(req, REQ, len);
	/* It lives as a full channel would, not until the ticket's end. */
	ck_assert_uint_eq(ti.bound, li.expiry < lr.expiry ? li.expiry :
	    lr.expiry);
	ck_assert_uint_eq(channel_deadline(cr), ti.bound);
	ck_assert_uint_eq(channel_deadline(ci), ti.bound);
	send_ok(ci, cr, CHANNEL_DATA, data, sizeof(data));
	send_ok(cr, ci, CHANNEL_DATA, data, 7);
	send_ok(ci, cr, CHANNEL_EOF, data, 0);
	ck_assert_int_eq(channel_resume_export(ci, NOW, &t2), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* The allow-list hook refuses: nothing established. */
	resume_pair(&ci, &cr, &ti);
	channel_set_peer_filter(cr, filter, &filter_ok);
	filter_ok = 0;
	up_to_msg3(ci, cr, &m);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EDENIED);
	ck_assert_ptr_null(channel_peer_id(cr));
	ck_assert_ptr_null(channel_request(cr, &len));
	pair_free(ci, cr);

	/* Both ends bind the same service name: fine; another: refused. */
	resume_pair(&ci, &cr, &ti);
	ck_assert_int_eq(channel_bind_service(ci, (const uint8_t *)"db", 2),
	    0);
	ck_assert_int_eq(channel_bind_service(cr, (const uint8_t *)"db", 2),
	    0);
	handshake_ok(ci, cr, NOW, &m);
	pair_free(ci, cr);
	resume_pair(&ci, &cr, &ti);
	ck_assert_int_eq(channel_bind_service(ci, (const uint8_t *)"db", 2),
	    0);
	ck_assert_int_eq(channel_bind_service(cr, (const uint8_t *)"dc", 2),
	    0);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EHANDSHAKE);
	pair_free(ci, cr);
	channel_resume_fini(&ti);
}
END_TEST

/*
 * A resumed msg1 like the initiator's, for the ticket ${t}, whose
 * encrypted byte is ${version}: a frame into ${out}; its length returned.
 */
static size_t
resume_msg1_version(const struct channel_resume *t, uint8_t version,
    uint8_t *out, size_t cap)
{
	struct noise_handshake hs;
	uint8_t pro[sizeof(CHANNEL_RESUME_PROLOGUE) - 1 +
	    CHANNEL_RESUME_TID_LEN];
	const size_t pl = sizeof(CHANNEL_RESUME_PROLOGUE) - 1;
	size_t n;

	memcpy(pro, CHANNEL_RESUME_PROLOGUE, pl);
	memcpy(pro + pl, t->tid, CHANNEL_RESUME_TID_LEN);
	ck_assert_int_eq(noise_handshake_init(&hs, NOISE_NNPSK0, NOISE_AESGCM,
	    NOISE_INITIATOR, pro, sizeof(pro), NULL, NULL, NULL), 0);
	ck_assert_int_eq(noise_handshake_set_psk(&hs, t->secret), 0);
	ck_assert_int_eq(noise_handshake_write(&hs, &version, 1,
	    out + 2 + CHANNEL_RESUME_TID_LEN, cap - 2 - CHANNEL_RESUME_TID_LEN,
	    &n), 0);
	memcpy(out + 2, t->tid, CHANNEL_RESUME_TID_LEN);
	n += CHANNEL_RESUME_TID_LEN;
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	noise_handshake_fini(&hs);
	return (n + 2);
}

/*
 * Every resumed msg3 brings the initiator's credential block as it is at
 * that moment (not the one of the full handshake, which the responder's
 * ticket does not keep); the peer filter sees it.  A malformed block is
 * EPAYLOAD; a resumed msg1 of version 2 (whose msg3 had no block) is
 * EVERSION.
 */
START_TEST(test_resume_creds)
{
	static const uint8_t first[] = {1, 0, 3, 'o', 'l', 'd'};
	static const uint8_t now[] = {2, 0, 3, 'n', 'e', 'w', 0, 2, 'x', 'y'};
	struct channel_resume ti;
	struct channel *ci, *cr;
	struct msgs m;
	const uint8_t *got;
	size_t len;

	/* The full handshake shows ${first}; the tickets come from it. */
	ck_assert_int_eq(channel_local_set_creds(&li, first, sizeof(first)),
	    0);
	resume_tickets(&ti);
	ck_assert_uint_eq(store.creds_len, 0);
	/* Renewed before the resumed connection. */
	ck_assert_int_eq(channel_local_set_creds(&li, now, sizeof(now)), 0);
	resume_pair(&ci, &cr, &ti);
	channel_set_peer_filter(cr, filter, &filter_ok);
	filter_ok = 1;
	filter_calls = 0;
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(channel_is_resumed(cr), 1);
	ck_assert_int_eq(filter_calls, 1);
	ck_assert_uint_eq(m.l3, sizeof(now) + strlen(REQ) + CHANNEL_OVERHEAD);
	ck_assert_ptr_null(memmem(m.m3, m.l3, "new", 3));
	ck_assert_ptr_nonnull(got = channel_peer_creds(cr, &len));
	ck_assert_uint_eq(len, sizeof(now));
	ck_assert_mem_eq(got, now, sizeof(now));
	got = channel_request(cr, &len);
	ck_assert_uint_eq(len, strlen(REQ));
	ck_assert_mem_eq(got, REQ, len);
	pair_free(ci, cr);

	/* None any more: the lone zero count, and the peer shows none. */
	ck_assert_int_eq(channel_local_set_creds(&li, NULL, 0), 0);
	resume_pair(&ci, &cr, &ti);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_ptr_null(channel_peer_creds(cr, &len));
	ck_assert_uint_eq(len, 0);
	pair_free(ci, cr);

	/* A malformed block (count 5) in an authentic msg3. */
	li.creds[0] = CRED_MAX_BLOCK + 1;
	li.creds_len = 1;
	resume_pair(&ci, &cr, &ti);
	up_to_msg3(ci, cr, &m);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EPAYLOAD);
	ck_assert_ptr_null(channel_peer_id(cr));
	pair_free(ci, cr);
	/* Cut short: a credential of 200 bytes, only the request behind. */
	li.creds[0] = 1;
	li.creds[1] = 0;
	li.creds[2] = 200;
	li.creds_len = 3;
	resume_pair(&ci, &cr, &ti);
	up_to_msg3(ci, cr, &m);
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EPAYLOAD);
	pair_free(ci, cr);
	li.creds_len = 0;

	/* Version 2 (and any other byte) in a resumed msg1: EVERSION. */
	resume_pair(&ci, &cr, &ti);
	m.l1 = resume_msg1_version(&ti, 2, m.m1, sizeof(m.m1));
	ck_assert_uint_eq(m.l1, 2 + CHANNEL_RESUME_MSG1_LEN);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EVERSION);
	ck_assert_uint_eq(m.l2, 0);
	pair_free(ci, cr);
	resume_pair(&ci, &cr, &ti);
	m.l1 = resume_msg1_version(&ti, CHANNEL_RESUME_VERSION, m.m1,
	    sizeof(m.m1));
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_uint_eq(m.l2, 2 + 32 + 16);
	pair_free(ci, cr);
	channel_resume_fini(&ti);
}
END_TEST

/*
 * A responder without the ticket (restart, expiry, reload) answers with
 * one byte; the initiator starts a full handshake on the same stream and
 * everything else is as usual: one extra round trip.
 */
START_TEST(test_resume_fallback)
{
	struct channel_resume ti;
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t out[HS];
	size_t olen;
	int round;

	resume_tickets(&ti);
	for (round = 0; round < 3; round++) {
		if (round == 0)
			store_has = 0;   /* forgotten (restart, reload) */
		else if (round == 1)
			store_has = 1;   /* known, but expired by now */
		resume_pair(&ci, &cr, &ti);
		if (round == 2)
			channel_resume_set_lookup(cr, NULL, NULL); /* none */
		ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1),
		    0);
		ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1,
		    round == 1 ? ti.expiry : NOW, m.m2, sizeof(m.m2), &m.l2),
		    0);
		ck_assert_uint_eq(m.l2, 3);
		ck_assert_uint_eq(m.m2[2], CHANNEL_RESUME_UNKNOWN);
		/* The initiator answers with a full msg1. */
		ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m1,
		    sizeof(m.m1), &m.l1), 0);
		ck_assert_uint_eq(m.l1, 2 + 32 + 1);
		ck_assert_int_eq(channel_resume_refused(ci), 1);
		ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
		    sizeof(m.m2), &m.l2), 0);
		ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m3,
		    sizeof(m.m3), &m.l3), 1);
		olen = 1;
		ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, out,
		    sizeof(out), &olen), 1);
		ck_assert_uint_eq(olen, 1 + CHANNEL_OVERHEAD); /* its creds */
		ck_assert_int_eq(channel_is_resumed(ci), 0);
		ck_assert_int_eq(channel_is_resumed(cr), 0);
		ck_assert_mem_eq(channel_peer_id(ci), lr.id, CHANNEL_ID_LEN);
		ck_assert_mem_eq(channel_peer_id(cr), li.id, CHANNEL_ID_LEN);
		send_ok(ci, cr, CHANNEL_DATA, (const uint8_t *)"x", 1);
		pair_free(ci, cr);
	}

	/* Only once per stream: a second resumed msg1 is out of turn. */
	resume_pair(&ci, &cr, &ti);
	store_has = 0;
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_ESTATE);
	pair_free(ci, cr);
	channel_resume_fini(&ti);
}
END_TEST

/*
 * Wrong secret, expired or foreign ticket, tampered request record: each
 * fails cleanly, with nothing established.
 */
START_TEST(test_resume_wrong)
{
	struct channel_resume ti, bad;
	struct channel *ci, *cr;
	struct msgs m;
	size_t len;

	resume_tickets(&ti);

	/* Same tid, another secret: msg1 does not authenticate. */
	bad = ti;
	bad.secret[0] ^= 1;
	resume_pair(&ci, &cr, &bad);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EHANDSHAKE);
	ck_assert_uint_eq(m.l2, 0);
	ck_assert_ptr_null(channel_peer_id(cr));
	pair_free(ci, cr);

	/* The initiator refuses an expired ticket, or one for another peer. */
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(channel_resume_set(ci, &ti, ti.expiry),
	    -CHANNEL_EEXPIRED);
	bad = ti;
	bad.peer[5] ^= 1;
	ck_assert_int_eq(channel_resume_set(ci, &bad, NOW), -CHANNEL_EPEER);
	ck_assert_int_eq(channel_resume_set(cr, &ti, NOW), -CHANNEL_ESTATE);
	pair_free(ci, cr);

	/* A tampered request record: the responder never gets a request. */
	resume_pair(&ci, &cr, &ti);
	up_to_msg3(ci, cr, &m);
	m.m3[m.l3 - 1] ^= 0x80;
	ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, m.m2,
	    sizeof(m.m2), &m.l2), -CHANNEL_EDECRYPT);
	ck_assert_ptr_null(channel_request(cr, &len));
	pair_free(ci, cr);

	/* A replayed msg1 gets a msg2, but no replayed msg3 completes it. */
	resume_pair(&ci, &cr, &ti);
	handshake_ok(ci, cr, NOW, &m);
	pair_free(ci, cr);
	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	channel_resume_set_lookup(cr, store_lookup, &store);
	{
		struct msgs r;

		ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, r.m2,
		    sizeof(r.m2), &r.l2), 0);
		ck_assert_int_eq(channel_handshake(cr, m.m3, m.l3, NOW, r.m2,
		    sizeof(r.m2), &r.l2), -CHANNEL_EDECRYPT);
	}
	channel_free(cr);
	channel_resume_fini(&ti);
	channel_resume_fini(&bad);
}
END_TEST

/* A ticket for peer number ${p} with tid byte ${b}, expiring at ${exp}. */
static void
ticket_fake(struct channel_resume *t, uint8_t p, uint8_t b, uint64_t exp)
{

	memset(t, 0, sizeof(*t));
	memset(t->peer, p, CHANNEL_ID_LEN);
	memset(t->tid, b, CHANNEL_RESUME_TID_LEN);
	memset(t->secret, b ^ 0x5a, CHANNEL_RESUME_SECRET_LEN);
	t->expiry = exp;
	t->bound = exp;
}

/*
 * The bounded ticket store: one ticket per peer, found by peer or by
 * tid, expired ones never returned, full means the soonest to expire
 * goes; and it drives a real resumed handshake at both ends.
 */
/* Expired tickets are wiped by the sweep, not only when looked up. */
START_TEST(test_resume_cache_expire)
{
	struct resumecache *kc;
	struct channel_resume t, got;

	ck_assert_ptr_nonnull(kc = resumecache_new(4, 0));
	ticket_fake(&t, 1, 0x10, NOW + 10);
	resumecache_put(kc, &t, NOW);
	ticket_fake(&t, 2, 0x20, NOW + 100);
	resumecache_put(kc, &t, NOW);
	ck_assert_uint_eq(resumecache_expire(kc, NOW + 5), 0);
	ck_assert_uint_eq(resumecache_expire(kc, NOW + 50), 1);
	ck_assert_uint_eq(resumecache_expire(kc, NOW + 50), 0);
	/* Gone, though asked for at a time it was still valid. */
	memset(t.tid, 0x10, CHANNEL_RESUME_TID_LEN);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got),
	    -1);
	memset(t.tid, 0x20, CHANNEL_RESUME_TID_LEN);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got),
	    0);
	ck_assert_uint_eq(resumecache_expire(NULL, NOW), 0);
	resumecache_free(kc);
}
END_TEST

START_TEST(test_resume_cache)
{
	struct resumecache *kc, *ki, *kr;
	struct channel_resume t, got;
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t peer[CHANNEL_ID_LEN];

	ck_assert_ptr_null(resumecache_new(0, 1));
	ck_assert_ptr_null(resumecache_new(
	    RESUMECACHE_MAX + 1, 1));
	ck_assert_ptr_nonnull(kc = resumecache_new(2, 1));

	ticket_fake(&t, 1, 0x10, NOW + 100);
	resumecache_put(kc, &t, NOW);
	ticket_fake(&t, 2, 0x20, NOW + 50);
	resumecache_put(kc, &t, NOW);
	memset(peer, 1, sizeof(peer));
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got), 0);
	ck_assert_uint_eq(got.tid[0], 0x10);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got), 0);
	ck_assert_uint_eq(got.peer[0], 2);

	/* The same peer again: replaced, not added. */
	ticket_fake(&t, 1, 0x11, NOW + 200);
	resumecache_put(kc, &t, NOW);
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got), 0);
	ck_assert_uint_eq(got.tid[0], 0x11);
	memset(t.tid, 0x10, CHANNEL_RESUME_TID_LEN);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got),
	    -1);
	memset(peer, 2, sizeof(peer));
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got), 0);

	/* Full: the one expiring first (peer 2) goes. */
	ticket_fake(&t, 3, 0x30, NOW + 300);
	resumecache_put(kc, &t, NOW);
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got),
	    -1);
	memset(peer, 3, sizeof(peer));
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got), 0);

	/* Expired: not returned; already expired: not stored. */
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW + 300,
	    &got), -1);
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got),
	    -1);
	ticket_fake(&t, 4, 0x40, NOW);
	resumecache_put(kc, &t, NOW);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW - 1,
	    &got), -1);

	/* Drop one, drop all. */
	memset(peer, 1, sizeof(peer));
	resumecache_drop(kc, peer);
	ck_assert_int_eq(resumecache_by_peer(kc, peer, NOW, &got),
	    -1);
	ticket_fake(&t, 5, 0x50, NOW + 10);
	resumecache_put(kc, &t, NOW);
	resumecache_drop(kc, NULL);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got),
	    -1);
	resumecache_free(kc);
	resumecache_free(NULL);

	/* A responder's store keeps two tickets of one peer. */
	ck_assert_ptr_nonnull(kc = resumecache_new(2, 0));
	ticket_fake(&t, 1, 0x10, NOW + 100);
	resumecache_put(kc, &t, NOW);
	ticket_fake(&t, 1, 0x11, NOW + 100);
	resumecache_put(kc, &t, NOW);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got), 0);
	memset(t.tid, 0x10, CHANNEL_RESUME_TID_LEN);
	ck_assert_int_eq(resumecache_lookup(kc, t.tid, NOW, &got), 0);
	resumecache_free(kc);

	/* Both ends keep their ticket in a store; a resumed handshake. */
	ck_assert_ptr_nonnull(ki = resumecache_new(8, 1));
	ck_assert_ptr_nonnull(kr = resumecache_new(8, 0));
	pair_new(&ci, &cr, NULL, NULL, 0);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(channel_resume_export(ci, NOW, &t), 0);
	resumecache_put(ki, &t, NOW);
	ck_assert_int_eq(channel_resume_export(cr, NOW, &t), 0);
	resumecache_put(kr, &t, NOW);
	pair_free(ci, cr);
	pair_new(&ci, &cr, NULL, NULL, 0);
	ck_assert_int_eq(resumecache_by_peer(ki, lr.id, NOW, &t), 0);
	ck_assert_int_eq(channel_resume_set(ci, &t, NOW), 0);
	channel_resume_set_lookup(cr, resumecache_lookup, kr);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_int_eq(channel_is_resumed(cr), 1);
	ck_assert_mem_eq(channel_peer_id(cr), li.id, CHANNEL_ID_LEN);
	pair_free(ci, cr);
	channel_resume_fini(&t);
	channel_resume_fini(&got);
	resumecache_free(ki);
	resumecache_free(kr);
}
END_TEST

/*
 * The ticket as docs/protocol.md 2.7 defines it, computed here from a
 * test-side initiator's own Noise state: HKDF(salt ck, ikm h, info
 * context || I's id || R's id || E); the secret depends on ck, so the
 * public transcript (h) alone does not give it.
 */
START_TEST(test_resume_derivation)
{
	struct noise_handshake hs;
	struct channel_resume t;
	struct channel *cr;
	uint8_t info[23 + 64 + 8], want[48];
	uint64_t e = li.expiry < lr.expiry ? li.expiry : lr.expiry;
	int i;

	ck_assert_ptr_nonnull(cr = channel_new(CHANNEL_RESPONDER, &lr, NULL));
	ck_assert_int_eq(raw_initiator_hs(cr, NULL, 0, &hs), 1);
	ck_assert_int_eq(channel_resume_export(cr, NOW, &t), 0);

	memcpy(info, "sallyport resumption v1", 23);
	memcpy(info + 23, li.id, 32);
	memcpy(info + 55, lr.id, 32);
	for (i = 0; i < 8; i++)
		info[87 + i] = (uint8_t)(e >> (56 - 8 * i));
	ck_assert_int_eq(crypto_hkdf_sha256(want, sizeof(want), hs.ss.ck, 32,
	    hs.ss.h, 32, info, sizeof(info)), 0);
	ck_assert_mem_eq(t.secret, want, 32);
	ck_assert_mem_eq(t.tid, want + 32, 16);
	ck_assert_uint_eq(t.bound, e);
	/* Not a function of the public transcript alone. */
	ck_assert_int_eq(crypto_hkdf_sha256(want, sizeof(want), info, 23,
	    hs.ss.h, 32, info + 23, sizeof(info) - 23), 0);
	ck_assert(memcmp(t.secret, want, 32) != 0);
	noise_handshake_fini(&hs);
	channel_resume_fini(&t);
	channel_free(cr);
}
END_TEST

/*
 * Key pairs made ahead of time: msg1 (full or resumed) carries the given
 * public key; a resumed attempt that falls back makes a fresh one.
 */
START_TEST(test_keypair)
{
	struct channel_resume ti;
	struct channel *ci, *cr;
	struct msgs m;
	uint8_t e[32], e_pub[32], e2[32], e2_pub[32];

	ck_assert_int_eq(crypto_x25519_keypair(e, e_pub), 0);
	ck_assert_int_eq(crypto_x25519_keypair(e2, e2_pub), 0);
	pair_new(&ci, &cr, NULL, NULL, 0);
	channel_use_keypair(ci, e, e_pub);
	channel_use_keypair(cr, e2, e2_pub);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_mem_eq(m.m1 + 2, e_pub, 32);
	ck_assert_mem_eq(m.m2 + 2, e2_pub, 32);
	ck_assert_int_eq(channel_resume_export(ci, NOW, &ti), 0);
	ck_assert_int_eq(channel_resume_export(cr, NOW, &store), 0);
	store_has = 1;
	pair_free(ci, cr);

	resume_pair(&ci, &cr, &ti);
	channel_use_keypair(ci, e, e_pub);
	channel_use_keypair(cr, e2, e2_pub);
	handshake_ok(ci, cr, NOW, &m);
	ck_assert_mem_eq(m.m1 + 2 + CHANNEL_RESUME_TID_LEN, e_pub, 32);
	ck_assert_mem_eq(m.m2 + 2, e2_pub, 32);
	pair_free(ci, cr);

	/* Fallback: the full msg1 has another e. */
	store_has = 0;
	resume_pair(&ci, &cr, &ti);
	channel_use_keypair(ci, e, e_pub);
	ck_assert_int_eq(channel_start(ci, m.m1, sizeof(m.m1), &m.l1), 0);
	ck_assert_int_eq(channel_handshake(cr, m.m1, m.l1, NOW, m.m2,
	    sizeof(m.m2), &m.l2), 0);
	ck_assert_int_eq(channel_handshake(ci, m.m2, m.l2, NOW, m.m1,
	    sizeof(m.m1), &m.l1), 0);
	ck_assert_uint_eq(m.l1, 2 + 32 + 1);
	ck_assert(memcmp(m.m1 + 2, e_pub, 32) != 0);
	pair_free(ci, cr);
	channel_resume_fini(&ti);
	wipe(e, sizeof(e));
	wipe(e2, sizeof(e2));
}
END_TEST

static Suite *
channel_suite(void)
{
	Suite *s = suite_create("channel");
	TCase *tc;

	tc = tcase_create("handshake");
	tcase_add_checked_fixture(tc, setup_random, teardown);
	tcase_add_test(tc, test_handshake_full);
	tcase_add_test(tc, test_wrong_peer);
	tcase_add_test(tc, test_no_pin);
	tcase_add_test(tc, test_expect_check);
	tcase_add_test(tc, test_creds_after_msg3);
	tcase_add_test(tc, test_version_2_refused);
	tcase_add_test(tc, test_bind_service);
	tcase_add_test(tc, test_replay_handshake);
	tcase_add_test(tc, test_request);
	tcase_add_test(tc, test_send_request);
	tcase_add_test(tc, test_state);
	tcase_add_test(tc, test_local);
	suite_add_tcase(s, tc);

	tc = tcase_create("attestation");
	tcase_add_checked_fixture(tc, setup_fixed, teardown);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_other_static);
	tcase_add_test(tc, test_payload_check);
	tcase_add_test(tc, test_cache);
	tcase_add_test(tc, test_peer_filter);
	tcase_add_test(tc, test_peer_filter_tells);
	tcase_add_test(tc, test_cache_evict);
	suite_add_tcase(s, tc);

	tc = tcase_create("tamper");
	tcase_add_checked_fixture(tc, setup_fixed, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_flip_msg1);
	tcase_add_test(tc, test_flip_msg2);
	tcase_add_test(tc, test_flip_msg3);
	tcase_add_test(tc, test_flip_record);
	tcase_add_test(tc, test_truncate_handshake);
	tcase_add_test(tc, test_truncate_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("transport");
	tcase_add_checked_fixture(tc, setup_fixed, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_replay_record);
	tcase_add_test(tc, test_size_limits);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_creds_record);
	tcase_add_test(tc, test_refuse);
	tcase_add_test(tc, test_rekey_small);
	tcase_add_test(tc, test_rekey_default);
	tcase_add_test(tc, test_rekey_time);
	tcase_add_test(tc, test_max_age);
	suite_add_tcase(s, tc);

	tc = tcase_create("resume");
	tcase_add_checked_fixture(tc, setup_random, teardown);
	tcase_add_test(tc, test_resume_derive);
	tcase_add_test(tc, test_resume_handshake);
	tcase_add_test(tc, test_resume_creds);
	tcase_add_test(tc, test_resume_fallback);
	tcase_add_test(tc, test_resume_wrong);
	tcase_add_test(tc, test_resume_cache);
	tcase_add_test(tc, test_resume_cache_expire);
	tcase_add_test(tc, test_keypair);
	tcase_add_test(tc, test_resume_derivation);
	suite_add_tcase(s, tc);

	tc = tcase_create("misc");
	tcase_add_test(tc, test_strerror);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(channel_suite()));
}
