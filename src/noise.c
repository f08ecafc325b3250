/*
 * noise: the Noise Protocol Framework, revision 34.  See noise.h.
 *
 * Section numbers below are those of the specification.  The handshake
 * follows WireGuard's discipline: each message is processed on a copy of
 * the state, which replaces the real one only after every token and the
 * payload have been processed and verified; stack secrets are wiped at one
 * out: label on every path; after any error the handshake refuses to go on.
 */
#include <assert.h>
#include <endian.h>
#include <stdio.h>
#include <string.h>

#include "noise.h"

/* Tokens of a message pattern (section 7.1). */
enum noise_token {
	TOK_END = 0,
	TOK_E,
	TOK_S,
	TOK_EE,
	TOK_ES,
	TOK_SE,
	TOK_SS,
	TOK_PSK
};

#define MAX_MSGS 3
#define MAX_TOKENS 4

/* hs->msg once an error (or noise_handshake_fini) ended the handshake. */
#define HS_DEAD (-1)

/*
 * A handshake pattern: its name, whether it uses static keys, whether the
 * responder's static key is a pre-message ("<- s"), whether it has a psk
 * modifier (9.2: then every "e" token also calls MixKey(e.pub)), and its
 * message patterns.  The initiator writes the even-numbered messages, the
 * responder the odd ones.
 */
struct noise_pattern_def {
	const char *name;
	int has_s;
	int pre_resp_s;
	int psk;
	int nmsg;
	uint8_t tok[MAX_MSGS][MAX_TOKENS + 1];
};

static const struct noise_pattern_def patterns[] = {
	/* NN: -> e; <- e, ee */
	[NOISE_NN] = {"NN", 0, 0, 0, 2, {{TOK_E}, {TOK_E, TOK_EE}}},
	/* XX: -> e; <- e, ee, s, es; -> s, se */
	[NOISE_XX] = {"XX", 1, 0, 0, 3,
	    {{TOK_E}, {TOK_E, TOK_EE, TOK_S, TOK_ES}, {TOK_S, TOK_SE}}},
	/* IK: <- s; ...; -> e, es, s, ss; <- e, ee, se */
	[NOISE_IK] = {"IK", 1, 1, 0, 2,
	    {{TOK_E, TOK_ES, TOK_S, TOK_SS}, {TOK_E, TOK_EE, TOK_SE}}},
	/* NNpsk0: -> psk, e; <- e, ee */
	[NOISE_NNPSK0] = {"NNpsk0", 0, 0, 1, 2,
	    {{TOK_PSK, TOK_E}, {TOK_E, TOK_EE}}},
	/* NNpsk2: -> e; <- e, ee, psk */
	[NOISE_NNPSK2] = {"NNpsk2", 0, 0, 1, 2,
	    {{TOK_E}, {TOK_E, TOK_EE, TOK_PSK}}},
	/* XXpsk3: -> e; <- e, ee, s, es; -> s, se, psk */
	[NOISE_XXPSK3] = {"XXpsk3", 1, 0, 1, 3,
	    {{TOK_E}, {TOK_E, TOK_EE, TOK_S, TOK_ES},
	    {TOK_S, TOK_SE, TOK_PSK}}},
	/* IKpsk2: <- s; ...; -> e, es, s, ss; <- e, ee, se, psk */
	[NOISE_IKPSK2] = {"IKpsk2", 1, 1, 1, 2,
	    {{TOK_E, TOK_ES, TOK_S, TOK_SS},
	    {TOK_E, TOK_EE, TOK_SE, TOK_PSK}}},
};

#define NPATTERNS ((int)(sizeof(patterns) / sizeof(patterns[0])))

static const char *const cipher_names[] = {
	[NOISE_AESGCM] = "AESGCM",
	[NOISE_CHACHAPOLY] = "ChaChaPoly",
};

/* Write the full protocol name of ${pattern} and ${cipher} into ${buf}. */
static void
protocol_name(char *buf, size_t cap, enum noise_pattern pattern,
    enum noise_cipher cipher)
{

