/*
 * authpg: authstore's PostgreSQL backend, a database several authority
 * replicas share (issue 21 section 5).  See authdb.h and authstore.h.
 *
 * The schema is the SQLite store's (authsqlite.c), in PostgreSQL's types
 * (BIGINT, BYTEA), plus a rowid column (SQLite's implicit one, its order),
 * and a table sallyport_schema(version) for PRAGMA user_version.
 * Concurrency: READ COMMITTED transactions that lock what they read
 * before writing it (SELECT ... FOR UPDATE of the token and the member;
 * the UPDATE of the one counter row, last), so every transaction takes
 * its locks in one order (token, member, counter): no token is used
 * beyond its uses by replicas at once, and the second of two replicas
 * admitting one identity at once fails on the primary key and is tried
 * again (authstore), then sees the member.
 *
 * Every call blocks (the authority makes them on its worker thread), and
 * each is bounded: connect_timeout, statement_timeout, lock_timeout and
 * tcp_user_timeout are given before the URI's own parameters (which win).
 * GSSAPI encryption is off unless the URI asks (gssencmode: its Kerberos
 * library reads files and calls what the sandbox does not allow).
 * Opening only parses the URI: the first call connects (and checks or
 * makes the schema), so a replica starts while the database is down and
 * answers meanwhile.  A connection found lost (or never made) is made on
 * the next call, at most once per backoff (0.5 s doubling to 5 s);
 * meanwhile calls fail at once.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authdb.h"
#include "authstore.h"
#include "crypto.h"
#include "seterr.h"

#define PG_ARGS_MAX 8        /* parameters of a statement, at most */
#define PG_BACKOFF_MIN 0.5   /* seconds before a second connection try */
#define PG_BACKOFF_MAX 5.0 
#define PG_SCHEMA_LOCK 0x73616c6c79706f72LL /* "sallypor": the advisory lock */

/* PostgreSQL's type oids (pg_type.dat) of the parameters we send. */
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_TEXT 25

#define PG_SQL_MAX 512 /* bytes of a statement's SQL */

/*
 * Statement ${i}'s SQL for PostgreSQL into ${out}: SQLite's
 * (authsqlite_sql) with $N for ?N; BEGIN without IMMEDIATE (the row locks
 * below do its work); the token and the member read FOR UPDATE.  0, or
 * -1 if it does not fit.
 */
static int
pg_sql(int i, char *out, size_t cap)
{
	const char *q = authsqlite_sql(i);
	size_t n = 0;

	if (i == AUTHDB_BEGIN)
		q = "BEGIN ISOLATION LEVEL READ COMMITTED";
	for (; *q != '\0' && n + 1 < cap; q++)
		out[n++] = *q == '?' ? '$' : *q;
	out[n] = '\0';
	if (*q != '\0')
		return (-1);
	if (i == AUTHDB_TOKEN_GET || i == AUTHDB_MEMBER_GET)
		return (snprintf(out + n, cap - n, " FOR UPDATE") <
		    (int)(cap - n) ? 0 : -1);
	return (0);
}

/* Schema version 1 (AUTHSTORE_SCHEMA_VERSION), made under the lock. */
static const char schema[] =
    "CREATE TABLE members ("
    " rowid BIGSERIAL UNIQUE,"
    " id BYTEA PRIMARY KEY NOT NULL CHECK (length(id) = 32),"
    " attrs TEXT NOT NULL,"
    " state BIGINT NOT NULL CHECK (state IN (1, 2, 3)),"
    " joined BIGINT NOT NULL,"
    " how TEXT NOT NULL,"
    " serial BIGINT NOT NULL,"
    " previous BIGINT NOT NULL,"
    " confirmed BIGINT NOT NULL,"
    " cred BYTEA);"
    "CREATE TABLE tokens ("
    " rowid BIGSERIAL UNIQUE,"
    " hash BYTEA PRIMARY KEY NOT NULL CHECK (length(hash) = 32),"
    " ref TEXT NOT NULL UNIQUE,"
    " attrs TEXT NOT NULL,"
    " uses BIGINT NOT NULL CHECK (uses >= 0),"
    " expiry BIGINT NOT NULL,"
    " created BIGINT NOT NULL,"
    " creator TEXT NOT NULL,"
    " revoked BIGINT NOT NULL);"
    "CREATE TABLE issued ("
    " serial BIGINT PRIMARY KEY NOT NULL,"
    " id BYTEA NOT NULL REFERENCES members(id));"
    "CREATE INDEX issued_id ON issued(id);"
    "CREATE TABLE counter ("
    " k BIGINT PRIMARY KEY CHECK (k = 0),"
    " next BIGINT NOT NULL);"
    "CREATE TABLE sallyport_schema (version BIGINT NOT NULL);"
    "INSERT INTO sallyport_schema VALUES (1);";

