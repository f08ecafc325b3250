/*
 * member: see member.h.
 *
 * One exchange at a time: a conn dials an address of the token (round
 * robin) and runs the handshake, pinned by the authority's credential
 * (enrol_authority_check); then its socket and channel become a session
 * that asks and reads the answer a piece at a time (enrol_doc_add), each
 * message under its own deadline.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "enrol.h"
#include "member.h"
#include "metrics.h"
#include "session.h"

struct member {
	struct env *e;
	ev_timer timer;    /* the next renewal, or a retry */
	ev_timer rvtimer;  /* the next fetch of the revocation list */
	enum authmsg_type asking; /* AUTHMSG_RENEW or AUTHMSG_REVOKED */
	ev_timer deadline; /* the message awaited */
	double backoff;    /* seconds; 0 after a success */
	struct conn *hs;   /* the dial and handshake in progress */
	struct session *s; /* the exchange in progress */
	struct enrol_target t;
	struct enrol_doc d;
	struct enrol_answer a;
	size_t next_addr;  /* round robin over the token's addresses */
	struct addr at;    /* the address dialed */
	uint64_t not_before, not_after; /* the credential file's, 0: none */
	struct ready_item ready;
	struct metrics_collector mc;
};

static void member_start(struct member *m, enum authmsg_type type);

/* The credential of the file into m->not_before/not_after (0: none). */
static void
look(struct member *m)
{
	const struct config_node *n = &m->e->cfg->node;
	uint8_t buf[CRED_MAX_LEN];
	char err[CONFIG_PATH_MAX + 128];
	struct cred c;
	size_t len;

	m->not_before = m->not_after = 0;
	if (cred_load(n->enroll_cred, buf, sizeof(buf), &len, &c, err,
	    sizeof(err)) == 0) {
		m->not_before = c.not_before;
		m->not_after = c.not_after;
	}
	m->t.name = n->enroll_name;
	m->t.ids = n->enroll_ids;
	m->t.nids = n->enroll_nids;
	m->t.addrs = n->enroll_addrs;
	m->t.naddrs = n->enroll_naddrs;
	m->t.timeout = ENROL_TIMEOUT;
}

/* A uniform draw in [0, 1). */
static double
draw(void)
{
	uint32_t r = 0;

	(void)crypto_random(&r, sizeof(r));
	return ((double)r / 4294967296.);
}

/* Renew at 2/3 of the lifetime, drawn from [0.62, 0.72). */
static void
schedule_renewal(struct member *m)
{
	double now = ev_now(m->e->loop), at;

	at = (double)m->not_before + (0.62 + 0.1 * draw()) *
	    (double)(m->not_after - m->not_before);
	ev_timer_stop(m->e->loop, &m->timer);
	ev_timer_set(&m->timer, at > now ? at - now : 0., 0.);
	ev_timer_start(m->e->loop, &m->timer);
}

/* Try again after the backoff (doubling, drawn from [b/2, b]). */
static void
schedule_retry(struct member *m)
{

	m->backoff = m->backoff == 0 ? MEMBER_BACKOFF_MIN : m->backoff * 2;
	if (m->backoff > MEMBER_BACKOFF_MAX)
		m->backoff = MEMBER_BACKOFF_MAX;
	ev_timer_stop(m->e->loop, &m->timer);
	ev_timer_set(&m->timer, m->backoff * (0.5 + 0.5 * draw()), 0.);
	ev_timer_start(m->e->loop, &m->timer);
}

/* End the exchange in progress (nothing is called back). */
static void
end(struct member *m)
{

	ev_timer_stop(m->e->loop, &m->deadline);
	if (m->hs != NULL) {
		struct conn *c = m->hs;

		m->hs = NULL;
		c->quiet = 1;
		conn_drop(c, CONN_R_SHUTDOWN);
	}
	session_free(m->s);
	m->s = NULL;
	enrol_doc_fini(&m->d);
	enrol_answer_fini(&m->a);
}

/* The exchange failed (${why}): keep the credential, try again later. */
static void
failed(struct member *m, const char *why)
{
	char na[32];

	end(m);
	if (m->asking == AUTHMSG_REVOKED) {
		log_debug("event=revoked authority=%s result=unreachable "
		    "error=\"%s\"", m->t.name, why);
		return; /* asked again at the next period */
	}
	metrics_add(METRICS_CRED_RENEWALS, 1, m->t.name, "unreachable", NULL);
	snprintf(na, sizeof(na), "%" PRIu64, m->not_after);
	log_warn("event=renew authority=%s result=unreachable addr=%s "
	    "error=\"%s\" not_after=%s retry_max=%.0f", m->t.name,
	    m->at.host, why, na, m->backoff * 2 > MEMBER_BACKOFF_MAX ?
	    MEMBER_BACKOFF_MAX : m->backoff == 0 ? MEMBER_BACKOFF_MIN :
	    m->backoff * 2);
	schedule_retry(m);
}

