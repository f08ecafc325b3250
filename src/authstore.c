/*
 * authstore: the authority's store of members and enrolment tokens, one
 * SQLite file (WAL, synchronous=FULL, prepared statements, BEGIN
 * IMMEDIATE per enrolment and renewal).  See authstore.h.
 *
 * Schema version 1 (PRAGMA user_version):
 *   members(id, attrs, state, joined, how, serial, previous, confirmed,
 *           cred)                     one row per identity ever admitted
 *   tokens(hash, ref, attrs, uses, expiry, created, creator, revoked)
 *   issued(serial, id)                every serial issued, to whom
 *   counter(next)                     the next serial (one row)
 * Attributes are stored as text, "key=value" separated by spaces (neither
 * character is in the attribute alphabets), and checked again when read.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "authstore.h"
#include "authtoken.h"
#include "cred.h"
#include "identity.h"
#include "seterr.h"

/* The prepared statements, by index. */
enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_TOKEN_GET, S_TOKEN_USE, S_TOKEN_ADD, S_TOKEN_REVOKE, S_TOKEN_COUNT,
	S_TOKEN_EACH,
	S_SERIAL_NEXT, S_ISSUED_ADD,
	S_MEMBER_GET, S_MEMBER_ADD, S_MEMBER_ISSUED, S_MEMBER_STATE,
	S_MEMBER_UNLOCK, S_MEMBER_CONFIRM, S_MEMBER_ATTRS, S_MEMBER_EACH,
	S_REVOKED,
	S_COUNT
};

#define MEMBER_COLUMNS "id, attrs, state, joined, how, serial, previous, " \
	"confirmed, cred"
#define TOKEN_COLUMNS "ref, attrs, uses, expiry, created, creator, revoked"

static const char *const sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_TOKEN_GET] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?1",
	[S_TOKEN_USE] = "UPDATE tokens SET uses = uses - 1 "
	    "WHERE hash = ?1 AND uses > 0 AND revoked = 0",
	[S_TOKEN_ADD] = "INSERT INTO tokens(hash, ref, attrs, uses, expiry, "
	    "created, creator, revoked) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
	[S_TOKEN_REVOKE] = "UPDATE tokens SET revoked = 1, uses = 0 "
	    "WHERE ref = ?1",
	[S_TOKEN_COUNT] = "SELECT count(*) FROM tokens "
	    "WHERE revoked = 0 AND uses > 0 AND expiry > ?1",
	[S_TOKEN_EACH] = "SELECT " TOKEN_COLUMNS " FROM tokens "
	    "ORDER BY created, rowid",
	[S_SERIAL_NEXT] = "UPDATE counter SET next = next + 1 "
	    "RETURNING next - 1",
	[S_ISSUED_ADD] = "INSERT INTO issued(serial, id) VALUES(?1, ?2)",
	[S_MEMBER_GET] = "SELECT " MEMBER_COLUMNS " FROM members "
	    "WHERE id = ?1",
	[S_MEMBER_ADD] = "INSERT INTO members(" MEMBER_COLUMNS ") "
	    "VALUES(?1, ?2, 1, ?3, ?4, 0, 0, 0, NULL)",
	[S_MEMBER_ISSUED] = "UPDATE members SET previous = serial, "
	    "serial = ?2, confirmed = 0, cred = ?3 WHERE id = ?1",
	[S_MEMBER_STATE] = "UPDATE members SET state = ?2 WHERE id = ?1",
	[S_MEMBER_UNLOCK] = "UPDATE members SET state = 1, confirmed = 0 "
	    "WHERE id = ?1",
	[S_MEMBER_CONFIRM] = "UPDATE members SET confirmed = 1 WHERE id = ?1",
	[S_MEMBER_ATTRS] = "UPDATE members SET attrs = ?2 WHERE id = ?1",
	[S_MEMBER_EACH] = "SELECT " MEMBER_COLUMNS " FROM members "
	    "ORDER BY joined, rowid",
	[S_REVOKED] = "SELECT m.id, i.serial FROM members m "
	    "LEFT JOIN issued i ON i.id = m.id WHERE m.state != 1 "
	    "ORDER BY m.rowid, i.serial",
};

