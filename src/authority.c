/*
 * authority: see authority.h.
 *
 * Each channel asking "@A" + NAME becomes a session (session.h) with one
 * record of its own (struct asess): the state of its one question, the
 * answer's document, a deadline.  A question is one store transaction
 * (authstore_enrol, _renew, _revoked_text) run on the loop; the answer
 * goes out a piece per ask (authmsg.h), so a node that does not read
 * holds one piece of the send buffer at most.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authmsg.h"
#include "authority.h"
#include "authstore.h"
#include "authtoken.h"
#include "identity.h"
#include "metrics.h"
#include "seterr.h"
#include "session.h"
#include "dialout.h"

/* The states of a channel's one question. */
enum {
	AS_ASK,  /* waiting for ENROL, RENEW or REVOKED */
	AS_SEND, /* the answer goes out a piece per MORE */
	AS_DONE  /* answered or refused: waiting for the node to close */
};

struct authority;

/* One channel being served. */
struct asess {
	struct authority *a;
	struct session *s;
	struct asess *lprev, *lnext; /* authority's live list */
	ev_timer timer; /* the deadline of the message awaited */
	int state;
	uint8_t peer[CRED_ID_LEN];
	char src[ADDR_TEXT_MAX + 16];
	uint8_t *doc; /* the answer (malloc'd), ${dlen} bytes */
	size_t dlen;
	uint32_t next; /* the offset of the next piece */
	double store_ms; /* the last store call's time (its audit line) */
};

/* A source's allowance of new channels (a token bucket). */
struct source {
	uint64_t key; /* sock_source_key; 0: free */
	double tokens;
	double at;
};

struct authority {
	struct env *e;
	struct front *f;
	char name[CONFIG_NAME_MAX];
	char service[CONFIG_NAME_MAX + 2]; /* "@A" + NAME: audit lines */
	struct identity key;               /* the authority key */
	uint64_t ttl;
	struct authstore *store;
	struct asess *live;
	unsigned nlive;
	struct source sources[AUTHORITY_SOURCES];
	struct log_limit anyone; /* denials strangers cause: 10 per second */
	/* The node's own credential: when to issue it again. */
	uint64_t own_renew;
	uint64_t now; /* the time of the issue in progress */
	struct metrics_collector mc; /* tokens outstanding */
	int serving;                 /* authority_serve was called */
};

/* The request kind: what an unknown peer asking "@A" is audited as. */
static size_t
authority_claim(const uint8_t *req, size_t len, const char **why,
    unsigned *code)
{

	(void)req;
	(void)why;
	(void)code;
	return (len < 2 ? len : 2);
}

/*
 * authority_kind:
 * "@A" + NAME; strangers are let through the handshake: they enrol.
 */
const struct front_kind authority_kind = {AUTHMSG_PREFIX, "authority",
	authority_claim, 1};

/* Attributes as "k=v,k2=v2" into ${buf} ("-" if none). */
static void
attrs_text(const struct cred_attr *attrs, size_t n, char *buf, size_t cap)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < n && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s=%s",
		    i > 0 ? "," : "", attrs[i].key, attrs[i].value);
	if (n == 0)
		snprintf(buf, cap, "-");
}

/* Sign the credential of the member ${m} (authstore_issue_fn). */
static int
issue(void *arg, const struct authstore_member *m, uint8_t *out, size_t cap,
    size_t *len)
{
	struct authority *a = arg;
	struct cred c;
	int r;

	memset(&c, 0, sizeof(c));
	memcpy(c.subject, m->id, CRED_ID_LEN);
	c.serial = m->serial;
	c.not_before = a->now;
	c.not_after = a->now + a->ttl;
	c.nattrs = m->nattrs;
	memcpy(c.attrs, m->attrs, m->nattrs * sizeof(c.attrs[0]));
	r = cred_sign(&c, a->key.priv, out, cap, len);
	return (r);
}

/*
 * Issue the node its own credential (authority=NAME, a serial of the
 * upper half, which the store's counter never reaches) and present it.
 */
