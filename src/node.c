/*
 * node: see node.h.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inlet.h"
#include "log.h"
#include "node.h"
#include "outlet.h"
#include "relay.h"
#include "sock.h"

/* Attestation lifetime (seconds); re-signed at half of it. */
#ifndef NODE_LIFETIME
#define NODE_LIFETIME (24 * 3600)
#endif
/* Verified attestations remembered (steady-state handshakes skip ECDSA). */
#define NODE_CACHE_ENTRIES 1024
/* At most this many "refuse" lines per second; the rest are counted. */
#define NODE_REFUSE_LINES 10

/*
 * node_local(n):
 * The credentials new channels of ${n} use.
 */
const struct channel_local *
node_local(const struct node *n)
{

	return (&n->local[n->cur]);
}

/*
 * node_audit_limited(n, lim, allow, reason, id, service, role):
 * Log one access decision ("audit"): ${id} is the raw peer identifier or
 * NULL, ${service} the service asked for (printed safely); under the
 * rate limit ${lim} (NULL: always logged) for decisions anyone can cause.
 */
void
node_audit_limited(const struct node *n, struct log_limit *lim, int allow,
    const char *reason, const uint8_t *id, const char *service,
    const char *role)
{
	enum log_level level = allow ? LOG_LVL_INFO : LOG_LVL_WARN;
	char peer[IDENTITY_TEXT_SIZE], svc[CONFIG_NAME_MAX], line[512];
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
	name = id != NULL ? config_peer_name(n->cfg, id) : NULL;
	snprintf(line, sizeof(line), "event=audit decision=%s reason=%s "
	    "peer=%s%s%s service=%s role=%s", allow ? "allow" : "deny", reason,
	    id != NULL ? identity_id_format(id, peer) : "-",
	    name != NULL ? " peer_name=" : "", name != NULL ? name : "", svc,
	    role);
	if (lim != NULL)
		(void)log_limited(lim, ev_now(n->loop), level, "%s", line);
	else
		log_msg(level, "%s", line);
}

/*
 * node_audit(n, allow, reason, id, service, role):
 * node_audit_limited() without a limit.
 */
void
node_audit(const struct node *n, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role)
{

	node_audit_limited(n, NULL, allow, reason, id, service, role);
}

/*
 * node_admit(n, fd, role):
 * Apply the connection limits of ${n} to a freshly accepted ${fd}: return
 * 0 to go on, or close ${fd}, log "refuse" and return -1.
 *
 * Refusing closes at once and never touches the established connections.
 * At the pending-handshake limit, a source holding most pending handshakes
 * loses its oldest one to a newcomer from elsewhere (conn_ctx_evict).
 * Under a flood the refuse lines are limited to NODE_REFUSE_LINES per
 * second; the next line logged says how many were left out.
 */
int
node_admit(struct node *n, int fd, const char *role)
{
	const char *reason;

	if (n->ctx.nconns >= n->cfg->node.max_connections)
		reason = "max-connections";
	else if (n->ctx.npending < n->cfg->node.max_handshakes)
		return (0);
	else if (conn_ctx_evict(&n->ctx, sock_source_key(fd)) == 0)
		return (0); /* a flooding source made room */
	else
		reason = "max-handshakes";
	close(fd);
	(void)log_limited(&n->refuse_log, ev_now(n->loop), LOG_LVL_WARN,
	    "event=refuse role=%s reason=%s", role, reason);
	return (-1);
}

/*
 * Accept what is waiting (a bounded batch, for fairness), apply the
 * limits, hand each admitted socket to the role.  Out of descriptors:
 * pause accepting for a moment instead of spinning on a readable socket.
 */
static void
node_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct node_listener *l = w->data;
	int fd, i;

	(void)revents;
	for (i = 0; i < 64 && l->fd != -1; i++) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				log_warn("event=accept role=%s error=%s",
				    l->role, strerror(errno));
				ev_io_stop(loop, &l->w);
				ev_timer_set(&l->pause, 0.1, 0.);
				ev_timer_start(loop, &l->pause);
			}
			return; /* EAGAIN, or an aborted connection */
		}
		if (node_admit(l->node, fd, l->role) == -1)
			continue;
		l->accept_cb(l, fd); /* the role owns fd now */
	}
}

