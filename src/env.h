/*
 * env: what the node runtime lends every role and node service: the
 * loop, the configuration, the connection context (limits, timeouts, the
 * live set), the channel credentials and attestation cache, and the one
 * audit line for access decisions.  Owned by the runtime (node.c); roles
 * borrow it and never see each other through it.
 */
#ifndef SALLYPORT_ENV_H
#define SALLYPORT_ENV_H

#include <stdint.h>

#include <ev.h>

#include "acl.h"
#include "channel.h"
#include "config.h"
#include "conn.h"
#include "epool.h"
#include "limit.h"
#include "log.h"
#include "ready.h"
#include "resumecache.h"
#include "sigcache.h"

struct dialout;
struct listener;

struct env {
	struct ev_loop *loop;
	const struct config *cfg;
	struct conn_ctx ctx;
	/*
	 * Two generations of credentials: new channels use local[cur]; the
	 * other one stays valid for handshakes still running when a new
	 * attestation was signed (the runtime re-signs periodically).
	 */
	struct channel_local local[2];
	unsigned cur;
	struct sigcache *cache;
	/* [node] resume: our tickets per outlet (inlets), and the tickets
	 * initiators hold for us (outlets, relays). */
	struct resumecache *resume_out, *resume_in;
	struct epool *epool; /* ephemeral key pairs made when idle */
	struct cred_revoked revoked; /* [node] revoked, loaded by the runtime */
	/* The revocation list of the authority the node enrolled with
	 * (member.c fetches it; malloc'd text, or NULL): the trust part
	 * loads it with the [node] revoked file. */
	char *revoked_auth;
	size_t revoked_auth_len;
	/*
	 * What channels present (env_creds_present): the block of the
	 * credential files (the trust part loads it), then the one
	 * credential a part of this node issued it (the authority's own,
	 * authority.c; own_len 0: none).
	 */
	uint8_t files_creds[CRED_BLOCK_MAX];
	size_t files_len;
	uint8_t own_cred[CRED_MAX_LEN];
	size_t own_len;
	struct log_limit refuse_log; /* "refuse" lines: 10 per second */
	/* Lines anyone can cause at the node listener (unknown relay
	 * sessions, silent connections): 10 per second together. */
	struct log_limit anyone_log;
	int stopping;                /* shutting down: accept nothing new */
	struct listener *full;       /* listeners paused at a limit */
	/* A role's last live object ended (shutdown waits for it). */
	void (*idle_cb)(struct env *e);
	/* What must be up before the node is ready (/readyz): dialout.c
	 * adds each relay session and registration. */
	struct ready_item *ready;
	/* Every relay session kept (dialout.c links them). */
	struct dialout *dialouts;
	/* Ask the runtime for a reload (${why}: for its line), e.g. when a
	 * renewed credential was written; NULL: none. */
	void (*reload)(void *arg, const char *why);
	void *reload_arg;
	void *data; /* the runtime's */
};

/*
 * env_local(e):
 * The credentials new channels of ${e} use.
 */
const struct channel_local *env_local(const struct env *e);

/*
 * env_creds_present(e, block, len):
 * Present e->files_creds and then e->own_cred (if any, and if the block
 * has room) in both generations of e->local; the block presented into
 * ${block} (its size in ${len}; an empty block, one zero byte, when
 * there is no credential at all, as a CREDS record carries it).
 */
void env_creds_present(struct env *e, uint8_t block[CRED_BLOCK_MAX],
    size_t *len);

/*
 * env_keypair(e, ch):
 * Give the new channel ${ch} an ephemeral key pair made ahead of time, if
 * ${e}'s pool has one (else its handshake makes its own).
 */
void env_keypair(struct env *e, struct channel *ch);

/*
 * env_acl(e, ax):
 * Fill ${ax} for an access decision of ${e} now (acl_admit): the
 * configuration, the revocation list, the cache, the loop's time.
 */
void env_acl(const struct env *e, struct acl_ctx *ax);