/* Schema version 1, made in one transaction with the version. */
static const char schema[] =
    "CREATE TABLE members ("
    " id BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 32),"
    " attrs TEXT NOT NULL,"
    " state INTEGER NOT NULL CHECK (state IN (1, 2, 3)),"
    " joined INTEGER NOT NULL,"
    " how TEXT NOT NULL,"
    " serial INTEGER NOT NULL,"
    " previous INTEGER NOT NULL,"
    " confirmed INTEGER NOT NULL,"
    " cred BLOB);"
    "CREATE TABLE tokens ("
    " hash BLOB PRIMARY KEY NOT NULL CHECK (length(hash) = 32),"
    " ref TEXT NOT NULL UNIQUE,"
    " attrs TEXT NOT NULL,"
    " uses INTEGER NOT NULL CHECK (uses >= 0),"
    " expiry INTEGER NOT NULL,"
    " created INTEGER NOT NULL,"
    " creator TEXT NOT NULL,"
    " revoked INTEGER NOT NULL);"
    "CREATE TABLE issued ("
    " serial INTEGER PRIMARY KEY NOT NULL,"
    " id BLOB NOT NULL REFERENCES members(id));"
    "CREATE INDEX issued_id ON issued(id);"
    "CREATE TABLE counter ("
    " k INTEGER PRIMARY KEY CHECK (k = 0),"
    " next INTEGER NOT NULL);"
    "PRAGMA user_version = 1;";

struct authstore {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	char path[256]; /* for messages, cut to fit */
};

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

/* Report the database's last error about ${what} into ${err}. */
static void
dberr(struct authstore *s, const char *what, char *err, size_t errlen)
{
	int code = sqlite3_extended_errcode(s->db) & 0xff;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		seterr(err, errlen, "%s: %s: the store is busy (another "
		    "process holds its lock); try again", s->path, what);
	else
		seterr(err, errlen, "%s: %s: %s", s->path, what,
		    sqlite3_errmsg(s->db));
}

/* Reset and unbind statement ${i}; return it. */
static sqlite3_stmt *
stmt(struct authstore *s, int i)
{

	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return (s->st[i]);
}

/* Run a statement with no rows (or whose rows are not wanted): 0 or -1. */
static int
run(struct authstore *s, sqlite3_stmt *q, const char *what, char *err,
    size_t errlen)
{
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		;
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		dberr(s, what, err, errlen);
		return (-1);
	}
	return (0);
}

/* BEGIN IMMEDIATE: the write lock now, so no read-then-write upgrade fails. */
static int
tx_begin(struct authstore *s, char *err, size_t errlen)
{

	return (run(s, stmt(s, S_BEGIN), "begin", err, errlen));
}

static int
tx_commit(struct authstore *s, char *err, size_t errlen)
{

	return (run(s, stmt(s, S_COMMIT), "commit", err, errlen));
}

