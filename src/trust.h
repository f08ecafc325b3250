/*
 * trust: what the node presents and what it refuses besides its allow
 * lists: its identity key, the channel credentials signed with it (two
 * generations, re-signed at half their lifetime), the credential files
 * and the revocation list.  The first row of the runtime's table of parts
 * (trust_part): a reload loads all of it first and swaps it in at once.
 * Never binds a socket.
 */
#ifndef SALLYPORT_TRUST_H
#define SALLYPORT_TRUST_H

#include <stdint.h>

#include "config.h"
#include "cred.h"
#include "env.h"
#include "identity.h"
#include "part.h"

/*
 * trust_lifetime():
 * The attestation lifetime in seconds (a day; in tests
 * SALLYPORT_TEST_LIFETIME may shorten it).
 */
uint64_t trust_lifetime(void);

/*
 * trust_load(cfg, id, block, len, rv, extra, extralen, err, errlen):
 * Load what ${cfg} says about trust besides the key: its credential
 * files (for the identity ${id}) into ${block} (its size in ${len}) and
 * its revocation list, with the ${extralen} bytes of list at ${extra}
 * (the enrolment authority's, env->revoked_auth), into ${rv}.  Return
 * 0, or -1 with a message in ${err} (nothing held).
 */
int trust_load(const struct config *cfg, const uint8_t id[IDENTITY_ID_LEN],
    uint8_t block[CRED_BLOCK_MAX], size_t *len, struct cred_revoked *rv,
    const char *extra, size_t extralen, char *err, size_t errlen);

/*
 * trust_resign(e, now):
 * Sign a new attestation (fresh static key, at the time ${now}) into the
 * spare generation of ${e}'s credentials and make it current; handshakes
 * in flight keep the old one.  Logged either way.
 */
void trust_resign(struct env *e, uint64_t now);

/*
 * trust_protect(e):
 * Keep key material out of core dumps and swap (docs/security.md): no
 * core file at all (RLIMIT_CORE 0, on top of PR_SET_DUMPABLE); the pages
 * of ${e}'s credentials (identity key, static keys) locked and marked
 * MADV_DONTDUMP; and, when RLIMIT_MEMLOCK is unlimited (LimitMEMLOCK=
 * infinity or CAP_IPC_LOCK), every page, now and later (mlockall), so the
 * per-connection keys never reach swap either.  With a finite limit
 * mlockall is not tried (later allocations would fail at the limit): the
 * fallback is logged.
 */
void trust_protect(struct env *e);

/*
 * trust_part:
 * The row of the node's trust: start loads the credential files and the
 * revocation list (host->env->local[0] holds the key); a reload loads the
 * key, the credentials and the list (prepare), swaps them in (commit:
 * a new key drops the resumption tickets, and sets r->rotated in
 * prepare), and hands renewed credentials to live channels and relay
 * sessions (revoke, the last of all rows); a file the sandbox does not
 * let the node read fails the reload.  Every second it wipes the expired
 * resumption tickets (expire).
 */
extern const struct part_ops trust_part;

#endif
