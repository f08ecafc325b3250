/*
 * authstore: the authority's store of members and enrolment tokens (issue
 * 21).  Two backends behind this one interface (authdb.h), picked by what
 * [authority NAME] store = names:
 *
 * - a file: SQLite.  Every enrolment and renewal is one BEGIN IMMEDIATE
 *   transaction, committed with synchronous=FULL in WAL mode: when a call
 *   returns, its effect is on disk, and a crash at any instant loses no
 *   committed member and never lets a token be used beyond its uses.  The
 *   command line and a running authority share the file (SQLite's locks,
 *   a short busy timeout).
 * - a postgresql:// (or postgres://) URI: a PostgreSQL database that
 *   several authority replicas with the same key share (issue 21 section
 *   5).  The same schema and guarantees: each transaction locks the rows
 *   it reads before it writes them (SELECT ... FOR UPDATE: the token, the
 *   member, the serial counter), so replicas take a token's uses in turn
 *   and never both admit one identity; a transaction the database refuses
 *   for another's (deadlock, serialization, a key inserted first) is
 *   tried again, at most 5 times.  Calls block on the network (the
 *   authority makes them on its worker thread, authwork.h); each is
 *   bounded (connect_timeout, statement_timeout, tcp_user_timeout: see
 *   docs/config.md), and a lost connection is made again on a later call,
 *   with backoff (0.5 s doubling to 5 s), failing at once meanwhile.
 *
 * Secrets: a token's secret is never stored or logged; the store keeps its
 * SHA-256 (authtoken_hash) and finds a token by that hash.  A password in
 * the URI never appears in a message (authstore_redact).
 *
 * Service layer: no event loop, no sockets of its own.
 */
#ifndef SALLYPORT_AUTHSTORE_H
#define SALLYPORT_AUTHSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "authtoken.h"
#include "cred.h"
#include "crypto.h"

#define AUTHSTORE_SCHEMA_VERSION 1 /* PRAGMA user_version of a store we make */
#define AUTHSTORE_BUSY_MS 5        /* default busy timeout (a running node) */
#define AUTHSTORE_OPEN_BUSY_MS 2000 /* authstore_open's (once, at start) */
#define AUTHSTORE_CREATOR_MAX 63   /* bytes of a token's creator text */

struct authstore;

enum authstore_result {
	AUTHSTORE_OK = 0,
	AUTHSTORE_ERROR,          /* the database failed: message in err */
	AUTHSTORE_NO_TOKEN,       /* no such token (or revoked) */
	AUTHSTORE_TOKEN_EXPIRED,
	AUTHSTORE_TOKEN_USED,     /* no uses left */
	AUTHSTORE_ALREADY_MEMBER, /* enrolment by a member (in any state) */
	AUTHSTORE_NOT_MEMBER,
	AUTHSTORE_REMOVED,
	AUTHSTORE_LOCKED,
	AUTHSTORE_SUPERSEDED,     /* an older serial: the member is locked */
	AUTHSTORE_UNAVAILABLE,    /* the database cannot be reached (a
	                             PostgreSQL store): nothing changed, try
	                             again later; message in err */
};

/*
 * authstore_result_name(r):
 * The word for ${r} that audit lines use as reason=: "ok", "store-error",
 * "no-token", "token-expired", "token-used", "already-member",
 * "not-member", "member-removed", "member-locked", "credential-superseded",
 * "store-unavailable".
 */
const char *authstore_result_name(enum authstore_result r);

struct authstore_member {
	uint8_t id[CRED_ID_LEN];
	size_t nattrs;
	struct cred_attr attrs[CRED_MAX_ATTRS];
	int state;                 /* AUTHSTORE_MEMBER_ACTIVE, _REMOVED... */
	uint64_t joined;
	char how[32];              /* "token:Txxxx" or "added" */
	uint64_t serial;           /* newest serial issued, 0 if none */
	/* Added fields (for the command line's show): */
	uint64_t previous;         /* the serial before the newest, 0 if none */
	int confirmed;             /* the node has presented the newest */
};
/*
 * A member's state.  The agreed header named these AUTHSTORE_ACTIVE,
 * AUTHSTORE_REMOVED and AUTHSTORE_LOCKED, but the last two are also
 * results above and C does not allow both: the states carry MEMBER_.
 */
