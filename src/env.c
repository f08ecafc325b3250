/*
 * env: see env.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "identity.h"
#include "metrics.h"
#include "ticket.h"

/*
 * env_local(e):
 * The credentials new channels of ${e} use.
 */
const struct channel_local *
env_local(const struct env *e)
{

	return (&e->local[e->cur]);
}

/* Audit decisions whose series env.c keeps (more take over slots). */
#define ENV_DECISIONS 96
/* Refusal codes with a reason of their own (env_refusal_reason). */
#define ENV_REFUSALS 16

/*
 * The handles of sallyport_access_decisions_total{role, decision,
 * reason}, by the texts of the role and reason: the first ndecisions
 * entries, the first nfixed of them (env_audit_init's, a stranger's)
 * never taken over, the others resolved at their first use.  Role and
 * reason are text of static storage that never changes (env_audit's
 * contract) and handles live as long as the process (metrics.h), so an
 * entry never goes stale, whatever a reload rebuilds: the table is the
 * process's, like the registry.
 */
static struct {
	const char *role;
	const char *reason;
	const char *word; /* "allow", "deny", "would-allow", "would-deny" */
	struct metrics_series *s;
} decisions[ENV_DECISIONS];
static size_t ndecisions, nfixed;
static size_t decisions_next; /* the slot a new one takes over */

/* The handle of the decision ${word} for ${reason} by ${role}. */
static struct metrics_series *
decision_series(const char *word, const char *reason, const char *role)
{
	size_t i;

	for (i = 0; i < ndecisions; i++)
		if (strcmp(decisions[i].word, word) == 0 &&
		    strcmp(decisions[i].reason, reason) == 0 &&
		    strcmp(decisions[i].role, role) == 0)
			return (decisions[i].s);
	if (ndecisions < ENV_DECISIONS)
		i = ndecisions++;
	else
		i = nfixed + decisions_next++ % (ENV_DECISIONS - nfixed);
	decisions[i].role = role;
	decisions[i].reason = reason;
	decisions[i].word = word;
	decisions[i].s = metrics_series(METRICS_ACCESS_DECISIONS, role, word,
	    reason);
	return (decisions[i].s);
}

/*
 * env_audit_init():
 * Resolve the series of every audit decision a stranger's connection can
 * reach: a deny, as an outlet or a relay, by the front's peer filter
 * (not-allowed, the relay's not-registrant, revoked, a credential's
 * problem) or by a relay's preamble check (a ticket's error).  Once per
 * process, before the first connection; later calls find them made.
 */
void
env_audit_init(void)
{
	static const char *const roles[] = {"outlet", "relay"};
	static const char *const words[] = {"not-allowed", "not-registrant",
	    "revoked"};
	const char *w;
	size_t i, k;

	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		for (k = 0; k < sizeof(words) / sizeof(words[0]); k++)
			(void)decision_series("deny", words[k], roles[i]);
		for (k = 0; (w = acl_problem_name(k)) != NULL; k++)
			(void)decision_series("deny", w, roles[i]);
		for (k = TICKET_EFORMAT; k <= TICKET_ENAME + 1; k++)
			(void)decision_series("deny",
			    ticket_strerror((int)k), roles[i]);
	}
	if (ndecisions <= ENV_DECISIONS / 2)
		nfixed = ndecisions;
}

/*
 * env_refusal_reason(remote, code):
 * The audit reason for a refusal ${code} (enum channel_refusal) that a
 * relay sent ("relay-" and the code's word) or, if ${remote}, the remote
 * node ("remote-"): text of static storage, as env_audit() wants.
 */
const char *
env_refusal_reason(int remote, unsigned code)
{
	static char words[2][ENV_REFUSALS][48];
	char *w;

	/* Codes past the table are unknown: "refused", as code 0's. */
	w = words[remote != 0][code < ENV_REFUSALS ? code : 0];
	if (w[0] == '\0')
		snprintf(w, sizeof(words[0][0]), "%s-%s",
		    remote ? "remote" : "relay", channel_refusal_name(code));
	return (w);
}

/*
 * The audit line of the decision ${decision} ("allow", "deny",
 * "would-allow", "would-deny") at ${level}, and its count; ${tail} ends
 * the line (may be "").  Return 1 if printed, 0 if the limit ${lim} left
 * it out.
 */
