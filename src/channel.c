/*
 * channel: Noise XX with identity binding, then transport records.  A pure
 * state machine: no fds, no libev, no clock.  See channel.h and
 * docs/protocol.md.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "frame.h"
#include "noise.h"

/* Offsets inside an identity payload (docs/protocol.md). */
#define PL_VERSION 0
#define PL_PUB 1
#define PL_EXPIRY (PL_PUB + CRYPTO_P256_PUB_LEN)
#define PL_SIG (PL_EXPIRY + 8)

/* The attestation's signed bytes: context || s_pub || expiry || id_pub. */
#define ATTEST_CTX_LEN (sizeof(CHANNEL_ATTEST_CONTEXT) - 1)
#define ATTEST_LEN (ATTEST_CTX_LEN + 32 + 8 + CRYPTO_P256_PUB_LEN)

/* Largest handshake frame body: the whole frame fits the limit. */
#define HS_MAX_BODY (CHANNEL_MAX_HANDSHAKE - FRAME_HDR)

/*
 * PROVEN(): the moment the peer is proven (its attestation verified, or
 * its ticket's keys confirmed: a resumed msg2's tag, a record).  A no-op,
 * except in the build that measures the pre-auth surface
 * (contrib/scripts/preauth-cov.sh, -DSALLYPORT_PREAUTH_PROBE), where it
 * calls preauth_proven() and the replayed input's coverage ends there:
 * what runs after it is out of an unauthenticated peer's reach.
 */
#ifdef SALLYPORT_PREAUTH_PROBE
void preauth_proven(void);
__attribute__((weak)) void
preauth_proven(void)
{
}
#define PROVEN() preauth_proven()
#else
#define PROVEN() ((void)0)
#endif

/* Where a channel is in its life. */
enum channel_state {
	ST_INIT,        /* nothing sent or received */
	ST_WAIT_MSG2,   /* initiator sent msg1 */
	ST_WAIT_MSG3,   /* responder sent msg2 */
	ST_WAIT_CREDS,  /* initiator pinned by check: msg3 sent, keys split,
			   the responder's credentials (first record) due */
	ST_WAIT_REQ,    /* responder: msg3 held no request, keys split, our
			   credentials sent; the request record is due */
	ST_ESTABLISHED, /* transport keys in place */
	ST_DEAD         /* an error happened: refuse everything */
};

/* Handshake-only state, freed (wiped) once the channel is established. */
struct channel_hs {
	struct noise_handshake hs;
	uint8_t e[32];
	uint8_t expect[CHANNEL_ID_LEN];
	uint8_t prologue[CHANNEL_MAX_PROLOGUE];
	size_t prologue_len; /* 0: the plain CHANNEL_PROLOGUE */
	int has_e, has_expect;
	uint8_t pair_e[32], pair_pub[32]; /* channel_use_keypair */
	int has_pair;
	struct channel_resume res; /* the ticket of a resumed handshake */
	int has_res;               /* res is in use (resumed attempt) */
	int fell_back;             /* responder: answered "unknown" once */
};

struct channel {
	enum channel_role role;
	enum channel_state state;
	const struct channel_local *local; /* borrowed */
	struct sigcache *cache;            /* borrowed, may be NULL */
	struct channel_hs *hs;             /* NULL once established */
	struct noise_cipherstate tx, rx;
	uint64_t rekey; /* records per key in each direction */
	uint64_t peer_expiry; /* the peer's attestation, from the handshake */
	uint64_t deadline;    /* end of life (channel_deadline), 0: not yet */
	uint64_t tx_since;    /* when the sending key was made (by time) */
	uint64_t tx_used;     /* records sealed under the sending key */
	uint8_t peer[CHANNEL_ID_LEN];
	uint8_t req[CHANNEL_MAX_REQUEST];
	uint8_t reqlen;
	uint8_t has_peer, tx_eof, rx_eof;
	uint8_t has_claimed; /* peer[] is an unverified claim (EPEER) */
	uint8_t req_record;  /* a CHANNEL_REQUEST record may pass now */
	uint8_t req_due;     /* initiator pinned by identifier, msg3 held no
				request: channel_send_request may send it */
	channel_peer_filter *filter; /* responder: may be NULL */
	void *filter_arg;
	/* The filter refused and asked to say why (enum channel_refusal). */
	unsigned filter_refusal;
	channel_peer_check *check; /* initiator without has_expect */
	void *check_arg;
	uint8_t *peer_creds; /* the peer's credential block, or NULL */
	size_t peer_creds_len;
	channel_resume_lookup *lookup; /* responder: ticket store, or NULL */
	void *lookup_arg;
	uint8_t resumed;     /* a resumed (NNpsk0) handshake */
	uint8_t res_refused; /* initiator: the ticket was unknown */
	uint8_t has_res;     /* res_* derived by a full handshake */
	uint8_t res_secret[CHANNEL_RESUME_SECRET_LEN];
	uint8_t res_tid[CHANNEL_RESUME_TID_LEN];
	uint64_t res_expiry; /* earlier attestation expiry, bound in */
};

/* Build the attestation's signed bytes for ${s_pub}, ${expiry}, ${pub}. */
static void
attest_msg(uint8_t m[ATTEST_LEN], const uint8_t s_pub[32], uint64_t expiry,
    const uint8_t pub[CRYPTO_P256_PUB_LEN])
{

	memcpy(m, CHANNEL_ATTEST_CONTEXT, ATTEST_CTX_LEN);
	memcpy(m + ATTEST_CTX_LEN, s_pub, 32);
	frame_put_u64(m + ATTEST_CTX_LEN + 32, expiry);
	memcpy(m + ATTEST_CTX_LEN + 40, pub, CRYPTO_P256_PUB_LEN);
}

/* Write ${l}'s identity payload (CHANNEL_PAYLOAD_LEN bytes) to ${out}. */
static size_t
payload_put(uint8_t *out, const struct channel_local *l)
{

	out[PL_VERSION] = CHANNEL_PAYLOAD_VERSION;
	memcpy(out + PL_PUB, l->id_pub, CRYPTO_P256_PUB_LEN);
	frame_put_u64(out + PL_EXPIRY, l->expiry);
	memcpy(out + PL_SIG, l->sig, CRYPTO_P256_SIG_LEN);
	return (CHANNEL_PAYLOAD_LEN);
}

/*
 * Write ${l}'s credential block (a lone zero count when it has none) to
 * ${out}; return its size.  In msg3 after the identity payload; from a
 * responder, in its first record, once the initiator is proven.
 */
static size_t
creds_put(uint8_t *out, const struct channel_local *l)
{

	if (l->creds_len == 0) {
		out[0] = 0;
		return (1);
	}
	memcpy(out, l->creds, l->creds_len);
	return (l->creds_len);
}

/*
 * Keep a copy of the peer's credential block (${len} bytes, checked) in
 * place of the one kept so far, if any.
 */
static int
peer_creds_keep(struct channel *ch, const uint8_t *block, size_t len)
{
	uint8_t *copy = NULL;

	/* A lone zero count: nothing presented. */
	if (len > 1) {
		if ((copy = malloc(len)) == NULL)
			return (-CHANNEL_ENOMEM);
		memcpy(copy, block, len);
	}
	if (ch->peer_creds != NULL) {
		wipe(ch->peer_creds, ch->peer_creds_len);
		free(ch->peer_creds);
	}
	ch->peer_creds = copy;
	ch->peer_creds_len = copy != NULL ? len : 0;
	return (0);
}

/*
 * Initialize ${hs} for Noise_XX_25519_AESGCM_SHA256 in ${role} with our
 * prologue, static key ${s} and ephemeral ${e} (NULL: random, made when
 * msg1 or msg2 is written).  Return 0 or a negative noise_error.
 */
static int
hs_template(struct noise_handshake *hs, enum channel_role role,
    const uint8_t s[32], const uint8_t *e)
{

	return (noise_handshake_init(hs, NOISE_XX, NOISE_AESGCM,
	    role == CHANNEL_INITIATOR ? NOISE_INITIATOR : NOISE_RESPONDER,
	    (const uint8_t *)CHANNEL_PROLOGUE, sizeof(CHANNEL_PROLOGUE) - 1, s,
	    NULL, e));
}

/*
 * Initialize ${hs} for Noise_NNpsk0_25519_AESGCM_SHA256 in ${role}, with
 * no prologue and no psk yet, and the ephemeral ${e} (NULL: random, made
 * when msg1 or msg2 is written).  Return 0 or a negative noise_error.
 */
static int
res_template(struct noise_handshake *hs, enum channel_role role,
    const uint8_t *e)
{

	return (noise_handshake_init(hs, NOISE_NNPSK0, NOISE_AESGCM,
	    role == CHANNEL_INITIATOR ? NOISE_INITIATOR : NOISE_RESPONDER,
	    NULL, 0, NULL, NULL, e));
}

/*
 * channel_local_init_static(l, id_priv, s, expiry):
 * As channel_local_init, with the given X25519 static private key ${s}
 * and absolute ${expiry} (seconds): deterministic, for tests and fuzzing,
 * or to reuse a stored static key.  Return 0 or -1.
 */