/* The back-off is over: accept again. */
static void
node_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node_listener *l = w->data;

	(void)revents;
	if (l->fd != -1)
		ev_io_start(loop, &l->w);
}

/*
 * node_listener_open(l, n, a, role, name, accept_cb, arg, err, errlen):
 * Bind and listen on ${a} (borrowed; must outlive ${l}), log "listen" with
 * ${role} and ${name}, and start accepting into ${accept_cb}.  A unix
 * socket path is created with mode 0600 after removing a stale socket
 * (never any other kind of file).  Return 0, or -1 with a message in
 * ${err}.
 */
int
node_listener_open(struct node_listener *l, struct node *n,
    const struct addr *a, const char *role, const char *name,
    void (*accept_cb)(struct node_listener *, int), void *arg, char *err,
    size_t errlen)
{
	char buf[ADDR_TEXT_MAX + 16];

	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if ((l->fd = sock_listen(a, SOMAXCONN, err, errlen)) == -1)
		return (-1);
	l->node = n;
	l->addr = a;
	l->role = role;
	l->accept_cb = accept_cb;
	l->arg = arg;
	ev_io_init(&l->w, node_accept_cb, l->fd, EV_READ);
	l->w.data = l;
	ev_init(&l->pause, node_pause_cb);
	l->pause.data = l;
	ev_io_start(n->loop, &l->w);
	log_info("event=listen role=%s name=%s addr=%s", role, name,
	    addr_format(a, buf, sizeof(buf)));
	return (0);
}

/*
 * node_listener_close(l):
 * Stop accepting and close the socket of ${l} (a unix socket file is
 * removed).  Closing twice does nothing.
 */
void
node_listener_close(struct node_listener *l)
{

	if (l->fd == -1)
		return;
	ev_io_stop(l->node->loop, &l->w);
	ev_timer_stop(l->node->loop, &l->pause);
	close(l->fd);
	l->fd = -1;
	if (l->addr->is_unix)
		(void)unlink(l->addr->host);
}

/* Raise the open-file limit to the hard limit: one fd per socket. */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		log_warn("event=rlimit error=%s", strerror(errno));
}

/* Close every listener (stop accepting); live connections go on. */
static void
stop_listeners(struct node *n)
{
	size_t i;

	for (i = 0; i < n->ninlets; i++)
		inlet_stop(n->inlets[i]);
	outlet_stop(n->outlet);
	relay_stop(n->relay);
}

/*
 * node_check_empty(n):
 * While shutting down, leave the loop once no connection is left (the
 * relay calls it when its last pair ends).
 */
void
node_check_empty(struct node *n)
{

	if (n->stopping && n->ctx.nconns == 0 && relay_live(n->relay) == 0)
		ev_break(n->loop, EVBREAK_ALL);
}

/* No connection left while stopping: leave the loop. */
static void
node_empty_cb(struct conn_ctx *ctx)
{

	node_check_empty(ctx->data);
}

/* The grace period is over: drop what is left and leave the loop. */
static void
node_grace_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;

	(void)revents;
	conn_ctx_drop_all(&n->ctx, CONN_R_SHUTDOWN);
	ev_break(loop, EVBREAK_ALL);
}

/*
 * SIGTERM/SIGINT: stop accepting, give live connections the grace period.
 * A second signal ends the grace at once.
 */
static void
node_signal_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct node *n = w->data;

	(void)revents;
	if (n->stopping) {
		conn_ctx_drop_all(&n->ctx, CONN_R_SHUTDOWN);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	n->stopping = 1;
	log_info("event=shutdown live=%u grace_s=%g signal=%d",
	    n->ctx.nconns + relay_live(n->relay), n->cfg->node.shutdown_grace,
	    w->signum);
	stop_listeners(n);
	ev_timer_stop(loop, &n->resign);
	if (n->ctx.nconns == 0 && relay_live(n->relay) == 0) {
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	n->ctx.empty_cb = node_empty_cb;
	ev_timer_set(&n->grace, n->cfg->node.shutdown_grace, 0.);
	ev_timer_start(loop, &n->grace);
}

/*
 * SIGHUP: configuration reload is not implemented yet; say so instead of
 * dying (the default action) when a terminal or a supervisor sends it.
 */
static void
node_sighup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{

	(void)loop;
	(void)w;
	(void)revents;
	log_warn("event=reload status=unsupported hint=restart-to-apply");
}

/*
 * Sign a new attestation (fresh static key) into the spare generation and
 * make it current; handshakes in flight keep the old one, which is only
 * overwritten a whole period later.
 */
static void
node_resign_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node *n = w->data;
	unsigned next = !n->cur;
	struct channel_local tmp;

	(void)revents;
	if (channel_local_init(&tmp, n->local[n->cur].id_priv,
	    (uint64_t)ev_now(loop), NODE_LIFETIME) == -1) {
		log_error("event=resign error=failed");
		return; /* try again at the next period */
	}
	channel_local_fini(&n->local[next]);
	n->local[next] = tmp;
	wipe(&tmp, sizeof(tmp));
	n->cur = next;
	log_info("event=resign expiry=%llu",
	    (unsigned long long)n->local[next].expiry);
}