	snprintf(buf, cap, "Noise_%s_25519_%s_SHA256", patterns[pattern].name,
	    cipher_names[cipher]);
}

/*
 * noise_protocol_parse(name, pattern, cipher):
 * Parse a full protocol name such as "Noise_XX_25519_AESGCM_SHA256".
 * Return 0, or -NOISE_EPATTERN for anything this module does not implement.
 */
int
noise_protocol_parse(const char *name, enum noise_pattern *pattern,
    enum noise_cipher *cipher)
{
	char buf[64];
	int p, c;

	/* Few enough names to compare against each in turn. */
	for (p = 0; p < NPATTERNS; p++) {
		for (c = NOISE_AESGCM; c <= NOISE_CHACHAPOLY; c++) {
			protocol_name(buf, sizeof(buf), (enum noise_pattern)p,
			    (enum noise_cipher)c);
			if (strcmp(name, buf) == 0) {
				*pattern = (enum noise_pattern)p;
				*cipher = (enum noise_cipher)c;
				return (0);
			}
		}
	}
	return (-NOISE_EPATTERN);
}

/*
 * The 96-bit AEAD nonce for counter ${n}: 4 zero bytes, then ${n} as 64
 * bits, big-endian for AESGCM and little-endian for ChaChaPoly (12.3, 12.4).
 */
static void
make_nonce(uint8_t iv[CRYPTO_IV_LEN], enum noise_cipher cipher, uint64_t n)
{
	/* One byte swap and one store: a nonce per record, so twice per
	 * round trip and process (a byte loop cost 116 instructions). */
	uint64_t v = cipher == NOISE_AESGCM ? htobe64(n) : htole64(n);

	memset(iv, 0, 4);
	memcpy(iv + 4, &v, sizeof(v));
}

/*
 * noise_cs_init(cs, cipher, k):
 * InitializeKey(k) with n = 0; ${k} NULL leaves the state without a key.
 * The key is copied (into the AEAD's key schedule).
 */
void
noise_cs_init(struct noise_cipherstate *cs, enum noise_cipher cipher,
    const uint8_t k[32])
{
	int rc;

	/* Overwrites any previous key schedule. */
	memset(cs, 0, sizeof(*cs));
	cs->cipher = cipher;
	cs->n = 0;
	cs->has_key = 0;
	if (k == NULL)
		return;
	rc = crypto_aead_init(&cs->aead,
	    cipher == NOISE_AESGCM ? CRYPTO_AESGCM : CRYPTO_CHACHAPOLY, k,
	    CRYPTO_KEY_LEN);
	/* Fails only for a bad key length, and ours is fixed. */
	assert(rc == 0);
	(void)rc;
	cs->has_key = 1;
}

/*
 * noise_cs_fini(cs):
 * Wipe the key schedule and counter.
 */
void
noise_cs_fini(struct noise_cipherstate *cs)
{

	if (cs != NULL)
		wipe(cs, sizeof(*cs));
}

/*
 * noise_cs_encrypt(cs, ad, adlen, buf, len, tag):
 * EncryptWithAd in place; the 16-byte tag goes to ${tag}.  Without a key,
 * copies nothing and returns 0 with no tag written (callers use
 * cs->has_key).  Return 0 or -NOISE_ENONCE.
 */
int
noise_cs_encrypt(struct noise_cipherstate *cs, const uint8_t *ad,
    size_t adlen, uint8_t *buf, size_t len, uint8_t tag[NOISE_TAGLEN])
{
	uint8_t iv[CRYPTO_IV_LEN];

	if (!cs->has_key)
		return (0);
	/* 2^64-1 is reserved (5.1): a nonce is never used twice. */
	if (cs->n == UINT64_MAX)
		return (-NOISE_ENONCE);
	make_nonce(iv, cs->cipher, cs->n);
	crypto_aead_seal(&cs->aead, iv, ad, adlen, buf, len, tag);
	cs->n++;
	return (0);
}