/* Undo the open transaction, if any (every statement reset first). */
static void
tx_rollback(struct authstore *s)
{
	int i;

	for (i = 0; i < S_COUNT; i++)
		sqlite3_reset(s->st[i]);
	if (!sqlite3_get_autocommit(s->db))
		(void)run(s, stmt(s, S_ROLLBACK), "rollback", NULL, 0);
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

/* Bind the encoded attributes to parameter ${i} of ${q}: 0, or -1 if bad. */
static int
attrs_bind(sqlite3_stmt *q, int i, const struct cred_attr *a, size_t n)
{
	char text[ATTRS_TEXT];

	if (attrs_encode(a, n, text, sizeof(text)) == -1)
		return (-1);
	sqlite3_bind_text(q, i, text, -1, SQLITE_TRANSIENT);
	return (0);
}

/* The message for a set of attributes attrs_encode refuses. */
static void
bad_attrs(struct authstore *s, char *err, size_t errlen)
{

	seterr(err, errlen, "%s: bad attributes (at most %d, keys of a-z 0-9 "
	    "_ -, values of A-Z a-z 0-9 . _ : / -, distinct keys)", s->path,
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

/* Copy column ${c} of ${q} (text) into ${out} of ${cap} bytes, cut. */
static void
column_text(sqlite3_stmt *q, int c, char *out, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(q, c);

	snprintf(out, cap, "%s", t != NULL ? (const char *)t : "");
}

/* A row of MEMBER_COLUMNS into ${m}: 0, or -1 if corrupt. */
static int
member_row(sqlite3_stmt *q, struct authstore_member *m)
{

	memset(m, 0, sizeof(*m));
	if (sqlite3_column_bytes(q, 0) != CRED_ID_LEN)
		return (-1);
	memcpy(m->id, sqlite3_column_blob(q, 0), CRED_ID_LEN);
	if (attrs_decode((const char *)sqlite3_column_text(q, 1), m->attrs,
	    &m->nattrs) == -1)
		return (-1);
	m->state = sqlite3_column_int(q, 2);
	m->joined = (uint64_t)sqlite3_column_int64(q, 3);
	column_text(q, 4, m->how, sizeof(m->how));
	m->serial = (uint64_t)sqlite3_column_int64(q, 5);
	m->previous = (uint64_t)sqlite3_column_int64(q, 6);
	m->confirmed = sqlite3_column_int(q, 7);
	return (0);
}

/* A row of TOKEN_COLUMNS into ${t}: 0, or -1 if corrupt. */
static int
token_row(sqlite3_stmt *q, struct authstore_token *t)
{
	sqlite3_int64 uses = sqlite3_column_int64(q, 2);

	memset(t, 0, sizeof(*t));
	column_text(q, 0, t->ref, sizeof(t->ref));
	if (attrs_decode((const char *)sqlite3_column_text(q, 1), t->attrs,
	    &t->nattrs) == -1 || uses < 0 || uses > 0xffffffffLL)
		return (-1);
	t->uses = (unsigned)uses;
	t->expiry = (uint64_t)sqlite3_column_int64(q, 3);
	t->created = (uint64_t)sqlite3_column_int64(q, 4);
	column_text(q, 5, t->creator, sizeof(t->creator));
	t->revoked = sqlite3_column_int(q, 6);
	return (0);
}

/*
 * Check the store file ${path} the way key files are checked before
 * SQLite opens it: create it (0600) if missing; refuse anything but a
 * regular file, and a file that group or others may write.
 */
static int
file_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600)) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		seterr(err, errlen, "%s: the store is writable by %s (mode "
		    "%04o): chmod go-w %s", path,
		    (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		goto fail;
	}
	close(fd);
	return (0);
fail:
	close(fd);
	return (-1);
}

/*
 * Run the statement ${q} (a PRAGMA) once: its first row must answer
 * ${want} if not NULL, and its integer goes to *${v} if not NULL.  0 or
 * -1.
 */
static int
pragma(struct authstore *s, const char *q, const char *want, int *v,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc;

	if (sqlite3_prepare_v2(s->db, q, -1, &st, NULL) != SQLITE_OK) {
		dberr(s, q, err, errlen);
		return (-1);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && (rc != SQLITE_DONE || v != NULL)) {
		dberr(s, q, err, errlen);
		goto fail;
	}
	if (want != NULL && (rc != SQLITE_ROW ||
	    (t = sqlite3_column_text(st, 0)) == NULL ||
	    strcmp((const char *)t, want) != 0)) {
		seterr(err, errlen, "%s: %s did not answer %s", s->path, q,
		    want);
		goto fail;
	}
	if (v != NULL)
		*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (0);
fail:
	sqlite3_finalize(st);
	return (-1);
}

/*
 * Make the schema of a new store (user_version 0), in one transaction so
 * two processes opening a new file at once make it once.  The serial
 * counter starts at the creation time shifted left 20 bits: a store made
 * again later never hands out the serials of an earlier one (up to a
 * million serials per second of its age).
 */
static int
schema_make(struct authstore *s, char *err, size_t errlen)
{
	char init[96];
	int v;

	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		dberr(s, "making the schema", err, errlen);
		return (-1);
	}
	if (pragma(s, "PRAGMA user_version", NULL, &v, err, errlen) == -1)
		goto fail;
	if (v == 0) {
		snprintf(init, sizeof(init), "INSERT INTO counter(k, next) "
		    "VALUES(0, %lld)", (long long)time(NULL) << 20);
		if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) !=
		    SQLITE_OK || sqlite3_exec(s->db, init, NULL, NULL, NULL) !=
		    SQLITE_OK) {
			dberr(s, "making the schema", err, errlen);
			goto fail;
		}
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		dberr(s, "making the schema", err, errlen);
		goto fail;
	}
	return (0);
