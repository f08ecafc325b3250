/*
 * ticket: see ticket.h.
 *
 * Replay.  The counter is the AEAD nonce, so a preamble can only be
 * replayed verbatim.  The receiver finds a preamble's session and counter
 * through its cid, and a cid is linked into the map only while its
 * counter is expected: from when it comes within TICKET_AHEAD of the
 * largest accepted counter until it is accepted, or until it falls
 * TICKET_WINDOW - TICKET_AHEAD behind.  So a replayed or too old preamble
 * is simply not found, and the ring is the replay window (as IPsec and
 * WireGuard keep a bitmap).  The map is changed only after the tag
 * verified.
 */
#include <string.h>

#include "frame.h"
#include "ticket.h"

/* The AES-GCM nonce for ${counter}: 4 zero bytes, then the counter. */
static void
make_iv(uint8_t iv[CRYPTO_IV_LEN], uint64_t counter)
{

	memset(iv, 0, 4);
	frame_put_u64(iv + 4, counter);
}

/* Kc: the cid key, HMAC-SHA256(K, "sallyport/2 cid key"). */
#define CID_KEY_LABEL "sallyport/2 cid key"
/* cid = HMAC-SHA256(Kc, CID_LABEL || counter)[0:16]. */
#define CID_LABEL "sallyport/2 cid"
#define CID_LABEL_LEN (sizeof(CID_LABEL) - 1)

/* The word and bit of ring slot ${i} in a window's live bitmap. */
#define LIVE_WORD(w, i) ((w)->live[(i) / 64])
#define LIVE_BIT(i) ((uint64_t)1 << ((i) % 64))

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
	crypto_hmac_sha256(t->cidkey, key, TICKET_KEY_LEN, CID_KEY_LABEL,
	    sizeof(CID_KEY_LABEL) - 1);
	t->next = 1;
}

/*
 * ticket_cid(t, ctr, cid):
 * The connection identifier of counter ${ctr} under ${t}'s key.
 */
void
ticket_cid(const struct ticket *t, uint64_t ctr, uint8_t cid[TICKET_CID_LEN])
{
	uint8_t m[CID_LABEL_LEN + 8], h[CRYPTO_HASH_LEN];

	memcpy(m, CID_LABEL, CID_LABEL_LEN);
	frame_put_u64(m + CID_LABEL_LEN, ctr);
	crypto_hmac_sha256(h, t->cidkey, sizeof(t->cidkey), m, sizeof(m));
	memcpy(cid, h, TICKET_CID_LEN);
	wipe(h, sizeof(h));
}

/* The bucket of ${map} that ${cid} (a PRF output) belongs to. */
static struct ticket_slot **
map_bucket(const struct ticket_map *map, const uint8_t *cid)
{

	return (&map->b[frame_get_u64(cid) & map->mask]);
}

/* Link ring slot ${i} of ${w} (its cid written) into the map. */
static void
slot_link(struct ticket_map *map, struct ticket_window *w, size_t i)
{
	struct ticket_slot **b = map_bucket(map, w->s[i].cid);

	w->s[i].win = w;
	w->s[i].next = *b;
	*b = &w->s[i];
	LIVE_WORD(w, i) |= LIVE_BIT(i);
	map->n++;
}

/* Unlink ring slot ${i} of ${w} from the map, if it is linked. */
static void
slot_unlink(struct ticket_map *map, struct ticket_window *w, size_t i)
{
	struct ticket_slot **pp;

	if ((LIVE_WORD(w, i) & LIVE_BIT(i)) == 0)
		return;
	for (pp = map_bucket(map, w->s[i].cid); *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == &w->s[i]) {
			*pp = w->s[i].next;
			break;
		}
	}
	w->s[i].next = NULL;
	LIVE_WORD(w, i) &= ~LIVE_BIT(i);
	map->n--;
}

/*
 * ticket_map_init(map, buckets, n):
 * Set up the empty ${map} over the ${n} (a power of two) zeroed
 * ${buckets} (borrowed; they must outlive every ticket linked in).
 */
void
ticket_map_init(struct ticket_map *map, struct ticket_slot **buckets,
    size_t n)
{

	map->b = buckets;
	map->mask = n - 1;
	map->n = 0;
}

/*
 * ticket_expect(t, map, win):
 * Receiver: link the cids of ${t}'s first TICKET_AHEAD counters into
 * ${map}, in the ring ${win} (borrowed until ticket_fini; ${t} must not
 * move meanwhile).
 */
void
ticket_expect(struct ticket *t, struct ticket_map *map,
    struct ticket_window *win)
{
	uint64_t c;

	memset(win, 0, sizeof(*win));
	win->t = t;
	t->win = win;
	t->map = map;
	t->top = 0;
	for (c = 1; c <= TICKET_AHEAD; c++) {
		ticket_cid(t, c, win->s[c % TICKET_WINDOW].cid);
		slot_link(map, win, c % TICKET_WINDOW);
	}
}

/*
 * ticket_fini(t):
 * Unlink ${t}'s expected cids from its map (receiver), wipe ${t} and its
 * window.
 */