enum {
	AUTHSTORE_MEMBER_ACTIVE = 1,
	AUTHSTORE_MEMBER_REMOVED = 2,
	AUTHSTORE_MEMBER_LOCKED = 3
};

/*
 * authstore_state_name(state):
 * "active", "removed" or "locked" (or "?").
 */
const char *authstore_state_name(int state);

/* A token as listed: never its secret (the store has not got it). */
struct authstore_token {
	char ref[AUTHTOKEN_REF_TEXT];
	size_t nattrs;
	struct cred_attr attrs[CRED_MAX_ATTRS];
	unsigned uses;             /* left */
	uint64_t expiry, created;
	char creator[AUTHSTORE_CREATOR_MAX + 1];
	int revoked;
};

/*
 * authstore_redact(where, out, cap):
 * The store ${where} as messages show it, in ${out} (${cap} bytes, cut):
 * a path as it is; of a PostgreSQL URI, the password (user:PASSWORD@ and
 * a password= query parameter) replaced by "***".  Returns ${out}.
 */
char *authstore_redact(const char *where, char *out, size_t cap);

/*
 * authstore_open(s, path, err, errlen):
 * A PostgreSQL URI ${path} (config_store_is_postgres): checked by libpq's
 * parser, not connected: opening never waits for the network.  The first
 * call connects (bounded by connect_timeout, 10 s unless the URI says;
 * on the worker thread in a running authority) and makes the schema in
 * the database if it has none (one transaction under an advisory lock,
 * so replicas starting at once make it once); a failure is that call's
 * (AUTHSTORE_UNAVAILABLE, or AUTHSTORE_ERROR with "cannot connect: ..."
 * in err).  Else open the store ${path}, creating the file (mode 0600) and its schema if
 * it does not exist.  An existing file must be a regular file no group or
 * other may write (as key files are checked), with a schema this version
 * knows (PRAGMA user_version 0 is a new file; a newer version is refused
 * with a message saying so).  WAL, synchronous=FULL, foreign keys on.
 * Opening waits up to AUTHSTORE_OPEN_BUSY_MS for another process's lock
 * (setting WAL and making the schema take one); the calls after it, up to
 * AUTHSTORE_BUSY_MS (authstore_busy_timeout changes it).  Return 0 and
 * the store in *${s}, or -1 with "PATH: message" in ${err}.
 */
int authstore_open(struct authstore **s, const char *path, char *err,
    size_t errlen);

/*
 * authstore_busy_timeout(s, ms):
 * How long a call waits for a lock another process holds before it fails
 * with AUTHSTORE_ERROR ("store busy"): the command line waits longer than
 * the running node (which must not stall its loop).
 */
void authstore_busy_timeout(struct authstore *s, int ms);

/*
 * authstore_close(s):
 * Close the store (statements finalised, the connection closed); NULL
 * does nothing.
 */
void authstore_close(struct authstore *s);

/* Tokens */

/*
 * authstore_token_add(s, hash, attrs, nattrs, uses, expiry, creator, now,
 *     err, errlen):
 * Store a token by the SHA-256 ${hash} of its secret, granting the
 * ${nattrs} attributes ${attrs} (valid, distinct keys), with ${uses} uses
 * (at least 1), expiring at ${expiry}, made at ${now} by ${creator} (text,
 * cut to AUTHSTORE_CREATOR_MAX).  AUTHSTORE_OK, or AUTHSTORE_ERROR (a bad
 * attribute, a hash already stored, the database).
 */
enum authstore_result authstore_token_add(struct authstore *s,
    const uint8_t hash[CRYPTO_HASH_LEN], const struct cred_attr *attrs,
    size_t nattrs, unsigned uses, uint64_t expiry, const char *creator,
    uint64_t now, char *err, size_t errlen);

