/*
 * authdb: the database under authstore, one backend per kind of store
 * (authsqlite: one SQLite file; authpg: a PostgreSQL database several
 * authority replicas share).  authstore holds the rules (what an
 * enrolment or a renewal may do) once; a backend runs the statements of
 * the table below, each in its own SQL, and hands back their rows.  Only
 * authstore and the backends include this header.
 *
 * One statement at a time: authdb_ops.exec runs statement I with its
 * arguments (parameter N is args[N - 1]); its rows are read with row and
 * the col_ functions until reset.  Integers are 64-bit, blobs and texts
 * bytes (a text column's bytes are NUL-terminated too).
 */
#ifndef SALLYPORT_AUTHDB_H
#define SALLYPORT_AUTHDB_H

#include <stddef.h>
#include <stdint.h>

/* The statements, by index (each backend's SQL for each). */
enum {
	AUTHDB_BEGIN, AUTHDB_COMMIT, AUTHDB_ROLLBACK,
	AUTHDB_TOKEN_GET, AUTHDB_TOKEN_USE, AUTHDB_TOKEN_ADD,
	AUTHDB_TOKEN_REVOKE, AUTHDB_TOKEN_COUNT, AUTHDB_TOKEN_EACH,
	AUTHDB_SERIAL_NEXT, AUTHDB_ISSUED_ADD,
	AUTHDB_MEMBER_GET, AUTHDB_MEMBER_ADD, AUTHDB_MEMBER_ISSUED,
	AUTHDB_MEMBER_STATE, AUTHDB_MEMBER_UNLOCK, AUTHDB_MEMBER_CONFIRM,
	AUTHDB_MEMBER_ATTRS, AUTHDB_MEMBER_EACH,
	AUTHDB_REVOKED,
	AUTHDB_COUNT
};

/* The columns the SELECTs above answer, in this order. */
#define AUTHDB_MEMBER_COLUMNS "id, attrs, state, joined, how, serial, " \
	"previous, confirmed, cred"
#define AUTHDB_TOKEN_COLUMNS "ref, attrs, uses, expiry, created, creator, " \
	"revoked"

/* What authdb_ops.error says of the last error. */
#define AUTHDB_RETRY 1
#define AUTHDB_UNAVAILABLE 2

enum authdb_type { AUTHDB_INT, AUTHDB_BLOB, AUTHDB_TEXT };

/* An argument: an integer ${i}, or ${n} bytes at ${p} (blob or text). */
struct authdb_arg {
	enum authdb_type type;
	int64_t i;
	const void *p;
	size_t n;
};

struct authdb;

struct authdb_ops {
	/*
	 * open(db, where, err, errlen): open (and make the schema of) the
	 * store ${where}.  0, or -1 with "WHERE: message" in ${err} (never
	 * a password).
	 */
	int (*open)(struct authdb **db, const char *where, char *err,
	    size_t errlen);
	/* Run statement ${i}: 0, or -1 (the reason: error). */
	int (*exec)(struct authdb *db, int i, const struct authdb_arg *args,
	    int nargs);
	/* The next row of the last exec: 1, 0 (no more), -1 (error). */
	int (*row)(struct authdb *db);
	int64_t (*col_int)(struct authdb *db, int c);
	/* Column ${c}'s bytes (NULL for SQL NULL) and their number. */
	const void *(*col_bytes)(struct authdb *db, int c, size_t *n);
	/* The rows the last (finished) UPDATE changed. */
	uint64_t (*changes)(struct authdb *db);
	/* Done with the last exec's rows. */
	void (*reset)(struct authdb *db);
	/* Whether a transaction is open. */
	int (*in_tx)(struct authdb *db);
	/*
	 * The last error, about ${what}, into ${err}; AUTHDB_RETRY if the
	 * whole transaction may be tried again (a serialization failure, a
	 * deadlock, a key another replica inserted first, the connection
	 * lost in a statement),
	 * AUTHDB_UNAVAILABLE if the database could not be reached, else 0.
	 */
	int (*error)(struct authdb *db, const char *what, char *err,
	    size_t errlen);
	/* How long a call waits for another's lock (ms). */
	void (*busy)(struct authdb *db, int ms);
	void (*close)(struct authdb *db);
};

extern const struct authdb_ops authsqlite_ops;

/*
 * authsqlite_sql(i):
 * The SQL of statement ${i}, SQLite's (parameters ?1, ?2...; the order of
 * rows by rowid), from which authpg derives PostgreSQL's.
 */
const char *authsqlite_sql(int i);
extern const struct authdb_ops authpg_ops;

#endif /* !SALLYPORT_AUTHDB_H */