/*
 * The bounds given before the URI's own parameters (which override them),
 * and the URI itself, last: PQconnectdbParams with expand_dbname.
 */
static const char *const conn_keys[] = {
	"connect_timeout", "tcp_user_timeout", "keepalives_idle",
	"keepalives_interval", "keepalives_count", "gssencmode", "options",
	"application_name", "dbname", NULL
};
static const char *const conn_values[] = {
	"10", "10000", "10", "5", "3", "disable",
	"-c statement_timeout=10000 -c lock_timeout=10000 "
	    "-c idle_in_transaction_session_timeout=60000",
	"sallyport-authority", NULL /* the URI */, NULL
};

struct authdb {
	char sql[AUTHDB_COUNT][PG_SQL_MAX]; /* pg_sql's */
	PGconn *c;
	char *uri;         /* as given (a password in it: wiped at close) */
	char where[256];   /* redacted, for messages */
	PGresult *res;     /* the last exec's */
	int row;           /* its current row (-1: before the first) */
	uint64_t changes;  /* the rows its UPDATE changed */
	char msg[512];     /* the last error */
	char down[256];    /* the last connection's failure */
	int retry;         /* ... may be tried again */
	double backoff;    /* before the next connection try, seconds */
	double next_try;   /* monotonic */
	int tried;         /* a connection was tried */
	int schema_ok;     /* schema_check passed on a connection */
};