static int
issue_own(struct authority *a)
{
	struct env *e = a->e;
	struct cred c;
	uint8_t buf[CRED_MAX_LEN], block[CRED_BLOCK_MAX];
	char serial[CRED_SERIAL_TEXT];
	size_t len, blen;

	memset(&c, 0, sizeof(c));
	memcpy(c.subject, env_local(e)->id, CRED_ID_LEN);
	if (crypto_random(&c.serial, sizeof(c.serial)) == -1)
		return (-1);
	c.serial |= UINT64_C(1) << 63;
	c.not_before = (uint64_t)ev_now(e->loop);
	c.not_after = c.not_before + a->ttl;
	c.nattrs = 1;
	snprintf(c.attrs[0].key, sizeof(c.attrs[0].key), "authority");
	snprintf(c.attrs[0].value, sizeof(c.attrs[0].value), "%s", a->name);
	if (cred_sign(&c, a->key.priv, buf, sizeof(buf), &len) == -1)
		return (-1);
	memcpy(e->own_cred, buf, len);
	e->own_len = len;
	env_creds_present(e, block, &blen);
	if (blen > 0) {
		(void)env_send_creds(e, block, blen);
		(void)dialout_send_creds_all(e, block, blen);
	}
	a->own_renew = c.not_before + a->ttl / 2;
	log_info("event=authority-credential authority=%s serial=%s "
	    "not_after=%" PRIu64, a->name, cred_serial_format(c.serial,
	    serial), c.not_after);
	return (0);
}

/* At scrape time: the tokens outstanding (a store read). */
static void
authority_gauges(void *arg)
{
	struct authority *a = arg;
	char err[256];
	uint64_t n;

	if (authstore_tokens_outstanding(a->store,
	    (uint64_t)ev_now(a->e->loop), &n, err, sizeof(err)) == 0)
		metrics_set(METRICS_AUTHORITY_TOKENS, (double)n, a->name, NULL,
		    NULL);
}

/* Whether the source ${key} may open one more channel now. */
static int
source_allows(struct authority *a, uint64_t key, double now)
{
	struct source *s = &a->sources[key % AUTHORITY_SOURCES];

	if (s->key != key) {
		s->key = key;
		s->tokens = AUTHORITY_BURST;
		s->at = now;
	}
	s->tokens += (now - s->at) * AUTHORITY_RATE;
	if (s->tokens > AUTHORITY_BURST)
		s->tokens = AUTHORITY_BURST;
	s->at = now;
	if (s->tokens < 1.)
		return (0);
	s->tokens -= 1.;
	return (1);
}

/* End and free ${as}. */
static void
asess_free(struct asess *as)
{
	struct authority *a = as->a;

	ev_timer_stop(a->e->loop, &as->timer);
	session_free(as->s);
	if (as->lprev != NULL)
		as->lprev->lnext = as->lnext;
	else
		a->live = as->lnext;
	if (as->lnext != NULL)
		as->lnext->lprev = as->lprev;
	a->nlive--;
	if (as->doc != NULL)
		wipe(as->doc, as->dlen);
	free(as->doc);
	free(as);
	env_idle(a->e);
}

/* The next message is due within AUTHORITY_TIMEOUT. */
static void
asess_wait(struct asess *as)
{

	ev_timer_stop(as->a->e->loop, &as->timer);
	ev_timer_set(&as->timer, AUTHORITY_TIMEOUT, 0.);
	ev_timer_start(as->a->e->loop, &as->timer);
}

static void
asess_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct asess *as = w->data;

	(void)loop;
	(void)revents;
	log_debug("event=authority-timeout authority=%s src=%s", as->a->name,
	    as->src);
	asess_free(as);
}