/*
 * env_admit(e, peer, pol, ids, nids, rules, nrules, ck, v):
 * acl_admit() of ${peer} on the deny and try lists ${pol} (may be NULL)
 * and the list of the ${nids} identifiers at ${ids} and the ${nrules}
 * attribute rules at ${rules}, by ${e} now (env_acl);
 * ${ck} (may be NULL) as acl_admit's.
 * The one decision outlets, relays and inlets pinned by rule make.
 */
bool env_admit(const struct env *e, const struct acl_peer *peer,
    const struct config_policy *pol, const uint8_t (*ids)[CONFIG_ID_LEN],
    size_t nids,
    const struct config_rule *rules, size_t nrules, struct acl_checked *ck,
    struct acl_verdict *v);

/*
 * env_audit_verdict(e, allow, reason, id, service, role, v):
 * env_audit() for an acl_admit decision ${v}: an allow by an attribute
 * rule says which (rule=...); a deny takes v->reason over ${reason}.  A
 * deny of a peer that no identifier list names is rate limited (anyone
 * with a key and a credential can cause it), as verified=no lines are.
 */
void env_audit_verdict(struct env *e, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role,
    const struct acl_verdict *v);

/*
 * env_end_each(e, ops, keeps, reason, role):
 * End every live connection of ${e} served by ${ops} (a role's) for which
 * ${keeps}(e, c) says 0: audit deny ${reason} (role ${role}), close
 * reason=revoked.  Return how many ended.  A reload's revocation, a
 * credential's expiry.
 */
unsigned env_end_each(struct env *e, const struct conn_ops *ops,
    int (*keeps)(struct env *, struct conn *), const char *reason,
    const char *role);

/*
 * env_expire_each(e, ops, role):
 * env_end_each() for the connections served by ${ops} that a credential
 * admitted (c->cred_expiry) once it has expired: audit deny
 * reason=credential-expired.  Return how many ended.
 */
unsigned env_expire_each(struct env *e, const struct conn_ops *ops,
    const char *role);

/*
 * env_send_creds(e, block, len):
 * Our credentials were renewed: send the block (${len} well formed bytes,
 * 1 to CRED_BLOCK_MAX) to the peer of every open connection of ${e}
 * (conn_send_creds).  Return how many it was queued on.
 */
unsigned env_send_creds(struct env *e, const uint8_t *block, size_t len);

/*
 * env_idle(e):
 * A role tells the runtime that one of its live objects (a relayed pair,
 * a waiting client) ended: while shutting down, the runtime may be done.
 */
void env_idle(struct env *e);

/*
 * env_resume_keep(e, c, role):
 * [node] resume, responder: once the peer of ${c} is allowed (never
 * before a decision, so a denied peer's ticket pushes out no one's),
 * keep the ticket it now holds after a full handshake, so its next
 * connection may resume; what it may reach is decided again at every
 * connection, resumed or not.
 */
void env_resume_keep(struct env *e, const struct conn *c, const char *role);

/*
 * env_audit_init():
 * Resolve the series of every audit decision a stranger's connection can
 * reach: a deny, as an outlet or a relay, by the front's peer filter
 * (not-allowed, the relay's not-registrant, revoked, a credential's
 * problem) or by a relay's preamble check (a ticket's error).  Once per
 * process, before the first connection; later calls find them made.
 */
void env_audit_init(void);

/*
 * env_audit(e, allow, reason, id, service, role):
 * Log one access decision ("audit"): ${id} is the raw peer identifier or
 * NULL, ${service} the service asked for (printed safely).  ${reason} and
 * ${role}, here and in every env_audit_*() (and an acl_verdict's reason),
 * are text of static storage that never changes (a literal, an entry of
 * a constant table, env_refusal_reason()), never a buffer: the decision's
 * metric handle is kept with them.
 */
void env_audit(const struct env *e, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role);

/*
 * env_audit_claimed(e, lim, c, reason, id, service, role):
 * A deny decided on the identifier ${id} the peer of ${c} claims, before
 * its proof was checked: as env_audit_limited(), with verified=no, then
 * conn= and src= as env_audit_conn().  Return 1 if the line was printed,
 * 0 if the limit left it out.
 */
int env_audit_claimed(const struct env *e, struct log_limit *lim,
    const struct conn *c, const char *reason, const uint8_t *id,
    const char *service, const char *role);

