/*
 * authority: see authority.h.
 *
 * Each channel asking "@A" + NAME becomes a session (session.h) with one
 * record of its own (struct asess): the state of its one question, the
 * answer's document, a deadline.  A question is a job (struct ajob) for
 * the worker thread (authwork.h): its store transaction (authstore_enrol,
 * _renew, _confirm), the signing inside it and the revocation list, off
 * the loop; its result comes back to the loop, which audits and answers.
 * The answer goes out a piece per ask (authmsg.h), so a node that does
 * not read holds one piece of the send buffer at most.
 *
 * The store is used on the worker thread only, one job at a time: the
 * tokens gauge's read is a job too.  The loop never waits for the store
 * (a PostgreSQL store is across the network: docs/credentials.md).
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
#include "authwork.h"
#include "identity.h"
#include "metrics.h"
#include "seterr.h"
#include "session.h"
#include "dialout.h"

/* The states of a channel's one question. */
enum {
	AS_ASK,  /* waiting for ENROL, RENEW or REVOKED */
	AS_WORK, /* the question's job is with the worker */
	AS_SEND, /* the answer goes out a piece per MORE */
	AS_DONE  /* answered or refused: waiting for the node to close */
};

struct authority;
struct ajob;

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
	struct ajob *job; /* AS_WORK: the job (authwork's, see struct ajob) */
};

/* The questions a job answers. */
enum { AJ_ENROL, AJ_RENEW, AJ_REVOKED, AJ_COUNT /* the gauge, no channel */ };

/*
 * A question's work on the worker thread.  Ownership: authwork's from
 * authwork_submit until ajob_done (authwork.h).  The loop fills the
 * question before, and reads the result after; in between it only clears
 * ${as} (the channel ended: the result is dropped), or ${a} of the count
 * job (the authority goes), under authwork_cancel.
 * ${a}'s store and key stay until authwork_quiesce(a) in authority_free.
 */