void
ticket_fini(struct ticket *t)
{
	size_t i;

	if (t->win != NULL) {
		for (i = 0; i < TICKET_WINDOW; i++)
			slot_unlink(t->map, t->win, i);
		wipe(t->win, sizeof(*t->win));
	}
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
	if (t->next == 0 || t->next >= TICKET_MAX_COUNTER)
		return (-1);
	out[0] = type;
	ticket_cid(t, t->next, out + 1);
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
 * ticket_lookup(map, pre, ctr):
 * The ticket expecting the cid of the preamble ${pre} (its counter in
 * ${ctr}), or NULL if no session expects it (an unknown, replayed or too
 * old preamble, or a version 1 one).  Costs no cryptography: one bucket.
 */
struct ticket *
ticket_lookup(const struct ticket_map *map,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint64_t *ctr)
{
	const struct ticket_slot *sl;
	const struct ticket *t;
	uint64_t hi;
	size_t i;

	if (pre[0] != TICKET_CLIENT && pre[0] != TICKET_POOLED)
		return (NULL);
	/*
	 * Expected cids of future connections are secret: compare in
	 * constant time, so a prober learns nothing of them byte by byte.
	 */
	for (sl = *map_bucket(map, pre + 1); sl != NULL; sl = sl->next) {
		if (!ct_eq(sl->cid, pre + 1, TICKET_CID_LEN))
			continue;
		/* The one counter of the window that lands in this slot. */
		t = sl->win->t;
		i = (size_t)(sl - sl->win->s);
		hi = t->top + TICKET_AHEAD;
		*ctr = hi - ((hi - i) % TICKET_WINDOW);
		return (sl->win->t);
	}
	return (NULL);
}

/*
 * Move ${t}'s window up to ${ctr}, the new largest accepted counter: the
 * cids of the counters up to ${ctr} + TICKET_AHEAD are linked, each in
 * the slot of the counter TICKET_WINDOW below it, which leaves the map.
 */
static void
window_advance(struct ticket *t, uint64_t ctr)
{
	struct ticket_window *w = t->win;
	uint64_t c, from, hi = t->top + TICKET_AHEAD;
	uint64_t to = ctr + TICKET_AHEAD;
	size_t i;

	from = to - hi > TICKET_WINDOW ? to - TICKET_WINDOW + 1 : hi + 1;
	for (c = from; c <= to; c++) {
		i = (size_t)(c % TICKET_WINDOW);
		slot_unlink(t->map, w, i);
		ticket_cid(t, c, w->s[i].cid);
		slot_link(t->map, w, i);
	}
	t->top = ctr;
}

/*
 * ticket_preamble_check(t, pre, ctr, type, name):
 * Check the preamble ${pre} (borrowed, not modified), found by
 * ticket_lookup for ${t} and counter ${ctr}: that the counter is still
 * expected, the tag, then that the name is text padded with zero bytes.
 * On success take the counter out of the map, move the window (the cids
 * of the counters now within TICKET_AHEAD of the largest accepted are
 * linked in, those that fell behind are unlinked), store the type in
 * ${type} and the name (NUL-terminated) in ${name}; return 0.  Otherwise
 * return -TICKET_E* and leave ${t} unchanged.
 */
int
ticket_preamble_check(struct ticket *t,
    const uint8_t pre[TICKET_PREAMBLE_LEN], uint64_t ctr, uint8_t *type,
    char name[TICKET_NAME_LEN])
{
	uint8_t iv[CRYPTO_IV_LEN], body[TICKET_NAME_LEN];
	size_t i = (size_t)(ctr % TICKET_WINDOW);
	int rc;

	if (pre[0] != TICKET_CLIENT && pre[0] != TICKET_POOLED) {
		rc = -TICKET_EFORMAT;
		goto out;
	}
	/* Still expected: inside the window and not seen. */
	if (t->win == NULL || ctr == 0 || ctr > t->top + TICKET_AHEAD ||
	    t->top + TICKET_AHEAD - ctr >= TICKET_WINDOW ||
	    (LIVE_WORD(t->win, i) & LIVE_BIT(i)) == 0) {
		rc = -TICKET_EREPLAY;
		goto out;
	}
	if (!ct_eq(t->win->s[i].cid, pre + 1, TICKET_CID_LEN)) {
		rc = -TICKET_EFORMAT;
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
	slot_unlink(t->map, t->win, i);
	if (ctr > t->top)
		window_advance(t, ctr);
	*type = pre[0];
	memcpy(name, body, TICKET_NAME_LEN); /* NUL-terminated: padded */
	rc = TICKET_OK;
out:
	wipe(body, sizeof(body));
	return (rc);
}

/*
 * ticket_last_counter(t):
 * Sender: the counter of the last preamble ticket_preamble_build made
 * with ${t} (0: none yet), so a refusal for it can be matched.
 */
uint64_t
ticket_last_counter(const struct ticket *t)
{

	return (t->next - 1);
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
	frame_put_u64(out + 2, counter);
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
	*counter = frame_get_u64(msg + 2);
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
