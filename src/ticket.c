/*
 * ticket: see ticket.h.
 *
 * Replay.  The counter is the AEAD nonce, so a preamble can only be
 * replayed verbatim; the receiver remembers which counters it accepted in
 * a window below the largest (a 64-bit bitmap, as IPsec and WireGuard
 * do), refuses any counter in it twice and any counter older than it.
 * The window is checked before the tag (cheap refusal, no state change)
 * and updated only after the tag verified.
 */
#include <string.h>

#include "ticket.h"

/* Write ${v} big-endian into 8 bytes at ${p}. */
static void
put_u64be(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* Read 8 big-endian bytes at ${p}. */
static uint64_t
get_u64be(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return (v);
}

/* The AES-GCM nonce for ${counter}: 4 zero bytes, then the counter. */
static void
make_iv(uint8_t iv[CRYPTO_IV_LEN], uint64_t counter)
{

	memset(iv, 0, 4);
	put_u64be(iv + 4, counter);
}

/*
 * ticket_make(t, key):
 * Fill ${t} with a fresh random id and key (the relay's side); the key K
 * is written to ${key} once, for the ticket message: the caller sends it
 * and wipes it (${t} keeps only its key schedule).  Return 0, or -1 if no
 * randomness.
 */
int
ticket_make(struct ticket *t, uint8_t key[TICKET_KEY_LEN])
{
	uint8_t id[TICKET_ID_LEN];

	if (crypto_random(id, sizeof(id)) == -1 ||
	    crypto_random(key, TICKET_KEY_LEN) == -1) {
		wipe(key, TICKET_KEY_LEN);
		return (-1);
	}
	ticket_init(t, id, key);
	return (0);
}

/*
 * ticket_init(t, id, key):
 * Set ${t} up from a received ${id} and ${key} (the node's side; ${key}
 * is borrowed: the caller wipes it, ${t} keeps only its key schedule).
 */
void
ticket_init(struct ticket *t, const uint8_t id[TICKET_ID_LEN],
    const uint8_t key[TICKET_KEY_LEN])
{

	memset(t, 0, sizeof(*t));
	memcpy(t->id, id, TICKET_ID_LEN);
	(void)crypto_aead_init(&t->aead, CRYPTO_AESGCM, key, TICKET_KEY_LEN);
	t->next = 1;
}

/*
 * ticket_fini(t):
 * Wipe ${t}.
 */
void
ticket_fini(struct ticket *t)
{

	crypto_aead_fini(&t->aead);
	wipe(t, sizeof(*t));
}

/* Return 1 if the ${len} bytes at ${s} are a valid name, padded. */
static int
name_is_padded_text(const uint8_t *s, size_t len)
{
	size_t i, n;

	for (n = 0; n < len && s[n] != 0; n++)
		if (s[n] < 0x21 || s[n] > 0x7e)
			return (0);
	if (n == 0 || n == len)
		return (0);
	for (i = n; i < len; i++)
		if (s[i] != 0)
			return (0);
	return (1);
}

/*
 * ticket_preamble_build(t, type, name, out):
 * Write the preamble of a new data connection of ${type} (TICKET_CLIENT
 * or TICKET_POOLED) for the service ${name} (1 to TICKET_NAME_LEN - 1
 * bytes of text) to ${out}, using and advancing t->next.  Return 0, or -1
 * if ${type} or ${name} is invalid or the counters are used up.
 */
int
ticket_preamble_build(struct ticket *t, uint8_t type, const char *name,
    uint8_t out[TICKET_PREAMBLE_LEN])
{
	uint8_t iv[CRYPTO_IV_LEN];
	uint8_t *body = out + TICKET_AD_LEN;
	size_t n;

	if (type != TICKET_CLIENT && type != TICKET_POOLED)
		return (-1);
	n = strnlen(name, TICKET_NAME_LEN);
	if (n == 0 || n >= TICKET_NAME_LEN)
		return (-1);
	if (t->next == 0 || t->next == UINT64_MAX)
		return (-1);
	out[0] = type;
	memcpy(out + 1, t->id, TICKET_ID_LEN);
	put_u64be(out + 1 + TICKET_ID_LEN, t->next);
	memset(body, 0, TICKET_NAME_LEN);
	memcpy(body, name, n);
	if (!name_is_padded_text(body, TICKET_NAME_LEN))
		return (-1);
	make_iv(iv, t->next);
	crypto_aead_seal(&t->aead, iv, out, TICKET_AD_LEN, body,
	    TICKET_NAME_LEN, body + TICKET_NAME_LEN);
	t->next++;
	return (0);
}

/*
 * ticket_preamble_id(pre, type, id):
 * Read the clear part of the preamble ${pre}: its ${type} and session
 * ${id}, so the receiver can find the ticket.  Return 0, or -1 if the
 * type is neither TICKET_CLIENT nor TICKET_POOLED.
 */
int
ticket_preamble_id(const uint8_t pre[TICKET_PREAMBLE_LEN], uint8_t *type,
    uint8_t id[TICKET_ID_LEN])
{

	if (pre[0] != TICKET_CLIENT && pre[0] != TICKET_POOLED)
		return (-1);
	*type = pre[0];
	memcpy(id, pre + 1, TICKET_ID_LEN);
	return (0);
}

/* The word and bit of counter ${ctr} in the ring bitmap. */
#define SEEN_WORD(t, ctr) ((t)->seen[((ctr) % TICKET_WINDOW) / 64])
#define SEEN_BIT(ctr) ((uint64_t)1 << ((ctr) % 64))

/* Return 1 if ${ctr} may be accepted by ${t} (new, inside the window). */
static int
window_allows(const struct ticket *t, uint64_t ctr)
{

	if (ctr == 0)
		return (0);
	if (ctr > t->top)
		return (1);
	if (t->top - ctr >= TICKET_WINDOW)
		return (0);
	return ((SEEN_WORD(t, ctr) & SEEN_BIT(ctr)) == 0);
}

/*
 * Record ${ctr} (window_allows said yes) as accepted.  Moving the top up
 * forgets the counters that fall out of the window: their bits are the
 * ones the new counters reuse.
 */
static void
window_add(struct ticket *t, uint64_t ctr)
{
	uint64_t c;

	if (ctr > t->top) {
		if (ctr - t->top >= TICKET_WINDOW)
			memset(t->seen, 0, sizeof(t->seen));
		else
			for (c = t->top + 1; c <= ctr; c++)
				SEEN_WORD(t, c) &= ~SEEN_BIT(c);
		t->top = ctr;
	}
	SEEN_WORD(t, ctr) |= SEEN_BIT(ctr);
}

/*
 * ticket_preamble_check(t, pre, type, name):
 * Check the preamble ${pre} (borrowed, not modified) against ${t}: the
 * session id, the counter (never seen, within the window) and the tag;
 * then that the name is text padded with zero bytes.  On success record
 * the counter, store the type in ${type} and the name (NUL-terminated) in
 * ${name}; return 0.  Otherwise return -TICKET_E* and leave ${t}
 * unchanged.
 */
int
ticket_preamble_check(struct ticket *t,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint8_t *type,
    char name[TICKET_NAME_LEN])
{
	uint8_t iv[CRYPTO_IV_LEN], body[TICKET_NAME_LEN];
	uint64_t ctr;
	int rc;

	if (pre[0] != TICKET_CLIENT && pre[0] != TICKET_POOLED) {
		rc = -TICKET_EFORMAT;
		goto out;
	}
	/* The id is public (sent in clear); the lookup already used it. */
	if (memcmp(pre + 1, t->id, TICKET_ID_LEN) != 0) {
		rc = -TICKET_EFORMAT;
		goto out;
	}
	ctr = get_u64be(pre + 1 + TICKET_ID_LEN);
	if (!window_allows(t, ctr)) {
		rc = -TICKET_EREPLAY;
		goto out;
	}
	memcpy(body, pre + TICKET_AD_LEN, TICKET_NAME_LEN);
	make_iv(iv, ctr);
	if (crypto_aead_open(&t->aead, iv, pre, TICKET_AD_LEN, body,
	    TICKET_NAME_LEN, pre + TICKET_AD_LEN + TICKET_NAME_LEN) == -1) {
		rc = -TICKET_ETAG;
		goto out;
	}
	if (!name_is_padded_text(body, TICKET_NAME_LEN)) {
		rc = -TICKET_ENAME;
		goto out;
	}
	window_add(t, ctr);
	*type = pre[0];
	memcpy(name, body, TICKET_NAME_LEN); /* NUL-terminated: padded */
	rc = TICKET_OK;
out:
	wipe(body, sizeof(body));
	return (rc);
}

/*
 * ticket_preamble_counter(pre):
 * The counter in the clear part of the preamble ${pre} (unauthenticated
 * until ticket_preamble_check accepted it).
 */
uint64_t
ticket_preamble_counter(const uint8_t pre[TICKET_PREAMBLE_LEN])
{

	return (get_u64be(pre + 1 + TICKET_ID_LEN));
}

/*
 * ticket_refusal_encode(code, counter, out):
 * Write the refusal message for the data connection with the preamble
 * counter ${counter}, refused for ${code}, to ${out}.
 */
void
ticket_refusal_encode(uint8_t code, uint64_t counter,
    uint8_t out[TICKET_REFUSAL_LEN])
{

	out[0] = TICKET_MSG_REFUSAL;
	out[1] = code;
	put_u64be(out + 2, counter);
}

/*
 * ticket_refusal_decode(msg, len, code, counter):
 * If the session message ${msg} (${len} bytes) is a refusal, store its
 * reason in ${code} and counter in ${counter} and return 0; else -1.
 */
int
ticket_refusal_decode(const uint8_t *msg, size_t len, uint8_t *code,
    uint64_t *counter)
{

	if (len != TICKET_REFUSAL_LEN || msg[0] != TICKET_MSG_REFUSAL)
		return (-1);
	*code = msg[1];
	*counter = get_u64be(msg + 2);
	return (0);
}

/*
 * ticket_strerror(err):
 * A short word for a (positive or negative) ticket_error.
 */
const char *
ticket_strerror(int err)
{
	static const char *const names[] = {"ok", "bad-preamble", "replay",
	    "bad-ticket", "bad-name"};

	if (err < 0)
		err = -err;
	if ((size_t)err < sizeof(names) / sizeof(names[0]))
		return (names[err]);
	return ("error");
}
