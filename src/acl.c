/*
 * acl: see acl.h.
 */
#include <string.h>

#include "acl.h"

/*
 * acl_allows(o, id):
 * Return true if the raw peer identifier ${id} is on the allow-list of the
 * outlet ${o}; false if it is not, if the list is empty, or if ${o} or
 * ${id} is NULL.
 *
 * Identifiers are public values (hashes of public keys), so memcmp is fine
 * here; the list is short and scanned in full order of the config.
 */
bool
acl_allows(const struct config_outlet *o, const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	if (o == NULL || id == NULL || o->allow == NULL)
		return (false);
	for (i = 0; i < o->nallow; i++) {
		if (memcmp(o->allow[i], id, CONFIG_ID_LEN) == 0)
			return (true);
	}
	return (false);
}

/* Whether ${id} is one of the ${n} identifiers at ${list}. */
static bool
listed(const uint8_t (*list)[CONFIG_ID_LEN], size_t n,
    const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(list[i], id, CONFIG_ID_LEN) == 0)
			return (true);
	return (false);
}

/*
 * acl_known(cfg, id):
 * Whether any allow list of ${cfg} names ${id}: an outlet's allow, a
 * relay name's allow or register, or a try_allow of either.  The cheap first look at an identity
 * a peer claims, before its attestation is verified (channel peer
 * filter); the real decision is acl_allows (or the relay's) afterwards.
 */
bool
acl_known(const struct config *cfg, const uint8_t id[CONFIG_ID_LEN])
{
	size_t i;

	const struct config_list *t;

	for (i = 0; i < cfg->noutlets; i++) {
		t = &cfg->outlets[i].pol.try_allow;
		if (listed(cfg->outlets[i].allow, cfg->outlets[i].nallow, id) ||
		    listed(t->ids, t->nids, id))
			return (true);
	}
	for (i = 0; i < cfg->nrelays; i++) {
		t = &cfg->relays[i].pol.try_allow;
		if (listed(cfg->relays[i].allow, cfg->relays[i].nallow, id) ||
		    listed(cfg->relays[i].reg, cfg->relays[i].nreg, id) ||
		    listed(t->ids, t->nids, id))
			return (true);
	}
	return (false);
}

/* Credential problems, worst last: a deny names the worst one found. */
enum problem {
	P_NONE,
	P_UNTRUSTED,
	P_INVALID,
	P_FORGED, /* a signature that does not hold */
	P_NOT_YET,
	P_EXPIRED,
	P_SUBJECT,
	P_REVOKED
};

static const char *const problem_names[] = {NULL, "credential-untrusted",
    "credential-invalid", "credential-invalid", "credential-not-yet-valid",
    "credential-expired",
    "credential-subject-mismatch", "credential-revoked"};

/*
 * acl_problem_name(i):
 * The ${i}th audit reason a credential's problem gives (a verdict's
 * reason, acl_claims' *why), from 0 (a name may come twice); NULL past
 * the last.
 */
const char *
acl_problem_name(size_t i)
{

	if (i + 1 >= sizeof(problem_names) / sizeof(problem_names[0]))
		return (NULL);
	return (problem_names[i + 1]);
}

/* When ${c} stops being valid: not-after plus ${skew}, saturated. */
static uint64_t
cred_end(const struct cred *c, uint64_t skew)
{

	return (c->not_after > UINT64_MAX - skew ? UINT64_MAX :
	    c->not_after + skew);
}

/*
 * Whether the signature of the credential ${buf} (${len} bytes) holds at
 * ${now}: a verified one is remembered in ${cache}, a failed one in its
 * ring of bad ones (keyed on the bytes), so neither is verified again
 * soon.
 */
static bool
sig_holds(struct sigcache *cache, uint64_t now, const uint8_t *buf,
    size_t len)
{
	uint8_t key[CRYPTO_HASH_LEN];

	cred_cache_key(key, buf, len);
	if (sigcache_seen(cache, key))
		return (true);
	if (sigcache_bad(cache, key, now))
		return (false);
	if (cred_verify_sig(buf, len) == -1) {
		sigcache_add_bad(cache, key, now);
		return (false);
	}
	sigcache_add(cache, key);
	return (true);
}