/*
 * The authority's revocation list of the answer: kept (env->revoked_auth)
 * if it parses and differs from the one held.  Return 1 if it changed.
 */
static int
keep_revoked(struct member *m)
{
	struct env *e = m->e;
	struct cred_revoked rv;
	char err[256], *copy;

	if (m->a.revoked == NULL || (m->a.revoked_len == e->revoked_auth_len &&
	    (m->a.revoked_len == 0 || memcmp(m->a.revoked, e->revoked_auth,
	    m->a.revoked_len) == 0)))
		return (0);
	if (cred_revoked_parse(&rv, m->a.revoked, m->a.revoked_len, err,
	    sizeof(err)) == -1) {
		log_warn("event=revoked authority=%s error=\"%s\"", m->t.name,
		    err);
		return (0);
	}
	cred_revoked_free(&rv);
	if ((copy = malloc(m->a.revoked_len + 1)) == NULL)
		return (0);
	memcpy(copy, m->a.revoked, m->a.revoked_len + 1);
	free(e->revoked_auth);
	e->revoked_auth = copy;
	e->revoked_auth_len = m->a.revoked_len;
	log_info("event=revoked authority=%s bytes=%zu", m->t.name,
	    m->a.revoked_len);
	return (1);
}

/* The revocation list came (a REVOKED answer): apply a new one. */
static void
answered_revoked(struct member *m)
{
	int changed;

	session_free(m->s);
	m->s = NULL;
	ev_timer_stop(m->e->loop, &m->deadline);
	changed = m->a.reason[0] == '\0' && keep_revoked(m);
	enrol_answer_fini(&m->a);
	if (changed && m->e->reload != NULL)
		m->e->reload(m->e->reload_arg, "revoked");
}

/* The whole answer is in m->a. */
static void
answered(struct member *m)
{
	const struct config_node *n = &m->e->cfg->node;
	char err[CONFIG_PATH_MAX + 256], serial[CRED_SERIAL_TEXT];

	session_free(m->s);
	m->s = NULL;
	ev_timer_stop(m->e->loop, &m->deadline);
	if (strcmp(m->a.reason, "busy") == 0) { /* its queue: as unreachable */
		enrol_answer_fini(&m->a);
		failed(m, "refused: busy");
		return;
	}
	if (m->a.reason[0] != '\0') {
		metrics_add(METRICS_CRED_RENEWALS, 1, m->t.name, m->a.reason,
		    NULL);
		log_warn("event=renew authority=%s result=refused reason=%s "
		    "addr=%s", m->t.name, m->a.reason, m->at.host);
		enrol_answer_fini(&m->a);
		m->backoff = MEMBER_BACKOFF_MAX / 2; /* asked again, slowly */
		schedule_retry(m);
		return;
	}
	if (enrol_check_cred(&m->t, env_local(m->e)->id, &m->a, err,
	    sizeof(err)) == -1 || cred_save(n->enroll_cred, m->a.cred,
	    m->a.credlen, err, sizeof(err)) == -1) {
		failed(m, err);
		return;
	}
	metrics_add(METRICS_CRED_RENEWALS, 1, m->t.name, "ok", NULL);
	log_info("event=renew authority=%s result=ok serial=%s not_after=%"
	    PRIu64 " addr=%s", m->t.name, cred_serial_format(m->a.c.serial,
	    serial), m->a.c.not_after, m->at.host);
	(void)keep_revoked(m); /* the reload below applies it */
	/* Show the new credential soon (the list's fetch): the authority
	 * takes it as confirmed, so an older copy of the key is caught. */
	ev_timer_stop(m->e->loop, &m->rvtimer);
	ev_timer_set(&m->rvtimer, 1., MEMBER_REVOKED_EVERY);
	ev_timer_start(m->e->loop, &m->rvtimer);
	m->not_before = m->a.c.not_before;
	m->not_after = m->a.c.not_after;
	m->backoff = 0;
	enrol_answer_fini(&m->a);
	schedule_renewal(m);
	/* The trust part reads the file again and sends it (CREDS). */
	if (m->e->reload != NULL)
		m->e->reload(m->e->reload_arg, "renewal");
}

static void
member_deadline_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	failed(w->data, "no answer (timed out)");
}