/* Close everything node_run made. */
static void
node_fini(struct node *n)
{
	size_t i;

	for (i = 0; i < n->ninlets; i++)
		inlet_free(n->inlets[i]);
	free(n->inlets);
	relay_free(n->relay);
	outlet_free(n->outlet);
	conn_ctx_drop_all(&n->ctx, CONN_R_SHUTDOWN);
	conn_ctx_fini(&n->ctx);
	ev_signal_stop(n->loop, &n->sigterm);
	ev_signal_stop(n->loop, &n->sigint);
	ev_signal_stop(n->loop, &n->sighup);
	ev_timer_stop(n->loop, &n->resign);
	ev_timer_stop(n->loop, &n->grace);
	channel_cache_free(n->cache);
	channel_local_fini(&n->local[0]);
	channel_local_fini(&n->local[1]);
}

/*
 * Resolve every host name of ${cfg} (numeric addresses already are).  The
 * loop never blocks on DNS, so names are looked up once, here: a target
 * that moves to another address needs a restart.  Return 0 or -1 (logged).
 */
static int
resolve_all(struct config *cfg)
{
	char err[512];
	size_t i;
	int rc = 0;

	if (cfg->node.has_listen &&
	    addr_resolve(&cfg->node.listen, err, sizeof(err)) == -1) {
		log_error("event=resolve-failed role=node error=\"%s\"", err);
		rc = -1;
	}
	for (i = 0; i < cfg->noutlets; i++) {
		if (addr_resolve(&cfg->outlets[i].target, err, sizeof(err)) ==
		    -1 || (cfg->outlets[i].has_relay &&
		    addr_resolve(&cfg->outlets[i].relay, err, sizeof(err)) ==
		    -1)) {
			log_error("event=resolve-failed role=outlet name=%s "
			    "error=\"%s\"", cfg->outlets[i].name, err);
			rc = -1;
		}
	}
	for (i = 0; i < cfg->ninlets; i++) {
		if (addr_resolve(&cfg->inlets[i].listen, err, sizeof(err)) ==
		    -1 || addr_resolve(cfg->inlets[i].has_via ?
		    &cfg->inlets[i].via : &cfg->inlets[i].outlet, err,
		    sizeof(err)) == -1) {
			log_error("event=resolve-failed role=inlet name=%s "
			    "error=\"%s\"", cfg->inlets[i].name, err);
			rc = -1;
		}
	}
	for (i = 0; i < cfg->nrelays; i++) {
		if (cfg->relays[i].has_via && addr_resolve(&cfg->relays[i].via,
		    err, sizeof(err)) == -1) {
			log_error("event=resolve-failed role=relay name=%s "
			    "error=\"%s\"", cfg->relays[i].name, err);
			rc = -1;
		}
	}
	return (rc);
}

/*
 * node_run(cfg, idn):
 * Run the node described by ${cfg} with the identity ${idn} (both
 * borrowed; crypto_init() has run): resolve the host names in ${cfg}
 * (once, blocking), bind every listener, drop the dump flag, log "ready",
 * serve until SIGTERM/SIGINT and the shutdown grace.  Return 0 after a
 * clean shutdown, -1 if start-up failed (logged).
 */