static int schema_check(struct authdb *d);

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * ${what} and ${text} (libpq's message) into d->msg as one line for a log
 * field: newlines and tabs become spaces, double quotes single ones, the
 * end's spaces go.
 */
static void
pg_msg(struct authdb *d, const char *what, const char *text)
{
	size_t n;
	char *p;

	snprintf(d->msg, sizeof(d->msg), "%s%s", what, text != NULL &&
	    *text != '\0' ? text : "unknown error");
	for (p = d->msg; *p != '\0'; p++)
		if (*p == '\n' || *p == '\t' || *p == '\r')
			*p = ' ';
		else if (*p == '"')
			*p = '\'';
	n = strlen(d->msg);
	while (n > 0 && d->msg[n - 1] == ' ')
		d->msg[--n] = '\0';
}

static void
pg_reset(struct authdb *d)
{

	PQclear(d->res);
	d->res = NULL;
	d->row = -1;
}

/*
 * Connect (again) if the connection is not up, at most once per backoff:
 * 0, or -1 with d->msg.
 */
static int
pg_connected(struct authdb *d)
{
	const char *values[sizeof(conn_values) / sizeof(conn_values[0])];
	double now;
	size_t i;

	if (d->c != NULL && PQstatus(d->c) == CONNECTION_OK && d->schema_ok)
		return (0);
	now = mono();
	if (d->tried && now < d->next_try) {
		snprintf(d->msg, sizeof(d->msg), "the database is "
		    "unavailable (connecting again in %.1f s; %s)",
		    d->next_try - now, d->down);
		d->retry = AUTHDB_UNAVAILABLE;
		return (-1);
	}
	PQfinish(d->c);
	for (i = 0; conn_keys[i] != NULL; i++)
		values[i] = conn_values[i];
	values[i - 1] = d->uri; /* dbname, last */
	values[i] = NULL;
	d->tried = 1;
	d->c = PQconnectdbParams(conn_keys, values, 1);
	if (d->c == NULL || PQstatus(d->c) != CONNECTION_OK) {
		pg_msg(d, "cannot connect: ", d->c != NULL ?
		    PQerrorMessage(d->c) : "out of memory");
		d->retry = AUTHDB_UNAVAILABLE;
		goto fail;
	}
	if (!d->schema_ok && schema_check(d) == -1) {
		d->retry = 0; /* reached, but not a store we can use */
		PQfinish(d->c); /* tried again after the backoff */
		d->c = NULL;
		goto fail;
	}
	d->schema_ok = 1;
	d->backoff = 0;
	return (0);
fail:
	snprintf(d->down, sizeof(d->down), "%.200s", d->msg);
	d->backoff = d->backoff == 0 ? PG_BACKOFF_MIN :
	    d->backoff * 2 > PG_BACKOFF_MAX ? PG_BACKOFF_MAX : d->backoff * 2;
	d->next_try = now + d->backoff;
	return (-1);
}

static int
pg_exec(struct authdb *d, int i, const struct authdb_arg *a, int n)
{
	const char *values[PG_ARGS_MAX];
	int lens[PG_ARGS_MAX], formats[PG_ARGS_MAX];
	Oid types[PG_ARGS_MAX];
	uint8_t ints[PG_ARGS_MAX][8];
	ExecStatusType st;
	int k, b;

	pg_reset(d);
	d->retry = 0;
	d->changes = 0;
	if (n > PG_ARGS_MAX) {
		snprintf(d->msg, sizeof(d->msg), "too many parameters");
		return (-1);
	}
	/*
	 * A connection is found lost only by a statement failing, and
	 * authstore then ends its transaction: making it again here never
	 * continues a transaction on a new connection.
	 */
	if (pg_connected(d) == -1)
		return (-1);
	for (k = 0; k < n; k++) {
		formats[k] = 1;
		if (a[k].type == AUTHDB_INT) {
			for (b = 0; b < 8; b++)
				ints[k][b] = (uint8_t)((uint64_t)a[k].i >>
				    (56 - 8 * b));
			values[k] = (const char *)ints[k];
			lens[k] = 8;
			types[k] = OID_INT8;
		} else {
			values[k] = a[k].n > 0 ? a[k].p : "";
			lens[k] = (int)a[k].n;
			types[k] = a[k].type == AUTHDB_BLOB ? OID_BYTEA :
			    OID_TEXT;
		}
	}
	d->res = PQexecParams(d->c, d->sql[i], n, types, values, lens, formats,
	    1);
	st = PQresultStatus(d->res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(d->res,
		    PG_DIAG_SQLSTATE);

		pg_msg(d, "", d->res != NULL ? PQresultErrorMessage(d->res) :
		    PQerrorMessage(d->c));
		/* serialization_failure, deadlock_detected, unique_violation */
		d->retry = state != NULL && (strcmp(state, "40001") == 0 ||
		    strcmp(state, "40P01") == 0 || strcmp(state, "23505") ==
		    0) ? AUTHDB_RETRY : 0;
		/*
		 * The connection lost: try the transaction again on a new
		 * one.  Safe even when a COMMIT was lost after the database
		 * took it: the try again finds the member this token made,
		 * or the serial it was renewed from, unconfirmed, and
		 * answers the stored credential (authstore.h).
		 */
		if (PQstatus(d->c) != CONNECTION_OK) {
			d->retry = AUTHDB_RETRY; /* connecting again first */
			d->backoff = 0; /* the first try again at once */
			d->next_try = 0;
		}
		pg_reset(d);
		return (-1);
	}
	d->changes = strtoull(PQcmdTuples(d->res), NULL, 10);
	return (0);
}

static int
pg_row(struct authdb *d)
{

	if (d->res == NULL)
		return (-1);
	return (++d->row < PQntuples(d->res) ? 1 : 0);
}

static int64_t
pg_col_int(struct authdb *d, int c)
{
	const uint8_t *p;
	uint64_t v = 0;
	int i, n;

	if (PQgetisnull(d->res, d->row, c))
		return (0);
	p = (const uint8_t *)PQgetvalue(d->res, d->row, c);
	n = PQgetlength(d->res, d->row, c);
	if (n != 2 && n != 4 && n != 8)
		return (0);
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	/* Sign-extend a shorter integer. */
	if (n < 8 && (p[0] & 0x80) != 0)
		v |= ~(uint64_t)0 << (8 * n);
	return ((int64_t)v);
}

static const void *
pg_col_bytes(struct authdb *d, int c, size_t *n)
{

	*n = 0;
	if (PQgetisnull(d->res, d->row, c))
		return (NULL);
	*n = (size_t)PQgetlength(d->res, d->row, c);
	return (PQgetvalue(d->res, d->row, c)); /* NUL-terminated too */
}

static uint64_t
pg_changes(struct authdb *d)
{

	return (d->changes);
}

static int
pg_in_tx(struct authdb *d)
{
	PGTransactionStatusType t;

	if (d->c == NULL || PQstatus(d->c) != CONNECTION_OK)
		return (0);
	t = PQtransactionStatus(d->c);
	return (t == PQTRANS_INTRANS || t == PQTRANS_INERROR);
}

static int
pg_error(struct authdb *d, const char *what, char *err, size_t errlen)
{

	seterr(err, errlen, "%s: %s: %s", d->where, what, d->msg);
	return (d->retry);
}

/* Locks wait as long as lock_timeout says: the busy timeout is SQLite's. */
static void
pg_busy(struct authdb *d, int ms)
{

	(void)d;
	(void)ms;
}

static void
pg_close(struct authdb *d)
{

	if (d == NULL)
		return;
	pg_reset(d);
	PQfinish(d->c);
	if (d->uri != NULL) {
		wipe(d->uri, strlen(d->uri));
		free(d->uri);
	}
	free(d);
}

/*
 * On a new connection: make the schema if the database has none, or
 * check its version: one transaction under an advisory lock, so replicas
 * starting at once make it once.  The serial counter starts as SQLite's
 * does (authsqlite.c).  0, or -1 with d->msg.
 */
static int
schema_check(struct authdb *d)
{
	char init[128];
	PGresult *r;
	long long v;

	r = PQexec(d->c, "BEGIN");
	PQclear(r);
	snprintf(init, sizeof(init), "SELECT pg_advisory_xact_lock(%lld), "
	    "to_regclass('sallyport_schema') IS NOT NULL", PG_SCHEMA_LOCK);
	r = PQexec(d->c, init);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		goto fail;
	if (strcmp(PQgetvalue(r, 0, 1), "t") == 0) {
		PQclear(r);
		r = PQexec(d->c, "SELECT max(version) FROM sallyport_schema");
		if (PQresultStatus(r) != PGRES_TUPLES_OK ||
		    PQntuples(r) != 1)
			goto fail;
		v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		if (v > AUTHSTORE_SCHEMA_VERSION) {
			snprintf(d->msg, sizeof(d->msg), "the store's schema "
			    "is version %lld, newer than this sallyport knows "
			    "(%d): run a newer sallyport", v,
			    AUTHSTORE_SCHEMA_VERSION);
			goto fail1;
		}
	} else {
		PQclear(r);
		r = PQexec(d->c, schema);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			goto fail;
		PQclear(r);
		snprintf(init, sizeof(init), "INSERT INTO counter(k, next) "
		    "VALUES(0, %lld)", (long long)time(NULL) << 20);
		r = PQexec(d->c, init);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			goto fail;
	}
	PQclear(r);
	r = PQexec(d->c, "COMMIT");
	if (PQresultStatus(r) != PGRES_COMMAND_OK)
		goto fail;
	PQclear(r);
	return (0);
fail:
	pg_msg(d, "making the schema: ", PQresultErrorMessage(r));
fail1:
	PQclear(r);
	PQclear(PQexec(d->c, "ROLLBACK"));
	return (-1);
}

/*
 * Take the database ${uri} (a URI libpq parses): no connection yet, so
 * that opening never waits for the network; the first call connects
 * (on the authority's worker thread) and checks or makes the schema.
 */
static int
pg_open(struct authdb **dp, const char *uri, char *err, size_t errlen)
{
	struct authdb *d;
	PQconninfoOption *o;
	char *why = NULL, where[256];
	int i;

	/* libpq's message could quote the password: only ours. */
	if ((o = PQconninfoParse(uri, &why)) == NULL) {
		PQfreemem(why);
		seterr(err, errlen, "%s: not a PostgreSQL URI libpq can read",
		    authstore_redact(uri, where, sizeof(where)));
		return (-1);
	}
	PQconninfoFree(o);
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->uri = strdup(uri)) == NULL) {
		free(d);
		seterr(err, errlen, "out of memory");
		return (-1);
	}
	d->row = -1;
	for (i = 0; i < AUTHDB_COUNT; i++)
		if (pg_sql(i, d->sql[i], sizeof(d->sql[i])) == -1) {
			seterr(err, errlen, "statement %d too long", i);
			pg_close(d);
			return (-1);
		}
	authstore_redact(uri, d->where, sizeof(d->where));
	*dp = d;
	return (0);
}
const struct authdb_ops authpg_ops = {
	.open = pg_open,
	.exec = pg_exec,
	.row = pg_row,
	.col_int = pg_col_int,
	.col_bytes = pg_col_bytes,
	.changes = pg_changes,
	.reset = pg_reset,
	.in_tx = pg_in_tx,
	.error = pg_error,
	.busy = pg_busy,
	.close = pg_close,
};