/*
 * noise_cs_decrypt(cs, ad, adlen, buf, len, tag):
 * DecryptWithAd in place.  Return 0, -NOISE_EDECRYPT (buffer wiped, nonce
 * not advanced) or -NOISE_ENONCE.
 */
int
noise_cs_decrypt(struct noise_cipherstate *cs, const uint8_t *ad,
    size_t adlen, uint8_t *buf, size_t len, const uint8_t tag[NOISE_TAGLEN])
{
	uint8_t iv[CRYPTO_IV_LEN];

	if (!cs->has_key)
		return (0);
	if (cs->n == UINT64_MAX)
		return (-NOISE_ENONCE);
	make_nonce(iv, cs->cipher, cs->n);
	/* crypto_aead_open wipes ${buf} when the tag is wrong. */
	if (crypto_aead_open(&cs->aead, iv, ad, adlen, buf, len, tag) == -1)
		return (-NOISE_EDECRYPT);
	cs->n++;
	return (0);
}

/*
 * noise_cs_rekey(cs):
 * REKEY per section 11.3: k = ENCRYPT(k, maxnonce, zerolen, zeros)[0:32].
 */
void
noise_cs_rekey(struct noise_cipherstate *cs)
{
	uint8_t iv[CRYPTO_IV_LEN];
	uint8_t k[CRYPTO_KEY_LEN], tag[CRYPTO_TAG_LEN];
	uint64_t n;

	if (!cs->has_key)
		return;

	/* Encrypt 32 zero bytes under nonce 2^64-1; the tag is dropped. */
	make_nonce(iv, cs->cipher, UINT64_MAX);
	memset(k, 0, sizeof(k));
	crypto_aead_seal(&cs->aead, iv, "", 0, k, sizeof(k), tag);

	/* New key schedule; the counter carries on. */
	n = cs->n;
	noise_cs_init(cs, cs->cipher, k);
	cs->n = n;

	wipe(k, sizeof(k));
	wipe(tag, sizeof(tag));
}

/* InitializeSymmetric(protocol_name) (5.2). */
static void
ss_init(struct noise_symmetricstate *ss, const char *name,
    enum noise_cipher cipher)
{
	size_t len = strlen(name);

	/* h = name padded with zeros, or HASH(name) if longer than HASHLEN. */
	if (len <= NOISE_HASHLEN) {
		memset(ss->h, 0, NOISE_HASHLEN);
		memcpy(ss->h, name, len);
	} else {
		crypto_sha256(ss->h, name, len);
	}
	memcpy(ss->ck, ss->h, NOISE_HASHLEN);
	noise_cs_init(&ss->cs, cipher, NULL);
}

/* MixHash(data): h = HASH(h || data). */
static void
mix_hash(struct noise_symmetricstate *ss, const uint8_t *data, size_t len)
{

	crypto_sha256_2(ss->h, ss->h, NOISE_HASHLEN, data, len);
}

/*
 * MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k).
 * Noise's HKDF is RFC 5869 with salt = ck and empty info.
 */
static void
mix_key(struct noise_symmetricstate *ss, const uint8_t *ikm, size_t len)
{
	uint8_t out[2 * NOISE_HASHLEN];

	crypto_hkdf_sha256(out, sizeof(out), ss->ck, NOISE_HASHLEN, ikm, len,
	    "", 0);
	memcpy(ss->ck, out, NOISE_HASHLEN);
	noise_cs_init(&ss->cs, ss->cs.cipher, out + NOISE_HASHLEN);
	wipe(out, sizeof(out));
}

/*
 * MixKeyAndHash(ikm) (5.2): ck, temp_h, temp_k = HKDF(ck, ikm, 3);
 * MixHash(temp_h); InitializeKey(temp_k).  Used for the psk token.
 */