int
node_run(struct config *cfg, const struct identity *idn)
{
	struct node *n;
	char err[512], id[IDENTITY_TEXT_SIZE];
	uint64_t hits, misses;
	size_t i;
	int dials = 0;

	for (i = 0; i < cfg->noutlets; i++)
		if (cfg->outlets[i].has_relay)
			dials = 1;
	if (cfg->ninlets == 0 && !cfg->node.has_listen && !dials) {
		log_error("event=config error=nothing-to-run path=%s",
		    cfg->path);
		goto fail0;
	}
	if (resolve_all(cfg) == -1)
		goto fail0;
	if ((n = calloc(1, sizeof(*n))) == NULL) {
		log_error("event=start error=nomem");
		goto fail0;
	}
	n->cfg = cfg;
	n->loop = ev_default_loop(0);
	if (n->loop == NULL) {
		log_error("event=start error=no-event-loop");
		goto fail1;
	}
	/* Broken sockets are reported by send(), not by a signal. */
	signal(SIGPIPE, SIG_IGN);
	raise_nofile();
	conn_ctx_init(&n->ctx, n->loop);
	n->ctx.data = n;
	n->ctx.handshake_timeout = cfg->node.handshake_timeout;
	n->ctx.connect_timeout = cfg->node.connect_timeout;
	n->ctx.idle_timeout = cfg->node.idle_timeout;
	n->ctx.keepalive = cfg->node.keepalive;
	log_limit_init(&n->refuse_log, NODE_REFUSE_LINES);
	ev_init(&n->grace, node_grace_cb);
	n->grace.data = n;
	ev_init(&n->resign, node_resign_cb);
	n->resign.data = n;
	ev_signal_init(&n->sigterm, node_signal_cb, SIGTERM);
	ev_signal_init(&n->sigint, node_signal_cb, SIGINT);
	ev_signal_init(&n->sighup, node_sighup_cb, SIGHUP);
	n->sigterm.data = n->sigint.data = n->sighup.data = n;

	/* The process-wide credentials and attestation cache. */
	if (channel_local_init(&n->local[0], idn->priv,
	    (uint64_t)ev_now(n->loop), NODE_LIFETIME) == -1) {
		log_error("event=start error=channel-credentials");
		goto fail2;
	}
	if ((n->cache = channel_cache_new(NODE_CACHE_ENTRIES)) == NULL) {
		log_error("event=start error=nomem");
		goto fail2;
	}

	/* Bind every listener; any failure ends the start-up. */
	if ((cfg->node.has_listen || dials) &&
	    (n->outlet = outlet_new(n, err, sizeof(err))) == NULL) {
		log_error("event=listen-failed role=node name=node "
		    "error=\"%s\"", err);
		goto fail2;
	}
	if (cfg->nrelays > 0 &&
	    (n->relay = relay_new(n, err, sizeof(err))) == NULL) {
		log_error("event=start role=relay error=\"%s\"", err);
		goto fail2;
	}
	if (cfg->ninlets > 0 &&
	    (n->inlets = calloc(cfg->ninlets, sizeof(*n->inlets))) == NULL) {
		log_error("event=start error=nomem");
		goto fail2;
	}
	for (i = 0; i < cfg->ninlets; i++) {
		n->inlets[i] = inlet_new(n, &cfg->inlets[i], err, sizeof(err));
		if (n->inlets[i] == NULL) {
			log_error("event=listen-failed role=inlet name=%s "
			    "error=\"%s\"",
			    cfg->inlets[i].name, err);
			goto fail2;
		}
		n->ninlets++;
	}

	/* Keys are in memory from here on: no core dumps, no ptrace. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warn("event=prctl error=%s", strerror(errno));

	ev_signal_start(n->loop, &n->sigterm);
	ev_signal_start(n->loop, &n->sigint);
	ev_signal_start(n->loop, &n->sighup);
	ev_timer_set(&n->resign, NODE_LIFETIME / 2, NODE_LIFETIME / 2);
	ev_timer_start(n->loop, &n->resign);
	log_info("event=ready id=%s inlets=%zu outlets=%zu relays=%zu aes=%s",
	    identity_id_format(idn->id, id), cfg->ninlets, cfg->noutlets,
	    cfg->nrelays, crypto_aes_impl());
	ev_run(n->loop, 0);

	channel_cache_stats(n->cache, &hits, &misses);
	node_fini(n);
	free(n);
	log_info("event=exit code=0 attest_cache_hits=%llu "
	    "attest_cache_misses=%llu", (unsigned long long)hits,
	    (unsigned long long)misses);
	return (0);
fail2:
	node_fini(n);
fail1:
	free(n);
fail0:
	return (-1);
}
