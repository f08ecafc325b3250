/*
 * check_authstore: the authority's store: opening (mode, schema version),
 * every result of enrolment and renewal, members and tokens from the
 * command line's side, the revocation list, and crash safety (a child
 * killed with SIGKILL in the middle of a loop of enrolments).
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authstore.h"
#include "authtoken.h"
#include "config.h"
#include "cred.h"
#include "crypto.h"
#include "fixture.h"
#include "identity.h"

#define NOW FIXTURE_NOW

static char dir[64], path[128];
static struct authstore *st;
static char err[512];

/* What the last issue() saw, and whether the next one fails. */
static struct authstore_member issued;
static int issue_calls, issue_fail;

/* A fake signer: the credential is "cred" and the serial, 12 bytes. */
static int
issue(void *arg, const struct authstore_member *m, uint8_t *cred, size_t cap,
    size_t *len)
{
	size_t i;

	(void)arg;
	issue_calls++;
	issued = *m;
	if (issue_fail || cap < 12)
		return (-1);
	memcpy(cred, "cred", 4);
	for (i = 0; i < 8; i++)
		cred[4 + i] = (uint8_t)(m->serial >> (56 - 8 * i));
	*len = 12;
	return (0);
}

static void
setup(void)
{

	ck_assert_int_eq(crypto_init(), 0);
	strcpy(dir, "/tmp/check_authstore.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/corp.db", dir);
	ck_assert_msg(authstore_open(&st, path, err, sizeof(err)) == 0, "%s",
	    err);
	issue_calls = issue_fail = 0;
}

static void
teardown(void)
{
	char cmd[160];

	authstore_close(st);
	st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A token with ${uses} uses expiring at ${expiry}: its secret's hash. */
static void
token(uint8_t hash[CRYPTO_HASH_LEN], unsigned uses, uint64_t expiry,
    const char *attr)
{
	uint8_t secret[AUTHTOKEN_SECRET_LEN];
	struct cred_attr a[1];

	ck_assert_int_eq(crypto_random(secret, sizeof(secret)), 0);
	authtoken_hash(secret, hash);
	strcpy(a[0].key, "role");
	strcpy(a[0].value, attr);
	ck_assert_msg(authstore_token_add(st, hash, a, 1, uses, expiry,
	    "test", NOW, err, sizeof(err)) == AUTHSTORE_OK, "%s", err);
	wipe(secret, sizeof(secret));
}

/* A fresh random identifier. */
static void
newid(uint8_t id[CRED_ID_LEN])
{

	ck_assert_int_eq(crypto_random(id, CRED_ID_LEN), 0);
}

/* Enrol ${id} with ${hash}: the result. */
static enum authstore_result
enrol(const uint8_t *hash, const uint8_t *id, struct authstore_member *m,
    char ref[AUTHTOKEN_REF_TEXT], uint8_t *cred, size_t *len)
{

	return (authstore_enrol(st, hash, id, NOW, issue, NULL, m, ref, cred,
	    CRED_MAX_LEN, len, err, sizeof(err)));
}

static enum authstore_result
renew(const uint8_t *id, uint64_t serial, struct authstore_member *m,
    uint8_t *cred, size_t *len)
{

	return (authstore_renew(st, id, serial, NOW, issue, NULL, m, cred,
	    CRED_MAX_LEN, len, err, sizeof(err)));
}

/* A new member, enrolled with a token of its own: its first serial. */
static uint64_t
member_new(uint8_t id[CRED_ID_LEN], uint8_t *cred, size_t *len)
{
	uint8_t hash[CRYPTO_HASH_LEN];
	char ref[AUTHTOKEN_REF_TEXT];
	struct authstore_member m;

	token(hash, 1, NOW + 600, "web");
	newid(id);
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, len), AUTHSTORE_OK);
	return (m.serial);
}

/* The uses left of the token whose reference is ${ref}. */
struct find {
	const char *ref;
	int uses; /* -1: not found */
	int revoked;
};

static int
find_cb(void *arg, const struct authstore_token *t)
{
	struct find *f = arg;

	if (strcmp(t->ref, f->ref) != 0)
		return (0);
	f->uses = (int)t->uses;
	f->revoked = t->revoked;
	return (1);
}

static int
uses_left(const uint8_t hash[CRYPTO_HASH_LEN])
{
	char ref[AUTHTOKEN_REF_TEXT];
	struct find f = {ref, -1, 0};

	authtoken_ref(hash, ref);
	ck_assert_int_eq(authstore_token_each(st, find_cb, &f, err,
	    sizeof(err)), 0);
	return (f.uses);
}