int
channel_local_init_static(struct channel_local *l,
    const uint8_t id_priv[CRYPTO_P256_PRIV_LEN], const uint8_t s[32],
    uint64_t expiry)
{
	uint8_t m[ATTEST_LEN];

	memset(l, 0, sizeof(*l));
	memcpy(l->id_priv, id_priv, CRYPTO_P256_PRIV_LEN);
	if (crypto_p256_pub(l->id_pub, l->id_priv) == -1)
		goto fail;
	crypto_sha256(l->id, l->id_pub, CRYPTO_P256_PUB_LEN);
	memcpy(l->s, s, 32);
	if (crypto_x25519_pub(l->s_pub, l->s) == -1)
		goto fail;
	l->expiry = expiry;

	/* The identity key vouches for the static key until expiry. */
	attest_msg(m, l->s_pub, l->expiry, l->id_pub);
	if (crypto_p256_sign(l->sig, l->id_priv, m, sizeof(m)) == -1)
		goto fail;

	/* The Noise states every channel of this node starts from. */
	if (hs_template(&l->hs[CHANNEL_INITIATOR], CHANNEL_INITIATOR, l->s,
	    NULL) != 0 || hs_template(&l->hs[CHANNEL_RESPONDER],
	    CHANNEL_RESPONDER, l->s, NULL) != 0 ||
	    res_template(&l->res[CHANNEL_INITIATOR], CHANNEL_INITIATOR,
	    NULL) != 0 || res_template(&l->res[CHANNEL_RESPONDER],
	    CHANNEL_RESPONDER, NULL) != 0)
		goto fail;
	return (0);
fail:
	wipe(l, sizeof(*l));
	return (-1);
}

/*
 * channel_local_init(l, id_priv, now, lifetime):
 * Make a fresh static key and sign an attestation valid until
 * ${now} + ${lifetime} seconds.  Return 0 or -1.
 */
int
channel_local_init(struct channel_local *l,
    const uint8_t id_priv[CRYPTO_P256_PRIV_LEN], uint64_t now,
    uint64_t lifetime)
{
	uint8_t s[32], s_pub[32];
	int rc = -1;

	if (lifetime > UINT64_MAX - now)
		goto out;
	if (crypto_x25519_keypair(s, s_pub) == -1)
		goto out;
	rc = channel_local_init_static(l, id_priv, s, now + lifetime);
out:
	wipe(s, sizeof(s));
	return (rc);
}

/*
 * channel_local_set_creds(l, block, len):
 * Present the credential block ${block} (${len} bytes, checked with
 * cred_block_check; 0: none) in every identity payload of ${l}.  Return
 * 0, or -1 if it is malformed.
 */
int
channel_local_set_creds(struct channel_local *l, const uint8_t *block,
    size_t len)
{

	if (len > sizeof(l->creds) || (len > 0 &&
	    cred_block_check(block, len) == -1))
		return (-1);
	if (len > 0)
		memcpy(l->creds, block, len);
	l->creds_len = len;
	return (0);
}

/*
 * channel_local_fini(l):
 * Wipe ${l}.
 */
void
channel_local_fini(struct channel_local *l)
{

	if (l == NULL)
		return;
	noise_handshake_fini(&l->hs[CHANNEL_INITIATOR]);
	noise_handshake_fini(&l->hs[CHANNEL_RESPONDER]);
	wipe(l, sizeof(*l));
}

static long seal(struct channel *, enum channel_type, uint8_t *, size_t);

/*
 * Initiator: seal our request as the record of ${type} (a resumed msg3's
 * DATA, or the REQUEST after a check) into ${out} (room checked by the
 * caller); its size in *${outlen}.  Return 0 or -error.
 */
static int
req_seal(struct channel *ch, enum channel_type type, uint8_t *out,
    size_t *outlen)
{
	long rl;

	memcpy(out + CHANNEL_HDR, ch->req, ch->reqlen);
	if ((rl = seal(ch, type, out, ch->reqlen)) < 0)
		return ((int)rl);
	*outlen = (size_t)rl;
	return (0);
}
static int payload_check(const uint8_t *, size_t, const uint8_t[32],
    uint64_t, const uint8_t *, struct channel *,
    struct sigcache *, uint8_t[CHANNEL_ID_LEN], uint64_t *);
static int filter_denies(struct channel *, const uint8_t[CHANNEL_ID_LEN]);

/*
 * channel_payload_check(buf, len, rs, now, expect, cache, id):
 * Parse the identity payload at ${buf} (exactly CHANNEL_PAYLOAD_LEN bytes)
 * received with the Noise remote static key ${rs}; refuse it if its
 * identifier is not ${expect} (unless NULL), if it expired at ${now}, or
 * if its attestation does not verify over ${rs}.  ${cache} (may be NULL)
 * answers repeated checks without ECDSA.  On success store the identifier
 * in ${id}.  Return 0, or -CHANNEL_EPAYLOAD, -CHANNEL_EPEER,
 * -CHANNEL_EEXPIRED or -CHANNEL_EATTEST.
 */
int
channel_payload_check(const uint8_t *buf, size_t len, const uint8_t rs[32],
    uint64_t now, const uint8_t *expect, struct sigcache *cache,
    uint8_t id[CHANNEL_ID_LEN])
{

	return (payload_check(buf, len, rs, now, expect, NULL, cache, id,
	    NULL));
}

/*
 * channel_payload_check, and before the signature (and the cache) the
 * filter of ${ch} (NULL: none) with the claimed identifier; on success
 * the attestation's expiry goes to *${exp} (unless NULL).
 */
static int
payload_check(const uint8_t *buf, size_t len, const uint8_t rs[32],
    uint64_t now, const uint8_t *expect, struct channel *ch,
    struct sigcache *cache, uint8_t id[CHANNEL_ID_LEN], uint64_t *exp)
{
	uint8_t pid[CHANNEL_ID_LEN], key[CRYPTO_HASH_LEN], m[ATTEST_LEN];
	uint64_t expiry;

	/* Layout: exact length, known version, uncompressed point. */
	if (len != CHANNEL_PAYLOAD_LEN || buf[PL_VERSION] !=
	    CHANNEL_PAYLOAD_VERSION || buf[PL_PUB] != 0x04)
		return (-CHANNEL_EPAYLOAD);

	/* The cheap refusals first: wrong peer, then stale attestation. */
	crypto_sha256(pid, buf + PL_PUB, CRYPTO_P256_PUB_LEN);
	if (expect != NULL && !ct_eq(pid, expect, CHANNEL_ID_LEN))
		return (-CHANNEL_EPEER);
	expiry = frame_get_u64(buf + PL_EXPIRY);
	if (expiry <= now)
		return (-CHANNEL_EEXPIRED);
	/* Is this identity named anywhere?  Throwaway ones stop here. */
	if (ch != NULL && filter_denies(ch, pid))
		return (-CHANNEL_EDENIED);

	/*
	 * The signature covers rs, so a hit needs the same payload bytes
	 * checked against the same rs: key the cache on both.
	 */
	crypto_sha256_2(key, buf, len, rs, 32);
	if (sigcache_seen(cache, key)) {
		PROVEN(); /* verified before, over this rs */
	} else {
		attest_msg(m, rs, expiry, buf + PL_PUB);
		if (crypto_p256_verify(buf + PL_PUB, CRYPTO_P256_PUB_LEN, m,
		    sizeof(m), buf + PL_SIG, CRYPTO_P256_SIG_LEN) == -1)
			return (-CHANNEL_EATTEST);
		PROVEN();
		sigcache_add(cache, key);
	}
	memcpy(id, pid, CHANNEL_ID_LEN);
	if (exp != NULL)
		*exp = expiry;
	return (0);
}

/*
 * Ask the peer filter of ${ch} (none: go on) about the identifier ${id}
 * with the request; a refusal it wants told is kept for deny_refuse().
 * Return 1 when the filter refuses.
 */
static int
filter_denies(struct channel *ch, const uint8_t id[CHANNEL_ID_LEN])
{
	int v;

	if (ch->filter == NULL ||
	    (v = ch->filter(ch->filter_arg, id, ch->req, ch->reqlen)) == 1)
		return (0);
	ch->filter_refusal = v < 0 ? (unsigned)-v : 0;
	return (1);
}

/* Wipe and free the handshake state of ${ch}, if any. */
static void
hs_free(struct channel *ch)
{

	if (ch->hs == NULL)
		return;
	noise_handshake_fini(&ch->hs->hs);
	wipe(ch->hs, sizeof(*ch->hs));
	free(ch->hs);
	ch->hs = NULL;
}

/* Kill ${ch} after an error: wipe every key; return -${err}. */
static int
fail(struct channel *ch, int err)
{

	hs_free(ch);
	noise_cs_fini(&ch->tx);
	noise_cs_fini(&ch->rx);
	wipe(ch->res_secret, sizeof(ch->res_secret));
	ch->has_res = 0;
	ch->state = ST_DEAD;
	return (-err);
}