/*
 * env_audit_conn_verdict(e, c, allow, reason, service, role, v):
 * env_audit() for the connection ${c}: its verified peer (or none), the
 * attribute rule that admitted it (rule=, from ${v} or c->rule; ${v} may
 * be NULL), then conn= (to join the line with open and close) and src=
 * (the address of its accepted socket's peer) at the end.  A deny takes
 * v->reason (a credential problem) over ${reason}, and is rate limited
 * as env_audit_verdict's.
 */
void env_audit_conn_verdict(struct env *e, const struct conn *c,
    int allow, const char *reason, const char *service, const char *role,
    const struct acl_verdict *v);

/*
 * env_audit_conn_would(e, c, service, role, v):
 * The try line of the decision ${v} (may be NULL) about the peer of ${c}
 * (decision=would-allow or would-deny, reason=try, the try entry, conn=
 * and src=); nothing if no try entry would have turned it.
 * env_audit_conn_verdict() writes it after a deny.
 */
void env_audit_conn_would(struct env *e, const struct conn *c,
    const char *service, const char *role, const struct acl_verdict *v);

/*
 * env_audit_conn(e, c, allow, reason, service, role):
 * env_audit() for the connection ${c}: its verified peer (or none), and
 * conn= (to join the line with open and close) and src= (the address of
 * its accepted socket's peer) at the end.
 */
void env_audit_conn(struct env *e, const struct conn *c, int allow,
    const char *reason, const char *service, const char *role);

/*
 * env_limit_refused(e, c, id, service, role, k, x, lim):
 * A new connection of the peer ${id} to ${service} (the connection ${c},
 * or NULL at a relay, which has none yet) was refused at the limit ${k}
 * (limit_admit's verdict, with its entry ${x}, may be NULL, and the
 * limits ${lim}): count it in sallyport_refused_total{role, reason=the
 * limit}, and audit "deny reason=limit limit=... live= max= rate=
 * burst= refused=N" at most once a second per (peer, service), N the
 * refusals of that pair since its last line, and under the node's limit
 * of refusal lines (e->refuse_log) overall.
 */
void env_limit_refused(struct env *e, const struct conn *c,
    const uint8_t *id, const char *service, const char *role,
    enum limit_kind k, struct limit_entry *x,
    const struct config_limits *lim);

/*
 * env_limit_reload(e, t, role, of):
 * A reload of ${e}: bound the per-peer table ${t} of the role ${role}
 * anew (max_connections + LIMIT_IDLE_KEEP entries), and log
 * event=limit-below-open for each pair with more live connections than
 * the max_connections_per_peer of its section now (${of}(cfg, name): the
 * limits of the section ${name}, or NULL if gone).  Nothing is ended.
 */
void env_limit_reload(struct env *e, struct limit_table *t,
    const char *role,
    const struct config_limits *(*of)(const struct config *, const char *));

/*
 * env_audit_tail(e, allow, reason, id, service, role, tail):
 * env_audit() with ${tail} (" key=value ...", or "") at the end.
 */
void env_audit_tail(const struct env *e, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role,
    const char *tail);

/*
 * env_refusal_reason(remote, code):
 * The audit reason for a refusal ${code} (enum channel_refusal) that a
 * relay sent ("relay-" and the code's word) or, if ${remote}, the remote
 * node ("remote-"): text of static storage, as env_audit() wants.
 */
const char *env_refusal_reason(int remote, unsigned code);

/*
 * env_audit_limited(e, lim, allow, reason, id, service, role):
 * env_audit() under the rate limit ${lim} (NULL: always logged), for
 * decisions anyone can cause.
 */
void env_audit_limited(const struct env *e, struct log_limit *lim,
    int allow, const char *reason, const uint8_t *id, const char *service,
    const char *role);

/*
 * env_audit_note(e, lim, allow, reason, id, service, role, note):
 * env_audit_limited() with ${note} (" key=value...", printed as is, our
 * own text) at the end of the line.
 */
void env_audit_note(const struct env *e, struct log_limit *lim, int allow,
    const char *reason, const uint8_t *id, const char *service,
    const char *role, const char *note);

#endif
