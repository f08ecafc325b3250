/*
 * authsqlite: authstore's SQLite backend, one file (WAL, synchronous=FULL,
 * prepared statements, BEGIN IMMEDIATE per enrolment and renewal).  See
 * authdb.h and authstore.h.
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

#include "authdb.h"
#include "authstore.h"
#include "seterr.h"

/*
 * The statements, in SQLite's SQL; authpg derives PostgreSQL's from them
 * (authsqlite_sql).
 */
static const char *const sql[AUTHDB_COUNT] = {
	[AUTHDB_BEGIN] = "BEGIN IMMEDIATE",
	[AUTHDB_COMMIT] = "COMMIT",
	[AUTHDB_ROLLBACK] = "ROLLBACK",
	[AUTHDB_TOKEN_GET] = "SELECT " AUTHDB_TOKEN_COLUMNS " FROM tokens "
	    "WHERE hash = ?1",
	[AUTHDB_TOKEN_USE] = "UPDATE tokens SET uses = uses - 1 "
	    "WHERE hash = ?1 AND uses > 0 AND revoked = 0",
	[AUTHDB_TOKEN_ADD] = "INSERT INTO tokens(hash, ref, attrs, uses, "
	    "expiry, created, creator, revoked) "
	    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
	[AUTHDB_TOKEN_REVOKE] = "UPDATE tokens SET revoked = 1, uses = 0 "
	    "WHERE ref = ?1",
	[AUTHDB_TOKEN_COUNT] = "SELECT count(*) FROM tokens "
	    "WHERE revoked = 0 AND uses > 0 AND expiry > ?1",
	[AUTHDB_TOKEN_EACH] = "SELECT " AUTHDB_TOKEN_COLUMNS " FROM tokens "
	    "ORDER BY created, rowid",
	[AUTHDB_SERIAL_NEXT] = "UPDATE counter SET next = next + 1 "
	    "RETURNING next - 1",
	[AUTHDB_ISSUED_ADD] = "INSERT INTO issued(serial, id) VALUES(?1, ?2)",
	[AUTHDB_MEMBER_GET] = "SELECT " AUTHDB_MEMBER_COLUMNS " FROM members "
	    "WHERE id = ?1",
	[AUTHDB_MEMBER_ADD] = "INSERT INTO members(" AUTHDB_MEMBER_COLUMNS
	    ") VALUES(?1, ?2, 1, ?3, ?4, 0, 0, 0, NULL)",
	[AUTHDB_MEMBER_ISSUED] = "UPDATE members SET previous = serial, "
	    "serial = ?2, confirmed = 0, cred = ?3 WHERE id = ?1",
	[AUTHDB_MEMBER_STATE] = "UPDATE members SET state = ?2 WHERE id = ?1",
	[AUTHDB_MEMBER_UNLOCK] = "UPDATE members SET state = 1, "
	    "confirmed = 0 WHERE id = ?1",
	[AUTHDB_MEMBER_CONFIRM] = "UPDATE members SET confirmed = 1 "
	    "WHERE id = ?1",
	[AUTHDB_MEMBER_ATTRS] = "UPDATE members SET attrs = ?2 WHERE id = ?1",
	[AUTHDB_MEMBER_EACH] = "SELECT " AUTHDB_MEMBER_COLUMNS " FROM members "
	    "ORDER BY joined, rowid",
	[AUTHDB_REVOKED] = "SELECT m.id, i.serial FROM members m "
	    "LEFT JOIN issued i ON i.id = m.id WHERE m.state != 1 "
	    "ORDER BY m.rowid, i.serial",
};

/*
 * authsqlite_sql(i):
 * The SQL of statement ${i} (authdb.h).
 */
const char *
authsqlite_sql(int i)
{

	return (sql[i]);
}

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

struct authdb {
	sqlite3 *db;
	sqlite3_stmt *st[AUTHDB_COUNT];
	sqlite3_stmt *cur; /* the last exec's */
	int rc;            /* its last step */
	char path[256];    /* for messages, cut to fit */
};

/* The last error about ${what} into ${err}: never worth a retry here. */
static int
sq_error(struct authdb *d, const char *what, char *err, size_t errlen)
{
	int code = sqlite3_extended_errcode(d->db) & 0xff;

	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		seterr(err, errlen, "%s: %s: the store is busy (another "
		    "process holds its lock); try again", d->path, what);
	else
		seterr(err, errlen, "%s: %s: %s", d->path, what,
		    sqlite3_errmsg(d->db));
	return (0);
}

static void
sq_reset(struct authdb *d)
{

	if (d->cur != NULL) {
		sqlite3_reset(d->cur);
		sqlite3_clear_bindings(d->cur);
	}
	d->cur = NULL;
}

static int
sq_exec(struct authdb *d, int i, const struct authdb_arg *a, int n)
{
	sqlite3_stmt *q = d->st[i];
	int k, rc = SQLITE_OK;

	sq_reset(d);
	for (k = 0; k < n && rc == SQLITE_OK; k++)
		if (a[k].type == AUTHDB_INT)
			rc = sqlite3_bind_int64(q, k + 1, a[k].i);
		else if (a[k].type == AUTHDB_BLOB)
			rc = sqlite3_bind_blob(q, k + 1, a[k].p, (int)a[k].n,
			    SQLITE_STATIC);
		else
			rc = sqlite3_bind_text(q, k + 1, a[k].p, (int)a[k].n,
			    SQLITE_STATIC);
	d->cur = q;
	return (rc == SQLITE_OK ? 0 : -1);
}