/* Map a negative noise_error to a channel_error (positive). */
static int
noise_err(int rc)
{

	switch (-rc) {
	case NOISE_ESTATE:
		return (CHANNEL_ESTATE);
	case NOISE_ESPACE:
		return (CHANNEL_EFRAME);
	case NOISE_ENONCE:
		return (CHANNEL_ENONCE);
	case NOISE_ERANDOM:
		return (CHANNEL_ERANDOM);
	default:
		return (CHANNEL_EHANDSHAKE);
	}
}

/*
 * channel_new(role, local, cache):
 * A channel for ${role}; ${local} and ${cache} (which may be NULL) are
 * borrowed and must outlive it.  NULL on ENOMEM.
 */
struct channel *
channel_new(enum channel_role role, const struct channel_local *local,
    struct sigcache *cache)
{
	struct channel *ch;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		goto fail0;
	if ((ch->hs = calloc(1, sizeof(*ch->hs))) == NULL)
		goto fail1;
	ch->role = role;
	ch->state = ST_INIT;
	ch->local = local;
	ch->cache = cache;
	ch->rekey = CHANNEL_REKEY_INTERVAL;
	return (ch);
fail1:
	free(ch);
fail0:
	return (NULL);
}

/*
 * channel_free(ch):
 * Wipe and free ${ch}; NULL does nothing.
 */
void
channel_free(struct channel *ch)
{

	if (ch == NULL)
		return;
	(void)fail(ch, 0);
	free(ch->peer_creds);
	wipe(ch, sizeof(*ch));
	free(ch);
}

/*
 * channel_expect_peer(ch, id):
 * Initiator: refuse (CHANNEL_EPEER) any responder whose identifier is not
 * ${id}, before msg3, so nothing (not even the request) reaches it.  An
 * initiator with no expected peer refuses to start (deny by default).
 * Call before channel_start.
 */
void
channel_expect_peer(struct channel *ch, const uint8_t id[CHANNEL_ID_LEN])
{

	if (ch->hs == NULL || ch->state != ST_INIT)
		return;
	memcpy(ch->hs->expect, id, CHANNEL_ID_LEN);
	ch->hs->has_expect = 1;
}

/*
 * channel_expect_check(ch, fn, arg):
 * Initiator, instead of channel_expect_peer: accept any responder for
 * which ${fn}(${arg}, ...) returns 1, asked once its credential record
 * came after msg3.  No resumed handshake is tried (a ticket names one
 * peer).  Call before channel_start.
 */
void
channel_expect_check(struct channel *ch, channel_peer_check *fn, void *arg)
{

	if (ch->hs == NULL || ch->state != ST_INIT || fn == NULL)
		return;
	ch->check = fn;
	ch->check_arg = arg;
}

/*
 * channel_set_peer_filter(ch, fn, arg):
 * Responder: call ${fn}(${arg}, ...) with the identifier the initiator
 * claims in msg3 before its attestation signature is verified (and before
 * the attestation cache is consulted or filled), so identities no allow
 * list names cost no ECDSA verification and cannot evict cached ones.
 * The final decision is still the caller's, on the verified identity.
 */
void
channel_set_peer_filter(struct channel *ch, channel_peer_filter *fn,
    void *arg)
{

	ch->filter = fn;
	ch->filter_arg = arg;
}

/*
 * channel_set_request(ch, req, len):
 * Initiator, before channel_start: the request (the service name) sent
 * encrypted in msg3.  Return 0, -CHANNEL_EPAYLOAD if ${len} >
 * CHANNEL_MAX_REQUEST, or -CHANNEL_ESTATE if too late or not an initiator.
 */
int
channel_set_request(struct channel *ch, const uint8_t *req, size_t len)
{

	if (ch->role != CHANNEL_INITIATOR || ch->state != ST_INIT)
		return (-CHANNEL_ESTATE);
	if (len > CHANNEL_MAX_REQUEST)
		return (-CHANNEL_EPAYLOAD);
	if (len > 0)
		memcpy(ch->req, req, len);
	ch->reqlen = (uint8_t)len;
	return (0);
}

/*
 * channel_send_request(ch, req, len, out, cap, outlen):
 * Initiator pinned by identifier whose full handshake ended with no
 * request in msg3, before it seals any record: seal ${req} (1 to
 * CHANNEL_MAX_REQUEST bytes) as its first record (CHANNEL_REQUEST) into
 * ${out} (${cap} bytes), its size in *${outlen}.  Return 0,
 * -CHANNEL_EPAYLOAD for a bad length, -CHANNEL_EFRAME if ${out} is too
 * small, or -CHANNEL_ESTATE otherwise (not due, or sent already).
 */
int
channel_send_request(struct channel *ch, const uint8_t *req, size_t len,
    uint8_t *out, size_t cap, size_t *outlen)
{
	int rc;

	*outlen = 0;
	if (ch->role != CHANNEL_INITIATOR || ch->state != ST_ESTABLISHED ||
	    !ch->req_due)
		return (-CHANNEL_ESTATE);
	if (len == 0 || len > CHANNEL_MAX_REQUEST)
		return (-CHANNEL_EPAYLOAD);
	if (cap < len + CHANNEL_OVERHEAD)
		return (-CHANNEL_EFRAME);
	memcpy(ch->req, req, len);
	ch->reqlen = (uint8_t)len;
	if ((rc = req_seal(ch, CHANNEL_REQUEST, out, outlen)) != 0)
		return (rc);
	ch->req_due = 0;
	return (0);
}

/*
 * channel_bind_service(ch, name, len):
 * Before the first handshake message, either role: mix the service name
 * ${name} (1 to CHANNEL_MAX_BOUND bytes, no NUL) into the Noise prologue,
 * which becomes CHANNEL_PROLOGUE || 0x00 || name.  Both ends of a relayed
 * channel bind the name the relay paired them for, so a handshake spliced
 * onto a connection made for another name fails (CHANNEL_EHANDSHAKE).
 * Return 0, -CHANNEL_EPAYLOAD for a bad name, or -CHANNEL_ESTATE if too
 * late.
 */
int
channel_bind_service(struct channel *ch, const uint8_t *name, size_t len)
{
	const size_t base = sizeof(CHANNEL_PROLOGUE) - 1;

	if (ch->state != ST_INIT || ch->hs == NULL)
		return (-CHANNEL_ESTATE);
	if (len == 0 || len > CHANNEL_MAX_BOUND || memchr(name, 0, len) != NULL)
		return (-CHANNEL_EPAYLOAD);
	memcpy(ch->hs->prologue, CHANNEL_PROLOGUE, base);
	ch->hs->prologue[base] = 0x00;
	memcpy(ch->hs->prologue + base + 1, name, len);
	ch->hs->prologue_len = base + 1 + len;
	return (0);
}

/*
 * channel_set_ephemeral(ch, e):
 * Tests and fuzzing only: use the X25519 private key ${e} as the
 * handshake's ephemeral key instead of a random one, so runs repeat.
 * Call before the first handshake message.  Never in the daemon.
 */
void
channel_set_ephemeral(struct channel *ch, const uint8_t e[32])
{

	if (ch->hs == NULL || ch->state != ST_INIT)
		return;
	memcpy(ch->hs->e, e, 32);
	ch->hs->has_e = 1;
}

/*
 * channel_resume_fini(t):
 * Wipe the ticket ${t}.
 */
void
channel_resume_fini(struct channel_resume *t)
{

	if (t != NULL)
		wipe(t, sizeof(*t));
}

/*
 * channel_resume_export(ch, now, t):
 * After a full handshake (either role): the ticket for resumed handshakes
 * with the same peer into ${t}.  See channel.h for the derivation.
 * Return 0, -CHANNEL_ESTATE or -CHANNEL_EEXPIRED.
 */
int
channel_resume_export(const struct channel *ch, uint64_t now,
    struct channel_resume *t)
{
	uint64_t end;

	if (ch->state != ST_ESTABLISHED || !ch->has_res || ch->resumed)
		return (-CHANNEL_ESTATE);
	end = now > UINT64_MAX - CHANNEL_RESUME_LIFETIME ? UINT64_MAX :
	    now + CHANNEL_RESUME_LIFETIME;
	if (ch->res_expiry < end)
		end = ch->res_expiry;
	if (ch->deadline < end)
		end = ch->deadline;
	if (end <= now)
		return (-CHANNEL_EEXPIRED);
	memset(t, 0, sizeof(*t));
	memcpy(t->tid, ch->res_tid, CHANNEL_RESUME_TID_LEN);
	memcpy(t->secret, ch->res_secret, CHANNEL_RESUME_SECRET_LEN);
	memcpy(t->peer, ch->peer, CHANNEL_ID_LEN);
	t->expiry = end;
	t->bound = ch->res_expiry;
	/* A responder decides on the block each resumed msg3 brings. */
	if (ch->role == CHANNEL_INITIATOR && ch->peer_creds_len > 0) {
		memcpy(t->creds, ch->peer_creds, ch->peer_creds_len);
		t->creds_len = ch->peer_creds_len;
	}
	return (0);
}

