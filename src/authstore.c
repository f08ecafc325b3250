/*
 * authstore: the authority's store of members and enrolment tokens: the
 * rules of enrolment and renewal, once, over a database backend (authdb.h:
 * authsqlite, one SQLite file; authpg, a PostgreSQL database several
 * replicas share).  See authstore.h.
 *
 * Attributes are stored as text, "key=value" separated by spaces (neither
 * character is in the attribute alphabets), and checked again when read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authdb.h"
#include "authstore.h"
#include "authtoken.h"
#include "config.h"
#include "cred.h"
#include "identity.h"
#include "seterr.h"

/* A transaction a backend says may be tried again, at most this often. */
#define AUTHSTORE_TRIES 5

struct authstore {
	const struct authdb_ops *ops;
	struct authdb *db;
	int retry;       /* the last error: AUTHDB_RETRY, AUTHDB_UNAVAILABLE */
	int unavailable; /* the last transaction's: the database was */
	char where[256]; /* for messages: the path, or the redacted URI */
};

/* Arguments of a statement: a literal array and its length. */
#define ARG_INT(v) {AUTHDB_INT, (int64_t)(v), NULL, 0}
#define ARG_BLOB(b, len) {AUTHDB_BLOB, 0, (b), (len)}
#define ARG_TEXT(t) {AUTHDB_TEXT, 0, (t), strlen(t)}
#define ARGS(...) (const struct authdb_arg[]){__VA_ARGS__}, \
	(int)(sizeof((const struct authdb_arg[]){__VA_ARGS__}) / \
	sizeof(struct authdb_arg))
#define NOARGS NULL, 0

/*
 * authstore_result_name(r):
 * The word for ${r} that audit lines use as reason=.
 */
const char *
authstore_result_name(enum authstore_result r)
{

	switch (r) {
	case AUTHSTORE_OK:
		return ("ok");
	case AUTHSTORE_ERROR:
		return ("store-error");
	case AUTHSTORE_NO_TOKEN:
		return ("no-token");
	case AUTHSTORE_TOKEN_EXPIRED:
		return ("token-expired");
	case AUTHSTORE_TOKEN_USED:
		return ("token-used");
	case AUTHSTORE_ALREADY_MEMBER:
		return ("already-member");
	case AUTHSTORE_NOT_MEMBER:
		return ("not-member");
	case AUTHSTORE_REMOVED:
		return ("member-removed");
	case AUTHSTORE_LOCKED:
		return ("member-locked");
	case AUTHSTORE_SUPERSEDED:
		return ("credential-superseded");
	case AUTHSTORE_UNAVAILABLE:
		return ("store-unavailable");
	}
	return ("?");
}

/*
 * authstore_state_name(state):
 * "active", "removed" or "locked" (or "?").
 */
const char *
authstore_state_name(int state)
{

	if (state == AUTHSTORE_MEMBER_ACTIVE)
		return ("active");
	if (state == AUTHSTORE_MEMBER_REMOVED)
		return ("removed");
	if (state == AUTHSTORE_MEMBER_LOCKED)
		return ("locked");
	return ("?");
}

/* Report the backend's last error about ${what} into ${err}. */
static void
dberr(struct authstore *s, const char *what, char *err, size_t errlen)
{

	s->retry = s->ops->error(s->db, what, err, errlen);
}

/*
 * Run statement ${i} with its arguments and read its first row: 1 (the
 * row is readable until done(s)), 0 (no row), or -1 with a message about
 * ${what}.  After 0 and -1 the statement is done.
 */
static int
first(struct authstore *s, int i, const struct authdb_arg *a, int n,
    const char *what, char *err, size_t errlen)
{
	int rc = -1;

	if (s->ops->exec(s->db, i, a, n) == 0)
		rc = s->ops->row(s->db);
	if (rc == -1)
		dberr(s, what, err, errlen);
	if (rc != 1)
		s->ops->reset(s->db);
	return (rc);
}

static void
done(struct authstore *s)
{

	s->ops->reset(s->db);
}

/* Run statement ${i} to its end (its rows not wanted): 0 or -1. */
static int
run(struct authstore *s, int i, const struct authdb_arg *a, int n,
    const char *what, char *err, size_t errlen)
{
	int rc;

	if ((rc = first(s, i, a, n, what, err, errlen)) != 1)
		return (rc);
	while ((rc = s->ops->row(s->db)) == 1)
		;
	if (rc == -1)
		dberr(s, what, err, errlen);
	done(s);
	return (rc);
}

/* BEGIN (SQLite: IMMEDIATE, the write lock now). */
static int
tx_begin(struct authstore *s, char *err, size_t errlen)
{

	return (run(s, AUTHDB_BEGIN, NOARGS, "begin", err, errlen));
}

static int
tx_commit(struct authstore *s, char *err, size_t errlen)
{

	return (run(s, AUTHDB_COMMIT, NOARGS, "commit", err, errlen));
}

/* Undo the open transaction, if any. */
static void
tx_rollback(struct authstore *s)
{
	char err[8];

	done(s);
	if (s->ops->in_tx(s->db))
		(void)run(s, AUTHDB_ROLLBACK, NOARGS, "rollback", err,
		    sizeof(err));
}