static int
audit_word(const struct env *e, struct log_limit *lim, enum log_level level,
    const char *decision, const char *reason, const uint8_t *id,
    const char *service, const char *role, const char *tail)
{
	char peer[IDENTITY_TEXT_SIZE], svc[CONFIG_NAME_MAX], line[1024];
	const char *name;
	size_t i;

	/* A requested name comes from the peer: keep log values one word. */
	for (i = 0; service[i] != '\0' && i < sizeof(svc) - 1; i++) {
		unsigned char ch = (unsigned char)service[i];

		svc[i] = (ch > 0x20 && ch < 0x7f && ch != '=') ? (char)ch : '?';
	}
	svc[i] = '\0';
	if (i == 0)
		strcpy(svc, "-");
	metrics_inc(decision_series(decision, reason, role), 1);
	name = id != NULL ? config_peer_name(e->cfg, id) : NULL;
	snprintf(line, sizeof(line), "event=audit decision=%s reason=%s "
	    "peer=%s%s%s service=%s role=%s%s", decision, reason, id != NULL ? identity_id_format(id, peer) : "-",
	    name != NULL ? " peer_name=" : "", name != NULL ? name : "", svc,
	    role, tail);
	if (lim != NULL)
		return (log_limited(lim, ev_now(e->loop), level, "%s", line));
	log_msg(level, "%s", line);
	return (1);
}

/* audit_word() of an allow (info) or a deny (warn). */
static int
audit(const struct env *e, struct log_limit *lim, int allow,
    const char *reason, const uint8_t *id, const char *service,
    const char *role, const char *tail)
{

	return (audit_word(e, lim, allow ? LOG_LVL_INFO : LOG_LVL_WARN,
	    allow ? "allow" : "deny", reason, id, service, role, tail));
}

/*
 * The deny entry that decided ${v} about ${id}, as " deny_rule=ENTRY" in
 * ${buf} (${size} bytes): the deny rule as written, or the identifier a
 * deny list names; "" when no deny entry decided.  Return ${buf}.
 */
static const char *
deny_entry(const struct acl_verdict *v, const uint8_t *id, char *buf,
    size_t size)
{
	char peer[IDENTITY_TEXT_SIZE];

	buf[0] = '\0';
	if (v != NULL && v->deny_rule != NULL)
		snprintf(buf, size, " deny_rule=%s", v->deny_rule);
	else if (v != NULL && v->deny_listed && id != NULL)
		snprintf(buf, size, " deny_rule=%s",
		    identity_id_format(id, peer));
	return (buf);
}

/*
 * The limit for a decision about ${id}: none for an allow or a peer some
 * identifier list names; else the one of lines anyone can cause.
 */
static struct log_limit *
deny_limit(struct env *e, int allow, const uint8_t *id)
{

	return (!allow && id != NULL && !acl_known(e->cfg, id) ?
	    &e->anyone_log : NULL);
}

/*
 * env_audit_limited(e, lim, allow, reason, id, service, role):
 * Log one access decision ("audit"): ${id} is the raw peer identifier or
 * NULL, ${service} the service asked for (printed safely); under the
 * rate limit ${lim} (NULL: always logged) for decisions anyone can cause.
 */
void
env_audit_limited(const struct env *e, struct log_limit *lim, int allow,
    const char *reason, const uint8_t *id, const char *service,
    const char *role)
{

	audit(e, lim, allow, reason, id, service, role, "");
}

/*
 * env_audit_note(e, lim, allow, reason, id, service, role, note):
 * env_audit_limited() with ${note} (" key=value...", printed as is, our
 * own text) at the end of the line.
 */
void
env_audit_note(const struct env *e, struct log_limit *lim, int allow,
    const char *reason, const uint8_t *id, const char *service,
    const char *role, const char *note)
{

	audit(e, lim, allow, reason, id, service, role, note);
}

/*
 * env_audit_claimed(e, lim, c, reason, id, service, role):
 * A deny decided on the identifier ${id} the peer of ${c} claims, before
 * its proof was checked: as env_audit_limited(), with verified=no, then
 * conn= and src= as env_audit_conn().  Return 1 if printed, else 0.
 */
int
env_audit_claimed(const struct env *e, struct log_limit *lim,
    const struct conn *c, const char *reason, const uint8_t *id,
    const char *service, const char *role)
{
	char src[ADDR_TEXT_MAX + 16], tail[ADDR_TEXT_MAX + 80];

	snprintf(tail, sizeof(tail), " verified=no conn=%" PRIu64 " src=%s",
	    c->id, conn_src_text(c, src, sizeof(src)));
	return (audit(e, lim, 0, reason, id, service, role, tail));
}

/*
 * env_audit(e, allow, reason, id, service, role):
 * env_audit_limited() without a limit.
 */
void
env_audit(const struct env *e, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role)
{

	env_audit_limited(e, NULL, allow, reason, id, service, role);
}