/*
 * channel_resume_set(ch, t, now):
 * Initiator, before channel_start: try a resumed handshake with the
 * ticket ${t} (copied).  Return 0, -CHANNEL_EEXPIRED, -CHANNEL_EPEER or
 * -CHANNEL_ESTATE.
 */
int
channel_resume_set(struct channel *ch, const struct channel_resume *t,
    uint64_t now)
{

	if (ch->role != CHANNEL_INITIATOR || ch->state != ST_INIT ||
	    ch->hs == NULL)
		return (-CHANNEL_ESTATE);
	if (t->expiry <= now)
		return (-CHANNEL_EEXPIRED);
	if (!ch->hs->has_expect ||
	    !ct_eq(t->peer, ch->hs->expect, CHANNEL_ID_LEN))
		return (-CHANNEL_EPEER);
	if (t->creds_len > sizeof(t->creds))
		return (-CHANNEL_EPAYLOAD);
	memcpy(&ch->hs->res, t, sizeof(*t));
	ch->hs->has_res = 1;
	return (0);
}

/*
 * channel_resume_set_lookup(ch, fn, arg):
 * Responder, before the first frame: answer resumed msg1s with the ticket
 * store ${fn}(${arg}, ...).
 */
void
channel_resume_set_lookup(struct channel *ch, channel_resume_lookup *fn,
    void *arg)
{

	ch->lookup = fn;
	ch->lookup_arg = arg;
}

/*
 * channel_is_resumed(ch):
 * Return 1 if ${ch} is (or is becoming) a resumed channel, 0 if full.
 */
int
channel_is_resumed(const struct channel *ch)
{

	return (ch->resumed);
}

/*
 * channel_resume_refused(ch):
 * Initiator: 1 if the responder did not know the ticket and the channel
 * went on with a full handshake, else 0.
 */
int
channel_resume_refused(const struct channel *ch)
{

	return (ch->res_refused);
}

/*
 * channel_use_keypair(ch, e, e_pub):
 * Before the first handshake message: use the key pair ${e}, ${e_pub}
 * made ahead of time as the handshake's ephemeral.
 */
void
channel_use_keypair(struct channel *ch, const uint8_t e[32],
    const uint8_t e_pub[32])
{

	if (ch->hs == NULL || ch->state != ST_INIT)
		return;
	memcpy(ch->hs->pair_e, e, 32);
	memcpy(ch->hs->pair_pub, e_pub, 32);
	ch->hs->has_pair = 1;
}

/* Hand ${ch}'s key pair made ahead of time, if any, to its Noise state. */
static int
hs_take_pair(struct channel *ch)
{
	struct channel_hs *hs = ch->hs;
	int rc = 0;

	if (hs->has_pair && !hs->hs.has_e)
		rc = noise_handshake_set_ephemeral(&hs->hs, hs->pair_e,
		    hs->pair_pub);
	/* Used once, whatever happened. */
	wipe(hs->pair_e, sizeof(hs->pair_e));
	hs->has_pair = 0;
	return (rc == 0 ? 0 : -noise_err(rc));
}

/*
 * channel_set_rekey_interval(ch, n):
 * Tests only: rekey each direction every ${n} (>= 1) records instead of
 * every CHANNEL_REKEY_INTERVAL.  Both ends must use the same ${n}.
 */
void
channel_set_rekey_interval(struct channel *ch, uint64_t n)
{

	assert(n >= 1);
	ch->rekey = n;
}

/* Start the Noise handshake state of ${ch}.  Return 0 or -error. */
static int
hs_init(struct channel *ch)
{
	struct channel_hs *hs = ch->hs;
	int rc = 0;

	/*
	 * Copy the node's ready state (a struct noise_handshake may be
	 * copied by value); only a fixed test ephemeral needs a fresh one.
	 */
	if (hs->has_e) {
		rc = hs_template(&hs->hs, ch->role, ch->local->s, hs->e);
		wipe(hs->e, sizeof(hs->e));
	} else {
		memcpy(&hs->hs, &ch->local->hs[ch->role], sizeof(hs->hs));
	}
	/* A relay path: the template with the bound prologue instead. */
	if (rc == 0 && hs->prologue_len > 0)
		rc = noise_handshake_set_prologue(&hs->hs, hs->prologue,
		    hs->prologue_len);
	if (rc != 0)
		return (-noise_err(rc));
	return (hs_take_pair(ch));
}

/*
 * Start the Noise state of a resumed handshake of ${ch} with its ticket:
 * NNpsk0, the ticket's secret as psk, and as prologue
 * CHANNEL_RESUME_PROLOGUE || tid, then 0x00 || name on a relay path.
 * Return 0 or -error.
 */
static int
hs_init_resume(struct channel *ch)
{
	struct channel_hs *hs = ch->hs;
	const size_t base = sizeof(CHANNEL_PROLOGUE) - 1;
	uint8_t pro[sizeof(CHANNEL_RESUME_PROLOGUE) - 1 +
	    CHANNEL_RESUME_TID_LEN + 1 + CHANNEL_MAX_BOUND];
	size_t n = sizeof(CHANNEL_RESUME_PROLOGUE) - 1;
	int rc = 0;

	memcpy(pro, CHANNEL_RESUME_PROLOGUE, n);
	memcpy(pro + n, hs->res.tid, CHANNEL_RESUME_TID_LEN);
	n += CHANNEL_RESUME_TID_LEN;
	/* The bound service name as in the full prologue (0x00 || name). */
	if (hs->prologue_len > base) {
		memcpy(pro + n, hs->prologue + base, hs->prologue_len - base);
		n += hs->prologue_len - base;
	}
	/* The node's ready state, as hs_init; a test ephemeral needs its own. */
	if (hs->has_e)
		rc = res_template(&hs->hs, ch->role, hs->e);
	else
		memcpy(&hs->hs, &ch->local->res[ch->role], sizeof(hs->hs));
	/* A test ephemeral serves once: a fallback makes a fresh one. */
	wipe(hs->e, sizeof(hs->e));
	hs->has_e = 0;
	if (rc == 0)
		rc = noise_handshake_set_prologue(&hs->hs, pro, n);
	if (rc == 0)
		rc = noise_handshake_set_psk(&hs->hs, hs->res.secret);
	if (rc != 0)
		return (-noise_err(rc));
	return (hs_take_pair(ch));
}

/*
 * Write the next handshake message with ${payload} as a frame into ${out}
 * (${cap} bytes), its size in ${outlen}.  Return 0 or -error.
 */
static int
hs_write(struct channel *ch, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t cap, size_t *outlen)
{
	size_t n;
	int rc;

	if (cap < FRAME_HDR)
		return (-CHANNEL_EFRAME);
	if (cap - FRAME_HDR > HS_MAX_BODY)
		cap = FRAME_HDR + HS_MAX_BODY;
	if ((rc = noise_handshake_write(&ch->hs->hs, payload, plen,
	    out + FRAME_HDR, cap - FRAME_HDR, &n)) != 0)
		return (-noise_err(rc));
	if (n == 0 || n > HS_MAX_BODY)
		return (-CHANNEL_EFRAME);
	frame_put_len(out, n);
	*outlen = FRAME_HDR + n;
	return (0);
}

/*
 * After a full handshake, before its state goes: derive the resumption
 * secret and ticket id from the final chaining key (the secret: every DH
 * went into it), bound to the handshake hash, both identifiers (the
 * initiator's first) and the earlier attestation expiry, the same at both
 * ends (channel_resume_export).  Never from h alone: h is a hash of the
 * public transcript, which anyone who recorded it can compute.
 */
static void
resume_derive(struct channel *ch)
{
	uint8_t info[sizeof(CHANNEL_RESUME_SALT) - 1 + 2 * CHANNEL_ID_LEN + 8];
	const size_t cl = sizeof(CHANNEL_RESUME_SALT) - 1;
	uint8_t out[CHANNEL_RESUME_SECRET_LEN + CHANNEL_RESUME_TID_LEN];
	const uint8_t *iid, *rid;
	uint64_t bound;

	iid = ch->role == CHANNEL_INITIATOR ? ch->local->id : ch->peer;
	rid = ch->role == CHANNEL_INITIATOR ? ch->peer : ch->local->id;
	bound = ch->peer_expiry < ch->local->expiry ? ch->peer_expiry :
	    ch->local->expiry;
	memcpy(info, CHANNEL_RESUME_SALT, cl);
	memcpy(info + cl, iid, CHANNEL_ID_LEN);
	memcpy(info + cl + CHANNEL_ID_LEN, rid, CHANNEL_ID_LEN);
	frame_put_u64(info + cl + 2 * CHANNEL_ID_LEN, bound);
	/* PRK = HMAC(ck, h): not Split's HMAC(ck, empty). */
	crypto_hkdf_sha256(out, sizeof(out), ch->hs->hs.ss.ck, NOISE_HASHLEN,
	    ch->hs->hs.ss.h, NOISE_HASHLEN, info, sizeof(info));
	memcpy(ch->res_secret, out, CHANNEL_RESUME_SECRET_LEN);
	memcpy(ch->res_tid, out + CHANNEL_RESUME_SECRET_LEN,
	    CHANNEL_RESUME_TID_LEN);
	ch->res_expiry = bound;
	ch->has_res = 1;
	wipe(out, sizeof(out));
}