/*
 * authstore_token_revoke(s, ref, err, errlen):
 * Revoke the token whose reference is ${ref}: no use is left.
 * AUTHSTORE_OK, AUTHSTORE_NO_TOKEN, or AUTHSTORE_ERROR.
 */
enum authstore_result authstore_token_revoke(struct authstore *s,
    const char *ref, char *err, size_t errlen);

/*
 * authstore_tokens_outstanding(s, now, n, err, errlen):
 * The number of tokens with uses left, not revoked and not expired at
 * ${now} in *${n} (the metric).  0, or -1 with a message in ${err}.
 */
int authstore_tokens_outstanding(struct authstore *s, uint64_t now,
    uint64_t *n, char *err, size_t errlen);

/*
 * authstore_token_each(s, fn, arg, err, errlen):
 * Call ${fn}(${arg}, token) for every token, oldest first, until it
 * returns non-zero.  0, or -1 with a message in ${err} (a database error,
 * or ${fn} returned -1).
 */
int authstore_token_each(struct authstore *s,
    int (*fn)(void *, const struct authstore_token *), void *arg, char *err,
    size_t errlen);

/*
 * authstore_enrol(s, hash, id, now, issue, arg, m, ref, cred, cap, len,
 *     err, errlen):
 * Enrolment, one transaction: the token with ${hash} must exist, be
 * unexpired at ${now} with uses left, and ${id} must not be a member in
 * any state; then one use is taken, the member is added (active,
 * attributes from the token, how "token:REF"), a new serial allocated.
 * ${issue} is called inside the transaction with the member (attributes,
 * new serial) and must sign the credential into ${cred}/${len} (return 0,
 * or -1 to roll back); the bytes are stored as the member's newest
 * credential.  On success *${m} is the member and ${ref} the token's
 * reference (also set for token-* refusals and a revoked token, for audit
 * lines; "" when there is no such token).  A refusal changes nothing.
 * The active member ${id} that this token made, asking again before it
 * ever presented its credential (authstore_confirm, a renewal: its
 * answer was lost), gets its stored newest credential again with
 * AUTHSTORE_OK: no use is taken, no serial allocated, nothing changes.
 */
typedef int (*authstore_issue_fn)(void *arg, const struct authstore_member *m,
    uint8_t *cred, size_t cap, size_t *len);
enum authstore_result authstore_enrol(struct authstore *s,
    const uint8_t hash[CRYPTO_HASH_LEN], const uint8_t id[CRED_ID_LEN],
    uint64_t now, authstore_issue_fn issue, void *arg,
    struct authstore_member *m, char ref[AUTHTOKEN_REF_TEXT], uint8_t *cred,
    size_t cap, size_t *len, char *err, size_t errlen);

/*
 * authstore_renew(s, id, serial, now, issue, arg, m, cred, cap, len, err,
 *     errlen):
 * Renewal, one transaction: ${id} must be an active member. ${serial} is
 * the serial of the credential the node presents (on the channel,
 * verified by the caller). Equal to the newest: a new serial, ${issue}
 * signs, stored as newest (the old newest becomes previous, the new one
 * unconfirmed). Equal to the previous while the newest is unconfirmed
 * (the node never got the answer): the stored newest credential is
 * returned again, nothing changes. Any other (older) serial: the member
 * is locked and AUTHSTORE_SUPERSEDED returned. Presenting the newest
 * marks it confirmed.  A member added directly (no credential yet, newest
 * serial 0) gets its first credential the same way, whatever it presents
 * (0: none).  Serial 0 presented while the only credential issued is
 * unconfirmed is "the previous": a node that lost its enrolment answer
 * gets it by renewing.  The attributes signed are the member record's
 * (never the node's).
 *
 * A limit of this rule (not of the store): a clone that presents the
 * previous serial before the holder of the newest presented it anywhere
 * looks exactly like a node that lost the answer, gets the newest too,
 * and the two then renew in turn undetected.  authstore_confirm closes
 * that window: call it when a member presents its credential on any other
 * channel to the authority (the node should fetch the revocation list
 * with its new credential right after a renewal).
 */