/*
 * The line of a try entry that would have turned the decision ${v} (may
 * be NULL) about ${id}: decision=would-allow (the entry as rule=) or
 * would-deny (as deny_rule=), reason=try, then ${tail}; nothing when no
 * try entry would.  Counted like every audit line; a would-allow, about a
 * peer that was denied, under the limit of lines anyone can cause.
 */
static void
would(struct env *e, const struct acl_verdict *v, const uint8_t *id,
    const char *service, const char *role, const char *tail)
{
	char peer[IDENTITY_TEXT_SIZE];
	char line[ADDR_TEXT_MAX + CONFIG_RULE_TEXT + 80];
	bool deny;

	if (v == NULL || v->would == NULL || id == NULL)
		return;
	deny = strcmp(v->would, "would-deny") == 0;
	snprintf(line, sizeof(line), " %s=%s%s", deny ? "deny_rule" : "rule",
	    v->try_rule != NULL ? v->try_rule : identity_id_format(id, peer),
	    tail);
	audit_word(e, deny_limit(e, deny, id), LOG_LVL_INFO, v->would, "try",
	    id, service, role, line);
}

/*
 * env_audit_conn_verdict(e, c, allow, reason, service, role, v):
 * env_audit() for the connection ${c}: its verified peer (or none), the
 * attribute rule that admitted it (rule=, from ${v} or c->rule; ${v} may
 * be NULL), then conn= (to join the line with open and close) and src=
 * (the address of its accepted socket's peer) at the end.  A deny takes
 * v->reason (a credential problem) over ${reason}.
 */
void
env_audit_conn_verdict(struct env *e, const struct conn *c, int allow,
    const char *reason, const char *service, const char *role,
    const struct acl_verdict *v)
{
	char src[ADDR_TEXT_MAX + 16], dr[CONFIG_RULE_TEXT + 16];
	char tail[ADDR_TEXT_MAX + 2 * CONFIG_RULE_TEXT + 80];
	const char *rule = v != NULL ? v->rule : c->rule;
	const uint8_t *id = c->ch != NULL ? channel_peer_id(c->ch) : NULL;

	if (!allow && v != NULL && v->reason != NULL)
		reason = v->reason;
	snprintf(tail, sizeof(tail), "%s%s%s conn=%" PRIu64 " src=%s",
	    allow && rule != NULL ? " rule=" : "",
	    allow && rule != NULL ? rule : "",
	    allow ? "" : deny_entry(v, id, dr, sizeof(dr)), c->id,
	    conn_src_text(c, src, sizeof(src)));
	audit(e, deny_limit(e, allow, id), allow, reason, id, service, role,
	    tail);
	env_audit_conn_would(e, c, service, role, v);
}

/*
 * env_audit_conn_would(e, c, service, role, v):
 * The try line of the decision ${v} (may be NULL) about the peer of ${c}
 * (would-allow, would-deny), with conn= and src=; nothing if no try entry
 * would have turned it.
 */
void
env_audit_conn_would(struct env *e, const struct conn *c,
    const char *service, const char *role, const struct acl_verdict *v)
{
	char src[ADDR_TEXT_MAX + 16], tail[ADDR_TEXT_MAX + 48];

	if (v == NULL || v->would == NULL || c->ch == NULL)
		return;
	snprintf(tail, sizeof(tail), " conn=%" PRIu64 " src=%s", c->id,
	    conn_src_text(c, src, sizeof(src)));
	would(e, v, channel_peer_id(c->ch), service, role, tail);
}

/* Seconds between two audit lines of one pair's limit refusals. */
#define ENV_LIMIT_AUDIT 1.

/*
 * env_limit_refused(e, c, id, service, role, k, x, lim):
 * A new connection refused at the limit ${k}: count it; audit it at most
 * once a second per pair, with the count of refusals since.
 */
void
env_limit_refused(struct env *e, const struct conn *c, const uint8_t *id,
    const char *service, const char *role, enum limit_kind k,
    struct limit_entry *x, const struct config_limits *lim)
{
	char src[ADDR_TEXT_MAX + 16], tail[ADDR_TEXT_MAX + 200];
	ev_tstamp now = ev_now(e->loop);
	size_t n;