/*
 * Split the finished handshake into transport keys; drop its state.
 * The channel lives until the earliest of the two attestations it was
 * authenticated with and ${now} + CHANNEL_MAX_AGE: the same moment at
 * both ends, which both saw both expiries.
 */
static int
hs_finish(struct channel *ch, uint64_t now)
{
	uint64_t end;
	int rc;

	if ((rc = noise_handshake_split(&ch->hs->hs, &ch->tx, &ch->rx)) != 0)
		return (-noise_err(rc));
	if (!ch->resumed)
		resume_derive(ch);
	hs_free(ch);
	end = now > UINT64_MAX - CHANNEL_MAX_AGE ? UINT64_MAX :
	    now + CHANNEL_MAX_AGE;
	if (ch->peer_expiry < end)
		end = ch->peer_expiry;
	if (ch->local->expiry < end)
		end = ch->local->expiry;
	ch->deadline = end;
	ch->tx_since = now;
	ch->tx_used = 0;
	ch->state = ST_ESTABLISHED;
	return (0);
}

/*
 * Initiator: write a resumed msg1 frame, tid || (-> psk, e; version), to
 * ${out} (${cap} bytes).  Return 0 or -error.
 */
static int
resume_write_msg1(struct channel *ch, uint8_t *out, size_t cap,
    size_t *outlen)
{
	const uint8_t version = CHANNEL_RESUME_VERSION;
	const size_t pre = FRAME_HDR + CHANNEL_RESUME_TID_LEN;
	size_t n;
	int rc;

	if (cap < pre)
		return (-CHANNEL_EFRAME);
	if ((rc = hs_init_resume(ch)) != 0)
		return (rc);
	if ((rc = noise_handshake_write(&ch->hs->hs, &version, 1, out + pre,
	    cap - pre, &n)) != 0)
		return (-noise_err(rc));
	memcpy(out + FRAME_HDR, ch->hs->res.tid, CHANNEL_RESUME_TID_LEN);
	frame_put_len(out, CHANNEL_RESUME_TID_LEN + n);
	*outlen = pre + n;
	return (0);
}

/*
 * channel_start(ch, out, cap, outlen):
 * Initiator: write msg1 (a whole frame) to ${out}.  Return 0 or -error
 * (-CHANNEL_EPEER when no peer is expected).
 */
int
channel_start(struct channel *ch, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t version = CHANNEL_VERSION;
	int rc;

	*outlen = 0;
	if (ch->state == ST_DEAD)
		return (-CHANNEL_ESTATE);
	if (ch->role != CHANNEL_INITIATOR || ch->state != ST_INIT)
		return (fail(ch, CHANNEL_ESTATE));

	/* Deny by default: an initiator must know whom it wants. */
	if (!ch->hs->has_expect && ch->check == NULL)
		return (fail(ch, CHANNEL_EPEER));

	/* Resumed: tid in clear, then -> psk, e with the version encrypted. */
	if (ch->hs->has_res) {
		if (!ch->hs->has_expect ||
		    !ct_eq(ch->hs->res.peer, ch->hs->expect, CHANNEL_ID_LEN))
			return (fail(ch, CHANNEL_EPEER));
		if ((rc = resume_write_msg1(ch, out, cap, outlen)) != 0) {
			*outlen = 0;
			return (fail(ch, -rc));
		}
		ch->resumed = 1;
		ch->state = ST_WAIT_MSG2;
		return (0);
	}

	/* -> e, and in clear the version we speak */
	if ((rc = hs_init(ch)) != 0 ||
	    (rc = hs_write(ch, &version, 1, out, cap, outlen)) != 0) {
		*outlen = 0;
		return (fail(ch, -rc));
	}
	ch->state = ST_WAIT_MSG2;
	return (0);
}

/*
 * Responder: a resumed msg1 (tid || -> psk, e).  With the ticket: write
 * msg2 (<- e, ee, empty payload).  Without it (unknown, expired, no
 * store): write the one-byte CHANNEL_RESUME_UNKNOWN frame and wait for a
 * full msg1, once.  A ticket whose secret does not match fails.
 */
static int
hs_responder_resume1(struct channel *ch, const uint8_t *msg, size_t len,
    uint64_t now, uint8_t *pl, uint8_t *out, size_t cap, size_t *outlen)
{
	struct channel_hs *hs = ch->hs;
	size_t plen;
	int rc;

	if (hs->fell_back)
		return (-CHANNEL_ESTATE);
	if (ch->lookup == NULL || ch->lookup(ch->lookup_arg, msg, now,
	    &hs->res) != 0 || hs->res.expiry <= now ||
	    !ct_eq(hs->res.tid, msg, CHANNEL_RESUME_TID_LEN)) {
		channel_resume_fini(&hs->res);
		if (cap < FRAME_HDR + 1)
			return (-CHANNEL_EFRAME);
		frame_put_len(out, 1);
		out[FRAME_HDR] = CHANNEL_RESUME_UNKNOWN;
		*outlen = FRAME_HDR + 1;
		hs->fell_back = 1;
		return (0);
	}
	hs->has_res = 1;
	ch->resumed = 1;
	if ((rc = hs_init_resume(ch)) != 0)
		return (rc);
	if ((rc = noise_handshake_read(&hs->hs, msg + CHANNEL_RESUME_TID_LEN,
	    len - CHANNEL_RESUME_TID_LEN, pl, HS_MAX_BODY, &plen)) != 0)
		return (-noise_err(rc));
	/* Version 2's msg3 carried no credential block: say so. */
	if (plen != 1 || pl[0] != CHANNEL_RESUME_VERSION)
		return (-CHANNEL_EVERSION);
	/* <- e, ee */
	if ((rc = hs_write(ch, NULL, 0, out, cap, outlen)) != 0)
		return (rc);
	ch->state = ST_WAIT_MSG3;
	return (0);
}

/* Responder: read msg1 (-> e), write msg2 (<- e, ee, s, es + identity). */
static int
hs_responder_msg1(struct channel *ch, const uint8_t *msg, size_t len,
    uint64_t now, uint8_t *pl, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t plen;
	int rc;

	if (len == CHANNEL_RESUME_MSG1_LEN)
		return (hs_responder_resume1(ch, msg, len, now, pl, out, cap,
		    outlen));
	if ((rc = hs_init(ch)) != 0)
		return (rc);
	if ((rc = noise_handshake_read(&ch->hs->hs, msg, len, pl, HS_MAX_BODY,
	    &plen)) != 0)
		return (-noise_err(rc));
	/*
	 * msg1 carries the initiator's version, one byte (version 1 sent
	 * none): say so instead of failing later on the prologue.
	 */
	if (plen == 0 || (plen == 1 && pl[0] != CHANNEL_VERSION))
		return (-CHANNEL_EVERSION);
	if (plen != 1)
		return (-CHANNEL_EPAYLOAD);
	plen = payload_put(pl, ch->local);
	if ((rc = hs_write(ch, pl, plen, out, cap, outlen)) != 0)
		return (rc);
	ch->state = ST_WAIT_MSG3;
	return (0);
}

/*
 * Initiator, resumed: the responder's answer.  CHANNEL_RESUME_UNKNOWN:
 * drop the ticket and write a full msg1 instead (still waiting for msg2).
 * Else read msg2 (<- e, ee), split, and write msg3: our credential block
 * as it is now, then the request, as the first transport record (DATA),
 * which confirms our keys to the responder before it acts on anything.
 */
static int
resume_initiator_msg2(struct channel *ch, const uint8_t *msg, size_t len,
    uint64_t now, uint8_t *pl, uint8_t *out, size_t cap, size_t *outlen)
{
	const uint8_t version = CHANNEL_VERSION;
	struct channel_hs *hs = ch->hs;
	size_t plen;
	long rl;
	int rc;

	if (len == 1 && msg[0] == CHANNEL_RESUME_UNKNOWN) {
		channel_resume_fini(&hs->res);
		hs->has_res = 0;
		ch->resumed = 0;
		ch->res_refused = 1;
		noise_handshake_fini(&hs->hs);
		/* -> e, as channel_start does */
		if ((rc = hs_init(ch)) != 0 ||
		    (rc = hs_write(ch, &version, 1, out, cap, outlen)) != 0)
			return (rc);
		return (0);
	}
	/* <- e, ee: nothing in the payload */
	if ((rc = noise_handshake_read(&hs->hs, msg, len, pl, HS_MAX_BODY,
	    &plen)) != 0)
		return (-noise_err(rc));
	PROVEN(); /* its tag: the responder has the ticket's secret */
	if (plen != 0)
		return (-CHANNEL_EPAYLOAD);
	if (cap < CHANNEL_RESUME_MSG3_MAX)
		return (-CHANNEL_EFRAME);
	memcpy(ch->peer, hs->res.peer, CHANNEL_ID_LEN);
	ch->peer_expiry = hs->res.bound;
	if ((rc = peer_creds_keep(ch, hs->res.creds, hs->res.creds_len)) != 0)
		return (rc);
	ch->has_peer = 1;
	if ((rc = hs_finish(ch, now)) != 0)
		return (rc);
	plen = creds_put(out + CHANNEL_HDR, ch->local);
	memcpy(out + CHANNEL_HDR + plen, ch->req, ch->reqlen);
	if ((rl = channel_seal(ch, CHANNEL_DATA, out, plen + ch->reqlen)) < 0)
		return ((int)rl);
	*outlen = (size_t)rl;
	return (0);
}