/* Refuse the question of ${as} with the audit word ${why}. */
static void
asess_refuse(struct asess *as, const char *why)
{
	struct authmsg m;
	uint8_t msg[AUTHMSG_MAX];
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = AUTHMSG_REFUSE;
	snprintf(m.reason, sizeof(m.reason), "%s", why);
	if (authmsg_encode(&m, msg, &len) == 0)
		(void)session_send(as->s, msg, len);
	as->state = AS_DONE;
}

/* Send the piece of the answer at as->next. */
static void
asess_piece(struct asess *as)
{
	uint8_t msg[AUTHMSG_MAX];
	size_t len;

	if (authmsg_piece(as->doc, as->dlen, as->next, msg, &len) == -1 ||
	    session_send(as->s, msg, len) == -1) {
		asess_free(as);
		return;
	}
	as->next += (uint32_t)(len - AUTHMSG_PIECE_HDR);
	as->state = as->next == as->dlen ? AS_DONE : AS_SEND;
	asess_wait(as);
}

/*
 * The answer: the credential ${cred} (${clen} bytes, 0: none), then the
 * revocation list; sent from its first piece.  0, or -1 (${as} ended).
 */
static int
asess_answer(struct asess *as, const uint8_t *cred, size_t clen)
{
	struct authority *a = as->a;
	char *text = NULL, err[256];
	size_t tlen = 0;

	if (authstore_revoked_text(a->store, a->key.id, &text, &tlen, err,
	    sizeof(err)) == -1) {
		log_error("event=authority-error authority=%s error=\"%s\"",
		    a->name, err);
		asess_refuse(as, "error");
		return (-1);
	}
	if (2 + clen + tlen > AUTHMSG_DOC_MAX ||
	    (as->doc = malloc(2 + clen + tlen)) == NULL) {
		free(text);
		asess_refuse(as, "error");
		return (-1);
	}
	as->doc[0] = (uint8_t)(clen >> 8);
	as->doc[1] = (uint8_t)clen;
	if (clen > 0) /* none for REVOKED */
		memcpy(as->doc + 2, cred, clen);
	if (tlen > 0)
		memcpy(as->doc + 2 + clen, text, tlen);
	as->dlen = 2 + clen + tlen;
	free(text);
	as->next = 0;
	asess_piece(as);
	return (0);
}

/* The audit line of a question: kind, ref, attrs, serial. */
static void
asess_audit(struct asess *as, int allow, const char *reason,
    const char *kind, const char *ref, const struct authstore_member *m)
{
	struct authority *a = as->a;
	char note[2048], attrs[CRED_MAX_ATTRS * (CRED_KEY_MAX +
	    CRED_VALUE_MAX + 2) + 2], serial[CRED_SERIAL_TEXT];

	if (m != NULL)
		attrs_text(m->attrs, m->nattrs, attrs, sizeof(attrs));
	if (ref != NULL && strncmp(ref, "token:", 6) == 0)
		ref += 6; /* how a member joined: its token's reference */
	snprintf(note, sizeof(note), " kind=%s ref=%s attrs=%s serial=%s "
	    "src=%s store_ms=%.2f", kind, ref != NULL && ref[0] != '\0' ?
	    ref : "-", m != NULL ? attrs : "-", m != NULL && m->serial != 0 ?
	    cred_serial_format(m->serial, serial) : "-", as->src,
	    as->store_ms);
	/* A stranger's failed attempts are rate limited. */
	env_audit_note(a->e, allow ? NULL : &a->anyone, allow, reason,
	    as->peer, a->service, "authority", note);
}

/*
 * What a store transaction of ${kind} ("enrol", "renew") came to: ${r}
 * (the message ${err} for AUTHSTORE_ERROR) for the member ${m} with the
 * reference ${ref}: counted (${metric}), audited (allow ${ok_word}), then
 * the credential ${cred} (${clen} bytes, CRED_MAX_LEN wiped here; NULL:
 * none) answered or the refusal sent.
 */
