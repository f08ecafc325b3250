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

/* Attestation lifetime (seconds); re-signed at half of it. */
#ifndef NODE_LIFETIME
#define NODE_LIFETIME (24 * 3600)
#endif
/* Verified attestations remembered (steady-state handshakes skip ECDSA). */
#define NODE_CACHE_ENTRIES 1024
/* At most this many "backlog" lines per second; the rest are counted. */
#define NODE_REFUSE_LINES 10
/*
 * A responder handshake with not one whole message in after this many
 * seconds may be evicted for a newcomer at a limit (conn_ctx_evict).  A
 * real peer's first message comes right behind its connect; one second
 * leaves room for a busy loop and a slow path.
 */
#define NODE_EVICT_AGE 1.0

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
 * node_audit(n, allow, reason, id, service, role):
 * Log one access decision ("audit"): ${id} is the raw peer identifier or
 * NULL, ${service} the service asked for (printed safely).
 */
void
node_audit(const struct node *n, int allow, const char *reason,
    const uint8_t *id, const char *service, const char *role)
{
	char peer[IDENTITY_TEXT_SIZE], svc[CONFIG_NAME_MAX];
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
	log_msg(allow ? LOG_LVL_INFO : LOG_LVL_WARN,
	    "event=audit decision=%s reason=%s peer=%s%s%s service=%s role=%s",
	    allow ? "allow" : "deny", reason,
	    id != NULL ? identity_id_format(id, peer) : "-",
	    name != NULL ? " peer_name=" : "", name != NULL ? name : "", svc,
	    role);
}

/*
 * Room for one more connection on ${l}: return 0 to accept, -1 to leave
 * the next client in the listen backlog.
 *
 * Below both limits there is room.  At a limit, the node listener (peers
 * from anywhere) first evicts a handshake that makes no progress
 * (conn_ctx_evict): a flood of idle connections cannot hold the slots,
 * and the kernel's backlog is worked through.  An inlet never evicts: its
 * clients are the node's own users, and they wait.
 */
static int
node_room(struct node_listener *l)
{
	struct node *n = l->node;

	if (n->ctx.nconns < n->cfg->node.max_connections &&
	    n->ctx.npending < n->cfg->node.max_handshakes)
		return (0);
	if (!l->is_inlet && conn_ctx_evict(&n->ctx, NODE_EVICT_AGE) == 0)
		return (0);
	return (-1);
}

/*
 * Stop accepting on ${l} until a slot frees (node_slot_cb): new clients
 * wait in the listen backlog.  The node listener also looks again after
 * NODE_EVICT_AGE, when the handshakes that made no progress since have
 * become evictable.  Log "backlog" (at most NODE_REFUSE_LINES a second;
 * the next line logged says how many were left out).
 */
static void
node_pause_full(struct node_listener *l)
{
	struct node *n = l->node;
	ev_tstamp now;

	ev_io_stop(n->loop, &l->w);
	l->full = 1;
	l->next_full = n->full;
	n->full = l;
	if (!l->is_inlet) {
		ev_timer_set(&l->pause, NODE_EVICT_AGE, 0.);
		ev_timer_start(n->loop, &l->pause);
	}
	now = ev_now(n->loop);
	if (now - n->refuse_at >= 1.) {
		n->refuse_at = now;
		n->refuse_lines = 0;
	}
	if (n->refuse_lines++ < NODE_REFUSE_LINES) {
		log_warn("event=backlog role=%s reason=%s connections=%u "
		    "handshakes=%u suppressed=%llu", l->role,
		    n->ctx.nconns >= n->cfg->node.max_connections ?
		    "max-connections" : "max-handshakes", n->ctx.nconns,
		    n->ctx.npending, (unsigned long long)n->refused);
		n->refused = 0;
	} else
		n->refused++;
}

/*
 * A connection or a handshake slot was given back: let every paused
 * listener accept again (each one checks the limits for itself, and
 * pauses again if they are still reached).  Runs inside conn callbacks,
 * so it only starts watchers.
 */
static void
node_slot_cb(struct conn_ctx *ctx)
{
	struct node *n = ctx->data;
	struct node_listener *l;

	while ((l = n->full) != NULL) {
		n->full = l->next_full;
		l->next_full = NULL;
		l->full = 0;
		ev_timer_stop(n->loop, &l->pause); /* a look-again timer */
		if (l->fd != -1)
			ev_io_start(n->loop, &l->w);
	}
}