	metrics_add(METRICS_REFUSED, 1, role, limit_kind_name(k), NULL);
	if (x != NULL && now - x->audited < ENV_LIMIT_AUDIT) {
		/* Counted for the pair's next line; the decision still is. */
		metrics_add(METRICS_ACCESS_DECISIONS, 1, role, "deny", "limit");
		return;
	}
	n = (size_t)snprintf(tail, sizeof(tail), " limit=%s live=%u max=%u "
	    "rate=%u burst=%u refused=%" PRIu64, limit_kind_name(k),
	    x != NULL ? x->live : 0, lim->max_conns, lim->rate,
	    lim->burst != 0 ? lim->burst : lim->rate,
	    x != NULL ? x->refused : 1);
	if (c != NULL && n < sizeof(tail))
		snprintf(tail + n, sizeof(tail) - n, " conn=%" PRIu64 " src=%s",
		    c->id, conn_src_text(c, src, sizeof(src)));
	if (audit(e, &e->refuse_log, 0, "limit", id, service, role, tail) &&
	    x != NULL) {
		x->audited = now;
		x->refused = 0;
	}
}

/*
 * env_limit_reload(e, t, role, of):
 * A reload: bound ${t} anew; log each pair now over its cap.
 */
void
env_limit_reload(struct env *e, struct limit_table *t, const char *role,
    const struct config_limits *(*of)(const struct config *, const char *))
{
	const struct config_limits *lim;
	char peer[IDENTITY_TEXT_SIZE];
	size_t i;

	limit_table_set_cap(t,
	    (size_t)e->cfg->node.max_connections + LIMIT_IDLE_KEEP);
	for (i = 0; i < t->n; i++) {
		if (t->e[i].live == 0 ||
		    (lim = of(e->cfg, t->e[i].name)) == NULL ||
		    lim->max_conns == 0 || t->e[i].live <= lim->max_conns)
			continue;
		log_warn("event=limit-below-open role=%s name=%s peer=%s "
		    "live=%u max_connections_per_peer=%u", role, t->e[i].name,
		    identity_id_format(t->e[i].id, peer), t->e[i].live,
		    lim->max_conns);
	}
}

/*
 * env_audit_conn(e, c, allow, reason, service, role):
 * env_audit_conn_verdict() without a verdict.
 */
void
env_audit_conn(struct env *e, const struct conn *c, int allow,
    const char *reason, const char *service, const char *role)
{

	env_audit_conn_verdict(e, c, allow, reason, service, role, NULL);
}

/*
 * env_resume_keep(e, c, role):
 * [node] resume, responder: once the peer of ${c} is allowed, keep the
 * ticket it now holds after a full handshake.
 */
void
env_resume_keep(struct env *e, const struct conn *c, const char *role)
{
	struct channel_resume t;
	uint64_t now = (uint64_t)ev_now(e->loop);

	if (!e->cfg->node.resume)
		return;
	if (channel_is_resumed(c->ch)) {
		log_debug("event=resumed role=%s conn=%" PRIu64, role, c->id);
	} else if (channel_resume_export(c->ch, now, &t) == 0) {
		resumecache_put(e->resume_in, &t, now);
	}
	channel_resume_fini(&t);
}

/*
 * env_keypair(e, ch):
 * Give the new channel ${ch} an ephemeral key pair made ahead of time, if
 * ${e}'s pool has one.
 */
void
env_keypair(struct env *e, struct channel *ch)
{
	uint8_t k[32], pub[32];

	if (epool_take(e->epool, k, pub) == 0)
		channel_use_keypair(ch, k, pub);
	wipe(k, sizeof(k));
}

/*
 * env_acl(e, ax):
 * Fill ${ax} for an access decision of ${e} now (acl_admit): the
 * configuration, the revocation list, the cache, the loop's time.
 */
void
env_acl(const struct env *e, struct acl_ctx *ax)
{

	ax->cfg = e->cfg;
	ax->revoked = &e->revoked;
	ax->cache = e->cache;
	ax->now = (uint64_t)ev_now(e->loop);
}

/*
 * env_admit(e, peer, pol, ids, nids, rules, nrules, ck, v):
 * acl_admit() of ${peer} on the deny and try lists ${pol} (may be NULL)
 * and the list of the ${nids} identifiers at ${ids} and the ${nrules}
 * attribute rules at ${rules}, by ${e} now (env_acl).
 */
bool
env_admit(const struct env *e, const struct acl_peer *peer,
    const struct config_policy *pol, const uint8_t (*ids)[CONFIG_ID_LEN],
    size_t nids,
    const struct config_rule *rules, size_t nrules, struct acl_checked *ck,
    struct acl_verdict *v)
{
	struct acl_ctx ax;

	env_acl(e, &ax);
	return (acl_admit(&ax, pol, ids, nids, rules, nrules, peer, ck, v));
}

/*
 * env_audit_verdict(e, allow, reason, id, service, role, v):
 * env_audit() for an acl_admit decision ${v}: an allow by an attribute
 * rule says which (rule=...); a deny takes v->reason over ${reason}.
 */