/*
 * Whether the transaction that came to ${r} is tried again: the backend
 * said so (another replica's concurrent transaction), at most
 * AUTHSTORE_TRIES in all (*${n} counts them; a connection lost in a
 * statement is one of those: the next try connects again at once).  An
 * unreachable database is not tried again here (the backoff is the
 * backend's).
 */
static int
again(struct authstore *s, enum authstore_result r, int *n)
{
	int retry = r == AUTHSTORE_ERROR ? s->retry : 0;

	s->retry = 0;
	s->unavailable = retry == AUTHDB_UNAVAILABLE;
	return (retry == AUTHDB_RETRY && ++*n < AUTHSTORE_TRIES);
}

/* ${r}, or AUTHSTORE_UNAVAILABLE for an error of an unreachable database. */
static enum authstore_result
outcome(struct authstore *s, enum authstore_result r)
{

	return (r == AUTHSTORE_ERROR && s->unavailable ?
	    AUTHSTORE_UNAVAILABLE : r);
}

/*
 * Encode ${n} attributes into ${out} ("k=v k=v"), checking each (valid
 * key and value, distinct keys, at most CRED_MAX_ATTRS).  0, or -1.
 */
static int
attrs_encode(const struct cred_attr *a, size_t n, char *out, size_t cap)
{
	size_t i, j, len = 0;
	int w;

	out[0] = '\0';
	if (n > CRED_MAX_ATTRS)
		return (-1);
	for (i = 0; i < n; i++) {
		if (!cred_key_is_valid(a[i].key) ||
		    !cred_value_is_valid(a[i].value))
			return (-1);
		for (j = 0; j < i; j++)
			if (strcmp(a[i].key, a[j].key) == 0)
				return (-1);
		w = snprintf(out + len, cap - len, "%s%s=%s", i > 0 ? " " : "",
		    a[i].key, a[i].value);
		if (w < 0 || (size_t)w >= cap - len)
			return (-1);
		len += (size_t)w;
	}
	return (0);
}

/* The longest encoded attribute set, with its NUL. */
#define ATTRS_TEXT (CRED_MAX_ATTRS * (CRED_KEY_MAX + CRED_VALUE_MAX + 2))

/* The message for a set of attributes attrs_encode refuses. */
static void
bad_attrs(struct authstore *s, char *err, size_t errlen)
{

	seterr(err, errlen, "%s: bad attributes (at most %d, keys of a-z 0-9 "
	    "_ -, values of A-Z a-z 0-9 . _ : / -, distinct keys)", s->where,
	    CRED_MAX_ATTRS);
}

/* Decode the attribute text ${t} into ${a}/${n}: 0, or -1 if corrupt. */
static int
attrs_decode(const char *t, struct cred_attr *a, size_t *n)
{
	const char *sp, *eq;
	size_t kl, vl;

	*n = 0;
	while (t != NULL && *t != '\0') {
		if (*n == CRED_MAX_ATTRS)
			return (-1);
		sp = strchr(t, ' ');
		vl = sp != NULL ? (size_t)(sp - t) : strlen(t);
		if ((eq = memchr(t, '=', vl)) == NULL)
			return (-1);
		kl = (size_t)(eq - t);
		vl -= kl + 1;
		if (kl > CRED_KEY_MAX || vl > CRED_VALUE_MAX)
			return (-1);
		memcpy(a[*n].key, t, kl);
		a[*n].key[kl] = '\0';
		memcpy(a[*n].value, eq + 1, vl);
		a[*n].value[vl] = '\0';
		if (!cred_key_is_valid(a[*n].key) ||
		    !cred_value_is_valid(a[*n].value))
			return (-1);
		(*n)++;
		t = sp != NULL ? sp + 1 : NULL;
	}
	return (0);
}

/* Copy column ${c} (text) into ${out} of ${cap} bytes, cut. */
static void
column_text(struct authstore *s, int c, char *out, size_t cap)
{
	size_t n;
	const char *t = s->ops->col_bytes(s->db, c, &n);

	snprintf(out, cap, "%.*s", t != NULL ? (int)n : 0, t != NULL ? t : "");
}

/* Decode column ${c}'s attribute text into ${a}/${n}: 0, or -1. */
static int
column_attrs(struct authstore *s, int c, struct cred_attr *a, size_t *n)
{
	char text[ATTRS_TEXT];
	size_t len;
	const char *t = s->ops->col_bytes(s->db, c, &len);

	if (t == NULL || len >= sizeof(text))
		return (-1);
	memcpy(text, t, len);
	text[len] = '\0';
	return (attrs_decode(text, a, n));
}