/*
 * Check the credential ${buf} (${len} bytes) of the peer ${id}: decode it
 * into ${c} and return P_NONE if it is valid now, else its problem.
 */
static enum problem
cred_check(const struct acl_ctx *ax, const uint8_t *id, const uint8_t *buf,
    size_t len, struct cred *c)
{
	uint64_t skew = ax->cfg->node.credential_skew;

	if (cred_decode(c, buf, len, NULL) == -1)
		return (P_INVALID);
	/* Deny by default: an issuer [authorities] does not name. */
	if (config_authority_find(ax->cfg, c->issuer) == NULL)
		return (P_UNTRUSTED);
	/* Someone else's credential is useless without its key. */
	if (memcmp(c->subject, id, CRED_ID_LEN) != 0)
		return (P_SUBJECT);
	if (!sig_holds(ax->cache, ax->now, buf, len))
		return (P_FORGED);
	if (cred_revoked_has_serial(ax->revoked, c->issuer, c->serial))
		return (P_REVOKED);
	if (c->not_before > ax->now + skew)
		return (P_NOT_YET);
	if (ax->now >= cred_end(c, skew))
		return (P_EXPIRED);
	return (P_NONE);
}

/*
 * Whether the term ${t} holds in ${c}: its attribute has one of the
 * term's values, or (negated) has none of them, absent included.  A
 * credential's keys are unique (cred.h), so one attribute decides.
 */
static bool
term_holds(const struct config_term *t, const struct cred *c)
{
	size_t i, j;

	for (j = 0; j < c->nattrs; j++) {
		if (strcmp(t->key, c->attrs[j].key) != 0)
			continue;
		for (i = 0; i < t->nvalues; i++)
			if (strcmp(t->values[i], c->attrs[j].value) == 0)
				return (!t->neg);
		break;
	}
	return (t->neg != 0);
}

/* Whether ${c} is of the authority of ${r} and every term holds in it. */
static bool
rule_holds(const struct config_rule *r, const struct cred *c)
{
	size_t i;

	if (!config_rule_issued_by(r, c->issuer))
		return (false);
	for (i = 0; i < r->nterms; i++)
		if (!term_holds(&r->terms[i], c))
			return (false);
	return (true);
}

/*
 * Check each credential of ${peer} into ${ck}: the first one of each
 * authority only, and none after a signature that fails.
 */
static void
creds_check(const struct acl_ctx *ax, const struct acl_peer *peer,
    struct acl_checked *ck)
{
	uint8_t seen[CRED_MAX_BLOCK][CRED_ID_LEN], subject[CRED_ID_LEN];
	const uint8_t *buf;
	enum problem pb;
	size_t off = 0, len, nseen = 0, k, i;

	ck->done = 1;
	ck->worst = P_NONE;
	ck->nvalid = 0;
	for (k = 0; k < CRED_MAX_BLOCK && cred_block_next(peer->creds,
	    peer->creds_len, &off, &buf, &len) == 1; k++) {
		if (cred_claim(buf, len, subject, seen[nseen], NULL) == 0) {
			for (i = 0; i < nseen; i++)
				if (memcmp(seen[i], seen[nseen], CRED_ID_LEN) ==
				    0)
					break;
			if (i < nseen)
				continue; /* that authority's first one counts */
			nseen++;
		}
		pb = cred_check(ax, peer->id, buf, len, &ck->valid[ck->nvalid]);
		if (pb == P_NONE)
			ck->nvalid++;
		else if ((int)pb > ck->worst)
			ck->worst = (int)pb;
		if (pb == P_FORGED)
			break;
	}
}

/* The first of the ${nrules} rules at ${rules} that holds in one valid
 * credential of ${ck}; its credential in *${c}.  NULL: none. */
static const struct config_rule *
rule_found(const struct config_rule *rules, size_t nrules,
    const struct acl_checked *ck, const struct cred **c)
{
	size_t i, j;

	for (j = 0; j < ck->nvalid; j++)
		for (i = 0; i < nrules; i++)
			if (rule_holds(&rules[i], &ck->valid[j])) {
				*c = &ck->valid[j];
				return (&rules[i]);
			}
	return (NULL);
}