static void
mix_key_and_hash(struct noise_symmetricstate *ss, const uint8_t *ikm,
    size_t len)
{
	uint8_t out[3 * NOISE_HASHLEN];

	crypto_hkdf_sha256(out, sizeof(out), ss->ck, NOISE_HASHLEN, ikm, len,
	    "", 0);
	memcpy(ss->ck, out, NOISE_HASHLEN);
	mix_hash(ss, out + NOISE_HASHLEN, NOISE_HASHLEN);
	noise_cs_init(&ss->cs, ss->cs.cipher, out + 2 * NOISE_HASHLEN);
	wipe(out, sizeof(out));
}

/*
 * EncryptAndHash of the ${len} bytes at ${buf}, in place; with a key the
 * tag follows at ${buf} + ${len}, so the caller leaves room for it.
 */
static int
encrypt_and_hash(struct noise_symmetricstate *ss, uint8_t *buf, size_t len)
{
	int rc;

	if (ss->cs.has_key) {
		if ((rc = noise_cs_encrypt(&ss->cs, ss->h, NOISE_HASHLEN, buf,
		    len, buf + len)) != 0)
			return (rc);
		len += NOISE_TAGLEN;
	}
	mix_hash(ss, buf, len);
	return (0);
}

/*
 * DecryptAndHash of the ${ctlen} bytes at ${ct} (tag included when there is
 * a key) into ${pt}.  The ciphertext is hashed before ${pt} is written, so
 * ${pt} may overlap ${ct}.
 */
static int
decrypt_and_hash(struct noise_symmetricstate *ss, const uint8_t *ct,
    size_t ctlen, uint8_t *pt)
{
	uint8_t ad[NOISE_HASHLEN], tag[NOISE_TAGLEN];
	size_t ptlen;
	int rc;

	/* The old h is the associated data; the new one covers ${ct}. */
	memcpy(ad, ss->h, NOISE_HASHLEN);
	mix_hash(ss, ct, ctlen);
	if (!ss->cs.has_key) {
		if (ctlen > 0)
			memmove(pt, ct, ctlen);
		return (0);
	}
	assert(ctlen >= NOISE_TAGLEN);
	ptlen = ctlen - NOISE_TAGLEN;
	memcpy(tag, ct + ptlen, NOISE_TAGLEN);
	if (ptlen > 0)
		memmove(pt, ct, ptlen);
	rc = noise_cs_decrypt(&ss->cs, ad, NOISE_HASHLEN, pt, ptlen, tag);
	return (rc);
}

/* MixKey(DH(${priv}, ${pub})); an all-zero DH output aborts. */
static int
mix_dh(struct noise_symmetricstate *ss, const uint8_t *priv,
    const uint8_t *pub)
{
	uint8_t dh[NOISE_DHLEN];
	int rc = 0;

	if (crypto_x25519(dh, priv, pub) == -1)
		rc = -NOISE_EDH;
	else
		mix_key(ss, dh, sizeof(dh));
	wipe(dh, sizeof(dh));
	return (rc);
}

/*
 * Process one DH token (ee, es, se, ss) for ${hs}'s role.  The token's first
 * letter names the initiator's key, the second the responder's: a side uses
 * its own private key for its letter and the peer's public key for the other.
 */
static int
dh_token(struct noise_handshake *hs, enum noise_token tok)
{
	int init = (hs->role == NOISE_INITIATOR);
	int my_e, peer_e; /* ephemeral (1) or static (0) key on each side */

	switch (tok) {
	case TOK_EE:
		/* ee */
		my_e = 1, peer_e = 1;
		break;
	case TOK_ES:
		/* es: initiator DH(e, rs), responder DH(s, re) */
		my_e = init, peer_e = !init;
		break;
	case TOK_SE:
		/* se: initiator DH(s, re), responder DH(e, rs) */
		my_e = !init, peer_e = init;
		break;
	case TOK_SS:
		/* ss */
		my_e = 0, peer_e = 0;
		break;
	default:
		assert(0 && "not a DH token");
		return (-NOISE_ESTATE);
	}
	if (!(my_e ? hs->has_e : hs->has_s) ||
	    !(peer_e ? hs->has_re : hs->has_rs))
		return (-NOISE_EKEY);
	return (mix_dh(&hs->ss, my_e ? hs->e : hs->s,
	    peer_e ? hs->re : hs->rs));
}