struct ajob {
	struct authwork_job w; /* first */
	struct authority *a;
	struct asess *as; /* NULL: the channel ended */
	int kind;         /* AJ_* */
	/* The question. */
	uint64_t now;
	uint64_t serial; /* RENEW, REVOKED: the credential shown (0: none) */
	uint8_t hash[CRYPTO_HASH_LEN]; /* ENROL: the secret's, wiped */
	uint8_t peer[CRED_ID_LEN];
	/* The result. */
	enum authstore_result r;
	char err[256];
	struct authstore_member m;
	char ref[AUTHTOKEN_REF_TEXT];
	uint8_t cred[CRED_MAX_LEN];
	size_t clen;
	char *text; /* the revocation list (malloc'd; NULL: none, see terr) */
	size_t tlen;
	char terr[256];
	double store_ms;
	uint64_t count; /* AJ_COUNT: the tokens outstanding */
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
	double rate, burst; /* a source's allowance (enrol_rate, _burst) */
	struct authstore *store;
	struct asess *live;
	unsigned nlive;
	struct source sources[AUTHORITY_SOURCES];
	struct log_limit anyone; /* denials strangers cause: 10 per second */
	/* The node's own credential: when to issue it again. */
	uint64_t own_renew;
	struct metrics_collector mc; /* tokens outstanding */
	struct ajob *count_job;      /* the gauge's read, if one is out */
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

/*
 * Sign the credential of the member ${m} (authstore_issue_fn; on the
 * worker, ${arg} is the job).
 */
static int
issue(void *arg, const struct authstore_member *m, uint8_t *out, size_t cap,
    size_t *len)
{
	struct ajob *j = arg;
	struct authority *a = j->a;
	struct cred c;
	int r;

	memset(&c, 0, sizeof(c));
	memcpy(c.subject, m->id, CRED_ID_LEN);
	c.serial = m->serial;
	c.not_before = j->now;
	c.not_after = j->now + a->ttl;
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

static void ajob_run(struct authwork_job *);
static void ajob_done(struct authwork_job *);

/* A job of ${kind} (AJ_*) for the worker, of ${a}, at the loop's time;
 * NULL out of memory. */
static struct ajob *
ajob_new(struct authority *a, int kind)
{
	struct ajob *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return (NULL);
	j->w.run = ajob_run;
	j->w.done = ajob_done;
	j->w.owner = a;
	j->a = a;
	j->kind = kind;
	j->now = (uint64_t)ev_now(a->e->loop);
	return (j);
}

/*
 * At scrape time: the tokens outstanding, read from the store on the
 * worker (the loop never waits for the store: a PostgreSQL store is
 * across the network); the gauge shows what the previous read found,
 * the first read sets it.  One read out at a time.
 */
static void
authority_gauges(void *arg)
{
	struct authority *a = arg;
	struct ajob *j;

	if (a->count_job != NULL || (j = ajob_new(a, AJ_COUNT)) == NULL)
		return;
	if (authwork_submit(&j->w) == -1) {
		free(j);
		return;
	}
	a->count_job = j;
}

/* Whether the source ${key} may open one more channel now. */
static int
source_allows(struct authority *a, uint64_t key, double now)
{
	struct source *s = &a->sources[key % AUTHORITY_SOURCES];

	if (s->key != key) {
		s->key = key;
		s->tokens = a->burst;
		s->at = now;
	}
	s->tokens += (now - s->at) * a->rate;
	if (s->tokens > a->burst)
		s->tokens = a->burst;
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
	if (as->job != NULL) { /* its result is dropped (ajob_done) */
		as->job->as = NULL;
		authwork_cancel(&as->job->w);
	}
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
 * The answer of the job ${j}: its credential (none for REVOKED), then the
 * revocation list; sent from its first piece.  0, or -1 (${as} ended).
 */
static int
asess_answer(struct asess *as, const struct ajob *j)
{
	struct authority *a = as->a;
	const uint8_t *cred = j->cred;
	const char *text = j->text;
	size_t clen = j->kind == AJ_REVOKED ? 0 : j->clen, tlen = j->tlen;

	if (text == NULL) {
		log_error("event=authority-error authority=%s error=\"%s\"",
		    a->name, j->terr);
		asess_refuse(as, "error");
		return (-1);
	}
	if (2 + clen + tlen > AUTHMSG_DOC_MAX ||
	    (as->doc = malloc(2 + clen + tlen)) == NULL) {
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
 * What the store transaction of the job ${j} of ${kind} ("enrol",
 * "renew", "revoked") came to: counted (${metric}), audited (allow
 * ${ok_word}), then the answer or the refusal sent.
 */
static void
asess_result(struct asess *as, const char *kind, enum metrics_id metric,
    const char *ok_word, const struct ajob *j)
{
	struct authority *a = as->a;
	enum authstore_result r = j->r;
	const char *word = authstore_result_name(r);
	char peer[IDENTITY_TEXT_SIZE];

	metrics_add(metric, 1, r == AUTHSTORE_OK ? "ok" : word, NULL, NULL);
	if (r == AUTHSTORE_ERROR || r == AUTHSTORE_UNAVAILABLE)
		log_error("event=authority-error authority=%s error=\"%s\"",
		    a->name, j->err);
	asess_audit(as, r == AUTHSTORE_OK, r == AUTHSTORE_OK ? ok_word : word,
	    kind, j->kind == AJ_ENROL ? j->ref : j->m.how,
	    r == AUTHSTORE_OK || r == AUTHSTORE_SUPERSEDED ? &j->m : NULL);
	if (r == AUTHSTORE_SUPERSEDED)
		log_warn("event=authority-member-locked authority=%s peer=%s "
		    "reason=credential-superseded", a->name,
		    identity_id_format(as->peer, peer));
	if (r == AUTHSTORE_OK)
		(void)asess_answer(as, j);
	else /* the database unreachable: as a full queue, try again */
		asess_refuse(as, r == AUTHSTORE_UNAVAILABLE ? "busy" : word);
}

/*
 * On the worker: the job's store transaction (the credential signed
 * inside it), then the revocation list for an answer.
 */
static void
ajob_run(struct authwork_job *w)
{
	struct ajob *j = (struct ajob *)w;
	struct authority *a = j->a;
	double t0 = ev_time();

	if (j->kind == AJ_COUNT) {
		j->r = authstore_tokens_outstanding(a->store, j->now,
		    &j->count, j->err, sizeof(j->err)) == 0 ? AUTHSTORE_OK :
		    AUTHSTORE_ERROR;
		return;
	}
	if (j->kind == AJ_ENROL)
		j->r = authstore_enrol(a->store, j->hash, j->peer, j->now,
		    issue, j, &j->m, j->ref, j->cred, sizeof(j->cred), &j->clen,
		    j->err, sizeof(j->err));
	else if (j->kind == AJ_RENEW)
		j->r = authstore_renew(a->store, j->peer, j->serial, j->now,
		    issue, j, &j->m, j->cred, sizeof(j->cred), &j->clen, j->err,
		    sizeof(j->err));
	else /* a member showing its credential confirms its newest serial */
		j->r = j->serial == 0 ? AUTHSTORE_OK : authstore_confirm(
		    a->store, j->peer, j->serial, j->err, sizeof(j->err));
	wipe(j->hash, sizeof(j->hash));
	if ((j->r == AUTHSTORE_OK || (j->kind == AJ_REVOKED &&
	    j->r != AUTHSTORE_SUPERSEDED)) &&
	    authstore_revoked_text(a->store, a->key.id, &j->text, &j->tlen,
	    j->terr, sizeof(j->terr)) == -1)
		j->text = NULL;
	j->store_ms = (ev_time() - t0) * 1000.;
}

/* The result of the job ${j} for its channel ${as}. */
static void
ajob_deliver(struct asess *as, struct ajob *j)
{
	struct authority *a = as->a;

	as->store_ms = j->store_ms;
	if (j->kind == AJ_ENROL)
		asess_result(as, "enrol", METRICS_AUTHORITY_ENROLMENTS,
		    "enrolled", j);
	else if (j->kind == AJ_RENEW)
		asess_result(as, "renew", METRICS_AUTHORITY_RENEWALS, "renewed",
		    j);
	else if (j->r == AUTHSTORE_SUPERSEDED) {
		memset(&j->m, 0, sizeof(j->m)); /* audited as before: none */
		asess_result(as, "revoked", METRICS_AUTHORITY_RENEWALS, NULL, j);
	} else {
		if (j->r == AUTHSTORE_ERROR || j->r == AUTHSTORE_UNAVAILABLE)
			log_error("event=authority-error authority=%s "
			    "error=\"%s\"", a->name, j->err);
		(void)asess_answer(as, j);
	}
}

/* On the loop: the job is back (authwork.h); its channel, if any. */
static void
ajob_done(struct authwork_job *w)
{
	struct ajob *j = (struct ajob *)w;

	if (j->kind == AJ_COUNT && j->a != NULL) {
		j->a->count_job = NULL;
		if (j->r == AUTHSTORE_OK)
			metrics_set(METRICS_AUTHORITY_TOKENS, (double)j->count,
			    j->a->name, NULL, NULL);
	}
	if (j->as != NULL) {
		j->as->job = NULL;
		ajob_deliver(j->as, j);
	}
	if (j->text != NULL) {
		wipe(j->text, j->tlen);
		free(j->text);
	}
	wipe(j, sizeof(*j));
	free(j);
}

/*
 * Whether ${issuer} is this authority: its key, or during a key rotation
 * another identifier [authorities] gives its name (the previous key's,
 * whose credentials it renews: docs/credentials.md).
 */
static int
is_this_authority(const struct authority *a, const uint8_t *issuer)
{
	const struct config_authority *ca;

	if (memcmp(issuer, a->key.id, CRED_ID_LEN) == 0)
		return (1);
	ca = config_authority_find(a->e->cfg, issuer);
	return (ca != NULL && strcmp(ca->name, a->name) == 0);
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
		    !is_this_authority(a, c.issuer))
			continue;
		if (memcmp(c.subject, as->peer, CRED_ID_LEN) != 0 ||
		    c.not_after + a->e->cfg->node.credential_skew <= now ||
		    cred_verify_sig(buf, len) == -1)
			return (0);
		return (c.serial);
	}
	return (0);
}

/*
 * The question ${kind} (AJ_*) of ${as} to the worker: the secret's hash
 * ${hash} for ENROL (else NULL), the credential shown (RENEW, REVOKED).
 * The worker's queue full: refused "busy" (the node retries later).
 */
static void
asess_ask(struct asess *as, int kind, const uint8_t *hash)
{
	struct authority *a = as->a;
	static const char *const kinds[] = {"enrol", "renew", "revoked"};
	struct ajob *j;

	if ((j = ajob_new(a, kind)) == NULL) {
		asess_refuse(as, "error");
		return;
	}
	j->as = as;
	memcpy(j->peer, as->peer, CRED_ID_LEN);
	if (hash != NULL)
		memcpy(j->hash, hash, CRYPTO_HASH_LEN);
	j->serial = kind == AJ_ENROL ? 0 : shown_serial(as);
	if (kind == AJ_RENEW && j->serial == 0) {
		metrics_add(METRICS_AUTHORITY_RENEWALS, 1, "no-credential",
		    NULL, NULL);
		asess_audit(as, 0, "no-credential", "renew", NULL, NULL);
		asess_refuse(as, "no-credential");
		free(j);
		return;
	}
	if (authwork_submit(&j->w) == -1) {
		wipe(j, sizeof(*j));
		free(j);
		metrics_add(kind == AJ_ENROL ? METRICS_AUTHORITY_ENROLMENTS :
		    METRICS_AUTHORITY_RENEWALS, 1, "busy", NULL, NULL);
		asess_audit(as, 0, "busy", kinds[kind], NULL, NULL);
		asess_refuse(as, "busy");
		return;
	}
	as->job = j;
	as->state = AS_WORK;
}

static void
asess_message(struct session *s, const uint8_t *data, size_t len)
{
	struct asess *as = session_arg(s);
	struct authmsg m;
	uint8_t hash[CRYPTO_HASH_LEN];

	if (authmsg_parse(data, len, &m) == -1)
		goto bad;
	if (as->state == AS_ASK && m.type == AUTHMSG_ENROL) {
		asess_wait(as);
		authtoken_hash(m.secret, hash);
		asess_ask(as, AJ_ENROL, hash);
		wipe(hash, sizeof(hash));
	} else if (as->state == AS_ASK && m.type == AUTHMSG_RENEW) {
		asess_wait(as);
		asess_ask(as, AJ_RENEW, NULL);
	} else if (as->state == AS_ASK && m.type == AUTHMSG_REVOKED) {
		asess_wait(as);
		asess_ask(as, AJ_REVOKED, NULL);
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
	a->rate = conf->rate;
	a->burst = conf->burst;
	snprintf(a->name, sizeof(a->name), "%s", conf->name);
	snprintf(a->service, sizeof(a->service), "%s%s", AUTHMSG_PREFIX,
	    conf->name);
	log_limit_init(&a->anyone, 10);
	/* At start (before the sandbox); a reload finds it made. */
	if (authwork_start(e->loop, msg, sizeof(msg)) == -1) {
		seterr(err, errlen, "authority %s: %s", conf->name, msg);
		goto fail0;
	}
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
		if (a->count_job != NULL) { /* its result is dropped */
			a->count_job->a = NULL;
			authwork_cancel(&a->count_job->w);
		}
		authwork_quiesce(a); /* the store and key: the worker is done */
		(void)front_register(a->f, &authority_kind, NULL, NULL);
		a->e->own_len = 0;
		env_creds_present(a->e, block, &blen);
	}
	authstore_close(a->store);
	identity_fini(&a->key);
	wipe(a, sizeof(*a));
	free(a);
}