static void
member_message(struct session *s, const uint8_t *data, size_t len)
{
	struct member *m = session_arg(s);
	struct authmsg msg;
	uint8_t out[AUTHMSG_MAX];
	size_t olen;
	int r;

	if (authmsg_parse(data, len, &msg) == -1 ||
	    (r = enrol_doc_add(&m->d, &msg, &m->a, out, &olen)) == -1) {
		failed(m, "malformed answer");
		return;
	}
	if (r == 1) {
		if (m->asking == AUTHMSG_REVOKED)
			answered_revoked(m);
		else
			answered(m);
		return;
	}
	if (session_send(s, out, olen) == -1) {
		failed(m, "send");
		return;
	}
	ev_timer_again(m->e->loop, &m->deadline);
}

static void
member_dead(struct session *s, const char *reason)
{
	struct member *m = session_arg(s);

	session_free(s);
	m->s = NULL;
	failed(m, reason);
}

static const struct session_ops member_sops = {
	.message = member_message,
	.dead = member_dead,
};

/* The authority node proved itself: ask over a session. */
static void
member_established(struct conn *c)
{
	struct member *m = c->arg;
	struct channel *ch;
	uint8_t rest[512], msg[AUTHMSG_MAX];
	size_t restlen, len;
	int fd;

	m->hs = NULL; /* the conn goes away in conn_detach */
	if (conn_detach(c, &fd, &ch, rest, sizeof(rest), &restlen) == -1) {
		failed(m, "out of memory");
		return;
	}
	if ((m->s = session_new(conn_ctx_reaper(&m->e->ctx), fd, ch, 0.,
	    &member_sops, m, rest, restlen)) == NULL) {
		failed(m, "out of memory");
		return;
	}
	enrol_ask_msg(m->asking, NULL, msg, &len);
	if (session_send(m->s, msg, len) == -1) {
		failed(m, "send");
		return;
	}
	ev_timer_again(m->e->loop, &m->deadline);
}

static void
member_dialed(struct conn *c, int err)
{
	struct member *m = c->arg;
	uint8_t req[2 + CONFIG_NAME_MAX];
	struct channel *ch;
	size_t len;

	if (err != 0) {
		conn_drop(c, conn_dial_reason(err));
		return;
	}
	if ((ch = channel_new(CHANNEL_INITIATOR, env_local(m->e),
	    m->e->cache)) == NULL) {
		conn_drop(c, CONN_R_NOMEM);
		return;
	}
	len = (size_t)snprintf((char *)req, sizeof(req), "%s%s",
	    AUTHMSG_PREFIX, m->t.name);
	channel_expect_check(ch, enrol_authority_check, &m->t);
	if (channel_set_request(ch, req, len) != 0) {
		channel_free(ch);
		conn_drop(c, CONN_R_CHANNEL_BASE + CHANNEL_EPAYLOAD);
		return;
	}
	if (conn_handshake(c, ch, CHANNEL_INITIATOR) == -1) /* c owns ch */
		conn_drop(c, CONN_R_NOMEM);
}

/* The dial or the handshake failed (the conn logged why). */
static void
member_dropped(struct conn *c, enum conn_reason reason)
{
	struct member *m = c->arg;

	(void)reason;
	if (m->hs != c)
		return;
	m->hs = NULL;
	failed(m, "dial or handshake failed");
}

static const struct conn_ops member_ops = {
	.dialed = member_dialed,
	.established = member_established,
	.dropped = member_dropped,
};

/* Ask ${type} (a renewal, the revocation list) at the next address. */
static void
member_start(struct member *m, enum authmsg_type type)
{
	char err[256];
	struct conn *c;

	if (m->hs != NULL || m->s != NULL || m->t.naddrs == 0 ||
	    m->e->stopping)
		return;
	m->asking = type;
	if (addr_parse(m->t.addrs[m->next_addr++ % m->t.naddrs], &m->at, err,
	    sizeof(err)) == -1) {
		failed(m, err);
		return;
	}
	if ((c = conn_new(&m->e->ctx, &member_ops, -1, -1)) == NULL) {
		failed(m, "out of memory");
		return;
	}
	c->arg = m;
	c->role = "enroll";
	c->name = m->t.name;
	c->service = m->t.name;
	m->hs = c;
	memset(&m->d, 0, sizeof(m->d));
	memset(&m->a, 0, sizeof(m->a));
	ev_timer_again(m->e->loop, &m->deadline);
	if (conn_dial_channel(c, &m->at) == -1)
		conn_drop(c, CONN_R_CONNECT_FAILED); /* dropped: retries */
}