/* The psk token: MixKeyAndHash(psk), or -NOISE_EKEY without one. */
static int
psk_token(struct noise_handshake *hs)
{

	if (!hs->has_psk)
		return (-NOISE_EKEY);
	mix_key_and_hash(&hs->ss, hs->psk, NOISE_PSKLEN);
	return (0);
}

/*
 * noise_handshake_set_prologue(hs, prologue, plen):
 * Restart the symmetric state of ${hs}, which has processed no message,
 * with another prologue: InitializeSymmetric(protocol_name),
 * MixHash(prologue), then the pre-messages, keeping every key.  Costs two
 * hashes, no DH: a template copy can be given a per-connection prologue.
 * Return 0 or -NOISE_ESTATE.
 */
int
noise_handshake_set_prologue(struct noise_handshake *hs,
    const uint8_t *prologue, size_t plen)
{
	char name[64];
	enum noise_cipher cipher = hs->ss.cs.cipher;

	if (hs->msg != 0)
		return (-NOISE_ESTATE);
	/* InitializeSymmetric(protocol_name); MixHash(prologue). */
	protocol_name(name, sizeof(name), hs->pattern, cipher);
	ss_init(&hs->ss, name, cipher);
	mix_hash(&hs->ss, prologue, prologue != NULL ? plen : 0);

	/* <- s (pre-message): both sides hash the responder's static key. */
	if (patterns[hs->pattern].pre_resp_s)
		mix_hash(&hs->ss, hs->role == NOISE_INITIATOR ? hs->rs :
		    hs->s_pub, NOISE_DHLEN);
	return (0);
}

/*
 * noise_handshake_init(hs, pattern, cipher, role, prologue, plen, s, rs, e):
 * Initialize with the optional local static private key ${s}, the remote
 * static public key ${rs} (IK initiator) and a fixed ephemeral private key
 * ${e} (test vectors only; NULL makes a random one when needed).  Keys are
 * copied.  Computing s.pub costs one X25519 operation: a state initialised
 * without ${e} that has processed no message may be copied by value as a
 * template for further handshakes with the same keys and prologue.
 * Return 0 or a negative noise_error.
 */
int
noise_handshake_init(struct noise_handshake *hs,
    enum noise_pattern pattern, enum noise_cipher cipher, enum noise_role role,
    const uint8_t *prologue, size_t plen, const uint8_t *s, const uint8_t *rs,
    const uint8_t *e)
{
	int init = (role == NOISE_INITIATOR);
	int rc;

	memset(hs, 0, sizeof(*hs));
	hs->msg = HS_DEAD;
	if ((int)pattern < 0 || (int)pattern >= NPATTERNS ||
	    (cipher != NOISE_AESGCM && cipher != NOISE_CHACHAPOLY) ||
	    (role != NOISE_INITIATOR && role != NOISE_RESPONDER)) {
		rc = -NOISE_EPATTERN;
		goto fail;
	}
	hs->pattern = pattern;
	hs->role = role;

	/* Keys the pattern needs: s in XX and IK, rs for the IK initiator. */
	if ((patterns[pattern].has_s && s == NULL) ||
	    (patterns[pattern].pre_resp_s && init && rs == NULL)) {
		rc = -NOISE_EKEY;
		goto fail;
	}
	if (s != NULL && patterns[pattern].has_s) {
		memcpy(hs->s, s, NOISE_DHLEN);
		if (crypto_x25519_pub(hs->s_pub, hs->s) == -1) {
			rc = -NOISE_EKEY;
			goto fail;
		}
		hs->has_s = 1;
	}
	if (rs != NULL && patterns[pattern].pre_resp_s && init) {
		memcpy(hs->rs, rs, NOISE_DHLEN);
		hs->has_rs = 1;
	}
	if (e != NULL) {
		memcpy(hs->e, e, NOISE_DHLEN);
		if (crypto_x25519_pub(hs->e_pub, hs->e) == -1) {
			rc = -NOISE_EKEY;
			goto fail;
		}
		hs->has_e = 1;
	}

	hs->ss.cs.cipher = cipher;
	hs->msg = 0;
	hs->done = 0;
	return (noise_handshake_set_prologue(hs, prologue, plen));
fail:
	noise_handshake_fini(hs);
	return (rc);
}