/* The current row of AUTHDB_MEMBER_COLUMNS into ${m}: 0, or -1. */
static int
member_row(struct authstore *s, struct authstore_member *m)
{
	const void *id;
	size_t n;

	memset(m, 0, sizeof(*m));
	if ((id = s->ops->col_bytes(s->db, 0, &n)) == NULL ||
	    n != CRED_ID_LEN)
		return (-1);
	memcpy(m->id, id, CRED_ID_LEN);
	if (column_attrs(s, 1, m->attrs, &m->nattrs) == -1)
		return (-1);
	m->state = (int)s->ops->col_int(s->db, 2);
	m->joined = (uint64_t)s->ops->col_int(s->db, 3);
	column_text(s, 4, m->how, sizeof(m->how));
	m->serial = (uint64_t)s->ops->col_int(s->db, 5);
	m->previous = (uint64_t)s->ops->col_int(s->db, 6);
	m->confirmed = (int)s->ops->col_int(s->db, 7);
	return (0);
}

/* The current row of AUTHDB_TOKEN_COLUMNS into ${t}: 0, or -1. */
static int
token_row(struct authstore *s, struct authstore_token *t)
{
	int64_t uses = s->ops->col_int(s->db, 2);

	memset(t, 0, sizeof(*t));
	column_text(s, 0, t->ref, sizeof(t->ref));
	if (column_attrs(s, 1, t->attrs, &t->nattrs) == -1 || uses < 0 ||
	    uses > 0xffffffffLL)
		return (-1);
	t->uses = (unsigned)uses;
	t->expiry = (uint64_t)s->ops->col_int(s->db, 3);
	t->created = (uint64_t)s->ops->col_int(s->db, 4);
	column_text(s, 5, t->creator, sizeof(t->creator));
	t->revoked = (int)s->ops->col_int(s->db, 6);
	return (0);
}

/*
 * authstore_redact(where, out, cap):
 * ${where} for messages, without a password (see authstore.h).
 */
char *
authstore_redact(const char *where, char *out, size_t cap)
{
	const char *p, *q, *at = NULL, *colon = NULL, *end;
	size_t len, n;

	if (!config_store_is_postgres(where)) {
		snprintf(out, cap, "%s", where);
		return (out);
	}
	/* scheme://[user[:password]@]host[/db][?query]: ${at} its last '@'. */
	p = strstr(where, "://") + 3;
	end = p + strcspn(p, "?");
	for (q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at != NULL)
		colon = memchr(p, ':', (size_t)(at - p));
	if (colon != NULL)
		len = (size_t)snprintf(out, cap, "%.*s:***%.*s",
		    (int)(colon - where), where, (int)(end - at), at);
	else
		len = (size_t)snprintf(out, cap, "%.*s", (int)(end - where),
		    where);
	/* The query: each NAME=VALUE as it is, but password's value. */
	for (p = end; *p != '\0' && len < cap; p += n) {
		n = 1 + strcspn(p + 1, "&");
		if (strncmp(p + 1, "password=", 9) == 0)
			len += (size_t)snprintf(out + len, cap - len,
			    "%cpassword=***", *p);
		else
			len += (size_t)snprintf(out + len, cap - len, "%.*s",
			    (int)n, p);
	}
	return (out);
}

/*
 * authstore_open(s, where, err, errlen):
 * Open the store ${where}: a PostgreSQL URI, else an SQLite file.  Return
 * 0 and the store in *${s}, or -1 with "WHERE: message" in ${err}.
 */
int
authstore_open(struct authstore **sp, const char *where, char *err,
    size_t errlen)
{
	struct authstore *s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seterr(err, errlen, "out of memory");
		return (-1);
	}
	s->ops = config_store_is_postgres(where) ? &authpg_ops :
	    &authsqlite_ops;
	authstore_redact(where, s->where, sizeof(s->where));
	if (s->ops->open(&s->db, where, err, errlen) == -1) {
		free(s);
		return (-1);
	}
	*sp = s;
	return (0);
}

/*
 * authstore_busy_timeout(s, ms):
 * How long a call waits for a lock another process holds.
 */
void
authstore_busy_timeout(struct authstore *s, int ms)
{

	s->ops->busy(s->db, ms);
}

/*
 * authstore_close(s):
 * Close the store; NULL does nothing.
 */
void
authstore_close(struct authstore *s)
{

	if (s == NULL)
		return;
	s->ops->close(s->db);
	free(s);
}

/*
 * authstore_token_add(s, hash, attrs, nattrs, uses, expiry, creator, now,
 *     err, errlen):
 * Store a token by the SHA-256 of its secret.
 */