static void
member_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct member *m = w->data;

	(void)loop;
	(void)revents;
	if (m->hs != NULL || m->s != NULL) {
		/* A fetch of the list is on: the renewal right after it. */
		ev_timer_set(&m->timer, 1., 0.);
		ev_timer_start(m->e->loop, &m->timer);
		return;
	}
	member_start(m, AUTHMSG_RENEW);
}

/* Every MEMBER_REVOKED_EVERY seconds: the authority's list. */
static void
member_rvtimer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{

	(void)loop;
	(void)revents;
	member_start(w->data, AUTHMSG_REVOKED);
}

/* Ready while the credential is there and unexpired. */
static int
member_is_ready(const void *arg)
{
	const struct member *m = arg;

	return (m->not_after > (uint64_t)ev_now(m->e->loop));
}

/* At scrape time: when the credential expires. */
static void
member_gauges(void *arg)
{
	struct member *m = arg;

	metrics_set(METRICS_CRED_EXPIRY, (double)m->not_after, m->t.name,
	    NULL, NULL);
}

struct member *
member_new(struct env *e)
{
	struct member *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	m->e = e;
	ev_init(&m->timer, member_timer_cb);
	m->timer.data = m;
	ev_timer_init(&m->rvtimer, member_rvtimer_cb, MEMBER_REVOKED_EVERY,
	    MEMBER_REVOKED_EVERY);
	m->rvtimer.data = m;
	ev_timer_start(e->loop, &m->rvtimer);
	ev_init(&m->deadline, member_deadline_cb);
	m->deadline.repeat = ENROL_TIMEOUT;
	m->deadline.data = m;
	look(m);
	ready_add(&e->ready, &m->ready, "node", "enroll",
	    "credential missing or expired", member_is_ready, m);
	metrics_collector_add(&m->mc, member_gauges, m);
	if (m->not_after > m->not_before)
		schedule_renewal(m);
	else
		schedule_retry(m);
	return (m);
}

void
member_reconfigure(struct member *m)
{

	if (m == NULL)
		return;
	look(m);
	if (m->hs == NULL && m->s == NULL && m->backoff == 0 &&
	    m->not_after > m->not_before)
		schedule_renewal(m);
}

void
member_free(struct member *m)
{

	if (m == NULL)
		return;
	end(m);
	ev_timer_stop(m->e->loop, &m->timer);
	ev_timer_stop(m->e->loop, &m->rvtimer);
	ready_remove(&m->ready);
	metrics_collector_remove(&m->mc);
	free(m);
}

/* member_first's enrolment is tried again (enrol_join_retry). */
static void
first_retrying(void *arg, const struct authtoken *t, const char *why,
    double in)
{

	(void)arg;
	metrics_add(METRICS_CRED_RENEWALS, 1, t->name, "unreachable", NULL);
	log_warn("event=enroll authority=%s result=unreachable error=\"%s\" "
	    "retry_in=%.0f", t->name, why, in);
}

int
member_first(const struct config *cfg, const struct identity *idn)
{
	const struct config_node *n = &cfg->node;
	struct authtoken *t;
	struct enrol_answer *a;
	char err[1024], serial[CRED_SERIAL_TEXT];
	enum enrol_outcome o;
	int rc = -1;

	if (n->enroll[0] == '\0' || access(n->enroll_cred, F_OK) == 0)
		return (0);
	t = calloc(1, sizeof(*t));
	a = calloc(1, sizeof(*a));
	if (t == NULL || a == NULL) {
		log_error("event=enroll error=nomem");
		goto out;
	}
	o = enrol_join_retry(n->enroll, idn, n->enroll_cred, t, a, -1.,
	    MEMBER_BACKOFF_MAX, first_retrying, NULL, err, sizeof(err));
	metrics_add(METRICS_CRED_RENEWALS, 1, t->name, o == ENROL_JOINED ?
	    "ok" : o == ENROL_REFUSED ? a->reason : "error", NULL);
	if (o == ENROL_REFUSED)
		log_error("event=enroll authority=%s result=refused reason=%s "
		    "addr=%s", t->name, a->reason, a->addr);
	else if (o == ENROL_FAILED)
		log_error("event=enroll error=\"%s\"", err);
	else {
		log_info("event=enroll authority=%s result=ok serial=%s "
		    "not_after=%" PRIu64 " addr=%s credential=%s", t->name,
		    cred_serial_format(a->c.serial, serial), a->c.not_after,
		    a->addr, n->enroll_cred);
		rc = 0;
	}
out:
	enrol_join_free(t, a);
	return (rc);
}