/*
 * Responder, resumed: msg3 is the initiator's first transport record,
 * its credential block as it is now, then the request.  The peer's
 * identity comes from the ticket; the peer filter sees it, the request
 * and that block as after a full msg3.
 */
static int
resume_responder_msg3(struct channel *ch, const uint8_t *frame, size_t len,
    uint64_t now, uint8_t *pl)
{
	struct channel_hs *hs = ch->hs;
	enum channel_type t;
	size_t n, blen;
	int rc;

	if (len > CHANNEL_RESUME_MSG3_MAX)
		return (-CHANNEL_EPAYLOAD);
	memcpy(ch->peer, hs->res.peer, CHANNEL_ID_LEN);
	ch->peer_expiry = hs->res.bound;
	if ((rc = hs_finish(ch, now)) != 0)
		return (rc);
	memcpy(pl, frame, len);
	if ((rc = channel_open(ch, pl, len, &t, &n)) != 0)
		return (rc); /* its PROVEN(): the ticket's secret and e */
	/* The credential block, then the request. */
	if (t != CHANNEL_DATA || cred_block_len(pl + CHANNEL_HDR, n,
	    &blen) == -1 || n - blen > CHANNEL_MAX_REQUEST)
		return (-CHANNEL_EPAYLOAD);
	if ((rc = peer_creds_keep(ch, pl + CHANNEL_HDR, blen)) != 0)
		return (rc);
	ch->reqlen = (uint8_t)(n - blen);
	memcpy(ch->req, pl + CHANNEL_HDR + blen, ch->reqlen);
	if (filter_denies(ch, ch->peer))
		return (-CHANNEL_EDENIED);
	ch->has_peer = 1;
	return (0);
}

/*
 * Initiator: read msg2, check the responder against the expected peer
 * before anything else is written, then write msg3 (-> s, se + identity
 * and request) and split.
 */
static int
hs_initiator_msg2(struct channel *ch, const uint8_t *msg, size_t len,
    uint64_t now, uint8_t *pl, uint8_t *out, size_t cap, size_t *outlen)
{
	struct channel_hs *hs = ch->hs;
	size_t plen;
	int rc, pinned;

	if (hs->has_res)
		return (resume_initiator_msg2(ch, msg, len, now, pl, out, cap,
		    outlen));

	/* <- e, ee, s, es */
	if ((rc = noise_handshake_read(&hs->hs, msg, len, pl, HS_MAX_BODY,
	    &plen)) != 0)
		return (-noise_err(rc));
	if (!hs->hs.has_rs)
		return (-CHANNEL_EHANDSHAKE);
	/* The identity payload alone: credentials come after msg3. */
	if (plen != CHANNEL_PAYLOAD_LEN)
		return (-CHANNEL_EPAYLOAD);
	if ((rc = payload_check(pl, CHANNEL_PAYLOAD_LEN, hs->hs.rs, now,
	    hs->has_expect ? hs->expect : NULL, NULL, ch->cache, ch->peer,
	    &ch->peer_expiry)) != 0) {
		/* Not the pinned identity: keep what it claims, for logs. */
		if (rc == -CHANNEL_EPEER) {
			crypto_sha256(ch->peer, pl + PL_PUB,
			    CRYPTO_P256_PUB_LEN);
			ch->has_claimed = 1;
		}
		return (rc);
	}
	ch->has_peer = 1;

	/* -> s, se: our identity, then the request, all encrypted. */
	pinned = hs->has_expect; /* hs_finish frees hs */
	plen = payload_put(pl, ch->local);
	plen += creds_put(pl + plen, ch->local);
	/* Pinned by check: the request waits for the responder's creds. */
	if (pinned) {
		memcpy(pl + plen, ch->req, ch->reqlen);
		plen += ch->reqlen;
	}
	if ((rc = hs_write(ch, pl, plen, out, cap, outlen)) != 0)
		return (rc);
	if ((rc = hs_finish(ch, now)) != 0)
		return (rc);
	/* Not pinned by identifier: decided on the credentials that come. */
	if (!pinned)
		ch->state = ST_WAIT_CREDS;
	else if (ch->reqlen == 0)
		ch->req_due = 1; /* made ahead: the request comes later */
	return (0);
}

/*
 * Initiator pinned by check: the responder's first record, which must
 * hold its credential block (CHANNEL_CREDS), then the caller's decision;
 * accepted, the request goes out in our first record (msg3 held none, so
 * a responder the check refuses never learns it).
 */
static int
hs_initiator_creds(struct channel *ch, const uint8_t *frame, size_t len,
    uint8_t *pl, uint8_t *out, size_t cap, size_t *outlen)
{
	enum channel_type type;
	size_t n;
	int rc;

	memcpy(pl, frame, len);
	ch->state = ST_ESTABLISHED;
	if ((rc = channel_open(ch, pl, len, &type, &n)) != 0)
		return (rc);
	if (type != CHANNEL_CREDS || ch->reqlen == 0 ||
	    cap < (size_t)ch->reqlen + CHANNEL_OVERHEAD)
		return (-CHANNEL_EPAYLOAD);
	if (!ch->check(ch->check_arg, ch->peer, ch->peer_creds,
	    ch->peer_creds_len))
		return (-CHANNEL_EDENIED);
	return (req_seal(ch, CHANNEL_REQUEST, out, outlen));
}

/*
 * Responder: the initiator's first record after a msg3 without request:
 * the request (CHANNEL_REQUEST, 1 to CHANNEL_MAX_REQUEST bytes).
 */
static int
hs_responder_request(struct channel *ch, const uint8_t *frame, size_t len,
    uint8_t *pl)
{
	enum channel_type type;
	size_t n;
	int rc;

	memcpy(pl, frame, len);
	ch->state = ST_ESTABLISHED;
	ch->req_record = 1;
	rc = channel_open(ch, pl, len, &type, &n);
	ch->req_record = 0;
	if (rc != 0)
		return (rc);
	if (type != CHANNEL_REQUEST || n == 0 || n > CHANNEL_MAX_REQUEST)
		return (-CHANNEL_EPAYLOAD);
	memcpy(ch->req, pl + CHANNEL_HDR, n);
	ch->reqlen = (uint8_t)n;
	return (0);
}

/*
 * Responder: read msg3 (-> s, se), check the initiator, keep the request;
 * the initiator proven, write our credential block as the first record.
 */
static int
hs_responder_msg3(struct channel *ch, const uint8_t *msg, size_t len,
    uint64_t now, uint8_t *pl, uint8_t *out, size_t cap, size_t *outlen)
{
	long n;
	struct channel_hs *hs = ch->hs;
	size_t plen, blen;
	int rc;

	if ((rc = noise_handshake_read(&hs->hs, msg, len, pl, HS_MAX_BODY,
	    &plen)) != 0)
		return (-noise_err(rc));
	if (!hs->hs.has_rs)
		return (-CHANNEL_EHANDSHAKE);
	/* Identity payload, credential block, then the request. */
	if (plen < CHANNEL_PAYLOAD_LEN || cred_block_len(pl +
	    CHANNEL_PAYLOAD_LEN, plen - CHANNEL_PAYLOAD_LEN, &blen) == -1 ||
	    plen - CHANNEL_PAYLOAD_LEN - blen > CHANNEL_MAX_REQUEST)
		return (-CHANNEL_EPAYLOAD);
	/* The request and credentials first: the peer filter may look. */
	ch->reqlen = (uint8_t)(plen - CHANNEL_PAYLOAD_LEN - blen);
	memcpy(ch->req, pl + CHANNEL_PAYLOAD_LEN + blen, ch->reqlen);
	if ((rc = peer_creds_keep(ch, pl + CHANNEL_PAYLOAD_LEN, blen)) != 0)
		return (rc);
	if ((rc = payload_check(pl, CHANNEL_PAYLOAD_LEN, hs->hs.rs, now, NULL,
	    ch, ch->cache, ch->peer, &ch->peer_expiry)) != 0)
		return (rc);
	ch->has_peer = 1;
	if (cap < CHANNEL_OVERHEAD + CRED_BLOCK_MAX)
		return (-CHANNEL_EFRAME);
	if ((rc = hs_finish(ch, now)) != 0)
		return (rc);
	blen = creds_put(out + CHANNEL_HDR, ch->local);
	if ((n = channel_seal(ch, CHANNEL_CREDS, out, blen)) < 0)
		return ((int)n);
	*outlen = (size_t)n;
	/* No request in msg3 (an initiator pinned by check): it follows. */
	if (ch->reqlen == 0)
		ch->state = ST_WAIT_REQ;
	return (0);
}

