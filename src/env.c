/*
 * env: see env.h.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "env.h"
#include "identity.h"
#include "metrics.h"

/*
 * env_local(e):
 * The credentials new channels of ${e} use.
 */
const struct channel_local *
env_local(const struct env *e)
{

	return (&e->local[e->cur]);
}

/* The audit line and its count; ${tail} ends the line (may be ""). */
static void
audit(const struct env *e, struct log_limit *lim, int allow,
    const char *reason, const uint8_t *id, const char *service,
    const char *role, const char *tail)
{
	enum log_level level = allow ? LOG_LVL_INFO : LOG_LVL_WARN;
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
	metrics_add(METRICS_ACCESS_DECISIONS, 1, role, allow ? "allow" : "deny",
	    reason);
	name = id != NULL ? config_peer_name(e->cfg, id) : NULL;
	snprintf(line, sizeof(line), "event=audit decision=%s reason=%s "
	    "peer=%s%s%s service=%s role=%s%s", allow ? "allow" : "deny",
	    reason, id != NULL ? identity_id_format(id, peer) : "-",
	    name != NULL ? " peer_name=" : "", name != NULL ? name : "", svc,
	    role, tail);
	if (lim != NULL)
		(void)log_limited(lim, ev_now(e->loop), level, "%s", line);
	else
		log_msg(level, "%s", line);
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
 * env_audit_claimed(e, lim, reason, id, service, role):
 * A deny decided on the identifier ${id} a peer claims, before its proof
 * was checked: as env_audit_limited(), with verified=no.
 */
void
env_audit_claimed(const struct env *e, struct log_limit *lim,
    const char *reason, const uint8_t *id, const char *service,
    const char *role)
{

	audit(e, lim, 0, reason, id, service, role, " verified=no");
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
 * env_audit_conn(e, c, allow, reason, service, role):
 * env_audit() for the connection ${c}: its verified peer (or none), and
 * conn= (to join the line with open and close) and src= (the address of
 * its accepted socket's peer) at the end.
 */
void
env_audit_conn(const struct env *e, const struct conn *c, int allow,
    const char *reason, const char *service, const char *role)
{
	char src[ADDR_TEXT_MAX + 16], tail[ADDR_TEXT_MAX + 64];

	snprintf(tail, sizeof(tail), " conn=%" PRIu64 " src=%s", c->id,
	    conn_src_text(c, src, sizeof(src)));
	audit(e, NULL, allow, reason, c->ch != NULL ? channel_peer_id(c->ch) :
	    NULL, service, role, tail);
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