enum authstore_result authstore_renew(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], uint64_t serial, uint64_t now,
    authstore_issue_fn issue, void *arg, struct authstore_member *m,
    uint8_t *cred, size_t cap, size_t *len, char *err, size_t errlen);

/*
 * authstore_confirm(s, id, serial, err, errlen):
 * The active member ${id} presented ${serial} on a channel to the
 * authority outside a renewal (verified by the caller).  Its newest:
 * marked confirmed, so the previous can no longer fetch it again.  The
 * previous while the newest is unconfirmed: nothing changes.  Older: the
 * member is locked, AUTHSTORE_SUPERSEDED, as in a renewal.  AUTHSTORE_OK,
 * a refusal (NOT_MEMBER, REMOVED, LOCKED, SUPERSEDED), or
 * AUTHSTORE_ERROR.
 */
enum authstore_result authstore_confirm(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], uint64_t serial, char *err, size_t errlen);

/* Members (the command line) */

/*
 * authstore_member_add(s, id, attrs, nattrs, now, err, errlen):
 * Add ${id} as an active member ("added", no credential yet) with the
 * attributes given.  AUTHSTORE_OK, AUTHSTORE_ALREADY_MEMBER (any state),
 * or AUTHSTORE_ERROR.
 */
enum authstore_result authstore_member_add(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], const struct cred_attr *attrs,
    size_t nattrs, uint64_t now, char *err, size_t errlen);

/*
 * authstore_member_set_attrs(s, id, attrs, nattrs, err, errlen):
 * Replace the member's attributes (the next credential carries them).
 * AUTHSTORE_OK, AUTHSTORE_NOT_MEMBER, or AUTHSTORE_ERROR.
 */
enum authstore_result authstore_member_set_attrs(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], const struct cred_attr *attrs,
    size_t nattrs, char *err, size_t errlen);

/*
 * authstore_member_remove(s, id, err, errlen):
 * State removed: no more renewals; its serials stay known for the
 * revocation list.  AUTHSTORE_OK (also if already removed),
 * AUTHSTORE_NOT_MEMBER, or AUTHSTORE_ERROR.
 */
enum authstore_result authstore_member_remove(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], char *err, size_t errlen);

/*
 * authstore_member_unlock(s, id, err, errlen):
 * A locked member becomes active again (the newest credential counts as
 * unconfirmed, so either of its last two serials may renew).
 * AUTHSTORE_OK (also if active), AUTHSTORE_NOT_MEMBER, AUTHSTORE_REMOVED,
 * or AUTHSTORE_ERROR.
 */
enum authstore_result authstore_member_unlock(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], char *err, size_t errlen);

/*
 * authstore_member_get(s, id, m, err, errlen):
 * The member ${id} into *${m}.  AUTHSTORE_OK, AUTHSTORE_NOT_MEMBER, or
 * AUTHSTORE_ERROR.
 */
enum authstore_result authstore_member_get(struct authstore *s,
    const uint8_t id[CRED_ID_LEN], struct authstore_member *m, char *err,
    size_t errlen);

/*
 * authstore_member_each(s, fn, arg, err, errlen):
 * Call ${fn}(${arg}, member) for every member, in joining order, until it
 * returns non-zero.  0, or -1 with a message in ${err} (a database error,
 * or ${fn} returned -1).
 */
int authstore_member_each(struct authstore *s,
    int (*fn)(void *, const struct authstore_member *), void *arg, char *err,
    size_t errlen);

/*
 * authstore_revoked_text(s, issuer, text, len, err, errlen):
 * The authority's revocation list as text in the format
 * cred_revoked_parse reads: the identifier of every removed or locked
 * member, and "ISSUER:SERIAL" (${issuer}, the authority's identifier) for
 * every serial issued to them.  Malloc'd into *${text} (*${len} bytes,
 * NUL-terminated too); 0 or -1.
 */
int authstore_revoked_text(struct authstore *s,
    const uint8_t issuer[CRED_ID_LEN], char **text, size_t *len, char *err,
    size_t errlen);

#endif /* !SALLYPORT_AUTHSTORE_H */