/*
 * noise_handshake_set_psk(hs, psk):
 * Give ${hs}, a psk pattern that has processed no message, its pre-shared
 * key ${psk} (copied; wiped by _fini).  A psk pattern without a key fails
 * at its psk token with -NOISE_EKEY.  Return 0, -NOISE_EPATTERN for a
 * pattern without psk modifier, or -NOISE_ESTATE.
 */
int
noise_handshake_set_psk(struct noise_handshake *hs,
    const uint8_t psk[NOISE_PSKLEN])
{

	if (hs->msg != 0)
		return (-NOISE_ESTATE);
	if (!patterns[hs->pattern].psk)
		return (-NOISE_EPATTERN);
	memcpy(hs->psk, psk, NOISE_PSKLEN);
	hs->has_psk = 1;
	return (0);
}

/*
 * noise_handshake_set_ephemeral(hs, e, e_pub):
 * Use the ephemeral key pair ${e}, ${e_pub} made ahead of time instead of
 * making one at the "e" token.  Return 0 or -NOISE_ESTATE.
 */
int
noise_handshake_set_ephemeral(struct noise_handshake *hs,
    const uint8_t e[NOISE_DHLEN], const uint8_t e_pub[NOISE_DHLEN])
{

	if (hs->msg == HS_DEAD || hs->done || hs->has_e)
		return (-NOISE_ESTATE);
	memcpy(hs->e, e, NOISE_DHLEN);
	memcpy(hs->e_pub, e_pub, NOISE_DHLEN);
	hs->has_e = 1;
	return (0);
}

/* Is it ${hs}'s turn to write?  The initiator writes messages 0, 2, ... */
static int
is_writer(const struct noise_handshake *hs)
{

	return ((hs->msg % 2 == 0) == (hs->role == NOISE_INITIATOR));
}

/* Length of the message the tokens ${tok} make with a ${plen}-byte payload. */
static size_t
message_len(const struct noise_handshake *hs, const uint8_t *tok,
    size_t plen)
{
	int key = hs->ss.cs.has_key;
	int psk = patterns[hs->pattern].psk;
	size_t n = 0;

	for (; *tok != TOK_END; tok++) {
		if (*tok == TOK_E) {
			n += NOISE_DHLEN;
			if (psk)
				key = 1; /* MixKey(e.pub) (9.2) */
		} else if (*tok == TOK_S)
			n += NOISE_DHLEN + (key ? NOISE_TAGLEN : 0);
		else
			key = 1; /* DH tokens and psk end in MixKey */
	}
	return (n + plen + (key ? NOISE_TAGLEN : 0));
}

/*
 * noise_handshake_write(hs, payload, plen, out, cap, outlen):
 * WriteMessage: the next message with ${payload} into ${out} (at most
 * ${cap} bytes), its length in ${outlen}.  ${payload} must not overlap
 * ${out}.  On any error the handshake is unusable.  Return 0 or a negative
 * error.
 */