fail:
	(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/*
 * authstore_open(s, path, err, errlen):
 * Open the store ${path}, creating the file (mode 0600) and its schema if
 * it does not exist.  Return 0 and the store in *${s}, or -1 with
 * "PATH: message" in ${err}.
 */
int
authstore_open(struct authstore **sp, const char *path, char *err,
    size_t errlen)
{
	struct authstore *s;
	int i, v;

	if (file_check(path, err, errlen) == -1)
		goto fail0;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail0;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (s->db == NULL)
			seterr(err, errlen, "%s: out of memory", path);
		else
			dberr(s, "open", err, errlen);
		goto fail1;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/* Opening waits longer for another process's lock than a call. */
	sqlite3_busy_timeout(s->db, AUTHSTORE_OPEN_BUSY_MS);
	/* Each commit is on disk when the call returns (issue 21). */
	if (pragma(s, "PRAGMA journal_mode = WAL", "wal", NULL, err,
	    errlen) == -1 || pragma(s, "PRAGMA synchronous = FULL", NULL, NULL,
	    err, errlen) == -1 || pragma(s, "PRAGMA foreign_keys = ON", NULL,
	    NULL, err, errlen) == -1)
		goto fail1;
	if (pragma(s, "PRAGMA user_version", NULL, &v, err, errlen) == -1)
		goto fail1;
	if (v > AUTHSTORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: the store's schema is version %d, "
		    "newer than this sallyport knows (%d): run a newer "
		    "sallyport", path, v, AUTHSTORE_SCHEMA_VERSION);
		goto fail1;
	}
	if (v == 0 && schema_make(s, err, errlen) == -1)
		goto fail1;
	for (i = 0; i < S_COUNT; i++)
		if (sqlite3_prepare_v3(s->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			dberr(s, "preparing statements (not a sallyport "
			    "store?)", err, errlen);
			goto fail1;
		}
	sqlite3_busy_timeout(s->db, AUTHSTORE_BUSY_MS);
	*sp = s;
	return (0);
fail1:
	authstore_close(s);
fail0:
	return (-1);
}

/*
 * authstore_busy_timeout(s, ms):
 * How long a call waits for a lock another process holds.
 */
void
authstore_busy_timeout(struct authstore *s, int ms)
{

	sqlite3_busy_timeout(s->db, ms);
}

/*
 * authstore_close(s):
 * Close the store; NULL does nothing.
 */
void
authstore_close(struct authstore *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
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
	sqlite3_stmt *q;

	if (attrs_encode(attrs, nattrs, text, sizeof(text)) == -1 ||
	    uses == 0) {
		seterr(err, errlen, "%s: bad token: at most %d valid "
		    "attributes with distinct keys, at least one use", s->path,
		    CRED_MAX_ATTRS);
		return (AUTHSTORE_ERROR);
	}
	authtoken_ref(hash, ref);
	q = stmt(s, S_TOKEN_ADD);
	sqlite3_bind_blob(q, 1, hash, CRYPTO_HASH_LEN, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, (sqlite3_int64)uses);
	sqlite3_bind_int64(q, 5, (sqlite3_int64)expiry);
	sqlite3_bind_int64(q, 6, (sqlite3_int64)now);
	sqlite3_bind_text(q, 7, creator, (int)strnlen(creator,
	    AUTHSTORE_CREATOR_MAX), SQLITE_STATIC);
	if (run(s, q, "adding a token", err, errlen) == -1)
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
	sqlite3_stmt *q = stmt(s, S_TOKEN_REVOKE);

	sqlite3_bind_text(q, 1, ref, -1, SQLITE_STATIC);
	if (run(s, q, "revoking a token", err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	return (sqlite3_changes(s->db) == 1 ? AUTHSTORE_OK :
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
	sqlite3_stmt *q = stmt(s, S_TOKEN_COUNT);

	sqlite3_bind_int64(q, 1, (sqlite3_int64)now);
	if (sqlite3_step(q) != SQLITE_ROW) {
		dberr(s, "counting tokens", err, errlen);
		sqlite3_reset(q);
		return (-1);
	}
	*n = (uint64_t)sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return (0);
}

/*
 * Step the (reset) statement ${q} over its rows, calling ${row}(${q},
 * ${arg}) for each until it returns non-zero: 0, or -1 with a message
 * about ${what} (a database error, or ${row} returned -1).
 */
static int
rows_each(struct authstore *s, sqlite3_stmt *q, const char *what,
    int (*row)(sqlite3_stmt *, void *), void *arg, char *err, size_t errlen)
{
	int rc, r = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((r = row(q, arg)) != 0)
			break;
	if (r == -2)
		seterr(err, errlen, "%s: %s: a corrupt row", s->path, what);
	else if (r == 0 && rc != SQLITE_DONE)
		dberr(s, what, err, errlen);
	sqlite3_reset(q);
	return (r < 0 || (r == 0 && rc != SQLITE_DONE) ? -1 : 0);
}

/* The caller's function and argument, for the row converters below. */
struct each {
	int (*token)(void *, const struct authstore_token *);
	int (*member)(void *, const struct authstore_member *);
	void *arg;
};

/* A token row to the caller's function: its value, or -2 if corrupt. */
static int
each_token(sqlite3_stmt *q, void *arg)
{
	struct each *e = arg;
	struct authstore_token t;

	if (token_row(q, &t) == -1)
		return (-2);
	return (e->token(e->arg, &t));
}

/* A member row to the caller's function: its value, or -2 if corrupt. */
static int
each_member(sqlite3_stmt *q, void *arg)
{
	struct each *e = arg;
	struct authstore_member m;

	if (member_row(q, &m) == -1)
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

	return (rows_each(s, stmt(s, S_TOKEN_EACH), "listing tokens",
	    each_token, &e, err, errlen));
}

/*
 * Look ${id} up inside the open transaction: AUTHSTORE_OK with *${m} and
 * (if ${cred} is not NULL) the stored newest credential copied into
 * ${cred}/${len}, AUTHSTORE_NOT_MEMBER, or AUTHSTORE_ERROR.
 */
static enum authstore_result
member_find(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    struct authstore_member *m, uint8_t *cred, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	sqlite3_stmt *q = stmt(s, S_MEMBER_GET);
	enum authstore_result r = AUTHSTORE_OK;
	int rc, n;

	sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(q)) == SQLITE_DONE) {
		r = AUTHSTORE_NOT_MEMBER;
		goto out;
	}
	if (rc != SQLITE_ROW) {
		dberr(s, "reading a member", err, errlen);
		r = AUTHSTORE_ERROR;
		goto out;
	}
	if (member_row(q, m) == -1) {
		seterr(err, errlen, "%s: a corrupt member row", s->path);
		r = AUTHSTORE_ERROR;
		goto out;
	}
	if (cred != NULL) {
		n = sqlite3_column_bytes(q, 8);
		if (n <= 0 || (size_t)n > cap) {
			seterr(err, errlen, "%s: the member's stored "
			    "credential is missing or too large", s->path);
			r = AUTHSTORE_ERROR;
			goto out;
		}
		memcpy(cred, sqlite3_column_blob(q, 8), (size_t)n);
		*len = (size_t)n;
	}
out:
	sqlite3_reset(q);
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
	sqlite3_stmt *q = stmt(s, S_SERIAL_NEXT);
	sqlite3_int64 serial;

	if (sqlite3_step(q) != SQLITE_ROW ||
	    (serial = sqlite3_column_int64(q, 0)) <= 0) {
		dberr(s, "allocating a serial", err, errlen);
		sqlite3_reset(q);
		return (-1);
	}
	sqlite3_reset(q);
	q = stmt(s, S_ISSUED_ADD);
	sqlite3_bind_int64(q, 1, serial);
	sqlite3_bind_blob(q, 2, m->id, CRED_ID_LEN, SQLITE_STATIC);
	if (run(s, q, "recording a serial", err, errlen) == -1)
		return (-1);
	m->previous = m->serial;
	m->serial = (uint64_t)serial;
	m->confirmed = 0;
	*len = 0;
	if (issue(arg, m, cred, cap, len) == -1 || *len == 0 || *len > cap) {
		seterr(err, errlen, "%s: the credential could not be signed",
		    s->path);
		return (-1);
	}
	q = stmt(s, S_MEMBER_ISSUED);
	sqlite3_bind_blob(q, 1, m->id, CRED_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, serial);
	sqlite3_bind_blob(q, 3, cred, (int)*len, SQLITE_STATIC);
	return (run(s, q, "storing a credential", err, errlen));
}

/*
 * authstore_enrol(s, hash, id, now, issue, arg, m, ref, cred, cap, len,
 *     err, errlen):
 * Enrolment, one transaction (see authstore.h).
 *
 * The token is found by the SHA-256 of the secret the node sent, through
 * the table's primary key: the secret itself is never compared, so the
 * time taken depends on the hash (which the node cannot steer towards a
 * stored one without knowing a secret) and not on how many leading bytes
 * of the secret match; that lookup is our constant-time comparison.
 */
enum authstore_result
authstore_enrol(struct authstore *s, const uint8_t hash[CRYPTO_HASH_LEN],
    const uint8_t id[CRED_ID_LEN], uint64_t now, authstore_issue_fn issue,
    void *arg, struct authstore_member *m, char ref[AUTHTOKEN_REF_TEXT],
    uint8_t *cred, size_t cap, size_t *len, char *err, size_t errlen)
{
	struct authstore_token t;
	struct authstore_member old;
	sqlite3_stmt *q;
	enum authstore_result r;
	int rc;

	ref[0] = '\0';
	*len = 0;
	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);

	/* The token: known, not revoked, unexpired, a use left. */
	q = stmt(s, S_TOKEN_GET);
	sqlite3_bind_blob(q, 1, hash, CRYPTO_HASH_LEN, SQLITE_STATIC);
	if ((rc = sqlite3_step(q)) == SQLITE_DONE) {
		r = AUTHSTORE_NO_TOKEN;
		goto refuse;
	}
	if (rc != SQLITE_ROW) {
		dberr(s, "reading a token", err, errlen);
		goto fail;
	}
	if (token_row(q, &t) == -1) {
		seterr(err, errlen, "%s: a corrupt token row", s->path);
		goto fail;
	}
	sqlite3_reset(q);
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
	q = stmt(s, S_TOKEN_USE);
	sqlite3_bind_blob(q, 1, hash, CRYPTO_HASH_LEN, SQLITE_STATIC);
	if (run(s, q, "using a token", err, errlen) == -1)
		goto fail;
	if (sqlite3_changes(s->db) != 1) {
		seterr(err, errlen, "%s: the token changed under us", s->path);
		goto fail;
	}
	memset(m, 0, sizeof(*m));
	memcpy(m->id, id, CRED_ID_LEN);
	m->nattrs = t.nattrs;
	memcpy(m->attrs, t.attrs, sizeof(m->attrs));
	m->state = AUTHSTORE_MEMBER_ACTIVE;
	m->joined = now;
	snprintf(m->how, sizeof(m->how), "token:%s", t.ref);
	q = stmt(s, S_MEMBER_ADD);
	sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
	if (attrs_bind(q, 2, m->attrs, m->nattrs) == -1) {
		bad_attrs(s, err, errlen);
		goto fail;
	}
	sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
	sqlite3_bind_text(q, 4, m->how, -1, SQLITE_STATIC);
	if (run(s, q, "adding a member", err, errlen) == -1)
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
	sqlite3_stmt *q = stmt(s, S_MEMBER_STATE);

	sqlite3_bind_blob(q, 1, m->id, CRED_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, AUTHSTORE_MEMBER_LOCKED);
	if (run(s, q, "locking a member", err, errlen) == -1 ||
	    tx_commit(s, err, errlen) == -1) {
		tx_rollback(s);
		return (AUTHSTORE_ERROR);
	}
	m->state = AUTHSTORE_MEMBER_LOCKED;
	return (AUTHSTORE_SUPERSEDED);
}

/*
 * authstore_renew(s, id, serial, now, issue, arg, m, cred, cap, len, err,
 *     errlen):
 * Renewal, one transaction (see authstore.h).
 */
enum authstore_result
authstore_renew(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    uint64_t serial, uint64_t now, authstore_issue_fn issue, void *arg,
    struct authstore_member *m, uint8_t *cred, size_t cap, size_t *len,
    char *err, size_t errlen)
{
	enum authstore_result r;
	enum presented p;

	(void)now;
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
 * authstore_confirm(s, id, serial, err, errlen):
 * The member ${id} presented ${serial} on a channel outside a renewal
 * (see authstore.h).
 */
enum authstore_result
authstore_confirm(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    uint64_t serial, char *err, size_t errlen)
{
	struct authstore_member m;
	sqlite3_stmt *q;
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
		q = stmt(s, S_MEMBER_CONFIRM);
		sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
		if (run(s, q, "confirming a credential", err, errlen) == -1 ||
		    tx_commit(s, err, errlen) == -1)
			r = AUTHSTORE_ERROR;
		else
			return (AUTHSTORE_OK);
	}
out:
	tx_rollback(s);
	return (r);
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
	struct authstore_member m;
	sqlite3_stmt *q;
	enum authstore_result r;

	if (tx_begin(s, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	if ((r = member_find(s, id, &m, NULL, 0, NULL, err, errlen)) !=
	    AUTHSTORE_NOT_MEMBER) {
		tx_rollback(s);
		return (r == AUTHSTORE_OK ? AUTHSTORE_ALREADY_MEMBER : r);
	}
	q = stmt(s, S_MEMBER_ADD);
	sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
	if (attrs_bind(q, 2, attrs, nattrs) == -1) {
		bad_attrs(s, err, errlen);
		goto fail;
	}
	sqlite3_bind_int64(q, 3, (sqlite3_int64)now);
	sqlite3_bind_text(q, 4, "added", -1, SQLITE_STATIC);
	if (run(s, q, "adding a member", err, errlen) == -1 ||
	    tx_commit(s, err, errlen) == -1)
		goto fail;
	return (AUTHSTORE_OK);
fail:
	tx_rollback(s);
	return (AUTHSTORE_ERROR);
}

/* Run the one-member update ${q} (bound): OK, NOT_MEMBER or ERROR. */
static enum authstore_result
member_update(struct authstore *s, sqlite3_stmt *q, const char *what,
    char *err, size_t errlen)
{

	if (run(s, q, what, err, errlen) == -1)
		return (AUTHSTORE_ERROR);
	return (sqlite3_changes(s->db) == 1 ? AUTHSTORE_OK :
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
	sqlite3_stmt *q = stmt(s, S_MEMBER_ATTRS);

	sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
	if (attrs_bind(q, 2, attrs, nattrs) == -1) {
		bad_attrs(s, err, errlen);
		return (AUTHSTORE_ERROR);
	}
	return (member_update(s, q, "changing attributes", err, errlen));
}

/*
 * authstore_member_remove(s, id, err, errlen):
 * State removed: no more renewals; its serials stay known.
 */
enum authstore_result
authstore_member_remove(struct authstore *s, const uint8_t id[CRED_ID_LEN],
    char *err, size_t errlen)
{
	sqlite3_stmt *q = stmt(s, S_MEMBER_STATE);

	sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, AUTHSTORE_MEMBER_REMOVED);
	return (member_update(s, q, "removing a member", err, errlen));
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
	sqlite3_stmt *q;
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
		q = stmt(s, S_MEMBER_UNLOCK);
		sqlite3_bind_blob(q, 1, id, CRED_ID_LEN, SQLITE_STATIC);
		if ((r = member_update(s, q, "unlocking a member", err,
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

	return (rows_each(s, stmt(s, S_MEMBER_EACH), "listing members",
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
	sqlite3_stmt *q = stmt(s, S_REVOKED);
	uint8_t last[CRED_ID_LEN];
	char line[2 * IDENTITY_TEXT_SIZE + CRED_SERIAL_TEXT + 4];
	char iss[IDENTITY_TEXT_SIZE], id[IDENTITY_TEXT_SIZE];
	char ser[CRED_SERIAL_TEXT];
	int rc, have = 0;

	identity_id_format(issuer, iss);
	if (textbuf_add(&b, "# revoked by the authority's store\n") == -1)
		goto nomem;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (sqlite3_column_bytes(q, 0) != CRED_ID_LEN) {
			seterr(err, errlen, "%s: a corrupt member row",
			    s->path);
			goto fail;
		}
		/* The identifier once, before its serials. */
		if (!have || memcmp(last, sqlite3_column_blob(q, 0),
		    CRED_ID_LEN) != 0) {
			memcpy(last, sqlite3_column_blob(q, 0), CRED_ID_LEN);
			have = 1;
			snprintf(line, sizeof(line), "%s\n",
			    identity_id_format(last, id));
			if (textbuf_add(&b, line) == -1)
				goto nomem;
		}
		if (sqlite3_column_type(q, 1) == SQLITE_NULL)
			continue;
		snprintf(line, sizeof(line), "%s:%s\n", iss,
		    cred_serial_format((uint64_t)sqlite3_column_int64(q, 1),
		    ser));
		if (textbuf_add(&b, line) == -1)
			goto nomem;
	}
	if (rc != SQLITE_DONE) {
		dberr(s, "listing revoked members", err, errlen);
		goto fail;
	}
	sqlite3_reset(q);
	*text = b.p;
	*len = b.len;
	return (0);
nomem:
	seterr(err, errlen, "%s: out of memory", s->path);
fail:
	sqlite3_reset(q);
	free(b.p);
	return (-1);
}