void
env_audit_verdict(struct env *e, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role,
    const struct acl_verdict *v)
{
	char tail[CONFIG_RULE_TEXT + 16];

	tail[0] = '\0';
	if (allow && v->rule != NULL)
		snprintf(tail, sizeof(tail), " rule=%s", v->rule);
	else if (!allow)
		deny_entry(v, id, tail, sizeof(tail));
	if (!allow && v->reason != NULL)
		reason = v->reason;
	audit(e, deny_limit(e, allow, id), allow, reason, id, service, role,
	    tail);
	would(e, v, id, service, role, "");
}

/*
 * env_audit_tail(e, allow, reason, id, service, role, tail):
 * env_audit() with ${tail} (" key=value ...", or "") at the end.
 */
void
env_audit_tail(const struct env *e, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role,
    const char *tail)
{

	audit(e, NULL, allow, reason, id, service, role, tail);
}

/* One pass of env_end_each(). */
struct ending {
	struct env *e;
	const struct conn_ops *ops;
	int (*keeps)(struct env *, struct conn *);
	const char *reason;
	const char *role;
	unsigned n;
};

static void
end_one(struct conn *c, void *arg)
{
	struct ending *en = arg;

	if (c->ops != en->ops || en->keeps(en->e, c))
		return;
	env_audit_conn(en->e, c, 0, en->reason, c->service, en->role);
	c->quiet = 1;
	conn_drop(c, CONN_R_REVOKED);
	en->n++;
}

/*
 * env_end_each(e, ops, keeps, reason, role):
 * End every live connection of ${e} served by ${ops} (a role's) for which
 * ${keeps}(e, c) says 0: audit deny ${reason} (role ${role}), close
 * reason=revoked.  Return how many ended.  A reload's revocation, a
 * credential's expiry.
 */
unsigned
env_end_each(struct env *e, const struct conn_ops *ops,
    int (*keeps)(struct env *, struct conn *), const char *reason,
    const char *role)
{
	struct ending en = {e, ops, keeps, reason, role, 0};

	conn_ctx_each(&e->ctx, end_one, &en);
	return (en.n);
}

/* Keep ${c} until the credential that admitted it (if any) expires. */
static int
unexpired(struct env *e, struct conn *c)
{

	return (c->cred_expiry == 0 ||
	    (uint64_t)ev_now(e->loop) < c->cred_expiry);
}

/*
 * env_expire_each(e, ops, role):
 * env_end_each() for the connections served by ${ops} that a credential
 * admitted (c->cred_expiry) once it has expired: audit deny
 * reason=credential-expired.  Return how many ended.
 */
unsigned
env_expire_each(struct env *e, const struct conn_ops *ops, const char *role)
{

	return (env_end_each(e, ops, unexpired, "credential-expired", role));
}

void
env_creds_present(struct env *e, uint8_t block[CRED_BLOCK_MAX], size_t *len)
{

	memcpy(block, e->files_creds, e->files_len);
	*len = e->files_len;
	if (e->own_len > 0 && cred_block_add(block, CRED_BLOCK_MAX, len,
	    e->own_cred, e->own_len) == -1)
		log_warn("event=credentials error=\"no room for the "
		    "authority's own credential\"");
	(void)channel_local_set_creds(&e->local[0], block, *len);
	(void)channel_local_set_creds(&e->local[1], block, *len);
	if (*len == 0)
		block[(*len)++] = 0;
}

/* One pass of env_send_creds(). */
struct sending {
	const uint8_t *block;
	size_t len;
	unsigned n;
};

static void
send_one(struct conn *c, void *arg)
{
	struct sending *sn = arg;

	if (conn_send_creds(c, sn->block, sn->len) == 0)
		sn->n++;
}

/*
 * env_send_creds(e, block, len):
 * Our credentials were renewed: send the block (${len} well formed bytes,
 * 1 to CRED_BLOCK_MAX) to the peer of every open connection of ${e}
 * (conn_send_creds).  Return how many it was queued on.
 */
unsigned
env_send_creds(struct env *e, const uint8_t *block, size_t len)
{
	struct sending sn = {block, len, 0};

	conn_ctx_each(&e->ctx, send_one, &sn);
	return (sn.n);
}

/*
 * env_idle(e):
 * A role tells the runtime that one of its live objects (a relayed pair,
 * a waiting client) ended: while shutting down, the runtime may be done.
 */
void
env_idle(struct env *e)
{

	if (e->idle_cb != NULL)
		e->idle_cb(e);
}