int
noise_handshake_write(struct noise_handshake *hs, const uint8_t *payload,
    size_t plen, uint8_t *out, size_t cap, size_t *outlen)
{
	struct noise_handshake t;
	const uint8_t *tok;
	size_t off = 0, len;
	int rc;

	memset(&t, 0, sizeof(t));
	if (hs->msg == HS_DEAD || hs->done || !is_writer(hs)) {
		rc = -NOISE_ESTATE;
		goto out;
	}
	tok = patterns[hs->pattern].tok[hs->msg];
	if (plen > NOISE_MAX_MSG || (len = message_len(hs, tok, plen)) > cap ||
	    len > NOISE_MAX_MSG) {
		rc = -NOISE_ESPACE;
		goto out;
	}

	/* Work on a copy; it replaces *hs only once the message is built. */
	memcpy(&t, hs, sizeof(t));
	for (; *tok != TOK_END; tok++) {
		switch ((enum noise_token)*tok) {
		case TOK_E:
			/* -> e: a fresh ephemeral unless one was given */
			if (!t.has_e) {
				if (crypto_x25519_keypair(t.e, t.e_pub) == -1) {
					rc = -NOISE_ERANDOM;
					goto out;
				}
				t.has_e = 1;
			}
			memcpy(out + off, t.e_pub, NOISE_DHLEN);
			mix_hash(&t.ss, t.e_pub, NOISE_DHLEN);
			/* with a psk modifier also MixKey(e.pub) (9.2) */
			if (patterns[t.pattern].psk)
				mix_key(&t.ss, t.e_pub, NOISE_DHLEN);
			off += NOISE_DHLEN;
			break;
		case TOK_PSK:
			/* psk: MixKeyAndHash(psk) */
			if ((rc = psk_token(&t)) != 0)
				goto out;
			break;
		case TOK_S:
			/* -> s: EncryptAndHash(s.pub) */
			if (!t.has_s) {
				rc = -NOISE_EKEY;
				goto out;
			}
			memcpy(out + off, t.s_pub, NOISE_DHLEN);
			len = t.ss.cs.has_key ? NOISE_TAGLEN : 0;
			if ((rc = encrypt_and_hash(&t.ss, out + off,
			    NOISE_DHLEN)) != 0)
				goto out;
			off += NOISE_DHLEN + len;
			break;
		default:
			/* ee, es, se, ss */
			if ((rc = dh_token(&t, (enum noise_token)*tok)) != 0)
				goto out;
			break;
		}
	}

	/* payload: EncryptAndHash(payload) */
	if (plen > 0)
		memcpy(out + off, payload, plen);
	len = plen + (t.ss.cs.has_key ? NOISE_TAGLEN : 0);
	if ((rc = encrypt_and_hash(&t.ss, out + off, plen)) != 0)
		goto out;
	off += len;

	/* Commit. */
	t.msg++;
	if (t.msg == patterns[t.pattern].nmsg)
		t.done = 1;
	memcpy(hs, &t, sizeof(*hs));
	*outlen = off;
	rc = 0;
out:
	wipe(&t, sizeof(t));
	if (rc != 0)
		hs->msg = HS_DEAD;
	return (rc);
}

/*
 * noise_handshake_read(hs, msg, len, payload, cap, plen):
 * ReadMessage: process ${msg}, write the payload to ${payload}, which may
 * overlap ${msg}.  The state changes only if the whole message verifies;
 * on any error the handshake is unusable.  Return 0 or a negative error.
 */