/*
 * Whether the list ${l} (may be NULL) names ${peer}: its identifier, or a
 * rule that holds in a valid credential it shows (checked into ${ck}
 * once).  *${rule} is that rule's text, or NULL for the identifier.
 */
static bool
list_names(const struct acl_ctx *ax, const struct config_list *l,
    const struct acl_peer *peer, struct acl_checked *ck, const char **rule)
{
	const struct config_rule *r;
	const struct cred *c;

	*rule = NULL;
	if (l == NULL)
		return (false);
	if (listed(l->ids, l->nids, peer->id))
		return (true);
	if (l->nrules == 0 || peer->creds == NULL)
		return (false);
	if (!ck->done)
		creds_check(ax, peer, ck);
	if ((r = rule_found(l->rules, l->nrules, ck, &c)) == NULL)
		return (false);
	*rule = r->text;
	return (true);
}

/*
 * acl_from(f, src):
 * Whether the address ${src} (may be NULL: unknown) lies in one of the
 * ranges of ${f}, or ${f} has none.
 */
bool
acl_from(const struct config_from *f, const struct sockaddr_storage *src)
{
	size_t i;

	if (f->n == 0)
		return (true);
	for (i = 0; src != NULL && i < f->n; i++)
		if (addr_cidr_has(&f->nets[i], src))
			return (true);
	return (false);
}

/*
 * acl_admit(ax, pol, ids, nids, rules, nrules, peer, ck, v):
 * See acl.h.  The try entries of ${pol} are looked at once the decision
 * is taken, and only change ${v}: a try_deny entry that names an allowed
 * peer, a try_allow entry that names a peer denied for want of an allow
 * entry (not one denied as revoked or by a deny entry).
 */
bool
acl_admit(const struct acl_ctx *ax, const struct config_policy *pol,
    const uint8_t (*ids)[CONFIG_ID_LEN], size_t nids,
    const struct config_rule *rules, size_t nrules,
    const struct acl_peer *peer, struct acl_checked *ck,
    struct acl_verdict *v)
{
	const struct config_rule *r;
	const struct cred *c;
	struct acl_checked own;
	bool ok = false;

	memset(v, 0, sizeof(*v));
	if (peer == NULL || peer->id == NULL)
		return (false);
	if (cred_revoked_has_id(ax->revoked, peer->id)) {
		v->reason = "revoked";
		return (false);
	}
	if (ck == NULL) {
		ck = &own;
		ck->done = 0;
	}
	if (list_names(ax, pol != NULL ? &pol->deny : NULL, peer, ck,
	    &v->deny_rule)) {
		v->reason = "denied";
		v->deny_listed = v->deny_rule == NULL;
		return (false);
	}
	if (pol != NULL && !acl_from(&pol->from, peer->src)) {
		v->reason = "not-from";
		return (false);
	}
	if (listed(ids, nids, peer->id))
		ok = true;
	else if (nrules > 0 && peer->creds != NULL) {
		if (!ck->done)
			creds_check(ax, peer, ck);
		if ((r = rule_found(rules, nrules, ck, &c)) != NULL) {
			v->rule = r->text;
			v->expiry = cred_end(c, ax->cfg->node.credential_skew);
			ok = true;
		} else
			v->reason = problem_names[ck->worst];
	}
	if (pol != NULL && list_names(ax, ok ? &pol->try_deny :
	    &pol->try_allow, peer, ck, &v->try_rule))
		v->would = ok ? "would-deny" : "would-allow";
	return (ok);
}

/* The line of the rule whose text is ${text} among the ${n} at ${rules}
 * (a verdict's rule= or deny_rule=); 0 if none. */
static int
rule_line(const struct config_rule *rules, size_t n, const char *text)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (rules[i].text == text)
			return (rules[i].line);
	return (0);
}

/*
 * acl_outlet(ax, co, peer, ck, v):
 * acl_admit() of ${peer} on the lists of the outlet ${co}.
 */
bool
acl_outlet(const struct acl_ctx *ax, const struct config_outlet *co,
    const struct acl_peer *peer, struct acl_checked *ck,
    struct acl_verdict *v)
{
	bool ok;