static int
sq_row(struct authdb *d)
{

	d->rc = sqlite3_step(d->cur);
	return (d->rc == SQLITE_ROW ? 1 : d->rc == SQLITE_DONE ? 0 : -1);
}

static int64_t
sq_col_int(struct authdb *d, int c)
{

	return (sqlite3_column_int64(d->cur, c));
}

static const void *
sq_col_bytes(struct authdb *d, int c, size_t *n)
{
	const void *p;

	if (sqlite3_column_type(d->cur, c) == SQLITE_NULL) {
		*n = 0;
		return (NULL);
	}
	if (sqlite3_column_type(d->cur, c) == SQLITE_BLOB)
		p = sqlite3_column_blob(d->cur, c);
	else
		p = sqlite3_column_text(d->cur, c);
	*n = (size_t)sqlite3_column_bytes(d->cur, c);
	return (p != NULL ? p : "");
}

static uint64_t
sq_changes(struct authdb *d)
{

	return ((uint64_t)sqlite3_changes(d->db));
}

static int
sq_in_tx(struct authdb *d)
{

	return (!sqlite3_get_autocommit(d->db));
}

static void
sq_busy(struct authdb *d, int ms)
{

	sqlite3_busy_timeout(d->db, ms);
}

static void
sq_close(struct authdb *d)
{
	int i;

	if (d == NULL)
		return;
	for (i = 0; i < AUTHDB_COUNT; i++)
		sqlite3_finalize(d->st[i]);
	sqlite3_close(d->db);
	free(d);
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
pragma(struct authdb *d, const char *q, const char *want, int *v,
    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc;

	if (sqlite3_prepare_v2(d->db, q, -1, &st, NULL) != SQLITE_OK) {
		sq_error(d, q, err, errlen);
		return (-1);
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW && (rc != SQLITE_DONE || v != NULL)) {
		sq_error(d, q, err, errlen);
		goto fail;
	}
	if (want != NULL && (rc != SQLITE_ROW ||
	    (t = sqlite3_column_text(st, 0)) == NULL ||
	    strcmp((const char *)t, want) != 0)) {
		seterr(err, errlen, "%s: %s did not answer %s", d->path, q,
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
schema_make(struct authdb *d, char *err, size_t errlen)
{
	char init[96];
	int v;

	if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		sq_error(d, "making the schema", err, errlen);
		return (-1);
	}
	if (pragma(d, "PRAGMA user_version", NULL, &v, err, errlen) == -1)
		goto fail;
	if (v == 0) {
		snprintf(init, sizeof(init), "INSERT INTO counter(k, next) "
		    "VALUES(0, %lld)", (long long)time(NULL) << 20);
		if (sqlite3_exec(d->db, schema, NULL, NULL, NULL) !=
		    SQLITE_OK || sqlite3_exec(d->db, init, NULL, NULL, NULL) !=
		    SQLITE_OK) {
			sq_error(d, "making the schema", err, errlen);
			goto fail;
		}
	}
	if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_error(d, "making the schema", err, errlen);
		goto fail;
	}
	return (0);
fail:
	(void)sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/*
 * Open the store file ${path}, creating it (mode 0600) and its schema if
 * it does not exist (authstore_open).
 */
static int
sq_open(struct authdb **dp, const char *path, char *err, size_t errlen)
{
	struct authdb *d;
	int i, v;

	if (file_check(path, err, errlen) == -1)
		goto fail0;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail0;
	}
	snprintf(d->path, sizeof(d->path), "%s", path);
	if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		if (d->db == NULL)
			seterr(err, errlen, "%s: out of memory", path);
		else
			sq_error(d, "open", err, errlen);
		goto fail1;
	}
	sqlite3_extended_result_codes(d->db, 1);
	/* Opening waits longer for another process's lock than a call. */
	sqlite3_busy_timeout(d->db, AUTHSTORE_OPEN_BUSY_MS);
	/* Each commit is on disk when the call returns (issue 21). */
	if (pragma(d, "PRAGMA journal_mode = WAL", "wal", NULL, err,
	    errlen) == -1 || pragma(d, "PRAGMA synchronous = FULL", NULL, NULL,
	    err, errlen) == -1 || pragma(d, "PRAGMA foreign_keys = ON", NULL,
	    NULL, err, errlen) == -1)
		goto fail1;
	if (pragma(d, "PRAGMA user_version", NULL, &v, err, errlen) == -1)
		goto fail1;
	if (v > AUTHSTORE_SCHEMA_VERSION) {
		seterr(err, errlen, "%s: the store's schema is version %d, "
		    "newer than this sallyport knows (%d): run a newer "
		    "sallyport", path, v, AUTHSTORE_SCHEMA_VERSION);
		goto fail1;
	}
	if (v == 0 && schema_make(d, err, errlen) == -1)
		goto fail1;
	for (i = 0; i < AUTHDB_COUNT; i++)
		if (sqlite3_prepare_v3(d->db, sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL) != SQLITE_OK) {
			sq_error(d, "preparing statements (not a sallyport "
			    "store?)", err, errlen);
			goto fail1;
		}
	sqlite3_busy_timeout(d->db, AUTHSTORE_BUSY_MS);
	*dp = d;
	return (0);
fail1:
	sq_close(d);
fail0:
	return (-1);
}

const struct authdb_ops authsqlite_ops = {
	.open = sq_open,
	.exec = sq_exec,
	.row = sq_row,
	.col_int = sq_col_int,
	.col_bytes = sq_col_bytes,
	.changes = sq_changes,
	.reset = sq_reset,
	.in_tx = sq_in_tx,
	.error = sq_error,
	.busy = sq_busy,
	.close = sq_close,
};