static void
asess_result(struct asess *as, const char *kind, enum metrics_id metric,
    const char *ok_word, enum authstore_result r, const char *err,
    const struct authstore_member *m, const char *ref, uint8_t *cred,
    size_t clen)
{
	struct authority *a = as->a;
	const char *word = authstore_result_name(r);
	char peer[IDENTITY_TEXT_SIZE];

	metrics_add(metric, 1, r == AUTHSTORE_OK ? "ok" : word, NULL, NULL);
	if (r == AUTHSTORE_ERROR)
		log_error("event=authority-error authority=%s error=\"%s\"",
		    a->name, err);
	asess_audit(as, r == AUTHSTORE_OK, r == AUTHSTORE_OK ? ok_word : word,
	    kind, ref, r == AUTHSTORE_OK || r == AUTHSTORE_SUPERSEDED ? m :
	    NULL);
	if (r == AUTHSTORE_SUPERSEDED)
		log_warn("event=authority-member-locked authority=%s peer=%s "
		    "reason=credential-superseded", a->name,
		    identity_id_format(as->peer, peer));
	if (r == AUTHSTORE_OK)
		(void)asess_answer(as, cred, clen);
	else
		asess_refuse(as, word);
	if (cred != NULL)
		wipe(cred, CRED_MAX_LEN);
}

/* ENROL: one store transaction, then the answer. */
static void
asess_enrol(struct asess *as, const uint8_t secret[AUTHMSG_SECRET_LEN])
{
	struct authority *a = as->a;
	struct authstore_member m;
	uint8_t hash[CRYPTO_HASH_LEN], cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT] = "", err[256];
	enum authstore_result r;
	size_t clen = 0;
	double t0;

	authtoken_hash(secret, hash);
	memset(&m, 0, sizeof(m));
	a->now = (uint64_t)ev_now(a->e->loop);
	t0 = ev_time();
	r = authstore_enrol(a->store, hash, as->peer, a->now, issue, a, &m,
	    ref, cred, sizeof(cred), &clen, err, sizeof(err));
	as->store_ms = (ev_time() - t0) * 1000.;
	wipe(hash, sizeof(hash));
	asess_result(as, "enrol", METRICS_AUTHORITY_ENROLMENTS, "enrolled", r,
	    err, &m, ref, cred, clen);
}

/*
 * The serial of the credential from this authority that the channel of
 * ${as} showed for its own identifier (verified, not expired), or 0.
 */
static uint64_t
shown_serial(struct asess *as)
{
	struct authority *a = as->a;
	const uint8_t *block, *buf;
	size_t blen, len, off = 0;
	uint64_t now = (uint64_t)ev_now(a->e->loop);
	struct cred c;

	if ((block = session_peer_creds(as->s, &blen)) == NULL)
		return (0);
	while (cred_block_next(block, blen, &off, &buf, &len) == 1) {
		if (cred_decode(&c, buf, len, NULL) == -1 ||
		    memcmp(c.issuer, a->key.id, CRED_ID_LEN) != 0)
			continue;
		if (memcmp(c.subject, as->peer, CRED_ID_LEN) != 0 ||
		    c.not_after + a->e->cfg->node.credential_skew <= now ||
		    cred_verify_sig(buf, len) == -1)
			return (0);
		return (c.serial);
	}
	return (0);
}

/* RENEW: the credential shown decides; one store transaction. */
static void
asess_renew(struct asess *as)
{
	struct authority *a = as->a;
	struct authstore_member m;
	uint8_t cred[CRED_MAX_LEN];
	char err[256];
	enum authstore_result r;
	uint64_t serial;
	size_t clen = 0;
	double t0;

	memset(&m, 0, sizeof(m));
	if ((serial = shown_serial(as)) == 0) {
		metrics_add(METRICS_AUTHORITY_RENEWALS, 1, "no-credential",
		    NULL, NULL);
		asess_audit(as, 0, "no-credential", "renew", NULL, NULL);
		asess_refuse(as, "no-credential");
		return;
	}
	a->now = (uint64_t)ev_now(a->e->loop);
	t0 = ev_time();
	r = authstore_renew(a->store, as->peer, serial, a->now, issue, a, &m,
	    cred, sizeof(cred), &clen, err, sizeof(err));
	as->store_ms = (ev_time() - t0) * 1000.;
	asess_result(as, "renew", METRICS_AUTHORITY_RENEWALS, "renewed", r,
	    err, &m, m.how, cred, clen);
}