enum authstore_result
authstore_token_add(struct authstore *s, const uint8_t hash[CRYPTO_HASH_LEN],
    const struct cred_attr *attrs, size_t nattrs, unsigned uses,
    uint64_t expiry, const char *creator, uint64_t now, char *err,
    size_t errlen)
{
	char text[ATTRS_TEXT], ref[AUTHTOKEN_REF_TEXT];

	if (attrs_encode(attrs, nattrs, text, sizeof(text)) == -1 ||
	    uses == 0) {
		seterr(err, errlen, "%s: bad token: at most %d valid "
		    "attributes with distinct keys, at least one use",
		    s->where, CRED_MAX_ATTRS);
		return (AUTHSTORE_ERROR);
	}
	authtoken_ref(hash, ref);
	if (run(s, AUTHDB_TOKEN_ADD, ARGS(ARG_BLOB(hash, CRYPTO_HASH_LEN),
	    ARG_TEXT(ref), ARG_TEXT(text), ARG_INT(uses), ARG_INT(expiry),
	    ARG_INT(now), {AUTHDB_TEXT, 0, creator, strnlen(creator,
	    AUTHSTORE_CREATOR_MAX)}), "adding a token", err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	return (AUTHSTORE_OK);
}

/*
 * authstore_token_revoke(s, ref, err, errlen):
 * Revoke the token whose reference is ${ref}: no use is left.
 */
enum authstore_result
authstore_token_revoke(struct authstore *s, const char *ref, char *err,
    size_t errlen)
{

	if (run(s, AUTHDB_TOKEN_REVOKE, ARGS(ARG_TEXT(ref)),
	    "revoking a token", err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	return (s->ops->changes(s->db) == 1 ? AUTHSTORE_OK :
	    AUTHSTORE_NO_TOKEN);
}

/*
 * authstore_tokens_outstanding(s, now, n, err, errlen):
 * The number of usable tokens at ${now} in *${n}.  0 or -1.
 */
int
authstore_tokens_outstanding(struct authstore *s, uint64_t now, uint64_t *n,
    char *err, size_t errlen)
{

	int rc;

	if ((rc = first(s, AUTHDB_TOKEN_COUNT, ARGS(ARG_INT(now)),
	    "counting tokens", err, errlen)) != 1) {
		if (rc == 0)
			seterr(err, errlen, "%s: counting tokens: no answer",
			    s->where);
		return (-1);
	}
	*n = (uint64_t)s->ops->col_int(s->db, 0);
	done(s);
	return (0);
}

/*
 * Run the SELECT ${i} over its rows, calling ${row}(${s}, ${arg}) for
 * each until it returns non-zero: 0, or -1 with a message about ${what}
 * (a database error, or ${row} returned -1).
 */
static int
rows_each(struct authstore *s, int i, const char *what,
    int (*row)(struct authstore *, void *), void *arg, char *err,
    size_t errlen)
{
	int rc, r = 0;

	if ((rc = first(s, i, NOARGS, what, err, errlen)) != 1)
		return (rc);
	do
		r = row(s, arg);
	while (r == 0 && (rc = s->ops->row(s->db)) == 1);
	if (r == -2)
		seterr(err, errlen, "%s: %s: a corrupt row", s->where, what);
	else if (r == 0 && rc == -1)
		dberr(s, what, err, errlen);
	done(s);
	return (r < 0 || (r == 0 && rc == -1) ? -1 : 0);
}

/* The caller's function and argument, for the row converters below. */
struct each {
	int (*token)(void *, const struct authstore_token *);
	int (*member)(void *, const struct authstore_member *);
	void *arg;
};

/* A token row to the caller's function: its value, or -2 if corrupt. */
static int
each_token(struct authstore *s, void *arg)
{
	struct each *e = arg;
	struct authstore_token t;

	if (token_row(s, &t) == -1)
		return (-2);
	return (e->token(e->arg, &t));
}

/* A member row to the caller's function: its value, or -2 if corrupt. */
static int
each_member(struct authstore *s, void *arg)
{
	struct each *e = arg;
	struct authstore_member m;

	if (member_row(s, &m) == -1)
		return (-2);
	return (e->member(e->arg, &m));
}

/*
 * authstore_token_each(s, fn, arg, err, errlen):
 * Call ${fn}(${arg}, token) for every token until it returns non-zero.
 */
int
authstore_token_each(struct authstore *s,
    int (*fn)(void *, const struct authstore_token *), void *arg, char *err,
    size_t errlen)
{
	struct each e = {fn, NULL, arg};

	return (rows_each(s, AUTHDB_TOKEN_EACH, "listing tokens", each_token,
	    &e, err, errlen));
}

/*
 * Look ${id} up inside the open transaction (PostgreSQL: its row locked
 * until the end of it): AUTHSTORE_OK with *${m} and (if ${cred} is not
 * NULL) the stored newest credential copied into ${cred}/${len},
 * AUTHSTORE_NOT_MEMBER, or AUTHSTORE_ERROR.
 */
static enum authstore_result
member_find(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    struct authstore_member *m, uint8_t *cred, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	enum authstore_result r = AUTHSTORE_OK;
	const void *c;
	size_t n;
	int rc;

	if ((rc = first(s, AUTHDB_MEMBER_GET, ARGS(ARG_BLOB(id, CRED_ID_LEN)),
	    "reading a member", err, errlen)) != 1)
		return (rc == 0 ? AUTHSTORE_NOT_MEMBER : AUTHSTORE_ERROR);
	if (member_row(s, m) == -1) {
		seterr(err, errlen, "%s: a corrupt member row", s->where);
		r = AUTHSTORE_ERROR;
		goto out;
	}
	if (cred != NULL) {
		c = s->ops->col_bytes(s->db, 8, &n);
		if (c == NULL || n == 0 || n > cap) {
			seterr(err, errlen, "%s: the member's stored "
			    "credential is missing or too large", s->where);
			r = AUTHSTORE_ERROR;
			goto out;
		}
		memcpy(cred, c, n);
		*len = n;
	}
out:
	done(s);
	return (r);
}

/*
 * Inside the open transaction: allocate a serial for the member ${m}, have
 * ${issue} sign, and store the credential as its newest (the old newest
 * becoming the previous).  0, or -1 with a message.
 */
static int
member_issue(struct authstore *s, struct authstore_member *m,
    authstore_issue_fn issue, void *arg, uint8_t *cred, size_t cap,
    size_t *len, char *err, size_t errlen)
{
	int64_t serial;

	if (first(s, AUTHDB_SERIAL_NEXT, NOARGS, "allocating a serial", err,
	    errlen) != 1)
		return (-1);
	serial = s->ops->col_int(s->db, 0);
	done(s);
	if (serial <= 0) {
		seterr(err, errlen, "%s: allocating a serial: a corrupt "
		    "counter", s->where);
		return (-1);
	}
	if (run(s, AUTHDB_ISSUED_ADD, ARGS(ARG_INT(serial), ARG_BLOB(m->id,
	    CRED_ID_LEN)), "recording a serial", err, errlen) == -1)
		return (-1);
	m->previous = m->serial;
	m->serial = (uint64_t)serial;
	m->confirmed = 0;
	*len = 0;
	if (issue(arg, m, cred, cap, len) == -1 || *len == 0 || *len > cap) {
		seterr(err, errlen, "%s: the credential could not be signed",
		    s->where);
		return (-1);
	}
	return (run(s, AUTHDB_MEMBER_ISSUED, ARGS(ARG_BLOB(m->id, CRED_ID_LEN),
	    ARG_INT(serial), ARG_BLOB(cred, *len)), "storing a credential",
	    err, errlen));
}

/*
 * One try of authstore_enrol (see there).
 *
 * The token is found by the SHA-256 of the secret the node sent, through
 * the table's primary key: the secret itself is never compared, so the
 * time taken depends on the hash (which the node cannot steer towards a
 * stored one without knowing a secret) and not on how many leading bytes
 * of the secret match; that lookup is our constant-time comparison.
 * PostgreSQL: the token's row is locked (FOR UPDATE) until the commit,
 * so replicas enrolling with one token at once take its uses in turn.
 */
static enum authstore_result
enrol_once(struct authstore *s, const uint8_t hash[CRYPTO_HASH_LEN],
    const uint8_t id[CRED_ID_LEN], uint64_t now, authstore_issue_fn issue,
    void *arg, struct authstore_member *m, char ref[AUTHTOKEN_REF_TEXT],
    uint8_t *cred, size_t cap, size_t *len, char *err, size_t errlen)
{
	struct authstore_token t;
	struct authstore_member old;
	char text[ATTRS_TEXT];
	enum authstore_result r;
	int rc;

	ref[0] = '\0';
	*len = 0;
	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);

	/* The token: known, not revoked, unexpired, a use left. */
	if ((rc = first(s, AUTHDB_TOKEN_GET, ARGS(ARG_BLOB(hash,
	    CRYPTO_HASH_LEN)), "reading a token", err, errlen)) == 0) {
		r = AUTHSTORE_NO_TOKEN;
		goto refuse;
	}
	if (rc == -1)
		goto fail;
	rc = token_row(s, &t);
	done(s);
	if (rc == -1) {
		seterr(err, errlen, "%s: a corrupt token row", s->where);
		goto fail;
	}
	snprintf(ref, AUTHTOKEN_REF_TEXT, "%s", t.ref);
	if (t.revoked) {
		r = AUTHSTORE_NO_TOKEN;
		goto refuse;
	}
	if (t.expiry <= now) {
		r = AUTHSTORE_TOKEN_EXPIRED;
		goto refuse;
	}

	/*
	 * The member this token made, asking again before it ever showed
	 * its credential: its answer was lost (the authority stopped, the
	 * channel broke).  The same credential again; nothing changes.
	 */
	if ((r = member_find(s, id, &old, cred, cap, len, err, errlen)) ==
	    AUTHSTORE_ERROR)
		goto fail;
	if (r == AUTHSTORE_OK && old.state == AUTHSTORE_MEMBER_ACTIVE &&
	    !old.confirmed && *len > 0 && strncmp(old.how, "token:", 6) == 0 &&
	    strcmp(old.how + 6, t.ref) == 0) {
		*m = old;
		tx_rollback(s);
		return (AUTHSTORE_OK);
	}
	*len = 0;
	if (t.uses == 0) {
		r = AUTHSTORE_TOKEN_USED;
		goto refuse;
	}

	/* Not a member in any state. */
	if (r != AUTHSTORE_NOT_MEMBER) {
		if (r == AUTHSTORE_OK)
			r = AUTHSTORE_ALREADY_MEMBER;
		goto refuse;
	}

	/* One use taken, the member added, a serial, the credential. */
	if (run(s, AUTHDB_TOKEN_USE, ARGS(ARG_BLOB(hash, CRYPTO_HASH_LEN)),
	    "using a token", err, errlen) == -1)
		goto fail;
	if (s->ops->changes(s->db) != 1) {
		seterr(err, errlen, "%s: the token changed under us",
		    s->where);
		goto fail;
	}
	memset(m, 0, sizeof(*m));
	memcpy(m->id, id, CRED_ID_LEN);
	m->nattrs = t.nattrs;
	memcpy(m->attrs, t.attrs, sizeof(m->attrs));
	m->state = AUTHSTORE_MEMBER_ACTIVE;
	m->joined = now;
	snprintf(m->how, sizeof(m->how), "token:%s", t.ref);
	if (attrs_encode(m->attrs, m->nattrs, text, sizeof(text)) == -1) {
		bad_attrs(s, err, errlen);
		goto fail;
	}
	if (run(s, AUTHDB_MEMBER_ADD, ARGS(ARG_BLOB(id, CRED_ID_LEN),
	    ARG_TEXT(text), ARG_INT(now), ARG_TEXT(m->how)), "adding a member",
	    err, errlen) == -1)
		goto fail;
	if (member_issue(s, m, issue, arg, cred, cap, len, err, errlen) == -1)
		goto fail;
	if (tx_commit(s, err, errlen) == -1)
		goto fail;
	return (AUTHSTORE_OK);
fail:
	r = AUTHSTORE_ERROR;
	*len = 0;
refuse:
	tx_rollback(s);
	return (r);
}

/*
 * authstore_enrol(s, hash, id, now, issue, arg, m, ref, cred, cap, len,
 *     err, errlen):
 * Enrolment, one transaction (see authstore.h), tried again while the
 * backend says another replica's transaction was in its way.
 */
enum authstore_result
authstore_enrol(struct authstore *s, const uint8_t hash[CRYPTO_HASH_LEN],
    const uint8_t id[CRED_ID_LEN], uint64_t now, authstore_issue_fn issue,
    void *arg, struct authstore_member *m, char ref[AUTHTOKEN_REF_TEXT],
    uint8_t *cred, size_t cap, size_t *len, char *err, size_t errlen)
{
	enum authstore_result r;
	int n = 0;

	do
		r = enrol_once(s, hash, id, now, issue, arg, m, ref, cred,
		    cap, len, err, errlen);
	while (again(s, r, &n));
	return (outcome(s, r));
}

/* What a presented serial is to a member (presented()). */
enum presented {
	P_NEWEST,   /* its newest, or nothing was issued yet */
	P_PREVIOUS, /* the one before, while the newest was never presented */
	P_OLDER     /* anything else: another holder of the key */
};

/*
 * Inside the open transaction: ${id} must be an active member (*${m});
 * what ${serial} is to it in *${p}.  AUTHSTORE_OK, or the refusal
 * (NOT_MEMBER, REMOVED, LOCKED) or AUTHSTORE_ERROR.
 */
static enum authstore_result
presented(struct authstore *s, const uint8_t id[CRED_ID_LEN], uint64_t serial,
    struct authstore_member *m, enum presented *p, char *err, size_t errlen)
{
	enum authstore_result r;

	if ((r = member_find(s, id, m, NULL, 0, NULL, err, errlen)) !=
	    AUTHSTORE_OK)
		return (r);
	if (m->state != AUTHSTORE_MEMBER_ACTIVE)
		return (m->state == AUTHSTORE_MEMBER_REMOVED ?
		    AUTHSTORE_REMOVED : AUTHSTORE_LOCKED);
	if (serial == m->serial || m->serial == 0)
		*p = P_NEWEST;
	else if (serial == m->previous && !m->confirmed)
		*p = P_PREVIOUS;
	else
		*p = P_OLDER;
	return (AUTHSTORE_OK);
}

/*
 * Inside the open transaction: lock the member ${m} (two holders of one
 * key) and commit.  AUTHSTORE_SUPERSEDED, or AUTHSTORE_ERROR (rolled
 * back).
 */
static enum authstore_result
member_lock(struct authstore *s, struct authstore_member *m, char *err,
    size_t errlen)
{

	if (run(s, AUTHDB_MEMBER_STATE, ARGS(ARG_BLOB(m->id, CRED_ID_LEN),
	    ARG_INT(AUTHSTORE_MEMBER_LOCKED)), "locking a member", err,
	    errlen) == -1 || tx_commit(s, err, errlen) == -1) {
		tx_rollback(s);
		return (AUTHSTORE_ERROR);
	}
	m->state = AUTHSTORE_MEMBER_LOCKED;
	return (AUTHSTORE_SUPERSEDED);
}

/* One try of authstore_renew (see there). */
static enum authstore_result
renew_once(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    uint64_t serial, authstore_issue_fn issue, void *arg,
    struct authstore_member *m, uint8_t *cred, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	enum authstore_result r;
	enum presented p;

	*len = 0;
	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	if ((r = presented(s, id, serial, m, &p, err, errlen)) !=
	    AUTHSTORE_OK)
		goto refuse;

	/* The newest (so now confirmed): a new one, unconfirmed. */
	if (p == P_NEWEST) {
		if (member_issue(s, m, issue, arg, cred, cap, len, err,
		    errlen) == -1 || tx_commit(s, err, errlen) == -1)
			goto fail;
		return (AUTHSTORE_OK);
	}

	/* The node never got the newest: the same answer again. */
	if (p == P_PREVIOUS) {
		r = member_find(s, id, m, cred, cap, len, err, errlen);
		tx_rollback(s);
		return (r == AUTHSTORE_OK ? AUTHSTORE_OK : AUTHSTORE_ERROR);
	}
	return (member_lock(s, m, err, errlen));
fail:
	r = AUTHSTORE_ERROR;
	*len = 0;
refuse:
	tx_rollback(s);
	return (r);
}

/*
 * authstore_renew(s, id, serial, now, issue, arg, m, cred, cap, len, err,
 *     errlen):
 * Renewal, one transaction (see authstore.h), tried again as enrolment.
 */
enum authstore_result
authstore_renew(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    uint64_t serial, uint64_t now, authstore_issue_fn issue, void *arg,
    struct authstore_member *m, uint8_t *cred, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	enum authstore_result r;
	int n = 0;

	(void)now;
	do
		r = renew_once(s, id, serial, issue, arg, m, cred, cap, len,
		    err, errlen);
	while (again(s, r, &n));
	return (outcome(s, r));
}

/* One try of authstore_confirm (see there). */
static enum authstore_result
confirm_once(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    uint64_t serial, char *err, size_t errlen)
{
	struct authstore_member m;
	enum authstore_result r;
	enum presented p;

	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	if ((r = presented(s, id, serial, &m, &p, err, errlen)) !=
	    AUTHSTORE_OK)
		goto out;
	if (p == P_OLDER)
		return (member_lock(s, &m, err, errlen));
	if (p == P_NEWEST && m.serial != 0 && !m.confirmed) {
		if (run(s, AUTHDB_MEMBER_CONFIRM, ARGS(ARG_BLOB(id,
		    CRED_ID_LEN)), "confirming a credential", err,
		    errlen) == -1 || tx_commit(s, err, errlen) == -1)
			r = AUTHSTORE_ERROR;
		else
			return (AUTHSTORE_OK);
	}
out:
	tx_rollback(s);
	return (r);
}

/*
 * authstore_confirm(s, id, serial, err, errlen):
 * The member ${id} presented ${serial} on a channel outside a renewal
 * (see authstore.h).
 */
enum authstore_result
authstore_confirm(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    uint64_t serial, char *err, size_t errlen)
{
	enum authstore_result r;
	int n = 0;

	do
		r = confirm_once(s, id, serial, err, errlen);
	while (again(s, r, &n));
	return (outcome(s, r));
}

/* One try of authstore_member_add (see there). */
static enum authstore_result
member_add_once(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    const char *text, uint64_t now, char *err, size_t errlen)
{
	struct authstore_member m;
	enum authstore_result r;

	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	if ((r = member_find(s, id, &m, NULL, 0, NULL, err, errlen)) !=
	    AUTHSTORE_NOT_MEMBER) {
		tx_rollback(s);
		return (r == AUTHSTORE_OK ? AUTHSTORE_ALREADY_MEMBER : r);
	}
	if (run(s, AUTHDB_MEMBER_ADD, ARGS(ARG_BLOB(id, CRED_ID_LEN),
	    ARG_TEXT(text), ARG_INT(now), ARG_TEXT("added")),
	    "adding a member", err, errlen) == -1 ||
	    tx_commit(s, err, errlen) == -1) {
		tx_rollback(s);
		return (AUTHSTORE_ERROR);
	}
	return (AUTHSTORE_OK);
}

/*
 * authstore_member_add(s, id, attrs, nattrs, now, err, errlen):
 * Add ${id} as an active member ("added", no credential yet).
 */
enum authstore_result
authstore_member_add(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    const struct cred_attr *attrs, size_t nattrs, uint64_t now, char *err,
    size_t errlen)
{
	char text[ATTRS_TEXT];
	enum authstore_result r;
	int n = 0;

	if (attrs_encode(attrs, nattrs, text, sizeof(text)) == -1) {
		bad_attrs(s, err, errlen);
		return (AUTHSTORE_ERROR);
	}
	do
		r = member_add_once(s, id, text, now, err, errlen);
	while (again(s, r, &n));
	return (outcome(s, r));
}

/* Run the one-member update ${i}: OK, NOT_MEMBER or ERROR. */
static enum authstore_result
member_update(struct authstore *s, int i, const struct authdb_arg *a, int n,
    const char *what, char *err, size_t errlen)
{

	if (run(s, i, a, n, what, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	return (s->ops->changes(s->db) == 1 ? AUTHSTORE_OK :
	    AUTHSTORE_NOT_MEMBER);
}

/*
 * authstore_member_set_attrs(s, id, attrs, nattrs, err, errlen):
 * Replace the member's attributes (the next credential carries them).
 */
enum authstore_result
authstore_member_set_attrs(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    const struct cred_attr *attrs, size_t nattrs, char *err, size_t errlen)
{
	char text[ATTRS_TEXT];

	if (attrs_encode(attrs, nattrs, text, sizeof(text)) == -1) {
		bad_attrs(s, err, errlen);
		return (AUTHSTORE_ERROR);
	}
	return (member_update(s, AUTHDB_MEMBER_ATTRS, ARGS(ARG_BLOB(id,
	    CRED_ID_LEN), ARG_TEXT(text)), "changing attributes", err,
	    errlen));
}

/*
 * authstore_member_remove(s, id, err, errlen):
 * State removed: no more renewals; its serials stay known.
 */
enum authstore_result
authstore_member_remove(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    char *err, size_t errlen)
{

	return (member_update(s, AUTHDB_MEMBER_STATE, ARGS(ARG_BLOB(id,
	    CRED_ID_LEN), ARG_INT(AUTHSTORE_MEMBER_REMOVED)),
	    "removing a member", err, errlen));
}

/*
 * authstore_member_unlock(s, id, err, errlen):
 * A locked member becomes active again.
 */
enum authstore_result
authstore_member_unlock(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    char *err, size_t errlen)
{
	struct authstore_member m;
	enum authstore_result r;

	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	if ((r = member_find(s, id, &m, NULL, 0, NULL, err, errlen)) !=
	    AUTHSTORE_OK)
		goto out;
	if (m.state == AUTHSTORE_MEMBER_REMOVED) {
		r = AUTHSTORE_REMOVED;
		goto out;
	}
	if (m.state == AUTHSTORE_MEMBER_LOCKED) {
		if ((r = member_update(s, AUTHDB_MEMBER_UNLOCK,
		    ARGS(ARG_BLOB(id, CRED_ID_LEN)), "unlocking a member", err,
		    errlen)) != AUTHSTORE_OK)
			goto out;
		if (tx_commit(s, err, errlen) == -1) {
			r = AUTHSTORE_ERROR;
			goto out;
		}
		return (AUTHSTORE_OK);
	}
out:
	tx_rollback(s);
	return (r);
}

/*
 * authstore_member_get(s, id, m, err, errlen):
 * The member ${id} into *${m}.
 */
enum authstore_result
authstore_member_get(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    struct authstore_member *m, char *err, size_t errlen)
{

	return (member_find(s, id, m, NULL, 0, NULL, err, errlen));
}

/*
 * authstore_member_each(s, fn, arg, err, errlen):
 * Call ${fn}(${arg}, member) for every member until it returns non-zero.
 */
int
authstore_member_each(struct authstore *s,
    int (*fn)(void *, const struct authstore_member *), void *arg, char *err,
    size_t errlen)
{
	struct each e = {NULL, fn, arg};

	return (rows_each(s, AUTHDB_MEMBER_EACH, "listing members",
	    each_member, &e, err, errlen));
}

/* Append the text ${t} to the growing buffer ${b}: 0, or -1 (no memory). */
struct textbuf {
	char *p;
	size_t len, cap;
};

static int
textbuf_add(struct textbuf *b, const char *t)
{
	size_t n = strlen(t);
	char *np;

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((np = realloc(b->p, b->cap)) == NULL)
			return (-1);
		b->p = np;
	}
	memcpy(b->p + b->len, t, n + 1);
	b->len += n;
	return (0);
}

/*
 * authstore_revoked_text(s, issuer, text, len, err, errlen):
 * The authority's revocation list as text (cred_revoked_parse's format).
 */
int
authstore_revoked_text(struct authstore *s, const uint8_t issuer[CRED_ID_LEN],
    char **text, size_t *len, char *err, size_t errlen)
{
	struct textbuf b = {NULL, 0, 0};
	uint8_t last[CRED_ID_LEN];
	char line[2 * IDENTITY_TEXT_SIZE + CRED_SERIAL_TEXT + 4];
	char iss[IDENTITY_TEXT_SIZE], id[IDENTITY_TEXT_SIZE];
	char ser[CRED_SERIAL_TEXT];
	const void *row;
	size_t n;
	int rc, have = 0;

	identity_id_format(issuer, iss);
	if (textbuf_add(&b, "# revoked by the authority's store\n") == -1)
		goto nomem;
	if ((rc = first(s, AUTHDB_REVOKED, NOARGS, "listing revoked members",
	    err, errlen)) == -1)
		goto fail;
	for (; rc == 1; rc = s->ops->row(s->db)) {
		if ((row = s->ops->col_bytes(s->db, 0, &n)) == NULL ||
		    n != CRED_ID_LEN) {
			seterr(err, errlen, "%s: a corrupt member row",
			    s->where);
			goto fail;
		}
		/* The identifier once, before its serials. */
		if (!have || memcmp(last, row, CRED_ID_LEN) != 0) {
			memcpy(last, row, CRED_ID_LEN);
			have = 1;
			snprintf(line, sizeof(line), "%s\n",
			    identity_id_format(last, id));
			if (textbuf_add(&b, line) == -1)
				goto nomem;
		}
		if (s->ops->col_bytes(s->db, 1, &n) == NULL)
			continue;
		snprintf(line, sizeof(line), "%s:%s\n", iss,
		    cred_serial_format((uint64_t)s->ops->col_int(s->db, 1),
		    ser));
		if (textbuf_add(&b, line) == -1)
			goto nomem;
	}
	if (rc == -1) {
		dberr(s, "listing revoked members", err, errlen);
		goto fail;
	}
	done(s);
	*text = b.p;
	*len = b.len;
	return (0);
nomem:
	seterr(err, errlen, "%s: out of memory", s->where);
fail:
	done(s);
	free(b.p);
	return (-1);
}