	ok = acl_admit(ax, &co->pol, co->allow, co->nallow, co->rules,
	    co->nrules, peer, ck, v);
	v->line = ok ? rule_line(co->rules, co->nrules, v->rule) :
	    rule_line(co->pol.deny.rules, co->pol.deny.nrules, v->deny_rule);
	return (ok);
}

/*
 * acl_relay(ax, cr, reg, peer, ck, v):
 * acl_admit() of ${peer} on the register or allow list of ${cr}.
 */
bool
acl_relay(const struct acl_ctx *ax, const struct config_relay *cr, int reg,
    const struct acl_peer *peer, struct acl_checked *ck,
    struct acl_verdict *v)
{
	const struct config_rule *rules = reg ? cr->reg_rules :
	    cr->allow_rules;
	size_t n = reg ? cr->nreg_rules : cr->nallow_rules;
	bool ok;

	ok = acl_admit(ax, &cr->pol, reg ? cr->reg : cr->allow,
	    reg ? cr->nreg : cr->nallow, rules, n, peer, ck, v);
	v->line = ok ? rule_line(rules, n, v->rule) :
	    rule_line(cr->pol.deny.rules, cr->pol.deny.nrules, v->deny_rule);
	return (ok);
}

/* Whether one of the ${n} rules at ${rules} names the authority ${issuer}. */
static bool
issuer_in(const struct config_rule *rules, size_t n, const uint8_t *issuer)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (config_rule_issued_by(&rules[j], issuer))
			return (true);
	return (false);
}

/* Whether some attribute rule of an allow, register or try_allow list of
 * ${cfg} names the authority ${issuer}. */
static bool
issuer_in_rules(const struct config *cfg, const uint8_t *issuer)
{
	const struct config_outlet *o;
	const struct config_relay *r;
	size_t i;

	for (i = 0; i < cfg->noutlets; i++) {
		o = &cfg->outlets[i];
		if (issuer_in(o->rules, o->nrules, issuer) ||
		    issuer_in(o->pol.try_allow.rules, o->pol.try_allow.nrules,
		    issuer))
			return (true);
	}
	for (i = 0; i < cfg->nrelays; i++) {
		r = &cfg->relays[i];
		if (issuer_in(r->reg_rules, r->nreg_rules, issuer) ||
		    issuer_in(r->allow_rules, r->nallow_rules, issuer) ||
		    issuer_in(r->pol.try_allow.rules,
		    r->pol.try_allow.nrules, issuer))
			return (true);
	}
	return (false);
}

/*
 * acl_claims(cfg, cache, now, id, creds, len, why):
 * The look before the peer's attestation is checked: whether ${id} is
 * named by some list (acl_known), or presents a credential for itself
 * from an authority some attribute rule names, whose signature holds.
 * Of a credential only its header is read (cred_claim): its attributes
 * are an unauthenticated peer's bytes until the identity is proven.  One
 * signature at most is verified (the first claim's): a forged header
 * costs that one, remembered, and never an attestation check.  On false,
 * *${why} is the problem of the credentials shown (credential-invalid,
 * -untrusted or -subject-mismatch), or NULL if none was shown.
 */
bool
acl_claims(const struct config *cfg, struct sigcache *cache,
    uint64_t now, const uint8_t id[CONFIG_ID_LEN], const uint8_t *creds,
    size_t len, const char **why)
{
	enum problem worst = P_NONE, pb;
	uint8_t subject[CRED_ID_LEN], issuer[CRED_ID_LEN];
	const uint8_t *buf;
	size_t off = 0, n;

	*why = NULL;
	if (acl_known(cfg, id))
		return (true);
	if (creds == NULL)
		return (false);
	while (cred_block_next(creds, len, &off, &buf, &n) == 1) {
		if (cred_claim(buf, n, subject, issuer, NULL) == -1)
			pb = P_INVALID;
		else if (!issuer_in_rules(cfg, issuer))
			pb = P_UNTRUSTED;
		else if (memcmp(subject, id, CRED_ID_LEN) != 0)
			pb = P_SUBJECT;
		else if (sig_holds(cache, now, buf, n))
			return (true);
		else
			pb = P_FORGED;
		if (pb > worst)
			worst = pb;
		if (pb == P_FORGED)
			break;
	}
	*why = problem_names[worst];
	return (false);
}