/*
 * REVOKED: a member (or any node that trusts us) fetches the list.  A
 * member showing its credential confirms its newest serial (an older one
 * is a clone: the member is locked, as in a renewal).
 */
static void
asess_revoked(struct asess *as)
{
	struct authority *a = as->a;
	enum authstore_result r;
	char err[256];
	uint64_t serial;

	if ((serial = shown_serial(as)) != 0) {
		r = authstore_confirm(a->store, as->peer, serial, err,
		    sizeof(err));
		if (r == AUTHSTORE_ERROR)
			log_error("event=authority-error authority=%s "
			    "error=\"%s\"", a->name, err);
		if (r == AUTHSTORE_SUPERSEDED) {
			asess_result(as, "revoked", METRICS_AUTHORITY_RENEWALS,
			    NULL, r, err, NULL, NULL, NULL, 0);
			return;
		}
	}
	(void)asess_answer(as, NULL, 0);
}

static void
asess_message(struct session *s, const uint8_t *data, size_t len)
{
	struct asess *as = session_arg(s);
	struct authmsg m;

	if (authmsg_parse(data, len, &m) == -1)
		goto bad;
	if (as->state == AS_ASK && m.type == AUTHMSG_ENROL) {
		asess_wait(as);
		asess_enrol(as, m.secret);
	} else if (as->state == AS_ASK && m.type == AUTHMSG_RENEW) {
		asess_wait(as);
		asess_renew(as);
	} else if (as->state == AS_ASK && m.type == AUTHMSG_REVOKED) {
		asess_wait(as);
		asess_revoked(as);
	} else if (as->state == AS_SEND && m.type == AUTHMSG_MORE &&
	    m.offset == as->next)
		asess_piece(as);
	else
		goto bad;
	wipe(&m, sizeof(m));
	return;
bad:
	wipe(&m, sizeof(m));
	log_limited(&as->a->anyone, ev_now(as->a->e->loop), LOG_LVL_WARN,
	    "event=authority-bad-message authority=%s src=%s", as->a->name,
	    as->src);
	asess_free(as);
}

static void
asess_dead(struct session *s, const char *reason)
{
	struct asess *as = session_arg(s);

	(void)reason;
	as->s = NULL; /* session_free below: the reaper has it */
	session_free(s);
	asess_free(as);
}

static const struct session_ops asess_ops = {
	.message = asess_message,
	.dead = asess_dead,
};

/*
 * The front's take for "@A": a channel asking for this authority by name
 * becomes a session; another name is not ours (the front refuses it).
 */