/*
 * The peer filter refused the initiator whose msg3 (full or resumed) was
 * just read, and asked to say why: write one REFUSE record with that
 * reason to ${out} (${cap} bytes), sealed under the transport keys this
 * handshake made, so only the holder of the initiator's keys can read it
 * (docs/protocol.md 2.3).  Best effort: on any failure nothing is
 * written.  The caller kills ${ch} right after.
 */
static void
deny_refuse(struct channel *ch, uint8_t *out, size_t cap, size_t *outlen)
{
	long n;

	if (cap < CHANNEL_OVERHEAD + 1)
		return;
	if (ch->state != ST_ESTABLISHED) {
		if (ch->hs == NULL || noise_handshake_split(&ch->hs->hs,
		    &ch->tx, &ch->rx) != 0)
			return;
		ch->state = ST_ESTABLISHED;
	}
	out[CHANNEL_HDR] = (uint8_t)ch->filter_refusal;
	if ((n = channel_seal(ch, CHANNEL_REFUSE, out, 1)) > 0)
		*outlen = (size_t)n;
}

/*
 * channel_handshake(ch, frame, len, now, out, cap, outlen):
 * Process one whole handshake frame (length prefix included) and write the
 * reply frame, if any, to ${out} (*outlen is 0 when there is none).
 * Return 0 while the handshake goes on, 1 once it is established (the
 * initiator after writing msg3, or after the responder's credential
 * record when pinned by check; the responder after reading msg3, or its
 * request record when msg3 held none), or a
 * negative channel_error; after an error the channel is dead and
 * *outlen is 0 (an initiator whose peer is not the expected one returns
 * -CHANNEL_EPEER before it starts on msg3), but for -CHANNEL_EDENIED when
 * the peer filter asked to tell why: then ${out} holds one REFUSE record
 * to send before closing.  ${now} (seconds since the
 * epoch) is checked against the peer's attestation expiry.
 */
int
channel_handshake(struct channel *ch, const uint8_t *frame, size_t len,
    uint64_t now, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t pl[HS_MAX_BODY];
	const uint8_t *msg;
	size_t total, mlen;
	int rc;

	*outlen = 0;
	if (ch->state == ST_DEAD)
		return (-CHANNEL_ESTATE);

	/* Exactly one whole frame within the handshake limit. */
	if (frame_peek(frame, len, HS_MAX_BODY, &total) != 1 || total != len) {
		rc = -CHANNEL_EFRAME;
		goto out;
	}
	msg = frame + FRAME_HDR;
	mlen = len - FRAME_HDR;

	if (ch->role == CHANNEL_RESPONDER && ch->state == ST_INIT)
		rc = hs_responder_msg1(ch, msg, mlen, now, pl, out, cap,
		    outlen);
	else if (ch->role == CHANNEL_INITIATOR && ch->state == ST_WAIT_MSG2)
		rc = hs_initiator_msg2(ch, msg, mlen, now, pl, out, cap,
		    outlen);
	else if (ch->role == CHANNEL_RESPONDER && ch->state == ST_WAIT_MSG3 &&
	    ch->resumed)
		rc = resume_responder_msg3(ch, frame, len, now, pl);
	else if (ch->role == CHANNEL_RESPONDER && ch->state == ST_WAIT_MSG3)
		rc = hs_responder_msg3(ch, msg, mlen, now, pl, out, cap,
		    outlen);
	else if (ch->role == CHANNEL_INITIATOR && ch->state == ST_WAIT_CREDS)
		rc = hs_initiator_creds(ch, frame, len, pl, out, cap, outlen);
	else if (ch->role == CHANNEL_RESPONDER && ch->state == ST_WAIT_REQ)
		rc = hs_responder_request(ch, frame, len, pl);
	else
		rc = -CHANNEL_ESTATE;
out:
	wipe(pl, sizeof(pl));
	if (rc != 0) {
		*outlen = 0;
		if (rc == -CHANNEL_EDENIED && ch->filter_refusal != 0)
			deny_refuse(ch, out, cap, outlen);
		return (fail(ch, -rc));
	}
	return (ch->state == ST_ESTABLISHED ? 1 : 0);
}

/*
 * channel_peer_id(ch):
 * The verified peer identifier (CHANNEL_ID_LEN bytes), or NULL before it
 * is known.
 */
const uint8_t *
channel_peer_id(const struct channel *ch)
{

	return (ch->has_peer ? ch->peer : NULL);
}

/*
 * channel_claimed_id(ch):
 * Initiator, after -CHANNEL_EPEER: the identifier the responder presented
 * instead of the expected one (unverified: its attestation was never
 * checked), or NULL.
 */
const uint8_t *
channel_claimed_id(const struct channel *ch)
{

	return (ch->has_claimed ? ch->peer : NULL);
}

/* Refusal words, indexed by enum channel_refusal. */
static const char *const refusal_names[] = {NULL, "not-allowed",
    "unknown-service", "target-failed", "registration-mismatch",
    "not-registrant", "no-registrant", "bad-request", "old-request",
    "limit"};

/*
 * channel_refusal_name(code):
 * The word for the enum channel_refusal ${code} ("not-allowed", ...), or
 * "refused" for a code this build does not know.
 */
const char *
channel_refusal_name(unsigned code)
{

	if (code == 0 || code >= sizeof(refusal_names) /
	    sizeof(refusal_names[0]))
		return ("refused");
	return (refusal_names[code]);
}

/*
 * channel_peer_creds(ch, len):
 * The credential block the peer presented (not verified: acl.c checks
 * it), its size in ${len}; NULL and 0 before it arrived or if the peer
 * presented none.  Available to the peer filter already.
 */
const uint8_t *
channel_peer_creds(const struct channel *ch, size_t *len)
{

	*len = ch->peer_creds_len;
	return (ch->peer_creds);
}

/*
 * channel_awaits_request(ch):
 * A responder in ST_WAIT_REQ.
 */
int
channel_awaits_request(const struct channel *ch)
{

	return (ch->role == CHANNEL_RESPONDER && ch->state == ST_WAIT_REQ);
}

/*
 * channel_request(ch, len):
 * Once established: the request (received by a responder, sent by an
 * initiator) and its length in ${len}; NULL and 0 before.
 */
const uint8_t *
channel_request(const struct channel *ch, size_t *len)
{

	if (ch->state != ST_ESTABLISHED) {
		*len = 0;
		return (NULL);
	}
	*len = ch->reqlen;
	return (ch->req);
}

/*
 * After a record on ${cs}: rekey when ${ch}'s interval is reached.
 * Return 1 if it did.
 */
static int
rekey_maybe(struct channel *ch, struct noise_cipherstate *cs)
{

	if (cs->n % ch->rekey != 0)
		return (0);
	noise_cs_rekey(cs);
	return (1);
}

/*
 * channel_seal(ch, type, rec, len):
 * Encrypt the ${len} (<= CHANNEL_MAX_DATA) bytes at rec + CHANNEL_HDR in
 * place into a record of ${type}; ${rec} has room for
 * len + CHANNEL_OVERHEAD bytes.  Return the record length, or -error.
 */
long
channel_seal(struct channel *ch, enum channel_type type, uint8_t *rec,
    size_t len)
{

	if (ch->state == ST_DEAD)
		return (-CHANNEL_ESTATE);
	if (ch->state != ST_ESTABLISHED)
		return (fail(ch, CHANNEL_ESTATE));
	if ((unsigned)type > CHANNEL_CREDS || type == CHANNEL_REKEY)
		return (fail(ch, CHANNEL_ETYPE)); /* REKEY: channel_seal_rekey */
	if (len > CHANNEL_MAX_DATA || (type == CHANNEL_EOF && len != 0) ||
	    (type == CHANNEL_REFUSE && len == 0) ||
	    (type == CHANNEL_CREDS && cred_block_check(rec + CHANNEL_HDR,
	    len) != 0))
		return (fail(ch, CHANNEL_EFRAME));
	/* Nothing but keepalives after our own EOF. */
	if (ch->tx_eof && (type == CHANNEL_DATA || type == CHANNEL_EOF))
		return (fail(ch, CHANNEL_ESTATE));
	return (seal(ch, type, rec, len));
}

/* channel_seal once the record is known to be legal: encrypt it. */
static long
seal(struct channel *ch, enum channel_type type, uint8_t *rec, size_t len)
{
	int rc;

	/* len || AEAD(type || data) || tag, the length as associated data. */
	frame_put_len(rec, 1 + len + CRYPTO_TAG_LEN);
	rec[FRAME_HDR] = (uint8_t)type;
	if ((rc = noise_cs_encrypt(&ch->tx, rec, FRAME_HDR, rec + FRAME_HDR,
	    1 + len, rec + CHANNEL_HDR + len)) != 0)
		return (fail(ch, noise_err(rc)));
	if (type == CHANNEL_EOF)
		ch->tx_eof = 1;
	ch->tx_used++;
	if (rekey_maybe(ch, &ch->tx))
		ch->tx_used = 0;
	return ((long)(len + CHANNEL_OVERHEAD));
}