int
noise_handshake_read(struct noise_handshake *hs, const uint8_t *msg,
    size_t len, uint8_t *payload, size_t cap, size_t *plen)
{
	struct noise_handshake t;
	const uint8_t *tok;
	size_t off = 0, n, pn;
	int rc;

	memset(&t, 0, sizeof(t));
	if (hs->msg == HS_DEAD || hs->done || is_writer(hs)) {
		rc = -NOISE_ESTATE;
		goto out;
	}
	if (len > NOISE_MAX_MSG) {
		rc = -NOISE_ESPACE;
		goto out;
	}
	tok = patterns[hs->pattern].tok[hs->msg];

	/* Work on a copy; it replaces *hs only once everything verified. */
	memcpy(&t, hs, sizeof(t));
	for (; *tok != TOK_END; tok++) {
		switch ((enum noise_token)*tok) {
		case TOK_E:
			/* <- e: re = the next 32 bytes; MixHash(re.pub) */
			if (len - off < NOISE_DHLEN) {
				rc = -NOISE_ESHORT;
				goto out;
			}
			memcpy(t.re, msg + off, NOISE_DHLEN);
			t.has_re = 1;
			mix_hash(&t.ss, t.re, NOISE_DHLEN);
			/* with a psk modifier also MixKey(re.pub) (9.2) */
			if (patterns[t.pattern].psk)
				mix_key(&t.ss, t.re, NOISE_DHLEN);
			off += NOISE_DHLEN;
			break;
		case TOK_PSK:
			/* psk: MixKeyAndHash(psk) */
			if ((rc = psk_token(&t)) != 0)
				goto out;
			break;
		case TOK_S:
			/* <- s: rs = DecryptAndHash(next 32 (+ 16) bytes) */
			n = NOISE_DHLEN + (t.ss.cs.has_key ? NOISE_TAGLEN : 0);
			if (len - off < n) {
				rc = -NOISE_ESHORT;
				goto out;
			}
			rc = decrypt_and_hash(&t.ss, msg + off, n, t.rs);
			if (rc != 0)
				goto out;
			t.has_rs = 1;
			off += n;
			break;
		default:
			/* ee, es, se, ss */
			if ((rc = dh_token(&t, (enum noise_token)*tok)) != 0)
				goto out;
			break;
		}
	}

	/* payload: DecryptAndHash(the rest) */
	n = len - off;
	if (t.ss.cs.has_key && n < NOISE_TAGLEN) {
		rc = -NOISE_ESHORT;
		goto out;
	}
	pn = n - (t.ss.cs.has_key ? NOISE_TAGLEN : 0);
	if (pn > cap) {
		rc = -NOISE_ESPACE;
		goto out;
	}
	if ((rc = decrypt_and_hash(&t.ss, msg + off, n, payload)) != 0)
		goto out;

	/* Commit. */
	t.msg++;
	if (t.msg == patterns[t.pattern].nmsg)
		t.done = 1;
	memcpy(hs, &t, sizeof(*hs));
	*plen = pn;
	rc = 0;
out:
	wipe(&t, sizeof(t));
	if (rc != 0)
		hs->msg = HS_DEAD;
	return (rc);
}

/*
 * noise_handshake_split(hs, tx, rx):
 * After the last message: Split() into the sending and receiving cipher
 * states for this role.  Return 0 or -NOISE_ESTATE.
 */
int
noise_handshake_split(struct noise_handshake *hs,
    struct noise_cipherstate *tx, struct noise_cipherstate *rx)
{
	uint8_t k[2 * NOISE_HASHLEN];
	enum noise_cipher c = hs->ss.cs.cipher;

	if (hs->msg == HS_DEAD || !hs->done)
		return (-NOISE_ESTATE);

	/* temp_k1, temp_k2 = HKDF(ck, zerolen, 2); initiator sends with k1 */
	crypto_hkdf_sha256(k, sizeof(k), hs->ss.ck, NOISE_HASHLEN, "", 0, "",
	    0);
	if (hs->role == NOISE_INITIATOR) {
		noise_cs_init(tx, c, k);
		noise_cs_init(rx, c, k + NOISE_HASHLEN);
	} else {
		noise_cs_init(tx, c, k + NOISE_HASHLEN);
		noise_cs_init(rx, c, k);
	}
	wipe(k, sizeof(k));
	return (0);
}

/*
 * noise_handshake_fini(hs):
 * Wipe every key and the chaining key; the handshake is then unusable.
 */
void
noise_handshake_fini(struct noise_handshake *hs)
{

	if (hs == NULL)
		return;
	wipe(hs, sizeof(*hs));
	hs->msg = HS_DEAD;
}
