/*
 * enrol: the node's side of an authority channel (authmsg.h), as a
 * blocking client for the command line (`sallyport enroll`) and a node's
 * first start: dial one of the authority's addresses, pin the authority
 * node by its credential (the rule authority=NAME@NAME, where NAME is
 * the authority's identifier from the token: no trust on first use), ask
 * (enrol with a token's secret, renew, or the revocation list) and read
 * the whole answer.  Each phase (connect, handshake, each piece of the
 * answer) has its own deadline; the answer is bounded (AUTHMSG_DOC_MAX).
 * Never writes files and never logs: the caller does.
 */
#ifndef SALLYPORT_ENROL_H
#define SALLYPORT_ENROL_H

#include <stddef.h>
#include <stdint.h>

#include "authmsg.h"
#include "authtoken.h"
#include "channel.h"
#include "cred.h"
#include "identity.h"

#define ENROL_ADDR_TEXT 256 /* "host:port" of an authority, as written */
#define ENROL_TIMEOUT 10.   /* seconds per phase: connect, handshake, ... */
#define ENROL_RETRY_MAX 10. /* sallyport enroll's longest backoff, seconds */

/* Whom to ask: an authority as a token names it. */
struct enrol_target {
	const char *name;                  /* the [authority NAME] name */
	/* its identifiers: the token's, or during a key rotation those
	 * [authorities] gives its name (config.h enroll_ids) */
	const uint8_t (*ids)[CRED_ID_LEN];
	size_t nids;
	const char (*addrs)[ENROL_ADDR_TEXT]; /* its addresses, in order */
	size_t naddrs;
	double timeout; /* seconds per phase (connect, handshake, piece) */
};

/* What the authority answered. */
struct enrol_answer {
	char reason[AUTHMSG_REASON_MAX + 1]; /* refused: why ("" if not) */
	uint8_t cred[CRED_MAX_LEN];          /* the credential issued */
	size_t credlen;                      /* 0: none (REVOKED) */
	struct cred c;                       /* decoded, checked */
	char *revoked;      /* its revocation list (malloc'd, NUL ended) */
	size_t revoked_len;
	char addr[ENROL_ADDR_TEXT]; /* the address that answered */
};

/*
 * enrol_ask(t, idn, creds, clen, type, secret, now, a, err, errlen):
 * As the identity ${idn} presenting the credential block ${creds} (${clen}
 * bytes, 0: none), ask the authority ${t} at each of its addresses in
 * turn until one answers: ${type} is AUTHMSG_ENROL (with the token's
 * ${secret}, AUTHMSG_SECRET_LEN bytes), AUTHMSG_RENEW or
 * AUTHMSG_REVOKED.  ${now}: the time (seconds since the epoch).  Return
 * 0 with the answer in ${a} (a credential for ${idn} signed by the
 * authority, checked; or a refusal word in a->reason), or -1 with a
 * message in ${err} (no address answered).  enrol_answer_fini frees
 * ${a}.
 */
int enrol_ask(const struct enrol_target *t, const struct identity *idn,
    const uint8_t *creds, size_t clen, enum authmsg_type type,
    const uint8_t *secret, uint64_t now, struct enrol_answer *a, char *err,
    size_t errlen);

/*
 * The answer's document being put together from its pieces (for a client
 * on the loop, as enrol_ask's own).
 */
struct enrol_doc {
	uint8_t *doc; /* malloc'd once the first piece came */
	size_t total, have;
};

/*
 * enrol_ask_msg(type, secret, msg, len):
 * The question ${type} (ENROL with ${secret}, RENEW, REVOKED) into ${msg}.
 */
void enrol_ask_msg(enum authmsg_type type, const uint8_t *secret,
    uint8_t msg[AUTHMSG_MAX], size_t *len);

/*
 * enrol_doc_add(d, m, a, msg, len):
 * The authority's message ${m} (parsed) for the answer ${d} (zeroed
 * before the first).  Return 0 with the next ask (MORE) in ${msg},
 * ${len}; 1 when the answer is whole (its credential, not yet checked,
 * and revocation list in ${a}; or a->reason, refused); -1 if ${m} is out
 * of turn or memory ran out.  ${d} holds nothing after 1 or -1.
 */