/*
 * channel_deadline(ch):
 * Once established: the time (seconds since the epoch) at which ${ch}
 * must end: the earliest of the peer's attestation expiry, our own
 * attestation's expiry as sent in the handshake, and the handshake's
 * time plus CHANNEL_MAX_AGE.  Both ends compute the same value.  0 before.
 */
uint64_t
channel_deadline(const struct channel *ch)
{

	return (ch->state == ST_ESTABLISHED ? ch->deadline : 0);
}

/*
 * channel_check_time(ch, now):
 * Return 0 if ${ch} may still be used at ${now}, else kill it (its keys
 * are wiped) and return -CHANNEL_EEXPIRED.  Callers check before they
 * seal or open at a later time, and when a timer set for
 * channel_deadline() fires.
 */
int
channel_check_time(struct channel *ch, uint64_t now)
{

	if (ch->state == ST_DEAD)
		return (-CHANNEL_ESTATE);
	if (ch->state == ST_ESTABLISHED && now >= ch->deadline)
		return (fail(ch, CHANNEL_EEXPIRED));
	return (0);
}

/*
 * channel_rekey_due(ch, now):
 * Return 1 if the sending key has protected a record and is at least
 * CHANNEL_REKEY_TIME seconds old at ${now}: the caller then sends a
 * CHANNEL_REKEY record (channel_seal_rekey).  0 otherwise.
 */
int
channel_rekey_due(const struct channel *ch, uint64_t now)
{

	if (ch->state != ST_ESTABLISHED || ch->tx_used == 0)
		return (0);
	return (now >= ch->tx_since + CHANNEL_REKEY_TIME);
}

/*
 * channel_rekey_at(ch):
 * When channel_rekey_due() becomes 1 if records are sealed before then
 * (seconds since the epoch); 0 before the channel is established.
 */
uint64_t
channel_rekey_at(const struct channel *ch)
{

	if (ch->state != ST_ESTABLISHED)
		return (0);
	return (ch->tx_since + CHANNEL_REKEY_TIME);
}

/*
 * channel_seal_rekey(ch, rec, now):
 * Seal an empty CHANNEL_REKEY record into ${rec} (CHANNEL_OVERHEAD
 * bytes), then replace the sending key by Noise's REKEY() of it; the
 * receiver does the same after opening that record.  ${now} is when the
 * new key starts.  Return the record length, or -error.
 */
long
channel_seal_rekey(struct channel *ch, uint8_t *rec, uint64_t now)
{
	int rc;

	if (ch->state == ST_DEAD)
		return (-CHANNEL_ESTATE);
	if (ch->state != ST_ESTABLISHED)
		return (fail(ch, CHANNEL_ESTATE));
	frame_put_len(rec, 1 + CRYPTO_TAG_LEN);
	rec[FRAME_HDR] = (uint8_t)CHANNEL_REKEY;
	if ((rc = noise_cs_encrypt(&ch->tx, rec, FRAME_HDR, rec + FRAME_HDR,
	    1, rec + CHANNEL_HDR)) != 0)
		return (fail(ch, noise_err(rc)));
	/*
	 * The count rule first, as for any record (the receiver runs it
	 * after opening this one too), then REKEY() for this record.
	 */
	(void)rekey_maybe(ch, &ch->tx);
	noise_cs_rekey(&ch->tx);
	ch->tx_since = now;
	ch->tx_used = 0;
	return ((long)CHANNEL_OVERHEAD);
}

/*
 * channel_open(ch, rec, reclen, type, len):
 * Authenticate and decrypt one whole record in place; on success the data
 * is at rec + CHANNEL_HDR, ${len} bytes, of ${type}.  Return 0 or -error;
 * after an error the channel is dead.
 */
int
channel_open(struct channel *ch, uint8_t *rec, size_t reclen,
    enum channel_type *type, size_t *len)
{
	size_t n;
	uint8_t t;
	int rc;

	if (ch->state == ST_DEAD)
		return (-CHANNEL_ESTATE);
	if (ch->state != ST_ESTABLISHED)
		return (fail(ch, CHANNEL_ESTATE));

	/* One whole record: the prefix must announce exactly the rest. */
	if (reclen < CHANNEL_OVERHEAD || reclen > CHANNEL_MAX_RECORD ||
	    (((size_t)rec[0] << 8) | rec[1]) != reclen - FRAME_HDR)
		return (fail(ch, CHANNEL_EFRAME));

	/*
	 * The nonce is implicit (a counter): a replayed, reordered or
	 * dropped record fails authentication here like a tampered one.
	 */
	n = reclen - CHANNEL_OVERHEAD;
	if ((rc = noise_cs_decrypt(&ch->rx, rec, FRAME_HDR, rec + FRAME_HDR,
	    1 + n, rec + CHANNEL_HDR + n)) != 0)
		return (fail(ch, rc == -NOISE_ENONCE ? CHANNEL_ENONCE
		                                     : CHANNEL_EDECRYPT));
	PROVEN(); /* an authentic record: its sender has the keys */
	(void)rekey_maybe(ch, &ch->rx);

	/* Authentic; now the type must be one we know, in order. */
	t = rec[FRAME_HDR];
	if (t > CHANNEL_CREDS && !(t == CHANNEL_REQUEST && ch->req_record)) {
		wipe(rec, reclen);
		return (fail(ch, CHANNEL_ETYPE));
	}
	if (ch->rx_eof && (t == CHANNEL_DATA || t == CHANNEL_EOF)) {
		wipe(rec, reclen);
		return (fail(ch, CHANNEL_ESTATE));
	}
	/* EOF and REKEY carry nothing: data there would be lost; REFUSE
	 * carries at least its reason byte. */
	if (((t == CHANNEL_EOF || t == CHANNEL_REKEY) && n != 0) ||
	    (t == CHANNEL_REFUSE && n == 0)) {
		wipe(rec, reclen);
		return (fail(ch, CHANNEL_EFRAME));
	}
	/* Renewed credentials replace the ones of the handshake. */
	if (t == CHANNEL_CREDS) {
		if (cred_block_check(rec + CHANNEL_HDR, n) != 0) {
			wipe(rec, reclen);
			return (fail(ch, CHANNEL_EPAYLOAD));
		}
		if ((rc = peer_creds_keep(ch, rec + CHANNEL_HDR, n)) != 0)
			return (fail(ch, -rc));
	}
	/* The peer's key ends with this record: REKEY() as it did. */
	if (t == CHANNEL_REKEY)
		noise_cs_rekey(&ch->rx);
	if (t == CHANNEL_EOF)
		ch->rx_eof = 1;
	*type = (enum channel_type)t;
	*len = n;
	return (0);
}

/* Channel error names, indexed by enum channel_error. */
static const char *const error_names[] = {
	"OK", "EFRAME", "ESTATE", "EHANDSHAKE", "EPAYLOAD", "EATTEST",
	"EEXPIRED", "EPEER", "EDECRYPT", "ETYPE", "ENONCE", "ENOMEM",
	"ERANDOM", "EDENIED", "EVERSION"};

/*
 * channel_error_name(err):
 * The one word that names the (positive or negative) channel_error ${err}
 * in logs (reason=EDECRYPT) and metrics labels; "channel" if unknown.
 */
const char *
channel_error_name(int err)
{

	if (err < 0)
		err = -err;
	if ((size_t)err < sizeof(error_names) / sizeof(error_names[0]))
		return (error_names[err]);
	return ("channel");
}

/*
 * channel_strerror(err):
 * A short text for a (positive or negative) channel_error.
 */
const char *
channel_strerror(int err)
{

	if (err < 0)
		err = -err;
	switch (err) {
	case CHANNEL_OK:
		return ("success");
	case CHANNEL_EFRAME:
		return ("bad frame length or frame too large");
	case CHANNEL_ESTATE:
		return ("message out of turn or channel closed");
	case CHANNEL_EHANDSHAKE:
		return ("handshake message rejected");
	case CHANNEL_EPAYLOAD:
		return ("malformed identity payload or request");
	case CHANNEL_EATTEST:
		return ("attestation does not verify");
	case CHANNEL_EEXPIRED:
		return ("attestation expired");
	case CHANNEL_EPEER:
		return ("peer is not the expected identity");
	case CHANNEL_EDECRYPT:
		return ("record failed authentication");
	case CHANNEL_ETYPE:
		return ("unknown record type");
	case CHANNEL_ENONCE:
		return ("nonce space exhausted");
	case CHANNEL_ENOMEM:
		return ("out of memory");
	case CHANNEL_ERANDOM:
		return ("no randomness");
	case CHANNEL_EDENIED:
		return ("peer identity not named by any allow list");
	case CHANNEL_EVERSION:
		return ("peer speaks another protocol version");
	default:
		return ("unknown channel error");
	}
}
