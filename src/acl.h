/*
 * acl: the access decision of an outlet: may this peer identity use this
 * outlet?  Deny by default: an outlet with no allow entries admits nobody.
 * Pure: no sockets, no clock, no logging (the caller writes the audit line).
 */
#ifndef SALLYPORT_ACL_H
#define SALLYPORT_ACL_H

#include <stdbool.h>
#include <stdint.h>

#include "channel.h"
#include "config.h"
#include "cred.h"
#include "sigcache.h"

/*
 * acl_allows(o, id):
 * Return true if the raw peer identifier ${id} is on the allow-list of the
 * outlet ${o}; false if it is not, if the list is empty, or if ${o} or
 * ${id} is NULL.
 */
bool acl_allows(const struct config_outlet *o,
    const uint8_t id[CONFIG_ID_LEN]);

/*
 * acl_known(cfg, id):
 * Whether any allow list of ${cfg} names ${id}: an outlet's allow, a
 * relay name's allow or register, or a try_allow of either.  The cheap first look at an identity
 * a peer claims, before its attestation is verified (channel peer
 * filter); the real decision is acl_allows (or the relay's) afterwards.
 */
bool acl_known(const struct config *cfg, const uint8_t id[CONFIG_ID_LEN]);

/* What a peer shows: its verified identifier, the credentials it sent,
 * the address it connected from. */
struct acl_peer {
	const uint8_t *id;    /* verified identifier */
	const uint8_t *creds; /* credential block as received, or NULL */
	size_t creds_len;
	const struct sockaddr_storage *src; /* as this node sees it; NULL:
					       unknown (in no from range) */
};

/* What a decision needs besides the lists: trust, revocation, time. */
struct acl_ctx {
	const struct config *cfg;           /* [authorities], the skew */
	const struct cred_revoked *revoked; /* NULL: none */
	struct sigcache *cache;             /* verified signatures, or NULL */
	uint64_t now;                       /* seconds since the epoch */
};

/*
 * A peer's credentials once checked (acl_admit fills it when it must
 * look at them): the valid ones, at most one per authority, and the worst
 * problem of the others.  Kept by a caller that decides on several lists
 * for one peer (a relay's names), so each credential is checked once per
 * decision; set ${done} to 0 before the first list.
 */
struct acl_checked {
	int done;
	int worst;     /* the worst problem found (acl.c's order), 0: none */
	size_t nvalid;
	struct cred valid[CRED_MAX_BLOCK];
};

/* The outcome of acl_admit. */
struct acl_verdict {
	const char *reason; /* deny: "revoked" or "credential-..."; NULL:
			       no list names the peer (the caller's word) */
	const char *rule;   /* allow by attribute rule: its text, else NULL */
	uint64_t expiry;    /* allow by rule: the end of that credential
			       (with the skew), else 0 (no end) */
	const char *deny_rule; /* deny by a deny rule: its text, else NULL */
	bool deny_listed;      /* deny: the deny list names the peer */
	const char *would;     /* a try entry would turn the decision:
				  "would-allow" or "would-deny"; NULL: no */
	const char *try_rule;  /* that entry: a rule's text, NULL: the
				  peer's identifier */
	int line;              /* the line of the rule that decided (rule=
				  or deny_rule=), 0: none or an identifier */
};

/*
 * acl_admit(ax, pol, ids, nids, rules, nrules, peer, ck, v):
 * The decision for one list: first the deny entries of ${pol} (may be
 * NULL) and its from ranges, then the ${nids} identifiers at ${ids} and the ${nrules}
 * attribute rules at ${rules}.  A revoked identifier is denied (reason
 * "revoked"); an identifier the deny list names, or a peer with a valid
 * credential in which a deny rule holds, is denied (reason "denied",
 * v->deny_listed or v->deny_rule says which entry); a peer whose address
 * (peer->src) lies in none of the from ranges, when there are some, is
 * denied (reason "not-from"); a listed one is
 * allowed; otherwise each credential of ${peer} is checked (issuer in
 * [authorities], subject equal to the peer's identifier, signature,
 * serial not revoked, not-before and not-after within the skew) and the
 * peer is allowed when one rule's terms all hold in one valid credential
 * of the rule's authority.  Only the first credential of each authority
 * counts, and the first one whose signature fails ends the look (a node
 * never sends a forged one: each is a signature verification a stranger
 * could ask for), so one decision runs at most one verification that
 * fails.  ${ck} (may be NULL) keeps the check for the next list of the
 * same decision.  On a deny the worst credential problem found is the
 * reason (credential-revoked, -subject-mismatch, -expired,
 * -not-yet-valid, -invalid, -untrusted), or NULL.  Then the try entries
 * of ${pol}, never enforced: v->would is "would-deny" when a try_deny
 * entry names an allowed peer, "would-allow" when a try_allow entry names
 * a peer that no allow entry admitted (not one revoked or denied by a
 * deny entry), v->try_rule the entry.  Return true to allow; ${v} says
 * why.
 */
bool acl_admit(const struct acl_ctx *ax, const struct config_policy *pol,
    const uint8_t (*ids)[CONFIG_ID_LEN], size_t nids,
    const struct config_rule *rules, size_t nrules,
    const struct acl_peer *peer, struct acl_checked *ck,
    struct acl_verdict *v);

/*
 * acl_from(f, src):
 * Whether the address ${src} (may be NULL: unknown) lies in one of the
 * ranges of ${f}, or ${f} has none (from = of an outlet, relay or inlet).
 */
bool acl_from(const struct config_from *f,
    const struct sockaddr_storage *src);

/*
 * acl_outlet(ax, co, peer, ck, v):
 * acl_admit() of ${peer} on the lists of the outlet ${co}: the decision
 * an outlet takes for a connection (and policy explain shows).
 */
bool acl_outlet(const struct acl_ctx *ax, const struct config_outlet *co,
    const struct acl_peer *peer, struct acl_checked *ck,
    struct acl_verdict *v);

/*
 * acl_relay(ax, cr, reg, peer, ck, v):
 * acl_admit() of ${peer} on the register list (${reg} nonzero) or the
 * allow list of the relay name ${cr}, with its deny and try lists: the
 * decision a relay takes (and policy explain shows).
 */
bool acl_relay(const struct acl_ctx *ax, const struct config_relay *cr,
    int reg, const struct acl_peer *peer, struct acl_checked *ck,
    struct acl_verdict *v);

/*
 * acl_problem_name(i):
 * The ${i}th audit reason a credential's problem gives (a verdict's
 * reason, acl_claims' *why), from 0 (a name may come twice); NULL past
 * the last.
 */
const char *acl_problem_name(size_t i);

/*
 * acl_claims(cfg, cache, now, id, creds, len, why):
 * The look before the peer's attestation is checked: whether ${id} is
 * named by some list of ${cfg} (acl_known), or presents (in the block
 * ${creds} of ${len} bytes) a credential for itself from an authority
 * some attribute rule names, whose signature holds at ${now}.  Of a
 * credential only the header is read (cred_claim), and one signature at
 * most is verified (through ${cache}, which also remembers a failed one
 * for a while: a forged header costs one verification, and no
 * attestation check).  On false, *${why} is the problem of the
 * credentials shown (credential-invalid, -untrusted or
 * -subject-mismatch), or NULL if none was shown.
 */
bool acl_claims(const struct config *cfg, struct sigcache *cache,
    uint64_t now, const uint8_t id[CONFIG_ID_LEN], const uint8_t *creds,
    size_t len, const char **why);

#endif