static int
authority_take(void *arg, struct conn *c)
{
	struct authority *a = arg;
	const uint8_t *req;
	uint8_t rest[256];
	char src[ADDR_TEXT_MAX + 16], note[ADDR_TEXT_MAX + 32];
	struct channel *ch;
	struct asess *as;
	size_t len = 0, restlen;
	int fd;

	req = channel_request(c->ch, &len);
	if (req == NULL || len != strlen(a->service) ||
	    memcmp(req, a->service, len) != 0)
		return (0);
	if (a->nlive >= AUTHORITY_MAX_SESSIONS ||
	    !source_allows(a, c->src, ev_now(a->e->loop))) {
		metrics_add(METRICS_REFUSED, 1, "authority",
		    a->nlive >= AUTHORITY_MAX_SESSIONS ? "max-connections" :
		    "rate-limited", NULL);
		(void)conn_src_text(c, src, sizeof(src));
		snprintf(note, sizeof(note), " src=%s", src);
		env_audit_note(a->e, &a->anyone, 0, a->nlive >=
		    AUTHORITY_MAX_SESSIONS ? "max-connections" : "rate-limited",
		    channel_peer_id(c->ch), a->service, "authority", note);
		c->quiet = 1;
		conn_drop(c, CONN_R_DENIED);
		return (1);
	}
	if ((as = calloc(1, sizeof(*as))) == NULL) {
		c->quiet = 1;
		conn_drop(c, CONN_R_NOMEM);
		return (1);
	}
	as->a = a;
	memcpy(as->peer, channel_peer_id(c->ch), CRED_ID_LEN);
	(void)conn_src_text(c, as->src, sizeof(as->src));
	if (conn_detach(c, &fd, &ch, rest, sizeof(rest), &restlen) == -1) {
		free(as);
		return (1);
	}
	if ((as->s = session_new(conn_ctx_reaper(&a->e->ctx), fd, ch, 0.,
	    &asess_ops, as, rest, restlen)) == NULL) {
		free(as);
		return (1);
	}
	ev_timer_init(&as->timer, asess_timeout_cb, AUTHORITY_TIMEOUT, 0.);
	as->timer.data = as;
	as->state = AS_ASK;
	as->lnext = a->live;
	if (a->live != NULL)
		a->live->lprev = as;
	a->live = as;
	a->nlive++;
	ev_timer_start(a->e->loop, &as->timer);
	return (1);
}

struct authority *
authority_new(struct env *e, const struct authority_conf *conf, char *err,
    size_t errlen)
{
	struct authority *a;
	char msg[1024];

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		seterr(err, errlen, "out of memory");
		return (NULL);
	}
	a->e = e;
	a->ttl = conf->ttl;
	snprintf(a->name, sizeof(a->name), "%s", conf->name);
	snprintf(a->service, sizeof(a->service), "%s%s", AUTHMSG_PREFIX,
	    conf->name);
	log_limit_init(&a->anyone, 10);
	if (identity_load(&a->key, conf->key, 0, msg, sizeof(msg)) == -1) {
		seterr(err, errlen, "authority %s: %s", conf->name, msg);
		goto fail0;
	}
	if (authstore_open(&a->store, conf->store, msg, sizeof(msg)) == -1) {
		seterr(err, errlen, "authority %s: %s", conf->name, msg);
		goto fail1;
	}
	return (a);
fail1:
	identity_fini(&a->key);
fail0:
	free(a);
	return (NULL);
}

void
authority_serve(struct authority *a, struct front *f)
{

	a->f = f;
	if (issue_own(a) == -1)
		log_error("event=authority-error authority=%s error=\"cannot "
		    "issue the node's credential\"", a->name);
	if (front_register(f, &authority_kind, authority_take, a) == -1)
		log_error("event=authority-error authority=%s error=\"too "
		    "many request kinds\"", a->name);
	metrics_collector_add(&a->mc, authority_gauges, a);
	a->serving = 1;
}

void
authority_restart(struct authority *a)
{

	if (a != NULL && a->serving && issue_own(a) == -1)
		log_error("event=authority-error authority=%s error=\"cannot "
		    "issue the node's credential\"", a->name);
}

void
authority_expire(struct authority *a)
{

	if (a != NULL && a->serving &&
	    (uint64_t)ev_now(a->e->loop) >= a->own_renew && issue_own(a) == -1)
		log_error("event=authority-error authority=%s error=\"cannot "
		    "issue the node's credential\"", a->name);
}

unsigned
authority_live(const struct authority *a)
{

	return (a != NULL ? a->nlive : 0);
}

void
authority_free(struct authority *a)
{
	uint8_t block[CRED_BLOCK_MAX];
	size_t blen;

	if (a == NULL)
		return;
	if (a->serving) {
		metrics_collector_remove(&a->mc);
		while (a->live != NULL)
			asess_free(a->live);
		(void)front_register(a->f, &authority_kind, NULL, NULL);
		a->e->own_len = 0;
		env_creds_present(a->e, block, &blen);
	}
	authstore_close(a->store);
	identity_fini(&a->key);
	wipe(a, sizeof(*a));
	free(a);
}