int enrol_doc_add(struct enrol_doc *d, const struct authmsg *m,
    struct enrol_answer *a, uint8_t msg[AUTHMSG_MAX], size_t *len);

/*
 * enrol_doc_fini(d):
 * Free what ${d} holds.
 */
void enrol_doc_fini(struct enrol_doc *d);

/*
 * enrol_authority_check(arg, id, creds, len):
 * The channel_peer_check of a channel to the authority ${arg} (a struct
 * enrol_target): the responder ${id} shows a credential of its own from
 * the authority, holding authority=NAME (acl_admit of that rule).
 */
int enrol_authority_check(void *arg, const uint8_t id[CHANNEL_ID_LEN],
    const uint8_t *creds, size_t len);

/*
 * enrol_check_cred(t, id, a, err, errlen):
 * The credential of the answer ${a} decodes, its signature holds, the
 * authority of ${t} issued it for the identifier ${id}: decoded into
 * a->c.  Return 0, or -1 with a message.
 */
int enrol_check_cred(const struct enrol_target *t, const uint8_t *id,
    struct enrol_answer *a, char *err, size_t errlen);

/*
 * enrol_token_load(arg, t, err, errlen):
 * The token ${arg} (a line "sallyport-token-1:...") or the file ${arg}
 * holding it, parsed into ${t} (wipe it after use).  Return 0, or -1 with
 * a message in ${err} (never the secret).
 */
int enrol_token_load(const char *arg, struct authtoken *t, char *err,
    size_t errlen);

/*
 * enrol_target_of(t, x, timeout):
 * Whom the token ${t} (borrowed while ${x} is used) names, asked with
 * ${timeout} seconds per phase.
 */
void enrol_target_of(const struct authtoken *t, struct enrol_target *x,
    double timeout);

/* What enrol_join came to. */
enum enrol_outcome {
	ENROL_JOINED,      /* the credential is in the file */
	ENROL_REFUSED,     /* a->reason says why */
	ENROL_UNREACHABLE, /* no address answered: try again later */
	ENROL_FAILED       /* a bad token, or the file not written */
};

/*
 * enrol_join(token, idn, out, t, a, err, errlen):
 * Join the authority of the token ${token} (enrol_token_load, into ${t}:
 * wipe it after use) as ${idn}, asking each of its addresses in turn,
 * and write the credential issued to the file ${out} (cred_save).  The
 * answer in ${a} (enrol_answer_fini frees it); ${err} says why for
 * ENROL_UNREACHABLE and ENROL_FAILED.
 */
enum enrol_outcome enrol_join(const char *token, const struct identity *idn,
    const char *out, struct authtoken *t, struct enrol_answer *a, char *err,
    size_t errlen);

/*
 * enrol_join_retry(token, idn, out, t, a, bound, max, retrying, arg, err,
 *     errlen):
 * enrol_join again while it comes to ENROL_UNREACHABLE (no address
 * answered, or the authority refused "busy": its worker's queue was full)
 * for at most ${bound} seconds (< 0: without end), sleeping between two
 * tries a backoff from 1 s doubling to ${max} s, drawn from [b/2, b] so
 * that nodes refused together do not come back together.  ${retrying}
 * (may be NULL) is called with ${arg}, the token, the reason and the
 * sleep before each sleep.  What the last try came to.
 */
enum enrol_outcome enrol_join_retry(const char *token,
    const struct identity *idn, const char *out, struct authtoken *t,
    struct enrol_answer *a, double bound, double max,
    void (*retrying)(void *arg, const struct authtoken *t, const char *why,
    double in), void *arg, char *err, size_t errlen);

/*
 * enrol_join_free(t, a):
 * Wipe and free a token and an answer allocated for enrol_join (either
 * may be NULL).
 */
void enrol_join_free(struct authtoken *t, struct enrol_answer *a);

/*
 * enrol_answer_fini(a):
 * Free what ${a} holds.
 */
void enrol_answer_fini(struct enrol_answer *a);

#endif