/* Take ${l} off the list of listeners paused at a limit. */
static void
node_unpause(struct node_listener *l)
{
	struct node_listener **lp;

	for (lp = &l->node->full; *lp != NULL; lp = &(*lp)->next_full) {
		if (*lp == l) {
			*lp = l->next_full;
			break;
		}
	}
	l->next_full = NULL;
	l->full = 0;
}

/*
 * The backlog of a listening socket: the kernel's own cap
 * (net.core.somaxconn), so that a burst of clients waits there while the
 * node is at a limit; SOMAXCONN if it cannot be read.
 */
static int
listen_backlog(void)
{
	FILE *f;
	int v;

	if ((f = fopen("/proc/sys/net/core/somaxconn", "re")) == NULL)
		return (SOMAXCONN);
	if (fscanf(f, "%d", &v) != 1 || v <= 0)
		v = SOMAXCONN;
	fclose(f);
	return (v);
}

/*
 * A non-blocking listening socket bound to ${a}, or -1 with a message in
 * ${err}.
 *
 * The unix socket mode: whoever can connect to an inlet speaks with this
 * node's identity, so the socket starts as the daemon user's alone (bound
 * under umask 0177: never wider, not even for an instant); widen it on
 * purpose (a group-owned directory, or chmod after "ready").
 */
static int
listen_fd(const struct addr *a, char *err, size_t errlen)
{
	char buf[ADDR_TEXT_MAX + 16];
	struct stat st;
	mode_t mask;
	int fd, one = 1, r;

	if (a->salen == 0) {
		snprintf(err, errlen, "%s: address not resolved",
		    addr_format(a, buf, sizeof(buf)));
		goto fail0;
	}
	if ((fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail0;
	}
	if (a->is_unix) {
		/* Remove a stale socket of a previous run, nothing else. */
		if (lstat(a->host, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "%s: exists and is not a "
				    "socket", a->host);
				goto fail1;
			}
			(void)unlink(a->host);
		}
		mask = umask(0177);
		r = bind(fd, (const struct sockaddr *)&a->sa, a->salen);
		(void)umask(mask);
	} else {
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
		if (a->sa.ss_family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			    sizeof(one));
		r = bind(fd, (const struct sockaddr *)&a->sa, a->salen);
	}
	if (r == -1) {
		snprintf(err, errlen, "bind %s: %s",
		    addr_format(a, buf, sizeof(buf)), strerror(errno));
		goto fail1;
	}
	if (listen(fd, listen_backlog()) == -1) {
		snprintf(err, errlen, "listen %s: %s",
		    addr_format(a, buf, sizeof(buf)), strerror(errno));
		goto fail1;
	}
	return (fd);
fail1:
	close(fd);
fail0:
	return (-1);
}

/*
 * Accept what is waiting (a bounded batch, for fairness) while there is
 * room (node_room), hand each socket to the role.  At a limit, stop
 * accepting until a slot frees: the client waits in the backlog, it is
 * never accepted and then dropped.  Out of descriptors: pause accepting
 * for a moment instead of spinning on a readable socket.
 */
static void
node_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct node_listener *l = w->data;
	int fd, i;

	(void)revents;
	for (i = 0; i < 64 && l->fd != -1; i++) {
		if (node_room(l) == -1) {
			node_pause_full(l);
			return;
		}
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
		l->accept_cb(l, fd); /* the role owns fd now */
	}
}

/* The back-off, or the wait for evictable handshakes, is over: accept
 * again (node_accept_cb checks the limits). */
static void
node_pause_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct node_listener *l = w->data;

	(void)revents;
	if (l->full)
		node_unpause(l);
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
	if ((l->fd = listen_fd(a, err, errlen)) == -1)
		return (-1);
	l->node = n;
	l->addr = a;
	l->role = role;
	l->is_inlet = strcmp(role, "inlet") == 0;
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
	if (l->full)
		node_unpause(l);
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
	n->ctx.slot_cb = node_slot_cb;
	n->ctx.handshake_timeout = cfg->node.handshake_timeout;
	n->ctx.connect_timeout = cfg->node.connect_timeout;
	n->ctx.idle_timeout = cfg->node.idle_timeout;
	n->ctx.keepalive = cfg->node.keepalive;
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