START_TEST(test_open)
{
	struct stat sb;
	sqlite3 *db;
	struct authstore *s2;
	sqlite3_stmt *q;
	FILE *f;

	/* Made 0600, WAL, version 1. */
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), AUTHSTORE_SCHEMA_VERSION);
	sqlite3_finalize(q);

	/* A second opener of the same file: fine. */
	ck_assert_msg(authstore_open(&s2, path, err, sizeof(err)) == 0, "%s",
	    err);
	authstore_close(s2);

	/* A newer schema: refused, saying so. */
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 7", NULL,
	    NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(authstore_open(&s2, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "schema is version 7, newer"));
	ck_assert_int_eq(sqlite3_exec(db, "PRAGMA user_version = 1", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	/* Group or world writable: refused like a key file. */
	ck_assert_int_eq(chmod(path, 0620), 0);
	ck_assert_int_eq(authstore_open(&s2, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "writable by its group"));
	ck_assert_int_eq(chmod(path, 0602), 0);
	ck_assert_int_eq(authstore_open(&s2, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "writable by others"));
	ck_assert_int_eq(chmod(path, 0640), 0);
	ck_assert_msg(authstore_open(&s2, path, err, sizeof(err)) == 0, "%s",
	    err);
	authstore_close(s2);

	/* Not a file; a file that is not a database. */
	ck_assert_int_eq(authstore_open(&s2, dir, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "Is a directory"));
	snprintf(path, sizeof(path), "%s/text", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("this is not a database, just text\n", f);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(authstore_open(&s2, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a database"));
	/* A directory that does not exist: the reason, not a crash. */
	snprintf(path, sizeof(path), "%s/none/corp.db", dir);
	ck_assert_int_eq(authstore_open(&s2, path, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "No such file or directory"));
	authstore_close(NULL);
}
END_TEST

START_TEST(test_enrol_ok)
{
	uint8_t hash[CRYPTO_HASH_LEN], id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT], want[AUTHTOKEN_REF_TEXT], how[32];
	struct authstore_member m, g;
	size_t len;
	uint64_t n;

	token(hash, 2, NOW + 600, "web");
	authtoken_ref(hash, want);
	ck_assert_int_eq(authstore_tokens_outstanding(st, NOW, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	newid(id);
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, &len), AUTHSTORE_OK);
	ck_assert_str_eq(ref, want);
	ck_assert_int_eq(m.state, AUTHSTORE_MEMBER_ACTIVE);
	ck_assert_uint_eq(m.nattrs, 1);
	ck_assert_str_eq(m.attrs[0].key, "role");
	ck_assert_str_eq(m.attrs[0].value, "web");
	ck_assert_uint_ne(m.serial, 0);
	snprintf(how, sizeof(how), "token:%s", want);
	ck_assert_str_eq(m.how, how);
	/* issue() saw the same member: the token's attributes, the serial. */
	ck_assert_uint_eq(issued.serial, m.serial);
	ck_assert_str_eq(issued.attrs[0].value, "web");
	ck_assert_uint_eq(len, 12);
	ck_assert_mem_eq(cred, "cred", 4);
	ck_assert_int_eq(uses_left(hash), 1);
	/* And it is stored. */
	ck_assert_int_eq(authstore_member_get(st, id, &g, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_uint_eq(g.serial, m.serial);
	ck_assert_uint_eq(g.joined, NOW);
	ck_assert_str_eq(g.how, how);
	ck_assert_int_eq(g.confirmed, 0);
	ck_assert_int_eq(authstore_tokens_outstanding(st, NOW, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(authstore_tokens_outstanding(st, NOW + 600, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_enrol_refusals)
{
	uint8_t hash[CRYPTO_HASH_LEN], old[CRYPTO_HASH_LEN];
	uint8_t other[CRYPTO_HASH_LEN], none[CRYPTO_HASH_LEN];
	uint8_t id[CRED_ID_LEN], id2[CRED_ID_LEN], cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT], want[AUTHTOKEN_REF_TEXT];
	struct authstore_member m;
	size_t len;

	token(hash, 1, NOW + 600, "web");
	token(old, 5, NOW, "web");       /* expires at NOW: expired */
	token(other, 5, NOW + 600, "db");
	memset(none, 7, sizeof(none));
	newid(id);
	newid(id2);

	/* No such token: no reference. */
	ck_assert_int_eq(enrol(none, id, &m, ref, cred, &len),
	    AUTHSTORE_NO_TOKEN);
	ck_assert_str_eq(ref, "");
	/* Expired: the reference for the audit line, no use taken. */
	ck_assert_int_eq(enrol(old, id, &m, ref, cred, &len),
	    AUTHSTORE_TOKEN_EXPIRED);
	authtoken_ref(old, want);
	ck_assert_str_eq(ref, want);
	ck_assert_int_eq(uses_left(old), 5);
	/* The one use, then used. */
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, &len), AUTHSTORE_OK);
	ck_assert_int_eq(enrol(hash, id2, &m, ref, cred, &len),
	    AUTHSTORE_TOKEN_USED);
	authtoken_ref(hash, want);
	ck_assert_str_eq(ref, want);
	/* A member cannot enrol again with another token; its use stays. */
	ck_assert_int_eq(enrol(other, id, &m, ref, cred, &len),
	    AUTHSTORE_ALREADY_MEMBER);
	ck_assert_int_eq(uses_left(other), 5);
	/* Also when removed or locked. */
	ck_assert_int_eq(authstore_member_remove(st, id, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(enrol(other, id, &m, ref, cred, &len),
	    AUTHSTORE_ALREADY_MEMBER);
	/* Revoked: as if there were no token, the reference still given. */
	authtoken_ref(other, want);
	ck_assert_int_eq(authstore_token_revoke(st, want, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(enrol(other, id2, &m, ref, cred, &len),
	    AUTHSTORE_NO_TOKEN);
	ck_assert_str_eq(ref, want);
	ck_assert_int_eq(authstore_token_revoke(st, "Taaaaaaaaaaa", err,
	    sizeof(err)), AUTHSTORE_NO_TOKEN);
	ck_assert_int_eq(authstore_member_get(st, id2, &m, err, sizeof(err)),
	    AUTHSTORE_NOT_MEMBER);
}
END_TEST

/*
 * An enrolment whose answer was lost (the authority killed after the
 * commit): the same node with the same token gets the same credential
 * again, no use taken, no serial; not once it presented it, not with
 * another token, not another node.
 */
START_TEST(test_enrol_lost_answer)
{
	uint8_t hash[CRYPTO_HASH_LEN], other[CRYPTO_HASH_LEN];
	uint8_t id[CRED_ID_LEN], id2[CRED_ID_LEN], cred[CRED_MAX_LEN];
	uint8_t again[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT];
	struct authstore_member m;
	uint64_t serial;
	size_t len, len2;

	token(hash, 1, NOW + 600, "web");
	token(other, 5, NOW + 600, "web");
	newid(id);
	newid(id2);
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, &len), AUTHSTORE_OK);
	serial = m.serial;
	issue_calls = 0;
	ck_assert_int_eq(enrol(hash, id, &m, ref, again, &len2), AUTHSTORE_OK);
	ck_assert_int_eq(issue_calls, 0);
	ck_assert_uint_eq(m.serial, serial);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(again, cred, len);
	ck_assert_int_eq(uses_left(hash), 0);
	ck_assert_int_eq(enrol(hash, id2, &m, ref, again, &len2),
	    AUTHSTORE_TOKEN_USED);
	ck_assert_int_eq(enrol(other, id, &m, ref, again, &len2),
	    AUTHSTORE_ALREADY_MEMBER);
	ck_assert_int_eq(uses_left(other), 5);
	/* Presented once: the answer arrived; asking again is refused. */
	ck_assert_int_eq(authstore_confirm(st, id, serial, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(enrol(hash, id, &m, ref, again, &len2),
	    AUTHSTORE_TOKEN_USED);
}
END_TEST

START_TEST(test_enrol_issue_fails)
{
	uint8_t hash[CRYPTO_HASH_LEN], id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT];
	struct authstore_member m;
	size_t len;

	token(hash, 1, NOW + 600, "web");
	newid(id);
	/* The signer fails: rolled back, the use and the member with it. */
	issue_fail = 1;
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, &len),
	    AUTHSTORE_ERROR);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(uses_left(hash), 1);
	ck_assert_int_eq(authstore_member_get(st, id, &m, err, sizeof(err)),
	    AUTHSTORE_NOT_MEMBER);
	issue_fail = 0;
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, &len), AUTHSTORE_OK);
}
END_TEST

START_TEST(test_renew)
{
	uint8_t id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	uint8_t again[CRED_MAX_LEN];
	struct authstore_member m;
	uint64_t s1, s2, s3;
	size_t len, len2;

	s1 = member_new(id, cred, &len);

	/* Newest presented: a new serial, the old one previous. */
	ck_assert_int_eq(renew(id, s1, &m, cred, &len), AUTHSTORE_OK);
	s2 = m.serial;
	ck_assert_uint_gt(s2, s1);
	ck_assert_uint_eq(m.previous, s1);
	ck_assert_uint_eq(issued.serial, s2);

	/* The previous while the newest is unconfirmed: the same answer. */
	issue_calls = 0;
	ck_assert_int_eq(renew(id, s1, &m, again, &len2), AUTHSTORE_OK);
	ck_assert_int_eq(issue_calls, 0);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(again, cred, len);
	ck_assert_uint_eq(m.serial, s2);

	/* The newest presented: confirmed, renewed again. */
	ck_assert_int_eq(renew(id, s2, &m, cred, &len), AUTHSTORE_OK);
	s3 = m.serial;
	ck_assert_uint_gt(s3, s2);

	/* s1 now is older than the previous: two holders; locked. */
	ck_assert_int_eq(renew(id, s1, &m, cred, &len), AUTHSTORE_SUPERSEDED);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(m.state, AUTHSTORE_MEMBER_LOCKED);
	ck_assert_int_eq(authstore_member_get(st, id, &m, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(m.state, AUTHSTORE_MEMBER_LOCKED);
	/* Locked: even the newest is refused. */
	ck_assert_int_eq(renew(id, s3, &m, cred, &len), AUTHSTORE_LOCKED);

	/* Unlocked by the operator: the newest renews again. */
	ck_assert_int_eq(authstore_member_unlock(st, id, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(renew(id, s3, &m, cred, &len), AUTHSTORE_OK);

	/* Removed: refused; cannot be unlocked. */
	ck_assert_int_eq(authstore_member_remove(st, id, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(renew(id, m.serial, &m, cred, &len),
	    AUTHSTORE_REMOVED);
	ck_assert_int_eq(authstore_member_unlock(st, id, err, sizeof(err)),
	    AUTHSTORE_REMOVED);

	/* Not a member. */
	newid(id);
	ck_assert_int_eq(renew(id, 1, &m, cred, &len), AUTHSTORE_NOT_MEMBER);
	ck_assert_int_eq(authstore_member_remove(st, id, err, sizeof(err)),
	    AUTHSTORE_NOT_MEMBER);
	ck_assert_int_eq(authstore_member_unlock(st, id, err, sizeof(err)),
	    AUTHSTORE_NOT_MEMBER);
}
END_TEST

START_TEST(test_renew_lost_enrolment)
{
	uint8_t id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	uint8_t again[CRED_MAX_LEN];
	struct authstore_member m;
	size_t len, len2;

	/* The node never got its enrolment answer: serial 0 (none) gets
	 * the stored credential again, nothing new issued. */
	(void)member_new(id, cred, &len);
	issue_calls = 0;
	ck_assert_int_eq(renew(id, 0, &m, again, &len2), AUTHSTORE_OK);
	ck_assert_int_eq(issue_calls, 0);
	ck_assert_mem_eq(again, cred, len);
}
END_TEST

/*
 * Clone detection.  Without a confirmation, a clone presenting the
 * previous serial first gets the newest too (the documented limit); once
 * the holder of the newest presented it on another channel
 * (authstore_confirm), the previous locks the member.
 */
START_TEST(test_confirm_clone)
{
	uint8_t id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	struct authstore_member m;
	uint64_t s1, s2;
	size_t len;

	s1 = member_new(id, cred, &len);
	/* The holder renews: s2, unconfirmed.  A clone with s1 gets s2. */
	ck_assert_int_eq(renew(id, s1, &m, cred, &len), AUTHSTORE_OK);
	s2 = m.serial;
	ck_assert_int_eq(renew(id, s1, &m, cred, &len), AUTHSTORE_OK);
	ck_assert_uint_eq(m.serial, s2);
	/* The previous presented elsewhere: nothing changes. */
	ck_assert_int_eq(authstore_confirm(st, id, s1, err, sizeof(err)),
	    AUTHSTORE_OK);
	/* The newest presented elsewhere: confirmed (twice is fine). */
	ck_assert_int_eq(authstore_confirm(st, id, s2, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(authstore_confirm(st, id, s2, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(authstore_member_get(st, id, &m, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(m.confirmed, 1);
	/* Now the previous is a second holder: refused, locked. */
	ck_assert_int_eq(renew(id, s1, &m, cred, &len), AUTHSTORE_SUPERSEDED);
	ck_assert_int_eq(authstore_confirm(st, id, s2, err, sizeof(err)),
	    AUTHSTORE_LOCKED);
	/* Older on another channel locks too. */
	ck_assert_int_eq(authstore_member_unlock(st, id, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(renew(id, s2, &m, cred, &len), AUTHSTORE_OK);
	ck_assert_int_eq(authstore_confirm(st, id, s1, err, sizeof(err)),
	    AUTHSTORE_SUPERSEDED);
	ck_assert_int_eq(authstore_member_get(st, id, &m, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(m.state, AUTHSTORE_MEMBER_LOCKED);
	newid(id);
	ck_assert_int_eq(authstore_confirm(st, id, 1, err, sizeof(err)),
	    AUTHSTORE_NOT_MEMBER);
}
END_TEST

START_TEST(test_members)
{
	uint8_t id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	struct cred_attr a[2], bad[2];
	struct authstore_member m;
	size_t len;

	newid(id);
	strcpy(a[0].key, "role");
	strcpy(a[0].value, "db");
	strcpy(a[1].key, "env");
	strcpy(a[1].value, "prod");
	ck_assert_int_eq(authstore_member_add(st, id, a, 2, NOW, err,
	    sizeof(err)), AUTHSTORE_OK);
	ck_assert_int_eq(authstore_member_add(st, id, a, 2, NOW, err,
	    sizeof(err)), AUTHSTORE_ALREADY_MEMBER);
	ck_assert_int_eq(authstore_member_get(st, id, &m, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_str_eq(m.how, "added");
	ck_assert_uint_eq(m.serial, 0);
	ck_assert_uint_eq(m.nattrs, 2);

	/* A member added directly gets its first credential by renewing. */
	ck_assert_int_eq(renew(id, 0, &m, cred, &len), AUTHSTORE_OK);
	ck_assert_uint_ne(m.serial, 0);
	ck_assert_str_eq(issued.attrs[1].value, "prod");

	/* Attributes changed: the next credential carries them. */
	strcpy(a[0].value, "cache");
	ck_assert_int_eq(authstore_member_set_attrs(st, id, a, 1, err,
	    sizeof(err)), AUTHSTORE_OK);
	ck_assert_int_eq(renew(id, m.serial, &m, cred, &len), AUTHSTORE_OK);
	ck_assert_uint_eq(issued.nattrs, 1);
	ck_assert_str_eq(issued.attrs[0].value, "cache");

	/* Bad attributes: refused, nothing changed. */
	bad[0] = a[0];
	bad[1] = a[0]; /* duplicate key */
	ck_assert_int_eq(authstore_member_set_attrs(st, id, bad, 2, err,
	    sizeof(err)), AUTHSTORE_ERROR);
	strcpy(bad[0].value, "no spaces");
	ck_assert_int_eq(authstore_member_set_attrs(st, id, bad, 1, err,
	    sizeof(err)), AUTHSTORE_ERROR);
	newid(id);
	ck_assert_int_eq(authstore_member_add(st, id, bad, 1, NOW, err,
	    sizeof(err)), AUTHSTORE_ERROR);
	ck_assert_int_eq(authstore_member_get(st, id, &m, err, sizeof(err)),
	    AUTHSTORE_NOT_MEMBER);
	ck_assert_int_eq(authstore_member_set_attrs(st, id, a, 1, err,
	    sizeof(err)), AUTHSTORE_NOT_MEMBER);
	ck_assert_int_eq(authstore_token_add(st, id, bad, 1, 1, NOW + 1,
	    "t", NOW, err, sizeof(err)), AUTHSTORE_ERROR);
	ck_assert_int_eq(authstore_token_add(st, id, a, 1, 0, NOW + 1,
	    "t", NOW, err, sizeof(err)), AUTHSTORE_ERROR);
}
END_TEST

static int
count_cb(void *arg, const struct authstore_member *m)
{

	(void)m;
	(*(int *)arg)++;
	return (0);
}

START_TEST(test_revoked_text)
{
	uint8_t hash[CRYPTO_HASH_LEN], id[CRED_ID_LEN], keep[CRED_ID_LEN];
	uint8_t issuer[CRED_ID_LEN], cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT], *text;
	struct authstore_member m;
	struct cred_revoked rv;
	uint64_t s1, s2;
	size_t len, tlen;
	int n = 0;

	newid(issuer);
	token(hash, 2, NOW + 600, "web");
	newid(id);
	newid(keep);
	ck_assert_int_eq(enrol(hash, id, &m, ref, cred, &len), AUTHSTORE_OK);
	s1 = m.serial;
	ck_assert_int_eq(renew(id, s1, &m, cred, &len), AUTHSTORE_OK);
	s2 = m.serial;
	ck_assert_int_eq(enrol(hash, keep, &m, ref, cred, &len),
	    AUTHSTORE_OK);
	ck_assert_int_eq(authstore_member_each(st, count_cb, &n, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(n, 2);

	/* Nobody removed: an empty list, which parses. */
	ck_assert_int_eq(authstore_revoked_text(st, issuer, &text, &tlen,
	    err, sizeof(err)), 0);
	ck_assert_int_eq(cred_revoked_parse(&rv, text, tlen, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(rv.nids + rv.nissued, 0);
	cred_revoked_free(&rv);
	free(text);

	/* Removed: its identifier and both serials, the other member not. */
	ck_assert_int_eq(authstore_member_remove(st, id, err, sizeof(err)),
	    AUTHSTORE_OK);
	ck_assert_int_eq(authstore_revoked_text(st, issuer, &text, &tlen,
	    err, sizeof(err)), 0);
	ck_assert_msg(cred_revoked_parse(&rv, text, tlen, err,
	    sizeof(err)) == 0, "%s: %s", err, text);
	ck_assert(cred_revoked_has_id(&rv, id));
	ck_assert(!cred_revoked_has_id(&rv, keep));
	ck_assert(cred_revoked_has_serial(&rv, issuer, s1));
	ck_assert(cred_revoked_has_serial(&rv, issuer, s2));
	ck_assert_uint_eq(rv.nissued, 2);
	cred_revoked_free(&rv);
	free(text);
}
END_TEST

/*
 * Crash safety: a child enrols in a loop (50 tokens of 4 uses, more
 * identities than uses), writing each identifier it got AUTHSTORE_OK for
 * to a pipe; it is killed with SIGKILL after 40.  Then: no token used
 * beyond its uses (members per token = uses taken), every identifier
 * reported exists, every member has its credential.
 */
#define CRASH_TOKENS 50
#define CRASH_USES 4

static void
crash_child(int fd, uint8_t (*hashes)[CRYPTO_HASH_LEN])
{
	struct authstore *s;
	struct authstore_member m;
	uint8_t id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT], e[256];
	size_t len;
	int i;

	if (authstore_open(&s, path, e, sizeof(e)) == -1)
		_exit(2);
	authstore_busy_timeout(s, 5000);
	for (i = 0;; i++) {
		if (crypto_random(id, sizeof(id)) == -1)
			_exit(3);
		if (authstore_enrol(s, hashes[i % CRASH_TOKENS], id, NOW,
		    issue, NULL, &m, ref, cred, sizeof(cred), &len, e,
		    sizeof(e)) == AUTHSTORE_OK &&
		    write(fd, id, sizeof(id)) != (ssize_t)sizeof(id))
			_exit(4);
	}
}

struct crash_count {
	char refs[CRASH_TOKENS][AUTHTOKEN_REF_TEXT];
	int members[CRASH_TOKENS];
	int total;
};

static int
crash_member_cb(void *arg, const struct authstore_member *m)
{
	struct crash_count *c = arg;
	int i;

	c->total++;
	for (i = 0; i < CRASH_TOKENS; i++)
		if (strcmp(m->how + strlen("token:"), c->refs[i]) == 0)
			c->members[i]++;
	return (0);
}

START_TEST(test_crash)
{
	static uint8_t hashes[CRASH_TOKENS][CRYPTO_HASH_LEN];
	static struct crash_count c;
	uint8_t id[CRED_ID_LEN], cred[CRED_MAX_LEN];
	struct authstore_member m;
	int fds[2], i, status, got = 0, left;
	size_t len;
	ssize_t n;
	pid_t pid;

	for (i = 0; i < CRASH_TOKENS; i++) {
		token(hashes[i], CRASH_USES, NOW + 600, "web");
		authtoken_ref(hashes[i], c.refs[i]);
	}
	ck_assert_int_eq(pipe(fds), 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		crash_child(fds[1], hashes);
	}
	ck_assert_int_gt(pid, 0);
	close(fds[1]);
	/* Kill it in the middle: after 40 enrolments (of 200 possible). */
	for (got = 0; got < 40; got++)
		ck_assert_int_eq(read(fds[0], id, sizeof(id)), sizeof(id));
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status));

	/* Every identifier the child was told OK for exists (the pipe holds
	 * those written before the kill), with its credential. */
	authstore_close(st);
	ck_assert_msg(authstore_open(&st, path, err, sizeof(err)) == 0, "%s",
	    err);
	for (;;) {
		n = read(fds[0], id, sizeof(id));
		if (n == 0)
			break;
		ck_assert_int_eq(n, sizeof(id));
		got++;
		ck_assert_int_eq(authstore_member_get(st, id, &m, err,
		    sizeof(err)), AUTHSTORE_OK);
		/* its stored credential: serial 0 presented sends it again */
		ck_assert_int_eq(renew(id, 0, &m, cred, &len), AUTHSTORE_OK);
		ck_assert_uint_eq(len, 12);
	}
	close(fds[0]);

	/* No token used beyond its uses; members per token = uses taken. */
	ck_assert_int_eq(authstore_member_each(st, crash_member_cb, &c, err,
	    sizeof(err)), 0);
	ck_assert_int_ge(c.total, got);
	for (i = 0; i < CRASH_TOKENS; i++) {
		left = uses_left(hashes[i]);
		ck_assert_int_ge(left, 0);
		ck_assert_int_le(c.members[i], CRASH_USES);
		ck_assert_int_eq(c.members[i] + left, CRASH_USES);
	}
}
END_TEST

/*
 * Two processes at once, as a running authority and the command line:
 * one enrols 100 nodes with the node's short busy timeout (a call that
 * finds the store busy fails, and the node would retry: so does this
 * loop, counting them), the other adds 100 tokens and 100 members with
 * the command line's 5 s.  Every enrolment and every addition lands,
 * once.
 */
#define HAMMER 100

static int
hammer_authority(uint8_t (*hashes)[CRYPTO_HASH_LEN],
    uint8_t (*ids)[CRED_ID_LEN])
{
	struct authstore *s;
	struct authstore_member m;
	uint8_t cred[CRED_MAX_LEN];
	char ref[AUTHTOKEN_REF_TEXT], e[256];
	enum authstore_result r;
	size_t len;
	int i, busy = 0;

	if (authstore_open(&s, path, e, sizeof(e)) == -1)
		return (-1);
	for (i = 0; i < HAMMER; i++) {
		while ((r = authstore_enrol(s, hashes[i], ids[i], NOW, issue,
		    NULL, &m, ref, cred, sizeof(cred), &len, e,
		    sizeof(e))) == AUTHSTORE_ERROR && strstr(e, "busy") != NULL)
			busy++;
		if (r != AUTHSTORE_OK)
			return (-1);
	}
	authstore_close(s);
	return (busy);
}

static int
hammer_cli(uint8_t (*ids)[CRED_ID_LEN])
{
	struct authstore *s;
	struct cred_attr a;
	uint8_t hash[CRYPTO_HASH_LEN];
	char e[256];
	int i;

	strcpy(a.key, "role");
	strcpy(a.value, "cli");
	if (authstore_open(&s, path, e, sizeof(e)) == -1)
		return (-1);
	authstore_busy_timeout(s, 5000);
	for (i = 0; i < HAMMER; i++) {
		if (crypto_random(hash, sizeof(hash)) == -1 ||
		    authstore_token_add(s, hash, &a, 1, 1, NOW + 600, "cli",
		    NOW, e, sizeof(e)) != AUTHSTORE_OK ||
		    authstore_member_add(s, ids[i], &a, 1, NOW, e, sizeof(e)) !=
		    AUTHSTORE_OK)
			return (-1);
	}
	authstore_close(s);
	return (0);
}

START_TEST(test_two_processes)
{
	static uint8_t hashes[HAMMER][CRYPTO_HASH_LEN];
	static uint8_t ids[HAMMER][CRED_ID_LEN], cli_ids[HAMMER][CRED_ID_LEN];
	struct authstore_member m;
	int i, status, rc;
	pid_t a, b;
	uint64_t n;

	for (i = 0; i < HAMMER; i++) {
		token(hashes[i], 1, NOW + 600, "web");
		newid(ids[i]);
		newid(cli_ids[i]);
	}
	if ((a = fork()) == 0) {
		rc = hammer_authority(hashes, ids);
		if (rc >= 0)
			printf("test_two_processes: %d enrolments found the "
			    "store busy (5 ms) and were retried\n", rc);
		fflush(stdout);
		_exit(rc >= 0 ? 0 : 1);
	}
	if ((b = fork()) == 0)
		_exit(hammer_cli(cli_ids) == 0 ? 0 : 1);
	ck_assert_int_eq(waitpid(a, &status, 0), a);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(waitpid(b, &status, 0), b);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < HAMMER; i++) {
		ck_assert_int_eq(authstore_member_get(st, ids[i], &m, err,
		    sizeof(err)), AUTHSTORE_OK);
		ck_assert_str_eq(m.attrs[0].value, "web");
		ck_assert_int_eq(uses_left(hashes[i]), 0);
		ck_assert_int_eq(authstore_member_get(st, cli_ids[i], &m, err,
		    sizeof(err)), AUTHSTORE_OK);
		ck_assert_str_eq(m.how, "added");
	}
	ck_assert_int_eq(authstore_tokens_outstanding(st, NOW, &n, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(n, HAMMER); /* the command line's, unused */
}
END_TEST

/* The backend a store value picks: a URI is PostgreSQL, the rest a file. */
START_TEST(test_store_kind)
{

	ck_assert(config_store_is_postgres("postgresql://h/db"));
	ck_assert(config_store_is_postgres("postgres://u@h:5432/db"));
	ck_assert(!config_store_is_postgres("/var/lib/sallyport/corp.db"));
	ck_assert(!config_store_is_postgres("postgresql:/h/db"));
	ck_assert(!config_store_is_postgres("store/postgresql://x"));
	ck_assert(!config_store_is_postgres("POSTGRESQL://h/db"));
	ck_assert(!config_store_is_postgres(""));
}
END_TEST

/* Messages name a URI without its password; a path as it is. */
START_TEST(test_redact)
{
	static const char *const cases[][2] = {
		{"/var/lib/sallyport/corp.db", "/var/lib/sallyport/corp.db"},
		{"postgresql://h/db", "postgresql://h/db"},
		{"postgresql://u@h/db", "postgresql://u@h/db"},
		{"postgresql://u:s3cret@h:5432/db", "postgresql://u:***@h:5432/db"},
		{"postgres://u:p@ss@h/db", "postgres://u:***@h/db"},
		{"postgresql://u@h/db?password=s3cret&sslmode=require",
		    "postgresql://u@h/db?password=***&sslmode=require"},
		{"postgresql://h/db?sslmode=require&password=s3cret",
		    "postgresql://h/db?sslmode=require&password=***"},
		{"postgresql://u:a@h/db?application_name=x@y",
		    "postgresql://u:***@h/db?application_name=x@y"},
	};
	char out[128];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_str_eq(authstore_redact(cases[i][0], out,
		    sizeof(out)), cases[i][1]);
	/* Cut, never overrun. */
	ck_assert_str_eq(authstore_redact("postgresql://u:s3cret@h/db", out,
	    18), "postgresql://u:**");
}
END_TEST

/*
 * A PostgreSQL URI opens libpq's backend (no file of that name is made),
 * without connecting: nobody listens on port 1, so the first call fails
 * at once, unavailable, saying why, the password not in the message; the
 * next within the backoff fails at once too, saying so.  A URI libpq
 * cannot read is refused at open, the password not quoted.
 */
START_TEST(test_open_postgres_refused)
{
	static const uint8_t id[CRED_ID_LEN] = {1};
	struct authstore *pg = NULL;
	struct authstore_member m;
	char msg[1024];

	ck_assert_int_eq(authstore_open(&pg,
	    "postgresql://u:s3cret@127.0.0.1:1/db", msg, sizeof(msg)), 0);
	ck_assert_int_eq(access("postgresql:", F_OK), -1);
	ck_assert_int_eq(authstore_member_add(pg, id, NULL, 0, NOW, msg,
	    sizeof(msg)), AUTHSTORE_UNAVAILABLE);
	ck_assert_ptr_nonnull(strstr(msg, "postgresql://u:***@127.0.0.1:1/db: "
	    "begin: cannot connect: "));
	ck_assert_ptr_null(strstr(msg, "s3cret"));
	ck_assert_int_eq(authstore_member_get(pg, id, &m, msg, sizeof(msg)),
	    AUTHSTORE_ERROR);
	ck_assert_ptr_nonnull(strstr(msg, "the database is unavailable "
	    "(connecting again in "));
	authstore_close(pg);
	ck_assert_int_eq(authstore_open(&pg,
	    "postgresql://u:s3cret@h/db?nosuch=%zz", msg, sizeof(msg)), -1);
	ck_assert_ptr_nonnull(strstr(msg, "not a PostgreSQL URI"));
	ck_assert_ptr_null(strstr(msg, "s3cret"));
}
END_TEST

static Suite *
authstore_suite(void)
{
	Suite *s = suite_create("authstore");
	TCase *tc;

	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_enrol_ok);
	tcase_add_test(tc, test_enrol_refusals);
	tcase_add_test(tc, test_enrol_issue_fails);
	tcase_add_test(tc, test_enrol_lost_answer);
	tcase_add_test(tc, test_renew);
	tcase_add_test(tc, test_renew_lost_enrolment);
	tcase_add_test(tc, test_confirm_clone);
	tcase_add_test(tc, test_members);
	tcase_add_test(tc, test_revoked_text);
	tcase_add_test(tc, test_store_kind);
	tcase_add_test(tc, test_redact);
	tcase_add_test(tc, test_open_postgres_refused);
	suite_add_tcase(s, tc);
	tc = tcase_create("crash");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_two_processes);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{

	return (fixture_main(authstore_suite()));
}
